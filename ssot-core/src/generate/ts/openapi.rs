//! `src/openapi.json`: OpenAPI 3.1 for the HTTP API of SPEC section 5, built from the same IR
//! (and the same rules) as the Zod schemas.

use super::{PRINT_WIDTH, filter_fields};
use crate::annotations::{AuthMethod, ValidateRule};
use crate::config::Config;
use crate::ir::*;
use crate::names::{model_path, ts_type};
use serde_json::{Map, Value, json};

const BIGINT: &str = "^(0|-?[1-9][0-9]*)$";
const DECIMAL: &str = "^-?(0|[1-9][0-9]*)(\\.[0-9]+)?$";

fn r(name: &str) -> Value {
    json!({ "$ref": format!("#/components/schemas/{name}") })
}

fn nullable(schema: Value) -> Value {
    match schema.get("type").and_then(Value::as_str) {
        Some(t) if schema.get("$ref").is_none() => {
            let mut s = schema.clone();
            s["type"] = json!([t, "null"]);
            s
        }
        _ => json!({ "anyOf": [schema, { "type": "null" }] }),
    }
}

fn scalar_schema(s: ScalarType) -> Value {
    match s {
        ScalarType::String => json!({ "type": "string" }),
        ScalarType::Int => json!({ "type": "integer", "format": "int32" }),
        ScalarType::BigInt => json!({ "type": "string", "format": "int64", "pattern": BIGINT }),
        ScalarType::Float => json!({ "type": "number", "format": "double" }),
        ScalarType::Decimal => json!({ "type": "string", "format": "decimal", "pattern": DECIMAL }),
        ScalarType::Boolean => json!({ "type": "boolean" }),
        ScalarType::DateTime => json!({ "type": "string", "format": "date-time" }),
        ScalarType::Json => json!({}),
        ScalarType::Bytes => json!({ "type": "string", "contentEncoding": "base64" }),
    }
}

fn base_schema(ty: &FieldType) -> Value {
    match ty {
        FieldType::Scalar(s) => scalar_schema(*s),
        FieldType::Enum(e) | FieldType::Composite(e) => r(&ts_type(e)),
        FieldType::Relation(rel) => r(&ts_type(&rel.model)),
        FieldType::Unsupported(_) => json!({}),
    }
}

fn with_rules(mut s: Value, rules: &[ValidateRule], list: bool) -> Value {
    for rule in rules {
        let (k, v) = match rule {
            ValidateRule::Email => ("format", json!("email")),
            ValidateRule::Url => ("format", json!("uri")),
            ValidateRule::Uuid => ("format", json!("uuid")),
            ValidateRule::Regex(re) => ("pattern", json!(re)),
            ValidateRule::MinLength(n) => ("minLength", json!(n)),
            ValidateRule::MaxLength(n) => ("maxLength", json!(n)),
            ValidateRule::NonEmpty if list => continue,
            ValidateRule::NonEmpty => ("minLength", json!(1)),
            ValidateRule::Min(n) if s.get("type") == Some(&json!("string")) => ("x-minimum", json!(n)),
            ValidateRule::Max(n) if s.get("type") == Some(&json!("string")) => ("x-maximum", json!(n)),
            ValidateRule::Min(n) => ("minimum", json!(n)),
            ValidateRule::Max(n) => ("maximum", json!(n)),
        };
        if let Some(obj) = s.as_object_mut() {
            obj.insert(k.to_owned(), v);
        }
    }
    s
}

fn field_schema(f: &Field, rules: bool) -> Value {
    let r: &[ValidateRule] = if rules { &f.annotations.validate } else { &[] };
    let mut s = with_rules(base_schema(&f.ty), r, false);
    if f.is_list() {
        s = json!({ "type": "array", "items": s });
        if r.contains(&ValidateRule::NonEmpty) {
            s["minItems"] = json!(1);
        }
    }
    if let Some(doc) = &f.documentation {
        if s.get("$ref").is_some() {
            s = json!({ "allOf": [s], "description": doc });
        } else if let Some(obj) = s.as_object_mut() {
            obj.insert("description".into(), json!(doc));
        }
    }
    if f.annotations.deprecated.is_some() {
        if s.get("$ref").is_some() {
            s = json!({ "allOf": [s] });
        }
        if let Some(obj) = s.as_object_mut() {
            obj.insert("deprecated".into(), json!(true));
        }
    }
    s
}

