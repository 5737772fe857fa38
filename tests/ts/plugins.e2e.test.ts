// The plugins of the generated TypeScript blog server, run by tests/ts/server.sh against a running
// server (API_URL) started with METRICS_TOKEN and SMTP_URL or RESEND_API_KEY: the built-in monitoring
// plugin ([plugins.monitoring] in examples/blog/ssot.toml), scraped under load; the email plugin,
// whose messages a local SMTP server (smtp-server, on SMTP_PORT) or a stand-in of Resend's API
// receives; and a user's plugin
// (tests/ts/plugin-fixture/custom.ts, copied into the tree as its src/server/custom.ts) whose
// write hooks refuse, change and roll back writes; and the payments plugin, whose webhook gets
// events signed with the stripe package's test helper (its checkouts go to a stand-in of Stripe's
// API on STRIPE_PORT); and the storage plugin, against a local S3-compatible server.

import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import type { Server } from "node:http";
import { createServer } from "node:http";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { after, before, describe, it } from "node:test";
import { HeadObjectCommand, S3Client } from "@aws-sdk/client-s3";
import Database from "better-sqlite3";
import { SignJWT } from "jose";
import pg from "pg";
import { SMTPServer } from "smtp-server";
import Stripe from "stripe";
import { WebSocket } from "ws";

const API = process.env.API_URL ?? "http://127.0.0.1:3000";
/** The generated tree the server runs from, for its SDK. */
const TREE = process.env.TREE ?? "";
const SECRET = new TextEncoder().encode(process.env.JWT_SECRET ?? "");
const METRICS_TOKEN = process.env.METRICS_TOKEN ?? "";
const run = Date.now().toString(36);
let admin: string;

interface Res {
  status: number;
  headers: Headers;
  text: string;
  json: () => Record<string, unknown>;
}

async function call(method: string, path: string, opts: { token?: string; body?: unknown } = {}): Promise<Res> {
  const headers: Record<string, string> = {};
  if (opts.token !== undefined) headers.authorization = `Bearer ${opts.token}`;
  if (opts.body !== undefined) headers["content-type"] = "application/json";
  const res = await fetch(API + path, { method, headers, ...(opts.body !== undefined ? { body: JSON.stringify(opts.body) } : {}) });
  const text = await res.text();
  return { status: res.status, headers: res.headers, text, json: () => JSON.parse(text) as Record<string, unknown> };
}

async function scrape(): Promise<string> {
  const r = await call("GET", "/metrics", { token: METRICS_TOKEN });
  assert.equal(r.status, 200, r.text);
  return r.text;
}

/** The value of one sample (`name{labels} value`); 0 when the series does not exist yet. */
function sample(text: string, name: string, labels: Record<string, string>): number {
  const want = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
  for (const line of text.split("\n")) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    const open = line.indexOf("{");
    const close = line.lastIndexOf("}");
    const have = open >= 0 && line.startsWith(name + "{") ? line.slice(open + 1, close).split(",") : [];
    if (want.length === have.length && want.every((w) => have.includes(w))) {
      return Number(line.slice((close >= 0 && line.startsWith(name + "{") ? close : name.length) + 1).trim());
    }
  }
  return 0;
}

/** Runs `n` calls of `f`, `concurrency` at a time. */
async function burst(n: number, concurrency: number, f: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < n) await f(next++);
    }),
  );
}

/** A new user of `role` (created by the admin): their token. */
async function user(name: string, role = "USER"): Promise<string> {
  const r = await call("POST", "/api/users", {
    token: admin,
    body: { email: `${name}-${run}-${randomUUID().slice(0, 8)}@blog.test`, name, role, passwordHash: "argon2id$not-a-real-hash" },
  });
  assert.equal(r.status, 201, r.text);
  const id = r.json().id as number;
  return new SignJWT({ id, role }).setProtectedHeader({ alg: "HS256" }).setExpirationTime("10m").sign(SECRET);
}

/** The tree's SDK (TREE/src/sdk/index.ts): its HTTP transport and the plugins' functions `T`. */
async function treeSdk<T>(): Promise<T & { HttpTransport: new (o: { baseUrl: string; token: () => string }) => object }> {
  return (await import(pathToFileURL(join(TREE, "src/sdk/index.ts")).href)) as T & {
    HttpTransport: new (o: { baseUrl: string; token: () => string }) => object;
  };
}

/** The user id in a token. */
const idOf = (token: string): number => (JSON.parse(Buffer.from(token.split(".")[1]!, "base64url").toString()) as { id: number }).id;

before(async () => {
  admin = await new SignJWT({ id: 1_000_000, role: "ADMIN" }).setProtectedHeader({ alg: "HS256" }).setExpirationTime("10m").sign(SECRET);
});

