//! The sled backend's secondary indexes over the `tickets` tree, kept in the same transaction
//! as the ticket record (spec/API.md, "Inbox"; issue 13: no request reads every ticket).
//!
//! Tree `ticket_index`, every value empty, integers big-endian:
//! - `i` ‖ assignee slot ‖ status slot (1) ‖ last_activity (u64) ‖ id (16): one entry per
//!   inbox list the ticket belongs to, for the assignee slots "any" and its own (`0x01`
//!   nobody, `0x02` ‖ key id (32)) and the status slots "all", its status and, when open and
//!   not answered, "unanswered" (4 or 6 entries);
//! - `a` ‖ account id length (1) ‖ account id ‖ last_activity ‖ id: an account's tickets (the
//!   ones it opened and the ones it keeps, `TicketRecord::kept_by`);
//! - `e` ‖ email lookup (32) ‖ id: the tickets not closed with a recovery address.
//!
//! Tree `ticket_counts`, values u64: under each inbox prefix (`i` ‖ assignee ‖ status) the
//! number of its entries, and under `o` ‖ account id length ‖ account id the account's open
//! tickets. A count of zero is no key.
//!
//! A list page is a range of one prefix read forwards or backwards from the cursor, so it costs
//! O(log n + page) whatever the number of tickets.

use std::collections::{BTreeMap, BTreeSet};
use std::ops::Bound;

use sled::Tree;
use sled::transaction::{ConflictableTransactionError, TransactionalTree};

use super::{
    AssigneeFilter, ListPosition, Order, Owner, Status, StatusFilter, StoreError, StoreResult,
    TicketCounts, TicketListPage, TicketListQuery, TicketRecord, TicketSet,
};

const INBOX: u8 = b'i';
const ACCOUNT: u8 = b'a';
const EMAIL: u8 = b'e';
const ACCOUNT_OPEN: u8 = b'o';

/// Bytes of the position suffix: last_activity (8) ‖ id (16).
const POSITION_LEN: usize = 24;

/// The status slots in key order.
pub(super) const STATUS_SLOTS: [StatusFilter; 6] = [
    StatusFilter::All,
    StatusFilter::Open,
    StatusFilter::Closed,
    StatusFilter::Waiting,
    StatusFilter::OnHold,
    StatusFilter::Unanswered,
];

fn status_slot(status: StatusFilter) -> u8 {
    match status {
        StatusFilter::All => 0,
        StatusFilter::Open => 1,
        StatusFilter::Closed => 2,
        StatusFilter::Waiting => 3,
        StatusFilter::OnHold => 4,
        StatusFilter::Unanswered => 5,
    }
}

fn push_assignee(key: &mut Vec<u8>, assignee: &AssigneeFilter) {
    match assignee {
        AssigneeFilter::Any => key.push(0),
        AssigneeFilter::Unassigned => key.push(1),
        AssigneeFilter::To(key_id) => {
            key.push(2);
            key.extend_from_slice(key_id);
        }
    }
}

fn push_account(key: &mut Vec<u8>, account_id: &str) -> StoreResult<()> {
    let length = u8::try_from(account_id.len())
        .map_err(|_| StoreError::Backend("an account id longer than 255 bytes".to_owned()))?;
    key.push(length);
    key.extend_from_slice(account_id.as_bytes());
    Ok(())
}

pub(super) fn inbox_prefix(status: StatusFilter, assignee: &AssigneeFilter) -> Vec<u8> {
    let mut key = vec![INBOX];
    push_assignee(&mut key, assignee);
    key.push(status_slot(status));
    key
}

/// The key prefix of the entries of `set`.
pub(super) fn set_prefix(set: &TicketSet) -> StoreResult<Vec<u8>> {
    match set {
        TicketSet::Inbox { status, assignee } => Ok(inbox_prefix(*status, assignee)),
        TicketSet::Account(account_id) => {
            let mut key = vec![ACCOUNT];
            push_account(&mut key, account_id)?;
            Ok(key)
        }
    }
}

fn with_position(prefix: &[u8], position: &ListPosition) -> Vec<u8> {
    let mut key = Vec::with_capacity(prefix.len() + POSITION_LEN);
    key.extend_from_slice(prefix);
    key.extend_from_slice(&position.last_activity.to_be_bytes());
    key.extend_from_slice(&position.id);
    key
}

