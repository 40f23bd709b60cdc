//! A misbehaving or compromised server, against the real binary and the native client: its
//! stored data altered on disk (the database opened with `sled` while the server is stopped,
//! then the server restarted on it), its administrator directory forged, forked or rolled
//! back (in the database, or in its answers), and a transcript rolled back or forked between
//! two visits. Each attack is expected to be detected with its specific client error code.

// Test and tool code: a failed expectation stops the run, so it may unwrap, expect and
// panic (the workspace denies these in library code: Cargo.toml, clippy.toml).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::time::{Duration, Instant};

use base64ct::{Base64UrlUnpadded, Encoding};
use sealdesk_client::account::Account;
use sealdesk_client::admin::{Admin, AdminTicket, InboxFilter};
use sealdesk_client::content::{Content, Outgoing, Text};
use sealdesk_client::directory::fetch_verified;
use sealdesk_client::reporter::{Opening, ReporterTicket, TicketLink};
use sealdesk_client::transport::{Body, Method, NativeTransport, Request, Response, Transport};
use sealdesk_client::{ClientError, Result};
use sealdesk_crypto::{
    Chain, ChainState, CryptoRng, Directory, DirectoryEntry, DirectoryHead, EndorseContent,
    Identity, KeyId, Kind, Message, Placement, TicketId, TicketKey, TicketSecret, WrappedKey,
    system_rng,
};
use sealdesk_system_tests::{
    CHEAP, Persistent, ServerOptions, add_administrator, b64, epoch_key, first_admin, runtime,
    wrapped_epochs,
};
use serde_json::Value;

fn opening() -> Opening {
    Opening {
        subject: "Printer on fire".into(),
        text: "It smells of toner.".into(),
        category: Some("Hardware".into()),
        debug: Some(BTreeMap::from([(
            "user_agent".to_owned(),
            "Test/1.0".to_owned(),
        )])),
        ..Opening::default()
    }
}

/// Starts a server whose per-address allowance of anonymous tickets fits these tests.
fn start() -> Persistent {
    Persistent::start(ServerOptions {
        env: vec![("SEALDESK_ANONYMOUS_TICKETS_PER_HOUR".into(), "1000".into())],
        ..ServerOptions::default()
    })
}

// ---- the database ----

/// Opens the stopped server's database (without sled's background flusher, so that the
/// file lock goes with the handle).
fn open_database(dir: &Path) -> sled::Db {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        match sled::Config::new().path(dir).flush_every_ms(None).open() {
            Ok(db) => return db,
            Err(_) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(50)),
            Err(error) => panic!("open the database: {error}"),
        }
    }
}

/// Stops the server (if it runs), edits its database and flushes it; the caller restarts.
fn edit_database(server: &mut Persistent, edit: impl FnOnce(&sled::Db)) {
    if server.is_running() {
        server.stop();
    }
    let db = open_database(server.data_dir());
    edit(&db);
    db.flush().expect("flush the edits");
}

/// Key of a conversation message in the `messages` tree: id (16) ‖ chain (1) ‖ seq (u64 BE).
fn message_key(id: TicketId, seq: u64) -> Vec<u8> {
    let mut key = id.0.to_vec();
    key.push(Chain::Conversation.to_u8());
    key.extend_from_slice(&seq.to_be_bytes());
    key
}

/// A stored message's value: received_at (u64 BE) ‖ the encoded message.
fn message_value(message: &Message) -> Vec<u8> {
    let mut value = 1_700_000_000u64.to_be_bytes().to_vec();
    value.extend_from_slice(&message.to_bytes());
    value
}

fn get(tree: &sled::Tree, key: &[u8]) -> Vec<u8> {
    tree.get(key).expect("read").expect("stored").to_vec()
}

// ---- tickets ----

/// An anonymous ticket with four conversation messages: the first message and the debug
/// data (seq 1 and 2, the reporter's), the reporter's reply (3) and the administrator's (4).
struct Case {
    link: String,
    id: TicketId,
    /// The conversation after message 4.
    state: ChainState,
}

async fn four_messages(
    transport: &NativeTransport,
    directory: &Directory,
    root: &mut Admin,
    rng: &mut impl CryptoRng,
) -> Case {
    let mut ticket = ReporterTicket::create(transport, directory, opening(), 1, rng)
        .await
        .expect("create");
    ticket
        .reply(transport, directory, "third", 2, rng)
        .await
        .expect("reply");
    let id = ticket.link().ticket_id();
    let mut read = root.read_ticket(transport, id).await.expect("read");
    root.reply(transport, &mut read, Outgoing::new("fourth", 3), rng)
        .await
        .expect("answer");
    assert_eq!(read.conversation().last_seq(), 4);
    Case {
        link: ticket.link().path(),
        id,
        state: read.conversation().clone(),
    }
}

