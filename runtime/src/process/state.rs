//! The scheduling state of a process: one atomic word, which is also the
//! lock of the process's mailbox.
//!
//! See `runtime/src/process/README.md` for the protocol and the invariants each
//! side relies on. In short:
//!
//! ```text
//!          send: lock; saw idle => set SCHEDULED, put the entry straight
//!          into the runner's batch, and enqueue the process
//!   IDLE ───────────────────────────────────────────────► SCHEDULED
//!    ▲                                                   (queued, then run)
//!    │  lock; batch and mailbox empty => clear SCHEDULED      │
//!    └────────────────────────────────────────────────────────┘
//!          while SCHEDULED, sends append to the mailbox; the runner takes
//!          them when its batch runs dry instead of going idle.
//! ```
//!
//! `EXITING` and `DEAD` are sticky flags on top: a process marked `EXITING`
//! runs no more callbacks and takes no more messages, and `DEAD` processes
//! are never enqueued again.
//!
//! Every change of the word happens under its lock bit (see `lock_word.rs`),
//! together with whatever the change is about (a push to the mailbox,
//! taking the mailbox into the runner's batch). Taking the lock is one
//! locked instruction and releasing it a plain store that publishes the new
//! bits. A message to an idle process therefore costs two locked
//! instructions in all: the send, and the runner's return to idle. Starting
//! a slice costs none: `SCHEDULED` covers both "queued" and "running", and
//! the entry that woke the process is already in its batch.
//!
//! The protocol is model-checked by `loom_tests` below (see `crate::loom`).

use std::sync::atomic::Ordering::Acquire;

use crate::lock_word::{LockWord, WordGuard};

/// The process is in a run queue or a thread is running it: whoever set the
/// bit owns the process's one queue entry (invariant 2), and the thread that
/// pops that entry owns the run right until it clears the bit or yields
/// (invariant 1).
const SCHEDULED: u32 = 0b0_0001;
/// The process is exiting: no more callbacks, not alive (rule 17, R1), and
/// its mailbox refuses new entries.
const EXITING: u32 = 0b0_0100;
/// The process has exited and notified its links and monitors.
const DEAD: u32 = 0b0_1000;

/// The atomic scheduling state of one process; its lock also guards the
/// process's mailbox.
#[derive(Debug)]
pub(crate) struct State(LockWord);

/// The state word held locked. The bits are changed in the guard and
/// published, with the lock's release, when it drops.
///
/// Whoever holds it may touch the mailbox the word guards (see
/// `mailbox.rs`).
pub(crate) struct Locked<'a>(WordGuard<'a>);

/// What a sender must do after making the process runnable.
#[must_use]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Notify {
    /// The process was idle: the caller owns the only queue entry and must
    /// enqueue it.
    Schedule,
    /// It is queued or running already, or it is dead.
    Nothing,
}

/// The outcome of trying to end a slice with an empty batch.
#[must_use]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TransitionToIdle {
    /// The process is idle; the runner must not touch it again.
    Ok,
    /// Something arrived meanwhile and was moved to the batch: drain again.
    Notified,
    /// The process was marked exiting meanwhile: run the exit.
    Exiting,
}

impl State {
    /// A fresh process is born scheduled: its spawner enqueues it once so
    /// that it runs its init.
    pub(crate) fn new_scheduled() -> Self {
        State(LockWord::new(SCHEDULED))
    }

    /// Takes the word's lock (see `lock_word.rs`).
    #[inline]
    pub(crate) fn lock(&self) -> Locked<'_> {
        Locked(self.0.lock())
    }

    /// Marks the process exiting (a kill or an exit signal). Returns whether
    /// it was already exiting, and whether the caller must enqueue it so the
    /// exit runs. Called through `Header::mark_exiting`, which also sets the
    /// runner's copy of the bit.
    pub(crate) fn mark_exiting(&self) -> (bool, Notify) {
        self.lock().mark_exiting()
    }

    /// Worker side: the exit has completed. Terminal.
    pub(crate) fn transition_to_dead(&self) {
        let mut s = self.lock();
        debug_assert!(s.0.bits & SCHEDULED != 0);
        s.0.bits = (s.0.bits | DEAD | EXITING) & !SCHEDULED;
    }

    fn bits(&self) -> u32 {
        self.0.load(Acquire)
    }

    /// Not exiting and not dead (rule 17).
    pub(crate) fn is_alive(&self) -> bool {
        self.bits() & (EXITING | DEAD) == 0
    }

    /// The loom model's stand-in for `Header::is_exiting` (the runner's
    /// copy of this bit, which the model does not have).
    #[cfg(all(test, loom))]
    pub(crate) fn is_exiting(&self) -> bool {
        self.bits() & EXITING != 0
    }

    /// The exit has completed: links and monitors are notified.
    pub(crate) fn is_dead(&self) -> bool {
        self.bits() & DEAD != 0
    }

    /// Queued or running (for `process_info`).
    pub(crate) fn is_scheduled(&self) -> bool {
        self.bits() & SCHEDULED != 0
    }
}

