//! Attachments (PROTOCOL.md §13, spec/API.md "Attachments"): each file is encrypted in the
//! client under its own [`FileKey`] as a chunked stream, uploaded chunk by chunk, and then
//! announced by an attachment-reference message (kind 3) that carries the key, name, type and
//! sizes. The server stores bytes it cannot read.
//!
//! Uploading ([`Uploader`], [`upload_with_retries`] to feed it a file and wait out failures,
//! or [`upload`] for bytes in memory without retries):
//!
//! 1. draw a file key and a stream nonce, declare the upload with its encrypted size
//!    (`POST /tickets/{id}/attachments {"size": encrypted_len(n)}`);
//! 2. encrypt the plaintext as it is pushed and `PUT` every sealed chunk as soon as it is known
//!    not to be the last: chunk 0 is the 16-byte nonce and the first sealed chunk (65,568 bytes
//!    when full), chunk `i` ≥ 1 the sealed chunk `i` (65,552 bytes when full). At most two
//!    chunks of ciphertext are held at any time, never the whole encrypted file;
//! 3. seal the last chunk, send it, and `POST .../complete`;
//! 4. the caller posts the returned [`AttachmentRef`] as a kind-3 message, e.g.
//!    `ticket.send(transport, directory, Content::AttachmentRef(reference), rng)`.
//!
//! Downloading ([`download`]): `GET` the stream, check its length against the reference's
//! `encrypted_size` before decrypting, then decrypt chunk by chunk. **Plaintext handed to the
//! sink before `download` returns `Ok` is authentic but may still be followed by an error (a
//! stream cut short or extended): keep it aside and do not show, save or open it until
//! `download` succeeds; discard it on error.** [`download_to_vec`] does exactly that.

use core::time::Duration;

use sealdesk_crypto::{
    CHUNK_LEN, ENCRYPTED_CHUNK_LEN, FileKey, LinkFragment, STREAM_NONCE_LEN, StreamDecryptor,
    StreamEncryptor, TicketId, Zeroizing, encrypted_len,
};
use sealdesk_wire::attachments::{AttachmentDeclared, DeclareAttachmentBody};

use crate::content::AttachmentRef;
use crate::error::{ClientError, Result};
use crate::reporter::TicketLink;
use crate::transport::{Body, Method, Request, Transport};
use crate::util::b64;

/// Full length of upload chunk 0: the stream nonce and the first sealed chunk (65,568 bytes).
pub const FIRST_UPLOAD_CHUNK_LEN: usize = STREAM_NONCE_LEN + ENCRYPTED_CHUNK_LEN;

/// Full length of upload chunk `index`.
pub fn upload_chunk_len(index: u64) -> usize {
    if index == 0 {
        FIRST_UPLOAD_CHUNK_LEN
    } else {
        ENCRYPTED_CHUNK_LEN
    }
}

/// Number of upload chunks of an encrypted stream of `encrypted_size` bytes:
/// `max(1, ceil((size − 16) / 65552))`.
pub fn upload_chunk_count(encrypted_size: u64) -> u64 {
    encrypted_size
        .saturating_sub(STREAM_NONCE_LEN as u64)
        .div_ceil(ENCRYPTED_CHUNK_LEN as u64)
        .max(1)
}

/// The bearer credential of an anonymous ticket's link (its access token, PROTOCOL.md §11),
/// for the attachment and event routes.
///
/// # Errors
/// `link.malformed` (not reachable for a parsed link).
pub fn reporter_bearer(link: &TicketLink) -> Result<String> {
    let path = link.path();
    let secret = path
        .split_once('#')
        .and_then(|(_, fragment)| LinkFragment::parse(fragment).ok())
        .map(|fragment| fragment.secret)
        .ok_or_else(|| ClientError::new("link.malformed", "This is not a Sealdesk ticket link."))?;
    Ok(secret.access_token().to_base64url())
}

fn attachments_path(ticket_id: &TicketId) -> String {
    format!("/api/v1/tickets/{}/attachments", ticket_id.to_hex())
}

/// Whether `id` is an attachment id as the API writes it: 32 lowercase hexadecimal characters.
/// Ids come from the server or from other people's messages and go into request paths.
pub fn is_attachment_id(id: &str) -> bool {
    id.len() == 32 && id.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

fn size_mismatch(declared: u64, given: u64) -> ClientError {
    ClientError::new(
        "attachment.size_mismatch",
        format!("The file was declared with {declared} bytes but {given} were given."),
    )
}

/// The file an upload declares, as its [`AttachmentRef`] will describe it (PROTOCOL.md §14,
/// kind 3).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AttachmentFile {
    /// File name.
    pub name: String,
    /// MIME type.
    pub mime_type: String,
    /// Plaintext size in bytes (what will be pushed, in all).
    pub size: u64,
}

