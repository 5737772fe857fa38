//! The policy expressions of the schema document ([`crate::schema::Expr`]) put to work the way
//! the TypeScript server's `policies/runtime.ts` does: compiled to a SQL condition for reads
//! ([`to_sql`]) and evaluated on a loaded JSON row ([`evaluate`], for field masks and realtime
//! events).
//!
//! The null rules are the language's: `null` compares like a value (`x == null` holds when `x`
//! is null, `x != 5` holds when `x` is null, ordering comparisons with null are false). In SQL,
//! every comparison is written so that it is never SQL `NULL` (a nullable column gets an explicit
//! `IS NULL` / `IS NOT NULL` guard), so `NOT`, `AND` and `OR` combine them exactly. A negation is
//! pushed down to the comparisons and relation hops keep their "the related row exists" meaning,
//! as in the TypeScript server's Prisma filter, so both servers select the same rows.
//!
//! Your own queries can take the read policy from the schema instead of a hand-copied `WHERE`:
//!
//! ```
//! mod db {
//!     ssot::ssot!("../examples/blog/schema.prisma"); // or ssot::include_ssot!() with build.rs
//! }
//! use ssot::rules::{self, Bind, Dialect};
//!
//! let schema = db::SCHEMA.get();
//! let post = schema.model("Post").unwrap();
//! // @@policy(read: "published || authorId == auth.id || auth.role in [EDITOR, ADMIN]")
//! let read = post.policy.as_ref().and_then(|p| p.read.as_ref()).unwrap();
//! let auth = serde_json::json!({ "id": 7, "role": "USER" }).as_object().cloned();
//! let filter = rules::to_sql(schema, post, "p", read, &auth, Dialect::Postgres).unwrap();
//! assert_eq!(filter.sql, r#"(p."published" = $1 OR p."authorId" = $2::bigint)"#);
//! assert_eq!(filter.binds, [Bind::Bool(true), Bind::Int(7)]);
//! // SELECT ... FROM "Post" AS p WHERE <filter.sql>, binding filter.binds in order.
//!
//! let editor = serde_json::json!({ "id": 8, "role": "EDITOR" }).as_object().cloned();
//! assert_eq!(rules::to_sql(schema, post, "p", read, &editor, Dialect::Postgres).unwrap().sql, "TRUE");
//! ```

use crate::schema::{Base, CmpOp, Expr, Hop, Model, Operand, Quant, ScalarType, Schema, ValueType};
use rust_decimal::Decimal;
use rust_decimal::prelude::{FromPrimitive, ToPrimitive};
use serde_json::{Map, Value as Json};
use std::cmp::Ordering;
use std::fmt::Write as _;
use std::str::FromStr;

/// The claims of the caller (`None`: anonymous), as the JWT or API key carried them.
pub type Claims = Option<Map<String, Json>>;

/// SQL flavour of [`to_sql`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    Postgres,
    Sqlite,
}

/// A value bound to a placeholder of a [`Filter`].
#[derive(Debug, Clone, PartialEq)]
pub enum Bind {
    Bool(bool),
    Int(i64),
    Float(f64),
    Text(String),
}

/// A SQL condition with its placeholders' values, in order.
#[derive(Debug, Clone, PartialEq)]
pub struct Filter {
    pub sql: String,
    pub binds: Vec<Bind>,
}

/// A policy the database condition cannot express (the TypeScript server refuses it too).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct PolicyError(pub String);

// ---- values ------------------------------------------------------------------------------

/// A typed value: numbers exact where the schema's are (Int, BigInt, Decimal), DateTime and
/// strings as text (RFC 3339 in UTC orders as time does).
#[derive(Debug, Clone, PartialEq)]
enum V {
    Null,
    Bool(bool),
    Num(Decimal),
    Float(f64),
    Str(String),
    List(Vec<V>),
    /// The principal itself (`auth`), or Json/Bytes: only ever compared with null.
    Opaque,
}

