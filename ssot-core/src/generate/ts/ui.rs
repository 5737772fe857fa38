//! The admin UI of SPEC §8: a Next.js App Router app under `app/` of the TypeScript tree.
//!
//! The pages are thin: each model gets a binding of its generated hooks and Zod schemas
//! (`app/admin/_models/<model>.tsx`) and three page files that hand it to the generic views of
//! `app/admin/_ui/` (templates copied as they are). What the views need to know about the schema
//! (fields, types, relations, what may be written, filtered or sorted) is one JSON document,
//! `app/admin/_models/models.json`, computed here from the IR.

use super::js::{self, E, P, call, id, str_lit};
use super::openapi::print_json;
use super::{filter_fields, lower_first};
use crate::config::Config;
use crate::generate::HEADER;
use crate::ir::*;
use crate::names::{file_stem, model_path, ts_type};
use crate::plugin::{Contribution, UiField};
use serde_json::{Value, json};

/// The static part of the UI, copied into every tree that has one.
const STATIC: &[(&str, &str)] = &[
    ("next.config.ts", include_str!("../../../templates/ts/ui/next.config.ts")),
    ("postcss.config.mjs", include_str!("../../../templates/ts/ui/postcss.config.mjs")),
    ("app/globals.css", include_str!("../../../templates/ts/ui/globals.css")),
    ("app/css.d.ts", include_str!("../../../templates/ts/ui/css.d.ts")),
    ("app/layout.tsx", include_str!("../../../templates/ts/ui/layout.tsx")),
    ("app/page.tsx", include_str!("../../../templates/ts/ui/page.tsx")),
    ("app/admin/layout.tsx", include_str!("../../../templates/ts/ui/admin-layout.tsx")),
    ("app/admin/page.tsx", include_str!("../../../templates/ts/ui/dashboard.tsx")),
    ("app/admin/sign-in/page.tsx", include_str!("../../../templates/ts/ui/sign-in-page.tsx")),
    ("app/admin/_ui/actions.ts", include_str!("../../../templates/ts/ui/actions.ts")),
    ("app/admin/_ui/link.ts", include_str!("../../../templates/ts/ui/link.ts")),
    ("app/admin/_ui/session.ts", include_str!("../../../templates/ts/ui/session.ts")),
    ("app/admin/_ui/meta.ts", include_str!("../../../templates/ts/ui/meta.ts")),
    ("app/admin/_ui/values.ts", include_str!("../../../templates/ts/ui/values.ts")),
    ("app/admin/_ui/model.ts", include_str!("../../../templates/ts/ui/model.ts")),
    ("app/admin/_ui/server.tsx", include_str!("../../../templates/ts/ui/server.tsx")),
    ("app/admin/_ui/styles.tsx", include_str!("../../../templates/ts/ui/styles.tsx")),
    ("app/admin/_ui/providers.tsx", include_str!("../../../templates/ts/ui/providers.tsx")),
    ("app/admin/_ui/shell.tsx", include_str!("../../../templates/ts/ui/shell.tsx")),
    ("app/admin/_ui/sign-in.tsx", include_str!("../../../templates/ts/ui/sign-in.tsx")),
    ("app/admin/_ui/list.tsx", include_str!("../../../templates/ts/ui/list.tsx")),
    ("app/admin/_ui/detail.tsx", include_str!("../../../templates/ts/ui/detail.tsx")),
    ("app/admin/_ui/form.tsx", include_str!("../../../templates/ts/ui/form.tsx")),
];

/// `app/admin/_ui/widgets.ts`: the plugins' views of fields on a row's page, by `Model.field`.
fn widgets(plugins: &[(String, Contribution)]) -> String {
    let fields: Vec<&UiField> = plugins.iter().flat_map(|(_, c)| &c.ui_fields).collect();
    let mut imports = vec![super::import_line(true, &["FieldWidget".to_owned()], "./meta.js")];
    for f in &fields {
        imports.push(super::import_line(
            false,
            std::slice::from_ref(&f.export),
            &format!("../../{}.js", f.module.strip_prefix("app/").unwrap_or(&f.module)),
        ));
    }
    let entries: Vec<(String, E)> = fields.iter().map(|f| (format!("{}.{}", f.model, f.field), id(f.export.clone()))).collect();
    let map = E::Obj(entries.into_iter().map(|(k, v)| P::Kv(crate::names::ts_key(&k), v)).collect(), false);
    let decl = js::const_decl(true, "FIELD_WIDGETS", Some(&js::ty("Record<string, FieldWidget>")), &map);
    format!(
        "// {HEADER}\n\n// The plugins' views of fields on a row's page (a file field's upload, say), by `Model.field`.\n{}\n\n{}\n",
        imports.join("\n"),
        js::render(&decl)
    )
}

