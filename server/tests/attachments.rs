//! Encrypted attachments against the real `sealdesk` binary: a 150 KB file encrypted as the
//! browser does (PROTOCOL.md §13) is declared, uploaded chunk by chunk, completed, downloaded
//! and decrypted; chunk lengths, duplicates, completion, access, size limits, the quota
//! reservation and the upload rate limit are enforced.

// Test and tool code: a failed expectation stops the run, so it may unwrap, expect and
// panic (the workspace denies these in library code: Cargo.toml, clippy.toml).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::sync::{Arc, Barrier};

use common::{ADMIN_SEED, Account, Desk, Ticket, b64, error_code};
use reqwest::blocking::Response;
use sealdesk_crypto::{FileKey, StreamDecryptor, StreamEncryptor, encrypted_len, system_rng};
use serde_json::{Value, json};

/// Upload chunk 0: the nonce and the first sealed chunk.
const FIRST_CHUNK: usize = 16 + 65_552;
/// Every later upload chunk: one sealed chunk.
const CHUNK: usize = 65_552;

/// A file of `len` bytes that is not all one value.
fn file(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i * 31 % 251) as u8).collect()
}

/// Encrypts `plain` as a browser does: the whole stream (nonce first).
fn encrypt(key: &FileKey, plain: &[u8]) -> Vec<u8> {
    let (mut encryptor, nonce) = StreamEncryptor::new(key, &mut system_rng());
    let mut stream = nonce.to_vec();
    // Fed in odd pieces, as a file reader would.
    for piece in plain.chunks(10_000) {
        encryptor.update(piece, &mut stream).expect("encrypt");
    }
    encryptor.finish(&mut stream).expect("finish");
    assert_eq!(
        stream.len() as u64,
        encrypted_len(plain.len() as u64).unwrap()
    );
    stream
}

fn decrypt(key: &FileKey, stream: &[u8]) -> Vec<u8> {
    let nonce: [u8; 16] = stream[..16].try_into().expect("nonce");
    let mut decryptor = StreamDecryptor::new(key, &nonce);
    let mut plain = Vec::new();
    decryptor
        .update(&stream[16..], &mut plain)
        .expect("decrypt");
    decryptor.finish(&mut plain).expect("finish");
    plain
}

/// The stream cut into upload chunks (spec/API.md, "Attachments").
fn upload_chunks(stream: &[u8]) -> Vec<&[u8]> {
    let first = FIRST_CHUNK.min(stream.len());
    let mut chunks = vec![&stream[..first]];
    chunks.extend(stream[first..].chunks(CHUNK));
    chunks
}

/// Attachment requests of one ticket, with one bearer credential.
struct Uploads<'a> {
    desk: &'a Desk,
    ticket: String,
    bearer: String,
}

impl<'a> Uploads<'a> {
    fn new(desk: &'a Desk, ticket: &Ticket) -> Self {
        Uploads {
            desk,
            ticket: ticket.id(),
            bearer: ticket.token.clone(),
        }
    }

    fn url(&self, rest: &str) -> String {
        self.desk.server.url(&format!(
            "/api/v1/tickets/{}/attachments{rest}",
            self.ticket
        ))
    }

    fn declare(&self, size: u64) -> Response {
        self.desk
            .http
            .post(self.url(""))
            .bearer_auth(&self.bearer)
            .json(&json!({ "size": size }))
            .send()
            .expect("declare")
    }

    /// Declares and returns the attachment id.
    fn declared(&self, size: u64) -> String {
        let response = self.declare(size);
        assert_eq!(response.status().as_u16(), 201, "declare");
        let body: Value = response.json().expect("json");
        let id = body["attachment_id"].as_str().expect("id").to_owned();
        assert_eq!(id.len(), 32);
        assert!(
            id.bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        );
        id
    }

    fn put(&self, attachment: &str, index: &str, bytes: &[u8]) -> Response {
        self.desk
            .http
            .put(self.url(&format!("/{attachment}/chunks/{index}")))
            .bearer_auth(&self.bearer)
            .header("content-type", "application/octet-stream")
            .body(bytes.to_vec())
            .send()
            .expect("put chunk")
    }

    fn put_ok(&self, attachment: &str, index: usize, bytes: &[u8]) {
        let response = self.put(attachment, &index.to_string(), bytes);
        assert_eq!(response.status().as_u16(), 204, "chunk {index}");
    }