fn typed(ty: &ValueType, v: &Json) -> V {
    match v {
        Json::Null => V::Null,
        Json::Array(items) => V::List(items.iter().map(|x| typed(ty, x)).collect()),
        Json::Bool(b) => V::Bool(*b),
        Json::Number(n) => match (&ty.base, n.as_i64()) {
            (Base::Scalar(ScalarType::Float), _) | (_, None) => n.as_f64().map_or(V::Null, V::Float),
            (_, Some(i)) => V::Num(Decimal::from(i)),
        },
        Json::String(s) => match &ty.base {
            Base::Scalar(ScalarType::BigInt | ScalarType::Decimal | ScalarType::Int) => {
                Decimal::from_str(s).map_or(V::Str(s.clone()), V::Num)
            }
            Base::Scalar(ScalarType::Json | ScalarType::Bytes) => V::Opaque,
            _ => V::Str(s.clone()),
        },
        Json::Object(_) => V::Opaque,
    }
}

fn num_cmp(a: &V, b: &V) -> Option<Ordering> {
    match (a, b) {
        (V::Num(x), V::Num(y)) => Some(x.cmp(y)),
        (V::Float(x), V::Float(y)) => x.partial_cmp(y),
        (V::Num(x), V::Float(y)) => match Decimal::from_f64(*y) {
            Some(y) => Some(x.cmp(&y)),
            None => x.to_f64()?.partial_cmp(y),
        },
        (V::Float(_), V::Num(_)) => num_cmp(b, a).map(Ordering::reverse),
        _ => None,
    }
}

fn equal(a: &V, b: &V) -> bool {
    match (a, b) {
        (V::Null, V::Null) => true,
        (V::Null, _) | (_, V::Null) | (V::Opaque, _) | (_, V::Opaque) => false,
        (V::Bool(x), V::Bool(y)) => x == y,
        (V::Str(x), V::Str(y)) => x == y,
        (V::List(x), V::List(y)) => x.len() == y.len() && x.iter().zip(y).all(|(a, b)| equal(a, b)),
        _ => num_cmp(a, b) == Some(Ordering::Equal),
    }
}

fn order(a: &V, b: &V) -> Option<Ordering> {
    match (a, b) {
        (V::Str(x), V::Str(y)) => Some(x.cmp(y)),
        _ => num_cmp(a, b),
    }
}

/// `a op b` on known values.
fn compare(op: CmpOp, a: &V, b: &V) -> bool {
    match op {
        CmpOp::Eq => equal(a, b),
        CmpOp::Ne => !equal(a, b),
        CmpOp::In | CmpOp::NotIn => {
            let found = *a != V::Null && matches!(b, V::List(items) if items.iter().any(|x| equal(a, x)));
            found == (op == CmpOp::In)
        }
        _ => match order(a, b) {
            None => false,
            Some(o) => match op {
                CmpOp::Lt => o.is_lt(),
                CmpOp::Le => o.is_le(),
                CmpOp::Gt => o.is_gt(),
                _ => o.is_ge(),
            },
        },
    }
}

/// The value of an operand that does not read the row.
fn constant(o: &Operand, auth: &Claims) -> Result<V, PolicyError> {
    Ok(match o {
        Operand::Null => V::Null,
        Operand::Bool { value } => V::Bool(*value),
        Operand::Int { value } => V::Num(Decimal::from(*value)),
        Operand::Float { value } => V::Float(*value),
        Operand::String { value } | Operand::Enum { value, .. } => V::Str(value.clone()),
        Operand::List { items } => V::List(items.iter().map(|i| constant(i, auth)).collect::<Result<_, _>>()?),
        Operand::Auth => {
            if auth.is_some() {
                V::Opaque
            } else {
                V::Null
            }
        }
        Operand::Claim { name, ty } => auth.as_ref().and_then(|a| a.get(name)).map_or(V::Null, |v| typed(ty, v)),
        Operand::Field { field, .. } => return Err(PolicyError(format!("field {field} is not a constant"))),
    })
}

// ---- evaluated on a loaded row -----------------------------------------------------------

/// Reads `hops` then `field` from a JSON row: `None` when a relation on the way was not loaded,
/// `Some(null)` when an optional one is null.
fn read<'r>(row: &'r Json, hops: &[Hop], field: &str) -> Option<&'r Json> {
    let mut cur = row;
    for hop in hops {
        match cur.as_object()?.get(&hop.field)? {
            Json::Null => return Some(&Json::Null),
            next => cur = next,
        }
    }
    cur.as_object()?.get(field)
}

