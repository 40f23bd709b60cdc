//! Scenario tests: one behaviour per test, each asserting the exact error or fault.

// Test and tool code: a failed expectation stops the run, so it may unwrap, expect and
// panic (the workspace denies these in library code: Cargo.toml, clippy.toml).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[cfg(target_arch = "wasm32")]
wasm_bindgen_test::wasm_bindgen_test_configure!(run_in_browser);

mod common;

use common::{Desk, TestRng, bytes, conversation, identity, key, next};
use sealdesk_crypto::{
    AccessToken, Argon2Params, AuthKey, CHUNK_LEN, Chain, ChainState, ConversationStatus,
    Directory, DirectoryEntry, ENCRYPTED_CHUNK_LEN, ENDORSE_CONTENT_LEN, ENDORSE_CONTENT_VERSION,
    EndorseContent, Error, FRAGMENT_LEN, Fault, FileKey, HEADER_LEN, Identity, IdentitySeed, KeyId,
    Keyring, KeyringKey, Kind, MAX_CONTENT_LEN, MAX_KEYRING_LEN, MasterKey, Members, Message,
    PUBLIC_IDENTITY_LEN, PublicIdentity, SALT_LEN, STREAM_NONCE_LEN, StreamDecryptor,
    StreamEncryptor, TAG_LEN, TicketId, TicketKey, TicketSecret, WrapSlot, WrappedKey, Zeroizing,
    encrypted_len, padded_len,
};

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

fn ids(list: Vec<&PublicIdentity>) -> Vec<KeyId> {
    list.into_iter().map(PublicIdentity::key_id).collect()
}

fn transcript_err(index: usize, seq: u64, fault: Fault) -> Error {
    Error::Transcript { index, seq, fault }
}

fn dir_err(index: u64, fault: Fault) -> Error {
    Error::Directory { index, fault }
}

/// A message to write with [`write`]: who seals it, with which epoch's key, at which
/// directory position, of which kind, with what content.
struct Draft<'a> {
    sender: &'a Identity,
    key: &'a TicketKey,
    epoch: u32,
    dir_seq: u64,
    kind: Kind,
    content: &'a [u8],
}

/// Seals `draft` as the next message of `state` and checks it in (panics if rejected).
fn write(state: &mut ChainState, desk: &Desk, draft: Draft<'_>, rng: &mut TestRng) -> Message {
    let Draft {
        sender,
        key,
        epoch,
        dir_seq,
        kind,
        content,
    } = draft;
    let message =
        Message::seal(sender, next(state, epoch, dir_seq, kind), key, content, rng).expect("seal");
    state
        .push(&message, &desk.members, &desk.directory)
        .expect("valid message");
    message
}

/// A five-message conversation at directory position 2, epoch 0:
/// reporter, A, reporter, B, reporter.
fn five_messages(desk: &Desk, rng: &mut TestRng) -> Vec<Vec<u8>> {
    let mut state = conversation(desk);
    let k = key(7);
    let senders = [
        &desk.reporter,
        &desk.admins[0],
        &desk.reporter,
        &desk.admins[1],
        &desk.reporter,
    ];
    senders
        .iter()
        .enumerate()
        .map(|(i, sender)| {
            let content = format!("message {}", i + 1);
            write(
                &mut state,
                desk,
                Draft {
                    sender,
                    key: &k,
                    epoch: 0,
                    dir_seq: 2,
                    kind: Kind::Message,
                    content: content.as_bytes(),
                },
                rng,
            )
            .to_bytes()
        })
        .collect()
}

fn verify(desk: &Desk, messages: &[Vec<u8>]) -> Result<ChainState, Error> {
    ChainState::verify_encoded(
        desk.ticket,
        Chain::Conversation,
        messages,
        &desk.members,
        &desk.directory,
    )
}

/// Flips bit `bit` of message `index` and checks the fault, and that a state holding the first
/// `index` messages is unchanged by the failed extension.
fn assert_flip(
    desk: &Desk,
    messages: &[Vec<u8>],
    index: usize,
    offset: usize,
    bit: u8,
    want: Error,
) {
    let mut altered = messages.to_vec();
    altered[index][offset] ^= 1 << bit;
    assert_eq!(
        verify(desk, &altered).unwrap_err(),
        want,
        "offset {offset} bit {bit}"
    );
    let mut state = verify(desk, &messages[..index]).unwrap();
    let before = state.clone();
    assert_eq!(
        state
            .extend_encoded(&altered[index..], &desk.members, &desk.directory)
            .unwrap_err(),
        match want {
            Error::Transcript { seq, fault, .. } => transcript_err(0, seq, fault),
            other => other,
        }
    );
    assert_eq!(state, before);
}

// ---------------------------------------------------------------------------------------------
// Directory
// ---------------------------------------------------------------------------------------------

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn directory_genesis_add_remove_verifies() {
    let (a, b, c) = (identity(1), identity(2), identity(3));
    let genesis = DirectoryEntry::genesis(&a);
    let mut dir = Directory::verify(std::slice::from_ref(&genesis)).unwrap();
    let add_b = DirectoryEntry::add(&dir, &a, b.public()).unwrap();
    dir.extend(std::slice::from_ref(&add_b)).unwrap();
    // The newly added administrator can add another, who can remove the first.
    let add_c = DirectoryEntry::add(&dir, &b, c.public()).unwrap();
    dir.extend(std::slice::from_ref(&add_c)).unwrap();
    let remove_a = DirectoryEntry::remove(&dir, &c, a.public()).unwrap();
    dir.extend(std::slice::from_ref(&remove_a)).unwrap();

    let log = vec![genesis, add_b, add_c, remove_a.clone()];
    let verified = Directory::verify(&log).unwrap();
    assert_eq!(verified.entries(), &log[..]);
    assert_eq!(verified.head_seq(), 3);
    assert_eq!(verified.head().hash, remove_a.hash());
    assert_eq!(verified.head(), dir.head());
    assert_eq!(ids(verified.current_admins()), vec![b.key_id(), c.key_id()]);

    let encoded: Vec<Vec<u8>> = log.iter().map(DirectoryEntry::to_bytes).collect();
    assert_eq!(
        Directory::verify_encoded(&encoded).unwrap().head(),
        dir.head()
    );
    let mut incremental = Directory::verify_encoded(&encoded[..1]).unwrap();
    incremental.extend_encoded(&encoded[1..]).unwrap();
    assert_eq!(incremental.head(), dir.head());
}

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn directory_empty_log_is_malformed() {
    let empty: [DirectoryEntry; 0] = [];
    assert_eq!(
        Directory::verify(&empty).unwrap_err(),
        dir_err(0, Fault::Malformed)
    );
}

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn directory_check_extends_accepts_extension() {
    let desk = Desk::new();
    let short = Directory::verify(&desk.directory.entries()[..2]).unwrap();
    desk.directory.check_extends(&short.head()).unwrap();
    desk.directory
        .check_extends(&desk.directory.head())
        .unwrap();
}

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn directory_check_extends_rejects_rollback() {
    let desk = Desk::new();
    let short = Directory::verify(&desk.directory.entries()[..2]).unwrap();
    assert_eq!(
        short.check_extends(&desk.directory.head()).unwrap_err(),
        Error::DirectoryRollback
    );
}

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn directory_check_extends_rejects_fork() {
    let desk = Desk::new();
    // Same genesis, then a different entry at position 1, then more entries.
    let mut fork = Directory::verify(&desk.directory.entries()[..1]).unwrap();
    for n in [0x40, 0x41, 0x42] {
        let entry = DirectoryEntry::add(&fork, &desk.admins[0], identity(n).public()).unwrap();
        fork.extend(&[entry]).unwrap();
    }
    let pinned = Directory::verify(&desk.directory.entries()[..2])
        .unwrap()
        .head();
    assert_eq!(
        fork.check_extends(&pinned).unwrap_err(),
        Error::DirectoryFork
    );
    assert_eq!(
        fork.check_extends(&desk.directory.head()).unwrap_err(),
        Error::DirectoryFork
    );
    // Position 0 is shared.
    let genesis_head = Directory::verify(&desk.directory.entries()[..1])
        .unwrap()
        .head();
    fork.check_extends(&genesis_head).unwrap();
}

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn directory_rejects_non_admin_signer() {
    let desk = Desk::new();
    let outsider = identity(0x99);
    assert_eq!(
        DirectoryEntry::add(&desk.directory, &outsider, identity(0x40).public()).unwrap_err(),
        dir_err(3, Fault::NotAMember)
    );
    // An entry claiming an outsider as signer, checked by the log.
    let mut entry =
        DirectoryEntry::add(&desk.directory, &desk.admins[0], identity(0x40).public()).unwrap();
    entry.signer = outsider.key_id();
    let mut dir = desk.directory.clone();
    assert_eq!(
        dir.extend(&[entry]).unwrap_err(),
        dir_err(3, Fault::NotAMember)
    );
    assert_eq!(dir.head(), desk.directory.head());
}

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn directory_rejects_removed_admin_as_signer() {
    let mut desk = Desk::new();
    desk.remove_admin(1); // B, at 3
    assert_eq!(
        DirectoryEntry::add(&desk.directory, &desk.admins[1], identity(0x40).public()).unwrap_err(),
        dir_err(4, Fault::NotAMember)
    );
}

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn directory_rejects_readding_a_removed_key() {
    let mut desk = Desk::new();
    desk.remove_admin(1);
    assert_eq!(
        DirectoryEntry::add(&desk.directory, &desk.admins[0], desk.admins[1].public()).unwrap_err(),
        dir_err(4, Fault::InvalidOperation)
    );
}

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn directory_rejects_adding_a_current_admin() {
    let desk = Desk::new();
    assert_eq!(
        DirectoryEntry::add(&desk.directory, &desk.admins[0], desk.admins[2].public()).unwrap_err(),
        dir_err(3, Fault::InvalidOperation)
    );
}

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn directory_rejects_removing_the_last_admin() {
    let a = identity(1);
    let dir = Directory::verify(&[DirectoryEntry::genesis(&a)]).unwrap();
    assert_eq!(
        DirectoryEntry::remove(&dir, &a, a.public()).unwrap_err(),
        dir_err(1, Fault::InvalidOperation)
    );
    // Also after others came and went.
    let mut desk = Desk::new();
    desk.remove_admin(1); // 3
    desk.remove_admin(2); // 4
    assert_eq!(
        DirectoryEntry::remove(&desk.directory, &desk.admins[0], desk.admins[0].public())
            .unwrap_err(),
        dir_err(5, Fault::InvalidOperation)
    );
}

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn directory_rejects_removing_a_non_member() {
    let desk = Desk::new();
    assert_eq!(
        DirectoryEntry::remove(&desk.directory, &desk.admins[0], identity(0x40).public())
            .unwrap_err(),
        dir_err(3, Fault::InvalidOperation)
    );
}

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn directory_rejects_second_genesis() {
    let desk = Desk::new();
    let mut entry = DirectoryEntry::genesis(&desk.admins[0]);
    entry.seq = 3;
    entry.prev_hash = desk.directory.head().hash;
    let mut dir = desk.directory.clone();
    assert_eq!(
        dir.extend(&[entry]).unwrap_err(),
        dir_err(3, Fault::InvalidOperation)
    );
    // And a log whose first entry is not a genesis.
    let log = desk.directory.entries();
    assert_eq!(
        Directory::verify(&log[1..]).unwrap_err(),
        dir_err(0, Fault::InvalidOperation)
    );
}

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn directory_rejects_broken_prev_hash() {
    let desk = Desk::new();
    let mut log = desk.directory.entries().to_vec();
    log[2].prev_hash[7] ^= 0x10;
    assert_eq!(
        Directory::verify(&log).unwrap_err(),
        dir_err(2, Fault::BrokenLink)
    );
    // Altering an earlier entry breaks the link of the next one.
    let mut log = desk.directory.entries().to_vec();
    log[1].signature[0] ^= 1;
    assert_eq!(
        Directory::verify(&log).unwrap_err(),
        dir_err(1, Fault::BadSignature)
    );
    let mut log = desk.directory.entries().to_vec();
    log[0].prev_hash[0] = 1;
    assert_eq!(
        Directory::verify(&log).unwrap_err(),
        dir_err(0, Fault::BrokenLink)
    );
}

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn directory_rejects_wrong_seq() {
    let desk = Desk::new();
    let mut log = desk.directory.entries().to_vec();
    log[2].seq = 5;
    assert_eq!(
        Directory::verify(&log).unwrap_err(),
        dir_err(
            2,
            Fault::UnexpectedSeq {
                expected: 2,
                found: 5
            }
        )
    );
    let mut log = desk.directory.entries().to_vec();
    log[0].seq = 1;
    assert_eq!(
        Directory::verify(&log).unwrap_err(),
        dir_err(
            0,
            Fault::UnexpectedSeq {
                expected: 0,
                found: 1
            }
        )
    );
    // A duplicated entry.
    let mut log = desk.directory.entries().to_vec();
    log.insert(2, log[1].clone());
    assert_eq!(
        Directory::verify(&log).unwrap_err(),
        dir_err(
            2,
            Fault::UnexpectedSeq {
                expected: 2,
                found: 1
            }
        )
    );
}

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn directory_rejects_bad_signature_and_undecodable_entry() {
    let desk = Desk::new();
    let mut entry =
        DirectoryEntry::add(&desk.directory, &desk.admins[1], identity(0x40).public()).unwrap();
    entry.signature[63] ^= 0x01;
    let mut dir = desk.directory.clone();
    assert_eq!(
        dir.extend(&[entry.clone()]).unwrap_err(),
        dir_err(3, Fault::BadSignature)
    );
    let mut encoded: Vec<Vec<u8>> = desk
        .directory
        .entries()
        .iter()
        .map(DirectoryEntry::to_bytes)
        .collect();
    encoded[1].pop();
    assert_eq!(
        Directory::verify_encoded(&encoded).unwrap_err(),
        dir_err(1, Fault::Malformed)
    );
    let mut bytes = entry.to_bytes();
    bytes[0] = 2;
    assert_eq!(
        dir.extend_encoded(&[bytes]).unwrap_err(),
        dir_err(3, Fault::Malformed)
    );
}

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn directory_admin_sets_over_time() {
    let mut desk = Desk::new(); // A at 0, B at 1, C at 2
    desk.remove_admin(1); // B removed at 3
    let (a, b, c) = (
        desk.admins[0].key_id(),
        desk.admins[1].key_id(),
        desk.admins[2].key_id(),
    );
    let dir = &desk.directory;

    assert!(dir.admin_at(0, &a).is_some());
    assert!(dir.admin_at(0, &b).is_none());
    assert_eq!(dir.admin_at(1, &b).map(PublicIdentity::key_id), Some(b));
    assert!(dir.admin_at(2, &b).is_some());
    assert!(dir.admin_at(3, &b).is_none());
    assert!(dir.admin_at(1, &c).is_none());
    assert!(dir.admin_at(3, &c).is_some());
    assert!(dir.admin_at(3, &identity(0x40).key_id()).is_none());

    assert_eq!(ids(dir.admins_at(0)), vec![a]);
    assert_eq!(ids(dir.admins_at(1)), vec![a, b]);
    assert_eq!(ids(dir.admins_at(2)), vec![a, b, c]);
    assert_eq!(ids(dir.admins_at(3)), vec![a, c]);
    assert_eq!(ids(dir.current_admins()), vec![a, c]);

    assert!(dir.removed_between(2, 3));
    assert!(dir.removed_between(0, 3));
    assert!(dir.removed_between(0, 100));
    assert!(!dir.removed_between(3, 3));
    assert!(!dir.removed_between(0, 2));
    assert!(!dir.removed_between(3, 100));
}

