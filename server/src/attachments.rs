//! Encrypted attachments (spec/API.md, "Attachments"; PROTOCOL.md §13). The browser encrypts
//! each file as a stream under its own key; the server stores the stream's bytes without being
//! able to read them, and learns only their number.
//!
//! An upload is declared with its encrypted size, which reserves that much of the ticket's
//! quota at once (under the ticket's lock), so concurrent uploads cannot overshoot it. The
//! stream is then sent in chunks cut along the encryption's own chunks:
//!
//! - chunk 0 is the 16-byte stream nonce followed by the first sealed chunk (bytes
//!   `[0, min(16 + 65552, size))` of the stream);
//! - chunk `i ≥ 1` is the `i`-th sealed chunk (bytes `[16 + 65552·i, min(16 + 65552·(i+1),
//!   size))`).
//!
//! So every chunk but the last is exactly its maximum, and the concatenation of the chunks in
//! order is the stream. A chunk is written once (re-sending identical bytes is accepted, so
//! uploads can be retried); when every chunk is present the upload is completed, and only
//! then can it be downloaded.
//!
//! Storage (generic records):
//! - [`RecordKind::Attachment`]: ticket id (16) ‖ attachment id (16) → JSON of
//!   [`AttachmentRecord`];
//! - [`RecordKind::AttachmentChunk`]: ticket id (16) ‖ attachment id (16) ‖ index (u64, big
//!   endian) → the chunk's bytes.
//!
//! Both are prefixed by the ticket id so that a ticket's attachments can be found (and later
//! deleted with it) by a prefix scan.

use std::sync::Arc;

use axum::body::Bytes;
use axum::http::StatusCode;
use sealdesk_crypto::{
    AccessToken, ENCRYPTED_CHUNK_LEN, STREAM_NONCE_LEN, TAG_LEN, TicketId, encrypted_len,
};
use serde::{Deserialize, Serialize};
use tokio_stream::Stream;

use crate::clock::now;
use crate::encoding::{from_record, to_record};
use crate::error::{ApiError, ApiResult};
use crate::random;
use crate::services::rate_limits::PostKey;
use crate::sessions;
use crate::state::AppState;
use crate::storage::{Owner, RecordKind, StoreError, TicketRecord};
use crate::tickets::{Reader, authorised_ticket};

/// Largest upload chunk: the stream nonce and one full sealed chunk (chunk 0).
pub const MAX_UPLOAD_CHUNK_LEN: usize = STREAM_NONCE_LEN + ENCRYPTED_CHUNK_LEN;

/// Body limit of `PUT .../chunks/{index}`: a little above [`MAX_UPLOAD_CHUNK_LEN`], so that a
/// slightly long chunk is told its expected length (`400 bad_length`) rather than
/// `413 body_too_large`.
pub const CHUNK_BODY_LIMIT: usize = MAX_UPLOAD_CHUNK_LEN + 1024;

const NONCE: u64 = STREAM_NONCE_LEN as u64;
const PIECE: u64 = ENCRYPTED_CHUNK_LEN as u64;

/// The number of upload chunks of a `size`-byte encrypted stream, or `None` if no file
/// encrypts to exactly `size` bytes (PROTOCOL.md §13: a nonce, then pieces of 65,552 bytes of
/// which the last has 16 to 65,552 bytes, and at least 17 when it follows other pieces).
pub fn chunk_count(size: u64) -> Option<u64> {
    let body = size.checked_sub(NONCE)?;
    let pieces = body.div_ceil(PIECE).max(1);
    let plain = body.checked_sub(pieces.checked_mul(TAG_LEN as u64)?)?;
    (encrypted_len(plain) == Some(size)).then_some(pieces)
}

/// The byte range `[start, end)` of the stream that upload chunk `index` carries (`index` must
/// be below [`chunk_count`]).
pub fn chunk_range(size: u64, index: u64) -> (u64, u64) {
    let start = if index == 0 {
        0
    } else {
        NONCE.saturating_add(index.saturating_mul(PIECE))
    };
    let end = NONCE
        .saturating_add(index.saturating_add(1).saturating_mul(PIECE))
        .min(size);
    (start, end)
}

