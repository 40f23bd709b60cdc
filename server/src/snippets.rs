//! The team key and the administrators' snippets (spec/API.md "Team key and snippets",
//! PROTOCOL.md §18): wrapped team keys per epoch and recipient, and encrypted, signed snippets
//! by id. The server verifies what it can (wraps against its directory, a snippet's signature
//! against the writing administrator) and never sees a key or a snippet's text.
//!
//! Records: [`RecordKind::TeamWrap`] under `u32be(epoch) || recipient key id` (the 229-byte
//! wrap as it came); [`RecordKind::Snippet`] under the 16-byte id (a JSON [`SnippetRecord`]).

use std::sync::Mutex;

use axum::http::StatusCode;
use sealdesk_crypto::{
    KeyId, MAX_SNIPPET_LEN, PublicIdentity, SNIPPET_ID_LEN, Snippet, SnippetId, TEAM_WRAP_LEN,
    TeamWrap,
};
use sealdesk_wire::b64;
use sealdesk_wire::snippets::{SnippetItem, TeamEpoch, TeamKeysAnswer};
use serde::{Deserialize, Serialize};

use crate::clock::now;
use crate::encoding::{from_b64, from_record, to_record};
use crate::error::{ApiError, ApiResult};
use crate::sessions::administrator_session;
use crate::state::AppState;
use crate::storage::{RecordKind, RecordWrite};

/// Most wraps in one `POST /api/v1/admin/team-keys`.
pub const MAX_TEAM_WRAPS_PER_REQUEST: usize = 64;
/// Most snippets an instance stores (each at most [`MAX_SNIPPET_LEN`] bytes: about 33 MB).
pub const MAX_SNIPPETS: usize = 500;

/// Serialises the check-then-write of new epochs and new snippets (the epoch number and the
/// snippet count are read and written under it). Only synchronous store calls run under it;
/// the commit follows after it is released.
static WRITES: Mutex<()> = Mutex::new(());

fn write_lock() -> std::sync::MutexGuard<'static, ()> {
    // Nothing panics while holding it; a poisoned lock guards no data.
    WRITES
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// A stored snippet: the encoding as it came, its signer and times.
#[derive(Serialize, Deserialize)]
struct SnippetRecord {
    /// The encoded snippet (PROTOCOL.md §18.3).
    bytes: Vec<u8>,
    /// Unix seconds of the first version.
    created_at: u64,
    /// Unix seconds of this version.
    updated_at: u64,
}

const SNIPPET_RECORD: &str = "snippet record";

fn wrap_key(epoch: u32, recipient: &KeyId) -> Vec<u8> {
    let mut key = epoch.to_be_bytes().to_vec();
    key.extend_from_slice(&recipient.0);
    key
}

/// Every stored wrap, decoded, in key order (epoch, then recipient).
fn stored_wraps(state: &AppState) -> ApiResult<Vec<TeamWrap>> {
    state
        .store
        .scan(RecordKind::TeamWrap, &[])?
        .into_iter()
        .map(|(_, bytes)| {
            TeamWrap::from_bytes(&bytes).map_err(|_| {
                tracing::error!("a stored team wrap does not decode");
                ApiError::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "storage",
                    "A stored team wrap is damaged; nothing was changed.",
                )
            })
        })
        .collect()
}

/// `GET /api/v1/admin/team-keys`: every epoch with its opening position and recipients, and
/// the wraps addressed to the session's administrator.
///
/// # Errors
/// `unauthorized`, `not_an_administrator`, storage failures.
pub async fn team_keys(
    state: &AppState,
    token: Option<&sealdesk_crypto::AccessToken>,
) -> ApiResult<TeamKeysAnswer> {
    let (_, admin) = administrator_session(state, token).await?;
    let me = admin.key_id();
    let mut epochs: Vec<TeamEpoch> = Vec::new();
    let mut wraps = Vec::new();
    for wrap in stored_wraps(state)? {
        let c = wrap.context;
        match epochs.last_mut() {
            Some(last) if last.epoch == c.epoch => {
                last.recipients.push(b64::encode(&c.recipient.0))
            }
            _ => epochs.push(TeamEpoch {
                epoch: c.epoch,
                opened_at: c.opened_at,
                recipients: vec![b64::encode(&c.recipient.0)],
            }),
        }
        if c.recipient == me {
            wraps.push(b64::encode(&wrap.to_bytes()));
        }
    }
    Ok(TeamKeysAnswer { epochs, wraps })
}

