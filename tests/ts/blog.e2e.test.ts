// End-to-end suite of the generated blog server (examples/blog), run by tests/ts/server.sh against
// a running server (API_URL) on a fresh database, for every framework × mode × database. It
// checks CRUD, validation, pagination, problem+json, limits and the cross-tenant matrix: a
// principal never reads, changes, deletes or includes another's private rows or masked fields.

import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import { SignJWT } from "jose";

const API = process.env.API_URL ?? "http://127.0.0.1:3000";
const SECRET = new TextEncoder().encode(process.env.JWT_SECRET ?? "");
const PASSWORD_HASH = "argon2id$never-in-a-response";

type Json = Record<string, unknown>;
interface Res {
  status: number;
  headers: Headers;
  body: Json;
  text: string;
}

async function token(claims: Json, expires = "10m"): Promise<string> {
  return new SignJWT(claims).setProtectedHeader({ alg: "HS256" }).setExpirationTime(expires).sign(SECRET);
}

async function call(method: string, path: string, opts: { token?: string; body?: unknown; headers?: Record<string, string> } = {}): Promise<Res> {
  const headers: Record<string, string> = { ...opts.headers };
  if (opts.token !== undefined) headers.authorization = `Bearer ${opts.token}`;
  if (opts.body !== undefined) headers["content-type"] ??= "application/json";
  const res = await fetch(API + path, {
    method,
    headers,
    ...(opts.body !== undefined ? { body: typeof opts.body === "string" ? opts.body : JSON.stringify(opts.body) } : {}),
  });
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: text === "" ? {} : (JSON.parse(text) as Json), text };
}

function isProblem(r: Res, status: number): void {
  assert.equal(r.status, status, r.text);
  assert.match(r.headers.get("content-type") ?? "", /application\/problem\+json/);
  assert.equal(r.body.status, status);
  assert.equal(typeof r.body.title, "string");
  assert.equal(r.body.requestId, r.headers.get("x-request-id"));
  assert.ok(!r.text.includes("prisma") && !r.text.includes("SELECT"), `internals leaked: ${r.text}`);
}

const run = Date.now().toString(36);
let admin: string;
let alice: { id: number; token: string };
let bob: { id: number; token: string };
let editor: { id: number; token: string };
let draft: Json;
let published: Json;

async function createUser(name: string, role = "USER"): Promise<{ id: number; token: string }> {
  const r = await call("POST", "/api/users", {
    token: admin,
    body: { email: `${name}-${run}@example.com`, name, role, passwordHash: PASSWORD_HASH },
  });
  assert.equal(r.status, 201, r.text);
  const id = r.body.id as number;
  return { id, token: await token({ id, role }) };
}

before(async () => {
  admin = await token({ id: 1_000_000, role: "ADMIN" });
  alice = await createUser("alice");
  bob = await createUser("bob");
  editor = await createUser("editor", "EDITOR");
  const d = await call("POST", "/api/posts", {
    token: alice.token,
    body: { title: "Alice's draft", slug: `draft-${run}`, body: "secret plans", authorId: alice.id, reviewNote: "needs work" },
  });
  assert.equal(d.status, 201, d.text);
  draft = d.body;
  const p = await call("POST", "/api/posts", {
    token: alice.token,
    body: { title: "Hello world", slug: `hello-${run}`, body: "public", published: true, authorId: alice.id },
  });
  assert.equal(p.status, 201, p.text);
  published = p.body;
});

