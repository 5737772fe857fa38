//! The annotation language of SPEC section 3: `@`/`@@` lines in `///` doc comments, parsed
//! ([`syntax`], [`expr`]), checked against the schema and config ([`check`]) and attached to the
//! IR. Every error is collected and located; nothing stops at the first.

pub mod check;
pub mod expr;
pub mod lines;
pub mod pattern;
pub mod syntax;
pub mod zod;

pub use check::{Base, Expr, Hop, Operand, ValueType};
pub use expr::{CmpOp, Quant};

use crate::config::Config;
use crate::diagnostics::{Diagnostic, Severity, Span, did_you_mean};
use crate::frontend::{DocLine, Parsed};
use crate::ir::{FieldType, Ir, Model, ModelKind, ScalarType};
use syntax::{RawAnnotation, RawArg, RawValue};

pub use crate::ir::annotations::*;

pub const MODEL_ANNOTATIONS: &[&str] = &["auth", "policy", "realtime", "search", "service", "rateLimit", "expose"];
pub const FIELD_ANNOTATIONS: &[&str] = &["validate", "readable", "writable", "readOnly", "writeOnly", "hidden"];

/// Parses and checks every annotation and returns the IR with them attached, or every error.
/// On success the IR comes with any warnings; on failure, every diagnostic (errors first).
pub fn apply(parsed: Parsed, config: &Config, config_file: Option<usize>) -> Result<(Ir, Vec<Diagnostic>), Vec<Diagnostic>> {
    let Parsed { mut ir, docs, enum_docs, composite_docs, .. } = parsed;
    let mut diags = Vec::new();
    check_claims(&ir, config, config_file, &mut diags);
    check_rust_attributes(&ir, config, config_file, &mut diags);

    for lines in enum_docs.iter().chain(&composite_docs) {
        for a in parse_lines(lines, &mut diags) {
            diags.push(Diagnostic::error(
                format!("`{}` cannot be used here: annotations belong on models and their fields", at(&a)),
                a.name_span,
            ));
        }
    }

    let mut model_results = Vec::new();
    for (mi, model_docs) in docs.iter().enumerate() {
        let model = &ir.models[mi];
        let mut cx = ModelCx { ir: &ir, config, model, diags: &mut diags, search_spans: Vec::new() };
        let raws = parse_lines(&model_docs.model, cx.diags);
        let mut model_ann = cx.model_annotations(raws);
        model_ann.deprecated = deprecation(&model_docs.model);
        cx.zod_on_model(&model_docs.model);
        let fields: Vec<FieldAnnotations> = model_docs
            .fields
            .iter()
            .enumerate()
            .map(|(fi, lines)| {
                let raws = parse_lines(lines, cx.diags);
                let mut fa = cx.field_annotations(fi, raws);
                fa.deprecated = deprecation(lines);
                cx.zod_rules(fi, lines, &mut fa.validate);
                for r in native_rules(&cx.model.fields[fi]) {
                    if !fa.validate.contains(&r) {
                        fa.validate.push(r);
                    }
                }
                fa
            })
            .collect();
        cx.check_search(&fields);
        cx.warn_unique_oracles(&fields);
        model_results.push((model_ann, fields));
    }
    for (model, (ann, fields)) in ir.models.iter_mut().zip(model_results) {
        model.annotations = ann;
        for (field, fa) in model.fields.iter_mut().zip(fields) {
            field.annotations = fa;
        }
    }
    check_paths(&ir, &mut diags);
    if diags.iter().any(|d| d.severity == Severity::Error) {
        diags.sort_by_key(|d| d.severity != Severity::Error);
        Err(diags)
    } else {
        Ok((ir, diags))
    }
}

/// What a native type (`@db.VarChar(80)`, `@db.Uuid`, `@db.SmallInt`, `@db.Decimal(5, 2)`) lets
/// the column hold, as validation rules: nothing Zod or Rust accepts is then refused by the
/// database with a generic 400.
fn native_rules(f: &crate::ir::Field) -> Vec<ValidateRule> {
    use ValidateRule as R;
    let Some(nt) = &f.native_type else { return vec![] };
    if f.is_list() {
        return vec![];
    }
    let arg = |i: usize| nt.args.get(i).and_then(|a| a.trim().parse::<u32>().ok());
    let range = |lo: f64, hi: f64| vec![R::Min(lo), R::Max(hi)];
    match (&f.ty, nt.name.as_str()) {
        (FieldType::Scalar(ScalarType::String), "VarChar" | "Char" | "NVarChar" | "NChar" | "String" | "Bit" | "VarBit") => {
            arg(0).map(|n| vec![R::MaxLength(n)]).unwrap_or_default()
        }
        (FieldType::Scalar(ScalarType::String), "Uuid" | "UniqueIdentifier") => vec![R::Uuid],
        (FieldType::Scalar(ScalarType::String), "ObjectId") => vec![R::Regex("^[0-9a-fA-F]{24}$".into())],
        (FieldType::Scalar(ScalarType::Int), "SmallInt" | "Int2") => range(-32768.0, 32767.0),
        (FieldType::Scalar(ScalarType::Int), "TinyInt") => range(-128.0, 127.0),
        (FieldType::Scalar(ScalarType::Int), "UnsignedTinyInt") => range(0.0, 255.0),
        (FieldType::Scalar(ScalarType::Int), "UnsignedSmallInt") => range(0.0, 65535.0),
        (FieldType::Scalar(ScalarType::Int), "MediumInt") => range(-8388608.0, 8388607.0),
        (FieldType::Scalar(ScalarType::Int), "UnsignedMediumInt") => range(0.0, 16777215.0),
        (FieldType::Scalar(ScalarType::Int | ScalarType::BigInt), "UnsignedInt" | "UnsignedBigInt" | "Oid") => vec![R::Min(0.0)],
        (FieldType::Scalar(ScalarType::Decimal), "Decimal" | "Numeric") => match (arg(0), arg(1)) {
            // Up to 15 digits the bound is exact as a double (and so in the generated code).
            (Some(p), Some(sc)) if sc <= p && p <= 15 => {
                let max = 10f64.powi((p - sc) as i32) - 10f64.powi(-(sc as i32));
                let max = format!("{max:.prec$}", prec = sc as usize).parse::<f64>().unwrap_or(max);
                range(-max, max)
            }
            _ => vec![],
        },
        _ => vec![],
    }
}

