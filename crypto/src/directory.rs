//! The administrator directory: an append-only, hash-chained, signed log of who the
//! administrators are (spec/PROTOCOL.md §7).

use crate::encoding::{Reader, Writer};
use crate::error::{Error, Fault, Result};
use crate::identity::{
    Identity, KeyId, PUBLIC_IDENTITY_LEN, PublicIdentity, SIGNATURE_LEN, fingerprint_of,
};
use crate::labels;
use crate::primitives::labeled_hash;

/// Protocol version byte of a directory entry.
pub const ENTRY_VERSION: u8 = 1;
/// Length of an encoded [`DirectoryEntry`] in bytes.
pub const ENTRY_LEN: usize = 1 + 8 + 32 + 1 + PUBLIC_IDENTITY_LEN + 32 + SIGNATURE_LEN;

/// What an entry does to the set of administrators.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Operation {
    /// The first entry: the first administrator adds itself. Encoded as `0`.
    Genesis,
    /// A current administrator adds a new one. Encoded as `1`.
    Add,
    /// A current administrator removes one (possibly itself, never the last). Encoded as `2`.
    Remove,
}

impl Operation {
    fn to_u8(self) -> u8 {
        match self {
            Operation::Genesis => 0,
            Operation::Add => 1,
            Operation::Remove => 2,
        }
    }

    fn from_u8(value: u8) -> Result<Self> {
        match value {
            0 => Ok(Operation::Genesis),
            1 => Ok(Operation::Add),
            2 => Ok(Operation::Remove),
            _ => Err(Error::Malformed("directory entry")),
        }
    }
}

/// One signed entry of the directory log, [`ENTRY_LEN`] = 202 bytes:
/// `version || seq || prev_hash || op || subject || signer || signature`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DirectoryEntry {
    /// Position in the log, 0 for genesis.
    pub seq: u64,
    /// Hash of the previous entry; 32 zero bytes for genesis.
    pub prev_hash: [u8; 32],
    /// The operation.
    pub op: Operation,
    /// The administrator added or removed (for genesis, the first administrator).
    pub subject: PublicIdentity,
    /// Key id of the administrator who signed the entry.
    pub signer: KeyId,
    /// Ed25519 signature of the signer.
    pub signature: [u8; SIGNATURE_LEN],
}

impl DirectoryEntry {
    /// The genesis entry: `first_admin` lists and signs itself (seq 0, zero previous hash).
    pub fn genesis(first_admin: &Identity) -> Self {
        Self::signed(
            0,
            [0u8; 32],
            Operation::Genesis,
            first_admin.public().clone(),
            first_admin,
        )
    }

    /// The next entry of `directory`, adding `subject`, signed by `signer`.
    ///
    /// # Errors
    /// [`Error::Directory`] with [`Fault::NotAMember`] if `signer` is not a current
    /// administrator, or [`Fault::InvalidOperation`] if `subject` is or was an administrator.
    pub fn add(directory: &Directory, signer: &Identity, subject: &PublicIdentity) -> Result<Self> {
        let entry = Self::next(directory, Operation::Add, subject.clone(), signer);
        directory.check_entry(&entry)?;
        Ok(entry)
    }

    /// The next entry of `directory`, removing `subject`, signed by `signer`.
    ///
    /// # Errors
    /// [`Error::Directory`] if `signer` is not a current administrator, or `subject` is not a
    /// current administrator or is the last one.
    pub fn remove(
        directory: &Directory,
        signer: &Identity,
        subject: &PublicIdentity,
    ) -> Result<Self> {
        let entry = Self::next(directory, Operation::Remove, subject.clone(), signer);
        directory.check_entry(&entry)?;
        Ok(entry)
    }

    fn next(
        directory: &Directory,
        op: Operation,
        subject: PublicIdentity,
        signer: &Identity,
    ) -> Self {
        let head = directory.head();
        Self::signed(head.seq + 1, head.hash, op, subject, signer)
    }

