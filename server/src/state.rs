//! The state every request shares ([`AppState`]): the store, the verified directory, the
//! configured [`Limits`] and the shared services. Built once by `sealdesk serve`.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex, Weak};

use sealdesk_crypto::Directory;
use tokio::sync::RwLock;

use crate::clock::now;
use crate::error::ApiError;
use crate::services::embed_origins::EmbedOrigins;
use crate::services::events::Events;
use crate::services::holds::Holds;
use crate::services::mail::MailSettings;
use crate::services::metrics::Metrics;
use crate::services::pow::PowChallenges;
use crate::services::rate_limits::{
    HOUSEKEEPING_INTERVAL, RateLimits, RateQuotas, RouteQuotas, TrustedProxies,
};
use crate::storage::{Store, StoreError};

/// Limits the handlers enforce (from the configuration).
#[derive(Clone, Debug)]
pub struct Limits {
    /// Largest request body in bytes on authenticated routes.
    pub max_body_bytes: usize,
    /// Largest request body in bytes on anonymous routes (ticket creation).
    pub max_anonymous_body_bytes: usize,
    /// Largest ciphertext stored per ticket, in bytes.
    pub ticket_quota_bytes: u64,
    /// Anonymous tickets one client address may create per hour.
    pub anonymous_tickets_per_hour: u32,
    /// Messages one access token or sender key may post per minute.
    pub posts_per_minute: u32,
    /// Largest attachment, in encrypted bytes.
    pub max_attachment_bytes: u64,
    /// Attachment declarations and chunks one access token or session may send per minute.
    pub uploads_per_minute: u32,
    /// Leading zero bits of the proof of work for anonymous tickets (0: off).
    pub proof_of_work_bits: u32,
    /// The reverse proxies whose `X-Forwarded-For` is believed.
    pub trusted_proxies: TrustedProxies,
    /// How long a sign-in session stays valid, in seconds.
    pub session_ttl_seconds: u64,
    /// How long an administrator invite stays valid, in seconds.
    pub invite_ttl_seconds: u64,
    /// Most message bytes (decoded, before base64url) in one page of `GET …/messages`.
    pub max_page_bytes: usize,
    /// Most `GET …/messages` answers one bearer token may have in progress at once (0: no cap).
    pub max_reads_per_token: usize,
    /// Most event streams one bearer token (access token or session) may hold open (0: no cap).
    pub max_event_streams_per_token: usize,
    /// Most event streams one client address may hold open (0: no cap).
    pub max_event_streams_per_address: usize,
    /// The per-address and per-username limits of issue 12 (rate limits, login backoff).
    pub route_quotas: RouteQuotas,
    /// Most open tickets per account (0: no limit).
    pub max_open_tickets_per_account: usize,
    /// Whether account ticket creation needs the proof of work too.
    pub proof_of_work_for_account_tickets: bool,
    /// The instance-wide storage budget in bytes (0: none).
    pub max_data_bytes: u64,
    /// Seconds an attachment upload may stay incomplete before it is removed.
    pub upload_expiry_seconds: u64,
    /// Seconds between two checks of an open event stream's credential.
    pub event_stream_recheck_seconds: u64,
    /// Seconds after which an event stream is ended (the client reconnects).
    pub event_stream_max_seconds: u64,
    /// The weakest Argon2id parameters accepted at registration and password change.
    pub argon2_floor: sealdesk_crypto::Argon2Params,
    /// How long a mailed recovery token stays valid, in seconds.
    pub recovery_ttl_seconds: u64,
    /// Recovery requests one client address, and one email address, may make per hour.
    pub recovery_requests_per_hour: u32,
    /// The host origins allowed to frame the support tab (published in the settings).
    pub embed_origins: EmbedOrigins,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_body_bytes: 1 << 20,
            max_anonymous_body_bytes: 256 << 10,
            ticket_quota_bytes: 100 << 20,
            anonymous_tickets_per_hour: 10,
            posts_per_minute: 60,
            max_attachment_bytes: 25 << 20,
            uploads_per_minute: 120,
            proof_of_work_bits: 0,
            trusted_proxies: TrustedProxies::default(),
            session_ttl_seconds: 2_592_000,
            invite_ttl_seconds: 604_800,
            max_page_bytes: 4 << 20,
            max_reads_per_token: 4,
            max_event_streams_per_token: 16,
            max_event_streams_per_address: 64,
            route_quotas: RouteQuotas::default(),
            max_open_tickets_per_account: 20,
            proof_of_work_for_account_tickets: false,
            max_data_bytes: 0,
            upload_expiry_seconds: 3600,
            event_stream_recheck_seconds: 30,
            event_stream_max_seconds: 3600,
            argon2_floor: sealdesk_crypto::Argon2Params::DEFAULT,
            recovery_ttl_seconds: 3600,
            recovery_requests_per_hour: 5,
            embed_origins: EmbedOrigins::default(),
        }
    }
}

