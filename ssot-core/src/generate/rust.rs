//! Rust items from the IR: per model a struct, create and update inputs with `validate()`,
//! policy functions and metadata; enums; composite types; the principal type.
//!
//! Generated code names only `::ssot::...` paths, so users depend on the `ssot` crate alone.
//! Serde follows the wire format of SPEC section 4 through the adapters in `ssot::wire`.

use super::{Files, HEADER};
use crate::annotations::{CmpOp, Expr, Hop, Operand, Quant, Rule, ValidateRule};
use crate::config::Config;
use crate::ir::*;
use crate::names::{camel, camel_str, ident, snake};
use heck::ToUpperCamelCase;
use proc_macro2::{Ident, TokenStream};
use quote::{format_ident, quote};
use std::path::PathBuf;

/// The Rust file written to `$OUT_DIR/ssot.rs` (or wherever the CLI is told).
pub fn generate(ir: &Ir, config: &Config) -> Files {
    let tokens = tokens(ir, config);
    let text = match syn::parse2::<syn::File>(tokens.clone()) {
        Ok(file) => prettyplease::unparse(&file),
        // Unreachable for well-formed output; fall back to unformatted tokens so the compiler
        // reports the real problem instead of us hiding it.
        Err(_) => tokens.to_string(),
    };
    let mut files = Files::new();
    files.insert(PathBuf::from("ssot.rs"), format!("// {HEADER}\n\n{text}"));
    files
}