describe("monitoring plugin", () => {
  it("serves /metrics only to a caller with METRICS_TOKEN", async () => {
    assert.ok(METRICS_TOKEN.length >= 16, "server.sh starts the server with a METRICS_TOKEN");
    for (const token of [undefined, "wrong", METRICS_TOKEN.replace(/.$/, "x"), admin]) {
      const r = await call("GET", "/metrics", token !== undefined ? { token } : {});
      assert.equal(r.status, 401, `token ${token}: ${r.text}`);
      assert.match(r.headers.get("content-type") ?? "", /application\/problem\+json/);
      assert.equal(r.headers.get("www-authenticate"), 'Bearer realm="metrics"');
    }
    const ok = await call("GET", "/metrics", { token: METRICS_TOKEN });
    assert.equal(ok.status, 200);
    assert.match(ok.headers.get("content-type") ?? "", /^text\/plain; version=0\.0\.4/);
    assert.equal(ok.headers.get("cache-control"), "no-store");
    assert.equal(ok.headers.get("x-content-type-options"), "nosniff");
    assert.match(ok.text, /^# HELP http_requests_total /m);
    assert.match(ok.text, /^process_resident_memory_bytes \d+/m, "Node's process metrics");
    const post = await call("POST", "/metrics", { token: METRICS_TOKEN, body: {} });
    assert.equal(post.status, 405);
    assert.equal(post.headers.get("allow"), "GET");
  });

  it("counts every request of a concurrent burst by route pattern and status", async () => {
    const ok = { method: "GET", route: "/api/tags", status: "200" };
    const missing = { method: "GET", route: "/api/tags/:id", status: "404" };
    const before = await scrape();
    const started = Date.now();
    await burst(300, 30, async (i) => {
      const r = i % 3 === 2 ? await call("GET", `/api/tags/${900_000_000 + i}`) : await call("GET", "/api/tags");
      assert.equal(r.status, i % 3 === 2 ? 404 : 200, r.text);
    });
    const seconds = (Date.now() - started) / 1000;
    const after = await scrape();
    const delta = (name: string, labels: Record<string, string>) => sample(after, name, labels) - sample(before, name, labels);
    assert.equal(delta("http_requests_total", ok), 200);
    assert.equal(delta("http_requests_total", missing), 100);
    assert.equal(delta("http_request_duration_seconds_count", ok), 200);
    assert.equal(delta("http_request_duration_seconds_bucket", { le: "+Inf", ...ok }), 200);
    // Buckets are cumulative, and no request of the burst took longer than the burst.
    const sum = delta("http_request_duration_seconds_sum", ok);
    assert.ok(sum > 0 && sum <= seconds * 30, `latency sum ${sum} s for a ${seconds} s burst`);
    assert.ok(delta("http_request_duration_seconds_bucket", { le: "0.005", ...ok }) <= delta("http_request_duration_seconds_bucket", { le: "10", ...ok }));
    // Paths asked for are never labels: only patterns.
    assert.doesNotMatch(after, /route="[^"]*9000000\d\d/, "a requested id became a label");
    console.log(`# monitoring: 300 requests in ${seconds.toFixed(2)} s, all counted (200 + 100), scraped twice`);
  });

  it("counts committed writes and open WebSockets, and labels no value, token or principal", async () => {
    const before = await scrape();
    const name = `metric-${run}`;
    const created = await call("POST", "/api/tags", { token: admin, body: { name } });
    assert.equal(created.status, 201, created.text);
    const refused = await call("POST", "/api/tags", { token: admin, body: { name: "Not Valid" } });
    assert.equal(refused.status, 400);
    const sockets = await Promise.all(
      [1, 2, 3].map(
        () =>
          new Promise<WebSocket>((resolve, reject) => {
            const ws = new WebSocket(API.replace(/^http/, "ws") + "/ws", ["bearer", admin]);
            ws.once("open", () => resolve(ws));
            ws.once("error", reject);
          }),
      ),
    );
    const during = await scrape();
    assert.equal(sample(during, "writes_total", { model: "Tag", operation: "create" }) - sample(before, "writes_total", { model: "Tag", operation: "create" }), 1, "one committed create; the refused one is not a write");
    assert.equal(sample(during, "realtime_connections", {}) - sample(before, "realtime_connections", {}), 3);
    await Promise.all(sockets.map((ws) => new Promise((r) => { ws.once("close", r); ws.close(); })));
    let after = await scrape();
    for (let i = 0; i < 50 && sample(after, "realtime_connections", {}) !== sample(before, "realtime_connections", {}); i++) {
      await new Promise((r) => setTimeout(r, 20));
      after = await scrape();
    }
    assert.equal(sample(after, "realtime_connections", {}), sample(before, "realtime_connections", {}));
    for (const secret of [name, admin, METRICS_TOKEN, '"1000000"', "principal"]) {
      assert.ok(!after.includes(secret), `${secret} appears in the metrics`);
    }
  });

  // The Rust server has neither traces nor usage events yet: server.sh runs this suite against it
  // with OTLP_PORT and USAGE_PORT empty.
  const usagePort = process.env.USAGE_PORT ?? "";
  it("sends usage events of requests and writes, without values, tokens, paths or callers", { skip: usagePort === "" }, async () => {
    // A stand-in of an analytics endpoint: a plain HTTP server that keeps the JSON batches.
    const batches: { events: Record<string, unknown>[] }[] = [];
    const raw: string[] = [];
    const sink = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => {
        const text = Buffer.concat(chunks).toString("utf8");
        raw.push(text);
        batches.push(JSON.parse(text) as { events: Record<string, unknown>[] });
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((resolve) => sink.listen(Number(usagePort), "127.0.0.1", resolve));
    try {
      const name = `usage-${run}`;
      const created = await call("POST", "/api/tags", { token: admin, body: { name } });
      assert.equal(created.status, 201, created.text);
      assert.equal((await call("GET", `/api/tags/${String(created.json().id)}`, { token: admin })).status, 200);
      const events = () => batches.flatMap((b) => b.events);
      const has = (e: Record<string, unknown>) => events().some((x) => Object.entries(e).every(([k, v]) => x[k] === v));
      // A batch leaves every 5 s (or at 100 events).
      for (let i = 0; i < 80 && !(has({ type: "write", model: "Tag", operation: "create" }) && has({ route: "GET /api/tags/:id" })); i++) {
        await new Promise((r) => setTimeout(r, 100));
      }
      assert.ok(has({ type: "request", route: "POST /api/tags", status: 201 }), JSON.stringify(events().slice(0, 5)));
      assert.ok(has({ type: "request", route: "GET /api/tags/:id", status: 200 }));
      assert.ok(has({ type: "write", model: "Tag", operation: "create" }));
      for (const e of events()) {
        assert.deepEqual(Object.keys(e).sort(), e.type === "request" ? ["at", "durationMs", "route", "status", "type"] : ["at", "model", "operation", "type"]);
      }
      const all = raw.join("");
      for (const secret of [name, admin, `/api/tags/${String(created.json().id)}`, "127.0.0.1", "1000000"]) {
        assert.ok(!all.includes(secret), `${secret} is not in the usage events`);
      }
      console.log(`# usage: ${events().length} events in ${batches.length} batch(es)`);
    } finally {
      await new Promise<void>((resolve) => sink.close(() => resolve()));
    }
  });

  it("keeps a sample of the usage events, and none after an opt-out", { skip: usagePort === "" }, async () => {
    // The plugin's own class, in this process, against a local sink that counts what it gets.
    const { UsageEvents } = (await import(pathToFileURL(join(TREE, "src/server/plugins/monitoring.ts")).href)) as {
      UsageEvents: new (env: Record<string, string>) => { add(e: object): void; flush(): Promise<void>; rate: number };
    };
    let received = 0;
    const sink = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => {
        received += (JSON.parse(Buffer.concat(chunks).toString()) as { events: unknown[] }).events.length;
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((resolve) => sink.listen(0, "127.0.0.1", resolve));
    const url = `http://127.0.0.1:${(sink.address() as { port: number }).port}/events`;
    const event = { type: "request", route: "GET /api/tags", status: 200, durationMs: 1, at: new Date().toISOString() };
    const sent = async (env: Record<string, string>): Promise<number> => {
      received = 0;
      const usage = new UsageEvents({ USAGE_EVENTS_URL: url, ...env });
      for (let i = 0; i < 2000; i++) usage.add(event);
      await usage.flush();
      // Batches of 100 left on their own while events were added: until the count settles.
      for (let before = -1; before !== received; ) {
        before = received;
        await new Promise((r) => setTimeout(r, 200));
      }
      return received;
    };
    try {
      assert.equal(await sent({}), 2000, "every event without sampling");
      const quarter = await sent({ USAGE_EVENTS_SAMPLE: "0.25" });
      assert.ok(quarter > 380 && quarter < 620, `a quarter of 2000: ${quarter}`);
      assert.equal(await sent({ USAGE_EVENTS_SAMPLE: "0" }), 0);
      assert.equal(await sent({ DO_NOT_TRACK: "1" }), 0, "DO_NOT_TRACK=1 opts out");
      assert.equal(await sent({ USAGE_EVENTS: "off" }), 0, "USAGE_EVENTS=off opts out");
    } finally {
      await new Promise<void>((resolve) => sink.close(() => resolve()));
    }
  });

  // The Rust server has no traces yet: server.sh runs this suite against it with OTLP_PORT empty.
  const otlp = process.env.OTLP_PORT ?? "";
  it("exports a span per request over OTLP, the database calls its children, with no values", { skip: otlp === "" }, async () => {
    // A stand-in of an OpenTelemetry collector's OTLP/HTTP receiver (`POST /v1/traces`, the JSON
    // encoding of the OTLP specification): a plain HTTP server that keeps what it was sent.
    interface Span {
      traceId: string;
      spanId: string;
      parentSpanId?: string;
      name: string;
      kind: number;
      attributes?: { key: string; value: Record<string, unknown> }[];
    }
    const spans: Span[] = [];
    const raw: string[] = [];
    const collector = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => {
        const text = Buffer.concat(chunks).toString("utf8");
        raw.push(text);
        if (req.url === "/v1/traces" && (req.headers["content-type"] ?? "").includes("json")) {
          const body = JSON.parse(text) as { resourceSpans: { scopeSpans: { spans: Span[] }[] }[] };
          for (const r of body.resourceSpans) for (const s of r.scopeSpans) spans.push(...s.spans);
        }
        res.writeHead(200, { "content-type": "application/json" }).end("{}");
      });
    });
    await new Promise<void>((resolve) => collector.listen(Number(otlp), "127.0.0.1", resolve));
    try {
      // The server exported spans of the suites before this one while nothing listened: its
      // exporter retries those batches (up to five times, backing off for seconds) and refuses
      // new exports above its concurrency limit meanwhile — spans lost by design of OpenTelemetry
      // during a collector outage. So a request whose trace arrived incomplete is tried again with
      // a fresh trace until the backlog has drained (each attempt waits up to 5 s).
      const names: string[] = [];
      // Every Prisma span's parents lead to the request's server span.
      const underServer = (trace: Span[]) => {
        const server = trace.find((s) => s.kind === 2);
        const byId = new Map(trace.map((s) => [s.spanId, s]));
        const prisma = trace.filter((s) => s.name.startsWith("prisma:"));
        return (
          server !== undefined &&
          prisma.length > 0 &&
          prisma.every((p) => {
            let at: Span | undefined = p;
            while (at !== undefined && at !== server) at = at.parentSpanId !== undefined ? byId.get(at.parentSpanId) : undefined;
            return at === server;
          })
        );
      };
      const attempt = async (n: number) => {
        const traceId = randomUUID().replaceAll("-", "");
        const parent = randomUUID().replaceAll("-", "").slice(0, 16);
        const name = `traced-${run}-${n}`;
        names.push(name);
        const res = await fetch(`${API}/api/tags`, {
          method: "POST",
          headers: { authorization: `Bearer ${admin}`, "content-type": "application/json", traceparent: `00-${traceId}-${parent}-01` },
          body: JSON.stringify({ name }),
        });
        assert.equal(res.status, 201, await res.text());
        const mine = () => spans.filter((s) => s.traceId.toLowerCase() === traceId);
        for (let i = 0; i < 50 && !underServer(mine()); i++) await new Promise((r) => setTimeout(r, 100));
        return { parent, mine: mine(), complete: underServer(mine()) };
      };
      let trace = await attempt(0);
      for (let n = 1; n < 8 && !trace.complete; n++) trace = await attempt(n);
      const { parent, mine } = trace;
      const server = mine.find((s) => s.kind === 2);
      assert.ok(server !== undefined, `a server span in the caller's trace (${names.length} attempts, ${spans.length} spans received)`);
      assert.equal(server.name, "POST /api/tags");
      assert.equal(server.parentSpanId, parent, "the caller's traceparent is its parent");
      const attr = (s: Span, key: string) => s.attributes?.find((a) => a.key === key)?.value;
      assert.deepEqual(attr(server, "http.route"), { stringValue: "/api/tags" });
      assert.ok([201, "201"].includes(Object.values(attr(server, "http.response.status_code") ?? {})[0] as number), "the status");
      const prisma = mine.filter((s) => s.name.startsWith("prisma:"));
      assert.ok(prisma.length > 0, "Prisma's spans");
      const byId = new Map(mine.map((s) => [s.spanId, s]));
      for (const p of prisma) {
        let at: Span | undefined = p;
        while (at !== undefined && at !== server) at = at.parentSpanId !== undefined ? byId.get(at.parentSpanId) : undefined;
        assert.equal(at, server, `${p.name} is under the request's span`);
      }
      const all = raw.join("");
      for (const secret of [...names, admin, process.env.JWT_SECRET ?? "-"]) assert.ok(!all.includes(secret), "no value or token in any span");
      console.log(`# traces: ${mine.length} spans of one request after ${names.length} attempt(s) (${[...new Set(prisma.map((s) => s.name))].join(", ")})`);
    } finally {
      await new Promise<void>((resolve) => collector.close(() => resolve()));
    }
  });
});

