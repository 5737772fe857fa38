#![allow(dead_code)] // each test binary uses a part of these helpers

use std::path::{Path, PathBuf};

/// The repository root (this crate lives one level below it).
pub fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_path_buf()
}

/// The files of `dir` (relative to the repository) ending in `.{ext}`, sorted.
pub fn files_with_ext(dir: &str, ext: &str) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(repo().join(dir))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == ext))
        .collect();
    v.sort();
    v
}

/// Every fixture folder plus the bundled example, by name.
pub fn fixtures() -> Vec<(String, PathBuf)> {
    let mut v: Vec<(String, PathBuf)> = std::fs::read_dir(repo().join("tests/fixtures"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .map(|p| (p.file_name().unwrap().to_string_lossy().into_owned(), p))
        .collect();
    v.push(("blog".into(), repo().join("examples/blog")));
    v.sort();
    v
}

/// Checks a schema given as text (with an optional ssot.toml text) and returns the rendered
/// errors, or `None` if it is valid.
pub fn check_text(schema: &str, config: Option<&str>) -> Option<String> {
    let mut sources = ssot_core::diagnostics::Sources::new();
    sources.add("schema.prisma", schema);
    let config = match config {
        Some(text) => {
            let file = ssot_core::config::FileConfig::parse(text).unwrap();
            file.resolve(Some((PathBuf::from("ssot.toml"), text.to_owned()))).unwrap()
        }
        None => ssot_core::config::Config::default(),
    };
    match ssot_core::analyze(sources, &config, Path::new("")) {
        Ok(_) => None,
        Err(e) => Some(e.to_string()),
    }
}