fn position_of_key(key: &[u8]) -> Option<ListPosition> {
    let suffix = key.get(key.len().checked_sub(POSITION_LEN)?..)?;
    Some(ListPosition {
        last_activity: u64::from_be_bytes(suffix.get(..8)?.try_into().ok()?),
        id: suffix.get(8..)?.try_into().ok()?,
    })
}

/// The index entries and counter keys of one ticket.
#[derive(Default)]
pub(super) struct Entries {
    /// Keys of `ticket_index`.
    pub(super) index: BTreeSet<Vec<u8>>,
    /// Keys of `ticket_counts` this ticket adds one to.
    pub(super) counters: BTreeSet<Vec<u8>>,
}

/// Every index entry and counter of `ticket`.
pub(super) fn entries(ticket: &TicketRecord) -> StoreResult<Entries> {
    let mut entries = Entries::default();
    let position = ListPosition::of(ticket);
    let own_assignee = match ticket.assigned_to {
        Some(key_id) => AssigneeFilter::To(key_id),
        None => AssigneeFilter::Unassigned,
    };
    for assignee in [AssigneeFilter::Any, own_assignee] {
        for status in STATUS_SLOTS {
            if status.matches(ticket) {
                let prefix = inbox_prefix(status, &assignee);
                entries.index.insert(with_position(&prefix, &position));
                entries.counters.insert(prefix);
            }
        }
    }
    if let Owner::Account { account_id } = &ticket.owner {
        let mut prefix = vec![ACCOUNT];
        push_account(&mut prefix, account_id)?;
        entries.index.insert(with_position(&prefix, &position));
        if ticket.status == Status::Open {
            let mut counter = vec![ACCOUNT_OPEN];
            push_account(&mut counter, account_id)?;
            entries.counters.insert(counter);
        }
    }
    // An anonymous ticket kept by accounts (PROTOCOL.md §8.2, grounds 0x02) is in their lists,
    // but not among the tickets they opened (the open-ticket limit counts those only).
    for account_id in &ticket.kept_by {
        let mut prefix = vec![ACCOUNT];
        push_account(&mut prefix, account_id)?;
        entries.index.insert(with_position(&prefix, &position));
    }
    if let Some(lookup) = ticket.email_lookup
        && ticket.status != Status::Closed
    {
        let mut key = vec![EMAIL];
        key.extend_from_slice(&lookup);
        key.extend_from_slice(&ticket.id);
        entries.index.insert(key);
    }
    Ok(entries)
}

fn decode_count(bytes: &[u8]) -> StoreResult<u64> {
    Ok(u64::from_be_bytes(bytes.try_into().map_err(|_| {
        StoreError::Backend("corrupt ticket counter".to_owned())
    })?))
}

fn tx_error(error: StoreError) -> ConflictableTransactionError<StoreError> {
    ConflictableTransactionError::Abort(error)
}

/// Inside a transaction: replaces the entries and counters of `old` (the stored record, if
/// any) by those of `new` (the record written, if any). Only the differences are written.
pub(super) fn reindex(
    index: &TransactionalTree,
    counts: &TransactionalTree,
    old: Option<&TicketRecord>,
    new: Option<&TicketRecord>,
) -> Result<(), ConflictableTransactionError<StoreError>> {
    let old = old
        .map(entries)
        .transpose()
        .map_err(tx_error)?
        .unwrap_or_default();
    let new = new
        .map(entries)
        .transpose()
        .map_err(tx_error)?
        .unwrap_or_default();
    for key in old.index.difference(&new.index) {
        index.remove(key.as_slice())?;
    }
    for key in new.index.difference(&old.index) {
        index.insert(key.as_slice(), &[][..])?;
    }
    let changes = old
        .counters
        .difference(&new.counters)
        .map(|key| (key, false))
        .chain(
            new.counters
                .difference(&old.counters)
                .map(|key| (key, true)),
        );
    for (key, up) in changes {
        let current = match counts.get(key.as_slice())? {
            Some(bytes) => decode_count(&bytes).map_err(tx_error)?,
            None => 0,
        };
        // A counter below zero is damage `sealdesk check` reports; it stays at zero here.
        let next = if up {
            current.saturating_add(1)
        } else {
            current.saturating_sub(1)
        };
        if next == 0 {
            counts.remove(key.as_slice())?;
        } else {
            counts.insert(key.as_slice(), &next.to_be_bytes()[..])?;
        }
    }
    Ok(())
}

