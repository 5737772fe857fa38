//! `storage`: files of a model's rows in an S3-compatible bucket (AWS S3, R2, MinIO, …).
//! `@@service(storage, field: cover, bucket: "covers", maxSizeMb: 5, types: ["image/png"])` on a
//! model serves, for each row:
//!
//! - `POST /api/<path>/<id>/<field>/upload`: a presigned POST for a caller who may write the
//!   field of this row (its update rule and `@writable`), limited by the storage server itself to
//!   `maxSizeMb` (`content-length-range`) and the declared content type, under a key the server
//!   makes (`<path>/<id>/<field>/<uuid>`), never the client's file name;
//! - `GET /api/<path>/<id>/<field>`: a signed download URL for a caller who may read the row and
//!   the field.
//!
//! The field holds the object's key: a write of it is accepted only for a key of that row that
//! exists in the bucket. Deleting the row deletes the object; replacing the key deletes the old one.

use super::{
    Contribution, EnvVar, Operation, OptionSpec, OptionType, Options, Plugin, PluginCx, Route, ServerModule, UiField, option_str as text,
};
use crate::generate::ts::js;
use crate::ir::{FieldType, Ir, Model, ScalarType};
use serde_json::json;

pub struct Storage;

const OPTIONS: &[OptionSpec] =
    &[OptionSpec::optional("url_expiry_seconds", OptionType::Int, "how long an upload or download URL is valid, in seconds (default 300)")];

const MODEL_OPTIONS: &[OptionSpec] = &[
    OptionSpec::required("field", OptionType::String, "the `String?` field that holds the object's key"),
    OptionSpec::required("bucket", OptionType::String, "the bucket the objects are stored in"),
    OptionSpec::optional("maxSizeMb", OptionType::Number, "the largest object accepted, in megabytes (default 10)"),
    OptionSpec::optional(
        "types",
        OptionType::StringList,
        "the content types accepted, like [\"image/png\", \"image/jpeg\"] (default: any)",
    ),
];

fn max_bytes(options: &Options) -> u64 {
    let mb = options.get("maxSizeMb").and_then(|v| v.as_f64()).unwrap_or(10.0);
    (mb * 1024.0 * 1024.0).round() as u64
}

/// A MIME type: `type/subtype`, of the characters RFC 6838 allows.
fn is_mime(t: &str) -> bool {
    let token = |s: &str| !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || "!#$&-^_.+".contains(c));
    t.split_once('/').is_some_and(|(a, b)| token(a) && token(b))
}

/// S3's bucket names: 3–63 lowercase letters, digits, `-` and `.`, starting and ending with a
/// letter or digit.
fn is_bucket(b: &str) -> bool {
    (3..=63).contains(&b.len())
        && b.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '.')
        && b.starts_with(|c: char| c.is_ascii_alphanumeric())
        && b.ends_with(|c: char| c.is_ascii_alphanumeric())
}

impl Plugin for Storage {
    fn name(&self) -> &str {
        "storage"
    }

    fn options(&self) -> &[OptionSpec] {
        OPTIONS
    }

    fn model_options(&self) -> &[OptionSpec] {
        MODEL_OPTIONS
    }

    fn check_options(&self, _ir: &Ir, options: &Options) -> Vec<(String, String)> {
        match options.get("url_expiry_seconds").and_then(|v| v.as_i64()) {
            Some(s) if !(1..=604_800).contains(&s) => {
                vec![("url_expiry_seconds".into(), format!("{s} is not from 1 to 604800 (7 days, S3's longest)"))]
            }
            _ => Vec::new(),
        }
    }

