//! Public instance settings against the real `sealdesk` binary: anyone reads them, only an
//! administrator's session replaces them, bad settings change nothing, and they survive a
//! restart.

// Test and tool code: a failed expectation stops the run, so it may unwrap, expect and
// panic (the workspace denies these in library code: Cargo.toml, clippy.toml).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use serde_json::{Value, json};

use common::{ADMIN_SEED, Account, Desk, Server, error_code};

fn session(desk: &Desk, username: &str, seed: [u8; 32]) -> String {
    let account = Account::with_app_data(username, "correct horse", seed, b"{}");
    assert_eq!(account.register(desk).status().as_u16(), 201, "register");
    let login: Value = account.login_response(desk).json().expect("login");
    login["session"].as_str().expect("session").to_owned()
}

fn read(desk: &Desk) -> Value {
    let response = desk
        .http
        .get(desk.server.url("/api/v1/settings"))
        .send()
        .expect("get");
    assert_eq!(response.status().as_u16(), 200);
    response.json().expect("json")
}

fn put(desk: &Desk, body: &Value, session: Option<&str>) -> reqwest::blocking::Response {
    let mut request = desk
        .http
        .put(desk.server.url("/api/v1/settings"))
        .json(body);
    if let Some(session) = session {
        request = request.bearer_auth(session);
    }
    request.send().expect("put")
}

#[test]
fn administrators_set_what_everyone_reads() {
    let mut desk = Desk::start();
    let empty = read(&desk);
    assert_eq!(empty["categories"], json!([]));
    assert_eq!(empty["languages"], json!([]));
    assert_eq!(empty["support_hours"], "");
    assert_eq!(empty["response_time"], "");
    assert!(empty["max_attachment_bytes"].as_u64().expect("limit") > 0);
    assert!(empty["version"].is_string());
    assert_eq!(
        empty["embed_origins"],
        json!([]),
        "no host may frame the tab by default"
    );

    let settings = json!({
        "categories": [{"name": " Network ", "guidance": "Which VPN client?"}, {"name": "Mail"}],
        "languages": ["English", "Deutsch"],
        "support_hours": "Monday to Friday, 9:00 to 17:00 CET",
        "response_time": "within one working day",
    });
    assert_eq!(
        error_code(put(&desk, &settings, None)),
        (401, "unauthorized".into())
    );
    let reporter = session(&desk, "reporter", [9; 32]);
    assert_eq!(
        error_code(put(&desk, &settings, Some(&reporter))),
        (403, "not_an_administrator".into())
    );

    let admin = session(&desk, "admin", ADMIN_SEED);
    let response = put(&desk, &settings, Some(&admin));
    assert_eq!(response.status().as_u16(), 200);
    let stored: Value = response.json().expect("json");
    assert_eq!(
        stored["categories"],
        json!([{"name": "Network", "guidance": "Which VPN client?"},
               {"name": "Mail", "guidance": ""}])
    );
    assert_eq!(read(&desk), stored);

    // Refused settings change nothing.
    let twice = json!({"categories": [{"name": "Mail"}, {"name": "mail"}]});
    assert_eq!(
        error_code(put(&desk, &twice, Some(&admin))),
        (422, "bad_settings".into())
    );
    let unknown = json!({"theme": "dark"});
    assert_eq!(
        error_code(put(&desk, &unknown, Some(&admin))),
        (422, "bad_json".into())
    );
    assert_eq!(read(&desk), stored);

    desk.server.restart();
    assert_eq!(read(&desk), stored);
}

/// `embed_origins` is published as configured, so the support tab knows whose messages to take.
#[test]
fn the_embedding_origins_are_published() {
    let server = Server::start(&[(
        "SEALDESK_EMBED_ORIGINS",
        "https://app.example.org, http://127.0.0.1:3000",
    )]);
    let answer: Value = reqwest::blocking::get(server.url("/api/v1/settings"))
        .expect("get")
        .json()
        .expect("json");
    assert_eq!(
        answer["embed_origins"],
        json!(["https://app.example.org", "http://127.0.0.1:3000"])
    );
}
