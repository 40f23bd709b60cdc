//! Mail over HTTP (spec/API.md, "Mail"): unsubscribe links (RFC 8058 one-click POST and the
//! unsubscribe page's POST), administrators' mail preferences, an account's notification
//! address. The rules are [`crate::mail`]'s.

use std::sync::Arc;

use axum::extract::{Path, State};
use sealdesk_wire::mail::{AccountNotifications, AdminMailPreferences, Unsubscribed};

use super::extract::{Bearer, Json};
use crate::error::ApiResult;
use crate::mail::{preferences, subscriptions};
use crate::sessions;
use crate::state::AppState;

/// `POST /api/v1/unsubscribe/{token}` (anyone holding the token): stops the mail of the
/// token's recipient. The body is ignored: a mail client's one-click POST sends
/// `List-Unsubscribe=One-Click` as a form (RFC 8058 §3.1), the page sends nothing.
pub async fn unsubscribe(
    State(state): State<Arc<AppState>>,
    Path(token): Path<String>,
) -> ApiResult<Json<Unsubscribed>> {
    subscriptions::unsubscribe(&state, &token).await?;
    Ok(Json(Unsubscribed { unsubscribed: true }))
}

fn admin_answer(p: Option<preferences::Preferences>) -> Json<AdminMailPreferences> {
    let p = p.unwrap_or_default();
    Json(AdminMailPreferences {
        address: p.address,
        new_tickets: p.new_tickets,
        reporter_replies: p.reporter_replies,
        assigned: p.assigned,
        recoveries: p.recoveries,
        digest: p.digest,
    })
}

/// `GET /api/v1/admin/mail` (administrator session): my mail preferences.
pub async fn read_preferences(
    State(state): State<Arc<AppState>>,
    bearer: Bearer,
) -> ApiResult<Json<AdminMailPreferences>> {
    let (_, identity) = sessions::administrator_session(&state, bearer.token()).await?;
    Ok(admin_answer(preferences::load(
        &state,
        &identity.key_id().0,
    )?))
}

/// `PUT /api/v1/admin/mail` (administrator session): replaces my mail preferences; an empty
/// address deletes them.
///
/// # Errors
/// `400 mail_off` when a non-empty address is given and mail is off; `400 bad_email`.
pub async fn replace_preferences(
    State(state): State<Arc<AppState>>,
    bearer: Bearer,
    Json(body): Json<AdminMailPreferences>,
) -> ApiResult<Json<AdminMailPreferences>> {
    let (_, identity) = sessions::administrator_session(&state, bearer.token()).await?;
    let key_id = identity.key_id().0;
    if body.address.trim().is_empty() {
        preferences::store(&state, &key_id, None).await?;
        return Ok(admin_answer(None));
    }
    if state.mail.is_none() {
        return Err(subscriptions::mail_off());
    }
    let stored = preferences::Preferences {
        address: subscriptions::validate_address(&body.address)?,
        new_tickets: body.new_tickets,
        reporter_replies: body.reporter_replies,
        assigned: body.assigned,
        recoveries: body.recoveries,
        digest: body.digest,
    };
    preferences::store(&state, &key_id, Some(&stored)).await?;
    Ok(admin_answer(Some(stored)))
}

/// `GET /api/v1/accounts/notifications` (session): the account's notification address.
pub async fn read_account_notifications(
    State(state): State<Arc<AppState>>,
    bearer: Bearer,
) -> ApiResult<Json<AccountNotifications>> {
    let session = sessions::require_session(&state, bearer.token())?;
    Ok(Json(AccountNotifications {
        address: subscriptions::account_address(&state, &session.account.account_id)?
            .unwrap_or_default(),
    }))
}

/// `PUT /api/v1/accounts/notifications` (session): sets or (empty) clears the address that
/// gets reply notifications of the account's tickets.
///
/// # Errors
/// `400 mail_off` when an address is given and mail is off; `400 bad_email`.
pub async fn replace_account_notifications(
    State(state): State<Arc<AppState>>,
    bearer: Bearer,
    Json(body): Json<AccountNotifications>,
) -> ApiResult<Json<AccountNotifications>> {
    let session = sessions::require_session(&state, bearer.token())?;
    let address = if body.address.trim().is_empty() {
        None
    } else if state.mail.is_none() {
        return Err(subscriptions::mail_off());
    } else {
        Some(subscriptions::validate_address(&body.address)?)
    };
    subscriptions::set_account_address(&state, &session.account.account_id, address.clone())
        .await?;
    Ok(Json(AccountNotifications {
        address: address.unwrap_or_default(),
    }))
}
