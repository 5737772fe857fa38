// The monitoring plugin (`[plugins.monitoring]` in ssot.toml): Prometheus metrics of the
// requests, the writes and the WebSocket connections, served in Prometheus' text format; with
// `traces = true`, OpenTelemetry traces of each request and of the database calls it makes,
// exported over OTLP/HTTP. No metric or span carries a field value, a token or a principal:
// routes are patterns (`/api/posts/:id`), never the paths requested, and the database spans hold
// SQL with placeholders, never its parameters.

import { timingSafeEqual } from "node:crypto";
import { context, propagation, SpanKind, SpanStatusCode } from "@opentelemetry/api";
import { OTLPTraceExporter } from "@opentelemetry/exporter-trace-otlp-http";
import { registerInstrumentations } from "@opentelemetry/instrumentation";
import { BatchSpanProcessor, NodeTracerProvider } from "@opentelemetry/sdk-trace-node";
import { PrismaInstrumentation } from "@prisma/instrumentation";
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from "prom-client";
import type { ApiRequest, ApiResponse } from "../http.js";
import { HttpError } from "../errors.js";
import type { ServerPlugin } from "../plugin.js";

export interface Options {
  /** Where the metrics are served. */
  path: string;
  /** Node's process metrics too (CPU, memory, event loop lag, GC). */
  processMetrics: boolean;
  /** OpenTelemetry traces of the requests and their database calls. */
  traces: boolean;
  /** Usage events (what was used, never by whom or with what) sent to USAGE_EVENTS_URL. */
  usageEvents: boolean;
}

/** One usage event: what kind of thing happened, never who did it or with what values. */
export type UsageEvent =
  | { type: "request"; route: string; status: number; durationMs: number; at: string }
  | { type: "write"; model: string; operation: "create" | "update" | "delete"; at: string };

/**
 * Usage events, batched: sent as `{ events }` in a JSON POST to USAGE_EVENTS_URL every 5 s or
 * 100 events, a sample of them (USAGE_EVENTS_SAMPLE, from 0 to 1, default 1). Nothing is
 * collected with USAGE_EVENTS=off or DO_NOT_TRACK=1, or without a URL. A batch that cannot be
 * sent is dropped (at most 1,000 events wait), and said once in the log.
 */
export class UsageEvents {
  private queue: UsageEvent[] = [];
  private timer: NodeJS.Timeout | null = null;
  private failed = false;
  readonly url: string;
  readonly rate: number;

  constructor(
    env: Record<string, string | undefined>,
    private readonly warn: (msg: string) => void = () => undefined,
    private readonly random: () => number = Math.random,
  ) {
    const off = env.USAGE_EVENTS === "off" || (env.DO_NOT_TRACK ?? "") === "1";
    this.url = off ? "" : (env.USAGE_EVENTS_URL ?? "");
    const rate = Number(env.USAGE_EVENTS_SAMPLE ?? "1");
    this.rate = Number.isFinite(rate) ? Math.min(1, Math.max(0, rate)) : 1;
  }

  add(event: UsageEvent): void {
    if (this.url === "" || this.random() >= this.rate || this.queue.length >= 1000) return;
    this.queue.push(event);
    if (this.queue.length >= 100) void this.flush();
    else this.timer ??= setTimeout(() => void this.flush(), 5000).unref();
  }

  /** Sends what waits. */
  async flush(): Promise<void> {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    const events = this.queue;
    this.queue = [];
    if (events.length === 0) return;
    try {
      const res = await fetch(this.url, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ events }),
        signal: AbortSignal.timeout(5000),
      });
      if (!res.ok) throw new Error(String(res.status));
    } catch {
      if (!this.failed) this.warn("usage events: a batch could not be sent and was dropped");
      this.failed = true;
    }
  }
}

/**
 * The tracer provider of OTEL_EXPORTER_OTLP_ENDPOINT (or ..._TRACES_ENDPOINT); the SDK reads the
 * other OTEL_* variables itself (OTEL_SERVICE_NAME, OTEL_TRACES_SAMPLER and its argument). Null
 * without an endpoint: spans would go nowhere.
 */
function tracing(): NodeTracerProvider | null {
  const endpoint =
    process.env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT || process.env.OTEL_EXPORTER_OTLP_ENDPOINT;
  if (endpoint === undefined || endpoint === "") return null;
  const provider = new NodeTracerProvider({
    spanProcessors: [new BatchSpanProcessor(new OTLPTraceExporter())],
  });
  // The global provider, W3C trace context and an AsyncLocalStorage context: Prisma's spans
  // become children of the request's.
  provider.register();
  registerInstrumentations({
    tracerProvider: provider,
    instrumentations: [new PrismaInstrumentation()],
  });
  return provider;
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
  const tracer = options.traces ? tracing() : null;
  let usage: UsageEvents | null = null;
  const spans = tracer?.getTracer("ssot") ?? null;
  return {
    name: "monitoring",
    ...(spans !== null
      ? {
          around: (request, handle) => {
            // A caller's `traceparent` makes the request's span a child of theirs.
            const parent = propagation.extract(context.active(), request.headers);
            const name = `${request.method} ${request.route}`;
            return spans.startActiveSpan(
              name,
              {
                kind: SpanKind.SERVER,
                attributes: { "http.request.method": request.method, "http.route": request.route },
              },
              parent,
              async (span) => {
                try {
                  const res = await handle();
                  span.setAttribute("http.response.status_code", res.status);
                  if (res.status >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
                  return res;
                } finally {
                  span.end();
                }
              },
            );
          },
        }
      : {}),
    models: {
      "*": {
        committed: (e) => {
          writes.inc({ model: e.model, operation: e.operation });
          usage?.add({
            type: "write",
            model: e.model,
            operation: e.operation,
            at: new Date().toISOString(),
          });
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
      usage?.add({
        type: "request",
        route: info.route,
        status: info.status,
        durationMs: Math.round(info.durationMs),
        at: new Date().toISOString(),
      });
    },
    socket: (delta) => sockets.inc(delta),
    start: ({ log }) => {
      if (token === "") log.warn(`no METRICS_TOKEN: ${options.path} is open to every caller`);
      if (options.usageEvents) {
        usage = new UsageEvents(process.env, (msg) => log.warn(msg));
        if (usage.url === "") log.info("usage events: off (no USAGE_EVENTS_URL, or opted out)");
      }
      if (options.traces && tracer === null) {
        log.warn("traces: no OTEL_EXPORTER_OTLP_ENDPOINT: no spans are recorded");
      }
    },
    // Sends the spans and usage events still buffered.
    stop: async () => {
      await usage?.flush();
      await tracer?.shutdown();
    },
  };
}
