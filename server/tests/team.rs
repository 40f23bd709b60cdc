//! Team changes against the real `sealdesk` binary: administrator invites, pending
//! administrators, approval by a signed `add` entry, history wraps for the new administrator,
//! assignment, and removal.

// Test and tool code: a failed expectation stops the run, so it may unwrap, expect and
// panic (the workspace denies these in library code: Cargo.toml, clippy.toml).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use reqwest::blocking::Response;
use sealdesk_crypto::{
    Chain, ChainState, DirectoryEntry, Identity, IdentitySeed, Message, WrapSlot, WrappedKey,
    system_rng,
};
use serde_json::{Value, json};

use common::{ADMIN_SEED, Account, Desk, Ticket, b64, error_code, unb64};

/// An account whose identity comes from `seed`, registered and signed in; returns the
/// session token.
fn enrol(desk: &Desk, username: &str, seed: [u8; 32]) -> String {
    let account = Account::with_app_data(username, "correct horse", seed, b"{}");
    let response = account.register(desk);
    assert_eq!(response.status().as_u16(), 201, "register {username}");
    let login: Value = account.login_response(desk).json().expect("login");
    login["session"].as_str().expect("session").to_owned()
}

fn post(desk: &Desk, path: &str, body: &Value, session: Option<&str>) -> Response {
    let mut request = desk.http.post(desk.server.url(path)).json(body);
    if let Some(session) = session {
        request = request.bearer_auth(session);
    }
    request.send().expect("post")
}

fn put(desk: &Desk, path: &str, body: &Value, session: &str) -> Response {
    desk.http
        .put(desk.server.url(path))
        .bearer_auth(session)
        .json(body)
        .send()
        .expect("put")
}

fn get(desk: &Desk, path: &str, session: Option<&str>) -> Response {
    let mut request = desk.http.get(desk.server.url(path));
    if let Some(session) = session {
        request = request.bearer_auth(session);
    }
    request.send().expect("get")
}

fn append(desk: &Desk, entry: &DirectoryEntry, session: Option<&str>) -> Response {
    post(
        desk,
        "/api/v1/directory",
        &json!({"entry": b64(&entry.to_bytes())}),
        session,
    )
}

fn create_invite(desk: &Desk, session: &str) -> String {
    let response = post(desk, "/api/v1/admin/invites", &json!({}), Some(session));
    assert_eq!(response.status().as_u16(), 201, "invite");
    let body: Value = response.json().expect("json");
    assert!(body["expires_at"].as_u64().expect("expires_at") > 0);
    body["invite"].as_str().expect("invite").to_owned()
}

fn redeem(desk: &Desk, invite: &str, username: &str, session: &str) -> Response {
    post(
        desk,
        "/api/v1/admin/invites/redeem",
        &json!({"invite": invite, "username": username}),
        Some(session),
    )
}

/// The conversation's messages and the state they verify to, read with `session`.
fn conversation(desk: &Desk, ticket: &Ticket, session: &str) -> (Vec<Vec<u8>>, ChainState) {
    let read: Value = get(
        desk,
        &format!("/api/v1/tickets/{}/messages?chain=0", ticket.id()),
        Some(session),
    )
    .json()
    .expect("json");
    let encoded: Vec<Vec<u8>> = read["messages"]
        .as_array()
        .expect("messages")
        .iter()
        .map(|m| unb64(&m["message"]))
        .collect();
    let state = ChainState::verify_encoded(
        ticket.secret.ticket_id(),
        Chain::Conversation,
        &encoded,
        &ticket.members,
        &desk.directory,
    )
    .expect("transcript verifies");
    (encoded, state)
}

