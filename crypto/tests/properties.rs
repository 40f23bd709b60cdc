//! Property tests: round trips, single-bit flips, transcript mutations, and decoders that never
//! panic. Each runs a fixed-seed `TestRunner` inside an ordinary test function so that the same
//! tests run natively and as wasm.

// Test and tool code: a failed expectation stops the run, so it may unwrap, expect and
// panic (the workspace denies these in library code: Cargo.toml, clippy.toml).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[cfg(target_arch = "wasm32")]
wasm_bindgen_test::wasm_bindgen_test_configure!(run_in_browser);

mod common;

use common::{Desk, TestRng, bytes, conversation, identity, next, runner};
use proptest::collection::vec;
use proptest::prelude::*;
use sealdesk_crypto::{
    Argon2Params, Chain, ChainState, DirectoryEntry, ENDORSE_CONTENT_LEN, ENTRY_LEN,
    EndorseContent, Error, FileKey, HEADER_LEN, IdentitySeed, KeyId, Keyring, KeyringKey, Kind,
    MasterKey, Members, Message, Operation, PUBLIC_IDENTITY_LEN, Placement, PublicIdentity,
    STREAM_NONCE_LEN, StreamDecryptor, StreamEncryptor, TicketId, TicketKey, TicketSecret,
    WRAP_LEN, WrapContext, WrapSlot, WrappedKey, Zeroizing, encrypted_len,
};

/// Any kind (the encodings start at 1; unknown values fall back to `Message`).
fn kind(n: u8) -> Kind {
    Kind::from_u8(n % 8 + 1).unwrap_or(Kind::Message)
}

fn chain(notes: bool) -> Chain {
    if notes {
        Chain::Notes
    } else {
        Chain::Conversation
    }
}

fn keyring_key() -> KeyringKey {
    MasterKey::derive(b"pw", &[9; 16], Argon2Params::TEST_ONLY_CHEAP)
        .unwrap()
        .keyring_key()
}

fn flip(bytes: &[u8], bit: usize) -> Vec<u8> {
    let mut out = bytes.to_vec();
    out[bit / 8] ^= 1 << (bit % 8);
    out
}

/// A bit index that lands in the first `focus` bytes half the time.
fn bit_in(len: usize, focus: usize) -> impl Strategy<Value = usize> {
    prop_oneof![0..focus * 8, 0..len * 8]
}

/// Encrypts `data` fed in pieces of the given sizes (cycled).
fn encrypt(key: &FileKey, nonce: [u8; STREAM_NONCE_LEN], data: &[u8], pieces: &[usize]) -> Vec<u8> {
    let mut enc = StreamEncryptor::with_nonce(key, nonce);
    let mut out = Vec::new();
    let mut rest = data;
    for &p in pieces.iter().cycle() {
        if rest.is_empty() {
            break;
        }
        let (head, tail) = rest.split_at(p.min(rest.len()));
        enc.update(head, &mut out).unwrap();
        rest = tail;
    }
    enc.finish(&mut out).unwrap();
    out
}

fn decrypt(
    key: &FileKey,
    nonce: &[u8; STREAM_NONCE_LEN],
    stream: &[u8],
    pieces: &[usize],
) -> Result<Vec<u8>, Error> {
    let mut dec = StreamDecryptor::new(key, nonce);
    let mut out = Vec::new();
    let mut rest = stream;
    for &p in pieces.iter().cycle() {
        if rest.is_empty() {
            break;
        }
        let (head, tail) = rest.split_at(p.min(rest.len()));
        dec.update(head, &mut out)?;
        rest = tail;
    }
    dec.finish(&mut out)?;
    Ok(out)
}

