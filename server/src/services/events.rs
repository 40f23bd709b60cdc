//! Live-update notifications (spec/API.md, "Live updates"): a broadcast of "a message was
//! stored" to every open stream. A notification carries only a ticket id, a chain and a
//! sequence number, never content; `api::events` turns the broadcast into server-sent events.

use std::sync::Mutex;

use axum::http::StatusCode;
use tokio::sync::broadcast;

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
