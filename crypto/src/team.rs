//! The team key and the administrators' snippets (canned replies), spec/PROTOCOL.md §18.
//!
//! A [`TeamKey`] per team epoch is wrapped with HPKE for each administrator ([`TeamWrap`],
//! signed by the administrator who wrapped it); a [`Snippet`] is a title and a body encrypted
//! under the team key of one epoch, bound by its associated data to its id and epoch, and
//! signed by the administrator who wrote it. No I/O, no clock: randomness is always an input.

use core::fmt;

use subtle::ConstantTimeEq;
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

use crate::directory::Directory;
use crate::encoding::{Reader, Writer};
use crate::error::{Error, Fault, Result};
use crate::hpke_suite::{self, ENC_LEN};
use crate::identity::{Identity, KeyId, PublicIdentity, SIGNATURE_LEN};
use crate::labels;
use crate::message::{is_bucket, pad, unpad};
use crate::primitives::{AeadKey, TAG_LEN};
use crate::rng::CryptoRng;

/// Protocol version byte of a wrapped team key and of a snippet.
pub const TEAM_VERSION: u8 = 1;
/// Length of the context of a wrapped team key: version, epoch, opened_at, dir_seq,
/// recipient, wrapper (85 bytes).
const TEAM_WRAP_CONTEXT_LEN: usize = 1 + 4 + 8 + 8 + 32 + 32;
/// Length of an encoded [`TeamWrap`] in bytes (229): context, `enc`, HPKE ciphertext of the
/// 32-byte key (48), signature.
pub const TEAM_WRAP_LEN: usize = TEAM_WRAP_CONTEXT_LEN + ENC_LEN + 48 + SIGNATURE_LEN;
/// Length of a snippet id in bytes.
pub const SNIPPET_ID_LEN: usize = 16;
/// Length of a snippet header in bytes (85): version, id, epoch, signer, salt.
pub const SNIPPET_HEADER_LEN: usize = 1 + SNIPPET_ID_LEN + 4 + 32 + 32;
/// Most Unicode code points in a snippet's title.
pub const MAX_SNIPPET_TITLE_CHARS: usize = 200;
/// Most Unicode code points in a snippet's body.
pub const MAX_SNIPPET_BODY_CHARS: usize = 8192;
/// Largest padded plaintext of a snippet (the bucket of the largest content: 8 + 4·200 +
/// 4·8192 bytes, spec §18.3).
pub const MAX_SNIPPET_PADDED_LEN: usize = 65_536;
/// Largest encoded [`Snippet`] in bytes: header, length, ciphertext of the largest bucket,
/// signature (65,705).
pub const MAX_SNIPPET_LEN: usize =
    SNIPPET_HEADER_LEN + 4 + MAX_SNIPPET_PADDED_LEN + TAG_LEN + SIGNATURE_LEN;

/// The 32-byte symmetric key of one team epoch (spec §18.1). Zeroized on drop; `Debug`
/// redacts it.
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct TeamKey([u8; 32]);

impl PartialEq for TeamKey {
    /// Constant-time comparison.
    fn eq(&self, other: &Self) -> bool {
        self.0.ct_eq(&other.0).into()
    }
}
impl Eq for TeamKey {}

impl TeamKey {
    /// Draws a fresh key (32 bytes from `rng`).
    pub fn generate(rng: &mut impl CryptoRng) -> Self {
        let mut key = [0u8; 32];
        rng.fill_bytes(&mut key);
        TeamKey(key)
    }

    /// Wraps existing key bytes (from an unwrapped key or a test vector).
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        TeamKey(bytes)
    }

    /// The key bytes.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }
}

impl fmt::Debug for TeamKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("TeamKey(<redacted>)")
    }
}

