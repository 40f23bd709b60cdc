//! Verified state kept between visits (PROTOCOL.md §10.4), against the real binary and the
//! native client: a server that drops the last message of a conversation between two visits,
//! or serves another branch of it, is caught on the next open from the kept state, for the
//! anonymous reporter, the account holder and the administrator, with the same
//! `transcript.*` codes as tampering. The server's data is edited with `sled` while it is
//! stopped, then the server is restarted on it (as in tests/tests/misbehaving.rs).

// Test code: a failed expectation stops the run, so it may unwrap, expect and panic.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;
use std::time::{Duration, Instant};

use base64ct::{Base64UrlUnpadded, Encoding};
use sealdesk_client::account::Account;
use sealdesk_client::admin::Admin;
use sealdesk_client::content::{Content, Outgoing, Text};
use sealdesk_client::directory::fetch_verified;
use sealdesk_client::reporter::{Opening, ReporterTicket, TicketLink};
use sealdesk_client::transport::{NativeTransport, Request, Transport};
use sealdesk_crypto::{
    Chain, ChainState, CryptoRng, Directory, Identity, Kind, Message, Placement, TicketId,
    TicketKey, system_rng,
};
use sealdesk_system_tests::{
    CHEAP, Persistent, ServerOptions, epoch_key, first_admin, runtime, sealdesk_binary,
};
use serde_json::Value;

fn opening() -> Opening {
    Opening {
        subject: "Printer on fire".into(),
        text: "It smells of toner.".into(),
        ..Opening::default()
    }
}

fn start() -> Persistent {
    Persistent::start(ServerOptions {
        env: vec![("SEALDESK_ANONYMOUS_TICKETS_PER_HOUR".into(), "1000".into())],
        ..ServerOptions::default()
    })
}

/// Stops the server, edits its database (without sled's background flusher, so the file
/// lock goes with the handle), flushes it and restarts the server.
fn edit_database(server: &mut Persistent, edit: impl FnOnce(&sled::Tree)) {
    if server.is_running() {
        server.stop();
    }
    let deadline = Instant::now() + Duration::from_secs(10);
    let db = loop {
        match sled::Config::new()
            .path(server.data_dir())
            .flush_every_ms(None)
            .open()
        {
            Ok(db) => break db,
            Err(_) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(50)),
            Err(error) => panic!("open the database: {error}"),
        }
    };
    edit(&db.open_tree("messages").expect("messages"));
    db.flush().expect("flush the edits");
    drop(db);
    server.restart();
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

/// Where a branch starts: the ticket, and the seq and hash of the message it follows.
struct Tip {
    ticket_id: TicketId,
    seq: u64,
    hash: [u8; 32],
}

impl From<&ChainState> for Tip {
    fn from(state: &ChainState) -> Tip {
        Tip {
            ticket_id: state.ticket_id(),
            seq: state.last_seq(),
            hash: state.last_hash(),
        }
    }
}

/// Another branch of the conversation after `base`: `texts.len()` messages by the
/// administrator `admin`, in epoch 0 with `key`, from `base.seq + 1` on.
fn branch(
    admin: &Identity,
    base: Tip,
    key: &TicketKey,
    dir_seq: u64,
    texts: &[&str],
    rng: &mut impl CryptoRng,
) -> Vec<Message> {
    let mut prev_hash = base.hash;
    let mut out = Vec::new();
    for (i, text) in texts.iter().enumerate() {
        let content = Content::Message(Text {
            text: (*text).into(),
            sent_at: 9,
            ..Text::default()
        });
        let message = Message::seal(
            admin,
            Placement {
                ticket_id: base.ticket_id,
                chain: Chain::Conversation,
                seq: base.seq + 1 + i as u64,
                prev_hash,
                epoch: 0,
                dir_seq,
                kind: Kind::Message,
            },
            key,
            &content.to_bytes().expect("content"),
            rng,
        )
        .expect("seal");
        prev_hash = message.hash();
        out.push(message);
    }
    out
}

