//! The plugin trait from a plugin author's side: a project's own plugins registered beside the
//! built-ins, each misuse one located error, and what an active plugin contributes landing in
//! the generated tree in a deterministic order.

use ssot_core::config::{Config, FileConfig};
use ssot_core::diagnostics::Sources;
use ssot_core::ir::{Ir, Model};
use ssot_core::plugin::{Contribution, EnvVar, OptionSpec, OptionType, Options, Plugin, PluginCx, Route, ServerModule};
use std::path::{Path, PathBuf};

const SCHEMA: &str = r#"datasource db {
  provider = "postgresql"
}

/// @@service(audit, table: "post_audit")
model Post {
  id    Int    @id
  title String
}

/// @@service(audit, table: "tag_audit")
model Tag {
  id   String @id
  name String
}
"#;

/// A plugin that serves models: one required option, a route per model, a file, an env var.
struct Audit {
    /// The module it writes (to test a plugin that writes where it may not).
    file: &'static str,
    requires: &'static [&'static str],
}

const AUDIT_MODEL: &[OptionSpec] = &[
    OptionSpec::required("table", OptionType::String, "where the audit rows go"),
    OptionSpec::optional("events", OptionType::OneOf(&["all", "deletes"]), "what is recorded"),
];

impl Plugin for Audit {
    fn name(&self) -> &str {
        "audit"
    }
    fn model_options(&self) -> &[OptionSpec] {
        AUDIT_MODEL
    }
    fn requires(&self) -> &[&str] {
        self.requires
    }
    fn check_model(&self, _ir: &Ir, model: &Model, _options: &Options) -> Result<(), String> {
        if model.id_fields().len() == 1 { Ok(()) } else { Err("it needs a single id field".into()) }
    }
    fn routes(&self, cx: &PluginCx) -> Vec<Route> {
        cx.models
            .iter()
            .map(|(m, _)| Route { method: "GET", path: format!("/api/{}/:id/audit", ssot_core::names::model_path(m)) })
            .collect()
    }
    fn generate(&self, cx: &PluginCx) -> Contribution {
        let mut c = Contribution::default();
        let tables: Vec<String> = cx.models.iter().map(|(m, o)| format!("{}={}", m.name, o["table"].as_str().unwrap())).collect();
        c.files.insert(PathBuf::from(self.file), format!("// audit: {}\nexport const x = 1;\n", tables.join(", ")));
        c.server_module = Some(ServerModule { path: "plugins/audit".into(), options: serde_json::json!({ "tables": tables }) });
        c.dependencies.insert("left-pad".into(), "1.3.0".into());
        c.env.push(EnvVar { name: "AUDIT_SINK".into(), doc: "Where audit rows are shipped.".into(), example: "stdout".into() });
        c
    }
}

/// A configured-only plugin with a route that may collide.
struct Pinger {
    name: &'static str,
    path: &'static str,
    conflicts: &'static [&'static str],
}

impl Plugin for Pinger {
    fn name(&self) -> &str {
        self.name
    }
    fn options(&self) -> &[OptionSpec] {
        const OPTIONS: &[OptionSpec] = &[OptionSpec::optional("interval", OptionType::Int, "seconds between pings")];
        OPTIONS
    }
    fn conflicts(&self) -> &[&str] {
        self.conflicts
    }
    fn routes(&self, _cx: &PluginCx) -> Vec<Route> {
        vec![Route { method: "GET", path: self.path.into() }]
    }
    fn generate(&self, _cx: &PluginCx) -> Contribution {
        let mut c = Contribution::default();
        c.files.insert(format!("src/server/plugins/{}.ts", self.name).into(), "export const y = 2;\n".into());
        c.server_module = Some(ServerModule { path: format!("plugins/{}", self.name), options: serde_json::json!({}) });
        c
    }
}

fn audit() -> Audit {
    Audit { file: "src/server/plugins/audit.ts", requires: &[] }
}

/// Registers a plugin on a config.
type Register = Box<dyn FnOnce(&mut Config)>;

fn config(toml: &str, plugins: Vec<Register>) -> Config {
    let mut config = FileConfig::parse(toml).unwrap().resolve(Some((PathBuf::from("ssot.toml"), toml.to_owned()))).unwrap();
    for p in plugins {
        p(&mut config);
    }
    config
}

fn errors(schema: &str, config: &Config) -> String {
    let mut sources = Sources::new();
    sources.add("schema.prisma", schema);
    match ssot_core::analyze(sources, config, Path::new("")) {
        Ok(_) => String::new(),
        Err(e) => e.to_string(),
    }
}

fn with<P: Plugin + 'static>(p: P) -> Register {
    Box::new(move |c: &mut Config| c.plugins.push(p))
}