/// What a wrapped team key is for (spec §18.2): the epoch, the directory position at which the
/// epoch was opened, the head the wrapper verified, and who wrapped it for whom.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TeamWrapContext {
    /// The team epoch (0, 1, ...).
    pub epoch: u32,
    /// Directory position at which the epoch was opened (the head of its first wraps).
    pub opened_at: u64,
    /// Directory position the wrapper verified (`opened_at` for the epoch's first wraps,
    /// later for history wraps to an administrator added since).
    pub dir_seq: u64,
    /// Key id of the administrator who can unwrap it.
    pub recipient: KeyId,
    /// Key id of the administrator who wrapped and signed it.
    pub wrapper: KeyId,
}

impl TeamWrapContext {
    /// `version || epoch || opened_at || dir_seq || recipient || wrapper` (85 bytes).
    fn encode_into(&self, w: &mut Writer) {
        w.u8(TEAM_VERSION)
            .u32(self.epoch)
            .u64(self.opened_at)
            .u64(self.dir_seq)
            .bytes(&self.recipient.0)
            .bytes(&self.wrapper.0);
    }

    fn hpke_info(&self) -> Vec<u8> {
        let mut w = Writer::with_capacity(1 + labels::TEAM_WRAP_INFO.len() + TEAM_WRAP_CONTEXT_LEN);
        w.label(labels::TEAM_WRAP_INFO);
        self.encode_into(&mut w);
        w.finish()
    }
}

/// A [`TeamKey`] wrapped for one administrator (spec §18.2). Encoded as [`TEAM_WRAP_LEN`] =
/// 229 bytes: the context (85), `enc` (32), the HPKE ciphertext (48), the signature (64).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TeamWrap {
    /// The context the key is bound to.
    pub context: TeamWrapContext,
    /// HPKE encapsulated key.
    pub enc: [u8; ENC_LEN],
    /// HPKE ciphertext of the 32-byte team key.
    pub ciphertext: [u8; 48],
    /// Ed25519 signature of the wrapper.
    pub signature: [u8; SIGNATURE_LEN],
}

impl TeamWrap {
    /// Wraps `key` for `recipient` as `wrapper`, drawing the 32-byte HPKE `ikmE` from `rng`.
    /// `context.recipient` and `context.wrapper` must be their key ids.
    ///
    /// # Errors
    /// [`Error::Malformed`] if the context's key ids do not match the identities or
    /// `opened_at > dir_seq`; [`Error::Hpke`].
    pub fn seal(
        wrapper: &Identity,
        recipient: &PublicIdentity,
        context: TeamWrapContext,
        key: &TeamKey,
        rng: &mut impl CryptoRng,
    ) -> Result<Self> {
        let mut ikm_e = Zeroizing::new([0u8; 32]);
        rng.fill_bytes(ikm_e.as_mut());
        Self::seal_with_ikm(wrapper, recipient, context, key, &ikm_e)
    }

    /// Deterministic form of [`TeamWrap::seal`] with an explicit HPKE `ikmE` (for vectors).
    ///
    /// # Errors
    /// As [`TeamWrap::seal`].
    pub fn seal_with_ikm(
        wrapper: &Identity,
        recipient: &PublicIdentity,
        context: TeamWrapContext,
        key: &TeamKey,
        ikm_e: &[u8; 32],
    ) -> Result<Self> {
        if context.recipient != recipient.key_id()
            || context.wrapper != wrapper.key_id()
            || context.opened_at > context.dir_seq
        {
            return Err(Error::Malformed("team wrap context"));
        }
        let (enc, ct) = hpke_suite::seal_base_to(
            recipient.hpke_public(),
            &context.hpke_info(),
            &[],
            key.as_bytes(),
            ikm_e,
        )?;
        let mut ciphertext = [0u8; 48];
        ciphertext.copy_from_slice(&ct);
        let mut wrap = TeamWrap {
            context,
            enc,
            ciphertext,
            signature: [0u8; SIGNATURE_LEN],
        };
        wrap.signature = wrapper.sign(&wrap.signed_bytes());
        Ok(wrap)
    }

    /// `lp("sealdesk/v1/team-wrap-sig") || context || enc || ciphertext`.
    fn signed_bytes(&self) -> Vec<u8> {
        let mut w = Writer::with_capacity(1 + labels::TEAM_WRAP_SIG.len() + TEAM_WRAP_LEN);
        w.label(labels::TEAM_WRAP_SIG);
        self.context.encode_into(&mut w);
        w.bytes(&self.enc).bytes(&self.ciphertext);
        w.finish()
    }

