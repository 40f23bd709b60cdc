//! Identities: an Ed25519 signing key and an X25519 encryption key derived from one 32-byte seed,
//! their public form, key ids and fingerprints (spec/PROTOCOL.md §4).

use core::fmt;

use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};
use hpke::kem::{Kem as _, X25519HkdfSha256};
use hpke::{Deserializable, Serializable};
use zeroize::{Zeroize, ZeroizeOnDrop};

use crate::encoding::Writer;
use crate::error::{Error, Result};
use crate::labels;
use crate::primitives::{kdf, labeled_hash};
use crate::rng::CryptoRng;

/// The HPKE private key type of the suite (X25519, clamped on import).
pub(crate) type HpkePrivateKey = <X25519HkdfSha256 as hpke::Kem>::PrivateKey;
/// The HPKE public key type of the suite.
pub(crate) type HpkePublicKey = <X25519HkdfSha256 as hpke::Kem>::PublicKey;

/// Length of an encoded [`PublicIdentity`] in bytes: Ed25519 key (32) then X25519 key (32).
pub const PUBLIC_IDENTITY_LEN: usize = 64;
/// Length of an Ed25519 signature in bytes (RFC 8032 §5.1.6).
pub const SIGNATURE_LEN: usize = 64;

/// A 32-byte secret from which an [`Identity`] is derived. Zeroized on drop; `Debug` redacts it.
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct IdentitySeed([u8; 32]);

impl IdentitySeed {
    /// Wraps existing seed bytes (from a keyring or a test vector).
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        IdentitySeed(bytes)
    }

    /// Draws a fresh seed from `rng`.
    pub fn generate(rng: &mut impl CryptoRng) -> Self {
        let mut bytes = [0u8; 32];
        rng.fill_bytes(&mut bytes);
        IdentitySeed(bytes)
    }

    /// The seed bytes, for storing in an encrypted keyring.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }
}

impl fmt::Debug for IdentitySeed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("IdentitySeed(<redacted>)")
    }
}

/// The private half of an identity: signs messages, wraps and directory entries, and opens
/// wrapped keys. Both secret keys zeroize on drop; `Debug` shows only the key id.
pub struct Identity {
    signing: SigningKey,
    encryption: HpkePrivateKey,
    public: PublicIdentity,
}

impl Identity {
    /// Derives the identity of `seed` (spec §4.1):
    /// `ed25519_sk = KDF(seed, "sealdesk/v1/identity/ed25519", 32)`,
    /// `x25519_sk = KDF(seed, "sealdesk/v1/identity/x25519", 32)`.
    pub fn from_seed(seed: &IdentitySeed) -> Self {
        let mut ed_secret = [0u8; 32];
        kdf(seed.as_bytes(), labels::IDENTITY_ED25519, &mut ed_secret);
        let signing = SigningKey::from_bytes(&ed_secret);
        ed_secret.zeroize();

        let mut x_secret = [0u8; 32];
        kdf(seed.as_bytes(), labels::IDENTITY_X25519, &mut x_secret);
        // Any 32 bytes are a valid X25519 private key (clamped), so this cannot fail.
        #[allow(clippy::expect_used)]
        let encryption = HpkePrivateKey::from_bytes(&x_secret).expect("32-byte X25519 key");
        x_secret.zeroize();
        let x_public = X25519HkdfSha256::sk_to_pk(&encryption);

        let mut bytes = [0u8; PUBLIC_IDENTITY_LEN];
        bytes[..32].copy_from_slice(signing.verifying_key().as_bytes());
        bytes[32..].copy_from_slice(&x_public.to_bytes());
        let public = PublicIdentity::from_trusted(bytes, signing.verifying_key(), x_public);
        Identity {
            signing,
            encryption,
            public,
        }
    }

    /// Draws a fresh seed from `rng` and derives its identity; returns both so the seed can be
    /// stored (encrypted) for later.
    pub fn generate(rng: &mut impl CryptoRng) -> (IdentitySeed, Self) {
        let seed = IdentitySeed::generate(rng);
        let identity = Identity::from_seed(&seed);
        (seed, identity)
    }

    /// The public identity (what others encrypt to and verify against).
    pub fn public(&self) -> &PublicIdentity {
        &self.public
    }

    /// Shorthand for `self.public().key_id()`.
    pub fn key_id(&self) -> KeyId {
        self.public.key_id
    }

    /// Ed25519 signature (RFC 8032 §5.1.6, deterministic) over `message`.
    pub(crate) fn sign(&self, message: &[u8]) -> [u8; SIGNATURE_LEN] {
        self.signing.sign(message).to_bytes()
    }

    /// Proves possession of this identity when registering an account (spec §12.4): an
    /// Ed25519 signature over `lp("sealdesk/v1/account/identity-proof") || u32 len(username) ||
    /// username || auth_hash`, where `username` is the normalised account name and `auth_hash`
    /// the 32-byte server hash of the account's authentication key. 64 bytes.
    pub fn sign_identity_proof(&self, username: &str, auth_hash: &[u8; 32]) -> [u8; SIGNATURE_LEN] {
        self.sign(&identity_proof_bytes(username, auth_hash))
    }

