//! Tickets over HTTP (spec/API.md, "Tickets"): create anonymously, read metadata, messages and
//! wraps, post messages. Verification and storage are [`crate::tickets`]'s.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use sealdesk_wire::b64;
use sealdesk_wire::tickets::{
    ChainQuery, CreateTicketBody, MessageItem, MessagePosted, MessagesAnswer, PostMessageBody,
    TicketAnswer, TicketCreated, TicketStatus, WrapsAnswer,
};

use super::extract::{AnonymousTicketAllowance, Bearer, Json, Query};
use crate::clock::now;
use crate::encoding::from_b64_array;
use crate::error::ApiResult;
use crate::state::AppState;
use crate::storage::{Owner, Status};
use crate::tickets::{self, NewTicket};

/// A stored status as answers write it: `"open"` or `"closed"`.
pub(super) fn ticket_status(status: Status) -> TicketStatus {
    match status {
        Status::Open => TicketStatus::Open,
        Status::Closed => TicketStatus::Closed,
    }
}

/// The answer of both creations: the new ticket's id in hex, `201 Created`.
pub(super) fn created(id: sealdesk_crypto::TicketId) -> (StatusCode, Json<TicketCreated>) {
    (
        StatusCode::CREATED,
        Json(TicketCreated {
            ticket_id: id.to_hex(),
        }),
    )
}

/// `POST /api/v1/tickets`: opens an anonymous ticket.
pub async fn create(
    State(state): State<Arc<AppState>>,
    // Spends one creation of the client address's hourly allowance before the body is read.
    _allowance: AnonymousTicketAllowance,
    Json(body): Json<CreateTicketBody>,
) -> ApiResult<(StatusCode, Json<TicketCreated>)> {
    state.pow.verify(body.pow.as_ref(), now())?;
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
    Ok(created(id))
}

/// `POST /api/v1/tickets/{id}/messages`: appends a verified message. A reporter authorises
/// with the ticket's access token; an administrator's signature (checked against the
/// directory head) is its authorisation.
pub async fn post_message(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
    bearer: Bearer,
    Json(body): Json<PostMessageBody>,
) -> ApiResult<(StatusCode, Json<MessagePosted>)> {
    let (chain, seq) = tickets::post(
        &state,
        &id,
        bearer.token(),
        &body.message,
        &body.wraps,
        body.endorsed.as_deref(),
    )
    .await?;
    Ok((
        StatusCode::CREATED,
        Json(MessagePosted {
            chain: chain.to_u8(),
            seq,
        }),
    ))
}

/// `GET /api/v1/tickets/{id}/messages?chain=0&after=N`: the reporter (access token or its
/// account's session) reads the conversation; an administrator's session reads either chain.
pub async fn read_messages(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
    Query(query): Query<ChainQuery>,
    bearer: Bearer,
) -> ApiResult<Json<MessagesAnswer>> {
    let (record, reader) = tickets::authorised_ticket(&state, &id, bearer.token()).await?;
    let (messages, more) = tickets::messages(&state, &record, reader, query.chain, query.after)?;
    Ok(Json(MessagesAnswer {
        messages: messages
            .into_iter()
            .map(|m| MessageItem {
                seq: m.seq,
                received_at: m.received_at,
                message: b64::encode(&m.bytes),
            })
            .collect(),
        more,
    }))
}

/// `GET /api/v1/tickets/{id}/wraps?chain=0&recipient=KEYID`.
pub async fn read_wraps(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
    Query(query): Query<ChainQuery>,
    bearer: Bearer,
) -> ApiResult<Json<WrapsAnswer>> {
    let (record, reader) = tickets::authorised_ticket(&state, &id, bearer.token()).await?;
    let wraps = tickets::wraps_for(
        &state,
        &record,
        reader,
        query.chain,
        query.recipient.as_deref(),
    )?;
    Ok(Json(WrapsAnswer {
        wraps: wraps.iter().map(|w| b64::encode(&w.bytes)).collect(),
    }))
}

/// `GET /api/v1/tickets/{id}`: the ticket's metadata, for its reporter.
pub async fn read_ticket(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
    bearer: Bearer,
) -> ApiResult<Json<TicketAnswer>> {
    let (record, _) = tickets::authorised_ticket(&state, &id, bearer.token()).await?;
    let conversation_seq = tickets::conversation_seq(&record)?;
    Ok(Json(TicketAnswer {
        ticket_id: sealdesk_crypto::TicketId(record.id).to_hex(),
        reporter: b64::encode(&record.reporter),
        status: ticket_status(record.status),
        created_at: record.created_at,
        last_activity: record.last_activity,
        conversation_seq,
    }))
}
