//! Accounts through the native client against the real server: register, sign in, open a
//! ticket, read the administrators' answers, change the password without losing anything; and
//! a server that weakens the password derivation or hands out another keyring, refused.

// Test and tool code: a failed expectation stops the run, so it may unwrap, expect and
// panic (the workspace denies these in library code: Cargo.toml, clippy.toml).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::cell::Cell;
use std::collections::BTreeMap;

use base64ct::{Base64UrlUnpadded, Encoding};
use sealdesk_client::account::Account;
use sealdesk_client::content::{Content, Outgoing, Text};
use sealdesk_client::directory::fetch_verified;
use sealdesk_client::reporter::Opening;
use sealdesk_client::transport::{NativeTransport, Request, Response, Transport};
use sealdesk_client::{ClientError, Result};
use sealdesk_crypto::{Argon2Params, Kind, system_rng};
use sealdesk_system_tests::{CHEAP, Instance, b64, first_admin, runtime};
use serde_json::{Value, json};

fn opening() -> Opening {
    Opening {
        subject: "Printer on fire".into(),
        text: "The office printer is on fire again.".into(),
        category: Some("Hardware".into()),
        name: Some("Alice".into()),
        email: None,
        urgent: true,
        notify_email: None,
        debug: Some(BTreeMap::from([(
            "user_agent".to_owned(),
            "Test/1.0".to_owned(),
        )])),
    }
}

fn text_of(content: &std::result::Result<Content, ClientError>) -> &Text {
    match content {
        Ok(Content::Message(text)) => text,
        other => panic!("not a readable message: {other:?}"),
    }
}

