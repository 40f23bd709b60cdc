//! Live updates as server-sent events (spec/API.md, "Live updates"). A notification carries
//! only a ticket id, a chain and a sequence number, never content: the client then fetches
//! and verifies the new messages as usual. Clients subscribe first and then fetch, so nothing
//! falls between the two; a subscriber that falls behind gets a `resync` event and re-reads.
//! The broadcast is [`crate::services::events`].

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Path, State};
use axum::response::sse::{Event, KeepAlive, Sse};
use sealdesk_wire::events::MessageEvent;
use tokio_stream::wrappers::ReceiverStream;
use tokio_stream::{Stream, StreamExt};

use super::extract::Bearer;
use crate::error::{ApiError, ApiResult};
use crate::services::events::{Notification, StreamItem, StreamTimings, supervise};
use crate::services::holds::{Hold, Holds};
use crate::services::rate_limits::ClientAddr;
use crate::sessions::administrator_session;
use crate::state::AppState;
use crate::tickets::{Reader, authorised_ticket};

/// The `message` event of a notification, with the wire crate's [`MessageEvent`] as its data:
/// `{"ticket":"<hex>","chain":0,"seq":5}`. (It cannot fail to serialize; if it did, a `resync`
/// makes the client re-read, which loses nothing.)
fn message(notification: &Notification) -> Event {
    let data = MessageEvent {
        ticket: sealdesk_crypto::TicketId(notification.ticket).to_hex(),
        chain: notification.chain,
        seq: notification.seq,
    };
    Event::default()
        .event("message")
        .json_data(data)
        .unwrap_or_else(|_| resync())
}

/// The `resync` event: the subscriber missed notifications and re-reads.
fn resync() -> Event {
    Event::default().event("resync").data("{}")
}

/// The holds one open stream takes: one of its bearer token's, one of its client address's.
/// Kept by the stream's supervising task until the stream ends.
struct StreamHolds {
    _token: Option<Hold<[u8; 32]>>,
    _address: Hold<std::net::IpAddr>,
}

/// Takes the holds of a new stream for `bearer` from `client`.
///
/// # Errors
/// `429 too_many_streams` when the token or the address already holds its cap
/// (`max_event_streams_per_token`, `max_event_streams_per_address`).
fn hold_stream(state: &AppState, bearer: &Bearer, client: ClientAddr) -> ApiResult<StreamHolds> {
    let too_many = |what: &str| {
        ApiError::new(
            axum::http::StatusCode::TOO_MANY_REQUESTS,
            "too_many_streams",
            format!("Too many live-update streams are open for this {what}; close one first."),
        )
    };
    let token = match bearer.token() {
        Some(token) => Some(
            Holds::try_hold(
                &state.streams_by_token,
                *token.as_bytes(),
                state.limits.max_event_streams_per_token,
            )
            .ok_or_else(|| too_many("token"))?,
        ),
        None => None,
    };
    let address = Holds::try_hold(
        &state.streams_by_address,
        client.0,
        state.limits.max_event_streams_per_address,
    )
    .ok_or_else(|| too_many("address"))?;
    Ok(StreamHolds {
        _token: token,
        _address: address,
    })
}

/// The SSE stream: `ready` first, then the notifications `keep` selects as `message` events
/// with data `{"ticket": "<hex>", "chain": 0, "seq": 5}`, `resync` after an overflow, and a
/// last `end` event with data `{"reason": "revoked"}` or `{"reason": "lifetime"}` when the
/// server ends the stream ([`crate::services::events::supervise`]).
fn stream(
    items: ReceiverStream<StreamItem>,
    keep: impl Fn(&Notification) -> bool + Send + 'static,
) -> impl Stream<Item = Result<Event, Infallible>> + Send + 'static {
    let ready = tokio_stream::once(Ok(Event::default().event("ready").data("{}")));
    let updates = items.filter_map(move |item| match item {
        StreamItem::Notification(n) if keep(&n) => Some(Ok(message(&n))),
        StreamItem::Notification(_) => None,
        StreamItem::Lagged => Some(Ok(resync())),
        StreamItem::End(reason) => Some(Ok(Event::default()
            .event("end")
            .data(format!("{{\"reason\":\"{}\"}}", reason.as_str())))),
    });
    ready.chain(updates)
}

/// The timings of every stream, from the configuration.
fn timings(state: &AppState) -> StreamTimings {
    StreamTimings {
        recheck: Duration::from_secs(state.limits.event_stream_recheck_seconds),
        max_lifetime: Duration::from_secs(state.limits.event_stream_max_seconds),
    }
}

/// `GET /api/v1/tickets/{id}/events`: new messages of one ticket, for whoever may read it
/// (reporters see the conversation, administrators both chains).
pub async fn ticket_events(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
    client: ClientAddr,
    bearer: Bearer,
) -> ApiResult<Sse<impl Stream<Item = Result<Event, Infallible>>>> {
    let (record, reader) = authorised_ticket(&state, &id, bearer.token()).await?;
    let holds = hold_stream(&state, &bearer, client)?;
    let administrator = matches!(reader, Reader::Administrator);
    let ticket = record.id;
    let receiver = state.events.subscribe()?;
    let keep = move |n: &Notification| n.ticket == ticket && (n.chain == 0 || administrator);
    // Re-checked as at the start: the same credential must still read the ticket the same way.
    let token = bearer.0;
    let watched = Arc::clone(&state);
    let still_valid = move || {
        let state = Arc::clone(&watched);
        let id = id.clone();
        let token = token.clone();
        async move {
            matches!(
                authorised_ticket(&state, &id, token.as_ref()).await,
                Ok((_, now)) if matches!(now, Reader::Administrator) == administrator
            )
        }
    };
    let items = supervise(receiver, holds, timings(&state), still_valid);
    Ok(Sse::new(stream(items, keep)).keep_alive(KeepAlive::default()))
}

/// `GET /api/v1/inbox/events`: every new message of every ticket, for administrators (their
/// inbox view re-reads the metadata of the named ticket).
pub async fn inbox_events(
    State(state): State<Arc<AppState>>,
    client: ClientAddr,
    bearer: Bearer,
) -> ApiResult<Sse<impl Stream<Item = Result<Event, Infallible>>>> {
    administrator_session(&state, bearer.token()).await?;
    let holds = hold_stream(&state, &bearer, client)?;
    let receiver = state.events.subscribe()?;
    let token = bearer.0;
    let watched = Arc::clone(&state);
    let still_valid = move || {
        let state = Arc::clone(&watched);
        let token = token.clone();
        async move { administrator_session(&state, token.as_ref()).await.is_ok() }
    };
    let items = supervise(receiver, holds, timings(&state), still_valid);
    Ok(Sse::new(stream(items, |_| true)).keep_alive(KeepAlive::default()))
}
