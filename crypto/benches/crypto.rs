//! Benchmarks of the protocol's hot paths next to the raw primitives they are built from, so
//! that the protocol's overhead shows as a ratio within one run (see `BENCHMARKS.md`).
//!
//! Groups:
//! - `message`: seal+sign and verify+open of a 1 KiB message (padded to the 2048-byte bucket),
//!   and seal+sign of a 64 KiB one (the native side of the browser benchmark,
//!   tests/browser/crypto.bench.mjs, which does the same work with the same inputs).
//! - `wrap`: wrapping one ticket key for 1, 10 and 50 members.
//! - `attachment`: the streaming encryptor and decryptor over 16 MiB.
//! - `argon2id`: `MasterKey::derive` with the default parameters (64 MiB, t=3, p=1).
//! - `raw`: one HPKE seal, one Ed25519 sign (and verify) over the bytes a 1 KiB message signs,
//!   and one ChaCha20-Poly1305 pass over 2048 bytes and over 16 MiB.
//!
//! Every input is fixed (seeds, salts, nonces), so only computation is timed.

// Test and tool code: a failed expectation stops the run, so it may unwrap, expect and
// panic (the workspace denies these in library code: Cargo.toml, clippy.toml).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::hint::black_box;

use chacha20poly1305::aead::{AeadInOut, KeyInit};
use chacha20poly1305::{ChaCha20Poly1305, Key, Nonce};
use criterion::{
    BenchmarkId, Criterion, SamplingMode, Throughput, criterion_group, criterion_main,
};
use ed25519_dalek::{Signer, SigningKey};
use sealdesk_crypto::{
    Argon2Params, CHUNK_LEN, Chain, FileKey, HEADER_LEN, Identity, IdentitySeed, Kind, MasterKey,
    Message, Placement, StreamDecryptor, StreamEncryptor, TAG_LEN, TicketId, TicketKey,
    WrapContext, WrappedKey, encrypted_len, hpke_suite, labels, padded_len,
};

/// Content size of the message benchmarks.
const MESSAGE_CONTENT_LEN: usize = 1024;
/// Size of the attachment benchmarks.
const ATTACHMENT_LEN: usize = 16 * 1024 * 1024;

/// The padded plaintext of a 1 KiB message: the 2048-byte bucket (1024 + 4-byte prefix → 2048).
fn message_padded_len() -> usize {
    let padded = padded_len(MESSAGE_CONTENT_LEN).unwrap();
    assert_eq!(padded, 2048);
    padded
}

/// What `Message` signs for 1 KiB of content:
/// `u8 len || "sealdesk/v1/message-sig" || header || u32 len(ct) || ct` = 2227 bytes.
fn message_signed_len() -> usize {
    1 + labels::MESSAGE_SIG.len() + HEADER_LEN + 4 + message_padded_len() + TAG_LEN
}

fn identity(seed_byte: u8) -> Identity {
    Identity::from_seed(&IdentitySeed::from_bytes([seed_byte; 32]))
}

/// Deterministic filler, so buffers are not all zeros.
fn pattern(len: usize) -> Vec<u8> {
    (0..len)
        .map(|i| (i as u32).wrapping_mul(2_654_435_761).to_be_bytes()[0])
        .collect()
}

fn placement() -> Placement {
    Placement {
        ticket_id: TicketId([0x11; 16]),
        chain: Chain::Conversation,
        seq: 1,
        prev_hash: [0u8; 32],
        epoch: 0,
        dir_seq: 1,
        kind: Kind::Message,
    }
}

fn bench_message(c: &mut Criterion) {
    let sender = identity(1);
    let key = TicketKey::from_bytes([0x22; 32]);
    let content = pattern(MESSAGE_CONTENT_LEN);
    let salt = [0x33; 32];
    let sealed = Message::seal_with_salt(&sender, placement(), &key, &content, salt).unwrap();
    assert_eq!(sealed.ciphertext.len(), message_padded_len() + TAG_LEN);

    let mut group = c.benchmark_group("message");
    group.throughput(Throughput::Elements(1));
    group.bench_function("seal_sign_1KiB", |b| {
        b.iter(|| {
            Message::seal_with_salt(
                black_box(&sender),
                black_box(placement()),
                black_box(&key),
                black_box(&content),
                black_box(salt),
            )
            .unwrap()
        })
    });
    let large = pattern(64 * 1024);
    group.bench_function("seal_sign_64KiB", |b| {
        b.iter(|| {
            Message::seal_with_salt(
                black_box(&sender),
                black_box(placement()),
                black_box(&key),
                black_box(&large),
                black_box(salt),
            )
            .unwrap()
        })
    });
    let public = sender.public().clone();
    group.bench_function("verify_open_1KiB", |b| {
        b.iter(|| {
            let message = black_box(&sealed);
            message.verify_signature(black_box(&public)).unwrap();
            message.open(black_box(&key)).unwrap()
        })
    });
    group.finish();
}

