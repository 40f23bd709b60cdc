//! Administrators through the native client against the real server: the inbox, notes,
//! status and assignment; inviting, approving (with the history wrapped for the newcomer) and
//! removing administrators (with every ticket rotated to a new epoch the removed
//! administrator has no key of).

// Test and tool code: a failed expectation stops the run, so it may unwrap, expect and
// panic (the workspace denies these in library code: Cargo.toml, clippy.toml).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeSet;

use sealdesk_client::account::Account;
use sealdesk_client::admin::{Admin, InboxFilter};
use sealdesk_client::content::{Content, Outgoing, StatusChange};
use sealdesk_client::directory::fetch_verified;
use sealdesk_client::reporter::{Opening, ReporterTicket};
use sealdesk_client::thread::{Participant, Thread};
use sealdesk_client::transport::{NativeTransport, Request, Transport};
use sealdesk_crypto::{
    Chain, ConversationStatus, Identity, Kind, Members, TicketSecret, system_rng,
};
use sealdesk_system_tests::{CHEAP, FreshInstance, Instance, first_admin, runtime, wrapped_epochs};

fn opening(subject: &str) -> Opening {
    Opening {
        subject: subject.into(),
        text: format!("About {subject}."),
        ..Opening::default()
    }
}

#[test]
fn a_new_administrator_reads_history_and_a_removed_one_gets_nothing_new() {
    let instance = Instance::start();
    runtime().block_on(async {
        let transport = NativeTransport::new(&instance.base);
        let directory = fetch_verified(&transport, None).await.expect("directory");
        let mut rng = system_rng();
        let mut root = first_admin(&transport).await;

        // Two tickets opened before the second administrator joins: an account's, with a note
        // and an answer, and an anonymous one that is closed.
        let alice = Account::register(&transport, "alice", "pw-a", CHEAP, &mut rng)
            .await
            .expect("register");
        let mut ticket = alice
            .create_ticket(&transport, &directory, opening("VPN"), 10, &mut rng)
            .await
            .expect("create");
        let id = ticket.ticket_id();
        let mut read = root.read_ticket(&transport, id).await.expect("read");
        root.note(
            &transport,
            &mut read,
            Outgoing::new("Probably the certificate.", 11),
            &mut rng,
        )
        .await
        .expect("note");
        root.reply(
            &transport,
            &mut read,
            Outgoing::new("Looking into it.", 12),
            &mut rng,
        )
        .await
        .expect("reply");
        let mut anonymous =
            ReporterTicket::create(&transport, &directory, opening("Spam"), 13, &mut rng)
                .await
                .expect("anonymous");
        anonymous
            .close(&transport, &directory, 14, &mut rng)
            .await
            .expect("close");

        // Bob registers, redeems an invite and reads his fingerprint out.
        let bob = Account::register(&transport, "bob", "pw-b", CHEAP, &mut rng)
            .await
            .expect("register");
        let invite = root.create_invite(&transport).await.expect("invite");
        assert!(invite.path().starts_with("/admin/invite#"));
        let redemption = Admin::redeem_invite(&transport, &bob, &invite.path())
            .await
            .expect("redeem");
        assert_eq!(redemption.key_id, bob.public().key_id());
        assert_eq!(redemption.fingerprint, bob.public().fingerprint());
        let reused = Admin::redeem_invite(&transport, &alice, &invite.token)
            .await
            .expect_err("single use");
        assert_eq!(reused.code, "server.invalid_invite");
        assert!(
            !Admin::is_administrator(&transport, &bob, None)
                .await
                .expect("directory")
        );

        // Root compares the fingerprint and approves; the history is wrapped for Bob.
        let pending = root.pending(&transport).await.expect("pending");
        assert_eq!(pending.len(), 1);
        assert_eq!(pending[0].username, "bob");
        assert_eq!(pending[0].fingerprint, redemption.fingerprint);
        let approval = root
            .approve(&transport, &pending[0], &mut rng)
            .await
            .expect("approve");
        assert_eq!(approval.head.seq, 1);
        assert_eq!(approval.history.tickets, 2);
        assert_eq!(
            approval.history.wraps, 3,
            "two conversations and one notes chain"
        );
        assert!(approval.history.failures.is_empty());
        assert!(approval.history.unavailable.is_empty());
        assert!(root.pending(&transport).await.expect("pending").is_empty());
        assert_eq!(root.team().len(), 2);
        let again = root
            .share_history(&transport, bob.public(), &mut rng)
            .await
            .expect("share again");
        assert_eq!(again.wraps, 0, "nothing is wrapped twice");

        let bob_key = bob.public().key_id();
        let mut bob = Admin::new(&transport, bob, Some(&root.head()))
            .await
            .expect("bob is an administrator");
        let mut bobs_view = bob.read_ticket(&transport, id).await.expect("bob reads");
        assert_eq!(bobs_view.messages.len(), 2);
        assert!(bobs_view.messages.iter().all(|m| m.content.is_ok()));
        assert_eq!(
            bobs_view.opening().and_then(|t| t.subject.as_deref()),
            Some("VPN")
        );
        match &bobs_view.notes[0].content {
            Ok(Content::InternalNote(note)) => assert_eq!(note.text, "Probably the certificate."),
            other => panic!("note: {other:?}"),
        }
        bob.reply(
            &transport,
            &mut bobs_view,
            Outgoing::new("Bob here.", 20).with_author(Some("Bob".into())),
            &mut rng,
        )
        .await
        .expect("bob replies");
        let closed = bob
            .read_ticket(&transport, anonymous.link().ticket_id())
            .await
            .expect("bob reads the closed ticket");
        assert!(closed.is_closed());
        assert!(closed.messages.iter().all(|m| m.content.is_ok()));

        // Root removes Bob: the open ticket's two chains rotate, and the closed ticket's
        // conversation (it stays readable and can be reopened).
        let self_removal = root
            .remove(&transport, &root.account().public().key_id(), &mut rng)
            .await
            .expect_err("not oneself");
        assert_eq!(self_removal.code, "admin.remove_self");
        let removal = root
            .remove(&transport, &bob_key, &mut rng)
            .await
            .expect("remove");
        assert_eq!(removal.head.seq, 2);
        assert_eq!(removal.tickets, 2);
        assert_eq!(removal.rotated, 3);
        assert!(removal.failures.is_empty());
        assert_eq!(root.team().len(), 1);

        // Bob's session no longer reads; his client sees he was removed.
        assert_eq!(
            bob.refresh_directory(&transport)
                .await
                .err()
                .map(|e| e.code),
            Some("admin.not_an_administrator".into())
        );
        assert_eq!(
            bob.refresh(&transport, &mut bobs_view)
                .await
                .err()
                .map(|e| e.code),
            Some("admin.not_an_administrator".into())
        );
        let path = format!("/api/v1/tickets/{}/messages?chain=0", id.to_hex());
        let refused = transport
            .send(Request::get(path).bearer(Some(bob.account().session())))
            .await
            .expect("request");
        assert_eq!(refused.status, 404);

        // Root answers after the removal; the reporter and root read everything.
        let mut read = root.read_ticket(&transport, id).await.expect("read");
        assert_eq!(read.messages.last().map(|m| m.kind), Some(Kind::Rotate));
        assert_eq!(read.notes.last().map(|m| m.kind), Some(Kind::Rotate));
        assert_eq!(read.conversation().epoch(), Some(1));
        root.reply(&transport, &mut read, Outgoing::new("Fixed.", 30), &mut rng)
            .await
            .expect("reply");
        root.note(
            &transport,
            &mut read,
            Outgoing::new("Rotated the certificate.", 31),
            &mut rng,
        )
        .await
        .expect("note");
        assert!(read.messages.iter().all(|m| m.content.is_ok()));
        assert!(read.notes.iter().all(|m| m.content.is_ok()));
        ticket
            .refresh(&transport, &alice, &directory_now(&transport).await)
            .await
            .expect("alice reads");
        assert!(ticket.messages.iter().all(|m| m.content.is_ok()));
        match &ticket.messages.last().expect("last").content {
            Ok(Content::Message(text)) => assert_eq!(text.text, "Fixed."),
            other => panic!("last: {other:?}"),
        }

        // Bob has wraps of the epochs before his removal only: no key of anything after.
        let session = root.account().session();
        for chain in [Chain::Conversation, Chain::Notes] {
            assert_eq!(
                wrapped_epochs(&transport, session, id, chain, &bob_key).await,
                BTreeSet::from([0]),
                "{chain:?}"
            );
            assert_eq!(
                wrapped_epochs(
                    &transport,
                    session,
                    id,
                    chain,
                    &root.account().public().key_id()
                )
                .await,
                BTreeSet::from([0, 1]),
                "{chain:?}"
            );
        }

        // The closed ticket was rotated too: the reporter's reply reopens it in the new epoch,
        // without Bob.
        let directory = directory_now(&transport).await;
        anonymous
            .reply(&transport, &directory, "It is back.", 40, &mut rng)
            .await
            .expect("reporter replies");
        assert!(!anonymous.is_closed());
        assert_eq!(anonymous.conversation().epoch(), Some(1));
        let anonymous_id = anonymous.link().ticket_id();
        assert_eq!(
            wrapped_epochs(
                &transport,
                session,
                anonymous_id,
                Chain::Conversation,
                &bob_key
            )
            .await,
            BTreeSet::from([0])
        );
        let seen = root
            .read_ticket(&transport, anonymous_id)
            .await
            .expect("root reads");
        assert!(seen.messages.iter().all(|m| m.content.is_ok()));
    });
}

