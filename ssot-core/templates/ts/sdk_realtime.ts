// {{ header }}
// The realtime side of the SDK: `WebSocketTransport` speaks the protocol of the server's `/ws`
// gateway. It works with the browser's WebSocket and with Node's (or the `ws` package's), touches
// no global at import time (safe for server-side rendering), reconnects with jittered exponential
// backoff and subscribes again, and asks `token()` for a fresh token at every connect. Events sent
// while a subscription was away are not replayed: after a reconnect (once the server confirmed the
// subscription again) and when the server says `resync`, the subscription's `onResync` runs, so
// the caller refetches what it shows. An event is never handed over twice (`seq`).

/** A change of a row the caller may read, as the gateway sends it. */
export interface RealtimeEvent<T> {
  channel: string;
  /** `deleted` events carry the id fields only; so do rows that stopped being readable. */
  event: "created" | "updated" | "deleted";
  data: T;
  seq: number;
}

/** An error the gateway reported (`id` names the subscription when it concerns one). */
export interface RealtimeError {
  id?: string;
  status: number;
  title: string;
}

/** The part of the standard WebSocket this transport uses. */
export interface WebSocketLike {
  readonly readyState: number;
  onopen: ((ev: unknown) => void) | null;
  onmessage: ((ev: { data: unknown }) => void) | null;
  onclose: ((ev: { code: number; reason: string }) => void) | null;
  onerror: ((ev: unknown) => void) | null;
  send(data: string): void;
  close(code?: number, reason?: string): void;
}

export type WebSocketConstructor = new (
  url: string,
  protocols?: string | string[],
) => WebSocketLike;

export interface WebSocketTransportOptions {
  /** The gateway, e.g. `wss://api.example.com/ws`. */
  url: string;
  /** The bearer token (JWT), asked for at every connect and reconnect; none: anonymous. */
  token?: () => string | undefined | Promise<string | undefined>;
  /**
   * A WebSocket class instead of the global one (Node 20: the `ws` package's `WebSocket`). Any
   * class with the standard constructor, `send`, `close` and `on*` handlers will do.
   */
  WebSocket?: abstract new (...args: never[]) => unknown;
  /** First reconnect delay (default 250 ms); doubles per attempt up to `maxDelayMs` (10 s). */
  initialDelayMs?: number;
  maxDelayMs?: number;
  /**
   * A socket that has heard nothing for this long — not even the server's `ping`, sent every
   * `WS_HEARTBEAT_MS` (30 s) — is taken for dead (a network that dropped without closing it) and
   * replaced by a new one (default 75 s; keep it above twice the server's heartbeat; 0: never).
   */
  silenceTimeoutMs?: number;
  /** Errors the gateway reports, and failed connects. */
  onError?: (error: RealtimeError) => void;
}

interface Sub {
  channel: string;
  filter: object | undefined;
  handler: (e: RealtimeEvent<unknown>) => void;
  onResync: (() => void) | undefined;
  /** Subscribed again on a new socket: `onResync` runs when the server confirms it. */
  resyncPending: boolean;
}

const OPEN = 1;

export class WebSocketTransport {
  private ws: WebSocketLike | null = null;
  private readonly subs = new Map<string, Sub>();
  private nextId = 1;
  private attempt = 0;
  private timer: ReturnType<typeof setTimeout> | null = null;
  /** Runs out when the socket has been silent for `silenceTimeoutMs`. */
  private silence: ReturnType<typeof setTimeout> | null = null;
  private closed = false;
  /** Has a socket been open before: the next open is a reconnect. */
  private opened = false;
  /** The last `seq` of the current socket (the server counts per socket, from 1). */
  private lastSeq = 0;

  constructor(private readonly options: WebSocketTransportOptions) {}

  /** Is the socket open? */
  get connected(): boolean {
    return this.ws?.readyState === OPEN;
  }

  /**
   * Subscribes to a channel (a model with `@@realtime`); returns the function that unsubscribes.
   * `onResync` runs when events may have been missed (after a reconnect, or when the server lost
   * some): refetch what the subscription keeps up to date.
   */
  subscribe<T>(
    channel: string,
    handler: (e: RealtimeEvent<T>) => void,
    filter?: object,
    onResync?: () => void,
  ): () => void {
    const id = `s${this.nextId++}`;
    const sub: Sub = {
      channel,
      filter,
      handler: handler as (e: RealtimeEvent<unknown>) => void,
      onResync,
      resyncPending: false,
    };
    this.subs.set(id, sub);
    this.closed = false;
    if (this.connected) this.sendSubscribe(id, sub);
    else this.connect();
    return () => {
      if (!this.subs.delete(id)) return;
      if (this.connected) this.send({ type: "unsubscribe", id });
    };
  }