    fn check_model(&self, _ir: &Ir, model: &Model, options: &Options) -> Result<(), String> {
        let field = text(options, "field");
        match model.fields.iter().find(|f| f.name == field) {
            Some(f) if f.ty == FieldType::Scalar(ScalarType::String) && !f.is_list() && f.is_optional() => {}
            Some(_) => {
                return Err(format!("`field: {field}` must be an optional String field (`{field} String?`): it holds the object's key"));
            }
            None => return Err(format!("`field: {field}` names no field of `{}`", model.name)),
        }
        if model.id_fields().is_empty() || model.kind == crate::ir::ModelKind::View {
            return Err("it needs a model with an id: files belong to rows".into());
        }
        if !model.annotations.expose.api {
            return Err("the model is not served by the API (`@@expose(api: false)`)".into());
        }
        let bucket = text(options, "bucket");
        if !is_bucket(bucket) {
            return Err(format!("`bucket: \"{bucket}\"` is not a bucket name (3–63 lowercase letters, digits, `-` and `.`)"));
        }
        let mb = options.get("maxSizeMb").and_then(|v| v.as_f64()).unwrap_or(10.0);
        if !(mb > 0.0 && mb <= 5120.0) {
            return Err(format!("`maxSizeMb: {mb}` must be more than 0 and at most 5120 (5 GB, the largest single upload)"));
        }
        if let Some(bad) =
            options.get("types").and_then(|v| v.as_array()).into_iter().flatten().filter_map(|v| v.as_str()).find(|t| !is_mime(t))
        {
            return Err(format!("`{bad}` in `types` is not a content type like \"image/png\""));
        }
        Ok(())
    }

    fn routes(&self, cx: &PluginCx) -> Vec<Route> {
        cx.models
            .iter()
            .flat_map(|(m, o)| {
                let one = super::row_path(m);
                let field = text(o, "field");
                [Route { method: "POST", path: format!("{one}/{field}/upload") }, Route { method: "GET", path: format!("{one}/{field}") }]
            })
            .collect()
    }

    fn generate(&self, cx: &PluginCx) -> Contribution {
        let mut c = Contribution::default();
        c.files.insert(
            "src/server/plugins/storage.ts".into(),
            format!("// {}\n\n{}", crate::generate::HEADER, include_str!("../../templates/ts/plugins/storage.ts")),
        );
        let files: Vec<serde_json::Value> = cx
            .models
            .iter()
            .map(|(m, o)| {
                json!({
                    "model": m.name,
                    "stem": crate::names::file_stem(&m.name),
                    "field": text(o, "field"),
                    "bucket": text(o, "bucket"),
                    "maxBytes": max_bytes(o),
                    "types": o.get("types").cloned().unwrap_or(json!([])),
                })
            })
            .collect();
        for (m, o) in &cx.models {
            c.openapi.extend(operations(cx, m, o));
        }
        c.files.insert("src/sdk/plugins/storage.ts".into(), sdk(cx));
        c.files.insert("src/hooks/plugins/storage.ts".into(), hooks(cx));
        // The admin UI's view of each file field: it needs the hooks and the UI.
        if cx.config.hooks && crate::generate::ts::ui::enabled(cx.ir, cx.config) {
            for (m, o) in &cx.models {
                let (path, field) = ui_field(m, o);
                c.files.insert(format!("{}.tsx", field.module).into(), path);
                c.ui_fields.push(field);
            }
        }
        c.server_module = Some(ServerModule {
            path: "plugins/storage".into(),
            options: json!({
                "expirySeconds": cx.options.get("url_expiry_seconds").and_then(|v| v.as_i64()).unwrap_or(300),
                "files": files,
            }),
        });
        for (name, version) in
            [("@aws-sdk/client-s3", "3.1178.0"), ("@aws-sdk/s3-presigned-post", "3.1178.0"), ("@aws-sdk/s3-request-presigner", "3.1178.0")]
        {
            c.dependencies.insert(name.into(), version.into());
        }
        for (name, doc) in [
            (
                "S3_ENDPOINT",
                "Storage: the S3-compatible endpoint, like http://127.0.0.1:9000 for MinIO or https://<account>.r2.cloudflarestorage.com (empty: AWS S3).",
            ),
            ("S3_REGION", "Storage: the bucket's region (empty: us-east-1; R2 takes auto)."),
            ("S3_FORCE_PATH_STYLE", "Storage: true for servers that want the bucket in the path (MinIO and most self-hosted ones)."),
            ("AWS_ACCESS_KEY_ID", "Storage: the access key (or any other way the AWS SDK finds credentials: a role, a profile)."),
            ("AWS_SECRET_ACCESS_KEY", "Storage: the secret of the access key. Never logged."),
            ("STORAGE_DIR", "Storage, for development: keep the files in this folder instead of S3 (served on 127.0.0.1:STORAGE_PORT)."),
            ("STORAGE_PORT", "Storage, for development: the local-disk driver's port (default 9009)."),
        ] {
            c.env.push(EnvVar::new(name, doc));
        }
        c
    }
}

