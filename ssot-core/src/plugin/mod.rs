//! Plugins (SPEC §10): one trait for everything that adds to the generated tree beyond the
//! built-in layers.
//!
//! A plugin is a Rust value implementing [`Plugin`]. It declares its name, its typed options
//! (the `key: value` arguments of `@@service(<name>, ...)` on a model and the keys of
//! `[plugins.<name>]` in `ssot.toml`), what it requires and conflicts with and which models it
//! can serve; [`check`] turns every mistake into one located diagnostic. An active plugin then
//! contributes through the same pure path as the built-in layers: [`Plugin::generate`] returns
//! files, server routes, npm dependencies and environment variables, and the TypeScript
//! generator wires its server module into the generated server's runtime hooks
//! (`src/server/plugin.ts`: before/after each write, after commit, per request, startup and
//! shutdown).
//!
//! Built-ins live in this module ([`builtins`]); a project's own plugins are registered with
//! [`Config::plugins`](crate::config::Config) (`ssot_build::Config::plugin` in build.rs).

mod ai;
mod email;
mod external_writes;
mod monitoring;
mod oidc;
mod payments;
mod search;
mod storage;

use crate::config::Config;
use crate::diagnostics::{Diagnostic, Severity, Span, did_you_mean};
use crate::generate::Files;
use crate::ir::{Ir, Model};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;

pub use ai::{Ai, PROVIDER as AI_PROVIDER};
pub use email::Email;
pub use external_writes::ExternalWrites;
pub use monitoring::Monitoring;
pub use oidc::Oidc;
pub use payments::{HANDLERS as PAYMENT_HANDLERS, Payments};
pub use search::Search;
pub use storage::Storage;

/// Option values, by key (JSON: strings, numbers, booleans, lists).
pub type Options = BTreeMap<String, Value>;

/// The type of one option.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum OptionType {
    String,
    /// A whole number.
    Int,
    /// Any number.
    Number,
    Bool,
    /// A list of strings (identifiers or string literals).
    StringList,
    /// One of these words.
    OneOf(&'static [&'static str]),
    /// A table of names to strings (`[plugins.<name>.<key>]`).
    Table,
}

impl OptionType {
    fn describe(self) -> String {
        match self {
            OptionType::String => "a string".into(),
            OptionType::Int => "a whole number".into(),
            OptionType::Number => "a number".into(),
            OptionType::Bool => "true or false".into(),
            OptionType::StringList => "a list of names".into(),
            OptionType::OneOf(words) => format!("one of {}", words.iter().map(|w| format!("`{w}`")).collect::<Vec<_>>().join(", ")),
            OptionType::Table => "a table of names to strings".into(),
        }
    }

    fn accepts(self, v: &Value) -> bool {
        match self {
            OptionType::String => v.is_string(),
            OptionType::Int => v.is_i64() || v.is_u64(),
            OptionType::Number => v.is_number(),
            OptionType::Bool => v.is_boolean(),
            OptionType::StringList => v.as_array().is_some_and(|a| a.iter().all(Value::is_string)),
            OptionType::OneOf(words) => v.as_str().is_some_and(|s| words.contains(&s)),
            OptionType::Table => v.as_object().is_some_and(|t| t.values().all(Value::is_string)),
        }
    }
}

/// The string value of an option, or `""` when it is absent (the types were checked before).
pub fn option_str<'o>(options: &'o Options, key: &str) -> &'o str {
    options.get(key).and_then(|v| v.as_str()).unwrap_or("")
}

/// One option a plugin takes.
#[derive(Debug, Clone, Copy)]
pub struct OptionSpec {
    pub name: &'static str,
    pub ty: OptionType,
    pub required: bool,
    /// One line for the docs and for diagnostics.
    pub doc: &'static str,
}

impl OptionSpec {
    pub const fn optional(name: &'static str, ty: OptionType, doc: &'static str) -> Self {
        OptionSpec { name, ty, required: false, doc }
    }
    pub const fn required(name: &'static str, ty: OptionType, doc: &'static str) -> Self {
        OptionSpec { name, ty, required: true, doc }
    }
}

