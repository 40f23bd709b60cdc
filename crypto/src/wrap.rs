//! Wrapped ticket keys: a chain's epoch key encrypted with HPKE to one member and signed by the
//! member who wrapped it (spec/PROTOCOL.md §6).

use crate::directory::Directory;
use crate::encoding::{Reader, Writer};
use crate::error::{Error, Fault, Result};
use crate::hpke_suite::{self, ENC_LEN};
use crate::identity::{Identity, KeyId, PublicIdentity, SIGNATURE_LEN};
use crate::labels;
use crate::members::Members;
use crate::rng::CryptoRng;
use crate::ticket::{Chain, TICKET_ID_LEN, TicketId, TicketKey};
use crate::transcript::ChainState;

/// Protocol version byte of a wrapped key.
pub const WRAP_VERSION: u8 = 1;
/// Length of the HPKE ciphertext of a wrapped key: the 32-byte key plus a 16-byte tag.
pub const WRAP_CT_LEN: usize = 48;
/// Length of an encoded [`WrappedKey`] in bytes.
pub const WRAP_LEN: usize = 1 + TICKET_ID_LEN + 1 + 4 + 8 + 32 + 32 + ENC_LEN + WRAP_CT_LEN + 64;
const WRAP_CONTEXT_LEN: usize = 1 + TICKET_ID_LEN + 1 + 4 + 8 + 32 + 32;

/// What a wrapped key is for: the ticket, chain and epoch, the directory head the wrapper had
/// verified, and who wrapped it for whom.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WrapContext {
    /// The ticket.
    pub ticket_id: TicketId,
    /// Which chain's key this is.
    pub chain: Chain,
    /// The epoch (0, 1, ...).
    pub epoch: u32,
    /// Sequence number of the directory head the wrapper verified.
    pub dir_seq: u64,
    /// Key id of the member who can unwrap it.
    pub recipient: KeyId,
    /// Key id of the member who wrapped and signed it.
    pub wrapper: KeyId,
}

impl WrapContext {
    /// `version || ticket_id || chain || epoch || dir_seq || recipient || wrapper` (94 bytes),
    /// the HPKE `info` suffix and the start of the signed bytes.
    fn encode_into(&self, w: &mut Writer) {
        w.u8(WRAP_VERSION)
            .bytes(&self.ticket_id.0)
            .u8(self.chain.to_u8())
            .u32(self.epoch)
            .u64(self.dir_seq)
            .bytes(&self.recipient.0)
            .bytes(&self.wrapper.0);
    }

    fn hpke_info(&self) -> Vec<u8> {
        let mut w = Writer::with_capacity(1 + labels::WRAP_INFO.len() + WRAP_CONTEXT_LEN);
        w.label(labels::WRAP_INFO);
        self.encode_into(&mut w);
        w.finish()
    }
}

/// Which key a wrap carries (spec §6.3): the [`WrapContext`] without its recipient and
/// wrapper, which [`WrappedKey::seal`] takes from the identities it is given.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WrapSlot {
    /// The ticket.
    pub ticket_id: TicketId,
    /// The chain whose key it is.
    pub chain: Chain,
    /// The epoch (0, 1, ...).
    pub epoch: u32,
    /// Sequence number of the directory head the wrapper verified.
    pub dir_seq: u64,
}

/// A [`TicketKey`] wrapped for one member (spec §6). Encoded as [`WRAP_LEN`] = 238 bytes:
/// the context (94 bytes), `enc` (32), the HPKE ciphertext (48) and the wrapper's signature (64).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WrappedKey {
    /// The context the key is bound to.
    pub context: WrapContext,
    /// HPKE encapsulated key.
    pub enc: [u8; ENC_LEN],
    /// HPKE ciphertext of the 32-byte ticket key.
    pub ciphertext: [u8; WRAP_CT_LEN],
    /// Ed25519 signature of the wrapper over the label, context, `enc` and ciphertext.
    pub signature: [u8; SIGNATURE_LEN],
}

impl WrappedKey {
    /// Wraps `key` of `slot` (ticket, chain, epoch, directory head) for `recipient` and signs
    /// it as `wrapper`, drawing the 32-byte HPKE `ikmE` from `rng`.
    ///
    /// # Errors
    /// [`Error::Hpke`] if HPKE fails (it cannot for a validated recipient).
    pub fn seal(
        wrapper: &Identity,
        recipient: &PublicIdentity,
        slot: WrapSlot,
        key: &TicketKey,
        rng: &mut impl CryptoRng,
    ) -> Result<Self> {
        let mut ikm_e = [0u8; 32];
        rng.fill_bytes(&mut ikm_e);
        let WrapSlot {
            ticket_id,
            chain,
            epoch,
            dir_seq,
        } = slot;
        let context = WrapContext {
            ticket_id,
            chain,
            epoch,
            dir_seq,
            recipient: recipient.key_id(),
            wrapper: wrapper.key_id(),
        };
        let wrapped = Self::seal_with_ikm(wrapper, recipient, context, key, &ikm_e);
        zeroize::Zeroize::zeroize(&mut ikm_e);
        wrapped
    }