describe("auth", () => {
  it("needs a token for @@auth(jwt) models and rejects bad or expired ones", async () => {
    const r = await call("GET", "/api/posts");
    isProblem(r, 401);
    assert.equal(r.headers.get("www-authenticate"), "Bearer");
    isProblem(await call("GET", "/api/posts", { token: "not.a.jwt" }), 401);
    isProblem(await call("GET", "/api/posts", { token: await token({ id: alice.id, role: "USER" }, "-1m") }), 401);
    const forged = await new SignJWT({ id: alice.id, role: "ADMIN" })
      .setProtectedHeader({ alg: "HS256" })
      .sign(new TextEncoder().encode("some-other-secret"));
    isProblem(await call("GET", "/api/posts", { token: forged }), 401);
    isProblem(await call("GET", "/api/posts", { token: await token({ id: alice.id, role: "KING" }) }), 401);
  });

  it("lets anonymous callers read @@auth(public) models but not write them", async () => {
    const r = await call("GET", "/api/tags");
    assert.equal(r.status, 200, r.text);
    isProblem(await call("POST", "/api/tags", { body: { name: `anon-${run}` } }), 403);
    const t = await call("POST", "/api/tags", { token: admin, body: { name: `t-${run}` } });
    assert.equal(t.status, 201, t.text);
  });
});

describe("field security", () => {
  it("never returns @writeOnly fields, even to admins or in includes", async () => {
    for (const tok of [admin, alice.token, bob.token]) {
      const r = await call("GET", `/api/users?take=100&include=posts`, { token: tok });
      assert.equal(r.status, 200);
      assert.ok(!r.text.includes("passwordHash") && !r.text.includes(PASSWORD_HASH));
      const p = await call("GET", `/api/posts/${published.id}?include=author`, { token: tok });
      assert.ok(!p.text.includes("passwordHash"));
    }
  });

  it("masks @readable fields per row and principal", async () => {
    const self = await call("GET", `/api/users/${alice.id}`, { token: alice.token });
    assert.equal(self.body.email, `alice-${run}@example.com`);
    const other = await call("GET", `/api/users/${alice.id}`, { token: bob.token });
    assert.equal(other.status, 200);
    assert.ok(!("email" in other.body), other.text);
    const byAdmin = await call("GET", `/api/users/${alice.id}`, { token: admin });
    assert.equal(byAdmin.body.email, `alice-${run}@example.com`);
    const own = await call("GET", `/api/posts/${draft.id}`, { token: alice.token });
    assert.ok(!("reviewNote" in own.body), "reviewNote is for editors only");
    const ed = await call("GET", `/api/posts/${draft.id}`, { token: editor.token });
    assert.equal(ed.body.reviewNote, "needs work");
    const included = await call("GET", `/api/posts/${published.id}?include=author`, { token: bob.token });
    assert.ok(!("email" in (included.body.author as Json)), "masks apply inside includes");
  });

  it("refuses to filter or sort by masked fields", async () => {
    isProblem(await call("GET", "/api/posts?filter[reviewNote][equals]=needs%20work", { token: bob.token }), 400);
    isProblem(await call("GET", "/api/users?orderBy=email", { token: bob.token }), 400);
    isProblem(await call("GET", "/api/users?filter[passwordHash][equals]=x", { token: admin }), 400);
  });

  it("checks @writable: only admins may change a role", async () => {
    isProblem(await call("PATCH", `/api/users/${alice.id}`, { token: alice.token, body: { role: "ADMIN" } }), 403);
    const after = await call("GET", `/api/users/${alice.id}`, { token: admin });
    assert.equal(after.body.role, "USER");
    const ok = await call("PATCH", `/api/users/${alice.id}`, { token: alice.token, body: { name: "Alice A." } });
    assert.equal(ok.status, 200, ok.text);
    assert.equal(ok.body.name, "Alice A.");
  });
});

