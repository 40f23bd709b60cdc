//! The plaintext scan: a full scenario in which every field a person types carries a unique
//! marker (name, email, subject, message, category, debug data, file name, file contents, an
//! administrator's reply and internal note, an account's keyring data). Afterwards no marker,
//! and no bearer token, appears in any file of the data directory or in the server's log.

// Test and tool code: a failed expectation stops the run, so it may unwrap, expect and
// panic (the workspace denies these in library code: Cargo.toml, clippy.toml).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use sealdesk_crypto::{
    Argon2Params, Chain, ChainState, FileKey, Identity, Keyring, Kind, MasterKey, Members, Message,
    Placement, StreamEncryptor, TicketKey, TicketSecret, WrapSlot, WrappedKey, Zeroizing,
    generate_salt, system_rng,
};
use serde_json::{Value, json};

use common::{Desk, Server, b64};

const MARKERS: [&str; 11] = [
    "MARKER-NAME-7d1f",
    "marker-email-3b9e@example.org",
    "MARKER-SUBJECT-c42a",
    "MARKER-MESSAGE-91fe",
    "MARKER-CATEGORY-0b6d",
    "MARKER-DEBUG-5e27",
    "MARKER-FILENAME-a8c3.png",
    "MARKER-FILECONTENT-66d0",
    "MARKER-REPLY-f2b5",
    "MARKER-NOTE-19aa",
    "MARKER-KEYRING-d74c",
];

/// Every file below `dir`, recursively.
fn files(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).expect("read_dir") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            out.extend(files(&path));
        } else {
            out.push(path);
        }
    }
    out
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