/// The stored metadata of one attachment. Everything about the file itself (name, type, key,
/// plaintext size) is inside the encrypted attachment-reference message.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttachmentRecord {
    /// Bytes of the encrypted stream (reserved from the ticket's quota at declaration).
    pub size: u64,
    /// Whether every chunk arrived and the upload was completed (only then is it readable).
    pub complete: bool,
    /// Unix seconds of the declaration: an upload still incomplete `upload_expiry_seconds`
    /// later is removed ([`expire_uploads`]).
    pub created_at: u64,
}

/// Declares an upload of `size` encrypted bytes to ticket `id` (hex), reserves them from the
/// ticket's quota and returns the attachment id (16 random bytes).
///
/// The ticket's incomplete uploads that expired are removed first, releasing their quota.
/// An administrator's upload is exempt from the quota (still counted), like its posts.
///
/// # Errors
/// `not_found`, `rate_limited`, `507 storage_full` past `max_data_bytes`, `bad_size`,
/// `attachment_too_large`, `quota_exceeded`, storage failures.
pub async fn declare(
    state: &AppState,
    id: &str,
    token: Option<&AccessToken>,
    size: u64,
) -> ApiResult<[u8; 16]> {
    let (record, reader) = authorised_ticket(state, id, token).await?;
    state
        .rate_limits
        .upload(&upload_key(state, token, &record, reader)?)?;
    state.check_storage_budget()?;
    if chunk_count(size).is_none() {
        return Err(ApiError::bad_request(
            "bad_size",
            "No file encrypts to this size (PROTOCOL.md §13); send the encrypted stream's length.",
        ));
    }
    if size > state.limits.max_attachment_bytes {
        return Err(ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "attachment_too_large",
            format!(
                "An attachment may have at most {} encrypted bytes.",
                state.limits.max_attachment_bytes
            ),
        ));
    }

    let attachment = random::bytes::<16>();
    let value = to_record(&AttachmentRecord {
        size,
        complete: false,
        created_at: now(),
    })?;
    {
        // Reserve under the ticket's lock, which every writer of the ticket record holds, so
        // that concurrent declarations and posts cannot together overshoot the quota.
        let lock = state.ticket_lock(record.id);
        let _serialised = lock.lock().await;
        let mut ticket = state
            .store
            .ticket(&record.id)?
            .ok_or_else(|| ApiError::not_found("ticket"))?;
        expire_ticket_uploads(state, &mut ticket, now())?;
        if matches!(reader, Reader::Reporter)
            && ticket.storage_bytes.saturating_add(size) > state.limits.ticket_quota_bytes
        {
            return Err(ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "quota_exceeded",
                "This ticket has no room left for an attachment of this size.",
            ));
        }
        // The reservation is written first: if the attachment record then fails to be
        // written, the reservation is released again; if the process dies in between, the
        // reservation is lost to the quota (never the other way round, which would let an
        // attachment go uncounted).
        ticket.storage_bytes += size;
        state.store.update_ticket(&ticket)?;
        let key = attachment_key(&record.id, &attachment);
        if let Err(error) = state.store.put(RecordKind::Attachment, &key, &value, true) {
            ticket.storage_bytes -= size;
            if let Err(undo) = state.store.update_ticket(&ticket) {
                tracing::error!(error = %undo, "cannot release an attachment's quota reservation");
            }
            return Err(error.into());
        }
    }
    state.commit().await?;
    Ok(attachment)
}

/// The address of one upload chunk: ticket id (hex), attachment id (hex) and chunk index
/// (decimal), as in the path.
pub struct ChunkAddress<'a> {
    /// The ticket id.
    pub ticket: &'a str,
    /// The attachment id.
    pub attachment: &'a str,
    /// The chunk index.
    pub index: &'a str,
}