describe("a user's plugin (src/server/custom.ts)", () => {
  interface Entry {
    hook: string;
    model: string;
    principal: unknown;
    what: unknown;
  }
  async function audit(): Promise<Entry[]> {
    const r = await call("GET", "/plugin/audit");
    assert.equal(r.status, 200, r.text);
    const body = r.json() as { started: boolean; audit: Entry[] };
    assert.equal(body.started, true, "start() ran before the server listened");
    return body.audit;
  }
  async function tagNamed(name: string): Promise<unknown[]> {
    const r = await call("GET", `/api/tags?filter[name][equals]=${encodeURIComponent(name)}`);
    assert.equal(r.status, 200, r.text);
    return r.json().data as unknown[];
  }
  /** Waits for `committed` hooks, which run after the response. */
  async function eventually(check: (a: Entry[]) => boolean): Promise<Entry[]> {
    for (let i = 0; i < 50; i++) {
      const a = await audit();
      if (check(a)) return a;
      await new Promise((r) => setTimeout(r, 20));
    }
    return audit();
  }

  it("runs before, after and committed hooks with the caller, and may change the input", async () => {
    const r = await call("POST", "/api/tags", { token: admin, body: { name: `t${run}-changed-by-hook` } });
    assert.equal(r.status, 201, r.text);
    assert.equal(r.json().name, `t${run}-changed`, "beforeCreate changed the input");
    const id = r.json().id;
    const a = await eventually((a) => a.some((e) => e.hook === "committed create" && e.what === id));
    const mine = a.filter((e) => e.model === "Tag" && (e.what === id || e.what === `t${run}-changed-by-hook`));
    assert.deepEqual(
      mine.map((e) => [e.hook, e.model, e.principal]),
      [
        ["beforeCreate", "Tag", 1_000_000],
        ["afterCreate", "Tag", 1_000_000],
        ["committed create", "Tag", 1_000_000],
      ],
    );
    const del = await call("DELETE", `/api/tags/${id}`, { token: admin });
    assert.equal(del.status, 204);
    const after = await eventually((a) => a.some((e) => e.hook === "committed delete" && e.what === id));
    assert.deepEqual(
      after.filter((e) => e.model === "Tag" && e.what === id).map((e) => e.hook),
      ["afterCreate", "committed create", "beforeDelete", "committed delete"],
    );
  });

  it("a before-hook refuses a write with its own problem: nothing is written", async () => {
    const r = await call("POST", "/api/tags", { token: admin, body: { name: "refused-by-hook" } });
    assert.equal(r.status, 422, r.text);
    assert.match(r.headers.get("content-type") ?? "", /application\/problem\+json/);
    assert.deepEqual(r.json().errors, [{ path: "name", message: "refused by a hook" }]);
    assert.deepEqual(await tagNamed("refused-by-hook"), []);
    const a = await audit();
    const i = a.findIndex((e) => e.hook === "beforeCreate" && e.what === "refused-by-hook");
    assert.ok(i >= 0, "the before-hook saw the input");
    assert.notEqual(a[i + 1]?.hook, "afterCreate", "no write, so no after-hook");
  });

  it("an after-hook that throws rolls the write back: the row never existed", async () => {
    const r = await call("POST", "/api/tags", { token: admin, body: { name: "rolled-back-by-hook" } });
    assert.equal(r.status, 409, r.text);
    assert.deepEqual(await tagNamed("rolled-back-by-hook"), []);
    const a = await audit();
    const written = a.find((e, i) => e.hook === "afterCreate" && e.model === "Tag" && a[i - 1]?.what === "rolled-back-by-hook");
    assert.ok(written !== undefined, "the after-hook saw the written row");
    assert.equal((await call("GET", `/api/tags/${String(written.what)}`)).status, 404);
    await new Promise((r) => setTimeout(r, 100));
    assert.ok(
      !(await audit()).some((e) => e.hook === "committed create" && e.model === "Tag" && e.what === written.what),
      "a rolled-back write is not committed",
    );
  });
});

// The email plugin sends through SMTP (PostgreSQL servers: SMTP_URL, to smtp-server on SMTP_PORT)
// or Resend's HTTP API (SQLite servers: RESEND_API_KEY and RESEND_BASE_URL, to a stand-in on
// RESEND_PORT that this test serves). The stand-in is a plain HTTP server that answers
// `POST /emails` the way Resend's API reference documents it (a bearer key, a JSON message, an
// `{ id }` back, a JSON error with `statusCode` and `name`); it is not Resend's code.
const EMAIL_VIA = process.env.EMAIL_VIA ?? "smtp";

