//! Messages: a signed header, padded content encrypted under a key derived from the chain's
//! epoch key (spec/PROTOCOL.md §9).

use zeroize::Zeroizing;

use crate::encoding::{Reader, Writer};
use crate::error::{Error, Result};
use crate::identity::{Identity, KeyId, PublicIdentity, SIGNATURE_LEN};
use crate::labels;
use crate::primitives::{AeadKey, TAG_LEN, labeled_hash};
use crate::rng::CryptoRng;
use crate::ticket::{Chain, TICKET_ID_LEN, TicketId, TicketKey};

/// Protocol version byte of a message.
pub const MESSAGE_VERSION: u8 = 1;
/// Length of an encoded [`MessageHeader`] in bytes.
pub const HEADER_LEN: usize = 1 + TICKET_ID_LEN + 1 + 8 + 32 + 4 + 8 + 32 + 1 + 32;
/// Smallest padded plaintext in bytes.
pub const MIN_PADDED_LEN: usize = 256;
/// Largest padded plaintext in bytes (1 MiB).
pub const MAX_PADDED_LEN: usize = 1 << 20;
/// Largest content in bytes: the largest bucket less the 4-byte length prefix.
pub const MAX_CONTENT_LEN: usize = MAX_PADDED_LEN - 4;

/// What a message is. Encoded as one byte; 0 and values above 11 are invalid in version 1.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Kind {
    /// A conversation message (1).
    Message,
    /// Debug data collected in the browser (2).
    DebugData,
    /// A reference to an attachment: its key, name, type and size (3).
    AttachmentRef,
    /// Closes the ticket (4).
    Close,
    /// Reopens the ticket (5).
    Reopen,
    /// An internal note of the administrators, only on the notes chain (6).
    InternalNote,
    /// Opens a new epoch without other content (7), on either chain: what an administrator's
    /// client posts on every open ticket right after removing an administrator.
    Rotate,
    /// Adds a reporter key (8, spec §8.2), only on the conversation chain, from an
    /// administrator (grounds `0x01`) or a reporter key (`0x02`): its content is an
    /// [`crate::EndorseContent`].
    Endorse,
    /// Sets the ticket to "waiting for the reporter" (9, spec §10.3): only from an
    /// administrator, on the conversation chain; the reporter's next message reopens it.
    Waiting,
    /// Puts the ticket on hold (10, spec §10.3): only from an administrator, on the
    /// conversation chain.
    OnHold,
    /// The ticket's tags (11, spec §14): the whole tag set after the change, only on the notes
    /// chain (so only administrators read and write it); the latest readable one wins.
    Tags,
}

impl Kind {
    /// The one-byte encoding.
    pub fn to_u8(self) -> u8 {
        match self {
            Kind::Message => 1,
            Kind::DebugData => 2,
            Kind::AttachmentRef => 3,
            Kind::Close => 4,
            Kind::Reopen => 5,
            Kind::InternalNote => 6,
            Kind::Rotate => 7,
            Kind::Endorse => 8,
            Kind::Waiting => 9,
            Kind::OnHold => 10,
            Kind::Tags => 11,
        }
    }

    /// Decodes the one-byte encoding.
    ///
    /// # Errors
    /// [`Error::Malformed`] for values outside 1..=11.
    pub fn from_u8(value: u8) -> Result<Self> {
        Ok(match value {
            1 => Kind::Message,
            2 => Kind::DebugData,
            3 => Kind::AttachmentRef,
            4 => Kind::Close,
            5 => Kind::Reopen,
            6 => Kind::InternalNote,
            7 => Kind::Rotate,
            8 => Kind::Endorse,
            9 => Kind::Waiting,
            10 => Kind::OnHold,
            11 => Kind::Tags,
            _ => return Err(Error::Malformed("message kind")),
        })
    }

    /// Whether this kind may appear on `chain` (spec §9.1): rotations on both chains,
    /// internal notes and tags on the notes chain, every other kind on the conversation chain.
    pub fn allowed_on(self, chain: Chain) -> bool {
        match self {
            Kind::Rotate => true,
            Kind::InternalNote | Kind::Tags => chain == Chain::Notes,
            _ => chain == Chain::Conversation,
        }
    }
}

/// The header of a message (spec §9.1), [`HEADER_LEN`] = 135 bytes. It is the AEAD's
/// associated data and is covered by the signature.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MessageHeader {
    /// The ticket.
    pub ticket_id: TicketId,
    /// The chain (conversation or notes).
    pub chain: Chain,
    /// Position on the chain, starting at 1.
    pub seq: u64,
    /// Hash of the previous message on the chain; 32 zero bytes for seq 1.
    pub prev_hash: [u8; 32],
    /// Epoch of the chain key the content is encrypted under, starting at 0.
    pub epoch: u32,
    /// Sequence number of the directory head the sender verified.
    pub dir_seq: u64,
    /// Key id of the sender.
    pub sender: KeyId,
    /// What the message is.
    pub kind: Kind,
    /// 32 random bytes, the HKDF salt of the message key.
    pub salt: [u8; 32],
}

