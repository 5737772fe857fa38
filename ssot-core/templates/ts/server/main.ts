// `npm run dev` / `npm start`: serves the API until SIGINT or SIGTERM, then drains and exits.

import { start } from "./start.js";

const server = await start();
let stopping = false;
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => {
    if (stopping) return;
    stopping = true;
    server.log.info({ signal }, "shutting down");
    server.close().then(
      () => process.exit(0),
      (e: unknown) => {
        server.log.error({ err: e }, "shutdown failed");
        process.exit(1);
      },
    );
  });
}
