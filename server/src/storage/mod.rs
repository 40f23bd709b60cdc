//! Storage behind a trait, so that a second backend (PostgreSQL) can be added without touching
//! the HTTP handlers. Everything stored is ciphertext or the metadata listed in
//! `spec/THREAT-MODEL.md`; no method takes plaintext.
//!
//! Contract for every implementation:
//! - every method that writes several keys is atomic: all or nothing;
//! - a write is durable only after [`Store::commit`] has returned `Ok` (handlers call it before
//!   answering 2xx); implementations batch concurrent commits into one flush (group commit);
//! - conflicts (a sequence number or id already taken) are reported as [`StoreError::Conflict`]
//!   and change nothing.

pub mod commit_record;
pub mod permissions;
mod sled_index;
#[cfg(test)]
mod sled_index_tests;
pub mod sled_store;

use std::future::Future;
use std::pin::Pin;

use serde::{Deserialize, Serialize};

/// Schema version this binary writes. A data directory with a newer version is refused; one
/// of version 1 (before the ticket indexes) gets its indexes built when opened.
pub const SCHEMA_VERSION: u32 = 2;

/// Errors of the storage layer.
#[derive(Debug)]
pub enum StoreError {
    /// The write conflicts with the current state (taken id, stale sequence number); nothing
    /// was changed.
    Conflict(&'static str),
    /// The data directory was written by a newer Sealdesk (schema version found, supported).
    NewerSchema(u32, u32),
    /// The database holds fewer group commits than the record beside it says were
    /// acknowledged ([`commit_record`]): acknowledged writes are missing.
    LostWrites {
        /// The commits the database holds.
        stored: commit_record::Commits,
        /// The commits acknowledged, by the record.
        acknowledged: commit_record::Commits,
    },
    /// The record of acknowledged commits beside the database (its path) is damaged, so
    /// whether writes were lost cannot be told.
    CommitRecordDamaged(std::path::PathBuf),
    /// An I/O or database failure; the message is for logs and never contains stored content.
    Backend(String),
}

/// What an operator does about [`StoreError::LostWrites`] and
/// [`StoreError::CommitRecordDamaged`] (README.md, "Damaged data").
const RESTORE_ADVICE: &str = "Stop here and keep this data directory as it is. Restore the \
     latest backup with `sealdesk restore BACKUP_FILE --force` (the damaged directory is moved \
     aside, not deleted), then run `sealdesk check`; writes made after that backup are lost. \
     `sealdesk check` reports what the damaged copy still holds. To start anyway on what is \
     left, accepting that the missing writes are lost for good: `sealdesk serve \
     --accept-data-loss`.";

impl std::fmt::Display for StoreError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StoreError::Conflict(what) => write!(f, "conflict: {what}"),
            StoreError::NewerSchema(found, supported) => write!(
                f,
                "the data directory has schema version {found}, newer than the {supported} this \
                 sealdesk supports: upgrade sealdesk or restore a backup"
            ),
            StoreError::LostWrites {
                stored,
                acknowledged,
            } => write!(
                f,
                "the database lost acknowledged writes: it holds {} group commits, but {} were \
                 acknowledged, so the last {} are missing: every write acknowledged after {} up \
                 to {} (tickets, messages, accounts, uploads, directory entries). This happens \
                 when the database file is damaged (a failing disk): the database drops the \
                 damaged record and everything written after it. {RESTORE_ADVICE}",
                stored.count,
                acknowledged.count,
                acknowledged.count.saturating_sub(stored.count),
                commit_record::utc(stored.at),
                commit_record::utc(acknowledged.at),
            ),
            StoreError::CommitRecordDamaged(path) => write!(
                f,
                "the record of acknowledged writes {} is damaged, so whether the database lost \
                 writes cannot be told (the disk may be failing). {RESTORE_ADVICE}",
                path.display()
            ),
            StoreError::Backend(message) => write!(f, "storage failure: {message}"),
        }
    }
}

impl std::error::Error for StoreError {}

