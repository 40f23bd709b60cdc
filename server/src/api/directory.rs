//! The administrator directory log over HTTP (PROTOCOL.md §7; spec/API.md, "Directory"). The
//! verification is [`crate::directory`]'s.

use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use sealdesk_crypto::DirectoryHead;
use serde::{Deserialize, Serialize};

use super::extract::{Bearer, Json, Query};
use crate::directory;
use crate::encoding::b64;
use crate::error::ApiResult;
use crate::state::AppState;

/// Query of `GET /api/v1/directory`.
#[derive(Deserialize)]
pub struct ReadQuery {
    /// Return entries from this position on (default 0: the whole log).
    #[serde(default)]
    pub since: u64,
}

/// Answer of `GET /api/v1/directory`.
#[derive(Serialize)]
pub struct DirectoryAnswer {
    /// Encoded entries (base64url), from `since` on.
    pub entries: Vec<String>,
    /// The head, or `null` before the genesis entry.
    pub head: Option<Head>,
}

/// A directory head.
#[derive(Serialize)]
pub struct Head {
    /// Position of the last entry.
    pub seq: u64,
    /// Its hash (base64url).
    pub hash: String,
}

fn head_of(head: DirectoryHead) -> Head {
    Head {
        seq: head.seq,
        hash: b64(&head.hash),
    }
}

/// `GET /api/v1/directory?since=N`.
pub async fn read(
    State(state): State<Arc<AppState>>,
    Query(query): Query<ReadQuery>,
) -> ApiResult<Json<DirectoryAnswer>> {
    let (entries, head) = directory::read(&state, query.since).await?;
    Ok(Json(DirectoryAnswer {
        entries: entries.iter().map(|e| b64(e)).collect(),
        head: head.map(head_of),
    }))
}

/// Body of `POST /api/v1/directory`.
#[derive(Deserialize)]
pub struct AppendBody {
    /// The encoded entry (base64url, 202 bytes).
    pub entry: String,
}

/// `POST /api/v1/directory`: appends an entry signed by the signed-in administrator (see
/// [`directory::append`]).
pub async fn append(
    State(state): State<Arc<AppState>>,
    bearer: Bearer,
    Json(body): Json<AppendBody>,
) -> ApiResult<(StatusCode, Json<Head>)> {
    let head = directory::append(&state, bearer.token(), &body.entry).await?;
    Ok((StatusCode::CREATED, Json(head_of(head))))
}