/// Two models served at one `/api/<path>` would shadow each other.
fn check_paths(ir: &Ir, diags: &mut Vec<Diagnostic>) {
    let mut seen: Vec<(String, &str)> = Vec::new();
    for m in ir.api_models().filter(|m| m.annotations.expose.api) {
        let path = crate::names::model_path(m);
        if let Some((_, other)) = seen.iter().find(|(p, _)| *p == path) {
            diags.push(
                Diagnostic::error(format!("models `{other}` and `{}` are both served at /api/{path}", m.name), m.span)
                    .with_label("give one of them @@expose(path: \"...\")"),
            );
        } else {
            seen.push((path, &m.name));
        }
    }
}

fn at(a: &RawAnnotation) -> String {
    format!("{}{}", if a.model_level { "@@" } else { "@" }, a.name)
}

/// The reason of a `@deprecated` line, if any (empty when it gives none).
fn deprecation(lines: &[DocLine]) -> Option<String> {
    lines.iter().find_map(|l| match lines::classify(&l.text) {
        lines::Line::Deprecated(why) => Some(why.to_owned()),
        _ => None,
    })
}

fn parse_lines(lines: &[DocLine], diags: &mut Vec<Diagnostic>) -> Vec<RawAnnotation> {
    let mut out = Vec::new();
    for line in lines {
        let trimmed = line.text.trim_start();
        if lines::classify(&line.text) == lines::Line::Annotation {
            let offset = line.text.len() - trimmed.len();
            syntax::parse_line(trimmed, line.span.start + offset, line.span.file, &mut out, diags);
        }
    }
    out
}

fn check_claims(ir: &Ir, config: &Config, config_file: Option<usize>, diags: &mut Vec<Diagnostic>) {
    for c in &config.claims {
        if ScalarType::from_name(&c.ty).is_some() || ir.enum_(&c.ty).is_some() {
            continue;
        }
        let mut candidates: Vec<&str> = ["String", "Int", "BigInt", "Float", "Decimal", "Boolean", "DateTime"].to_vec();
        candidates.extend(ir.enums.iter().map(|e| e.name.as_str()));
        let msg = format!("unknown type `{}` for claim `{}` in [auth.claims]", c.ty, c.name);
        let mut d = match (config_file, &c.span) {
            (Some(file), Some(r)) => Diagnostic::error(msg, Span::new(file, r.start, r.end)),
            _ => Diagnostic::global(msg),
        };
        d = match did_you_mean(&c.ty, candidates.iter().copied()) {
            Some(h) => d.with_label(format!("did you mean `{h}`?")),
            None => d.with_label("use a scalar type (String, Int, ...) or an enum of the schema"),
        };
        diags.push(d);
    }
}

/// `[rust.type_attributes]` / `[rust.field_attributes]` (and the build.rs settings) name types
/// and fields the Rust items have, and each value looks like an outer attribute.
fn check_rust_attributes(ir: &Ir, config: &Config, config_file: Option<usize>, diags: &mut Vec<Diagnostic>) {
    let types = crate::generate::rust::generated_types(ir, config);
    let at = |msg: String, a: &crate::config::RustAttribute| match (config_file, &a.span) {
        (Some(file), Some(r)) => Diagnostic::error(msg, Span::new(file, r.start, r.end)),
        _ => Diagnostic::global(msg),
    };
    for (table, attrs, is_field) in
        [("type_attributes", &config.type_attributes, false), ("field_attributes", &config.field_attributes, true)]
    {
        for a in attrs {
            if !(a.attribute.starts_with("#[") && a.attribute.ends_with(']')) {
                diags.push(
                    at(format!("`{}` in [rust.{table}] for `{}` is not an attribute", a.attribute, a.path), a)
                        .with_label("write it as Rust does, for example \"#[derive(sqlx::FromRow)]\""),
                );
                continue;
            }
            let (ty, field) = match (is_field, a.path.split_once('.')) {
                (false, _) if a.path == "." => continue,
                (false, _) => (a.path.as_str(), None),
                (true, Some((t, f))) => (t, Some(f)),
                (true, None) => {
                    diags.push(
                        at(format!("`{}` in [rust.field_attributes] names no field", a.path), a)
                            .with_label("write `Type.field`, like \"Post.author\""),
                    );
                    continue;
                }
            };
            let Some((_, fields)) = types.iter().find(|(name, _)| name == ty) else {
                let d = at(format!("unknown type `{ty}` in [rust.{table}]"), a);
                diags.push(match did_you_mean(ty, types.iter().map(|(n, _)| n.as_str())) {
                    Some(h) => d.with_label(format!("did you mean `{h}`?")),
                    None => d.with_label("name a generated type (a model, `<Model>CreateInput`, `<Model>UpdateInput`, an enum, `Principal`) or \".\" for all"),
                });
                continue;
            };
            if let Some(field) = field.filter(|f| !fields.iter().any(|n| n == f)) {
                let d = at(format!("`{ty}` has no field `{field}` (in [rust.field_attributes])"), a);
                diags.push(match did_you_mean(field, fields.iter().map(String::as_str)) {
                    Some(h) => d.with_label(format!("did you mean `{h}`?")),
                    None => d.with_label("use the field's name as the schema writes it"),
                });
            }
        }
    }
}

