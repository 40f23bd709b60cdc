//! Adding and removing administrators, history wraps and assignment (spec/API.md, "Team",
//! `POST /api/v1/tickets/{id}/wraps`, `PUT /api/v1/tickets/{id}/assignment`). Invites are in
//! [`crate::invites`], directory entries in [`crate::directory`].

use serde::{Deserialize, Serialize};

/// One pending administrator: `{"key_id", "identity", "username", "redeemed_at",
/// "fingerprint"}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PendingAdministrator {
    /// Key id (32 bytes, base64url).
    pub key_id: String,
    /// Public identity (64 bytes, base64url): the `add` entry's subject.
    pub identity: String,
    /// The account's username.
    pub username: String,
    /// Unix seconds.
    pub redeemed_at: u64,
    /// Fingerprint of the key id (PROTOCOL.md §4.3), to compare out of band (clients compute
    /// their own).
    pub fingerprint: String,
}

/// Answer of `GET /api/v1/admin/pending`: `{"pending": [...]}`, oldest redemption first.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PendingList {
    /// The pending administrators.
    pub pending: Vec<PendingAdministrator>,
}

/// Body of `POST /api/v1/tickets/{id}/wraps` (history for a member who joined later):
/// `{"wraps": [...]}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct HistoryWrapsBody {
    /// Wraps (238 bytes each, base64url) of already opened epochs, at most 256.
    pub wraps: Vec<String>,
}

/// Answer of `POST /api/v1/tickets/{id}/wraps`: `{"stored": 2}`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct WrapsStored {
    /// How many wraps were stored.
    pub stored: usize,
}

/// Body of `PUT /api/v1/tickets/{id}/assignment`: `{"assigned_to": "<32-byte key id>"}`, or
/// `{"assigned_to": null}` to unassign.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AssignmentBody {
    /// Key id (32 bytes, base64url) of a current administrator, or `null`.
    pub assigned_to: Option<String>,
}
