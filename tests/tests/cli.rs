//! The command-line client: the real `sealdesk` binary run as a reporter and as an
//! administrator against a real server, with the native client library on the other side.

// Test and tool code: a failed expectation stops the run, so it may unwrap, expect and
// panic (the workspace denies these in library code: Cargo.toml, clippy.toml).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};

use base64ct::{Base64UrlUnpadded, Encoding as _};
use sealdesk_client::account::Account;
use sealdesk_client::admin::Admin;
use sealdesk_client::content::{Content, Outgoing};
use sealdesk_client::directory::fetch_verified;
use sealdesk_client::reporter::{Opening, ReporterTicket, TicketLink};
use sealdesk_client::transport::NativeTransport;
use sealdesk_crypto::{Argon2Params, IdentitySeed, Kind, MasterKey, Zeroizing, system_rng};
use sealdesk_system_tests::{
    CHEAP, CliRun, FIRST_ADMIN_SEED, Instance, first_admin, run_cli, runtime,
};
use serde_json::Value;

/// Runs `sealdesk args...` ([`run_cli`]).
fn sealdesk(args: &[&str], env: &[(&str, &str)], stdin: Option<&str>) -> CliRun {
    run_cli(args, env, stdin)
}

/// `len` bytes that are not all alike.
fn file(len: usize) -> Vec<u8> {
    let mut state = 0x9e37_79b9_u32;
    (0..len)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 17;
            state ^= state << 5;
            state as u8
        })
        .collect()
}

fn path(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}

/// On a shared machine, arguments are visible to other users (`ps`) and stay in the shell's
/// history: the link and the message come from a file, standard input or `SEALDESK_LINK`
/// instead. Plain HTTP goes to this machine only unless `--insecure-http` (issue 16, item 5).
#[test]
fn links_and_messages_come_from_files_stdin_or_the_environment_and_plain_http_stays_local() {
    let instance = Instance::start();
    let dir = tempfile::tempdir().expect("tempdir");
    let message = dir.path().join("message.txt");
    std::fs::write(&message, "From a file.\n").expect("write");
    let link = sealdesk(
        &[
            "ticket",
            "new",
            "--server",
            &instance.base,
            "--subject",
            "Files",
            "--message-file",
            path(&message),
        ],
        &[],
        None,
    )
    .ok()
    .trim()
    .to_owned();
    let link_file = dir.path().join("link");
    std::fs::write(&link_file, format!("{link}\n")).expect("write");
    sealdesk(
        &[
            "ticket",
            "reply",
            "--link-file",
            path(&link_file),
            "--message-file",
            "-",
        ],
        &[],
        Some("From standard input.\n"),
    )
    .ok();
    let shown = sealdesk(&["ticket", "show", "--link-file", "-"], &[], Some(&link)).ok();
    assert!(
        shown.contains("    From a file.\n") && shown.contains("    From standard input.\n"),
        "{shown}"
    );
    let json = sealdesk(
        &["ticket", "show", "--json"],
        &[("SEALDESK_LINK", &link)],
        None,
    )
    .ok();
    assert!(json.contains("From standard input."), "{json}");
    sealdesk(
        &["ticket", "reply", "--link-file", "-", "--message-file", "-"],
        &[],
        Some("x"),
    )
    .fails(2, "input.two_stdin");

    let remote = "http://help.example.invalid";
    let new_remote = |extra: &[&str]| {
        let mut args = vec![
            "ticket",
            "new",
            "--server",
            remote,
            "--subject",
            "s",
            "--message",
            "m",
        ];
        args.extend_from_slice(extra);
        sealdesk(&args, &[], None)
    };
    new_remote(&[]).fails(2, "config.insecure_http");
    // Allowed, it gets as far as the network (which has no such host).
    new_remote(&["--insecure-http"]).fails(1, "network");
    let elsewhere = link.replace(&instance.base, remote);
    sealdesk(&["ticket", "show", &elsewhere], &[], None).fails(2, "config.insecure_http");
}

