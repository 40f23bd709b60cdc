//! Observability: request ids, access logs and `GET /metrics` (spec/API.md, "Metrics" and
//! "Request ids").
//!
//! Requests are labelled by their route pattern (axum's [`MatchedPath`], such as
//! `/api/v1/tickets/{id}`), never by their raw path or query, which carry ticket ids and key
//! ids; requests that match no route are labelled `unmatched`. The access log line of a request
//! holds its method, route pattern, request id, status and latency: never a header (the
//! `Authorization` header carries access tokens), a query or a body.
//!
//! `/metrics` is the Prometheus text format (version 0.0.4), written here from a small
//! registry of atomic counters and fixed-bucket histograms.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Body;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderValue, Method, Response, StatusCode, header};
use axum::middleware::{self, Next};
use sealdesk_crypto::system_rng;
use tower_http::request_id::{
    MakeRequestId, PropagateRequestIdLayer, RequestId, SetRequestIdLayer,
};
use tower_http::trace::TraceLayer;
use tracing::Span;

use super::AppState;
use super::pow::fill_random;

/// The route label of requests that match no route (files of the web folder, 404s).
pub const UNMATCHED: &str = "unmatched";

/// The log target of access lines, so that a filter such as `info,sealdesk::access=warn`
/// hides them while keeping the other events of a request (which stay in its span).
pub const ACCESS_LOG_TARGET: &str = "sealdesk::access";

/// Method labels; any other method counts as `other`.
const METHODS: [&str; 8] = [
    "GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "other",
];

/// Upper bounds of the latency buckets: the `le` label and the bound in microseconds.
const BUCKETS: [(&str, u64); 12] = [
    ("0.001", 1_000),
    ("0.005", 5_000),
    ("0.01", 10_000),
    ("0.025", 25_000),
    ("0.05", 50_000),
    ("0.1", 100_000),
    ("0.25", 250_000),
    ("0.5", 500_000),
    ("1", 1_000_000),
    ("2.5", 2_500_000),
    ("5", 5_000_000),
    ("10", 10_000_000),
];

/// Counters of one (route, method).
#[derive(Default)]
struct Series {
    /// Responses by status class, 1xx to 5xx.
    statuses: [AtomicU64; 5],
    /// Latencies by bucket (not cumulative); the last slot is above the largest bound.
    buckets: [AtomicU64; BUCKETS.len() + 1],
    /// Sum of latencies in microseconds.
    sum_micros: AtomicU64,
}

/// Counters of one route pattern, by method.
#[derive(Default)]
struct RouteSeries {
    methods: [Series; METHODS.len()],
}

/// The registry behind `/metrics`.
pub struct Metrics {
    routes: RwLock<BTreeMap<String, Arc<RouteSeries>>>,
    tickets_created: AtomicU64,
    messages_posted: AtomicU64,
    started_at: u64,
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics {
            routes: RwLock::new(BTreeMap::new()),
            tickets_created: AtomicU64::new(0),
            messages_posted: AtomicU64::new(0),
            started_at: super::now(),
        }
    }
}

impl Metrics {
    /// Counts a created ticket.
    pub fn ticket_created(&self) {
        self.tickets_created.fetch_add(1, Ordering::Relaxed);
    }

    /// Counts a message posted to an existing ticket.
    pub fn message_posted(&self) {
        self.messages_posted.fetch_add(1, Ordering::Relaxed);
    }

    /// Records one answered request. `route` is a route pattern (or [`UNMATCHED`]), never a
    /// raw path.
    pub fn record(&self, route: &str, method: &Method, status: StatusCode, latency: Duration) {
        let series = self.route(route);
        let series = &series.methods[method_index(method)];
        let class = usize::from(status.as_u16() / 100).clamp(1, 5) - 1;
        series.statuses[class].fetch_add(1, Ordering::Relaxed);
        let micros = u64::try_from(latency.as_micros()).unwrap_or(u64::MAX);
        let bucket = BUCKETS
            .iter()
            .position(|&(_, bound)| micros <= bound)
            .unwrap_or(BUCKETS.len());
        series.buckets[bucket].fetch_add(1, Ordering::Relaxed);
        series.sum_micros.fetch_add(micros, Ordering::Relaxed);
    }

    fn route(&self, route: &str) -> Arc<RouteSeries> {
        if let Some(series) = self
            .routes
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .get(route)
        {
            return series.clone();
        }
        self.routes
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .entry(route.to_owned())
            .or_default()
            .clone()
    }

