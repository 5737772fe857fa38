// Sign-in to the admin UI with an OpenID Connect provider: the authorization-code flow with PKCE,
// state and nonce (openid-client), then a session of the API's own. `start` sends the browser to
// the issuer with a short-lived, signed flow cookie (the PKCE verifier, state, nonce); `finish`
// takes the code back, checks the ID token (issuer, audience, expiry, nonce), maps its claims —
// and, for those it lacks, the UserInfo endpoint's, for the same subject — to the principal of
// [auth.claims], and sets the UI's token cookie to a JWT signed with JWT_SECRET that the API
// checks like any token. No token or claim is ever logged.
import { createHmac } from "node:crypto";
import { SignJWT, jwtVerify } from "jose";
import { cookies } from "next/headers.js";
import * as client from "openid-client";
import { PrincipalSchema } from "../../../src/server/claims.js";
import { API_KEY_COOKIE, COOKIE, TOKEN_COOKIE } from "../../admin/_ui/session.js";

interface Settings {
  scopes: string[];
  sessionMinutes: number;
  /** Each claim of [auth.claims] → the ID-token claim it comes from. */
  claims: Record<string, string>;
}

const SETTINGS: Settings = /*{{settings}}*/ {} as Settings;

const FLOW_COOKIE = "ssot_oidc";
const FLOW_PATH = "/plugins/oidc";
const FLOW_SECONDS = 600;

/** Why a sign-in failed, as the sign-in page says it (`?error=`); details go to the log. */
type Failure = "unconfigured" | "expired" | "refused" | "claims";

function env(name: string): string | undefined {
  const v = process.env[name];
  return v === undefined || v === "" ? undefined : v;
}

/** What the deployment configures, or null when OIDC_ISSUER, OIDC_CLIENT_ID or JWT_SECRET is unset. */
function deployment(): { issuer: string; clientId: string; key: Uint8Array } | null {
  const issuer = env("OIDC_ISSUER");
  const clientId = env("OIDC_CLIENT_ID");
  const secret = env("JWT_SECRET");
  if (issuer === undefined || clientId === undefined || secret === undefined) return null;
  return { issuer, clientId, key: new TextEncoder().encode(secret) };
}

/** The flow cookie's key: derived from JWT_SECRET, so a flow cookie is never an API token. */
function flowKey(key: Uint8Array): Uint8Array {
  return createHmac("sha256", key).update("ssot oidc flow").digest();
}

function isLoopback(url: URL): boolean {
  return ["localhost", "127.0.0.1", "[::1]"].includes(url.hostname);
}

let discovered: { issuer: string; config: Promise<client.Configuration> } | null = null;

/** The issuer's configuration, discovered once per issuer (again after a failure). */
function configuration(issuer: string, clientId: string): Promise<client.Configuration> {
  if (discovered?.issuer !== issuer) {
    const url = new URL(issuer);
    const clientSecret = env("OIDC_CLIENT_SECRET");
    const config = client.discovery(
      url,
      clientId,
      clientSecret,
      clientSecret === undefined ? client.None() : client.ClientSecretBasic(clientSecret),
      // Plain HTTP only for an issuer on this machine (a development provider).
      url.protocol === "http:" && isLoopback(url)
        ? { execute: [client.allowInsecureRequests] }
        : {},
    );
    config.catch(() => {
      if (discovered?.config === config) discovered = null;
    });
    discovered = { issuer, config };
  }
  return discovered.config;
}

/**
 * The callback as the issuer sends the browser back to it: OIDC_REDIRECT_URL, or this request's
 * origin as the browser named it (the issuer accepts only the redirect URIs registered for the
 * client, so a forged Host header gets nowhere).
 */
function callbackUrl(request: Request): URL {
  const configured = env("OIDC_REDIRECT_URL");
  if (configured !== undefined) return new URL(configured);
  const url = new URL(request.url);
  const host = request.headers.get("x-forwarded-host") ?? request.headers.get("host") ?? url.host;
  const proto = request.headers.get("x-forwarded-proto") ?? url.protocol.replace(":", "");
  return new URL(`${FLOW_PATH}/callback`, `${proto}://${host}`);
}

/** The options of the UI's session cookie, at `path`, `Secure` when the browser comes over https. */
function options(request: Request, path: string, maxAge: number) {
  return { ...COOKIE, path, maxAge, secure: callbackUrl(request).protocol === "https:" };
}

/** A redirect: to the issuer (absolute), or within the UI (a path the browser resolves). */
function redirect(to: URL | string): Response {
  return new Response(null, {
    status: 303,
    headers: { location: to.toString(), "cache-control": "no-store" },
  });
}

