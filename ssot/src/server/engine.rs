//! The CRUD engine: every route of every model runs through these operations, driven by the
//! schema document, as the TypeScript server's `engine.ts` does. Reads carry the `read` policy
//! in their `WHERE`; writes run in a transaction that checks `create`/`update`/`delete`,
//! `@writable` and the rows foreign keys name, and rolls back when a check fails.

use super::db::{Cell, Db, Kind, Param, Pool, Query, Tx};
use super::problem::{FieldError, HttpError};
use super::wire::{self, Wire};
use crate::hooks::{Context, ErasedAfter, ErasedBefore, ModelHooks, Reject};
use crate::rules::{self, Claims, Dialect, Marked, ident};
use crate::schema::{Expr, Field, Model, RealtimeEvent, Relation, Schema, Source};
use base64::Engine as _;
use serde_json::{Map, Value as Json};
use std::collections::HashMap;

/// Page sizes (`DEFAULT_PAGE_SIZE`, `MAX_PAGE_SIZE`).
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub default_page_size: u64,
    pub max_page_size: u64,
}

pub(crate) struct Engine {
    pub schema: &'static Schema,
    pub source: &'static Source,
    pub pool: Pool,
    pub dialect: Dialect,
    /// PostgreSQL column types by (table, column), for parameter casts.
    pub types: HashMap<(String, String), String>,
    pub limits: Limits,
    /// Hooks by model name.
    pub hooks: HashMap<String, ModelHooks>,
    /// Where committed writes of `@@realtime` models go (the WebSocket gateway's bus).
    pub events: Option<std::sync::Arc<super::realtime::Bus>>,
    /// The `monitoring` plugin's metrics.
    #[cfg(feature = "monitoring")]
    pub metrics: Option<std::sync::Arc<super::metrics::Metrics>>,
    /// The `search` plugin's full-text indexes.
    pub full_text: super::search::FullText,
}

/// Query-string parameters, the last value of each name.
pub(crate) type Params = Vec<(String, String)>;

fn last<'a>(q: &'a Params, name: &str) -> Option<&'a str> {
    q.iter().rev().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
}

enum Op {
    Read,
    Create,
    Update,
    Delete,
}

const FORBIDDEN: &str = "The policy of this model does not allow this.";

/// A condition: everything, nothing, or SQL with its parameters.
#[derive(Clone)]
enum Cond {
    All,
    None,
    Sql(Query),
}

fn and(parts: Vec<Cond>) -> Cond {
    let mut q = Query::default();
    let mut n = 0;
    for p in parts {
        match p {
            Cond::None => return Cond::None,
            Cond::All => {}
            Cond::Sql(part) => {
                if n > 0 {
                    q.push(" AND ");
                }
                q.push("(").push(&part.sql).push(")");
                q.params.extend(part.params);
                n += 1;
            }
        }
    }
    if n == 0 { Cond::All } else { Cond::Sql(q) }
}

fn push_where(q: &mut Query, c: Cond) {
    match c {
        Cond::All => {}
        Cond::None => {
            q.push(" WHERE 1 = 0");
        }
        Cond::Sql(w) => {
            q.push(" WHERE ").push(&w.sql);
            q.params.extend(w.params);
        }
    }
}

/// Fields that live in a column (not composite types or unsupported ones).
fn columns(m: &Model) -> impl Iterator<Item = &Field> {
    m.fields.iter().filter(|f| f.ty != "composite" && f.ty != "unsupported")
}

/// An implicit m:n join table: its quoted name, the column pointing at this side, the other one.
type JoinTable = (String, &'static str, &'static str);

/// Output fields with a `@readable` rule: a row carries one flag per field after its columns.
fn readable_fields(m: &Model) -> impl Iterator<Item = &Field> {
    columns(m).filter(|f| f.output && f.readable.is_some())
}

/// A row as read: the cells of [`columns`] in order, then the [`readable_fields`] flags.
type Row = Vec<Cell>;

