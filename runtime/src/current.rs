//! Which process is running on this thread.
//!
//! # Safety invariant
//!
//! `HEADER` points at the header of the process whose slice runs on this
//! thread. It is set by [`enter_process`], which `Pcb::run` calls at the
//! start of the slice, and reset by the returned guard before `run`
//! returns. The process is alive for the whole slice (the table owns it
//! until its exit, whose reference `run` hands back to its caller; see
//! `Task` in `process/pcb.rs`). So whenever the pointer is non-null, the
//! header it points at is alive.

use std::cell::Cell;
use std::ptr::NonNull;

use crate::pid::Pid;
use crate::process::pcb::Header;

thread_local! {
    static HEADER: Cell<Option<NonNull<Header>>> = const { Cell::new(None) };
}

/// Restores the previously running process when dropped (processes can be
/// nested when a caller runs its callee's slice inline).
pub(crate) struct ProcessGuard(Option<NonNull<Header>>);

/// Marks `header`'s process as running on this thread until the guard
/// drops. The caller must keep the process alive meanwhile (see the module
/// invariant).
#[inline]
pub(crate) fn enter_process(header: &Header) -> ProcessGuard {
    ProcessGuard(HEADER.with(|h| h.replace(Some(NonNull::from(header)))))
}

impl Drop for ProcessGuard {
    #[inline]
    fn drop(&mut self) {
        HEADER.with(|h| h.set(self.0));
    }
}

/// Whether a process is running on this thread (its panics are caught).
pub(crate) fn in_process() -> bool {
    HEADER.with(Cell::get).is_some()
}

/// Calls `f` with the header of the running process, if any.
#[inline(always)]
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
#[inline]
pub fn self_pid() -> Option<Pid> {
    with_header(|h| h.map(|h| h.pid))
}