/// A whole file in memory, for [`upload`].
#[derive(Clone, Copy, Debug)]
pub struct InMemoryFile<'a> {
    /// File name.
    pub name: &'a str,
    /// MIME type.
    pub mime_type: &'a str,
    /// The plaintext (its length is the declared size).
    pub data: &'a [u8],
}

/// An upload in progress: push the plaintext in pieces of any size, then [`Uploader::finish`].
///
/// Every sealed chunk is sent as soon as it is known not to be the last. When a request fails
/// (`network`, or `server.rate_limited` once the upload allowance is spent), the error is
/// returned and the uploader keeps the unsent ciphertext: call [`Uploader::flush`] (or
/// [`Uploader::finish`]) again later to resend it. Chunks already stored are accepted again as
/// retries. The plaintext given to a failed [`Uploader::push`] has been taken; do not push it
/// again.
pub struct Uploader<'t, T: Transport, P: FnMut(u64, u64)> {
    transport: &'t T,
    bearer: String,
    ticket_id: TicketId,
    attachment_id: String,
    key: FileKey,
    encryptor: Option<StreamEncryptor>,
    /// Ciphertext not yet acknowledged, starting at upload chunk `index`.
    pending: Vec<u8>,
    index: u64,
    sent: u64,
    pushed: u64,
    file: AttachmentFile,
    encrypted_size: u64,
    progress: P,
}

impl<'t, T: Transport, P: FnMut(u64, u64)> Uploader<'t, T, P> {
    /// Declares the upload of `file` (`file.size` plaintext bytes) to `ticket_id` with
    /// `bearer` (the ticket's access token or a session): draws the file key and the stream
    /// nonce (48 bytes) from `rng`. `progress(sent, total)` is called after every chunk
    /// the server stored, with bytes of the encrypted stream (`total` is its
    /// `encrypted_size`); the last call has `sent == total`.
    ///
    /// # Errors
    /// `attachment.too_large` for a size no stream can have; `server.attachment_too_large`,
    /// `server.quota_exceeded`, `server.rate_limited`, `server.not_found`, `network`,
    /// `bad_response`.
    pub async fn start(
        transport: &'t T,
        bearer: &str,
        ticket_id: TicketId,
        file: AttachmentFile,
        progress: P,
        rng: &mut impl sealdesk_crypto::CryptoRng,
    ) -> Result<Self> {
        let encrypted_size = encrypted_len(file.size).ok_or_else(|| {
            ClientError::new("attachment.too_large", "The file is too large to encrypt.")
        })?;
        let key = FileKey::generate(rng);
        let (encryptor, nonce) = StreamEncryptor::new(&key, rng);
        let declared: AttachmentDeclared = transport
            .send(
                Request::post_json(
                    attachments_path(&ticket_id),
                    &DeclareAttachmentBody {
                        size: encrypted_size,
                    },
                )?
                .bearer(Some(bearer)),
            )
            .await?
            .json("the attachment declaration")?;
        if !is_attachment_id(&declared.attachment_id) {
            return Err(ClientError::bad_response("the attachment declaration"));
        }
        let mut pending = Vec::with_capacity(2 * FIRST_UPLOAD_CHUNK_LEN);
        pending.extend_from_slice(&nonce);
        Ok(Uploader {
            transport,
            bearer: bearer.to_owned(),
            ticket_id,
            attachment_id: declared.attachment_id,
            key,
            encryptor: Some(encryptor),
            pending,
            index: 0,
            sent: 0,
            pushed: 0,
            file,
            encrypted_size,
            progress,
        })
    }

    /// The attachment id the server assigned.
    pub fn attachment_id(&self) -> &str {
        &self.attachment_id
    }

    /// Bytes of the encrypted stream.
    pub fn encrypted_size(&self) -> u64 {
        self.encrypted_size
    }

    /// Bytes of the encrypted stream the server has stored.
    pub fn sent(&self) -> u64 {
        self.sent
    }

    /// Encrypts the next plaintext bytes and sends every chunk that is complete.
    ///
    /// # Errors
    /// `attachment.size_mismatch` when the file grows past its declared size (nothing is
    /// taken then); `attachment.finished` after [`Uploader::finish`]; the errors of
    /// [`Uploader::flush`] (the data was taken: retry with `flush`).
    pub async fn push(&mut self, data: &[u8]) -> Result<()> {
        let Some(encryptor) = self.encryptor.as_mut() else {
            return Err(ClientError::new(
                "attachment.finished",
                "The upload is already finished.",
            ));
        };
        let total = self.pushed.saturating_add(data.len() as u64);
        if total > self.file.size {
            return Err(size_mismatch(self.file.size, total));
        }
        encryptor.update(data, &mut self.pending)?;
        self.pushed = total;
        self.flush().await
    }

