//! The team (spec/API.md, "Team"): administrator invites, pending administrators, history
//! wraps for a new member and ticket assignment.
//!
//! Adding an administrator takes three steps, so that no key becomes an administrator without
//! an existing administrator's signature over it (PROTOCOL.md §7):
//!
//! 1. an administrator creates an invite (`POST /api/v1/admin/invites`): a random 256-bit token
//!    of which only the hash is stored, sent to the new administrator out of band;
//! 2. the new administrator signs in with an account (which proved at registration that it
//!    holds its identity's signing key, PROTOCOL.md §12.4) and redeems the invite: its identity
//!    becomes a *pending administrator*;
//! 3. an administrator compares the pending key's fingerprint out of band and appends the `add`
//!    directory entry (`POST /api/v1/directory`), which the server accepts only for a pending
//!    key ([`check_pending`]) and which removes the pending record ([`forget_pending`]).
//!
//! The new administrator then receives history: an existing administrator's client wraps the
//! keys of already opened epochs for it (`POST /api/v1/tickets/{id}/wraps`).

use std::collections::BTreeSet;

use axum::http::StatusCode;
use sealdesk_crypto::{
    AccessToken, Chain, ChainState, Directory, DirectoryEntry, KeyId, PublicIdentity, WRAP_LEN,
    system_rng,
};
use sealdesk_wire::b64;
use sealdesk_wire::team::PendingAdministrator;
use serde::{Deserialize, Serialize};

use crate::clock::now;
use crate::encoding::{from_b64_array, from_record, ticket_id, to_record};
use crate::error::{ApiError, ApiResult};
use crate::invites;
use crate::mail::outbox::{self, MailKind};
use crate::mail::preferences;
use crate::sessions::{identity_of, require_administrator, require_session};
use crate::state::AppState;
use crate::storage::{RecordKind, StoreError};
use crate::tickets::{corrupt_record, decode_wraps, members_of, no_administrators, wrap_records};

// ---- stored records ----

/// An invite made by an administrator, stored under the token's hash (PROTOCOL.md §11
/// `token_hash`) in [`RecordKind::Invite`]. The token itself is never stored.
#[derive(Serialize, Deserialize)]
struct InviteRecord {
    /// Unix seconds.
    created_at: u64,
    /// Unix seconds after which the invite is refused.
    expires_at: u64,
    /// Key id (base64url) of the administrator who made it.
    created_by: String,
}

/// A redeemed invite waiting for an administrator's `add` entry, stored under the key id of
/// the account's identity in [`RecordKind::PendingAdmin`].
#[derive(Serialize, Deserialize)]
struct PendingRecord {
    /// The account's public identity (64 bytes, base64url).
    identity: String,
    /// The account's normalised username.
    username: String,
    /// The account's id.
    account_id: String,
    /// Unix seconds.
    redeemed_at: u64,
}

/// What this module's records are called when one is damaged (the answer's sentence has been
/// "A stored record is damaged; nothing was changed." since before the records were shared).
const RECORDS: &str = "record";

// ---- errors and checks ----

fn invalid_invite() -> ApiError {
    ApiError::new(
        StatusCode::FORBIDDEN,
        "invalid_invite",
        "This invite is unknown, used or expired; ask for a new one.",
    )
}

fn wrap_exists() -> ApiError {
    ApiError::new(
        StatusCode::CONFLICT,
        "wrap_exists",
        "A wrap for this member, chain and epoch exists already (or is in the request twice).",
    )
}

/// Whether `key_id` is or ever was an administrator (a removed administrator returns only
/// with a new key, PROTOCOL.md §7.3).
fn ever_administrator(directory: &Directory, key_id: &KeyId) -> bool {
    directory
        .entries()
        .iter()
        .any(|entry| entry.subject.key_id() == *key_id)
}

// ---- directory integration (called by `POST /api/v1/directory`) ----

