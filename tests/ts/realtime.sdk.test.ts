// The generated SDK's realtime side (TREE's src/sdk) against the running blog server (API_URL):
// `createHybridClient` does calls over HTTP and subscriptions over the WebSocket gateway; the
// transport reconnects after the server closes the socket (an expired token), asks `token()` for
// a fresh one, and subscribes again.

import assert from "node:assert/strict";
import { join } from "node:path";
import { describe, it } from "node:test";
import { pathToFileURL } from "node:url";
import { SignJWT } from "jose";
import { WebSocket } from "ws";

const API = process.env.API_URL ?? "http://127.0.0.1:3000";
const TREE = process.env.TREE ?? "";
const SECRET = new TextEncoder().encode(process.env.JWT_SECRET ?? "");
const run = Date.now().toString(36);

interface Event {
  event: string;
  data: { id: number; title?: string };
  seq: number;
}
interface Hybrid {
  realtime: { connected: boolean; close(): void };
  subscribe(channel: string, handler: (e: Event) => void, filter?: object, onResync?: () => void): () => void;
  post: { create(input: object): Promise<{ id: number }>; update(id: number, input: object): Promise<unknown> };
  user: { create(input: object): Promise<{ id: number }> };
}
interface Sdk {
  createHybridClient(options: object): Hybrid;
}

async function token(claims: object, expires = "10m"): Promise<string> {
  return new SignJWT({ ...claims }).setProtectedHeader({ alg: "HS256" }).setExpirationTime(expires).sign(SECRET);
}

async function until(pred: () => boolean, ms = 8000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!pred()) {
    if (Date.now() > deadline) throw new Error("timed out");
    await new Promise((r) => setTimeout(r, 25));
  }
}

describe("HybridDataClient", () => {
  it("imports the SDK and the hooks without a window (server-side rendering)", async () => {
    assert.equal(typeof (globalThis as { window?: unknown }).window, "undefined");
    const hooks = (await import(pathToFileURL(join(TREE, "src/hooks/index.ts")).href)) as object;
    assert.ok("SsotProvider" in hooks && "usePostSubscription" in hooks);
  });

  it("creates over HTTP, receives over WebSocket, reconnects with a fresh token and resubscribes", async () => {
    const sdk = (await import(pathToFileURL(join(TREE, "src/sdk/index.ts")).href)) as Sdk;
    const adminClient = sdk.createHybridClient({
      baseUrl: API,
      token: () => token({ id: 3_000_000, role: "ADMIN" }),
      realtime: { url: `${API.replace(/^http/, "ws")}/ws`, WebSocket },
    });
    const me = await adminClient.user.create({ email: `sdk-${run}@example.com`, passwordHash: "x" });
    let tokens = 0;
    const client = sdk.createHybridClient({
      baseUrl: API,
      // The first token expires in 2 s; the server closes the socket (4001) and the transport
      // asks for another one.
      token: () => token({ id: me.id, role: "USER" }, tokens++ === 0 ? "2s" : "10m"),
      realtime: { url: `${API.replace(/^http/, "ws")}/ws`, WebSocket, initialDelayMs: 50 },
    });
    const events: Event[] = [];
    let resyncs = 0;
    const stop = client.subscribe("post", (e) => events.push(e), { authorId: { equals: me.id } }, () => resyncs++);
    await until(() => client.realtime.connected);
    await new Promise((r) => setTimeout(r, 200));
    const post = await client.post.create({ title: "From the SDK", slug: `sdk-${run}`, authorId: me.id });
    await until(() => events.some((e) => e.data.id === post.id && e.event === "created"));
    assert.equal(resyncs, 0, "no resync on the first connect");

    const before = tokens;
    await until(() => tokens > before, 6000); // the 2 s token expired and a new one was fetched
    await until(() => client.realtime.connected);
    // Subscribed again: the caller is told to refetch what it may have missed, once.
    await until(() => resyncs === 1);
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(resyncs, 1);
    await client.post.update(post.id, { title: "After reconnecting" });
    await until(() => events.some((e) => e.event === "updated" && e.data.title === "After reconnecting"));

    stop();
    await new Promise((r) => setTimeout(r, 200));
    const count = events.length;
    await client.post.update(post.id, { title: "Unheard" });
    await new Promise((r) => setTimeout(r, 400));
    assert.equal(events.length, count, "no events after unsubscribing");
    const seqs = events.map((e) => e.seq);
    assert.equal(new Set(events.map((e) => `${e.event}:${e.data.id}:${e.data.title ?? ""}`)).size, events.length, `an event twice: ${seqs}`);
    client.realtime.close();
    adminClient.realtime.close();
  });
});
