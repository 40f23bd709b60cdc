//! Transcript verification: the checks a client (and the server) runs on every message of a
//! chain, in order, before showing or storing it (spec/PROTOCOL.md §10).

use crate::directory::Directory;
use crate::encoding::{Reader, Writer};
use crate::error::{Error, Fault, Result};
use crate::members::{Members, Role};
use crate::message::{Kind, Message};
use crate::ticket::{Chain, TicketId};

/// Version byte of [`ChainState::to_bytes`].
const STATE_VERSION: u8 = 1;

/// The verified state of one chain of one ticket after its last message. Keep it between
/// fetches: a later answer must extend it (a server that drops the newest messages is caught by
/// [`ChainState::check_extends`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChainState {
    ticket_id: TicketId,
    chain: Chain,
    last_seq: u64,
    last_hash: [u8; 32],
    last_dir_seq: u64,
    /// `epoch_opened_at[e]` is the directory position of the first message of epoch `e`.
    epoch_opened_at: Vec<u64>,
    closed: bool,
}

impl ChainState {
    /// The state of an empty chain.
    pub fn new(ticket_id: TicketId, chain: Chain) -> Self {
        ChainState {
            ticket_id,
            chain,
            last_seq: 0,
            last_hash: [0u8; 32],
            last_dir_seq: 0,
            epoch_opened_at: Vec::new(),
            closed: false,
        }
    }

    /// Verifies a whole chain from its first message (see [`ChainState::extend_encoded`]).
    ///
    /// # Errors
    /// [`Error::Transcript`] naming the first broken message.
    pub fn verify_encoded<B: AsRef<[u8]>>(
        ticket_id: TicketId,
        chain: Chain,
        messages: &[B],
        members: &Members,
        directory: &Directory,
    ) -> Result<Self> {
        let mut state = ChainState::new(ticket_id, chain);
        state.extend_encoded(messages, members, directory)?;
        Ok(state)
    }

    /// Decodes and verifies `messages` as the continuation of this chain. On error the state
    /// is unchanged and the error names the first broken message by its index in `messages`.
    ///
    /// # Errors
    /// [`Error::Transcript`].
    pub fn extend_encoded<B: AsRef<[u8]>>(
        &mut self,
        messages: &[B],
        members: &Members,
        directory: &Directory,
    ) -> Result<Vec<Message>> {
        let mut next = self.clone();
        let mut verified = Vec::with_capacity(messages.len());
        for (index, bytes) in messages.iter().enumerate() {
            let message = Message::from_bytes(bytes.as_ref()).map_err(|_| Error::Transcript {
                index,
                seq: 0,
                fault: Fault::Malformed,
            })?;
            next.push(&message, members, directory)
                .map_err(|fault| Error::Transcript {
                    index,
                    seq: message.header.seq,
                    fault,
                })?;
            verified.push(message);
        }
        *self = next;
        Ok(verified)
    }

    /// Verifies one decoded message as the next of this chain and advances the state
    /// (spec §10.2, checks in order). On error the state is unchanged.
    ///
    /// # Errors
    /// The [`Fault`] of the first failed check.
    pub fn push(
        &mut self,
        message: &Message,
        members: &Members,
        directory: &Directory,
    ) -> core::result::Result<(), Fault> {
        let h = &message.header;
        if h.ticket_id != self.ticket_id || members.ticket_id() != self.ticket_id {
            return Err(Fault::WrongTicket);
        }
        if h.chain != self.chain {
            return Err(Fault::WrongChain);
        }
        let expected = self.last_seq + 1;
        if h.seq != expected {
            return Err(Fault::UnexpectedSeq {
                expected,
                found: h.seq,
            });
        }
        if h.prev_hash != self.last_hash {
            return Err(Fault::BrokenLink);
        }
        if h.dir_seq < self.last_dir_seq || h.dir_seq > directory.head_seq() {
            return Err(Fault::DirectoryOutOfRange);
        }
        let current_epoch = self.epoch_opened_at.len().checked_sub(1);
        let opens_epoch = match current_epoch {
            None if h.epoch == 0 => true,
            None => return Err(Fault::BadEpoch),
            Some(current) if h.epoch as usize == current => false,
            Some(current) if h.epoch as usize == current + 1 => true,
            Some(_) => return Err(Fault::BadEpoch),
        };
        // A rotation exists to open an epoch; one that does not is meaningless.
        if h.kind == Kind::Rotate && !opens_epoch {
            return Err(Fault::BadEpoch);
        }
        if !opens_epoch
            && let Some(&opened_at) = self.epoch_opened_at.last()
            && directory.removed_between(opened_at, h.dir_seq)
        {
            return Err(Fault::EpochNotRotated);
        }
        if !h.kind.allowed_on(self.chain) {
            return Err(Fault::KindNotAllowed);
        }
        let (sender, role) = members
            .member_at(directory, self.chain, h.dir_seq, &h.sender)
            .ok_or(Fault::NotAMember)?;
        // The reporter opens the conversation: its first message binds the reporter key.
        if self.chain == Chain::Conversation && self.last_seq == 0 && role != Role::Reporter {
            return Err(Fault::NotAMember);
        }
        message
            .verify_signature(sender)
            .map_err(|_| Fault::BadSignature)?;

        self.last_seq = h.seq;
        self.last_hash = message.hash();
        self.last_dir_seq = h.dir_seq;
        if opens_epoch {
            self.epoch_opened_at.push(h.dir_seq);
        }
        self.closed = match (h.kind, role) {
            (Kind::Close, _) => true,
            (Kind::Reopen, _) => false,
            // A reporter who writes to a closed ticket reopens it (spec §10.3).
            (Kind::Message | Kind::DebugData | Kind::AttachmentRef, Role::Reporter) => false,
            _ => self.closed,
        };
        Ok(())
    }

