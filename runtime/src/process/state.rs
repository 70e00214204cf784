//! The scheduling state of a process: one atomic word.
//!
//! See `README.md` beside this file for the protocol and the invariants each
//! side relies on. In short:
//!
//! ```text
//!            send: fetch_or(NOTIFIED), saw 0 => sender enqueues
//!   IDLE ───────────────────────────────────────────────► NOTIFIED (queued)
//!    ▲                                                        │ worker pops it:
//!    │ CAS succeeds only if no NOTIFIED                       │ fetch_sub(1)
//!    │                                                        ▼
//!    └────────────────────────────────────────────────── RUNNING
//!            RUNNING|NOTIFIED: a send arrived while running; the runner
//!            clears NOTIFIED and drains again instead of going idle.
//! ```
//!
//! `EXITING` and `DEAD` are sticky flags on top: a process marked `EXITING`
//! runs no more callbacks, and `DEAD` processes are never enqueued again.

use std::sync::atomic::Ordering::{AcqRel, Acquire};

use crate::loom::AtomicU32;

/// A worker is running the process. Invariant 1: at most one thread holds it.
const RUNNING: u32 = 0b0001;
/// The process is in a run queue, or must run again after the current slice.
/// Invariant 2: while NOTIFIED is set and RUNNING is not, exactly one queue
/// entry for the process exists.
const NOTIFIED: u32 = 0b0010;
/// The process is exiting: no more callbacks, not alive (rule 17, R1).
const EXITING: u32 = 0b0100;
/// The process has exited and notified its links and monitors.
const DEAD: u32 = 0b1000;

/// The atomic scheduling state of one process.
#[derive(Debug)]
pub(crate) struct State(AtomicU32);

/// What a sender must do after making the process runnable.
#[must_use]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Notify {
    /// The process was idle: the caller owns the only queue entry and must
    /// enqueue it.
    Schedule,
    /// Someone else has queued it, it is running, or it is dead.
    Nothing,
}

/// The outcome of trying to end a slice with an empty mailbox.
#[must_use]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TransitionToIdle {
    /// The process is idle; the runner must not touch it again.
    Ok,
    /// Something arrived meanwhile (NOTIFIED was cleared): drain again.
    Notified,
    /// The process was marked exiting meanwhile: run the exit.
    Exiting,
}

impl State {
    /// A fresh process is born notified: its spawner enqueues it once so
    /// that it runs its init.
    pub(crate) fn new_notified() -> Self {
        State(AtomicU32::new(NOTIFIED))
    }

    /// Sender side: a message or signal was pushed to the mailbox.
    pub(crate) fn notify(&self) -> Notify {
        let prev = self.0.fetch_or(NOTIFIED, AcqRel);
        if prev & (RUNNING | NOTIFIED | DEAD) == 0 {
            Notify::Schedule
        } else {
            Notify::Nothing
        }
    }

    /// Marks the process exiting (a kill or an exit signal). Returns whether
    /// it was already exiting, and whether the caller must enqueue it so the
    /// exit runs.
    pub(crate) fn mark_exiting(&self) -> (bool, Notify) {
        let prev = self.0.fetch_or(EXITING | NOTIFIED, AcqRel);
        let notify = if prev & (RUNNING | NOTIFIED | DEAD) == 0 {
            Notify::Schedule
        } else {
            Notify::Nothing
        };
        (prev & (EXITING | DEAD) != 0, notify)
    }

    /// Worker side: the process was popped from a run queue. Clears NOTIFIED
    /// and sets RUNNING in one step; returns whether it is exiting.
    pub(crate) fn transition_to_running(&self) -> bool {
        // NOTIFIED (2) -> RUNNING (1) is a subtraction of one that leaves the
        // sticky flags untouched; invariant 2 guarantees the precondition.
        let prev = self.0.fetch_sub(NOTIFIED - RUNNING, AcqRel);
        debug_assert!(
            prev & NOTIFIED != 0 && prev & RUNNING == 0,
            "state {prev:#b}"
        );
        prev & EXITING != 0
    }

