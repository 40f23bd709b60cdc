//! The connection loop (issue 16, "no outage from idle or slow clients"): accepts TCP
//! connections under a global cap and a cap per client address, and serves each with hyper's
//! HTTP/1 connection under a header-read timeout (a request's head must arrive in time) and an
//! idle timeout (a connection on which nothing is read or written for that long is closed:
//! a keep-alive connection between requests, or a reader that stopped taking its answer;
//! event streams write a comment every 15 s, so they stay under it). A connection beyond a cap
//! is closed at once, before anything is read, so a flood of idle sockets cannot take the
//! file descriptors `/healthz` needs.

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::Router;
use axum::extract::ConnectInfo;
use axum::http::Request;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tokio::time::Instant;
use tower::ServiceExt;

use crate::services::holds::Holds;

/// Pause after a failed `accept` (such as `EMFILE`, too many open files), so the loop does
/// not spin while descriptors are short.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(50);

/// Limits of the connection loop, from config.rs's "Connections" options.
#[derive(Clone, Copy, Debug)]
pub struct ConnectionLimits {
    /// How long a client may take to send a request's headers.
    pub header_read_timeout: Duration,
    /// How long a connection may go without reading or writing a byte before it is closed.
    pub idle_timeout: Duration,
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
        let (stream, activity) = Watched::new(stream);
        let connection = graceful.watch(builder.serve_connection(TokioIo::new(stream), service));
        let idle_timeout = limits.idle_timeout;
        tokio::spawn(async move {
            let _counted = (permit, slot);
            tokio::pin!(connection);
            loop {
                let deadline = activity.last() + idle_timeout;
                tokio::select! {
                    ended = &mut connection => {
                        if let Err(error) = ended {
                            tracing::debug!(%error, %peer, "connection ended");
                        }
                        break;
                    }
                    () = tokio::time::sleep_until(deadline) => {
                        if activity.last() + idle_timeout <= Instant::now() {
                            // Dropping the connection closes the socket.
                            tracing::debug!(%peer, "connection closed: idle");
                            break;
                        }
                    }
                }
            }
        });
    }
    drop(listener);
    graceful.shutdown().await;
}

/// When a connection last read or wrote a byte, as milliseconds after `start`.
struct Activity {
    start: Instant,
    last_ms: AtomicU64,
}

impl Activity {
    fn touch(&self) {
        let elapsed = u64::try_from(self.start.elapsed().as_millis()).unwrap_or(u64::MAX);
        self.last_ms.store(elapsed, Ordering::Relaxed);
    }

    fn last(&self) -> Instant {
        self.start + Duration::from_millis(self.last_ms.load(Ordering::Relaxed))
    }
}

/// A socket that records its last activity (a byte read or written) for the idle timeout.
struct Watched<T> {
    inner: T,
    activity: Arc<Activity>,
}

impl<T> Watched<T> {
    fn new(inner: T) -> (Self, Arc<Activity>) {
        let activity = Arc::new(Activity {
            start: Instant::now(),
            last_ms: AtomicU64::new(0),
        });
        (
            Watched {
                inner,
                activity: Arc::clone(&activity),
            },
            activity,
        )
    }
}

impl<T: AsyncRead + Unpin> AsyncRead for Watched<T> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let polled = Pin::new(&mut self.inner).poll_read(cx, buf);
        if matches!(polled, Poll::Ready(Ok(()))) && buf.filled().len() > before {
            self.activity.touch();
        }
        polled
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for Watched<T> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let polled = Pin::new(&mut self.inner).poll_write(cx, buf);
        if matches!(polled, Poll::Ready(Ok(n)) if n > 0) {
            self.activity.touch();
        }
        polled
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let polled = Pin::new(&mut self.inner).poll_write_vectored(cx, bufs);
        if matches!(polled, Poll::Ready(Ok(n)) if n > 0) {
            self.activity.touch();
        }
        polled
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}
