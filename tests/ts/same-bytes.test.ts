// The TypeScript server (API_URL) and the Rust server (API_URL_2) of the blog on one database:
// for the same rows, principal and request, both send the same status, content type and bytes
// (problem bodies compared without their request id). Run by tests/ts/server.sh.

import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import { SignJWT } from "jose";

const TS = process.env.API_URL ?? "http://127.0.0.1:3000";
const RUST = process.env.API_URL_2 ?? "http://127.0.0.1:3001";
const SECRET = new TextEncoder().encode(process.env.JWT_SECRET ?? "");
const run = Date.now().toString(36);

async function token(claims: Record<string, unknown>): Promise<string> {
  return new SignJWT(claims).setProtectedHeader({ alg: "HS256" }).setExpirationTime("10m").sign(SECRET);
}

interface Answer {
  status: number;
  type: string;
  text: string;
}

async function ask(base: string, method: string, path: string, bearer?: string, body?: unknown): Promise<Answer> {
  const headers: Record<string, string> = {};
  if (bearer !== undefined) headers.authorization = `Bearer ${bearer}`;
  if (body !== undefined) headers["content-type"] = "application/json";
  const res = await fetch(base + path, { method, headers, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) });
  const text = await res.text();
  const type = (res.headers.get("content-type") ?? "").split(";")[0] ?? "";
  // A problem's request id is per request; everything else must match.
  const normalized = type === "application/problem+json" ? text.replace(/"requestId":"[^"]*"/, '"requestId":"-"') : text;
  return { status: res.status, type, text: normalized };
}

async function create(path: string, bearer: string, body: unknown): Promise<Record<string, unknown>> {
  const r = await ask(TS, "POST", path, bearer, body);
  assert.equal(r.status, 201, r.text);
  return JSON.parse(r.text) as Record<string, unknown>;
}

let admin: string;
const principals: Record<string, string | undefined> = {};
const paths: string[] = [];
const users: Record<string, number> = {};

before(async () => {
  admin = await token({ id: 9_000_001, role: "ADMIN" });
  for (const [name, role] of [["ana", "USER"], ["ben", "USER"], ["eda", "EDITOR"]] as const) {
    const u = await create("/api/users", admin, { email: `${name}-${run}@example.com`, name, role, passwordHash: "x" });
    users[name] = u.id as number;
    principals[name] = await token({ id: u.id, role });
  }
  principals.admin = admin;
  principals.anonymous = undefined;
  const ana = principals.ana as string;
  const ben = principals.ben as string;
  const p1 = await create("/api/posts", ana, {
    title: `Hello ${run}`, slug: `hello-${run}`, body: null, published: true, views: 3, rating: "4.50",
    publishedAt: "2024-02-01T10:00:00.250+01:00", reviewNote: "fine", authorId: users.ana,
  });
  const p2 = await create("/api/posts", ana, { title: `Draft ${run}`, slug: `draft-${run}`, body: "é \"quoted\" ✓", authorId: users.ana, rating: "0.10" });
  const p3 = await create("/api/posts", ben, { title: `Ben ${run}`, slug: `ben-${run}`, published: true, authorId: users.ben });
  await create("/api/comments", ben, { body: "Nice", postId: p1.id, authorId: users.ben });
  await create("/api/comments", ana, { body: "Note to self", postId: p2.id, authorId: users.ana });
  await create("/api/tags", admin, { name: `t-${run}` });
  const first = JSON.parse((await ask(TS, "GET", "/api/posts?take=1", admin)).text) as { meta: { nextCursor: string } };
  paths.push(
    "/api/posts",
    "/api/posts?include=author,comments,tags",
    "/api/posts?orderBy=-rating,title&take=2",
    "/api/posts?orderBy=publishedAt&skip=1",
    `/api/posts?filter[title][contains]=${run}&filter[published][equals]=true`,
    "/api/posts?filter[rating][gte]=0.5",
    "/api/posts?filter[publishedAt][lt]=2024-03-01",
    "/api/posts?filter[body][equals]=null",
    `/api/posts?take=1&cursor=${first.meta.nextCursor}`,
    "/api/posts/count",
    `/api/posts/count?filter[authorId][in]=${users.ana},${users.ben}`,
    `/api/posts/search?q=${encodeURIComponent(`hello ${run}`)}`,
    `/api/posts/${p1.id}?include=author,comments`,
    `/api/posts/${p2.id}`,
    `/api/posts/${p3.id}?include=tags`,
    "/api/users",
    `/api/users/${users.ben}?include=posts`,
    "/api/comments?include=post,author",
    "/api/tags",
    "/api/posts/999999999",
    "/api/posts/abc",
    "/api/posts?filter[nope][equals]=1",
    "/api/posts?filter[title][between]=1",
    "/api/posts?orderBy=reviewNote",
    "/api/posts?take=x",
    "/api/posts?include=nope",
    "/api/nope",
    "/health",
  );
});

