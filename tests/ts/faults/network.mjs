// Fault: client networks that fail without closing. Usage: node network.mjs (TREE, JWT_SECRET,
// DATABASE_URL, PORT_A, PORT_LB; SERVER=rust: the Rust server of RUST_BIN). One instance with
// WS_HEARTBEAT_MS=1000; the faulty clients reach it through a TCP proxy of the test's own
// (node:net), which can stall a connection (stop reading what the server sends, as a peer that
// stopped reading does) or cut it (drop every byte both ways and never close, as a network that
// went away does: the server's TCP sees nothing wrong).
// 1. Slow consumer: while one subscriber's connection is stalled (it keeps answering pings, so it
//    is slow, not dead), 4 subscribers that read keep receiving every event, their latency side by
//    side with a run without the stalled one; the stalled one is closed with 1013 at its buffer
//    limit — seen once it reads again. The limit is 4 MiB here, not the default 1 MiB: the readers
//    share this one process with 16 writes at a time, and a burst is 1.4 MB per reader; on a busy
//    2-core machine a reader that keeps up can be one burst behind for a moment.
// 2. Half-open: a subscriber's connection is cut. The server drops its side within two heartbeats;
//    the SDK, which has heard nothing for `silenceTimeoutMs`, drops its side, connects again,
//    resyncs, and receives what is written afterwards.
import assert from "node:assert/strict";
import net from "node:net";
import { WebSocket } from "ws";
import { author, instance, sleep, subscriber, until } from "./common.mjs";

const heartbeat = 1000;
const silence = 2500;
const [port, portProxy] = ["PORT_A", "PORT_LB"].map((k) => Number(process.env[k]));
const rust = process.env.SERVER === "rust";
const what = rust ? "network (Rust)" : "network";
const maxBuffer = 4 * 1024 * 1024;
const server = await instance("A", port, { WS_HEARTBEAT_MS: String(heartbeat), WS_MAX_BUFFER_BYTES: String(maxBuffer) }, rust);

// The proxy: every connection through it is recorded, to be stalled or cut.
const links = [];
const proxy = net.createServer((down) => {
  const up = net.connect(port, "127.0.0.1");
  const link = { down, up, cut: false, upClosedAt: null };
  links.push(link);
  down.on("data", (d) => link.cut || up.write(d));
  up.on("data", (d) => link.cut || down.write(d));
  up.on("close", () => {
    link.upClosedAt = Date.now();
    if (!link.cut) down.destroy();
  });
  down.on("close", () => link.cut || up.destroy());
  for (const s of [up, down]) s.on("error", () => undefined);
});
await new Promise((r) => proxy.listen(portProxy, "127.0.0.1", r));

const percentile = (xs, p) => {
  const sorted = [...xs].sort((x, y) => x - y);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
};