/// Stores one chunk. Sending a chunk that is already stored is accepted if the bytes are
/// identical, a conflict otherwise.
///
/// # Errors
/// `not_found`, `rate_limited`, `bad_chunk_index`, `bad_length`, `conflict`, storage failures.
pub async fn put_chunk(
    state: &AppState,
    address: ChunkAddress<'_>,
    token: Option<&AccessToken>,
    chunk: &[u8],
) -> ApiResult<()> {
    let (ticket, reader) = authorised_ticket(state, address.ticket, token).await?;
    // Under the ticket's lock, so that an expiring upload is not written to as it is removed.
    let lock = state.ticket_lock(ticket.id);
    let _serialised = lock.lock().await;
    let (attachment, record) = load_attachment(state, &ticket, address.attachment)?;
    state
        .rate_limits
        .upload(&upload_key(state, token, &ticket, reader)?)?;
    let index = address.index;
    let count = chunk_count(record.size).ok_or_else(corrupt_record)?;
    let index = index
        .parse::<u64>()
        .ok()
        .filter(|&index| index < count)
        .ok_or_else(|| {
            ApiError::bad_request(
                "bad_chunk_index",
                format!("The chunk index must be a number from 0 to {}.", count - 1),
            )
        })?;
    let (start, end) = chunk_range(record.size, index);
    if chunk.len() as u64 != end - start {
        return Err(ApiError::bad_request(
            "bad_length",
            format!(
                "Chunk {index} of this attachment must be {} bytes.",
                end - start
            ),
        ));
    }
    let key = chunk_key(&ticket.id, &attachment, index);
    match state
        .store
        .put(RecordKind::AttachmentChunk, &key, chunk, true)
    {
        Ok(()) => {}
        Err(StoreError::Conflict(_)) => {
            let stored = state.store.get(RecordKind::AttachmentChunk, &key)?;
            if stored.as_deref() != Some(chunk) {
                return Err(ApiError::conflict(
                    "A different chunk was already stored at this index.",
                ));
            }
            // Identical: a retry. It may race with the first write's commit, so commit too.
        }
        Err(error) => return Err(error.into()),
    }
    state.commit().await
}

/// Checks that every chunk of attachment `attachment` (hex) of ticket `id` (hex) arrived and
/// makes the attachment readable. Completing a complete attachment changes nothing.
///
/// # Errors
/// `not_found`, `chunks_missing`, storage failures.
pub async fn complete(
    state: &AppState,
    id: &str,
    attachment: &str,
    token: Option<&AccessToken>,
) -> ApiResult<()> {
    let (ticket, _) = authorised_ticket(state, id, token).await?;
    // Under the ticket's lock, so that an upload cannot expire while it is being completed.
    let lock = state.ticket_lock(ticket.id);
    let _serialised = lock.lock().await;
    let (attachment, mut record) = load_attachment(state, &ticket, attachment)?;
    if !record.complete {
        let count = chunk_count(record.size).ok_or_else(corrupt_record)?;
        // One chunk at a time, so that memory stays bounded by one chunk.
        for index in 0..count {
            let key = chunk_key(&ticket.id, &attachment, index);
            if state
                .store
                .get(RecordKind::AttachmentChunk, &key)?
                .is_none()
            {
                return Err(ApiError::new(
                    StatusCode::CONFLICT,
                    "chunks_missing",
                    format!(
                        "Chunk {index} (of chunks 0 to {}) has not been uploaded.",
                        count - 1
                    ),
                ));
            }
        }
        record.complete = true;
        let key = attachment_key(&ticket.id, &attachment);
        state
            .store
            .put(RecordKind::Attachment, &key, &to_record(&record)?, false)?;
    }
    state.commit().await
}

/// A complete attachment's encrypted stream: its length in bytes and its chunks, read from
/// storage one at a time as they are consumed (an error ends the stream early, which the
/// client sees as a truncated body).
pub struct Download<S> {
    /// Bytes of the encrypted stream.
    pub size: u64,
    /// The chunks, in order.
    pub chunks: S,
}

/// The complete encrypted stream of attachment `attachment` (hex) of ticket `id` (hex).
///
/// # Errors
/// `not_found` (also for an incomplete upload), storage failures.
pub async fn download(
    state: &AppState,
    id: &str,
    attachment: &str,
    token: Option<&AccessToken>,
) -> ApiResult<Download<impl Stream<Item = Result<Bytes, std::io::Error>> + use<>>> {
    let (ticket, _) = authorised_ticket(state, id, token).await?;
    let (attachment, record) = load_attachment(state, &ticket, attachment)?;
    if !record.complete {
        return Err(ApiError::not_found("attachment"));
    }
    let count = chunk_count(record.size).ok_or_else(corrupt_record)?;
    let store = Arc::clone(&state.store);
    let ticket_id = ticket.id;
    let chunks = tokio_stream::StreamExt::map(tokio_stream::iter(0..count), move |index| {
        let key = chunk_key(&ticket_id, &attachment, index);
        match store.get(RecordKind::AttachmentChunk, &key) {
            Ok(Some(bytes)) => Ok(Bytes::from(bytes)),
            // The length was announced: ending the stream early makes the client see a
            // truncated body (and decryption would report it too).
            Ok(None) => {
                tracing::error!("a complete attachment lacks a chunk");
                Err(std::io::Error::other("attachment chunk missing"))
            }
            Err(error) => {
                tracing::error!(%error, "cannot read an attachment chunk");
                Err(std::io::Error::other("storage failure"))
            }
        }
    });
    Ok(Download {
        size: record.size,
        chunks,
    })
}

