//! Tickets: create anonymously, read metadata, messages and wraps, post verified messages
//! (spec/API.md, "Tickets"). Every message is verified against the stored chain state and the
//! directory (PROTOCOL.md §10.2) before it is stored; every wrap of a new epoch is verified
//! (§6.3) and must cover exactly the chain's members at the directory head.

use std::collections::BTreeSet;
use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use sealdesk_crypto::{
    AccessToken, Chain, ChainState, Directory, KeyId, MAX_PADDED_LEN, Members, Message,
    PublicIdentity, ReporterEndorsement, Role, TAG_LEN, WRAP_LEN, WrappedKey,
};
use serde::{Deserialize, Serialize};

use super::encoding::{b64, from_b64, from_b64_array, ticket_id};
use super::error::{ApiError, ApiResult};
use super::events::Notification;
use super::extract::{Json, Query};
use super::{AppState, accounts, now};
use crate::storage::{Owner, Status, StoredMessage, TicketRecord, WrapRecord};

/// Largest encoded message: header, length, padded content and tag, signature.
const MAX_MESSAGE_LEN: usize = sealdesk_crypto::HEADER_LEN + 4 + MAX_PADDED_LEN + TAG_LEN + 64;
/// Most wraps in one request (one per member of a chain).
const MAX_WRAPS: usize = 256;
/// Most messages answered by one read.
const MAX_PAGE: usize = 200;

/// Body of `POST /api/v1/tickets` (anonymous ticket).
#[derive(Deserialize)]
pub struct CreateBody {
    /// The reporter's public identity (64 bytes), derived from the ticket secret.
    pub reporter: String,
    /// `token_hash` of the access token (32 bytes, PROTOCOL.md §11).
    pub access_token_hash: String,
    /// The first conversation message (epoch 0, seq 1), signed by the reporter.
    pub message: String,
    /// The epoch-0 conversation key wrapped for the reporter and every current administrator.
    pub wraps: Vec<String>,
    /// Optional address for "resend access link" (only a keyed hash is stored).
    #[serde(default)]
    pub notify_email: Option<String>,
    /// The solved proof-of-work challenge, required when `proof_of_work_bits` > 0.
    #[serde(default)]
    pub pow: Option<super::pow::ProofOfWork>,
}

/// Answer of a created ticket.
#[derive(Serialize)]
pub struct Created {
    /// The ticket id, 32 hex characters.
    pub ticket_id: String,
}

/// `POST /api/v1/tickets`: opens an anonymous ticket.
pub async fn create(
    State(state): State<Arc<AppState>>,
    // Spends one creation of the client address's hourly allowance before the body is read.
    _allowance: super::limits::AnonymousTicketAllowance,
    Json(body): Json<CreateBody>,
) -> ApiResult<(StatusCode, Json<Created>)> {
    state.pow.verify(body.pow.as_ref(), now())?;
    let access_token_hash = from_b64_array::<32>("access_token_hash", &body.access_token_hash)?;
    open_ticket(
        &state,
        Owner::Anonymous { access_token_hash },
        &body.reporter,
        &body.message,
        &body.wraps,
        body.notify_email,
    )
    .await
}

