//! `sealdesk check`: verifies a stopped server's data directory and reports every problem.
//!
//! It opens the database without changing the record of acknowledged writes
//! ([`OnLostWrites::Inspect`]) and checks, in this order:
//!
//! 1. the record of acknowledged writes against the database's commit count
//!    (`storage::commit_record`): fewer commits than were acknowledged is a loss;
//! 2. that every record of every tree can be read (a damaged page of the database shows here);
//! 3. the administrator directory log: the whole log verifies (PROTOCOL.md §7);
//! 4. every ticket: both chains are re-verified from their first message against the directory
//!    (PROTOCOL.md §10.2), each message stored under its own seq, and the result must equal the
//!    chain state stored with the ticket (which the server continues verification from), and
//!    the ticket's open/closed status must follow the conversation;
//! 5. every wrap: it decodes, is stored under its own ticket, chain, epoch and recipient, and
//!    verifies against its ticket's chain (PROTOCOL.md §6.3);
//! 6. every attachment: its ticket exists, its record decodes, its size is a valid encrypted
//!    size, and a completed upload has every chunk at its expected length; every chunk belongs
//!    to a declared attachment;
//! 7. messages stored for no ticket.
//!
//! The server cannot read an endorse message (PROTOCOL.md §8.2, kind 8): it took the endorsed
//! key from the post. Re-verification takes the endorsed keys from the stored conversation
//! state's reporters, in chain order; a final state that differs from the stored one is
//! reported.
//!
//! The report lists the counts, then each problem on its own line; [`Report::is_healthy`] is
//! false if there is any.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::Path;

use sealdesk_crypto::{
    Chain, ChainState, Directory, Kind, Members, Message, PublicIdentity, TicketId, WrappedKey,
};

use crate::attachments::{AttachmentRecord, chunk_count, chunk_range};
use crate::storage::commit_record::{Recorded, utc};
use crate::storage::sled_store::{OnLostWrites, SledStore};
use crate::storage::{RecordKind, Status, Store, TicketRecord, TicketScan};

/// Messages read per page while re-verifying a chain.
const PAGE: usize = 500;

/// The outcome of a check.
#[derive(Debug, Default)]
pub struct Report {
    /// Figures, one `name: value` line each, in the order found.
    pub counts: Vec<(String, String)>,
    /// Every problem found, as a sentence for the operator.
    pub problems: Vec<String>,
}

impl Report {
    /// Whether no problem was found.
    pub fn is_healthy(&self) -> bool {
        self.problems.is_empty()
    }

    fn count(&mut self, name: &str, value: impl ToString) {
        self.counts.push((name.to_owned(), value.to_string()));
    }

    fn problem(&mut self, problem: String) {
        self.problems.push(problem);
    }

    /// The report as printed: the counts, then the problems, then a verdict line.
    pub fn render(&self) -> String {
        let mut text = String::new();
        for (name, value) in &self.counts {
            let _ = writeln!(text, "{name}: {value}");
        }
        for problem in &self.problems {
            let _ = writeln!(text, "PROBLEM: {problem}");
        }
        if self.is_healthy() {
            text.push_str("check passed: no problem found\n");
        } else {
            let _ = writeln!(
                text,
                "check FAILED: {} problem(s). Keep this data directory as it is; restore the \
                 latest backup with `sealdesk restore BACKUP_FILE --force` (README.md, \"Damaged \
                 data\").",
                self.problems.len()
            );
        }
        text
    }
}

