//! The generated Rust of every fixture, compiled. See `build.rs` and `tests/`.

include!(concat!(env!("OUT_DIR"), "/fixtures.rs"));

pub mod vectors;

/// The fixtures (and the bundled example) by name, with their folders.
pub fn fixture_dirs() -> Vec<(String, std::path::PathBuf)> {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let mut v: Vec<(String, std::path::PathBuf)> = std::fs::read_dir(root.join("tests/fixtures"))
        .expect("tests/fixtures")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.is_dir())
        .map(|p| (p.file_name().unwrap_or_default().to_string_lossy().into_owned(), p))
        .collect();
    v.push(("blog".into(), root.join("examples/blog")));
    v.sort();
    v
}

/// The `ssot!` macro expanding a fixture inline (relative to this crate's Cargo.toml).
#[allow(dead_code)]
pub mod inline_sqlite {
    ssot::ssot!("../fixtures/sqlite/schema.prisma");
}