/// Shorthand for storage results.
pub type StoreResult<T> = Result<T, StoreError>;

/// Who may read a ticket besides the administrators.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Owner {
    /// An anonymous reporter, by the SHA-256 hash of its access token (PROTOCOL.md §11).
    Anonymous {
        /// `token_hash` of the access token, 32 bytes.
        access_token_hash: [u8; 32],
    },
    /// An account holder, by account id.
    Account {
        /// The account's id.
        account_id: String,
    },
}

/// A ticket's status: it follows the signed close, reopen, waiting and on hold messages and
/// the reporter's messages (PROTOCOL.md §10.3).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Status {
    /// Open.
    Open,
    /// Closed.
    Closed,
    /// Waiting for the reporter.
    Waiting,
    /// On hold.
    OnHold,
}

/// The metadata of a ticket (no content: subject, category and names are inside messages).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TicketRecord {
    /// The 16-byte ticket id.
    pub id: [u8; 16],
    /// The first reporter key: a 64-byte public identity (PROTOCOL.md §4.2).
    pub reporter: Vec<u8>,
    /// Unused: before endorse messages (PROTOCOL.md §8.2, kind 8), endorsements were stored
    /// beside the chains here. Endorsed keys now live in the conversation's chain state; the
    /// field stays so records written before still decode (and records without it too).
    #[serde(default)]
    pub endorsements: Vec<Vec<u8>>,
    /// Who may read it besides the administrators.
    pub owner: Owner,
    /// Accounts that keep this (anonymous) ticket in their list: each account's id, added when
    /// the reporter's client endorsed that account's identity as its own second key
    /// (PROTOCOL.md §8.2 grounds `0x02`, spec/API.md "Keeping a ticket in an account"). The
    /// account's session then reads and posts as the owner's does. Records without it decode.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub kept_by: Vec<String>,
    /// Creation time, Unix seconds.
    pub created_at: u64,
    /// Time of the last message on either chain, Unix seconds.
    pub last_activity: u64,
    /// Open, closed, waiting or on hold.
    pub status: Status,
    /// Whether the last conversation message was written by an administrator.
    pub answered: bool,
    /// Key id of the administrator the ticket is assigned to, if any.
    pub assigned_to: Option<[u8; 32]>,
    /// If the reporter gave an address for "resend access link": a keyed hash of it
    /// (`api::accounts::email_lookup`), never the address itself.
    pub email_lookup: Option<[u8; 32]>,
    /// Verified state of each chain (`sealdesk_crypto::ChainState::to_bytes`), conversation
    /// first, then notes. The server continues verification from it.
    pub chain_states: [Vec<u8>; 2],
    /// Bytes of ciphertext stored for this ticket (messages, wraps, attachments).
    pub storage_bytes: u64,
}

/// One stored message: its encoding (PROTOCOL.md §9.4) and when the server received it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredMessage {
    /// Position on its chain.
    pub seq: u64,
    /// Unix seconds when the server accepted it.
    pub received_at: u64,
    /// The encoded message.
    pub bytes: Vec<u8>,
}

/// One stored wrapped key (PROTOCOL.md §6), indexed by chain, epoch and recipient.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WrapRecord {
    /// 0 conversation, 1 notes.
    pub chain: u8,
    /// The epoch.
    pub epoch: u32,
    /// Key id of the recipient.
    pub recipient: [u8; 32],
    /// The encoded wrapped key (238 bytes).
    pub bytes: Vec<u8>,
}

/// Which tickets an inbox list holds, by status (PROTOCOL.md §10.3).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum StatusFilter {
    /// Every ticket.
    All,
    /// Open tickets.
    Open,
    /// Closed tickets.
    Closed,
    /// Tickets waiting for the reporter.
    Waiting,
    /// Tickets on hold.
    OnHold,
    /// Open tickets whose last conversation message is not an administrator's.
    Unanswered,
}