  /** Closes the socket and stops reconnecting: no event is handed on after this, and nothing
   * is left running (a Node process with nothing else to do exits). */
  close(): void {
    this.closed = true;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    this.quiet();
    const ws = this.ws;
    this.ws = null;
    if (ws !== null) {
      // Messages still in flight would restart the silence timer and reach the handlers.
      ws.onopen = ws.onmessage = ws.onclose = null;
      ws.close(1000, "client closed");
    }
  }

  private send(message: object): void {
    if (this.connected) this.ws?.send(JSON.stringify(message));
  }

  private sendSubscribe(id: string, sub: Sub): void {
    this.send({
      type: "subscribe",
      id,
      channel: sub.channel,
      ...(sub.filter !== undefined ? { filter: sub.filter } : {}),
    });
  }

  private connect(): void {
    if (this.ws !== null || this.timer !== null || this.closed) return;
    const Ctor = (this.options.WebSocket ?? (globalThis as { WebSocket?: unknown }).WebSocket) as
      WebSocketConstructor | undefined;
    if (Ctor === undefined) throw new Error("no WebSocket: pass `WebSocket` in the options");
    void Promise.resolve(this.options.token?.()).then(
      (token) => this.open(Ctor, token),
      () => this.scheduleReconnect(),
    );
  }

  private open(Ctor: WebSocketConstructor, token: string | undefined): void {
    if (this.closed) return;
    const ws = new Ctor(this.options.url, token !== undefined ? ["bearer", token] : []);
    this.ws = ws;
    ws.onopen = () => {
      this.heard(ws);
      this.attempt = 0;
      this.lastSeq = 0;
      const reconnect = this.opened;
      this.opened = true;
      for (const [id, sub] of this.subs) {
        sub.resyncPending = reconnect;
        this.sendSubscribe(id, sub);
      }
    };
    ws.onmessage = (ev) => {
      this.heard(ws);
      this.onMessage(ev.data);
    };
    ws.onerror = () => undefined;
    ws.onclose = (ev) => {
      if (this.ws !== ws) return;
      this.ws = null;
      this.quiet();
      if (this.closed) return;
      // 4001: the token expired, 4401: it was refused: ask for a new one right away.
      if (ev.code === 4001 || ev.code === 4401) this.attempt = 0;
      this.scheduleReconnect();
    };
  }

  /** `ws` spoke: it is alive for another `silenceTimeoutMs`. */
  private heard(ws: WebSocketLike): void {
    const ms = this.options.silenceTimeoutMs ?? 75_000;
    this.quiet();
    if (ms <= 0 || this.closed) return;
    this.silence = setTimeout(() => {
      this.silence = null;
      if (this.ws !== ws) return;
      // Its close handshake may never finish on a dead network: forget it and connect anew.
      this.ws = null;
      ws.onopen = ws.onmessage = ws.onclose = null;
      ws.close(4000, "silent");
      this.scheduleReconnect();
    }, ms);
  }

  private quiet(): void {
    if (this.silence !== null) clearTimeout(this.silence);
    this.silence = null;
  }

  private scheduleReconnect(): void {
    if (this.closed || this.subs.size === 0 || this.timer !== null) return;
    const base = this.options.initialDelayMs ?? 250;
    const max = this.options.maxDelayMs ?? 10_000;
    const delay = Math.random() * Math.min(max, base * 2 ** this.attempt);
    this.attempt++;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.connect();
    }, delay);
  }

  private onMessage(raw: unknown): void {
    let msg: Record<string, unknown>;
    try {
      msg = JSON.parse(String(raw)) as Record<string, unknown>;
    } catch {
      return;
    }
    if (msg.type === "ping") {
      this.send({ type: "pong" });
    } else if (msg.type === "event" && typeof msg.id === "string") {
      if (typeof msg.seq === "number") {
        if (msg.seq <= this.lastSeq) return;
        this.lastSeq = msg.seq;
      }
      this.subs.get(msg.id)?.handler(msg as unknown as RealtimeEvent<unknown>);
    } else if (msg.type === "subscribed" && typeof msg.id === "string") {
      const sub = this.subs.get(msg.id);
      if (sub?.resyncPending === true) {
        sub.resyncPending = false;
        sub.onResync?.();
      }
    } else if (msg.type === "resync") {
      for (const sub of this.subs.values()) sub.onResync?.();
    } else if (msg.type === "error") {
      this.options.onError?.(msg as unknown as RealtimeError);
    }
  }
}