fn bad_wraps(message: &str) -> ApiError {
    ApiError::bad_request("bad_team_wraps", message)
}

/// `POST /api/v1/admin/team-keys`: stores wraps signed by the session's administrator, all
/// or nothing. Either every wrap is of one new epoch (the next number, `opened_at = dir_seq =`
/// the head, exactly one per administrator at the head), or every wrap is of an existing
/// epoch, with that epoch's `opened_at`, for an administrator at the head who has none.
/// Returns how many were stored.
///
/// # Errors
/// `400 bad_team_wraps` (count, mixture, coverage), `400 bad_encoding`/`bad_length`,
/// `422 team_key.*` (verification against the directory), `409 epoch_taken` (another
/// administrator opened that number first: re-read and retry), `409 wrap_exists`,
/// `unauthorized`, `not_an_administrator`, storage failures.
pub async fn add_team_wraps(
    state: &AppState,
    token: Option<&sealdesk_crypto::AccessToken>,
    encoded: &[String],
) -> ApiResult<usize> {
    let (_, admin) = administrator_session(state, token).await?;
    if encoded.is_empty() || encoded.len() > MAX_TEAM_WRAPS_PER_REQUEST {
        return Err(bad_wraps("Send 1 to 64 team wraps."));
    }
    let mut wraps = Vec::with_capacity(encoded.len());
    for text in encoded {
        let bytes = from_b64("wraps", text, TEAM_WRAP_LEN)?;
        let wrap = TeamWrap::from_bytes(&bytes).map_err(|e| ApiError::rejected(&e, "team wrap"))?;
        wraps.push(wrap);
    }
    let directory_guard = state.directory.read().await;
    let directory = directory_guard
        .as_ref()
        .ok_or_else(|| bad_wraps("There is no administrator directory yet."))?;
    for wrap in &wraps {
        if wrap.context.wrapper != admin.key_id() {
            return Err(bad_wraps(
                "Every wrap must be signed by the session's administrator.",
            ));
        }
        wrap.verify(directory)
            .map_err(|e| ApiError::rejected(&e, "team wrap"))?;
    }
    let head = directory.head_seq();
    let admins: Vec<KeyId> = directory
        .current_admins()
        .iter()
        .map(|a| a.key_id())
        .collect();
    let writes = {
        let _lock = write_lock();
        let stored = stored_wraps(state)?;
        let next_epoch = stored
            .last()
            .map_or(0, |w| w.context.epoch.saturating_add(1));
        let new_epoch = wraps.iter().any(|w| w.context.epoch >= next_epoch);
        if new_epoch {
            check_new_epoch(&wraps, next_epoch, head, &admins)?;
        } else {
            check_history(&wraps, &stored, &admins)?;
        }
        let writes: Vec<RecordWrite> = wraps
            .iter()
            .map(|w| {
                RecordWrite::put(
                    RecordKind::TeamWrap,
                    wrap_key(w.context.epoch, &w.context.recipient),
                    w.to_bytes(),
                )
            })
            .collect();
        state.store.write_records(&writes)?;
        writes.len()
    };
    drop(directory_guard);
    state.commit().await?;
    Ok(writes)
}

