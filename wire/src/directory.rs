//! The administrator directory log (spec/API.md, "Directory log"; PROTOCOL.md §7).

use serde::{Deserialize, Serialize};

/// Query of `GET /api/v1/directory?since=N`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams), into_params(parameter_in = Query))]
pub struct DirectoryQuery {
    /// Return entries from this position on (default 0: the whole log).
    #[serde(default)]
    pub since: u64,
}

/// A directory head: `{"seq": 3, "hash": "<32 bytes>"}`. The answer of `POST
/// /api/v1/directory` and `POST /api/v1/invites/redeem-genesis`, and part of
/// [`DirectoryAnswer`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct HeadBody {
    /// Position of the last entry.
    pub seq: u64,
    /// Its hash (32 bytes, base64url).
    pub hash: String,
}

/// Answer of `GET /api/v1/directory`: `{"entries": [...], "head": {...} | null}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DirectoryAnswer {
    /// Encoded entries (base64url), from `since` on.
    pub entries: Vec<String>,
    /// The head, or `null` before the genesis entry.
    pub head: Option<HeadBody>,
}

/// Body of `POST /api/v1/directory`: `{"entry": "<202 bytes>"}`, an `add` or `remove` entry
/// signed by the session's administrator.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AppendEntryBody {
    /// The encoded entry (base64url, 202 bytes).
    pub entry: String,
}