/// Checks the data directory `data_dir` (the server must be stopped).
///
/// # Errors
/// A sentence when the database cannot be opened at all (in use by a running server, not a
/// Sealdesk database, unreadable); every other finding is a problem of the [`Report`].
pub fn check(data_dir: &Path) -> Result<Report, String> {
    if !data_dir.join("db").is_file() {
        return Err(format!(
            "there is no Sealdesk database in {} (is data_dir set correctly?)",
            data_dir.display()
        ));
    }
    let store = SledStore::open_with(data_dir, OnLostWrites::Inspect).map_err(|e| {
        format!(
            "cannot open the database in {} (stop the server first): {e}",
            data_dir.display()
        )
    })?;
    let mut report = Report::default();
    check_commits(&store, &mut report);
    check_trees(&store, &mut report);
    let directory = check_directory(&store, &mut report);
    let tickets = match store.all_tickets() {
        Ok(tickets) => tickets,
        Err(error) => {
            report.problem(format!("the ticket records cannot be read: {error}"));
            Vec::new()
        }
    };
    report.count("tickets", tickets.len());
    check_indexes(&store, &tickets, &mut report);
    let mut states = BTreeMap::new();
    let mut messages = 0u64;
    for ticket in &tickets {
        let (checked, count) = check_ticket(&store, directory.as_ref(), ticket, &mut report);
        messages += count;
        states.insert(ticket.id, checked);
    }
    report.count("messages", messages);
    check_wraps(&store, directory.as_ref(), &states, &mut report);
    check_attachments(&store, &states, &mut report);
    check_orphan_messages(&store, &states, &mut report);
    Ok(report)
}

/// The ticket indexes and counters against the records (inbox lists, counts, an account's
/// tickets, the open-ticket limit and recovery by mail read only the indexes).
fn check_indexes(store: &SledStore, tickets: &[TicketRecord], report: &mut Report) {
    if !store.indexes_built() {
        // Schema version 1: `sealdesk serve` builds them when it opens the directory.
        return;
    }
    match store.verify_indexes(tickets) {
        Ok(problems) => {
            for problem in problems {
                report.problem(format!(
                    "{problem}; the inbox and account lists disagree with the tickets"
                ));
            }
        }
        Err(error) => report.problem(format!("the ticket indexes cannot be read: {error}")),
    }
}

fn hex_id(id: &[u8; 16]) -> String {
    hex::encode(id)
}

fn check_commits(store: &SledStore, report: &mut Report) {
    let integrity = store.integrity();
    report.count(
        "group commits in the database",
        format!(
            "{} (last at {})",
            integrity.stored.count,
            utc(integrity.stored.at)
        ),
    );
    match integrity.acknowledged {
        Recorded::Count(acknowledged) => report.count(
            "group commits acknowledged",
            format!("{} (last at {})", acknowledged.count, utc(acknowledged.at)),
        ),
        Recorded::Missing => report.count(
            "group commits acknowledged",
            "no record (a new or restored data directory)",
        ),
        Recorded::Damaged => report.count("group commits acknowledged", "record damaged"),
    }
    if let Some(problem) = integrity.problem() {
        report.problem(problem.to_string());
    }
}

fn check_trees(store: &SledStore, report: &mut Report) {
    for (tree, counted) in store.read_every_tree() {
        let name = if tree == "__sled__default" {
            "default".to_owned()
        } else {
            tree
        };
        match counted {
            Ok(count) => report.count(&format!("records in tree {name}"), count),
            Err(error) => report.problem(format!("tree {name} cannot be read in full: {error}")),
        }
    }
}

fn check_directory(store: &SledStore, report: &mut Report) -> Option<Directory> {
    let entries = match store.directory(0) {
        Ok(entries) => entries,
        Err(error) => {
            report.problem(format!("the directory log cannot be read: {error}"));
            return None;
        }
    };
    report.count("directory entries", entries.len());
    if entries.is_empty() {
        return None;
    }
    match Directory::verify_encoded(&entries) {
        Ok(directory) => {
            report.count("instance fingerprint", directory.instance_fingerprint());
            Some(directory)
        }
        Err(error) => {
            report.problem(format!(
                "the administrator directory log does not verify: {error}"
            ));
            None
        }
    }
}

/// What the ticket checks leave for the wrap checks: the ticket's members and its verified
/// chain states (`None` where a chain could not be verified).
struct CheckedTicket {
    members: Option<Members>,
    chains: [Option<ChainState>; 2],
}

