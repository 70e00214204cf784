//! The scheduling state of a process: one atomic word.
//!
//! See `runtime/src/process/README.md` for the protocol and the invariants each
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
//!
//! The protocol is model-checked by `loom_tests` below (see `crate::loom`).

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
                let prev = self.0.fetch_and(!NOTIFIED, AcqRel);
                // A kill may have landed since the load above.
                if prev & EXITING != 0 {
                    return TransitionToIdle::Exiting;
                }
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

/// Model checks of the state machine: loom runs each model under every
/// interleaving within the preemption bound (see `crate::loom`).
///
/// A `Proc` is a process reduced to what the protocol touches: the state
/// word, a mailbox behind a mutex (closed by the exit, like
/// `Mailbox`), the runner's private batch in a loom `UnsafeCell` (loom fails
/// the model if two runners touch it without a happens-before edge between
/// them: invariant 1, and `pcb.rs` safety invariant 1), and a count of queue
/// entries. Whoever obtains a queue entry (a sender or killer told
/// `Schedule`, or a runner that yields) runs the slice itself, as the worker
/// popping that entry would; so once every thread has finished no entry may
/// be left, and the process must be idle with every message handled, or
/// dead.
#[cfg(all(test, loom))]
mod loom_tests {
    use std::collections::VecDeque;
    use std::sync::atomic::Ordering::SeqCst;

    use loom::cell::UnsafeCell;
    use loom::sync::atomic::AtomicUsize;
    use loom::sync::{Arc, Mutex};
    use loom::thread;

    use super::*;
    use crate::loom::model;

    struct Proc {
        state: State,
        /// `None` once the exit has closed it.
        mailbox: Mutex<Option<Vec<usize>>>,
        /// Touched only by the thread holding RUNNING.
        batch: UnsafeCell<VecDeque<usize>>,
        /// Queue entries that exist: pushed and not yet popped.
        queued: AtomicUsize,
        /// Bit `i` is set once message `i` has been handled.
        handled: AtomicUsize,
        /// How many times the exit ran.
        exits: AtomicUsize,
        /// Reductions per slice.
        budget: usize,
    }

    /// How the process starts.
    #[derive(Clone, Copy, PartialEq, Eq)]
    enum Start {
        /// Just spawned: born NOTIFIED with the spawner's queue entry, which
        /// the model's runner thread pops.
        Queued,
        /// Idle after a first slice: only a send or a kill wakes it.
        Idle,
    }

    impl Proc {
        fn new(start: Start, budget: usize, preload: &[usize]) -> Self {
            let p = Proc {
                state: State::new_notified(),
                mailbox: Mutex::new(Some(preload.to_vec())),
                batch: UnsafeCell::new(VecDeque::new()),
                queued: AtomicUsize::new(1),
                handled: AtomicUsize::new(0),
                exits: AtomicUsize::new(0),
                budget,
            };
            if start == Start::Idle {
                assert!(preload.is_empty());
                assert!(!p.run());
            }
            p
        }

        fn bits(&self) -> u32 {
            self.state.0.load(SeqCst)
        }

        /// `Deliver::deliver`: push, then notify; run the slice on
        /// `Schedule`.
        fn send(&self, msg: usize) {
            let pushed = match self.mailbox.lock().unwrap().as_mut() {
                Some(queue) => {
                    queue.push(msg);
                    true
                }
                None => false,
            };
            if pushed && self.state.notify() == Notify::Schedule {
                self.enqueue();
                self.run_entries();
            }
        }

        /// `link::kill`: mark exiting; run the slice on `Schedule`.
        fn kill(&self) {
            let (_, notify) = self.state.mark_exiting();
            if notify == Notify::Schedule {
                self.enqueue();
                self.run_entries();
            }
        }

        /// Pushes a queue entry; the state must say one is due.
        fn enqueue(&self) {
            let s = self.bits();
            assert!(s & DEAD == 0, "a DEAD process was enqueued: {s:#b}");
            assert!(s & NOTIFIED != 0 && s & RUNNING == 0, "state {s:#b}");
            // Invariant 2: never two entries for one process.
            let prev = self.queued.fetch_add(1, SeqCst);
            assert_eq!(prev, 0, "a second queue entry");
        }

        /// Runs the entry this thread owns, and again after every yield.
        fn run_entries(&self) {
            while self.run() {}
        }

        /// Pops the (single) entry and runs one slice, as `Pcb::run` does.
        /// Returns true if the slice yielded: the caller owns a new entry.
        fn run(&self) -> bool {
            let prev = self.queued.fetch_sub(1, SeqCst);
            assert_eq!(prev, 1, "popped an entry that was never pushed");
            let s = self.bits();
            assert!(
                s & NOTIFIED != 0 && s & RUNNING == 0 && s & DEAD == 0,
                "popped in state {s:#b}"
            );
            if self.state.transition_to_running() {
                self.exit();
                return false;
            }
            self.slice()
        }

        fn take_mailbox(&self) {
            let mut mailbox = self.mailbox.lock().unwrap();
            let queue = mailbox.as_mut().expect("mailbox closed while running");
            // SAFETY: loom checks every access to this cell and fails the
            // model if two of them are not ordered by happens-before; the
            // pointer is valid for the closure and no reference escapes.
            self.batch
                .with_mut(|b| unsafe { (*b).extend(queue.drain(..)) });
        }

