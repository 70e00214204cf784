//! Errors of the runtime's operations, one type per operation.

use std::fmt;

use thiserror::Error;

use crate::pid::Pid;

/// Building a [`Runtime`](crate::Runtime) failed.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum BuildError {
    /// A setting is out of range.
    #[error("invalid runtime setting `{setting}`: {reason}")]
    InvalidSetting {
        /// The builder method.
        setting: &'static str,
        /// What is wrong with the value.
        reason: &'static str,
    },
    /// The operating system refused to start a thread.
    #[error("failed to spawn runtime thread: {0}")]
    Thread(#[from] std::io::Error),
}

/// A message was not delivered; it is handed back.
#[derive(PartialEq, Eq, Clone, Copy, Error)]
pub enum TrySendError<T> {
    /// The process has exited.
    #[error("sending to a process that has exited")]
    Exited(T),
    /// The process's bounded mailbox is full and rejects new messages.
    #[error("the mailbox is full")]
    Full(T),
}

impl<T> fmt::Debug for TrySendError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TrySendError::Exited(_) => f.write_str("Exited(..)"),
            TrySendError::Full(_) => f.write_str("Full(..)"),
        }
    }
}

impl<T> TrySendError<T> {
    /// The message that was not delivered.
    pub fn into_inner(self) -> T {
        match self {
            TrySendError::Exited(m) | TrySendError::Full(m) => m,
        }
    }
}

/// The process does not exist (`noproc`).
#[derive(Debug, PartialEq, Eq, Clone, Copy, Error)]
#[error("no process {0}")]
pub struct NoProc(pub Pid);

/// Why [`Handle::typed_addr`](crate::Handle::typed_addr) found no typed
/// handle.
#[derive(Debug, PartialEq, Eq, Clone, Copy, Error)]
#[non_exhaustive]
pub enum AddrError {
    /// No live process has this pid.
    #[error("no process {0}")]
    NoProc(Pid),
    /// A live process has this pid, but it takes other messages: its state
    /// is a `actual`.
    #[error("{pid} is a {actual}, which takes other messages")]
    WrongType {
        /// The process.
        pid: Pid,
        /// The Rust type of its state.
        actual: &'static str,
    },
}

/// Registering a name failed (rule 35).
#[derive(Debug, PartialEq, Eq, Clone, Error)]
#[non_exhaustive]
pub enum RegisterError {
    /// Another process holds the name.
    #[error("name `{name}` is already registered to {holder}")]
    NameTaken {
        /// The name.
        name: String,
        /// The process holding it.
        holder: Pid,
    },
    /// The process already has a name.
    #[error("process {pid} is already registered as `{name}`")]
    AlreadyNamed {
        /// The process.
        pid: Pid,
        /// Its current name.
        name: String,
    },
    /// The process is not alive.
    #[error("process {0} is not alive")]
    NoProc(Pid),
}

/// Sending to a registered name failed: nobody holds it (rule 14).
#[derive(PartialEq, Eq, Clone, Error)]
#[non_exhaustive]
pub enum NamedSendError<T> {
    /// No process is registered under the name.
    #[error("no process is registered as `{0}`")]
    NotRegistered(String, T),
    /// The process registered under the name takes another message type.
    #[error("the process registered as `{0}` takes another message type")]
    WrongType(String, T),
}

impl<T> fmt::Debug for NamedSendError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NamedSendError::NotRegistered(n, _) => write!(f, "NotRegistered({n:?})"),
            NamedSendError::WrongType(n, _) => write!(f, "WrongType({n:?})"),
        }
    }
}

/// Why [`Handle::try_spawn`](crate::Handle::try_spawn) started nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum SpawnError {
    /// The runtime is stopping or has stopped ([`Runtime::shutdown`] is in
    /// its kill phase or done): no new process would ever run.
    ///
    /// [`Runtime::shutdown`]: crate::Runtime::shutdown
    #[error("the runtime is stopping: no process can be spawned")]
    RuntimeStopped,
}

/// The runtime did not stop every process within the shutdown timeout.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("{} process(es) still running at the shutdown deadline: {}", .stuck.len(), list(.stuck))]
pub struct ShutdownError {
    /// The processes that had not exited (typically stuck in a handler).
    pub stuck: Vec<Pid>,
}

fn list(pids: &[Pid]) -> String {
    let shown: Vec<String> = pids.iter().take(8).map(Pid::to_string).collect();
    let more = pids.len().saturating_sub(8);
    if more > 0 {
        format!("{} and {more} more", shown.join(", "))
    } else {
        shown.join(", ")
    }
}