/// A route a plugin serves, in Express/Fastify syntax (`/api/posts/:id/upload`).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Route {
    pub method: &'static str,
    pub path: String,
}

/// A variable of the server's environment, listed in `.env.template`.
#[derive(Debug, Clone, PartialEq)]
pub struct EnvVar {
    pub name: String,
    /// What it is for, printed above it.
    pub doc: String,
    /// The value in `.env.template` (empty: unset).
    pub example: String,
}

impl EnvVar {
    /// A variable that `.env.template` lists unset, under `doc`.
    pub fn new(name: impl Into<String>, doc: impl Into<String>) -> Self {
        EnvVar { name: name.into(), doc: doc.into(), example: String::new() }
    }
}

/// The runtime part of a plugin: a module under `src/server/` whose `create(options)` returns a
/// `ServerPlugin` (`src/server/plugin.ts`); `plugins.ts` calls it once per server.
#[derive(Debug, Clone, PartialEq)]
pub struct ServerModule {
    /// The module's path under `src/server/`, without extension (`plugins/monitoring`).
    pub path: String,
    /// What `create` is given: a JSON object, printed as a TypeScript object literal.
    pub options: Value,
}

/// What a plugin adds to the TypeScript tree.
#[derive(Debug, Clone, Default)]
pub struct Contribution {
    /// Files relative to `ts_out`, under a `plugins/` folder (`src/server/plugins/x.ts`,
    /// `src/sdk/plugins/x.ts`, `src/hooks/plugins/x.ts`).
    pub files: Files,
    /// The plugin's part of the generated server.
    pub server_module: Option<ServerModule>,
    /// npm packages the tree's `package.json` gains: name → version range.
    pub dependencies: BTreeMap<String, String>,
    /// npm packages for development only (types).
    pub dev_dependencies: BTreeMap<String, String>,
    pub env: Vec<EnvVar>,
    /// Variables of the admin UI's server (Next.js): in `.env.template` too, and given to the
    /// `ui` service of `docker-compose.yml` (with `JWT_SECRET`) instead of the API's.
    pub ui_env: Vec<EnvVar>,
    /// Views of fields on a row's page of the admin UI, each a component of the plugin's files.
    pub ui_fields: Vec<UiField>,
    /// A way to sign in that the admin UI's sign-in page offers.
    pub sign_in: Option<SignIn>,
    /// The plugin's routes as OpenAPI operations, for the tree's `src/openapi.json`.
    pub openapi: Vec<Operation>,
}

/// One route of a plugin in the TypeScript tree's `src/openapi.json` (OpenAPI 3.1), where it is
/// marked `"x-ssot-plugin": "<name>"`. The Rust server's document has those of the plugins it
/// serves ([`Plugin::rust_routes`]).
#[derive(Debug, Clone, PartialEq)]
pub struct Operation {
    /// `GET`, `POST`, ...
    pub method: &'static str,
    /// In OpenAPI's form: `/api/posts/{id}/cover`.
    pub path: String,
    /// The operation object: `operationId`, `summary`, `tags`, `security`, `parameters`,
    /// `requestBody`, `responses` (error responses may refer to
    /// `#/components/responses/BadRequest` and the others the API's own operations use).
    pub operation: Value,
}

/// A field's view on a row's page of the admin UI: `export` of `module` (a `.tsx` file of the
/// plugin's under `app/plugins/`, without the extension) is rendered for `model.field` with the
/// row's id, the field's value and whether the caller may write it (`FieldWidget` in
/// `app/admin/_ui/meta.ts`).
#[derive(Debug, Clone, PartialEq)]
pub struct UiField {
    pub model: String,
    pub field: String,
    pub module: String,
    pub export: String,
}

/// A button of the admin UI's sign-in page: "Sign in with `name`", a link to `href` (a route of
/// the plugin's under `app/plugins/`), shown when the environment variable `env` is set.
#[derive(Debug, Clone, PartialEq)]
pub struct SignIn {
    pub name: String,
    pub href: String,
    pub env: String,
}