/// State shared by every handler.
pub struct AppState {
    /// The storage backend.
    pub store: Arc<dyn Store>,
    /// The verified directory log; `None` until the genesis entry exists.
    pub directory: RwLock<Option<Directory>>,
    /// One lock per ticket, so that posts to one ticket are verified against its latest state
    /// one at a time (the store's conflict check is the second line of defence).
    ticket_locks: Mutex<HashMap<[u8; 16], Arc<tokio::sync::Mutex<()>>>>,
    /// Configured limits.
    pub limits: Limits,
    /// Rate limiters (in memory only).
    pub rate_limits: RateLimits,
    /// Outstanding proof-of-work challenges.
    pub pow: PowChallenges,
    /// Request and storage metrics for `/metrics`.
    pub metrics: Metrics,
    /// Live-update notifications.
    pub events: Events,
    /// Open event streams per bearer token (access token or session).
    pub streams_by_token: Arc<Holds<[u8; 32]>>,
    /// Open event streams per client address.
    pub streams_by_address: Arc<Holds<IpAddr>>,
    /// Message reads in progress per bearer token (until their answer is sent).
    pub reads_by_token: Arc<Holds<[u8; 32]>>,
    /// Account ticket creations in progress per account id (one at a time, so that the
    /// open-ticket cap is counted exactly).
    pub creations_by_account: Arc<Holds<String>>,
    /// The data directory (command-line invites live in `invites/` below it).
    pub data_dir: std::path::PathBuf,
    /// The mail settings; `None` when mail is off (no `smtp_url`).
    pub mail: Option<MailSettings>,
    /// Woken when a mail is queued, so the outbox's sender looks at once.
    pub mail_queued: Arc<tokio::sync::Notify>,
}

impl AppState {
    /// Loads and verifies the stored directory log.
    ///
    /// # Errors
    /// A message for the operator if the stored log does not verify (the data directory was
    /// altered) or storage fails.
    pub fn load(
        store: Arc<dyn Store>,
        limits: Limits,
        data_dir: std::path::PathBuf,
    ) -> Result<Self, String> {
        let entries = store.directory(0).map_err(|e| e.to_string())?;
        let directory = if entries.is_empty() {
            None
        } else {
            Some(Directory::verify_encoded(&entries).map_err(|e| {
                format!(
                    "the stored administrator directory does not verify ({e}); restore a backup"
                )
            })?)
        };
        Ok(AppState {
            store,
            directory: RwLock::new(directory),
            ticket_locks: Mutex::new(HashMap::new()),
            rate_limits: RateLimits::new(&RateQuotas {
                anonymous_tickets_per_hour: limits.anonymous_tickets_per_hour,
                posts_per_minute: limits.posts_per_minute,
                uploads_per_minute: limits.uploads_per_minute,
                routes: limits.route_quotas,
                recovery_requests_per_hour: limits.recovery_requests_per_hour,
            }),
            pow: PowChallenges::new(limits.proof_of_work_bits),
            metrics: Metrics::new(now()),
            streams_by_token: Arc::default(),
            streams_by_address: Arc::default(),
            reads_by_token: Arc::default(),
            creations_by_account: Arc::default(),
            events: Events::default(),
            limits,
            data_dir,
            mail: None,
            mail_queued: Arc::default(),
        })
    }

