// Framework-neutral requests and responses: the route table, and `dispatch`, which runs auth,
// rate limits and the handler and turns every error into problem+json. The Express and Fastify
// adapters only translate to and from their own request objects, so both behave the same.

import { randomUUID } from "node:crypto";
import type { Server } from "node:http";
import type { Auth } from "../policies/index.js";
import { Authenticator } from "./auth.js";
import type { Binding, Engine, Query } from "./engine.js";
import { parseId } from "./engine.js";
import type { Problem } from "./errors.js";
import { HttpError, problem, toHttpError } from "./errors.js";
import type { Logger, RequestLog } from "./logger.js";
import { logRequest } from "./logger.js";
import type { Plugins } from "./plugin.js";
import type { RateLimits } from "./ratelimit.js";

export type Headers = Record<string, string | string[] | undefined>;
export type Method = "GET" | "POST" | "PATCH" | "DELETE";

export interface ApiRequest {
  method: string;
  /** The path without the query string. */
  path: string;
  params: Record<string, string>;
  query: Query;
  headers: Headers;
  body: unknown;
  /**
   * The JSON body exactly as it arrived, for a signature over it (a payment provider's webhook);
   * set on the routes of plugins only.
   */
  rawBody?: string;
  ip: string;
  requestId: string;
}

export interface ApiResponse {
  status: number;
  /** A JSON body. */
  body?: unknown;
  /** A body sent as it is, when there is no JSON `body` (set its `content-type`). */
  text?: string;
  headers?: Record<string, string>;
  /** The principal's id for the request log. */
  principal?: string;
}

export interface Services {
  engine: Engine;
  auth: Authenticator;
  rateLimits: RateLimits;
  log: Logger;
  openapi: unknown;
  plugins: Plugins;
  /** Can the database be reached? */
  ready(): Promise<boolean>;
}

export type Handler = (
  s: Services,
  b: Binding,
  req: ApiRequest,
  auth: Auth,
) => Promise<ApiResponse>;

/**
 * A route; `binding` is null for `/health`, `/ready`, `/openapi.json` and plugins' routes (no
 * auth, no rate limit).
 */
export type Route = {
  method: Method;
  /** Express/Fastify path syntax (`/api/posts/:id`). */
  path: string;
} & (
  | { binding: Binding; handler: Handler }
  | { binding: null; handler: (s: Services, req: ApiRequest) => Promise<ApiResponse> }
);

/**
 * The raw body an adapter's JSON parser kept on its request (the text, or the bytes read), as
 * an `ApiRequest` part. The adapters ask for it on the routes of plugins only.
 */
export function rawBodyOf(req: object): { rawBody?: string } {
  const raw = (req as { rawBody?: unknown }).rawBody;
  if (typeof raw === "string") return { rawBody: raw };
  return Buffer.isBuffer(raw) ? { rawBody: raw.toString("utf8") } : {};
}

/** The id path segments of a request. */
export function idOf(b: Binding, req: ApiRequest): unknown[] {
  return parseId(
    b.spec,
    b.spec.id.map((f) => req.params[f] ?? ""),
  );
}

export const handlers = {
  list: (async (s, b, req, auth) => ({
    status: 200,
    body: await s.engine.list(b, req.query, auth),
  })) as Handler,
  count: (async (s, b, req, auth) => ({
    status: 200,
    body: await s.engine.count(b, req.query, auth),
  })) as Handler,
  search: (async (s, b, req, auth) => ({
    status: 200,
    body: await s.engine.search(b, req.query, auth),
  })) as Handler,
  get: (async (s, b, req, auth) => ({
    status: 200,
    body: await s.engine.get(b, idOf(b, req), req.query, auth),
  })) as Handler,
  create: (async (s, b, req, auth) => ({
    status: 201,
    body: await s.engine.create(b, req.body, auth),
  })) as Handler,
  update: (async (s, b, req, auth) => ({
    status: 200,
    body: await s.engine.update(b, idOf(b, req), req.body, auth),
  })) as Handler,
  delete: (async (s, b, req, auth) => {
    await s.engine.delete(b, idOf(b, req), auth);
    return { status: 204 };
  }) as Handler,
  permissions: (async (s, b, _req, auth) => ({
    status: 200,
    body: await s.engine.permissions(b, null, auth),
  })) as Handler,
  rowPermissions: (async (s, b, req, auth) => ({
    status: 200,
    body: await s.engine.permissions(b, idOf(b, req), auth),
  })) as Handler,
};

