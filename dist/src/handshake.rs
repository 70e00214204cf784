//! The distribution handshake (protocol version 6, OTP 23 and later).
//!
//! ```text
//!  A (initiator)                               B (acceptor)
//!  send_name  'N' flags creation name  ──────►
//!             ◄──────────────────────────────  's' status
//!             ◄──────────────────────────────  'N' flags challengeB creation name
//!  'r' challengeA MD5(cookie ++ challengeB) ─►  B checks the digest
//!             ◄──────────────────────────────  'a' MD5(cookie ++ challengeA)
//!  A checks the digest: the connection is up
//! ```
//!
//! Every handshake message has a two-byte length; afterwards the
//! connection switches to four-byte frames. The cookie itself never
//! crosses the wire, and nothing here logs it.

use std::io::{self, Read, Write};
use std::net::TcpStream;
use std::time::Instant;

use crate::error::ConnectError;
use crate::flags;
use crate::md5;
use crate::random::random_u32;
use crate::term::Atom;

/// This node, as the handshake presents it.
pub(crate) struct Local<'a> {
    pub(crate) name: &'a Atom,
    pub(crate) creation: u32,
    pub(crate) flags: u64,
    pub(crate) cookie: &'a [u8],
    /// When the whole handshake must be done: a peer that trickles bytes
    /// cannot hold a handshake thread longer.
    pub(crate) deadline: Instant,
}

/// The node at the other end, once the handshake is done.
#[derive(Debug, Clone)]
pub(crate) struct Peer {
    pub(crate) name: Atom,
}

/// What the acceptor answers to a node's name (`send_status`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Admission {
    /// Go on.
    Ok,
    /// Go on; this node drops its own attempt to connect to the peer.
    OkSimultaneous,
    /// No: this node's own attempt to connect to the peer wins.
    Nok,
    /// A connection to the peer is up; ask whether to replace it.
    Alive,
    /// No.
    NotAllowed,
}

impl Admission {
    fn status(self) -> &'static str {
        match self {
            Admission::Ok => "ok",
            Admission::OkSimultaneous => "ok_simultaneous",
            Admission::Nok => "nok",
            Admission::Alive => "alive",
            Admission::NotAllowed => "not_allowed",
        }
    }
}

/// The longest handshake message accepted.
const MAX_PACKET: usize = 4096;

fn send(stream: &mut TcpStream, body: &[u8]) -> Result<(), ConnectError> {
    let mut packet = (body.len() as u16).to_be_bytes().to_vec();
    packet.extend_from_slice(body);
    stream.write_all(&packet).map_err(ConnectError::from_io)
}

/// Fills `buf` before `deadline`, however the bytes trickle in.
fn read_by(stream: &mut TcpStream, buf: &mut [u8], deadline: Instant) -> Result<(), ConnectError> {
    let mut filled = 0;
    while filled < buf.len() {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(ConnectError::Timeout);
        }
        stream
            .set_read_timeout(Some(left))
            .map_err(ConnectError::Io)?;
        match stream.read(&mut buf[filled..]) {
            Ok(0) => return Err(ConnectError::Io(io::ErrorKind::UnexpectedEof.into())),
            Ok(n) => filled += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(ConnectError::from_io(e)),
        }
    }
    Ok(())
}

fn recv(stream: &mut TcpStream, deadline: Instant) -> Result<Vec<u8>, ConnectError> {
    let mut len = [0u8; 2];
    read_by(stream, &mut len, deadline)?;
    let len = usize::from(u16::from_be_bytes(len));
    if len == 0 || len > MAX_PACKET {
        return Err(ConnectError::Protocol(format!(
            "handshake message of {len} bytes"
        )));
    }
    let mut body = vec![0u8; len];
    read_by(stream, &mut body, deadline)?;
    Ok(body)
}

/// A reader over a handshake message's fields.
struct Fields<'a>(&'a [u8]);

impl<'a> Fields<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], ConnectError> {
        if self.0.len() < n {
            return Err(ConnectError::Protocol("short handshake message".into()));
        }
        let (head, rest) = self.0.split_at(n);
        self.0 = rest;
        Ok(head)
    }

    fn u16(&mut self) -> Result<u16, ConnectError> {
        Ok(u16::from_be_bytes(self.take(2)?.try_into().expect("two")))
    }

    fn u32(&mut self) -> Result<u32, ConnectError> {
        Ok(u32::from_be_bytes(self.take(4)?.try_into().expect("four")))
    }

    fn u64(&mut self) -> Result<u64, ConnectError> {
        Ok(u64::from_be_bytes(self.take(8)?.try_into().expect("eight")))
    }

    fn digest(&mut self) -> Result<[u8; 16], ConnectError> {
        Ok(self.take(16)?.try_into().expect("sixteen"))
    }

    /// A length-prefixed node name (extra bytes after it are ignored).
    fn name(&mut self) -> Result<Atom, ConnectError> {
        let len = usize::from(self.u16()?);
        let raw = self.take(len)?;
        let text = std::str::from_utf8(raw)
            .map_err(|_| ConnectError::Protocol("node name is not UTF-8".into()))?;
        if crate::name::split(text).is_none() {
            return Err(ConnectError::Protocol(format!("bad node name `{text}`")));
        }
        Atom::try_new(text).map_err(|e| ConnectError::Protocol(e.to_string()))
    }
}

