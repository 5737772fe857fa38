// The WebSocket gateway at `/ws` (SPEC section 6): authentication at connect (`Sec-WebSocket-
// Protocol: bearer, <token>`) or by a first `auth` message, subscriptions per `@@realtime` model
// with the HTTP filter fields, and events of committed writes delivered through the same policy
// module as HTTP: only to subscribers who may read the row, with `@readable`, `@hidden` and
// `@writeOnly` fields removed. A row that stops being readable (or matching) is `deleted` for
// that subscriber. When events may have been lost (Redis was away), subscribers get `resync`.

import type { IncomingMessage, Server } from "node:http";
import type { Duplex } from "node:stream";
import { WebSocket, WebSocketServer } from "ws";
import type { RawData } from "ws";
import { canRead, models } from "../policies/index.js";
import type { Auth, ModelSpec } from "../policies/index.js";
import { Authenticator } from "../server/auth.js";
import type { ServerConfig } from "../server/config.js";
import type { ChangeEvent, Engine, Row } from "../server/engine.js";
import { presentRow } from "../server/engine.js";
import { HttpError } from "../server/errors.js";
import { outageLog } from "../server/logger.js";
import type { Logger } from "../server/logger.js";
import type { Plugins } from "../server/plugin.js";
import { ioredis } from "../server/ratelimit.js";
import type { RateLimits } from "../server/ratelimit.js";
import { InProcessBus, RedisBus } from "./bus.js";
import type { Bus } from "./bus.js";
import { checkFilter, matches } from "./filter.js";
import type { Filter } from "./filter.js";

export interface RealtimeOptions {
  server: Server;
  config: ServerConfig;
  engine: Engine;
  auth: Authenticator;
  rateLimits: RateLimits;
  log: Logger;
  plugins: Plugins;
}

export interface Realtime {
  close(): Promise<void>;
}

type Event = "created" | "updated" | "deleted";

interface Subscription {
  model: ModelSpec;
  channel: string;
  filter: Filter | undefined;
}

/** The longest delay `setTimeout` takes (about 24.8 days); longer expiries are scheduled in steps. */
const MAX_TIMEOUT_MS = 2 ** 31 - 1;

/** Close codes: 1001 and 1013 are standard, 4xxx the application's (ws itself closes with 1009). */
const CLOSE = { slow: 1013, going: 1001, expired: 4001, unauthorized: 4401 } as const;

/** `post` for model Post: the channel name is the Prisma client's property name. */
const channels = new Map<string, ModelSpec>(
  Object.values(models)
    .filter((m) => m.realtime !== null && m.api)
    .map((m) => [m.delegate, m]),
);

class Connection {
  auth: Auth = null;
  authenticated = false;
  messages = 0;
  alive = true;
  seq = 0;
  expiry: NodeJS.Timeout | null = null;
  /** A `resync` about to be sent: writes outside the API come in bursts, one message covers them. */
  resync: NodeJS.Timeout | null = null;
  /** Messages are handled one after the other: a `subscribe` sent right after `auth` waits for it. */
  queue: Promise<void> = Promise.resolve();
  readonly subs = new Map<string, Subscription>();

  constructor(
    readonly ws: WebSocket,
    readonly ip: string,
  ) {}

  get key(): string {
    const id = Authenticator.describe(this.auth);
    return id !== undefined ? `principal:${id}` : `ip:${this.ip}`;
  }
}

function bearerFrom(req: IncomingMessage): string | null {
  const header = req.headers["sec-websocket-protocol"];
  if (header === undefined) return null;
  const parts = header.split(",").map((p) => p.trim());
  const i = parts.indexOf("bearer");
  return i >= 0 ? (parts[i + 1] ?? null) : null;
}

