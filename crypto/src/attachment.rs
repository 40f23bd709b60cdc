//! Attachments as an encrypted stream: the age payload construction (age v1 spec, "Payload")
//! with Sealdesk's own key-derivation label (spec/PROTOCOL.md §13). Each file has its own
//! 32-byte key; the stream is a 16-byte nonce followed by chunks of 64 KiB of plaintext, each
//! sealed with ChaCha20-Poly1305 under the nonce `11-byte big-endian counter || last flag`.
//! Encryption and decryption hold at most one chunk, so files of any size stream.

use core::fmt;

use subtle::ConstantTimeEq;
use zeroize::{Zeroize, ZeroizeOnDrop};

use crate::error::{Error, Result};
use crate::labels;
use crate::primitives::{TAG_LEN, kdf_salted, open_detached, seal_detached};
use crate::rng::CryptoRng;

/// Plaintext bytes per chunk (64 KiB); only the last chunk may be shorter.
pub const CHUNK_LEN: usize = 64 * 1024;
/// Ciphertext bytes per full chunk: [`CHUNK_LEN`] plus the 16-byte tag.
pub const ENCRYPTED_CHUNK_LEN: usize = CHUNK_LEN + TAG_LEN;
/// Length of the stream nonce that starts every encrypted attachment.
pub const STREAM_NONCE_LEN: usize = 16;

/// Size in bytes of the encrypted stream of a `plain_len`-byte file: the nonce, the plaintext,
/// and a tag per chunk (at least one chunk, even for an empty file). `None` if that exceeds
/// `u64::MAX` (sizes come from other people's messages, so they are checked, never wrapped).
pub fn encrypted_len(plain_len: u64) -> Option<u64> {
    let chunks = plain_len.div_ceil(CHUNK_LEN as u64).max(1);
    (STREAM_NONCE_LEN as u64)
        .checked_add(plain_len)?
        .checked_add(chunks.checked_mul(TAG_LEN as u64)?)
}

/// A file's 32-byte key; it travels inside an encrypted attachment-reference message.
/// Zeroized on drop; `Debug` redacts it.
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct FileKey([u8; 32]);

impl PartialEq for FileKey {
    /// Constant-time comparison.
    fn eq(&self, other: &Self) -> bool {
        self.0.ct_eq(&other.0).into()
    }
}
impl Eq for FileKey {}

impl FileKey {
    /// Draws a fresh key (32 bytes from `rng`).
    pub fn generate(rng: &mut impl CryptoRng) -> Self {
        let mut key = [0u8; 32];
        rng.fill_bytes(&mut key);
        FileKey(key)
    }

    /// Wraps existing key bytes (from a decrypted reference or a test vector).
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        FileKey(bytes)
    }

    /// The key bytes.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }
}

impl fmt::Debug for FileKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("FileKey(<redacted>)")
    }
}

/// The payload key and chunk counter shared by both directions.
#[derive(Zeroize, ZeroizeOnDrop)]
struct ChunkCipher {
    key: [u8; 32],
    counter: u64,
}

impl ChunkCipher {
    /// `payload_key = HKDF-SHA256(salt = nonce, ikm = file_key, "sealdesk/v1/attachment-payload")`.
    fn new(file_key: &FileKey, stream_nonce: &[u8; STREAM_NONCE_LEN]) -> Self {
        let mut key = [0u8; 32];
        kdf_salted(
            stream_nonce,
            &file_key.0,
            labels::ATTACHMENT_PAYLOAD,
            &mut key,
        );
        ChunkCipher { key, counter: 0 }
    }

    /// `counter (11 bytes, big-endian) || last flag (0x01 last, 0x00 otherwise)`.
    fn nonce(&self, last: bool) -> [u8; 12] {
        let mut nonce = [0u8; 12];
        nonce[3..11].copy_from_slice(&self.counter.to_be_bytes());
        nonce[11] = u8::from(last);
        nonce
    }

    fn seal(&mut self, chunk: &mut [u8], last: bool) -> Result<[u8; TAG_LEN]> {
        let tag = seal_detached(&self.key, &self.nonce(last), &[], chunk);
        self.counter = self.counter.checked_add(1).ok_or(Error::TooLarge)?;
        Ok(tag)
    }

