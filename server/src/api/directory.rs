//! The administrator directory log over HTTP (PROTOCOL.md §7; spec/API.md, "Directory"). The
//! verification is [`crate::directory`]'s.

use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use sealdesk_crypto::DirectoryHead;
use sealdesk_wire::b64;
use sealdesk_wire::directory::{AppendEntryBody, DirectoryAnswer, DirectoryQuery, HeadBody};

use super::extract::{Bearer, Json, Query};
use crate::directory;
use crate::error::ApiResult;
use crate::state::AppState;

/// The answer's form of a directory head: `{"seq", "hash"}` (the hash in base64url).
pub(super) fn head_body(head: DirectoryHead) -> HeadBody {
    HeadBody {
        seq: head.seq,
        hash: b64::encode(&head.hash),
    }
}

/// `GET /api/v1/directory?since=N`.
pub async fn read(
    State(state): State<Arc<AppState>>,
    Query(query): Query<DirectoryQuery>,
) -> ApiResult<Json<DirectoryAnswer>> {
    let (entries, head) = directory::read(&state, query.since).await?;
    Ok(Json(DirectoryAnswer {
        entries: entries.iter().map(|e| b64::encode(e)).collect(),
        head: head.map(head_body),
    }))
}

/// `POST /api/v1/directory`: appends an entry signed by the signed-in administrator (see
/// [`directory::append`]).
pub async fn append(
    State(state): State<Arc<AppState>>,
    bearer: Bearer,
    Json(body): Json<AppendEntryBody>,
) -> ApiResult<(StatusCode, Json<HeadBody>)> {
    let head = directory::append(&state, bearer.token(), &body.entry).await?;
    Ok((StatusCode::CREATED, Json(head_body(head))))
}