fn object(props: Vec<(String, Value, bool)>, doc: Option<&str>, closed: bool) -> Value {
    let mut o = Map::new();
    o.insert("type".into(), json!("object"));
    if let Some(d) = doc {
        o.insert("description".into(), json!(d));
    }
    let required: Vec<Value> = props.iter().filter(|p| p.2).map(|p| json!(p.0)).collect();
    let mut properties = Map::new();
    for (k, v, _) in props {
        properties.insert(k, v);
    }
    o.insert("properties".into(), Value::Object(properties));
    if !required.is_empty() {
        o.insert("required".into(), Value::Array(required));
    }
    if closed {
        o.insert("additionalProperties".into(), json!(false));
    }
    Value::Object(o)
}

/// The error responses of the API: component name, status, description.
const PROBLEMS: &[(&str, &str, &str)] = &[
    ("BadRequest", "400", "The input is invalid; `errors` lists each problem with its path."),
    ("Unauthorized", "401", "No valid credentials."),
    ("Forbidden", "403", "The caller may not do this."),
    ("NotFound", "404", "No such row, or none the caller may read."),
    ("Conflict", "409", "A unique constraint or relation would be violated."),
    ("PayloadTooLarge", "413", "The body is over the size limit."),
    ("TooManyRequests", "429", "Over the rate limit; retry after `Retry-After` seconds."),
    ("InternalError", "500", "An unexpected error; details are in the server log under the request id."),
];

fn problem_responses() -> Value {
    let mut m = Map::new();
    for (name, status, desc) in PROBLEMS {
        let mut resp = json!({
            "description": format!("{status}: {desc}"),
            "content": { "application/problem+json": { "schema": r("Problem") } },
        });
        if *status == "429" {
            resp["headers"] = json!({ "Retry-After": { "description": "Seconds to wait.", "schema": { "type": "integer" } } });
        }
        m.insert((*name).into(), resp);
    }
    Value::Object(m)
}

/// Errors only plugins' routes answer: written out where they are used, so that a document
/// without plugins stays as it was.
const PLUGIN_PROBLEMS: &[(&str, &str)] = &[
    ("502", "An outside service (a payment or model provider) did not answer as it should."),
    ("503", "The route is not set up on this server (a missing setting)."),
];

/// References to the error responses of these statuses.
fn errors(codes: &[&str]) -> Vec<(String, Value)> {
    codes
        .iter()
        .map(|c| {
            let response = match (PROBLEMS.iter().find(|p| p.1 == *c), PLUGIN_PROBLEMS.iter().find(|p| p.0 == *c)) {
                (None, Some((status, desc))) => json!({
                    "description": format!("{status}: {desc}"),
                    "content": { "application/problem+json": { "schema": r("Problem") } },
                }),
                (found, _) => json!({ "$ref": format!("#/components/responses/{}", found.map_or("InternalError", |p| p.0)) }),
            };
            ((*c).to_owned(), response)
        })
        .collect()
}

/// A success response and references to the error responses of `codes`.
pub(crate) fn responses(ok: (&str, Value), codes: &[&str]) -> Value {
    let mut m = Map::new();
    m.insert(ok.0.into(), ok.1);
    for (k, v) in errors(codes) {
        m.insert(k, v);
    }
    Value::Object(m)
}

pub(crate) fn json_body(schema: Value, desc: &str) -> Value {
    json!({ "description": desc, "content": { "application/json": { "schema": schema } } })
}