    /// The lock that serialises writes to one ticket. Call it only for a ticket that exists
    /// (look the ticket up first), so that requests naming random ids add nothing. Locks no
    /// request holds any more are dropped from the map at each call, so the map holds only
    /// the tickets being written now.
    pub fn ticket_lock(&self, id: [u8; 16]) -> Arc<tokio::sync::Mutex<()>> {
        let mut locks = self
            .ticket_locks
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        // Held only by the map: no request is using it.
        locks.retain(|_, lock| Arc::strong_count(lock) > 1);
        locks.entry(id).or_default().clone()
    }

    /// Ticket locks in the map now (those handed out and not yet dropped, and the last one).
    pub fn ticket_locks_held(&self) -> usize {
        self.ticket_locks
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .len()
    }

    /// Refuses new data (tickets, uploads) once the database holds `max_data_bytes`
    /// (spec/API.md, "Storage budget"); messages to existing tickets are not checked, so
    /// conversations keep working.
    ///
    /// # Errors
    /// `507 storage_full`; storage failures.
    pub fn check_storage_budget(&self) -> Result<(), ApiError> {
        let budget = self.limits.max_data_bytes;
        if budget == 0 {
            return Ok(());
        }
        let used = self.store.size_on_disk()?;
        if used < budget {
            return Ok(());
        }
        tracing::warn!(
            used,
            budget,
            "storage budget reached: new tickets and uploads refused"
        );
        Err(ApiError::new(
            axum::http::StatusCode::INSUFFICIENT_STORAGE,
            "storage_full",
            "This instance has reached its storage budget and accepts no new tickets or \
             uploads; existing conversations keep working. Try again later.",
        ))
    }

    /// Makes the writes so far durable before answering (group commit).
    ///
    /// # Errors
    /// Storage failures.
    pub async fn commit(&self) -> Result<(), ApiError> {
        self.store.commit().await.map_err(|e: StoreError| e.into())
    }
}

/// Every [`HOUSEKEEPING_INTERVAL`], until the state is dropped: drops the rate-limit keys
/// whose allowance has fully replenished and the expired proof-of-work challenges.
pub async fn housekeeping(state: Weak<AppState>) {
    let mut interval = tokio::time::interval(HOUSEKEEPING_INTERVAL);
    interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        interval.tick().await;
        let Some(state) = state.upgrade() else {
            return;
        };
        state.rate_limits.housekeeping();
        state.pow.purge(now());
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use super::*;
    use crate::storage::sled_store::SledStore;

    #[test]
    fn ticket_locks_are_pruned_once_released() {
        let dir = tempfile::tempdir().unwrap();
        let store = Arc::new(SledStore::open(&dir.path().join("db")).unwrap());
        let state = AppState::load(store, Limits::default(), dir.path().to_owned()).unwrap();
        for n in 0..100u8 {
            drop(state.ticket_lock([n; 16]));
        }
        assert!(
            state.ticket_locks_held() <= 1,
            "{}",
            state.ticket_locks_held()
        );
        let held = state.ticket_lock([1; 16]);
        let again = state.ticket_lock([1; 16]);
        assert!(Arc::ptr_eq(&held, &again), "one lock per ticket while held");
        drop(state.ticket_lock([2; 16]));
        drop(state.ticket_lock([3; 16]));
        assert_eq!(
            state.ticket_locks_held(),
            2,
            "the held one and the last one"
        );
    }
}
