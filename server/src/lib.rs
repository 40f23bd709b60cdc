//! # sealdesk-server
//!
//! The server of the `sealdesk` binary (the binary itself is `sealdesk-cli`'s, which adds the
//! command-line client's subcommands to the server's own in [`cli`]). The server stores only ciphertext and the metadata listed
//! in `spec/THREAT-MODEL.md`, and verifies every signed structure before storing it.
//!
//! Layers (server/README.md, "Layering"), each importing only its own layer and those below:
//! the HTTP layer [`api`]; the domain modules ([`sessions`], [`instance_secret`], [`tickets`],
//! [`team`], [`inbox`], [`directory`], [`invites`], [`settings`], [`attachments`]); the shared
//! [`state`]; the shared [`services`]; the foundation ([`error`], [`encoding`], [`clock`], [`random`],
//! [`storage`] behind a trait, with the sled backend). `server/tests/layout.rs` checks it.

#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod api;
pub mod attachments;
pub mod backup;
pub mod check;
pub mod cli;
pub mod clock;
pub mod config;
pub mod deletion;
pub mod directory;
pub mod encoding;
pub mod error;
pub mod inbox;
pub mod instance_secret;
pub mod invites;
pub mod logging;
pub mod mail;
pub mod pages;
pub mod random;
pub mod recovery;
pub mod services;
pub mod sessions;
pub mod settings;
pub mod snippets;
pub mod state;
pub mod storage;
pub mod team;
pub mod tickets;
pub mod web;

use std::sync::Arc;
use std::time::Duration;

use axum::http::{HeaderName, HeaderValue, header};
use tower_http::set_header::SetResponseHeaderLayer;

use crate::api::connections::ConnectionLimits;
use crate::config::{Config, EmbedOrigins};
use crate::services::rate_limits::RouteQuotas;
use crate::state::{AppState, Limits};
use crate::storage::sled_store::{OnLostWrites, SledStore};

/// The Content-Security-Policy of every response: nothing from other origins, no inline
/// script, WebAssembly allowed (`'wasm-unsafe-eval'`), no framing, and no native form
/// submission (`form-action 'none'`): the pages encrypt what is typed and send it themselves,
/// so a form submitted by the browser (JavaScript off, the module not loaded) would carry
/// plaintext and is refused. The pages' Web Workers (web/js/worker/: Argon2id and the proof of
/// work) fall under `script-src 'self'` (no `worker-src`, which would default to it), and each
/// worker's script is served with this policy too.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; \
     style-src 'self'; img-src 'self' blob: data:; connect-src 'self'; object-src 'none'; \
     base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/// The Content-Security-Policy of the support tab's page when `embed_origins` lists host
/// origins: the policy of every response with `frame-ancestors` listing exactly them (CSP
/// Level 3 §6.4.2), `'none'` when there is none.
pub fn support_tab_policy(embed_origins: &EmbedOrigins) -> String {
    CONTENT_SECURITY_POLICY.replace(
        "frame-ancestors 'none'",
        &format!("frame-ancestors {}", embed_origins.frame_ancestors()),
    )
}

/// Runs `sealdesk serve`: opens the data directory, prints the first-administrator invite if
/// there is no administrator yet, serves the API and the web folder until SIGINT or SIGTERM,
/// then flushes the database.
///
/// # Errors
/// A sentence for the operator (cannot open the data directory, bind the address, ...).
pub fn serve(config: Config, options: cli::ServeOptions) -> Result<(), String> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the async runtime: {e}"))?;
    runtime.block_on(serve_async(config, options))
}

/// Narrows the data directory to 0700 and its files to 0600; returns how many were wider.
fn restrict_data_dir(data_dir: &std::path::Path) -> Result<usize, String> {
    storage::permissions::restrict(data_dir)
        .map(|wider| wider.len())
        .map_err(|e| {
            format!(
                "cannot set owner-only permissions on {}: {e}",
                data_dir.display()
            )
        })
}

