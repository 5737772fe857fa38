//! `ssot init`: the first ten minutes (SPEC section 11). In a Prisma project it finds the schema
//! where Prisma itself would (the usual paths, `package.json`'s `prisma.schema`, the `schema` of
//! `prisma.config.ts`), writes `ssot.toml` and prints the next steps. In an empty folder it
//! scaffolds the polyglot layout: a schema, a Rust API crate that generates its items in
//! `build.rs`, and a TypeScript web package the tree is generated into. It never overwrites a file.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

pub fn run(root: &Path) -> Result<ExitCode, Box<dyn std::error::Error>> {
    std::fs::create_dir_all(root).map_err(|e| format!("cannot create {}: {e}", root.display()))?;
    let config = root.join("ssot.toml");
    if config.exists() {
        eprintln!("{} exists; nothing to do. Run `ssot generate` (or `ssot watch`).", config.display());
        return Ok(ExitCode::SUCCESS);
    }
    match find_schema(root) {
        Some((schema, how)) => adopt(root, &schema, &how),
        None if is_empty(root)? => scaffold(root),
        None => Err(format!(
            "no Prisma schema found in {} (looked for schema.prisma, prisma/schema.prisma, prisma/schema/, package.json's \"prisma\": {{ \"schema\" }} and prisma.config.ts); run `ssot init` in an empty folder to start a new project",
            root.display()
        )
        .into()),
    }
}

/// The schema of a Prisma project, relative to `root`, and where it was found.
pub fn find_schema(root: &Path) -> Option<(String, String)> {
    for p in ["schema.prisma", "prisma/schema.prisma", "prisma/schema"] {
        if root.join(p).exists() {
            return Some((p.to_owned(), "the default location".to_owned()));
        }
    }
    if let Ok(text) = std::fs::read_to_string(root.join("package.json"))
        && let Ok(json) = serde_json::from_str::<serde_json::Value>(&text)
        && let Some(p) = json.pointer("/prisma/schema").and_then(|v| v.as_str())
        && root.join(p).exists()
    {
        return Some((p.to_owned(), "package.json (prisma.schema)".to_owned()));
    }
    for file in ["prisma.config.ts", "prisma.config.mts", "prisma.config.js"] {
        if let Ok(text) = std::fs::read_to_string(root.join(file))
            && let Some(p) = config_schema(&text)
            && root.join(&p).exists()
        {
            return Some((p, file.to_owned()));
        }
    }
    None
}

/// The `schema: "..."` property of a `prisma.config.ts` (a string literal; anything computed is
/// not followed).
fn config_schema(text: &str) -> Option<String> {
    let at = text.find("schema")?;
    let rest = text[at + "schema".len()..].trim_start().strip_prefix(':')?.trim_start();
    let quote = rest.chars().next().filter(|c| matches!(c, '"' | '\'' | '`'))?;
    let body = &rest[1..];
    Some(body[..body.find(quote)?].to_owned())
}

fn is_empty(root: &Path) -> Result<bool, Box<dyn std::error::Error>> {
    let mut entries = std::fs::read_dir(root).map_err(|e| format!("cannot read {}: {e}", root.display()))?;
    Ok(entries.all(|e| e.is_ok_and(|e| e.file_name().to_string_lossy().starts_with('.'))))
}

fn write_new(path: &Path, text: &str) -> Result<(), Box<dyn std::error::Error>> {
    if path.exists() {
        return Ok(());
    }
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    }
    std::fs::write(path, text).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    eprintln!("  created {}", path.display());
    Ok(())
}

fn adopt(root: &Path, schema: &str, how: &str) -> Result<ExitCode, Box<dyn std::error::Error>> {
    eprintln!("found the Prisma schema {schema} ({how})");
    // Check it now: a schema with errors is better reported before the next steps.
    let project = ssot_core::Project::discover(root, Some(Path::new(schema)), None)?;
    let loaded = project.load()?;
    let models = loaded.ir.api_models().count();
    write_new(
        &root.join("ssot.toml"),
        &format!(
            "# ssot settings (docs/config.md). Annotations go in the schema's /// comments.\nschema = {}\nts_out = \"generated\"\nframework = \"express\"        # or \"fastify\"\n\n[auth]\ndefault = [\"jwt\"]\n\n# What `auth.<claim>` means in policies; the types are checked against the schema.\n[auth.claims]\nid = \"String\"\nrole = \"String\"\n",
            toml_str(schema)
        ),
    )?;
    eprintln!(
        "\n{models} models read. Next:\n  ssot generate          # the TypeScript tree in ./generated (and --rust-out for Rust items)\n  ssot watch             # regenerate on every change of the schema or ssot.toml\n  cd generated && npm install && npm test\nAdd policies, validation and realtime as /// annotations (docs/annotations.md)."
    );
    Ok(ExitCode::SUCCESS)
}

fn toml_str(s: &str) -> String {
    format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
}

