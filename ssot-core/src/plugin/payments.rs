//! `payments`: Stripe checkout and webhooks. `POST <path>/checkout` creates a Checkout Session
//! for the signed-in caller and one of the configured prices; `POST <path>/webhook` verifies the
//! `Stripe-Signature` of the raw body (300 s tolerance), records the event's id in the events
//! model (its id is the primary key, so a redelivered event is handled once) and runs the
//! project's handler for the event's type in the same transaction. An event older than one
//! already handled for the same object (Stripe does not promise order) is recorded and not
//! handled. The handlers are a module of the tree's, the user's to edit.

use super::{Contribution, EnvVar, Operation, OptionSpec, OptionType, Options, Plugin, PluginCx, Route, ServerModule, option_str as text};
use crate::ir::{FieldType, Ir, ScalarType};
use serde_json::json;

pub struct Payments;

const OPTIONS: &[OptionSpec] = &[
    OptionSpec::required(
        "events_model",
        OptionType::String,
        "the model that records handled events: `id String @id`, `type String`, `object String`, `created DateTime`",
    ),
    OptionSpec::required("prices", OptionType::StringList, "the Stripe price ids a caller may check out"),
    OptionSpec::required("success_url", OptionType::String, "where Stripe sends the buyer after paying"),
    OptionSpec::required("cancel_url", OptionType::String, "where Stripe sends the buyer who cancels"),
    OptionSpec::optional("mode", OptionType::OneOf(&["payment", "subscription"]), "one-time payments or subscriptions (default payment)"),
    OptionSpec::optional("path", OptionType::String, "the routes' prefix (default \"/api/payments\")"),
];

/// The user's handlers of Stripe events: written once, then theirs (see the writer).
pub const HANDLERS: &str = "src/server/plugins/payment_handlers.ts";

/// The fields the events model needs, with their types.
const EVENT_FIELDS: &[(&str, ScalarType)] =
    &[("id", ScalarType::String), ("type", ScalarType::String), ("object", ScalarType::String), ("created", ScalarType::DateTime)];

/// The checkout and the webhook in the OpenAPI document.
fn operations(cx: &PluginCx) -> Vec<Operation> {
    use crate::annotations::AuthMethod;
    use crate::generate::ts::openapi::{json_body, responses, security};
    let p = prefix(cx.options);
    let signed_in: Vec<AuthMethod> = cx.config.auth_default.iter().filter(|m| **m != AuthMethod::Public).cloned().collect();
    let checkout = json!({
        "operationId": "createCheckout",
        "summary": "Start a Stripe Checkout for the caller",
        "tags": ["Payments"],
        "security": security(&signed_in),
        "requestBody": { "required": true, "content": { "application/json": { "schema": {
            "type": "object",
            "properties": {
                "price": { "type": "string", "enum": cx.options.get("prices").cloned().unwrap_or(json!([])) },
                "quantity": { "type": "integer", "minimum": 1, "maximum": 100, "default": 1 },
            },
            "required": ["price"],
            "additionalProperties": false,
        } } } },
        "responses": responses(
            ("201", json_body(json!({
                "type": "object",
                "properties": { "id": { "type": "string" }, "url": { "type": ["string", "null"], "description": "Stripe's page: send the browser there." } },
                "required": ["id", "url"],
            }), "The Checkout Session.")),
            &["400", "401", "413", "429", "500", "502", "503"],
        ),
    });
    let webhook = json!({
        "operationId": "stripeWebhook",
        "summary": "Stripe's events: verified with STRIPE_WEBHOOK_SECRET on the raw body, each handled once",
        "tags": ["Payments"],
        "security": [],
        "parameters": [{ "name": "Stripe-Signature", "in": "header", "required": true, "schema": { "type": "string" } }],
        "requestBody": { "required": true, "content": { "application/json": { "schema": { "type": "object", "description": "A Stripe event, as Stripe sent it." } } } },
        "responses": responses(
            ("200", json_body(json!({
                "type": "object",
                "properties": { "received": { "type": "boolean" }, "result": { "type": "string", "enum": ["handled", "duplicate", "superseded"] } },
                "required": ["received", "result"],
            }), "The event was recorded.")),
            &["400", "413", "429", "500", "503"],
        ),
    });
    vec![
        Operation { method: "POST", path: format!("{p}/checkout"), operation: checkout },
        Operation { method: "POST", path: format!("{p}/webhook"), operation: webhook },
    ]
}

fn prefix(options: &Options) -> String {
    match text(options, "path") {
        "" => "/api/payments".to_owned(),
        p => p.trim_end_matches('/').to_owned(),
    }
}

impl Plugin for Payments {
    fn name(&self) -> &str {
        "payments"
    }

    fn options(&self) -> &[OptionSpec] {
        OPTIONS
    }