/// Verifies and stores a new ticket owned by `owner`: shared by `POST /api/v1/tickets`
/// (anonymous) and `POST /api/v1/tickets/account` (accounts).
pub(super) async fn open_ticket(
    state: &AppState,
    owner: Owner,
    reporter: &str,
    message: &str,
    wraps: &[String],
    notify_email: Option<String>,
) -> ApiResult<(StatusCode, Json<Created>)> {
    let reporter_bytes = from_b64("reporter", reporter, 64)?;
    let reporter = PublicIdentity::from_bytes(&reporter_bytes)
        .map_err(|e| ApiError::rejected(&e, "reporter key"))?;
    let email_lookup = match notify_email {
        Some(email) => Some(super::accounts::email_lookup(state, &validate_email(email)?).await?),
        None => None,
    };
    let message_bytes = from_b64("message", message, MAX_MESSAGE_LEN)?;
    let message =
        Message::from_bytes(&message_bytes).map_err(|e| ApiError::rejected(&e, "message"))?;
    let wraps = decode_wraps(wraps)?;

    let id = message.header.ticket_id;
    let members = Members::new(id, reporter);
    let directory_guard = state.directory.read().await;
    let directory = directory_guard.as_ref().ok_or_else(no_administrators)?;
    let mut conversation = ChainState::new(id, Chain::Conversation);
    verify_next(&mut conversation, &message, &members, directory)?;
    check_epoch_wraps(&conversation, 0, &wraps, &members, directory)?;

    let stored_bytes = (message_bytes.len() + wraps.len() * WRAP_LEN) as u64;
    if stored_bytes > state.limits.ticket_quota_bytes {
        return Err(quota_exceeded());
    }
    let time = now();
    let record = TicketRecord {
        id: id.0,
        reporter: reporter_bytes,
        endorsements: Vec::new(),
        owner,
        created_at: time,
        last_activity: time,
        status: Status::Open,
        answered: false,
        assigned_to: None,
        email_lookup,
        chain_states: [
            conversation.to_bytes(),
            ChainState::new(id, Chain::Notes).to_bytes(),
        ],
        storage_bytes: stored_bytes,
    };
    let first = StoredMessage {
        seq: 1,
        received_at: time,
        bytes: message_bytes,
    };
    state
        .store
        .create_ticket(&record, &first, &wrap_records(&wraps))?;
    drop(directory_guard);
    state.commit().await?;
    state.metrics.ticket_created();
    state.events.publish(Notification {
        ticket: id.0,
        chain: 0,
        seq: 1,
    });
    tracing::info!(ticket = %id.to_hex(), "ticket created");
    Ok((
        StatusCode::CREATED,
        Json(Created {
            ticket_id: id.to_hex(),
        }),
    ))
}

/// Body of `POST /api/v1/tickets/{id}/messages`.
#[derive(Deserialize)]
pub struct PostBody {
    /// The next message of its chain.
    pub message: String,
    /// When the message opens an epoch: the new key wrapped for every member of the chain.
    #[serde(default)]
    pub wraps: Vec<String>,
}

/// Answer of a posted message.
#[derive(Serialize)]
pub struct Posted {
    /// The chain (0 conversation, 1 notes).
    pub chain: u8,
    /// The message's position.
    pub seq: u64,
}

/// `POST /api/v1/tickets/{id}/messages`: appends a verified message. A reporter authorises
/// with the ticket's access token; an administrator's signature (checked against the
/// directory head) is its authorisation.
pub async fn post_message(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
    headers: HeaderMap,
    Json(body): Json<PostBody>,
) -> ApiResult<(StatusCode, Json<Posted>)> {
    let id = ticket_id(&id)?;
    let message_bytes = from_b64("message", &body.message, MAX_MESSAGE_LEN)?;
    let message =
        Message::from_bytes(&message_bytes).map_err(|e| ApiError::rejected(&e, "message"))?;
    let wraps = decode_wraps(&body.wraps)?;
    if message.header.ticket_id.0 != id {
        return Err(ApiError::bad_request(
            "wrong_ticket",
            "The message belongs to another ticket.",
        ));
    }

    let lock = state.ticket_lock(id);
    let _serialised = lock.lock().await;
    let mut record = state
        .store
        .ticket(&id)?
        .ok_or_else(|| ApiError::not_found("ticket"))?;
    let directory_guard = state.directory.read().await;
    let directory = directory_guard.as_ref().ok_or_else(no_administrators)?;
    let members = members_of(&record, directory)?;
    let chain = message.header.chain;
    let sender_is_admin = directory
        .admin_at(directory.head_seq(), &message.header.sender)
        .is_some();
    if !sender_is_admin
        && !bearer_matches(&headers, &record)
        && !accounts::session_owns(&state, &headers, &record)?
    {
        return Err(ApiError::unauthorized());
    }

    let slot = usize::from(chain.to_u8());
    let mut chain_state =
        ChainState::from_bytes(&record.chain_states[slot]).map_err(|_| corrupt_record())?;
    if message.header.seq <= chain_state.last_seq() {
        return Err(ApiError::conflict(
            "A message was posted at this position first; read the new messages and retry.",
        ));
    }
    let epoch_before = chain_state.epoch();
    verify_next(&mut chain_state, &message, &members, directory)?;
    let opened = chain_state.epoch() != epoch_before;
    match (opened, wraps.is_empty()) {
        (true, _) => check_epoch_wraps(
            &chain_state,
            message.header.epoch,
            &wraps,
            &members,
            directory,
        )?,
        (false, true) => {}
        (false, false) => {
            return Err(ApiError::bad_request(
                "unexpected_wraps",
                "Wraps accompany only a message that opens a new epoch.",
            ));
        }
    }
    // Counted only now that the signature verified: a forged message naming an
    // administrator cannot spend that administrator's allowance.
    state.rate_limits.post(&super::limits::PostKey::of(
        sender_is_admin,
        &message.header.sender,
        &record.owner,
    ))?;

    let added = (message_bytes.len() + wraps.len() * WRAP_LEN) as u64;
    if record.storage_bytes.saturating_add(added) > state.limits.ticket_quota_bytes {
        return Err(quota_exceeded());
    }
    let time = now();
    record.storage_bytes += added;
    record.last_activity = time;
    record.chain_states[slot] = chain_state.to_bytes();
    if chain == Chain::Conversation {
        let role = members
            .member_at(
                directory,
                chain,
                message.header.dir_seq,
                &message.header.sender,
            )
            .map(|(_, role)| role);
        record.answered = role == Some(Role::Administrator);
        record.status = if chain_state.is_closed() {
            Status::Closed
        } else {
            Status::Open
        };
    }
    let seq = message.header.seq;
    let stored = StoredMessage {
        seq,
        received_at: time,
        bytes: message_bytes,
    };
    state
        .store
        .append_message(&record, chain.to_u8(), &stored, &wrap_records(&wraps))?;
    drop(directory_guard);
    state.commit().await?;
    state.metrics.message_posted();
    state.events.publish(Notification {
        ticket: id,
        chain: chain.to_u8(),
        seq,
    });
    Ok((
        StatusCode::CREATED,
        Json(Posted {
            chain: chain.to_u8(),
            seq,
        }),
    ))
}

