//! Team administration (spec/API.md, "Team"): administrator invites, pending administrators,
//! history wraps for a new member and ticket assignment.
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
use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use sealdesk_crypto::{
    AccessToken, ChainState, Directory, DirectoryEntry, KeyId, PublicIdentity, WRAP_LEN, system_rng,
};
use serde::{Deserialize, Serialize};

use super::accounts::{Session, require_session};
use super::encoding::{b64, from_b64_array, ticket_id};
use super::error::{ApiError, ApiResult};
use super::extract::Json;
use super::tickets::{corrupt_record, decode_wraps, members_of, no_administrators, wrap_records};
use super::{AppState, now};
use crate::storage::{RecordKind, StoreError};

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

fn encode<T: Serialize>(value: &T) -> ApiResult<Vec<u8>> {
    serde_json::to_vec(value).map_err(|e| StoreError::Backend(e.to_string()).into())
}

fn decode<T: for<'de> Deserialize<'de>>(bytes: &[u8]) -> ApiResult<T> {
    serde_json::from_slice(bytes).map_err(|_| {
        tracing::error!("a stored invite or pending-administrator record does not decode");
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "storage",
            "A stored record is damaged; nothing was changed.",
        )
    })
}

// ---- errors and checks ----

fn not_an_administrator() -> ApiError {
    ApiError::new(
        StatusCode::FORBIDDEN,
        "not_an_administrator",
        "Only administrators may do this.",
    )
}

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

/// The session account's public identity.
fn identity_of(session: &Session) -> ApiResult<PublicIdentity> {
    PublicIdentity::from_bytes(&session.account.identity).map_err(|_| {
        tracing::error!("a stored account identity does not decode");
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "storage",
            "A stored account record is damaged; nothing was changed.",
        )
    })
}

/// The session's identity if it is an administrator at the directory head, else
/// `403 not_an_administrator`.
///
/// # Errors
/// `not_an_administrator`.
pub(super) fn require_administrator(
    session: &Session,
    directory: Option<&Directory>,
) -> ApiResult<PublicIdentity> {
    match directory {
        Some(directory) if session.is_administrator(directory) => identity_of(session),
        _ => Err(not_an_administrator()),
    }
}