    fn complete(&self, attachment: &str) -> Response {
        self.desk
            .http
            .post(self.url(&format!("/{attachment}/complete")))
            .bearer_auth(&self.bearer)
            .send()
            .expect("complete")
    }

    fn download(&self, attachment: &str) -> Response {
        self.desk
            .http
            .get(self.url(&format!("/{attachment}")))
            .bearer_auth(&self.bearer)
            .send()
            .expect("download")
    }

    /// Declares, uploads every chunk (last first) and completes; returns the id.
    fn upload(&self, stream: &[u8]) -> String {
        let attachment = self.declared(stream.len() as u64);
        for (index, chunk) in upload_chunks(stream).iter().enumerate().rev() {
            self.put_ok(&attachment, index, chunk);
        }
        assert_eq!(self.complete(&attachment).status().as_u16(), 204);
        attachment
    }

    /// Downloads a complete attachment and checks the response head.
    fn fetch(&self, attachment: &str, size: usize) -> Vec<u8> {
        let response = self.download(attachment);
        assert_eq!(response.status().as_u16(), 200);
        assert_eq!(
            response.headers()["content-type"],
            "application/octet-stream"
        );
        assert_eq!(
            response.headers()["content-length"],
            size.to_string().as_str()
        );
        response.bytes().expect("body").to_vec()
    }
}

#[test]
fn a_150_kb_file_round_trips_and_decrypts() {
    let desk = Desk::start();
    let ticket = Ticket::open(&desk);
    let uploads = Uploads::new(&desk, &ticket);

    let key = FileKey::generate(&mut system_rng());
    let plain = file(150_000);
    let stream = encrypt(&key, &plain);
    assert_eq!(stream.len(), 150_064);
    assert_eq!(
        upload_chunks(&stream)
            .iter()
            .map(|c| c.len())
            .collect::<Vec<_>>(),
        [65_568, 65_552, 18_944]
    );
    let attachment = uploads.upload(&stream);
    let downloaded = uploads.fetch(&attachment, stream.len());
    assert!(downloaded == stream, "the downloaded bytes are the stream");
    assert_eq!(decrypt(&key, &downloaded), plain);

    // Completing again changes nothing; the download is repeatable.
    assert_eq!(uploads.complete(&attachment).status().as_u16(), 204);
    assert!(uploads.fetch(&attachment, stream.len()) == stream);

    // An empty file is one chunk of nonce and tag.
    let empty = encrypt(&key, b"");
    assert_eq!(upload_chunks(&empty).len(), 1);
    let attachment = uploads.upload(&empty);
    assert_eq!(decrypt(&key, &uploads.fetch(&attachment, 32)), b"");

    // A file of exactly two full chunks.
    let plain = file(2 * 65_536);
    let stream = encrypt(&key, &plain);
    let attachment = uploads.upload(&stream);
    assert_eq!(
        decrypt(&key, &uploads.fetch(&attachment, stream.len())),
        plain
    );
}

#[test]
fn chunks_are_checked_and_written_once() {
    let desk = Desk::start();
    let ticket = Ticket::open(&desk);
    let uploads = Uploads::new(&desk, &ticket);
    let key = FileKey::generate(&mut system_rng());
    let stream = encrypt(&key, &file(150_000));
    let chunks = upload_chunks(&stream);
    let attachment = uploads.declared(stream.len() as u64);

    // Wrong lengths, for a full and for the short last chunk.
    let (status, code) = error_code(uploads.put(&attachment, "0", &chunks[0][1..]));
    assert_eq!((status, code.as_str()), (400, "bad_length"));
    let mut long = chunks[2].to_vec();
    long.push(0);
    assert_eq!(
        error_code(uploads.put(&attachment, "2", &long)),
        (400, "bad_length".into())
    );
    // The middle chunk's length is right for chunk 1 only.
    assert_eq!(
        error_code(uploads.put(&attachment, "0", chunks[1])),
        (400, "bad_length".into())
    );
    // Indices outside 0..3, or not numbers.
    for index in ["3", "18446744073709551616", "-1", "x"] {
        assert_eq!(
            error_code(uploads.put(&attachment, index, chunks[2])),
            (400, "bad_chunk_index".into()),
            "{index}"
        );
    }
    // Raw bytes only, and no more than one chunk's worth.
    let response = desk
        .http
        .put(uploads.url(&format!("/{attachment}/chunks/2")))
        .bearer_auth(&ticket.token)
        .json(&json!({"chunk": b64(chunks[2])}))
        .send()
        .expect("put");
    assert_eq!(error_code(response), (415, "content_type".into()));
    assert_eq!(
        error_code(uploads.put(&attachment, "0", &vec![0; 80_000])),
        (413, "body_too_large".into())
    );

    // Not downloadable while chunks are missing, nor completable.
    uploads.put_ok(&attachment, 0, chunks[0]);
    uploads.put_ok(&attachment, 2, chunks[2]);
    assert_eq!(
        error_code(uploads.download(&attachment)),
        (404, "not_found".into())
    );
    assert_eq!(
        error_code(uploads.complete(&attachment)),
        (409, "chunks_missing".into())
    );
    assert_eq!(
        error_code(uploads.download(&attachment)),
        (404, "not_found".into())
    );

    // A chunk is written once: the same bytes again are accepted, others are a conflict.
    uploads.put_ok(&attachment, 0, chunks[0]);
    let mut altered = chunks[0].to_vec();
    altered[100] ^= 1;
    assert_eq!(
        error_code(uploads.put(&attachment, "0", &altered)),
        (409, "conflict".into())
    );

    uploads.put_ok(&attachment, 1, chunks[1]);
    assert_eq!(uploads.complete(&attachment).status().as_u16(), 204);
    // After completion too: identical is fine, different is a conflict.
    uploads.put_ok(&attachment, 1, chunks[1]);
    assert_eq!(
        error_code(uploads.put(&attachment, "1", &altered[..CHUNK])),
        (409, "conflict".into())
    );
    assert!(uploads.fetch(&attachment, stream.len()) == stream);
}

