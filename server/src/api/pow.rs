//! Proof of work over HTTP (spec/API.md, "Proof of work"): the challenge route and the `pow`
//! member of `POST /api/v1/tickets`. The challenges are [`crate::services::pow`]'s.

use std::sync::Arc;

use axum::extract::State;
use serde::{Deserialize, Serialize};

use super::extract::Json;
use crate::clock::now;
use crate::encoding::b64;
use crate::error::ApiResult;
use crate::services::rate_limits::ClientAddr;
use crate::state::AppState;

/// The `pow` member of `POST /api/v1/tickets`.
#[derive(Clone, Debug, Deserialize)]
pub struct ProofOfWork {
    /// The challenge from `GET /api/v1/pow/challenge` (32 bytes, base64url).
    pub challenge: String,
    /// The solving nonce.
    pub nonce: u64,
}

/// Answer of `GET /api/v1/pow/challenge`.
#[derive(Serialize)]
pub struct ChallengeOut {
    /// 32 random bytes (base64url); `null` when proof of work is off.
    pub challenge: Option<String>,
    /// Leading zero bits required; 0 when proof of work is off.
    pub bits: u32,
    /// Unix seconds after which the challenge is refused; `null` when proof of work is off.
    pub expires_at: Option<u64>,
}

/// `GET /api/v1/pow/challenge`: a challenge for the next anonymous ticket creation.
pub async fn challenge(
    State(state): State<Arc<AppState>>,
    client: ClientAddr,
) -> ApiResult<Json<ChallengeOut>> {
    let bits = state.pow.bits();
    if bits == 0 {
        return Ok(Json(ChallengeOut {
            challenge: None,
            bits,
            expires_at: None,
        }));
    }
    state.rate_limits.pow_challenge(client)?;
    let (challenge, expires_at) = state.pow.issue(now());
    Ok(Json(ChallengeOut {
        challenge: Some(b64(&challenge)),
        bits,
        expires_at: Some(expires_at),
    }))
}