#[test]
fn an_account_opens_a_ticket_reads_answers_and_changes_its_password() {
    let instance = Instance::start();
    runtime().block_on(async {
        let transport = NativeTransport::new(&instance.base);
        let directory = fetch_verified(&transport, None).await.expect("directory");
        let mut rng = system_rng();

        let mut alice = Account::register(&transport, "Alice", "correct horse", CHEAP, &mut rng)
            .await
            .expect("register");
        assert_eq!(alice.username(), "alice");
        assert_eq!(alice.app_data(), b"{}");
        let elsewhere = Account::login(&transport, "ALICE", "correct horse", CHEAP)
            .await
            .expect("login");
        assert_eq!(elsewhere.public(), alice.public());
        assert_eq!(elsewhere.account_id(), alice.account_id());

        let mut ticket = alice
            .create_ticket(&transport, &directory, opening(), 1_700_000_000, &mut rng)
            .await
            .expect("create");
        assert_eq!(
            ticket.messages.len(),
            2,
            "the first message and the debug data"
        );
        let listed = alice.list_tickets(&transport).await.expect("list");
        assert_eq!(listed.len(), 1);
        assert_eq!(listed[0].ticket_id, ticket.ticket_id());
        assert!(!listed[0].answered && !listed[0].closed);

        // The first administrator signs in with an account holding its seed, and reads the
        // inbox with the subject decrypted.
        let mut admin = first_admin(&transport).await;
        let inbox = admin.inbox(&transport, None, 0).await.expect("inbox");
        assert_eq!(inbox.tickets.len(), 1);
        assert!(!inbox.more);
        let first = inbox.tickets[0].opening.as_ref().expect("first message");
        assert_eq!(first.subject.as_deref(), Some("Printer on fire"));
        assert_eq!(first.category.as_deref(), Some("Hardware"));
        assert!(first.urgent);

        let mut read = admin
            .read_ticket(&transport, ticket.ticket_id())
            .await
            .expect("read");
        assert_eq!(read.reporter(), alice.public());
        assert_eq!(read.debug_data().len(), 1);
        assert_eq!(read.debug_data()[0].1.fields["user_agent"], "Test/1.0");
        admin
            .reply(
                &transport,
                &mut read,
                Outgoing::new("We are on it.", 1_700_000_100),
                &mut rng,
            )
            .await
            .expect("reply as the team");
        admin
            .reply(
                &transport,
                &mut read,
                Outgoing::new("Extinguisher on its way.", 1_700_000_200)
                    .with_author(Some("Sam".into())),
                &mut rng,
            )
            .await
            .expect("reply by name");

        // The account reads both answers, verified and decrypted.
        assert_eq!(
            ticket
                .refresh(&transport, &alice, &directory)
                .await
                .expect("refresh"),
            2
        );
        let team = &ticket.messages[2];
        assert!(team.from_support);
        assert_eq!(text_of(&team.content).text, "We are on it.");
        assert_eq!(text_of(&team.content).author, None);
        assert_eq!(
            text_of(&ticket.messages[3].content).author.as_deref(),
            Some("Sam")
        );
        assert!(alice.list_tickets(&transport).await.expect("list")[0].answered);
        ticket
            .reply(
                &transport,
                &alice,
                &directory,
                "Thanks!",
                1_700_000_300,
                &mut rng,
            )
            .await
            .expect("answer");
        assert_eq!(
            admin.refresh(&transport, &mut read).await.expect("refresh"),
            1
        );
        assert_eq!(
            text_of(&read.messages.last().expect("last").content).text,
            "Thanks!"
        );

        // A password change keeps the identity and every ticket; other sessions end.
        let wrong = alice
            .change_password(&transport, "not it", "battery staple", CHEAP, &mut rng)
            .await
            .expect_err("wrong current password");
        assert_eq!(wrong.code, "server.bad_credentials");
        alice
            .change_password(
                &transport,
                "correct horse",
                "battery staple",
                CHEAP,
                &mut rng,
            )
            .await
            .expect("change password");
        assert_eq!(
            alice
                .list_tickets(&transport)
                .await
                .expect("same session")
                .len(),
            1
        );
        let revoked = elsewhere
            .list_tickets(&transport)
            .await
            .expect_err("revoked");
        assert_eq!(revoked.code, "server.unauthorized");
        let old = Account::login(&transport, "alice", "correct horse", CHEAP)
            .await
            .expect_err("old password");
        assert_eq!(old.code, "server.bad_credentials");
        let again = Account::login(&transport, "alice", "battery staple", CHEAP)
            .await
            .expect("new password");
        assert_eq!(again.public(), alice.public());
        let reread = again
            .open_ticket(&transport, &directory, ticket.ticket_id())
            .await
            .expect("open");
        assert_eq!(reread.messages.len(), 5);
        assert!(reread.messages.iter().all(|m| m.content.is_ok()));
        assert_eq!(reread.conversation(), ticket.conversation());
        assert_eq!(reread.messages[1].kind, Kind::DebugData);

        // The account closes its ticket.
        ticket
            .close(&transport, &alice, &directory, 1_700_000_400, &mut rng)
            .await
            .expect("close");
        assert!(ticket.is_closed());
        assert!(alice.list_tickets(&transport).await.expect("list")[0].closed);

        again.logout(&transport).await.expect("logout");
        alice.logout(&transport).await.expect("logout");
    });
}

#[test]
fn wrong_passwords_and_other_accounts_tickets_are_refused() {
    let instance = Instance::start();
    runtime().block_on(async {
        let transport = NativeTransport::new(&instance.base);
        let directory = fetch_verified(&transport, None).await.expect("directory");
        let mut rng = system_rng();
        let alice = Account::register(&transport, "alice", "pw-a", CHEAP, &mut rng)
            .await
            .expect("register");
        let taken = Account::register(&transport, "ALICE", "pw", CHEAP, &mut rng)
            .await
            .expect_err("taken");
        assert_eq!(taken.code, "server.username_taken");
        let wrong = Account::login(&transport, "alice", "pw-b", CHEAP)
            .await
            .expect_err("wrong password");
        assert_eq!(wrong.code, "server.bad_credentials");
        let unknown = Account::login(&transport, "nobody", "pw", CHEAP)
            .await
            .expect_err("unknown user");
        assert_eq!(unknown.code, "server.bad_credentials");

        let ticket = alice
            .create_ticket(&transport, &directory, opening(), 1, &mut rng)
            .await
            .expect("create");
        let mallory = Account::register(&transport, "mallory", "pw-m", CHEAP, &mut rng)
            .await
            .expect("register");
        let error = mallory
            .open_ticket(&transport, &directory, ticket.ticket_id())
            .await
            .expect_err("not hers");
        assert_eq!(error.code, "server.not_found");
        assert!(
            mallory
                .list_tickets(&transport)
                .await
                .expect("list")
                .is_empty()
        );
    });
}

