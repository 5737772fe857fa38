// The realtime gateway of the generated blog server (API_URL, started by server.sh with
// CORS_ORIGINS=http://app.test, WS_HEARTBEAT_MS=1000, WS_MAX_BUFFER_BYTES=4096) over real sockets:
// protocol, auth at connect and by message, the cross-tenant matrix for events, rows that stop
// being readable arriving as `deleted`, limits (1009, 1013, subscriptions), heartbeats and
// token expiry. With API_URL_2 (a second instance on the same Redis), fan-out across instances.

import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { SignJWT } from "jose";
import { WebSocket } from "ws";

const API = process.env.API_URL ?? "http://127.0.0.1:3000";
const API_2 = process.env.API_URL_2;
const SECRET = new TextEncoder().encode(process.env.JWT_SECRET ?? "");
const run = Date.now().toString(36);

type Json = Record<string, unknown>;

async function token(claims: Json, expires = "10m"): Promise<string> {
  return new SignJWT(claims).setProtectedHeader({ alg: "HS256" }).setExpirationTime(expires).sign(SECRET);
}

async function http(method: string, path: string, tok: string, body?: unknown): Promise<Json> {
  const res = await fetch(API + path, {
    method,
    headers: { authorization: `Bearer ${tok}`, "content-type": "application/json" },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const text = await res.text();
  assert.ok(res.ok, `${method} ${path}: ${res.status} ${text}`);
  return text === "" ? {} : (JSON.parse(text) as Json);
}

/** A test client: every message it receives, and helpers to wait for them. */
class Client {
  readonly messages: Json[] = [];
  private waiters: (() => void)[] = [];
  closed: { code: number; reason: string } | null = null;
  answerPings = true;

  constructor(readonly ws: WebSocket) {
    ws.on("message", (data) => {
      const msg = JSON.parse(data.toString()) as Json;
      if (msg.type === "ping" && this.answerPings) ws.send(JSON.stringify({ type: "pong" }));
      this.messages.push(msg);
      this.wake();
    });
    ws.on("close", (code, reason) => {
      this.closed = { code, reason: reason.toString() };
      this.wake();
    });
  }

  private wake(): void {
    for (const w of this.waiters.splice(0)) w();
  }

  static async open(opts: { token?: string; origin?: string; base?: string } = {}): Promise<Client> {
    const url = (opts.base ?? API).replace(/^http/, "ws") + "/ws";
    const ws = new WebSocket(url, opts.token !== undefined ? ["bearer", opts.token] : [], {
      headers: opts.origin !== undefined ? { origin: opts.origin } : {},
    });
    const c = new Client(ws);
    await new Promise<void>((resolve, reject) => {
      ws.once("open", () => resolve());
      ws.once("unexpected-response", (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
      ws.once("error", reject);
    });
    return c;
  }

  send(msg: Json): void {
    this.ws.send(JSON.stringify(msg));
  }

  async until(pred: (m: Json) => boolean, ms = 3000): Promise<Json> {
    const deadline = Date.now() + ms;
    for (;;) {
      const found = this.messages.find(pred);
      if (found !== undefined) return found;
      if (Date.now() > deadline || this.closed !== null) throw new Error(`no such message; got ${JSON.stringify(this.messages)}`);
      await new Promise<void>((r) => {
        this.waiters.push(r);
        setTimeout(r, 50);
      });
    }
  }

  async subscribe(id: string, channel: string, filter?: Json): Promise<void> {
    this.send({ type: "subscribe", id, channel, ...(filter !== undefined ? { filter } : {}) });
    await this.until((m) => (m.type === "subscribed" || m.type === "error") && m.id === id);
    const error = this.messages.find((m) => m.type === "error" && m.id === id);
    if (error !== undefined) throw new Error(`subscribe ${id}: ${JSON.stringify(error)}`);
  }

  events(sub: string): Json[] {
    return this.messages.filter((m) => m.type === "event" && m.id === sub);
  }

  async closedWith(ms = 3000): Promise<number> {
    const deadline = Date.now() + ms;
    while (this.closed === null && Date.now() < deadline) await new Promise((r) => setTimeout(r, 25));
    return this.closed?.code ?? -1;
  }
}

/** Waits a little so events that should not come would have arrived. */
const settle = () => new Promise((r) => setTimeout(r, 300));

let admin: string;
let alice: { id: number; token: string };
let bob: { id: number; token: string };
let editor: { id: number; token: string };
const clients: Client[] = [];

async function user(name: string, role: string): Promise<{ id: number; token: string }> {
  const u = await http("POST", "/api/users", admin, { email: `${name}-rt-${run}@example.com`, name, role, passwordHash: "x" });
  return { id: u.id as number, token: await token({ id: u.id, role }) };
}

async function client(opts: { token?: string; origin?: string; base?: string } = {}): Promise<Client> {
  const c = await Client.open(opts);
  clients.push(c);
  return c;
}

before(async () => {
  admin = await token({ id: 2_000_000, role: "ADMIN" });
  alice = await user("alice", "USER");
  bob = await user("bob", "USER");
  editor = await user("editor", "EDITOR");
});

after(() => {
  for (const c of clients) c.ws.terminate();
});

describe("connect and subscribe", () => {
  it("authenticates by subprotocol or first message, and refuses bad tokens and origins", async () => {
    const a = await client({ token: alice.token });
    assert.equal(a.ws.protocol, "bearer");
    await a.subscribe("s1", "post");
    const b = await client();
    b.send({ type: "auth", token: bob.token });
    await b.until((m) => m.type === "authenticated");
    await b.subscribe("s1", "post");
    await assert.rejects(Client.open({ token: "not-a-token" }), /HTTP 401/);
    await assert.rejects(Client.open({ token: alice.token, origin: "http://evil.test" }), /HTTP 403/);
    const ok = await client({ token: alice.token, origin: "http://app.test" });
    await ok.subscribe("s", "post");
  });

  it("answers protocol mistakes with errors", async () => {
    const anon = await client();
    anon.send({ type: "subscribe", id: "x", channel: "post" });
    assert.equal((await anon.until((m) => m.type === "error" && m.id === "x")).status, 401);
    const c = await client({ token: alice.token });
    c.send({ type: "subscribe", id: "a", channel: "nothing" });
    assert.equal((await c.until((m) => m.type === "error" && m.id === "a")).status, 404);
    c.send({ type: "subscribe", id: "b", channel: "post", filter: { reviewNote: { equals: "x" } } });
    assert.equal((await c.until((m) => m.type === "error" && m.id === "b")).status, 400, "masked fields cannot be filtered");
    c.ws.send("not json");
    assert.equal((await c.until((m) => m.type === "error" && m.id === undefined)).status, 400);
    await c.subscribe("dup", "post");
    c.send({ type: "subscribe", id: "dup", channel: "post" });
    assert.equal((await c.until((m) => m.type === "error" && m.id === "dup")).status, 409);
  });
});

describe("events under the read policy", () => {
  it("delivers each event only to those who may read the row, masked for each", async () => {
    const a = await client({ token: alice.token });
    const b = await client({ token: bob.token });
    const e = await client({ token: editor.token });
    for (const c of [a, b, e]) await c.subscribe("posts", "post");
    const draft = await http("POST", "/api/posts", alice.token, {
      title: "Realtime draft",
      slug: `rt-draft-${run}`,
      authorId: alice.id,
      reviewNote: "editors only",
    });
    const mine = await a.until((m) => m.type === "event" && (m.data as Json).id === draft.id);
    assert.equal(mine.event, "created");
    assert.equal(mine.channel, "post");
    assert.ok(!("reviewNote" in (mine.data as Json)), "the author is not an editor");
    const ed = await e.until((m) => m.type === "event" && (m.data as Json).id === draft.id);
    assert.equal((ed.data as Json).reviewNote, "editors only");
    await settle();
    assert.equal(b.events("posts").filter((m) => (m.data as Json).id === draft.id).length, 0, "bob may not read a draft");

    await http("PATCH", `/api/posts/${draft.id}`, alice.token, { published: true });
    const appeared = await b.until((m) => m.type === "event" && (m.data as Json).id === draft.id);
    assert.equal(appeared.event, "created", "a row that becomes readable arrives as created");
    assert.equal((await a.until((m) => m.event === "updated" && (m.data as Json).id === draft.id)).event, "updated");

    await http("PATCH", `/api/posts/${draft.id}`, alice.token, { published: false });
    const gone = await b.until((m) => m.event === "deleted" && (m.data as Json).id === draft.id);
    assert.deepEqual(gone.data, { id: draft.id }, "a row that stops being readable arrives as deleted, id only");

    await http("DELETE", `/api/posts/${draft.id}`, alice.token);
    await a.until((m) => m.event === "deleted" && (m.data as Json).id === draft.id);
    const seqs = a.events("posts").map((m) => m.seq as number);
    assert.deepEqual(seqs, [...seqs].sort((x, y) => x - y), "seq increases");
    for (const m of [...a.messages, ...b.messages, ...e.messages]) {
      assert.ok(!JSON.stringify(m).includes("passwordHash"));
    }
  });

  it("applies subscription filters, also to rows that stop matching, and unsubscribes", async () => {
    const b = await client({ token: bob.token });
    await b.subscribe("mine", "post", { authorId: { equals: bob.id } });
    const other = await http("POST", "/api/posts", alice.token, { title: "Alice public", slug: `rt-a-${run}`, published: true, authorId: alice.id });
    const own = await http("POST", "/api/posts", bob.token, { title: "Bob public", slug: `rt-b-${run}`, published: true, authorId: bob.id });
    await b.until((m) => m.type === "event" && (m.data as Json).id === own.id);
    await settle();
    assert.ok(!b.events("mine").some((m) => (m.data as Json).id === other.id));
    b.send({ type: "unsubscribe", id: "mine" });
    await b.until((m) => m.type === "unsubscribed");
    await http("PATCH", `/api/posts/${own.id}`, bob.token, { title: "Bob public again" });
    await settle();
    assert.equal(b.events("mine").length, 1);
  });

  it("hides comments on unreadable posts (a read rule through a relation)", async () => {
    const draft = await http("POST", "/api/posts", alice.token, { title: "Quiet draft", slug: `rt-q-${run}`, authorId: alice.id });
    const b = await client({ token: bob.token });
    const a = await client({ token: alice.token });
    await b.subscribe("c", "comment");
    await a.subscribe("c", "comment");
    const c = await http("POST", "/api/comments", alice.token, { body: "note to self", postId: draft.id, authorId: alice.id });
    await a.until((m) => m.type === "event" && (m.data as Json).id === c.id);
    await settle();
    assert.equal(b.events("c").length, 0, "post.published is false and bob is not the author");
  });
});

describe("limits and liveness", () => {
  it("closes sockets that send messages over the size limit with 1009", async () => {
    const c = await client({ token: alice.token });
    c.ws.send(JSON.stringify({ type: "pong", pad: "x".repeat(100_000) }));
    assert.equal(await c.closedWith(), 1009);
  });

  it("pings, and drops peers that do not answer", async () => {
    const live = await client({ token: alice.token });
    const dead = await client({ token: alice.token });
    dead.answerPings = false;
    await live.until((m) => m.type === "ping");
    assert.equal(await dead.closedWith(5000), 1006, "terminated without a close frame");
    assert.equal(live.closed, null);
  });

  it("closes the socket when its token expires", async () => {
    const c = await client({ token: await token({ id: alice.id, role: "USER" }, "2s") });
    assert.equal(await c.closedWith(4000), 4001);
  });

  it("closes a slow consumer with 1013 and keeps serving the others", async () => {
    const slow = await client({ token: alice.token });
    const fast = await client({ token: alice.token });
    await slow.subscribe("p", "post");
    await fast.subscribe("p", "post");
    const socket = (slow.ws as unknown as { _socket: { pause(): void; resume(): void } })._socket;
    socket.pause();
    const big = "y".repeat(90_000);
    // Fill the slow socket's buffers before the heartbeat would drop it as dead.
    const n = 96;
    for (let i = 0; i < n; i += 16) {
      await Promise.all(
        Array.from({ length: 16 }, (_, j) =>
          http("POST", "/api/posts", alice.token, { title: `Big ${i + j}`, slug: `rt-big-${i + j}-${run}`, body: big, authorId: alice.id }),
        ),
      );
    }
    await fast.until((m) => m.type === "event" && (m.data as Json).title === `Big ${n - 1}`, 10_000);
    socket.resume();
    assert.equal(await slow.closedWith(10_000), 1013);
    assert.equal(fast.closed, null);
  });
});

// Registered only with a second instance (server.sh runs this file again with Redis and two servers).
if (API_2 !== undefined) describe("fan-out across instances", () => {
  it("delivers a write on one instance to a subscriber on the other, under the same policies", async () => {
    const b2 = await client({ token: bob.token, base: API_2 });
    const a2 = await client({ token: alice.token, base: API_2 });
    await b2.subscribe("p", "post");
    await a2.subscribe("p", "post");
    const draft = await http("POST", "/api/posts", alice.token, { title: "Across", slug: `rt-x-${run}`, authorId: alice.id });
    const pub = await http("POST", "/api/posts", alice.token, { title: "Across public", slug: `rt-y-${run}`, published: true, authorId: alice.id });
    await a2.until((m) => m.type === "event" && (m.data as Json).id === draft.id);
    await b2.until((m) => m.type === "event" && (m.data as Json).id === pub.id);
    await settle();
    assert.ok(!b2.events("p").some((m) => (m.data as Json).id === draft.id));
  });
});