/// Paths and schemas of some models. Models are split over two threads; the halves are merged
/// in model order, so the document is the same as built in one pass.
fn model_parts(ir: &Ir, config: &Config, models: &[&Model]) -> (Map<String, Value>, Map<String, Value>) {
    let mut paths = Map::new();
    let mut schemas = Map::new();
    for &m in models {
        let name = ts_type(&m.name);
        let mut props: Vec<(String, Value, bool)> = m
            .output_fields()
            .map(|f| {
                let s = field_schema(f, false);
                let readable = f.annotations.readable.is_some();
                (f.name.clone(), if f.is_optional() { nullable(s) } else { s }, !readable)
            })
            .collect();
        for (f, rel) in m.relation_fields().filter(|(f, rel)| !f.annotations.hidden && ir.model(&rel.model).is_some_and(|t| !t.ignored)) {
            let target = r(&ts_type(&rel.model));
            let s = if rel.is_to_many() {
                json!({ "type": "array", "items": target })
            } else if f.is_optional() {
                nullable(target)
            } else {
                target
            };
            props.push((f.name.clone(), s, false));
        }
        let mut schema = object(props, m.documentation.as_deref(), false);
        if m.annotations.deprecated.is_some() {
            schema["deprecated"] = json!(true);
        }
        schemas.insert(name.clone(), schema);
        let writable = m.kind == ModelKind::Model;
        if writable {
            let create = m
                .create_fields()
                .map(|f| {
                    let s = field_schema(f, true);
                    let required = !f.optional_in_create();
                    (f.name.clone(), if f.is_optional() { nullable(s) } else { s }, required)
                })
                .collect();
            schemas.insert(format!("{name}CreateInput"), object(create, None, true));
            let update = m
                .update_fields()
                .map(|f| {
                    let s = field_schema(f, true);
                    (f.name.clone(), if f.is_optional() { nullable(s) } else { s }, false)
                })
                .collect();
            schemas.insert(format!("{name}UpdateInput"), object(update, None, true));
        }
        if !m.annotations.expose.api {
            continue;
        }
        let security = model_security(m, config);
        let plural = model_path(m);
        let base = format!("/api/{plural}");
        let op = |id: String, summary: String, extra: Map<String, Value>| -> Value {
            let mut o = Map::new();
            o.insert("operationId".into(), json!(id));
            o.insert("summary".into(), json!(summary));
            o.insert("tags".into(), json!([name.clone()]));
            o.insert("security".into(), Value::Array(security.clone()));
            if m.annotations.deprecated.is_some() {
                o.insert("deprecated".into(), json!(true));
            }
            o.extend(extra);
            Value::Object(o)
        };
        // `filter[field][op]=value`: a shared filter schema per field type, one per model.
        let mut filter_props = Map::new();
        let mut fields = Vec::new();
        for f in filter_fields(m) {
            fields.push(f.name.clone());
            let (filter_name, value, ops): (String, Value, &[&str]) = match &f.ty {
                FieldType::Scalar(ScalarType::String) => (
                    "StringFilter".into(),
                    scalar_schema(ScalarType::String),
                    &["equals", "not", "in", "lt", "lte", "gt", "gte", "contains", "startsWith", "endsWith"],
                ),
                FieldType::Scalar(ScalarType::Boolean) => ("BooleanFilter".into(), scalar_schema(ScalarType::Boolean), &["equals", "not"]),
                FieldType::Scalar(s) => {
                    (format!("{}Filter", s.as_str()), scalar_schema(*s), &["equals", "not", "in", "lt", "lte", "gt", "gte"])
                }
                FieldType::Enum(e) => (format!("{}Filter", ts_type(e)), r(&ts_type(e)), &["equals", "not", "in"]),
                _ => continue,
            };
            if !schemas.contains_key(&filter_name) {
                let mut o = Map::new();
                for opn in ops {
                    let v =
                        if *opn == "in" { json!({ "type": "string", "description": "Comma-separated values." }) } else { value.clone() };
                    o.insert((*opn).into(), v);
                }
                schemas.insert(
                    filter_name.clone(),
                    json!({ "type": "object", "properties": Value::Object(o), "additionalProperties": false }),
                );
            }
            filter_props.insert(f.name.clone(), r(&filter_name));
        }
        schemas.insert(
            format!("{name}Filter"),
            json!({ "type": "object", "properties": Value::Object(filter_props), "additionalProperties": false }),
        );
        let filter_param = json!({
            "name": "filter", "in": "query", "required": false, "style": "deepObject", "explode": true,
            "description": "`filter[field][op]=value`.",
            "schema": r(&format!("{name}Filter")),
        });
        let includes: Vec<String> = m
            .relation_fields()
            .filter(|(f, rel)| !f.annotations.hidden && ir.model(&rel.model).is_some_and(|t| !t.ignored))
            .map(|(f, _)| f.name.clone())
            .collect();
        let include_param = json!({
            "name": "include", "in": "query", "required": false,
            "description": format!("Comma-separated relations to include: {}.", if includes.is_empty() { "none".to_owned() } else { includes.join(", ") }),
            "schema": { "type": "string" },
        });
        let mut list_params = vec![
            json!({ "$ref": "#/components/parameters/take" }),
            json!({ "$ref": "#/components/parameters/skip" }),
            json!({ "$ref": "#/components/parameters/cursor" }),
            json!({
                "name": "orderBy", "in": "query", "required": false,
                "description": format!("Comma-separated fields, `-field` for descending: {}.", fields.join(", ")),
                "schema": { "type": "string" },
            }),
        ];
        list_params.push(filter_param.clone());
        list_params.push(include_param.clone());
        let page = json!({
            "type": "object",
            "properties": {
                "data": { "type": "array", "items": r(&name) },
                "meta": {
                    "type": "object",
                    "properties": { "total": { "type": "integer" }, "nextCursor": { "type": ["string", "null"] } },
                    "required": ["total", "nextCursor"],
                },
            },
            "required": ["data", "meta"],
        });
        schemas.insert(format!("{name}Page"), page);
        let list_result = r(&format!("{name}Page"));
        let mut coll = Map::new();
        let mut x = Map::new();
        x.insert("parameters".into(), Value::Array(list_params));
        x.insert("responses".into(), responses(("200", json_body(list_result.clone(), "A page of rows.")), &["400", "401", "429", "500"]));
        coll.insert("get".into(), op(format!("list{name}"), format!("List {name} rows the caller may read"), x));
        let id_fields = m.id_fields();
        if writable {
            let mut x = Map::new();
            x.insert(
                "requestBody".into(),
                json!({ "required": true, "content": { "application/json": { "schema": r(&format!("{name}CreateInput")) } } }),
            );
            x.insert(
                "responses".into(),
                responses(("201", json_body(r(&name), "The created row.")), &["400", "401", "403", "409", "413", "429", "500"]),
            );
            coll.insert("post".into(), op(format!("create{name}"), format!("Create a {name}"), x));
        }
        paths.insert(base.clone(), Value::Object(coll));
        let mut count = Map::new();
        let mut x = Map::new();
        x.insert("parameters".into(), json!([filter_param]));
        x.insert(
            "responses".into(),
            responses(
                (
                    "200",
                    json_body(
                        json!({ "type": "object", "properties": { "count": { "type": "integer" } }, "required": ["count"] }),
                        "The number of rows.",
                    ),
                ),
                &["400", "401", "429", "500"],
            ),
        );
        count.insert("get".into(), op(format!("count{name}"), format!("Count {name} rows the caller may read"), x));
        paths.insert(format!("{base}/count"), Value::Object(count));
        let mut x = Map::new();
        x.insert("responses".into(), responses(("200", json_body(r("Permissions"), "What the caller may do.")), &["401", "429", "500"]));
        let mut perms = Map::new();
        perms.insert("get".into(), op(format!("permissions{name}"), format!("What the caller may do with {name} rows"), x));
        paths.insert(format!("{base}/permissions"), Value::Object(perms));
        if m.annotations.search.is_some() {
            let mut x = Map::new();
            x.insert(
                "parameters".into(),
                json!([
                    { "name": "q", "in": "query", "required": true, "schema": { "type": "string", "minLength": 1 } },
                    { "$ref": "#/components/parameters/take" },
                ]),
            );
            x.insert("responses".into(), responses(("200", json_body(list_result, "Matching rows.")), &["400", "401", "429", "500"]));
            let mut s = Map::new();
            s.insert("get".into(), op(format!("search{name}"), format!("Search {name} rows"), x));
            paths.insert(format!("{base}/search"), Value::Object(s));
        }
        if !id_fields.is_empty() && writable {
            let params = id_parameters(m);
            let path = row_path(m);
            let mut item = Map::new();
            item.insert("parameters".into(), Value::Array(params));
            let mut x = Map::new();
            x.insert("parameters".into(), json!([include_param]));
            x.insert("responses".into(), responses(("200", json_body(r(&name), "The row.")), &["400", "401", "404", "429", "500"]));
            item.insert("get".into(), op(format!("get{name}"), format!("Get one {name}"), x));
            let mut x = Map::new();
            x.insert(
                "requestBody".into(),
                json!({ "required": true, "content": { "application/json": { "schema": r(&format!("{name}UpdateInput")) } } }),
            );
            x.insert(
                "responses".into(),
                responses(("200", json_body(r(&name), "The updated row.")), &["400", "401", "403", "404", "409", "413", "429", "500"]),
            );
            item.insert("patch".into(), op(format!("update{name}"), format!("Update a {name}"), x));
            let mut x = Map::new();
            x.insert(
                "responses".into(),
                responses(("204", json!({ "description": "Deleted." })), &["400", "401", "403", "404", "409", "429", "500"]),
            );
            item.insert("delete".into(), op(format!("delete{name}"), format!("Delete a {name}"), x));
            let mut row_perms = Map::new();
            row_perms.insert("parameters".into(), item["parameters"].clone());
            let mut x = Map::new();
            x.insert(
                "responses".into(),
                responses(
                    ("200", json_body(r("Permissions"), "What the caller may do with the row.")),
                    &["400", "401", "404", "429", "500"],
                ),
            );
            row_perms.insert("get".into(), op(format!("rowPermissions{name}"), format!("What the caller may do with one {name}"), x));
            paths.insert(format!("{path}/permissions"), Value::Object(row_perms));
            paths.insert(path, Value::Object(item));
        }
    }
    (paths, schemas)
}

