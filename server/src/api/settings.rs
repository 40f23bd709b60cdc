//! Public instance settings over HTTP (spec/API.md, "Instance settings"). Their rules are
//! [`crate::settings`]'s.

use std::sync::Arc;

use axum::extract::State;
use serde::Serialize;

use super::extract::{Bearer, Json};
use crate::error::ApiResult;
use crate::sessions;
use crate::settings::{self, Settings};
use crate::state::AppState;

/// Answer of both routes: the settings, and limits the pages check before uploading.
#[derive(Serialize)]
pub struct SettingsOut {
    /// The stored settings (empty lists and texts until an administrator saves them).
    #[serde(flatten)]
    pub settings: Settings,
    /// Largest attachment the server accepts, in bytes of the encrypted stream.
    pub max_attachment_bytes: u64,
    /// The server's version, for the debug data.
    pub version: &'static str,
}

fn answer(state: &AppState, settings: Settings) -> Json<SettingsOut> {
    Json(SettingsOut {
        settings,
        max_attachment_bytes: state.limits.max_attachment_bytes,
        version: env!("CARGO_PKG_VERSION"),
    })
}

/// `GET /api/v1/settings` (anyone): the public instance settings.
pub async fn read(State(state): State<Arc<AppState>>) -> ApiResult<Json<SettingsOut>> {
    let settings = settings::load(&state)?;
    Ok(answer(&state, settings))
}

/// `PUT /api/v1/settings` (administrator session): replaces the public instance settings.
pub async fn replace(
    State(state): State<Arc<AppState>>,
    bearer: Bearer,
    Json(body): Json<Settings>,
) -> ApiResult<Json<SettingsOut>> {
    sessions::administrator_session(&state, bearer.token()).await?;
    let settings = settings::replace(&state, body).await?;
    Ok(answer(&state, settings))
}