// ---------------------------------------------------------------------------------------------
// Round trips
// ---------------------------------------------------------------------------------------------

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn message_round_trip() {
    let sender = identity(1);
    let header = (
        any::<[u8; 16]>(),
        any::<bool>(),
        any::<u64>(),
        any::<[u8; 32]>(),
        any::<u32>(),
        any::<u64>(),
        any::<u8>(),
        any::<[u8; 32]>(),
    );
    let strategy = (header, vec(any::<u8>(), 0..4096), any::<[u8; 32]>());
    runner(64)
        .run(
            &strategy,
            |((ticket, notes, seq, prev_hash, epoch, dir_seq, k, salt), content, key)| {
                let placement = Placement {
                    ticket_id: TicketId(ticket),
                    chain: chain(notes),
                    seq,
                    prev_hash,
                    epoch,
                    dir_seq,
                    kind: kind(k),
                };
                let key = TicketKey::from_bytes(key);
                let m = Message::seal_with_salt(&sender, placement, &key, &content, salt).unwrap();
                let encoded = m.to_bytes();
                prop_assert_eq!(encoded.len(), HEADER_LEN + 4 + m.ciphertext.len() + 64);
                let decoded = Message::from_bytes(&encoded).unwrap();
                prop_assert_eq!(&decoded, &m);
                prop_assert_eq!(decoded.hash(), m.hash());
                prop_assert_eq!(decoded.header.sender, sender.key_id());
                prop_assert_eq!(decoded.header.salt, salt);
                prop_assert!(decoded.verify_signature(sender.public()).is_ok());
                prop_assert_eq!(&decoded.open(&key).unwrap()[..], &content[..]);
                Ok(())
            },
        )
        .unwrap();
}

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn wrapped_key_round_trip() {
    let strategy = (
        any::<[u8; 16]>(),
        any::<bool>(),
        any::<u32>(),
        any::<u64>(),
        any::<[u8; 32]>(),
        any::<[u8; 32]>(),
        any::<(u8, u8)>(),
    );
    runner(64)
        .run(
            &strategy,
            |(ticket, notes, epoch, dir_seq, key, ikm, (w, r))| {
                let wrapper = identity(w);
                let recipient = identity(r);
                let context = WrapContext {
                    ticket_id: TicketId(ticket),
                    chain: chain(notes),
                    epoch,
                    dir_seq,
                    recipient: recipient.key_id(),
                    wrapper: wrapper.key_id(),
                };
                let key = TicketKey::from_bytes(key);
                let wrapped =
                    WrappedKey::seal_with_ikm(&wrapper, recipient.public(), context, &key, &ikm)
                        .unwrap();
                let encoded = wrapped.to_bytes();
                prop_assert_eq!(encoded.len(), WRAP_LEN);
                let decoded = WrappedKey::from_bytes(&encoded).unwrap();
                prop_assert_eq!(&decoded, &wrapped);
                prop_assert_eq!(decoded.context, context);
                prop_assert!(decoded.open(&recipient).unwrap() == key);
                // The context must name the identities used.
                let mut lying = context;
                lying.wrapper = KeyId([0; 32]);
                prop_assert_eq!(
                    WrappedKey::seal_with_ikm(&wrapper, recipient.public(), lying, &key, &ikm),
                    Err(Error::Malformed("wrap context"))
                );
                Ok(())
            },
        )
        .unwrap();
}

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn directory_entry_round_trip() {
    let strategy = (
        any::<u64>(),
        any::<[u8; 32]>(),
        0u8..3,
        any::<[u8; 32]>(),
        any::<[u8; 32]>(),
        any::<[u8; 32]>(),
    );
    runner(64)
        .run(
            &strategy,
            |(seq, prev_hash, op, subject, signer, sig_half)| {
                // Any field values (the signature is not checked by decoding)...
                let mut signature = [0u8; 64];
                signature[..32].copy_from_slice(&sig_half);
                signature[32..].copy_from_slice(&prev_hash);
                let entry = DirectoryEntry {
                    seq,
                    prev_hash,
                    op: [Operation::Genesis, Operation::Add, Operation::Remove][op as usize],
                    subject: identity_from(subject).public().clone(),
                    signer: KeyId(signer),
                    signature,
                };
                let encoded = entry.to_bytes();
                prop_assert_eq!(encoded.len(), ENTRY_LEN);
                let decoded = DirectoryEntry::from_bytes(&encoded).unwrap();
                prop_assert_eq!(&decoded, &entry);
                prop_assert_eq!(decoded.hash(), entry.hash());
                // ...and a genuinely signed genesis.
                let genesis = DirectoryEntry::genesis(&identity_from(subject));
                prop_assert_eq!(
                    &DirectoryEntry::from_bytes(&genesis.to_bytes()).unwrap(),
                    &genesis
                );
                Ok(())
            },
        )
        .unwrap();
}

