//! `changelog`: a plugin written outside ssot. Every committed write of a model with
//! `@@service(changelog, retain: N)` is kept in memory (the last N per model), and
//! `GET <path>` (`[plugins.changelog] path`, default `/api/changelog`) lists them to an ADMIN.
//!
//! It shows each part of the trait: typed options on the model and in `ssot.toml`, a check of the
//! models it can serve, a route and its OpenAPI operation, a file under `src/server/plugins/`, the
//! server module with its options, and an environment variable.

use serde_json::json;
use ssot_core::ir::{Ir, Model};
use ssot_core::plugin::{Contribution, EnvVar, Operation, OptionSpec, OptionType, Options, Plugin, PluginCx, Route, ServerModule};

pub struct Changelog;

const MODEL_OPTIONS: &[OptionSpec] = &[OptionSpec::required("retain", OptionType::Int, "how many writes of the model are kept")];
const OPTIONS: &[OptionSpec] = &[OptionSpec::optional("path", OptionType::String, "where the log is served (default \"/api/changelog\")")];

fn path(options: &Options) -> String {
    options.get("path").and_then(|v| v.as_str()).unwrap_or("/api/changelog").to_owned()
}

impl Plugin for Changelog {
    fn name(&self) -> &str {
        "changelog"
    }

    fn model_options(&self) -> &[OptionSpec] {
        MODEL_OPTIONS
    }

    fn options(&self) -> &[OptionSpec] {
        OPTIONS
    }

    fn check_model(&self, _ir: &Ir, model: &Model, options: &Options) -> Result<(), String> {
        if model.id_fields().len() != 1 {
            return Err("a logged write names its row by a single id field".into());
        }
        match options.get("retain").and_then(|v| v.as_u64()) {
            Some(1..=10_000) => Ok(()),
            _ => Err("`retain` must be between 1 and 10000".into()),
        }
    }

    fn routes(&self, cx: &PluginCx) -> Vec<Route> {
        vec![Route { method: "GET", path: path(cx.options) }]
    }

    fn generate(&self, cx: &PluginCx) -> Contribution {
        let retain: serde_json::Map<String, serde_json::Value> =
            cx.models.iter().map(|(m, o)| (m.name.clone(), o.get("retain").cloned().unwrap_or(json!(100)))).collect();
        let mut c = Contribution::default();
        c.files.insert("src/server/plugins/changelog.ts".into(), include_str!("changelog.ts").to_owned());
        c.server_module =
            Some(ServerModule { path: "plugins/changelog".into(), options: json!({ "path": path(cx.options), "retain": retain }) });
        c.openapi.push(Operation {
            method: "GET",
            path: path(cx.options),
            operation: json!({
                "operationId": "listChangelog",
                "summary": "The last committed writes of the logged models (ADMIN only)",
                "tags": ["Changelog"],
                "security": [{ "bearer": [] }],
                "responses": {
                    "200": { "description": "The log, oldest first.", "content": { "application/json": { "schema": {
                        "type": "object",
                        "properties": { "data": { "type": "array", "items": {
                            "type": "object",
                            "properties": {
                                "model": { "type": "string" },
                                "operation": { "type": "string", "enum": ["create", "update", "delete"] },
                                "id": {},
                                "by": { "description": "The `id` claim of the caller, or null." },
                                "at": { "type": "string", "format": "date-time" },
                            },
                            "required": ["model", "operation", "id", "by", "at"],
                        } } },
                        "required": ["data"],
                    } } } },
                    "401": { "$ref": "#/components/responses/Unauthorized" },
                    "403": { "$ref": "#/components/responses/Forbidden" },
                },
            }),
        });
        c.env.push(EnvVar {
            name: "CHANGELOG_DISABLED".into(),
            doc: "Changelog: `true` keeps nothing (the route answers an empty list).".into(),
            example: "false".into(),
        });
        c
    }
}