// ---- expiry of abandoned uploads ----

/// Removes every incomplete upload declared more than `upload_expiry_seconds` before `now`:
/// its chunks and record are deleted and its reservation released from its ticket's quota.
/// Run by `sealdesk serve` every minute ([`expire_uploads_periodically`]); a declaration
/// also expires its own ticket's uploads first. Returns the number of uploads removed.
///
/// # Errors
/// Storage failures (the uploads removed so far stay removed).
pub async fn expire_uploads(state: &AppState, now: u64) -> ApiResult<usize> {
    let expiry = state.limits.upload_expiry_seconds;
    let mut tickets = std::collections::BTreeSet::new();
    for (key, value) in state.store.scan(RecordKind::Attachment, &[])? {
        let record: AttachmentRecord = from_record(&value, "attachment record")?;
        if let Ok(ticket) = <[u8; 16]>::try_from(&key[..key.len().min(16)])
            && is_expired(&record, expiry, now)
        {
            tickets.insert(ticket);
        }
    }
    let mut removed = 0;
    for id in tickets {
        let lock = state.ticket_lock(id);
        let _serialised = lock.lock().await;
        if let Some(mut ticket) = state.store.ticket(&id)? {
            removed += expire_ticket_uploads(state, &mut ticket, now)?;
        }
    }
    if removed > 0 {
        state.commit().await?;
        tracing::info!(removed, "expired incomplete uploads removed");
    }
    Ok(removed)
}

/// Every minute until the state is dropped: [`expire_uploads`].
pub async fn expire_uploads_periodically(state: std::sync::Weak<AppState>) {
    let mut interval = tokio::time::interval(std::time::Duration::from_secs(60));
    interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        interval.tick().await;
        let Some(state) = state.upgrade() else {
            return;
        };
        if let Err(error) = expire_uploads(&state, now()).await {
            tracing::error!(error = %error.message, "cannot expire incomplete uploads");
        }
    }
}

fn is_expired(record: &AttachmentRecord, expiry: u64, now: u64) -> bool {
    !record.complete && record.created_at.saturating_add(expiry) <= now
}

/// Removes `ticket`'s expired incomplete uploads and writes the released quota back. The
/// caller holds the ticket's lock and commits. The record goes first, then its chunks, then
/// the reservation: a crash in between leaves bytes reserved (lost to the quota), never an
/// upload uncounted.
fn expire_ticket_uploads(
    state: &AppState,
    ticket: &mut TicketRecord,
    now: u64,
) -> ApiResult<usize> {
    let expiry = state.limits.upload_expiry_seconds;
    let mut removed = 0;
    let mut released = 0u64;
    for (key, value) in state.store.scan(RecordKind::Attachment, &ticket.id)? {
        let record: AttachmentRecord = from_record(&value, "attachment record")?;
        let Ok(attachment) = <[u8; 16]>::try_from(&key[key.len().saturating_sub(16)..]) else {
            continue;
        };
        if key.len() != 32 || !is_expired(&record, expiry, now) {
            continue;
        }
        state.store.take(RecordKind::Attachment, &key)?;
        for index in 0..chunk_count(record.size).unwrap_or(0) {
            state.store.take(
                RecordKind::AttachmentChunk,
                &chunk_key(&ticket.id, &attachment, index),
            )?;
        }
        released = released.saturating_add(record.size);
        removed += 1;
    }
    if released > 0 {
        ticket.storage_bytes = ticket.storage_bytes.saturating_sub(released);
        state.store.update_ticket(ticket)?;
    }
    Ok(removed)
}