    fn signed(
        seq: u64,
        prev_hash: [u8; 32],
        op: Operation,
        subject: PublicIdentity,
        signer: &Identity,
    ) -> Self {
        let mut entry = DirectoryEntry {
            seq,
            prev_hash,
            op,
            subject,
            signer: signer.key_id(),
            signature: [0; 64],
        };
        entry.signature = signer.sign(&entry.signed_bytes());
        entry
    }

    fn encode_body(&self, w: &mut Writer) {
        w.u8(ENTRY_VERSION)
            .u64(self.seq)
            .bytes(&self.prev_hash)
            .u8(self.op.to_u8())
            .bytes(&self.subject.to_bytes())
            .bytes(&self.signer.0);
    }

    /// `u8 len || "sealdesk/v1/directory-sig" || version .. signer` (all fields but the
    /// signature).
    fn signed_bytes(&self) -> Vec<u8> {
        let mut w = Writer::with_capacity(1 + labels::DIRECTORY_SIG.len() + ENTRY_LEN);
        w.label(labels::DIRECTORY_SIG);
        self.encode_body(&mut w);
        w.finish()
    }

    /// The 202-byte encoding.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut w = Writer::with_capacity(ENTRY_LEN);
        self.encode_body(&mut w);
        w.bytes(&self.signature);
        w.finish()
    }

    /// Decodes an entry (structure and key validity; the log checks the rest).
    ///
    /// # Errors
    /// [`Error::Malformed`] or [`Error::InvalidPublicKey`].
    pub fn from_bytes(bytes: &[u8]) -> Result<Self> {
        let mut r = Reader::new(bytes, "directory entry");
        r.version(ENTRY_VERSION)?;
        let seq = r.u64()?;
        let prev_hash = r.array()?;
        let op = Operation::from_u8(r.u8()?)?;
        let subject = PublicIdentity::from_bytes(r.take(PUBLIC_IDENTITY_LEN)?)?;
        let entry = DirectoryEntry {
            seq,
            prev_hash,
            op,
            subject,
            signer: KeyId(r.array()?),
            signature: r.array()?,
        };
        r.finish()?;
        Ok(entry)
    }

    /// `SHA-256(u8 len || "sealdesk/v1/directory-hash" || encoding)`, linked by the next entry.
    pub fn hash(&self) -> [u8; 32] {
        labeled_hash(labels::DIRECTORY_HASH, &[&self.to_bytes()])
    }
}

/// The position and hash of the last entry of a log: what clients pin.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DirectoryHead {
    /// Sequence number of the last entry.
    pub seq: u64,
    /// Hash of the last entry.
    pub hash: [u8; 32],
}

/// When an administrator was added and removed (directory sequence numbers).
#[derive(Clone, Debug)]
struct AdminRecord {
    identity: PublicIdentity,
    added_at: u64,
    removed_at: Option<u64>,
}

/// A verified directory log and the administrator sets it implies at every position.
#[derive(Clone, Debug)]
pub struct Directory {
    entries: Vec<DirectoryEntry>,
    hashes: Vec<[u8; 32]>,
    admins: Vec<AdminRecord>,
    removals: Vec<u64>,
}

impl Directory {
    /// Verifies a whole log from its genesis entry (spec §7.3) and returns its state.
    ///
    /// # Errors
    /// [`Error::Directory`] naming the first bad entry and check; an empty log is
    /// `Directory { index: 0, fault: Malformed }`.
    pub fn verify(entries: &[DirectoryEntry]) -> Result<Self> {
        let (genesis, rest) = entries.split_first().ok_or(Error::Directory {
            index: 0,
            fault: Fault::Malformed,
        })?;
        let mut directory = Directory::from_genesis(genesis)?;
        directory.extend(rest)?;
        Ok(directory)
    }

