//! The rush bench's HTTP/1.1 client: one keep-alive connection per guest
//! or staff member, plain TCP to the daemon on loopback, cookies kept, so
//! thousands of them cost the bench little.

use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

/// One connection and the cookies it was given.
pub struct Conn {
    pub io: BufReader<TcpStream>,
    pub cookie: String,
}

/// Connects to the daemon on `port`.
pub async fn connect(port: u16) -> std::io::Result<Conn> {
    let tcp = TcpStream::connect(("127.0.0.1", port)).await?;
    tcp.set_nodelay(true)?;
    Ok(Conn {
        io: BufReader::new(tcp),
        cookie: String::new(),
    })
}

/// Sends a request head (and body); keeps `Set-Cookie`s; returns the status
/// and the `Content-Length` (0 for a stream).
pub async fn send(
    c: &mut Conn,
    method: &str,
    path: &str,
    body: &str,
) -> std::io::Result<(u16, usize)> {
    let mut req = format!(
        "{method} {path} HTTP/1.1\r\nHost: localhost\r\nContent-Length: {}\r\n",
        body.len()
    );
    if !body.is_empty() {
        req.push_str("Content-Type: application/json\r\n");
    }
    if !c.cookie.is_empty() {
        req.push_str(&format!("Cookie: {}\r\n", c.cookie));
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
            if !c.cookie.is_empty() {
                c.cookie.push_str("; ");
            }
            c.cookie.push_str(pair);
        }
    }
    Ok((status, len))
}

/// Sends a request and reads the whole answer: status and body.
pub async fn request(
    c: &mut Conn,
    method: &str,
    path: &str,
    body: &str,
) -> std::io::Result<(u16, String)> {
    let (status, len) = send(c, method, path, body).await?;
    let mut buf = vec![0u8; len];
    c.io.read_exact(&mut buf).await?;
    Ok((status, String::from_utf8_lossy(&buf).into_owned()))
}
