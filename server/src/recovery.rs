//! "Resend access link" as recovery (spec/API.md, "Recovery"; PROTOCOL.md §11.1).
//!
//! The server never holds a ticket secret, so it cannot resend a lost link. Instead:
//!
//! 1. `request`: someone types the address they gave. Rate-limited per client address and per
//!    email address, the answer is the same whether or not the address belongs to a ticket.
//!    For every open ticket whose reporter is subscribed with that address, a random 256-bit
//!    recovery token is stored under its hash (single use, `recovery_ttl_seconds`) and a mail
//!    with the link `/help/recover#{ticket id}.{token}` is queued (`mail::outbox`) in the same
//!    write.
//! 2. `claim`: the browser that opens the link makes a new reporter key and a reader token and
//!    sends a claim signed by the new key (§11.1) with the token, which is consumed. The claim
//!    is *pending*: the key gains nothing yet.
//! 3. An administrator's client lists the pending claims, checks the signature and the
//!    address, and approves by posting an endorse message for the key (PROTOCOL.md §8.2) with
//!    the wraps, then `approve`: the server checks that the key is a reporter key of the
//!    verified conversation and only then lets the reader token read and post. Or `decline`.
//!
//! What the mailbox proves is only that the request came from whoever reads it; adding a key
//! always takes an administrator's signature, so the server or a stolen mailbox alone cannot
//! take over a ticket (spec/THREAT-MODEL.md).

use axum::http::StatusCode;
use sealdesk_crypto::{
    AccessToken, Chain, ChainState, KeyId, PUBLIC_IDENTITY_LEN, PublicIdentity, TicketId,
    system_rng,
};
use sealdesk_wire::b64;
use sealdesk_wire::recovery::{PendingRecovery, RecoveryClaimBody};
use serde::{Deserialize, Serialize};

use crate::clock::now;
use crate::encoding::{from_b64_array, from_record, ticket_id, to_record};
use crate::error::{ApiError, ApiResult};
use crate::instance_secret;
use crate::mail::outbox::{self, MailKind, OutgoingMail, Recipient};
use crate::mail::{preferences, subscriptions};
use crate::services::rate_limits::ClientAddr;
use crate::sessions::administrator_session;
use crate::state::AppState;
use crate::storage::{RecordKind, RecordWrite};
use crate::tickets::corrupt_record;

/// How long a pending claim waits for an administrator before it is dropped, in seconds
/// (14 days): long enough for a support team's absence, short enough that the requested
/// address it holds does not stay.
pub const CLAIM_TTL_SECONDS: u64 = 14 * 24 * 3600;

/// The path of the page a recovery link opens; the fragment is `{ticket id}.{token}`.
pub const RECOVER_PATH: &str = "/help/recover";

/// What this module's records are called when one is damaged.
const RECORDS: &str = "recovery record";

/// A mailed recovery token, stored under its `token_hash` (PROTOCOL.md §11) in
/// [`RecordKind::RecoveryToken`]. The token itself is never stored.
#[derive(Serialize, Deserialize)]
struct TokenRecord {
    /// The ticket it recovers (hex).
    ticket_id: String,
    /// The address it was mailed to, as typed (trimmed): the administrator compares it with
    /// the address in the ticket's first message. Dropped with the record.
    email: String,
    /// Unix seconds after which the token is refused.
    expires_at: u64,
}

/// A pending claim, stored under `ticket id || key id` in [`RecordKind::RecoveryClaim`].
#[derive(Serialize, Deserialize)]
struct ClaimRecord {
    /// The claimed public identity (64 bytes, base64url).
    identity: String,
    /// `token_hash` of the reader token (32 bytes, base64url).
    reader_hash: String,
    /// The §11.1 claim signature (64 bytes, base64url).
    signature: String,
    /// The address of the request (see [`TokenRecord::email`]).
    email: String,
    /// Unix seconds.
    claimed_at: u64,
}

/// The answer of a recovery request and of a token that is unknown, used or expired.
fn invalid_token() -> ApiError {
    ApiError::new(
        StatusCode::FORBIDDEN,
        "invalid_recovery",
        "This recovery link is unknown, used or expired; ask for a new one.",
    )
}

fn claim_not_found() -> ApiError {
    ApiError::not_found("recovery claim")
}

/// The storage key of a claim: the ticket id then the claimed key id (48 bytes).
fn claim_key(ticket: &[u8; 16], key_id: &KeyId) -> Vec<u8> {
    let mut key = ticket.to_vec();
    key.extend_from_slice(&key_id.0);
    key
}

