//! The protocol's single HPKE code path: RFC 9180 base mode with DHKEM(X25519, HKDF-SHA256),
//! HKDF-SHA256 and ChaCha20Poly1305 (suite ids 0x0020, 0x0001, 0x0003), through the `hpke`
//! crate. The RFC 9180 test vectors run through these two functions.

use hpke::aead::ChaCha20Poly1305;
use hpke::kdf::HkdfSha256;
use hpke::kem::X25519HkdfSha256;
use hpke::rand_core::{Infallible, TryCryptoRng, TryRng};
use hpke::{Deserializable, OpModeR, OpModeS, Serializable};
use zeroize::Zeroize;

use crate::error::{Error, Result};
use crate::identity::{HpkePrivateKey, HpkePublicKey};

/// Length of the encapsulated key `enc` in bytes (RFC 9180 §7.1, Nenc for X25519).
pub const ENC_LEN: usize = 32;

/// A generator that yields one fixed 32-byte value: the `ikmE` that RFC 9180 §7.1.3
/// `DeriveKeyPair` turns into the ephemeral key pair. It is wiped when dropped.
struct EphemeralIkm {
    ikm: [u8; 32],
    used: bool,
}

impl Drop for EphemeralIkm {
    fn drop(&mut self) {
        self.ikm.zeroize();
    }
}

impl TryRng for EphemeralIkm {
    type Error = Infallible;

    fn try_next_u32(&mut self) -> core::result::Result<u32, Infallible> {
        unreachable_draw()
    }

    fn try_next_u64(&mut self) -> core::result::Result<u64, Infallible> {
        unreachable_draw()
    }

    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> core::result::Result<(), Infallible> {
        // `hpke` draws exactly one private-key-sized ikm per encapsulation.
        if self.used || dst.len() != 32 {
            return unreachable_draw();
        }
        dst.copy_from_slice(&self.ikm);
        self.used = true;
        Ok(())
    }
}

impl TryCryptoRng for EphemeralIkm {}

// `hpke` 0.15 draws exactly one 32-byte ikmE per encapsulation (kem.rs, gen_keypair_with_rng);
// any other draw means the library changed, and the RFC 9180 vector tests would fail too.
#[allow(clippy::panic)]
fn unreachable_draw<T>() -> core::result::Result<T, Infallible> {
    panic!("HPKE drew other than one 32-byte ikmE")
}

/// `SealBase(pkR, info, aad, pt)` (RFC 9180 §6.1) with the ephemeral key pair derived from
/// `ikm_e` by `DeriveKeyPair` (§7.1.3), as in the RFC's test vectors. Returns `(enc, ct)` with
/// `enc` of [`ENC_LEN`] bytes and `ct = pt.len() + 16` bytes.
///
/// # Errors
/// [`Error::Hpke`] when the Diffie–Hellman output is all zeros (low-order `pk_r`).
pub fn seal_base(
    pk_r: &[u8; 32],
    info: &[u8],
    aad: &[u8],
    plaintext: &[u8],
    ikm_e: &[u8; 32],
) -> Result<([u8; ENC_LEN], Vec<u8>)> {
    let pk = HpkePublicKey::from_bytes(pk_r).map_err(|_| Error::Hpke)?;
    seal_base_to(&pk, info, aad, plaintext, ikm_e)
}

pub(crate) fn seal_base_to(
    pk_r: &HpkePublicKey,
    info: &[u8],
    aad: &[u8],
    plaintext: &[u8],
    ikm_e: &[u8; 32],
) -> Result<([u8; ENC_LEN], Vec<u8>)> {
    let mut rng = EphemeralIkm {
        ikm: *ikm_e,
        used: false,
    };
    let (enc, ct) =
        hpke::single_shot_seal_with_rng::<ChaCha20Poly1305, HkdfSha256, X25519HkdfSha256>(
            &OpModeS::Base,
            pk_r,
            info,
            plaintext,
            aad,
            &mut rng,
        )
        .map_err(|_| Error::Hpke)?;
    let mut enc_bytes = [0u8; ENC_LEN];
    enc_bytes.copy_from_slice(&enc.to_bytes());
    Ok((enc_bytes, ct))
}

/// `OpenBase(enc, skR, info, aad, ct)` (RFC 9180 §6.1). `sk_r` is the 32-byte X25519 private key
/// (clamped on use, RFC 7748 §5).
///
/// # Errors
/// [`Error::Hpke`] for an all-zero Diffie–Hellman output, [`Error::DecryptionFailed`] when the
/// ciphertext does not authenticate.
pub fn open_base(
    sk_r: &[u8; 32],
    enc: &[u8; ENC_LEN],
    info: &[u8],
    aad: &[u8],
    ciphertext: &[u8],
) -> Result<Vec<u8>> {
    let sk = HpkePrivateKey::from_bytes(sk_r).map_err(|_| Error::Hpke)?;
    open_base_with(&sk, enc, info, aad, ciphertext)
}

pub(crate) fn open_base_with(
    sk_r: &HpkePrivateKey,
    enc: &[u8; ENC_LEN],
    info: &[u8],
    aad: &[u8],
    ciphertext: &[u8],
) -> Result<Vec<u8>> {
    let enc =
        <X25519HkdfSha256 as hpke::Kem>::EncappedKey::from_bytes(enc).map_err(|_| Error::Hpke)?;
    hpke::single_shot_open::<ChaCha20Poly1305, HkdfSha256, X25519HkdfSha256>(
        &OpModeR::Base,
        sk_r,
        &enc,
        info,
        ciphertext,
        aad,
    )
    .map_err(|e| match e {
        hpke::HpkeError::OpenError => Error::DecryptionFailed,
        _ => Error::Hpke,
    })
}