async fn directory_now(transport: &NativeTransport) -> sealdesk_crypto::Directory {
    fetch_verified(transport, None).await.expect("directory")
}

#[test]
fn notes_status_assignment_and_inbox_filters() {
    let instance = Instance::start();
    runtime().block_on(async {
        let transport = NativeTransport::new(&instance.base);
        let directory = fetch_verified(&transport, None).await.expect("directory");
        let mut rng = system_rng();
        let mut root = first_admin(&transport).await;
        let alice = Account::register(&transport, "alice", "pw-a", CHEAP, &mut rng)
            .await
            .expect("register");
        let mut ticket = alice
            .create_ticket(&transport, &directory, opening("Mail"), 1, &mut rng)
            .await
            .expect("create");
        let id = ticket.ticket_id();

        let unanswered = root
            .inbox(&transport, Some(InboxFilter::Unanswered), 0)
            .await
            .expect("inbox");
        assert_eq!(unanswered.tickets.len(), 1);
        assert_eq!(unanswered.tickets[0].summary.ticket_id, id);

        let mut read = root.read_ticket(&transport, id).await.expect("read");
        assert!(read.notes.is_empty());
        root.note(
            &transport,
            &mut read,
            Outgoing::new("First note.", 2),
            &mut rng,
        )
        .await
        .expect("note");
        root.note(
            &transport,
            &mut read,
            Outgoing::new("Second note.", 3).with_author(Some("Root".into())),
            &mut rng,
        )
        .await
        .expect("note");
        assert_eq!(read.notes_state().last_seq(), 2);
        assert_eq!(read.notes_state().epoch(), Some(0));
        root.reply(&transport, &mut read, Outgoing::new("Answer.", 4), &mut rng)
            .await
            .expect("reply");
        assert!(
            root.inbox(&transport, Some(InboxFilter::Unanswered), 0)
                .await
                .expect("inbox")
                .tickets
                .is_empty()
        );

        // The account reads the conversation but not the notes.
        let notes = transport
            .send(
                Request::get(format!("/api/v1/tickets/{}/messages?chain=1", id.to_hex()))
                    .bearer(Some(alice.session())),
            )
            .await
            .expect("request");
        assert_eq!(notes.status, 404);
        ticket
            .refresh(&transport, &alice, &directory)
            .await
            .expect("refresh");
        assert_eq!(ticket.messages.len(), 2);

        // Close and reopen.
        root.send(&transport, &mut read, Content::close(5), &mut rng)
            .await
            .expect("close");
        assert!(read.is_closed());
        let closed = root
            .inbox(&transport, Some(InboxFilter::Closed), 0)
            .await
            .expect("inbox");
        assert_eq!(closed.tickets.len(), 1);
        assert!(closed.tickets[0].summary.closed);
        ticket
            .refresh(&transport, &alice, &directory)
            .await
            .expect("refresh");
        assert!(ticket.is_closed());
        root.send(&transport, &mut read, Content::reopen(6), &mut rng)
            .await
            .expect("reopen");
        assert!(!read.is_closed());
        assert_eq!(
            root.inbox(&transport, Some(InboxFilter::Open), 0)
                .await
                .expect("inbox")
                .tickets
                .len(),
            1
        );

        // Assignment to an administrator of the verified directory only.
        let root_key = root.account().public().key_id();
        root.assign(&transport, id, Some(&root_key))
            .await
            .expect("assign");
        let inbox = root.inbox(&transport, None, 0).await.expect("inbox");
        assert_eq!(inbox.tickets[0].summary.assigned_to, Some(root_key));
        let stranger = alice.public().key_id();
        assert_eq!(
            root.assign(&transport, id, Some(&stranger))
                .await
                .err()
                .map(|e| e.code),
            Some("admin.bad_assignee".into())
        );
        root.assign(&transport, id, None).await.expect("unassign");
        let inbox = root.inbox(&transport, None, 0).await.expect("inbox");
        assert_eq!(inbox.tickets[0].summary.assigned_to, None);

        // An account that is not an administrator is refused.
        let error = Admin::new(&transport, alice, None)
            .await
            .expect_err("not an administrator");
        assert_eq!(error.code, "admin.not_an_administrator");
    });
}

