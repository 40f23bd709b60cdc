//! Tickets over HTTP (spec/API.md, "Tickets"): create anonymously, read metadata, messages and
//! wraps, post messages. Verification and storage are [`crate::tickets`]'s.

use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use sealdesk_wire::b64;
use sealdesk_wire::tickets::{
    ChainQuery, CreateTicketBody, MessageItem, MessagePosted, PostMessageBody, TicketAnswer,
    TicketCreated, TicketStatus, WrapsAnswer,
};

use super::extract::{AnonymousTicketAllowance, Bearer, Json, Query};
use crate::clock::now;
use crate::encoding::from_b64_array;
use crate::error::{ApiError, ApiResult};
use crate::services::holds::{Hold, Holds};
use crate::state::AppState;
use crate::storage::{Owner, Status, StoredMessage};
use crate::tickets::{self, NewTicket};

/// A stored status as answers write it: `"open"`, `"closed"`, `"waiting"` or `"on_hold"`.
pub(super) fn ticket_status(status: Status) -> TicketStatus {
    match status {
        Status::Open => TicketStatus::Open,
        Status::Closed => TicketStatus::Closed,
        Status::Waiting => TicketStatus::Waiting,
        Status::OnHold => TicketStatus::OnHold,
    }
}

/// `DELETE /api/v1/tickets/{id}` (administrator session): deletes a closed ticket with
/// everything stored for it; `204 No Content` ([`crate::deletion::delete`] lists the errors).
pub async fn delete_ticket(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
    bearer: Bearer,
) -> ApiResult<StatusCode> {
    crate::deletion::delete(&state, &id, bearer.token()).await?;
    Ok(StatusCode::NO_CONTENT)
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
/// The page is bounded by `max_page_bytes`, its answer is written one message at a time (each
/// encoded as it is sent), and one token may have `max_reads_per_token` answers in progress.
///
/// # Errors
/// Those of [`tickets::authorised_ticket`] and [`tickets::messages`]; `429 too_many_reads`.
pub async fn read_messages(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
    Query(query): Query<ChainQuery>,
    bearer: Bearer,
) -> ApiResult<Response> {
    let (record, reader) = tickets::authorised_ticket(&state, &id, bearer.token()).await?;
    let hold = match bearer.token() {
        Some(token) => Some(
            Holds::try_hold(
                &state.reads_by_token,
                *token.as_bytes(),
                state.limits.max_reads_per_token,
            )
            .ok_or_else(|| {
                ApiError::new(
                    StatusCode::TOO_MANY_REQUESTS,
                    "too_many_reads",
                    "Too many reads of messages are in progress for this token; wait for one \
                     to finish.",
                )
            })?,
        ),
        None => None,
    };
    let (messages, more) = tickets::messages(&state, &record, reader, query.chain, query.after)?;
    Ok(messages_answer(messages, more, hold))
}

/// The answer `{"messages": [{"seq", "received_at", "message"}, ...], "more": bool}` (the
/// wire's `MessagesAnswer`), streamed: each message is base64url-encoded and serialised only
/// when the connection takes it, so a slow reader holds the page's bytes, not a copy of the
/// whole answer. `hold` is released when the answer is sent or abandoned.
fn messages_answer(
    messages: Vec<StoredMessage>,
    more: bool,
    hold: Option<Hold<[u8; 32]>>,
) -> Response {
    let items = messages.into_iter().enumerate().map(|(index, stored)| {
        let item = MessageItem {
            seq: stored.seq,
            received_at: stored.received_at,
            message: b64::encode(&stored.bytes),
        };
        let mut chunk = Vec::with_capacity(item.message.len() + 64);
        if index > 0 {
            chunk.push(b',');
        }
        serde_json::to_writer(&mut chunk, &item).map_err(std::io::Error::other)?;
        Ok::<_, std::io::Error>(Bytes::from(chunk))
    });
    let tail: &'static [u8] = if more {
        b"],\"more\":true}"
    } else {
        b"],\"more\":false}"
    };
    let chunks = std::iter::once(Ok(Bytes::from_static(b"{\"messages\":[")))
        .chain(items)
        .chain(std::iter::once(Ok(Bytes::from_static(tail))));
    let body = tokio_stream::StreamExt::map(tokio_stream::iter(chunks), move |chunk| {
        let _held = &hold;
        chunk
    });
    (
        [(header::CONTENT_TYPE, "application/json")],
        Body::from_stream(body),
    )
        .into_response()
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
