//! The WebSocket gateway at `/ws` (SPEC §6), with the TypeScript gateway's protocol, limits,
//! close codes and messages: authentication at connect (`Sec-WebSocket-Protocol: bearer,
//! <token>`) or by a first `auth` message, subscriptions per `@@realtime` model with the HTTP
//! filter fields, and events of committed writes delivered only to subscribers who may read the
//! row, with `@readable`, `@hidden` and `@writeOnly` fields removed for each. A row that stops
//! being readable (or matching) is `deleted` for that subscriber.
//!
//! Committed writes travel as the TypeScript server's change events (`{model, event, before,
//! after}`, rows as snapshots in the wire format) on a bus: in process, or the Redis channel
//! `ssot:events` when `REDIS_URL` is set (feature `redis`), so Rust and TypeScript instances
//! behind one Redis deliver each other's writes.

use super::auth::Authenticator;
use super::{App, ClientIp};
use crate::rules::{self, Claims};
use crate::schema::{AuthMethod, Expr, Field, Model, Operand, RealtimeEvent, Schema};
use axum::extract::ws::{CloseFrame, Message, Utf8Bytes, WebSocket, WebSocketUpgrade};
use axum::extract::{Extension, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use futures_util::{SinkExt, StreamExt};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use serde_json::{Map, Value as Json};
use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use tokio::sync::{broadcast, watch};

/// The gateway's limits (`WS_MAX_MESSAGE_BYTES`, `WS_MAX_BUFFER_BYTES`, `WS_HEARTBEAT_MS`,
/// `WS_MAX_SUBSCRIPTIONS`), with the TypeScript server's defaults.
#[derive(Debug, Clone, Copy)]
pub struct WsLimits {
    /// Largest message a client may send; larger ones close the socket with 1009 (64 KiB).
    pub max_message_bytes: usize,
    /// Bytes waiting to be sent to one client before it is closed as slow with 1013 (1 MiB).
    pub max_buffer_bytes: usize,
    /// Interval of `ping` messages; a peer that did not answer the last one is dropped (30 s).
    pub heartbeat_ms: u64,
    /// Subscriptions per socket (100).
    pub max_subscriptions: usize,
}

impl Default for WsLimits {
    fn default() -> Self {
        WsLimits { max_message_bytes: 64 * 1024, max_buffer_bytes: 1024 * 1024, heartbeat_ms: 30_000, max_subscriptions: 100 }
    }
}

/// Close codes: 1001 and 1013 are standard (1009 too), 4xxx the application's.
const GOING_AWAY: u16 = 1001;
const TOO_BIG: u16 = 1009;
const SLOW: u16 = 1013;
const EXPIRED: u16 = 4001;
const UNAUTHORIZED: u16 = 4401;

/// The Redis channel of the TypeScript gateway.
#[cfg(feature = "redis")]
const CHANNEL: &str = "ssot:events";

// ---- change events ---------------------------------------------------------------------

/// A committed write as it travels between instances (the TypeScript `ChangeEvent`).
#[derive(Serialize, Deserialize)]
struct Wire {
    model: String,
    event: RealtimeEvent,
    before: Option<Box<RawValue>>,
    after: Option<Box<RawValue>>,
    /// A write outside the API (the `external_writes` plugin reports it): what the row was is
    /// not known, so its subscribers resync.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    resync: bool,
}

/// A snapshot, parsed once for every subscriber: as a value for the rules, and field by field
/// as sent (numbers and Json values keep the publisher's text).
struct Snapshot {
    value: Json,
    fields: HashMap<String, Box<RawValue>>,
}

impl Snapshot {
    fn parse(raw: &RawValue) -> Option<Snapshot> {
        Some(Snapshot { value: serde_json::from_str(raw.get()).ok()?, fields: serde_json::from_str(raw.get()).ok()? })
    }
}

/// A change event as every connection of this instance receives it.
pub(crate) struct Change {
    model: String,
    before: Option<Snapshot>,
    after: Option<Snapshot>,
    resync: bool,
}

impl Change {
    fn parse(text: &str) -> Option<Change> {
        let w: Wire = serde_json::from_str(text).ok()?;
        let snap = |r: &Option<Box<RawValue>>| match r {
            Some(r) => Snapshot::parse(r).map(Some),
            None => Some(None),
        };
        Some(Change { before: snap(&w.before)?, after: snap(&w.after)?, model: w.model, resync: w.resync })
    }
}

/// The server's Redis (`REDIS_URL`): a client for the subscription and the connection commands
/// share; without the `redis` feature there is none.
#[cfg(feature = "redis")]
pub(crate) type Redis = Option<(redis::Client, redis::aio::ConnectionManager)>;
#[cfg(not(feature = "redis"))]
pub(crate) type Redis = Option<NoRedis>;

/// No Redis can exist without the `redis` feature.
#[cfg(not(feature = "redis"))]
#[derive(Clone)]
pub(crate) enum NoRedis {}

/// How committed writes reach every gateway: in process, or through Redis pub/sub.
pub(crate) struct Bus {
    local: broadcast::Sender<Arc<Change>>,
    /// Counts the times events may have been lost (the subscription to Redis came back after a
    /// loss): each step sends `resync` to every socket with subscriptions.
    gaps: watch::Sender<u64>,
    #[cfg(feature = "redis")]
    redis: Option<redis::aio::ConnectionManager>,
}

impl Bus {
    /// The bus of this instance; with Redis it has subscribed to the channel when this returns,
    /// and keeps resubscribing after Redis comes back.
    pub(crate) async fn open(redis: Redis) -> Result<Arc<Bus>, String> {
        let (local, _) = broadcast::channel(4096);
        let Some(redis) = redis else {
            return Ok(Arc::new(Bus {
                local,
                gaps: watch::channel(0).0,
                #[cfg(feature = "redis")]
                redis: None,
            }));
        };
        #[cfg(not(feature = "redis"))]
        match redis {}
        #[cfg(feature = "redis")]
        {
            let (client, publisher) = redis;
            let mut pubsub = client.get_async_pubsub().await.map_err(|e| format!("REDIS_URL: {e}"))?;
            pubsub.subscribe(CHANNEL).await.map_err(|e| format!("REDIS_URL: {e}"))?;
            let sender = local.clone();
            let gaps = watch::channel(0).0;
            let gap = gaps.clone();
            tokio::spawn(async move {
                let mut pubsub = Some(pubsub);
                loop {
                    if let Some(p) = pubsub.take() {
                        let mut messages = p.into_on_message();
                        while let Some(msg) = messages.next().await {
                            match std::str::from_utf8(msg.get_payload_bytes()).ok().and_then(Change::parse) {
                                Some(change) => {
                                    let _ = sender.send(Arc::new(change));
                                }
                                None => tracing::error!("redis: a change event that does not parse"),
                            }
                        }
                        tracing::error!("redis: the subscription ended; reconnecting");
                    }
                    tokio::time::sleep(Duration::from_secs(1)).await;
                    match client.get_async_pubsub().await {
                        Ok(mut p) => match p.subscribe(CHANNEL).await {
                            Ok(()) => {
                                // Pub/sub kept nothing meanwhile: subscribers refetch.
                                tracing::warn!("redis: subscribed again; realtime events may have been lost, subscribers told to resync");
                                gap.send_modify(|g| *g += 1);
                                pubsub = Some(p);
                            }
                            Err(e) => tracing::error!(error = %e, "redis: subscribe"),
                        },
                        Err(e) => tracing::error!(error = %e, "redis: connect"),
                    }
                }
            });
            Ok(Arc::new(Bus { local, gaps, redis: Some(publisher) }))
        }
    }

    /// Publishes a committed change (rows as snapshot JSON text); `resync` for a write outside
    /// the API, whose subscribers refetch.
    pub(crate) fn publish(&self, model: &str, event: RealtimeEvent, before: Option<String>, after: Option<String>, resync: bool) {
        let raw = |t: Option<String>| t.and_then(|t| RawValue::from_string(t).ok());
        let wire = Wire { model: model.to_owned(), event, before: raw(before), after: raw(after), resync };
        let Ok(text) = serde_json::to_string(&wire) else { return };
        #[cfg(feature = "redis")]
        if let Some(conn) = &self.redis {
            let mut conn = conn.clone();
            tokio::spawn(async move {
                // A lost event is logged: subscribers on every instance miss it.
                if let Err(e) = redis::cmd("PUBLISH").arg(CHANNEL).arg(text).query_async::<i64>(&mut conn).await {
                    tracing::error!(error = %e, "redis: publish");
                }
            });
            return;
        }
        if let Some(change) = Change::parse(&text) {
            let _ = self.local.send(Arc::new(change));
        }
    }
}

// ---- what the rules look at -------------------------------------------------------------

/// The relations a model's rules read, as a tree of relation names (a Prisma include).
#[derive(Debug, Default)]
pub(crate) struct Tree(pub(crate) BTreeMap<String, Tree>);

impl Tree {
    fn add(&mut self, path: &[String]) {
        if let Some((head, rest)) = path.split_first() {
            self.0.entry(head.clone()).or_default().add(rest);
        }
    }
}

fn collect(e: &Expr, prefix: &[String], into: &mut Tree) {
    let operand = |o: &Operand, into: &mut Tree| {
        if let Operand::Field { hops, .. } = o
            && !hops.is_empty()
        {
            let path: Vec<String> = prefix.iter().cloned().chain(hops.iter().map(|h| h.field.clone())).collect();
            into.add(&path);
        }
    };
    match e {
        Expr::Bool { .. } => {}
        Expr::Truthy { operand: o } => operand(o, into),
        Expr::Compare { left, right, .. } => {
            operand(left, into);
            operand(right, into);
        }
        Expr::Not { expr } => collect(expr, prefix, into),
        Expr::And { exprs } | Expr::Or { exprs } => exprs.iter().for_each(|x| collect(x, prefix, into)),
        Expr::Quant { hops, relation, body, .. } => {
            let path: Vec<String> = prefix.iter().cloned().chain(hops.iter().map(|h| h.field.clone())).chain([relation.clone()]).collect();
            into.add(&path);
            collect(body, &path, into);
        }
    }
}

/// The relations the `read` rule and the `@readable` rules of `m` look at.
pub(crate) fn policy_tree(m: &Model) -> Tree {
    let mut tree = Tree::default();
    let read = m.policy.as_ref().and_then(|p| p.read.as_ref());
    for rule in read.into_iter().chain(m.fields.iter().filter_map(|f| f.readable.as_ref())) {
        collect(rule, &[], &mut tree);
    }
    tree
}

// ---- subscription filters ---------------------------------------------------------------

/// The filter operators of a field, as over HTTP.
fn operators(f: &Field) -> &'static [&'static str] {
    match f.ty.as_str() {
        "String" => &["equals", "not", "in", "lt", "lte", "gt", "gte", "contains", "startsWith", "endsWith"],
        "Boolean" => &["equals", "not"],
        "enum" => &["equals", "not", "in"],
        _ => &["equals", "not", "in", "lt", "lte", "gt", "gte"],
    }
}