/// Pinned versions of the UI's packages (beside `project::VERSIONS`).
pub const VERSIONS: &[(&str, &str)] = &[
    ("next", "16.5.0"),
    ("react-dom", "19.3.1"),
    ("@types/react-dom", "19.3.0"),
    ("react-hook-form", "7.92.0"),
    ("@hookform/resolvers", "7.0.9"),
    ("@tanstack/react-table", "9.3.1"),
    ("radix-ui", "1.8.1"),
    ("tailwindcss", "4.3.5"),
    ("@tailwindcss/postcss", "4.3.5"),
    ("concurrently", "10.0.7"),
];

/// The models with pages: served by the API and not `@@expose(ui: false)`.
pub fn ui_models(ir: &Ir) -> Vec<&Model> {
    super::server::served(ir).into_iter().filter(|m| m.annotations.expose.ui).collect()
}

/// Does this tree get the UI? It needs the server's hooks, and `ui` must not be off.
pub fn enabled(ir: &Ir, config: &Config) -> bool {
    config.ui && config.hooks && super::server::has_server(ir) && !ui_models(ir).is_empty()
}

fn with_header(path: &str, text: &str) -> String {
    if path.ends_with(".css") { format!("/* {HEADER} */\n\n{text}") } else { format!("// {HEADER}\n\n{text}") }
}

pub fn generate(ir: &Ir, config: &Config, plugins: &[(String, Contribution)]) -> Vec<(String, String)> {
    let mut files = Vec::new();
    if !enabled(ir, config) {
        return files;
    }
    let sign_in = plugins.iter().find_map(|(_, c)| c.sign_in.as_ref());
    for (path, text) in STATIC {
        let text = match (*path, sign_in) {
            ("app/admin/_ui/sign-in.tsx", Some(s)) => {
                let sso = json!({ "name": s.name, "href": s.href, "env": s.env });
                text.replace("const SSO: Sso | null = null;", &js::json_const("SSO", "Sso | null", &sso))
            }
            _ => (*text).to_owned(),
        };
        files.push(((*path).to_owned(), with_header(path, &text)));
    }
    files.push(("app/admin/_ui/widgets.ts".into(), widgets(plugins)));
    let models = ui_models(ir);
    let mut doc = serde_json::Map::new();
    for m in &models {
        doc.insert(m.name.clone(), model_json(ir, m, &models));
    }
    let mut text = String::new();
    print_json(&Value::Object(doc), 0, &mut text);
    files.push(("app/admin/_models/models.json".into(), text + "\n"));
    // `_sdk`: no model's file stem starts with an underscore.
    files.push(("app/admin/_models/_sdk.ts".into(), client(ir)));
    for m in &models {
        let stem = file_stem(&m.name);
        let path = model_path(m);
        let has_id = !m.id_fields().is_empty();
        files.push((format!("app/admin/_models/{stem}.tsx"), binding(m, has_id)));
        let name = str_lit(&m.name);
        let page = |factory: &str, views: &[&str]| {
            let imports = [
                super::import_line(false, &[factory.to_owned()], "../../_ui/server.js"),
                super::import_line(false, &views.iter().map(|v| (*v).to_owned()).collect::<Vec<_>>(), &format!("../../_models/{stem}.js")),
            ];
            let mut args = vec![name.clone()];
            args.extend(views.iter().map(|v| id(*v)));
            let page = js::render(&js::const_decl(false, "Page", None, &call(id(factory), args)));
            format!("// {HEADER}\n\n{}\n\n{page}\n\nexport default Page;\n", imports.join("\n"))
        };
        let up = |text: String| text.replace("../../_", "../_");
        files.push((format!("app/admin/{path}/page.tsx"), up(page("listPage", &["List"]))));
        // A view has no single-row route: its rows are seen in its list.
        if has_id && m.kind == ModelKind::Model {
            files.push((format!("app/admin/{path}/[...id]/page.tsx"), page("recordPage", &["Detail", "Edit"])));
            files.push((format!("app/admin/{path}/new/page.tsx"), page("createPage", &["Create"])));
        }
    }
    files
}

/// `createClient`: the SDK client of the UI, over HTTP, with the realtime gateway when the tree
/// has one.
fn client(ir: &Ir) -> String {
    let live = super::server::has_realtime(ir);
    let (factory, body) = if live {
        (
            "createHybridClient",
            "  const ws = apiUrl.replace(/^http/, \"ws\") + \"/ws\";\n  return createHybridClient({\n    baseUrl: apiUrl,\n    token: () => credentials.token,\n    apiKey: credentials.apiKey,\n    realtime: { url: ws, token: () => credentials.token },\n  });\n",
        )
    } else {
        (
            "createHttpClient",
            "  return createHttpClient({\n    baseUrl: apiUrl,\n    token: () => credentials.token,\n    apiKey: credentials.apiKey,\n  });\n",
        )
    };
    format!(
        "// {HEADER}\n\n// The SDK client of the admin UI: HTTP{}.\nimport {{ {factory}, type DataClient }} from \"../../../src/sdk/index.js\";\nimport type {{ Credentials }} from \"../_ui/meta.js\";\n\nexport const LIVE = {live};\n\nexport function createClient(apiUrl: string, credentials: Credentials): DataClient {{\n{body}}}\n",
        if live { ", and the WebSocket gateway for live rows" } else { " only (no model has @@realtime)" }
    )
}

