//! Errors of the node's operations, one type per operation.

use std::io;

use thiserror::Error;

/// Starting a [`Node`](crate::Node) failed.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum StartError {
    /// The node name is not `name@host`.
    #[error("invalid node name `{0}`: expected name@host")]
    InvalidName(String),
    /// The cookie is empty.
    #[error("the cookie is empty")]
    EmptyCookie,
    /// The listening socket could not be opened.
    #[error("cannot listen for connections: {0}")]
    Listen(#[source] io::Error),
    /// EPMD is not running and could not be started, or did not answer.
    #[error("EPMD unavailable: {0}")]
    Epmd(#[source] io::Error),
    /// EPMD refused the registration: another node has this name.
    #[error("EPMD refused the name `{0}` (is another node running under it?)")]
    NameTaken(String),
    /// A thread could not be started.
    #[error("cannot start a node thread: {0}")]
    Thread(#[source] io::Error),
}

/// Connecting to another node failed.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum ConnectError {
    /// The node name is not `name@host`.
    #[error("invalid node name `{0}`: expected name@host")]
    InvalidName(String),
    /// The peer is this node.
    #[error("a node does not connect to itself")]
    SelfConnect,
    /// The EPMD of the peer's host did not answer.
    #[error("cannot reach EPMD on `{host}`: {source}")]
    Epmd {
        /// The host.
        host: String,
        /// Why.
        #[source]
        source: io::Error,
    },
    /// No node of that name is registered with its host's EPMD.
    #[error("no node `{0}` is registered with EPMD")]
    NotRegistered(String),
    /// The connection failed or broke during the handshake.
    #[error("connection failed: {0}")]
    Io(#[source] io::Error),
    /// The handshake did not complete in time.
    #[error("the handshake timed out")]
    Timeout,
    /// The cookies differ: one side's digest did not match.
    #[error("the peer and this node have different cookies")]
    BadCookie,
    /// The peer refused the connection with this status.
    #[error("the peer refused the connection: {0}")]
    Refused(String),
    /// The peer lacks capabilities this node needs (it is older than
    /// OTP 24).
    #[error("the peer lacks required distribution capabilities (flags {0:#x}); OTP 24 or later is needed")]
    Incompatible(u64),
    /// The peer broke the protocol.
    #[error("protocol error: {0}")]
    Protocol(String),
    /// The peer answered under another name than the one dialled.
    #[error("dialled `{expected}` but `{found}` answered")]
    NameMismatch {
        /// The name dialled.
        expected: String,
        /// The name the peer gave.
        found: String,
    },
    /// The node is stopping or stopped.
    #[error("the node is stopped")]
    Stopped,
}

impl ConnectError {
    pub(crate) fn from_io(e: io::Error) -> ConnectError {
        match e.kind() {
            io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut => ConnectError::Timeout,
            _ => ConnectError::Io(e),
        }
    }
}

impl ConnectError {
    /// A copy (I/O errors keep their kind and text).
    pub(crate) fn copy(&self) -> ConnectError {
        let io_copy = |e: &io::Error| io::Error::new(e.kind(), e.to_string());
        match self {
            ConnectError::InvalidName(n) => ConnectError::InvalidName(n.clone()),
            ConnectError::SelfConnect => ConnectError::SelfConnect,
            ConnectError::Epmd { host, source } => ConnectError::Epmd {
                host: host.clone(),
                source: io_copy(source),
            },
            ConnectError::NotRegistered(n) => ConnectError::NotRegistered(n.clone()),
            ConnectError::Io(e) => ConnectError::Io(io_copy(e)),
            ConnectError::Timeout => ConnectError::Timeout,
            ConnectError::BadCookie => ConnectError::BadCookie,
            ConnectError::Refused(s) => ConnectError::Refused(s.clone()),
            ConnectError::Incompatible(f) => ConnectError::Incompatible(*f),
            ConnectError::Protocol(s) => ConnectError::Protocol(s.clone()),
            ConnectError::NameMismatch { expected, found } => ConnectError::NameMismatch {
                expected: expected.clone(),
                found: found.clone(),
            },
            ConnectError::Stopped => ConnectError::Stopped,
        }
    }
}

/// Sending to another node failed before anything was sent. (A message
/// to a node that cannot be reached, or to a process that does not exist,
/// is dropped silently, as in Erlang.)
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum SendError {
    /// The message cannot be encoded.
    #[error("cannot encode the message: {0}")]
    Encode(#[from] crate::term::EncodeError),
}

/// A call to a server on another node failed.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum CallError {
    /// The server does not exist (`noproc`).
    #[error("no such process (noproc)")]
    NoProc,
    /// No reply within the timeout.
    #[error("timeout")]
    Timeout,
    /// The server's node cannot be reached, or the connection was lost
    /// during the call (Erlang's `{nodedown, Node}`).
    #[error("no connection to the server's node")]
    NoConnection,
    /// The server exited during the call.
    #[error("the server exited: {0}")]
    Exited(rotp_runtime::ExitReason),
    /// The reply did not convert to the expected type.
    #[error("unexpected reply: {0}")]
    BadReply(crate::term::BadMessage),
    /// The request cannot be encoded.
    #[error("cannot encode the request: {0}")]
    Encode(#[from] crate::term::EncodeError),
    /// The calling process was told to exit while waiting (R1).
    #[error("the calling process is exiting")]
    CallerExiting,
}
