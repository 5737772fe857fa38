//! `ai`: a model's rows handed to a language model. `@@service(ai, name: "summary", fields: [title,
//! body], instructions: "Summarize the post in two sentences.")` on `Post` serves
//! `POST /api/posts/:id/ai/summary`: the row as the caller may read it (policy and `@readable`),
//! its listed fields as the prompt, the model's answer back. `task: embedding` answers the
//! embedding of the same text instead. Any OpenAI-compatible API by default (the `openai` package at
//! `AI_BASE_URL`), another through the tree's `ai_provider.ts`, which is the user's.

use super::{Contribution, EnvVar, Operation, OptionSpec, OptionType, Options, Plugin, PluginCx, Route, ServerModule, option_str as text};
use crate::ir::{FieldType, Ir, Model, ModelKind};
use serde_json::json;

pub struct Ai;

/// The provider module: written once, then the user's (see the writer).
pub const PROVIDER: &str = "src/server/plugins/ai_provider.ts";

const OPTIONS: &[OptionSpec] = &[
    OptionSpec::required("model", OptionType::String, "the chat model, like \"gpt-4o-mini\" or \"llama3.2\""),
    OptionSpec::optional(
        "embedding_model",
        OptionType::String,
        "the embedding model, like \"text-embedding-3-small\" (for `task: embedding`)",
    ),
    OptionSpec::optional("requests_per_minute", OptionType::Int, "calls per caller and minute to each AI route (default 10)"),
    OptionSpec::optional("max_input_chars", OptionType::Int, "the longest `input` a caller may add to a chat (default 2000)"),
];

const MODEL_OPTIONS: &[OptionSpec] = &[
    OptionSpec::required("name", OptionType::String, "the route's name: POST /api/<models>/:id/ai/<name>"),
    OptionSpec::required("fields", OptionType::StringList, "the fields put in the prompt (those the caller may read)"),
    OptionSpec::optional("instructions", OptionType::String, "what the model is told to do with the row (required for a chat)"),
    OptionSpec::optional(
        "task",
        OptionType::OneOf(&["chat", "embedding"]),
        "chat (default): the model's answer; embedding: the row's vector",
    ),
];

fn task(options: &Options) -> &str {
    match text(options, "task") {
        "" => "chat",
        t => t,
    }
}

fn fields(options: &Options) -> Vec<&str> {
    options.get("fields").and_then(|v| v.as_array()).into_iter().flatten().filter_map(|v| v.as_str()).collect()
}

fn requests_per_minute(options: &Options) -> i64 {
    options.get("requests_per_minute").and_then(|v| v.as_i64()).unwrap_or(10)
}

fn max_input_chars(options: &Options) -> i64 {
    options.get("max_input_chars").and_then(|v| v.as_i64()).unwrap_or(2000)
}

/// One task's route in the OpenAPI document.
fn operation(cx: &PluginCx, m: &Model, o: &Options) -> Operation {
    use crate::generate::ts::openapi::{id_parameters, json_body, model_security, responses, row_path};
    let (_, upper) = names(m, o);
    let fields = fields(o).join(", ");
    let (summary, body, answer) = if task(o) == "embedding" {
        (
            format!("The embedding of a {}'s {fields} (those the caller may read)", m.name),
            json!({ "type": "object", "properties": {}, "additionalProperties": false }),
            json!({ "type": "object", "properties": { "embedding": { "type": "array", "items": { "type": "number" } } }, "required": ["embedding"] }),
        )
    } else {
        (
            format!("The model's answer about a {}, given its {fields} (those the caller may read)", m.name),
            json!({
                "type": "object",
                "properties": { "input": { "type": "string", "maxLength": max_input_chars(cx.options), "description": "The caller's own words, after the row's." } },
                "additionalProperties": false,
            }),
            json!({ "type": "object", "properties": { "text": { "type": "string" } }, "required": ["text"] }),
        )
    };
    Operation {
        method: "POST",
        path: format!("{}/ai/{}", row_path(m), text(o, "name")),
        operation: json!({
            "operationId": format!("ai{upper}"),
            "summary": summary,
            "tags": [crate::names::ts_type(&m.name)],
            "security": model_security(m, cx.config),
            "parameters": id_parameters(m),
            "requestBody": { "required": true, "content": { "application/json": { "schema": body } } },
            "responses": responses(("200", json_body(answer, "The provider's answer.")), &["400", "401", "404", "413", "429", "500", "502", "503"]),
        }),
    }
}

/// The SDK's and the hooks' name of a task: `postSummary`, `PostSummary`.
fn names(m: &Model, options: &Options) -> (String, String) {
    use heck::{ToLowerCamelCase, ToUpperCamelCase};
    let lower = format!("{}{}", m.name.to_lower_camel_case(), text(options, "name").to_upper_camel_case());
    (lower.clone(), lower.to_upper_camel_case())
}