    /// Opens one chunk; the counter only advances on success.
    fn open(&mut self, chunk: &mut [u8], tag: &[u8], last: bool) -> Result<()> {
        open_detached(&self.key, &self.nonce(last), &[], chunk, tag)?;
        self.counter = self.counter.checked_add(1).ok_or(Error::TooLarge)?;
        Ok(())
    }
}

/// Encrypts a file as a stream. Feed it with [`StreamEncryptor::update`] and end with
/// [`StreamEncryptor::finish`]; it holds back at most one chunk, because a chunk is sealed as
/// the last one only once the end of the input is known.
pub struct StreamEncryptor {
    cipher: ChunkCipher,
    pending: Vec<u8>,
}

impl StreamEncryptor {
    /// Starts a stream with a nonce drawn from `rng` (16 bytes). Returns the encryptor and the
    /// stream's first 16 bytes (the nonce), which must be sent first.
    pub fn new(file_key: &FileKey, rng: &mut impl CryptoRng) -> (Self, [u8; STREAM_NONCE_LEN]) {
        let mut nonce = [0u8; STREAM_NONCE_LEN];
        rng.fill_bytes(&mut nonce);
        (Self::with_nonce(file_key, nonce), nonce)
    }

    /// Deterministic form of [`StreamEncryptor::new`] (for vectors).
    pub fn with_nonce(file_key: &FileKey, nonce: [u8; STREAM_NONCE_LEN]) -> Self {
        StreamEncryptor {
            cipher: ChunkCipher::new(file_key, &nonce),
            pending: Vec::new(),
        }
    }

    /// Adds plaintext and appends every chunk that is now known not to be the last to `out`.
    ///
    /// # Errors
    /// [`Error::TooLarge`] past 2^64 chunks (unreachable in practice).
    pub fn update(&mut self, mut data: &[u8], out: &mut Vec<u8>) -> Result<()> {
        while !data.is_empty() {
            if self.pending.len() == CHUNK_LEN {
                self.flush_chunk(false, out)?;
            }
            // With nothing held back and more than a whole chunk of input, the next chunk cannot
            // be the last: seal it straight into `out` instead of staging (and wiping) a copy.
            if self.pending.is_empty() && data.len() > CHUNK_LEN {
                let (chunk, rest) = data.split_at(CHUNK_LEN);
                let start = out.len();
                out.extend_from_slice(chunk);
                let tag = self.cipher.seal(&mut out[start..], false)?;
                out.extend_from_slice(&tag);
                data = rest;
                continue;
            }
            let take = (CHUNK_LEN - self.pending.len()).min(data.len());
            self.pending.extend_from_slice(&data[..take]);
            data = &data[take..];
        }
        Ok(())
    }

    /// Seals the held-back plaintext as the last chunk and appends it to `out`.
    ///
    /// # Errors
    /// [`Error::TooLarge`] past 2^64 chunks (unreachable in practice).
    pub fn finish(mut self, out: &mut Vec<u8>) -> Result<()> {
        self.flush_chunk(true, out)
    }

    fn flush_chunk(&mut self, last: bool, out: &mut Vec<u8>) -> Result<()> {
        let start = out.len();
        out.extend_from_slice(&self.pending);
        self.pending.zeroize();
        self.pending.clear();
        let tag = self.cipher.seal(&mut out[start..], last)?;
        out.extend_from_slice(&tag);
        Ok(())
    }

    /// Seals one chunk in place, for callers that already hold whole chunks (every chunk but
    /// the last must be exactly [`CHUNK_LEN`] bytes). Returns the tag to append after it.
    ///
    /// # Errors
    /// [`Error::Malformed`] if a non-last chunk is not [`CHUNK_LEN`] bytes or a last chunk is
    /// longer, or an empty last chunk follows other chunks.
    pub fn seal_chunk_in_place(&mut self, chunk: &mut [u8], last: bool) -> Result<[u8; TAG_LEN]> {
        check_chunk_len(chunk.len(), last, self.cipher.counter)?;
        self.cipher.seal(chunk, last)
    }
}

impl Drop for StreamEncryptor {
    fn drop(&mut self) {
        self.pending.zeroize();
    }
}

fn check_chunk_len(len: usize, last: bool, counter: u64) -> Result<()> {
    let ok = if last {
        len <= CHUNK_LEN && (len > 0 || counter == 0)
    } else {
        len == CHUNK_LEN
    };
    if ok {
        Ok(())
    } else {
        Err(Error::Malformed("attachment chunk"))
    }
}

