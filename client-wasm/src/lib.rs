//! # sealdesk-client
//!
//! The client's protocol logic, once, for the browser (through WebAssembly) and native code
//! (tests and the command-line client): what to verify, what to encrypt to whom, and the state
//! of a ticket. Its only I/O goes through a [`transport::Transport`]. Every message is verified
//! (signature, sequence, hash link, membership) before it is shown; every failure is a
//! [`ClientError`] with a stable code.

#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod account;
pub mod admin;
pub mod attachments;
pub mod content;
pub mod directory;
pub mod error;
pub mod kept;
pub mod live;
pub mod pow;
pub mod recovery;
pub mod reporter;
#[cfg(feature = "admin")]
pub mod search;
pub mod snippets;
pub mod thread;
pub mod transport;
mod util;
pub mod wasm;

pub use error::{ClientError, Result};
