// The search plugin (`[plugins.search]` in ssot.toml): `GET /api/<models>/search?q=` of every
// `@@search` model ranks with a full-text index of the database instead of `contains`.
// PostgreSQL: a GIN index on the weighted tsvector of the searched fields, queried with
// websearch_to_tsquery (quotes for phrases, `or`, `-` to exclude) and ranked by ts_rank. SQLite:
// an FTS5 table that triggers keep in step with the model's table, every word required, ranked by
// bm25. MySQL and MariaDB: a FULLTEXT index over the fields, every word required (boolean mode),
// ranked by each field's own FULLTEXT index with the same weights. The index only finds and
// orders: the engine keeps the rows the caller may read, as in every other read. At startup the
// server creates the indexes that are missing (`search.sql` holds the same statements, for
// `install = false`) and drops those of an older definition.

import type { FullText, PluginContext, ServerPlugin } from "../plugin.js";

export interface Options {
  dialect: "postgresql" | "sqlite" | "mysql";
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
    /** The ranked query; one column, `key`. */
    query: string;
    /** Its parameters: the caller's text, the dialect's match syntax of it, its plain words, the limit. */
    params: ("text" | "match" | "words" | "limit")[];
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
const backticked = (name: string): string => `\`${name.replaceAll("`", "``")}\``;

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

/** What MySQL's FULLTEXT parser indexes: words of `min` to `max` characters, not stopwords. */
export interface MysqlParser {
  min: number;
  max: number;
  stopwords: Set<string>;
}

/**
 * The words of free text that MySQL's index can hold (letters, digits, `_`, inner `'`; the
 * parser's lengths; no stopword): a required word the index never holds — "the", "a", "*" —
 * would match no row at all.
 */
export function mysqlWords(q: string, parser: MysqlParser): string[] {
  return q
    .split(/[^\p{L}\p{N}\p{M}_']+/u)
    .map((w) => w.replace(/^'+|'+$/g, ""))
    .filter((w) => {
      const n = [...w].length;
      return n >= parser.min && n <= parser.max && !parser.stopwords.has(w.toLowerCase());
    });
}

/** MySQL's boolean-mode syntax from those words: each one required, quoted (no operators). */
export const booleanQuery = (words: string[]): string => words.map((w) => `+"${w}"`).join(" ");

/**
 * InnoDB's default stopword list (`information_schema.INNODB_FT_DEFAULT_STOPWORD`), for a user
 * who may not read that table (MySQL 8 asks for the PROCESS privilege).
 */
const INNODB_STOPWORDS =
  "a about an are as at be by com de en for from how i in is it la of on or that the this to was what when where who will with und www";

/** The server's FULLTEXT settings: token lengths and the stopword list in use. */
async function mysqlParser(db: Db, log: PluginContext["log"]): Promise<MysqlParser> {
  const [settings] = await db.$queryRawUnsafe<
    { min: unknown; max: unknown; enabled: unknown; table: string | null }[]
  >(
    "SELECT @@innodb_ft_min_token_size AS min, @@innodb_ft_max_token_size AS max, @@innodb_ft_enable_stopword AS enabled, @@innodb_ft_server_stopword_table AS `table`",
  );
  if (settings === undefined) throw new Error("search: MySQL did not report its FULLTEXT settings");
  let stopwords: string[] = [];
  if (Number(settings.enabled) === 1) {
    // `db/table` when the server has a list of its own, else InnoDB's default one.
    const table = settings.table ?? "";
    const own = table !== "";
    try {
      const rows = await db.$queryRawUnsafe<{ value: string }[]>(
        own
          ? `SELECT value FROM ${table.split("/").map(backticked).join(".")}`
          : "SELECT value FROM information_schema.INNODB_FT_DEFAULT_STOPWORD",
      );
      stopwords = rows.map((w) => w.value);
    } catch (err) {
      const { name } = err as { name?: string };
      log.warn(
        { error: name, table: own ? table : "INNODB_FT_DEFAULT_STOPWORD" },
        "search: the stopword list cannot be read; InnoDB's default list is used",
      );
      stopwords = INNODB_STOPWORDS.split(" ");
    }
  }
  return {
    min: Number(settings.min),
    max: Number(settings.max),
    stopwords: new Set(stopwords.map((w) => w.toLowerCase())),
  };
}

/** The stored indexes of one model whose names start with `prefix`. */
async function existingIndexes(
  tx: Db,
  dialect: Options["dialect"],
  m: Options["models"][number],
  prefix: string,
): Promise<{ name: string; schema: string }[]> {
  switch (dialect) {
    case "postgresql":
      return tx.$queryRawUnsafe(
        "SELECT indexname AS name, schemaname AS schema FROM pg_indexes WHERE schemaname = coalesce($1::text, current_schema()) AND tablename = $2 AND left(indexname, $3) = $4",
        m.schema,
        m.table,
        prefix.length,
        prefix,
      );
    case "mysql":
      return tx.$queryRawUnsafe(
        "SELECT DISTINCT index_name AS name, table_schema AS `schema` FROM information_schema.statistics WHERE table_schema = coalesce(?, database()) AND table_name = ? AND left(index_name, ?) = ?",
        m.schema,
        m.table,
        prefix.length,
        prefix,
      );
    case "sqlite":
      return tx.$queryRawUnsafe(
        "SELECT name, 'main' AS schema FROM sqlite_master WHERE type = 'table' AND sql LIKE 'CREATE VIRTUAL TABLE%' AND substr(name, 1, ?) = ?",
        prefix.length,
        prefix,
      );
  }
}

/** Drops a stored index of an older definition (SQLite: the FTS5 table and its triggers). */
async function dropIndex(
  tx: Db,
  dialect: Options["dialect"],
  table: string,
  old: { name: string; schema: string },
): Promise<void> {
  if (dialect === "postgresql") {
    await tx.$executeRawUnsafe(`DROP INDEX ${quoted(old.schema)}.${quoted(old.name)}`);
  } else if (dialect === "mysql") {
    await tx.$executeRawUnsafe(
      `DROP INDEX ${backticked(old.name)} ON ${backticked(old.schema)}.${backticked(table)}`,
    );
  } else {
    for (const t of ["insert", "update", "delete"]) {
      await tx.$executeRawUnsafe(`DROP TRIGGER IF EXISTS ${quoted(`${old.name}_${t}`)}`);
    }
    await tx.$executeRawUnsafe(`DROP TABLE ${quoted(old.name)}`);
  }
}

/** Creates what is missing and drops indexes of older definitions; the names of those created. */
async function install(db: Db, options: Options): Promise<string[]> {
  const created: string[] = [];
  const { dialect } = options;
  // A GIN index over a large table takes a while to build: the transaction may take minutes.
  // (MySQL commits at each CREATE INDEX; its lock is the session's, released at the end.)
  await db.$transaction(
    async (tx) => {
      if (dialect === "postgresql") {
        await tx.$queryRawUnsafe(
          "SELECT 1 FROM (SELECT pg_advisory_xact_lock(hashtext('ssot_search'))) AS locked",
        );
      } else if (dialect === "mysql") {
        await tx.$queryRawUnsafe("SELECT GET_LOCK('ssot_search', 600) AS locked");
      }
      try {
        for (const m of options.models) {
          const existing = await existingIndexes(tx, dialect, m, prefixOf(m.index));
          // The definition's indexes: `<index>`, and on MySQL its parts `<index>_<i>`, created
          // before it. Without `<index>` whatever exists is stale or an interrupted start's.
          const current = existing.some((e) => e.name === m.index);
          const ours = (name: string) =>
            current && (name === m.index || name.startsWith(`${m.index}_`));
          for (const old of existing.filter((e) => !ours(e.name)))
            await dropIndex(tx, dialect, m.table, old);
          if (current) continue;
          for (const statement of m.create) await tx.$executeRawUnsafe(statement);
          created.push(m.index);
        }
      } finally {
        if (dialect === "mysql")
          await tx.$queryRawUnsafe("SELECT RELEASE_LOCK('ssot_search') AS released");
      }
    },
    { maxWait: 10_000, timeout: 600_000 },
  );
  return created;
}

export function create(options: Options): ServerPlugin {
  let db: Db | null = null;
  let parser: MysqlParser | null = null;
  const search: Record<string, FullText> = {};
  for (const m of options.models) {
    const key = (k: unknown): unknown =>
      m.key === "string" ? String(k) : m.key === "bigint" ? BigInt(k as string) : Number(k);
    search[m.model] = {
      async match(q, limit) {
        if (db === null) throw new Error("search: the plugin has not started");
        const words = parser !== null ? mysqlWords(q, parser) : [];
        const match =
          options.dialect === "sqlite"
            ? fts5Query(q)
            : options.dialect === "mysql"
              ? booleanQuery(words)
              : q;
        if (match.trim() === "") return [];
        const values = m.params.map((p) =>
          p === "text" ? q : p === "match" ? match : p === "words" ? words.join(" ") : limit,
        );
        const rows = await db.$queryRawUnsafe<{ key: unknown }[]>(m.query, ...values);
        return rows.map((r) => key(r.key));
      },
    };
  }
  return {
    name: "search",
    search,
    async start(cx: PluginContext) {
      db = cx.db as Db;
      if (options.dialect === "mysql") parser = await mysqlParser(db, cx.log);
      if (!options.install) return;
      const created = await install(db, options);
      if (created.length > 0) {
        cx.log.info({ indexes: created }, "search: full-text indexes created");
      }
    },
  };
}
