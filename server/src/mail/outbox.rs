//! The durable outbox: one record per mail in [`RecordKind::Outbox`], keyed by the mail's
//! random 16-byte id, holding what the mail is about and whom it goes to (never the text, and
//! never an address: the address is read from the recipient's subscription at send time, so
//! a mail queued before an unsubscribe is dropped, not sent).
//!
//! A mail is queued with [`queue_write`] inside the store write of the event that causes it
//! (`Store::create_ticket_with`, `append_message_with`, `update_ticket_with`,
//! `write_records`), so either both are stored or neither. The sender ([`super::sender`])
//! deletes the record once the relay has taken the mail.

use serde::{Deserialize, Serialize};

use crate::encoding::{from_record, to_record};
use crate::error::ApiResult;
use crate::random;
use crate::state::AppState;
use crate::storage::{RecordKind, RecordWrite};

/// What a mail is. Each kind has its text in [`super::templates::render`]; a new kind adds a
/// variant here and an arm there.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MailKind {
    /// To a reporter who subscribed, when the ticket is created.
    Confirmation,
    /// To a subscribed reporter or account, when an administrator's reply is stored.
    ReplyNotification,
    /// To an administrator who chose it: a new ticket.
    AdminNewTicket,
    /// To an administrator who chose it: a reporter answered.
    AdminReporterReply,
    /// To an administrator who chose it: a ticket was assigned to them.
    AdminAssigned,
    /// To an administrator who chose it: a recovery waits for approval.
    AdminPendingRecovery,
    /// To a subscribed reporter who asked for it: a single-use recovery link, its token in the
    /// link's fragment (`recovery`, spec/API.md "Recovery").
    RecoveryLink,
}

impl MailKind {
    /// The kind's name in logs and metrics.
    pub fn name(self) -> &'static str {
        match self {
            MailKind::Confirmation => "confirmation",
            MailKind::ReplyNotification => "reply_notification",
            MailKind::AdminNewTicket => "admin_new_ticket",
            MailKind::AdminReporterReply => "admin_reporter_reply",
            MailKind::AdminAssigned => "admin_assigned",
            MailKind::AdminPendingRecovery => "admin_pending_recovery",
            MailKind::RecoveryLink => "recovery_link",
        }
    }
}

/// Whom a mail goes to: where the sender finds the address when it sends.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Recipient {
    /// The reporter subscribed to this ticket (16-byte id).
    Ticket([u8; 16]),
    /// The account with this id, at the address its holder set.
    Account(String),
    /// The administrator with this key id, at the address of their mail preferences.
    Administrator([u8; 32]),
}

/// A mail to queue.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OutgoingMail {
    /// What it is.
    pub kind: MailKind,
    /// Whom it goes to.
    pub recipient: Recipient,
    /// The ticket it refers to, if any (its short reference and link are in the mail).
    pub ticket: Option<[u8; 16]>,
    /// A secret that goes only into a link's fragment (a recovery token); stored with the
    /// queued mail until it is sent or given up, then deleted with it.
    pub link_fragment: Option<String>,
    /// Whether the mail waits for the recipient's digest instead of going out at once.
    pub digest: bool,
}

/// A queued mail as stored.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutboxRecord {
    /// Random id; the record's key, the `Message-ID`'s left part and the logs' name of it.
    pub id: [u8; 16],
    /// What it is.
    pub kind: MailKind,
    /// Whom it goes to.
    pub recipient: Recipient,
    /// The ticket it refers to.
    pub ticket: Option<[u8; 16]>,
    /// See [`OutgoingMail::link_fragment`].
    pub link_fragment: Option<String>,
    /// See [`OutgoingMail::digest`].
    #[serde(default)]
    pub digest: bool,
    /// When it was queued, Unix seconds.
    pub queued_at: u64,
    /// Tries so far.
    pub attempts: u32,
    /// Not before this time, Unix seconds (backoff).
    pub next_attempt_at: u64,
}

impl OutboxRecord {
    /// The id in hex, as logs write it.
    pub fn id_hex(&self) -> String {
        hex::encode(self.id)
    }
}

/// The write that queues `mail` at time `now` (Unix seconds): add it to the store write of the
/// event that causes the mail, then wake the sender with [`wake`] after the commit.
///
/// # Errors
/// Only if the record cannot be encoded.
pub fn queue_write(mail: OutgoingMail, now: u64) -> ApiResult<RecordWrite> {
    let record = OutboxRecord {
        id: random::bytes(),
        kind: mail.kind,
        recipient: mail.recipient,
        ticket: mail.ticket,
        link_fragment: mail.link_fragment,
        digest: mail.digest,
        queued_at: now,
        attempts: 0,
        next_attempt_at: now,
    };
    Ok(RecordWrite::put(
        RecordKind::Outbox,
        record.id.to_vec(),
        to_record(&record)?,
    ))
}

/// Queues `mail` on its own (durably) and wakes the sender: for a mail whose cause is
/// stored elsewhere; an event stored by this server should use [`queue_write`] in its own
/// write instead. Does nothing when mail is off.
///
/// # Errors
/// Storage failures.
pub async fn queue(state: &AppState, mail: OutgoingMail) -> ApiResult<()> {
    if state.mail.is_none() {
        return Ok(());
    }
    state
        .store
        .write_records(&[queue_write(mail, crate::clock::now())?])?;
    state.commit().await?;
    wake(state);
    Ok(())
}

/// Tells the sender that a mail was queued (after the commit).
pub fn wake(state: &AppState) {
    state.mail_queued.notify_one();
}

/// Every queued mail, in id order. A record that does not decode is reported and skipped
/// (and stays, so it is seen again).
///
/// # Errors
/// Storage failures.
pub fn queued(state: &AppState) -> ApiResult<Vec<OutboxRecord>> {
    let mut records = Vec::new();
    for (key, value) in state.store.scan(RecordKind::Outbox, &[])? {
        match from_record::<OutboxRecord>(&value, "queued mail") {
            Ok(record) => records.push(record),
            Err(_) => tracing::error!(mail = %hex::encode(&key), "a queued mail does not decode"),
        }
    }
    Ok(records)
}

/// The number of queued mails and the age of the oldest in seconds, for `/metrics`.
pub fn backlog(state: &AppState, now: u64) -> (u64, u64) {
    match queued(state) {
        Ok(records) => {
            let oldest = records.iter().map(|r| r.queued_at).min();
            (
                records.len() as u64,
                oldest.map_or(0, |t| now.saturating_sub(t)),
            )
        }
        Err(_) => (0, 0),
    }
}
