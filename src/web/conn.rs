//! Serving HTTP/1.1 connections, on every listener (portal, HTTPS, the
//! captive redirect): hyper's connection driver configured for thousands
//! of mostly idle live-update streams, in place of `axum::serve` (which
//! offers no settings). Each request carries the peer's
//! `ConnectInfo<SocketAddr>`, as with `into_make_service_with_connect_info`,
//! so the peer extractors work the same, and `ConnectInfo<LocalAddr>`.
//!
//! Memory per connection is what limits a venue's stream count. A live
//! stream leaves hyper altogether once its head is decided
//! ([`super::detach`]). Other connections keep hyper's read buffer and
//! header buffer for their life. The read buffer grows by doubling when a
//! read finds it shared with the request being answered; capping it at
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
use std::sync::Arc;

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

use super::detach::{self, Gate, Handover};
use super::wire::Socket;

/// hyper's smallest allowed buffer; also the largest request head.
pub const READ_BUFFER: usize = 8 * 1024;

/// How long a stop waits for open connections to finish their responses;
/// then the rest are dropped (a half-sent request must not hold up a stop).
pub const SHUTDOWN_GRACE: std::time::Duration = std::time::Duration::from_secs(5);

/// The local address of a connection: where the client reached us (in
/// each request's extensions as `ConnectInfo<LocalAddr>`).
#[derive(Clone, Copy, Debug)]
pub struct LocalAddr(pub Option<SocketAddr>);

/// Serves `router` on every connection `listener` accepts, until
/// `shutdown` resolves and the open connections have closed.
pub async fn serve<L>(
    mut listener: L,
    router: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()>
where
    L: Listener<Addr = SocketAddr>,
    L::Io: Socket,
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
    // The connection tasks, so those still open after the grace time can
    // be ended: each holds the router (and through it the store).
    let mut tasks = tokio::task::JoinSet::new();
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let (io, peer) = tokio::select! {
            c = listener.accept() => c,
            () = &mut shutdown => break,
        };
        while tasks.try_join_next().is_some() {}
        // One kind of socket for hyper, whatever the listener's.
        spawn_connection(
            &mut tasks,
            &builder,
            Box::new(io),
            peer,
            router.clone(),
            stop_rx.clone(),
            open_rx.clone(),
        );
    }
    drop(listener);
    drop(open_rx);
    stop_tx.send_replace(true);
    if tokio::time::timeout(SHUTDOWN_GRACE, open_tx.closed())
        .await
        .is_err()
    {
        tracing::info!("connections still open at shutdown were dropped");
        tasks.abort_all();
    }
    while tasks.join_next().await.is_some() {}
    Ok(())
}

/// Serves one connection in a task of its own (not generic: hyper's code
/// is in the binary once). `open` is held until the connection, or the
/// live stream it became, has ended.
fn spawn_connection(
    tasks: &mut tokio::task::JoinSet<()>,
    builder: &http1::Builder,
    io: Box<dyn Socket>,
    peer: SocketAddr,
    router: Router,
    mut stop: watch::Receiver<bool>,
    open: watch::Receiver<()>,
) {
    let (handover, detached) = Handover::new();
    let gate = Arc::clone(&handover);
    let local = LocalAddr(io.local_addr());
    let service = hyper::service::service_fn(move |req: hyper::Request<Incoming>| {
        let eligible = Handover::eligible(&req);
        let mut req = req.map(Body::new);
        req.extensions_mut().insert(ConnectInfo(peer));
        req.extensions_mut().insert(ConnectInfo(local));
        let mut router = router.clone();
        let handover = Arc::clone(&handover);
        async move {
            let response = router.call(req).await;
            let response: Result<_, Infallible> = match response {
                Ok(r) if eligible => Ok(handover.offer(r)),
                r => r,
            };
            response
        }
    });
    let conn = builder.serve_connection(TokioIo::new(Gate::new(io, gate)), service);
    tasks.spawn(async move {
        let mut conn = conn;
        let stream = tokio::select! {
            r = &mut conn => {
                if let Err(e) = r {
                    tracing::trace!(%peer, error = %e, "connection ended");
                }
                return;
            }
            Ok(stream) = detached => stream,
            _ = stop.wait_for(|s| *s).map(drop) => {
                std::pin::Pin::new(&mut conn).graceful_shutdown();
                let _ = conn.await;
                return;
            }
        };
        // A live stream: hyper's state goes, the socket stays (in a task of
        // its own, as small as the stream).
        let io = conn.into_parts().io.into_inner().into_inner();
        // Handing over may flush what TLS still holds: a client that takes
        // nothing must not hold this task (and hyper's buffers) forever.
        match tokio::time::timeout(detach::WRITE_TIMEOUT, io.into_wire()).await {
            Ok(Ok(wire)) => {
                tokio::spawn(detach::run(wire, stream, stop, open));
            }
            Ok(Err(e)) => tracing::debug!(%peer, error = %e, "live stream not handed over"),
            Err(_) => tracing::debug!(%peer, "live stream not handed over in time"),
        }
    });
}