interface Mail {
  /** The envelope's sender (SMTP) or the message's `from` (Resend). */
  from: string;
  to: string[];
  subject: string;
  /** Everything the receiving server got: the raw message or the JSON body. */
  raw: string;
}

/** Listens where the server sends messages and collects what arrives; `close` stops it. */
async function mailbox(): Promise<{ received: Mail[]; close: () => Promise<void> }> {
  const received: Mail[] = [];
  if (EMAIL_VIA === "resend") {
    const port = Number(process.env.RESEND_PORT ?? "0");
    const key = process.env.RESEND_TEST_KEY ?? "";
    assert.ok(port > 0 && key !== "", "server.sh starts the server with RESEND_API_KEY and passes RESEND_PORT and the key");
    const api = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => {
        const raw = Buffer.concat(chunks).toString("utf8");
        const answer = (status: number, body: unknown) => {
          res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(body));
        };
        if (req.method !== "POST" || req.url !== "/emails") return answer(404, { statusCode: 404, name: "not_found", message: "no route" });
        if (req.headers.authorization !== `Bearer ${key}`) return answer(401, { statusCode: 401, name: "missing_api_key", message: "bad key" });
        const body = JSON.parse(raw) as { from: string; to: string | string[]; subject: string };
        const to = Array.isArray(body.to) ? body.to : [body.to];
        received.push({ from: body.from, to, subject: body.subject, raw });
        if (to.some((a) => a.startsWith("bounce-"))) {
          return answer(422, { statusCode: 422, name: "validation_error", message: `Invalid \`to\` field: ${to.join(",")}` });
        }
        answer(200, { id: randomUUID() });
      });
    });
    await new Promise<void>((resolve) => api.listen(port, "127.0.0.1", resolve));
    return { received, close: () => new Promise<void>((resolve) => api.close(() => resolve())) };
  }
  const port = Number(process.env.SMTP_PORT ?? "0");
  assert.ok(port > 0, "server.sh starts the server with SMTP_URL and passes SMTP_PORT");
  const smtp = new SMTPServer({
    disabledCommands: ["STARTTLS", "AUTH"],
    authOptional: true,
    logger: false,
    onData(stream, session, done) {
      const chunks: Buffer[] = [];
      stream.on("data", (c: Buffer) => chunks.push(c));
      stream.on("end", () => {
        const from = session.envelope.mailFrom;
        const raw = Buffer.concat(chunks).toString("utf8");
        received.push({
          from: from === false ? "" : from.address,
          to: session.envelope.rcptTo.map((r) => r.address),
          subject: /^Subject: (.*?)\r?$/m.exec(raw)?.[1] ?? "",
          raw,
        });
        done();
      });
    },
  });
  await new Promise<void>((resolve) => smtp.listen(port, "127.0.0.1", resolve));
  return { received, close: () => new Promise<void>((resolve) => smtp.close(() => resolve())) };
}

describe(`email plugin (${EMAIL_VIA})`, () => {
  const newUser = (email: string) => ({ email, name: `Mail ${run}`, role: "USER", passwordHash: "argon2id$secret-hash" });

  it("sends a new user's welcome message once, after the write committed, to their address only", async () => {
    const { received, close } = await mailbox();
    try {
      const address = `mail-${run}@example.com`;
      const bad = await call("POST", "/api/users", { token: admin, body: { ...newUser("not-an-address"), name: "x" } });
      assert.equal(bad.status, 400, "a refused write sends nothing");
      const created = await call("POST", "/api/users", { token: admin, body: newUser(address) });
      assert.equal(created.status, 201, created.text);
      const renamed = await call("PATCH", `/api/users/${String(created.json().id)}`, { token: admin, body: { name: "Renamed" } });
      assert.equal(renamed.status, 200, "an update does not send the welcome message (on: [created])");
      for (let i = 0; i < 100 && !received.some((m) => m.to.includes(address)); i++) await new Promise((r) => setTimeout(r, 50));
      await new Promise((r) => setTimeout(r, 300)); // a second message would have arrived by now
      const mine = received.filter((m) => m.to.includes(address));
      assert.equal(mine.length, 1, `messages to ${address}: ${mine.length}`);
      const mail = mine[0]!;
      assert.deepEqual(mail.to, [address]);
      assert.equal(mail.subject, "welcome: created");
      if (EMAIL_VIA === "resend") {
        assert.equal(mail.from, "Blog <no-reply@blog.test>");
      } else {
        assert.equal(mail.from, "no-reply@blog.test");
        assert.match(mail.raw, /^From: Blog <no-reply@blog\.test>\r?$/m);
      }
      assert.ok(!mail.raw.includes("argon2id"), "no hidden field in the message");
      assert.ok(!received.some((m) => m.to.includes("not-an-address")));
      console.log(`# email: ${received.length} message(s) received by the local ${EMAIL_VIA === "resend" ? "Resend stand-in" : "SMTP server"}, 1 for the new user`);
    } finally {
      await close();
    }
  });

  it("logs a refused send with the provider's code, without the address, and the write stands", async () => {
    const { received, close } = await mailbox();
    const bounce = `bounce-${run}@example.com`;
    try {
      if (EMAIL_VIA === "smtp") await close(); // nobody listens: the SMTP connection is refused
      const created = await call("POST", "/api/users", { token: admin, body: newUser(bounce) });
      assert.equal(created.status, 201, "the send happens after the commit and cannot undo it");
      const log = join(TREE, "server.log");
      let line: Record<string, unknown> | undefined;
      for (let i = 0; i < 100 && line === undefined; i++) {
        await new Promise((r) => setTimeout(r, 50));
        line = readFileSync(log, "utf8")
          .split("\n")
          .filter((l) => l.includes('"email not sent"'))
          .map((l) => JSON.parse(l) as Record<string, unknown>)
          .at(-1);
      }
      assert.ok(line !== undefined, "the failed send is logged");
      assert.equal(line.model, "User");
      assert.equal(line.template, "welcome");
      assert.equal(line.via, EMAIL_VIA);
      if (EMAIL_VIA === "resend") {
        assert.equal(received.filter((m) => m.to.includes(bounce)).length, 1, "the provider got the message once");
        assert.equal(line.statusCode, 422);
        assert.equal(line.name, "validation_error");
      } else {
        assert.equal(line.code, "ESOCKET");
      }
      assert.ok(!readFileSync(log, "utf8").includes(bounce), "the address is not in the log");
      assert.ok(!JSON.stringify(line).includes("Invalid"), "nor the provider's message, which may quote it");
      const fetched = await call("GET", `/api/users/${String(created.json().id)}`, { token: admin });
      assert.equal(fetched.status, 200, "the user exists");
    } finally {
      if (EMAIL_VIA === "resend") await close();
    }
  });
});

