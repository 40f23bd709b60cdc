//! The JavaScript surface in headless Chromium (`cargo test -p sealdesk-client --target
//! wasm32-unknown-unknown --tests`), called as a page calls it: promises, `Error`s with a
//! `code`, handles.
//!
//! - what needs no server: input validation before anything is derived or sent, error
//!   objects, pinned-head JSON;
//! - the handles against a fake server in the page: `globalThis.fetch` is replaced by a
//!   function that answers the API's routes from memory, keeping what clients send (it
//!   verifies nothing; the client verifies what it reads back). Registration, sign-in with the
//!   Argon2id floor, the keyring's app data across a sign-out, the first administrator,
//!   the team, the inbox, an account's ticket read by the administrator with a note,
//!   assignment, pinned heads shared by an account and its tickets, and sign-out ending every
//!   handle. The flows against the real server are the system tests' (`tests/tests/`).

// Test and tool code: a failed expectation stops the run, so it may unwrap, expect and
// panic (the workspace denies these in library code: Cargo.toml, clippy.toml).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
#![cfg(target_arch = "wasm32")]

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

use base64ct::{Base64UrlUnpadded, Encoding};
use js_sys::{Function, Promise, Reflect};
use sealdesk_client::wasm::{self as surface, AccountHandle, AdminHandle, TicketHandle};
use sealdesk_crypto::{Chain, Message, WrappedKey};
use serde_json::{Value, json};
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::{JsFuture, future_to_promise};
use wasm_bindgen_test::wasm_bindgen_test;

/// Cheap Argon2id parameters (tests only), as the page passes them.
const CHEAP: &str = r#"{"memory_kib": 256, "iterations": 1, "parallelism": 1}"#;

fn b64(bytes: &[u8]) -> String {
    Base64UrlUnpadded::encode_string(bytes)
}

/// A typed argument as a page passes it: the JavaScript value of `json` (or the string itself
/// when it is not JSON).
fn js<T: tsify::Tsify>(json: &str) -> tsify::Ts<T> {
    tsify::Ts::new_unchecked(js_sys::JSON::parse(json).unwrap_or_else(|_| json.into()))
}

/// A pinned head as the JSON text a page would store.
fn head_text(head: Option<tsify::Ts<surface::PinnedHead>>) -> Option<String> {
    let head: JsValue = head?.into();
    js_sys::JSON::stringify(&head).ok().map(String::from)
}

/// The invite the fake server takes for the genesis entry.
fn genesis_link() -> String {
    format!("/admin/invite#{}", b64(&[4; 32]))
}

/// The `code`, `name` and `message` of a thrown or rejected value.
fn error_parts(value: &JsValue) -> (String, String, String) {
    let get = |key: &str| {
        Reflect::get(value, &key.into())
            .ok()
            .and_then(|v| v.as_string())
            .unwrap_or_default()
    };
    assert!(value.is_instance_of::<js_sys::Error>(), "an Error");
    (get("code"), get("name"), get("message"))
}

/// Awaits a promise that must reject; returns the error's `code`.
async fn rejection(promise: Promise) -> String {
    let error = JsFuture::from(promise)
        .await
        .expect_err("the promise rejects");
    let (code, name, message) = error_parts(&error);
    assert_eq!(name, "SealdeskError");
    assert!(!message.is_empty());
    code
}

/// Awaits a promise that must resolve.
async fn resolved(promise: Promise) -> JsValue {
    match JsFuture::from(promise).await {
        Ok(value) => value,
        Err(error) => panic!("rejected: {:?}", error_parts(&error)),
    }
}

/// A resolved JavaScript value as JSON.
fn json_of(value: &JsValue) -> Value {
    let text: String = js_sys::JSON::stringify(value).expect("stringify").into();
    serde_json::from_str(&text).expect("json")
}

async fn resolved_json(promise: Promise) -> Value {
    json_of(&resolved(promise).await)
}

/// A wasm-bindgen object resolved by a promise, taken over from JavaScript.
fn take<T: wasm_bindgen::convert::TryFromJsValue>(value: JsValue) -> T {
    T::try_from_js_value(value).unwrap_or_else(|_| panic!("a handle"))
}

