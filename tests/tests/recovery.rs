//! "Resend access link" as recovery (spec/API.md "Recovery", PROTOCOL.md §11.1) against the real
//! binary and a real SMTP server (aiosmtpd, tests/src/smtp.rs): request → mail → claim →
//! approval by an endorse message → the new key reads and posts, the old link still works;
//! refusal; the token's single use and expiry; the request's one answer and its rate limits;
//! claims that must be refused.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::Duration;

use sealdesk_client::admin::Admin;
use sealdesk_client::content::Content;
use sealdesk_client::directory::fetch_verified;
use sealdesk_client::recovery::{self, ClaimState, RecoveredKey, RecoveredTicket, RecoveryLink};
use sealdesk_client::reporter::{Opening, ReporterTicket};
use sealdesk_client::transport::{NativeTransport, Request, Response, Transport};
use sealdesk_crypto::{AccessToken, Identity, Kind, system_rng};
use sealdesk_system_tests::smtp::{Mail, SmtpSink};
use sealdesk_system_tests::{Instance, b64, first_admin, runtime};
use serde_json::{Value, json};

/// The address the reporter gives, in the form and for notifications.
const ADDRESS: &str = "dana@example.org";
const PUBLIC_URL: &str = "http://sealdesk.test";
const WAIT: Duration = Duration::from_secs(30);

fn opening_with_address() -> Opening {
    Opening {
        subject: "Lost my phone".into(),
        text: "I cannot sign in any more.".into(),
        email: Some(ADDRESS.into()),
        notify_email: Some(ADDRESS.into()),
        ..Opening::default()
    }
}