/// What each member kept after its last visit, and how to come back.
struct Visits {
    directory: Directory,
    root: Admin,
    account: Account,
    link: String,
    anonymous: TicketId,
    owned: TicketId,
    reporter_kept: Vec<u8>,
    account_kept: Vec<u8>,
    admin_kept: Vec<u8>,
    /// The conversation states before the last message (an anonymous ticket's, an account
    /// ticket's), the base of a fork.
    bases: [ChainState; 2],
}

/// An anonymous ticket and an account's ticket, each with three conversation messages (the
/// opening, the reporter's reply, the administrator's answer), read by every member, whose
/// kept states are returned.
async fn three_messages(server: &Persistent) -> Visits {
    let transport = NativeTransport::new(server.base());
    let directory = fetch_verified(&transport, None).await.expect("directory");
    let mut rng = system_rng();
    let mut root = first_admin(&transport).await;
    let account = Account::register(&transport, "alice", "alice password", CHEAP, &mut rng)
        .await
        .expect("register");

    let mut ticket = ReporterTicket::create(&transport, &directory, opening(), 1, &mut rng)
        .await
        .expect("create");
    ticket
        .reply(&transport, &directory, "second", 2, &mut rng)
        .await
        .expect("reply");
    let mut owned = account
        .create_ticket(&transport, &directory, opening(), 1, &mut rng)
        .await
        .expect("create");
    owned
        .reply(&transport, &account, &directory, "second", 2, &mut rng)
        .await
        .expect("reply");
    let bases = [ticket.conversation().clone(), owned.conversation().clone()];
    let anonymous = ticket.link().ticket_id();
    for id in [anonymous, owned.ticket_id()] {
        let mut read = root.read_ticket(&transport, id).await.expect("read");
        root.reply(&transport, &mut read, Outgoing::new("third", 3), &mut rng)
            .await
            .expect("answer");
    }

    // Every member opens its ticket again (from the state kept before, which it extends)
    // and keeps the state it verified.
    let link = ticket.link().path();
    let reopened = ReporterTicket::open_with_state(
        &transport,
        &directory,
        TicketLink::parse(&link).expect("link"),
        Some(&ticket.state_bytes()),
    )
    .await
    .expect("the honest server's conversation extends the kept one");
    assert_eq!(reopened.messages.len(), 3);
    let mine = account
        .open_ticket_with_state(
            &transport,
            &directory,
            owned.ticket_id(),
            Some(&owned.state_bytes()),
        )
        .await
        .expect("extends");
    assert_eq!(mine.messages.len(), 3);
    let read = root
        .read_ticket_with_state(&transport, anonymous, None)
        .await
        .expect("read");
    assert_eq!(read.messages.len(), 3);
    Visits {
        directory,
        link,
        anonymous,
        owned: owned.ticket_id(),
        reporter_kept: reopened.state_bytes(),
        account_kept: mine.state_bytes(),
        admin_kept: read.state_bytes(),
        bases,
        root,
        account,
    }
}

/// Why each member refuses its ticket on the next visit (reporter, account holder,
/// administrator), and that none would have noticed without the kept state.
async fn refusals(transport: &NativeTransport, visits: &mut Visits) -> [String; 3] {
    let Visits {
        directory,
        root,
        account,
        link,
        anonymous,
        owned,
        reporter_kept,
        account_kept,
        admin_kept,
        ..
    } = visits;
    let parse = || TicketLink::parse(link).expect("link");
    let reporter =
        ReporterTicket::open_with_state(transport, directory, parse(), Some(reporter_kept))
            .await
            .map(|t| t.messages.len())
            .map_err(|e| e.code);
    let holder = account
        .open_ticket_with_state(transport, directory, *owned, Some(account_kept))
        .await
        .map(|t| t.messages.len())
        .map_err(|e| e.code);
    let admin = root
        .read_ticket_with_state(transport, *anonymous, Some(admin_kept))
        .await
        .map(|t| t.messages.len())
        .map_err(|e| e.code);

    // Without the kept state, every answer verifies on its own.
    ReporterTicket::open(transport, directory, parse())
        .await
        .expect("verifies on its own");
    account
        .open_ticket(transport, directory, *owned)
        .await
        .expect("verifies on its own");
    root.read_ticket(transport, *anonymous)
        .await
        .expect("verifies on its own");
    let refused = |outcome: Result<usize, String>| match outcome {
        Ok(count) => panic!("accepted {count} messages"),
        Err(code) => code,
    };
    [refused(reporter), refused(holder), refused(admin)]
}

