// The monitoring plugin (`[plugins.monitoring]` in ssot.toml): Prometheus metrics of the
// requests, the writes and the WebSocket connections, served in Prometheus' text format. No
// metric carries a field value, a token or a principal: routes are patterns (`/api/posts/:id`),
// never the paths requested.

import { timingSafeEqual } from "node:crypto";
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from "prom-client";
import type { ApiRequest, ApiResponse } from "../http.js";
import { HttpError } from "../errors.js";
import type { ServerPlugin } from "../plugin.js";

export interface Options {
  /** Where the metrics are served. */
  path: string;
  /** Node's process metrics too (CPU, memory, event loop lag, GC). */
  processMetrics: boolean;
}

/** Compares in constant time, so that the token cannot be guessed a byte at a time. */
function sameToken(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** `METRICS_TOKEN` set: the scraper must send `Authorization: Bearer <token>`. */
function authorized(req: ApiRequest, token: string): boolean {
  if (token === "") return true;
  const header = req.headers.authorization;
  const value = Array.isArray(header) ? header[0] : header;
  return value !== undefined && value.startsWith("Bearer ") && sameToken(value.slice(7), token);
}

export function create(options: Options): ServerPlugin {
  // One registry per server, so that two servers in one process count apart.
  const registry = new Registry();
  if (options.processMetrics) collectDefaultMetrics({ register: registry });
  const labels = ["method", "route", "status"] as const;
  const requests = new Counter({
    name: "http_requests_total",
    help: "HTTP requests by method, route pattern and status.",
    labelNames: labels,
    registers: [registry],
  });
  const latency = new Histogram({
    name: "http_request_duration_seconds",
    help: "Time from the request to the end of the response, in seconds.",
    labelNames: labels,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  });
  const sockets = new Gauge({
    name: "realtime_connections",
    help: "Open WebSocket connections.",
    registers: [registry],
  });
  const writes = new Counter({
    name: "writes_total",
    help: "Committed writes by model and operation.",
    labelNames: ["model", "operation"] as const,
    registers: [registry],
  });
  const token = process.env.METRICS_TOKEN ?? "";
  return {
    name: "monitoring",
    models: {
      "*": {
        committed: (e) => {
          writes.inc({ model: e.model, operation: e.operation });
        },
      },
    },
    routes: [
      {
        method: "GET",
        path: options.path,
        handler: async (_s, req): Promise<ApiResponse> => {
          if (!authorized(req, token)) {
            throw new HttpError(401, "A valid metrics token is required.", undefined, {
              "www-authenticate": 'Bearer realm="metrics"',
            });
          }
          return {
            status: 200,
            text: await registry.metrics(),
            headers: { "content-type": registry.contentType, "cache-control": "no-store" },
          };
        },
      },
    ],
    request: (info) => {
      // The request log's route is `GET /api/posts/:id`; the label is the pattern alone.
      const route = info.route.replace(/^[A-Z]+ /, "");
      const l = { method: info.method, route, status: String(info.status) };
      requests.inc(l);
      latency.observe(l, info.durationMs / 1000);
    },
    socket: (delta) => sockets.inc(delta),
    start: ({ log }) => {
      if (token === "") log.warn(`no METRICS_TOKEN: ${options.path} is open to every caller`);
    },
  };
}
