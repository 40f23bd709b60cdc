//! "Keep this ticket in my account" through the native client against the real server
//! (PROTOCOL.md §8.2 grounds 0x02, spec/API.md "Keeping a ticket in an account"): the
//! reporter's link endorses the account's key and wraps the history for it; the ticket is then
//! in the account's list, and the account reads the whole ticket (both epochs) and answers
//! through the account API; the link keeps working. A reporter's endorse message without the
//! account's session is refused, and other accounts see nothing.

// Test and tool code: a failed expectation stops the run, so it may unwrap, expect and
// panic (the workspace denies these in library code: Cargo.toml, clippy.toml).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use sealdesk_client::account::Account;
use sealdesk_client::content::{Content, Outgoing};
use sealdesk_client::directory::fetch_verified;
use sealdesk_client::reporter::{Opening, ReporterTicket, TicketLink};
use sealdesk_client::transport::NativeTransport;
use sealdesk_crypto::{EndorseContent, EndorseGrounds, Kind, system_rng};
use sealdesk_system_tests::{CHEAP, Instance, add_administrator, first_admin, runtime};

fn opening() -> Opening {
    Opening {
        subject: "Cannot log in".into(),
        text: "The login page loops.".into(),
        category: None,
        name: None,
        email: None,
        urgent: false,
        notify_email: None,
        debug: None,
    }
}

fn text(content: &Result<Content, sealdesk_client::ClientError>) -> String {
    match content {
        Ok(Content::Message(text)) => text.text.clone(),
        other => panic!("not a readable message: {other:?}"),
    }
}

#[test]
fn an_account_keeps_an_anonymous_ticket_reads_it_whole_and_answers() {
    let instance = Instance::start();
    runtime().block_on(async {
        let transport = NativeTransport::new(&instance.base);
        let mut rng = system_rng();
        let mut root = first_admin(&transport).await;
        let second = add_administrator(&transport, &mut root, "second", &mut rng).await;

        let directory = fetch_verified(&transport, None).await.expect("directory");
        let mut ticket = ReporterTicket::create(&transport, &directory, opening(), 1, &mut rng)
            .await
            .expect("create");
        let id = ticket.link().ticket_id();
        let mut read = root.read_ticket(&transport, id).await.expect("read");
        root.reply(
            &transport,
            &mut read,
            Outgoing::new("Which browser?", 2),
            &mut rng,
        )
        .await
        .expect("reply in epoch 0");
        // Removing an administrator rotates the ticket: the history now has two epochs.
        let removal = root
            .remove(&transport, &second.public().key_id(), &mut rng)
            .await
            .expect("remove");
        assert_eq!(removal.rotated, 1);
        let mut read = root.read_ticket(&transport, id).await.expect("read again");
        root.reply(
            &transport,
            &mut read,
            Outgoing::new("Try again now.", 3),
            &mut rng,
        )
        .await
        .expect("reply in epoch 1");

        let directory = fetch_verified(&transport, None).await.expect("directory");
        ticket
            .refresh(&transport, &directory)
            .await
            .expect("refresh");
        let alice = Account::register(&transport, "alice", "pw", CHEAP, &mut rng)
            .await
            .expect("register");
        let bob = Account::register(&transport, "bob", "pw", CHEAP, &mut rng)
            .await
            .expect("register");
        assert!(
            alice
                .list_tickets(&transport)
                .await
                .expect("list")
                .is_empty()
        );
        let before = alice
            .open_ticket(&transport, &directory, id)
            .await
            .expect_err("not yet the account's");
        assert_eq!(before.code, "server.not_found");

        // A reporter's endorse message with only the link's access token: refused, nothing
        // stored (the server accepts it only with the session of the account it names).
        let seq_before = ticket.conversation().last_seq();
        let refused = ticket
            .send(
                &transport,
                &directory,
                Content::Endorse(Box::new(EndorseContent::by_reporter(
                    id,
                    alice.public().clone(),
                ))),
                &mut rng,
            )
            .await
            .expect_err("no account session");
        assert_eq!(refused.code, "server.keep_needs_account");
        let mut fresh = ReporterTicket::open(
            &transport,
            &directory,
            TicketLink::parse(&ticket.link().path()).expect("link"),
        )
        .await
        .expect("open the link");
        assert_eq!(fresh.conversation().last_seq(), seq_before);

        // Keep it: one endorse message, a wrap of each epoch for the account's key.
        let wraps = fresh
            .keep_in_account(
                &transport,
                &directory,
                alice.public(),
                alice.session(),
                &mut rng,
            )
            .await
            .expect("keep");
        assert_eq!(wraps, 2, "epochs 0 and 1");
        let last = fresh.messages.last().expect("endorse message");
        assert_eq!(last.kind, Kind::Endorse);
        match &last.content {
            Ok(Content::Endorse(endorse)) => {
                assert_eq!(endorse.grounds, EndorseGrounds::Reporter);
                assert_eq!(&endorse.endorsed, alice.public());
            }
            other => panic!("not an endorsement: {other:?}"),
        }
        // Again: nothing new.
        assert_eq!(
            fresh
                .keep_in_account(
                    &transport,
                    &directory,
                    alice.public(),
                    alice.session(),
                    &mut rng,
                )
                .await
                .expect("keep again"),
            0
        );
        assert_eq!(fresh.conversation().last_seq(), seq_before + 1);

        // In the account's list; opened with the account's key, every message readable.
        let listed = alice.list_tickets(&transport).await.expect("list");
        assert_eq!(listed.len(), 1);
        assert_eq!(listed[0].ticket_id, id);
        assert!(listed[0].answered);
        let mut kept = alice
            .open_ticket(&transport, &directory, id)
            .await
            .expect("the account opens it");
        assert!(kept.messages.iter().all(|m| m.content.is_ok()));
        let texts: Vec<String> = kept
            .messages
            .iter()
            .filter(|m| m.kind == Kind::Message)
            .map(|m| text(&m.content))
            .collect();
        assert_eq!(
            texts,
            ["The login page loops.", "Which browser?", "Try again now."]
        );
        kept.reply(
            &transport,
            &alice,
            &directory,
            "Works now, thanks!",
            4,
            &mut rng,
        )
        .await
        .expect("the account answers");

        // The team reads it as the reporter's; the link reads it too.
        root.refresh(&transport, &mut read).await.expect("refresh");
        let answer = read.messages.last().expect("answer");
        assert!(!answer.from_support);
        assert_eq!(text(&answer.content), "Works now, thanks!");
        fresh.refresh(&transport, &directory).await.expect("link");
        assert_eq!(
            text(&fresh.messages.last().expect("answer").content),
            "Works now, thanks!"
        );
        assert!(!alice.list_tickets(&transport).await.expect("list")[0].answered);

        // Another account sees nothing of it.
        assert!(bob.list_tickets(&transport).await.expect("list").is_empty());
        let other = bob
            .open_ticket(&transport, &directory, id)
            .await
            .expect_err("not bob's");
        assert_eq!(other.code, "server.not_found");
    });
}