#[test]
fn a_reporter_opens_reads_replies_downloads_and_closes_from_the_command_line() {
    let instance = Instance::start();
    let rt = runtime();
    let dir = tempfile::tempdir().expect("tempdir");
    let trace = dir.path().join("trace.log");
    let data = file(100_000);
    std::fs::write(&trace, &data).expect("write");

    let stdout = sealdesk(
        &[
            "ticket",
            "new",
            "--server",
            &instance.base,
            "--subject",
            "Printer on fire",
            "--message",
            "Smoke everywhere.",
            "--name",
            "Robin",
            "--category",
            "Hardware",
            "--urgent",
            "--attach",
            path(&trace),
        ],
        &[],
        None,
    )
    .ok();
    // The link and nothing else, so that scripts can capture it.
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 1, "{stdout}");
    let link = lines[0].to_owned();
    assert!(
        link.starts_with(&format!("{}/help/ticket/", instance.base)) && link.contains('#'),
        "{link}"
    );
    let id = TicketLink::parse(&link).expect("a ticket link").ticket_id();

    // An administrator reads the ticket and its attachment, and answers.
    let transport = NativeTransport::new(&instance.base);
    let mut rng = system_rng();
    let mut admin = rt.block_on(first_admin(&transport));
    rt.block_on(async {
        let mut ticket = admin.read_ticket(&transport, id).await.expect("read");
        let opening = ticket.opening().expect("opening").clone();
        assert_eq!(opening.subject.as_deref(), Some("Printer on fire"));
        assert_eq!(opening.name.as_deref(), Some("Robin"));
        assert_eq!(opening.category.as_deref(), Some("Hardware"));
        assert!(opening.urgent);
        let attachments = ticket.attachments();
        assert_eq!(attachments.len(), 1);
        let (seq, reference) = attachments[0];
        assert_eq!(seq, 2);
        assert_eq!(
            (reference.name.as_str(), reference.mime_type.as_str()),
            ("trace.log", "text/plain")
        );
        assert_eq!(reference.size, 100_000);
        admin
            .reply(
                &transport,
                &mut ticket,
                Outgoing::new("Unplug it, please.", 1_700_000_000),
                &mut rng,
            )
            .await
            .expect("reply");
    });

    let shown = sealdesk(&["ticket", "show", &link], &[], None).ok();
    for expected in [
        &format!("Ticket {} · open", id.to_hex()),
        "Subject: Printer on fire",
        "From: Robin",
        "Category: Hardware · urgent",
        "[1] ",
        "    Smoke everywhere.",
        "[2] ",
        "you · attachment\n    trace.log (97.7 KiB (100,000 bytes), text/plain)",
        "--seq 2 --out FILE",
        "[3] 2023-11-14 22:13 UTC · support team\n    Unplug it, please.",
    ] {
        assert!(shown.contains(expected), "{expected:?} in\n{shown}");
    }
    assert!(
        !shown.contains('#'),
        "the link's secret is not printed:\n{shown}"
    );

    let json: Value =
        serde_json::from_str(&sealdesk(&["ticket", "show", &link, "--json"], &[], None).ok())
            .expect("JSON");
    assert_eq!(json["ticket_id"], id.to_hex());
    assert_eq!(json["closed"], false);
    let messages = json["messages"].as_array().expect("messages");
    assert_eq!(messages.len(), 3);
    assert_eq!(messages[1]["kind"], "attachment");
    assert_eq!(messages[1]["content"]["size"], 100_000);
    assert!(
        messages[1]["content"].get("key").is_none(),
        "no file key in views"
    );
    assert_eq!(messages[2]["from_support"], true);
    assert_eq!(messages[2]["content"]["text"], "Unplug it, please.");

    // The attachment, saved only once verified.
    let saved = dir.path().join("saved.log");
    let said = sealdesk(
        &[
            "ticket",
            "download",
            &link,
            "--seq",
            "2",
            "--out",
            path(&saved),
        ],
        &[],
        None,
    )
    .ok();
    assert!(said.contains("Saved trace.log"), "{said}");
    assert_eq!(std::fs::read(&saved).expect("saved"), data);
    sealdesk(
        &[
            "ticket",
            "download",
            &link,
            "--seq",
            "3",
            "--out",
            path(&saved),
        ],
        &[],
        None,
    )
    .fails(1, "input.not_an_attachment");

    // A reply with an attachment, then close (twice: the second time there is nothing to do).
    let photo = dir.path().join("photo.png");
    std::fs::write(&photo, file(3_000)).expect("write");
    let replied = sealdesk(
        &[
            "ticket",
            "reply",
            &link,
            "--message",
            "It is out now.",
            "--attach",
            path(&photo),
        ],
        &[],
        None,
    )
    .ok();
    assert!(replied.contains("Sent message 4."), "{replied}");
    assert!(
        replied.contains("Attached photo.png as message 5."),
        "{replied}"
    );
    let closed = sealdesk(&["ticket", "close", &link], &[], None).ok();
    assert_eq!(closed.trim(), "Closed the ticket.");
    let again = sealdesk(&["ticket", "close", &link], &[], None).ok();
    assert_eq!(again.trim(), "The ticket is already closed.");

    rt.block_on(async {
        let ticket = admin.read_ticket(&transport, id).await.expect("read");
        assert!(ticket.is_closed());
        assert_eq!(ticket.messages.len(), 6);
        match &ticket.messages[3].content {
            Ok(Content::Message(text)) => assert_eq!(text.text, "It is out now."),
            other => panic!("reply: {other:?}"),
        }
        assert!(!ticket.messages[3].from_support);
        assert_eq!(ticket.attachments()[1].1.mime_type, "image/png");
        assert_eq!(ticket.messages[5].kind, Kind::Close);
    });
    let shown = sealdesk(&["ticket", "show", &link], &[], None).ok();
    assert!(shown.contains("· closed\n"), "{shown}");
    assert!(shown.contains("[6] "), "{shown}");
}

