//! Live updates (server-sent events) from the real binary: a reply reaches the reporter's open
//! stream within 2 seconds, reporters never see internal-note events, and shutdown does not
//! wait for open streams.

// Test and tool code: a failed expectation stops the run, so it may unwrap, expect and
// panic (the workspace denies these in library code: Cargo.toml, clippy.toml).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::io::{BufRead, BufReader};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use common::{Desk, Ticket, b64, error_code};
use sealdesk_crypto::{
    Chain, Kind, Message, Placement, TicketKey, WrapSlot, WrappedKey, system_rng,
};
use serde_json::{Value, json};

/// Opens an event stream and forwards `(event, data)` pairs to a channel.
fn subscribe(desk: &Desk, path: &str, bearer: &str) -> mpsc::Receiver<(String, Value)> {
    let response = reqwest::blocking::Client::builder()
        .timeout(None)
        .build()
        .expect("client")
        .get(desk.server.url(path))
        .bearer_auth(bearer)
        .send()
        .expect("subscribe");
    assert_eq!(response.status().as_u16(), 200);
    assert!(
        response.headers()["content-type"]
            .to_str()
            .expect("ascii")
            .starts_with("text/event-stream")
    );
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut event = String::new();
        for line in BufReader::new(response).lines() {
            let Ok(line) = line else { break };
            if let Some(name) = line.strip_prefix("event: ") {
                event = name.to_owned();
            } else if let Some(data) = line.strip_prefix("data: ") {
                let value = serde_json::from_str(data).expect("JSON data");
                if tx.send((event.clone(), value)).is_err() {
                    break;
                }
            }
        }
    });
    rx
}

fn next(rx: &mpsc::Receiver<(String, Value)>) -> (String, Value) {
    rx.recv_timeout(Duration::from_secs(2))
        .expect("an event within 2 seconds")
}

#[test]
fn reply_reaches_the_open_stream_within_two_seconds() {
    let desk = Desk::start();
    let mut ticket = Ticket::open(&desk);
    let id = ticket.id();
    let events = subscribe(
        &desk,
        &format!("/api/v1/tickets/{id}/events"),
        &ticket.token,
    );
    assert_eq!(next(&events).0, "ready");

    let sent = Instant::now();
    ticket.post(&desk, true);
    let (event, data) = next(&events);
    assert!(sent.elapsed() < Duration::from_secs(2));
    assert_eq!(event, "message");
    assert_eq!(data, json!({"ticket": id, "chain": 0, "seq": 2}));

    // A wrong token cannot subscribe.
    let wrong = b64(&[9u8; 32]);
    let response = desk
        .http
        .get(desk.server.url(&format!("/api/v1/tickets/{id}/events")))
        .bearer_auth(&wrong)
        .send()
        .expect("get");
    assert_eq!(error_code(response), (404, "not_found".into()));
}

#[test]
fn reporters_never_see_internal_note_events() {
    let desk = Desk::start();
    let mut ticket = Ticket::open(&desk);
    let id = ticket.id();
    let events = subscribe(
        &desk,
        &format!("/api/v1/tickets/{id}/events"),
        &ticket.token,
    );
    assert_eq!(next(&events).0, "ready");

    // An internal note (notes chain, epoch 0 wrapped for the administrator only).
    let mut rng = system_rng();
    let notes_key = TicketKey::generate(&mut rng);
    let head = desk.directory.head_seq();
    let placement = Placement {
        ticket_id: ticket.secret.ticket_id(),
        chain: Chain::Notes,
        seq: 1,
        prev_hash: [0; 32],
        epoch: 0,
        dir_seq: head,
        kind: Kind::InternalNote,
    };
    let note = Message::seal(&desk.admin, placement, &notes_key, b"{}", &mut rng).expect("seal");
    let wrap = WrappedKey::seal(
        &desk.admin,
        desk.admin.public(),
        WrapSlot {
            ticket_id: ticket.secret.ticket_id(),
            chain: Chain::Notes,
            epoch: 0,
            dir_seq: head,
        },
        &notes_key,
        &mut rng,
    )
    .expect("wrap");
    let response = desk
        .http
        .post(desk.server.url(&format!("/api/v1/tickets/{id}/messages")))
        .json(&json!({"message": b64(&note.to_bytes()), "wraps": [b64(&wrap.to_bytes())]}))
        .send()
        .expect("post note");
    assert_eq!(response.status().as_u16(), 201);

    // The next event the reporter sees is the conversation message, not the note.
    ticket.post(&desk, false);
    let (event, data) = next(&events);
    assert_eq!(event, "message");
    assert_eq!(data, json!({"ticket": id, "chain": 0, "seq": 2}));
}

#[test]
fn shutdown_does_not_wait_for_open_streams() {
    let mut desk = Desk::start();
    let ticket = Ticket::open(&desk);
    let events = subscribe(
        &desk,
        &format!("/api/v1/tickets/{}/events", ticket.id()),
        &ticket.token,
    );
    assert_eq!(next(&events).0, "ready");
    let pid = desk.server.child.id().to_string();
    let status = std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .expect("kill");
    assert!(status.success());
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if let Some(exit) = desk.server.child.try_wait().expect("wait") {
            assert!(exit.success(), "graceful shutdown exits 0: {exit:?}");
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the server did not stop within 10 s of SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}