/// Re-verifies both chains of `ticket`; returns what it verified and its number of messages.
fn check_ticket(
    store: &SledStore,
    directory: Option<&Directory>,
    ticket: &TicketRecord,
    report: &mut Report,
) -> (CheckedTicket, u64) {
    let name = hex_id(&ticket.id);
    let mut checked = CheckedTicket {
        members: None,
        chains: [None, None],
    };
    let Ok(reporter) = PublicIdentity::from_bytes(&ticket.reporter) else {
        report.problem(format!("ticket {name}: its reporter key does not decode"));
        return (checked, 0);
    };
    let members = Members::new(TicketId(ticket.id), reporter);
    let mut messages = 0;
    for chain in [Chain::Conversation, Chain::Notes] {
        let slot = usize::from(chain.to_u8());
        let Ok(stored) = ChainState::from_bytes(&ticket.chain_states[slot]) else {
            report.problem(format!(
                "ticket {name}: its stored {chain:?} chain state does not decode"
            ));
            continue;
        };
        let Some(directory) = directory else {
            report.problem(format!(
                "ticket {name}: cannot be verified without a valid administrator directory"
            ));
            break;
        };
        match replay(store, directory, &members, chain, &stored) {
            Ok((state, count)) => {
                messages += count;
                if state != stored {
                    report.problem(format!(
                        "ticket {name}: the {chain:?} chain holds {} message(s) up to seq {}, \
                         but the ticket's stored state is at seq {}: messages are missing or \
                         the ticket record is stale",
                        count,
                        state.last_seq(),
                        stored.last_seq()
                    ));
                }
                if chain == Chain::Conversation {
                    let closed = ticket.status == Status::Closed;
                    if closed != state.is_closed() {
                        report.problem(format!(
                            "ticket {name}: its status ({:?}) does not follow its conversation",
                            ticket.status
                        ));
                    }
                }
                checked.chains[slot] = Some(state);
            }
            Err(problem) => report.problem(format!("ticket {name}: {problem}")),
        }
    }
    checked.members = Some(members);
    (checked, messages)
}

/// Verifies `chain` of a ticket from its first stored message; returns the state reached and
/// the number of messages.
fn replay(
    store: &SledStore,
    directory: &Directory,
    members: &Members,
    chain: Chain,
    stored: &ChainState,
) -> Result<(ChainState, u64), String> {
    let id = members.ticket_id();
    let mut state = ChainState::new(id, chain);
    // Endorsed keys, in chain order, from the stored state (see the module documentation).
    let mut endorsed = stored.reporters().iter().skip(1);
    let mut count = 0u64;
    let mut after = 0;
    loop {
        let page = store
            .messages(&id.0, chain.to_u8(), after, PAGE)
            .map_err(|e| format!("the {chain:?} chain cannot be read: {e}"))?;
        let Some(last) = page.last() else {
            return Ok((state, count));
        };
        after = last.seq;
        for stored_message in &page {
            let seq = stored_message.seq;
            let message = Message::from_bytes(&stored_message.bytes)
                .map_err(|e| format!("{chain:?} message {seq} does not decode: {e}"))?;
            if message.header.seq != seq || message.header.chain != chain {
                return Err(format!(
                    "{chain:?} message {seq} is stored under the wrong position"
                ));
            }
            state.push(&message, members, directory).map_err(|fault| {
                format!("{chain:?} message {seq} does not verify as the next message: {fault:?}")
            })?;
            if message.header.kind == Kind::Endorse {
                let key = endorsed
                    .next()
                    .or_else(|| stored.reporters().first())
                    .cloned()
                    .ok_or_else(|| format!("endorse message {seq} endorses no stored key"))?;
                state
                    .accept_claimed_endorsement(key)
                    .map_err(|e| format!("endorse message {seq}: {e}"))?;
            }
            count += 1;
        }
    }
}

fn check_wraps(
    store: &SledStore,
    directory: Option<&Directory>,
    tickets: &BTreeMap<[u8; 16], CheckedTicket>,
    report: &mut Report,
) {
    let wraps = match store.all_wraps() {
        Ok(wraps) => wraps,
        Err(error) => {
            report.problem(format!("the wraps cannot be read: {error}"));
            return;
        }
    };
    report.count("wraps", wraps.len());
    for (id, record) in wraps {
        let name = hex_id(&id);
        let where_ = format!(
            "wrap of ticket {name} (chain {}, epoch {})",
            record.chain, record.epoch
        );
        let Some(ticket) = tickets.get(&id) else {
            report.problem(format!("{where_}: there is no such ticket"));
            continue;
        };
        let wrap = match WrappedKey::from_bytes(&record.bytes) {
            Ok(wrap) => wrap,
            Err(error) => {
                report.problem(format!("{where_}: does not decode: {error}"));
                continue;
            }
        };
        let context = &wrap.context;
        if context.ticket_id.0 != id
            || context.chain.to_u8() != record.chain
            || context.epoch != record.epoch
            || context.recipient.0 != record.recipient
        {
            report.problem(format!("{where_}: stored under another position"));
            continue;
        }
        let (Some(directory), Some(members), Some(Some(chain))) = (
            directory,
            ticket.members.as_ref(),
            ticket.chains.get(usize::from(record.chain)),
        ) else {
            // Its ticket's problem is reported already.
            continue;
        };
        if let Err(error) = wrap.verify(members, directory, chain) {
            report.problem(format!("{where_}: does not verify: {error}"));
        }
    }
}

