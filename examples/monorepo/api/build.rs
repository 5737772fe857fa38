// The Rust items of ../schema.prisma into $OUT_DIR/ssot.rs, and the TypeScript tree into
// ../web/generated (ts_out in ../ssot.toml), on every change of the schema.
fn main() -> Result<(), Box<dyn std::error::Error>> {
    ssot_build::Config::new().schema("../schema.prisma").config_file("../ssot.toml").compile()?;
    Ok(())
}
