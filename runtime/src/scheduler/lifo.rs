//! A worker's LIFO slot: the process it woke last, run next for locality —
//! and taken by the watchdog when the worker is stuck in a handler.
//!
//! The slot is the worker's own: on the hot path (a handler wakes a peer
//! into it, the worker takes it for the next slice) it costs plain loads and
//! stores, no locked instruction. One other thread may take from it: the
//! watchdog, once it has declared the worker stuck in one handler, so that
//! the process the stuck handler woke last does not wait for that handler
//! (see `README.md`, "The LIFO slot and a stuck worker").
//!
//! # Protocol
//!
//! A state word and a cell holding the task:
//!
//! ```text
//!            owner: write cell, store FULL
//!   EMPTY ───────────────────────────────► FULL
//!     ▲  ▲   owner (in a slice): CAS FULL→EMPTY, read cell  │
//!     │  └──────────────────────────────────────────────────┤
//!     │      owner (between slices): load FULL, read cell,   │
//!     │      store EMPTY — plain (rule 3)                    │
//!     │                                                      │ thief: CAS FULL→STEALING
//!     └──────── thief: read cell, store EMPTY ◄── STEALING ◄─┘
//! ```
//!
//! 1. Only the owner writes the cell, and only in `EMPTY`, which no other
//!    thread can leave: the cell is the owner's.
//! 2. The thief reads the cell only in `STEALING`, which it entered by a
//!    CAS from `FULL` and leaves with a release store of `EMPTY`; the
//!    owner, seeing `STEALING`, does not touch the cell, and seeing the
//!    thief's `EMPTY` (acquire) its next write comes after the thief's read.
//! 3. The owner takes with plain operations only *between slices*. The
//!    thief steals only while it holds the state lock of the process
//!    running the stuck slice and sees the worker's slice counter unchanged
//!    under that lock; the worker ends every slice by bumping that counter
//!    *before* the slice's last acquisition of the same lock (see
//!    `Pcb::run`). So a steal either happens before that acquisition — the
//!    owner's take, after it, sees the slot the thief left — or the thief
//!    sees the slice over and steals nothing. Inside a slice the owner may
//!    race the thief, so there it takes by CAS (rare: before blocking, or
//!    to run a callee inline).
//!
//! The loom model below checks the three together.

use std::sync::atomic::Ordering::{Acquire, Relaxed, Release};

use crate::loom::{AtomicU32, UnsafeCell};

const EMPTY: u32 = 0;
const FULL: u32 = 1;
const STEALING: u32 = 2;

/// One task slot with an owner and an occasional thief (see the module
/// docs). `T` is a run-queue entry; generic for the loom model.
pub(crate) struct LifoSlot<T> {
    state: AtomicU32,
    task: UnsafeCell<Option<T>>,
}

// SAFETY: the cell is reached only by the thread the state word gives it to
// (module rules 1-3), handed over with acquire/release on that word; `T`
// is `Send`.
unsafe impl<T: Send> Sync for LifoSlot<T> {}

impl<T> LifoSlot<T> {
    pub(crate) fn new() -> Self {
        LifoSlot {
            state: AtomicU32::new(EMPTY),
            task: UnsafeCell::new(None),
        }
    }

    /// Owner: puts `task` in the slot. Returns the task it displaced, or
    /// `Err(task)` if a thief is busy with the slot (the caller queues
    /// `task` elsewhere).
    #[inline(always)]
    pub(crate) fn push(&self, task: T) -> Result<Option<T>, T> {
        if self.state.load(Acquire) != EMPTY {
            return self.push_slow(task);
        }
        // SAFETY: rule 1 — the state is EMPTY, which only we can leave.
        self.task.with_mut(|cell| unsafe { *cell = Some(task) });
        self.state.store(FULL, Release);
        Ok(None)
    }

    /// `push` to a slot that is not empty: displace its occupant, racing a
    /// thief, or hand `task` back if a thief holds the slot.
    #[cold]
    #[inline(never)]
    fn push_slow(&self, task: T) -> Result<Option<T>, T> {
        let old = self.take_in_slice();
        if self.state.load(Acquire) != EMPTY {
            return Err(task); // a thief holds the slot
        }
        // SAFETY: rule 1 — the state is EMPTY, which only we can leave.
        self.task.with_mut(|cell| unsafe { *cell = Some(task) });
        self.state.store(FULL, Release);
        Ok(old)
    }

    /// Owner, between slices: takes the occupant with plain operations
    /// (rule 3: no thief can be at work now).
    #[inline(always)]
    pub(crate) fn take_between_slices(&self) -> Option<T> {
        if self.state.load(Acquire) != FULL {
            return None;
        }
        // SAFETY: rule 3 — between slices nobody else touches a FULL slot.
        let task = self.task.with_mut(|cell| unsafe { (*cell).take() });
        self.state.store(EMPTY, Relaxed);
        task
    }

