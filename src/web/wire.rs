//! The socket a detached live stream ([`super::detach`]) is sent on, in the
//! lightest form its connection allows.
//!
//! - Plain HTTP: the TCP socket.
//! - TLS 1.3: the TCP socket and rustls' own record encrypter for the
//!   server's direction, nothing else. rustls hands over the traffic key
//!   for this (its kernel-TLS path, `enable_secret_extraction`); the
//!   connection's receive buffer (4 KiB, always resident), decrypter and
//!   handshake state are dropped. The stream never needs to read what the
//!   client sends: anything from it ends the stream, as on plain HTTP.
//!   Records are sealed by rustls' `MessageEncrypter` with the sequence
//!   number rustls reached; no cryptography is done here. Before the
//!   cipher suite's confidentiality limit the stream ends (the browser
//!   reconnects on a fresh connection) instead of updating keys.
//! - Anything else (TLS 1.2): the whole rustls connection.

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;

use rustls::crypto::cipher::{MessageEncrypter, OutboundChunks, OutboundPlainMessage};
use rustls::{ContentType, ProtocolVersion, SupportedCipherSuite};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_rustls::server::TlsStream;

/// The largest plaintext in one TLS record.
const MAX_FRAGMENT: usize = 16 * 1024;

/// A detached stream's socket.
pub enum Wire {
    /// Plain HTTP.
    Tcp(TcpStream),
    /// TLS 1.3, reduced to the sending direction's record encrypter.
    Sealed(Sealed),
    /// A whole TLS connection (boxed: over a kilobyte).
    Tls(Box<TlsStream<TcpStream>>),
}

impl std::fmt::Debug for Wire {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Wire::Tcp(_) => "Wire::Tcp",
            Wire::Sealed(_) => "Wire::Sealed",
            Wire::Tls(_) => "Wire::Tls",
        })
    }
}

/// The sending half of a TLS 1.3 connection.
pub struct Sealed {
    tcp: TcpStream,
    encrypter: Box<dyn MessageEncrypter>,
    /// The next record's sequence number.
    seq: u64,
    /// Records this key may seal.
    limit: u64,
}

impl std::fmt::Debug for Sealed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sealed").field("seq", &self.seq).finish()
    }
}

/// A served connection, plain or TLS. The connection driver handles every
/// kind through one `Box<dyn Socket>`, so hyper's connection code is in
/// the binary once, not once per kind.
pub trait Socket: AsyncRead + AsyncWrite + Unpin + Send + 'static {
    /// The lightest form for a stream; everything written so far has
    /// been flushed by the caller.
    fn into_wire(self: Box<Self>) -> Pin<Box<dyn Future<Output = io::Result<Wire>> + Send>>;

    /// Where the client reached us.
    fn local_addr(&self) -> Option<SocketAddr>;
}

impl Socket for TcpStream {
    fn local_addr(&self) -> Option<SocketAddr> {
        TcpStream::local_addr(self).ok()
    }

    fn into_wire(self: Box<Self>) -> Pin<Box<dyn Future<Output = io::Result<Wire>> + Send>> {
        Box::pin(std::future::ready(
            no_delay(&self).map(|()| Wire::Tcp(*self)),
        ))
    }
}

impl Socket for TlsStream<TcpStream> {
    fn local_addr(&self) -> Option<SocketAddr> {
        self.get_ref().0.local_addr().ok()
    }

    fn into_wire(self: Box<Self>) -> Pin<Box<dyn Future<Output = io::Result<Wire>> + Send>> {
        Box::pin(tls_wire(self))
    }
}