#[cfg(test)]
mod tests {
    use std::collections::VecDeque;
    use std::sync::Mutex;
    use std::time::Duration;

    use axum::body::Bytes;
    use axum::extract::State;
    use axum::http::header;
    use axum::response::{IntoResponse, Response};
    use axum::routing::get;
    use futures_util::StreamExt;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::{TcpListener, TcpStream};
    use tokio::sync::{mpsc, oneshot};

    use super::*;
    use crate::web::detach::detachable;

    /// A live stream's source: frames to send, and a signal when dropped.
    type Source = (mpsc::Receiver<Bytes>, oneshot::Sender<()>);
    type Sources = Arc<Mutex<VecDeque<Source>>>;

    async fn live(State(sources): State<Sources>) -> Response {
        let source = sources
            .lock()
            .expect("not poisoned")
            .pop_front()
            .expect("a source for each stream");
        let frames = futures_util::stream::unfold(source, |(mut rx, gone)| async move {
            rx.recv().await.map(|f| (f, (rx, gone)))
        });
        let (body, detach) = detachable(frames.boxed());
        let mut r = ([(header::CONTENT_TYPE, "text/event-stream")], body).into_response();
        r.extensions_mut().insert(detach);
        r
    }

    struct Test {
        addr: SocketAddr,
        sources: Sources,
        stop: Option<oneshot::Sender<()>>,
        served: tokio::task::JoinHandle<std::io::Result<()>>,
    }

    impl Test {
        async fn start() -> Self {
            let sources = Sources::default();
            let router = Router::new()
                .route("/page", get(|| async { "ok" }))
                .route("/live", get(live))
                .with_state(Arc::clone(&sources));
            let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
            let addr = listener.local_addr().expect("addr");
            let (stop, stopped) = oneshot::channel::<()>();
            let served = tokio::spawn(serve(listener, router, stopped.map(drop)));
            Test {
                addr,
                sources,
                stop: Some(stop),
                served,
            }
        }

        /// A source for the next stream: send frames on it; the receiver
        /// resolves when the server drops the stream.
        fn source(&self) -> (mpsc::Sender<Bytes>, oneshot::Receiver<()>) {
            let (tx, rx) = mpsc::channel(8);
            let (gone_tx, gone_rx) = oneshot::channel();
            self.sources
                .lock()
                .expect("not poisoned")
                .push_back((rx, gone_tx));
            (tx, gone_rx)
        }
    }

    const WAIT: Duration = Duration::from_secs(5);

    /// Sends `request` on `c` and reads the response head.
    async fn ask(c: &mut TcpStream, request: &str) -> String {
        c.write_all(request.as_bytes()).await.expect("send");
        head(c).await
    }

    /// A new connection that asked for the live stream; its response head.
    async fn subscribe(t: &Test) -> (TcpStream, String) {
        let mut c = TcpStream::connect(t.addr).await.expect("connect");
        let h = ask(&mut c, "GET /live HTTP/1.1\r\nhost: x\r\n\r\n").await;
        (c, h)
    }

    /// Waits until the server has dropped the stream `gone` belongs to.
    async fn dropped(gone: oneshot::Receiver<()>) {
        tokio::time::timeout(WAIT, gone)
            .await
            .expect("stream dropped in time")
            .expect_err("dropped, not signalled");
    }

    async fn head(c: &mut TcpStream) -> String {
        let mut h = Vec::new();
        while !h.ends_with(b"\r\n\r\n") {
            let b = tokio::time::timeout(WAIT, c.read_u8())
                .await
                .expect("head in time")
                .expect("head");
            h.push(b);
        }
        String::from_utf8(h).expect("utf-8 head")
    }

