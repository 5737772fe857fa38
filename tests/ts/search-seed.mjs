// Fills the search fixture's tables (tests/fixtures/search) before its server starts, so that on
// SQLite the server's first start fills the FTS5 index from existing rows:
// node search-seed.mjs postgresql|sqlite|mysql DATABASE_URL COUNT
// COUNT articles of 12 words from a 400-word vocabulary (seeded, so every run has the same
// corpus), every other one published, by authors 1 to 50; and COUNT / 10 notes.
import Database from "better-sqlite3";
import mariadb from "mariadb";
import pg from "pg";

const [db, url, countArg] = process.argv.slice(2);
const count = Number(countArg ?? "20000");
let state = 7;
const random = () => {
  state = (state * 1103515245 + 12345) % 2147483648;
  return state / 2147483648;
};
const vocabulary = Array.from({ length: 400 }, (_, i) => `w${i.toString(36)}x`);
const words = (n) => Array.from({ length: n }, () => vocabulary[Math.floor(random() * vocabulary.length)]).join(" ");
const articles = Array.from({ length: count }, (_, i) => [words(4), words(12), i % 2 === 0, 1 + (i % 50)]);
const notes = Array.from({ length: Math.floor(count / 10) }, (_, i) => [`seed-${i}`, words(8)]);

if (db === "postgresql") {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  await client.query("BEGIN");
  for (let i = 0; i < articles.length; i += 1000) {
    const chunk = articles.slice(i, i + 1000);
    await client.query(
      `INSERT INTO "Article" (title, body, published, "authorId") SELECT * FROM unnest($1::text[], $2::text[], $3::bool[], $4::int[])`,
      [0, 1, 2, 3].map((c) => chunk.map((a) => a[c])),
    );
  }
  await client.query(`INSERT INTO notes (id, note_text) SELECT * FROM unnest($1::text[], $2::text[])`, [0, 1].map((c) => notes.map((n) => n[c])));
  await client.query("COMMIT");
  await client.end();
} else if (db === "mysql") {
  const conn = await mariadb.createConnection(url.replace(/^mysql:/, "mariadb:"));
  await conn.beginTransaction();
  await conn.batch("INSERT INTO `Article` (title, body, published, authorId) VALUES (?, ?, ?, ?)", articles);
  await conn.batch("INSERT INTO notes (id, note_text) VALUES (?, ?)", notes);
  await conn.commit();
  await conn.end();
} else {
  const sqlite = new Database(url.replace(/^file:/, ""));
  const article = sqlite.prepare(`INSERT INTO "Article" (title, body, published, "authorId") VALUES (?, ?, ?, ?)`);
  const note = sqlite.prepare(`INSERT INTO notes (id, note_text) VALUES (?, ?)`);
  sqlite.transaction(() => {
    for (const [t, b, p, a] of articles) article.run(t, b, p ? 1 : 0, a);
    for (const [id, text] of notes) note.run(id, text);
  })();
  sqlite.close();
}
console.log(`seeded ${articles.length} articles and ${notes.length} notes`);
