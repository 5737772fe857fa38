// How committed writes reach every gateway: in process, or through Redis pub/sub when REDIS_URL
// is set, so a write on one server instance reaches subscribers on all of them. Pub/sub keeps
// nothing for a subscriber that is away: when this instance's subscription to Redis comes back
// after a loss, events published meanwhile may be gone, and the bus says so (`onGap`) so the
// gateway can tell its subscribers to refetch.

import { EventEmitter } from "node:events";
import type { Redis } from "ioredis";
import type { ChangeEvent } from "../server/engine.js";

export interface Bus {
  publish(e: ChangeEvent): void;
  /** Registers the one local receiver. */
  onEvent(handler: (e: ChangeEvent) => void): void;
  /** Registers the one receiver of "events may have been lost" (never for the in-process bus). */
  onGap(handler: () => void): void;
  close(): Promise<void>;
}

export class InProcessBus implements Bus {
  private readonly emitter = new EventEmitter();

  publish(e: ChangeEvent): void {
    this.emitter.emit("event", e);
  }

  onEvent(handler: (e: ChangeEvent) => void): void {
    this.emitter.on("event", handler);
  }

  onGap(): void {
    // Nothing is lost in process.
  }

  async close(): Promise<void> {
    this.emitter.removeAllListeners();
  }
}

const CHANNEL = "ssot:events";

/** Every instance publishes to one Redis channel and delivers what it receives (its own too). */
export class RedisBus implements Bus {
  private readonly pub: Redis;
  private readonly sub: Redis;
  private handler: ((e: ChangeEvent) => void) | null = null;
  private gap: (() => void) | null = null;
  private readonly ready: Promise<unknown>;

  constructor(
    RedisClient: typeof Redis,
    url: string,
    private readonly onError: (e: unknown) => void,
    onBack: () => void = () => undefined,
  ) {
    this.pub = new RedisClient(url, { lazyConnect: false, maxRetriesPerRequest: 3 });
    // The subscription is renewed here, not by ioredis, to know when it is back: ioredis reports
    // `ready` before it has subscribed again.
    this.sub = new RedisClient(url, { lazyConnect: false, autoResubscribe: false });
    this.pub.on("error", onError);
    this.sub.on("error", onError);
    let lost = false;
    this.sub.on("close", () => {
      lost = true;
    });
    this.sub.on("ready", () => {
      onBack();
      if (!lost) return;
      lost = false;
      this.sub.subscribe(CHANNEL).then(() => this.gap?.(), onError);
    });
    this.sub.on("message", (_channel: string, message: string) => {
      try {
        this.handler?.(JSON.parse(message) as ChangeEvent);
      } catch (e) {
        onError(e);
      }
    });
    this.ready = this.sub.subscribe(CHANNEL);
  }

  /** Resolves once this instance receives events. */
  async connected(): Promise<void> {
    await this.ready;
  }

  publish(e: ChangeEvent): void {
    // A lost event is logged; every instance's subscription dropped with Redis, so each reports
    // a gap when it is back.
    this.pub.publish(CHANNEL, JSON.stringify(e)).catch(this.onError);
  }

  onEvent(handler: (e: ChangeEvent) => void): void {
    this.handler = handler;
  }

  onGap(handler: () => void): void {
    this.gap = handler;
  }

  async close(): Promise<void> {
    this.sub.disconnect();
    this.pub.disconnect();
  }
}