    /// Decodes and verifies a log given as encoded entries.
    ///
    /// # Errors
    /// As [`Directory::verify`]; an entry that does not decode fails with `Malformed`.
    pub fn verify_encoded<B: AsRef<[u8]>>(entries: &[B]) -> Result<Self> {
        let (genesis, rest) = entries.split_first().ok_or(Error::Directory {
            index: 0,
            fault: Fault::Malformed,
        })?;
        let mut directory = Directory::from_genesis(&decode_entry(genesis.as_ref(), 0)?)?;
        directory.extend_encoded(rest)?;
        Ok(directory)
    }

    fn from_genesis(genesis: &DirectoryEntry) -> Result<Self> {
        let fail = |fault| Error::Directory { index: 0, fault };
        if genesis.op != Operation::Genesis || genesis.signer != genesis.subject.key_id() {
            return Err(fail(Fault::InvalidOperation));
        }
        if genesis.seq != 0 {
            return Err(fail(Fault::UnexpectedSeq {
                expected: 0,
                found: genesis.seq,
            }));
        }
        if genesis.prev_hash != [0u8; 32] {
            return Err(fail(Fault::BrokenLink));
        }
        genesis
            .subject
            .verify(&genesis.signed_bytes(), &genesis.signature)
            .map_err(|_| fail(Fault::BadSignature))?;
        Ok(Directory {
            entries: vec![genesis.clone()],
            hashes: vec![genesis.hash()],
            admins: vec![AdminRecord {
                identity: genesis.subject.clone(),
                added_at: 0,
                removed_at: None,
            }],
            removals: Vec::new(),
        })
    }

    /// Verifies `entries` as the continuation of this log and appends them. On error the
    /// directory is unchanged.
    ///
    /// # Errors
    /// [`Error::Directory`] naming the first bad entry (by its position in the whole log).
    pub fn extend(&mut self, entries: &[DirectoryEntry]) -> Result<()> {
        let mut next = self.clone();
        for entry in entries {
            next.check_entry(entry)?;
            next.apply(entry);
        }
        *self = next;
        Ok(())
    }

    /// Checks one entry as the next of this log (spec §7.3 steps 2–6).
    fn check_entry(&self, entry: &DirectoryEntry) -> Result<()> {
        let head = self.head();
        let index = head.seq + 1;
        let fail = |fault| Error::Directory { index, fault };
        if entry.seq != index {
            return Err(fail(Fault::UnexpectedSeq {
                expected: index,
                found: entry.seq,
            }));
        }
        if entry.prev_hash != head.hash {
            return Err(fail(Fault::BrokenLink));
        }
        let signer = self
            .admin_at(head.seq, &entry.signer)
            .ok_or(fail(Fault::NotAMember))?;
        let subject_id = entry.subject.key_id();
        let allowed = match entry.op {
            Operation::Genesis => false,
            // A key that was ever an administrator never returns: re-adding needs a new key.
            Operation::Add => !self
                .admins
                .iter()
                .any(|a| a.identity.key_id() == subject_id),
            Operation::Remove => {
                self.admin_at(head.seq, &subject_id).is_some() && self.current_admins().len() > 1
            }
        };
        if !allowed {
            return Err(fail(Fault::InvalidOperation));
        }
        signer
            .verify(&entry.signed_bytes(), &entry.signature)
            .map_err(|_| fail(Fault::BadSignature))
    }

    fn apply(&mut self, entry: &DirectoryEntry) {
        let subject_id = entry.subject.key_id();
        match entry.op {
            Operation::Genesis => {}
            Operation::Add => self.admins.push(AdminRecord {
                identity: entry.subject.clone(),
                added_at: entry.seq,
                removed_at: None,
            }),
            Operation::Remove => {
                for admin in &mut self.admins {
                    if admin.identity.key_id() == subject_id && admin.removed_at.is_none() {
                        admin.removed_at = Some(entry.seq);
                    }
                }
                self.removals.push(entry.seq);
            }
        }
        self.hashes.push(entry.hash());
        self.entries.push(entry.clone());
    }

