// The generated SDK against a real HTTP server on 127.0.0.1: query encoding of filters, sorting,
// paging and includes; credentials; bodies; problem+json errors as ApiError; optional response
// validation. Uses the generated tree of examples/blog (see run.sh).
import assert from "node:assert/strict";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { dirname, join } from "node:path";
import { after, before, test } from "node:test";
import { fileURLToPath, pathToFileURL } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const trees = process.env.SSOT_TS_TREES ?? join(here, "..", "..", "target", "ts");
const blog = await import(pathToFileURL(join(trees, "blog", "src", "index.ts")).href);

interface Seen {
  method: string;
  url: URL;
  headers: IncomingMessage["headers"];
  body: string;
}

const seen: Seen[] = [];
const row = {
  id: 7,
  title: "Hello",
  slug: "hello",
  body: null,
  published: true,
  views: 3,
  rating: "4.50",
  publishedAt: "2024-01-31T09:30:00.000Z",
  cover: null,
  authorId: 1,
};

const permissions = {
  read: true,
  create: true,
  update: false,
  delete: false,
  fields: { title: { read: true, write: false } },
};

function reply(res: ServerResponse, status: number, body?: unknown, type = "application/json") {
  res.writeHead(status, body === undefined ? {} : { "content-type": type, "x-request-id": "req-1" });
  res.end(body === undefined ? undefined : JSON.stringify(body));
}

const server = createServer((req, res) => {
  let body = "";
  req.on("data", (chunk: Buffer) => (body += chunk.toString()));
  req.on("end", () => {
    const url = new URL(req.url ?? "/", "http://127.0.0.1");
    seen.push({ method: req.method ?? "", url, headers: req.headers, body });
    const key = `${req.method} ${url.pathname}`;
    if (key === "GET /api/posts") return reply(res, 200, { data: [row], meta: { total: 1, nextCursor: null } });
    if (key === "GET /api/posts/count") return reply(res, 200, { count: 3 });
    if (key === "GET /api/posts/permissions" || key === "GET /api/posts/7/permissions") return reply(res, 200, permissions);
    if (key === "GET /api/posts/7") return reply(res, 200, row);
    if (key === "GET /api/posts/8") return reply(res, 200, { ...row, views: "many" });
    if (key === "POST /api/posts") return reply(res, 201, { ...row, ...JSON.parse(body) });
    if (key === "PATCH /api/posts/7")
      return reply(
        res,
        400,
        {
          type: "about:blank",
          title: "Bad Request",
          status: 400,
          detail: "invalid input",
          requestId: "req-1",
          errors: [{ path: "title", message: "must be at least 3 characters" }],
        },
        "application/problem+json",
      );
    if (key === "DELETE /api/posts/7") return reply(res, 204);
    return reply(res, 404, { type: "about:blank", title: "Not Found", status: 404 }, "application/problem+json");
  });
});

let baseUrl = "";
before(async () => {
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(() => server.close());

test("list sends filters, sorting, paging, includes and credentials", async () => {
  const api = blog.createHttpClient({ baseUrl, token: async () => "jwt-token", apiKey: "key-1" });
  const page = await api.post.list({
    where: { title: { contains: "rust" }, id: { in: [1, 2] }, body: { equals: null } },
    orderBy: ["-publishedAt", "title"],
    take: 20,
    skip: 40,
    include: ["author", "tags"],
  });
  assert.deepEqual(page, { data: [row], meta: { total: 1, nextCursor: null } });
  const req = seen.at(-1)!;
  assert.equal(req.method, "GET");
  const q = Object.fromEntries(req.url.searchParams);
  assert.deepEqual(q, {
    "filter[title][contains]": "rust",
    "filter[id][in]": "1,2",
    "filter[body][equals]": "null",
    orderBy: "-publishedAt,title",
    take: "20",
    skip: "40",
    include: "author,tags",
  });
  assert.equal(req.headers.authorization, "Bearer jwt-token");
  assert.equal(req.headers["x-api-key"], "key-1");
});

test("get, count, create and delete", async () => {
  const api = blog.createHttpClient({ baseUrl });
  assert.deepEqual(await api.post.get(7), row);
  assert.equal(await api.post.count({ published: { equals: true } }), 3);
  assert.equal(seen.at(-1)!.url.searchParams.get("filter[published][equals]"), "true");
  const created = await api.post.create({ title: "New post", slug: "new-post", authorId: 1 });
  assert.equal(created.title, "New post");
  const req = seen.at(-1)!;
  assert.equal(req.headers["content-type"], "application/json");
  assert.deepEqual(JSON.parse(req.body), { title: "New post", slug: "new-post", authorId: 1 });
  assert.equal(req.headers.authorization, undefined, "no token, no header");
  assert.equal(await api.post.delete(7), undefined);
  assert.equal(seen.at(-1)!.method, "DELETE");
});

test("permissions of the model and of one row", async () => {
  const api = blog.createHttpClient({ baseUrl });
  assert.deepEqual(await api.post.permissions(), permissions);
  assert.equal(seen.at(-1)!.url.pathname, "/api/posts/permissions");
  assert.deepEqual(await api.post.permissions(7), permissions);
  assert.equal(seen.at(-1)!.url.pathname, "/api/posts/7/permissions");
});

test("problem+json errors become ApiError with their fields", async () => {
  const api = blog.createHttpClient({ baseUrl });
  await assert.rejects(api.post.update(7, { title: "x" }), (e: unknown) => {
    assert.ok(e instanceof blog.ApiError);
    assert.equal(e.status, 400);
    assert.equal(e.title, "Bad Request");
    assert.equal(e.detail, "invalid input");
    assert.equal(e.requestId, "req-1");
    assert.deepEqual(e.errors, [{ path: "title", message: "must be at least 3 characters" }]);
    return true;
  });
  await assert.rejects(api.post.get(404), (e: unknown) => e instanceof blog.ApiError && e.status === 404);
});

test("responses are checked with the Zod schemas only when asked", async () => {
  const plain = blog.createHttpClient({ baseUrl });
  assert.equal((await plain.post.get(8)).views, "many");
  const strict = blog.createHttpClient({ baseUrl, validateResponses: true });
  await assert.rejects(strict.post.get(8), (e: unknown) => e instanceof Error && e.name === "ZodError");
  assert.deepEqual(await strict.post.get(7), row);
});