/// A recovery link's secret part: the ticket and the single-use token. The link is
/// `{public_url}/help/recover#{ticket_id hex}.{token base64url}`.
pub struct RecoveryLink {
    /// The ticket the link recovers.
    pub ticket_id: TicketId,
    /// The single-use token (only its hash is stored).
    pub token: AccessToken,
}

impl RecoveryLink {
    /// The link's fragment, `{ticket_id hex}.{token base64url}`.
    pub fn fragment(&self) -> String {
        format!("{}.{}", self.ticket_id.to_hex(), self.token.to_base64url())
    }
}

/// `POST /api/v1/recovery/request`: spends the client's and the address's allowance, then
/// issues a token and queues a recovery mail (in the same store write) for every open ticket
/// whose reporter is subscribed with `email` ([`subscriptions::tickets_for_address`]).
/// Answers the same whether or not there is any.
///
/// # Errors
/// `mail_off` (this instance sends no mail), `bad_email`, `rate_limited`, storage failures.
pub async fn request(state: &AppState, client: ClientAddr, email: String) -> ApiResult<()> {
    if state.mail.is_none() {
        return Err(subscriptions::mail_off());
    }
    let email = subscriptions::validate_address(&email)?;
    let lookup = instance_secret::email_lookup(state, &email).await?;
    state.rate_limits.recovery_request(client, &lookup)?;
    let time = now();
    forget_expired_tokens(state, time)?;
    let mut writes = Vec::new();
    for ticket in subscriptions::tickets_for_address(state, &email).await? {
        let token = AccessToken::generate(&mut system_rng());
        let record = TokenRecord {
            ticket_id: TicketId(ticket).to_hex(),
            email: email.clone(),
            expires_at: time.saturating_add(state.limits.recovery_ttl_seconds),
        };
        writes.push(RecordWrite::put(
            RecordKind::RecoveryToken,
            token.hash().to_vec(),
            to_record(&record)?,
        ));
        let link = RecoveryLink {
            ticket_id: TicketId(ticket),
            token,
        };
        writes.push(outbox::queue_write(
            OutgoingMail {
                kind: MailKind::RecoveryLink,
                // The subscription's address: the one `email` matched.
                recipient: Recipient::Ticket(ticket),
                ticket: Some(ticket),
                link_fragment: Some(link.fragment()),
                digest: false,
            },
            time,
        )?);
    }
    if !writes.is_empty() {
        state.store.write_records(&writes)?;
        state.commit().await?;
        outbox::wake(state);
    }
    Ok(())
}

/// Drops tokens that expired unused (housekeeping on each request).
fn forget_expired_tokens(state: &AppState, time: u64) -> ApiResult<()> {
    for (key, value) in state.store.scan(RecordKind::RecoveryToken, &[])? {
        let expired = serde_json::from_slice::<TokenRecord>(&value)
            .map_or(true, |token| token.expires_at < time);
        if expired {
            state.store.take(RecordKind::RecoveryToken, &key)?;
        }
    }
    Ok(())
}

