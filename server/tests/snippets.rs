//! The team key and snippets (canned replies) against the real `sealdesk` binary: who may use
//! the routes, how a new epoch and history wraps are checked, and what a snippet must be for
//! the server to store it (spec/API.md "Team key and snippets", PROTOCOL.md §18).

// Test and tool code: a failed expectation stops the run, so it may unwrap, expect and
// panic (the workspace denies these in library code: Cargo.toml, clippy.toml).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use reqwest::blocking::Response;
use sealdesk_crypto::{
    Identity, IdentitySeed, Snippet, SnippetContent, SnippetId, TeamKey, TeamWrap, TeamWrapContext,
    system_rng,
};
use serde_json::{Value, json};

use common::{ADMIN_SEED, Account, Desk, b64, error_code, unb64};

fn enrol(desk: &Desk, username: &str, seed: [u8; 32]) -> String {
    let account = Account::with_app_data(username, "correct horse", seed, b"{}");
    assert_eq!(account.register(desk).status().as_u16(), 201);
    let login: Value = account.login_response(desk).json().expect("login");
    login["session"].as_str().expect("session").to_owned()
}

fn send(
    desk: &Desk,
    method: reqwest::Method,
    path: &str,
    body: Option<&Value>,
    session: Option<&str>,
) -> Response {
    let mut request = desk.http.request(method, desk.server.url(path));
    if let Some(body) = body {
        request = request.json(body);
    }
    if let Some(session) = session {
        request = request.bearer_auth(session);
    }
    request.send().expect("request")
}

fn post_wraps(desk: &Desk, wraps: &[&TeamWrap], session: Option<&str>) -> Response {
    let wraps: Vec<String> = wraps.iter().map(|w| b64(&w.to_bytes())).collect();
    send(
        desk,
        reqwest::Method::POST,
        "/api/v1/admin/team-keys",
        Some(&json!({ "wraps": wraps })),
        session,
    )
}

fn put_snippet(desk: &Desk, id: &str, snippet: &[u8], session: Option<&str>) -> Response {
    send(
        desk,
        reqwest::Method::PUT,
        &format!("/api/v1/admin/snippets/{id}"),
        Some(&json!({ "snippet": b64(snippet) })),
        session,
    )
}

fn wrap(by: &Identity, to: &Identity, epoch: u32, opened_at: u64, key: &TeamKey) -> TeamWrap {
    let context = TeamWrapContext {
        epoch,
        opened_at,
        dir_seq: opened_at,
        recipient: to.key_id(),
        wrapper: by.key_id(),
    };
    TeamWrap::seal(by, to.public(), context, key, &mut system_rng()).expect("wrap")
}

fn content(title: &str) -> SnippetContent {
    SnippetContent {
        title: title.into(),
        body: "Hello {reporter_name}".into(),
    }
}