    /// Sends the chunks that are ready (after a failed request: resends them).
    ///
    /// # Errors
    /// `server.rate_limited` (wait and call again), `network`, other `server.*` refusals.
    pub async fn flush(&mut self) -> Result<()> {
        loop {
            let full = upload_chunk_len(self.index);
            let len = if self.pending.len() >= full {
                full
            } else if self.encryptor.is_none() && !self.pending.is_empty() {
                self.pending.len()
            } else {
                return Ok(());
            };
            let path = format!(
                "{}/{}/chunks/{}",
                attachments_path(&self.ticket_id),
                self.attachment_id,
                self.index
            );
            let request = Request {
                method: Method::Put,
                path,
                bearer: Some(self.bearer.clone()),
                body: Some(Body::Bytes(self.pending[..len].to_vec())),
            };
            self.transport.send(request).await?.check()?;
            self.pending.drain(..len);
            self.index += 1;
            self.sent += len as u64;
            (self.progress)(self.sent, self.encrypted_size);
        }
    }

    /// Seals the last chunk, sends what is left, completes the upload and returns the
    /// reference to post (with `sent_at = now`). Can be called again after an error.
    ///
    /// # Errors
    /// `attachment.size_mismatch` when fewer bytes were pushed than declared; the errors of
    /// [`Uploader::flush`]; `server.chunks_missing`.
    pub async fn finish(&mut self, now: u64) -> Result<AttachmentRef> {
        if let Some(encryptor) = self.encryptor.take() {
            if self.pushed != self.file.size {
                let pushed = self.pushed;
                self.encryptor = Some(encryptor);
                return Err(size_mismatch(self.file.size, pushed));
            }
            encryptor.finish(&mut self.pending)?;
        }
        self.flush().await?;
        if self.sent != self.encrypted_size {
            return Err(ClientError::new(
                "attachment.size_mismatch",
                "The encrypted stream does not have its declared size.",
            ));
        }
        let path = format!(
            "{}/{}/complete",
            attachments_path(&self.ticket_id),
            self.attachment_id
        );
        let request = Request {
            method: Method::Post,
            path,
            bearer: Some(self.bearer.clone()),
            body: None,
        };
        self.transport.send(request).await?.check()?;
        Ok(AttachmentRef {
            attachment_id: self.attachment_id.clone(),
            name: self.file.name.clone(),
            mime_type: self.file.mime_type.clone(),
            size: self.file.size,
            encrypted_size: self.encrypted_size,
            key: b64(self.key.as_bytes()),
            sent_at: now,
        })
    }
}

/// Uploads `file` (a whole file in memory) as one attachment of `ticket_id`, encrypting and
/// sending it chunk by chunk; returns the reference to post as a kind-3 message.
/// `progress(sent, total)` counts bytes of the encrypted stream. Draws 48 bytes from `rng`.
///
/// # Errors
/// As [`Uploader::start`], [`Uploader::push`] and [`Uploader::finish`]; nothing is retried.
pub async fn upload<T: Transport>(
    transport: &T,
    bearer: &str,
    ticket_id: TicketId,
    file: InMemoryFile<'_>,
    now: u64,
    progress: impl FnMut(u64, u64),
    rng: &mut impl sealdesk_crypto::CryptoRng,
) -> Result<AttachmentRef> {
    let declared = AttachmentFile {
        name: file.name.to_owned(),
        mime_type: file.mime_type.to_owned(),
        size: file.data.len() as u64,
    };
    let mut uploader =
        Uploader::start(transport, bearer, ticket_id, declared, progress, rng).await?;
    for piece in file.data.chunks(CHUNK_LEN) {
        uploader.push(piece).await?;
    }
    uploader.finish(now).await
}

/// Consecutive failed requests [`upload_with_retries`] waits out before it gives up.
pub const UPLOAD_RETRIES: u32 = 10;

/// Whether a failed upload request is worth sending again after a pause: no answer
/// (`network`), `server.rate_limited` (the upload allowance, spec/API.md "Rate limits") or a
/// server error (status 5xx).
pub fn is_retryable(error: &ClientError) -> bool {
    error.code == "network"
        || error.code == "server.rate_limited"
        || error.status.is_some_and(|s| s >= 500)
}

