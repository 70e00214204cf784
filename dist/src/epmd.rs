//! The EPMD client: register this node, look up others.
//!
//! EPMD (the Erlang Port Mapper Daemon, port 4369) maps node names to
//! distribution ports on one host. A node keeps its registration
//! connection open for as long as it lives: EPMD forgets the name when the
//! connection closes. If no EPMD answers, `ensure_running` starts the one
//! that comes with Erlang/OTP (`epmd -daemon`), as `erl -name` does.

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// EPMD's port, unless `ERL_EPMD_PORT` says otherwise.
pub(crate) fn default_port() -> u16 {
    std::env::var("ERL_EPMD_PORT")
        .ok()
        .and_then(|p| p.parse().ok())
        .unwrap_or(4369)
}

const ALIVE2_REQ: u8 = 120;
const ALIVE2_X_RESP: u8 = 118;
const ALIVE2_RESP: u8 = 121;
const PORT_PLEASE2_REQ: u8 = 122;
const PORT2_RESP: u8 = 119;

/// Normal (visible) and hidden node types.
const NODE_TYPE_NORMAL: u8 = 77;
const NODE_TYPE_HIDDEN: u8 = 72;

/// How long one exchange with EPMD may take.
const EPMD_TIMEOUT: Duration = Duration::from_secs(5);

/// A live registration; dropping it closes the connection, and EPMD
/// forgets the name.
#[derive(Debug)]
pub(crate) struct Registration {
    _stream: TcpStream,
    /// The creation EPMD gave this incarnation of the node.
    pub(crate) creation: u32,
}

/// Why a registration failed.
#[derive(Debug)]
pub(crate) enum RegisterError {
    Io(io::Error),
    /// EPMD said no (the name is taken).
    Refused,
}

fn connect(host: &str, port: u16) -> io::Result<TcpStream> {
    let addrs: Vec<SocketAddr> = (host, port).to_socket_addrs()?.collect();
    let mut last = io::Error::new(io::ErrorKind::NotFound, "no address for host");
    for addr in addrs {
        match TcpStream::connect_timeout(&addr, EPMD_TIMEOUT) {
            Ok(s) => {
                s.set_read_timeout(Some(EPMD_TIMEOUT))?;
                s.set_write_timeout(Some(EPMD_TIMEOUT))?;
                s.set_nodelay(true)?;
                return Ok(s);
            }
            Err(e) => last = e,
        }
    }
    Err(last)
}

fn request(stream: &mut TcpStream, body: &[u8]) -> io::Result<()> {
    let len = u16::try_from(body.len())
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "EPMD request too long"))?;
    let mut packet = len.to_be_bytes().to_vec();
    packet.extend_from_slice(body);
    stream.write_all(&packet)
}

/// Makes sure an EPMD answers on `port` of this host, starting one if none
/// does.
pub(crate) fn ensure_running(port: u16) -> io::Result<()> {
    if connect("127.0.0.1", port).is_ok() {
        return Ok(());
    }
    let status = Command::new("epmd")
        .arg("-daemon")
        .arg("-port")
        .arg(port.to_string())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .map_err(|e| {
            io::Error::new(
                e.kind(),
                format!(
                    "no EPMD on port {port}, and `epmd` could not be run ({e}); install Erlang/OTP"
                ),
            )
        })?;
    if !status.success() {
        return Err(io::Error::other(format!("`epmd -daemon` failed: {status}")));
    }
    let deadline = Instant::now() + EPMD_TIMEOUT;
    loop {
        match connect("127.0.0.1", port) {
            Ok(_) => return Ok(()),
            Err(e) if Instant::now() >= deadline => return Err(e),
            Err(_) => std::thread::sleep(Duration::from_millis(20)),
        }
    }
}

/// Registers `alive` (the part of the node name before `@`) as listening
/// on `listen_port`.
pub(crate) fn register(
    epmd_port: u16,
    alive: &str,
    listen_port: u16,
    hidden: bool,
) -> Result<Registration, RegisterError> {
    let mut stream = connect("127.0.0.1", epmd_port).map_err(RegisterError::Io)?;
    let mut body = vec![ALIVE2_REQ];
    body.extend_from_slice(&listen_port.to_be_bytes());
    body.push(if hidden {
        NODE_TYPE_HIDDEN
    } else {
        NODE_TYPE_NORMAL
    });
    body.push(0); // TCP/IPv4
    body.extend_from_slice(&6u16.to_be_bytes()); // highest version
    body.extend_from_slice(&6u16.to_be_bytes()); // lowest version
    body.extend_from_slice(&(alive.len() as u16).to_be_bytes());
    body.extend_from_slice(alive.as_bytes());
    body.extend_from_slice(&0u16.to_be_bytes()); // no extra
    request(&mut stream, &body).map_err(RegisterError::Io)?;
    let mut head = [0u8; 2];
    stream.read_exact(&mut head).map_err(RegisterError::Io)?;
    let creation = match head {
        [ALIVE2_X_RESP, 0] => {
            let mut c = [0u8; 4];
            stream.read_exact(&mut c).map_err(RegisterError::Io)?;
            u32::from_be_bytes(c)
        }
        [ALIVE2_RESP, 0] => {
            let mut c = [0u8; 2];
            stream.read_exact(&mut c).map_err(RegisterError::Io)?;
            u32::from(u16::from_be_bytes(c))
        }
        [ALIVE2_X_RESP | ALIVE2_RESP, _] => return Err(RegisterError::Refused),
        _ => {
            return Err(RegisterError::Io(io::Error::new(
                io::ErrorKind::InvalidData,
                "unexpected EPMD answer",
            )))
        }
    };
    // The connection stays open but idle: no timeout may close it.
    stream.set_read_timeout(None).map_err(RegisterError::Io)?;
    Ok(Registration {
        _stream: stream,
        creation,
    })
}

/// Where a node listens, as its host's EPMD says; `None` if it is not
/// registered.
pub(crate) fn port_please(host: &str, epmd_port: u16, alive: &str) -> io::Result<Option<u16>> {
    let mut stream = connect(host, epmd_port)?;
    let mut body = vec![PORT_PLEASE2_REQ];
    body.extend_from_slice(alive.as_bytes());
    request(&mut stream, &body)?;
    let mut head = [0u8; 2];
    stream.read_exact(&mut head)?;
    if head[0] != PORT2_RESP {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            "unexpected EPMD answer",
        ));
    }
    if head[1] != 0 {
        return Ok(None);
    }
    // PortNo, NodeType, Protocol, HighestVersion, LowestVersion.
    let mut rest = [0u8; 8];
    stream.read_exact(&mut rest)?;
    let port = u16::from_be_bytes([rest[0], rest[1]]);
    let highest = u16::from_be_bytes([rest[4], rest[5]]);
    if highest < 6 {
        return Err(io::Error::new(
            io::ErrorKind::Unsupported,
            "the node only speaks distribution version 5 (OTP 22 or older)",
        ));
    }
    Ok(Some(port))
}