    /// Signs a recovery claim (spec §11.1): this identity, a key made in the recovering
    /// browser, asks to become a reporter key of ticket `ticket_id`, and names
    /// `reader_hash`, the `token_hash` (§11) of the access token that browser will read
    /// with. An Ed25519 signature over `lp("sealdesk/v1/recovery-claim") || ticket_id (16) ||
    /// public_identity (64) || reader_hash (32)`; 64 bytes.
    pub fn sign_recovery_claim(
        &self,
        ticket_id: &[u8; 16],
        reader_hash: &[u8; 32],
    ) -> [u8; SIGNATURE_LEN] {
        self.sign(&recovery_claim_bytes(ticket_id, &self.public, reader_hash))
    }

    pub(crate) fn hpke_private(&self) -> &HpkePrivateKey {
        &self.encryption
    }
}

impl fmt::Debug for Identity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Identity")
            .field("key_id", &self.public.key_id)
            .finish_non_exhaustive()
    }
}

/// A 32-byte key id: `SHA-256(u8 len || "sealdesk/v1/key-id" || ed25519_pk || x25519_pk)`
/// (spec §4.2). `Debug` and `Display` print lowercase hex.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct KeyId(pub [u8; 32]);

impl KeyId {
    /// The human-readable fingerprint (spec §4.3): the first 30 bytes of the key id in six
    /// 5-byte groups, each read as a big-endian integer modulo 100000 and printed as five
    /// decimal digits, groups separated by single spaces (35 characters).
    pub fn fingerprint(&self) -> String {
        fingerprint_of(&self.0)
    }
}

/// The word-group form of spec §4.3 for any 32-byte hash: the first 30 bytes in six 5-byte
/// groups, each read as a big-endian integer modulo 100000 and printed as five decimal digits,
/// groups separated by single spaces (35 characters). Key fingerprints (§4.3) and the instance
/// fingerprint (§7.6, of the genesis entry's hash) use it.
pub fn fingerprint_of(hash: &[u8; 32]) -> String {
    let mut out = String::with_capacity(35);
    for (i, group) in hash[..30].chunks_exact(5).enumerate() {
        let value = group.iter().fold(0u64, |acc, &b| (acc << 8) | u64::from(b)) % 100_000;
        if i > 0 {
            out.push(' ');
        }
        out.push_str(&format!("{value:05}"));
    }
    out
}

impl fmt::Debug for KeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "KeyId({self})")
    }
}

impl fmt::Display for KeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for b in self.0 {
            write!(f, "{b:02x}")?;
        }
        Ok(())
    }
}

/// The public half of an identity: a validated Ed25519 verifying key and X25519 public key.
///
/// Encoded as 64 bytes, `ed25519_pk || x25519_pk` (spec §4.2).
#[derive(Clone)]
pub struct PublicIdentity {
    bytes: [u8; PUBLIC_IDENTITY_LEN],
    signing: VerifyingKey,
    encryption: HpkePublicKey,
    key_id: KeyId,
}

impl PartialEq for PublicIdentity {
    fn eq(&self, other: &Self) -> bool {
        self.bytes == other.bytes
    }
}
impl Eq for PublicIdentity {}

impl fmt::Debug for PublicIdentity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PublicIdentity({})", self.key_id)
    }
}

impl PublicIdentity {
    fn from_trusted(bytes: [u8; 64], signing: VerifyingKey, encryption: HpkePublicKey) -> Self {
        let key_id = KeyId(labeled_hash(labels::KEY_ID, &[&bytes]));
        PublicIdentity {
            bytes,
            signing,
            encryption,
            key_id,
        }
    }

    /// Decodes and validates 64 bytes (spec §4.2).
    ///
    /// # Errors
    /// [`Error::Malformed`] for a wrong length; [`Error::InvalidPublicKey`] when the Ed25519 key
    /// is not a canonical point encoding or has small order, or the X25519 key is not canonical
    /// or has low order.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self> {
        let bytes: [u8; PUBLIC_IDENTITY_LEN] = bytes
            .try_into()
            .map_err(|_| Error::Malformed("public identity"))?;
        let mut ed = [0u8; 32];
        ed.copy_from_slice(&bytes[..32]);
        let mut x = [0u8; 32];
        x.copy_from_slice(&bytes[32..]);
        let signing = parse_ed25519_public(&ed)?;
        validate_x25519_public(&x)?;
        let encryption = HpkePublicKey::from_bytes(&x).map_err(|_| Error::InvalidPublicKey)?;
        Ok(Self::from_trusted(bytes, signing, encryption))
    }

    /// The 64-byte encoding.
    pub fn to_bytes(&self) -> [u8; PUBLIC_IDENTITY_LEN] {
        self.bytes
    }

    /// The key id of this identity.
    pub fn key_id(&self) -> KeyId {
        self.key_id
    }

    /// The fingerprint of the key id (see [`KeyId::fingerprint`]).
    pub fn fingerprint(&self) -> String {
        self.key_id.fingerprint()
    }

    /// Strictly verifies a 64-byte Ed25519 signature by this identity over `message`.
    ///
    /// # Errors
    /// [`Error::BadSignature`] (see [`verify_ed25519`]).
    pub fn verify(&self, message: &[u8], signature: &[u8]) -> Result<()> {
        verify_with(&self.signing, message, signature)
    }

    /// Verifies an identity proof made by [`Identity::sign_identity_proof`].
    ///
    /// # Errors
    /// [`Error::BadSignature`].
    pub fn verify_identity_proof(
        &self,
        username: &str,
        auth_hash: &[u8; 32],
        signature: &[u8],
    ) -> Result<()> {
        self.verify(&identity_proof_bytes(username, auth_hash), signature)
    }

    /// Verifies a recovery claim made by [`Identity::sign_recovery_claim`] with this key.
    ///
    /// # Errors
    /// [`Error::BadSignature`].
    pub fn verify_recovery_claim(
        &self,
        ticket_id: &[u8; 16],
        reader_hash: &[u8; 32],
        signature: &[u8],
    ) -> Result<()> {
        self.verify(
            &recovery_claim_bytes(ticket_id, self, reader_hash),
            signature,
        )
    }

    pub(crate) fn hpke_public(&self) -> &HpkePublicKey {
        &self.encryption
    }
}