/// A transport that rewrites the JSON answer of the routes whose path contains `route`.
struct Rewriting<'a, F: Fn(&mut Value)> {
    inner: &'a NativeTransport,
    route: &'static str,
    edit: F,
    logins: Cell<usize>,
}

impl<'a, F: Fn(&mut Value)> Rewriting<'a, F> {
    fn new(inner: &'a NativeTransport, route: &'static str, edit: F) -> Self {
        Rewriting {
            inner,
            route,
            edit,
            logins: Cell::new(0),
        }
    }
}

impl<F: Fn(&mut Value)> Transport for Rewriting<'_, F> {
    async fn send(&self, request: Request) -> Result<Response> {
        if request.path.ends_with("/accounts/login") {
            self.logins.set(self.logins.get() + 1);
        }
        let rewrite = request.path.contains(self.route);
        let mut response = self.inner.send(request).await?;
        if rewrite && response.status == 200 {
            let mut body: Value = serde_json::from_slice(&response.body).expect("json");
            (self.edit)(&mut body);
            response.body = serde_json::to_vec(&body).expect("json");
        }
        Ok(response)
    }
}

#[test]
fn a_server_cannot_weaken_the_derivation_or_swap_the_keyring() {
    let instance = Instance::start();
    runtime().block_on(async {
        let transport = NativeTransport::new(&instance.base);
        let mut rng = system_rng();
        let bob = Account::register(&transport, "bob", "hunter2", CHEAP, &mut rng)
            .await
            .expect("register");

        // Weaker than the floor, or beyond the maximum: refused before anything is derived
        // or sent.
        let max = Argon2Params::MAX;
        let cases: Vec<(&str, Value, Argon2Params)> = vec![
            (
                "weaker memory",
                json!({"memory_kib": 8, "iterations": 1, "parallelism": 1}),
                CHEAP,
            ),
            (
                "fewer passes than the default floor",
                json!({"memory_kib": 65536, "iterations": 1, "parallelism": 1}),
                Argon2Params::DEFAULT,
            ),
            (
                "more memory than the maximum",
                json!({"memory_kib": max.memory_kib + 1, "iterations": 1, "parallelism": 1}),
                CHEAP,
            ),
            (
                "more lanes than the maximum",
                json!({"memory_kib": 65536, "iterations": 3, "parallelism": max.parallelism + 1}),
                CHEAP,
            ),
        ];
        for (name, argon2, floor) in cases {
            let fake = Rewriting::new(&transport, "/accounts/prelogin", move |body: &mut Value| {
                body["argon2"] = argon2.clone();
            });
            let error = Account::login(&fake, "bob", "hunter2", floor)
                .await
                .err()
                .unwrap_or_else(|| panic!("{name}: accepted"));
            assert_eq!(error.code, "account.weak_parameters", "{name}");
            assert_eq!(fake.logins.get(), 0, "{name}: the password was used");
        }

        // The real server's (cheap, test) parameters are below the documented default floor.
        let error = Account::login(&transport, "bob", "hunter2", Argon2Params::DEFAULT)
            .await
            .expect_err("below the default floor");
        assert_eq!(error.code, "account.weak_parameters");

        // A keyring that does not open, or another identity than the keyring's.
        let fake = Rewriting::new(&transport, "/accounts/login", |body: &mut Value| {
            let mut sealed =
                Base64UrlUnpadded::decode_vec(body["keyring"].as_str().expect("keyring"))
                    .expect("base64url");
            let last = sealed.len() - 1;
            sealed[last] ^= 1;
            body["keyring"] = json!(b64(&sealed));
        });
        let error = Account::login(&fake, "bob", "hunter2", CHEAP)
            .await
            .expect_err("altered keyring");
        assert_eq!(error.code, "account.bad_keyring");
        let other = sealdesk_crypto::Identity::generate(&mut rng).1;
        let other = b64(&other.public().to_bytes());
        let fake = Rewriting::new(&transport, "/accounts/login", move |body: &mut Value| {
            body["identity"] = json!(other.clone());
        });
        let error = Account::login(&fake, "bob", "hunter2", CHEAP)
            .await
            .expect_err("other identity");
        assert_eq!(error.code, "account.identity_mismatch");

        let again = Account::login(&transport, "bob", "hunter2", CHEAP)
            .await
            .expect("login");
        assert_eq!(again.public(), bob.public());
    });
}