function reject(socket: Duplex, status: number, reason: string): void {
  socket.write(`HTTP/1.1 ${status} ${reason}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
  socket.destroy();
}

function idOf(m: ModelSpec, row: Row): Row {
  return Object.fromEntries(m.id.map((f) => [f, row[f]]));
}

export async function attachRealtime(o: RealtimeOptions): Promise<Realtime> {
  const { config, log } = o;
  const redisLog = outageLog(log, "realtime: redis");
  const bus: Bus =
    config.redisUrl !== null
      ? new RedisBus(await ioredis(), config.redisUrl, redisLog.error, redisLog.back)
      : new InProcessBus();
  if (bus instanceof RedisBus) await bus.connected();
  o.engine.onChange = (e) => bus.publish(e);

  const wss = new WebSocketServer({
    noServer: true,
    maxPayload: config.wsMaxMessageBytes,
    handleProtocols: (protocols) => (protocols.has("bearer") ? "bearer" : false),
  });
  const connections = new Set<Connection>();

  /** Past its buffer limit, a socket is closed with 1013: its peer does not keep up. */
  function dropIfSlow(c: Connection): boolean {
    if (c.ws.bufferedAmount <= config.wsMaxBufferBytes) return false;
    log.warn({ principal: Authenticator.describe(c.auth) }, "closing a slow consumer");
    c.ws.close(CLOSE.slow, "slow consumer");
    return true;
  }

  function send(c: Connection, message: object): void {
    if (c.ws.readyState !== WebSocket.OPEN || dropIfSlow(c)) return;
    c.ws.send(JSON.stringify(message));
  }

  function error(c: Connection, status: number, title: string, id?: string): void {
    send(
      c,
      id !== undefined ? { type: "error", id, status, title } : { type: "error", status, title },
    );
  }

  function authenticate(c: Connection, principal: Auth, exp: number | null): void {
    c.auth = principal;
    c.authenticated = true;
    if (c.expiry !== null) clearTimeout(c.expiry);
    c.expiry = null;
    if (exp !== null) scheduleExpiry(c, exp * 1000);
  }

  /** Closes the socket with 4001 at `atMs`, in steps of at most `MAX_TIMEOUT_MS`. */
  function scheduleExpiry(c: Connection, atMs: number): void {
    const ms = atMs - Date.now();
    if (ms <= 0) {
      c.ws.close(CLOSE.expired, "token expired");
      return;
    }
    c.expiry = setTimeout(() => scheduleExpiry(c, atMs), Math.min(ms, MAX_TIMEOUT_MS));
  }

  async function onMessage(c: Connection, data: RawData): Promise<void> {
    let msg: Record<string, unknown>;
    try {
      const parsed: unknown = JSON.parse(data.toString());
      if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) throw new Error();
      msg = parsed as Record<string, unknown>;
    } catch {
      error(c, 400, "Messages must be JSON objects.");
      return;
    }
    c.messages++;
    const id =
      typeof msg.id === "string" || typeof msg.id === "number" ? String(msg.id) : undefined;
    switch (msg.type) {
      case "pong":
        c.alive = true;
        return;
      case "auth": {
        if (typeof msg.token !== "string" || c.authenticated || c.subs.size > 0) {
          error(c, 400, "`auth` must be the first message and carry a token.");
          return;
        }
        try {
          const { principal, exp } = await o.auth.verifyTokenWithExpiry(msg.token);
          authenticate(c, principal, exp);
          send(c, { type: "authenticated" });
        } catch {
          error(c, 401, "The token is invalid or expired.");
          c.ws.close(CLOSE.unauthorized, "unauthorized");
        }
        return;
      }
      case "subscribe": {
        c.authenticated = true; // no later `auth` message: the socket is what it is now
        if (id === undefined) return error(c, 400, "`subscribe` needs an id.");
        const channel = typeof msg.channel === "string" ? msg.channel : "";
        const m = channels.get(channel);
        if (m === undefined) return error(c, 404, `No realtime channel ${channel}.`, id);
        if (c.auth === null && !m.auth.includes("public")) {
          return error(c, 401, "This channel needs credentials.", id);
        }
        try {
          await o.rateLimits.consume(m, c.key);
        } catch (e) {
          return error(c, e instanceof HttpError ? e.status : 429, "Too many requests.", id);
        }
        if (c.subs.has(id)) return error(c, 409, `Subscription ${id} exists.`, id);
        if (c.subs.size >= config.wsMaxSubscriptions) {
          return error(
            c,
            429,
            `At most ${config.wsMaxSubscriptions} subscriptions per socket.`,
            id,
          );
        }
        const problem = checkFilter(m, msg.filter);
        if (problem !== null) return error(c, 400, problem, id);
        c.subs.set(id, { model: m, channel, filter: msg.filter as Filter | undefined });
        send(c, { type: "subscribed", id });
        return;
      }
      case "unsubscribe": {
        if (id === undefined || !c.subs.delete(id))
          return error(c, 404, "No such subscription.", id);
        send(c, { type: "unsubscribed", id });
        return;
      }
      default:
        error(c, 400, "Unknown message type.", id);
    }
  }

  /** What one subscription sees of a change: an event, or nothing. */
  function resyncSoon(c: Connection): void {
    if (c.resync !== null) return;
    c.resync = setTimeout(() => {
      c.resync = null;
      send(c, { type: "resync" });
    }, 200);
  }

  function deliver(c: Connection, subId: string, sub: Subscription, e: ChangeEvent): void {
    // The rows are JSON; the policy module types BigInt, Decimal and DateTime values itself, so
    // `level != 9` means here what it means in SQL over HTTP.
    const visible = (row: Row | null): row is Row =>
      row !== null && canRead(sub.model, row, c.auth) && matches(sub.model, sub.filter, row);
    const before = visible(e.before);
    const after = visible(e.after);
    if (e.resync === true) {
      // A write outside the API: what the row was is unknown, so the caches refetch.
      if (after && e.after !== null) {
        const data = presentRow(sub.model, e.after, e.after, c.auth);
        send(c, {
          type: "event",
          id: subId,
          channel: sub.channel,
          event: "updated",
          data,
          seq: ++c.seq,
        });
      }
      resyncSoon(c);
      return;
    }
    let event: Event;
    let data: Row;
    if (after && e.after !== null) {
      event = before ? "updated" : "created";
      // Rules read the snapshot's relations; the event carries the fields only.
      data = presentRow(sub.model, e.after, e.after, c.auth);
    } else if (before && e.before !== null) {
      event = "deleted";
      data = idOf(sub.model, e.before);
    } else {
      return;
    }
    send(c, { type: "event", id: subId, channel: sub.channel, event, data, seq: ++c.seq });
  }

  bus.onEvent((e) => {
    for (const c of connections) {
      for (const [subId, sub] of c.subs) if (sub.model.name === e.model) deliver(c, subId, sub, e);
    }
  });

  // Events may have been lost (Redis was away): every subscriber refetches what it shows.
  bus.onGap(() => {
    let told = 0;
    for (const c of connections) {
      if (c.subs.size === 0) continue;
      send(c, { type: "resync" });
      told++;
    }
    log.warn({ sockets: told }, "realtime events may have been lost; subscribers told to resync");
  });

  o.server.on("upgrade", (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const path = (req.url ?? "").split("?")[0];
    if (path !== "/ws") return reject(socket, 404, "Not Found");
    const origin = req.headers.origin;
    if (
      origin !== undefined &&
      config.corsOrigins.length > 0 &&
      !config.corsOrigins.includes(origin)
    ) {
      return reject(socket, 403, "Forbidden");
    }
    const token = bearerFrom(req);
    const verified =
      token === null
        ? Promise.resolve(null)
        : o.auth.verifyTokenWithExpiry(token).catch(() => undefined);
    void verified.then((v) => {
      if (v === undefined) return reject(socket, 401, "Unauthorized");
      wss.handleUpgrade(req, socket, head, (ws) => {
        const c = new Connection(ws, req.socket.remoteAddress ?? "unknown");
        if (v !== null) authenticate(c, v.principal, v.exp);
        connections.add(c);
        o.plugins.socket(1);
        ws.on("message", (data) => {
          c.queue = c.queue
            .then(() => onMessage(c, data))
            .catch((err: unknown) => log.error({ err }, "realtime message"));
        });
        ws.on("close", () => {
          connections.delete(c);
          o.plugins.socket(-1);
          if (c.expiry !== null) clearTimeout(c.expiry);
          if (c.resync !== null) clearTimeout(c.resync);
        });
        ws.on("error", () => ws.terminate());
      });
    });
  });

  const heartbeat = setInterval(() => {
    for (const c of connections) {
      // A socket already closing (a slow consumer told 1013) drains or times out on its own.
      if (c.ws.readyState !== WebSocket.OPEN) continue;
      // A peer that stopped reading while events piled up is slow (1013), not dead: its buffer
      // says which, whichever of the heartbeat and the next event notices first.
      if (dropIfSlow(c)) continue;
      if (!c.alive) {
        c.ws.terminate();
        continue;
      }
      c.alive = false;
      send(c, { type: "ping" });
    }
  }, config.wsHeartbeatMs);
  heartbeat.unref();

  return {
    close: async () => {
      clearInterval(heartbeat);
      o.engine.onChange = null;
      for (const c of connections) c.ws.close(CLOSE.going, "server shutting down");
      await new Promise<void>((r) => wss.close(() => r()));
      await bus.close();
    },
  };
}
