//! Observability over HTTP: request ids, access logs, request metrics and `GET /metrics`
//! (spec/API.md, "Metrics" and "Request ids"). The registry is [`crate::services::metrics`].
//!
//! Requests are labelled by their route pattern (axum's [`MatchedPath`], such as
//! `/api/v1/tickets/{id}`), never by their raw path or query, which carry ticket ids and key
//! ids; requests that match no route are labelled `unmatched`. The access log line of a request
//! holds its method, route pattern, request id, status and latency: never a header (the
//! `Authorization` header carries access tokens), a query or a body.

use std::hash::Hash;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Body;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderValue, Response, StatusCode, header};
use axum::middleware::{self, Next};
use tower_http::request_id::{
    MakeRequestId, PropagateRequestIdLayer, RequestId, SetRequestIdLayer,
};
use tower_http::trace::TraceLayer;
use tracing::Span;

use crate::random;
use crate::services::metrics::{CONTENT_TYPE, LimiterSample, Snapshot, UNMATCHED, method_label};
use crate::services::rate_limits::KeyedLimiter;
use crate::state::AppState;

/// The log target of access lines, so that a filter such as `info,sealdesk::access=warn`
/// hides them while keeping the other events of a request (which stay in its span).
pub const ACCESS_LOG_TARGET: &str = "sealdesk::access";

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

/// One rate limit's numbers now.
fn sample<K: Hash + Eq + Clone>(limiter: &KeyedLimiter<K>) -> LimiterSample {
    LimiterSample {
        name: limiter.name(),
        refused: limiter.refused(),
        keys: limiter.keys(),
    }
}

/// `GET /metrics`: the registry, the rate limiters, the proof-of-work table and storage.
pub async fn render(State(state): State<Arc<AppState>>) -> Response<Body> {
    let limits = &state.rate_limits;
    let (mail_queued, mail_oldest_queued_seconds) =
        crate::mail::outbox::backlog(&state, crate::clock::now());
    let snapshot = Snapshot {
        limiters: limits
            .all()
            .into_iter()
            .map(sample)
            .chain([
                sample(&limits.posts),
                sample(&limits.uploads),
                sample(&limits.recovery_by_address),
            ])
            .collect(),
        pow_challenges_outstanding: state.pow.outstanding(),
        storage_bytes: state.store.size_on_disk().ok(),
        storage_flushes: state.store.flushes(),
        mail_queued,
        mail_oldest_queued_seconds,
    };
    let mut response = match state.metrics.render(&snapshot) {
        Ok(text) => Response::new(Body::from(text)),
        Err(_) => {
            tracing::error!("cannot format the metrics");
            let mut response = Response::new(Body::empty());
            *response.status_mut() = StatusCode::INTERNAL_SERVER_ERROR;
            return response;
        }
    };
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(CONTENT_TYPE));
    response
}

/// Makes a random 128-bit request id, in hexadecimal.
#[derive(Clone, Copy, Debug, Default)]
pub struct RandomRequestId;

impl MakeRequestId for RandomRequestId {
    fn make_request_id<B>(&mut self, _request: &axum::http::Request<B>) -> Option<RequestId> {
        HeaderValue::from_str(&hex::encode(random::bytes::<16>()))
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
}
