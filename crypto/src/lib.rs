//! # sealdesk-crypto
//!
//! The protocol core of Sealdesk, an end-to-end encrypted support desk: everything a client or
//! the server needs to make and check the protocol's structures, with no I/O, no clock and no
//! hidden randomness (every function that needs randomness takes a [`CryptoRng`] and says
//! what it draws). Builds for native targets and `wasm32-unknown-unknown`.
//!
//! The byte-exact specification is `spec/PROTOCOL.md`; each item's documentation names its
//! section. In brief:
//!
//! - [`Identity`] / [`PublicIdentity`]: an Ed25519 signing key and an X25519 encryption key
//!   from one [`IdentitySeed`]; [`KeyId`] and its [`KeyId::fingerprint`] (§4).
//! - [`TicketKey`] per ticket, [`Chain`] and epoch, [`WrappedKey`] for each member with HPKE
//!   (RFC 9180 base mode, [`hpke_suite`]) and signed by the wrapper (§5, §6).
//! - [`Directory`]: the signed, hash-chained log of administrators (§7); [`Members`] of a
//!   ticket, with reporter keys endorsed on the conversation chain ([`EndorseContent`], §8).
//! - [`Message`]: padded, encrypted, signed, hash-linked (§9); [`ChainState`] verifies a
//!   transcript (§10).
//! - [`TicketSecret`]: anonymous ticket links (§11); [`MasterKey`] and [`Keyring`]: accounts
//!   (§12); [`StreamEncryptor`] / [`StreamDecryptor`]: attachments (§13).
//! - [`TeamKey`] per team epoch, [`TeamWrap`] for each administrator, and [`Snippet`]: the
//!   administrators' canned replies (§18).
//! - [`email_lookup`] and [`prelogin_salt`]: the server's keyed lookups under its instance
//!   secret (spec/API.md).
//!
//! Every secret type zeroizes on drop and redacts itself in `Debug`. Decoding never panics.

#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod account;
mod anonymous;
mod attachment;
mod directory;
mod encoding;
mod error;
pub mod hpke_suite;
mod identity;
pub mod labels;
mod lookup;
mod members;
mod message;
mod primitives;
mod rng;
mod team;
mod ticket;
mod transcript;
mod wrap;

pub use account::{
    Argon2Params, AuthKey, KEYRING_VERSION, Keyring, KeyringKey, MAX_KEYRING_LEN, MasterKey,
    SALT_LEN, generate_salt,
};
pub use anonymous::{AccessToken, FRAGMENT_LEN, LinkFragment, TICKET_SECRET_LEN, TicketSecret};
pub use attachment::{
    CHUNK_LEN, ENCRYPTED_CHUNK_LEN, FileKey, STREAM_NONCE_LEN, StreamDecryptor, StreamEncryptor,
    encrypted_len,
};
pub use directory::{
    Directory, DirectoryEntry, DirectoryHead, ENTRY_LEN, ENTRY_VERSION, Operation,
};
pub use error::{Error, Fault, Result};
pub use identity::{
    Identity, IdentitySeed, KeyId, PUBLIC_IDENTITY_LEN, PublicIdentity, SIGNATURE_LEN,
    fingerprint_of, validate_x25519_public, verify_ed25519,
};
pub use lookup::{INSTANCE_SECRET_LEN, email_lookup, prelogin_salt};
pub use members::{
    ENDORSE_CONTENT_LEN, ENDORSE_CONTENT_VERSION, EndorseContent, EndorseGrounds, Members, Role,
};
pub use message::{
    HEADER_LEN, Kind, MAX_CONTENT_LEN, MAX_PADDED_LEN, MESSAGE_VERSION, MIN_PADDED_LEN, Message,
    MessageHeader, Placement, padded_len,
};
pub use primitives::TAG_LEN;
pub use rng::{CryptoRng, system_rng};
pub use team::{
    MAX_SNIPPET_BODY_CHARS, MAX_SNIPPET_LEN, MAX_SNIPPET_PADDED_LEN, MAX_SNIPPET_TITLE_CHARS,
    SNIPPET_HEADER_LEN, SNIPPET_ID_LEN, Snippet, SnippetContent, SnippetHeader, SnippetId,
    TEAM_VERSION, TEAM_WRAP_LEN, TeamKey, TeamWrap, TeamWrapContext,
};
pub use ticket::{Chain, TICKET_ID_LEN, TicketId, TicketKey};
pub use transcript::{ChainState, ConversationStatus};
pub use wrap::{WRAP_CT_LEN, WRAP_LEN, WRAP_VERSION, WrapContext, WrapSlot, WrappedKey};
pub use zeroize::Zeroizing;
