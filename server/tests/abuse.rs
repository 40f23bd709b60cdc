//! Issue 12's limits on every route, against the real `sealdesk` binary: per-address limits on
//! the account routes and on every request, failed-login backoff per username (alike for
//! unknown usernames), the open-ticket cap and proof of work of account tickets, the storage
//! budget (507), the expiry of abandoned uploads, administrators' posts beyond the reporter's
//! quota, the end of live streams whose credential lapsed, the first-administrator invite and
//! the server's Argon2id floor.

// Test and tool code: a failed expectation stops the run, so it may unwrap, expect and
// panic (the workspace denies these in library code: Cargo.toml, clippy.toml).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::io::{BufRead, BufReader};
use std::sync::mpsc;
use std::time::Duration;

use reqwest::StatusCode;
use reqwest::blocking::Response;
use sealdesk_crypto::{Kind, TicketId, encrypted_len, system_rng};
use sealdesk_wire::pow::solve;
use serde_json::{Value, json};

use common::{Account, Desk, Server, Ticket, b64, error_status, first_message};

/// Asserts `429 rate_limited` with a `Retry-After` of at least one second; returns it.
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
        error_status(response),
        (StatusCode::TOO_MANY_REQUESTS, "rate_limited".into())
    );
    retry_after
}

fn prelogin(desk: &Desk, username: &str) -> Response {
    desk.post(
        "/api/v1/accounts/prelogin",
        &json!({ "username": username }),
        None,
    )
}

fn login(desk: &Desk, username: &str, auth_key: &str) -> Response {
    desk.post(
        "/api/v1/accounts/login",
        &json!({ "username": username, "auth_key": auth_key }),
        None,
    )
}

#[test]
fn sign_ins_registrations_and_every_request_are_limited_per_address() {
    let desk = Desk::start_with(&[
        ("SEALDESK_SIGN_INS_PER_MINUTE_PER_ADDRESS", "3"),
        ("SEALDESK_REGISTRATIONS_PER_HOUR_PER_ADDRESS", "2"),
    ]);
    // Pre-logins and logins share one allowance.
    assert_eq!(prelogin(&desk, "alice").status(), StatusCode::OK);
    assert_eq!(prelogin(&desk, "bob").status(), StatusCode::OK);
    let wrong = b64(&[0; 32]);
    assert_eq!(
        login(&desk, "carol", &wrong).status(),
        StatusCode::UNAUTHORIZED
    );
    let retry_after = assert_rate_limited(prelogin(&desk, "dave"));
    assert!(retry_after <= 20, "{retry_after}");
    assert_rate_limited(login(&desk, "dave", &wrong));

    // Registrations: two per hour, counted before the body is read.
    for n in 0..2 {
        let account = Account::new(&format!("user{n}"), "password", [n + 1; 32]);
        assert_eq!(account.register(&desk).status(), StatusCode::CREATED);
    }
    let third = Account::new("user9", "password", [9; 32]);
    assert_rate_limited(third.register(&desk));
    let garbage = desk
        .http
        .post(desk.server.url("/api/v1/accounts/register"))
        .header("content-type", "application/json")
        .body("{")
        .send()
        .expect("post");
    assert_rate_limited(garbage);

    // Every API route counts against the address's requests per minute.
    let desk = Desk::start_with(&[("SEALDESK_REQUESTS_PER_MINUTE_PER_ADDRESS", "5")]);
    // The invite's redemption was the first.
    for _ in 0..4 {
        let response = desk
            .http
            .get(desk.server.url("/api/v1/directory"))
            .send()
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK);
    }
    let response = desk
        .http
        .get(desk.server.url("/api/v1/settings"))
        .send()
        .unwrap();
    let retry_after = assert_rate_limited(response);
    assert!(retry_after <= 12, "five a minute: one every 12 s");
    // The mail and recovery routes count too (they were once added below the limit's layer).
    for (method, path) in [
        (reqwest::Method::POST, "/api/v1/recovery/request"),
        (reqwest::Method::GET, "/api/v1/recovery/status"),
        (reqwest::Method::GET, "/api/v1/admin/recoveries"),
        (reqwest::Method::GET, "/api/v1/admin/mail"),
        (reqwest::Method::GET, "/api/v1/accounts/notifications"),
        (reqwest::Method::POST, "/api/v1/unsubscribe/AAAA"),
    ] {
        let response = desk
            .http
            .request(method, desk.server.url(path))
            .json(&serde_json::json!({}))
            .send()
            .unwrap();
        assert_rate_limited(response);
    }
}