struct ModelCx<'a, 'd> {
    ir: &'a Ir,
    config: &'a Config,
    model: &'a Model,
    diags: &'d mut Vec<Diagnostic>,
    /// The fields named by `@@search`, checked once the field annotations are known.
    search_spans: Vec<(usize, Span)>,
}

/// Reads the arguments of one annotation, reporting unknown, duplicate and missing ones.
struct Args<'x> {
    annotation: String,
    args: &'x [RawArg],
    used: Vec<bool>,
}

impl<'x> Args<'x> {
    fn new(a: &'x RawAnnotation) -> Self {
        Args { annotation: at(a), args: &a.args, used: vec![false; a.args.len()] }
    }

    fn named(&mut self, key: &str, diags: &mut Vec<Diagnostic>) -> Option<&'x RawValue> {
        let mut found = None;
        for (i, arg) in self.args.iter().enumerate() {
            if arg.name.as_ref().is_some_and(|(n, _)| n == key) {
                if found.is_some() {
                    diags.push(Diagnostic::error(format!("`{key}` is given twice in {}", self.annotation), arg.span()));
                }
                self.used[i] = true;
                found.get_or_insert(&arg.value);
            }
        }
        found
    }

    fn positional(&mut self) -> Vec<&'x RawValue> {
        let mut out = Vec::new();
        for (i, arg) in self.args.iter().enumerate() {
            if arg.name.is_none() {
                self.used[i] = true;
                out.push(&arg.value);
            }
        }
        out
    }

    /// Reports every argument not read, with a suggestion among `known`.
    fn finish(self, known: &[&str], diags: &mut Vec<Diagnostic>) {
        for (arg, used) in self.args.iter().zip(self.used) {
            if used {
                continue;
            }
            match &arg.name {
                Some((name, span)) => {
                    let mut d = Diagnostic::error(format!("unknown argument `{name}` in {}", self.annotation), *span);
                    d = match did_you_mean(name, known.iter().copied()) {
                        Some(h) => d.with_label(format!("did you mean `{h}`?")),
                        None if known.is_empty() => d.with_label(format!("{} takes no arguments", self.annotation)),
                        None => d.with_label(format!("expected one of: {}", known.join(", "))),
                    };
                    diags.push(d);
                }
                None => diags.push(Diagnostic::error(format!("unexpected argument in {}", self.annotation), arg.span()).with_label(
                    if known.is_empty() {
                        format!("{} takes no arguments", self.annotation)
                    } else {
                        format!("name it: one of {}", known.join(", "))
                    },
                )),
            }
        }
    }
}

fn expect_str<'v>(v: &'v RawValue, what: &str, diags: &mut Vec<Diagnostic>) -> Option<(&'v str, &'v [usize])> {
    match v {
        RawValue::Str { value, map, .. } => Some((value, map)),
        other => {
            diags.push(Diagnostic::error(format!("{what} must be a string, found {}", other.describe()), other.span()));
            None
        }
    }
}

fn expect_bool(v: &RawValue, what: &str, diags: &mut Vec<Diagnostic>) -> Option<bool> {
    match v {
        RawValue::Ident { name, .. } if name == "true" => Some(true),
        RawValue::Ident { name, .. } if name == "false" => Some(false),
        other => {
            diags.push(Diagnostic::error(format!("{what} must be `true` or `false`, found {}", other.describe()), other.span()));
            None
        }
    }
}

fn expect_number(v: &RawValue, what: &str, diags: &mut Vec<Diagnostic>) -> Option<f64> {
    match v {
        RawValue::Number { text, span } => match text.parse::<f64>() {
            Ok(n) if n.is_finite() => Some(n),
            _ => {
                diags.push(Diagnostic::error(format!("`{text}` is not a number"), *span));
                None
            }
        },
        other => {
            diags.push(Diagnostic::error(format!("{what} must be a number, found {}", other.describe()), other.span()));
            None
        }
    }
}

fn expect_u32(v: &RawValue, what: &str, diags: &mut Vec<Diagnostic>) -> Option<u32> {
    let n = expect_number(v, what, diags)?;
    if n >= 0.0 && n.fract() == 0.0 && n <= u32::MAX as f64 {
        Some(n as u32)
    } else {
        diags.push(Diagnostic::error(format!("{what} must be a whole number ≥ 0"), v.span()));
        None
    }
}

