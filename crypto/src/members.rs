//! Who may write to a ticket: its reporter keys (the first, plus keys endorsed on the
//! conversation chain) and the administrators of the directory (spec/PROTOCOL.md §8), and the
//! content of an *endorse* message (§8.2, kind 8).

use crate::directory::Directory;
use crate::encoding::{Reader, Writer};
use crate::error::{Error, Result};
use crate::identity::{KeyId, PUBLIC_IDENTITY_LEN, PublicIdentity};
use crate::ticket::{Chain, TICKET_ID_LEN, TicketId};

/// Version byte of an endorse message's content (spec §8.2).
pub const ENDORSE_CONTENT_VERSION: u8 = 1;
/// Length of an endorse message's content in bytes: `version (1) || grounds (1) ||
/// ticket_id (16) || endorsed public identity (64)` = 82 (spec §8.2).
pub const ENDORSE_CONTENT_LEN: usize = 1 + 1 + TICKET_ID_LEN + PUBLIC_IDENTITY_LEN;

/// The role of a member at some point of a ticket's history.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    /// The person who opened the ticket (any of their endorsed keys).
    Reporter,
    /// An administrator listed by the directory at that point.
    Administrator,
}

/// Why a key is endorsed (spec §8.2, the `grounds` byte), which also says who may sign the
/// endorse message: `0x01` an administrator at its `dir_seq`, `0x02` a reporter key of the
/// chain at that point. Other values are reserved for later grounds and make the content
/// unreadable.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EndorseGrounds {
    /// An administrator adds a key of the reporter, after email recovery (`0x01`).
    Administrator,
    /// A reporter key adds the reporter's own second key, such as an account's identity when
    /// the account keeps an anonymous ticket (`0x02`).
    Reporter,
}

impl EndorseGrounds {
    /// The one-byte encoding.
    pub fn to_u8(self) -> u8 {
        match self {
            EndorseGrounds::Administrator => 1,
            EndorseGrounds::Reporter => 2,
        }
    }

    /// Decodes the one-byte encoding.
    ///
    /// # Errors
    /// [`Error::Malformed`] for any value other than `0x01` and `0x02`.
    pub fn from_u8(value: u8) -> Result<Self> {
        match value {
            1 => Ok(EndorseGrounds::Administrator),
            2 => Ok(EndorseGrounds::Reporter),
            _ => Err(Error::Malformed("endorse grounds")),
        }
    }
}

/// The content of an *endorse* message (kind 8, spec §8.2): a further reporter key of the
/// ticket. Encrypted and signed like every message; the key counts only after the message has
/// verified (§10.2) and its content decrypted, from the next message on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EndorseContent {
    /// Why the key is endorsed.
    pub grounds: EndorseGrounds,
    /// The ticket (checked against the chain's ticket when read).
    pub ticket_id: TicketId,
    /// The endorsed public identity (64 bytes, §4.2).
    pub endorsed: PublicIdentity,
}

impl EndorseContent {
    /// An administrator's endorsement of `endorsed` for `ticket_id`.
    pub fn by_administrator(ticket_id: TicketId, endorsed: PublicIdentity) -> Self {
        EndorseContent {
            grounds: EndorseGrounds::Administrator,
            ticket_id,
            endorsed,
        }
    }

    /// A reporter key's endorsement of the reporter's own second key `endorsed` for
    /// `ticket_id` (grounds `0x02`): signed by a reporter key of the conversation.
    pub fn by_reporter(ticket_id: TicketId, endorsed: PublicIdentity) -> Self {
        EndorseContent {
            grounds: EndorseGrounds::Reporter,
            ticket_id,
            endorsed,
        }
    }

    /// Whether a sender of `role` may sign an endorse message on these grounds (§8.2,
    /// §10.2 step 10): administrators for `0x01`, reporter keys for `0x02`.
    pub fn signer_allowed(&self, role: Role) -> bool {
        matches!(
            (self.grounds, role),
            (EndorseGrounds::Administrator, Role::Administrator)
                | (EndorseGrounds::Reporter, Role::Reporter)
        )
    }

    /// The [`ENDORSE_CONTENT_LEN`]-byte content to seal as the message's content.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut w = Writer::with_capacity(ENDORSE_CONTENT_LEN);
        w.u8(ENDORSE_CONTENT_VERSION)
            .u8(self.grounds.to_u8())
            .bytes(&self.ticket_id.0)
            .bytes(&self.endorsed.to_bytes());
        w.finish()
    }

    /// Decodes a decrypted content (length, version, grounds and the endorsed keys, §4.2).
    ///
    /// # Errors
    /// [`Error::Malformed`] or [`Error::InvalidPublicKey`].
    pub fn from_bytes(bytes: &[u8]) -> Result<Self> {
        let mut r = Reader::new(bytes, "endorse content");
        r.version(ENDORSE_CONTENT_VERSION)?;
        let grounds = EndorseGrounds::from_u8(r.u8()?)?;
        let ticket_id = TicketId(r.array()?);
        let endorsed = PublicIdentity::from_bytes(r.take(PUBLIC_IDENTITY_LEN)?)?;
        r.finish()?;
        Ok(EndorseContent {
            grounds,
            ticket_id,
            endorsed,
        })
    }
}

/// The first reporter key of one ticket; the administrators come from a [`Directory`] passed
/// to each query, and endorsed reporter keys from the conversation's
/// [`crate::ChainState`] (spec §8.1).
#[derive(Clone, Debug)]
pub struct Members {
    ticket_id: TicketId,
    reporter: PublicIdentity,
}

impl Members {
    /// The membership of a ticket opened by `reporter` (the key that signs its first message).
    pub fn new(ticket_id: TicketId, reporter: PublicIdentity) -> Self {
        Members {
            ticket_id,
            reporter,
        }
    }

    /// The ticket these members belong to.
    pub fn ticket_id(&self) -> TicketId {
        self.ticket_id
    }

    /// The first reporter key (endorsed keys are in [`crate::ChainState::reporters`]).
    pub fn reporter(&self) -> &PublicIdentity {
        &self.reporter
    }

    /// The member with `key_id` who may write to `chain` at directory position `dir_seq`, and
    /// its role, counting the first reporter key only: the reporter writes to the conversation
    /// only; administrators at `dir_seq` write to both chains. Use
    /// [`crate::ChainState::member_at`] to count endorsed keys too.
    pub fn member_at<'a>(
        &'a self,
        directory: &'a Directory,
        chain: Chain,
        dir_seq: u64,
        key_id: &KeyId,
    ) -> Option<(&'a PublicIdentity, Role)> {
        if chain == Chain::Conversation && self.reporter.key_id() == *key_id {
            return Some((&self.reporter, Role::Reporter));
        }
        directory
            .admin_at(dir_seq, key_id)
            .map(|admin| (admin, Role::Administrator))
    }
}