/// Why the reporter's browser refuses to show the ticket behind `link`.
async fn reporter_refusal<T: Transport>(
    transport: &T,
    directory: &Directory,
    link: &str,
) -> String {
    let link = TicketLink::parse(link).expect("link");
    match ReporterTicket::open(transport, directory, link).await {
        Ok(ticket) => panic!("accepted {} messages", ticket.messages.len()),
        Err(error) => error.code,
    }
}

/// Why the administrator's client refuses to show ticket `id`.
async fn admin_refusal<T: Transport>(transport: &T, root: &mut Admin, id: TicketId) -> String {
    match root.read_ticket(transport, id).await {
        Ok(ticket) => panic!("accepted {} messages", ticket.messages.len()),
        Err(error) => error.code,
    }
}

#[test]
fn altered_stored_messages_are_detected() {
    let mut server = start();
    let rt = runtime();
    let (directory, mut root, cases, control) = rt.block_on(async {
        let transport = NativeTransport::new(server.base());
        let directory = fetch_verified(&transport, None).await.expect("directory");
        let mut rng = system_rng();
        let mut root = first_admin(&transport).await;
        let mut cases = Vec::new();
        for _ in 0..6 {
            cases.push(four_messages(&transport, &directory, &mut root, &mut rng).await);
        }
        let control = four_messages(&transport, &directory, &mut root, &mut rng).await;
        (directory, root, cases, control)
    });
    let [flipped, deleted, swapped, replayed, injected, foreign] = &cases[..] else {
        unreachable!()
    };

    // A message signed by a key that is not a member, at the next position: the API would
    // refuse it, so it goes straight into the database.
    let mut rng = system_rng();
    let outsider = Identity::generate(&mut rng).1;
    let forged = Message::seal(
        &outsider,
        Placement {
            ticket_id: injected.id,
            chain: Chain::Conversation,
            seq: 5,
            prev_hash: injected.state.last_hash(),
            epoch: injected.state.epoch().expect("an epoch"),
            dir_seq: injected.state.last_dir_seq(),
            kind: Kind::Message,
        },
        &TicketKey::generate(&mut rng),
        br#"{"text":"pay here","sent_at":4}"#,
        &mut rng,
    )
    .expect("seal");

    edit_database(&mut server, |db| {
        let messages = db.open_tree("messages").expect("messages");
        // One byte of message 2's ciphertext (after received_at and the 135-byte header).
        let key = message_key(flipped.id, 2);
        let mut value = get(&messages, &key);
        value[8 + 200] ^= 1;
        messages.insert(key, value).expect("write");
        // Message 2 of 4 deleted.
        messages
            .remove(message_key(deleted.id, 2))
            .expect("delete")
            .expect("was stored");
        // Messages 2 and 3 swapped.
        let (two, three) = (message_key(swapped.id, 2), message_key(swapped.id, 3));
        let (second, third) = (get(&messages, &two), get(&messages, &three));
        messages.insert(two, third).expect("write");
        messages.insert(three, second).expect("write");
        // Message 1 replayed at position 3.
        let first = get(&messages, &message_key(replayed.id, 1));
        messages
            .insert(message_key(replayed.id, 3), first)
            .expect("write");
        // The outsider's message at position 5.
        messages
            .insert(message_key(injected.id, 5), message_value(&forged))
            .expect("write");
        // The control ticket's message 2 (valid, but another ticket's) at position 2.
        let elsewhere = get(&messages, &message_key(control.id, 2));
        messages
            .insert(message_key(foreign.id, 2), elsewhere)
            .expect("write");
    });
    server.restart();

    rt.block_on(async {
        let transport = NativeTransport::new(server.base());
        let expected = [
            (flipped, "a flipped byte", "transcript.bad_signature"),
            (deleted, "a deleted message", "transcript.unexpected_seq"),
            (swapped, "two swapped messages", "transcript.unexpected_seq"),
            (
                replayed,
                "message 1 replayed as 3",
                "transcript.unexpected_seq",
            ),
            (
                injected,
                "a non-member's message",
                "transcript.not_a_member",
            ),
            (
                foreign,
                "another ticket's message",
                "transcript.wrong_ticket",
            ),
        ];
        for (case, name, code) in expected {
            assert_eq!(
                reporter_refusal(&transport, &directory, &case.link).await,
                code,
                "the reporter: {name}"
            );
            assert_eq!(
                admin_refusal(&transport, &mut root, case.id).await,
                code,
                "the administrator: {name}"
            );
        }

        // The untouched ticket still reads after the restart: the refusals come from the
        // edits, not from the restart.
        let link = TicketLink::parse(&control.link).expect("link");
        let reopened = ReporterTicket::open(&transport, &directory, link)
            .await
            .expect("the untouched ticket");
        assert_eq!(reopened.messages.len(), 4);
        assert!(reopened.messages.iter().all(|m| m.content.is_ok()));
        assert_eq!(reopened.conversation(), &control.state);
    });
}

