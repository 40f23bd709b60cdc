//! The real `sealdesk` binary with low limits set through `SEALDESK_*` variables: rate limits
//! (429 with `Retry-After`), proof of work, `/metrics`, request ids and the access log.

// Test and tool code: a failed expectation stops the run, so it may unwrap, expect and
// panic (the workspace denies these in library code: Cargo.toml, clippy.toml).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use base64ct::{Base64UrlUnpadded, Encoding};
use reqwest::StatusCode;
use reqwest::blocking::Response;
use sealdesk_crypto::{Identity, Kind, Message};
use sealdesk_wire::pow::is_solution;
use serde_json::{Value, json};

// Here `error_code` gives the status as a `StatusCode`, as these tests compare it.
use common::error_status as error_code;
use common::{Desk, Server, Ticket, b64};

/// Asserts a `429 rate_limited` answer with a `Retry-After` of at least one second.
fn assert_rate_limited(response: Response) -> u64 {
    let retry_after: u64 = response
        .headers()
        .get("retry-after")
        .expect("Retry-After header")
        .to_str()
        .expect("ascii")
        .parse()
        .expect("seconds");
    assert!(retry_after >= 1);
    assert_eq!(
        error_code(response),
        (StatusCode::TOO_MANY_REQUESTS, "rate_limited".into())
    );
    retry_after
}

/// A server (with `env`) whose first administrator redeemed the command-line invite; its
/// standard error, at the `info` level in text, is kept for [`Server::stop`].
fn desk(env: &[(&str, &str)]) -> Desk {
    Desk::with(
        Server::options()
            .log_to_file()
            .env("SEALDESK_LOG_LEVEL", "info")
            .env("SEALDESK_LOG_FORMAT", "text")
            .envs(env),
    )
}

