//! Optional proof of work for anonymous ticket creation (spec/API.md, "Proof of work").
//!
//! With `proof_of_work_bits` > 0, the browser asks `GET /api/v1/pow/challenge` for a random
//! 32-byte challenge, finds a `nonce` such that
//! `SHA-256(u8 len(label) || label || challenge || u64be(nonce))`, with the label
//! `sealdesk/v1/pow`, starts with at least `bits` zero bits, and sends both with
//! `POST /api/v1/tickets`. The server keeps issued challenges in memory (at most
//! [`MAX_OUTSTANDING`], oldest dropped first) for [`CHALLENGE_TTL_SECONDS`]; the first request
//! that presents a challenge spends it, whether or not its nonce is right. The hash and the
//! check are the wire crate's ([`sealdesk_wire::pow`]), so both sides compute one function.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;

use axum::http::StatusCode;
use sealdesk_wire::pow::{ProofOfWork, is_solution};

use crate::encoding::from_b64_array;
use crate::error::{ApiError, ApiResult};
use crate::random;

/// How long an issued challenge stays valid.
pub const CHALLENGE_TTL_SECONDS: u64 = 600;
/// Most challenges held at once; issuing one more drops the oldest.
pub const MAX_OUTSTANDING: usize = 65_536;

/// Issued, unspent challenges, in issue order (which, with one lifetime for all, is also
/// expiry order).
#[derive(Default)]
struct Outstanding {
    expires: HashMap<[u8; 32], u64>,
    order: VecDeque<[u8; 32]>,
}

impl Outstanding {
    /// Drops spent and expired challenges and, while the table holds at least `keep_below`,
    /// the oldest ones.
    fn drop_old(&mut self, now: u64, keep_below: usize) {
        while let Some(oldest) = self.order.front() {
            let expired = self.expires.get(oldest).is_none_or(|&at| at <= now);
            if !expired && self.order.len() < keep_below {
                break;
            }
            if let Some(oldest) = self.order.pop_front() {
                self.expires.remove(&oldest);
            }
        }
    }
}

/// The proof-of-work state: the difficulty and the outstanding challenges.
pub struct PowChallenges {
    bits: u32,
    outstanding: Mutex<Outstanding>,
}

impl PowChallenges {
    /// Proof of work of `bits` leading zero bits; 0 turns it off.
    pub fn new(bits: u32) -> Self {
        PowChallenges {
            bits,
            outstanding: Mutex::new(Outstanding::default()),
        }
    }

    /// The required number of leading zero bits (0: off).
    pub fn bits(&self) -> u32 {
        self.bits
    }