// ---- the transcript between visits ----

/// A ticket whose conversation grew to four messages, then the server's data was restored
/// from a backup taken at two. Returns the kept (persisted) states of the reporter and of
/// the administrator, at four, and the objects that hold them.
struct RolledBack {
    transport: NativeTransport,
    directory: Directory,
    root: Admin,
    ticket: ReporterTicket,
    read: AdminTicket,
    reporter_kept: ChainState,
    admin_kept: ChainState,
}

async fn rolled_back(server: &mut Persistent) -> RolledBack {
    let transport = NativeTransport::new(server.base());
    let directory = fetch_verified(&transport, None).await.expect("directory");
    let mut rng = system_rng();
    let mut root = first_admin(&transport).await;
    let mut ticket = ReporterTicket::create(&transport, &directory, opening(), 1, &mut rng)
        .await
        .expect("create");
    assert_eq!(ticket.conversation().last_seq(), 2);

    // The operator takes a backup.
    server.stop();
    let backup = server.snapshot();
    server.restart();

    let transport = NativeTransport::new(server.base());
    ticket
        .reply(&transport, &directory, "third", 2, &mut rng)
        .await
        .expect("reply");
    let id = ticket.link().ticket_id();
    let mut read = root.read_ticket(&transport, id).await.expect("read");
    root.reply(&transport, &mut read, Outgoing::new("fourth", 3), &mut rng)
        .await
        .expect("answer");
    assert_eq!(
        ticket
            .refresh(&transport, &directory)
            .await
            .expect("refresh"),
        1
    );
    // What a browser persists between visits (PROTOCOL.md §10.4).
    let reporter_kept =
        ChainState::from_bytes(&ticket.conversation().to_bytes()).expect("persisted state");
    assert_eq!(reporter_kept.last_seq(), 4);
    let admin_kept = read.conversation().clone();
    assert_eq!(admin_kept, reporter_kept);

    // ... and restores it: messages 3 and 4 are gone.
    server.stop();
    server.restore(&backup);
    server.restart();
    RolledBack {
        transport: NativeTransport::new(server.base()),
        directory,
        root,
        ticket,
        read,
        reporter_kept,
        admin_kept,
    }
}

#[test]
fn a_transcript_rolled_back_between_visits_is_detected_against_the_kept_state() {
    let mut server = start();
    runtime().block_on(async {
        let RolledBack {
            transport,
            directory,
            mut root,
            mut ticket,
            reporter_kept,
            admin_kept,
            ..
        } = rolled_back(&mut server).await;
        let id = ticket.link().ticket_id();

        // The next visit reads a shorter conversation that verifies on its own; compared with
        // the kept state it is a rollback.
        let link = TicketLink::parse(&ticket.link().path()).expect("link");
        let reopened = ReporterTicket::open(&transport, &directory, link)
            .await
            .expect("the shorter conversation verifies");
        assert_eq!(reopened.messages.len(), 2);
        let error = reopened
            .conversation()
            .check_extends(&reporter_kept)
            .expect_err("a rollback");
        assert_eq!(ClientError::from(error).code, "transcript.unexpected_seq");

        let read = root.read_ticket(&transport, id).await.expect("read");
        assert_eq!(read.messages.len(), 2);
        let error = read
            .conversation()
            .check_extends(&admin_kept)
            .expect_err("a rollback");
        assert_eq!(ClientError::from(error).code, "transcript.unexpected_seq");

        // Writing from the kept state: the server, now behind, refuses the next message.
        let mut rng = system_rng();
        let error = ticket
            .reply(&transport, &directory, "hello?", 5, &mut rng)
            .await
            .expect_err("refused");
        assert_eq!(error.code, "server.transcript.unexpected_seq");
        assert_eq!(ticket.conversation(), &reporter_kept);
    });
}