/// Query of the read routes.
#[derive(Deserialize)]
pub struct ChainQuery {
    /// 0 conversation (default), 1 notes (administrators only).
    #[serde(default)]
    pub chain: u8,
    /// Messages after this seq (default 0: from the first).
    #[serde(default)]
    pub after: u64,
    /// For wraps: the recipient's key id (base64url, 32 bytes).
    #[serde(default)]
    pub recipient: Option<String>,
}

/// One message in an answer.
#[derive(Serialize)]
pub struct MessageOut {
    /// Position on its chain.
    pub seq: u64,
    /// Unix seconds when the server accepted it.
    pub received_at: u64,
    /// The encoded message (base64url).
    pub message: String,
}

/// Answer of `GET /api/v1/tickets/{id}/messages`.
#[derive(Serialize)]
pub struct MessagesOut {
    /// Up to 200 messages after `after`, in order.
    pub messages: Vec<MessageOut>,
    /// Whether more messages follow.
    pub more: bool,
}

/// `GET /api/v1/tickets/{id}/messages?chain=0&after=N`: the reporter (access token or its
/// account's session) reads the conversation; an administrator's session reads either chain.
pub async fn read_messages(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
    Query(query): Query<ChainQuery>,
    headers: HeaderMap,
) -> ApiResult<Json<MessagesOut>> {
    let (record, reader) = authorised_ticket(&state, &id, &headers).await?;
    // The notes chain (1) is for administrators only.
    if query.chain > 1 || (query.chain == 1 && reader != Reader::Administrator) {
        return Err(ApiError::not_found("chain"));
    }
    let mut messages = state
        .store
        .messages(&record.id, query.chain, query.after, MAX_PAGE + 1)?;
    let more = messages.len() > MAX_PAGE;
    messages.truncate(MAX_PAGE);
    Ok(Json(MessagesOut {
        messages: messages
            .into_iter()
            .map(|m| MessageOut {
                seq: m.seq,
                received_at: m.received_at,
                message: b64(&m.bytes),
            })
            .collect(),
        more,
    }))
}

/// Answer of `GET /api/v1/tickets/{id}/wraps`.
#[derive(Serialize)]
pub struct WrapsOut {
    /// Encoded wrapped keys (base64url) addressed to the recipient, by epoch.
    pub wraps: Vec<String>,
}

