// The search plugin (tests/fixtures/search, `[plugins.search] language = "english"`; no language
// on MySQL) against a running server (API_URL) on PostgreSQL, SQLite or MariaDB (DB, DATABASE_URL)
// whose tables tests/ts/search-seed.mjs filled before it started (SEEDED articles): the index
// ranks title matches above body matches, stems English words (not on MySQL, whose FULLTEXT
// parser does not), follows every write made through the API, answers only with rows the caller
// may read (and counts only those), takes any text as a query, and is used — PostgreSQL's GIN
// index is scanned, SQLite's FTS5 table holds every row, MySQL's plan reads the FULLTEXT index.
// It prints the time of a search beside a `LIKE '%word%'` scan of the same table (figures, not
// assertions).

import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import Database from "better-sqlite3";
import { SignJWT } from "jose";
import mariadb from "mariadb";
import pg from "pg";

const API = process.env.API_URL ?? "http://127.0.0.1:3000";
const DB = process.env.DB ?? "postgresql";
const URL_ = process.env.DATABASE_URL ?? "";
const SEEDED = Number(process.env.SEEDED ?? "0");
const SECRET = new TextEncoder().encode(process.env.JWT_SECRET ?? "");
const run = Date.now().toString(36);

interface Page {
  data: Record<string, unknown>[];
  meta: { total: number; nextCursor: string | null };
}

async function call(method: string, path: string, token?: string, body?: unknown): Promise<{ status: number; json: () => unknown; text: string }> {
  const headers: Record<string, string> = {};
  if (token !== undefined) headers.authorization = `Bearer ${token}`;
  if (body !== undefined) headers["content-type"] = "application/json";
  const res = await fetch(API + path, { method, headers, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) });
  const text = await res.text();
  return { status: res.status, text, json: () => JSON.parse(text) as unknown };
}

async function search(path: string, q: string, token: string = reader, take?: number): Promise<Page> {
  const r = await call("GET", `/api/${path}/search?q=${encodeURIComponent(q)}${take !== undefined ? `&take=${take}` : ""}`, token);
  assert.equal(r.status, 200, `search ${q}: ${r.text}`);
  return r.json() as Page;
}

const ids = (p: Page) => p.data.map((r) => r.id);
/** A table's name in the database's quotes. */
const table = (name: string) => (DB === "mysql" ? `\`${name}\`` : `"${name}"`);

/** One SQL query on the fixture's database, as rows. */
async function sql(query: string, ...values: unknown[]): Promise<Record<string, unknown>[]> {
  if (DB === "postgresql") {
    const client = new pg.Client({ connectionString: URL_ });
    await client.connect();
    try {
      return (await client.query(query, values)).rows as Record<string, unknown>[];
    } finally {
      await client.end();
    }
  }
  if (DB === "mysql") {
    const conn = await mariadb.createConnection(URL_.replace(/^mysql:/, "mariadb:"));
    try {
      return (await conn.query(query, values)) as Record<string, unknown>[];
    } finally {
      await conn.end();
    }
  }
  const db = new Database(URL_.replace(/^file:/, ""), { readonly: true });
  try {
    return db.prepare(query).all(...values) as Record<string, unknown>[];
  } finally {
    db.close();
  }
}

let author7: string;
let author8: string;
/** A caller who wrote nothing: published articles only. */
let reader: string;
const word = (w: string) => `${w}${run}`; // words no other run's rows hold

before(async () => {
  const token = (id: number) => new SignJWT({ id }).setProtectedHeader({ alg: "HS256" }).setExpirationTime("10m").sign(SECRET);
  author7 = await token(7);
  author8 = await token(8);
  reader = await token(999);
  assert.ok(SEEDED >= 1000, "server.sh seeds the corpus and passes SEEDED");
});

/**
 * server.sh runs this file twice: with the fixture's `english`, then after switching to `simple`
 * (on MySQL, which has no language, after swapping the order of the fields).
 */