fn bench_wrap(c: &mut Criterion) {
    let wrapper = identity(1);
    let key = TicketKey::from_bytes([0x22; 32]);
    let ticket_id = TicketId([0x11; 16]);
    // Distinct members from fixed seeds, each with its own fixed HPKE ikmE.
    let members: Vec<(Identity, [u8; 32])> = (0..50u8)
        .map(|i| (identity(100 + i), [i.wrapping_add(0x40); 32]))
        .collect();

    let mut group = c.benchmark_group("wrap");
    for n in [1usize, 10, 50] {
        group.throughput(Throughput::Elements(n as u64));
        group.bench_with_input(BenchmarkId::new("seal_members", n), &n, |b, &n| {
            b.iter(|| {
                members[..n]
                    .iter()
                    .map(|(member, ikm_e)| {
                        let recipient = member.public();
                        let context = WrapContext {
                            ticket_id,
                            chain: Chain::Conversation,
                            epoch: 0,
                            dir_seq: 1,
                            recipient: recipient.key_id(),
                            wrapper: wrapper.key_id(),
                        };
                        WrappedKey::seal_with_ikm(
                            black_box(&wrapper),
                            black_box(recipient),
                            context,
                            black_box(&key),
                            black_box(ikm_e),
                        )
                        .unwrap()
                    })
                    .collect::<Vec<_>>()
            })
        });
    }
    group.finish();
}

fn bench_attachment(c: &mut Criterion) {
    let file_key = FileKey::from_bytes([0x55; 32]);
    let nonce = [0x66; 16];
    let plaintext = pattern(ATTACHMENT_LEN);
    let stream_len = encrypted_len(ATTACHMENT_LEN as u64).unwrap() as usize;

    // Output buffers are preallocated with exactly the stream's capacity and their pages touched
    // once (a non-zero fill, so no lazily mapped zero pages), outside the timed loop; every
    // iteration clears them (O(1)) and refills them, so no allocation or page fault is timed.
    let mut ciphertext = vec![0xa5u8; stream_len];
    ciphertext.clear();
    let mut decrypted = vec![0xa5u8; ATTACHMENT_LEN];
    decrypted.clear();

    // The stream after its 16-byte nonce, as the decryptor is fed it.
    let mut stream_body = Vec::new();
    let mut encryptor = StreamEncryptor::with_nonce(&file_key, nonce);
    encryptor.update(&plaintext, &mut stream_body).unwrap();
    encryptor.finish(&mut stream_body).unwrap();
    assert_eq!(stream_body.len() + nonce.len(), stream_len);

    let mut group = c.benchmark_group("attachment");
    group.throughput(Throughput::Bytes(ATTACHMENT_LEN as u64));
    group.bench_function("encrypt_stream_16MiB", |b| {
        b.iter(|| {
            ciphertext.clear();
            let mut encryptor = StreamEncryptor::with_nonce(black_box(&file_key), nonce);
            encryptor
                .update(black_box(&plaintext), &mut ciphertext)
                .unwrap();
            encryptor.finish(&mut ciphertext).unwrap();
            black_box(ciphertext.len())
        })
    });
    group.bench_function("decrypt_stream_16MiB", |b| {
        b.iter(|| {
            decrypted.clear();
            let mut decryptor = StreamDecryptor::new(black_box(&file_key), &nonce);
            decryptor
                .update(black_box(&stream_body), &mut decrypted)
                .unwrap();
            decryptor.finish(&mut decrypted).unwrap();
            black_box(decrypted.len())
        })
    });
    // Diagnostic, not a target: the zero-copy API (`seal_chunk_in_place`) over the same 16 MiB,
    // i.e. the chunking cost (one HKDF per stream, one cipher setup and tag per 64 KiB chunk)
    // without the copies `update` makes. The buffer is re-encrypted every iteration.
    let mut in_place = plaintext.clone();
    let mut tags = Vec::with_capacity(ATTACHMENT_LEN / CHUNK_LEN);
    group.bench_function("encrypt_chunks_in_place_16MiB", |b| {
        b.iter(|| {
            tags.clear();
            let mut encryptor = StreamEncryptor::with_nonce(black_box(&file_key), nonce);
            let chunks = in_place.len().div_ceil(CHUNK_LEN);
            for (i, chunk) in in_place.chunks_mut(CHUNK_LEN).enumerate() {
                tags.push(
                    encryptor
                        .seal_chunk_in_place(chunk, i + 1 == chunks)
                        .unwrap(),
                );
            }
            black_box(tags.len())
        })
    });
    group.finish();
}

