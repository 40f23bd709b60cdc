//! Recovery over HTTP (spec/API.md, "Recovery"): request a recovery mail, claim with a new key,
//! the claim's status, and the administrators' list, approval and refusal. The rules are
//! [`crate::recovery`]'s.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use sealdesk_wire::b64;
use sealdesk_wire::recovery::{
    PendingRecoveryList, RecoveryClaimBody, RecoveryClaimed, RecoveryRequestBody,
    RecoveryRequested, RecoveryStatus,
};

use super::extract::{Bearer, Json};
use crate::error::ApiResult;
use crate::recovery;
use crate::services::rate_limits::ClientAddr;
use crate::state::AppState;

/// `POST /api/v1/recovery/request`: `202 {"status": "sent_if_known"}` whether or not the
/// address belongs to a ticket.
pub async fn request(
    State(state): State<Arc<AppState>>,
    client: ClientAddr,
    Json(body): Json<RecoveryRequestBody>,
) -> ApiResult<(StatusCode, Json<RecoveryRequested>)> {
    recovery::request(&state, client, body.email).await?;
    Ok((
        StatusCode::ACCEPTED,
        Json(RecoveryRequested {
            status: "sent_if_known".to_owned(),
        }),
    ))
}

/// `POST /api/v1/recovery/claim`: `201` with the claimed key's id and fingerprint.
pub async fn claim(
    State(state): State<Arc<AppState>>,
    Json(body): Json<RecoveryClaimBody>,
) -> ApiResult<(StatusCode, Json<RecoveryClaimed>)> {
    let identity = recovery::claim(&state, &body).await?;
    Ok((
        StatusCode::CREATED,
        Json(RecoveryClaimed {
            ticket_id: body.ticket_id.to_ascii_lowercase(),
            key_id: b64::encode(&identity.key_id().0),
            fingerprint: identity.fingerprint(),
        }),
    ))
}

/// `GET /api/v1/recovery/status` (bearer: a claim's reader token).
pub async fn status(
    State(state): State<Arc<AppState>>,
    bearer: Bearer,
) -> ApiResult<Json<RecoveryStatus>> {
    let (ticket, approved) = recovery::status(&state, bearer.token())?;
    Ok(Json(RecoveryStatus {
        ticket_id: ticket.to_hex(),
        status: if approved { "approved" } else { "pending" }.to_owned(),
    }))
}

/// `GET /api/v1/admin/recoveries` (administrator session): the pending claims.
pub async fn list(
    State(state): State<Arc<AppState>>,
    bearer: Bearer,
) -> ApiResult<Json<PendingRecoveryList>> {
    let recoveries = recovery::list(&state, bearer.token()).await?;
    Ok(Json(PendingRecoveryList { recoveries }))
}

/// `POST /api/v1/admin/recoveries/{id}/{key_id}/approve` (administrator session): `204`.
pub async fn approve(
    State(state): State<Arc<AppState>>,
    bearer: Bearer,
    Path((id, key_id)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    recovery::approve(&state, bearer.token(), &id, &key_id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `DELETE /api/v1/admin/recoveries/{id}/{key_id}` (administrator session): `204`.
pub async fn decline(
    State(state): State<Arc<AppState>>,
    bearer: Bearer,
    Path((id, key_id)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    recovery::decline(&state, bearer.token(), &id, &key_id).await?;
    Ok(StatusCode::NO_CONTENT)
}
