//! The `external_writes` plugin (`[plugins.external_writes]` in ssot.toml) in the Rust server:
//! writes that other programs make to the tables of `@@realtime` models — a migration, a script,
//! another service — reach the API's subscribers under the same policies as the API's own. A
//! trigger on each table reports the row's key with `pg_notify`; this task listens on a
//! connection of its own and the engine loads the row and publishes it
//! ([`Engine::changed_outside`](super::engine::Engine::changed_outside)). The same protocol as
//! the TypeScript server's `src/server/plugins/external_writes.ts`, so the two mix in one
//! deployment: with Redis one instance of either kind listens (a PostgreSQL advisory lock elects
//! it) and Redis fans its events out; without, every instance listens for its own subscribers.
//! Notifications sent while no one listened are gone: when listening starts again, subscribers
//! resync.

use super::App;
use serde::Deserialize;
use serde_json::Value as Json;
use sqlx::Executor as _;
use sqlx::postgres::{PgListener, PgPool, PgPoolOptions};
use std::sync::Arc;
use std::time::Duration;

/// The `pg_notify` channel, and the name of the function and of the triggers.
const CHANNEL: &str = "ssot_changes";
/// The advisory lock whose holder listens when instances share Redis.
const LEADER: &str = "SELECT pg_try_advisory_lock(hashtext('ssot_changes:listen'))";
/// Taken while the triggers are installed, so that instances starting together do it once.
const INSTALLING: &str = "SELECT pg_advisory_xact_lock(hashtext('ssot_changes:install'))";
/// How long a follower waits before asking for the lock again, and a listener before it
/// reconnects.
const RETRY: Duration = Duration::from_secs(2);

/// The plugin's options, as the generator wrote them into the schema document.
#[derive(Deserialize)]
pub(crate) struct Options {
    /// Create the function and the triggers at startup.
    install: bool,
    /// `CREATE OR REPLACE FUNCTION ssot_changes() ...`.
    function: String,
    tables: Vec<Table>,
}

/// A `@@realtime` model's table and the trigger that reports its writes.
#[derive(Deserialize)]
struct Table {
    model: String,
    table: String,
    trigger: String,
    /// What follows the table in `trigger`: the end of the installed definition, when current.
    call: String,
}

/// What the trigger sends: the model, the operation and the row's key (null when too long).
#[derive(Deserialize)]
struct Notification {
    m: String,
    op: String,
    k: Option<Vec<Json>>,
}

impl Options {
    pub(crate) fn parse(options: &Json) -> Result<Options, String> {
        Options::deserialize(options).map_err(|e| format!("the external_writes options of the schema document: {e}"))
    }
}

/// Starts listening in the background (after installing the triggers with `install`): `url` is
/// `EXTERNAL_WRITES_URL`, else `DATABASE_URL`; `shared` when instances share Redis.
pub(crate) fn start(app: Arc<App>, options: Options, url: &str, shared: bool) -> Result<(), String> {
    let connect = super::db::pg_options(url).map_err(|e| format!("EXTERNAL_WRITES_URL: {e}"))?;
    // One connection, kept: it holds the LISTEN (and, with Redis, the leader's lock).
    let pool = PgPoolOptions::new().max_connections(1).max_lifetime(None).idle_timeout(None).connect_lazy_with(connect);
    tokio::spawn(async move {
        if options.install {
            match install(&pool, &options).await {
                Ok(0) => {}
                Ok(n) => tracing::info!(triggers = n, "external writes: triggers created"),
                Err(e) => tracing::error!(error = %e, "external writes: could not create the triggers (apply external-writes.sql)"),
            }
        }
        // Listening before, or another instance was: listening again leaves a gap.
        let mut gap = false;
        let mut away = false;
        loop {
            match listen(&app, &pool, &options, shared, &mut gap, &mut away).await {
                Ok(()) => {}
                Err(e) if !away => {
                    tracing::error!(error = %e, "external writes: listening");
                    away = true;
                }
                Err(_) => {}
            }
            tokio::time::sleep(RETRY).await;
        }
    });
    Ok(())
}

/// Creates the function, and the triggers that are missing or differ, in one transaction.
async fn install(pool: &PgPool, options: &Options) -> Result<usize, sqlx::Error> {
    let mut tx = pool.begin().await?;
    sqlx::query(INSTALLING).execute(&mut *tx).await?;
    tx.execute(options.function.as_str()).await?;
    let mut created = 0;
    for t in &options.tables {
        let def: Option<String> =
            sqlx::query_scalar("SELECT pg_get_triggerdef(oid) FROM pg_trigger WHERE tgname = $1 AND tgrelid = to_regclass($2)")
                .bind(CHANNEL)
                .bind(&t.table)
                .fetch_optional(&mut *tx)
                .await?;
        // pg_get_triggerdef qualifies the table with its schema: compare what follows it.
        if def.is_some_and(|d| d.ends_with(&t.call)) {
            continue;
        }
        let drop = format!("DROP TRIGGER IF EXISTS {CHANNEL} ON {}", t.table);
        tx.execute(drop.as_str()).await?;
        tx.execute(t.trigger.as_str()).await?;
        created += 1;
    }
    tx.commit().await?;
    Ok(created)
}

/// One connection's worth of listening: returns when this instance is not the leader or the
/// connection is lost.
async fn listen(app: &App, pool: &PgPool, options: &Options, shared: bool, gap: &mut bool, away: &mut bool) -> Result<(), sqlx::Error> {
    let mut listener = PgListener::connect_with(pool).await?;
    // A lost connection ends this round (the lock went with it): the next one asks again.
    listener.eager_reconnect(false);
    if shared {
        let leader: bool = sqlx::query_scalar(LEADER).fetch_one(&mut listener).await?;
        if !leader {
            *gap = true;
            return Ok(());
        }
    }
    listener.listen(CHANNEL).await?;
    if std::mem::take(away) {
        tracing::info!("external writes: listening again");
    }
    // What was written while no one listened is not known: the subscribers refetch.
    if std::mem::replace(gap, true) {
        for t in &options.tables {
            deliver(app, &t.model, "update", None).await;
        }
    }
    // One after the other, in the order PostgreSQL sent them.
    while let Some(n) = listener.try_recv().await? {
        match serde_json::from_str::<Notification>(n.payload()) {
            Ok(n) => deliver(app, &n.m, &n.op, n.k.as_deref()).await,
            Err(e) => tracing::error!(error = %e, "external writes: a notification that does not parse"),
        }
    }
    Ok(())
}

async fn deliver(app: &App, model: &str, operation: &str, key: Option<&[Json]>) {
    if let Err(e) = app.engine.changed_outside(model, operation, key).await {
        tracing::error!(model, status = e.status, detail = %e.detail, "external writes: delivering");
    }
}
