//! ChaCha20-Poly1305 (RFC 8439 §2.8) in place with a detached 16-byte tag, for
//! `sealdesk-crypto` (spec/PROTOCOL.md §3 names the AEAD; its `primitives` module is the only
//! caller).
//!
//! Why a crate of its own: Rust compiles generic code in the crate that first names its
//! concrete types, with that crate's optimisation level. The cipher is generic
//! (`ChaChaPoly1305<ChaCha20, U12>`), so called from `sealdesk-crypto` it was compiled for size
//! (`opt-level = "z"`) in the browser's module, at a quarter of its speed. Named here, it is
//! compiled with this crate's level, which the `wasm-release` profile sets to 3 (Cargo.toml;
//! BENCHMARKS.md, *Crypto in the browser*). Natively nothing changes.

#![forbid(unsafe_code)]

use chacha20poly1305::aead::{AeadInOut, KeyInit};
use chacha20poly1305::{ChaCha20Poly1305, Key, Nonce, Tag};

/// Length of the authentication tag in bytes (RFC 8439 §2.8).
pub const TAG_LEN: usize = 16;

/// The input was longer than the AEAD allows (2^38 − 64 bytes, about 256 GiB), or, when
/// opening, the tag does not match (the key, nonce, associated data or ciphertext differ from
/// the sealed ones). No detail: an attacker learns nothing from which.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AeadError;

/// Encrypts `buf` in place under the 32-byte `key` and 12-byte `nonce`, authenticating `aad`
/// too; returns the 16-byte tag.
///
/// # Errors
/// [`AeadError`] when `buf` is longer than about 256 GiB.
pub fn seal_detached(
    key: &[u8; 32],
    nonce: &[u8; 12],
    aad: &[u8],
    buf: &mut [u8],
) -> Result<[u8; TAG_LEN], AeadError> {
    let cipher = ChaCha20Poly1305::new(&Key::from(*key));
    cipher
        .encrypt_inout_detached(&Nonce::from(*nonce), aad, buf.into())
        .map(Into::into)
        .map_err(|_| AeadError)
}

/// Decrypts `buf` in place, checking the 16-byte `tag` over it and `aad` first; `buf` is left
/// as it was when the tag does not match.
///
/// # Errors
/// [`AeadError`] when `tag` is not 16 bytes or does not match.
pub fn open_detached(
    key: &[u8; 32],
    nonce: &[u8; 12],
    aad: &[u8],
    buf: &mut [u8],
    tag: &[u8],
) -> Result<(), AeadError> {
    let tag = Tag::try_from(tag).map_err(|_| AeadError)?;
    let cipher = ChaCha20Poly1305::new(&Key::from(*key));
    cipher
        .decrypt_inout_detached(&Nonce::from(*nonce), aad, buf.into(), &tag)
        .map_err(|_| AeadError)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn rfc8439_section_2_8_2() {
        // RFC 8439 §2.8.2's example: key 80..9f, nonce 07000000 40..47, AAD 50515253 c0..c7.
        let key: [u8; 32] = core::array::from_fn(|i| 0x80 + i as u8);
        let nonce = [
            0x07, 0, 0, 0, 0x40, 0x41, 0x42, 0x43, 0x44, 0x45, 0x46, 0x47,
        ];
        let aad = [
            0x50, 0x51, 0x52, 0x53, 0xc0, 0xc1, 0xc2, 0xc3, 0xc4, 0xc5, 0xc6, 0xc7,
        ];
        let plaintext = b"Ladies and Gentlemen of the class of '99: If I could offer you only one tip for the future, sunscreen would be it.";
        let mut buf = plaintext.to_vec();
        let tag = seal_detached(&key, &nonce, &aad, &mut buf).unwrap();
        assert_eq!(
            tag,
            [
                0x1a, 0xe1, 0x0b, 0x59, 0x4f, 0x09, 0xe2, 0x6a, 0x7e, 0x90, 0x2e, 0xcb, 0xd0, 0x60,
                0x06, 0x91
            ]
        );
        assert_eq!(&buf[..4], &[0xd3, 0x1a, 0x8d, 0x34]);
        let mut tampered = buf.clone();
        tampered[0] ^= 1;
        assert_eq!(
            open_detached(&key, &nonce, &aad, &mut tampered, &tag),
            Err(AeadError)
        );
        assert_eq!(
            open_detached(&key, &nonce, &aad, &mut buf, &tag[..15]),
            Err(AeadError)
        );
        open_detached(&key, &nonce, &aad, &mut buf, &tag).unwrap();
        assert_eq!(buf, plaintext);
    }
}
