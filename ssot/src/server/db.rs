//! The database behind the server: a PostgreSQL or SQLite pool (runtime queries through sqlx),
//! queries written with [`MARK`] placeholders and typed parameters, and rows read as [`Cell`]s
//! of the kinds the query asked for.

use crate::rules::{Bind, Dialect, MARK, number};
use std::collections::HashMap;

/// A value bound to a placeholder (and, as [`Cell`], read from a row).
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Param {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Text(String),
    Bytes(Vec<u8>),
}

impl From<Bind> for Param {
    fn from(b: Bind) -> Self {
        match b {
            Bind::Bool(v) => Param::Bool(v),
            Bind::Int(v) => Param::Int(v),
            Bind::Float(v) => Param::Float(v),
            Bind::Text(v) => Param::Text(v),
        }
    }
}

/// How a selected column is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Bool,
    Int,
    Float,
    Text,
    Bytes,
}

/// A value read from a row: the same kinds as parameters, so a value read can be bound again.
pub(crate) type Cell = Param;

/// A query: SQL with [`MARK`] placeholders and their parameters in order.
#[derive(Debug, Default, Clone)]
pub(crate) struct Query {
    pub sql: String,
    pub params: Vec<Param>,
}

impl Query {
    pub(crate) fn push(&mut self, s: &str) -> &mut Self {
        self.sql.push_str(s);
        self
    }

    /// A placeholder for `p`, followed by `cast` (`::integer`, or nothing).
    pub(crate) fn param(&mut self, p: Param, cast: &str) -> &mut Self {
        self.sql.push(MARK);
        self.sql.push_str(cast);
        self.params.push(p);
        self
    }

    /// SQL that already holds placeholders for `binds` (a compiled policy).
    pub(crate) fn marked(&mut self, sql: &str, binds: Vec<Bind>) -> &mut Self {
        self.sql.push_str(sql);
        self.params.extend(binds.into_iter().map(Param::from));
        self
    }
}

/// The pool of the server's database, for your own queries: take [`super::Database`] in a
/// handler of [`super::Server::routes`].
#[derive(Debug, Clone)]
pub enum Pool {
    #[cfg(feature = "postgres")]
    Postgres(sqlx::PgPool),
    #[cfg(feature = "sqlite")]
    Sqlite(sqlx::SqlitePool),
}