const SCHEMA: &str = r#"// The single source of truth: Rust items for api/, a TypeScript tree for web/.

generator client {
  provider = "prisma-client"
  output   = "../generated/prisma"
}

datasource db {
  provider = "sqlite"
}

/// A note anyone signed in may read; only its author may change it.
/// @@policy(read: "auth != null", create: "authorId == auth.id", update: "authorId == auth.id", delete: "authorId == auth.id")
model Note {
  id        Int      @id @default(autoincrement())
  /// @validate(minLength: 1, maxLength: 200)
  title     String
  body      String?
  authorId  Int
  createdAt DateTime @default(now())
}
"#;

/// How the scaffold's crate names `ssot` and `ssot-build`: the checkout this CLI was built from
/// when it is still there (`cargo install --path ssot-cli`), else the released version.
fn dependencies() -> (String, String) {
    let checkout = Path::new(env!("CARGO_MANIFEST_DIR")).parent().map(Path::to_path_buf);
    match checkout.filter(|c| c.join("ssot/Cargo.toml").is_file() && c.join("ssot-build/Cargo.toml").is_file()) {
        Some(c) => {
            let path = |name: &str| format!("{{ path = {} }}", toml_string(&c.join(name).to_string_lossy()));
            (path("ssot"), path("ssot-build"))
        }
        None => {
            let version = format!("\"{}\"", env!("CARGO_PKG_VERSION"));
            (version.clone(), version)
        }
    }
}

/// A TOML basic string.
fn toml_string(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn scaffold(root: &Path) -> Result<ExitCode, Box<dyn std::error::Error>> {
    eprintln!("an empty folder: scaffolding a Rust API and a TypeScript web package around one schema");
    let (ssot, ssot_build) = dependencies();
    let files: Vec<(PathBuf, String)> = vec![
        ("schema.prisma".into(), SCHEMA.to_owned()),
        (
            "ssot.toml".into(),
            "# ssot settings (docs/config.md), read by `ssot`, api/build.rs and the macros.\nschema = \"schema.prisma\"\nts_out = \"web/src/generated\"\nframework = \"express\"\n\n[auth.claims]\nid = \"Int\"\nrole = \"String\"\n".to_owned(),
        ),
        (
            "api/Cargo.toml".into(),
            format!(
                "[package]\nname = \"api\"\nversion = \"0.1.0\"\nedition = \"2024\"\n\n[dependencies]\nssot = {ssot}\nserde_json = \"1\"\n\n[build-dependencies]\nssot-build = {ssot_build}\n"
            ),
        ),
        (
            "api/build.rs".into(),
            "// Generates the Rust items of ../schema.prisma into $OUT_DIR/ssot.rs on every change.\nfn main() -> Result<(), Box<dyn std::error::Error>> {\n    ssot_build::Config::new().schema(\"../schema.prisma\").compile()?;\n    Ok(())\n}\n".to_owned(),
        ),
        (
            "api/src/main.rs".into(),
            "mod db {\n    ssot::include_ssot!();\n}\n\nfn main() {\n    let input: db::NoteCreateInput = serde_json::from_str(r#\"{\"title\": \"hello\", \"authorId\": 1}\"#).unwrap();\n    input.validate().expect(\"a valid note\");\n    println!(\"{} models from one schema\", db::MODELS.len());\n}\n".to_owned(),
        ),
        (
            "web/package.json".into(),
            "{\n  \"name\": \"web\",\n  \"private\": true,\n  \"type\": \"module\",\n  \"scripts\": {\n    \"generate\": \"ssot generate --root ..\"\n  }\n}\n".to_owned(),
        ),
        (
            "README.md".into(),
            "# One schema, two stacks\n\n- `schema.prisma`: models, policies, validation (`///` annotations).\n- `api/`: a Rust crate; `build.rs` generates its types and validators.\n- `web/src/generated/`: the TypeScript tree (`ssot generate`, or `ssot watch`).\n\n```sh\nssot generate            # the TypeScript tree into web/src/generated\n(cd api && cargo run)    # the Rust side\n```\n".to_owned(),
        ),
    ];
    for (path, text) in files {
        write_new(&root.join(path), &text)?;
    }
    eprintln!(
        "\nNext:\n  ssot generate            # the TypeScript tree into web/src/generated\n  ssot watch               # keep it in sync while you edit schema.prisma\n  cd api && cargo run      # the Rust side, from the same schema"
    );
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    #[test]
    fn reads_the_schema_of_a_prisma_config() {
        let ts = "import { defineConfig } from \"prisma/config\";\nexport default defineConfig({\n  schema: \"db/schema.prisma\",\n  migrations: { path: \"db/migrations\" },\n});\n";
        assert_eq!(super::config_schema(ts).as_deref(), Some("db/schema.prisma"));
        assert_eq!(super::config_schema("export default { schema: 'x/y' }").as_deref(), Some("x/y"));
        assert_eq!(super::config_schema("export default { schema: path.join('a') }"), None);
    }
}
