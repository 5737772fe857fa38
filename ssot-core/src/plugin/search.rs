//! `search`: `GET /api/<models>/search?q=` of every `@@search` model ranks with a full-text index
//! of the database instead of `contains`. PostgreSQL: a GIN index on the `tsvector` of the
//! searched fields (the first weighted `A`, the next `B`, ...), queried with
//! `websearch_to_tsquery` and ranked with `ts_rank`. SQLite: an FTS5 table kept in step by
//! triggers, ranked with `bm25`. MySQL and MariaDB: a `FULLTEXT` index over the fields, matched in
//! boolean mode with every word required, ranked by the relevance of each field's own `FULLTEXT`
//! index, weighted like PostgreSQL's. The engine keeps the matches the caller may read: the index
//! only orders them. The server creates what is missing at startup (`install = false`: apply
//! `search.sql` yourself, in a migration).

use super::{Contribution, OptionSpec, OptionType, Options, Plugin, PluginCx, ServerModule};
use crate::ir::{FieldType, Ir, Model, ModelKind, ScalarType};
use serde_json::json;

pub struct Search;

const OPTIONS: &[OptionSpec] = &[
    OptionSpec::optional("language", OptionType::String, "the text search language: stemming and stop words (default \"simple\": neither)"),
    OptionSpec::optional(
        "install",
        OptionType::Bool,
        "the server creates the indexes at startup (default true; false: apply search.sql yourself)",
    ),
];

/// PostgreSQL's built-in text search configurations.
const LANGUAGES: &[&str] = &[
    "simple",
    "arabic",
    "armenian",
    "basque",
    "catalan",
    "danish",
    "dutch",
    "english",
    "finnish",
    "french",
    "german",
    "greek",
    "hindi",
    "hungarian",
    "indonesian",
    "irish",
    "italian",
    "lithuanian",
    "nepali",
    "norwegian",
    "portuguese",
    "romanian",
    "russian",
    "serbian",
    "spanish",
    "swedish",
    "tamil",
    "turkish",
    "yiddish",
];

#[derive(Clone, Copy, PartialEq)]
enum Dialect {
    Postgres,
    Sqlite,
    Mysql,
}

fn dialect(ir: &Ir) -> Option<Dialect> {
    match ir.provider.as_str() {
        "postgresql" | "postgres" => Some(Dialect::Postgres),
        "sqlite" => Some(Dialect::Sqlite),
        "mysql" => Some(Dialect::Mysql),
        _ => None,
    }
}

impl Dialect {
    fn name(self) -> &'static str {
        match self {
            Dialect::Postgres => "postgresql",
            Dialect::Sqlite => "sqlite",
            Dialect::Mysql => "mysql",
        }
    }

    /// An identifier in the dialect's quotes.
    fn ident(self, name: &str) -> String {
        match self {
            Dialect::Mysql => format!("`{}`", name.replace('`', "``")),
            _ => super::sql_ident(name),
        }
    }
}

fn language(options: &Options) -> &str {
    match super::option_str(options, "language") {
        "" => "simple",
        l => l,
    }
}

/// The models whose search the index serves: `@@search` tables of the API with one id field of
/// type Int, BigInt or String. Others keep `contains`.
fn models(ir: &Ir) -> Vec<&Model> {
    ir.api_models()
        .filter(|m| m.kind == ModelKind::Model && m.annotations.expose.api && m.annotations.search.as_ref().is_some_and(|s| !s.is_empty()))
        .filter(|m| key(m).is_some())
        .collect()
}

/// The id's column and its kind (`int`, `bigint`, `string`).
fn key(m: &Model) -> Option<(String, &'static str)> {
    let [id] = m.id_fields()[..] else { return None };
    let f = m.field(id)?;
    let kind = match f.ty {
        FieldType::Scalar(ScalarType::Int) => "int",
        FieldType::Scalar(ScalarType::BigInt) => "bigint",
        FieldType::Scalar(ScalarType::String) => "string",
        _ => return None,
    };
    Some((f.db_name.clone().unwrap_or_else(|| f.name.clone()), kind))
}

fn columns(m: &Model, d: Dialect) -> Vec<String> {
    let fields = m.annotations.search.as_deref().unwrap_or_default();
    fields.iter().filter_map(|f| m.field(f)).map(|f| d.ident(f.db_name.as_deref().unwrap_or(&f.name))).collect()
}

/// The table's name in the database, unquoted.
fn table_name(m: &Model) -> &str {
    m.db_name.as_deref().unwrap_or(&m.name)
}

/// `<table>_search_<hash of the definition>`, at most 63 bytes (PostgreSQL's limit) less
/// `reserve` (for suffixes of the index's parts): a changed definition (fields, language) gets a
/// new name, and the server drops the old one.
fn index_name(m: &Model, definition: &str, reserve: usize) -> String {
    let hash = &crate::writer::hash(definition)[..8];
    let mut base: String = table_name(m).to_owned();
    while base.len() > 63 - reserve - "_search_".len() - hash.len() {
        base.pop();
    }
    format!("{base}_search_{hash}")
}

