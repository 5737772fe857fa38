//! The AI plugin's server part (`@@service(ai, …)` on a model, `[plugins.ai]` of ssot.toml,
//! feature `ai`), as the TypeScript server runs it: `POST /api/<models>/<id>/ai/<name>` hands the
//! row to a language model and answers with its text (`chat`) or the row's embedding
//! (`embedding`).
//!
//! The row is the one the caller may read, as the API sends it: the read policy decides whether
//! it exists for them (404 otherwise), and a field they may not read (`@readable`) is not in it,
//! so it never reaches the prompt. Calls count against a per-caller limit of their own
//! (`requests_per_minute`). Neither the prompt, the answer nor the key is ever logged; a
//! provider's failure is logged with its status and code, and answered 502. The provider is any
//! OpenAI-compatible API by default ([`OpenAiCompatible`]), or yours ([`super::Server::ai_provider`]).

use super::problem::{FieldError, HttpError};
use crate::schema::{Model, RateLimit, Schema};
use futures_util::future::BoxFuture;
use serde_json::value::RawValue;
use serde_json::{Value as Json, json};
use std::collections::HashMap;
use std::time::Duration;

/// One message of a chat.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct ChatMessage {
    /// `system` or `user`.
    pub role: &'static str,
    pub content: String,
}

/// Why a provider did not answer: what is logged of it (never the prompt, the answer or a key).
#[derive(Debug, Clone, Default)]
pub struct ProviderError {
    /// The HTTP status the provider answered with, if it answered.
    pub status: Option<u16>,
    /// The provider's error code (`rate_limit_exceeded`, …), if it gave one.
    pub code: Option<String>,
    /// What kind of failure: `http`, `connect`, `timeout`, `answer` (an answer without the text),
    /// or one of your provider's.
    pub kind: &'static str,
}

/// What the plugin needs of a language model's API; [`OpenAiCompatible`] is the default. Write
/// your own for another API (Anthropic, Gemini) and give it to [`super::Server::ai_provider`].
///
/// The example of docs/plugins.md#ai:
///
/// ```no_run
/// use ssot::server::{AiProvider, BoxFuture, ChatMessage, ProviderError};
///
/// /// An API that has chats and no embeddings.
/// struct ChatOnly;
///
/// impl AiProvider for ChatOnly {
///     fn chat<'a>(&'a self, _model: &'a str, messages: &'a [ChatMessage]) -> BoxFuture<'a, Result<String, ProviderError>> {
///         Box::pin(async move { Ok(format!("{} messages", messages.len())) })
///     }
///     fn embed<'a>(&'a self, _model: &'a str, _input: &'a str) -> BoxFuture<'a, Result<Vec<f64>, ProviderError>> {
///         Box::pin(async { Err(ProviderError { kind: "unsupported", ..ProviderError::default() }) })
///     }
/// }
/// ```
pub trait Provider: Send + Sync {
    /// The assistant's answer to `messages`.
    fn chat<'a>(&'a self, model: &'a str, messages: &'a [ChatMessage]) -> BoxFuture<'a, Result<String, ProviderError>>;
    /// The embedding of `input`.
    fn embed<'a>(&'a self, model: &'a str, input: &'a str) -> BoxFuture<'a, Result<Vec<f64>, ProviderError>>;
}

/// Any OpenAI-compatible API (OpenAI, OpenRouter, Ollama, LM Studio, xAI) over HTTP:
/// `AI_BASE_URL` (empty: OpenAI's), `AI_API_KEY` (may be empty once `AI_BASE_URL` is set, for a
/// local server) and `AI_TIMEOUT_MS` (default 30000), as the TypeScript tree's
/// `ai_provider.ts`. A failed call is tried once more when the API was unreachable, timed out or
/// answered 408, 409, 429 or 5xx.
pub struct OpenAiCompatible {
    base: String,
    key: String,
    client: reqwest::Client,
}

impl OpenAiCompatible {
    /// From the environment; `None` when neither `AI_API_KEY` nor `AI_BASE_URL` is set (the AI
    /// routes then answer 503).
    pub fn from_env() -> Result<Option<OpenAiCompatible>, String> {
        let env = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
        let (base, key) = (env("AI_BASE_URL"), env("AI_API_KEY"));
        if base.is_none() && key.is_none() {
            return Ok(None);
        }
        let timeout = match env("AI_TIMEOUT_MS") {
            None => 30_000,
            Some(v) => v.parse::<u64>().map_err(|_| format!("AI_TIMEOUT_MS must be a whole number of milliseconds, got \"{v}\""))?,
        };
        // reqwest is built without a TLS crypto provider; ring is the one this crate brings.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let client = reqwest::Client::builder().timeout(Duration::from_millis(timeout)).build().map_err(|e| format!("ai: {e}"))?;
        Ok(Some(OpenAiCompatible {
            base: base.map_or_else(|| "https://api.openai.com/v1".to_owned(), |b| b.trim_end_matches('/').to_owned()),
            key: key.unwrap_or_else(|| "unused".to_owned()),
            client,
        }))
    }