/// The per-model module: its hooks and schemas bound to the generic views.
fn binding(m: &Model, has_id: bool) -> String {
    let name = ts_type(&m.name);
    let stem = file_stem(&m.name);
    let writable = m.kind == ModelKind::Model && has_id;
    let live = m.annotations.realtime.is_some();
    let mut hooks = vec![format!("use{name}List"), format!("use{name}Permissions")];
    let mut props =
        vec![P::Kv("useList".into(), id(format!("use{name}List"))), P::Kv("usePermissions".into(), id(format!("use{name}Permissions")))];
    if has_id && m.kind == ModelKind::Model {
        hooks.push(format!("use{name}"));
        props.push(P::Kv("useOne".into(), id(format!("use{name}"))));
    }
    if writable {
        for (k, h) in [
            ("useCreate", format!("useCreate{name}")),
            ("useUpdate", format!("useUpdate{name}")),
            ("useDelete", format!("useDelete{name}")),
        ] {
            props.push(P::Kv(k.into(), id(h.clone())));
            hooks.push(h);
        }
    }
    if live {
        hooks.push(format!("use{name}Subscription"));
        props.push(P::Kv("useSubscription".into(), id(format!("use{name}Subscription"))));
    }
    hooks.sort();
    let mut imports = vec![super::import_line(false, &hooks, &format!("../../../src/hooks/{stem}.js"))];
    if writable {
        let schemas = vec![format!("{name}CreateInputSchema"), format!("{name}UpdateInputSchema")];
        props.push(P::Kv("createSchema".into(), id(schemas[0].clone())));
        props.push(P::Kv("updateSchema".into(), id(schemas[1].clone())));
        imports.push(super::import_line(false, &schemas, &format!("../../../src/validators/{stem}.js")));
    }
    imports.push("import { bindModel } from \"../_ui/model.js\";".into());
    imports.push("import { DetailView } from \"../_ui/detail.js\";".into());
    imports.push("import { CreateView, EditView } from \"../_ui/form.js\";".into());
    imports.push("import { ListView } from \"../_ui/list.js\";".into());
    let bound = js::render(&js::const_decl(false, "model", None, &call(id("bindModel"), vec![str_lit(&m.name), E::Obj(props, true)])));
    format!(
        "// {HEADER}\n\n\"use client\";\n\n// {name}'s hooks and validators, bound to the admin's views.\n{}\n\n{bound}\n\nexport function List() {{\n  return <ListView model={{model}} />;\n}}\n\nexport function Detail(props: {{ id: string[] }}) {{\n  return <DetailView model={{model}} id={{props.id}} />;\n}}\n\nexport function Edit(props: {{ id: string[] }}) {{\n  return <EditView model={{model}} id={{props.id}} />;\n}}\n\nexport function Create() {{\n  return <CreateView model={{model}} />;\n}}\n",
        imports.join("\n")
    )
}

/// How a default reads in a form's hint.
fn default_text(f: &Field) -> Option<String> {
    if f.updated_at {
        return Some("set on every write".into());
    }
    Some(match f.default.as_ref()? {
        DefaultValue::Autoincrement => "autoincrement()".into(),
        DefaultValue::Now => "now()".into(),
        DefaultValue::Uuid(_) => "uuid()".into(),
        DefaultValue::Cuid(_) => "cuid()".into(),
        DefaultValue::Ulid => "ulid()".into(),
        DefaultValue::Nanoid(_) => "nanoid()".into(),
        DefaultValue::Auto => "auto()".into(),
        DefaultValue::Sequence => "sequence()".into(),
        DefaultValue::DbGenerated(_) => "set by the database".into(),
        DefaultValue::Value(l) => literal(l),
    })
}

fn literal(l: &Literal) -> String {
    match l {
        Literal::Bool(b) => b.to_string(),
        Literal::Int(i) => i.to_string(),
        Literal::Float(f) => f.to_string(),
        Literal::String(s) => format!("\"{s}\""),
        Literal::Ident(i) => i.ident.clone(),
        Literal::List(items) => format!("[{}]", items.iter().map(literal).collect::<Vec<_>>().join(", ")),
    }
}

