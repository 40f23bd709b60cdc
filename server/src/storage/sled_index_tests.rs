//! Tests of the sled backend's ticket indexes ([`super::sled_index`]) through the store:
//! every list, counter and lookup against a full scan after each kind of write, cursor pages
//! while tickets change, the migration of a schema version 1 directory, and damage reports.
//! (A file of its own: inside `sled_index` they would import `sled_store`, which imports
//! `sled_index`.)

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
use std::collections::{BTreeMap, BTreeSet};

use super::sled_index::{STATUS_SLOTS, inbox_prefix};
use super::sled_store::{LOCK_WAIT, OnLostWrites, SledStore, open_waiting_for_lock};
use super::{
    AssigneeFilter, ListPosition, Order, Owner, Status, StatusFilter, Store, StoredMessage,
    TicketCounts, TicketListQuery, TicketRecord, TicketScan, TicketSet,
};

const ME: [u8; 32] = [9; 32];
const OTHER: [u8; 32] = [8; 32];

/// Ticket `n`: its status, answered flag, assignee, owner, keeping account and lookup vary
/// with `n`.
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
        // Some anonymous tickets are kept by an account (grounds 0x02): in its list, not its
        // open-ticket count.
        kept_by: if n % 8 == 2 {
            vec!["acc".into()]
        } else {
            Vec::new()
        },
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
    open_waiting_for_lock(&sled::Config::new().path(path), LOCK_WAIT).unwrap()
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
        let inspected = SledStore::open_with(dir.path(), OnLostWrites::Inspect).unwrap();
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
