// The admin UI (app/) is a Next.js app beside the API server (src/server/).
import type { NextConfig } from "next";

const config: NextConfig = {
  // app/ is checked with the UI's own settings (bundler resolution, JSX).
  typescript: { tsconfigPath: "tsconfig.ui.json" },
  poweredByHeader: false,
};

export default config;