fn backend(error: sled::Error) -> StoreError {
    StoreError::Backend(error.to_string())
}

/// One page of `query` from `index`, the records read from `tickets` by id. An entry whose
/// record no longer matches it (written between the two reads) is passed over: the record's
/// new entries stand elsewhere in the index.
pub(super) fn list(
    index: &Tree,
    tickets: &Tree,
    query: &TicketListQuery,
    decode: impl Fn(&[u8]) -> StoreResult<TicketRecord>,
) -> StoreResult<TicketListPage> {
    let prefix = set_prefix(&query.set)?;
    let mut last = prefix.clone();
    last.extend_from_slice(&[0xff; POSITION_LEN]);
    let keys: Box<dyn Iterator<Item = sled::Result<(sled::IVec, sled::IVec)>>> =
        match (query.order, &query.after) {
            (Order::NewestFirst, Some(after)) => Box::new(
                index
                    .range((
                        Bound::Included(prefix.clone()),
                        Bound::Excluded(with_position(&prefix, after)),
                    ))
                    .rev(),
            ),
            (Order::NewestFirst, None) => Box::new(
                index
                    .range((Bound::Included(prefix.clone()), Bound::Included(last)))
                    .rev(),
            ),
            (Order::OldestFirst, Some(after)) => Box::new(index.range((
                Bound::Excluded(with_position(&prefix, after)),
                Bound::Included(last),
            ))),
            (Order::OldestFirst, None) => {
                Box::new(index.range((Bound::Included(prefix.clone()), Bound::Included(last))))
            }
        };
    let mut page = Vec::with_capacity(query.limit.min(256));
    let mut skipped = 0usize;
    for item in keys {
        let (key, _) = item.map_err(backend)?;
        // Keys of a longer prefix that shares these bytes (another account's id) are not ours.
        if key.len() != prefix.len() + POSITION_LEN {
            continue;
        }
        let position = position_of_key(&key)
            .ok_or_else(|| StoreError::Backend("corrupt ticket index key".to_owned()))?;
        let Some(bytes) = tickets.get(position.id).map_err(backend)? else {
            continue;
        };
        let ticket = decode(&bytes)?;
        if ListPosition::of(&ticket) != position || !query.set.matches(&ticket) {
            continue;
        }
        if skipped < query.skip {
            skipped += 1;
            continue;
        }
        if page.len() == query.limit {
            return Ok(TicketListPage {
                tickets: page,
                more: true,
            });
        }
        page.push(ticket);
    }
    Ok(TicketListPage {
        tickets: page,
        more: false,
    })
}

fn count(counts: &Tree, key: &[u8]) -> StoreResult<u64> {
    match counts.get(key).map_err(backend)? {
        Some(bytes) => decode_count(&bytes),
        None => Ok(0),
    }
}

/// The counters of the inbox filters for administrator `me`.
pub(super) fn ticket_counts(counts: &Tree, me: &[u8; 32]) -> StoreResult<TicketCounts> {
    let any = |status| count(counts, &inbox_prefix(status, &AssigneeFilter::Any));
    let not_closed = |assignee: AssigneeFilter| -> StoreResult<u64> {
        Ok(
            count(counts, &inbox_prefix(StatusFilter::All, &assignee))?.saturating_sub(count(
                counts,
                &inbox_prefix(StatusFilter::Closed, &assignee),
            )?),
        )
    };
    Ok(TicketCounts {
        all: any(StatusFilter::All)?,
        open: any(StatusFilter::Open)?,
        closed: any(StatusFilter::Closed)?,
        waiting: any(StatusFilter::Waiting)?,
        on_hold: any(StatusFilter::OnHold)?,
        unanswered: any(StatusFilter::Unanswered)?,
        assigned_to_me: not_closed(AssigneeFilter::To(*me))?,
        unassigned: not_closed(AssigneeFilter::Unassigned)?,
    })
}

