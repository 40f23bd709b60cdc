//! The registry behind `GET /metrics` (spec/API.md, "Metrics"), on `prometheus-client`:
//! request counters and latency histograms by route pattern, the ticket and message counters,
//! and, at each scrape, the numbers other services hold (rate limits, proof-of-work table,
//! storage). The exposition is the Prometheus text format, version 0.0.4.
//!
//! Requests are labelled by their route pattern (such as `/api/v1/tickets/{id}`), never by their
//! raw path or query, which carry ticket ids and key ids; requests that match no route are
//! labelled [`UNMATCHED`]. The HTTP layer (`api::metrics`) finds the pattern and records.

use std::time::Duration;

use axum::http::{Method, StatusCode};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::encoding::prometheus_text;
use prometheus_client::metrics::counter::{ConstCounter, Counter};
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::{ConstGauge, Gauge};
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

/// The route label of requests that match no route (files of the web folder, 404s).
pub const UNMATCHED: &str = "unmatched";

/// The `Content-Type` of `/metrics`: the Prometheus text format, version 0.0.4.
pub const CONTENT_TYPE: &str = prometheus_text::CONTENT_TYPE;

/// Method labels; any other method counts as `other`.
const METHODS: [&str; 8] = [
    "GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "other",
];

/// Status-class labels, 1xx to 5xx.
const STATUS_CLASSES: [&str; 5] = ["1xx", "2xx", "3xx", "4xx", "5xx"];

/// Upper bounds of the latency buckets, in seconds (1 ms to 10 s); `+Inf` is implicit.
const BUCKETS: [f64; 12] = [
    0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// Labels of `sealdesk_http_requests_total`, in this order.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    route: String,
    method: &'static str,
    status: &'static str,
}

/// Labels of `sealdesk_http_request_duration_seconds`, in this order (then `le`).
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteLabels {
    route: String,
    method: &'static str,
}

/// Label of the rate-limit series.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct LimitLabel {
    limit: &'static str,
}

fn latency_histogram() -> Histogram {
    Histogram::new(BUCKETS)
}

/// The request and event metrics, kept for the process's lifetime.
pub struct Metrics {
    requests: Family<RequestLabels, Counter>,
    durations: Family<RouteLabels, Histogram, fn() -> Histogram>,
    tickets_created: Counter,
    messages_posted: Counter,
    mails_sent: Counter,
    mails_failed: Counter,
    started_at: u64,
}

/// One rate limit's numbers at a scrape.
#[derive(Clone, Copy, Debug)]
pub struct LimiterSample {
    /// The limit's name (`anonymous_tickets`, `pow_challenges`, `posts`, `uploads`).
    pub name: &'static str,
    /// Requests it refused since the start.
    pub refused: u64,
    /// Keys (addresses or credentials) it holds state for.
    pub keys: usize,
}

/// What other services hold, read at each scrape.
#[derive(Clone, Debug, Default)]
pub struct Snapshot {
    /// Every rate limit, in the order of the output.
    pub limiters: Vec<LimiterSample>,
    /// Proof-of-work challenges issued and not yet spent or dropped.
    pub pow_challenges_outstanding: usize,
    /// Approximate size of the database on disk in bytes, if the store could tell.
    pub storage_bytes: Option<u64>,
    /// Group-commit flushes since the start.
    pub storage_flushes: u64,
    /// Mails in the outbox.
    pub mail_queued: u64,
    /// Age of the oldest mail in the outbox in seconds (0 when empty).
    pub mail_oldest_queued_seconds: u64,
}

impl Metrics {
    /// Empty metrics of a server started at `started_at` (Unix seconds).
    pub fn new(started_at: u64) -> Self {
        Metrics {
            requests: Family::default(),
            durations: Family::new_with_constructor(latency_histogram),
            tickets_created: Counter::default(),
            messages_posted: Counter::default(),
            mails_sent: Counter::default(),
            mails_failed: Counter::default(),
            started_at,
        }
    }

    /// Counts a created ticket.
    pub fn ticket_created(&self) {
        self.tickets_created.inc();
    }

    /// Counts a mail the relay took.
    pub fn mail_sent(&self) {
        self.mails_sent.inc();
    }

    /// Counts a mail given up (refused for good, or not taken for `mail_give_up_seconds`).
    pub fn mail_failed(&self) {
        self.mails_failed.inc();
    }

    /// Counts a message posted to an existing ticket.
    pub fn message_posted(&self) {
        self.messages_posted.inc();
    }

