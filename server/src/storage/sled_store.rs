//! The default backend: an embedded sled database in the data directory.
//!
//! Layout (all integers big-endian, so that key order is numeric order):
//! - `meta`: `schema_version` → u32;
//! - `directory`: seq (u64) → encoded entry;
//! - `tickets`: id (16) → JSON of [`TicketRecord`];
//! - `messages`: id (16) ‖ chain (1) ‖ seq (u64) → received_at (u64) ‖ encoded message;
//! - `wraps`: id (16) ‖ chain (1) ‖ epoch (u32) ‖ recipient (32) → encoded wrapped key;
//! - one tree per [`RecordKind::table`], keyed and valued by the handlers.
//!
//! Multi-key writes run in one sled transaction over the trees they touch, with their conflict
//! checks inside it (sled transactions are serializable), so a conflict changes nothing.
//!
//! Durability: writes reach the disk on [`Store::commit`], which hands the caller to a
//! dedicated flusher thread. Every caller that registers while a flush is running is served by
//! the next flush, so concurrent commits share one `fsync` (group commit).

use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use sled::transaction::{
    ConflictableTransactionError, ConflictableTransactionResult, TransactionError, Transactional,
};
use sled::{Db, Tree};
use tokio::sync::oneshot;

use super::{
    BoxFuture, RecordKind, SCHEMA_VERSION, Store, StoreError, StoreResult, StoredMessage,
    TicketRecord, WrapRecord,
};

/// Key of the schema version in the `meta` tree.
const SCHEMA_KEY: &[u8] = b"schema_version";

