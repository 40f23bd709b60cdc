//! "Resend access link" as recovery (spec/API.md, "Recovery"; PROTOCOL.md §11.1): a mailed,
//! single-use recovery token, a pending claim signed by a new reporter key, and an
//! administrator's approval (an endorse message, PROTOCOL.md §8.2) or refusal.

use serde::{Deserialize, Serialize};

use crate::SecretText;

/// Body of `POST /api/v1/recovery/request`: `{"email"}`, the address the reporter gave.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RecoveryRequestBody {
    /// The address as typed (trimmed by the server, at most 254 bytes).
    pub email: String,
}

/// Answer of `POST /api/v1/recovery/request` (`202`): `{"status": "sent_if_known"}`, the
/// same whether or not the address belongs to a ticket.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RecoveryRequested {
    /// Always `sent_if_known`.
    pub status: String,
}

/// Body of `POST /api/v1/recovery/claim`: `{"token", "ticket_id", "identity", "reader_hash",
/// "signature"}` (PROTOCOL.md §11.1).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RecoveryClaimBody {
    /// The recovery token from the mailed link's fragment (32 bytes, base64url).
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub token: SecretText,
    /// The ticket id (32 lowercase hexadecimal characters) from the same fragment.
    pub ticket_id: String,
    /// The new reporter key's public identity (64 bytes, base64url).
    pub identity: String,
    /// `token_hash` (PROTOCOL.md §11) of the recovering browser's reader token (32 bytes,
    /// base64url).
    pub reader_hash: String,
    /// The claim signature of PROTOCOL.md §11.1 (64 bytes, base64url).
    pub signature: String,
}

/// Answer of `POST /api/v1/recovery/claim` (`201`): `{"ticket_id", "key_id", "fingerprint"}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RecoveryClaimed {
    /// The ticket id (hex).
    pub ticket_id: String,
    /// The claimed key's id (32 bytes, base64url).
    pub key_id: String,
    /// The claimed key's fingerprint (PROTOCOL.md §4.3), for the page to show.
    pub fingerprint: String,
}

/// Answer of `GET /api/v1/recovery/status` (bearer: the reader token):
/// `{"ticket_id", "status"}`, `status` being `pending` or `approved`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RecoveryStatus {
    /// The ticket id (hex).
    pub ticket_id: String,
    /// `pending` (waiting for an administrator) or `approved` (the reader token reads).
    pub status: String,
}

/// One pending recovery claim, as `GET /api/v1/admin/recoveries` lists it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PendingRecovery {
    /// The ticket id (hex).
    pub ticket_id: String,
    /// The claimed public identity (64 bytes, base64url).
    pub identity: String,
    /// Its key id (32 bytes, base64url).
    pub key_id: String,
    /// Its fingerprint (PROTOCOL.md §4.3; clients compute their own).
    pub fingerprint: String,
    /// The reader token's hash (32 bytes, base64url), signed by the claim.
    pub reader_hash: String,
    /// The claim signature (64 bytes, base64url, PROTOCOL.md §11.1).
    pub signature: String,
    /// The address the recovery was requested for, as typed (trimmed), to compare with the
    /// address in the ticket's first message.
    pub email: String,
    /// Unix seconds.
    pub claimed_at: u64,
}

/// Answer of `GET /api/v1/admin/recoveries`: `{"recoveries": [...]}`, oldest first.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PendingRecoveryList {
    /// The pending claims.
    pub recoveries: Vec<PendingRecovery>,
}