    /// Challenges issued and neither spent nor expired (approximately: expired ones are
    /// dropped lazily).
    pub fn outstanding(&self) -> usize {
        self.lock().expires.len()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Outstanding> {
        self.outstanding
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Drops the challenges that expired by `now` (they are refused anyway; this frees
    /// their memory).
    pub fn purge(&self, now: u64) {
        self.lock().drop_old(now, usize::MAX);
    }

    /// Issues a fresh random challenge valid until the returned Unix time.
    pub fn issue(&self, now: u64) -> ([u8; 32], u64) {
        let challenge: [u8; 32] = random::bytes();
        let expires_at = now.saturating_add(CHALLENGE_TTL_SECONDS);
        let mut outstanding = self.lock();
        outstanding.drop_old(now, MAX_OUTSTANDING);
        outstanding.expires.insert(challenge, expires_at);
        outstanding.order.push_back(challenge);
        (challenge, expires_at)
    }

    /// Checks the proof of work of a ticket creation (nothing to check when it is off) and
    /// spends its challenge. `pow` is the body's `pow` member: the challenge as sent
    /// (base64url, 32 bytes) and the nonce.
    ///
    /// # Errors
    /// `400 pow_required` without `pow`; `403 pow_invalid` for a challenge that was not
    /// issued, expired or was spent, or a nonce that does not solve it.
    pub fn verify(&self, pow: Option<&ProofOfWork>, now: u64) -> ApiResult<()> {
        if self.bits == 0 {
            return Ok(());
        }
        let pow = pow.ok_or_else(|| {
            ApiError::bad_request(
                "pow_required",
                "This instance requires a proof of work: get a challenge from \
                 GET /api/v1/pow/challenge and send it solved as `pow`.",
            )
        })?;
        let challenge =
            from_b64_array::<32>("pow.challenge", &pow.challenge).map_err(|_| pow_invalid())?;
        let expires_at = self.lock().expires.remove(&challenge);
        match expires_at {
            Some(at) if at > now && is_solution(&challenge, pow.nonce, self.bits) => Ok(()),
            _ => Err(pow_invalid()),
        }
    }
}

fn pow_invalid() -> ApiError {
    ApiError::new(
        StatusCode::FORBIDDEN,
        "pow_invalid",
        "The proof of work is not valid: the challenge is unknown, expired or already used, \
         or the nonce does not solve it. Get a new challenge.",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn solve(challenge: &[u8; 32], bits: u32) -> u64 {
        sealdesk_wire::pow::solve(challenge, bits).expect("a solution")
    }

    fn proof(challenge: &[u8; 32], nonce: u64) -> ProofOfWork {
        ProofOfWork {
            challenge: sealdesk_wire::b64::encode(challenge),
            nonce,
        }
    }

    #[test]
    fn challenges_are_single_use_and_expire() {
        let pow = PowChallenges::new(8);
        let (challenge, expires_at) = pow.issue(1_000);
        assert_eq!(expires_at, 1_600);
        let nonce = solve(&challenge, 8);
        let wrong = (0..).find(|&n| !is_solution(&challenge, n, 8)).unwrap();

        let code = |r: ApiResult<()>| r.unwrap_err().code;
        assert_eq!(code(pow.verify(None, 1_001)), "pow_required");
        assert!(pow.verify(Some(&proof(&challenge, nonce)), 1_001).is_ok());
        assert_eq!(
            code(pow.verify(Some(&proof(&challenge, nonce)), 1_001)),
            "pow_invalid"
        );
        // A wrong nonce spends the challenge too.
        let (challenge, _) = pow.issue(1_000);
        assert_eq!(
            code(pow.verify(Some(&proof(&challenge, wrong)), 1_001)),
            "pow_invalid"
        );
        let nonce = solve(&challenge, 8);
        assert_eq!(
            code(pow.verify(Some(&proof(&challenge, nonce)), 1_001)),
            "pow_invalid"
        );
        // Expired.
        let (challenge, _) = pow.issue(1_000);
        let nonce = solve(&challenge, 8);
        assert_eq!(
            code(pow.verify(Some(&proof(&challenge, nonce)), 1_600)),
            "pow_invalid"
        );
        // Malformed.
        let bad = ProofOfWork {
            challenge: "!!".into(),
            nonce: 0,
        };
        assert_eq!(code(pow.verify(Some(&bad), 1_001)), "pow_invalid");
        // Off: nothing is required.
        assert!(PowChallenges::new(0).verify(None, 0).is_ok());
    }

    #[test]
    fn the_table_is_bounded() {
        let pow = PowChallenges::new(1);
        let (first, _) = pow.issue(0);
        for _ in 0..MAX_OUTSTANDING {
            pow.issue(0);
        }
        assert_eq!(pow.outstanding(), MAX_OUTSTANDING);
        let nonce = solve(&first, 1);
        assert!(
            pow.verify(Some(&proof(&first, nonce)), 1).is_err(),
            "the oldest challenge was dropped"
        );
        // Expired challenges go when the next one is issued, or on housekeeping.
        pow.issue(CHALLENGE_TTL_SECONDS + 1);
        assert_eq!(pow.outstanding(), 1);
        pow.purge(2 * CHALLENGE_TTL_SECONDS + 1);
        assert_eq!(pow.outstanding(), 0);
    }
}