/// A valid session of an administrator (at the directory head now), with its identity.
///
/// # Errors
/// `unauthorized` without a valid session, `not_an_administrator` otherwise.
pub(super) async fn administrator_session(
    state: &AppState,
    headers: &HeaderMap,
) -> ApiResult<(Session, PublicIdentity)> {
    let session = require_session(state, headers)?;
    let identity = require_administrator(&session, state.directory.read().await.as_ref())?;
    Ok((session, identity))
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
pub(super) fn check_pending(state: &AppState, entry: &DirectoryEntry) -> ApiResult<()> {
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
    let record: PendingRecord = decode(&bytes)?;
    // The key id is a hash of both public keys; compare the whole identity anyway.
    if record.identity != b64(&entry.subject.to_bytes()) {
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
pub(super) async fn forget_pending(state: &AppState, key_id: &KeyId) {
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

/// Answer of `POST /api/v1/admin/invites`.
#[derive(Serialize)]
pub struct InviteOut {
    /// The invite token (32 bytes, base64url): the web app puts it in the fragment of
    /// `/admin/invite#<token>`. It is shown once and not stored.
    pub invite: String,
    /// Unix seconds after which the invite is refused.
    pub expires_at: u64,
}

/// `POST /api/v1/admin/invites` (administrator session): creates a single-use invite valid
/// for `invite_ttl_seconds`.
pub async fn create_invite(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
) -> ApiResult<(StatusCode, Json<InviteOut>)> {
    let (_, admin) = administrator_session(&state, &headers).await?;
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
        created_by: b64(&admin.key_id().0),
    };
    state
        .store
        .put(RecordKind::Invite, &token.hash(), &encode(&record)?, true)?;
    state.commit().await?;
    tracing::info!(by = %admin.key_id(), "administrator invite created");
    Ok((
        StatusCode::CREATED,
        Json(InviteOut {
            invite: token.to_base64url(),
            expires_at,
        }),
    ))
}

/// Body of `POST /api/v1/admin/invites/redeem`.
#[derive(Deserialize)]
pub struct RedeemBody {
    /// The invite token from the URL fragment (32 bytes, base64url).
    pub invite: String,
    /// The username the invite page showed; must be the session's account's.
    pub username: String,
}

/// Answer of `POST /api/v1/admin/invites/redeem`.
#[derive(Serialize)]
pub struct Redeemed {
    /// Key id (base64url) of the account's identity, now a pending administrator.
    pub key_id: String,
    /// Its fingerprint (PROTOCOL.md §4.3), to read out to the approving administrator.
    pub fingerprint: String,
}

/// `POST /api/v1/admin/invites/redeem` (account session): consumes the invite and records
/// the session's account identity as a pending administrator.
pub async fn redeem_invite(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Json(body): Json<RedeemBody>,
) -> ApiResult<(StatusCode, Json<Redeemed>)> {
    let session = require_session(&state, &headers)?;
    let token = AccessToken::from_base64url(&body.invite)
        .map_err(|_| ApiError::bad_request("bad_invite", "The invite token is malformed."))?;
    if !body
        .username
        .eq_ignore_ascii_case(&session.account.username)
    {
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
        Some(bytes) => decode::<InviteRecord>(bytes)?.expires_at >= time,
        // Invites made with `sealdesk admin invite` are files (they must work while `serve`
        // holds the database lock); the file is consumed the same single-use way.
        None => super::invites::take_cli_invite(&state.data_dir, &token),
    };
    if !valid {
        return Err(invalid_invite());
    }
    let record = PendingRecord {
        identity: b64(&identity.to_bytes()),
        username: session.account.username.clone(),
        account_id: session.account.account_id.clone(),
        redeemed_at: time,
    };
    match state
        .store
        .put(RecordKind::PendingAdmin, &key_id.0, &encode(&record)?, true)
    {
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
    Ok((
        StatusCode::CREATED,
        Json(Redeemed {
            key_id: b64(&key_id.0),
            fingerprint: identity.fingerprint(),
        }),
    ))
}

// ---- pending administrators ----

/// One pending administrator.
#[derive(Serialize)]
pub struct PendingOut {
    /// Key id (base64url).
    pub key_id: String,
    /// Public identity (64 bytes, base64url): the `add` entry's subject.
    pub identity: String,
    /// The account's username.
    pub username: String,
    /// Unix seconds.
    pub redeemed_at: u64,
    /// Fingerprint of the key id (PROTOCOL.md §4.3), to compare out of band.
    pub fingerprint: String,
}

/// Answer of `GET /api/v1/admin/pending`.
#[derive(Serialize)]
pub struct PendingList {
    /// Oldest redemption first.
    pub pending: Vec<PendingOut>,
}

/// `GET /api/v1/admin/pending` (administrator session): keys that redeemed an invite and wait
/// for an `add` entry. Records of keys that are (or were) administrators already, left by a
/// crash between an add and the record's removal, are dropped here.
pub async fn list_pending(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
) -> ApiResult<Json<PendingList>> {
    let session = require_session(&state, &headers)?;
    let directory_guard = state.directory.read().await;
    require_administrator(&session, directory_guard.as_ref())?;
    let directory = directory_guard.as_ref().ok_or_else(no_administrators)?;
    let mut pending = Vec::new();
    for (key, value) in state.store.scan(RecordKind::PendingAdmin, &[])? {
        let record: PendingRecord = decode(&value)?;
        let identity = super::encoding::from_b64_array::<64>("identity", &record.identity)
            .ok()
            .and_then(|bytes| PublicIdentity::from_bytes(&bytes).ok())
            .ok_or_else(corrupt_pending)?;
        if ever_administrator(directory, &identity.key_id()) {
            state.store.take(RecordKind::PendingAdmin, &key)?;
            continue;
        }
        pending.push(PendingOut {
            key_id: b64(&identity.key_id().0),
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
    Ok(Json(PendingList { pending }))
}

fn corrupt_pending() -> ApiError {
    tracing::error!("a stored pending-administrator record does not decode");
    ApiError::new(
        StatusCode::INTERNAL_SERVER_ERROR,
        "storage",
        "A stored record is damaged; nothing was changed.",
    )
}

/// `DELETE /api/v1/admin/pending/{key_id}` (administrator session): declines a pending
/// administrator (its account keeps its reporter role; it needs a new invite to ask again).
pub async fn decline_pending(
    State(state): State<Arc<AppState>>,
    Path(key_id): Path<String>,
    headers: HeaderMap,
) -> ApiResult<StatusCode> {
    administrator_session(&state, &headers).await?;
    let key_id = from_b64_array::<32>("key_id", &key_id)
        .map_err(|_| ApiError::not_found("pending administrator"))?;
    state
        .store
        .take(RecordKind::PendingAdmin, &key_id)?
        .ok_or_else(|| ApiError::not_found("pending administrator"))?;
    state.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}

// ---- history wraps ----

/// Body of `POST /api/v1/tickets/{id}/wraps`.
#[derive(Deserialize)]
pub struct WrapsBody {
    /// Wraps (238 bytes each, base64url) of already opened epochs, at most 256.
    pub wraps: Vec<String>,
}

/// Answer of `POST /api/v1/tickets/{id}/wraps`.
#[derive(Serialize)]
pub struct WrapsStored {
    /// How many wraps were stored.
    pub stored: usize,
}

/// `POST /api/v1/tickets/{id}/wraps` (administrator session): stores the keys of epochs that
/// are already open for a member who joined later (a new administrator, an endorsed reporter
/// key). Each wrap must be signed by the session's administrator, verify (PROTOCOL.md §6.3)
/// against the stored state of its chain, the directory and the ticket's members, and go to
/// a member of that chain at the directory head; none may exist already. All or nothing.
pub async fn add_wraps(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
    headers: HeaderMap,
    Json(body): Json<WrapsBody>,
) -> ApiResult<(StatusCode, Json<WrapsStored>)> {
    let id = ticket_id(&id)?;
    let wraps = decode_wraps(&body.wraps)?;
    let session = require_session(&state, &headers)?;

    let lock = state.ticket_lock(id);
    let _serialised = lock.lock().await;
    let directory_guard = state.directory.read().await;
    let admin = require_administrator(&session, directory_guard.as_ref())?;
    let directory = directory_guard.as_ref().ok_or_else(no_administrators)?;
    let mut record = state
        .store
        .ticket(&id)?
        .ok_or_else(|| ApiError::not_found("ticket"))?;
    let members = members_of(&record, directory)?;
    let chain_states = [
        ChainState::from_bytes(&record.chain_states[0]).map_err(|_| corrupt_record())?,
        ChainState::from_bytes(&record.chain_states[1]).map_err(|_| corrupt_record())?,
    ];
    let head = directory.head_seq();
    let mut seen = BTreeSet::new();
    for wrap in &wraps {
        let c = &wrap.context;
        if c.wrapper != admin.key_id() {
            return Err(ApiError::bad_request(
                "wrong_wrapper",
                "Wraps are accepted from the signed-in administrator's key only.",
            ));
        }
        let chain_state = &chain_states[usize::from(c.chain.to_u8())];
        wrap.verify(&members, directory, chain_state)
            .map_err(|e| ApiError::rejected(&e, "wrapped key"))?;
        // §6.3 checks membership at the wrap's `dir_seq`; history goes only to members at
        // the head, so a removed administrator gets nothing new.
        if members
            .member_at(directory, c.chain, head, &c.recipient)
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
        return Ok((StatusCode::CREATED, Json(WrapsStored { stored: 0 })));
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
    Ok((
        StatusCode::CREATED,
        Json(WrapsStored {
            stored: wraps.len(),
        }),
    ))
}

// ---- assignment ----

/// Body of `PUT /api/v1/tickets/{id}/assignment`.
#[derive(Deserialize)]
pub struct AssignmentBody {
    /// Key id (32 bytes, base64url) of a current administrator, or `null` to unassign.
    pub assigned_to: Option<String>,
}

/// `PUT /api/v1/tickets/{id}/assignment` (administrator session): assigns the ticket to a
/// current administrator, or unassigns it.
pub async fn assign(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
    headers: HeaderMap,
    Json(body): Json<AssignmentBody>,
) -> ApiResult<StatusCode> {
    let id = ticket_id(&id)?;
    let assignee = body
        .assigned_to
        .as_deref()
        .map(|text| from_b64_array::<32>("assigned_to", text))
        .transpose()?;
    let session = require_session(&state, &headers)?;

    let lock = state.ticket_lock(id);
    let _serialised = lock.lock().await;
    let directory_guard = state.directory.read().await;
    require_administrator(&session, directory_guard.as_ref())?;
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
    record.assigned_to = assignee;
    state.store.update_ticket(&record)?;
    drop(directory_guard);
    state.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}