/// See [`Wire`]: TLS 1.3 becomes [`Wire::Sealed`], the rest stays whole.
async fn tls_wire(mut tls: Box<TlsStream<TcpStream>>) -> io::Result<Wire> {
    no_delay(tls.get_ref().0)?;
    // Records rustls still holds (session tickets) go out first: a key is
    // only handed over with nothing left to send.
    tls.flush().await?;
    let (_, conn) = tls.get_ref();
    let suite = match conn.negotiated_cipher_suite() {
        Some(SupportedCipherSuite::Tls13(s))
            if conn.protocol_version() == Some(ProtocolVersion::TLSv1_3) && !conn.wants_write() =>
        {
            s
        }
        _ => return Ok(Wire::Tls(tls)),
    };
    let (tcp, conn) = tls.into_inner();
    let secrets = conn
        .dangerous_extract_secrets()
        .map_err(|e| io::Error::other(format!("TLS key hand-over: {e}")))?;
    let (seq, tx) = secrets.tx;
    let (key, iv) = match tx {
        rustls::ConnectionTrafficSecrets::Aes128Gcm { key, iv }
        | rustls::ConnectionTrafficSecrets::Aes256Gcm { key, iv }
        | rustls::ConnectionTrafficSecrets::Chacha20Poly1305 { key, iv } => (key, iv),
        _ => return Err(io::Error::other("TLS key hand-over: unknown cipher")),
    };
    Ok(Wire::Sealed(Sealed {
        tcp,
        encrypter: suite.aead_alg.encrypter(key, iv),
        seq,
        // Well before the limit, whatever it is.
        limit: suite.common.confidentiality_limit / 2,
    }))
}

/// A stream's events go out as they happen: without this, an event that
/// follows another within a round trip waits for its acknowledgement
/// (Nagle), up to a delayed ACK's 40 ms or more on Wi-Fi.
fn no_delay(tcp: &TcpStream) -> io::Result<()> {
    tcp.set_nodelay(true)
}

impl Sealed {
    /// `bytes` as records of type `typ`, appended to `out`.
    fn seal(&mut self, typ: ContentType, bytes: &[u8], out: &mut Vec<u8>) -> io::Result<()> {
        for part in bytes.chunks(MAX_FRAGMENT) {
            if self.seq >= self.limit {
                return Err(io::Error::other("TLS record limit of this key reached"));
            }
            let plain = OutboundPlainMessage {
                typ,
                version: ProtocolVersion::TLSv1_2,
                payload: OutboundChunks::Single(part),
            };
            let record = self
                .encrypter
                .encrypt(plain, self.seq)
                .map_err(|e| io::Error::other(format!("TLS record: {e}")))?;
            self.seq += 1;
            out.extend_from_slice(&record.encode());
        }
        Ok(())
    }
}

impl Wire {
    /// Writes all of `bytes` (and flushes).
    pub async fn send(&mut self, bytes: &[u8]) -> io::Result<()> {
        match self {
            Wire::Tcp(tcp) => tcp.write_all(bytes).await,
            Wire::Sealed(s) => {
                let mut records = Vec::with_capacity(bytes.len() + 32);
                s.seal(ContentType::ApplicationData, bytes, &mut records)?;
                s.tcp.write_all(&records).await
            }
            Wire::Tls(tls) => {
                tls.write_all(bytes).await?;
                tls.flush().await
            }
        }
    }

    /// Resolves when the client sends anything or closes; what it sent is
    /// dropped unread (it cannot be another request on this connection).
    pub async fn closed(&mut self) {
        let mut ignored = [0u8; 64];
        let _ = match self {
            Wire::Tcp(tcp) => tcp.read(&mut ignored).await,
            Wire::Sealed(s) => s.tcp.read(&mut ignored).await,
            Wire::Tls(tls) => tls.read(&mut ignored).await,
        };
    }

    /// Ends the connection: TLS says `close_notify` first.
    pub async fn finish(&mut self) -> io::Result<()> {
        match self {
            Wire::Tcp(tcp) => tcp.shutdown().await,
            Wire::Sealed(s) => {
                let mut alert = Vec::with_capacity(32);
                // Level warning (1), description close_notify (0).
                s.seal(ContentType::Alert, &[1, 0], &mut alert)?;
                s.tcp.write_all(&alert).await?;
                s.tcp.shutdown().await
            }
            Wire::Tls(tls) => tls.shutdown().await,
        }
    }
}

#[cfg(test)]
mod tests {
    use rustls::crypto::cipher::{AeadKey, InboundOpaqueMessage, Iv};
    use tokio::net::TcpListener;