fn bench_argon2id(c: &mut Criterion) {
    let salt = [0x77; 16];
    let mut group = c.benchmark_group("argon2id");
    // About a quarter of a second per derivation: 10 samples of one derivation each.
    group.sample_size(10);
    group.sampling_mode(SamplingMode::Flat);
    group.bench_function("derive_default_64MiB_t3_p1", |b| {
        b.iter(|| {
            MasterKey::derive(
                black_box(b"correct horse battery staple"),
                black_box(&salt),
                Argon2Params::DEFAULT,
            )
            .unwrap()
        })
    });
    group.finish();
}

fn bench_raw(c: &mut Criterion) {
    let mut group = c.benchmark_group("raw");

    // One HPKE seal of a 32-byte key, through the protocol's own HPKE code path, with an `info`
    // as long as a wrap's (1 + 16 + 94 = 111 bytes).
    let recipient = identity(100);
    let pk_r: [u8; 32] = recipient.public().to_bytes()[32..].try_into().unwrap();
    let info = pattern(1 + labels::WRAP_INFO.len() + 94);
    let ticket_key = [0x22; 32];
    let ikm_e = [0x40; 32];
    group.throughput(Throughput::Elements(1));
    group.bench_function("hpke_seal_base_32B", |b| {
        b.iter(|| {
            hpke_suite::seal_base(
                black_box(&pk_r),
                black_box(&info),
                &[],
                black_box(&ticket_key),
                black_box(&ikm_e),
            )
            .unwrap()
        })
    });

    // One Ed25519 sign (and strict verify) over as many bytes as a 1 KiB message signs.
    let signed = pattern(message_signed_len());
    let signing_key = SigningKey::from_bytes(&[0x99; 32]);
    let verifying_key = signing_key.verifying_key();
    let signature = signing_key.sign(&signed);
    group.bench_function(format!("ed25519_sign_{}B", signed.len()), |b| {
        b.iter(|| black_box(&signing_key).sign(black_box(&signed)))
    });
    group.bench_function(format!("ed25519_verify_strict_{}B", signed.len()), |b| {
        b.iter(|| {
            black_box(&verifying_key)
                .verify_strict(black_box(&signed), black_box(&signature))
                .unwrap()
        })
    });

    // One ChaCha20-Poly1305 in-place pass (empty AAD, detached tag): the padded size of a 1 KiB
    // message, and the 16 MiB the attachment stream is compared with.
    let key = Key::from([0x88; 32]);
    let nonce = Nonce::from([0x44; 12]);
    for (name, len) in [
        ("chacha20poly1305_2048B", message_padded_len()),
        ("chacha20poly1305_16MiB", ATTACHMENT_LEN),
    ] {
        let mut buf = pattern(len);
        group.throughput(Throughput::Bytes(len as u64));
        group.bench_function(name, |b| {
            b.iter(|| {
                let cipher = ChaCha20Poly1305::new(black_box(&key));
                cipher
                    .encrypt_inout_detached(&nonce, &[], buf.as_mut_slice().into())
                    .unwrap()
            })
        });
    }
    group.finish();
}

criterion_group!(
    benches,
    bench_message,
    bench_wrap,
    bench_attachment,
    bench_argon2id,
    bench_raw
);
criterion_main!(benches);
