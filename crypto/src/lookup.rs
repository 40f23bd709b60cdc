//! The server's keyed lookups under its per-instance secret (spec/API.md, "Tickets" and
//! "Accounts"): values the server derives so that it can recognise an input again without
//! storing it, and that nobody without the instance secret can compute.
//!
//! Each is `HMAC-SHA-256(instance secret, lp(label) || data)` (RFC 2104 with SHA-256; `lp` as in
//! spec/PROTOCOL.md §3.1). The secret is drawn and stored by the server; nothing here draws
//! randomness or does I/O.

use hmac::digest::Key;
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;
use zeroize::Zeroize;

use crate::account::SALT_LEN;
use crate::encoding::label_bytes;
use crate::labels;

/// Length of the per-instance secret in bytes.
pub const INSTANCE_SECRET_LEN: usize = 32;

/// HMAC-SHA-256 (RFC 2104) of the concatenated `parts` under a 32-byte key.
fn hmac_sha256(key: &[u8; INSTANCE_SECRET_LEN], parts: &[&[u8]]) -> [u8; 32] {
    // HMAC pads a key shorter than the hash's 64-byte block with zeros (RFC 2104 §2); padding it
    // here lets the infallible constructor take the whole block.
    let mut block = [0u8; 64];
    block[..INSTANCE_SECRET_LEN].copy_from_slice(key);
    let mut mac = Hmac::<Sha256>::new(&Key::<Hmac<Sha256>>::from(block));
    block.zeroize();
    for part in parts {
        mac.update(part);
    }
    mac.finalize().into_bytes().into()
}

/// `HMAC-SHA-256(key, lp(label) || data)`.
fn labeled_mac(key: &[u8; INSTANCE_SECRET_LEN], label: &str, data: &[u8]) -> [u8; 32] {
    hmac_sha256(key, &[&label_bytes(label), data])
}

/// The key under which a ticket's notification address is recognised without being stored:
/// `HMAC-SHA-256(instance secret, lp("sealdesk/v1/server/email-lookup") || lowercase(email))`
/// (spec/API.md, `POST /api/v1/tickets`). Lowercasing is Unicode's, as the server has always
/// done, so stored lookups stay valid.
pub fn email_lookup(instance_secret: &[u8; INSTANCE_SECRET_LEN], email: &str) -> [u8; 32] {
    labeled_mac(
        instance_secret,
        labels::SERVER_EMAIL_LOOKUP,
        email.to_lowercase().as_bytes(),
    )
}

/// The fake Argon2id salt answered for an unknown (normalised) username, stable per username:
/// `HMAC-SHA-256(instance secret, lp("sealdesk/v1/server/prelogin-salt") || username)[0..16]`
/// (spec/API.md, `POST /api/v1/accounts/prelogin`).
pub fn prelogin_salt(
    instance_secret: &[u8; INSTANCE_SECRET_LEN],
    username: &str,
) -> [u8; SALT_LEN] {
    let mac = labeled_mac(
        instance_secret,
        labels::SERVER_PRELOGIN_SALT,
        username.as_bytes(),
    );
    let mut salt = [0u8; SALT_LEN];
    salt.copy_from_slice(&mac[..SALT_LEN]);
    salt
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hmac_matches_rfc_4231_case_1() {
        // RFC 4231 test case 1 uses a 20-byte key; ours is 32 bytes, zero-padded like any
        // HMAC key shorter than the block. Check against the key padded to 32 bytes.
        let mut key = [0u8; 32];
        key[..20].copy_from_slice(&[0x0b; 20]);
        let mac = hmac_sha256(&key, &[b"Hi ", b"There"]);
        assert_eq!(
            hex::encode(mac),
            "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"
        );
    }

    #[test]
    fn lookups_are_the_bytes_the_server_always_stored() {
        // Computed with the server's former hand-written HMAC (server/src/api/accounts.rs,
        // `hmac_sha256`, before issue 9) for the same inputs: stored lookups stay valid.
        let secret = [0x42u8; 32];
        assert_eq!(
            hex::encode(email_lookup(&secret, "Reporter@Example.ORG")),
            "c13e631f4c7424fc59fa60e4a509801f64dc830aed59d9aca9b5dc1f443491d1"
        );
        assert_eq!(
            hex::encode(prelogin_salt(&secret, "alice")),
            "ef06923fe36a61e6de201ad04bffb9ba"
        );
    }
}