impl Locked<'_> {
    /// Not exiting and not dead: the mailbox takes entries.
    pub(crate) fn is_alive(&self) -> bool {
        self.0.bits & (EXITING | DEAD) == 0
    }

    /// Sender side: an entry is being pushed. `Schedule` if the process was
    /// idle: the caller now holds the run right and must hand it, with the
    /// entry, to a run queue.
    #[inline]
    pub(crate) fn notify(&mut self) -> Notify {
        if self.0.bits & (SCHEDULED | DEAD) == 0 {
            self.0.bits |= SCHEDULED;
            Notify::Schedule
        } else {
            Notify::Nothing
        }
    }

    /// See [`State::mark_exiting`].
    pub(crate) fn mark_exiting(&mut self) -> (bool, Notify) {
        let already = self.0.bits & (EXITING | DEAD) != 0;
        let notify = self.notify();
        self.0.bits |= EXITING;
        (already, notify)
    }

    /// Worker side: the runner's batch is empty and so is the mailbox when
    /// `mailbox_empty`. Goes idle, or says why not; on `Notified` the caller
    /// takes the mailbox before unlocking.
    pub(crate) fn transition_to_idle(&mut self, mailbox_empty: bool) -> TransitionToIdle {
        debug_assert!(self.0.bits & SCHEDULED != 0);
        if self.0.bits & EXITING != 0 {
            TransitionToIdle::Exiting
        } else if mailbox_empty {
            self.0.bits &= !SCHEDULED;
            TransitionToIdle::Ok
        } else {
            TransitionToIdle::Notified
        }
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    #[test]
    fn send_while_scheduled_defers_to_the_runner() {
        let s = State::new_scheduled();
        assert_eq!(s.lock().notify(), Notify::Nothing);
        assert_eq!(
            s.lock().transition_to_idle(false),
            TransitionToIdle::Notified
        );
        assert_eq!(s.lock().transition_to_idle(true), TransitionToIdle::Ok);
        assert!(!s.is_scheduled());
        assert_eq!(s.lock().notify(), Notify::Schedule);
        assert_eq!(s.lock().notify(), Notify::Nothing);
    }

    #[test]
    fn exiting_is_sticky_and_dead_is_never_scheduled() {
        let s = State::new_scheduled();
        let (already, notify) = s.mark_exiting();
        assert!(!already);
        assert_eq!(notify, Notify::Nothing);
        assert!(!s.is_alive());
        assert!(!s.lock().is_alive());
        assert_eq!(s.lock().transition_to_idle(true), TransitionToIdle::Exiting);
        s.transition_to_dead();
        assert!(!s.is_alive());
        assert!(s.is_dead());
        assert_eq!(s.lock().notify(), Notify::Nothing);
        assert_eq!(s.mark_exiting(), (true, Notify::Nothing));
    }

    #[test]
    fn kill_of_an_idle_process_schedules_it() {
        let s = State::new_scheduled();
        assert_eq!(s.lock().transition_to_idle(true), TransitionToIdle::Ok);
        assert_eq!(s.mark_exiting(), (false, Notify::Schedule));
        assert!(s.is_scheduled());
        assert_eq!(s.lock().transition_to_idle(true), TransitionToIdle::Exiting);
    }

    #[test]
    fn a_lock_changes_nothing_by_itself() {
        let s = State::new_scheduled();
        drop(s.lock());
        assert_eq!(s.bits(), SCHEDULED);
    }
}

/// Model checks of the state machine: loom runs each model under every
/// interleaving within the preemption bound (see `crate::loom`).
///
/// A `Proc` is a process reduced to what the protocol touches: the state
/// word, the real `Mailbox` that the word guards and the real `Batch` (a
/// loom `UnsafeCell`: loom fails the model if a waking sender and a runner,
/// or two runners, touch it without a happens-before edge between them;
/// invariant 1 and `mailbox.rs` invariant 2), and a count of queue entries. Whoever obtains a queue entry (a sender or killer told
/// `Schedule`, or a runner that yields) runs the slice itself, as the worker
/// popping that entry would; so once every thread has finished no entry may
/// be left, and the process must be idle with every message handled, or
/// dead.
#[cfg(all(test, loom))]
mod loom_tests {
    use std::sync::atomic::Ordering::SeqCst;

    use loom::sync::atomic::{AtomicU32, AtomicUsize};
    use loom::sync::Arc;
    use loom::thread;

    use super::*;
    use crate::loom::model;
    use crate::mailbox::{Batch, BatchCell, Envelope, Mailbox, Overflow};