/// A filter value in the wire format of its field (what `filter[f][op]=` takes over HTTP).
fn check_value(schema: &Schema, f: &Field, op: &str, v: &Json) -> Option<String> {
    if v.is_null() {
        return if f.nullable && (op == "equals" || op == "not") { None } else { Some("must not be null".into()) };
    }
    let (wanted, text) = match (f.ty.as_str(), v) {
        ("Int" | "Float", Json::Number(n)) => ("number", Some(n.to_string())),
        ("Int" | "Float", _) => ("number", None),
        ("Boolean", Json::Bool(b)) => ("boolean", Some(b.to_string())),
        ("Boolean", _) => ("boolean", None),
        (_, Json::String(s)) => ("string", Some(s.clone())),
        _ => ("string", None),
    };
    let Some(text) = text else { return Some(format!("must be a {wanted}")) };
    // The dialect only changes how a valid value is bound, not whether it is valid.
    super::wire::parse_param(schema, rules::Dialect::Postgres, f, &text).err()
}

/// Checks a subscription's filter: an error message, or `None`.
fn check_filter(schema: &Schema, m: &Model, filter: Option<&Json>) -> Option<String> {
    let filter = filter?;
    let Some(filter) = filter.as_object() else { return Some("filter must be an object".into()) };
    for (name, cond) in filter {
        let Some(f) = m.field(name).filter(|f| f.filter) else { return Some(format!("unknown filter field {name}")) };
        let Some(cond) = cond.as_object() else { return Some(format!("filter.{name} must be an object of operators")) };
        for (op, v) in cond {
            if !operators(f).contains(&op.as_str()) {
                return Some(format!("unknown operator {op} for {name}"));
            }
            let items = match (op.as_str(), v) {
                ("in", Json::Array(items)) => items.iter().collect(),
                ("in", _) => return Some(format!("filter.{name}.in must be an array")),
                _ => vec![v],
            };
            for item in items {
                if let Some(problem) = check_value(schema, f, op, item) {
                    return Some(format!("filter.{name}.{op} {problem}"));
                }
            }
        }
    }
    None
}