#[test]
fn the_first_administrator_redeems_the_genesis_invite_with_an_account() {
    let instance = FreshInstance::start();
    runtime().block_on(async {
        let transport = NativeTransport::new(&instance.base);
        let mut rng = system_rng();
        let account = Account::register(&transport, "founder", "pw-f", CHEAP, &mut rng)
            .await
            .expect("register");
        let key = account.public().key_id();
        let mut admin = Admin::redeem_genesis(&transport, account, &instance.invite)
            .await
            .expect("genesis");
        assert_eq!(admin.head().seq, 0);
        assert_eq!(admin.team().len(), 1);
        assert_eq!(admin.team()[0].identity.key_id(), key);
        assert_eq!(admin.team()[0].fingerprint, key.fingerprint());
        let inbox = admin.inbox(&transport, None, 0).await.expect("inbox");
        assert!(inbox.tickets.is_empty());

        // The invite was single-use, and only administrators are removed.
        let other = Account::register(&transport, "other", "pw-o", CHEAP, &mut rng)
            .await
            .expect("register");
        let other_key = other.public().key_id();
        let error = Admin::redeem_genesis(&transport, other, &instance.invite)
            .await
            .expect_err("used");
        assert!(
            error.code == "server.conflict" || error.code == "server.invalid_invite",
            "{}",
            error.code
        );
        assert_eq!(
            admin
                .remove(&transport, &other_key, &mut rng)
                .await
                .err()
                .map(|e| e.code),
            Some("admin.unknown_administrator".into())
        );
    });
}

