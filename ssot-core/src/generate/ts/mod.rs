//! The TypeScript tree: contracts, Zod validators, OpenAPI, the SDK and project files.
//!
//! Views are computed here; the askama templates in `templates/ts/` only print them. The
//! code is laid out by the document printer (`doc`, `js`) the way prettier lays it out (the CI
//! checks `prettier --check`). One module per layer: `contracts`, `validators`, `sdk`, `hooks`,
//! `openapi`, `server` (with realtime), `project`.

mod contracts;
mod deploy;
pub(crate) mod doc;
mod hooks;
pub(crate) mod js;
pub(crate) mod openapi;
mod project;
pub(crate) mod sdk;
mod server;
pub(crate) mod ui;
pub(crate) mod validators;

use super::{Files, HEADER};
use crate::annotations::ValidateRule;
use crate::config::Config;
use crate::ir::*;
use crate::names::{file_stem, model_path, ts_key, ts_type};
use askama::Template;
use js::{E, call, member};
use std::collections::BTreeSet;
use std::path::PathBuf;

pub use doc::PRINT_WIDTH;
pub(crate) use openapi::print_json;

#[derive(Template)]
#[template(path = "ts/module.ts", escape = "none")]
struct Module<'a> {
    header: &'a str,
    imports: Vec<String>,
    blocks: Vec<String>,
}

#[derive(Template)]
#[template(path = "ts/validators_common.ts", escape = "none")]
struct ValidatorsCommon<'a> {
    header: &'a str,
}

#[derive(Template)]
#[template(path = "ts/contracts_common.ts", escape = "none")]
struct ContractsCommon<'a> {
    header: &'a str,
}

#[derive(Template)]
#[template(path = "ts/sdk_types.ts", escape = "none")]
struct SdkTypes<'a> {
    header: &'a str,
}

#[derive(Template)]
#[template(path = "ts/sdk_realtime.ts", escape = "none")]
struct SdkRealtime<'a> {
    header: &'a str,
}

#[derive(Template)]
#[template(path = "ts/sdk_http.ts", escape = "none")]
struct SdkHttp<'a> {
    header: &'a str,
}

/// Renders a template as a file (askama drops the template's final newline).
fn render(t: &impl Template) -> String {
    let mut text = t.render().expect("templates print precomputed views and cannot fail");
    text.push('\n');
    text
}

fn module(imports: Vec<String>, blocks: Vec<String>) -> String {
    render(&Module { header: HEADER, imports, blocks })
}

/// The whole tree, relative to `ts_out`. The OpenAPI document (the largest file) is built on a
/// second thread while the TypeScript modules are written.
pub fn generate(ir: &Ir, config: &Config) -> Files {
    std::thread::scope(|scope| {
        let openapi = scope.spawn(|| openapi::document(ir, config));
        let (mut files, operations) = modules(ir, config);
        let mut doc = openapi.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic));
        openapi::add_operations(&mut doc, operations);
        files.insert(PathBuf::from("src/openapi.json"), openapi::render(&doc));
        files
    })
}

