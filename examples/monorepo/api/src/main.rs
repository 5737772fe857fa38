//! The tasks API from Rust: the generated routes of every model (`/api/tasks`, `/ws`), a hook
//! that tidies and checks titles, and a route of its own (`/api/summary`). Without
//! `DATABASE_URL` it creates `tasks.db` and migrates it, and then, without `JWT_SECRET`, signs
//! with a development secret and prints a token for the web page (never with a `DATABASE_URL`).

#[allow(dead_code)] // the server reads SCHEMA; the types are there for your own code
mod db {
    ssot::include_ssot!();
}

use axum::Json;
use axum::routing::get;
use ssot::hooks::Reject;
use ssot::server::{Database, HttpError, Pool, Principal};

/// Only for trying the example: set JWT_SECRET for anything else.
const DEVELOPMENT_SECRET: &str = "monorepo-development-secret-do-not-deploy";

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    tracing_subscriber::fmt().json().with_env_filter(tracing_subscriber::EnvFilter::new("info")).init();
    let mut settings = ssot::server::Settings::from_env()?;
    // Without a database of its own, the example runs as a development setup.
    let development = settings.database_url.is_empty();
    if development {
        settings.database_url = "file:tasks.db".into();
    }
    if settings.cors_origins.is_empty() {
        // The web package's development server (`npm run dev` in web/).
        settings.cors_origins = vec!["http://localhost:5173".into(), "http://127.0.0.1:5173".into()];
    }
    if development && settings.auth.jwt_secret.is_none() && settings.auth.jwt_public_key.is_none() && settings.auth.jwks_url.is_none() {
        settings.auth.jwt_secret = Some(DEVELOPMENT_SECRET.into());
        eprintln!("JWT_SECRET is not set: using the example's development secret. A token for user 1, to paste into the web page:");
        eprintln!("  {}", development_token()?);
    }
    let app = ssot::server::Server::new(&db::SCHEMA)
        .settings(settings)
        .migrations_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/migrations"))
        // A hook: titles are trimmed, and a blank one is refused as a field error.
        .hooks(db::Task::hooks().before_create(|_, input| {
            input.title = input.title.trim().to_owned();
            if input.title.is_empty() {
                return Err(Reject::new(400, "A task needs a title.").field("title", "must not be blank"));
            }
            Ok(())
        }))
        // A route of our own beside the generated ones, with the caller and the pool.
        .routes(axum::Router::new().route("/api/summary", get(summary)))
        .router()
        .await?;
    ssot::server::serve(app).await?;
    Ok(())
}

/// `GET /api/summary`: how many of the caller's tasks are open and done.
async fn summary(Principal(auth): Principal, Database(pool): Database) -> Result<Json<serde_json::Value>, axum::response::Response> {
    let problem = |status: u16, detail: &str| HttpError::new(status, detail).response("/api/summary", "");
    let Some(owner) = auth.as_ref().and_then(|claims| claims.get("id")).and_then(serde_json::Value::as_i64) else {
        return Err(problem(401, "This route needs a signed-in caller."));
    };
    let pool = match pool {
        Pool::Sqlite(pool) => pool,
        #[allow(unreachable_patterns)] // another database, when ssot is built with more than SQLite
        _ => return Err(problem(500, "This route is written for SQLite.")),
    };
    // Our own SQL: the policies are not applied here, so the query keeps to the caller's rows.
    let (open, done): (i64, i64) =
        sqlx::query_as(r#"SELECT COALESCE(SUM("done" = 0), 0), COALESCE(SUM("done" = 1), 0) FROM "Task" WHERE "ownerId" = ?"#)
            .bind(owner)
            .fetch_one(&pool)
            .await
            .map_err(|_| problem(503, "The database cannot be reached."))?;
    Ok(Json(serde_json::json!({ "open": open, "done": done })))
}

/// A token signed with the development secret, valid for a day.
fn development_token() -> Result<String, Box<dyn std::error::Error>> {
    let exp = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH)?.as_secs() + 86_400;
    let key = jsonwebtoken::EncodingKey::from_secret(DEVELOPMENT_SECRET.as_bytes())?;
    Ok(jsonwebtoken::encode(&jsonwebtoken::Header::default(), &serde_json::json!({ "sub": "1", "exp": exp }), &key)?)
}