        fn pop_batch(&self) -> Option<usize> {
            // SAFETY: as in `take_mailbox`.
            self.batch.with_mut(|b| unsafe { (*b).pop_front() })
        }

        /// `Pcb::slice_loop`, with a handler that records the message.
        fn slice(&self) -> bool {
            self.take_mailbox();
            let mut budget = self.budget;
            loop {
                let Some(msg) = self.pop_batch() else {
                    match self.state.transition_to_idle() {
                        TransitionToIdle::Ok => return false,
                        TransitionToIdle::Notified => {
                            self.take_mailbox();
                            continue;
                        }
                        TransitionToIdle::Exiting => {
                            self.exit();
                            return false;
                        }
                    }
                };
                let prev = self.handled.fetch_or(1 << msg, SeqCst);
                assert_eq!(prev & (1 << msg), 0, "message {msg} handled twice");
                if self.state.is_exiting() {
                    self.exit();
                    return false;
                }
                budget -= 1;
                if budget == 0 {
                    self.state.transition_to_yield();
                    self.enqueue();
                    return true;
                }
            }
        }

        /// `Pcb::exit`: mark exiting, close the mailbox, drop the batch,
        /// then DEAD.
        fn exit(&self) {
            assert!(self.state.is_running());
            let (_, notify) = self.state.mark_exiting();
            assert_eq!(notify, Notify::Nothing, "the runner scheduled itself");
            drop(self.mailbox.lock().unwrap().take());
            // SAFETY: as in `take_mailbox`.
            self.batch.with_mut(|b| unsafe { (*b).clear() });
            let prev = self.exits.fetch_add(1, SeqCst);
            assert_eq!(prev, 0, "the exit ran twice");
            self.state.transition_to_dead();
        }
    }

    /// Runs a model: the process starts as `start` with `preload` in its
    /// mailbox (a runner thread pops the spawn entry if it starts queued),
    /// one thread per message in `sends`, and a killer thread if `kill`.
    fn check(
        start: Start,
        budget: usize,
        preload: &'static [usize],
        sends: &'static [usize],
        kill: bool,
    ) {
        model(move || {
            let p = Arc::new(Proc::new(start, budget, preload));
            let mut threads = Vec::new();
            if start == Start::Queued {
                let p = p.clone();
                threads.push(thread::spawn(move || p.run_entries()));
            }
            for &msg in sends {
                let p = p.clone();
                threads.push(thread::spawn(move || p.send(msg)));
            }
            if kill {
                let p = p.clone();
                threads.push(thread::spawn(move || p.kill()));
            }
            for t in threads {
                t.join().unwrap();
            }

            let s = p.bits();
            assert_eq!(p.queued.load(SeqCst), 0, "an entry was never run");
            assert_eq!(s & RUNNING, 0, "still running: {s:#b}");
            // SAFETY: every other thread has been joined.
            let batch_empty = p.batch.with(|b| unsafe { (*b).is_empty() });
            assert!(batch_empty);
            if kill {
                // A late `notify` may still set NOTIFIED on a DEAD process;
                // it is never acted on.
                assert_eq!(s & (DEAD | EXITING), DEAD | EXITING, "killed but not dead");
                assert_eq!(p.exits.load(SeqCst), 1, "the kill was lost");
                assert!(p.mailbox.lock().unwrap().is_none());
            } else {
                // No lost wake-up: idle, and nothing left unhandled.
                assert_eq!(s, 0, "not idle at the end: {s:#b}");
                assert_eq!(p.exits.load(SeqCst), 0);
                assert_eq!(p.mailbox.lock().unwrap().as_deref(), Some(&[][..]));
                let all = preload.iter().chain(sends).fold(0, |m, i| m | 1 << i);
                assert_eq!(p.handled.load(SeqCst), all, "a message was lost");
            }
        });
    }

    /// (a) A running slice and two concurrent senders: each message is
    /// handled exactly once, one queue entry at most, no lost wake-up.
    #[test]
    fn loom_two_senders_race_a_running_slice() {
        check(Start::Queued, 8, &[0], &[1, 2], false);
    }

    /// (a) Two senders race to wake an idle process: exactly one schedules.
    #[test]
    fn loom_two_senders_wake_an_idle_process() {
        check(Start::Idle, 8, &[], &[0, 1], false);
    }

    /// (b) A kill races a send and a running slice: the exit runs exactly
    /// once, and nobody enqueues the process once it is DEAD.
    #[test]
    fn loom_kill_races_a_send_and_a_running_slice() {
        check(Start::Queued, 8, &[0], &[1], true);
    }

    /// (b) A kill races a send to an idle process.
    #[test]
    fn loom_kill_races_a_send_to_an_idle_process() {
        check(Start::Idle, 8, &[], &[0], true);
    }

    /// (c) The slice budget runs out (a yield) while a send arrives.
    #[test]
    fn loom_yield_races_a_send() {
        check(Start::Queued, 1, &[0, 1], &[2], false);
    }

    /// (c) A yield races a send and a kill.
    #[test]
    fn loom_yield_races_a_send_and_a_kill() {
        check(Start::Queued, 1, &[0, 1], &[2], true);
    }
}