const subs = [];
let slow;
try {
  const { admin, write } = await author(port, "net");
  for (let i = 0; i < 4; i++) subs.push(await subscriber(`reader ${i}`, port, admin));
  await until("the readers to subscribe", async () => {
    const w = await write(port);
    await sleep(100);
    return subs.every((s) => s.created(w.id));
  });

  // Posts of 90 kB each, 16 at a time: each event carries the body.
  const body = "z".repeat(90_000);
  const burst = async (n) => {
    const done = [];
    for (let i = 0; i < n; i += 16) {
      done.push(...(await Promise.all(Array.from({ length: Math.min(16, n - i) }, () => write(port, { body })))));
    }
    for (const w of done) assert.equal(w.status, 201, w.text ?? w.error);
    await until("every reader to receive the burst", () => done.every((w) => subs.every((s) => s.created(w.id))), 20_000);
    return done.flatMap((w) => subs.map((s) => s.createdAt(w.id) - w.sentAt));
  };

  // 1. Without a slow consumer, then with one (after a first burst that warms the server up).
  await burst(32);
  const alone = await burst(192);
  slow = new WebSocket(`ws://127.0.0.1:${portProxy}/ws`, ["bearer", admin]);
  slow.closedWith = new Promise((r) => slow.on("close", (code) => r(code)));
  slow.on("error", () => undefined);
  await new Promise((r, j) => slow.once("open", r).once("error", j));
  slow.send(JSON.stringify({ type: "subscribe", id: "p", channel: "post" }));
  await new Promise((r) => slow.once("message", r));
  const stalled = links.at(-1);
  stalled.up.pause();
  const pongs = setInterval(() => slow.send(JSON.stringify({ type: "pong" })), heartbeat / 4);
  const started = Date.now();
  const withSlow = await burst(192);
  const burstMs = Date.now() - started;
  clearInterval(pongs);
  stalled.up.resume();
  const code = await Promise.race([slow.closedWith, sleep(15_000).then(() => "no close")]);

  const row = (xs) => `p50 ${percentile(xs, 50)} ms, p95 ${percentile(xs, 95)} ms, max ${Math.max(...xs)} ms`;
  console.log(`# ${what}: injected a subscriber that stops reading (its connection stalled at the proxy, pongs still sent) during 192 posts of 90 kB (${burstMs} ms)`);
  console.log(`# ${what}: 4 readers' event latency (write sent to event received), ${alone.length} events alone: ${row(alone)}`);
  console.log(`# ${what}: the same with the stalled subscriber, ${withSlow.length} events: ${row(withSlow)}; the stalled one closed with ${code} (WS_MAX_BUFFER_BYTES=${maxBuffer})`);
  assert.equal(code, 1013, "the stalled subscriber was not closed with 1013");
  // A gateway that waited for the slow socket would hold every reader until it was dropped.
  const p95 = [percentile(alone, 95), percentile(withSlow, 95)];
  assert.ok(p95[1] <= Math.max(4 * p95[0], p95[0] + 500), `the readers slowed down: p95 ${p95[0]} -> ${p95[1]} ms`);

  // 2. Half-open: a subscriber through the proxy whose connection is cut.
  const lone = await subscriber("cut off", portProxy, admin, { silenceTimeoutMs: silence });
  subs.push(lone);
  await until("the cut-off subscriber to subscribe", async () => {
    const w = await write(port);
    await sleep(100);
    return lone.created(w.id);
  });
  const link = links.at(-1);
  const cutAt = Date.now();
  link.cut = true;
  const during = await write(port);
  await until("the server to drop the half-open socket", () => link.upClosedAt !== null, 4 * heartbeat + 2000);
  await until("the SDK to connect again and resync", () => lone.resyncs.some((t) => t > cutAt), silence + 5000);
  const resyncAt = lone.resyncs.find((t) => t > cutAt);
  const after = await write(port);
  await until("a write after the reconnect to reach it", () => lone.created(after.id), 5000);
  const reaped = link.upClosedAt - cutAt;
  console.log(`# ${what}: injected a cut connection (bytes dropped both ways, never closed); WS_HEARTBEAT_MS=${heartbeat}, silenceTimeoutMs=${silence}`);
  console.log(`# ${what}: the server dropped its side after ${reaped} ms; the SDK connected again and resynced after ${resyncAt - cutAt} ms (${links.length - 1 - links.indexOf(link)} new connection); the write during the cut ${lone.created(during.id) ? "arrived" : "was covered by the resync"}, the one after arrived`);
  assert.ok(reaped <= 2 * heartbeat + 1000, `the half-open socket was reaped after ${reaped} ms`);
  assert.ok(resyncAt - cutAt >= silence - 100, "the SDK reconnected before its silence timeout");
  assert.equal(server.exit, null, `the server died: ${server.log}`);
  console.log(`# ${what}: ok`);
} catch (e) {
  console.log(`-- the server's log:\n${server.log.split("\n").slice(-15).join("\n")}`);
  throw e;
} finally {
  slow?.terminate();
  for (const s of subs) s.close();
  for (const l of links) {
    l.up.destroy();
    l.down.destroy();
  }
  proxy.close();
  if (server.exit === null) server.child.kill("SIGTERM");
  await server.exited;
}
