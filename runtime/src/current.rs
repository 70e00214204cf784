//! Which process is running on this thread.
//!
//! # Safety invariant
//!
//! `HEADER` points at the header of the process whose slice runs on this
//! thread. It is set by [`enter_process`], which `Pcb::run` calls while it
//! holds the process's `Arc` for the whole slice, and reset by the returned
//! guard before `run` returns. So whenever the pointer is non-null, the
//! header it points at is alive.

use std::cell::Cell;
use std::ptr::NonNull;

use crate::pid::Pid;
use crate::process::pcb::Header;

thread_local! {
    static CURRENT: Cell<Option<Pid>> = const { Cell::new(None) };
    static HEADER: Cell<Option<NonNull<Header>>> = const { Cell::new(None) };
}

/// Restores the previously running process when dropped (processes can be
/// nested when a caller runs its callee's slice inline).
pub(crate) struct ProcessGuard(Option<Pid>, Option<NonNull<Header>>);

/// Marks `header`'s process as running on this thread until the guard
/// drops. The caller must keep the process alive meanwhile (see the module
/// invariant).
pub(crate) fn enter_process(header: &Header) -> ProcessGuard {
    ProcessGuard(
        CURRENT.with(|c| c.replace(Some(header.pid))),
        HEADER.with(|h| h.replace(Some(NonNull::from(header)))),
    )
}

impl Drop for ProcessGuard {
    fn drop(&mut self) {
        CURRENT.with(|c| c.set(self.0));
        HEADER.with(|h| h.set(self.1));
    }
}

/// Calls `f` with the header of the running process, if any.
pub(crate) fn with_header<R>(f: impl FnOnce(Option<&Header>) -> R) -> R {
    let ptr = HEADER.with(Cell::get);
    // SAFETY: by the module invariant the pointer, when set, refers to a
    // header kept alive by the `Arc` that `Pcb::run` holds for the whole
    // slice, and the reference does not outlive this call, which returns
    // within that slice.
    let header = ptr.map(|p| unsafe { p.as_ref() });
    f(header)
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
