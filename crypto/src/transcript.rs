//! Transcript verification: the checks a client (and the server) runs on every message of a
//! chain, in order, before showing or storing it (spec/PROTOCOL.md §10).

use crate::directory::Directory;
use crate::encoding::{Reader, Writer};
use crate::error::{Error, Fault, Result};
use crate::identity::{KeyId, PUBLIC_IDENTITY_LEN, PublicIdentity};
use crate::members::{EndorseContent, Members, Role};
use crate::message::{Kind, Message};
use crate::ticket::{Chain, TicketId, TicketKey};

/// Version byte of [`ChainState::to_bytes`]: 2 adds the reporter keys and the unread
/// endorsement flag; version 1 (without them) still decodes.
const STATE_VERSION: u8 = 2;
/// The version before reporter keys were part of the state.
const STATE_VERSION_1: u8 = 1;

/// The status of a ticket, as its verified conversation sets it (spec §10.3). Encoded as one
/// byte in [`ChainState::to_bytes`]: 0 open, 1 closed, 2 waiting for the reporter, 3 on hold.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ConversationStatus {
    /// Open: a new ticket, a *reopen* message, or a reporter who wrote.
    Open,
    /// Closed by a *close* message.
    Closed,
    /// Waiting for the reporter: set by an administrator's *waiting* message (kind 9).
    Waiting,
    /// On hold: set by an administrator's *on hold* message (kind 10).
    OnHold,
}

impl ConversationStatus {
    /// The one-byte encoding of the persisted state.
    pub fn to_u8(self) -> u8 {
        match self {
            ConversationStatus::Open => 0,
            ConversationStatus::Closed => 1,
            ConversationStatus::Waiting => 2,
            ConversationStatus::OnHold => 3,
        }
    }

    /// Decodes [`ConversationStatus::to_u8`].
    ///
    /// # Errors
    /// [`Error::Malformed`] for values above 3.
    pub fn from_u8(value: u8) -> Result<Self> {
        Ok(match value {
            0 => ConversationStatus::Open,
            1 => ConversationStatus::Closed,
            2 => ConversationStatus::Waiting,
            3 => ConversationStatus::OnHold,
            _ => return Err(Error::Malformed("chain state")),
        })
    }

