//! Who gets mail (spec/API.md, "Mail"; spec/THREAT-MODEL.md, "Mail"):
//!
//! - [`RecordKind::Subscription`]: `t` ‖ ticket id (16) → a reporter's address, kept only
//!   while the reporter is subscribed and the ticket is open (removed on unsubscribe and
//!   `closed_address_retention_seconds` after the ticket closed); `a` ‖ account id → the
//!   address an account holder set for the replies to their tickets.
//! - [`RecordKind::MailToken`]: SHA-256(token) → the recipient a mail's unsubscribe link
//!   stops, and when the token expires. The token itself is never stored: it is drawn when
//!   the mail is sent and lives only in the mail.
//!
//! A subscribed ticket also keeps the keyed lookup of its address (`TicketRecord::email_lookup`,
//! under the instance secret), so [`tickets_for_address`] finds it from an address typed
//! later (recovery) without scanning addresses.

use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::outbox::{self, MailKind, OutgoingMail, Recipient};
use crate::clock::now;
use crate::encoding::{from_record, to_record};
use crate::error::{ApiError, ApiResult};
use crate::instance_secret;
use crate::random;
use crate::state::AppState;
use crate::storage::{Owner, RecordKind, RecordWrite, Status, TicketRecord};

/// How long an unsubscribe link keeps working after its mail was sent, in seconds (180 days).
pub const TOKEN_TTL_SECONDS: u64 = 180 * 24 * 3600;
/// Longest address accepted, in bytes (RFC 5321 §4.5.3.1.3's path limit less the brackets).
pub const MAX_ADDRESS_LEN: usize = 254;

/// A stored address and when it was last mailed a reply notification.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Subscription {
    /// The address, as given (trimmed).
    pub address: String,
    /// When it was given, Unix seconds.
    pub created_at: u64,
    /// When the last reply notification was queued, Unix seconds (0: never).
    pub last_notified_at: u64,
}

/// An unsubscribe token as stored (by the token's hash).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenRecord {
    /// What the token stops.
    pub recipient: Recipient,
    /// When it stops working, Unix seconds.
    pub expires_at: u64,
}

/// The subscription key of a reporter's ticket.
pub fn ticket_key(id: &[u8; 16]) -> Vec<u8> {
    [&b"t"[..], id].concat()
}

/// The subscription key of an account.
pub fn account_key(account_id: &str) -> Vec<u8> {
    [&b"a"[..], account_id.as_bytes()].concat()
}

/// Trims `address` and checks it is one mailbox address (`local@domain`, at most
/// [`MAX_ADDRESS_LEN`] bytes, no display name).
///
/// # Errors
/// `400 bad_email`.
pub fn validate_address(address: &str) -> ApiResult<String> {
    let address = address.trim();
    let ok = address.len() <= MAX_ADDRESS_LEN
        && address.parse::<lettre::Address>().is_ok()
        && address
            .split_once('@')
            .is_some_and(|(_, domain)| domain.contains('.') && !domain.starts_with('.'));
    if ok {
        Ok(address.to_owned())
    } else {
        Err(ApiError::bad_request(
            "bad_email",
            "The notification email address is not valid.",
        ))
    }
}

/// `400 mail_off`: this instance sends no mail.
pub fn mail_off() -> ApiError {
    ApiError::bad_request(
        "mail_off",
        "This instance sends no mail (no smtp_url is set): leave the address out.",
    )
}

/// The writes that subscribe ticket `id`'s reporter at `address` and queue the confirmation
/// mail, to add to the ticket's creation.
///
/// # Errors
/// Encoding failures only.
pub fn subscribe_ticket_writes(
    id: &[u8; 16],
    address: String,
    now: u64,
) -> ApiResult<Vec<RecordWrite>> {
    let subscription = Subscription {
        address,
        created_at: now,
        last_notified_at: 0,
    };
    Ok(vec![
        RecordWrite::put(
            RecordKind::Subscription,
            ticket_key(id),
            to_record(&subscription)?,
        ),
        outbox::queue_write(
            OutgoingMail {
                kind: MailKind::Confirmation,
                recipient: Recipient::Ticket(*id),
                ticket: Some(*id),
                link_fragment: None,
                digest: false,
            },
            now,
        )?,
    ])
}

fn subscription(state: &AppState, key: &[u8]) -> ApiResult<Option<Subscription>> {
    match state.store.get(RecordKind::Subscription, key)? {
        Some(bytes) => Ok(Some(from_record(&bytes, "subscription")?)),
        None => Ok(None),
    }
}

