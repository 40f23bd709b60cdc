//! The administrator directory log (PROTOCOL.md §7): read it, append a verified entry.

use std::sync::Arc;

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use sealdesk_crypto::{Directory, DirectoryEntry, ENTRY_LEN, Operation};
use serde::{Deserialize, Serialize};

use super::accounts::require_session;
use super::encoding::{b64, from_b64};
use super::error::{ApiError, ApiResult};
use super::extract::{Json, Query};
use super::{AppState, team};

/// Query of `GET /api/v1/directory`.
#[derive(Deserialize)]
pub struct ReadQuery {
    /// Return entries from this position on (default 0: the whole log).
    #[serde(default)]
    pub since: u64,
}

/// Answer of `GET /api/v1/directory`.
#[derive(Serialize)]
pub struct DirectoryAnswer {
    /// Encoded entries (base64url), from `since` on.
    pub entries: Vec<String>,
    /// The head, or `null` before the genesis entry.
    pub head: Option<Head>,
}

/// A directory head.
#[derive(Serialize)]
pub struct Head {
    /// Position of the last entry.
    pub seq: u64,
    /// Its hash (base64url).
    pub hash: String,
}

fn head_of(directory: &Directory) -> Head {
    let head = directory.head();
    Head {
        seq: head.seq,
        hash: b64(&head.hash),
    }
}

/// `GET /api/v1/directory?since=N`.
pub async fn read(
    State(state): State<Arc<AppState>>,
    Query(query): Query<ReadQuery>,
) -> ApiResult<Json<DirectoryAnswer>> {
    let directory = state.directory.read().await;
    let entries = state.store.directory(query.since)?;
    Ok(Json(DirectoryAnswer {
        entries: entries.iter().map(|e| b64(e)).collect(),
        head: directory.as_ref().map(head_of),
    }))
}

/// Body of `POST /api/v1/directory`.
#[derive(Deserialize)]
pub struct AppendBody {
    /// The encoded entry (base64url, 202 bytes).
    pub entry: String,
}

/// `POST /api/v1/directory`: appends an entry signed by a current administrator, after full
/// verification against the stored log. The genesis entry is created through an invite
/// (not by this route). The request needs the session of the administrator who signed the
/// entry, and an `add` entry's subject must be a pending administrator (a key whose account
/// redeemed an invite, see [`team`]); its pending record is removed once the entry is durable.
pub async fn append(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Json(body): Json<AppendBody>,
) -> ApiResult<(StatusCode, Json<Head>)> {
    let bytes = from_b64("entry", &body.entry, ENTRY_LEN)?;
    let entry = DirectoryEntry::from_bytes(&bytes)
        .map_err(|e| ApiError::rejected(&e, "directory entry"))?;
    if entry.op == Operation::Genesis {
        return Err(ApiError::bad_request(
            "genesis_needs_invite",
            "The first administrator is created by redeeming the command-line invite.",
        ));
    }
    let session = require_session(&state, &headers)?;
    let mut guard = state.directory.write().await;
    let signer = team::require_administrator(&session, guard.as_ref())?;
    let directory = guard.as_mut().ok_or_else(|| {
        ApiError::conflict("There is no administrator yet: redeem the first invite.")
    })?;
    if entry.signer != signer.key_id() {
        return Err(ApiError::bad_request(
            "wrong_signer",
            "The entry must be signed by the signed-in administrator's key.",
        ));
    }
    if entry.seq != directory.head_seq() + 1 {
        return Err(ApiError::conflict(
            "The directory moved on; read it again and sign the entry at the new head.",
        ));
    }
    let mut next = directory.clone();
    next.extend(std::slice::from_ref(&entry))
        .map_err(|e| ApiError::rejected(&e, "directory entry"))?;
    if entry.op == Operation::Add {
        team::check_pending(&state, &entry)?;
    }
    state.store.append_directory(entry.seq, &bytes)?;
    state.commit().await?;
    *directory = next;
    if entry.op == Operation::Add {
        // Still under the directory lock; see `team::forget_pending` for why afterwards.
        team::forget_pending(&state, &entry.subject.key_id()).await;
    }
    Ok((StatusCode::CREATED, Json(head_of(directory))))
}

/// Stores a verified genesis entry (the first administrator, through the command-line
/// invite). Used by the invite redemption route.
pub async fn create_genesis(state: &AppState, bytes: &[u8]) -> ApiResult<()> {
    let entry =
        DirectoryEntry::from_bytes(bytes).map_err(|e| ApiError::rejected(&e, "directory entry"))?;
    let mut guard = state.directory.write().await;
    if guard.is_some() {
        return Err(ApiError::conflict(
            "The directory already has its first administrator.",
        ));
    }
    let directory = Directory::verify(std::slice::from_ref(&entry))
        .map_err(|e| ApiError::rejected(&e, "directory entry"))?;
    state.store.append_directory(0, bytes)?;
    state.commit().await?;
    *guard = Some(directory);
    Ok(())
}
