// Wires the server together: settings, database, auth, rate limits, plugins, routes and the
// framework adapter. `main.ts` calls it; tests call it too, with a port of 0 (and may pass
// plugins of their own).

import openapi from "../openapi.json" with { type: "json" };
import { startServer } from "./app.js";
import type { RunningServer } from "./app.js";
import { Authenticator } from "./auth.js";
import { loadConfig } from "./config.js";
import type { ServerConfig } from "./config.js";
import { createDb, INSENSITIVE_SEARCH } from "./db.js";
import { Engine } from "./engine.js";
import type { Route, Services } from "./http.js";
import { createLogger, outageLog } from "./logger.js";
import { Plugins } from "./plugin.js";
import type { ServerPlugin } from "./plugin.js";
import { plugins as configured } from "./plugins.js";
import type { Logger } from "./logger.js";
import { ioredis, RateLimits } from "./ratelimit.js";
import { attachRealtime } from "./realtime.js";
import { routes } from "./routes.js";

export interface Started extends RunningServer {
  config: ServerConfig;
  log: Logger;
  /**
   * The first step of a shutdown: `/ready` answers 503 from now on while every request is still
   * served, for `SHUTDOWN_DELAY_MS`; `close()` comes after.
   */
  drain(): Promise<void>;
}

export async function start(
  overrides: Partial<ServerConfig> = {},
  extraPlugins: readonly ServerPlugin[] = [],
): Promise<Started> {
  const config = { ...loadConfig(), ...overrides };
  const log = createLogger(config.logLevel);
  const plugins = new Plugins([...configured(), ...extraPlugins], log);
  if (config.jwtSecret === null && config.jwtPublicKey === null && config.jwksUrl === null) {
    log.warn("no JWT_SECRET, JWT_PUBLIC_KEY or JWKS_URL: bearer tokens are refused");
  }
  const db = createDb(config.databaseUrl);
  let draining = false;
  const engine = new Engine(
    db,
    {
      defaultPageSize: config.defaultPageSize,
      maxPageSize: config.maxPageSize,
      insensitiveSearch: INSENSITIVE_SEARCH,
    },
    (info, message) => log.warn(info, message),
    plugins,
  );
  const auth = new Authenticator(config);
  const redisLog = outageLog(log, "rate limits: redis");
  const rateLimits = new RateLimits(
    config.rateLimit,
    config.rateLimitWindowSeconds,
    config.redisUrl !== null ? { url: config.redisUrl, Redis: await ioredis() } : null,
    redisLog.error,
    redisLog.back,
    config.rateLimitFailClosed,
  );
  const services: Services = {
    engine,
    auth,
    rateLimits,
    log,
    openapi,
    plugins,
    ready: async () => {
      if (draining) return false;
      // A probe answers within a second: a database that does not answer in time is away.
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<false>((resolve) => {
        timer = setTimeout(() => resolve(false), 1000);
      });
      try {
        const ping = db.$queryRawUnsafe("SELECT 1").then(() => true);
        return await Promise.race([ping, late]);
      } catch {
        return false;
      } finally {
        clearTimeout(timer);
      }
    },
  };
  await plugins.start({ services, db, config, log });
  const pluginRoutes: Route[] = plugins
    .routes()
    .map((r) => ({ method: r.method, path: r.path, binding: null, handler: r.handler }));
  const server = await startServer({
    services,
    routes: [...pluginRoutes, ...routes],
    host: config.host,
    port: config.port,
    bodyLimit: config.bodyLimit,
    corsOrigins: config.corsOrigins,
  });
  const realtime = await attachRealtime({
    server: server.httpServer,
    config,
    engine,
    auth,
    rateLimits,
    log,
    plugins,
  });
  log.info({ url: server.url }, "listening");
  return {
    ...server,
    config,
    log,
    drain: async () => {
      draining = true;
      await new Promise((r) => setTimeout(r, config.shutdownDelayMs));
    },
    close: async () => {
      await realtime.close();
      await server.close();
      rateLimits.close();
      await plugins.stop();
      await db.$disconnect();
    },
  };
}