#[test]
fn damaged_links_fail_with_status_1_and_usage_errors_with_status_2() {
    let instance = Instance::start();
    let link = sealdesk(
        &[
            "ticket",
            "new",
            "--server",
            &instance.base,
            "--subject",
            "Hello",
            "--message",
            "Anyone there?",
        ],
        &[],
        None,
    )
    .ok()
    .trim()
    .to_owned();

    // One hex digit of the id changed: the id no longer belongs to the secret.
    let (before, after) = link.split_once("/help/ticket/").expect("link");
    let digit = if after.starts_with('0') { "1" } else { "0" };
    let tampered = format!("{before}/help/ticket/{digit}{}", &after[1..]);
    let run = sealdesk(&["ticket", "show", &tampered], &[], None).fails(1, "link.mismatch");
    assert!(run.stdout.is_empty());
    assert_eq!(run.stderr.lines().count(), 1, "{}", run.stderr);
    assert!(run.stderr.contains("damaged"), "{}", run.stderr);
    sealdesk(&["ticket", "reply", &tampered, "--message", "x"], &[], None)
        .fails(1, "link.mismatch");
    sealdesk(
        &["ticket", "show", &format!("{before}/help/ticket/nonsense")],
        &[],
        None,
    )
    .fails(1, "link.malformed");

    // A well-formed link of a ticket the server does not have.
    let unknown = format!(
        "{}{}",
        instance.base,
        TicketLink::generate(&mut system_rng()).path()
    );
    sealdesk(&["ticket", "show", &unknown], &[], None).fails(1, "server.not_found");
    // No server answers.
    let nowhere = format!(
        "http://127.0.0.1:9{}",
        TicketLink::generate(&mut system_rng()).path()
    );
    sealdesk(&["ticket", "close", &nowhere], &[], None).fails(1, "network");

    // Usage and configuration errors.
    let missing = sealdesk(
        &[
            "ticket",
            "new",
            "--server",
            &instance.base,
            "--message",
            "x",
        ],
        &[],
        None,
    );
    assert_eq!(missing.status, 2, "{}", missing.stderr);
    assert!(missing.stderr.contains("--subject"), "{}", missing.stderr);
    assert_eq!(sealdesk(&["ticket"], &[], None).status, 2);
    assert_eq!(
        sealdesk(&["admin", "show", "not-an-id"], &[], None).status,
        2
    );
    let path_only = &link[instance.base.len()..];
    sealdesk(&["ticket", "show", path_only], &[], None).fails(2, "input.link_server");
    sealdesk(
        &["ticket", "show", path_only, "--server", &instance.base],
        &[],
        None,
    )
    .ok();
    sealdesk(
        &[
            "ticket",
            "new",
            "--server",
            "http://help.example.org",
            "--subject",
            "s",
            "--message",
            "m",
        ],
        &[],
        None,
    )
    // https:// is built in now; plain HTTP to another machine is the usage error.
    .fails(2, "config.insecure_http");
    sealdesk(
        &[
            "ticket",
            "new",
            "--server",
            &instance.base,
            "--subject",
            "s",
            "--message",
            "m",
            "--attach",
            "/nonexistent/file.txt",
        ],
        &[],
        None,
    )
    .fails(2, "input.attachment");
}