/// What the TypeScript module runs for one model.
struct Statements {
    /// The index's name: its prefix up to `_search_` finds stale ones.
    name: String,
    /// Run when the index does not exist, in one transaction.
    create: Vec<String>,
    /// The ranked query; one column `key`.
    query: String,
    /// What the query's parameters are, in order: `text` (the caller's text), `match` (the
    /// dialect's match syntax of its words), `words` (its words, plain), `limit`.
    params: Vec<&'static str>,
}

fn postgres(m: &Model, language: &str) -> Statements {
    let cfg = format!("'{language}'::regconfig");
    let document = columns(m, Dialect::Postgres)
        .iter()
        .enumerate()
        .map(|(i, c)| format!("setweight(to_tsvector({cfg}, coalesce({c}, '')), '{}')", ["A", "B", "C", "D"][i.min(3)]))
        .collect::<Vec<_>>()
        .join(" || ");
    let (key, _) = key(m).expect("models() keeps keyed models");
    let key = super::sql_ident(&key);
    let table = super::sql_table(m);
    let name = index_name(m, &document, 0);
    let tsquery = format!("websearch_to_tsquery({cfg}, $1)");
    Statements {
        create: vec![format!("CREATE INDEX IF NOT EXISTS {} ON {table} USING GIN (({document}))", super::sql_ident(&name))],
        query: format!(
            "SELECT {key} AS \"key\" FROM {table} WHERE ({document}) @@ {tsquery} ORDER BY ts_rank(({document}), {tsquery}) DESC, {key} LIMIT $2"
        ),
        params: vec!["text", "limit"],
        name,
    }
}

fn sqlite(m: &Model, language: &str) -> Statements {
    let tokenize = if language == "english" { "porter unicode61 remove_diacritics 2" } else { "unicode61 remove_diacritics 2" };
    let cols = columns(m, Dialect::Sqlite);
    let (key, kind) = key(m).expect("models() keeps keyed models");
    let key = super::sql_ident(&key);
    let table = super::sql_table(m);
    // An integer id is the table's rowid (INTEGER PRIMARY KEY): the index's rowid is the id. Any
    // other id is stored beside the text, unindexed.
    let (id_col, fts_cols) = if kind == "string" {
        ("\"key\"".to_owned(), format!("\"key\" UNINDEXED, {}", cols.join(", ")))
    } else {
        ("rowid".to_owned(), cols.join(", "))
    };
    let definition = format!("{fts_cols} {tokenize}");
    let name = index_name(m, &definition, 0);
    let fts = super::sql_ident(&name);
    let list = format!("{id_col}, {}", cols.join(", "));
    let new_values = format!("new.{key}, {}", cols.iter().map(|c| format!("new.{c}")).collect::<Vec<_>>().join(", "));
    let insert = format!("INSERT INTO {fts}({list}) VALUES ({new_values});");
    let delete = format!("DELETE FROM {fts} WHERE {id_col} = old.{key};");
    let trigger = |suffix: &str| super::sql_ident(&format!("{name}_{suffix}"));
    // bm25's weights mirror ts_rank's defaults for A, B, C, D; the stored id weighs nothing.
    let weights: Vec<&str> = (0..cols.len()).map(|i| ["1.0", "0.4", "0.2", "0.1"][i.min(3)]).collect();
    let weights = if kind == "string" { format!("0.0, {}", weights.join(", ")) } else { weights.join(", ") };
    Statements {
        create: vec![
            format!("CREATE VIRTUAL TABLE {fts} USING fts5({fts_cols}, tokenize = '{tokenize}')"),
            format!("INSERT INTO {fts}({list}) SELECT {key}, {} FROM {table}", cols.join(", ")),
            format!("CREATE TRIGGER {} AFTER INSERT ON {table} BEGIN {insert} END", trigger("insert")),
            format!(
                "CREATE TRIGGER {} AFTER UPDATE OF {key}, {} ON {table} BEGIN {delete} {insert} END",
                trigger("update"),
                cols.join(", ")
            ),
            format!("CREATE TRIGGER {} AFTER DELETE ON {table} BEGIN {delete} END", trigger("delete")),
        ],
        query: format!("SELECT {id_col} AS \"key\" FROM {fts} WHERE {fts} MATCH ? ORDER BY bm25({fts}, {weights}), {id_col} LIMIT ?"),
        params: vec!["match", "limit"],
        name,
    }
}