/// `userProfile` → `User profile`.
pub(crate) fn label(name: &str) -> String {
    let words = heck::ToSnakeCase::to_snake_case(name).replace('_', " ");
    let mut c = words.chars();
    match c.next() {
        Some(f) => f.to_uppercase().collect::<String>() + c.as_str(),
        None => String::new(),
    }
}

fn model_json(ir: &Ir, m: &Model, ui: &[&Model]) -> Value {
    let filterable: Vec<&str> = filter_fields(m).map(|f| f.name.as_str()).collect();
    let create: Vec<&str> = m.create_fields().map(|f| f.name.as_str()).collect();
    let update: Vec<&str> = m.update_fields().map(|f| f.name.as_str()).collect();
    let ids = m.id_fields();
    let target = |name: &str| ui.iter().find(|t| t.name == name).copied();
    // A single-field foreign key links to the row it names; only models have row pages (a
    // view's rows are seen in its list).
    let links: Vec<(&str, Value)> = m
        .relation_fields()
        .filter(|(_, r)| r.fields.len() == 1)
        .filter_map(|(_, r)| {
            let t = target(&r.model).filter(|t| t.kind == ModelKind::Model)?;
            Some((r.fields[0].as_str(), json!({ "model": t.name, "field": r.references.first().cloned().unwrap_or_default() })))
        })
        .collect();
    let fields: Vec<Value> = m
        .data_fields()
        .filter(|f| f.annotations.in_output() || create.contains(&f.name.as_str()))
        .map(|f| {
            let (ty, kind) = match &f.ty {
                FieldType::Scalar(s) => (s.as_str().to_owned(), "scalar"),
                FieldType::Enum(e) => (e.clone(), "enum"),
                _ => ("Json".to_owned(), "object"),
            };
            let values = match &f.ty {
                FieldType::Enum(e) => ir.enum_(e).map(|e| e.values.iter().map(|v| v.name.clone()).collect::<Vec<_>>()),
                _ => None,
            };
            let link = links.iter().find(|(fk, _)| *fk == f.name).map(|(_, l)| l.clone());
            json!({
                "name": f.name,
                "label": label(&f.name),
                "type": ty,
                "kind": kind,
                "list": f.is_list(),
                "nullable": f.is_optional(),
                "id": ids.contains(&f.name.as_str()),
                "output": f.annotations.in_output(),
                "masked": f.annotations.readable.is_some(),
                "create": create.contains(&f.name.as_str()),
                "createOptional": f.optional_in_create(),
                "update": update.contains(&f.name.as_str()),
                "readOnly": f.annotations.read_only,
                "filter": filterable.contains(&f.name.as_str()),
                "default": default_text(f),
                "values": values,
                "link": link,
                "doc": f.documentation,
            })
        })
        .collect();
    let relations: Vec<Value> = m
        .relation_fields()
        .filter(|(f, _)| !f.annotations.hidden)
        .filter_map(|(f, r)| {
            let t = target(&r.model)?;
            // A to-many list is the target's rows whose foreign key names this row.
            let back = r.opposite.as_deref().and_then(|o| t.field(o)).and_then(|o| o.relation());
            let by = match (r.kind, back) {
                (RelationKind::OneToMany, Some(b)) if b.fields.len() == 1 && ids.len() == 1 => Some(b.fields[0].clone()),
                _ => None,
            };
            Some(json!({
                "name": f.name,
                "label": label(&f.name),
                "model": t.name,
                "many": r.is_to_many(),
                "fields": r.fields,
                "by": by,
            }))
        })
        .collect();
    let id_types: Vec<Value> = ids
        .iter()
        .filter_map(|i| m.field(i))
        .map(|f| {
            let ty = match &f.ty {
                FieldType::Scalar(s) => s.as_str().to_owned(),
                _ => "String".to_owned(),
            };
            json!({ "name": f.name, "type": ty })
        })
        .collect();
    // The field that names a row in links and pickers: a name or title if there is one.
    let title = ["name", "title", "label", "email", "slug", "username", "code"]
        .iter()
        .find_map(|n| m.output_fields().find(|f| f.name == *n && f.annotations.readable.is_none()).map(|f| f.name.clone()))
        .or_else(|| ids.first().map(|s| (*s).to_owned()));
    let search_field = m
        .output_fields()
        .find(|f| matches!(f.ty, FieldType::Scalar(ScalarType::String)) && filterable.contains(&f.name.as_str()) && !f.is_list())
        .map(|f| f.name.clone());
    json!({
        "name": m.name,
        "label": label(&m.name),
        "key": lower_first(&ts_type(&m.name)),
        "path": model_path(m),
        "view": m.kind == ModelKind::View,
        "writable": m.kind == ModelKind::Model && !ids.is_empty(),
        "live": m.annotations.realtime.is_some(),
        "doc": m.documentation,
        "id": id_types,
        "title": title,
        "searchField": search_field,
        "fields": fields,
        "relations": relations,
    })
}
