//! The `ssot` binary: exit codes, located errors, change reporting.

use std::path::{Path, PathBuf};
use std::process::Command;

fn ssot(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_ssot")).args(args).output().unwrap();
    (out.status.code().unwrap_or(-1), String::from_utf8_lossy(&out.stdout).into_owned(), String::from_utf8_lossy(&out.stderr).into_owned())
}

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_path_buf()
}

#[test]
fn check_accepts_the_example_and_rejects_bad_input_with_locations() {
    let blog = repo().join("examples/blog");
    let (code, _, err) = ssot(&["check", "--root", blog.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("4 models"), "{err}");

    let dir = std::env::temp_dir().join(format!("ssot-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let bad = dir.join("schema.prisma");
    std::fs::write(
        &bad,
        "datasource db {\n  provider = \"sqlite\"\n}\nmodel A {\n  id Int @id\n  /// @validate(emial)\n  b String\n  c Strin\n}\n",
    )
    .unwrap();
    let (code, _, err) = ssot(&["check", "--root", dir.to_str().unwrap()]);
    assert_eq!(code, 1);
    assert!(err.contains("schema.prisma:8:5"), "Prisma's error, located: {err}");
    let (code, _, err) = ssot(&["generate", "--root", dir.to_str().unwrap(), "--rust-out", dir.join("x.rs").to_str().unwrap()]);
    assert_eq!(code, 1);
    assert!(!dir.join("x.rs").exists(), "generate wrote output for a bad schema: {err}");

    let (code, _, err) = ssot(&["check", "--root", dir.join("nowhere").to_str().unwrap()]);
    assert_eq!(code, 1);
    assert!(err.contains("no Prisma schema found"), "{err}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn generate_reports_changes_and_check_detects_stale_output() {
    let dir = std::env::temp_dir().join(format!("ssot-cli-gen-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::copy(repo().join("tests/fixtures/sqlite/schema.prisma"), dir.join("schema.prisma")).unwrap();
    let root = dir.to_str().unwrap();
    let out = dir.join("gen/ssot.rs");
    let out_s = out.to_str().unwrap();
    let (code, _, err) = ssot(&["generate", "--root", root, "--rust-out", out_s]);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("created"), "{err}");
    let (_, _, err) = ssot(&["generate", "--root", root, "--rust-out", out_s]);
    assert!(err.contains("unchanged"), "{err}");
    let (code, _, _) = ssot(&["generate", "--root", root, "--rust-out", out_s, "--check"]);
    assert_eq!(code, 0);
    std::fs::write(&out, "stale").unwrap();
    let (code, _, err) = ssot(&["generate", "--root", root, "--rust-out", out_s, "--check"]);
    assert_eq!(code, 1, "{err}");
    assert_eq!(std::fs::read_to_string(&out).unwrap(), "stale", "--check must not write");
    // The TypeScript tree: counts, no rewrite when unchanged, removal of files no longer made.
    let ts = dir.join("web");
    let ts_s = ts.to_str().unwrap();
    let (code, _, err) = ssot(&["generate", "--root", root, "--ts-out", ts_s]);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains(" created, 0 updated, 0 removed, 0 unchanged"), "{err}");
    assert!(ts.join("src/validators/note.ts").is_file() && ts.join(".ssot/manifest.json").is_file());
    std::fs::write(ts.join("src/mine.ts"), "export const mine = 1;\n").unwrap();
    let (_, _, err) = ssot(&["generate", "--root", root, "--ts-out", ts_s]);
    assert!(err.contains("0 created, 0 updated, 0 removed"), "{err}");
    let schema = std::fs::read_to_string(dir.join("schema.prisma")).unwrap();
    let without_author = schema.replace("  author    Author?  @relation(fields: [authorId], references: [id], onDelete: SetNull)\n", "");
    let start = without_author.find("model Author").unwrap();
    std::fs::write(dir.join("schema.prisma"), &without_author[..start]).unwrap();
    let (code, _, err) = ssot(&["generate", "--root", root, "--ts-out", ts_s, "--check"]);
    assert_eq!(code, 1, "--check must fail on a stale tree: {err}");
    let (code, _, err) = ssot(&["generate", "--root", root, "--ts-out", ts_s]);
    assert_eq!(code, 0, "{err}");
    // Author's contract, validator, SDK client and hooks.
    assert!(err.contains("4 removed"), "{err}");
    assert!(!ts.join("src/validators/author.ts").exists(), "a file no longer generated was kept");
    assert!(!ts.join("src/hooks/author.ts").exists(), "a file no longer generated was kept");
    assert!(ts.join("src/mine.ts").exists(), "a user's file was removed");
    let (code, _, _) = ssot(&["generate", "--root", root, "--ts-out", ts_s, "--check"]);
    assert_eq!(code, 0);

    let (code, ir, _) = ssot(&["generate", "--root", root, "--ir", "--no-ts"]);
    assert_eq!(code, 0);
    let ir: serde_json::Value = serde_json::from_str(&ir).unwrap();
    assert_eq!(ir["provider"], "sqlite");
    std::fs::remove_dir_all(&dir).unwrap();
}
