//! The Rust server (`ssot::server`) of any fixture: `FIXTURE=tenant DATABASE_URL=... PORT=...
//! fixture-server`. tests/ts/server.sh runs the fixtures' TypeScript suites against it.

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let level = std::env::var("LOG_LEVEL").ok().filter(|l| !l.is_empty()).unwrap_or_else(|| "info".into());
    tracing_subscriber::fmt().json().with_env_filter(tracing_subscriber::EnvFilter::new(level)).init();
    let fixture = std::env::var("FIXTURE").map_err(|_| "FIXTURE names the fixture to serve")?;
    let source = ssot_compile_tests::SCHEMAS
        .iter()
        .find(|(name, _)| *name == fixture)
        .map(|(_, s)| *s)
        .ok_or_else(|| format!("no fixture {fixture}"))?;
    let app = ssot::server::Server::new(source).router().await?;
    ssot::server::serve(app).await?;
    Ok(())
}