// ---------------------------------------------------------------------------------------------
// Ticket lifecycle
// ---------------------------------------------------------------------------------------------

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn ticket_reporter_opens_admin_replies_reporter_reads() {
    let desk = Desk::new();
    let mut rng = TestRng::new(1);
    let head = desk.directory.head_seq();

    // The reporter (derived from the link secret) opens the ticket: epoch-0 key, wrapped for
    // itself and each current administrator, and the first message.
    let reporter = desk.secret.identity();
    assert_eq!(reporter.key_id(), desk.reporter.key_id());
    let key0 = TicketKey::generate(&mut rng);
    let recipients: Vec<PublicIdentity> = std::iter::once(reporter.public().clone())
        .chain(desk.directory.current_admins().into_iter().cloned())
        .collect();
    let wraps: Vec<Vec<u8>> = recipients
        .iter()
        .map(|r| {
            WrappedKey::seal(
                &reporter,
                r,
                WrapSlot {
                    ticket_id: desk.ticket,
                    chain: Chain::Conversation,
                    epoch: 0,
                    dir_seq: head,
                },
                &key0,
                &mut rng,
            )
            .unwrap()
            .to_bytes()
        })
        .collect();
    assert_eq!(wraps.len(), 4);
    let first = Message::seal(
        &reporter,
        next(&conversation(&desk), 0, head, Kind::Message),
        &key0,
        b"the printer is on fire",
        &mut rng,
    )
    .unwrap();
    assert_eq!(first.header.seq, 1);
    assert_eq!(first.header.prev_hash, [0u8; 32]);
    assert_eq!(first.header.sender, reporter.key_id());
    let mut log = vec![first.to_bytes()];

    // Administrator B reads: verify the transcript, the wrap, then decrypt.
    let admin = &desk.admins[1];
    let state = verify(&desk, &log).unwrap();
    assert_eq!(state.epoch(), Some(0));
    assert_eq!(state.epoch_opened_at(0), Some(head));
    let wrap = wraps
        .iter()
        .map(|w| WrappedKey::from_bytes(w).unwrap())
        .find(|w| w.context.recipient == admin.key_id())
        .unwrap();
    wrap.verify(&desk.members, &desk.directory, &state).unwrap();
    let admin_key = wrap.open(admin).unwrap();
    assert_eq!(admin_key, key0);
    let verified = ChainState::new(desk.ticket, Chain::Conversation)
        .extend_encoded(&log, &desk.members, &desk.directory)
        .unwrap();
    assert_eq!(
        &verified[0].open(&admin_key).unwrap()[..],
        b"the printer is on fire"
    );

    // B replies.
    let reply = Message::seal(
        admin,
        next(&state, 0, head, Kind::Message),
        &admin_key,
        b"have you tried water?",
        &mut rng,
    )
    .unwrap();
    assert_eq!(reply.header.seq, 2);
    assert_eq!(reply.header.prev_hash, first.hash());
    log.push(reply.to_bytes());

    // The reporter, who had verified message 1, reads the reply with its own wrap.
    let mut reporter_state = verify(&desk, &log[..1]).unwrap();
    let new = reporter_state
        .extend_encoded(&log[1..], &desk.members, &desk.directory)
        .unwrap();
    let own = WrappedKey::from_bytes(&wraps[0]).unwrap();
    own.verify(&desk.members, &desk.directory, &reporter_state)
        .unwrap();
    let reporter_key = own.open(&desk.secret.identity()).unwrap();
    assert_eq!(
        &new[0].open(&reporter_key).unwrap()[..],
        b"have you tried water?"
    );
    assert_eq!(reporter_state.last_seq(), 2);
    assert_eq!(reporter_state.last_hash(), reply.hash());
    assert_eq!(reporter_state, verify(&desk, &log).unwrap());
    // A wrap addressed to someone else does not open.
    assert_eq!(
        WrappedKey::from_bytes(&wraps[1])
            .unwrap()
            .open(&reporter)
            .unwrap_err(),
        Error::Malformed("wrapped key recipient")
    );
}

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn conversation_must_be_opened_by_the_reporter() {
    let desk = Desk::new();
    let mut rng = TestRng::new(7);
    let first = Message::seal(
        &desk.admins[0],
        next(&conversation(&desk), 0, 2, Kind::Message),
        &key(1),
        b"hello from the desk",
        &mut rng,
    )
    .unwrap();
    assert_eq!(
        verify(&desk, &[first.to_bytes()]).unwrap_err(),
        transcript_err(0, 1, Fault::NotAMember)
    );
    // The notes chain is opened by an administrator.
    let note = Message::seal(
        &desk.admins[0],
        next(
            &ChainState::new(desk.ticket, Chain::Notes),
            0,
            2,
            Kind::InternalNote,
        ),
        &key(2),
        b"note",
        &mut rng,
    )
    .unwrap();
    ChainState::verify_encoded(
        desk.ticket,
        Chain::Notes,
        &[note.to_bytes()],
        &desk.members,
        &desk.directory,
    )
    .unwrap();
}

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn ticket_close_then_reporter_message_reopens() {
    let desk = Desk::new();
    let mut rng = TestRng::new(2);
    let k = key(1);
    let mut state = conversation(&desk);
    assert!(!state.is_closed());
    write(
        &mut state,
        &desk,
        Draft {
            sender: &desk.reporter,
            key: &k,
            epoch: 0,
            dir_seq: 2,
            kind: Kind::Message,
            content: b"hi",
        },
        &mut rng,
    );
    write(
        &mut state,
        &desk,
        Draft {
            sender: &desk.admins[0],
            key: &k,
            epoch: 0,
            dir_seq: 2,
            kind: Kind::Close,
            content: b"",
        },
        &mut rng,
    );
    assert!(state.is_closed());
    // An administrator's message does not reopen.
    write(
        &mut state,
        &desk,
        Draft {
            sender: &desk.admins[1],
            key: &k,
            epoch: 0,
            dir_seq: 2,
            kind: Kind::Message,
            content: b"fyi",
        },
        &mut rng,
    );
    assert!(state.is_closed());
    write(
        &mut state,
        &desk,
        Draft {
            sender: &desk.reporter,
            key: &k,
            epoch: 0,
            dir_seq: 2,
            kind: Kind::Message,
            content: b"still broken",
        },
        &mut rng,
    );
    assert!(!state.is_closed());
    // So do debug data and attachments from the reporter.
    write(
        &mut state,
        &desk,
        Draft {
            sender: &desk.reporter,
            key: &k,
            epoch: 0,
            dir_seq: 2,
            kind: Kind::Close,
            content: b"",
        },
        &mut rng,
    );
    assert!(state.is_closed());
    write(
        &mut state,
        &desk,
        Draft {
            sender: &desk.reporter,
            key: &k,
            epoch: 0,
            dir_seq: 2,
            kind: Kind::DebugData,
            content: b"{}",
        },
        &mut rng,
    );
    assert!(!state.is_closed());
}

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn ticket_admin_reopens() {
    let desk = Desk::new();
    let mut rng = TestRng::new(3);
    let k = key(1);
    let mut state = conversation(&desk);
    write(
        &mut state,
        &desk,
        Draft {
            sender: &desk.reporter,
            key: &k,
            epoch: 0,
            dir_seq: 2,
            kind: Kind::Message,
            content: b"hi",
        },
        &mut rng,
    );
    write(
        &mut state,
        &desk,
        Draft {
            sender: &desk.admins[0],
            key: &k,
            epoch: 0,
            dir_seq: 2,
            kind: Kind::Close,
            content: b"",
        },
        &mut rng,
    );
    assert!(state.is_closed());
    write(
        &mut state,
        &desk,
        Draft {
            sender: &desk.admins[2],
            key: &k,
            epoch: 0,
            dir_seq: 2,
            kind: Kind::Reopen,
            content: b"",
        },
        &mut rng,
    );
    assert!(!state.is_closed());
}

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn waiting_and_on_hold_from_administrators_and_the_reporter_reopens() {
    let desk = Desk::new();
    let mut rng = TestRng::new(31);
    let k = key(1);
    let mut state = conversation(&desk);
    let draft = |sender, kind| Draft {
        sender,
        key: &k,
        epoch: 0,
        dir_seq: 2,
        kind,
        content: b"{}",
    };
    write(
        &mut state,
        &desk,
        draft(&desk.reporter, Kind::Message),
        &mut rng,
    );
    write(
        &mut state,
        &desk,
        draft(&desk.admins[0], Kind::Waiting),
        &mut rng,
    );
    assert_eq!(state.status(), ConversationStatus::Waiting);
    assert!(!state.is_closed());
    // An administrator's message keeps the ticket waiting; the state persists it.
    write(
        &mut state,
        &desk,
        draft(&desk.admins[1], Kind::Message),
        &mut rng,
    );
    assert_eq!(state.status(), ConversationStatus::Waiting);
    let restored = ChainState::from_bytes(&state.to_bytes()).unwrap();
    assert_eq!(restored.status(), ConversationStatus::Waiting);
    // The reporter writing returns it to open (no status message of its own).
    write(
        &mut state,
        &desk,
        draft(&desk.reporter, Kind::Message),
        &mut rng,
    );
    assert_eq!(state.status(), ConversationStatus::Open);
    write(
        &mut state,
        &desk,
        draft(&desk.admins[2], Kind::OnHold),
        &mut rng,
    );
    assert_eq!(state.status(), ConversationStatus::OnHold);
    write(
        &mut state,
        &desk,
        draft(&desk.reporter, Kind::AttachmentRef),
        &mut rng,
    );
    assert_eq!(state.status(), ConversationStatus::Open);
    // Neither status may come from the reporter.
    for kind in [Kind::Waiting, Kind::OnHold] {
        let before = state.clone();
        let message = Message::seal(
            &desk.reporter,
            next(&state, 0, 2, kind),
            &k,
            b"{}",
            &mut rng,
        )
        .unwrap();
        assert_eq!(
            state.push(&message, &desk.members, &desk.directory),
            Err(Fault::NotAMember)
        );
        assert_eq!(state, before);
    }
}

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn notes_readable_only_with_notes_key_and_wrapped_only_to_admins() {
    let desk = Desk::new();
    let mut rng = TestRng::new(4);
    let head = desk.directory.head_seq();
    let (a, b) = (&desk.admins[0], &desk.admins[1]);
    let notes_key = TicketKey::generate(&mut rng);
    let conv_key = TicketKey::generate(&mut rng);

    let mut notes = ChainState::new(desk.ticket, Chain::Notes);
    let note = Message::seal(
        a,
        next(&notes, 0, head, Kind::InternalNote),
        &notes_key,
        b"reporter seems legit",
        &mut rng,
    )
    .unwrap();
    let log = vec![note.to_bytes()];
    notes
        .extend_encoded(&log, &desk.members, &desk.directory)
        .unwrap();
    assert_eq!(notes.chain(), Chain::Notes);

    // B gets the notes key through a wrap that verifies.
    let wrap = WrappedKey::seal(
        a,
        b.public(),
        WrapSlot {
            ticket_id: desk.ticket,
            chain: Chain::Notes,
            epoch: 0,
            dir_seq: head,
        },
        &notes_key,
        &mut rng,
    )
    .unwrap();
    assert_eq!(notes.epoch_opened_at(0), Some(head));
    wrap.verify(&desk.members, &desk.directory, &notes).unwrap();
    let opened = wrap.open(b).unwrap();
    assert_eq!(&note.open(&opened).unwrap()[..], b"reporter seems legit");
    assert_eq!(note.open(&conv_key).unwrap_err(), Error::DecryptionFailed);

    // A wrap of the notes key to the reporter does not verify.
    let to_reporter = WrappedKey::seal(
        a,
        desk.reporter.public(),
        WrapSlot {
            ticket_id: desk.ticket,
            chain: Chain::Notes,
            epoch: 0,
            dir_seq: head,
        },
        &notes_key,
        &mut rng,
    )
    .unwrap();
    assert_eq!(
        to_reporter
            .verify(&desk.members, &desk.directory, &notes)
            .unwrap_err(),
        Error::Wrap(Fault::NotAMember)
    );
    // Nor does a notes wrap made by the reporter.
    let by_reporter = WrappedKey::seal(
        &desk.reporter,
        a.public(),
        WrapSlot {
            ticket_id: desk.ticket,
            chain: Chain::Notes,
            epoch: 0,
            dir_seq: head,
        },
        &notes_key,
        &mut rng,
    )
    .unwrap();
    assert_eq!(
        by_reporter
            .verify(&desk.members, &desk.directory, &notes)
            .unwrap_err(),
        Error::Wrap(Fault::NotAMember)
    );
    // The reporter cannot write notes.
    let reporter_note = Message::seal(
        &desk.reporter,
        next(&notes, 0, head, Kind::InternalNote),
        &notes_key,
        b"hello?",
        &mut rng,
    )
    .unwrap();
    let mut after = notes.clone();
    assert_eq!(
        after
            .extend_encoded(&[reporter_note.to_bytes()], &desk.members, &desk.directory)
            .unwrap_err(),
        transcript_err(0, 2, Fault::NotAMember)
    );
    assert_eq!(after, notes);
    // The notes chain is not the conversation.
    assert_eq!(
        verify(&desk, &log).unwrap_err(),
        transcript_err(0, 1, Fault::WrongChain)
    );
}

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn internal_note_on_conversation_is_kind_not_allowed() {
    let desk = Desk::new();
    let mut rng = TestRng::new(5);
    let state = conversation(&desk);
    let note = Message::seal(
        &desk.admins[0],
        next(&state, 0, 2, Kind::InternalNote),
        &key(1),
        b"oops",
        &mut rng,
    )
    .unwrap();
    assert_eq!(
        verify(&desk, &[note.to_bytes()]).unwrap_err(),
        transcript_err(0, 1, Fault::KindNotAllowed)
    );
}

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn conversation_kinds_on_notes_chain_are_kind_not_allowed() {
    let desk = Desk::new();
    let mut rng = TestRng::new(6);
    let state = ChainState::new(desk.ticket, Chain::Notes);
    for kind in [
        Kind::Message,
        Kind::DebugData,
        Kind::AttachmentRef,
        Kind::Close,
        Kind::Reopen,
    ] {
        let message = Message::seal(
            &desk.admins[0],
            next(&state, 0, 2, kind),
            &key(1),
            b"x",
            &mut rng,
        )
        .unwrap();
        assert_eq!(
            ChainState::verify_encoded(
                desk.ticket,
                Chain::Notes,
                &[message.to_bytes()],
                &desk.members,
                &desk.directory
            )
            .unwrap_err(),
            transcript_err(0, 1, Fault::KindNotAllowed),
            "{kind:?}"
        );
    }
}

/// Tags (kind 11, spec §9.1, §14) go on the notes chain only: there they verify after a note,
/// from an administrator; on the conversation they fail step 9 as a note does.
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn tags_on_notes_only() {
    let desk = Desk::new();
    let mut rng = TestRng::new(7);
    let mut notes = ChainState::new(desk.ticket, Chain::Notes);
    let note = Message::seal(
        &desk.admins[0],
        next(&notes, 0, 2, Kind::InternalNote),
        &key(1),
        b"a note",
        &mut rng,
    )
    .unwrap();
    notes
        .extend_encoded(&[note.to_bytes()], &desk.members, &desk.directory)
        .unwrap();
    let tags = Message::seal(
        &desk.admins[1],
        next(&notes, 0, 2, Kind::Tags),
        &key(1),
        br#"{"tags":["vip"],"sent_at":1}"#,
        &mut rng,
    )
    .unwrap();
    notes
        .extend_encoded(&[tags.to_bytes()], &desk.members, &desk.directory)
        .unwrap();
    assert_eq!(notes.last_seq(), 2);
    assert_eq!(Kind::from_u8(11).unwrap(), Kind::Tags);
    assert!(Kind::from_u8(12).is_err());

    let state = conversation(&desk);
    let on_conversation = Message::seal(
        &desk.admins[0],
        next(&state, 0, 2, Kind::Tags),
        &key(1),
        br#"{"tags":["vip"],"sent_at":1}"#,
        &mut rng,
    )
    .unwrap();
    assert_eq!(
        verify(&desk, &[on_conversation.to_bytes()]).unwrap_err(),
        transcript_err(0, 1, Fault::KindNotAllowed)
    );
}

// ---------------------------------------------------------------------------------------------
// Epochs
// ---------------------------------------------------------------------------------------------

