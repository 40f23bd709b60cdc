//! The JSON request bodies and query strings of every API route (spec/API.md), through the
//! server's own router and extractors (server/src/api/), with a real store in a temporary
//! directory and the default limits.
//!
//! The first input byte picks the route, the second the request's shape (a bearer token or
//! not; `Content-Type: application/json` or none; for reads, the rest as the query string),
//! the rest is the body. Every answer is checked as a client would read it: never a 500, and
//! every error is the API's JSON error body (`{"error": code, "message": text}`).
#![no_main]

use std::sync::{Arc, OnceLock};

use axum::Router;
use axum::body::Body;
use axum::http::{Method, Request, header};
use libfuzzer_sys::fuzz_target;
use sealdesk_server::state::{AppState, Limits};
use sealdesk_server::storage::sled_store::SledStore;
use tower::ServiceExt;

const TICKET: &str = "0123456789abcdef0123456789abcdef";
const KEY_ID: &str = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";
const ATTACHMENT: &str = "fedcba9876543210fedcba9876543210";
/// A key id as the recovery routes take it (32 bytes, base64url).
const KEY_ID_B64: &str = "ABEiM0RVZneImaq7zN3u_wARIjNEVWZ3iJmqu8zd7v8";
/// A well-formed unsubscribe token (32 bytes, base64url) that was never issued.
const UNSUBSCRIBE_TOKEN: &str = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8";
/// A well-formed token no session or ticket has: the routes get past the header's parsing.
const BEARER: &str = "Bearer AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";

/// Every route of server/src/api/mod.rs with each of its methods; `{t}`, `{k}`, `{a}`, `{b}`
/// and `{u}` stand for a ticket id, a key id (hex), an attachment id, a key id (base64url) and
/// an unsubscribe token.
const ROUTES: &[(&str, &str)] = &[
    ("GET", "/healthz"),
    ("GET", "/api/v1/pow/challenge"),
    ("GET", "/api/v1/settings"),
    ("PUT", "/api/v1/settings"),
    ("GET", "/api/v1/directory"),
    ("POST", "/api/v1/directory"),
    ("POST", "/api/v1/invites/redeem-genesis"),
    ("POST", "/api/v1/tickets"),
    ("GET", "/api/v1/tickets/{t}/messages"),
    ("POST", "/api/v1/tickets/{t}/messages"),
    ("GET", "/api/v1/tickets/{t}/wraps"),
    ("POST", "/api/v1/tickets/{t}/wraps"),
    ("PUT", "/api/v1/tickets/{t}/assignment"),
    ("POST", "/api/v1/admin/invites"),
    ("POST", "/api/v1/admin/invites/redeem"),
    ("GET", "/api/v1/admin/pending"),
    ("DELETE", "/api/v1/admin/pending/{k}"),
    ("GET", "/api/v1/tickets/{t}"),
    ("DELETE", "/api/v1/tickets/{t}"),
    ("POST", "/api/v1/tickets/{t}/attachments"),
    ("GET", "/api/v1/tickets/{t}/attachments/{a}"),
    ("PUT", "/api/v1/tickets/{t}/attachments/{a}/chunks/0"),
    ("POST", "/api/v1/tickets/{t}/attachments/{a}/complete"),
    ("POST", "/api/v1/accounts/prelogin"),
    ("POST", "/api/v1/accounts/register"),
    ("POST", "/api/v1/accounts/login"),
    ("POST", "/api/v1/accounts/logout"),
    ("POST", "/api/v1/accounts/logout-everywhere"),
    ("PUT", "/api/v1/accounts/keyring"),
    ("GET", "/api/v1/accounts/tickets"),
    ("POST", "/api/v1/tickets/account"),
    ("GET", "/api/v1/inbox"),
    ("POST", "/api/v1/unsubscribe/{u}"),
    ("GET", "/api/v1/admin/mail"),
    ("PUT", "/api/v1/admin/mail"),
    ("GET", "/api/v1/accounts/notifications"),
    ("PUT", "/api/v1/accounts/notifications"),
    ("POST", "/api/v1/recovery/request"),
    ("POST", "/api/v1/recovery/claim"),
    ("GET", "/api/v1/recovery/status"),
    ("GET", "/api/v1/admin/recoveries"),
    ("POST", "/api/v1/admin/recoveries/{t}/{b}/approve"),
    ("DELETE", "/api/v1/admin/recoveries/{t}/{b}"),
];