/// The pause before retry `attempt` (from 0) of [`upload_with_retries`]: 1, 2, 4, then 8
/// seconds.
pub fn retry_delay(attempt: u32) -> Duration {
    Duration::from_secs(1 << attempt.min(3))
}

/// Feeds a file to a started [`Uploader`] and finishes it, waiting out rate limits, network
/// failures and server errors ([`is_retryable`]): up to [`UPLOAD_RETRIES`] failed requests in
/// a row, [`retry_delay`] apart; the count starts again after every piece that got through.
/// Returns the reference to post as a kind-3 message. This is the upload of the browser's
/// `uploadAttachment` and of the command line's `--attach`.
///
/// - `read(buf)` puts the next plaintext bytes into `buf` (64 KiB, [`CHUNK_LEN`]) and returns
///   how many; fewer than `buf.len()` only at the end of the file, 0 once it is read.
/// - `now()` is the reference's `sent_at`, Unix seconds, asked when the upload completes.
/// - `wait(delay)` pauses, with the platform's timer (tokio natively, `setTimeout` in the
///   browser).
///
/// # Errors
/// The first error of `read`; the errors of [`Uploader::push`] and [`Uploader::finish`] that
/// are not retryable, or the last one once the retries are spent.
pub async fn upload_with_retries<T: Transport, P: FnMut(u64, u64)>(
    uploader: &mut Uploader<'_, T, P>,
    mut read: impl FnMut(&mut [u8]) -> Result<usize>,
    now: impl Fn() -> u64,
    wait: impl AsyncFn(Duration),
) -> Result<AttachmentRef> {
    let mut buf = Zeroizing::new(vec![0u8; CHUNK_LEN]);
    let mut failures = 0;
    loop {
        let n = read(&mut buf)?;
        if n == 0 {
            break;
        }
        let mut result = uploader.push(&buf[..n]).await;
        while let Err(error) = result {
            if !is_retryable(&error) || failures >= UPLOAD_RETRIES {
                return Err(error);
            }
            wait(retry_delay(failures)).await;
            failures += 1;
            result = uploader.flush().await;
        }
        failures = 0;
    }
    loop {
        match uploader.finish(now()).await {
            Ok(reference) => return Ok(reference),
            Err(error) if is_retryable(&error) && failures < UPLOAD_RETRIES => {
                wait(retry_delay(failures)).await;
                failures += 1;
            }
            Err(error) => return Err(error),
        }
    }
}

/// The reference's file key, after checking that the reference can be fetched and decrypted:
/// a well-formed id, a 32-byte key, and an `encrypted_size` that is the encrypted length of
/// `size`.
fn check_reference(reference: &AttachmentRef) -> Result<FileKey> {
    let bad = |what: &str| {
        ClientError::new(
            "attachment.bad_reference",
            format!("This attachment reference is not valid: {what}."),
        )
    };
    if !is_attachment_id(&reference.attachment_id) {
        return Err(bad("its id"));
    }
    if encrypted_len(reference.size) != Some(reference.encrypted_size) {
        return Err(bad("its sizes do not match"));
    }
    let key =
        Zeroizing::new(sealdesk_wire::b64::decode(&reference.key).map_err(|_| bad("its key"))?);
    let bytes: [u8; 32] = key.as_slice().try_into().map_err(|_| bad("its key"))?;
    Ok(FileKey::from_bytes(bytes))
}

