// Fault: PostgreSQL restarts under a mixed load of writes and reads against a generated server:
// `pg_ctl stop -m fast`, OUTAGE_SECONDS away (default 2), then started again. Usage: node
// pg-restart.mjs (API_URL, JWT_SECRET, DATABASE_URL, RESTART: the shell command that does it;
// LOAD_SECONDS, default 8).
// Checks: every answer is a 2xx or a 503 problem+json with Retry-After (no 500, nothing hung past
// the client's 15 s timeout); /ready answers 503 while the database is away and 200 after; the
// pool recovers without a restart of the server; every write that answered 201 is in the
// database afterwards, by id. Prints what it injected and what it verified.
import assert from "node:assert/strict";
import { exec } from "node:child_process";
import { promisify } from "node:util";
import { SignJWT } from "jose";
import pg from "pg";

const API = process.env.API_URL;
const secret = new TextEncoder().encode(process.env.JWT_SECRET);
const seconds = Number(process.env.LOAD_SECONDS ?? "8");
const what = process.env.SERVER_NAME === undefined ? "pg restart" : `pg restart (${process.env.SERVER_NAME})`;
const run = Date.now().toString(36);
const token = (claims) => new SignJWT(claims).setProtectedHeader({ alg: "HS256" }).setExpirationTime("10m").sign(secret);

async function call(method, path, tok, body) {
  const started = Date.now();
  try {
    const res = await fetch(API + path, {
      method,
      headers: { authorization: `Bearer ${tok}`, ...(body ? { "content-type": "application/json" } : {}) },
      body: body ? JSON.stringify(body) : undefined,
      signal: AbortSignal.timeout(15_000),
    });
    const text = await res.text();
    return { status: res.status, headers: res.headers, text, ms: Date.now() - started };
  } catch (e) {
    return { status: 0, error: String(e), ms: Date.now() - started };
  }
}

const admin = await token({ id: 1_000_000, role: "ADMIN" });
const u = await call("POST", "/api/users", admin, { email: `fault-${run}@example.com`, name: "fault", role: "USER", passwordHash: "x" });
assert.equal(u.status, 201, u.text);
const userId = JSON.parse(u.text).id;
const alice = await token({ id: userId, role: "USER" });

const statuses = new Map();
const written = [];
const bad = [];
let n = 0;
let slowest = 0;
let stop = false;
let restartAt = 0;
let restartedAt = 0;
const readyLog = [];

async function worker(w) {
  for (let i = 0; !stop; i++) {
    const write = i % 2 === 0;
    const r = write
      ? await call("POST", "/api/posts", alice, { title: `Fault ${w}.${i}`, slug: `fault-${run}-${w}-${i}`, authorId: userId })
      : await call("GET", "/api/posts?take=5", alice);
    n++;
    slowest = Math.max(slowest, r.ms);
    statuses.set(r.status, (statuses.get(r.status) ?? 0) + 1);
    if (r.status === 201) written.push(JSON.parse(r.text).id);
    else if (r.status === 503) {
      const ok = /application\/problem\+json/.test(r.headers.get("content-type") ?? "") && /^\d+$/.test(r.headers.get("retry-after") ?? "");
      if (!ok) bad.push({ status: 503, why: "no problem+json or Retry-After", text: r.text });
    } else if (!(r.status >= 200 && r.status < 300)) bad.push({ status: r.status, ms: r.ms, text: r.text ?? r.error });
    if (r.status === 503) await new Promise((res) => setTimeout(res, 50));
  }
}

async function readiness() {
  while (!stop) {
    const r = await call("GET", "/ready", admin);
    readyLog.push({ at: Date.now(), status: r.status });
    await new Promise((res) => setTimeout(res, 25));
  }
}

const started = Date.now();
const workers = [...Array.from({ length: 8 }, (_, w) => worker(w)), readiness()];
await new Promise((res) => setTimeout(res, (seconds * 1000) / 3));
restartAt = Date.now();
// Asynchronously: the load goes on while the database is away.
await promisify(exec)(process.env.RESTART);
restartedAt = Date.now();
await new Promise((res) => setTimeout(res, (seconds * 2000) / 3));
stop = true;
await Promise.all(workers);

// Recovery: the first ready answer after the restart command returned, and a write that works.
const after = readyLog.filter((x) => x.at >= restartedAt);
const recovered = after.find((x) => x.status === 200);
const notReady = readyLog.filter((x) => x.at >= restartAt && x.status === 503).length;
const final = await call("POST", "/api/posts", alice, { title: "after", slug: `fault-${run}-after`, authorId: userId });
assert.equal(final.status, 201, `the pool did not recover: ${final.status} ${final.text ?? final.error}`);
written.push(JSON.parse(final.text).id);

// Every 201 is in the database.
const client = new pg.Client({ connectionString: process.env.DATABASE_URL });
await client.connect();
const found = await client.query('SELECT id FROM "Post" WHERE id = ANY($1::int[])', [written]);
await client.end();

const summary = [...statuses.entries()].sort().map(([s, c]) => `${s}: ${c}`).join(", ");
console.log(`# ${what}: injected a PostgreSQL stop (-m fast) and start at ${((restartAt - started) / 1000).toFixed(1)} s (away ${restartedAt - restartAt} ms) under 8 clients`);
console.log(`# ${what}: ${n} requests (${summary}); /ready said 503 ${notReady} time(s); ready again ${recovered ? recovered.at - restartedAt : "never"} ms after the restart returned`);
console.log(`# ${what}: slowest answer ${slowest} ms; /ready answers: ${[...new Set(readyLog.map((x) => x.status))].join(", ")} (${readyLog.length})`);
console.log(`# ${what}: ${written.length} writes answered 201, ${found.rowCount} found by id afterwards`);
assert.deepEqual(bad, [], "answers other than 2xx or 503 problem+json with Retry-After");
assert.ok(notReady > 0, "/ready never reported the database away");
assert.ok(recovered !== undefined, "/ready never recovered");
assert.equal(found.rowCount, written.length, "a write that answered 201 is missing");
console.log(`# ${what}: ok`);