/// The default keyring of the instance at `base` under `home`.
fn default_keyring(home: &Path, base: &str) -> PathBuf {
    let host = base
        .strip_prefix("http://")
        .expect("http")
        .replace(':', "-");
    home.join(".config")
        .join("sealdesk")
        .join(format!("admin-{host}.keyring"))
}

#[test]
fn an_administrator_signs_in_reads_the_inbox_answers_and_changes_the_team() {
    let instance = Instance::start();
    let rt = runtime();
    let transport = NativeTransport::new(&instance.base);
    let mut rng = system_rng();
    // The command line refuses password derivations below the documented parameters.
    let mut root = rt.block_on(async {
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
        Admin::new(&transport, account, None)
            .await
            .expect("administrator")
    });
    let mut reporter = rt.block_on(async {
        let directory = fetch_verified(&transport, None).await.expect("directory");
        let opening = Opening {
            subject: "VPN down".into(),
            text: "It drops every minute.".into(),
            name: Some("Alex".into()),
            ..Opening::default()
        };
        ReporterTicket::create(&transport, &directory, opening, 1_700_000_000, &mut rng)
            .await
            .expect("ticket")
    });
    let id = reporter.link().ticket_id().to_hex();

    let home = tempfile::tempdir().expect("home");
    let home_dir = path(home.path()).to_owned();
    let env = [
        ("HOME", home_dir.as_str()),
        ("SEALDESK_PASSPHRASE", "keyring passphrase"),
        ("SEALDESK_PASSWORD", "root password"),
    ];
    let login = sealdesk(
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
    assert!(login.contains("Signed in as root"), "{login}");
    assert!(
        login.contains(&instance.admin.public().fingerprint()),
        "{login}"
    );

    // The keyring: private, and no seed in it.
    let keyring = default_keyring(home.path(), &instance.base);
    let bytes = std::fs::read(&keyring).expect("the keyring file");
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(&keyring)
            .expect("keyring")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let text = String::from_utf8_lossy(&bytes);
    assert!(!text.contains(&"07".repeat(32)), "no hex seed");
    assert!(
        !text.contains(&Base64UrlUnpadded::encode_string(&FIRST_ADMIN_SEED)),
        "no base64url seed"
    );
    assert!(
        !bytes.windows(32).any(|w| w == FIRST_ADMIN_SEED),
        "no raw seed"
    );
    assert!(!text.contains("127.0.0.1"), "the server is sealed too");

    // The inbox, with the verified and decrypted subject.
    let inbox: Value =
        serde_json::from_str(&sealdesk(&["admin", "inbox", "--json"], &env, None).ok())
            .expect("JSON");
    let tickets = inbox["tickets"].as_array().expect("tickets");
    assert_eq!(tickets.len(), 1);
    assert_eq!(tickets[0]["ticket_id"], id);
    assert_eq!(tickets[0]["subject"], "VPN down");
    assert_eq!(tickets[0]["status"], "open");
    assert_eq!(tickets[0]["answered"], false);
    assert_eq!(tickets[0]["opening"]["name"], "Alex");
    assert_eq!(inbox["more"], false);
    let listed = sealdesk(&["admin", "inbox", "--status", "unanswered"], &env, None).ok();
    assert!(
        listed.contains(&id) && listed.contains("unanswered") && listed.contains("VPN down"),
        "{listed}"
    );

    // A reply by name and an internal note.
    let replied = sealdesk(
        &[
            "admin",
            "reply",
            &id,
            "--message",
            "Restart the router.",
            "--as",
            "Sam",
        ],
        &env,
        None,
    )
    .ok();
    assert_eq!(replied.trim(), "Sent message 2.");
    let noted = sealdesk(
        &["admin", "note", &id, "--message", "Probably the ISP."],
        &env,
        None,
    )
    .ok();
    assert_eq!(noted.trim(), "Added internal note 1.");
    // Tags (a tags message on the notes chain): lowercased and sorted, removed, shown; a tag
    // that is no tag is refused before anything is sent.
    let tag = |args: &[&str]| {
        let mut all = vec!["admin", "tag", id.as_str()];
        all.extend_from_slice(args);
        sealdesk(&all, &env, None)
    };
    assert_eq!(
        tag(&["--add", "VIP", "--add", "billing"]).ok().trim(),
        "billing vip"
    );
    tag(&["--add", "no tag"]).fails(1, "tags.invalid");
    assert_eq!(tag(&["--remove", "vip"]).ok().trim(), "billing");
    assert_eq!(tag(&[]).ok().trim(), "billing");
    let shown = sealdesk(&["admin", "show", &id], &env, None).ok();
    for expected in [
        "Subject: VPN down",
        "From: Alex",
        "· reporter\n    It drops every minute.",
        "Sam (support) [key ",
        "    Restart the router.",
        "Internal notes (administrators only):",
        "· support team [key ",
        "    Probably the ISP.",
    ] {
        assert!(shown.contains(expected), "{expected:?} in\n{shown}");
    }
    let json: Value =
        serde_json::from_str(&sealdesk(&["admin", "show", &id, "--json"], &env, None).ok())
            .expect("JSON");
    assert_eq!(json["messages"][1]["content"]["author"], "Sam");
    assert_eq!(json["notes"][0]["kind"], "internal_note");
    assert_eq!(json["notes"][0]["content"]["text"], "Probably the ISP.");
    assert_eq!(json["notes"][2]["kind"], "tags");
    assert_eq!(
        json["notes"][2]["content"]["tags"],
        serde_json::json!(["billing"])
    );
    // Only a closed ticket is deleted; the refusal keeps it.
    sealdesk(&["admin", "delete", &id], &env, None).fails(1, "server.not_closed");
    assert!(
        sealdesk(&["admin", "show", &id], &env, None)
            .ok()
            .contains("VPN down")
    );
    let inbox: Value = serde_json::from_str(
        &sealdesk(
            &["admin", "inbox", "--status", "unanswered", "--json"],
            &env,
            None,
        )
        .ok(),
    )
    .expect("JSON");
    assert_eq!(inbox["tickets"].as_array().map(Vec::len), Some(0));

    // The reporter sees the answer, by name, and not the note.
    rt.block_on(async {
        let directory = fetch_verified(&transport, None).await.expect("directory");
        reporter
            .refresh(&transport, &directory)
            .await
            .expect("refresh");
    });
    assert_eq!(reporter.messages.len(), 2);
    assert!(reporter.messages[1].from_support);
    match &reporter.messages[1].content {
        Ok(Content::Message(text)) => {
            assert_eq!(text.text, "Restart the router.");
            assert_eq!(text.author.as_deref(), Some("Sam"));
        }
        other => panic!("answer: {other:?}"),
    }

    // Secrets as lines of standard input when the variables are not set (passphrase first).
    let home_only = [("HOME", home_dir.as_str())];
    sealdesk(
        &["admin", "inbox"],
        &home_only,
        Some("keyring passphrase\nroot password\n"),
    )
    .ok();
    sealdesk(&["admin", "inbox"], &home_only, None).fails(2, "input.no_secret");
    sealdesk(
        &["admin", "inbox"],
        &home_only,
        Some("wrong passphrase\nroot password\n"),
    )
    .fails(1, "keyring.bad_passphrase");
    sealdesk(
        &["admin", "inbox"],
        &home_only,
        Some("keyring passphrase\nwrong password\n"),
    )
    .fails(1, "server.bad_credentials");
    sealdesk(
        &["admin", "inbox", "--keyring", "/nonexistent/admin.keyring"],
        &env,
        None,
    )
    .fails(2, "config.no_keyring");
    let elsewhere = tempfile::tempdir().expect("home");
    sealdesk(
        &["admin", "inbox"],
        &[
            ("HOME", path(elsewhere.path())),
            ("SEALDESK_PASSPHRASE", "x"),
            ("SEALDESK_PASSWORD", "x"),
        ],
        None,
    )
    .fails(2, "config.no_keyring");

    // Bob redeems an invite; root lists and approves him from the command line.
    let bob = rt.block_on(async {
        let bob = Account::register(&transport, "bob", "bob password", CHEAP, &mut system_rng())
            .await
            .expect("register");
        let invite = root.create_invite(&transport).await.expect("invite");
        Admin::redeem_invite(&transport, &bob, &invite.path())
            .await
            .expect("redeem");
        bob
    });
    let bob_key = bob.public().key_id().to_string();
    let pending = sealdesk(&["admin", "approve"], &env, None).ok();
    assert!(
        pending.contains("bob") && pending.contains(&bob.public().fingerprint()),
        "{pending}"
    );
    assert!(pending.contains(&bob_key), "{pending}");
    let approved = sealdesk(&["admin", "approve", &bob_key[..12]], &env, None).ok();
    assert!(approved.contains("Approved bob"), "{approved}");
    assert!(approved.contains("directory head 1"), "{approved}");
    assert!(
        approved.contains("Shared the keys of 1 ticket"),
        "{approved}"
    );
    let mut bob = rt.block_on(async {
        let mut bob = Admin::new(&transport, bob, Some(&root.head()))
            .await
            .expect("bob is an administrator");
        let ticket = bob
            .read_ticket(&transport, reporter.link().ticket_id())
            .await
            .expect("bob reads the history");
        assert!(ticket.messages.iter().all(|m| m.content.is_ok()));
        assert!(ticket.notes.iter().all(|m| m.content.is_ok()));
        bob.refresh_directory(&transport).await.expect("directory");
        bob
    });

    // Signing in again keeps the keyring's passphrase and pinned head; a keyring is for one
    // instance.
    let again = sealdesk(
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
    assert!(again.contains("(directory head 1)"), "{again}");
    sealdesk(
        &[
            "admin",
            "login",
            "--server",
            "http://127.0.0.1:9",
            "--username",
            "root",
            "--keyring",
            path(&keyring),
        ],
        &env,
        None,
    )
    .fails(2, "config.keyring_in_use");

    // The keyring pinned the new head; the team lists both; root removes bob.
    let team = sealdesk(&["admin", "remove"], &env, None).ok();
    assert!(team.contains("directory head 1"), "{team}");
    assert!(team.contains(&bob_key) && team.contains("(you)"), "{team}");
    sealdesk(&["admin", "remove", &"ab".repeat(32)], &env, None)
        .fails(1, "admin.unknown_administrator");
    sealdesk(&["admin", "remove", "abc"], &env, None).fails(2, "input.key_id");
    let removed = sealdesk(&["admin", "remove", &bob_key], &env, None).ok();
    assert!(removed.contains("directory head 2"), "{removed}");
    assert!(
        removed.contains("Moved 2 chains of 1 listed ticket"),
        "{removed}"
    );
    let error = rt
        .block_on(bob.refresh_directory(&transport))
        .expect_err("bob is no administrator any more");
    assert_eq!(error.code, "admin.not_an_administrator");
    rt.block_on(root.refresh_directory(&transport))
        .expect("root follows");
    assert_eq!(root.team().len(), 1);

    // The keyring is the account keyring's sealing under the passphrase; a pin the server's
    // directory does not extend (here: a head it never had, as after a rollback) is refused.
    let profile = edit_keyring(&keyring, "keyring passphrase", |profile| {
        profile["pinned"]["seq"] = Value::from(7);
    });
    assert_eq!(profile["server"], instance.base.as_str());
    assert_eq!(profile["username"], "root");
    assert_eq!(profile["pinned"]["seq"], 2);
    let run = sealdesk(&["admin", "inbox"], &env, None).fails(1, "directory.rollback");
    assert!(run.stderr.starts_with("warning: "), "{}", run.stderr);
}

/// Opens the keyring file as the crypto crate seals it, lets `edit` change its profile and
/// seals it again; returns the profile as it was.
fn edit_keyring(file: &Path, passphrase: &str, edit: impl FnOnce(&mut Value)) -> Value {
    let decode = |v: &Value| Base64UrlUnpadded::decode_vec(v.as_str().expect("string"));
    let mut json: Value =
        serde_json::from_slice(&std::fs::read(file).expect("keyring")).expect("JSON");
    assert_eq!(json["format"], "sealdesk-admin-keyring/1");
    let number = |name: &str| u32::try_from(json["argon2"][name].as_u64().expect("u32"));
    let params = Argon2Params {
        memory_kib: number("memory_kib").expect("u32"),
        iterations: number("iterations").expect("u32"),
        parallelism: number("parallelism").expect("u32"),
    };
    assert_eq!(params, Argon2Params::DEFAULT);
    let salt: [u8; 16] = decode(&json["salt"])
        .expect("base64url")
        .try_into()
        .expect("16 bytes");
    let key = MasterKey::derive(passphrase.as_bytes(), &salt, params)
        .expect("derive")
        .keyring_key();
    let mut keyring = key
        .open(&decode(&json["sealed"]).expect("base64url"))
        .expect("opens");
    assert_eq!(keyring.identity_seed.as_bytes(), &FIRST_ADMIN_SEED);
    let before: Value = serde_json::from_slice(&keyring.app_data).expect("profile");
    let mut profile = before.clone();
    edit(&mut profile);
    keyring.app_data = Zeroizing::new(serde_json::to_vec(&profile).expect("JSON"));
    let sealed = key.seal(&keyring, &mut system_rng()).expect("seal");
    json["sealed"] = Value::from(Base64UrlUnpadded::encode_string(&sealed));
    std::fs::write(file, serde_json::to_vec(&json).expect("JSON")).expect("write");
    before
}

/// Starts a proxy in front of `upstream` that answers like a misbehaving server: in every
/// read of a conversation it swaps the first two messages. Returns its base URL.
fn reordering_proxy(upstream: &str) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("address"));
    let upstream = upstream.to_owned();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let upstream = upstream.clone();
            std::thread::spawn(move || relay(stream, &upstream));
        }
    });
    base
}