/// Downloads and decrypts the attachment `reference` of `ticket_id`, handing the plaintext to
/// `sink` in pieces of at most 64 KiB and calling `progress(delivered, size)` after each.
///
/// The stream's length is checked against `encrypted_size` before anything is decrypted; then
/// every chunk is authenticated. **Plaintext given to `sink` is authentic but is not the whole
/// file until this returns `Ok`: do not act on it (show, save, open) before, and discard it on
/// error.** (The transport holds the encrypted body; the plaintext is only in `sink`.)
///
/// # Errors
/// `attachment.bad_reference` (malformed id, key or sizes); `attachment.truncated` (the stream
/// is shorter than stated or was cut), `attachment.trailing_data` (longer, or data after the
/// last chunk), `decryption_failed` (altered, reordered or another file's chunks), `malformed`;
/// `server.not_found`, `network`.
pub async fn download<T: Transport>(
    transport: &T,
    bearer: &str,
    ticket_id: TicketId,
    reference: &AttachmentRef,
    mut sink: impl FnMut(&[u8]),
    mut progress: impl FnMut(u64, u64),
) -> Result<()> {
    let key = check_reference(reference)?;
    let path = format!(
        "{}/{}",
        attachments_path(&ticket_id),
        reference.attachment_id
    );
    let response = transport
        .send(Request::get(path).bearer(Some(bearer)))
        .await?;
    response.check()?;
    let stream = response.body;
    let stated = reference.encrypted_size;
    let got = stream.len() as u64;
    if got < stated {
        return Err(ClientError::new(
            "attachment.truncated",
            format!("The attachment was cut short: {got} of {stated} bytes arrived."),
        ));
    }
    if got > stated {
        return Err(ClientError::new(
            "attachment.trailing_data",
            format!("The attachment has {got} bytes instead of {stated}."),
        ));
    }
    let (nonce, chunks) = stream.split_at(STREAM_NONCE_LEN.min(stream.len()));
    let nonce: [u8; STREAM_NONCE_LEN] = nonce
        .try_into()
        .map_err(|_| ClientError::from(sealdesk_crypto::Error::Truncated))?;
    let mut decryptor = StreamDecryptor::new(&key, &nonce);
    let mut plain = Zeroizing::new(Vec::with_capacity(CHUNK_LEN));
    let mut delivered = 0u64;
    let mut deliver = |plain: &mut Vec<u8>| {
        if !plain.is_empty() {
            sink(plain);
            delivered += plain.len() as u64;
            plain.clear();
            progress(delivered, reference.size);
        }
    };
    for piece in chunks.chunks(ENCRYPTED_CHUNK_LEN) {
        decryptor.update(piece, &mut plain)?;
        deliver(&mut plain);
    }
    decryptor.finish(&mut plain)?;
    deliver(&mut plain);
    if reference.size == 0 {
        progress(0, 0);
    }
    Ok(())
}

/// [`download`] into memory: the whole plaintext, returned only once every chunk verified.
///
/// # Errors
/// As [`download`].
pub async fn download_to_vec<T: Transport>(
    transport: &T,
    bearer: &str,
    ticket_id: TicketId,
    reference: &AttachmentRef,
    progress: impl FnMut(u64, u64),
) -> Result<Zeroizing<Vec<u8>>> {
    let capacity = usize::try_from(reference.size).unwrap_or(0).min(64 << 20);
    let mut file = Zeroizing::new(Vec::with_capacity(capacity));
    download(
        transport,
        bearer,
        ticket_id,
        reference,
        |piece| file.extend_from_slice(piece),
        progress,
    )
    .await?;
    Ok(file)
}

#[cfg(test)]
mod tests {
    //! The upload layout and the download checks against an in-memory server.

    use std::cell::RefCell;
    use std::collections::BTreeMap;
    use std::future::Future;
    use std::pin::pin;
    use std::task::{Context, Poll, Waker};

    use sealdesk_crypto::{Kind, system_rng};
    use serde_json::json;

    use super::*;
    use crate::content::Content;
    use crate::transport::Response;

    /// Runs a future that never waits (the fake server answers at once).
    fn block_on<F: Future>(future: F) -> F::Output {
        let mut future = pin!(future);
        let mut cx = Context::from_waker(Waker::noop());
        loop {
            if let Poll::Ready(output) = future.as_mut().poll(&mut cx) {
                return output;
            }
        }
    }

    /// An edit of the downloaded stream.
    type Edit = Box<dyn Fn(&mut Vec<u8>)>;

    /// What the server stores of one attachment.
    #[derive(Default)]
    struct Stored {
        size: u64,
        chunks: BTreeMap<u64, Vec<u8>>,
        complete: bool,
    }

    /// The attachment routes of API.md, for one attachment, with the server's length checks.
    #[derive(Default)]
    struct FakeServer {
        stored: RefCell<Stored>,
        /// Requests seen, as `METHOD path`.
        log: RefCell<Vec<String>>,
        /// Fail the next chunk PUT with this status (once).
        fail_next_put: RefCell<Option<u16>>,
        /// Answer the next chunk PUTs with these statuses and error codes, in order.
        failing_puts: RefCell<Vec<(u16, &'static str)>>,
        /// Bytes of the largest request body.
        largest_body: RefCell<usize>,
        /// Edits the downloaded stream.
        edit: RefCell<Option<Edit>>,
    }

    const ID: &str = "0123456789abcdef0123456789abcdef";

    fn answer(status: u16, body: serde_json::Value) -> Response {
        Response {
            status,
            body: body.to_string().into_bytes(),
        }
    }

