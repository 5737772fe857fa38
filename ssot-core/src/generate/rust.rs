//! Rust items from the IR: per model a struct, create and update inputs with `validate()`,
//! policy functions and metadata; enums; composite types; the principal type.
//!
//! Generated code names only `::ssot::...` paths, so users depend on the `ssot` crate alone.
//! Serde follows the wire format of SPEC section 4 through the adapters in `ssot::wire`.
//! The code is written as formatted text (see [`super::code`]); the `ssot!` macro parses the
//! same text into tokens.

use super::code::{Code, rust_raw_str, rust_str};
use super::{Files, HEADER};
use crate::annotations::{CmpOp, Expr, Hop, Operand, Quant, Rule, ValidateRule};
use crate::config::Config;
use crate::ir::*;
use crate::names::{bare, camel, snake, variant};
use std::fmt::Write as _;
use std::path::PathBuf;

/// The Rust file written to `$OUT_DIR/ssot.rs` (or wherever the CLI is told).
pub fn generate(ir: &Ir, config: &Config) -> Files {
    let mut files = Files::new();
    files.insert(PathBuf::from("ssot.rs"), format!("// {HEADER}\n\n{}", items(ir, config)));
    files
}

/// The items as source text, as [`generate`] writes them (docs as `///` comments).
pub fn items(ir: &Ir, config: &Config) -> String {
    render(ir, config, Code::new())
}

/// The items for the `ssot!` macro: the same, with docs as `#[doc = "..."]` attributes.
pub fn items_for_macro(ir: &Ir, config: &Config) -> String {
    render(ir, config, Code::with_doc_attributes())
}

fn render(ir: &Ir, config: &Config, mut c: Code) -> String {
    let g = Gen { ir, config };
    c.doc(Some("The datasource provider of the schema."));
    c.line(format!("pub const PROVIDER: &str = {};", rust_str(&ir.provider)));
    c.doc(Some("Metadata of every model and view with an API."));
    let metas: Vec<String> = ir.api_models().map(|m| format!("&{}::META", camel(&m.name))).collect();
    c.line("#[allow(deprecated)]");
    c.line(format!("pub const MODELS: &[&::ssot::meta::ModelMeta] = &[{}];", metas.join(", ")));
    c.line("");
    // The schema as data, the same document the TypeScript server reads (policies/schema.json).
    let doc = super::schema::document(ir, config);
    c.doc(Some("The schema as data: models, fields and their flags, policies as checked ASTs, enums,"));
    c.doc(Some("auth, routes, realtime, rate limits, database names (`SCHEMA.get()`; the same document"));
    c.doc(Some("as the TypeScript server's `schema.json`)."));
    c.line(format!("pub const SCHEMA_JSON: &str = {};", rust_raw_str(&serde_json::to_string(&doc).unwrap_or_default())));
    c.line("pub static SCHEMA: ::ssot::schema::Source = ::ssot::schema::Source::new(SCHEMA_JSON).with_inputs(INPUTS).with_openapi(OPENAPI_JSON);");
    // The OpenAPI document the TypeScript tree writes to src/openapi.json, for the Rust server's
    // `/openapi.json`, with the operations of the plugins the Rust server serves too.
    let mut openapi = super::ts::openapi::document(ir, config);
    let served = crate::plugin::active(ir, config).into_iter().filter(|a| a.plugin.rust_routes());
    let operations = served.flat_map(|a| a.plugin.generate(&a.cx).openapi.into_iter().map(move |op| (a.plugin.name().to_owned(), op)));
    super::ts::openapi::add_operations(&mut openapi, operations.collect());
    let openapi = openapi.to_string();
    c.doc(Some("The OpenAPI 3.1 document of the HTTP API (the TypeScript tree's `src/openapi.json`, with"));
    c.doc(Some("the routes of the plugins the Rust server serves)."));
    c.line(format!("pub const OPENAPI_JSON: &str = {};", rust_raw_str(&openapi)));
    c.doc(Some("How a server checks request bodies: each model's input types with their `validate()`"));
    c.doc(Some("(empty unless the `server` feature of ssot is on: a crate that serves nothing does not"));
    c.doc(Some("compile the checks)."));
    c.line("#[allow(deprecated)]");
    c.open("pub const INPUTS: &[::ssot::schema::Inputs] = ::ssot::__inputs![");
    for m in ir.api_models().filter(|m| m.kind == ModelKind::Model) {
        let name = camel(&m.name);
        c.line(format!("{} => {name}CreateInput, {name}UpdateInput;", rust_str(&m.name)));
    }
    c.close("];");
    c.line("");
    g.principal(&mut c);
    for e in &ir.enums {
        g.enum_(&mut c, e);
    }
    for ct in &ir.composite_types {
        g.composite(&mut c, ct);
    }
    for m in ir.api_models() {
        g.model(&mut c, m);
    }
    c.finish()
}