/// The tree but its OpenAPI document, and the plugins' operations for the document.
fn modules(ir: &Ir, config: &Config) -> (Files, Vec<(String, crate::plugin::Operation)>) {
    let g = Gen { ir };
    let mut files = Files::new();
    let mut put = |path: String, text: String| {
        files.insert(PathBuf::from(path), text);
    };
    let models: Vec<&Model> = ir.api_models().collect();

    put("src/contracts/common.ts".into(), render(&ContractsCommon { header: HEADER }));
    put("src/validators/common.ts".into(), render(&ValidatorsCommon { header: HEADER }));
    put("src/sdk/types.ts".into(), render(&SdkTypes { header: HEADER }));
    put("src/sdk/http.ts".into(), render(&SdkHttp { header: HEADER }));
    if server::has_realtime(ir) {
        put("src/sdk/realtime.ts".into(), render(&SdkRealtime { header: HEADER }));
    }
    if !ir.enums.is_empty() {
        put("src/contracts/enums.ts".into(), g.enum_contracts());
        put("src/validators/enums.ts".into(), g.enum_validators());
    }
    let mut contract_files = vec!["common".to_owned()];
    if !ir.enums.is_empty() {
        contract_files.push("enums".into());
    }
    for ct in &ir.composite_types {
        let stem = file_stem(&ct.name);
        put(format!("src/contracts/{stem}.ts"), g.composite_contract(ct));
        put(format!("src/validators/{stem}.ts"), g.composite_validator(ct));
        contract_files.push(stem);
    }
    for m in &models {
        let stem = file_stem(&m.name);
        put(format!("src/contracts/{stem}.ts"), g.model_contract(m));
        let (validators, inputs) = g.model_validators(m);
        put(format!("src/validators/{stem}.ts"), validators);
        if let Some(inputs) = inputs {
            put(format!("src/validators/{stem}.input.ts"), inputs);
        }
        put(format!("src/sdk/models/{stem}.ts"), g.model_client(m));
        contract_files.push(stem);
    }
    put("src/contracts/index.ts".into(), barrel(&contract_files));
    put("src/validators/index.ts".into(), barrel(&contract_files));
    put("src/sdk/index.ts".into(), g.sdk_index(&models));
    put(
        "src/index.ts".into(),
        module(
            vec![],
            vec![
                "export * from \"./contracts/index.js\";\nexport * from \"./validators/index.js\";\nexport * from \"./sdk/index.js\";"
                    .into(),
            ],
        ),
    );
    // The active plugins' contributions, in their order (checked when the schema was loaded:
    // they write only under `plugins/` folders and serve routes of their own).
    let plugins: Vec<(String, crate::plugin::Contribution)> = if server::has_server(ir) {
        crate::plugin::active(ir, config).iter().map(|a| (a.plugin.name().to_owned(), a.plugin.generate(&a.cx))).collect()
    } else {
        Vec::new()
    };
    for (path, text) in server::generate(ir, config, &plugins) {
        put(path, text);
    }
    for (path, text) in ui::generate(ir, config, &plugins) {
        put(path, text);
    }
    for (path, text) in project::generate(ir, config, &plugins) {
        put(path, text);
    }
    // The plugins' parts of the SDK and of the hooks are exported with the rest of each.
    for (folder, index) in [("src/sdk/plugins/", "src/sdk/index.ts"), ("src/hooks/plugins/", "src/hooks/index.ts")] {
        let stems: Vec<String> = plugins
            .iter()
            .flat_map(|(_, c)| c.files.keys())
            .filter_map(|p| p.to_str()?.strip_prefix(folder)?.strip_suffix(".ts").map(str::to_owned))
            .filter(|stem| !stem.contains('/'))
            .collect();
        if let (false, Some(text)) = (stems.is_empty(), files.get_mut(std::path::Path::new(index))) {
            for stem in stems {
                text.push_str(&format!("export * from \"./plugins/{stem}.js\";\n"));
            }
        }
    }
    let mut operations = Vec::new();
    for (name, c) in plugins {
        // Without the React hooks (`hooks = false`), the plugins' hooks have nothing to join.
        files.extend(c.files.into_iter().filter(|(p, _)| config.hooks || !p.starts_with("src/hooks/")));
        operations.extend(c.openapi.into_iter().map(|op| (name.clone(), op)));
    }
    (files, operations)
}

fn barrel(stems: &[String]) -> String {
    let lines: Vec<String> = stems.iter().map(|s| format!("export * from \"./{s}.js\";")).collect();
    module(vec![], vec![lines.join("\n")])
}

/// `/** text */` or a multi-line TSDoc block, indented by `indent` spaces.
fn tsdoc(doc: Option<&str>, indent: usize) -> Option<String> {
    let doc = doc?;
    let pad = " ".repeat(indent);
    let lines: Vec<&str> = doc.lines().collect();
    // `*/` would end the comment early.
    let clean = |l: &str| l.replace("*/", "*\\/");
    if lines.len() == 1 && indent + lines[0].len() + 7 <= PRINT_WIDTH {
        return Some(format!("{pad}/** {} */", clean(lines[0])));
    }
    let mut out = format!("{pad}/**");
    for l in lines {
        if l.trim().is_empty() {
            out.push_str(&format!("\n{pad} *"));
        } else {
            out.push_str(&format!("\n{pad} * {}", clean(l)));
        }
    }
    out.push_str(&format!("\n{pad} */"));
    Some(out)
}

/// `type X = "a" | "b";`, broken over lines the way prettier does when it is too long.
fn union_type(name: &str, members: &[String]) -> String {
    if members.is_empty() {
        return format!("export type {name} = never;");
    }
    let joined = members.join(" | ");
    let one = format!("export type {name} = {joined};");
    if one.len() <= PRINT_WIDTH {
        return one;
    }
    if joined.len() + 3 <= PRINT_WIDTH {
        return format!("export type {name} =\n  {joined};");
    }
    let mut out = format!("export type {name} =");
    for m in members {
        out.push_str(&format!("\n  | {m}"));
    }
    out.push(';');
    out
}

fn quoted(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_default()
}

struct Gen<'a> {
    ir: &'a Ir,
}

/// How optional a property is.
#[derive(Clone, Copy, PartialEq)]
enum Presence {
    Required,
    Nullable,
    Optional,
    OptionalNullable,
}

impl Presence {
    fn of_output(f: &Field) -> Self {
        match (f.is_optional(), f.annotations.readable.is_some()) {
            (false, false) => Presence::Required,
            (true, false) => Presence::Nullable,
            (false, true) => Presence::Optional,
            (true, true) => Presence::OptionalNullable,
        }
    }