impl Engine {
    fn model(&self, name: &str) -> Result<&'static Model, HttpError> {
        self.schema.model(name).ok_or_else(HttpError::internal)
    }

    pub(crate) fn cast(&self, m: &Model, f: &Field) -> String {
        if self.dialect != Dialect::Postgres {
            return String::new();
        }
        let table = match &m.db_schema {
            Some(schema) => format!("{schema}.{}", m.db_name),
            None => m.db_name.clone(),
        };
        match self.types.get(&(table, f.db_name.clone())) {
            Some(ty) => format!("::{ty}"),
            None => String::new(),
        }
    }

    fn col(alias: &str, f: &Field) -> String {
        if alias.is_empty() { ident(&f.db_name) } else { format!("{alias}.{}", ident(&f.db_name)) }
    }

    /// `SELECT <columns>, <readable flags>, <extra> FROM <table> AS <alias>` and the kinds of
    /// the selected values. Each `@readable` rule of an output field is evaluated by the
    /// database on the stored row (relations included) as one Boolean column, compiled from
    /// the same AST as the read policy.
    fn select(&self, m: &Model, alias: &str, extra: &[(String, Kind)], auth: &Claims) -> Result<(Query, Vec<Kind>), HttpError> {
        let mut kinds = Vec::new();
        let mut q = Query::default();
        q.push("SELECT ");
        for (i, f) in columns(m).enumerate() {
            let (sql, kind) = wire::select(self.dialect, f, &Self::col(alias, f));
            if i > 0 {
                q.push(", ");
            }
            q.push(&sql);
            kinds.push(kind);
        }
        let mut aliases = 0;
        let flag = if self.dialect == Dialect::Postgres { Kind::Bool } else { Kind::Int };
        for f in readable_fields(m) {
            let rule = f.readable.as_ref().ok_or_else(HttpError::internal)?;
            q.push(", ");
            match self.rule(m, rule, auth, alias, &mut aliases)? {
                Cond::All => q.push("1 = 1"),
                Cond::None => q.push("1 = 0"),
                Cond::Sql(w) => {
                    q.push("COALESCE((").push(&w.sql).push("), 1 = 0)");
                    q.params.extend(w.params);
                    &mut q
                }
            };
            kinds.push(flag);
        }
        for (sql, kind) in extra {
            q.push(", ").push(sql);
            kinds.push(*kind);
        }
        q.push(&format!(" FROM {} AS {alias}", rules::table(m)));
        Ok((q, kinds))
    }

    /// The rows of `m` this caller may `op`. Fail closed: a policy without the operation
    /// matches nothing.
    fn policy(&self, m: &Model, op: Op, auth: &Claims, alias: &str, aliases: &mut usize) -> Result<Cond, HttpError> {
        let Some(p) = &m.policy else { return Ok(Cond::All) };
        let rule = match op {
            Op::Read => &p.read,
            Op::Create => &p.create,
            Op::Update => &p.update,
            Op::Delete => &p.delete,
        };
        let Some(rule) = rule else { return Ok(Cond::None) };
        self.rule(m, rule, auth, alias, aliases)
    }

    fn rule(&self, m: &Model, rule: &Expr, auth: &Claims, alias: &str, aliases: &mut usize) -> Result<Cond, HttpError> {
        let marked = rules::to_marked(self.schema, m, alias, rule, auth, self.dialect, aliases).map_err(|e| {
            tracing::error!(model = %m.name, error = %e.0, "a policy cannot be compiled to SQL");
            HttpError::internal()
        })?;
        Ok(match marked {
            Marked::Const(true) => Cond::All,
            Marked::Const(false) => Cond::None,
            Marked::Sql(sql, binds) => {
                let mut q = Query::default();
                q.marked(&sql, binds);
                Cond::Sql(q)
            }
        })
    }

    fn field<'m>(m: &'m Model, name: &str) -> Option<&'m Field> {
        m.fields.iter().find(|f| f.name == name)
    }

    /// `id = ?` for the id fields of `m`.
    fn id_cond(&self, m: &Model, alias: &str, id: &[Param]) -> Cond {
        let mut q = Query::default();
        for (i, (name, p)) in m.id.iter().zip(id).enumerate() {
            let Some(f) = Self::field(m, name) else { continue };
            if i > 0 {
                q.push(" AND ");
            }
            q.push(&format!("{} = ", Self::col(alias, f))).param(p.clone(), &self.cast(m, f));
        }
        Cond::Sql(q)
    }

    /// `filter[field][op]=value` parameters.
    fn filters(&self, m: &Model, query: &Params) -> Result<Vec<Cond>, HttpError> {
        let mut out = Vec::new();
        let mut seen: HashMap<&str, &str> = HashMap::new();
        for (key, _) in query.iter().filter(|(k, _)| k.starts_with("filter")) {
            let value = last(query, key).unwrap_or_default();
            if seen.insert(key.as_str(), value).is_some() {
                continue;
            }
            let parsed = key.strip_prefix("filter[").and_then(|r| r.strip_suffix(']')).and_then(|r| r.split_once("]["));
            let Some((name, op)) = parsed.filter(|(n, o)| !n.is_empty() && !o.is_empty() && !n.contains(']') && !o.contains('[')) else {
                return Err(HttpError::bad(key, "expected filter[field][op]=value"));
            };
            let f = Self::field(m, name).filter(|f| f.filter).ok_or_else(|| HttpError::bad(key, format!("unknown filter field {name}")))?;
            let ops: &[&str] = match f.ty.as_str() {
                "String" => &["equals", "not", "in", "lt", "lte", "gt", "gte", "contains", "startsWith", "endsWith"],
                "Boolean" => &["equals", "not"],
                "enum" => &["equals", "not", "in"],
                _ => &["equals", "not", "in", "lt", "lte", "gt", "gte"],
            };
            if !ops.contains(&op) {
                return Err(HttpError::bad(key, format!("unknown operator {op}; expected one of {}", ops.join(", "))));
            }
            let col = Self::col("t", f);
            let cast = self.cast(m, f);
            let parse = |raw: &str| wire::parse_param(self.schema, self.dialect, f, raw).map_err(|e| HttpError::bad(key, e));
            let mut q = Query::default();
            match op {
                "in" => {
                    let items = if value.is_empty() { Vec::new() } else { value.split(',').map(parse).collect::<Result<Vec<_>, _>>()? };
                    if items.is_empty() {
                        out.push(Cond::None);
                        continue;
                    }
                    q.push(&format!("{col} IN ("));
                    for (i, p) in items.into_iter().enumerate() {
                        if i > 0 {
                            q.push(", ");
                        }
                        q.param(p, &cast);
                    }
                    q.push(")");
                }
                "equals" | "not" if value == "null" && f.nullable => {
                    q.push(&format!("{col} IS {}NULL", if op == "not" { "NOT " } else { "" }));
                }
                "contains" | "startsWith" | "endsWith" => {
                    let escaped = value.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_");
                    let pattern = match op {
                        "contains" => format!("%{escaped}%"),
                        "startsWith" => format!("{escaped}%"),
                        _ => format!("%{escaped}"),
                    };
                    let text = if self.dialect == Dialect::Postgres { format!("{col}::text") } else { col.clone() };
                    q.push(&format!("{text} LIKE ")).param(Param::Text(pattern), "").push(" ESCAPE '\\'");
                }
                _ => {
                    let sql_op = match op {
                        "equals" => "=",
                        "not" => "<>",
                        "lt" => "<",
                        "lte" => "<=",
                        "gt" => ">",
                        _ => ">=",
                    };
                    q.push(&format!("{col} {sql_op} ")).param(parse(value)?, &cast);
                }
            }
            out.push(Cond::Sql(q));
        }
        Ok(out)
    }

    /// `orderBy=-createdAt,title`, then the id fields (or, for a view without one, every
    /// sortable field) so that pages are stable.
    fn order(m: &'static Model, raw: Option<&str>) -> Result<Vec<(&'static Field, bool)>, HttpError> {
        let mut order: Vec<(&Field, bool)> = Vec::new();
        for part in raw.unwrap_or_default().split(',').filter(|p| !p.is_empty()) {
            let (desc, name) = match part.strip_prefix('-') {
                Some(n) => (true, n),
                None => (false, part),
            };
            let f = Self::field(m, name).filter(|f| f.filter).ok_or_else(|| HttpError::bad("orderBy", format!("cannot sort by {name}")))?;
            if !order.iter().any(|(g, _)| g.name == f.name) {
                order.push((f, desc));
            }
        }
        for id in &m.id {
            if let Some(f) = Self::field(m, id).filter(|f| !order.iter().any(|(g, _)| g.name == f.name)) {
                order.push((f, false));
            }
        }
        if m.id.is_empty() {
            for f in m.fields.iter().filter(|f| f.filter) {
                if !order.iter().any(|(g, _)| g.name == f.name) {
                    order.push((f, false));
                }
            }
        }
        Ok(order)
    }

    fn order_sql(order: &[(&Field, bool)]) -> String {
        let parts: Vec<String> =
            order.iter().map(|(f, desc)| format!("{} {}", Self::col("t", f), if *desc { "DESC" } else { "ASC" })).collect();
        if parts.is_empty() { String::new() } else { format!(" ORDER BY {}", parts.join(", ")) }
    }

    fn count_of(&self, m: &Model, cond: Cond) -> Query {
        let mut q = Query::default();
        q.push(&format!("SELECT COUNT(*) FROM {} AS t", rules::table(m)));
        push_where(&mut q, cond);
        q
    }

    fn number(query: &Params, name: &str, fallback: u64, max: u64) -> Result<u64, HttpError> {
        let Some(raw) = last(query, name) else { return Ok(fallback) };
        if raw.is_empty() || !raw.bytes().all(|b| b.is_ascii_digit()) {
            return Err(HttpError::bad(name, "expected a non-negative integer"));
        }
        let n: u64 = raw.parse().map_err(|_| HttpError::bad(name, format!("at most {max}")))?;
        if n > max {
            return Err(HttpError::bad(name, format!("at most {max}")));
        }
        Ok(n)
    }

    fn includes(m: &'static Model, raw: Option<&str>) -> Result<Vec<&'static Relation>, HttpError> {
        let mut out: Vec<&Relation> = Vec::new();
        for n in raw.unwrap_or_default().split(',').filter(|n| !n.is_empty()) {
            let r = m.relation(n).ok_or_else(|| HttpError::bad("include", format!("unknown relation {n}")))?;
            if !out.iter().any(|x| x.name == r.name) {
                out.push(r);
            }
        }
        Ok(out)
    }

    fn id_of(m: &Model, row: &Row) -> Vec<Cell> {
        let cols: Vec<&Field> = columns(m).collect();
        m.id.iter().filter_map(|id| cols.iter().position(|f| &f.name == id).map(|i| row[i].clone())).collect()
    }

    fn cell<'r>(m: &Model, row: &'r Row, name: &str) -> Option<&'r Cell> {
        columns(m).position(|f| f.name == name).map(|i| &row[i])
    }

    fn cursor_of(&self, m: &Model, row: &Row) -> Result<String, HttpError> {
        let mut values = Vec::new();
        for (name, cell) in m.id.iter().zip(Self::id_of(m, row)) {
            let f = Self::field(m, name).ok_or_else(HttpError::internal)?;
            values.push(wire::to_wire(self.schema, f, cell).map_err(|_| HttpError::internal())?.json());
        }
        let text = serde_json::to_string(&values).unwrap_or_default();
        Ok(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(text))
    }

    fn decode_cursor(&self, m: &Model, raw: &str) -> Result<Vec<Param>, HttpError> {
        let bad = || HttpError::bad("cursor", "not a cursor this API returned");
        let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(raw.trim_end_matches('=')).map_err(|_| bad())?;
        let values: Vec<Json> = serde_json::from_slice(&bytes).map_err(|_| bad())?;
        self.id_from_json(m, &values).ok_or_else(bad)
    }

    /// A row's id from JSON values in the order of the model's id fields (a cursor's, or the key
    /// an `external_writes` trigger sent): strings as they are, other values as JSON writes
    /// them, each read like a path segment. `None` when one does not fit its field.
    fn id_from_json(&self, m: &Model, values: &[Json]) -> Option<Vec<Param>> {
        if values.len() != m.id.len() {
            return None;
        }
        m.id.iter()
            .zip(values)
            .map(|(name, v)| {
                let f = Self::field(m, name)?;
                let text = match v {
                    Json::String(s) => s.clone(),
                    other => other.to_string(),
                };
                wire::parse_param(self.schema, self.dialect, f, &text).ok()
            })
            .collect()
    }

    /// Path segments of a row's id as parameters.
    pub(crate) fn parse_id(&self, m: &Model, segments: &[String]) -> Result<Vec<Param>, HttpError> {
        m.id.iter()
            .zip(segments)
            .map(|(name, raw)| {
                let f = Self::field(m, name).ok_or_else(HttpError::internal)?;
                wire::parse_param(self.schema, self.dialect, f, raw).map_err(|e| HttpError::bad(name, e))
            })
            .collect()
    }

    async fn exists(&self, db: &mut Db<'_>, m: &Model, id: &[Param], cond: Cond) -> Result<bool, HttpError> {
        self.any(db, m, and(vec![self.id_cond(m, "t", id), cond])).await
    }

    /// Does the row with this id (which the caller is known to be able to see) meet `cond`? A
    /// rule that holds for every row asks the database nothing.
    async fn satisfies(&self, db: &mut Db<'_>, m: &Model, id: &[Param], cond: Cond) -> Result<bool, HttpError> {
        match cond {
            Cond::All => Ok(true),
            c => self.exists(db, m, id, c).await,
        }
    }

    /// Does a row of `m` (named `t`) meet `c`?
    async fn any(&self, db: &mut Db<'_>, m: &Model, c: Cond) -> Result<bool, HttpError> {
        if matches!(c, Cond::None) {
            return Ok(false);
        }
        let mut q = Query::default();
        q.push(&format!("SELECT 1 FROM {} AS t", rules::table(m)));
        push_where(&mut q, c);
        Ok(!db.fetch(&q, &[]).await?.is_empty())
    }

    // ---- presenting rows ----------------------------------------------------------------

    /// Every field of a row in the wire format.
    fn snapshot(&self, m: &Model, row: &Row) -> Result<Vec<Wire>, wire::Unserializable> {
        columns(m).zip(row).map(|(f, cell)| wire::to_wire(self.schema, f, cell.clone())).collect()
    }

    /// The row as the API returns it: output fields whose `@readable` rule holds, in schema
    /// order, then the included relations.
    fn present(&self, m: &Model, row: &Row, nested: &[(String, Option<String>)]) -> Result<String, wire::Unserializable> {
        let wires = self.snapshot(m, row)?;
        let n = columns(m).count();
        let mut flags = row[n.min(row.len())..].iter();
        let mut out = String::from("{");
        let mut first = true;
        for (f, w) in columns(m).zip(&wires) {
            if !f.output {
                continue;
            }
            if f.readable.is_some() && !matches!(flags.next(), Some(Cell::Bool(true) | Cell::Int(1))) {
                continue;
            }
            if !first {
                out.push(',');
            }
            first = false;
            out.push_str(&serde_json::to_string(&f.name).unwrap_or_default());
            out.push(':');
            w.write(&mut out);
        }
        for (name, text) in nested {
            // A to-one row the caller may not read is left out altogether (not `null`).
            let Some(text) = text else { continue };
            if !first {
                out.push(',');
            }
            first = false;
            out.push_str(&serde_json::to_string(name).unwrap_or_default());
            out.push(':');
            out.push_str(text);
        }
        out.push('}');
        Ok(out)
    }

    /// Presents rows with their included relations; rows that cannot be sent are left out and
    /// logged.
    async fn present_all(
        &self,
        db: &mut Db<'_>,
        m: &'static Model,
        rows: &[Row],
        includes: &[&'static Relation],
        auth: &Claims,
    ) -> Result<Vec<String>, HttpError> {
        let mut per_row: Vec<Vec<(String, Option<String>)>> = vec![Vec::new(); rows.len()];
        for rel in includes {
            let shown = self.include(db, m, rows, rel, auth).await?;
            for (i, s) in shown.into_iter().enumerate() {
                per_row[i].push((rel.name.clone(), s));
            }
        }
        let mut out = Vec::with_capacity(rows.len());
        for (row, nested) in rows.iter().zip(&per_row) {
            match self.present(m, row, nested) {
                Ok(s) => out.push(s),
                Err(_) => tracing::warn!(model = %m.name, "a row holds a value the API cannot send; left out"),
            }
        }
        Ok(out)
    }

    /// One included relation for each row: JSON text (`null` for a to-one without a row),
    /// or `None` for a to-one row the caller may not read.
    async fn include(
        &self,
        db: &mut Db<'_>,
        m: &'static Model,
        rows: &[Row],
        rel: &Relation,
        auth: &Claims,
    ) -> Result<Vec<Option<String>>, HttpError> {
        let target = self.model(&rel.model)?;
        let mut aliases = 0;
        let read = self.policy(target, Op::Read, auth, "t", &mut aliases)?;
        let groups = self.related(db, m, rows, rel, read, auth).await?;
        // The included rows, presented with their own model's rules (none nested further).
        Ok(groups
            .into_iter()
            .map(|group| match group {
                None if rel.list => Some("[]".to_owned()),
                None => Some("null".to_owned()),
                Some(found) if rel.list => {
                    let items: Vec<String> = found.iter().filter_map(|r| self.present(target, r, &[]).ok()).collect();
                    Some(format!("[{}]", items.join(",")))
                }
                Some(found) => found.first().and_then(|r| self.present(target, r, &[]).ok()),
            })
            .collect())
    }

    /// The rows of `rel`'s target tied to each of `rows` that `read` lets through, ordered by the
    /// target's id (with the [`readable_fields`] flags of `auth`); `None` for a row whose key
    /// holds a null (nothing can be tied to it).
    async fn related(
        &self,
        db: &mut Db<'_>,
        m: &'static Model,
        rows: &[Row],
        rel: &Relation,
        read: Cond,
        auth: &Claims,
    ) -> Result<Vec<Option<Vec<Row>>>, HttpError> {
        let target = self.model(&rel.model)?;
        // (column of the target, value cells per row) pairs that tie a target row to a row.
        let (mine, theirs, join): (Vec<&Field>, Vec<&Field>, Option<JoinTable>) = if !rel.fields.is_empty() {
            (
                rel.fields.iter().filter_map(|n| Self::field(m, n)).collect(),
                rel.references.iter().filter_map(|n| Self::field(target, n)).collect(),
                None,
            )
        } else if rel.many_to_many {
            let (a, b) = if m.name <= target.name { ("A", "B") } else { ("B", "A") };
            let mine = m.id.first().and_then(|n| Self::field(m, n)).into_iter().collect();
            let theirs = target.id.first().and_then(|n| Self::field(target, n)).into_iter().collect();
            (mine, theirs, Some((rules::join_table(m, target, &rel.relation_name), a, b)))
        } else {
            let back = rel
                .opposite
                .as_deref()
                .and_then(|o| target.relation(o))
                .filter(|b| !b.fields.is_empty())
                .ok_or_else(HttpError::internal)?;
            (
                back.references.iter().filter_map(|n| Self::field(m, n)).collect(),
                back.fields.iter().filter_map(|n| Self::field(target, n)).collect(),
                None,
            )
        };
        let keys: Vec<Vec<Cell>> =
            rows.iter().map(|r| mine.iter().map(|f| Self::cell(m, r, &f.name).cloned().unwrap_or(Cell::Null)).collect()).collect();
        let wanted: Vec<&Vec<Cell>> = keys.iter().filter(|k| !k.contains(&Cell::Null)).collect();
        let mut found: Vec<(Vec<Cell>, Row)> = Vec::new();
        if !wanted.is_empty() && !matches!(read, Cond::None) {
            let mut extra = Vec::new();
            let link: Vec<String> = match &join {
                Some((_, a, _)) => vec![format!("j.\"{a}\"")],
                None => theirs.iter().map(|f| Self::col("t", f)).collect(),
            };
            for (f, l) in mine.iter().zip(&link) {
                extra.push(wire::select(self.dialect, f, l));
            }
            let (mut q, kinds) = self.select(target, "t", &extra, auth)?;
            let mut match_q = Query::default();
            if let Some((table, _, b)) = &join {
                q.push(&format!(", {table} AS j"));
                let tid = theirs.first().ok_or_else(HttpError::internal)?;
                match_q.push(&format!("{} = j.\"{b}\" AND ", Self::col("t", tid)));
            }
            match_q.push("(");
            for (i, k) in wanted.iter().enumerate() {
                if i > 0 {
                    match_q.push(" OR ");
                }
                match_q.push("(");
                for (j, (cell, l)) in k.iter().zip(&link).enumerate() {
                    if j > 0 {
                        match_q.push(" AND ");
                    }
                    let cast = match &join {
                        Some(_) => self.cast(m, mine[j]),
                        None => self.cast(target, theirs[j]),
                    };
                    match_q.push(&format!("{l} = ")).param(cell.clone(), &cast);
                }
                match_q.push(")");
            }
            match_q.push(")");
            push_where(&mut q, and(vec![Cond::Sql(match_q), read]));
            let order: Vec<String> =
                target.id.iter().filter_map(|n| Self::field(target, n)).map(|f| format!("{} ASC", Self::col("t", f))).collect();
            if !order.is_empty() {
                q.push(&format!(" ORDER BY {}", order.join(", ")));
            }
            let n = columns(target).count() + readable_fields(target).count();
            for mut r in db.fetch(&q, &kinds).await? {
                let link_cells = r.split_off(n);
                found.push((link_cells, r));
            }
        }
        let same = |a: &[Cell], b: &[Cell]| a.len() == b.len() && a.iter().zip(b).all(|(x, y)| cells_equal(x, y));
        Ok(keys
            .iter()
            .map(|k| (!k.contains(&Cell::Null)).then(|| found.iter().filter(|(l, _)| same(l, k)).map(|(_, r)| r.clone()).collect()))
            .collect())
    }

    // ---- realtime events ----------------------------------------------------------------

    /// Does a committed `event` on `m` go to the realtime gateway?
    fn emits(&self, m: &Model, event: RealtimeEvent) -> bool {
        self.events.is_some() && m.realtime.as_ref().is_some_and(|r| r.contains(&event))
    }

    /// The row as events carry it, as the TypeScript server's `snapshotOf` writes it: every
    /// field in the wire format (hidden ones too: rules read them; a value the wire format
    /// cannot carry is null) and the relations the read and `@readable` rules look at, loaded
    /// whole. `None` when the row is gone.
    async fn snapshot_of(&self, db: &mut Db<'_>, m: &'static Model, id: &[Param]) -> Result<Option<String>, HttpError> {
        let Some(row) = self.fetch_row(db, m, id, &None, false).await? else { return Ok(None) };
        let tree = super::realtime::policy_tree(m);
        Ok(self.snapshots(db, m, vec![row], &tree).await?.into_iter().next())
    }

    fn snapshots<'a, 'b: 'a>(
        &'a self,
        db: &'a mut Db<'b>,
        m: &'static Model,
        rows: Vec<Row>,
        tree: &'a super::realtime::Tree,
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = Result<Vec<String>, HttpError>> + Send + 'a>> {
        Box::pin(async move {
            let mut nested: Vec<Vec<(&str, String)>> = vec![Vec::new(); rows.len()];
            for rel in m.relations.iter().filter(|r| tree.0.contains_key(&r.name)) {
                let target = self.model(&rel.model)?;
                let groups = self.related(db, m, &rows, rel, Cond::All, &None).await?;
                let flat: Vec<Row> = groups.iter().flatten().flatten().cloned().collect();
                let texts = self.snapshots(db, target, flat, &tree.0[&rel.name]).await?;
                let mut texts = texts.into_iter();
                for (i, group) in groups.iter().enumerate() {
                    let n = group.as_ref().map_or(0, Vec::len);
                    let items: Vec<String> = texts.by_ref().take(n).collect();
                    let text =
                        if rel.list { format!("[{}]", items.join(",")) } else { items.into_iter().next().unwrap_or_else(|| "null".into()) };
                    nested[i].push((&rel.name, text));
                }
            }
            Ok(rows
                .iter()
                .zip(nested)
                .map(|(row, nested)| {
                    let mut out = String::from("{");
                    for (i, (f, cell)) in columns(m).zip(row).enumerate() {
                        if i > 0 {
                            out.push(',');
                        }
                        out.push_str(&serde_json::to_string(&f.name).unwrap_or_default());
                        out.push(':');
                        match wire::to_wire(self.schema, f, cell.clone()) {
                            Ok(w) => w.write(&mut out),
                            Err(_) => out.push_str("null"),
                        }
                    }
                    for (name, text) in nested {
                        if out.len() > 1 {
                            out.push(',');
                        }
                        out.push_str(&serde_json::to_string(name).unwrap_or_default());
                        out.push(':');
                        out.push_str(&text);
                    }
                    out.push('}');
                    out
                })
                .collect())
        })
    }

    /// Counts a committed write (the `monitoring` plugin's `writes_total`).
    fn committed(&self, m: &Model, operation: &str) {
        #[cfg(feature = "monitoring")]
        if let Some(metrics) = &self.metrics {
            metrics.write(&m.name, operation);
        }
        let _ = (m, operation);
    }

    /// Hands a committed change to the gateway (and, with Redis, to every instance's).
    fn publish(&self, m: &Model, event: RealtimeEvent, before: Option<String>, after: Option<String>) {
        if let Some(bus) = &self.events {
            bus.publish(&m.name, event, before, after, false);
        }
    }

    /// A write another program made to `model`'s table (the `external_writes` plugin's trigger
    /// reported it with the row's key; `None` when unknown): the row is loaded and delivered
    /// under the policies, like the API's own writes. An insert is exact. What an updated or
    /// deleted row was is not known, so those go out with `resync` (its subscribers refetch; a
    /// row that is readable now comes along as `updated`), never as a `deleted` that would tell
    /// of a row a subscriber never saw. The TypeScript engine's `changedOutside`.
    #[cfg(feature = "postgres")]
    pub(crate) async fn changed_outside(&self, model: &str, operation: &str, key: Option<&[Json]>) -> Result<(), HttpError> {
        let m = self.model(model)?;
        let event = match operation {
            "insert" => RealtimeEvent::Created,
            "update" => RealtimeEvent::Updated,
            "delete" => RealtimeEvent::Deleted,
            _ => return Ok(()),
        };
        if !self.emits(m, event) {
            return Ok(());
        }
        // The key as the trigger sent it (to_jsonb of the columns).
        let id = key.and_then(|k| self.id_from_json(m, k));
        let after = match &id {
            Some(id) if event != RealtimeEvent::Deleted => self.snapshot_of(&mut Db::Pool(&self.pool), m, id).await?,
            _ => None,
        };
        let Some(bus) = &self.events else { return Ok(()) };
        if event == RealtimeEvent::Created && id.is_some() {
            if after.is_some() {
                bus.publish(&m.name, event, None, after, false);
            }
            return Ok(());
        }
        bus.publish(&m.name, event, None, after, true);
        Ok(())
    }

    // ---- operations ---------------------------------------------------------------------

    pub(crate) async fn list(&self, m: &'static Model, query: &Params, auth: &Claims) -> Result<String, HttpError> {
        let take = Self::number(query, "take", self.limits.default_page_size, self.limits.max_page_size)?;
        let skip = Self::number(query, "skip", 0, i64::MAX as u64)?;
        let cursor = last(query, "cursor").filter(|c| !c.is_empty()).map(|c| self.decode_cursor(m, c)).transpose()?;
        let includes = Self::includes(m, last(query, "include"))?;
        let mut aliases = 0;
        let order = Self::order(m, last(query, "orderBy"))?;
        // The read policy and the filters, compiled once: the page, its total and the cursor
        // check each take a copy.
        let read = self.policy(m, Op::Read, auth, "t", &mut aliases)?;
        let mut parts = vec![read.clone()];
        parts.extend(self.filters(m, query)?);
        let where_ = and(parts);
        if matches!(where_, Cond::None) {
            return Ok(r#"{"data":[],"meta":{"total":0,"nextCursor":null}}"#.to_owned());
        }
        let mut db = Db::Pool(&self.pool);
        let (mut q, kinds) = self.select(m, "t", &[], auth)?;
        let mut offset = skip;
        let mut conds = vec![where_.clone()];
        if let Some(cursor) = &cursor {
            // A cursor must name a row the caller can read; one it cannot read gets the answer
            // of a cursor that names no row.
            if !self.exists(&mut db, m, cursor, read).await? {
                let total = db.fetch(&self.count_of(m, where_), &[Kind::Int]).await?;
                return Ok(format!(r#"{{"data":[],"meta":{{"total":{},"nextCursor":null}}}}"#, count(&total)));
            }
            conds.push(self.after_cursor(m, &order, cursor));
            offset += 1;
        }
        push_where(&mut q, and(conds));
        q.push(&Self::order_sql(&order));
        q.push(&format!(" LIMIT {} OFFSET {offset}", take + 1));
        let mut rows = db.fetch(&q, &kinds).await?;
        let total = db.fetch(&self.count_of(m, where_), &[Kind::Int]).await?;
        let more = rows.len() as u64 > take;
        rows.truncate(take as usize);
        let next = match rows.last() {
            Some(r) if more && !m.id.is_empty() => Some(self.cursor_of(m, r)?),
            _ => None,
        };
        let shown = self.present_all(&mut db, m, &rows, &includes, auth).await?;
        Ok(format!(
            r#"{{"data":[{}],"meta":{{"total":{},"nextCursor":{}}}}}"#,
            shown.join(","),
            count(&total),
            next.map_or("null".to_owned(), |c| serde_json::to_string(&c).unwrap_or_default())
        ))
    }

    /// Rows at or after the cursor's row in `order` (the caller skips the cursor row itself).
    fn after_cursor(&self, m: &Model, order: &[(&Field, bool)], cursor: &[Param]) -> Cond {
        let Cond::Sql(sub_where) = self.id_cond(m, "c", cursor) else { return Cond::None };
        let value = |f: &Field, q: &mut Query| {
            q.push(&format!("(SELECT {} FROM {} AS c WHERE ", Self::col("c", f), rules::table(m)));
            q.sql.push_str(&sub_where.sql);
            q.params.extend(sub_where.params.iter().cloned());
            q.push(")");
        };
        let same = if self.dialect == Dialect::Postgres { "IS NOT DISTINCT FROM" } else { "IS" };
        let mut q = Query::default();
        for i in 0..=order.len() {
            if i > 0 {
                q.push(" OR ");
            }
            q.push("(");
            for (j, (f, _)) in order.iter().take(i).enumerate() {
                if j > 0 {
                    q.push(" AND ");
                }
                q.push(&format!("{} {same} ", Self::col("t", f)));
                value(f, &mut q);
            }
            if let Some((f, desc)) = order.get(i) {
                if i > 0 {
                    q.push(" AND ");
                }
                q.push(&format!("{} {} ", Self::col("t", f), if *desc { "<" } else { ">" }));
                value(f, &mut q);
            } else if i == 0 {
                q.push("1 = 1");
            }
            q.push(")");
        }
        Cond::Sql(q)
    }

    pub(crate) async fn count(&self, m: &'static Model, query: &Params, auth: &Claims) -> Result<String, HttpError> {
        let mut aliases = 0;
        let mut parts = vec![self.policy(m, Op::Read, auth, "t", &mut aliases)?];
        parts.extend(self.filters(m, query)?);
        let c = and(parts);
        if matches!(c, Cond::None) {
            return Ok(r#"{"count":0}"#.into());
        }
        let rows = self.pool.fetch(&self.count_of(m, c), &[Kind::Int]).await?;
        Ok(format!(r#"{{"count":{}}}"#, count(&rows)))
    }

    pub(crate) async fn search(&self, m: &'static Model, query: &Params, auth: &Claims) -> Result<String, HttpError> {
        let q_text = last(query, "q").unwrap_or_default();
        if q_text.trim().is_empty() {
            return Err(HttpError::bad("q", "expected a search text"));
        }
        let take = Self::number(query, "take", self.limits.default_page_size, self.limits.max_page_size)?;
        if let Some(index) = self.full_text.indexes.get(&m.name) {
            return self.full_text_search(m, index, q_text, take, auth).await;
        }
        let mut aliases = 0;
        let escaped = q_text.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_");
        let mut matchq = Query::default();
        let like = if self.dialect == Dialect::Postgres { "ILIKE" } else { "LIKE" };
        for (i, name) in m.search.iter().flatten().enumerate() {
            let Some(f) = Self::field(m, name) else { continue };
            if i > 0 {
                matchq.push(" OR ");
            }
            matchq.push(&format!("{} {like} ", Self::col("t", f))).param(Param::Text(format!("%{escaped}%")), "").push(" ESCAPE '\\'");
        }
        let c = and(vec![
            self.policy(m, Op::Read, auth, "t", &mut aliases)?,
            if matchq.sql.is_empty() { Cond::None } else { Cond::Sql(matchq) },
        ]);
        if matches!(c, Cond::None) {
            return Ok(page(&[], 0));
        }
        let c2 = c.clone();
        let (mut q, kinds) = self.select(m, "t", &[], auth)?;
        push_where(&mut q, c);
        q.push(&Self::order_sql(&Self::order(m, None)?));
        q.push(&format!(" LIMIT {take}"));
        let mut db = Db::Pool(&self.pool);
        let rows = db.fetch(&q, &kinds).await?;
        let total = db.fetch(&self.count_of(m, c2), &[Kind::Int]).await?;
        let shown = self.present_all(&mut db, m, &rows, &[], auth).await?;
        Ok(page(&shown, count(&total)))
    }

    /// A search ranked by the `search` plugin's index: its best [`super::search::MATCHES`]
    /// matches, of which those the caller may read count (`total`) and the first `take` are sent,
    /// best first.
    async fn full_text_search(
        &self,
        m: &'static Model,
        index: &super::search::Index,
        q_text: &str,
        take: u64,
        auth: &Claims,
    ) -> Result<String, HttpError> {
        let key = match &m.id[..] {
            [key] => Self::field(m, key).ok_or_else(HttpError::internal)?,
            _ => return Err(HttpError::internal()),
        };
        let mut aliases = 0;
        let read = self.policy(m, Op::Read, auth, "t", &mut aliases)?;
        if matches!(read, Cond::None) {
            return Ok(page(&[], 0));
        }
        let ranked = index.matches(&self.pool, q_text, super::search::MATCHES).await?;
        if ranked.is_empty() {
            return Ok(page(&[], 0));
        }
        let cast = self.cast(m, key);
        let among = |keys: &[Param]| {
            let mut q = Query::default();
            q.push(&format!("{} IN (", Self::col("t", key)));
            for (i, k) in keys.iter().enumerate() {
                if i > 0 {
                    q.push(", ");
                }
                q.param(k.clone(), &cast);
            }
            q.push(")");
            Cond::Sql(q)
        };
        // The ranked ids the caller may read, then the rows of the first `take` of them.
        let (id, kind) = wire::select(self.dialect, key, &Self::col("t", key));
        let mut q = Query::default();
        q.push(&format!("SELECT {id} FROM {} AS t", rules::table(m)));
        push_where(&mut q, and(vec![read.clone(), among(&ranked)]));
        let mut db = Db::Pool(&self.pool);
        let readable: Vec<Param> = db.fetch(&q, &[kind]).await?.into_iter().filter_map(|mut r| r.pop()).collect();
        let top: Vec<Param> = ranked.into_iter().filter(|k| readable.contains(k)).take(take as usize).collect();
        if top.is_empty() {
            // `take=0`, or nothing readable: the count still answers.
            return Ok(page(&[], readable.len() as i64));
        }
        let (mut q, kinds) = self.select(m, "t", &[], auth)?;
        push_where(&mut q, and(vec![read, among(&top)]));
        let mut rows = db.fetch(&q, &kinds).await?;
        let at = columns(m).position(|f| f.name == key.name).ok_or_else(HttpError::internal)?;
        rows.sort_by_key(|r| top.iter().position(|k| r.get(at) == Some(k)).unwrap_or(usize::MAX));
        let shown = self.present_all(&mut db, m, &rows, &[], auth).await?;
        Ok(page(&shown, readable.len() as i64))
    }

    pub(crate) async fn get(&self, m: &'static Model, id: &[Param], query: &Params, auth: &Claims) -> Result<String, HttpError> {
        let includes = Self::includes(m, last(query, "include"))?;
        let mut db = Db::Pool(&self.pool);
        let row = self.fetch_row(&mut db, m, id, auth, true).await?.ok_or_else(HttpError::not_found)?;
        let shown = self.present_all(&mut db, m, std::slice::from_ref(&row), &includes, auth).await?;
        shown.into_iter().next().ok_or_else(|| HttpError::new(500, "The row holds a value the API cannot send."))
    }

    /// What the caller may do with the model (`id` is `None`: `false` is "for no row", `true`
    /// "the row decides", a field's `write` is about create inputs) or with one row (404 when
    /// it cannot read it; `write` is about update inputs), as the TypeScript server answers it.
    pub(crate) async fn permissions(&self, m: &'static Model, id: Option<&[Param]>, auth: &Claims) -> Result<String, HttpError> {
        let row_writes = !m.view && !m.id.is_empty();
        let inputs = self.source.inputs(&m.name).is_some();
        // Policies and field rules as SQL on the table `t`; a missing field rule holds everywhere.
        let mut aliases = 0;
        let mut policy = |op: Op| self.policy(m, op, auth, "t", &mut aliases);
        let read_policy = policy(Op::Read)?;
        let update_policy = policy(Op::Update)?;
        let delete_policy = policy(Op::Delete)?;
        let create = !m.view && inputs && !matches!(policy(Op::Create)?, Cond::None);
        let mut aliases = 0;
        let mut rule = |e: Option<&Expr>| e.map_or(Ok(Cond::All), |e| self.rule(m, e, auth, "t", &mut aliases));
        let mut fields = Vec::with_capacity(m.fields.len());
        let (read, update, delete) = match id {
            None => {
                let read = !matches!(read_policy, Cond::None);
                for f in &m.fields {
                    let r = read && f.output && !matches!(rule(f.readable.as_ref())?, Cond::None);
                    let w = create && f.create && !matches!(rule(f.writable.as_ref())?, Cond::None);
                    fields.push((f, r, w));
                }
                let update = row_writes && inputs && !matches!(update_policy, Cond::None);
                (read, update, row_writes && !matches!(delete_policy, Cond::None))
            }
            Some(id) => {
                let mut db = Db::Pool(&self.pool);
                // Always asked of the database: the row must exist, whatever the policy.
                if !row_writes || !self.exists(&mut db, m, id, read_policy).await? {
                    return Err(HttpError::not_found());
                }
                // Each rule is asked of the stored row, as the write checks ask it.
                let update = inputs && self.satisfies(&mut db, m, id, update_policy).await?;
                let delete = self.satisfies(&mut db, m, id, delete_policy).await?;
                for f in &m.fields {
                    let r = f.output && self.satisfies(&mut db, m, id, rule(f.readable.as_ref())?).await?;
                    let w = update && f.update && self.satisfies(&mut db, m, id, rule(f.writable.as_ref())?).await?;
                    fields.push((f, r, w));
                }
                (true, update, delete)
            }
        };
        let fields: Vec<String> = fields
            .into_iter()
            .map(|(f, r, w)| format!(r#"{}:{{"read":{r},"write":{w}}}"#, serde_json::to_string(&f.name).unwrap_or_default()))
            .collect();
        Ok(format!(r#"{{"read":{read},"create":{create},"update":{update},"delete":{delete},"fields":{{{}}}}}"#, fields.join(",")))
    }

    async fn fetch_row(&self, db: &mut Db<'_>, m: &Model, id: &[Param], auth: &Claims, readable: bool) -> Result<Option<Row>, HttpError> {
        let mut aliases = 0;
        let read = if readable { self.policy(m, Op::Read, auth, "t", &mut aliases)? } else { Cond::All };
        let c = and(vec![self.id_cond(m, "t", id), read]);
        if matches!(c, Cond::None) {
            return Ok(None);
        }
        let (mut q, kinds) = self.select(m, "t", &[], auth)?;
        push_where(&mut q, c);
        Ok(db.fetch(&q, &kinds).await?.into_iter().next())
    }

    fn parse_body(&self, m: &Model, body: &Json, create: bool) -> Result<Map<String, Json>, HttpError> {
        let inputs = self.source.inputs(&m.name).ok_or_else(|| HttpError::new(405, "This model cannot be written."))?;
        if !body.is_object() {
            return Err(HttpError::new(400, "The request body must be a JSON object."));
        }
        let check = if create { inputs.create } else { inputs.update };
        match check(body) {
            Ok(Json::Object(map)) => Ok(map),
            Ok(_) => Err(HttpError::internal()),
            Err(v) => Err(HttpError::new(400, "The request body is not valid.")
                .with_errors(v.0.into_iter().map(|x| FieldError { path: x.path, message: x.message }).collect())),
        }
    }

    /// The columns and parameters a write sets from an input, with the values the Prisma
    /// client makes itself (`uuid()`, `cuid()`, `ulid()`, `nanoid()`, `now()`, `@updatedAt`).
    fn assignments(&self, m: &Model, input: &Map<String, Json>, create: bool) -> Result<Vec<(&'static Field, Param)>, HttpError> {
        let m: &'static Model = self.model(&m.name)?;
        let mut out = Vec::new();
        for f in columns(m) {
            let param = match input.get(&f.name) {
                Some(v) => Some(wire::input_param(self.schema, self.dialect, f, v).map_err(|e| HttpError::bad(&f.name, e))?),
                None => match f.generated.as_deref() {
                    Some("updatedAt") => Some(wire::datetime_param(self.dialect, now())),
                    Some("now") if create => Some(wire::datetime_param(self.dialect, now())),
                    Some(made) if create => Some(Param::Text(generated_id(made).ok_or_else(|| {
                        tracing::error!(model = %m.name, field = %f.name, "the Rust server cannot make `{made}` values");
                        HttpError::new(500, format!("The server cannot make a {made} value for {}.", f.name))
                    })?)),
                    _ => None,
                },
            };
            if let Some(p) = param {
                out.push((f, p));
            }
        }
        Ok(out)
    }

    fn value_sql(&self, m: &Model, f: &Field, p: Param, q: &mut Query) {
        let cast = self.cast(m, f);
        if self.dialect == Dialect::Postgres && f.list && p != Param::Null {
            q.push("ARRAY(SELECT json_array_elements_text(").param(p, "::json").push(&format!(")){cast}"));
        } else {
            q.param(p, &cast);
        }
    }

    /// Every foreign key the input sets names a row the caller can read; one it cannot read is
    /// refused exactly like one that names no row (409 with a field error on the key).
    async fn check_references(
        &self,
        tx: &mut Tx,
        m: &'static Model,
        input: &Map<String, Json>,
        current: Option<&Row>,
        auth: &Claims,
    ) -> Result<(), HttpError> {
        for rel in &m.relations {
            if rel.fields.is_empty() || !rel.fields.iter().any(|f| input.contains_key(f)) {
                continue;
            }
            let target = self.model(&rel.model)?;
            let mut values = Vec::new();
            for name in &rel.fields {
                let f = Self::field(m, name).ok_or_else(HttpError::internal)?;
                let p = match input.get(name) {
                    Some(v) => wire::input_param(self.schema, self.dialect, f, v).map_err(|e| HttpError::bad(name, e))?,
                    None => current.and_then(|r| Self::cell(m, r, name)).map_or(Param::Null, Clone::clone),
                };
                values.push(p);
            }
            if values.contains(&Param::Null) {
                continue;
            }
            let mut aliases = 0;
            let read = self.policy(target, Op::Read, auth, "t", &mut aliases)?;
            let mut q = Query::default();
            for (i, (name, p)) in rel.references.iter().zip(values).enumerate() {
                let f = Self::field(target, name).ok_or_else(HttpError::internal)?;
                if i > 0 {
                    q.push(" AND ");
                }
                q.push(&format!("{} = ", Self::col("t", f))).param(p, &self.cast(target, f));
            }
            if !self.any(&mut Db::Tx(tx), target, and(vec![Cond::Sql(q), read])).await? {
                return Err(HttpError::new(409, "The change conflicts with a related row (a reference is missing or still in use).")
                    .with_errors(
                        rel.fields.iter().map(|f| FieldError { path: f.clone(), message: format!("names no {}", target.name) }).collect(),
                    ));
            }
        }
        Ok(())
    }

    async fn holds(&self, tx: &mut Tx, m: &Model, id: &[Param], op: Op, auth: &Claims) -> Result<bool, HttpError> {
        let mut aliases = 0;
        let c = self.policy(m, op, auth, "t", &mut aliases)?;
        self.satisfies(&mut Db::Tx(tx), m, id, c).await
    }

    async fn check_writable(
        &self,
        tx: &mut Tx,
        m: &Model,
        id: &[Param],
        input: &Map<String, Json>,
        auth: &Claims,
    ) -> Result<(), HttpError> {
        for f in m.fields.iter().filter(|f| input.contains_key(&f.name)) {
            let Some(rule) = &f.writable else { continue };
            let mut aliases = 0;
            let c = self.rule(m, rule, auth, "t", &mut aliases)?;
            if !self.satisfies(&mut Db::Tx(tx), m, id, c).await? {
                return Err(HttpError::forbidden(format!("You may not set {}.", f.name)));
            }
        }
        Ok(())
    }

    pub(crate) async fn create(&self, m: &'static Model, body: &Json, ctx: &Context) -> Result<String, HttpError> {
        let auth = &ctx.auth;
        let mut input = self.parse_body(m, body, true)?;
        if let Some(h) = self.hooks.get(&m.name).filter(|h| !h.before_create.is_empty()) {
            input = self.parse_body(m, &run_before(&h.before_create, ctx, input)?, true)?;
        }
        let mut aliases = 0;
        if matches!(self.policy(m, Op::Create, auth, "t", &mut aliases)?, Cond::None) {
            return Err(HttpError::forbidden(FORBIDDEN));
        }
        let mut tx = self.pool.begin().await?;
        self.check_references(&mut tx, m, &input, None, auth).await?;
        let sets = self.assignments(m, &input, true)?;
        let mut q = Query::default();
        if sets.is_empty() {
            q.push(&format!("INSERT INTO {} DEFAULT VALUES", rules::table(m)));
        } else {
            let cols: Vec<String> = sets.iter().map(|(f, _)| ident(&f.db_name)).collect();
            q.push(&format!("INSERT INTO {} ({}) VALUES (", rules::table(m), cols.join(", ")));
            for (i, (f, p)) in sets.into_iter().enumerate() {
                if i > 0 {
                    q.push(", ");
                }
                self.value_sql(m, f, p, &mut q);
            }
            q.push(")");
        }
        let mut kinds = Vec::new();
        let mut returning = Vec::new();
        for name in &m.id {
            let f = Self::field(m, name).ok_or_else(HttpError::internal)?;
            let (sql, kind) = wire::select(self.dialect, f, &ident(&f.db_name));
            returning.push(sql);
            kinds.push(kind);
        }
        if returning.is_empty() {
            return Err(HttpError::new(405, "This model cannot be written."));
        }
        q.push(&format!(" RETURNING {}", returning.join(", ")));
        let id: Vec<Param> = tx.fetch(&q, &kinds).await?.into_iter().next().ok_or_else(HttpError::internal)?.to_vec();
        if !self.holds(&mut tx, m, &id, Op::Create, auth).await? {
            return Err(HttpError::forbidden(FORBIDDEN));
        }
        self.check_writable(&mut tx, m, &id, &input, auth).await?;
        let shown = self.written(&mut tx, m, &id, auth).await?;
        // The event's row is read before the commit, in the write's transaction: exactly what
        // it committed, and nothing left to fail once the write stands.
        let emits = self.emits(m, RealtimeEvent::Created);
        let after = if emits { self.snapshot_of(&mut Db::Tx(&mut tx), m, &id).await? } else { None };
        tx.commit().await?;
        self.committed(m, "create");
        if emits {
            self.publish(m, RealtimeEvent::Created, None, after);
        }
        self.after(m, ctx, &shown, |h| &h.after_create);
        Ok(shown)
    }

    pub(crate) async fn update(&self, m: &'static Model, id: &[Param], body: &Json, ctx: &Context) -> Result<String, HttpError> {
        let auth = &ctx.auth;
        let mut input = self.parse_body(m, body, false)?;
        if let Some(h) = self.hooks.get(&m.name).filter(|h| !h.before_update.is_empty()) {
            input = self.parse_body(m, &run_before(&h.before_update, ctx, input)?, false)?;
        }
        let mut tx = self.pool.begin().await?;
        let current = self.fetch_row(&mut Db::Tx(&mut tx), m, id, auth, true).await?.ok_or_else(HttpError::not_found)?;
        if !self.holds(&mut tx, m, id, Op::Update, auth).await? {
            return Err(HttpError::forbidden(FORBIDDEN));
        }
        self.check_writable(&mut tx, m, id, &input, auth).await?;
        self.check_references(&mut tx, m, &input, Some(&current), auth).await?;
        let sets = self.assignments(m, &input, false)?;
        let before = if self.emits(m, RealtimeEvent::Updated) { self.snapshot_of(&mut Db::Tx(&mut tx), m, id).await? } else { None };
        let mut after: Vec<Param> = id.to_vec();
        if !sets.is_empty() {
            let mut q = Query::default();
            q.push(&format!("UPDATE {} AS t SET ", rules::table(m)));
            if self.dialect == Dialect::Sqlite {
                q.sql = format!("UPDATE {} SET ", rules::table(m));
            }
            for (i, (f, p)) in sets.iter().enumerate() {
                if i > 0 {
                    q.push(", ");
                }
                q.push(&format!("{} = ", ident(&f.db_name)));
                self.value_sql(m, f, p.clone(), &mut q);
                if let Some(pos) = m.id.iter().position(|n| *n == f.name) {
                    after[pos] = p.clone();
                }
            }
            let alias = if self.dialect == Dialect::Sqlite { "" } else { "t" };
            push_where(&mut q, self.id_cond(m, alias, id));
            tx.execute(&q).await?;
        }
        if !self.holds(&mut tx, m, &after, Op::Update, auth).await? {
            return Err(HttpError::forbidden(FORBIDDEN));
        }
        // Moving a row out of one's own sight is refused unless the schema opts out.
        if self.schema.readable_after_update && !self.holds(&mut tx, m, &after, Op::Read, auth).await? {
            return Err(HttpError::forbidden("After this change you could no longer read the row."));
        }
        let shown = self.written(&mut tx, m, &after, auth).await?;
        // As in `create`: the event's row from the write's transaction.
        let emits = self.emits(m, RealtimeEvent::Updated);
        let snapshot = if emits { self.snapshot_of(&mut Db::Tx(&mut tx), m, &after).await? } else { None };
        tx.commit().await?;
        self.committed(m, "update");
        if emits {
            self.publish(m, RealtimeEvent::Updated, before, snapshot);
        }
        self.after(m, ctx, &shown, |h| &h.after_update);
        Ok(shown)
    }

    /// The row a write made, as the caller sees it (read inside the write's transaction); a row
    /// that holds a value the API cannot send is a 500 (and the write rolls back).
    async fn written(&self, tx: &mut Tx, m: &'static Model, id: &[Param], auth: &Claims) -> Result<String, HttpError> {
        let mut db = Db::Tx(tx);
        let row = self.fetch_row(&mut db, m, id, auth, false).await?.ok_or_else(HttpError::not_found)?;
        let shown = self.present_all(&mut db, m, std::slice::from_ref(&row), &[], auth).await?.into_iter().next();
        shown.ok_or_else(|| HttpError::new(500, "The row holds a value the API cannot send."))
    }

    /// Runs the after hooks of a committed write on the row as the caller sees it.
    fn after(&self, m: &Model, ctx: &Context, shown: &str, pick: impl Fn(&ModelHooks) -> &Vec<ErasedAfter>) {
        let Some(h) = self.hooks.get(&m.name) else { return };
        let hooks = pick(h);
        if hooks.is_empty() {
            return;
        }
        let row: Json = serde_json::from_str(shown).unwrap_or(Json::Null);
        for f in hooks {
            if let Err(e) = f(ctx, &row) {
                tracing::error!(model = %m.name, request_id = %ctx.request_id, error = %e, "an after hook could not read the row");
            }
        }
    }

    pub(crate) async fn delete(&self, m: &'static Model, id: &[Param], ctx: &Context) -> Result<(), HttpError> {
        let auth = &ctx.auth;
        let id_json = Json::Array(id.iter().map(param_json).collect());
        if let Some(h) = self.hooks.get(&m.name) {
            for f in &h.before_delete {
                f(ctx, &mut id_json.clone()).map_err(rejected)?;
            }
        }
        let mut tx = self.pool.begin().await?;
        let mut aliases = 0;
        let read = self.policy(m, Op::Read, auth, "t", &mut aliases)?;
        if !self.exists(&mut Db::Tx(&mut tx), m, id, read).await? {
            return Err(HttpError::not_found());
        }
        if !self.holds(&mut tx, m, id, Op::Delete, auth).await? {
            return Err(HttpError::forbidden(FORBIDDEN));
        }
        let before = if self.emits(m, RealtimeEvent::Deleted) { self.snapshot_of(&mut Db::Tx(&mut tx), m, id).await? } else { None };
        let mut q = Query::default();
        q.push(&format!("DELETE FROM {}", rules::table(m)));
        push_where(&mut q, self.id_cond(m, "", id));
        tx.execute(&q).await?;
        tx.commit().await?;
        self.committed(m, "delete");
        if before.is_some() {
            self.publish(m, RealtimeEvent::Deleted, before, None);
        }
        if let Some(h) = self.hooks.get(&m.name) {
            for f in &h.after_delete {
                let _ = f(ctx, &id_json);
            }
        }
        Ok(())
    }
}

/// An id as the Prisma client makes it for `@default(uuid())`, `uuid(7)`, `cuid()` (version 1),
/// `cuid(2)`, `ulid()`, `nanoid()` (21 characters) or `nanoid(n)`.
fn generated_id(made: &str) -> Option<String> {
    let (name, n) = match made.split_once('(') {
        Some((name, rest)) => (name, Some(rest.strip_suffix(')')?.parse::<usize>().ok()?)),
        None => (made, None),
    };
    Some(match (name, n) {
        ("uuid", None | Some(4)) => uuid::Uuid::new_v4().to_string(),
        ("uuid", Some(7)) => uuid::Uuid::now_v7().to_string(),
        ("cuid", None | Some(1)) => cuid::cuid1(),
        ("cuid", Some(2)) => cuid::cuid2(),
        ("ulid", None) => ulid::Ulid::generate().to_string(),
        ("nanoid", n) => nanoid::nanoid!(n.unwrap_or(21)),
        _ => return None,
    })
}

/// Runs before hooks on a checked input; a refusal is the request's answer.
fn run_before(hooks: &[ErasedBefore], ctx: &Context, input: Map<String, Json>) -> Result<Json, HttpError> {
    let mut json = Json::Object(input);
    for f in hooks {
        f(ctx, &mut json).map_err(rejected)?;
    }
    Ok(json)
}

fn rejected(r: Reject) -> HttpError {
    if r.status >= 500 {
        tracing::error!(detail = %r.detail, "a hook failed");
    }
    HttpError::new(r.status, r.detail).with_errors(r.errors.into_iter().map(|(path, message)| FieldError { path, message }).collect())
}

/// An id value as JSON (for hooks).
fn param_json(p: &Param) -> Json {
    match p {
        Param::Null => Json::Null,
        Param::Bool(b) => Json::Bool(*b),
        Param::Int(i) => Json::from(*i),
        Param::Float(f) => Json::from(*f),
        Param::Text(s) => Json::String(s.clone()),
        Param::Bytes(b) => Json::String(base64::engine::general_purpose::STANDARD.encode(b)),
    }
}

fn now() -> chrono::DateTime<chrono::Utc> {
    let t = chrono::Utc::now();
    chrono::DateTime::from_timestamp_millis(t.timestamp_millis()).unwrap_or(t)
}

/// A page of a search: the rows as sent, how many match, no cursor.
fn page(data: &[String], total: i64) -> String {
    format!(r#"{{"data":[{}],"meta":{{"total":{total},"nextCursor":null}}}}"#, data.join(","))
}

fn count(rows: &[Row]) -> i64 {
    match rows.first().and_then(|r| r.first()) {
        Some(Cell::Int(n)) => *n,
        _ => 0,
    }
}

fn cells_equal(a: &Cell, b: &Cell) -> bool {
    match (a, b) {
        (Cell::Int(x), Cell::Float(y)) | (Cell::Float(y), Cell::Int(x)) => (*x as f64) == *y,
        _ => a == b,
    }
}