    /// Records one answered request. `route` is a route pattern (or [`UNMATCHED`]), never a
    /// raw path.
    pub fn record(&self, route: &str, method: &Method, status: StatusCode, latency: Duration) {
        let method = method_label(method);
        let class = usize::from(status.as_u16() / 100).clamp(1, 5) - 1;
        self.requests
            .get_or_create(&RequestLabels {
                route: route.to_owned(),
                method,
                status: STATUS_CLASSES[class],
            })
            .inc();
        self.durations
            .get_or_create(&RouteLabels {
                route: route.to_owned(),
                method,
            })
            .observe(latency.as_secs_f64());
    }

    /// Registers the HTTP series (requests and latencies).
    fn register_http(&self, registry: &mut Registry) {
        registry.register(
            "sealdesk_http_requests",
            "HTTP requests answered, by route pattern, method and status class",
            self.requests.clone(),
        );
        registry.register(
            "sealdesk_http_request_duration_seconds",
            "Time from receiving a request to its response head, by route pattern and method",
            self.durations.clone(),
        );
    }

    /// The HTTP series alone, in the text format.
    #[cfg(test)]
    fn render_http(&self, out: &mut String) {
        let mut registry = Registry::default();
        self.register_http(&mut registry);
        let _ = prometheus_text::encode(out, &registry);
    }

    /// Every metric in the Prometheus text format (version 0.0.4): the HTTP series, the
    /// ticket and message counters, then `snapshot`'s numbers and the start time.
    ///
    /// # Errors
    /// Only if formatting fails (it writes to a `String`).
    pub fn render(&self, snapshot: &Snapshot) -> Result<String, std::fmt::Error> {
        // A registry per scrape: the long-lived series are shared handles, the others are
        // constants read just now.
        let mut registry = Registry::default();
        self.register_http(&mut registry);
        registry.register(
            "sealdesk_tickets_created",
            "Tickets created since the server started",
            self.tickets_created.clone(),
        );
        registry.register(
            "sealdesk_messages_posted",
            "Messages posted to existing tickets since the server started",
            self.messages_posted.clone(),
        );
        let refused = Family::<LimitLabel, Counter>::default();
        let keys = Family::<LimitLabel, Gauge>::default();
        for limiter in &snapshot.limiters {
            let label = LimitLabel {
                limit: limiter.name,
            };
            refused.get_or_create(&label).inc_by(limiter.refused);
            keys.get_or_create(&label)
                .set(i64::try_from(limiter.keys).unwrap_or(i64::MAX));
        }
        registry.register(
            "sealdesk_rate_limited",
            "Requests refused with 429 rate_limited, by limit",
            refused,
        );
        registry.register(
            "sealdesk_rate_limit_keys",
            "Client addresses or credentials each rate limit holds state for",
            keys,
        );
        registry.register(
            "sealdesk_pow_challenges_outstanding",
            "Proof-of-work challenges issued and not yet spent or dropped",
            gauge(snapshot.pow_challenges_outstanding as u64),
        );
        if let Some(bytes) = snapshot.storage_bytes {
            registry.register(
                "sealdesk_storage_bytes",
                "Approximate size of the database on disk",
                gauge(bytes),
            );
        }
        registry.register(
            "sealdesk_storage_flushes",
            "Group-commit flushes of the database since the server started",
            ConstCounter::new(snapshot.storage_flushes),
        );
        registry.register(
            "sealdesk_mail_sent",
            "Mails the SMTP relay took since the server started",
            self.mails_sent.clone(),
        );
        registry.register(
            "sealdesk_mail_failed",
            "Mails given up since the server started (refused for good, or never taken)",
            self.mails_failed.clone(),
        );
        registry.register(
            "sealdesk_mail_queued",
            "Mails in the outbox, waiting to be sent or retried",
            gauge(snapshot.mail_queued),
        );
        registry.register(
            "sealdesk_mail_oldest_queued_seconds",
            "Age of the oldest mail in the outbox (0 when it is empty)",
            gauge(snapshot.mail_oldest_queued_seconds),
        );
        registry.register(
            "sealdesk_start_time_seconds",
            "Unix time the server started",
            gauge(self.started_at),
        );
        let mut out = String::with_capacity(8 << 10);
        prometheus_text::encode(&mut out, &registry)?;
        Ok(out)
    }
}