    /// Deterministic form of [`WrappedKey::seal`] with an explicit HPKE `ikmE` (for vectors).
    /// `context.recipient` and `context.wrapper` must be the key ids of `recipient` and
    /// `wrapper`.
    ///
    /// # Errors
    /// [`Error::Hpke`] if HPKE fails; [`Error::Malformed`] if the context's key ids do not
    /// match the identities.
    pub fn seal_with_ikm(
        wrapper: &Identity,
        recipient: &PublicIdentity,
        context: WrapContext,
        key: &TicketKey,
        ikm_e: &[u8; 32],
    ) -> Result<Self> {
        if context.recipient != recipient.key_id() || context.wrapper != wrapper.key_id() {
            return Err(Error::Malformed("wrap context"));
        }
        let (enc, ct) = hpke_suite::seal_base_to(
            recipient.hpke_public(),
            &context.hpke_info(),
            &[],
            key.as_bytes(),
            ikm_e,
        )?;
        let mut ciphertext = [0u8; WRAP_CT_LEN];
        ciphertext.copy_from_slice(&ct);
        let mut wrapped = WrappedKey {
            context,
            enc,
            ciphertext,
            signature: [0u8; 64],
        };
        wrapped.signature = wrapper.sign(&wrapped.signed_bytes());
        Ok(wrapped)
    }

    /// `u8 len || "sealdesk/v1/wrap-sig" || context || enc || ciphertext`.
    fn signed_bytes(&self) -> Vec<u8> {
        let mut w = Writer::with_capacity(1 + labels::WRAP_SIG.len() + WRAP_LEN);
        w.label(labels::WRAP_SIG);
        self.context.encode_into(&mut w);
        w.bytes(&self.enc).bytes(&self.ciphertext);
        w.finish()
    }

    /// The 238-byte encoding.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut w = Writer::with_capacity(WRAP_LEN);
        self.context.encode_into(&mut w);
        w.bytes(&self.enc)
            .bytes(&self.ciphertext)
            .bytes(&self.signature);
        w.finish()
    }

    /// Decodes a wrapped key (structure only; see [`WrappedKey::verify`]).
    ///
    /// # Errors
    /// [`Error::Malformed`] for a wrong length, version or chain.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self> {
        let mut r = Reader::new(bytes, "wrapped key");
        r.version(WRAP_VERSION)?;
        let ticket_id = TicketId(r.array()?);
        let chain = Chain::from_u8(r.u8()?).map_err(|_| Error::Malformed("wrapped key"))?;
        let context = WrapContext {
            ticket_id,
            chain,
            epoch: r.u32()?,
            dir_seq: r.u64()?,
            recipient: KeyId(r.array()?),
            wrapper: KeyId(r.array()?),
        };
        let wrapped = WrappedKey {
            context,
            enc: r.array()?,
            ciphertext: r.array()?,
            signature: r.array()?,
        };
        r.finish()?;
        Ok(wrapped)
    }

    /// Verifies the wrap against the ticket's members and the verified chain it is for
    /// (spec §6.3), in this order: the ticket and chain; the epoch has been opened on the chain
    /// (a key is never used before its epoch has a message); `dir_seq` lies between the
    /// directory position of the epoch's first message and the verified head; the wrapper and
    /// the recipient are members of the chain at `dir_seq`; the wrapper's signature.
    ///
    /// # Errors
    /// [`Error::Wrap`] naming the failed check.
    pub fn verify(
        &self,
        members: &Members,
        directory: &Directory,
        chain: &ChainState,
    ) -> Result<()> {
        let c = &self.context;
        if c.ticket_id != members.ticket_id() || c.ticket_id != chain.ticket_id() {
            return Err(Error::Wrap(Fault::WrongTicket));
        }
        if c.chain != chain.chain() {
            return Err(Error::Wrap(Fault::WrongChain));
        }
        let epoch_opened_at = chain
            .epoch_opened_at(c.epoch)
            .ok_or(Error::Wrap(Fault::BadEpoch))?;
        if c.dir_seq < epoch_opened_at || c.dir_seq > directory.head_seq() {
            return Err(Error::Wrap(Fault::DirectoryOutOfRange));
        }
        let (wrapper, _) = chain
            .member_at(members, directory, c.dir_seq, &c.wrapper)
            .ok_or(Error::Wrap(Fault::NotAMember))?;
        chain
            .member_at(members, directory, c.dir_seq, &c.recipient)
            .ok_or(Error::Wrap(Fault::NotAMember))?;
        wrapper
            .verify(&self.signed_bytes(), &self.signature)
            .map_err(|_| Error::Wrap(Fault::BadSignature))
    }

    /// Decrypts the ticket key with the recipient's identity. Call [`WrappedKey::verify`] first:
    /// an unverified wrap may carry a key chosen by the server.
    ///
    /// # Errors
    /// [`Error::Malformed`] if the wrap is not addressed to `recipient`; [`Error::Hpke`] or
    /// [`Error::DecryptionFailed`] if HPKE fails.
    pub fn open(&self, recipient: &Identity) -> Result<TicketKey> {
        if self.context.recipient != recipient.key_id() {
            return Err(Error::Malformed("wrapped key recipient"));
        }
        let mut plain = hpke_suite::open_base_with(
            recipient.hpke_private(),
            &self.enc,
            &self.context.hpke_info(),
            &[],
            &self.ciphertext,
        )?;
        let mut key = [0u8; 32];
        let result = if plain.len() == 32 {
            key.copy_from_slice(&plain);
            Ok(TicketKey::from_bytes(key))
        } else {
            Err(Error::DecryptionFailed)
        };
        zeroize::Zeroize::zeroize(&mut plain);
        zeroize::Zeroize::zeroize(&mut key);
        result
    }
}