/// `POST /api/v1/recovery/claim`: verifies the claim (PROTOCOL.md §11.1), consumes the token
/// and stores the claim as pending. Returns the claimed key.
///
/// # Errors
/// `bad_token`, `invalid_recovery` (unknown, used or expired token, or one for another
/// ticket), `bad_signature`, `invalid_public_key`, field errors, `claim_exists`,
/// `not_found` (the ticket is gone), storage failures.
pub async fn claim(state: &AppState, body: &RecoveryClaimBody) -> ApiResult<PublicIdentity> {
    let token = AccessToken::from_base64url(body.token.expose())
        .map_err(|_| ApiError::bad_request("bad_token", "The recovery token is malformed."))?;
    let ticket = TicketId::from_hex(&body.ticket_id).map_err(|_| invalid_token())?;
    let identity_bytes = from_b64_array::<PUBLIC_IDENTITY_LEN>("identity", &body.identity)?;
    let identity = PublicIdentity::from_bytes(&identity_bytes)
        .map_err(|e| ApiError::rejected(&e, "identity"))?;
    let reader_hash = from_b64_array::<32>("reader_hash", &body.reader_hash)?;
    let signature = from_b64_array::<64>("signature", &body.signature)?;
    identity
        .verify_recovery_claim(&ticket.0, &reader_hash, &signature)
        .map_err(|e| ApiError::rejected(&e, "recovery claim"))?;

    let token_hash = token.hash();
    // Single use: of concurrent claims only one `take` finds the record.
    let Some(stored) = state.store.take(RecordKind::RecoveryToken, &token_hash)? else {
        return Err(invalid_token());
    };
    let record: TokenRecord = from_record(&stored, RECORDS)?;
    let time = now();
    if record.expires_at < time {
        state.commit().await?;
        return Err(invalid_token());
    }
    let give_back = |error: ApiError| -> ApiResult<PublicIdentity> {
        // The token was not spent on a claim: put it back so a corrected claim can use it.
        state
            .store
            .put(RecordKind::RecoveryToken, &token_hash, &stored, true)?;
        Err(error)
    };
    if record.ticket_id != ticket.to_hex() {
        return give_back(invalid_token());
    }
    if state.store.ticket(&ticket.0)?.is_none() {
        return give_back(ApiError::not_found("ticket"));
    }
    if state
        .store
        .get(RecordKind::RecoveryReader, &reader_hash)?
        .is_some()
    {
        return give_back(claim_exists());
    }
    let claim = ClaimRecord {
        identity: b64::encode(&identity_bytes),
        reader_hash: b64::encode(&reader_hash),
        signature: b64::encode(&signature),
        email: record.email,
        claimed_at: time,
    };
    let key = claim_key(&ticket.0, &identity.key_id());
    if state.store.get(RecordKind::RecoveryClaim, &key)?.is_some() {
        return give_back(claim_exists());
    }
    // The claim and the administrators' "a recovery waits" mails, in one write.
    let mut writes = vec![RecordWrite::put(
        RecordKind::RecoveryClaim,
        key,
        to_record(&claim)?,
    )];
    writes.extend(preferences::admin_mail_writes(
        state,
        MailKind::AdminPendingRecovery,
        Some(ticket.0),
        None,
        time,
    )?);
    state.store.write_records(&writes)?;
    state.commit().await?;
    outbox::wake(state);
    tracing::info!(ticket = %ticket.to_hex(), key = %identity.key_id(), "recovery claimed");
    Ok(identity)
}

fn claim_exists() -> ApiError {
    ApiError::new(
        StatusCode::CONFLICT,
        "claim_exists",
        "This key or reader token already has a recovery claim.",
    )
}

/// `GET /api/v1/recovery/status` (bearer: the reader token of a claim): the ticket and
/// whether the claim is `pending` or `approved`. A declined, expired or unknown claim is
/// `404 not_found`.
///
/// # Errors
/// `not_found`, storage failures.
pub fn status(state: &AppState, token: Option<&AccessToken>) -> ApiResult<(TicketId, bool)> {
    let token = token.ok_or_else(claim_not_found)?;
    let reader_hash = token.hash();
    if let Some(ticket) = state.store.get(RecordKind::RecoveryReader, &reader_hash)? {
        let ticket: [u8; 16] = ticket.try_into().map_err(|_| corrupt_record())?;
        return Ok((TicketId(ticket), true));
    }
    let encoded = b64::encode(&reader_hash);
    let time = now();
    for (key, value) in state.store.scan(RecordKind::RecoveryClaim, &[])? {
        let claim: ClaimRecord = from_record(&value, RECORDS)?;
        if claim.reader_hash == encoded && !expired(&claim, time) {
            let ticket: [u8; 16] = key
                .get(..16)
                .and_then(|id| id.try_into().ok())
                .ok_or_else(corrupt_record)?;
            return Ok((TicketId(ticket), false));
        }
    }
    Err(claim_not_found())
}

fn expired(claim: &ClaimRecord, time: u64) -> bool {
    claim.claimed_at.saturating_add(CLAIM_TTL_SECONDS) < time
}