/// The verified wraps of the conversation addressed to `recipient`.
fn own_wraps(
    desk: &Desk,
    ticket: &Ticket,
    recipient: &Identity,
    session: &str,
    state: &ChainState,
) -> Vec<WrappedKey> {
    let response = get(
        desk,
        &format!(
            "/api/v1/tickets/{}/wraps?chain=0&recipient={}",
            ticket.id(),
            b64(&recipient.key_id().0)
        ),
        Some(session),
    );
    assert_eq!(response.status().as_u16(), 200, "wraps");
    let body: Value = response.json().expect("json");
    body["wraps"]
        .as_array()
        .expect("wraps")
        .iter()
        .map(|w| {
            let wrap = WrappedKey::from_bytes(&unb64(w)).expect("decode wrap");
            wrap.verify(&ticket.members, &desk.directory, state)
                .expect("wrap verifies");
            wrap
        })
        .collect()
}

fn upload_wraps(desk: &Desk, ticket: &Ticket, wraps: &[&WrappedKey], session: &str) -> Response {
    let wraps: Vec<String> = wraps.iter().map(|w| b64(&w.to_bytes())).collect();
    post(
        desk,
        &format!("/api/v1/tickets/{}/wraps", ticket.id()),
        &json!({"wraps": wraps}),
        Some(session),
    )
}

fn inbox(desk: &Desk, session: &str) -> Response {
    get(desk, "/api/v1/inbox", Some(session))
}

