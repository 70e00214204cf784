//! System requests: what introspection tools ask of any process without
//! knowing its type (OTP's `sys` module, for every kind of process).
//!
//! A request travels through the process's mailbox like a signal, behind
//! what is already queued, and the process answers it between two
//! handlers, on its own thread, through [`Process::system`]. Raw processes
//! answer `Status` with their kind only; behaviours override the hook to
//! show their state (a gen_server its `format_status`, a supervisor its
//! children) and to support `Suspend` and `Resume`.
//!
//! [`Process::system`]: crate::Process::system

use std::fmt;
use std::time::Duration;

use crate::pid::Pid;
use crate::runtime::Shared;

/// A request to a process's [`system`](crate::Process::system) hook.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum SystemRequest {
    /// Describe yourself (`sys:get_status`).
    Status,
    /// Serve only system requests until resumed (`sys:suspend`).
    Suspend,
    /// Resume normal service (`sys:resume`).
    Resume,
}

/// A process's answer to a [`SystemRequest`].
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum SystemReply {
    /// The answer to [`SystemRequest::Status`].
    Status(SystemStatus),
    /// A suspend or resume was carried out.
    Done,
    /// This kind of process does not support the request.
    NotSupported,
}

/// What a process says about itself: the answer to
/// [`SystemRequest::Status`].
///
/// ```
/// use rotp_runtime::SystemStatus;
/// let status = SystemStatus::new("gen_server")
///     .state("Stack([1, 2])")
///     .detail("calls", 12);
/// assert_eq!(status.behaviour, "gen_server");
/// assert_eq!(status.details, [("calls".to_owned(), "12".to_owned())]);
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct SystemStatus {
    /// What kind of process it is (`"process"`, `"gen_server"`,
    /// `"supervisor"`, ...).
    pub behaviour: &'static str,
    /// A summary of its state (a gen_server's `format_status`); empty when
    /// the process has none to show.
    pub state: String,
    /// Whether it is suspended.
    pub suspended: bool,
    /// Behaviour-specific facts, in order: counters, a strategy, ...
    pub details: Vec<(String, String)>,
    /// The processes it supervises, in start order (supervisors only).
    pub children: Vec<SupervisedChild>,
}

impl SystemStatus {
    /// A status for a process of kind `behaviour`, with nothing else to say.
    pub fn new(behaviour: &'static str) -> Self {
        SystemStatus {
            behaviour,
            ..SystemStatus::default()
        }
    }

    /// Sets the state summary.
    pub fn state(mut self, state: impl Into<String>) -> Self {
        self.state = state.into();
        self
    }

    /// Sets the suspended flag.
    pub fn suspended(mut self, on: bool) -> Self {
        self.suspended = on;
        self
    }

    /// Adds a fact.
    pub fn detail(mut self, key: impl Into<String>, value: impl fmt::Display) -> Self {
        self.details.push((key.into(), value.to_string()));
        self
    }

    /// Adds a supervised child.
    pub fn child(mut self, child: SupervisedChild) -> Self {
        self.children.push(child);
        self
    }
}

/// One child in a supervisor's [`SystemStatus`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct SupervisedChild {
    /// Its id (none for a dynamic child).
    pub id: Option<String>,
    /// Its pid, while it runs.
    pub pid: Option<Pid>,
    /// Whether it is a supervisor itself.
    pub supervisor: bool,
    /// Its restart type: `"permanent"`, `"transient"` or `"temporary"`.
    pub restart: &'static str,
    /// `"running"`, `"restarting"` or `"undefined"` (not running).
    pub status: &'static str,
    /// How many times it was restarted automatically.
    pub restarts: u64,
}

impl SupervisedChild {
    /// A child with the given facts.
    pub fn new(
        id: Option<String>,
        pid: Option<Pid>,
        supervisor: bool,
        restart: &'static str,
        status: &'static str,
        restarts: u64,
    ) -> Self {
        SupervisedChild {
            id,
            pid,
            supervisor,
            restart,
            status,
            restarts,
        }
    }
}

/// A system request sent and not yet answered; see
/// [`Handle::system_request`](crate::Handle::system_request).
pub struct PendingSystem {
    pub(crate) pid: Pid,
    pub(crate) rx: crossbeam_channel::Receiver<SystemReply>,
    pub(crate) shared: std::sync::Arc<Shared>,
}

impl fmt::Debug for PendingSystem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PendingSystem({})", self.pid)
    }
}

impl PendingSystem {
    /// The process asked.
    pub fn pid(&self) -> Pid {
        self.pid
    }

    /// Waits up to `timeout` (real time) for the answer. Inside a process
    /// the wait does not hold up the worker.
    pub fn wait(self, timeout: Duration) -> Result<SystemReply, SystemError> {
        let recv = || match self.rx.recv_timeout(timeout) {
            Ok(reply) => Ok(reply),
            Err(crossbeam_channel::RecvTimeoutError::Timeout) => Err(SystemError::Timeout),
            Err(crossbeam_channel::RecvTimeoutError::Disconnected) => Err(SystemError::NoProc),
        };
        match self.rx.try_recv() {
            Ok(reply) => Ok(reply),
            Err(_) if crate::current::self_pid().is_some() => {
                crate::scheduler::blocking::cover_wait(&self.shared, recv)
            }
            Err(_) => recv(),
        }
    }

    /// The answer, if it has arrived.
    pub fn try_recv(&self) -> Option<Result<SystemReply, SystemError>> {
        match self.rx.try_recv() {
            Ok(reply) => Some(Ok(reply)),
            Err(crossbeam_channel::TryRecvError::Empty) => None,
            Err(crossbeam_channel::TryRecvError::Disconnected) => Some(Err(SystemError::NoProc)),
        }
    }
}

/// A system request that got no answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SystemError {
    /// The process does not exist, or exited before answering.
    #[error("no such process")]
    NoProc,
    /// No answer in time: the process is busy in a handler, or has a long
    /// queue before the request.
    #[error("no answer in time")]
    Timeout,
    /// The process does not support the request.
    #[error("not supported by this kind of process")]
    NotSupported,
    /// The process may not ask itself (it would wait for its own answer).
    #[error("a process cannot send a system request to itself")]
    CallingSelf,
}

/// The mailbox entry of a system request.
pub(crate) struct SystemCall {
    pub(crate) request: SystemRequest,
    pub(crate) reply: crossbeam_channel::Sender<SystemReply>,
}

impl SystemCall {
    /// Answers with what the process's hook returned.
    pub(crate) fn answer(self, reply: SystemReply) {
        let _ = self.reply.send(reply);
    }
}