impl StatusFilter {
    /// Whether `ticket` belongs to this filter.
    pub fn matches(self, ticket: &TicketRecord) -> bool {
        match self {
            StatusFilter::All => true,
            StatusFilter::Open => ticket.status == Status::Open,
            StatusFilter::Closed => ticket.status == Status::Closed,
            StatusFilter::Waiting => ticket.status == Status::Waiting,
            StatusFilter::OnHold => ticket.status == Status::OnHold,
            StatusFilter::Unanswered => ticket.status == Status::Open && !ticket.answered,
        }
    }
}

/// Which tickets an inbox list holds, by assignee.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum AssigneeFilter {
    /// Whoever is assigned, or nobody.
    Any,
    /// Assigned to nobody.
    Unassigned,
    /// Assigned to the administrator with this key id.
    To([u8; 32]),
}

impl AssigneeFilter {
    /// Whether `ticket` belongs to this filter.
    pub fn matches(&self, ticket: &TicketRecord) -> bool {
        match self {
            AssigneeFilter::Any => true,
            AssigneeFilter::Unassigned => ticket.assigned_to.is_none(),
            AssigneeFilter::To(key) => ticket.assigned_to.as_ref() == Some(key),
        }
    }
}

/// The tickets a list holds.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum TicketSet {
    /// The administrators' inbox under a status and an assignee filter.
    Inbox {
        /// By status.
        status: StatusFilter,
        /// By assignee.
        assignee: AssigneeFilter,
    },
    /// The tickets owned by the account with this id ([`Owner::Account`]) and the ones it keeps
    /// ([`TicketRecord::kept_by`]).
    Account(String),
}

impl TicketSet {
    /// Whether `ticket` belongs to this set.
    pub fn matches(&self, ticket: &TicketRecord) -> bool {
        match self {
            TicketSet::Inbox { status, assignee } => {
                status.matches(ticket) && assignee.matches(ticket)
            }
            TicketSet::Account(account_id) => {
                matches!(&ticket.owner, Owner::Account { account_id: owner } if owner == account_id)
                    || ticket.kept_by.contains(account_id)
            }
        }
    }
}

/// The order of a list by `(last_activity, id)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Order {
    /// Greatest `(last_activity, id)` first: newest activity first.
    NewestFirst,
    /// Smallest `(last_activity, id)` first: oldest activity first.
    OldestFirst,
}

/// A position in a list: the sort key of a ticket, after which a page continues (keyset
/// pagination, so that tickets changing between pages cause neither duplicates nor gaps among
/// the others).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ListPosition {
    /// The ticket's last activity, Unix seconds.
    pub last_activity: u64,
    /// The ticket's id.
    pub id: [u8; 16],
}

impl ListPosition {
    /// The position of `ticket`.
    pub fn of(ticket: &TicketRecord) -> ListPosition {
        ListPosition {
            last_activity: ticket.last_activity,
            id: ticket.id,
        }
    }
}

/// A request for one page of a list ([`Store::list_tickets`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TicketListQuery {
    /// Which tickets.
    pub set: TicketSet,
    /// In which order.
    pub order: Order,
    /// Only tickets strictly after this position in `order`.
    pub after: Option<ListPosition>,
    /// Tickets to skip first (numbered pages of older clients; 0 with a cursor).
    pub skip: usize,
    /// At most this many tickets.
    pub limit: usize,
}

/// One page of a list.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TicketListPage {
    /// The tickets, in the asked order.
    pub tickets: Vec<TicketRecord>,
    /// Whether tickets follow the last one.
    pub more: bool,
}

/// The number of tickets per inbox filter ([`Store::ticket_counts`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TicketCounts {
    /// Every ticket.
    pub all: u64,
    /// Open tickets.
    pub open: u64,
    /// Closed tickets.
    pub closed: u64,
    /// Tickets waiting for the reporter.
    pub waiting: u64,
    /// Tickets on hold.
    pub on_hold: u64,
    /// Open tickets not answered.
    pub unanswered: u64,
    /// Tickets not closed, assigned to the administrator asked about.
    pub assigned_to_me: u64,
    /// Tickets not closed, assigned to nobody.
    pub unassigned: u64,
}

