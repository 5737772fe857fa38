// @vitest-environment jsdom
// The plugins' React hooks in a jsdom React tree against the running blog server (API_URL, with
// the storage plugin's bucket and the payments plugin's Stripe stand-in — see
// plugins.e2e.test.ts): useUploadPostCover, usePostCoverUrl, useStartCheckout and the AI
// plugin's usePostSummary. server.sh
// copies this file into a generated blog tree's tests/ and runs it with the tree's vitest, so it
// is type-checked against the generated code.

import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { act, renderHook, waitFor } from "@testing-library/react";
import { createHmac } from "node:crypto";
import { createServer } from "node:http";
import { createElement } from "react";
import type { ReactNode } from "react";
import { afterAll, expect, it } from "vitest";

import {
  SsotProvider,
  usePost,
  usePostCoverUrl,
  usePostSummary,
  useStartCheckout,
  useUploadPostCover,
} from "../src/hooks/index.js";
import { createHttpClient } from "../src/sdk/index.js";

// jsdom replaces FormData and Blob with its own, which Node's fetch does not send as a form (a
// browser's fetch and FormData belong together): the test puts Node's back.
const nodeForm = await new Response(new URLSearchParams("a=b")).formData();
globalThis.FormData = nodeForm.constructor as typeof FormData;
globalThis.Blob = (await import("node:buffer")).Blob as unknown as typeof Blob;

const API = process.env.API_URL ?? "http://127.0.0.1:3000";
const SECRET = process.env.JWT_SECRET ?? "";
const run = Date.now().toString(36);

// HS256 by hand: in jsdom, jose loads its browser build, which refuses Node's key objects.
const b64 = (v: object) => Buffer.from(JSON.stringify(v)).toString("base64url");
function token(claims: object): string {
  const exp = Math.floor(Date.now() / 1000) + 600;
  const unsigned = `${b64({ alg: "HS256", typ: "JWT" })}.${b64({ ...claims, exp })}`;
  return `${unsigned}.${createHmac("sha256", SECRET).update(unsigned).digest("base64url")}`;
}

async function http(method: string, path: string, tok: string, body?: unknown): Promise<Record<string, unknown>> {
  const res = await fetch(API + path, {
    method,
    headers: { authorization: `Bearer ${tok}`, "content-type": "application/json" },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  expect(res.ok, `${method} ${path}: ${res.status}`).toBe(true);
  const text = await res.text();
  return text === "" ? {} : (JSON.parse(text) as Record<string, unknown>);
}

// A stand-in of Stripe's API for the checkout (as in plugins.e2e.test.ts): answers
// `POST /v1/checkout/sessions` with a `checkout.session` object.
const stripe = createServer((req, res) => {
  req.resume();
  req.on("end", () => {
    res.setHeader("content-type", "application/json");
    res.end(JSON.stringify({ id: `cs_test_hooks_${run}`, object: "checkout.session", url: `https://checkout.test/${run}` }));
  });
});
await new Promise<void>((resolve) => stripe.listen(Number(process.env.STRIPE_PORT), "127.0.0.1", resolve));
afterAll(() => new Promise<void>((resolve) => stripe.close(() => resolve())));

// A stand-in of an OpenAI-compatible API (as in plugins.e2e.test.ts): answers
// `POST /v1/chat/completions` with a `chat.completion` that repeats the last message.
const ai = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on("data", (c: Buffer) => chunks.push(c));
  req.on("end", () => {
    const { messages } = JSON.parse(Buffer.concat(chunks).toString()) as { messages: { content: string }[] };
    res.setHeader("content-type", "application/json");
    const content = `re: ${messages.at(-1)?.content ?? ""}`;
    res.end(JSON.stringify({ id: "chatcmpl-hooks", object: "chat.completion", created: 0, model: "m", choices: [{ index: 0, message: { role: "assistant", content }, finish_reason: "stop" }] }));
  });
});
await new Promise<void>((resolve) => ai.listen(Number(process.env.AI_PORT), "127.0.0.1", resolve));
afterAll(() => new Promise<void>((resolve) => ai.close(() => resolve())));

it("uploads a cover, refetches the post, signs its download, and starts a checkout", async () => {
  const admin = token({ id: 5_000_000, role: "ADMIN" });
  const me = (await http("POST", "/api/users", admin, { email: `plugin-hooks-${run}@example.com`, passwordHash: "x" })) as { id: number };
  const mine = token({ id: me.id, role: "USER" });
  const post = (await http("POST", "/api/posts", mine, { title: "Hooked cover", slug: `hooked-cover-${run}`, authorId: me.id })) as { id: number };

  const client = createHttpClient({ baseUrl: API, token: () => mine });
  const queryClient = new QueryClient({ defaultOptions: { queries: { retry: false } } });
  const wrapper = ({ children }: { children?: ReactNode }) =>
    createElement(QueryClientProvider, { client: queryClient }, createElement(SsotProvider, { client, children }));

  const { result } = renderHook(
    () => ({ post: usePost(post.id), upload: useUploadPostCover(), checkout: useStartCheckout(), summary: usePostSummary() }),
    { wrapper },
  );
  await waitFor(() => expect(result.current.post.data?.cover).toBeNull());

  const bytes = Buffer.from(`png of ${run}`);
  await act(async () => {
    await result.current.upload.mutateAsync({ id: post.id, file: new Blob([bytes], { type: "image/png" }) });
  });
  // The mutation invalidated the post's queries: the refetched row has the key.
  await waitFor(() => expect(result.current.post.data?.cover).toMatch(new RegExp(`^posts/${post.id}/cover/`)));

  const url = renderHook(() => usePostCoverUrl(post.id), { wrapper });
  await waitFor(() => expect(url.result.current.data?.url).toBeTruthy());
  const file = await fetch(url.result.current.data?.url ?? "");
  expect(Buffer.from(await file.arrayBuffer()).toString()).toBe(bytes.toString());

  // A refused file surfaces as the mutation's error.
  await act(async () => {
    await result.current.upload.mutateAsync({ id: post.id, file: new Blob(["<p>"], { type: "text/html" }) }).catch(() => undefined);
  });
  await waitFor(() => expect(result.current.upload.error?.name).toBe("ApiError"));

  let session: { id: string; url: string | null } | undefined;
  await act(async () => {
    session = await result.current.checkout.mutateAsync({ price: "price_supporter_yearly" });
  });
  expect(session?.url).toBe(`https://checkout.test/${run}`);

  await act(async () => {
    await result.current.summary.mutateAsync({ id: post.id, input: "In one line." });
  });
  await waitFor(() => expect(result.current.summary.data?.text).toBe("re: In one line."));
  console.log("plugin hooks: upload, refetch, signed download, refused file, checkout and AI summary through TanStack Query");
});