/// A wire value as the TypeScript gateway compares it: BigInt and Decimal as numbers, DateTime
/// as milliseconds.
#[derive(Debug, PartialEq)]
enum Key<'a> {
    Null,
    Num(f64),
    Str(&'a str),
    Bool(bool),
    /// Objects and arrays: never equal to anything (JavaScript compares them by reference).
    Other,
}

fn key<'a>(f: &Field, v: Option<&'a Json>) -> Key<'a> {
    match v {
        None | Some(Json::Null) => Key::Null,
        Some(Json::String(s)) if f.ty == "BigInt" || f.ty == "Decimal" => Key::Num(s.trim().parse().unwrap_or(f64::NAN)),
        Some(Json::String(s)) if f.ty == "DateTime" => {
            Key::Num(chrono::DateTime::parse_from_rfc3339(s).map_or(f64::NAN, |d| d.timestamp_millis() as f64))
        }
        Some(Json::String(s)) => Key::Str(s),
        Some(Json::Number(n)) => Key::Num(n.as_f64().unwrap_or(f64::NAN)),
        Some(Json::Bool(b)) => Key::Bool(*b),
        Some(_) => Key::Other,
    }
}

fn same(a: &Key<'_>, b: &Key<'_>) -> bool {
    !matches!(a, Key::Other) && a == b
}