#[test]
fn no_plaintext_or_token_reaches_the_disk_or_the_log() {
    // Standard error (at the debug level) goes to a file outside the data directory.
    let Desk {
        mut server,
        http,
        admin,
        directory,
    } = Desk::with(
        Server::options()
            .log_to_file()
            .env("SEALDESK_LOG_LEVEL", "debug"),
    );
    let url = |path: &str| server.url(path);
    let mut rng = system_rng();

    // An account whose keyring carries a marker.
    let salt = generate_salt(&mut rng);
    let master =
        MasterKey::derive(b"hunter2", &salt, Argon2Params::TEST_ONLY_CHEAP).expect("argon2");
    let (seed, account_identity) = Identity::generate(&mut rng);
    let keyring = Keyring {
        identity_seed: seed,
        app_data: Zeroizing::new(format!("{{\"note\":\"{}\"}}", MARKERS[10]).into_bytes()),
    };
    let sealed = master
        .keyring_key()
        .seal(&keyring, &mut rng)
        .expect("seal keyring");
    let auth = master.auth_key();
    let response = http
        .post(url("/api/v1/accounts/register"))
        .json(&json!({
            "username": "scanner",
            "salt": b64(&salt),
            "argon2": {"memory_kib": 256, "iterations": 1, "parallelism": 1},
            "auth_key": b64(auth.as_bytes()),
            "keyring": b64(&sealed),
            "identity": b64(&account_identity.public().to_bytes()),
            "identity_proof": b64(&account_identity.sign_identity_proof("scanner", &auth.server_hash())),
        }))
        .send()
        .expect("register");
    assert_eq!(
        response.status().as_u16(),
        201,
        "{}",
        response.text().unwrap_or_default()
    );
    let login: Value = http
        .post(url("/api/v1/accounts/login"))
        .json(&json!({"username": "scanner", "auth_key": b64(auth.as_bytes())}))
        .send()
        .expect("login")
        .json()
        .expect("json");
    let session = login["session"].as_str().expect("session").to_owned();

    // An anonymous ticket: the form's fields inside the first message, debug data, an
    // attachment and its reference, an administrator's reply and an internal note.
    let secret = TicketSecret::generate(&mut rng);
    let reporter = secret.identity();
    let id = secret.ticket_id();
    let key = TicketKey::generate(&mut rng);
    let members = Members::new(id, reporter.public().clone());
    let mut state = ChainState::new(id, Chain::Conversation);
    let token = secret.access_token();
    let bearer = token.to_base64url();
    let place = |state: &ChainState, kind| Placement {
        ticket_id: id,
        chain: Chain::Conversation,
        seq: state.last_seq() + 1,
        prev_hash: state.last_hash(),
        epoch: 0,
        dir_seq: 0,
        kind,
    };
    let form = json!({
        "name": MARKERS[0], "email": MARKERS[1], "subject": MARKERS[2],
        "text": MARKERS[3], "category": MARKERS[4],
    });
    let first = Message::seal(
        &reporter,
        place(&state, Kind::Message),
        &key,
        form.to_string().as_bytes(),
        &mut rng,
    )
    .expect("seal");
    let wraps: Vec<String> = [reporter.public(), admin.public()]
        .iter()
        .map(|r| {
            b64(&WrappedKey::seal(
                &reporter,
                r,
                WrapSlot {
                    ticket_id: id,
                    chain: Chain::Conversation,
                    epoch: 0,
                    dir_seq: 0,
                },
                &key,
                &mut rng,
            )
            .expect("wrap")
            .to_bytes())
        })
        .collect();
    let response = http
        .post(url("/api/v1/tickets"))
        .json(&json!({
            "reporter": b64(&reporter.public().to_bytes()),
            "access_token_hash": b64(&token.hash()),
            "message": b64(&first.to_bytes()),
            "wraps": wraps,
            "notify_email": MARKERS[1],
        }))
        .send()
        .expect("create");
    assert_eq!(response.status().as_u16(), 201);
    state.push(&first, &members, &directory).expect("valid");
    let messages_url = url(&format!("/api/v1/tickets/{}/messages", id.to_hex()));
    let post = |sender: &Identity, kind, content: &[u8], state: &mut ChainState| {
        let message = Message::seal(sender, place(state, kind), &key, content, &mut system_rng())
            .expect("seal");
        let response = http
            .post(&messages_url)
            .bearer_auth(&bearer)
            .json(&json!({"message": b64(&message.to_bytes())}))
            .send()
            .expect("post");
        assert_eq!(response.status().as_u16(), 201);
        state.push(&message, &members, &directory).expect("valid");
    };
    post(
        &reporter,
        Kind::DebugData,
        json!({"user_agent": MARKERS[5]}).to_string().as_bytes(),
        &mut state,
    );

    // The attachment: its bytes encrypted as a stream, uploaded in chunks.
    let file_key = FileKey::generate(&mut rng);
    let contents = MARKERS[7].repeat(100);
    let (mut encryptor, nonce) = StreamEncryptor::new(&file_key, &mut rng);
    let mut stream = nonce.to_vec();
    encryptor
        .update(contents.as_bytes(), &mut stream)
        .expect("update");
    encryptor.finish(&mut stream).expect("finish");
    let declared: Value = http
        .post(url(&format!("/api/v1/tickets/{}/attachments", id.to_hex())))
        .bearer_auth(&bearer)
        .json(&json!({"size": stream.len()}))
        .send()
        .expect("declare")
        .json()
        .expect("json");
    let aid = declared["attachment_id"]
        .as_str()
        .expect("attachment id")
        .to_owned();
    let response = http
        .put(url(&format!(
            "/api/v1/tickets/{}/attachments/{aid}/chunks/0",
            id.to_hex()
        )))
        .bearer_auth(&bearer)
        .header("content-type", "application/octet-stream")
        .body(stream.clone())
        .send()
        .expect("chunk");
    assert!(
        response.status().is_success(),
        "chunk: {}",
        response.status()
    );
    let response = http
        .post(url(&format!(
            "/api/v1/tickets/{}/attachments/{aid}/complete",
            id.to_hex()
        )))
        .bearer_auth(&bearer)
        .send()
        .expect("complete");
    assert!(
        response.status().is_success(),
        "complete: {}",
        response.status()
    );
    let reference = json!({"attachment_id": aid, "name": MARKERS[6], "type": "image/png",
        "size": contents.len(), "key": b64(file_key.as_bytes())});
    post(
        &reporter,
        Kind::AttachmentRef,
        reference.to_string().as_bytes(),
        &mut state,
    );
    post(
        &admin,
        Kind::Message,
        json!({"text": MARKERS[8]}).to_string().as_bytes(),
        &mut state,
    );

    // An internal note on the notes chain.
    let notes_key = TicketKey::generate(&mut rng);
    let note = Message::seal(
        &admin,
        Placement {
            ticket_id: id,
            chain: Chain::Notes,
            seq: 1,
            prev_hash: [0; 32],
            epoch: 0,
            dir_seq: 0,
            kind: Kind::InternalNote,
        },
        &notes_key,
        json!({"text": MARKERS[9]}).to_string().as_bytes(),
        &mut rng,
    )
    .expect("seal note");
    let note_wrap = WrappedKey::seal(
        &admin,
        admin.public(),
        WrapSlot {
            ticket_id: id,
            chain: Chain::Notes,
            epoch: 0,
            dir_seq: 0,
        },
        &notes_key,
        &mut rng,
    )
    .expect("wrap");
    let response = http
        .post(&messages_url)
        .json(&json!({"message": b64(&note.to_bytes()), "wraps": [b64(&note_wrap.to_bytes())]}))
        .send()
        .expect("note");
    assert_eq!(response.status().as_u16(), 201);

    // Reads too, so that the log holds every kind of request.
    let response = http
        .get(&messages_url)
        .bearer_auth(&bearer)
        .send()
        .expect("read");
    assert_eq!(response.status().as_u16(), 200);

    // Graceful stop: everything is flushed and the log is complete.
    let pid = server.child.id().to_string();
    assert!(
        Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .expect("kill")
            .success()
    );
    let deadline = Instant::now() + Duration::from_secs(10);
    while server.child.try_wait().expect("wait").is_none() {
        assert!(Instant::now() < deadline, "server did not stop");
        std::thread::sleep(Duration::from_millis(50));
    }

    let log = std::fs::read(server.log_path()).expect("log");
    assert!(
        contains(&log, b"/api/v1/tickets/{id}/messages"),
        "the log records requests"
    );
    let mut needles: Vec<Vec<u8>> = MARKERS.iter().map(|m| m.as_bytes().to_vec()).collect();
    // Bearer tokens in the forms clients send, and the ticket secret.
    needles.push(bearer.into_bytes());
    needles.push(session.into_bytes());
    needles.push(secret.to_fragment().into_bytes());
    let files = files(server.data_dir());
    let db = server.data_dir().join("db");
    assert!(
        std::fs::metadata(&db).is_ok_and(|m| m.len() > 0) && files.contains(&db),
        "the scan covers sled's database file"
    );
    for needle in &needles {
        let shown = String::from_utf8_lossy(needle);
        assert!(!contains(&log, needle), "the log contains {shown}");
        for file in &files {
            let bytes = std::fs::read(file).expect("read");
            assert!(
                !contains(&bytes, needle),
                "{} contains {shown}",
                file.display()
            );
        }
    }
}