describe("permissions (what the UI asks before it offers an action)", () => {
  type Perms = { read: boolean; create: boolean; update: boolean; delete: boolean; fields: Record<string, { read: boolean; write: boolean }> };
  const perms = async (path: string, tok: string | undefined): Promise<Perms> => {
    const r = await call("GET", path, tok === undefined ? {} : { token: tok });
    assert.equal(r.status, 200, r.text);
    return r.body as unknown as Perms;
  };

  it("answers for the model: false only where the policy denies every row", async () => {
    const asAlice = await perms("/api/posts/permissions", alice.token);
    assert.deepEqual([asAlice.read, asAlice.create, asAlice.update, asAlice.delete], [true, true, true, true]);
    // reviewNote has a @readable rule and no @writable one: an author sets a note she cannot read.
    assert.deepEqual(asAlice.fields.reviewNote, { read: false, write: true });
    assert.deepEqual(asAlice.fields.title, { read: true, write: true });
    assert.deepEqual(asAlice.fields.id, { read: true, write: false }, "ids are made by the database");
    assert.equal((await perms("/api/posts/permissions", editor.token)).fields.reviewNote?.read, true);
    const users = await perms("/api/users/permissions", alice.token);
    assert.deepEqual([users.create, users.update, users.delete], [false, true, false], "only admins create and delete users");
    assert.deepEqual(users.fields.passwordHash, { read: false, write: false });
    assert.equal(users.fields.email?.read, true, "email is readable on some rows (one's own)");
    const byAdmin = await perms("/api/users/permissions", admin);
    assert.deepEqual([byAdmin.create, byAdmin.delete], [true, true]);
    assert.deepEqual(byAdmin.fields.passwordHash, { read: false, write: true }, "@writeOnly: set, never read");
    assert.deepEqual(byAdmin.fields.role, { read: true, write: true });
    const tags = await perms("/api/tags/permissions", undefined);
    assert.deepEqual([tags.read, tags.create, tags.update, tags.delete], [true, false, false, false]);
  });

  it("answers for one row by evaluating the row's policies", async () => {
    const own = await perms(`/api/posts/${draft.id}/permissions`, alice.token);
    assert.deepEqual([own.read, own.update, own.delete], [true, true, true]);
    assert.deepEqual(own.fields.reviewNote, { read: false, write: true });
    assert.deepEqual(own.fields.slug, { read: true, write: true });
    const other = await perms(`/api/posts/${published.id}/permissions`, bob.token);
    assert.deepEqual([other.read, other.update, other.delete], [true, false, false]);
    assert.ok(Object.values(other.fields).every((f) => !f.write), "no field is writable without update");
    const moderated = await perms(`/api/posts/${draft.id}/permissions`, admin);
    assert.deepEqual([moderated.update, moderated.delete, moderated.fields.reviewNote?.read], [true, true, true]);
    const self = await perms(`/api/users/${alice.id}/permissions`, alice.token);
    assert.deepEqual([self.update, self.delete], [true, false]);
    assert.deepEqual(self.fields.email, { read: true, write: true });
    assert.deepEqual(self.fields.role, { read: true, write: false }, "@writable: only admins set a role");
    assert.deepEqual(self.fields.createdAt, { read: true, write: false }, "@readOnly");
    const stranger = await perms(`/api/users/${alice.id}/permissions`, bob.token);
    assert.deepEqual([stranger.update, stranger.fields.email?.read], [false, false]);
  });

  it("hides rows the caller may not read (404), needs credentials (401) and checks ids (400)", async () => {
    isProblem(await call("GET", `/api/posts/${draft.id}/permissions`, { token: bob.token }), 404);
    isProblem(await call("GET", "/api/posts/99999999/permissions", { token: admin }), 404);
    isProblem(await call("GET", "/api/posts/permissions"), 401);
    isProblem(await call("GET", "/api/posts/abc/permissions", { token: alice.token }), 400);
    const wrongMethod = await call("POST", "/api/posts/permissions", { token: alice.token, body: {} });
    isProblem(wrongMethod, 405);
    assert.equal(wrongMethod.headers.get("allow"), "GET");
  });
});