/// A boxed future, so that [`Store`] stays object-safe.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// The storage backend. See the module documentation for the contract.
pub trait Store: Send + Sync + 'static {
    /// Makes every write that returned before this call durable (flushed to disk). Concurrent
    /// callers share one flush.
    fn commit(&self) -> BoxFuture<'_, StoreResult<()>>;

    /// Approximate bytes on disk, for `/metrics`.
    fn size_on_disk(&self) -> StoreResult<u64>;

    /// Group-commit flushes performed since opening, for `/metrics` (0 if not counted).
    fn flushes(&self) -> u64 {
        0
    }

    // ---- directory log (PROTOCOL.md §7) ----

    /// The encoded directory entries from position `from` on, in order.
    fn directory(&self, from: u64) -> StoreResult<Vec<Vec<u8>>>;

    /// Appends an (already verified) entry at position `seq`. `Conflict` unless `seq` equals
    /// the number of stored entries.
    fn append_directory(&self, seq: u64, entry: &[u8]) -> StoreResult<()>;

    // ---- tickets ----

    /// Stores a new ticket with its first message and wraps. `Conflict` if the id exists.
    fn create_ticket(
        &self,
        ticket: &TicketRecord,
        first: &StoredMessage,
        wraps: &[WrapRecord],
    ) -> StoreResult<()> {
        self.create_ticket_with(ticket, first, wraps, &[])
    }

    /// [`Store::create_ticket`] and the generic record writes `extra` in one atomic write
    /// (the mail outbox queues a mail in the same write as the event that causes it).
    fn create_ticket_with(
        &self,
        ticket: &TicketRecord,
        first: &StoredMessage,
        wraps: &[WrapRecord],
        extra: &[RecordWrite],
    ) -> StoreResult<()>;

    /// The ticket with `id`.
    fn ticket(&self, id: &[u8; 16]) -> StoreResult<Option<TicketRecord>>;

    /// One page of a ticket list from the indexes: the tickets of `query.set` in the order
    /// of `(last_activity, id)` (`query.order`), after `query.after` when given, skipping
    /// `query.skip`, at most `query.limit`, and whether more follow. Never reads every
    /// ticket: O(log n + skip + limit).
    fn list_tickets(&self, query: &TicketListQuery) -> StoreResult<TicketListPage>;

    /// The number of tickets per inbox filter, kept as counters with the tickets (O(1));
    /// `assigned_to_me` counts the tickets not closed assigned to `me`.
    fn ticket_counts(&self, me: &[u8; 32]) -> StoreResult<TicketCounts>;

    /// The number of open tickets ([`Status::Open`]) owned by account `account_id` (O(1)).
    fn open_tickets_of_account(&self, account_id: &str) -> StoreResult<u64>;

    /// The ids of the tickets not closed whose `email_lookup` is `lookup`, for recovery by
    /// mail (O(log n + found)).
    fn tickets_by_email_lookup(&self, lookup: &[u8; 32]) -> StoreResult<Vec<[u8; 16]>>;

    /// Replaces a ticket's metadata without adding messages (assignment).
    /// `Conflict` if the ticket does not exist.
    fn update_ticket(&self, ticket: &TicketRecord) -> StoreResult<()> {
        self.update_ticket_with(ticket, &[])
    }

    /// [`Store::update_ticket`] and the generic record writes `extra` in one atomic write.
    fn update_ticket_with(&self, ticket: &TicketRecord, extra: &[RecordWrite]) -> StoreResult<()>;

    /// Appends a verified message on `chain` together with its wraps and the updated ticket
    /// metadata, atomically. `Conflict` if the chain's last stored seq is not
    /// `message.seq - 1` (someone else posted first) or a wrap for the same (chain, epoch,
    /// recipient) exists.
    fn append_message(
        &self,
        ticket: &TicketRecord,
        chain: u8,
        message: &StoredMessage,
        wraps: &[WrapRecord],
    ) -> StoreResult<()> {
        self.append_message_with(ticket, chain, message, wraps, &[])
    }

    /// [`Store::append_message`] and the generic record writes `extra` in one atomic write.
    fn append_message_with(
        &self,
        ticket: &TicketRecord,
        chain: u8,
        message: &StoredMessage,
        wraps: &[WrapRecord],
        extra: &[RecordWrite],
    ) -> StoreResult<()>;

    /// Messages of `chain` with seq greater than `after`, in order, at most `limit`.
    fn messages(
        &self,
        id: &[u8; 16],
        chain: u8,
        after: u64,
        limit: usize,
    ) -> StoreResult<Vec<StoredMessage>>;

    /// Like [`Store::messages`], and stops before the message that would take the total of
    /// message bytes over `max_bytes` (the first message is always included, so a page is
    /// never empty while messages follow). Returns the page and whether more messages follow.
    /// Backends should stop reading at the budget; this default reads `limit + 1` messages.
    fn messages_within(
        &self,
        id: &[u8; 16],
        chain: u8,
        after: u64,
        limit: usize,
        max_bytes: usize,
    ) -> StoreResult<(Vec<StoredMessage>, bool)> {
        let mut messages = self.messages(id, chain, after, limit.saturating_add(1))?;
        let mut total = 0usize;
        let mut keep = 0usize;
        for message in messages.iter().take(limit) {
            total = total.saturating_add(message.bytes.len());
            if keep > 0 && total > max_bytes {
                break;
            }
            keep += 1;
        }
        let more = messages.len() > keep;
        messages.truncate(keep);
        Ok((messages, more))
    }

    /// Stores further wraps of existing epochs (history for a new administrator, keys for an
    /// endorsed reporter key). `Conflict` if one already exists.
    fn put_wraps(&self, id: &[u8; 16], wraps: &[WrapRecord]) -> StoreResult<()>;

    /// The wraps of `chain` addressed to `recipient`, by epoch.
    fn wraps_for(
        &self,
        id: &[u8; 16],
        chain: u8,
        recipient: &[u8; 32],
    ) -> StoreResult<Vec<WrapRecord>>;

    /// Deletes `ticket` and everything stored under its id: its record (with the access token
    /// hash and the email lookup), the messages of both chains, the wraps, the attachments'
    /// records and chunks (spec/API.md, "Deleting a ticket"). The record, messages, wraps and
    /// attachments found go in one transaction; `Conflict`, deleting nothing, if the stored
    /// record is no longer `ticket` (someone wrote since it was read) or is gone. Anything
    /// written under the id while the transaction ran is removed after it (no message can be
    /// appended once the record is gone). Returns the number of keys removed.
    fn delete_ticket(&self, ticket: &TicketRecord) -> StoreResult<usize>;

    // ---- generic records: accounts, sessions, invites, pending administrators,
    // attachments. Values are serialized records of the handlers' own types. ----

    /// Reads a record of `kind` (a fixed table name) by key.
    fn get(&self, kind: RecordKind, key: &[u8]) -> StoreResult<Option<Vec<u8>>>;

    /// Writes a record; with `create_only`, `Conflict` if the key exists.
    fn put(&self, kind: RecordKind, key: &[u8], value: &[u8], create_only: bool)
    -> StoreResult<()>;

    /// Removes a record and returns it (atomically: two concurrent takes never both succeed).
    fn take(&self, kind: RecordKind, key: &[u8]) -> StoreResult<Option<Vec<u8>>>;

    /// Every record of `kind` whose key starts with `prefix`, in key order.
    fn scan(&self, kind: RecordKind, prefix: &[u8]) -> StoreResult<Vec<(Vec<u8>, Vec<u8>)>>;

    /// Applies every write of `writes` (puts and removals, in order) atomically: all or none.
    fn write_records(&self, writes: &[RecordWrite]) -> StoreResult<()>;
}

