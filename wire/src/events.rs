//! Live updates (spec/API.md, "Live updates (server-sent events)"): the data of the events of
//! `GET /api/v1/tickets/{id}/events` and `GET /api/v1/inbox/events`.

use serde::{Deserialize, Serialize};

/// The data of a `message` event: `{"ticket":"<hex>","chain":0,"seq":5}`. It names a new
/// message and carries no content. (`ready` and `resync` carry `{}`.)
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MessageEvent {
    /// The ticket id, 32 lowercase hexadecimal characters.
    pub ticket: String,
    /// The chain: 0 conversation, 1 internal notes (administrators only).
    pub chain: u8,
    /// The new message's position on its chain.
    pub seq: u64,
}
