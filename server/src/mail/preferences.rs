//! Administrators' mail preferences ([`RecordKind::MailPreference`], by key id): an address
//! and which events to mail, at once or as a digest. Mails to administrators carry only
//! references and links into the panel.

use serde::{Deserialize, Serialize};

use super::outbox::{self, MailKind, OutgoingMail, Recipient};
use crate::encoding::{from_record, to_record};
use crate::error::ApiResult;
use crate::state::AppState;
use crate::storage::{RecordKind, RecordWrite};

/// One administrator's choices.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Preferences {
    /// Where the mails go.
    pub address: String,
    /// Mail a new ticket.
    pub new_tickets: bool,
    /// Mail a reporter's answer.
    pub reporter_replies: bool,
    /// Mail a ticket assigned to this administrator.
    pub assigned: bool,
    /// Mail a recovery waiting for approval.
    pub recoveries: bool,
    /// Gather the mails into one digest every `mail_digest_interval_seconds` instead of
    /// mailing each event at once.
    pub digest: bool,
}

/// The preferences of the administrator with `key_id`, if they set any.
///
/// # Errors
/// Storage failures, a record that does not decode.
pub fn load(state: &AppState, key_id: &[u8; 32]) -> ApiResult<Option<Preferences>> {
    match state.store.get(RecordKind::MailPreference, key_id)? {
        Some(bytes) => Ok(Some(from_record(&bytes, "mail preferences")?)),
        None => Ok(None),
    }
}

/// Stores (or, with `None`, deletes) the preferences of the administrator with `key_id`.
///
/// # Errors
/// Storage failures.
pub async fn store(
    state: &AppState,
    key_id: &[u8; 32],
    preferences: Option<&Preferences>,
) -> ApiResult<()> {
    let write = match preferences {
        Some(p) => RecordWrite::put(RecordKind::MailPreference, key_id.to_vec(), to_record(p)?),
        None => RecordWrite::remove(RecordKind::MailPreference, key_id.to_vec()),
    };
    state.store.write_records(&[write])?;
    state.commit().await
}

/// The writes that queue `kind` about `ticket` for every administrator whose preferences
/// choose it (`wants`), or only for `only` when given (an assignment); to add to the event's
/// own write. Empty when mail is off.
///
/// # Errors
/// Storage failures.
pub fn admin_mail_writes(
    state: &AppState,
    kind: MailKind,
    ticket: Option<[u8; 16]>,
    only: Option<&[u8; 32]>,
    now: u64,
) -> ApiResult<Vec<RecordWrite>> {
    if state.mail.is_none() {
        return Ok(Vec::new());
    }
    let mut writes = Vec::new();
    for (key, value) in state.store.scan(RecordKind::MailPreference, &[])? {
        let Ok(key_id) = <[u8; 32]>::try_from(key.as_slice()) else {
            continue;
        };
        if only.is_some_and(|only| *only != key_id) {
            continue;
        }
        let Ok(preferences) = from_record::<Preferences>(&value, "mail preferences") else {
            tracing::error!("an administrator's mail preferences do not decode");
            continue;
        };
        let wanted = match kind {
            MailKind::AdminNewTicket => preferences.new_tickets,
            MailKind::AdminReporterReply => preferences.reporter_replies,
            MailKind::AdminAssigned => preferences.assigned,
            MailKind::AdminPendingRecovery => preferences.recoveries,
            MailKind::Confirmation | MailKind::ReplyNotification | MailKind::RecoveryLink => false,
        };
        if wanted {
            writes.push(outbox::queue_write(
                OutgoingMail {
                    kind,
                    recipient: Recipient::Administrator(key_id),
                    ticket,
                    link_fragment: None,
                    digest: preferences.digest,
                },
                now,
            )?);
        }
    }
    Ok(writes)
}

/// Queues the "a recovery waits for approval" mail for ticket `ticket` to every administrator
/// who chose it (the recovery module calls this after storing the pending claim; with the
/// claim's own write, prefer [`admin_mail_writes`] with [`MailKind::AdminPendingRecovery`]).
///
/// # Errors
/// Storage failures.
pub async fn queue_pending_recovery(state: &AppState, ticket: [u8; 16]) -> ApiResult<()> {
    let writes = admin_mail_writes(
        state,
        MailKind::AdminPendingRecovery,
        Some(ticket),
        None,
        crate::clock::now(),
    )?;
    if writes.is_empty() {
        return Ok(());
    }
    state.store.write_records(&writes)?;
    state.commit().await?;
    outbox::wake(state);
    Ok(())
}