async function failed(request: Request, why: Failure, detail?: unknown): Promise<Response> {
  if (detail !== undefined) {
    const name = detail instanceof Error ? detail.name : typeof detail;
    const code = (detail as { code?: unknown } | null)?.code;
    console.warn(
      JSON.stringify({ level: "warn", msg: "oidc sign-in failed", why, error: name, code }),
    );
  }
  (await cookies()).delete({ name: FLOW_COOKIE, path: FLOW_PATH });
  return redirect(`/admin/sign-in?error=${why}`);
}

/** GET /plugins/oidc/sign-in: off to the issuer. */
export async function start(request: Request): Promise<Response> {
  const deployed = deployment();
  if (deployed === null) {
    return failed(
      request,
      "unconfigured",
      new Error("OIDC_ISSUER, OIDC_CLIENT_ID and JWT_SECRET are needed"),
    );
  }
  let config: client.Configuration;
  try {
    config = await configuration(deployed.issuer, deployed.clientId);
  } catch (e) {
    return failed(request, "refused", e);
  }
  const verifier = client.randomPKCECodeVerifier();
  const state = client.randomState();
  const nonce = client.randomNonce();
  const url = client.buildAuthorizationUrl(config, {
    redirect_uri: callbackUrl(request).toString(),
    scope: SETTINGS.scopes.join(" "),
    code_challenge: await client.calculatePKCECodeChallenge(verifier),
    code_challenge_method: "S256",
    state,
    nonce,
  });
  const flow = await new SignJWT({ verifier, state, nonce })
    .setProtectedHeader({ alg: "HS256" })
    .setExpirationTime(`${FLOW_SECONDS}s`)
    .sign(flowKey(deployed.key));
  (await cookies()).set(FLOW_COOKIE, flow, options(request, FLOW_PATH, FLOW_SECONDS));
  return redirect(url);
}

/** The principal of [auth.claims] from the ID token's claims, or null when they do not fit. */
export function principalOf(claims: Record<string, unknown>): Record<string, unknown> | null {
  const mapped: Record<string, unknown> = {};
  for (const [name, from] of Object.entries(SETTINGS.claims)) {
    const value = claims[from] ?? (name === "id" ? claims.sub : undefined);
    if (value !== undefined) mapped[name] = value;
  }
  const parsed = PrincipalSchema.safeParse(mapped);
  return parsed.success ? (parsed.data as Record<string, unknown>) : null;
}

/** GET /plugins/oidc/callback: the code for tokens, the ID token for a session. */
export async function finish(request: Request): Promise<Response> {
  const deployed = deployment();
  if (deployed === null) return failed(request, "unconfigured");
  const jar = await cookies();
  const raw = jar.get(FLOW_COOKIE)?.value;
  if (raw === undefined) return failed(request, "expired");
  let flow: { verifier: string; state: string; nonce: string };
  try {
    const { payload } = await jwtVerify(raw, flowKey(deployed.key), { algorithms: ["HS256"] });
    flow = payload as unknown as typeof flow;
  } catch {
    return failed(request, "expired");
  }
  let claims: Record<string, unknown>;
  try {
    const config = await configuration(deployed.issuer, deployed.clientId);
    const current = callbackUrl(request);
    current.search = new URL(request.url).search;
    const tokens = await client.authorizationCodeGrant(config, current, {
      pkceCodeVerifier: flow.verifier,
      expectedState: flow.state,
      expectedNonce: flow.nonce,
      idTokenExpected: true,
    });
    claims = { ...(tokens.claims() ?? {}) };
    // Providers that follow OpenID Connect strictly put the scopes' claims in UserInfo only: ask
    // it for those the ID token lacks (the same subject, checked); the ID token's win.
    const lacking = Object.entries(SETTINGS.claims).some(
      ([name, from]) => claims[from] === undefined && !(name === "id" && claims.sub !== undefined),
    );
    if (lacking && config.serverMetadata().userinfo_endpoint !== undefined) {
      const info = await client.fetchUserInfo(config, tokens.access_token, String(claims.sub));
      claims = { ...info, ...claims };
    }
  } catch (e) {
    return failed(request, "refused", e);
  }
  const principal = principalOf(claims);
  if (principal === null)
    return failed(
      request,
      "claims",
      new Error("the ID token and UserInfo lack the claims [auth.claims] declares"),
    );
  const jwtIssuer = env("JWT_ISSUER");
  const jwtAudience = env("JWT_AUDIENCE");
  let session = new SignJWT(principal)
    .setProtectedHeader({ alg: "HS256" })
    .setIssuedAt()
    .setExpirationTime(`${SETTINGS.sessionMinutes}m`);
  if (jwtIssuer !== undefined) session = session.setIssuer(jwtIssuer);
  if (jwtAudience !== undefined) session = session.setAudience(jwtAudience);
  const token = await session.sign(deployed.key);
  jar.delete({ name: FLOW_COOKIE, path: FLOW_PATH });
  jar.delete(API_KEY_COOKIE);
  jar.set(TOKEN_COOKIE, token, options(request, "/", SETTINGS.sessionMinutes * 60));
  return redirect("/admin");
}