    struct Proc {
        state: State,
        /// The real mailbox, guarded by `state` as in `Pcb`.
        mailbox: Mailbox<usize>,
        batch: BatchCell<usize>,
        batched: AtomicU32,
        batch_capacity: AtomicU32,
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
        /// Just spawned: born SCHEDULED with the spawner's queue entry,
        /// which the model's runner thread pops.
        Queued,
        /// Idle after a first slice: only a send or a kill wakes it.
        Idle,
    }

    impl Proc {
        fn new(start: Start, budget: usize, preload: &[usize]) -> Self {
            let p = Proc {
                state: State::new_scheduled(),
                mailbox: Mailbox::new(0, 0, Overflow::Reject),
                batch: BatchCell::new(),
                batched: AtomicU32::new(0),
                batch_capacity: AtomicU32::new(0),
                queued: AtomicUsize::new(1),
                handled: AtomicUsize::new(0),
                exits: AtomicUsize::new(0),
                budget,
            };
            for &msg in preload {
                // Born SCHEDULED: a push asks for nothing.
                let notify = p
                    .mailbox
                    .push(&p.state, p.batch(), Envelope::Message(msg), |_| {});
                assert!(matches!(notify, Ok(Notify::Nothing)));
            }
            if start == Start::Idle {
                assert!(preload.is_empty());
                assert!(!p.run());
            }
            p
        }

        fn bits(&self) -> u32 {
            self.state.0.load(SeqCst)
        }

        fn batch(&self) -> Batch<'_, usize> {
            Batch {
                entries: &self.batch,
                len: &self.batched,
                capacity: &self.batch_capacity,
            }
        }

        /// `Deliver::deliver`: push (which notifies); run the slice on
        /// `Schedule`.
        fn send(&self, msg: usize) {
            if let Ok(Notify::Schedule) =
                self.mailbox
                    .push(&self.state, self.batch(), Envelope::Message(msg), |_| {})
            {
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
            assert!(s & SCHEDULED != 0, "state {s:#b}");
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
                s & SCHEDULED != 0 && s & DEAD == 0,
                "popped in state {s:#b}"
            );
            if self.state.is_exiting() {
                self.exit();
                return false;
            }
            self.slice()
        }

        /// `Pcb::slice_loop`, with a handler that records the message.
        fn slice(&self) -> bool {
            let mut budget = self.budget;
            loop {
                // SAFETY: this thread popped the entry: it holds the run
                // right (loom checks the batch cell's accesses).
                let Some(slot) = (unsafe { self.batch().pop_in_place() }) else {
                    match unsafe { self.mailbox.idle_or_take(&self.state, self.batch(), |_| {}) } {
                        TransitionToIdle::Ok => return false,
                        TransitionToIdle::Notified => continue,
                        TransitionToIdle::Exiting => {
                            self.exit();
                            return false;
                        }
                    }
                };
                // SAFETY: the entry just taken, moved out once, as
                // `Pcb::slice_loop` does.
                let Envelope::Message(msg) = (unsafe { slot.as_ptr().read() }) else {
                    unreachable!("the model sends messages only")
                };
                let prev = self.handled.fetch_or(1 << msg, SeqCst);
                assert_eq!(prev & (1 << msg), 0, "message {msg} handled twice");
                if self.state.is_exiting() {
                    self.exit();
                    return false;
                }
                budget -= 1;
                if budget == 0 {
                    self.enqueue();
                    return true;
                }
            }
        }

        /// `Pcb::exit`: mark exiting, close the mailbox, drop the batch,
        /// then DEAD.
        fn exit(&self) {
            assert!(self.state.is_scheduled());
            let (_, notify) = self.state.mark_exiting();
            assert_eq!(notify, Notify::Nothing, "the runner scheduled itself");
            drop(self.mailbox.close(&self.state));
            // SAFETY: the exit runs under the run right.
            unsafe { self.batch().with(|b| b.clear()) };
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
            assert_eq!(s & SCHEDULED, 0, "still scheduled: {s:#b}");
            // SAFETY: every thread has been joined; nobody holds the run
            // right.
            assert!(unsafe { p.batch().with(|b| b.is_empty()) });
            if kill {
                // A send after the exit is refused and changes nothing.
                assert_eq!(s, DEAD | EXITING, "killed but not dead: {s:#b}");
                assert_eq!(p.exits.load(SeqCst), 1, "the kill was lost");
                assert_eq!(p.mailbox.len(&p.state), 0);
                // A closed mailbox refuses.
                assert!(p
                    .mailbox
                    .push(&p.state, p.batch(), Envelope::Message(9), |_| {})
                    .is_err());
            } else {
                // No lost wake-up: idle, and nothing left unhandled.
                assert_eq!(s, 0, "not idle at the end: {s:#b}");
                assert_eq!(p.exits.load(SeqCst), 0);
                assert_eq!(p.mailbox.len(&p.state), 0);
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
