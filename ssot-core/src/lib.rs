//! The core of ssot: schema front end, IR, annotation language and every generator.
//!
//! It is pure: no cargo, no proc_macro. `ssot-build`, `ssot-macros` and the `ssot` CLI are thin
//! adapters over [`Project`]:
//!
//! ```no_run
//! let project = ssot_core::Project::discover(".".as_ref(), None, None)?;
//! let loaded = project.load()?;
//! let files = ssot_core::generate::rust::generate(&loaded.ir, &project.config);
//! for (path, text) in &files {
//!     println!("{}: {} bytes", path.display(), text.len());
//! }
//! # Ok::<(), ssot_core::Error>(())
//! ```

pub mod annotations;
pub mod config;
pub mod diagnostics;
pub mod frontend;
pub mod generate;
pub mod ir;
pub mod names;
pub mod plugin;
#[doc(hidden)]
pub mod synthetic;
pub mod writer;

use config::{Config, ConfigError, FileConfig};
use diagnostics::{Report, Sources};
use std::path::{Path, PathBuf};

/// Everything that can go wrong before generation; `Display` and `Debug` both print the
/// rendered, located message (so `fn main() -> Result<..>` in build.rs shows it readably).
#[derive(thiserror::Error)]
pub enum Error {
    #[error("cannot read {}: {source}", path.display())]
    Io { path: PathBuf, source: std::io::Error },
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error("no Prisma schema found; looked for {}", .searched.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", "))]
    NoSchema { searched: Vec<PathBuf> },
    #[error("{0}")]
    Schema(Report),
}

impl std::fmt::Debug for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Display::fmt(self, f)
    }
}

/// Where a project's inputs are and how it is configured.
#[derive(Debug, Clone)]
pub struct Project {
    /// The folder relative paths resolve against (`CARGO_MANIFEST_DIR` for cargo users).
    pub root: PathBuf,
    /// The schema file, or a folder of `.prisma` files.
    pub schema: PathBuf,
    /// The `ssot.toml` read, if any.
    pub config_path: Option<PathBuf>,
    pub file_config: FileConfig,
    pub config: Config,
}

/// A validated schema with annotations attached.
pub struct Loaded {
    pub ir: ir::Ir,
    /// Every file read (schema files, then `ssot.toml`).
    pub sources: Sources,
    /// Warnings from Prisma's validator and the annotation checker.
    pub warnings: Option<Report>,
}

pub const CONFIG_FILE: &str = "ssot.toml";

impl Project {
    /// Finds the config and the schema. `schema` and `config` override discovery; relative
    /// paths resolve against `root`. Without a `schema` setting the schema is looked for at
    /// `schema.prisma`, `prisma/schema.prisma` and `prisma/schema/`.
    pub fn discover(root: &Path, schema: Option<&Path>, config: Option<&Path>) -> Result<Project, Error> {
        let root = root.to_path_buf();
        let explicit_schema = schema.map(|s| root.join(s));
        let config_path = match config {
            Some(c) => Some(root.join(c)),
            None => {
                let mut candidates = vec![root.join(CONFIG_FILE)];
                if let Some(s) = &explicit_schema {
                    let dir = if s.is_dir() { s.clone() } else { s.parent().map(Path::to_path_buf).unwrap_or_default() };
                    candidates.push(dir.join(CONFIG_FILE));
                }
                candidates.into_iter().find(|p| p.is_file())
            }
        };
        let (file_config, text) = match &config_path {
            Some(p) => {
                let (c, t) = FileConfig::load(p)?;
                (c, Some(t))
            }
            None => (FileConfig::default(), None),
        };
        // A schema path in ssot.toml is relative to the file that names it.
        let config_dir = config_path.as_ref().and_then(|p| p.parent()).map(Path::to_path_buf).unwrap_or(root.clone());
        let schema = match explicit_schema.or_else(|| file_config.schema.as_ref().map(|s| config_dir.join(s))) {
            Some(s) => s,
            None => {
                let searched = vec![root.join("schema.prisma"), root.join("prisma/schema.prisma"), root.join("prisma/schema")];
                match searched.iter().find(|p| p.exists()) {
                    Some(p) => p.clone(),
                    None => return Err(Error::NoSchema { searched }),
                }
            }
        };
        let cfg = file_config
            .resolve(config_path.clone().zip(text))
            .map_err(|message| ConfigError::Invalid { path: config_path.clone().unwrap_or_default(), message })?;
        Ok(Project { root, schema, config_path, file_config, config: cfg })
    }

