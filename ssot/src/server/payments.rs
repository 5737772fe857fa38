//! The payments plugin's server part (`[plugins.payments]` of ssot.toml, feature `payments`), as
//! the TypeScript server runs it: `POST <path>/checkout` creates a Stripe Checkout Session for
//! the signed-in caller and one of the configured prices; `POST <path>/webhook` takes Stripe's
//! events.
//!
//! An event counts only when its `Stripe-Signature` header verifies, with
//! `STRIPE_WEBHOOK_SECRET`, against the body exactly as it arrived (HMAC-SHA256, compared in
//! constant time), and was signed less than 300 s ago. Its id is then inserted into the events
//! model (the id is the primary key) in the same transaction as the work of its handler (see
//! [`Payments::on`]): a redelivered event finds its id and is answered 200 without running
//! again; two deliveries at once meet at the key and one of them wins. Stripe does not promise
//! order: an event older than one already handled for the same object (`data.object.id`) is
//! recorded and not handled. Neither the body, the signature nor the secrets are logged.

use super::db::{Kind, Param, Query, Tx};
use super::engine::Engine;
use super::problem::{FieldError, HttpError};
use crate::schema::{Field, Model};
use futures_util::future::BoxFuture;
use hmac::{Hmac, KeyInit, Mac};
use serde_json::{Value as Json, json};
use std::collections::HashMap;
use std::time::Duration;

/// Verified events signed longer ago than this are refused (Stripe's own default).
const TOLERANCE_SECONDS: i64 = 300;

/// What a handler returns: an error rolls the event's record back, and Stripe delivers it again.
pub type HandlerResult = Result<(), Box<dyn std::error::Error + Send + Sync>>;

type Handler = Box<dyn for<'a> Fn(&'a Json, Connection<'a>) -> BoxFuture<'a, HandlerResult> + Send + Sync>;