fn expect_idents<'v>(v: &'v RawValue, what: &str, diags: &mut Vec<Diagnostic>) -> Option<Vec<(&'v str, Span)>> {
    match v {
        RawValue::List { items, .. } => {
            let mut out = Vec::new();
            for item in items {
                match item {
                    RawValue::Ident { name, span } => out.push((name.as_str(), *span)),
                    other => {
                        diags.push(Diagnostic::error(format!("{what} lists names, found {}", other.describe()), other.span()));
                        return None;
                    }
                }
            }
            Some(out)
        }
        other => {
            diags.push(Diagnostic::error(format!("{what} must be a list like `[a, b]`, found {}", other.describe()), other.span()));
            None
        }
    }
}

/// "1m", "30s", "2h", "1d" as seconds.
fn parse_window(s: &str) -> Option<u32> {
    let unit = s.chars().last()?;
    let n: u32 = s[..s.len() - unit.len_utf8()].parse().ok()?;
    let mul = match unit {
        's' => 1,
        'm' => 60,
        'h' => 3600,
        'd' => 86400,
        _ => return None,
    };
    n.checked_mul(mul).filter(|w| *w > 0)
}

fn json_of(v: &RawValue) -> serde_json::Value {
    match v {
        RawValue::Str { value, .. } => serde_json::Value::String(value.clone()),
        RawValue::Number { text, .. } => serde_json::from_str(text).unwrap_or(serde_json::Value::String(text.clone())),
        RawValue::Ident { name, .. } if name == "true" => serde_json::Value::Bool(true),
        RawValue::Ident { name, .. } if name == "false" => serde_json::Value::Bool(false),
        RawValue::Ident { name, .. } => serde_json::Value::String(name.clone()),
        RawValue::List { items, .. } => serde_json::Value::Array(items.iter().map(json_of).collect()),
    }
}

impl ModelCx<'_, '_> {
    fn unknown_annotation(&mut self, a: &RawAnnotation, on_model: bool) {
        let (own, other) = if on_model { (MODEL_ANNOTATIONS, FIELD_ANNOTATIONS) } else { (FIELD_ANNOTATIONS, MODEL_ANNOTATIONS) };
        let name = at(a);
        if own.contains(&a.name.as_str()) {
            // Right name, wrong level: `@policy` on a model or `@@hidden` on a field.
            let fixed = if on_model { format!("@@{}", a.name) } else { format!("@{}", a.name) };
            let place = if on_model { "models take `@@` annotations" } else { "fields take `@` annotations" };
            self.diags.push(
                Diagnostic::error(format!("`{name}` must be written `{fixed}`: {place}"), a.name_span)
                    .with_label(format!("write `{fixed}`")),
            );
            return;
        }
        if other.contains(&a.name.as_str()) {
            let place =
                if on_model { "a field annotation; put it on a field's doc comment" } else { "a model annotation; put it above the model" };
            self.diags.push(Diagnostic::error(format!("`{name}` is {place}"), a.name_span));
            return;
        }
        let prefix = if on_model { "@@" } else { "@" };
        let mut d = Diagnostic::error(format!("unknown annotation `{name}`"), a.name_span);
        d = match did_you_mean(&a.name, own.iter().copied()) {
            Some(h) => {
                d.message = format!("unknown annotation `{name}` — did you mean `{prefix}{h}`?");
                d.with_label(format!("did you mean `{prefix}{h}`?"))
            }
            None => d.with_label(format!("known here: {}", own.iter().map(|n| format!("{prefix}{n}")).collect::<Vec<_>>().join(", "))),
        };
        self.diags.push(d);
    }

    fn once(&mut self, seen: &mut Vec<String>, a: &RawAnnotation) -> bool {
        if seen.contains(&a.name) {
            self.diags.push(Diagnostic::error(format!("`{}` is given twice", at(a)), a.name_span).with_label("merge the two into one"));
            return false;
        }
        seen.push(a.name.clone());
        true
    }

    fn rule(&mut self, context: String, model: &Model, v: &RawValue) -> Option<Rule> {
        let (src, map) = expect_str(v, &format!("the expression of {context}"), self.diags)?;
        let raw = match expr::parse(src, map, v.span().file) {
            Ok(r) => r,
            Err(d) => {
                self.diags.push(d);
                return None;
            }
        };
        let mut checker = check::Checker { ir: self.ir, claims: &self.config.claims, diags: self.diags, context };
        let model = self.ir.model(&model.name)?;
        let expr = checker.condition(model, &raw)?;
        Some(Rule { source: src.to_owned(), expr })
    }