// The payments plugin ([plugins.payments] in examples/blog/ssot.toml). The server runs with
// STRIPE_SECRET_KEY, STRIPE_WEBHOOK_SECRET and STRIPE_API_URL pointing at a stand-in of Stripe's
// API that this test serves on STRIPE_PORT: a plain HTTP server that answers
// `POST /v1/checkout/sessions` the way Stripe's API reference documents it (a form-encoded request,
// a `checkout.session` object back) and records what it was sent. It is not Stripe's code and
// checks nothing but what the plugin sends. Events are signed with the official `stripe` package's
// `webhooks.generateTestHeaderString`, the helper Stripe provides for tests; the handlers are
// tests/ts/plugin-fixture/payment_handlers.ts.
describe("payments plugin", () => {
  const WEBHOOK_SECRET = process.env.STRIPE_WEBHOOK_SECRET ?? "";
  const stripe = new Stripe("sk_test_unused");
  const sessions: { auth: string | undefined; form: URLSearchParams }[] = [];
  let standIn: Server;
  let n = 0;

  before(async () => {
    assert.ok(WEBHOOK_SECRET.startsWith("whsec_"), "server.sh starts the server with a STRIPE_WEBHOOK_SECRET");
    standIn = createServer((req, res) => {
      let body = "";
      req.on("data", (c: Buffer) => (body += c.toString()));
      req.on("end", () => {
        res.setHeader("content-type", "application/json");
        if (req.method !== "POST" || req.url !== "/v1/checkout/sessions") {
          res.statusCode = 404;
          res.end(JSON.stringify({ error: { type: "invalid_request_error", message: "unknown route" } }));
          return;
        }
        const form = new URLSearchParams(body);
        sessions.push({ auth: req.headers.authorization, form });
        const id = `cs_test_${run}_${sessions.length}`;
        res.end(
          JSON.stringify({
            id,
            object: "checkout.session",
            url: `https://checkout.test/c/pay/${id}`,
            mode: form.get("mode"),
            client_reference_id: form.get("client_reference_id"),
          }),
        );
      });
    });
    await new Promise<void>((resolve) => standIn.listen(Number(process.env.STRIPE_PORT), "127.0.0.1", resolve));
  });
  after(() => new Promise<void>((resolve) => standIn.close(() => resolve())));

  const userToken = (id: number) =>
    new SignJWT({ id, role: "USER" }).setProtectedHeader({ alg: "HS256" }).setExpirationTime("10m").sign(SECRET);

  /** An event as Stripe sends it (the fields the handlers read). */
  function event(type: string, object: Record<string, unknown>, created: number): Record<string, unknown> {
    n += 1;
    return { id: `evt_${run}_${n}`, object: "event", api_version: "2026-01-01", created, type, livemode: false, data: { object } };
  }

  async function deliver(payload: string, signature?: string): Promise<Res> {
    const res = await fetch(API + "/api/payments/webhook", {
      method: "POST",
      headers: { "content-type": "application/json; charset=utf-8", ...(signature !== undefined ? { "stripe-signature": signature } : {}) },
      body: payload,
    });
    const text = await res.text();
    return { status: res.status, headers: res.headers, text, json: () => JSON.parse(text) as Record<string, unknown> };
  }

  const signed = (payload: string, timestamp = Math.floor(Date.now() / 1000), secret = WEBHOOK_SECRET) =>
    stripe.webhooks.generateTestHeaderString({ payload, secret, timestamp });

  async function status(sub: string, token: string): Promise<string | null> {
    const r = await call("GET", `/api/subscriptions/${sub}`, { token });
    if (r.status === 404) return null;
    assert.equal(r.status, 200, r.text);
    return r.json().status as string;
  }

  it("creates a checkout session for the signed-in caller and a configured price only", async () => {
    const user = 900_000 + (Date.now() % 90_000);
    const token = await userToken(user);
    assert.equal((await call("POST", "/api/payments/checkout", { body: { price: "price_supporter_monthly" } })).status, 401);
    const bad = await call("POST", "/api/payments/checkout", { token, body: { price: "price_free_lunch", quantity: 0, extra: 1 } });
    assert.equal(bad.status, 400, bad.text);
    assert.deepEqual(
      (bad.json().errors as { path: string }[]).map((e) => e.path).sort(),
      ["extra", "price", "quantity"],
    );
    const before = sessions.length;
    const ok = await call("POST", "/api/payments/checkout", { token, body: { price: "price_supporter_yearly" } });
    assert.equal(ok.status, 201, ok.text);
    assert.equal(sessions.length, before + 1, "one request reached Stripe");
    const sent = sessions[sessions.length - 1]!;
    assert.ok(sent.auth?.startsWith("Bearer sk_test_"), "the secret key authenticates the call");
    assert.equal(sent.form.get("client_reference_id"), String(user));
    assert.equal(sent.form.get("mode"), "subscription");
    assert.equal(sent.form.get("line_items[0][price]"), "price_supporter_yearly");
    assert.equal(sent.form.get("success_url"), "http://localhost:3000/support/thanks");
    const body = ok.json();
    assert.match(String(body.id), /^cs_test_/);
    assert.equal(body.url, `https://checkout.test/c/pay/${String(body.id)}`);
    // The same through the generated SDK.
    assert.ok(TREE !== "", "server.sh passes the tree (TREE)");
    const sdk = await treeSdk<{ startCheckout(t: object, input: { price: string }): Promise<{ id: string; url: string }> }>();
    const session = await sdk.startCheckout(new sdk.HttpTransport({ baseUrl: API, token: () => token }), { price: "price_supporter_monthly" });
    assert.equal(session.url, `https://checkout.test/c/pay/${session.id}`);
    assert.equal(sessions[sessions.length - 1]!.form.get("line_items[0][price]"), "price_supporter_monthly");
  });

  it("handles a verified event once, and refuses tampered, stale, unsigned and foreign ones", async () => {
    const user = 800_000 + (Date.now() % 90_000);
    const token = await userToken(user);
    const sub = `sub_${run}_a`;
    const now = Math.floor(Date.now() / 1000);
    const payload = JSON.stringify(
      event("checkout.session.completed", { id: `cs_${run}_a`, object: "checkout.session", client_reference_id: String(user), subscription: sub }, now),
    );
    // Tampered: the signature is of another body (the buyer changed to someone else).
    const tampered = payload.replace(String(user), String(user + 1));
    let r = await deliver(tampered, signed(payload));
    assert.equal(r.status, 400, r.text);
    assert.match(r.headers.get("content-type") ?? "", /application\/problem\+json/);
    // Stale: signed 301 s ago (Stripe's tolerance is 300 s), and a replay of that old signature.
    r = await deliver(payload, signed(payload, now - 301));
    assert.equal(r.status, 400, r.text);
    // Unsigned, and signed with another endpoint's secret.
    assert.equal((await deliver(payload)).status, 400);
    assert.equal((await deliver(payload, signed(payload, now, "whsec_someone_else"))).status, 400);
    assert.equal(await status(sub, token), null, "no refused delivery was handled");
    // Valid: handled; the row is the buyer's.
    r = await deliver(payload, signed(payload));
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json().result, "handled");
    assert.equal(await status(sub, token), "active");
    assert.equal(await status(sub, await userToken(user + 1)), null, "another reader does not see it");
    // Redelivered (a new signature, as Stripe signs each attempt): recorded once, not handled again.
    await call("PATCH", `/api/subscriptions/${sub}`, { token: admin, body: { status: "marked-by-admin" } });
    r = await deliver(payload, signed(payload));
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json().result, "duplicate");
    assert.equal(await status(sub, token), "marked-by-admin", "the duplicate did not run the handler again");
  });

  it("handles one of concurrent deliveries of an event", async () => {
    const user = 700_000 + (Date.now() % 90_000);
    const sub = `sub_${run}_b`;
    const payload = JSON.stringify(
      event("checkout.session.completed", { id: `cs_${run}_b`, object: "checkout.session", client_reference_id: String(user), subscription: sub }, Math.floor(Date.now() / 1000)),
    );
    const results = await Promise.all(Array.from({ length: 6 }, () => deliver(payload, signed(payload))));
    assert.deepEqual(results.map((r) => r.status), [200, 200, 200, 200, 200, 200], results.map((r) => r.text).join("\n"));
    const outcomes = results.map((r) => r.json().result as string).sort();
    assert.deepEqual(outcomes, ["duplicate", "duplicate", "duplicate", "duplicate", "duplicate", "handled"]);
    assert.equal(await status(sub, await userToken(user)), "active");
  });

  it("does not let an older event undo a newer one delivered first", async () => {
    const user = 600_000 + (Date.now() % 90_000);
    const token = await userToken(user);
    const sub = `sub_${run}_c`;
    const t = Math.floor(Date.now() / 1000);
    const start = JSON.stringify(
      event("checkout.session.completed", { id: `cs_${run}_c`, object: "checkout.session", client_reference_id: String(user), subscription: sub }, t - 60),
    );
    assert.equal((await deliver(start, signed(start))).json().result, "handled");
    const pastDue = JSON.stringify(event("customer.subscription.updated", { id: sub, object: "subscription", status: "past_due" }, t - 30));
    const canceled = JSON.stringify(event("customer.subscription.deleted", { id: sub, object: "subscription", status: "canceled" }, t - 10));
    // Stripe sends the cancellation first, the older update second.
    assert.equal((await deliver(canceled, signed(canceled))).json().result, "handled");
    assert.equal(await status(sub, token), "canceled");
    const late = await deliver(pastDue, signed(pastDue));
    assert.equal(late.status, 200, late.text);
    assert.equal(late.json().result, "superseded");
    assert.equal(await status(sub, token), "canceled", "the older event did not revive the subscription");
    // …and it was recorded: delivered again, it is a duplicate.
    assert.equal((await deliver(pastDue, signed(pastDue))).json().result, "duplicate");
    console.log(`payments: checkout sessions ${sessions.length}; tampered, stale, unsigned, foreign refused; duplicate, concurrent and reordered deliveries handled once`);
  });
});

