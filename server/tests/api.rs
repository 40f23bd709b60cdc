//! The real `sealdesk` binary on an ephemeral port with a temporary data directory, driven
//! over HTTP: success and failure paths of the directory, invite and ticket routes.

// Test and tool code: a failed expectation stops the run, so it may unwrap, expect and
// panic (the workspace denies these in library code: Cargo.toml, clippy.toml).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use reqwest::StatusCode;
use reqwest::blocking::Client;
use sealdesk_crypto::{
    Chain, ChainState, Directory, DirectoryEntry, Identity, IdentitySeed, Kind, Message, Placement,
    WrappedKey, system_rng,
};
use serde_json::{Value, json};

// Here `error_code` gives the status as a `StatusCode`, as these tests compare it.
use common::error_status as error_code;
use common::{Desk, Server, Ticket, b64, unb64};

/// A server whose first administrator redeemed the command-line invite.
fn desk() -> Desk {
    let desk = Desk::start();
    // The same invite never works twice.
    let invite = desk.server.invite.clone().expect("invite");
    let again = desk
        .http
        .post(desk.server.url("/api/v1/invites/redeem-genesis"))
        .json(&json!({"invite": invite, "entry": b64(&desk.genesis().to_bytes())}))
        .send()
        .expect("redeem again");
    assert_eq!(error_code(again).0, StatusCode::CONFLICT);
    desk
}

/// An anonymous ticket's parts, as the reporter's browser makes them, and its creation body.
fn new_ticket(desk: &Desk) -> (Ticket, Value) {
    Ticket::draft(desk, br#"{"text":"help"}"#)
}

fn create(desk: &Desk, body: &Value) -> reqwest::blocking::Response {
    desk.post("/api/v1/tickets", body, None)
}

fn post(
    desk: &Desk,
    ticket: &Ticket,
    message: &Message,
    token: Option<&str>,
) -> reqwest::blocking::Response {
    ticket.send(desk, &message.to_bytes(), token)
}

fn next_placement(ticket: &Ticket, desk: &Desk, kind: Kind) -> Placement {
    ticket.placement(kind, desk.directory.head_seq())
}

#[test]
fn health_headers_and_empty_directory() {
    let server = Server::start(&[]);
    let http = Client::new();
    let health = http.get(server.url("/healthz")).send().expect("healthz");
    assert_eq!(health.status(), StatusCode::OK);
    let csp = health.headers()["content-security-policy"]
        .to_str()
        .expect("ascii");
    assert!(csp.contains("'wasm-unsafe-eval'") && csp.contains("frame-ancestors 'none'"));
    assert!(!csp.contains("unsafe-inline"));
    // No page submits a form natively: that would send what was typed unencrypted.
    assert!(csp.contains("form-action 'none'"));
    assert_eq!(health.headers()["referrer-policy"], "no-referrer");
    assert_eq!(health.headers()["x-content-type-options"], "nosniff");
    let directory: Value = http
        .get(server.url("/api/v1/directory"))
        .send()
        .expect("get")
        .json()
        .expect("json");
    assert_eq!(directory, json!({"entries": [], "head": null}));
}

#[test]
fn tickets_need_an_administrator() {
    let server = Server::start(&[]);
    let http = Client::new();
    let fake = Desk {
        admin: Identity::from_seed(&IdentitySeed::from_bytes([7; 32])),
        directory: Directory::verify(&[DirectoryEntry::genesis(&Identity::from_seed(
            &IdentitySeed::from_bytes([7; 32]),
        ))])
        .expect("dir"),
        server,
        http,
    };
    let (_, body) = new_ticket(&fake);
    assert_eq!(
        error_code(create(&fake, &body)),
        (StatusCode::CONFLICT, "no_administrators".into())
    );
}

#[test]
fn genesis_invite_failures() {
    let server = Server::start(&[]);
    let http = Client::new();
    let admin = Identity::from_seed(&IdentitySeed::from_bytes([9; 32]));
    let genesis = b64(&DirectoryEntry::genesis(&admin).to_bytes());
    let wrong = b64(&[1u8; 32]);
    let response = http
        .post(server.url("/api/v1/invites/redeem-genesis"))
        .json(&json!({"invite": wrong, "entry": genesis}))
        .send()
        .expect("redeem");
    assert_eq!(
        error_code(response),
        (StatusCode::FORBIDDEN, "invalid_invite".into())
    );
    // A genesis entry whose signature is altered is refused, and the invite is not spent
    // by a malformed request.
    let mut bad = DirectoryEntry::genesis(&admin).to_bytes();
    bad[201] ^= 1;
    let invite = server.invite.clone().expect("invite");
    let response = http
        .post(server.url("/api/v1/invites/redeem-genesis"))
        .json(&json!({"invite": "not base64!", "entry": b64(&bad)}))
        .send()
        .expect("redeem");
    assert_eq!(error_code(response).0, StatusCode::BAD_REQUEST);
    let response = http
        .post(server.url("/api/v1/invites/redeem-genesis"))
        .json(&json!({"invite": invite, "entry": b64(&bad)}))
        .send()
        .expect("redeem");
    assert_eq!(
        error_code(response),
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            "directory.bad_signature".into()
        )
    );
    let directory: Value = http
        .get(server.url("/api/v1/directory"))
        .send()
        .expect("get")
        .json()
        .expect("json");
    assert_eq!(directory["head"], Value::Null, "nothing was stored");
}

