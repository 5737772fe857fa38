//! `ssot.toml`: the settings build.rs, the macros and the CLI share. Builder settings override
//! the file; the file overrides the defaults.
//!
//! ```toml
//! schema = "prisma/schema.prisma"     # a file or a folder of .prisma files
//! ts_out = "../web/src/generated"
//! framework = "express"               # or "fastify"
//! mode = "registry"                   # or "controller"
//!
//! [auth]
//! default = ["jwt"]                   # jwt | apiKey | public
//!
//! [auth.claims]                       # what `auth.<claim>` means in policies
//! id = "Int"
//! role = "Role"                       # an enum of the schema
//! teams = "String[]"
//!
//! [policies]
//! readable_after_update = true        # an update may not move a row out of the caller's sight
//!
//! [compat]
//! zod = true                          # read `/// @zod.string.min(1)` tags as @validate rules
//!
//! [plugins.monitoring]              # a plugin's settings (docs/plugins.md)
//! path = "/metrics"
//!
//! [rust.type_attributes]              # attributes on generated Rust items ("." = every type)
//! "." = ["#[derive(utoipa::ToSchema)]"]
//! Post = ["#[derive(sqlx::FromRow)]"]
//!
//! [rust.field_attributes]             # "Type.field", the field as the schema names it
//! "Post.author" = ["#[sqlx(skip)]"]
//! ```

use crate::annotations::AuthMethod;
use serde::Deserialize;
use std::path::{Path, PathBuf};
use toml::Spanned;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Framework {
    #[default]
    Express,
    Fastify,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ServerMode {
    #[default]
    Registry,
    Controller,
}

/// The contents of `ssot.toml`, every key optional.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    pub schema: Option<PathBuf>,
    pub ts_out: Option<PathBuf>,
    pub rust_out: Option<PathBuf>,
    pub framework: Option<Framework>,
    pub mode: Option<ServerMode>,
    /// `ui = false`: no admin UI (`app/`, Next.js and its dependencies) in the TypeScript tree.
    pub ui: Option<bool>,
    /// `hooks = false`: no React hooks (`src/hooks/`, React, TanStack Query) either, for a
    /// backend-only tree; the UI, built on them, goes too.
    pub hooks: Option<bool>,
    #[serde(default)]
    pub auth: FileAuth,
    #[serde(default)]
    pub policies: FilePolicies,
    #[serde(default)]
    pub compat: FileCompat,
    #[serde(default)]
    pub rust: FileRust,
    /// `[plugins.<name>]`: each plugin's settings, every value with its place in the file.
    #[serde(default)]
    pub plugins: std::collections::BTreeMap<String, Spanned<std::collections::BTreeMap<String, Spanned<toml::Value>>>>,
}

/// A plugin's `[plugins.<name>]` table.
#[derive(Debug, Clone, Default)]
pub struct PluginSettings {
    pub options: crate::plugin::Options,
    /// Where the table is in `ssot.toml` (`None` when set in build.rs).
    pub span: Option<std::ops::Range<usize>>,
    /// Where each value is.
    pub keys: std::collections::BTreeMap<String, std::ops::Range<usize>>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileRust {
    /// Attributes for generated types, by type name or `.` for every type.
    #[serde(default)]
    pub type_attributes: std::collections::BTreeMap<String, Spanned<Vec<String>>>,
    /// Attributes for fields of generated types, by `Type.field`.
    #[serde(default)]
    pub field_attributes: std::collections::BTreeMap<String, Spanned<Vec<String>>>,
}

/// An attribute a user adds to generated Rust (like prost-build's `type_attribute`).
#[derive(Debug, Clone, PartialEq)]
pub struct RustAttribute {
    /// `.` (every type), a type name (`Post`, `PostCreateInput`, `Role`), or for a field
    /// `Type.field` with the field as the schema names it.
    pub path: String,
    /// The attribute as written: `#[derive(sqlx::FromRow)]`.
    pub attribute: String,
    /// Where it was written in `ssot.toml`, for diagnostics (`None` when set in build.rs).
    pub span: Option<std::ops::Range<usize>>,
}
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileCompat {
    /// Read the portable part of `@zod` doc tags as `@validate` rules (default true).
    pub zod: Option<bool>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FilePolicies {
    /// After an update the row must still be readable by the caller (default true).
    pub readable_after_update: Option<bool>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileAuth {
    pub default: Option<Vec<AuthMethod>>,
    /// Each claim's type, with its place in the file for diagnostics.
    #[serde(default)]
    pub claims: std::collections::BTreeMap<String, Spanned<toml::Value>>,
}

/// A claim of the principal, declared under `[auth.claims]`.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Claim {
    pub name: String,
    /// A scalar type name (`String`, `Int`, ...) or an enum of the schema.
    pub ty: String,
    pub list: bool,
    /// Where the type was written, for diagnostics (`None` for built-in defaults).
    #[serde(skip)]
    pub span: Option<std::ops::Range<usize>>,
}

/// Resolved settings: what the generators read.
#[derive(Debug, Clone)]
pub struct Config {
    pub framework: Framework,
    pub mode: ServerMode,
    /// Generate the admin UI (`ui` in `ssot.toml`, `--no-ui`); only trees with a server and
    /// hooks get one.
    pub ui: bool,
    /// Generate the React hooks (`hooks` in `ssot.toml`, `--no-hooks`).
    pub hooks: bool,
    pub auth_default: Vec<AuthMethod>,
    pub claims: Vec<Claim>,
    /// `[policies] readable_after_update`: an update may not move a row out of the caller's
    /// sight (into another tenant, say).
    pub readable_after_update: bool,
    /// `[compat] zod`: `@zod.string.min(1)` and the like are read as `@validate` rules.
    pub zod_tags: bool,
    /// `[rust.type_attributes]` and the builder's `type_attribute`, in order.
    pub type_attributes: Vec<RustAttribute>,
    /// `[rust.field_attributes]` and the builder's `field_attribute`, in order.
    pub field_attributes: Vec<RustAttribute>,
    /// `[plugins.<name>]` tables of `ssot.toml`, by plugin name.
    pub plugin_settings: std::collections::BTreeMap<String, PluginSettings>,
    /// The project's own plugins, beside the built-ins (`ssot_build::Config::plugin`).
    pub plugins: crate::plugin::PluginSet,
    /// The text of `ssot.toml` and its path, when one was read (diagnostics point into it).
    pub file: Option<(PathBuf, String)>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            framework: Framework::default(),
            mode: ServerMode::default(),
            ui: true,
            hooks: true,
            auth_default: vec![AuthMethod::Jwt],
            claims: default_claims(),
            readable_after_update: true,
            zod_tags: true,
            type_attributes: Vec::new(),
            field_attributes: Vec::new(),
            plugin_settings: Default::default(),
            plugins: Default::default(),
            file: None,
        }
    }
}

