//! The JavaScript surface: what the web pages call, compiled to WebAssembly: the anonymous
//! reporter's pages, the support tab of account holders and the administrators' panel.
//! `client-wasm/README.md` documents every export, its arguments, results and error codes, and
//! how the module is built.
//!
//! Three parts:
//!
//! - [`input`]: what the pages send, checked before anything is derived or sent (the opening
//!   form, links, ids, Argon2id parameters, the keyring's app data, pinned directory heads and
//!   the [`DirectoryPin`] every handle keeps), natively and in the browser, so their tests run in both;
//! - [`views`]: the JSON the pages show (a conversation, an administrator's ticket with its
//!   notes, debug data and attachments, the inbox, the team). Keys never leave the module: an
//!   attachment's view has no `key`, and the page downloads by `seq`;
//! - on `wasm32` only, `browser`: `FetchTransport` (a [`Transport`] over the browser's `fetch`,
//!   same origin by default), the handles and the `#[wasm_bindgen]` exports. Every export that
//!   talks to the server returns a `Promise`; a failure rejects it with a JavaScript `Error`
//!   whose `code` property is the [`ClientError`] code (and `status` the HTTP status of a server
//!   refusal).
//!
//! [`Transport`]: crate::transport::Transport
//! [`ClientError`]: crate::error::ClientError

pub mod input;
pub mod views;

#[cfg(target_arch = "wasm32")]
mod browser;

#[cfg(target_arch = "wasm32")]
pub use browser::*;
pub use input::*;
pub use views::*;
