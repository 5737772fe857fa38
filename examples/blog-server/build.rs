fn main() -> Result<(), Box<dyn std::error::Error>> {
    // The blog example's schema and settings: the same API the TypeScript tree serves.
    ssot_build::Config::new().schema("../blog/schema.prisma").config_file("../blog/ssot.toml").compile()?;
    Ok(())
}
