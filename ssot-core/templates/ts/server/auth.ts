// Who is calling: a JWT (HS256 with JWT_SECRET, RS256 with JWT_PUBLIC_KEY or JWKS_URL) in
// `Authorization: Bearer`, an API key in `x-api-key`, or nobody. The claims become the principal
// policies see as `auth`, checked against the claims declared in `[auth.claims]`.

import { createHash } from "node:crypto";
import { createRemoteJWKSet, importSPKI, jwtVerify } from "jose";
import type { JWTPayload, JWTVerifyGetKey } from "jose";
import type { Auth, AuthMethod, Principal } from "../policies/index.js";
import { PrincipalSchema } from "./claims.js";
import type { ServerConfig } from "./config.js";
import { HttpError } from "./errors.js";

type Headers = Record<string, string | string[] | undefined>;

function header(headers: Headers, name: string): string | undefined {
  const v = headers[name];
  return Array.isArray(v) ? v[0] : v;
}

function digest(key: string): string {
  return createHash("sha256").update(key).digest("hex");
}

/** Claims of a verified token as a principal: `id` falls back to the `sub` claim. */
export function principalFromClaims(payload: JWTPayload): Principal | null {
  const claims: Record<string, unknown> = { ...payload };
  if (claims.id === undefined && payload.sub !== undefined) claims.id = payload.sub;
  const parsed = PrincipalSchema.safeParse(claims);
  return parsed.success ? parsed.data : null;
}

export class Authenticator {
  private readonly keys = new Map<string, Principal>();
  private readonly verifyKey: Promise<Uint8Array | CryptoKey | JWTVerifyGetKey> | null;
  private readonly algorithms: string[];

  constructor(private readonly config: ServerConfig) {
    let raw: unknown;
    try {
      raw = JSON.parse(config.apiKeys);
    } catch {
      throw new Error("API_KEYS must be a JSON object of key → claims");
    }
    for (const [key, claims] of Object.entries(raw as Record<string, unknown>)) {
      const parsed = PrincipalSchema.safeParse(claims);
      if (!parsed.success)
        throw new Error(`API_KEYS: the claims of a key do not match [auth.claims]`);
      this.keys.set(digest(key), parsed.data);
    }
    if (config.jwksUrl !== null) {
      this.verifyKey = Promise.resolve(createRemoteJWKSet(new URL(config.jwksUrl)));
      this.algorithms = ["RS256"];
    } else if (config.jwtPublicKey !== null) {
      this.verifyKey = importSPKI(config.jwtPublicKey, "RS256");
      this.algorithms = ["RS256"];
    } else if (config.jwtSecret !== null) {
      this.verifyKey = Promise.resolve(new TextEncoder().encode(config.jwtSecret));
      this.algorithms = ["HS256"];
    } else {
      this.verifyKey = null;
      this.algorithms = [];
    }
  }

  private async verify(token: string): Promise<Principal> {
    return (await this.verifyTokenWithExpiry(token)).principal;
  }

  /** Verifies a bare token; `exp` (seconds since the epoch) tells the realtime gateway when to close. */
  async verifyTokenWithExpiry(
    token: string,
  ): Promise<{ principal: Principal; exp: number | null }> {
    if (this.verifyKey === null) {
      throw new HttpError(401, "Token authentication is not configured on this server.");
    }
    const key = await this.verifyKey;
    const options = {
      algorithms: this.algorithms,
      ...(this.config.jwtIssuer !== null ? { issuer: this.config.jwtIssuer } : {}),
      ...(this.config.jwtAudience !== null ? { audience: this.config.jwtAudience } : {}),
      // A token without `exp` would never expire: refused unless JWT_REQUIRE_EXP=false.
      ...(this.config.jwtRequireExp ? { requiredClaims: ["exp"] } : {}),
    };
    let payload: JWTPayload;
    try {
      payload =
        typeof key === "function"
          ? (await jwtVerify(token, key, options)).payload
          : (await jwtVerify(token, key, options)).payload;
    } catch {
      throw new HttpError(401, "The token is invalid or expired.", undefined, {
        "www-authenticate": "Bearer",
      });
    }
    const principal = principalFromClaims(payload);
    if (principal === null) throw new HttpError(401, "The token lacks the claims this API needs.");
    return { principal, exp: payload.exp ?? null };
  }

  /** The principal of a request to a model that accepts `methods`. */
  async authenticate(headers: Headers, methods: readonly AuthMethod[]): Promise<Auth> {
    const authorization = header(headers, "authorization");
    const apiKey = header(headers, "x-api-key");
    const isPublic = methods.includes("public");
    if (authorization !== undefined && authorization !== "") {
      const match = /^Bearer\s+(\S+)$/i.exec(authorization);
      if (match?.[1] === undefined)
        throw new HttpError(401, "Authorization must be `Bearer <token>`.");
      if (!isPublic && !methods.includes("jwt"))
        throw new HttpError(401, "This API does not take bearer tokens.");
      return this.verify(match[1]);
    }
    if (apiKey !== undefined && apiKey !== "") {
      if (!isPublic && !methods.includes("apiKey"))
        throw new HttpError(401, "This API does not take API keys.");
      const principal = this.keys.get(digest(apiKey));
      if (principal === undefined) throw new HttpError(401, "The API key is not valid.");
      return principal;
    }
    if (isPublic) return null;
    const scheme: Record<string, string> = methods.includes("jwt")
      ? { "www-authenticate": "Bearer" }
      : {};
    throw new HttpError(401, "This API needs credentials.", undefined, scheme);
  }

  /** A short, non-secret name of the principal for logs. */
  static describe(auth: Auth): string | undefined {
    if (auth === null) return undefined;
    const id = auth.id;
    return typeof id === "string" || typeof id === "number" ? String(id) : "principal";
  }
}
