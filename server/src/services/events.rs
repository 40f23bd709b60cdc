//! Live-update notifications (spec/API.md, "Live updates"): a broadcast of "a message was
//! stored" to every open stream. A notification carries only a ticket id, a chain and a
//! sequence number, never content; `api::events` turns the broadcast into server-sent events.

use std::future::Future;
use std::sync::Mutex;
use std::time::Duration;

use axum::http::StatusCode;
use tokio::sync::{broadcast, mpsc};
use tokio_stream::wrappers::ReceiverStream;

use crate::error::{ApiError, ApiResult};

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

    /// A receiver of every notification from now on.
    ///
    /// # Errors
    /// `503 shutting_down` once [`Events::close`] ran.
    pub fn subscribe(&self) -> ApiResult<broadcast::Receiver<Notification>> {
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

/// How an open stream is watched (options `event_stream_recheck_seconds` and
/// `event_stream_max_seconds`).
#[derive(Clone, Copy, Debug)]
pub struct StreamTimings {
    /// Time between two checks of the stream's credential.
    pub recheck: Duration,
    /// Time after which the server ends the stream (the client reconnects).
    pub max_lifetime: Duration,
}

/// Why the server ended a stream.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StreamEnd {
    /// The credential is no longer valid (logout, expiry, password change, removal).
    Revoked,
    /// The stream reached its maximum lifetime; the client reconnects.
    Lifetime,
}

impl StreamEnd {
    /// The reason as the `end` event writes it: `"revoked"` or `"lifetime"`.
    pub fn as_str(self) -> &'static str {
        match self {
            StreamEnd::Revoked => "revoked",
            StreamEnd::Lifetime => "lifetime",
        }
    }
}

/// What a supervised stream yields.
#[derive(Clone, Copy, Debug)]
pub enum StreamItem {
    /// A stored message.
    Notification(Notification),
    /// The subscriber fell behind and missed notifications.
    Lagged,
    /// The last item: the server ends the stream.
    End(StreamEnd),
}

/// Notifications from `receiver` for one open stream, watched by a task that ends the stream
/// when `still_valid` (called every `timings.recheck`) answers false or when
/// `timings.max_lifetime` has passed, each with a last [`StreamItem::End`]. `holds` are kept
/// until the stream ends: the client left (noticed at once), it was ended, or the broadcast
/// closed at shutdown.
pub fn supervise<H, F, Fut>(
    mut receiver: broadcast::Receiver<Notification>,
    holds: H,
    timings: StreamTimings,
    still_valid: F,
) -> ReceiverStream<StreamItem>
where
    H: Send + 'static,
    F: Fn() -> Fut + Send + 'static,
    Fut: Future<Output = bool> + Send,
{
    let (sender, items) = mpsc::channel(16);
    tokio::spawn(async move {
        let _holds = holds;
        let deadline = tokio::time::sleep(timings.max_lifetime);
        tokio::pin!(deadline);
        let period = timings.recheck.max(Duration::from_millis(100));
        let mut recheck = tokio::time::interval_at(tokio::time::Instant::now() + period, period);
        recheck.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            let item = tokio::select! {
                () = sender.closed() => return,
                () = &mut deadline => StreamItem::End(StreamEnd::Lifetime),
                _ = recheck.tick() => {
                    if still_valid().await {
                        continue;
                    }
                    StreamItem::End(StreamEnd::Revoked)
                }
                received = receiver.recv() => match received {
                    Ok(notification) => StreamItem::Notification(notification),
                    Err(broadcast::error::RecvError::Lagged(_)) => StreamItem::Lagged,
                    // Shutdown: the stream ends without a word.
                    Err(broadcast::error::RecvError::Closed) => return,
                },
            };
            let last = matches!(item, StreamItem::End(_));
            if sender.send(item).await.is_err() || last {
                return;
            }
        }
    });
    ReceiverStream::new(items)
}