fn operand(o: &Operand, row: &Json, auth: &Claims) -> Option<V> {
    match o {
        Operand::Field { hops, field, ty } => read(row, hops, field).map(|v| typed(ty, v)),
        other => constant(other, auth).ok(),
    }
}

/// Evaluates an expression on a JSON row (relations as the API includes them): `Some(true)`,
/// `Some(false)`, or `None` when a relation it needs was not loaded (which denies).
pub fn evaluate(e: &Expr, row: &Json, auth: &Claims) -> Option<bool> {
    match e {
        Expr::Bool { value } => Some(*value),
        Expr::Not { expr } => evaluate(expr, row, auth).map(|v| !v),
        Expr::And { exprs } | Expr::Or { exprs } => {
            let stop = matches!(e, Expr::Or { .. });
            let mut unknown = false;
            for x in exprs {
                match evaluate(x, row, auth) {
                    Some(v) if v == stop => return Some(stop),
                    None => unknown = true,
                    _ => {}
                }
            }
            if unknown { None } else { Some(!stop) }
        }
        Expr::Truthy { operand: o } => operand(o, row, auth).map(|v| v == V::Bool(true)),
        Expr::Compare { op, left, right } => Some(compare(*op, &operand(left, row, auth)?, &operand(right, row, auth)?)),
        Expr::Quant { quant, hops, relation, body, .. } => {
            let list = read(row, hops, relation)?;
            let Some(items) = list.as_array() else {
                return if list.is_null() { Some(*quant != Quant::Some) } else { None };
            };
            let results: Vec<Option<bool>> = items.iter().map(|item| evaluate(body, item, auth)).collect();
            let (decisive, on_decisive) = match quant {
                Quant::Some => (Some(true), true),
                Quant::Every => (Some(false), false),
                Quant::None => (Some(true), false),
            };
            if results.contains(&decisive) {
                Some(on_decisive)
            } else if results.contains(&None) {
                None
            } else {
                Some(!on_decisive)
            }
        }
    }
}

// ---- compiled to SQL ---------------------------------------------------------------------

/// The read condition of `expr` for this caller on rows of `model` named `alias` in the query:
/// `SELECT ... FROM "Post" AS t WHERE <filter.sql>`, with `filter.binds` bound in order.
pub fn to_sql(schema: &Schema, model: &Model, alias: &str, expr: &Expr, auth: &Claims, dialect: Dialect) -> Result<Filter, PolicyError> {
    let mut cx = Sql { schema, auth, dialect, aliases: 0 };
    let (text, binds) = close(cx.compile(model, alias, expr, false)?);
    Ok(Filter { sql: number(&text, dialect), binds })
}

/// A condition before its placeholders are numbered: constant, or SQL with [`MARK`] where each
/// bound value goes (the server puts several into one query, then numbers them).
#[cfg(feature = "server")]
pub(crate) enum Marked {
    Const(bool),
    Sql(String, Vec<Bind>),
}

/// [`to_sql`] with placeholders left as [`MARK`]; `aliases` keeps the subquery aliases of several
/// conditions in one query apart.
#[cfg(feature = "server")]
pub(crate) fn to_marked(
    schema: &Schema,
    model: &Model,
    alias: &str,
    expr: &Expr,
    auth: &Claims,
    dialect: Dialect,
    aliases: &mut usize,
) -> Result<Marked, PolicyError> {
    let mut cx = Sql { schema, auth, dialect, aliases: *aliases };
    let w = cx.compile(model, alias, expr, false)?;
    *aliases = cx.aliases;
    Ok(match w {
        W::Const(b) => Marked::Const(b),
        W::Sql(s, b) => Marked::Sql(s, b),
    })
}

/// The placeholders of `text` numbered for the dialect (`$1`, `$2`, ... or `?`).
pub(crate) fn number(text: &str, dialect: Dialect) -> String {
    // Placeholders are numbered once the surviving parts are known.
    let mut sql = String::with_capacity(text.len());
    let mut n = 0;
    for c in text.chars() {
        if c == MARK {
            n += 1;
            match dialect {
                Dialect::Postgres => {
                    let _ = write!(sql, "${n}");
                }
                Dialect::Sqlite => sql.push('?'),
            }
        } else {
            sql.push(c);
        }
    }
    sql
}

