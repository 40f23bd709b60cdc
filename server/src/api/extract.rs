//! Extractors whose rejections are [`ApiError`]s, so that malformed JSON, an oversized body or
//! a bad query answer with the API's JSON error body like every other client error; and the
//! request's credentials and client address.

use std::convert::Infallible;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{ConnectInfo, FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode, header};
use sealdesk_crypto::AccessToken;
use sealdesk_wire::errors::describe_deserialize_error;
use serde::de::DeserializeOwned;

use crate::error::ApiError;
use crate::services::rate_limits::{ClientAddr, RateLimits, TrustedProxies};
use crate::state::AppState;

/// A JSON body (`Content-Type: application/json`).
pub struct Json<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for Json<T> {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, ApiError> {
        match axum::Json::<T>::from_request(request, state).await {
            Ok(axum::Json(value)) => Ok(Json(value)),
            Err(rejection) => Err(json_rejection(&rejection)),
        }
    }
}

impl<T: serde::Serialize> axum::response::IntoResponse for Json<T> {
    fn into_response(self) -> axum::response::Response {
        axum::Json(self.0).into_response()
    }
}

fn json_rejection(rejection: &JsonRejection) -> ApiError {
    match rejection {
        JsonRejection::MissingJsonContentType(_) => ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "content_type",
            "Send the body as application/json.",
        ),
        JsonRejection::BytesRejection(_) if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE => {
            ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "body_too_large",
                "The request body is larger than this route accepts.",
            )
        }
        JsonRejection::JsonDataError(error) => ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "bad_json",
            // Only the field and the expected type: serde's own text quotes the value sent.
            format!(
                "The JSON body does not have the expected fields: {}.",
                describe_deserialize_error(&error.body_text())
            ),
        ),
        _ => ApiError::bad_request("bad_json", "The body is not valid JSON."),
    }
}

/// A query string.
pub struct Query<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for Query<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        match axum::extract::Query::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Query(value)) => Ok(Query(value)),
            Err(QueryRejection::FailedToDeserializeQueryString(error)) => {
                Err(ApiError::bad_request(
                    "bad_query",
                    format!(
                        "The query string is not valid: {}.",
                        describe_deserialize_error(&error.body_text())
                    ),
                ))
            }
            Err(_) => Err(ApiError::bad_request(
                "bad_query",
                "The query string is not valid.",
            )),
        }
    }
}

/// The `Authorization: Bearer <token>` header's token, if it is well formed: an access token
/// or a session token (32 bytes, base64url), which the domain modules tell apart. Extracting
/// it never fails.
pub struct Bearer(pub Option<AccessToken>);

impl Bearer {
    /// The token, if any.
    pub fn token(&self) -> Option<&AccessToken> {
        self.0.as_ref()
    }
}

/// The bearer token of `headers`, if it is well formed.
fn bearer(headers: &HeaderMap) -> Option<AccessToken> {
    headers
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.strip_prefix("Bearer "))
        .and_then(|token| AccessToken::from_base64url(token.trim()).ok())
}

impl<S: Send + Sync> FromRequestParts<S> for Bearer {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Infallible> {
        Ok(Bearer(bearer(&parts.headers)))
    }
}

impl ClientAddr {
    /// The address from a request's parts: the TCP peer, or when the peer is one of
    /// `trusted_proxies`, the right-most `X-Forwarded-For` address that is not (the entries
    /// left of it were written by the client and prove nothing). If every entry is a trusted
    /// proxy, the left-most one; if the header is missing or an entry does not parse, the
    /// peer (or the last proxy named before the bad entry).
    pub fn from_parts(parts: &Parts, trusted_proxies: &TrustedProxies) -> Self {
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map_or(IpAddr::from([0, 0, 0, 0]), |info| info.0.ip());
        if trusted_proxies.is_empty() || !trusted_proxies.contains(peer) {
            return ClientAddr(peer);
        }
        let mut client = peer;
        // Every X-Forwarded-For header, in order, as one list (RFC 9110 §5.3).
        let entries: Vec<&str> = parts
            .headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|value| value.to_str().ok())
            .flat_map(|value| value.split(','))
            .collect();
        for entry in entries.iter().rev() {
            let Some(address) = forwarded_address(entry.trim()) else {
                break;
            };
            client = address;
            if !trusted_proxies.contains(address) {
                break;
            }
        }
        ClientAddr(client)
    }
}

/// One `X-Forwarded-For` entry: `a.b.c.d`, `a.b.c.d:port`, an IPv6 address or `[v6]:port`.
fn forwarded_address(entry: &str) -> Option<IpAddr> {
    entry
        .parse::<IpAddr>()
        .ok()
        .or_else(|| entry.parse::<SocketAddr>().ok().map(|s| s.ip()))
}

impl FromRequestParts<Arc<AppState>> for ClientAddr {
    type Rejection = Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &Arc<AppState>,
    ) -> Result<Self, Infallible> {
        Ok(ClientAddr::from_parts(parts, &state.limits.trusted_proxies))
    }
}

/// An extractor that spends one anonymous ticket creation of the client's address before the
/// body is read: a client over its limit is answered `429 rate_limited` at once. Every request
/// to the route counts, whatever its outcome.
pub struct AnonymousTicketAllowance;

impl FromRequestParts<Arc<AppState>> for AnonymousTicketAllowance {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &Arc<AppState>,
    ) -> Result<Self, ApiError> {
        let client = ClientAddr::from_parts(parts, &state.limits.trusted_proxies);
        state.rate_limits.anonymous_ticket(client)?;
        Ok(AnonymousTicketAllowance)
    }
}