    async fn exactly(c: &mut TcpStream, n: usize) -> String {
        let mut b = vec![0; n];
        tokio::time::timeout(WAIT, c.read_exact(&mut b))
            .await
            .expect("bytes in time")
            .expect("bytes");
        String::from_utf8(b).expect("utf-8")
    }

    async fn closed(c: &mut TcpStream) {
        let mut rest = Vec::new();
        let n = tokio::time::timeout(WAIT, c.read_to_end(&mut rest))
            .await
            .expect("closed in time")
            .expect("read to the end");
        assert_eq!(n, 0, "nothing after the end: {rest:?}");
    }

    #[tokio::test]
    async fn a_stream_on_a_kept_alive_connection_is_sent_without_hyper() {
        let t = Test::start().await;
        let (frames, gone) = t.source();
        let mut c = TcpStream::connect(t.addr).await.expect("connect");
        let h = ask(&mut c, "GET /page HTTP/1.1\r\nhost: x\r\n\r\n").await;
        assert!(h.contains("content-length: 2\r\n"), "{h}");
        assert_eq!(exactly(&mut c, 2).await, "ok");

        let h = ask(&mut c, "GET /live HTTP/1.1\r\nhost: x\r\n\r\n").await;
        assert!(h.starts_with("HTTP/1.1 200 OK\r\n"), "{h}");
        assert!(h.contains("content-type: text/event-stream\r\n"), "{h}");
        assert!(h.contains("\r\ndate: "), "{h}");
        // hyper writes `date` last; the detached writer ends with the coding.
        assert!(h.ends_with("\r\ntransfer-encoding: chunked\r\n\r\n"), "{h}");

        frames.send(Bytes::from("data: 1\n\n")).await.expect("send");
        assert_eq!(exactly(&mut c, 14).await, "9\r\ndata: 1\n\n\r\n");
        frames
            .send(Bytes::from("data: 22\n\n"))
            .await
            .expect("send");
        assert_eq!(exactly(&mut c, 15).await, "a\r\ndata: 22\n\n\r\n");
        // The source ends: so does the response, and the connection.
        drop(frames);
        assert_eq!(exactly(&mut c, 5).await, "0\r\n\r\n");
        closed(&mut c).await;
        dropped(gone).await;
    }

    #[tokio::test]
    async fn a_client_that_sends_anything_or_closes_ends_its_stream() {
        let t = Test::start().await;
        // Sends a byte: nothing can follow an endless response.
        let (_frames, gone) = t.source();
        let (mut c, h) = subscribe(&t).await;
        assert!(h.ends_with("chunked\r\n\r\n"), "{h}");
        c.write_all(b"G").await.expect("send");
        closed(&mut c).await;
        dropped(gone).await;

        // Closes its side: the stream (and what it holds) goes at once.
        let (_frames, gone) = t.source();
        let (mut c, _) = subscribe(&t).await;
        c.shutdown().await.expect("half-close");
        dropped(gone).await;
    }

    #[tokio::test]
    async fn http_1_0_streams_stay_with_hyper() {
        let t = Test::start().await;
        let (frames, _gone) = t.source();
        let mut c = TcpStream::connect(t.addr).await.expect("connect");
        let h = ask(&mut c, "GET /live HTTP/1.0\r\n\r\n").await;
        assert!(h.starts_with("HTTP/1.0 200 OK\r\n"), "{h}");
        assert!(!h.contains("transfer-encoding"), "{h}");
        frames.send(Bytes::from("data: 1\n\n")).await.expect("send");
        assert_eq!(exactly(&mut c, 9).await, "data: 1\n\n");
        drop(frames);
        closed(&mut c).await;
    }

    #[tokio::test]
    async fn a_stop_ends_detached_streams_cleanly() {
        let mut t = Test::start().await;
        let (_frames, gone) = t.source();
        let (mut c, _) = subscribe(&t).await;
        t.stop.take().expect("once").send(()).expect("serving");
        assert_eq!(exactly(&mut c, 5).await, "0\r\n\r\n");
        closed(&mut c).await;
        dropped(gone).await;
        // Well within the grace time: the stream counted as open, and ended.
        tokio::time::timeout(Duration::from_secs(2), &mut t.served)
            .await
            .expect("serve returns")
            .expect("no panic")
            .expect("served");
    }
}