/// The admin UI's view of one file field (`app/plugins/storage/post-cover.tsx`): its text and
/// what the UI is told of it.
fn ui_field(m: &Model, o: &Options) -> (String, UiField) {
    use heck::ToKebabCase;
    let Names { ty, stem, field, upper, .. } = Names::of(m, o);
    let types = o.get("types").cloned().unwrap_or(json!([]));
    let label = crate::generate::ts::ui::label(field);
    let text = include_str!("../../templates/ts/plugins/storage_field.tsx")
        .replace("const TYPES: string[] = [];\n", &(js::json_const("TYPES", "string[]", &types) + "\n"))
        .replace("const MAX_BYTES = 0;", &format!("const MAX_BYTES = {};", max_bytes(o)))
        .replace("{{Type}}", &ty)
        .replace("{{Upper}}", &upper)
        .replace("{{stem}}", &stem)
        .replace("{{Model}}", &m.name)
        .replace("{{field}}", field)
        .replace("{{label}}", &label);
    let ui = UiField {
        model: m.name.clone(),
        field: field.to_owned(),
        module: format!("app/plugins/storage/{stem}-{}", field.to_kebab_case()),
        export: format!("{ty}{upper}Field"),
    };
    (format!("// {}\n\n{text}", crate::generate::HEADER), ui)
}

/// The two routes of one file field in the OpenAPI document.
fn operations(cx: &PluginCx, m: &Model, o: &Options) -> [Operation; 2] {
    use crate::generate::ts::openapi::{id_parameters, json_body, model_security, responses, row_path};
    let Names { ty, field, upper, .. } = Names::of(m, o);
    let types = o.get("types").cloned().unwrap_or(json!([]));
    let content_type = if types.as_array().is_some_and(|t| !t.is_empty()) {
        json!({ "type": "string", "enum": types })
    } else {
        json!({ "type": "string", "description": "A content type like image/png." })
    };
    let upload = json!({
        "type": "object",
        "properties": {
            "contentType": content_type,
            "size": { "type": "integer", "minimum": 1, "maximum": max_bytes(o), "description": "The file's size in bytes, checked before signing." },
        },
        "required": ["contentType"],
        "additionalProperties": false,
    });
    let signed = json!({
        "type": "object",
        "description": "A presigned POST: send `fields` and then the file as multipart/form-data to `url` before `expiresAt`; the storage server refuses another type or a larger file.",
        "properties": {
            "url": { "type": "string" },
            "fields": { "type": "object", "additionalProperties": { "type": "string" } },
            "key": { "type": "string", "description": "The object's key: store it in the field." },
            "maxBytes": { "type": "integer" },
            "expiresAt": { "type": "string", "format": "date-time" },
        },
        "required": ["url", "fields", "key", "maxBytes", "expiresAt"],
    });
    let download = json!({
        "type": "object",
        "properties": { "url": { "type": "string" }, "expiresAt": { "type": "string", "format": "date-time" } },
        "required": ["url", "expiresAt"],
    });
    let row = row_path(m);
    let common = |id: String, summary: String| {
        json!({
            "operationId": id,
            "summary": summary,
            "tags": [ty],
            "security": model_security(m, cx.config),
            "parameters": id_parameters(m),
        })
    };
    let mut post = common(format!("upload{ty}{upper}"), format!("Sign an upload of the file of a {ty}'s {field}"));
    post["requestBody"] = json!({ "required": true, "content": { "application/json": { "schema": upload } } });
    post["responses"] =
        responses(("201", json_body(signed, "Where and how to send the file.")), &["400", "401", "403", "404", "413", "429", "500"]);
    let mut get = common(format!("get{ty}{upper}Url"), format!("A signed download of the file of a {ty}'s {field}"));
    get["responses"] =
        responses(("200", json_body(download, "A URL that reads the file until `expiresAt`.")), &["400", "401", "404", "429", "500"]);
    [
        Operation { method: "POST", path: format!("{row}/{field}/upload"), operation: post },
        Operation { method: "GET", path: format!("{row}/{field}"), operation: get },
    ]
}

