//! The blog's API from Rust: `DATABASE_URL=postgres://... JWT_SECRET=... cargo run -p blog-server`
//! serves the routes of SPEC §5 on `HOST`:`PORT`, as the generated TypeScript server does.

#[allow(dead_code)] // the server reads SCHEMA; the rest of the items are there for your own code
mod db {
    ssot::include_ssot!();
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    // One JSON line per request and event; LOG_LEVEL as in the TypeScript server.
    let level = std::env::var("LOG_LEVEL").ok().filter(|l| !l.is_empty()).unwrap_or_else(|| "info".into());
    tracing_subscriber::fmt().json().with_env_filter(tracing_subscriber::EnvFilter::new(level)).init();
    let app = ssot::server::Server::new(&db::SCHEMA)
        // Business logic beside the generated API: a typed hook per model and operation.
        .hooks(db::Post::hooks().after_create(|ctx, post| {
            tracing::info!(post = post.id, by = ctx.principal_id().unwrap_or_default(), "post created");
        }))
        .router()
        .await?;
    ssot::server::serve(app).await?;
    Ok(())
}
