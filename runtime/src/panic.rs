//! Panics inside processes become exit reasons (adaptation R2).
//!
//! Every callback runs under [`catch`]. A process-wide panic hook, installed
//! once and chained to the previous one, records the panic's location for the
//! exit reason and keeps the default "thread panicked" message off stderr for
//! panics that a process catches: the runtime reports those through `log`
//! instead, like OTP's crash reports. Panics anywhere else reach the previous
//! hook untouched.

use std::cell::{Cell, RefCell};
use std::panic::{self, AssertUnwindSafe};
use std::sync::Once;

use crate::exit::{ExitReason, PanicReason};

thread_local! {
    /// How many [`catch`] frames are active on this thread (besides a
    /// process's slice, which `current::in_process` tells).
    static DEPTH: Cell<u32> = const { Cell::new(0) };
    /// The location of the last panic caught on this thread.
    static LOCATION: RefCell<Option<String>> = const { RefCell::new(None) };
    /// The message of the last panic caught on this thread, for telemetry
    /// spans that end while it unwinds (see [`current_message`]).
    static MESSAGE: RefCell<Option<String>> = const { RefCell::new(None) };
}

static HOOK: Once = Once::new();

/// Installs the chained panic hook (idempotent).
pub(crate) fn install_hook() {
    HOOK.call_once(|| {
        let previous = panic::take_hook();
        panic::set_hook(Box::new(move |info| {
            if DEPTH.with(Cell::get) > 0 || crate::current::in_process() {
                let location = info.location().map(PanicReason::location_of);
                LOCATION.with(|l| *l.borrow_mut() = location);
                let payload = info.payload();
                let message = payload
                    .downcast_ref::<&str>()
                    .map(|s| (*s).to_owned())
                    .or_else(|| payload.downcast_ref::<String>().cloned());
                MESSAGE.with(|m| *m.borrow_mut() = message);
            } else {
                previous(info);
            }
        }));
    });
}

/// Runs a process's slice, turning a panic into [`ExitReason::Panic`].
/// The hook knows the panic is caught from the running process
/// (`current::in_process`), so no depth is counted: this is the hot path.
#[inline]
pub(crate) fn catch_slice<R>(f: impl FnOnce() -> R) -> Result<R, ExitReason> {
    debug_assert!(crate::current::in_process());
    panic::catch_unwind(AssertUnwindSafe(f)).map_err(ExitReason::from_panic)
}

/// Runs `f`, turning a panic into [`ExitReason::Panic`].
pub(crate) fn catch<R>(f: impl FnOnce() -> R) -> Result<R, ExitReason> {
    DEPTH.with(|d| d.set(d.get() + 1));
    let result = panic::catch_unwind(AssertUnwindSafe(f));
    DEPTH.with(|d| d.set(d.get() - 1));
    result.map_err(ExitReason::from_panic)
}

/// Runs `f`, turning a panic into [`ExitReason::Panic`] with the panic's
/// message and location — the same conversion the runtime applies to a
/// handler. For behaviours that must run cleanup (a gen_server's
/// `terminate`) before the process exits.
///
/// ```
/// let r = rotp_runtime::catch_panic(|| panic!("boom"));
/// assert!(r.unwrap_err().to_string().contains("boom"));
/// ```
pub fn catch_panic<R>(f: impl FnOnce() -> R) -> Result<R, ExitReason> {
    install_hook();
    catch(f)
}

/// `catch` for code that may run while another panic unwinds on this
/// thread (a telemetry handler called from a span's drop): the location
/// recorded for that panic is kept for its own conversion.
pub(crate) fn catch_nested<R>(f: impl FnOnce() -> R) -> Result<R, ExitReason> {
    install_hook();
    let saved = LOCATION.with(|l| l.borrow_mut().take());
    let result = catch(f);
    LOCATION.with(|l| *l.borrow_mut() = saved);
    result
}

/// The message of the panic unwinding through a process's handler now (the
/// last one the hook recorded on this thread).
pub(crate) fn current_message() -> Option<String> {
    MESSAGE.with(|m| m.borrow().clone())
}

/// The location recorded by the hook for the panic being converted.
pub(crate) fn take_location() -> Option<String> {
    LOCATION.with(|l| l.borrow_mut().take())
}
