//! The `monitoring` plugin (`[plugins.monitoring]` in ssot.toml) in the Rust server: Prometheus
//! metrics of the requests, the committed writes and the WebSocket connections, with the names,
//! labels and buckets of the TypeScript plugin (`src/server/plugins/monitoring.ts`), so that one
//! dashboard reads a fleet of either kind. No metric carries a field value, a token or a
//! principal: routes are patterns (`/api/posts/:id`), never the paths requested.

use super::problem::HttpError;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use prometheus::{Encoder, HistogramOpts, HistogramVec, IntCounterVec, IntGauge, Opts, Registry, TextEncoder};
use serde::Deserialize;
use serde_json::Value as Json;
use sha2::{Digest, Sha256};

/// The plugin's options, as the generator wrote them into the schema document.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Options {
    /// Where the metrics are served.
    path: String,
    /// The process' own metrics too.
    process_metrics: bool,
    /// OpenTelemetry traces: the TypeScript server's only, for now.
    #[serde(default)]
    traces: bool,
}

pub(crate) struct Metrics {
    /// Where they are served.
    pub(crate) path: String,
    /// `METRICS_TOKEN`: the bearer token a scraper must send (empty: none).
    token: String,
    registry: Registry,
    requests: IntCounterVec,
    latency: HistogramVec,
    sockets: IntGauge,
    writes: IntCounterVec,
}

impl Metrics {
    /// One registry per server, so that two servers in one process count apart.
    pub(crate) fn new(options: &Json, token: Option<String>) -> Result<Metrics, String> {
        let options = Options::deserialize(options).map_err(|e| format!("the monitoring options of the schema document: {e}"))?;
        if options.traces {
            tracing::warn!(
                "monitoring: the Rust server does not export OpenTelemetry traces yet (the TypeScript server does); its metrics are served"
            );
        }
        let registry = Registry::new();
        let fail = |e: prometheus::Error| format!("monitoring: {e}");
        let labels = &["method", "route", "status"];
        let requests = IntCounterVec::new(Opts::new("http_requests_total", "HTTP requests by method, route pattern and status."), labels)
            .map_err(fail)?;
        let latency = HistogramVec::new(
            HistogramOpts::new("http_request_duration_seconds", "Time from the request to the end of the response, in seconds.")
                .buckets(vec![0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0]),
            labels,
        )
        .map_err(fail)?;
        let sockets = IntGauge::new("realtime_connections", "Open WebSocket connections.").map_err(fail)?;
        let writes = IntCounterVec::new(Opts::new("writes_total", "Committed writes by model and operation."), &["model", "operation"])
            .map_err(fail)?;
        registry.register(Box::new(requests.clone())).map_err(fail)?;
        registry.register(Box::new(latency.clone())).map_err(fail)?;
        registry.register(Box::new(sockets.clone())).map_err(fail)?;
        registry.register(Box::new(writes.clone())).map_err(fail)?;
        if options.process_metrics {
            registry.register(Box::new(prometheus::process_collector::ProcessCollector::for_self())).map_err(fail)?;
        }
        let token = token.unwrap_or_default();
        if token.is_empty() {
            tracing::warn!("no METRICS_TOKEN: {} is open to every caller", options.path);
        }
        Ok(Metrics { path: options.path, token, registry, requests, latency, sockets, writes })
    }

    /// A request answered: `route` is axum's pattern (`/api/posts/{id}`), labelled as the
    /// TypeScript server labels it (`/api/posts/:id`); `None` for a path no route matched.
    pub(crate) fn request(&self, method: &str, route: Option<&str>, status: u16, seconds: f64) {
        let route = route.map_or_else(|| "unmatched".to_owned(), |r| r.replace('{', ":").replace('}', ""));
        let status = status.to_string();
        let labels = [method, route.as_str(), status.as_str()];
        self.requests.with_label_values(&labels).inc();
        self.latency.with_label_values(&labels).observe(seconds);
    }

    /// A committed write (`create`, `update` or `delete`).
    pub(crate) fn write(&self, model: &str, operation: &str) {
        self.writes.with_label_values(&[model, operation]).inc();
    }

    /// A WebSocket connection opened (1) or closed (-1).
    pub(crate) fn socket(&self, delta: i64) {
        self.sockets.add(delta);
    }

    /// `GET <path>`: the metrics in Prometheus' text format, to a caller with the token.
    pub(crate) fn scrape(&self, headers: &HeaderMap, path: &str, request_id: &str) -> Response {
        if !self.authorized(headers) {
            let mut e = HttpError::new(401, "A valid metrics token is required.");
            e.headers.push(("www-authenticate", "Bearer realm=\"metrics\"".into()));
            return e.response(path, request_id);
        }
        let mut body = Vec::new();
        let encoder = TextEncoder::new();
        if let Err(e) = encoder.encode(&self.registry.gather(), &mut body) {
            tracing::error!(error = %e, "monitoring: encoding the metrics");
            return HttpError::internal().response(path, request_id);
        }
        (StatusCode::OK, [("content-type", encoder.format_type()), ("cache-control", "no-store")], body).into_response()
    }

    /// No token configured, or `Authorization: Bearer <token>`. The two are compared as
    /// SHA-256 digests, so the time taken says nothing about how much of a guess was right.
    fn authorized(&self, headers: &HeaderMap) -> bool {
        if self.token.is_empty() {
            return true;
        }
        let given = headers.get("authorization").and_then(|v| v.to_str().ok()).and_then(|v| v.strip_prefix("Bearer "));
        given.is_some_and(|g| Sha256::digest(g.as_bytes()) == Sha256::digest(self.token.as_bytes()))
    }
}
