//! Accounts (spec/API.md, "Accounts"; PROTOCOL.md §12): Argon2id runs in the client, the
//! server receives the authentication key and a keyring sealed under a key it never sees.

use sealdesk_crypto::Argon2Params;
use serde::{Deserialize, Serialize};

use crate::SecretText;
use crate::tickets::TicketListItem;

/// Argon2id parameters as bodies (and the server's records) write them:
/// `{"memory_kib": 65536, "iterations": 3, "parallelism": 1}`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Argon2ParamsBody {
    /// Memory in KiB.
    pub memory_kib: u32,
    /// Passes.
    pub iterations: u32,
    /// Lanes.
    pub parallelism: u32,
}

impl From<Argon2Params> for Argon2ParamsBody {
    fn from(p: Argon2Params) -> Self {
        Argon2ParamsBody {
            memory_kib: p.memory_kib,
            iterations: p.iterations,
            parallelism: p.parallelism,
        }
    }
}

impl From<Argon2ParamsBody> for Argon2Params {
    fn from(p: Argon2ParamsBody) -> Self {
        Argon2Params {
            memory_kib: p.memory_kib,
            iterations: p.iterations,
            parallelism: p.parallelism,
        }
    }
}

/// Body of `POST /api/v1/accounts/prelogin`: `{"username"}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PreloginBody {
    /// The username (the server lowercases it).
    pub username: String,
}

/// Answer of `POST /api/v1/accounts/prelogin`: `{"salt", "argon2"}`, of the same shape for an
/// unknown username.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PreloginAnswer {
    /// The Argon2id salt (16 bytes, base64url).
    pub salt: String,
    /// The Argon2id parameters.
    pub argon2: Argon2ParamsBody,
}

/// Body of `POST /api/v1/accounts/register`: `{"username", "salt", "argon2", "auth_key",
/// "keyring", "identity", "identity_proof"}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RegisterBody {
    /// The username (the server lowercases it; the identity proof signs the lowercase form).
    pub username: String,
    /// Argon2id salt (16 bytes, base64url).
    pub salt: String,
    /// Argon2id parameters.
    pub argon2: Argon2ParamsBody,
    /// `auth_key` (32 bytes, base64url); the server stores only its hash.
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub auth_key: SecretText,
    /// The sealed keyring (base64url, at most 1 + 32 + 65536 + 16 bytes).
    pub keyring: String,
    /// The account's public identity (64 bytes, base64url).
    pub identity: String,
    /// The identity proof (PROTOCOL.md §12.4, a 64-byte signature, base64url).
    pub identity_proof: String,
}

/// Answer of `POST /api/v1/accounts/register`: `{"account_id": "<32 hex characters>"}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Registered {
    /// The new account's id.
    pub account_id: String,
}

/// Body of `POST /api/v1/accounts/login`: `{"username", "auth_key"}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LoginBody {
    /// The username.
    pub username: String,
    /// `auth_key` (32 bytes, base64url).
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub auth_key: SecretText,
}

/// Answer of `POST /api/v1/accounts/login`: `{"session", "expires_at", "account_id",
/// "keyring", "identity", "salt", "argon2"}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LoginAnswer {
    /// The session token (32 bytes, base64url), for `Authorization: Bearer`.
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub session: SecretText,
    /// Unix seconds from which the session is refused.
    pub expires_at: u64,
    /// The account's id.
    pub account_id: String,
    /// The sealed keyring (base64url).
    pub keyring: String,
    /// The account's public identity (64 bytes, base64url).
    pub identity: String,
    /// The Argon2id salt (16 bytes, base64url).
    pub salt: String,
    /// The Argon2id parameters.
    pub argon2: Argon2ParamsBody,
}

/// Body of `PUT /api/v1/accounts/keyring` (password change): `{"current_auth_key", "salt",
/// "argon2", "auth_key", "keyring"}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ChangeKeyringBody {
    /// The current `auth_key` (32 bytes, base64url): a session alone cannot change the
    /// password.
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub current_auth_key: SecretText,
    /// The new Argon2id salt (16 bytes, base64url).
    pub salt: String,
    /// The new Argon2id parameters.
    pub argon2: Argon2ParamsBody,
    /// The new `auth_key` (32 bytes, base64url).
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub auth_key: SecretText,
    /// The keyring sealed under the new keyring key (base64url).
    pub keyring: String,
}

/// Answer of `GET /api/v1/accounts/tickets`: `{"tickets": [...], "more": false,
/// "next_cursor": null}`, newest activity first, without `assigned_to`, up to
/// [`crate::inbox::PAGE_SIZE`] a page.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AccountTicketsAnswer {
    /// The account's tickets, one page.
    pub tickets: Vec<TicketListItem>,
    /// Whether further pages follow (servers older than pages send every ticket and no
    /// `more`).
    #[serde(default)]
    pub more: bool,
    /// The `cursor` of the next page (present exactly when `more` is true).
    #[serde(default)]
    pub next_cursor: Option<String>,
}
