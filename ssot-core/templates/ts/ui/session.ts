// The principal of a request to the UI: a JWT or an API key from a cookie, set by the sign-in
// page. Only server components read it; they hand it to the browser's SDK client.
import { cookies } from "next/headers.js";
import type { Credentials } from "./meta.js";

export const TOKEN_COOKIE = "ssot_token";
export const API_KEY_COOKIE = "ssot_api_key";
/** The credentials' cookies: HTTP-only, sent on the UI's own navigations. */
export const COOKIE = { httpOnly: true, sameSite: "lax", path: "/" } as const;

export async function credentials(): Promise<Credentials> {
  const jar = await cookies();
  return {
    token: jar.get(TOKEN_COOKIE)?.value || undefined,
    apiKey: jar.get(API_KEY_COOKIE)?.value || undefined,
  };
}

/** Where the server components reach the API. */
export function serverApiUrl(): string {
  return process.env.API_URL ?? process.env.NEXT_PUBLIC_API_URL ?? "http://127.0.0.1:3000";
}

/** Where the browser reaches the API. */
export function browserApiUrl(): string {
  return process.env.NEXT_PUBLIC_API_URL ?? serverApiUrl();
}

/** Who is signed in, for display only: the API checks the credentials on every request. */
export function principalLabel(c: Credentials): string | null {
  if (c.apiKey !== undefined) return "API key";
  if (c.token === undefined) return null;
  try {
    const payload = c.token.split(".")[1] ?? "";
    const claims = JSON.parse(Buffer.from(payload, "base64url").toString("utf8")) as unknown;
    if (typeof claims !== "object" || claims === null) return "signed in";
    const { sub, id, role } = claims as { sub?: unknown; id?: unknown; role?: unknown };
    const subject = sub ?? id;
    const who = subject === undefined ? "signed in" : `#${String(subject)}`;
    return role === undefined ? who : `${who} (${String(role)})`;
  } catch {
    return "signed in";
  }
}