#[test]
fn the_last_message_dropped_between_visits_is_detected() {
    let mut server = start();
    let rt = runtime();
    let mut visits = rt.block_on(three_messages(&server));
    let ids = [visits.anonymous, visits.owned];
    edit_database(&mut server, |messages| {
        for id in ids {
            messages
                .remove(message_key(id, 3))
                .expect("delete")
                .expect("was stored");
        }
    });
    rt.block_on(async {
        let transport = NativeTransport::new(server.base());
        let rollback = "transcript.unexpected_seq".to_owned();
        assert_eq!(
            refusals(&transport, &mut visits).await,
            [rollback.clone(), rollback.clone(), rollback],
            "(reporter, account holder, administrator)"
        );
    });
}

#[test]
fn another_branch_of_the_conversation_on_the_next_visit_is_detected() {
    let mut server = start();
    let rt = runtime();
    let mut visits = rt.block_on(three_messages(&server));
    // The administrator's message 3 replaced by another one (same length) in the anonymous
    // ticket, and by two others (a longer branch) in the account's ticket.
    let forks = rt.block_on(async {
        let transport = NativeTransport::new(server.base());
        let mut rng = system_rng();
        let bearer = visits.root.account().session().to_owned();
        let dir_seq = visits.directory.head_seq();
        let mut forks = Vec::new();
        for (base, texts) in visits
            .bases
            .iter()
            .zip([&["other third"][..], &["other third", "fourth"][..]])
        {
            let key = epoch_key(&transport, &bearer, base.ticket_id(), &server.admin).await;
            forks.push(branch(
                &server.admin,
                base.into(),
                &key,
                dir_seq,
                texts,
                &mut rng,
            ));
        }
        forks
    });
    edit_database(&mut server, |messages| {
        for fork in &forks {
            for message in fork {
                let key = message_key(message.header.ticket_id, message.header.seq);
                messages.insert(key, message_value(message)).expect("write");
            }
        }
    });
    rt.block_on(async {
        let transport = NativeTransport::new(server.base());
        let fork = "transcript.broken_link".to_owned();
        assert_eq!(
            refusals(&transport, &mut visits).await,
            [fork.clone(), fork.clone(), fork],
            "(reporter, account holder, administrator)"
        );
    });
}

/// Runs `sealdesk args...` with `home` as its home folder; returns its exit status, standard
/// output and standard error.
fn sealdesk(home: &Path, args: &[&str]) -> (i32, String, String) {
    let output = std::process::Command::new(sealdesk_binary())
        .args(args)
        .env("HOME", home)
        .env_remove("XDG_CONFIG_HOME")
        .stdin(std::process::Stdio::null())
        .output()
        .expect("run sealdesk");
    (
        output.status.code().expect("exit status"),
        String::from_utf8(output.stdout).expect("utf-8"),
        String::from_utf8(output.stderr).expect("utf-8"),
    )
}