/// Raises the soft limit of open files to the hard limit, so the connection caps, not the
/// descriptor table, decide how many clients are served; logs the figure.
fn raise_open_files_limit() {
    match rlimit::increase_nofile_limit(u64::MAX) {
        Ok(limit) => tracing::info!(open_files = limit, "open files limit"),
        Err(error) => tracing::warn!(%error, "cannot raise the open files limit"),
    }
}

async fn serve_async(config: Config, options: cli::ServeOptions) -> Result<(), String> {
    raise_open_files_limit();
    storage::permissions::create_private_dir(&config.data_dir)
        .map_err(|e| format!("cannot create {}: {e}", config.data_dir.display()))?;
    let wider = restrict_data_dir(&config.data_dir)?;
    let on_lost_writes = if options.accept_data_loss {
        OnLostWrites::Accept
    } else {
        OnLostWrites::Refuse
    };
    let store = Arc::new(
        SledStore::open_with_cache(&config.data_dir, on_lost_writes, config.storage_cache_bytes)
            .map_err(|e| {
                format!(
                    "cannot open the database in {}: {e}",
                    config.data_dir.display()
                )
            })?,
    );
    // sled creates its files with the umask's mode: narrow them too.
    restrict_data_dir(&config.data_dir)?;
    if wider > 0 {
        tracing::warn!(
            data_dir = %config.data_dir.display(),
            wider,
            "the data directory or its files were readable by other users: set to 0700 and \
             0600 (they hold the instance secret, authentication hashes and sealed keyrings)"
        );
    }
    let limits = Limits {
        max_body_bytes: usize::try_from(config.max_body_bytes).unwrap_or(usize::MAX),
        max_anonymous_body_bytes: usize::try_from(config.max_anonymous_body_bytes)
            .unwrap_or(usize::MAX),
        ticket_quota_bytes: config.ticket_quota_bytes,
        anonymous_tickets_per_hour: config.anonymous_tickets_per_hour,
        posts_per_minute: config.posts_per_minute,
        max_attachment_bytes: config.max_attachment_bytes,
        uploads_per_minute: config.uploads_per_minute,
        proof_of_work_bits: config.proof_of_work_bits,
        trusted_proxies: config.trusted_proxies.clone(),
        session_ttl_seconds: config.session_ttl_seconds,
        invite_ttl_seconds: config.invite_ttl_seconds,
        max_page_bytes: usize::try_from(config.max_page_bytes).unwrap_or(usize::MAX),
        max_reads_per_token: usize::try_from(config.max_reads_per_token).unwrap_or(usize::MAX),
        max_event_streams_per_token: usize::try_from(config.max_event_streams_per_token)
            .unwrap_or(usize::MAX),
        max_event_streams_per_address: usize::try_from(config.max_event_streams_per_address)
            .unwrap_or(usize::MAX),
        route_quotas: RouteQuotas {
            requests_per_minute_per_address: config.requests_per_minute_per_address,
            sign_ins_per_minute_per_address: config.sign_ins_per_minute_per_address,
            registrations_per_hour_per_address: config.registrations_per_hour_per_address,
            account_tickets_per_hour_per_address: config.account_tickets_per_hour_per_address,
            failed_logins_before_backoff: config.failed_logins_before_backoff,
            login_backoff_max_seconds: config.login_backoff_max_seconds,
        },
        max_open_tickets_per_account: usize::try_from(config.max_open_tickets_per_account)
            .unwrap_or(usize::MAX),
        proof_of_work_for_account_tickets: config.proof_of_work_for_account_tickets,
        max_data_bytes: config.max_data_bytes,
        upload_expiry_seconds: config.upload_expiry_seconds,
        event_stream_recheck_seconds: config.event_stream_recheck_seconds,
        event_stream_max_seconds: config.event_stream_max_seconds,
        argon2_floor: sealdesk_crypto::Argon2Params {
            memory_kib: config.argon2_min_memory_kib,
            iterations: config.argon2_min_iterations,
            parallelism: config.argon2_min_parallelism,
        },
        recovery_ttl_seconds: config.recovery_ttl_seconds,
        recovery_requests_per_hour: config.recovery_requests_per_hour,
        embed_origins: config.embed_origins.clone(),
    };
    let mut state = AppState::load(store.clone(), limits, config.data_dir.clone())?;
    state.mail = config.mail_settings()?;
    let state = Arc::new(state);

    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .map_err(|e| format!("cannot listen on {}: {e}", config.listen))?;
    let address = listener.local_addr().map_err(|e| e.to_string())?;
    let base_url = config.public_url.as_deref().map_or_else(
        || format!("http://{address}"),
        |url| url.trim_end_matches('/').to_owned(),
    );
    // Tests and scripts read this line to find the port.
    println!("sealdesk listening on http://{address}");
    if let Some(directory) = state.directory.read().await.as_ref() {
        // What the operator publishes so people can check the directory (PROTOCOL.md §7.6).
        println!("Instance fingerprint: {}", directory.instance_fingerprint());
        invites::remove_first_invite(&config.data_dir);
    } else {
        // One outstanding first invite at most: this one replaces the previous start's.
        let link = invites::create_first_invite(
            &config.data_dir,
            config.first_invite_ttl_seconds,
            |token| format!("{base_url}{}#{token}", cli::INVITE_PATH),
        )
        .map_err(|e| format!("cannot create the first invite: {e}"))?;
        // Two lines, the link alone on the second: scripts and tests read it there.
        println!(
            "No administrator yet. Open this one-time link to become the first administrator \
             (valid for {} seconds, replaced at each start, also in {}):\n  {link}",
            config.first_invite_ttl_seconds,
            config.data_dir.join(invites::FIRST_INVITE_FILE).display(),
        );
    }
    tracing::info!(%address, "listening");
    // Forgets rate-limit keys and proof-of-work challenges that are no longer needed.
    tokio::spawn(state::housekeeping(Arc::downgrade(&state)));
    tokio::spawn(attachments::expire_uploads_periodically(Arc::downgrade(
        &state,
    )));
    if let Some(mail) = &state.mail {
        tracing::info!(relay = %mail.mailer.endpoint().describe(), "mail is on");
        // Sends the outbox, retrying with backoff; survives nothing but its state.
        tokio::spawn(mail::sender::run(Arc::downgrade(&state)));
    }
    // Deletes the tickets closed for longer than `retention_days` (off when 0).
    if config.retention_days > 0 {
        tokio::spawn(deletion::retention(
            Arc::downgrade(&state),
            config.retention_days,
        ));
    }

    let connection_limits = ConnectionLimits {
        header_read_timeout: Duration::from_secs(config.header_read_timeout_seconds),
        idle_timeout: Duration::from_secs(config.idle_timeout_seconds),
        max_connections: usize::try_from(config.max_connections).unwrap_or(usize::MAX),
        max_connections_per_address: usize::try_from(config.max_connections_per_address)
            .unwrap_or(usize::MAX),
    };
    let router = app(state.clone(), &config);
    api::connections::serve(listener, router, connection_limits, async move {
        shutdown_signal().await;
        // End the live-update streams, which would otherwise keep connections open forever.
        state.events.close();
    })
    .await;
    store
        .flush_now()
        .map_err(|e| format!("cannot flush the database: {e}"))?;
    tracing::info!("stopped; database flushed");
    Ok(())
}