    /// The 229-byte encoding.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut w = Writer::with_capacity(TEAM_WRAP_LEN);
        self.context.encode_into(&mut w);
        w.bytes(&self.enc)
            .bytes(&self.ciphertext)
            .bytes(&self.signature);
        w.finish()
    }

    /// Decodes a wrapped team key (structure only; see [`TeamWrap::verify`]).
    ///
    /// # Errors
    /// [`Error::Malformed`] for a wrong length or version.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self> {
        let mut r = Reader::new(bytes, "team wrap");
        r.version(TEAM_VERSION)?;
        let context = TeamWrapContext {
            epoch: r.u32()?,
            opened_at: r.u64()?,
            dir_seq: r.u64()?,
            recipient: KeyId(r.array()?),
            wrapper: KeyId(r.array()?),
        };
        let wrap = TeamWrap {
            context,
            enc: r.array()?,
            ciphertext: r.array()?,
            signature: r.array()?,
        };
        r.finish()?;
        Ok(wrap)
    }

    /// Verifies the wrap against the verified directory (spec §18.2), in this order:
    /// `opened_at <= dir_seq <= head` (`directory_out_of_range`); the wrapper, then the
    /// recipient, is an administrator at `dir_seq` (`not_a_member`); the signature
    /// (`bad_signature`).
    ///
    /// # Errors
    /// [`Error::TeamKey`] naming the failed check.
    pub fn verify(&self, directory: &Directory) -> Result<()> {
        let c = &self.context;
        if c.opened_at > c.dir_seq || c.dir_seq > directory.head_seq() {
            return Err(Error::TeamKey(Fault::DirectoryOutOfRange));
        }
        let wrapper = directory
            .admin_at(c.dir_seq, &c.wrapper)
            .ok_or(Error::TeamKey(Fault::NotAMember))?;
        directory
            .admin_at(c.dir_seq, &c.recipient)
            .ok_or(Error::TeamKey(Fault::NotAMember))?;
        wrapper
            .verify(&self.signed_bytes(), &self.signature)
            .map_err(|_| Error::TeamKey(Fault::BadSignature))
    }

    /// Whether the epoch of this (verified) wrap may still encrypt new snippets at the
    /// directory's head: no administrator was removed after the epoch opened (spec §18.2,
    /// "Writing").
    pub fn writable_at(&self, directory: &Directory) -> bool {
        !directory.removed_between(self.context.opened_at, directory.head_seq())
    }

    /// Decrypts the team key with the recipient's identity. Call [`TeamWrap::verify`] first.
    ///
    /// # Errors
    /// [`Error::Malformed`] if the wrap is not addressed to `recipient`; [`Error::Hpke`] or
    /// [`Error::DecryptionFailed`].
    pub fn open(&self, recipient: &Identity) -> Result<TeamKey> {
        if self.context.recipient != recipient.key_id() {
            return Err(Error::Malformed("team wrap recipient"));
        }
        let plain = Zeroizing::new(hpke_suite::open_base_with(
            recipient.hpke_private(),
            &self.enc,
            &self.context.hpke_info(),
            &[],
            &self.ciphertext,
        )?);
        let key: [u8; 32] = plain
            .as_slice()
            .try_into()
            .map_err(|_| Error::DecryptionFailed)?;
        Ok(TeamKey::from_bytes(key))
    }
}

/// A snippet's 16-byte id: random, drawn by the administrator who creates it. Not secret.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SnippetId(pub [u8; SNIPPET_ID_LEN]);

impl SnippetId {
    /// Draws a random id (16 bytes from `rng`).
    pub fn generate(rng: &mut impl CryptoRng) -> Self {
        let mut id = [0u8; SNIPPET_ID_LEN];
        rng.fill_bytes(&mut id);
        SnippetId(id)
    }
}