/// The security requirements of a route guarded by these methods (none when one is `public`).
pub(crate) fn security(auth: &[AuthMethod]) -> Vec<Value> {
    if auth.contains(&AuthMethod::Public) {
        return vec![];
    }
    auth.iter()
        .map(|a| match a {
            AuthMethod::ApiKey => json!({ "apiKey": [] }),
            _ => json!({ "bearer": [] }),
        })
        .collect()
}

/// The security requirements of a model's routes (`@@auth`, else `[auth] default`).
pub(crate) fn model_security(m: &Model, config: &Config) -> Vec<Value> {
    security(m.annotations.auth.as_deref().unwrap_or(&config.auth_default))
}

/// A row's path, `/api/posts/{id}` (each id field a parameter).
pub(crate) fn row_path(m: &Model) -> String {
    let ids: String = m.id_fields().iter().map(|f| format!("/{{{f}}}")).collect();
    format!("/api/{}{ids}", model_path(m))
}

/// The path parameters of [`row_path`].
pub(crate) fn id_parameters(m: &Model) -> Vec<Value> {
    m.id_fields()
        .iter()
        .filter_map(|n| m.field(n))
        .map(|f| {
            let schema = match &f.ty {
                FieldType::Scalar(s) => scalar_schema(*s),
                other => base_schema(other),
            };
            json!({ "name": f.name, "in": "path", "required": true, "schema": schema })
        })
        .collect()
}