/// The first wraps of epoch `next`: every wrap of that number, opened and verified at the
/// head, one per administrator at the head.
fn check_new_epoch(wraps: &[TeamWrap], next: u32, head: u64, admins: &[KeyId]) -> ApiResult<()> {
    if wraps.iter().any(|w| w.context.epoch > next) {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "epoch_taken",
            "A new team epoch must be the next number; read the team keys again and retry.",
        ));
    }
    if wraps.iter().any(|w| {
        w.context.epoch != next || w.context.opened_at != head || w.context.dir_seq != head
    }) {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "epoch_taken",
            "A new team epoch is opened alone, at the directory head; read again and retry.",
        ));
    }
    let mut recipients: Vec<KeyId> = wraps.iter().map(|w| w.context.recipient).collect();
    recipients.sort_by_key(|k| k.0);
    recipients.dedup();
    let mut expected = admins.to_vec();
    expected.sort_by_key(|k| k.0);
    if recipients.len() != wraps.len() || recipients != expected {
        return Err(bad_wraps(
            "A new team epoch needs exactly one wrap for each administrator at the head.",
        ));
    }
    Ok(())
}

/// History: wraps of existing epochs with their `opened_at`, each for an administrator at the
/// head who has no wrap of that epoch, none twice.
fn check_history(wraps: &[TeamWrap], stored: &[TeamWrap], admins: &[KeyId]) -> ApiResult<()> {
    let mut seen = Vec::new();
    for wrap in wraps {
        let c = wrap.context;
        let Some(first) = stored.iter().find(|s| s.context.epoch == c.epoch) else {
            return Err(bad_wraps(
                "A history wrap must be of an existing team epoch.",
            ));
        };
        if first.context.opened_at != c.opened_at {
            return Err(bad_wraps(
                "A history wrap must carry its epoch's opened_at.",
            ));
        }
        if !admins.contains(&c.recipient) {
            return Err(bad_wraps(
                "History goes only to administrators at the directory head.",
            ));
        }
        let exists = stored
            .iter()
            .any(|s| s.context.epoch == c.epoch && s.context.recipient == c.recipient);
        if exists || seen.contains(&(c.epoch, c.recipient)) {
            return Err(ApiError::new(
                StatusCode::CONFLICT,
                "wrap_exists",
                "A team wrap for this administrator and epoch exists already (or is in the \
                 request twice).",
            ));
        }
        seen.push((c.epoch, c.recipient));
    }
    Ok(())
}

/// A snippet id from a path: 32 lowercase hexadecimal characters.
///
/// # Errors
/// `404 not_found` for anything else (a malformed id names no snippet).
pub fn snippet_id(text: &str) -> ApiResult<SnippetId> {
    let not_found = || ApiError::not_found("snippet");
    if text.len() != 2 * SNIPPET_ID_LEN
        || !text.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
    {
        return Err(not_found());
    }
    let bytes = hex::decode(text).map_err(|_| not_found())?;
    let id: [u8; SNIPPET_ID_LEN] = bytes.try_into().map_err(|_| not_found())?;
    Ok(SnippetId(id))
}

fn item(id: &[u8], record: &SnippetRecord) -> SnippetItem {
    SnippetItem {
        id: hex::encode(id),
        snippet: b64::encode(&record.bytes),
        created_at: record.created_at,
        updated_at: record.updated_at,
    }
}

/// `GET /api/v1/admin/snippets`: every snippet, by id.
///
/// # Errors
/// `unauthorized`, `not_an_administrator`, storage failures.
pub async fn list(
    state: &AppState,
    token: Option<&sealdesk_crypto::AccessToken>,
) -> ApiResult<Vec<SnippetItem>> {
    administrator_session(state, token).await?;
    state
        .store
        .scan(RecordKind::Snippet, &[])?
        .iter()
        .map(|(id, bytes)| Ok(item(id, &from_record(bytes, SNIPPET_RECORD)?)))
        .collect()
}

