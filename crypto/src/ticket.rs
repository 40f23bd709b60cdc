//! Ticket ids, chains and per-epoch symmetric keys (spec/PROTOCOL.md §5).

use core::fmt;

use subtle::ConstantTimeEq;
use zeroize::{Zeroize, ZeroizeOnDrop};

use crate::error::{Error, Result};
use crate::rng::CryptoRng;

/// Length of a ticket id in bytes.
pub const TICKET_ID_LEN: usize = 16;

/// A ticket's 16-byte id: random for account tickets, derived from the ticket secret for
/// anonymous ones (spec §9). Not secret.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TicketId(pub [u8; TICKET_ID_LEN]);

impl TicketId {
    /// Draws a random ticket id (16 bytes from `rng`).
    pub fn generate(rng: &mut impl CryptoRng) -> Self {
        let mut id = [0u8; TICKET_ID_LEN];
        rng.fill_bytes(&mut id);
        TicketId(id)
    }

    /// Lowercase hex, as used in URLs (`/help/ticket/{hex}`), 32 characters.
    pub fn to_hex(&self) -> String {
        self.0.iter().map(|b| format!("{b:02x}")).collect()
    }

    /// Parses 32 hex characters (either case).
    ///
    /// # Errors
    /// [`Error::Malformed`] for any other input.
    pub fn from_hex(text: &str) -> Result<Self> {
        let bytes = text.as_bytes();
        if bytes.len() != 2 * TICKET_ID_LEN {
            return Err(Error::Malformed("ticket id"));
        }
        let mut id = [0u8; TICKET_ID_LEN];
        for (out, pair) in id.iter_mut().zip(bytes.chunks_exact(2)) {
            let hi = hex_digit(pair[0]).ok_or(Error::Malformed("ticket id"))?;
            let lo = hex_digit(pair[1]).ok_or(Error::Malformed("ticket id"))?;
            *out = (hi << 4) | lo;
        }
        Ok(TicketId(id))
    }
}

fn hex_digit(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

impl fmt::Debug for TicketId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "TicketId({})", self.to_hex())
    }
}

/// Which of a ticket's two hash chains a message belongs to (spec §5.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Chain {
    /// The conversation between the reporter and the administrators. Encoded as `0`.
    Conversation,
    /// Internal notes, readable by administrators only. Encoded as `1`.
    Notes,
}

impl Chain {
    /// The one-byte encoding.
    pub fn to_u8(self) -> u8 {
        match self {
            Chain::Conversation => 0,
            Chain::Notes => 1,
        }
    }

    /// Decodes the one-byte encoding.
    ///
    /// # Errors
    /// [`Error::Malformed`] for values other than 0 and 1.
    pub fn from_u8(value: u8) -> Result<Self> {
        match value {
            0 => Ok(Chain::Conversation),
            1 => Ok(Chain::Notes),
            _ => Err(Error::Malformed("chain")),
        }
    }
}

/// The 32-byte symmetric key of one chain of one ticket in one epoch (spec §5.2). Message keys
/// are derived from it. Zeroized on drop; `Debug` redacts it.
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct TicketKey([u8; 32]);

impl PartialEq for TicketKey {
    /// Constant-time comparison.
    fn eq(&self, other: &Self) -> bool {
        self.0.ct_eq(&other.0).into()
    }
}
impl Eq for TicketKey {}

impl TicketKey {
    /// Draws a fresh key (32 bytes from `rng`).
    pub fn generate(rng: &mut impl CryptoRng) -> Self {
        let mut key = [0u8; 32];
        rng.fill_bytes(&mut key);
        TicketKey(key)
    }

    /// Wraps existing key bytes (from an unwrapped key or a test vector).
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        TicketKey(bytes)
    }

    /// The key bytes.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }
}

impl fmt::Debug for TicketKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("TicketKey(<redacted>)")
    }
}