    /// The status after a verified conversation message of `kind` from a sender of `role`
    /// (spec §10.3): close, reopen, waiting and on hold set theirs; a reporter's message,
    /// debug data or attachment reference makes any other status open; other kinds keep it.
    pub fn after(self, kind: Kind, role: Role) -> Self {
        match (kind, role) {
            (Kind::Close, _) => ConversationStatus::Closed,
            (Kind::Reopen, _) => ConversationStatus::Open,
            (Kind::Waiting, _) => ConversationStatus::Waiting,
            (Kind::OnHold, _) => ConversationStatus::OnHold,
            (Kind::Message | Kind::DebugData | Kind::AttachmentRef, Role::Reporter) => {
                ConversationStatus::Open
            }
            _ => self,
        }
    }
}

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
    status: ConversationStatus,
    /// Conversation only: the sender of seq 1 (the first reporter key), then each key endorsed
    /// by a read *endorse* message, in chain order (spec §10.1).
    reporters: Vec<PublicIdentity>,
    /// The last message is an *endorse* message whose content has not been read yet.
    endorsement_unread: bool,
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
            status: ConversationStatus::Open,
            reporters: Vec::new(),
            endorsement_unread: false,
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

    /// Like [`ChainState::extend_encoded`], but reads each *endorse* message's content right
    /// after it verifies (spec §8.2), so that a batch may hold messages of keys it endorses.
    /// `key_for` gets the state that already includes the endorse message (its epoch is open,
    /// so a wrap for it verifies, §6.3) and the message, and returns the chain key of the
    /// message's epoch, or `None` if the caller holds none: the endorsement then stays unread
    /// and the next message fails with [`Fault::EndorsementUnread`]. Unreadable content adds no
    /// key and does not fail the batch (the message stays verified; show a warning for it).
    /// On error the state is unchanged.
    ///
    /// # Errors
    /// [`Error::Transcript`] naming the first broken message.
    pub fn extend_encoded_reading<B, F>(
        &mut self,
        messages: &[B],
        members: &Members,
        directory: &Directory,
        mut key_for: F,
    ) -> Result<Vec<Message>>
    where
        B: AsRef<[u8]>,
        F: FnMut(&ChainState, &Message) -> Option<TicketKey>,
    {
        let mut next = self.clone();
        let mut verified = Vec::with_capacity(messages.len());
        for (index, bytes) in messages.iter().enumerate() {
            let step = next.extend_encoded(&[bytes], members, directory);
            let message = match step {
                Ok(mut one) if one.len() == 1 => one.remove(0),
                Ok(_) => return Err(Error::Malformed("transcript batch")),
                Err(Error::Transcript { seq, fault, .. }) => {
                    return Err(Error::Transcript { index, seq, fault });
                }
                Err(other) => return Err(other),
            };
            if next.endorsement_unread
                && let Some(key) = key_for(&next, &message)
            {
                // Unreadable content adds no key; the chain goes on (spec §8.2).
                let _ = next.read_endorsement(&message, &key);
            }
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
        if self.endorsement_unread {
            return Err(Fault::EndorsementUnread);
        }
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
        let (sender, role) = self
            .member_at(members, directory, h.dir_seq, &h.sender)
            .ok_or(Fault::NotAMember)?;
        // The reporter opens the conversation: its first message binds the reporter key.
        if self.chain == Chain::Conversation && self.last_seq == 0 && role != Role::Reporter {
            return Err(Fault::NotAMember);
        }
        // Only an administrator at the message's dir_seq sets the waiting and on-hold
        // statuses (§10.3). An endorse message may come from either role: its grounds, read
        // with its content, say which one it needed (§8.2).
        if matches!(h.kind, Kind::Waiting | Kind::OnHold) && role != Role::Administrator {
            return Err(Fault::NotAMember);
        }
        let first_reporter =
            (self.chain == Chain::Conversation && self.last_seq == 0).then(|| sender.clone());
        message
            .verify_signature(sender)
            .map_err(|_| Fault::BadSignature)?;

        self.last_seq = h.seq;
        self.last_hash = message.hash();
        self.last_dir_seq = h.dir_seq;
        if opens_epoch {
            self.epoch_opened_at.push(h.dir_seq);
        }
        if let Some(reporter) = first_reporter {
            self.reporters.push(reporter);
        }
        self.endorsement_unread = h.kind == Kind::Endorse;
        if self.chain == Chain::Conversation {
            self.status = self.status.after(h.kind, role);
        }
        Ok(())
    }

    /// The member with `key_id` who may write to this chain at directory position `dir_seq`,
    /// and its role (spec §8.1): on the conversation, the first reporter key of `members` and
    /// every reporter key of this state (endorsed ones included); on both chains, the
    /// administrators at `dir_seq`.
    pub fn member_at<'a>(
        &'a self,
        members: &'a Members,
        directory: &'a Directory,
        dir_seq: u64,
        key_id: &KeyId,
    ) -> Option<(&'a PublicIdentity, Role)> {
        if self.chain == Chain::Conversation
            && let Some(reporter) = self.reporters.iter().find(|r| r.key_id() == *key_id)
        {
            return Some((reporter, Role::Reporter));
        }
        members.member_at(directory, self.chain, dir_seq, key_id)
    }

    /// Reads the content of the chain's last message, a verified *endorse* message (spec §8.2),
    /// with `key`, the chain key of its epoch, and adds the endorsed key to the reporter keys
    /// from the next message on. Returns the endorsed key (to show: "a new device was added
    /// for the reporter by …"). Whatever the outcome for that message, the state can go on:
    /// content that does not decrypt, decode or name this ticket, or whose grounds its sender
    /// may not use (`0x01` needs an administrator, `0x02` a reporter key), adds no key.
    ///
    /// # Errors
    /// [`Error::Endorsement`] with [`Fault::Malformed`] if `message` is not the last, unread
    /// endorse message (the state is unchanged), or if its content does not decrypt or decode;
    /// with [`Fault::WrongTicket`] if it names another ticket; with [`Fault::NotAMember`] if
    /// its sender may not sign these grounds.
    pub fn read_endorsement(
        &mut self,
        message: &Message,
        key: &TicketKey,
    ) -> Result<PublicIdentity> {
        if !self.endorsement_unread
            || message.header.kind != Kind::Endorse
            || message.hash() != self.last_hash
        {
            return Err(Error::Endorsement(Fault::Malformed));
        }
        self.endorsement_unread = false;
        let content = message
            .open(key)
            .map_err(|_| Error::Endorsement(Fault::Malformed))?;
        let content = EndorseContent::from_bytes(&content)
            .map_err(|_| Error::Endorsement(Fault::Malformed))?;
        if content.ticket_id != self.ticket_id {
            return Err(Error::Endorsement(Fault::WrongTicket));
        }
        // The sender's role as step 10 judged it: a reporter key of the state before this
        // message (they are unchanged since), otherwise an administrator at its dir_seq.
        let role = if self
            .reporters
            .iter()
            .any(|r| r.key_id() == message.header.sender)
        {
            Role::Reporter
        } else {
            Role::Administrator
        };
        if !content.signer_allowed(role) {
            return Err(Error::Endorsement(Fault::NotAMember));
        }
        self.add_reporter(content.endorsed.clone());
        Ok(content.endorsed)
    }

    /// The server's counterpart of [`ChainState::read_endorsement`]: it cannot decrypt, so it
    /// takes the endorsed key that the post carries in clear beside the last, unread endorse
    /// message (spec/API.md), and accepts later posts from it. A client calls it only on a copy
    /// of its state, with its own key, to check the wraps addressed to itself that it needs to
    /// read the endorse message that adds it (PROTOCOL.md §6.3, step 6's exception); its real
    /// state takes the key from [`ChainState::read_endorsement`] alone.
    ///
    /// # Errors
    /// [`Error::Endorsement`] with [`Fault::Malformed`] if the last message is not an unread
    /// endorse message (the state is unchanged).
    pub fn accept_claimed_endorsement(&mut self, endorsed: PublicIdentity) -> Result<()> {
        if !self.endorsement_unread {
            return Err(Error::Endorsement(Fault::Malformed));
        }
        self.endorsement_unread = false;
        self.add_reporter(endorsed);
        Ok(())
    }

    fn add_reporter(&mut self, reporter: PublicIdentity) {
        if !self.reporters.contains(&reporter) {
            self.reporters.push(reporter);
        }
    }

    /// The reporter keys on the conversation chain, in chain order: the sender of seq 1, then
    /// each endorsed key (empty on the notes chain and before the first message).
    pub fn reporters(&self) -> &[PublicIdentity] {
        &self.reporters
    }

    /// Whether the last message is an endorse message whose content has not been read yet
    /// ([`ChainState::read_endorsement`]); until then no further message verifies.
    pub fn endorsement_unread(&self) -> bool {
        self.endorsement_unread
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
    /// IndexedDB). Not part of the wire protocol: `version (1, = 2) || ticket_id (16) ||
    /// chain (1) || last_seq (u64) || last_hash (32) || last_dir_seq (u64) || status (u8, [`ConversationStatus::to_u8`]) ||
    /// u32 count || count × u64 epoch_opened_at || u32 reporters || reporters × 64-byte public
    /// identity || endorsement_unread (u8)`.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut w = Writer::with_capacity(
            76 + 8 * self.epoch_opened_at.len() + PUBLIC_IDENTITY_LEN * self.reporters.len(),
        );
        w.u8(STATE_VERSION)
            .bytes(&self.ticket_id.0)
            .u8(self.chain.to_u8())
            .u64(self.last_seq)
            .bytes(&self.last_hash)
            .u64(self.last_dir_seq)
            .u8(self.status.to_u8())
            .u32(self.epoch_opened_at.len() as u32);
        for &opened_at in &self.epoch_opened_at {
            w.u64(opened_at);
        }
        w.u32(self.reporters.len() as u32);
        for reporter in &self.reporters {
            w.bytes(&reporter.to_bytes());
        }
        w.u8(u8::from(self.endorsement_unread));
        w.finish()
    }

    /// Decodes [`ChainState::to_bytes`] (version 2, or version 1 without reporter keys: its
    /// conversation then counts only the first reporter key of [`Members`]). The bytes come
    /// from local storage the caller trusts; this checks structure only (epochs open in
    /// non-decreasing directory order, at most one epoch and one reporter key per message,
    /// valid keys, no reporter keys on the notes chain).
    ///
    /// # Errors
    /// [`Error::Malformed`].
    pub fn from_bytes(bytes: &[u8]) -> Result<Self> {
        let malformed = || Error::Malformed("chain state");
        let mut r = Reader::new(bytes, "chain state");
        let version = r.u8()?;
        if version != STATE_VERSION && version != STATE_VERSION_1 {
            return Err(malformed());
        }
        let ticket_id = TicketId(r.array()?);
        let chain = Chain::from_u8(r.u8()?).map_err(|_| malformed())?;
        let last_seq = r.u64()?;
        let last_hash = r.array()?;
        let last_dir_seq = r.u64()?;
        let status = ConversationStatus::from_u8(r.u8()?)?;
        let count = u64::from(r.u32()?);
        if count > last_seq {
            return Err(malformed());
        }
        let mut epoch_opened_at = Vec::new();
        for _ in 0..count {
            epoch_opened_at.push(r.u64()?);
        }
        let mut reporters = Vec::new();
        let mut endorsement_unread = false;
        if version == STATE_VERSION {
            let count = u64::from(r.u32()?);
            if count > last_seq || (chain == Chain::Notes && count > 0) {
                return Err(malformed());
            }
            for _ in 0..count {
                let reporter = PublicIdentity::from_bytes(r.take(PUBLIC_IDENTITY_LEN)?)
                    .map_err(|_| malformed())?;
                if reporters.contains(&reporter) {
                    return Err(malformed());
                }
                reporters.push(reporter);
            }
            endorsement_unread = read_flag(&mut r)?;
        }
        r.finish()?;
        let ordered = epoch_opened_at.windows(2).all(|w| w[0] <= w[1]);
        let consistent = (last_seq == 0) == epoch_opened_at.is_empty()
            && epoch_opened_at
                .last()
                .is_none_or(|&last| last <= last_dir_seq)
            && (chain == Chain::Conversation || !endorsement_unread)
            && (last_seq > 0 || !endorsement_unread);
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
            status,
            reporters,
            endorsement_unread,
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
        self.status == ConversationStatus::Closed
    }

    /// The ticket's status after the verified messages (conversation chain only; always
    /// open on the notes chain).
    pub fn status(&self) -> ConversationStatus {
        self.status
    }
}

/// Reads a boolean byte of the persisted state: 0 or 1.
fn read_flag(r: &mut Reader<'_>) -> Result<bool> {
    match r.u8()? {
        0 => Ok(false),
        1 => Ok(true),
        _ => Err(Error::Malformed("chain state")),
    }
}
