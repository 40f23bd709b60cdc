//! Deleting a ticket (spec/API.md, "Deleting a ticket"): only an administrator, only a closed
//! ticket, and afterwards nothing of it remains in the storage: every tree of the stopped
//! server's database is scanned for the ticket id (raw and hex), its access token hash, and
//! the bytes of its messages. The retention option deletes tickets closed for longer.

// Test and tool code: a failed expectation stops the run, so it may unwrap, expect and
// panic (the workspace denies these in library code: Cargo.toml, clippy.toml).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;

use base64ct::{Base64UrlUnpadded, Encoding};
use std::time::{Duration, Instant};

use sealdesk_client::attachments::{InMemoryFile, reporter_bearer, upload};
use sealdesk_client::content::{Content, Outgoing};
use sealdesk_client::directory::fetch_verified;
use sealdesk_client::reporter::{Opening, ReporterTicket};
use sealdesk_client::transport::{NativeTransport, Request, Transport};
use sealdesk_crypto::{AccessToken, system_rng};
use sealdesk_system_tests::{Persistent, ServerOptions, first_admin, runtime};

fn opening(subject: &str) -> Opening {
    Opening {
        subject: subject.into(),
        text: "Details inside.".into(),
        ..Opening::default()
    }
}

/// Opens the stopped server's database (without sled's flusher, so the lock goes with it).
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