describe("the TypeScript and the Rust server send the same bytes", () => {
  it("for every read route, principal and error", async () => {
    let compared = 0;
    for (const [who, bearer] of Object.entries(principals)) {
      for (const path of paths) {
        const [ts, rust] = [await ask(TS, "GET", path, bearer), await ask(RUST, "GET", path, bearer)];
        assert.deepEqual(rust, ts, `${who} GET ${path}`);
        compared++;
      }
    }
    // The Rust binary embeds the PostgreSQL blog schema; the SQLite run's TypeScript tree comes
    // from the same schema without native types, so only the PostgreSQL documents are the same.
    // The TypeScript document also lists the plugins' routes (`x-ssot-plugin`); the Rust server
    // serves those of the payments and ai plugins (features `payments`, `ai`) and not storage's:
    // without those, the two are the same.
    if (process.env.DB === "postgresql") {
      const [ts, rust] = [await ask(TS, "GET", "/openapi.json"), await ask(RUST, "GET", "/openapi.json")];
      assert.equal(rust.status, ts.status);
      const doc = JSON.parse(ts.text) as { paths: Record<string, Record<string, { "x-ssot-plugin"?: string }>> };
      const left = new Set<string>();
      let kept = 0;
      for (const [path, item] of Object.entries(doc.paths)) {
        for (const [method, op] of Object.entries(item)) {
          const plugin = op["x-ssot-plugin"];
          if (plugin === undefined) continue;
          if (plugin === "payments" || plugin === "ai") {
            kept++;
            continue;
          }
          delete item[method];
          left.add(plugin);
        }
        if (Object.keys(item).length === 0) delete doc.paths[path];
      }
      assert.deepEqual([...left], ["storage"], "the blog's storage plugin has routes in the TypeScript document");
      assert.equal(kept, 4, "the checkout, the webhook and the two AI tasks");
      assert.deepEqual(JSON.parse(rust.text), doc, "GET /openapi.json, with the payments and AI routes, without storage's");
      compared++;
    }
    console.log(`compared ${compared} responses`);
  });

  it("for writes that fail, and for a write's answer", async () => {
    const ana = principals.ana as string;
    const bad = [
      ["POST", "/api/posts", { title: "ab", slug: "Not a slug", authorId: 1 }],
      ["POST", "/api/posts", { title: "Forged", slug: `forged-${run}`, authorId: 1 }],
      ["POST", "/api/posts", [1, 2]],
      ["POST", "/api/posts", { title: "Extra", slug: `extra-${run}`, authorId: 1, nope: true }],
      ["PATCH", "/api/posts/999999999", { title: "Nobody" }],
      ["DELETE", "/api/posts/999999999", undefined],
      ["PUT", "/api/posts", undefined],
    ] as const;
    for (const [method, path, body] of bad) {
      const [ts, rust] = [await ask(TS, method, path, ana, body), await ask(RUST, method, path, ana, body)];
      assert.deepEqual(rust, ts, `${method} ${path}`);
    }
    // The same change through each server answers with the same row.
    const row = await create("/api/posts", ana, { title: `Twice ${run}`, slug: `twice-${run}`, authorId: users.ana });
    const via = async (base: string) => (await ask(base, "PATCH", `/api/posts/${row.id}`, ana, { views: 7, rating: "1.230" })).text;
    assert.equal(await via(RUST), await via(TS));
  });
});