fn identity_from(seed: [u8; 32]) -> sealdesk_crypto::Identity {
    sealdesk_crypto::Identity::from_seed(&IdentitySeed::from_bytes(seed))
}

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn endorsement_round_trip() {
    let strategy = (any::<[u8; 16]>(), any::<[u8; 32]>());
    runner(64)
        .run(&strategy, |(ticket, reporter)| {
            let e = EndorseContent::by_administrator(
                TicketId(ticket),
                identity_from(reporter).public().clone(),
            );
            let encoded = e.to_bytes();
            prop_assert_eq!(encoded.len(), ENDORSE_CONTENT_LEN);
            prop_assert_eq!(&EndorseContent::from_bytes(&encoded).unwrap(), &e);
            Ok(())
        })
        .unwrap();
}

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn keyring_round_trip() {
    let kk = keyring_key();
    let strategy = (
        any::<[u8; 32]>(),
        vec(any::<u8>(), 0..2048),
        any::<[u8; 32]>(),
    );
    runner(64)
        .run(&strategy, |(seed, app_data, salt)| {
            let keyring = Keyring {
                identity_seed: IdentitySeed::from_bytes(seed),
                app_data: Zeroizing::new(app_data.clone()),
            };
            let sealed = kk.seal_with_salt(&keyring, salt).unwrap();
            let opened = kk.open(&sealed).unwrap();
            prop_assert_eq!(opened.identity_seed.as_bytes(), &seed);
            prop_assert_eq!(&opened.app_data[..], &app_data[..]);
            Ok(())
        })
        .unwrap();
}

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn attachment_round_trip() {
    // The data is derived from a generated seed: generating up to 200 000 bytes one proptest
    // value at a time would dominate the run time.
    // Lengths anywhere up to 200 000, and a third of them within 3 bytes of a chunk boundary.
    let len = prop_oneof![
        2 => 0usize..200_000,
        1 => (0usize..4, 0usize..7).prop_map(|(k, d)| (k * sealdesk_crypto::CHUNK_LEN + d).saturating_sub(3)),
    ];
    let strategy = (
        len,
        any::<u64>(),
        vec(1usize..70_000, 1..6),
        vec(1usize..70_000, 1..6),
        any::<[u8; 32]>(),
        any::<[u8; 16]>(),
    );
    runner(32)
        .run(
            &strategy,
            |(len, seed, enc_pieces, dec_pieces, key, nonce)| {
                let data = bytes(seed, len);
                let key = FileKey::from_bytes(key);
                let stream = encrypt(&key, nonce, &data, &enc_pieces);
                prop_assert_eq!(
                    Some((stream.len() + STREAM_NONCE_LEN) as u64),
                    encrypted_len(len as u64)
                );
                // The split does not change the stream.
                prop_assert_eq!(&stream, &encrypt(&key, nonce, &data, &[len.max(1)]));
                prop_assert_eq!(decrypt(&key, &nonce, &stream, &dec_pieces).unwrap(), data);
                Ok(())
            },
        )
        .unwrap();
}

