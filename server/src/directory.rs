//! The administrator directory log (PROTOCOL.md §7): read it, append a verified entry, and
//! create it when the first administrator redeems the command-line invite.

use std::io::Write as _;

use axum::http::StatusCode;
use sealdesk_crypto::{
    AccessToken, Directory, DirectoryEntry, DirectoryHead, ENTRY_LEN, Operation,
};

use crate::encoding::from_b64;
use crate::error::{ApiError, ApiResult};
use crate::invites::{take_cli_invite, take_first_invite};
use crate::sessions::{require_administrator, require_session};
use crate::state::AppState;
use crate::team;

/// The encoded entries from position `since` on, and the head (`None` before the genesis
/// entry), read together under the directory's lock.
///
/// # Errors
/// Storage failures.
pub async fn read(
    state: &AppState,
    since: u64,
) -> ApiResult<(Vec<Vec<u8>>, Option<DirectoryHead>)> {
    let directory = state.directory.read().await;
    let entries = state.store.directory(since)?;
    Ok((entries, directory.as_ref().map(Directory::head)))
}

/// Appends an entry (base64url) signed by a current administrator, after full verification
/// against the stored log, and returns the new head. The genesis entry is created through an
/// invite (not here). The request needs the session of the administrator who signed the
/// entry, and an `add` entry's subject must be a pending administrator (a key whose account
/// redeemed an invite, see [`team`]); its pending record is removed once the entry is durable.
///
/// # Errors
/// `genesis_needs_invite`, `unauthorized`, `not_an_administrator`, `wrong_signer`, `conflict`,
/// `not_pending`, `directory.<fault>`, field errors, storage failures.
pub async fn append(
    state: &AppState,
    token: Option<&AccessToken>,
    entry: &str,
) -> ApiResult<DirectoryHead> {
    let bytes = from_b64("entry", entry, ENTRY_LEN)?;
    let entry = DirectoryEntry::from_bytes(&bytes)
        .map_err(|e| ApiError::rejected(&e, "directory entry"))?;
    if entry.op == Operation::Genesis {
        return Err(ApiError::bad_request(
            "genesis_needs_invite",
            "The first administrator is created by redeeming the command-line invite.",
        ));
    }
    let session = require_session(state, token)?;
    let mut guard = state.directory.write().await;
    let signer = require_administrator(&session, guard.as_ref())?;
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
        team::check_pending(state, &entry)?;
    }
    state.store.append_directory(entry.seq, &bytes)?;
    state.commit().await?;
    *directory = next;
    if entry.op == Operation::Add {
        // Still under the directory lock; see `team::forget_pending` for why afterwards.
        team::forget_pending(state, &entry.subject.key_id()).await;
    }
    Ok(directory.head())
}

/// Stores a verified genesis entry (the first administrator, through the command-line
/// invite). Used by [`redeem_genesis`].
///
/// # Errors
/// `conflict` if the directory exists; `directory.<fault>`; storage failures.
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
    // The operator publishes this (PROTOCOL.md §7.6); `sealdesk serve` prints it from now on.
    // Never panics: standard output may be closed by now.
    let _ = writeln!(
        std::io::stdout(),
        "The first administrator is set up. Instance fingerprint: {}",
        directory.instance_fingerprint()
    );
    tracing::info!(fingerprint = %directory.instance_fingerprint(), "directory created");
    *guard = Some(directory);
    Ok(())
}

/// The instance fingerprint (PROTOCOL.md §7.6) of the directory stored in `data_dir`, for
/// `sealdesk config check`; `Ok(None)` when there is no data directory or no administrator
/// yet. Opens the database, so it fails while a server holds it.
///
/// # Errors
/// A sentence for the operator: the database cannot be opened (for example a running server
/// holds it) or its directory does not verify.
pub fn stored_instance_fingerprint(data_dir: &std::path::Path) -> Result<Option<String>, String> {
    use crate::storage::Store as _;
    if !data_dir.join("db").exists() {
        return Ok(None);
    }
    let store = crate::storage::sled_store::SledStore::open(data_dir)
        .map_err(|e| format!("cannot open the database (is the server running?): {e}"))?;
    let entries = store.directory(0).map_err(|e| e.to_string())?;
    if entries.is_empty() {
        return Ok(None);
    }
    let directory = Directory::verify_encoded(&entries)
        .map_err(|e| format!("the stored administrator directory does not verify ({e})"))?;
    Ok(Some(directory.instance_fingerprint()))
}

/// The first administrator redeems the command-line invite (base64url token) with its
/// self-signed genesis entry (base64url); returns the directory's head.
///
/// # Errors
/// `bad_invite`, `conflict`, `invalid_invite`, `directory.<fault>`, field errors, storage
/// failures.
pub async fn redeem_genesis(
    state: &AppState,
    invite: &str,
    entry: &str,
) -> ApiResult<DirectoryHead> {
    let token = AccessToken::from_base64url(invite)
        .map_err(|_| ApiError::bad_request("bad_invite", "The invite token is malformed."))?;
    let entry = from_b64("entry", entry, ENTRY_LEN)?;
    if state.directory.read().await.is_some() {
        return Err(ApiError::conflict(
            "The directory already has its first administrator.",
        ));
    }
    if !take_first_invite(&state.data_dir, &token) && !take_cli_invite(&state.data_dir, &token) {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "invalid_invite",
            "This invite is unknown, used or expired; ask for a new one.",
        ));
    }
    create_genesis(state, &entry).await?;
    tracing::info!("first administrator created");
    let directory = state.directory.read().await;
    let head = directory.as_ref().map(|d| d.head()).ok_or_else(|| {
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "storage",
            "Directory missing.",
        )
    })?;
    Ok(head)
}
