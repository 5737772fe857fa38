//! The TypeScript tree: contracts, Zod validators, OpenAPI, the SDK and project files.
//!
//! Views are computed here; the askama templates in `templates/ts/` only print them. The
//! output is formatted the way prettier formats it (the CI checks `prettier --check`).

pub(crate) mod doc;
pub(crate) mod js;
mod openapi;
mod project;
mod server;

use super::{Files, HEADER};
use crate::annotations::ValidateRule;
use crate::config::Config;
use crate::ir::*;
use crate::names::{file_stem, model_path, ts_key, ts_type};
use askama::Template;
use js::{E, P, T, call, call_path, id, member, param, ty, ty_args};
use std::collections::BTreeSet;
use std::path::PathBuf;

/// The hybrid client of trees with `@@realtime` models (after the `Channels` interface).
const HYBRID: &str = r#"/**
 * A {@link DataClient} whose queries and mutations go over HTTP and whose subscriptions go over
 * the WebSocket gateway (one socket, opened at the first subscription, shared by all).
 */
export interface HybridDataClient extends DataClient {
  readonly realtime: WebSocketTransport;
  subscribe<C extends keyof Channels>(
    channel: C,
    handler: (e: RealtimeEvent<Channels[C]["row"]>) => void,
    filter?: Channels[C]["filter"],
  ): () => void;
}

/** A {@link HybridDataClient}: HTTP for calls, WebSocket for subscriptions, one token for both. */
export function createHybridClient(
  options: HttpTransportOptions & ClientOptions & { realtime: WebSocketTransportOptions },
): HybridDataClient {
  const realtime = new WebSocketTransport({ token: options.token, ...options.realtime });
  return {
    ...createHttpClient(options),
    realtime,
    subscribe: (channel, handler, filter) => realtime.subscribe(channel, handler, filter),
  };
}
"#;

pub use doc::PRINT_WIDTH;

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

/// `head(params) tail` on one line when it fits, else one parameter per line, as prettier does.
pub(super) fn signature(indent: usize, head: &str, params: &[String], tail: &str) -> String {
    let pad = " ".repeat(indent);
    let one = format!("{pad}{head}({}){tail}", params.join(", "));
    if one.len() <= PRINT_WIDTH {
        return one;
    }
    let mut out = format!("{pad}{head}(\n");
    for p in params {
        out.push_str(&format!("{pad}  {p},\n"));
    }
    out.push_str(&format!("{pad}){tail}"));
    out
}

fn module(imports: Vec<String>, blocks: Vec<String>) -> String {
    render(&Module { header: HEADER, imports, blocks })
}

/// The whole tree, relative to `ts_out`. The OpenAPI document (the largest file) is built on a
/// second thread while the TypeScript modules are written.
pub fn generate(ir: &Ir, config: &Config) -> Files {
    std::thread::scope(|scope| {
        let openapi = scope.spawn(|| openapi::generate(ir, config));
        let mut files = modules(ir, config);
        let doc = openapi.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic));
        files.insert(PathBuf::from("src/openapi.json"), doc);
        files
    })
}

