//! Mail with a real SMTP server (aiosmtpd, tests/src/smtp.rs): the reporter's confirmation and
//! reply notification, the administrators' mails, their headers (RFC 8058), a plaintext scan
//! of every mail against the scenario's content and secrets, unsubscribe by link and by
//! one-click POST, the outbox keeping a mail across a server restart while the relay is down
//! and delivering it once, and `sealdesk mail test`.

// Test and tool code: a failed expectation stops the run, so it may unwrap, expect and
// panic (the workspace denies these in library code: Cargo.toml, clippy.toml).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeMap;
use std::time::Duration;

use sealdesk_client::account::Account;
use sealdesk_client::admin::Admin;
use sealdesk_client::attachments::{InMemoryFile, reporter_bearer, upload};
use sealdesk_client::content::{Content, Outgoing};
use sealdesk_client::directory::fetch_verified;
use sealdesk_client::reporter::{Opening, ReporterTicket};
use sealdesk_client::transport::NativeTransport;
use sealdesk_crypto::{IdentitySeed, TicketId, system_rng};
use sealdesk_system_tests::smtp::{Mail, SmtpSink};
use sealdesk_system_tests::{CHEAP, FIRST_ADMIN_SEED, Persistent, ServerOptions, run_cli, runtime};
use serde_json::{Value, json};

const WAIT: Duration = Duration::from_secs(30);
const PUBLIC_URL: &str = "http://sealdesk.test";
const REPORTER: &str = "reporter@example.org";
const ADMIN: &str = "admin@example.org";

fn mail_env(sink: &SmtpSink, extra: &[(&str, &str)]) -> Vec<(String, String)> {
    let mut env = vec![
        ("SEALDESK_SMTP_URL".to_owned(), sink.url()),
        (
            "SEALDESK_MAIL_FROM".to_owned(),
            "Acme Support <support@example.org>".to_owned(),
        ),
        ("SEALDESK_PUBLIC_URL".to_owned(), PUBLIC_URL.to_owned()),
        ("SEALDESK_INSTANCE_NAME".to_owned(), "Acme Help".to_owned()),
    ];
    env.extend(
        extra
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned())),
    );
    env
}

fn http() -> reqwest::blocking::Client {
    reqwest::blocking::Client::new()
}

/// The token of a mail's `List-Unsubscribe` header, checking the header's form.
fn unsubscribe_token(mail: &Mail) -> String {
    let header = mail.header("List-Unsubscribe").expect("List-Unsubscribe");
    let token = header
        .strip_prefix(&format!("<{PUBLIC_URL}/api/v1/unsubscribe/"))
        .and_then(|rest| rest.strip_suffix('>'))
        .unwrap_or_else(|| panic!("List-Unsubscribe: {header}"))
        .to_owned();
    assert_eq!(
        mail.header("List-Unsubscribe-Post").as_deref(),
        Some("List-Unsubscribe=One-Click")
    );
    assert!(
        mail.body()
            .contains(&format!("{PUBLIC_URL}/help/unsubscribe/{token}")),
        "the body carries the unsubscribe page's link: {}",
        mail.body()
    );
    token
}

fn to(mail: &Mail) -> &str {
    mail.rcpt_tos.first().map(String::as_str).unwrap_or("")
}

fn metric(base: &str, name: &str) -> i64 {
    let text = http()
        .get(format!("{base}/metrics"))
        .send()
        .unwrap()
        .text()
        .unwrap();
    text.lines()
        .find_map(|line| line.strip_prefix(&format!("{name} ")))
        .unwrap_or_else(|| panic!("{name} in /metrics"))
        .trim()
        .parse()
        .unwrap()
}