/// The transaction that records an event, for a handler's own queries: what it writes commits
/// with the record, or not at all. The queries do not go through the policies.
pub enum Connection<'a> {
    #[cfg(feature = "postgres")]
    Postgres(&'a mut sqlx::PgConnection),
    #[cfg(feature = "sqlite")]
    Sqlite(&'a mut sqlx::SqliteConnection),
}

/// Your handlers of Stripe's events, given to [`super::Server::payments`]; the Rust form of the
/// TypeScript tree's `src/server/plugins/payment_handlers.ts`. Events without a handler are
/// recorded and answered 200.
///
/// The example of docs/plugins.md#payments:
///
/// ```no_run
/// use serde_json::Value as Json;
/// use ssot::server::{BoxFuture, Connection, HandlerResult, Payments};
///
/// fn set_status<'a>(event: &'a Json, db: Connection<'a>) -> BoxFuture<'a, HandlerResult> {
///     Box::pin(async move {
///         let sub = &event["data"]["object"];
///         if let Connection::Postgres(db) = db {
///             sqlx::query(r#"UPDATE "Subscription" SET status = $1 WHERE id = $2"#)
///                 .bind(sub["status"].as_str())
///                 .bind(sub["id"].as_str())
///                 .execute(db)
///                 .await?;
///         }
///         Ok(())
///     })
/// }
///
/// let payments = Payments::new().on("customer.subscription.deleted", set_status);
/// ```
#[derive(Default)]
pub struct Payments {
    handlers: HashMap<String, Handler>,
}

impl Payments {
    pub fn new() -> Self {
        Payments::default()
    }

    /// Runs `handler` for each event of `event_type` (`checkout.session.completed`, …), given the
    /// event as Stripe sent it and the transaction that records it. A second handler for the same
    /// type replaces the first.
    pub fn on<F>(mut self, event_type: &str, handler: F) -> Self
    where
        F: for<'a> Fn(&'a Json, Connection<'a>) -> BoxFuture<'a, HandlerResult> + Send + Sync + 'static,
    {
        self.handlers.insert(event_type.to_owned(), Box::new(handler));
        self
    }
}

/// The plugin as the server runs it: its options (the schema document's `plugins.payments`),
/// Stripe's keys and the handlers.
pub(crate) struct Running {
    pub path: String,
    events: &'static Model,
    fields: [&'static Field; 4],
    prices: Vec<String>,
    mode: String,
    success_url: String,
    cancel_url: String,
    secret_key: String,
    webhook_secret: String,
    api_url: String,
    client: reqwest::Client,
    handlers: Payments,
}

/// The checkout's input: `{ price, quantity? }`.
struct Checkout {
    price: String,
    quantity: i64,
}

/// The fields of a verified event the plugin reads.
struct Event {
    id: String,
    ty: String,
    object: String,
    created: i64,
}

impl Running {
    /// Reads the options and `STRIPE_SECRET_KEY`, `STRIPE_WEBHOOK_SECRET` and `STRIPE_API_URL`.
    pub(crate) fn start(schema: &'static crate::schema::Schema, options: &Json, handlers: Payments) -> Result<Running, String> {
        let text = |key: &str| options.get(key).and_then(Json::as_str).unwrap_or_default().to_owned();
        let delegate = text("events");
        let events = schema
            .models
            .values()
            .find(|m| m.delegate == delegate)
            .ok_or_else(|| format!("payments: the schema has no events model `{delegate}`"))?;
        let field = |name: &str| {
            events.fields.iter().find(|f| f.name == name).ok_or_else(|| format!("payments: `{}` has no field `{name}`", events.name))
        };
        let fields = [field("id")?, field("type")?, field("object")?, field("created")?];
        let env = |name: &str| std::env::var(name).unwrap_or_default();
        let (secret_key, webhook_secret) = (env("STRIPE_SECRET_KEY"), env("STRIPE_WEBHOOK_SECRET"));
        if secret_key.is_empty() {
            tracing::warn!("payments: no STRIPE_SECRET_KEY: checkouts are refused");
        }
        if webhook_secret.is_empty() {
            tracing::warn!("payments: no STRIPE_WEBHOOK_SECRET: every event is refused");
        }
        let api_url = match env("STRIPE_API_URL") {
            u if u.is_empty() => "https://api.stripe.com".to_owned(),
            u => u.trim_end_matches('/').to_owned(),
        };
        // reqwest is built without a TLS crypto provider; ring is the one this crate brings.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let client = reqwest::Client::builder().timeout(Duration::from_secs(30)).build().map_err(|e| format!("payments: {e}"))?;
        Ok(Running {
            path: text("path"),
            events,
            fields,
            prices: super::strings(options, "prices"),
            mode: text("mode"),
            success_url: text("successUrl"),
            cancel_url: text("cancelUrl"),
            secret_key,
            webhook_secret,
            api_url,
            client,
            handlers,
        })
    }

    /// `POST <path>/checkout` for a signed-in caller (`principal`): the Checkout Session's id and
    /// the URL of Stripe's page.
    pub(crate) async fn checkout(&self, principal: &str, body: &Json) -> Result<String, HttpError> {
        let Checkout { price, quantity } = self.checkout_input(body)?;
        if self.secret_key.is_empty() {
            return Err(HttpError::new(503, "Payments are not set up (STRIPE_SECRET_KEY)."));
        }
        let form: String = url::form_urlencoded::Serializer::new(String::new())
            .append_pair("mode", &self.mode)
            .append_pair("line_items[0][price]", &price)
            .append_pair("line_items[0][quantity]", &quantity.to_string())
            .append_pair("success_url", &self.success_url)
            .append_pair("cancel_url", &self.cancel_url)
            .append_pair("client_reference_id", principal)
            .append_pair("metadata[principal]", principal)
            .finish();
        // As Stripe's libraries do: a key that makes a retried request create one session.
        let key = uuid::Uuid::new_v4().to_string();
        let mut attempt = 0;
        let answer = loop {
            attempt += 1;
            let sent = self
                .client
                .post(format!("{}/v1/checkout/sessions", self.api_url))
                .bearer_auth(&self.secret_key)
                .header("content-type", "application/x-www-form-urlencoded")
                .header("idempotency-key", &key)
                .body(form.clone())
                .send()
                .await;
            let again = match &sent {
                Err(e) => e.is_connect() || e.is_timeout(),
                Ok(r) => r.status().is_server_error() || r.status() == reqwest::StatusCode::CONFLICT,
            };
            if !again || attempt == 3 {
                break sent;
            }
            tokio::time::sleep(Duration::from_millis(500 * attempt)).await;
        };
        let refused = |status: Option<u16>, body: &Json| {
            let e = &body["error"];
            tracing::error!(
                stripe.status = status,
                stripe.r#type = e["type"].as_str(),
                stripe.code = e["code"].as_str(),
                "payments: checkout session not created"
            );
            HttpError::new(502, "The payment provider did not create the checkout.")
        };
        let res = answer.map_err(|_| refused(None, &Json::Null))?;
        let status = res.status();
        let body: Json = res.bytes().await.ok().and_then(|b| serde_json::from_slice(&b).ok()).unwrap_or(Json::Null);
        match body.get("id").and_then(Json::as_str) {
            Some(id) if status.is_success() => Ok(json!({ "id": id, "url": body.get("url").cloned().unwrap_or(Json::Null) }).to_string()),
            _ => Err(refused(Some(status.as_u16()), &body)),
        }
    }

    fn checkout_input(&self, body: &Json) -> Result<Checkout, HttpError> {
        let empty = serde_json::Map::new();
        let b = body.as_object().unwrap_or(&empty);
        let mut errors = Vec::new();
        let price = b.get("price").and_then(Json::as_str).filter(|p| self.prices.iter().any(|q| q == p));
        if price.is_none() {
            errors.push(FieldError { path: "price".into(), message: format!("must be one of {}", self.prices.join(", ")) });
        }
        let quantity = match b.get("quantity") {
            None => Some(1),
            Some(q) => q.as_i64().filter(|q| (1..=100).contains(q)),
        };
        if quantity.is_none() {
            errors.push(FieldError { path: "quantity".into(), message: "must be a whole number from 1 to 100".into() });
        }
        for key in b.keys().filter(|k| *k != "price" && *k != "quantity") {
            errors.push(FieldError { path: key.clone(), message: "is not a field of a checkout".into() });
        }
        match (price, quantity) {
            (Some(price), Some(quantity)) if errors.is_empty() => Ok(Checkout { price: price.to_owned(), quantity }),
            _ => Err(HttpError::new(400, "The checkout is not valid.").with_errors(errors)),
        }
    }

    /// `POST <path>/webhook`: `{"received":true,"result":"handled"|"duplicate"|"superseded"}`.
    pub(crate) async fn webhook(&self, engine: &Engine, signature: Option<&str>, raw: &[u8]) -> Result<String, HttpError> {
        if self.webhook_secret.is_empty() {
            return Err(HttpError::new(503, "Payments are not set up (STRIPE_WEBHOOK_SECRET)."));
        }
        let Some(signature) = signature.filter(|_| !raw.is_empty()) else {
            return Err(HttpError::new(400, "The event has no Stripe-Signature or no body."));
        };
        if !verify(raw, signature, &self.webhook_secret, chrono::Utc::now().timestamp()) {
            return Err(HttpError::new(400, "The event's signature does not verify (or it is older than 300 s)."));
        }
        let event = serde_json::from_slice::<Json>(raw).ok().and_then(|e| {
            Some(Event {
                id: e.get("id")?.as_str()?.to_owned(),
                ty: e.get("type")?.as_str()?.to_owned(),
                object: e.pointer("/data/object/id").and_then(Json::as_str).unwrap_or_default().to_owned(),
                created: e.get("created")?.as_i64()?,
            })
            .map(|ev| (ev, e))
        });
        let Some((event, body)) = event else {
            return Err(HttpError::new(400, "The body is not a Stripe event."));
        };
        let result = match self.record(engine, &event, &body).await {
            Ok(result) => result,
            Err(err) => {
                // A delivery of the same event that committed first: the key refused this one.
                let clash = matches!(&err, Failure::Database(e) if e.as_database_error().is_some_and(|d| d.is_unique_violation()));
                if clash && self.recorded(engine, &event.id).await.unwrap_or(false) {
                    "duplicate"
                } else {
                    tracing::error!(error = %err, event.id = %event.id, event.r#type = %event.ty, "payments: event not handled");
                    return Err(HttpError::new(500, "The event was not handled; Stripe will deliver it again."));
                }
            }
        };
        tracing::info!(event.id = %event.id, event.r#type = %event.ty, result, "payments: event");
        Ok(json!({ "received": true, "result": result }).to_string())
    }

    /// Records the event and runs its handler in one transaction.
    async fn record(&self, engine: &Engine, event: &Event, body: &Json) -> Result<&'static str, Failure> {
        let [id, ty, object, created] = self.fields;
        let table = crate::rules::table(self.events);
        let column = |f: &Field| crate::rules::ident(&f.db_name);
        let at = super::wire::datetime_param(engine.dialect, chrono::DateTime::from_timestamp(event.created, 0).unwrap_or_default());
        let mut tx = engine.pool.begin().await?;
        if !tx.fetch(&self.lookup(engine, &event.id), &[Kind::Int]).await?.is_empty() {
            return Ok("duplicate");
        }
        let mut newer = false;
        if !event.object.is_empty() {
            let mut q = Query::default();
            q.push(&format!("SELECT 1 FROM {table} WHERE {} = ", column(object)))
                .param(Param::Text(event.object.clone()), &engine.cast(self.events, object))
                .push(&format!(" AND {} > ", column(created)))
                .param(at.clone(), &engine.cast(self.events, created))
                .push(" LIMIT 1");
            newer = !tx.fetch(&q, &[Kind::Int]).await?.is_empty();
        }
        let mut q = Query::default();
        q.push(&format!("INSERT INTO {table} ({}, {}, {}, {}) VALUES (", column(id), column(ty), column(object), column(created)));
        q.param(Param::Text(event.id.clone()), &engine.cast(self.events, id)).push(", ");
        q.param(Param::Text(event.ty.clone()), &engine.cast(self.events, ty)).push(", ");
        q.param(Param::Text(event.object.clone()), &engine.cast(self.events, object)).push(", ");
        q.param(at, &engine.cast(self.events, created)).push(")");
        tx.execute(&q).await?;
        if newer {
            tx.commit().await?;
            return Ok("superseded");
        }
        if let Some(handler) = self.handlers.handlers.get(&event.ty) {
            handler(body, tx.connection()).await.map_err(Failure::Handler)?;
        }
        tx.commit().await?;
        Ok("handled")
    }

    /// Is the event recorded (committed by another delivery)?
    async fn recorded(&self, engine: &Engine, event: &str) -> Result<bool, sqlx::Error> {
        Ok(!engine.pool.fetch(&self.lookup(engine, event), &[Kind::Int]).await?.is_empty())
    }

    /// `SELECT 1` of the events model's row of the event `id`.
    fn lookup(&self, engine: &Engine, event: &str) -> Query {
        let id = self.fields[0];
        let mut q = Query::default();
        q.push(&format!("SELECT 1 FROM {} WHERE {} = ", crate::rules::table(self.events), crate::rules::ident(&id.db_name)))
            .param(Param::Text(event.to_owned()), &engine.cast(self.events, id));
        q
    }
}

/// Why an event was not recorded.
#[derive(Debug, thiserror::Error)]
enum Failure {
    #[error(transparent)]
    Database(#[from] sqlx::Error),
    #[error("the handler failed: {0}")]
    Handler(Box<dyn std::error::Error + Send + Sync>),
}

impl Tx {
    /// The transaction's connection, for a handler's own queries.
    fn connection(&mut self) -> Connection<'_> {
        match self {
            #[cfg(feature = "postgres")]
            Tx::Postgres(tx) => Connection::Postgres(tx),
            #[cfg(feature = "sqlite")]
            Tx::Sqlite(tx) => Connection::Sqlite(tx),
        }
    }
}

/// Does `header` (`t=<unix time>,v1=<hex HMAC-SHA256>,…`, Stripe's `Stripe-Signature`) sign
/// `payload` with `secret`, at most [`TOLERANCE_SECONDS`] before `now`? Any of several `v1`
/// signatures may match (Stripe sends one per active secret while a secret is rolled).
fn verify(payload: &[u8], header: &str, secret: &str, now: i64) -> bool {
    let mut timestamp = None;
    let mut signatures = Vec::new();
    for (key, value) in header.split(',').filter_map(|part| part.split_once('=')) {
        match key.trim() {
            "t" => timestamp = Some(value.trim()),
            "v1" => signatures.push(value.trim()),
            _ => {}
        }
    }
    let Some(t) = timestamp else { return false };
    let Ok(signed_at) = t.parse::<i64>() else { return false };
    if now - signed_at > TOLERANCE_SECONDS {
        return false;
    }
    let Ok(mut mac) = Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()) else { return false };
    mac.update(t.as_bytes());
    mac.update(b".");
    mac.update(payload);
    // `verify_slice` compares in constant time.
    signatures.iter().filter_map(|s| hex::decode(s).ok()).any(|s| mac.clone().verify_slice(&s).is_ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A header as Stripe signs it (the computation its documentation describes).
    fn sign(payload: &[u8], secret: &str, t: i64) -> String {
        let mut mac = Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).unwrap();
        mac.update(format!("{t}.").as_bytes());
        mac.update(payload);
        format!("t={t},v1={}", hex::encode(mac.finalize().into_bytes()))
    }

    #[test]
    fn verifies_the_signature_of_the_raw_body_within_the_tolerance() {
        let body = br#"{"id":"evt_1","type":"checkout.session.completed"}"#;
        let now = 1_800_000_000;
        assert!(verify(body, &sign(body, "whsec_a", now), "whsec_a", now));
        assert!(verify(body, &sign(body, "whsec_a", now - 300), "whsec_a", now), "300 s old");
        assert!(!verify(body, &sign(body, "whsec_a", now - 301), "whsec_a", now), "stale");
        assert!(!verify(body, &sign(body, "whsec_b", now), "whsec_a", now), "another secret");
        assert!(!verify(br#"{"id":"evt_2"}"#, &sign(body, "whsec_a", now), "whsec_a", now), "another body");
        // A rolled secret: one of the signatures matches.
        let rolled = format!("{},{}", sign(body, "whsec_old", now), &sign(body, "whsec_a", now)[13..]);
        assert!(verify(body, &rolled, "whsec_a", now));
        for bad in ["", "t=", "v1=00", "t=x,v1=00", &format!("t={now}"), &format!("t={now},v1=zz"), &format!("t={now},v0=00")] {
            assert!(!verify(body, bad, "whsec_a", now), "{bad}");
        }
    }
}
