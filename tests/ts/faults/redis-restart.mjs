// Fault: Redis goes away and comes back under server instances that share it for realtime
// fan-out: A and B (TypeScript) and C (the Rust server, with RUST_BIN). Usage: node
// redis-restart.mjs (TREE, JWT_SECRET, DATABASE_URL, REDIS_URL, REDIS_STOP and REDIS_START: the
// shell commands that do it, PORT_A, PORT_B, PORT_C, PORT_D, PORT_E; OUTAGE_SECONDS, default 2).
// B and C count rate limits in Redis and fail open (RATE_LIMIT_FAIL's default): they serve on.
// D (TypeScript) and E (Rust) fail closed: while Redis is away they answer 503 problem+json with
// Retry-After, and 200 again once it is back.
// Checks: HTTP keeps serving (every write 201, every read 200) while Redis is away; no event is
// silently lost: each subscriber (one per instance, the generated SDK) either received each
// write's event or was told to resync after it; the gateways subscribe again by themselves
// (a write on one instance reaches the other's subscriber afterwards); every write is readable.
import assert from "node:assert/strict";
import { exec } from "node:child_process";
import { promisify } from "node:util";
import { author, call, instance, sleep, subscriber, until } from "./common.mjs";

const outage = Number(process.env.OUTAGE_SECONDS ?? "2") * 1000;
const sh = promisify(exec);
const [portA, portB, portC, portD, portE] = ["PORT_A", "PORT_B", "PORT_C", "PORT_D", "PORT_E"].map((k) => Number(process.env[k]));
const limited = { RATE_LIMIT: "100000" };
const closed = { RATE_LIMIT: "100000", RATE_LIMIT_FAIL: "closed" };
const servers = [await instance("A", portA, {}), await instance("B", portB, limited)];
servers.push(await instance("C (Rust)", portC, limited, true));
const failClosed = [await instance("D", portD, closed), await instance("E (Rust)", portE, closed, true)];
const subs = [];
try {
  // A write counts as covered by a resync that came after its answer (`at`).
  const { admin, token: alice, write } = await author(portA, "redis");

  for (const s of servers) subs.push(await subscriber(`on ${s.name}`, s.port, admin));
  // Both subscribed: a write on A reaches both.
  await until("both subscribers", async () => {
    const w = await write(portA);
    await sleep(150);
    return subs.every((s) => s.created(w.id));
  });

  // Rate limits that fail closed: 200 with Redis, 503 problem+json with Retry-After without.
  const probe = async (i) => {
    const r = await call(i.port, "GET", "/api/posts?take=1", alice);
    const problem = r.status === 503 && /problem\+json/.test(r.headers?.["content-type"] ?? "") && r.headers?.["retry-after"] === "1";
    return problem ? "503" : String(r.status);
  };
  for (const i of failClosed) assert.equal(await probe(i), "200", `${i.name} before the outage`);

  // Redis away: writes and reads on the instances go on.
  const stoppedAt = Date.now();
  await sh(process.env.REDIS_STOP);
  // Past the Rust server's 500 ms wait for Redis, and ioredis' notice that it is gone.
  await sleep(200);
  const closedDuring = await Promise.all(failClosed.map(probe));
  const during = [];
  const bad = [];
  for (let i = 0; Date.now() - stoppedAt < outage; i++) {
    const on = servers[i % servers.length];
    const w = await write(on.port);
    if (w.status !== 201) bad.push(`write on ${on.name}: ${w.status} ${w.text ?? w.error}`);
    else during.push(w);
    const r = await call(servers[(i + 1) % servers.length].port, "GET", "/api/posts?take=5", alice);
    if (r.status !== 200) bad.push(`read: ${r.status} ${r.text ?? r.error}`);
    await sleep(20);
  }
  await sh(process.env.REDIS_START);
  const startedAt = Date.now();
  await until("the fail-closed instances to count again", async () => (await Promise.all(failClosed.map(probe))).every((p) => p === "200"));
  const closedBackMs = Date.now() - startedAt;

  // Each subscriber is told to resync after Redis is back (or got every event).
  await until("a resync on every subscriber", async () =>
    subs.every((s) => s.resyncs.some((t) => t >= startedAt) || during.every((w) => s.created(w.id))),
  );
  const resyncMs = Math.max(...subs.map((s) => (s.resyncs.find((t) => t >= startedAt) ?? startedAt) - startedAt));
  const lost = [];
  let live = 0;
  for (const s of subs) {
    for (const w of during) {
      if (s.created(w.id)) live++;
      else if (!s.resyncs.some((t) => t >= w.at)) lost.push(`${s.name}: post ${w.id}`);
    }
  }

  // The gateways subscribed again by themselves: a write on each instance reaches every one.
  const after = [];
  for (const s of servers) after.push(await write(s.port));
  await until("events after Redis came back", async () => after.every((w) => subs.every((s) => s.created(w.id))), 10_000);

  // The refetch a resync asks for sees every write.
  let readable = 0;
  for (const w of during) if ((await call(portB, "GET", `/api/posts/${w.id}`, admin)).status === 200) readable++;

  console.log(`# redis restart: injected a Redis stop for ${startedAt - stoppedAt} ms under instances ${servers.map((s) => s.name).join(", ")}`);
  console.log(`# redis restart: ${during.length} writes and ${during.length} reads while away, ${bad.length} failed; ${readable}/${during.length} writes readable afterwards`);
  console.log(`# redis restart: of ${during.length * subs.length} events due, ${live} delivered, the rest covered by a resync ${resyncMs} ms after Redis was back; ${lost.length} lost silently`);
  console.log(`# redis restart: after it, a write on each instance reached every subscriber`);
  console.log(`# redis restart: rate limits that fail open (B, C) served on; those that fail closed (D, E) answered ${closedDuring.join(" and ")} while away, 200 again ${closedBackMs} ms after Redis was back`);
  assert.deepEqual(bad, [], "HTTP failed while Redis was away");
  assert.deepEqual(closedDuring, ["503", "503"], "RATE_LIMIT_FAIL=closed did not refuse while Redis was away");
  assert.ok(during.length > 0, "no write while Redis was away");
  assert.deepEqual(lost, [], "events lost without a resync");
  assert.equal(readable, during.length);
  for (const i of servers) assert.equal(i.exit, null, `${i.name} died: ${i.log}`);
  console.log("# redis restart: ok");
} catch (e) {
  for (const i of [...servers, ...failClosed]) console.log(`-- ${i.name}'s log:\n${i.log.split("\n").slice(-15).join("\n")}`);
  throw e;
} finally {
  for (const s of subs) s.close();
  for (const i of [...servers, ...failClosed]) i.child.kill("SIGTERM");
  await Promise.all([...servers, ...failClosed].map((i) => i.exited));
}
