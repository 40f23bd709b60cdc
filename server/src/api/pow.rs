//! Proof of work over HTTP (spec/API.md, "Proof of work"): the challenge route. The `pow`
//! member of `POST /api/v1/tickets` is the wire crate's [`sealdesk_wire::pow::ProofOfWork`];
//! the challenges are [`crate::services::pow`]'s.

use std::sync::Arc;

use axum::extract::State;
use sealdesk_wire::b64;
use sealdesk_wire::pow::{ChallengeAnswer, ChallengeFor, ChallengeQuery};

use super::extract::{Json, Query};
use crate::clock::now;
use crate::error::ApiResult;
use crate::services::rate_limits::ClientAddr;
use crate::state::AppState;

/// `GET /api/v1/pow/challenge?for=anonymous|account`: a challenge for the next ticket
/// creation, or `bits: 0` and no challenge when that creation needs no proof of work (off, or
/// an account ticket while `proof_of_work_for_account_tickets` is off).
pub async fn challenge(
    State(state): State<Arc<AppState>>,
    client: ClientAddr,
    Query(query): Query<ChallengeQuery>,
) -> ApiResult<Json<ChallengeAnswer>> {
    let needed = match query.purpose {
        ChallengeFor::Anonymous => true,
        ChallengeFor::Account => state.limits.proof_of_work_for_account_tickets,
    };
    let bits = if needed { state.pow.bits() } else { 0 };
    if bits == 0 {
        return Ok(Json(ChallengeAnswer {
            challenge: None,
            bits,
            expires_at: None,
        }));
    }
    state.rate_limits.pow_challenge(client)?;
    let (challenge, expires_at) = state.pow.issue(now());
    Ok(Json(ChallengeAnswer {
        challenge: Some(b64::encode(&challenge)),
        bits,
        expires_at: Some(expires_at),
    }))
}