/// Every type the Rust items define, with the schema names of its fields: what
/// `[rust.type_attributes]` and `[rust.field_attributes]` may name.
pub fn generated_types(ir: &Ir, config: &Config) -> Vec<(String, Vec<String>)> {
    let names = |fields: &mut dyn Iterator<Item = &Field>| fields.map(|f| f.name.clone()).collect::<Vec<_>>();
    let mut out = vec![("Principal".to_owned(), config.claims.iter().map(|c| c.name.clone()).collect())];
    out.extend(ir.enums.iter().map(|e| (camel(&e.name), Vec::new())));
    out.extend(ir.composite_types.iter().map(|c| (camel(&c.name), names(&mut c.fields.iter().filter(|f| f.is_data())))));
    for m in ir.api_models() {
        let name = camel(&m.name);
        out.push((name.clone(), names(&mut struct_fields(ir, m))));
        if m.kind == ModelKind::Model {
            out.push((format!("{name}CreateInput"), names(&mut m.create_fields())));
            out.push((format!("{name}UpdateInput"), names(&mut m.update_fields())));
        }
    }
    out
}

/// The fields of a model's struct: its data fields and the relations it can include (not
/// `@hidden`, not to an ignored model).
fn struct_fields<'a>(ir: &'a Ir, m: &'a Model) -> impl Iterator<Item = &'a Field> + 'a {
    m.fields.iter().filter(move |f| match f.relation() {
        Some(r) => !f.ignored && !f.annotations.hidden && ir.model(&r.model).is_some_and(|t| !t.ignored),
        None => f.is_data(),
    })
}

struct Gen<'a> {
    ir: &'a Ir,
    config: &'a Config,
}

impl Gen<'_> {
    /// The user's attributes for a type (`[rust.type_attributes]`), `.` ones first.
    fn type_attributes(&self, c: &mut Code, name: &str) {
        for all in [true, false] {
            for a in self.config.type_attributes.iter().filter(|a| (a.path == ".") == all && (all || a.path == name)) {
                c.line(&a.attribute);
            }
        }
    }

    /// The user's attributes for a field (`[rust.field_attributes]`, `Type.field`).
    fn field_attributes(&self, c: &mut Code, ty: &str, field: &str) {
        for a in &self.config.field_attributes {
            if a.path.split_once('.') == Some((ty, field)) {
                c.line(&a.attribute);
            }
        }
    }
}

const DERIVE: &str = "#[derive(Debug, Clone, PartialEq, ::ssot::__private::serde::Serialize, ::ssot::__private::serde::Deserialize)]";
const SERDE_CRATE: &str = "#[serde(crate = \"::ssot::__private::serde\")]";
const SAME: &str = "::ssot::__private::serde_with::Same";

/// How an optional value is carried in a struct field.
#[derive(Clone, Copy, PartialEq)]
enum Shape {
    /// Present, not null.
    Required,
    /// Present, may be null: `Option<T>`.
    Nullable,
    /// May be absent, not null: `Option<T>`.
    Absent,
    /// May be absent or null, both meaning "none": `Option<T>`.
    AbsentOrNull,
    /// Absent, null and a value are three cases: `Option<Option<T>>`.
    Patch,
}

/// A struct field ready to print.
struct FieldOut<'f> {
    field: &'f Field,
    shape: Shape,
}