describe("cross-tenant matrix", () => {
  it("hides another user's draft from every read route", async () => {
    const list = await call("GET", "/api/posts?take=1000", { token: bob.token });
    assert.ok(!(list.body.data as Json[]).some((p) => p.id === draft.id));
    const count = await call("GET", `/api/posts/count?filter[authorId][equals]=${alice.id}`, { token: bob.token });
    assert.equal(count.body.count, 1);
    const search = await call("GET", "/api/posts/search?q=draft", { token: bob.token });
    assert.ok(!(search.body.data as Json[]).some((p) => p.id === draft.id));
    isProblem(await call("GET", `/api/posts/${draft.id}`, { token: bob.token }), 404);
    const user = await call("GET", `/api/users/${alice.id}?include=posts`, { token: bob.token });
    const posts = user.body.posts as Json[];
    assert.deepEqual(
      posts.map((p) => p.id),
      [published.id],
    );
    const mine = await call("GET", `/api/users/${alice.id}?include=posts`, { token: alice.token });
    assert.equal((mine.body.posts as Json[]).length, 2);
  });

  it("does not let another user change or delete a row (404 when unreadable, 403 when readable)", async () => {
    isProblem(await call("PATCH", `/api/posts/${draft.id}`, { token: bob.token, body: { title: "pwned!" } }), 404);
    isProblem(await call("DELETE", `/api/posts/${draft.id}`, { token: bob.token }), 404);
    isProblem(await call("PATCH", `/api/posts/${published.id}`, { token: bob.token, body: { title: "pwned!" } }), 403);
    isProblem(await call("DELETE", `/api/posts/${published.id}`, { token: bob.token }), 403);
    const still = await call("GET", `/api/posts/${published.id}`, { token: alice.token });
    assert.equal(still.body.title, "Hello world");
  });

  it("does not let a user create rows for someone else", async () => {
    isProblem(
      await call("POST", "/api/posts", { token: bob.token, body: { title: "Fake", slug: `fake-${run}`, authorId: alice.id } }),
      403,
    );
    const c = await call("GET", `/api/posts/count?filter[slug][equals]=fake-${run}`, { token: admin });
    assert.equal(c.body.count, 0, "the denied create was rolled back");
  });

  it("checks update after the change and rolls back (no handing a post to someone else)", async () => {
    isProblem(await call("PATCH", `/api/posts/${published.id}`, { token: alice.token, body: { authorId: bob.id } }), 403);
    const p = await call("GET", `/api/posts/${published.id}`, { token: admin });
    assert.equal(p.body.authorId, alice.id);
  });

  it("refuses a comment on a draft one cannot read exactly like one on no post", async () => {
    const strip = (r: Res) => ({ ...r.body, requestId: undefined, instance: undefined });
    const onDraft = await call("POST", "/api/comments", { token: bob.token, body: { body: "first!", postId: draft.id, authorId: bob.id } });
    const onNothing = await call("POST", "/api/comments", { token: bob.token, body: { body: "first!", postId: 2_000_000_000, authorId: bob.id } });
    isProblem(onDraft, 409);
    assert.deepEqual(strip(onDraft), strip(onNothing));
  });

  it("drops included to-one rows the caller may not read", async () => {
    // Bob comments while the post is published; then alice takes it back to draft.
    const p = await call("POST", "/api/posts", {
      token: alice.token,
      body: { title: "Soon a draft", slug: `soon-${run}`, published: true, authorId: alice.id },
    });
    assert.equal(p.status, 201, p.text);
    const c = await call("POST", "/api/comments", { token: bob.token, body: { body: "first!", postId: p.body.id, authorId: bob.id } });
    assert.equal(c.status, 201, c.text);
    assert.equal((await call("PATCH", `/api/posts/${p.body.id}`, { token: alice.token, body: { published: false } })).status, 200);
    const mine = await call("GET", `/api/comments/${c.body.id}?include=post,author`, { token: bob.token });
    assert.equal(mine.status, 200);
    assert.ok(!("post" in mine.body), "bob may not read alice's draft through his comment");
    assert.equal((mine.body.author as Json).id, bob.id);
    const hers = await call("GET", `/api/comments/${c.body.id}?include=post`, { token: alice.token });
    isProblem(hers, 404);
    const viaPost = await call("GET", `/api/posts/${p.body.id}?include=comments`, { token: alice.token });
    assert.deepEqual(viaPost.body.comments, [], "alice may not read bob's comment on an unpublished post");
  });
});

