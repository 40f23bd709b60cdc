//! Accounts and sessions over HTTP (spec/API.md, "Accounts"): pre-login, registration, login,
//! logout, password change, and an account's tickets. The logic is [`crate::sessions`]'s.

use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};

use super::extract::{Bearer, Json};
use super::inbox::TicketSummary;
use super::tickets::Created;
use crate::encoding::b64;
use crate::error::ApiResult;
use crate::inbox;
use crate::sessions::{self, Argon2Json, PasswordChange, Registration};
use crate::state::AppState;
use crate::tickets::{self, NewTicket};

// ---- pre-login ----

/// Body of `POST /api/v1/accounts/prelogin`.
#[derive(Deserialize)]
pub struct PreloginBody {
    /// The username (normalised to lowercase).
    pub username: String,
}

/// Answer of `POST /api/v1/accounts/prelogin`.
#[derive(Serialize)]
pub struct PreloginOut {
    /// The Argon2id salt (16 bytes).
    pub salt: String,
    /// The Argon2id parameters.
    pub argon2: Argon2Json,
}

/// `POST /api/v1/accounts/prelogin`: the salt and Argon2id parameters of a username. An
/// unknown username gets a fake salt that is stable per username and the default
/// parameters, so the answer does not say whether the account exists.
pub async fn prelogin(
    State(state): State<Arc<AppState>>,
    Json(body): Json<PreloginBody>,
) -> ApiResult<Json<PreloginOut>> {
    let (salt, argon2) = sessions::prelogin(&state, &body.username).await?;
    Ok(Json(PreloginOut {
        salt: b64(&salt),
        argon2,
    }))
}

// ---- registration ----

/// Body of `POST /api/v1/accounts/register`.
#[derive(Deserialize)]
pub struct RegisterBody {
    /// The username (normalised to lowercase).
    pub username: String,
    /// Argon2id salt (16 bytes).
    pub salt: String,
    /// Argon2id parameters.
    pub argon2: Argon2Json,
    /// `auth_key` (32 bytes); only its hash is stored.
    pub auth_key: String,
    /// The sealed keyring.
    pub keyring: String,
    /// The account's public identity (64 bytes).
    pub identity: String,
    /// The identity proof (PROTOCOL.md §12.4, a 64-byte signature) showing the registrant
    /// holds the identity's signing key.
    pub identity_proof: String,
}

/// Answer of `POST /api/v1/accounts/register`.
#[derive(Serialize)]
pub struct Registered {
    /// The new account's id.
    pub account_id: String,
}

/// `POST /api/v1/accounts/register`: creates an account. `409 username_taken` if the
/// username exists.
pub async fn register(
    State(state): State<Arc<AppState>>,
    Json(body): Json<RegisterBody>,
) -> ApiResult<(StatusCode, Json<Registered>)> {
    let account_id = sessions::register(
        &state,
        &Registration {
            username: &body.username,
            salt: &body.salt,
            argon2: body.argon2,
            auth_key: &body.auth_key,
            keyring: &body.keyring,
            identity: &body.identity,
            identity_proof: &body.identity_proof,
        },
    )
    .await?;
    Ok((StatusCode::CREATED, Json(Registered { account_id })))
}

// ---- login and logout ----

/// Body of `POST /api/v1/accounts/login`.
#[derive(Deserialize)]
pub struct LoginBody {
    /// The username.
    pub username: String,
    /// `auth_key` (32 bytes).
    pub auth_key: String,
}

/// Answer of `POST /api/v1/accounts/login`.
#[derive(Serialize)]
pub struct LoginOut {
    /// The session token (32 bytes), for `Authorization: Bearer`.
    pub session: String,
    /// Unix seconds from which the session is refused.
    pub expires_at: u64,
    /// The account's id.
    pub account_id: String,
    /// The sealed keyring.
    pub keyring: String,
    /// The account's public identity.
    pub identity: String,
    /// The Argon2id salt.
    pub salt: String,
    /// The Argon2id parameters.
    pub argon2: Argon2Json,
}