    impl Transport for FakeServer {
        async fn send(&self, request: Request) -> Result<Response> {
            assert_eq!(request.bearer.as_deref(), Some("token"));
            let path = request.path.clone();
            self.log
                .borrow_mut()
                .push(format!("{:?} {}", request.method, path));
            let rest = path
                .strip_prefix(&format!(
                    "/api/v1/tickets/{}/attachments",
                    ticket().to_hex()
                ))
                .expect("an attachment route");
            let mut stored = self.stored.borrow_mut();
            let count = upload_chunk_count(stored.size);
            Ok(match (request.method, rest) {
                (Method::Post, "") => {
                    let Some(Body::Json(body)) = request.body else {
                        panic!("declaration body")
                    };
                    stored.size = body["size"].as_u64().expect("size");
                    answer(201, json!({ "attachment_id": ID }))
                }
                (Method::Put, chunk) => {
                    if let Some(status) = self.fail_next_put.borrow_mut().take() {
                        return Ok(answer(status, json!({"error": "rate_limited"})));
                    }
                    let mut failing = self.failing_puts.borrow_mut();
                    if !failing.is_empty() {
                        let (status, error) = failing.remove(0);
                        return Ok(answer(status, json!({ "error": error })));
                    }
                    let index: u64 = chunk
                        .strip_prefix(&format!("/{ID}/chunks/"))
                        .expect("chunk path")
                        .parse()
                        .expect("index");
                    let Some(Body::Bytes(bytes)) = request.body else {
                        panic!("chunk body")
                    };
                    let mut largest = self.largest_body.borrow_mut();
                    *largest = (*largest).max(bytes.len());
                    assert!(index < count, "index {index} of {count}");
                    let start = if index == 0 {
                        0
                    } else {
                        16 + ENCRYPTED_CHUNK_LEN as u64 * index
                    };
                    let end = (start + upload_chunk_len(index) as u64).min(stored.size);
                    assert_eq!(bytes.len() as u64, end - start, "length of chunk {index}");
                    stored.chunks.insert(index, bytes);
                    answer(204, json!(null))
                }
                (Method::Post, complete) if complete == format!("/{ID}/complete") => {
                    assert_eq!(stored.chunks.len() as u64, count, "chunks missing");
                    stored.complete = true;
                    answer(204, json!(null))
                }
                (Method::Get, get) if get == format!("/{ID}") => {
                    assert!(stored.complete);
                    let mut stream: Vec<u8> = stored.chunks.values().flatten().copied().collect();
                    if let Some(edit) = self.edit.borrow().as_ref() {
                        edit(&mut stream);
                    }
                    Response {
                        status: 200,
                        body: stream,
                    }
                }
                _ => answer(404, json!({"error": "not_found", "message": "No."})),
            })
        }
    }

    fn ticket() -> TicketId {
        TicketId([9; 16])
    }

    fn described(name: &str, mime_type: &str, size: usize) -> AttachmentFile {
        AttachmentFile {
            name: name.into(),
            mime_type: mime_type.into(),
            size: size as u64,
        }
    }

    fn file(len: usize) -> Vec<u8> {
        (0..len).map(|i| (i * 31 % 251) as u8).collect()
    }