/// A conversation with two epoch-0 messages at directory position 2 (reporter, then C), after
/// which C is removed (position 3).
fn epoch_setup(rng: &mut TestRng) -> (Desk, ChainState, Vec<Vec<u8>>) {
    let mut desk = Desk::new();
    let mut state = conversation(&desk);
    let k0 = key(10);
    let m1 = write(
        &mut state,
        &desk,
        Draft {
            sender: &desk.reporter,
            key: &k0,
            epoch: 0,
            dir_seq: 2,
            kind: Kind::Message,
            content: b"one",
        },
        rng,
    );
    let m2 = write(
        &mut state,
        &desk,
        Draft {
            sender: &desk.admins[2],
            key: &k0,
            epoch: 0,
            dir_seq: 2,
            kind: Kind::Message,
            content: b"two",
        },
        rng,
    );
    assert_eq!(desk.remove_admin(2), 3);
    (desk, state, vec![m1.to_bytes(), m2.to_bytes()])
}

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn epoch_must_rotate_after_admin_removal() {
    let mut rng = TestRng::new(10);
    let (desk, state, _) = epoch_setup(&mut rng);
    assert!(!conversation(&desk).must_rotate(&desk.directory, 3));
    assert!(!state.must_rotate(&desk.directory, 2));
    assert!(state.must_rotate(&desk.directory, 3));

    let old_epoch = Message::seal(
        &desk.admins[0],
        next(&state, 0, 3, Kind::Message),
        &key(10),
        b"three",
        &mut rng,
    )
    .unwrap();
    let mut s = state.clone();
    assert_eq!(
        s.extend_encoded(&[old_epoch.to_bytes()], &desk.members, &desk.directory)
            .unwrap_err(),
        transcript_err(0, 3, Fault::EpochNotRotated)
    );
    assert_eq!(s, state);

    let new_epoch = Message::seal(
        &desk.admins[0],
        next(&state, 1, 3, Kind::Message),
        &key(11),
        b"three",
        &mut rng,
    )
    .unwrap();
    s.extend_encoded(&[new_epoch.to_bytes()], &desk.members, &desk.directory)
        .unwrap();
    assert_eq!(s.epoch(), Some(1));
    assert_eq!(s.epoch_opened_at(0), Some(2));
    assert_eq!(s.epoch_opened_at(1), Some(3));
    assert_eq!(s.epoch_opened_at(2), None);
    assert!(!s.must_rotate(&desk.directory, 3));
    // The following message stays in epoch 1.
    let after = Message::seal(
        &desk.reporter,
        next(&s, 1, 3, Kind::Message),
        &key(11),
        b"4",
        &mut rng,
    )
    .unwrap();
    s.push(&after, &desk.members, &desk.directory).unwrap();
}

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn rotate_opens_an_epoch_on_either_chain_and_nothing_else() {
    let mut rng = TestRng::new(16);
    let (desk, mut state, _) = epoch_setup(&mut rng);
    let a = &desk.admins[0];
    write(
        &mut state,
        &desk,
        Draft {
            sender: a,
            key: &key(10),
            epoch: 0,
            dir_seq: 2,
            kind: Kind::Close,
            content: b"",
        },
        &mut rng,
    );
    // A rotation that stays in the epoch is refused.
    let idle = Message::seal(a, next(&state, 0, 2, Kind::Rotate), &key(10), b"", &mut rng).unwrap();
    assert_eq!(
        state.clone().push(&idle, &desk.members, &desk.directory),
        Err(Fault::BadEpoch)
    );
    // After the removal, it opens epoch 1 and leaves the ticket closed.
    write(
        &mut state,
        &desk,
        Draft {
            sender: a,
            key: &key(11),
            epoch: 1,
            dir_seq: 3,
            kind: Kind::Rotate,
            content: b"",
        },
        &mut rng,
    );
    assert_eq!(state.epoch(), Some(1));
    assert!(state.is_closed());
    // The notes chain accepts it too.
    let mut notes = ChainState::new(desk.ticket, Chain::Notes);
    write(
        &mut notes,
        &desk,
        Draft {
            sender: a,
            key: &key(20),
            epoch: 0,
            dir_seq: 2,
            kind: Kind::InternalNote,
            content: b"n",
        },
        &mut rng,
    );
    write(
        &mut notes,
        &desk,
        Draft {
            sender: a,
            key: &key(21),
            epoch: 1,
            dir_seq: 3,
            kind: Kind::Rotate,
            content: b"",
        },
        &mut rng,
    );
    assert_eq!(notes.epoch_opened_at(1), Some(3));
}

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn epoch_skipping_is_bad_epoch() {
    let mut rng = TestRng::new(11);
    let (desk, state, _) = epoch_setup(&mut rng);
    let skipped = Message::seal(
        &desk.admins[0],
        next(&state, 2, 3, Kind::Message),
        &key(12),
        b"x",
        &mut rng,
    )
    .unwrap();
    let mut s = state.clone();
    assert_eq!(
        s.push(&skipped, &desk.members, &desk.directory),
        Err(Fault::BadEpoch)
    );
    assert_eq!(s, state);
    // Going back to an old epoch too.
    let mut s1 = state.clone();
    let rotate = Message::seal(
        &desk.admins[0],
        next(&s1, 1, 3, Kind::Message),
        &key(11),
        b"x",
        &mut rng,
    )
    .unwrap();
    s1.push(&rotate, &desk.members, &desk.directory).unwrap();
    let back = Message::seal(
        &desk.admins[0],
        next(&s1, 0, 3, Kind::Message),
        &key(10),
        b"x",
        &mut rng,
    )
    .unwrap();
    assert_eq!(
        s1.push(&back, &desk.members, &desk.directory),
        Err(Fault::BadEpoch)
    );
}

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn first_message_in_epoch_one_is_bad_epoch() {
    let desk = Desk::new();
    let mut rng = TestRng::new(12);
    let first = Message::seal(
        &desk.reporter,
        next(&conversation(&desk), 1, 2, Kind::Message),
        &key(1),
        b"hi",
        &mut rng,
    )
    .unwrap();
    assert_eq!(
        verify(&desk, &[first.to_bytes()]).unwrap_err(),
        transcript_err(0, 1, Fault::BadEpoch)
    );
}

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn removed_admin_gets_no_new_key_and_cannot_write() {
    let mut rng = TestRng::new(13);
    let (desk, state, _) = epoch_setup(&mut rng);
    let (a, c) = (&desk.admins[0], &desk.admins[2]);
    let head = desk.directory.head_seq();

    // A rotates: the new key is wrapped to the reporter and the current administrators.
    let key1 = TicketKey::generate(&mut rng);
    let recipients: Vec<PublicIdentity> = std::iter::once(desk.reporter.public().clone())
        .chain(desk.directory.current_admins().into_iter().cloned())
        .collect();
    let wraps: Vec<WrappedKey> = recipients
        .iter()
        .map(|r| {
            WrappedKey::seal(
                a,
                r,
                WrapSlot {
                    ticket_id: desk.ticket,
                    chain: Chain::Conversation,
                    epoch: 1,
                    dir_seq: head,
                },
                &key1,
                &mut rng,
            )
            .unwrap()
        })
        .collect();
    assert!(wraps.iter().all(|w| w.context.recipient != c.key_id()));
    for w in &wraps {
        assert_eq!(
            w.open(c).unwrap_err(),
            Error::Malformed("wrapped key recipient")
        );
    }
    // A opens epoch 1 on the chain (a key is never used before its epoch has a message).
    let mut rotated = state.clone();
    write(
        &mut rotated,
        &desk,
        Draft {
            sender: a,
            key: &key1,
            epoch: 1,
            dir_seq: head,
            kind: Kind::Rotate,
            content: b"",
        },
        &mut rng,
    );
    assert_eq!(rotated.epoch_opened_at(1), Some(head));
    for w in &wraps {
        w.verify(&desk.members, &desk.directory, &rotated).unwrap();
    }
    // Even a wrap addressed to C is rejected.
    let to_c = WrappedKey::seal(
        a,
        c.public(),
        WrapSlot {
            ticket_id: desk.ticket,
            chain: Chain::Conversation,
            epoch: 1,
            dir_seq: head,
        },
        &key1,
        &mut rng,
    )
    .unwrap();
    assert_eq!(
        to_c.verify(&desk.members, &desk.directory, &rotated)
            .unwrap_err(),
        Error::Wrap(Fault::NotAMember)
    );

    // C's message after the removal is rejected, whatever key it uses.
    let by_c = Message::seal(
        c,
        next(&state, 1, 3, Kind::Message),
        &key1,
        b"still here",
        &mut rng,
    )
    .unwrap();
    let mut s = state.clone();
    assert_eq!(
        s.extend_encoded(&[by_c.to_bytes()], &desk.members, &desk.directory)
            .unwrap_err(),
        transcript_err(0, 3, Fault::NotAMember)
    );
    assert_eq!(s, state);
}

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn wrap_by_removed_admin_for_new_epoch_is_rejected() {
    let mut rng = TestRng::new(14);
    let (desk, mut state, _) = epoch_setup(&mut rng);
    let (a, c) = (&desk.admins[0], &desk.admins[2]);
    write(
        &mut state,
        &desk,
        Draft {
            sender: a,
            key: &key(11),
            epoch: 1,
            dir_seq: 3,
            kind: Kind::Message,
            content: b"rotated",
        },
        &mut rng,
    );
    assert_eq!(state.epoch_opened_at(1), Some(3));
    let fake = TicketKey::generate(&mut rng);

    // At the head, C is no longer an administrator.
    let at_head = WrappedKey::seal(
        c,
        desk.reporter.public(),
        WrapSlot {
            ticket_id: desk.ticket,
            chain: Chain::Conversation,
            epoch: 1,
            dir_seq: 3,
        },
        &fake,
        &mut rng,
    )
    .unwrap();
    assert_eq!(
        at_head
            .verify(&desk.members, &desk.directory, &state)
            .unwrap_err(),
        Error::Wrap(Fault::NotAMember)
    );
    // Back-dated to when C was one, it predates the epoch.
    let backdated = WrappedKey::seal(
        c,
        desk.reporter.public(),
        WrapSlot {
            ticket_id: desk.ticket,
            chain: Chain::Conversation,
            epoch: 1,
            dir_seq: 2,
        },
        &fake,
        &mut rng,
    )
    .unwrap();
    assert_eq!(
        backdated
            .verify(&desk.members, &desk.directory, &state)
            .unwrap_err(),
        Error::Wrap(Fault::DirectoryOutOfRange)
    );
    // Past the head.
    let future = WrappedKey::seal(
        a,
        desk.reporter.public(),
        WrapSlot {
            ticket_id: desk.ticket,
            chain: Chain::Conversation,
            epoch: 1,
            dir_seq: 4,
        },
        &fake,
        &mut rng,
    )
    .unwrap();
    assert_eq!(
        future
            .verify(&desk.members, &desk.directory, &state)
            .unwrap_err(),
        Error::Wrap(Fault::DirectoryOutOfRange)
    );
}

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn wrap_for_epoch_not_yet_opened_is_bad_epoch() {
    let mut rng = TestRng::new(16);
    let (desk, state, _) = epoch_setup(&mut rng);
    let (a, b) = (&desk.admins[0], &desk.admins[1]);
    let head = desk.directory.head_seq();
    assert_eq!(head, 3);

    // On an empty chain no epoch has a message yet: even epoch 0's wrap is refused.
    let wrap0 = WrappedKey::seal(
        &desk.reporter,
        b.public(),
        WrapSlot {
            ticket_id: desk.ticket,
            chain: Chain::Conversation,
            epoch: 0,
            dir_seq: 2,
        },
        &key(10),
        &mut rng,
    )
    .unwrap();
    assert_eq!(
        wrap0
            .verify(&desk.members, &desk.directory, &conversation(&desk))
            .unwrap_err(),
        Error::Wrap(Fault::BadEpoch)
    );
    // Once the chain's first message opened epoch 0, the same wrap verifies.
    assert_eq!(state.epoch(), Some(0));
    wrap0
        .verify(&desk.members, &desk.directory, &state)
        .unwrap();

    // A wraps the epoch 1 key before posting the rotation: refused until epoch 1 has a message.
    let key1 = TicketKey::generate(&mut rng);
    let wrap1 = WrappedKey::seal(
        a,
        desk.reporter.public(),
        WrapSlot {
            ticket_id: desk.ticket,
            chain: Chain::Conversation,
            epoch: 1,
            dir_seq: head,
        },
        &key1,
        &mut rng,
    )
    .unwrap();
    assert_eq!(state.epoch_opened_at(1), None);
    assert_eq!(
        wrap1
            .verify(&desk.members, &desk.directory, &state)
            .unwrap_err(),
        Error::Wrap(Fault::BadEpoch)
    );
    let mut rotated = state.clone();
    write(
        &mut rotated,
        &desk,
        Draft {
            sender: a,
            key: &key1,
            epoch: 1,
            dir_seq: head,
            kind: Kind::Rotate,
            content: b"",
        },
        &mut rng,
    );
    wrap1
        .verify(&desk.members, &desk.directory, &rotated)
        .unwrap();
    assert_eq!(wrap1.open(&desk.reporter).unwrap(), key1);
    // An epoch beyond the chain's current one is still refused.
    let wrap2 = WrappedKey::seal(
        a,
        desk.reporter.public(),
        WrapSlot {
            ticket_id: desk.ticket,
            chain: Chain::Conversation,
            epoch: 2,
            dir_seq: head,
        },
        &key(12),
        &mut rng,
    )
    .unwrap();
    assert_eq!(
        wrap2
            .verify(&desk.members, &desk.directory, &rotated)
            .unwrap_err(),
        Error::Wrap(Fault::BadEpoch)
    );
}

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn notes_wrap_with_conversation_state_is_wrong_chain() {
    let desk = Desk::new();
    let mut rng = TestRng::new(17);
    let head = desk.directory.head_seq();
    let (a, b) = (&desk.admins[0], &desk.admins[1]);
    let (conv_key, notes_key) = (key(30), key(31));
    // Both chains have opened epoch 0 at the same directory position.
    let mut conv = conversation(&desk);
    write(
        &mut conv,
        &desk,
        Draft {
            sender: &desk.reporter,
            key: &conv_key,
            epoch: 0,
            dir_seq: head,
            kind: Kind::Message,
            content: b"hi",
        },
        &mut rng,
    );
    let mut notes = ChainState::new(desk.ticket, Chain::Notes);
    write(
        &mut notes,
        &desk,
        Draft {
            sender: a,
            key: &notes_key,
            epoch: 0,
            dir_seq: head,
            kind: Kind::InternalNote,
            content: b"n",
        },
        &mut rng,
    );
    assert_eq!(conv.epoch_opened_at(0), notes.epoch_opened_at(0));

    let notes_wrap = WrappedKey::seal(
        a,
        b.public(),
        WrapSlot {
            ticket_id: desk.ticket,
            chain: Chain::Notes,
            epoch: 0,
            dir_seq: head,
        },
        &notes_key,
        &mut rng,
    )
    .unwrap();
    assert_eq!(
        notes_wrap
            .verify(&desk.members, &desk.directory, &conv)
            .unwrap_err(),
        Error::Wrap(Fault::WrongChain)
    );
    notes_wrap
        .verify(&desk.members, &desk.directory, &notes)
        .unwrap();
    // And the other way round.
    let conv_wrap = WrappedKey::seal(
        a,
        b.public(),
        WrapSlot {
            ticket_id: desk.ticket,
            chain: Chain::Conversation,
            epoch: 0,
            dir_seq: head,
        },
        &conv_key,
        &mut rng,
    )
    .unwrap();
    assert_eq!(
        conv_wrap
            .verify(&desk.members, &desk.directory, &notes)
            .unwrap_err(),
        Error::Wrap(Fault::WrongChain)
    );
    conv_wrap
        .verify(&desk.members, &desk.directory, &conv)
        .unwrap();
}

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn wrap_with_another_tickets_chain_state_is_wrong_ticket() {
    let desk = Desk::new();
    let mut other = Desk::new();
    other.secret = TicketSecret::from_bytes([0x6f; 32]);
    other.reporter = other.secret.identity();
    other.ticket = other.secret.ticket_id();
    other.members = Members::new(other.ticket, other.reporter.public().clone());
    let mut rng = TestRng::new(18);
    let head = desk.directory.head_seq();
    let k = key(32);
    // The other ticket's conversation, verified and in epoch 0 like this ticket's.
    let mut foreign = conversation(&other);
    write(
        &mut foreign,
        &other,
        Draft {
            sender: &other.reporter,
            key: &k,
            epoch: 0,
            dir_seq: head,
            kind: Kind::Message,
            content: b"hi",
        },
        &mut rng,
    );
    let mut own = conversation(&desk);
    write(
        &mut own,
        &desk,
        Draft {
            sender: &desk.reporter,
            key: &k,
            epoch: 0,
            dir_seq: head,
            kind: Kind::Message,
            content: b"hi",
        },
        &mut rng,
    );
    let wrap = WrappedKey::seal(
        &desk.reporter,
        desk.admins[1].public(),
        WrapSlot {
            ticket_id: desk.ticket,
            chain: Chain::Conversation,
            epoch: 0,
            dir_seq: head,
        },
        &k,
        &mut rng,
    )
    .unwrap();
    assert_eq!(
        wrap.verify(&desk.members, &desk.directory, &foreign)
            .unwrap_err(),
        Error::Wrap(Fault::WrongTicket)
    );
    wrap.verify(&desk.members, &desk.directory, &own).unwrap();
}

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn new_admin_gets_history_wrap_that_verifies_and_opens() {
    let mut rng = TestRng::new(15);
    let (mut desk, state, log) = epoch_setup(&mut rng);
    let a = &desk.admins[0];
    let d = identity(0xd4);
    let entry = DirectoryEntry::add(&desk.directory, a, d.public()).unwrap();
    desk.directory.extend(&[entry]).unwrap();
    let head = desk.directory.head_seq();
    assert_eq!(head, 4);

    let history = WrappedKey::seal(
        a,
        d.public(),
        WrapSlot {
            ticket_id: desk.ticket,
            chain: Chain::Conversation,
            epoch: 0,
            dir_seq: head,
        },
        &key(10),
        &mut rng,
    )
    .unwrap();
    let history = WrappedKey::from_bytes(&history.to_bytes()).unwrap();
    history
        .verify(&desk.members, &desk.directory, &state)
        .unwrap();
    let k0 = history.open(&d).unwrap();
    let verified = ChainState::new(desk.ticket, Chain::Conversation)
        .extend_encoded(&log, &desk.members, &desk.directory)
        .unwrap();
    assert_eq!(&verified[0].open(&k0).unwrap()[..], b"one");
    assert_eq!(&verified[1].open(&k0).unwrap()[..], b"two");
    // D can now write, at a directory position where it is an administrator.
    let mut s = state.clone();
    let by_d = Message::seal(
        &d,
        next(&s, 1, 4, Kind::Message),
        &key(11),
        b"hello",
        &mut rng,
    )
    .unwrap();
    s.push(&by_d, &desk.members, &desk.directory).unwrap();
    // But not back-dated to before it was added.
    let mut s = state.clone();
    let early = Message::seal(
        &d,
        next(&s, 0, 2, Kind::Message),
        &key(10),
        b"hello",
        &mut rng,
    )
    .unwrap();
    assert_eq!(
        s.push(&early, &desk.members, &desk.directory),
        Err(Fault::NotAMember)
    );
}