/// Reads every ticket record. Only `sealdesk check`, backup and migrations use it: the state
/// that request handlers reach holds a `dyn Store`, which does not offer it (issue 13: no
/// request reads every ticket; `tests/layout.rs` checks that no other module names it).
pub trait TicketScan {
    /// Every ticket's metadata, in id order.
    ///
    /// # Errors
    /// Read errors and corrupt records.
    fn all_tickets(&self) -> StoreResult<Vec<TicketRecord>>;
}

/// One write of a generic record, applied together with others ([`Store::write_records`],
/// and the `*_with` methods that add them to a ticket write).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RecordWrite {
    /// The table.
    pub kind: RecordKind,
    /// The record's key.
    pub key: Vec<u8>,
    /// The new value; `None` removes the record.
    pub value: Option<Vec<u8>>,
}

impl RecordWrite {
    /// A write that stores `value` under `key` (replacing any record there).
    pub fn put(kind: RecordKind, key: impl Into<Vec<u8>>, value: Vec<u8>) -> Self {
        RecordWrite {
            kind,
            key: key.into(),
            value: Some(value),
        }
    }

    /// A write that removes the record under `key` (nothing if there is none).
    pub fn remove(kind: RecordKind, key: impl Into<Vec<u8>>) -> Self {
        RecordWrite {
            kind,
            key: key.into(),
            value: None,
        }
    }
}