#[test]
fn reporter_and_administrator_mails_carry_no_content_and_unsubscribe_works() {
    let sink = SmtpSink::start();
    let server = Persistent::start(ServerOptions {
        log_level: "debug".into(),
        env: mail_env(
            &sink,
            &[("SEALDESK_REPLY_NOTIFICATION_INTERVAL_SECONDS", "3")],
        ),
    });
    let base = server.base().to_owned();
    let settings: Value = http()
        .get(format!("{base}/api/v1/settings"))
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(settings["mail_enabled"], json!(true));

    let marker = format!(
        "mk{}",
        &TicketId::generate(&mut system_rng()).to_hex()[..12]
    );
    let mark = |field: &str| format!("{marker}-{field}");
    let mut secrets: Vec<String> = Vec::new();

    // The administrator signs in, publishes support hours, and asks for mails.
    let session = runtime().block_on(async {
        let transport = NativeTransport::new(&base);
        let account = Account::register_with_seed(
            &transport,
            "root",
            "root password",
            CHEAP,
            IdentitySeed::from_bytes(FIRST_ADMIN_SEED),
            &mut system_rng(),
        )
        .await
        .expect("register");
        let admin = Admin::new(&transport, account, None).await.expect("admin");
        admin.account().session().to_owned()
    });
    let put = |path: &str, body: Value| {
        let answer = http()
            .put(format!("{base}{path}"))
            .bearer_auth(&session)
            .json(&body)
            .send()
            .unwrap();
        assert!(
            answer.status().is_success(),
            "{path}: {}",
            answer.text().unwrap()
        );
    };
    put(
        "/api/v1/settings",
        json!({"support_hours": "Mon-Fri 9-17 CET", "response_time": "one working day",
               "categories": [{"name": mark("category")}]}),
    );
    put(
        "/api/v1/admin/mail",
        json!({"address": ADMIN, "new_tickets": true, "reporter_replies": true}),
    );
    secrets.push(session.clone());

    // The reporter writes, with every field marked, and asks to be mailed.
    let (id, link_secret, access_token) = runtime().block_on(async {
        let transport = NativeTransport::new(&base);
        let directory = fetch_verified(&transport, None).await.expect("directory");
        let mut rng = system_rng();
        let opening = Opening {
            subject: mark("subject"),
            text: mark("message"),
            category: Some(mark("category")),
            name: Some(mark("name")),
            email: Some(format!("{}@example.org", mark("email"))),
            urgent: false,
            notify_email: Some(REPORTER.to_owned()),
            debug: Some(BTreeMap::from([("user_agent".to_owned(), mark("debug"))])),
        };
        let mut ticket = ReporterTicket::create(&transport, &directory, opening, 10, &mut rng)
            .await
            .expect("create");
        let id = ticket.link().ticket_id();
        let path = ticket.link().path();
        let fragment = path.split_once('#').expect("fragment").1.to_owned();
        let bearer = reporter_bearer(ticket.link()).expect("bearer");
        let reference = upload(
            &transport,
            &bearer,
            id,
            InMemoryFile {
                name: &format!("{}.log", mark("file-name")),
                mime_type: "text/plain",
                data: mark("file-contents").as_bytes(),
            },
            11,
            |_, _| {},
            &mut rng,
        )
        .await
        .expect("upload");
        ticket
            .send(
                &transport,
                &directory,
                Content::AttachmentRef(reference),
                &mut rng,
            )
            .await
            .expect("reference");
        (id, fragment, bearer)
    });
    secrets.push(link_secret.clone());
    secrets.push(access_token.clone());
    let id_hex = id.to_hex();
    let short = format!("#{}", id_hex[..8].to_uppercase());

    let mails = sink.wait_for(2, WAIT);
    let confirmation = mails
        .iter()
        .find(|m| to(m) == REPORTER)
        .expect("the confirmation");
    let new_ticket = mails.iter().find(|m| to(m) == ADMIN).expect("new ticket");
    let subject = confirmation.header("Subject").unwrap();
    assert!(
        subject.contains("Acme Help") && subject.contains(&short),
        "{subject}"
    );
    let body = confirmation.body();
    for expected in [
        "Acme Help",
        short.as_str(),
        "Mon-Fri 9-17 CET",
        "one working day",
        &format!("{PUBLIC_URL}/help/ticket/{id_hex}\n"),
        &format!("{PUBLIC_URL}/help/recover"),
        "end-to-end",
    ] {
        assert!(
            body.contains(expected),
            "confirmation lacks {expected:?}:\n{body}"
        );
    }
    assert_eq!(confirmation.mail_from, "support@example.org");
    assert_eq!(
        confirmation.header("Auto-Submitted").as_deref(),
        Some("auto-generated")
    );
    let reporter_token = unsubscribe_token(confirmation);
    let admin_token = unsubscribe_token(new_ticket);
    assert_ne!(reporter_token, admin_token);
    assert!(new_ticket.body().contains(&short));

    // The administrator answers twice within the interval: one notification. The reporter
    // answers: the administrator hears of it.
    runtime().block_on(async {
        let transport = NativeTransport::new(&base);
        let account = Account::login(&transport, "root", "root password", CHEAP)
            .await
            .expect("login");
        let mut admin = Admin::new(&transport, account, None).await.expect("admin");
        let mut read = admin.read_ticket(&transport, id).await.expect("read");
        let mut rng = system_rng();
        for n in 0..2 {
            admin
                .reply(
                    &transport,
                    &mut read,
                    Outgoing::new(&mark(&format!("admin-reply-{n}")), 12)
                        .with_author(Some(mark("admin-name"))),
                    &mut rng,
                )
                .await
                .expect("answer");
        }
        admin
            .note(
                &transport,
                &mut read,
                Outgoing::new(&mark("note"), 13),
                &mut rng,
            )
            .await
            .expect("note");
    });
    sink.wait_for(3, WAIT);
    std::thread::sleep(Duration::from_secs(1));
    let notifications: Vec<Mail> = sink
        .mails()
        .into_iter()
        .filter(|m| to(m) == REPORTER)
        .skip(1)
        .collect();
    assert_eq!(notifications.len(), 1, "one notification per interval");
    let notification = &notifications[0];
    assert!(
        notification
            .body()
            .contains(&format!("{PUBLIC_URL}/help/ticket/{id_hex}\n"))
    );
    assert!(notification.header("Subject").unwrap().contains(&short));
    let _ = unsubscribe_token(notification);

    // Every mail so far: no marker, no secret, anywhere in headers or body.
    let scan = |mails: &[Mail]| {
        for mail in mails {
            let lowered = mail.data.to_ascii_lowercase();
            assert!(
                !lowered.contains(&marker.to_ascii_lowercase()),
                "a mail carries ticket content:\n{}",
                mail.data
            );
            for secret in &secrets {
                assert!(
                    !mail.data.contains(secret.as_str()),
                    "a mail carries a secret"
                );
            }
            assert!(
                !mail.data.contains(&format!("{id_hex}#")),
                "a link with its secret"
            );
        }
    };
    scan(&sink.mails());

    // Unsubscribe by the page's POST (the reporter) and by one-click (the administrator).
    let answer = http()
        .post(format!("{base}/api/v1/unsubscribe/{reporter_token}"))
        .send()
        .unwrap();
    assert_eq!(answer.status().as_u16(), 200);
    assert_eq!(
        answer.json::<Value>().unwrap(),
        json!({"unsubscribed": true})
    );
    let answer = http()
        .post(format!("{base}/api/v1/unsubscribe/{admin_token}"))
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body("List-Unsubscribe=One-Click")
        .send()
        .unwrap();
    assert_eq!(answer.status().as_u16(), 200);
    let preferences: Value = http()
        .get(format!("{base}/api/v1/admin/mail"))
        .bearer_auth(&session)
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(preferences["address"], json!(""));
    // Again: the same answer; a damaged or unknown token: clear errors.
    let again = http()
        .post(format!("{base}/api/v1/unsubscribe/{reporter_token}"))
        .send()
        .unwrap();
    assert_eq!(again.status().as_u16(), 200);
    let damaged = http()
        .post(format!("{base}/api/v1/unsubscribe/not-a-token"))
        .send()
        .unwrap();
    assert_eq!(damaged.status().as_u16(), 400);
    assert_eq!(
        damaged.json::<Value>().unwrap()["error"],
        json!("bad_token")
    );
    let unknown = http()
        .post(format!("{base}/api/v1/unsubscribe/{}", "A".repeat(43)))
        .send()
        .unwrap();
    assert_eq!(unknown.status().as_u16(), 404);
    assert_eq!(
        unknown.json::<Value>().unwrap()["error"],
        json!("unknown_token")
    );

    // After the interval, another answer mails nobody: both unsubscribed.
    std::thread::sleep(Duration::from_secs(4));
    let before = sink.mails().len();
    runtime().block_on(async {
        let transport = NativeTransport::new(&base);
        let account = Account::login(&transport, "root", "root password", CHEAP)
            .await
            .expect("login");
        let mut admin = Admin::new(&transport, account, None).await.expect("admin");
        let mut read = admin.read_ticket(&transport, id).await.expect("read");
        admin
            .reply(
                &transport,
                &mut read,
                Outgoing::new("later", 14),
                &mut system_rng(),
            )
            .await
            .expect("answer");
    });
    std::thread::sleep(Duration::from_secs(3));
    assert_eq!(sink.mails().len(), before, "no mail after unsubscribing");
    assert_eq!(metric(&base, "sealdesk_mail_queued"), 0);
    assert_eq!(
        metric(&base, "sealdesk_mail_sent_total"),
        i64::try_from(before).unwrap()
    );
    scan(&sink.mails());

    // The log names mails by id and kind, never by address or token.
    let log = server.log();
    assert!(log.contains("mail sent"), "the sender logs");
    for needle in [
        REPORTER,
        ADMIN,
        reporter_token.as_str(),
        admin_token.as_str(),
    ] {
        assert!(!log.contains(needle), "the log names {needle}");
    }
}