/// The bytes an identity proof signs (spec §12.4).
fn identity_proof_bytes(username: &str, auth_hash: &[u8; 32]) -> Vec<u8> {
    let mut w =
        Writer::with_capacity(1 + labels::ACCOUNT_IDENTITY_PROOF.len() + 4 + username.len() + 32);
    w.label(labels::ACCOUNT_IDENTITY_PROOF)
        .var_bytes(username.as_bytes())
        .bytes(auth_hash);
    w.finish()
}

/// The bytes a recovery claim signs (spec §11.1).
fn recovery_claim_bytes(
    ticket_id: &[u8; 16],
    claimed: &PublicIdentity,
    reader_hash: &[u8; 32],
) -> Vec<u8> {
    let mut w = Writer::with_capacity(1 + labels::RECOVERY_CLAIM.len() + 16 + 64 + 32);
    w.label(labels::RECOVERY_CLAIM)
        .bytes(ticket_id)
        .bytes(&claimed.to_bytes())
        .bytes(reader_hash);
    w.finish()
}

/// Parses an Ed25519 public key, rejecting non-canonical encodings and small-order points.
fn parse_ed25519_public(bytes: &[u8; 32]) -> Result<VerifyingKey> {
    let key = VerifyingKey::from_bytes(bytes).map_err(|_| Error::InvalidPublicKey)?;
    // Decompression accepts non-canonical encodings (y >= p) and `as_bytes` returns the input
    // unchanged, so compare with a fresh encoding of the decoded point.
    if key.to_edwards().compress().as_bytes() != bytes || key.is_weak() {
        return Err(Error::InvalidPublicKey);
    }
    Ok(key)
}

fn verify_with(key: &VerifyingKey, message: &[u8], signature: &[u8]) -> Result<()> {
    let signature: [u8; SIGNATURE_LEN] = signature.try_into().map_err(|_| Error::BadSignature)?;
    key.verify_strict(message, &Signature::from_bytes(&signature))
        .map_err(|_| Error::BadSignature)
}

/// The protocol's one Ed25519 verification path (spec §3.4): the public key must be a canonical,
/// non-small-order point, and the signature must pass `verify_strict` (RFC 8032 §5.1.7 with a
/// canonical `S < L`, and `R` and `A` not of small order).
///
/// # Errors
/// [`Error::InvalidPublicKey`] for a bad key, [`Error::BadSignature`] for a bad signature or a
/// signature that is not 64 bytes.
pub fn verify_ed25519(public_key: &[u8; 32], message: &[u8], signature: &[u8]) -> Result<()> {
    let key = parse_ed25519_public(public_key)?;
    verify_with(&key, message, signature)
}

/// Checks an X25519 public key as the protocol requires (spec §3.3): canonical (the top bit is
/// clear and the value is below 2^255 − 19) and not of low order, i.e. its Diffie–Hellman
/// output with any private key is not all zeros (RFC 7748 §6.1, RFC 9180 §7.1.4).
///
/// # Errors
/// [`Error::InvalidPublicKey`].
pub fn validate_x25519_public(bytes: &[u8; 32]) -> Result<()> {
    let top_bit_set = bytes[31] & 0x80 != 0;
    // Values in [2^255 - 19, 2^255 - 1]: 0xed..0xff, then thirty 0xff, then 0x7f.
    let at_least_p =
        bytes[31] == 0x7f && bytes[1..31].iter().all(|&b| b == 0xff) && bytes[0] >= 0xed;
    if top_bit_set || at_least_p {
        return Err(Error::InvalidPublicKey);
    }
    // A clamped scalar is a multiple of the cofactor 8, so the product is the identity (encoded
    // as all zeros) exactly when the point lies in the small subgroup, on the curve or its twist.
    let probe = x25519_dalek::x25519([0x42; 32], *bytes);
    if probe.iter().fold(0u8, |acc, &b| acc | b) == 0 {
        return Err(Error::InvalidPublicKey);
    }
    Ok(())
}
