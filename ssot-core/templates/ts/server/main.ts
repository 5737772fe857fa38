// `npm run dev` / `npm start`: serves the API until SIGINT or SIGTERM, then shuts down: `/ready`
// answers 503 for SHUTDOWN_DELAY_MS while requests are still served, then the server stops
// accepting, finishes the requests in flight, closes WebSockets with 1001 and exits. A shutdown
// that takes 10 s more than the delay is cut short (exit code 1).

import { start } from "./start.js";

const server = await start();
let stopping = false;
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => {
    if (stopping) return;
    stopping = true;
    server.log.info({ signal }, "shutting down");
    setTimeout(() => {
      server.log.error("shutdown took too long; exiting");
      process.exit(1);
    }, server.config.shutdownDelayMs + 10_000).unref();
    server
      .drain()
      .then(() => server.close())
      .then(
        () => process.exit(0),
        (e: unknown) => {
          server.log.error({ err: e }, "shutdown failed");
          process.exit(1);
        },
      );
  });
}
