//! The OpenAPI document (server/src/api/openapi.rs): `spec/openapi.json` is what the server
//! generates and serves, and every route of the router is described in it, so a route added
//! without its description fails here.
//!
//! After changing the API: `SEALDESK_UPDATE_OPENAPI=1 cargo test -p sealdesk-server --test
//! openapi` rewrites `spec/openapi.json`; review its diff.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::collections::BTreeSet;
use std::path::PathBuf;

use serde_json::Value;

fn spec_file() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../spec/openapi.json")
}

#[test]
fn spec_openapi_json_is_the_generated_document() {
    let generated = sealdesk_server::api::openapi::document().unwrap();
    if std::env::var_os("SEALDESK_UPDATE_OPENAPI").is_some() {
        std::fs::write(spec_file(), &generated).unwrap();
    }
    let committed = std::fs::read_to_string(spec_file()).unwrap_or_default();
    assert!(
        committed == generated,
        "spec/openapi.json is not the document the server generates: run \
         `SEALDESK_UPDATE_OPENAPI=1 cargo test -p sealdesk-server --test openapi` and review \
         the diff"
    );
}

#[test]
fn the_server_serves_the_document() {
    let server = common::Server::start(&[]);
    let response = reqwest::blocking::get(server.url("/api/v1/openapi.json")).unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.headers()["content-type"].to_str().unwrap(),
        "application/json"
    );
    let served: Value = response.json().unwrap();
    let generated: Value =
        serde_json::from_str(&sealdesk_server::api::openapi::document().unwrap()).unwrap();
    assert_eq!(served, generated);
}

/// The (method, path) pairs of the router in server/src/api/mod.rs, read from its source:
/// each `.route(PATH, ...)` with the methods (`get(`, `post(`, `put(`, `delete(`, `patch(`)
/// that follow it up to the next route.
fn router_routes() -> BTreeSet<(String, String)> {
    let source =
        std::fs::read_to_string(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("src/api/mod.rs"))
            .unwrap();
    let router = &source[source.find("pub fn router").expect("the router")..];
    let router = &router[..router.find("\n}\n").expect("its end")];
    let mut routes = BTreeSet::new();
    for piece in router.split(".route(").skip(1) {
        let piece = piece.trim_start();
        let (path, rest) = if let Some(literal) = piece.strip_prefix('"') {
            let end = literal.find('"').unwrap();
            (literal[..end].to_owned(), &literal[end..])
        } else if let Some(rest) = piece.strip_prefix("openapi::PATH") {
            (sealdesk_server::api::openapi::PATH.to_owned(), rest)
        } else {
            panic!("a route whose path this test cannot read: {piece:.60}");
        };
        let mut methods = 0;
        for method in ["get", "post", "put", "delete", "patch"] {
            let call = format!("{method}(");
            let found = rest.match_indices(&call).any(|(at, _)| {
                at == 0
                    || !rest[..at]
                        .chars()
                        .next_back()
                        .is_some_and(|c| c.is_alphanumeric() || c == '_')
            });
            if found {
                routes.insert((method.to_owned(), path.clone()));
                methods += 1;
            }
        }
        assert!(methods > 0, "no method found for route {path}");
    }
    routes
}

#[test]
fn every_route_of_the_router_is_described() {
    let document: Value =
        serde_json::from_str(&sealdesk_server::api::openapi::document().unwrap()).unwrap();
    let mut described = BTreeSet::new();
    for (path, item) in document["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            described.insert((method.clone(), path.clone()));
        }
    }
    let routes = router_routes();
    assert!(routes.len() >= 30, "{routes:?}");
    let undescribed: Vec<_> = routes.difference(&described).collect();
    assert!(
        undescribed.is_empty(),
        "routes without a description in server/src/api/openapi.rs: {undescribed:?}"
    );
    let unrouted: Vec<_> = described.difference(&routes).collect();
    assert!(
        unrouted.is_empty(),
        "described operations that are no route: {unrouted:?}"
    );
}

/// Every operation answers errors as the JSON error body, and needs or accepts the bearer
/// scheme as the handlers do.
#[test]
fn every_operation_declares_its_errors_and_authentication() {
    let document: Value =
        serde_json::from_str(&sealdesk_server::api::openapi::document().unwrap()).unwrap();
    assert!(document["components"]["securitySchemes"]["bearer"].is_object());
    for (path, item) in document["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            let default = &operation["responses"]["default"]["content"]["application/json"];
            assert_eq!(
                default["schema"]["$ref"], "#/components/schemas/ErrorBody",
                "{method} {path}"
            );
            assert!(operation["security"].is_array(), "{method} {path}");
        }
    }
}

/// Every `$ref` of the document names one of its component schemas (utoipa writes a `$ref`
/// for a `ToSchema` type used in parameters without adding the type to the components).
#[test]
fn every_reference_resolves() {
    fn references(value: &Value, found: &mut Vec<String>) {
        match value {
            Value::Object(members) => {
                if let Some(Value::String(reference)) = members.get("$ref") {
                    found.push(reference.clone());
                }
                members
                    .values()
                    .for_each(|member| references(member, found));
            }
            Value::Array(items) => items.iter().for_each(|item| references(item, found)),
            _ => {}
        }
    }
    let document: Value =
        serde_json::from_str(&sealdesk_server::api::openapi::document().unwrap()).unwrap();
    let mut found = Vec::new();
    references(&document, &mut found);
    assert!(found.len() > 40, "{found:?}");
    let unresolved: Vec<_> = found
        .iter()
        .filter(|reference| {
            document
                .pointer(reference.trim_start_matches('#'))
                .is_none()
        })
        .collect();
    assert!(
        unresolved.is_empty(),
        "references to no component: {unresolved:?}"
    );
}