/// The names the SDK's and the hooks' parts use for one model's files.
struct Names<'o> {
    /// The model's TypeScript type (`Post`).
    ty: String,
    /// Its modules' stem (`post`).
    stem: String,
    /// The field that holds the key (`cover`), and it in UpperCamelCase (`Cover`).
    field: &'o str,
    upper: String,
    /// The model's name in lowerCamelCase (`post`).
    lower: String,
}

impl<'o> Names<'o> {
    fn of(m: &Model, o: &'o Options) -> Self {
        use heck::{ToLowerCamelCase, ToUpperCamelCase};
        let field = text(o, "field");
        Names {
            ty: crate::names::ts_type(&m.name),
            stem: crate::names::file_stem(&m.name),
            field,
            upper: field.to_upper_camel_case(),
            lower: m.name.to_lower_camel_case(),
        }
    }
}

/// The SDK's part: per model and field, `upload<Model><Field>(transport, id, file)` (sign, send to
/// the bucket, store the key) and `<model><Field>Url(transport, id)` (a signed download).
fn sdk(cx: &PluginCx) -> String {
    let mut imports = Vec::new();
    let mut functions = Vec::new();
    for (m, o) in &cx.models {
        let Names { ty, stem, field, upper, lower } = Names::of(m, o);
        let path = format!("/api/{}/{}", crate::names::model_path(m), crate::generate::ts::sdk::id_path(m));
        imports.push(format!("import type {{ {ty}, {ty}Id }} from \"../../contracts/{stem}.js\";"));
        functions.push(format!(
            r#"/**
 * Uploads `file` as the `{field}` of {model} `id`: a URL signed by the API (`POST {base}/{field}/upload`),
 * the file sent to the bucket with it, then its key stored (`PATCH {base}`). The row as stored.
 */
export async function upload{model_upper}{upper}(
  transport: Transport,
  id: {ty}Id,
  file: Blob,
  fetchImpl: typeof fetch = fetch,
): Promise<{ty}> {{
  const row = `{path}`;
  const key = await send(transport, `${{row}}/{field}`, file, fetchImpl);
  return (await transport.request({{
    method: "PATCH",
    path: row,
    body: {{ {field}: key }},
  }})) as {ty};
}}

/** A signed download URL of the `{field}` of {model} `id` (`GET {base}/{field}`). */
export async function {lower}{upper}Url(transport: Transport, id: {ty}Id): Promise<SignedDownload> {{
  const row = `{path}`;
  return (await transport.request({{
    method: "GET",
    path: `${{row}}/{field}`,
  }})) as SignedDownload;
}}
"#,
            model = m.name,
            model_upper = ty,
            base = super::row_path(m),
        ));
    }
    imports.push("import type { Transport } from \"../types.js\";".into());
    imports.push("import { ApiError } from \"../types.js\";".into());
    let body = format!(
        r#"/** A presigned POST: send a form with every `fields` entry, then the file, to `url`. */
export interface SignedUpload {{
  url: string;
  fields: Record<string, string>;
  key: string;
  maxBytes: number;
  expiresAt: string;
}}

/** A signed download URL. */
export interface SignedDownload {{
  url: string;
  expiresAt: string;
}}

/** Asks the API for an upload URL at `path` and sends `file` with it: the object's key. */
async function send(
  transport: Transport,
  path: string,
  file: Blob,
  fetchImpl: typeof fetch,
): Promise<string> {{
  const signed = (await transport.request({{
    method: "POST",
    path: `${{path}}/upload`,
    body: {{ contentType: file.type, size: file.size }},
  }})) as SignedUpload;
  const form = new FormData();
  for (const [k, v] of Object.entries(signed.fields)) form.append(k, v);
  form.append("file", file);
  const res = await fetchImpl(signed.url, {{ method: "POST", body: form }});
  if (!res.ok) {{
    // S3's errors are XML: its code says why (EntityTooLarge, AccessDenied, …).
    const code = /<Code>([^<]*)<\/Code>/.exec(await res.text())?.[1];
    throw new ApiError(res.status, "The storage server refused the file", code, undefined);
  }}
  return signed.key;
}}

{functions}"#,
        functions = functions.join("\n"),
    );
    super::ts_module("The storage plugin's part of the SDK (docs/plugins.md#storage).", imports, &body)
}

