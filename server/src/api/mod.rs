//! The HTTP layer (spec/API.md): the router and one thin handler file per area. A handler
//! extracts the request (path, query, body, bearer token, client address), calls the domain
//! module that owns the area (`crate::sessions`, `crate::tickets`, `crate::team`, ...) and
//! shapes the answer; the request and answer bodies live here (server/README.md, "Layering").

pub mod accounts;
pub mod attachments;
pub mod connections;
pub mod directory;
pub mod events;
pub mod extract;
pub mod inbox;
pub mod invites;
pub mod mail;
pub mod metrics;
pub mod openapi;
pub mod pow;
pub mod recovery;
pub mod settings;
pub mod snippets;
pub mod team;
pub mod tickets;

use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::get;

use crate::error::ApiError;
use crate::state::AppState;

/// The API router (mounted at the root; API routes live under `/api/v1`).
pub fn router(state: Arc<AppState>) -> Router {
    let limits = state.limits.clone();
    Router::new()
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics::render))
        .route(openapi::PATH, get(openapi::serve))
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
        .route(
            "/api/v1/tickets/{id}",
            get(tickets::read_ticket).delete(tickets::delete_ticket),
        )
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
                .layer(DefaultBodyLimit::max(crate::attachments::CHUNK_BODY_LIMIT)),
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
            "/api/v1/accounts/logout-everywhere",
            axum::routing::post(accounts::logout_everywhere),
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
        .route("/api/v1/inbox", get(inbox::inbox))
        // Mail: unsubscribe links (anyone with the token), preferences (sessions).
        .route(
            "/api/v1/unsubscribe/{token}",
            axum::routing::post(mail::unsubscribe)
                .layer(DefaultBodyLimit::max(limits.max_anonymous_body_bytes)),
        )
        .route(
            "/api/v1/admin/mail",
            get(mail::read_preferences).put(mail::replace_preferences),
        )
        .route(
            "/api/v1/accounts/notifications",
            get(mail::read_account_notifications).put(mail::replace_account_notifications),
        )
        // Recovery ("resend access link", spec/API.md "Recovery"): the routes open to anyone
        // get the smaller anonymous body limit.
        .route(
            "/api/v1/recovery/request",
            axum::routing::post(recovery::request)
                .layer(DefaultBodyLimit::max(limits.max_anonymous_body_bytes)),
        )
        .route(
            "/api/v1/recovery/claim",
            axum::routing::post(recovery::claim)
                .layer(DefaultBodyLimit::max(limits.max_anonymous_body_bytes)),
        )
        .route("/api/v1/recovery/status", get(recovery::status))
        .route("/api/v1/admin/recoveries", get(recovery::list))
        .route(
            "/api/v1/admin/recoveries/{id}/{key_id}",
            axum::routing::delete(recovery::decline),
        )
        .route(
            "/api/v1/admin/recoveries/{id}/{key_id}/approve",
            axum::routing::post(recovery::approve),
        )
        // The team key and snippets (canned replies, spec/API.md "Team key and snippets").
        .route(
            "/api/v1/admin/team-keys",
            get(snippets::team_keys).post(snippets::add_team_wraps),
        )
        .route("/api/v1/admin/snippets", get(snippets::list))
        .route(
            "/api/v1/admin/snippets/{id}",
            axum::routing::put(snippets::put).delete(snippets::delete),
        )
        // Every route above counts against the client address's requests per minute: keep this
        // layer below the last route (a route added after it would not be counted).
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            extract::limit_requests,
        ))
        .layer(DefaultBodyLimit::max(limits.max_body_bytes))
        .with_state(state)
}

/// `GET /healthz`: the process is up and its storage answers.
async fn healthz(
    axum::extract::State(state): axum::extract::State<Arc<AppState>>,
) -> Result<&'static str, ApiError> {
    state.store.size_on_disk()?;
    Ok("ok\n")
}
