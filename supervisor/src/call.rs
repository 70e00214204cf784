//! Requests to a supervisor process: send a message carrying a
//! [`ReplySender`], wait on the matching
//! [`ReplyWait`](rotp_runtime::ReplyWait) without a timeout (rule 146). The
//! wait is the runtime's: blocking-aware inside a process, failing fast on call cycles, ended by the supervisor's exit.

use std::time::Duration;

use rotp_gen_server::CallError;
use rotp_runtime::{reply_channel, Addr, ExitReason, Handle, ReplySender, TrySendError, WaitError};

use crate::error::StopError;

/// Sends the request `make` builds around a reply handle and waits for the
/// answer.
///
/// The wait never runs the supervisor on the caller's thread
/// ([`ReplyWait::wait_not_inline`](rotp_runtime::ReplyWait::wait_not_inline)):
/// a supervisor running nested in the caller's callback and stopping a
/// process that must first return from that very callback (the caller, or
/// its child supervisor's children) would wait forever. And a caller that
/// is told to exit while it waits — a child asking the supervisor above its
/// own to stop — gets [`CallError::CallerExiting`] at once, so that its
/// callback can return and the exit take effect (adaptation R1). (A request
/// stopping the requester itself is answered without waiting for it: see
/// the servers.)
pub(crate) fn call<M, T>(
    handle: &Handle,
    addr: &Addr<M>,
    make: impl FnOnce(ReplySender<T>) -> M,
) -> Result<T, CallError>
where
    M: Send + 'static,
    T: Send + 'static,
{
    call_timeout(handle, addr, make, None)
}

/// [`call`] with a limit on the wait, on the runtime clock: for requests
/// the supervisor answers later (`await_child`), never for the management
/// API (rule 146).
pub(crate) fn call_timeout<M, T>(
    handle: &Handle,
    addr: &Addr<M>,
    make: impl FnOnce(ReplySender<T>) -> M,
    timeout: Option<Duration>,
) -> Result<T, CallError>
where
    M: Send + 'static,
    T: Send + 'static,
{
    // A process told to exit sends nothing more: in OTP it would be gone.
    if handle.self_is_exiting() {
        return Err(CallError::CallerExiting);
    }
    let (reply, mut wait) = reply_channel();
    if reply.caller() == Some(addr.pid()) {
        return Err(CallError::CallingSelf);
    }
    match addr.try_send(make(reply)) {
        Ok(()) => {}
        Err(TrySendError::Full(_)) => return Err(CallError::MailboxFull),
        Err(_) => return Err(CallError::NoProc),
    }
    wait.wait_not_inline(addr, timeout).map_err(call_error)
}

/// Maps the runtime's wait error to the call error of
/// [`rotp_gen_server`], which supervisor requests share.
pub(crate) fn call_error(e: WaitError) -> CallError {
    match e {
        WaitError::Exited(ExitReason::NoProc) => CallError::NoProc,
        WaitError::Exited(reason) => CallError::Exited(reason),
        WaitError::Deadlock(cycle) => CallError::Deadlock(cycle),
        WaitError::CallerExiting => CallError::CallerExiting,
        WaitError::Timeout => CallError::Timeout,
        WaitError::CallingSelf => CallError::CallingSelf,
        WaitError::MailboxFull => CallError::MailboxFull,
        // Keep the mapping total for future variants.
        _ => CallError::Exited(ExitReason::custom(e)),
    }
}

/// `stop(reason, timeout)` (rules 93, 148): asks with `send`, then waits
/// for the process to exit and checks its reason.
pub(crate) fn stop<M: Send + 'static>(
    handle: &Handle,
    addr: &Addr<M>,
    send: impl FnOnce() -> M,
    reason: &ExitReason,
    timeout: Option<Duration>,
) -> Result<(), StopError> {
    let process = handle.process_ref(addr.pid()).ok_or(StopError::NoProc)?;
    if addr.try_send(send()).is_err() {
        return Err(StopError::NoProc);
    }
    // A process stopping a supervisor above its own is told to exit while
    // it waits: `await_exit` then returns early, and so do we.
    let exited = match process.await_exit(timeout) {
        Some(r) => r,
        None if process.exit_reason().is_none() && handle.self_is_exiting() => {
            return Err(StopError::CallerExiting)
        }
        None => return Err(StopError::Timeout),
    };
    if &exited == reason {
        Ok(())
    } else {
        Err(StopError::Exited(exited))
    }
}
