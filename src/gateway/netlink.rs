//! Netlink requests, shared by the neighbour table (rtnetlink, messages
//! from `netlink-packet-route`) and conntrack (ctnetlink,
//! [`super::conntrack`]): framing by `netlink-packet-core`, sockets by
//! `netlink-sys`; a request's replies are read until its dump ends or the
//! kernel acknowledges it, and a refusal is an error naming the errno.

use netlink_packet_core::{
    DecodeError, NetlinkDeserializable, NetlinkHeader, NetlinkMessage, NetlinkPayload,
    NetlinkSerializable,
};
use netlink_sys::Socket;

/// What went wrong talking to the kernel, and what we were doing.
#[derive(Debug, thiserror::Error)]
pub enum NetlinkError {
    /// The socket failed.
    #[error("cannot {what} over netlink: {source}")]
    Io {
        /// What we tried.
        what: &'static str,
        /// Why it failed.
        source: std::io::Error,
    },
    /// The kernel answered with an error.
    #[error("the kernel refused to {what}: {source}")]
    Refused {
        /// What we asked for.
        what: &'static str,
        /// The errno it answered.
        source: std::io::Error,
    },
    /// A reply could not be read.
    #[error("cannot {what}: a netlink reply is unreadable: {source}")]
    Decode {
        /// What we asked for.
        what: &'static str,
        /// What was wrong with it.
        source: DecodeError,
    },
}

impl NetlinkError {
    /// The errno of a refusal or a socket error.
    pub fn errno(&self) -> Option<i32> {
        match self {
            NetlinkError::Io { source, .. } | NetlinkError::Refused { source, .. } => {
                source.raw_os_error()
            }
            NetlinkError::Decode { .. } => None,
        }
    }
}

/// A socket of `protocol` (`netlink_sys::protocols::*`), bound to a port
/// the kernel picks, or subscribed to `groups` when not zero.
pub fn socket(protocol: isize, groups: u32, what: &'static str) -> Result<Socket, NetlinkError> {
    let io = |source| NetlinkError::Io { what, source };
    let mut sock = Socket::new(protocol).map_err(io)?;
    if groups == 0 {
        sock.bind_auto().map_err(io)?;
    } else {
        sock.bind(&netlink_sys::SocketAddr::new(0, groups))
            .map_err(io)?;
    }
    Ok(sock)
}

/// The messages in one datagram, in order.
pub fn messages<I: NetlinkDeserializable>(
    mut buf: &[u8],
) -> Result<Vec<NetlinkMessage<I>>, DecodeError> {
    let mut out = Vec::new();
    while buf.len() >= 16 {
        let m = NetlinkMessage::<I>::deserialize(buf)?;
        let len = usize::try_from(m.header.length).unwrap_or(usize::MAX);
        out.push(m);
        if len < 16 {
            break;
        }
        buf = &buf[len.next_multiple_of(4).min(buf.len())..];
    }
    Ok(out)
}

/// `body` as one request with `flags` (`NLM_F_*`) and sequence number
/// `seq`, ready to send.
pub fn encode<I: NetlinkSerializable>(body: I, flags: u16, seq: u32) -> Vec<u8> {
    let mut header = NetlinkHeader::default();
    header.flags = flags;
    header.sequence_number = seq;
    let mut msg = NetlinkMessage::new(header, NetlinkPayload::InnerMessage(body));
    msg.finalize();
    let mut buf = vec![0; msg.buffer_len()];
    msg.serialize(&mut buf);
    buf
}

/// What one batch of replies said.
#[derive(Debug)]
pub enum Replies<I> {
    /// More to come.
    More(Vec<I>),
    /// The last of them: the dump ended or the kernel acknowledged.
    Done(Vec<I>),
}

/// Sorts one datagram of replies: the messages, and whether the request
/// is answered; a refusal is an error.
pub fn replies<I: NetlinkDeserializable>(
    buf: &[u8],
    what: &'static str,
) -> Result<Replies<I>, NetlinkError> {
    let mut found = Vec::new();
    for m in messages::<I>(buf).map_err(|source| NetlinkError::Decode { what, source })? {
        match m.payload {
            NetlinkPayload::InnerMessage(i) => found.push(i),
            NetlinkPayload::Done(_) => return Ok(Replies::Done(found)),
            NetlinkPayload::Error(e) if e.code.is_none() => return Ok(Replies::Done(found)),
            NetlinkPayload::Error(e) => {
                return Err(NetlinkError::Refused {
                    what,
                    source: e.to_io(),
                });
            }
            _ => {}
        }
    }
    Ok(Replies::More(found))
}

/// Sends `body` with `flags` and reads the replies until the dump ends or
/// the kernel acknowledges; each message goes to `each`.
pub fn request<I: NetlinkSerializable + NetlinkDeserializable>(
    sock: &mut Socket,
    body: I,
    flags: u16,
    seq: u32,
    what: &'static str,
    mut each: impl FnMut(I),
) -> Result<(), NetlinkError> {
    let io = |source| NetlinkError::Io { what, source };
    sock.send(&encode(body, flags, seq), 0).map_err(io)?;
    loop {
        let (buf, _) = sock.recv_from_full().map_err(io)?;
        match replies::<I>(&buf, what)? {
            Replies::More(found) => found.into_iter().for_each(&mut each),
            Replies::Done(found) => {
                found.into_iter().for_each(&mut each);
                return Ok(());
            }
        }
    }
}