/// The address a mail to `recipient` goes to now; `None` if the recipient unsubscribed (the
/// mail is then dropped).
///
/// # Errors
/// Storage failures, records that do not decode.
pub fn address_of(state: &AppState, recipient: &Recipient) -> ApiResult<Option<String>> {
    Ok(match recipient {
        Recipient::Ticket(id) => subscription(state, &ticket_key(id))?.map(|s| s.address),
        Recipient::Account(account_id) => {
            subscription(state, &account_key(account_id))?.map(|s| s.address)
        }
        Recipient::Administrator(key_id) => super::preferences_address(state, key_id)?,
    })
}

/// The writes of a reply notification for `ticket` at time `now` (the subscription's new
/// time and the queued mail), if its reporter or account is subscribed and the last
/// notification is older than `reply_notification_interval_seconds`; to add to the reply's
/// own write. Empty when mail is off.
///
/// # Errors
/// Storage failures, records that do not decode.
pub fn reply_notification_writes(
    state: &AppState,
    ticket: &TicketRecord,
    now: u64,
) -> ApiResult<Vec<RecordWrite>> {
    let Some(settings) = &state.mail else {
        return Ok(Vec::new());
    };
    let (key, recipient) = match &ticket.owner {
        Owner::Anonymous { .. } => (ticket_key(&ticket.id), Recipient::Ticket(ticket.id)),
        Owner::Account { account_id } => (
            account_key(account_id),
            Recipient::Account(account_id.clone()),
        ),
    };
    let Some(mut subscription) = subscription(state, &key)? else {
        return Ok(Vec::new());
    };
    if subscription.last_notified_at != 0
        && now.saturating_sub(subscription.last_notified_at) < settings.reply_interval_seconds
    {
        return Ok(Vec::new());
    }
    subscription.last_notified_at = now;
    Ok(vec![
        RecordWrite::put(RecordKind::Subscription, key, to_record(&subscription)?),
        outbox::queue_write(
            OutgoingMail {
                kind: MailKind::ReplyNotification,
                recipient,
                ticket: Some(ticket.id),
                link_fragment: None,
                digest: false,
            },
            now,
        )?,
    ])
}

/// The address the account `account_id` set for reply notifications, if any.
///
/// # Errors
/// Storage failures.
pub fn account_address(state: &AppState, account_id: &str) -> ApiResult<Option<String>> {
    Ok(subscription(state, &account_key(account_id))?.map(|s| s.address))
}

/// Sets (or with `None` deletes) the account's notification address, durably.
///
/// # Errors
/// Storage failures.
pub async fn set_account_address(
    state: &AppState,
    account_id: &str,
    address: Option<String>,
) -> ApiResult<()> {
    let key = account_key(account_id);
    let write = match address {
        Some(address) => {
            let last_notified_at = subscription(state, &key)?.map_or(0, |s| s.last_notified_at);
            RecordWrite::put(
                RecordKind::Subscription,
                key,
                to_record(&Subscription {
                    address,
                    created_at: now(),
                    last_notified_at,
                })?,
            )
        }
        None => RecordWrite::remove(RecordKind::Subscription, key),
    };
    state.store.write_records(&[write])?;
    state.commit().await
}

/// The open tickets subscribed with `address` (compared through the keyed lookup under the
/// instance secret, [`instance_secret::email_lookup`]), for recovery by mail.
///
/// # Errors
/// `bad_email`, storage failures.
pub async fn tickets_for_address(state: &AppState, address: &str) -> ApiResult<Vec<[u8; 16]>> {
    let address = validate_address(address)?;
    let lookup = instance_secret::email_lookup(state, &address).await?;
    let mut found = Vec::new();
    // Every ticket not closed (open, waiting for the reporter, on hold) can be recovered: the
    // store's email index holds exactly those.
    for id in state.store.tickets_by_email_lookup(&lookup)? {
        if subscription(state, &ticket_key(&id))?.is_some() {
            found.push(id);
        }
    }
    Ok(found)
}

/// A fresh unsubscribe token for a mail to `recipient` sent at `now`, and the write that
/// stores its hash. The token is 32 random bytes in base64url.
///
/// # Errors
/// Encoding failures only.
pub fn issue_token(recipient: &Recipient, now: u64) -> ApiResult<(String, RecordWrite)> {
    let bytes: [u8; 32] = random::bytes();
    let token = sealdesk_wire::b64::encode(&bytes);
    let record = TokenRecord {
        recipient: recipient.clone(),
        expires_at: now.saturating_add(TOKEN_TTL_SECONDS),
    };
    Ok((
        token,
        RecordWrite::put(
            RecordKind::MailToken,
            Sha256::digest(bytes).to_vec(),
            to_record(&record)?,
        ),
    ))
}

