//! Public instance settings over HTTP (spec/API.md, "Instance settings"). Their rules are
//! [`crate::settings`]'s.

use std::sync::Arc;

use axum::extract::State;
use sealdesk_wire::settings::{Settings, SettingsAnswer};

use super::extract::{Bearer, Json};
use crate::error::ApiResult;
use crate::sessions;
use crate::settings;
use crate::state::AppState;

/// Answer of both routes: the settings, and limits the pages check before uploading.
fn answer(state: &AppState, settings: Settings) -> Json<SettingsAnswer> {
    Json(SettingsAnswer {
        settings,
        max_attachment_bytes: state.limits.max_attachment_bytes,
        version: env!("CARGO_PKG_VERSION").to_owned(),
        mail_enabled: state.mail.is_some(),
        embed_origins: state.limits.embed_origins.origins().to_vec(),
    })
}

/// `GET /api/v1/settings` (anyone): the public instance settings.
pub async fn read(State(state): State<Arc<AppState>>) -> ApiResult<Json<SettingsAnswer>> {
    let settings = settings::load(&state)?;
    Ok(answer(&state, settings))
}

/// `PUT /api/v1/settings` (administrator session): replaces the public instance settings.
pub async fn replace(
    State(state): State<Arc<AppState>>,
    bearer: Bearer,
    Json(body): Json<Settings>,
) -> ApiResult<Json<SettingsAnswer>> {
    sessions::administrator_session(&state, bearer.token()).await?;
    let settings = settings::replace(&state, body).await?;
    Ok(answer(&state, settings))
}