fn holds(f: &Field, op: &str, actual: Option<&Json>, wanted: &Json) -> bool {
    let a = key(f, actual);
    let text = |k: &Key<'_>| if let Key::Str(s) = k { Some(s.to_string()) } else { None };
    match op {
        "equals" => same(&a, &key(f, Some(wanted))),
        "not" => !same(&a, &key(f, Some(wanted))),
        "in" => wanted.as_array().is_some_and(|ws| ws.iter().any(|w| same(&a, &key(f, Some(w))))),
        "contains" | "startsWith" | "endsWith" => match (text(&a), wanted.as_str()) {
            (Some(a), Some(w)) => match op {
                "contains" => a.contains(w),
                "startsWith" => a.starts_with(w),
                _ => a.ends_with(w),
            },
            _ => false,
        },
        _ => {
            let order = match (&a, &key(f, Some(wanted))) {
                (Key::Num(x), Key::Num(y)) => x.partial_cmp(y),
                (Key::Str(x), Key::Str(y)) => Some(x.encode_utf16().cmp(y.encode_utf16())),
                _ => None,
            };
            order.is_some_and(|o| match op {
                "lt" => o.is_lt(),
                "lte" => o.is_le(),
                "gt" => o.is_gt(),
                _ => o.is_ge(),
            })
        }
    }
}

fn matches(m: &Model, filter: Option<&Map<String, Json>>, row: &Json) -> bool {
    let Some(filter) = filter else { return true };
    filter.iter().all(|(name, cond)| {
        let Some(f) = m.field(name) else { return false };
        cond.as_object().is_some_and(|c| c.iter().all(|(op, v)| holds(f, op, row.get(name), v)))
    })
}

// ---- connections ------------------------------------------------------------------------

/// Sockets are told 1001 when the server shuts down.
fn going_away() -> &'static watch::Sender<bool> {
    static SIGNAL: OnceLock<watch::Sender<bool>> = OnceLock::new();
    SIGNAL.get_or_init(|| watch::channel(false).0)
}

/// Sockets open in this process.
static OPEN: AtomicUsize = AtomicUsize::new(0);

struct Open;

impl Open {
    fn new() -> Open {
        OPEN.fetch_add(1, Ordering::SeqCst);
        Open
    }
}

impl Drop for Open {
    fn drop(&mut self) {
        OPEN.fetch_sub(1, Ordering::SeqCst);
    }
}

/// A socket counted in the `monitoring` plugin's `realtime_connections` while it is open.
#[cfg(feature = "monitoring")]
struct Counted(Arc<super::metrics::Metrics>);