/// Every (tree, key) of the database whose key or value contains one of `needles`.
fn occurrences(db: &sled::Db, needles: &[Vec<u8>]) -> Vec<String> {
    let mut found = Vec::new();
    for name in db.tree_names() {
        let tree = db.open_tree(&name).expect("tree");
        for item in tree.iter() {
            let (key, value) = item.expect("entry");
            for needle in needles {
                let contains = |hay: &[u8]| hay.windows(needle.len()).any(|w| w == &needle[..]);
                if contains(&key) || contains(&value) {
                    found.push(format!(
                        "{} / {}",
                        String::from_utf8_lossy(&name),
                        hex(&key)
                    ));
                }
            }
        }
    }
    found
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// What identifies a ticket in the storage: its id and its access token hash (raw, and as
/// JSON arrays; the id in hex too), and the 48 bytes of the ciphertext of each of its messages.
async fn traces(
    transport: &NativeTransport,
    ticket: &ReporterTicket,
    bearer: &str,
) -> Vec<Vec<u8>> {
    let id = ticket.link().ticket_id();
    let token = AccessToken::from_base64url(bearer).expect("token");
    let mut needles = vec![
        id.0.to_vec(),
        id.to_hex().into_bytes(),
        token.hash().to_vec(),
    ];
    let answer = transport
        .send(
            Request::get(format!("/api/v1/tickets/{}/messages?chain=0", id.to_hex()))
                .bearer(Some(bearer)),
        )
        .await
        .expect("messages");
    assert_eq!(answer.status, 200);
    let body: serde_json::Value = serde_json::from_slice(&answer.body).expect("json");
    for message in body["messages"].as_array().expect("messages") {
        let text = message["message"].as_str().expect("message");
        let bytes = Base64UrlUnpadded::decode_vec(text).expect("base64url");
        // Past the 135-byte header (which holds the id): ciphertext only.
        needles.push(bytes[140..188].to_vec());
    }
    needles
}

async fn delete(transport: &NativeTransport, id: &str, bearer: Option<&str>) -> (u16, String) {
    let answer = transport
        .send(Request::delete(format!("/api/v1/tickets/{id}")).bearer(bearer))
        .await
        .expect("request");
    let code = serde_json::from_slice::<serde_json::Value>(&answer.body)
        .map(|v| v["error"].as_str().unwrap_or_default().to_owned())
        .unwrap_or_default();
    (answer.status, code)
}

#[test]
fn a_deleted_closed_ticket_leaves_nothing_in_the_storage() {
    let mut server = Persistent::start(ServerOptions::default());
    let (doomed, kept) = runtime().block_on(async {
        let transport = NativeTransport::new(server.base());
        let directory = fetch_verified(&transport, None).await.expect("directory");
        let mut rng = system_rng();
        let mut root = first_admin(&transport).await;
        let mut doomed =
            ReporterTicket::create(&transport, &directory, opening("Delete me"), 1, &mut rng)
                .await
                .expect("create");
        let kept = ReporterTicket::create(&transport, &directory, opening("Keep me"), 1, &mut rng)
            .await
            .expect("create");
        let bearer = reporter_bearer(doomed.link()).expect("bearer");
        let kept_bearer = reporter_bearer(kept.link()).expect("bearer");
        let id = doomed.link().ticket_id();
        let hex_id = id.to_hex();

        // An attachment (record and chunks), a reply, an internal note: every kind of record.
        let data: Vec<u8> = (0..70_000u32).map(|i| (i * 7 % 251) as u8).collect();
        let reference = upload(
            &transport,
            &bearer,
            id,
            InMemoryFile {
                name: "log.txt",
                mime_type: "text/plain",
                data: &data,
            },
            2,
            |_, _| {},
            &mut rng,
        )
        .await
        .expect("upload");
        doomed
            .send(
                &transport,
                &directory,
                Content::AttachmentRef(reference),
                &mut rng,
            )
            .await
            .expect("reference");
        let mut read = root.read_ticket(&transport, id).await.expect("read");
        root.reply(
            &transport,
            &mut read,
            Outgoing::new("Looking.", 3),
            &mut rng,
        )
        .await
        .expect("reply");
        root.note(
            &transport,
            &mut read,
            Outgoing::new("Internal.", 4),
            &mut rng,
        )
        .await
        .expect("note");
        let session = root.account().session().to_owned();

        // Only administrators, only closed tickets; a refusal changes nothing.
        assert_eq!(delete(&transport, &hex_id, None).await.0, 401);
        assert_eq!(delete(&transport, &hex_id, Some(&bearer)).await.0, 401);
        assert_eq!(
            delete(&transport, &hex_id, Some(&session)).await,
            (409, "not_closed".into())
        );
        assert_eq!(delete(&transport, "zz", Some(&session)).await.0, 404);
        root.send(&transport, &mut read, Content::close(5), &mut rng)
            .await
            .expect("close");
        let needles = traces(&transport, &doomed, &bearer).await;
        let kept_needles = traces(&transport, &kept, &kept_bearer).await;
        assert_eq!(
            delete(&transport, &hex_id, Some(&session)).await,
            (204, String::new())
        );
        assert_eq!(
            delete(&transport, &hex_id, Some(&session)).await,
            (404, "not_found".into())
        );
        let gone = transport
            .send(Request::get(format!("/api/v1/tickets/{hex_id}")).bearer(Some(&bearer)))
            .await
            .expect("request");
        assert_eq!(gone.status, 404);
        let inbox = root.inbox(&transport, None, 0).await.expect("inbox");
        assert_eq!(inbox.tickets.len(), 1, "only the kept ticket is listed");
        (needles, kept_needles)
    });
    server.stop();
    let db = open_database(server.data_dir());
    assert_eq!(
        occurrences(&db, &doomed),
        Vec::<String>::new(),
        "nothing of the deleted ticket remains"
    );
    // The scan finds what is there: every trace of the kept ticket (its id in hex and its raw
    // token hash are stored nowhere, so they are left out).
    for (_, needle) in kept
        .iter()
        .enumerate()
        .filter(|(index, _)| *index != 1 && *index != 2)
    {
        assert!(
            !occurrences(&db, std::slice::from_ref(needle)).is_empty(),
            "kept trace {}",
            hex(needle)
        );
    }
}

/// The retention task (started with the server when `retention_days` is set, then hourly)
/// deletes a ticket closed for longer than that, and keeps a closed ticket that is more recent.
#[test]
fn retention_deletes_tickets_closed_for_longer_at_start_up() {
    let mut server = Persistent::start(ServerOptions {
        env: vec![("SEALDESK_RETENTION_DAYS".into(), "30".into())],
        ..ServerOptions::default()
    });
    let (old, recent) = runtime().block_on(async {
        let transport = NativeTransport::new(server.base());
        let directory = fetch_verified(&transport, None).await.expect("directory");
        let mut rng = system_rng();
        let mut ids = Vec::new();
        let mut bearers = Vec::new();
        for subject in ["Old", "Recent"] {
            let mut ticket =
                ReporterTicket::create(&transport, &directory, opening(subject), 1, &mut rng)
                    .await
                    .expect("create");
            ticket
                .send(&transport, &directory, Content::close(2), &mut rng)
                .await
                .expect("close");
            ids.push(ticket.link().ticket_id());
            bearers.push(reporter_bearer(ticket.link()).expect("bearer"));
        }
        ((ids[0], bearers[0].clone()), (ids[1], bearers[1].clone()))
    });
    let ((old, old_bearer), (recent, recent_bearer)) = (old, recent);
    server.stop();
    {
        // Age the first ticket: its last activity 31 days ago, 29 days for the second.
        let db = open_database(server.data_dir());
        let tickets = db.open_tree("tickets").expect("tickets");
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .expect("clock")
            .as_secs();
        for (id, days) in [(old, 31), (recent, 29)] {
            let bytes = tickets.get(id.0).expect("read").expect("the record");
            let mut record: serde_json::Value = serde_json::from_slice(&bytes).expect("json");
            record["last_activity"] = (now - days * 86_400).into();
            tickets
                .insert(id.0, serde_json::to_vec(&record).expect("json"))
                .expect("write");
        }
        // The records were edited behind the ticket indexes' back: mark the directory as one
        // written before the indexes (schema version 1), so that the server rebuilds them.
        db.open_tree("meta")
            .expect("meta")
            .insert(b"schema_version", &1u32.to_be_bytes()[..])
            .expect("write");
        db.flush().expect("flush");
    }
    server.restart();
    // The task runs at start-up: the old ticket answers 404 soon, the recent one stays.
    let status = |id: sealdesk_crypto::TicketId, bearer: &str| {
        runtime().block_on(async {
            NativeTransport::new(server.base())
                .send(Request::get(format!("/api/v1/tickets/{}", id.to_hex())).bearer(Some(bearer)))
                .await
                .expect("request")
                .status
        })
    };
    let deadline = Instant::now() + Duration::from_secs(10);
    while status(old, &old_bearer) != 404 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(100));
    }
    assert_eq!(status(old, &old_bearer), 404, "the old ticket is deleted");
    assert_eq!(
        status(recent, &recent_bearer),
        200,
        "the recent one is kept"
    );
    server.stop();
    let db = open_database(server.data_dir());
    assert_eq!(
        occurrences(
            &db,
            &[old.0.to_vec(), serde_json::to_vec(&old.0).expect("json")]
        ),
        Vec::<String>::new()
    );
}
