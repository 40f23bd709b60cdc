//! Administrator invites (spec/API.md, "Directory log" for the genesis redemption and "Team"
//! for the others).

use serde::{Deserialize, Serialize};

use crate::SecretText;

/// Body of `POST /api/v1/invites/redeem-genesis`: `{"invite", "entry"}`. The answer is a
/// [`crate::directory::HeadBody`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RedeemGenesisBody {
    /// The command-line invite token (32 bytes, base64url).
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub invite: SecretText,
    /// The genesis directory entry, signed by the new administrator (202 bytes, base64url).
    pub entry: String,
}

/// Answer of `POST /api/v1/admin/invites` (whose body is `{}`, [`crate::EmptyBody`]):
/// `{"invite", "expires_at"}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct InviteCreated {
    /// The invite token (32 bytes, base64url), for the fragment of `/admin/invite#<token>`.
    /// It is shown only here.
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub invite: SecretText,
    /// Unix seconds after which the invite is refused.
    pub expires_at: u64,
}

/// Body of `POST /api/v1/admin/invites/redeem`: `{"invite", "username"}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RedeemInviteBody {
    /// The invite token from the URL fragment (32 bytes, base64url).
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub invite: SecretText,
    /// The username the invite page showed; must be the session's account's.
    pub username: String,
}

/// Answer of `POST /api/v1/admin/invites/redeem`: `{"key_id", "fingerprint"}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct InviteRedeemed {
    /// Key id (32 bytes, base64url) of the account's identity, now a pending administrator.
    pub key_id: String,
    /// Its fingerprint (PROTOCOL.md §4.3), to read out to the approving administrator.
    pub fingerprint: String,
}
