//! Live streams over HTTPS, asked for on a connection that already served
//! a request: with TLS 1.3 the stream keeps only rustls' sending key, with
//! TLS 1.2 the whole connection. Either way every event must decrypt at a
//! real TLS client, in order, and a stop must end the stream with a valid
//! `close_notify` (the client reads a clean end, not a truncation).

use queueless::app;
use queueless::domain::menu::StockChange;
use queueless::domain::{ItemId, ShopId};
use queueless::store::catalog;
use rustls_pki_types::{CertificateDer, ServerName};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_rustls::client::TlsStream;

use crate::{IO_LIMIT, cert_of, client_for, config};

/// The demo's dumpling shop and its counted item.
const SHOP: u64 = 2;
const ITEM: u64 = 5;

async fn connect(
    addr: std::net::SocketAddr,
    trusted: CertificateDer<'static>,
    version: &'static rustls::SupportedProtocolVersion,
) -> TlsStream<TcpStream> {
    let tcp = TcpStream::connect(addr).await.expect("connect");
    let name = ServerName::try_from("localhost").expect("name");
    client_for(&[trusted], &[version])
        .connect(name, tcp)
        .await
        .expect("handshake")
}

/// Reads until `buf` holds `needle` after `from`; returns where it ends.
async fn read_until(
    tls: &mut TlsStream<TcpStream>,
    buf: &mut Vec<u8>,
    from: usize,
    needle: &str,
) -> usize {
    loop {
        if let Some(at) = buf[from..]
            .windows(needle.len())
            .position(|w| w == needle.as_bytes())
        {
            return from + at + needle.len();
        }
        let mut chunk = [0u8; 4096];
        let n = tokio::time::timeout(IO_LIMIT, tls.read(&mut chunk))
            .await
            .unwrap_or_else(|_| panic!("{needle:?} in time; got {}", String::from_utf8_lossy(buf)))
            .expect("read");
        assert!(
            n > 0,
            "closed before {needle:?}: {}",
            String::from_utf8_lossy(buf)
        );
        buf.extend_from_slice(&chunk[..n]);
    }
}

/// The `left` count of the next availability event after `from`.
async fn next_left(tls: &mut TlsStream<TcpStream>, buf: &mut Vec<u8>, from: &mut usize) -> u64 {
    let start = read_until(tls, buf, *from, "event: availability\ndata: ").await;
    let end = read_until(tls, buf, start, "\n\n").await;
    *from = end;
    let data: serde_json::Value =
        serde_json::from_slice(&buf[start..end - 2]).expect("availability JSON");
    data.as_array()
        .and_then(|a| a.iter().find(|i| i["item_id"] == ITEM))
        .and_then(|i| i["left"].as_u64())
        .unwrap_or_else(|| panic!("the item's count in {data}"))
}

async fn stream_over(version: &'static rustls::SupportedProtocolVersion) {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut cfg = config(dir.path());
    cfg.demo = true;
    let running = app::start(cfg).await.expect("starts");
    let addr = running.https_addr.expect("https");
    let kept = cert_of(&dir.path().join("data/tls/cert.pem"));
    let mut tls = connect(addr, kept, version).await;
    assert_eq!(
        tls.get_ref().1.protocol_version(),
        Some(version.version),
        "the version asked for"
    );
    let mut buf = Vec::new();
    // A request first: the stream is not the connection's first.
    tls.write_all(b"GET /api/shops HTTP/1.1\r\nHost: localhost\r\n\r\n")
        .await
        .expect("send");
    let head_end = read_until(&mut tls, &mut buf, 0, "\r\n\r\n").await;
    let head = String::from_utf8_lossy(&buf[..head_end]).to_lowercase();
    assert!(head.starts_with("http/1.1 200"), "{head}");
    let length: usize = head
        .lines()
        .find_map(|l| l.strip_prefix("content-length: "))
        .and_then(|v| v.trim().parse().ok())
        .expect("a sized JSON reply");
    while buf.len() < head_end + length {
        let mut chunk = [0u8; 4096];
        let n = tls.read(&mut chunk).await.expect("body");
        assert!(n > 0, "body cut short");
        buf.extend_from_slice(&chunk[..n]);
    }
    buf.drain(..head_end + length);

    tls.write_all(
        format!("GET /events/menu/{SHOP} HTTP/1.1\r\nHost: localhost\r\n\r\n").as_bytes(),
    )
    .await
    .expect("subscribe");
    let head_end = read_until(&mut tls, &mut buf, 0, "\r\n\r\n").await;
    let head = String::from_utf8_lossy(&buf[..head_end]).to_lowercase();
    assert!(head.starts_with("http/1.1 200"), "{head}");
    assert!(head.contains("content-type: text/event-stream"), "{head}");
    assert!(head.contains("transfer-encoding: chunked"), "{head}");
    let mut at = read_until(&mut tls, &mut buf, head_end, ": hello").await;

    // Events in order, each its own record(s).
    let mut expected = None;
    for delta in [7_i64, -3, 1] {
        let item = running
            .store
            .write(move |tx| {
                catalog::change_item_stock(
                    tx,
                    ShopId(SHOP),
                    ItemId(ITEM),
                    StockChange::Delta(delta),
                )
            })
            .await
            .expect("stock changes");
        let left = next_left(&mut tls, &mut buf, &mut at).await;
        if let Some(before) = expected {
            assert_eq!(left as i64, before + delta, "in order, none lost");
        }
        expected = Some(left as i64);
        assert!(
            format!("{:?}", item.stock).contains(&left.to_string()),
            "{item:?}"
        );
    }

    // A stop ends the stream: the last chunk, then close_notify.
    running.shutdown().await.expect("stops");
    read_until(&mut tls, &mut buf, at, "0\r\n\r\n").await;
    let mut rest = Vec::new();
    tokio::time::timeout(IO_LIMIT, tls.read_to_end(&mut rest))
        .await
        .expect("closed in time")
        .expect("a clean TLS end (close_notify), not a truncation");
    assert!(rest.is_empty(), "nothing after the end: {rest:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_live_stream_over_tls_1_3_keeps_only_the_sending_key() {
    stream_over(&rustls::version::TLS13).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_live_stream_over_tls_1_2_keeps_the_whole_connection() {
    stream_over(&rustls::version::TLS12).await;
}