// The storage plugin (@@service(storage, field: cover, bucket: "covers", maxSizeMb: 2, types:
// [png, jpeg, webp]) on Post). server.sh starts s3s-fs (tests/ts/s3.sh), an S3-compatible server
// that checks presigned POST policies, and gives the API and this test its endpoint and keys.
// PostgreSQL servers keep the files in a local S3-compatible server (s3s-fs), SQLite ones on local
// disk (STORAGE_DIR: the development driver, whose own HTTP server takes the uploads).
const STORAGE_DIR = process.env.STORAGE_DIR ?? "";

describe(`storage plugin (${STORAGE_DIR !== "" ? "local disk" : "S3-compatible server"})`, () => {
  const MAX = 2 * 1024 * 1024;
  const s3 = new S3Client({
    endpoint: process.env.S3_ENDPOINT ?? "",
    region: "us-east-1",
    forcePathStyle: true,
    credentials: { accessKeyId: process.env.AWS_ACCESS_KEY_ID ?? "", secretAccessKey: process.env.AWS_SECRET_ACCESS_KEY ?? "" },
  });
  let authorToken: string;
  let otherToken: string;
  let post: number;
  let authorId: number;
  let key = "";
  const png = Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), Buffer.from(`cover of ${run}`)]);

  interface Signed {
    url: string;
    fields: Record<string, string>;
    key: string;
  }

  /** A browser's form upload of a presigned POST: its fields, then the file. */
  async function upload(s: Signed, bytes: Buffer, change: Record<string, string> = {}): Promise<{ status: number; text: string }> {
    const form = new FormData();
    for (const [k, v] of Object.entries({ ...s.fields, ...change })) form.append(k, v);
    form.append("file", new Blob([bytes], { type: change["Content-Type"] ?? s.fields["Content-Type"] ?? "" }), "../../etc/passwd");
    try {
      const res = await fetch(s.url, { method: "POST", body: form });
      return { status: res.status, text: await res.text() };
    } catch (err) {
      // The storage server may answer and close the connection before it read a body it refuses
      // (one over the size): the client sees the connection closed, not the answer.
      return { status: 0, text: `connection closed: ${String((err as Error).cause ?? err)}` };
    }
  }

  async function exists(k: string): Promise<boolean> {
    if (STORAGE_DIR !== "") return existsSync(join(STORAGE_DIR, "covers", k));
    try {
      await s3.send(new HeadObjectCommand({ Bucket: "covers", Key: k }));
      return true;
    } catch (err) {
      if ((err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode === 404) return false;
      throw err;
    }
  }

  /** Deletion runs after the commit, off the request: wait for it (2 s at most). */
  async function gone(k: string): Promise<boolean> {
    for (let i = 0; i < 40; i++) {
      if (!(await exists(k))) return true;
      await new Promise((r) => setTimeout(r, 50));
    }
    return false;
  }

  before(async () => {
    assert.ok(STORAGE_DIR !== "" || (process.env.S3_ENDPOINT ?? "") !== "", "server.sh starts s3s-fs and passes S3_ENDPOINT, or STORAGE_DIR");
    authorToken = await user("author");
    otherToken = await user("other");
    authorId = idOf(authorToken);
    const r = await call("POST", "/api/posts", { token: authorToken, body: { title: "With a cover", slug: `cover-${run}`, authorId } });
    assert.equal(r.status, 201, r.text);
    post = r.json().id as number;
  });

  it("signs an upload only for a caller who may change the row, for allowed types and sizes", async () => {
    const path = `/api/posts/${post}/cover/upload`;
    const body = { contentType: "image/png", size: png.length };
    assert.equal((await call("POST", path, { body })).status, 401);
    assert.equal((await call("POST", path, { token: otherToken, body })).status, 404, "a draft of someone else does not exist");
    assert.equal((await call("PATCH", `/api/posts/${post}`, { token: authorToken, body: { published: true } })).status, 200);
    const other = await call("POST", path, { token: otherToken, body });
    assert.equal(other.status, 403, other.text);
    const bad = await call("POST", path, { token: authorToken, body: { contentType: "text/html", size: MAX + 1, fileName: "x.html" } });
    assert.equal(bad.status, 400, bad.text);
    assert.deepEqual((bad.json().errors as { path: string }[]).map((e) => e.path).sort(), ["contentType", "fileName", "size"]);
    const ok = await call("POST", path, { token: authorToken, body });
    assert.equal(ok.status, 201, ok.text);
    const s = ok.json() as unknown as Signed;
    assert.match(s.key, new RegExp(`^posts/${post}/cover/[0-9a-f-]{36}$`));
    assert.equal(s.fields.key, s.key, "the key is the server's, not the file's name");
    key = s.key;
  });

  it("is refused by the storage server over the size, with another type or another key", async () => {
    const s = (await call("POST", `/api/posts/${post}/cover/upload`, { token: authorToken, body: { contentType: "image/png" } })).json() as unknown as Signed;
    const big = await upload(s, Buffer.alloc(MAX + 1, 1));
    if (big.status !== 0) {
      assert.equal(big.status, 400, big.text);
      assert.match(big.text, /EntityTooLarge/);
    }
    const html = await upload(s, Buffer.from("<script>alert(1)</script>"), { "Content-Type": "text/html" });
    assert.ok(html.status === 400 || html.status === 403, `${html.status} ${html.text}`);
    const elsewhere = await upload(s, png, { key: `posts/${post + 1}/cover/${randomUUID()}` });
    assert.ok(elsewhere.status === 400 || elsewhere.status === 403, `${elsewhere.status} ${elsewhere.text}`);
    assert.equal(await exists(s.key), false, "nothing was stored");
    const ok = await upload(s, png);
    assert.ok(ok.status === 204 || ok.status === 201 || ok.status === 200, `${ok.status} ${ok.text}`);
    assert.equal(await exists(s.key), true);
    key = s.key;
  });

  /** A post of `other`'s with an uploaded cover: its key. */
  async function othersCover(): Promise<string> {
    const otherId = idOf(otherToken);
    const theirs = await call("POST", "/api/posts", { token: otherToken, body: { title: "Theirs", slug: `theirs-${run}-${randomUUID().slice(0, 8)}`, authorId: otherId } });
    assert.equal(theirs.status, 201, theirs.text);
    const s = (await call("POST", `/api/posts/${String(theirs.json().id)}/cover/upload`, { token: otherToken, body: { contentType: "image/png" } })).json() as unknown as Signed;
    assert.ok([200, 201, 204].includes((await upload(s, png)).status));
    assert.equal(await exists(s.key), true);
    return s.key;
  }

  /** Writes the cover around the API, as a script or another service could. */
  async function setCoverBySql(id: number, cover: string): Promise<void> {
    const url = process.env.DATABASE_URL ?? "";
    if (url.startsWith("file:")) {
      const db = new Database(url.slice("file:".length));
      db.prepare('UPDATE "Post" SET "cover" = ? WHERE "id" = ?').run(cover, id);
      db.close();
    } else {
      const db = new pg.Client({ connectionString: url });
      await db.connect();
      await db.query('UPDATE "Post" SET "cover" = $1 WHERE "id" = $2', [cover, id]);
      await db.end();
    }
  }

  it("takes into the field only an uploaded key of the same row", async () => {
    const at = `/api/posts/${post}`;
    for (const cover of [await othersCover(), `posts/${post + 1}/cover/${randomUUID()}`, `posts/${post}/cover/${randomUUID()}`, "../../etc/passwd", `posts/${post}/cover/../x`]) {
      const r = await call("PATCH", at, { token: authorToken, body: { cover } });
      assert.equal(r.status, 400, `${cover}: ${r.text}`);
      assert.equal((r.json().errors as { path: string }[])[0]?.path, "cover");
    }
    const created = await call("POST", "/api/posts", { token: authorToken, body: { title: "Cover first", slug: `cover-first-${run}`, authorId, cover: key } });
    assert.equal(created.status, 400, created.text);
    const ok = await call("PATCH", at, { token: authorToken, body: { cover: key } });
    assert.equal(ok.status, 200, ok.text);
    assert.equal(ok.json().cover, key);
  });

  it("signs downloads for callers who may read the row", async () => {
    const path = `/api/posts/${post}/cover`;
    const r = await call("GET", path, { token: otherToken });
    assert.equal(r.status, 200, r.text);
    const url = r.json().url as string;
    const file = await fetch(url);
    assert.equal(file.status, 200);
    assert.deepEqual(Buffer.from(await file.arrayBuffer()), png);
    // The signature covers the key: the same URL for another object is refused.
    const other = url.replace(/\/cover\/[0-9a-f-]{36}/, `/cover/${randomUUID()}`);
    assert.notEqual(other, url);
    assert.equal((await fetch(other)).status, 403, "a signed URL opens its own object only");
    if (STORAGE_DIR !== "") {
      // The local driver's server refuses a malformed path and goes on serving.
      assert.equal((await fetch(`${new URL(url).origin}/covers/posts/%E0%A4%A/x`)).status, 400);
      assert.equal((await fetch(url)).status, 200);
    }
    assert.equal((await call("GET", path)).status, 401);
    assert.equal((await call("PATCH", `/api/posts/${post}`, { token: authorToken, body: { published: false } })).status, 200);
    assert.equal((await call("GET", path, { token: otherToken })).status, 404, "a draft's cover is not someone else's to see");
    assert.equal((await call("GET", path, { token: authorToken })).status, 200);
    // A key written around the API that is not the row's own is not signed.
    const foreign = await othersCover();
    await setCoverBySql(post, foreign);
    assert.equal((await call("GET", path, { token: authorToken })).status, 404, "another row's object is not signed");
    await setCoverBySql(post, key);
  });

  it("uploads and downloads through the generated SDK (uploadPostCover, postCoverUrl)", async () => {
    assert.ok(TREE !== "", "server.sh passes the tree (TREE)");
    const sdk = await treeSdk<{
      uploadPostCover(t: object, id: number, file: Blob): Promise<{ cover: string | null }>;
      postCoverUrl(t: object, id: number): Promise<{ url: string; expiresAt: string }>;
    }>();
    const transport = new sdk.HttpTransport({ baseUrl: API, token: () => authorToken });
    const updated = await sdk.uploadPostCover(transport, post, new Blob([png], { type: "image/png" }));
    assert.match(updated.cover ?? "", new RegExp(`^posts/${post}/cover/[0-9a-f-]{36}$`));
    assert.equal(await gone(key), true, "the SDK's upload replaced the cover");
    key = updated.cover ?? "";
    const signed = await sdk.postCoverUrl(transport, post);
    assert.deepEqual(Buffer.from(await (await fetch(signed.url)).arrayBuffer()), png);
    // Over the limit or of another type: the SDK says the file's size and type, and the API
    // refuses before it signs anything (the storage server's own refusal is checked above).
    for (const file of [new Blob([Buffer.alloc(MAX + 1, 1)], { type: "image/png" }), new Blob(["<p>"], { type: "text/html" })]) {
      await assert.rejects(sdk.uploadPostCover(transport, post, file), (err: Error & { status?: number }) => {
        assert.equal(err.name, "ApiError");
        assert.equal(err.status, 400);
        return true;
      });
    }
    assert.equal((await call("GET", `/api/posts/${post}`, { token: authorToken })).json().cover, key, "the refused uploads changed nothing");
  });

  it("deletes the replaced object, and the object of a deleted row", async () => {
    const s = (await call("POST", `/api/posts/${post}/cover/upload`, { token: authorToken, body: { contentType: "image/webp" } })).json() as unknown as Signed;
    assert.ok([200, 201, 204].includes((await upload(s, png)).status));
    const first = key;
    assert.equal((await call("PATCH", `/api/posts/${post}`, { token: authorToken, body: { cover: s.key } })).status, 200);
    assert.equal(await gone(first), true, "the replaced cover was deleted");
    assert.equal(await exists(s.key), true);
    assert.equal((await call("DELETE", `/api/posts/${post}`, { token: authorToken })).status, 204);
    assert.equal(await gone(s.key), true, "the deleted post's cover was deleted");
    // A row whose key (written around the API) is another row's: deleting it keeps that object.
    const foreign = await othersCover();
    const decoy = await call("POST", "/api/posts", { token: authorToken, body: { title: "Decoy", slug: `decoy-${run}`, authorId } });
    await setCoverBySql(decoy.json().id as number, foreign);
    assert.equal((await call("DELETE", `/api/posts/${String(decoy.json().id)}`, { token: authorToken })).status, 204);
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(await exists(foreign), true, "another row's object was not deleted");
    console.log("storage: uploads signed for the row's writer only; size, type and key enforced by the storage server; covers of other rows refused; replaced and deleted objects removed");
  });
});

