//! The guest side of the gateway benchmarks, run inside a guest's network
//! namespace: keep-alive load on the captive redirect, one timed join, and
//! a burst of DHCP requests from many made-up clients. Blocking sockets
//! and threads: everything a thread opens lives in this namespace.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::Arc;
use std::time::{Duration, Instant};

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{WebPkiSupportedAlgorithms, verify_tls12_signature, verify_tls13_signature};
use rustls::{DigitallySignedStruct, SignatureScheme};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, ServerName, UnixTime};

/// Runs one guest mode and prints its result line.
pub fn run(mode: &str, args: &[String]) {
    match mode {
        "guest-redirect" => {
            let conns: usize = args[0].parse().expect("connections");
            let secs: f64 = args[1].parse().expect("seconds");
            redirect(conns, Duration::from_secs_f64(secs));
        }
        "guest-join" => join(&args[0], &args[1], &args[2]),
        "guest-dhcp" => dhcp(args[0].parse().expect("count")),
        other => panic!("unknown guest mode {other}"),
    }
}

/// Reads one HTTP/1.1 response with a Content-Length body: status, head, body.
fn response(s: &mut impl Read) -> (u16, String, Vec<u8>) {
    let mut buf = Vec::with_capacity(4096);
    let mut byte = [0u8; 1];
    while !buf.ends_with(b"\r\n\r\n") {
        let n = s.read(&mut byte).expect("response");
        assert!(n == 1, "connection closed inside a response");
        buf.push(byte[0]);
    }
    let head = String::from_utf8_lossy(&buf).to_string();
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .expect("status line");
    let len = head
        .lines()
        .find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.eq_ignore_ascii_case("content-length")
                .then(|| v.trim().parse::<usize>().ok())?
        })
        .unwrap_or(0);
    let mut body = vec![0; len];
    s.read_exact(&mut body).expect("body");
    (status, head, body)
}

/// `conns` keep-alive connections asking for the Android probe for `time`;
/// prints requests/s, p50 and p99 in microseconds.
fn redirect(conns: usize, time: Duration) {
    let deadline = Instant::now() + time;
    let workers: Vec<_> = (0..conns)
        .map(|_| {
            std::thread::spawn(move || {
                let mut s = TcpStream::connect((super::UPSTREAM, 80)).expect("connect");
                s.set_nodelay(true).expect("nodelay");
                let req = format!(
                    "GET /generate_204 HTTP/1.1\r\nHost: {}\r\nUser-Agent: bench\r\n\r\n",
                    super::UPSTREAM
                );
                let mut lat = Vec::new();
                while Instant::now() < deadline {
                    let t = Instant::now();
                    s.write_all(req.as_bytes()).expect("send");
                    let (status, _, _) = response(&mut s);
                    assert_eq!(status, 302, "the captive redirect");
                    lat.push(t.elapsed());
                }
                lat
            })
        })
        .collect();
    let mut all: Vec<Duration> = workers
        .into_iter()
        .flat_map(|w| w.join().expect("worker"))
        .collect();
    all.sort();
    let rate = all.len() as f64 / time.as_secs_f64();
    println!(
        "{rate:.0} {} {}",
        super::percentile(&all, 0.50).as_micros(),
        super::percentile(&all, 0.99).as_micros()
    );
}

/// Accepts exactly the daemon's own (self-signed) certificate, read from
/// its data directory; signatures are checked as usual.
#[derive(Debug)]
struct Pinned {
    cert: CertificateDer<'static>,
    algs: WebPkiSupportedAlgorithms,
}

impl ServerCertVerifier for Pinned {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _: &[CertificateDer<'_>],
        _: &ServerName<'_>,
        _: &[u8],
        _: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        if end_entity.as_ref() == self.cert.as_ref() {
            Ok(ServerCertVerified::assertion())
        } else {
            Err(rustls::Error::General(
                "not the portal's certificate".into(),
            ))
        }
    }
    fn verify_tls12_signature(
        &self,
        m: &[u8],
        c: &CertificateDer<'_>,
        d: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls12_signature(m, c, d, &self.algs)
    }
    fn verify_tls13_signature(
        &self,
        m: &[u8],
        c: &CertificateDer<'_>,
        d: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13_signature(m, c, d, &self.algs)
    }
    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.algs.supported_schemes()
    }
}