/// A transaction on the server's database.
pub(crate) enum Tx {
    #[cfg(feature = "postgres")]
    Postgres(sqlx::Transaction<'static, sqlx::Postgres>),
    #[cfg(feature = "sqlite")]
    Sqlite(sqlx::Transaction<'static, sqlx::Sqlite>),
}

/// Why the database could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    #[error("DATABASE_URL is not set (the server needs a PostgreSQL or SQLite database)")]
    Missing,
    #[error("DATABASE_URL names a database this build cannot open ({0}); enable the `postgres` or `sqlite` feature of ssot")]
    Unsupported(String),
    #[error("cannot open the database: {0}")]
    Connect(#[from] sqlx::Error),
}

macro_rules! bind_all {
    ($q:expr, $params:expr) => {{
        let mut q = $q;
        for p in $params {
            q = match p {
                Param::Null => q.bind(None::<String>),
                Param::Bool(v) => q.bind(*v),
                Param::Int(v) => q.bind(*v),
                Param::Float(v) => q.bind(*v),
                Param::Text(v) => q.bind(v.as_str()),
                Param::Bytes(v) => q.bind(v.as_slice()),
            };
        }
        q
    }};
}

macro_rules! decode_row {
    ($row:expr, $kinds:expr) => {{
        use sqlx::Row as _;
        let row = $row;
        let mut out = Vec::with_capacity($kinds.len());
        for (i, k) in $kinds.iter().enumerate() {
            out.push(match k {
                Kind::Bool => row.try_get::<Option<bool>, _>(i)?.map_or(Cell::Null, Cell::Bool),
                // A 32-bit column read as is (the `search` plugin's ids): the engine's own
                // queries select integers as 64 bits.
                Kind::Int => match row.try_get::<Option<i64>, _>(i) {
                    Ok(v) => v.map_or(Cell::Null, Cell::Int),
                    Err(_) => row.try_get::<Option<i32>, _>(i)?.map_or(Cell::Null, |v| Cell::Int(v.into())),
                },
                Kind::Float => row.try_get::<Option<f64>, _>(i)?.map_or(Cell::Null, Cell::Float),
                Kind::Text => row.try_get::<Option<String>, _>(i)?.map_or(Cell::Null, Cell::Text),
                Kind::Bytes => row.try_get::<Option<Vec<u8>>, _>(i)?.map_or(Cell::Null, Cell::Bytes),
            });
        }
        out
    }};
}

impl Pool {
    /// Opens `url`: `postgres://` / `postgresql://`, or SQLite as `file:path` (Prisma's form),
    /// `sqlite:path`; `create` makes a SQLite file that does not exist yet (the server is about
    /// to migrate it).
    pub(crate) async fn open(url: &str, max_connections: u32, create: bool) -> Result<Pool, OpenError> {
        if url.is_empty() {
            return Err(OpenError::Missing);
        }
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            #[cfg(feature = "postgres")]
            {
                let options = pg_options(url)?;
                let pool = sqlx::postgres::PgPoolOptions::new()
                    .max_connections(max_connections)
                    .acquire_timeout(std::time::Duration::from_secs(5))
                    // Timestamps without a time zone hold UTC (as Prisma writes them).
                    .after_connect(|conn, _| {
                        Box::pin(async move { sqlx::Executor::execute(conn, "SET TIME ZONE 'UTC'").await.map(|_| ()) })
                    })
                    .connect_with(options)
                    .await?;
                return Ok(Pool::Postgres(pool));
            }
            #[cfg(not(feature = "postgres"))]
            return Err(OpenError::Unsupported("PostgreSQL".into()));
        }
        if let Some(path) = url.strip_prefix("file:").or_else(|| url.strip_prefix("sqlite://")).or_else(|| url.strip_prefix("sqlite:")) {
            #[cfg(feature = "sqlite")]
            {
                let path = path.split('?').next().unwrap_or(path);
                let options = sqlx::sqlite::SqliteConnectOptions::new()
                    .filename(path)
                    .foreign_keys(true)
                    .create_if_missing(create)
                    .busy_timeout(std::time::Duration::from_secs(5));
                let pool = sqlx::sqlite::SqlitePoolOptions::new().max_connections(max_connections).connect_with(options).await?;
                return Ok(Pool::Sqlite(pool));
            }
            #[cfg(not(feature = "sqlite"))]
            {
                let _ = (path, create);
                return Err(OpenError::Unsupported("SQLite".into()));
            }
        }
        Err(OpenError::Unsupported(url.split(':').next().unwrap_or_default().to_owned()))
    }

    pub(crate) fn dialect(&self) -> Dialect {
        match self {
            #[cfg(feature = "postgres")]
            Pool::Postgres(_) => Dialect::Postgres,
            #[cfg(feature = "sqlite")]
            Pool::Sqlite(_) => Dialect::Sqlite,
        }
    }

    pub(crate) async fn fetch(&self, q: &Query, kinds: &[Kind]) -> Result<Vec<Vec<Cell>>, sqlx::Error> {
        let sql = number(&q.sql, self.dialect());
        match self {
            #[cfg(feature = "postgres")]
            Pool::Postgres(pool) => {
                let rows = bind_all!(sqlx::query(&sql), &q.params).fetch_all(pool).await?;
                rows.iter().map(|r| Ok(decode_row!(r, kinds))).collect()
            }
            #[cfg(feature = "sqlite")]
            Pool::Sqlite(pool) => {
                let rows = bind_all!(sqlx::query(&sql), &q.params).fetch_all(pool).await?;
                rows.iter().map(|r| Ok(decode_row!(r, kinds))).collect()
            }
        }
    }

    pub(crate) async fn begin(&self) -> Result<Tx, sqlx::Error> {
        Ok(match self {
            #[cfg(feature = "postgres")]
            Pool::Postgres(pool) => Tx::Postgres(pool.begin().await?),
            // A write takes SQLite's write lock up front: a deferred transaction that read first
            // fails at once (SQLITE_BUSY, no waiting) when another connection is still finishing
            // its write; an immediate one waits for it (busy_timeout).
            #[cfg(feature = "sqlite")]
            Pool::Sqlite(pool) => Tx::Sqlite(pool.begin_with("BEGIN IMMEDIATE").await?),
        })
    }

    /// Can the database be reached within a second? A probe must answer in time: while the
    /// database is away the pool keeps retrying to connect until its acquire timeout (5 s), and a
    /// `/ready` that waited for that would answer 200 after a short outage, never 503.
    pub(crate) async fn ping(&self) -> bool {
        let select = Query { sql: "SELECT 1".into(), params: Vec::new() };
        matches!(tokio::time::timeout(std::time::Duration::from_secs(1), self.fetch(&select, &[])).await, Ok(Ok(_)))
    }

    /// PostgreSQL: the declared type of every column, as `format_type` writes it
    /// (`timestamp(3) without time zone`, `"Role"`, `app."Theme"`), for the casts of
    /// parameters, keyed by table and column: `Post` for a table in the search path,
    /// `app.Profile` for one in another schema (`@@schema`). SQLite needs none.
    pub(crate) async fn column_types(&self) -> Result<HashMap<(String, String), String>, sqlx::Error> {
        let q = Query {
            sql: "SELECT c.relname::text, a.attname::text, format_type(a.atttypid, a.atttypmod), n.nspname::text, \
                  n.nspname = ANY(current_schemas(false)) FROM pg_attribute a \
                  JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace \
                  WHERE a.attnum > 0 AND NOT a.attisdropped AND c.relkind IN ('r', 'v', 'm', 'p') \
                  AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_%' \
                  ORDER BY array_position(current_schemas(false), n.nspname::name) NULLS LAST"
                .into(),
            params: Vec::new(),
        };
        if self.dialect() != Dialect::Postgres {
            return Ok(HashMap::new());
        }
        let rows = self.fetch(&q, &[Kind::Text, Kind::Text, Kind::Text, Kind::Text, Kind::Bool]).await?;
        let mut out = HashMap::new();
        for r in rows {
            if let [Cell::Text(t), Cell::Text(c), Cell::Text(ty), Cell::Text(schema), Cell::Bool(in_path)] = &r[..] {
                // A table of the search path answers to its bare name (the first schema of the
                // path that has it, as PostgreSQL resolves it).
                if *in_path {
                    out.entry((t.clone(), c.clone())).or_insert_with(|| ty.clone());
                }
                out.insert((format!("{schema}.{t}"), c.clone()), ty.clone());
            }
        }
        Ok(out)
    }
}

impl Tx {
    fn dialect(&self) -> Dialect {
        match self {
            #[cfg(feature = "postgres")]
            Tx::Postgres(_) => Dialect::Postgres,
            #[cfg(feature = "sqlite")]
            Tx::Sqlite(_) => Dialect::Sqlite,
        }
    }

