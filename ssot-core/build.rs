//! A fingerprint of the generator itself (its sources and templates), recorded in the manifest
//! of every tree it writes: a tree is only ever skipped as up to date when the same generator
//! made it from the same inputs.

use std::path::Path;

fn visit(dir: &Path, hash: &mut u64) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    let mut paths: Vec<_> = entries.flatten().map(|e| e.path()).collect();
    paths.sort();
    for p in paths {
        if p.is_dir() {
            visit(&p, hash);
        } else if let Ok(bytes) = std::fs::read(&p) {
            // FNV-1a over the path and the bytes.
            for b in p.to_string_lossy().as_bytes().iter().chain(&bytes) {
                *hash ^= u64::from(*b);
                *hash = hash.wrapping_mul(0x100_0000_01b3);
            }
        }
    }
}

fn main() {
    let mut hash = 0xcbf2_9ce4_8422_2325u64;
    for dir in ["src", "templates"] {
        println!("cargo:rerun-if-changed={dir}");
        visit(Path::new(dir), &mut hash);
    }
    println!("cargo:rustc-env=SSOT_GENERATOR_FINGERPRINT={hash:016x}");
}
