//! Serving HTTP/1.1 connections: hyper's connection driver configured for
//! thousands of mostly idle live-update streams, in place of `axum::serve`
//! (which offers no settings). Each request carries the peer's
//! `ConnectInfo<SocketAddr>`, as with `into_make_service_with_connect_info`,
//! so the peer extractors work the same.
//!
//! Memory per connection is what limits a venue's stream count: hyper keeps
//! a read buffer and a header buffer for the life of a connection. Its read
//! buffer grows by doubling when a read finds it shared with the request
//! being answered, which every long-lived response does; capping it at
//! hyper's minimum ([`READ_BUFFER`]) keeps it at one 8 KiB allocation
//! instead of a 16 KiB one plus a freed 8 KiB hole. A request head (line and
//! headers) must fit in it; browsers send well under 2 KiB to the portal.
//!
//! Shutdown is graceful: accepting stops (freeing the port), every
//! connection is asked to finish its current response, and `serve` returns
//! once all are closed (live streams end on their own at shutdown), or
//! after [`SHUTDOWN_GRACE`].

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;

use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::serve::Listener;
use futures_util::FutureExt;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::TokioIo;
use tokio::sync::watch;
use tower_service::Service;

/// hyper's smallest allowed buffer; also the largest request head.
pub const READ_BUFFER: usize = 8 * 1024;

/// How long a stop waits for open connections to finish their responses;
/// then the rest are dropped (a half-sent request must not hold up a stop).
pub const SHUTDOWN_GRACE: std::time::Duration = std::time::Duration::from_secs(5);

/// Serves `router` on every connection `listener` accepts, until
/// `shutdown` resolves and the open connections have closed.
pub async fn serve<L>(
    mut listener: L,
    router: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()>
where
    L: Listener<Addr = SocketAddr>,
{
    let mut builder = http1::Builder::new();
    builder.max_buf_size(READ_BUFFER);
    // With a timer, a request head must arrive within hyper's 30 s: a
    // client that trickles one (slowloris) does not hold a slot forever.
    builder.timer(hyper_util::rt::TokioTimer::new());
    // Stop: every connection task watches this.
    let (stop_tx, stop_rx) = watch::channel(false);
    // Connections still open: each task holds a receiver.
    let (open_tx, open_rx) = watch::channel(());
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let (io, peer) = tokio::select! {
            c = listener.accept() => c,
            () = &mut shutdown => break,
        };
        let router = router.clone();
        let service = hyper::service::service_fn(move |req: hyper::Request<Incoming>| {
            let mut req = req.map(Body::new);
            req.extensions_mut().insert(ConnectInfo(peer));
            let mut router = router.clone();
            async move {
                let response: Result<_, Infallible> = router.call(req).await;
                response
            }
        });
        let conn = builder.serve_connection(TokioIo::new(io), service);
        let mut stop = stop_rx.clone();
        let open = open_rx.clone();
        tokio::spawn(async move {
            let mut conn = std::pin::pin!(conn);
            tokio::select! {
                r = conn.as_mut() => {
                    if let Err(e) = r {
                        tracing::trace!(%peer, error = %e, "connection ended");
                    }
                }
                _ = stop.wait_for(|s| *s).map(drop) => {
                    conn.as_mut().graceful_shutdown();
                    let _ = conn.await;
                }
            }
            drop(open);
        });
    }
    drop(listener);
    drop(open_rx);
    stop_tx.send_replace(true);
    if tokio::time::timeout(SHUTDOWN_GRACE, open_tx.closed())
        .await
        .is_err()
    {
        tracing::info!("connections still open at shutdown were dropped");
    }
    Ok(())
}