// ---- helpers ----

/// What an upload is counted against (like posts): the ticket's access token (by its hash),
/// or the account of the session (the owning account's, or an administrator's).
fn upload_key(
    state: &AppState,
    token: Option<&AccessToken>,
    ticket: &TicketRecord,
    reader: Reader,
) -> ApiResult<PostKey> {
    match (&ticket.owner, reader) {
        // `authorised_ticket` tries the access token first; a session never reads an
        // anonymous ticket as its reporter.
        (Owner::Anonymous { access_token_hash }, Reader::Reporter) => {
            Ok(PostKey::AccessToken(*access_token_hash))
        }
        (Owner::Account { account_id }, Reader::Reporter) => {
            Ok(PostKey::Account(account_id.clone()))
        }
        (_, Reader::Administrator) => sessions::session(state, token)?
            .map(|session| PostKey::Account(session.account.account_id))
            .ok_or_else(|| ApiError::not_found("ticket")),
    }
}

/// Loads the attachment `text` (32 hex characters) of `ticket`: `404 not_found` if the id is
/// malformed or belongs to no attachment of this ticket.
fn load_attachment(
    state: &AppState,
    ticket: &TicketRecord,
    text: &str,
) -> ApiResult<([u8; 16], AttachmentRecord)> {
    let attachment = attachment_id(text)?;
    let bytes = state
        .store
        .get(
            RecordKind::Attachment,
            &attachment_key(&ticket.id, &attachment),
        )?
        .ok_or_else(|| ApiError::not_found("attachment"))?;
    let record = from_record(&bytes, "attachment record")?;
    Ok((attachment, record))
}

/// Parses a 32-character lowercase hex attachment id (as ticket ids are written).
fn attachment_id(text: &str) -> ApiResult<[u8; 16]> {
    TicketId::from_hex(text)
        .map(|id| id.0)
        .map_err(|_| ApiError::not_found("attachment"))
}

fn attachment_key(ticket: &[u8; 16], attachment: &[u8; 16]) -> [u8; 32] {
    let mut key = [0; 32];
    key[..16].copy_from_slice(ticket);
    key[16..].copy_from_slice(attachment);
    key
}

fn chunk_key(ticket: &[u8; 16], attachment: &[u8; 16], index: u64) -> [u8; 40] {
    let mut key = [0; 40];
    key[..32].copy_from_slice(&attachment_key(ticket, attachment));
    key[32..].copy_from_slice(&index.to_be_bytes());
    key
}

fn corrupt_record() -> ApiError {
    tracing::error!("a stored attachment record does not decode");
    ApiError::new(
        StatusCode::INTERNAL_SERVER_ERROR,
        "storage",
        "A stored attachment record is damaged; nothing was changed.",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunk_counts_follow_the_encrypted_sizes() {
        for plain in [
            0u64,
            1,
            65_535,
            65_536,
            65_537,
            131_072,
            131_073,
            150_000,
            1 << 24,
        ] {
            let size = encrypted_len(plain).unwrap();
            let count = chunk_count(size).unwrap();
            assert_eq!(count, plain.div_ceil(65_536).max(1), "{plain}");
            // The chunks tile the stream exactly, each full but the last.
            let mut next = 0;
            for index in 0..count {
                let (start, end) = chunk_range(size, index);
                assert_eq!(start, next);
                let full = if index == 0 { 65_568 } else { 65_552 };
                assert!(end - start == full || index == count - 1);
                assert!(end - start <= full && end > start);
                next = end;
            }
            assert_eq!(next, size);
        }
        // No file encrypts to these sizes: shorter than a nonce and a tag, or a last piece of
        // 1 to 16 bytes after a full one.
        for size in [
            0u64,
            16,
            31,
            16 + 65_552 + 1,
            16 + 65_552 + 16,
            16 + 2 * 65_552 + 5,
        ] {
            assert_eq!(chunk_count(size), None, "{size}");
        }
        assert_eq!(chunk_count(32), Some(1));
        assert_eq!(chunk_count(16 + 65_552 + 17), Some(2));
        // The arithmetic does not overflow at the top of the range.
        let count = chunk_count(u64::MAX).unwrap();
        assert_eq!(chunk_range(u64::MAX, count - 1).1, u64::MAX);
    }
}
