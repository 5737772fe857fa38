//! `monitoring`: Prometheus metrics of the generated server (requests by route pattern and
//! status, latency histograms, committed writes, WebSocket connections, Node's process metrics)
//! at `/metrics`, behind `METRICS_TOKEN` when it is set.

use super::{Contribution, EnvVar, OptionSpec, OptionType, Options, Plugin, PluginCx, Route, ServerModule};
use crate::ir::Ir;
use serde_json::json;

pub struct Monitoring;

const OPTIONS: &[OptionSpec] = &[
    OptionSpec::optional("path", OptionType::String, "where the metrics are served (default \"/metrics\")"),
    OptionSpec::optional("process_metrics", OptionType::Bool, "Node's process metrics too: CPU, memory, event loop (default true)"),
    OptionSpec::optional(
        "traces",
        OptionType::Bool,
        "OpenTelemetry traces of each request and its database calls, sent to OTEL_EXPORTER_OTLP_ENDPOINT (default false)",
    ),
    OptionSpec::optional(
        "usage_events",
        OptionType::Bool,
        "usage events (routes, statuses, writes by model; never values, tokens or callers) sent to USAGE_EVENTS_URL (default false)",
    ),
];

fn usage_events(options: &Options) -> bool {
    options.get("usage_events").and_then(|v| v.as_bool()).unwrap_or(false)
}

fn traces(options: &Options) -> bool {
    options.get("traces").and_then(|v| v.as_bool()).unwrap_or(false)
}

fn path(options: &Options) -> String {
    options.get("path").and_then(|v| v.as_str()).unwrap_or("/metrics").to_owned()
}

impl Plugin for Monitoring {
    fn name(&self) -> &str {
        "monitoring"
    }

    fn options(&self) -> &[OptionSpec] {
        OPTIONS
    }

    fn check_options(&self, _ir: &Ir, options: &Options) -> Vec<(String, String)> {
        let p = path(options);
        if super::is_route_path(&p) {
            Vec::new()
        } else {
            vec![(
                "path".into(),
                format!("`{p}` is not a path: write it like \"/metrics\" (letters, digits, `-`, `_`, `.` between slashes)"),
            )]
        }
    }

    fn routes(&self, cx: &PluginCx) -> Vec<Route> {
        vec![Route { method: "GET", path: path(cx.options) }]
    }

    fn generate(&self, cx: &PluginCx) -> Contribution {
        let mut c = Contribution::default();
        c.files.insert(
            "src/server/plugins/monitoring.ts".into(),
            format!("// {}\n\n{}", crate::generate::HEADER, include_str!("../../templates/ts/plugins/monitoring.ts")),
        );
        c.server_module = Some(ServerModule {
            path: "plugins/monitoring".into(),
            options: json!({
                "path": path(cx.options),
                "processMetrics": cx.options.get("process_metrics").and_then(|v| v.as_bool()).unwrap_or(true),
                "traces": traces(cx.options),
                "usageEvents": usage_events(cx.options),
            }),
        });
        c.dependencies.insert("prom-client".into(), "15.1.3".into());
        // The OpenTelemetry packages that still run on Node 20 (their next releases need Node 22).
        for (name, version) in [
            ("@opentelemetry/api", "1.9.0"),
            ("@opentelemetry/exporter-trace-otlp-http", "0.223.1"),
            ("@opentelemetry/instrumentation", "0.207.0"),
            ("@opentelemetry/sdk-trace-node", "2.12.1"),
            ("@prisma/instrumentation", "7.10.1"),
        ] {
            c.dependencies.insert(name.into(), version.into());
        }
        if usage_events(cx.options) {
            for (name, doc) in [
                ("USAGE_EVENTS_URL", "Usage events: where batches are POSTed as JSON (empty: none are collected)."),
                ("USAGE_EVENTS_SAMPLE", "Usage events: the share of events kept, from 0 to 1 (default 1)."),
                ("USAGE_EVENTS", "Usage events: off to collect none (DO_NOT_TRACK=1 does the same)."),
            ] {
                c.env.push(EnvVar::new(name, doc));
            }
        }
        if traces(cx.options) {
            for (name, doc) in [
                (
                    "OTEL_EXPORTER_OTLP_ENDPOINT",
                    "Traces: the OTLP/HTTP collector, like http://127.0.0.1:4318 (empty: no spans are recorded).",
                ),
                ("OTEL_SERVICE_NAME", "Traces: the service's name in the spans (default unknown_service:node)."),
                (
                    "OTEL_TRACES_SAMPLER",
                    "Traces: which requests are traced, like parentbased_traceidratio with OTEL_TRACES_SAMPLER_ARG=0.1.",
                ),
            ] {
                c.env.push(EnvVar::new(name, doc));
            }
        }
        c.env.push(EnvVar::new(
            "METRICS_TOKEN",
            format!("Monitoring: the bearer token a scraper must send to {} (empty: open to every caller).", path(cx.options)),
        ));
        c
    }
}
