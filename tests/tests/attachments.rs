//! Attachments through the native client against the real server: encrypted and uploaded in
//! chunks with progress, announced as a kind-3 message, downloaded from a re-opened ticket and
//! decrypted byte for byte; a damaged download (cut short, extended, altered) is refused with
//! its own code.

// Test and tool code: a failed expectation stops the run, so it may unwrap, expect and
// panic (the workspace denies these in library code: Cargo.toml, clippy.toml).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::cell::RefCell;

use sealdesk_client::attachments::{
    AttachmentFile, InMemoryFile, Uploader, download, download_to_vec, reporter_bearer, upload,
    upload_chunk_count,
};
use sealdesk_client::content::{AttachmentRef, Content};
use sealdesk_client::directory::fetch_verified;
use sealdesk_client::reporter::{Opening, ReporterTicket, TicketLink};
use sealdesk_client::transport::{Method, NativeTransport, Request, Response, Transport};
use sealdesk_client::{ClientError, Result};
use sealdesk_crypto::{Kind, encrypted_len, system_rng};
use sealdesk_system_tests::Instance;

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime")
}

fn opening() -> Opening {
    Opening {
        subject: "Crash report".into(),
        text: "The trace is attached.".into(),
        ..Opening::default()
    }
}

/// `len` bytes that are not all alike.
fn file(len: usize) -> Vec<u8> {
    let mut state = 0x2545_f491_u32;
    (0..len)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 17;
            state ^= state << 5;
            state as u8
        })
        .collect()
}

const SIZE: usize = 150_000;

#[test]
fn a_150_kb_attachment_round_trips_through_a_reference_message() {
    let instance = Instance::start();
    runtime().block_on(async {
        let transport = NativeTransport::new(&instance.base);
        let directory = fetch_verified(&transport, None).await.expect("directory");
        let mut rng = system_rng();
        let mut ticket = ReporterTicket::create(&transport, &directory, opening(), 10, &mut rng)
            .await
            .expect("create");
        let id = ticket.link().ticket_id();
        let bearer = reporter_bearer(ticket.link()).expect("bearer");
        let data = file(SIZE);

        let mut calls = Vec::new();
        let reference = upload(
            &transport,
            &bearer,
            id,
            InMemoryFile {
                name: "trace.bin",
                mime_type: "application/octet-stream",
                data: &data,
            },
            20,
            |sent, total| calls.push((sent, total)),
            &mut rng,
        )
        .await
        .expect("upload");
        let total = encrypted_len(SIZE as u64).expect("size");
        assert_eq!(total, 150_064);
        assert_eq!(reference.size, SIZE as u64);
        assert_eq!(reference.encrypted_size, total);
        assert_eq!(reference.name, "trace.bin");
        assert_eq!(reference.sent_at, 20);
        assert_eq!(calls.len() as u64, upload_chunk_count(total));
        assert!(calls.iter().all(|&(_, t)| t == total));
        assert!(calls.windows(2).all(|w| w[0].0 < w[1].0), "{calls:?}");
        assert_eq!(
            calls.last(),
            Some(&(total, total)),
            "progress reaches the total"
        );

        ticket
            .send(
                &transport,
                &directory,
                Content::AttachmentRef(reference.clone()),
                &mut rng,
            )
            .await
            .expect("post the reference");

        // Another browser opens the link, finds the reference and decrypts the file.
        let link = TicketLink::parse(&ticket.link().path()).expect("link");
        let reopened = ReporterTicket::open(&transport, &directory, link)
            .await
            .expect("open");
        let shown = reopened
            .messages
            .iter()
            .find(|m| m.kind == Kind::AttachmentRef)
            .expect("the reference message");
        let Ok(Content::AttachmentRef(received)) = &shown.content else {
            panic!("reference content: {:?}", shown.content);
        };
        assert_eq!(*received, reference);
        let bearer = reporter_bearer(reopened.link()).expect("bearer");
        let mut plain = Vec::new();
        let mut progress = Vec::new();
        download(
            &transport,
            &bearer,
            id,
            received,
            |piece| plain.extend_from_slice(piece),
            |done, size| progress.push((done, size)),
        )
        .await
        .expect("download");
        assert!(plain == data, "decrypted byte for byte");
        assert_eq!(progress.last(), Some(&(SIZE as u64, SIZE as u64)));
        assert!(progress.windows(2).all(|w| w[0].0 < w[1].0));
    });
}