/// The items as tokens, for the `ssot!` macro.
pub fn tokens(ir: &Ir, config: &Config) -> TokenStream {
    let g = Gen { ir };
    let enums = ir.enums.iter().map(|e| g.enum_(e));
    let composites = ir.composite_types.iter().map(|c| g.composite(c));
    let models = ir.api_models().map(|m| g.model(m));
    let principal = g.principal(config);
    let metas = ir.api_models().map(|m| {
        let name = camel(&m.name);
        quote!(&#name::META)
    });
    let provider = &ir.provider;
    quote! {
        /// The datasource provider of the schema.
        pub const PROVIDER: &str = #provider;
        /// Metadata of every model and view with an API.
        pub const MODELS: &[&::ssot::meta::ModelMeta] = &[#(#metas),*];
        #principal
        #(#enums)*
        #(#composites)*
        #(#models)*
    }
}

struct Gen<'a> {
    ir: &'a Ir,
}

fn docs(doc: Option<&str>) -> TokenStream {
    let lines = doc.into_iter().flat_map(str::lines).map(|l| format!(" {l}"));
    quote!(#(#[doc = #lines])*)
}

const SERDE: &str = "::ssot::__private::serde";
const SERDE_WITH: &str = "::ssot::__private::serde_with";

fn derives(extra_eq: bool) -> TokenStream {
    let eq = extra_eq.then(|| quote!(Copy, Eq, Hash, PartialOrd, Ord,));
    quote! {
        #[derive(Debug, Clone, PartialEq, #eq ::ssot::__private::serde::Serialize, ::ssot::__private::serde::Deserialize)]
        #[serde(crate = #SERDE)]
    }
}

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

impl Gen<'_> {
    /// Rust type and wire adapter of one value of a field's type (not its arity).
    fn base(&self, ty: &FieldType) -> (TokenStream, Option<&'static str>) {
        match ty {
            FieldType::Scalar(s) => match s {
                ScalarType::String => (quote!(::std::string::String), None),
                ScalarType::Int => (quote!(i32), Some("::ssot::wire::Int32")),
                ScalarType::BigInt => (quote!(i64), Some("::ssot::wire::BigIntString")),
                ScalarType::Float => (quote!(f64), Some("::ssot::wire::Float")),
                ScalarType::Decimal => (quote!(::ssot::Decimal), Some("::ssot::wire::DecimalString")),
                ScalarType::Boolean => (quote!(bool), None),
                ScalarType::DateTime => (quote!(::ssot::DateTime<::ssot::Utc>), Some("::ssot::wire::DateTimeMillis")),
                ScalarType::Json => (quote!(::ssot::Json), None),
                ScalarType::Bytes => (quote!(::std::vec::Vec<u8>), Some("::ssot::wire::Base64Bytes")),
            },
            FieldType::Enum(e) | FieldType::Composite(e) => {
                let name = camel(e);
                (quote!(#name), None)
            }
            FieldType::Relation(r) => {
                let name = camel(&r.model);
                (quote!(#name), None)
            }
            FieldType::Unsupported(_) => (quote!(()), None),
        }
    }

    /// A struct field of the given shape, with serde attributes for the wire format.
    fn field(&self, f: &Field, shape: Shape, doc: TokenStream) -> TokenStream {
        let name = snake(&f.name);
        let key = &f.name;
        let (base, adapter) = self.base(&f.ty);
        let same = format!("{SERDE_WITH}::Same");
        let a = adapter.map(str::to_owned);
        let list = f.is_list();
        let (value_ty, value_as) = if list {
            (quote!(::std::vec::Vec<#base>), a.map(|a| format!("::std::vec::Vec<{a}>")))
        } else {
            (base, a)
        };
        let inner = value_as.clone().unwrap_or_else(|| same.clone());
        let optional_attrs = quote!(default, skip_serializing_if = "Option::is_none");
        let (ty, as_, optional) = match shape {
            Shape::Required => (value_ty, value_as, false),
            Shape::Nullable => (quote!(::std::option::Option<#value_ty>), Some(format!("::ssot::wire::Nullable<{inner}>")), false),
            Shape::Absent => (quote!(::std::option::Option<#value_ty>), Some(format!("::ssot::wire::Present<{inner}>")), true),
            Shape::AbsentOrNull => {
                (quote!(::std::option::Option<#value_ty>), value_as.map(|a| format!("::std::option::Option<{a}>")), true)
            }
            Shape::Patch => (
                quote!(::std::option::Option<::std::option::Option<#value_ty>>),
                Some(format!("::ssot::wire::Patch<{inner}>")),
                true,
            ),
        };
        // One serde attribute per field, with only what differs from serde's defaults.
        let mut serde_args = Vec::new();
        if name.to_string() != *key {
            serde_args.push(quote!(rename = #key));
        }
        if optional {
            serde_args.push(optional_attrs);
        }
        let serde_attr = (!serde_args.is_empty()).then(|| quote!(#[serde(#(#serde_args),*)]));
        let as_attr = as_.map(|a| quote!(#[serde_as(as = #a)]));
        quote! {
            #doc
            #serde_attr
            #as_attr
            pub #name: #ty,
        }
    }

    fn serde_as() -> TokenStream {
        quote!(#[::ssot::__private::serde_with::serde_as(crate = #SERDE_WITH)])
    }

    fn enum_(&self, e: &Enum) -> TokenStream {
        let name = camel(&e.name);
        let doc = docs(e.documentation.as_deref());
        let mut variant_names: Vec<String> = e.values.iter().map(|v| v.name.to_upper_camel_case()).collect();
        let mut dedup = variant_names.clone();
        dedup.sort();
        dedup.dedup();
        let raw_names = dedup.len() != variant_names.len();
        if raw_names {
            variant_names = e.values.iter().map(|v| v.name.clone()).collect();
        }
        let allow = raw_names.then(|| quote!(#[allow(non_camel_case_types)]));
        let variants: Vec<Ident> = variant_names.iter().map(|n| ident(n)).collect();
        let values: Vec<&str> = e.values.iter().map(|v| v.name.as_str()).collect();
        let vdocs = e.values.iter().map(|v| docs(v.documentation.as_deref()));
        let derive = derives(true);
        quote! {
            #doc
            #derive
            #allow
            pub enum #name {
                #( #vdocs #[serde(rename = #values)] #variants, )*
            }
            impl #name {
                /// Every value, in schema order.
                pub const ALL: &'static [#name] = &[#(#name::#variants),*];
                /// The value as written in the schema (and on the wire).
                pub const fn as_str(self) -> &'static str {
                    match self { #(#name::#variants => #values,)* }
                }
            }
            impl ::std::fmt::Display for #name {
                fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                    f.write_str(self.as_str())
                }
            }
            impl ::std::str::FromStr for #name {
                type Err = ::std::string::String;
                fn from_str(s: &str) -> ::std::result::Result<Self, Self::Err> {
                    match s {
                        #(#values => ::std::result::Result::Ok(#name::#variants),)*
                        other => ::std::result::Result::Err(::std::format!("`{}` is not a value of {}", other, ::std::stringify!(#name))),
                    }
                }
            }
            impl ::ssot::policy::ToValue for #name {
                fn to_value(&self) -> ::ssot::policy::Value<'_> {
                    ::ssot::policy::Value::Enum(self.as_str())
                }
            }
        }
    }

    fn composite(&self, c: &CompositeType) -> TokenStream {
        let name = camel(&c.name);
        let doc = docs(c.documentation.as_deref());
        let fields = c.fields.iter().filter(|f| f.is_data()).map(|f| {
            let shape = if f.is_optional() { Shape::Nullable } else { Shape::Required };
            self.field(f, shape, docs(f.documentation.as_deref()))
        });
        let derive = derives(false);
        let serde_as = Self::serde_as();
        quote! {
            #doc
            #serde_as
            #derive
            pub struct #name { #(#fields)* }
        }
    }

    fn principal(&self, config: &Config) -> TokenStream {
        let fields = config.claims.iter().map(|c| {
            let ty = match ScalarType::from_name(&c.ty) {
                Some(s) => FieldType::Scalar(s),
                None => FieldType::Enum(c.ty.clone()),
            };
            let f = Field {
                name: c.name.clone(),
                db_name: None,
                ty,
                arity: if c.list { Arity::List } else { Arity::Required },
                default: None,
                updated_at: false,
                unique: false,
                id: false,
                ignored: false,
                native_type: None,
                documentation: None,
                annotations: Default::default(),
                span: Default::default(),
            };
            let doc = format!(" `auth.{}` in policies.", c.name);
            self.field(&f, Shape::Required, quote!(#[doc = #doc]))
        });
        let derive = derives(false);
        let serde_as = Self::serde_as();
        quote! {
            /// The calling principal: the claims declared under `[auth.claims]`.
            #serde_as
            #derive
            pub struct Principal { #(#fields)* }
            /// Who is calling: `None` for an anonymous caller (`auth == null` in policies).
            pub type Auth = ::std::option::Option<Principal>;
        }
    }

    /// Fields of the output struct: what responses carry.
    fn output_shape(&self, f: &Field) -> Option<Shape> {
        if !f.is_data() {
            return None;
        }
        let readable = f.annotations.readable.is_some();
        Some(match (f.is_optional(), readable) {
            (false, false) => Shape::Required,
            (true, false) => Shape::Nullable,
            (false, true) => Shape::Absent,
            (true, true) => Shape::Patch,
        })
    }

    fn model(&self, m: &Model) -> TokenStream {
        let name = camel(&m.name);
        let doc = docs(m.documentation.as_deref());
        let derive = derives(false);
        let serde_as = Self::serde_as();
        let mut fields = Vec::new();
        for f in &m.fields {
            let fdoc = docs(f.documentation.as_deref());
            if let Some(r) = f.relation() {
                if f.ignored || self.ir.model(&r.model).is_none_or(|t| t.ignored) || f.annotations.hidden {
                    continue;
                }
                let fname = snake(&f.name);
                let key = &f.name;
                let target = camel(&r.model);
                let note = format!(" Present when the relation was included (`include={}`).", f.name);
                fields.push(if r.is_to_many() {
                    quote! {
                        #fdoc #[doc = #note]
                        #[serde(rename = #key, default, skip_serializing_if = "Option::is_none")]
                        pub #fname: ::std::option::Option<::std::vec::Vec<#target>>,
                    }
                } else if f.is_optional() {
                    let as_ = format!("::ssot::wire::Patch<{SERDE_WITH}::Same>");
                    quote! {
                        #fdoc #[doc = #note]
                        #[serde(rename = #key, default, skip_serializing_if = "Option::is_none")]
                        #[serde_as(as = #as_)]
                        pub #fname: ::std::option::Option<::std::option::Option<::std::boxed::Box<#target>>>,
                    }
                } else {
                    quote! {
                        #fdoc #[doc = #note]
                        #[serde(rename = #key, default, skip_serializing_if = "Option::is_none")]
                        pub #fname: ::std::option::Option<::std::boxed::Box<#target>>,
                    }
                });
                continue;
            }
            if !f.is_data() {
                continue;
            }
            if f.annotations.in_output() {
                let shape = self.output_shape(f).unwrap_or(Shape::Required);
                fields.push(self.field(f, shape, fdoc));
            } else {
                // Server-only slot: never on the wire; policies reading it see "unknown" (deny)
                // unless the backend fills it in.
                let fname = snake(&f.name);
                let (base, _) = self.base(&f.ty);
                let ty = if f.is_list() { quote!(::std::vec::Vec<#base>) } else { base };
                let ty = if f.is_optional() { quote!(::std::option::Option<#ty>) } else { ty };
                let why = if f.annotations.hidden { "@hidden" } else { "@writeOnly" };
                let note = format!(" {why}: never serialized. Fill it in on the server for policies that read it.");
                fields.push(quote! {
                    #fdoc #[doc = #note]
                    #[serde(skip)]
                    pub #fname: ::std::option::Option<#ty>,
                });
            }
        }
        let inputs = (m.kind == ModelKind::Model).then(|| self.inputs(m));
        let policy = self.policy_impl(m);
        let meta = self.meta(m);
        quote! {
            #doc
            #serde_as
            #derive
            pub struct #name { #(#fields)* }
            #inputs
            #policy
            impl #name { #meta }
        }
    }

    fn inputs(&self, m: &Model) -> TokenStream {
        let name = camel(&m.name);
        let create = format_ident!("{}CreateInput", camel_str(&m.name));
        let update = format_ident!("{}UpdateInput", camel_str(&m.name));
        let writable: Vec<&Field> = m.fields.iter().filter(|f| f.is_data() && f.annotations.in_input()).collect();
        let create_fields: Vec<(&Field, Shape)> = writable
            .iter()
            .map(|f| {
                let shape = match (f.arity, f.has_server_value()) {
                    (Arity::List, _) => Shape::Absent,
                    (Arity::Required, false) => Shape::Required,
                    (Arity::Required, true) => Shape::Absent,
                    (Arity::Optional, false) => Shape::AbsentOrNull,
                    (Arity::Optional, true) => Shape::Patch,
                };
                (*f, shape)
            })
            .collect();
        let update_fields: Vec<(&Field, Shape)> = writable
            .iter()
            .filter(|f| !f.id && !f.updated_at)
            .map(|f| (*f, if f.is_optional() { Shape::Patch } else { Shape::Absent }))
            .collect();
        let cdoc = format!(" Input to create a [`{}`]: fields with a default, optional fields and lists may be left out.", m.name);
        let udoc = format!(" Input to update a [`{}`]: every field may be left out; `null` clears an optional field.", m.name);
        let cf = create_fields.iter().map(|(f, s)| self.field(f, *s, docs(f.documentation.as_deref())));
        let uf = update_fields.iter().map(|(f, s)| self.field(f, *s, docs(f.documentation.as_deref())));
        let cv = self.validate_fn(&create_fields);
        let uv = self.validate_fn(&update_fields);
        let derive = derives(false);
        let serde_as = Self::serde_as();
        let default = quote!(#[derive(Default)]);
        let cdefault = create_fields.iter().all(|(_, s)| *s != Shape::Required).then_some(&default);
        let _ = name;
        quote! {
            #[doc = #cdoc]
            #serde_as
            #derive
            #cdefault
            #[serde(deny_unknown_fields)]
            pub struct #create { #(#cf)* }
            impl #create { #cv }
            #[doc = #udoc]
            #serde_as
            #derive
            #default
            #[serde(deny_unknown_fields)]
            pub struct #update { #(#uf)* }
            impl #update { #uv }
        }
    }

    fn validate_fn(&self, fields: &[(&Field, Shape)]) -> TokenStream {
        let mut checks = Vec::new();
        let mut statics = Vec::new();
        for (f, shape) in fields {
            let rules = &f.annotations.validate;
            if rules.is_empty() {
                continue;
            }
            let fname = snake(&f.name);
            let path = &f.name;
            let body: Vec<TokenStream> = rules
                .iter()
                .map(|r| match r {
                    ValidateRule::Email => quote!(c.email(#path, v);),
                    ValidateRule::Url => quote!(c.url(#path, v);),
                    ValidateRule::Uuid => quote!(c.uuid(#path, v);),
                    ValidateRule::NonEmpty => quote!(c.non_empty(#path, v.len());),
                    ValidateRule::MinLength(n) => {
                        let n = *n as usize;
                        quote!(c.min_length(#path, v, #n);)
                    }
                    ValidateRule::MaxLength(n) => {
                        let n = *n as usize;
                        quote!(c.max_length(#path, v, #n);)
                    }
                    ValidateRule::Min(n) => quote!(c.min(#path, v, #n);),
                    ValidateRule::Max(n) => quote!(c.max(#path, v, #n);),
                    ValidateRule::Regex(re) => {
                        let st = format_ident!("RE_{}", statics.len());
                        statics.push(quote! {
                            static #st: ::std::sync::LazyLock<::ssot::__private::regex::Regex> = ::std::sync::LazyLock::new(|| {
                                ::ssot::__private::regex::Regex::new(#re).expect("pattern checked by ssot at generation")
                            });
                        });
                        quote!(c.regex(#path, v, &#st);)
                    }
                })
                .collect();
            checks.push(match shape {
                Shape::Required => quote!({ let v = &self.#fname; #(#body)* }),
                Shape::Patch => quote!(if let ::std::option::Option::Some(::std::option::Option::Some(v)) = &self.#fname { #(#body)* }),
                _ => quote!(if let ::std::option::Option::Some(v) = &self.#fname { #(#body)* }),
            });
        }
        quote! {
            /// Checks every `@validate` rule; returns all violations, each with its field path.
            pub fn validate(&self) -> ::std::result::Result<(), ::ssot::validate::Violations> {
                #(#statics)*
                #[allow(unused_mut)]
                let mut c = ::ssot::validate::Collector::new();
                #(#checks)*
                c.finish()
            }
        }
    }

    fn policy_impl(&self, m: &Model) -> TokenStream {
        let name = camel(&m.name);
        let mut cx = PolicyCx { g: self, depth: 0 };
        let op = |cx: &mut PolicyCx<'_, '_>, rule: Option<&Rule>, open: bool| -> TokenStream {
            match rule {
                Some(r) => {
                    let e = cx.expr(quote!(self), m, &r.expr);
                    quote!(p::allow(#e))
                }
                None if open => quote!(true),
                None => quote!(false),
            }
        };
        let is_view = m.kind == ModelKind::View;
        let p = m.annotations.policy.as_ref();
        let (read, create, update, delete) = match p {
            None => (None, None, None, None),
            Some(p) => (p.read.as_ref(), p.create.as_ref(), p.update.as_ref(), p.delete.as_ref()),
        };
        let open = p.is_none();
        let read = op(&mut cx, read, open);
        let create = op(&mut cx, create, open && !is_view);
        let update = op(&mut cx, update, open && !is_view);
        let delete = op(&mut cx, delete, open && !is_view);
        let rule_doc = |op: &str, r: Option<&Rule>| -> String {
            match (p, r) {
                (_, Some(r)) => format!(" `{op}`: `{}`.", r.source),
                (None, None) if op == "read" || !is_view => format!(" `{op}`: allowed (no `@@policy`)."),
                _ => format!(" `{op}`: denied (not granted by `@@policy`)."),
            }
        };
        let (rd, cd, ud, dd) = (
            rule_doc("read", p.and_then(|p| p.read.as_ref())),
            rule_doc("create", p.and_then(|p| p.create.as_ref())),
            rule_doc("update", p.and_then(|p| p.update.as_ref())),
            rule_doc("delete", p.and_then(|p| p.delete.as_ref())),
        );
        let prelude = quote! {
            use ::ssot::policy::{self as p, Op, ToValue as _, Value as V};
            use ::std::option::Option::{None, Some};
        };
        let mut field_fns = Vec::new();
        let mut mask = Vec::new();
        for f in m.fields.iter().filter(|f| f.is_data()) {
            let fname = snake(&f.name);
            if let Some(r) = &f.annotations.readable {
                let fn_name = format_ident!("can_read_{}", fname.to_string().trim_start_matches("r#"));
                let e = cx.expr(quote!(self), m, &r.expr);
                let doc = format!(" `@readable(\"{}\")` on `{}`.", r.source, f.name);
                field_fns.push(quote! {
                    #[doc = #doc]
                    pub fn #fn_name(&self, auth: &Auth) -> bool { #prelude p::allow(#e) }
                });
                if f.annotations.in_output() {
                    mask.push(quote! {
                        if !self.#fn_name(auth) { self.#fname = ::std::option::Option::None; }
                    });
                }
            }
            if let Some(r) = &f.annotations.writable {
                let fn_name = format_ident!("can_write_{}", fname.to_string().trim_start_matches("r#"));
                let e = cx.expr(quote!(self), m, &r.expr);
                let doc = format!(" `@writable(\"{}\")` on `{}`, evaluated on the row being written.", r.source, f.name);
                field_fns.push(quote! {
                    #[doc = #doc]
                    pub fn #fn_name(&self, auth: &Auth) -> bool { #prelude p::allow(#e) }
                });
            }
        }
        quote! {
            #[allow(unused_variables, unused_imports, clippy::all)]
            impl #name {
                /// Row-level security: may `auth` read this row? Relations the rule reads must be
                /// loaded; a rule that cannot be decided denies.
                #[doc = #rd]
                pub fn can_read(&self, auth: &Auth) -> bool { #prelude #read }
                /// May `auth` create this row? Checked on the row to be created.
                #[doc = #cd]
                pub fn can_create(&self, auth: &Auth) -> bool { #prelude #create }
                /// May `auth` update this row? Check it on the row before and after the update.
                #[doc = #ud]
                pub fn can_update(&self, auth: &Auth) -> bool { #prelude #update }
                /// May `auth` delete this row? Checked on the row before deletion.
                #[doc = #dd]
                pub fn can_delete(&self, auth: &Auth) -> bool { #prelude #delete }
                #(#field_fns)*
                /// Removes the fields `auth` may not read (`@readable`) before the row is sent.
                pub fn mask(&mut self, auth: &Auth) { #(#mask)* }
            }
        }
    }

    fn meta(&self, m: &Model) -> TokenStream {
        let name = &m.name;
        let db_name = m.db_name.as_deref().unwrap_or(&m.name);
        let is_view = m.kind == ModelKind::View;
        let ids = m.id_fields();
        let fields = m.fields.iter().filter(|f| !f.ignored && !matches!(f.ty, FieldType::Unsupported(_))).map(|f| {
            let fname = &f.name;
            let (type_name, kind) = match &f.ty {
                FieldType::Scalar(s) => (s.as_str().to_owned(), quote!(Scalar)),
                FieldType::Enum(e) => (e.clone(), quote!(Enum)),
                FieldType::Composite(c) => (c.clone(), quote!(Composite)),
                FieldType::Relation(r) => (r.model.clone(), quote!(Relation)),
                FieldType::Unsupported(u) => (u.clone(), quote!(Scalar)),
            };
            let mut chain = Vec::new();
            let rust_name = snake(&f.name).to_string();
            if rust_name != f.name {
                chain.push(quote!(.rust_name(#rust_name)));
            }
            if let Some(db) = &f.db_name {
                chain.push(quote!(.db_name(#db)));
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
                    let m = ident(method);
                    chain.push(quote!(.#m()));
                }
            }
            if let Some(r) = f.relation() {
                let (model, rname, fks, refs, to_many) = (&r.model, &r.name, &r.fields, &r.references, r.is_to_many());
                chain.push(quote!(.relation(R { model: #model, name: #rname, fields: &[#(#fks),*], references: &[#(#refs),*], to_many: #to_many })));
            }
            quote!(F::new(#fname, K::#kind, #type_name) #(#chain)*)
        });
        quote! {
            /// Names, ids and relations of this model.
            pub const META: ::ssot::meta::ModelMeta = {
                use ::ssot::meta::{FieldKind as K, FieldMeta as F, ModelMeta, RelationMeta as R};
                ModelMeta { name: #name, db_name: #db_name, is_view: #is_view, id_fields: &[#(#ids),*], fields: &[#(#fields),*] }
            };
        }
    }
}

/// Compiles resolved policy expressions to Rust evaluating to `Option<bool>`.
struct PolicyCx<'g, 'a> {
    g: &'g Gen<'a>,
    depth: usize,
}

impl PolicyCx<'_, '_> {
    fn expr(&mut self, row: TokenStream, model: &Model, e: &Expr) -> TokenStream {
        match e {
            Expr::Bool { value } => quote!(Some(#value)),
            Expr::Truthy { operand } => {
                let o = self.operand(&row, model, operand);
                quote!(p::truthy(#o))
            }
            Expr::Compare { op, left, right } => {
                let l = self.operand(&row, model, left);
                let r = self.operand(&row, model, right);
                let op = match op {
                    CmpOp::Eq => quote!(Eq),
                    CmpOp::Ne => quote!(Ne),
                    CmpOp::Lt => quote!(Lt),
                    CmpOp::Le => quote!(Le),
                    CmpOp::Gt => quote!(Gt),
                    CmpOp::Ge => quote!(Ge),
                    CmpOp::In => quote!(In),
                    CmpOp::NotIn => quote!(NotIn),
                };
                quote!(p::cmp(Op::#op, #l, #r))
            }
            Expr::Not { expr } => {
                let x = self.expr(row, model, expr);
                quote!(p::not(#x))
            }
            Expr::And { exprs } | Expr::Or { exprs } => {
                let xs: Vec<_> = exprs.iter().map(|x| self.expr(row.clone(), model, x)).collect();
                let f = if matches!(e, Expr::And { .. }) { quote!(and) } else { quote!(or) };
                quote!(p::#f(&[#(#xs),*]))
            }
            Expr::Quant { quant, hops, relation, model: target, body } => {
                let rel = snake(relation);
                let list = self.through_hops(&row, model, hops, &|r| quote!(#r.#rel.as_deref()), quote!(Some(&[][..])));
                let Some(target_model) = self.g.ir.model(target) else { return quote!(None) };
                self.depth += 1;
                let var = format_ident!("r{}", self.depth);
                let body = self.expr(quote!(#var), target_model, body);
                self.depth -= 1;
                let target_ty = camel(target);
                let f = match quant {
                    Quant::Some => quote!(some),
                    Quant::Every => quote!(every),
                    Quant::None => quote!(none),
                };
                quote!(p::#f(#list, |#var: &#target_ty| #body))
            }
        }
    }

    /// Follows to-one hops from `row`; `leaf` builds the value on the last model. An unloaded
    /// relation gives `None`; a null optional relation gives `on_null`.
    fn through_hops(
        &mut self,
        row: &TokenStream,
        model: &Model,
        hops: &[Hop],
        leaf: &dyn Fn(&TokenStream) -> TokenStream,
        on_null: TokenStream,
    ) -> TokenStream {
        let Some((hop, rest)) = hops.split_first() else {
            return leaf(row);
        };
        let _ = model;
        let field = snake(&hop.field);
        self.depth += 1;
        let var = format_ident!("h{}", self.depth);
        let next_model = self.g.ir.model(&hop.model);
        let inner = match next_model {
            Some(nm) => self.through_hops(&quote!(#var), nm, rest, leaf, on_null.clone()),
            None => quote!(None),
        };
        self.depth -= 1;
        if hop.optional {
            quote!(#row.#field.as_ref().and_then(|o| match o.as_deref() {
                None => #on_null,
                Some(#var) => #inner,
            }))
        } else {
            quote!(#row.#field.as_deref().and_then(|#var| #inner))
        }
    }

    /// An operand as `Option<Value>` (`None` = unknown).
    fn operand(&mut self, row: &TokenStream, model: &Model, o: &Operand) -> TokenStream {
        let some = |v: TokenStream| quote!(Some(#v));
        match o {
            Operand::Null => some(quote!(V::Null)),
            _ if literal(o).is_some() => some(literal(o).unwrap_or_default()),
            Operand::Auth => some(quote!(if auth.is_some() { V::Opaque } else { V::Null })),
            Operand::Claim { name, .. } => {
                let c = snake(name);
                some(quote!(match auth {
                    Some(p) => p.#c.to_value(),
                    None => V::Null,
                }))
            }
            Operand::Field { hops, field, .. } => {
                let ir = self.g.ir;
                let model_name = hops.last().map_or(model.name.as_str(), |h| h.model.as_str());
                let leaf_field = ir.model(model_name).and_then(|m| m.field(field)).cloned();
                let g = self.g;
                let leaf = move |r: &TokenStream| -> TokenStream {
                    let Some(f) = &leaf_field else { return quote!(None) };
                    field_value(g, r, f)
                };
                self.through_hops(row, model, hops, &leaf, some(quote!(V::Null)))
            }
            _ => quote!(None),
        }
    }
}

/// A literal operand as a `Value` expression.
fn literal(o: &Operand) -> Option<TokenStream> {
    Some(match o {
        Operand::Bool { value } => quote!(V::Bool(#value)),
        Operand::Int { value } => quote!(V::Int(#value)),
        Operand::Float { value } => quote!(V::Float(#value)),
        Operand::String { value } => quote!(V::Str(#value)),
        Operand::Enum { value, .. } => quote!(V::Enum(#value)),
        Operand::List { items } => {
            let items = items.iter().map(literal).collect::<Option<Vec<_>>>()?;
            quote!(V::List(::std::vec![#(#items),*]))
        }
        _ => return None,
    })
}

/// A field of `row` as `Option<Value>`: fields that may be absent on the struct (masked by
/// `@readable`, server-only) are unknown when absent.
fn field_value(g: &Gen<'_>, row: &TokenStream, f: &Field) -> TokenStream {
    let name = snake(&f.name);
    let opaque = matches!(f.ty, FieldType::Scalar(ScalarType::Bytes | ScalarType::Json));
    let absent_able = !f.annotations.in_output() || g.output_shape(f).is_some_and(|s| matches!(s, Shape::Absent | Shape::Patch));
    // `v` is the field's value as stored in the struct (without the absent wrapper).
    let value = |v: TokenStream| -> TokenStream {
        if opaque {
            if f.is_optional() {
                quote!(if #v.is_none() { V::Null } else { V::Opaque })
            } else {
                quote!(V::Opaque)
            }
        } else {
            quote!((#v).to_value())
        }
    };
    if absent_able {
        let v = value(quote!(v));
        quote!(#row.#name.as_ref().map(|v| #v))
    } else {
        let v = value(quote!(&#row.#name));
        quote!(Some(#v))
    }
}