/// The whole application: API routes, the web front end (embedded, or the web folder if
/// present) and the security headers.
pub fn app(state: Arc<AppState>, config: &Config) -> axum::Router {
    let mut router = api::router(state.clone());
    // The web folder on disk, or embedded in the binary (feature `embed-web`): see `web`.
    if let Some(web) = web::WebSource::from_config(config) {
        router = web.serve(router);
        router = router.layer(axum::middleware::map_request(pages::rewrite));
    }
    // Request ids, access log and request metrics, for every route and the fallback.
    router = api::metrics::observe(router, state);
    let headers = [
        (header::CONTENT_SECURITY_POLICY, CONTENT_SECURITY_POLICY),
        (header::REFERRER_POLICY, "no-referrer"),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::X_FRAME_OPTIONS, "DENY"),
        (
            HeaderName::from_static("cross-origin-opener-policy"),
            "same-origin",
        ),
    ];
    for (name, value) in headers {
        router = router.layer(SetResponseHeaderLayer::overriding(
            name,
            HeaderValue::from_static(value),
        ));
    }
    // Outside the headers above: the support tab's page alone may be framed by the listed
    // host origins (option `embed_origins`). Origins are validated ASCII, so the value parses.
    if !config.embed_origins.is_empty()
        && let Ok(policy) = HeaderValue::from_str(&support_tab_policy(&config.embed_origins))
    {
        router = router.layer(axum::middleware::from_fn_with_state(
            policy,
            pages::allow_framing_of_support_tab,
        ));
    }
    router
}