/// The hooks' part: per model and field, `useUpload<Model><Field>()` (a mutation that refetches
/// the model's queries) and `use<Model><Field>Url(id)` (a query, refetched before the URL expires).
fn hooks(cx: &PluginCx) -> String {
    let expiry = cx.options.get("url_expiry_seconds").and_then(|v| v.as_i64()).unwrap_or(300);
    // Fresh for most of the URL's life: refetched with a minute (or half its life) to spare.
    let fresh_ms = (expiry - (expiry / 2).min(60)) * 1000;
    let mut imports = vec![
        "import { useMutation, useQuery, useQueryClient } from \"@tanstack/react-query\";".to_owned(),
        "import { useDataClient } from \"../context.js\";".to_owned(),
    ];
    let mut sdk_names = Vec::new();
    let mut functions = Vec::new();
    for (m, o) in &cx.models {
        let Names { ty, stem, field, upper, lower } = Names::of(m, o);
        let keys = format!("{}Keys", crate::generate::ts::lower_first(&ty));
        imports.push(format!("import type {{ {ty}Id }} from \"../../contracts/{stem}.js\";"));
        imports.push(format!("import {{ {keys} }} from \"../{stem}.js\";"));
        sdk_names.push(format!("upload{ty}{upper}"));
        sdk_names.push(format!("{lower}{upper}Url"));
        functions.push(format!(
            r#"/** Uploads a file as the `{field}` of a {model} (`upload{ty}{upper}`); its queries are refetched. */
export function useUpload{ty}{upper}() {{
  const client = useDataClient();
  const queryClient = useQueryClient();
  return useMutation({{
    mutationFn: (v: {{ id: {ty}Id; file: Blob }}) => upload{ty}{upper}(client.transport, v.id, v.file),
    onSuccess: () => queryClient.invalidateQueries({{ queryKey: {keys}.all }}),
  }});
}}

/** A signed download URL of the `{field}` of {model} `id`, fetched again before it expires. */
export function use{ty}{upper}Url(id: {ty}Id) {{
  const client = useDataClient();
  return useQuery({{
    queryKey: [...{keys}.one(id), "{field}"] as const,
    queryFn: () => {lower}{upper}Url(client.transport, id),
    staleTime: {fresh_ms},
  }});
}}
"#,
            model = m.name,
        ));
    }
    sdk_names.sort();
    imports.push(format!("import {{ {} }} from \"../../sdk/index.js\";", sdk_names.join(", ")));
    super::ts_module("The storage plugin's hooks (docs/plugins.md#storage).", imports, &functions.join("\n"))
}
