//! The HTTP API (spec/API.md): thin axum handlers around `sealdesk_crypto`'s verification and
//! the [`Store`](crate::storage::Store).

pub mod accounts;
pub mod attachments;
pub mod directory;
pub mod encoding;
pub mod error;
pub mod events;
pub mod extract;
pub mod invites;
pub mod limits;
pub mod metrics;
pub mod pow;
pub mod settings;
pub mod team;
pub mod tickets;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::get;
use sealdesk_crypto::Directory;
use tokio::sync::RwLock;

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
    /// Whether the first `X-Forwarded-For` address is the client address.
    pub trust_forwarded_for: bool,
    /// How long a sign-in session stays valid, in seconds.
    pub session_ttl_seconds: u64,
    /// How long an administrator invite stays valid, in seconds.
    pub invite_ttl_seconds: u64,
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
            trust_forwarded_for: false,
            session_ttl_seconds: 2_592_000,
            invite_ttl_seconds: 604_800,
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
    pub rate_limits: limits::RateLimits,
    /// Outstanding proof-of-work challenges.
    pub pow: pow::PowChallenges,
    /// Request and storage metrics for `/metrics`.
    pub metrics: metrics::Metrics,
    /// Live-update notifications.
    pub events: events::Events,
    /// The data directory (command-line invites live in `invites/` below it).
    pub data_dir: std::path::PathBuf,
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
            rate_limits: limits::RateLimits::new(&limits),
            pow: pow::PowChallenges::new(limits.proof_of_work_bits),
            metrics: metrics::Metrics::default(),
            events: events::Events::default(),
            limits,
            data_dir,
        })
    }

    /// The lock that serialises writes to one ticket.
    pub fn ticket_lock(&self, id: [u8; 16]) -> Arc<tokio::sync::Mutex<()>> {
        let mut locks = self
            .ticket_locks
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        locks.entry(id).or_default().clone()
    }

    /// Makes the writes so far durable before answering (group commit).
    pub async fn commit(&self) -> Result<(), error::ApiError> {
        self.store.commit().await.map_err(|e: StoreError| e.into())
    }
}

/// Current time in Unix seconds.
pub fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// The API router (mounted at the root; API routes live under `/api/v1`).
pub fn router(state: Arc<AppState>) -> Router {
    let limits = state.limits.clone();
    Router::new()
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics::render))
        .route("/api/v1/pow/challenge", get(pow::challenge))
        .route(
            "/api/v1/settings",
            get(settings::read).put(settings::replace),
        )
        .route(
            "/api/v1/directory",
            get(directory::read).post(directory::append),
        )
        .route(
            "/api/v1/invites/redeem-genesis",
            axum::routing::post(invites::redeem_genesis),
        )
        // Open to anyone: the smaller anonymous body limit.
        .route(
            "/api/v1/tickets",
            axum::routing::post(tickets::create)
                .layer(DefaultBodyLimit::max(limits.max_anonymous_body_bytes)),
        )
        .route(
            "/api/v1/tickets/{id}/messages",
            get(tickets::read_messages).post(tickets::post_message),
        )
        .route(
            "/api/v1/tickets/{id}/wraps",
            get(tickets::read_wraps).post(team::add_wraps),
        )
        .route(
            "/api/v1/tickets/{id}/assignment",
            axum::routing::put(team::assign),
        )
        .route(
            "/api/v1/admin/invites",
            axum::routing::post(team::create_invite),
        )
        .route(
            "/api/v1/admin/invites/redeem",
            axum::routing::post(team::redeem_invite),
        )
        .route("/api/v1/admin/pending", get(team::list_pending))
        .route(
            "/api/v1/admin/pending/{key_id}",
            axum::routing::delete(team::decline_pending),
        )
        .route("/api/v1/tickets/{id}/events", get(events::ticket_events))
        .route("/api/v1/inbox/events", get(events::inbox_events))
        .route("/api/v1/tickets/{id}", get(tickets::read_ticket))
        // Attachments: chunks are raw bytes with their own body limit.
        .route(
            "/api/v1/tickets/{id}/attachments",
            axum::routing::post(attachments::declare),
        )
        .route(
            "/api/v1/tickets/{id}/attachments/{aid}",
            get(attachments::download),
        )
        .route(
            "/api/v1/tickets/{id}/attachments/{aid}/chunks/{index}",
            axum::routing::put(attachments::put_chunk)
                .layer(DefaultBodyLimit::max(attachments::CHUNK_BODY_LIMIT)),
        )
        .route(
            "/api/v1/tickets/{id}/attachments/{aid}/complete",
            axum::routing::post(attachments::complete),
        )
        // Accounts: the routes open to anyone get the smaller anonymous body limit.
        .route(
            "/api/v1/accounts/prelogin",
            axum::routing::post(accounts::prelogin)
                .layer(DefaultBodyLimit::max(limits.max_anonymous_body_bytes)),
        )
        .route(
            "/api/v1/accounts/register",
            axum::routing::post(accounts::register)
                .layer(DefaultBodyLimit::max(limits.max_anonymous_body_bytes)),
        )
        .route(
            "/api/v1/accounts/login",
            axum::routing::post(accounts::login)
                .layer(DefaultBodyLimit::max(limits.max_anonymous_body_bytes)),
        )
        .route(
            "/api/v1/accounts/logout",
            axum::routing::post(accounts::logout),
        )
        .route(
            "/api/v1/accounts/keyring",
            axum::routing::put(accounts::replace_keyring),
        )
        .route("/api/v1/accounts/tickets", get(accounts::list_tickets))
        .route(
            "/api/v1/tickets/account",
            axum::routing::post(accounts::create_ticket),
        )
        .route("/api/v1/inbox", get(accounts::inbox))
        .layer(DefaultBodyLimit::max(limits.max_body_bytes))
        .with_state(state)
}

/// `GET /healthz`: the process is up and its storage answers.
async fn healthz(
    axum::extract::State(state): axum::extract::State<Arc<AppState>>,
) -> Result<&'static str, error::ApiError> {
    state.store.size_on_disk()?;
    Ok("ok\n")
}