#[test]
fn the_outbox_keeps_a_mail_while_smtp_is_down_across_a_restart_and_sends_it_once() {
    let mut sink = SmtpSink::start();
    sink.stop();
    let mut server = Persistent::start(ServerOptions {
        log_level: "info".into(),
        env: mail_env(&sink, &[("SEALDESK_MAIL_RETRY_MAX_SECONDS", "1")]),
    });
    let base = server.base().to_owned();
    runtime().block_on(async {
        let transport = NativeTransport::new(&base);
        let directory = fetch_verified(&transport, None).await.expect("directory");
        let opening = Opening {
            subject: "s".into(),
            text: "t".into(),
            category: None,
            name: None,
            email: None,
            urgent: false,
            notify_email: Some(REPORTER.to_owned()),
            debug: None,
        };
        ReporterTicket::create(&transport, &directory, opening, 10, &mut system_rng())
            .await
            .expect("create");
    });
    // The relay is down: the mail waits, tried again and again.
    std::thread::sleep(Duration::from_secs(3));
    assert_eq!(metric(&base, "sealdesk_mail_queued"), 1);
    assert!(server.log().contains("will retry"), "{}", server.log());
    assert!(sink.mails().is_empty());

    server.stop();
    server.try_start().expect("restart");
    let base = server.base().to_owned();
    assert_eq!(
        metric(&base, "sealdesk_mail_queued"),
        1,
        "kept across the restart"
    );
    sink.restart();
    // Up to one SMTP timeout (30 s, server/src/services/mail.rs) more than WAIT: an attempt made
    // while the sink was starting can hang until then before the next one delivers.
    let mails = sink.wait_for(1, WAIT * 3);
    assert_eq!(to(&mails[0]), REPORTER);
    std::thread::sleep(Duration::from_secs(3));
    assert_eq!(sink.mails().len(), 1, "sent once");
    assert_eq!(metric(&base, "sealdesk_mail_queued"), 0);
    assert_eq!(metric(&base, "sealdesk_mail_sent_total"), 1);
}