/// An administrator endorses a further reporter key (a new device after email recovery,
/// PROTOCOL.md §8.2): the endorse message is on the conversation, the new key reads the
/// history through the wraps that came with it and writes as the reporter, and the reporter
/// and the administrators see "a new device was added".
#[test]
fn an_endorsed_reporter_key_reads_and_writes_and_everyone_sees_it() {
    let instance = Instance::start();
    runtime().block_on(async {
        let transport = NativeTransport::new(&instance.base);
        let directory = fetch_verified(&transport, None).await.expect("directory");
        let mut rng = system_rng();
        let mut root = first_admin(&transport).await;
        let mut ticket =
            ReporterTicket::create(&transport, &directory, opening("Lost phone"), 1, &mut rng)
                .await
                .expect("create");
        let id = ticket.link().ticket_id();
        let mut read = root.read_ticket(&transport, id).await.expect("read");
        root.reply(
            &transport,
            &mut read,
            Outgoing::new("Which one?", 2),
            &mut rng,
        )
        .await
        .expect("reply");

        let device = Identity::generate(&mut rng).1;
        let stored = root
            .endorse(&transport, &mut read, device.public(), &mut rng)
            .await
            .expect("endorse");
        assert_eq!(
            stored, 1,
            "the conversation's one epoch, wrapped for the new key"
        );
        assert_eq!(
            wrapped_epochs(
                &transport,
                root.account().session(),
                id,
                Chain::Conversation,
                &device.key_id()
            )
            .await,
            BTreeSet::from([0])
        );
        // The endorser's own view shows the endorse message, read.
        let endorse = read.messages.last().expect("the endorse message");
        assert_eq!(endorse.kind, Kind::Endorse);
        match &endorse.content {
            Ok(Content::Endorse(content)) => assert_eq!(&content.endorsed, device.public()),
            other => panic!("endorse: {other:?}"),
        }
        assert!(read.conversation().reporters().contains(device.public()));

        // The new device, with the ticket's bearer token, reads everything and writes.
        let fragment = ticket.link().path();
        let fragment = fragment.split_once('#').expect("fragment").1;
        // The secret, without the directory head a new link carries after it (§11).
        let secret = fragment.split('.').next().expect("secret");
        let bearer = TicketSecret::from_fragment(secret)
            .expect("secret")
            .access_token()
            .to_base64url();
        let members = Members::new(id, read.reporter().clone());
        let mut thread = Thread::new(members, Chain::Conversation);
        let mut shown = Vec::new();
        thread
            .refresh(&transport, &bearer, &device, &directory, &mut shown)
            .await
            .expect("the new device reads");
        assert_eq!(shown.len(), 3, "opening, reply, endorsement");
        assert!(shown.iter().all(|m| m.content.is_ok()), "{shown:?}");
        let participant = Participant {
            identity: &device,
            bearer: &bearer,
            directory: &directory,
        };
        thread
            .send(
                &transport,
                participant,
                &Outgoing::new("From my new phone.", 3).into_message(),
                &mut rng,
                &mut shown,
            )
            .await
            .expect("the new device writes");

        // The reporter's first device and the administrator see the endorsement and the
        // new device's message as the reporter's.
        ticket
            .refresh(&transport, &directory)
            .await
            .expect("refresh");
        let kinds: Vec<Kind> = ticket.messages.iter().map(|m| m.kind).collect();
        assert_eq!(kinds[kinds.len() - 2..], [Kind::Endorse, Kind::Message]);
        let last = ticket.messages.last().expect("last");
        assert!(!last.from_support);
        assert_eq!(last.sender, device.key_id());
        let endorse = &ticket.messages[ticket.messages.len() - 2];
        assert!(endorse.from_support);
        assert!(
            matches!(&endorse.content, Ok(Content::Endorse(c)) if &c.endorsed == device.public())
        );
        let view = sealdesk_client::wasm::views::message_view(endorse);
        assert_eq!(view.kind.as_str(), "endorse");
        let content = view.content.expect("content");
        assert_eq!(content.fingerprint, Some(device.key_id().fingerprint()));
        assert_eq!(
            content.endorser_fingerprint,
            Some(root.account().public().key_id().fingerprint())
        );

        let again = root.read_ticket(&transport, id).await.expect("re-read");
        let last = again.messages.last().expect("last");
        assert!(!last.from_support);
        assert!(again.conversation().reporters().contains(device.public()));
    });
    // The server's own re-verification takes the endorsed key from the stored chain state.
    instance.kill_and_check();
}