/// Every generic record table, in the order of [`kind_index`].
const KINDS: [RecordKind; 7] = [
    RecordKind::Account,
    RecordKind::Session,
    RecordKind::Invite,
    RecordKind::PendingAdmin,
    RecordKind::Attachment,
    RecordKind::AttachmentChunk,
    RecordKind::Setting,
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

/// The flusher thread: sleeps until commits are waiting, takes all of them, flushes once and
/// answers each with the outcome of that flush.
fn flusher(db: Db, shared: Arc<Shared>) {
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
        let outcome: FlushOutcome = db.flush().map(drop).map_err(|e| e.to_string());
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
    messages: Tree,
    wraps: Tree,
    records: [Tree; 7],
    shared: Arc<Shared>,
    flusher: Option<JoinHandle<()>>,
}

fn backend(error: sled::Error) -> StoreError {
    StoreError::Backend(error.to_string())
}

/// Runs `f` as one serializable sled transaction over `trees`, retrying on internal conflicts.
fn transact<T, A>(
    trees: T,
    f: impl Fn(&T::View) -> ConflictableTransactionResult<A, StoreError>,
) -> StoreResult<A>
where
    T: Transactional<StoreError>,
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

fn be_u64(bytes: &[u8]) -> Option<u64> {
    Some(u64::from_be_bytes(bytes.get(..8)?.try_into().ok()?))
}

fn valid_chain(chain: u8) -> bool {
    chain <= 1
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

fn open_db(path: &Path) -> StoreResult<Db> {
    open_waiting_for_lock(&sled::Config::new().path(path), LOCK_WAIT).map_err(|error| {
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
    /// Opens (or creates) the database in directory `path`, checks its schema version and
    /// starts the flusher thread.
    pub fn open(path: &Path) -> StoreResult<SledStore> {
        let db = open_db(path)?;
        let meta = db.open_tree("meta").map_err(backend)?;
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
                if found < SCHEMA_VERSION {
                    return Err(StoreError::Backend(format!(
                        "schema version {found} is older than {SCHEMA_VERSION} and cannot be \
                         migrated"
                    )));
                }
            }
        }
        let open = |name: &str| db.open_tree(name).map_err(backend);
        let records = [
            open(KINDS[0].table())?,
            open(KINDS[1].table())?,
            open(KINDS[2].table())?,
            open(KINDS[3].table())?,
            open(KINDS[4].table())?,
            open(KINDS[5].table())?,
            open(KINDS[6].table())?,
        ];
        let directory = open("directory")?;
        let tickets = open("tickets")?;
        let messages = open("messages")?;
        let wraps = open("wraps")?;

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
                .spawn(move || flusher(db, shared))
                .map_err(|e| StoreError::Backend(format!("cannot start the flusher: {e}")))?
        };
        Ok(SledStore {
            db,
            directory,
            tickets,
            messages,
            wraps,
            records,
            shared,
            flusher: Some(flusher),
        })
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
        transact(&self.directory, |directory| {
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

    fn create_ticket(
        &self,
        ticket: &TicketRecord,
        first: &StoredMessage,
        wraps: &[WrapRecord],
    ) -> StoreResult<()> {
        if first.seq != 1 {
            return Err(StoreError::Conflict("the first message must have seq 1"));
        }
        let record = encode_ticket(ticket)?;
        let key = message_key(&ticket.id, 0, first.seq);
        let value = message_value(first);
        transact(
            (&self.tickets, &self.messages, &self.wraps),
            |(tickets, messages, wrap_tree)| {
                if tickets.get(ticket.id)?.is_some() {
                    return abort("ticket id taken");
                }
                if messages.get(key)?.is_some() {
                    return abort("message exists");
                }
                tickets.insert(&ticket.id[..], &record[..])?;
                messages.insert(&key[..], &value[..])?;
                insert_wraps(wrap_tree, &ticket.id, wraps)
            },
        )
    }

    fn ticket(&self, id: &[u8; 16]) -> StoreResult<Option<TicketRecord>> {
        match self.tickets.get(id).map_err(backend)? {
            Some(bytes) => decode_ticket(&bytes).map(Some),
            None => Ok(None),
        }
    }

    fn tickets(&self) -> StoreResult<Vec<TicketRecord>> {
        self.tickets
            .iter()
            .values()
            .map(|value| decode_ticket(&value.map_err(backend)?))
            .collect()
    }

    fn update_ticket(&self, ticket: &TicketRecord) -> StoreResult<()> {
        let record = encode_ticket(ticket)?;
        transact(&self.tickets, |tickets| {
            if tickets.get(ticket.id)?.is_none() {
                return abort("no such ticket");
            }
            tickets.insert(&ticket.id[..], &record[..])?;
            Ok(())
        })
    }

    fn append_message(
        &self,
        ticket: &TicketRecord,
        chain: u8,
        message: &StoredMessage,
        wraps: &[WrapRecord],
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
            (&self.tickets, &self.messages, &self.wraps),
            |(tickets, messages, wrap_tree)| {
                if tickets.get(id)?.is_none() {
                    return abort("no such ticket");
                }
                if messages.get(key)?.is_some() {
                    return abort("seq taken");
                }
                if message.seq > 1 && messages.get(previous)?.is_none() {
                    return abort("seq beyond the chain's head");
                }
                messages.insert(&key[..], &value[..])?;
                tickets.insert(&id[..], &record[..])?;
                insert_wraps(wrap_tree, id, wraps)
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
        transact((&self.tickets, &self.wraps), |(tickets, wrap_tree)| {
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
            (
                &self.tickets,
                &self.messages,
                &self.wraps,
                attachments,
                chunks,
            ),
            |(tickets, messages, wraps, attachments, chunks)| {
                // Compared decoded: a record written by an older version encodes differently.
                let current = tickets.get(id)?.map(|bytes| decode_ticket(&bytes));
                if !matches!(current, Some(Ok(ref stored)) if stored == ticket) {
                    return abort("the ticket changed");
                }
                tickets.remove(&id[..])?;
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
        assert_eq!(store.tickets().unwrap(), vec![t.clone()]);
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
        assert_eq!(store.tickets().unwrap().len(), 2);
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
            let db = open_db(dir.path()).unwrap();
            let meta = db.open_tree("meta").unwrap();
            assert_eq!(
                meta.get(SCHEMA_KEY).unwrap().unwrap().as_ref(),
                &SCHEMA_VERSION.to_be_bytes()
            );
        }
        drop(SledStore::open(dir.path()).unwrap());
        {
            let db = open_db(dir.path()).unwrap();
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
}
