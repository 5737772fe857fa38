// How committed writes reach every gateway: in process, or through Redis pub/sub when REDIS_URL
// is set, so a write on one server instance reaches subscribers on all of them.

import { EventEmitter } from "node:events";
import { Redis } from "ioredis";
import type { ChangeEvent } from "../server/engine.js";

export interface Bus {
  publish(e: ChangeEvent): void;
  /** Registers the one local receiver. */
  onEvent(handler: (e: ChangeEvent) => void): void;
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
  private readonly ready: Promise<unknown>;

  constructor(
    url: string,
    private readonly onError: (e: unknown) => void,
  ) {
    this.pub = new Redis(url, { lazyConnect: false, maxRetriesPerRequest: 3 });
    this.sub = new Redis(url, { lazyConnect: false });
    this.pub.on("error", onError);
    this.sub.on("error", onError);
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
    // A lost event is logged: subscribers on other instances miss it.
    this.pub.publish(CHANNEL, JSON.stringify(e)).catch(this.onError);
  }

  onEvent(handler: (e: ChangeEvent) => void): void {
    this.handler = handler;
  }

  async close(): Promise<void> {
    this.sub.disconnect();
    this.pub.disconnect();
  }
}