// ---------------------------------------------------------------------------------------------
// Reporter endorsement
// ---------------------------------------------------------------------------------------------

/// Seals and checks in an endorse message of `endorsed` by `endorser`, then reads its content.
fn endorse(
    state: &mut ChainState,
    desk: &Desk,
    endorser: &Identity,
    endorsed: &PublicIdentity,
    at: (u32, u64),
    key: &TicketKey,
    rng: &mut TestRng,
) -> Result<PublicIdentity, Error> {
    let content = EndorseContent::by_administrator(desk.ticket, endorsed.clone()).to_bytes();
    let message = Message::seal(
        endorser,
        next(state, at.0, at.1, Kind::Endorse),
        key,
        &content,
        rng,
    )
    .unwrap();
    state
        .push(&message, &desk.members, &desk.directory)
        .map_err(|fault| transcript_err(0, message.header.seq, fault))?;
    state.read_endorsement(&message, key)
}

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn endorsed_reporter_key_can_write() {
    let desk = Desk::new();
    let mut rng = TestRng::new(20);
    let k = key(1);
    let mut state = conversation(&desk);
    write(
        &mut state,
        &desk,
        Draft {
            sender: &desk.reporter,
            key: &k,
            epoch: 0,
            dir_seq: 2,
            kind: Kind::Message,
            content: b"hi",
        },
        &mut rng,
    );
    write(
        &mut state,
        &desk,
        Draft {
            sender: &desk.admins[0],
            key: &k,
            epoch: 0,
            dir_seq: 2,
            kind: Kind::Close,
            content: b"",
        },
        &mut rng,
    );

    let recovered = identity(0x77);
    let unendorsed = Message::seal(
        &recovered,
        next(&state, 0, 2, Kind::Message),
        &k,
        b"me again",
        &mut rng,
    )
    .unwrap();
    assert_eq!(
        state
            .clone()
            .push(&unendorsed, &desk.members, &desk.directory),
        Err(Fault::NotAMember)
    );

    let endorsed = endorse(
        &mut state,
        &desk,
        &desk.admins[1],
        recovered.public(),
        (0, 2),
        &k,
        &mut rng,
    )
    .unwrap();
    assert_eq!(&endorsed, recovered.public());
    assert_eq!(
        ids(state.reporters().iter().collect()),
        vec![desk.reporter.key_id(), recovered.key_id()]
    );
    // The state keeps the keys across persistence.
    assert_eq!(ChainState::from_bytes(&state.to_bytes()).unwrap(), state);
    let again = Message::seal(
        &recovered,
        next(&state, 0, 2, Kind::Message),
        &k,
        b"me again",
        &mut rng,
    )
    .unwrap();
    state.push(&again, &desk.members, &desk.directory).unwrap();
    // It writes as the reporter: the ticket reopens.
    assert!(!state.is_closed());
}

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn endorsement_content_round_trips_and_rejects_bad_keys() {
    let desk = Desk::new();
    let content = EndorseContent::by_administrator(desk.ticket, identity(0x77).public().clone());
    let bytes = content.to_bytes();
    assert_eq!(bytes.len(), ENDORSE_CONTENT_LEN);
    assert_eq!(bytes[..2], [ENDORSE_CONTENT_VERSION, 1]);
    assert_eq!(EndorseContent::from_bytes(&bytes).unwrap(), content);
    let mut grounds = bytes.clone();
    grounds[1] = 3;
    assert_eq!(
        EndorseContent::from_bytes(&grounds).unwrap_err(),
        Error::Malformed("endorse grounds")
    );
    let mut weak = bytes.clone();
    weak[18..50].copy_from_slice(&[0u8; 32]);
    weak[18] = 1; // the identity point: small order
    assert_eq!(
        EndorseContent::from_bytes(&weak).unwrap_err(),
        Error::InvalidPublicKey
    );
    assert!(EndorseContent::from_bytes(&bytes[..81]).is_err());
}

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn endorsement_by_non_admin_fails() {
    let mut desk = Desk::new();
    let mut rng = TestRng::new(21);
    let k = key(1);
    let recovered = identity(0x77);
    let mut state = conversation(&desk);
    write(
        &mut state,
        &desk,
        Draft {
            sender: &desk.reporter,
            key: &k,
            epoch: 0,
            dir_seq: 1,
            kind: Kind::Message,
            content: b"hi",
        },
        &mut rng,
    );
    // The reporter may not use the administrators' grounds (its message verifies, its content
    // adds no key: see reporter_endorses_its_own_second_key); a stranger is no member.
    assert_eq!(
        endorse(
            &mut state.clone(),
            &desk,
            &desk.reporter,
            recovered.public(),
            (0, 1),
            &k,
            &mut rng
        )
        .unwrap_err(),
        Error::Endorsement(Fault::NotAMember)
    );
    assert_eq!(
        endorse(
            &mut state.clone(),
            &desk,
            &identity(0x99),
            recovered.public(),
            (0, 1),
            &k,
            &mut rng
        )
        .unwrap_err(),
        transcript_err(0, 2, Fault::NotAMember)
    );
    // C was not yet an administrator at position 1.
    assert_eq!(
        endorse(
            &mut state.clone(),
            &desk,
            &desk.admins[2],
            recovered.public(),
            (0, 1),
            &k,
            &mut rng
        )
        .unwrap_err(),
        transcript_err(0, 2, Fault::NotAMember)
    );
    // A removed administrator at a later position (and the epoch opened for it).
    let r = desk.remove_admin(2);
    assert_eq!(
        endorse(
            &mut state.clone(),
            &desk,
            &desk.admins[2],
            recovered.public(),
            (1, r),
            &key(2),
            &mut rng
        )
        .unwrap_err(),
        transcript_err(0, 2, Fault::NotAMember)
    );
    // On the notes chain, endorsing is not allowed at all.
    let mut notes = ChainState::new(desk.ticket, Chain::Notes);
    assert_eq!(
        endorse(
            &mut notes,
            &desk,
            &desk.admins[0],
            recovered.public(),
            (0, r),
            &k,
            &mut rng
        )
        .unwrap_err(),
        transcript_err(0, 1, Fault::KindNotAllowed)
    );
    assert_eq!(state.reporters().len(), 1);
}

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn endorsement_for_wrong_ticket_or_unread_adds_nothing() {
    let desk = Desk::new();
    let mut rng = TestRng::new(22);
    let k = key(1);
    let recovered = identity(0x77);
    let mut state = conversation(&desk);
    write(
        &mut state,
        &desk,
        Draft {
            sender: &desk.reporter,
            key: &k,
            epoch: 0,
            dir_seq: 2,
            kind: Kind::Message,
            content: b"hi",
        },
        &mut rng,
    );
    let other = EndorseContent::by_administrator(TicketId([9; 16]), recovered.public().clone());
    let message = Message::seal(
        &desk.admins[0],
        next(&state, 0, 2, Kind::Endorse),
        &k,
        &other.to_bytes(),
        &mut rng,
    )
    .unwrap();
    state
        .push(&message, &desk.members, &desk.directory)
        .unwrap();
    assert!(state.endorsement_unread());
    // Until its content is read, the next message cannot be checked.
    let by_reporter = Message::seal(
        &desk.reporter,
        next(&state, 0, 2, Kind::Message),
        &k,
        b"x",
        &mut rng,
    )
    .unwrap();
    assert_eq!(
        state
            .clone()
            .push(&by_reporter, &desk.members, &desk.directory),
        Err(Fault::EndorsementUnread)
    );
    // A message that is not the last endorse message is refused and changes nothing.
    let before = state.clone();
    assert_eq!(
        state.read_endorsement(&by_reporter, &k).unwrap_err(),
        Error::Endorsement(Fault::Malformed)
    );
    assert_eq!(state, before);
    assert_eq!(
        state.read_endorsement(&message, &k).unwrap_err(),
        Error::Endorsement(Fault::WrongTicket)
    );
    assert_eq!(state.reporters().len(), 1);
    // Read once: the chain goes on, and the message cannot be read twice.
    assert_eq!(
        state.read_endorsement(&message, &k).unwrap_err(),
        Error::Endorsement(Fault::Malformed)
    );
    state
        .push(&by_reporter, &desk.members, &desk.directory)
        .unwrap();
}

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn server_accepts_the_claimed_endorsed_key() {
    let desk = Desk::new();
    let mut rng = TestRng::new(23);
    let k = key(1);
    let recovered = identity(0x77);
    let mut state = conversation(&desk);
    write(
        &mut state,
        &desk,
        Draft {
            sender: &desk.reporter,
            key: &k,
            epoch: 0,
            dir_seq: 2,
            kind: Kind::Message,
            content: b"hi",
        },
        &mut rng,
    );
    assert_eq!(
        state
            .accept_claimed_endorsement(recovered.public().clone())
            .unwrap_err(),
        Error::Endorsement(Fault::Malformed)
    );
    let content = EndorseContent::by_administrator(desk.ticket, recovered.public().clone());
    write(
        &mut state,
        &desk,
        Draft {
            sender: &desk.admins[0],
            key: &k,
            epoch: 0,
            dir_seq: 2,
            kind: Kind::Endorse,
            content: &content.to_bytes(),
        },
        &mut rng,
    );
    // Persisted between the post and the key.
    let mut state = ChainState::from_bytes(&state.to_bytes()).unwrap();
    assert!(state.endorsement_unread());
    state
        .accept_claimed_endorsement(recovered.public().clone())
        .unwrap();
    write(
        &mut state,
        &desk,
        Draft {
            sender: &recovered,
            key: &k,
            epoch: 0,
            dir_seq: 2,
            kind: Kind::Message,
            content: b"me",
        },
        &mut rng,
    );
}

