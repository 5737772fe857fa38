//! The blog's API served from Rust: `cargo run -p blog` serves the routes of SPEC §5 on
//! `HOST`:`PORT` (127.0.0.1:3000), as the generated TypeScript server does. Without
//! `DATABASE_URL` it creates `blog.db` (SQLite) in the current folder and migrates it; with
//! `DATABASE_URL=postgresql://...` it migrates that database. Without either `DATABASE_URL` or
//! `JWT_SECRET` (a development run) it signs with a development secret and prints a token to try
//! the API with; with a `DATABASE_URL` it never does.

#[allow(dead_code)] // the server reads SCHEMA; the rest of the items are there for your own code
mod db {
    ssot::include_ssot!();
}

mod payments;

/// Only for trying the example: set JWT_SECRET for anything else.
const DEVELOPMENT_SECRET: &str = "blog-development-secret-do-not-deploy";

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    // One JSON line per request and event; LOG_LEVEL as in the TypeScript server.
    let level = std::env::var("LOG_LEVEL").ok().filter(|l| !l.is_empty()).unwrap_or_else(|| "info".into());
    tracing_subscriber::fmt().json().with_env_filter(tracing_subscriber::EnvFilter::new(level)).init();
    let mut settings = ssot::server::Settings::from_env()?;
    // Without a database of its own, the example runs as a development setup.
    let development = settings.database_url.is_empty();
    if development {
        settings.database_url = "file:blog.db".into();
    }
    if development && settings.auth.jwt_secret.is_none() && settings.auth.jwt_public_key.is_none() && settings.auth.jwks_url.is_none() {
        settings.auth.jwt_secret = Some(DEVELOPMENT_SECRET.into());
        eprintln!("JWT_SECRET is not set: using the example's development secret. A token for user 1 (ADMIN):");
        eprintln!("  {}", development_token()?);
    }
    // The migrations `prisma migrate dev` wrote, one folder per database.
    let dialect = if settings.database_url.starts_with("postgres") { "postgresql" } else { "sqlite" };
    let migrations = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations").join(dialect);
    let app = ssot::server::Server::new(&db::SCHEMA)
        .settings(settings)
        .migrations_dir(migrations)
        // Business logic beside the generated API: a typed hook per model and operation.
        .hooks(db::Post::hooks().after_create(|ctx, post| {
            tracing::info!(post = post.id, by = ctx.principal_id().unwrap_or_default(), "post created");
        }))
        // What Stripe's events do to the blog's rows ([plugins.payments] of ssot.toml).
        .payments(payments::handlers())
        .router()
        .await?;
    ssot::server::serve(app).await?;
    Ok(())
}

/// A token signed with the development secret, valid for a day.
fn development_token() -> Result<String, jsonwebtoken::errors::Error> {
    let exp = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default().as_secs() + 86_400;
    let claims = serde_json::json!({ "sub": "1", "role": "ADMIN", "exp": exp });
    jsonwebtoken::encode(&jsonwebtoken::Header::default(), &claims, &jsonwebtoken::EncodingKey::from_secret(DEVELOPMENT_SECRET.as_bytes())?)
}