#[test]
fn mail_test_and_config_check_report_the_relay() {
    let sink = SmtpSink::start();
    let env = mail_env(&sink, &[]);
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let out = run_cli(&["mail", "test", "someone@example.org"], &env, None).ok();
    assert!(out.contains("test mail handed to"), "{out}");
    let mails = sink.wait_for(1, WAIT);
    assert_eq!(to(&mails[0]), "someone@example.org");
    assert!(mails[0].header("Subject").unwrap().contains("Acme Help"));
    let out = run_cli(&["config", "check"], &env, None).ok();
    assert!(out.contains("mail: on, relay 127.0.0.1"), "{out}");
    let out = run_cli(&["config", "check"], &[], None).ok();
    assert!(out.contains("mail: off"), "{out}");
    // A password in the URL is refused, naming the fix.
    let bad = run_cli(
        &["config", "check"],
        &[
            ("SEALDESK_SMTP_URL", "smtp://u:pw@relay.example.org"),
            ("SEALDESK_MAIL_FROM", "a@example.org"),
            ("SEALDESK_PUBLIC_URL", PUBLIC_URL),
        ],
        None,
    );
    assert_eq!(bad.status, 2);
    assert!(
        bad.stderr.contains("SEALDESK_SMTP_PASSWORD"),
        "{}",
        bad.stderr
    );
    assert!(
        !bad.stderr.contains("pw@"),
        "the password is not echoed: {}",
        bad.stderr
    );
}

