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
import { createLogger } from "./logger.js";
import { Plugins } from "./plugin.js";
import type { ServerPlugin } from "./plugin.js";
import { plugins as configured } from "./plugins.js";
import type { Logger } from "./logger.js";
import { RateLimits } from "./ratelimit.js";
import { attachRealtime } from "./realtime.js";
import { routes } from "./routes.js";

export interface Started extends RunningServer {
  config: ServerConfig;
  log: Logger;
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
  const rateLimits = new RateLimits(
    config.rateLimit,
    config.rateLimitWindowSeconds,
    config.redisUrl,
    (e) => log.error({ err: e }, "rate limits: redis"),
  );
  const services: Services = {
    engine,
    auth,
    rateLimits,
    log,
    openapi,
    plugins,
    ready: async () => {
      try {
        await db.$queryRawUnsafe("SELECT 1");
        return true;
      } catch {
        return false;
      }
    },
  };
  await plugins.start({ services, config, log });
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
    close: async () => {
      await realtime.close();
      await server.close();
      rateLimits.close();
      await plugins.stop();
      await db.$disconnect();
    },
  };
}