const LANGUAGE = process.env.SEARCH_LANGUAGE ?? "english";
/** MySQL's FULLTEXT parser has no stemming. */
const STEMS = DB !== "mysql";

/** The full-text indexes of the Article table, by name (on MySQL without the per-field parts). */
async function articleIndexes(): Promise<string[]> {
  const rows =
    DB === "postgresql"
      ? await sql(`SELECT indexname AS name FROM pg_indexes WHERE indexname LIKE 'Article_search_%'`)
      : DB === "mysql"
        ? await sql(`SELECT DISTINCT index_name AS name FROM information_schema.statistics WHERE table_schema = database() AND table_name = 'Article' AND index_type = 'FULLTEXT'`)
        : await sql(`SELECT name FROM sqlite_master WHERE type = 'table' AND name LIKE 'Article_search_%' AND sql LIKE 'CREATE VIRTUAL TABLE%'`);
  return rows.map((r) => String(r.name)).filter((n) => DB !== "mysql" || /^Article_search_[0-9a-f]{8}$/.test(n));
}

describe(`search plugin after its definition changed (${DB})`, { skip: LANGUAGE !== "simple" }, () => {
  it("replaced the old definition's index with one that does not stem", async () => {
    const indexes = await articleIndexes();
    assert.equal(indexes.length, 1, `one index: ${indexes.join(", ")}`);
    assert.notEqual(indexes[0], process.env.OLD_INDEX, "a new name: the definition changed");
    if (DB === "mysql") {
      // The old definition's per-field indexes went with it: the new one and its two parts remain.
      const all = await sql("SELECT DISTINCT index_name AS name FROM information_schema.statistics WHERE table_schema = database() AND table_name = 'Article' AND index_type = 'FULLTEXT'");
      assert.deepEqual(all.map((r) => String(r.name)).sort(), [indexes[0], `${indexes[0]}_0`, `${indexes[0]}_1`].sort());
    }
    const emu = word("emu");
    const created = await call("POST", "/api/articles", author7, { title: `${emu} habitats`, body: "plains", published: true, authorId: 7 });
    const id = (created.json() as { id: number }).id;
    assert.deepEqual(ids(await search("articles", `${emu} habitats`)), [id]);
    assert.deepEqual(ids(await search("articles", `${emu} habitat`)), [], "no stemming with simple");
    const seeded = await search("articles", "w1x", reader, 5);
    assert.ok(seeded.meta.total > 0, "the seeded rows are in the new index");
  });
});

