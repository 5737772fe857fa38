//! Contracts: the TypeScript types of models, inputs, filters, enums and composite types.

use super::doc;
use super::js::{self, E, P, T, ty};
use super::*;

impl Gen<'_> {
    pub(super) fn ts_base(&self, ty: &FieldType) -> String {
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

    pub(super) fn ts_field_type(&self, f: &Field) -> String {
        let base = self.ts_base(&f.ty);
        if f.is_list() { format!("{base}[]") } else { base }
    }

    /// Type imports a contract file needs for these field types.
    pub(super) fn type_imports(&self, own: &str, types: &[&FieldType]) -> Vec<String> {
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

    pub(super) fn enum_contracts(&self) -> String {
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

    pub(super) fn interface(&self, name: &str, doc: Option<String>, props: Vec<String>) -> String {
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

    pub(super) fn prop(&self, f: &Field, presence: Presence) -> String {
        let mut s = String::new();
        if let Some(doc) = tsdoc(f.documentation.as_deref(), 2) {
            s.push_str(&doc);
            s.push('\n');
        }
        s.push_str("  ");
        s.push_str(&presence.property(&ts_key(&f.name), &self.ts_field_type(f)));
        s
    }

    pub(super) fn composite_contract(&self, ct: &CompositeType) -> String {
        let name = ts_type(&ct.name);
        let fields: Vec<&Field> = ct.fields.iter().filter(|f| f.is_data()).collect();
        let props = fields.iter().map(|f| self.prop(f, if f.is_optional() { Presence::Nullable } else { Presence::Required })).collect();
        let types: Vec<&FieldType> = fields.iter().map(|f| &f.ty).collect();
        module(self.type_imports(&ct.name, &types), vec![self.interface(&name, tsdoc(ct.documentation.as_deref(), 0), props)])
    }

    pub(super) fn model_contract(&self, m: &Model) -> String {
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
    pub(super) fn id_type(&self, m: &Model) -> Option<String> {
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
}
