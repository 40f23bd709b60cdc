//! Shared services, held by the [`AppState`](crate::state::AppState) and used by the domain
//! modules and the HTTP layer alike. They know nothing of the state, the domain or HTTP
//! routes (server/README.md, "Layering").

pub mod embed_origins;
pub mod events;
pub mod holds;
pub mod mail;
pub mod metrics;
pub mod pow;
pub mod rate_limits;
