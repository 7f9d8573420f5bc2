//! Live streams leave hyper once their response head is decided.
//!
//! A Server-Sent Events response never ends, so nothing can follow it on
//! its connection. Keeping hyper's per-connection state for it (an 8 KiB
//! read buffer, an 8 KiB header buffer, the dispatcher) costs more memory
//! than the stream itself, and a venue holds thousands of them. So the
//! connection driver ([`super::conn`]) takes the socket back from hyper,
//! writes the head and the frames itself (chunked, as hyper would), and
//! keeps only the stream and the socket in its lightest form
//! ([`super::wire`]: over TLS 1.3 just the sending key). This works on any
//! request of a kept-alive connection, not only its first.
//!
//! A handler marks its body with [`detachable`]. The body still works
//! wherever no driver takes it over: HTTP/1.0, `HEAD`, tests that call the
//! router directly, or hyper still flushing an earlier response on the
//! connection. Detaching saves memory and changes nothing a browser sees:
//! the same headers (in another order) and the same chunks.
//!
//! A detached stream ends when its source ends, when the server stops, when
//! a write stalls for [`WRITE_TIMEOUT`], or when the client sends anything
//! or closes (it cannot send another request on this connection anyway).

use std::convert::Infallible;
use std::fmt;
use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll};
use std::time::{Duration, SystemTime};

use axum::body::{Body, Bytes};
use axum::http::{Method, Request, Response, Version, header};
use futures_util::stream::{BoxStream, Stream, StreamExt};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::sync::{oneshot, watch};

use super::wire::Wire;

/// A client that takes no bytes for this long has gone; its stream ends.
pub const WRITE_TIMEOUT: Duration = Duration::from_secs(30);

type Frames = BoxStream<'static, Bytes>;
type Slot = Arc<Mutex<Option<Frames>>>;

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// The mark, in a response's extensions, of a body the connection driver
/// may send without hyper.
#[derive(Clone)]
pub struct Detach(Slot);

impl fmt::Debug for Detach {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Detach")
    }
}

/// The body that sends `frames`, and the mark that lets a connection
/// driver send them itself; put the mark in the response's extensions.
pub fn detachable(frames: Frames) -> (Body, Detach) {
    let slot: Slot = Arc::new(Mutex::new(Some(frames)));
    let body = Body::from_stream(Taken {
        slot: Arc::clone(&slot),
        frames: None,
    });
    (body, Detach(slot))
}

/// The body as hyper would send it: takes the frames on its first poll,
/// unless a driver took them first (then it is empty, and never sent).
struct Taken {
    slot: Slot,
    frames: Option<Frames>,
}

impl Stream for Taken {
    type Item = Result<Bytes, Infallible>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        if this.frames.is_none() {
            this.frames = lock(&this.slot).take();
        }
        match &mut this.frames {
            Some(frames) => frames.poll_next_unpin(cx).map(|f| f.map(Ok)),
            None => Poll::Ready(None),
        }
    }
}

/// A stream taken from hyper: the response head to write, then the frames.
pub struct Detached {
    head: Bytes,
    frames: Frames,
}

impl fmt::Debug for Detached {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Detached")
            .field("head", &self.head.len())
            .finish()
    }
}

/// What one connection's hyper side and its driver share.
#[derive(Debug)]
pub struct Handover {
    /// Everything hyper wrote has reached the socket (or rustls' records).
    flushed: AtomicBool,
    /// The socket is the driver's now: hyper must write nothing more.
    detached: AtomicBool,
    to_driver: Mutex<Option<oneshot::Sender<Detached>>>,
}

impl Handover {
    /// For one connection; the receiver gets the stream when one detaches.
    pub fn new() -> (Arc<Self>, oneshot::Receiver<Detached>) {
        let (tx, rx) = oneshot::channel();
        let h = Self {
            flushed: AtomicBool::new(true),
            detached: AtomicBool::new(false),
            to_driver: Mutex::new(Some(tx)),
        };
        (Arc::new(h), rx)
    }

    /// Whether `req` could be answered by a detached stream: a `GET` over
    /// HTTP/1.1 (chunked) with no request body left on the socket.
    pub fn eligible<B>(req: &Request<B>) -> bool {
        req.version() == Version::HTTP_11
            && req.method() == Method::GET
            && !req.headers().contains_key(header::TRANSFER_ENCODING)
            && req
                .headers()
                .get(header::CONTENT_LENGTH)
                .is_none_or(|v| v.as_bytes() == b"0")
    }

