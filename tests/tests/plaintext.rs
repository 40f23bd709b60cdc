//! No plaintext reaches the server: a full scenario through the native client library in
//! which every field a person types carries a unique marker (the reporter's name, email,
//! subject, message, category, every debug field, the notification address, a file's name,
//! type and contents, replies, an administrator's reply, note and status changes with
//! display names, a canned reply's title and body before and after an edit, an account's
//! passwords, keyring application data and ticket). Afterwards
//! no marker, in any usual encoding, and no bearer credential appears in any file of the
//! server's data directory, in any key or value of its database, or in its log at the debug
//! level. Positive controls show that each scan does see what the server stores and logs.

// Test and tool code: a failed expectation stops the run, so it may unwrap, expect and
// panic (the workspace denies these in library code: Cargo.toml, clippy.toml).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeMap;

use base64ct::{Base64, Base64UrlUnpadded, Encoding};
use sealdesk_client::account::Account;
use sealdesk_client::admin::Admin;
use sealdesk_client::attachments::{InMemoryFile, download_to_vec, reporter_bearer, upload};
use sealdesk_client::content::{Content, Outgoing, StatusChange, Text};
use sealdesk_client::directory::fetch_verified;
use sealdesk_client::reporter::{Opening, ReporterTicket, TicketLink};
use sealdesk_client::transport::{NativeTransport, Request, Transport};
use sealdesk_crypto::{
    Identity, IdentitySeed, Keyring, MasterKey, SnippetContent, TicketId, Zeroizing, generate_salt,
    system_rng,
};
use sealdesk_system_tests::{
    CHEAP, FIRST_ADMIN_SEED, Persistent, ServerOptions, b64, files_under, run_cli, runtime,
};
use serde_json::json;

/// The markers of one run: `<prefix><field>`, with a random prefix.
struct Markers {
    prefix: String,
    fields: Vec<String>,
}

impl Markers {
    fn new() -> Self {
        let random = TicketId::generate(&mut system_rng()).to_hex();
        Markers {
            prefix: format!("mk{}", &random[..14]),
            fields: Vec::new(),
        }
    }

    /// The marker of `field` (letters, digits and `-`: valid in an email's local part).
    fn mark(&mut self, field: &str) -> String {
        let marker = format!("{}-{field}", self.prefix);
        self.fields.push(marker.clone());
        marker
    }
}