#[test]
fn only_the_tickets_readers_reach_its_attachments() {
    let desk = Desk::start();
    let ticket = Ticket::open(&desk);
    let other = Ticket::open(&desk);
    let uploads = Uploads::new(&desk, &ticket);
    let key = FileKey::generate(&mut system_rng());
    let stream = encrypt(&key, &file(1_000));
    let attachment = uploads.upload(&stream);

    // The other ticket's token, on this ticket's paths.
    let intruder = Uploads {
        bearer: other.token.clone(),
        ..Uploads::new(&desk, &ticket)
    };
    // This ticket's attachment under the other ticket's path, with that ticket's token.
    let elsewhere = Uploads::new(&desk, &other);
    // No credential at all.
    let anonymous = Uploads {
        bearer: b64(&[0; 32]),
        ..Uploads::new(&desk, &ticket)
    };
    for who in [&intruder, &elsewhere, &anonymous] {
        assert_eq!(
            error_code(who.download(&attachment)),
            (404, "not_found".into())
        );
        assert_eq!(
            error_code(who.put(&attachment, "0", &stream)),
            (404, "not_found".into())
        );
        assert_eq!(
            error_code(who.complete(&attachment)),
            (404, "not_found".into())
        );
    }
    assert_eq!(
        error_code(intruder.declare(stream.len() as u64)),
        (404, "not_found".into())
    );
    // Unknown and malformed attachment ids.
    for id in ["00000000000000000000000000000000", "nothex", "ABCDEF"] {
        assert_eq!(error_code(uploads.download(id)), (404, "not_found".into()));
    }
    assert!(uploads.fetch(&attachment, stream.len()) == stream);
}

#[test]
fn an_administrators_session_uploads_and_downloads() {
    let desk = Desk::start();
    let ticket = Ticket::open(&desk);
    let reporter = Uploads::new(&desk, &ticket);
    let key = FileKey::generate(&mut system_rng());
    let from_reporter = encrypt(&key, &file(70_000));
    let reporters = reporter.upload(&from_reporter);

    // The administrator signs in with an account whose identity is the directory's.
    let session = admin_session(&desk);
    let admin = Uploads {
        bearer: session,
        ..Uploads::new(&desk, &ticket)
    };
    assert!(admin.fetch(&reporters, from_reporter.len()) == from_reporter);
    let from_admin = encrypt(&key, &file(5_000));
    let admins = admin.upload(&from_admin);
    assert!(reporter.fetch(&admins, from_admin.len()) == from_admin);
}

/// Registers and signs in an account for the administrator's identity; returns the session.
fn admin_session(desk: &Desk) -> String {
    let account = Account::with_app_data("admin", "password", ADMIN_SEED, b"");
    assert_eq!(account.register(desk).status().as_u16(), 201, "register");
    let response = account.login_response(desk);
    assert_eq!(response.status().as_u16(), 200, "login");
    let body: Value = response.json().expect("json");
    body["session"].as_str().expect("session").to_owned()
}