// ---------------------------------------------------------------------------------------------
// Single-bit flips are always rejected
// ---------------------------------------------------------------------------------------------

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn message_bit_flip_rejected() {
    let desk = Desk::new();
    let key = TicketKey::from_bytes([4; 32]);
    let m = Message::seal(
        &desk.reporter,
        next(&conversation(&desk), 0, 2, Kind::Message),
        &key,
        b"flip me",
        &mut TestRng::new(1),
    )
    .unwrap();
    let encoded = m.to_bytes();
    runner(128)
        .run(&bit_in(encoded.len(), HEADER_LEN + 4), |bit| {
            let altered = flip(&encoded, bit);
            let outcome = Message::from_bytes(&altered).and_then(|d| {
                d.verify_signature(desk.reporter.public())?;
                d.open(&key)
            });
            prop_assert!(outcome.is_err(), "bit {} accepted", bit);
            // The transcript check rejects it as well.
            let transcript = ChainState::verify_encoded(
                desk.ticket,
                Chain::Conversation,
                &[altered],
                &desk.members,
                &desk.directory,
            );
            prop_assert!(
                matches!(transcript, Err(Error::Transcript { index: 0, .. })),
                "bit {}: {:?}",
                bit,
                transcript
            );
            Ok(())
        })
        .unwrap();
}

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn wrapped_key_bit_flip_rejected() {
    let desk = Desk::new();
    let key = TicketKey::from_bytes([4; 32]);
    let admin = &desk.admins[1];
    let w = WrappedKey::seal(
        &desk.reporter,
        admin.public(),
        WrapSlot {
            ticket_id: desk.ticket,
            chain: Chain::Conversation,
            epoch: 0,
            dir_seq: 2,
        },
        &key,
        &mut TestRng::new(2),
    )
    .unwrap();
    // The chain as verified by the recipient: the reporter's first message opens epoch 0.
    let first = Message::seal(
        &desk.reporter,
        next(&conversation(&desk), 0, 2, Kind::Message),
        &key,
        b"first",
        &mut TestRng::new(3),
    )
    .unwrap();
    let state = ChainState::verify_encoded(
        desk.ticket,
        Chain::Conversation,
        &[first.to_bytes()],
        &desk.members,
        &desk.directory,
    )
    .unwrap();
    w.verify(&desk.members, &desk.directory, &state).unwrap();
    let encoded = w.to_bytes();
    runner(128)
        .run(&(0..encoded.len() * 8), |bit| {
            let outcome = WrappedKey::from_bytes(&flip(&encoded, bit)).and_then(|d| {
                d.verify(&desk.members, &desk.directory, &state)?;
                d.open(admin)
            });
            prop_assert!(outcome.is_err(), "bit {} accepted", bit);
            Ok(())
        })
        .unwrap();
}

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn directory_entry_bit_flip_rejected() {
    let desk = Desk::new();
    let log: Vec<Vec<u8>> = desk
        .directory
        .entries()
        .iter()
        .map(DirectoryEntry::to_bytes)
        .collect();
    runner(128)
        .run(&(0..log.len(), 0..ENTRY_LEN * 8), |(entry, bit)| {
            let mut altered = log.clone();
            altered[entry] = flip(&log[entry], bit);
            let outcome = sealdesk_crypto::Directory::verify_encoded(&altered);
            prop_assert!(
                matches!(outcome, Err(Error::Directory { index, .. }) if index <= entry as u64 + 1),
                "entry {} bit {}: {:?}",
                entry,
                bit,
                outcome.map(|d| d.head())
            );
            Ok(())
        })
        .unwrap();
}

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn endorsement_bit_flip_rejected() {
    // A flipped bit in the signed endorse message: refused, and no key added.
    let desk = Desk::new();
    let mut rng = TestRng::new(5);
    let k = common::key(1);
    let mut state = ChainState::new(desk.ticket, Chain::Conversation);
    let first = Message::seal(
        &desk.reporter,
        next(&state, 0, 2, Kind::Message),
        &k,
        b"hi",
        &mut rng,
    )
    .unwrap();
    state.push(&first, &desk.members, &desk.directory).unwrap();
    let content = EndorseContent::by_administrator(desk.ticket, identity(0x77).public().clone());
    let encoded = Message::seal(
        &desk.admins[0],
        next(&state, 0, 2, Kind::Endorse),
        &k,
        &content.to_bytes(),
        &mut rng,
    )
    .unwrap()
    .to_bytes();
    runner(128)
        .run(&(0..encoded.len() * 8), |bit| {
            let mut s = state.clone();
            let outcome = s.extend_encoded(&[flip(&encoded, bit)], &desk.members, &desk.directory);
            prop_assert!(outcome.is_err(), "bit {} accepted", bit);
            prop_assert_eq!(s.reporters().len(), 1);
            Ok(())
        })
        .unwrap();
}

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn sealed_keyring_bit_flip_rejected() {
    let kk = keyring_key();
    let keyring = Keyring {
        identity_seed: IdentitySeed::from_bytes([5; 32]),
        app_data: Zeroizing::new(b"saved links".to_vec()),
    };
    let sealed = kk.seal(&keyring, &mut TestRng::new(3)).unwrap();
    runner(128)
        .run(&(0..sealed.len() * 8), |bit| {
            prop_assert!(
                kk.open(&flip(&sealed, bit)).is_err(),
                "bit {} accepted",
                bit
            );
            Ok(())
        })
        .unwrap();
}

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn attachment_bit_flip_rejected() {
    let key = FileKey::from_bytes([6; 32]);
    let nonce = [7u8; STREAM_NONCE_LEN];
    let data = bytes(4, sealdesk_crypto::CHUNK_LEN + 1000);
    let mut full = nonce.to_vec();
    full.extend_from_slice(&encrypt(&key, nonce, &data, &[data.len()]));
    // Half the flips land in the nonce, the tags and the short last chunk.
    let tail = full.len() - sealdesk_crypto::ENCRYPTED_CHUNK_LEN - STREAM_NONCE_LEN;
    let strategy = prop_oneof![
        0..STREAM_NONCE_LEN * 8,
        (full.len() - tail) * 8..full.len() * 8,
        0..full.len() * 8,
    ];
    runner(64)
        .run(&strategy, |bit| {
            let altered = flip(&full, bit);
            let nonce: [u8; STREAM_NONCE_LEN] = altered[..STREAM_NONCE_LEN].try_into().unwrap();
            let outcome = decrypt(&key, &nonce, &altered[STREAM_NONCE_LEN..], &[8192]);
            prop_assert_eq!(
                outcome.map(|d| d.len()),
                Err(Error::DecryptionFailed),
                "bit {}",
                bit
            );
            Ok(())
        })
        .unwrap();
}

