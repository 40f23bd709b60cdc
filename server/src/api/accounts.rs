//! Accounts and sessions over HTTP (spec/API.md, "Accounts"): pre-login, registration, login,
//! logout, password change, and an account's tickets. The logic is [`crate::sessions`]'s.

use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use sealdesk_wire::accounts::{
    AccountTicketsAnswer, ChangeKeyringBody, LoginAnswer, LoginBody, PreloginAnswer, PreloginBody,
    RegisterBody, Registered,
};
use sealdesk_wire::inbox::AccountTicketsQuery;
use sealdesk_wire::tickets::{CreateAccountTicketBody, TicketCreated};
use sealdesk_wire::{SecretText, b64};

use super::extract::{
    AccountTicketAllowance, Bearer, Json, Query, RegistrationAllowance, SignInAllowance,
};
use super::inbox::list_item;
use super::tickets::created;
use crate::clock::now;
use crate::error::ApiResult;
use crate::inbox::{self, Start};
use crate::sessions::{self, PasswordChange, Registration};
use crate::state::AppState;
use crate::tickets::{self, NewTicket};

/// `POST /api/v1/accounts/prelogin`: the salt and Argon2id parameters of a username. An
/// unknown username gets a fake salt that is stable per username and the default
/// parameters, so the answer does not say whether the account exists.
pub async fn prelogin(
    State(state): State<Arc<AppState>>,
    _allowance: SignInAllowance,
    Json(body): Json<PreloginBody>,
) -> ApiResult<Json<PreloginAnswer>> {
    let (salt, argon2) = sessions::prelogin(&state, &body.username).await?;
    Ok(Json(PreloginAnswer {
        salt: b64::encode(&salt),
        argon2,
    }))
}

/// `POST /api/v1/accounts/register`: creates an account. `409 username_taken` if the
/// username exists.
pub async fn register(
    State(state): State<Arc<AppState>>,
    _allowance: RegistrationAllowance,
    Json(body): Json<RegisterBody>,
) -> ApiResult<(StatusCode, Json<Registered>)> {
    let account_id = sessions::register(
        &state,
        &Registration {
            username: &body.username,
            salt: &body.salt,
            argon2: body.argon2,
            auth_key: body.auth_key.expose(),
            keyring: &body.keyring,
            identity: &body.identity,
            identity_proof: &body.identity_proof,
        },
    )
    .await?;
    Ok((StatusCode::CREATED, Json(Registered { account_id })))
}

/// `POST /api/v1/accounts/login`: checks the `auth_key` against the stored hash and opens a
/// session. A wrong password and an unknown username answer the same `401 bad_credentials`
/// after the same comparison. Failed logins back off per username (`429 rate_limited`).
pub async fn login(
    State(state): State<Arc<AppState>>,
    _allowance: SignInAllowance,
    Json(body): Json<LoginBody>,
) -> ApiResult<Json<LoginAnswer>> {
    let signed_in = sessions::login(&state, &body.username, body.auth_key.expose()).await?;
    let account = signed_in.account;
    Ok(Json(LoginAnswer {
        session: SecretText::new(signed_in.token.to_base64url()),
        expires_at: signed_in.expires_at,
        account_id: account.account_id,
        keyring: b64::encode(&account.keyring),
        identity: b64::encode(&account.identity),
        salt: b64::encode(&account.salt),
        argon2: account.argon2,
    }))
}

/// `POST /api/v1/accounts/logout`: ends the bearer's session.
pub async fn logout(State(state): State<Arc<AppState>>, bearer: Bearer) -> ApiResult<StatusCode> {
    let session = sessions::require_session(&state, bearer.token())?;
    sessions::logout(&state, &session).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `POST /api/v1/accounts/logout-everywhere`: ends every session of the bearer's account, the
/// bearer's included ("Sign out everywhere").
pub async fn logout_everywhere(
    State(state): State<Arc<AppState>>,
    bearer: Bearer,
) -> ApiResult<StatusCode> {
    let session = sessions::require_session(&state, bearer.token())?;
    sessions::logout_everywhere(&state, session).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `PUT /api/v1/accounts/keyring`: password change. It needs the CURRENT `auth_key`, so a
/// stolen session cannot replace (and so destroy) the account's keyring. Replaces the salt,
/// parameters, auth hash and keyring in one write and revokes every other session of the
/// account (the caller's stays valid).
pub async fn replace_keyring(
    State(state): State<Arc<AppState>>,
    bearer: Bearer,
    Json(body): Json<ChangeKeyringBody>,
) -> ApiResult<StatusCode> {
    let session = sessions::require_session(&state, bearer.token())?;
    sessions::change_password(
        &state,
        session,
        &PasswordChange {
            current_auth_key: body.current_auth_key.expose(),
            salt: &body.salt,
            argon2: body.argon2,
            auth_key: body.auth_key.expose(),
            keyring: &body.keyring,
        },
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `POST /api/v1/tickets/account`: opens a ticket owned by the session's account, within the
/// client address's hourly allowance, the account's open-ticket limit, the storage budget and,
/// when the instance asks for it, with a proof of work.
pub async fn create_ticket(
    State(state): State<Arc<AppState>>,
    bearer: Bearer,
    _allowance: AccountTicketAllowance,
    Json(body): Json<CreateAccountTicketBody>,
) -> ApiResult<(StatusCode, Json<TicketCreated>)> {
    let session = sessions::require_session(&state, bearer.token())?;
    if state.limits.proof_of_work_for_account_tickets {
        state.pow.verify(body.pow.as_ref(), now())?;
    }
    let id = tickets::open_for_account(
        &state,
        session,
        NewTicket {
            reporter: &body.reporter,
            message: &body.message,
            wraps: &body.wraps,
            notify_email: body.notify_email,
        },
    )
    .await?;
    Ok(created(id))
}

/// `GET /api/v1/accounts/tickets?cursor=C`: the session's account's tickets, newest activity
/// first, without `assigned_to`, up to 50 a page from the account index, with the cursor of
/// the next page. `400 bad_cursor` for a cursor this server did not make.
pub async fn list_tickets(
    State(state): State<Arc<AppState>>,
    Query(query): Query<AccountTicketsQuery>,
    bearer: Bearer,
) -> ApiResult<Json<AccountTicketsAnswer>> {
    let session = sessions::require_session(&state, bearer.token())?;
    let start = Start::parse(query.cursor.as_deref(), 0)?;
    let page = inbox::account_tickets(&state, &session, start)?;
    Ok(Json(AccountTicketsAnswer {
        tickets: page.tickets.iter().map(|t| list_item(t, false)).collect(),
        more: page.more,
        next_cursor: page.next_cursor,
    }))
}
