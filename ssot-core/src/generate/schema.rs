//! The schema as data: what a generic engine needs to serve the API of a schema (models, fields
//! and their flags, relations, policies as checked ASTs, enums, auth, paths, realtime events,
//! rate limits, database names and native types). One document, two readers: the TypeScript
//! server reads it as `src/policies/schema.json`, the Rust items embed it as `SCHEMA`
//! (`ssot::schema::Schema` is its typed view).

use crate::config::Config;
use crate::generate::HEADER;
use crate::generate::ts::lower_first;
use crate::ir::*;
use crate::names::model_path;
use serde_json::{Value, json};

fn id_key(m: &Model) -> Option<String> {
    let ids = m.id_fields();
    if ids.len() < 2 {
        return None;
    }
    let name = match &m.primary_key {
        Some(pk) => pk.name.clone(),
        None => m.uniques.first().and_then(|u| u.name.clone()),
    };
    Some(name.unwrap_or_else(|| ids.join("_")))
}

fn field_json(ir: &Ir, m: &Model, f: &Field) -> Value {
    let (ty, values) = match &f.ty {
        FieldType::Scalar(s) => (s.as_str().to_owned(), None),
        FieldType::Enum(e) => ("enum".to_owned(), ir.enum_(e).map(|e| e.values.iter().map(|v| v.name.clone()).collect::<Vec<_>>())),
        FieldType::Composite(_) => ("composite".to_owned(), None),
        _ => ("unsupported".to_owned(), None),
    };
    let filter = crate::generate::ts::filter_fields(m).any(|x| x.name == f.name);
    let mut o = serde_json::Map::new();
    o.insert("name".into(), json!(f.name));
    o.insert("type".into(), json!(ty));
    if let Some(v) = values {
        o.insert("enumValues".into(), json!(v));
    }
    o.insert("list".into(), json!(f.is_list()));
    o.insert("nullable".into(), json!(f.is_optional()));
    o.insert("output".into(), json!(f.annotations.in_output()));
    o.insert("create".into(), json!(m.create_fields().any(|x| x.name == f.name)));
    o.insert("update".into(), json!(m.update_fields().any(|x| x.name == f.name)));
    o.insert("filter".into(), json!(filter));
    o.insert("dbName".into(), json!(f.db_name.as_ref().unwrap_or(&f.name)));
    if let Some(n) = &f.native_type {
        o.insert("nativeType".into(), json!({ "name": n.name, "args": n.args }));
    }
    for (key, on) in [
        ("id", f.id),
        ("unique", f.unique),
        ("hasDefault", f.default.is_some()),
        ("readOnly", f.annotations.read_only),
        ("writeOnly", f.annotations.write_only),
        ("hidden", f.annotations.hidden),
        ("searchable", m.annotations.search.as_ref().is_some_and(|s| s.contains(&f.name))),
    ] {
        if on {
            o.insert(key.into(), json!(true));
        }
    }
    // Values the Prisma client makes itself (not a database default): a server on the tables
    // without Prisma must make them too.
    // `uuid`, `uuid(7)`, `cuid`, `cuid(2)`, `nanoid(16)`, ... as the schema writes them.
    let with = |name: &str, n: &Option<u32>| n.map_or_else(|| name.to_owned(), |n| format!("{name}({n})"));
    let made = match &f.default {
        _ if f.updated_at => Some("updatedAt".to_owned()),
        Some(crate::ir::DefaultValue::Uuid(n)) => Some(with("uuid", n)),
        Some(crate::ir::DefaultValue::Cuid(n)) => Some(with("cuid", n)),
        Some(crate::ir::DefaultValue::Ulid) => Some("ulid".to_owned()),
        Some(crate::ir::DefaultValue::Nanoid(n)) => Some(with("nanoid", n)),
        Some(crate::ir::DefaultValue::Now) => Some("now".to_owned()),
        _ => None,
    };
    if let Some(made) = made {
        o.insert("generated".into(), json!(made));
    }
    if f.annotations.validate.contains(&crate::annotations::ValidateRule::Uuid) {
        // Filters and path ids of a `@db.Uuid` (or `@validate(uuid)`) field are checked as UUIDs:
        // the database would refuse the query with no field to blame.
        o.insert("uuid".into(), json!(true));
    }
    if let Some(r) = &f.annotations.readable {
        o.insert("readable".into(), serde_json::to_value(&r.expr).unwrap_or(Value::Null));
    }
    if let Some(w) = &f.annotations.writable {
        o.insert("writable".into(), serde_json::to_value(&w.expr).unwrap_or(Value::Null));
    }
    Value::Object(o)
}

