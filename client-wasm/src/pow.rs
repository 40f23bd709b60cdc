//! The proof of work an instance may ask for before it accepts an anonymous ticket
//! (spec/API.md, "Proof of work"): the client's side, asking for a challenge and solving it.
//! The function itself is the wire crate's ([`sealdesk_wire::pow`]), which the server checks
//! with too.

use sealdesk_wire::pow::{ChallengeAnswer, ProofOfWork};

pub use sealdesk_wire::pow::{
    MAX_POW_BITS, NONCE_LIMIT, POW_LABEL, is_solution, leading_zero_bits, pow_hash, solve,
};

use crate::error::{ClientError, Result};
use crate::transport::{Request, Transport};
use crate::util::unb64_array;

/// Asks the server for a challenge and solves it: the `pow` member of an anonymous ticket
/// creation, or `None` when the instance has proof of work off.
///
/// # Errors
/// `server.*` (e.g. `server.rate_limited`), `network`; `bad_response` for a malformed
/// challenge or more than [`MAX_POW_BITS`] bits.
pub async fn solve_challenge<T: Transport>(transport: &T) -> Result<Option<ProofOfWork>> {
    solve_challenge_at(transport, "/api/v1/pow/challenge").await
}

/// [`solve_challenge`] for an account ticket (`?for=account`): `None` unless the instance asks
/// accounts for a proof of work too.
///
/// # Errors
/// As [`solve_challenge`].
pub async fn solve_account_challenge<T: Transport>(transport: &T) -> Result<Option<ProofOfWork>> {
    solve_challenge_at(transport, "/api/v1/pow/challenge?for=account").await
}

async fn solve_challenge_at<T: Transport>(
    transport: &T,
    path: &str,
) -> Result<Option<ProofOfWork>> {
    let what = "the proof-of-work challenge";
    let answer: ChallengeAnswer = transport.send(Request::get(path)).await?.json(what)?;
    let text = match answer.challenge {
        Some(text) if answer.bits > 0 => text,
        _ => return Ok(None),
    };
    if answer.bits > MAX_POW_BITS {
        return Err(ClientError::bad_response(what));
    }
    let challenge = unb64_array::<32>(&text, what)?;
    let nonce = solve(&challenge, answer.bits).ok_or_else(|| ClientError::bad_response(what))?;
    Ok(Some(ProofOfWork {
        challenge: text,
        nonce,
    }))
}