/// What a plugin is given: the schema, the settings and its own configuration.
pub struct PluginCx<'a> {
    pub ir: &'a Ir,
    pub config: &'a Config,
    /// `[plugins.<name>]` (empty when absent).
    pub options: &'a Options,
    /// The models that name the plugin in `@@service`, each with the annotation's options.
    pub models: Vec<(&'a Model, &'a Options)>,
}

/// One plugin. Implementations are plain values; every method but `name` and `generate` has a
/// default.
pub trait Plugin: Send + Sync {
    /// The name in `@@service(<name>, ...)` and `[plugins.<name>]`.
    fn name(&self) -> &str;

    /// Keys of `@@service(<name>, key: value, ...)`. A plugin with none does not serve models:
    /// naming it on a model is an error.
    fn model_options(&self) -> &[OptionSpec] {
        &[]
    }

    /// Keys of `[plugins.<name>]`.
    fn options(&self) -> &[OptionSpec] {
        &[]
    }

    /// Checks of the `[plugins.<name>]` values beyond their types, with the schema at hand (a
    /// model an option names): (key, message) for each wrong one.
    fn check_options(&self, _ir: &Ir, _options: &Options) -> Vec<(String, String)> {
        Vec::new()
    }

    /// Checks of the `[plugins.<name>]` values against the project's other settings (the
    /// `[auth.claims]` an option names, whether the tree has an admin UI): (key, message) for
    /// each wrong one, `""` as the key for the table as a whole.
    fn check_config(&self, _ir: &Ir, _config: &Config, _options: &Options) -> Vec<(String, String)> {
        Vec::new()
    }

    /// Why the plugin has nothing to add to this tree although it is configured (the `oidc`
    /// plugin in a tree without the admin UI): it stays inactive and the reason is a warning.
    fn idle(&self, _ir: &Ir, _config: &Config) -> Option<String> {
        None
    }

    /// Plugins that must be active too.
    fn requires(&self) -> &[&str] {
        &[]
    }

    /// Plugins that may not be active at the same time.
    fn conflicts(&self) -> &[&str] {
        &[]
    }

    /// Whether the plugin can work with this schema at all (its provider, the models it needs);
    /// the error says why not, at `[plugins.<name>]`.
    fn check_schema(&self, _ir: &Ir) -> Result<(), String> {
        Ok(())
    }

    /// Whether `model` can be served, given its `@@service` options; the error says why not.
    fn check_model(&self, _ir: &Ir, _model: &Model, _options: &Options) -> Result<(), String> {
        Ok(())
    }

    /// Whether a model may name the plugin more than once, each `@@service` with options of its
    /// own (the `ai` plugin's tasks); by default a second one is an error.
    fn repeatable(&self) -> bool {
        false
    }

    /// Whether the plugin is active: by default when `[plugins.<name>]` is present or a model
    /// names it.
    fn active(&self, configured: bool, models: usize) -> bool {
        configured || models > 0
    }

    /// Whether the Rust server (`ssot::server`) serves the plugin's routes too: its operations are
    /// then in the Rust server's OpenAPI document as well.
    fn rust_routes(&self) -> bool {
        false
    }

    /// The routes the plugin serves (checked against the API's own and other plugins').
    fn routes(&self, _cx: &PluginCx) -> Vec<Route> {
        Vec::new()
    }

    /// What the plugin adds to the TypeScript tree: pure, like every generator.
    fn generate(&self, cx: &PluginCx) -> Contribution;
}

/// A TypeScript module of a plugin's: the generated header, `what` it is as a comment, its
/// imports (sorted, each once), then `body`.
pub(crate) fn ts_module(what: &str, mut imports: Vec<String>, body: &str) -> String {
    imports.sort();
    imports.dedup();
    format!("// {}\n// {what}\n\n{}\n\n{body}", crate::generate::HEADER, imports.join("\n"))
}