/// The refresh of a kept ticket (`ReporterTicket::refresh`, `Admin::refresh`) re-reads its
/// last kept message, so a server restored from an older backup, which no longer has it, is
/// caught as a rollback (PROTOCOL.md §10.4) instead of answering "nothing new".
#[test]
fn refreshing_a_kept_ticket_notices_a_rolled_back_transcript() {
    let mut server = start();
    runtime().block_on(async {
        let RolledBack {
            transport,
            directory,
            mut root,
            mut ticket,
            mut read,
            ..
        } = rolled_back(&mut server).await;
        let reporter = ticket
            .refresh(&transport, &directory)
            .await
            .map_err(|e| e.code);
        let admin = root
            .refresh(&transport, &mut read)
            .await
            .map_err(|e| e.code);
        let rollback = Err("transcript.unexpected_seq".to_owned());
        assert_eq!(
            (reporter, admin),
            (rollback.clone(), rollback),
            "(reporter, administrator)"
        );
    });
}

#[test]
fn a_transcript_forked_between_visits_is_detected_against_the_kept_state() {
    let mut server = start();
    runtime().block_on(async {
        let transport = NativeTransport::new(server.base());
        let directory = fetch_verified(&transport, None).await.expect("directory");
        let mut rng = system_rng();
        let root = first_admin(&transport).await;
        let mut ticket = ReporterTicket::create(&transport, &directory, opening(), 1, &mut rng)
            .await
            .expect("create");
        let before = ticket.conversation().clone();
        ticket
            .reply(
                &transport,
                &directory,
                "third, by the reporter",
                2,
                &mut rng,
            )
            .await
            .expect("reply");
        let kept = ticket.conversation().clone();
        let id = ticket.link().ticket_id();

        // The server hid the reporter's message 3 from the administrator, who wrote another
        // message 3: a valid message, so each side sees a consistent conversation.
        let key = epoch_key(&transport, root.account().session(), id, &server.admin).await;
        let content = Content::Message(Text {
            text: "third, by the administrator".into(),
            sent_at: 2,
            ..Text::default()
        });
        let other = Message::seal(
            &server.admin,
            Placement {
                ticket_id: id,
                chain: Chain::Conversation,
                seq: 3,
                prev_hash: before.last_hash(),
                epoch: 0,
                dir_seq: directory.head_seq(),
                kind: Kind::Message,
            },
            &key,
            &content.to_bytes().expect("content"),
            &mut rng,
        )
        .expect("seal");
        edit_database(&mut server, |db| {
            let messages = db.open_tree("messages").expect("messages");
            messages
                .insert(message_key(id, 3), message_value(&other))
                .expect("write");
        });
        server.restart();

        let transport = NativeTransport::new(server.base());
        let link = TicketLink::parse(&ticket.link().path()).expect("link");
        let reopened = ReporterTicket::open(&transport, &directory, link)
            .await
            .expect("the other branch verifies on its own");
        assert_eq!(reopened.messages.len(), 3);
        assert_eq!(reopened.messages[2].content, Ok(content));
        assert!(reopened.messages[2].from_support);
        let error = reopened
            .conversation()
            .check_extends(&kept)
            .expect_err("a fork");
        assert_eq!(ClientError::from(error).code, "transcript.broken_link");
    });
}

// ---- the administrator directory ----

fn encode_entry(entry: &DirectoryEntry) -> String {
    b64(&entry.to_bytes())
}

/// An edit of the directory's encoded entries in a server's answer.
type Edit = Box<dyn Fn(&mut Vec<String>)>;

/// A transport that rewrites the server's directory answers and records what the client
/// sends.
struct Tampering<'a> {
    inner: &'a NativeTransport,
    edit: RefCell<Option<Edit>>,
    /// `METHOD path` of every request that is not a read.
    writes: RefCell<Vec<String>>,
    /// Bodies of `POST /api/v1/tickets`.
    created: RefCell<Vec<Value>>,
}

impl<'a> Tampering<'a> {
    fn new(inner: &'a NativeTransport) -> Self {
        Tampering {
            inner,
            edit: RefCell::new(None),
            writes: RefCell::new(Vec::new()),
            created: RefCell::new(Vec::new()),
        }
    }

    fn set(&self, edit: impl Fn(&mut Vec<String>) + 'static) {
        *self.edit.borrow_mut() = Some(Box::new(edit));
    }

    fn honest(&self) {
        *self.edit.borrow_mut() = None;
    }
}

