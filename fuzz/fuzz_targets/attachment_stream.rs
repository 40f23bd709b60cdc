//! Attachment streams (spec/PROTOCOL.md §13): the chunks a downloader receives from the server.
//!
//! Two checks per input. (1) The input as a hostile stream (its first 16 bytes the stream
//! nonce), fed to the decryptor in pieces of an input-chosen size: no panic, and without the
//! key nothing can authenticate, so the result is an error. (2) A real stream of an
//! input-chosen length (up to three chunks and a bit, to cross chunk
//! boundaries), encrypted
//! and decrypted in input-chosen pieces, with one input-chosen tampering (none, a flipped bit,
//! a cut, extra bytes): untouched it decrypts to the plaintext, tampered it is an error.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sealdesk_crypto::{CHUNK_LEN, FileKey, STREAM_NONCE_LEN, StreamDecryptor, StreamEncryptor};

/// Reads input bytes as parameters, with zeros once it runs out.
struct Params<'a>(&'a [u8]);

impl Params<'_> {
    fn u32(&mut self) -> u32 {
        let mut out = [0u8; 4];
        let n = self.0.len().min(4);
        out[..n].copy_from_slice(&self.0[..n]);
        self.0 = &self.0[n..];
        u32::from_be_bytes(out)
    }
}

/// Feeds `stream` to a decryptor in pieces of `piece` bytes.
fn decrypt(key: &FileKey, stream: &[u8], piece: usize) -> Option<Vec<u8>> {
    let nonce: [u8; STREAM_NONCE_LEN] = stream.get(..STREAM_NONCE_LEN)?.try_into().ok()?;
    let mut decryptor = StreamDecryptor::new(key, &nonce);
    let mut out = Vec::new();
    for part in stream[STREAM_NONCE_LEN..].chunks(piece) {
        decryptor.update(part, &mut out).ok()?;
    }
    decryptor.finish(&mut out).ok()?;
    Some(out)
}

/// A piece size from 1 byte to two chunks, but at least a 32nd of `total`: byte-by-byte feeding
/// of a large stream measures the loop, not the decoder.
fn piece(choice: u32, total: usize) -> usize {
    (choice as usize % (2 * CHUNK_LEN) + 1).max(total / 32)
}

fuzz_target!(|data: &[u8]| {
    let key = FileKey::from_bytes([7; 32]);
    let mut params = Params(data);
    let hostile_piece = piece(params.u32(), data.len());
    assert!(
        decrypt(&key, data, hostile_piece).is_none(),
        "a stream forged without the key decrypts"
    );

    // One input in 64 crosses chunk boundaries (three chunks and a bit); the rest stay within
    // a chunk, so that a run tries many tamperings per second (the ciphers are instrumented
    // too: a large stream takes milliseconds).
    let size = params.u32() as usize;
    let plain_len = if size % 64 == 0 {
        size / 64 % (3 * CHUNK_LEN + 100)
    } else {
        size / 64 % 512
    };
    let encrypt_piece = piece(params.u32(), plain_len);
    let decrypt_piece = piece(params.u32(), plain_len + 2 * STREAM_NONCE_LEN);
    let tamper = params.u32();
    let position = params.u32() as usize;
    let pattern = if params.0.is_empty() {
        &[0u8][..]
    } else {
        params.0
    };
    let mut plain = pattern.repeat(plain_len / pattern.len() + 1);
    plain.truncate(plain_len);

    let nonce = [9u8; STREAM_NONCE_LEN];
    let mut stream = nonce.to_vec();
    let mut encryptor = StreamEncryptor::with_nonce(&key, nonce);
    for part in plain.chunks(encrypt_piece) {
        encryptor.update(part, &mut stream).expect("encrypts");
    }
    encryptor.finish(&mut stream).expect("finishes");

    let body = stream.len() - STREAM_NONCE_LEN;
    let tampered = match tamper % 4 {
        0 => false,
        1 => {
            let at = STREAM_NONCE_LEN + position % body;
            stream[at] ^= 1 << (tamper >> 8 & 7);
            true
        }
        2 => {
            stream.truncate(STREAM_NONCE_LEN + position % body);
            true
        }
        _ => {
            stream.extend_from_slice(&[(tamper >> 8) as u8; 1 + 16].repeat(1 + position % 4));
            true
        }
    };
    match decrypt(&key, &stream, decrypt_piece) {
        Some(out) => {
            assert!(!tampered, "a tampered stream decrypts");
            assert_eq!(out, plain, "a stream decrypts to its plaintext");
        }
        None => assert!(tampered, "an untouched stream fails to decrypt"),
    }
});
