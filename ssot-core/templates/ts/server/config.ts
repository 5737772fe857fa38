// Settings from the environment (and `.env` when present). Every variable is listed in
// `.env.template`.

try {
  process.loadEnvFile(".env");
} catch {
  // No .env file: the environment alone.
}

function int(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === "") return fallback;
  const n = Number(raw);
  if (!Number.isSafeInteger(n) || n < 0)
    throw new Error(`${name} must be a non-negative integer, got "${raw}"`);
  return n;
}

function bool(name: string, fallback: boolean): boolean {
  const raw = process.env[name];
  if (raw === undefined || raw === "") return fallback;
  if (raw !== "true" && raw !== "false")
    throw new Error(`${name} must be true or false, got "${raw}"`);
  return raw === "true";
}

function oneOf<T extends string>(name: string, values: readonly T[], fallback: T): T {
  const raw = process.env[name];
  if (raw === undefined || raw === "") return fallback;
  const found = values.find((v) => v === raw);
  if (found === undefined) throw new Error(`${name} must be ${values.join(" or ")}, got "${raw}"`);
  return found;
}

function list(name: string): string[] {
  return (process.env[name] ?? "")
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s !== "");
}

export interface ServerConfig {
  host: string;
  port: number;
  databaseUrl: string;
  /** HS256 secret; JWT_PUBLIC_KEY (PEM, RS256) or JWKS_URL select RS256 instead. */
  jwtSecret: string | null;
  jwtPublicKey: string | null;
  jwksUrl: string | null;
  jwtIssuer: string | null;
  jwtAudience: string | null;
  /** Tokens must carry `exp` (JWT_REQUIRE_EXP, default true). */
  jwtRequireExp: boolean;
  /** API keys as a JSON object: key → principal claims. */
  apiKeys: string;
  corsOrigins: string[];
  /** Largest accepted request body, in bytes. */
  bodyLimit: number;
  /** Requests per principal (or address) and window for models without `@@rateLimit`; 0 = off. */
  rateLimit: number;
  rateLimitWindowSeconds: number;
  /** While Redis cannot count: `open`, each instance counts in memory; `closed`, 503. */
  rateLimitFailClosed: boolean;
  maxPageSize: number;
  defaultPageSize: number;
  logLevel: string;
  /** Redis for realtime fan-out across instances; null: in process. */
  redisUrl: string | null;
  /** Largest WebSocket message accepted (bigger ones close the socket with 1009). */
  wsMaxMessageBytes: number;
  /** Bytes queued for a subscriber before it is closed as a slow consumer (1013). */
  wsMaxBufferBytes: number;
  wsHeartbeatMs: number;
  wsMaxSubscriptions: number;
  /**
   * On SIGTERM, how long `/ready` answers 503 while requests are still served, before the
   * server stops accepting: the time a load balancer needs to stop sending new ones.
   */
  shutdownDelayMs: number;
}

export function loadConfig(): ServerConfig {
  const opt = (name: string): string | null => {
    const v = process.env[name];
    return v === undefined || v === "" ? null : v;
  };
  return {
    host: process.env.HOST ?? "127.0.0.1",
    port: int("PORT", 3000),
    databaseUrl: process.env.DATABASE_URL ?? "",
    jwtSecret: opt("JWT_SECRET"),
    jwtPublicKey: opt("JWT_PUBLIC_KEY"),
    jwksUrl: opt("JWKS_URL"),
    jwtIssuer: opt("JWT_ISSUER"),
    jwtAudience: opt("JWT_AUDIENCE"),
    jwtRequireExp: bool("JWT_REQUIRE_EXP", true),
    apiKeys: process.env.API_KEYS ?? "{}",
    corsOrigins: list("CORS_ORIGINS"),
    bodyLimit: int("BODY_LIMIT", 1024 * 1024),
    rateLimit: int("RATE_LIMIT", 600),
    rateLimitWindowSeconds: int("RATE_LIMIT_WINDOW", 60),
    rateLimitFailClosed: oneOf("RATE_LIMIT_FAIL", ["open", "closed"], "open") === "closed",
    maxPageSize: int("MAX_PAGE_SIZE", 1000),
    defaultPageSize: int("DEFAULT_PAGE_SIZE", 20),
    logLevel: process.env.LOG_LEVEL ?? "info",
    redisUrl: opt("REDIS_URL"),
    wsMaxMessageBytes: int("WS_MAX_MESSAGE_BYTES", 64 * 1024),
    wsMaxBufferBytes: int("WS_MAX_BUFFER_BYTES", 1024 * 1024),
    wsHeartbeatMs: int("WS_HEARTBEAT_MS", 30_000),
    wsMaxSubscriptions: int("WS_MAX_SUBSCRIPTIONS", 100),
    shutdownDelayMs: int("SHUTDOWN_DELAY_MS", 0),
  };
}