/// With no `[auth.claims]`, a principal has a string `id` and a string `role`.
pub fn default_claims() -> Vec<Claim> {
    ["id", "role"].into_iter().map(|n| Claim { name: n.to_owned(), ty: "String".to_owned(), list: false, span: None }).collect()
}

/// An `ssot.toml` that could not be read or parsed.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read {path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("{path}: {message}")]
    Invalid { path: PathBuf, message: String },
}

impl FileConfig {
    pub fn load(path: &Path) -> Result<(FileConfig, String), ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Io { path: path.to_owned(), source })?;
        let cfg = Self::parse(&text).map_err(|message| ConfigError::Invalid { path: path.to_owned(), message })?;
        Ok((cfg, text))
    }

    /// Parses the text of an `ssot.toml`; the error carries toml's located message.
    pub fn parse(text: &str) -> Result<FileConfig, String> {
        toml::from_str(text).map_err(|e| e.to_string())
    }

    /// The resolved [`Config`] with this file's settings over the defaults.
    pub fn resolve(&self, file: Option<(PathBuf, String)>) -> Result<Config, String> {
        let mut claims = Vec::new();
        for (name, value) in &self.auth.claims {
            let Some(ty) = value.get_ref().as_str() else {
                return Err(format!("[auth.claims] {name}: expected a type name as a string, like \"String\" or \"Int[]\""));
            };
            let (ty, list) = match ty.strip_suffix("[]") {
                Some(t) => (t.to_owned(), true),
                None => (ty.to_owned(), false),
            };
            claims.push(Claim { name: name.clone(), ty, list, span: Some(value.span()) });
        }
        Ok(Config {
            framework: self.framework.unwrap_or_default(),
            mode: self.mode.unwrap_or_default(),
            ui: self.ui.unwrap_or(true),
            hooks: self.hooks.unwrap_or(true),
            auth_default: self.auth.default.clone().unwrap_or_else(|| vec![AuthMethod::Jwt]),
            claims: if self.auth.claims.is_empty() { default_claims() } else { claims },
            readable_after_update: self.policies.readable_after_update.unwrap_or(true),
            zod_tags: self.compat.zod.unwrap_or(true),
            type_attributes: rust_attributes(&self.rust.type_attributes),
            field_attributes: rust_attributes(&self.rust.field_attributes),
            plugin_settings: self
                .plugins
                .iter()
                .map(|(name, table)| {
                    let settings = PluginSettings {
                        options: table.get_ref().iter().map(|(k, v)| (k.clone(), json_of_toml(v.get_ref()))).collect(),
                        span: Some(table.span()),
                        keys: table.get_ref().iter().map(|(k, v)| (k.clone(), v.span())).collect(),
                    };
                    (name.clone(), settings)
                })
                .collect(),
            plugins: Default::default(),
            file,
        })
    }
}

/// A TOML value as JSON (dates as their text).
fn json_of_toml(v: &toml::Value) -> serde_json::Value {
    match v {
        toml::Value::String(s) => s.clone().into(),
        toml::Value::Integer(i) => (*i).into(),
        toml::Value::Float(f) => serde_json::Number::from_f64(*f).map_or(serde_json::Value::Null, Into::into),
        toml::Value::Boolean(b) => (*b).into(),
        toml::Value::Datetime(d) => d.to_string().into(),
        toml::Value::Array(a) => a.iter().map(json_of_toml).collect(),
        toml::Value::Table(t) => t.iter().map(|(k, v)| (k.clone(), json_of_toml(v))).collect::<serde_json::Map<_, _>>().into(),
    }
}

/// The attributes of one `[rust.*]` table in order, each with the place of its list.
fn rust_attributes(table: &std::collections::BTreeMap<String, Spanned<Vec<String>>>) -> Vec<RustAttribute> {
    table
        .iter()
        .flat_map(|(path, attrs)| {
            attrs.get_ref().iter().map(move |a| RustAttribute {
                path: path.clone(),
                attribute: a.trim().to_owned(),
                span: Some(attrs.span()),
            })
        })
        .collect()
}