/// Decrypts an encrypted stream incrementally. Feed it the bytes after the 16-byte nonce with
/// [`StreamDecryptor::update`] and end with [`StreamDecryptor::finish`], which reports a
/// truncated stream. Plaintext handed out before `finish` is authentic but may be followed by
/// an error: do not act on a file until `finish` succeeds.
pub struct StreamDecryptor {
    cipher: ChunkCipher,
    pending: Vec<u8>,
}

impl StreamDecryptor {
    /// Starts decrypting a stream whose first 16 bytes were `nonce`.
    pub fn new(file_key: &FileKey, nonce: &[u8; STREAM_NONCE_LEN]) -> Self {
        StreamDecryptor {
            cipher: ChunkCipher::new(file_key, nonce),
            pending: Vec::new(),
        }
    }

    /// Adds ciphertext and appends the plaintext of every chunk that is now known not to be
    /// the last to `out`.
    ///
    /// # Errors
    /// [`Error::DecryptionFailed`] for an altered, reordered or extended stream;
    /// [`Error::TrailingData`] when a full chunk sealed as the last is followed by more data.
    pub fn update(&mut self, mut data: &[u8], out: &mut Vec<u8>) -> Result<()> {
        while !data.is_empty() {
            if self.pending.len() == ENCRYPTED_CHUNK_LEN {
                self.open_pending(false, out)?;
            }
            // With nothing held back and more than a whole chunk of input, the next chunk cannot
            // be the last: open it straight into `out`. If it fails, stage it below so that
            // `open_pending` reports why (altered, or sealed as the last).
            if self.pending.is_empty() && data.len() > ENCRYPTED_CHUNK_LEN {
                let (chunk, rest) = data.split_at(ENCRYPTED_CHUNK_LEN);
                let start = out.len();
                out.extend_from_slice(&chunk[..CHUNK_LEN]);
                if self
                    .cipher
                    .open(&mut out[start..], &chunk[CHUNK_LEN..], false)
                    .is_ok()
                {
                    data = rest;
                    continue;
                }
                out.truncate(start);
            }
            let take = (ENCRYPTED_CHUNK_LEN - self.pending.len()).min(data.len());
            self.pending.extend_from_slice(&data[..take]);
            data = &data[take..];
        }
        Ok(())
    }

    /// Decrypts the held-back bytes as the last chunk and appends the plaintext to `out`.
    ///
    /// # Errors
    /// [`Error::Truncated`] if the stream ended before a chunk sealed as the last;
    /// [`Error::DecryptionFailed`] for altered bytes; [`Error::Malformed`] for an empty last
    /// chunk after other chunks.
    pub fn finish(mut self, out: &mut Vec<u8>) -> Result<()> {
        if self.pending.len() < TAG_LEN {
            return Err(Error::Truncated);
        }
        self.open_pending(true, out)
    }

    fn open_pending(&mut self, last: bool, out: &mut Vec<u8>) -> Result<()> {
        let body_len = self.pending.len() - TAG_LEN;
        check_chunk_len(body_len, last, self.cipher.counter)?;
        let start = out.len();
        out.extend_from_slice(&self.pending[..body_len]);
        let tag = &self.pending[body_len..];
        match self.cipher.open(&mut out[start..], tag, last) {
            Ok(()) => {
                self.pending.clear();
                Ok(())
            }
            Err(_) => {
                out.truncate(start);
                // Tell a cut-off or over-long stream from altered bytes: does the chunk
                // authenticate with the other last flag?
                let mut probe = self.pending[..body_len].to_vec();
                let other = open_detached(
                    &self.cipher.key,
                    &self.cipher.nonce(!last),
                    &[],
                    &mut probe,
                    tag,
                );
                probe.zeroize();
                Err(match (other, last) {
                    (Ok(()), true) => Error::Truncated,
                    (Ok(()), false) => Error::TrailingData,
                    (Err(_), _) => Error::DecryptionFailed,
                })
            }
        }
    }

    /// Opens one chunk in place (the counterpart of
    /// [`StreamEncryptor::seal_chunk_in_place`]).
    ///
    /// # Errors
    /// [`Error::Malformed`] for a bad chunk length, [`Error::DecryptionFailed`] otherwise.
    pub fn open_chunk_in_place(&mut self, chunk: &mut [u8], tag: &[u8], last: bool) -> Result<()> {
        check_chunk_len(chunk.len(), last, self.cipher.counter)?;
        self.cipher.open(chunk, tag, last)
    }
}