impl Transport for Tampering<'_> {
    async fn send(&self, request: Request) -> Result<Response> {
        let is_directory = request.method == Method::Get
            && (request.path == "/api/v1/directory"
                || request.path.starts_with("/api/v1/directory?"));
        if request.method != Method::Get {
            self.writes
                .borrow_mut()
                .push(format!("{:?} {}", request.method, request.path));
        }
        if request.method == Method::Post
            && request.path == "/api/v1/tickets"
            && let Some(Body::Json(body)) = &request.body
        {
            self.created.borrow_mut().push(body.clone());
        }
        let mut response = self.inner.send(request).await?;
        if is_directory
            && response.status == 200
            && let Some(edit) = self.edit.borrow().as_ref()
        {
            let mut body: Value = serde_json::from_slice(&response.body).expect("json");
            let mut entries: Vec<String> = body["entries"]
                .as_array()
                .expect("entries")
                .iter()
                .map(|e| e.as_str().expect("string").to_owned())
                .collect();
            edit(&mut entries);
            body["entries"] = Value::from(entries);
            response.body = serde_json::to_vec(&body).expect("json");
        }
        Ok(response)
    }
}

/// The directory code of `fetch_verified` through `transport`, pinned to `pinned`.
async fn directory_refusal<T: Transport>(transport: &T, pinned: Option<&DirectoryHead>) -> String {
    match fetch_verified(transport, pinned).await {
        Ok(directory) => panic!("accepted a log with head {}", directory.head_seq()),
        Err(error) => error.code,
    }
}

/// A reporter's browser opening a ticket (§15): verify the directory, then seal for its
/// administrators and post.
async fn open_a_ticket<T: Transport>(
    transport: &T,
    pinned: Option<&DirectoryHead>,
) -> Result<ReporterTicket> {
    let directory = fetch_verified(transport, pinned).await?;
    ReporterTicket::create(transport, &directory, opening(), 7, &mut system_rng()).await
}

/// The recipients of the wraps in a ticket-creation body.
fn recipients(body: &Value) -> BTreeSet<KeyId> {
    body["wraps"]
        .as_array()
        .expect("wraps")
        .iter()
        .map(|w| {
            let bytes = Base64UrlUnpadded::decode_vec(w.as_str().expect("string")).expect("b64");
            WrappedKey::from_bytes(&bytes)
                .expect("wrap")
                .context
                .recipient
        })
        .collect()
}

