//! `email`: messages sent when rows of a model are written. `@@service(email, template: "welcome",
//! to: email)` on a model sends the `welcome` message to the address in the row's `email` field
//! after each committed create (`on: [created, updated, deleted]` to choose). Through Resend's HTTP
//! API when `RESEND_API_KEY` is set, SMTP through nodemailer when `SMTP_URL` is set; with neither
//! (development) the message is printed to the log instead of sent. Each message kind is a template module of the tree's, the user's to edit.

use super::{Contribution, EnvVar, OptionSpec, OptionType, Options, Plugin, PluginCx, ServerModule};
use crate::ir::{FieldType, Ir, Model, ScalarType};
use serde_json::json;
use std::collections::BTreeSet;

pub struct Email;

const EVENTS: &[&str] = &["created", "updated", "deleted"];

const OPTIONS: &[OptionSpec] = &[OptionSpec::required("from", OptionType::String, "the sender, like \"Blog <no-reply@example.com>\"")];

const MODEL_OPTIONS: &[OptionSpec] = &[
    OptionSpec::required("template", OptionType::String, "the message kind: a template module under src/server/plugins/templates/"),
    OptionSpec::required("to", OptionType::String, "the String field of the model that holds the recipient's address"),
    OptionSpec::optional("on", OptionType::StringList, "the writes that send it: created, updated, deleted (default [created])"),
];

/// The message kinds' template modules: written once, then the user's (see the writer).
pub const TEMPLATES: &str = "src/server/plugins/templates";

fn template_name(options: &Options) -> &str {
    super::option_str(options, "template")
}

fn events(options: &Options) -> Vec<String> {
    match options.get("on").and_then(|v| v.as_array()) {
        Some(list) => list.iter().filter_map(|v| v.as_str().map(str::to_owned)).collect(),
        None => vec!["created".to_owned()],
    }
}

impl Plugin for Email {
    fn name(&self) -> &str {
        "email"
    }

    fn options(&self) -> &[OptionSpec] {
        OPTIONS
    }

    fn model_options(&self) -> &[OptionSpec] {
        MODEL_OPTIONS
    }

    fn check_model(&self, _ir: &Ir, model: &Model, options: &Options) -> Result<(), String> {
        let template = template_name(options);
        if !(template.starts_with(|c: char| c.is_ascii_lowercase())
            && template.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'))
        {
            return Err(format!("`template: \"{template}\"` must be a name of lowercase letters, digits, `-` and `_` (it names a file)"));
        }
        let to = options.get("to").and_then(|v| v.as_str()).unwrap_or("");
        match model.fields.iter().find(|f| f.name == to) {
            Some(f) if f.ty == FieldType::Scalar(ScalarType::String) && !f.is_list() => {}
            Some(_) => return Err(format!("`to: {to}` must be a String field")),
            None => return Err(format!("`to: {to}` names no field of `{}`", model.name)),
        }
        if model.id_fields().is_empty() {
            return Err("it needs an id to find the row that was written".into());
        }
        if let Some(bad) = events(options).iter().find(|e| !EVENTS.contains(&e.as_str())) {
            return Err(format!("`on` takes created, updated and deleted, not `{bad}`"));
        }
        Ok(())
    }

    fn check_options(&self, _ir: &Ir, options: &Options) -> Vec<(String, String)> {
        match options.get("from").and_then(|v| v.as_str()) {
            Some(from) if !from.contains('@') => {
                vec![("from".into(), format!("`{from}` is not an address: write \"Name <name@example.com>\" or \"name@example.com\""))]
            }
            _ => Vec::new(),
        }
    }

    fn generate(&self, cx: &PluginCx) -> Contribution {
        let mut c = Contribution::default();
        c.files.insert(
            "src/server/plugins/email.ts".into(),
            format!("// {}\n\n{}", crate::generate::HEADER, include_str!("../../templates/ts/plugins/email.ts")),
        );
        let messages: Vec<serde_json::Value> = cx
            .models
            .iter()
            .map(|(m, o)| json!({ "model": m.name, "template": template_name(o), "to": o["to"], "on": events(o) }))
            .collect();
        let templates: BTreeSet<&str> = cx.models.iter().map(|(_, o)| template_name(o)).collect();
        for t in &templates {
            c.files.insert(
                format!("{TEMPLATES}/{t}.ts").into(),
                include_str!("../../templates/ts/plugins/email_template.ts").replace("{{kind}}", t),
            );
        }
        let imports: Vec<String> = templates.iter().enumerate().map(|(i, t)| format!("import * as t{i} from \"./{t}.js\";")).collect();
        let entries: Vec<String> = templates.iter().enumerate().map(|(i, t)| format!("  {}: t{i},", crate::names::ts_key(t))).collect();
        c.files.insert(
            format!("{TEMPLATES}/index.ts").into(),
            format!(
                "// {}\n\n// The message kinds of the email plugin: one module each, yours to edit.\nimport type {{ Template }} from \"../email.js\";\n{}\n\nexport const templates: Record<string, Template> = {{\n{}\n}};\n",
                crate::generate::HEADER,
                imports.join("\n"),
                entries.join("\n")
            ),
        );
        c.server_module = Some(ServerModule {
            path: "plugins/email".into(),
            options: json!({ "from": cx.options.get("from").cloned().unwrap_or(json!("")), "messages": messages }),
        });
        c.dependencies.insert("nodemailer".into(), "10.6.1".into());
        c.dependencies.insert("resend".into(), "6.38.0".into());
        c.dev_dependencies.insert("@types/nodemailer".into(), "8.0.2".into());
        c.env.push(EnvVar::new("SMTP_URL", "Email: the SMTP server, like smtps://user:password@smtp.example.com:465. Set this or\nRESEND_API_KEY (neither: messages are printed to the log instead of sent, for development)."));
        c.env.push(EnvVar::new("RESEND_API_KEY", "Email: send through Resend's HTTP API with this key instead of SMTP (RESEND_BASE_URL, read by\nthe resend package, points it at another host)."));
        c
    }
}