/// An anonymous ticket's parts, as the reporter's browser makes them, and its creation body.
fn new_ticket(desk: &Desk) -> (Ticket, Value) {
    Ticket::draft(desk, br#"{"text":"help"}"#)
}

fn create(desk: &Desk, body: &Value, forwarded_for: Option<&str>) -> Response {
    let mut request = desk
        .http
        .post(desk.server.url("/api/v1/tickets"))
        .json(body);
    if let Some(address) = forwarded_for {
        request = request.header("x-forwarded-for", address);
    }
    request.send().expect("create")
}

fn post_bytes(desk: &Desk, ticket: &Ticket, message: &[u8], token: Option<&str>) -> Response {
    ticket.send(desk, message, token)
}

/// Seals the next conversation message from `sender` (not yet accepted: `ticket.state` is
/// advanced with [`accepted`]).
fn next_message(desk: &Desk, ticket: &Ticket, sender: &Identity) -> Message {
    ticket.seal(sender, Kind::Message, desk.directory.head_seq())
}

fn accepted(desk: &Desk, ticket: &mut Ticket, message: &Message) {
    ticket.accept(desk, message);
}

#[test]
fn anonymous_creation_is_limited_per_client_address() {
    let desk = desk(&[("SEALDESK_ANONYMOUS_TICKETS_PER_HOUR", "3")]);
    // Without trusted_proxies, X-Forwarded-For changes nothing: every request comes
    // from 127.0.0.1.
    for n in 0..3 {
        let (_, body) = new_ticket(&desk);
        let forwarded = format!("198.51.100.{n}");
        let response = create(&desk, &body, Some(&forwarded));
        assert_eq!(response.status(), StatusCode::CREATED, "creation {n}");
    }
    let (_, body) = new_ticket(&desk);
    let retry_after = assert_rate_limited(create(&desk, &body, Some("198.51.100.9")));
    // Three per hour: one comes back every 20 minutes.
    assert!(retry_after <= 20 * 60, "{retry_after}");
    // Refused before the body is read: even an invalid body gets 429.
    let response = desk
        .http
        .post(desk.server.url("/api/v1/tickets"))
        .header("content-type", "application/json")
        .body("{")
        .send()
        .expect("post");
    assert_rate_limited(response);
    // Other routes are not affected.
    let directory = desk
        .http
        .get(desk.server.url("/api/v1/directory"))
        .send()
        .expect("get");
    assert_eq!(directory.status(), StatusCode::OK);
}

#[test]
fn forwarded_for_decides_the_address_from_trusted_proxies() {
    let desk = desk(&[
        ("SEALDESK_ANONYMOUS_TICKETS_PER_HOUR", "1"),
        ("SEALDESK_TRUSTED_PROXIES", "127.0.0.1, 10.0.0.0/8"),
    ]);
    // The right-most address that is not a trusted proxy is the client; what the client
    // wrote left of it (a fresh address at every request) changes nothing.
    let (_, body) = new_ticket(&desk);
    let response = create(&desk, &body, Some("198.51.100.1, 203.0.113.1, 10.0.0.1"));
    assert_eq!(response.status(), StatusCode::CREATED);
    let (_, body) = new_ticket(&desk);
    assert_rate_limited(create(&desk, &body, Some("198.51.100.2, 203.0.113.1")));
    let response = create(&desk, &body, Some("203.0.113.2"));
    assert_eq!(response.status(), StatusCode::CREATED);
    // IPv6 clients are counted per /64.
    let (_, body) = new_ticket(&desk);
    let response = create(&desk, &body, Some("2001:db8:1:2::1"));
    assert_eq!(response.status(), StatusCode::CREATED);
    let (_, body) = new_ticket(&desk);
    assert_rate_limited(create(&desk, &body, Some("2001:db8:1:2:ffff::7")));
}

#[test]
fn posts_are_limited_per_token_and_per_sender_key() {
    let desk = desk(&[("SEALDESK_POSTS_PER_MINUTE", "2")]);
    let (mut ticket, body) = new_ticket(&desk);
    assert_eq!(create(&desk, &body, None).status(), StatusCode::CREATED);

    // The reporter (keyed by its access token) posts twice, then is refused.
    for _ in 0..2 {
        let message = next_message(&desk, &ticket, &ticket.reporter);
        let response = post_bytes(&desk, &ticket, &message.to_bytes(), Some(&ticket.token));
        assert_eq!(response.status(), StatusCode::CREATED);
        accepted(&desk, &mut ticket, &message);
    }
    let message = next_message(&desk, &ticket, &ticket.reporter);
    assert_rate_limited(post_bytes(
        &desk,
        &ticket,
        &message.to_bytes(),
        Some(&ticket.token),
    ));

    // Forged messages naming the administrator fail verification and spend nothing of the
    // administrator's allowance.
    let message = next_message(&desk, &ticket, &desk.admin);
    let mut forged = message.to_bytes();
    let last = forged.len() - 1;
    forged[last] ^= 1;
    for _ in 0..3 {
        assert_eq!(
            error_code(post_bytes(&desk, &ticket, &forged, None)),
            (
                StatusCode::UNPROCESSABLE_ENTITY,
                "transcript.bad_signature".into()
            )
        );
    }
    // The administrator (keyed by its sender key) has its own two posts.
    let response = post_bytes(&desk, &ticket, &message.to_bytes(), None);
    assert_eq!(response.status(), StatusCode::CREATED);
    accepted(&desk, &mut ticket, &message);
    let message = next_message(&desk, &ticket, &desk.admin);
    let response = post_bytes(&desk, &ticket, &message.to_bytes(), None);
    assert_eq!(response.status(), StatusCode::CREATED);
    accepted(&desk, &mut ticket, &message);
    let message = next_message(&desk, &ticket, &desk.admin);
    let retry_after = assert_rate_limited(post_bytes(&desk, &ticket, &message.to_bytes(), None));
    // Two per minute: one comes back every 30 seconds.
    assert!(retry_after <= 30, "{retry_after}");
    // The refused post was not stored.
    let read: Value = desk
        .http
        .get(desk.server.url(&format!(
            "/api/v1/tickets/{}/messages",
            ticket.secret.ticket_id().to_hex()
        )))
        .bearer_auth(&ticket.token)
        .send()
        .expect("read")
        .json()
        .expect("json");
    assert_eq!(read["messages"].as_array().expect("messages").len(), 5);
}

/// Gets a challenge; returns it (base64url) with a solving and a non-solving nonce.
fn challenge(desk: &Desk) -> (String, u64, u64) {
    let answer: Value = desk
        .http
        .get(desk.server.url("/api/v1/pow/challenge"))
        .send()
        .expect("challenge")
        .json()
        .expect("json");
    assert_eq!(answer["bits"], 8);
    let expires_at = answer["expires_at"].as_u64().expect("expires_at");
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("time")
        .as_secs();
    assert!((now + 590..=now + 610).contains(&expires_at), "{answer}");
    let text = answer["challenge"].as_str().expect("challenge").to_owned();
    let bytes: [u8; 32] = Base64UrlUnpadded::decode_vec(&text)
        .expect("base64url")
        .try_into()
        .expect("32 bytes");
    // The client's function, whose unit tests check it against spec/API.md's vectors.
    let solves = |nonce: &u64| is_solution(&bytes, *nonce, 8);
    let good = (0..).find(solves).expect("a solution");
    let bad = (0..).find(|n| !solves(n)).expect("a non-solution");
    (text, good, bad)
}

#[test]
fn proof_of_work_is_required_single_use_and_checked() {
    let desk = desk(&[("SEALDESK_PROOF_OF_WORK_BITS", "8")]);
    let (_, body) = new_ticket(&desk);
    assert_eq!(
        error_code(create(&desk, &body, None)),
        (StatusCode::BAD_REQUEST, "pow_required".into())
    );

    let (text, good, _) = challenge(&desk);
    let mut solved = body.clone();
    solved["pow"] = json!({"challenge": text, "nonce": good});
    assert_eq!(create(&desk, &solved, None).status(), StatusCode::CREATED);

    // The same challenge again, with another ticket.
    let (_, other) = new_ticket(&desk);
    let mut reused = other.clone();
    reused["pow"] = json!({"challenge": text, "nonce": good});
    assert_eq!(
        error_code(create(&desk, &reused, None)),
        (StatusCode::FORBIDDEN, "pow_invalid".into())
    );

    // A wrong nonce; it spends the challenge, so the right one fails afterwards.
    let (text, good, bad) = challenge(&desk);
    let mut wrong = other.clone();
    wrong["pow"] = json!({"challenge": text, "nonce": bad});
    assert_eq!(
        error_code(create(&desk, &wrong, None)),
        (StatusCode::FORBIDDEN, "pow_invalid".into())
    );
    wrong["pow"]["nonce"] = json!(good);
    assert_eq!(
        error_code(create(&desk, &wrong, None)),
        (StatusCode::FORBIDDEN, "pow_invalid".into())
    );
    // A challenge the server never issued.
    let mut unknown = other.clone();
    unknown["pow"] = json!({"challenge": b64(&[1; 32]), "nonce": 0});
    assert_eq!(
        error_code(create(&desk, &unknown, None)),
        (StatusCode::FORBIDDEN, "pow_invalid".into())
    );
    // A fresh, solved challenge works.
    let (text, good, _) = challenge(&desk);
    let mut fresh = other;
    fresh["pow"] = json!({"challenge": text, "nonce": good});
    assert_eq!(create(&desk, &fresh, None).status(), StatusCode::CREATED);
}

#[test]
fn metrics_request_ids_and_access_log() {
    let desk = desk(&[]);
    let (ticket, body) = new_ticket(&desk);
    let id = ticket.secret.ticket_id().to_hex();
    let response = create(&desk, &body, None);
    assert_eq!(response.status(), StatusCode::CREATED);
    let created_id = response.headers()["x-request-id"]
        .to_str()
        .expect("ascii")
        .to_owned();
    assert_eq!(created_id.len(), 32, "{created_id}");
    assert!(created_id.bytes().all(|b| b.is_ascii_hexdigit()));

    // Reads whose paths and queries carry the ticket id and a key id.
    let recipient = b64(&ticket.reporter.key_id().0);
    let mut ids = vec![created_id];
    for path in [
        format!("/api/v1/tickets/{id}"),
        format!("/api/v1/tickets/{id}/messages?chain=0&after=0"),
        format!("/api/v1/tickets/{id}/wraps?chain=0&recipient={recipient}"),
    ] {
        let response = desk
            .http
            .get(desk.server.url(&path))
            .bearer_auth(&ticket.token)
            .send()
            .expect("get");
        assert_eq!(response.status(), StatusCode::OK, "{path}");
        ids.push(
            response.headers()["x-request-id"]
                .to_str()
                .expect("ascii")
                .to_owned(),
        );
    }
    // Errors and unmatched paths carry a request id too.
    let wrong = desk
        .http
        .get(desk.server.url(&format!("/api/v1/tickets/{id}")))
        .bearer_auth(b64(&[3; 32]))
        .send()
        .expect("get");
    assert_eq!(wrong.status(), StatusCode::NOT_FOUND);
    ids.push(
        wrong.headers()["x-request-id"]
            .to_str()
            .expect("ascii")
            .to_owned(),
    );
    let unmatched = desk
        .http
        .get(desk.server.url(&format!("/no/such/{id}")))
        .send()
        .expect("get");
    assert_eq!(unmatched.status(), StatusCode::NOT_FOUND);
    ids.push(
        unmatched.headers()["x-request-id"]
            .to_str()
            .expect("ascii")
            .to_owned(),
    );
    let mut unique = ids.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), ids.len(), "request ids are distinct: {ids:?}");

    // A client's acceptable request id is kept; anything else is replaced.
    let kept = desk
        .http
        .get(desk.server.url("/healthz"))
        .header("x-request-id", "trace-42.a_b")
        .send()
        .expect("get");
    assert_eq!(kept.headers()["x-request-id"], "trace-42.a_b");
    let replaced = desk
        .http
        .get(desk.server.url("/healthz"))
        .header("x-request-id", "forged id\" status=500")
        .send()
        .expect("get");
    let replaced = replaced.headers()["x-request-id"].to_str().expect("ascii");
    assert_eq!(replaced.len(), 32, "{replaced}");

    // The proof-of-work challenge says when proof of work is off.
    let pow: Value = desk
        .http
        .get(desk.server.url("/api/v1/pow/challenge"))
        .send()
        .expect("challenge")
        .json()
        .expect("json");
    assert_eq!(
        pow,
        json!({"challenge": null, "bits": 0, "expires_at": null})
    );

    let response = desk
        .http
        .get(desk.server.url("/metrics"))
        .send()
        .expect("metrics");
    assert_eq!(response.status(), StatusCode::OK);
    assert!(response.headers().contains_key("x-request-id"));
    assert!(
        response.headers()["content-type"]
            .to_str()
            .expect("ascii")
            .starts_with("text/plain; version=0.0.4"),
    );
    let metrics = response.text().expect("text");
    for line in [
        "# TYPE sealdesk_http_requests_total counter",
        "sealdesk_http_requests_total{route=\"/api/v1/tickets\",method=\"POST\",status=\"2xx\"} 1",
        "sealdesk_http_requests_total{route=\"/api/v1/tickets/{id}\",method=\"GET\",status=\"2xx\"} 1",
        "sealdesk_http_requests_total{route=\"/api/v1/tickets/{id}\",method=\"GET\",status=\"4xx\"} 1",
        "sealdesk_http_requests_total{route=\"/api/v1/tickets/{id}/messages\",method=\"GET\",status=\"2xx\"} 1",
        "sealdesk_http_requests_total{route=\"/api/v1/tickets/{id}/wraps\",method=\"GET\",status=\"2xx\"} 1",
        "sealdesk_http_requests_total{route=\"/healthz\",method=\"GET\",status=\"2xx\"} 2",
        "sealdesk_http_requests_total{route=\"unmatched\",method=\"GET\",status=\"4xx\"} 1",
        "# TYPE sealdesk_http_request_duration_seconds histogram",
        "sealdesk_http_request_duration_seconds_count{route=\"/api/v1/tickets\",method=\"POST\"} 1",
        "sealdesk_tickets_created_total 1",
        "sealdesk_messages_posted_total 0",
        "sealdesk_rate_limited_total{limit=\"anonymous_tickets\"} 0",
    ] {
        assert!(
            metrics.lines().any(|l| l == line),
            "{line} missing from\n{metrics}"
        );
    }
    assert!(
        metrics
            .lines()
            .any(|l| l.starts_with("sealdesk_http_request_duration_seconds_bucket{route=\"/api/v1/tickets\",method=\"POST\",le=\"+Inf\"} 1")),
        "{metrics}"
    );
    assert!(
        metrics
            .lines()
            .any(|l| l.starts_with("sealdesk_storage_bytes ")),
        "{metrics}"
    );
    assert!(
        metrics
            .lines()
            .any(|l| l.starts_with("sealdesk_storage_flushes_total ") && !l.ends_with(" 0")),
        "{metrics}"
    );
    assert!(!metrics.contains(&id), "no ticket id in metrics");
    assert!(!metrics.contains(&recipient), "no key id in metrics");

    let token = ticket.token.clone();
    let fragment = ticket.secret.to_fragment();
    let log = desk.server.stop();
    assert!(
        log.contains("route=\"/api/v1/tickets/{id}/messages\""),
        "{log}"
    );
    assert!(log.contains("route=\"/api/v1/tickets\""), "{log}");
    assert!(log.contains("status=201"), "{log}");
    assert!(log.contains("latency_ms="), "{log}");
    assert!(log.contains(&ids[1]), "the log carries request ids: {log}");
    assert!(!log.contains(&token), "the bearer token leaked: {log}");
    assert!(!log.contains(&fragment), "the ticket secret leaked: {log}");
    assert!(
        !log.contains(&recipient),
        "a key id from a query leaked: {log}"
    );
    assert!(!log.contains("chain=0"), "a query leaked: {log}");
    assert!(!log.contains("forged id"), "{log}");
    assert!(!log.to_ascii_lowercase().contains("authorization"), "{log}");
}

#[test]
fn access_lines_can_be_filtered_out() {
    let desk = desk(&[("SEALDESK_LOG_LEVEL", "info,sealdesk::access=warn")]);
    let response = desk
        .http
        .get(desk.server.url("/healthz"))
        .send()
        .expect("healthz");
    assert_eq!(response.status(), StatusCode::OK);
    let log = desk.server.stop();
    assert!(!log.contains("answered"), "{log}");
    // The request's other events keep its span.
    assert!(
        log.lines()
            .any(|l| l.contains("first administrator created")
                && l.contains("route=\"/api/v1/invites/redeem-genesis\"")
                && l.contains("request_id=")),
        "{log}"
    );
}