/// Checks that an `add` entry's subject is a pending administrator (its account redeemed an
/// invite). `409 not_pending` otherwise.
///
/// # Errors
/// `not_pending`, storage failures.
pub fn check_pending(state: &AppState, entry: &DirectoryEntry) -> ApiResult<()> {
    let not_pending = || {
        ApiError::new(
            StatusCode::CONFLICT,
            "not_pending",
            "This key has not redeemed an administrator invite; send it an invite first.",
        )
    };
    let key_id = entry.subject.key_id();
    let Some(bytes) = state.store.get(RecordKind::PendingAdmin, &key_id.0)? else {
        return Err(not_pending());
    };
    let record: PendingRecord = from_record(&bytes, RECORDS)?;
    // The key id is a hash of both public keys; compare the whole identity anyway.
    if record.identity != b64::encode(&entry.subject.to_bytes()) {
        return Err(not_pending());
    }
    Ok(())
}

/// Removes the pending record of a key whose `add` entry was just made durable. The store
/// cannot append the entry and remove the record in one transaction; removing it *after* the
/// durable append is the safe order: a crash in between leaves a record for a key that is now
/// an administrator, which nothing can use (a key that ever was an administrator is never
/// added again, redeeming refuses administrators, and [`list_pending`] drops such records),
/// whereas removing it first could lose a redemption whose entry never got stored.
pub async fn forget_pending(state: &AppState, key_id: &KeyId) {
    let removed = state.store.take(RecordKind::PendingAdmin, &key_id.0);
    let result = match removed {
        Ok(_) => state.commit().await.map_err(|e| e.message),
        Err(e) => Err(e.to_string()),
    };
    if let Err(error) = result {
        // The add is durable; the stale record is dropped at the next listing.
        tracing::warn!(%error, "could not remove a pending-administrator record");
    }
}

// ---- invites ----

/// Creates a single-use invite made by `admin`, valid for `invite_ttl_seconds`, and returns
/// its token (shown once, never stored) and expiry (Unix seconds).
///
/// # Errors
/// Storage failures.
pub async fn create_invite(
    state: &AppState,
    admin: &PublicIdentity,
) -> ApiResult<(AccessToken, u64)> {
    let time = now();
    // Housekeeping: forget invites that expired unredeemed.
    for (key, value) in state.store.scan(RecordKind::Invite, &[])? {
        let expired = serde_json::from_slice::<InviteRecord>(&value)
            .map_or(true, |invite| invite.expires_at < time);
        if expired {
            state.store.take(RecordKind::Invite, &key)?;
        }
    }
    let token = AccessToken::generate(&mut system_rng());
    let expires_at = time.saturating_add(state.limits.invite_ttl_seconds);
    let record = InviteRecord {
        created_at: time,
        expires_at,
        created_by: b64::encode(&admin.key_id().0),
    };
    state.store.put(
        RecordKind::Invite,
        &token.hash(),
        &to_record(&record)?,
        true,
    )?;
    state.commit().await?;
    tracing::info!(by = %admin.key_id(), "administrator invite created");
    Ok((token, expires_at))
}