/// The writes that end `recipient`'s mail: its address is deleted (and a ticket's lookup
/// key cleared, under the ticket's lock: the caller holds it for a ticket).
fn stop_writes(
    state: &AppState,
    recipient: &Recipient,
) -> ApiResult<(Vec<RecordWrite>, Option<TicketRecord>)> {
    Ok(match recipient {
        Recipient::Ticket(id) => {
            let ticket = state.store.ticket(id)?.map(|mut ticket| {
                ticket.email_lookup = None;
                ticket
            });
            (
                vec![RecordWrite::remove(
                    RecordKind::Subscription,
                    ticket_key(id),
                )],
                ticket,
            )
        }
        Recipient::Account(account_id) => (
            vec![RecordWrite::remove(
                RecordKind::Subscription,
                account_key(account_id),
            )],
            None,
        ),
        Recipient::Administrator(key_id) => (
            vec![RecordWrite::remove(
                RecordKind::MailPreference,
                key_id.to_vec(),
            )],
            None,
        ),
    })
}

/// Deletes `recipient`'s address (and a ticket's lookup key) durably.
///
/// # Errors
/// Storage failures.
pub async fn stop(state: &AppState, recipient: &Recipient) -> ApiResult<()> {
    let lock = match recipient {
        Recipient::Ticket(id) => Some(state.ticket_lock(*id)),
        _ => None,
    };
    let _serialised = match &lock {
        Some(lock) => Some(lock.lock().await),
        None => None,
    };
    let (writes, ticket) = stop_writes(state, recipient)?;
    match ticket {
        Some(ticket) => state.store.update_ticket_with(&ticket, &writes)?,
        None => state.store.write_records(&writes)?,
    }
    state.commit().await
}

/// `POST /api/v1/unsubscribe/{token}`: stops the mail of the token's recipient. Using a
/// token again answers the same (the token stays valid until it expires).
///
/// # Errors
/// `400 bad_token` (not 32 bytes of base64url), `404 unknown_token` (never issued, or
/// expired), storage failures.
pub async fn unsubscribe(state: &AppState, token: &str) -> ApiResult<()> {
    let bytes = crate::encoding::from_b64_array::<32>("token", token).map_err(|_| {
        ApiError::bad_request(
            "bad_token",
            "This unsubscribe link is damaged: copy the whole link from the mail.",
        )
    })?;
    let unknown = || {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "unknown_token",
            "This unsubscribe link is unknown or has expired.",
        )
    };
    let hash = Sha256::digest(bytes).to_vec();
    let record: TokenRecord = match state.store.get(RecordKind::MailToken, &hash)? {
        Some(bytes) => from_record(&bytes, "unsubscribe token")?,
        None => return Err(unknown()),
    };
    if record.expires_at <= now() {
        return Err(unknown());
    }
    stop(state, &record.recipient).await?;
    tracing::info!("unsubscribed by link");
    Ok(())
}

/// Deletes the addresses of tickets closed for longer than `retention_seconds` and the
/// expired unsubscribe tokens; returns how many addresses were deleted.
///
/// # Errors
/// Storage failures.
pub async fn expire(state: &AppState, retention_seconds: u64, now: u64) -> ApiResult<usize> {
    let mut removed = 0;
    for (key, _) in state.store.scan(RecordKind::Subscription, b"t")? {
        let Ok(id) = <[u8; 16]>::try_from(&key[1..]) else {
            continue;
        };
        let Some(ticket) = state.store.ticket(&id)? else {
            stop(state, &Recipient::Ticket(id)).await?;
            continue;
        };
        // `last_activity` is the close message's time while the ticket stays closed.
        if ticket.status == Status::Closed
            && now.saturating_sub(ticket.last_activity) >= retention_seconds
        {
            stop(state, &Recipient::Ticket(id)).await?;
            removed += 1;
        }
    }
    let mut expired = Vec::new();
    for (key, value) in state.store.scan(RecordKind::MailToken, &[])? {
        let expires =
            from_record::<TokenRecord>(&value, "unsubscribe token").map_or(0, |r| r.expires_at);
        if expires <= now {
            expired.push(RecordWrite::remove(RecordKind::MailToken, key));
        }
    }
    if !expired.is_empty() {
        state.store.write_records(&expired)?;
        state.commit().await?;
    }
    Ok(removed)
}