/// Where a placeholder goes, until [`to_sql`] numbers them.
pub(crate) const MARK: char = '\u{1}';

/// A condition with the values of its placeholders, or a constant one (kept apart so that
/// `and`/`or` can fold it away, and its values with it).
enum W {
    Const(bool),
    Sql(String, Vec<Bind>),
}

impl W {
    fn sql(text: String) -> W {
        W::Sql(text, Vec::new())
    }
}

fn close(w: W) -> (String, Vec<Bind>) {
    match w {
        W::Const(b) => ((if b { "TRUE" } else { "FALSE" }).into(), Vec::new()),
        W::Sql(s, b) => (s, b),
    }
}

fn combine(parts: Vec<W>, and: bool) -> W {
    let mut sql = Vec::new();
    let mut binds = Vec::new();
    for p in parts {
        match p {
            W::Const(b) if b != and => return W::Const(b),
            W::Const(_) => {}
            W::Sql(s, b) => {
                sql.push(s);
                binds.extend(b);
            }
        }
    }
    match sql.len() {
        0 => W::Const(and),
        1 => W::Sql(sql.pop().unwrap_or_default(), binds),
        _ => W::Sql(format!("({})", sql.join(if and { " AND " } else { " OR " })), binds),
    }
}

fn negate_op(op: CmpOp) -> CmpOp {
    match op {
        CmpOp::Eq => CmpOp::Ne,
        CmpOp::Ne => CmpOp::Eq,
        CmpOp::Lt => CmpOp::Ge,
        CmpOp::Le => CmpOp::Gt,
        CmpOp::Gt => CmpOp::Le,
        CmpOp::Ge => CmpOp::Lt,
        CmpOp::In => CmpOp::NotIn,
        CmpOp::NotIn => CmpOp::In,
    }
}

fn flip_op(op: CmpOp) -> CmpOp {
    match op {
        CmpOp::Lt => CmpOp::Gt,
        CmpOp::Le => CmpOp::Ge,
        CmpOp::Gt => CmpOp::Lt,
        CmpOp::Ge => CmpOp::Le,
        other => other,
    }
}

/// A quoted identifier (`"name"`, quotes doubled).
pub(crate) fn ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// A quoted name in a database schema (`"app"."Profile"`), or in the search path.
pub(crate) fn qualified(schema: Option<&str>, name: &str) -> String {
    match schema {
        Some(s) => format!("{}.{}", ident(s), ident(name)),
        None => ident(name),
    }
}

/// A model's table, in its `@@schema`.
pub(crate) fn table(m: &Model) -> String {
    qualified(m.db_schema.as_deref(), &m.db_name)
}

/// Prisma's implicit m:n join table `_<relation>` of models `a` and `b`, in the database schema
/// of the one whose name sorts first.
pub(crate) fn join_table(a: &Model, b: &Model, relation: &str) -> String {
    let first = if a.name <= b.name { a } else { b };
    qualified(first.db_schema.as_deref(), &format!("_{relation}"))
}

struct Sql<'a> {
    schema: &'a Schema,
    auth: &'a Claims,
    dialect: Dialect,
    aliases: usize,
}

