//! Live updates as server-sent events (spec/API.md, "Live updates"). A notification carries
//! only a ticket id, a chain and a sequence number, never content: the client then fetches
//! and verifies the new messages as usual. Clients subscribe first and then fetch, so nothing
//! falls between the two; a subscriber that falls behind gets a `resync` event and re-reads.
//! The broadcast is [`crate::services::events`].

use std::convert::Infallible;
use std::sync::Arc;

use axum::extract::{Path, State};
use axum::response::sse::{Event, KeepAlive, Sse};
use sealdesk_wire::events::MessageEvent;
use tokio::sync::broadcast;
use tokio_stream::wrappers::BroadcastStream;
use tokio_stream::wrappers::errors::BroadcastStreamRecvError;
use tokio_stream::{Stream, StreamExt};

use super::extract::Bearer;
use crate::error::ApiResult;
use crate::services::events::Notification;
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

/// The SSE stream: `ready` first, then the notifications `keep` selects as `message` events
/// with data `{"ticket": "<hex>", "chain": 0, "seq": 5}`, and `resync` after an overflow.
fn stream(
    receiver: broadcast::Receiver<Notification>,
    keep: impl Fn(&Notification) -> bool + Send + 'static,
) -> impl Stream<Item = Result<Event, Infallible>> + Send + 'static {
    let ready = tokio_stream::once(Ok(Event::default().event("ready").data("{}")));
    let updates = BroadcastStream::new(receiver).filter_map(move |item| match item {
        Ok(n) if keep(&n) => Some(Ok(message(&n))),
        Ok(_) => None,
        Err(BroadcastStreamRecvError::Lagged(_)) => Some(Ok(resync())),
    });
    ready.chain(updates)
}

/// `GET /api/v1/tickets/{id}/events`: new messages of one ticket, for whoever may read it
/// (reporters see the conversation, administrators both chains).
pub async fn ticket_events(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
    bearer: Bearer,
) -> ApiResult<Sse<impl Stream<Item = Result<Event, Infallible>>>> {
    let (record, reader) = authorised_ticket(&state, &id, bearer.token()).await?;
    let administrator = matches!(reader, Reader::Administrator);
    let ticket = record.id;
    let receiver = state.events.subscribe()?;
    let keep = move |n: &Notification| n.ticket == ticket && (n.chain == 0 || administrator);
    Ok(Sse::new(stream(receiver, keep)).keep_alive(KeepAlive::default()))
}

/// `GET /api/v1/inbox/events`: every new message of every ticket, for administrators (their
/// inbox view re-reads the metadata of the named ticket).
pub async fn inbox_events(
    State(state): State<Arc<AppState>>,
    bearer: Bearer,
) -> ApiResult<Sse<impl Stream<Item = Result<Event, Infallible>>>> {
    administrator_session(&state, bearer.token()).await?;
    let receiver = state.events.subscribe()?;
    Ok(Sse::new(stream(receiver, |_| true)).keep_alive(KeepAlive::default()))
}