/// The plaintext of a snippet (spec §18.3): a title of 1 to 200 code points and a body of 1 to
/// 8,192 code points, both UTF-8; the body may carry placeholders such as `{reporter_name}`
/// (§18.4), which this crate does not interpret.
#[derive(Clone, PartialEq, Eq, Zeroize, ZeroizeOnDrop)]
pub struct SnippetContent {
    /// The title.
    pub title: String,
    /// The body.
    pub body: String,
}

impl fmt::Debug for SnippetContent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SnippetContent(<redacted>)")
    }
}

impl SnippetContent {
    /// Checks the lengths (code points): title 1..=200, body 1..=8,192.
    ///
    /// # Errors
    /// [`Error::TooLarge`] for a title or body too long; [`Error::Malformed`] for an empty one.
    pub fn check(&self) -> Result<()> {
        if self.title.is_empty() || self.body.is_empty() {
            return Err(Error::Malformed("snippet content"));
        }
        if self.title.chars().count() > MAX_SNIPPET_TITLE_CHARS
            || self.body.chars().count() > MAX_SNIPPET_BODY_CHARS
        {
            return Err(Error::TooLarge);
        }
        Ok(())
    }

    /// `var(title) || var(body)`, each `u32 length || UTF-8 bytes`.
    pub fn to_bytes(&self) -> Zeroizing<Vec<u8>> {
        let mut w = Writer::with_capacity(8 + self.title.len() + self.body.len());
        w.var_bytes(self.title.as_bytes())
            .var_bytes(self.body.as_bytes());
        Zeroizing::new(w.finish())
    }

    /// Decodes and checks a content (spec §18.3).
    ///
    /// # Errors
    /// [`Error::Malformed`] for a bad layout, invalid UTF-8, trailing bytes or an out-of-range
    /// length.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self> {
        let mut r = Reader::new(bytes, "snippet content");
        let title = r.var_bytes(MAX_SNIPPET_PADDED_LEN)?;
        let body = r.var_bytes(MAX_SNIPPET_PADDED_LEN)?;
        r.finish()?;
        let content = SnippetContent {
            title: String::from_utf8(title.to_vec())
                .map_err(|_| Error::Malformed("snippet content"))?,
            body: String::from_utf8(body.to_vec())
                .map_err(|_| Error::Malformed("snippet content"))?,
        };
        content
            .check()
            .map_err(|_| Error::Malformed("snippet content"))?;
        Ok(content)
    }
}

/// A snippet's header (spec §18.3), 85 bytes: the associated data of its encryption and the
/// start of its signed bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SnippetHeader {
    /// The snippet's id.
    pub id: SnippetId,
    /// The team epoch whose key encrypts the content.
    pub epoch: u32,
    /// Key id of the administrator who wrote and signed it.
    pub signer: KeyId,
    /// Fresh random bytes: the salt of the content key.
    pub salt: [u8; 32],
}

impl SnippetHeader {
    fn encode_into(&self, w: &mut Writer) {
        w.u8(TEAM_VERSION)
            .bytes(&self.id.0)
            .u32(self.epoch)
            .bytes(&self.signer.0)
            .bytes(&self.salt);
    }

    /// The 85-byte encoding.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut w = Writer::with_capacity(SNIPPET_HEADER_LEN);
        self.encode_into(&mut w);
        w.finish()
    }
}

/// An encrypted, signed snippet (spec §18.3): `header || u32 len(ct) || ct || signature`, at
/// most [`MAX_SNIPPET_LEN`] bytes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Snippet {
    /// The header.
    pub header: SnippetHeader,
    /// ChaCha20-Poly1305 ciphertext of the padded content, tag included.
    pub ciphertext: Vec<u8>,
    /// The signer's Ed25519 signature.
    pub signature: [u8; SIGNATURE_LEN],
}

