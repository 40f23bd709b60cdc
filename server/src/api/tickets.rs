//! Tickets over HTTP (spec/API.md, "Tickets"): create anonymously, read metadata, messages and
//! wraps, post messages. Verification and storage are [`crate::tickets`]'s.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};

use super::extract::{AnonymousTicketAllowance, Bearer, Json, Query};
use super::pow::ProofOfWork;
use crate::clock::now;
use crate::encoding::{b64, from_b64_array};
use crate::error::ApiResult;
use crate::state::AppState;
use crate::storage::{Owner, Status};
use crate::tickets::{self, NewTicket};

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
    pub pow: Option<ProofOfWork>,
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
    _allowance: AnonymousTicketAllowance,
    Json(body): Json<CreateBody>,
) -> ApiResult<(StatusCode, Json<Created>)> {
    let pow = body.pow.as_ref().map(|p| (p.challenge.as_str(), p.nonce));
    state.pow.verify(pow, now())?;
    let access_token_hash = from_b64_array::<32>("access_token_hash", &body.access_token_hash)?;
    let id = tickets::open(
        &state,
        Owner::Anonymous { access_token_hash },
        NewTicket {
            reporter: &body.reporter,
            message: &body.message,
            wraps: &body.wraps,
            notify_email: body.notify_email,
        },
    )
    .await?;
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
    bearer: Bearer,
    Json(body): Json<PostBody>,
) -> ApiResult<(StatusCode, Json<Posted>)> {
    let (chain, seq) =
        tickets::post(&state, &id, bearer.token(), &body.message, &body.wraps).await?;
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
    bearer: Bearer,
) -> ApiResult<Json<MessagesOut>> {
    let (record, reader) = tickets::authorised_ticket(&state, &id, bearer.token()).await?;
    let (messages, more) = tickets::messages(&state, &record, reader, query.chain, query.after)?;
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
    bearer: Bearer,
) -> ApiResult<Json<WrapsOut>> {
    let (record, reader) = tickets::authorised_ticket(&state, &id, bearer.token()).await?;
    let wraps = tickets::wraps_for(
        &state,
        &record,
        reader,
        query.chain,
        query.recipient.as_deref(),
    )?;
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
    bearer: Bearer,
) -> ApiResult<Json<TicketOut>> {
    let (record, _) = tickets::authorised_ticket(&state, &id, bearer.token()).await?;
    let conversation_seq = tickets::conversation_seq(&record)?;
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
        conversation_seq,
    }))
}