/// Consumes the invite (base64url token) and records the session's account identity as a
/// pending administrator; returns that identity. `username` is the one the invite page
/// showed and must be the session's account's.
///
/// # Errors
/// `unauthorized`, `bad_invite`, `wrong_username`, `no_administrators`,
/// `already_administrator`, `already_pending`, `invalid_invite`, storage failures.
pub async fn redeem_invite(
    state: &AppState,
    token: Option<&AccessToken>,
    invite: &str,
    username: &str,
) -> ApiResult<PublicIdentity> {
    let session = require_session(state, token)?;
    let token = AccessToken::from_base64url(invite)
        .map_err(|_| ApiError::bad_request("bad_invite", "The invite token is malformed."))?;
    if !username.eq_ignore_ascii_case(&session.account.username) {
        return Err(ApiError::bad_request(
            "wrong_username",
            "The invite is redeemed by the signed-in account; sign in as the account named.",
        ));
    }
    let identity = identity_of(&session)?;
    let key_id = identity.key_id();

    // Serialised with directory appends, so the checks below stay true until the record
    // is written.
    let directory_guard = state.directory.read().await;
    let directory = directory_guard.as_ref().ok_or_else(no_administrators)?;
    if ever_administrator(directory, &key_id) {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "already_administrator",
            "This account's key is or was an administrator; a removed administrator returns \
             only with a new key (a new account).",
        ));
    }
    let already_pending = || {
        ApiError::new(
            StatusCode::CONFLICT,
            "already_pending",
            "This account already redeemed an invite and waits for an administrator's approval.",
        )
    };
    if state
        .store
        .get(RecordKind::PendingAdmin, &key_id.0)?
        .is_some()
    {
        return Err(already_pending());
    }
    // Single use: of concurrent redemptions only one `take` finds the record.
    let token_hash = token.hash();
    let time = now();
    let panel_invite = state.store.take(RecordKind::Invite, &token_hash)?;
    let valid = match &panel_invite {
        // An expired invite stays removed.
        Some(bytes) => from_record::<InviteRecord>(bytes, RECORDS)?.expires_at >= time,
        // Invites made with `sealdesk admin invite` are files (they must work while `serve`
        // holds the database lock); the file is consumed the same single-use way.
        None => invites::take_cli_invite(&state.data_dir, &token),
    };
    if !valid {
        return Err(invalid_invite());
    }
    let record = PendingRecord {
        identity: b64::encode(&identity.to_bytes()),
        username: session.account.username.clone(),
        account_id: session.account.account_id.clone(),
        redeemed_at: time,
    };
    match state.store.put(
        RecordKind::PendingAdmin,
        &key_id.0,
        &to_record(&record)?,
        true,
    ) {
        Ok(()) => {}
        Err(StoreError::Conflict(_)) => {
            // A concurrent redemption by the same account won: give a panel invite back (a
            // command-line invite is spent; the operator can print another).
            if let Some(bytes) = &panel_invite {
                state
                    .store
                    .put(RecordKind::Invite, &token_hash, bytes, true)?;
            }
            return Err(already_pending());
        }
        Err(other) => return Err(other.into()),
    }
    drop(directory_guard);
    state.commit().await?;
    tracing::info!(account = %session.account.account_id, "administrator invite redeemed");
    Ok(identity)
}

// ---- pending administrators ----

/// The keys that redeemed an invite and wait for an `add` entry, oldest redemption first
/// (for an administrator's session). Records of keys that are (or were) administrators
/// already, left by a crash between an add and the record's removal, are dropped here.
///
/// # Errors
/// `unauthorized`, `not_an_administrator`, storage failures.
pub async fn list_pending(
    state: &AppState,
    token: Option<&AccessToken>,
) -> ApiResult<Vec<PendingAdministrator>> {
    let session = require_session(state, token)?;
    let directory_guard = state.directory.read().await;
    require_administrator(&session, directory_guard.as_ref())?;
    let directory = directory_guard.as_ref().ok_or_else(no_administrators)?;
    let mut pending = Vec::new();
    for (key, value) in state.store.scan(RecordKind::PendingAdmin, &[])? {
        let record: PendingRecord = from_record(&value, RECORDS)?;
        let identity = from_b64_array::<64>("identity", &record.identity)
            .ok()
            .and_then(|bytes| PublicIdentity::from_bytes(&bytes).ok())
            .ok_or_else(corrupt_pending)?;
        if ever_administrator(directory, &identity.key_id()) {
            state.store.take(RecordKind::PendingAdmin, &key)?;
            continue;
        }
        pending.push(PendingAdministrator {
            key_id: b64::encode(&identity.key_id().0),
            identity: record.identity,
            username: record.username,
            redeemed_at: record.redeemed_at,
            fingerprint: identity.fingerprint(),
        });
    }
    pending.sort_by(|a, b| {
        a.redeemed_at
            .cmp(&b.redeemed_at)
            .then_with(|| a.key_id.cmp(&b.key_id))
    });
    Ok(pending)
}

fn corrupt_pending() -> ApiError {
    tracing::error!("a stored pending-administrator record does not decode");
    ApiError::new(
        StatusCode::INTERNAL_SERVER_ERROR,
        "storage",
        "A stored record is damaged; nothing was changed.",
    )
}