/// Opens the portal page over HTTPS (keep-alive, as a phone's captive
/// window has it open), then times: the join form posted → 303 → a new
/// connection to the internet and its first request answered by upstream.
/// Prints the microseconds and upstream's status (204 when it passed).
fn join(portal: &str, upstream: &str, cert: &str) {
    let provider = rustls::crypto::ring::default_provider();
    let verifier = Pinned {
        cert: CertificateDer::from_pem_file(cert).expect("portal certificate"),
        algs: provider.signature_verification_algorithms,
    };
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(provider))
        .with_safe_default_protocol_versions()
        .expect("protocols")
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(verifier))
        .with_no_client_auth();
    let host = portal.split(':').next().expect("host").to_owned();
    let name = ServerName::try_from(host.clone()).expect("server name");
    let conn = rustls::ClientConnection::new(Arc::new(config), name).expect("tls");
    let mut tls = rustls::StreamOwned::new(conn, TcpStream::connect(portal).expect("portal"));
    tls.sock.set_nodelay(true).expect("nodelay");
    write!(
        tls,
        "GET / HTTP/1.1\r\nHost: {portal}\r\nAccept: text/html\r\n\r\n"
    )
    .expect("landing request");
    let (status, head, body) = response(&mut tls);
    assert_eq!(status, 200, "landing page: {head}");
    let cookies: Vec<String> = head
        .lines()
        .filter_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.eq_ignore_ascii_case("set-cookie")
                .then(|| v.trim().split(';').next().map(str::to_owned))?
        })
        .collect();
    let body = String::from_utf8_lossy(&body);
    let csrf = body
        .split("name=\"_csrf\" value=\"")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .unwrap_or_else(|| panic!("no csrf token on the landing page: {head}{body}"));
    let form = format!("_csrf={csrf}&accept=yes");

    let t = Instant::now();
    write!(
        tls,
        "POST /join HTTP/1.1\r\nHost: {portal}\r\nCookie: {}\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n{form}",
        cookies.join("; "),
        form.len()
    )
    .expect("join request");
    let (status, head, _) = response(&mut tls);
    assert_eq!(status, 303, "join: {head}");
    let mut s = TcpStream::connect(upstream).expect("upstream");
    s.set_nodelay(true).expect("nodelay");
    write!(
        s,
        "GET /generate_204 HTTP/1.1\r\nHost: {upstream}\r\nConnection: close\r\n\r\n"
    )
    .expect("probe");
    let (status, _, _) = response(&mut s);
    println!("{} {status}", t.elapsed().as_micros());
}

/// Sends `n` DHCPDISCOVERs from made-up clients 02:00:00:dd:XX:YY, each
/// with a host name, on this namespace's `c0`, a millisecond apart.
fn dhcp(n: usize) {
    let iface = pnet_datalink::interfaces()
        .into_iter()
        .find(|i| i.name == "c0")
        .expect("c0");
    let mut tx = match pnet_datalink::channel(&iface, pnet_datalink::Config::default()) {
        Ok(pnet_datalink::Channel::Ethernet(tx, _)) => tx,
        _ => panic!("raw socket on c0"),
    };
    for i in 0..n {
        let [hi, lo] = u16::try_from(i).expect("fewer than 65536").to_be_bytes();
        let mac = [0x02, 0, 0, 0xdd, hi, lo];
        let frame = discover(mac, &format!("bench-{i}"));
        tx.send_to(&frame, None).expect("sent").expect("frame sent");
        std::thread::sleep(Duration::from_millis(1));
    }
    println!("{n}");
}

/// A broadcast DHCPDISCOVER frame (Ethernet, IPv4, UDP 68 → 67, BOOTP).
fn discover(mac: [u8; 6], hostname: &str) -> Vec<u8> {
    let mut bootp = vec![0u8; 236];
    bootp[0] = 1; // request
    bootp[1] = 1; // Ethernet
    bootp[2] = 6;
    bootp[4..8]
        .copy_from_slice(&u32::from_be_bytes([mac[2], mac[3], mac[4], mac[5]]).to_be_bytes());
    bootp[10] = 0x80; // broadcast replies
    bootp[28..34].copy_from_slice(&mac);
    bootp.extend_from_slice(&[99, 130, 83, 99, 53, 1, 1]);
    bootp.extend_from_slice(&[12, u8::try_from(hostname.len()).expect("short name")]);
    bootp.extend_from_slice(hostname.as_bytes());
    bootp.push(255);

    let udp_len = u16::try_from(8 + bootp.len()).expect("small");
    let mut udp = Vec::new();
    udp.extend_from_slice(&68u16.to_be_bytes());
    udp.extend_from_slice(&67u16.to_be_bytes());
    udp.extend_from_slice(&udp_len.to_be_bytes());
    udp.extend_from_slice(&[0, 0]); // no UDP checksum (allowed for IPv4)
    udp.extend_from_slice(&bootp);

    let total = u16::try_from(20 + udp.len()).expect("small");
    let mut ip = vec![0x45, 0];
    ip.extend_from_slice(&total.to_be_bytes());
    ip.extend_from_slice(&[0, 0, 0, 0, 64, 17, 0, 0]);
    ip.extend_from_slice(&[0, 0, 0, 0]);
    ip.extend_from_slice(&[255, 255, 255, 255]);
    let sum = ip
        .chunks(2)
        .map(|w| u32::from(u16::from_be_bytes([w[0], w[1]])))
        .sum::<u32>();
    let folded = (sum & 0xffff) + (sum >> 16);
    let check = !u16::try_from((folded & 0xffff) + (folded >> 16)).expect("folded");
    ip[10..12].copy_from_slice(&check.to_be_bytes());
    ip.extend_from_slice(&udp);

    let mut frame = vec![0xff; 6];
    frame.extend_from_slice(&mac);
    frame.extend_from_slice(&[0x08, 0x00]);
    frame.extend_from_slice(&ip);
    frame
}
