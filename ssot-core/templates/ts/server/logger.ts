// Structured JSON logs (pino): one line per request with its id, route, status and duration.
// Bodies are never logged, and credentials are redacted wherever they appear.

import { pino } from "pino";
import type { Logger } from "pino";

export type { Logger };

export function createLogger(level: string): Logger {
  return pino({
    level,
    base: null,
    redact: {
      paths: [
        "authorization",
        "*.authorization",
        "*.headers.authorization",
        "*.headers['x-api-key']",
        "token",
        "*.token",
      ],
      censor: "[redacted]",
    },
  });
}

export interface RequestLog {
  requestId: string;
  method: string;
  route: string;
  status: number;
  durationMs: number;
  principal?: string;
}

export function logRequest(log: Logger, entry: RequestLog): void {
  const level = entry.status >= 500 ? "error" : entry.status >= 400 ? "warn" : "info";
  log[level](entry, "request");
}

/**
 * The log of a connection that reconnects by itself (Redis): the first error of an outage and
 * the moment it is back, not one line per retry.
 */
export function outageLog(
  log: Logger,
  what: string,
): { error: (err: unknown) => void; back: () => void } {
  let down = false;
  return {
    error: (err) => {
      if (down) return;
      down = true;
      log.error({ err }, `${what}: unreachable, retrying`);
    },
    back: () => {
      if (!down) return;
      down = false;
      log.warn(`${what}: back`);
    },
  };
}
