//! The SQL migrations `prisma migrate dev` writes (`prisma/migrations/<name>/migration.sql`),
//! applied at start as `prisma migrate deploy` applies them: in name order, each recorded in
//! Prisma's own `_prisma_migrations` table (sha-256 checksum, start and finish times), so the
//! Rust server and the Prisma CLI agree on what ran. A migration that failed stops the start
//! until it is resolved (`prisma migrate resolve`), as it stops `prisma migrate deploy`.

use super::db::Pool;
use crate::rules::{Dialect, MARK};
use sha2::Digest as _;
use std::path::{Path, PathBuf};

/// The migrations of one folder, oldest first.
#[derive(Debug, Clone, Default)]
pub struct Migrations {
    /// The `provider` of the folder's `migration_lock.toml`, when it has one: migrations for
    /// another database are refused instead of half applied.
    pub provider: Option<String>,
    pub list: Vec<Migration>,
}

/// One migration: its folder's name and its `migration.sql`.
#[derive(Debug, Clone)]
pub struct Migration {
    pub name: String,
    pub sql: String,
}

/// Why migrations could not be read or applied.
#[derive(Debug, thiserror::Error)]
pub enum MigrateError {
    #[error("cannot read the migrations in {}: {source}", path.display())]
    Read { path: PathBuf, source: std::io::Error },
    #[error("the migrations in {folder} were written for {provider}, but DATABASE_URL is a {database} database")]
    Provider { folder: String, provider: String, database: &'static str },
    #[error(
        "migration {0} failed earlier and was not resolved: fix the database, then mark it with `prisma migrate resolve --applied {0}` or `--rolled-back {0}`"
    )]
    Failed(String),
    #[error("migration {name} failed: {message}")]
    Apply { name: String, message: String },
    #[error("cannot record migrations: {0}")]
    Database(#[from] sqlx::Error),
}

