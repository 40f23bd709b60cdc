//! The crate's one error type, with a stable machine-readable code per variant.

use core::fmt;

/// Why a message, wrap or directory entry failed transcript or log verification.
///
/// Each fault names the first check (in `spec/PROTOCOL.md` order) that failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fault {
    /// The bytes do not decode as the expected structure (length, version or enum value).
    Malformed,
    /// The structure belongs to another ticket.
    WrongTicket,
    /// The structure belongs to the other chain of the ticket (conversation vs. internal notes).
    WrongChain,
    /// The sequence number is not the previous one plus one (a message was dropped, duplicated
    /// or reordered).
    UnexpectedSeq {
        /// The sequence number the verifier expected.
        expected: u64,
        /// The sequence number the structure carries.
        found: u64,
    },
    /// The previous-hash field does not match the hash of the previous structure.
    BrokenLink,
    /// The directory sequence number went backwards or points past the verified head.
    DirectoryOutOfRange,
    /// The epoch is neither the current one nor the next one, or the first message's epoch is
    /// not 0.
    BadEpoch,
    /// An administrator was removed since the current epoch began, yet the epoch did not change.
    EpochNotRotated,
    /// The sender (or signer) is not a member allowed to write at that point.
    NotAMember,
    /// The kind of message is not allowed on this chain.
    KindNotAllowed,
    /// The Ed25519 signature does not verify (strict verification).
    BadSignature,
    /// The directory operation is not allowed in the current state (adding a current or
    /// removed key, removing a non-member or the last administrator, a second genesis).
    InvalidOperation,
    /// The previous message is an *endorse* message whose content the verifier has not yet
    /// read (spec §10.2): the endorsed key counts from the next message on, so the next message
    /// cannot be checked before it.
    EndorsementUnread,
    /// The structure carries another id than the one it was fetched under (a snippet, spec
    /// §18.3).
    WrongId,
}

impl Fault {
    /// A stable snake_case code for the fault.
    pub fn code(&self) -> &'static str {
        match self {
            Fault::Malformed => "malformed",
            Fault::WrongTicket => "wrong_ticket",
            Fault::WrongChain => "wrong_chain",
            Fault::UnexpectedSeq { .. } => "unexpected_seq",
            Fault::BrokenLink => "broken_link",
            Fault::DirectoryOutOfRange => "directory_out_of_range",
            Fault::BadEpoch => "bad_epoch",
            Fault::EpochNotRotated => "epoch_not_rotated",
            Fault::NotAMember => "not_a_member",
            Fault::KindNotAllowed => "kind_not_allowed",
            Fault::BadSignature => "bad_signature",
            Fault::InvalidOperation => "invalid_operation",
            Fault::EndorsementUnread => "endorsement_unread",
            Fault::WrongId => "wrong_id",
        }
    }
}

/// Every failure of this crate.
///
/// [`Error::code`] gives a stable string that higher layers (HTTP API, JavaScript) pass on
/// unchanged; the `Display` text is for people.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Error {
    /// Bytes did not decode: wrong length, unknown version or enum value, trailing data.
    Malformed(&'static str),
    /// An Ed25519 or X25519 public key is invalid: not a canonical point, a small-order
    /// (weak) Ed25519 key, or a low-order X25519 point that would give an all-zero secret.
    InvalidPublicKey,
    /// A signature failed strict Ed25519 verification (RFC 8032 §5.1.7 plus canonicity).
    BadSignature,
    /// Authenticated decryption failed: wrong key, altered ciphertext or associated data.
    DecryptionFailed,
    /// An HPKE operation failed (RFC 9180 §5; includes an all-zero Diffie–Hellman output).
    Hpke,
    /// Content is larger than the protocol allows (see `spec/PROTOCOL.md`, padding).
    TooLarge,
    /// Padding inside a decrypted message is not canonical.
    BadPadding,
    /// Argon2id parameters are outside the accepted range, or Argon2 failed.
    KeyDerivation,
    /// A message in a transcript failed verification.
    Transcript {
        /// Zero-based position of the first broken message in the list being verified.
        index: usize,
        /// The sequence number that message claims (0 when it did not decode).
        seq: u64,
        /// Which check failed.
        fault: Fault,
    },
    /// A directory log entry failed verification.
    Directory {
        /// Zero-based position of the first broken entry in the log.
        index: u64,
        /// Which check failed.
        fault: Fault,
    },
    /// The new directory log is shorter than the pinned head (a rollback).
    DirectoryRollback,
    /// The new directory log does not contain the pinned head (a fork).
    DirectoryFork,
    /// A wrapped key failed verification against the ticket's members.
    Wrap(Fault),
    /// The content of a verified *endorse* message could not be read (spec §8.2): it does not
    /// decrypt or decode (`malformed`) or names another ticket (`wrong_ticket`); or it was
    /// applied to a message that is not the chain's last, unread endorse message (`malformed`).
    Endorsement(Fault),
    /// A wrapped team key failed verification against the directory (spec §18.2).
    TeamKey(Fault),
    /// A snippet (canned reply) failed verification or cannot be read with the keys held
    /// (spec §18.3).
    Snippet(Fault),
    /// An attachment stream ended before its last chunk.
    Truncated,
    /// An attachment stream has data after a chunk sealed as its last.
    TrailingData,
    /// The system random number generator failed.
    Rng,
}