fn modules(ir: &Ir, config: &Config) -> Files {
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
        put(format!("src/validators/{stem}.ts"), g.model_validator(m));
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
    for (path, text) in server::generate(ir, config) {
        put(path, text);
    }
    for (path, text) in project::generate(ir, config) {
        put(path, text);
    }
    files
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
fn filter_fields(m: &Model) -> impl Iterator<Item = &Field> {
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

    fn ts_base(&self, ty: &FieldType) -> String {
        match ty {
            FieldType::Scalar(s) => match s {
                ScalarType::String | ScalarType::BigInt | ScalarType::Decimal | ScalarType::DateTime | ScalarType::Bytes => "string".into(),
                ScalarType::Int | ScalarType::Float => "number".into(),
                ScalarType::Boolean => "boolean".into(),
                ScalarType::Json => "JsonValue".into(),
            },
            FieldType::Enum(e) | FieldType::Composite(e) => ts_type(e),
            FieldType::Relation(r) => ts_type(&r.model),
            FieldType::Unsupported(_) => "unknown".into(),
        }
    }

    fn ts_field_type(&self, f: &Field) -> String {
        let base = self.ts_base(&f.ty);
        if f.is_list() { format!("{base}[]") } else { base }
    }

    /// Type imports a contract file needs for these field types.
    fn type_imports(&self, own: &str, types: &[&FieldType]) -> Vec<String> {
        let mut common = BTreeSet::new();
        let mut enums = BTreeSet::new();
        let mut others: BTreeSet<(String, String)> = BTreeSet::new();
        for ty in types {
            match ty {
                FieldType::Scalar(ScalarType::Json) => {
                    common.insert("JsonValue".to_owned());
                }
                FieldType::Enum(e) => {
                    enums.insert(ts_type(e));
                }
                FieldType::Composite(c) if c != own => {
                    others.insert((file_stem(c), ts_type(c)));
                }
                FieldType::Relation(r) if r.model != own => {
                    others.insert((file_stem(&r.model), ts_type(&r.model)));
                }
                _ => {}
            }
        }
        let mut out = Vec::new();
        let mut group = |names: Vec<String>, from: String| {
            if !names.is_empty() {
                out.push(import_line(true, &names, &from));
            }
        };
        group(common.into_iter().collect(), "./common.js".into());
        group(enums.into_iter().collect(), "./enums.js".into());
        for (stem, name) in others {
            group(vec![name], format!("./{stem}.js"));
        }
        out
    }

    fn enum_contracts(&self) -> String {
        let mut blocks = Vec::new();
        for e in &self.ir.enums {
            let name = ts_type(&e.name);
            let mut b = String::new();
            if let Some(doc) = tsdoc(e.documentation.as_deref(), 0) {
                b.push_str(&doc);
                b.push('\n');
            }
            let props = e
                .values
                .iter()
                .map(|v| {
                    let p = P::Kv(ts_key(&v.name), js::str_lit(&v.name));
                    match tsdoc(v.documentation.as_deref(), 2) {
                        // The printer indents the comment with the property.
                        Some(d) => {
                            P::Commented(doc::verbatim(&d.lines().map(str::trim_start).collect::<Vec<_>>().join("\n ")), Box::new(p))
                        }
                        None => p,
                    }
                })
                .collect();
            b.push_str(&js::render(&js::const_decl(true, &name, None, &E::As(Box::new(E::Obj(props, true)), ty("const")))));
            b.push('\n');
            let values: Vec<String> = e.values.iter().map(|v| quoted(&v.name)).collect();
            b.push_str(&union_type(&name, &values));
            blocks.push(b);
        }
        module(vec![], blocks)
    }

    fn enum_validators(&self) -> String {
        let mut blocks = Vec::new();
        let mut names = Vec::new();
        for e in &self.ir.enums {
            let name = ts_type(&e.name);
            names.push(name.clone());
            let items = e.values.iter().map(|v| js::str_lit(&v.name)).collect();
            blocks.push(js::render(&js::const_decl(true, &format!("{name}Schema"), None, &js::call_path("z.enum", vec![E::Arr(items)]))));
        }
        module(vec!["import { z } from \"zod\";".into()], blocks)
    }

    fn interface(&self, name: &str, doc: Option<String>, props: Vec<String>) -> String {
        let mut b = String::new();
        if let Some(doc) = doc {
            b.push_str(&doc);
            b.push('\n');
        }
        if props.is_empty() {
            // An empty interface would accept any value; this accepts only `{}`.
            b.push_str(&format!("export type {name} = Record<string, never>;"));
            return b;
        }
        b.push_str(&format!("export interface {name} {{\n"));
        for p in props {
            b.push_str(&p);
            b.push('\n');
        }
        b.push('}');
        b
    }

    fn prop(&self, f: &Field, presence: Presence) -> String {
        let mut s = String::new();
        if let Some(doc) = tsdoc(f.documentation.as_deref(), 2) {
            s.push_str(&doc);
            s.push('\n');
        }
        s.push_str("  ");
        s.push_str(&presence.property(&ts_key(&f.name), &self.ts_field_type(f)));
        s
    }

    fn composite_contract(&self, ct: &CompositeType) -> String {
        let name = ts_type(&ct.name);
        let fields: Vec<&Field> = ct.fields.iter().filter(|f| f.is_data()).collect();
        let props = fields.iter().map(|f| self.prop(f, if f.is_optional() { Presence::Nullable } else { Presence::Required })).collect();
        let types: Vec<&FieldType> = fields.iter().map(|f| &f.ty).collect();
        module(self.type_imports(&ct.name, &types), vec![self.interface(&name, tsdoc(ct.documentation.as_deref(), 0), props)])
    }

    fn model_contract(&self, m: &Model) -> String {
        let name = ts_type(&m.name);
        let mut types: Vec<&FieldType> = m.output_fields().map(|f| &f.ty).collect();
        types.extend(m.create_fields().map(|f| &f.ty));
        let includes = self.includes(m);
        types.extend(includes.iter().map(|(f, _)| &f.ty));
        let mut imports = self.type_imports(&m.name, &types);

        let mut props: Vec<String> = m.output_fields().map(|f| self.prop(f, Presence::of_output(f))).collect();
        for (f, r) in &includes {
            let target = ts_type(&r.model);
            let ty = match (r.is_to_many(), f.is_optional()) {
                (true, _) => format!("{target}[]"),
                (false, true) => format!("{target} | null"),
                (false, false) => target,
            };
            let mut p = tsdoc(f.documentation.as_deref(), 2).map(|d| d + "\n").unwrap_or_default();
            p.push_str(&format!("  /** Present when included (`include={}`). */\n", f.name));
            p.push_str(&format!("  {}?: {ty};", ts_key(&f.name)));
            props.push(p);
        }
        let mut blocks = vec![self.interface(&name, tsdoc(m.documentation.as_deref(), 0), props)];
        if m.kind == ModelKind::Model {
            let create = m.create_fields().map(|f| self.prop(f, Presence::of_create(f))).collect();
            blocks.push(self.interface(
                &format!("{name}CreateInput"),
                tsdoc(
                    Some(&format!("Input to create a {{@link {name}}}: fields with a default, optional fields and lists may be left out.")),
                    0,
                ),
                create,
            ));
            let update = m.update_fields().map(|f| self.prop(f, Presence::of_update(f))).collect();
            blocks.push(self.interface(
                &format!("{name}UpdateInput"),
                tsdoc(
                    Some(&format!("Input to update a {{@link {name}}}: every field may be left out; `null` clears an optional field.")),
                    0,
                ),
                update,
            ));
        }
        // Filters.
        let mut filters = BTreeSet::new();
        let where_props: Vec<String> = filter_fields(m)
            .map(|f| {
                let n = if f.is_optional() { ", null" } else { "" };
                let (filter, generic) = match &f.ty {
                    FieldType::Enum(e) => ("EnumFilter", format!("<{}{n}>", ts_type(e))),
                    FieldType::Scalar(ScalarType::String) => ("StringFilter", if n.is_empty() { String::new() } else { "<null>".into() }),
                    FieldType::Scalar(ScalarType::Int | ScalarType::Float) => {
                        ("NumberFilter", if n.is_empty() { String::new() } else { "<null>".into() })
                    }
                    FieldType::Scalar(ScalarType::Boolean) => ("BooleanFilter", if n.is_empty() { String::new() } else { "<null>".into() }),
                    _ => ("OrderedStringFilter", if n.is_empty() { String::new() } else { "<null>".into() }),
                };
                filters.insert(filter);
                format!("  {}?: {filter}{generic};", ts_key(&f.name))
            })
            .collect();
        if !filters.is_empty() {
            let names: Vec<String> = filters.into_iter().map(str::to_owned).collect();
            imports.insert(0, import_line(true, &names, "./common.js"));
            merge_imports(&mut imports);
        }
        blocks.push(self.interface(
            &format!("{name}Where"),
            tsdoc(Some(&format!("Filters of a {{@link {name}}} list: `filter[field][op]=value`.")), 0),
            where_props,
        ));
        let fields: Vec<String> = filter_fields(m).map(|f| quoted(&f.name)).collect();
        blocks.push(format!("/** Fields a {{@link {name}}} list can be sorted by. */\n{}", union_type(&format!("{name}Field"), &fields)));
        let incl: Vec<String> = includes.iter().map(|(f, _)| quoted(&f.name)).collect();
        blocks.push(format!("/** Relations a {{@link {name}}} response can include. */\n{}", union_type(&format!("{name}Include"), &incl)));
        if self.id_type(m).is_some() {
            let ids: Vec<&Field> = m.id_fields().iter().filter_map(|n| m.field(n)).collect();
            let id_ty = match ids.as_slice() {
                [one] => ty(self.ts_base(&one.ty)),
                many => T::Object(many.iter().map(|f| (ts_key(&f.name), false, ty(self.ts_base(&f.ty)))).collect()),
            };
            blocks.push(format!("/** Identifies a {{@link {name}}}. */\n{}", js::render(&js::type_alias(&format!("{name}Id"), &id_ty))));
        }
        module(imports, blocks)
    }

    /// The TS type of a model's identifier, if it has one.
    fn id_type(&self, m: &Model) -> Option<String> {
        let ids = m.id_fields();
        match ids.as_slice() {
            [] => None,
            [one] => m.field(one).map(|f| self.ts_base(&f.ty)),
            many => {
                let parts: Vec<String> =
                    many.iter().filter_map(|n| m.field(n)).map(|f| format!("{}: {}", ts_key(&f.name), self.ts_base(&f.ty))).collect();
                Some(format!("{{ {} }}", parts.join("; ")))
            }
        }
    }

    /// A field's Zod expression, with `@validate` rules when `rules` is set.
    fn zod_expr(&self, f: &Field, rules: bool, regexes: &mut Vec<String>, helpers: &mut BTreeSet<&'static str>) -> E {
        let r: &[ValidateRule] = if rules { &f.annotations.validate } else { &[] };
        let mut opts: Vec<String> = Vec::new();
        let mut list_non_empty = false;
        for rule in r {
            match rule {
                ValidateRule::Email => opts.push("email: true".into()),
                ValidateRule::Url => opts.push("url: true".into()),
                ValidateRule::Uuid => opts.push("uuid: true".into()),
                ValidateRule::NonEmpty if f.is_list() => list_non_empty = true,
                ValidateRule::NonEmpty => opts.push("nonEmpty: true".into()),
                ValidateRule::Regex(re) => {
                    regexes.push(js_regex(re));
                    opts.push(format!("regex: RE_{}", regexes.len()));
                }
                ValidateRule::MinLength(n) => opts.push(format!("minLength: {n}")),
                ValidateRule::MaxLength(n) => opts.push(format!("maxLength: {n}")),
                ValidateRule::Min(n) | ValidateRule::Max(n) => {
                    let key = if matches!(rule, ValidateRule::Min(_)) { "min" } else { "max" };
                    opts.push(match &f.ty {
                        // Exact integer bounds: the smallest integer ≥ min, the largest ≤ max.
                        FieldType::Scalar(ScalarType::BigInt) => {
                            let b = if key == "min" { n.ceil() } else { n.floor() };
                            format!("{key}: \"{}\"", b as i128)
                        }
                        FieldType::Scalar(ScalarType::Decimal) => format!("{key}: \"{n}\""),
                        _ => format!("{key}: {n}"),
                    });
                }
            }
        }
        // `key: value` options: quoted values are string literals, the rest are printed as is.
        let opts: Vec<P> = opts
            .iter()
            .filter_map(|o| o.split_once(": "))
            .map(|(k, v)| P::Kv(k.to_owned(), if v.starts_with('"') { E::Str(v.to_owned()) } else { id(v) }))
            .collect();
        let args = if opts.is_empty() { vec![] } else { vec![E::Obj(opts, false)] };
        let base = match &f.ty {
            FieldType::Scalar(s) => {
                let h = match s {
                    ScalarType::String => "string",
                    ScalarType::Int => "int",
                    ScalarType::BigInt => "bigint",
                    ScalarType::Float => "float",
                    ScalarType::Decimal => "decimal",
                    ScalarType::Boolean => "boolean",
                    ScalarType::DateTime => "dateTime",
                    ScalarType::Json => "json",
                    ScalarType::Bytes => "bytes",
                };
                helpers.insert(h);
                call(id(h), args)
            }
            FieldType::Enum(e) | FieldType::Composite(e) => id(format!("{}Schema", ts_type(e))),
            FieldType::Relation(r) => id(format!("{}Schema", ts_type(&r.model))),
            FieldType::Unsupported(_) => call_path("z.unknown", vec![]),
        };
        if f.is_list() {
            helpers.insert("list");
            let mut args = vec![base];
            if list_non_empty {
                args.push(E::Obj(vec![P::Kv("nonEmpty".into(), id("true"))], false));
            }
            call(id("list"), args)
        } else {
            base
        }
    }

    /// `export const XSchema: z.ZodType<X> = z.object({ ... });`
    fn zod_object(&self, name: &str, strict: bool, doc: &str, props: Vec<P>) -> String {
        let ctor = if strict { "z.strictObject" } else { "z.object" };
        let decl = js::const_decl(
            true,
            &format!("{name}Schema"),
            Some(&ty_args("z.ZodType", vec![ty(name)])),
            &call_path(ctor, vec![E::Obj(props, true)]),
        );
        js::render(&doc::concat([doc::Doc::text(format!("/** {doc} */")), doc::hardline(), decl]))
    }

    /// A property of a Zod object; fields that refer to other schemas use a getter, so modules
    /// that import each other work in any order.
    fn zod_prop(&self, f: &Field, expr: E, presence: Presence) -> P {
        let key = ts_key(&f.name);
        let full = presence.zod(expr);
        if matches!(f.ty, FieldType::Composite(_) | FieldType::Relation(_)) {
            P::Method(format!("get {key}"), vec![], None, js::return_stmt(&full))
        } else {
            P::Kv(key, full)
        }
    }

    fn validator_imports(
        &self,
        own: &str,
        contract_types: Vec<String>,
        fields: &[&Field],
        helpers: &BTreeSet<&'static str>,
    ) -> Vec<String> {
        let mut imports = vec!["import { z } from \"zod\";".to_owned()];
        imports.push(import_line(true, &contract_types, &format!("../contracts/{}.js", file_stem(own))));
        if !helpers.is_empty() {
            let h: Vec<String> = helpers.iter().map(|s| (*s).to_owned()).collect();
            imports.push(import_line(false, &h, "./common.js"));
        }
        let enums: BTreeSet<String> = fields
            .iter()
            .filter_map(|f| if let FieldType::Enum(e) = &f.ty { Some(format!("{}Schema", ts_type(e))) } else { None })
            .collect();
        if !enums.is_empty() {
            imports.push(import_line(false, &enums.into_iter().collect::<Vec<_>>(), "./enums.js"));
        }
        let others: BTreeSet<(String, String)> = fields
            .iter()
            .filter_map(|f| match &f.ty {
                FieldType::Composite(c) if c != own => Some((file_stem(c), format!("{}Schema", ts_type(c)))),
                FieldType::Relation(r) if r.model != own => Some((file_stem(&r.model), format!("{}Schema", ts_type(&r.model)))),
                _ => None,
            })
            .collect();
        for (stem, name) in others {
            imports.push(import_line(false, &[name], &format!("./{stem}.js")));
        }
        imports
    }

    fn composite_validator(&self, ct: &CompositeType) -> String {
        let name = ts_type(&ct.name);
        let fields: Vec<&Field> = ct.fields.iter().filter(|f| f.is_data()).collect();
        let mut regexes = Vec::new();
        let mut helpers = BTreeSet::new();
        let props = fields
            .iter()
            .map(|f| {
                let e = self.zod_expr(f, false, &mut regexes, &mut helpers);
                self.zod_prop(f, e, if f.is_optional() { Presence::Nullable } else { Presence::Required })
            })
            .collect();
        let block = self.zod_object(&name, false, &format!("Validates a {{@link {name}}}."), props);
        module(self.validator_imports(&ct.name, vec![name.clone()], &fields, &helpers), vec![block])
    }

    fn model_validator(&self, m: &Model) -> String {
        let name = ts_type(&m.name);
        let mut regexes = Vec::new();
        let mut helpers = BTreeSet::new();
        let mut all_fields: Vec<&Field> = Vec::new();
        let mut out_props: Vec<P> = m
            .output_fields()
            .map(|f| {
                all_fields.push(f);
                let e = self.zod_expr(f, false, &mut regexes, &mut helpers);
                self.zod_prop(f, e, Presence::of_output(f))
            })
            .collect();
        for (f, r) in self.includes(m) {
            all_fields.push(f);
            let target = id(format!("{}Schema", ts_type(&r.model)));
            let (e, presence) = if r.is_to_many() {
                (call_path("z.array", vec![target]), Presence::Optional)
            } else if f.is_optional() {
                (target, Presence::OptionalNullable)
            } else {
                (target, Presence::Optional)
            };
            out_props.push(self.zod_prop(f, e, presence));
        }
        let mut blocks = vec![self.zod_object(&name, false, &format!("Validates a {{@link {name}}} as the API returns it."), out_props)];
        let mut contract_types = vec![name.clone()];
        if m.kind == ModelKind::Model {
            let create: Vec<P> = m
                .create_fields()
                .map(|f| {
                    all_fields.push(f);
                    let e = self.zod_expr(f, true, &mut regexes, &mut helpers);
                    self.zod_prop(f, e, Presence::of_create(f))
                })
                .collect();
            let update: Vec<P> = m
                .update_fields()
                .map(|f| {
                    let e = self.zod_expr(f, true, &mut regexes, &mut helpers);
                    self.zod_prop(f, e, Presence::of_update(f))
                })
                .collect();
            blocks.push(self.zod_object(
                &format!("{name}CreateInput"),
                true,
                &format!("Validates the input to create a {{@link {name}}}, with every `@validate` rule."),
                create,
            ));
            blocks.push(self.zod_object(
                &format!("{name}UpdateInput"),
                true,
                &format!("Validates the input to update a {{@link {name}}}, with every `@validate` rule."),
                update,
            ));
            contract_types.push(format!("{name}CreateInput"));
            contract_types.push(format!("{name}UpdateInput"));
        }
        if !regexes.is_empty() {
            let lines: Vec<String> = regexes.iter().enumerate().map(|(i, re)| format!("const RE_{} = {re};", i + 1)).collect();
            blocks.insert(0, lines.join("\n"));
        }
        contract_types.sort();
        module(self.validator_imports(&m.name, contract_types, &all_fields, &helpers), blocks)
    }

    fn model_client(&self, m: &Model) -> String {
        let name = ts_type(&m.name);
        let path = model_path(m);
        let stem = file_stem(&m.name);
        let writable = m.kind == ModelKind::Model && self.id_type(m).is_some();
        let mut contract_types = vec![name.clone(), format!("{name}Field"), format!("{name}Include"), format!("{name}Where")];
        let mut schemas = vec![format!("{name}Schema")];
        if writable {
            contract_types.extend([format!("{name}CreateInput"), format!("{name}Id"), format!("{name}UpdateInput")]);
        }
        contract_types.sort();
        schemas.sort();
        let mut sdk_types = vec!["ClientOptions".to_owned(), "ListParams".into(), "ListResult".into(), "Transport".into()];
        sdk_types.push(if writable { "ModelClient".into() } else { "ReadClient".into() });
        sdk_types.sort();
        let imports = vec![
            import_line(true, &contract_types, &format!("../../contracts/{stem}.js")),
            import_line(false, &schemas, &format!("../../validators/{stem}.js")),
            import_line(false, &["filterQuery".into()], "../types.js"),
            import_line(true, &sdk_types, "../types.js"),
        ];
        let imports = merge_type_and_value(imports);
        let id_path = match m.id_fields().as_slice() {
            [_] => "${encodeURIComponent(String(id))}".to_owned(),
            many => many.iter().map(|f| format!("${{encodeURIComponent(String(id.{f}))}}")).collect::<Vec<_>>().join("/"),
        };
        let doc = format!(
            "/** `/api/{path}`: {} */",
            m.documentation.as_deref().and_then(|d| d.lines().next()).unwrap_or("the API of this model.")
        );
        let t = |s: String| ty(s);
        let iface = if writable {
            let args = ["", "CreateInput", "UpdateInput", "Where", "Id", "Field", "Include"];
            ty_args("ModelClient", args.iter().map(|a| t(format!("{name}{a}"))).collect())
        } else {
            ty_args("ReadClient", ["", "Where", "Field", "Include"].iter().map(|a| t(format!("{name}{a}"))).collect())
        };
        let header = doc::concat([format!("export class {name}Client implements ").into(), js::type_doc(&iface), " {".into()]);
        let promise = |inner: T| ty_args("Promise", vec![inner]);
        let list_result = ty_args("ListResult", vec![t(name.clone())]);
        // `async name(params): Ret {` and the body's statements.
        let method = |name_: &str, params: Vec<js::Param>, ret: T, body: doc::Doc| {
            doc::concat([name_.into(), js::signature(&params, Some(&ret)), " ".into(), js::block(&body)])
        };
        let v = |text: &str| doc::verbatim(text);
        let opt = |mut p: js::Param| {
            p.optional = true;
            p
        };
        let mut members = vec![doc::verbatim(
            "constructor(\n  private readonly transport: Transport,\n  private readonly options: ClientOptions = {},\n) {}",
        )];
        let row_body = js::return_stmt(&E::Cond(
            Box::new(js::path("this.options.validateResponses")),
            Box::new(js::call_path(&format!("{name}Schema.parse"), vec![id("data")])),
            Box::new(id(format!("(data as {name})"))),
        ));
        members.push(method("private row", vec![param("data", Some(t("unknown".into())))], t(name.clone()), row_body));
        let mut list_params =
            param("params", Some(ty_args("ListParams", ["Where", "Field", "Include"].iter().map(|a| t(format!("{name}{a}"))).collect())));
        list_params.default = Some(E::Obj(vec![], false));
        members.push(method(
            "async list",
            vec![list_params],
            promise(list_result.clone()),
            v(&format!("const res = (await this.transport.request({{\n  method: \"GET\",\n  path: \"/api/{path}\",\n  query: {{\n    ...filterQuery(params.where),\n    orderBy: params.orderBy?.join(\",\"),\n    take: params.take,\n    skip: params.skip,\n    cursor: params.cursor,\n    include: params.include?.join(\",\"),\n  }},\n}})) as ListResult<unknown>;\nreturn {{ data: res.data.map((row) => this.row(row)), meta: res.meta }};")),
        ));
        members.push(method(
            "async count",
            vec![opt(param("where", Some(t(format!("{name}Where")))))],
            promise(t("number".into())),
            v(&format!("const res = (await this.transport.request({{\n  method: \"GET\",\n  path: \"/api/{path}/count\",\n  query: filterQuery(where),\n}})) as {{ count: number }};\nreturn res.count;")),
        ));
        if writable {
            let id_param = || param("id", Some(t(format!("{name}Id"))));
            let row_call = |method_: &str, path_: &str, extra: &str| {
                format!(
                    "return this.row(\n  await this.transport.request({{\n    method: \"{method_}\",\n    path: {path_},\n    {extra},\n  }}),\n);"
                )
            };
            let one_path = format!("`/api/{path}/{id_path}`");
            members.push(method(
                "async get",
                vec![id_param(), opt(param("include", Some(T::Array(Box::new(t(format!("{name}Include")))))))],
                promise(t(name.clone())),
                v(&row_call("GET", &one_path, "query: { include: include?.join(\",\") }")),
            ));
            members.push(method(
                "async create",
                vec![param("input", Some(t(format!("{name}CreateInput"))))],
                promise(t(name.clone())),
                v(&row_call("POST", &format!("\"/api/{path}\""), "body: input")),
            ));
            members.push(method(
                "async update",
                vec![id_param(), param("input", Some(t(format!("{name}UpdateInput"))))],
                promise(t(name.clone())),
                v(&row_call("PATCH", &one_path, "body: input")),
            ));
            members.push(method(
                "async delete",
                vec![id_param()],
                promise(t("void".into())),
                v(&format!("await this.transport.request({{\n  method: \"DELETE\",\n  path: {one_path},\n}});")),
            ));
        }
        if let Some(fields) = &m.annotations.search {
            members.push(doc::concat([
                doc::Doc::text(format!("/** Full-text search over {}. */", fields.join(", "))),
                doc::hardline(),
                method(
                    "async search",
                    vec![param("q", Some(t("string".into()))), opt(param("take", Some(t("number".into()))))],
                    promise(list_result),
                    v(&format!("const res = (await this.transport.request({{\n  method: \"GET\",\n  path: \"/api/{path}/search\",\n  query: {{ q, take }},\n}})) as ListResult<unknown>;\nreturn {{ data: res.data.map((row) => this.row(row)), meta: res.meta }};")),
                ),
            ]));
        }
        let class = doc::concat([
            doc.into(),
            doc::hardline(),
            header,
            doc::indent(doc::concat([doc::hardline(), doc::join(doc::concat([doc::hardline(), doc::hardline()]), members)])),
            doc::hardline(),
            "}".into(),
        ]);
        module(imports, vec![js::render(&class)])
    }

    fn sdk_index(&self, models: &[&Model]) -> String {
        let mut imports = vec![
            "import { HttpTransport, type HttpTransportOptions } from \"./http.js\";".to_owned(),
            "import type { ClientOptions, Transport } from \"./types.js\";".to_owned(),
        ];
        let mut props = Vec::new();
        let mut inits = Vec::new();
        let mut exports = vec!["export * from \"./http.js\";".to_owned(), "export * from \"./types.js\";".to_owned()];
        for m in models.iter().filter(|m| m.annotations.expose.api) {
            let name = ts_type(&m.name);
            let stem = file_stem(&m.name);
            let key = lower_first(&name);
            imports.push(import_line(false, &[format!("{name}Client")], &format!("./models/{stem}.js")));
            exports.push(format!("export * from \"./models/{stem}.js\";"));
            props.push(format!("  readonly {key}: {name}Client;"));
            inits.push(P::Kv(key, E::New(format!("{name}Client"), vec![id("transport"), id("options")])));
        }
        let iface = if props.is_empty() {
            "/** Every model's client, over one transport. */\nexport type DataClient = Record<string, never>;".to_owned()
        } else {
            format!("/** Every model's client, over one transport. */\nexport interface DataClient {{\n{}\n}}", props.join("\n"))
        };
        let mut options = param("options", Some(ty("ClientOptions")));
        options.default = Some(E::Obj(vec![], false));
        let create = format!(
            "/** A {{@link DataClient}} over any transport. */\n{}",
            js::render(&js::function(
                true,
                "createDataClient",
                &[param("transport", Some(ty("Transport"))), options],
                Some(&ty("DataClient")),
                &js::return_stmt(&E::Obj(inits, true)),
            ))
        );
        let http = format!(
            "/** A {{@link DataClient}} over HTTP. */\n{}\n  return createDataClient(new HttpTransport(options), options);\n}}",
            signature(0, "export function createHttpClient", &["options: HttpTransportOptions & ClientOptions".into()], ": DataClient {")
        );
        let mut blocks = vec![exports.join("\n"), iface, create, http];
        let channels: Vec<&&Model> = models.iter().filter(|m| m.annotations.expose.api && m.annotations.realtime.is_some()).collect();
        if server::has_realtime(self.ir) && !channels.is_empty() {
            imports.push("import { WebSocketTransport } from \"./realtime.js\";".into());
            imports.push("import type { RealtimeEvent, WebSocketTransportOptions } from \"./realtime.js\";".into());
            let mut rows = Vec::new();
            for m in &channels {
                let name = ts_type(&m.name);
                imports.push(import_line(
                    true,
                    &[name.clone(), format!("{name}Where")],
                    &format!("../contracts/{}.js", file_stem(&m.name)),
                ));
                let row = T::Object(vec![("row".into(), false, ty(name.clone())), ("filter".into(), false, ty(format!("{name}Where")))]);
                rows.push(doc::concat([format!("{}: ", lower_first(&name)).into(), js::type_doc(&row), ";".into()]));
            }
            blocks[0].push_str("\nexport * from \"./realtime.js\";");
            blocks.push(format!(
                "/** Channels of the realtime gateway: models with `@@realtime`, their rows and filters. */\n{}",
                js::render(&doc::concat([
                    "export interface Channels {".into(),
                    doc::indent(doc::concat([doc::hardline(), doc::join(doc::hardline(), rows)])),
                    doc::hardline(),
                    "}".into()
                ]))
            ));
            blocks.push(HYBRID.trim_end().to_owned());
        }
        module(imports, blocks)
    }
}

fn lower_first(s: &str) -> String {
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

/// A JavaScript regular expression literal with the `u` flag for a pattern the annotation
/// checker accepted.
fn js_regex(pattern: &str) -> String {
    let mut out = String::from("/");
    let mut escaped = false;
    let mut in_class = false;
    for c in pattern.chars() {
        match c {
            '/' if !escaped && !in_class => out.push_str("\\/"),
            '[' if !escaped => {
                in_class = true;
                out.push(c)
            }
            ']' if !escaped => {
                in_class = false;
                out.push(c)
            }
            _ => out.push(c),
        }
        escaped = c == '\\' && !escaped;
    }
    out.push_str("/u");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regex_literals_escape_slashes() {
        assert_eq!(js_regex("^a/b[/]$"), "/^a\\/b[/]$/u");
        assert_eq!(js_regex(r"^\/x$"), r"/^\/x$/u");
    }

    #[test]
    fn long_unions_break_like_prettier() {
        let members: Vec<String> = (0..20).map(|i| format!("\"field{i}\"")).collect();
        let u = union_type("PostField", &members);
        assert!(u.starts_with("export type PostField =\n  | \"field0\"\n"));
        assert_eq!(union_type("A", &["\"x\"".into()]), "export type A = \"x\";");
    }
}
