//! The benches' HTTP/1.1 client: one keep-alive connection per guest or
//! staff member, over plain TCP or TLS to the daemon on loopback, with a
//! cookie jar, so thousands of them cost a bench little.

use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

/// A connection's byte stream: TCP, or TLS over it.
pub type Io = Box<dyn AsyncReadWrite>;
/// What a connection's stream can do.
pub trait AsyncReadWrite: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> AsyncReadWrite for T {}

/// One connection and the cookies it was given.
pub struct Conn {
    pub io: BufReader<Io>,
    pub cookie: String,
}

impl Conn {
    /// A connection over `io`, without cookies yet.
    pub fn new(io: Io) -> Conn {
        Conn {
            io: BufReader::new(io),
            cookie: String::new(),
        }
    }
}

/// A plain TCP connection to the daemon on `port`.
pub async fn plain(port: u16) -> std::io::Result<Conn> {
    let tcp = TcpStream::connect(("127.0.0.1", port)).await?;
    tcp.set_nodelay(true)?;
    Ok(Conn::new(Box::new(tcp)))
}

/// Sends a request head (and body) with extra `headers`; keeps
/// `Set-Cookie`s; returns the status and the `Content-Length` (0 for a
/// stream, whose events the caller reads from `io`).
pub async fn send_with(
    c: &mut Conn,
    method: &str,
    path: &str,
    body: &str,
    headers: &[(&str, &str)],
) -> std::io::Result<(u16, usize)> {
    // A phone's connectivity probe names another host (it is captured);
    // everything else is asked of us by name.
    let host = if path == "/generate_204" {
        "connectivitycheck.gstatic.com"
    } else {
        "localhost"
    };
    let mut req = format!(
        "{method} {path} HTTP/1.1\r\nHost: {host}\r\nContent-Length: {}\r\n",
        body.len()
    );
    if !body.is_empty() {
        req.push_str("Content-Type: application/json\r\n");
    }
    if !c.cookie.is_empty() {
        req.push_str(&format!("Cookie: {}\r\n", c.cookie));
    }
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str("\r\n");
    req.push_str(body);
    c.io.get_mut().write_all(req.as_bytes()).await?;
    let mut line = String::new();
    c.io.read_line(&mut line).await?;
    let status: u16 = line
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| std::io::Error::other(format!("bad status line {line:?}")))?;
    let mut len = 0usize;
    loop {
        line.clear();
        c.io.read_line(&mut line).await?;
        let l = line.trim_end();
        if l.is_empty() {
            break;
        }
        let lower = l.to_ascii_lowercase();
        if let Some(v) = lower.strip_prefix("content-length:") {
            len = v.trim().parse().unwrap_or(0);
        } else if lower.starts_with("set-cookie:")
            && let Some(pair) = l[11..].trim().split(';').next()
        {
            // A cookie set again replaces its old value, as a browser's jar
            // does (appending would grow the header until the server
            // refuses it with 431).
            let name = pair.split('=').next().unwrap_or_default();
            let mut jar: Vec<&str> = c
                .cookie
                .split("; ")
                .filter(|kv| !kv.is_empty() && kv.split('=').next() != Some(name))
                .collect();
            jar.push(pair);
            c.cookie = jar.join("; ");
        }
    }
    Ok((status, len))
}

/// [`send_with`] without extra headers.
pub async fn send(
    c: &mut Conn,
    method: &str,
    path: &str,
    body: &str,
) -> std::io::Result<(u16, usize)> {
    send_with(c, method, path, body, &[]).await
}

/// One request on a kept-alive connection, with extra `headers`; returns
/// the status and the whole body.
pub async fn request_with(
    c: &mut Conn,
    method: &str,
    path: &str,
    body: &str,
    headers: &[(&str, &str)],
) -> std::io::Result<(u16, String)> {
    let (status, len) = send_with(c, method, path, body, headers).await?;
    let mut buf = vec![0u8; len];
    c.io.read_exact(&mut buf).await?;
    Ok((status, String::from_utf8_lossy(&buf).into_owned()))
}

/// [`request_with`] without extra headers.
pub async fn request(
    c: &mut Conn,
    method: &str,
    path: &str,
    body: &str,
) -> std::io::Result<(u16, String)> {
    request_with(c, method, path, body, &[]).await
}