/// `/api/posts/:id` (each id field a parameter), as the API's own routes name a row.
pub(crate) fn row_path(m: &Model) -> String {
    let ids: String = m.id_fields().iter().map(|f| format!("/:{f}")).collect();
    format!("/api/{}{ids}", crate::names::model_path(m))
}

/// A quoted SQL identifier (`"name"`, inner quotes doubled).
pub(crate) fn sql_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// A model's table in SQL: `"schema"."table"`, or `"table"`.
pub(crate) fn sql_table(m: &Model) -> String {
    let name = sql_ident(m.db_name.as_deref().unwrap_or(&m.name));
    match &m.schema {
        Some(s) => format!("{}.{name}", sql_ident(s)),
        None => name,
    }
}

/// The plugins a project can use: the built-ins, then its own.
#[derive(Clone, Default)]
pub struct PluginSet(pub Vec<Arc<dyn Plugin>>);

impl std::fmt::Debug for PluginSet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.0.iter().map(|p| p.name().to_owned())).finish()
    }
}

impl PluginSet {
    pub fn push(&mut self, plugin: impl Plugin + 'static) {
        self.0.push(Arc::new(plugin));
    }
}

/// The built-in plugins.
pub fn builtins() -> Vec<Arc<dyn Plugin>> {
    vec![
        Arc::new(Ai),
        Arc::new(Email),
        Arc::new(ExternalWrites),
        Arc::new(Monitoring),
        Arc::new(Oidc),
        Arc::new(Payments),
        Arc::new(Search),
        Arc::new(Storage),
    ]
}

/// Every plugin known to `config`: built-ins first, then the project's own.
fn known(config: &Config) -> Vec<Arc<dyn Plugin>> {
    let mut all = builtins();
    all.extend(config.plugins.0.iter().cloned());
    all
}

/// One active plugin and what it was given.
pub struct Active<'a> {
    pub plugin: Arc<dyn Plugin>,
    pub cx: PluginCx<'a>,
}

static NO_OPTIONS: Options = Options::new();

/// The active plugins in their order: each after what it requires, otherwise by name.
pub fn active<'a>(ir: &'a Ir, config: &'a Config) -> Vec<Active<'a>> {
    let mut by_name: BTreeMap<String, Active<'a>> = BTreeMap::new();
    for plugin in known(config) {
        let name = plugin.name().to_owned();
        if by_name.contains_key(&name) {
            continue; // a duplicate name is reported by `check`
        }
        let settings = config.plugin_settings.get(&name);
        let models: Vec<(&Model, &Options)> = ir
            .api_models()
            .flat_map(|m| m.annotations.services.iter().filter(|s| s.plugin == name).map(move |s| (m, &s.options)))
            .collect();
        if !plugin.active(settings.is_some(), models.len()) || plugin.idle(ir, config).is_some() {
            continue;
        }
        let options = settings.map_or(&NO_OPTIONS, |s| &s.options);
        by_name.insert(name, Active { plugin, cx: PluginCx { ir, config, options, models } });
    }
    // Dependencies first, in a stable order; a cycle of requirements is cut where the walk
    // (by name) meets it again.
    let mut order: Vec<String> = Vec::new();
    let mut visiting = BTreeSet::new();
    fn visit(name: &str, all: &BTreeMap<String, Active>, order: &mut Vec<String>, visiting: &mut BTreeSet<String>) {
        if order.iter().any(|n| n == name) || !visiting.insert(name.to_owned()) {
            return;
        }
        if let Some(a) = all.get(name) {
            for dep in a.plugin.requires() {
                visit(dep, all, order, visiting);
            }
            order.push(name.to_owned());
        }
    }
    for name in by_name.keys() {
        visit(name, &by_name, &mut order, &mut visiting);
    }
    order.into_iter().filter_map(|n| by_name.remove(&n)).collect()
}

