//! The first administrator's invite over HTTP (spec/API.md, "Directory"): the command-line
//! invites are [`crate::invites`]'s, the genesis entry [`crate::directory`]'s.

use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use sealdesk_wire::directory::HeadBody;
use sealdesk_wire::invites::RedeemGenesisBody;

use super::directory::head_body;
use super::extract::Json;
use crate::directory;
use crate::error::ApiResult;
use crate::state::AppState;

/// Kept at its former path for the binary (`sealdesk admin invite`, `sealdesk serve`).
pub use crate::invites::create_cli_invite;

/// `POST /api/v1/invites/redeem-genesis`: the first administrator redeems the command-line
/// invite with its self-signed genesis entry.
pub async fn redeem_genesis(
    State(state): State<Arc<AppState>>,
    Json(body): Json<RedeemGenesisBody>,
) -> ApiResult<(StatusCode, Json<HeadBody>)> {
    let head = directory::redeem_genesis(&state, body.invite.expose(), &body.entry).await?;
    Ok((StatusCode::CREATED, Json(head_body(head))))
}