#[test]
fn an_unknown_plugin_is_an_error_until_it_is_registered() {
    let plain = config("", vec![]);
    let out = errors(SCHEMA, &plain);
    assert!(out.contains("unknown plugin `audit`") && out.contains("schema.prisma:5:15"), "{out}");
    assert_eq!(errors(SCHEMA, &config("", vec![with(audit())])), "");
}

#[test]
fn option_mistakes_are_located_at_the_annotation() {
    let schema = SCHEMA
        .replace(r#"@@service(audit, table: "post_audit")"#, r#"@@service(audit, tabel: "x", events: "some")"#)
        .replace(r#"@@service(audit, table: "tag_audit")"#, r#"@@service(audit, table: 3)"#);
    let out = errors(&schema, &config("", vec![with(audit())]));
    for want in [
        "unknown option `tabel` in @@service(audit) on `Post`",
        "did you mean `table`?",
        "`events` in @@service(audit) on `Post` must be one of `all`, `deletes`, found \"some\"",
        "@@service(audit) on `Post` needs `table`",
        "`table` in @@service(audit) on `Tag` must be a string, found 3",
        "schema.prisma:5:22",
    ] {
        assert!(out.contains(want), "missing {want:?} in\n{out}");
    }
    assert!(out.contains("aborting due to 4 previous errors"), "{out}");
}

#[test]
fn a_model_the_plugin_cannot_serve_and_a_plugin_named_twice() {
    let schema = format!(
        "{SCHEMA}\n/// @@service(audit, table: \"a\")\n/// @@service(audit, table: \"b\")\nmodel Pair {{\n  a Int\n  b Int\n  @@id([a, b])\n}}\n"
    );
    let out = errors(&schema, &config("", vec![with(audit())]));
    assert!(out.contains("`Pair` names the `audit` plugin twice"), "{out}");
    assert!(out.contains("the `audit` plugin cannot serve `Pair`: it needs a single id field"), "{out}");
}

#[test]
fn two_plugins_on_one_route_requirements_and_conflicts() {
    let cfg = config(
        "[plugins.ping]\ninterval = 5\n\n[plugins.pong]\n",
        vec![
            with(Pinger { name: "ping", path: "/ping", conflicts: &[] }),
            with(Pinger { name: "pong", path: "/ping", conflicts: &["ping"] }),
            with(Audit { file: "src/server/plugins/audit.ts", requires: &["mailer"] }),
        ],
    );
    let out = errors(SCHEMA, &cfg);
    assert!(out.contains("the `pong` plugin's route GET /ping is also served by the `ping` plugin"), "{out}");
    assert!(out.contains("ssot.toml:4:1"), "the second plugin's table: {out}");
    assert!(out.contains("the `audit` plugin requires the `mailer` plugin"), "{out}");
    assert!(out.contains("the `ping` and `pong` plugins cannot be used together"), "{out}");
}

#[test]
fn a_route_of_the_api_and_a_file_outside_the_plugins_folders() {
    let cfg = config(
        "[plugins.ping]\n",
        vec![
            with(Pinger { name: "ping", path: "/api/posts/:postId", conflicts: &[] }),
            with(Audit { file: "src/index.ts", requires: &[] }),
        ],
    );
    let out = errors(SCHEMA, &cfg);
    assert!(out.contains("the `ping` plugin's route GET /api/posts/:postId is also served by the API"), "{out}");
    assert!(out.contains("the `audit` plugin writes src/index.ts, outside a `plugins/` folder of the tree"), "{out}");
}

#[test]
fn a_plugin_may_not_reuse_a_built_in_name_or_have_a_bad_one() {
    let cfg = config(
        "",
        vec![
            with(Pinger { name: "monitoring", path: "/x", conflicts: &[] }),
            with(Pinger { name: "Bad-Name", path: "/y", conflicts: &[] }),
        ],
    );
    let out = errors(
        SCHEMA.replace("@@service(audit, table: \"post_audit\")", "").replace("@@service(audit, table: \"tag_audit\")", "").as_str(),
        &cfg,
    );
    assert!(out.contains("two plugins are named `monitoring`"), "{out}");
    assert!(out.contains("`Bad-Name` cannot name a plugin"), "{out}");
}

#[test]
fn contributions_land_in_the_tree_in_dependency_order() {
    let cfg = config(
        "[plugins.ping]\n\n[plugins.monitoring]\npath = \"/stats\"\n",
        vec![
            with(Audit { file: "src/server/plugins/audit.ts", requires: &["ping"] }),
            with(Pinger { name: "ping", path: "/ping", conflicts: &[] }),
        ],
    );
    let mut sources = Sources::new();
    sources.add("schema.prisma", SCHEMA);
    let loaded = ssot_core::analyze(sources, &cfg, Path::new("")).unwrap();
    let files = ssot_core::generate::ts::generate(&loaded.ir, &cfg);
    let text = |p: &str| files.get(Path::new(p)).unwrap_or_else(|| panic!("no {p}")).clone();
    assert_eq!(text("src/server/plugins/audit.ts"), "// audit: Post=post_audit, Tag=tag_audit\nexport const x = 1;\n");
    let index = text("src/server/plugins.ts");
    // `audit` requires `ping`: ping first, then audit, then monitoring (by name), then the user's.
    let at = |s: &str| index.find(s).unwrap_or_else(|| panic!("no {s} in\n{index}"));
    assert!(
        at("pingPlugin.create({})") < at("auditPlugin.create(") && at("auditPlugin.create(") < at("monitoringPlugin.create("),
        "{index}"
    );
    assert!(index.contains(r#"auditPlugin.create({ tables: ["Post=post_audit", "Tag=tag_audit"] })"#), "{index}");
    let flat: String = index.split_whitespace().collect();
    assert!(flat.contains(r#"monitoringPlugin.create({path:"/stats",processMetrics:true,traces:false,usageEvents:false"#), "{index}");
    assert!(index.contains("...custom()"), "{index}");
    assert!(text("package.json").contains("\"left-pad\": \"1.3.0\""));
    assert!(text("package.json").contains("\"prom-client\""));
    let env = text(".env.template");
    assert!(env.contains("# Plugin `audit`.\n# Where audit rows are shipped.\nAUDIT_SINK=stdout\n"), "{env}");
    assert!(env.contains("METRICS_TOKEN="), "{env}");
    // Without any plugin: no plugin module, no dependency, the user's list only.
    let bare = Config::default();
    let mut sources = Sources::new();
    sources.add("schema.prisma", "datasource db {\n  provider = \"sqlite\"\n}\nmodel A {\n  id Int @id\n}\n");
    let loaded = ssot_core::analyze(sources, &bare, Path::new("")).unwrap();
    let files = ssot_core::generate::ts::generate(&loaded.ir, &bare);
    assert!(files.keys().all(|p| !p.starts_with("src/server/plugins/")));
    assert!(!files[Path::new("package.json")].contains("prom-client"));
    assert!(files[Path::new("src/server/plugins.ts")].contains("return [...custom()];"));
}

#[test]
fn external_writes_needs_postgresql_and_realtime_models_and_names_mapped_tables() {
    let cfg = config("[plugins.external_writes]\ninstall = false\n", vec![]);
    // SCHEMA has no @@realtime model; SQLite has no LISTEN/NOTIFY. Each: one error at the table.
    let out = errors(SCHEMA, &cfg);
    assert!(
        out.contains("[plugins.external_writes]: external_writes reports writes to `@@realtime` models") && out.contains("ssot.toml:1:1"),
        "{out}"
    );
    let sqlite = "datasource db {\n  provider = \"sqlite\"\n}\n/// @@realtime\nmodel A {\n  id Int @id\n}\n";
    let out = errors(sqlite, &cfg);
    assert!(out.contains("external_writes needs PostgreSQL (LISTEN/NOTIFY); the schema's provider is `sqlite`"), "{out}");
    assert_eq!(errors(sqlite, &config("", vec![])), "");

    let schema = "datasource db {\n  provider = \"postgresql\"\n  schemas = [\"app\"]\n}\n/// @@realtime\nmodel Entry {\n  tenant String @map(\"tenant_id\")\n  no     Int\n  @@id([tenant, no])\n  @@map(\"entries\")\n  @@schema(\"app\")\n}\n";
    let mut sources = Sources::new();
    sources.add("schema.prisma", schema);
    let loaded = ssot_core::analyze(sources, &cfg, Path::new("")).unwrap();
    let files = ssot_core::generate::ts::generate(&loaded.ir, &cfg);
    let sql = &files[Path::new("src/server/plugins/external-writes.sql")];
    assert!(sql.contains("DROP TRIGGER IF EXISTS ssot_changes ON \"app\".\"entries\";"), "{sql}");
    assert!(sql.contains("FOR EACH ROW EXECUTE FUNCTION ssot_changes('Entry', 'tenant_id', 'no');"), "{sql}");
    let index = &files[Path::new("src/server/plugins.ts")];
    assert!(index.contains("externalWritesPlugin.create({"), "{index}");
    assert!(index.contains("install: false"), "{index}");
    assert!(files[Path::new("package.json")].contains("\"pg\": \"8.23.1\""));
    assert!(files[Path::new(".env.template")].contains("EXTERNAL_WRITES_URL="));
}