/// Declines the pending administrator `key_id` (base64url); its account keeps its reporter
/// role and needs a new invite to ask again. The caller checked the administrator's session.
///
/// # Errors
/// `not_found`, storage failures.
pub async fn decline_pending(state: &AppState, key_id: &str) -> ApiResult<()> {
    let key_id = from_b64_array::<32>("key_id", key_id)
        .map_err(|_| ApiError::not_found("pending administrator"))?;
    state
        .store
        .take(RecordKind::PendingAdmin, &key_id)?
        .ok_or_else(|| ApiError::not_found("pending administrator"))?;
    state.commit().await
}

// ---- history wraps ----

/// History wraps (for an administrator's session, or the session of an account that keeps
/// the ticket): stores the keys of epochs that are already open on ticket `id` (hex) for a
/// member who joined later (a new administrator, an endorsed reporter key, the keeping
/// account), and returns how many were stored. Each wrap must be signed by the session's
/// administrator (or, for a keeping account, by a reporter key of the conversation and
/// addressed to the account's own key on the conversation), verify (PROTOCOL.md §6.3) against the stored state of its chain, the
/// directory and the ticket's members, and go to a member of that chain at the directory
/// head; none may exist already. All or nothing.
///
/// # Errors
/// `unauthorized`, `not_an_administrator`, `wrong_wrapper`, `wrap.not_a_member`,
/// `wrap_exists`, `wrap.<fault>`, field errors, storage failures.
pub async fn add_wraps(
    state: &AppState,
    id: &str,
    token: Option<&AccessToken>,
    wraps: &[String],
) -> ApiResult<usize> {
    let id = ticket_id(id)?;
    let wraps = decode_wraps(wraps)?;
    let session = require_session(state, token)?;
    // Looked up before the lock is taken, so that random ids never enter the lock map.
    if state.store.ticket(&id)?.is_none() {
        return Err(ApiError::not_found("ticket"));
    }

    let lock = state.ticket_lock(id);
    let _serialised = lock.lock().await;
    let directory_guard = state.directory.read().await;
    let directory = directory_guard.as_ref().ok_or_else(no_administrators)?;
    let mut record = state
        .store
        .ticket(&id)?
        .ok_or_else(|| ApiError::not_found("ticket"))?;
    // An administrator wraps for any current member; an account that keeps the ticket
    // receives, from the reporter's client, the conversation's keys for its own identity
    // (PROTOCOL.md §15, "Keeping an anonymous ticket in an account").
    let wrapper = if session.owns(&record) && !session.is_administrator(directory) {
        Wrapper::ReporterFor(identity_of(&session)?.key_id())
    } else {
        Wrapper::Administrator(require_administrator(&session, Some(directory))?.key_id())
    };
    let members = members_of(&record)?;
    let chain_states = [
        ChainState::from_bytes(&record.chain_states[0]).map_err(|_| corrupt_record())?,
        ChainState::from_bytes(&record.chain_states[1]).map_err(|_| corrupt_record())?,
    ];
    let head = directory.head_seq();
    let mut seen = BTreeSet::new();
    for wrap in &wraps {
        let c = &wrap.context;
        let allowed = match wrapper {
            Wrapper::Administrator(admin) => c.wrapper == admin,
            Wrapper::ReporterFor(account) => {
                c.chain == Chain::Conversation
                    && c.recipient == account
                    && chain_states[0]
                        .reporters()
                        .iter()
                        .any(|r| r.key_id() == c.wrapper)
            }
        };
        if !allowed {
            return Err(ApiError::bad_request(
                "wrong_wrapper",
                "Wraps are accepted from the signed-in administrator's key, or from a reporter \
                 key for the signed-in account's own key on the conversation.",
            ));
        }
        let chain_state = &chain_states[usize::from(c.chain.to_u8())];
        wrap.verify(&members, directory, chain_state)
            .map_err(|e| ApiError::rejected(&e, "wrapped key"))?;
        // §6.3 checks membership at the wrap's `dir_seq`; history goes only to members at
        // the head, so a removed administrator gets nothing new.
        if chain_state
            .member_at(&members, directory, head, &c.recipient)
            .is_none()
        {
            return Err(ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "wrap.not_a_member",
                "The recipient is not a current member of the chain.",
            ));
        }
        if !seen.insert((c.chain.to_u8(), c.epoch, c.recipient)) {
            return Err(wrap_exists());
        }
        let stored = state
            .store
            .wraps_for(&id, c.chain.to_u8(), &c.recipient.0)?;
        if stored.iter().any(|w| w.epoch == c.epoch) {
            return Err(wrap_exists());
        }
    }
    if wraps.is_empty() {
        return Ok(0);
    }

    // The store cannot add wraps and update the ticket in one transaction. The count goes
    // first: a crash between the two writes leaves the count too high (the quota errs on the
    // side of refusing), never too low. History wraps are not refused by the quota: they are
    // bounded by the ticket's epochs times its members, and refusing them would lock a new
    // administrator out of the ticket.
    let before = record.clone();
    record.storage_bytes = record
        .storage_bytes
        .saturating_add((wraps.len() * WRAP_LEN) as u64);
    state.store.update_ticket(&record)?;
    if let Err(error) = state.store.put_wraps(&id, &wrap_records(&wraps)) {
        // Under the ticket lock nothing else writes this ticket's wraps, so this is a storage
        // failure in practice; put the count back.
        state.store.update_ticket(&before)?;
        return Err(match error {
            StoreError::Conflict(_) => wrap_exists(),
            other => other.into(),
        });
    }
    drop(directory_guard);
    state.commit().await?;
    tracing::info!(ticket = %sealdesk_crypto::TicketId(id).to_hex(), count = wraps.len(), "history wraps stored");
    Ok(wraps.len())
}