#[wasm_bindgen_test]
async fn bad_input_is_refused_before_anything_is_sent() {
    // None of these reaches `fetch`: the runner's server would answer 404 (`server.unknown`).
    assert_eq!(
        rejection(surface::open_ticket(
            "https://desk.example.org/help".into(),
            None,
            None
        ))
        .await,
        "link.malformed"
    );
    assert_eq!(
        rejection(surface::create_ticket(js(r#"{"subject": ""}"#), None, None)).await,
        "input.invalid"
    );
    assert_eq!(
        rejection(surface::create_ticket(
            js(r#"{"subject": "s", "text": "t"}"#),
            Some(js("{\"seq\": 1}")),
            None
        ))
        .await,
        "input.invalid",
        "a pinned head that does not parse"
    );
    assert_eq!(
        rejection(surface::register("al ice".into(), "pw".into(), None)).await,
        "input.invalid"
    );
    assert_eq!(
        rejection(surface::register("alice".into(), "".into(), None)).await,
        "input.invalid"
    );
    assert_eq!(
        rejection(surface::register(
            "alice".into(),
            "pw".into(),
            Some(js(
                r#"{"memory_kib": 8, "iterations": 1, "parallelism": 1}"#
            ))
        ))
        .await,
        "input.invalid"
    );
    assert_eq!(
        rejection(surface::login("alice".into(), "pw".into(), Some(js("[]")))).await,
        "input.invalid"
    );
    assert_eq!(
        rejection(surface::admin_sign_in(
            "alice".into(),
            "pw".into(),
            None,
            Some(js("not json"))
        ))
        .await,
        "input.invalid"
    );
}

#[wasm_bindgen_test]
fn errors_are_javascript_errors_with_a_code() {
    let mut error = sealdesk_client::ClientError::new("server.rate_limited", "Slow down.");
    error.status = Some(429);
    let js = surface::js_error(error);
    let (code, name, message) = error_parts(&js);
    assert_eq!(
        (code.as_str(), name.as_str(), message.as_str()),
        ("server.rate_limited", "SealdeskError", "Slow down.")
    );
    assert_eq!(
        Reflect::get(&js, &"status".into())
            .ok()
            .and_then(|s| s.as_f64()),
        Some(429.0)
    );
    // `String(error)` reads well in a console.
    let text: String = js
        .dyn_ref::<js_sys::Error>()
        .expect("Error")
        .to_string()
        .into();
    assert_eq!(text, "SealdeskError: Slow down.");
}

#[wasm_bindgen_test]
fn the_attachment_size_rule() {
    // The nonce, the file, a tag per 64 KiB chunk (at least one).
    assert_eq!(surface::encrypted_len_of(0.0), 32.0);
    assert_eq!(surface::encrypted_len_of(65_536.0), 65_568.0);
    assert_eq!(surface::encrypted_len_of(65_537.0), 65_585.0);
    assert_eq!(surface::largest_attachment_of(65_568.0), 65_536.0);
    assert_eq!(surface::largest_attachment_of(65_584.0), 65_536.0);
    assert_eq!(surface::largest_attachment_of(65_585.0), 65_537.0);
    assert_eq!(surface::largest_attachment_of(31.0), 0.0);
}

#[wasm_bindgen_test]
fn pinned_heads_are_json() {
    let head = sealdesk_crypto::DirectoryHead {
        seq: 7,
        hash: [9; 32],
    };
    let text = surface::head_json(&head).to_string();
    assert_eq!(surface::parse_head(&text).ok(), Some(head));
    // As a page stores and reads it.
    let stored = js_sys::JSON::parse(&text).expect("JSON");
    let read: String = js_sys::JSON::stringify(&stored).expect("stringify").into();
    assert_eq!(surface::parse_head(&read).ok(), Some(head));
}

/// A ticket in the fake server.
#[derive(Default)]
struct FakeTicket {
    id: String,
    reporter: String,
    closed: bool,
    assigned_to: Option<String>,
    /// Encoded messages by chain.
    messages: [Vec<String>; 2],
    /// Encoded wraps by chain.
    wraps: [Vec<String>; 2],
}

/// The API's routes from memory. It checks credentials the way the server does (the
/// authentication key, sessions) but verifies no signature: the client does.
#[derive(Default)]
struct FakeServer {
    /// Registered accounts: the registration body, updated by password changes.
    accounts: HashMap<String, Value>,
    /// Session token → username.
    sessions: HashMap<String, String>,
    issued: u32,
    directory: Vec<String>,
    tickets: Vec<FakeTicket>,
    pending: Vec<Value>,
    /// Requests, as `METHOD /path` and the body.
    log: Vec<String>,
}

fn refusal(status: u16, code: &str) -> (u16, Option<Value>) {
    (
        status,
        Some(json!({"error": code, "message": format!("Refused: {code}.")})),
    )
}

fn chain_of(query: &HashMap<&str, &str>) -> usize {
    query.get("chain").and_then(|c| c.parse().ok()).unwrap_or(0)
}

impl FakeServer {
    fn account_of(&self, bearer: Option<&str>) -> Option<&Value> {
        let username = self.sessions.get(bearer?)?;
        self.accounts.get(username)
    }

    fn summary(ticket: &FakeTicket) -> Value {
        json!({
            "ticket_id": ticket.id,
            "status": if ticket.closed { "closed" } else { "open" },
            "answered": false,
            "created_at": 1,
            "last_activity": 2,
            "conversation_seq": ticket.messages[0].len(),
            "assigned_to": ticket.assigned_to,
        })
    }

    /// Stores `message` (and `wraps`) as the next of its chain.
    fn post(&mut self, encoded: &str, wraps: &Value) -> (u16, Option<Value>) {
        let bytes = Base64UrlUnpadded::decode_vec(encoded).expect("base64url");
        let header = Message::from_bytes(&bytes).expect("a message").header;
        let id = header.ticket_id.to_hex();
        let chain = match header.chain {
            Chain::Conversation => 0,
            Chain::Notes => 1,
        };
        if !self.tickets.iter().any(|t| t.id == id) {
            if header.seq != 1 {
                return refusal(404, "not_found");
            }
            self.tickets.push(FakeTicket {
                id: id.clone(),
                ..FakeTicket::default()
            });
        }
        let ticket = self
            .tickets
            .iter_mut()
            .find(|t| t.id == id)
            .expect("ticket");
        if header.seq != ticket.messages[chain].len() as u64 + 1 {
            return refusal(409, "conflict");
        }
        ticket.messages[chain].push(encoded.to_owned());
        for wrap in wraps.as_array().into_iter().flatten() {
            ticket.wraps[chain].push(wrap.as_str().expect("wrap").to_owned());
        }
        match header.kind {
            sealdesk_crypto::Kind::Close => ticket.closed = true,
            sealdesk_crypto::Kind::Reopen => ticket.closed = false,
            _ => {}
        }
        (201, Some(json!({"chain": chain, "seq": header.seq})))
    }

    fn handle(
        &mut self,
        method: &str,
        url: &str,
        bearer: Option<&str>,
        body: Value,
    ) -> (u16, Option<Value>) {
        let path = &url[url.find("/api/").unwrap_or(0)..];
        let (path, query) = path.split_once('?').unwrap_or((path, ""));
        let query: HashMap<&str, &str> = query
            .split('&')
            .filter_map(|pair| pair.split_once('='))
            .collect();
        self.log.push(format!("{method} {path} {body}"));
        let parts: Vec<&str> = path.trim_start_matches("/api/v1/").split('/').collect();
        match (method, parts.as_slice()) {
            ("POST", ["accounts", "register"]) => {
                let username = body["username"].as_str().expect("username").to_owned();
                if self.accounts.contains_key(&username) {
                    return refusal(409, "username_taken");
                }
                self.accounts.insert(username, body);
                (201, Some(json!({"account_id": "0".repeat(32)})))
            }
            ("POST", ["accounts", "prelogin"]) => {
                let account = &self.accounts[body["username"].as_str().expect("username")];
                (
                    200,
                    Some(json!({"salt": account["salt"], "argon2": account["argon2"]})),
                )
            }
            ("POST", ["accounts", "login"]) => {
                let username = body["username"].as_str().expect("username").to_owned();
                let Some(account) = self.accounts.get(&username) else {
                    return refusal(401, "bad_credentials");
                };
                if account["auth_key"] != body["auth_key"] {
                    return refusal(401, "bad_credentials");
                }
                let answer = json!({
                    "session": b64(&[self.issued as u8; 32]),
                    "expires_at": 2_000_000_000u64,
                    "account_id": "0".repeat(32),
                    "keyring": account["keyring"],
                    "identity": account["identity"],
                    "salt": account["salt"],
                    "argon2": account["argon2"],
                });
                self.issued += 1;
                self.sessions.insert(
                    answer["session"].as_str().expect("session").to_owned(),
                    username,
                );
                (200, Some(answer))
            }
            ("POST", ["accounts", "logout"]) => {
                match bearer.and_then(|b| self.sessions.remove(b)) {
                    Some(_) => (204, None),
                    None => refusal(401, "unauthorized"),
                }
            }
            ("PUT", ["accounts", "keyring"]) => {
                let Some(username) = bearer.and_then(|b| self.sessions.get(b)).cloned() else {
                    return refusal(401, "unauthorized");
                };
                let account = self.accounts.get_mut(&username).expect("account");
                if account["auth_key"] != body["current_auth_key"] {
                    return refusal(401, "bad_credentials");
                }
                for key in ["salt", "argon2", "auth_key", "keyring"] {
                    account[key] = body[key].clone();
                }
                let bearer = bearer.expect("session").to_owned();
                self.sessions
                    .retain(|token, u| *u != username || *token == bearer);
                (204, None)
            }
            ("GET", ["accounts", "tickets"]) => {
                let Some(account) = self.account_of(bearer) else {
                    return refusal(401, "unauthorized");
                };
                let tickets: Vec<Value> = self
                    .tickets
                    .iter()
                    .filter(|t| t.reporter == account["identity"])
                    .map(Self::summary)
                    .collect();
                (200, Some(json!({"tickets": tickets})))
            }
            ("GET", ["directory"]) => (200, Some(json!({"entries": self.directory}))),
            ("POST", ["invites", "redeem-genesis"]) => {
                if !self.directory.is_empty() {
                    return refusal(409, "conflict");
                }
                if body["invite"] != b64(&[4; 32]) {
                    return refusal(403, "invalid_invite");
                }
                self.directory
                    .push(body["entry"].as_str().expect("entry").to_owned());
                (201, Some(json!({})))
            }
            ("POST", ["tickets", "account"]) => {
                let Some(account) = self.account_of(bearer) else {
                    return refusal(401, "unauthorized");
                };
                let reporter = account["identity"].as_str().expect("identity").to_owned();
                let answer = self.post(body["message"].as_str().expect("message"), &body["wraps"]);
                if let Some(ticket) = self.tickets.last_mut() {
                    ticket.reporter = reporter;
                }
                answer
            }
            ("POST", ["tickets"]) => {
                let answer = self.post(body["message"].as_str().expect("message"), &body["wraps"]);
                if let Some(ticket) = self.tickets.last_mut() {
                    ticket.reporter = body["reporter"].as_str().expect("reporter").to_owned();
                }
                answer
            }
            (_, ["tickets", id, rest @ ..]) => {
                let Some(ticket) = self.tickets.iter_mut().find(|t| t.id == *id) else {
                    return refusal(404, "not_found");
                };
                match (method, rest) {
                    ("GET", []) => (
                        200,
                        Some(json!({
                            "ticket_id": ticket.id, "reporter": ticket.reporter,
                            "status": "open", "created_at": 1,
                            "last_activity": 2, "conversation_seq": ticket.messages[0].len(),
                        })),
                    ),
                    ("GET", ["messages"]) => {
                        let after: usize =
                            query.get("after").and_then(|a| a.parse().ok()).unwrap_or(0);
                        let messages: Vec<Value> = ticket.messages[chain_of(&query)]
                            .iter()
                            .enumerate()
                            .skip(after)
                            .map(|(i, m)| json!({"seq": i + 1, "received_at": 100 + i, "message": m}))
                            .collect();
                        (200, Some(json!({"messages": messages, "more": false})))
                    }
                    ("GET", ["wraps"]) => {
                        let recipient = query.get("recipient").copied().unwrap_or_default();
                        let wraps: Vec<&String> = ticket.wraps[chain_of(&query)]
                            .iter()
                            .filter(|w| {
                                let bytes = Base64UrlUnpadded::decode_vec(w).expect("wrap");
                                let wrap = WrappedKey::from_bytes(&bytes).expect("wrap");
                                b64(&wrap.context.recipient.0) == recipient
                            })
                            .collect();
                        (200, Some(json!({"wraps": wraps})))
                    }
                    ("POST", ["messages"]) => {
                        let encoded = body["message"].as_str().expect("message").to_owned();
                        self.post(&encoded, &body["wraps"])
                    }
                    ("PUT", ["assignment"]) => {
                        ticket.assigned_to = body["assigned_to"].as_str().map(str::to_owned);
                        (204, None)
                    }
                    _ => refusal(404, "not_found"),
                }
            }
            ("GET", ["inbox"]) => {
                let tickets: Vec<Value> = self.tickets.iter().map(Self::summary).collect();
                (200, Some(json!({"tickets": tickets, "more": false})))
            }
            ("GET", ["admin", "pending"]) => (200, Some(json!({"pending": self.pending}))),
            // Proof of work off, as on a default instance.
            ("GET", ["pow", "challenge"]) => (
                200,
                Some(json!({"challenge": null, "bits": 0, "expires_at": null})),
            ),
            ("POST", ["admin", "invites"]) => (
                201,
                Some(json!({"invite": b64(&[6; 32]), "expires_at": 1_900_000_000u64})),
            ),
            _ => refusal(404, "not_found"),
        }
    }
}

/// `globalThis.fetch` answered by a [`FakeServer`] until dropped.
struct FakeFetch {
    original: JsValue,
    _handler: Closure<dyn FnMut(web_sys::Request) -> Promise>,
}

impl FakeFetch {
    fn install(server: Rc<RefCell<FakeServer>>) -> FakeFetch {
        let global = js_sys::global();
        let original = Reflect::get(&global, &"fetch".into()).expect("fetch");
        let respond = Function::new_with_args(
            "body, status",
            "return new Response(body, {status, headers: {'Content-Type': 'application/json'}})",
        );
        let handler = Closure::<dyn FnMut(web_sys::Request) -> Promise>::new(
            move |request: web_sys::Request| {
                let server = server.clone();
                let respond = respond.clone();
                future_to_promise(async move {
                    let bearer = request
                        .headers()
                        .get("Authorization")?
                        .and_then(|h| h.strip_prefix("Bearer ").map(str::to_owned));
                    let text = JsFuture::from(request.text()?).await?;
                    let body = text
                        .as_string()
                        .and_then(|t| serde_json::from_str(&t).ok())
                        .unwrap_or(Value::Null);
                    let (status, answer) = server.borrow_mut().handle(
                        &request.method(),
                        &request.url(),
                        bearer.as_deref(),
                        body,
                    );
                    let body = answer.map_or(JsValue::NULL, |a| JsValue::from_str(&a.to_string()));
                    respond.call2(&JsValue::NULL, &body, &JsValue::from(status))
                })
            },
        );
        Reflect::set(&global, &"fetch".into(), handler.as_ref()).expect("replace fetch");
        FakeFetch {
            original,
            _handler: handler,
        }
    }
}

impl Drop for FakeFetch {
    fn drop(&mut self) {
        let _ = Reflect::set(&js_sys::global(), &"fetch".into(), &self.original);
    }
}

#[wasm_bindgen_test]
async fn accounts_administrators_and_tickets_through_the_surface() {
    let server = Rc::new(RefCell::new(FakeServer::default()));
    let _fetch = FakeFetch::install(server.clone());

    // An instance without an administrator cannot take tickets.
    assert_eq!(
        rejection(surface::create_ticket(
            js(r#"{"subject": "Hi", "text": "Hello"}"#),
            None,
            None
        ))
        .await,
        "directory.empty"
    );
    // What the invite page asks before it offers to set the instance up.
    assert_eq!(
        resolved(surface::directory_is_empty()).await.as_bool(),
        Some(true)
    );

    // Registration and the keyring's app data. The password is normalised to NFC: typed
    // decomposed here, precomposed at the next sign-in.
    let account: AccountHandle = take(
        resolved(surface::register(
            "Alice".into(),
            "Cafe\u{301} 1".into(),
            Some(js(CHEAP)),
        ))
        .await,
    );
    assert_eq!(account.username(), "alice");
    assert_eq!(account.key_id().len(), 43);
    assert_eq!(head_text(account.pinned_head()), None);
    assert_eq!(
        resolved(surface::keyring_data(&account))
            .await
            .as_string()
            .as_deref(),
        Some("{}")
    );
    assert_eq!(
        rejection(surface::set_keyring_data(
            &account,
            "[1]".into(),
            "x".into()
        ))
        .await,
        "input.invalid"
    );
    assert_eq!(
        rejection(surface::set_keyring_data(
            &account,
            r#"{"links": []}"#.into(),
            "wrong".into()
        ))
        .await,
        "server.bad_credentials"
    );
    assert_eq!(
        resolved(surface::keyring_data(&account))
            .await
            .as_string()
            .as_deref(),
        Some("{}"),
        "a refused write changes nothing"
    );
    let app_data = r#"{"links": ["/help/ticket/x#y"], "seen": {"t": 3}}"#;
    resolved(surface::set_keyring_data(
        &account,
        app_data.into(),
        "Caf\u{e9} 1".into(),
    ))
    .await;

    // The first administrator, from the account.
    assert_eq!(
        rejection(surface::redeem_genesis(
            &account,
            "/admin/invite#nope".into()
        ))
        .await,
        "input.invalid"
    );
    assert_eq!(
        rejection(surface::redeem_genesis(
            &account,
            format!("/admin/invite#{}", b64(&[5; 32]))
        ))
        .await,
        "server.invalid_invite"
    );
    assert_eq!(
        resolved(surface::keyring_data(&account))
            .await
            .as_string()
            .as_deref(),
        Some(app_data),
        "a failed redemption keeps the account"
    );
    let admin: AdminHandle =
        take(resolved(surface::redeem_genesis(&account, genesis_link())).await);
    assert_eq!(admin.key_id(), account.key_id());
    assert_eq!(
        resolved(surface::directory_is_empty()).await.as_bool(),
        Some(false)
    );
    assert_eq!(
        rejection(surface::save_settings(
            &admin,
            js(r#"{"categories": "Network"}"#)
        ))
        .await,
        "input.invalid",
        "settings of the wrong shape are refused before anything is sent"
    );
    let team = resolved_json(surface::team(&admin)).await;
    assert_eq!(
        team,
        json!([{"key_id": account.key_id(), "fingerprint": account.fingerprint(), "me": true}])
    );

    // The pinned head: one per sign-in, shared by the account, the panel and the tickets.
    let head = head_text(admin.pinned_head()).expect("pinned after reading the directory");
    assert_eq!(
        head_text(account.pinned_head()).as_deref(),
        Some(head.as_str())
    );
    let parsed: Value = serde_json::from_str(&head).expect("json");
    assert_eq!(parsed["seq"], 0);
    admin.set_pinned_head(js(&head)).expect("the same head");
    let fork = json!({"seq": 0, "hash": b64(&[1; 32])}).to_string();
    let error = admin.set_pinned_head(js(&fork)).expect_err("a fork");
    assert_eq!(error_parts(&error).0, "directory.fork");
    let error = account.set_pinned_head(js("{}")).expect_err("not a head");
    assert_eq!(error_parts(&error).0, "input.invalid");
    assert_eq!(
        head_text(account.pinned_head()).as_deref(),
        Some(head.as_str())
    );

    // An account's ticket.
    let created = resolved(surface::create_account_ticket(
        &account,
        js(
            r#"{"subject": "VPN", "text": "It drops.", "category": "Network", "urgent": true,
            "debug": {"platform": "Linux"}}"#,
        ),
    ))
    .await;
    let handle: TicketHandle = take(Reflect::get(&created, &"handle".into()).expect("handle"));
    let view = json_of(&created);
    let id = view["ticket_id"].as_str().expect("id").to_owned();
    assert_eq!(handle.ticket_id(), id);
    assert_eq!(view["messages"][0]["content"]["subject"], "VPN");
    assert_eq!(view["messages"][1]["kind"], "debug_data");
    assert_eq!(
        head_text(handle.pinned_head()).as_deref(),
        Some(head.as_str())
    );
    let view = resolved_json(surface::reply(&handle, "Still.".into(), None)).await;
    assert_eq!(view["messages"][2]["content"]["text"], "Still.");
    assert_eq!(
        rejection(surface::reply(&handle, "x".into(), Some("Sam".into()))).await,
        "input.invalid",
        "only administrators sign with a name"
    );
    assert_eq!(
        rejection(surface::reply(&handle, " ".into(), None)).await,
        "input.invalid"
    );
    for refused in [
        surface::note(&handle, "x".into(), None),
        surface::reopen(&handle),
        surface::assign(&handle, None),
        surface::unread_answers_of(&handle, -1.0),
        surface::download_attachment(&handle, 2.0, None),
    ] {
        assert_eq!(rejection(refused).await, "input.invalid");
    }
    let listed = resolved_json(surface::account_tickets(&account)).await;
    assert_eq!(listed[0]["ticket_id"], id.as_str());
    assert_eq!(listed[0]["conversation_seq"], 3);

    // The administrator's side: the inbox, the ticket with notes and debug data, a named
    // answer, assignment.
    let inbox = resolved_json(surface::inbox(
        &admin,
        Some("open".into()),
        None,
        None,
        None,
        None,
    ))
    .await;
    assert_eq!(inbox["more"], false);
    assert_eq!(
        rejection(surface::inbox(
            &admin,
            None,
            None,
            Some("someone".into()),
            None,
            None
        ))
        .await,
        "input.invalid"
    );
    assert_eq!(inbox["tickets"][0]["opening"]["subject"], "VPN");
    assert_eq!(inbox["tickets"][0]["opening"]["urgent"], true);
    assert_eq!(
        rejection(surface::inbox(
            &admin,
            Some("answered".into()),
            None,
            None,
            None,
            None
        ))
        .await,
        "input.invalid"
    );
    let staff: TicketHandle =
        take(resolved(surface::open_admin_ticket(&admin, id.clone(), None)).await);
    let view = resolved_json(surface::view(&staff)).await;
    assert_eq!(view["opening"]["category"], "Network");
    assert_eq!(view["debug_data"][0]["fields"]["platform"], "Linux");
    assert_eq!(view["reporter"]["fingerprint"], account.fingerprint());
    assert_eq!(view["messages"].as_array().map(Vec::len), Some(3));
    let view = resolved_json(surface::note(&staff, "Known issue.".into(), None)).await;
    assert_eq!(view["notes"][0]["content"]["text"], "Known issue.");
    let view = resolved_json(surface::reply(
        &staff,
        "Try again.".into(),
        Some("Sam".into()),
    ))
    .await;
    assert_eq!(view["messages"][3]["content"]["author"], "Sam");
    let assigned = resolved_json(surface::assign(&staff, Some(admin.key_id()))).await;
    assert_eq!(assigned, json!({"assigned_to": admin.key_id()}));
    assert_eq!(
        rejection(surface::assign(&staff, Some("AAAA".into()))).await,
        "input.invalid"
    );
    assert_eq!(
        rejection(surface::approve(&admin, b64(&[8; 32]))).await,
        "admin.not_pending"
    );
    assert_eq!(resolved_json(surface::pending(&admin)).await, json!([]));
    let invite = resolved_json(surface::create_invite(&admin)).await;
    assert_eq!(
        invite["link"],
        format!("/admin/invite#{}", b64(&[6; 32])).as_str()
    );

    // The account holder reads the answer; the badge counts it.
    let view = resolved_json(surface::refresh(&handle)).await;
    assert_eq!(view["added"], 1);
    assert_eq!(view["messages"][3]["content"]["text"], "Try again.");
    assert_eq!(
        resolved(surface::unread_answers_of(&handle, 3.0))
            .await
            .as_f64(),
        Some(0.0),
        "an administrator's own ticket: its answers are the reporter's"
    );
    let view = resolved_json(surface::close(&staff)).await;
    assert_eq!(view["closed"], true);
    let view = resolved_json(surface::reopen(&staff)).await;
    assert_eq!(view["closed"], false);

    // An anonymous ticket: its own pin, which must contain the imported head. Support's
    // answer is counted by the badge.
    let created = resolved(surface::create_ticket(
        js(r#"{"subject": "Anonymous", "text": "Hello there."}"#),
        Some(js(&head)),
        None,
    ))
    .await;
    let reporter: TicketHandle = take(Reflect::get(&created, &"handle".into()).expect("handle"));
    let link = json_of(&created)["link"].as_str().expect("link").to_owned();
    assert!(link.starts_with("/help/ticket/"));
    assert_eq!(
        head_text(reporter.pinned_head()).as_deref(),
        Some(head.as_str())
    );
    let anonymous: TicketHandle = take(
        resolved(surface::open_admin_ticket(
            &admin,
            reporter.ticket_id(),
            None,
        ))
        .await,
    );
    resolved(surface::reply(&anonymous, "Hello to you.".into(), None)).await;
    let opened: TicketHandle = take(
        resolved(surface::open_ticket(
            format!(" https://desk.example.org{link} "),
            None,
            None,
        ))
        .await,
    );
    let view = resolved_json(surface::view(&opened)).await;
    assert_eq!(view["messages"][0]["content"]["subject"], "Anonymous");
    assert_eq!(view["messages"][1]["from_support"], true);
    assert!(
        view.get("notes").is_none(),
        "a reporter's view has no notes"
    );
    assert_eq!(
        resolved(surface::unread_answers_of(&opened, 1.0))
            .await
            .as_f64(),
        Some(1.0)
    );
    assert_eq!(
        resolved(surface::unread_answers_of(&opened, 2.0))
            .await
            .as_f64(),
        Some(0.0)
    );
    assert_eq!(
        rejection(surface::open_ticket(link.clone(), Some(js(&fork)), None)).await,
        "directory.fork"
    );

    // Signing out ends the account, the panel and every ticket opened with them.
    resolved(surface::logout(&account)).await;
    for ended in [
        surface::view(&handle),
        surface::view(&staff),
        surface::team(&admin),
        surface::keyring_data(&account),
        surface::account_tickets(&account),
    ] {
        assert_eq!(rejection(ended).await, "account.signed_out");
    }
    resolved(surface::logout(&account)).await;

    // Signing in again: the documented floor refuses the cheap parameters before the
    // password is used; a wrong password is the server's refusal; the app data is back.
    assert_eq!(
        rejection(surface::login("alice".into(), "Caf\u{e9} 1".into(), None)).await,
        "account.weak_parameters"
    );
    assert_eq!(
        rejection(surface::login(
            "alice".into(),
            "nope".into(),
            Some(js(CHEAP))
        ))
        .await,
        "server.bad_credentials"
    );
    let again: AccountHandle = take(
        resolved(surface::login(
            "alice".into(),
            "Cafe\u{301} 1".into(),
            Some(js(CHEAP)),
        ))
        .await,
    );
    assert_eq!(
        resolved(surface::keyring_data(&again))
            .await
            .as_string()
            .as_deref(),
        Some(app_data)
    );
    assert_eq!(again.key_id(), admin.key_id());
    again
        .set_pinned_head(js(&head))
        .expect("kept from the last visit");
    let admin: AdminHandle = take(resolved(surface::admin_from_account(&again)).await);
    assert_eq!(resolved_json(surface::team(&admin)).await[0]["me"], true);
    let panel = admin.account();
    resolved(surface::logout(&panel)).await;
    assert_eq!(
        rejection(surface::keyring_data(&again)).await,
        "account.signed_out",
        "the panel's account is the same sign-in"
    );

    // Neither the password, the app data nor any plaintext went to the server.
    let log = server.borrow().log.join("\n");
    assert!(log.contains("POST /api/v1/accounts/register"));
    // The secret alone: the link's fragment may carry the directory head after it.
    let secret = link
        .split_once('#')
        .expect("fragment")
        .1
        .split('.')
        .next()
        .expect("secret");
    for plain in [
        "Caf\u{e9} 1",
        "Cafe\u{301} 1",
        "/help/ticket/x#y",
        "It drops.",
        "Still.",
        "Known issue.",
        "Try again.",
        "Hello t",
        secret,
    ] {
        assert!(!log.contains(plain), "{plain} was sent");
    }
}
