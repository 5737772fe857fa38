"use server";

// Sign-in and sign-out: the credentials live in an HTTP-only cookie of the UI's origin.
import { cookies, headers } from "next/headers.js";
import { redirect } from "next/navigation.js";
import { API_KEY_COOKIE, COOKIE, TOKEN_COOKIE } from "./session.js";

/** The browser came over https: directly (its `Origin`), or through a proxy that says so. */
async function overHttps(): Promise<boolean> {
  const h = await headers();
  return h.get("x-forwarded-proto") === "https" || (h.get("origin") ?? "").startsWith("https://");
}

export async function signIn(form: FormData): Promise<void> {
  const kind = form.get("kind") === "apiKey" ? "apiKey" : "token";
  const value = String(form.get("credential") ?? "").trim();
  const jar = await cookies();
  jar.delete(TOKEN_COOKIE);
  jar.delete(API_KEY_COOKIE);
  if (value !== "") {
    const name = kind === "apiKey" ? API_KEY_COOKIE : TOKEN_COOKIE;
    jar.set(name, value, { ...COOKIE, secure: await overHttps() });
  }
  redirect("/admin");
}

export async function signOut(): Promise<void> {
  const jar = await cookies();
  jar.delete(TOKEN_COOKIE);
  jar.delete(API_KEY_COOKIE);
  redirect("/admin/sign-in");
}