impl Plugin for Ai {
    fn name(&self) -> &str {
        "ai"
    }

    fn rust_routes(&self) -> bool {
        true // ssot::server, feature `ai`
    }

    fn options(&self) -> &[OptionSpec] {
        OPTIONS
    }

    fn model_options(&self) -> &[OptionSpec] {
        MODEL_OPTIONS
    }

    fn repeatable(&self) -> bool {
        true
    }

    fn check_options(&self, ir: &Ir, options: &Options) -> Vec<(String, String)> {
        let mut wrong = Vec::new();
        let rpm = requests_per_minute(options);
        if !(1..=10_000).contains(&rpm) {
            wrong.push(("requests_per_minute".into(), format!("{rpm} is not from 1 to 10000")));
        }
        let max = max_input_chars(options);
        if !(0..=100_000).contains(&max) {
            wrong.push(("max_input_chars".into(), format!("{max} is not from 0 to 100000")));
        }
        let embeds = ir
            .api_models()
            .flat_map(|m| m.annotations.services.iter().filter(|s| s.plugin == "ai").map(|s| &s.options))
            .any(|o| task(o) == "embedding");
        if embeds && text(options, "embedding_model").is_empty() {
            wrong.push(("model".into(), "a `task: embedding` needs `embedding_model` too".into()));
        }
        wrong
    }

    fn check_model(&self, _ir: &Ir, model: &Model, options: &Options) -> Result<(), String> {
        let name = text(options, "name");
        if !(name.starts_with(|c: char| c.is_ascii_lowercase()) && name.chars().all(|c| c.is_ascii_alphanumeric())) {
            return Err(format!("`name: \"{name}\"` must be a lowerCamelCase word (it names a route and SDK functions)"));
        }
        if model.id_fields().is_empty() || model.kind == ModelKind::View {
            return Err("it needs a model with an id: a route names one row".into());
        }
        if !model.annotations.expose.api {
            return Err("the model is not served by the API (`@@expose(api: false)`)".into());
        }
        let listed = fields(options);
        if listed.is_empty() {
            return Err("`fields` lists none: name the fields the prompt holds".into());
        }
        for f in listed {
            match model.field(f) {
                None => return Err(format!("`{f}` in `fields` names no field of `{}`", model.name)),
                Some(field) if !matches!(field.ty, FieldType::Scalar(_) | FieldType::Enum(_)) => {
                    return Err(format!("`{f}` in `fields` is a relation: list the model's own fields"));
                }
                Some(field) if !field.annotations.in_output() => {
                    return Err(format!(
                        "`{f}` in `fields` is {}: no caller reads it, so it can never be in a prompt",
                        field.annotations.masked_by().unwrap_or("@hidden")
                    ));
                }
                Some(_) => {}
            }
        }
        if task(options) == "chat" && text(options, "instructions").trim().is_empty() {
            return Err("a chat needs `instructions`: what the model is to do with the row".into());
        }
        Ok(())
    }

    fn routes(&self, cx: &PluginCx) -> Vec<Route> {
        cx.models.iter().map(|(m, o)| Route { method: "POST", path: format!("{}/ai/{}", super::row_path(m), text(o, "name")) }).collect()
    }

    fn generate(&self, cx: &PluginCx) -> Contribution {
        let mut c = Contribution::default();
        c.files.insert(
            "src/server/plugins/ai.ts".into(),
            format!("// {}\n\n{}", crate::generate::HEADER, include_str!("../../templates/ts/plugins/ai.ts")),
        );
        c.files.insert(PROVIDER.into(), include_str!("../../templates/ts/plugins/ai_provider.ts").to_owned());
        let tasks: Vec<serde_json::Value> = cx
            .models
            .iter()
            .map(|(m, o)| {
                json!({
                    "model": m.name,
                    "stem": crate::names::file_stem(&m.name),
                    "name": text(o, "name"),
                    "task": task(o),
                    "fields": fields(o),
                    "instructions": text(o, "instructions"),
                })
            })
            .collect();
        c.openapi = cx.models.iter().map(|(m, o)| operation(cx, m, o)).collect();
        c.files.insert("src/sdk/plugins/ai.ts".into(), sdk(cx));
        c.files.insert("src/hooks/plugins/ai.ts".into(), hooks(cx));
        c.server_module = Some(ServerModule {
            path: "plugins/ai".into(),
            options: json!({
                "chatModel": text(cx.options, "model"),
                "embeddingModel": text(cx.options, "embedding_model"),
                "maxInputChars": max_input_chars(cx.options),
                "requestsPerMinute": requests_per_minute(cx.options),
                "tasks": tasks,
            }),
        });
        c.dependencies.insert("openai".into(), "6.49.0".into());
        for (name, doc) in [
            (
                "AI_BASE_URL",
                "AI: an OpenAI-compatible API, like http://127.0.0.1:11434/v1 for Ollama or https://openrouter.ai/api/v1 (empty: OpenAI's).",
            ),
            (
                "AI_API_KEY",
                "AI: the API's key (empty with AI_BASE_URL set: a local server without keys; both empty: the AI routes answer 503). Never logged.",
            ),
            ("AI_TIMEOUT_MS", "AI: how long a call to the API may take (default 30000)."),
        ] {
            c.env.push(EnvVar::new(name, doc));
        }
        c
    }
}

