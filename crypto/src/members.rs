//! Who may write to a ticket: its reporter keys (the first, plus keys endorsed by an
//! administrator after email recovery) and the administrators of the directory
//! (spec/PROTOCOL.md §8).

use crate::directory::Directory;
use crate::encoding::{Reader, Writer};
use crate::error::{Error, Fault, Result};
use crate::identity::{Identity, KeyId, PUBLIC_IDENTITY_LEN, PublicIdentity, SIGNATURE_LEN};
use crate::labels;
use crate::ticket::{Chain, TICKET_ID_LEN, TicketId};

/// Protocol version byte of an endorsement.
pub const ENDORSEMENT_VERSION: u8 = 1;
/// Length of an encoded [`ReporterEndorsement`] in bytes.
pub const ENDORSEMENT_LEN: usize = 1 + TICKET_ID_LEN + PUBLIC_IDENTITY_LEN + 8 + 32 + SIGNATURE_LEN;

/// The role of a member at some point of a ticket's history.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    /// The person who opened the ticket (any of their endorsed keys).
    Reporter,
    /// An administrator listed by the directory at that point.
    Administrator,
}

/// An administrator's signed statement that `reporter` is a further key of the ticket's
/// reporter (after email recovery, spec §8.2). [`ENDORSEMENT_LEN`] = 185 bytes:
/// `version || ticket_id || reporter || dir_seq || endorser || signature`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReporterEndorsement {
    /// The ticket.
    pub ticket_id: TicketId,
    /// The reporter's new public identity.
    pub reporter: PublicIdentity,
    /// Directory position at which the endorser was an administrator.
    pub dir_seq: u64,
    /// Key id of the endorsing administrator.
    pub endorser: KeyId,
    /// Ed25519 signature of the endorser.
    pub signature: [u8; SIGNATURE_LEN],
}

impl ReporterEndorsement {
    /// Endorses `reporter` for `ticket_id`, signed by `admin` at directory position `dir_seq`.
    pub fn sign(
        admin: &Identity,
        ticket_id: TicketId,
        reporter: &PublicIdentity,
        dir_seq: u64,
    ) -> Self {
        let mut endorsement = ReporterEndorsement {
            ticket_id,
            reporter: reporter.clone(),
            dir_seq,
            endorser: admin.key_id(),
            signature: [0u8; SIGNATURE_LEN],
        };
        endorsement.signature = admin.sign(&endorsement.signed_bytes());
        endorsement
    }

    fn encode_body(&self, w: &mut Writer) {
        w.u8(ENDORSEMENT_VERSION)
            .bytes(&self.ticket_id.0)
            .bytes(&self.reporter.to_bytes())
            .u64(self.dir_seq)
            .bytes(&self.endorser.0);
    }

    fn signed_bytes(&self) -> Vec<u8> {
        let mut w = Writer::with_capacity(1 + labels::ENDORSEMENT_SIG.len() + ENDORSEMENT_LEN);
        w.label(labels::ENDORSEMENT_SIG);
        self.encode_body(&mut w);
        w.finish()
    }

    /// The 185-byte encoding.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut w = Writer::with_capacity(ENDORSEMENT_LEN);
        self.encode_body(&mut w);
        w.bytes(&self.signature);
        w.finish()
    }

    /// Decodes an endorsement (structure and key validity only).
    ///
    /// # Errors
    /// [`Error::Malformed`] or [`Error::InvalidPublicKey`].
    pub fn from_bytes(bytes: &[u8]) -> Result<Self> {
        let mut r = Reader::new(bytes, "endorsement");
        r.version(ENDORSEMENT_VERSION)?;
        let ticket_id = TicketId(r.array()?);
        let reporter = PublicIdentity::from_bytes(r.take(PUBLIC_IDENTITY_LEN)?)?;
        let endorsement = ReporterEndorsement {
            ticket_id,
            reporter,
            dir_seq: r.u64()?,
            endorser: KeyId(r.array()?),
            signature: r.array()?,
        };
        r.finish()?;
        Ok(endorsement)
    }
}

/// The verified membership of one ticket: reporter keys, with the administrators coming from
/// a [`Directory`] passed to each query.
#[derive(Clone, Debug)]
pub struct Members {
    ticket_id: TicketId,
    reporters: Vec<PublicIdentity>,
}

impl Members {
    /// The membership of a ticket opened by `reporter` (the key that signs its first message).
    pub fn new(ticket_id: TicketId, reporter: PublicIdentity) -> Self {
        Members {
            ticket_id,
            reporters: vec![reporter],
        }
    }

    /// The ticket these members belong to.
    pub fn ticket_id(&self) -> TicketId {
        self.ticket_id
    }

    /// The reporter keys, the first one first.
    pub fn reporters(&self) -> &[PublicIdentity] {
        &self.reporters
    }

    /// Verifies an endorsement (spec §8.2: ticket, `dir_seq` not past the head, endorser an
    /// administrator at `dir_seq`, signature) and adds its key. Adding a key twice is a no-op.
    ///
    /// # Errors
    /// [`Error::Endorsement`] naming the failed check.
    pub fn endorse(
        &mut self,
        endorsement: &ReporterEndorsement,
        directory: &Directory,
    ) -> Result<()> {
        if endorsement.ticket_id != self.ticket_id {
            return Err(Error::Endorsement(Fault::WrongTicket));
        }
        if endorsement.dir_seq > directory.head_seq() {
            return Err(Error::Endorsement(Fault::DirectoryOutOfRange));
        }
        let admin = directory
            .admin_at(endorsement.dir_seq, &endorsement.endorser)
            .ok_or(Error::Endorsement(Fault::NotAMember))?;
        admin
            .verify(&endorsement.signed_bytes(), &endorsement.signature)
            .map_err(|_| Error::Endorsement(Fault::BadSignature))?;
        if !self.reporters.contains(&endorsement.reporter) {
            self.reporters.push(endorsement.reporter.clone());
        }
        Ok(())
    }

    /// The member with `key_id` who may write to `chain` at directory position `dir_seq`, and
    /// its role: reporter keys write to the conversation only; administrators at `dir_seq`
    /// write to both chains.
    pub fn member_at<'a>(
        &'a self,
        directory: &'a Directory,
        chain: Chain,
        dir_seq: u64,
        key_id: &KeyId,
    ) -> Option<(&'a PublicIdentity, Role)> {
        if chain == Chain::Conversation
            && let Some(reporter) = self.reporters.iter().find(|r| r.key_id() == *key_id)
        {
            return Some((reporter, Role::Reporter));
        }
        directory
            .admin_at(dir_seq, key_id)
            .map(|admin| (admin, Role::Administrator))
    }
}
