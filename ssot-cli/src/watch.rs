//! `ssot watch`: regenerate on every change of the schema (file or folder) or `ssot.toml`,
//! debounced, one line per run with what changed and how long it took. A schema with errors is
//! reported and nothing is written until it is valid again; the watch never exits on an error.

use crate::{Common, Outputs};
use notify_debouncer_mini::{DebounceEventResult, new_debouncer, notify::RecursiveMode};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

/// Quiet time after the last change before a run: editors write a file in several steps.
const DEBOUNCE: Duration = Duration::from_millis(150);

pub fn run(common: &Common, out: &Outputs) -> Result<ExitCode, Box<dyn std::error::Error>> {
    let (tx, rx) = std::sync::mpsc::channel::<DebounceEventResult>();
    let mut debouncer = new_debouncer(DEBOUNCE, tx)?;
    let mut watched: Vec<PathBuf> = Vec::new();
    let mut relevant: Vec<PathBuf>;
    let mut first = true;
    loop {
        // What to watch can change with the config (`schema = ...`): rediscover each run.
        let t = Instant::now();
        // Taken before the inputs are read: a change made while this run reads them is seen
        // as a change afterwards, and runs again.
        let seen = fingerprint(&inputs_of(common));
        match crate::load(common) {
            Ok((project, loaded)) => {
                let mut paths = vec![project.schema.clone()];
                paths.extend(project.config_path.clone());
                paths.push(project.root.join(ssot_core::CONFIG_FILE));
                watch_paths(&mut debouncer, &mut watched, &paths);
                relevant = paths.iter().map(|p| resolved(p)).collect();
                match crate::generate(project, &loaded, out, false) {
                    Ok(report) => {
                        let what = if report.changed || first { report.lines.join("; ") } else { "nothing changed".to_owned() };
                        eprintln!("[watch] {what} ({:.1} ms)", t.elapsed().as_secs_f64() * 1000.0);
                    }
                    Err(e) => eprintln!("[watch] error: {e}"),
                }
            }
            Err(e) => {
                // Still watch what can be found, so that fixing the schema triggers a run.
                let root = common.root.clone();
                let mut paths = vec![root.join(ssot_core::CONFIG_FILE), root.join("schema.prisma"), root.join("prisma")];
                if let Some(s) = &common.schema {
                    paths.push(root.join(s));
                }
                watch_paths(&mut debouncer, &mut watched, &paths);
                relevant = paths.iter().map(|p| resolved(p)).collect();
                eprint!("{e}");
                eprintln!("[watch] the schema has errors; nothing written. Waiting for changes.");
            }
        }
        first = false;
        // Wait for the next batch of changes (errors of the watcher are reported, not fatal).
        loop {
            match rx.recv() {
                // Only the inputs count (a folder is watched for its schema file, see below), and
                // only when they did change: reading them is an event too.
                Ok(Ok(events)) if events.iter().any(|e| relevant.iter().any(|r| e.path.starts_with(r))) => {
                    if fingerprint(&inputs_of(common)) != seen {
                        break;
                    }
                }
                Ok(Ok(_)) => continue,
                Ok(Err(e)) => eprintln!("[watch] watcher error: {e}"),
                Err(_) => return Ok(ExitCode::SUCCESS),
            }
        }
    }
}

/// The inputs as far as they can be found (the schema may be broken or missing).
fn inputs_of(common: &Common) -> Vec<PathBuf> {
    let root = &common.root;
    let mut paths = vec![root.join(ssot_core::CONFIG_FILE), root.join("schema.prisma"), root.join("prisma")];
    if let Ok(p) = ssot_core::Project::discover(root, common.schema.as_deref(), common.config.as_deref()) {
        paths.push(p.schema);
        paths.extend(p.config_path);
    }
    if let Some(s) = &common.schema {
        paths.push(root.join(s));
    }
    paths.iter().map(|p| resolved(p)).collect()
}

/// Size and modification time of every input (the `.prisma` files of a folder too).
fn fingerprint(paths: &[PathBuf]) -> Vec<(PathBuf, Option<(std::time::SystemTime, u64)>)> {
    let mut out = Vec::new();
    let mut stack: Vec<PathBuf> = paths.to_vec();
    while let Some(p) = stack.pop() {
        match std::fs::metadata(&p) {
            Ok(m) if m.is_dir() => {
                if let Ok(entries) = std::fs::read_dir(&p) {
                    stack
                        .extend(entries.flatten().map(|e| e.path()).filter(|e| e.is_dir() || e.extension().is_some_and(|x| x == "prisma")));
                }
            }
            Ok(m) => out.push((p, m.modified().ok().map(|t| (t, m.len())))),
            Err(_) => out.push((p, None)),
        }
    }
    out.sort();
    out
}

/// The path as the watcher reports it: absolute, symbolic links resolved where it exists.
fn resolved(p: &std::path::Path) -> PathBuf {
    std::fs::canonicalize(p).or_else(|_| std::path::absolute(p)).unwrap_or_else(|_| p.to_path_buf())
}

fn watch_paths(
    debouncer: &mut notify_debouncer_mini::Debouncer<notify_debouncer_mini::notify::RecommendedWatcher>,
    watched: &mut Vec<PathBuf>,
    paths: &[PathBuf],
) {
    for p in paths {
        // A file is watched through its folder: editors save by writing a new file and renaming
        // it over the old one, which a watch on the file itself would lose.
        let target = resolved(if p.is_dir() { p } else { p.parent().unwrap_or(p) });
        if watched.contains(&target) || !target.exists() {
            continue;
        }
        let mode = if target.is_dir() { RecursiveMode::Recursive } else { RecursiveMode::NonRecursive };
        if debouncer.watcher().watch(&target, mode).is_ok() {
            watched.push(target);
        }
    }
}
