//! The team key and the administrators' snippets (canned replies), spec/API.md "Team key and
//! snippets", PROTOCOL.md §18. Every byte string is unpadded base64url; the server stores the
//! wraps and the snippets as they come and sees neither key nor text.

use serde::{Deserialize, Serialize};

/// One team epoch as the server lists it: `{"epoch", "opened_at", "recipients"}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TeamEpoch {
    /// The team epoch (0, 1, ...).
    pub epoch: u32,
    /// The directory position at which it was opened (the `opened_at` of its first wraps).
    pub opened_at: u64,
    /// Key ids (32 bytes, base64url) of the administrators it has a wrap for.
    pub recipients: Vec<String>,
}

/// Answer of `GET /api/v1/admin/team-keys`: every epoch with its recipients, and the wraps
/// addressed to the session's administrator (229 bytes each, base64url), by epoch.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TeamKeysAnswer {
    /// Every epoch, lowest first.
    pub epochs: Vec<TeamEpoch>,
    /// The wraps addressed to the caller, lowest epoch first.
    pub wraps: Vec<String>,
}

/// Body of `POST /api/v1/admin/team-keys`: `{"wraps": [...]}`, at most 64 wraps (229 bytes
/// each, base64url): either the first wraps of a new epoch (one per administrator at the
/// head), or history wraps of existing epochs for administrators who have none.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TeamWrapsBody {
    /// The wraps.
    pub wraps: Vec<String>,
}

/// One stored snippet: `{"id", "snippet", "created_at", "updated_at"}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SnippetItem {
    /// The snippet id: 32 lowercase hexadecimal characters.
    pub id: String,
    /// The encoded snippet (PROTOCOL.md §18.3, at most 65,705 bytes, base64url).
    pub snippet: String,
    /// When the server first stored it, Unix seconds.
    pub created_at: u64,
    /// When the server stored the current version, Unix seconds.
    pub updated_at: u64,
}

/// Answer of `GET /api/v1/admin/snippets`: `{"snippets": [...]}`, by id.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SnippetsAnswer {
    /// Every snippet.
    pub snippets: Vec<SnippetItem>,
}

/// Body of `PUT /api/v1/admin/snippets/{id}`: `{"snippet": "<base64url>"}`, the encoded
/// snippet whose header carries the path's id.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PutSnippetBody {
    /// The encoded snippet (PROTOCOL.md §18.3), base64url.
    pub snippet: String,
}