/// An instance that mails through `sink`, with `extra` options.
fn start_with_mail(sink: &SmtpSink, extra: &[(&str, &str)]) -> Instance {
    let url = sink.url();
    let mut env = vec![
        ("SEALDESK_SMTP_URL", url.as_str()),
        ("SEALDESK_MAIL_FROM", "Acme Support <support@example.org>"),
        ("SEALDESK_PUBLIC_URL", PUBLIC_URL),
    ];
    env.extend_from_slice(extra);
    Instance::start_with(&env)
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

/// The recovery mails among `mails`.
fn recovery_mails(mails: &[Mail]) -> Vec<&Mail> {
    mails
        .iter()
        .filter(|m| m.body().contains("/help/recover#"))
        .collect()
}

/// The link a recovery mail carries, checked to start with the public URL.
fn mailed_link(mail: &Mail) -> String {
    let body = mail.body();
    let link = body
        .lines()
        .find(|line| line.contains("/help/recover#"))
        .expect("a recovery link")
        .trim()
        .to_owned();
    assert!(
        link.starts_with(&format!("{PUBLIC_URL}/help/recover#")),
        "{link}"
    );
    link
}

/// Waits until `count` recovery mails arrived and returns the link of the last.
fn wait_for_link(sink: &SmtpSink, count: usize) -> String {
    let deadline = std::time::Instant::now() + WAIT;
    loop {
        let mails = sink.mails();
        let found = recovery_mails(&mails);
        if found.len() >= count {
            return mailed_link(found[count - 1]);
        }
        assert!(std::time::Instant::now() < deadline, "no recovery mail");
        std::thread::sleep(Duration::from_millis(100));
    }
}

async fn claim_of(admin: &Admin, transport: &NativeTransport) -> recovery::PendingClaim {
    let claims = admin.recoveries(transport).await.expect("list");
    assert_eq!(claims.len(), 1, "{claims:?}");
    claims.into_iter().next().expect("one")
}

/// The whole path: the reporter writes with an address, loses the link, asks for a recovery
/// mail, opens it in another browser (a new key claims the ticket), the administrator sees
/// that the address matches the first message's and approves with an endorse message; the new
/// key then reads the whole conversation, endorsement included, and answers; the old link
/// keeps working and sees that answer. The mailed token works once.
#[test]
fn a_mailed_recovery_approved_by_an_administrator_lets_a_new_key_read_and_answer() {
    let sink = SmtpSink::start();
    let instance = start_with_mail(&sink, &[]);
    runtime().block_on(async {
        let transport = NativeTransport::new(&instance.base);
        let directory = fetch_verified(&transport, None).await.expect("directory");
        let mut rng = system_rng();
        let mut root = first_admin(&transport).await;
        let mut ticket =
            ReporterTicket::create(&transport, &directory, opening_with_address(), 1, &mut rng)
                .await
                .expect("create");
        let id = ticket.link().ticket_id();
        let mut read = root.read_ticket(&transport, id).await.expect("read");
        root.reply(
            &transport,
            &mut read,
            sealdesk_client::content::Outgoing::new("Which phone?", 2),
            &mut rng,
        )
        .await
        .expect("reply");

        let answer = request(&transport, "  Dana@Example.org ").await;
        assert_eq!(answer.status, 202);
        let link = wait_for_link(&sink, 1);
        let mail = recovery_mails(&sink.mails())[0].clone();
        assert_eq!(mail.rcpt_tos, vec![ADDRESS.to_owned()]);
        let body = mail.body();
        for secret in ["Lost my phone", "I cannot sign in", "Which phone"] {
            assert!(!body.contains(secret), "{body}");
        }
        let parsed = RecoveryLink::parse(&link).expect("link");
        assert_eq!(parsed.ticket_id(), id);

        // The new browser claims; nothing opens yet.
        let key = recovery::claim(&transport, &parsed, &mut rng)
            .await
            .expect("claim");
        assert_eq!(
            recovery::claim_state(&transport, &key)
                .await
                .expect("state"),
            ClaimState::Pending
        );
        let early = RecoveredTicket::open(
            &transport,
            &directory,
            RecoveredKey::from_parts(id, *key.seed().as_bytes(), *key.reader().as_bytes()),
            None,
        )
        .await
        .expect_err("not before approval");
        assert_eq!(early.code, "server.not_found");
        // The token was spent on the claim.
        let again = recovery::claim(&transport, &parsed, &mut rng)
            .await
            .expect_err("single use");
        assert_eq!(again.code, "server.invalid_recovery");

        // The administrator sees the claim, with the address check, and approves it.
        let claim = claim_of(&root, &transport).await;
        assert_eq!(claim.ticket_id, id);
        assert_eq!(&claim.identity, key.identity().public());
        assert_eq!(claim.fingerprint, key.fingerprint());
        assert_eq!(claim.email_matches(&read), Some(true));
        let stored = root
            .approve_recovery(&transport, &mut read, &claim, &mut rng)
            .await
            .expect("approve");
        assert_eq!(stored, 1, "the conversation's one epoch");
        assert!(root.recoveries(&transport).await.expect("list").is_empty());
        assert_eq!(
            recovery::claim_state(&transport, &key)
                .await
                .expect("state"),
            ClaimState::Approved
        );

        // The new key reads everything, the endorsement of itself included, and answers.
        let mut recovered = RecoveredTicket::open(&transport, &directory, key, None)
            .await
            .expect("the new key reads");
        let kinds: Vec<Kind> = recovered.messages.iter().map(|m| m.kind).collect();
        assert_eq!(kinds, [Kind::Message, Kind::Message, Kind::Endorse]);
        assert!(recovered.messages.iter().all(|m| m.content.is_ok()));
        match &recovered.messages[2].content {
            Ok(Content::Endorse(c)) => assert_eq!(&c.endorsed, recovered.key().identity().public()),
            other => panic!("{other:?}"),
        }
        recovered
            .send(
                &transport,
                &directory,
                sealdesk_client::content::Outgoing::new("The blue one.", 3).into_message(),
                &mut rng,
            )
            .await
            .expect("the new key answers");

        // The old link still works and sees the new key's answer as the reporter's.
        ticket
            .refresh(&transport, &directory)
            .await
            .expect("old link");
        let last = ticket.messages.last().expect("last");
        assert!(!last.from_support);
        assert_eq!(last.sender, recovered.key().identity().key_id());
    });
}

/// A declined claim gives its key and reader token nothing, and the list forgets it.
#[test]
fn a_declined_recovery_gives_nothing() {
    let sink = SmtpSink::start();
    let instance = start_with_mail(&sink, &[]);
    runtime().block_on(async {
        let transport = NativeTransport::new(&instance.base);
        let directory = fetch_verified(&transport, None).await.expect("directory");
        let mut rng = system_rng();
        let root = first_admin(&transport).await;
        ReporterTicket::create(&transport, &directory, opening_with_address(), 1, &mut rng)
            .await
            .expect("create");
        assert_eq!(request(&transport, ADDRESS).await.status, 202);
        let link = RecoveryLink::parse(&wait_for_link(&sink, 1)).expect("link");
        let key = recovery::claim(&transport, &link, &mut rng)
            .await
            .expect("claim");
        let claim = claim_of(&root, &transport).await;
        // Approving before the endorse message is refused.
        let path = format!(
            "/api/v1/admin/recoveries/{}/{}/approve",
            claim.ticket_id.to_hex(),
            b64(&claim.key_id().0)
        );
        let early = transport
            .send(Request::post(path, json!({})).bearer(Some(root.account().session())))
            .await
            .expect("answer");
        assert_eq!(early.status, 409);
        assert_eq!(body(&early)["error"], "not_endorsed");

        root.decline_recovery(&transport, &claim)
            .await
            .expect("decline");
        assert!(root.recoveries(&transport).await.expect("list").is_empty());
        assert_eq!(
            recovery::claim_state(&transport, &key)
                .await
                .expect("state"),
            ClaimState::Gone
        );
        let read = transport
            .send(
                Request::get(format!("/api/v1/tickets/{}", link.ticket_id().to_hex()))
                    .bearer(Some(&key.bearer())),
            )
            .await
            .expect("answer");
        assert_eq!(read.status, 404);
        // Declining again: nothing is pending.
        let again = root
            .decline_recovery(&transport, &claim)
            .await
            .expect_err("gone");
        assert_eq!(again.code, "server.not_found");
    });
}

/// A recovery link is refused once `recovery_ttl_seconds` passed, and stays refused.
#[test]
fn an_expired_recovery_link_is_refused() {
    let sink = SmtpSink::start();
    let instance = start_with_mail(&sink, &[("SEALDESK_RECOVERY_TTL_SECONDS", "1")]);
    runtime().block_on(async {
        let transport = NativeTransport::new(&instance.base);
        let directory = fetch_verified(&transport, None).await.expect("directory");
        let mut rng = system_rng();
        let root = first_admin(&transport).await;
        ReporterTicket::create(&transport, &directory, opening_with_address(), 1, &mut rng)
            .await
            .expect("create");
        assert_eq!(request(&transport, ADDRESS).await.status, 202);
        let link = RecoveryLink::parse(&wait_for_link(&sink, 1)).expect("link");
        tokio::time::sleep(Duration::from_millis(2_100)).await;
        let expired = recovery::claim(&transport, &link, &mut rng)
            .await
            .expect_err("expired");
        assert_eq!(expired.code, "server.invalid_recovery");
        assert!(root.recoveries(&transport).await.expect("list").is_empty());
    });
}

/// Without mail (no `smtp_url`) there is no recovery by mail: the route says so.
#[test]
fn without_mail_a_request_is_refused_as_mail_off() {
    let instance = Instance::start();
    runtime().block_on(async {
        let transport = NativeTransport::new(&instance.base);
        let answer = request(&transport, ADDRESS).await;
        assert_eq!(answer.status, 400);
        assert_eq!(body(&answer)["error"], "mail_off");
    });
}

/// The answer is the same, status and body, for an address that has a ticket, one in another
/// case and with spaces around it, and one that has none; a malformed address is refused.
#[test]
fn a_request_answers_the_same_whether_or_not_the_address_is_known() {
    let sink = SmtpSink::start();
    let instance = start_with_mail(&sink, &[]);
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
        // Mails went to the known address only: one per request for it.
        wait_for_link(&sink, 2);
        std::thread::sleep(Duration::from_millis(500));
        let mails = sink.mails();
        let links = recovery_mails(&mails);
        assert_eq!(links.len(), 2);
        assert!(links.iter().all(|m| m.rcpt_tos == vec![ADDRESS.to_owned()]));
    });
}