#[test]
fn invite_approve_history_assign_remove() {
    let mut desk = Desk::start();
    let admin = Identity::from_seed(&IdentitySeed::from_bytes(ADMIN_SEED));
    assert_eq!(admin.key_id(), desk.admin.key_id());
    let a_session = enrol(&desk, "alice", ADMIN_SEED);
    let ticket = Ticket::open(&desk);

    // Bob has an account but is no administrator: no invites, no pending list, no inbox.
    let bob = Identity::from_seed(&IdentitySeed::from_bytes([9; 32]));
    let b_session = enrol(&desk, "bob", [9; 32]);
    assert_eq!(
        error_code(post(
            &desk,
            "/api/v1/admin/invites",
            &json!({}),
            Some(&b_session)
        )),
        (403, "not_an_administrator".into())
    );
    assert_eq!(
        error_code(get(&desk, "/api/v1/admin/pending", Some(&b_session))),
        (403, "not_an_administrator".into())
    );
    assert_eq!(
        error_code(get(&desk, "/api/v1/admin/pending", None)),
        (401, "unauthorized".into())
    );
    assert_eq!(
        error_code(post(&desk, "/api/v1/admin/invites", &json!({}), None)),
        (401, "unauthorized".into())
    );
    assert_eq!(
        error_code(inbox(&desk, &b_session)),
        (403, "not_an_administrator".into())
    );

    // Alice invites; Bob redeems with his session. An administrator cannot redeem.
    let invite = create_invite(&desk, &a_session);
    assert_eq!(
        error_code(redeem(&desk, &invite, "alice", &a_session)),
        (409, "already_administrator".into())
    );
    assert_eq!(
        error_code(redeem(&desk, &invite, "carol", &b_session)),
        (400, "wrong_username".into())
    );
    assert_eq!(
        error_code(redeem(&desk, "not-a-token", "bob", &b_session)),
        (400, "bad_invite".into())
    );
    let response = redeem(&desk, &invite, "Bob", &b_session);
    assert_eq!(response.status().as_u16(), 201);
    let redeemed: Value = response.json().expect("json");
    assert_eq!(redeemed["key_id"], json!(b64(&bob.key_id().0)));
    assert_eq!(redeemed["fingerprint"], json!(bob.public().fingerprint()));
    // Single use, and one pending record per key.
    assert_eq!(
        error_code(redeem(&desk, &invite, "bob", &b_session)),
        (409, "already_pending".into())
    );
    let carol_session = enrol(&desk, "carol", [11; 32]);
    assert_eq!(
        error_code(redeem(&desk, &invite, "carol", &carol_session)),
        (403, "invalid_invite".into())
    );

    // Alice sees Bob pending, with the fingerprint to compare out of band.
    let pending: Value = get(&desk, "/api/v1/admin/pending", Some(&a_session))
        .json()
        .expect("json");
    assert_eq!(
        pending,
        json!({"pending": [{
            "key_id": b64(&bob.key_id().0),
            "identity": b64(&bob.public().to_bytes()),
            "username": "bob",
            "redeemed_at": pending["pending"][0]["redeemed_at"],
            "fingerprint": bob.public().fingerprint(),
        }]})
    );
    assert!(pending["pending"][0]["redeemed_at"].as_u64().is_some());

    // Adding a key that did not redeem an invite is refused; so are entries without an
    // administrator's session, or posted with another administrator's session.
    let dave = Identity::from_seed(&IdentitySeed::from_bytes([13; 32]));
    let add_dave = DirectoryEntry::add(&desk.directory, &admin, dave.public()).expect("entry");
    assert_eq!(
        error_code(append(&desk, &add_dave, Some(&a_session))),
        (409, "not_pending".into())
    );
    let add_bob = DirectoryEntry::add(&desk.directory, &admin, bob.public()).expect("entry");
    assert_eq!(
        error_code(append(&desk, &add_bob, None)),
        (401, "unauthorized".into())
    );
    assert_eq!(
        error_code(append(&desk, &add_bob, Some(&b_session))),
        (403, "not_an_administrator".into())
    );

    // Alice approves Bob: the signed add entry with her session.
    let response = append(&desk, &add_bob, Some(&a_session));
    assert_eq!(response.status().as_u16(), 201, "add");
    desk.directory
        .extend(std::slice::from_ref(&add_bob))
        .expect("valid add");
    let pending: Value = get(&desk, "/api/v1/admin/pending", Some(&a_session))
        .json()
        .expect("json");
    assert_eq!(pending, json!({"pending": []}));
    assert_eq!(inbox(&desk, &b_session).status().as_u16(), 200);
    assert_eq!(
        get(&desk, "/api/v1/admin/pending", Some(&b_session))
            .status()
            .as_u16(),
        200
    );
    // Bob has no key for the ticket yet.
    let (encoded, state) = conversation(&desk, &ticket, &b_session);
    assert!(own_wraps(&desk, &ticket, &bob, &b_session, &state).is_empty());

    // History: Alice unwraps her epoch-0 key and wraps it for Bob.
    let (_, a_state) = conversation(&desk, &ticket, &a_session);
    let mine = own_wraps(&desk, &ticket, &admin, &a_session, &a_state);
    assert_eq!(mine.len(), 1);
    let key = mine[0].open(&admin).expect("unwrap");
    let head = desk.directory.head_seq();
    let id = ticket.secret.ticket_id();
    let mut rng = system_rng();
    let for_bob = WrappedKey::seal(
        &admin,
        bob.public(),
        WrapSlot {
            ticket_id: id,
            chain: Chain::Conversation,
            epoch: 0,
            dir_seq: head,
        },
        &key,
        &mut rng,
    )
    .expect("wrap");
    // Not by a non-administrator session, and only signed by the session's administrator.
    assert_eq!(
        error_code(upload_wraps(&desk, &ticket, &[&for_bob], &carol_session)),
        (403, "not_an_administrator".into())
    );
    assert_eq!(
        error_code(upload_wraps(&desk, &ticket, &[&for_bob], &b_session)),
        (400, "wrong_wrapper".into())
    );
    // An epoch that was never opened.
    let unopened = WrappedKey::seal(
        &admin,
        bob.public(),
        WrapSlot {
            ticket_id: id,
            chain: Chain::Conversation,
            epoch: 1,
            dir_seq: head,
        },
        &key,
        &mut rng,
    )
    .expect("wrap");
    assert_eq!(
        error_code(upload_wraps(
            &desk,
            &ticket,
            &[&for_bob, &unopened],
            &a_session
        )),
        (422, "wrap.bad_epoch".into())
    );
    // Twice in one request.
    assert_eq!(
        error_code(upload_wraps(
            &desk,
            &ticket,
            &[&for_bob, &for_bob],
            &a_session
        )),
        (409, "wrap_exists".into())
    );
    // A key the reporter already holds.
    let for_reporter = WrappedKey::seal(
        &admin,
        ticket.reporter.public(),
        WrapSlot {
            ticket_id: id,
            chain: Chain::Conversation,
            epoch: 0,
            dir_seq: head,
        },
        &key,
        &mut rng,
    )
    .expect("wrap");
    assert_eq!(
        error_code(upload_wraps(&desk, &ticket, &[&for_reporter], &a_session)),
        (409, "wrap_exists".into())
    );
    let response = upload_wraps(&desk, &ticket, &[&for_bob], &a_session);
    assert_eq!(response.status().as_u16(), 201, "history");
    assert_eq!(response.json::<Value>().expect("json")["stored"], 1);
    assert_eq!(
        error_code(upload_wraps(&desk, &ticket, &[&for_bob], &a_session)),
        (409, "wrap_exists".into())
    );

    // Bob reads the ticket: his wrap verifies and opens, and decrypts the first message.
    let bobs = own_wraps(&desk, &ticket, &bob, &b_session, &state);
    assert_eq!(bobs.len(), 1);
    let bobs_key = bobs[0].open(&bob).expect("Bob unwraps");
    let first = Message::from_bytes(&encoded[0]).expect("decode");
    assert_eq!(&first.open(&bobs_key).expect("decrypt")[..], b"{}");

    // Assignment: to Bob, shown in the inbox; not to a key that is no administrator.
    let path = format!("/api/v1/tickets/{}/assignment", ticket.id());
    assert_eq!(
        put(
            &desk,
            &path,
            &json!({"assigned_to": b64(&bob.key_id().0)}),
            &a_session
        )
        .status()
        .as_u16(),
        204
    );
    let listed: Value = inbox(&desk, &b_session).json().expect("json");
    assert_eq!(
        listed["tickets"][0]["assigned_to"],
        json!(b64(&bob.key_id().0))
    );
    assert_eq!(
        error_code(put(
            &desk,
            &path,
            &json!({"assigned_to": b64(&dave.key_id().0)}),
            &a_session
        )),
        (422, "bad_assignee".into())
    );
    assert_eq!(
        error_code(put(
            &desk,
            &path,
            &json!({"assigned_to": b64(&bob.key_id().0)}),
            &carol_session
        )),
        (403, "not_an_administrator".into())
    );
    assert_eq!(
        error_code(put(
            &desk,
            &path,
            &json!({"assigned_to": "AAAA"}),
            &a_session
        )),
        (400, "bad_length".into())
    );

    // Removal needs an administrator's session too; then Bob reads nothing new.
    let remove_bob = DirectoryEntry::remove(&desk.directory, &admin, bob.public()).expect("entry");
    assert_eq!(
        error_code(append(&desk, &remove_bob, Some(&carol_session))),
        (403, "not_an_administrator".into())
    );
    assert_eq!(
        error_code(append(&desk, &remove_bob, Some(&b_session))),
        (400, "wrong_signer".into())
    );
    assert_eq!(
        append(&desk, &remove_bob, Some(&a_session))
            .status()
            .as_u16(),
        201
    );
    desk.directory
        .extend(std::slice::from_ref(&remove_bob))
        .expect("valid remove");
    assert_eq!(
        error_code(inbox(&desk, &b_session)),
        (403, "not_an_administrator".into())
    );
    assert_eq!(
        error_code(get(
            &desk,
            &format!("/api/v1/tickets/{}", ticket.id()),
            Some(&b_session)
        )),
        (404, "not_found".into())
    );
    // Wraps (of any epoch) go to current members only, even when signed at a position where
    // Bob was one.
    let late = WrappedKey::seal(
        &admin,
        bob.public(),
        WrapSlot {
            ticket_id: id,
            chain: Chain::Conversation,
            epoch: 0,
            dir_seq: head,
        },
        &key,
        &mut rng,
    )
    .expect("wrap");
    assert_eq!(
        error_code(upload_wraps(&desk, &ticket, &[&late], &a_session)),
        (422, "wrap.not_a_member".into())
    );
    // Assignment to a removed administrator is refused.
    assert_eq!(
        error_code(put(
            &desk,
            &path,
            &json!({"assigned_to": b64(&bob.key_id().0)}),
            &a_session
        )),
        (422, "bad_assignee".into())
    );
    assert_eq!(
        put(&desk, &path, &json!({"assigned_to": null}), &a_session)
            .status()
            .as_u16(),
        204
    );
    let listed: Value = inbox(&desk, &a_session).json().expect("json");
    assert_eq!(listed["tickets"][0]["assigned_to"], Value::Null);

    // A removed administrator's key cannot ask again.
    let invite = create_invite(&desk, &a_session);
    assert_eq!(
        error_code(redeem(&desk, &invite, "bob", &b_session)),
        (409, "already_administrator".into())
    );
}