#[test]
fn uploads_in_pieces_and_empty_files() {
    let instance = Instance::start();
    runtime().block_on(async {
        let transport = NativeTransport::new(&instance.base);
        let directory = fetch_verified(&transport, None).await.expect("directory");
        let mut rng = system_rng();
        let ticket = ReporterTicket::create(&transport, &directory, opening(), 10, &mut rng)
            .await
            .expect("create");
        let id = ticket.link().ticket_id();
        let bearer = reporter_bearer(ticket.link()).expect("bearer");

        // Pieces that straddle the 64 KiB chunks, as a file read in slices.
        let data = file(3 * 65_536 + 1);
        let mut last = (0, 0);
        let mut uploader = Uploader::start(
            &transport,
            &bearer,
            id,
            AttachmentFile {
                name: "pieces.bin".into(),
                mime_type: "application/octet-stream".into(),
                size: data.len() as u64,
            },
            |sent, total| last = (sent, total),
            &mut rng,
        )
        .await
        .expect("declare");
        for piece in data.chunks(10_007) {
            uploader.push(piece).await.expect("push");
        }
        let reference = uploader.finish(30).await.expect("finish");
        assert_eq!(last, (reference.encrypted_size, reference.encrypted_size));
        let plain = download_to_vec(&transport, &bearer, id, &reference, |_, _| {})
            .await
            .expect("download");
        assert!(plain.as_slice() == data.as_slice());

        let empty = upload(
            &transport,
            &bearer,
            id,
            InMemoryFile {
                name: "empty.txt",
                mime_type: "text/plain",
                data: &[],
            },
            40,
            |_, _| {},
            &mut rng,
        )
        .await
        .expect("upload an empty file");
        assert_eq!(empty.encrypted_size, 32);
        let plain = download_to_vec(&transport, &bearer, id, &empty, |_, _| {})
            .await
            .expect("download an empty file");
        assert!(plain.is_empty());

        // Another ticket's token does not open this ticket's attachments.
        let other = ReporterTicket::create(&transport, &directory, opening(), 10, &mut rng)
            .await
            .expect("another ticket");
        let other_bearer = reporter_bearer(other.link()).expect("bearer");
        let error = download_to_vec(&transport, &other_bearer, id, &reference, |_, _| {})
            .await
            .expect_err("another ticket's token");
        assert_eq!(error.code, "server.not_found");
        let error = download_to_vec(
            &transport,
            &other_bearer,
            other.link().ticket_id(),
            &reference,
            |_, _| {},
        )
        .await
        .expect_err("not this ticket's attachment");
        assert_eq!(error.code, "server.not_found");
    });
}

/// An edit of a downloaded attachment's bytes.
type Edit = Box<dyn Fn(&mut Vec<u8>)>;

/// A transport that edits the server's answers to attachment downloads.
struct Tampering<'a> {
    inner: &'a NativeTransport,
    edit: RefCell<Edit>,
}

impl Transport for Tampering<'_> {
    async fn send(&self, request: Request) -> Result<Response> {
        let is_download = request.method == Method::Get && request.path.contains("/attachments/");
        let mut response = self.inner.send(request).await?;
        if is_download && response.status == 200 {
            (self.edit.borrow())(&mut response.body);
        }
        Ok(response)
    }
}

#[test]
fn a_damaged_download_is_refused() {
    let instance = Instance::start();
    runtime().block_on(async {
        let transport = NativeTransport::new(&instance.base);
        let directory = fetch_verified(&transport, None).await.expect("directory");
        let mut rng = system_rng();
        let ticket = ReporterTicket::create(&transport, &directory, opening(), 10, &mut rng)
            .await
            .expect("create");
        let id = ticket.link().ticket_id();
        let bearer = reporter_bearer(ticket.link()).expect("bearer");
        let data = file(SIZE);
        let reference = upload(
            &transport,
            &bearer,
            id,
            InMemoryFile {
                name: "trace.bin",
                mime_type: "application/octet-stream",
                data: &data,
            },
            20,
            |_, _| {},
            &mut rng,
        )
        .await
        .expect("upload");

        let cases: Vec<(&str, Edit, &str)> = vec![
            (
                "the last bytes dropped",
                Box::new(|body: &mut Vec<u8>| body.truncate(body.len() - 100)),
                "attachment.truncated",
            ),
            (
                "the whole last chunk dropped",
                Box::new(|body: &mut Vec<u8>| body.truncate(16 + 2 * 65_552)),
                "attachment.truncated",
            ),
            (
                "bytes appended",
                Box::new(|body: &mut Vec<u8>| body.extend_from_slice(&[0; 16])),
                "attachment.trailing_data",
            ),
            (
                "a byte altered",
                Box::new(|body: &mut Vec<u8>| body[100_000] ^= 0x80),
                "decryption_failed",
            ),
            (
                "two chunks swapped",
                Box::new(|body: &mut Vec<u8>| {
                    let (first, second) = body[16..16 + 2 * 65_552].split_at_mut(65_552);
                    first.swap_with_slice(second);
                }),
                "decryption_failed",
            ),
        ];
        for (name, edit, code) in cases {
            let tampering = Tampering {
                inner: &transport,
                edit: RefCell::new(edit),
            };
            let mut kept = 0;
            let error: ClientError = download(
                &tampering,
                &bearer,
                id,
                &reference,
                |piece| kept += piece.len(),
                |_, _| {},
            )
            .await
            .expect_err(name);
            assert_eq!(error.code, code, "{name}");
            assert!(kept < SIZE, "{name}: never the whole file");
            // The in-memory form hands out nothing at all.
            let tampering = Tampering {
                inner: &transport,
                edit: RefCell::new(Box::new(|body: &mut Vec<u8>| body.truncate(body.len() - 1))),
            };
            assert!(
                download_to_vec(&tampering, &bearer, id, &reference, |_, _| {})
                    .await
                    .is_err()
            );
        }

        // A reference that states a smaller file than the stored stream.
        let shorter = AttachmentRef {
            size: 65_536,
            encrypted_size: encrypted_len(65_536).expect("size"),
            ..reference.clone()
        };
        let error = download_to_vec(&transport, &bearer, id, &shorter, |_, _| {})
            .await
            .expect_err("longer than stated");
        assert_eq!(error.code, "attachment.trailing_data");

        // The untouched stream still decrypts.
        let plain = download_to_vec(&transport, &bearer, id, &reference, |_, _| {})
            .await
            .expect("download");
        assert!(plain.as_slice() == data.as_slice());
    });
}
