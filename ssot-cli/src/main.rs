//! `ssot`: check and generate from a Prisma schema outside cargo (the TypeScript side of a
//! monorepo, CI of user projects), adopt a project (`init`) and regenerate on change (`watch`).

mod init;
mod watch;

use clap::{Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Parser)]
#[command(name = "ssot", version, about = "One schema.prisma as the single source of truth for Rust and TypeScript")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(clap::Args, Clone)]
pub(crate) struct Common {
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
        #[command(flatten)]
        out: Outputs,
        /// Print the IR as JSON to stdout.
        #[arg(long)]
        ir: bool,
        /// Write nothing; exit 1 if any output on disk is stale.
        #[arg(long)]
        check: bool,
    },
    /// Adopt the Prisma project in the folder (find its schema, write ssot.toml), or scaffold a
    /// new polyglot one (Rust API crate with build.rs, TypeScript web package) in an empty folder.
    Init {
        /// The folder (default: the current one).
        #[arg(long, default_value = ".")]
        root: PathBuf,
    },
    /// Regenerate whenever the schema or ssot.toml changes; errors are shown and nothing is
    /// written until the schema is valid again.
    Watch {
        #[command(flatten)]
        common: Common,
        #[command(flatten)]
        out: Outputs,
    },
}

#[derive(clap::Args, Clone)]
struct Outputs {
    /// Write the Rust items to this file (default: `rust_out` of ssot.toml; none if unset).
    #[arg(long)]
    rust_out: Option<PathBuf>,
    /// Write the TypeScript tree here (default: `ts_out` of ssot.toml, else ./generated).
    #[arg(long)]
    ts_out: Option<PathBuf>,
    /// Do not write the TypeScript tree.
    #[arg(long)]
    no_ts: bool,
    /// The server framework (overrides `framework` of ssot.toml).
    #[arg(long, value_enum)]
    framework: Option<FrameworkArg>,
    /// The server style (overrides `mode` of ssot.toml).
    #[arg(long, value_enum)]
    mode: Option<ModeArg>,
    /// Leave the admin UI (`app/`, Next.js) out of the TypeScript tree (as `ui = false`).
    #[arg(long)]
    no_ui: bool,
    /// A backend-only tree: no React hooks and no admin UI (as `hooks = false`).
    #[arg(long)]
    no_hooks: bool,
}

#[derive(Clone, Copy, Debug, clap::ValueEnum)]
pub(crate) enum FrameworkArg {
    Express,
    Fastify,
}