describe("validation and errors", () => {
  it("rejects invalid bodies with 400 and the failing paths", async () => {
    const r = await call("POST", "/api/posts", { token: alice.token, body: { title: "ab", slug: "Not A Slug", authorId: alice.id } });
    isProblem(r, 400);
    const paths = (r.body.errors as { path: string }[]).map((e) => e.path).sort();
    assert.deepEqual(paths, ["slug", "title"]);
    isProblem(await call("POST", "/api/posts", { token: alice.token, body: { title: "abc", slug: "x", authorId: alice.id, extra: 1 } }), 400);
    isProblem(await call("POST", "/api/posts", { token: alice.token, body: "[1,2]" }), 400);
    isProblem(await call("POST", "/api/posts", { token: alice.token, body: "{not json" }), 400);
    isProblem(await call("POST", "/api/posts", { token: alice.token, body: "x", headers: { "content-type": "text/plain" } }), 415);
    isProblem(await call("PATCH", `/api/posts/${published.id}`, { token: alice.token, body: { views: -1 } }), 400);
    isProblem(await call("PATCH", `/api/posts/${published.id}`, { token: alice.token, body: { createdAt: "x" } }), 400);
  });

  it("maps unique and foreign-key violations to 409", async () => {
    isProblem(await call("POST", "/api/posts", { token: alice.token, body: { title: "Again", slug: `hello-${run}`, authorId: alice.id } }), 409);
    isProblem(await call("POST", "/api/comments", { token: bob.token, body: { body: "x", postId: 99_999_999, authorId: bob.id } }), 409);
  });

  it("answers bad ids, unknown routes and oversized bodies with problems", async () => {
    isProblem(await call("GET", "/api/posts/not-a-number", { token: alice.token }), 400);
    isProblem(await call("GET", "/api/posts/99999999", { token: alice.token }), 404);
    isProblem(await call("GET", "/api/nothing", { token: alice.token }), 404);
    // A trailing slash is another path (what an empty String id would address), never the list.
    isProblem(await call("GET", "/api/posts/", { token: alice.token }), 404);
    const big = { title: "x".repeat(200_000), slug: "big", authorId: alice.id };
    isProblem(await call("POST", "/api/posts", { token: alice.token, body: big }), 413);
  });

  it("sends the security headers on every response, errors included", async () => {
    const expected: Record<string, string> = {
      "content-security-policy": "default-src 'none'; frame-ancestors 'none'",
      "cross-origin-opener-policy": "same-origin",
      "cross-origin-resource-policy": "same-origin",
      "referrer-policy": "no-referrer",
      "strict-transport-security": "max-age=31536000; includeSubDomains",
      "x-content-type-options": "nosniff",
      "x-frame-options": "DENY",
      "x-permitted-cross-domain-policies": "none",
    };
    const responses = [
      await call("GET", "/api/posts", { token: alice.token }),
      await call("GET", "/health"),
      await call("GET", "/api/posts"),
      await call("GET", "/api/no-such-model"),
      await call("PUT", "/api/posts", { token: alice.token, body: {} }),
      await call("POST", "/api/posts", { token: alice.token, body: { title: "x".repeat(200_000) } }),
    ];
    assert.deepEqual(responses.map((r) => r.status), [200, 200, 401, 404, 405, 413]);
    for (const r of responses) {
      for (const [name, value] of Object.entries(expected)) assert.equal(r.headers.get(name), value, `${name} on a ${r.status}`);
    }
  });

  it("echoes a well-formed x-request-id", async () => {
    const r = await call("GET", "/health", { headers: { "x-request-id": `req-${run}` } });
    assert.equal(r.headers.get("x-request-id"), `req-${run}`);
    const fresh = await call("GET", "/health", { headers: { "x-request-id": "bad id with spaces" } });
    assert.match(fresh.headers.get("x-request-id") ?? "", /^[0-9a-f-]{36}$/);
  });
});