#[test]
fn a_forged_forked_or_rolled_back_directory_answer_is_detected() {
    let server = start();
    runtime().block_on(async {
        let transport = NativeTransport::new(server.base());
        let mut rng = system_rng();
        let mut root = first_admin(&transport).await;
        let bob = add_administrator(&transport, &mut root, "bob", &mut rng).await;
        let pinned = root.head();
        assert_eq!(pinned.seq, 1);
        let real = fetch_verified(&transport, Some(&pinned))
            .await
            .expect("the real log");
        let genesis = real.entries()[0].clone();
        let added = real.entries()[1].clone();
        let only_genesis = Directory::verify(std::slice::from_ref(&genesis)).expect("genesis");
        let attacker = Identity::generate(&mut rng).1;
        let tampering = Tampering::new(&transport);

        // Entry 1's subject (Bob) replaced by the attacker's key, Root's signature kept.
        let mut substituted = added.clone();
        substituted.subject = attacker.public().clone();
        let forged = encode_entry(&substituted);
        tampering.set(move |entries| entries[1] = forged.clone());
        for pin in [None, Some(&pinned)] {
            assert_eq!(
                directory_refusal(&tampering, pin).await,
                "directory.bad_signature"
            );
        }

        // The same, claiming the attacker as its signer: not an administrator at entry 0.
        let mut self_signed = substituted.clone();
        self_signed.signer = attacker.key_id();
        let forged = encode_entry(&self_signed);
        tampering.set(move |entries| entries[1] = forged.clone());
        assert_eq!(
            directory_refusal(&tampering, None).await,
            "directory.not_a_member"
        );

        // An entry adding the attacker, appended unsigned.
        let mut unsigned =
            DirectoryEntry::add(&real, &root_identity(), attacker.public()).expect("an add entry");
        unsigned.signature = [0; 64];
        let forged = encode_entry(&unsigned);
        tampering.set(move |entries| entries.push(forged.clone()));
        assert_eq!(
            directory_refusal(&tampering, Some(&pinned)).await,
            "directory.bad_signature"
        );

        // A whole log of the attacker's own: valid, but not the one pinned.
        let attacker_genesis = DirectoryEntry::genesis(&attacker);
        let attacker_log =
            Directory::verify(std::slice::from_ref(&attacker_genesis)).expect("a log");
        let attacker_add =
            DirectoryEntry::add(&attacker_log, &attacker, bob.public()).expect("an add entry");
        let log = [encode_entry(&attacker_genesis), encode_entry(&attacker_add)];
        tampering.set(move |entries| *entries = log.to_vec());
        assert_eq!(
            directory_refusal(&tampering, Some(&pinned)).await,
            "directory.fork"
        );

        // A fork signed by the real administrator: another add at the pinned position, with
        // or without more entries after it.
        let other = Identity::generate(&mut rng).1;
        let fork_add = DirectoryEntry::add(&only_genesis, &root_identity(), other.public())
            .expect("an add entry");
        let forked = Directory::verify(&[genesis.clone(), fork_add.clone()]).expect("valid");
        let fork_more = DirectoryEntry::add(&forked, &root_identity(), attacker.public())
            .expect("an add entry");
        Directory::verify(&[genesis.clone(), fork_add.clone(), fork_more.clone()])
            .expect("a valid log");
        for log in [
            vec![encode_entry(&genesis), encode_entry(&fork_add)],
            vec![
                encode_entry(&genesis),
                encode_entry(&fork_add),
                encode_entry(&fork_more),
            ],
        ] {
            tampering.set(move |entries| *entries = log.clone());
            assert_eq!(
                directory_refusal(&tampering, Some(&pinned)).await,
                "directory.fork"
            );
        }
        // The administrator's client pins by itself.
        let fork = vec![encode_entry(&genesis), encode_entry(&fork_add)];
        tampering.set(move |entries| *entries = fork.clone());
        let error = root
            .refresh_directory(&tampering)
            .await
            .expect_err("a fork");
        assert_eq!(error.code, "directory.fork");

        // Rolled back: the last entry dropped, or everything.
        tampering.set(|entries| {
            entries.pop();
        });
        assert_eq!(
            directory_refusal(&tampering, Some(&pinned)).await,
            "directory.rollback"
        );
        let error = root
            .refresh_directory(&tampering)
            .await
            .expect_err("a rollback");
        assert_eq!(error.code, "directory.rollback");
        let error = Admin::new(&tampering, bob, Some(&pinned))
            .await
            .expect_err("a rollback");
        assert_eq!(error.code, "directory.rollback");
        tampering.set(Vec::clear);
        assert_eq!(
            directory_refusal(&tampering, Some(&pinned)).await,
            "directory.rollback"
        );

        // After all that, the honest answer is still accepted and the pin unchanged.
        tampering.honest();
        root.refresh_directory(&tampering)
            .await
            .expect("the real log");
        assert_eq!(root.head(), pinned);
        assert!(tampering.writes.borrow().is_empty(), "nothing was written");
    });
}