/// Who posts history wraps (see [`add_wraps`]).
#[derive(Clone, Copy)]
enum Wrapper {
    /// An administrator: the wraps are signed by this key id.
    Administrator(KeyId),
    /// An account that keeps the ticket: the wraps are signed by a reporter key of the
    /// conversation and addressed to this key id, the account's own.
    ReporterFor(KeyId),
}

// ---- assignment ----

/// Assigns ticket `id` (hex) to a current administrator (`assigned_to`, a key id in
/// base64url), or unassigns it (`None`), for an administrator's session.
///
/// # Errors
/// `unauthorized`, `not_an_administrator`, `bad_assignee`, `not_found`, field errors, storage
/// failures.
pub async fn assign(
    state: &AppState,
    id: &str,
    token: Option<&AccessToken>,
    assigned_to: Option<&str>,
) -> ApiResult<()> {
    let id = ticket_id(id)?;
    let assignee = assigned_to
        .map(|text| from_b64_array::<32>("assigned_to", text))
        .transpose()?;
    let session = require_session(state, token)?;
    // Looked up before the lock is taken, so that random ids never enter the lock map.
    if state.store.ticket(&id)?.is_none() {
        return Err(ApiError::not_found("ticket"));
    }

    let lock = state.ticket_lock(id);
    let _serialised = lock.lock().await;
    let directory_guard = state.directory.read().await;
    let assigner = require_administrator(&session, directory_guard.as_ref())?.key_id();
    let directory = directory_guard.as_ref().ok_or_else(no_administrators)?;
    if let Some(key_id) = assignee
        && directory
            .admin_at(directory.head_seq(), &KeyId(key_id))
            .is_none()
    {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "bad_assignee",
            "Tickets are assigned to current administrators only.",
        ));
    }
    let mut record = state
        .store
        .ticket(&id)?
        .ok_or_else(|| ApiError::not_found("ticket"))?;
    let newly_assigned = assignee.filter(|a| record.assigned_to != Some(*a) && *a != assigner.0);
    record.assigned_to = assignee;
    // "Assigned to you" for an administrator who chose it, queued with the assignment.
    let mail_writes = match newly_assigned {
        Some(key_id) => preferences::admin_mail_writes(
            state,
            MailKind::AdminAssigned,
            Some(id),
            Some(&key_id),
            now(),
        )?,
        None => Vec::new(),
    };
    state.store.update_ticket_with(&record, &mail_writes)?;
    drop(directory_guard);
    state.commit().await?;
    if !mail_writes.is_empty() {
        outbox::wake(state);
    }
    Ok(())
}
