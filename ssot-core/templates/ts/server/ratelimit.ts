// Fixed-window rate limits per principal (or client address when anonymous): the model's
// `@@rateLimit`, else the global RATE_LIMIT per RATE_LIMIT_WINDOW seconds.

import { RateLimiterMemory, RateLimiterRes } from "rate-limiter-flexible";
import type { ModelSpec } from "../policies/index.js";
import { HttpError } from "./errors.js";

export class RateLimits {
  private readonly limiters = new Map<string, RateLimiterMemory>();

  constructor(
    private readonly defaultLimit: number,
    private readonly defaultWindowSeconds: number,
  ) {}

  private limiter(m: ModelSpec): RateLimiterMemory | null {
    const limit = m.rateLimit?.limit ?? this.defaultLimit;
    const window = m.rateLimit?.windowSeconds ?? this.defaultWindowSeconds;
    if (limit === 0) return null;
    let l = this.limiters.get(m.name);
    if (l === undefined) {
      l = new RateLimiterMemory({ points: limit, duration: window, keyPrefix: m.name });
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
      throw e;
    }
  }
}
