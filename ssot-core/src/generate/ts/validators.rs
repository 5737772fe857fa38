//! Validators: Zod 4 schemas of models, inputs, enums and composite types, with every
//! `@validate` rule.

use super::doc;
use super::js::{self, E, P, call, call_path, id, ty, ty_args};
use super::*;

impl Gen<'_> {
    pub(super) fn enum_validators(&self) -> String {
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

    /// A field's Zod expression, with `@validate` rules when `rules` is set.
    pub(super) fn zod_expr(&self, f: &Field, rules: bool, regexes: &mut Vec<String>, helpers: &mut BTreeSet<&'static str>) -> E {
        let r: &[ValidateRule] = if rules { &f.annotations.validate } else { &[] };
        let mut opts: Vec<P> = Vec::new();
        let mut opt = |key: &str, value: E| opts.push(P::Kv(key.to_owned(), value));
        let mut list_non_empty = false;
        for rule in r {
            match rule {
                ValidateRule::Email => opt("email", id("true")),
                ValidateRule::Url => opt("url", id("true")),
                ValidateRule::Uuid => opt("uuid", id("true")),
                ValidateRule::NonEmpty if f.is_list() => list_non_empty = true,
                ValidateRule::NonEmpty => opt("nonEmpty", id("true")),
                ValidateRule::Regex(re) => {
                    regexes.push(js_regex(re));
                    opt("regex", id(format!("RE_{}", regexes.len())));
                }
                ValidateRule::MinLength(n) => opt("minLength", id(n.to_string())),
                ValidateRule::MaxLength(n) => opt("maxLength", id(n.to_string())),
                ValidateRule::Min(n) | ValidateRule::Max(n) => {
                    let key = if matches!(rule, ValidateRule::Min(_)) { "min" } else { "max" };
                    opt(
                        key,
                        match &f.ty {
                            // Exact integer bounds: the smallest integer ≥ min, the largest ≤ max.
                            FieldType::Scalar(ScalarType::BigInt) => {
                                let b = if key == "min" { n.ceil() } else { n.floor() };
                                js::str_lit(&(b as i128).to_string())
                            }
                            FieldType::Scalar(ScalarType::Decimal) => js::str_lit(&n.to_string()),
                            _ => id(n.to_string()),
                        },
                    );
                }
            }
        }
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
    /// `export const XSchema: z.ZodType<X> = object<X>()({ ... });` (`object` and `strictObject`
    /// of `common.ts` check that the schema parses an `X` more cheaply for tsc than an
    /// assignment of Zod's object type to `z.ZodType<X>` would).
    pub(super) fn zod_object(&self, name: &str, strict: bool, doc: &str, props: Vec<P>, helpers: &mut BTreeSet<&'static str>) -> String {
        let ctor = if strict { "strictObject" } else { "object" };
        helpers.insert(ctor);
        let decl = js::const_decl(
            true,
            &format!("{name}Schema"),
            Some(&ty_args("z.ZodType", vec![ty(name)])),
            &call(call(id(format!("{ctor}<{name}>")), vec![]), vec![E::Obj(props, true)]),
        );
        js::render(&doc::concat([doc::Doc::text(format!("/** {doc} */")), doc::hardline(), decl]))
    }

    /// A property of a Zod object; fields that refer to other schemas use a getter, so modules
    /// that import each other work in any order.
    pub(super) fn zod_prop(&self, f: &Field, expr: E, presence: Presence) -> P {
        let key = ts_key(&f.name);
        let full = presence.zod(expr);
        if matches!(f.ty, FieldType::Composite(_) | FieldType::Relation(_)) {
            P::Method(format!("get {key}"), vec![], None, js::return_stmt(&full))
        } else {
            P::Kv(key, full)
        }
    }

    pub(super) fn validator_imports(
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

    pub(super) fn composite_validator(&self, ct: &CompositeType) -> String {
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
        let block = self.zod_object(&name, false, &format!("Validates a {{@link {name}}}."), props, &mut helpers);
        module(self.validator_imports(&ct.name, vec![name.clone()], &fields, &helpers), vec![block])
    }

    /// A model's validators: the module of its schema as the API returns it (with its relations,
    /// so it imports the related models' modules), and for a model that can be written the
    /// module of its input schemas (`<stem>.input.ts`, which imports no other model: the server
    /// loads it on the model's first write), re-exported by the first.
    pub(super) fn model_validators(&self, m: &Model) -> (String, Option<String>) {
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
        let mut blocks =
            vec![self.zod_object(&name, false, &format!("Validates a {{@link {name}}} as the API returns it."), out_props, &mut helpers)];
        let inputs = (m.kind == ModelKind::Model).then(|| {
            // `export` is as long as `import`: the line breaks where the import's would.
            let names = [format!("{name}CreateInputSchema"), format!("{name}UpdateInputSchema")];
            blocks.push(import_line(false, &names, &format!("./{}.input.js", file_stem(&m.name))).replacen("import", "export", 1));
            self.input_validators(m)
        });
        with_regexes(&mut blocks, &regexes);
        (module(self.validator_imports(&m.name, vec![name.clone()], &all_fields, &helpers), blocks), inputs)
    }

    fn input_validators(&self, m: &Model) -> String {
        let name = ts_type(&m.name);
        let mut regexes = Vec::new();
        let mut helpers = BTreeSet::new();
        let mut fields: Vec<&Field> = Vec::new();
        let create: Vec<P> = m
            .create_fields()
            .map(|f| {
                fields.push(f);
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
        let mut blocks = vec![
            self.zod_object(
                &format!("{name}CreateInput"),
                true,
                &format!("Validates the input to create a {{@link {name}}}, with every `@validate` rule."),
                create,
                &mut helpers,
            ),
            self.zod_object(
                &format!("{name}UpdateInput"),
                true,
                &format!("Validates the input to update a {{@link {name}}}, with every `@validate` rule."),
                update,
                &mut helpers,
            ),
        ];
        let both = E::Obj(
            vec![
                P::Kv("create".into(), id(format!("{name}CreateInputSchema"))),
                P::Kv("update".into(), id(format!("{name}UpdateInputSchema"))),
            ],
            false,
        );
        blocks.push(js::render(&doc::concat([
            doc::Doc::text("/** Both, as the server loads them on the model's first write. */"),
            doc::hardline(),
            js::const_decl(true, "inputs", None, &both),
        ])));
        with_regexes(&mut blocks, &regexes);
        let types = vec![format!("{name}CreateInput"), format!("{name}UpdateInput")];
        module(self.validator_imports(&m.name, types, &fields, &helpers), blocks)
    }
}

/// The regular expressions of a module's rules, as constants before its schemas.
fn with_regexes(blocks: &mut Vec<String>, regexes: &[String]) {
    if !regexes.is_empty() {
        let lines: Vec<String> = regexes.iter().enumerate().map(|(i, re)| format!("const RE_{} = {re};", i + 1)).collect();
        blocks.insert(0, lines.join("\n"));
    }
}

/// A JavaScript regular expression literal with the `u` flag for a pattern the annotation
/// checker accepted.
/// A pattern as a JavaScript regex literal (`/.../u`), as `String(regex)` prints it too.
pub(crate) fn js_regex(pattern: &str) -> String {
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
}
