//! A hand-driven peer, for tests of how a node copes with what other
//! nodes send: [`RawPeer`] completes the handshake like any node, then
//! writes whatever frames the test gives it, well-formed or not.

use std::io::{self, Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use crate::epmd;
use crate::error::ConnectError;
use crate::flags;
use crate::handshake::{self, Local};
use crate::name;
use crate::term::{Atom, EncodeError, RemotePid, Term};

/// A connection to a node, made by a test playing another node.
///
/// ```no_run
/// use rotp_dist::testing::RawPeer;
/// use rotp_dist::Term;
///
/// let mut peer = RawPeer::connect("rotp@127.0.0.1", "fake@127.0.0.1", "cookie")?;
/// // A well-formed message to the process registered as `inbox`...
/// peer.reg_send("inbox", &Term::atom("hello").to_bytes()?)?;
/// // ...and one whose message is not a term at all.
/// peer.reg_send("inbox", &[131, 255, 0])?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct RawPeer {
    stream: TcpStream,
    name: Atom,
    creation: u32,
}

impl RawPeer {
    /// Dials `node` (found through EPMD) as a node named `name`, and runs
    /// the handshake with `cookie`.
    pub fn connect(node: &str, name: &str, cookie: &str) -> Result<RawPeer, ConnectError> {
        let target = Atom::try_new(node).map_err(|_| ConnectError::InvalidName(node.into()))?;
        let (alive, host) =
            name::split(node).ok_or_else(|| ConnectError::InvalidName(node.into()))?;
        let port = epmd::port_please(host, epmd::default_port(), alive)
            .map_err(|source| ConnectError::Epmd {
                host: host.into(),
                source,
            })?
            .ok_or_else(|| ConnectError::NotRegistered(node.into()))?;
        let mut stream = TcpStream::connect((host, port)).map_err(ConnectError::Io)?;
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .map_err(ConnectError::Io)?;
        let me = Atom::try_new(name).map_err(|_| ConnectError::InvalidName(name.into()))?;
        let creation = 0x5eed;
        let local = Local {
            name: &me,
            creation,
            flags: flags::OFFERED,
            cookie: cookie.as_bytes(),
            deadline: std::time::Instant::now() + Duration::from_secs(10),
        };
        handshake::initiate(&mut stream, &local, &target)?;
        Ok(RawPeer {
            stream,
            name: me,
            creation,
        })
    }

    /// A pid of this pretend node.
    pub fn pid(&self, id: u32) -> RemotePid {
        RemotePid::new(self.name.clone(), id, 0, self.creation)
    }

    /// Writes raw bytes, exactly as given.
    pub fn send_raw(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.stream.write_all(bytes)
    }

    /// Writes one frame: a four-byte length, then `body`.
    pub fn send_frame(&mut self, body: &[u8]) -> io::Result<()> {
        let mut frame = (body.len() as u32).to_be_bytes().to_vec();
        frame.extend_from_slice(body);
        self.stream.write_all(&frame)
    }

    /// Writes a pass-through frame: `control` (encoded here), then
    /// `message`, raw bytes that may or may not be a term.
    pub fn send_control(&mut self, control: &Term, message: &[u8]) -> Result<(), EncodeError> {
        let mut body = vec![crate::control::PASS_THROUGH];
        control.encode_into(&mut body)?;
        body.extend_from_slice(message);
        self.send_frame(&body)
            .map_err(|_| EncodeError("the connection is closed"))
    }

    /// Sends raw `message` bytes to the process registered as `name`
    /// (`REG_SEND`), from pid 1 of this pretend node.
    pub fn reg_send(&mut self, name: &str, message: &[u8]) -> Result<(), EncodeError> {
        let control = Term::tuple(vec![
            Term::Int(6),
            Term::Pid(self.pid(1)),
            Term::atom(""),
            Term::atom(name),
        ]);
        self.send_control(&control, message)
    }

    /// Reads the next frame that is not a tick, waiting up to `timeout`.
    pub fn recv_frame(&mut self, timeout: Duration) -> io::Result<Vec<u8>> {
        self.stream.set_read_timeout(Some(timeout))?;
        loop {
            let mut len = [0u8; 4];
            self.stream.read_exact(&mut len)?;
            let len = u32::from_be_bytes(len) as usize;
            if len == 0 {
                continue;
            }
            let mut body = vec![0u8; len.min(64 << 20)];
            self.stream.read_exact(&mut body)?;
            return Ok(body);
        }
    }
}
