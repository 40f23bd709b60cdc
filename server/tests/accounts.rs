//! Accounts, sessions, account tickets and the administrators' inbox, against the real
//! `sealdesk` binary on an ephemeral port (the harness is `tests/common`). Keys are
//! derived as a browser derives them (Argon2id with the cheap test parameters).

// Test and tool code: a failed expectation stops the run, so it may unwrap, expect and
// panic (the workspace denies these in library code: Cargo.toml, clippy.toml).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use reqwest::StatusCode;
use sealdesk_crypto::{
    Chain, ChainState, Identity, Kind, Message, Placement, TicketId, TicketKey, WrapSlot,
    WrappedKey, system_rng,
};
use serde_json::{Value, json};

// Here `error_code` gives the status as a `StatusCode`, as these tests compare it.
use common::error_status as error_code;
use common::{
    ADMIN_SEED, Account, Derived, Desk, Ticket, b64, cheap, first_message, identity_proof, unb64,
};

/// Opens an anonymous ticket; returns its id (hex) and access token.
fn anonymous_ticket(desk: &Desk) -> (String, String) {
    let (ticket, body) = Ticket::draft(desk, br#"{"text":"help"}"#);
    let response = desk.post("/api/v1/tickets", &body, None);
    assert_eq!(response.status(), StatusCode::CREATED);
    (ticket.id(), ticket.token)
}

fn next_message(
    desk: &Desk,
    sender: &Identity,
    key: &TicketKey,
    state: &ChainState,
    kind: Kind,
) -> Message {
    let placement = Placement {
        ticket_id: state.ticket_id(),
        chain: state.chain(),
        seq: state.last_seq() + 1,
        prev_hash: state.last_hash(),
        epoch: 0,
        dir_seq: desk.directory.head_seq(),
        kind,
    };
    Message::seal(sender, placement, key, b"{}", &mut system_rng()).expect("seal")
}

// ---- tests ----

#[test]
fn prelogin_answers_the_same_shape_for_unknown_users() {
    let desk = Desk::start();
    let alice = Account::new("Alice", "correct horse", [1; 32]);
    assert_eq!(alice.register(&desk).status(), StatusCode::CREATED);

    let prelogin = |username: &str| -> Value {
        let response = desk.post(
            "/api/v1/accounts/prelogin",
            &json!({"username": username}),
            None,
        );
        assert_eq!(response.status(), StatusCode::OK);
        response.json().expect("json")
    };
    let known = prelogin("aLiCe");
    assert_eq!(unb64(&known["salt"]), alice.derived.salt);
    assert_eq!(known["argon2"], cheap());

    let unknown = prelogin("nobody");
    let keys = |v: &Value| -> Vec<String> {
        v.as_object()
            .expect("object")
            .keys()
            .cloned()
            .collect::<Vec<_>>()
    };
    assert_eq!(keys(&known), keys(&unknown));
    assert_eq!(keys(&known["argon2"]), keys(&unknown["argon2"]));
    assert_eq!(unb64(&unknown["salt"]).len(), 16);
    assert_eq!(
        unknown["argon2"],
        json!({"memory_kib": 65536, "iterations": 3, "parallelism": 1})
    );
    // Stable across calls and case, different per username.
    assert_eq!(prelogin("NOBODY"), unknown);
    assert_ne!(prelogin("somebody")["salt"], unknown["salt"]);

    let response = desk.post(
        "/api/v1/accounts/prelogin",
        &json!({"username": "no spaces"}),
        None,
    );
    assert_eq!(
        error_code(response),
        (StatusCode::BAD_REQUEST, "bad_username".into())
    );
}

#[test]
fn prelogin_secret_is_created_once_under_concurrency() {
    // Concurrent first requests agree on the one stored per-instance secret.
    let desk = Desk::start();
    let salts: Vec<Value> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..4)
            .map(|_| {
                scope.spawn(|| {
                    let response: Value = desk
                        .post(
                            "/api/v1/accounts/prelogin",
                            &json!({"username": "ghost"}),
                            None,
                        )
                        .json()
                        .expect("json");
                    response["salt"].clone()
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("join"))
            .collect()
    });
    assert!(salts.iter().all(|s| *s == salts[0]), "{salts:?}");
}

#[test]
fn register_login_and_logout() {
    let desk = Desk::start();
    let alice = Account::new("alice", "correct horse", [1; 32]);
    let response = alice.register(&desk);
    assert_eq!(response.status(), StatusCode::CREATED);
    let registered: Value = response.json().expect("json");
    let account_id = registered["account_id"].as_str().expect("id").to_owned();
    assert_eq!(account_id.len(), 32);

    // The same username in another case is taken.
    let again = Account::new("ALICE", "other", [2; 32]);
    assert_eq!(
        error_code(again.register(&desk)),
        (StatusCode::CONFLICT, "username_taken".into())
    );

    let login = alice.login(&desk);
    assert_eq!(login["account_id"], account_id);
    assert_eq!(unb64(&login["keyring"]), alice.sealed);
    assert_eq!(
        unb64(&login["identity"]),
        alice.identity().public().to_bytes()
    );
    assert_eq!(unb64(&login["salt"]), alice.derived.salt);
    assert_eq!(login["argon2"], cheap());
    assert!(login["expires_at"].as_u64().expect("expiry") > 2_592_000);
    let session = login["session"].as_str().expect("session").to_owned();
    assert_eq!(unb64(&login["session"]).len(), 32);
    // The keyring opens with the password's keyring key and holds the seed.
    let keyring = alice
        .derived
        .master
        .keyring_key()
        .open(&unb64(&login["keyring"]))
        .expect("open keyring");
    assert_eq!(keyring.identity_seed.as_bytes(), &alice.seed);

    // A wrong password and an unknown username answer exactly the same.
    let wrong = Derived::with_salt("wrong", alice.derived.salt);
    let bad_password = desk.post(
        "/api/v1/accounts/login",
        &json!({"username": "alice", "auth_key": wrong.auth_key()}),
        None,
    );
    let unknown = desk.post(
        "/api/v1/accounts/login",
        &json!({"username": "mallory", "auth_key": wrong.auth_key()}),
        None,
    );
    assert_eq!(bad_password.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(unknown.status(), StatusCode::UNAUTHORIZED);
    let bad_password: Value = bad_password.json().expect("json");
    let unknown: Value = unknown.json().expect("json");
    assert_eq!(bad_password, unknown);
    assert_eq!(bad_password["error"], "bad_credentials");

    // The session works until logout, then never again.
    assert_eq!(
        desk.get("/api/v1/accounts/tickets", &session).status(),
        StatusCode::OK
    );
    let response = desk.post("/api/v1/accounts/logout", &json!({}), Some(&session));
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        error_code(desk.get("/api/v1/accounts/tickets", &session)),
        (StatusCode::UNAUTHORIZED, "unauthorized".into())
    );
    assert_eq!(
        error_code(desk.post("/api/v1/accounts/logout", &json!({}), Some(&session))),
        (StatusCode::UNAUTHORIZED, "unauthorized".into())
    );
    // No session at all.
    let response = desk
        .http
        .get(desk.server.url("/api/v1/accounts/tickets"))
        .send()
        .expect("get");
    assert_eq!(
        error_code(response),
        (StatusCode::UNAUTHORIZED, "unauthorized".into())
    );
}

#[test]
fn registration_failures_store_nothing() {
    let desk = Desk::start();
    let bob = Account::new("bob", "pw", [3; 32]);
    let cases: Vec<(Value, StatusCode, &str)> = vec![
        (
            json!({"username": ""}),
            StatusCode::BAD_REQUEST,
            "bad_username",
        ),
        (
            json!({"username": "x".repeat(65)}),
            StatusCode::BAD_REQUEST,
            "bad_username",
        ),
        (
            json!({"argon2": {"memory_kib": 255, "iterations": 1, "parallelism": 1}}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "key_derivation",
        ),
        (
            json!({"argon2": {"memory_kib": 1_048_577, "iterations": 1, "parallelism": 1}}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "key_derivation",
        ),
        (
            json!({"salt": b64(&[0; 15])}),
            StatusCode::BAD_REQUEST,
            "bad_length",
        ),
        (
            json!({"auth_key": b64(&[0; 31])}),
            StatusCode::BAD_REQUEST,
            "bad_length",
        ),
        (
            json!({"keyring": b64(&[2; 100])}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "malformed",
        ),
        (
            json!({"keyring": b64(&vec![1; 70_000])}),
            StatusCode::BAD_REQUEST,
            "too_large",
        ),
        (
            json!({"identity": b64(&[0; 64])}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_public_key",
        ),
        // Someone else's public identity (here the administrator's, which is public in the
        // directory) without its key: the proof is signed by the registrant's own key.
        (
            json!({"identity": b64(&desk.admin.public().to_bytes())}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "bad_identity_proof",
        ),
    ];
    for (patch, status, code) in cases {
        let mut body = bob.register_body();
        for (field, value) in patch.as_object().expect("object") {
            body[field] = value.clone();
        }
        let response = desk.post("/api/v1/accounts/register", &body, None);
        assert_eq!(error_code(response), (status, code.to_owned()), "{patch}");
    }
    // A proof made for another username is refused too.
    let mut body = bob.register_body();
    body["identity_proof"] = json!(identity_proof(
        &bob.identity(),
        "robert",
        &bob.derived.master.auth_key()
    ));
    assert_eq!(
        error_code(desk.post("/api/v1/accounts/register", &body, None)),
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            "bad_identity_proof".into()
        )
    );
    // Nothing was stored: bob can register now.
    assert_eq!(bob.register(&desk).status(), StatusCode::CREATED);
}

#[test]
fn password_change_replaces_credentials_and_revokes_other_sessions() {
    let desk = Desk::start();
    let alice = Account::new("alice", "old password", [1; 32]);
    let current = alice.enrol(&desk);
    let other = alice.login(&desk)["session"]
        .as_str()
        .expect("session")
        .to_owned();

    let new = Derived::new("new password");
    let resealed = new.seal(alice.seed, b"{\"links\":[\"changed\"]}");
    let body = json!({
        "current_auth_key": alice.derived.auth_key(),
        "salt": b64(&new.salt),
        "argon2": cheap(),
        "auth_key": new.auth_key(),
        "keyring": b64(&resealed),
    });
    // Without a session: refused.
    assert_eq!(
        error_code(
            desk.http
                .put(desk.server.url("/api/v1/accounts/keyring"))
                .json(&body)
                .send()
                .expect("put")
        ),
        (StatusCode::UNAUTHORIZED, "unauthorized".into())
    );
    // A session without the current password cannot change it, and nothing changes.
    let mut guessed = body.clone();
    guessed["current_auth_key"] = json!(new.auth_key());
    let response = desk
        .http
        .put(desk.server.url("/api/v1/accounts/keyring"))
        .bearer_auth(&current)
        .json(&guessed)
        .send()
        .expect("put");
    assert_eq!(
        error_code(response),
        (StatusCode::UNAUTHORIZED, "bad_credentials".into())
    );
    let still_old = desk.post(
        "/api/v1/accounts/login",
        &json!({"username": "alice", "auth_key": alice.derived.auth_key()}),
        None,
    );
    assert_eq!(still_old.status(), StatusCode::OK);

    let response = desk
        .http
        .put(desk.server.url("/api/v1/accounts/keyring"))
        .bearer_auth(&current)
        .json(&body)
        .send()
        .expect("put");
    assert_eq!(response.status(), StatusCode::NO_CONTENT);

    // The old password no longer works; the new one does, with the same identity.
    let old_login = desk.post(
        "/api/v1/accounts/login",
        &json!({"username": "alice", "auth_key": alice.derived.auth_key()}),
        None,
    );
    assert_eq!(
        error_code(old_login),
        (StatusCode::UNAUTHORIZED, "bad_credentials".into())
    );
    let changed = Account {
        username: alice.username.clone(),
        seed: alice.seed,
        derived: Derived::with_salt("new password", new.salt),
        sealed: resealed.clone(),
    };
    let login = changed.login(&desk);
    assert_eq!(unb64(&login["keyring"]), resealed);
    assert_eq!(unb64(&login["salt"]), new.salt);
    let identity =
        sealdesk_crypto::PublicIdentity::from_bytes(&unb64(&login["identity"])).expect("identity");
    assert_eq!(identity.key_id(), alice.identity().key_id());
    let keyring = changed
        .derived
        .master
        .keyring_key()
        .open(&resealed)
        .expect("open");
    assert_eq!(keyring.identity_seed.as_bytes(), &alice.seed);
    assert_eq!(&keyring.app_data[..], b"{\"links\":[\"changed\"]}");
    let prelogin: Value = desk
        .post(
            "/api/v1/accounts/prelogin",
            &json!({"username": "alice"}),
            None,
        )
        .json()
        .expect("json");
    assert_eq!(unb64(&prelogin["salt"]), new.salt);

    // The session that changed the password stays valid; the other one is revoked.
    assert_eq!(
        desk.get("/api/v1/accounts/tickets", &current).status(),
        StatusCode::OK
    );
    assert_eq!(
        error_code(desk.get("/api/v1/accounts/tickets", &other)),
        (StatusCode::UNAUTHORIZED, "unauthorized".into())
    );
    // Weak parameters are refused for a password change too.
    let mut weak = body.clone();
    weak["current_auth_key"] = json!(new.auth_key());
    weak["argon2"] = json!({"memory_kib": 8, "iterations": 1, "parallelism": 1});
    let response = desk
        .http
        .put(desk.server.url("/api/v1/accounts/keyring"))
        .bearer_auth(&current)
        .json(&weak)
        .send()
        .expect("put");
    assert_eq!(
        error_code(response),
        (StatusCode::UNPROCESSABLE_ENTITY, "key_derivation".into())
    );
}

#[test]
fn account_tickets_and_administrator_reads() {
    let desk = Desk::start();
    let bob = Account::new("bob", "bob's password", [3; 32]);
    let bob_session = bob.enrol(&desk);
    let bob_identity = bob.identity();
    let carol = Account::new("carol", "carol's password", [4; 32]);
    let carol_session = carol.enrol(&desk);
    let admin_account = Account::new("root", "admin password", ADMIN_SEED);
    let admin_session = admin_account.enrol(&desk);

    // Bob opens a ticket with his account's identity.
    let id = TicketId::generate(&mut system_rng());
    let hex = id.to_hex();
    let (key, mut state, members, body) =
        first_message(&desk, &bob_identity, id, br#"{"text":"help"}"#);
    assert_eq!(
        error_code(desk.post("/api/v1/tickets/account", &body, None)),
        (StatusCode::UNAUTHORIZED, "unauthorized".into())
    );
    // Carol cannot open a ticket in Bob's name.
    assert_eq!(
        error_code(desk.post("/api/v1/tickets/account", &body, Some(&carol_session))),
        (StatusCode::BAD_REQUEST, "wrong_reporter".into())
    );
    let response = desk.post("/api/v1/tickets/account", &body, Some(&bob_session));
    assert_eq!(response.status(), StatusCode::CREATED);
    let created: Value = response.json().expect("json");
    assert_eq!(created["ticket_id"], hex);

    // Bob lists and reads it, and posts with his session.
    let list: Value = desk
        .get("/api/v1/accounts/tickets", &bob_session)
        .json()
        .expect("json");
    let tickets = list["tickets"].as_array().expect("tickets");
    assert_eq!(tickets.len(), 1);
    assert_eq!(tickets[0]["ticket_id"], hex);
    assert_eq!(tickets[0]["status"], "open");
    assert_eq!(tickets[0]["answered"], false);
    assert_eq!(tickets[0]["conversation_seq"], 1);
    assert!(tickets[0]["created_at"].as_u64().is_some());
    assert!(tickets[0]["last_activity"].as_u64().is_some());
    let meta: Value = desk
        .get(&format!("/api/v1/tickets/{hex}"), &bob_session)
        .json()
        .expect("json");
    assert_eq!(meta["reporter"], body["reporter"]);
    let message = next_message(&desk, &bob_identity, &key, &state, Kind::Message);
    let messages_path = format!("/api/v1/tickets/{hex}/messages");
    let post_body = json!({"message": b64(&message.to_bytes())});
    assert_eq!(
        error_code(desk.post(&messages_path, &post_body, None)),
        (StatusCode::UNAUTHORIZED, "unauthorized".into())
    );
    assert_eq!(
        error_code(desk.post(&messages_path, &post_body, Some(&carol_session))),
        (StatusCode::UNAUTHORIZED, "unauthorized".into())
    );
    assert_eq!(
        desk.post(&messages_path, &post_body, Some(&bob_session))
            .status(),
        StatusCode::CREATED
    );
    state
        .push(&message, &members, &desk.directory)
        .expect("valid");
    let read: Value = desk.get(&messages_path, &bob_session).json().expect("json");
    assert_eq!(read["messages"].as_array().expect("messages").len(), 2);
    let wraps: Value = desk
        .get(
            &format!(
                "/api/v1/tickets/{hex}/wraps?recipient={}",
                b64(&bob_identity.key_id().0)
            ),
            &bob_session,
        )
        .json()
        .expect("json");
    let wrap = WrappedKey::from_bytes(&unb64(&wraps["wraps"][0])).expect("wrap");
    assert_eq!(
        wrap.open(&bob_identity).expect("unwrap").as_bytes(),
        key.as_bytes()
    );

    // Carol can read neither the ticket nor the inbox.
    for path in [
        format!("/api/v1/tickets/{hex}"),
        messages_path.clone(),
        format!(
            "/api/v1/tickets/{hex}/wraps?recipient={}",
            b64(&bob_identity.key_id().0)
        ),
    ] {
        assert_eq!(
            error_code(desk.get(&path, &carol_session)),
            (StatusCode::NOT_FOUND, "not_found".into()),
            "{path}"
        );
    }
    assert_eq!(
        error_code(desk.get("/api/v1/inbox", &carol_session)),
        (StatusCode::FORBIDDEN, "not_an_administrator".into())
    );
    assert!(
        desk.get("/api/v1/accounts/tickets", &carol_session)
            .json::<Value>()
            .expect("json")["tickets"]
            .as_array()
            .expect("tickets")
            .is_empty()
    );
    // Bob reads no notes.
    assert_eq!(
        error_code(desk.get(&format!("{messages_path}?chain=1"), &bob_session)),
        (StatusCode::NOT_FOUND, "not_found".into())
    );

    // The administrator answers on the conversation and writes a note on the notes chain.
    let reply = next_message(&desk, &desk.admin, &key, &state, Kind::Message);
    assert_eq!(
        desk.post(
            &messages_path,
            &json!({"message": b64(&reply.to_bytes())}),
            None
        )
        .status(),
        StatusCode::CREATED
    );
    state
        .push(&reply, &members, &desk.directory)
        .expect("valid");
    let mut rng = system_rng();
    let notes_key = TicketKey::generate(&mut rng);
    let note = Message::seal(
        &desk.admin,
        Placement {
            ticket_id: id,
            chain: Chain::Notes,
            seq: 1,
            prev_hash: [0; 32],
            epoch: 0,
            dir_seq: desk.directory.head_seq(),
            kind: Kind::InternalNote,
        },
        &notes_key,
        br#"{"text":"internal"}"#,
        &mut rng,
    )
    .expect("seal");
    let notes_wrap = WrappedKey::seal(
        &desk.admin,
        desk.admin.public(),
        WrapSlot {
            ticket_id: id,
            chain: Chain::Notes,
            epoch: 0,
            dir_seq: desk.directory.head_seq(),
        },
        &notes_key,
        &mut rng,
    )
    .expect("wrap");
    assert_eq!(
        desk.post(
            &messages_path,
            &json!({"message": b64(&note.to_bytes()), "wraps": [b64(&notes_wrap.to_bytes())]}),
            None
        )
        .status(),
        StatusCode::CREATED
    );

    // The administrator's session reads the metadata, both chains and the notes' wraps.
    let meta = desk.get(&format!("/api/v1/tickets/{hex}"), &admin_session);
    assert_eq!(meta.status(), StatusCode::OK);
    let conversation: Value = desk
        .get(&messages_path, &admin_session)
        .json()
        .expect("json");
    let encoded: Vec<Vec<u8>> = conversation["messages"]
        .as_array()
        .expect("messages")
        .iter()
        .map(|m| unb64(&m["message"]))
        .collect();
    assert_eq!(encoded.len(), 3);
    let verified =
        ChainState::verify_encoded(id, Chain::Conversation, &encoded, &members, &desk.directory)
            .expect("transcript verifies");
    assert_eq!(verified, state);
    let notes: Value = desk
        .get(&format!("{messages_path}?chain=1"), &admin_session)
        .json()
        .expect("json");
    let notes = notes["messages"].as_array().expect("notes");
    assert_eq!(notes.len(), 1);
    let read_note = Message::from_bytes(&unb64(&notes[0]["message"])).expect("note");
    let wraps: Value = desk
        .get(
            &format!(
                "/api/v1/tickets/{hex}/wraps?chain=1&recipient={}",
                b64(&desk.admin.key_id().0)
            ),
            &admin_session,
        )
        .json()
        .expect("json");
    let opened_key = WrappedKey::from_bytes(&unb64(&wraps["wraps"][0]))
        .expect("wrap")
        .open(&desk.admin)
        .expect("unwrap");
    assert_eq!(
        &read_note.open(&opened_key).expect("open")[..],
        br#"{"text":"internal"}"#
    );

    // An anonymous ticket too; the anonymous reporter's token does not open the notes.
    let (anon_id, anon_token) = anonymous_ticket(&desk);
    assert_eq!(
        error_code(desk.get(
            &format!("/api/v1/tickets/{anon_id}/messages?chain=1"),
            &anon_token
        )),
        (StatusCode::NOT_FOUND, "not_found".into())
    );
    assert_eq!(
        desk.get(
            &format!("/api/v1/tickets/{anon_id}/messages"),
            &admin_session
        )
        .status(),
        StatusCode::OK
    );
    // Carol's session does not open the anonymous ticket either.
    assert_eq!(
        desk.get(&format!("/api/v1/tickets/{anon_id}"), &carol_session)
            .status(),
        StatusCode::NOT_FOUND
    );

    // The inbox: newest activity first, metadata only, filtered by status.
    let inbox: Value = desk
        .get("/api/v1/inbox", &admin_session)
        .json()
        .expect("json");
    let listed = inbox["tickets"].as_array().expect("tickets");
    assert_eq!(inbox["more"], false);
    let ids: Vec<&str> = listed
        .iter()
        .map(|t| t["ticket_id"].as_str().expect("id"))
        .collect();
    assert_eq!(ids.len(), 2);
    assert!(ids.contains(&hex.as_str()) && ids.contains(&anon_id.as_str()));
    assert!(listed[0]["last_activity"].as_u64() >= listed[1]["last_activity"].as_u64());
    let bobs = listed
        .iter()
        .find(|t| t["ticket_id"] == hex)
        .expect("bob's ticket");
    assert_eq!(bobs["answered"], true);
    assert_eq!(bobs["conversation_seq"], 3);
    assert_eq!(bobs["status"], "open");
    assert_eq!(bobs["assigned_to"], Value::Null);
    let mut fields: Vec<&String> = bobs.as_object().expect("object").keys().collect();
    fields.sort();
    assert_eq!(
        fields,
        [
            "answered",
            "assigned_to",
            "conversation_seq",
            "created_at",
            "last_activity",
            "status",
            "ticket_id"
        ]
    );
    let unanswered: Value = desk
        .get("/api/v1/inbox?status=unanswered", &admin_session)
        .json()
        .expect("json");
    let unanswered = unanswered["tickets"].as_array().expect("tickets");
    assert_eq!(unanswered.len(), 1);
    assert_eq!(unanswered[0]["ticket_id"], anon_id);
    let closed: Value = desk
        .get("/api/v1/inbox?status=closed", &admin_session)
        .json()
        .expect("json");
    assert!(closed["tickets"].as_array().expect("tickets").is_empty());
    assert_eq!(
        error_code(desk.get("/api/v1/inbox?status=pending", &admin_session)),
        (StatusCode::BAD_REQUEST, "bad_query".into())
    );

    // Bob's list shows the answer.
    let list: Value = desk
        .get("/api/v1/accounts/tickets", &bob_session)
        .json()
        .expect("json");
    assert_eq!(list["tickets"][0]["answered"], true);
    assert_eq!(list["tickets"][0]["conversation_seq"], 3);
}

#[test]
fn inbox_pages_of_fifty() {
    let desk = Desk::start_with(&[("SEALDESK_ANONYMOUS_TICKETS_PER_HOUR", "1000")]);
    let admin_session = Account::new("root", "admin password", ADMIN_SEED).enrol(&desk);
    for _ in 0..51 {
        anonymous_ticket(&desk);
    }
    let page = |n: u64| -> Value {
        desk.get(
            &format!("/api/v1/inbox?status=open&page={n}"),
            &admin_session,
        )
        .json()
        .expect("json")
    };
    let first = page(0);
    let second = page(1);
    assert_eq!(first["tickets"].as_array().expect("tickets").len(), 50);
    assert_eq!(first["more"], true);
    assert_eq!(second["tickets"].as_array().expect("tickets").len(), 1);
    assert_eq!(second["more"], false);
    let mut all: Vec<Value> = first["tickets"].as_array().expect("tickets").clone();
    all.extend(
        second["tickets"]
            .as_array()
            .expect("tickets")
            .iter()
            .cloned(),
    );
    let mut ids: Vec<&str> = all
        .iter()
        .map(|t| t["ticket_id"].as_str().expect("id"))
        .collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), 51, "pages neither overlap nor skip");
    assert!(
        all.windows(2)
            .all(|w| w[0]["last_activity"].as_u64() >= w[1]["last_activity"].as_u64())
    );
    assert!(page(2)["tickets"].as_array().expect("tickets").is_empty());
}

/// The inbox's keyset cursor, assignee filter, order and counts (spec/API.md, "Inbox").
#[test]
fn inbox_cursor_filters_and_counts() {
    let desk = Desk::start_with(&[("SEALDESK_ANONYMOUS_TICKETS_PER_HOUR", "1000")]);
    let admin_session = Account::new("root", "admin password", ADMIN_SEED).enrol(&desk);
    let mut created = Vec::new();
    for _ in 0..53 {
        created.push(anonymous_ticket(&desk).0);
    }
    let get = |query: &str| -> Value {
        let response = desk.get(&format!("/api/v1/inbox{query}"), &admin_session);
        assert_eq!(response.status(), StatusCode::OK, "{query}");
        response.json().expect("json")
    };
    let ids = |page: &Value| -> Vec<String> {
        page["tickets"]
            .as_array()
            .expect("tickets")
            .iter()
            .map(|t| t["ticket_id"].as_str().expect("id").to_owned())
            .collect()
    };
    // Assign one ticket to the administrator.
    let mine = created[7].clone();
    let response = desk
        .http
        .put(
            desk.server
                .url(&format!("/api/v1/tickets/{mine}/assignment")),
        )
        .bearer_auth(&admin_session)
        .json(&json!({"assigned_to": b64(&desk.admin.key_id().0)}))
        .send()
        .expect("assign");
    assert_eq!(response.status(), StatusCode::NO_CONTENT);

    let first = get("?status=unanswered");
    assert_eq!(
        first["counts"],
        json!({"all": 53, "open": 53, "closed": 0, "waiting": 0, "on_hold": 0,
               "unanswered": 53, "mine": 1, "unassigned": 52})
    );
    assert_eq!(first["more"], true);
    let cursor = first["next_cursor"].as_str().expect("a cursor").to_owned();
    let second = get(&format!("?status=unanswered&cursor={cursor}"));
    assert_eq!(second["more"], false);
    assert_eq!(second["next_cursor"], Value::Null);
    let mut listed = ids(&first);
    listed.extend(ids(&second));
    let mut sorted = listed.clone();
    sorted.sort();
    sorted.dedup();
    let mut all = created.clone();
    all.sort();
    assert_eq!(sorted, all, "the pages hold every ticket once");

    // Oldest first is the reverse order.
    let mut oldest = ids(&get("?status=unanswered&order=oldest"));
    let cursor = get("?status=unanswered&order=oldest")["next_cursor"]
        .as_str()
        .expect("cursor")
        .to_owned();
    oldest.extend(ids(&get(&format!(
        "?status=unanswered&order=oldest&cursor={cursor}"
    ))));
    listed.reverse();
    assert_eq!(oldest, listed);

    // Assignee filters.
    assert_eq!(ids(&get("?assigned=me")), std::slice::from_ref(&mine));
    let unassigned = get("?assigned=none");
    assert!(!ids(&unassigned).contains(&mine));
    assert_eq!(unassigned["tickets"].as_array().expect("tickets").len(), 50);

    // A bad cursor, or a cursor with a page, is refused with a clear code.
    for query in [
        "?cursor=nope",
        "?cursor=AAAA",
        "?cursor=AgAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        &format!("?cursor={cursor}&page=1"),
    ] {
        assert_eq!(
            error_code(desk.get(&format!("/api/v1/inbox{query}"), &admin_session)),
            (StatusCode::BAD_REQUEST, "bad_cursor".into()),
            "{query}"
        );
    }
    // The account list takes cursors too, and refuses bad ones.
    let carol_session = Account::new("carol", "pw", [3; 32]).enrol(&desk);
    let empty: Value = desk
        .get("/api/v1/accounts/tickets", &carol_session)
        .json()
        .expect("json");
    assert_eq!(
        empty,
        json!({"tickets": [], "more": false, "next_cursor": null})
    );
    assert_eq!(
        error_code(desk.get("/api/v1/accounts/tickets?cursor=%20", &carol_session)),
        (StatusCode::BAD_REQUEST, "bad_cursor".into())
    );
}

#[test]
fn expired_sessions_are_refused() {
    let desk = Desk::start_with(&[("SEALDESK_SESSION_TTL_SECONDS", "1")]);
    let alice = Account::new("alice", "pw", [1; 32]);
    let session = alice.enrol(&desk);
    std::thread::sleep(std::time::Duration::from_millis(2100));
    assert_eq!(
        error_code(desk.get("/api/v1/accounts/tickets", &session)),
        (StatusCode::UNAUTHORIZED, "unauthorized".into())
    );
    // A fresh login works.
    let session = alice.login(&desk)["session"]
        .as_str()
        .expect("session")
        .to_owned();
    assert_eq!(
        desk.get("/api/v1/accounts/tickets", &session).status(),
        StatusCode::OK
    );
}

#[test]
fn json_errors_never_echo_the_values_sent() {
    // A secret sent in the wrong place must not come back in the error's sentence (nor reach
    // a log through it): only the field and the expected type are named.
    let desk = Desk::start();
    let secret = "hunter2-5ecret-d0-not-echo";
    for (path, body) in [
        (
            "/api/v1/accounts/prelogin",
            json!({"username": {"password": secret}}),
        ),
        ("/api/v1/accounts/prelogin", json!({"username": [secret]})),
        (
            "/api/v1/accounts/register",
            json!({"username": "alice", "salt": "AAAA", "argon2": {"memory_kib": secret,
                "iterations": 3, "parallelism": 1}, "auth_key": secret}),
        ),
    ] {
        let response = desk.post(path, &body, None);
        assert_eq!(
            response.status(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "{path}"
        );
        let text = response.text().expect("text");
        assert!(!text.contains(secret), "{path}: {text}");
        assert!(text.contains("bad_json"), "{path}: {text}");
    }
}
