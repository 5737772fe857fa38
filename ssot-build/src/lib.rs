//! Generate Rust items (and the TypeScript tree) from a Prisma schema in `build.rs`.
//!
//! ```no_run
//! // build.rs
//! fn main() -> Result<(), Box<dyn std::error::Error>> {
//!     ssot_build::Config::new()
//!         .schema("schema.prisma")
//!         .compile()?; // writes $OUT_DIR/ssot.rs
//!     Ok(())
//! }
//! ```
//!
//! ```text
//! // src/main.rs
//! ssot::include_ssot!();
//! ```
//!
//! Relative paths resolve against `CARGO_MANIFEST_DIR`. Settings in `ssot.toml` (next to
//! `Cargo.toml`, or next to the schema) apply too; builder settings override them. The build
//! reruns when the schema or `ssot.toml` changes, and files are written only when their bytes
//! change. Schema and annotation errors are printed with `file:line:column`.

use std::path::{Path, PathBuf};

pub use ssot_core::Error;
pub use ssot_core::config::{Framework, ServerMode};
/// The plugin trait and its types, for plugins of your own ([`Config::plugin`]).
pub use ssot_core::plugin;

/// Builder for one generation run.
#[derive(Debug, Clone, Default)]
pub struct Config {
    schema: Option<PathBuf>,
    config_file: Option<PathBuf>,
    ts_out: Option<PathBuf>,
    out_dir: Option<PathBuf>,
    framework: Option<Framework>,
    mode: Option<ServerMode>,
    type_attributes: Vec<(String, String)>,
    field_attributes: Vec<(String, String)>,
    plugins: ssot_core::plugin::PluginSet,
    emit_rerun: bool,
}

impl Config {
    /// A builder with every setting from `ssot.toml` or its default.
    pub fn new() -> Self {
        Config { emit_rerun: true, ..Default::default() }
    }

    /// The schema file, or a folder of `.prisma` files.
    ///
    /// ```no_run
    /// ssot_build::Config::new().schema("prisma/schema").compile().unwrap();
    /// ```
    pub fn schema(&mut self, path: impl AsRef<Path>) -> &mut Self {
        self.schema = Some(path.as_ref().to_owned());
        self
    }

    /// An `ssot.toml` at another place than next to `Cargo.toml` or the schema.
    ///
    /// ```no_run
    /// ssot_build::Config::new().config_file("config/ssot.toml").compile().unwrap();
    /// ```
    pub fn config_file(&mut self, path: impl AsRef<Path>) -> &mut Self {
        self.config_file = Some(path.as_ref().to_owned());
        self
    }

    /// Where the TypeScript tree goes (default: `$OUT_DIR/ts`).
    ///
    /// ```no_run
    /// ssot_build::Config::new().ts_out("../web/src/generated").compile().unwrap();
    /// ```
    pub fn ts_out(&mut self, path: impl AsRef<Path>) -> &mut Self {
        self.ts_out = Some(path.as_ref().to_owned());
        self
    }

    /// Where `ssot.rs` goes (default: `$OUT_DIR`).
    ///
    /// ```no_run
    /// ssot_build::Config::new().out_dir("src/generated").compile().unwrap();
    /// ```
    pub fn out_dir(&mut self, path: impl AsRef<Path>) -> &mut Self {
        self.out_dir = Some(path.as_ref().to_owned());
        self
    }

    /// The server framework of the TypeScript tree.
    ///
    /// ```no_run
    /// ssot_build::Config::new().framework(ssot_build::Framework::Fastify).compile().unwrap();
    /// ```
    pub fn framework(&mut self, framework: Framework) -> &mut Self {
        self.framework = Some(framework);
        self
    }

    /// Registry (one generic engine) or controller (a file per model) server style.
    ///
    /// ```no_run
    /// ssot_build::Config::new().mode(ssot_build::ServerMode::Controller).compile().unwrap();
    /// ```
    pub fn mode(&mut self, mode: ServerMode) -> &mut Self {
        self.mode = Some(mode);
        self
    }

    /// Adds an attribute to generated types: `path` is a type's name (`Post`,
    /// `PostCreateInput`, `Role`, `Principal`) or `.` for every type. After the attributes of
    /// `[rust.type_attributes]` in `ssot.toml`; the schema check reports unknown names.
    ///
    /// ```no_run
    /// ssot_build::Config::new()
    ///     .type_attribute(".", "#[derive(utoipa::ToSchema)]")
    ///     .type_attribute("Post", "#[derive(sqlx::FromRow)]")
    ///     .compile()
    ///     .unwrap();
    /// ```
    pub fn type_attribute(&mut self, path: impl Into<String>, attribute: impl Into<String>) -> &mut Self {
        self.type_attributes.push((path.into(), attribute.into()));
        self
    }

    /// Adds an attribute to one field of a generated type: `path` is `Type.field`, with the
    /// field as the schema names it.
    ///
    /// ```no_run
    /// ssot_build::Config::new().field_attribute("Post.author", "#[sqlx(skip)]").compile().unwrap();
    /// ```
    pub fn field_attribute(&mut self, path: impl Into<String>, attribute: impl Into<String>) -> &mut Self {
        self.field_attributes.push((path.into(), attribute.into()));
        self
    }