/// `GET /api/v1/tickets/{id}/wraps?chain=0&recipient=KEYID`.
pub async fn read_wraps(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
    Query(query): Query<ChainQuery>,
    headers: HeaderMap,
) -> ApiResult<Json<WrapsOut>> {
    let (record, reader) = authorised_ticket(&state, &id, &headers).await?;
    // The notes chain (1) is for administrators only.
    if query.chain > 1 || (query.chain == 1 && reader != Reader::Administrator) {
        return Err(ApiError::not_found("chain"));
    }
    let recipient = query.recipient.as_deref().ok_or_else(|| {
        ApiError::bad_request("missing_recipient", "Give the recipient's key id.")
    })?;
    let recipient = from_b64_array::<32>("recipient", recipient)?;
    let wraps = state.store.wraps_for(&record.id, query.chain, &recipient)?;
    Ok(Json(WrapsOut {
        wraps: wraps.iter().map(|w| b64(&w.bytes)).collect(),
    }))
}

/// Answer of `GET /api/v1/tickets/{id}`.
#[derive(Serialize)]
pub struct TicketOut {
    /// The ticket id (hex).
    pub ticket_id: String,
    /// The first reporter key (base64url, 64 bytes).
    pub reporter: String,
    /// Endorsed reporter keys (encoded endorsements, base64url).
    pub endorsements: Vec<String>,
    /// `open` or `closed`.
    pub status: &'static str,
    /// Unix seconds.
    pub created_at: u64,
    /// Unix seconds of the last message.
    pub last_activity: u64,
    /// The conversation's last seq.
    pub conversation_seq: u64,
}

/// `GET /api/v1/tickets/{id}`: the ticket's metadata, for its reporter.
pub async fn read_ticket(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> ApiResult<Json<TicketOut>> {
    let (record, _) = authorised_ticket(&state, &id, &headers).await?;
    let conversation =
        ChainState::from_bytes(&record.chain_states[0]).map_err(|_| corrupt_record())?;
    Ok(Json(TicketOut {
        ticket_id: sealdesk_crypto::TicketId(record.id).to_hex(),
        reporter: b64(&record.reporter),
        endorsements: record.endorsements.iter().map(|e| b64(e)).collect(),
        status: match record.status {
            Status::Open => "open",
            Status::Closed => "closed",
        },
        created_at: record.created_at,
        last_activity: record.last_activity,
        conversation_seq: conversation.last_seq(),
    }))
}

// ---- helpers ----

/// Who reads a ticket.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Reader {
    /// The ticket's access token, or a session of the account that owns it.
    Reporter,
    /// A session of an account whose identity is an administrator at the directory head.
    Administrator,
}

/// Loads a ticket the bearer may read: with the ticket's access token, a session of its
/// account, or an administrator's session. An unknown ticket and a wrong token or session
/// both answer 404, so a token holder learns nothing about other tickets.
pub(super) async fn authorised_ticket(
    state: &AppState,
    id: &str,
    headers: &HeaderMap,
) -> ApiResult<(TicketRecord, Reader)> {
    let id = ticket_id(id)?;
    let record = state
        .store
        .ticket(&id)?
        .ok_or_else(|| ApiError::not_found("ticket"))?;
    if bearer_matches(headers, &record) {
        return Ok((record, Reader::Reporter));
    }
    if let Some(session) = accounts::session(state, headers)? {
        let is_admin = state
            .directory
            .read()
            .await
            .as_ref()
            .is_some_and(|directory| session.is_administrator(directory));
        if is_admin {
            return Ok((record, Reader::Administrator));
        }
        if session.owns(&record) {
            return Ok((record, Reader::Reporter));
        }
    }
    Err(ApiError::not_found("ticket"))
}

/// Whether the `Authorization: Bearer <token>` header carries the ticket's access token
/// (compared by hash, in constant time).
fn bearer_matches(headers: &HeaderMap, record: &TicketRecord) -> bool {
    let Owner::Anonymous { access_token_hash } = &record.owner else {
        return false;
    };
    headers
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.strip_prefix("Bearer "))
        .and_then(|token| AccessToken::from_base64url(token.trim()).ok())
        .is_some_and(|token| token.matches_hash(access_token_hash))
}

/// The ticket's members: its first reporter key and verified endorsements.
pub(super) fn members_of(record: &TicketRecord, directory: &Directory) -> ApiResult<Members> {
    let reporter = PublicIdentity::from_bytes(&record.reporter).map_err(|_| corrupt_record())?;
    let mut members = Members::new(sealdesk_crypto::TicketId(record.id), reporter);
    for bytes in &record.endorsements {
        let endorsement = ReporterEndorsement::from_bytes(bytes).map_err(|_| corrupt_record())?;
        members
            .endorse(&endorsement, directory)
            .map_err(|_| corrupt_record())?;
    }
    Ok(members)
}