impl Gen<'_> {
    /// Rust type and wire adapter of one value of a field's type (not its arity).
    fn base(&self, ty: &FieldType) -> (String, Option<&'static str>) {
        match ty {
            FieldType::Scalar(s) => {
                let (t, a) = match s {
                    ScalarType::String => ("::std::string::String", None),
                    ScalarType::Int => ("i32", Some("::ssot::wire::Int32")),
                    ScalarType::BigInt => ("i64", Some("::ssot::wire::BigIntString")),
                    ScalarType::Float => ("f64", Some("::ssot::wire::Float")),
                    ScalarType::Decimal => ("::ssot::Decimal", Some("::ssot::wire::DecimalString")),
                    ScalarType::Boolean => ("bool", None),
                    ScalarType::DateTime => ("::ssot::DateTime<::ssot::Utc>", Some("::ssot::wire::DateTimeMillis")),
                    ScalarType::Json => ("::ssot::Json", Some("::ssot::wire::Json")),
                    ScalarType::Bytes => ("::std::vec::Vec<u8>", Some("::ssot::wire::Base64Bytes")),
                };
                (t.to_owned(), a)
            }
            FieldType::Enum(e) | FieldType::Composite(e) => (camel(e), None),
            FieldType::Relation(r) => (camel(&r.model), None),
            FieldType::Unsupported(_) => ("()".to_owned(), None),
        }
    }

    /// Prints one struct field with serde attributes for the wire format.
    fn field(&self, c: &mut Code, owner: &str, f: &Field, shape: Shape) {
        let name = snake(&f.name);
        let (base, adapter) = self.base(&f.ty);
        let (value_ty, value_as) = if f.is_list() {
            (format!("::std::vec::Vec<{base}>"), adapter.map(|a| format!("::std::vec::Vec<{a}>")))
        } else {
            (base, adapter.map(str::to_owned))
        };
        let inner = value_as.clone().unwrap_or_else(|| SAME.to_owned());
        let (ty, as_, optional) = match shape {
            Shape::Required => (value_ty, value_as, false),
            Shape::Nullable => (format!("::std::option::Option<{value_ty}>"), Some(format!("::ssot::wire::Nullable<{inner}>")), false),
            Shape::Absent => (format!("::std::option::Option<{value_ty}>"), Some(format!("::ssot::wire::Present<{inner}>")), true),
            Shape::AbsentOrNull => {
                (format!("::std::option::Option<{value_ty}>"), value_as.map(|a| format!("::std::option::Option<{a}>")), true)
            }
            Shape::Patch => {
                (format!("::std::option::Option<::std::option::Option<{value_ty}>>"), Some(format!("::ssot::wire::Patch<{inner}>")), true)
            }
        };
        c.doc(f.documentation.as_deref());
        deprecated(c, f.annotations.deprecated.as_deref());
        // One serde attribute per field, with only what differs from serde's defaults.
        let mut serde_args = Vec::new();
        if bare(&name) != f.name {
            serde_args.push(format!("rename = {}", rust_str(&f.name)));
        }
        if optional {
            serde_args.push("default, skip_serializing_if = \"::std::option::Option::is_none\"".to_owned());
        }
        // The wire adapter through serde_with's `As`, without its `serde_as` attribute macro.
        if let Some(a) = as_ {
            serde_args.push(format!("with = {}", rust_str(&format!("::ssot::wire::As::<{a}>"))));
        }
        if !serde_args.is_empty() {
            c.line(format!("#[serde({})]", serde_args.join(", ")));
        }
        self.field_attributes(c, owner, &f.name);
        c.line(format!("pub {name}: {ty},"));
    }

    fn struct_(&self, c: &mut Code, name: &str, doc: Option<&str>, extra_attrs: &[&str], fields: &[FieldOut<'_>]) {
        c.doc(doc);
        c.line(DERIVE);
        for a in extra_attrs {
            c.line(*a);
        }
        self.type_attributes(c, name);
        c.line(SERDE_CRATE);
        c.open(format!("pub struct {name} {{"));
        for f in fields {
            self.field(c, name, f.field, f.shape);
        }
        c.close("}");
    }

    fn enum_(&self, c: &mut Code, e: &Enum) {
        let name = camel(&e.name);
        let mut variants: Vec<String> = e.values.iter().map(|v| variant(&v.name)).collect();
        let mut dedup = variants.clone();
        dedup.sort();
        dedup.dedup();
        let raw_names = dedup.len() != variants.len();
        if raw_names {
            variants = e.values.iter().map(|v| crate::names::ident(&v.name)).collect();
        }
        c.doc(e.documentation.as_deref());
        c.line("#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, ::ssot::__private::serde::Serialize, ::ssot::__private::serde::Deserialize)]");
        self.type_attributes(c, &name);
        c.line(SERDE_CRATE);
        if raw_names {
            c.line("#[allow(non_camel_case_types)]");
        }
        c.open(format!("pub enum {name} {{"));
        for (v, var) in e.values.iter().zip(&variants) {
            c.doc(v.documentation.as_deref());
            c.line(format!("#[serde(rename = {})]", rust_str(&v.name)));
            c.line(format!("{var},"));
        }
        c.close("}");
        c.line("#[allow(deprecated)]");
        c.open(format!("impl {name} {{"));
        c.doc(Some("Every value, in schema order."));
        let all: Vec<String> = variants.iter().map(|v| format!("{name}::{v}")).collect();
        c.line(format!("pub const ALL: &'static [{name}] = &[{}];", all.join(", ")));
        c.doc(Some("The value as written in the schema (and on the wire)."));
        c.open("pub const fn as_str(self) -> &'static str {");
        c.open("match self {");
        for (v, var) in e.values.iter().zip(&variants) {
            c.line(format!("{name}::{var} => {},", rust_str(&v.name)));
        }
        c.close("}");
        c.close("}");
        c.close("}");
        c.open(format!("impl ::std::fmt::Display for {name} {{"));
        c.open("fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {");
        c.line("f.write_str(self.as_str())");
        c.close("}");
        c.close("}");
        c.open(format!("impl ::std::str::FromStr for {name} {{"));
        c.line("type Err = ::std::string::String;");
        c.open("fn from_str(s: &str) -> ::std::result::Result<Self, Self::Err> {");
        c.line("Self::ALL.iter().copied().find(|v| v.as_str() == s)");
        c.line(format!("    .ok_or_else(|| ::std::format!(\"`{{}}` is not a value of {}\", s))", e.name));
        c.close("}");
        c.close("}");
        c.open(format!("impl ::ssot::policy::ToValue for {name} {{"));
        c.open("fn to_value(&self) -> ::ssot::policy::Value<'_> {");
        c.line("::ssot::policy::Value::Enum(self.as_str())");
        c.close("}");
        c.close("}");
        c.line("");
    }

    fn composite(&self, c: &mut Code, ct: &CompositeType) {
        let fields: Vec<FieldOut<'_>> = ct
            .fields
            .iter()
            .filter(|f| f.is_data())
            .map(|f| FieldOut { field: f, shape: if f.is_optional() { Shape::Nullable } else { Shape::Required } })
            .collect();
        self.struct_(c, &camel(&ct.name), ct.documentation.as_deref(), &[], &fields);
        c.line("");
    }

    fn principal(&self, c: &mut Code) {
        c.doc(Some("The calling principal: the claims declared under `[auth.claims]`."));
        c.line(DERIVE);
        self.type_attributes(c, "Principal");
        c.line(SERDE_CRATE);
        c.open("pub struct Principal {");
        for claim in &self.config.claims {
            let ty = match ScalarType::from_name(&claim.ty) {
                Some(s) => FieldType::Scalar(s),
                None => FieldType::Enum(claim.ty.clone()),
            };
            let f = Field {
                name: claim.name.clone(),
                db_name: None,
                ty,
                arity: if claim.list { Arity::List } else { Arity::Required },
                default: None,
                updated_at: false,
                unique: false,
                id: false,
                ignored: false,
                native_type: None,
                documentation: Some(format!("`auth.{}` in policies.", claim.name)),
                annotations: Default::default(),
                span: Default::default(),
            };
            self.field(c, "Principal", &f, Shape::Required);
        }
        c.close("}");
        c.doc(Some("Who is calling: `None` for an anonymous caller (`auth == null` in policies)."));
        c.line("pub type Auth = ::std::option::Option<Principal>;");
        c.line("");
    }

    /// The shape of a field in the output struct (what responses carry).
    fn output_shape(&self, f: &Field) -> Shape {
        match (f.is_optional(), f.annotations.readable.is_some()) {
            (false, false) => Shape::Required,
            (true, false) => Shape::Nullable,
            (false, true) => Shape::Absent,
            (true, true) => Shape::Patch,
        }
    }

    fn model(&self, c: &mut Code, m: &Model) {
        let name = camel(&m.name);
        c.doc(m.documentation.as_deref());
        deprecated(c, m.annotations.deprecated.as_deref());
        // A relation to a deprecated model is the schema's own use of it, not the user's.
        if m.relation_fields().any(|(_, r)| self.ir.model(&r.model).is_some_and(|t| t.annotations.deprecated.is_some())) {
            c.line("#[allow(deprecated)]");
        }
        c.line(DERIVE);
        self.type_attributes(c, &name);
        c.line(SERDE_CRATE);
        c.open(format!("pub struct {name} {{"));
        for f in struct_fields(self.ir, m) {
            if let Some(r) = f.relation() {
                let fname = snake(&f.name);
                let target = camel(&r.model);
                c.doc(f.documentation.as_deref());
                c.doc(Some(&format!("Present when the relation was included (`include={}`).", f.name)));
                let rename = if bare(&fname) != f.name { format!("rename = {}, ", rust_str(&f.name)) } else { String::new() };
                let with = if !r.is_to_many() && f.is_optional() {
                    format!(", with = \"::ssot::wire::As::<::ssot::wire::Patch<{SAME}>>\"")
                } else {
                    String::new()
                };
                c.line(format!("#[serde({rename}default, skip_serializing_if = \"::std::option::Option::is_none\"{with})]"));
                self.field_attributes(c, &name, &f.name);
                // Through `Related`, so that a long chain of models compiles (see its docs).
                if r.is_to_many() {
                    c.line(format!("pub {fname}: ::std::option::Option<::ssot::Related<::std::vec::Vec<{target}>>>,"));
                } else if f.is_optional() {
                    c.line(format!("pub {fname}: ::std::option::Option<::std::option::Option<::ssot::Related<{target}>>>,"));
                } else {
                    c.line(format!("pub {fname}: ::std::option::Option<::ssot::Related<{target}>>,"));
                }
                continue;
            }
            if f.annotations.in_output() {
                self.field(c, &name, f, self.output_shape(f));
            } else {
                // Server-only slot: never on the wire; policies reading it see "unknown" (deny)
                // unless the backend fills it in.
                let fname = snake(&f.name);
                let (base, _) = self.base(&f.ty);
                let ty = if f.is_list() { format!("::std::vec::Vec<{base}>") } else { base };
                let ty = if f.is_optional() { format!("::std::option::Option<{ty}>") } else { ty };
                let why = if f.annotations.hidden { "@hidden" } else { "@writeOnly" };
                c.doc(f.documentation.as_deref());
                c.doc(Some(&format!("{why}: never serialized. Fill it in on the server for policies that read it.")));
                c.line("#[serde(skip)]");
                self.field_attributes(c, &name, &f.name);
                c.line(format!("pub {fname}: ::std::option::Option<{ty}>,"));
            }
        }
        c.close("}");
        if m.kind == ModelKind::Model {
            self.inputs(c, m);
        }
        self.policy_impl(c, m);
        c.line("");
    }

    fn inputs(&self, c: &mut Code, m: &Model) {
        let name = camel(&m.name);
        let create: Vec<FieldOut<'_>> = m
            .create_fields()
            .map(|f| {
                // A nullable field with a default tells absent (default) from null: three cases.
                let shape = match (f.optional_in_create(), f.is_optional(), f.has_server_value()) {
                    (false, _, _) => Shape::Required,
                    (true, false, _) => Shape::Absent,
                    (true, true, false) => Shape::AbsentOrNull,
                    (true, true, true) => Shape::Patch,
                };
                FieldOut { field: f, shape }
            })
            .collect();
        let update: Vec<FieldOut<'_>> =
            m.update_fields().map(|f| FieldOut { field: f, shape: if f.is_optional() { Shape::Patch } else { Shape::Absent } }).collect();
        let cdoc = format!("Input to create a [`{name}`]: fields with a default, optional fields and lists may be left out.");
        let udoc = format!("Input to update a [`{name}`]: every field may be left out; `null` clears an optional field.");
        let mut attrs = vec!["#[serde(deny_unknown_fields)]"];
        if create.iter().all(|f| f.shape != Shape::Required) {
            attrs.push("#[derive(Default)]");
        }
        let create_name = format!("{name}CreateInput");
        self.struct_(c, &create_name, Some(&cdoc), &attrs, &create);
        self.validate_impl(c, &create_name, &create);
        let update_name = format!("{name}UpdateInput");
        self.struct_(c, &update_name, Some(&udoc), &["#[serde(deny_unknown_fields)]", "#[derive(Default)]"], &update);
        self.validate_impl(c, &update_name, &update);
    }

    fn validate_impl(&self, c: &mut Code, name: &str, fields: &[FieldOut<'_>]) {
        c.line("#[allow(deprecated)]");
        c.open(format!("impl {name} {{"));
        c.doc(Some("Checks every `@validate` rule; returns all violations, each with its field path."));
        c.open("pub fn validate(&self) -> ::std::result::Result<(), ::ssot::validate::Violations> {");
        c.line("#[allow(unused_mut)]");
        c.line("let mut c = ::ssot::validate::Collector::new();");
        let mut regexes = 0;
        for f in fields {
            let rules = &f.field.annotations.validate;
            if rules.is_empty() {
                continue;
            }
            let fname = snake(&f.field.name);
            let path = rust_str(&f.field.name);
            match f.shape {
                Shape::Required => c.open(format!("{{ let v = &self.{fname};")),
                Shape::Patch => c.open(format!("if let ::std::option::Option::Some(::std::option::Option::Some(v)) = &self.{fname} {{")),
                _ => c.open(format!("if let ::std::option::Option::Some(v) = &self.{fname} {{")),
            };
            for r in rules {
                match r {
                    ValidateRule::Email => c.line(format!("c.email({path}, v);")),
                    ValidateRule::Url => c.line(format!("c.url({path}, v);")),
                    ValidateRule::Uuid => c.line(format!("c.uuid({path}, v);")),
                    ValidateRule::NonEmpty => c.line(format!("c.non_empty({path}, v.len());")),
                    ValidateRule::MinLength(n) => c.line(format!("c.min_length({path}, v, {n});")),
                    ValidateRule::MaxLength(n) => c.line(format!("c.max_length({path}, v, {n});")),
                    ValidateRule::Min(n) => c.line(format!("c.min({path}, v, {n:?});")),
                    ValidateRule::Max(n) => c.line(format!("c.max({path}, v, {n:?});")),
                    ValidateRule::Regex(re) => {
                        regexes += 1;
                        c.line(format!(
                            "static RE_{regexes}: ::std::sync::LazyLock<::ssot::__private::regex::Regex> = ::std::sync::LazyLock::new(|| ::ssot::__private::regex::Regex::new({}).expect(\"pattern checked by ssot at generation\"));",
                            rust_str(&crate::annotations::pattern::for_rust(re))
                        ));
                        // The message names the pattern as the Zod schema's does (`/.../u`).
                        c.line(format!("c.regex_literal({path}, v, &RE_{regexes}, {});", rust_str(&super::ts::validators::js_regex(re))))
                    }
                };
            }
            c.close("}");
        }
        c.line("c.finish()");
        c.close("}");
        c.close("}");
    }

    fn policy_impl(&self, c: &mut Code, m: &Model) {
        let name = camel(&m.name);
        let is_view = m.kind == ModelKind::View;
        let p = m.annotations.policy.as_ref();
        let open = p.is_none();
        let mut cx = PolicyCx { ir: self.ir, depth: 0 };
        c.line("#[allow(unused_variables, unused_imports, clippy::all)]");
        c.line("#[allow(deprecated)]");
        c.open(format!("impl {name} {{"));
        let ops: [(&str, Option<&Rule>, &str); 4] = [
            (
                "read",
                p.and_then(|p| p.read.as_ref()),
                "Row-level security: may `auth` read this row? Relations the rule reads must be loaded;\na rule that cannot be decided denies.",
            ),
            ("create", p.and_then(|p| p.create.as_ref()), "May `auth` create this row? Checked on the row to be created."),
            ("update", p.and_then(|p| p.update.as_ref()), "May `auth` update this row? Check it on the row before and after the update."),
            ("delete", p.and_then(|p| p.delete.as_ref()), "May `auth` delete this row? Checked on the row before deletion."),
        ];
        for (op, rule, doc) in ops {
            let allowed_open = open && (op == "read" || !is_view);
            let verdict = match rule {
                Some(r) => format!("`{op}`: `{}`.", r.source),
                None if allowed_open => format!("`{op}`: allowed (no `@@policy`)."),
                None => format!("`{op}`: denied (not granted by `@@policy`)."),
            };
            c.doc(Some(doc));
            c.doc(Some(&verdict));
            let body = match rule {
                Some(r) => format!("p::allow({})", cx.expr("self", m, &r.expr)),
                None => allowed_open.to_string(),
            };
            policy_fn(c, &format!("can_{op}"), rule.is_some(), &body);
        }
        let mut mask = Vec::new();
        for f in m.fields.iter().filter(|f| f.is_data()) {
            let fname = snake(&f.name);
            if let Some(r) = &f.annotations.readable {
                let fn_name = format!("can_read_{}", bare(&fname));
                c.doc(Some(&format!("`@readable({})` on `{}`.", rust_str(&r.source), f.name)));
                let body = format!("p::allow({})", cx.expr("self", m, &r.expr));
                policy_fn(c, &fn_name, true, &body);
                if f.annotations.in_output() {
                    mask.push(format!("if !self.{fn_name}(auth) {{ self.{fname} = ::std::option::Option::None; }}"));
                }
            }
            if let Some(r) = &f.annotations.writable {
                let fn_name = format!("can_write_{}", bare(&fname));
                c.doc(Some(&format!("`@writable({})` on `{}`, evaluated on the row being written.", rust_str(&r.source), f.name)));
                let body = format!("p::allow({})", cx.expr("self", m, &r.expr));
                policy_fn(c, &fn_name, true, &body);
            }
        }
        c.doc(Some("Removes the fields `auth` may not read (`@readable`) before the row is sent."));
        c.open("pub fn mask(&mut self, auth: &Auth) {");
        for l in mask {
            c.line(l);
        }
        c.close("}");
        if m.kind == ModelKind::Model {
            let name = camel(&m.name);
            c.doc(Some("No before/after hooks yet: add them and register them with the server (`ssot::server::Server::hooks`)."));
            c.open(format!("pub fn hooks() -> ::ssot::hooks::Hooks<{name}, {name}CreateInput, {name}UpdateInput> {{"));
            c.line(format!("::ssot::hooks::Hooks::new({})", rust_str(&m.name)));
            c.close("}");
        }
        self.meta(c, m);
        c.close("}");
    }

    fn meta(&self, c: &mut Code, m: &Model) {
        let ids: Vec<String> = m.id_fields().iter().map(|f| rust_str(f)).collect();
        c.doc(Some("Names, ids and relations of this model."));
        c.open("pub const META: ::ssot::meta::ModelMeta = {");
        c.line("use ::ssot::meta::{FieldKind as K, FieldMeta as F, ModelMeta, RelationMeta as R};");
        c.open("ModelMeta {");
        c.line(format!("name: {},", rust_str(&m.name)));
        c.line(format!("db_name: {},", rust_str(m.db_name.as_deref().unwrap_or(&m.name))));
        c.line(format!("is_view: {},", m.kind == ModelKind::View));
        c.line(format!("id_fields: &[{}],", ids.join(", ")));
        c.open("fields: &[");
        for f in m.fields.iter().filter(|f| !f.ignored && !matches!(f.ty, FieldType::Unsupported(_))) {
            let (type_name, kind) = match &f.ty {
                FieldType::Scalar(s) => (s.as_str(), "Scalar"),
                FieldType::Enum(e) => (e.as_str(), "Enum"),
                FieldType::Composite(ct) => (ct.as_str(), "Composite"),
                FieldType::Relation(r) => (r.model.as_str(), "Relation"),
                FieldType::Unsupported(u) => (u.as_str(), "Scalar"),
            };
            let mut line = format!("F::new({}, K::{kind}, {})", rust_str(&f.name), rust_str(type_name));
            let rust_name = snake(&f.name);
            if rust_name != f.name {
                let _ = write!(line, ".rust_name({})", rust_str(&rust_name));
            }
            if let Some(db) = &f.db_name {
                let _ = write!(line, ".db_name({})", rust_str(db));
            }
            let a = &f.annotations;
            for (on, method) in [
                (f.is_optional(), "optional"),
                (f.is_list(), "list"),
                (f.id, "id"),
                (f.unique, "unique"),
                (f.default.is_some(), "has_default"),
                (f.updated_at, "updated_at"),
                (a.read_only, "read_only"),
                (a.write_only, "write_only"),
                (a.hidden, "hidden"),
            ] {
                if on {
                    let _ = write!(line, ".{method}()");
                }
            }
            if let Some(r) = f.relation() {
                let list = |xs: &[String]| xs.iter().map(|x| rust_str(x)).collect::<Vec<_>>().join(", ");
                let _ = write!(
                    line,
                    ".relation(R {{ model: {}, name: {}, fields: &[{}], references: &[{}], to_many: {} }})",
                    rust_str(&r.model),
                    rust_str(&r.name),
                    list(&r.fields),
                    list(&r.references),
                    r.is_to_many()
                );
            }
            line.push(',');
            c.line(line);
        }
        c.close("],");
        c.close("}");
        c.close("};");
    }
}

/// A policy function; rules evaluate with short local names for the policy runtime.
fn policy_fn(c: &mut Code, name: &str, uses_runtime: bool, body: &str) {
    c.open(format!("pub fn {name}(&self, auth: &Auth) -> bool {{"));
    if uses_runtime {
        c.line("use ::ssot::policy::{self as p, Op, ToValue as _, Value as V};");
        c.line("use ::std::option::Option::{None, Some};");
    }
    c.block(body);
    c.close("}");
}

/// Compiles resolved policy expressions to Rust evaluating to `Option<bool>` (`None` =
/// unknown). Writes against the local names `p`, `Op`, `V`, `Some` and `None` of [`policy_fn`].
struct PolicyCx<'a> {
    ir: &'a Ir,
    depth: usize,
}

