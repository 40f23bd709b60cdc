//! The team over HTTP (spec/API.md, "Team"): administrator invites, pending administrators,
//! history wraps and assignment. The rules are [`crate::team`]'s.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};

use super::extract::{Bearer, Json};
use crate::encoding::b64;
use crate::error::ApiResult;
use crate::sessions;
use crate::state::AppState;
use crate::team;

/// Answer of `POST /api/v1/admin/invites`.
#[derive(Serialize)]
pub struct InviteOut {
    /// The invite token (32 bytes, base64url): the web app puts it in the fragment of
    /// `/admin/invite#<token>`. It is shown once and not stored.
    pub invite: String,
    /// Unix seconds after which the invite is refused.
    pub expires_at: u64,
}

/// `POST /api/v1/admin/invites` (administrator session): creates a single-use invite valid
/// for `invite_ttl_seconds`.
pub async fn create_invite(
    State(state): State<Arc<AppState>>,
    bearer: Bearer,
) -> ApiResult<(StatusCode, Json<InviteOut>)> {
    let (_, admin) = sessions::administrator_session(&state, bearer.token()).await?;
    let (token, expires_at) = team::create_invite(&state, &admin).await?;
    Ok((
        StatusCode::CREATED,
        Json(InviteOut {
            invite: token.to_base64url(),
            expires_at,
        }),
    ))
}

/// Body of `POST /api/v1/admin/invites/redeem`.
#[derive(Deserialize)]
pub struct RedeemBody {
    /// The invite token from the URL fragment (32 bytes, base64url).
    pub invite: String,
    /// The username the invite page showed; must be the session's account's.
    pub username: String,
}

/// Answer of `POST /api/v1/admin/invites/redeem`.
#[derive(Serialize)]
pub struct Redeemed {
    /// Key id (base64url) of the account's identity, now a pending administrator.
    pub key_id: String,
    /// Its fingerprint (PROTOCOL.md §4.3), to read out to the approving administrator.
    pub fingerprint: String,
}

/// `POST /api/v1/admin/invites/redeem` (account session): consumes the invite and records
/// the session's account identity as a pending administrator.
pub async fn redeem_invite(
    State(state): State<Arc<AppState>>,
    bearer: Bearer,
    Json(body): Json<RedeemBody>,
) -> ApiResult<(StatusCode, Json<Redeemed>)> {
    let identity =
        team::redeem_invite(&state, bearer.token(), &body.invite, &body.username).await?;
    Ok((
        StatusCode::CREATED,
        Json(Redeemed {
            key_id: b64(&identity.key_id().0),
            fingerprint: identity.fingerprint(),
        }),
    ))
}

/// One pending administrator.
#[derive(Serialize)]
pub struct PendingOut {
    /// Key id (base64url).
    pub key_id: String,
    /// Public identity (64 bytes, base64url): the `add` entry's subject.
    pub identity: String,
    /// The account's username.
    pub username: String,
    /// Unix seconds.
    pub redeemed_at: u64,
    /// Fingerprint of the key id (PROTOCOL.md §4.3), to compare out of band.
    pub fingerprint: String,
}

/// Answer of `GET /api/v1/admin/pending`.
#[derive(Serialize)]
pub struct PendingList {
    /// Oldest redemption first.
    pub pending: Vec<PendingOut>,
}

/// `GET /api/v1/admin/pending` (administrator session): keys that redeemed an invite and wait
/// for an `add` entry, oldest redemption first.
pub async fn list_pending(
    State(state): State<Arc<AppState>>,
    bearer: Bearer,
) -> ApiResult<Json<PendingList>> {
    let pending = team::list_pending(&state, bearer.token()).await?;
    Ok(Json(PendingList {
        pending: pending
            .into_iter()
            .map(|p| PendingOut {
                key_id: p.key_id,
                identity: p.identity,
                username: p.username,
                redeemed_at: p.redeemed_at,
                fingerprint: p.fingerprint,
            })
            .collect(),
    }))
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

/// Body of `POST /api/v1/tickets/{id}/wraps`.
#[derive(Deserialize)]
pub struct WrapsBody {
    /// Wraps (238 bytes each, base64url) of already opened epochs, at most 256.
    pub wraps: Vec<String>,
}

/// Answer of `POST /api/v1/tickets/{id}/wraps`.
#[derive(Serialize)]
pub struct WrapsStored {
    /// How many wraps were stored.
    pub stored: usize,
}

/// `POST /api/v1/tickets/{id}/wraps` (administrator session): stores the keys of epochs that
/// are already open for a member who joined later (see [`team::add_wraps`]). All or nothing.
pub async fn add_wraps(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
    bearer: Bearer,
    Json(body): Json<WrapsBody>,
) -> ApiResult<(StatusCode, Json<WrapsStored>)> {
    let stored = team::add_wraps(&state, &id, bearer.token(), &body.wraps).await?;
    Ok((StatusCode::CREATED, Json(WrapsStored { stored })))
}

/// Body of `PUT /api/v1/tickets/{id}/assignment`.
#[derive(Deserialize)]
pub struct AssignmentBody {
    /// Key id (32 bytes, base64url) of a current administrator, or `null` to unassign.
    pub assigned_to: Option<String>,
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