/// Relays one request (the proxy answers with `Connection: close`).
fn relay(stream: TcpStream, upstream: &str) {
    let mut reader = BufReader::new(stream.try_clone().expect("clone"));
    let mut request_line = String::new();
    if reader.read_line(&mut request_line).is_err() || request_line.is_empty() {
        return;
    }
    let mut parts = request_line.split_whitespace();
    let (method, path) = (
        parts.next().unwrap_or_default().to_owned(),
        parts.next().unwrap_or_default().to_owned(),
    );
    let mut headers = Vec::new();
    let mut length = 0;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).is_err() || line.trim().is_empty() {
            break;
        }
        if let Some((name, value)) = line.trim().split_once(':') {
            let (name, value) = (name.trim().to_ascii_lowercase(), value.trim().to_owned());
            if name == "content-length" {
                length = value.parse().unwrap_or(0);
            }
            if name == "authorization" || name == "content-type" {
                headers.push((name, value));
            }
        }
    }
    let mut body = vec![0; length];
    if reader.read_exact(&mut body).is_err() {
        return;
    }
    let client = reqwest::blocking::Client::new();
    let method = reqwest::Method::from_bytes(method.as_bytes()).expect("method");
    let mut forward = client
        .request(method, format!("{upstream}{path}"))
        .body(body);
    for (name, value) in headers {
        forward = forward.header(name, value);
    }
    let Ok(response) = forward.send() else { return };
    let status = response.status().as_u16();
    let mut answer = response.bytes().expect("body").to_vec();
    if path.contains("/messages?") && status == 200 {
        let mut json: Value = serde_json::from_slice(&answer).expect("json");
        if let Some(messages) = json["messages"].as_array_mut()
            && messages.len() >= 2
        {
            messages.swap(0, 1);
        }
        answer = serde_json::to_vec(&json).expect("json");
    }
    let mut stream = stream;
    let head = format!(
        "HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\
         Connection: close\r\n\r\n",
        answer.len()
    );
    let _ = stream.write_all(head.as_bytes());
    let _ = stream.write_all(&answer);
}