    /// Owner, inside a slice: takes the occupant, racing a thief.
    pub(crate) fn take_in_slice(&self) -> Option<T> {
        if self.state.load(Relaxed) != FULL
            || self
                .state
                .compare_exchange(FULL, EMPTY, Acquire, Relaxed)
                .is_err()
        {
            return None;
        }
        // SAFETY: rule 1 — our CAS made the state EMPTY.
        self.task.with_mut(|cell| unsafe { (*cell).take() })
    }

    /// Thief: takes the occupant, if any. Only under module rule 3.
    pub(crate) fn steal(&self) -> Option<T> {
        self.state
            .compare_exchange(FULL, STEALING, Acquire, Relaxed)
            .ok()?;
        // SAFETY: rule 2 — our CAS made the state STEALING.
        let task = self.task.with_mut(|cell| unsafe { (*cell).take() });
        self.state.store(EMPTY, Release);
        task
    }
}

/// A worker's slice counter as a running slice sees it (`None` off the
/// workers, and for a slice nested in another, which the outer slice's
/// counter covers). Odd while a slice runs; the watchdog samples it.
#[derive(Clone, Copy, Debug)]
pub(crate) struct SliceMark<'a>(pub(crate) Option<&'a std::sync::atomic::AtomicU64>);

impl SliceMark<'_> {
    /// The slice is over (module rule 3: before its last acquisition of
    /// the running process's state lock). Idempotent.
    #[inline]
    pub(crate) fn end(self) {
        if let Some(c) = self.0 {
            // Single writer: this worker's thread.
            let v = c.load(Relaxed);
            if v % 2 == 1 {
                c.store(v + 1, Release);
            }
        }
    }

    /// The slice goes on after all (what was about to end it found more
    /// work): a new odd value, which the watchdog sees as a new slice.
    #[inline]
    pub(crate) fn resume(self) {
        if let Some(c) = self.0 {
            let v = c.load(Relaxed);
            if v % 2 == 0 {
                c.store(v + 1, Release);
            }
        }
    }
}

/// The model: an owner runs a slice in which its handler wakes a task into
/// the slot (and, in one variant, a second that displaces the first), ends
/// the slice as `Pcb::run` does — bump the slice counter, then take and
/// release the running process's lock — and takes the slot between slices.
/// A thief (the watchdog) that saw the slice running takes the process's
/// lock, checks the counter and steals. Every task must run exactly once,
/// and loom checks that no two threads touch the cell at once.
#[cfg(all(test, loom))]
mod loom_tests {
    use std::sync::atomic::Ordering::SeqCst;

    use loom::sync::Arc;
    use loom::thread;

    use super::*;
    use crate::loom::{model, AtomicUsize, Mutex};

    struct World {
        slot: LifoSlot<usize>,
        /// The worker's slice counter: odd while a slice runs.
        slices: AtomicUsize,
        /// The state lock of the process running the slice.
        running: Mutex<()>,
        /// How many times each task ran.
        ran: [AtomicUsize; 2],
    }

    fn run(w: &World, task: usize) {
        w.ran[task].fetch_add(1, SeqCst);
    }

    fn check(tasks: usize) {
        model(move || {
            let w = Arc::new(World {
                slot: LifoSlot::new(),
                slices: AtomicUsize::new(1), // slice 1 runs
                running: Mutex::new(()),
                ran: [AtomicUsize::new(0), AtomicUsize::new(0)],
            });
            let thief = {
                let w = w.clone();
                thread::spawn(move || {
                    let sample = w.slices.load(Acquire);
                    if sample % 2 == 1 {
                        let _lock = w.running.lock();
                        if w.slices.load(Acquire) == sample {
                            if let Some(t) = w.slot.steal() {
                                run(&w, t);
                            }
                        }
                    }
                })
            };
            // The owner's slice: wake tasks into the slot.
            for t in 0..tasks {
                match w.slot.push(t) {
                    Ok(Some(old)) | Err(old) => run(&w, old),
                    Ok(None) => {}
                }
            }
            // End of the slice: counter first, then the process's lock.
            w.slices.store(2, Release);
            drop(w.running.lock());
            // Between slices.
            if let Some(t) = w.slot.take_between_slices() {
                run(&w, t);
            }
            thief.join().unwrap();
            for t in 0..tasks {
                assert_eq!(w.ran[t].load(SeqCst), 1, "task {t} ran once");
            }
        });
    }

    #[test]
    fn loom_lifo_steal_races_the_end_of_the_slice() {
        check(1);
    }

    #[test]
    fn loom_lifo_steal_races_a_displacing_push() {
        check(2);
    }
}
