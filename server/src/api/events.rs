//! Live updates as server-sent events (spec/API.md, "Live updates"). A notification carries
//! only a ticket id, a chain and a sequence number, never content: the client then fetches
//! and verifies the new messages as usual. Clients subscribe first and then fetch, so nothing
//! falls between the two; a subscriber that falls behind gets a `resync` event and re-reads.

use std::convert::Infallible;
use std::sync::{Arc, Mutex};

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::sse::{Event, KeepAlive, Sse};
use tokio::sync::broadcast;
use tokio_stream::wrappers::BroadcastStream;
use tokio_stream::wrappers::errors::BroadcastStreamRecvError;
use tokio_stream::{Stream, StreamExt};

use super::AppState;
use super::error::{ApiError, ApiResult};
use super::team::administrator_session;
use super::tickets::{Reader, authorised_ticket};

/// How many notifications a slow subscriber may fall behind before it is told to resync.
const BACKLOG: usize = 1024;

/// A new message was stored.
#[derive(Clone, Copy, Debug)]
pub struct Notification {
    /// The ticket.
    pub ticket: [u8; 16],
    /// 0 conversation, 1 notes.
    pub chain: u8,
    /// The message's position.
    pub seq: u64,
}

/// The broadcast of notifications to every open stream.
pub struct Events {
    /// `None` once the server shuts down: dropping the sender ends every stream, so graceful
    /// shutdown is not held up by open connections.
    sender: Mutex<Option<broadcast::Sender<Notification>>>,
}

impl Default for Events {
    fn default() -> Self {
        Events {
            sender: Mutex::new(Some(broadcast::channel(BACKLOG).0)),
        }
    }
}

impl Events {
    /// Tells every subscriber about a stored (durable) message.
    pub fn publish(&self, notification: Notification) {
        if let Some(sender) = self.lock().as_ref() {
            // No subscriber is not an error.
            let _ = sender.send(notification);
        }
    }

    /// Ends every stream (on shutdown).
    pub fn close(&self) {
        self.lock().take();
    }

    fn subscribe(&self) -> ApiResult<broadcast::Receiver<Notification>> {
        self.lock()
            .as_ref()
            .map(broadcast::Sender::subscribe)
            .ok_or_else(|| {
                ApiError::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "shutting_down",
                    "The server is shutting down.",
                )
            })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Option<broadcast::Sender<Notification>>> {
        self.sender
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

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
    headers: HeaderMap,
) -> ApiResult<Sse<impl Stream<Item = Result<Event, Infallible>>>> {
    let (record, reader) = authorised_ticket(&state, &id, &headers).await?;
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
    headers: HeaderMap,
) -> ApiResult<Sse<impl Stream<Item = Result<Event, Infallible>>>> {
    administrator_session(&state, &headers).await?;
    let receiver = state.events.subscribe()?;
    Ok(Sse::new(stream(receiver, |_| true)).keep_alive(KeepAlive::default()))
}