/// The tables of generic records.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RecordKind {
    /// Accounts, by account id.
    Account,
    /// Sessions, by token hash.
    Session,
    /// Administrator invites, by token hash.
    Invite,
    /// Redeemed invites waiting for an administrator's directory entry, by key id.
    PendingAdmin,
    /// Attachment metadata, by ticket id and attachment id (`api::attachments`).
    Attachment,
    /// Attachment chunks, by ticket id, attachment id and big-endian chunk index (u64).
    AttachmentChunk,
    /// Instance settings (categories, languages, hours), by name.
    Setting,
    /// Queued mails, by mail id (16 bytes): `mail::outbox`.
    Outbox,
    /// Notification subscriptions (a reporter's ticket, an account), by target: `mail::subscriptions`.
    Subscription,
    /// Unsubscribe tokens, by the SHA-256 hash of the token: `mail::subscriptions`.
    MailToken,
    /// Administrators' mail preferences, by key id (32 bytes): `mail::preferences`.
    MailPreference,
    /// Mailed recovery tokens, by token hash (`recovery`, spec/API.md "Recovery").
    RecoveryToken,
    /// Pending recovery claims, by ticket id (16 bytes) and claimed key id (32 bytes).
    RecoveryClaim,
    /// Reader tokens of approved recoveries, by token hash; the value is the 16-byte ticket id.
    RecoveryReader,
    /// Wrapped team keys (PROTOCOL.md §18.2), by `u32be(epoch) || recipient key id`:
    /// `snippets`.
    TeamWrap,
    /// Snippets (canned replies, PROTOCOL.md §18.3), by 16-byte snippet id: `snippets`.
    Snippet,
}

impl RecordKind {
    /// The table name.
    pub fn table(self) -> &'static str {
        match self {
            RecordKind::Account => "accounts",
            RecordKind::Session => "sessions",
            RecordKind::Invite => "invites",
            RecordKind::PendingAdmin => "pending_admins",
            RecordKind::Attachment => "attachments",
            RecordKind::AttachmentChunk => "attachment_chunks",
            RecordKind::Setting => "settings",
            RecordKind::Outbox => "outbox",
            RecordKind::Subscription => "subscriptions",
            RecordKind::MailToken => "mail_tokens",
            RecordKind::MailPreference => "mail_preferences",
            RecordKind::RecoveryToken => "recovery_tokens",
            RecordKind::RecoveryClaim => "recovery_claims",
            RecordKind::RecoveryReader => "recovery_readers",
            RecordKind::TeamWrap => "team_wraps",
            RecordKind::Snippet => "snippets",
        }
    }
}
