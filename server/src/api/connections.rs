//! The connection loop (issue 16, "no outage from idle or slow clients"): accepts TCP
//! connections under a global cap and a cap per client address, and serves each with hyper's
//! HTTP/1 connection under a header-read timeout. hyper starts that timer whenever it waits for
//! a request head, at the connection's start and after each answer, so it is also the
//! keep-alive idle timeout. A connection beyond a cap is closed at once, before anything is
//! read, so a flood of idle sockets cannot take the file descriptors `/healthz` needs.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::ConnectInfo;
use axum::http::Request;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tower::ServiceExt;

use crate::services::holds::Holds;

/// Pause after a failed `accept` (such as `EMFILE`, too many open files), so the loop does
/// not spin while descriptors are short.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(50);

/// Limits of the connection loop, from config.rs's "Connections" options.
#[derive(Clone, Copy, Debug)]
pub struct ConnectionLimits {
    /// How long a client may take to send a request's headers, counted from the connection's
    /// start or the end of its previous answer (so also the keep-alive idle timeout).
    pub header_read_timeout: Duration,
    /// Most connections open at once; further ones are closed on accept.
    pub max_connections: usize,
    /// Most connections open at once from one client address (the TCP peer); 0: no cap.
    pub max_connections_per_address: usize,
}

/// Serves `app` on `listener` under `limits` until `shutdown` completes, then stops accepting,
/// asks every connection to finish its current request and waits for them. Handlers see the
/// peer address as `ConnectInfo<SocketAddr>`, as with axum's own `serve`.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    limits: ConnectionLimits,
    shutdown: impl Future<Output = ()>,
) {
    let open = Arc::new(Semaphore::new(limits.max_connections));
    let per_address = Arc::new(Holds::default());
    let graceful = GracefulShutdown::new();
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout);
    tokio::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(pair) => pair,
                Err(error) => {
                    tracing::warn!(%error, "accept error");
                    tokio::time::sleep(ACCEPT_BACKOFF).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let Ok(permit) = Arc::clone(&open).try_acquire_owned() else {
            tracing::debug!(%peer, "connection refused: max_connections reached");
            continue;
        };
        let Some(slot) =
            Holds::try_hold(&per_address, peer.ip(), limits.max_connections_per_address)
        else {
            tracing::debug!(%peer, "connection refused: max_connections_per_address reached");
            continue;
        };
        // Answers are small or streamed: send each write at once.
        let _ = stream.set_nodelay(true);
        let app = app.clone();
        let service = hyper::service::service_fn(move |mut request: Request<Incoming>| {
            request
                .extensions_mut()
                .insert(ConnectInfo::<SocketAddr>(peer));
            app.clone().oneshot(request.map(axum::body::Body::new))
        });
        let connection = graceful.watch(builder.serve_connection(TokioIo::new(stream), service));
        tokio::spawn(async move {
            let _counted = (permit, slot);
            if let Err(error) = connection.await {
                tracing::debug!(%error, %peer, "connection ended");
            }
        });
    }
    drop(listener);
    graceful.shutdown().await;
}