#[test]
fn the_reporter_encrypts_only_to_the_administrators_of_the_verified_log() {
    let server = start();
    runtime().block_on(async {
        let transport = NativeTransport::new(server.base());
        let mut rng = system_rng();
        let mut root = first_admin(&transport).await;
        let bob = add_administrator(&transport, &mut root, "bob", &mut rng).await;
        let real = fetch_verified(&transport, None).await.expect("directory");
        let attacker = Identity::generate(&mut rng).1;
        let tampering = Tampering::new(&transport);

        // The server slips the attacker's key into the directory, unsigned (or signed by
        // the attacker): the browser refuses before sealing anything.
        let mut unsigned =
            DirectoryEntry::add(&real, &root_identity(), attacker.public()).expect("an add entry");
        unsigned.signature = [0; 64];
        let mut self_signed = unsigned.clone();
        self_signed.signer = attacker.key_id();
        let mut substituted = real.entries()[1].clone();
        substituted.subject = attacker.public().clone();
        let edits: Vec<(Edit, &str)> = vec![
            (
                Box::new(move |e: &mut Vec<String>| e.push(encode_entry(&unsigned))),
                "directory.bad_signature",
            ),
            (
                Box::new(move |e: &mut Vec<String>| e.push(encode_entry(&self_signed))),
                "directory.not_a_member",
            ),
            (
                Box::new(move |e: &mut Vec<String>| e[1] = encode_entry(&substituted)),
                "directory.bad_signature",
            ),
        ];
        for (edit, code) in edits {
            *tampering.edit.borrow_mut() = Some(edit);
            for pinned in [None, Some(real.head())] {
                let error = match open_a_ticket(&tampering, pinned.as_ref()).await {
                    Ok(_) => panic!("a ticket was opened"),
                    Err(error) => error,
                };
                assert_eq!(error.code, code);
            }
        }
        assert!(tampering.writes.borrow().is_empty(), "nothing was posted");
        assert!(tampering.created.borrow().is_empty());
        let inbox = root.inbox(&transport, None, 0).await.expect("inbox");
        assert!(inbox.tickets.is_empty(), "the server received no ticket");
        assert!(
            root.inbox(&transport, Some(InboxFilter::Closed), 0)
                .await
                .expect("inbox")
                .tickets
                .is_empty()
        );

        // With the honest answer the first message's key goes to exactly the reporter and
        // the two administrators of the verified head.
        tampering.honest();
        let ticket = open_a_ticket(&tampering, Some(&real.head()))
            .await
            .expect("a ticket");
        let created = tampering.created.borrow().clone();
        assert_eq!(created.len(), 1);
        let reporter = TicketSecret::from_fragment(
            &ticket.link().path().split_once('#').expect("fragment").1[..43],
        )
        .expect("secret")
        .identity()
        .key_id();
        assert_eq!(
            recipients(&created[0]),
            BTreeSet::from([reporter, root_identity().key_id(), bob.public().key_id()])
        );
        assert!(!recipients(&created[0]).contains(&attacker.key_id()));
        assert_eq!(
            root.inbox(&transport, None, 0)
                .await
                .expect("inbox")
                .tickets
                .len(),
            1
        );
    });
}

/// The first administrator's identity (the harness's fixed seed).
fn root_identity() -> Identity {
    Identity::from_seed(&sealdesk_crypto::IdentitySeed::from_bytes(
        sealdesk_system_tests::FIRST_ADMIN_SEED,
    ))
}

#[test]
fn a_forged_forked_or_rolled_back_directory_in_the_database_is_detected() {
    let mut server = start();
    let rt = runtime();
    let (mut root, bob, pinned, genesis) = rt.block_on(async {
        let transport = NativeTransport::new(server.base());
        let mut rng = system_rng();
        let mut root = first_admin(&transport).await;
        let bob = add_administrator(&transport, &mut root, "bob", &mut rng).await;
        let genesis = root.directory().entries()[0].clone();
        let pinned = root.head();
        (root, bob, pinned, genesis)
    });
    let bob_key = bob.public().key_id();
    let mut rng = system_rng();
    let attacker = Identity::generate(&mut rng).1;
    let key = 1u64.to_be_bytes();

    // Entry 1's subject replaced in the database: the server's own check refuses to start.
    server.kill();
    edit_database(&mut server, |db| {
        let directory = db.open_tree("directory").expect("directory");
        let mut entry = DirectoryEntry::from_bytes(&get(&directory, &key)).expect("entry");
        entry.subject = attacker.public().clone();
        directory.insert(key, entry.to_bytes()).expect("write");
    });
    let problem = server.try_start().expect_err("refuses a forged directory");
    assert!(problem.contains("does not verify"), "{problem}");

    // A valid fork: Root's signature on another add at position 1.
    let only_genesis = Directory::verify(std::slice::from_ref(&genesis)).expect("genesis");
    let other = Identity::generate(&mut rng).1;
    let fork_add =
        DirectoryEntry::add(&only_genesis, &root_identity(), other.public()).expect("an add entry");
    edit_database(&mut server, |db| {
        let directory = db.open_tree("directory").expect("directory");
        directory.insert(key, fork_add.to_bytes()).expect("write");
    });
    server.restart();
    rt.block_on(async {
        let transport = NativeTransport::new(server.base());
        let error = root
            .refresh_directory(&transport)
            .await
            .expect_err("a fork");
        assert_eq!(error.code, "directory.fork");
        assert_eq!(
            directory_refusal(&transport, Some(&pinned)).await,
            "directory.fork"
        );
        let forked = fetch_verified(&transport, None)
            .await
            .expect("valid without a pin");
        assert!(forked.admin_at(1, &bob_key).is_none());
    });

    // Rolled back to before Bob's entry.
    edit_database(&mut server, |db| {
        let directory = db.open_tree("directory").expect("directory");
        directory.remove(key).expect("delete").expect("was stored");
    });
    server.restart();
    rt.block_on(async {
        let transport = NativeTransport::new(server.base());
        let error = root
            .refresh_directory(&transport)
            .await
            .expect_err("a rollback");
        assert_eq!(error.code, "directory.rollback");
        assert_eq!(
            directory_refusal(&transport, Some(&pinned)).await,
            "directory.rollback"
        );
    });
    assert_eq!(root.head(), pinned, "the kept head did not move");
}

