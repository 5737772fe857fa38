// Fixed-window rate limits per principal (or client address when anonymous): the model's
// `@@rateLimit`, else the global RATE_LIMIT per RATE_LIMIT_WINDOW seconds. With REDIS_URL the
// counters live in Redis, shared by every instance (N instances allow the limit once, not N
// times). While Redis is unreachable, RATE_LIMIT_FAIL says what happens: `open` (the default),
// each instance counts in memory on its own; `closed`, requests that are counted are refused with
// 503 and Retry-After until Redis is back.

import type { Redis } from "ioredis";
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes } from "rate-limiter-flexible";
import type { RateLimiterAbstract } from "rate-limiter-flexible";
import type { ModelSpec } from "../policies/index.js";
import { HttpError } from "./errors.js";

/** The ioredis client class, loaded only when REDIS_URL is set (a cold start spends less). */
export async function ioredis(): Promise<typeof Redis> {
  return (await import("ioredis")).Redis;
}

export class RateLimits {
  private readonly limiters = new Map<string, RateLimiterAbstract>();
  private readonly redis: Redis | null;

  constructor(
    private readonly defaultLimit: number,
    private readonly defaultWindowSeconds: number,
    redis: { url: string; Redis: typeof Redis } | null = null,
    onRedisError: (e: unknown) => void = () => undefined,
    onRedisBack: () => void = () => undefined,
    private readonly failClosed = false,
  ) {
    // No offline queue: a request is never held back waiting for Redis.
    this.redis =
      redis !== null
        ? new redis.Redis(redis.url, { enableOfflineQueue: false, maxRetriesPerRequest: 1 })
        : null;
    this.redis?.on("error", onRedisError);
    this.redis?.on("ready", onRedisBack);
  }

  private limiter(m: ModelSpec): RateLimiterAbstract | null {
    const limit = m.rateLimit?.limit ?? this.defaultLimit;
    const window = m.rateLimit?.windowSeconds ?? this.defaultWindowSeconds;
    if (limit === 0) return null;
    let l = this.limiters.get(m.name);
    if (l === undefined) {
      const opts = { points: limit, duration: window, keyPrefix: `ssot:rl:${m.name}` };
      l =
        this.redis !== null
          ? new RateLimiterRedis({
              ...opts,
              storeClient: this.redis,
              ...(this.failClosed ? {} : { insuranceLimiter: new RateLimiterMemory(opts) }),
            })
          : new RateLimiterMemory(opts);
      this.limiters.set(m.name, l);
    }
    return l;
  }

  /** Counts one request of `key` to model `m`; throws 429 with Retry-After over the limit. */
  async consume(m: ModelSpec, key: string): Promise<void> {
    const l = this.limiter(m);
    if (l === null) return;
    try {
      await l.consume(key);
    } catch (e) {
      if (e instanceof RateLimiterRes) {
        const seconds = Math.max(1, Math.ceil(e.msBeforeNext / 1000));
        throw new HttpError(429, `Too many requests; retry in ${seconds} s.`, undefined, {
          "retry-after": String(seconds),
        });
      }
      // Only without an insurance limiter (RATE_LIMIT_FAIL=closed) does Redis' error get here.
      if (this.redis !== null) {
        throw new HttpError(503, "Rate limits cannot be counted right now.", undefined, {
          "retry-after": "1",
        });
      }
      throw e;
    }
  }

  close(): void {
    this.redis?.disconnect();
  }
}