    fn check_options(&self, ir: &Ir, options: &Options) -> Vec<(String, String)> {
        let mut wrong = Vec::new();
        let name = text(options, "events_model");
        match ir.models.iter().find(|m| m.name == name) {
            None => wrong.push((
                "events_model".into(),
                match crate::diagnostics::did_you_mean(name, ir.models.iter().map(|m| m.name.as_str())) {
                    Some(h) => format!("no model is named `{name}`; did you mean `{h}`?"),
                    None => format!("no model is named `{name}`"),
                },
            )),
            Some(m) => {
                for (field, ty) in EVENT_FIELDS {
                    match m.fields.iter().find(|f| f.name == *field) {
                        Some(f) if f.ty == FieldType::Scalar(*ty) && !f.is_list() && !f.is_optional() => {}
                        _ => wrong.push(("events_model".into(), format!("`{name}` needs a required field `{field} {}`", ty.as_str()))),
                    }
                }
                let ids = m.id_fields();
                if ids != ["id"] {
                    wrong.push(("events_model".into(), format!("`{name}` must have `id` as its only id: it makes an event's id unique")));
                }
            }
        }
        let prices = options.get("prices").and_then(|v| v.as_array()).map_or(0, Vec::len);
        if prices == 0 {
            wrong.push(("prices".into(), "list at least one price id, like [\"price_1Abc…\"]".into()));
        }
        for key in ["success_url", "cancel_url"] {
            let url = text(options, key);
            if !(url.starts_with("https://") || url.starts_with("http://")) {
                wrong.push((key.into(), format!("`{url}` is not an absolute http(s) URL")));
            }
        }
        let p = prefix(options);
        if !super::is_route_path(&p) {
            wrong.push(("path".into(), format!("`{p}` is not a path: write it like \"/api/payments\"")));
        }
        wrong
    }

    fn rust_routes(&self) -> bool {
        true // ssot::server, feature `payments`
    }

    fn routes(&self, cx: &PluginCx) -> Vec<Route> {
        let p = prefix(cx.options);
        vec![Route { method: "POST", path: format!("{p}/checkout") }, Route { method: "POST", path: format!("{p}/webhook") }]
    }

    fn generate(&self, cx: &PluginCx) -> Contribution {
        let mut c = Contribution::default();
        c.files.insert(
            "src/server/plugins/payments.ts".into(),
            format!("// {}\n\n{}", crate::generate::HEADER, include_str!("../../templates/ts/plugins/payments.ts")),
        );
        c.files.insert(HANDLERS.into(), include_str!("../../templates/ts/plugins/payment_handlers.ts").to_owned());
        c.files.insert("src/sdk/plugins/payments.ts".into(), sdk(cx.options));
        c.files.insert(
            "src/hooks/plugins/payments.ts".into(),
            format!("// {}\n{}", crate::generate::HEADER, include_str!("../../templates/ts/plugins/payments_hooks.ts")),
        );
        let events = text(cx.options, "events_model");
        c.server_module = Some(ServerModule {
            path: "plugins/payments".into(),
            options: json!({
                "path": prefix(cx.options),
                "events": crate::generate::ts::lower_first(events),
                "prices": cx.options.get("prices").cloned().unwrap_or(json!([])),
                "mode": match text(cx.options, "mode") { "" => "payment", m => m },
                "successUrl": text(cx.options, "success_url"),
                "cancelUrl": text(cx.options, "cancel_url"),
                "auth": cx.config.auth_default.iter().map(|m| m.as_str()).collect::<Vec<_>>(),
            }),
        });
        c.openapi = operations(cx);
        c.dependencies.insert("stripe".into(), "23.2.0".into());
        c.env.push(EnvVar::new("STRIPE_SECRET_KEY", "Payments: the Stripe secret key (sk_live_… or sk_test_…). Never logged."));
        c.env.push(EnvVar::new(
            "STRIPE_WEBHOOK_SECRET",
            "Payments: the signing secret of the webhook endpoint (whsec_…); without it every event is refused.",
        ));
        c.env.push(EnvVar::new(
            "STRIPE_API_URL",
            "Payments: another address of Stripe's API, for a proxy or a local stand-in (empty: Stripe's own).",
        ));
        c
    }
}

/// The SDK's part: `startCheckout(transport, { price })`, typed by the configured prices.
fn sdk(options: &Options) -> String {
    let prices: Vec<String> = options
        .get("prices")
        .and_then(|v| v.as_array())
        .into_iter()
        .flatten()
        .filter_map(|v| v.as_str())
        .map(|p| serde_json::to_string(p).unwrap_or_default())
        .collect();
    let body = format!(
        r#"/** The prices of `[plugins.payments]`. */
export type Price = {prices};

/** A Stripe Checkout Session: send the browser to `url`. */
export interface CheckoutSession {{
  id: string;
  url: string | null;
}}

/** Starts a Stripe Checkout for the signed-in caller (`POST {path}/checkout`). */
export async function startCheckout(
  transport: Transport,
  input: {{ price: Price; quantity?: number }},
): Promise<CheckoutSession> {{
  return (await transport.request({{
    method: "POST",
    path: "{path}/checkout",
    body: input,
  }})) as CheckoutSession;
}}
"#,
        prices = prices.join(" | "),
        path = prefix(options),
    );
    super::ts_module(
        "The payments plugin's part of the SDK (docs/plugins.md#payments).",
        vec![r#"import type { Transport } from "../types.js";"#.to_owned()],
        &body,
    )
}