    /// Checks that this state extends `earlier`, a state of the same chain kept from a
    /// previous fetch: same or later position, and the same hash at that position when equal.
    /// (For a strictly later position, verify the new messages with
    /// [`ChainState::extend_encoded`] from `earlier` instead; this check catches a server that
    /// answers with fewer messages than before.)
    ///
    /// # Errors
    /// [`Error::Transcript`] with [`Fault::UnexpectedSeq`] if this state is behind, or
    /// [`Fault::BrokenLink`] if it diverges at the same position.
    pub fn check_extends(&self, earlier: &ChainState) -> Result<()> {
        if self.ticket_id != earlier.ticket_id {
            return Err(Error::Transcript {
                index: 0,
                seq: 0,
                fault: Fault::WrongTicket,
            });
        }
        if self.chain != earlier.chain {
            return Err(Error::Transcript {
                index: 0,
                seq: 0,
                fault: Fault::WrongChain,
            });
        }
        if self.last_seq < earlier.last_seq {
            return Err(Error::Transcript {
                index: 0,
                seq: self.last_seq,
                fault: Fault::UnexpectedSeq {
                    expected: earlier.last_seq,
                    found: self.last_seq,
                },
            });
        }
        if self.last_seq == earlier.last_seq && self.last_hash != earlier.last_hash {
            return Err(Error::Transcript {
                index: 0,
                seq: self.last_seq,
                fault: Fault::BrokenLink,
            });
        }
        Ok(())
    }

    /// Encodes the state for local persistence (the server's ticket record, a browser's
    /// IndexedDB). Not part of the wire protocol: `version (1) || ticket_id (16) || chain (1) ||
    /// last_seq (u64) || last_hash (32) || last_dir_seq (u64) || closed (u8) || u32 count ||
    /// count × u64 epoch_opened_at`.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut w = Writer::with_capacity(71 + 8 * self.epoch_opened_at.len());
        w.u8(STATE_VERSION)
            .bytes(&self.ticket_id.0)
            .u8(self.chain.to_u8())
            .u64(self.last_seq)
            .bytes(&self.last_hash)
            .u64(self.last_dir_seq)
            .u8(u8::from(self.closed))
            .u32(self.epoch_opened_at.len() as u32);
        for &opened_at in &self.epoch_opened_at {
            w.u64(opened_at);
        }
        w.finish()
    }

    /// Decodes [`ChainState::to_bytes`]. The bytes come from local storage the caller trusts;
    /// this checks structure only (epochs open in non-decreasing directory order, at most one
    /// epoch per message).
    ///
    /// # Errors
    /// [`Error::Malformed`].
    pub fn from_bytes(bytes: &[u8]) -> Result<Self> {
        let malformed = || Error::Malformed("chain state");
        let mut r = Reader::new(bytes, "chain state");
        r.version(STATE_VERSION)?;
        let ticket_id = TicketId(r.array()?);
        let chain = Chain::from_u8(r.u8()?).map_err(|_| malformed())?;
        let last_seq = r.u64()?;
        let last_hash = r.array()?;
        let last_dir_seq = r.u64()?;
        let closed = match r.u8()? {
            0 => false,
            1 => true,
            _ => return Err(malformed()),
        };
        let count = u64::from(r.u32()?);
        if count > last_seq {
            return Err(malformed());
        }
        let mut epoch_opened_at = Vec::new();
        for _ in 0..count {
            epoch_opened_at.push(r.u64()?);
        }
        r.finish()?;
        let ordered = epoch_opened_at.windows(2).all(|w| w[0] <= w[1]);
        let consistent = (last_seq == 0) == epoch_opened_at.is_empty()
            && epoch_opened_at
                .last()
                .is_none_or(|&last| last <= last_dir_seq);
        if !ordered || !consistent {
            return Err(malformed());
        }
        Ok(ChainState {
            ticket_id,
            chain,
            last_seq,
            last_hash,
            last_dir_seq,
            epoch_opened_at,
            closed,
        })
    }

    /// The ticket.
    pub fn ticket_id(&self) -> TicketId {
        self.ticket_id
    }

    /// The chain.
    pub fn chain(&self) -> Chain {
        self.chain
    }

    /// Sequence number of the last verified message (0 for an empty chain).
    pub fn last_seq(&self) -> u64 {
        self.last_seq
    }

    /// Hash of the last verified message (zeros for an empty chain): the next `prev_hash`.
    pub fn last_hash(&self) -> [u8; 32] {
        self.last_hash
    }

    /// Directory position of the last verified message (0 for an empty chain).
    pub fn last_dir_seq(&self) -> u64 {
        self.last_dir_seq
    }

    /// The current epoch, or `None` for an empty chain.
    pub fn epoch(&self) -> Option<u32> {
        self.epoch_opened_at.len().checked_sub(1).map(|e| e as u32)
    }

    /// Directory position of the first message of `epoch`, if that epoch has begun (what
    /// [`crate::WrappedKey::verify`] checks a wrap's `dir_seq` against).
    pub fn epoch_opened_at(&self, epoch: u32) -> Option<u64> {
        self.epoch_opened_at.get(epoch as usize).copied()
    }

    /// Whether the next message written at directory position `dir_seq` must open a new epoch:
    /// an administrator was removed since the current epoch began (spec §10.2 step 8).
    pub fn must_rotate(&self, directory: &Directory, dir_seq: u64) -> bool {
        self.epoch_opened_at
            .last()
            .is_some_and(|&opened_at| directory.removed_between(opened_at, dir_seq))
    }

    /// Whether the ticket is closed after the verified messages (conversation chain only).
    pub fn is_closed(&self) -> bool {
        self.closed
    }
}