/// Verifies `message` as the next of `chain_state` (PROTOCOL.md §10.2) and that it was
/// written against the directory head: the server refuses stale `dir_seq`, which closes the
/// backdating window of §10.2.
fn verify_next(
    chain_state: &mut ChainState,
    message: &Message,
    members: &Members,
    directory: &Directory,
) -> ApiResult<()> {
    if message.header.dir_seq != directory.head_seq() {
        return Err(ApiError::conflict(
            "The administrator directory changed; read it again and re-seal the message.",
        ));
    }
    chain_state
        .push(message, members, directory)
        .map_err(|fault| {
            let error = sealdesk_crypto::Error::Transcript {
                index: 0,
                seq: message.header.seq,
                fault,
            };
            ApiError::rejected(&error, "message")
        })
}

/// Checks the wraps that accompany the message opening `epoch`: each verifies (§6.3), and
/// together they go to exactly the chain's members at the head, once each.
fn check_epoch_wraps(
    chain_state: &ChainState,
    epoch: u32,
    wraps: &[WrappedKey],
    members: &Members,
    directory: &Directory,
) -> ApiResult<()> {
    let head = directory.head_seq();
    let mut expected: BTreeSet<KeyId> = directory
        .admins_at(head)
        .iter()
        .map(|admin| admin.key_id())
        .collect();
    if chain_state.chain() == Chain::Conversation {
        expected.extend(members.reporters().iter().map(PublicIdentity::key_id));
    }
    let mut seen = BTreeSet::new();
    for wrap in wraps {
        if wrap.context.epoch != epoch || wrap.context.chain != chain_state.chain() {
            return Err(ApiError::bad_request(
                "wrong_epoch",
                "Every wrap must be for the epoch and chain the message opens.",
            ));
        }
        wrap.verify(members, directory, chain_state)
            .map_err(|e| ApiError::rejected(&e, "wrapped key"))?;
        if !seen.insert(wrap.context.recipient) {
            return Err(ApiError::bad_request(
                "duplicate_wrap",
                "Two wraps for the same member.",
            ));
        }
    }
    if seen != expected {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "wraps_incomplete",
            "The new epoch's key must be wrapped for exactly the chain's current members.",
        ));
    }
    Ok(())
}

pub(super) fn decode_wraps(encoded: &[String]) -> ApiResult<Vec<WrappedKey>> {
    if encoded.len() > MAX_WRAPS {
        return Err(ApiError::bad_request(
            "too_many_wraps",
            "Too many wraps in one request.",
        ));
    }
    encoded
        .iter()
        .map(|text| {
            let bytes = from_b64("wraps", text, WRAP_LEN)?;
            WrappedKey::from_bytes(&bytes).map_err(|e| ApiError::rejected(&e, "wrapped key"))
        })
        .collect()
}

pub(super) fn wrap_records(wraps: &[WrappedKey]) -> Vec<WrapRecord> {
    wraps
        .iter()
        .map(|w| WrapRecord {
            chain: w.context.chain.to_u8(),
            epoch: w.context.epoch,
            recipient: w.context.recipient.0,
            bytes: w.to_bytes(),
        })
        .collect()
}

/// A light sanity check: the address is only used to send links, never shown as trusted.
fn validate_email(email: String) -> ApiResult<String> {
    let email = email.trim().to_string();
    let ok = email.len() <= 254
        && email.split_once('@').is_some_and(|(local, domain)| {
            !local.is_empty() && domain.contains('.') && !domain.starts_with('.')
        })
        && !email.chars().any(|c| c.is_whitespace() || c.is_control());
    if ok {
        Ok(email)
    } else {
        Err(ApiError::bad_request(
            "bad_email",
            "The notification email address is not valid.",
        ))
    }
}

pub(super) fn no_administrators() -> ApiError {
    ApiError::new(
        StatusCode::CONFLICT,
        "no_administrators",
        "This instance has no administrator yet, so tickets cannot be encrypted to anyone.",
    )
}

fn quota_exceeded() -> ApiError {
    ApiError::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        "quota_exceeded",
        "This ticket has reached its storage quota.",
    )
}

pub(super) fn corrupt_record() -> ApiError {
    tracing::error!("a stored ticket record does not decode");
    ApiError::new(
        StatusCode::INTERNAL_SERVER_ERROR,
        "storage",
        "A stored ticket record is damaged; nothing was changed.",
    )
}