/// `PUT /api/v1/admin/snippets/{id}`: creates or replaces a snippet written by the session's
/// administrator. The snippet must decode, carry the path's id, be signed by the session's
/// identity, and name a team epoch the server has wraps of. Returns the stored item and
/// whether it was created.
///
/// # Errors
/// `404 not_found` (malformed id), `400 too_large`/`bad_encoding`, `422 malformed`,
/// `422 snippet.wrong_id`, `422 snippet.not_a_member` (signed by another key),
/// `422 snippet.bad_signature`, `422 snippet.bad_epoch` (no such team epoch),
/// `409 too_many_snippets`, `unauthorized`, `not_an_administrator`, storage failures.
pub async fn put(
    state: &AppState,
    token: Option<&sealdesk_crypto::AccessToken>,
    id_text: &str,
    encoded: &str,
) -> ApiResult<(SnippetItem, bool)> {
    let (_, admin) = administrator_session(state, token).await?;
    let id = snippet_id(id_text)?;
    let bytes = from_b64("snippet", encoded, MAX_SNIPPET_LEN)?;
    let snippet = Snippet::from_bytes(&bytes).map_err(|e| ApiError::rejected(&e, "snippet"))?;
    check_snippet(&snippet, &id, &admin)?;
    let (record, created) = {
        let _lock = write_lock();
        let epoch_known = !state
            .store
            .scan(RecordKind::TeamWrap, &snippet.header.epoch.to_be_bytes())?
            .is_empty();
        if !epoch_known {
            return Err(ApiError::rejected(
                &sealdesk_crypto::Error::Snippet(sealdesk_crypto::Fault::BadEpoch),
                "snippet",
            ));
        }
        let previous = state.store.get(RecordKind::Snippet, &id.0)?;
        let created_at = match &previous {
            Some(bytes) => from_record::<SnippetRecord>(bytes, SNIPPET_RECORD)?.created_at,
            None => {
                if state.store.scan(RecordKind::Snippet, &[])?.len() >= MAX_SNIPPETS {
                    return Err(ApiError::new(
                        StatusCode::CONFLICT,
                        "too_many_snippets",
                        format!(
                            "An instance keeps at most {MAX_SNIPPETS} snippets; delete one first."
                        ),
                    ));
                }
                now()
            }
        };
        let record = SnippetRecord {
            bytes,
            created_at,
            updated_at: now(),
        };
        state
            .store
            .put(RecordKind::Snippet, &id.0, &to_record(&record)?, false)?;
        (record, previous.is_none())
    };
    state.commit().await?;
    Ok((item(&id.0, &record), created))
}

/// The checks the server can make of a snippet it cannot read (PROTOCOL.md §18.3 steps 1 and
/// 3, with the session's identity as the signer).
fn check_snippet(snippet: &Snippet, id: &SnippetId, admin: &PublicIdentity) -> ApiResult<()> {
    use sealdesk_crypto::{Error, Fault};
    if snippet.header.id != *id {
        return Err(ApiError::rejected(
            &Error::Snippet(Fault::WrongId),
            "snippet",
        ));
    }
    if snippet.header.signer != admin.key_id() {
        return Err(ApiError::rejected(
            &Error::Snippet(Fault::NotAMember),
            "snippet",
        ));
    }
    snippet
        .verify_signature(admin)
        .map_err(|e| ApiError::rejected(&e, "snippet"))
}

/// `DELETE /api/v1/admin/snippets/{id}`.
///
/// # Errors
/// `404 not_found`, `unauthorized`, `not_an_administrator`, storage failures.
pub async fn delete(
    state: &AppState,
    token: Option<&sealdesk_crypto::AccessToken>,
    id_text: &str,
) -> ApiResult<()> {
    administrator_session(state, token).await?;
    let id = snippet_id(id_text)?;
    if state.store.take(RecordKind::Snippet, &id.0)?.is_none() {
        return Err(ApiError::not_found("snippet"));
    }
    state.commit().await
}