/// Requests are limited per email address (whichever client asks) and per client address
/// (whichever email address it asks for), both before the server looks the address up.
#[test]
fn requests_are_rate_limited_per_address_and_per_client() {
    let sink = SmtpSink::start();
    let instance = start_with_mail(
        &sink,
        &[
            ("SEALDESK_RECOVERY_REQUESTS_PER_HOUR", "2"),
            ("SEALDESK_TRUSTED_PROXIES", "127.0.0.1/32, ::1/128"),
        ],
    );
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

/// `sealdesk admin recoveries` lists the pending claim with its fingerprint and the address
/// check, and `approve KEY_ID` endorses the key, after which the recovered key reads.
#[test]
fn the_command_line_lists_and_approves_a_recovery() {
    use sealdesk_client::account::Account;
    use sealdesk_crypto::{Argon2Params, IdentitySeed};
    use sealdesk_system_tests::{FIRST_ADMIN_SEED, run_cli};

    let sink = SmtpSink::start();
    let instance = start_with_mail(&sink, &[]);
    let rt = runtime();
    let transport = NativeTransport::new(&instance.base);
    let mut rng = system_rng();
    let (id, key) = rt.block_on(async {
        // The command line refuses derivations below the documented parameters.
        let account = Account::register_with_seed(
            &transport,
            "root",
            "root password",
            Argon2Params::DEFAULT,
            IdentitySeed::from_bytes(FIRST_ADMIN_SEED),
            &mut system_rng(),
        )
        .await
        .expect("register");
        Admin::new(&transport, account, None).await.expect("admin");
        let directory = fetch_verified(&transport, None).await.expect("directory");
        let ticket =
            ReporterTicket::create(&transport, &directory, opening_with_address(), 1, &mut rng)
                .await
                .expect("create");
        assert_eq!(request(&transport, ADDRESS).await.status, 202);
        let link = RecoveryLink::parse(&wait_for_link(&sink, 1)).expect("link");
        let key = recovery::claim(&transport, &link, &mut rng)
            .await
            .expect("claim");
        (ticket.link().ticket_id(), key)
    });

    let home = tempfile::tempdir().expect("home");
    let home_dir = home.path().to_str().expect("utf-8").to_owned();
    let env = [
        ("HOME", home_dir.as_str()),
        ("SEALDESK_PASSPHRASE", "keyring passphrase"),
        ("SEALDESK_PASSWORD", "root password"),
    ];
    run_cli(
        &[
            "admin",
            "login",
            "--server",
            &instance.base,
            "--username",
            "root",
        ],
        &env,
        None,
    )
    .ok();
    let list = run_cli(&["admin", "recoveries"], &env, None).ok();
    assert!(list.contains(&id.to_hex()), "{list}");
    assert!(list.contains(&key.fingerprint()), "{list}");
    assert!(
        list.contains("matches the address in the first message"),
        "{list}"
    );
    run_cli(&["admin", "recoveries", "decline", "00000000"], &env, None)
        .fails(2, "input.unknown_key_id");
    let key_id = key.identity().key_id().to_string();
    let approved = run_cli(
        &["admin", "recoveries", "approve", &key_id[..12]],
        &env,
        None,
    )
    .ok();
    assert!(approved.contains("Approved"), "{approved}");
    assert!(approved.contains(&key.fingerprint()), "{approved}");
    rt.block_on(async {
        assert_eq!(
            recovery::claim_state(&transport, &key)
                .await
                .expect("state"),
            ClaimState::Approved
        );
        let directory = fetch_verified(&transport, None).await.expect("directory");
        let recovered = RecoveredTicket::open(&transport, &directory, key, None)
            .await
            .expect("the recovered key reads");
        assert_eq!(
            recovered.messages.last().map(|m| m.kind),
            Some(Kind::Endorse)
        );
    });
    let empty = run_cli(&["admin", "recoveries"], &env, None).ok();
    assert!(empty.contains("No recovery is waiting."), "{empty}");
}