/// Waiting for the reporter and on hold (PROTOCOL.md §10.3): administrators set them with
/// signed messages, the server lists and filters them, the reporter writing returns the ticket
/// to open, and a reporter's own waiting message is refused and changes nothing.
#[test]
fn waiting_and_on_hold_statuses_and_their_inbox_filters() {
    let instance = Instance::start();
    runtime().block_on(async {
        let transport = NativeTransport::new(&instance.base);
        let directory = fetch_verified(&transport, None).await.expect("directory");
        let mut rng = system_rng();
        let mut root = first_admin(&transport).await;
        let alice = Account::register(&transport, "alice", "pw-a", CHEAP, &mut rng)
            .await
            .expect("register");
        let mut ticket = alice
            .create_ticket(&transport, &directory, opening("Printer"), 1, &mut rng)
            .await
            .expect("create");
        let id = ticket.ticket_id();
        let server_status = async || {
            let answer = transport
                .send(
                    Request::get(format!("/api/v1/tickets/{}", id.to_hex()))
                        .bearer(Some(alice.session())),
                )
                .await
                .expect("request");
            serde_json::from_slice::<serde_json::Value>(&answer.body).expect("json")["status"]
                .clone()
        };

        let mut read = root.read_ticket(&transport, id).await.expect("read");
        root.send(&transport, &mut read, Content::Waiting(change(2)), &mut rng)
            .await
            .expect("waiting");
        assert_eq!(read.status(), ConversationStatus::Waiting);
        assert_eq!(server_status().await, "waiting");
        assert_eq!(
            listed(&mut root, &transport, InboxFilter::Waiting).await,
            [(id, ConversationStatus::Waiting)]
        );
        assert!(
            listed(&mut root, &transport, InboxFilter::Open)
                .await
                .is_empty()
        );
        assert!(
            listed(&mut root, &transport, InboxFilter::Unanswered)
                .await
                .is_empty()
        );

        // The reporter cannot set a status of the team's: refused, nothing stored.
        ticket
            .refresh(&transport, &alice, &directory)
            .await
            .expect("refresh");
        assert_eq!(ticket.status(), ConversationStatus::Waiting);
        let refused = ticket
            .send(
                &transport,
                &alice,
                &directory,
                Content::OnHold(change(3)),
                &mut rng,
            )
            .await
            .expect_err("a reporter's on hold");
        assert_eq!(
            refused.code, "server.transcript.not_a_member",
            "{refused:?}"
        );
        assert_eq!(server_status().await, "waiting");

        // The reporter writing returns it to open: no status message of its own.
        let before = read.messages.len();
        ticket
            .reply(&transport, &alice, &directory, "Here it is.", 4, &mut rng)
            .await
            .expect("reply");
        assert_eq!(ticket.status(), ConversationStatus::Open);
        assert_eq!(server_status().await, "open");
        root.refresh(&transport, &mut read).await.expect("refresh");
        assert_eq!(read.messages.len(), before + 1);
        assert_eq!(read.status(), ConversationStatus::Open);
        assert_eq!(
            listed(&mut root, &transport, InboxFilter::Unanswered).await,
            [(id, ConversationStatus::Open)]
        );

        root.send(&transport, &mut read, Content::OnHold(change(5)), &mut rng)
            .await
            .expect("on hold");
        assert_eq!(server_status().await, "on_hold");
        assert_eq!(
            listed(&mut root, &transport, InboxFilter::OnHold).await,
            [(id, ConversationStatus::OnHold)]
        );
        assert!(
            listed(&mut root, &transport, InboxFilter::Waiting)
                .await
                .is_empty()
        );
        ticket
            .refresh(&transport, &alice, &directory)
            .await
            .expect("refresh");
        assert_eq!(ticket.status(), ConversationStatus::OnHold);
        root.send(&transport, &mut read, Content::reopen(6), &mut rng)
            .await
            .expect("reopen");
        assert_eq!(
            listed(&mut root, &transport, InboxFilter::Open).await,
            [(id, ConversationStatus::Open)]
        );
    });
}

/// The inbox under `filter`: each ticket's id and listed status.
async fn listed(
    root: &mut Admin,
    transport: &NativeTransport,
    filter: InboxFilter,
) -> Vec<(sealdesk_crypto::TicketId, ConversationStatus)> {
    root.inbox(transport, Some(filter), 0)
        .await
        .expect("inbox")
        .tickets
        .iter()
        .map(|t| (t.summary.ticket_id, t.summary.status))
        .collect()
}

fn change(sent_at: u64) -> StatusChange {
    StatusChange {
        sent_at,
        author: None,
    }
}