// ---------------------------------------------------------------------------------------------
// Transcript mutations
// ---------------------------------------------------------------------------------------------

/// Builds a valid conversation from `steps` (sender choice, kind choice, directory bump):
/// directory positions rise from 0 to 2 (A; A, B; A, B, C); C is removed at 3, and from message
/// `rotate_at` on (if within the transcript) messages are at position 3 in epoch 1.
fn build_transcript(
    desk: &Desk,
    members: &Members,
    ticket: TicketId,
    reporter: &sealdesk_crypto::Identity,
    steps: &[(u8, u8, bool)],
    rotate_at: usize,
    rng: &mut TestRng,
) -> Vec<Vec<u8>> {
    let mut state = ChainState::new(ticket, Chain::Conversation);
    let mut dir_seq = 0u64;
    let keys = [
        TicketKey::from_bytes([1; 32]),
        TicketKey::from_bytes([2; 32]),
    ];
    let mut out = Vec::new();
    for (i, &(who, what, bump)) in steps.iter().enumerate() {
        let epoch = u32::from(i >= rotate_at);
        if epoch == 1 {
            dir_seq = 3;
        } else if bump && i > 0 {
            dir_seq = (dir_seq + 1).min(2);
        }
        // The reporter opens the conversation.
        let sender = match who as usize % 4 {
            _ if i == 0 => reporter,
            0 => reporter,
            n if desk
                .directory
                .admin_at(dir_seq, &desk.admins[n - 1].key_id())
                .is_some() =>
            {
                &desk.admins[n - 1]
            }
            _ => reporter,
        };
        let kind = [
            Kind::Message,
            Kind::DebugData,
            Kind::AttachmentRef,
            Kind::Close,
            Kind::Reopen,
        ][what as usize % 5];
        let m = Message::seal(
            sender,
            next(&state, epoch, dir_seq, kind),
            &keys[epoch as usize],
            &[what; 3],
            rng,
        )
        .unwrap();
        state.push(&m, members, &desk.directory).unwrap();
        out.push(m.to_bytes());
    }
    out
}

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn transcript_mutations_rejected_at_first_altered_position() {
    let mut desk = Desk::new();
    desk.remove_admin(2);
    let other_secret = TicketSecret::from_bytes([0x6f; 32]);
    let other_reporter = other_secret.identity();
    let other_ticket = other_secret.ticket_id();
    let other_members = Members::new(other_ticket, other_reporter.public().clone());

    let strategy = (
        vec((any::<u8>(), any::<u8>(), any::<bool>()), 3..=8),
        0usize..12,
        any::<u64>(),
    );
    runner(16)
        .run(&strategy, |(steps, rotate_at, seed)| {
            let rotate_at = rotate_at.max(1);
            let mut rng = TestRng::new(seed);
            let log = build_transcript(
                &desk,
                &desk.members,
                desk.ticket,
                &desk.reporter,
                &steps,
                rotate_at,
                &mut rng,
            );
            let foreign = build_transcript(
                &desk,
                &other_members,
                other_ticket,
                &other_reporter,
                &steps,
                rotate_at,
                &mut rng,
            );
            let verify = |messages: &[Vec<u8>]| {
                ChainState::verify_encoded(
                    desk.ticket,
                    Chain::Conversation,
                    messages,
                    &desk.members,
                    &desk.directory,
                )
            };
            let full = verify(&log).unwrap();
            prop_assert_eq!(full.epoch(), Some(u32::from(rotate_at < log.len())));
            let n = log.len();
            let index_of = |r: Result<ChainState, Error>| match r {
                Err(Error::Transcript { index, .. }) => Some(index),
                _ => None,
            };
            for i in 0..n {
                // Drop.
                let mut dropped = log.clone();
                dropped.remove(i);
                if i + 1 < n {
                    prop_assert_eq!(index_of(verify(&dropped)), Some(i), "drop {}", i);
                } else {
                    // Dropping the newest message leaves a valid prefix; the kept state catches it.
                    let state = verify(&dropped).unwrap();
                    prop_assert!(state.check_extends(&full).is_err());
                }
                // Duplicate: the copy at i + 1 is the first altered position.
                let mut duplicated = log.clone();
                duplicated.insert(i + 1, log[i].clone());
                prop_assert_eq!(
                    index_of(verify(&duplicated)),
                    Some(i + 1),
                    "duplicate {}",
                    i
                );
                // Adjacent swap.
                if i + 1 < n {
                    let mut swapped = log.clone();
                    swapped.swap(i, i + 1);
                    prop_assert_eq!(index_of(verify(&swapped)), Some(i), "swap {}", i);
                }
                // Another ticket's message at the same position.
                let mut replaced = log.clone();
                replaced[i] = foreign[i].clone();
                prop_assert_eq!(
                    verify(&replaced).unwrap_err(),
                    Error::Transcript {
                        index: i,
                        seq: i as u64 + 1,
                        fault: sealdesk_crypto::Fault::WrongTicket
                    }
                );
            }
            Ok(())
        })
        .unwrap();
}