fn indent(s: &str) -> String {
    s.lines().map(|l| format!("    {l}")).collect::<Vec<_>>().join("\n")
}

impl PolicyCx<'_> {
    fn expr(&mut self, row: &str, model: &Model, e: &Expr) -> String {
        match e {
            Expr::Bool { value } => format!("Some({value})"),
            Expr::Truthy { operand } => format!("p::truthy({})", self.operand(row, model, operand)),
            Expr::Compare { op, left, right } => {
                let op = match op {
                    CmpOp::Eq => "Eq",
                    CmpOp::Ne => "Ne",
                    CmpOp::Lt => "Lt",
                    CmpOp::Le => "Le",
                    CmpOp::Gt => "Gt",
                    CmpOp::Ge => "Ge",
                    CmpOp::In => "In",
                    CmpOp::NotIn => "NotIn",
                };
                format!("p::cmp(Op::{op}, {}, {})", self.operand(row, model, left), self.operand(row, model, right))
            }
            Expr::Not { expr } => format!("p::not({})", self.expr(row, model, expr)),
            Expr::And { exprs } | Expr::Or { exprs } => {
                let f = if matches!(e, Expr::And { .. }) { "and" } else { "or" };
                let items: Vec<String> = exprs.iter().map(|x| indent(&format!("{},", self.expr(row, model, x)))).collect();
                format!("p::{f}(&[\n{}\n])", items.join("\n"))
            }
            Expr::Quant { quant, hops, relation, model: target, body } => {
                let rel = snake(relation);
                let list =
                    self.through_hops(row, hops, &|r| format!("{r}.{rel}.as_deref().map(::std::vec::Vec::as_slice)"), "Some(&[][..])");
                let Some(target_model) = self.ir.model(target) else { return "None".into() };
                self.depth += 1;
                let var = format!("r{}", self.depth);
                let body = self.expr(&var, target_model, body);
                self.depth -= 1;
                let f = match quant {
                    Quant::Some => "some",
                    Quant::Every => "every",
                    Quant::None => "none",
                };
                format!("p::{f}({list}, |{var}: &{}| {body})", camel(target))
            }
        }
    }

    /// Follows to-one hops from `row`; `leaf` builds the value on the last model. An unloaded
    /// relation gives `None`; a null optional relation gives `on_null`.
    fn through_hops(&mut self, row: &str, hops: &[Hop], leaf: &dyn Fn(&str) -> String, on_null: &str) -> String {
        let Some((hop, rest)) = hops.split_first() else {
            return leaf(row);
        };
        let field = snake(&hop.field);
        self.depth += 1;
        let var = format!("h{}", self.depth);
        let inner = self.through_hops(&var, rest, leaf, on_null);
        self.depth -= 1;
        if hop.optional {
            format!("{row}.{field}.as_ref().and_then(|o| match o.as_deref() {{ None => {on_null}, Some({var}) => {inner} }})")
        } else {
            format!("{row}.{field}.as_deref().and_then(|{var}| {inner})")
        }
    }

    /// An operand as `Option<Value>` (`None` = unknown).
    fn operand(&mut self, row: &str, model: &Model, o: &Operand) -> String {
        match o {
            Operand::Null => "Some(V::Null)".into(),
            Operand::Auth => "Some(if auth.is_some() { V::Opaque } else { V::Null })".into(),
            Operand::Claim { name, .. } => {
                format!("Some(auth.as_ref().map_or(V::Null, |a| a.{}.to_value()))", snake(name))
            }
            Operand::Field { hops, field, .. } => {
                let model_name = hops.last().map_or(model.name.as_str(), |h| h.model.as_str());
                let Some(leaf_field) = self.ir.model(model_name).and_then(|m| m.field(field)) else { return "None".into() };
                self.through_hops(row, hops, &|r| field_value(r, leaf_field), "Some(V::Null)")
            }
            other => format!("Some({})", literal(other).unwrap_or_else(|| "V::Null".into())),
        }
    }
}

