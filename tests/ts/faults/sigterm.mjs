// Fault: one of two server instances behind one Redis and a TCP balancer is stopped (SIGTERM)
// under load. Usage: node sigterm.mjs (TREE, JWT_SECRET, DATABASE_URL, REDIS_URL, PORT_A,
// PORT_B, PORT_LB; SHUTDOWN_DELAY_MS, default 1000; LOAD_SECONDS, default 4; SERVER=rust: both
// instances are the Rust server of RUST_BIN).
// The balancer is the test's own (node:net): new connections go round-robin to the instances
// whose /ready answered 200 last (polled every 100 ms), the next one if a connect fails.
// Checks: no request through the balancer fails; A, stopped, answers /ready 503 while it still
// serves, exits 0 within the delay + 10 s; its WebSocket subscribers get 1001, reconnect through
// the balancer to B, subscribe again and are told to resync; no event is handed over twice; every
// write's event reached every subscriber or was covered by a resync; writes after the stop reach
// every subscriber.
import assert from "node:assert/strict";
import net from "node:net";
import { author, call, instance, sleep, subscriber, until } from "./common.mjs";

const delay = Number(process.env.SHUTDOWN_DELAY_MS ?? "1000");
const seconds = Number(process.env.LOAD_SECONDS ?? "4");
const [portA, portB, portLb] = ["PORT_A", "PORT_B", "PORT_LB"].map((k) => Number(process.env[k]));
const env = { SHUTDOWN_DELAY_MS: String(delay) };
const rust = process.env.SERVER === "rust";
const a = await instance("A", portA, env, rust);
const b = await instance("B", portB, env, rust);
const what = rust ? "sigterm (Rust)" : "sigterm";

// The balancer.
const backends = [portA, portB].map((port) => ({ port, ready: true, connections: 0 }));
let next = 0;
let polling = true;
const poll = (async () => {
  while (polling) {
    await Promise.all(backends.map(async (be) => (be.ready = (await call(be.port, "GET", "/ready")).status === 200)));
    await sleep(100);
  }
})();
const lb = net.createServer((client) => {
  const order = backends.filter((be) => be.ready);
  const start = next++;
  const tryConnect = (i) => {
    if (i >= order.length) return client.destroy();
    const be = order[(start + i) % order.length];
    const upstream = net.connect(be.port, "127.0.0.1");
    upstream.once("connect", () => {
      be.connections++;
      client.pipe(upstream).pipe(client);
      upstream.on("error", () => client.destroy());
      client.on("error", () => upstream.destroy());
      upstream.on("close", () => client.destroy());
      client.on("close", () => upstream.destroy());
    });
    upstream.once("error", () => {
      if (!upstream.connecting) return;
      tryConnect(i + 1);
    });
  };
  client.on("error", () => undefined);
  tryConnect(0);
});
await new Promise((r) => lb.listen(portLb, "127.0.0.1", r));