    /// POSTs `body` to `<base><path>`, once more after a failure worth retrying: the answer's JSON.
    async fn call(&self, path: &str, body: &Json) -> Result<Json, ProviderError> {
        let mut attempt = 0;
        loop {
            attempt += 1;
            let sent = self
                .client
                .post(format!("{}{path}", self.base))
                .bearer_auth(&self.key)
                .header("content-type", "application/json")
                .body(body.to_string())
                .send()
                .await;
            let failure = match sent {
                Ok(res) if res.status().is_success() => {
                    let bytes = res.bytes().await.map_err(|_| ProviderError { kind: "answer", ..ProviderError::default() })?;
                    return serde_json::from_slice(&bytes).map_err(|_| ProviderError { kind: "answer", ..ProviderError::default() });
                }
                Ok(res) => {
                    let status = res.status().as_u16();
                    let body: Json = res.bytes().await.ok().and_then(|b| serde_json::from_slice::<Json>(&b).ok()).unwrap_or(Json::Null);
                    let code = body.pointer("/error/code").and_then(Json::as_str).map(str::to_owned);
                    ProviderError { status: Some(status), code, kind: "http" }
                }
                Err(e) => ProviderError { kind: if e.is_timeout() { "timeout" } else { "connect" }, ..ProviderError::default() },
            };
            let again = match failure.status {
                Some(s) => matches!(s, 408 | 409 | 429) || s >= 500,
                None => true,
            };
            if !again || attempt == 2 {
                return Err(failure);
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
    }
}

impl Provider for OpenAiCompatible {
    fn chat<'a>(&'a self, model: &'a str, messages: &'a [ChatMessage]) -> BoxFuture<'a, Result<String, ProviderError>> {
        Box::pin(async move {
            let answer = self.call("/chat/completions", &json!({ "model": model, "messages": messages })).await?;
            Ok(answer.pointer("/choices/0/message/content").and_then(Json::as_str).unwrap_or_default().to_owned())
        })
    }

    fn embed<'a>(&'a self, model: &'a str, input: &'a str) -> BoxFuture<'a, Result<Vec<f64>, ProviderError>> {
        Box::pin(async move {
            // Floats, not base64: not every compatible server speaks it.
            let answer = self.call("/embeddings", &json!({ "model": model, "input": input, "encoding_format": "float" })).await?;
            let values = answer.pointer("/data/0/embedding").and_then(Json::as_array).cloned().unwrap_or_default();
            values.iter().map(|v| v.as_f64().ok_or(ProviderError { kind: "answer", ..ProviderError::default() })).collect()
        })
    }
}

/// One `@@service(ai, …)`: a route of a model.
pub(crate) struct Task {
    pub model: &'static Model,
    /// The route's last segment (`summary`).
    pub name: String,
    embedding: bool,
    /// The fields put in the prompt, in this order (those the caller may read).
    fields: Vec<String>,
    instructions: String,
    /// The task's own rate limit: a model of its own name (`ai:Post:summary`), counted under the
    /// caller's key as the TypeScript server counts it.
    pub limit: &'static Model,
}

/// The plugin as the server runs it.
pub(crate) struct Running {
    chat_model: String,
    embedding_model: String,
    max_input_chars: usize,
    pub tasks: Vec<Task>,
    provider: Option<Box<dyn Provider>>,
}

