// Fault: Redis goes away and comes back under server instances that share it for realtime
// fan-out: A and B (TypeScript) and C (the Rust server, with RUST_BIN). Usage: node
// redis-restart.mjs (TREE, JWT_SECRET, DATABASE_URL, REDIS_URL, REDIS_STOP and REDIS_START: the
// shell commands that do it, PORT_A, PORT_B, PORT_C; OUTAGE_SECONDS, default 2).
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
const [portA, portB, portC] = ["PORT_A", "PORT_B", "PORT_C"].map((k) => Number(process.env[k]));
const servers = [await instance("A", portA, {}), await instance("B", portB, {})];
if (process.env.RUST_BIN) servers.push(await instance("C (Rust)", portC, {}, true));
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

  // Redis away: writes and reads on the instances go on.
  const stoppedAt = Date.now();
  await sh(process.env.REDIS_STOP);
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
  assert.deepEqual(bad, [], "HTTP failed while Redis was away");
  assert.ok(during.length > 0, "no write while Redis was away");
  assert.deepEqual(lost, [], "events lost without a resync");
  assert.equal(readable, during.length);
  for (const i of servers) assert.equal(i.exit, null, `${i.name} died: ${i.log}`);
  console.log("# redis restart: ok");
} catch (e) {
  for (const i of servers) console.log(`-- ${i.name}'s log:\n${i.log.split("\n").slice(-15).join("\n")}`);
  throw e;
} finally {
  for (const s of subs) s.close();
  for (const i of servers) i.child.kill("SIGTERM");
  await Promise.all(servers.map((i) => i.exited));
}
