//! "Resend access link" as recovery (spec/API.md "Recovery", PROTOCOL.md §11.1) against the real
//! binary: the request's one answer and its rate limits, claims that must be refused, and an
//! approval that needs the endorse message first.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use sealdesk_client::directory::fetch_verified;
use sealdesk_client::recovery::{self, ClaimState, RecoveredKey};
use sealdesk_client::reporter::{Opening, ReporterTicket};
use sealdesk_client::transport::{NativeTransport, Request, Response, Transport};
use sealdesk_crypto::{AccessToken, Identity, system_rng};
use sealdesk_system_tests::{Instance, b64, first_admin, runtime};
use serde_json::{Value, json};

/// The address the reporter gives, in the form and for notifications.
const ADDRESS: &str = "dana@example.org";

fn opening_with_address() -> Opening {
    Opening {
        subject: "Lost my phone".into(),
        text: "I cannot sign in any more.".into(),
        email: Some(ADDRESS.into()),
        notify_email: Some(ADDRESS.into()),
        ..Opening::default()
    }
}

async fn request(transport: &NativeTransport, email: &str) -> Response {
    transport
        .send(Request::post(
            "/api/v1/recovery/request",
            json!({ "email": email }),
        ))
        .await
        .expect("answer")
}

fn body(response: &Response) -> Value {
    serde_json::from_slice(&response.body).expect("JSON")
}

/// The answer is the same, status and body, for an address that has a ticket, one in another
/// case and with spaces around it, and one that has none; a malformed address is refused.
#[test]
fn a_request_answers_the_same_whether_or_not_the_address_is_known() {
    let instance = Instance::start();
    runtime().block_on(async {
        let transport = NativeTransport::new(&instance.base);
        let directory = fetch_verified(&transport, None).await.expect("directory");
        let mut rng = system_rng();
        ReporterTicket::create(&transport, &directory, opening_with_address(), 1, &mut rng)
            .await
            .expect("create");
        let known = request(&transport, ADDRESS).await;
        let known_other_case = request(&transport, "  Dana@Example.org ").await;
        let unknown = request(&transport, "nobody@example.org").await;
        for answer in [&known, &known_other_case, &unknown] {
            assert_eq!(answer.status, 202);
            assert_eq!(body(answer), json!({"status": "sent_if_known"}));
        }
        let bad = request(&transport, "not an address").await;
        assert_eq!(bad.status, 400);
        assert_eq!(body(&bad)["error"], "bad_email");
    });
}

/// Requests are limited per email address (whichever client asks) and per client address
/// (whichever email address it asks for), both before the server looks the address up.
#[test]
fn requests_are_rate_limited_per_address_and_per_client() {
    let instance = Instance::start_with(&[
        ("SEALDESK_RECOVERY_REQUESTS_PER_HOUR", "2"),
        ("SEALDESK_TRUST_FORWARDED_FOR", "true"),
    ]);
    runtime().block_on(async {
        let http = reqwest::Client::new();
        let ask = async |client: &str, email: &str| {
            http.post(format!("{}/api/v1/recovery/request", instance.base))
                .header("X-Forwarded-For", client)
                .json(&json!({ "email": email }))
                .send()
                .await
                .expect("answer")
                .status()
                .as_u16()
        };
        // One email address from three clients: the third request is refused.
        assert_eq!(ask("192.0.2.1", "a@example.org").await, 202);
        assert_eq!(ask("192.0.2.2", "a@example.org").await, 202);
        assert_eq!(ask("192.0.2.3", "a@example.org").await, 429);
        // One client asking for three addresses: its third request is refused.
        assert_eq!(ask("192.0.2.9", "b@example.org").await, 202);
        assert_eq!(ask("192.0.2.9", "c@example.org").await, 202);
        assert_eq!(ask("192.0.2.9", "d@example.org").await, 429);
        // Other clients and addresses are not affected.
        assert_eq!(ask("192.0.2.10", "e@example.org").await, 202);
    });
}

/// A claim with a token nobody mailed, a malformed token, or a signature that does not cover
/// the claim is refused; nothing is pending afterwards, and an unknown reader token has no
/// status and reads nothing.
#[test]
fn claims_without_a_valid_token_or_signature_are_refused() {
    let instance = Instance::start();
    runtime().block_on(async {
        let transport = NativeTransport::new(&instance.base);
        let directory = fetch_verified(&transport, None).await.expect("directory");
        let mut rng = system_rng();
        let ticket =
            ReporterTicket::create(&transport, &directory, opening_with_address(), 1, &mut rng)
                .await
                .expect("create");
        let id = ticket.link().ticket_id();
        let admin = first_admin(&transport).await;

        let key = Identity::generate(&mut rng).1;
        let reader = AccessToken::generate(&mut rng);
        let claim = |token: String, signature: Vec<u8>| {
            json!({
                "token": token,
                "ticket_id": id.to_hex(),
                "identity": b64(&key.public().to_bytes()),
                "reader_hash": b64(&reader.hash()),
                "signature": b64(&signature),
            })
        };
        let good_signature = key.sign_recovery_claim(&id.0, &reader.hash()).to_vec();
        let other_signature = key.sign_recovery_claim(&id.0, &[0; 32]).to_vec();
        let never_mailed = AccessToken::generate(&mut rng).to_base64url();
        let cases = [
            (
                claim(never_mailed.clone(), good_signature),
                403,
                "invalid_recovery",
            ),
            (
                claim("short".into(), other_signature.clone()),
                400,
                "bad_token",
            ),
            (claim(never_mailed, other_signature), 422, "bad_signature"),
        ];
        for (request, status, code) in cases {
            let answer = transport
                .send(Request::post("/api/v1/recovery/claim", request))
                .await
                .expect("answer");
            assert_eq!(answer.status, status, "{code}");
            assert_eq!(body(&answer)["error"], code);
        }
        assert!(admin.recoveries(&transport).await.expect("list").is_empty());
        let recovered = RecoveredKey::from_parts(id, [3; 32], *reader.as_bytes());
        assert_eq!(
            recovery::claim_state(&transport, &recovered)
                .await
                .expect("state"),
            ClaimState::Gone
        );
        let read = transport
            .send(
                Request::get(format!("/api/v1/tickets/{}", id.to_hex()))
                    .bearer(Some(&recovered.bearer())),
            )
            .await
            .expect("answer");
        assert_eq!(read.status, 404);
        // Only administrators list recoveries.
        let anonymous = transport
            .send(Request::get("/api/v1/admin/recoveries"))
            .await
            .expect("answer");
        assert_eq!(anonymous.status, 401);
    });
}