impl Running {
    /// Reads the options (the schema document's `plugins.ai`); `provider` is yours, or `None`
    /// for [`OpenAiCompatible::from_env`].
    pub(crate) fn start(schema: &'static Schema, options: &Json, provider: Option<Box<dyn Provider>>) -> Result<Running, String> {
        let text = |v: &Json, key: &str| v.get(key).and_then(Json::as_str).unwrap_or_default().to_owned();
        let number = |key: &str| options.get(key).and_then(Json::as_u64).unwrap_or_default();
        let per_minute = u32::try_from(number("requestsPerMinute")).map_err(|_| "ai: requestsPerMinute is too large".to_owned())?;
        let mut tasks = Vec::new();
        for t in options.get("tasks").and_then(Json::as_array).into_iter().flatten() {
            let model_name = text(t, "model");
            let model = schema.models.get(&model_name).ok_or_else(|| format!("ai: the schema has no model `{model_name}`"))?;
            let name = text(t, "name");
            let limit: &'static Model = Box::leak(Box::new(Model {
                name: format!("ai:{model_name}:{name}"),
                rate_limit: Some(RateLimit { limit: per_minute, window_seconds: 60 }),
                ..model.clone()
            }));
            tasks.push(Task {
                model,
                name,
                embedding: text(t, "task") == "embedding",
                fields: super::strings(t, "fields"),
                instructions: text(t, "instructions"),
                limit,
            });
        }
        let provider = match provider {
            Some(p) => Some(p),
            None => OpenAiCompatible::from_env()?.map(|p| Box::new(p) as Box<dyn Provider>),
        };
        if provider.is_none() {
            tracing::warn!("ai: no AI_API_KEY or AI_BASE_URL: the AI routes answer 503");
        }
        Ok(Running {
            chat_model: text(options, "chatModel"),
            embedding_model: text(options, "embeddingModel"),
            max_input_chars: usize::try_from(number("maxInputChars")).unwrap_or(usize::MAX),
            tasks,
            provider,
        })
    }

    /// The request's body: a chat takes `{ input? }`, the caller's own words after the row (at
    /// most `max_input_chars` characters, counted as JavaScript counts them); an embedding takes
    /// nothing.
    pub(crate) fn input(&self, task: &Task, body: &Json) -> Result<Option<String>, HttpError> {
        let empty = serde_json::Map::new();
        let b = body.as_object().unwrap_or(&empty);
        let mut errors = Vec::new();
        for (key, value) in b {
            if key != "input" || task.embedding {
                errors.push(FieldError { path: key.clone(), message: "is not a field of this request".into() });
            } else if value.as_str().is_none_or(|s| s.encode_utf16().count() > self.max_input_chars) {
                errors.push(FieldError {
                    path: "input".into(),
                    message: format!("must be a text of at most {} characters", self.max_input_chars),
                });
            }
        }
        if !errors.is_empty() {
            return Err(HttpError::new(400, "The request is not valid.").with_errors(errors));
        }
        Ok(b.get("input").and_then(Json::as_str).filter(|s| !s.trim().is_empty()).map(str::to_owned))
    }

    /// The task's answer for `row` (the row as the caller may see it, as the API sends it):
    /// `{"text":…}` or `{"embedding":[…]}`.
    pub(crate) async fn answer(&self, task: &Task, row: &str, input: Option<String>) -> Result<String, HttpError> {
        let Some(provider) = &self.provider else {
            return Err(HttpError::new(503, "No AI provider is configured on this server."));
        };
        let record = document(row, &task.fields);
        let answer = if task.embedding {
            provider.embed(&self.embedding_model, &record).await.map(|embedding| json!({ "embedding": embedding }))
        } else {
            let mut messages =
                vec![ChatMessage { role: "system", content: task.instructions.clone() }, ChatMessage { role: "user", content: record }];
            messages.extend(input.map(|content| ChatMessage { role: "user", content }));
            provider.chat(&self.chat_model, &messages).await.map(|text| json!({ "text": text }))
        };
        match answer {
            // Numbers as JavaScript writes them (an embedding's `1.0` is `1`), as the TypeScript
            // server sends them.
            Ok(body) => Ok(super::wire::compact(&body.to_string())),
            Err(e) => {
                tracing::error!(model = %task.model.name, task = %task.name, status = e.status, code = e.code.as_deref(), error = e.kind, "ai: the provider failed");
                Err(HttpError::new(502, "The AI provider did not answer."))
            }
        }
    }
}

/// The row's fields of `fields` that it has (those the caller may read), one `name: value` line
/// each: a text as it is, anything else as the API writes it (the TypeScript plugin's prompt).
fn document(row: &str, fields: &[String]) -> String {
    let values: HashMap<String, &RawValue> = serde_json::from_str(row).unwrap_or_default();
    fields
        .iter()
        .filter_map(|f| {
            let raw = values.get(f)?.get();
            if raw == "null" {
                return None;
            }
            let text = if raw.starts_with('"') { serde_json::from_str::<String>(raw).ok()? } else { raw.to_owned() };
            Some(format!("{f}: {text}"))
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[cfg(test)]
mod tests {
    use super::document;

    #[test]
    fn the_prompt_has_the_row_fields_it_names_in_their_order() {
        let row = r#"{"id":7,"title":"Quokkas \"smile\"","body":null,"views":12,"rating":"4.50","tags":{"b":[1,2],"a":true}}"#;
        let fields = ["title", "body", "tags", "views", "reviewNote"].map(str::to_owned);
        assert_eq!(document(row, &fields), "title: Quokkas \"smile\"\ntags: {\"b\":[1,2],\"a\":true}\nviews: 12");
    }
}