struct Harness {
    runtime: tokio::runtime::Runtime,
    router: Router,
}

const STORE_PREFIX: &str = "sealdesk-fuzz-api-";

/// Removes the stores of this target's earlier runs whose process is gone (Linux's /proc).
fn remove_stores_of_ended_runs() {
    let Ok(entries) = std::fs::read_dir(std::env::temp_dir()) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(pid) = name.to_str().and_then(|n| n.strip_prefix(STORE_PREFIX)) else {
            continue;
        };
        if !std::path::Path::new("/proc").join(pid).exists() {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
}

/// One store and router for the whole run (opening sled per input would measure sled).
fn harness() -> &'static Harness {
    static HARNESS: OnceLock<Harness> = OnceLock::new();
    HARNESS.get_or_init(|| {
        // libFuzzer ends the process with exit(), so no run removes its own store: each run
        // removes those of runs that are over (a folder per process id, for parallel jobs).
        remove_stores_of_ended_runs();
        let dir = std::env::temp_dir().join(format!("{STORE_PREFIX}{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("creates the data directory");
        let store = Arc::new(SledStore::open(&dir).expect("opens the store"));
        let state = Arc::new(
            AppState::load(store, Limits::default(), dir.clone()).expect("loads the state"),
        );
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("builds a runtime");
        let router = sealdesk_server::api::router(state);
        Harness { runtime, router }
    })
}

fuzz_target!(|data: &[u8]| {
    let Some((&[route, shape], body)) = data.split_first_chunk::<2>().map(|(a, b)| (a, b)) else {
        return;
    };
    let (method, template) = ROUTES[usize::from(route) % ROUTES.len()];
    let mut path = template
        .replace("{t}", TICKET)
        .replace("{k}", KEY_ID)
        .replace("{a}", ATTACHMENT)
        .replace("{b}", KEY_ID_B64)
        .replace("{u}", UNSUBSCRIBE_TOKEN);
    let method = Method::from_bytes(method.as_bytes()).expect("a method");
    let is_read = method == Method::GET || method == Method::DELETE;
    if is_read && shape & 4 != 0 {
        let Ok(query) = std::str::from_utf8(body) else {
            return;
        };
        path = format!("{path}?{query}");
    }
    let mut request = Request::builder().method(method).uri(&path);
    if shape & 1 != 0 {
        request = request.header(header::AUTHORIZATION, BEARER);
    }
    if shape & 2 != 0 {
        request = request.header(header::CONTENT_TYPE, "application/json");
    }
    let body = if is_read {
        Body::empty()
    } else {
        Body::from(body.to_vec())
    };
    // A query string that is not a valid URI never reaches the server.
    let Ok(request) = request.body(body) else {
        return;
    };

    let harness = harness();
    harness.runtime.block_on(async {
        let response = harness
            .router
            .clone()
            .oneshot(request)
            .await
            .expect("the router is infallible");
        let status = response.status();
        assert_ne!(status.as_u16(), 500, "{path} answered 500");
        if status.is_client_error() || status.is_server_error() {
            let bytes = axum::body::to_bytes(response.into_body(), 1 << 20)
                .await
                .expect("an error body is small");
            let error: serde_json::Value =
                serde_json::from_slice(&bytes).expect("an error body is JSON");
            assert!(error["error"].is_string(), "{path}: error code in {error}");
            assert!(
                error["message"].is_string(),
                "{path}: error message in {error}"
            );
        }
    });
});