#[test]
fn anonymous_ticket_round_trip_and_admin_reply() {
    let desk = desk();
    let (mut ticket, body) = new_ticket(&desk);
    let response = create(&desk, &body);
    assert_eq!(response.status(), StatusCode::CREATED);
    let created: Value = response.json().expect("json");
    let id = ticket.secret.ticket_id().to_hex();
    assert_eq!(created["ticket_id"], id);
    // Creating the same ticket again is a conflict and changes nothing.
    assert_eq!(error_code(create(&desk, &body)).0, StatusCode::CONFLICT);

    // The administrator replies; its signature authorises the post.
    let mut rng = system_rng();
    let reply = Message::seal(
        &desk.admin,
        next_placement(&ticket, &desk, Kind::Message),
        &ticket.key,
        br#"{"text":"on it"}"#,
        &mut rng,
    )
    .expect("seal");
    let response = post(&desk, &ticket, &reply, None);
    assert_eq!(response.status(), StatusCode::CREATED);
    ticket
        .state
        .push(&reply, &ticket.members, &desk.directory)
        .expect("valid");

    // The reporter reads both messages with its token, verifies the transcript, unwraps its
    // key and decrypts.
    let read: Value = desk
        .http
        .get(desk.server.url(&format!("/api/v1/tickets/{id}/messages")))
        .bearer_auth(&ticket.token)
        .send()
        .expect("read")
        .json()
        .expect("json");
    let encoded: Vec<Vec<u8>> = read["messages"]
        .as_array()
        .expect("messages")
        .iter()
        .map(|m| unb64(&m["message"]))
        .collect();
    assert_eq!(encoded.len(), 2);
    let verified = ChainState::verify_encoded(
        ticket.secret.ticket_id(),
        Chain::Conversation,
        &encoded,
        &ticket.members,
        &desk.directory,
    )
    .expect("transcript verifies");
    assert_eq!(verified, ticket.state);
    let wraps: Value = desk
        .http
        .get(desk.server.url(&format!(
            "/api/v1/tickets/{id}/wraps?chain=0&recipient={}",
            b64(&ticket.reporter.key_id().0)
        )))
        .bearer_auth(&ticket.token)
        .send()
        .expect("wraps")
        .json()
        .expect("json");
    let wrap = WrappedKey::from_bytes(&unb64(&wraps["wraps"][0])).expect("wrap");
    wrap.verify(&ticket.members, &desk.directory, &verified)
        .expect("wrap verifies");
    let key = wrap.open(&ticket.reporter).expect("unwrap");
    let reply_read = Message::from_bytes(&encoded[1]).expect("decode");
    assert_eq!(
        &reply_read.open(&key).expect("open")[..],
        br#"{"text":"on it"}"#
    );

    // The reporter closes, then writes again: the ticket reopens.
    for (kind, status) in [(Kind::Close, "closed"), (Kind::Message, "open")] {
        let message = Message::seal(
            &ticket.reporter,
            next_placement(&ticket, &desk, kind),
            &ticket.key,
            b"{}",
            &mut rng,
        )
        .expect("seal");
        assert_eq!(
            post(&desk, &ticket, &message, Some(&ticket.token)).status(),
            StatusCode::CREATED
        );
        ticket
            .state
            .push(&message, &ticket.members, &desk.directory)
            .expect("valid");
        let meta: Value = desk
            .http
            .get(desk.server.url(&format!("/api/v1/tickets/{id}")))
            .bearer_auth(&ticket.token)
            .send()
            .expect("meta")
            .json()
            .expect("json");
        assert_eq!(meta["status"], status);
    }
}

