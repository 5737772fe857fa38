// The HTTP server on Fastify 5: translates requests to the neutral `ApiRequest` of `./http.ts`
// and back. Behaviour lives in `dispatch`, shared with the Express adapter.

import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import cors from "@fastify/cors";
import Fastify from "fastify";
import type { FastifyReply, FastifyRequest } from "fastify";
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

interface Meta {
  start: bigint;
  route: string;
  principal?: string;
}

const meta = new WeakMap<FastifyRequest, Meta>();

function pathOf(req: FastifyRequest): string {
  const q = req.url.indexOf("?");
  return q === -1 ? req.url : req.url.slice(0, q);
}

async function send(reply: FastifyReply, r: ApiResponse): Promise<void> {
  const m = meta.get(reply.request);
  if (m !== undefined && r.principal !== undefined) m.principal = r.principal;
  reply.code(r.status);
  for (const [k, v] of Object.entries(r.headers ?? {})) reply.header(k, v);
  if (r.body === undefined) {
    await reply.send(r.text);
    return;
  }
  if (!reply.hasHeader("content-type"))
    reply.header("content-type", "application/json; charset=utf-8");
  await reply.send(JSON.stringify(r.body));
}

export async function startServer(o: StartOptions): Promise<RunningServer> {
  const app = Fastify({
    logger: false,
    // Long filter query strings fit: 64 KiB of headers instead of Node's 16 KiB.
    serverFactory: (handler) => createServer({ maxHeaderSize: 64 * 1024 }, handler),
    bodyLimit: o.bodyLimit,
    genReqId: (req) => requestIdOf(req.headers),
    routerOptions: { ignoreTrailingSlash: false },
  });
  app.addHook("onRequest", async (req, reply) => {
    meta.set(req, { start: process.hrtime.bigint(), route: "unmatched" });
    reply.header("x-request-id", req.id);
    reply.headers(SECURITY_HEADERS);
  });
  app.addHook("onResponse", async (req, reply) => {
    const m = meta.get(req);
    finished(o.services, {
      requestId: req.id,
      method: req.method,
      route: m?.route ?? "unmatched",
      status: reply.statusCode,
      durationMs: m === undefined ? 0 : Number(process.hrtime.bigint() - m.start) / 1e6,
      ...(m?.principal !== undefined ? { principal: m.principal } : {}),
    });
  });
  if (o.corsOrigins.length > 0) {
    await app.register(cors, {
      origin: o.corsOrigins,
      exposedHeaders: ["x-request-id", "retry-after"],
    });
  }
  app.removeAllContentTypeParsers();
  app.addContentTypeParser(
    /^application\/([\w.+-]+\+)?json/i,
    { parseAs: "string" },
    (req, body, done) => {
      if (!isUtf8Json(req.headers["content-type"] ?? "")) {
        const e = new Error("not utf-8") as Error & { statusCode: number };
        e.statusCode = 415;
        done(e, undefined);
        return;
      }
      try {
        // The body as it arrived, for plugins that check a signature over it.
        (req as typeof req & { rawBody?: string }).rawBody = body as string;
        done(null, body === "" ? undefined : (JSON.parse(body as string) as unknown));
      } catch {
        const e = new Error("bad json") as Error & { statusCode: number };
        e.statusCode = 400;
        done(e, undefined);
      }
    },
  );
  for (const route of o.routes) {
    app.route({
      method: route.method,
      url: route.path,
      handler: async (req, reply) => {
        const m = meta.get(req);
        if (m !== undefined) m.route = `${route.method} ${route.path}`;
        // `/api/posts/count` with PATCH matches `/api/posts/:id`; a static path wins.
        if (
          route.path.includes(":") &&
          !allowedMethods(o.routes, pathOf(req)).includes(route.method)
        ) {
          await send(reply, unmatched(o.routes, { path: pathOf(req), requestId: req.id }));
          return;
        }
        const apiReq: ApiRequest = {
          method: req.method,
          path: pathOf(req),
          params: req.params as Record<string, string>,
          query: req.query as ApiRequest["query"],
          headers: req.headers,
          body: req.body,
          ...(route.binding === null ? rawBodyOf(req) : {}),
          ip: req.socket.remoteAddress ?? "unknown",
          requestId: req.id,
        };
        await send(reply, await dispatch(o.services, route, apiReq));
      },
    });
  }
  app.setNotFoundHandler(async (req, reply) => {
    await send(reply, unmatched(o.routes, { path: pathOf(req), requestId: req.id }));
  });
  app.setErrorHandler(async (err, req, reply) => {
    const at = { path: pathOf(req), requestId: req.id };
    const status = (err as { statusCode?: unknown }).statusCode;
    // Fastify checks the body of methods it knows (QUERY needs a content type) before routing.
    const known = o.routes.some((r) => r.method === req.method);
    if (!known && typeof status === "number" && status < 500) {
      await send(reply, unmatched(o.routes, at, req.method));
      return;
    }
    if (status === 413 || status === 415 || status === 400)
      await send(reply, frameworkError(status, at));
    else await send(reply, problemResponse(err, at, o.services.log));
  });

  await app.listen({ port: o.port, host: o.host });
  const address = app.server.address() as AddressInfo;
  return {
    url: `http://${o.host}:${address.port}`,
    httpServer: app.server,
    close: () => app.close(),
  };
}