// ---------------------------------------------------------------------------------------------
// Transcript faults
// ---------------------------------------------------------------------------------------------

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn transcript_valid_and_incremental() {
    let desk = Desk::new();
    let log = five_messages(&desk, &mut TestRng::new(30));
    let full = verify(&desk, &log).unwrap();
    assert_eq!(full.last_seq(), 5);
    assert_eq!(full.last_dir_seq(), 2);
    assert_eq!(
        full.last_hash(),
        Message::from_bytes(&log[4]).unwrap().hash()
    );
    let mut part = verify(&desk, &log[..2]).unwrap();
    let new = part
        .extend_encoded(&log[2..], &desk.members, &desk.directory)
        .unwrap();
    assert_eq!(new.len(), 3);
    assert_eq!(part, full);
    let empty: [Vec<u8>; 0] = [];
    assert_eq!(verify(&desk, &empty).unwrap(), conversation(&desk));
}

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn transcript_dropped_message() {
    let desk = Desk::new();
    let mut log = five_messages(&desk, &mut TestRng::new(31));
    log.remove(2);
    assert_eq!(
        verify(&desk, &log).unwrap_err(),
        transcript_err(
            2,
            4,
            Fault::UnexpectedSeq {
                expected: 3,
                found: 4
            }
        )
    );
    let mut log = five_messages(&desk, &mut TestRng::new(31));
    log.remove(0);
    assert_eq!(
        verify(&desk, &log).unwrap_err(),
        transcript_err(
            0,
            2,
            Fault::UnexpectedSeq {
                expected: 1,
                found: 2
            }
        )
    );
}

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn transcript_duplicated_message() {
    let desk = Desk::new();
    let mut log = five_messages(&desk, &mut TestRng::new(32));
    log.insert(3, log[2].clone());
    assert_eq!(
        verify(&desk, &log).unwrap_err(),
        transcript_err(
            3,
            3,
            Fault::UnexpectedSeq {
                expected: 4,
                found: 3
            }
        )
    );
}

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn transcript_reordered_messages() {
    let desk = Desk::new();
    let mut log = five_messages(&desk, &mut TestRng::new(33));
    log.swap(1, 3);
    assert_eq!(
        verify(&desk, &log).unwrap_err(),
        transcript_err(
            1,
            4,
            Fault::UnexpectedSeq {
                expected: 2,
                found: 4
            }
        )
    );
}

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn transcript_message_from_another_ticket() {
    let desk = Desk::new();
    let mut other = Desk::new();
    other.secret = TicketSecret::from_bytes([0x6f; 32]);
    other.reporter = other.secret.identity();
    other.ticket = other.secret.ticket_id();
    other.members = Members::new(other.ticket, other.reporter.public().clone());
    let mut log = five_messages(&desk, &mut TestRng::new(34));
    let foreign = five_messages(&other, &mut TestRng::new(35));
    log[2] = foreign[2].clone();
    assert_eq!(
        verify(&desk, &log).unwrap_err(),
        transcript_err(2, 3, Fault::WrongTicket)
    );
    // Members of another ticket are refused as well.
    let log = five_messages(&desk, &mut TestRng::new(34));
    assert_eq!(
        ChainState::verify_encoded(
            desk.ticket,
            Chain::Conversation,
            &log,
            &other.members,
            &desk.directory
        )
        .unwrap_err(),
        transcript_err(0, 1, Fault::WrongTicket)
    );
}

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn transcript_altered_header() {
    let desk = Desk::new();
    let log = five_messages(&desk, &mut TestRng::new(36));
    // Message index 2: seq 3, epoch 0, dir_seq 2, kind Message; sent by the reporter.
    // Header layout: version 0, ticket 1..17, chain 17, seq 18..26, prev_hash 26..58,
    // epoch 58..62, dir_seq 62..70, sender 70..102, kind 102, salt 103..135.
    let t = |seq, fault| transcript_err(2, seq, fault);
    assert_flip(&desk, &log, 2, 0, 0, t(0, Fault::Malformed));
    assert_flip(&desk, &log, 2, 5, 3, t(3, Fault::WrongTicket));
    assert_flip(&desk, &log, 2, 17, 0, t(3, Fault::WrongChain));
    assert_flip(&desk, &log, 2, 17, 1, t(0, Fault::Malformed));
    assert_flip(
        &desk,
        &log,
        2,
        25,
        0,
        t(
            2,
            Fault::UnexpectedSeq {
                expected: 3,
                found: 2,
            },
        ),
    );
    assert_flip(
        &desk,
        &log,
        2,
        18,
        7,
        t(
            3 | 1 << 63,
            Fault::UnexpectedSeq {
                expected: 3,
                found: 3 | 1 << 63,
            },
        ),
    );
    assert_flip(&desk, &log, 2, 40, 4, t(3, Fault::BrokenLink));
    // Epoch 0 → 1 is a legal rotation, so the signature catches it; 0 → 2 is skipping.
    assert_flip(&desk, &log, 2, 61, 0, t(3, Fault::BadSignature));
    assert_flip(&desk, &log, 2, 61, 1, t(3, Fault::BadEpoch));
    // dir_seq 2 → 3 is past the head; 2 → 0 goes backwards.
    assert_flip(&desk, &log, 2, 69, 0, t(3, Fault::DirectoryOutOfRange));
    assert_flip(&desk, &log, 2, 69, 1, t(3, Fault::DirectoryOutOfRange));
    assert_flip(&desk, &log, 2, 80, 2, t(3, Fault::NotAMember));
    assert_flip(&desk, &log, 2, 102, 0, t(0, Fault::Malformed)); // kind 1 → 0
    assert_flip(&desk, &log, 2, 102, 2, t(3, Fault::BadSignature)); // Message → Reopen
    assert_flip(&desk, &log, 2, 102, 4, t(0, Fault::Malformed)); // kind 17
    // Kind 9 (waiting) from the reporter: only administrators set it (spec §10.3).
    assert_flip(&desk, &log, 2, 102, 3, t(3, Fault::NotAMember));
    assert_flip(&desk, &log, 2, 120, 6, t(3, Fault::BadSignature)); // salt
}

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn transcript_altered_ciphertext_and_signature() {
    let desk = Desk::new();
    let log = five_messages(&desk, &mut TestRng::new(37));
    let len = log[2].len();
    assert_eq!(len, HEADER_LEN + 4 + 256 + TAG_LEN + 64);
    let t = |seq, fault| transcript_err(2, seq, fault);
    // Ciphertext length field.
    assert_flip(&desk, &log, 2, HEADER_LEN + 3, 0, t(0, Fault::Malformed));
    assert_flip(&desk, &log, 2, HEADER_LEN, 7, t(0, Fault::Malformed));
    // Ciphertext body and tag.
    assert_flip(&desk, &log, 2, HEADER_LEN + 4, 0, t(3, Fault::BadSignature));
    assert_flip(
        &desk,
        &log,
        2,
        HEADER_LEN + 4 + 256 + 3,
        5,
        t(3, Fault::BadSignature),
    );
    // Signature: R half and S half (S + 2^253 is not canonical).
    assert_flip(&desk, &log, 2, len - 64, 0, t(3, Fault::BadSignature));
    assert_flip(&desk, &log, 2, len - 1, 5, t(3, Fault::BadSignature));
    assert_flip(&desk, &log, 2, len - 1, 7, t(3, Fault::BadSignature));
    // A truncated or extended encoding.
    let mut short = log.clone();
    short[2].pop();
    assert_eq!(verify(&desk, &short).unwrap_err(), t(0, Fault::Malformed));
    let mut long = log.clone();
    long[2].push(0);
    assert_eq!(verify(&desk, &long).unwrap_err(), t(0, Fault::Malformed));
}

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn transcript_message_injected_by_non_member() {
    let desk = Desk::new();
    let mut rng = TestRng::new(38);
    let log = five_messages(&desk, &mut rng);
    let after_four = verify(&desk, &log[..4]).unwrap();
    let intruder = identity(0x99);
    let injected = Message::seal(
        &intruder,
        next(&after_four, 0, 2, Kind::Message),
        &key(7),
        b"pay me",
        &mut rng,
    )
    .unwrap();
    // From a state after three messages, the answer [message 4, injected] fails at index 1.
    let mut state = verify(&desk, &log[..3]).unwrap();
    let before = state.clone();
    assert_eq!(
        state
            .extend_encoded(
                &[log[3].clone(), injected.to_bytes()],
                &desk.members,
                &desk.directory
            )
            .unwrap_err(),
        transcript_err(1, 5, Fault::NotAMember)
    );
    assert_eq!(state, before);
    // In place of a genuine message 5.
    let mut replaced = log.clone();
    replaced[4] = injected.to_bytes();
    assert_eq!(
        verify(&desk, &replaced).unwrap_err(),
        transcript_err(4, 5, Fault::NotAMember)
    );
}

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn transcript_dir_seq_backwards_or_past_head() {
    let desk = Desk::new();
    let mut rng = TestRng::new(39);
    let mut state = conversation(&desk);
    write(
        &mut state,
        &desk,
        Draft {
            sender: &desk.reporter,
            key: &key(1),
            epoch: 0,
            dir_seq: 1,
            kind: Kind::Message,
            content: b"a",
        },
        &mut rng,
    );
    write(
        &mut state,
        &desk,
        Draft {
            sender: &desk.reporter,
            key: &key(1),
            epoch: 0,
            dir_seq: 2,
            kind: Kind::Message,
            content: b"b",
        },
        &mut rng,
    );
    for dir_seq in [0, 1, 3, u64::MAX] {
        let m = Message::seal(
            &desk.admins[0],
            next(&state, 0, dir_seq, Kind::Message),
            &key(1),
            b"c",
            &mut rng,
        )
        .unwrap();
        let mut s = state.clone();
        assert_eq!(
            s.extend_encoded(&[m.to_bytes()], &desk.members, &desk.directory)
                .unwrap_err(),
            transcript_err(0, 3, Fault::DirectoryOutOfRange),
            "dir_seq {dir_seq}"
        );
        assert_eq!(s, state);
    }
}

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn transcript_check_extends_catches_shorter_answer() {
    let desk = Desk::new();
    let log = five_messages(&desk, &mut TestRng::new(40));
    let earlier = verify(&desk, &log).unwrap();
    let shorter = verify(&desk, &log[..3]).unwrap();
    assert_eq!(
        shorter.check_extends(&earlier).unwrap_err(),
        transcript_err(
            0,
            3,
            Fault::UnexpectedSeq {
                expected: 5,
                found: 3
            }
        )
    );
    earlier.check_extends(&shorter).unwrap();
    earlier.check_extends(&earlier).unwrap();
    // Same length, different last message.
    let mut forked = log.clone();
    let mut state = verify(&desk, &log[..4]).unwrap();
    forked[4] = write(
        &mut state,
        &desk,
        Draft {
            sender: &desk.admins[1],
            key: &key(7),
            epoch: 0,
            dir_seq: 2,
            kind: Kind::Message,
            content: b"other",
        },
        &mut TestRng::new(41),
    )
    .to_bytes();
    let forked = verify(&desk, &forked).unwrap();
    assert_eq!(
        forked.check_extends(&earlier).unwrap_err(),
        transcript_err(0, 5, Fault::BrokenLink)
    );
    // Another chain of the same ticket.
    let notes = ChainState::new(desk.ticket, Chain::Notes);
    assert_eq!(
        notes.check_extends(&earlier).unwrap_err(),
        transcript_err(0, 0, Fault::WrongChain)
    );
    // The same chain of another ticket.
    let other = ChainState::new(TicketId([9; 16]), Chain::Conversation);
    assert_eq!(
        other.check_extends(&earlier).unwrap_err(),
        transcript_err(0, 0, Fault::WrongTicket)
    );
}

// ---------------------------------------------------------------------------------------------
// Messages
// ---------------------------------------------------------------------------------------------

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn message_padding_buckets() {
    let desk = Desk::new();
    let mut rng = TestRng::new(50);
    let state = conversation(&desk);
    for (len, padded) in [
        (0, 256),
        (251, 256),
        (252, 256),
        (253, 512),
        (1020, 1024),
        (1021, 2048),
        (MAX_CONTENT_LEN, 1 << 20),
    ] {
        assert_eq!(padded_len(len), Ok(padded), "len {len}");
        let content = bytes(len as u64, len);
        let m = Message::seal(
            &desk.reporter,
            next(&state, 0, 2, Kind::Message),
            &key(1),
            &content,
            &mut rng,
        )
        .unwrap();
        assert_eq!(m.ciphertext.len(), padded + TAG_LEN, "len {len}");
        let decoded = Message::from_bytes(&m.to_bytes()).unwrap();
        assert_eq!(decoded, m);
        assert_eq!(&decoded.open(&key(1)).unwrap()[..], &content[..]);
    }
    assert_eq!(padded_len(MAX_CONTENT_LEN + 1), Err(Error::TooLarge));
    let too_big = vec![0u8; MAX_CONTENT_LEN + 1];
    assert_eq!(
        Message::seal(
            &desk.reporter,
            next(&state, 0, 2, Kind::Message),
            &key(1),
            &too_big,
            &mut rng
        )
        .unwrap_err(),
        Error::TooLarge
    );
}

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn message_wrong_key_or_altered_fails_decryption() {
    let desk = Desk::new();
    let m = Message::seal_with_salt(
        &desk.reporter,
        next(&conversation(&desk), 0, 2, Kind::Message),
        &key(1),
        b"secret",
        [3; 32],
    )
    .unwrap();
    assert_eq!(m.open(&key(2)).unwrap_err(), Error::DecryptionFailed);
    let mut altered = m.clone();
    altered.ciphertext[0] ^= 1;
    assert_eq!(altered.open(&key(1)).unwrap_err(), Error::DecryptionFailed);
    let mut relabelled = m.clone();
    relabelled.header.seq = 2;
    assert_eq!(
        relabelled.open(&key(1)).unwrap_err(),
        Error::DecryptionFailed
    );
    assert_eq!(
        relabelled.verify_signature(desk.reporter.public()),
        Err(Error::BadSignature)
    );
    // Verifying against someone else's key fails too.
    assert_eq!(
        m.verify_signature(desk.admins[0].public()),
        Err(Error::BadSignature)
    );
    m.verify_signature(desk.reporter.public()).unwrap();
    // Deterministic with an explicit salt.
    let again = Message::seal_with_salt(
        &desk.reporter,
        next(&conversation(&desk), 0, 2, Kind::Message),
        &key(1),
        b"secret",
        [3; 32],
    )
    .unwrap();
    assert_eq!(again, m);
}

/// Encrypts `padded` as a message body exactly as spec §9 says (HKDF-SHA256 with the header's
/// salt, ChaCha20-Poly1305 with the header as associated data), without the crate's padding.
fn seal_raw(key: &TicketKey, header: &sealdesk_crypto::MessageHeader, padded: &[u8]) -> Vec<u8> {
    use chacha20poly1305::aead::{AeadInOut, KeyInit};
    let label = sealdesk_crypto::labels::MESSAGE_KEY;
    let mut info = vec![label.len() as u8];
    info.extend_from_slice(label.as_bytes());
    let mut okm = [0u8; 44];
    hkdf::Hkdf::<sha2::Sha256>::new(Some(&header.salt), key.as_bytes())
        .expand(&info, &mut okm)
        .unwrap();
    let k: [u8; 32] = okm[..32].try_into().unwrap();
    let n: [u8; 12] = okm[32..].try_into().unwrap();
    let cipher = chacha20poly1305::ChaCha20Poly1305::new(&chacha20poly1305::Key::from(k));
    let mut buf = padded.to_vec();
    let tag = cipher
        .encrypt_inout_detached(
            &chacha20poly1305::Nonce::from(n),
            &header.to_bytes(),
            buf.as_mut_slice().into(),
        )
        .unwrap();
    buf.extend_from_slice(&tag);
    buf
}

fn padded(len_field: u32, content: &[u8], total: usize) -> Vec<u8> {
    let mut out = len_field.to_be_bytes().to_vec();
    out.extend_from_slice(content);
    out.resize(total, 0);
    out
}

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn message_rejects_non_canonical_padding() {
    let desk = Desk::new();
    let k = key(1);
    let m = Message::seal_with_salt(
        &desk.reporter,
        next(&conversation(&desk), 0, 2, Kind::Message),
        &k,
        b"0123456789",
        [3; 32],
    )
    .unwrap();
    // The reconstruction matches the crate byte for byte.
    assert_eq!(
        seal_raw(&k, &m.header, &padded(10, b"0123456789", 256)),
        m.ciphertext
    );
    let open = |body: Vec<u8>| {
        let mut altered = m.clone();
        altered.ciphertext = seal_raw(&k, &m.header, &body);
        altered.open(&k).map(|c| c.to_vec())
    };
    assert_eq!(
        open(padded(10, b"0123456789", 256)),
        Ok(b"0123456789".to_vec())
    );
    assert_eq!(open(padded(252, &[7; 252], 256)), Ok(vec![7; 252]));
    // A larger bucket than the content needs.
    assert_eq!(open(padded(10, b"0123456789", 512)), Err(Error::BadPadding));
    assert_eq!(open(padded(0, b"", 512)), Err(Error::BadPadding));
    // Not a bucket at all, or shorter than the smallest.
    assert_eq!(open(padded(10, b"0123456789", 300)), Err(Error::BadPadding));
    assert_eq!(open(padded(10, b"0123456789", 128)), Err(Error::BadPadding));
    assert_eq!(open(vec![0, 0, 0]), Err(Error::BadPadding));
    assert_eq!(open(vec![]), Err(Error::BadPadding));
    // A length beyond the buffer.
    assert_eq!(open(padded(253, &[7; 252], 256)), Err(Error::BadPadding));
    assert_eq!(open(padded(u32::MAX, b"", 256)), Err(Error::BadPadding));
    // Non-zero padding.
    let mut dirty = padded(10, b"0123456789", 256);
    dirty[255] = 1;
    assert_eq!(open(dirty), Err(Error::BadPadding));
}

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn hpke_suite_round_trip_and_low_order_key() {
    use sealdesk_crypto::hpke_suite::{open_base, seal_base};
    let sk = [0x11u8; 32];
    let pk = x25519_dalek::x25519(sk, x25519_dalek::X25519_BASEPOINT_BYTES);
    let (enc, ct) = seal_base(&pk, b"info", b"aad", b"plaintext", &[0x22; 32]).unwrap();
    assert_eq!(ct.len(), 9 + 16);
    assert_eq!(
        open_base(&sk, &enc, b"info", b"aad", &ct).unwrap(),
        b"plaintext"
    );
    assert_eq!(
        open_base(&sk, &enc, b"info", b"aaD", &ct),
        Err(Error::DecryptionFailed)
    );
    assert_eq!(
        open_base(&sk, &enc, b"inf0", b"aad", &ct),
        Err(Error::DecryptionFailed)
    );
    assert_eq!(
        open_base(&[0x12; 32], &enc, b"info", b"aad", &ct),
        Err(Error::DecryptionFailed)
    );
    // Deterministic in ikmE.
    assert_eq!(
        seal_base(&pk, b"info", b"aad", b"plaintext", &[0x22; 32]).unwrap(),
        (enc, ct)
    );
    // A low-order recipient key gives an all-zero shared secret: refused, not a panic.
    assert_eq!(
        seal_base(&[0; 32], b"info", b"", b"x", &[0x22; 32]).map(|_| ()),
        Err(Error::Hpke)
    );
    assert_eq!(
        open_base(&sk, &[0; 32], b"info", b"", &[0; 17]).map(|_| ()),
        Err(Error::Hpke)
    );
}

