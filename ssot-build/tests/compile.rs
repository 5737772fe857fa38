//! `Config::compile` as build scripts use it: writes once, then never again for the same input.

use std::path::{Path, PathBuf};
use std::time::SystemTime;

fn temp(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("ssot-build-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures").join(name)
}

fn list(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() { out.extend(list(&p)) } else { out.push(p) }
    }
    out.sort();
    out
}

fn mtime(p: &Path) -> SystemTime {
    std::fs::metadata(p).unwrap().modified().unwrap()
}

#[test]
fn regenerating_an_unchanged_schema_writes_nothing() {
    let dir = temp("noop");
    std::fs::copy(fixture("sqlite/schema.prisma"), dir.join("schema.prisma")).unwrap();
    let out = dir.join("out");
    let build =
        || ssot_build::Config::new().schema(dir.join("schema.prisma")).out_dir(&out).emit_rerun_if_changed(false).compile().unwrap();
    let file = build();
    assert_eq!(file, out.join("ssot.rs"));
    let first = mtime(&file);
    let text = std::fs::read_to_string(&file).unwrap();
    let ts_files = list(&out.join("ts"));
    assert!(ts_files.len() > 20, "the TypeScript tree is written to $OUT_DIR/ts: {ts_files:?}");
    let ts_times: Vec<_> = ts_files.iter().map(|p| mtime(p)).collect();
    std::thread::sleep(std::time::Duration::from_millis(20));
    build();
    assert_eq!(mtime(&file), first, "an unchanged schema rewrote ssot.rs");
    assert_eq!(ts_files.iter().map(|p| mtime(p)).collect::<Vec<_>>(), ts_times, "an unchanged schema rewrote TypeScript files");
    assert_eq!(std::fs::read_dir(&out).unwrap().count(), 2, "stray files in the output folder");

    // A real change is written.
    let schema = std::fs::read_to_string(dir.join("schema.prisma")).unwrap();
    std::fs::write(dir.join("schema.prisma"), schema.replace("  pinned    Boolean", "  /// Pinned notes come first.\n  pinned    Boolean"))
        .unwrap();
    build();
    assert_ne!(std::fs::read_to_string(&file).unwrap(), text);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn errors_are_located_and_nothing_is_written() {
    let dir = temp("error");
    std::fs::write(dir.join("schema.prisma"), "datasource db {\n  provider = \"sqlite\"\n}\n/// @hiden\nmodel A {\n  id Int @id\n}\n")
        .unwrap();
    let out = dir.join("out");
    let err = ssot_build::Config::new().schema(dir.join("schema.prisma")).out_dir(&out).emit_rerun_if_changed(false).compile().unwrap_err();
    let text = format!("{err:?}");
    assert!(text.contains("schema.prisma:4:5"), "{text}");
    assert!(text.contains("unknown annotation `@hiden`"), "{text}");
    assert!(!out.exists(), "a failed build wrote output");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn settings_come_from_ssot_toml_and_the_builder_overrides_them() {
    let dir = temp("config");
    std::fs::create_dir_all(dir.join("prisma")).unwrap();
    std::fs::copy(fixture("annotations/schema.prisma"), dir.join("prisma/schema.prisma")).unwrap();
    std::fs::write(dir.join("ssot.toml"), "schema = \"prisma/schema.prisma\"\n[auth.claims]\nid = \"String\"\nrole = \"Role\"\ntenantId = \"Int\"\nteams = \"String[]\"\nlevel = \"Float\"\n").unwrap();
    let out = dir.join("out");
    // The schema path comes from ssot.toml (found in the root, as CARGO_MANIFEST_DIR would be).
    let project = ssot_core::Project::discover(&dir, None, None).unwrap();
    assert_eq!(project.schema, dir.join("prisma/schema.prisma"));
    let file = ssot_build::Config::new()
        .config_file(dir.join("ssot.toml"))
        .schema(dir.join("prisma/schema.prisma"))
        .out_dir(&out)
        .emit_rerun_if_changed(false)
        .compile()
        .unwrap();
    let text = std::fs::read_to_string(file).unwrap();
    assert!(text.contains("pub tenant_id: i32"), "claims from ssot.toml are in Principal");
    std::fs::remove_dir_all(&dir).unwrap();
}