    /// Hands `response`'s frames to the driver when it is detachable and
    /// hyper has nothing unsent; hyper then gets an empty response it will
    /// never write. Otherwise `response` goes to hyper unchanged.
    pub fn offer(&self, response: Response<Body>) -> Response<Body> {
        let Some(Detach(slot)) = response.extensions().get::<Detach>() else {
            return response;
        };
        let h = response.headers();
        if !self.flushed.load(Ordering::Acquire)
            || h.contains_key(header::CONTENT_LENGTH)
            || h.contains_key(header::TRANSFER_ENCODING)
        {
            return response;
        }
        let mut to_driver = lock(&self.to_driver);
        let Some(tx) = to_driver.take() else {
            return response;
        };
        let Some(frames) = lock(slot).take() else {
            return response;
        };
        let head = head(&response);
        self.detached.store(true, Ordering::Release);
        // The driver outlives every request of its connection.
        let _ = tx.send(Detached { head, frames });
        Response::new(Body::empty())
    }
}

/// The status line and headers of `response`, as sent in chunks.
fn head(response: &Response<Body>) -> Bytes {
    let status = response.status();
    let mut h = Vec::with_capacity(512);
    h.extend_from_slice(b"HTTP/1.1 ");
    h.extend_from_slice(status.as_str().as_bytes());
    h.push(b' ');
    h.extend_from_slice(status.canonical_reason().unwrap_or("").as_bytes());
    h.extend_from_slice(b"\r\n");
    for (name, value) in response.headers() {
        h.extend_from_slice(name.as_str().as_bytes());
        h.extend_from_slice(b": ");
        h.extend_from_slice(value.as_bytes());
        h.extend_from_slice(b"\r\n");
    }
    if !response.headers().contains_key(header::DATE) {
        h.extend_from_slice(b"date: ");
        h.extend_from_slice(httpdate::fmt_http_date(SystemTime::now()).as_bytes());
        h.extend_from_slice(b"\r\n");
    }
    h.extend_from_slice(b"transfer-encoding: chunked\r\n\r\n");
    Bytes::from(h)
}

/// The socket as hyper sees it. It notes when hyper's writes are all
/// flushed, and once the stream is detached it does nothing: the driver
/// then drops hyper's side without polling it again, so the pending
/// operations need no wake-up.
#[derive(Debug)]
pub struct Gate<IO> {
    io: IO,
    handover: Arc<Handover>,
}

impl<IO> Gate<IO> {
    /// `io`, watched through `handover`.
    pub fn new(io: IO, handover: Arc<Handover>) -> Self {
        Self { io, handover }
    }

    /// The socket back.
    pub fn into_inner(self) -> IO {
        self.io
    }

    fn detached(&self) -> bool {
        self.handover.detached.load(Ordering::Acquire)
    }
}

impl<IO: AsyncRead + Unpin> AsyncRead for Gate<IO> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if this.detached() {
            return Poll::Pending;
        }
        Pin::new(&mut this.io).poll_read(cx, buf)
    }
}

impl<IO: AsyncWrite + Unpin> AsyncWrite for Gate<IO> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        if this.detached() {
            return Poll::Pending;
        }
        this.handover.flushed.store(false, Ordering::Release);
        Pin::new(&mut this.io).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        if this.detached() {
            return Poll::Pending;
        }
        this.handover.flushed.store(false, Ordering::Release);
        Pin::new(&mut this.io).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if this.detached() {
            return Poll::Pending;
        }
        let r = Pin::new(&mut this.io).poll_flush(cx);
        if let Poll::Ready(Ok(())) = r {
            this.handover.flushed.store(true, Ordering::Release);
        }
        r
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if this.detached() {
            return Poll::Pending;
        }
        Pin::new(&mut this.io).poll_shutdown(cx)
    }
}

/// Sends a detached stream on `wire` until it ends (see the module doc);
/// `stop` turning true ends it cleanly. `_guard` is dropped at the end.
pub async fn run<G>(mut wire: Wire, stream: Detached, mut stop: watch::Receiver<bool>, _guard: G) {
    let Detached { head, mut frames } = stream;
    let sent = send(&mut wire, &head).await;
    drop(head);
    if sent.is_err() {
        return;
    }
    loop {
        let frame = tokio::select! {
            f = frames.next() => f,
            () = wire.closed() => return,
            _ = stop.wait_for(|s| *s) => None,
        };
        let Some(frame) = frame else {
            if send(&mut wire, b"0\r\n\r\n").await.is_ok() {
                let _ = tokio::time::timeout(WRITE_TIMEOUT, wire.finish()).await;
            }
            return;
        };
        if frame.is_empty() {
            continue;
        }
        // One write per frame: one TLS record, one segment.
        let size = format!("{:x}\r\n", frame.len());
        let mut chunk = Vec::with_capacity(size.len() + frame.len() + 2);
        chunk.extend_from_slice(size.as_bytes());
        chunk.extend_from_slice(&frame);
        chunk.extend_from_slice(b"\r\n");
        if send(&mut wire, &chunk).await.is_err() {
            return;
        }
    }
}

/// Writes `bytes`, within [`WRITE_TIMEOUT`].
async fn send(wire: &mut Wire, bytes: &[u8]) -> io::Result<()> {
    tokio::time::timeout(WRITE_TIMEOUT, wire.send(bytes))
        .await
        .unwrap_or_else(|_| Err(io::ErrorKind::TimedOut.into()))
}
