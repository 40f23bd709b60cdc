//! The sled backend's secondary indexes over the `tickets` tree, kept in the same transaction
//! as the ticket record (spec/API.md, "Inbox"; issue 13: no request reads every ticket).
//!
//! Tree `ticket_index`, every value empty, integers big-endian:
//! - `i` ‖ assignee slot ‖ status slot (1) ‖ last_activity (u64) ‖ id (16): one entry per
//!   inbox list the ticket belongs to, for the assignee slots "any" and its own (`0x01`
//!   nobody, `0x02` ‖ key id (32)) and the status slots "all", its status and, when open and
//!   not answered, "unanswered" (4 or 6 entries);
//! - `a` ‖ account id length (1) ‖ account id ‖ last_activity ‖ id: an account's tickets;
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
const STATUS_SLOTS: [StatusFilter; 6] = [
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

fn inbox_prefix(status: StatusFilter, assignee: &AssigneeFilter) -> Vec<u8> {
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

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::super::sled_store::SledStore;
    use super::super::{Store, StoredMessage, TicketScan};
    use super::*;

    const ME: [u8; 32] = [9; 32];
    const OTHER: [u8; 32] = [8; 32];

    /// Ticket `n`: its status, answered flag, assignee, owner and lookup vary with `n`.
    fn ticket(n: u16) -> TicketRecord {
        let mut id = [0; 16];
        id[..2].copy_from_slice(&n.to_be_bytes());
        id[15] = 0x5a;
        let owner = match n % 4 {
            0 => Owner::Account {
                account_id: "acc".into(),
            },
            1 => Owner::Account {
                account_id: "acc1".into(),
            },
            _ => Owner::Anonymous {
                access_token_hash: [n as u8; 32],
            },
        };
        TicketRecord {
            id,
            reporter: vec![7; 64],
            endorsements: Vec::new(),
            owner,
            created_at: 1_000,
            // Ties on purpose: several tickets share a last activity.
            last_activity: 1_000 + u64::from(n / 3),
            status: [
                Status::Open,
                Status::Closed,
                Status::Waiting,
                Status::OnHold,
            ][usize::from(n % 4)],
            answered: n.is_multiple_of(3),
            assigned_to: [None, Some(ME), Some(OTHER)][usize::from(n % 3)],
            email_lookup: n.is_multiple_of(2).then_some([(n % 5) as u8; 32]),
            chain_states: [Vec::new(), Vec::new()],
            storage_bytes: 0,
        }
    }

    fn first() -> StoredMessage {
        StoredMessage {
            seq: 1,
            received_at: 1,
            bytes: vec![1],
        }
    }

    /// The raw database (sled releases its lock shortly after the last handle is dropped).
    fn raw(path: &std::path::Path) -> sled::Db {
        super::super::sled_store::open_waiting_for_lock(
            &sled::Config::new().path(path),
            super::super::sled_store::LOCK_WAIT,
        )
        .unwrap()
    }

    fn open() -> (tempfile::TempDir, SledStore) {
        let dir = tempfile::tempdir().unwrap();
        let store = SledStore::open(dir.path()).unwrap();
        (dir, store)
    }

    fn sets() -> Vec<TicketSet> {
        let mut sets = Vec::new();
        for status in STATUS_SLOTS {
            for assignee in [
                AssigneeFilter::Any,
                AssigneeFilter::Unassigned,
                AssigneeFilter::To(ME),
                AssigneeFilter::To(OTHER),
            ] {
                sets.push(TicketSet::Inbox { status, assignee });
            }
        }
        for account in ["acc", "acc1", "nobody"] {
            sets.push(TicketSet::Account(account.into()));
        }
        sets
    }

    /// What a full scan answers: the ids of `set` in `order`.
    fn scanned(all: &[TicketRecord], set: &TicketSet, order: Order) -> Vec<[u8; 16]> {
        let mut found: Vec<ListPosition> = all
            .iter()
            .filter(|t| set.matches(t))
            .map(ListPosition::of)
            .collect();
        found.sort();
        if order == Order::NewestFirst {
            found.reverse();
        }
        found.into_iter().map(|p| p.id).collect()
    }

    /// Every list page by page (limit 7, by cursor) and every counter against a full scan.
    fn assert_consistent(store: &SledStore) {
        let all = store.all_tickets().unwrap();
        assert_eq!(store.verify_indexes(&all).unwrap(), Vec::<String>::new());
        for set in sets() {
            for order in [Order::NewestFirst, Order::OldestFirst] {
                let mut listed = Vec::new();
                let mut after = None;
                loop {
                    let page = store
                        .list_tickets(&TicketListQuery {
                            set: set.clone(),
                            order,
                            after,
                            skip: 0,
                            limit: 7,
                        })
                        .unwrap();
                    listed.extend(page.tickets.iter().map(|t| t.id));
                    after = page.tickets.last().map(ListPosition::of);
                    if !page.more {
                        break;
                    }
                }
                assert_eq!(listed, scanned(&all, &set, order), "{set:?} {order:?}");
            }
        }
        let count = |f: &dyn Fn(&TicketRecord) -> bool| all.iter().filter(|t| f(t)).count() as u64;
        let not_closed = |t: &TicketRecord| t.status != Status::Closed;
        assert_eq!(
            store.ticket_counts(&ME).unwrap(),
            TicketCounts {
                all: all.len() as u64,
                open: count(&|t| t.status == Status::Open),
                closed: count(&|t| t.status == Status::Closed),
                waiting: count(&|t| t.status == Status::Waiting),
                on_hold: count(&|t| t.status == Status::OnHold),
                unanswered: count(&|t| t.status == Status::Open && !t.answered),
                assigned_to_me: count(&|t| not_closed(t) && t.assigned_to == Some(ME)),
                unassigned: count(&|t| not_closed(t) && t.assigned_to.is_none()),
            }
        );
        for account in ["acc", "acc1", "nobody"] {
            let owned_open = count(&|t| {
                t.status == Status::Open
                    && matches!(&t.owner, Owner::Account { account_id } if account_id == account)
            });
            assert_eq!(store.open_tickets_of_account(account).unwrap(), owned_open);
        }
        for n in 0..5u8 {
            let lookup = [n; 32];
            let mut want: Vec<[u8; 16]> = all
                .iter()
                .filter(|t| not_closed(t) && t.email_lookup == Some(lookup))
                .map(|t| t.id)
                .collect();
            want.sort();
            assert_eq!(store.tickets_by_email_lookup(&lookup).unwrap(), want);
        }
    }

    #[test]
    fn indexes_follow_create_post_status_assign_and_delete() {
        let (_dir, store) = open();
        assert_consistent(&store);
        for n in 0..40 {
            store.create_ticket(&ticket(n), &first(), &[]).unwrap();
        }
        assert_consistent(&store);
        assert_eq!(store.ticket_counts(&ME).unwrap().all, 40);
        // A post: new activity, answered changes, status reopens.
        for n in [0u16, 5, 6, 13] {
            let mut t = ticket(n);
            t.last_activity = 5_000 + u64::from(n);
            t.answered = !t.answered;
            t.status = Status::Open;
            store
                .append_message(&t, 0, &StoredMessage { seq: 2, ..first() }, &[])
                .unwrap();
        }
        assert_consistent(&store);
        // Status changes and assignment (update without a message).
        for (n, status, assignee) in [
            (1u16, Status::Open, None),
            (2, Status::Closed, Some(ME)),
            (3, Status::Waiting, Some(OTHER)),
            (4, Status::OnHold, Some(ME)),
        ] {
            let mut t = store.ticket(&ticket(n).id).unwrap().unwrap();
            t.status = status;
            t.assigned_to = assignee;
            store.update_ticket(&t).unwrap();
        }
        assert_consistent(&store);
        // Deletion of closed tickets.
        for t in store.all_tickets().unwrap() {
            if t.status == Status::Closed {
                store.delete_ticket(&t).unwrap();
            }
        }
        assert_consistent(&store);
        assert_eq!(store.ticket_counts(&ME).unwrap().closed, 0);
        // A failed write (conflict) changes no index.
        let before = store.ticket_counts(&ME).unwrap();
        assert!(store.create_ticket(&ticket(1), &first(), &[]).is_err());
        assert_eq!(store.ticket_counts(&ME).unwrap(), before);
        assert_consistent(&store);
    }

    #[test]
    fn numbered_pages_skip_through_the_index() {
        let (_dir, store) = open();
        for n in 0..30 {
            store.create_ticket(&ticket(n), &first(), &[]).unwrap();
        }
        let all = store.all_tickets().unwrap();
        let set = TicketSet::Inbox {
            status: StatusFilter::All,
            assignee: AssigneeFilter::Any,
        };
        let want = scanned(&all, &set, Order::NewestFirst);
        let page = |skip| {
            store
                .list_tickets(&TicketListQuery {
                    set: set.clone(),
                    order: Order::NewestFirst,
                    after: None,
                    skip,
                    limit: 10,
                })
                .unwrap()
        };
        let second = page(10);
        assert!(second.more);
        assert_eq!(
            second.tickets.iter().map(|t| t.id).collect::<Vec<_>>(),
            want[10..20]
        );
        let last = page(20);
        assert!(!last.more);
        assert_eq!(last.tickets.len(), 10);
        assert!(page(30).tickets.is_empty());
    }

    /// Keyset pagination while tickets change: every ticket that does not change is listed
    /// exactly once; newest first, no ticket is listed twice.
    #[test]
    fn cursor_pages_have_no_duplicates_or_gaps_while_tickets_change() {
        let (_dir, store) = open();
        for n in 0..120 {
            store.create_ticket(&ticket(n), &first(), &[]).unwrap();
        }
        let set = TicketSet::Inbox {
            status: StatusFilter::All,
            assignee: AssigneeFilter::Any,
        };
        let mut round = 0u64;
        for order in [Order::NewestFirst, Order::OldestFirst] {
            let untouched: BTreeSet<[u8; 16]> =
                store.all_tickets().unwrap().iter().map(|t| t.id).collect();
            let mut untouched = untouched;
            let mut seen: BTreeMap<[u8; 16], usize> = BTreeMap::new();
            let mut after = None;
            loop {
                let page = store
                    .list_tickets(&TicketListQuery {
                        set: set.clone(),
                        order,
                        after,
                        skip: 0,
                        limit: 10,
                    })
                    .unwrap();
                for t in &page.tickets {
                    *seen.entry(t.id).or_default() += 1;
                }
                after = page.tickets.last().map(ListPosition::of);
                // Between pages: a listed and a not yet listed ticket get new activity, and
                // one ticket not yet listed is created.
                round += 1;
                let all = store.all_tickets().unwrap();
                let chosen: Vec<TicketRecord> = all
                    .iter()
                    .filter(|t| untouched.contains(&t.id))
                    .step_by(37)
                    .take(2)
                    .cloned()
                    .collect();
                for t in chosen {
                    let mut changed = t.clone();
                    changed.last_activity = 10_000 + round;
                    changed.answered = !changed.answered;
                    store.update_ticket(&changed).unwrap();
                    untouched.remove(&t.id);
                }
                let mut new = ticket(1_000 + round as u16);
                new.last_activity = 20_000 + round;
                store.create_ticket(&new, &first(), &[]).unwrap();
                if !page.more {
                    break;
                }
            }
            // Newest first, a ticket written to moves before the cursor: nothing repeats.
            // Oldest first, it moves after the cursor and may be listed again there.
            if order == Order::NewestFirst {
                assert!(
                    seen.values().all(|&times| times == 1),
                    "a ticket listed twice"
                );
            } else {
                assert!(seen.values().all(|&times| times <= 2));
            }
            for id in &untouched {
                assert_eq!(seen.get(id), Some(&1), "an unchanged ticket was skipped");
            }
        }
    }

    /// A data directory of schema version 1 (no indexes) gets them when opened; `sealdesk
    /// check` (inspect) leaves it as it is; a damaged index is reported.
    #[test]
    fn version_1_directories_are_migrated_and_damage_is_reported() {
        let dir = tempfile::tempdir().unwrap();
        {
            let store = SledStore::open(dir.path()).unwrap();
            for n in 0..25 {
                store.create_ticket(&ticket(n), &first(), &[]).unwrap();
            }
            store.flush_now().unwrap();
        }
        // Make it what version 1 wrote: no index trees, version 1.
        {
            let db = raw(dir.path());
            db.drop_tree("ticket_index").unwrap();
            db.drop_tree("ticket_counts").unwrap();
            db.open_tree("meta")
                .unwrap()
                .insert(b"schema_version", &1u32.to_be_bytes()[..])
                .unwrap();
            db.flush().unwrap();
        }
        {
            let inspected =
                SledStore::open_with(dir.path(), super::super::sled_store::OnLostWrites::Inspect)
                    .unwrap();
            assert!(!inspected.indexes_built());
            assert_eq!(
                inspected.ticket_counts(&ME).unwrap().all,
                0,
                "nothing written"
            );
        }
        let store = SledStore::open(dir.path()).unwrap();
        assert!(store.indexes_built());
        assert_eq!(store.ticket_counts(&ME).unwrap().all, 25);
        assert_consistent(&store);
        drop(store);
        let db = raw(dir.path());
        let version = db
            .open_tree("meta")
            .unwrap()
            .get(b"schema_version")
            .unwrap()
            .unwrap();
        assert_eq!(version.as_ref(), &2u32.to_be_bytes()[..]);
        // Damage: one entry lost, one counter wrong.
        let index = db.open_tree("ticket_index").unwrap();
        let key = index.iter().keys().next().unwrap().unwrap();
        index.remove(key).unwrap();
        db.open_tree("ticket_counts")
            .unwrap()
            .insert(
                inbox_prefix(StatusFilter::All, &AssigneeFilter::Any),
                &99u64.to_be_bytes()[..],
            )
            .unwrap();
        db.flush().unwrap();
        drop(index);
        drop(db);
        let store = SledStore::open(dir.path()).unwrap();
        let problems = store.verify_indexes(&store.all_tickets().unwrap()).unwrap();
        assert_eq!(problems.len(), 2, "{problems:?}");
        assert!(problems[0].contains("lacks 1 entries"), "{problems:?}");
        assert!(problems[1].contains("1 ticket counters"), "{problems:?}");
        store.rebuild_indexes().unwrap();
        assert_consistent(&store);
    }
}