    /// The last entry's position and hash.
    pub fn head(&self) -> DirectoryHead {
        let seq = self.head_seq();
        // A verified directory always holds its genesis entry.
        DirectoryHead {
            seq,
            hash: self.hashes.last().copied().unwrap_or([0u8; 32]),
        }
    }

    /// The instance fingerprint (spec §7.6): the genesis entry's hash in the word-group form
    /// of key fingerprints (§4.3), 35 characters. It names the instance's directory for good.
    pub fn instance_fingerprint(&self) -> String {
        // A verified directory always holds its genesis entry.
        fingerprint_of(self.hashes.first().unwrap_or(&[0u8; 32]))
    }

    /// Sequence number of the last entry.
    pub fn head_seq(&self) -> u64 {
        self.entries.len() as u64 - 1
    }

    /// The verified entries, genesis first.
    pub fn entries(&self) -> &[DirectoryEntry] {
        &self.entries
    }

    /// Checks that this log extends a head pinned earlier (spec §7.4).
    ///
    /// # Errors
    /// [`Error::DirectoryRollback`] if the log is shorter than the pinned head;
    /// [`Error::DirectoryFork`] if its entry at the pinned position has another hash.
    pub fn check_extends(&self, pinned: &DirectoryHead) -> Result<()> {
        let index = usize::try_from(pinned.seq).map_err(|_| Error::DirectoryRollback)?;
        match self.hashes.get(index) {
            None => Err(Error::DirectoryRollback),
            Some(hash) if *hash != pinned.hash => Err(Error::DirectoryFork),
            Some(_) => Ok(()),
        }
    }

    /// The administrator with `key_id` if it was a member at directory position `seq`
    /// (added at or before `seq` and not removed at or before `seq`).
    pub fn admin_at(&self, seq: u64, key_id: &KeyId) -> Option<&PublicIdentity> {
        self.admins
            .iter()
            .find(|a| {
                a.identity.key_id() == *key_id
                    && a.added_at <= seq
                    && a.removed_at.is_none_or(|removed| removed > seq)
            })
            .map(|a| &a.identity)
    }

    /// The administrators at directory position `seq`, in the order they were added.
    pub fn admins_at(&self, seq: u64) -> Vec<&PublicIdentity> {
        self.admins
            .iter()
            .filter(|a| a.added_at <= seq && a.removed_at.is_none_or(|removed| removed > seq))
            .map(|a| &a.identity)
            .collect()
    }

    /// The administrators at the head: the only keys a client may encrypt to.
    pub fn current_admins(&self) -> Vec<&PublicIdentity> {
        self.admins_at(self.head_seq())
    }

    /// Whether any administrator was removed at a position in `(after, up_to]`.
    pub fn removed_between(&self, after: u64, up_to: u64) -> bool {
        self.removals.iter().any(|&seq| seq > after && seq <= up_to)
    }
}

/// Decodes encoded entries, reporting the first that fails by its log position.
/// Decodes one entry, reporting a failure by its log position.
fn decode_entry(bytes: &[u8], index: u64) -> Result<DirectoryEntry> {
    DirectoryEntry::from_bytes(bytes).map_err(|_| Error::Directory {
        index,
        fault: Fault::Malformed,
    })
}

impl Directory {
    /// Decodes and verifies `entries` as the continuation of this log (the answer to "read
    /// since my head").
    ///
    /// # Errors
    /// As [`Directory::extend`].
    pub fn extend_encoded<B: AsRef<[u8]>>(&mut self, entries: &[B]) -> Result<()> {
        // Decode and check one entry at a time, so the error names the first broken entry in
        // log order whatever is wrong with it.
        let mut next = self.clone();
        for bytes in entries {
            let entry = decode_entry(bytes.as_ref(), next.head_seq() + 1)?;
            next.check_entry(&entry)?;
            next.apply(&entry);
        }
        *self = next;
        Ok(())
    }
}
