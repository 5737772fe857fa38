fn main() -> Result<(), Box<dyn std::error::Error>> {
    // Reads ssot.toml next to Cargo.toml (the blog's schema, its claims and the plugin).
    ssot_build::Config::new().compile()?;
    Ok(())
}