    /// The schema files: the file itself, or every `.prisma` file below the folder, sorted.
    pub fn schema_files(&self) -> Result<Vec<PathBuf>, Error> {
        if self.schema.is_dir() {
            let mut files = Vec::new();
            collect_prisma_files(&self.schema, &mut files)?;
            files.sort();
            if files.is_empty() {
                return Err(Error::NoSchema { searched: vec![self.schema.join("*.prisma")] });
            }
            Ok(files)
        } else if self.schema.is_file() {
            Ok(vec![self.schema.clone()])
        } else {
            Err(Error::NoSchema { searched: vec![self.schema.clone()] })
        }
    }

    /// The folder paths in `ssot.toml` are relative to: the file's, else the root.
    fn config_dir(&self) -> &Path {
        self.config_path.as_ref().and_then(|p| p.parent()).unwrap_or(&self.root)
    }

    /// `ts_out` of `ssot.toml`, resolved against the file's folder.
    pub fn configured_ts_out(&self) -> Option<PathBuf> {
        self.file_config.ts_out.as_ref().map(|p| self.config_dir().join(p))
    }

    /// `rust_out` of `ssot.toml`, resolved against the file's folder.
    pub fn configured_rust_out(&self) -> Option<PathBuf> {
        self.file_config.rust_out.as_ref().map(|p| self.config_dir().join(p))
    }

    /// Every input whose change must trigger regeneration.
    pub fn inputs(&self) -> Result<Vec<PathBuf>, Error> {
        let mut v = self.schema_files()?;
        v.extend(self.config_path.clone());
        Ok(v)
    }

    /// Reads, validates and annotates the schema.
    pub fn load(&self) -> Result<Loaded, Error> {
        let mut sources = Sources::new();
        for path in self.schema_files()? {
            let text = std::fs::read_to_string(&path).map_err(|source| Error::Io { path: path.clone(), source })?;
            sources.add(display_path(&self.root, &path), text);
        }
        analyze(sources, &self.config, &self.root)
    }
}

/// Validates and annotates schema text that is already in memory (tests, tools).
pub fn analyze(mut sources: Sources, config: &Config, root: &Path) -> Result<Loaded, Error> {
    let parsed = frontend::parse(&sources).map_err(Error::Schema)?;
    let mut warnings = parsed.warnings.clone();
    let config_file = config.file.as_ref().map(|(path, text)| sources.add(display_path(root, path), text.clone()));
    match annotations::apply(parsed, config, config_file) {
        Ok((ir, warns)) => {
            let errors = plugin::check(&ir, config, config_file);
            if !errors.is_empty() {
                let mut diags = errors;
                diags.extend(warnings);
                return Err(Error::Schema(Report { sources, diagnostics: diags }));
            }
            warnings.extend(warns);
            Ok(Loaded { ir, warnings: (!warnings.is_empty()).then(|| Report { sources: sources.clone(), diagnostics: warnings }), sources })
        }
        Err(mut diags) => {
            diags.extend(warnings);
            Err(Error::Schema(Report { sources, diagnostics: diags }))
        }
    }
}

fn display_path(root: &Path, path: &Path) -> String {
    path.strip_prefix(root).unwrap_or(path).display().to_string()
}

fn collect_prisma_files(dir: &Path, out: &mut Vec<PathBuf>) -> Result<(), Error> {
    let entries = std::fs::read_dir(dir).map_err(|source| Error::Io { path: dir.to_owned(), source })?;
    for entry in entries {
        let entry = entry.map_err(|source| Error::Io { path: dir.to_owned(), source })?;
        let path = entry.path();
        if path.is_dir() {
            collect_prisma_files(&path, out)?;
        } else if path.extension().is_some_and(|e| e == "prisma") {
            out.push(path);
        }
    }
    Ok(())
}