impl<'a> Sql<'a> {
    fn model(&self, name: &str) -> Result<&'a Model, PolicyError> {
        self.schema.model(name).ok_or_else(|| PolicyError(format!("no model {name} in the schema")))
    }

    fn column(&self, model: &Model, alias: &str, field: &str) -> Result<String, PolicyError> {
        let f = model.field(field).ok_or_else(|| PolicyError(format!("{} has no field {field}", model.name)))?;
        Ok(format!("{alias}.{}", ident(&f.db_name)))
    }

    fn fresh(&mut self) -> String {
        self.aliases += 1;
        format!("r{}", self.aliases)
    }

    /// A placeholder for `v` (enum values stored under their database names).
    fn bind(&self, v: &V, ty: &ValueType, binds: &mut Vec<Bind>) -> Result<String, PolicyError> {
        let enum_ = match &ty.base {
            Base::Enum { enum_name } => Some(self.schema.enum_(enum_name).ok_or_else(|| PolicyError(format!("no enum {enum_name}")))?),
            Base::Scalar(_) => None,
        };
        let b = match v {
            V::Bool(b) => Bind::Bool(*b),
            V::Num(d) => match d.fract().is_zero().then(|| d.to_i64()).flatten() {
                Some(i) => Bind::Int(i),
                None => Bind::Text(d.to_string()),
            },
            V::Float(f) => Bind::Float(*f),
            V::Str(s) => match enum_ {
                Some(e) => Bind::Text(e.values.iter().find(|x| &x.name == s).map_or_else(|| s.clone(), |x| x.db_name.clone())),
                None => Bind::Text(s.clone()),
            },
            V::Null | V::List(_) | V::Opaque => return Err(PolicyError("this value cannot be compared with a column".into())),
        };
        binds.push(b);
        let mut p = MARK.to_string();
        if self.dialect == Dialect::Postgres {
            // Text parameters meet typed columns: say the column's type.
            match &ty.base {
                Base::Enum { .. } => {
                    let _ = write!(p, "::{}", enum_.map_or_else(|| ident(""), |e| qualified(e.db_schema.as_deref(), &e.db_name)));
                }
                Base::Scalar(ScalarType::Decimal) => p.push_str("::numeric"),
                Base::Scalar(ScalarType::DateTime) => p.push_str("::timestamp"),
                Base::Scalar(ScalarType::BigInt | ScalarType::Int) if matches!(v, V::Num(_)) => p.push_str("::bigint"),
                _ => {}
            }
        }
        Ok(p)
    }

    fn compile(&mut self, model: &'a Model, alias: &str, e: &Expr, negated: bool) -> Result<W, PolicyError> {
        Ok(match e {
            Expr::Bool { value } => W::Const(*value != negated),
            Expr::Not { expr } => self.compile(model, alias, expr, !negated)?,
            Expr::And { exprs } | Expr::Or { exprs } => {
                let parts = exprs.iter().map(|x| self.compile(model, alias, x, negated)).collect::<Result<Vec<_>, _>>()?;
                combine(parts, matches!(e, Expr::And { .. }) != negated)
            }
            Expr::Truthy { operand: o } => match o {
                Operand::Field { hops, field, ty } => {
                    let (leaf, at, wrap) = self.hops(model, alias, hops)?;
                    let w = self.field_condition(leaf, &at, field, ty, CmpOp::Eq, &V::Bool(true), negated)?;
                    wrap.finish(w)
                }
                other => W::Const((constant(other, self.auth)? == V::Bool(true)) != negated),
            },
            Expr::Quant { quant, hops, relation, body, .. } => {
                let (owner, at, wrap) = self.hops(model, alias, hops)?;
                let q = match (negated, quant) {
                    (false, q) => *q,
                    (true, Quant::Some) => Quant::None,
                    (true, Quant::Every | Quant::None) => Quant::Some,
                };
                let (target, child, join) = self.join(owner, &at, relation)?;
                let body = self.compile(target, &child, body, *quant == Quant::Every && negated)?;
                let w = match (q, body) {
                    (Quant::Every, W::Const(true)) | (Quant::None, W::Const(false)) => W::Const(true),
                    (Quant::Some, W::Const(false)) => W::Const(false),
                    (q, body) => {
                        let (cond, binds) = match (q, body) {
                            (Quant::Every, W::Sql(s, b)) => (format!(" AND NOT {s}"), b),
                            (_, W::Sql(s, b)) => (format!(" AND {s}"), b),
                            (_, W::Const(_)) => (String::new(), Vec::new()),
                        };
                        let exists = format!("EXISTS (SELECT 1 {join}{cond})");
                        W::Sql(if q == Quant::Some { exists } else { format!("NOT {exists}") }, binds)
                    }
                };
                wrap.finish(w)
            }
            Expr::Compare { op, left, right } => {
                let (mut op, mut left, mut right) = (*op, left, right);
                if !matches!(left, Operand::Field { .. }) && matches!(right, Operand::Field { .. }) {
                    if let (CmpOp::In | CmpOp::NotIn, Operand::Field { hops, field, ty }) = (op, right) {
                        if !ty.list {
                            return Err(PolicyError("`in` needs a list on its right".into()));
                        }
                        let v = constant(left, self.auth)?;
                        let yes = (op == CmpOp::In) != negated;
                        let (leaf, at, wrap) = self.hops(model, alias, hops)?;
                        let w = if v == V::Null {
                            W::Const(!yes)
                        } else {
                            let col = self.column(leaf, &at, field)?;
                            let elem = ValueType { base: ty.base.clone(), list: false, nullable: false };
                            let mut binds = Vec::new();
                            let p = self.bind(&v, &elem, &mut binds)?;
                            let has = match self.dialect {
                                Dialect::Postgres => format!("COALESCE({p} = ANY({col}), FALSE)"),
                                Dialect::Sqlite => return Err(PolicyError("scalar lists need PostgreSQL".into())),
                            };
                            W::Sql(if yes { has } else { format!("NOT {has}") }, binds)
                        };
                        return Ok(wrap.finish(w));
                    }
                    std::mem::swap(&mut left, &mut right);
                    op = flip_op(op);
                }
                let Operand::Field { hops, field, ty } = left else {
                    return Ok(W::Const(compare(op, &constant(left, self.auth)?, &constant(right, self.auth)?) != negated));
                };
                if let Operand::Field { field: other, .. } = right {
                    return Err(PolicyError(format!("comparing two fields ({field} and {other}) is not supported in database filters")));
                }
                let v = constant(right, self.auth)?;
                let (leaf, at, wrap) = self.hops(model, alias, hops)?;
                let w = self.field_condition(leaf, &at, field, ty, op, &v, negated)?;
                wrap.finish(w)
            }
        })
    }

    /// `field op v` with the language's null rules; never SQL NULL.
    #[allow(clippy::too_many_arguments)]
    fn field_condition(
        &mut self,
        model: &Model,
        alias: &str,
        field: &str,
        ty: &ValueType,
        op: CmpOp,
        v: &V,
        negated: bool,
    ) -> Result<W, PolicyError> {
        let col = self.column(model, alias, field)?;
        let mut binds = Vec::new();
        // A `@db.Uuid` column meets a text parameter: PostgreSQL compares them as UUIDs.
        let uuid =
            self.dialect == Dialect::Postgres && model.field(field).and_then(|f| f.native_type.as_ref()).is_some_and(|n| n.name == "Uuid");
        let bind = |this: &Self, v: &V, binds: &mut Vec<Bind>| this.bind(v, ty, binds).map(|p| if uuid { format!("{p}::uuid") } else { p });
        let nullable = ty.nullable;
        let eff = if negated { negate_op(op) } else { op };
        let or_null = |s: String| if nullable { format!("({col} IS NULL OR {s})") } else { s };
        let not_null = |s: String| if nullable { format!("({col} IS NOT NULL AND {s})") } else { s };
        let sql_op = |op: CmpOp| match op {
            CmpOp::Lt => "<",
            CmpOp::Le => "<=",
            CmpOp::Gt => ">",
            CmpOp::Ge => ">=",
            CmpOp::Eq => "=",
            _ => "<>",
        };
        Ok(match eff {
            CmpOp::Lt | CmpOp::Le | CmpOp::Gt | CmpOp::Ge => {
                if matches!(v, V::Null | V::Opaque) {
                    // `x < null` is false, and so is its negation as the Prisma filter writes it.
                    return Ok(W::Const(negated));
                }
                let p = bind(self, v, &mut binds)?;
                let cond = format!("{col} {} {p}", sql_op(eff));
                // A negated ordering keeps the rows whose value is null (`!(x < 5)` holds for null).
                W::Sql(if negated { or_null(cond) } else { not_null(cond) }, binds)
            }
            CmpOp::Eq => match v {
                V::Null => W::sql(format!("{col} IS NULL")),
                V::Opaque => W::Const(false),
                v => {
                    let p = bind(self, v, &mut binds)?;
                    W::Sql(not_null(format!("{col} = {p}")), binds)
                }
            },
            CmpOp::Ne => match v {
                V::Null => W::sql(format!("{col} IS NOT NULL")),
                V::Opaque => W::Const(true),
                v => {
                    let p = bind(self, v, &mut binds)?;
                    W::Sql(or_null(format!("{col} <> {p}")), binds)
                }
            },
            CmpOp::In | CmpOp::NotIn => {
                let items: Vec<&V> = match v {
                    V::List(items) => items.iter().filter(|x| **x != V::Null).collect(),
                    _ => Vec::new(),
                };
                if items.is_empty() {
                    return Ok(W::Const(eff == CmpOp::NotIn));
                }
                let ps = items.into_iter().map(|x| bind(self, x, &mut binds)).collect::<Result<Vec<_>, _>>()?.join(", ");
                if eff == CmpOp::In {
                    W::Sql(not_null(format!("{col} IN ({ps})")), binds)
                } else {
                    W::Sql(or_null(format!("{col} NOT IN ({ps})")), binds)
                }
            }
        })
    }

    /// Follows to-one hops from `alias`: the model reached, its alias, and the `EXISTS` that
    /// wraps a condition on it (the related row must exist, as Prisma's `is` requires).
    fn hops(&mut self, model: &'a Model, alias: &str, hops: &[Hop]) -> Result<(&'a Model, String, Wrap), PolicyError> {
        let mut cur = model;
        let mut at = alias.to_owned();
        let mut joins = Vec::new();
        for hop in hops {
            let (target, child, join) = self.join(cur, &at, &hop.field)?;
            joins.push(join);
            cur = target;
            at = child;
        }
        Ok((cur, at, Wrap { joins }))
    }

    /// `FROM <target> AS <alias> WHERE <join to the parent>` for a relation of `model`.
    fn join(&mut self, model: &'a Model, alias: &str, relation: &str) -> Result<(&'a Model, String, String), PolicyError> {
        let r = model.relation(relation).ok_or_else(|| PolicyError(format!("{} has no relation {relation}", model.name)))?;
        let target = self.model(&r.model)?;
        let child = self.fresh();
        let table = table(target);
        let pairs = |a: &Model, a_alias: &str, af: &[String], b: &Model, b_alias: &str, bf: &[String]| -> Result<String, PolicyError> {
            af.iter()
                .zip(bf)
                .map(|(x, y)| Ok(format!("{} = {}", self.column(a, a_alias, x)?, self.column(b, b_alias, y)?)))
                .collect::<Result<Vec<_>, PolicyError>>()
                .map(|v| v.join(" AND "))
        };
        let on = if !r.fields.is_empty() {
            pairs(target, &child, &r.references, model, alias, &r.fields)?
        } else if r.many_to_many {
            // Prisma's join table `_<relation>`: column A points at the model whose name sorts
            // first, B at the other.
            let single = |m: &Model| m.id.first().cloned().ok_or_else(|| PolicyError(format!("{} has no id", m.name)));
            let (mine, theirs) = if model.name <= target.name { ("A", "B") } else { ("B", "A") };
            let j = self.fresh();
            let on = format!(
                "{} = {j}.\"{theirs}\" AND {j}.\"{mine}\" = {}",
                self.column(target, &child, &single(target)?)?,
                self.column(model, alias, &single(model)?)?
            );
            let from = format!("FROM {table} AS {child}, {} AS {j} WHERE {on}", join_table(model, target, &r.relation_name));
            return Ok((target, child, from));
        } else {
            let back = r
                .opposite
                .as_deref()
                .and_then(|o| target.relation(o))
                .filter(|b| !b.fields.is_empty())
                .ok_or_else(|| PolicyError(format!("no foreign key for {}.{relation}", model.name)))?;
            pairs(target, &child, &back.fields, model, alias, &back.references)?
        };
        let from = format!("FROM {table} AS {child} WHERE {on}");
        Ok((target, child, from))
    }
}

/// The `EXISTS` subqueries of to-one hops, innermost last.
struct Wrap {
    joins: Vec<String>,
}

impl Wrap {
    fn finish(self, w: W) -> W {
        if self.joins.is_empty() {
            return w;
        }
        let (mut inner, binds) = match w {
            // The related row must exist even for a condition that always holds.
            W::Const(false) => return W::Const(false),
            W::Const(true) => (String::new(), Vec::new()),
            W::Sql(s, b) => (format!(" AND {s}"), b),
        };
        for join in self.joins.iter().rev() {
            inner = format!(" AND EXISTS (SELECT 1 {join}{inner})");
        }
        W::Sql(inner.trim_start_matches(" AND ").to_owned(), binds)
    }
}