#[test]
fn administrators_get_digests_and_assignments_and_accounts_their_reply_notifications() {
    let sink = SmtpSink::start();
    let server = Persistent::start(ServerOptions {
        log_level: "warn".into(),
        env: mail_env(&sink, &[("SEALDESK_MAIL_DIGEST_INTERVAL_SECONDS", "3")]),
    });
    let base = server.base().to_owned();
    let put = |session: &str, path: &str, body: Value| {
        let answer = http()
            .put(format!("{base}{path}"))
            .bearer_auth(session)
            .json(&body)
            .send()
            .unwrap();
        assert!(
            answer.status().is_success(),
            "{path}: {}",
            answer.text().unwrap()
        );
    };
    let opening = |subject: &str| Opening {
        subject: subject.into(),
        text: "secret words".into(),
        category: None,
        name: None,
        email: None,
        urgent: false,
        notify_email: None,
        debug: None,
    };

    let (root_session, bo_session, bo_key, casey_session) = runtime().block_on(async {
        let transport = NativeTransport::new(&base);
        let mut rng = system_rng();
        let account = Account::register_with_seed(
            &transport,
            "root",
            "root password",
            CHEAP,
            IdentitySeed::from_bytes(FIRST_ADMIN_SEED),
            &mut rng,
        )
        .await
        .expect("register");
        let mut root = Admin::new(&transport, account, None).await.expect("root");
        let bo =
            sealdesk_system_tests::add_administrator(&transport, &mut root, "bo", &mut rng).await;
        let bo_key = bo.identity().public().key_id();
        let bo = Admin::new(&transport, bo, None).await.expect("bo");
        let casey = Account::register(&transport, "casey", "casey pw", CHEAP, &mut rng)
            .await
            .expect("casey");
        (
            root.account().session().to_owned(),
            bo.account().session().to_owned(),
            bo_key,
            casey.session().to_owned(),
        )
    });
    put(
        &root_session,
        "/api/v1/admin/mail",
        json!({"address": "root@example.org", "new_tickets": true, "digest": true}),
    );
    put(
        &bo_session,
        "/api/v1/admin/mail",
        json!({"address": "bo@example.org", "assigned": true}),
    );
    put(
        &casey_session,
        "/api/v1/accounts/notifications",
        json!({"address": "casey@example.org"}),
    );
    let read: Value = http()
        .get(format!("{base}/api/v1/accounts/notifications"))
        .bearer_auth(&casey_session)
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(read, json!({"address": "casey@example.org"}));

    let account_ticket = runtime().block_on(async {
        let transport = NativeTransport::new(&base);
        let directory = fetch_verified(&transport, None).await.expect("directory");
        let mut rng = system_rng();
        let casey = Account::login(&transport, "casey", "casey pw", CHEAP)
            .await
            .expect("login");
        let ticket = casey
            .create_ticket(
                &transport,
                &directory,
                opening("account ticket"),
                10,
                &mut rng,
            )
            .await
            .expect("account ticket");
        ReporterTicket::create(&transport, &directory, opening("anonymous"), 10, &mut rng)
            .await
            .expect("anonymous ticket");
        let id = ticket.ticket_id();
        let account = Account::login(&transport, "root", "root password", CHEAP)
            .await
            .expect("login");
        let mut root = Admin::new(&transport, account, None).await.expect("root");
        root.assign(&transport, id, Some(&bo_key))
            .await
            .expect("assign");
        let mut read = root.read_ticket(&transport, id).await.expect("read");
        root.reply(
            &transport,
            &mut read,
            Outgoing::new("an answer", 12),
            &mut rng,
        )
        .await
        .expect("answer");
        id
    });

    let mails = sink.wait_for(3, WAIT);
    let for_whom = |address: &str| -> Vec<Mail> {
        mails.iter().filter(|m| to(m) == address).cloned().collect()
    };
    let short = format!("#{}", &account_ticket.to_hex()[..8].to_uppercase());
    let assigned = for_whom("bo@example.org");
    assert_eq!(assigned.len(), 1);
    assert!(
        assigned[0]
            .header("Subject")
            .unwrap()
            .contains("assigned to you")
    );
    assert!(assigned[0].body().contains(&short));
    let casey = for_whom("casey@example.org");
    assert_eq!(casey.len(), 1);
    assert!(
        casey[0]
            .header("Subject")
            .unwrap()
            .contains("support answered")
    );
    // Both new tickets in one digest, after the interval.
    let digest = for_whom("root@example.org");
    assert_eq!(digest.len(), 1, "one digest");
    let body = digest[0].body();
    assert_eq!(body.matches("new ticket").count(), 2, "{body}");
    assert!(body.contains(&short));
    for mail in &mails {
        assert!(!mail.data.contains("secret words") && !mail.data.contains("account ticket"));
        let _ = unsubscribe_token(mail);
    }
}

