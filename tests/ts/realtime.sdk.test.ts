// The generated SDK's realtime side (TREE's src/sdk) against the running blog server (API_URL):
// `createHybridClient` does calls over HTTP and subscriptions over the WebSocket gateway; the
// transport reconnects after the server closes the socket (an expired token), asks `token()` for
// a fresh one, and subscribes again.

import assert from "node:assert/strict";
import { join } from "node:path";
import { spawn } from "node:child_process";
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

  it("close() while events flow leaves nothing running: a Node script that used it exits", async () => {
    // A script of its own (a Node process exits when nothing is left to do): it subscribes, has
    // its own writes stream in, closes in the middle of them and counts what arrives after.
    const script = `
      import { pathToFileURL } from "node:url";
      import { WebSocket } from "ws";
      const sdk = await import(pathToFileURL(process.env.SDK).href);
      const client = sdk.createHybridClient({
        baseUrl: process.env.API_URL,
        token: () => process.env.TOKEN,
        realtime: { url: process.env.API_URL.replace(/^http/, "ws") + "/ws", WebSocket },
      });
      let events = 0;
      let closed = false;
      let late = 0;
      client.subscribe("post", () => { events++; if (closed) late++; });
      while (!client.realtime.connected) await new Promise((r) => setTimeout(r, 20));
      await new Promise((r) => setTimeout(r, 200));
      const writes = Array.from({ length: 40 }, (_, i) =>
        client.post.create({ title: "Closing " + i, slug: "closing-${run}-" + i, authorId: Number(process.env.AUTHOR) }));
      while (events < 5) await new Promise((r) => setTimeout(r, 5));
      client.realtime.close();
      closed = true;
      await Promise.all(writes);
      await new Promise((r) => setTimeout(r, 300));
      console.log(JSON.stringify({ events, late }));
    `;
    const admin = await token({ id: 3_000_001, role: "ADMIN" });
    const sdk = (await import(pathToFileURL(join(TREE, "src/sdk/index.ts")).href)) as Sdk;
    const adminClient = sdk.createHybridClient({ baseUrl: API, token: () => admin, realtime: { url: `${API.replace(/^http/, "ws")}/ws`, WebSocket } });
    const me = await adminClient.user.create({ email: `closing-${run}@example.com`, passwordHash: "x" });
    adminClient.realtime.close();
    const mine = await token({ id: me.id, role: "USER" });
    const started = Date.now();
    const child = spawn(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script], {
      env: { ...process.env, SDK: join(TREE, "src/sdk/index.ts"), API_URL: API, TOKEN: mine, AUTHOR: String(me.id) },
      stdio: ["ignore", "pipe", "inherit"],
    });
    let out = "";
    child.stdout.on("data", (c: Buffer) => (out += c.toString()));
    const code = await new Promise<number | null>((resolve) => {
      const kill = setTimeout(() => child.kill("SIGKILL"), 20_000);
      child.on("exit", (c) => {
        clearTimeout(kill);
        resolve(c);
      });
    });
    const seconds = (Date.now() - started) / 1000;
    assert.notEqual(code, null, `the script did not exit by itself within 20 s: ${out}`);
    assert.equal(code, 0, `the script failed: ${out}`);
    const { events, late } = JSON.parse(out.trim().split("\n").at(-1) ?? "{}") as { events: number; late: number };
    assert.ok(events >= 5, `${events} events`);
    assert.equal(late, 0, "events were handed on after close()");
    assert.ok(seconds < 10, `the script took ${seconds} s to exit after close()`);
  });
});