#[test]
fn sizes_are_limited_and_reserved_from_the_quota_at_declaration() {
    let desk = Desk::start_with(&[
        ("SEALDESK_MAX_ATTACHMENT_BYTES", "100000"),
        ("SEALDESK_TICKET_QUOTA_BYTES", "150000"),
    ]);
    let ticket = Ticket::open(&desk);
    let uploads = Uploads::new(&desk, &ticket);

    // Larger than an attachment may be.
    let too_large = encrypted_len(150_000).unwrap();
    assert_eq!(
        error_code(uploads.declare(too_large)),
        (413, "attachment_too_large".into())
    );
    // Sizes no file encrypts to.
    for size in [0, 31, 16 + 65_552 + 5] {
        assert_eq!(
            error_code(uploads.declare(size)),
            (400, "bad_size".into()),
            "{size}"
        );
    }
    let response = desk
        .http
        .post(uploads.url(""))
        .bearer_auth(&ticket.token)
        .json(&json!({"size": -1}))
        .send()
        .expect("declare");
    assert_eq!(error_code(response), (422, "bad_json".into()));

    // Two declarations of ~99 KB: the first reserves its size without a byte uploaded, so the
    // second does not fit in the 150,000-byte quota.
    let size = encrypted_len(99_000).unwrap();
    let first = uploads.declared(size);
    assert_eq!(
        error_code(uploads.declare(size)),
        (413, "quota_exceeded".into())
    );
    // A smaller one still fits.
    uploads.declared(encrypted_len(30_000).unwrap());
    assert_eq!(
        error_code(uploads.complete(&first)),
        (409, "chunks_missing".into())
    );
}

#[test]
fn concurrent_declarations_never_overshoot_the_quota() {
    let desk = Arc::new(Desk::start_with(&[
        ("SEALDESK_MAX_ATTACHMENT_BYTES", "100000"),
        ("SEALDESK_TICKET_QUOTA_BYTES", "150000"),
    ]));
    let ticket = Ticket::open(&desk);
    // The first message and wraps take about 1 KB; 3 of these fit, not 4.
    let size = encrypted_len(45_000).unwrap();
    let barrier = Arc::new(Barrier::new(8));
    let threads: Vec<_> = (0..8)
        .map(|_| {
            let desk = Arc::clone(&desk);
            let barrier = Arc::clone(&barrier);
            let url = desk
                .server
                .url(&format!("/api/v1/tickets/{}/attachments", ticket.id()));
            let token = ticket.token.clone();
            std::thread::spawn(move || {
                barrier.wait();
                desk.http
                    .post(url)
                    .bearer_auth(token)
                    .json(&json!({ "size": size }))
                    .send()
                    .expect("declare")
                    .status()
                    .as_u16()
            })
        })
        .collect();
    let mut statuses: Vec<u16> = threads
        .into_iter()
        .map(|t| t.join().expect("join"))
        .collect();
    statuses.sort_unstable();
    assert_eq!(statuses, [201, 201, 201, 413, 413, 413, 413, 413]);
}

#[test]
fn uploads_beyond_the_per_minute_limit_are_refused() {
    let desk = Desk::start_with(&[("SEALDESK_UPLOADS_PER_MINUTE", "3")]);
    let ticket = Ticket::open(&desk);
    let uploads = Uploads::new(&desk, &ticket);
    let key = FileKey::generate(&mut system_rng());
    let stream = encrypt(&key, &file(150_000));
    let chunks = upload_chunks(&stream);

    // The declaration and two chunks spend the allowance of 3.
    let attachment = uploads.declared(stream.len() as u64);
    uploads.put_ok(&attachment, 0, chunks[0]);
    uploads.put_ok(&attachment, 1, chunks[1]);
    let response = uploads.put(&attachment, "2", chunks[2]);
    let retry_after: u64 = response.headers()["retry-after"]
        .to_str()
        .expect("ascii")
        .parse()
        .expect("seconds");
    // One of 3 per minute comes back every 20 seconds.
    assert!((1..=20).contains(&retry_after), "{retry_after}");
    assert_eq!(error_code(response), (429, "rate_limited".into()));
    assert_eq!(
        error_code(uploads.declare(stream.len() as u64)),
        (429, "rate_limited".into())
    );
    // The refused chunk was not stored.
    assert_eq!(
        error_code(uploads.complete(&attachment)),
        (409, "chunks_missing".into())
    );

    // Another ticket's token has its own allowance.
    let other = Ticket::open(&desk);
    Uploads::new(&desk, &other).declared(32);
}