    /// The HTTP series in the Prometheus text format.
    fn render_http(&self, out: &mut String) {
        let routes: Vec<(String, Arc<RouteSeries>)> = self
            .routes
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .iter()
            .map(|(route, series)| (route.clone(), series.clone()))
            .collect();
        header(
            out,
            "sealdesk_http_requests_total",
            "counter",
            "HTTP requests answered, by route pattern, method and status class.",
        );
        for (route, series) in &routes {
            for (method, series) in METHODS.iter().zip(&series.methods) {
                for (class, count) in series.statuses.iter().enumerate() {
                    let count = count.load(Ordering::Relaxed);
                    if count > 0 {
                        let _ = writeln!(
                            out,
                            "sealdesk_http_requests_total{{route=\"{}\",method=\"{method}\",\
                             status=\"{}xx\"}} {count}",
                            escape(route),
                            class + 1
                        );
                    }
                }
            }
        }
        header(
            out,
            "sealdesk_http_request_duration_seconds",
            "histogram",
            "Time from receiving a request to its response head, by route pattern and method.",
        );
        for (route, series) in &routes {
            for (method, series) in METHODS.iter().zip(&series.methods) {
                let counts: Vec<u64> = series
                    .buckets
                    .iter()
                    .map(|b| b.load(Ordering::Relaxed))
                    .collect();
                let total: u64 = counts.iter().sum();
                if total == 0 {
                    continue;
                }
                let labels = format!("route=\"{}\",method=\"{method}\"", escape(route));
                let mut cumulative = 0;
                for ((le, _), count) in BUCKETS.iter().zip(&counts) {
                    cumulative += count;
                    let _ = writeln!(
                        out,
                        "sealdesk_http_request_duration_seconds_bucket{{{labels},le=\"{le}\"}} \
                         {cumulative}"
                    );
                }
                let sum = series.sum_micros.load(Ordering::Relaxed);
                let _ = writeln!(
                    out,
                    "sealdesk_http_request_duration_seconds_bucket{{{labels},le=\"+Inf\"}} {total}\n\
                     sealdesk_http_request_duration_seconds_sum{{{labels}}} {}.{:06}\n\
                     sealdesk_http_request_duration_seconds_count{{{labels}}} {total}",
                    sum / 1_000_000,
                    sum % 1_000_000
                );
            }
        }
    }
}

fn method_index(method: &Method) -> usize {
    METHODS
        .iter()
        .position(|m| *m == method.as_str())
        .unwrap_or(METHODS.len() - 1)
}

fn method_label(method: &Method) -> &'static str {
    METHODS[method_index(method)]
}

/// A label value with `\`, `"` and newlines escaped.
fn escape(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

fn header(out: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
}

fn sample(out: &mut String, name: &str, kind: &str, help: &str, value: u64) {
    header(out, name, kind, help);
    let _ = writeln!(out, "{name} {value}");
}

/// The route pattern of a request (set by the router), or [`UNMATCHED`].
fn route_of(request: &Request) -> &str {
    request
        .extensions()
        .get::<MatchedPath>()
        .map_or(UNMATCHED, MatchedPath::as_str)
}

/// Middleware: counts the request and its latency under its route pattern.
async fn track(State(state): State<Arc<AppState>>, request: Request, next: Next) -> Response<Body> {
    let route = route_of(&request).to_owned();
    let method = request.method().clone();
    let start = Instant::now();
    let response = next.run(request).await;
    state
        .metrics
        .record(&route, &method, response.status(), start.elapsed());
    response
}

/// `GET /metrics`: the registry, the rate limiters, the proof-of-work table and storage.
pub async fn render(State(state): State<Arc<AppState>>) -> Response<Body> {
    let metrics = &state.metrics;
    let mut out = String::with_capacity(8 << 10);
    metrics.render_http(&mut out);
    sample(
        &mut out,
        "sealdesk_tickets_created_total",
        "counter",
        "Tickets created since the server started.",
        metrics.tickets_created.load(Ordering::Relaxed),
    );
    sample(
        &mut out,
        "sealdesk_messages_posted_total",
        "counter",
        "Messages posted to existing tickets since the server started.",
        metrics.messages_posted.load(Ordering::Relaxed),
    );
    let limiters = [
        (
            state.rate_limits.anonymous_tickets.name(),
            state.rate_limits.anonymous_tickets.refused(),
            state.rate_limits.anonymous_tickets.keys(),
        ),
        (
            state.rate_limits.pow_challenges.name(),
            state.rate_limits.pow_challenges.refused(),
            state.rate_limits.pow_challenges.keys(),
        ),
        (
            state.rate_limits.posts.name(),
            state.rate_limits.posts.refused(),
            state.rate_limits.posts.keys(),
        ),
        (
            state.rate_limits.uploads.name(),
            state.rate_limits.uploads.refused(),
            state.rate_limits.uploads.keys(),
        ),
    ];
    header(
        &mut out,
        "sealdesk_rate_limited_total",
        "counter",
        "Requests refused with 429 rate_limited, by limit.",
    );
    for (name, refused, _) in &limiters {
        let _ = writeln!(
            out,
            "sealdesk_rate_limited_total{{limit=\"{name}\"}} {refused}"
        );
    }
    header(
        &mut out,
        "sealdesk_rate_limit_keys",
        "gauge",
        "Client addresses or credentials each rate limit holds state for.",
    );
    for (name, _, keys) in &limiters {
        let _ = writeln!(out, "sealdesk_rate_limit_keys{{limit=\"{name}\"}} {keys}");
    }
    sample(
        &mut out,
        "sealdesk_pow_challenges_outstanding",
        "gauge",
        "Proof-of-work challenges issued and not yet spent or dropped.",
        state.pow.outstanding() as u64,
    );
    if let Ok(bytes) = state.store.size_on_disk() {
        sample(
            &mut out,
            "sealdesk_storage_bytes",
            "gauge",
            "Approximate size of the database on disk.",
            bytes,
        );
    }
    sample(
        &mut out,
        "sealdesk_storage_flushes_total",
        "counter",
        "Group-commit flushes of the database since the server started.",
        state.store.flushes(),
    );
    sample(
        &mut out,
        "sealdesk_start_time_seconds",
        "gauge",
        "Unix time the server started.",
        metrics.started_at,
    );
    let mut response = Response::new(Body::from(out));
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
    );
    response
}

