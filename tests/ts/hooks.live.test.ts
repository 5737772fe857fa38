// @vitest-environment jsdom
// The generated TanStack Query hooks in a jsdom React tree against the running blog server
// (API_URL): queries, invalidation after mutations, and live cache updates from the realtime
// gateway for writes made elsewhere. server.sh copies this file into a generated blog tree's
// tests/ and runs it with the tree's vitest, so it is type-checked against the generated code.

import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { act, renderHook, waitFor } from "@testing-library/react";
import { createHmac } from "node:crypto";
import { createElement } from "react";
import type { ReactNode } from "react";
import { afterAll, expect, it } from "vitest";
import { WebSocket } from "ws";

import {
  SsotProvider,
  postKeys,
  useCreatePost,
  usePostList,
  usePostSubscription,
} from "../src/hooks/index.js";
import { createHybridClient } from "../src/sdk/index.js";

const API = process.env.API_URL ?? "http://127.0.0.1:3000";
const SECRET = process.env.JWT_SECRET ?? "";
const run = Date.now().toString(36);

// HS256 by hand: in jsdom, jose loads its browser build, which refuses Node's key objects.
const b64 = (v: object) => Buffer.from(JSON.stringify(v)).toString("base64url");
async function token(claims: object): Promise<string> {
  const exp = Math.floor(Date.now() / 1000) + 600;
  const unsigned = `${b64({ alg: "HS256", typ: "JWT" })}.${b64({ ...claims, exp })}`;
  return `${unsigned}.${createHmac("sha256", SECRET).update(unsigned).digest("base64url")}`;
}

async function http(
  method: string,
  path: string,
  tok: string,
  body?: unknown,
): Promise<Record<string, unknown>> {
  const res = await fetch(API + path, {
    method,
    headers: { authorization: `Bearer ${tok}`, "content-type": "application/json" },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  expect(res.ok, `${method} ${path}: ${res.status}`).toBe(true);
  const text = await res.text();
  return text === "" ? {} : (JSON.parse(text) as Record<string, unknown>);
}

const closers: (() => void)[] = [];
afterAll(() => closers.forEach((c) => c()));

it("queries, invalidates after mutations and applies realtime events to the cache", async () => {
  const admin = await token({ id: 4_000_000, role: "ADMIN" });
  const me = (await http("POST", "/api/users", admin, {
    email: `hooks-${run}@example.com`,
    passwordHash: "x",
  })) as { id: number };
  const mine = await token({ id: me.id, role: "USER" });
  const client = createHybridClient({
    baseUrl: API,
    token: () => mine,
    realtime: { url: `${API.replace(/^http/, "ws")}/ws`, WebSocket },
  });
  closers.push(() => client.realtime.close());
  const qc = new QueryClient({ defaultOptions: { queries: { retry: false } } });
  const wrapper = ({ children }: { children: ReactNode }) =>
    createElement(
      QueryClientProvider,
      { client: qc },
      createElement(SsotProvider, { client }, children),
    );
  const params = { where: { authorId: { equals: me.id } } };
  expect(postKeys.list(params)).toEqual(postKeys.list({ ...params }));

  const { result, unmount } = renderHook(
    () => {
      usePostSubscription({ authorId: { equals: me.id } });
      return { list: usePostList(params), create: useCreatePost() };
    },
    { wrapper },
  );
  await waitFor(() => expect(result.current.list.isSuccess).toBe(true));
  expect(result.current.list.data?.data).toEqual([]);

  // A mutation through the hooks invalidates the list, which refetches.
  let created: { id: number } | undefined;
  await act(async () => {
    created = await result.current.create.mutateAsync({
      title: "Hooked",
      slug: `hooks-${run}`,
      authorId: me.id,
    });
  });
  await waitFor(() =>
    expect(result.current.list.data?.data.map((p) => p.id)).toEqual([created?.id]),
  );
  await waitFor(() => expect(client.realtime.connected).toBe(true));
  await new Promise((r) => setTimeout(r, 300));

  // A write elsewhere (plain HTTP, no invalidation) reaches the cache through the gateway.
  const fetches =
    qc.getQueryCache().find({ queryKey: postKeys.list(params) })?.state.dataUpdateCount ?? 0;
  await http("PATCH", `/api/posts/${created?.id}`, mine, { title: "Changed elsewhere" });
  await waitFor(() => expect(result.current.list.data?.data[0]?.title).toBe("Changed elsewhere"));
  const after =
    qc.getQueryCache().find({ queryKey: postKeys.list(params) })?.state.dataUpdateCount ?? 0;
  expect(after).toBe(fetches + 1);

  await http("DELETE", `/api/posts/${created?.id}`, mine);
  await waitFor(() => expect(result.current.list.data?.data).toEqual([]));

  // Unmount while jsdom is still there: React work scheduled by a late event or refetch would
  // otherwise run after the environment is torn down ("window is not defined", seen in CI).
  client.realtime.close();
  unmount();
  qc.clear();
  await new Promise((r) => setTimeout(r, 50));
});