/// Adds the plugins' operations (each marked `x-ssot-plugin` with its plugin's name) to the
/// document's paths, after the API's own.
pub(crate) fn add_operations(doc: &mut Value, operations: Vec<(String, crate::plugin::Operation)>) {
    let Some(paths) = doc.get_mut("paths").and_then(Value::as_object_mut) else { return };
    for (plugin, op) in operations {
        let mut operation = op.operation;
        operation["x-ssot-plugin"] = json!(plugin);
        let item = paths.entry(op.path).or_insert_with(|| json!({}));
        item[op.method.to_ascii_lowercase()] = operation;
    }
}

/// The document as the tree holds it: printed the way prettier prints JSON.
pub(crate) fn render(doc: &Value) -> String {
    let mut out = String::new();
    print_json(doc, 0, &mut out);
    out.push('\n');
    out
}

/// The API's OpenAPI 3.1 document, without plugins' operations (the Rust server's).
pub fn document(ir: &Ir, config: &Config) -> Value {
    let mut schemas = Map::new();
    schemas.insert(
        "Problem".into(),
        json!({
            "type": "object",
            "description": "An RFC 9457 problem.",
            "properties": {
                "type": { "type": "string" },
                "title": { "type": "string" },
                "status": { "type": "integer" },
                "detail": { "type": "string" },
                "instance": { "type": "string" },
                "requestId": { "type": "string" },
                "errors": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "properties": { "path": { "type": "string" }, "message": { "type": "string" } },
                        "required": ["path", "message"],
                    },
                },
            },
            "required": ["type", "title", "status"],
        }),
    );
    schemas.insert(
        "Permissions".into(),
        json!({
            "type": "object",
            "description": "What the policies let the caller do: for the model (false: for no row; true: the row decides; `write`: in create inputs) or for one row (`write`: in update inputs).",
            "properties": {
                "read": { "type": "boolean" },
                "create": { "type": "boolean" },
                "update": { "type": "boolean" },
                "delete": { "type": "boolean" },
                "fields": {
                    "type": "object",
                    "additionalProperties": {
                        "type": "object",
                        "properties": { "read": { "type": "boolean" }, "write": { "type": "boolean" } },
                        "required": ["read", "write"],
                        "additionalProperties": false,
                    },
                },
            },
            "required": ["read", "create", "update", "delete", "fields"],
            "additionalProperties": false,
        }),
    );
    for e in &ir.enums {
        let mut s = json!({ "type": "string", "enum": e.values.iter().map(|v| v.name.clone()).collect::<Vec<_>>() });
        if let Some(d) = &e.documentation {
            s["description"] = json!(d);
        }
        schemas.insert(ts_type(&e.name), s);
    }
    for ct in &ir.composite_types {
        let props = ct
            .fields
            .iter()
            .filter(|f| f.is_data())
            .map(|f| {
                let s = field_schema(f, false);
                (f.name.clone(), if f.is_optional() { nullable(s) } else { s }, true)
            })
            .collect();
        schemas.insert(ts_type(&ct.name), object(props, ct.documentation.as_deref(), false));
    }
    let models: Vec<&Model> = ir.api_models().collect();
    let (first, second) = models.split_at(models.len() / 2);
    let (a, b) = std::thread::scope(|scope| {
        let later = scope.spawn(|| model_parts(ir, config, second));
        let earlier = model_parts(ir, config, first);
        (earlier, later.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic)))
    });
    let mut paths = Map::new();
    for (part_paths, part_schemas) in [a, b] {
        paths.extend(part_paths);
        for (k, v) in part_schemas {
            if !schemas.contains_key(&k) {
                schemas.insert(k, v);
            }
        }
    }
    for (p, id, summary) in [("/health", "health", "Liveness: the process is up"), ("/ready", "ready", "Readiness: the database answers")] {
        paths.insert(
            p.into(),
            json!({ "get": {
                "operationId": id, "summary": summary, "security": [],
                "responses": {
                    "200": json_body(json!({ "type": "object", "properties": { "status": { "type": "string" } }, "required": ["status"] }), "OK."),
                    "503": { "description": "Not ready." },
                },
            } }),
        );
    }
    paths.insert(
        "/openapi.json".into(),
        json!({ "get": {
            "operationId": "openapi", "summary": "This document", "security": [],
            "responses": { "200": json_body(json!({ "type": "object" }), "The OpenAPI document.") },
        } }),
    );
    // Assembled by moving the maps in: `json!` would copy them by serializing them again.
    let mut components = Map::new();
    components.insert("schemas".into(), Value::Object(schemas));
    components.insert("responses".into(), problem_responses());
    components.insert(
        "parameters".into(),
        json!({
            "take": { "name": "take", "in": "query", "required": false, "schema": { "type": "integer", "minimum": 0, "maximum": 1000 } },
            "skip": { "name": "skip", "in": "query", "required": false, "schema": { "type": "integer", "minimum": 0 } },
            "cursor": { "name": "cursor", "in": "query", "required": false, "description": "`meta.nextCursor` of the previous page.", "schema": { "type": "string" } },
        }),
    );
    components.insert(
        "securitySchemes".into(),
        json!({
            "bearer": { "type": "http", "scheme": "bearer", "bearerFormat": "JWT" },
            "apiKey": { "type": "apiKey", "in": "header", "name": "x-api-key" },
        }),
    );
    let mut doc = Map::new();
    doc.insert("openapi".into(), json!("3.1.0"));
    doc.insert(
        "info".into(),
        json!({
            "title": "API generated by ssot",
            "version": "1.0.0",
            "description": "Generated from the Prisma schema by ssot. Do not edit: changes are overwritten.",
        }),
    );
    doc.insert("paths".into(), Value::Object(paths));
    doc.insert("components".into(), Value::Object(components));
    Value::Object(doc)
}