impl MessageHeader {
    fn encode_into(&self, w: &mut Writer) {
        w.u8(MESSAGE_VERSION)
            .bytes(&self.ticket_id.0)
            .u8(self.chain.to_u8())
            .u64(self.seq)
            .bytes(&self.prev_hash)
            .u32(self.epoch)
            .u64(self.dir_seq)
            .bytes(&self.sender.0)
            .u8(self.kind.to_u8())
            .bytes(&self.salt);
    }

    /// The 135-byte encoding.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut w = Writer::with_capacity(HEADER_LEN);
        self.encode_into(&mut w);
        w.finish()
    }

    fn decode(r: &mut Reader<'_>) -> Result<Self> {
        r.version(MESSAGE_VERSION)?;
        Ok(MessageHeader {
            ticket_id: TicketId(r.array()?),
            chain: Chain::from_u8(r.u8()?).map_err(|_| Error::Malformed("message"))?,
            seq: r.u64()?,
            prev_hash: r.array()?,
            epoch: r.u32()?,
            dir_seq: r.u64()?,
            sender: KeyId(r.array()?),
            kind: Kind::from_u8(r.u8()?).map_err(|_| Error::Malformed("message"))?,
            salt: r.array()?,
        })
    }
}

/// Where a new message goes: everything in the header but the sender and the salt.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Placement {
    /// The ticket.
    pub ticket_id: TicketId,
    /// The chain.
    pub chain: Chain,
    /// The next sequence number on the chain.
    pub seq: u64,
    /// Hash of the chain's last message (zeros before the first).
    pub prev_hash: [u8; 32],
    /// The epoch whose key encrypts the content.
    pub epoch: u32,
    /// The directory head the sender verified.
    pub dir_seq: u64,
    /// What the message is.
    pub kind: Kind,
}

/// An encrypted, signed message (spec §9.4): `header || u32 len(ct) || ct || signature`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Message {
    /// The header.
    pub header: MessageHeader,
    /// ChaCha20-Poly1305 ciphertext of the padded content, tag included.
    pub ciphertext: Vec<u8>,
    /// The sender's Ed25519 signature.
    pub signature: [u8; SIGNATURE_LEN],
}

impl Message {
    /// Encrypts and signs `content` as `sender`, drawing the 32-byte salt from `rng`.
    ///
    /// # Errors
    /// [`Error::TooLarge`] if `content` exceeds [`MAX_CONTENT_LEN`] bytes.
    pub fn seal(
        sender: &Identity,
        placement: Placement,
        key: &TicketKey,
        content: &[u8],
        rng: &mut impl CryptoRng,
    ) -> Result<Self> {
        let mut salt = [0u8; 32];
        rng.fill_bytes(&mut salt);
        Self::seal_with_salt(sender, placement, key, content, salt)
    }

    /// Deterministic form of [`Message::seal`] with an explicit salt (for vectors).
    ///
    /// # Errors
    /// [`Error::TooLarge`] if `content` exceeds [`MAX_CONTENT_LEN`] bytes.
    pub fn seal_with_salt(
        sender: &Identity,
        placement: Placement,
        key: &TicketKey,
        content: &[u8],
        salt: [u8; 32],
    ) -> Result<Self> {
        let header = MessageHeader {
            ticket_id: placement.ticket_id,
            chain: placement.chain,
            seq: placement.seq,
            prev_hash: placement.prev_hash,
            epoch: placement.epoch,
            dir_seq: placement.dir_seq,
            sender: sender.key_id(),
            kind: placement.kind,
            salt,
        };
        let mut buf = pad(content)?;
        let aad = header.to_bytes();
        message_key(key, &salt).seal_in_place(&aad, &mut buf);
        let mut message = Message {
            header,
            ciphertext: buf,
            signature: [0u8; SIGNATURE_LEN],
        };
        message.signature = sender.sign(&message.signed_bytes());
        Ok(message)
    }

    /// Decrypts the content with the chain key of the message's epoch. Verify the message
    /// (transcript and signature) before trusting what this returns.
    ///
    /// # Errors
    /// [`Error::DecryptionFailed`] for a wrong key or altered bytes; [`Error::BadPadding`].
    pub fn open(&self, key: &TicketKey) -> Result<Zeroizing<Vec<u8>>> {
        let mut buf = Zeroizing::new(self.ciphertext.clone());
        message_key(key, &self.header.salt).open_in_place(&self.header.to_bytes(), &mut buf)?;
        unpad(&buf)
    }

