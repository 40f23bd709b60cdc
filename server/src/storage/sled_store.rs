//! The default backend: an embedded sled database in the data directory.
//!
//! Layout (all integers big-endian, so that key order is numeric order):
//! - `meta`: `schema_version` → u32; `commits` → group commits made (u64) ‖ Unix seconds of
//!   the last (u64), see [`super::commit_record`];
//! - `directory`: seq (u64) → encoded entry;
//! - `tickets`: id (16) → JSON of [`TicketRecord`];
//! - `messages`: id (16) ‖ chain (1) ‖ seq (u64) → received_at (u64) ‖ encoded message;
//! - `wraps`: id (16) ‖ chain (1) ‖ epoch (u32) ‖ recipient (32) → encoded wrapped key;
//! - `ticket_index`, `ticket_counts`: the secondary indexes and counters over `tickets`
//!   ([`super::sled_index`]), written in the transaction that writes the ticket record; built
//!   from the records when a data directory of schema version 1 is opened;
//! - one tree per [`RecordKind::table`], keyed and valued by the handlers.
//!
//! Multi-key writes run in one sled transaction over the trees they touch, with their conflict
//! checks inside it (sled transactions are serializable), so a conflict changes nothing.
//!
//! Durability: writes reach the disk on [`Store::commit`], which hands the caller to a
//! dedicated flusher thread. Every caller that registers while a flush is running is served by
//! the next flush, so concurrent commits share one `fsync` (group commit).
//!
//! Acknowledged writes: each flush first raises the `meta` tree's commit count (so the count is
//! part of the flush), and once the flush succeeded writes it to the record beside the
//! database ([`super::commit_record`]), synced, before the commits it covers are answered. At
//! open, a database holding fewer commits than the record has lost acknowledged writes: see
//! [`OnLostWrites`].
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use sled::transaction::{
    ConflictableTransactionError, ConflictableTransactionResult, TransactionError, Transactional,
};
use sled::{Db, Tree};
use tokio::sync::oneshot;

use super::commit_record::{self, Commits, Recorded};
use super::sled_index;
use super::{
    BoxFuture, RecordKind, RecordWrite, SCHEMA_VERSION, Store, StoreError, StoreResult,
    StoredMessage, TicketCounts, TicketListPage, TicketListQuery, TicketRecord, TicketScan,
    WrapRecord,
};

/// Key of the schema version in the `meta` tree.
const SCHEMA_KEY: &[u8] = b"schema_version";
/// Key of the group-commit count in the `meta` tree ([`Commits::to_bytes`]).
const COMMITS_KEY: &[u8] = b"commits";

/// What [`SledStore::open_with`] does when the database holds fewer group commits than the
/// record of acknowledged writes (or that record is damaged).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OnLostWrites {
    /// Refuse to open: [`StoreError::LostWrites`] or [`StoreError::CommitRecordDamaged`]
    /// (`sealdesk serve`).
    Refuse,
    /// Open anyway, log the loss at error level and make the record match the database from
    /// now on (`sealdesk serve --accept-data-loss`).
    Accept,
    /// Open and leave the record as it is, for a report (`sealdesk check`); commits are not
    /// recorded (the store is for reading).
    Inspect,
}

/// The database's commit count beside the record's, as found at open.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Integrity {
    /// The commits the database holds.
    pub stored: Commits,
    /// What the record beside it says was acknowledged.
    pub acknowledged: Recorded,
    /// The record's path.
    pub record: PathBuf,
}

impl Integrity {
    /// The error that describes a loss, if the database holds fewer commits than were
    /// acknowledged or the record is damaged; `None` when nothing acknowledged is missing.
    pub fn problem(&self) -> Option<StoreError> {
        match self.acknowledged {
            Recorded::Count(acknowledged) if acknowledged.count > self.stored.count => {
                Some(StoreError::LostWrites {
                    stored: self.stored,
                    acknowledged,
                })
            }
            Recorded::Damaged => Some(StoreError::CommitRecordDamaged(self.record.clone())),
            Recorded::Count(_) | Recorded::Missing => None,
        }
    }
}

/// Every generic record table, in the order of [`kind_index`].
const KINDS: [RecordKind; 16] = [
    RecordKind::Account,
    RecordKind::Session,
    RecordKind::Invite,
    RecordKind::PendingAdmin,
    RecordKind::Attachment,
    RecordKind::AttachmentChunk,
    RecordKind::Setting,
    RecordKind::Outbox,
    RecordKind::Subscription,
    RecordKind::MailToken,
    RecordKind::MailPreference,
    RecordKind::RecoveryToken,
    RecordKind::RecoveryClaim,
    RecordKind::RecoveryReader,
    RecordKind::TeamWrap,
    RecordKind::Snippet,
];

fn kind_index(kind: RecordKind) -> usize {
    match kind {
        RecordKind::Account => 0,
        RecordKind::Session => 1,
        RecordKind::Invite => 2,
        RecordKind::PendingAdmin => 3,
        RecordKind::Attachment => 4,
        RecordKind::AttachmentChunk => 5,
        RecordKind::Setting => 6,
        RecordKind::Outbox => 7,
        RecordKind::Subscription => 8,
        RecordKind::MailToken => 9,
        RecordKind::MailPreference => 10,
        RecordKind::RecoveryToken => 11,
        RecordKind::RecoveryClaim => 12,
        RecordKind::RecoveryReader => 13,
        RecordKind::TeamWrap => 14,
        RecordKind::Snippet => 15,
    }
}

/// What a flush reports to the commits it covers (a `String` because [`StoreError`] is not
/// `Clone`).
type FlushOutcome = Result<(), String>;

/// State shared between the store and its flusher thread.
struct Shared {
    state: Mutex<FlushState>,
    /// Signalled when a commit registers or the store stops.
    wake: Condvar,
    /// Number of flushes the flusher performed.
    flushes: AtomicU64,
    /// Test hook: the number of upcoming flushes that report a failure.
    #[cfg(test)]
    fail_flushes: AtomicU64,
}