#[cfg(feature = "monitoring")]
impl Counted {
    fn new(metrics: Arc<super::metrics::Metrics>) -> Counted {
        metrics.socket(1);
        Counted(metrics)
    }
}

#[cfg(feature = "monitoring")]
impl Drop for Counted {
    fn drop(&mut self) {
        self.0.socket(-1);
    }
}

/// Closes every socket of this process with 1001 (called by `serve` on shutdown).
pub(crate) fn going_away_now() {
    going_away().send_replace(true);
}

/// Waits (up to `grace`) until every socket's peer answered its close frame.
pub(crate) async fn drained(grace: Duration) {
    let deadline = tokio::time::Instant::now() + grace;
    while OPEN.load(Ordering::SeqCst) > 0 && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

struct Subscription {
    model: &'static Model,
    channel: String,
    filter: Option<Map<String, Json>>,
}

struct Connection {
    app: Arc<App>,
    ip: String,
    auth: Claims,
    authenticated: bool,
    alive: bool,
    seq: u64,
    expiry: Option<tokio::time::Instant>,
    subs: BTreeMap<String, Subscription>,
    out: Outgoing,
    closing: bool,
    /// When a `resync` is due: one message covers a burst of writes made outside the API.
    resync_at: Option<tokio::time::Instant>,
}

/// The sending half of a socket, written as Node's `ws` writes: a message goes to the socket at
/// once; what the kernel does not take yet waits, and `buffered` counts the bytes written since
/// the socket last took everything (like `bufferedAmount`).
struct Outgoing {
    sink: futures_util::stream::SplitSink<WebSocket, Message>,
    /// Messages waiting for the socket to take what it was given.
    backlog: std::collections::VecDeque<Message>,
    buffered: usize,
    /// The socket has not taken everything yet: flush until it has.
    blocked: bool,
    /// The socket failed: nothing more is sent.
    broken: bool,
}

impl Outgoing {
    fn new(sink: futures_util::stream::SplitSink<WebSocket, Message>) -> Self {
        Outgoing { sink, backlog: std::collections::VecDeque::new(), buffered: 0, blocked: false, broken: false }
    }

    fn push(&mut self, msg: Message) {
        self.buffered += size(&msg);
        self.backlog.push_back(msg);
        self.drain();
    }

    /// Writes waiting messages until the socket stops taking them.
    fn drain(&mut self) {
        use futures_util::FutureExt as _;
        while !self.blocked && !self.broken {
            let Some(msg) = self.backlog.pop_front() else { break };
            // The sink is ready (the last flush finished), so this takes the message at once.
            match self.sink.feed(msg).now_or_never() {
                Some(Ok(())) => {}
                _ => self.broken = true,
            }
            match self.sink.flush().now_or_never() {
                Some(Ok(())) if self.backlog.is_empty() => self.buffered = 0,
                Some(Ok(())) => self.buffered = self.backlog.iter().map(size).sum(),
                Some(Err(_)) => self.broken = true,
                None => self.blocked = true,
            }
        }
    }

    /// The socket took what it was given: write what waits.
    fn flushed(&mut self, ok: bool) {
        self.blocked = false;
        if !ok {
            self.broken = true;
            return;
        }
        self.buffered = self.backlog.iter().map(size).sum();
        self.drain();
    }
}

fn size(m: &Message) -> usize {
    match m {
        Message::Text(t) => t.len(),
        Message::Binary(b) => b.len(),
        _ => 0,
    }
}

fn text(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_default()
}

impl Connection {
    fn key(&self) -> String {
        match Authenticator::describe(&self.auth) {
            Some(id) => format!("principal:{id}"),
            None => format!("ip:{}", self.ip),
        }
    }

    fn send(&mut self, message: String) {
        if self.closing {
            return;
        }
        if self.out.buffered > self.app.settings.ws.max_buffer_bytes {
            tracing::warn!(principal = Authenticator::describe(&self.auth).unwrap_or_default(), "closing a slow consumer");
            self.close(SLOW, "slow consumer");
            return;
        }
        self.out.push(Message::Text(Utf8Bytes::from(message)));
    }

    /// Sends a close frame after what is already buffered; the peer's answer ends the socket.
    fn close(&mut self, code: u16, reason: &'static str) {
        if !self.closing {
            self.closing = true;
            self.out.push(Message::Close(Some(CloseFrame { code, reason: Utf8Bytes::from_static(reason) })));
        }
    }

    fn error(&mut self, status: u16, title: &str, id: Option<&str>) {
        let id = id.map(|id| format!(r#","id":{}"#, text(id))).unwrap_or_default();
        self.send(format!(r#"{{"type":"error"{id},"status":{status},"title":{}}}"#, text(title)));
    }

    fn authenticate(&mut self, auth: Claims, exp: Option<u64>) {
        self.auth = auth;
        self.authenticated = true;
        self.expiry = exp.map(|exp| {
            let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default();
            tokio::time::Instant::now() + Duration::from_secs(exp).saturating_sub(now)
        });
    }

    async fn on_message(&mut self, data: &str) {
        let msg = match serde_json::from_str::<Json>(data) {
            Ok(Json::Object(m)) => m,
            _ => return self.error(400, "Messages must be JSON objects.", None),
        };
        let id = match msg.get("id") {
            Some(Json::String(s)) => Some(s.clone()),
            Some(Json::Number(n)) => Some(n.to_string()),
            _ => None,
        };
        let id = id.as_deref();
        match msg.get("type").and_then(Json::as_str) {
            Some("pong") => self.alive = true,
            Some("auth") => {
                let Some(token) = msg.get("token").and_then(Json::as_str).filter(|_| !self.authenticated && self.subs.is_empty()) else {
                    return self.error(400, "`auth` must be the first message and carry a token.", None);
                };
                let app = self.app.clone();
                match app.auth.verify_with_expiry(token).await {
                    Ok((principal, exp)) => {
                        self.authenticate(Some(principal), exp);
                        self.send(r#"{"type":"authenticated"}"#.into());
                    }
                    Err(_) => {
                        self.error(401, "The token is invalid or expired.", None);
                        self.close(UNAUTHORIZED, "unauthorized");
                    }
                }
            }
            Some("subscribe") => {
                self.authenticated = true; // no later `auth` message: the socket is what it is now
                let Some(id) = id else { return self.error(400, "`subscribe` needs an id.", None) };
                let channel = msg.get("channel").and_then(Json::as_str).unwrap_or_default();
                let schema = self.app.engine.schema;
                let Some(m) = schema.models.values().find(|m| m.api && m.realtime.is_some() && m.delegate == channel) else {
                    return self.error(404, &format!("No realtime channel {channel}."), Some(id));
                };
                if self.auth.is_none() && !m.auth.contains(&AuthMethod::Public) {
                    return self.error(401, "This channel needs credentials.", Some(id));
                }
                if let Err(e) = self.app.limits.consume(m, &self.key()).await {
                    return self.error(e.status, "Too many requests.", Some(id));
                }
                if self.subs.contains_key(id) {
                    return self.error(409, &format!("Subscription {id} exists."), Some(id));
                }
                let max = self.app.settings.ws.max_subscriptions;
                if self.subs.len() >= max {
                    return self.error(429, &format!("At most {max} subscriptions per socket."), Some(id));
                }
                if let Some(problem) = check_filter(schema, m, msg.get("filter")) {
                    return self.error(400, &problem, Some(id));
                }
                let filter = msg.get("filter").and_then(Json::as_object).cloned();
                self.subs.insert(id.to_owned(), Subscription { model: m, channel: channel.to_owned(), filter });
                self.send(format!(r#"{{"type":"subscribed","id":{}}}"#, text(id)));
            }
            Some("unsubscribe") => match id {
                Some(id) if self.subs.remove(id).is_some() => self.send(format!(r#"{{"type":"unsubscribed","id":{}}}"#, text(id))),
                _ => self.error(404, "No such subscription.", id),
            },
            _ => self.error(400, "Unknown message type.", id),
        }
    }

    /// What each subscription of this socket sees of a change: an event, or nothing.
    fn deliver(&mut self, change: &Change) {
        let mut out = Vec::new();
        let mut resync = false;
        for (sub_id, sub) in &self.subs {
            if sub.model.name != change.model {
                continue;
            }
            let visible = |s: Option<&Snapshot>| {
                s.is_some_and(|s| can_read(sub.model, &s.value, &self.auth) && matches(sub.model, sub.filter.as_ref(), &s.value))
            };
            let before = change.before.as_ref().filter(|s| visible(Some(s)));
            let after = change.after.as_ref().filter(|s| visible(Some(s)));
            if change.resync {
                if let Some(after) = after {
                    out.push((sub_id.clone(), sub.channel.clone(), "updated", present(sub.model, after, &self.auth)));
                }
                resync = true;
                continue;
            }
            let (event, data) = match (before, after) {
                (before, Some(after)) => (if before.is_some() { "updated" } else { "created" }, present(sub.model, after, &self.auth)),
                (Some(before), None) => ("deleted", id_of(sub.model, before)),
                (None, None) => continue,
            };
            out.push((sub_id.clone(), sub.channel.clone(), event, data));
        }
        for (sub_id, channel, event, data) in out {
            self.seq += 1;
            let message = format!(
                r#"{{"type":"event","id":{},"channel":{},"event":"{event}","data":{data},"seq":{}}}"#,
                text(&sub_id),
                text(&channel),
                self.seq
            );
            self.send(message);
        }
        if resync && self.resync_at.is_none() {
            self.resync_at = Some(tokio::time::Instant::now() + Duration::from_millis(200));
        }
    }
}

/// In memory: may this principal read this row? Unknown (a relation not loaded) is no.
fn can_read(m: &Model, row: &Json, auth: &Claims) -> bool {
    match &m.policy {
        None => true,
        Some(p) => p.read.as_ref().is_some_and(|rule| rules::evaluate(rule, row, auth) == Some(true)),
    }
}

/// The fields of a snapshot as the API returns them: output fields whose `@readable` rule holds.
fn present(m: &Model, s: &Snapshot, auth: &Claims) -> String {
    let mut out = String::from("{");
    for f in m.fields.iter().filter(|f| f.output) {
        if f.readable.as_ref().is_some_and(|r| rules::evaluate(r, &s.value, auth) != Some(true)) {
            continue;
        }
        if out.len() > 1 {
            out.push(',');
        }
        out.push_str(&text(&f.name));
        out.push(':');
        out.push_str(s.fields.get(&f.name).map_or("null", |v| v.get()));
    }
    out.push('}');
    out
}

fn id_of(m: &Model, s: &Snapshot) -> String {
    let fields: Vec<String> = m.id.iter().map(|f| format!("{}:{}", text(f), s.fields.get(f).map_or("null", |v| v.get()))).collect();
    format!("{{{}}}", fields.join(","))
}

fn bearer(headers: &HeaderMap) -> Option<String> {
    let header = headers.get("sec-websocket-protocol")?.to_str().ok()?;
    let parts: Vec<&str> = header.split(',').map(str::trim).collect();
    let i = parts.iter().position(|p| *p == "bearer")?;
    parts.get(i + 1).map(|t| (*t).to_owned())
}

fn refuse(status: StatusCode) -> Response {
    (status, [("connection", "close")]).into_response()
}

/// `GET /ws`: checks the origin and a token offered at connect, then upgrades.
pub(crate) async fn upgrade(
    State(app): State<Arc<App>>,
    ip: Option<Extension<ClientIp>>,
    headers: HeaderMap,
    ws: Result<WebSocketUpgrade, axum::extract::ws::rejection::WebSocketUpgradeRejection>,
) -> Response {
    let Ok(ws) = ws else {
        return super::HttpError::new(404, "No such route.").response("/ws", &super::request_id(&headers));
    };
    let origins = &app.settings.cors_origins;
    if let Some(origin) = headers.get("origin").and_then(|o| o.to_str().ok())
        && !origins.is_empty()
        && !origins.iter().any(|o| o == origin)
    {
        return refuse(StatusCode::FORBIDDEN);
    }
    let verified = match bearer(&headers) {
        None => None,
        Some(token) => match app.auth.verify_with_expiry(&token).await {
            Ok(v) => Some(v),
            Err(_) => return refuse(StatusCode::UNAUTHORIZED),
        },
    };
    let ip = ip.map_or_else(|| "unknown".to_owned(), |e| e.0.0);
    let limit = app.settings.ws.max_message_bytes;
    ws.protocols(["bearer"]).max_message_size(limit).max_frame_size(limit).on_upgrade(move |socket| connection(app, socket, ip, verified))
}

async fn connection(app: Arc<App>, socket: WebSocket, ip: String, verified: Option<(Map<String, Json>, Option<u64>)>) {
    let Some(bus) = app.engine.events.clone() else { return };
    let _open = Open::new();
    #[cfg(feature = "monitoring")]
    let _counted = app.engine.metrics.clone().map(Counted::new);
    let (sink, mut stream) = socket.split();
    let heartbeat_every = Duration::from_millis(app.settings.ws.heartbeat_ms.max(1));
    let mut c = Connection {
        app,
        ip,
        auth: None,
        authenticated: false,
        alive: true,
        seq: 0,
        expiry: None,
        subs: BTreeMap::new(),
        out: Outgoing::new(sink),
        closing: false,
        resync_at: None,
    };
    if let Some((principal, exp)) = verified {
        c.authenticate(Some(principal), exp);
    }
    let mut events = bus.local.subscribe();
    let mut going = going_away().subscribe();
    let mut gaps = bus.gaps.subscribe();
    let mut gaps_open = true;
    if *going.borrow_and_update() {
        c.close(GOING_AWAY, "server shutting down");
    }
    let mut heartbeat = tokio::time::interval_at(tokio::time::Instant::now() + heartbeat_every, heartbeat_every);
    heartbeat.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let far = || tokio::time::Instant::now() + Duration::from_secs(86_400 * 365);
    // After a close frame was queued: how long the peer has to read it and answer.
    let mut closing_deadline: Option<tokio::time::Instant> = None;
    loop {
        if c.out.broken {
            break;
        }
        if c.closing && closing_deadline.is_none() {
            closing_deadline = Some(tokio::time::Instant::now() + Duration::from_secs(10));
        }
        let expiry = c.expiry.unwrap_or_else(far);
        let deadline = closing_deadline.unwrap_or_else(far);
        tokio::select! {
            r = c.out.sink.flush(), if c.out.blocked => c.out.flushed(r.is_ok()),
            msg = stream.next() => match msg {
                None => break,
                Some(Err(e)) => {
                    if is_too_big(&e) {
                        c.close(TOO_BIG, "message too big");
                        // The socket can no longer be read: give the close frame a moment to go out.
                        let _ = tokio::time::timeout(Duration::from_secs(1), c.out.sink.flush()).await;
                    }
                    break;
                }
                Some(Ok(Message::Text(t))) if !c.closing => c.on_message(t.as_str()).await,
                Some(Ok(Message::Binary(b))) if !c.closing => c.on_message(&String::from_utf8_lossy(&b)).await,
                Some(Ok(_)) => {}
            },
            change = events.recv(), if !c.closing => match change {
                Ok(change) => c.deliver(&change),
                Err(broadcast::error::RecvError::Lagged(_)) => c.close(SLOW, "slow consumer"),
                Err(broadcast::error::RecvError::Closed) => break,
            },
            _ = heartbeat.tick(), if !c.closing => {
                if !c.alive {
                    // Dropped without a close frame, as the TypeScript gateway terminates it.
                    return;
                }
                c.alive = false;
                c.send(r#"{"type":"ping"}"#.into());
            }
            () = tokio::time::sleep_until(expiry), if !c.closing && c.expiry.is_some() => c.close(EXPIRED, "token expired"),
            () = tokio::time::sleep_until(c.resync_at.unwrap_or_else(far)), if !c.closing && c.resync_at.is_some() => {
                c.resync_at = None;
                c.send(r#"{"type":"resync"}"#.into());
            }
            r = gaps.changed(), if !c.closing && gaps_open => match r {
                Ok(()) if !c.subs.is_empty() => c.send(r#"{"type":"resync"}"#.into()),
                Ok(()) => {}
                Err(_) => gaps_open = false,
            },
            r = going.changed(), if !c.closing => {
                if r.is_err() || *going.borrow_and_update() {
                    c.close(GOING_AWAY, "server shutting down");
                }
            }
            () = tokio::time::sleep_until(deadline), if closing_deadline.is_some() => break,
        }
    }
}

/// Is this read error a message over the size limit?
fn is_too_big(e: &axum::Error) -> bool {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(s) = source {
        let text = s.to_string();
        if text.contains("Space limit exceeded") || text.contains("too long") || text.contains("too big") {
            return true;
        }
        source = s.source();
    }
    false
}