/// JSON the way prettier prints it: objects expanded, arrays of scalars on one line when they
/// fit, everything else one item per line.
pub fn print_json(v: &Value, indent: usize, out: &mut String) {
    print_json_value(v, indent, 0, out);
}

/// `tail`: the width of what follows the value on its line (a comma).
fn print_json_value(v: &Value, indent: usize, tail: usize, out: &mut String) {
    match v {
        Value::Object(o) if o.is_empty() => out.push_str("{}"),
        Value::Object(o) => {
            out.push_str("{\n");
            let n = o.len();
            for (i, (k, val)) in o.iter().enumerate() {
                pad(out, indent + 1);
                push_str_lit(out, k);
                out.push_str(": ");
                print_json_value(val, indent + 1, usize::from(i + 1 < n), out);
                if i + 1 < n {
                    out.push(',');
                }
                out.push('\n');
            }
            pad(out, indent);
            out.push('}');
        }
        Value::Array(a) if a.is_empty() => out.push_str("[]"),
        Value::Array(a) => {
            if a.iter().all(|x| !x.is_object() && !x.is_array()) {
                // One line if it fits with the indentation, the key and a trailing comma.
                let line_start = out.rfind('\n').map_or(0, |i| i + 1);
                let mark = out.len();
                out.push('[');
                for (i, x) in a.iter().enumerate() {
                    if i > 0 {
                        out.push_str(", ");
                    }
                    print_json_value(x, indent + 1, 0, out);
                }
                out.push(']');
                if super::doc::width(&out[line_start..]) + tail <= PRINT_WIDTH {
                    return;
                }
                out.truncate(mark);
            }
            out.push_str("[\n");
            for (i, x) in a.iter().enumerate() {
                pad(out, indent + 1);
                print_json_value(x, indent + 1, usize::from(i + 1 < a.len()), out);
                if i + 1 < a.len() {
                    out.push(',');
                }
                out.push('\n');
            }
            pad(out, indent);
            out.push(']');
        }
        Value::String(s) => push_str_lit(out, s),
        other => out.push_str(&other.to_string()),
    }
}

fn pad(out: &mut String, indent: usize) {
    for _ in 0..indent {
        out.push_str("  ");
    }
}

/// A JSON string literal, escaped as serde_json (and prettier) write it.
fn push_str_lit(out: &mut String, s: &str) {
    if s.bytes().all(|b| b >= 0x20 && b != b'"' && b != b'\\') {
        out.push('"');
        out.push_str(s);
        out.push('"');
    } else {
        out.push_str(&serde_json::to_string(s).unwrap_or_default());
    }
}