/// Spends one of a per-address limit (`spend`, a [`RateLimits`] method) for the request's
/// client address, before the body is read: the shared body of the allowances below.
///
/// # Errors
/// `429 rate_limited` with `Retry-After`.
fn spend_per_address(
    parts: &Parts,
    state: &AppState,
    spend: fn(&RateLimits, ClientAddr) -> Result<(), ApiError>,
) -> Result<(), ApiError> {
    spend(
        &state.rate_limits,
        ClientAddr::from_parts(parts, &state.limits.trusted_proxies),
    )
}

/// Spends one pre-login or login of the client address (`sign_ins_per_minute_per_address`)
/// before the body is read.
pub struct SignInAllowance;

impl FromRequestParts<Arc<AppState>> for SignInAllowance {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &Arc<AppState>,
    ) -> Result<Self, ApiError> {
        spend_per_address(parts, state, RateLimits::sign_in)?;
        Ok(SignInAllowance)
    }
}

/// Spends one registration of the client address (`registrations_per_hour_per_address`)
/// before the body is read.
pub struct RegistrationAllowance;

impl FromRequestParts<Arc<AppState>> for RegistrationAllowance {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &Arc<AppState>,
    ) -> Result<Self, ApiError> {
        spend_per_address(parts, state, RateLimits::registration)?;
        Ok(RegistrationAllowance)
    }
}

/// Spends one account ticket creation of the client address
/// (`account_tickets_per_hour_per_address`) before the body is read.
pub struct AccountTicketAllowance;

impl FromRequestParts<Arc<AppState>> for AccountTicketAllowance {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &Arc<AppState>,
    ) -> Result<Self, ApiError> {
        spend_per_address(parts, state, RateLimits::account_ticket)?;
        Ok(AccountTicketAllowance)
    }
}

/// Middleware of every API route: spends one request of the client address
/// (`requests_per_minute_per_address`), answering `429 rate_limited` over it.
pub async fn limit_requests(
    axum::extract::State(state): axum::extract::State<Arc<AppState>>,
    client: ClientAddr,
    request: Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    match state.rate_limits.request(client) {
        Ok(()) => next.run(request).await,
        Err(error) => error.into_response(),
    }
}

/// A raw chunk body (`Content-Type: application/octet-stream`), at most [`CHUNK_BODY_LIMIT`]
/// bytes (the route's body limit).
pub struct OctetStream(pub Bytes);

impl<S: Send + Sync> FromRequest<S> for OctetStream {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, ApiError> {
        let octet_stream = request
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.split(';').next())
            .is_some_and(|media| {
                media
                    .trim()
                    .eq_ignore_ascii_case("application/octet-stream")
            });
        if !octet_stream {
            return Err(ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "content_type",
                "Send the chunk as application/octet-stream.",
            ));
        }
        match Bytes::from_request(request, state).await {
            Ok(bytes) => Ok(OctetStream(bytes)),
            Err(rejection) if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                Err(ApiError::new(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    "body_too_large",
                    "The request body is larger than this route accepts.",
                ))
            }
            Err(_) => Err(ApiError::bad_request(
                "bad_body",
                "The request body could not be read.",
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use axum::http::Request;

    use super::*;

    fn parts(peer: &str, forwarded: Option<&str>) -> Parts {
        let mut request = Request::builder().uri("/");
        if let Some(value) = forwarded {
            request = request.header("x-forwarded-for", value);
        }
        let (mut parts, ()) = request.body(()).unwrap().into_parts();
        parts
            .extensions
            .insert(ConnectInfo(peer.parse::<SocketAddr>().unwrap()));
        parts
    }

    #[test]
    fn client_address_is_the_right_most_untrusted_forwarded_for() {
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        let none = TrustedProxies::default();
        let proxies = TrustedProxies::parse("10.0.0.0/8, ::1").unwrap();
        // The client prepends a forged address; the proxy 10.0.0.2 appends the real one.
        let p = parts("10.0.0.1:5000", Some("1.2.3.4, 203.0.113.7, 10.0.0.2"));
        assert_eq!(ClientAddr::from_parts(&p, &none).0, ip("10.0.0.1"));
        assert_eq!(ClientAddr::from_parts(&p, &proxies).0, ip("203.0.113.7"));
        // A peer that is not a trusted proxy is the client, whatever it forwards.
        let p = parts("192.0.2.9:5000", Some("203.0.113.7"));
        assert_eq!(ClientAddr::from_parts(&p, &proxies).0, ip("192.0.2.9"));
        let p = parts("[::1]:5000", Some("[2001:db8::1]:443"));
        assert_eq!(ClientAddr::from_parts(&p, &proxies).0, ip("2001:db8::1"));
        // All trusted: the left-most.
        let p = parts("10.0.0.1:5000", Some("10.9.9.9, 10.0.0.2"));
        assert_eq!(ClientAddr::from_parts(&p, &proxies).0, ip("10.9.9.9"));
        // A bad entry stops the walk at the last proxy named after it.
        let p = parts("10.0.0.1:5000", Some("not an address"));
        assert_eq!(ClientAddr::from_parts(&p, &proxies).0, ip("10.0.0.1"));
        let p = parts("10.0.0.1:5000", None);
        assert_eq!(ClientAddr::from_parts(&p, &proxies).0, ip("10.0.0.1"));
    }
}
