//! Which process is running on this thread.

use std::cell::Cell;

use crate::pid::Pid;

thread_local! {
    static CURRENT: Cell<Option<Pid>> = const { Cell::new(None) };
}

/// Restores the previously running process when dropped (processes can be
/// nested when a caller runs its callee's slice inline).
pub(crate) struct ProcessGuard(Option<Pid>);

pub(crate) fn enter_process(pid: Pid) -> ProcessGuard {
    ProcessGuard(CURRENT.with(|c| c.replace(Some(pid))))
}

impl Drop for ProcessGuard {
    fn drop(&mut self) {
        CURRENT.with(|c| c.set(self.0));
    }
}

/// The pid of the process running on this thread (`self()`), or `None`
/// outside any process.
///
/// ```
/// assert_eq!(rotp_runtime::self_pid(), None);
/// ```
pub fn self_pid() -> Option<Pid> {
    CURRENT.with(Cell::get)
}