#[test]
fn team_keys_and_snippets_routes() {
    let desk = Desk::start();
    let alice = Identity::from_seed(&IdentitySeed::from_bytes(ADMIN_SEED));
    let a_session = enrol(&desk, "alice", ADMIN_SEED);
    let bob = Identity::from_seed(&IdentitySeed::from_bytes([9; 32]));
    let b_session = enrol(&desk, "bob", [9; 32]);
    let key = TeamKey::from_bytes([5; 32]);
    let get = reqwest::Method::GET;

    // Administrators only.
    for path in ["/api/v1/admin/team-keys", "/api/v1/admin/snippets"] {
        assert_eq!(
            error_code(send(&desk, get.clone(), path, None, None)),
            (401, "unauthorized".into())
        );
        assert_eq!(
            error_code(send(&desk, get.clone(), path, None, Some(&b_session))),
            (403, "not_an_administrator".into())
        );
    }
    let first = wrap(&alice, &alice, 0, 0, &key);
    assert_eq!(
        error_code(post_wraps(&desk, &[&first], Some(&b_session))),
        (403, "not_an_administrator".into())
    );

    // Nothing yet.
    let keys: Value = send(
        &desk,
        get.clone(),
        "/api/v1/admin/team-keys",
        None,
        Some(&a_session),
    )
    .json()
    .unwrap();
    assert_eq!(keys, json!({"epochs": [], "wraps": []}));

    // Bad requests change nothing.
    assert_eq!(
        error_code(send(
            &desk,
            reqwest::Method::POST,
            "/api/v1/admin/team-keys",
            Some(&json!({"wraps": []})),
            Some(&a_session)
        )),
        (400, "bad_team_wraps".into())
    );
    assert_eq!(
        error_code(send(
            &desk,
            reqwest::Method::POST,
            "/api/v1/admin/team-keys",
            Some(&json!({"wraps": ["!!"]})),
            Some(&a_session)
        )),
        (400, "bad_encoding".into())
    );
    assert_eq!(
        error_code(send(
            &desk,
            reqwest::Method::POST,
            "/api/v1/admin/team-keys",
            Some(&json!({"wraps": [b64(&[1u8; 100])]})),
            Some(&a_session)
        )),
        (422, "malformed".into())
    );
    // For bob, who is no administrator: refused by the directory check.
    let for_bob = wrap(&alice, &bob, 0, 0, &key);
    assert_eq!(
        error_code(post_wraps(&desk, &[&for_bob], Some(&a_session))),
        (422, "team_key.not_a_member".into())
    );
    // Not the next number, or not at the head.
    assert_eq!(
        error_code(post_wraps(
            &desk,
            &[&wrap(&alice, &alice, 1, 0, &key)],
            Some(&a_session)
        )),
        (409, "epoch_taken".into())
    );
    // A signature that does not verify.
    let mut forged = first.clone();
    forged.signature[0] ^= 1;
    assert_eq!(
        error_code(post_wraps(&desk, &[&forged], Some(&a_session))),
        (422, "team_key.bad_signature".into())
    );

    // A snippet before any epoch: refused.
    let id = SnippetId([7; 16]);
    let id_hex = hex::encode(id.0);
    let snippet = Snippet::seal(&alice, id, 0, &key, &content("Hi"), &mut system_rng()).unwrap();
    assert_eq!(
        error_code(put_snippet(
            &desk,
            &id_hex,
            &snippet.to_bytes(),
            Some(&a_session)
        )),
        (422, "snippet.bad_epoch".into())
    );

    // Epoch 0 for alice, the only administrator.
    let response = post_wraps(&desk, &[&first], Some(&a_session));
    assert_eq!(response.status().as_u16(), 201);
    assert_eq!(response.json::<Value>().unwrap(), json!({"stored": 1}));
    assert_eq!(
        error_code(post_wraps(&desk, &[&first], Some(&a_session))),
        (409, "wrap_exists".into())
    );
    let keys: Value = send(
        &desk,
        get.clone(),
        "/api/v1/admin/team-keys",
        None,
        Some(&a_session),
    )
    .json()
    .unwrap();
    assert_eq!(
        keys["epochs"],
        json!([{"epoch": 0, "opened_at": 0, "recipients": [b64(&alice.key_id().0)]}])
    );
    assert_eq!(keys["wraps"], json!([b64(&first.to_bytes())]));

    // Snippets: created, replaced, listed.
    let response = put_snippet(&desk, &id_hex, &snippet.to_bytes(), Some(&a_session));
    assert_eq!(response.status().as_u16(), 201);
    let created: Value = response.json().unwrap();
    assert_eq!(created["id"], json!(id_hex));
    let edited = Snippet::seal(&alice, id, 0, &key, &content("Hello"), &mut system_rng()).unwrap();
    let response = put_snippet(&desk, &id_hex, &edited.to_bytes(), Some(&a_session));
    assert_eq!(response.status().as_u16(), 200);
    let replaced: Value = response.json().unwrap();
    assert_eq!(replaced["created_at"], created["created_at"]);
    let list: Value = send(
        &desk,
        get.clone(),
        "/api/v1/admin/snippets",
        None,
        Some(&a_session),
    )
    .json()
    .unwrap();
    let items = list["snippets"].as_array().unwrap();
    assert_eq!(items.len(), 1);
    let stored = Snippet::from_bytes(&unb64(&items[0]["snippet"])).unwrap();
    assert_eq!(stored, edited);
    assert_eq!(stored.open(&key).unwrap(), content("Hello"));

    // What the server refuses, each changing nothing.
    let other = hex::encode([8u8; 16]);
    assert_eq!(
        error_code(put_snippet(
            &desk,
            &other,
            &edited.to_bytes(),
            Some(&a_session)
        )),
        (422, "snippet.wrong_id".into())
    );
    let by_bob = Snippet::seal(&bob, id, 0, &key, &content("x"), &mut system_rng()).unwrap();
    assert_eq!(
        error_code(put_snippet(
            &desk,
            &id_hex,
            &by_bob.to_bytes(),
            Some(&a_session)
        )),
        (422, "snippet.not_a_member".into())
    );
    let mut tampered = edited.clone();
    tampered.ciphertext[0] ^= 1;
    assert_eq!(
        error_code(put_snippet(
            &desk,
            &id_hex,
            &tampered.to_bytes(),
            Some(&a_session)
        )),
        (422, "snippet.bad_signature".into())
    );
    let later = Snippet::seal(&alice, id, 3, &key, &content("x"), &mut system_rng()).unwrap();
    assert_eq!(
        error_code(put_snippet(
            &desk,
            &id_hex,
            &later.to_bytes(),
            Some(&a_session)
        )),
        (422, "snippet.bad_epoch".into())
    );
    assert_eq!(
        error_code(put_snippet(
            &desk,
            &id_hex,
            &[0u8; 70_000],
            Some(&a_session)
        )),
        (400, "too_large".into())
    );
    assert_eq!(
        error_code(put_snippet(&desk, &id_hex, &[1u8; 40], Some(&a_session))),
        (422, "malformed".into())
    );
    assert_eq!(
        error_code(put_snippet(
            &desk,
            "NOT-AN-ID",
            &edited.to_bytes(),
            Some(&a_session)
        )),
        (404, "not_found".into())
    );
    assert_eq!(
        error_code(put_snippet(
            &desk,
            &id_hex,
            &edited.to_bytes(),
            Some(&b_session)
        )),
        (403, "not_an_administrator".into())
    );
    let list: Value = send(
        &desk,
        get.clone(),
        "/api/v1/admin/snippets",
        None,
        Some(&a_session),
    )
    .json()
    .unwrap();
    assert_eq!(
        list["snippets"][0]["snippet"],
        json!(b64(&edited.to_bytes()))
    );

    // Deleted once.
    let path = format!("/api/v1/admin/snippets/{id_hex}");
    assert_eq!(
        error_code(send(
            &desk,
            reqwest::Method::DELETE,
            &path,
            None,
            Some(&b_session)
        )),
        (403, "not_an_administrator".into())
    );
    let response = send(
        &desk,
        reqwest::Method::DELETE,
        &path,
        None,
        Some(&a_session),
    );
    assert_eq!(response.status().as_u16(), 204);
    assert_eq!(
        error_code(send(
            &desk,
            reqwest::Method::DELETE,
            &path,
            None,
            Some(&a_session)
        )),
        (404, "not_found".into())
    );
    let list: Value = send(&desk, get, "/api/v1/admin/snippets", None, Some(&a_session))
        .json()
        .unwrap();
    assert_eq!(list, json!({"snippets": []}));
}