// ---------------------------------------------------------------------------------------------
// Anonymous tickets
// ---------------------------------------------------------------------------------------------

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn fragment_round_trip() {
    let mut rng = TestRng::new(60);
    let mut secrets = vec![[0u8; 32], [0xff; 32], [0xfb; 32]];
    for _ in 0..8 {
        secrets.push(TicketSecret::generate(&mut rng).as_bytes().to_owned());
    }
    for bytes in secrets {
        let secret = TicketSecret::from_bytes(bytes);
        let fragment = secret.to_fragment();
        assert_eq!(fragment.len(), FRAGMENT_LEN);
        assert!(
            fragment
                .bytes()
                .all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_')
        );
        assert_eq!(
            TicketSecret::from_fragment(&fragment).unwrap().as_bytes(),
            &bytes
        );
    }
    assert_eq!(
        TicketSecret::from_bytes([0xff; 32]).to_fragment(),
        "_".repeat(42) + "8"
    );
}

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn fragment_rejects_wrong_length_non_canonical_and_invalid() {
    let malformed = Err(Error::Malformed("ticket secret"));
    let good = TicketSecret::from_bytes([0x42; 32]).to_fragment();
    let check = |text: &str| {
        assert_eq!(
            TicketSecret::from_fragment(text).map(|s| *s.as_bytes()),
            malformed.clone(),
            "{text:?}"
        )
    };
    check(&good[..42]);
    check(&format!("{good}A"));
    check(&format!("{good}="));
    check("");
    // 43 characters whose last one carries non-zero unused bits.
    let zeros = "A".repeat(43);
    assert!(TicketSecret::from_fragment(&zeros).is_ok());
    for last in ['B', 'C', 'D', 'R'] {
        check(&format!("{}{last}", &zeros[..42]));
    }
    // Standard-alphabet, padding, whitespace, non-ASCII characters.
    for bad in ["+", "/", "=", " ", "!", ".", "\n"] {
        check(&format!("{}{bad}{}", &good[..20], &good[21..]));
    }
    check(&format!("{}é{}", &good[..20], &good[22..])); // 43 bytes, 42 characters
    check(&format!("{}é{}", &good[..20], &good[21..])); // 44 bytes
}

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn ticket_secret_derivations_are_deterministic_and_distinct() {
    let s1 = TicketSecret::from_bytes([1; 32]);
    let s1_again = TicketSecret::from_fragment(&s1.to_fragment()).unwrap();
    let s2 = TicketSecret::from_bytes([2; 32]);
    assert_eq!(s1.ticket_id(), s1_again.ticket_id());
    assert_eq!(s1.identity().key_id(), s1_again.identity().key_id());
    assert_eq!(
        s1.identity_seed().as_bytes(),
        s1_again.identity_seed().as_bytes()
    );
    assert_eq!(
        s1.access_token().as_bytes(),
        s1_again.access_token().as_bytes()
    );

    assert_ne!(s1.ticket_id(), s2.ticket_id());
    assert_ne!(s1.identity().key_id(), s2.identity().key_id());
    assert_ne!(s1.access_token().as_bytes(), s2.access_token().as_bytes());
    // The three derivations are separated from each other and from the secret.
    let seed = *s1.identity_seed().as_bytes();
    let token = *s1.access_token().as_bytes();
    let id = s1.ticket_id().0;
    assert_ne!(seed, token);
    assert_ne!(seed, *s1.as_bytes());
    assert_ne!(token, *s1.as_bytes());
    assert_ne!(id[..], seed[..16]);
    assert_ne!(id[..], token[..16]);
}

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn access_token_matches_hash() {
    let token = TicketSecret::from_bytes([1; 32]).access_token();
    let stored = token.hash();
    assert!(token.matches_hash(&stored));
    assert!(
        !TicketSecret::from_bytes([2; 32])
            .access_token()
            .matches_hash(&stored)
    );
    let mut near = stored;
    near[31] ^= 1;
    assert!(!token.matches_hash(&near));
    assert_ne!(stored, *token.as_bytes());
    let text = token.to_base64url();
    assert_eq!(text.len(), 43);
    assert!(
        AccessToken::from_base64url(&text)
            .unwrap()
            .matches_hash(&stored)
    );
    assert_eq!(
        AccessToken::from_base64url(&text[..42]).map(|t| *t.as_bytes()),
        Err(Error::Malformed("access token"))
    );
    let session = AccessToken::generate(&mut TestRng::new(61));
    assert!(AccessToken::from_bytes(*session.as_bytes()).matches_hash(&session.hash()));
}

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn ticket_id_hex() {
    let id = TicketId(*b"\x00\x01\x7f\x80\xab\xcd\xef\xff0123456z");
    let hex = id.to_hex();
    assert_eq!(hex, "00017f80abcdefff303132333435367a");
    assert_eq!(TicketId::from_hex(&hex), Ok(id));
    assert_eq!(TicketId::from_hex(&hex.to_uppercase()), Ok(id));
    for bad in [
        &hex[..31],
        &format!("{hex}0"),
        &format!("{}g", &hex[..31]),
        "",
    ] {
        assert_eq!(
            TicketId::from_hex(bad),
            Err(Error::Malformed("ticket id")),
            "{bad:?}"
        );
    }
    assert_eq!(
        TicketId::from_hex(&format!("{}é", &hex[..30])),
        Err(Error::Malformed("ticket id"))
    );
}

// ---------------------------------------------------------------------------------------------
// Accounts
// ---------------------------------------------------------------------------------------------

const CHEAP: Argon2Params = Argon2Params::TEST_ONLY_CHEAP;

fn master(password: &[u8], salt: &[u8; SALT_LEN], params: Argon2Params) -> MasterKey {
    MasterKey::derive(password, salt, params).unwrap()
}

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn account_keys_are_deterministic() {
    let salt = [7u8; SALT_LEN];
    let m1 = master(b"correct horse", &salt, CHEAP);
    let m2 = master(b"correct horse", &salt, CHEAP);
    assert_eq!(m1.as_bytes(), m2.as_bytes());
    assert_eq!(m1.auth_key().as_bytes(), m2.auth_key().as_bytes());
    assert_eq!(m1.keyring_key().as_bytes(), m2.keyring_key().as_bytes());
    assert_ne!(m1.auth_key().as_bytes(), m1.keyring_key().as_bytes());
    assert_ne!(m1.auth_key().as_bytes(), m1.as_bytes());
    // The server stores only the hash of the auth key.
    let stored = m1.auth_key().server_hash();
    assert!(AuthKey::from_bytes(*m2.auth_key().as_bytes()).matches_hash(&stored));
    assert!(
        !master(b"wrong", &salt, CHEAP)
            .auth_key()
            .matches_hash(&stored)
    );
}

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn account_keys_depend_on_password_salt_and_params() {
    let salt = [7u8; SALT_LEN];
    let base = *master(b"correct horse", &salt, CHEAP).as_bytes();
    let variants = [
        master(b"correct horsf", &salt, CHEAP),
        master(b"", &salt, CHEAP),
        master(b"correct horse", &[8u8; SALT_LEN], CHEAP),
        master(
            b"correct horse",
            &salt,
            Argon2Params {
                memory_kib: 512,
                ..CHEAP
            },
        ),
        master(
            b"correct horse",
            &salt,
            Argon2Params {
                iterations: 2,
                ..CHEAP
            },
        ),
        master(
            b"correct horse",
            &salt,
            Argon2Params {
                parallelism: 2,
                ..CHEAP
            },
        ),
    ];
    for (i, v) in variants.iter().enumerate() {
        assert_ne!(*v.as_bytes(), base, "variant {i}");
        for w in &variants[i + 1..] {
            assert_ne!(v.as_bytes(), w.as_bytes());
        }
    }
}

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn keyring_seals_and_opens_and_wrong_key_fails() {
    let mut rng = TestRng::new(70);
    let salt = [7u8; SALT_LEN];
    let kk = master(b"correct horse", &salt, CHEAP).keyring_key();
    let keyring = Keyring {
        identity_seed: IdentitySeed::generate(&mut rng),
        app_data: Zeroizing::new(b"{\"links\":[]}".to_vec()),
    };
    let sealed = kk.seal(&keyring, &mut rng).unwrap();
    assert_eq!(sealed[0], sealdesk_crypto::KEYRING_VERSION);
    assert_eq!(
        sealed.len(),
        1 + 32 + 32 + 4 + keyring.app_data.len() + TAG_LEN
    );
    let opened = kk.open(&sealed).unwrap();
    assert_eq!(
        opened.identity_seed.as_bytes(),
        keyring.identity_seed.as_bytes()
    );
    assert_eq!(*opened.app_data, *keyring.app_data);

    let wrong = master(b"correct horsf", &salt, CHEAP).keyring_key();
    assert_eq!(
        wrong.open(&sealed).map(|_| ()),
        Err(Error::DecryptionFailed)
    );
    let mut altered = sealed.clone();
    altered[5] ^= 1; // salt
    assert_eq!(kk.open(&altered).map(|_| ()), Err(Error::DecryptionFailed));
    let mut bad_version = sealed.clone();
    bad_version[0] = 2;
    assert_eq!(
        kk.open(&bad_version).map(|_| ()),
        Err(Error::Malformed("sealed keyring"))
    );
    assert_eq!(
        kk.open(&sealed[..40]).map(|_| ()),
        Err(Error::DecryptionFailed)
    );
    assert_eq!(
        kk.open(&sealed[..20]).map(|_| ()),
        Err(Error::Malformed("sealed keyring"))
    );
    // Two seals of the same keyring differ (fresh salt) but both open.
    let sealed2 = kk.seal(&keyring, &mut rng).unwrap();
    assert_ne!(sealed, sealed2);
    kk.open(&sealed2).unwrap();
}

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn keyring_size_limit() {
    let kk = master(b"pw", &[1; SALT_LEN], CHEAP).keyring_key();
    let mut keyring = Keyring {
        identity_seed: IdentitySeed::from_bytes([1; 32]),
        app_data: Zeroizing::new(vec![0xaa; MAX_KEYRING_LEN - 36]),
    };
    let sealed = kk.seal_with_salt(&keyring, [2; 32]).unwrap();
    assert_eq!(
        kk.open(&sealed).unwrap().app_data.len(),
        MAX_KEYRING_LEN - 36
    );
    keyring.app_data.push(0);
    assert_eq!(
        kk.seal_with_salt(&keyring, [2; 32]).map(|_| ()),
        Err(Error::TooLarge)
    );
}

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn password_change_keeps_identity() {
    let mut rng = TestRng::new(71);
    let (seed, identity) = Identity::generate(&mut rng);
    let keyring = Keyring {
        identity_seed: seed,
        app_data: Zeroizing::new(vec![1, 2, 3]),
    };
    let old_salt = sealdesk_crypto::generate_salt(&mut rng);
    let old_key = master(b"old password", &old_salt, CHEAP).keyring_key();
    let old_sealed = old_key.seal(&keyring, &mut rng).unwrap();

    // Change: log in with the old password, new salt and password, re-seal the same keyring.
    let opened = old_key.open(&old_sealed).unwrap();
    let new_salt = sealdesk_crypto::generate_salt(&mut rng);
    assert_ne!(new_salt, old_salt);
    let new_master = master(b"new password", &new_salt, CHEAP);
    let new_key = new_master.keyring_key();
    let new_sealed = new_key.seal(&opened, &mut rng).unwrap();

    let reopened = new_key.open(&new_sealed).unwrap();
    assert_eq!(
        Identity::from_seed(&reopened.identity_seed).key_id(),
        identity.key_id()
    );
    assert_eq!(*reopened.app_data, vec![1, 2, 3]);
    assert_eq!(
        new_key.open(&old_sealed).map(|_| ()),
        Err(Error::DecryptionFailed)
    );
    assert_eq!(
        old_key.open(&new_sealed).map(|_| ()),
        Err(Error::DecryptionFailed)
    );
    // The old password with the new salt does not open it either.
    let mixed = master(b"old password", &new_salt, CHEAP).keyring_key();
    assert_eq!(
        mixed.open(&new_sealed).map(|_| ()),
        Err(Error::DecryptionFailed)
    );
}

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn argon2_params_limits() {
    let salt = [0u8; SALT_LEN];
    let max = Argon2Params::MAX;
    for params in [
        Argon2Params {
            memory_kib: max.memory_kib + 1,
            ..CHEAP
        },
        Argon2Params {
            iterations: max.iterations + 1,
            ..CHEAP
        },
        Argon2Params {
            parallelism: max.parallelism + 1,
            ..CHEAP
        },
        Argon2Params {
            memory_kib: u32::MAX,
            iterations: u32::MAX,
            parallelism: u32::MAX,
        },
        // Below what Argon2 accepts.
        Argon2Params {
            iterations: 0,
            ..CHEAP
        },
        Argon2Params {
            parallelism: 0,
            ..CHEAP
        },
        Argon2Params {
            memory_kib: 7,
            ..CHEAP
        },
    ] {
        assert_eq!(
            MasterKey::derive(b"pw", &salt, params).map(|_| ()),
            Err(Error::KeyDerivation),
            "{params:?}"
        );
    }
}

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn argon2_params_at_least() {
    let d = Argon2Params::DEFAULT;
    assert!(d.at_least(&d));
    assert!(d.at_least(&CHEAP));
    assert!(!CHEAP.at_least(&d));
    assert!(Argon2Params::MAX.at_least(&d));
    assert!(!d.at_least(&Argon2Params::MAX));
    // Every parameter counts: more memory does not make up for fewer passes.
    assert!(
        !Argon2Params {
            memory_kib: d.memory_kib * 2,
            iterations: 1,
            ..d
        }
        .at_least(&d)
    );
    assert!(
        !Argon2Params {
            parallelism: 0,
            ..d
        }
        .at_least(&d)
    );
    assert!(
        !Argon2Params {
            memory_kib: d.memory_kib - 1,
            ..d
        }
        .at_least(&d)
    );
}

// ---------------------------------------------------------------------------------------------
// Attachments
// ---------------------------------------------------------------------------------------------

const NONCE: [u8; STREAM_NONCE_LEN] = [0x5a; STREAM_NONCE_LEN];

fn file_key() -> FileKey {
    FileKey::from_bytes([0x33; 32])
}

/// The stream after the nonce, fed in pieces of `piece` bytes.
fn encrypt(data: &[u8], piece: usize) -> Vec<u8> {
    let mut enc = StreamEncryptor::with_nonce(&file_key(), NONCE);
    let mut out = Vec::new();
    for p in data.chunks(piece.max(1)) {
        enc.update(p, &mut out).unwrap();
    }
    enc.finish(&mut out).unwrap();
    out
}

fn decrypt_with(key: &FileKey, stream: &[u8], piece: usize) -> Result<Vec<u8>, Error> {
    let mut dec = StreamDecryptor::new(key, &NONCE);
    let mut out = Vec::new();
    for p in stream.chunks(piece.max(1)) {
        dec.update(p, &mut out)?;
    }
    dec.finish(&mut out)?;
    Ok(out)
}

