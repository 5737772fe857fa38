//! Error messages of the `ssot!` and `include_ssot!` macros, compared with `tests/ui/*.stderr`.
//! Re-bless with `TRYBUILD=overwrite cargo test -p ssot-macro-errors --test ui`.

use std::path::PathBuf;

/// trybuild compiles the cases in `<target>/tests/trybuild/ssot-macro-errors`, which is then their
/// CARGO_MANIFEST_DIR, so the schemas the cases name (`tests/ui/*.prisma`) are copied there,
/// wherever the target folder is (`CARGO_TARGET_DIR` included).
fn place_schemas() {
    let manifest = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = std::process::Command::new(cargo)
        .args(["metadata", "--format-version=1", "--no-deps", "--offline"])
        .current_dir(&manifest)
        .output()
        .expect("cargo metadata runs");
    assert!(out.status.success(), "cargo metadata: {}", String::from_utf8_lossy(&out.stderr));
    let meta: serde_json::Value = serde_json::from_slice(&out.stdout).expect("cargo metadata prints JSON");
    let target = PathBuf::from(meta["target_directory"].as_str().expect("a target_directory"));
    let dest = target.join("tests/trybuild/ssot-macro-errors/tests/ui");
    std::fs::create_dir_all(&dest).unwrap();
    for e in std::fs::read_dir(manifest.join("tests/ui")).unwrap() {
        let p = e.unwrap().path();
        if p.extension().is_some_and(|x| x == "prisma") {
            std::fs::copy(&p, dest.join(p.file_name().unwrap())).unwrap();
        }
    }
}

#[test]
fn ui() {
    place_schemas();
    let t = trybuild::TestCases::new();
    t.pass("tests/ui/pass_*.rs");
    t.compile_fail("tests/ui/fail_*.rs");
}