/// Invites, redeems and approves `seed`'s account as an administrator; returns its session.
fn add_administrator(desk: &mut Desk, a_session: &str, username: &str, seed: [u8; 32]) -> String {
    let session = enrol(desk, username, seed);
    let invite = create_invite(desk, a_session);
    assert_eq!(
        redeem(desk, &invite, username, &session).status().as_u16(),
        201
    );
    let identity = Identity::from_seed(&IdentitySeed::from_bytes(seed));
    let admin = Identity::from_seed(&IdentitySeed::from_bytes(ADMIN_SEED));
    let entry = DirectoryEntry::add(&desk.directory, &admin, identity.public()).expect("entry");
    assert_eq!(append(desk, &entry, Some(a_session)).status().as_u16(), 201);
    desk.directory
        .extend(std::slice::from_ref(&entry))
        .expect("valid add");
    session
}

#[test]
fn history_wraps_count_against_the_quota() {
    // The size of every message `Ticket` seals (the same padded content each time).
    let probe = Identity::from_seed(&IdentitySeed::from_bytes([1; 32]));
    let placement = sealdesk_crypto::Placement {
        ticket_id: sealdesk_crypto::TicketId([0; 16]),
        chain: Chain::Conversation,
        seq: 1,
        prev_hash: [0; 32],
        epoch: 0,
        dir_seq: 0,
        kind: sealdesk_crypto::Kind::Message,
    };
    let key = sealdesk_crypto::TicketKey::generate(&mut system_rng());
    let m = Message::seal(&probe, placement, &key, b"{}", &mut system_rng())
        .expect("seal")
        .to_bytes()
        .len();
    let wrap = sealdesk_crypto::WRAP_LEN;
    // Room for two messages and three wraps, less one byte: a ticket with its two epoch-0
    // wraps takes a second message; with a third (history) wrap counted, it does not.
    let quota = (2 * m + 3 * wrap - 1).to_string();
    let mut desk = Desk::start_with(&[
        ("SEALDESK_TICKET_QUOTA_BYTES", &quota),
        ("SEALDESK_MAX_ATTACHMENT_BYTES", "1"),
    ]);
    let a_session = enrol(&desk, "alice", ADMIN_SEED);
    let mut plain = Ticket::open(&desk);
    let with_history = Ticket::open(&desk);
    add_administrator(&mut desk, &a_session, "bob", [9; 32]);
    let bob = Identity::from_seed(&IdentitySeed::from_bytes([9; 32]));

    plain.post(&desk, false);

    let for_bob = WrappedKey::seal(
        &desk.admin,
        bob.public(),
        WrapSlot {
            ticket_id: with_history.secret.ticket_id(),
            chain: Chain::Conversation,
            epoch: 0,
            dir_seq: desk.directory.head_seq(),
        },
        &with_history.key,
        &mut system_rng(),
    )
    .expect("wrap");
    assert_eq!(
        upload_wraps(&desk, &with_history, &[&for_bob], &a_session)
            .status()
            .as_u16(),
        201
    );
    let message = with_history.seal(
        &with_history.reporter,
        sealdesk_crypto::Kind::Message,
        desk.directory.head_seq(),
    );
    let response = post(
        &desk,
        &format!("/api/v1/tickets/{}/messages", with_history.id()),
        &json!({"message": b64(&message.to_bytes())}),
        Some(&with_history.token),
    );
    assert_eq!(error_code(response), (413, "quota_exceeded".into()));
    let (_, state) = conversation(&desk, &with_history, &a_session);
    assert_eq!(
        own_wraps(&desk, &with_history, &bob, &a_session, &state).len(),
        1
    );
}

