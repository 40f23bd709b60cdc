//! The team over HTTP (spec/API.md, "Team"): administrator invites, pending administrators,
//! history wraps and assignment. The rules are [`crate::team`]'s.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use sealdesk_wire::invites::{InviteCreated, InviteRedeemed, RedeemInviteBody};
use sealdesk_wire::team::{AssignmentBody, HistoryWrapsBody, PendingList, WrapsStored};
use sealdesk_wire::{SecretText, b64};

use super::extract::{Bearer, Json};
use crate::error::ApiResult;
use crate::sessions;
use crate::state::AppState;
use crate::team;

/// `POST /api/v1/admin/invites` (administrator session): creates a single-use invite valid
/// for `invite_ttl_seconds`. The token is shown once and not stored: the web app puts it in
/// the fragment of `/admin/invite#<token>`.
pub async fn create_invite(
    State(state): State<Arc<AppState>>,
    bearer: Bearer,
) -> ApiResult<(StatusCode, Json<InviteCreated>)> {
    let (_, admin) = sessions::administrator_session(&state, bearer.token()).await?;
    let (token, expires_at) = team::create_invite(&state, &admin).await?;
    Ok((
        StatusCode::CREATED,
        Json(InviteCreated {
            invite: SecretText::new(token.to_base64url()),
            expires_at,
        }),
    ))
}

/// `POST /api/v1/admin/invites/redeem` (account session): consumes the invite and records
/// the session's account identity as a pending administrator.
pub async fn redeem_invite(
    State(state): State<Arc<AppState>>,
    bearer: Bearer,
    Json(body): Json<RedeemInviteBody>,
) -> ApiResult<(StatusCode, Json<InviteRedeemed>)> {
    let identity =
        team::redeem_invite(&state, bearer.token(), body.invite.expose(), &body.username).await?;
    Ok((
        StatusCode::CREATED,
        Json(InviteRedeemed {
            key_id: b64::encode(&identity.key_id().0),
            fingerprint: identity.fingerprint(),
        }),
    ))
}

/// `GET /api/v1/admin/pending` (administrator session): keys that redeemed an invite and wait
/// for an `add` entry, oldest redemption first.
pub async fn list_pending(
    State(state): State<Arc<AppState>>,
    bearer: Bearer,
) -> ApiResult<Json<PendingList>> {
    let pending = team::list_pending(&state, bearer.token()).await?;
    Ok(Json(PendingList { pending }))
}

/// `DELETE /api/v1/admin/pending/{key_id}` (administrator session): declines a pending
/// administrator (its account keeps its reporter role; it needs a new invite to ask again).
pub async fn decline_pending(
    State(state): State<Arc<AppState>>,
    Path(key_id): Path<String>,
    bearer: Bearer,
) -> ApiResult<StatusCode> {
    sessions::administrator_session(&state, bearer.token()).await?;
    team::decline_pending(&state, &key_id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `POST /api/v1/tickets/{id}/wraps` (administrator session): stores the keys of epochs that
/// are already open for a member who joined later (see [`team::add_wraps`]). All or nothing.
pub async fn add_wraps(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
    bearer: Bearer,
    Json(body): Json<HistoryWrapsBody>,
) -> ApiResult<(StatusCode, Json<WrapsStored>)> {
    let stored = team::add_wraps(&state, &id, bearer.token(), &body.wraps).await?;
    Ok((StatusCode::CREATED, Json(WrapsStored { stored })))
}

/// `PUT /api/v1/tickets/{id}/assignment` (administrator session): assigns the ticket to a
/// current administrator, or unassigns it.
pub async fn assign(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
    bearer: Bearer,
    Json(body): Json<AssignmentBody>,
) -> ApiResult<StatusCode> {
    team::assign(&state, &id, bearer.token(), body.assigned_to.as_deref()).await?;
    Ok(StatusCode::NO_CONTENT)
}
