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
    assert!(err.contains("6 models"), "{err}");

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
    assert!(err.contains("unchanged: same schema, settings and generator"), "the no-op run: {err}");
    let schema = std::fs::read_to_string(dir.join("schema.prisma")).unwrap();
    let without_author = schema.replace("  author    Author?  @relation(fields: [authorId], references: [id], onDelete: SetNull)\n", "");
    let start = without_author.find("model Author").unwrap();
    std::fs::write(dir.join("schema.prisma"), &without_author[..start]).unwrap();
    let (code, _, err) = ssot(&["generate", "--root", root, "--ts-out", ts_s, "--check"]);
    assert_eq!(code, 1, "--check must fail on a stale tree: {err}");
    let (code, _, err) = ssot(&["generate", "--root", root, "--ts-out", ts_s]);
    assert_eq!(code, 0, "{err}");
    // Author's contract, validators (the model's and its inputs'), SDK client and hooks, and its
    // admin pages and binding.
    assert!(err.contains("9 removed"), "{err}");
    assert!(!ts.join("app/admin/authors/page.tsx").exists(), "a page no longer generated was kept");
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

fn temp(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("ssot-cli-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn init_adopts_a_prisma_project_wherever_prisma_finds_its_schema() {
    let schema = std::fs::read_to_string(repo().join("tests/fixtures/sqlite/schema.prisma")).unwrap();
    // The default location, package.json's `prisma.schema`, and prisma.config.ts.
    for (name, path, extra) in [
        ("default", "prisma/schema.prisma", None),
        ("package-json", "db/main.prisma", Some(("package.json", r#"{ "name": "app", "prisma": { "schema": "db/main.prisma" } }"#))),
        (
            "prisma-config",
            "database/schema.prisma",
            Some((
                "prisma.config.ts",
                "import { defineConfig } from \"prisma/config\";\nexport default defineConfig({\n  schema: \"database/schema.prisma\",\n});\n",
            )),
        ),
    ] {
        let dir = temp(&format!("init-{name}"));
        std::fs::create_dir_all(dir.join(path).parent().unwrap()).unwrap();
        std::fs::write(dir.join(path), &schema).unwrap();
        if let Some((file, text)) = extra {
            std::fs::write(dir.join(file), text).unwrap();
        }
        let root = dir.to_str().unwrap();
        let (code, _, err) = ssot(&["init", "--root", root]);
        assert_eq!(code, 0, "{name}: {err}");
        assert!(err.contains(&format!("found the Prisma schema {path}")) && err.contains("Next:"), "{name}: {err}");
        let config = std::fs::read_to_string(dir.join("ssot.toml")).unwrap();
        assert!(config.contains(&format!("schema = \"{path}\"")), "{name}: {config}");
        // The written config works as it is, and a second init changes nothing.
        let (code, _, err) = ssot(&["generate", "--root", root]);
        assert_eq!(code, 0, "{name}: {err}");
        assert!(dir.join("generated/src/index.ts").exists(), "{name}: {err}");
        let (code, _, err) = ssot(&["init", "--root", root]);
        assert_eq!((code, std::fs::read_to_string(dir.join("ssot.toml")).unwrap()), (0, config), "{err}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}

#[test]
fn init_scaffolds_an_empty_folder_and_refuses_a_folder_without_a_schema() {
    let dir = temp("init-empty");
    let root = dir.to_str().unwrap();
    let (code, _, err) = ssot(&["init", "--root", root]);
    assert_eq!(code, 0, "{err}");
    for f in ["schema.prisma", "ssot.toml", "api/Cargo.toml", "api/build.rs", "api/src/main.rs", "web/package.json", "README.md"] {
        assert!(dir.join(f).is_file(), "{f} missing: {err}");
    }
    let (code, _, err) = ssot(&["generate", "--root", root]);
    assert_eq!(code, 0, "the scaffold generates: {err}");
    assert!(dir.join("web/src/generated/src/contracts/note.ts").exists(), "{err}");
    let build = std::fs::read_to_string(dir.join("api/build.rs")).unwrap();
    assert!(build.contains("ssot_build::Config::new().schema(\"../schema.prisma\")"), "{build}");
    // The crate's manifest resolves: `ssot` and `ssot-build` come from this checkout (they are not
    // published), every other dependency from the registry index cargo already has.
    let lock = std::process::Command::new(env!("CARGO"))
        .args(["generate-lockfile", "--offline", "--manifest-path"])
        .arg(dir.join("api/Cargo.toml"))
        .output()
        .unwrap();
    assert!(lock.status.success(), "cargo generate-lockfile: {}", String::from_utf8_lossy(&lock.stderr));
    let lock = std::fs::read_to_string(dir.join("api/Cargo.lock")).unwrap();
    let entry = lock.split("[[package]]").find(|p| p.contains("name = \"ssot\"\n")).expect("ssot in the lock file");
    assert!(!entry.contains("source ="), "ssot should be a path dependency: {entry}");
    let manifest = std::fs::read_to_string(dir.join("api/Cargo.toml")).unwrap();
    let checkout = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    assert!(manifest.contains(&format!("ssot = {{ path = \"{}\" }}", checkout.join("ssot").display())), "{manifest}");
    std::fs::remove_dir_all(&dir).unwrap();

    let dir = temp("init-other");
    std::fs::write(dir.join("notes.txt"), "not a Prisma project").unwrap();
    let (code, _, err) = ssot(&["init", "--root", dir.to_str().unwrap()]);
    assert_eq!(code, 1);
    assert!(err.contains("no Prisma schema found"), "{err}");
    assert!(!dir.join("ssot.toml").exists());
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Lines of a running `ssot watch`, read on a thread.
struct Watch {
    child: std::process::Child,
    lines: std::sync::mpsc::Receiver<String>,
}

impl Watch {
    fn start(args: &[&str]) -> Watch {
        use std::io::BufRead;
        let mut child =
            Command::new(env!("CARGO_BIN_EXE_ssot")).arg("watch").args(args).stderr(std::process::Stdio::piped()).spawn().unwrap();
        let stderr = child.stderr.take().unwrap();
        let (tx, lines) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in std::io::BufReader::new(stderr).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        Watch { child, lines }
    }

    /// Waits (at most 10 s) for a `[watch]` line, returning it with the lines before it.
    fn next_run(&self) -> String {
        let mut seen = String::new();
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while let Ok(line) = self.lines.recv_timeout(deadline.saturating_duration_since(std::time::Instant::now())) {
            seen.push_str(&line);
            seen.push('\n');
            if line.starts_with("[watch]") {
                return seen;
            }
        }
        panic!("no run of ssot watch within 10 s; saw:\n{seen}");
    }
}

impl Drop for Watch {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn watch_regenerates_on_change_and_writes_nothing_while_the_schema_is_invalid() {
    let dir = temp("watch");
    let schema = dir.join("schema.prisma");
    std::fs::copy(repo().join("tests/fixtures/sqlite/schema.prisma"), &schema).unwrap();
    let out = dir.join("out.rs");
    let w =
        Watch::start(&["--root", dir.to_str().unwrap(), "--rust-out", out.to_str().unwrap(), "--ts-out", dir.join("ts").to_str().unwrap()]);
    let first = w.next_run();
    assert!(first.contains("rust:") && first.contains("created") && first.contains(" ms)"), "{first}");
    assert!(out.exists());

    // A new model: one line that says what changed.
    let valid = std::fs::read_to_string(&schema).unwrap() + "\nmodel Extra {\n  id Int @id\n}\n";
    std::fs::write(&schema, &valid).unwrap();
    let run = w.next_run();
    assert!(run.contains("rust:") && run.contains("updated") && run.contains("created"), "{run}");
    assert!(std::fs::read_to_string(&out).unwrap().contains("pub struct Extra"));
    assert!(dir.join("ts/src/contracts/extra.ts").exists());

    // A broken schema: the error with its location, the watch goes on, nothing is written.
    let before = std::fs::read_to_string(&out).unwrap();
    std::fs::write(&schema, valid.replace("model Extra {", "model Extra {\n  broken Strin")).unwrap();
    let run = w.next_run();
    assert!(run.contains("schema.prisma:") && run.contains("nothing written"), "{run}");
    assert_eq!(std::fs::read_to_string(&out).unwrap(), before);

    // Fixed again, as an editor saves: a new file renamed over the old one.
    let tmp = dir.join("schema.prisma.tmp");
    std::fs::write(&tmp, valid.replace("model Extra {", "model Extra {\n  label String?")).unwrap();
    std::fs::rename(&tmp, &schema).unwrap();
    let run = w.next_run();
    assert!(run.contains("updated"), "{run}");
    assert!(std::fs::read_to_string(&out).unwrap().contains("pub label"));
    drop(w);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn an_unchanged_schema_is_skipped_but_outputs_edited_or_deleted_by_hand_are_restored() {
    let dir = temp("noop");
    std::fs::copy(repo().join("tests/fixtures/sqlite/schema.prisma"), dir.join("schema.prisma")).unwrap();
    let (root, ts, rs) = (dir.to_str().unwrap(), dir.join("ts"), dir.join("out.rs"));
    let args = ["generate", "--root", root, "--ts-out", ts.to_str().unwrap(), "--rust-out", rs.to_str().unwrap()];
    let (code, _, err) = ssot(&args);
    assert_eq!(code, 0, "{err}");
    let validator = ts.join("src/validators/note.ts");
    let original = std::fs::read_to_string(&validator).unwrap();
    let rust = std::fs::read_to_string(&rs).unwrap();
    let manifest = std::fs::read(ts.join(".ssot/manifest.json")).unwrap();

    // Nothing changed: decided without reading the schema, and nothing is written.
    let mtime = |p: &Path| std::fs::metadata(p).unwrap().modified().unwrap();
    let before = (mtime(&validator), mtime(&rs), mtime(&ts.join(".ssot/manifest.json")));
    let (_, _, err) = ssot(&args);
    assert!(err.contains("unchanged: same schema") && err.contains("rust:") && err.contains("unchanged"), "{err}");
    assert_eq!(before, (mtime(&validator), mtime(&rs), mtime(&ts.join(".ssot/manifest.json"))));

    // A generated file edited by hand, another deleted, the Rust file truncated: a full run
    // puts each back, and the run after it is a no-op again.
    std::fs::write(&validator, "// edited by hand\n").unwrap();
    std::fs::remove_file(ts.join("src/contracts/note.ts")).unwrap();
    std::fs::write(&rs, "").unwrap();
    let (code, _, err) = ssot(&args);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("1 created, 1 updated") && err.contains("rust:") && err.contains("updated"), "{err}");
    assert_eq!(std::fs::read_to_string(&validator).unwrap(), original);
    assert!(ts.join("src/contracts/note.ts").exists());
    assert_eq!(std::fs::read_to_string(&rs).unwrap(), rust);
    let (_, _, err) = ssot(&args);
    assert!(err.contains("unchanged: same schema"), "{err}");
    assert_eq!(std::fs::read(ts.join(".ssot/manifest.json")).unwrap().len(), manifest.len());

    // A changed schema or other settings: a full run.
    let (_, _, err) =
        ssot(&["generate", "--root", root, "--ts-out", ts.to_str().unwrap(), "--rust-out", rs.to_str().unwrap(), "--framework", "fastify"]);
    assert!(err.contains(" updated,"), "another framework is another stamp: {err}");
    let schema = std::fs::read_to_string(dir.join("schema.prisma")).unwrap();
    std::fs::write(dir.join("schema.prisma"), schema + "\nmodel Extra {\n  id Int @id\n}\n").unwrap();
    let (_, _, err) = ssot(&args);
    assert!(err.contains(" created,") && !err.contains("unchanged: same schema"), "{err}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn no_hooks_makes_a_backend_only_tree_and_no_ui_keeps_the_hooks() {
    let blog = repo().join("examples/blog");
    let out = temp("no-hooks");
    let ts = out.join("ts");
    let generate = |extra: &str| {
        let (code, _, err) = ssot(&["generate", "--root", blog.to_str().unwrap(), "--ts-out", ts.to_str().unwrap(), extra]);
        assert_eq!(code, 0, "{err}");
        std::fs::read_to_string(ts.join("package.json")).unwrap()
    };
    let full = generate("--framework=express");
    assert!(ts.join("src/hooks/post.ts").exists() && ts.join("app/admin/page.tsx").exists());
    assert!(full.contains("\"react\"") && full.contains("\"next\""), "{full}");
    let no_ui = generate("--no-ui");
    assert!(ts.join("src/hooks/post.ts").exists(), "--no-ui keeps the hooks");
    assert!(!ts.join("app/admin/page.tsx").exists() && !no_ui.contains("\"next\""), "{no_ui}");
    let backend = generate("--no-hooks");
    assert!(!ts.join("src/hooks/post.ts").exists() && !ts.join("src/hooks/index.ts").exists(), "--no-hooks leaves no hooks");
    assert!(!ts.join("app/admin/page.tsx").exists(), "and no UI (it is built on them)");
    assert!(!backend.contains("react") && !backend.contains("@tanstack"), "{backend}");
    assert!(ts.join("src/sdk/index.ts").exists() && ts.join("src/server/main.ts").exists());
    std::fs::remove_dir_all(&out).unwrap();
}