struct FlushState {
    /// Commits waiting for the next flush. Each was registered after its writes returned.
    waiting: Vec<oneshot::Sender<FlushOutcome>>,
    /// Set when the store is dropped (or the flusher exits): no new commits are accepted.
    stop: bool,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, FlushState> {
        // Nothing panics while holding the lock; recover the state regardless.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Marks the flusher as gone when its thread exits, even by a panic: waiting commits then get
/// an error (their senders are dropped) instead of hanging, and new commits are refused.
struct FlusherExit(Arc<Shared>);

impl Drop for FlusherExit {
    fn drop(&mut self) {
        let mut state = self.0.lock();
        state.stop = true;
        state.waiting.clear();
    }
}

/// What the flusher needs to count and record commits.
struct Recording {
    meta: Tree,
    /// `None` for a store opened with [`OnLostWrites::Inspect`].
    record: Option<commit_record::Writer>,
    /// The last count written to `meta`.
    commits: Commits,
}

impl Recording {
    /// Raises the count in `meta`, flushes, then records the count beside the database.
    fn flush(&mut self, db: &Db) -> FlushOutcome {
        let next = Commits {
            count: self.commits.count.saturating_add(1),
            at: crate::clock::now(),
        };
        self.meta
            .insert(COMMITS_KEY, &next.to_bytes()[..])
            .map_err(|e| e.to_string())?;
        self.commits = next;
        db.flush().map_err(|e| e.to_string())?;
        if let Some(record) = &self.record {
            record
                .write(next)
                .map_err(|e| format!("cannot write the record of acknowledged commits: {e}"))?;
        }
        Ok(())
    }
}

/// The flusher thread: sleeps until commits are waiting, takes all of them, flushes once
/// (raising and recording the commit count) and answers each with the outcome of that flush.
fn flusher(db: Db, shared: Arc<Shared>, mut recording: Recording) {
    let _exit = FlusherExit(Arc::clone(&shared));
    loop {
        let batch = {
            let mut state = shared.lock();
            // The check and the sleep happen under the lock that `commit` takes to register,
            // and `Condvar::wait` releases it atomically: a registration either happens before
            // the check (and is seen) or after the sleep began (and its notification wakes us).
            while state.waiting.is_empty() && !state.stop {
                state = shared
                    .wake
                    .wait(state)
                    .unwrap_or_else(PoisonError::into_inner);
            }
            if state.waiting.is_empty() {
                // Stopped with nobody waiting.
                return;
            }
            std::mem::take(&mut state.waiting)
        };
        // Every commit in `batch` registered after its writes returned and before this flush
        // starts, so this flush covers them.
        let outcome: FlushOutcome = recording.flush(&db);
        #[cfg(test)]
        let outcome = if shared
            .fail_flushes
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
            .is_ok()
        {
            Err("injected flush failure".to_owned())
        } else {
            outcome
        };
        shared.flushes.fetch_add(1, Ordering::Relaxed);
        if let Err(message) = &outcome {
            tracing::error!(error = %message, "flushing the database failed");
        }
        for waiter in batch {
            // A commit whose future was dropped no longer listens; that is fine.
            let _ = waiter.send(outcome.clone());
        }
    }
}

/// The sled backend. See the module documentation.
pub struct SledStore {
    db: Db,
    directory: Tree,
    tickets: Tree,
    index: Tree,
    counts: Tree,
    messages: Tree,
    wraps: Tree,
    records: [Tree; KINDS.len()],
    shared: Arc<Shared>,
    flusher: Option<JoinHandle<()>>,
    integrity: Integrity,
    /// False for a directory of schema version 1 opened for inspection (its indexes are built
    /// at the next writable open).
    indexes_built: bool,
}

fn backend(error: sled::Error) -> StoreError {
    StoreError::Backend(error.to_string())
}

/// Runs `f` as one serializable sled transaction over `trees`, retrying on internal conflicts.
fn transact<T, A>(
    trees: &T,
    f: impl Fn(&T::View) -> ConflictableTransactionResult<A, StoreError>,
) -> StoreResult<A>
where
    T: Transactional<StoreError> + ?Sized,
{
    trees.transaction(f).map_err(|error| match error {
        TransactionError::Abort(error) => error,
        TransactionError::Storage(error) => backend(error),
    })
}

fn abort<A>(what: &'static str) -> ConflictableTransactionResult<A, StoreError> {
    Err(ConflictableTransactionError::Abort(StoreError::Conflict(
        what,
    )))
}

fn chain_prefix(id: &[u8; 16], chain: u8) -> [u8; 17] {
    let mut key = [0; 17];
    key[..16].copy_from_slice(id);
    key[16] = chain;
    key
}

fn message_key(id: &[u8; 16], chain: u8, seq: u64) -> [u8; 25] {
    let mut key = [0; 25];
    key[..17].copy_from_slice(&chain_prefix(id, chain));
    key[17..].copy_from_slice(&seq.to_be_bytes());
    key
}

fn wrap_key(id: &[u8; 16], wrap: &WrapRecord) -> [u8; 53] {
    let mut key = [0; 53];
    key[..17].copy_from_slice(&chain_prefix(id, wrap.chain));
    key[17..21].copy_from_slice(&wrap.epoch.to_be_bytes());
    key[21..].copy_from_slice(&wrap.recipient);
    key
}

fn message_value(message: &StoredMessage) -> Vec<u8> {
    let mut value = Vec::with_capacity(8 + message.bytes.len());
    value.extend_from_slice(&message.received_at.to_be_bytes());
    value.extend_from_slice(&message.bytes);
    value
}

fn encode_ticket(ticket: &TicketRecord) -> StoreResult<Vec<u8>> {
    serde_json::to_vec(ticket)
        .map_err(|e| StoreError::Backend(format!("cannot encode a ticket record: {e}")))
}

fn decode_ticket(bytes: &[u8]) -> StoreResult<TicketRecord> {
    serde_json::from_slice(bytes)
        .map_err(|e| StoreError::Backend(format!("corrupt ticket record: {e}")))
}

/// Every ticket record of `tree` (for check, backup and migration only: never a request).
fn all_tickets(tree: &Tree) -> StoreResult<Vec<TicketRecord>> {
    tree.iter()
        .values()
        .map(|value| decode_ticket(&value.map_err(backend)?))
        .collect()
}

fn be_u64(bytes: &[u8]) -> Option<u64> {
    Some(u64::from_be_bytes(bytes.get(..8)?.try_into().ok()?))
}

fn valid_chain(chain: u8) -> bool {
    chain <= 1
}

/// Applies `extra` inside a transaction whose views are `records` (one per table of [`KINDS`]).
fn apply_writes(
    records: &[sled::transaction::TransactionalTree],
    extra: &[RecordWrite],
) -> ConflictableTransactionResult<(), StoreError> {
    for write in extra {
        let Some(tree) = records.get(kind_index(write.kind)) else {
            return abort("unknown record table");
        };
        match &write.value {
            Some(value) => tree.insert(&write.key[..], &value[..])?,
            None => tree.remove(&write.key[..])?,
        };
    }
    Ok(())
}

/// Checks inside a transaction that none of `wraps` exists for ticket `id` (nor appears twice
/// in `wraps`: the transaction's own writes are visible to its reads), and inserts them.
fn insert_wraps(
    tree: &sled::transaction::TransactionalTree,
    id: &[u8; 16],
    wraps: &[WrapRecord],
) -> ConflictableTransactionResult<(), StoreError> {
    for wrap in wraps {
        if !valid_chain(wrap.chain) {
            return abort("invalid chain");
        }
        let key = wrap_key(id, wrap);
        if tree.get(key)?.is_some() {
            return abort("wrapped key exists");
        }
        tree.insert(&key[..], &wrap.bytes[..])?;
    }
    Ok(())
}

/// How long [`open_waiting_for_lock`] waits for the lock of a database that is still being
/// closed.
pub(crate) const LOCK_WAIT: Duration = Duration::from_secs(2);

/// Whether `error` is sled 0.34.7's "the directory is locked by another handle" (reported as
/// `ErrorKind::Other` with this message, config.rs).
pub(crate) fn is_lock_error(error: &sled::Error) -> bool {
    matches!(error, sled::Error::Io(io) if io.to_string().starts_with("could not acquire lock"))
}

/// Opens a sled database with `config`, waiting up to `wait` for its file lock: sled 0.34
/// releases the lock from a background thread shortly after the last handle is dropped
/// (spacejam/sled#1289), so reopening a directory in the same process can briefly fail. After
/// `wait`, the lock error itself is returned (another process holds the directory).
pub(crate) fn open_waiting_for_lock(config: &sled::Config, wait: Duration) -> sled::Result<Db> {
    let deadline = Instant::now() + wait;
    let mut pause = Duration::from_millis(2);
    loop {
        match config.open() {
            Err(error) if is_lock_error(&error) && Instant::now() < deadline => {
                std::thread::sleep(pause);
                pause = (pause * 2).min(Duration::from_millis(50));
            }
            result => return result,
        }
    }
}

/// sled's page cache when no size is given: the `storage_cache_bytes` option's default.
pub const DEFAULT_CACHE_BYTES: u64 = 64 << 20;

fn open_db(path: &Path, cache_bytes: u64) -> StoreResult<Db> {
    let config = sled::Config::new().path(path).cache_capacity(cache_bytes);
    open_waiting_for_lock(&config, LOCK_WAIT).map_err(|error| {
        if is_lock_error(&error) {
            StoreError::Backend(format!(
                "the data directory is in use by another process: {error}"
            ))
        } else {
            backend(error)
        }
    })
}

impl SledStore {
    /// Opens (or creates) the database in directory `path`, refusing it if it lost
    /// acknowledged writes: [`SledStore::open_with`] with [`OnLostWrites::Refuse`].
    ///
    /// # Errors
    /// As [`SledStore::open_with`].
    pub fn open(path: &Path) -> StoreResult<SledStore> {
        SledStore::open_with(path, OnLostWrites::Refuse)
    }

    /// Opens (or creates) the database in directory `path`, compares its commit count with
    /// the record of acknowledged writes beside it (before writing anything), checks its
    /// schema version and starts the flusher thread.
    ///
    /// # Errors
    /// [`StoreError::LostWrites`] or [`StoreError::CommitRecordDamaged`] under
    /// [`OnLostWrites::Refuse`]; [`StoreError::NewerSchema`]; [`StoreError::Backend`] when the
    /// directory is in use, unreadable or the record cannot be written.
    pub fn open_with(path: &Path, on_lost_writes: OnLostWrites) -> StoreResult<SledStore> {
        SledStore::open_with_cache(path, on_lost_writes, DEFAULT_CACHE_BYTES)
    }

    /// [`SledStore::open_with`] with a page cache of `cache_bytes` bytes (the
    /// `storage_cache_bytes` option): sled keeps at most about this much of the database in
    /// memory.
    ///
    /// # Errors
    /// As [`SledStore::open_with`].
    pub fn open_with_cache(
        path: &Path,
        on_lost_writes: OnLostWrites,
        cache_bytes: u64,
    ) -> StoreResult<SledStore> {
        let db = open_db(path, cache_bytes)?;
        let meta = db.open_tree("meta").map_err(backend)?;
        let stored = match meta.get(COMMITS_KEY).map_err(backend)? {
            None => Commits { count: 0, at: 0 },
            Some(bytes) => Commits::from_bytes(&bytes).ok_or_else(|| {
                StoreError::Backend("corrupt commit count in the meta tree".to_owned())
            })?,
        };
        let integrity = Integrity {
            stored,
            acknowledged: commit_record::read(path).map_err(|e| {
                StoreError::Backend(format!(
                    "cannot read the record of acknowledged commits: {e}"
                ))
            })?,
            record: commit_record::path(path),
        };
        if let Some(problem) = integrity.problem() {
            match on_lost_writes {
                OnLostWrites::Refuse => return Err(problem),
                OnLostWrites::Accept => tracing::error!(
                    %problem,
                    "starting anyway (--accept-data-loss): the missing writes are lost for good"
                ),
                OnLostWrites::Inspect => {}
            }
        } else if integrity.acknowledged == Recorded::Missing
            && meta.contains_key(SCHEMA_KEY).map_err(backend)?
        {
            tracing::warn!(
                record = %integrity.record.display(),
                commits = stored.count,
                "no record of acknowledged commits beside the database (restored from a backup, \
                 or written by an older Sealdesk): starting one from the database's count"
            );
        }
        let open = |name: &str| db.open_tree(name).map_err(backend);
        let tickets = open("tickets")?;
        let index = open("ticket_index")?;
        let counts = open("ticket_counts")?;
        let mut indexes_built = true;
        match meta.get(SCHEMA_KEY).map_err(backend)? {
            None => {
                meta.insert(SCHEMA_KEY, &SCHEMA_VERSION.to_be_bytes()[..])
                    .map_err(backend)?;
                db.flush().map_err(backend)?;
            }
            Some(found) => {
                let found: [u8; 4] = found.as_ref().try_into().map_err(|_| {
                    StoreError::Backend("corrupt schema version in the meta tree".to_owned())
                })?;
                let found = u32::from_be_bytes(found);
                if found > SCHEMA_VERSION {
                    return Err(StoreError::NewerSchema(found, SCHEMA_VERSION));
                }
                if found == 1 && on_lost_writes == OnLostWrites::Inspect {
                    // `sealdesk check` reads without writing: the indexes come at the next open.
                    indexes_built = false;
                } else if found == 1 {
                    // Version 1 had no indexes: build them, then mark the directory as version
                    // 2. Interrupted, the next open builds them again from the start.
                    let started = Instant::now();
                    let records = all_tickets(&tickets)?;
                    sled_index::rebuild(&index, &counts, &records)?;
                    db.flush().map_err(backend)?;
                    meta.insert(SCHEMA_KEY, &SCHEMA_VERSION.to_be_bytes()[..])
                        .map_err(backend)?;
                    db.flush().map_err(backend)?;
                    tracing::info!(
                        tickets = records.len(),
                        millis = started.elapsed().as_millis(),
                        "migrated the data directory from schema version 1 to 2: built the \
                         ticket indexes"
                    );
                } else if found < SCHEMA_VERSION {
                    return Err(StoreError::Backend(format!(
                        "schema version {found} is older than {SCHEMA_VERSION} and cannot be \
                         migrated"
                    )));
                }
            }
        }
        let mut opened = Vec::with_capacity(KINDS.len());
        for kind in KINDS {
            opened.push(open(kind.table())?);
        }
        let records: [Tree; KINDS.len()] = opened
            .try_into()
            .map_err(|_| StoreError::Backend("cannot open the record tables".to_owned()))?;
        let directory = open("directory")?;
        let messages = open("messages")?;
        let wraps = open("wraps")?;

        let record = match on_lost_writes {
            OnLostWrites::Inspect => None,
            OnLostWrites::Refuse | OnLostWrites::Accept => {
                Some(commit_record::Writer::open(path, stored).map_err(|e| {
                    StoreError::Backend(format!(
                        "cannot write the record of acknowledged commits: {e}"
                    ))
                })?)
            }
        };
        let recording = Recording {
            meta,
            record,
            commits: stored,
        };
        let shared = Arc::new(Shared {
            state: Mutex::new(FlushState {
                waiting: Vec::new(),
                stop: false,
            }),
            wake: Condvar::new(),
            flushes: AtomicU64::new(0),
            #[cfg(test)]
            fail_flushes: AtomicU64::new(0),
        });
        let flusher = {
            let db = db.clone();
            let shared = Arc::clone(&shared);
            std::thread::Builder::new()
                .name("sealdesk-flusher".to_owned())
                .spawn(move || flusher(db, shared, recording))
                .map_err(|e| StoreError::Backend(format!("cannot start the flusher: {e}")))?
        };
        Ok(SledStore {
            db,
            directory,
            tickets,
            index,
            counts,
            messages,
            wraps,
            records,
            shared,
            flusher: Some(flusher),
            integrity,
            indexes_built,
        })
    }

    /// Whether the ticket indexes exist: false only for a directory of schema version 1 opened
    /// with [`OnLostWrites::Inspect`] (they are built at the next writable open).
    pub fn indexes_built(&self) -> bool {
        self.indexes_built
    }

    /// Compares the ticket indexes and counters with `tickets`, every ticket record
    /// ([`TicketScan::all_tickets`]), for `sealdesk check`: one sentence per kind of
    /// disagreement, empty when they agree.
    ///
    /// # Errors
    /// Read errors and corrupt index records.
    pub fn verify_indexes(&self, tickets: &[TicketRecord]) -> StoreResult<Vec<String>> {
        sled_index::verify(&self.index, &self.counts, tickets)
    }

    /// Rebuilds the ticket indexes and counters from the ticket records (what opening a
    /// schema version 1 directory does; for repair and tests). Not atomic with concurrent
    /// writes: run it on a store nothing else writes to.
    ///
    /// # Errors
    /// Read and write errors, corrupt records.
    pub fn rebuild_indexes(&self) -> StoreResult<()> {
        let tickets = all_tickets(&self.tickets)?;
        sled_index::rebuild(&self.index, &self.counts, &tickets)
    }

    /// The database's commit count and the record's, as found at open.
    pub fn integrity(&self) -> &Integrity {
        &self.integrity
    }

    /// Reads every record of every tree (so a damaged page shows as an error) and returns,
    /// per tree name, its number of records or the read error (for `sealdesk check`).
    pub fn read_every_tree(&self) -> Vec<(String, StoreResult<u64>)> {
        self.db
            .tree_names()
            .iter()
            .map(|name| {
                let label = String::from_utf8_lossy(name).into_owned();
                let counted = self.db.open_tree(name).map_err(backend).and_then(|tree| {
                    tree.iter()
                        .try_fold(0u64, |count, item| item.map(|_| count + 1).map_err(backend))
                });
                (label, counted)
            })
            .collect()
    }

    /// Every stored wrap with its ticket id, in key order (for `sealdesk check`).
    ///
    /// # Errors
    /// Read errors, and a key of the wrong length as a corrupt record.
    pub fn all_wraps(&self) -> StoreResult<Vec<([u8; 16], WrapRecord)>> {
        self.wraps
            .iter()
            .map(|item| {
                let (key, value) = item.map_err(backend)?;
                let corrupt = || StoreError::Backend("corrupt wrap key".to_owned());
                if key.len() != 53 {
                    return Err(corrupt());
                }
                let id: [u8; 16] = key[..16].try_into().map_err(|_| corrupt())?;
                Ok((
                    id,
                    WrapRecord {
                        chain: key[16],
                        epoch: u32::from_be_bytes(key[17..21].try_into().map_err(|_| corrupt())?),
                        recipient: key[21..].try_into().map_err(|_| corrupt())?,
                        bytes: value.to_vec(),
                    },
                ))
            })
            .collect()
    }

    /// The (ticket id, chain, seq) of every stored message, in key order (for `sealdesk
    /// check`, which looks for messages of no ticket).
    ///
    /// # Errors
    /// Read errors, and a key of the wrong length as a corrupt record.
    pub fn all_message_keys(&self) -> StoreResult<Vec<([u8; 16], u8, u64)>> {
        self.messages
            .iter()
            .keys()
            .map(|key| {
                let key = key.map_err(backend)?;
                let corrupt = || StoreError::Backend("corrupt message key".to_owned());
                if key.len() != 25 {
                    return Err(corrupt());
                }
                let id: [u8; 16] = key[..16].try_into().map_err(|_| corrupt())?;
                Ok((id, key[16], be_u64(&key[17..]).ok_or_else(corrupt)?))
            })
            .collect()
    }

    /// Flushes everything written so far, blocking the calling thread (for graceful shutdown
    /// and backups; handlers use [`Store::commit`]).
    pub fn flush_now(&self) -> StoreResult<()> {
        self.db.flush().map(drop).map_err(backend)
    }

    /// Number of group-commit flushes performed since opening (for `/metrics`).
    pub fn flushes(&self) -> u64 {
        self.shared.flushes.load(Ordering::Relaxed)
    }

    fn records(&self, kind: RecordKind) -> &Tree {
        &self.records[kind_index(kind)]
    }

    /// `first`, then every record table in the order of [`KINDS`]: the trees of a transaction
    /// that may also write generic records (its views come in the same order).
    fn with_records<'a>(&'a self, first: &[&'a Tree]) -> Vec<&'a Tree> {
        first.iter().copied().chain(self.records.iter()).collect()
    }
}

impl TicketScan for SledStore {
    fn all_tickets(&self) -> StoreResult<Vec<TicketRecord>> {
        all_tickets(&self.tickets)
    }
}

impl Drop for SledStore {
    /// Stops the flusher and waits for it (at most one flush in progress), so that the
    /// database is closed when this returns and can be reopened.
    fn drop(&mut self) {
        self.shared.lock().stop = true;
        self.shared.wake.notify_all();
        if let Some(flusher) = self.flusher.take() {
            let _ = flusher.join();
        }
    }
}

impl Store for SledStore {
    fn commit(&self) -> BoxFuture<'_, StoreResult<()>> {
        Box::pin(async move {
            let (sender, receiver) = oneshot::channel();
            {
                let mut state = self.shared.lock();
                if state.stop {
                    return Err(StoreError::Backend("the flusher has stopped".to_owned()));
                }
                state.waiting.push(sender);
            }
            self.shared.wake.notify_one();
            match receiver.await {
                Ok(Ok(())) => Ok(()),
                Ok(Err(message)) => Err(StoreError::Backend(message)),
                Err(_) => Err(StoreError::Backend("the flusher has stopped".to_owned())),
            }
        })
    }

    fn size_on_disk(&self) -> StoreResult<u64> {
        self.db.size_on_disk().map_err(backend)
    }

    fn flushes(&self) -> u64 {
        SledStore::flushes(self)
    }

    fn directory(&self, from: u64) -> StoreResult<Vec<Vec<u8>>> {
        self.directory
            .range(from.to_be_bytes()..)
            .values()
            .map(|value| value.map(|v| v.to_vec()).map_err(backend))
            .collect()
    }

    fn append_directory(&self, seq: u64, entry: &[u8]) -> StoreResult<()> {
        transact(&&self.directory, |directory| {
            if directory.get(seq.to_be_bytes())?.is_some() {
                return abort("directory position taken");
            }
            if let Some(previous) = seq.checked_sub(1)
                && directory.get(previous.to_be_bytes())?.is_none()
            {
                return abort("directory position beyond the head");
            }
            directory.insert(&seq.to_be_bytes()[..], entry)?;
            Ok(())
        })
    }

    fn create_ticket_with(
        &self,
        ticket: &TicketRecord,
        first: &StoredMessage,
        wraps: &[WrapRecord],
        extra: &[RecordWrite],
    ) -> StoreResult<()> {
        if first.seq != 1 {
            return Err(StoreError::Conflict("the first message must have seq 1"));
        }
        let record = encode_ticket(ticket)?;
        let key = message_key(&ticket.id, 0, first.seq);
        let value = message_value(first);
        transact(
            self.with_records(&[
                &self.tickets,
                &self.index,
                &self.counts,
                &self.messages,
                &self.wraps,
            ])
            .as_slice(),
            |views| {
                let (tickets, messages, wrap_tree) = (&views[0], &views[3], &views[4]);
                if tickets.get(ticket.id)?.is_some() {
                    return abort("ticket id taken");
                }
                if messages.get(key)?.is_some() {
                    return abort("message exists");
                }
                tickets.insert(&ticket.id[..], &record[..])?;
                sled_index::reindex(&views[1], &views[2], None, Some(ticket))?;
                messages.insert(&key[..], &value[..])?;
                insert_wraps(wrap_tree, &ticket.id, wraps)?;
                apply_writes(&views[5..], extra)
            },
        )
    }

    fn ticket(&self, id: &[u8; 16]) -> StoreResult<Option<TicketRecord>> {
        match self.tickets.get(id).map_err(backend)? {
            Some(bytes) => decode_ticket(&bytes).map(Some),
            None => Ok(None),
        }
    }

    fn list_tickets(&self, query: &TicketListQuery) -> StoreResult<TicketListPage> {
        sled_index::list(&self.index, &self.tickets, query, decode_ticket)
    }

    fn ticket_counts(&self, me: &[u8; 32]) -> StoreResult<TicketCounts> {
        sled_index::ticket_counts(&self.counts, me)
    }

    fn open_tickets_of_account(&self, account_id: &str) -> StoreResult<u64> {
        sled_index::open_tickets_of_account(&self.counts, account_id)
    }

    fn tickets_by_email_lookup(&self, lookup: &[u8; 32]) -> StoreResult<Vec<[u8; 16]>> {
        sled_index::by_email_lookup(&self.index, lookup)
    }

    fn update_ticket_with(&self, ticket: &TicketRecord, extra: &[RecordWrite]) -> StoreResult<()> {
        let record = encode_ticket(ticket)?;
        transact(
            self.with_records(&[&self.tickets, &self.index, &self.counts])
                .as_slice(),
            |views| {
                let tickets = &views[0];
                let Some(old) = tickets.get(ticket.id)? else {
                    return abort("no such ticket");
                };
                let old = decode_ticket(&old).map_err(ConflictableTransactionError::Abort)?;
                tickets.insert(&ticket.id[..], &record[..])?;
                sled_index::reindex(&views[1], &views[2], Some(&old), Some(ticket))?;
                apply_writes(&views[3..], extra)
            },
        )
    }

    fn append_message_with(
        &self,
        ticket: &TicketRecord,
        chain: u8,
        message: &StoredMessage,
        wraps: &[WrapRecord],
        extra: &[RecordWrite],
    ) -> StoreResult<()> {
        if !valid_chain(chain) {
            return Err(StoreError::Conflict("invalid chain"));
        }
        if message.seq == 0 {
            return Err(StoreError::Conflict("unexpected seq"));
        }
        let record = encode_ticket(ticket)?;
        let id = &ticket.id;
        let key = message_key(id, chain, message.seq);
        let previous = message_key(id, chain, message.seq - 1);
        let value = message_value(message);
        transact(
            self.with_records(&[
                &self.tickets,
                &self.index,
                &self.counts,
                &self.messages,
                &self.wraps,
            ])
            .as_slice(),
            |views| {
                let (tickets, messages, wrap_tree) = (&views[0], &views[3], &views[4]);
                let Some(old) = tickets.get(id)? else {
                    return abort("no such ticket");
                };
                if messages.get(key)?.is_some() {
                    return abort("seq taken");
                }
                if message.seq > 1 && messages.get(previous)?.is_none() {
                    return abort("seq beyond the chain's head");
                }
                let old = decode_ticket(&old).map_err(ConflictableTransactionError::Abort)?;
                messages.insert(&key[..], &value[..])?;
                tickets.insert(&id[..], &record[..])?;
                sled_index::reindex(&views[1], &views[2], Some(&old), Some(ticket))?;
                insert_wraps(wrap_tree, id, wraps)?;
                apply_writes(&views[5..], extra)
            },
        )
    }

    fn messages(
        &self,
        id: &[u8; 16],
        chain: u8,
        after: u64,
        limit: usize,
    ) -> StoreResult<Vec<StoredMessage>> {
        let Some(first) = after.checked_add(1) else {
            return Ok(Vec::new());
        };
        let start = message_key(id, chain, first);
        let end = message_key(id, chain, u64::MAX);
        self.messages
            .range(start..=end)
            .take(limit)
            .map(|item| {
                let (key, value) = item.map_err(backend)?;
                let corrupt = || StoreError::Backend("corrupt message record".to_owned());
                let seq = be_u64(&key[17..]).ok_or_else(corrupt)?;
                let received_at = be_u64(&value).ok_or_else(corrupt)?;
                Ok(StoredMessage {
                    seq,
                    received_at,
                    bytes: value[8..].to_vec(),
                })
            })
            .collect()
    }

    fn messages_within(
        &self,
        id: &[u8; 16],
        chain: u8,
        after: u64,
        limit: usize,
        max_bytes: usize,
    ) -> StoreResult<(Vec<StoredMessage>, bool)> {
        let Some(first) = after.checked_add(1) else {
            return Ok((Vec::new(), false));
        };
        let start = message_key(id, chain, first);
        let end = message_key(id, chain, u64::MAX);
        let mut page = Vec::new();
        let mut total = 0usize;
        // Reads one record past the budget at most: only its presence is needed for `more`.
        for item in self.messages.range(start..=end) {
            let (key, value) = item.map_err(backend)?;
            let bytes = value.len().saturating_sub(8);
            if page.len() >= limit || (!page.is_empty() && total.saturating_add(bytes) > max_bytes)
            {
                return Ok((page, true));
            }
            let corrupt = || StoreError::Backend("corrupt message record".to_owned());
            let seq = be_u64(&key[17..]).ok_or_else(corrupt)?;
            let received_at = be_u64(&value).ok_or_else(corrupt)?;
            total = total.saturating_add(bytes);
            page.push(StoredMessage {
                seq,
                received_at,
                bytes: value.get(8..).ok_or_else(corrupt)?.to_vec(),
            });
        }
        Ok((page, false))
    }

    fn put_wraps(&self, id: &[u8; 16], wraps: &[WrapRecord]) -> StoreResult<()> {
        transact(&(&self.tickets, &self.wraps), |(tickets, wrap_tree)| {
            if tickets.get(id)?.is_none() {
                return abort("no such ticket");
            }
            insert_wraps(wrap_tree, id, wraps)
        })
    }

    fn wraps_for(
        &self,
        id: &[u8; 16],
        chain: u8,
        recipient: &[u8; 32],
    ) -> StoreResult<Vec<WrapRecord>> {
        let mut found = Vec::new();
        for item in self.wraps.scan_prefix(chain_prefix(id, chain)) {
            let (key, value) = item.map_err(backend)?;
            if key.len() != 53 {
                return Err(StoreError::Backend("corrupt wrap key".to_owned()));
            }
            if key[21..] != recipient[..] {
                continue;
            }
            let mut epoch = [0; 4];
            epoch.copy_from_slice(&key[17..21]);
            found.push(WrapRecord {
                chain,
                epoch: u32::from_be_bytes(epoch),
                recipient: *recipient,
                bytes: value.to_vec(),
            });
        }
        Ok(found)
    }

    fn delete_ticket(&self, ticket: &TicketRecord) -> StoreResult<usize> {
        let id = &ticket.id;
        let attachments = self.records(RecordKind::Attachment);
        let chunks = self.records(RecordKind::AttachmentChunk);
        let keys_under = |tree: &Tree| -> StoreResult<Vec<sled::IVec>> {
            tree.scan_prefix(id)
                .keys()
                .map(|key| key.map_err(backend))
                .collect()
        };
        let found = [
            keys_under(&self.messages)?,
            keys_under(&self.wraps)?,
            keys_under(attachments)?,
            keys_under(chunks)?,
        ];
        transact(
            [
                &self.tickets,
                &self.index,
                &self.counts,
                &self.messages,
                &self.wraps,
                attachments,
                chunks,
            ]
            .as_slice(),
            |views| {
                let [tickets, index, counts, messages, wraps, attachments, chunks] =
                    views.as_slice()
                else {
                    return abort("transaction views");
                };
                // Compared decoded: a record written by an older version encodes differently.
                let current = tickets.get(id)?.map(|bytes| decode_ticket(&bytes));
                let Some(Ok(stored)) = current else {
                    return abort("the ticket changed");
                };
                if stored != *ticket {
                    return abort("the ticket changed");
                }
                tickets.remove(&id[..])?;
                sled_index::reindex(index, counts, Some(&stored), None)?;
                for (tree, keys) in [messages, wraps, attachments, chunks].iter().zip(&found) {
                    for key in keys {
                        tree.remove(key)?;
                    }
                }
                Ok(())
            },
        )?;
        let mut removed = 1 + found.iter().map(Vec::len).sum::<usize>();
        // Written under the id while the transaction ran (an attachment chunk in flight).
        for tree in [&self.messages, &self.wraps, attachments, chunks] {
            for key in keys_under(tree)? {
                tree.remove(key).map_err(backend)?;
                removed += 1;
            }
        }
        Ok(removed)
    }

    fn get(&self, kind: RecordKind, key: &[u8]) -> StoreResult<Option<Vec<u8>>> {
        Ok(self
            .records(kind)
            .get(key)
            .map_err(backend)?
            .map(|v| v.to_vec()))
    }

    fn put(
        &self,
        kind: RecordKind,
        key: &[u8],
        value: &[u8],
        create_only: bool,
    ) -> StoreResult<()> {
        let tree = self.records(kind);
        if create_only {
            tree.compare_and_swap(key, None::<&[u8]>, Some(value))
                .map_err(backend)?
                .map_err(|_| StoreError::Conflict("record exists"))
        } else {
            tree.insert(key, value).map(drop).map_err(backend)
        }
    }

    fn take(&self, kind: RecordKind, key: &[u8]) -> StoreResult<Option<Vec<u8>>> {
        Ok(self
            .records(kind)
            .remove(key)
            .map_err(backend)?
            .map(|v| v.to_vec()))
    }

    fn scan(&self, kind: RecordKind, prefix: &[u8]) -> StoreResult<Vec<(Vec<u8>, Vec<u8>)>> {
        self.records(kind)
            .scan_prefix(prefix)
            .map(|item| item.map(|(k, v)| (k.to_vec(), v.to_vec())).map_err(backend))
            .collect()
    }

    fn write_records(&self, writes: &[RecordWrite]) -> StoreResult<()> {
        transact(self.with_records(&[]).as_slice(), |views| {
            apply_writes(views, writes)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::{Owner, Status};

    fn ticket(n: u8) -> TicketRecord {
        TicketRecord {
            id: [n; 16],
            reporter: vec![7; 64],
            endorsements: Vec::new(),
            kept_by: Vec::new(),
            owner: Owner::Anonymous {
                access_token_hash: [n; 32],
            },
            created_at: 1_700_000_000,
            last_activity: 1_700_000_000,
            status: Status::Open,
            answered: false,
            assigned_to: None,
            email_lookup: Some([4; 32]),
            chain_states: [vec![1, 2, 3], Vec::new()],
            storage_bytes: 100,
        }
    }

    #[test]
    fn ticket_records_with_and_without_old_endorsements_decode() {
        // Records written before endorse messages carry `endorsements`; later ones may not.
        let old = ticket(1);
        let mut json: serde_json::Value =
            serde_json::from_slice(&encode_ticket(&old).unwrap()).unwrap();
        json["endorsements"] = serde_json::json!([[1, 2, 3]]);
        let decoded = decode_ticket(&serde_json::to_vec(&json).unwrap()).unwrap();
        assert_eq!(decoded.endorsements, vec![vec![1, 2, 3]]);
        json.as_object_mut().unwrap().remove("endorsements");
        let decoded = decode_ticket(&serde_json::to_vec(&json).unwrap()).unwrap();
        assert_eq!(decoded, old);
    }

    fn message(seq: u64, content: &[u8]) -> StoredMessage {
        StoredMessage {
            seq,
            received_at: 1_700_000_000 + seq,
            bytes: content.to_vec(),
        }
    }

    fn wrap(chain: u8, epoch: u32, recipient: u8) -> WrapRecord {
        WrapRecord {
            chain,
            epoch,
            recipient: [recipient; 32],
            bytes: vec![epoch as u8 ^ recipient; 238],
        }
    }

    fn open() -> (tempfile::TempDir, SledStore) {
        let dir = tempfile::tempdir().unwrap();
        let store = SledStore::open(dir.path()).unwrap();
        (dir, store)
    }

    fn is_conflict<T: std::fmt::Debug>(result: StoreResult<T>) -> bool {
        matches!(result, Err(StoreError::Conflict(_)))
    }

    #[test]
    fn directory_appends_in_order_and_refuses_gaps_and_taken_positions() {
        let (_dir, store) = open();
        assert!(store.directory(0).unwrap().is_empty());
        assert!(is_conflict(store.append_directory(1, b"gap")));
        store.append_directory(0, b"genesis").unwrap();
        store.append_directory(1, b"one").unwrap();
        store.append_directory(2, b"two").unwrap();
        assert!(is_conflict(store.append_directory(1, b"other")));
        assert!(is_conflict(store.append_directory(0, b"other")));
        assert!(is_conflict(store.append_directory(4, b"gap")));
        assert_eq!(
            store.directory(0).unwrap(),
            vec![b"genesis".to_vec(), b"one".to_vec(), b"two".to_vec()]
        );
        assert_eq!(store.directory(2).unwrap(), vec![b"two".to_vec()]);
        assert!(store.directory(3).unwrap().is_empty());
        // Keys are big-endian: position 256 sorts after 255.
        for seq in 3..=300u64 {
            store.append_directory(seq, &seq.to_le_bytes()).unwrap();
        }
        let tail = store.directory(255).unwrap();
        assert_eq!(tail.len(), 46);
        assert_eq!(tail[1], 256u64.to_le_bytes().to_vec());
    }

    #[test]
    fn ticket_round_trip() {
        let (_dir, store) = open();
        let t = ticket(1);
        let wraps = [wrap(0, 0, 1), wrap(0, 0, 2), wrap(1, 0, 2)];
        store
            .create_ticket(&t, &message(1, b"first"), &wraps)
            .unwrap();
        assert_eq!(store.ticket(&t.id).unwrap(), Some(t.clone()));
        assert_eq!(store.ticket(&[9; 16]).unwrap(), None);
        assert_eq!(store.all_tickets().unwrap(), vec![t.clone()]);
        assert_eq!(
            store.messages(&t.id, 0, 0, 10).unwrap(),
            vec![message(1, b"first")]
        );
        assert!(store.messages(&t.id, 1, 0, 10).unwrap().is_empty());
        assert_eq!(
            store.wraps_for(&t.id, 0, &[2; 32]).unwrap(),
            vec![wrap(0, 0, 2)]
        );
        assert_eq!(
            store.wraps_for(&t.id, 1, &[2; 32]).unwrap(),
            vec![wrap(1, 0, 2)]
        );
        assert!(store.wraps_for(&t.id, 1, &[1; 32]).unwrap().is_empty());

        let mut updated = t.clone();
        updated.assigned_to = Some([5; 32]);
        updated.endorsements.push(vec![1; 10]);
        store.update_ticket(&updated).unwrap();
        assert_eq!(store.ticket(&t.id).unwrap(), Some(updated));
        assert!(is_conflict(store.update_ticket(&ticket(2))));
        assert_eq!(store.ticket(&[2; 16]).unwrap(), None);

        let t2 = ticket(2);
        store.create_ticket(&t2, &message(1, b"x"), &[]).unwrap();
        assert_eq!(store.all_tickets().unwrap().len(), 2);
        assert!(store.size_on_disk().unwrap() > 0);
    }

    #[test]
    fn create_ticket_with_a_taken_id_keeps_the_old_one() {
        let (_dir, store) = open();
        let t = ticket(1);
        store
            .create_ticket(&t, &message(1, b"first"), &[wrap(0, 0, 1)])
            .unwrap();
        let mut other = ticket(1);
        other.storage_bytes = 5;
        assert!(is_conflict(store.create_ticket(
            &other,
            &message(1, b"intruder"),
            &[wrap(0, 0, 1), wrap(0, 0, 3)]
        )));
        assert_eq!(store.ticket(&t.id).unwrap(), Some(t.clone()));
        assert_eq!(
            store.messages(&t.id, 0, 0, 10).unwrap(),
            vec![message(1, b"first")]
        );
        assert_eq!(
            store.wraps_for(&t.id, 0, &[1; 32]).unwrap(),
            vec![wrap(0, 0, 1)]
        );
        assert!(store.wraps_for(&t.id, 0, &[3; 32]).unwrap().is_empty());
        // A first message with another seq is refused and stores nothing.
        assert!(is_conflict(store.create_ticket(
            &ticket(2),
            &message(2, b"x"),
            &[]
        )));
        assert_eq!(store.ticket(&[2; 16]).unwrap(), None);
        // Duplicate wraps within one call: nothing stored.
        assert!(is_conflict(store.create_ticket(
            &ticket(3),
            &message(1, b"x"),
            &[wrap(0, 0, 1), wrap(0, 0, 1)]
        )));
        assert_eq!(store.ticket(&[3; 16]).unwrap(), None);
        assert!(store.messages(&[3; 16], 0, 0, 10).unwrap().is_empty());
    }

    #[test]
    fn delete_ticket_removes_its_keys_only_and_refuses_a_changed_record() {
        let (_dir, store) = open();
        let (a, b) = (ticket(1), ticket(2));
        for t in [&a, &b] {
            store
                .create_ticket(t, &message(1, b"first"), &[wrap(0, 0, 9)])
                .unwrap();
            store
                .put(
                    RecordKind::Attachment,
                    &[&t.id[..], &[5; 16]].concat(),
                    b"{}",
                    true,
                )
                .unwrap();
            store
                .put(
                    RecordKind::AttachmentChunk,
                    &[&t.id[..], &[5; 24]].concat(),
                    b"c",
                    true,
                )
                .unwrap();
        }
        let mut moved_on = a.clone();
        moved_on.last_activity += 1;
        assert!(matches!(
            store.delete_ticket(&moved_on),
            Err(StoreError::Conflict(_))
        ));
        assert!(
            store.ticket(&a.id).unwrap().is_some(),
            "a refusal deletes nothing"
        );
        // Record, message, wrap, attachment, chunk.
        assert_eq!(store.delete_ticket(&a).unwrap(), 5);
        assert_eq!(store.ticket(&a.id).unwrap(), None);
        assert!(store.messages(&a.id, 0, 0, 10).unwrap().is_empty());
        assert!(store.wraps_for(&a.id, 0, &[9; 32]).unwrap().is_empty());
        assert!(
            store
                .scan(RecordKind::Attachment, &a.id)
                .unwrap()
                .is_empty()
        );
        assert!(
            store
                .scan(RecordKind::AttachmentChunk, &a.id)
                .unwrap()
                .is_empty()
        );
        assert!(matches!(
            store.delete_ticket(&a),
            Err(StoreError::Conflict(_))
        ));
        // The other ticket is whole.
        assert_eq!(store.messages(&b.id, 0, 0, 10).unwrap().len(), 1);
        assert_eq!(
            store
                .scan(RecordKind::AttachmentChunk, &b.id)
                .unwrap()
                .len(),
            1
        );
    }

    #[test]
    fn append_message_round_trip_on_both_chains() {
        let (_dir, store) = open();
        let mut t = ticket(1);
        store.create_ticket(&t, &message(1, b"m1"), &[]).unwrap();
        for seq in 2..=5 {
            t.last_activity += 1;
            t.answered = seq % 2 == 0;
            store
                .append_message(&t, 0, &message(seq, &[seq as u8; 3]), &[])
                .unwrap();
        }
        t.storage_bytes = 999;
        store
            .append_message(&t, 1, &message(1, b"note"), &[wrap(1, 1, 4), wrap(0, 1, 4)])
            .unwrap();
        assert_eq!(store.ticket(&t.id).unwrap(), Some(t.clone()));
        let all = store.messages(&t.id, 0, 0, 100).unwrap();
        assert_eq!(all.len(), 5);
        assert_eq!(all[0], message(1, b"m1"));
        assert_eq!(all[4], message(5, &[5; 3]));
        let page = store.messages(&t.id, 0, 2, 2).unwrap();
        assert_eq!(page, vec![message(3, &[3; 3]), message(4, &[4; 3])]);
        assert!(store.messages(&t.id, 0, 5, 10).unwrap().is_empty());
        assert!(store.messages(&t.id, 0, u64::MAX, 10).unwrap().is_empty());
        assert_eq!(
            store.messages(&t.id, 1, 0, 10).unwrap(),
            vec![message(1, b"note")]
        );
        assert_eq!(
            store.wraps_for(&t.id, 1, &[4; 32]).unwrap(),
            vec![wrap(1, 1, 4)]
        );
        assert_eq!(
            store.wraps_for(&t.id, 0, &[4; 32]).unwrap(),
            vec![wrap(0, 1, 4)]
        );
    }

    #[test]
    fn append_message_conflicts_change_nothing() {
        let (_dir, store) = open();
        let t = ticket(1);
        store
            .create_ticket(&t, &message(1, b"m1"), &[wrap(0, 0, 1)])
            .unwrap();
        let mut t2 = t.clone();
        t2.last_activity += 10;
        store
            .append_message(&t2, 0, &message(2, b"m2"), &[])
            .unwrap();

        let mut stale = t2.clone();
        stale.answered = true;
        stale.storage_bytes = 12345;
        let before = store.messages(&t.id, 0, 0, 100).unwrap();
        // Stale seq (someone else posted first).
        assert!(is_conflict(store.append_message(
            &stale,
            0,
            &message(2, b"other"),
            &[wrap(0, 1, 9)]
        )));
        // Seq beyond the head.
        assert!(is_conflict(store.append_message(
            &stale,
            0,
            &message(4, b"gap"),
            &[wrap(0, 1, 9)]
        )));
        // Seq 0.
        assert!(is_conflict(store.append_message(
            &stale,
            0,
            &message(0, b"zero"),
            &[]
        )));
        // Valid seq but a wrap that exists: the message is not stored either.
        assert!(is_conflict(store.append_message(
            &stale,
            0,
            &message(3, b"m3"),
            &[wrap(0, 1, 9), wrap(0, 0, 1)]
        )));
        // Unknown ticket.
        assert!(is_conflict(store.append_message(
            &ticket(7),
            0,
            &message(1, b"x"),
            &[]
        )));
        // Invalid chain.
        assert!(is_conflict(store.append_message(
            &stale,
            2,
            &message(1, b"x"),
            &[]
        )));

        assert_eq!(store.ticket(&t.id).unwrap(), Some(t2.clone()));
        assert_eq!(store.messages(&t.id, 0, 0, 100).unwrap(), before);
        assert!(store.wraps_for(&t.id, 0, &[9; 32]).unwrap().is_empty());
        assert_eq!(store.ticket(&[7; 16]).unwrap(), None);
        assert!(store.messages(&[7; 16], 0, 0, 10).unwrap().is_empty());

        // The chain continues normally afterwards.
        store
            .append_message(&stale, 0, &message(3, b"m3"), &[wrap(0, 1, 9)])
            .unwrap();
        assert_eq!(store.ticket(&t.id).unwrap(), Some(stale));
    }

    #[test]
    fn put_wraps_round_trip_and_conflicts() {
        let (_dir, store) = open();
        let t = ticket(1);
        store
            .create_ticket(&t, &message(1, b"m1"), &[wrap(0, 0, 1)])
            .unwrap();
        store
            .put_wraps(&t.id, &[wrap(0, 0, 2), wrap(0, 1, 2), wrap(0, 3, 2)])
            .unwrap();
        assert_eq!(
            store.wraps_for(&t.id, 0, &[2; 32]).unwrap(),
            vec![wrap(0, 0, 2), wrap(0, 1, 2), wrap(0, 3, 2)]
        );
        // One existing wrap: none of the batch is stored.
        assert!(is_conflict(
            store.put_wraps(&t.id, &[wrap(0, 5, 3), wrap(0, 0, 1)])
        ));
        // Duplicate within the batch.
        assert!(is_conflict(
            store.put_wraps(&t.id, &[wrap(0, 6, 3), wrap(0, 6, 3)])
        ));
        // Unknown ticket.
        assert!(is_conflict(store.put_wraps(&[8; 16], &[wrap(0, 0, 3)])));
        assert!(store.wraps_for(&t.id, 0, &[3; 32]).unwrap().is_empty());
        assert!(store.wraps_for(&[8; 16], 0, &[3; 32]).unwrap().is_empty());
        assert_eq!(
            store.wraps_for(&t.id, 0, &[1; 32]).unwrap(),
            vec![wrap(0, 0, 1)]
        );
    }

    #[test]
    fn generic_records() {
        let (_dir, store) = open();
        store
            .put(RecordKind::Account, b"alice", b"v1", true)
            .unwrap();
        assert!(is_conflict(store.put(
            RecordKind::Account,
            b"alice",
            b"v2",
            true
        )));
        assert_eq!(
            store.get(RecordKind::Account, b"alice").unwrap(),
            Some(b"v1".to_vec())
        );
        store
            .put(RecordKind::Account, b"alice", b"v3", false)
            .unwrap();
        assert_eq!(
            store.get(RecordKind::Account, b"alice").unwrap(),
            Some(b"v3".to_vec())
        );
        // Tables are separate.
        assert_eq!(store.get(RecordKind::Session, b"alice").unwrap(), None);
        for kind in KINDS {
            assert_eq!(KINDS[kind_index(kind)], kind);
            store
                .put(kind, b"k", kind.table().as_bytes(), true)
                .unwrap();
        }
        for kind in KINDS {
            assert_eq!(
                store.get(kind, b"k").unwrap(),
                Some(kind.table().as_bytes().to_vec())
            );
        }

        // take returns the record once.
        store.put(RecordKind::Invite, b"tok", b"inv", true).unwrap();
        assert_eq!(
            store.take(RecordKind::Invite, b"tok").unwrap(),
            Some(b"inv".to_vec())
        );
        assert_eq!(store.take(RecordKind::Invite, b"tok").unwrap(), None);
        assert_eq!(store.get(RecordKind::Invite, b"tok").unwrap(), None);

        // scan by prefix, in key order.
        let chunk = |id: &[u8], i: u32| [id, &i.to_be_bytes()[..]].concat();
        for i in [3u32, 0, 256, 1] {
            store
                .put(
                    RecordKind::AttachmentChunk,
                    &chunk(b"aa", i),
                    &[i as u8],
                    true,
                )
                .unwrap();
        }
        store
            .put(
                RecordKind::AttachmentChunk,
                &chunk(b"ab", 0),
                b"other",
                true,
            )
            .unwrap();
        let scanned = store.scan(RecordKind::AttachmentChunk, b"aa").unwrap();
        let keys: Vec<Vec<u8>> = scanned.iter().map(|(k, _)| k.clone()).collect();
        assert_eq!(
            keys,
            vec![
                chunk(b"aa", 0),
                chunk(b"aa", 1),
                chunk(b"aa", 3),
                chunk(b"aa", 256)
            ]
        );
        assert_eq!(scanned[3].1, vec![0]);
        assert_eq!(
            store.scan(RecordKind::AttachmentChunk, b"").unwrap().len(),
            6
        );
        assert!(
            store
                .scan(RecordKind::AttachmentChunk, b"b")
                .unwrap()
                .is_empty()
        );
    }

    #[test]
    fn concurrent_takes_succeed_once() {
        let (_dir, store) = open();
        for round in 0..20u8 {
            store
                .put(RecordKind::Session, &[round], b"session", true)
                .unwrap();
            let taken: usize = std::thread::scope(|scope| {
                let handles: Vec<_> = (0..8)
                    .map(|_| scope.spawn(|| store.take(RecordKind::Session, &[round]).unwrap()))
                    .collect();
                handles
                    .into_iter()
                    .map(|h| h.join().unwrap())
                    .filter(Option::is_some)
                    .count()
            });
            assert_eq!(taken, 1);
        }
    }

    #[test]
    fn schema_version_is_written_and_newer_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        drop(SledStore::open(dir.path()).unwrap());
        {
            let db = open_db(dir.path(), DEFAULT_CACHE_BYTES).unwrap();
            let meta = db.open_tree("meta").unwrap();
            assert_eq!(
                meta.get(SCHEMA_KEY).unwrap().unwrap().as_ref(),
                &SCHEMA_VERSION.to_be_bytes()
            );
        }
        drop(SledStore::open(dir.path()).unwrap());
        {
            let db = open_db(dir.path(), DEFAULT_CACHE_BYTES).unwrap();
            let meta = db.open_tree("meta").unwrap();
            meta.insert(SCHEMA_KEY, &999u32.to_be_bytes()[..]).unwrap();
            db.flush().unwrap();
        }
        match SledStore::open(dir.path()) {
            Err(StoreError::NewerSchema(999, SCHEMA_VERSION)) => {}
            other => panic!("expected NewerSchema, got {:?}", other.err()),
        }
    }

    #[test]
    fn a_directory_in_use_is_refused_and_released_on_drop() {
        let dir = tempfile::tempdir().unwrap();
        let store = SledStore::open(dir.path()).unwrap();
        match SledStore::open(dir.path()) {
            Err(StoreError::Backend(message)) => assert!(message.contains("in use")),
            other => panic!("expected Backend, got {:?}", other.err()),
        }
        drop(store);
        // Reopening right after dropping works (repeatedly).
        for _ in 0..5 {
            drop(SledStore::open(dir.path()).unwrap());
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn committed_writes_survive_reopening() {
        let dir = tempfile::tempdir().unwrap();
        let t = ticket(1);
        {
            let store = SledStore::open(dir.path()).unwrap();
            store.append_directory(0, b"genesis").unwrap();
            store
                .create_ticket(&t, &message(1, b"m1"), &[wrap(0, 0, 1)])
                .unwrap();
            store
                .append_message(&t, 0, &message(2, b"m2"), &[])
                .unwrap();
            store
                .put(RecordKind::Setting, b"hours", b"9-17", false)
                .unwrap();
            store.commit().await.unwrap();
            assert!(store.flushes() >= 1);
            store.flush_now().unwrap();
        }
        let store = SledStore::open(dir.path()).unwrap();
        assert_eq!(store.directory(0).unwrap(), vec![b"genesis".to_vec()]);
        assert_eq!(store.ticket(&t.id).unwrap(), Some(t.clone()));
        assert_eq!(store.messages(&t.id, 0, 0, 10).unwrap().len(), 2);
        assert_eq!(store.wraps_for(&t.id, 0, &[1; 32]).unwrap().len(), 1);
        assert_eq!(
            store.get(RecordKind::Setting, b"hours").unwrap(),
            Some(b"9-17".to_vec())
        );
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn concurrent_commits_share_flushes() {
        let (_dir, store) = open();
        let store = Arc::new(store);
        for n in 0..64u8 {
            store
                .create_ticket(&ticket(n), &message(1, b"m1"), &[])
                .unwrap();
        }
        let barrier = Arc::new(tokio::sync::Barrier::new(64));
        let before = store.flushes();
        let tasks: Vec<_> = (0..64u8)
            .map(|n| {
                let store = Arc::clone(&store);
                let barrier = Arc::clone(&barrier);
                tokio::spawn(async move {
                    store
                        .append_message(&ticket(n), 0, &message(2, &[n]), &[])
                        .unwrap();
                    // Commit together (the appends serialize on sled's transaction lock).
                    barrier.wait().await;
                    store.commit().await.unwrap();
                })
            })
            .collect();
        tokio::time::timeout(Duration::from_secs(30), async {
            for task in tasks {
                task.await.unwrap();
            }
        })
        .await
        .expect("commits hung");
        let flushes = store.flushes() - before;
        assert!(flushes >= 1);
        assert!(flushes < 64, "{flushes} flushes for 64 commits");
        for n in 0..64u8 {
            assert_eq!(
                store.messages(&[n; 16], 0, 1, 10).unwrap(),
                vec![message(2, &[n])]
            );
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn commits_never_miss_a_wake_up() {
        let (_dir, store) = open();
        let store = Arc::new(store);
        // xorshift, seeded: no extra dependency.
        let mut rng = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = move || {
            rng ^= rng << 13;
            rng ^= rng >> 7;
            rng ^= rng << 17;
            rng
        };
        for round in 0..300u64 {
            let tasks: Vec<_> = (0..1 + next() % 8)
                .map(|_| {
                    let store = Arc::clone(&store);
                    let delay = next();
                    tokio::spawn(async move {
                        match delay % 4 {
                            0 => {}
                            1 => tokio::task::yield_now().await,
                            2 => std::thread::sleep(Duration::from_micros(delay % 300)),
                            _ => tokio::time::sleep(Duration::from_millis(delay % 2)).await,
                        }
                        store
                            .put(RecordKind::Setting, &round.to_be_bytes(), b"v", false)
                            .unwrap();
                        store.commit().await.unwrap();
                    })
                })
                .collect();
            tokio::time::timeout(Duration::from_secs(10), async {
                for task in tasks {
                    task.await.unwrap();
                }
            })
            .await
            .unwrap_or_else(|_| panic!("round {round} hung"));
            // Sometimes let the flusher go back to sleep before the next round.
            if next() % 3 == 0 {
                std::thread::sleep(Duration::from_micros(next() % 500));
            }
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn flush_failures_reach_every_covered_commit() {
        let (_dir, store) = open();
        let store = Arc::new(store);
        store.shared.fail_flushes.store(u64::MAX, Ordering::SeqCst);
        let tasks: Vec<_> = (0..16)
            .map(|_| {
                let store = Arc::clone(&store);
                tokio::spawn(async move { store.commit().await })
            })
            .collect();
        for task in tasks {
            let result = tokio::time::timeout(Duration::from_secs(10), task)
                .await
                .expect("commit hung")
                .unwrap();
            assert!(matches!(result, Err(StoreError::Backend(_))));
        }
        store.shared.fail_flushes.store(0, Ordering::SeqCst);
        store.commit().await.unwrap();
    }

    #[test]
    fn store_is_send_and_sync_and_object_safe() {
        fn assert_send_sync<T: Send + Sync>() {}
        assert_send_sync::<SledStore>();
        let (_dir, store) = open();
        let store: Arc<dyn Store> = Arc::new(store);
        assert!(store.size_on_disk().is_ok());
    }

    /// Writes `tickets` tickets, each acknowledged by its own commit, and closes the store.
    async fn acknowledged_tickets(path: &Path, tickets: u8) {
        let store = SledStore::open(path).unwrap();
        for n in 0..tickets {
            let first = StoredMessage {
                seq: 1,
                received_at: 1,
                bytes: vec![n; 300],
            };
            store.create_ticket(&ticket(n), &first, &[]).unwrap();
            store.commit().await.unwrap();
        }
        drop(store);
    }

    /// Flips one bit of the byte in the middle of sled's log file, as a failing disk would.
    fn flip_middle_byte(path: &Path) {
        let file = path.join("db");
        let mut bytes = std::fs::read(&file).unwrap();
        let middle = bytes.len() / 2;
        bytes[middle] ^= 0x01;
        std::fs::write(&file, bytes).unwrap();
    }

    /// The loss this guards against, as sled 0.34 does it: a one-byte flip makes the next open
    /// drop the damaged record and every later one, without an error. The record beside the
    /// database turns it into a refusal that names the missing commits.
    #[tokio::test]
    async fn a_flipped_byte_that_drops_acknowledged_writes_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        acknowledged_tickets(dir.path(), 40).await;
        assert!(matches!(
            commit_record::read(dir.path()).unwrap(),
            Recorded::Count(Commits { count: 40, .. })
        ));
        flip_middle_byte(dir.path());

        let problem = SledStore::open(dir.path()).err().expect("refused");
        let StoreError::LostWrites {
            stored,
            acknowledged,
        } = &problem
        else {
            panic!("expected LostWrites, got {problem}");
        };
        assert_eq!(acknowledged.count, 40);
        assert!(stored.count < 40, "{stored:?}");
        let message = problem.to_string();
        for expected in [
            "lost acknowledged writes",
            "sealdesk restore",
            "sealdesk check",
            "--accept-data-loss",
        ] {
            assert!(message.contains(expected), "{expected:?} in {message}");
        }

        // Inspecting reads what is left and leaves the record (the evidence) as it was.
        let store = SledStore::open_with(dir.path(), OnLostWrites::Inspect).unwrap();
        let left = store.all_tickets().unwrap().len();
        assert!(left < 40, "{left} tickets left");
        assert!(store.integrity().problem().is_some());
        drop(store);
        assert!(matches!(
            SledStore::open(dir.path()),
            Err(StoreError::LostWrites { .. })
        ));

        // Accepting the loss opens on what is left and records it, so the next start is clean.
        let store = SledStore::open_with(dir.path(), OnLostWrites::Accept).unwrap();
        assert_eq!(store.all_tickets().unwrap().len(), left);
        store.commit().await.unwrap();
        drop(store);
        let store = SledStore::open(dir.path()).unwrap();
        assert!(store.integrity().problem().is_none());
    }

    #[tokio::test]
    async fn a_damaged_record_is_refused_and_a_missing_one_restarted() {
        let dir = tempfile::tempdir().unwrap();
        acknowledged_tickets(dir.path(), 3).await;
        let record = commit_record::path(dir.path());
        let mut bytes = std::fs::read(&record).unwrap();
        bytes[20] ^= 0x80;
        std::fs::write(&record, &bytes).unwrap();
        assert!(matches!(
            SledStore::open(dir.path()),
            Err(StoreError::CommitRecordDamaged(_))
        ));
        // A restored backup has no record: the database's count starts it.
        std::fs::remove_file(&record).unwrap();
        let store = SledStore::open(dir.path()).unwrap();
        assert_eq!(store.integrity().stored.count, 3);
        store.commit().await.unwrap();
        drop(store);
        assert!(matches!(
            commit_record::read(dir.path()).unwrap(),
            Recorded::Count(Commits { count: 4, .. })
        ));
    }

    /// A crash between the flush and the record leaves the database ahead of the record:
    /// nothing acknowledged is missing.
    #[tokio::test]
    async fn a_database_ahead_of_the_record_opens() {
        let dir = tempfile::tempdir().unwrap();
        acknowledged_tickets(dir.path(), 3).await;
        drop(commit_record::Writer::open(dir.path(), Commits { count: 2, at: 1 }).unwrap());
        let store = SledStore::open(dir.path()).unwrap();
        assert!(store.integrity().problem().is_none());
        assert_eq!(store.all_tickets().unwrap().len(), 3);
    }
}
