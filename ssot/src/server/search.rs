//! The `search` plugin in the Rust server: `GET /api/<models>/search?q=` ranks with the database's
//! full-text index, as the TypeScript server's `plugins/search.ts` does, from the same statements
//! (the schema document's `plugins.search`, written by ssot-core's plugin): at start the indexes
//! that are missing are created and those of an older definition dropped; a search runs the
//! index's ranked query for its best matches, and the engine keeps those the caller may read.

use super::db::{Kind, Param, Pool, Query};
use crate::rules::{Dialect, ident};
use serde::Deserialize;
use std::collections::HashMap;

/// How many of the index's best matches a search considers (`meta.total` at most), as in the
/// TypeScript server.
pub(crate) const MATCHES: usize = 1000;

#[derive(Deserialize)]
struct Options {
    dialect: String,
    install: bool,
    models: Vec<Index>,
}

/// One model's index, as the plugin wrote it into the schema document.
#[derive(Debug, Deserialize)]
pub(crate) struct Index {
    model: String,
    /// The id's type: `int`, `bigint` or `string`.
    key: String,
    table: String,
    schema: Option<String>,
    index: String,
    create: Vec<String>,
    /// The ranked query; one column, `key`.
    query: String,
    /// Its parameters: `text` (the caller's), `match` (FTS5's syntax of it), `limit`.
    #[serde(default = "default_params")]
    params: Vec<String>,
}

fn default_params() -> Vec<String> {
    vec!["text".into(), "limit".into()]
}

/// The indexes by model name; empty without the plugin.
#[derive(Debug, Default)]
pub(crate) struct FullText {
    pub indexes: HashMap<String, Index>,
}

impl FullText {
    /// Reads the plugin's part of the schema document and creates what is missing.
    pub(crate) async fn start(pool: &Pool, options: &serde_json::Value) -> Result<FullText, String> {
        let options: Options = serde::Deserialize::deserialize(options).map_err(|e| format!("plugins.search: {e}"))?;
        let dialect = match options.dialect.as_str() {
            "postgresql" => Dialect::Postgres,
            "sqlite" => Dialect::Sqlite,
            other => return Err(format!("search: the Rust server runs PostgreSQL and SQLite, the schema's indexes are {other}'s")),
        };
        if dialect != pool.dialect() {
            return Err(format!("search: the schema's indexes are {}'s, DATABASE_URL is another database", options.dialect));
        }
        if options.install {
            let created = install(pool, &options.models).await.map_err(|e| format!("search: creating the full-text indexes: {e}"))?;
            if !created.is_empty() {
                tracing::info!(indexes = ?created, "search: full-text indexes created");
            }
        }
        Ok(FullText { indexes: options.models.into_iter().map(|m| (m.model.clone(), m)).collect() })
    }
}

/// The part of an index's name that every definition of the same table's index shares.
fn prefix(index: &str) -> &str {
    index.rfind("_search_").map_or(index, |i| &index[..i + "_search_".len()])
}

fn text(s: &str) -> Param {
    Param::Text(s.to_owned())
}

