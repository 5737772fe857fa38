//! The TypeScript tree: contracts, Zod validators, OpenAPI, the SDK and project files.
//!
//! Views are computed here; the askama templates in `templates/ts/` only print them. The
//! output is formatted the way prettier formats it (the CI checks `prettier --check`).

mod openapi;
mod project;
mod server;

use super::{Files, HEADER};
use crate::annotations::ValidateRule;
use crate::config::Config;
use crate::ir::*;
use crate::names::{file_stem, model_path, ts_key, ts_type};
use askama::Template;
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

/// Longest line prettier keeps on one line (`printWidth` in the generated `.prettierrc`).
pub const PRINT_WIDTH: usize = 100;

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

    fn zod(self, expr: &str) -> String {
        match self {
            Presence::Required => expr.to_owned(),
            Presence::Nullable => format!("{expr}.nullable()"),
            Presence::Optional => format!("{expr}.optional()"),
            Presence::OptionalNullable => format!("{expr}.nullable().optional()"),
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
            b.push_str(&format!("export const {name} = {{\n"));
            for v in &e.values {
                if let Some(doc) = tsdoc(v.documentation.as_deref(), 2) {
                    b.push_str(&doc);
                    b.push('\n');
                }
                b.push_str(&format!("  {}: {},\n", ts_key(&v.name), quoted(&v.name)));
            }
            b.push_str("} as const;\n");
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
            let values: Vec<String> = e.values.iter().map(|v| quoted(&v.name)).collect();
            let one = format!("export const {name}Schema = z.enum([{}]);", values.join(", "));
            blocks.push(if one.len() <= PRINT_WIDTH {
                one
            } else {
                let items: Vec<String> = values.iter().map(|v| format!("  {v},")).collect();
                format!("export const {name}Schema = z.enum([\n{}\n]);", items.join("\n"))
            });
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
        if let Some(id) = self.id_type(m) {
            blocks.push(format!("/** Identifies a {{@link {name}}}. */\nexport type {name}Id = {id};"));
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
    fn zod_expr(&self, f: &Field, rules: bool, regexes: &mut Vec<String>, helpers: &mut BTreeSet<&'static str>) -> String {
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
        let args = if opts.is_empty() { String::new() } else { format!("{{ {} }}", opts.join(", ")) };
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
                format!("{h}({args})")
            }
            FieldType::Enum(e) | FieldType::Composite(e) => format!("{}Schema", ts_type(e)),
            FieldType::Relation(r) => format!("{}Schema", ts_type(&r.model)),
            FieldType::Unsupported(_) => "z.unknown()".into(),
        };
        if f.is_list() {
            helpers.insert("list");
            if list_non_empty { format!("list({base}, {{ nonEmpty: true }})") } else { format!("list({base})") }
        } else {
            base
        }
    }

    /// `export const XSchema: z.ZodType<X> = z.object({ ... });`
    fn zod_object(&self, name: &str, strict: bool, doc: &str, props: Vec<String>) -> String {
        let ctor = if strict { "z.strictObject" } else { "z.object" };
        let lhs = format!("export const {name}Schema: z.ZodType<{name}> =");
        let head = format!("{lhs} {ctor}(");
        // Prettier's three layouts: the object hugged by the call; `...(` fits but `...({` does
        // not: the argument on lines of its own; `...(` does not fit: a break after `=`.
        let (open, pad, close) = if head.len() < PRINT_WIDTH {
            (format!("{head}{{\n"), "", "});".to_owned())
        } else if head.len() == PRINT_WIDTH {
            (format!("{head}\n  {{\n"), "  ", "  },\n);".to_owned())
        } else {
            (format!("{lhs}\n  {ctor}({{\n"), "  ", "  });".to_owned())
        };
        let mut b = format!("/** {doc} */\n");
        if props.is_empty() {
            if head.len() + 4 <= PRINT_WIDTH {
                b.push_str(&format!("{head}{{}});"));
            } else {
                b.push_str(&format!("{lhs}\n  {ctor}({{}});"));
            }
            return b;
        }
        b.push_str(&open);
        for p in props {
            for line in p.lines() {
                b.push_str(pad);
                b.push_str(line);
                b.push('\n');
            }
        }
        b.push_str(&close);
        b
    }

    /// A property of a Zod object; fields that refer to other schemas use a getter, so modules
    /// that import each other work in any order.
    fn zod_prop(&self, f: &Field, expr: String, presence: Presence) -> String {
        let key = ts_key(&f.name);
        let full = presence.zod(&expr);
        if matches!(f.ty, FieldType::Composite(_) | FieldType::Relation(_)) {
            format!("  get {key}() {{\n    return {full};\n  }},")
        } else {
            format!("  {key}: {full},")
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
        let mut out_props: Vec<String> = m
            .output_fields()
            .map(|f| {
                all_fields.push(f);
                let e = self.zod_expr(f, false, &mut regexes, &mut helpers);
                self.zod_prop(f, e, Presence::of_output(f))
            })
            .collect();
        for (f, r) in self.includes(m) {
            all_fields.push(f);
            let target = format!("{}Schema", ts_type(&r.model));
            let e = if r.is_to_many() {
                format!("z.array({target}).optional()")
            } else if f.is_optional() {
                format!("{target}.nullable().optional()")
            } else {
                format!("{target}.optional()")
            };
            out_props.push(self.zod_prop(f, e, Presence::Required));
        }
        let mut blocks = vec![self.zod_object(&name, false, &format!("Validates a {{@link {name}}} as the API returns it."), out_props)];
        let mut contract_types = vec![name.clone()];
        if m.kind == ModelKind::Model {
            let create: Vec<String> = m
                .create_fields()
                .map(|f| {
                    all_fields.push(f);
                    let e = self.zod_expr(f, true, &mut regexes, &mut helpers);
                    self.zod_prop(f, e, Presence::of_create(f))
                })
                .collect();
            let update: Vec<String> = m
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
        let generics = format!("{name}, {name}CreateInput, {name}UpdateInput, {name}Where, {name}Id, {name}Field, {name}Include");
        let iface = if writable {
            format!("ModelClient<{generics}>")
        } else {
            format!("ReadClient<{name}, {name}Where, {name}Field, {name}Include>")
        };
        let id_path = match m.id_fields().as_slice() {
            [_] => "${encodeURIComponent(String(id))}".to_owned(),
            many => many.iter().map(|f| format!("${{encodeURIComponent(String(id.{f}))}}")).collect::<Vec<_>>().join("/"),
        };
        let mut b = String::new();
        b.push_str(&format!(
            "/** `/api/{path}`: {} */\n",
            m.documentation.as_deref().and_then(|d| d.lines().next()).unwrap_or("the API of this model.")
        ));
        let header = format!("export class {name}Client implements {iface} {{");
        if header.len() <= PRINT_WIDTH {
            b.push_str(&header);
            b.push('\n');
        } else {
            // Prettier breaks the type arguments one per line, without a trailing comma.
            let (head, args) = iface.split_once('<').unwrap_or((&iface, ""));
            let args: Vec<&str> = args.trim_end_matches('>').split(", ").collect();
            b.push_str(&format!("export class {name}Client implements {head}<\n  {}\n> {{\n", args.join(",\n  ")));
        }
        b.push_str(
            "  constructor(\n    private readonly transport: Transport,\n    private readonly options: ClientOptions = {},\n  ) {}\n\n",
        );
        let ternary = format!("    return this.options.validateResponses ? {name}Schema.parse(data) : (data as {name});");
        if ternary.len() <= PRINT_WIDTH {
            b.push_str(&format!("  private row(data: unknown): {name} {{\n{ternary}\n  }}\n\n"));
        } else {
            b.push_str(&format!(
                "  private row(data: unknown): {name} {{\n    return this.options.validateResponses\n      ? {name}Schema.parse(data)\n      : (data as {name});\n  }}\n\n"
            ));
        }
        b.push_str(&signature(
            2,
            "async list",
            &[format!("params: ListParams<{name}Where, {name}Field, {name}Include> = {{}}")],
            &format!(": Promise<ListResult<{name}>> {{"),
        ));
        b.push('\n');
        b.push_str(&format!(
            "    const res = (await this.transport.request({{\n      method: \"GET\",\n      path: \"/api/{path}\",\n      query: {{\n        ...filterQuery(params.where),\n        orderBy: params.orderBy?.join(\",\"),\n        take: params.take,\n        skip: params.skip,\n        cursor: params.cursor,\n        include: params.include?.join(\",\"),\n      }},\n    }})) as ListResult<unknown>;\n"
        ));
        b.push_str("    return { data: res.data.map((row) => this.row(row)), meta: res.meta };\n  }\n\n");
        b.push_str(&format!(
            "  async count(where?: {name}Where): Promise<number> {{\n    const res = (await this.transport.request({{\n      method: \"GET\",\n      path: \"/api/{path}/count\",\n      query: filterQuery(where),\n    }})) as {{ count: number }};\n    return res.count;\n  }}\n"
        ));
        if writable {
            b.push_str(&format!(
                "\n{}\n    return this.row(\n      await this.transport.request({{\n        method: \"GET\",\n        path: `/api/{path}/{id_path}`,\n        query: {{ include: include?.join(\",\") }},\n      }}),\n    );\n  }}\n",
                signature(2, "async get", &[format!("id: {name}Id"), format!("include?: {name}Include[]")], &format!(": Promise<{name}> {{"))
            ));
            b.push_str(&format!(
                "\n  async create(input: {name}CreateInput): Promise<{name}> {{\n    return this.row(\n      await this.transport.request({{\n        method: \"POST\",\n        path: \"/api/{path}\",\n        body: input,\n      }}),\n    );\n  }}\n"
            ));
            b.push_str(&format!(
                "\n{}\n    return this.row(\n      await this.transport.request({{\n        method: \"PATCH\",\n        path: `/api/{path}/{id_path}`,\n        body: input,\n      }}),\n    );\n  }}\n",
                signature(2, "async update", &[format!("id: {name}Id"), format!("input: {name}UpdateInput")], &format!(": Promise<{name}> {{"))
            ));
            b.push_str(&format!(
                "\n  async delete(id: {name}Id): Promise<void> {{\n    await this.transport.request({{\n      method: \"DELETE\",\n      path: `/api/{path}/{id_path}`,\n    }});\n  }}\n"
            ));
        }
        if m.annotations.search.is_some() {
            b.push_str(&format!(
                "\n  /** Full-text search over {}. */\n  async search(q: string, take?: number): Promise<ListResult<{name}>> {{\n    const res = (await this.transport.request({{\n      method: \"GET\",\n      path: \"/api/{path}/search\",\n      query: {{ q, take }},\n    }})) as ListResult<unknown>;\n    return {{ data: res.data.map((row) => this.row(row)), meta: res.meta }};\n  }}\n",
                m.annotations.search.as_deref().unwrap_or_default().join(", ")
            ));
        }
        b.push('}');
        module(imports, vec![b])
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
            imports.push(format!("import {{ {name}Client }} from \"./models/{stem}.js\";"));
            exports.push(format!("export * from \"./models/{stem}.js\";"));
            props.push(format!("  readonly {key}: {name}Client;"));
            inits.push(format!("    {key}: new {name}Client(transport, options),"));
        }
        let iface = if props.is_empty() {
            "/** Every model's client, over one transport. */\nexport type DataClient = Record<string, never>;".to_owned()
        } else {
            format!("/** Every model's client, over one transport. */\nexport interface DataClient {{\n{}\n}}", props.join("\n"))
        };
        let create = format!(
            "/** A {{@link DataClient}} over any transport. */\n{}\n  return {{\n{}\n  }};\n}}",
            signature(
                0,
                "export function createDataClient",
                &["transport: Transport".into(), "options: ClientOptions = {}".into()],
                ": DataClient {"
            ),
            inits.join("\n")
        );
        let create = if inits.is_empty() { create.replace("  return {\n\n  };", "  return {};") } else { create };
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
                imports.push(format!("import type {{ {name}, {name}Where }} from \"../contracts/{}.js\";", file_stem(&m.name)));
                rows.push(format!("  {}: {{ row: {name}; filter: {name}Where }};", lower_first(&name)));
            }
            blocks[0].push_str("\nexport * from \"./realtime.js\";");
            blocks.push(format!(
                "/** Channels of the realtime gateway: models with `@@realtime`, their rows and filters. */\nexport interface Channels {{\n{}\n}}",
                rows.join("\n")
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

/// `import [type] { a, b } from "x";`, broken over lines as prettier does when too long.
fn import_line(type_only: bool, names: &[String], from: &str) -> String {
    let kw = if type_only { "import type" } else { "import" };
    let one = format!("{kw} {{ {} }} from \"{from}\";", names.join(", "));
    if one.len() <= PRINT_WIDTH {
        return one;
    }
    let items: Vec<String> = names.iter().map(|n| format!("  {n},")).collect();
    format!("{kw} {{\n{}\n}} from \"{from}\";", items.join("\n"))
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