fn check_attachments(
    store: &SledStore,
    tickets: &BTreeMap<[u8; 16], CheckedTicket>,
    report: &mut Report,
) {
    let (attachments, chunks) = match (
        store.scan(RecordKind::Attachment, &[]),
        store.scan(RecordKind::AttachmentChunk, &[]),
    ) {
        (Ok(attachments), Ok(chunks)) => (attachments, chunks),
        (Err(error), _) | (_, Err(error)) => {
            report.problem(format!("the attachments cannot be read: {error}"));
            return;
        }
    };
    report.count("attachments", attachments.len());
    report.count("attachment chunks", chunks.len());
    let mut chunk_lengths: BTreeMap<Vec<u8>, BTreeMap<u64, u64>> = BTreeMap::new();
    for (key, value) in &chunks {
        match (key.get(..32), key.get(32..).map(<[u8; 8]>::try_from)) {
            (Some(attachment), Some(Ok(index))) => {
                chunk_lengths
                    .entry(attachment.to_vec())
                    .or_default()
                    .insert(u64::from_be_bytes(index), value.len() as u64);
            }
            _ => report.problem("an attachment chunk has a malformed key".to_owned()),
        }
    }
    let mut declared = BTreeSet::new();
    for (key, value) in &attachments {
        let (Some(ticket), Some(attachment)) = (key.get(..16), key.get(16..32)) else {
            report.problem("an attachment record has a malformed key".to_owned());
            continue;
        };
        let name = format!(
            "attachment {} of ticket {}",
            hex::encode(attachment),
            hex::encode(ticket)
        );
        declared.insert(key.clone());
        if !<[u8; 16]>::try_from(ticket).is_ok_and(|id| tickets.contains_key(&id)) {
            report.problem(format!("{name}: there is no such ticket"));
        }
        let record: AttachmentRecord = match serde_json::from_slice(value) {
            Ok(record) => record,
            Err(error) => {
                report.problem(format!("{name}: its record does not decode: {error}"));
                continue;
            }
        };
        let Some(expected) = chunk_count(record.size) else {
            report.problem(format!(
                "{name}: {} bytes is no encrypted size",
                record.size
            ));
            continue;
        };
        if !record.complete {
            continue;
        }
        let present = chunk_lengths.get(key.as_slice());
        for index in 0..expected {
            let (start, end) = chunk_range(record.size, index);
            match present.and_then(|chunks| chunks.get(&index)) {
                Some(&length) if length == end - start => {}
                Some(&length) => report.problem(format!(
                    "{name}: chunk {index} holds {length} bytes, not {}",
                    end - start
                )),
                None => report.problem(format!("{name}: chunk {index} of {expected} is missing")),
            }
        }
    }
    for attachment in chunk_lengths.keys() {
        if !declared.contains(attachment) {
            report.problem(format!(
                "chunks of attachment {} belong to no declared upload",
                hex::encode(attachment)
            ));
        }
    }
}

fn check_orphan_messages(
    store: &SledStore,
    tickets: &BTreeMap<[u8; 16], CheckedTicket>,
    report: &mut Report,
) {
    match store.all_message_keys() {
        Ok(keys) => {
            let orphans: BTreeSet<[u8; 16]> = keys
                .iter()
                .filter(|(id, _, _)| !tickets.contains_key(id))
                .map(|(id, _, _)| *id)
                .collect();
            for id in orphans {
                report.problem(format!(
                    "messages are stored for ticket {}, which has no ticket record",
                    hex_id(&id)
                ));
            }
        }
        Err(error) => report.problem(format!("the messages cannot be read: {error}")),
    }
}