    /// Worker side: the mailbox looked empty; try to go idle.
    pub(crate) fn transition_to_idle(&self) -> TransitionToIdle {
        let mut cur = self.0.load(Acquire);
        loop {
            debug_assert!(cur & RUNNING != 0);
            if cur & EXITING != 0 {
                return TransitionToIdle::Exiting;
            }
            if cur & NOTIFIED != 0 {
                self.0.fetch_and(!NOTIFIED, AcqRel);
                return TransitionToIdle::Notified;
            }
            match self
                .0
                .compare_exchange_weak(cur, cur & !RUNNING, AcqRel, Acquire)
            {
                Ok(_) => return TransitionToIdle::Ok,
                Err(actual) => cur = actual,
            }
        }
    }

    /// Worker side: the slice budget ran out while work remains. Clears
    /// RUNNING and sets NOTIFIED; the caller must enqueue the process.
    pub(crate) fn transition_to_yield(&self) {
        let mut cur = self.0.load(Acquire);
        loop {
            debug_assert!(cur & RUNNING != 0);
            let next = (cur & !RUNNING) | NOTIFIED;
            match self.0.compare_exchange_weak(cur, next, AcqRel, Acquire) {
                Ok(_) => return,
                Err(actual) => cur = actual,
            }
        }
    }

    /// Worker side: the exit has completed. Terminal.
    pub(crate) fn transition_to_dead(&self) {
        let prev = self.0.fetch_or(DEAD | EXITING, AcqRel);
        self.0.fetch_and(!(RUNNING | NOTIFIED), AcqRel);
        debug_assert!(prev & RUNNING != 0);
    }

    /// Not exiting and not dead (rule 17).
    pub(crate) fn is_alive(&self) -> bool {
        self.0.load(Acquire) & (EXITING | DEAD) == 0
    }

    pub(crate) fn is_exiting(&self) -> bool {
        self.0.load(Acquire) & EXITING != 0
    }

    pub(crate) fn is_running(&self) -> bool {
        self.0.load(Acquire) & RUNNING != 0
    }

    pub(crate) fn is_notified(&self) -> bool {
        self.0.load(Acquire) & NOTIFIED != 0
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    #[test]
    fn send_while_running_defers_to_the_runner() {
        let s = State::new_notified();
        assert!(!s.transition_to_running());
        assert_eq!(s.notify(), Notify::Nothing);
        assert_eq!(s.transition_to_idle(), TransitionToIdle::Notified);
        assert_eq!(s.transition_to_idle(), TransitionToIdle::Ok);
        assert_eq!(s.notify(), Notify::Schedule);
        assert_eq!(s.notify(), Notify::Nothing);
    }

    #[test]
    fn yield_requeues_once() {
        let s = State::new_notified();
        assert!(!s.transition_to_running());
        s.transition_to_yield();
        assert_eq!(s.notify(), Notify::Nothing);
        assert!(!s.transition_to_running());
        assert_eq!(s.transition_to_idle(), TransitionToIdle::Ok);
    }

    #[test]
    fn exiting_is_sticky_and_dead_is_never_scheduled() {
        let s = State::new_notified();
        assert!(!s.transition_to_running());
        let (already, notify) = s.mark_exiting();
        assert!(!already);
        assert_eq!(notify, Notify::Nothing);
        assert!(!s.is_alive());
        assert_eq!(s.transition_to_idle(), TransitionToIdle::Exiting);
        s.transition_to_dead();
        assert!(!s.is_alive());
        assert_eq!(s.notify(), Notify::Nothing);
        assert_eq!(s.mark_exiting().1, Notify::Nothing);
    }

    #[test]
    fn kill_of_an_idle_process_schedules_it() {
        let s = State::new_notified();
        assert!(!s.transition_to_running());
        assert_eq!(s.transition_to_idle(), TransitionToIdle::Ok);
        assert_eq!(s.mark_exiting(), (false, Notify::Schedule));
        assert!(s.transition_to_running());
    }
}
