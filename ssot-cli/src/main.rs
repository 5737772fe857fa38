//! `ssot`: check and generate from a Prisma schema outside cargo (the TypeScript side of a
//! monorepo, CI of user projects).

use clap::{Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Parser)]
#[command(name = "ssot", version, about = "One schema.prisma as the single source of truth for Rust and TypeScript")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(clap::Args)]
struct Common {
    /// The schema file or folder (default: from ssot.toml, else ./schema.prisma,
    /// ./prisma/schema.prisma or ./prisma/schema/)
    #[arg(long)]
    schema: Option<PathBuf>,
    /// The config file (default: ./ssot.toml, else next to the schema)
    #[arg(long)]
    config: Option<PathBuf>,
    /// The folder relative paths resolve against
    #[arg(long, default_value = ".")]
    root: PathBuf,
}

#[derive(Subcommand)]
enum Command {
    /// Validate the schema and its annotations; exit 1 with located errors if invalid.
    Check {
        #[command(flatten)]
        common: Common,
    },
    /// Generate the outputs.
    Generate {
        #[command(flatten)]
        common: Common,
        /// Write the Rust items to this file (default: `rust_out` of ssot.toml; none if unset).
        #[arg(long)]
        rust_out: Option<PathBuf>,
        /// Write the TypeScript tree here (default: `ts_out` of ssot.toml, else ./generated).
        #[arg(long)]
        ts_out: Option<PathBuf>,
        /// Do not write the TypeScript tree.
        #[arg(long)]
        no_ts: bool,
        /// Print the IR as JSON to stdout.
        #[arg(long)]
        ir: bool,
        /// Write nothing; exit 1 if any output on disk is stale.
        #[arg(long)]
        check: bool,
        /// The server framework (overrides `framework` of ssot.toml).
        #[arg(long, value_enum)]
        framework: Option<FrameworkArg>,
        /// The server style (overrides `mode` of ssot.toml).
        #[arg(long, value_enum)]
        mode: Option<ModeArg>,
    },
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum FrameworkArg {
    Express,
    Fastify,
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum ModeArg {
    Registry,
    Controller,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(code) => code,
        Err(e) => {
            eprint!("{e}");
            if !e.to_string().ends_with('\n') {
                eprintln!();
            }
            ExitCode::from(1)
        }
    }
}

fn load(common: &Common) -> Result<(ssot_core::Project, ssot_core::Loaded), ssot_core::Error> {
    let project = ssot_core::Project::discover(&common.root, common.schema.as_deref(), common.config.as_deref())?;
    let loaded = project.load()?;
    if let Some(w) = &loaded.warnings {
        eprint!("{w}");
    }
    Ok((project, loaded))
}

fn run(cli: Cli) -> Result<ExitCode, Box<dyn std::error::Error>> {
    match cli.command {
        Command::Check { common } => {
            let (project, loaded) = load(&common)?;
            let models = loaded.ir.api_models().count();
            eprintln!("ok: {} ({} models, {} enums)", project.schema.display(), models, loaded.ir.enums.len());
            Ok(ExitCode::SUCCESS)
        }
        Command::Generate { common, rust_out, ts_out, no_ts, ir, check, framework, mode } => {
            let (mut project, loaded) = load(&common)?;
            if let Some(f) = framework {
                project.config.framework = match f {
                    FrameworkArg::Express => ssot_core::config::Framework::Express,
                    FrameworkArg::Fastify => ssot_core::config::Framework::Fastify,
                };
            }
            if let Some(m) = mode {
                project.config.mode = match m {
                    ModeArg::Registry => ssot_core::config::ServerMode::Registry,
                    ModeArg::Controller => ssot_core::config::ServerMode::Controller,
                };
            }
            if ir {
                println!("{}", serde_json::to_string_pretty(&loaded.ir)?);
            }
            let rust_out = rust_out.or_else(|| project.configured_rust_out());
            let mut stale = false;
            if !no_ts {
                let dir = ts_out.or_else(|| project.configured_ts_out()).unwrap_or_else(|| project.root.join("generated"));
                let t = std::time::Instant::now();
                let files = ssot_core::generate::ts::generate(&loaded.ir, &project.config);
                let report = ssot_core::writer::write_tree(&dir, &files, &loaded.ir.skipped, check)?;
                stale |= report.changed();
                let would = if check { "would be " } else { "" };
                eprintln!("ts: {} {would}{} ({:.1} ms)", dir.display(), report.summary(), t.elapsed().as_secs_f64() * 1000.0);
            }
            if let Some(path) = rust_out {
                let files = ssot_core::generate::rust::generate(&loaded.ir, &project.config);
                let text = files.values().next().cloned().unwrap_or_default();
                let current = std::fs::read_to_string(&path).ok();
                let state = match &current {
                    Some(c) if *c == text => "unchanged",
                    Some(_) => "updated",
                    None => "created",
                };
                if check {
                    stale |= state != "unchanged";
                } else {
                    ssot_core::writer::write_if_changed(&path, &text)?;
                }
                eprintln!("rust: {} {}", path.display(), state);
            }
            if check && stale {
                eprintln!("error: generated files are stale; run `ssot generate`");
                return Ok(ExitCode::from(1));
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}