/// With proof of work on for account tickets too, the client's first attempt is refused with
/// `pow_required`; it then solves a challenge and sends the same ticket again (spec/API.md,
/// `POST /api/v1/tickets/account`).
#[test]
fn an_account_solves_the_proof_of_work_when_the_instance_asks() {
    let instance = Instance::start_with(&[
        ("SEALDESK_PROOF_OF_WORK_BITS", "6"),
        ("SEALDESK_PROOF_OF_WORK_FOR_ACCOUNT_TICKETS", "true"),
    ]);
    runtime().block_on(async {
        let transport = NativeTransport::new(&instance.base);
        let directory = fetch_verified(&transport, None).await.expect("directory");
        let mut rng = system_rng();
        let alice = Account::register(&transport, "alice", "correct horse", CHEAP, &mut rng)
            .await
            .expect("register");
        let ticket = alice
            .create_ticket(&transport, &directory, opening(), 1_700_000_000, &mut rng)
            .await
            .expect("created with a proof of work");
        assert_eq!(ticket.messages.len(), 2);
        let listed = alice.list_tickets(&transport).await.expect("list");
        assert_eq!(listed.len(), 1, "one ticket, although sent twice");
    });
}

#[test]
fn sign_out_everywhere_ends_every_session_and_a_remembered_account_goes_on() {
    let instance = Instance::start();
    runtime().block_on(async {
        let transport = NativeTransport::new(&instance.base);
        let mut rng = system_rng();
        let first = Account::register(&transport, "alice", "pw-a", CHEAP, &mut rng)
            .await
            .expect("register");
        let second = Account::login(&transport, "alice", "pw-a", CHEAP)
            .await
            .expect("second device");
        let other = Account::register(&transport, "bob", "pw-b", CHEAP, &mut rng)
            .await
            .expect("bob");
        // A device that remembered the first sign-in goes on without the password.
        let remembered = Account::from_remembered(&first.to_remembered(), 0).expect("resume");
        assert_eq!(remembered.public(), first.public());
        remembered
            .list_tickets(&transport)
            .await
            .expect("remembered session works");

        second
            .logout_everywhere(&transport)
            .await
            .expect("sign out everywhere");
        for (name, account) in [("first", &first), ("remembered", &remembered)] {
            let ended = account.list_tickets(&transport).await.expect_err(name);
            assert_eq!(ended.code, "server.unauthorized", "{name}");
        }
        // Another account's session is untouched, and the password still signs in.
        other.list_tickets(&transport).await.expect("bob stays");
        let again = Account::login(&transport, "alice", "pw-a", CHEAP)
            .await
            .expect("sign in again");
        again.list_tickets(&transport).await.expect("new session");
        let twice = Account::from_remembered(&first.to_remembered(), 0).expect("resume");
        let refused = twice
            .logout_everywhere(&transport)
            .await
            .expect_err("ended");
        assert_eq!(refused.code, "server.unauthorized");
    });
}
