// Writes outside the API (the external_writes plugin): a program other than the API — here a
// script on its own `pg` connection — writes the blog's tables, and the API's subscribers hear of
// it under the same policies. Usage: node external-writes.mjs (TREE: a tree generated with
// [plugins.external_writes], JWT_SECRET, DATABASE_URL, REDIS_URL, PORT_A, PORT_B; SERVER=rust:
// the Rust server of RUST_BIN, built with the same plugin). Two instances share Redis; A starts
// first and installs the triggers and listens (the advisory lock elects it), B waits. Subscribers: alice (the author) on A, bob (another user) and
// an admin on B, to posts; bob to comments.
// Checks: an inserted post reaches those who may read it, once each, with @readable fields only
// for the admin; a draft never reaches bob, nor a comment on a draft; an update comes as
// `updated` to those who may read the row, and as a resync (never the row) to the others; a
// delete as a resync; a write through the API comes once, not twice; a burst of 50 updates costs
// each subscriber a handful of resyncs, not 50; when A stops, B takes over within seconds, its
// subscribers resync, and the next insert reaches them.
import assert from "node:assert/strict";
import pg from "pg";
import { author, call, instance, sleep, subscriber, token, until } from "./common.mjs";

const rust = process.env.SERVER === "rust";
const what = rust ? "external writes (Rust)" : "external writes";
const [portA, portB] = ["PORT_A", "PORT_B"].map((k) => Number(process.env[k]));
const a = await instance("A", portA, {}, rust);
const b = await instance("B", portB, {}, rust);
const script = new pg.Client({ connectionString: process.env.DATABASE_URL, application_name: "a script" });
await script.connect();
const subs = [];
try {
  const triggers = await script.query(`SELECT tgrelid::regclass::text AS t FROM pg_trigger WHERE tgname = 'ssot_changes' ORDER BY 1`);
  console.log(`# ${what}: triggers on ${triggers.rows.map((r) => r.t).join(", ")}`);
  assert.deepEqual(triggers.rows.map((r) => r.t), ['"Comment"', '"Post"']);

  const alice = await author(portA, "ext-alice");
  const bob = await author(portA, "ext-bob");
  const aliceId = Number(JSON.parse(Buffer.from(alice.token.split(".")[1], "base64url")).id);
  const admin = await token({ id: 1_000_000, role: "ADMIN" });
  const sa = await subscriber("alice", portA, alice.token);
  const sb = await subscriber("bob", portB, bob.token);
  const sx = await subscriber("admin", portB, admin);
  const sc = await subscriber("bob's comments", portB, bob.token, {}, "comment");
  subs.push(sa, sb, sx, sc);
  const posts = [sa, sb, sx];
  await until("every subscriber connected", () => subs.every((s) => s.client.realtime.connected));
  await sleep(300);

  const run = Date.now().toString(36);
  const insert = async (published, note) => {
    const { rows } = await script.query(
      `INSERT INTO "Post" (title, slug, published, "reviewNote", "authorId") VALUES ($1, $2, $3, $4, $5) RETURNING id`,
      [`Outside ${run}`, `outside-${run}-${published}`, published, note, aliceId],
    );
    return rows[0].id;
  };
  const events = (s, id, kind) => s.events.filter((e) => e.id === id && (kind === undefined || e.event === kind));
  const resyncsSince = (s, t) => s.resyncs.filter((r) => r >= t).length;

  // An insert: exact, under the read rule and the field rules.
  const pub = await insert(true, "only for editors");
  await until("the published post to reach every post subscriber", () => posts.every((s) => events(s, pub, "created").length > 0));
  const draft = await insert(false, null);
  await until("the draft to reach alice and the admin", () => [sa, sx].every((s) => events(s, draft, "created").length > 0));
  await sleep(300);
  assert.equal(events(sb, draft).length, 0, "bob was told of a draft he may not read");
  assert.ok(posts.every((s) => events(s, pub, "created").length === 1), "an insert was delivered twice");
  assert.equal(events(sb, pub)[0].data.reviewNote, undefined, "a @readable field reached bob");
  assert.equal(events(sx, pub)[0].data.reviewNote, "only for editors");

  // A rule through a relation: comments are readable on published posts (and by their author).
  await script.query(`INSERT INTO "Comment" (body, "postId", "authorId") VALUES ('on the draft', $1, $2), ('on the post', $3, $2)`, [draft, aliceId, pub]);
  await until("the comment on the published post to reach bob", () => sc.events.some((e) => e.data.body === "on the post"));
  await sleep(300);
  assert.ok(!sc.events.some((e) => e.data.body === "on the draft"), "bob was told of a comment on a draft");

  // Updates: the row to those who may read it, a resync to everyone (what it was is not known).
  let t = Date.now();
  await script.query(`UPDATE "Post" SET title = 'Outside, renamed' WHERE id = $1`, [pub]);
  await script.query(`UPDATE "Post" SET title = 'Draft, renamed' WHERE id = $1`, [draft]);
  await until("the updates and resyncs", () => posts.every((s) => events(s, pub, "updated").length > 0 && resyncsSince(s, t) > 0));
  await until("the draft's update to reach alice and the admin", () => [sa, sx].every((s) => events(s, draft, "updated").length > 0));
  assert.equal(events(sb, pub, "updated")[0].data.title, "Outside, renamed");
  assert.equal(events(sb, draft).length, 0, "bob was told of the draft's update");

  // A delete: a resync, and no row.
  t = Date.now();
  await script.query(`DELETE FROM "Post" WHERE id = $1`, [draft]);
  await until("the delete's resync", () => posts.every((s) => resyncsSince(s, t) > 0));
  assert.equal(events(sb, draft).length, 0);

  // A burst: 50 updates in one second are a few resyncs, not 50.
  t = Date.now();
  for (let i = 0; i < 50; i++) await script.query(`UPDATE "Post" SET views = views + 1 WHERE id = $1`, [pub]);
  await sleep(1000);
  const burst = Math.max(...posts.map((s) => resyncsSince(s, t)));
  assert.ok(burst >= 1 && burst <= 10, `50 updates cost ${burst} resyncs`);

  // The API's own write: once, not twice (its connection is named ssot; the trigger skips it).
  const w = await alice.write(portA, { published: true });
  assert.equal(w.status, 201, w.text);
  await until("the API's write to reach every post subscriber", () => posts.every((s) => events(s, w.id, "created").length > 0));
  await sleep(500);
  assert.ok(posts.every((s) => events(s, w.id).length === 1), "the API's write was delivered twice");

  // A stops: B takes the lock, its subscribers resync, and listens.
  t = Date.now();
  a.child.kill("SIGTERM");
  await a.exited;
  await until("B's subscribers to resync after taking over", () => [sb, sx].every((s) => resyncsSince(s, t) > 0), 10_000);
  const tookOver = Math.min(...[sb, sx].map((s) => s.resyncs.find((r) => r >= t))) - t;
  const later = await script.query(`INSERT INTO "Post" (title, slug, published, "authorId") VALUES ('After A', $1, true, $2) RETURNING id`, [`after-${run}`, aliceId]);
  await until("an insert after the takeover to reach bob and the admin", () => [sb, sx].every((s) => events(s, later.rows[0].id, "created").length > 0));

  console.log(`# ${what}: a script inserted, updated and deleted posts and comments; bob saw the published post without its @readable note, no draft and no comment on a draft; the admin saw the note`);
  console.log(`# ${what}: updates came as the row to those who may read it plus a resync, the delete as a resync; 50 updates in a burst cost at most ${burst} resyncs; an API write came once`);
  console.log(`# ${what}: A (the listener) stopped; B took over and its subscribers resynced ${tookOver} ms later; the next insert reached them`);
  assert.equal(b.exit, null, `B died: ${b.log}`);
  console.log(`# ${what}: ok`);
} catch (e) {
  for (const i of [a, b]) console.log(`-- ${i.name}'s log:\n${i.log.split("\n").slice(-15).join("\n")}`);
  throw e;
} finally {
  for (const s of subs) s.close();
  await script.end();
  for (const i of [a, b]) if (i.exit === null) i.child.kill("SIGTERM");
  await Promise.all([a.exited, b.exited]);
}
