//! The proof of work an instance may ask for before it accepts an anonymous ticket
//! (spec/API.md, "Proof of work"): the challenge asked for and solved here, with the function
//! in [`sealdesk_crypto::pow`], which the server checks with.

use serde::Deserialize;
use serde_json::{Value, json};

use crate::error::{ClientError, Result};
use crate::transport::{Request, Transport};
use crate::util::unb64_array;

pub use sealdesk_crypto::pow::{
    MAX_POW_BITS, POW_LABEL, is_solution, leading_zero_bits, pow_hash, solve,
};

/// Answer of `GET /api/v1/pow/challenge`.
#[derive(Deserialize)]
struct ChallengeAnswer {
    challenge: Option<String>,
    bits: u32,
}

/// Asks the server for a challenge and solves it: the `pow` member of an anonymous ticket
/// creation, or `None` when the instance has proof of work off.
///
/// # Errors
/// `server.*` (e.g. `server.rate_limited`), `network`; `bad_response` for a malformed
/// challenge or more than [`MAX_POW_BITS`] bits.
pub(crate) async fn solve_challenge<T: Transport>(transport: &T) -> Result<Option<Value>> {
    let what = "the proof-of-work challenge";
    let answer: ChallengeAnswer = transport
        .send(Request::get("/api/v1/pow/challenge"))
        .await?
        .json(what)?;
    let text = match answer.challenge {
        Some(text) if answer.bits > 0 => text,
        _ => return Ok(None),
    };
    if answer.bits > MAX_POW_BITS {
        return Err(ClientError::bad_response(what));
    }
    let challenge = unb64_array::<32>(&text, what)?;
    let nonce = solve(&challenge, answer.bits).ok_or_else(|| ClientError::bad_response(what))?;
    Ok(Some(json!({"challenge": text, "nonce": nonce})))
}
