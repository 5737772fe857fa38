// The HTTP server on Express 5: translates requests to the neutral `ApiRequest` of `./http.ts`
// and back. Behaviour lives in `dispatch`, shared with the Fastify adapter.

import { createServer } from "node:http";
import type { IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";
import cors from "cors";
import express from "express";
import type { NextFunction, Request, Response } from "express";
import type { ApiRequest, ApiResponse, RunningServer, StartOptions } from "./http.js";
import {
  allowedMethods,
  dispatch,
  finished,
  frameworkError,
  isUtf8Json,
  problemResponse,
  rawBodyOf,
  requestIdOf,
  SECURITY_HEADERS,
  unmatched,
} from "./http.js";

const MAX_HEADER_SIZE = 64 * 1024;

interface Locals {
  requestId: string;
  route: string;
  principal?: string;
}

function locals(res: Response): Locals {
  return res.locals as Locals;
}

function send(res: Response, r: ApiResponse): void {
  for (const [k, v] of Object.entries(r.headers ?? {})) res.setHeader(k, v);
  if (r.principal !== undefined) locals(res).principal = r.principal;
  res.status(r.status);
  if (r.body === undefined) {
    res.end(r.text);
    return;
  }
  if (res.getHeader("content-type") === undefined)
    res.setHeader("content-type", "application/json; charset=utf-8");
  res.send(JSON.stringify(r.body));
}

function isJson(req: IncomingMessage): boolean {
  return isUtf8Json(req.headers["content-type"] ?? "");
}

function hasBody(req: IncomingMessage): boolean {
  const length = req.headers["content-length"];
  return req.headers["transfer-encoding"] !== undefined || (length !== undefined && length !== "0");
}

export async function startServer(o: StartOptions): Promise<RunningServer> {
  const app = express();
  app.disable("x-powered-by");
  app.set("trust proxy", false);
  // `/api/posts/` is not `/api/posts`, as in Fastify and the Rust server: it is what a row with
  // an empty String id addresses, and must not answer with the list.
  app.set("strict routing", true);
  app.use((req, res, next) => {
    const start = process.hrtime.bigint();
    const requestId = requestIdOf(req.headers);
    res.locals.requestId = requestId;
    res.locals.route = "unmatched";
    res.setHeader("x-request-id", requestId);
    for (const [k, v] of Object.entries(SECURITY_HEADERS)) res.setHeader(k, v);
    res.on("finish", () => {
      const l = locals(res);
      finished(o.services, {
        requestId,
        method: req.method,
        route: l.route,
        status: res.statusCode,
        durationMs: Number(process.hrtime.bigint() - start) / 1e6,
        ...(l.principal !== undefined ? { principal: l.principal } : {}),
      });
    });
    next();
  });
  if (o.corsOrigins.length > 0) {
    app.use(cors({ origin: o.corsOrigins, exposedHeaders: ["x-request-id", "retry-after"] }));
  }
  app.use((req, res, next) => {
    if ((req.method === "POST" || req.method === "PATCH") && hasBody(req) && !isJson(req)) {
      send(res, frameworkError(415, { path: req.path, requestId: locals(res).requestId }));
      return;
    }
    next();
  });
  app.use(
    express.json({
      limit: o.bodyLimit,
      type: isJson,
      // The body as it arrived, for plugins that check a signature over it (kept as the bytes
      // read; decoded only for a plugin's route).
      verify: (req, _res, buf) => {
        (req as Request & { rawBody?: Buffer }).rawBody = buf;
      },
    }),
  );
  for (const route of o.routes) {
    const method = route.method.toLowerCase() as "get" | "post" | "patch" | "delete";
    app[method](route.path, async (req: Request, res: Response) => {
      locals(res).route = `${route.method} ${route.path}`;
      // `/api/posts/count` with PATCH matches `/api/posts/:id`; a static path wins.
      if (route.path.includes(":") && !allowedMethods(o.routes, req.path).includes(route.method)) {
        send(res, unmatched(o.routes, { path: req.path, requestId: locals(res).requestId }));
        return;
      }
      const apiReq: ApiRequest = {
        method: req.method,
        path: req.path,
        params: req.params as Record<string, string>,
        query: req.query as ApiRequest["query"],
        headers: req.headers,
        body: req.body as unknown,
        ...(route.binding === null ? rawBodyOf(req) : {}),
        ip: req.socket.remoteAddress ?? "unknown",
        requestId: locals(res).requestId,
      };
      send(res, await dispatch(o.services, route, apiReq));
    });
  }
  app.use((req: Request, res: Response) => {
    send(res, unmatched(o.routes, { path: req.path, requestId: locals(res).requestId }));
  });
  app.use((err: unknown, req: Request, res: Response, next: NextFunction) => {
    if (res.headersSent) {
      next(err);
      return;
    }
    const at = { path: req.path, requestId: locals(res).requestId };
    const type = (err as { type?: unknown }).type;
    const status = (err as { status?: unknown }).status;
    if (type === "entity.too.large") send(res, frameworkError(413, at));
    else if (type === "charset.unsupported") send(res, frameworkError(415, at));
    else if (type === "entity.parse.failed" || type === "encoding.unsupported" || status === 400) {
      send(res, frameworkError(400, at));
    } else send(res, problemResponse(err, at, o.services.log));
  });

  // Long filter query strings fit: 64 KiB of headers instead of Node's 16 KiB.
  const server = createServer({ maxHeaderSize: MAX_HEADER_SIZE }, app).listen(o.port, o.host);
  await new Promise<void>((resolve, reject) => {
    server.once("listening", resolve);
    server.once("error", reject);
  });
  const address = server.address() as AddressInfo;
  return {
    url: `http://${o.host}:${address.port}`,
    httpServer: server,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((e) => (e === undefined ? resolve() : reject(e)));
        server.closeIdleConnections();
      }),
  };
}
