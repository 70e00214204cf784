//! Untyped handles on processes.

use std::fmt;
use std::time::Duration;

use crate::exit::ExitReason;
use crate::pid::Pid;
use crate::process::pcb::ProcessArc;
use crate::runtime::Handle;

/// An untyped handle on one process: what a supervisor keeps of its
/// children. Unlike a [`Pid`], it can still tell the exit reason after the
/// process is gone; unlike an [`Addr`](crate::Addr), it cannot send.
///
/// ```
/// use rotp_runtime::{ExitReason, Runtime};
/// let rt = Runtime::new().unwrap();
/// let p = rt.spawn_fn(|_: (), ctx| ctx.exit(ExitReason::custom("done")));
/// let r = rt.process_ref(p.pid()).unwrap();
/// p.send(());
/// assert_eq!(r.await_exit(None), Some(ExitReason::custom("done")));
/// ```
#[derive(Clone)]
pub struct ProcessRef {
    task: ProcessArc,
}

impl ProcessRef {
    pub(crate) fn new(task: ProcessArc) -> Self {
        ProcessRef { task }
    }

    /// The process's pid.
    pub fn pid(&self) -> Pid {
        self.task.header().pid
    }

    /// Whether it is alive (rule 17).
    pub fn is_alive(&self) -> bool {
        self.task.header().state.is_alive()
    }

    /// Its exit reason, once it has exited.
    pub fn exit_reason(&self) -> Option<ExitReason> {
        self.task.header().exit_reason()
    }

    pub(crate) fn header(&self) -> &crate::process::pcb::Header {
        self.task.header()
    }

    /// Waits until it has exited (its name released, its slot freed, its
    /// links and monitors told) and returns the reason; `None` if `timeout` on the runtime clock passes
    /// first. Inside a process the wait does not hold up the worker.
    pub fn await_exit(&self, timeout: Option<Duration>) -> Option<ExitReason> {
        let shared = &self.task.header().shared;
        Handle::from_shared(shared.clone()).await_exit_of(self, timeout)
    }
}

impl fmt::Debug for ProcessRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ProcessRef({})", self.pid())
    }
}

impl PartialEq for ProcessRef {
    fn eq(&self, other: &Self) -> bool {
        self.pid() == other.pid()
    }
}

impl Eq for ProcessRef {}