describe("lists", () => {
  it("paginates with cursors and offsets, sorts and filters", async () => {
    for (let i = 0; i < 5; i++) {
      const r = await call("POST", "/api/posts", {
        token: bob.token,
        body: { title: `Page post ${i}`, slug: `page-${i}-${run}`, published: true, authorId: bob.id, views: i, body: i % 2 === 0 ? null : "odd" },
      });
      assert.equal(r.status, 201, r.text);
    }
    const filter = `filter[authorId][equals]=${bob.id}&filter[slug][startsWith]=page-`;
    const seen: unknown[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const r: Res = await call("GET", `/api/posts?${filter}&take=2${cursor !== null ? `&cursor=${cursor}` : ""}`, { token: bob.token });
      assert.equal(r.status, 200, r.text);
      const meta = r.body.meta as { total: number; nextCursor: string | null };
      assert.equal(meta.total, 5);
      seen.push(...(r.body.data as Json[]).map((p) => p.id));
      cursor = meta.nextCursor;
      pages++;
    } while (cursor !== null && pages < 10);
    assert.equal(pages, 3);
    assert.equal(new Set(seen).size, 5);
    const offset = await call("GET", `/api/posts?${filter}&take=2&skip=4`, { token: bob.token });
    assert.equal((offset.body.data as Json[]).length, 1);
    const sorted = await call("GET", `/api/posts?${filter}&orderBy=-views`, { token: bob.token });
    assert.deepEqual(
      (sorted.body.data as Json[]).map((p) => p.views),
      [4, 3, 2, 1, 0],
    );
    const nulls = await call("GET", `/api/posts/count?${filter}&filter[body][equals]=null`, { token: bob.token });
    assert.equal(nulls.body.count, 3);
    const within = await call("GET", `/api/posts/count?${filter}&filter[views][in]=1,3&filter[views][gte]=2`, { token: bob.token });
    assert.equal(within.body.count, 1);
    isProblem(await call("GET", `/api/posts?take=abc`, { token: bob.token }), 400);
    isProblem(await call("GET", `/api/posts?take=`, { token: bob.token }), 400);
    isProblem(await call("GET", `/api/posts?cursor=garbage`, { token: bob.token }), 400);
    isProblem(await call("GET", `/api/posts?filter[views][contains]=1`, { token: bob.token }), 400);
    isProblem(await call("GET", `/api/posts?include=nothing`, { token: bob.token }), 400);
  });

  it("searches @@search fields within what the caller may read", async () => {
    const r = await call("GET", "/api/posts/search?q=HELLO", { token: bob.token });
    assert.equal(r.status, 200, r.text);
    const ids = (r.body.data as Json[]).map((p) => p.id);
    if (process.env.DB === "postgresql") assert.ok(ids.includes(published.id), "case-insensitive on PostgreSQL");
    isProblem(await call("GET", "/api/posts/search", { token: bob.token }), 400);
  });

  it("sends dates, decimals and nulls in the wire format", async () => {
    const r = await call("PATCH", `/api/posts/${published.id}`, {
      token: alice.token,
      body: { rating: "4.25", publishedAt: "2026-01-02T03:04:05.000Z" },
    });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.body.rating, "4.25");
    assert.equal(r.body.publishedAt, "2026-01-02T03:04:05.000Z");
    const cleared = await call("PATCH", `/api/posts/${published.id}`, { token: alice.token, body: { rating: null } });
    assert.equal(cleared.body.rating, null);
  });
});

describe("deletes and rate limits", () => {
  it("deletes own rows (204) and then they are gone (404)", async () => {
    const r = await call("POST", "/api/posts", { token: alice.token, body: { title: "Short-lived", slug: `gone-${run}`, authorId: alice.id } });
    assert.equal((await call("DELETE", `/api/posts/${r.body.id}`, { token: alice.token })).status, 204);
    isProblem(await call("GET", `/api/posts/${r.body.id}`, { token: alice.token }), 404);
  });

  it("answers 429 with Retry-After past @@rateLimit (User: 100 per minute)", async () => {
    const t = await token({ id: 7_000_000, role: "ADMIN" });
    let limited: Res | null = null;
    for (let i = 0; i < 105 && limited === null; i++) {
      const r = await call("GET", "/api/users/count", { token: t });
      if (r.status === 429) limited = r;
    }
    assert.ok(limited !== null, "no 429 after 105 requests");
    isProblem(limited, 429);
    assert.ok(Number(limited.headers.get("retry-after")) >= 1);
    const other = await call("GET", "/api/users/count", { token: admin });
    assert.equal(other.status, 200, "limits are per principal");
  });
});