impl Error {
    /// A stable snake_case code for the error, e.g. `"bad_signature"` or
    /// `"transcript.unexpected_seq"`.
    pub fn code(&self) -> String {
        match self {
            Error::Malformed(_) => "malformed".into(),
            Error::InvalidPublicKey => "invalid_public_key".into(),
            Error::BadSignature => "bad_signature".into(),
            Error::DecryptionFailed => "decryption_failed".into(),
            Error::Hpke => "hpke".into(),
            Error::TooLarge => "too_large".into(),
            Error::BadPadding => "bad_padding".into(),
            Error::KeyDerivation => "key_derivation".into(),
            Error::Transcript { fault, .. } => format!("transcript.{}", fault.code()),
            Error::Directory { fault, .. } => format!("directory.{}", fault.code()),
            Error::DirectoryRollback => "directory.rollback".into(),
            Error::DirectoryFork => "directory.fork".into(),
            Error::Wrap(fault) => format!("wrap.{}", fault.code()),
            Error::Endorsement(fault) => format!("endorsement.{}", fault.code()),
            Error::TeamKey(fault) => format!("team_key.{}", fault.code()),
            Error::Snippet(fault) => format!("snippet.{}", fault.code()),
            Error::Truncated => "attachment.truncated".into(),
            Error::TrailingData => "attachment.trailing_data".into(),
            Error::Rng => "rng".into(),
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Malformed(what) => write!(f, "malformed {what}"),
            Error::InvalidPublicKey => f.write_str("invalid or low-order public key"),
            Error::BadSignature => f.write_str("signature does not verify"),
            Error::DecryptionFailed => f.write_str("decryption failed"),
            Error::Hpke => f.write_str("HPKE operation failed"),
            Error::TooLarge => f.write_str("content too large"),
            Error::BadPadding => f.write_str("non-canonical padding"),
            Error::KeyDerivation => f.write_str("key derivation failed or parameters rejected"),
            Error::Transcript { index, seq, fault } => write!(
                f,
                "message {index} (seq {seq}) failed verification: {}",
                fault.code()
            ),
            Error::Directory { index, fault } => {
                write!(
                    f,
                    "directory entry {index} failed verification: {}",
                    fault.code()
                )
            }
            Error::DirectoryRollback => f.write_str("directory log was rolled back"),
            Error::DirectoryFork => f.write_str("directory log forked from the pinned head"),
            Error::Wrap(fault) => write!(f, "wrapped key failed verification: {}", fault.code()),
            Error::Endorsement(fault) => {
                write!(f, "endorse message content unreadable: {}", fault.code())
            }
            Error::TeamKey(fault) => {
                write!(f, "wrapped team key failed verification: {}", fault.code())
            }
            Error::Snippet(fault) => write!(f, "snippet failed verification: {}", fault.code()),
            Error::Truncated => f.write_str("attachment stream is truncated"),
            Error::TrailingData => f.write_str("attachment stream has data after its end"),
            Error::Rng => f.write_str("system random number generator failed"),
        }
    }
}

impl std::error::Error for Error {}

/// Shorthand for results of this crate.
pub type Result<T> = core::result::Result<T, Error>;
