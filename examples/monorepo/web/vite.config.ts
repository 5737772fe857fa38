import { defineConfig } from "vitest/config";

// `npm run dev` serves the page on :5173 (an origin the API allows); `npm test` runs the
// component test in jsdom against the running API (API_URL).
export default defineConfig({
  server: { port: 5173 },
  build: {
    rollupOptions: {
      // TanStack Query marks its modules "use client" for React Server Components; a plain
      // client bundle has no use for the directive.
      onwarn(warning, warn) {
        if (warning.code !== "MODULE_LEVEL_DIRECTIVE") warn(warning);
      },
    },
  },
  test: { environment: "jsdom", include: ["src/**/*.test.tsx"], testTimeout: 20_000 },
});
