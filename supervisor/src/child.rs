//! A running child and the shutdown protocol (rules 115-121,
//! adaptation R1).
//!
//! Stopping one child:
//!
//! ```text
//!   unlink(child)                 no EXIT from it after this (rule 26), so a
//!                                 late EXIT cannot be taken for a new crash
//!   brutal_kill ─► kill ─────────────────────────────┐
//!   timeout T ──► exit(shutdown) ─► wait ≤ T ─► kill ─┤
//!   infinity ───► exit(shutdown) ─► wait ─────────────┤
//!                                                     ▼
//!                            wait for the real exit (R1: a kill takes
//!                            effect when the child's callback returns)
//! ```
//!
//! The waits watch the child's process record ([`ProcessRef::await_exit`]),
//! not the link, so a child that unlinked itself cannot hang the
//! supervisor (rule 119 — what OTP does with a monitor). They end only once
//! the child has left the process table with its name released, so a
//! restarted child never overlaps its previous incarnation and can take
//! over its name at once. An `EXIT` the child sent before the unlink stays
//! queued; the supervisors ignore `EXIT`s from pids that are no longer a
//! current child (rule 124), which is OTP's flush.

use std::time::Duration;

use rotp_runtime::{Context, ExitReason, Handle, Pid, ProcessRef};

use crate::child_spec::{Restart, Shutdown};

/// A started child: its pid and, while it can still be looked up, its
/// process record.
#[derive(Debug, Clone)]
pub(crate) struct Running {
    pub(crate) pid: Pid,
    /// `None` when the child was already gone when the supervisor looked it
    /// up right after its start (its `EXIT` is then on its way).
    process: Option<ProcessRef>,
}

impl Running {
    /// Records a child its start function just returned.
    pub(crate) fn new(handle: &Handle, pid: Pid) -> Self {
        Running {
            pid,
            process: handle.process_ref(pid),
        }
    }

    /// Whether the child process is alive (rule 144 `active`).
    pub(crate) fn is_alive(&self) -> bool {
        self.process.as_ref().is_some_and(ProcessRef::is_alive)
    }
}

/// Sends the child its stop signal (first half of [`shutdown`]); for the
/// concurrent shutdown of a DynamicSupervisor (rule 161).
pub(crate) fn signal<M: Send + 'static>(
    ctx: &mut Context<'_, M>,
    child: &Running,
    shutdown: Shutdown,
) {
    ctx.unlink(child.pid);
    match shutdown {
        Shutdown::BrutalKill => ctx.kill(child.pid),
        Shutdown::Timeout(_) | Shutdown::Infinity => ctx.send_exit(child.pid, ExitReason::Shutdown),
    }
}

/// Waits for a signalled child to exit, `timeout` at most (`None`: no
/// limit). `Ok(reason)` once it has exited (`Ok(None)`: it was gone before
/// the supervisor could watch it, reason unknown), `Err(())` on timeout.
pub(crate) fn await_exit(
    child: &Running,
    timeout: Option<Duration>,
) -> Result<Option<ExitReason>, ()> {
    match &child.process {
        None => Ok(None),
        Some(process) => process.await_exit(timeout).map(Some).ok_or(()),
    }
}

/// Kills a child whose graceful time is up and waits for it to exit (R1).
pub(crate) fn kill_and_await(
    ctx: &mut Context<'_, impl Send + 'static>,
    child: &Running,
) -> Option<ExitReason> {
    ctx.kill(child.pid);
    await_exit(child, None).unwrap_or(None)
}

/// Stops one child per its shutdown value and waits until it has exited
/// (rules 116-119). `Err(reason)` when it died with a reason other than the
/// expected one, to be reported as `shutdown_error` (rule 120).
pub(crate) fn shutdown<M: Send + 'static>(
    ctx: &mut Context<'_, M>,
    child: &Running,
    shutdown: Shutdown,
    restart: Restart,
) -> Result<(), ExitReason> {
    signal(ctx, child, shutdown);
    let reason = match shutdown {
        Shutdown::BrutalKill | Shutdown::Infinity => await_exit(child, None).unwrap_or(None),
        Shutdown::Timeout(t) => match await_exit(child, Some(t)) {
            Ok(reason) => reason,
            Err(()) => kill_and_await(ctx, child),
        },
    };
    check(reason, shutdown, restart)
}

/// Whether `reason` is what stopping a child with `shutdown` should produce
/// (rule 120): `killed` for brutal_kill, `shutdown` otherwise; for
/// non-permanent children also `normal` and `{shutdown, _}` (they may have
/// been finishing on their own).
pub(crate) fn check(
    reason: Option<ExitReason>,
    shutdown: Shutdown,
    restart: Restart,
) -> Result<(), ExitReason> {
    let Some(reason) = reason else {
        return Ok(());
    };
    let expected = match (&reason, shutdown) {
        (ExitReason::Killed, Shutdown::BrutalKill) => true,
        (ExitReason::Shutdown, Shutdown::Timeout(_) | Shutdown::Infinity) => true,
        (ExitReason::Normal | ExitReason::Shutdown | ExitReason::ShutdownWith(_), _) => {
            restart != Restart::Permanent
        }
        _ => false,
    };
    if expected {
        Ok(())
    } else {
        Err(reason)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const T: Shutdown = Shutdown::Timeout(Duration::from_secs(1));

    #[test]
    fn expected_reasons_rule_120() {
        use ExitReason::{Killed, Normal};
        let shutdown = ExitReason::Shutdown;
        assert_eq!(
            check(Some(Killed), Shutdown::BrutalKill, Restart::Permanent),
            Ok(())
        );
        assert_eq!(check(Some(shutdown.clone()), T, Restart::Permanent), Ok(()));
        assert_eq!(
            check(
                Some(shutdown.clone()),
                Shutdown::Infinity,
                Restart::Permanent
            ),
            Ok(())
        );
        // A timeout that ended in a kill is reported.
        assert_eq!(check(Some(Killed), T, Restart::Permanent), Err(Killed));
        // normal / {shutdown, _} are fine only for non-permanent children.
        assert_eq!(check(Some(Normal), T, Restart::Permanent), Err(Normal));
        assert_eq!(check(Some(Normal), T, Restart::Transient), Ok(()));
        let with = ExitReason::shutdown_with("x");
        assert_eq!(check(Some(with.clone()), T, Restart::Temporary), Ok(()));
        assert_eq!(check(Some(with.clone()), T, Restart::Permanent), Err(with));
        assert_eq!(
            check(
                Some(shutdown.clone()),
                Shutdown::BrutalKill,
                Restart::Permanent
            ),
            Err(shutdown.clone())
        );
        assert_eq!(
            check(
                Some(shutdown.clone()),
                Shutdown::BrutalKill,
                Restart::Transient
            ),
            Ok(())
        );
        // Racing crashes keep their reason and are reported (rule 121).
        let boom = ExitReason::custom("boom");
        assert_eq!(check(Some(boom.clone()), T, Restart::Transient), Err(boom));
        assert_eq!(check(None, T, Restart::Permanent), Ok(()));
    }
}