#[test]
fn a_closed_tickets_address_is_deleted_after_the_retention() {
    let sink = SmtpSink::start();
    let server = Persistent::start(ServerOptions {
        log_level: "warn".into(),
        env: mail_env(
            &sink,
            &[
                ("SEALDESK_CLOSED_ADDRESS_RETENTION_SECONDS", "1"),
                ("SEALDESK_REPLY_NOTIFICATION_INTERVAL_SECONDS", "1"),
            ],
        ),
    });
    let base = server.base().to_owned();
    let opening = |address: &str| Opening {
        subject: "s".into(),
        text: "t".into(),
        category: None,
        name: None,
        email: None,
        urgent: false,
        notify_email: Some(address.to_owned()),
        debug: None,
    };
    runtime().block_on(async {
        let transport = NativeTransport::new(&base);
        let directory = fetch_verified(&transport, None).await.expect("directory");
        let mut rng = system_rng();
        let ticket =
            ReporterTicket::create(&transport, &directory, opening(REPORTER), 10, &mut rng)
                .await
                .expect("create");
        let id = ticket.link().ticket_id();
        let account = Account::register_with_seed(
            &transport,
            "root",
            "root password",
            CHEAP,
            IdentitySeed::from_bytes(FIRST_ADMIN_SEED),
            &mut rng,
        )
        .await
        .expect("register");
        let mut root = Admin::new(&transport, account, None).await.expect("root");
        let mut read = root.read_ticket(&transport, id).await.expect("read");
        let change = || sealdesk_client::content::StatusChange {
            sent_at: 11,
            author: None,
        };
        root.send(&transport, &mut read, Content::Close(change()), &mut rng)
            .await
            .expect("close");
        // Closed for longer than the retention: the address goes.
        tokio::time::sleep(Duration::from_secs(4)).await;
        root.send(&transport, &mut read, Content::Reopen(change()), &mut rng)
            .await
            .expect("reopen");
        root.reply(&transport, &mut read, Outgoing::new("answer", 12), &mut rng)
            .await
            .expect("answer");
        // A second reporter's confirmation marks that the sender has looked since.
        ReporterTicket::create(
            &transport,
            &directory,
            opening("other@example.org"),
            13,
            &mut rng,
        )
        .await
        .expect("create");
    });
    let mails = sink.wait_for(2, WAIT);
    std::thread::sleep(Duration::from_secs(2));
    let _ = mails;
    let mails = sink.mails();
    let to_reporter: Vec<&Mail> = mails.iter().filter(|m| to(m) == REPORTER).collect();
    assert_eq!(
        to_reporter.len(),
        1,
        "only the confirmation: the address was deleted"
    );
    assert!(
        to_reporter[0]
            .header("Subject")
            .unwrap()
            .contains("received")
    );
    assert!(mails.iter().any(|m| to(m) == "other@example.org"));
}