/// `sealdesk ticket show` keeps the verified state in `~/.config/sealdesk/tickets/ID.state`
/// and, on the next run, refuses a conversation that lost its last message or was forked.
#[test]
fn the_command_line_reporter_detects_a_rollback_or_fork_between_two_runs() {
    let home = tempfile::tempdir().expect("home");
    let mut server = start();
    let base = server.base().to_owned();
    let run = |server_base: &str, args: &[&str]| {
        let mut all = args.to_vec();
        all.extend(["--server", server_base]);
        sealdesk(home.path(), &all)
    };
    let mut links = Vec::new();
    for _ in 0..2 {
        let (status, out, err) = sealdesk(
            home.path(),
            &[
                "ticket",
                "new",
                "--server",
                &base,
                "--subject",
                "Order",
                "--message",
                "First.",
            ],
        );
        assert_eq!(status, 0, "{err}");
        let link = out.trim().to_owned();
        let (status, _, err) = run(&base, &["ticket", "reply", &link, "--message", "Second."]);
        assert_eq!(status, 0, "{err}");
        let (status, shown, err) = run(&base, &["ticket", "show", &link]);
        assert_eq!(status, 0, "{err}");
        assert!(shown.contains("Second."), "{shown}");
        links.push(link);
    }
    let ids: Vec<TicketId> = links
        .iter()
        .map(|l| TicketLink::parse(l).expect("link").ticket_id())
        .collect();
    for id in &ids {
        let kept = home
            .path()
            .join(".config/sealdesk/tickets")
            .join(format!("{}.state", id.to_hex()));
        let file: Value =
            serde_json::from_slice(&std::fs::read(&kept).expect("state file")).expect("json");
        assert_eq!(file["ticket"], id.to_hex());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = std::fs::metadata(&kept).expect("meta").permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }

    // The administrator's other message 2 in the second ticket (a fork of the same length).
    let fork = runtime().block_on(async {
        let transport = NativeTransport::new(server.base());
        let directory = fetch_verified(&transport, None).await.expect("directory");
        let root = first_admin(&transport).await;
        let key = epoch_key(&transport, root.account().session(), ids[1], &server.admin).await;
        // The fork follows message 1.
        let first = transport
            .send(
                Request::get(format!(
                    "/api/v1/tickets/{}/messages?chain=0&after=0",
                    ids[1].to_hex()
                ))
                .bearer(Some(root.account().session())),
            )
            .await
            .expect("messages")
            .json::<Value>("messages")
            .expect("json");
        let first = Base64UrlUnpadded::decode_vec(
            first["messages"][0]["message"].as_str().expect("message"),
        )
        .expect("b64");
        let first = Message::from_bytes(&first).expect("message 1");
        let base = Tip {
            ticket_id: ids[1],
            seq: first.header.seq,
            hash: first.hash(),
        };
        branch(
            &server.admin,
            base,
            &key,
            directory.head_seq(),
            &["Other second."],
            &mut system_rng(),
        )
    });
    edit_database(&mut server, |messages| {
        messages
            .remove(message_key(ids[0], 2))
            .expect("delete")
            .expect("was stored");
        for message in &fork {
            messages
                .insert(
                    message_key(ids[1], message.header.seq),
                    message_value(message),
                )
                .expect("write");
        }
    });
    let base = server.base().to_owned();
    for (link, code) in links
        .iter()
        .zip(["transcript.unexpected_seq", "transcript.broken_link"])
    {
        // Twice: the kept state is not replaced by the shorter or forked one.
        for _ in 0..2 {
            let (status, out, err) = run(&base, &["ticket", "show", link]);
            assert_eq!(status, 1, "{out}{err}");
            assert!(out.is_empty(), "nothing is shown: {out}");
            assert!(err.starts_with("warning: "), "{err}");
            assert!(err.trim_end().ends_with(&format!("({code})")), "{err}");
        }
        // Without the kept state the answer verifies on its own.
        let fresh = home.path().join("fresh.state");
        let _ = std::fs::remove_file(&fresh);
        let (status, _, err) = run(
            &base,
            &[
                "ticket",
                "show",
                link,
                "--state",
                fresh.to_str().expect("utf-8"),
            ],
        );
        assert_eq!(status, 0, "{err}");
    }
}