    fn of_create(f: &Field) -> Self {
        match (f.optional_in_create(), f.is_optional()) {
            (false, _) => Presence::Required,
            (true, false) => Presence::Optional,
            (true, true) => Presence::OptionalNullable,
        }
    }

    fn of_update(f: &Field) -> Self {
        if f.is_optional() { Presence::OptionalNullable } else { Presence::Optional }
    }

    fn property(self, key: &str, ty: &str) -> String {
        match self {
            Presence::Required => format!("{key}: {ty};"),
            Presence::Nullable => format!("{key}: {ty} | null;"),
            Presence::Optional => format!("{key}?: {ty};"),
            Presence::OptionalNullable => format!("{key}?: {ty} | null;"),
        }
    }

    fn zod(self, expr: E) -> E {
        let then = |e: E, method: &str| call(member(e, method), vec![]);
        match self {
            Presence::Required => expr,
            Presence::Nullable => then(expr, "nullable"),
            Presence::Optional => then(expr, "optional"),
            Presence::OptionalNullable => then(then(expr, "nullable"), "optional"),
        }
    }
}

/// Fields a list may filter and sort by: plain scalars and enums the caller may always see.
pub(crate) fn filter_fields(m: &Model) -> impl Iterator<Item = &Field> {
    m.output_fields().filter(|f| {
        !f.is_list()
            && f.annotations.readable.is_none()
            && match &f.ty {
                FieldType::Enum(_) => true,
                FieldType::Scalar(s) => !matches!(s, ScalarType::Json | ScalarType::Bytes),
                _ => false,
            }
    })
}

impl Gen<'_> {
    /// Relations a response may include (targets that have an API).
    fn includes<'m>(&self, m: &'m Model) -> Vec<(&'m Field, &'m Relation)> {
        m.relation_fields().filter(|(f, r)| !f.annotations.hidden && self.ir.model(&r.model).is_some_and(|t| !t.ignored)).collect()
    }
}

pub(crate) fn lower_first(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_lowercase().collect::<String>() + c.as_str(),
        None => String::new(),
    }
}

/// `import [type] { a, b } from "x";`, laid out by the document printer.
fn import_line(type_only: bool, names: &[String], from: &str) -> String {
    js::render(&js::import(type_only, names, from))
}

/// Joins a leading `import type { .. } from "./common.js"` with a later one from the same file.
fn merge_imports(imports: &mut Vec<String>) {
    let from_common = |l: &String| l.starts_with("import type") && l.ends_with("from \"./common.js\";");
    let idx: Vec<usize> = imports.iter().enumerate().filter(|(_, l)| from_common(l)).map(|(i, _)| i).collect();
    if idx.len() < 2 {
        return;
    }
    let mut names = BTreeSet::new();
    for &i in &idx {
        let l = &imports[i];
        let inner = &l[l.find('{').unwrap_or(0) + 1..l.rfind('}').unwrap_or(l.len())];
        names.extend(inner.split(',').map(|n| n.trim().to_owned()).filter(|n| !n.is_empty()));
    }
    for &i in idx.iter().rev() {
        imports.remove(i);
    }
    imports.insert(0, import_line(true, &names.into_iter().collect::<Vec<_>>(), "./common.js"));
}

/// Merges `import { a }` and `import type { B }` from one module into `import { a, type B }`.
fn merge_type_and_value(imports: Vec<String>) -> Vec<String> {
    let mut order: Vec<String> = Vec::new();
    let mut by_from: std::collections::BTreeMap<String, Vec<String>> = Default::default();
    for l in imports {
        let flat = l.replace('\n', " ");
        let type_only = flat.starts_with("import type");
        let from = flat[flat.rfind("from \"").unwrap_or(0) + 6..flat.len() - 2].to_owned();
        let inner = &flat[flat.find('{').unwrap_or(0) + 1..flat.rfind('}').unwrap_or(flat.len())];
        let names =
            inner.split(',').map(str::trim).filter(|n| !n.is_empty()).map(|n| if type_only { format!("type {n}") } else { n.to_owned() });
        if !by_from.contains_key(&from) {
            order.push(from.clone());
        }
        by_from.entry(from).or_default().extend(names);
    }
    order
        .into_iter()
        .map(|from| {
            let names = &by_from[&from];
            if names.iter().all(|n| n.starts_with("type ")) {
                let bare: Vec<String> = names.iter().map(|n| n.trim_start_matches("type ").to_owned()).collect();
                import_line(true, &bare, &from)
            } else {
                import_line(false, names, &from)
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_unions_break_like_prettier() {
        let members: Vec<String> = (0..20).map(|i| format!("\"field{i}\"")).collect();
        let u = union_type("PostField", &members);
        assert!(u.starts_with("export type PostField =\n  | \"field0\"\n"));
        assert_eq!(union_type("A", &["\"x\"".into()]), "export type A = \"x\";");
    }
}