// ---- endorsements (PROTOCOL.md §8.2) ----

/// The removed-administrator endorsement attack, as a hostile server stages it: Mallory was an
/// administrator until Root removed her (directory position 2) and kept her key. After the
/// removal and a later reply, the server writes into the stored conversation an endorse
/// message signed by Mallory, dated `dir_seq` 1 (when she was still an administrator),
/// endorsing a key she holds. Were it accepted, every client would count that key as the
/// reporter's and wrap each later epoch for it. It is refused as a backdated message
/// (§10.2: `dir_seq` only moves forward), and no wrap ever goes to either of her keys.
/// (Before endorse messages, the same endorsement stored beside the transcript in the
/// ticket's record was accepted by every client.)
#[test]
fn a_removed_administrators_backdated_endorsement_is_refused() {
    let mut server = start();
    let rt = runtime();
    let mut rng = system_rng();
    let (directory, mut root, ticket, mallory, endorsed) = rt.block_on(async {
        let transport = NativeTransport::new(server.base());
        let mut root = first_admin(&transport).await;
        let mallory = Account::register(&transport, "mallory", "pw-m", CHEAP, &mut rng)
            .await
            .expect("register");
        let invite = root.create_invite(&transport).await.expect("invite");
        Admin::redeem_invite(&transport, &mallory, &invite.path())
            .await
            .expect("redeem");
        let pending = root.pending(&transport).await.expect("pending");
        root.approve(&transport, &pending[0], &mut rng)
            .await
            .expect("approve");
        let directory = fetch_verified(&transport, None).await.expect("directory");
        assert_eq!(directory.head_seq(), 1);
        let mut ticket = ReporterTicket::create(&transport, &directory, opening(), 1, &mut rng)
            .await
            .expect("create");
        let removal = root
            .remove(&transport, &mallory.public().key_id(), &mut rng)
            .await
            .expect("remove");
        assert_eq!(removal.head.seq, 2);
        let directory = fetch_verified(&transport, None).await.expect("directory");
        ticket
            .reply(&transport, &directory, "after the removal", 2, &mut rng)
            .await
            .expect("reply");
        let endorsed = Identity::generate(&mut rng).1;
        (directory, root, ticket, mallory, endorsed)
    });

    // Mallory seals the endorse message right after the reporter's reply, backdated to
    // dir_seq 1, in the current epoch (whose key she lacks: any key will do, the content is
    // never reached).
    let id = ticket.link().ticket_id();
    let after = ticket.conversation().clone();
    let endorse = Message::seal(
        mallory.identity(),
        Placement {
            ticket_id: id,
            chain: Chain::Conversation,
            seq: after.last_seq() + 1,
            prev_hash: after.last_hash(),
            epoch: after.epoch().expect("an epoch"),
            dir_seq: 1,
            kind: Kind::Endorse,
        },
        &TicketKey::generate(&mut rng),
        &EndorseContent::by_administrator(id, endorsed.public().clone()).to_bytes(),
        &mut rng,
    )
    .expect("seal");
    edit_database(&mut server, |db| {
        let messages = db.open_tree("messages").expect("messages");
        messages
            .insert(
                message_key(id, after.last_seq() + 1),
                message_value(&endorse),
            )
            .expect("write");
    });
    server.restart();

    rt.block_on(async {
        let transport = NativeTransport::new(server.base());
        let refused = "transcript.directory_out_of_range";
        assert_eq!(
            reporter_refusal(&transport, &directory, &ticket.link().path()).await,
            refused,
            "the reporter"
        );
        assert_eq!(admin_refusal(&transport, &mut root, id).await, refused);

        let session = root.account().session().to_owned();
        let mallorys = wrapped_epochs(
            &transport,
            &session,
            id,
            Chain::Conversation,
            &mallory.public().key_id(),
        )
        .await;
        assert_eq!(
            mallorys,
            BTreeSet::from([0]),
            "only the epoch before her removal"
        );
        let endorsed_wraps = wrapped_epochs(
            &transport,
            &session,
            id,
            Chain::Conversation,
            &endorsed.key_id(),
        )
        .await;
        assert!(endorsed_wraps.is_empty(), "no wrap for the endorsed key");
    });
}