/// The routes of the API itself, as patterns (`:x` for any parameter).
fn own_routes(ir: &Ir) -> BTreeSet<(String, String)> {
    let mut out = BTreeSet::new();
    for (m, p) in [("GET", "/health"), ("GET", "/ready"), ("GET", "/openapi.json")] {
        out.insert((m.to_owned(), p.to_owned()));
    }
    for model in ir.api_models().filter(|m| m.annotations.expose.api) {
        let base = format!("/api/{}", crate::names::model_path(model));
        for (m, p) in
            [("GET", base.clone()), ("POST", base.clone()), ("GET", format!("{base}/count")), ("GET", format!("{base}/permissions"))]
        {
            out.insert((m.to_owned(), p));
        }
        if model.annotations.search.is_some() {
            out.insert(("GET".to_owned(), format!("{base}/search")));
        }
        let ids = model.id_fields().len().max(1);
        let one = format!("{base}{}", "/:x".repeat(ids));
        for m in ["GET", "PATCH", "DELETE"] {
            out.insert((m.to_owned(), one.clone()));
        }
        out.insert(("GET".to_owned(), format!("{one}/permissions")));
    }
    out
}

/// A fixed route path a plugin may be configured with: `/` and segments of letters, digits, `-`,
/// `_` and `.` (`/metrics`, `/api/payments`).
pub fn is_route_path(p: &str) -> bool {
    p.len() > 1
        && p.strip_prefix('/')
            .is_some_and(|rest| rest.split('/').all(|s| !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))))
}

/// `/api/posts/:id` → `/api/posts/:x`, so that two spellings of one route compare equal.
fn pattern(path: &str) -> String {
    path.split('/').map(|s| if s.starts_with(':') { ":x" } else { s }).collect::<Vec<_>>().join("/")
}

/// Where a plugin is configured: its `[plugins.<name>]` table, else its first `@@service`.
fn plugin_span(ir: &Ir, config: &Config, config_file: Option<usize>, name: &str) -> Option<Span> {
    let table = config.plugin_settings.get(name).and_then(|s| s.span.clone());
    match (config_file, table) {
        (Some(file), Some(r)) => Some(Span::new(file, r.start, r.end)),
        _ => ir.api_models().flat_map(|m| &m.annotations.services).find(|s| s.plugin == name).map(|s| s.span),
    }
}

fn located(msg: String, span: Option<Span>) -> Diagnostic {
    match span {
        Some(s) => Diagnostic::error(msg, s),
        None => Diagnostic::global(msg),
    }
}

/// Checks options against a plugin's specs: unknown keys (with a suggestion), wrong types,
/// missing required keys. `at(key)` locates a key and its value; `whole` the annotation or table.
fn check_options(
    specs: &[OptionSpec],
    given: &Options,
    place: &str,
    at: impl Fn(&str) -> Option<(Span, Span)>,
    whole: Option<Span>,
    diags: &mut Vec<Diagnostic>,
) {
    for (key, value) in given {
        match specs.iter().find(|s| s.name == key) {
            None => {
                let d = located(format!("unknown option `{key}` in {place}"), at(key).map(|(k, _)| k));
                diags.push(match did_you_mean(key, specs.iter().map(|s| s.name)) {
                    Some(h) => d.with_label(format!("did you mean `{h}`?")),
                    None if specs.is_empty() => d.with_label("it takes no options"),
                    None => {
                        d.with_label(format!("it takes {}", specs.iter().map(|s| format!("`{}`", s.name)).collect::<Vec<_>>().join(", ")))
                    }
                });
            }
            Some(spec) if !spec.ty.accepts(value) => {
                diags.push(
                    located(format!("`{key}` in {place} must be {}, found {value}", spec.ty.describe()), at(key).map(|(_, v)| v))
                        .with_label(spec.doc),
                );
            }
            Some(_) => {}
        }
    }
    for spec in specs.iter().filter(|s| s.required && !given.contains_key(s.name)) {
        diags.push(located(format!("{place} needs `{}`", spec.name), whole).with_label(format!("{} ({})", spec.doc, spec.ty.describe())));
    }
}