/// A gauge of a count (saturating at `i64::MAX`, the gauge's range).
fn gauge(value: u64) -> ConstGauge {
    ConstGauge::new(i64::try_from(value).unwrap_or(i64::MAX))
}

/// The label of `method`: one of [`METHODS`].
pub fn method_label(method: &Method) -> &'static str {
    METHODS
        .iter()
        .find(|m| **m == method.as_str())
        .copied()
        .unwrap_or("other")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histogram_and_counters_render() {
        let metrics = Metrics::new(0);
        let get = Method::GET;
        metrics.record(
            "/api/v1/tickets/{id}",
            &get,
            StatusCode::OK,
            Duration::from_millis(3),
        );
        metrics.record(
            "/api/v1/tickets/{id}",
            &get,
            StatusCode::NOT_FOUND,
            Duration::from_secs(20),
        );
        metrics.record(
            UNMATCHED,
            &Method::from_bytes(b"BREW").unwrap(),
            StatusCode::NOT_FOUND,
            Duration::ZERO,
        );
        let mut out = String::new();
        metrics.render_http(&mut out);
        let labels = "route=\"/api/v1/tickets/{id}\",method=\"GET\"";
        for line in [
            format!("sealdesk_http_requests_total{{{labels},status=\"2xx\"}} 1"),
            format!("sealdesk_http_requests_total{{{labels},status=\"4xx\"}} 1"),
            "sealdesk_http_requests_total{route=\"unmatched\",method=\"other\",status=\"4xx\"} 1"
                .to_owned(),
            format!("sealdesk_http_request_duration_seconds_bucket{{{labels},le=\"0.001\"}} 0"),
            format!("sealdesk_http_request_duration_seconds_bucket{{{labels},le=\"0.005\"}} 1"),
            format!("sealdesk_http_request_duration_seconds_bucket{{{labels},le=\"10\"}} 1"),
            format!("sealdesk_http_request_duration_seconds_bucket{{{labels},le=\"+Inf\"}} 2"),
            format!("sealdesk_http_request_duration_seconds_sum{{{labels}}} 20.003"),
            format!("sealdesk_http_request_duration_seconds_count{{{labels}}} 2"),
        ] {
            assert!(out.lines().any(|l| l == line), "{line} missing from\n{out}");
        }
        assert!(!out.contains("status=\"5xx\""), "{out}");
        assert_eq!(out.matches("# TYPE").count(), 2);
    }

    #[test]
    fn label_values_are_escaped() {
        let metrics = Metrics::new(0);
        metrics.record("a\"b\\c\nd", &Method::GET, StatusCode::OK, Duration::ZERO);
        let mut out = String::new();
        metrics.render_http(&mut out);
        assert!(out.contains("route=\"a\\\"b\\\\c\\nd\""), "{out}");
    }

    #[test]
    fn every_series_renders_with_its_name() {
        let metrics = Metrics::new(1_700_000_000);
        metrics.ticket_created();
        metrics.mail_sent();
        metrics.mail_failed();
        metrics.mail_failed();
        let out = metrics
            .render(&Snapshot {
                limiters: vec![LimiterSample {
                    name: "posts",
                    refused: 3,
                    keys: 2,
                }],
                pow_challenges_outstanding: 4,
                storage_bytes: Some(5),
                storage_flushes: 6,
                mail_queued: 7,
                mail_oldest_queued_seconds: 8,
            })
            .unwrap();
        for line in [
            "# HELP sealdesk_tickets_created_total Tickets created since the server started.",
            "# TYPE sealdesk_tickets_created_total counter",
            "sealdesk_tickets_created_total 1",
            "sealdesk_messages_posted_total 0",
            "# TYPE sealdesk_rate_limited_total counter",
            "sealdesk_rate_limited_total{limit=\"posts\"} 3",
            "# TYPE sealdesk_rate_limit_keys gauge",
            "sealdesk_rate_limit_keys{limit=\"posts\"} 2",
            "sealdesk_pow_challenges_outstanding 4",
            "sealdesk_storage_bytes 5",
            "sealdesk_storage_flushes_total 6",
            "sealdesk_mail_sent_total 1",
            "sealdesk_mail_failed_total 2",
            "sealdesk_mail_queued 7",
            "sealdesk_mail_oldest_queued_seconds 8",
            "# TYPE sealdesk_start_time_seconds gauge",
            "sealdesk_start_time_seconds 1700000000",
        ] {
            assert!(out.lines().any(|l| l == line), "{line} missing from\n{out}");
        }
    }
}
