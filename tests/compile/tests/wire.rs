//! The Rust half of the wire-format agreement. For every fixture, vectors are built from the IR
//! (`src/vectors.rs`); the generated Rust types must accept exactly the valid ones, and what they
//! write for a valid one must read back to the same bytes. The vectors, with the Rust output,
//! are stored in `tests/vectors/<fixture>.json`, where the Node half
//! (`tests/ts/wire.test.ts`) checks Zod against the same file.
//!
//! After a deliberate change, rewrite the files with
//! `SSOT_BLESS=1 cargo test -p ssot-compile-tests --test wire`.

use ssot_compile_tests::{check, fixture_dirs, vectors};

#[test]
fn rust_agrees_with_every_vector_and_the_stored_files_are_current() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../vectors");
    let bless = std::env::var_os("SSOT_BLESS").is_some();
    let mut problems = Vec::new();
    let mut total = 0;
    for (name, dir) in fixture_dirs() {
        let project = ssot_core::Project::discover(&dir, None, None).unwrap();
        let ir = project.load().unwrap().ir;
        let mut vs = vectors::generate(&ir);
        for v in &mut vs {
            total += 1;
            match check(&name, &v.model, &v.kind, &v.json) {
                Ok(out) if v.valid => {
                    match check(&name, &v.model, &v.kind, &out) {
                        Ok(again) if again == out => {}
                        other => problems.push(format!("{name} {} {} ({}): output {out} reads back as {other:?}", v.model, v.kind, v.why)),
                    }
                    v.rust = Some(out);
                }
                Ok(out) => problems.push(format!("{name} {} {} ({}): Rust accepted {} as {out}", v.model, v.kind, v.why, v.json)),
                Err(e) if v.valid => problems.push(format!("{name} {} {} ({}): Rust rejected {}: {e}", v.model, v.kind, v.why, v.json)),
                Err(_) => {}
            }
        }
        let text = serde_json::to_string_pretty(&vs).unwrap() + "\n";
        let path = root.join(format!("{name}.json"));
        if bless {
            std::fs::write(&path, &text).unwrap();
        } else {
            let stored = std::fs::read_to_string(&path).unwrap_or_default();
            if stored != text {
                problems.push(format!("{} is stale: run SSOT_BLESS=1 cargo test -p ssot-compile-tests --test wire", path.display()));
            }
        }
    }
    assert!(total > 1000, "only {total} vectors");
    assert!(problems.is_empty(), "{} problems:\n{}", problems.len(), problems.join("\n"));
}