impl Snippet {
    /// Encrypts `content` under `key` (the team key of `epoch`) as snippet `id` and signs it as
    /// `signer`, drawing the 32-byte salt from `rng`.
    ///
    /// # Errors
    /// [`Error::TooLarge`] or [`Error::Malformed`] for a content out of range
    /// ([`SnippetContent::check`]).
    pub fn seal(
        signer: &Identity,
        id: SnippetId,
        epoch: u32,
        key: &TeamKey,
        content: &SnippetContent,
        rng: &mut impl CryptoRng,
    ) -> Result<Self> {
        let mut salt = [0u8; 32];
        rng.fill_bytes(&mut salt);
        let header = SnippetHeader {
            id,
            epoch,
            signer: signer.key_id(),
            salt,
        };
        Self::seal_with_header(signer, header, key, content)
    }

    /// Deterministic form of [`Snippet::seal`] with an explicit header (for vectors);
    /// `header.signer` must be `signer`'s key id.
    ///
    /// # Errors
    /// As [`Snippet::seal`]; [`Error::Malformed`] if the header names another signer.
    pub fn seal_with_header(
        signer: &Identity,
        header: SnippetHeader,
        key: &TeamKey,
        content: &SnippetContent,
    ) -> Result<Self> {
        if header.signer != signer.key_id() {
            return Err(Error::Malformed("snippet signer"));
        }
        content.check()?;
        let mut buf = pad(&content.to_bytes())?;
        snippet_key(key, &header.salt).seal_in_place(&header.to_bytes(), &mut buf);
        let mut snippet = Snippet {
            header,
            ciphertext: buf,
            signature: [0u8; SIGNATURE_LEN],
        };
        snippet.signature = signer.sign(&snippet.signed_bytes());
        Ok(snippet)
    }

    /// `lp("sealdesk/v1/snippet-sig") || header || u32 len(ct) || ct`.
    fn signed_bytes(&self) -> Vec<u8> {
        let mut w = Writer::with_capacity(
            1 + labels::SNIPPET_SIG.len() + SNIPPET_HEADER_LEN + 4 + self.ciphertext.len(),
        );
        w.label(labels::SNIPPET_SIG);
        self.header.encode_into(&mut w);
        w.var_bytes(&self.ciphertext);
        w.finish()
    }

    /// Strictly verifies the signature against `signer` (which must be the header's signer).
    /// The server checks this against the writing session's identity.
    ///
    /// # Errors
    /// [`Error::Snippet`] with [`Fault::BadSignature`].
    pub fn verify_signature(&self, signer: &PublicIdentity) -> Result<()> {
        if signer.key_id() != self.header.signer {
            return Err(Error::Snippet(Fault::BadSignature));
        }
        signer
            .verify(&self.signed_bytes(), &self.signature)
            .map_err(|_| Error::Snippet(Fault::BadSignature))
    }

    /// Verifies the snippet (spec §18.3, reading, steps 1 to 3): its id is `expected_id`
    /// (`wrong_id`); its signer is an administrator at the directory's head (`not_a_member`);
    /// the signature (`bad_signature`).
    ///
    /// # Errors
    /// [`Error::Snippet`] naming the failed check.
    pub fn verify(&self, expected_id: &SnippetId, directory: &Directory) -> Result<()> {
        if self.header.id != *expected_id {
            return Err(Error::Snippet(Fault::WrongId));
        }
        let signer = directory
            .admin_at(directory.head_seq(), &self.header.signer)
            .ok_or(Error::Snippet(Fault::NotAMember))?;
        self.verify_signature(signer)
    }

    /// Decrypts the content with the team key of the header's epoch (spec §18.3, reading,
    /// step 5). Verify first.
    ///
    /// # Errors
    /// [`Error::DecryptionFailed`] for another epoch's key or altered bytes;
    /// [`Error::BadPadding`]; [`Error::Malformed`] for a content that does not decode.
    pub fn open(&self, key: &TeamKey) -> Result<SnippetContent> {
        let mut buf = Zeroizing::new(self.ciphertext.clone());
        snippet_key(key, &self.header.salt).open_in_place(&self.header.to_bytes(), &mut buf)?;
        let content = unpad(&buf)?;
        SnippetContent::from_bytes(&content)
    }