/// The open tickets of `account_id`.
pub(super) fn open_tickets_of_account(counts: &Tree, account_id: &str) -> StoreResult<u64> {
    let mut key = vec![ACCOUNT_OPEN];
    push_account(&mut key, account_id)?;
    count(counts, &key)
}

/// The tickets not closed with email lookup `lookup`.
pub(super) fn by_email_lookup(index: &Tree, lookup: &[u8; 32]) -> StoreResult<Vec<[u8; 16]>> {
    let mut prefix = vec![EMAIL];
    prefix.extend_from_slice(lookup);
    index
        .scan_prefix(&prefix)
        .keys()
        .map(|key| {
            let key = key.map_err(backend)?;
            key.get(prefix.len()..)
                .and_then(|id| <[u8; 16]>::try_from(id).ok())
                .ok_or_else(|| StoreError::Backend("corrupt email index key".to_owned()))
        })
        .collect()
}

/// Every index entry, and every counter with its value.
type IndexContents = (BTreeSet<Vec<u8>>, BTreeMap<Vec<u8>, u64>);

/// What the indexes should hold for `tickets`.
pub(super) fn expected<'a>(
    tickets: impl IntoIterator<Item = &'a TicketRecord>,
) -> StoreResult<IndexContents> {
    let mut index = BTreeSet::new();
    let mut counters: BTreeMap<Vec<u8>, u64> = BTreeMap::new();
    for ticket in tickets {
        let found = entries(ticket)?;
        index.extend(found.index);
        for key in found.counters {
            *counters.entry(key).or_default() += 1;
        }
    }
    Ok((index, counters))
}

/// Replaces the contents of `index` and `counts` by what `tickets` require (the migration
/// from schema version 1, and a rebuild). Not atomic: the caller marks the indexes valid
/// (the schema version) only after this returned.
pub(super) fn rebuild<'a>(
    index: &Tree,
    counts: &Tree,
    tickets: impl IntoIterator<Item = &'a TicketRecord>,
) -> StoreResult<()> {
    index.clear().map_err(backend)?;
    counts.clear().map_err(backend)?;
    let (entries, counters) = expected(tickets)?;
    let mut batch = sled::Batch::default();
    for key in entries {
        batch.insert(key, &[][..]);
    }
    index.apply_batch(batch).map_err(backend)?;
    let mut batch = sled::Batch::default();
    for (key, value) in counters {
        batch.insert(key, &value.to_be_bytes()[..]);
    }
    counts.apply_batch(batch).map_err(backend)
}

/// Compares the indexes with what `tickets` require; one sentence per kind of disagreement
/// (for `sealdesk check`), empty when they agree.
pub(super) fn verify<'a>(
    index: &Tree,
    counts: &Tree,
    tickets: impl IntoIterator<Item = &'a TicketRecord>,
) -> StoreResult<Vec<String>> {
    let (want_index, want_counts) = expected(tickets)?;
    let have_index = index
        .iter()
        .keys()
        .map(|key| key.map(|k| k.to_vec()).map_err(backend))
        .collect::<StoreResult<BTreeSet<Vec<u8>>>>()?;
    let mut have_counts = BTreeMap::new();
    for item in counts.iter() {
        let (key, value) = item.map_err(backend)?;
        have_counts.insert(key.to_vec(), decode_count(&value)?);
    }
    let mut problems = Vec::new();
    let missing = want_index.difference(&have_index).count();
    let extra = have_index.difference(&want_index).count();
    if missing > 0 {
        problems.push(format!(
            "the ticket index lacks {missing} entries its ticket records require (lists would \
             leave those tickets out)"
        ));
    }
    if extra > 0 {
        problems.push(format!(
            "the ticket index holds {extra} entries no ticket record requires"
        ));
    }
    let wrong = want_counts
        .iter()
        .filter(|(key, value)| have_counts.get(*key) != Some(value))
        .count()
        + have_counts
            .keys()
            .filter(|key| !want_counts.contains_key(*key))
            .count();
    if wrong > 0 {
        problems.push(format!(
            "{wrong} ticket counters disagree with the ticket records (the inbox counts and \
             the open-ticket limit per account would be wrong)"
        ));
    }
    Ok(problems)
}
