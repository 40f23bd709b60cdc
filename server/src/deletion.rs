//! Deleting tickets (spec/API.md, "Deleting a ticket"; spec/THREAT-MODEL.md, "Deletion and
//! retention"): an administrator deletes a closed ticket with everything stored for it, and the
//! retention task deletes the tickets closed for longer than `retention_days`.

use std::sync::Weak;
use std::time::Duration;

use axum::http::StatusCode;
use sealdesk_crypto::AccessToken;

use crate::clock::now;
use crate::encoding::ticket_id;
use crate::error::{ApiError, ApiResult};
use crate::sessions::{require_administrator, require_session};
use crate::state::AppState;
use crate::storage::{
    AssigneeFilter, Order, Status, StatusFilter, StoreError, TicketListQuery, TicketRecord,
    TicketSet,
};

/// How often the retention task looks for expired tickets.
pub const RETENTION_INTERVAL: Duration = Duration::from_secs(3600);

/// `409 not_closed`: only a closed ticket is deleted.
fn not_closed() -> ApiError {
    ApiError::new(
        StatusCode::CONFLICT,
        "not_closed",
        "Only a closed ticket can be deleted: close it first.",
    )
}

/// Deletes the closed ticket `id` (32 hexadecimal characters) for the administrator whose
/// session `token` is, with everything stored for it ([`crate::storage::Store::delete_ticket`]).
///
/// # Errors
/// `401 unauthorized`; `403 not_an_administrator`; `404 not_found` (also for a malformed id);
/// `409 not_closed` (open, waiting or on hold); `409 conflict` when the ticket changed while
/// it was being deleted (nothing was deleted); storage failures.
pub async fn delete(state: &AppState, id: &str, token: Option<&AccessToken>) -> ApiResult<()> {
    let id = ticket_id(id)?;
    let session = require_session(state, token)?;
    let lock = state.ticket_lock(id);
    let _serialised = lock.lock().await;
    {
        let directory = state.directory.read().await;
        require_administrator(&session, directory.as_ref())?;
    }
    let record = state
        .store
        .ticket(&id)?
        .ok_or_else(|| ApiError::not_found("ticket"))?;
    if record.status != Status::Closed {
        return Err(not_closed());
    }
    remove(state, &record)?;
    state.commit().await
}

/// Deletes `record`'s ticket and logs how much went (no id: the log is not a record of tickets).
fn remove(state: &AppState, record: &TicketRecord) -> ApiResult<()> {
    let keys = state.store.delete_ticket(record)?;
    tracing::info!(
        keys,
        bytes = record.storage_bytes,
        "deleted a closed ticket"
    );
    Ok(())
}

/// The closed tickets whose last activity is more than `days` days before `at` (Unix
/// seconds), oldest first, at most `limit`: what the retention task deletes. Read from the
/// closed-ticket index in the order of last activity, so it stops at the cutoff.
///
/// # Errors
/// Storage failures.
pub fn expired(state: &AppState, days: u32, at: u64, limit: usize) -> ApiResult<Vec<TicketRecord>> {
    let cutoff = at.saturating_sub(u64::from(days) * 86_400);
    let page = state.store.list_tickets(&TicketListQuery {
        set: TicketSet::Inbox {
            status: StatusFilter::Closed,
            assignee: AssigneeFilter::Any,
        },
        order: Order::OldestFirst,
        after: None,
        skip: 0,
        limit,
    })?;
    Ok(page
        .tickets
        .into_iter()
        .take_while(|t| t.status == Status::Closed && t.last_activity < cutoff)
        .collect())
}

/// Tickets the retention task deletes per batch (each batch is read anew from the index).
const RETENTION_BATCH: usize = 200;

/// Deletes every ticket closed for more than `days` days (last activity before the cutoff),
/// each under its ticket lock and only if it is still the record that was listed. Returns how
/// many were deleted.
///
/// # Errors
/// Storage failures (tickets deleted before the failure stay deleted).
pub async fn delete_expired(state: &AppState, days: u32) -> ApiResult<usize> {
    let mut deleted = 0;
    loop {
        let batch = expired(state, days, now(), RETENTION_BATCH)?;
        let mut deleted_in_batch = 0;
        for record in &batch {
            let lock = state.ticket_lock(record.id);
            let _serialised = lock.lock().await;
            match state.store.delete_ticket(record) {
                Ok(keys) => {
                    deleted_in_batch += 1;
                    tracing::debug!(keys, "retention deleted a ticket");
                }
                // Written to since it was listed (reopened): it is no longer expired.
                Err(StoreError::Conflict(_)) => {}
                Err(error) => return Err(error.into()),
            }
        }
        deleted += deleted_in_batch;
        // A short batch was the last; a batch of only conflicts would be read again forever.
        if batch.len() < RETENTION_BATCH || deleted_in_batch == 0 {
            break;
        }
    }
    if deleted > 0 {
        state.commit().await?;
        tracing::info!(deleted, days, "retention deleted tickets closed for longer");
    }
    Ok(deleted)
}

/// Every [`RETENTION_INTERVAL`] (the first run at once), until the state is dropped: deletes
/// the tickets closed for more than `days` days. Started only when `retention_days` is set.
pub async fn retention(state: Weak<AppState>, days: u32) {
    let mut interval = tokio::time::interval(RETENTION_INTERVAL);
    interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        interval.tick().await;
        let Some(state) = state.upgrade() else {
            return;
        };
        if let Err(error) = delete_expired(&state, days).await {
            tracing::error!(code = %error.code, "retention failed; it runs again in an hour");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::Owner;

    fn ticket(n: u8, status: Status, last_activity: u64) -> TicketRecord {
        TicketRecord {
            id: [n; 16],
            reporter: vec![n; 64],
            endorsements: Vec::new(),
            kept_by: Vec::new(),
            owner: Owner::Account {
                account_id: "a".into(),
            },
            created_at: 0,
            last_activity,
            status,
            answered: false,
            assigned_to: None,
            email_lookup: None,
            chain_states: [Vec::new(), Vec::new()],
            storage_bytes: 0,
        }
    }

    #[test]
    fn only_tickets_closed_before_the_cutoff_expire() {
        use crate::state::Limits;
        use crate::storage::sled_store::SledStore;
        use crate::storage::{Store, StoredMessage};
        let day = 86_400;
        let now = 100 * day;
        let dir = tempfile::tempdir().unwrap();
        let store = std::sync::Arc::new(SledStore::open(&dir.path().join("db")).unwrap());
        for ticket in [
            ticket(1, Status::Closed, now - 31 * day),
            ticket(2, Status::Closed, now - 29 * day),
            ticket(3, Status::Open, now - 90 * day),
            ticket(4, Status::Waiting, now - 90 * day),
            ticket(5, Status::OnHold, now - 90 * day),
            ticket(6, Status::Closed, now - 30 * day),
            ticket(7, Status::Closed, now - 40 * day),
        ] {
            let first = StoredMessage {
                seq: 1,
                received_at: 0,
                bytes: vec![1],
            };
            store.create_ticket(&ticket, &first, &[]).unwrap();
        }
        let state = AppState::load(store, Limits::default(), dir.path().to_owned()).unwrap();
        let ids = |days, limit| -> Vec<u8> {
            expired(&state, days, now, limit)
                .unwrap()
                .iter()
                .map(|t| t.id[0])
                .collect()
        };
        assert_eq!(ids(30, 10), [7, 1], "oldest first, stopping at the cutoff");
        assert_eq!(ids(30, 1), [7], "at most the limit");
        assert!(ids(400, 10).is_empty());
    }
}
