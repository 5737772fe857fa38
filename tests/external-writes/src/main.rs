//! The blog's API served from Rust with `[plugins.external_writes]` (see ssot.toml): writes that
//! other programs make to the `@@realtime` tables reach the WebSocket subscribers.

#[allow(dead_code)]
mod db {
    ssot::include_ssot!();
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let level = std::env::var("LOG_LEVEL").ok().filter(|l| !l.is_empty()).unwrap_or_else(|| "info".into());
    tracing_subscriber::fmt().json().with_env_filter(tracing_subscriber::EnvFilter::new(level)).init();
    let app = ssot::server::Server::new(&db::SCHEMA).router().await?;
    ssot::server::serve(app).await?;
    Ok(())
}
