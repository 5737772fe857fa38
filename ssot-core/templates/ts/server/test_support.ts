// Helpers of the generated tests: an in-process server on a free port and `fetch` calls with a
// signed test token. With API_URL, the tests call a server already running there instead (the
// Rust server of the same schema, say), started with the same JWT_SECRET, RATE_LIMIT=0 and
// API_KEYS={"ssot-generated-tests-api-key": <the test claims>}.

import { randomBytes, randomUUID } from "node:crypto";
import { SignJWT } from "jose";
import { start } from "../src/server/start.js";
import type { Started } from "../src/server/start.js";
import { TEST_CLAIMS } from "./claims.js";

const secret = process.env.JWT_SECRET ?? "ssot-generated-tests-secret-0123456789";
const API_KEY = "ssot-generated-tests-api-key";
const external = process.env.API_URL ?? "";
let server: Pick<Started, "url" | "close"> | null = null;

export async function startTestServer(): Promise<void> {
  if (external !== "") {
    server = { url: external.replace(/\/$/, ""), close: async () => {} };
    return;
  }
  server = await start({
    port: 0,
    jwtSecret: secret,
    apiKeys: JSON.stringify({ [API_KEY]: testClaims() }),
    logLevel: "silent",
    rateLimit: 0,
  });
}

export async function stopTestServer(): Promise<void> {
  await server?.close();
  server = null;
}

/** A token for `claims` (default: TEST_CLAIMS, or the JSON in TEST_CLAIMS). */
export async function token(claims: Record<string, unknown> = testClaims()): Promise<string> {
  return new SignJWT(claims)
    .setProtectedHeader({ alg: "HS256" })
    .setExpirationTime("10m")
    .sign(new TextEncoder().encode(secret));
}

function testClaims(): Record<string, unknown> {
  const env = process.env.TEST_CLAIMS;
  return env === undefined || env === ""
    ? TEST_CLAIMS
    : (JSON.parse(env) as Record<string, unknown>);
}

export interface Res {
  status: number;
  headers: Headers;
  body: unknown;
}

export type Credentials = { bearer: string } | { apiKey: string } | null;

export async function call(
  method: string,
  path: string,
  body?: unknown,
  credentials: Credentials = null,
): Promise<Res> {
  if (server === null) throw new Error("call startTestServer() first");
  const headers: Record<string, string> = {};
  if (credentials !== null && "bearer" in credentials) {
    headers.authorization = `Bearer ${credentials.bearer}`;
  }
  if (credentials !== null && "apiKey" in credentials) headers["x-api-key"] = credentials.apiKey;
  if (body !== undefined) headers["content-type"] = "application/json";
  const res = await fetch(server.url + path, {
    method,
    headers,
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const text = await res.text();
  return {
    status: res.status,
    headers: res.headers,
    body: text === "" ? undefined : (JSON.parse(text) as unknown),
  };
}

/** A call as the test principal, with a bearer token (default) or the test API key. */
export async function api(
  method: string,
  path: string,
  body?: unknown,
  via: "jwt" | "apiKey" = "jwt",
): Promise<Res> {
  return call(method, path, body, via === "jwt" ? { bearer: await token() } : { apiKey: API_KEY });
}

/** A create call as the test principal (the body last, for parents of the rows under test). */
export async function createAs(via: "jwt" | "apiKey", path: string, body: unknown): Promise<Res> {
  return api("POST", path, body, via);
}

/** A call without credentials. */
export async function anonymous(method: string, path: string, body?: unknown): Promise<Res> {
  return call(method, path, body);
}

let counter = 0;

/** A string no other call of this test run returns. */
export function unique(): string {
  counter++;
  return `t${Date.now().toString(36)}${counter.toString(36)}`;
}

/** A unique string of `min` to `max` characters (as unique as `max` allows). */
export function text(min: number, max: number): string {
  return unique().padEnd(min, "x").slice(0, Math.max(min, max));
}

/** A random integer in [min, max]. */
export function int(min: number, max: number): number {
  return min + Math.floor(Math.random() * (max - min + 1));
}

export function uuid(): string {
  return randomUUID();
}

/** Eight random bytes, base64 (a `Bytes` value no other row has). */
export function bytes(): string {
  return randomBytes(8).toString("base64");
}

/** A decimal string that fits any precision with at least one integer digit. */
export function decimal(): string {
  return String(int(1, 9));
}