// ---------------------------------------------------------------------------------------------
// Decoding never panics
// ---------------------------------------------------------------------------------------------

/// Arbitrary bytes, with the exact lengths of each structure over-represented.
fn arbitrary_bytes() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        vec(any::<u8>(), 0..600),
        vec(any::<u8>(), PUBLIC_IDENTITY_LEN),
        vec(any::<u8>(), ENTRY_LEN),
        vec(any::<u8>(), ENDORSE_CONTENT_LEN),
        vec(any::<u8>(), WRAP_LEN),
        vec(any::<u8>(), HEADER_LEN + 4 + 272 + 64),
    ]
}

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn decoders_never_panic() {
    let kk = keyring_key();
    let file_key = FileKey::from_bytes([8; 32]);
    runner(256)
        .run(&arbitrary_bytes(), |data| {
            let _ = Message::from_bytes(&data);
            let _ = WrappedKey::from_bytes(&data);
            let _ = DirectoryEntry::from_bytes(&data);
            let _ = EndorseContent::from_bytes(&data);
            let _ = ChainState::from_bytes(&data);
            let _ = PublicIdentity::from_bytes(&data);
            let _ = kk.open(&data);
            let _ = sealdesk_crypto::Directory::verify_encoded(&[&data]);
            // Structured prefixes: a valid version byte in front.
            let mut versioned = data.clone();
            if let Some(first) = versioned.first_mut() {
                *first = 1;
            }
            let _ = Message::from_bytes(&versioned);
            let _ = WrappedKey::from_bytes(&versioned);
            let _ = DirectoryEntry::from_bytes(&versioned);
            let _ = EndorseContent::from_bytes(&versioned);
            let _ = ChainState::from_bytes(&versioned);
            let _ = kk.open(&versioned);
            // A stream: the first 16 bytes (zero-padded) as nonce, the rest in two pieces.
            let mut nonce = [0u8; STREAM_NONCE_LEN];
            let n = data.len().min(STREAM_NONCE_LEN);
            nonce[..n].copy_from_slice(&data[..n]);
            let rest = &data[n..];
            let mut dec = StreamDecryptor::new(&file_key, &nonce);
            let mut out = Vec::new();
            let (a, b) = rest.split_at(rest.len() / 3);
            let result = dec
                .update(a, &mut out)
                .and_then(|()| dec.update(b, &mut out))
                .and_then(|()| dec.finish(&mut out));
            prop_assert!(result.is_err());
            // Text decoders on the bytes read as (lossy) UTF-8.
            let text = String::from_utf8_lossy(&data);
            let _ = TicketSecret::from_fragment(&text);
            let _ = TicketId::from_hex(&text);
            Ok(())
        })
        .unwrap();
}

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn text_decoders_accept_only_canonical_forms() {
    let strategy = prop_oneof![
        "\\PC{0,60}",
        "[A-Za-z0-9_-]{43}",
        "[A-Za-z0-9_+/=-]{42,44}",
        "[0-9a-fA-F]{32}",
        "[0-9a-gA-G]{31,33}",
    ];
    runner(256)
        .run(&strategy, |text| {
            if let Ok(secret) = TicketSecret::from_fragment(&text) {
                prop_assert_eq!(secret.to_fragment(), text.clone());
            }
            if let Ok(id) = TicketId::from_hex(&text) {
                prop_assert_eq!(id.to_hex(), text.to_lowercase());
            }
            if let Ok(token) = sealdesk_crypto::AccessToken::from_base64url(&text) {
                prop_assert_eq!(token.to_base64url(), text.clone());
            }
            Ok(())
        })
        .unwrap();
}