const subs = [];
try {
  // Through the balancer; a write counts as covered by a resync that came after it was sent.
  const { admin, token: alice, write: writeTo } = await author(portLb, "term");
  const write = async () => {
    const w = await writeTo(portLb);
    return { ...w, at: w.sentAt };
  };

  // Six subscribers through the balancer, one after the other: three land on each instance.
  for (let i = 0; i < 6; i++) {
    const s = await subscriber(`subscriber ${i}`, portLb, admin);
    subs.push(s);
    await until(`subscriber ${i} connected`, () => s.client.realtime.connected);
  }
  await until("every subscriber subscribed", async () => {
    const w = await write();
    await sleep(150);
    return subs.every((s) => s.created(w.id));
  });

  // Load through the balancer: 6 clients writing and reading, each request on its own connection.
  const writes = [];
  const bad = [];
  let requests = 0;
  let stop = false;
  const worker = async (w) => {
    for (let i = 0; !stop; i++) {
      const r = i % 2 === 0 ? await write() : await call(portLb, "GET", "/api/posts?take=5", alice);
      requests++;
      if (r.status === 201) writes.push(r);
      else if (r.status !== 200) bad.push(`${w}: ${r.status} ${r.error ?? r.text}`);
    }
  };
  const loadAt = Date.now();
  const workers = Array.from({ length: 6 }, (_, w) => worker(w));
  await sleep((seconds * 1000) / 3);

  // SIGTERM to A: /ready 503 at once while A still serves; then it stops.
  const termAt = Date.now();
  a.child.kill("SIGTERM");
  await until("A's /ready to say 503", async () => (await call(portA, "GET", "/ready")).status === 503, 2000);
  const servedWhileDraining = (await call(portA, "GET", "/health")).status;
  const exit = await Promise.race([a.exited, sleep(delay + 12_000).then(() => null)]);
  const refused = (await call(portA, "GET", "/health")).error;
  await sleep((seconds * 1000) / 3);
  stop = true;
  await Promise.all(workers);

  // A's subscribers: 1001, then back through the balancer on B, subscribed again, told to resync.
  const moved = subs.filter((s) => s.closes.some((c) => c.code === 1001));
  await until("the moved subscribers to resync", () => moved.every((s) => s.resyncs.some((t) => t > termAt)));
  const after = await write();
  assert.equal(after.status, 201, after.text ?? after.error);
  await until("a write after the stop to reach every subscriber", () => subs.every((s) => s.created(after.id)), 10_000);
  let twice = 0;
  const lost = [];
  let delivered = 0;
  for (const s of subs) {
    const seen = new Set();
    for (const e of s.events) {
      const key = `${e.event}:${e.id}`;
      if (seen.has(key)) twice++;
      seen.add(key);
    }
    for (const w of writes) {
      if (s.created(w.id)) delivered++;
      else if (!s.resyncs.some((t) => t >= w.at)) lost.push(`${s.name}: post ${w.id}`);
    }
  }

  console.log(`# ${what}: injected SIGTERM to A (of A and B behind the balancer) after ${(termAt - loadAt) / 1000} s of load; SHUTDOWN_DELAY_MS=${delay}`);
  console.log(`# ${what}: A answered /ready 503 and /health ${servedWhileDraining} while draining, exited ${exit === null ? "never" : `with ${exit.code ?? exit.signal} after ${exit.at - termAt} ms`}; then: ${refused ?? "still answering"}`);
  console.log(`# ${what}: ${requests} requests through the balancer (${backends.map((be) => `${be.port === portA ? "A" : "B"} ${be.connections}`).join(", ")} connections), ${bad.length} failed; ${writes.length} writes`);
  console.log(`# ${what}: ${moved.length} of ${subs.length} subscribers got 1001 and reconnected (resync each); ${delivered}/${writes.length * subs.length} events delivered, ${lost.length} lost silently, ${twice} handed over twice`);
  assert.deepEqual(bad, [], "requests through the balancer failed");
  assert.equal(servedWhileDraining, 200, "A stopped serving before the delay was over");
  assert.ok(exit !== null && exit.code === 0, `A did not exit cleanly: ${JSON.stringify(exit)}`);
  assert.equal(refused, "ECONNREFUSED");
  assert.equal(moved.length, 3, "A's three subscribers were not closed with 1001");
  assert.deepEqual(lost, [], "events lost without a resync");
  assert.equal(twice, 0, "an event was handed over twice");
  assert.equal(b.exit, null, `B died: ${b.log}`);
  console.log(`# ${what}: ok`);
} catch (e) {
  for (const i of [a, b]) console.log(`-- ${i.name}'s log:\n${i.log.split("\n").slice(-15).join("\n")}`);
  throw e;
} finally {
  for (const s of subs) s.close();
  polling = false;
  await poll;
  lb.close();
  for (const i of [a, b]) if (i.exit === null) i.child.kill("SIGTERM");
  await Promise.all([a.exited, b.exited]);
}
