//! The examples in `docs/*.md` are tested:
//! - every ```toml block must be a valid `ssot.toml`;
//! - every ```prisma block must be accepted (the file's first toml block is its config; a block
//!   without a datasource gets a PostgreSQL one, and the `Role` enum when it does not define it);
//! - every ```prisma,fails block must be rejected with each line of the ```text block after it.

mod common;

struct Block {
    info: String,
    text: String,
    line: usize,
}

fn blocks(md: &str) -> Vec<Block> {
    let mut out = Vec::new();
    let mut current: Option<Block> = None;
    for (i, line) in md.lines().enumerate() {
        match (&mut current, line.strip_prefix("```")) {
            (None, Some(info)) => current = Some(Block { info: info.trim().to_owned(), text: String::new(), line: i + 1 }),
            (Some(_), Some("")) => out.extend(current.take()),
            (Some(b), _) => {
                b.text.push_str(line);
                b.text.push('\n');
            }
            (None, None) => {}
        }
    }
    out
}

const ROLE: &str = "enum Role {\n  USER\n  EDITOR\n  ADMIN\n}\n";

fn complete(schema: &str) -> String {
    let mut s = String::new();
    if !schema.contains("datasource ") {
        s.push_str("datasource db {\n  provider = \"postgresql\"\n}\n");
    }
    if !schema.contains("enum Role ") {
        s.push_str(ROLE);
    }
    s.push_str(schema);
    s
}

#[test]
fn examples_in_docs_are_true() {
    let mut checked = 0;
    for file in common::files_with_ext("docs", "md") {
        let md = std::fs::read_to_string(&file).unwrap();
        let name = file.file_name().unwrap().to_string_lossy().into_owned();
        let bs = blocks(&md);
        let config = bs.iter().find(|b| b.info == "toml").map(|b| b.text.clone());
        for (i, b) in bs.iter().enumerate() {
            let at = format!("{name}:{}", b.line);
            match b.info.as_str() {
                "toml" => {
                    ssot_core::config::FileConfig::parse(&b.text).unwrap_or_else(|e| panic!("{at}: invalid ssot.toml: {e}"));
                }
                "prisma" => {
                    if let Some(errors) = common::check_text(&complete(&b.text), config.as_deref()) {
                        panic!("{at}: example rejected:\n{errors}");
                    }
                }
                "prisma,fails" => {
                    let errors =
                        common::check_text(&complete(&b.text), config.as_deref()).unwrap_or_else(|| panic!("{at}: example accepted"));
                    let expected = bs.get(i + 1).filter(|n| n.info == "text").unwrap_or_else(|| panic!("{at}: no ```text block after it"));
                    for line in expected.text.lines().filter(|l| !l.trim().is_empty()) {
                        assert!(errors.contains(line), "{at}: expected `{line}` in\n{errors}");
                    }
                }
                _ => continue,
            }
            checked += 1;
        }
    }
    assert!(checked >= 8, "only {checked} examples checked");
}

/// The Rust examples of docs/rust-server.md are code CI builds and runs: every line of each
/// ```rust block is, in order, in examples/blog/src/main.rs or in the server's tests.
#[test]
fn rust_server_examples_are_built_code() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let md = std::fs::read_to_string(root.join("docs/rust-server.md")).unwrap();
    let sources = ["examples/blog/src/main.rs", "ssot/tests/server.rs"].map(|f| std::fs::read_to_string(root.join(f)).unwrap());
    let rust: Vec<Block> = blocks(&md).into_iter().filter(|b| b.info == "rust").collect();
    assert!(rust.len() >= 2, "the examples of docs/rust-server.md are gone");
    for block in rust {
        let lines: Vec<&str> = block.text.lines().map(str::trim).filter(|l| !l.is_empty()).collect();
        let found = sources.iter().any(|src| {
            let mut rest = src.lines().map(str::trim);
            lines.iter().all(|line| rest.any(|p| p == *line))
        });
        assert!(
            found,
            "docs/rust-server.md:{}: the example is not, line for line, in examples/blog/src/main.rs or ssot/tests/server.rs",
            block.line
        );
    }
}
