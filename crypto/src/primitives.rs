//! The primitives every construction uses, each behind one function so the spec's definitions
//! (spec/PROTOCOL.md §3) map to exactly one place in the code.

use hkdf::Hkdf;
use sha2::{Digest, Sha256};
use zeroize::Zeroize;

use crate::encoding::label_bytes;
use crate::error::{Error, Result};

/// Length of a ChaCha20-Poly1305 authentication tag in bytes (RFC 8439 §2.8).
pub const TAG_LEN: usize = 16;

/// `KDF(ikm, label, L)`: HKDF-SHA256 (RFC 5869) with an empty salt and
/// `info = u8 len(label) || label`, writing `out.len()` bytes (at most 8160).
pub(crate) fn kdf(ikm: &[u8], label: &str, out: &mut [u8]) {
    kdf_salted(&[], ikm, label, out)
}

/// HKDF-SHA256 with an explicit salt and `info = u8 len(label) || label`.
pub(crate) fn kdf_salted(salt: &[u8], ikm: &[u8], label: &str, out: &mut [u8]) {
    let salt = if salt.is_empty() { None } else { Some(salt) };
    // Output lengths used by the protocol are at most 44 bytes, far below HKDF's limit.
    #[allow(clippy::expect_used)]
    Hkdf::<Sha256>::new(salt, ikm)
        .expand(&label_bytes(label), out)
        .expect("HKDF output length is within 255 * 32 bytes");
}

/// `H(label, data)`: SHA-256 over `u8 len(label) || label || data`.
pub(crate) fn labeled_hash(label: &str, parts: &[&[u8]]) -> [u8; 32] {
    let mut hasher = Sha256::new();
    hasher.update(label_bytes(label));
    for part in parts {
        hasher.update(part);
    }
    hasher.finalize().into()
}

/// A ChaCha20-Poly1305 key and nonce derived together; wiped when dropped.
pub(crate) struct AeadKey {
    key: [u8; 32],
    nonce: [u8; 12],
}

impl Drop for AeadKey {
    fn drop(&mut self) {
        self.key.zeroize();
        self.nonce.zeroize();
    }
}

impl AeadKey {
    /// Derives `key || nonce` (44 bytes) with HKDF-SHA256(salt, ikm, label).
    pub(crate) fn derive(salt: &[u8], ikm: &[u8], label: &str) -> Self {
        let mut okm = [0u8; 44];
        kdf_salted(salt, ikm, label, &mut okm);
        let mut key = [0u8; 32];
        let mut nonce = [0u8; 12];
        key.copy_from_slice(&okm[..32]);
        nonce.copy_from_slice(&okm[32..]);
        okm.zeroize();
        AeadKey { key, nonce }
    }

    /// Encrypts `buf` in place and appends the 16-byte tag.
    pub(crate) fn seal_in_place(&self, aad: &[u8], buf: &mut Vec<u8>) {
        seal_in_place(&self.key, &self.nonce, aad, buf)
    }

    /// Verifies and strips the tag, decrypting `buf` in place.
    pub(crate) fn open_in_place(&self, aad: &[u8], buf: &mut Vec<u8>) -> Result<()> {
        open_in_place(&self.key, &self.nonce, aad, buf)
    }
}

/// ChaCha20-Poly1305 (RFC 8439) encryption in place; appends the tag to `buf`.
pub(crate) fn seal_in_place(key: &[u8; 32], nonce: &[u8; 12], aad: &[u8], buf: &mut Vec<u8>) {
    let tag = seal_detached(key, nonce, aad, buf);
    buf.extend_from_slice(&tag);
}

/// ChaCha20-Poly1305 encryption of `buf` in place, returning the tag.
pub(crate) fn seal_detached(
    key: &[u8; 32],
    nonce: &[u8; 12],
    aad: &[u8],
    buf: &mut [u8],
) -> [u8; TAG_LEN] {
    // Encryption only fails for inputs above 256 GiB, which the protocol never produces.
    #[allow(clippy::expect_used)]
    sealdesk_aead::seal_detached(key, nonce, aad, buf)
        .expect("ChaCha20-Poly1305 input below 256 GiB")
}

/// ChaCha20-Poly1305 decryption in place of `ciphertext || tag`; truncates the tag.
pub(crate) fn open_in_place(
    key: &[u8; 32],
    nonce: &[u8; 12],
    aad: &[u8],
    buf: &mut Vec<u8>,
) -> Result<()> {
    let body_len = buf
        .len()
        .checked_sub(TAG_LEN)
        .ok_or(Error::DecryptionFailed)?;
    let (body, tag) = buf.split_at_mut(body_len);
    open_detached(key, nonce, aad, body, tag)?;
    buf.truncate(body_len);
    Ok(())
}

/// ChaCha20-Poly1305 decryption of `buf` in place given its detached tag.
pub(crate) fn open_detached(
    key: &[u8; 32],
    nonce: &[u8; 12],
    aad: &[u8],
    buf: &mut [u8],
    tag: &[u8],
) -> Result<()> {
    sealdesk_aead::open_detached(key, nonce, aad, buf, tag).map_err(|_| Error::DecryptionFailed)
}