/// `send_name` / the challenge message share this layout after the tag.
fn name_message(local: &Local<'_>, challenge: Option<u32>) -> Vec<u8> {
    let mut body = vec![b'N'];
    body.extend_from_slice(&local.flags.to_be_bytes());
    if let Some(c) = challenge {
        body.extend_from_slice(&c.to_be_bytes());
    }
    body.extend_from_slice(&local.creation.to_be_bytes());
    let name = local.name.as_str().as_bytes();
    body.extend_from_slice(&(name.len() as u16).to_be_bytes());
    body.extend_from_slice(name);
    body
}

fn check_flags(peer_flags: u64) -> Result<(), ConnectError> {
    match flags::missing(peer_flags) {
        0 => Ok(()),
        missing => Err(ConnectError::Incompatible(missing)),
    }
}

/// Runs the handshake as the node that dialled (`A`), to `expected`.
pub(crate) fn initiate(
    stream: &mut TcpStream,
    local: &Local<'_>,
    expected: &Atom,
) -> Result<Peer, ConnectError> {
    send(stream, &name_message(local, None))?;

    let status = recv(stream, local.deadline)?;
    let status = match status.split_first() {
        Some((b's', rest)) => String::from_utf8_lossy(rest).into_owned(),
        _ => return Err(ConnectError::Protocol("expected a status".into())),
    };
    match status.as_str() {
        "ok" | "ok_simultaneous" => {}
        // The peer still has a connection from an earlier incarnation of
        // this node: tell it to drop that one.
        "alive" => send(stream, b"strue")?,
        other => return Err(ConnectError::Refused(other.to_owned())),
    }

    let challenge = recv(stream, local.deadline)?;
    let mut f = Fields(&challenge);
    if f.take(1)? != b"N" {
        return Err(ConnectError::Protocol("expected the challenge".into()));
    }
    let peer_flags = f.u64()?;
    let their_challenge = f.u32()?;
    let _creation = f.u32()?;
    let name = f.name()?;
    if &name != expected {
        return Err(ConnectError::NameMismatch {
            expected: expected.as_str().to_owned(),
            found: name.as_str().to_owned(),
        });
    }
    check_flags(peer_flags)?;

    let our_challenge = random_u32();
    let mut reply = vec![b'r'];
    reply.extend_from_slice(&our_challenge.to_be_bytes());
    reply.extend_from_slice(&md5::digest(their_challenge, local.cookie));
    send(stream, &reply)?;

    // A peer with another cookie closes the connection here.
    let ack = match recv(stream, local.deadline) {
        Ok(ack) => ack,
        Err(ConnectError::Io(e)) if e.kind() == io::ErrorKind::UnexpectedEof => {
            return Err(ConnectError::BadCookie)
        }
        Err(e) => return Err(e),
    };
    let mut f = Fields(&ack);
    if f.take(1)? != b"a" {
        return Err(ConnectError::Protocol("expected the challenge ack".into()));
    }
    let digest = f.digest()?;
    if !md5::same_digest(&digest, &md5::digest(our_challenge, local.cookie)) {
        return Err(ConnectError::BadCookie);
    }
    Ok(Peer { name })
}

/// Runs the handshake as the node that was dialled (`B`). `admit` sees
/// the peer's name and creation and chooses the status.
pub(crate) fn accept(
    stream: &mut TcpStream,
    local: &Local<'_>,
    admit: impl FnOnce(&Atom, u32) -> Admission,
) -> Result<Peer, ConnectError> {
    let hello = recv(stream, local.deadline)?;
    let mut f = Fields(&hello);
    match f.take(1)? {
        b"N" => {}
        b"n" => {
            let _ = send(stream, b"snot_allowed");
            return Err(ConnectError::Protocol(
                "the peer speaks only the old handshake (OTP 22 or older)".into(),
            ));
        }
        _ => return Err(ConnectError::Protocol("expected send_name".into())),
    }
    let peer_flags = f.u64()?;
    let creation = f.u32()?;
    let name = f.name()?;
    if let Err(e) = check_flags(peer_flags) {
        let _ = send(stream, b"snot_allowed");
        return Err(e);
    }

    let admission = admit(&name, creation);
    let mut status = vec![b's'];
    status.extend_from_slice(admission.status().as_bytes());
    send(stream, &status)?;
    match admission {
        Admission::Ok | Admission::OkSimultaneous => {}
        Admission::Alive => {
            let answer = recv(stream, local.deadline)?;
            if answer != b"strue" {
                return Err(ConnectError::Refused(
                    "the peer kept its earlier connection".into(),
                ));
            }
        }
        Admission::Nok | Admission::NotAllowed => {
            return Err(ConnectError::Refused(admission.status().to_owned()))
        }
    }

    let our_challenge = random_u32();
    send(stream, &name_message(local, Some(our_challenge)))?;

    let reply = recv(stream, local.deadline)?;
    let mut f = Fields(&reply);
    if f.take(1)? != b"r" {
        return Err(ConnectError::Protocol(
            "expected the challenge reply".into(),
        ));
    }
    let their_challenge = f.u32()?;
    let digest = f.digest()?;
    if !md5::same_digest(&digest, &md5::digest(our_challenge, local.cookie)) {
        return Err(ConnectError::BadCookie);
    }
    let mut ack = vec![b'a'];
    ack.extend_from_slice(&md5::digest(their_challenge, local.cookie));
    send(stream, &ack)?;
    Ok(Peer { name })
}