#[test]
fn failed_logins_back_off_per_username_alike_for_unknown_usernames() {
    let desk = Desk::start_with(&[
        ("SEALDESK_FAILED_LOGINS_BEFORE_BACKOFF", "2"),
        ("SEALDESK_LOGIN_BACKOFF_MAX_SECONDS", "60"),
    ]);
    let alice = Account::new("alice", "alice's password", [3; 32]);
    assert_eq!(alice.register(&desk).status(), StatusCode::CREATED);
    let wrong = b64(&[0; 32]);
    // An existing and an unknown username get the same answers, failure after failure.
    for username in ["alice", "nobody"] {
        for attempt in 0..3 {
            assert_eq!(
                error_status(login(&desk, username, &wrong)),
                (StatusCode::UNAUTHORIZED, "bad_credentials".into()),
                "{username} attempt {attempt}"
            );
        }
        // The third failure locked the username for a second: even the right key waits.
        let retry_after = assert_rate_limited(login(&desk, username, &alice.derived.auth_key()));
        assert_eq!(retry_after, 1, "{username}");
    }
    // The lock is per username; usernames differing in case are one.
    let bob = Account::new("bob", "bob's password", [4; 32]);
    assert_eq!(bob.register(&desk).status(), StatusCode::CREATED);
    assert_eq!(bob.login_response(&desk).status(), StatusCode::OK);
    assert_rate_limited(login(&desk, "ALICE", &wrong));
    // Once the lock has passed, the right key signs in and clears the count.
    std::thread::sleep(Duration::from_millis(1_200));
    assert_eq!(alice.login_response(&desk).status(), StatusCode::OK);
    assert_eq!(
        login(&desk, "alice", &wrong).status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(alice.login_response(&desk).status(), StatusCode::OK);
}

/// The creation body of a ticket owned by `account`'s identity.
fn account_ticket_body(desk: &Desk, account: &Account) -> Value {
    let id = TicketId::generate(&mut system_rng());
    first_message(desk, &account.identity(), id, br#"{"text":"help"}"#).3
}

#[test]
fn account_tickets_are_capped_per_account_and_per_address() {
    let desk = Desk::start_with(&[("SEALDESK_MAX_OPEN_TICKETS_PER_ACCOUNT", "2")]);
    let bob = Account::new("bob", "bob's password", [3; 32]);
    let session = bob.enrol(&desk);
    for _ in 0..2 {
        let body = account_ticket_body(&desk, &bob);
        let response = desk.post("/api/v1/tickets/account", &body, Some(&session));
        assert_eq!(response.status(), StatusCode::CREATED);
    }
    let body = account_ticket_body(&desk, &bob);
    assert_eq!(
        error_status(desk.post("/api/v1/tickets/account", &body, Some(&session))),
        (
            StatusCode::TOO_MANY_REQUESTS,
            "too_many_open_tickets".into()
        )
    );
    // Another account has its own allowance.
    let carol = Account::new("carol", "carol's password", [4; 32]);
    let carol_session = carol.enrol(&desk);
    let body = account_ticket_body(&desk, &carol);
    let response = desk.post("/api/v1/tickets/account", &body, Some(&carol_session));
    assert_eq!(response.status(), StatusCode::CREATED);
    // Concurrent creations cannot together overshoot the cap: one more fits.
    let bodies: Vec<Value> = (0..6).map(|_| account_ticket_body(&desk, &carol)).collect();
    let statuses: Vec<StatusCode> = std::thread::scope(|scope| {
        let handles: Vec<_> = bodies
            .iter()
            .map(|body| {
                scope.spawn(|| {
                    desk.post("/api/v1/tickets/account", body, Some(&carol_session))
                        .status()
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let created = statuses
        .iter()
        .filter(|s| **s == StatusCode::CREATED)
        .count();
    assert!(created <= 1, "{statuses:?}");
    let listed: Value = desk
        .get("/api/v1/accounts/tickets", &carol_session)
        .json()
        .unwrap();
    assert!(listed["tickets"].as_array().unwrap().len() <= 2, "{listed}");

    let desk = Desk::start_with(&[("SEALDESK_ACCOUNT_TICKETS_PER_HOUR_PER_ADDRESS", "1")]);
    let session = bob.enrol(&desk);
    let body = account_ticket_body(&desk, &bob);
    let response = desk.post("/api/v1/tickets/account", &body, Some(&session));
    assert_eq!(response.status(), StatusCode::CREATED);
    let body = account_ticket_body(&desk, &bob);
    assert_rate_limited(desk.post("/api/v1/tickets/account", &body, Some(&session)));
}

#[test]
fn account_tickets_need_the_proof_of_work_when_the_instance_asks() {
    let desk = Desk::start_with(&[
        ("SEALDESK_PROOF_OF_WORK_BITS", "4"),
        ("SEALDESK_PROOF_OF_WORK_FOR_ACCOUNT_TICKETS", "true"),
    ]);
    let bob = Account::new("bob", "bob's password", [3; 32]);
    let session = bob.enrol(&desk);
    let mut body = account_ticket_body(&desk, &bob);
    assert_eq!(
        error_status(desk.post("/api/v1/tickets/account", &body, Some(&session))),
        (StatusCode::BAD_REQUEST, "pow_required".into())
    );
    let challenge: Value = desk
        .http
        .get(desk.server.url("/api/v1/pow/challenge?for=account"))
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(challenge["bits"], 4);
    let text = challenge["challenge"].as_str().unwrap();
    let bytes: [u8; 32] = common::unb64(&challenge["challenge"]).try_into().unwrap();
    let nonce = solve(&bytes, 4).unwrap();
    body["pow"] = json!({ "challenge": text, "nonce": nonce });
    let response = desk.post("/api/v1/tickets/account", &body, Some(&session));
    assert_eq!(response.status(), StatusCode::CREATED);

    // With the proof of work for anonymous tickets only, accounts are asked for none.
    let desk = Desk::start_with(&[("SEALDESK_PROOF_OF_WORK_BITS", "4")]);
    let for_account: Value = desk
        .http
        .get(desk.server.url("/api/v1/pow/challenge?for=account"))
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(
        for_account,
        json!({"challenge": null, "bits": 0, "expires_at": null})
    );
    let session = bob.enrol(&desk);
    let body = account_ticket_body(&desk, &bob);
    let response = desk.post("/api/v1/tickets/account", &body, Some(&session));
    assert_eq!(response.status(), StatusCode::CREATED);
}

/// Attachment declarations of one ticket with its access token.
fn declare(desk: &Desk, ticket: &Ticket, size: u64) -> Response {
    desk.post(
        &format!("/api/v1/tickets/{}/attachments", ticket.id()),
        &json!({ "size": size }),
        Some(&ticket.token),
    )
}

#[test]
fn past_the_storage_budget_new_tickets_and_uploads_get_507_and_conversations_go_on() {
    let root = tempfile::tempdir().unwrap();
    let desk = Desk::with(Server::options().dir(root.path()));
    let mut ticket = Ticket::open(&desk);
    let Desk {
        mut server,
        http,
        admin,
        directory,
    } = desk;
    server.kill();
    // The same data, now over a one-byte budget.
    let full = Server::options()
        .dir(root.path())
        .no_invite()
        .env("SEALDESK_MAX_DATA_BYTES", "1")
        .start();
    let desk = Desk {
        server: full,
        http,
        admin,
        directory,
    };
    let (_, body) = Ticket::draft(&desk, b"{}");
    let response = desk.post("/api/v1/tickets", &body, None);
    assert_eq!(
        error_status(response),
        (StatusCode::INSUFFICIENT_STORAGE, "storage_full".into())
    );
    assert_eq!(
        error_status(declare(&desk, &ticket, encrypted_len(10).unwrap())),
        (StatusCode::INSUFFICIENT_STORAGE, "storage_full".into())
    );
    // The conversation goes on, both ways.
    ticket.post(&desk, false);
    ticket.post(&desk, true);
    drop(server);
}

#[test]
fn abandoned_uploads_expire_and_administrators_post_beyond_the_quota() {
    let desk = Desk::start_with(&[
        ("SEALDESK_MAX_ATTACHMENT_BYTES", "100000"),
        ("SEALDESK_TICKET_QUOTA_BYTES", "100000"),
        ("SEALDESK_UPLOAD_EXPIRY_SECONDS", "2"),
    ]);
    let mut ticket = Ticket::open(&desk);
    // A leaked access token declares uploads that fill the quota and never sends them.
    let size = encrypted_len(95_000).unwrap();
    let response = declare(&desk, &ticket, size);
    assert_eq!(response.status(), StatusCode::CREATED);
    let abandoned = response.json::<Value>().unwrap()["attachment_id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(
        error_status(declare(&desk, &ticket, size)),
        (StatusCode::PAYLOAD_TOO_LARGE, "quota_exceeded".into())
    );
    // Ever smaller declarations leave less than 33 bytes of the quota.
    for plain in [4096, 2048, 1024, 512, 256, 128, 64, 32, 16, 8, 4, 2, 1, 0] {
        while declare(&desk, &ticket, encrypted_len(plain).unwrap()).status() == StatusCode::CREATED
        {
        }
    }
    // The reporter's own posts no longer fit; the administrator's still do.
    let message = ticket.seal(&ticket.reporter, Kind::Message, desk.directory.head_seq());
    let refused = ticket.send(&desk, &message.to_bytes(), Some(&ticket.token));
    assert_eq!(
        error_status(refused),
        (StatusCode::PAYLOAD_TOO_LARGE, "quota_exceeded".into()),
        "the reporter is held to the quota"
    );
    ticket.post(&desk, true);
    ticket.post(&desk, true);

    // Past the expiry the abandoned upload is gone and its reservation released.
    std::thread::sleep(Duration::from_millis(2_500));
    let response = declare(&desk, &ticket, size);
    assert_eq!(response.status(), StatusCode::CREATED, "quota released");
    let chunk = desk
        .http
        .put(desk.server.url(&format!(
            "/api/v1/tickets/{}/attachments/{abandoned}/chunks/0",
            ticket.id()
        )))
        .bearer_auth(&ticket.token)
        .header("content-type", "application/octet-stream")
        .body(vec![0u8; 32])
        .send()
        .unwrap();
    assert_eq!(
        error_status(chunk),
        (StatusCode::NOT_FOUND, "not_found".into())
    );
}

/// Opens an event stream; the channel yields `(event, data)` and disconnects when the stream
/// ends.
fn subscribe(desk: &Desk, path: &str, bearer: &str) -> mpsc::Receiver<(String, Value)> {
    let response = reqwest::blocking::Client::builder()
        .timeout(None)
        .build()
        .unwrap()
        .get(desk.server.url(path))
        .bearer_auth(bearer)
        .send()
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut event = String::new();
        for line in BufReader::new(response).lines() {
            let Ok(line) = line else { break };
            if let Some(name) = line.strip_prefix("event: ") {
                event = name.to_owned();
            } else if let Some(data) = line.strip_prefix("data: ") {
                let value = serde_json::from_str(data).unwrap();
                if tx.send((event.clone(), value)).is_err() {
                    break;
                }
            }
        }
    });
    let (name, _) = rx.recv_timeout(Duration::from_secs(5)).unwrap();
    assert_eq!(name, "ready");
    rx
}

/// Waits for the stream to end with `end` and `reason`, then for the connection to close.
fn ends_with(rx: &mpsc::Receiver<(String, Value)>, reason: &str) {
    let (name, data) = rx
        .recv_timeout(Duration::from_secs(6))
        .expect("the stream ends within 6 seconds");
    assert_eq!(
        (name.as_str(), data["reason"].as_str()),
        ("end", Some(reason))
    );
    assert!(matches!(
        rx.recv_timeout(Duration::from_secs(5)),
        Err(mpsc::RecvTimeoutError::Disconnected)
    ));
}

#[test]
fn live_streams_end_when_their_credential_lapses_or_they_grow_old() {
    let desk = Desk::start_with(&[("SEALDESK_EVENT_STREAM_RECHECK_SECONDS", "1")]);
    let admin = Account::new("root", "admin password", common::ADMIN_SEED);
    let ticket = Ticket::open(&desk);

    // Logout.
    let session = admin.enrol(&desk);
    let inbox = subscribe(&desk, "/api/v1/inbox/events", &session);
    let path = format!("/api/v1/tickets/{}/events", ticket.id());
    let of_ticket = subscribe(&desk, &path, &session);
    let response = desk.post("/api/v1/accounts/logout", &json!({}), Some(&session));
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    ends_with(&inbox, "revoked");
    ends_with(&of_ticket, "revoked");

    // A password change ends the other sessions' streams.
    let bob = Account::new("bob", "bob's password", [3; 32]);
    let bob_session = bob.enrol(&desk);
    let body = account_ticket_body(&desk, &bob);
    let created: Value = desk
        .post("/api/v1/tickets/account", &body, Some(&bob_session))
        .json()
        .unwrap();
    let path = format!(
        "/api/v1/tickets/{}/events",
        created["ticket_id"].as_str().unwrap()
    );
    let elsewhere = bob.login(&desk)["session"].as_str().unwrap().to_owned();
    let stream = subscribe(&desk, &path, &elsewhere);
    let new = common::Derived::new("bob's new password");
    let change = json!({
        "current_auth_key": bob.derived.auth_key(),
        "salt": b64(&new.salt),
        "argon2": common::cheap(),
        "auth_key": new.auth_key(),
        "keyring": b64(&new.seal([3; 32], b"{\"links\":[]}")),
    });
    let response = desk
        .http
        .put(desk.server.url("/api/v1/accounts/keyring"))
        .bearer_auth(&bob_session)
        .json(&change)
        .send()
        .unwrap();
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    ends_with(&stream, "revoked");

    // The reporter's access token stays valid: its stream lives on.
    let reporter = subscribe(
        &desk,
        &format!("/api/v1/tickets/{}/events", ticket.id()),
        &ticket.token,
    );
    assert!(matches!(
        reporter.recv_timeout(Duration::from_secs(3)),
        Err(mpsc::RecvTimeoutError::Timeout)
    ));

    // Expiry (sessions live 3 seconds).
    let desk = Desk::start_with(&[
        ("SEALDESK_EVENT_STREAM_RECHECK_SECONDS", "1"),
        ("SEALDESK_SESSION_TTL_SECONDS", "3"),
    ]);
    let session = admin.enrol(&desk);
    let inbox = subscribe(&desk, "/api/v1/inbox/events", &session);
    ends_with(&inbox, "revoked");

    // A maximum lifetime ends even a valid stream; the client reconnects.
    let desk = Desk::start_with(&[("SEALDESK_EVENT_STREAM_MAX_SECONDS", "2")]);
    let ticket = Ticket::open(&desk);
    let path = format!("/api/v1/tickets/{}/events", ticket.id());
    let stream = subscribe(&desk, &path, &ticket.token);
    ends_with(&stream, "lifetime");
    subscribe(&desk, &path, &ticket.token);
}

#[test]
fn an_administrators_streams_end_when_it_is_removed_from_the_directory() {
    let mut desk = Desk::start_with(&[("SEALDESK_EVENT_STREAM_RECHECK_SECONDS", "1")]);
    let root = Account::new("root", "admin password", common::ADMIN_SEED);
    let root_session = root.enrol(&desk);
    // Opened while the root is the only administrator, whom the harness wraps for.
    let ticket = Ticket::open(&desk);
    // Bob becomes an administrator: invite, redemption, `add` entry.
    let bob = Account::new("bob", "bob's password", [9; 32]);
    let bob_session = bob.enrol(&desk);
    let invite: Value = desk
        .post("/api/v1/admin/invites", &json!({}), Some(&root_session))
        .json()
        .unwrap();
    let response = desk.post(
        "/api/v1/admin/invites/redeem",
        &json!({"invite": invite["invite"], "username": "bob"}),
        Some(&bob_session),
    );
    assert_eq!(response.status(), StatusCode::CREATED);
    let append = |desk: &Desk, entry: &sealdesk_crypto::DirectoryEntry| {
        desk.post(
            "/api/v1/directory",
            &json!({"entry": b64(&entry.to_bytes())}),
            Some(&root_session),
        )
    };
    let add =
        sealdesk_crypto::DirectoryEntry::add(&desk.directory, &desk.admin, bob.identity().public())
            .unwrap();
    assert_eq!(append(&desk, &add).status(), StatusCode::CREATED);
    desk.directory.extend(std::slice::from_ref(&add)).unwrap();

    let inbox = subscribe(&desk, "/api/v1/inbox/events", &bob_session);
    let path = format!("/api/v1/tickets/{}/events", ticket.id());
    let of_ticket = subscribe(&desk, &path, &bob_session);
    let remove = sealdesk_crypto::DirectoryEntry::remove(
        &desk.directory,
        &desk.admin,
        bob.identity().public(),
    )
    .unwrap();
    assert_eq!(append(&desk, &remove).status(), StatusCode::CREATED);
    ends_with(&inbox, "revoked");
    ends_with(&of_ticket, "revoked");
}

#[test]
fn the_first_invite_is_one_short_lived_private_file_replaced_at_each_start() {
    let root = tempfile::tempdir().unwrap();
    let mut first = Server::options().dir(root.path()).start();
    let old = first.invite.clone().unwrap();
    let file = root.path().join("data").join("first-invite.txt");
    let text = std::fs::read_to_string(&file).expect("the invite file");
    assert!(text.trim_end().ends_with(&format!("#{old}")), "{text}");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&file).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "{mode:o}");
    }
    first.kill();
    // A second start replaces it: the old link no longer works.
    let second = Server::options().dir(root.path()).start();
    let new = second.invite.clone().unwrap();
    assert_ne!(old, new);
    let http = reqwest::blocking::Client::new();
    let genesis = sealdesk_crypto::DirectoryEntry::genesis(&sealdesk_crypto::Identity::from_seed(
        &sealdesk_crypto::IdentitySeed::from_bytes(common::ADMIN_SEED),
    ));
    let redeem = |invite: &str| {
        http.post(second.url("/api/v1/invites/redeem-genesis"))
            .json(&json!({"invite": invite, "entry": b64(&genesis.to_bytes())}))
            .send()
            .unwrap()
    };
    assert_eq!(
        error_status(redeem(&old)),
        (StatusCode::FORBIDDEN, "invalid_invite".into())
    );
    assert_eq!(redeem(&new).status(), StatusCode::CREATED);
    assert!(!file.exists(), "removed once redeemed");
    let invites = root.path().join("data").join("invites");
    let left = std::fs::read_dir(&invites).map_or(0, |dir| dir.count());
    assert_eq!(left, 0, "no invite outstanding");
}

#[test]
fn the_argon2id_floor_defaults_to_the_documented_parameters() {
    // The harness lowers the floor for the tests' cheap parameters; here the defaults hold.
    let desk = Desk::start_with(&[
        ("SEALDESK_ARGON2_MIN_MEMORY_KIB", "65536"),
        ("SEALDESK_ARGON2_MIN_ITERATIONS", "3"),
    ]);
    let cheap = Account::new("alice", "password", [3; 32]);
    assert_eq!(
        error_status(cheap.register(&desk)),
        (StatusCode::UNPROCESSABLE_ENTITY, "key_derivation".into())
    );
}
