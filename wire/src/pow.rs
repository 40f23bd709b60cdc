//! The proof of work an instance may ask for before it accepts an anonymous ticket
//! (spec/API.md, "Proof of work"): the bodies, and the function both sides compute. The
//! server issues and checks challenges ([`is_solution`]); the client solves them ([`solve`]).

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// The hash label, `"sealdesk/v1/pow"` (encoded as PROTOCOL.md §3 encodes labels: one length
/// byte, then the ASCII label).
pub const POW_LABEL: &str = sealdesk_crypto::labels::POW;

/// The most leading zero bits a server may ask for (its configuration refuses more). At 32
/// bits a solution takes about 4·10⁹ hashes.
pub const MAX_POW_BITS: u32 = 32;

/// Nonces are searched below 2^53, which a JSON number carries exactly (spec/API.md).
pub const NONCE_LIMIT: u64 = 1 << 53;

/// `SHA-256(u8 len(label) || label || challenge || u64be(nonce))`: 32 bytes.
pub fn pow_hash(challenge: &[u8; 32], nonce: u64) -> [u8; 32] {
    let mut hasher = Sha256::new();
    // The label is a short constant: its length fits in one byte.
    hasher.update([POW_LABEL.len() as u8]);
    hasher.update(POW_LABEL.as_bytes());
    hasher.update(challenge);
    hasher.update(nonce.to_be_bytes());
    hasher.finalize().into()
}

/// The number of leading zero bits of `hash` (most significant bit of the first byte first).
pub fn leading_zero_bits(hash: &[u8]) -> u32 {
    let mut bits = 0;
    for byte in hash {
        bits += byte.leading_zeros();
        if *byte != 0 {
            break;
        }
    }
    bits
}

/// Whether `nonce` solves `challenge` at `bits` leading zero bits.
pub fn is_solution(challenge: &[u8; 32], nonce: u64, bits: u32) -> bool {
    leading_zero_bits(&pow_hash(challenge, nonce)) >= bits
}

/// The smallest nonce below [`NONCE_LIMIT`] that solves `challenge` at `bits`; about
/// 2^`bits` hashes. `None` only if none exists below 2^53 (practically never for `bits` ≤
/// [`MAX_POW_BITS`]).
pub fn solve(challenge: &[u8; 32], bits: u32) -> Option<u64> {
    (0..NONCE_LIMIT).find(|&nonce| is_solution(challenge, nonce, bits))
}

/// What a challenge is for (`GET /api/v1/pow/challenge?for=account`): an anonymous ticket (the
/// default) or an account ticket, which needs a proof of work only when the instance says so.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum ChallengeFor {
    /// `POST /api/v1/tickets`.
    #[default]
    Anonymous,
    /// `POST /api/v1/tickets/account`.
    Account,
}

/// Query of `GET /api/v1/pow/challenge`: `?for=anonymous` (the default) or `?for=account`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams))]
#[cfg_attr(feature = "openapi", into_params(parameter_in = Query))]
pub struct ChallengeQuery {
    /// What the challenge is for.
    #[serde(default, rename = "for")]
    pub purpose: ChallengeFor,
}

/// Answer of `GET /api/v1/pow/challenge`: `{"challenge", "bits", "expires_at"}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ChallengeAnswer {
    /// 32 random bytes (base64url); `null` when proof of work is off.
    pub challenge: Option<String>,
    /// Leading zero bits required; 0 when proof of work is off.
    pub bits: u32,
    /// Unix seconds after which the challenge is refused; `null` when proof of work is off.
    pub expires_at: Option<u64>,
}

/// The `pow` member of `POST /api/v1/tickets`: `{"challenge", "nonce"}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ProofOfWork {
    /// The challenge from `GET /api/v1/pow/challenge` as received (32 bytes, base64url).
    pub challenge: String,
    /// The solving nonce, a JSON number (below 2^53 in practice).
    pub nonce: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The hash is SHA-256 of the spelled-out input; the vectors of spec/API.md, "Proof of
    /// work".
    #[test]
    fn hash_is_the_specified_one() {
        let zero = [0u8; 32];
        let mut input = vec![15u8];
        input.extend_from_slice(b"sealdesk/v1/pow");
        input.extend_from_slice(&zero);
        input.extend_from_slice(&1u64.to_be_bytes());
        let expected: [u8; 32] = Sha256::digest(&input).into();
        assert_eq!(pow_hash(&zero, 1), expected);
        assert_eq!(
            hex::encode(pow_hash(&zero, 0)),
            "9fab7bd80bca04d143f330f8e7804bcacbd77645fefb037cdd07b76060135a5a"
        );
        assert_eq!(
            hex::encode(pow_hash(&zero, 110)),
            "00a54ab6351d9ed768bfe1863a9e1bc164a733135525b6320cf026e29435fec4"
        );
        assert_eq!(solve(&zero, 8), Some(110));
        assert!(!is_solution(&zero, 109, 8));
        assert!(is_solution(&zero, 0, 0));
    }

    #[test]
    fn leading_zero_bits_counts_across_bytes() {
        assert_eq!(leading_zero_bits(&[0x80]), 0);
        assert_eq!(leading_zero_bits(&[0x00, 0x01]), 15);
        assert_eq!(leading_zero_bits(&[0x00, 0x00]), 16);
        assert_eq!(leading_zero_bits(&[0x0f, 0x00]), 4);
    }

    #[test]
    fn label_is_the_api_one() {
        assert_eq!(POW_LABEL, "sealdesk/v1/pow");
    }
}