export type Operation = keyof typeof handlers;

/**
 * The routes of one model, in the order they must be matched (`/count` and `/permissions`
 * before `/:id`).
 */
export function modelRoutes(b: Binding, h: Record<Operation, Handler> = handlers): Route[] {
  const m = b.spec;
  const base = `/api/${m.path}`;
  const one = `${base}/${m.id.map((f) => `:${f}`).join("/")}`;
  const routes: Route[] = [
    { method: "GET", path: base, binding: b, handler: h.list },
    { method: "GET", path: `${base}/count`, binding: b, handler: h.count },
    { method: "GET", path: `${base}/permissions`, binding: b, handler: h.permissions },
  ];
  if (m.search !== null)
    routes.push({ method: "GET", path: `${base}/search`, binding: b, handler: h.search });
  if (!m.view && m.id.length > 0) {
    routes.push(
      { method: "GET", path: one, binding: b, handler: h.get },
      { method: "PATCH", path: one, binding: b, handler: h.update },
      { method: "DELETE", path: one, binding: b, handler: h.delete },
      { method: "GET", path: `${one}/permissions`, binding: b, handler: h.rowPermissions },
    );
  }
  if (!m.view) routes.push({ method: "POST", path: base, binding: b, handler: h.create });
  return routes;
}

/** `/health`, `/ready` and `/openapi.json`. */
export function systemRoutes(): Route[] {
  return [
    {
      method: "GET",
      path: "/health",
      binding: null,
      handler: async () => ({ status: 200, body: { status: "ok" } }),
    },
    {
      method: "GET",
      path: "/ready",
      binding: null,
      handler: async (s) =>
        (await s.ready())
          ? { status: 200, body: { status: "ready" } }
          : { status: 503, body: { status: "database unreachable" } },
    },
    {
      method: "GET",
      path: "/openapi.json",
      binding: null,
      handler: async (s) => ({ status: 200, body: s.openapi }),
    },
  ];
}

/**
 * Headers on every response, as helmet's defaults would set them for a JSON API: no content
 * sniffing, no framing, nothing loaded or run from a response, no referrer, HTTPS remembered.
 * The Rust server sends the same.
 */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  "content-security-policy": "default-src 'none'; frame-ancestors 'none'",
  "cross-origin-opener-policy": "same-origin",
  "cross-origin-resource-policy": "same-origin",
  "referrer-policy": "no-referrer",
  "strict-transport-security": "max-age=31536000; includeSubDomains",
  "x-content-type-options": "nosniff",
  "x-frame-options": "DENY",
  "x-permitted-cross-domain-policies": "none",
};

/** A usable request id: the caller's `x-request-id` when it looks like one, else a new UUID. */
export function requestIdOf(headers: Headers): string {
  const v = headers["x-request-id"];
  const id = Array.isArray(v) ? v[0] : v;
  return id !== undefined && /^[A-Za-z0-9._:-]{1,128}$/.test(id) ? id : randomUUID();
}

export function problemResponse(
  e: unknown,
  req: Pick<ApiRequest, "path" | "requestId">,
  log: Logger,
): ApiResponse {
  const { error, unexpected } = toHttpError(e);
  if (unexpected) log.error({ requestId: req.requestId, err: e }, "unexpected error");
  return problemOf(error, req);
}

export function problemOf(
  error: HttpError,
  req: Pick<ApiRequest, "path" | "requestId">,
): ApiResponse {
  const body: Problem = problem(error.status, error.detail, req.path, req.requestId, error.errors);
  return {
    status: error.status,
    body,
    headers: { ...error.headers, "content-type": "application/problem+json" },
  };
}

/**
 * Runs one request: auth, rate limit, handler, inside the plugins' `around` (a trace span); every
 * failure becomes problem+json.
 */
export function dispatch(s: Services, route: Route, req: ApiRequest): Promise<ApiResponse> {
  return s.plugins.around({ method: route.method, route: route.path, headers: req.headers }, () =>
    handle(s, route, req),
  );
}