/// Every mistake in the use of plugins, located in the schema or in `ssot.toml`: unknown
/// plugins, unknown, mistyped or missing options, a plugin on a model it cannot serve, missing
/// requirements, conflicts, and two plugins (or a plugin and the API) on one route or file.
pub fn check(ir: &Ir, config: &Config, config_file: Option<usize>) -> Vec<Diagnostic> {
    let mut diags = Vec::new();
    let plugins = known(config);
    let mut seen = BTreeSet::new();
    for p in &plugins {
        let n = p.name();
        if !(n.starts_with(|c: char| c.is_ascii_lowercase()) && n.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')) {
            diags.push(Diagnostic::global(format!(
                "`{n}` cannot name a plugin: use lowercase letters, digits and `_`, starting with a letter"
            )));
        }
        if !seen.insert(n.to_owned()) {
            diags.push(Diagnostic::global(format!("two plugins are named `{}`: a plugin's name must be unique", p.name())));
        }
    }
    let find = |name: &str| plugins.iter().find(|p| p.name() == name);
    let names = || plugins.iter().map(|p| p.name());
    let unknown = |name: &str, span: Option<Span>| {
        let d = located(format!("unknown plugin `{name}`"), span);
        match did_you_mean(name, names()) {
            Some(h) => d.with_label(format!("did you mean `{h}`?")),
            None => d.with_label(format!("known plugins: {}", names().collect::<Vec<_>>().join(", "))),
        }
    };
    let in_file = |r: &Option<std::ops::Range<usize>>| match (config_file, r) {
        (Some(file), Some(r)) => Some(Span::new(file, r.start, r.end)),
        _ => None,
    };

    for (name, settings) in &config.plugin_settings {
        let Some(plugin) = find(name) else {
            diags.push(unknown(name, in_file(&settings.span)));
            continue;
        };
        let before = diags.len();
        check_options(
            plugin.options(),
            &settings.options,
            &format!("[plugins.{name}]"),
            |k| in_file(&settings.keys.get(k).cloned()).map(|s| (s, s)),
            in_file(&settings.span),
            &mut diags,
        );
        if diags.len() == before {
            for (key, message) in plugin.check_options(ir, &settings.options) {
                diags.push(located(format!("[plugins.{name}] {key}: {message}"), in_file(&settings.keys.get(&key).cloned())));
            }
            for (key, message) in plugin.check_config(ir, config, &settings.options) {
                let (text, at) = if key.is_empty() {
                    (format!("[plugins.{name}]: {message}"), settings.span.clone())
                } else {
                    (format!("[plugins.{name}] {key}: {message}"), settings.keys.get(&key).cloned())
                };
                diags.push(located(text, in_file(&at)));
            }
        }
        if let Err(why) = plugin.check_schema(ir) {
            diags.push(located(format!("[plugins.{name}]: {why}"), in_file(&settings.span)));
        }
        if let Some(why) = plugin.idle(ir, config) {
            let warning = match in_file(&settings.span) {
                Some(span) => Diagnostic::warning(format!("[plugins.{name}]: {why}"), span),
                None => Diagnostic { severity: Severity::Warning, ..Diagnostic::global(format!("[plugins.{name}]: {why}")) },
            };
            diags.push(warning);
        }
    }
    for model in ir.api_models() {
        let mut named = BTreeSet::new();
        for s in &model.annotations.services {
            if !named.insert(s.plugin.as_str()) && !find(&s.plugin).is_some_and(|p| p.repeatable()) {
                diags.push(
                    Diagnostic::error(format!("`{}` names the `{}` plugin twice", model.name, s.plugin), s.span)
                        .with_label("give its options in one @@service"),
                );
                continue;
            }
            let Some(plugin) = find(&s.plugin) else {
                diags.push(unknown(&s.plugin, Some(s.span)));
                continue;
            };
            if plugin.model_options().is_empty() {
                let mut d = Diagnostic::error(format!("the `{}` plugin does not serve models", s.plugin), s.span);
                if plugin.options().is_empty() {
                    d = d.with_label("remove this @@service");
                } else {
                    d = d.with_label(format!("configure it in ssot.toml under [plugins.{}]", s.plugin));
                }
                diags.push(d);
                continue;
            }
            let place = format!("@@service({}) on `{}`", s.plugin, model.name);
            let before = diags.len();
            check_options(plugin.model_options(), &s.options, &place, |k| s.option_spans.get(k).copied(), Some(s.span), &mut diags);
            // The plugin's own checks assume well-typed options: one error per mistake.
            if diags.len() > before {
                continue;
            }
            if let Err(why) = plugin.check_model(ir, model, &s.options) {
                diags.push(Diagnostic::error(format!("the `{}` plugin cannot serve `{}`: {why}", s.plugin, model.name), s.span));
            }
        }
    }
    if diags.iter().any(|d| d.severity == Severity::Error) {
        return diags;
    }

    let active = active(ir, config);
    let is_active = |n: &str| active.iter().any(|a| a.plugin.name() == n);
    let span_of = |n: &str| plugin_span(ir, config, config_file, n);
    let mut conflicts = BTreeSet::new();
    for a in &active {
        let name = a.plugin.name();
        if !config.plugin_settings.contains_key(name) {
            let required: Vec<String> = a.plugin.options().iter().filter(|o| o.required).map(|o| format!("`{}`", o.name)).collect();
            if !required.is_empty() {
                diags.push(
                    located(format!("the `{name}` plugin needs [plugins.{name}] in ssot.toml"), span_of(name))
                        .with_label(format!("with {}", required.join(", "))),
                );
            }
        }
        for dep in a.plugin.requires() {
            if !is_active(dep) {
                diags.push(
                    located(format!("the `{name}` plugin requires the `{dep}` plugin"), span_of(name))
                        .with_label(format!("add [plugins.{dep}] to ssot.toml")),
                );
            }
        }
        for other in a.plugin.conflicts() {
            let pair = if name < *other { (name, *other) } else { (*other, name) };
            if is_active(other) && conflicts.insert(pair) {
                diags.push(located(format!("the `{}` and `{}` plugins cannot be used together", pair.0, pair.1), span_of(name)));
            }
        }
    }

    // Each route's owner, as the error names it.
    let mut routes: BTreeMap<(String, String), String> = own_routes(ir).into_iter().map(|r| (r, "the API".to_owned())).collect();
    let mut files: BTreeMap<PathBuf, String> = BTreeMap::new();
    for a in &active {
        let name = a.plugin.name();
        for r in a.plugin.routes(&a.cx) {
            let key = (r.method.to_owned(), pattern(&r.path));
            if let Some(owner) = routes.get(&key) {
                let message = if *owner == format!("the `{name}` plugin") {
                    format!("the `{name}` plugin would serve {} {} twice: give each of its uses a name of its own", r.method, r.path)
                } else {
                    format!("the `{name}` plugin's route {} {} is also served by {owner}", r.method, r.path)
                };
                diags.push(located(message, span_of(name)));
            } else {
                routes.insert(key, format!("the `{name}` plugin"));
            }
        }
        for path in a.plugin.generate(&a.cx).files.into_keys() {
            if !in_plugins_folder(&path) {
                diags.push(located(
                    format!("the `{name}` plugin writes {}, outside a `plugins/` folder of the tree", path.display()),
                    span_of(name),
                ));
            } else if let Some(owner) = files.get(&path) {
                diags.push(located(format!("the `{name}` and `{owner}` plugins both write {}", path.display()), span_of(name)));
            } else {
                files.insert(path, name.to_owned());
            }
        }
    }
    diags
}

/// Plugins write only under `src/server/plugins/`, `src/sdk/plugins/`, `src/hooks/plugins/` or
/// `app/plugins/`, so they can never overwrite a file of the built-in layers.
fn in_plugins_folder(path: &Path) -> bool {
    let s = path.to_string_lossy().replace('\\', "/");
    ["src/server/plugins/", "src/sdk/plugins/", "src/hooks/plugins/", "app/plugins/"].iter().any(|p| s.starts_with(p)) && !s.contains("..")
}