/// Makes a random 128-bit request id, in hexadecimal.
#[derive(Clone, Copy, Debug, Default)]
pub struct RandomRequestId;

impl MakeRequestId for RandomRequestId {
    fn make_request_id<B>(&mut self, _request: &axum::http::Request<B>) -> Option<RequestId> {
        let mut bytes = [0u8; 16];
        fill_random(&mut system_rng(), &mut bytes);
        HeaderValue::from_str(&hex::encode(bytes))
            .ok()
            .map(RequestId::new)
    }
}

/// Whether a client-supplied request id is kept: 1 to 64 letters, digits, `-`, `_` or `.`.
/// Anything else is replaced by a random id, so log lines cannot be forged or bloated.
fn acceptable_request_id(value: &HeaderValue) -> bool {
    let bytes = value.as_bytes();
    (1..=64).contains(&bytes.len())
        && bytes
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

async fn drop_unacceptable_request_id(mut request: Request) -> Request {
    let headers = request.headers_mut();
    if headers
        .get_all("x-request-id")
        .iter()
        .enumerate()
        .any(|(index, value)| index > 0 || !acceptable_request_id(value))
    {
        headers.remove("x-request-id");
    }
    request
}

/// The span of one request: method, route pattern and request id; no header, path or query.
fn request_span(request: &Request) -> Span {
    let request_id = request
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    tracing::info_span!(
        "request",
        method = method_label(request.method()),
        route = route_of(request),
        request_id = request_id,
    )
}

/// The access log line, in the request's span, with the target [`ACCESS_LOG_TARGET`].
fn log_response(response: &Response<Body>, latency: Duration, _span: &Span) {
    tracing::info!(
        target: ACCESS_LOG_TARGET,
        status = response.status().as_u16(),
        latency_ms = %format_args!("{:.3}", latency.as_secs_f64() * 1e3),
        "answered"
    );
}

/// Adds request ids (`x-request-id`, generated unless the client sent an acceptable one,
/// returned on every response), the access log and the request metrics to every route of
/// `router` and its fallback.
pub fn observe(router: Router, state: Arc<AppState>) -> Router {
    router
        .layer(middleware::from_fn_with_state(state, track))
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(request_span)
                .on_request(())
                .on_response(log_response)
                .on_failure(()),
        )
        .layer(PropagateRequestIdLayer::x_request_id())
        .layer(SetRequestIdLayer::x_request_id(RandomRequestId))
        .layer(middleware::map_request(drop_unacceptable_request_id))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histogram_and_counters_render() {
        let metrics = Metrics::default();
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
            format!("sealdesk_http_request_duration_seconds_sum{{{labels}}} 20.003000"),
            format!("sealdesk_http_request_duration_seconds_count{{{labels}}} 2"),
        ] {
            assert!(out.lines().any(|l| l == line), "{line} missing from\n{out}");
        }
        assert!(!out.contains("status=\"5xx\""), "{out}");
        assert_eq!(out.matches("# TYPE").count(), 2);
    }

    #[test]
    fn request_ids() {
        let ok = |s: &str| acceptable_request_id(&HeaderValue::from_str(s).unwrap());
        assert!(ok("abc-123_X.y"));
        assert!(!ok(""));
        assert!(!ok("has space"));
        assert!(!ok("quote\""));
        assert!(!ok(&"a".repeat(65)));
        let request = axum::http::Request::new(());
        let id = RandomRequestId.make_request_id(&request).unwrap();
        let id = id.header_value().to_str().unwrap();
        assert_eq!(id.len(), 32);
        assert!(id.bytes().all(|b| b.is_ascii_hexdigit()));
        let other = RandomRequestId.make_request_id(&request).unwrap();
        assert_ne!(id, other.header_value().to_str().unwrap());
    }

    #[test]
    fn label_values_are_escaped() {
        assert_eq!(escape("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
    }
}
