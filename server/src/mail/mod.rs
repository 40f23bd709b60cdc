//! Mail without giving up end-to-end encryption (README.md, "Mail"; spec/API.md, "Mail";
//! spec/THREAT-MODEL.md, "Mail"). The server mails only references and links, never content:
//!
//! - [`outbox`]: the durable outbox. A mail is queued as a record in the same storage write as
//!   the event that causes it ([`outbox::queue_write`]), and a background task
//!   ([`sender::run`]) sends it with retries and exponential backoff, then deletes it.
//! - [`subscriptions`]: who gets mail. A reporter's address, kept only while the ticket is open
//!   and the reporter subscribed; an account's address; unsubscribe tokens, stored hashed.
//! - [`templates`]: the text of each mail kind and its headers (RFC 8058 one-click
//!   unsubscribe).
//!
//! Logs name a mail by its id and kind only, never by its address or token.

pub mod outbox;
pub mod preferences;
pub mod sender;
pub mod subscriptions;
pub mod templates;

use crate::error::ApiResult;
use crate::state::AppState;

/// The address of the administrator with `key_id`'s mail preferences, if set.
///
/// # Errors
/// Storage failures.
pub fn preferences_address(state: &AppState, key_id: &[u8; 32]) -> ApiResult<Option<String>> {
    Ok(preferences::load(state, key_id)?
        .map(|p| p.address)
        .filter(|a| !a.is_empty()))
}
