//! # sealdesk-wire
//!
//! The HTTP API's wire types (spec/API.md), in one place for both sides: the server
//! deserializes the requests and serializes the answers with these types, and the client does
//! the reverse, so a change to a body is checked by the compiler on both sides.
//!
//! - one module per area: [`directory`], [`invites`], [`tickets`], [`attachments`],
//!   [`accounts`], [`inbox`], [`team`], [`snippets`], [`settings`], [`pow`], [`events`],
//!   [`errors`];
//! - [`b64`]: unpadded base64url, the API's encoding of every byte string;
//! - [`pow`] also holds the proof-of-work function that both sides compute;
//! - [`SecretText`]: credentials in bodies (authentication keys, sessions, invite tokens),
//!   zeroized on drop and never printed by `Debug`.
//!
//! Byte fields stay base64url `String`s, exactly as they travel: the server decodes each with
//! its own limits and error codes (`bad_encoding`, `bad_length`, `too_large`), which a typed
//! field would turn into `bad_json`. No I/O; builds for `wasm32-unknown-unknown`.

#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod accounts;
pub mod attachments;
pub mod b64;
pub mod directory;
pub mod errors;
pub mod events;
pub mod inbox;
pub mod invites;
pub mod mail;
pub mod pow;
pub mod recovery;
mod secret;
pub mod settings;
pub mod snippets;
pub mod team;
pub mod tickets;

pub use secret::SecretText;

/// The empty JSON object `{}`: the body of the POSTs that carry nothing
/// (`POST /api/v1/accounts/logout`, `POST /api/v1/admin/invites`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct EmptyBody {}