/// The forms in which `text` could end up stored or logged: as is (any case), and base64 or
/// base64url-encoded at each of the three alignments.
fn encodings(text: &str) -> Vec<(String, Vec<u8>)> {
    let bytes = text.as_bytes();
    let mut forms = vec![("as is".to_owned(), text.to_ascii_lowercase().into_bytes())];
    for start in 0..3 {
        let aligned = &bytes[start..start + 3 * ((bytes.len() - start) / 3)];
        forms.push((
            format!("base64 from byte {start}"),
            Base64::encode_string(aligned).into_bytes(),
        ));
        forms.push((
            format!("base64url from byte {start}"),
            Base64UrlUnpadded::encode_string(aligned).into_bytes(),
        ));
    }
    forms
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// Which form of `text` occurs in `data` (the "as is" form case-insensitively).
fn find(data: &[u8], text: &str) -> Option<String> {
    let lowered = data.to_ascii_lowercase();
    encodings(text).into_iter().find_map(|(form, needle)| {
        let haystack = if form == "as is" { &lowered } else { data };
        contains(haystack, &needle).then_some(form)
    })
}

/// Bytes of a file that carries `marker` many times between other bytes.
fn file_with(marker: &str) -> Vec<u8> {
    let mut data = Vec::new();
    let mut state = 0x9e37_79b9_u32;
    while data.len() < 100_000 {
        data.extend_from_slice(marker.as_bytes());
        for _ in 0..997 {
            state ^= state << 13;
            state ^= state >> 17;
            state ^= state << 5;
            data.push(state as u8);
        }
    }
    data
}

/// Registers `username` with a keyring holding `app_data` (the client library registers
/// with `{}`; the web client keeps its settings there), as `Account::register` does.
async fn register_with_app_data<T: Transport>(
    transport: &T,
    username: &str,
    password: &str,
    app_data: &[u8],
) {
    let mut rng = system_rng();
    let seed = IdentitySeed::generate(&mut rng);
    let identity = Identity::from_seed(&seed);
    let salt = generate_salt(&mut rng);
    let master = MasterKey::derive(password.as_bytes(), &salt, CHEAP).expect("derive");
    let keyring = Keyring {
        identity_seed: seed,
        app_data: Zeroizing::new(app_data.to_vec()),
    };
    let sealed = master.keyring_key().seal(&keyring, &mut rng).expect("seal");
    let auth_key = master.auth_key();
    let proof = identity.sign_identity_proof(username, &auth_key.server_hash());
    let body = json!({
        "username": username,
        "salt": b64(&salt),
        "argon2": {
            "memory_kib": CHEAP.memory_kib,
            "iterations": CHEAP.iterations,
            "parallelism": CHEAP.parallelism,
        },
        "auth_key": b64(auth_key.as_bytes()),
        "keyring": b64(&sealed),
        "identity": b64(&identity.public().to_bytes()),
        "identity_proof": b64(&proof),
    });
    transport
        .send(Request::post("/api/v1/accounts/register", body))
        .await
        .expect("register")
        .check()
        .expect("registered");
}

#[test]
fn no_marker_reaches_the_data_directory_or_the_log() {
    let mut markers = Markers::new();
    let mut server = Persistent::start(ServerOptions {
        log_level: "debug".into(),
        ..ServerOptions::default()
    });
    // Secrets that must not be stored or logged either: bearer credentials and the ticket
    // links' fragments.
    let mut secrets: Vec<(String, String)> = Vec::new();
    let control_username = format!("ctl{}", &markers.prefix[2..]);
    let mut ticket_ids = Vec::new();

    runtime().block_on(async {
        let transport = NativeTransport::new(server.base());
        let directory = fetch_verified(&transport, None).await.expect("directory");
        let mut rng = system_rng();

        // The first administrator signs in with a marked password.
        let root_password = markers.mark("root-password");
        let account = Account::register_with_seed(
            &transport,
            "root",
            &root_password,
            CHEAP,
            IdentitySeed::from_bytes(FIRST_ADMIN_SEED),
            &mut rng,
        )
        .await
        .expect("register the administrator");
        let mut root = Admin::new(&transport, account, None)
            .await
            .expect("an administrator");
        secrets.push((
            "the administrator's session".into(),
            root.account().session().to_owned(),
        ));

        // The reporter fills in every field of the form.
        let debug = BTreeMap::from([
            (
                markers.mark("debug-key-one"),
                markers.mark("debug-value-one"),
            ),
            ("user_agent".to_owned(), markers.mark("debug-user-agent")),
            (
                "url".to_owned(),
                format!("https://example.org/{}", markers.mark("debug-url")),
            ),
        ]);
        let opening = Opening {
            subject: markers.mark("subject"),
            text: markers.mark("message"),
            category: Some(markers.mark("category")),
            name: Some(markers.mark("name")),
            email: Some(format!("{}@example.org", markers.mark("email"))),
            urgent: true,
            notify_email: Some(format!("{}@example.org", markers.mark("notify-email"))),
            debug: Some(debug.clone()),
        };
        let mut ticket =
            ReporterTicket::create(&transport, &directory, opening.clone(), 10, &mut rng)
                .await
                .expect("create");
        let id = ticket.link().ticket_id();
        ticket_ids.push(id);
        let path = ticket.link().path();
        let fragment = path.split_once('#').expect("fragment").1.to_owned();
        secrets.push(("the ticket link's secret".into(), fragment));
        let bearer = reporter_bearer(ticket.link()).expect("bearer");
        secrets.push(("the reporter's access token".into(), bearer.clone()));

        // A file with a marked name, type and contents.
        let contents = file_with(&markers.mark("file-contents"));
        let file_name = format!("{}.log", markers.mark("file-name"));
        let mime_type = format!("text/x-{}", markers.mark("file-type"));
        let reference = upload(
            &transport,
            &bearer,
            id,
            InMemoryFile {
                name: &file_name,
                mime_type: &mime_type,
                data: &contents,
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
                Content::AttachmentRef(reference.clone()),
                &mut rng,
            )
            .await
            .expect("post the reference");
        ticket
            .reply(&transport, &directory, &markers.mark("reply"), 12, &mut rng)
            .await
            .expect("reply");

        // The administrator answers, notes, closes and reopens, each with a display name.
        let mut read = root.read_ticket(&transport, id).await.expect("read");
        let answer = markers.mark("admin-reply");
        let signed = markers.mark("admin-reply-author");
        root.reply(
            &transport,
            &mut read,
            Outgoing::new(&answer, 13).with_author(Some(signed)),
            &mut rng,
        )
        .await
        .expect("answer");
        let note = markers.mark("admin-note");
        let note_author = markers.mark("admin-note-author");
        root.note(
            &transport,
            &mut read,
            Outgoing::new(&note, 14).with_author(Some(note_author)),
            &mut rng,
        )
        .await
        .expect("note");
        // A canned reply (PROTOCOL.md §18), written and then edited: both versions' texts.
        let canned_id = root
            .save_canned_reply(
                &transport,
                None,
                &SnippetContent {
                    title: markers.mark("canned-title"),
                    body: markers.mark("canned-body"),
                },
                &mut rng,
            )
            .await
            .expect("canned reply");
        root.save_canned_reply(
            &transport,
            Some(canned_id),
            &SnippetContent {
                title: markers.mark("canned-title-edited"),
                body: markers.mark("canned-body-edited"),
            },
            &mut rng,
        )
        .await
        .expect("canned reply edited");
        for (content, field) in [
            (
                Content::Close as fn(StatusChange) -> Content,
                "close-author",
            ),
            (Content::Reopen, "reopen-author"),
        ] {
            let change = StatusChange {
                sent_at: 15,
                author: Some(markers.mark(field)),
            };
            root.send(&transport, &mut read, content(change), &mut rng)
                .await
                .expect("status change");
        }

        // Everything arrives: the markers were really sent, encrypted.
        let link = TicketLink::parse(&path).expect("link");
        let reopened = ReporterTicket::open(&transport, &directory, link)
            .await
            .expect("open");
        assert_eq!(reopened.messages.len(), 7);
        assert!(reopened.messages.iter().all(|m| m.content.is_ok()));
        match &reopened.messages[0].content {
            Ok(Content::Message(Text { subject, name, .. })) => {
                assert_eq!(subject.as_ref(), Some(&opening.subject));
                assert_eq!(name, &opening.name);
            }
            other => panic!("first message: {other:?}"),
        }
        match &reopened.messages[1].content {
            Ok(Content::DebugData(data)) => assert_eq!(data.fields, debug),
            other => panic!("debug data: {other:?}"),
        }
        match &reopened.messages[4].content {
            Ok(Content::Message(text)) => assert_eq!(text.text, answer),
            other => panic!("the answer: {other:?}"),
        }
        let downloaded = download_to_vec(&transport, &bearer, id, &reference, |_, _| {})
            .await
            .expect("download");
        assert!(*downloaded == contents);
        let again = root.read_ticket(&transport, id).await.expect("read again");
        match &again.notes[0].content {
            Ok(Content::InternalNote(text)) => assert_eq!(text.text, note),
            other => panic!("the note: {other:?}"),
        }

        // An account whose keyring carries application data, a password change, a ticket.
        let username = "casey";
        let password = markers.mark("account-password");
        let app_data = format!(r#"{{"draft":"{}"}}"#, markers.mark("keyring-app-data"));
        register_with_app_data(&transport, username, &password, app_data.as_bytes()).await;
        let mut account = Account::login(&transport, username, &password, CHEAP)
            .await
            .expect("login");
        assert_eq!(account.app_data(), app_data.as_bytes());
        let new_password = markers.mark("account-new-password");
        account
            .change_password(&transport, &password, &new_password, CHEAP, &mut rng)
            .await
            .expect("change the password");
        let account = Account::login(&transport, username, &new_password, CHEAP)
            .await
            .expect("login with the new password");
        assert_eq!(account.app_data(), app_data.as_bytes());
        secrets.push(("the account's session".into(), account.session().to_owned()));
        let opening = Opening {
            subject: markers.mark("account-subject"),
            text: markers.mark("account-message"),
            name: Some(markers.mark("account-name")),
            debug: Some(BTreeMap::from([(
                "os".to_owned(),
                markers.mark("account-debug"),
            )])),
            ..Opening::default()
        };
        let mut own = account
            .create_ticket(&transport, &directory, opening, 20, &mut rng)
            .await
            .expect("an account's ticket");
        ticket_ids.push(own.ticket_id());
        own.reply(
            &transport,
            &account,
            &directory,
            &markers.mark("account-reply"),
            21,
            &mut rng,
        )
        .await
        .expect("reply");

        // The positive control of the database scans: a username is stored as it is.
        Account::register(&transport, &control_username, "control", CHEAP, &mut rng)
            .await
            .expect("the control account");
    });

    // The server stops as an operator stops it; everything is on disk.
    server.stop();
    let mut leaks = Vec::new();
    let mut scan = |place: &str, data: &[u8]| {
        for marker in &markers.fields {
            if let Some(form) = find(data, marker) {
                leaks.push(format!("{marker} ({form}) in {place}"));
            }
        }
        if let Some(form) = find(data, &markers.prefix) {
            leaks.push(format!("the marker prefix ({form}) in {place}"));
        }
        for (what, secret) in &secrets {
            if contains(data, secret.as_bytes()) {
                leaks.push(format!("{what} in {place}"));
            }
        }
    };

    // Every file of the data directory, byte for byte.
    let files = files_under(server.data_dir());
    assert!(!files.is_empty());
    let mut control_in_files = false;
    for file in &files {
        let data = std::fs::read(file).expect("read a stored file");
        control_in_files |= contains(&data, control_username.as_bytes());
        scan(&file.display().to_string(), &data);
    }

    // Every key and value of every tree of the database (in case the files were encoded).
    let db = sled::Config::new()
        .path(server.data_dir())
        .flush_every_ms(None)
        .open()
        .expect("open the database");
    let mut control_in_db = false;
    let mut records = 0;
    for name in db.tree_names() {
        let tree = db.open_tree(&name).expect("tree");
        let label = String::from_utf8_lossy(&name).into_owned();
        for item in tree.iter() {
            let (key, value) = item.expect("record");
            records += 1;
            control_in_db |= contains(&key, control_username.as_bytes())
                || contains(&value, control_username.as_bytes());
            scan(&format!("a key of tree {label}"), &key);
            scan(&format!("a value of tree {label}"), &value);
        }
    }
    drop(db);

    // The log, at the debug level, of the whole run.
    let log = server.log();
    scan("the server's log", log.as_bytes());

    assert!(
        leaks.is_empty(),
        "plaintext or credentials reached the server:\n{}",
        leaks.join("\n")
    );
    assert!(
        control_in_files,
        "the file scan does not see what the server stores"
    );
    assert!(control_in_db, "the database scan does not see the username");
    assert!(records > 20, "{records} records");
    // The log's positive control: every request's access line (no event of this scenario
    // is at the debug level itself; the filter lets everything up to it through).
    let answered = log.matches("answered status=").count();
    assert!(answered > 40, "{answered} access lines:\n{log}");
    for id in &ticket_ids {
        assert!(
            log.contains(&id.to_hex()),
            "the log names ticket {}",
            id.to_hex()
        );
    }
    // Everything this scenario stored (replies, notes, status changes, attachments, an
    // account's ticket) passes the server's own verification (README.md, "Damaged data").
    let data_dir = server.data_dir().to_str().expect("a UTF-8 path").to_owned();
    let report = run_cli(&["check"], &[("SEALDESK_DATA_DIR", &data_dir)], None).ok();
    assert!(report.contains("check passed"), "{report}");
    assert!(report.contains("attachments: 1\n"), "{report}");
}

#[test]
fn the_scan_finds_a_marker_in_every_form() {
    let marker = "mk0123456789abcd-subject";
    let embedded = |prefix: &str| format!("{prefix}{marker}, and more").into_bytes();
    for prefix in ["", "a", "ab", "abc"] {
        let data = embedded(prefix);
        assert_eq!(find(&data, marker).as_deref(), Some("as is"));
        assert_eq!(
            find(&data.to_ascii_uppercase(), marker).as_deref(),
            Some("as is")
        );
        let standard = Base64::encode_string(&data);
        assert!(find(standard.as_bytes(), marker).is_some(), "{prefix:?}");
        let url = Base64UrlUnpadded::encode_string(&data);
        assert!(find(url.as_bytes(), marker).is_some(), "{prefix:?}");
    }
    assert_eq!(find(b"mk0123456789abcd-subjec", marker), None);
}