#[derive(Clone, Copy, Debug, clap::ValueEnum)]
pub(crate) enum ModeArg {
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

pub(crate) fn load(common: &Common) -> Result<(ssot_core::Project, ssot_core::Loaded), ssot_core::Error> {
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
        Command::Generate { common, out, ir, check } => {
            if !ir
                && !check
                && let Some(lines) = up_to_date(&common, &out)
            {
                for line in lines {
                    eprintln!("{line}");
                }
                return Ok(ExitCode::SUCCESS);
            }
            let (project, loaded) = load(&common)?;
            if ir {
                println!("{}", serde_json::to_string_pretty(&loaded.ir)?);
            }
            let report = generate(project, &loaded, &out, check)?;
            for line in &report.lines {
                eprintln!("{line}");
            }
            if check && report.stale {
                eprintln!("error: generated files are stale; run `ssot generate`");
                return Ok(ExitCode::from(1));
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Init { root } => init::run(&root),
        Command::Watch { common, out } => watch::run(&common, &out),
    }
}

/// The stamp of a run: the inputs' paths and bytes and every setting that shapes the output.
fn stamp_of(project: &ssot_core::Project, out: &Outputs) -> Option<String> {
    let inputs = project.inputs().ok()?;
    let mut parts: Vec<Vec<u8>> = Vec::new();
    for p in inputs {
        parts.push(p.to_string_lossy().as_bytes().to_vec());
        parts.push(std::fs::read(&p).ok()?);
    }
    parts.push(format!("{:?} {:?} {:?} {:?} {}", out.framework, out.mode, out.ts_out, out.rust_out, out.no_ts).into_bytes());
    parts.push(vec![u8::from(out.no_ui), u8::from(out.no_hooks)]);
    let refs: Vec<&[u8]> = parts.iter().map(Vec::as_slice).collect();
    Some(ssot_core::writer::stamp(&refs))
}

fn ts_dir(project: &ssot_core::Project, out: &Outputs) -> PathBuf {
    out.ts_out.clone().or_else(|| project.configured_ts_out()).unwrap_or_else(|| project.root.join("generated"))
}

/// The lines of a run that can be skipped: same generator, same inputs, outputs untouched since
/// (decided from the manifest and file metadata, without reading the schema).
fn up_to_date(common: &Common, out: &Outputs) -> Option<Vec<String>> {
    let t = std::time::Instant::now();
    let project = ssot_core::Project::discover(&common.root, common.schema.as_deref(), common.config.as_deref()).ok()?;
    if out.no_ts {
        return None;
    }
    let dir = ts_dir(&project, out);
    let stamp = stamp_of(&project, out)?;
    if !ssot_core::writer::fresh(&dir, &stamp) {
        return None;
    }
    let ms = t.elapsed().as_secs_f64() * 1000.0;
    let mut lines = vec![format!("ts: {} unchanged: same schema, settings and generator ({ms:.1} ms)", dir.display())];
    if let Some(path) = out.rust_out.clone().or_else(|| project.configured_rust_out()) {
        lines.push(format!("rust: {} unchanged", path.display()));
    }
    Some(lines)
}

/// What one run of `generate` did: a line per output, and whether anything was stale.
pub(crate) struct GenReport {
    pub lines: Vec<String>,
    pub stale: bool,
    pub changed: bool,
}

/// Writes (or with `check`, compares) every output of a loaded schema.
pub(crate) fn generate(
    mut project: ssot_core::Project,
    loaded: &ssot_core::Loaded,
    out: &Outputs,
    check: bool,
) -> Result<GenReport, Box<dyn std::error::Error>> {
    if let Some(f) = out.framework {
        project.config.framework = match f {
            FrameworkArg::Express => ssot_core::config::Framework::Express,
            FrameworkArg::Fastify => ssot_core::config::Framework::Fastify,
        };
    }
    if out.no_ui {
        project.config.ui = false;
    }
    if out.no_hooks {
        project.config.hooks = false;
    }
    if let Some(m) = out.mode {
        project.config.mode = match m {
            ModeArg::Registry => ssot_core::config::ServerMode::Registry,
            ModeArg::Controller => ssot_core::config::ServerMode::Controller,
        };
    }
    let rust_out = out.rust_out.clone().or_else(|| project.configured_rust_out());
    let mut report = GenReport { lines: Vec::new(), stale: false, changed: false };
    // The Rust file first: the tree's manifest records its state too (see `up_to_date`).
    let mut rust_line = None;
    if let Some(path) = &rust_out {
        let files = ssot_core::generate::rust::generate(&loaded.ir, &project.config);
        let text = files.values().next().cloned().unwrap_or_default();
        let current = std::fs::read_to_string(path).ok();
        let state = match &current {
            Some(c) if *c == text => "unchanged",
            Some(_) => "updated",
            None => "created",
        };
        if check {
            report.stale |= state != "unchanged";
        } else {
            ssot_core::writer::write_if_changed(path, &text)?;
            report.changed |= state != "unchanged";
        }
        rust_line = Some(format!("rust: {} {}", path.display(), state));
    }
    if !out.no_ts {
        let dir = ts_dir(&project, out);
        let t = std::time::Instant::now();
        let stamp = stamp_of(&project, out);
        let files = ssot_core::generate::ts::generate(&loaded.ir, &project.config);
        let extra: Vec<PathBuf> = rust_out.iter().cloned().collect();
        let written = ssot_core::writer::write_tree_stamped(
            &dir,
            &files,
            &loaded.ir.skipped,
            check,
            stamp.as_deref().map(|s| (s, extra.as_slice())),
        )?;
        report.stale |= written.changed();
        report.changed |= written.changed();
        let would = if check { "would be " } else { "" };
        report.lines.push(format!("ts: {} {would}{} ({:.1} ms)", dir.display(), written.summary(), t.elapsed().as_secs_f64() * 1000.0));
    }
    report.lines.extend(rust_line);
    Ok(report)
}
