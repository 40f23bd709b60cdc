//! The team key and snippets over HTTP (spec/API.md, "Team key and snippets"). The rules are
//! [`crate::snippets`]'s.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use sealdesk_wire::snippets::{
    PutSnippetBody, SnippetItem, SnippetsAnswer, TeamKeysAnswer, TeamWrapsBody,
};
use sealdesk_wire::team::WrapsStored;

use super::extract::{Bearer, Json};
use crate::error::ApiResult;
use crate::snippets;
use crate::state::AppState;

/// `GET /api/v1/admin/team-keys` (administrator session): the team epochs and the caller's
/// wraps.
pub async fn team_keys(
    State(state): State<Arc<AppState>>,
    bearer: Bearer,
) -> ApiResult<Json<TeamKeysAnswer>> {
    Ok(Json(snippets::team_keys(&state, bearer.token()).await?))
}

/// `POST /api/v1/admin/team-keys` (administrator session): a new epoch's wraps, or history
/// wraps; all or nothing.
pub async fn add_team_wraps(
    State(state): State<Arc<AppState>>,
    bearer: Bearer,
    Json(body): Json<TeamWrapsBody>,
) -> ApiResult<(StatusCode, Json<WrapsStored>)> {
    let stored = snippets::add_team_wraps(&state, bearer.token(), &body.wraps).await?;
    Ok((StatusCode::CREATED, Json(WrapsStored { stored })))
}

/// `GET /api/v1/admin/snippets` (administrator session): every snippet.
pub async fn list(
    State(state): State<Arc<AppState>>,
    bearer: Bearer,
) -> ApiResult<Json<SnippetsAnswer>> {
    let snippets = snippets::list(&state, bearer.token()).await?;
    Ok(Json(SnippetsAnswer { snippets }))
}

/// `PUT /api/v1/admin/snippets/{id}` (administrator session): creates (201) or replaces (200)
/// a snippet.
pub async fn put(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
    bearer: Bearer,
    Json(body): Json<PutSnippetBody>,
) -> ApiResult<(StatusCode, Json<SnippetItem>)> {
    let (item, created) = snippets::put(&state, bearer.token(), &id, &body.snippet).await?;
    let status = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(item)))
}

/// `DELETE /api/v1/admin/snippets/{id}` (administrator session).
pub async fn delete(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
    bearer: Bearer,
) -> ApiResult<StatusCode> {
    snippets::delete(&state, bearer.token(), &id).await?;
    Ok(StatusCode::NO_CONTENT)
}