/// Resolves on SIGINT (Ctrl-C) or SIGTERM.
async fn shutdown_signal() {
    let interrupt = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = interrupt => {},
        () = terminate => {},
    }
    tracing::info!("shutting down");
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use axum::body::Body;
    use axum::http::{HeaderValue, Request, header};
    use tower::ServiceExt;

    use super::{CONTENT_SECURITY_POLICY, app, support_tab_policy};
    use crate::config::{Config, EmbedOrigins};

    /// With `embed_origins`, the support tab's page (and only it) lists exactly those origins
    /// in `frame-ancestors` and has no `X-Frame-Options`; without it, nothing may frame it.
    #[tokio::test]
    async fn only_the_support_tab_may_be_framed_by_the_listed_origins() {
        let web = tempfile::tempdir().unwrap();
        for file in [
            "help.html",
            "ticket-new.html",
            "ticket.html",
            "admin.html",
            "app.js",
        ] {
            std::fs::write(web.path().join(file), "x").unwrap();
        }
        let data = tempfile::tempdir().unwrap();
        let state = std::sync::Arc::new(
            crate::state::AppState::load(
                std::sync::Arc::new(
                    crate::storage::sled_store::SledStore::open(&data.path().join("db")).unwrap(),
                ),
                crate::state::Limits::default(),
                data.path().to_owned(),
            )
            .unwrap(),
        );
        let origins =
            EmbedOrigins::parse("https://app.example.org, http://127.0.0.1:3000").unwrap();
        let framed = Config {
            web_dir: web.path().to_owned(),
            embed_origins: origins.clone(),
            ..Config::default()
        };
        let closed = Config {
            web_dir: web.path().to_owned(),
            ..Config::default()
        };
        let headers = |config: &Config, path: &'static str| {
            let app = app(state.clone(), config);
            async move {
                let response = app
                    .oneshot(Request::get(path).body(Body::empty()).unwrap())
                    .await
                    .unwrap();
                assert!(
                    response.status().is_success(),
                    "{path}: {}",
                    response.status()
                );
                response.headers().clone()
            }
        };
        let policy = support_tab_policy(&origins);
        assert!(policy.ends_with("frame-ancestors https://app.example.org http://127.0.0.1:3000"));
        for path in ["/help", "/help/", "/help.html"] {
            let got = headers(&framed, path).await;
            assert_eq!(
                got[header::CONTENT_SECURITY_POLICY],
                HeaderValue::from_str(&policy).unwrap(),
                "{path}"
            );
            assert!(got.get(header::X_FRAME_OPTIONS).is_none(), "{path}");
            let shut = headers(&closed, path).await;
            assert_eq!(
                shut[header::CONTENT_SECURITY_POLICY],
                CONTENT_SECURITY_POLICY
            );
            assert_eq!(shut[header::X_FRAME_OPTIONS], "DENY");
        }
        for path in [
            "/help/ticket/new",
            "/help/ticket/0123456789abcdef0123456789abcdef",
            "/admin",
            "/app.js",
            "/api/v1/settings",
        ] {
            let got = headers(&framed, path).await;
            assert_eq!(
                got[header::CONTENT_SECURITY_POLICY],
                CONTENT_SECURITY_POLICY,
                "{path}"
            );
            assert_eq!(got[header::X_FRAME_OPTIONS], "DENY", "{path}");
        }
    }
}