#[test]
fn a_conversation_that_does_not_verify_is_a_warning_and_status_1() {
    let instance = Instance::start();
    let link = sealdesk(
        &[
            "ticket",
            "new",
            "--server",
            &instance.base,
            "--subject",
            "Order",
            "--message",
            "First.",
        ],
        &[],
        None,
    )
    .ok()
    .trim()
    .to_owned();
    sealdesk(
        &["ticket", "reply", &link, "--message", "Second."],
        &[],
        None,
    )
    .ok();

    let proxy = reordering_proxy(&instance.base);
    let path = &link[instance.base.len()..];
    let through_proxy = format!("{proxy}{path}");
    for args in [
        vec!["ticket", "show", through_proxy.as_str()],
        vec!["ticket", "show", through_proxy.as_str(), "--json"],
        vec![
            "ticket",
            "reply",
            through_proxy.as_str(),
            "--message",
            "Third.",
        ],
    ] {
        let run = sealdesk(&args, &[], None).fails(1, "transcript.unexpected_seq");
        assert!(
            run.stdout.is_empty(),
            "nothing unverified is shown: {}",
            run.stdout
        );
        let lines: Vec<&str> = run.stderr.lines().collect();
        assert_eq!(lines.len(), 2, "{}", run.stderr);
        assert!(lines[0].starts_with("warning: "), "{}", run.stderr);
    }
    // Nothing was posted through the proxy, and the real server's conversation is intact.
    let shown = sealdesk(&["ticket", "show", &link], &[], None).ok();
    assert!(shown.contains("[2] ") && !shown.contains("[3] "), "{shown}");
}
