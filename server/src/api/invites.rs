//! The first administrator's invite over HTTP (spec/API.md, "Directory"): the command-line
//! invites are [`crate::invites`]'s, the genesis entry [`crate::directory`]'s.

use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;

use super::directory::Head;
use super::extract::Json;
use crate::directory;
use crate::encoding::b64;
use crate::error::ApiResult;
use crate::state::AppState;

/// Kept at its former path for the binary (`sealdesk admin invite`, `sealdesk serve`).
pub use crate::invites::create_cli_invite;

/// Body of `POST /api/v1/invites/redeem-genesis`.
#[derive(Deserialize)]
pub struct GenesisBody {
    /// The invite token from the URL (base64url, 32 bytes).
    pub invite: String,
    /// The genesis directory entry, signed by the new administrator (202 bytes, base64url).
    pub entry: String,
}

/// `POST /api/v1/invites/redeem-genesis`: the first administrator redeems the command-line
/// invite with its self-signed genesis entry.
pub async fn redeem_genesis(
    State(state): State<Arc<AppState>>,
    Json(body): Json<GenesisBody>,
) -> ApiResult<(StatusCode, Json<Head>)> {
    let head = directory::redeem_genesis(&state, &body.invite, &body.entry).await?;
    Ok((
        StatusCode::CREATED,
        Json(Head {
            seq: head.seq,
            hash: b64(&head.hash),
        }),
    ))
}
