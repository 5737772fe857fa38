fn main() -> Result<(), Box<dyn std::error::Error>> {
    // Reads ssot.toml next to Cargo.toml (schema path, auth claims) and writes $OUT_DIR/ssot.rs.
    ssot_build::Config::new().schema("schema.prisma").compile()?;
    Ok(())
}