/// `POST /api/v1/accounts/login`: checks the `auth_key` against the stored hash and opens a
/// session. A wrong password and an unknown username answer the same `401 bad_credentials`
/// after the same comparison.
pub async fn login(
    State(state): State<Arc<AppState>>,
    Json(body): Json<LoginBody>,
) -> ApiResult<Json<LoginOut>> {
    let signed_in = sessions::login(&state, &body.username, &body.auth_key).await?;
    let account = signed_in.account;
    Ok(Json(LoginOut {
        session: signed_in.token.to_base64url(),
        expires_at: signed_in.expires_at,
        account_id: account.account_id,
        keyring: b64(&account.keyring),
        identity: b64(&account.identity),
        salt: b64(&account.salt),
        argon2: account.argon2,
    }))
}

/// `POST /api/v1/accounts/logout`: ends the bearer's session.
pub async fn logout(State(state): State<Arc<AppState>>, bearer: Bearer) -> ApiResult<StatusCode> {
    let session = sessions::require_session(&state, bearer.token())?;
    sessions::logout(&state, &session).await?;
    Ok(StatusCode::NO_CONTENT)
}

// ---- password change ----

/// Body of `PUT /api/v1/accounts/keyring`.
#[derive(Deserialize)]
pub struct KeyringBody {
    /// The CURRENT `auth_key` (32 bytes): a session alone cannot change the password, so a
    /// stolen session cannot replace (and so destroy) the account's keyring.
    pub current_auth_key: String,
    /// The new Argon2id salt (16 bytes).
    pub salt: String,
    /// The new Argon2id parameters.
    pub argon2: Argon2Json,
    /// The new `auth_key` (32 bytes).
    pub auth_key: String,
    /// The keyring sealed under the new keyring key.
    pub keyring: String,
}

/// `PUT /api/v1/accounts/keyring`: password change. Replaces the salt, parameters, auth hash
/// and keyring in one write and revokes every other session of the account (the caller's
/// stays valid).
pub async fn replace_keyring(
    State(state): State<Arc<AppState>>,
    bearer: Bearer,
    Json(body): Json<KeyringBody>,
) -> ApiResult<StatusCode> {
    let session = sessions::require_session(&state, bearer.token())?;
    sessions::change_password(
        &state,
        session,
        &PasswordChange {
            current_auth_key: &body.current_auth_key,
            salt: &body.salt,
            argon2: body.argon2,
            auth_key: &body.auth_key,
            keyring: &body.keyring,
        },
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

// ---- an account's tickets ----

/// Body of `POST /api/v1/tickets/account`: as the anonymous body, without an access token.
#[derive(Deserialize)]
pub struct AccountTicketBody {
    /// The account's public identity (must be the session's).
    pub reporter: String,
    /// The first conversation message (epoch 0, seq 1), signed by the account's identity.
    pub message: String,
    /// The epoch-0 conversation key wrapped for the account and every current administrator.
    pub wraps: Vec<String>,
    /// Optional address for "resend access link" (only a keyed hash is stored).
    #[serde(default)]
    pub notify_email: Option<String>,
}

/// `POST /api/v1/tickets/account`: opens a ticket owned by the session's account.
pub async fn create_ticket(
    State(state): State<Arc<AppState>>,
    bearer: Bearer,
    Json(body): Json<AccountTicketBody>,
) -> ApiResult<(StatusCode, Json<Created>)> {
    let session = sessions::require_session(&state, bearer.token())?;
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
    Ok((
        StatusCode::CREATED,
        Json(Created {
            ticket_id: id.to_hex(),
        }),
    ))
}

/// Answer of `GET /api/v1/accounts/tickets`.
#[derive(Serialize)]
pub struct AccountTicketsOut {
    /// The account's tickets, newest activity first.
    pub tickets: Vec<TicketSummary>,
}

/// `GET /api/v1/accounts/tickets`: the session's account's tickets.
pub async fn list_tickets(
    State(state): State<Arc<AppState>>,
    bearer: Bearer,
) -> ApiResult<Json<AccountTicketsOut>> {
    let session = sessions::require_session(&state, bearer.token())?;
    let tickets = inbox::account_tickets(&state, &session)?;
    Ok(Json(AccountTicketsOut {
        tickets: tickets
            .iter()
            .map(|t| TicketSummary::of(t, false))
            .collect(),
    }))
}