    /// The encoding: `header || u32 len(ct) || ct || signature`.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut w =
            Writer::with_capacity(SNIPPET_HEADER_LEN + 4 + self.ciphertext.len() + SIGNATURE_LEN);
        self.header.encode_into(&mut w);
        w.var_bytes(&self.ciphertext);
        w.bytes(&self.signature);
        w.finish()
    }

    /// Decodes a snippet: the version, a ciphertext whose length less the tag is a padding
    /// bucket (§9.2) of at most [`MAX_SNIPPET_PADDED_LEN`], no trailing bytes.
    ///
    /// # Errors
    /// [`Error::Malformed`].
    pub fn from_bytes(bytes: &[u8]) -> Result<Self> {
        let mut r = Reader::new(bytes, "snippet");
        r.version(TEAM_VERSION)?;
        let header = SnippetHeader {
            id: SnippetId(r.array()?),
            epoch: r.u32()?,
            signer: KeyId(r.array()?),
            salt: r.array()?,
        };
        let ciphertext = r.var_bytes(MAX_SNIPPET_PADDED_LEN + TAG_LEN)?.to_vec();
        let padded = ciphertext
            .len()
            .checked_sub(TAG_LEN)
            .ok_or(Error::Malformed("snippet"))?;
        if !is_bucket(padded) {
            return Err(Error::Malformed("snippet"));
        }
        let signature = r.array()?;
        r.finish()?;
        Ok(Snippet {
            header,
            ciphertext,
            signature,
        })
    }
}