    fn model_annotations(&mut self, raws: Vec<RawAnnotation>) -> ModelAnnotations {
        let mut out = ModelAnnotations::default();
        let mut seen = Vec::new();
        for a in &raws {
            if !a.model_level || !MODEL_ANNOTATIONS.contains(&a.name.as_str()) {
                self.unknown_annotation(a, true);
                continue;
            }
            if a.name != "service" && !self.once(&mut seen, a) {
                continue;
            }
            let mut args = Args::new(a);
            match a.name.as_str() {
                "auth" => {
                    let mut methods = Vec::new();
                    for v in args.positional() {
                        match v {
                            RawValue::Ident { name, span } => match name.as_str() {
                                "jwt" => methods.push(AuthMethod::Jwt),
                                "apiKey" => methods.push(AuthMethod::ApiKey),
                                "public" => methods.push(AuthMethod::Public),
                                other => {
                                    let mut d = Diagnostic::error(format!("unknown auth method `{other}` in @@auth"), *span);
                                    d = d.with_label(match did_you_mean(other, ["jwt", "apiKey", "public"]) {
                                        Some(h) => format!("did you mean `{h}`?"),
                                        None => "expected jwt, apiKey or public".to_owned(),
                                    });
                                    self.diags.push(d);
                                }
                            },
                            other => self
                                .diags
                                .push(Diagnostic::error(format!("@@auth takes method names, found {}", other.describe()), other.span())),
                        }
                    }
                    if methods.is_empty() {
                        self.diags.push(
                            Diagnostic::error("@@auth needs at least one method", a.span).with_label("e.g. @@auth(jwt) or @@auth(public)"),
                        );
                    } else if methods.contains(&AuthMethod::Public) && methods.len() > 1 {
                        self.diags.push(
                            Diagnostic::error("`public` cannot be combined with other auth methods", a.span)
                                .with_label("public already admits every caller; use @@auth(public) alone"),
                        );
                    }
                    out.auth = Some(methods);
                    args.finish(&[], self.diags);
                }
                "policy" => {
                    let mut policy = Policy::default();
                    let ops = ["read", "create", "update", "delete"];
                    let all = args.named("all", self.diags);
                    let all_rule = all.and_then(|v| self.rule("@@policy(all)".into(), self.model, v));
                    for op in ops {
                        let rule = match args.named(op, self.diags) {
                            Some(v) => self.rule(format!("@@policy({op})"), self.model, v),
                            None => all_rule.clone(),
                        };
                        match op {
                            "read" => policy.read = rule,
                            "create" => policy.create = rule,
                            "update" => policy.update = rule,
                            _ => policy.delete = rule,
                        }
                    }
                    if a.args.is_empty() {
                        self.diags.push(
                            Diagnostic::error("@@policy without rules denies everything", a.span)
                                .with_label("name operations, e.g. @@policy(read: \"true\", all: \"auth.role == 'ADMIN'\")"),
                        );
                    }
                    if self.model.kind == ModelKind::View {
                        for op in ["create", "update", "delete"] {
                            if let Some(v) = args.args.iter().find(|x| x.name.as_ref().is_some_and(|(n, _)| n == op)) {
                                self.diags
                                    .push(Diagnostic::warning(format!("views are read-only; the `{op}` rule is never used"), v.span()));
                            }
                        }
                    }
                    out.policy = Some(policy);
                    let mut known = ops.to_vec();
                    known.push("all");
                    args.finish(&known, self.diags);
                }
                "realtime" => {
                    let mut events = vec![RealtimeEvent::Created, RealtimeEvent::Updated, RealtimeEvent::Deleted];
                    if let Some(v) = args.named("events", self.diags)
                        && let Some(items) = expect_idents(v, "`events`", self.diags)
                    {
                        events.clear();
                        for (name, span) in items {
                            match name {
                                "created" => events.push(RealtimeEvent::Created),
                                "updated" => events.push(RealtimeEvent::Updated),
                                "deleted" => events.push(RealtimeEvent::Deleted),
                                other => {
                                    let mut d = Diagnostic::error(format!("unknown event `{other}` in @@realtime"), span);
                                    d = d.with_label(match did_you_mean(other, ["created", "updated", "deleted"]) {
                                        Some(h) => format!("did you mean `{h}`?"),
                                        None => "expected created, updated or deleted".to_owned(),
                                    });
                                    self.diags.push(d);
                                }
                            }
                        }
                    }
                    out.realtime = Some(events);
                    args.finish(&["events"], self.diags);
                }
                "search" => {
                    match args.named("fields", self.diags) {
                        Some(v) => {
                            if let Some(items) = expect_idents(v, "`fields`", self.diags) {
                                let mut fields = Vec::new();
                                for (name, span) in items {
                                    match self.model.field(name) {
                                        Some(f) if f.ty == FieldType::Scalar(ScalarType::String) && !f.is_list() => {
                                            if let Some(fi) = self.model.fields.iter().position(|x| x.name == name) {
                                                self.search_spans.push((fi, span));
                                            }
                                            fields.push(name.to_owned())
                                        }
                                        Some(f) => self.diags.push(Diagnostic::error(
                                            format!("@@search needs String fields; `{name}` is {}", type_name(&f.ty)),
                                            span,
                                        )),
                                        None => self.unknown_field(name, span, "@@search"),
                                    }
                                }
                                if fields.is_empty() {
                                    self.diags.push(Diagnostic::error("@@search needs at least one field", v.span()));
                                }
                                out.search = Some(fields);
                            }
                        }
                        None => self.diags.push(
                            Diagnostic::error("@@search needs `fields: [...]`", a.span).with_label("e.g. @@search(fields: [title, body])"),
                        ),
                    }
                    args.finish(&["fields"], self.diags);
                }
                "service" => {
                    let pos = args.positional();
                    let plugin = match pos.first() {
                        Some(RawValue::Ident { name, span }) => Some((name.clone(), *span)),
                        Some(other) => {
                            self.diags.push(Diagnostic::error(
                                format!("@@service needs a plugin name first, found {}", other.describe()),
                                other.span(),
                            ));
                            None
                        }
                        None => {
                            self.diags.push(
                                Diagnostic::error("@@service needs a plugin name", a.span)
                                    .with_label("e.g. @@service(storage, bucket: \"uploads\")"),
                            );
                            None
                        }
                    };
                    for extra in pos.iter().skip(1) {
                        self.diags.push(Diagnostic::error("@@service options must be named (`key: value`)", extra.span()));
                    }
                    let named = || a.args.iter().filter_map(|x| x.name.as_ref().map(|(n, s)| (n, *s, &x.value)));
                    let options = named().map(|(n, _, v)| (n.clone(), json_of(v))).collect();
                    let option_spans = named().map(|(n, s, v)| (n.clone(), (s, v.span()))).collect();
                    if let Some((plugin, span)) = plugin {
                        out.services.push(Service { plugin, options, span, option_spans });
                    }
                }
                "rateLimit" => {
                    let limit = args.named("limit", self.diags).and_then(|v| expect_u32(v, "`limit`", self.diags));
                    let window = args.named("window", self.diags).and_then(|v| {
                        let (s, _) = expect_str(v, "`window`", self.diags)?;
                        let w = parse_window(s);
                        if w.is_none() {
                            self.diags.push(
                                Diagnostic::error(format!("`{s}` is not a window"), v.span())
                                    .with_label("write a number and a unit: \"30s\", \"1m\", \"1h\", \"1d\""),
                            );
                        }
                        w
                    });
                    match (limit, window) {
                        (Some(0), _) => self.diags.push(Diagnostic::error("`limit` must be at least 1", a.span)),
                        (Some(limit), Some(window_seconds)) => out.rate_limit = Some(RateLimit { limit, window_seconds }),
                        (None, _) if args.args.iter().all(|x| x.name.as_ref().is_none_or(|(n, _)| n != "limit")) => self.diags.push(
                            Diagnostic::error("@@rateLimit needs `limit`", a.span)
                                .with_label("e.g. @@rateLimit(limit: 100, window: \"1m\")"),
                        ),
                        (Some(limit), None) if args.args.iter().all(|x| x.name.as_ref().is_none_or(|(n, _)| n != "window")) => {
                            out.rate_limit = Some(RateLimit { limit, window_seconds: 60 })
                        }
                        _ => {}
                    }
                    args.finish(&["limit", "window"], self.diags);
                }
                "expose" => {
                    if let Some(v) = args.named("api", self.diags) {
                        out.expose.api = expect_bool(v, "`api`", self.diags).unwrap_or(true);
                    }
                    if let Some(v) = args.named("ui", self.diags) {
                        out.expose.ui = expect_bool(v, "`ui`", self.diags).unwrap_or(true);
                    }
                    if let Some(v) = args.named("path", self.diags)
                        && let Some((p, _)) = expect_str(v, "`path`", self.diags)
                    {
                        let ok = !p.is_empty()
                            && p.split('-').all(|w| !w.is_empty() && w.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit()));
                        if ok {
                            out.expose.path = Some(p.to_owned());
                        } else {
                            self.diags.push(
                                Diagnostic::error(format!("`{p}` is not a path segment"), v.span())
                                    .with_label("lowercase words and digits joined by `-`, like \"site-settings\""),
                            );
                        }
                    }
                    args.finish(&["api", "ui", "path"], self.diags);
                }
                _ => unreachable!("checked against MODEL_ANNOTATIONS"),
            }
        }
        out
    }

    fn unknown_field(&mut self, name: &str, span: Span, context: &str) {
        let mut d = Diagnostic::error(format!("unknown field `{name}` in {context} — model `{}` has no such field", self.model.name), span);
        if let Some(h) = did_you_mean(name, self.model.fields.iter().map(|f| f.name.as_str())) {
            d.message = format!("unknown field `{name}` in {context} — did you mean `{h}`?");
            d = d.with_label(format!("did you mean `{h}`?"));
        }
        self.diags.push(d);
    }

    /// `@zod` lines of a field: their portable rules join `@validate`; the rest is a warning.
    fn zod_rules(&mut self, fi: usize, lines: &[DocLine], rules: &mut Vec<ValidateRule>) {
        if !self.config.zod_tags {
            return;
        }
        for line in lines {
            let lines::Line::Zod(chain) = lines::classify(&line.text) else { continue };
            let read = zod::read(chain, &self.model.fields[fi]);
            for r in read.rules {
                if !rules.contains(&r) {
                    rules.push(r);
                }
            }
            if !read.ignored.is_empty() {
                let list = read.ignored.iter().map(|m| format!("`{m}`")).collect::<Vec<_>>().join(", ");
                self.diags.push(
                    Diagnostic::warning(format!("@zod: {list} has no @validate equivalent and is ignored"), line.span)
                        .with_label("string lengths, email, url, uuid, regex and number bounds are read; `[compat] zod = false` in ssot.toml turns @zod off"),
                );
            }
        }
    }

    /// `@zod` lines above a model (`@zod.import([...])`) are TypeScript-only.
    fn zod_on_model(&mut self, lines: &[DocLine]) {
        if !self.config.zod_tags {
            return;
        }
        for line in lines {
            if let lines::Line::Zod(_) = lines::classify(&line.text) {
                self.diags.push(
                    Diagnostic::warning("@zod on a model is TypeScript-only and is ignored", line.span)
                        .with_label("`[compat] zod = false` in ssot.toml turns @zod off"),
                );
            }
        }
    }

    /// A search over a field the caller may not read would reveal it one character at a time
    /// (`q=SSN-1`, `q=SSN-12`, ...): `@@search` takes only fields every reader sees.
    fn check_search(&mut self, fields: &[FieldAnnotations]) {
        for &(fi, span) in &self.search_spans {
            let (name, a) = (&self.model.fields[fi].name, &fields[fi]);
            let Some(why) = a.masked_by() else { continue };
            self.diags.push(
                Diagnostic::error(format!("@@search cannot use `{name}`: it is {why}"), span)
                    .with_label("matches on a field its readers may not see reveal its value; search only fields every reader sees"),
            );
        }
    }

    /// A unique field the caller may not read still answers "taken" (409) on a create with the
    /// same value: an oracle for its values. Said once, where the schema sets it up.
    fn warn_unique_oracles(&mut self, fields: &[FieldAnnotations]) {
        for (f, a) in self.model.fields.iter().zip(fields) {
            let Some(why) = a.masked_by() else { continue };
            let unique = f.unique || self.model.uniques.iter().any(|u| u.fields.len() == 1 && u.fields[0] == f.name);
            if unique {
                let name = Span::new(f.span.file, f.span.start, f.span.start + f.name.len());
                self.diags.push(
                    Diagnostic::warning(format!("`{}` is @unique and {why}: a 409 on create tells whether a value is taken", f.name), name)
                        .with_label("callers who may not read it can test values one by one (rate limits slow them); see docs/security.md"),
                );
            }
        }
    }

    fn field_annotations(&mut self, fi: usize, raws: Vec<RawAnnotation>) -> FieldAnnotations {
        let field = &self.model.fields[fi];
        let mut out = FieldAnnotations::default();
        let mut seen = Vec::new();
        for a in &raws {
            if a.model_level || !FIELD_ANNOTATIONS.contains(&a.name.as_str()) {
                self.unknown_annotation(a, false);
                continue;
            }
            if a.name != "validate" && !self.once(&mut seen, a) {
                continue;
            }
            let mut args = Args::new(a);
            match a.name.as_str() {
                "readOnly" | "writeOnly" | "hidden" => {
                    match a.name.as_str() {
                        "readOnly" => out.read_only = true,
                        "writeOnly" => out.write_only = true,
                        _ => out.hidden = true,
                    }
                    args.finish(&[], self.diags);
                }
                "readable" | "writable" => {
                    let pos = args.positional();
                    let ctx = format!("@{}", a.name);
                    let rule = match pos.as_slice() {
                        [v] => self.rule(ctx, self.model, v),
                        [] => {
                            self.diags.push(
                                Diagnostic::error(format!("@{} needs an expression", a.name), a.span)
                                    .with_label(format!("e.g. @{}(\"auth.id == id\")", a.name)),
                            );
                            None
                        }
                        [_, extra, ..] => {
                            self.diags.push(Diagnostic::error(format!("@{} takes one expression", a.name), extra.span()));
                            None
                        }
                    };
                    if a.name == "readable" {
                        out.readable = rule
                    } else {
                        out.writable = rule
                    }
                    args.finish(&[], self.diags);
                }
                "validate" => {
                    self.validate_rules(field, a, &mut out.validate);
                }
                _ => unreachable!("checked against FIELD_ANNOTATIONS"),
            }
        }
        // Combinations that contradict each other.
        let name_span = |n: &str| raws.iter().find(|a| a.name == n).map(|a| a.name_span);
        if let Some(span) = raws.iter().rev().find(|a| a.name == "validate").map(|a| a.span) {
            check_bounds(&out.validate, span, self.diags);
        }
        if out.read_only && out.write_only {
            self.diags.push(
                Diagnostic::error(
                    "`@readOnly` and `@writeOnly` together leave the field in no input and no output",
                    name_span("writeOnly").unwrap_or(field.span),
                )
                .with_label("use `@hidden` to keep a field out of the API"),
            );
        }
        if field.relation().is_some() {
            for n in ["validate", "writeOnly", "writable"] {
                if let Some(span) = name_span(n) {
                    self.diags.push(
                        Diagnostic::error(format!("`@{n}` cannot be used on relation field `{}`", field.name), span)
                            .with_label("put it on the foreign-key field"),
                    );
                }
            }
        }
        if self.model.kind == ModelKind::View {
            for n in ["writable", "writeOnly"] {
                if let Some(span) = name_span(n) {
                    self.diags.push(Diagnostic::warning(format!("views are read-only; `@{n}` has no effect"), span));
                }
            }
        }
        out
    }

    fn validate_rules(&mut self, field: &crate::ir::Field, a: &RawAnnotation, rules: &mut Vec<ValidateRule>) {
        const FLAGS: [&str; 4] = ["email", "url", "uuid", "nonEmpty"];
        const KEYED: [&str; 5] = ["regex", "minLength", "maxLength", "min", "max"];
        if a.args.is_empty() {
            self.diags.push(
                Diagnostic::error("@validate needs at least one rule", a.span)
                    .with_label("e.g. @validate(email) or @validate(minLength: 3)"),
            );
        }
        if field.relation().is_some() {
            return; // reported once for the field, below
        }
        let is_string = field.ty == FieldType::Scalar(ScalarType::String) && !field.is_list();
        let is_number = matches!(&field.ty, FieldType::Scalar(s) if s.is_numeric()) && !field.is_list();
        for arg in &a.args {
            let (name, span) = match (&arg.name, &arg.value) {
                (Some((n, s)), _) => (n.as_str(), *s),
                (None, RawValue::Ident { name, span }) => (name.as_str(), *span),
                (None, other) => {
                    self.diags
                        .push(Diagnostic::error(format!("expected a rule name in @validate, found {}", other.describe()), other.span()));
                    continue;
                }
            };
            let rule = if arg.name.is_none() {
                match name {
                    "email" => Some(ValidateRule::Email),
                    "url" => Some(ValidateRule::Url),
                    "uuid" => Some(ValidateRule::Uuid),
                    "nonEmpty" => Some(ValidateRule::NonEmpty),
                    n if KEYED.contains(&n) => {
                        self.diags.push(Diagnostic::error(format!("`{n}` needs a value"), span).with_label(format!("write `{n}: ...`")));
                        continue;
                    }
                    _ => None,
                }
            } else {
                let v = &arg.value;
                match name {
                    "regex" => expect_str(v, "`regex`", self.diags).and_then(|(s, _)| match pattern::check(s) {
                        Ok(()) => Some(ValidateRule::Regex(s.to_owned())),
                        Err(pattern::PatternError::Unportable(why)) => {
                            self.diags.push(
                                Diagnostic::error(
                                    format!("this pattern cannot be checked the same way in Rust and TypeScript: {why}"),
                                    v.span(),
                                )
                                .with_label("@validate(regex) must mean the same to Rust's regex and JavaScript's RegExp"),
                            );
                            None
                        }
                        Err(pattern::PatternError::Invalid(first)) => {
                            self.diags
                                .push(Diagnostic::error(format!("invalid regular expression in @validate(regex): {first}"), v.span()));
                            None
                        }
                    }),
                    "minLength" => expect_u32(v, "`minLength`", self.diags).map(ValidateRule::MinLength),
                    "maxLength" => expect_u32(v, "`maxLength`", self.diags).map(ValidateRule::MaxLength),
                    "min" => expect_number(v, "`min`", self.diags).map(ValidateRule::Min),
                    "max" => expect_number(v, "`max`", self.diags).map(ValidateRule::Max),
                    n if FLAGS.contains(&n) => {
                        self.diags.push(
                            Diagnostic::error(format!("`{n}` takes no value"), arg.span()).with_label(format!("write `@validate({n})`")),
                        );
                        continue;
                    }
                    _ => None,
                }
            };
            let Some(rule) = rule else {
                if !FLAGS.contains(&name) && !KEYED.contains(&name) {
                    let mut d = Diagnostic::error(format!("unknown rule `{name}` in @validate"), span);
                    d = match did_you_mean(name, FLAGS.iter().chain(&KEYED).copied()) {
                        Some(h) => {
                            d.message = format!("unknown rule `{name}` in @validate — did you mean `{h}`?");
                            d.with_label(format!("did you mean `{h}`?"))
                        }
                        None => d.with_label(format!("rules: {}, {}", FLAGS.join(", "), KEYED.join(", "))),
                    };
                    self.diags.push(d);
                }
                continue;
            };
            let fits = match rule {
                ValidateRule::Min(_) | ValidateRule::Max(_) => is_number,
                ValidateRule::NonEmpty => is_string || field.is_list(),
                _ => is_string,
            };
            if !fits {
                let needs = match rule {
                    ValidateRule::Min(_) | ValidateRule::Max(_) => "a number field (Int, BigInt, Float, Decimal)",
                    ValidateRule::NonEmpty => "a String or list field",
                    _ => "a String field",
                };
                self.diags
                    .push(Diagnostic::error(format!("`{name}` needs {needs}; `{}` is {}", field.name, type_name(&field.ty)), arg.span()));
                continue;
            }
            if rules.iter().any(|r| std::mem::discriminant(r) == std::mem::discriminant(&rule)) {
                self.diags.push(Diagnostic::error(format!("`{name}` is given twice for `{}`", field.name), arg.span()));
                continue;
            }
            rules.push(rule);
        }
    }
}