    use super::*;

    const KEY: [u8; 32] = [7; 32];
    const IV: [u8; 12] = [9; 12];

    fn suite() -> &'static rustls::Tls13CipherSuite {
        match rustls::crypto::ring::cipher_suite::TLS13_AES_256_GCM_SHA384 {
            SupportedCipherSuite::Tls13(s) => s,
            SupportedCipherSuite::Tls12(_) => panic!("a TLS 1.3 suite"),
        }
    }

    /// A sealed wire sending to the returned socket, from record `seq`.
    async fn sealed(seq: u64, limit: u64) -> (Wire, TcpStream) {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let client = TcpStream::connect(listener.local_addr().expect("addr"))
            .await
            .expect("connect");
        let (tcp, _) = listener.accept().await.expect("accept");
        let wire = Wire::Sealed(Sealed {
            tcp,
            encrypter: suite().aead_alg.encrypter(AeadKey::from(KEY), Iv::new(IV)),
            seq,
            limit,
        });
        (wire, client)
    }

    /// Opens every record the client got, from `seq` on: (type, plaintext).
    fn open(mut raw: Vec<u8>, mut seq: u64) -> Vec<(ContentType, Vec<u8>)> {
        let mut decrypter = suite().aead_alg.decrypter(AeadKey::from(KEY), Iv::new(IV));
        let mut records = Vec::new();
        while !raw.is_empty() {
            assert_eq!(
                raw[0], 0x17,
                "TLS 1.3 records all look like application data"
            );
            assert_eq!(raw[1..3], [3, 3]);
            let len = usize::from(u16::from_be_bytes([raw[3], raw[4]]));
            let mut payload = raw[5..5 + len].to_vec();
            raw.drain(..5 + len);
            let msg = InboundOpaqueMessage::new(
                ContentType::ApplicationData,
                ProtocolVersion::TLSv1_2,
                &mut payload,
            );
            let plain = decrypter
                .decrypt(msg, seq)
                .expect("opens with the peer's key");
            records.push((plain.typ, plain.payload.to_vec()));
            seq += 1;
        }
        records
    }

    #[tokio::test]
    async fn records_open_in_sequence_and_stop_before_the_limit() {
        let (mut wire, mut client) = sealed(5, 8).await;
        let big = vec![b'x'; MAX_FRAGMENT + 10];
        wire.send(b"hello").await.expect("record 5");
        wire.send(&big).await.expect("records 6 and 7");
        let err = wire
            .send(b"one too many")
            .await
            .expect_err("record 8 is over");
        assert!(err.to_string().contains("limit"), "{err}");
        drop(wire);
        let mut raw = Vec::new();
        client.read_to_end(&mut raw).await.expect("read");
        let records = open(raw, 5);
        let sizes: Vec<usize> = records.iter().map(|(_, p)| p.len()).collect();
        assert_eq!(sizes, [5, MAX_FRAGMENT, 10], "nothing of the refused one");
        assert!(
            records
                .iter()
                .all(|(t, _)| *t == ContentType::ApplicationData)
        );
        assert_eq!(records[0].1, b"hello");
    }

    #[tokio::test]
    async fn stream_sockets_send_at_once() {
        let (_sealed, client) = sealed(0, 1).await;
        let wire = Box::new(client).into_wire().await.expect("wire");
        let Wire::Tcp(tcp) = wire else {
            panic!("plain TCP stays plain: {wire:?}")
        };
        assert!(tcp.nodelay().expect("nodelay"), "Nagle is off");
    }

    #[tokio::test]
    async fn finishing_says_close_notify() {
        let (mut wire, mut client) = sealed(0, 100).await;
        wire.send(b"last").await.expect("send");
        wire.finish().await.expect("finish");
        let mut raw = Vec::new();
        client.read_to_end(&mut raw).await.expect("read to the end");
        let records = open(raw, 0);
        assert_eq!(
            records,
            [
                (ContentType::ApplicationData, b"last".to_vec()),
                (ContentType::Alert, vec![1, 0]),
            ]
        );
    }
}
