//! Live updates as server-sent events (spec/API.md, "Live updates"). A notification carries
//! only a ticket id, a chain and a sequence number, never content: the client then fetches
//! and verifies the new messages as usual. Clients subscribe first and then fetch, so nothing
//! falls between the two; a subscriber that falls behind gets a `resync` event and re-reads.
//! The broadcast is [`crate::services::events`].

use std::convert::Infallible;
use std::sync::Arc;

use axum::extract::{Path, State};
use axum::response::sse::{Event, KeepAlive, Sse};
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

/// The SSE stream: `ready` first, then the notifications `keep` selects as `message` events
/// with data `{"ticket": "<hex>", "chain": 0, "seq": 5}`, and `resync` after an overflow.
fn stream(
    receiver: broadcast::Receiver<Notification>,
    keep: impl Fn(&Notification) -> bool + Send + 'static,
) -> impl Stream<Item = Result<Event, Infallible>> + Send + 'static {
    let ready = tokio_stream::once(Ok(Event::default().event("ready").data("{}")));
    let updates = BroadcastStream::new(receiver).filter_map(move |item| match item {
        Ok(n) if keep(&n) => Some(Ok(Event::default().event("message").data(format!(
            r#"{{"ticket":"{}","chain":{},"seq":{}}}"#,
            sealdesk_crypto::TicketId(n.ticket).to_hex(),
            n.chain,
            n.seq
        )))),
        Ok(_) => None,
        Err(BroadcastStreamRecvError::Lagged(_)) => {
            Some(Ok(Event::default().event("resync").data("{}")))
        }
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