/// minLength above maxLength, or min above max: no value could pass.
fn check_bounds(rules: &[ValidateRule], span: Span, diags: &mut Vec<Diagnostic>) {
    let find = |want: fn(&ValidateRule) -> Option<f64>| rules.iter().find_map(want);
    if let (Some(lo), Some(hi)) = (
        find(|r| if let ValidateRule::MinLength(n) = r { Some(*n as f64) } else { None }),
        find(|r| if let ValidateRule::MaxLength(n) = r { Some(*n as f64) } else { None }),
    ) && lo > hi
    {
        diags.push(Diagnostic::error(format!("minLength {lo} is greater than maxLength {hi}: no value can pass"), span));
    }
    if let (Some(lo), Some(hi)) = (
        find(|r| if let ValidateRule::Min(n) = r { Some(*n) } else { None }),
        find(|r| if let ValidateRule::Max(n) = r { Some(*n) } else { None }),
    ) && lo > hi
    {
        diags.push(Diagnostic::error(format!("min {lo} is greater than max {hi}: no value can pass"), span));
    }
}

fn type_name(t: &FieldType) -> String {
    match t {
        FieldType::Scalar(s) => s.as_str().to_owned(),
        FieldType::Enum(e) => format!("enum {e}"),
        FieldType::Composite(c) => format!("type {c}"),
        FieldType::Relation(r) => format!("a relation to {}", r.model),
        FieldType::Unsupported(u) => format!("Unsupported(\"{u}\")"),
    }
}