/// `GET /api/v1/admin/recoveries` (administrator session): the pending claims, oldest first.
/// Claims older than [`CLAIM_TTL_SECONDS`] are dropped on the way.
///
/// # Errors
/// `unauthorized`, `not_an_administrator`, storage failures.
pub async fn list(
    state: &AppState,
    token: Option<&AccessToken>,
) -> ApiResult<Vec<PendingRecovery>> {
    administrator_session(state, token).await?;
    let time = now();
    let mut pending = Vec::new();
    let mut dropped = false;
    for (key, value) in state.store.scan(RecordKind::RecoveryClaim, &[])? {
        let claim: ClaimRecord = from_record(&value, RECORDS)?;
        if expired(&claim, time) {
            state.store.take(RecordKind::RecoveryClaim, &key)?;
            dropped = true;
            continue;
        }
        let ticket: [u8; 16] = key
            .get(..16)
            .and_then(|id| id.try_into().ok())
            .ok_or_else(corrupt_record)?;
        let identity = decode_identity(&claim.identity)?;
        pending.push(PendingRecovery {
            ticket_id: TicketId(ticket).to_hex(),
            key_id: b64::encode(&identity.key_id().0),
            fingerprint: identity.fingerprint(),
            identity: claim.identity,
            reader_hash: claim.reader_hash,
            signature: claim.signature,
            email: claim.email,
            claimed_at: claim.claimed_at,
        });
    }
    if dropped {
        state.commit().await?;
    }
    pending.sort_by_key(|claim| claim.claimed_at);
    Ok(pending)
}

fn decode_identity(text: &str) -> ApiResult<PublicIdentity> {
    let bytes = b64::decode_array::<PUBLIC_IDENTITY_LEN>(text).map_err(|_| corrupt_record())?;
    PublicIdentity::from_bytes(&bytes).map_err(|_| corrupt_record())
}

/// Loads the pending claim of `key_id` (base64url) on ticket `id` (hex).
fn load_claim(state: &AppState, id: &str, key_id: &str) -> ApiResult<(Vec<u8>, ClaimRecord)> {
    let ticket = ticket_id(id)?;
    let key_id = KeyId(from_b64_array::<32>("key_id", key_id)?);
    let key = claim_key(&ticket, &key_id);
    let value = state
        .store
        .get(RecordKind::RecoveryClaim, &key)?
        .ok_or_else(claim_not_found)?;
    Ok((key, from_record(&value, RECORDS)?))
}

/// `POST /api/v1/admin/recoveries/{id}/{key_id}/approve` (administrator session): after the
/// administrator's client posted the endorse message for the claimed key (PROTOCOL.md §8.2),
/// checks that the key is a reporter key of the stored, verified conversation, lets the
/// claim's reader token read and post, and removes the claim.
///
/// # Errors
/// `unauthorized`, `not_an_administrator`, `not_found`, `not_endorsed` (no endorse message
/// for the key yet), storage failures.
pub async fn approve(
    state: &AppState,
    token: Option<&AccessToken>,
    id: &str,
    key_id: &str,
) -> ApiResult<()> {
    let (_, admin) = administrator_session(state, token).await?;
    let (key, claim) = load_claim(state, id, key_id)?;
    let identity = decode_identity(&claim.identity)?;
    let ticket = ticket_id(id)?;
    let record = state
        .store
        .ticket(&ticket)?
        .ok_or_else(|| ApiError::not_found("ticket"))?;
    let slot = usize::from(Chain::Conversation.to_u8());
    let conversation =
        ChainState::from_bytes(&record.chain_states[slot]).map_err(|_| corrupt_record())?;
    if !conversation.reporters().contains(&identity) {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "not_endorsed",
            "Post the endorse message for this key first; approving only lets its reader \
             token in once the key is a reporter key of the conversation.",
        ));
    }
    let reader_hash =
        from_b64_array::<32>("reader_hash", &claim.reader_hash).map_err(|_| corrupt_record())?;
    state
        .store
        .put(RecordKind::RecoveryReader, &reader_hash, &ticket, false)?;
    state.store.take(RecordKind::RecoveryClaim, &key)?;
    state.commit().await?;
    tracing::info!(
        ticket = %TicketId(ticket).to_hex(),
        key = %identity.key_id(),
        by = %admin.key_id(),
        "recovery approved"
    );
    Ok(())
}

/// `DELETE /api/v1/admin/recoveries/{id}/{key_id}` (administrator session): declines the
/// claim: it is removed, its reader token never reads.
///
/// # Errors
/// `unauthorized`, `not_an_administrator`, `not_found`, storage failures.
pub async fn decline(
    state: &AppState,
    token: Option<&AccessToken>,
    id: &str,
    key_id: &str,
) -> ApiResult<()> {
    let (_, admin) = administrator_session(state, token).await?;
    let (key, _) = load_claim(state, id, key_id)?;
    if state.store.take(RecordKind::RecoveryClaim, &key)?.is_none() {
        return Err(claim_not_found());
    }
    state.commit().await?;
    tracing::info!(by = %admin.key_id(), "recovery declined");
    Ok(())
}