#[test]
fn expired_and_declined_invites() {
    let desk = Desk::start_with(&[("SEALDESK_INVITE_TTL_SECONDS", "2")]);
    let a_session = enrol(&desk, "alice", ADMIN_SEED);
    let b_session = enrol(&desk, "bob", [9; 32]);
    let bob = Identity::from_seed(&IdentitySeed::from_bytes([9; 32]));

    let stale = create_invite(&desk, &a_session);
    std::thread::sleep(std::time::Duration::from_millis(3100));
    assert_eq!(
        error_code(redeem(&desk, &stale, "bob", &b_session)),
        (403, "invalid_invite".into())
    );

    // Declining a pending administrator: it leaves the list and cannot be added.
    let fresh = create_invite(&desk, &a_session);
    assert_eq!(
        redeem(&desk, &fresh, "bob", &b_session).status().as_u16(),
        201
    );
    let path = format!("/api/v1/admin/pending/{}", b64(&bob.key_id().0));
    let delete = |session: &str| {
        desk.http
            .delete(desk.server.url(&path))
            .bearer_auth(session)
            .send()
            .expect("delete")
    };
    assert_eq!(
        error_code(delete(&b_session)),
        (403, "not_an_administrator".into())
    );
    assert_eq!(delete(&a_session).status().as_u16(), 204);
    assert_eq!(error_code(delete(&a_session)), (404, "not_found".into()));
    let pending: Value = get(&desk, "/api/v1/admin/pending", Some(&a_session))
        .json()
        .expect("json");
    assert_eq!(pending, json!({"pending": []}));
    let add_bob = DirectoryEntry::add(&desk.directory, &desk.admin, bob.public()).expect("entry");
    assert_eq!(
        error_code(append(&desk, &add_bob, Some(&a_session))),
        (409, "not_pending".into())
    );
}

/// `sealdesk admin invite` works while the server runs and after the first administrator
/// exists: its link is redeemed like an invite made in the panel, once.
#[test]
fn command_line_invite_after_the_first_administrator() {
    let desk = Desk::start();
    let _alice = enrol(&desk, "alice", ADMIN_SEED);
    let b_session = enrol(&desk, "bob", [9; 32]);
    let output = std::process::Command::new(common::sealdesk_binary())
        .args(["admin", "invite"])
        .env("SEALDESK_DATA_DIR", desk.server.data_dir())
        .env("SEALDESK_LOG_LEVEL", "warn")
        .output()
        .expect("sealdesk admin invite");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let stdout = String::from_utf8(output.stdout).expect("utf-8");
    let token = stdout
        .split_once("/admin/invite#")
        .map(|(_, rest)| rest.split_whitespace().next().expect("token").to_owned())
        .expect("an invite URL");
    assert_eq!(
        redeem(&desk, &token, "bob", &b_session).status().as_u16(),
        201
    );
    // Single use: another account cannot redeem the same link.
    let c_session = enrol(&desk, "carol", [10; 32]);
    assert_eq!(
        error_code(redeem(&desk, &token, "carol", &c_session)),
        (403, "invalid_invite".into())
    );
}
