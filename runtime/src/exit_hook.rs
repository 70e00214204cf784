//! Exit hooks: clean-up that runs when a process exits, at the point where
//! the runtime releases the process's local name.
//!
//! A structure that keeps entries per process — a key registry, a table
//! owned by a process — must forget a process when it exits, and must do so
//! before anyone can react to the exit: whoever receives the `EXIT` or
//! `DOWN` must find the entries gone, as it finds the local name gone (rule
//! 16). A hook added with [`Handle::on_exit`](crate::Handle::on_exit) runs
//! in the exiting process's own exit:
//!
//! ```text
//!  handler returns / panics / kill takes effect
//!    ├─ relations closed (no new links, monitors or hooks)
//!    ├─ state and mailbox dropped
//!    ├─ local name released
//!    ├─ exit hooks run, in the order they were added   ◄── here
//!    ├─ slot freed
//!    └─ links and monitors notified
//! ```
//!
//! The hooks live in the process's relations, behind the lock that already
//! guards its links: adding one checks under that lock that the process has
//! not exited, and the exit takes them in the same critical section that
//! closes the relations. So a hook is either refused (the process has
//! exited) or run exactly once; there is no third case and no atomic
//! protocol beyond the mutex. A process that never adds a hook pays one
//! empty pointer in its relations and one branch in its exit.

use std::fmt;

use crate::exit::ExitReason;
use crate::pid::Pid;

/// A clean-up function for one process's exit; see
/// [`Handle::on_exit`](crate::Handle::on_exit).
pub(crate) type ExitHook = Box<dyn FnOnce(Pid, &ExitReason) + Send>;

/// The handle of an exit hook, to remove it with
/// [`Handle::cancel_exit_hook`](crate::Handle::cancel_exit_hook).
///
/// ```
/// use rotp_runtime::Runtime;
/// let rt = Runtime::new().unwrap();
/// let p = rt.spawn_fn(|_: (), _ctx| {});
/// let hook = rt.on_exit(p.pid(), |_pid, _reason| {}).unwrap();
/// assert!(rt.cancel_exit_hook(p.pid(), hook));
/// assert!(!rt.cancel_exit_hook(p.pid(), hook)); // already gone
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ExitHookRef(pub(crate) u64);

/// The hooks of one process, in the order they were added.
#[derive(Default)]
pub(crate) struct ExitHooks {
    entries: Vec<(u64, ExitHook)>,
}

impl ExitHooks {
    pub(crate) fn push(&mut self, id: u64, hook: ExitHook) {
        self.entries.push((id, hook));
    }

    /// Removes hook `id`; whether it was there.
    pub(crate) fn remove(&mut self, id: u64) -> bool {
        match self.entries.iter().position(|(i, _)| *i == id) {
            Some(at) => {
                drop(self.entries.remove(at));
                true
            }
            None => false,
        }
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Runs every hook, in order. A panicking hook is logged and the others
    /// still run: the process is exiting whatever a hook does.
    pub(crate) fn run(self, pid: Pid, reason: &ExitReason) {
        for (_, hook) in self.entries {
            if let Err(crash) = crate::panic::catch(move || hook(pid, reason)) {
                crate::report::Report::error(
                    crate::report::ReportKind::CallbackCrash,
                    format_args!("exit hook of process {pid} panicked: {crash}"),
                )
                .pid(pid)
                .reason(&crash)
                .emit();
            }
        }
    }
}

impl fmt::Debug for ExitHooks {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ExitHooks({})", self.entries.len())
    }
}