    /// `u8 len || "sealdesk/v1/message-sig" || header || u32 len(ct) || ct`.
    fn signed_bytes(&self) -> Vec<u8> {
        let mut w = Writer::with_capacity(
            1 + labels::MESSAGE_SIG.len() + HEADER_LEN + 4 + self.ciphertext.len(),
        );
        w.label(labels::MESSAGE_SIG);
        self.header.encode_into(&mut w);
        w.var_bytes(&self.ciphertext);
        w.finish()
    }

    /// Strictly verifies the signature against the sender's public identity.
    ///
    /// # Errors
    /// [`Error::BadSignature`]; also if `sender` is not the header's sender.
    pub fn verify_signature(&self, sender: &PublicIdentity) -> Result<()> {
        if sender.key_id() != self.header.sender {
            return Err(Error::BadSignature);
        }
        sender.verify(&self.signed_bytes(), &self.signature)
    }

    /// The encoding: `header || u32 len(ct) || ct || signature`.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut w = Writer::with_capacity(HEADER_LEN + 4 + self.ciphertext.len() + SIGNATURE_LEN);
        self.header.encode_into(&mut w);
        w.var_bytes(&self.ciphertext);
        w.bytes(&self.signature);
        w.finish()
    }

    /// Decodes a message. The ciphertext length must be a padding bucket plus the tag.
    ///
    /// # Errors
    /// [`Error::Malformed`].
    pub fn from_bytes(bytes: &[u8]) -> Result<Self> {
        let mut r = Reader::new(bytes, "message");
        let header = MessageHeader::decode(&mut r)?;
        let ciphertext = r.var_bytes(MAX_PADDED_LEN + TAG_LEN)?.to_vec();
        let padded = ciphertext
            .len()
            .checked_sub(TAG_LEN)
            .ok_or(Error::Malformed("message"))?;
        if !is_bucket(padded) {
            return Err(Error::Malformed("message"));
        }
        let signature = r.array()?;
        r.finish()?;
        Ok(Message {
            header,
            ciphertext,
            signature,
        })
    }

    /// `SHA-256(u8 len || "sealdesk/v1/message-hash" || encoding)`, linked by the next message.
    pub fn hash(&self) -> [u8; 32] {
        labeled_hash(labels::MESSAGE_HASH, &[&self.to_bytes()])
    }
}

/// `HKDF-SHA256(salt, ticket_key, "sealdesk/v1/message-key")` → 32-byte key, 12-byte nonce.
fn message_key(key: &TicketKey, salt: &[u8; 32]) -> AeadKey {
    AeadKey::derive(salt, key.as_bytes(), labels::MESSAGE_KEY)
}

/// The padded size for `content_len` bytes of content (spec §9.2): the smallest power of two
/// that is at least 256 and at least `content_len + 4`.
///
/// # Errors
/// [`Error::TooLarge`] above [`MAX_CONTENT_LEN`].
pub fn padded_len(content_len: usize) -> Result<usize> {
    if content_len > MAX_CONTENT_LEN {
        return Err(Error::TooLarge);
    }
    Ok((content_len + 4).next_power_of_two().max(MIN_PADDED_LEN))
}

pub(crate) fn is_bucket(len: usize) -> bool {
    len.is_power_of_two() && (MIN_PADDED_LEN..=MAX_PADDED_LEN).contains(&len)
}

/// `u32 len || content || zeros` up to [`padded_len`].
pub(crate) fn pad(content: &[u8]) -> Result<Vec<u8>> {
    let total = padded_len(content.len())?;
    let mut buf = Vec::with_capacity(total + TAG_LEN);
    buf.extend_from_slice(&(content.len() as u32).to_be_bytes());
    buf.extend_from_slice(content);
    buf.resize(total, 0);
    Ok(buf)
}

/// Reverses [`pad`], rejecting any padding that [`pad`] would not have produced.
pub(crate) fn unpad(padded: &[u8]) -> Result<Zeroizing<Vec<u8>>> {
    let (len_bytes, rest) = padded.split_first_chunk::<4>().ok_or(Error::BadPadding)?;
    let len = u32::from_be_bytes(*len_bytes) as usize;
    if len > rest.len() || padded_len(len).ok() != Some(padded.len()) {
        return Err(Error::BadPadding);
    }
    let (content, zeros) = rest.split_at(len);
    if zeros.iter().any(|&b| b != 0) {
        return Err(Error::BadPadding);
    }
    Ok(Zeroizing::new(content.to_vec()))
}
