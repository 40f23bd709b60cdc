//! The outbox's sender: a background task that sends each due mail, deletes it once the relay
//! took it, and otherwise tries again later with exponential backoff (10 s, 20 s, 40 s, ... up
//! to `mail_retry_max_seconds`) until `mail_give_up_seconds` after it was queued. A mail is
//! deleted in the same step that follows a successful hand-over, so a restart resends only a
//! mail whose hand-over was not recorded yet (the same `Message-ID` then lets the receiving
//! side recognise it). It also deletes the addresses of tickets that stayed closed for
//! `closed_address_retention_seconds`, and expired unsubscribe tokens.

use std::collections::BTreeMap;
use std::sync::{Arc, Weak};
use std::time::Duration;

use super::outbox::{self, OutboxRecord, Recipient};
use super::subscriptions;
use super::templates::{self, RenderContext};
use crate::clock::now;
use crate::encoding::to_record;
use crate::error::ApiResult;
use crate::services::mail::MailSettings;
use crate::settings;
use crate::state::AppState;
use crate::storage::{RecordKind, RecordWrite};

/// First wait after a failed try, in seconds; it doubles with each further failure.
const FIRST_RETRY_SECONDS: u64 = 10;
/// Longest sleep between two looks at the outbox, in seconds.
const MAX_IDLE_SECONDS: u64 = 30;
/// Seconds between two runs of the address and token expiry.
const EXPIRY_EVERY_SECONDS: u64 = 60;

/// The wait before try number `attempts + 1`, in seconds.
pub fn backoff_seconds(attempts: u32, max: u64) -> u64 {
    FIRST_RETRY_SECONDS
        .saturating_mul(1u64.checked_shl(attempts.min(40)).unwrap_or(u64::MAX))
        .min(max)
        .max(1)
}

/// Runs until the state is dropped (does nothing when mail is off).
pub async fn run(state: Weak<AppState>) {
    let mut last_expiry = 0u64;
    loop {
        let Some(strong) = state.upgrade() else {
            return;
        };
        let Some(settings) = strong.mail.clone() else {
            return;
        };
        let wake = Arc::clone(&strong.mail_queued);
        let time = now();
        if time.saturating_sub(last_expiry) >= EXPIRY_EVERY_SECONDS {
            last_expiry = time;
            if let Err(error) =
                subscriptions::expire(&strong, settings.closed_retention_seconds, time).await
            {
                tracing::error!(error = %error.message, "expiring mail addresses failed");
            }
        }
        let wait = match send_due(&strong, &settings).await {
            Ok(wait) => wait,
            Err(error) => {
                tracing::error!(error = %error.message, "the mail outbox cannot be read");
                MAX_IDLE_SECONDS
            }
        };
        drop(strong);
        tokio::select! {
            () = tokio::time::sleep(Duration::from_secs(wait)) => {}
            () = wake.notified() => {}
        }
    }
}

/// Sends every due mail; returns the seconds until the next one is due (at most
/// [`MAX_IDLE_SECONDS`]).
async fn send_due(state: &AppState, settings: &MailSettings) -> ApiResult<u64> {
    let mut next = MAX_IDLE_SECONDS;
    let mut digests: BTreeMap<[u8; 32], Vec<OutboxRecord>> = BTreeMap::new();
    for record in outbox::queued(state)? {
        let time = now();
        if record.digest
            && let Recipient::Administrator(key_id) = record.recipient
        {
            digests.entry(key_id).or_default().push(record);
            continue;
        }
        if record.next_attempt_at > time {
            next = next.min(record.next_attempt_at - time);
            continue;
        }
        send_one(state, settings, std::slice::from_ref(&record)).await?;
    }
    for (_, records) in digests {
        let time = now();
        let oldest = records.iter().map(|r| r.queued_at).min().unwrap_or(time);
        let due = oldest
            .saturating_add(settings.digest_interval_seconds)
            .max(records.iter().map(|r| r.next_attempt_at).max().unwrap_or(0));
        if due > time {
            next = next.min(due - time);
            continue;
        }
        send_one(state, settings, &records).await?;
    }
    Ok(next.max(1))
}

/// Sends `records` as one mail (one record, or a digest of several to the same
/// administrator) and records the outcome.
async fn send_one(
    state: &AppState,
    settings: &MailSettings,
    records: &[OutboxRecord],
) -> ApiResult<()> {
    let Some(first) = records.first() else {
        return Ok(());
    };
    let (id, kind) = (
        first.id_hex(),
        if records.len() > 1 {
            "admin_digest"
        } else {
            first.kind.name()
        },
    );
    let time = now();
    let remove: Vec<RecordWrite> = records
        .iter()
        .map(|r| RecordWrite::remove(RecordKind::Outbox, r.id.to_vec()))
        .collect();
    let Some(address) = subscriptions::address_of(state, &first.recipient)? else {
        state.store.write_records(&remove)?;
        state.commit().await?;
        tracing::info!(mail = %id, kind, "mail dropped: its recipient unsubscribed");
        return Ok(());
    };
    let public = settings::load(state)?;
    let (token, token_write) = subscriptions::issue_token(&first.recipient, time)?;
    // The link must work when the mail arrives: its token is durable before the mail leaves.
    state.store.write_records(&[token_write])?;
    state.commit().await?;
    let context = RenderContext {
        settings,
        to: &address,
        unsubscribe_token: &token,
        support_hours: &public.support_hours,
        response_time: &public.response_time,
    };
    let text = if records.len() > 1 || first.digest {
        templates::digest_text(records, &context)
    } else {
        templates::text(first, &context)
    };
    let outcome = match templates::message(&first.id, text, &context) {
        Ok(message) => settings
            .mailer
            .send(message)
            .await
            .map_err(|e| (e.permanent, e.reason)),
        Err(reason) => Err((true, reason)),
    };
    match outcome {
        Ok(()) => {
            state.store.write_records(&remove)?;
            state.commit().await?;
            state.metrics.mail_sent();
            tracing::info!(mail = %id, kind, "mail sent");
        }
        Err((permanent, reason)) => {
            let attempts = first.attempts.saturating_add(1);
            if permanent || time.saturating_sub(first.queued_at) >= settings.give_up_seconds {
                state.store.write_records(&remove)?;
                state.commit().await?;
                state.metrics.mail_failed();
                tracing::error!(mail = %id, kind, attempts, %reason, "mail given up");
            } else {
                let retry_at =
                    time.saturating_add(backoff_seconds(attempts, settings.retry_max_seconds));
                let mut writes = Vec::new();
                for record in records {
                    let mut record = record.clone();
                    record.attempts = attempts;
                    record.next_attempt_at = retry_at;
                    writes.push(RecordWrite::put(
                        RecordKind::Outbox,
                        record.id.to_vec(),
                        to_record(&record)?,
                    ));
                }
                state.store.write_records(&writes)?;
                state.commit().await?;
                tracing::warn!(mail = %id, kind, attempts, %reason, "mail not taken; will retry");
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_the_cap() {
        assert_eq!(backoff_seconds(0, 3600), 10);
        assert_eq!(backoff_seconds(1, 3600), 20);
        assert_eq!(backoff_seconds(3, 3600), 80);
        assert_eq!(backoff_seconds(20, 3600), 3600);
        assert_eq!(backoff_seconds(u32::MAX, 3600), 3600);
    }
}