/// In one transaction (PostgreSQL: under an advisory lock, as every instance starting at once
/// runs this): drops indexes of older definitions and creates the missing ones.
async fn install(pool: &Pool, models: &[Index]) -> Result<Vec<String>, sqlx::Error> {
    let mut tx = pool.begin().await?;
    let dialect = pool.dialect();
    if dialect == Dialect::Postgres {
        let mut lock = Query::default();
        lock.push("SELECT 1 FROM (SELECT pg_advisory_xact_lock(hashtext('ssot_search'))) AS locked");
        tx.fetch(&lock, &[Kind::Int]).await?;
    }
    let mut created = Vec::new();
    for m in models {
        let p = prefix(&m.index);
        let n = Param::Int(p.chars().count() as i64);
        let q = match dialect {
            Dialect::Postgres => Query {
                sql: "SELECT indexname::text, schemaname::text FROM pg_indexes WHERE schemaname = coalesce($1::text, current_schema()) AND tablename = $2 AND left(indexname::text, $3::int) = $4".into(),
                params: vec![m.schema.as_deref().map_or(Param::Null, text), text(&m.table), n, text(p)],
            },
            Dialect::Sqlite => Query {
                sql: "SELECT name, 'main' FROM sqlite_master WHERE type = 'table' AND sql LIKE 'CREATE VIRTUAL TABLE%' AND substr(name, 1, ?) = ?".into(),
                params: vec![n, text(p)],
            },
        };
        let existing: Vec<(String, String)> = tx
            .fetch(&q, &[Kind::Text, Kind::Text])
            .await?
            .into_iter()
            .filter_map(|r| match &r[..] {
                [Param::Text(name), Param::Text(schema)] => Some((name.clone(), schema.clone())),
                _ => None,
            })
            .collect();
        let current = existing.iter().any(|(name, _)| *name == m.index);
        for (name, schema) in existing.iter().filter(|(name, _)| !current || *name != m.index) {
            let mut statements = Vec::new();
            match dialect {
                Dialect::Postgres => statements.push(format!("DROP INDEX {}.{}", ident(schema), ident(name))),
                Dialect::Sqlite => {
                    for t in ["insert", "update", "delete"] {
                        statements.push(format!("DROP TRIGGER IF EXISTS {}", ident(&format!("{name}_{t}"))));
                    }
                    statements.push(format!("DROP TABLE {}", ident(name)));
                }
            }
            for s in statements {
                tx.execute(&Query { sql: s, params: Vec::new() }).await?;
            }
        }
        if current {
            continue;
        }
        for s in &m.create {
            tx.execute(&Query { sql: s.clone(), params: Vec::new() }).await?;
        }
        created.push(m.index.clone());
    }
    tx.commit().await?;
    Ok(created)
}

/// FTS5's query syntax from free text: each word quoted (no operators), all of them required.
fn fts5_query(q: &str) -> String {
    q.split_whitespace().map(|w| format!("\"{}\"", w.replace('"', "\"\""))).collect::<Vec<_>>().join(" ")
}