/// MySQL and MariaDB: one `FULLTEXT` index over the fields finds the rows (boolean mode, every
/// word required); with several fields, one more per field ranks them, weighted as `ts_rank`
/// weighs A, B, C, D (a `MATCH` needs an index on exactly its columns). The per-field indexes are
/// `<name>_<i>` and come first, so the whole definition exists once `<name>` does. The parser is
/// the server's: no stemming, its stopwords and `innodb_ft_min_token_size`.
fn mysql(m: &Model) -> Statements {
    let d = Dialect::Mysql;
    let cols = columns(m, d);
    let (key, _) = key(m).expect("models() keeps keyed models");
    let key = d.ident(&key);
    let table = d.ident(table_name(m));
    let all = cols.join(", ");
    let name = index_name(m, &format!("mysql fulltext ({all})"), 3);
    let mut create = Vec::new();
    let mut params = vec!["match"];
    let rank = if cols.len() == 1 {
        params.push("match");
        format!("MATCH ({all}) AGAINST (? IN BOOLEAN MODE)")
    } else {
        let mut terms = Vec::new();
        for (i, c) in cols.iter().enumerate() {
            create.push(format!("CREATE FULLTEXT INDEX {} ON {table} ({c})", d.ident(&format!("{name}_{i}"))));
            terms.push(format!("{} * MATCH ({c}) AGAINST (? IN NATURAL LANGUAGE MODE)", ["1.0", "0.4", "0.2", "0.1"][i.min(3)]));
            params.push("words");
        }
        format!("({})", terms.join(" + "))
    };
    params.push("limit");
    create.push(format!("CREATE FULLTEXT INDEX {} ON {table} ({all})", d.ident(&name)));
    Statements {
        create,
        query: format!(
            "SELECT {key} AS `key` FROM {table} WHERE MATCH ({all}) AGAINST (? IN BOOLEAN MODE) ORDER BY {rank} DESC, {key} LIMIT ?"
        ),
        params,
        name,
    }
}

fn statements(ir: &Ir, m: &Model, options: &Options) -> Statements {
    match dialect(ir) {
        Some(Dialect::Sqlite) => sqlite(m, language(options)),
        Some(Dialect::Mysql) => mysql(m),
        _ => postgres(m, language(options)),
    }
}

/// `search.sql`: what the server runs at startup, for a migration of your own.
fn script(ir: &Ir, options: &Options) -> String {
    let mut out = format!(
        "-- {}\n-- The full-text indexes of the search plugin ([plugins.search] in ssot.toml). The server creates\n-- them at startup; with `install = false`, put these statements in a migration of yours.\n",
        crate::generate::HEADER
    );
    for m in models(ir) {
        out.push_str(&format!("\n-- {}\n", m.name));
        for s in statements(ir, m, options).create {
            out.push_str(&s);
            out.push_str(";\n");
        }
    }
    out
}

impl Plugin for Search {
    fn name(&self) -> &str {
        "search"
    }

    fn options(&self) -> &[OptionSpec] {
        OPTIONS
    }

    fn check_options(&self, ir: &Ir, options: &Options) -> Vec<(String, String)> {
        let l = super::option_str(options, "language");
        if dialect(ir) == Some(Dialect::Mysql) && !l.is_empty() && l != "simple" {
            let message = format!(
                "MySQL's FULLTEXT indexes have no language (no stemming; the server's stopwords and innodb_ft_min_token_size apply): remove `language = \"{l}\"`"
            );
            return vec![("language".into(), message)];
        }
        if l.is_empty() || LANGUAGES.contains(&l) {
            return Vec::new();
        }
        let message = match crate::diagnostics::did_you_mean(l, LANGUAGES.iter().copied()) {
            Some(b) => format!("`{l}` is not a text search language: did you mean `{b}`?"),
            None => format!("`{l}` is not a text search language: one of {}", LANGUAGES.join(", ")),
        };
        vec![("language".into(), message)]
    }

    fn check_schema(&self, ir: &Ir) -> Result<(), String> {
        if dialect(ir).is_none() {
            return Err(format!(
                "search builds PostgreSQL, SQLite and MySQL full-text indexes; the schema's provider is `{}`",
                ir.provider
            ));
        }
        if models(ir).is_empty() {
            return Err(
                "search indexes the fields of `@@search(fields: [...])` models with one Int, BigInt or String id, and the schema has none"
                    .into(),
            );
        }
        Ok(())
    }

    fn generate(&self, cx: &PluginCx) -> Contribution {
        let mut c = Contribution::default();
        c.files.insert(
            "src/server/plugins/search.ts".into(),
            format!("// {}\n\n{}", crate::generate::HEADER, include_str!("../../templates/ts/plugins/search.ts")),
        );
        c.files.insert("src/server/plugins/search.sql".into(), script(cx.ir, cx.options));
        let models: Vec<_> = models(cx.ir)
            .into_iter()
            .map(|m| {
                let s = statements(cx.ir, m, cx.options);
                let (_, kind) = key(m).expect("models() keeps keyed models");
                json!({
                    "model": m.name,
                    "key": kind,
                    "table": table_name(m),
                    "schema": m.schema,
                    "index": s.name,
                    "create": s.create,
                    "query": s.query,
                    "params": s.params,
                })
            })
            .collect();
        c.server_module = Some(ServerModule {
            path: "plugins/search".into(),
            options: json!({
                "dialect": dialect(cx.ir).unwrap_or(Dialect::Postgres).name(),
                "install": cx.options.get("install").and_then(|v| v.as_bool()).unwrap_or(true),
                "models": models,
            }),
        });
        c
    }
}