/// A literal operand as a `Value` expression.
fn literal(o: &Operand) -> Option<String> {
    Some(match o {
        Operand::Bool { value } => format!("V::Bool({value})"),
        Operand::Int { value } => format!("V::Int({value})"),
        Operand::Float { value } => format!("V::Float({value:?})"),
        Operand::String { value } => format!("V::Str({})", rust_str(value)),
        Operand::Enum { value, .. } => format!("V::Enum({})", rust_str(value)),
        Operand::List { items } => {
            let items = items.iter().map(literal).collect::<Option<Vec<_>>>()?;
            format!("V::List(::std::vec![{}])", items.join(", "))
        }
        _ => return None,
    })
}

/// A field of `row` as `Option<Value>`: fields that may be absent on the struct (masked by
/// `@readable`, server-only) are unknown when absent.
fn field_value(row: &str, f: &Field) -> String {
    let name = snake(&f.name);
    let opaque = matches!(f.ty, FieldType::Scalar(ScalarType::Bytes | ScalarType::Json));
    let absent_able = !f.annotations.in_output() || f.annotations.readable.is_some();
    let value = |v: &str| -> String {
        match (opaque, f.is_optional()) {
            (true, true) => format!("if {v}.is_none() {{ V::Null }} else {{ V::Opaque }}"),
            (true, false) => "V::Opaque".into(),
            (false, _) => format!("{v}.to_value()"),
        }
    };
    if absent_able {
        format!("{row}.{name}.as_ref().map(|v| {})", value("v"))
    } else {
        format!("Some({})", value(&format!("{row}.{name}")))
    }
}

/// `#[deprecated]` for an item whose docs say `@deprecated <reason>`.
fn deprecated(c: &mut Code, why: Option<&str>) {
    match why {
        Some("") => {
            c.line("#[deprecated]");
        }
        Some(why) => {
            c.line(format!("#[deprecated(note = {})]", rust_str(why)));
        }
        None => {}
    }
}