#[test]
fn ticket_failure_paths_change_nothing() {
    let desk = desk();
    let (ticket, body) = new_ticket(&desk);
    let id = ticket.secret.ticket_id().to_hex();

    // Wraps that leave out the administrator are refused.
    let mut incomplete = body.clone();
    incomplete["wraps"] = json!([body["wraps"][0].clone()]);
    assert_eq!(
        error_code(create(&desk, &incomplete)),
        (StatusCode::UNPROCESSABLE_ENTITY, "wraps_incomplete".into())
    );
    // A first message with an altered ciphertext fails its signature.
    let mut altered = body.clone();
    let mut bytes = unb64(&body["message"]);
    bytes[200] ^= 1;
    altered["message"] = json!(b64(&bytes));
    assert_eq!(
        error_code(create(&desk, &altered)),
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            "transcript.bad_signature".into()
        )
    );
    // Malformed fields.
    let mut garbage = body.clone();
    garbage["reporter"] = json!("!!");
    assert_eq!(
        error_code(create(&desk, &garbage)),
        (StatusCode::BAD_REQUEST, "bad_encoding".into())
    );
    let mut short = body.clone();
    short["access_token_hash"] = json!(b64(&[0; 31]));
    assert_eq!(
        error_code(create(&desk, &short)),
        (StatusCode::BAD_REQUEST, "bad_length".into())
    );
    let mut email = body.clone();
    email["notify_email"] = json!("not an address");
    assert_eq!(
        error_code(create(&desk, &email)),
        (StatusCode::BAD_REQUEST, "bad_email".into())
    );
    // None of that created the ticket.
    let read = desk
        .http
        .get(desk.server.url(&format!("/api/v1/tickets/{id}")))
        .bearer_auth(&ticket.token)
        .send()
        .expect("read");
    assert_eq!(read.status(), StatusCode::NOT_FOUND);

    assert_eq!(create(&desk, &body).status(), StatusCode::CREATED);
    let mut rng = system_rng();
    // A wrong token reads nothing (404, as for an unknown ticket).
    let wrong = b64(&[3u8; 32]);
    let read = desk
        .http
        .get(desk.server.url(&format!("/api/v1/tickets/{id}/messages")))
        .bearer_auth(&wrong)
        .send()
        .expect("read");
    assert_eq!(
        error_code(read),
        (StatusCode::NOT_FOUND, "not_found".into())
    );
    // A reporter post without the token is unauthorised.
    let message = Message::seal(
        &ticket.reporter,
        next_placement(&ticket, &desk, Kind::Message),
        &ticket.key,
        b"{}",
        &mut rng,
    )
    .expect("seal");
    assert_eq!(
        error_code(post(&desk, &ticket, &message, None)),
        (StatusCode::UNAUTHORIZED, "unauthorized".into())
    );
    // A message at an old position is a conflict; one past the next position is rejected.
    let mut stale = next_placement(&ticket, &desk, Kind::Message);
    stale.seq = 1;
    let stale = Message::seal(&ticket.reporter, stale, &ticket.key, b"{}", &mut rng).expect("seal");
    assert_eq!(
        error_code(post(&desk, &ticket, &stale, Some(&ticket.token))).0,
        StatusCode::CONFLICT
    );
    let mut gap = next_placement(&ticket, &desk, Kind::Message);
    gap.seq += 1;
    let gap = Message::seal(&ticket.reporter, gap, &ticket.key, b"{}", &mut rng).expect("seal");
    assert_eq!(
        error_code(post(&desk, &ticket, &gap, Some(&ticket.token))),
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            "transcript.unexpected_seq".into()
        )
    );
    // A message signed by someone who is not a member.
    let outsider = Identity::from_seed(&IdentitySeed::from_bytes([42; 32]));
    let injected = Message::seal(
        &outsider,
        next_placement(&ticket, &desk, Kind::Message),
        &ticket.key,
        b"{}",
        &mut rng,
    )
    .expect("seal");
    assert_eq!(
        error_code(post(&desk, &ticket, &injected, Some(&ticket.token))),
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            "transcript.not_a_member".into()
        )
    );
    // An internal note on the conversation chain.
    let note = Message::seal(
        &desk.admin,
        next_placement(&ticket, &desk, Kind::InternalNote),
        &ticket.key,
        b"{}",
        &mut rng,
    )
    .expect("seal");
    assert_eq!(
        error_code(post(&desk, &ticket, &note, None)),
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            "transcript.kind_not_allowed".into()
        )
    );
    // Bad JSON and a wrong content type answer JSON errors too.
    let url = desk.server.url(&format!("/api/v1/tickets/{id}/messages"));
    let response = desk
        .http
        .post(&url)
        .header("content-type", "application/json")
        .body("{")
        .send()
        .expect("post");
    assert_eq!(
        error_code(response),
        (StatusCode::BAD_REQUEST, "bad_json".into())
    );
    let response = desk.http.post(&url).body("{}").send().expect("post");
    assert_eq!(
        error_code(response),
        (StatusCode::UNSUPPORTED_MEDIA_TYPE, "content_type".into())
    );
    // Still exactly one message.
    let read: Value = desk
        .http
        .get(&url)
        .bearer_auth(&ticket.token)
        .send()
        .expect("read")
        .json()
        .expect("json");
    assert_eq!(read["messages"].as_array().expect("messages").len(), 1);
}