fn decrypt(stream: &[u8]) -> Result<Vec<u8>, Error> {
    decrypt_with(&file_key(), stream, 4096)
}

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn attachment_round_trips_in_odd_pieces() {
    for size in [
        0,
        1,
        CHUNK_LEN - 1,
        CHUNK_LEN,
        CHUNK_LEN + 1,
        3 * CHUNK_LEN - 5,
    ] {
        let data = bytes(size as u64, size);
        let whole = encrypt(&data, size);
        assert_eq!(
            Some((STREAM_NONCE_LEN + whole.len()) as u64),
            encrypted_len(size as u64),
            "size {size}"
        );
        for piece in [1, 7, 65535, size.max(1)] {
            let stream = encrypt(&data, piece);
            assert_eq!(stream, whole, "size {size} piece {piece}");
            assert_eq!(
                decrypt_with(&file_key(), &stream, piece).unwrap(),
                data,
                "size {size} piece {piece}"
            );
        }
    }
    assert_eq!(encrypted_len(0), Some(32));
    assert_eq!(
        encrypted_len(CHUNK_LEN as u64),
        Some((16 + ENCRYPTED_CHUNK_LEN) as u64)
    );
    assert_eq!(
        encrypted_len(CHUNK_LEN as u64 + 1),
        Some((16 + ENCRYPTED_CHUNK_LEN + 17) as u64)
    );
}

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn encrypted_len_never_wraps() {
    // Sizes come from attachment references, i.e. from other people: a huge declared size must
    // not panic (debug) or wrap around to a small length (release); it is `None` instead.
    // Exact length without overflow: nonce, plaintext, one tag per chunk (at least one).
    let exact = |n: u64| -> u128 {
        let chunks = u128::from(n).div_ceil(CHUNK_LEN as u128).max(1);
        STREAM_NONCE_LEN as u128 + u128::from(n) + chunks * TAG_LEN as u128
    };
    // The largest size whose encrypted length fits in a u64.
    let (mut fits, mut overflows) = (0u64, u64::MAX);
    while overflows - fits > 1 {
        let mid = fits + (overflows - fits) / 2;
        if exact(mid) <= u128::from(u64::MAX) {
            fits = mid;
        } else {
            overflows = mid;
        }
    }
    assert!(fits > 1 << 63 && fits < u64::MAX - (1 << 40));
    for n in [
        0,
        1,
        CHUNK_LEN as u64,
        1u64 << 63,
        fits - CHUNK_LEN as u64,
        fits - 1,
        fits,
    ] {
        let len = encrypted_len(n).unwrap_or_else(|| panic!("encrypted_len({n}) overflowed"));
        assert!(len >= n, "encrypted_len({n}) = {len}");
        assert_eq!(u128::from(len), exact(n), "encrypted_len({n})");
    }
    for n in [
        fits + 1,
        fits + CHUNK_LEN as u64,
        u64::MAX - (1 << 40),
        u64::MAX - 1,
        u64::MAX,
    ] {
        assert_eq!(encrypted_len(n), None, "encrypted_len({n})");
    }
}

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn attachment_chunk_api_matches_stream() {
    let mut rng = TestRng::new(80);
    let size = 2 * CHUNK_LEN + 10;
    let data = bytes(80, size);
    let (mut enc, nonce) = StreamEncryptor::new(&file_key(), &mut rng);
    let mut stream = Vec::new();
    let chunks: Vec<&[u8]> = data.chunks(CHUNK_LEN).collect();
    for (i, chunk) in chunks.iter().enumerate() {
        let mut buf = chunk.to_vec();
        let tag = enc
            .seal_chunk_in_place(&mut buf, i == chunks.len() - 1)
            .unwrap();
        stream.extend_from_slice(&buf);
        stream.extend_from_slice(&tag);
    }
    assert_eq!(Some(stream.len() as u64 + 16), encrypted_len(size as u64));
    let mut dec = StreamDecryptor::new(&file_key(), &nonce);
    let mut out = Vec::new();
    dec.update(&stream, &mut out).unwrap();
    dec.finish(&mut out).unwrap();
    assert_eq!(out, data);
    // Chunk length rules.
    let mut enc = StreamEncryptor::with_nonce(&file_key(), NONCE);
    assert_eq!(
        enc.seal_chunk_in_place(&mut [0u8; 10], false).unwrap_err(),
        Error::Malformed("attachment chunk")
    );
    assert_eq!(
        enc.seal_chunk_in_place(&mut vec![0u8; CHUNK_LEN + 1], true)
            .unwrap_err(),
        Error::Malformed("attachment chunk")
    );
    enc.seal_chunk_in_place(&mut vec![0u8; CHUNK_LEN], false)
        .unwrap();
    assert_eq!(
        enc.seal_chunk_in_place(&mut [], true).unwrap_err(),
        Error::Malformed("attachment chunk")
    );
}

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn attachment_truncation() {
    let data = bytes(81, 3 * CHUNK_LEN - 5);
    let stream = encrypt(&data, data.len());
    let e = ENCRYPTED_CHUNK_LEN;
    // At a chunk boundary.
    assert_eq!(decrypt(&stream[..e]), Err(Error::Truncated));
    assert_eq!(decrypt(&stream[..2 * e]), Err(Error::Truncated));
    // Within a chunk: the rest cannot authenticate as anything.
    assert_eq!(decrypt(&stream[..e + 1000]), Err(Error::DecryptionFailed));
    assert_eq!(decrypt(&stream[..e / 2]), Err(Error::DecryptionFailed));
    assert_eq!(
        decrypt(&stream[..stream.len() - 1]),
        Err(Error::DecryptionFailed)
    );
    // Fewer bytes than a tag after a boundary.
    assert_eq!(decrypt(&stream[..e + 15]), Err(Error::Truncated));
    assert_eq!(decrypt(&stream[..10]), Err(Error::Truncated));
    // Exactly a tag's worth after a boundary reads as an empty last chunk after others, which
    // `finish` documents as Malformed.
    assert_eq!(
        decrypt(&stream[..e + TAG_LEN]),
        Err(Error::Malformed("attachment chunk"))
    );
    // Nothing after the nonce.
    assert_eq!(decrypt(&[]), Err(Error::Truncated));
}

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn attachment_swapped_chunks_fail() {
    let data = bytes(82, 3 * CHUNK_LEN - 5);
    let stream = encrypt(&data, data.len());
    let e = ENCRYPTED_CHUNK_LEN;
    let mut swapped = stream.clone();
    swapped[..e].copy_from_slice(&stream[e..2 * e]);
    swapped[e..2 * e].copy_from_slice(&stream[..e]);
    assert_eq!(decrypt(&swapped), Err(Error::DecryptionFailed));
    // A chunk from another stream (same key, other nonce) at the same position.
    let mut other_enc = StreamEncryptor::with_nonce(&file_key(), [0x5b; 16]);
    let mut other = Vec::new();
    other_enc.update(&data, &mut other).unwrap();
    other_enc.finish(&mut other).unwrap();
    let mut spliced = stream.clone();
    spliced[e..2 * e].copy_from_slice(&other[e..2 * e]);
    assert_eq!(decrypt(&spliced), Err(Error::DecryptionFailed));
}

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn attachment_appended_chunk_fails() {
    let e = ENCRYPTED_CHUNK_LEN;
    // A full last chunk followed by more: the chunk authenticates only as the last one.
    let stream = encrypt(&bytes(83, CHUNK_LEN), CHUNK_LEN);
    assert_eq!(stream.len(), e);
    let mut appended = stream.clone();
    appended.extend_from_slice(&stream);
    assert_eq!(decrypt(&appended), Err(Error::TrailingData));
    let mut one_more_byte = stream.clone();
    one_more_byte.push(0);
    assert_eq!(decrypt(&one_more_byte), Err(Error::TrailingData));
    // A short last chunk followed by a copy of itself.
    let stream = encrypt(&bytes(84, 3 * CHUNK_LEN - 5), 4096);
    let last = stream[2 * e..].to_vec();
    let mut appended = stream.clone();
    appended.extend_from_slice(&last);
    assert_eq!(decrypt(&appended), Err(Error::DecryptionFailed));
    // An empty file's stream with anything appended.
    let mut empty = encrypt(&[], 1);
    assert_eq!(empty.len(), TAG_LEN);
    empty.extend_from_slice(&[0u8; TAG_LEN]);
    assert_eq!(decrypt(&empty), Err(Error::DecryptionFailed));
}

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn attachment_wrong_key_or_nonce_fails() {
    for size in [0, 10, CHUNK_LEN + 10] {
        let stream = encrypt(&bytes(85, size), 4096);
        let wrong = FileKey::from_bytes([0x34; 32]);
        assert_eq!(
            decrypt_with(&wrong, &stream, 4096),
            Err(Error::DecryptionFailed),
            "size {size}"
        );
        let mut dec = StreamDecryptor::new(&file_key(), &[0x5b; 16]);
        let mut out = Vec::new();
        let result = dec
            .update(&stream, &mut out)
            .and_then(|()| dec.finish(&mut out));
        assert_eq!(result, Err(Error::DecryptionFailed), "size {size}");
    }
}

// ---------------------------------------------------------------------------------------------
// Identities and signatures
// ---------------------------------------------------------------------------------------------

fn key32(hex_text: &str) -> [u8; 32] {
    hex::decode(hex_text).unwrap().try_into().unwrap()
}

/// Little-endian `p + y` for p = 2^255 - 19: non-canonical encodings of `y`.
fn non_canonical(y: u8) -> [u8; 32] {
    let mut bytes = [0xff; 32];
    bytes[0] = 0xed + y;
    bytes[31] = 0x7f;
    bytes
}

fn public_from(ed: [u8; 32], x: [u8; 32]) -> Result<PublicIdentity, Error> {
    let mut bytes = [0u8; 64];
    bytes[..32].copy_from_slice(&ed);
    bytes[32..].copy_from_slice(&x);
    PublicIdentity::from_bytes(&bytes)
}

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn public_identity_round_trip() {
    let id = identity(1);
    let bytes = id.public().to_bytes();
    let decoded = PublicIdentity::from_bytes(&bytes).unwrap();
    assert_eq!(&decoded, id.public());
    assert_eq!(decoded.key_id(), id.key_id());
    assert_eq!(decoded.fingerprint(), id.key_id().fingerprint());
    assert_ne!(identity(2).key_id(), id.key_id());
    assert_eq!(
        PublicIdentity::from_bytes(&bytes[..63]),
        Err(Error::Malformed("public identity"))
    );
    let mut long = bytes.to_vec();
    long.push(0);
    assert_eq!(
        PublicIdentity::from_bytes(&long),
        Err(Error::Malformed("public identity"))
    );
    // Same seed, same identity; the seed round-trips.
    let (seed, generated) = Identity::generate(&mut TestRng::new(100));
    assert_eq!(
        Identity::from_seed(&IdentitySeed::from_bytes(*seed.as_bytes())).key_id(),
        generated.key_id()
    );
}

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn public_identity_rejects_small_order_ed25519() {
    let good = identity(1).public().to_bytes();
    let x: [u8; 32] = good[32..].try_into().unwrap();
    let small_order = [
        "0100000000000000000000000000000000000000000000000000000000000000",
        "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
        "0000000000000000000000000000000000000000000000000000000000000000",
        "0000000000000000000000000000000000000000000000000000000000000080",
        "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a",
        "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac03fa",
        "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05",
        "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc85",
    ];
    for ed in small_order {
        assert_eq!(
            public_from(key32(ed), x),
            Err(Error::InvalidPublicKey),
            "{ed}"
        );
        assert_eq!(
            sealdesk_crypto::verify_ed25519(&key32(ed), b"m", &[0u8; 64]),
            Err(Error::InvalidPublicKey),
            "{ed}"
        );
    }
}

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn public_identity_rejects_non_canonical_ed25519() {
    // p + y for y < 19 decompresses to the point with coordinate y. For y = 3, 4, 5, 6, 9, 10,
    // 14, 15, 16, 18 that point is on the curve and not of small order, so only a canonicity
    // check (re-encoding the decompressed point) rejects the encoding.
    let good = identity(1).public().to_bytes();
    let x: [u8; 32] = good[32..].try_into().unwrap();
    for y in 0..=18 {
        let mut ed = non_canonical(y);
        assert_eq!(public_from(ed, x), Err(Error::InvalidPublicKey), "p + {y}");
        ed[31] |= 0x80;
        assert_eq!(
            public_from(ed, x),
            Err(Error::InvalidPublicKey),
            "p + {y}, sign bit"
        );
    }
}

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn x25519_rejects_low_order_and_non_canonical() {
    let good = identity(1).public().to_bytes();
    let ed: [u8; 32] = good[..32].try_into().unwrap();
    let x: [u8; 32] = good[32..].try_into().unwrap();
    sealdesk_crypto::validate_x25519_public(&x).unwrap();
    let low_order = [
        "0000000000000000000000000000000000000000000000000000000000000000",
        "0100000000000000000000000000000000000000000000000000000000000000",
        "e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800",
        "5f9c95bca3508c24b1d0b1559c83ef5b04445cc4581c8e86d8224eddd09f1157",
        "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
    ];
    for u in low_order {
        assert_eq!(
            sealdesk_crypto::validate_x25519_public(&key32(u)),
            Err(Error::InvalidPublicKey),
            "{u}"
        );
        assert_eq!(
            public_from(ed, key32(u)),
            Err(Error::InvalidPublicKey),
            "{u}"
        );
    }
    // Non-canonical: p + y, and anything with the top bit set (even a valid key's).
    for y in 0..=18 {
        assert_eq!(
            sealdesk_crypto::validate_x25519_public(&non_canonical(y)),
            Err(Error::InvalidPublicKey)
        );
    }
    let mut top = x;
    top[31] |= 0x80;
    assert_eq!(public_from(ed, top), Err(Error::InvalidPublicKey));
}

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn signatures_are_strict() {
    let desk = Desk::new();
    let m = Message::seal(
        &desk.reporter,
        next(&conversation(&desk), 0, 2, Kind::Message),
        &key(1),
        b"hi",
        &mut TestRng::new(101),
    )
    .unwrap();
    // The signed bytes: u8 len || "sealdesk/v1/message-sig" || header || u32 len(ct) || ct.
    let label = sealdesk_crypto::labels::MESSAGE_SIG;
    let mut signed = vec![label.len() as u8];
    signed.extend_from_slice(label.as_bytes());
    signed.extend_from_slice(&m.header.to_bytes());
    signed.extend_from_slice(&(m.ciphertext.len() as u32).to_be_bytes());
    signed.extend_from_slice(&m.ciphertext);
    let ed: [u8; 32] = desk.reporter.public().to_bytes()[..32].try_into().unwrap();
    sealdesk_crypto::verify_ed25519(&ed, &signed, &m.signature).unwrap();
    desk.reporter
        .public()
        .verify(&signed, &m.signature)
        .unwrap();
    assert_eq!(
        sealdesk_crypto::verify_ed25519(&ed, &signed, &m.signature[..63]),
        Err(Error::BadSignature)
    );

    // S + L is the same signature modulo L, and must be refused.
    let l = key32("edd3f55c1a631258d69cf7a2def9de1400000000000000000000000000000010");
    let mut malleated = m.clone();
    let mut carry = 0u16;
    for (byte, l_byte) in malleated.signature[32..].iter_mut().zip(l) {
        let sum = u16::from(*byte) + u16::from(l_byte) + carry;
        *byte = sum as u8;
        carry = sum >> 8;
    }
    assert_eq!(carry, 0);
    assert_eq!(
        sealdesk_crypto::verify_ed25519(&ed, &signed, &malleated.signature),
        Err(Error::BadSignature)
    );
    assert_eq!(
        malleated.verify_signature(desk.reporter.public()),
        Err(Error::BadSignature)
    );
    assert_eq!(
        verify(&desk, &[malleated.to_bytes()]).unwrap_err(),
        transcript_err(0, 1, Fault::BadSignature)
    );
}

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn key_id_fingerprint_format() {
    assert_eq!(
        KeyId([0; 32]).fingerprint(),
        "00000 00000 00000 00000 00000 00000"
    );
    // 2^40 - 1 = 1099511627775.
    assert_eq!(
        KeyId([0xff; 32]).fingerprint(),
        "27775 27775 27775 27775 27775 27775"
    );
    let mut bytes = [0u8; 32];
    bytes[4] = 1; // first group = 1
    bytes[30] = 0xff; // the last two bytes are not used
    bytes[31] = 0xff;
    assert_eq!(
        KeyId(bytes).fingerprint(),
        "00001 00000 00000 00000 00000 00000"
    );
    let fp = identity(1).public().fingerprint();
    assert_eq!(fp.len(), 35);
    assert!(
        fp.split(' ')
            .all(|g| g.len() == 5 && g.bytes().all(|c| c.is_ascii_digit()))
    );
    assert_eq!(format!("{}", KeyId([0xab; 32])), "ab".repeat(32));
    assert_eq!(
        format!("{:?}", KeyId([0xab; 32])),
        format!("KeyId({})", "ab".repeat(32))
    );
}