    fn upload_file(server: &FakeServer, data: &[u8]) -> (AttachmentRef, Vec<(u64, u64)>) {
        let mut calls = Vec::new();
        let file = InMemoryFile {
            name: "report.txt",
            mime_type: "text/plain",
            data,
        };
        let reference = block_on(upload(
            server,
            "token",
            ticket(),
            file,
            42,
            |sent, total| calls.push((sent, total)),
            &mut system_rng(),
        ))
        .expect("upload");
        (reference, calls)
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn chunk_layout() {
        assert_eq!(FIRST_UPLOAD_CHUNK_LEN, 65_568);
        assert_eq!(upload_chunk_len(1), 65_552);
        assert_eq!(upload_chunk_count(32), 1);
        assert_eq!(upload_chunk_count(16 + 65_552), 1);
        assert_eq!(upload_chunk_count(16 + 65_553), 2);
        assert_eq!(upload_chunk_count(150_064), 3);
        assert!(is_attachment_id(ID));
        assert!(!is_attachment_id(&ID.to_uppercase()));
        assert!(!is_attachment_id("../../../api/v1/directory/x"));
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn round_trips_at_chunk_boundaries() {
        for len in [
            0,
            1,
            CHUNK_LEN - 1,
            CHUNK_LEN,
            CHUNK_LEN + 1,
            2 * CHUNK_LEN,
            150_000,
        ] {
            let server = FakeServer::default();
            let data = file(len);
            let (reference, calls) = upload_file(&server, &data);
            let total = encrypted_len(len as u64).expect("size");
            assert_eq!(reference.size, len as u64);
            assert_eq!(reference.encrypted_size, total);
            assert_eq!(reference.attachment_id, ID);
            assert_eq!(reference.sent_at, 42);
            assert_eq!(calls.last(), Some(&(total, total)), "{len}");
            assert!(calls.windows(2).all(|w| w[0].0 < w[1].0));
            assert_eq!(calls.len() as u64, upload_chunk_count(total));
            assert!(*server.largest_body.borrow() <= FIRST_UPLOAD_CHUNK_LEN);
            let mut progress = Vec::new();
            let plain = block_on(download_to_vec(
                &server,
                "token",
                ticket(),
                &reference,
                |done, size| progress.push((done, size)),
            ))
            .expect("download");
            assert_eq!(plain.as_slice(), data.as_slice(), "{len}");
            assert_eq!(progress.last(), Some(&(len as u64, len as u64)));
        }
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn pieces_of_any_size_and_a_retried_chunk() {
        let server = FakeServer::default();
        let data = file(3 * CHUNK_LEN + 5);
        let mut rng = system_rng();
        let reference = block_on(async {
            let mut uploader = Uploader::start(
                &server,
                "token",
                ticket(),
                described("a.bin", "application/octet-stream", data.len()),
                |_, _| {},
                &mut rng,
            )
            .await?;
            let mut pieces = data.chunks(7_001);
            for piece in pieces.by_ref().take(9) {
                uploader.push(piece).await?;
            }
            // The next chunk is refused once; the uploader keeps it and sends it again.
            *server.fail_next_put.borrow_mut() = Some(429);
            let mut refused = None;
            for piece in pieces.by_ref() {
                if let Err(error) = uploader.push(piece).await {
                    refused = Some(error);
                    break;
                }
            }
            let refused = refused.expect("refused");
            assert_eq!(refused.code, "server.rate_limited");
            assert_eq!(refused.status, Some(429));
            uploader.flush().await?;
            for piece in pieces {
                uploader.push(piece).await?;
            }
            assert_eq!(
                uploader.push(b"x").await.map_err(|e| e.code),
                Err("attachment.size_mismatch".to_owned())
            );
            uploader.finish(7).await
        })
        .expect("upload");
        let plain = downloaded(&server, &reference);
        assert_eq!(plain.as_slice(), data.as_slice());
        // The reference is a kind-3 message's content and survives its encoding.
        let content = Content::AttachmentRef(reference.clone());
        assert_eq!(content.kind(), Kind::AttachmentRef);
        let bytes = content.to_bytes().expect("encode");
        assert_eq!(
            Content::parse(Kind::AttachmentRef, &bytes).expect("parse"),
            content
        );
        let json: serde_json::Value = serde_json::from_slice(&bytes).expect("json");
        assert_eq!(json["type"], "application/octet-stream");
        assert_eq!(json["key"].as_str().map(str::len), Some(43));
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn a_short_file_is_refused_at_finish() {
        let server = FakeServer::default();
        let result = block_on(async {
            let mut uploader = Uploader::start(
                &server,
                "token",
                ticket(),
                described("a", "b", 10),
                |_, _| {},
                &mut system_rng(),
            )
            .await?;
            uploader.push(b"12345").await?;
            let error = uploader.finish(0).await.expect_err("short");
            assert_eq!(error.code, "attachment.size_mismatch");
            // Still usable: the rest, then finish.
            uploader.push(b"67890").await?;
            uploader.finish(0).await
        });
        assert_eq!(result.expect("finished").size, 10);
    }

    /// The verified plaintext of `reference`.
    fn downloaded(server: &FakeServer, reference: &AttachmentRef) -> Zeroizing<Vec<u8>> {
        block_on(download_to_vec(
            server,
            "token",
            ticket(),
            reference,
            |_, _| {},
        ))
        .expect("download")
    }

    fn download_error(server: &FakeServer, reference: &AttachmentRef) -> String {
        let result = block_on(download(
            server,
            "token",
            ticket(),
            reference,
            |_| {},
            |_, _| {},
        ));
        result.expect_err("refused").code
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn damaged_streams_and_references() {
        let server = FakeServer::default();
        let (reference, _) = upload_file(&server, &file(150_000));
        let cases: Vec<(&str, Edit, &str)> = vec![
            (
                "last bytes dropped",
                Box::new(|s| s.truncate(s.len() - 10)),
                "attachment.truncated",
            ),
            (
                "bytes added",
                Box::new(|s| s.push(0)),
                "attachment.trailing_data",
            ),
            (
                "a byte flipped",
                Box::new(|s| s[70_000] ^= 1),
                "decryption_failed",
            ),
            ("emptied", Box::new(|s| s.clear()), "attachment.truncated"),
        ];
        for (name, edit, code) in cases {
            *server.edit.borrow_mut() = Some(edit);
            assert_eq!(download_error(&server, &reference), code, "{name}");
        }
        *server.edit.borrow_mut() = None;

        // A reference whose stated size is smaller than the stored stream's.
        let mut short = reference.clone();
        short.size = 2 * CHUNK_LEN as u64;
        short.encrypted_size = encrypted_len(short.size).expect("size");
        assert_eq!(download_error(&server, &short), "attachment.trailing_data");

        let mut bad = reference.clone();
        bad.encrypted_size += 1;
        assert_eq!(download_error(&server, &bad), "attachment.bad_reference");
        let mut bad = reference.clone();
        bad.attachment_id = "../messages?chain=1&after=0#aaaaa".into();
        assert_eq!(download_error(&server, &bad), "attachment.bad_reference");
        let mut bad = reference.clone();
        bad.key = "AAAA".into();
        assert_eq!(download_error(&server, &bad), "attachment.bad_reference");
        // Another key: the first chunk does not open.
        let mut other = reference.clone();
        other.key = b64(&[1; 32]);
        assert_eq!(download_error(&server, &other), "decryption_failed");
        // No request left the client for a malformed reference.
        assert!(
            server
                .log
                .borrow()
                .iter()
                .all(|line| !line.contains("messages"))
        );
    }

    /// [`upload_with_retries`] of a `size`-byte file given by `read`, with `failures` answered
    /// to the first chunk PUTs: the result and the pauses it asked for.
    fn upload_failing(
        server: &FakeServer,
        size: usize,
        read: impl FnMut(&mut [u8]) -> Result<usize>,
        failures: &[(u16, &'static str)],
    ) -> (Result<AttachmentRef>, Vec<Duration>) {
        *server.failing_puts.borrow_mut() = failures.to_vec();
        let waits = RefCell::new(Vec::new());
        let result = block_on(async {
            let mut uploader = Uploader::start(
                server,
                "token",
                ticket(),
                described("a.bin", "application/octet-stream", size),
                |_, _| {},
                &mut system_rng(),
            )
            .await?;
            let wait = async |delay| waits.borrow_mut().push(delay);
            upload_with_retries(&mut uploader, read, || 42, wait).await
        });
        (result, waits.into_inner())
    }

    /// Reads `data` in pieces, as a file.
    fn reader(mut data: &[u8]) -> impl FnMut(&mut [u8]) -> Result<usize> {
        move |buf| {
            let n = buf.len().min(data.len());
            buf[..n].copy_from_slice(&data[..n]);
            data = &data[n..];
            Ok(n)
        }
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn uploads_wait_out_rate_limits_and_server_errors() {
        let server = FakeServer::default();
        let data = file(2 * CHUNK_LEN + 3);
        let failures = [
            (429, "rate_limited"),
            (503, "unavailable"),
            (429, "rate_limited"),
        ];
        let (reference, waits) = upload_failing(&server, data.len(), reader(&data), &failures);
        let reference = reference.expect("upload");
        assert_eq!(reference.sent_at, 42);
        let seconds: Vec<u64> = waits.iter().map(Duration::as_secs).collect();
        assert_eq!(seconds, [1, 2, 4]);
        let plain = downloaded(&server, &reference);
        assert_eq!(plain.as_slice(), data.as_slice());
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn uploads_give_up_after_the_retries_or_on_a_refusal() {
        let data = file(10);
        let spent = vec![(429, "rate_limited"); UPLOAD_RETRIES as usize + 1];
        let (result, waits) = upload_failing(&FakeServer::default(), 10, reader(&data), &spent);
        assert_eq!(
            result.map_err(|e| e.code),
            Err("server.rate_limited".into())
        );
        assert_eq!(waits.len(), UPLOAD_RETRIES as usize);
        assert_eq!(waits.last().map(Duration::as_secs), Some(8));
        let refused = [(413, "quota_exceeded")];
        let (result, waits) = upload_failing(&FakeServer::default(), 10, reader(&data), &refused);
        assert_eq!(
            result.map_err(|e| e.code),
            Err("server.quota_exceeded".into())
        );
        assert!(waits.is_empty());
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn upload_read_errors_stop_the_upload() {
        let unreadable = |_: &mut [u8]| Err(ClientError::new("file.read", "Cannot read a.bin."));
        let (result, waits) = upload_failing(&FakeServer::default(), 5, unreadable, &[]);
        assert_eq!(result.map_err(|e| e.code), Err("file.read".into()));
        assert!(waits.is_empty());
    }
}