#[test]
fn oversized_body_is_refused_with_json() {
    let desk = desk();
    // 300 KiB: under the general 2 MiB limit, over the anonymous 256 KiB one.
    let anonymous = desk
        .http
        .post(desk.server.url("/api/v1/tickets"))
        .header("content-type", "application/json")
        .body(format!("{{\"reporter\":\"{}\"}}", "A".repeat(300 << 10)))
        .send()
        .expect("post");
    assert_eq!(
        error_code(anonymous),
        (StatusCode::PAYLOAD_TOO_LARGE, "body_too_large".into())
    );
    let authenticated = desk
        .http
        .post(desk.server.url("/api/v1/directory"))
        .header("content-type", "application/json")
        .body(format!("{{\"entry\":\"{}\"}}", "A".repeat(300 << 10)))
        .send()
        .expect("post");
    assert_eq!(
        error_code(authenticated),
        (StatusCode::BAD_REQUEST, "too_large".into())
    );
    let huge = "A".repeat(3 << 20);
    let response = desk
        .http
        .post(desk.server.url("/api/v1/tickets"))
        .header("content-type", "application/json")
        .body(format!("{{\"reporter\":\"{huge}\"}}"))
        .send()
        .expect("post");
    assert_eq!(
        error_code(response),
        (StatusCode::PAYLOAD_TOO_LARGE, "body_too_large".into())
    );
}
