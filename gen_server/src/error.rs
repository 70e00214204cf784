//! Errors of the client API.

use rotp_runtime::{ExitReason, Pid};
use thiserror::Error;

/// Why a call failed (rule 59: OTP exits the caller; rotp returns the
/// reason).
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum CallError {
    /// No reply within the timeout (rule 65). The server still handles the
    /// request; a late reply is dropped (rule 66).
    #[error("call timed out")]
    Timeout,
    /// No such server: an unregistered name or a dead pid (rule 60).
    #[error("no process")]
    NoProc,
    /// The server exited before replying, with this reason (rule 62).
    #[error("server exited: {0}")]
    Exited(ExitReason),
    /// A server called itself (rule 61).
    #[error("calling self")]
    CallingSelf,
    /// The call would close a cycle of processes waiting on each other.
    #[error("call cycle: {0:?}")]
    Deadlock(Vec<Pid>),
    /// The server's mailbox is full and its policy rejects new messages.
    #[error("mailbox full")]
    MailboxFull,
    /// The calling process was itself told to exit while it waited (a kill,
    /// or an exit signal it does not trap); return so the exit can happen.
    #[error("the caller is exiting")]
    CallerExiting,
    /// The process behind the pid or name is alive but is not a server of
    /// the handle's type: its state is a `actual`.
    #[error("{pid} is a {actual}, not a server of this type")]
    WrongType {
        /// The process.
        pid: Pid,
        /// The Rust type of its state.
        actual: &'static str,
    },
}

impl From<rotp_runtime::AddrError> for CallError {
    fn from(e: rotp_runtime::AddrError) -> Self {
        match e {
            rotp_runtime::AddrError::WrongType { pid, actual } => {
                CallError::WrongType { pid, actual }
            }
            _ => CallError::NoProc,
        }
    }
}

impl CallError {
    /// The exit reason OTP's caller would exit with.
    pub fn reason(&self) -> ExitReason {
        match self {
            CallError::Timeout => ExitReason::Timeout,
            CallError::NoProc => ExitReason::NoProc,
            CallError::Exited(r) => r.clone(),
            CallError::CallingSelf => ExitReason::custom("calling_self"),
            CallError::Deadlock(_) => ExitReason::custom("deadlock"),
            CallError::MailboxFull => ExitReason::custom("mailbox_full"),
            CallError::CallerExiting => ExitReason::Killed,
            CallError::WrongType { .. } => ExitReason::custom("wrong_type"),
        }
    }
}

/// Why starting a server failed (rule 47).
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum StartError {
    /// The name is held by this process (rule 48); `init` did not run.
    #[error("already started as {0}")]
    AlreadyStarted(Pid),
    /// `init` returned `Init::ignore()` (rule 50).
    #[error("init ignored the start")]
    Ignored,
    /// `init` stopped, failed or panicked with this reason (rules 51-53).
    #[error("init failed: {0}")]
    Init(ExitReason),
    /// `init` did not finish within the start timeout; the process was
    /// killed (rule 55).
    #[error("start timed out")]
    Timeout,
}

/// Why `stop` did not confirm the requested exit (rule 93).
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum StopError {
    /// No such server.
    #[error("no process")]
    NoProc,
    /// A server asked to stop itself (it would wait for itself).
    #[error("calling self")]
    CallingSelf,
    /// It exited, but with another reason (e.g. `terminate` panicked).
    #[error("server exited with {0}")]
    Exited(ExitReason),
    /// It had not exited within the timeout; it keeps shutting down.
    #[error("stop timed out")]
    Timeout,
    /// The server's mailbox is full and its policy rejects new messages,
    /// so the request to stop could not be queued.
    #[error("mailbox full")]
    MailboxFull,
    /// The process behind the name is alive but is not a server of the
    /// handle's type.
    #[error("{pid} is a {actual}, not a server of this type")]
    WrongType {
        /// The process.
        pid: Pid,
        /// The Rust type of its state.
        actual: &'static str,
    },
}

/// A cast could not be queued (only with a mailbox limit that rejects).
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum CastError {
    /// The server's mailbox is full.
    #[error("mailbox full")]
    MailboxFull,
}

/// Why a process that entered the server loop with a name exits at once
/// instead of serving (rule 101): it is not registered under that name.
/// The process exits with the matching reason (see [`reason`](Self::reason)):
/// `process_not_registered` or `process_not_registered_via`, as in OTP.
///
/// ```
/// use rotp_gen_server::EnterError;
/// assert_eq!(EnterError::NotRegistered.reason().to_string(), "process_not_registered");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Error)]
#[non_exhaustive]
pub enum EnterError {
    /// A local name ([`ServerName::Local`](crate::ServerName::Local)) is not
    /// held by the process.
    #[error("process_not_registered")]
    NotRegistered,
    /// A via name ([`ServerName::Via`](crate::ServerName::Via)) is not bound
    /// to the process in its registry.
    #[error("process_not_registered_via")]
    NotRegisteredVia,
}

impl EnterError {
    /// The exit reason of the process.
    pub fn reason(&self) -> ExitReason {
        ExitReason::custom(self)
    }
}

impl From<EnterError> for ExitReason {
    fn from(e: EnterError) -> Self {
        e.reason()
    }
}
