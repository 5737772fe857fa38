//! `plugin-author-tree <project folder> <ts out>`: generates a project's TypeScript tree with the
//! `changelog` plugin registered, as a user's own generator binary (or build.rs, with
//! `ssot_build::Config::plugin`) does.

use std::path::PathBuf;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args_os().skip(1).map(PathBuf::from);
    let (Some(root), Some(out)) = (args.next(), args.next()) else {
        return Err("usage: plugin-author-tree <project folder> <ts out>".into());
    };
    let mut project = ssot_core::Project::discover(&root, None, None)?;
    project.config.plugins.push(ssot_plugin_author::Changelog);
    let loaded = project.load()?;
    let files = ssot_core::generate::ts::generate(&loaded.ir, &project.config);
    let report = ssot_core::writer::write_tree(&out, &files, &loaded.ir.skipped, false)?;
    println!("ts: {} {}", out.display(), report.summary());
    Ok(())
}