// ---------------------------------------------------------------------------------------------
// Secrets never print
// ---------------------------------------------------------------------------------------------

fn assert_redacted(debug: String, secret: &[u8]) {
    let hex = hex::encode(secret);
    assert!(!debug.contains(&hex), "{debug} shows its hex");
    assert!(
        !debug.contains(&hex::encode_upper(secret)),
        "{debug} shows its hex"
    );
    assert!(
        !debug.contains(&format!("{secret:?}")),
        "{debug} shows its bytes"
    );
    let first = format!("{}, {}, {}", secret[0], secret[1], secret[2]);
    assert!(!debug.contains(&first), "{debug} shows its bytes");
}

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn secrets_are_redacted_in_debug() {
    let raw: [u8; 32] = bytes(90, 32).try_into().unwrap();
    let check = |debug: String, secret: &[u8]| {
        assert_redacted(debug.clone(), secret);
        assert!(debug.contains("redacted"), "{debug}");
    };
    check(format!("{:?}", IdentitySeed::from_bytes(raw)), &raw);
    check(format!("{:?}", TicketKey::from_bytes(raw)), &raw);
    check(format!("{:?}", TicketSecret::from_bytes(raw)), &raw);
    check(format!("{:?}", AccessToken::from_bytes(raw)), &raw);
    check(format!("{:?}", FileKey::from_bytes(raw)), &raw);
    check(format!("{:?}", AuthKey::from_bytes(raw)), &raw);
    let m = master(b"pw", &[1; SALT_LEN], CHEAP);
    check(format!("{m:?}"), m.as_bytes());
    let auth = m.auth_key();
    check(format!("{auth:?}"), auth.as_bytes());
    let kk: KeyringKey = m.keyring_key();
    check(format!("{kk:?}"), kk.as_bytes());
    let secret = TicketSecret::from_bytes(raw);
    let token = secret.access_token();
    check(format!("{token:?}"), token.as_bytes());
    let seed = secret.identity_seed();
    check(format!("{seed:?}"), seed.as_bytes());

    // An identity shows its key id only.
    let identity = Identity::from_seed(&IdentitySeed::from_bytes(raw));
    let debug = format!("{identity:?}");
    assert_redacted(debug.clone(), &raw);
    assert!(debug.contains(&identity.key_id().to_string()), "{debug}");
    assert_eq!(
        debug.replace(&identity.key_id().to_string(), ""),
        "Identity { key_id: KeyId(), .. }"
    );
}

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn keyring_debug_redacts_app_data() {
    // The keyring's app data holds saved ticket links (ticket secrets). Its derived `Debug`
    // relies on `Zeroizing`'s redacting one; this keeps it that way.
    let raw: [u8; 32] = bytes(91, 32).try_into().unwrap();
    let link = TicketSecret::from_bytes(raw).to_fragment();
    let keyring = Keyring {
        identity_seed: IdentitySeed::from_bytes(raw),
        app_data: Zeroizing::new(link.clone().into_bytes()),
    };
    let debug = format!("{keyring:?}");
    assert_redacted(debug.clone(), &raw);
    assert_redacted(debug.clone(), link.as_bytes());
}

/// The persistence encoding of a chain state round-trips, verification continues from a decoded
/// state exactly as from the original, and inconsistent encodings are refused.
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn chain_state_persists_and_verification_continues() {
    let desk = Desk::new();
    let head = desk.directory.head_seq();
    let mut rng = TestRng::new(77);
    let k0 = key(1);
    let mut state = conversation(&desk);
    assert_eq!(ChainState::from_bytes(&state.to_bytes()).unwrap(), state);

    let first = Message::seal(
        &desk.reporter,
        next(&state, 0, head, Kind::Message),
        &k0,
        b"hi",
        &mut rng,
    )
    .unwrap();
    state
        .extend_encoded(&[first.to_bytes()], &desk.members, &desk.directory)
        .unwrap();
    let close = Message::seal(
        &desk.admins[0],
        next(&state, 0, head, Kind::Close),
        &k0,
        b"",
        &mut rng,
    )
    .unwrap();
    state
        .extend_encoded(&[close.to_bytes()], &desk.members, &desk.directory)
        .unwrap();
    assert!(state.is_closed());

    let mut restored = ChainState::from_bytes(&state.to_bytes()).unwrap();
    assert_eq!(restored, state);
    let reply = Message::seal(
        &desk.reporter,
        next(&state, 0, head, Kind::Message),
        &k0,
        b"again",
        &mut rng,
    )
    .unwrap();
    state
        .extend_encoded(&[reply.to_bytes()], &desk.members, &desk.directory)
        .unwrap();
    restored
        .extend_encoded(&[reply.to_bytes()], &desk.members, &desk.directory)
        .unwrap();
    assert_eq!(restored, state);
    assert!(!restored.is_closed());

    let good = state.to_bytes();
    // Trailing byte, truncation, an unknown status byte, more epochs than messages.
    let mut trailing = good.clone();
    trailing.push(0);
    let mut bad_flag = good.clone();
    bad_flag[66] = 4;
    let mut too_many_epochs = good[..67].to_vec();
    too_many_epochs.extend_from_slice(&9u32.to_be_bytes());
    too_many_epochs.extend(std::iter::repeat_n(0u8, 72));
    for bad in [
        trailing,
        good[..good.len() - 1].to_vec(),
        bad_flag,
        too_many_epochs,
    ] {
        assert_eq!(
            ChainState::from_bytes(&bad),
            Err(Error::Malformed("chain state"))
        );
    }
}

/// A state persisted in version 1 (before reporter keys were part of it) still decodes, and
/// verification continues from it with the first reporter key from [`Members`].
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn chain_state_version_1_still_decodes() {
    let desk = Desk::new();
    let mut rng = TestRng::new(78);
    let k0 = key(1);
    let mut state = conversation(&desk);
    write(
        &mut state,
        &desk,
        Draft {
            sender: &desk.reporter,
            key: &k0,
            epoch: 0,
            dir_seq: 2,
            kind: Kind::Message,
            content: b"hi",
        },
        &mut rng,
    );
    let v2 = state.to_bytes();
    assert_eq!(v2[0], 2);
    // Version 1: the same fields up to the epochs, without the reporter keys and the flag.
    let mut v1 = v2[..v2.len() - 4 - PUBLIC_IDENTITY_LEN - 1].to_vec();
    v1[0] = 1;
    let mut restored = ChainState::from_bytes(&v1).unwrap();
    assert!(restored.reporters().is_empty());
    assert_eq!(restored.last_hash(), state.last_hash());
    write(
        &mut restored,
        &desk,
        Draft {
            sender: &desk.reporter,
            key: &k0,
            epoch: 0,
            dir_seq: 2,
            kind: Kind::Message,
            content: b"again",
        },
        &mut rng,
    );
    // Reporter keys on the notes chain, or an unread flag of 2, are refused.
    let mut bad_flag = v2.clone();
    *bad_flag.last_mut().unwrap() = 2;
    let mut notes = v2.clone();
    notes[17] = Chain::Notes.to_u8();
    for bad in [bad_flag, notes] {
        assert_eq!(
            ChainState::from_bytes(&bad),
            Err(Error::Malformed("chain state"))
        );
    }
}

// ---------------------------------------------------------------------------------------------
// The removed administrator's endorsement (issue 10)
// ---------------------------------------------------------------------------------------------

/// B, removed at directory position r, endorses a key B controls dated before r; the server
/// presents it. The key must be refused: it would open a new epoch wrapped for itself and
/// read every later reply. (Written first against the out-of-transcript endorsement, where
/// `Members::endorse` accepted it and the key opened epoch 1: the test failed there.)
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn removed_admin_cannot_endorse_a_key_dated_before_the_removal() {
    let mut desk = Desk::new();
    let mut rng = TestRng::new(40);
    let k0 = key(1);
    let mut state = conversation(&desk);
    write(
        &mut state,
        &desk,
        Draft {
            sender: &desk.reporter,
            key: &k0,
            epoch: 0,
            dir_seq: 2,
            kind: Kind::Message,
            content: b"hi",
        },
        &mut rng,
    );
    let r = desk.remove_admin(1);
    let b = &desk.admins[1];
    let b_key = identity(0x66);

    // Dated r or later: B is no administrator there.
    assert_eq!(
        endorse(
            &mut state.clone(),
            &desk,
            b,
            b_key.public(),
            (1, r),
            &key(2),
            &mut rng
        )
        .unwrap_err(),
        transcript_err(0, 2, Fault::NotAMember)
    );
    // A's rotation at r closes the backdating window: dated r - 1 after it, dir_seq would go
    // backwards.
    let mut rotated = state.clone();
    write(
        &mut rotated,
        &desk,
        Draft {
            sender: &desk.admins[0],
            key: &key(2),
            epoch: 1,
            dir_seq: r,
            kind: Kind::Rotate,
            content: b"",
        },
        &mut rng,
    );
    assert_eq!(
        endorse(
            &mut rotated.clone(),
            &desk,
            b,
            b_key.public(),
            (1, r - 1),
            &key(2),
            &mut rng
        )
        .unwrap_err(),
        transcript_err(0, 3, Fault::DirectoryOutOfRange)
    );
    // So the key stays unknown: it cannot open an epoch wrapped for itself.
    let opening = Message::seal(
        &b_key,
        next(&rotated, 2, r, Kind::Message),
        &key(3),
        b"x",
        &mut rng,
    )
    .unwrap();
    assert_eq!(
        rotated.push(&opening, &desk.members, &desk.directory),
        Err(Fault::NotAMember)
    );
    assert_eq!(rotated.reporters().len(), 1);
}

/// A batch holding an endorse message and a message of the key it endorses verifies in one
/// call when the caller supplies the epoch's key; without it, the batch stops after the
/// endorsement.
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn batch_reads_endorsements_as_it_goes() {
    let desk = Desk::new();
    let mut rng = TestRng::new(41);
    let k = key(1);
    let recovered = identity(0x77);
    let mut writer = conversation(&desk);
    let content = EndorseContent::by_administrator(desk.ticket, recovered.public().clone());
    let batch: Vec<Vec<u8>> = [
        (&desk.reporter, Kind::Message, b"hi".to_vec()),
        (&desk.admins[0], Kind::Endorse, content.to_bytes()),
        (&recovered, Kind::Message, b"me".to_vec()),
    ]
    .into_iter()
    .map(|(sender, kind, body)| {
        let m = Message::seal(sender, next(&writer, 0, 2, kind), &k, &body, &mut rng).unwrap();
        writer.push(&m, &desk.members, &desk.directory).ok();
        if kind == Kind::Endorse {
            writer.read_endorsement(&m, &k).unwrap();
        }
        m.to_bytes()
    })
    .collect();

    let mut state = conversation(&desk);
    assert_eq!(
        state
            .extend_encoded_reading(&batch, &desk.members, &desk.directory, |_, _| None)
            .unwrap_err(),
        transcript_err(2, 3, Fault::EndorsementUnread)
    );
    assert_eq!(state, conversation(&desk));
    let verified = state
        .extend_encoded_reading(&batch, &desk.members, &desk.directory, |s, m| {
            assert_eq!(s.epoch_opened_at(m.header.epoch), Some(2));
            Some(k.clone())
        })
        .unwrap();
    assert_eq!(verified.len(), 3);
    assert_eq!(state, writer);
    assert_eq!(
        ids(state.reporters().iter().collect()),
        vec![desk.reporter.key_id(), recovered.key_id()]
    );
}

// ---------------------------------------------------------------------------------------------
// A reporter's own second key (grounds 0x02)
// ---------------------------------------------------------------------------------------------

/// The 82-byte content of an endorse message of `endorsed` for `desk`'s ticket with the
/// `grounds` byte given (0x01 administrator, 0x02 the reporter's own second key, §8.2).
fn endorse_content(desk: &Desk, grounds: u8, endorsed: &PublicIdentity) -> Vec<u8> {
    let mut content = EndorseContent::by_administrator(desk.ticket, endorsed.clone()).to_bytes();
    content[1] = grounds;
    content
}

/// Seals `content` as an endorse message by `endorser` at `dir_seq`, epoch 0, checks it in
/// (the transcript must accept it: the grounds are inside the encrypted content), then reads
/// its content.
fn endorse_raw(
    state: &mut ChainState,
    desk: &Desk,
    endorser: &Identity,
    content: &[u8],
    dir_seq: u64,
    rng: &mut TestRng,
) -> Result<PublicIdentity, Error> {
    let k = key(1);
    let message = Message::seal(
        endorser,
        next(state, 0, dir_seq, Kind::Endorse),
        &k,
        content,
        rng,
    )
    .unwrap();
    state
        .push(&message, &desk.members, &desk.directory)
        .map_err(|fault| transcript_err(0, message.header.seq, fault))?;
    state.read_endorsement(&message, &k)
}

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn reporter_endorses_its_own_second_key() {
    let desk = Desk::new();
    let mut rng = TestRng::new(23);
    let account = identity(0x55);
    let mut state = conversation(&desk);
    write(
        &mut state,
        &desk,
        Draft {
            sender: &desk.reporter,
            key: &key(1),
            epoch: 0,
            dir_seq: 2,
            kind: Kind::Message,
            content: b"hi",
        },
        &mut rng,
    );

    // An administrator may not use the reporter's grounds: the message verifies, its content
    // is refused and adds no key.
    let mut by_admin = state.clone();
    assert_eq!(
        endorse_raw(
            &mut by_admin,
            &desk,
            &desk.admins[0],
            &endorse_content(&desk, 2, account.public()),
            2,
            &mut rng
        )
        .unwrap_err(),
        Error::Endorsement(Fault::NotAMember)
    );
    assert_eq!(by_admin.reporters().len(), 1);
    assert!(!by_admin.endorsement_unread());

    // A reporter may not use the administrators' grounds.
    let mut reporter_as_admin = state.clone();
    assert_eq!(
        endorse_raw(
            &mut reporter_as_admin,
            &desk,
            &desk.reporter,
            &endorse_content(&desk, 1, account.public()),
            2,
            &mut rng
        )
        .unwrap_err(),
        Error::Endorsement(Fault::NotAMember)
    );
    assert_eq!(reporter_as_admin.reporters().len(), 1);

    // A stranger is no member at all.
    assert_eq!(
        endorse_raw(
            &mut state.clone(),
            &desk,
            &identity(0x99),
            &endorse_content(&desk, 2, account.public()),
            2,
            &mut rng
        )
        .unwrap_err(),
        transcript_err(0, 2, Fault::NotAMember)
    );

    // The reporter endorses its own second key: added, and it writes as the reporter.
    let endorsed = endorse_raw(
        &mut state,
        &desk,
        &desk.reporter,
        &endorse_content(&desk, 2, account.public()),
        2,
        &mut rng,
    )
    .unwrap();
    assert_eq!(&endorsed, account.public());
    assert_eq!(
        ids(state.reporters().iter().collect()),
        vec![desk.reporter.key_id(), account.key_id()]
    );
    write(
        &mut state,
        &desk,
        Draft {
            sender: &account,
            key: &key(1),
            epoch: 0,
            dir_seq: 2,
            kind: Kind::Message,
            content: b"from my account",
        },
        &mut rng,
    );
    // The second key is a reporter key of the chain at that point: it may endorse a third.
    let third = identity(0x56);
    endorse_raw(
        &mut state,
        &desk,
        &account,
        &endorse_content(&desk, 2, third.public()),
        2,
        &mut rng,
    )
    .unwrap();
    assert_eq!(state.reporters().len(), 3);
}