async function handle(s: Services, route: Route, req: ApiRequest): Promise<ApiResponse> {
  try {
    if (route.binding === null) return await route.handler(s, req);
    const b = route.binding;
    let auth: Auth;
    try {
      auth = await s.auth.authenticate(req.headers, b.spec.auth);
    } catch (e) {
      // Wrong credentials count against the caller's address (guessing keys is rate limited);
      // a request with none is simply told to authenticate.
      if (req.headers.authorization !== undefined || req.headers["x-api-key"] !== undefined) {
        await s.rateLimits.consume(b.spec, `ip:${req.ip}`);
      }
      throw e;
    }
    const principal = Authenticator.describe(auth);
    await s.rateLimits.consume(
      b.spec,
      principal !== undefined ? `principal:${principal}` : `ip:${req.ip}`,
    );
    const res = await route.handler(s, b, req, auth);
    return principal !== undefined ? { ...res, principal } : res;
  } catch (e) {
    return problemResponse(e, req, s.log);
  }
}

/** After a response was sent: the request log, then the plugins' `request` hooks. */
export function finished(s: Services, entry: RequestLog): void {
  logRequest(s.log, entry);
  s.plugins.request(entry);
}

/** What `startServer` of either framework adapter takes. */
export interface StartOptions {
  services: Services;
  routes: Route[];
  host: string;
  port: number;
  bodyLimit: number;
  corsOrigins: string[];
}

/** A listening server. */
export interface RunningServer {
  url: string;
  /** The Node HTTP server (the realtime gateway attaches to its upgrades). */
  httpServer: Server;
  close(): Promise<void>;
}

/** The methods `routes` serve at `path`: static segments win over parameters (`/count` is not an id). */
export function allowedMethods(routes: readonly Route[], path: string): string[] {
  const segments = path.split("/");
  let best = -1;
  let methods: string[] = [];
  for (const r of routes) {
    const pattern = r.path.split("/");
    if (pattern.length !== segments.length) continue;
    let fixed = 0;
    const matches = pattern.every((p, i) => {
      if (p.startsWith(":")) return segments[i] !== "";
      fixed++;
      return p === segments[i];
    });
    if (!matches || fixed < best) continue;
    if (fixed > best) {
      best = fixed;
      methods = [];
    }
    if (!methods.includes(r.method)) methods.push(r.method);
  }
  return methods;
}

/** 404 for an unknown path, 405 with `Allow` for a known path and another method. */
export function unmatched(
  routes: readonly Route[],
  req: Pick<ApiRequest, "path" | "requestId">,
  method?: string,
): ApiResponse {
  const allowed = allowedMethods(routes, req.path);
  if (allowed.length === 0) return frameworkError(404, req);
  if (method !== undefined && allowed.includes(method)) return frameworkError(400, req);
  const res = problemOf(new HttpError(405, "This path does not take that method."), req);
  return { ...res, headers: { ...res.headers, allow: allowed.join(", ") } };
}

/** A JSON media type (`application/json`, `application/merge-patch+json`, ...). */
export function isJsonType(type: string): boolean {
  return /^application\/([\w.+-]+\+)?json\b/i.test(type);
}

/**
 * A JSON body in UTF-8: no charset, or `utf-8`. JSON is UTF-8 (RFC 8259); a body in
 * `charset=latin1` or any other is refused with 415 by both frameworks alike.
 */
export function isUtf8Json(type: string): boolean {
  if (!isJsonType(type)) return false;
  const charset = /;\s*charset\s*=\s*"?([^";\s]+)"?/i.exec(type)?.[1];
  return charset === undefined || /^utf-?8$/i.test(charset);
}

/** A problem for errors the framework raises before a route runs (body too large, bad JSON). */
export function frameworkError(
  status: number,
  req: Pick<ApiRequest, "path" | "requestId">,
): ApiResponse {
  const detail =
    status === 413
      ? "The request body is too large."
      : status === 415
        ? "The request body must be JSON in UTF-8 (application/json)."
        : status === 404
          ? "No such route."
          : "The request body is not valid JSON.";
  return problemOf(new HttpError(status, detail), req);
}