    pub(crate) async fn fetch(&mut self, q: &Query, kinds: &[Kind]) -> Result<Vec<Vec<Cell>>, sqlx::Error> {
        let sql = number(&q.sql, self.dialect());
        match self {
            #[cfg(feature = "postgres")]
            Tx::Postgres(tx) => {
                let rows = bind_all!(sqlx::query(&sql), &q.params).fetch_all(&mut **tx).await?;
                rows.iter().map(|r| Ok(decode_row!(r, kinds))).collect()
            }
            #[cfg(feature = "sqlite")]
            Tx::Sqlite(tx) => {
                let rows = bind_all!(sqlx::query(&sql), &q.params).fetch_all(&mut **tx).await?;
                rows.iter().map(|r| Ok(decode_row!(r, kinds))).collect()
            }
        }
    }

    pub(crate) async fn execute(&mut self, q: &Query) -> Result<u64, sqlx::Error> {
        let sql = number(&q.sql, self.dialect());
        Ok(match self {
            #[cfg(feature = "postgres")]
            Tx::Postgres(tx) => bind_all!(sqlx::query(&sql), &q.params).execute(&mut **tx).await?.rows_affected(),
            #[cfg(feature = "sqlite")]
            Tx::Sqlite(tx) => bind_all!(sqlx::query(&sql), &q.params).execute(&mut **tx).await?.rows_affected(),
        })
    }

    pub(crate) async fn commit(self) -> Result<(), sqlx::Error> {
        match self {
            #[cfg(feature = "postgres")]
            Tx::Postgres(tx) => tx.commit().await,
            #[cfg(feature = "sqlite")]
            Tx::Sqlite(tx) => tx.commit().await,
        }
    }
}

/// The connection options of a PostgreSQL URL. Connections are named `ssot` (unless the URL
/// names them): the triggers of the `external_writes` plugin leave the API's own writes out
/// (docs/plugins.md#external-writes).
#[cfg(feature = "postgres")]
pub(crate) fn pg_options(url: &str) -> Result<sqlx::postgres::PgConnectOptions, sqlx::Error> {
    let options: sqlx::postgres::PgConnectOptions = url.parse()?;
    Ok(if url.contains("application_name=") { options } else { options.application_name("ssot") })
}

/// One connection's worth of queries: the pool for reads, or the open transaction of a write.
pub(crate) enum Db<'a> {
    Pool(&'a Pool),
    Tx(&'a mut Tx),
}

impl Db<'_> {
    pub(crate) async fn fetch(&mut self, q: &Query, kinds: &[Kind]) -> Result<Vec<Vec<Cell>>, sqlx::Error> {
        match self {
            Db::Pool(p) => p.fetch(q, kinds).await,
            Db::Tx(t) => t.fetch(q, kinds).await,
        }
    }
}