describe(`search plugin (${DB})`, { skip: LANGUAGE !== "english" }, () => {
  it("ranks a title match above a body match and stems English words", async () => {
    const quokka = word("quokka");
    const inTitle = await call("POST", "/api/articles", author7, { title: `${quokka} habitats`, body: "they live on an island", published: true, authorId: 7 });
    const inBody = await call("POST", "/api/articles", author7, { title: "Small marsupials", body: `the ${quokka} smiles at visitors`, published: true, authorId: 7 });
    assert.equal(inTitle.status, 201, inTitle.text);
    assert.equal(inBody.status, 201, inBody.text);
    const a = (inTitle.json() as { id: number }).id;
    const b = (inBody.json() as { id: number }).id;
    const found = await search("articles", quokka);
    assert.deepEqual(ids(found), [a, b], "the title's match (weight A) first");
    assert.equal(found.meta.total, 2);
    assert.equal(found.data[0]?.title, `${quokka} habitats`, "whole rows, as the list sends them");
    if (STEMS) {
      // English stemming: "islands" finds "island", "living" finds "live", "habitat" "habitats";
      // every word is required.
      assert.deepEqual(ids(await search("articles", `${quokka} islands`)), [a]);
      assert.deepEqual(ids(await search("articles", `living ${quokka}`)), [a]);
      assert.deepEqual(ids(await search("articles", `${quokka} habitat`)), [a]);
    } else {
      // Words as they are written; every word is required.
      assert.deepEqual(ids(await search("articles", `${quokka} island`)), [a]);
      assert.deepEqual(ids(await search("articles", `${quokka} islands`)), []);
      assert.deepEqual(ids(await search("articles", `${quokka} habitats`)), [a]);
      // Words the index never holds (stopwords, short words, signs) are left out of the query,
      // not required: "the", "an", "?" and "*" would otherwise match no row at all.
      assert.deepEqual(ids(await search("articles", `the ${quokka}, an island? *`)), [a]);
    }
    const none = await search("articles", word("absent"));
    assert.deepEqual(none, { data: [], meta: { total: 0, nextCursor: null } });
  });

  it("follows the API's writes: an update is found by its new words, a deleted row is gone", async () => {
    const wombat = word("wombat");
    const numbat = word("numbat");
    const created = await call("POST", "/api/articles", author7, { title: `A ${wombat}`, body: "burrows", published: true, authorId: 7 });
    const id = (created.json() as { id: number }).id;
    assert.deepEqual(ids(await search("articles", wombat)), [id]);
    const updated = await call("PATCH", `/api/articles/${id}`, author7, { title: `A ${numbat}` });
    assert.equal(updated.status, 200, updated.text);
    assert.deepEqual(ids(await search("articles", wombat)), [], "the old words no longer match");
    assert.deepEqual(ids(await search("articles", numbat)), [id]);
    assert.equal((await call("DELETE", `/api/articles/${id}`, author7)).status, 204);
    assert.deepEqual(ids(await search("articles", numbat)), []);
  });

  it("answers with the rows the caller may read only, and counts only those", async () => {
    const bilby = word("bilby");
    const published = await call("POST", "/api/articles", author7, { title: `${bilby} facts`, body: "desert", published: true, authorId: 7 });
    const draft = await call("POST", "/api/articles", author7, { title: `${bilby} ${bilby} draft`, body: `${bilby}`, published: false, authorId: 7 });
    const p = (published.json() as { id: number }).id;
    const d = (draft.json() as { id: number }).id;
    // The draft ranks first for its author, and does not exist for anyone else.
    assert.deepEqual(ids(await search("articles", bilby, author7)), [d, p]);
    for (const [who, token] of [["another author", author8], ["a reader", reader]] as const) {
      const page = await search("articles", bilby, token);
      assert.deepEqual(ids(page), [p], who);
      assert.equal(page.meta.total, 1, `${who}: the total counts readable rows only`);
    }
  });

  it("pages the best matches of a common word, readable ones only, at most 1000 counted", async () => {
    // Every seeded article holds a dozen of 400 words: one word is in several hundred of them.
    const [common] = await sql(
      DB === "postgresql"
        ? `SELECT split_part(title, ' ', 1) AS w FROM "Article" WHERE id = 1`
        : DB === "mysql"
          ? "SELECT substring_index(title, ' ', 1) AS w FROM `Article` WHERE id = 1"
          : `SELECT substr(title, 1, instr(title, ' ') - 1) AS w FROM "Article" WHERE id = 1`,
    );
    const w = String(common?.w);
    const page = await search("articles", w, reader, 50);
    assert.equal(page.data.length, 50);
    assert.ok(page.meta.total > 50 && page.meta.total <= 1000, `total ${page.meta.total}`);
    const counted = await search("articles", w, reader, 0);
    assert.deepEqual(counted, { data: [], meta: { total: page.meta.total, nextCursor: null } }, "take=0: the count alone");
    const rows = await sql(`SELECT id, published FROM ${table("Article")} WHERE id IN (${ids(page).join(", ")})`);
    assert.equal(rows.length, 50);
    assert.ok(rows.every((r) => r.published === true || r.published === 1), "a reader gets published articles only");
    assert.ok(page.data.every((r) => String(r.title).includes(w) || String(r.body).includes(w)));
  });

  it("indexes a String-keyed model's mapped column", async () => {
    const kangaroo = word("kangaroo");
    const note = await call("POST", "/api/notes", reader, { text: `${kangaroo} jumping over fences` });
    assert.equal(note.status, 201, note.text);
    const id = (note.json() as { id: string }).id;
    const found = await search("notes", `${kangaroo} ${STEMS ? "jumps" : "jumping"}`, reader);
    assert.deepEqual(ids(found), [id]);
    assert.equal(found.data[0]?.text, `${kangaroo} jumping over fences`);
    assert.equal((await call("PATCH", `/api/notes/${id}`, reader, { text: null })).status, 200);
    assert.deepEqual(ids(await search("notes", kangaroo, reader)), [], "a null text matches nothing");
  });

  it("takes any text as a query: operators and quotes are words, never a 500", async () => {
    for (const q of ['"', '""', "a \"b", "-", "*", "(", ")", "NEAR(a b)", "a OR", "title:x", "^", "'", "x' OR '1'='1", "🦘", "\\", "%", "_"]) {
      const r = await call("GET", `/api/articles/search?q=${encodeURIComponent(q)}`, reader);
      assert.equal(r.status, 200, `q=${q}: ${r.text}`);
    }
    assert.equal((await call("GET", "/api/articles/search?q=%20", reader)).status, 400, "an empty query is a 400, as without the plugin");
  });

  it("uses the index (figures: the search beside a LIKE scan of the same table)", async () => {
    const target = word("platypus");
    await call("POST", "/api/articles", author7, { title: `The ${target}`, body: "lays eggs", published: true, authorId: 7 });
    const [{ n }] = (await sql(`SELECT count(*) AS n FROM ${table("Article")}`)) as [{ n: number | string | bigint }];
    assert.ok(Number(n) >= SEEDED);
    if (DB === "postgresql") {
      const scans = async () => Number((await sql(`SELECT sum(idx_scan) AS s FROM pg_stat_user_indexes WHERE indexrelname LIKE 'Article_search_%'`))[0]?.s ?? 0);
      const before = await scans();
      assert.equal((await search("articles", target)).data.length, 1);
      // Backends report their statistics within a second, or ten when idle.
      let after = before;
      for (let i = 0; i < 150 && after === before; i++) {
        await new Promise((r) => setTimeout(r, 100));
        after = await scans();
      }
      assert.ok(after > before, `the GIN index was scanned (${before} → ${after})`);
    } else if (DB === "mysql") {
      // The plan of the server's match (the FULLTEXT index over every field) reads that index.
      const [index] = await articleIndexes();
      const [plan] = await sql("EXPLAIN SELECT id FROM `Article` WHERE MATCH (`title`, `body`) AGAINST (? IN BOOLEAN MODE)", `+"${target}"`);
      assert.equal(plan?.type, "fulltext", JSON.stringify(plan, (_, v: unknown) => (typeof v === "bigint" ? String(v) : v)));
      assert.equal(plan?.key, index);
    } else {
      const tables = await articleIndexes();
      assert.equal(tables.length, 1, "one FTS5 table: the current definition's");
      const [{ m }] = (await sql(`SELECT count(*) AS m FROM "${String(tables[0])}"`)) as [{ m: number }];
      assert.equal(Number(m), Number(n), "every article is in the index: the seeded ones filled at startup, the API's by triggers");
    }
    const time = async (f: () => Promise<unknown>) => {
      const t = process.hrtime.bigint();
      for (let i = 0; i < 20; i++) await f();
      return Number(process.hrtime.bigint() - t) / 20e6;
    };
    const indexed = await time(() => search("articles", target));
    const [p1, p2] = DB === "postgresql" ? ["$1", "$2"] : ["?", "?"];
    const like = await time(() => sql(`SELECT id FROM ${table("Article")} WHERE title LIKE ${p1} OR body LIKE ${p2}`, `%${target}%`, `%${target}%`));
    console.log(`# index ${(await articleIndexes()).join(",")}`);
    console.log(`# search: ${Number(n)} articles; a search over HTTP ${indexed.toFixed(1)} ms, a LIKE scan in SQL ${like.toFixed(1)} ms`);
  });
});