/// `HKDF-SHA256(salt, team_key, "sealdesk/v1/snippet-key")` → 32-byte key, 12-byte nonce.
fn snippet_key(key: &TeamKey, salt: &[u8; 32]) -> AeadKey {
    AeadKey::derive(salt, key.as_bytes(), labels::SNIPPET_KEY)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use super::*;
    use crate::directory::DirectoryEntry;
    use crate::identity::IdentitySeed;

    fn identity(tag: u8) -> Identity {
        Identity::from_seed(&IdentitySeed::from_bytes([tag; 32]))
    }

    /// A fixed generator for tests: counts up from `seed`.
    struct Counter(u8);
    impl hpke::rand_core::TryRng for Counter {
        type Error = core::convert::Infallible;
        fn try_next_u32(&mut self) -> core::result::Result<u32, Self::Error> {
            Ok(u32::from(self.0))
        }
        fn try_next_u64(&mut self) -> core::result::Result<u64, Self::Error> {
            Ok(u64::from(self.0))
        }
        fn try_fill_bytes(&mut self, dst: &mut [u8]) -> core::result::Result<(), Self::Error> {
            for b in dst {
                self.0 = self.0.wrapping_add(1);
                *b = self.0;
            }
            Ok(())
        }
    }
    impl hpke::rand_core::TryCryptoRng for Counter {}

    /// genesis(a), add(b) by a, add(c) by a, remove(b) by a: head 3.
    fn directory(a: &Identity, b: &Identity, c: &Identity) -> Directory {
        let mut dir = Directory::verify(&[DirectoryEntry::genesis(a)]).unwrap();
        let add_b = DirectoryEntry::add(&dir, a, b.public()).unwrap();
        dir.extend(&[add_b]).unwrap();
        let add_c = DirectoryEntry::add(&dir, a, c.public()).unwrap();
        dir.extend(&[add_c]).unwrap();
        let remove_b = DirectoryEntry::remove(&dir, a, b.public()).unwrap();
        dir.extend(&[remove_b]).unwrap();
        dir
    }

    fn content() -> SnippetContent {
        SnippetContent {
            title: "Welcome".into(),
            body: "Hello {reporter_name}, thanks for writing.".into(),
        }
    }

    #[test]
    fn wrap_round_trip_and_writability() {
        let (a, b, c) = (identity(1), identity(2), identity(3));
        let dir = directory(&a, &b, &c);
        let key = TeamKey::from_bytes([9; 32]);
        let mut rng = Counter(0);
        // Epoch 0 opened at position 2 (a, b, c), wrapped by a for b.
        let old = TeamWrapContext {
            epoch: 0,
            opened_at: 2,
            dir_seq: 2,
            recipient: b.key_id(),
            wrapper: a.key_id(),
        };
        let wrap = TeamWrap::seal(&a, b.public(), old, &key, &mut rng).unwrap();
        let decoded = TeamWrap::from_bytes(&wrap.to_bytes()).unwrap();
        assert_eq!(decoded, wrap);
        assert_eq!(wrap.to_bytes().len(), TEAM_WRAP_LEN);
        decoded.verify(&dir).unwrap();
        assert_eq!(decoded.open(&b).unwrap(), key);
        // b was removed at 3, after the epoch opened: it may not encrypt new snippets.
        assert!(!decoded.writable_at(&dir));
        // A new epoch at the head, for c.
        let new = TeamWrapContext {
            epoch: 1,
            opened_at: 3,
            dir_seq: 3,
            recipient: c.key_id(),
            wrapper: a.key_id(),
        };
        let wrap = TeamWrap::seal(&a, c.public(), new, &key, &mut rng).unwrap();
        wrap.verify(&dir).unwrap();
        assert!(wrap.writable_at(&dir));
        assert_eq!(
            wrap.open(&b).unwrap_err(),
            Error::Malformed("team wrap recipient")
        );
    }

    #[test]
    fn wrap_checks_refuse_non_administrators_and_tampering() {
        let (a, b, c) = (identity(1), identity(2), identity(3));
        let dir = directory(&a, &b, &c);
        let key = TeamKey::from_bytes([9; 32]);
        let mut rng = Counter(0);
        let context = |recipient: &Identity, wrapper: &Identity, dir_seq| TeamWrapContext {
            epoch: 1,
            opened_at: dir_seq,
            dir_seq,
            recipient: recipient.key_id(),
            wrapper: wrapper.key_id(),
        };
        // b, removed at 3, wrapping at the head.
        let by_removed = TeamWrap::seal(&b, a.public(), context(&a, &b, 3), &key, &mut rng);
        assert_eq!(
            by_removed.unwrap().verify(&dir),
            Err(Error::TeamKey(Fault::NotAMember))
        );
        // For b at the head.
        let for_removed = TeamWrap::seal(&a, b.public(), context(&b, &a, 3), &key, &mut rng);
        assert_eq!(
            for_removed.unwrap().verify(&dir),
            Err(Error::TeamKey(Fault::NotAMember))
        );
        // Past the head.
        let future = TeamWrap::seal(&a, c.public(), context(&c, &a, 4), &key, &mut rng);
        assert_eq!(
            future.unwrap().verify(&dir),
            Err(Error::TeamKey(Fault::DirectoryOutOfRange))
        );
        // A changed epoch breaks the signature.
        let mut wrap = TeamWrap::seal(&a, c.public(), context(&c, &a, 3), &key, &mut rng).unwrap();
        wrap.context.epoch = 2;
        assert_eq!(wrap.verify(&dir), Err(Error::TeamKey(Fault::BadSignature)));
        assert!(TeamWrap::from_bytes(&[0u8; TEAM_WRAP_LEN]).is_err());
    }

    #[test]
    fn snippet_round_trip() {
        let (a, b, c) = (identity(1), identity(2), identity(3));
        let dir = directory(&a, &b, &c);
        let key = TeamKey::from_bytes([9; 32]);
        let mut rng = Counter(0);
        let id = SnippetId::generate(&mut rng);
        let snippet = Snippet::seal(&c, id, 1, &key, &content(), &mut rng).unwrap();
        let decoded = Snippet::from_bytes(&snippet.to_bytes()).unwrap();
        assert_eq!(decoded, snippet);
        decoded.verify(&id, &dir).unwrap();
        assert_eq!(decoded.open(&key).unwrap(), content());
    }

    #[test]
    fn snippet_under_another_epoch_key_does_not_open() {
        let (a, b, c) = (identity(1), identity(2), identity(3));
        let dir = directory(&a, &b, &c);
        let epoch_0 = TeamKey::from_bytes([9; 32]);
        let epoch_1 = TeamKey::from_bytes([10; 32]);
        let mut rng = Counter(0);
        let id = SnippetId::generate(&mut rng);
        let snippet = Snippet::seal(&a, id, 1, &epoch_1, &content(), &mut rng).unwrap();
        snippet.verify(&id, &dir).unwrap();
        assert_eq!(snippet.open(&epoch_0), Err(Error::DecryptionFailed));
        // Relabelling the epoch (with the right key) breaks the associated data and the
        // signature.
        let mut relabelled = snippet.clone();
        relabelled.header.epoch = 0;
        assert_eq!(relabelled.open(&epoch_1), Err(Error::DecryptionFailed));
        assert_eq!(
            relabelled.verify(&id, &dir),
            Err(Error::Snippet(Fault::BadSignature))
        );
    }

    #[test]
    fn tampered_or_moved_snippet_is_refused() {
        let (a, b, c) = (identity(1), identity(2), identity(3));
        let dir = directory(&a, &b, &c);
        let key = TeamKey::from_bytes([9; 32]);
        let mut rng = Counter(0);
        let id = SnippetId::generate(&mut rng);
        let snippet = Snippet::seal(&a, id, 0, &key, &content(), &mut rng).unwrap();
        let mut tampered = snippet.clone();
        tampered.ciphertext[3] ^= 1;
        assert_eq!(
            tampered.verify(&id, &dir),
            Err(Error::Snippet(Fault::BadSignature))
        );
        assert_eq!(tampered.open(&key), Err(Error::DecryptionFailed));
        // Served under another id.
        let other = SnippetId([0xee; SNIPPET_ID_LEN]);
        assert_eq!(
            snippet.verify(&other, &dir),
            Err(Error::Snippet(Fault::WrongId))
        );
        // Moved to another id with its signature: the signature covers the id.
        let mut moved = snippet.clone();
        moved.header.id = other;
        assert_eq!(
            moved.verify(&other, &dir),
            Err(Error::Snippet(Fault::BadSignature))
        );
        assert_eq!(moved.open(&key), Err(Error::DecryptionFailed));
    }

    #[test]
    fn snippet_by_a_non_administrator_is_refused() {
        let (a, b, c) = (identity(1), identity(2), identity(3));
        let dir = directory(&a, &b, &c);
        let key = TeamKey::from_bytes([9; 32]);
        let mut rng = Counter(0);
        let id = SnippetId::generate(&mut rng);
        // b was removed; d never was an administrator.
        for signer in [&b, &identity(4)] {
            let snippet = Snippet::seal(signer, id, 0, &key, &content(), &mut rng).unwrap();
            assert_eq!(
                snippet.verify(&id, &dir),
                Err(Error::Snippet(Fault::NotAMember))
            );
        }
    }

    #[test]
    fn content_limits() {
        let key = TeamKey::from_bytes([9; 32]);
        let a = identity(1);
        let mut rng = Counter(0);
        let id = SnippetId([1; SNIPPET_ID_LEN]);
        let long = SnippetContent {
            title: "t".into(),
            body: "é".repeat(MAX_SNIPPET_BODY_CHARS + 1),
        };
        assert_eq!(
            Snippet::seal(&a, id, 0, &key, &long, &mut rng),
            Err(Error::TooLarge)
        );
        let empty = SnippetContent {
            title: String::new(),
            body: "b".into(),
        };
        assert!(Snippet::seal(&a, id, 0, &key, &empty, &mut rng).is_err());
        // The largest content fits the largest bucket.
        let largest = SnippetContent {
            title: "\u{10000}".repeat(MAX_SNIPPET_TITLE_CHARS),
            body: "\u{10000}".repeat(MAX_SNIPPET_BODY_CHARS),
        };
        let snippet = Snippet::seal(&a, id, 0, &key, &largest, &mut rng).unwrap();
        assert!(snippet.to_bytes().len() <= MAX_SNIPPET_LEN);
        assert_eq!(
            Snippet::from_bytes(&snippet.to_bytes())
                .unwrap()
                .open(&key)
                .unwrap(),
            largest
        );
    }
}