// The AI plugin (@@service(ai) on Post in examples/blog/schema.prisma). The server runs with
// AI_BASE_URL pointing at a stand-in of an OpenAI-compatible API that this test serves on AI_PORT:
// a plain HTTP server that answers `POST /v1/chat/completions` and `POST /v1/embeddings` the way
// OpenAI's API reference documents them (a bearer key, JSON in, a `chat.completion` or a `list` of
// embeddings out) and records what it was sent. It is not OpenAI's code; what it checks is what
// the plugin sends: which fields reach the prompt, for whom.
describe("ai plugin (OpenAI-compatible API)", () => {
  interface Sent {
    path: string;
    authorization: string | undefined;
    body: { model: string; messages?: { role: string; content: string }[]; input?: string; encoding_format?: string };
  }
  const sent: Sent[] = [];
  let api: Server;
  let reader: string;
  let editor: string;
  let authorToken: string;
  let post: number;
  let draft: number;
  const note = `moderation-note-${run}`;

  before(async () => {
    const port = Number(process.env.AI_PORT ?? "0");
    assert.ok(port > 0, "server.sh starts the server with AI_BASE_URL and passes AI_PORT");
    api = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => {
        const body = JSON.parse(Buffer.concat(chunks).toString("utf8")) as Sent["body"];
        sent.push({ path: req.url ?? "", authorization: req.headers.authorization, body });
        const json = (status: number, value: unknown) => res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(value));
        const prompt = JSON.stringify(body);
        if (prompt.includes("provider-down")) return json(500, { error: { message: "overloaded", type: "server_error", code: "overloaded" } });
        if (req.url === "/v1/chat/completions") {
          return json(200, {
            id: "chatcmpl-e2e",
            object: "chat.completion",
            created: Math.floor(Date.now() / 1000),
            model: body.model,
            choices: [{ index: 0, message: { role: "assistant", content: `summary #${sent.length}` }, finish_reason: "stop" }],
            usage: { prompt_tokens: 10, completion_tokens: 3, total_tokens: 13 },
          });
        }
        if (req.url === "/v1/embeddings") {
          return json(200, { object: "list", data: [{ object: "embedding", index: 0, embedding: [0.25, -0.5, 1] }], model: body.model, usage: { prompt_tokens: 4, total_tokens: 4 } });
        }
        json(404, { error: { message: "no route", type: "invalid_request_error" } });
      });
    });
    await new Promise<void>((resolve) => api.listen(port, "127.0.0.1", resolve));
    authorToken = await user("ai-author");
    reader = await user("ai-reader");
    editor = await user("ai-editor", "EDITOR");
    const created = await call("POST", "/api/posts", { token: authorToken, body: { title: `Quokkas ${run}`, slug: `ai-${run}`, body: "They smile.", published: true, authorId: idOf(authorToken) } });
    assert.equal(created.status, 201, created.text);
    post = created.json().id as number;
    const noted = await call("PATCH", `/api/posts/${post}`, { token: admin, body: { reviewNote: note } });
    assert.equal(noted.status, 200, noted.text);
    const d = await call("POST", "/api/posts", { token: authorToken, body: { title: "A draft", slug: `ai-draft-${run}`, body: "secret plans", authorId: idOf(authorToken) } });
    draft = d.json().id as number;
  });

  after(() => new Promise<void>((resolve) => api.close(() => resolve())));

  it("puts the fields the caller may read in the prompt, and no other", async () => {
    const r = await call("POST", `/api/posts/${post}/ai/summary`, { token: reader, body: {} });
    assert.equal(r.status, 200, r.text);
    const request = sent.at(-1)!;
    assert.equal(r.json().text, `summary #${sent.length}`);
    assert.equal(request.path, "/v1/chat/completions");
    assert.equal(request.authorization, `Bearer ${process.env.AI_TEST_KEY ?? ""}`);
    assert.equal(request.body.model, "gpt-4o-mini");
    assert.deepEqual(request.body.messages?.[0], { role: "system", content: "Summarize the post in two sentences for a reader of the blog." });
    assert.equal(request.body.messages?.[1]?.content, `title: Quokkas ${run}\nbody: They smile.`);
    assert.ok(!JSON.stringify(request.body).includes(note), "reviewNote is @readable by editors only: not in a reader's prompt");
    const asEditor = await call("POST", `/api/posts/${post}/ai/summary`, { token: editor, body: { input: "Answer in French." } });
    assert.equal(asEditor.status, 200, asEditor.text);
    const edited = sent.at(-1)!.body.messages ?? [];
    assert.equal(edited[1]?.content, `title: Quokkas ${run}\nbody: They smile.\nreviewNote: ${note}`, "an editor's prompt has it");
    assert.deepEqual(edited[2], { role: "user", content: "Answer in French." });
  });

  it("answers 404 for a row the caller may not read, 401 without credentials, and sends nothing", async () => {
    const before = sent.length;
    assert.equal((await call("POST", `/api/posts/${draft}/ai/summary`, { token: reader, body: {} })).status, 404);
    assert.equal((await call("POST", `/api/posts/${draft}/ai/embedding`, { token: reader, body: {} })).status, 404);
    assert.equal((await call("POST", `/api/posts/${post}/ai/summary`, { body: {} })).status, 401);
    assert.equal((await call("POST", `/api/posts/999999999/ai/summary`, { token: reader, body: {} })).status, 404);
    const bad = await call("POST", `/api/posts/${post}/ai/summary`, { token: reader, body: { input: "x".repeat(2001), temperature: 2 } });
    assert.equal(bad.status, 400, bad.text);
    assert.deepEqual((bad.json().errors as { path: string }[]).map((e) => e.path).sort(), ["input", "temperature"]);
    assert.equal((await call("POST", `/api/posts/${post}/ai/embedding`, { token: reader, body: { input: "x" } })).status, 400, "an embedding takes no input");
    assert.equal(sent.length, before, "the provider got no request");
    // The draft's author reads it: their call goes through.
    assert.equal((await call("POST", `/api/posts/${draft}/ai/summary`, { token: authorToken, body: {} })).status, 200);
  });

  it("answers an embedding of the readable fields, and through the SDK", async () => {
    const r = await call("POST", `/api/posts/${post}/ai/embedding`, { token: reader, body: {} });
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(r.json(), { embedding: [0.25, -0.5, 1] });
    assert.deepEqual(sent.at(-1)?.body, { model: "text-embedding-3-small", input: `title: Quokkas ${run}\nbody: They smile.`, encoding_format: "float" });
    const sdk = await treeSdk<{
      postSummary(t: object, id: number, input?: string): Promise<{ text: string }>;
      postEmbedding(t: object, id: number): Promise<{ embedding: number[] }>;
    }>();
    const transport = new sdk.HttpTransport({ baseUrl: API, token: () => reader });
    assert.deepEqual(await sdk.postEmbedding(transport, post), { embedding: [0.25, -0.5, 1] });
    const answer = await sdk.postSummary(transport, post, "Shorter.");
    assert.equal(answer.text, `summary #${sent.length}`);
    assert.equal(sent.at(-1)?.body.messages?.[2]?.content, "Shorter.");
  });

  it("answers 502 when the provider fails, and logs neither the prompt nor the key", async () => {
    const failing = await call("POST", "/api/posts", { token: authorToken, body: { title: "provider-down", slug: `ai-down-${run}`, published: true, authorId: idOf(authorToken) } });
    const id = failing.json().id as number;
    const r = await call("POST", `/api/posts/${id}/ai/summary`, { token: reader, body: {} });
    assert.equal(r.status, 502, r.text);
    assert.match(r.headers.get("content-type") ?? "", /application\/problem\+json/);
    assert.ok(!r.text.includes("overloaded"), "the provider's message is not passed on");
    let line: Record<string, unknown> | undefined;
    for (let i = 0; i < 40 && line === undefined; i++) {
      line = readFileSync(join(TREE, "server.log"), "utf8")
        .split("\n")
        .filter((l) => l.includes('"ai: the provider failed"'))
        .map((l) => JSON.parse(l) as Record<string, unknown>)
        .at(-1);
      if (line === undefined) await new Promise((res) => setTimeout(res, 50));
    }
    assert.ok(line !== undefined, "the failure is logged");
    // pino's line has the fields at its top; the Rust server's (tracing's JSON) under `fields`.
    const fields = (line.fields ?? line) as Record<string, unknown>;
    assert.equal(fields.status, 500);
    assert.equal(fields.task, "summary");
    const log = readFileSync(join(TREE, "server.log"), "utf8");
    assert.ok(!log.includes("provider-down") && !log.includes(note) && !log.includes(process.env.AI_TEST_KEY ?? "-"), "no prompt or key in the log");
  });

  it("limits each caller to requests_per_minute calls of a route", async () => {
    const token = await user("ai-limited");
    const statuses: number[] = [];
    for (let i = 0; i < 21; i++) statuses.push((await call("POST", `/api/posts/${post}/ai/embedding`, { token, body: {} })).status);
    assert.deepEqual(statuses.slice(0, 20), Array(20).fill(200));
    assert.equal(statuses[20], 429, "the 21st call in a minute");
    assert.equal((await call("POST", `/api/posts/${post}/ai/embedding`, { token: reader, body: {} })).status, 200, "another caller is not limited");
    console.log(`ai: ${sent.length} calls reached the stand-in; reader's prompts without the editors-only field; 404 for unreadable rows; 502 on a provider failure; 429 after 20 calls a minute`);
  });
});
