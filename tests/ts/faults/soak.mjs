// Soak: mixed HTTP and WebSocket load on one instance for SOAK_SECONDS (default 15; the full run
// of docs/reliability.md uses 600). Usage: node soak.mjs (TREE, JWT_SECRET, DATABASE_URL, PORT_A;
// SERVER=rust: the Rust server of RUST_BIN).
// Load: 4 writers each creating a post, renaming it, commenting on it, reading both back and
// deleting the post (its comments go with it); 4 readers listing posts, filtered and paged; 6 SDK
// subscribers to the post channel, one of which is closed and replaced every second (a new socket,
// a new subscription, some with a filter).
// Checks: no answer other than the planned 2xx; no error in the server's log; a write at the end
// reaches every subscriber; memory stays flat: the resident set at the end is within a quarter
// (or 24 MiB) of the one in the middle. Prints the resident set at the start, middle and end.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { author, call, instance, sleep, subscriber, token, until } from "./common.mjs";

const seconds = Number(process.env.SOAK_SECONDS ?? "15");
const port = Number(process.env.PORT_A);
const rust = process.env.SERVER === "rust";
const what = rust ? "soak (Rust)" : "soak";
const server = await instance("A", port, {}, rust);

const rss = () => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${server.child.pid}/status`, "utf8"))[1]) / 1024;
const samples = [{ at: 0, mib: rss() }];

const subs = [];
let stop = false;
try {
  const { token: alice, write } = await author(port, "soak");
  const admin = await token({ id: 1_000_000, role: "ADMIN" });
  const counts = new Map();
  const bad = [];
  const expect = (r, status, step) => {
    counts.set(status, (counts.get(status) ?? 0) + 1);
    if (r.status !== status) bad.push(`${step}: ${r.status} ${(r.text ?? r.error ?? "").slice(0, 200)}`);
    return r.status === status && r.text ? JSON.parse(r.text) : null;
  };
  let requests = 0;
  const writer = async () => {
    while (!stop) {
      const w = await write(port, { body: "soak ".repeat(40) });
      const post = expect(w, 201, "create a post");
      requests += 6;
      if (post === null) continue;
      expect(await call(port, "PATCH", `/api/posts/${post.id}`, alice, { title: `${post.title} again` }), 200, "rename it");
      expect(await call(port, "POST", "/api/comments", alice, { body: "a comment", postId: post.id, authorId: post.authorId }), 201, "comment on it");
      expect(await call(port, "GET", `/api/posts/${post.id}`, alice), 200, "read it");
      expect(await call(port, "GET", `/api/comments?filter[postId][equals]=${post.id}`, alice), 200, "read its comments");
      expect(await call(port, "DELETE", `/api/posts/${post.id}`, alice), 204, "delete it");
    }
  };
  const reader = async (i) => {
    for (let k = 0; !stop; k++) {
      const path = k % 2 === 0 ? `/api/posts?take=10&skip=${k % 5}&orderBy=-id&include=author` : "/api/posts/count?filter[published][equals]=false";
      expect(await call(port, "GET", path, i % 2 === 0 ? alice : admin), 200, `list ${path}`);
      requests++;
    }
  };
  for (let i = 0; i < 6; i++) subs.push(await subscriber(`subscriber ${i}`, port, admin));
  let replaced = 0;
  const churn = (async () => {
    for (let i = 0; !stop; i++) {
      await sleep(1000);
      if (stop) break;
      const k = i % subs.length;
      subs[k].close();
      subs[k] = await subscriber(`subscriber ${k}.${i}`, port, admin);
      replaced++;
    }
  })();
  const sampler = (async () => {
    const t0 = Date.now();
    while (!stop) {
      await sleep(500);
      samples.push({ at: (Date.now() - t0) / 1000, mib: rss() });
    }
  })();
  const started = Date.now();
  const workers = [...Array.from({ length: 4 }, writer), ...Array.from({ length: 4 }, (_, i) => reader(i))];
  await sleep(seconds * 1000);
  stop = true;
  await Promise.all([...workers, churn, sampler]);
  const elapsed = (Date.now() - started) / 1000;

  await until("every subscriber connected", () => subs.every((s) => s.client.realtime.connected));
  await until("a write at the end to reach every subscriber", async () => {
    const w = await write(port);
    await sleep(200);
    return subs.every((s) => s.created(w.id));
  });
  const events = subs.reduce((n, s) => n + s.events.length, 0);
  const errors = server.log.split("\n").filter((l) => /"level":(50|60)|\bERROR\b|"level":"error"/.test(l));
  const at = (f) => samples[Math.min(samples.length - 1, Math.round(f * (samples.length - 1)))];
  const [first, middle, end] = [samples[0], at(0.5), samples.at(-1)];
  const peak = Math.max(...samples.map((s) => s.mib));
  console.log(`# ${what}: ${elapsed.toFixed(0)} s of load: 4 writers (create, rename, comment, read, read comments, delete), 4 readers, 6 subscribers with one replaced every second (${replaced} replaced)`);
  console.log(`# ${what}: ${requests} requests (${[...counts].map(([s, n]) => `${n} × ${s}`).join(", ")}), ${bad.length} unplanned answers; ${events} events delivered to the last 6 subscribers; ${errors.length} errors logged`);
  console.log(`# ${what}: resident memory ${first.mib.toFixed(0)} MiB at the start, ${middle.mib.toFixed(0)} MiB in the middle (${middle.at.toFixed(0)} s), ${end.mib.toFixed(0)} MiB at the end (${end.at.toFixed(0)} s), peak ${peak.toFixed(0)} MiB`);
  assert.deepEqual(bad.slice(0, 5), [], "unplanned answers");
  assert.deepEqual(errors.slice(0, 5), [], "errors in the server's log");
  assert.ok(end.mib <= middle.mib + Math.max(middle.mib / 4, 24), `memory grew from ${middle.mib.toFixed(0)} to ${end.mib.toFixed(0)} MiB`);
  assert.equal(server.exit, null, `the server died: ${server.log}`);
  console.log(`# ${what}: ok`);
} catch (e) {
  console.log(`-- the server's log:\n${server.log.split("\n").slice(-15).join("\n")}`);
  throw e;
} finally {
  stop = true;
  for (const s of subs) s.close();
  if (server.exit === null) server.child.kill("SIGTERM");
  await server.exited;
}