/// The SDK's part: per task, `<model><Name>(transport, id, input?)`.
fn sdk(cx: &PluginCx) -> String {
    let mut imports = Vec::new();
    let mut functions = Vec::new();
    for (m, o) in &cx.models {
        let ty = crate::names::ts_type(&m.name);
        let stem = crate::names::file_stem(&m.name);
        let (lower, _) = names(m, o);
        let path = format!("/api/{}/{}/ai/{}", crate::names::model_path(m), crate::generate::ts::sdk::id_path(m), text(o, "name"));
        imports.push(format!("import type {{ {ty}Id }} from \"../../contracts/{stem}.js\";"));
        let route = format!("POST {}/ai/{}", super::row_path(m), text(o, "name"));
        functions.push(if task(o) == "embedding" {
            format!(
                "/** The embedding of {model} `id`'s fields that the caller may read (`{route}`). */\nexport async function {lower}(transport: Transport, id: {ty}Id): Promise<AiEmbedding> {{\n  return (await transport.request({{\n    method: \"POST\",\n    path: `{path}`,\n    body: {{}},\n  }})) as AiEmbedding;\n}}\n",
                model = m.name
            )
        } else {
            format!(
                "/**\n * The AI's answer about {model} `id` (`{route}`), given the fields the caller may read and,\n * after them, `input` if any.\n */\nexport async function {lower}(\n  transport: Transport,\n  id: {ty}Id,\n  input?: string,\n): Promise<AiAnswer> {{\n  return (await transport.request({{\n    method: \"POST\",\n    path: `{path}`,\n    body: input !== undefined ? {{ input }} : {{}},\n  }})) as AiAnswer;\n}}\n",
                model = m.name
            )
        });
    }
    imports.push("import type { Transport } from \"../types.js\";".into());
    let body = format!(
        "/** A chat's answer. */\nexport interface AiAnswer {{\n  text: string;\n}}\n\n/** A row's embedding. */\nexport interface AiEmbedding {{\n  embedding: number[];\n}}\n\n{}",
        functions.join("\n")
    );
    super::ts_module("The AI plugin's part of the SDK (docs/plugins.md#ai).", imports, &body)
}

/// The hooks' part: per task, `use<Model><Name>()`, a mutation (each call costs: never a query that
/// refetches by itself).
fn hooks(cx: &PluginCx) -> String {
    let mut imports = vec![
        "import { useMutation } from \"@tanstack/react-query\";".to_owned(),
        "import { useDataClient } from \"../context.js\";".to_owned(),
    ];
    let mut sdk_names = Vec::new();
    let mut functions = Vec::new();
    for (m, o) in &cx.models {
        let ty = crate::names::ts_type(&m.name);
        let stem = crate::names::file_stem(&m.name);
        let (lower, upper) = names(m, o);
        imports.push(format!("import type {{ {ty}Id }} from \"../../contracts/{stem}.js\";"));
        sdk_names.push(lower.clone());
        functions.push(if task(o) == "embedding" {
            format!(
                "/** The embedding of a {model} (`{lower}`), when `mutate(id)` is called. */\nexport function use{upper}() {{\n  const client = useDataClient();\n  return useMutation({{\n    mutationFn: (id: {ty}Id) => {lower}(client.transport, id),\n  }});\n}}\n",
                model = m.name
            )
        } else {
            format!(
                "/** The AI's answer about a {model} (`{lower}`), when `mutate({{ id, input }})` is called. */\nexport function use{upper}() {{\n  const client = useDataClient();\n  return useMutation({{\n    mutationFn: (v: {{ id: {ty}Id; input?: string }}) => {lower}(client.transport, v.id, v.input),\n  }});\n}}\n",
                model = m.name
            )
        });
    }
    sdk_names.sort();
    imports.push(format!("import {{ {} }} from \"../../sdk/index.js\";", sdk_names.join(", ")));
    super::ts_module("The AI plugin's hooks (docs/plugins.md#ai).", imports, &functions.join("\n"))
}