impl Migrations {
    /// Reads a folder laid out as `prisma migrate dev` writes it: one sub-folder per migration
    /// with its `migration.sql` (folders without one are skipped, as Prisma skips them), and
    /// `migration_lock.toml`.
    pub fn from_dir(dir: impl AsRef<Path>) -> Result<Migrations, MigrateError> {
        let dir = dir.as_ref();
        let read_err = |path: &Path| {
            let path = path.to_owned();
            move |source| MigrateError::Read { path, source }
        };
        let mut list = Vec::new();
        for entry in std::fs::read_dir(dir).map_err(read_err(dir))? {
            let entry = entry.map_err(read_err(dir))?;
            let file = entry.path().join("migration.sql");
            if !entry.file_type().map_err(read_err(dir))?.is_dir() || !file.is_file() {
                continue;
            }
            let sql = std::fs::read_to_string(&file).map_err(read_err(&file))?;
            list.push(Migration { name: entry.file_name().to_string_lossy().into_owned(), sql });
        }
        list.sort_by(|a, b| a.name.cmp(&b.name));
        let lock = dir.join("migration_lock.toml");
        let provider = match std::fs::read_to_string(&lock) {
            Ok(text) => text.lines().find_map(|l| {
                let (key, value) = l.split_once('=')?;
                (key.trim() == "provider").then(|| value.trim().trim_matches('"').to_owned())
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
            Err(e) => return Err(MigrateError::Read { path: lock, source: e }),
        };
        Ok(Migrations { provider, list })
    }
}

/// The lock `prisma migrate` takes on PostgreSQL, so a Prisma CLI and servers starting at the
/// same time apply each migration once.
#[cfg(feature = "postgres")]
const ADVISORY_LOCK: i64 = 72_707_369;

/// The checksum Prisma records: sha-256 of the script, in lowercase hex.
fn checksum(sql: &str) -> String {
    use std::fmt::Write as _;
    sha2::Sha256::digest(sql.as_bytes()).iter().fold(String::with_capacity(64), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

/// A row of `_prisma_migrations`: name, checksum, finished, rolled back.
type Applied = (String, String, bool, bool);

/// The steps of [`apply`] on one connection of either database (sqlx's types differ per
/// database, the SQL does not).
macro_rules! apply_on {
    ($conn:expr, $migrations:expr, $table:expr, $now:literal, $dialect:expr) => {
        async {
            let conn = $conn;
            let sql = |s: &str| crate::rules::number(s, $dialect);
            sqlx::raw_sql($table).execute(&mut *conn).await?;
            let rows: Vec<Applied> = sqlx::query_as(
                r#"SELECT "migration_name", "checksum", "finished_at" IS NOT NULL, "rolled_back_at" IS NOT NULL FROM "_prisma_migrations""#,
            )
            .fetch_all(&mut *conn)
            .await?;
            let mut applied = Vec::new();
            for m in &$migrations.list {
                let sum = checksum(&m.sql);
                let mut done = false;
                for (_, recorded, finished, _) in rows.iter().filter(|(name, _, _, rolled_back)| *name == m.name && !rolled_back) {
                    if !finished {
                        return Err(MigrateError::Failed(m.name.clone()));
                    }
                    if *recorded != sum {
                        tracing::warn!(migration = %m.name, "the migration was changed after it was applied");
                    }
                    done = true;
                }
                if done {
                    continue;
                }
                let id = uuid::Uuid::new_v4().to_string();
                let m_ = MARK;
                sqlx::query(&sql(&format!(
                    r#"INSERT INTO "_prisma_migrations" ("id", "checksum", "migration_name", "started_at", "applied_steps_count") VALUES ({m_}, {m_}, {m_}, {}, 0)"#,
                    $now
                )))
                .bind(&id)
                .bind(&sum)
                .bind(&m.name)
                .execute(&mut *conn)
                .await?;
                if let Err(e) = sqlx::raw_sql(&m.sql).execute(&mut *conn).await {
                    let message = e.as_database_error().map_or_else(|| e.to_string(), |d| d.message().to_owned());
                    // A script that opened a transaction of its own and failed in it leaves the
                    // connection in that (aborted) transaction: end it before recording.
                    let _ = sqlx::raw_sql("ROLLBACK").execute(&mut *conn).await;
                    sqlx::query(&sql(&format!(r#"UPDATE "_prisma_migrations" SET "logs" = {m_} WHERE "id" = {m_}"#)))
                        .bind(&message)
                        .bind(&id)
                        .execute(&mut *conn)
                        .await?;
                    return Err(MigrateError::Apply { name: m.name.clone(), message });
                }
                sqlx::query(&sql(&format!(
                    r#"UPDATE "_prisma_migrations" SET "finished_at" = {}, "applied_steps_count" = 1 WHERE "id" = {m_}"#,
                    $now
                )))
                .bind(&id)
                .execute(&mut *conn)
                .await?;
                tracing::info!(migration = %m.name, "migration applied");
                applied.push(m.name.clone());
            }
            for (name, ..) in rows.iter().filter(|(name, ..)| !$migrations.list.iter().any(|m| m.name == *name)) {
                tracing::warn!(migration = %name, "the database has a migration that the migrations folder lacks");
            }
            Ok(applied)
        }
        .await
    };
}

/// Applies what `migrations` has and the database's `_prisma_migrations` does not; returns the
/// names applied.
pub(crate) async fn apply(pool: &Pool, migrations: &Migrations, folder: &str) -> Result<Vec<String>, MigrateError> {
    let database = match pool.dialect() {
        Dialect::Postgres => "postgresql",
        Dialect::Sqlite => "sqlite",
    };
    if let Some(p) = &migrations.provider {
        // Prisma writes `postgresql`; `postgres` is its alias.
        let p = if p == "postgres" { "postgresql" } else { p.as_str() };
        if p != database {
            return Err(MigrateError::Provider { folder: folder.to_owned(), provider: p.to_owned(), database });
        }
    }
    match pool {
        #[cfg(feature = "postgres")]
        Pool::Postgres(pool) => {
            let mut conn = pool.acquire().await?;
            sqlx::query("SELECT pg_advisory_lock($1)").bind(ADVISORY_LOCK).execute(&mut *conn).await?;
            let result = apply_on!(&mut *conn, migrations, POSTGRES_TABLE, "now()", Dialect::Postgres);
            let unlocked = sqlx::query("SELECT pg_advisory_unlock($1)").bind(ADVISORY_LOCK).execute(&mut *conn).await;
            if unlocked.is_err() {
                // The lock lives as long as the session: never hand this connection out again.
                conn.close_on_drop();
            }
            let applied = result?;
            unlocked?;
            Ok(applied)
        }
        #[cfg(feature = "sqlite")]
        Pool::Sqlite(pool) => {
            let mut conn = pool.acquire().await?;
            // The form Prisma writes its times in on SQLite.
            apply_on!(&mut *conn, migrations, SQLITE_TABLE, "strftime('%Y-%m-%dT%H:%M:%f+00:00', 'now')", Dialect::Sqlite)
        }
    }
}

/// `_prisma_migrations` as Prisma creates it on PostgreSQL.
#[cfg(feature = "postgres")]
const POSTGRES_TABLE: &str = r#"CREATE TABLE IF NOT EXISTS "_prisma_migrations" (
    "id" VARCHAR(36) PRIMARY KEY NOT NULL,
    "checksum" VARCHAR(64) NOT NULL,
    "finished_at" TIMESTAMPTZ,
    "migration_name" VARCHAR(255) NOT NULL,
    "logs" TEXT,
    "rolled_back_at" TIMESTAMPTZ,
    "started_at" TIMESTAMPTZ NOT NULL DEFAULT now(),
    "applied_steps_count" INTEGER NOT NULL DEFAULT 0
)"#;

/// `_prisma_migrations` as Prisma creates it on SQLite.
#[cfg(feature = "sqlite")]
const SQLITE_TABLE: &str = r#"CREATE TABLE IF NOT EXISTS "_prisma_migrations" (
    "id" TEXT PRIMARY KEY NOT NULL,
    "checksum" TEXT NOT NULL,
    "finished_at" DATETIME,
    "migration_name" TEXT NOT NULL,
    "logs" TEXT,
    "rolled_back_at" DATETIME,
    "started_at" DATETIME NOT NULL DEFAULT current_timestamp,
    "applied_steps_count" INTEGER UNSIGNED NOT NULL DEFAULT 0
)"#;