pub fn document(ir: &Ir, config: &Config) -> Value {
    let mut models = serde_json::Map::new();
    for m in ir.api_models() {
        let auth = m.annotations.auth.clone().unwrap_or_else(|| config.auth_default.clone());
        let relations: Vec<Value> = m
            .relation_fields()
            .filter(|(f, r)| !f.annotations.hidden && ir.model(&r.model).is_some_and(|t| !t.ignored))
            .map(|(f, r)| {
                let mut o = json!({ "name": f.name, "model": r.model, "relationName": r.name, "list": r.is_to_many(), "nullable": f.is_optional() });
                if let Some(back) = &r.opposite {
                    o["opposite"] = json!(back);
                }
                if r.kind == crate::ir::RelationKind::ManyToMany {
                    o["manyToMany"] = json!(true);
                }
                // The foreign key this side holds: inputs that set it must name a row the caller can read.
                if !r.fields.is_empty() {
                    o["fields"] = json!(r.fields);
                    o["references"] = json!(r.references);
                }
                o
            })
            .collect();
        let policy = m.annotations.policy.as_ref().map(|p| {
            let mut o = serde_json::Map::new();
            for (op, rule) in [("read", &p.read), ("create", &p.create), ("update", &p.update), ("delete", &p.delete)] {
                if let Some(rule) = rule {
                    o.insert(op.into(), serde_json::to_value(&rule.expr).unwrap_or(Value::Null));
                }
            }
            Value::Object(o)
        });
        models.insert(
            m.name.clone(),
            json!({
                "name": m.name,
                "dbName": m.db_name.as_ref().unwrap_or(&m.name),
                "dbSchema": m.schema,
                "delegate": lower_first(&m.name),
                "path": model_path(m),
                "view": m.kind == ModelKind::View,
                "api": m.annotations.expose.api,
                "id": m.id_fields(),
                "idKey": id_key(m),
                "auth": auth.iter().map(|a| a.as_str()).collect::<Vec<_>>(),
                "rateLimit": m.annotations.rate_limit.as_ref().map(|r| json!({ "limit": r.limit, "windowSeconds": r.window_seconds })),
                "search": m.annotations.search,
                "realtime": m.annotations.realtime.as_ref().map(|e| e.iter().map(|e| serde_json::to_value(e).unwrap_or(Value::Null)).collect::<Vec<_>>()),
                "fields": m.data_fields().map(|f| field_json(ir, m, f)).collect::<Vec<_>>(),
                "relations": relations,
                "policy": policy,
            }),
        );
    }
    let enums: Vec<Value> = ir
        .enums
        .iter()
        .map(|e| {
            let values: Vec<Value> =
                e.values.iter().map(|v| json!({ "name": v.name, "dbName": v.db_name.as_ref().unwrap_or(&v.name) })).collect();
            json!({ "name": e.name, "dbName": e.db_name.as_ref().unwrap_or(&e.name), "dbSchema": e.schema, "values": values })
        })
        .collect();
    let claims: Vec<Value> = config.claims.iter().map(|c| json!({ "name": c.name, "type": c.ty, "list": c.list })).collect();
    // The active plugins with the options their server part is given: the Rust server runs the
    // ones it implements (`external_writes`) from here and names the others it does not.
    let plugins: serde_json::Map<String, Value> = crate::plugin::active(ir, config)
        .into_iter()
        .map(|a| {
            let options = a.plugin.generate(&a.cx).server_module.map_or(Value::Null, |s| s.options);
            (a.plugin.name().to_owned(), options)
        })
        .collect();
    json!({
        "//": HEADER,
        "provider": ir.provider,
        "readableAfterUpdate": config.readable_after_update,
        "auth": { "default": config.auth_default.iter().map(|a| a.as_str()).collect::<Vec<_>>(), "claims": claims },
        "enums": enums,
        "models": Value::Object(models),
        "plugins": Value::Object(plugins),
    })
}

/// The document as the TypeScript server reads it (`src/policies/schema.json`).
pub fn render(doc: &Value) -> String {
    let mut text = String::new();
    crate::generate::ts::print_json(doc, 0, &mut text);
    text + "\n"
}