impl Index {
    /// The ids of the index's best `limit` matches of `q`, best first, as parameters.
    pub(crate) async fn matches(&self, pool: &Pool, q: &str, limit: usize) -> Result<Vec<Param>, sqlx::Error> {
        let matched = match pool.dialect() {
            Dialect::Sqlite => fts5_query(q),
            Dialect::Postgres => q.to_owned(),
        };
        if matched.trim().is_empty() {
            return Ok(Vec::new());
        }
        let mut query = Query { sql: self.query.clone(), params: Vec::new() };
        for p in &self.params {
            query.params.push(match p.as_str() {
                "limit" => Param::Int(limit as i64),
                "match" => text(&matched),
                _ => text(q),
            });
        }
        let kind = if self.key == "string" { Kind::Text } else { Kind::Int };
        Ok(pool.fetch(&query, &[kind]).await?.into_iter().filter_map(|mut r| r.pop()).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fts5_queries_quote_every_word() {
        assert_eq!(fts5_query(r#"a "b  NEAR(c)"#), r#""a" """b" "NEAR(c)""#);
        assert_eq!(fts5_query("  "), "");
    }

    #[test]
    fn prefixes_end_at_the_last_search_marker() {
        assert_eq!(prefix("my_search_table_search_0123abcd"), "my_search_table_search_");
    }

    /// The schema document's `plugins.search` of a SQLite schema, as ssot-core writes it.
    fn options(language: &str) -> serde_json::Value {
        let schema = "datasource db {\n  provider = \"sqlite\"\n}\n\n/// @@search(fields: [title, body])\nmodel Article {\n  id    Int    @id @default(autoincrement())\n  title String\n  body  String\n}\n";
        let toml = format!("[plugins.search]\nlanguage = \"{language}\"\n");
        let mut sources = ssot_core::diagnostics::Sources::new();
        sources.add("schema.prisma", schema);
        let file = ssot_core::config::FileConfig::parse(&toml).unwrap();
        let config = file.resolve(Some(("ssot.toml".into(), toml.clone()))).unwrap();
        let loaded = ssot_core::analyze(sources, &config, std::path::Path::new("")).unwrap();
        ssot_core::generate::schema::document(&loaded.ir, &config)["plugins"]["search"].clone()
    }

    async fn run(pool: &Pool, sql: &str) {
        let mut tx = pool.begin().await.unwrap();
        tx.execute(&Query { sql: sql.into(), params: Vec::new() }).await.unwrap();
        tx.commit().await.unwrap();
    }

    /// SQLite (PostgreSQL runs in tests/ts/server.sh): the FTS5 table is created and filled from
    /// the rows there, kept in step by its triggers, ranked (title before body), and replaced when
    /// the definition changes.
    #[tokio::test]
    async fn sqlite_indexes_are_created_kept_ranked_and_replaced() {
        let path = std::env::temp_dir().join(format!("ssot-search-{}.db", std::process::id()));
        let _ = std::fs::remove_file(&path);
        let pool = Pool::open(&format!("file:{}", path.display()), 1, true).await.unwrap();
        run(&pool, r#"CREATE TABLE "Article" ("id" INTEGER PRIMARY KEY, "title" TEXT NOT NULL, "body" TEXT NOT NULL)"#).await;
        run(&pool, r#"INSERT INTO "Article" VALUES (1, 'marsupials', 'the quokka smiles'), (2, 'quokka habitats', 'an island'), (3, 'other', 'words')"#).await;
        let english = FullText::start(&pool, &options("english")).await.unwrap();
        let index = &english.indexes["Article"];
        let ids = |v: Vec<Param>| v.into_iter().map(|p| if let Param::Int(i) = p { i } else { -1 }).collect::<Vec<_>>();
        assert_eq!(ids(index.matches(&pool, "quokka", 10).await.unwrap()), [2, 1], "the title's match first");
        assert_eq!(ids(index.matches(&pool, "quokkas smiling", 10).await.unwrap()), [1], "stemmed, every word required");
        assert_eq!(ids(index.matches(&pool, "quokka", 1).await.unwrap()), [2], "the limit");
        for q in [r#"a "b"#, "NEAR(a b)", "*", "   "] {
            assert!(index.matches(&pool, q, 10).await.is_ok(), "{q}");
        }
        run(&pool, r#"INSERT INTO "Article" VALUES (4, 'a quokka', 'x')"#).await;
        run(&pool, r#"DELETE FROM "Article" WHERE "id" = 2"#).await;
        assert_eq!(ids(index.matches(&pool, "quokka", 10).await.unwrap()), [4, 1], "the triggers follow writes");

        let simple = FullText::start(&pool, &options("simple")).await.unwrap();
        let replaced = &simple.indexes["Article"];
        assert_ne!(replaced.index, index.index);
        let mut q = Query::default();
        q.push("SELECT name FROM sqlite_master WHERE type = 'table' AND sql LIKE 'CREATE VIRTUAL TABLE%'");
        let tables = pool.fetch(&q, &[Kind::Text]).await.unwrap();
        assert_eq!(tables, [vec![Param::Text(replaced.index.clone())]], "the old definition's table is gone");
        assert_eq!(ids(replaced.matches(&pool, "quokkas", 10).await.unwrap()), Vec::<i64>::new(), "no stemming");
        assert_eq!(ids(replaced.matches(&pool, "quokka", 10).await.unwrap()), [4, 1], "filled from the rows");
        // A second start with the same definition changes nothing.
        FullText::start(&pool, &options("simple")).await.unwrap();
        assert_eq!(pool.fetch(&q, &[Kind::Text]).await.unwrap(), tables);
        let _ = std::fs::remove_file(&path);
    }
}
