// The search plugin (`[plugins.search]` in ssot.toml): `GET /api/<models>/search?q=` of every
// `@@search` model ranks with a full-text index of the database instead of `contains`.
// PostgreSQL: a GIN index on the weighted tsvector of the searched fields, queried with
// websearch_to_tsquery (quotes for phrases, `or`, `-` to exclude) and ranked by ts_rank. SQLite:
// an FTS5 table that triggers keep in step with the model's table, every word required, ranked by
// bm25. The index only finds and orders: the engine keeps the rows the caller may read, as in
// every other read. At startup the server creates the indexes that are missing (`search.sql`
// holds the same statements, for `install = false`) and drops those of an older definition.

import type { FullText, PluginContext, ServerPlugin } from "../plugin.js";

export interface Options {
  dialect: "postgresql" | "sqlite";
  /** Create the missing indexes at startup (`install = false`: a migration of yours does). */
  install: boolean;
  models: {
    model: string;
    /** The id's type: how the index's keys become the model's ids. */
    key: "int" | "bigint" | "string";
    /** The table, unquoted, and its PostgreSQL schema (null: the current one). */
    table: string;
    schema: string | null;
    /** The index's name: `<table>_search_<hash of its definition>`. */
    index: string;
    /** The statements that create the index, in order. */
    create: string[];
    /** The ranked query: the search text and the limit as parameters; one column, `key`. */
    query: string;
  }[];
}

interface Db {
  $queryRawUnsafe<T = unknown>(query: string, ...values: unknown[]): Promise<T>;
  $executeRawUnsafe(query: string, ...values: unknown[]): Promise<number>;
  $transaction<T>(
    fn: (tx: Db) => Promise<T>,
    options?: { maxWait?: number; timeout?: number },
  ): Promise<T>;
}

const quoted = (name: string): string => `"${name.replaceAll('"', '""')}"`;

/** The part of an index's name that every definition of the same table's index shares. */
const prefixOf = (index: string): string => index.slice(0, index.lastIndexOf("_search_") + 8);

/** FTS5's query syntax from free text: each word quoted (no operators), all of them required. */
export function fts5Query(q: string): string {
  return q
    .split(/\s+/)
    .filter((w) => w !== "")
    .map((w) => `"${w.replaceAll('"', '""')}"`)
    .join(" ");
}

/** Creates what is missing and drops indexes of older definitions; the names of those created. */
async function install(db: Db, options: Options): Promise<string[]> {
  const created: string[] = [];
  // A GIN index over a large table takes a while to build: the transaction may take minutes.
  await db.$transaction(
    async (tx) => {
      if (options.dialect === "postgresql") {
        await tx.$queryRawUnsafe(
          "SELECT 1 FROM (SELECT pg_advisory_xact_lock(hashtext('ssot_search'))) AS locked",
        );
      }
      for (const m of options.models) {
        const prefix = prefixOf(m.index);
        const existing =
          options.dialect === "postgresql"
            ? await tx.$queryRawUnsafe<{ name: string; schema: string }[]>(
                "SELECT indexname AS name, schemaname AS schema FROM pg_indexes WHERE schemaname = coalesce($1::text, current_schema()) AND tablename = $2 AND left(indexname, $3) = $4",
                m.schema,
                m.table,
                prefix.length,
                prefix,
              )
            : await tx.$queryRawUnsafe<{ name: string; schema: string }[]>(
                "SELECT name, 'main' AS schema FROM sqlite_master WHERE type = 'table' AND sql LIKE 'CREATE VIRTUAL TABLE%' AND substr(name, 1, ?) = ?",
                prefix.length,
                prefix,
              );
        for (const old of existing.filter((e) => e.name !== m.index)) {
          if (options.dialect === "postgresql") {
            await tx.$executeRawUnsafe(`DROP INDEX ${quoted(old.schema)}.${quoted(old.name)}`);
          } else {
            for (const t of ["insert", "update", "delete"]) {
              await tx.$executeRawUnsafe(`DROP TRIGGER IF EXISTS ${quoted(`${old.name}_${t}`)}`);
            }
            await tx.$executeRawUnsafe(`DROP TABLE ${quoted(old.name)}`);
          }
        }
        if (existing.some((e) => e.name === m.index)) continue;
        for (const statement of m.create) await tx.$executeRawUnsafe(statement);
        created.push(m.index);
      }
    },
    { maxWait: 10_000, timeout: 600_000 },
  );
  return created;
}

export function create(options: Options): ServerPlugin {
  let db: Db | null = null;
  const search: Record<string, FullText> = {};
  for (const m of options.models) {
    const key = (k: unknown): unknown =>
      m.key === "string" ? String(k) : m.key === "bigint" ? BigInt(k as string) : Number(k);
    search[m.model] = {
      async match(q, limit) {
        if (db === null) throw new Error("search: the plugin has not started");
        const text = options.dialect === "sqlite" ? fts5Query(q) : q;
        if (text.trim() === "") return [];
        const rows = await db.$queryRawUnsafe<{ key: unknown }[]>(m.query, text, limit);
        return rows.map((r) => key(r.key));
      },
    };
  }
  return {
    name: "search",
    search,
    async start(cx: PluginContext) {
      db = cx.db as Db;
      if (!options.install) return;
      const created = await install(db, options);
      if (created.length > 0) {
        cx.log.info({ indexes: created }, "search: full-text indexes created");
      }
    },
  };
}