    /// A plugin of your own beside the built-ins (docs/plugins.md): `@@service(<name>)` and
    /// `[plugins.<name>]` then configure it like a built-in, with the same checks.
    ///
    /// ```no_run
    /// use ssot_build::plugin::{Contribution, Plugin, PluginCx};
    ///
    /// struct Audit;
    /// impl Plugin for Audit {
    ///     fn name(&self) -> &str { "audit" }
    ///     fn generate(&self, _cx: &PluginCx) -> Contribution { Contribution::default() }
    /// }
    ///
    /// ssot_build::Config::new().plugin(Audit).compile().unwrap();
    /// ```
    pub fn plugin(&mut self, plugin: impl ssot_core::plugin::Plugin + 'static) -> &mut Self {
        self.plugins.push(plugin);
        self
    }

    /// Whether to print `cargo:rerun-if-changed` lines (default: yes). Turn off when calling
    /// from something other than a build script.
    ///
    /// ```no_run
    /// ssot_build::Config::new().emit_rerun_if_changed(false).out_dir("/tmp/out").compile().unwrap();
    /// ```
    pub fn emit_rerun_if_changed(&mut self, on: bool) -> &mut Self {
        self.emit_rerun = on;
        self
    }

    /// Validates the schema, writes `ssot.rs` into the output folder and the TypeScript tree
    /// into `ts_out`. Returns the path of the Rust file. Only files whose bytes change are
    /// written.
    ///
    /// In a build script (unless [`emit_rerun_if_changed(false)`](Self::emit_rerun_if_changed)),
    /// problems go to Cargo as one `error:` line each, with `file:line:column`, and the build
    /// script ends there: Cargo fails the build and prints each error once, without the build
    /// script's stdout and stderr around it. Warnings become `warning:` lines. Outside a build
    /// script the error is returned.
    pub fn compile(&self) -> Result<PathBuf, Error> {
        let in_build_script = self.emit_rerun && std::env::var_os("OUT_DIR").is_some();
        match self.run() {
            Err(e) if in_build_script => {
                match &e {
                    Error::Schema(report) => {
                        for (severity, line) in report.short_lines() {
                            let kind = if severity == ssot_core::diagnostics::Severity::Error { "error" } else { "warning" };
                            println!("cargo::{kind}={line}");
                        }
                    }
                    other => println!("cargo::error={}", other.to_string().replace('\n', " ")),
                }
                // Cargo fails a build whose script logged an error; exiting with success keeps
                // it from repeating the script's whole output under "failed to run".
                std::process::exit(0)
            }
            result => result,
        }
    }

    fn run(&self) -> Result<PathBuf, Error> {
        let root = std::env::var_os("CARGO_MANIFEST_DIR").map(PathBuf::from).unwrap_or_else(|| PathBuf::from("."));
        let mut project = ssot_core::Project::discover(&root, self.schema.as_deref(), self.config_file.as_deref())?;
        if self.emit_rerun {
            // Track inputs first, so a broken schema is retried once it is fixed.
            if let Ok(inputs) = project.inputs() {
                for p in inputs {
                    println!("cargo:rerun-if-changed={}", p.display());
                }
            }
            if project.schema.is_dir() {
                println!("cargo:rerun-if-changed={}", project.schema.display());
            }
        }
        if let Some(f) = self.framework {
            project.config.framework = f;
        }
        if let Some(m) = self.mode {
            project.config.mode = m;
        }
        fn added(list: &[(String, String)]) -> impl Iterator<Item = ssot_core::config::RustAttribute> + '_ {
            list.iter().map(|(path, a)| ssot_core::config::RustAttribute { path: path.clone(), attribute: a.trim().to_owned(), span: None })
        }
        project.config.type_attributes.extend(added(&self.type_attributes));
        project.config.field_attributes.extend(added(&self.field_attributes));
        project.config.plugins.0.extend(self.plugins.0.iter().cloned());
        let loaded = project.load()?;
        if let (Some(w), true) = (&loaded.warnings, self.emit_rerun) {
            for (_, line) in w.short_lines() {
                println!("cargo::warning={line}");
            }
        }
        let out_dir = match (&self.out_dir, std::env::var_os("OUT_DIR")) {
            (Some(d), _) => root.join(d),
            (None, Some(d)) => PathBuf::from(d),
            (None, None) => {
                return Err(Error::Io {
                    path: PathBuf::from("$OUT_DIR"),
                    source: std::io::Error::other("OUT_DIR is not set: call compile() from build.rs or set out_dir()"),
                });
            }
        };
        let ts_out = match (&self.ts_out, project.configured_ts_out()) {
            (Some(d), _) => root.join(d),
            (None, Some(d)) => d,
            (None, None) => out_dir.join("ts"),
        };
        let (files, ts_files) = ssot_core::generate::rust_and_ts(&loaded.ir, &project.config);
        ssot_core::writer::write_tree(&ts_out, &ts_files, &loaded.ir.skipped, false)
            .map_err(|e| Error::Io { path: e.path, source: e.source })?;
        let mut rust_file = out_dir.join("ssot.rs");
        for (rel, text) in &files {
            let path = out_dir.join(rel);
            ssot_core::writer::write_if_changed(&path, text).map_err(|e| Error::Io { path: e.path, source: e.source })?;
            rust_file = path;
        }
        Ok(rust_file)
    }
}

/// Shortcut for `Config::new().schema(path).compile()`.
pub fn compile(schema: impl AsRef<Path>) -> Result<PathBuf, Error> {
    Config::new().schema(schema).compile()
}
