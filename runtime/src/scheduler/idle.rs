//! The idle protocol: who sleeps, who searches, who gets woken.
//!
//! See `runtime/src/scheduler/README.md`. The counters:
//!
//! - `searching`: participants looking for work in other queues. Whoever
//!   makes work available wakes a sleeper only when nobody is searching (a
//!   searcher will find the work), so a burst of sends wakes at most one
//!   thread — no thundering herd.
//! - `sleeping`: participants registered in `sleepers`.
//!
//! Invariant: a participant woken through `notify_one` is counted as
//! searching *by the waker*, before it runs. So the count never lags behind
//! a wake-up, and two notifiers cannot both see "nobody searching" for the
//! same piece of work.
//!
//! No lost wake-up: a participant registers as a sleeper, then (after a
//! SeqCst fence) checks every queue once more; a producer pushes, then
//! (after a SeqCst fence) reads the counters. One of the two sees the other.
//!
//! The protocol, with the real `Parker`, is model-checked by `loom_tests`
//! below (see `crate::loom`).

use std::sync::atomic::Ordering::SeqCst;
use std::sync::Arc;

use super::park::Parker;
use crate::loom::{fence, AtomicUsize, Mutex};

pub(crate) struct Idle {
    searching: AtomicUsize,
    sleeping: AtomicUsize,
    sleepers: Mutex<Vec<Arc<Parker>>>,
}

impl Idle {
    pub(crate) fn new() -> Self {
        Idle {
            searching: AtomicUsize::new(0),
            sleeping: AtomicUsize::new(0),
            sleepers: Mutex::new(Vec::new()),
        }
    }

    /// Work was made available: wake one sleeper if nobody is searching.
    pub(crate) fn notify_one(&self) {
        fence(SeqCst);
        if self.searching.load(SeqCst) != 0 || self.sleeping.load(SeqCst) == 0 {
            return;
        }
        self.notify_one_slow();
    }

    #[cold]
    fn notify_one_slow(&self) {
        let mut sleepers = self.sleepers.lock();
        if self.searching.load(SeqCst) != 0 {
            return;
        }
        if let Some(parker) = sleepers.pop() {
            self.sleeping.fetch_sub(1, SeqCst);
            self.searching.fetch_add(1, SeqCst);
            drop(sleepers);
            parker.unpark();
        }
    }

    /// A participant starts searching other queues.
    pub(crate) fn begin_search(&self) {
        self.searching.fetch_add(1, SeqCst);
    }

    /// A searching participant stops searching (it found work, or it is
    /// leaving). The last searcher to stop wakes a sleeper if `work_left()`
    /// still sees work queued, so that the rest of a burst is not left to
    /// nobody; with nothing left, waking a thread to find nothing would only
    /// cost a futex call here and a CPU there.
    ///
    /// Checking is enough: a producer that pushed while we searched may
    /// have skipped its own `notify_one` because it saw us searching. Its
    /// SeqCst fence then precedes our `fetch_sub` in the SeqCst order, and
    /// our fence follows it, so `work_left` sees the push. A producer whose
    /// read of `searching` comes after the `fetch_sub` sees zero and wakes
    /// a sleeper itself.
    pub(crate) fn end_search(&self, work_left: impl FnOnce() -> bool) {
        if self.searching.fetch_sub(1, SeqCst) == 1 {
            fence(SeqCst);
            if work_left() {
                self.notify_one();
            }
        }
    }

    /// Registers `parker` as a sleeper; the caller stops searching if it was.
    /// The caller must then re-check every queue (`has_work`) before parking.
    pub(crate) fn prepare_park(&self, parker: &Arc<Parker>, was_searching: bool) {
        let mut sleepers = self.sleepers.lock();
        sleepers.push(parker.clone());
        self.sleeping.fetch_add(1, SeqCst);
        if was_searching {
            self.searching.fetch_sub(1, SeqCst);
        }
        drop(sleepers);
        fence(SeqCst);
    }

    /// Takes `parker` out of the sleepers. Returns true if it was still
    /// there; it is then counted as searching. False means a notifier took
    /// it (and counted it as searching) and its permit is on the way.
    pub(crate) fn cancel_park(&self, parker: &Arc<Parker>) -> bool {
        let mut sleepers = self.sleepers.lock();
        match sleepers.iter().position(|p| Arc::ptr_eq(p, parker)) {
            Some(i) => {
                sleepers.swap_remove(i);
                self.sleeping.fetch_sub(1, SeqCst);
                self.searching.fetch_add(1, SeqCst);
                true
            }
            None => false,
        }
    }

    /// Wakes every sleeper (shutdown).
    pub(crate) fn notify_all(&self) {
        let sleepers = std::mem::take(&mut *self.sleepers.lock());
        for parker in sleepers {
            self.sleeping.fetch_sub(1, SeqCst);
            self.searching.fetch_add(1, SeqCst);
            parker.unpark();
        }
    }

    pub(crate) fn sleeping(&self) -> usize {
        self.sleeping.load(SeqCst)
    }
}

impl std::fmt::Debug for Idle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Idle")
            .field("searching", &self.searching.load(SeqCst))
            .field("sleeping", &self.sleeping.load(SeqCst))
            .finish()
    }
}

/// Model checks of the idle protocol, with the real `Parker`: loom runs each
/// model under every interleaving within the preemption bound (see
/// `crate::loom`).
///
/// `Sched` is the scheduler reduced to what the protocol touches: one shared
/// queue (a count of units of work; pushes release, `has_work` reads after
/// the caller's SeqCst fence, as with crossbeam's injector), a stop flag,
/// and a count of units run. `worker` is `WorkerCx::run` over it. The worker
/// that runs the last unit stops the scheduler (`Scheduler::stop`), which is
/// the only way the model's workers return: if a wake-up is lost, the work
/// stays queued while every worker sleeps, and loom reports the deadlock.
#[cfg(all(test, loom))]
mod loom_tests {
    use std::sync::atomic::Ordering::{AcqRel, Acquire, Relaxed, Release};

    use loom::sync::atomic::AtomicBool;
    use loom::thread;

    use super::*;
    use crate::loom::{model, model_capped};

    struct Sched {
        idle: Idle,
        /// Units of work in the queues.
        queued: AtomicUsize,
        /// Units of work run.
        ran: AtomicUsize,
        /// Units of work the producers push in all.
        total: usize,
        /// The first unit run is a long handler: it returns only once the
        /// others have run, which takes a second worker.
        first_waits: bool,
        /// Units started.
        started: AtomicUsize,
        stopping: AtomicBool,
    }

    impl Sched {
        fn new(total: usize) -> Self {
            Sched {
                idle: Idle::new(),
                queued: AtomicUsize::new(0),
                ran: AtomicUsize::new(0),
                total,
                first_waits: false,
                started: AtomicUsize::new(0),
                stopping: AtomicBool::new(false),
            }
        }

        /// `Scheduler::inject` (or a worker's push to its deque).
        fn push(&self) {
            self.queued.fetch_add(1, Release);
            self.idle.notify_one();
        }

        /// A pop from the injector or a steal: may see a stale count.
        fn take(&self) -> bool {
            let mut n = self.queued.load(Acquire);
            while n != 0 {
                match self.queued.compare_exchange(n, n - 1, AcqRel, Acquire) {
                    Ok(_) => return true,
                    Err(actual) => n = actual,
                }
            }
            false
        }

        fn has_work(&self) -> bool {
            self.queued.load(SeqCst) != 0
        }

        fn is_stopping(&self) -> bool {
            self.stopping.load(Relaxed)
        }

        fn stop(&self) {
            self.stopping.store(true, SeqCst);
            self.idle.notify_all();
        }

        /// Runs a unit; the last one stops the scheduler.
        fn run_unit(&self) {
            if self.first_waits && self.started.fetch_add(1, SeqCst) == 0 {
                while self.ran.load(SeqCst) + 1 < self.total {
                    thread::yield_now();
                }
            }
            if self.ran.fetch_add(1, SeqCst) + 1 == self.total {
                self.stop();
            }
        }
    }

    /// `WorkerCx::run` for a worker with no local work: `next_local` looks
    /// at the injector outside the search, `steal` inside it.
    fn worker(s: &Sched, parker: &Arc<Parker>, keep_going: &dyn Fn() -> bool) {
        let mut searching = false;
        while keep_going() && !s.is_stopping() {
            let found = s.take() || {
                if !searching {
                    s.idle.begin_search();
                    searching = true;
                }
                s.take()
            };
            if found {
                if searching {
                    searching = false;
                    s.idle.end_search(|| s.has_work());
                }
                s.run_unit();
                continue;
            }
            s.idle.prepare_park(parker, searching);
            if s.has_work() || !keep_going() || s.is_stopping() {
                if !s.idle.cancel_park(parker) {
                    parker.park();
                }
            } else {
                parker.park();
            }
            searching = true;
        }
        if searching {
            s.idle.end_search(|| s.has_work());
        }
    }

    /// Every unit ran once, and the counters are back at rest.
    fn assert_at_rest(s: &Sched, parkers: &[Arc<Parker>]) {
        assert_eq!(s.ran.load(SeqCst), s.total, "a unit was never run");
        assert_eq!(s.queued.load(SeqCst), 0);
        assert_eq!(s.idle.searching.load(SeqCst), 0, "searching leaked");
        assert_eq!(s.idle.sleeping.load(SeqCst), 0, "sleeping leaked");
        assert!(s.idle.sleepers.lock().is_empty(), "a sleeper left behind");
        for parker in parkers {
            assert!(!parker.has_permit(), "a stale permit");
        }
    }

    /// Two workers look for work and go through prepare_park / re-check /
    /// park, while `producers` threads push `units` units each.
    fn check(cap: usize, producers: usize, units: usize) {
        check_with(cap, producers, units, false)
    }

    /// [`check`], where the first unit run waits for the others to run.
    fn check_with(cap: usize, producers: usize, units: usize, first_waits: bool) {
        model_capped(cap, move || {
            let s = loom::sync::Arc::new(Sched {
                first_waits,
                ..Sched::new(producers * units)
            });
            let parkers: Vec<_> = (0..2).map(|_| Arc::new(Parker::new())).collect();
            let mut threads = Vec::new();
            for parker in &parkers {
                let (s, parker) = (s.clone(), parker.clone());
                threads.push(thread::spawn(move || worker(&s, &parker, &|| true)));
            }
            for _ in 0..producers {
                let s = s.clone();
                threads.push(thread::spawn(move || {
                    for _ in 0..units {
                        s.push();
                    }
                }));
            }
            for t in threads {
                t.join().unwrap();
            }
            assert_at_rest(&s, &parkers);
        });
    }

    /// One producer, one unit, two workers: the unit is always run.
    #[test]
    fn loom_idle_one_unit_two_workers() {
        check(usize::MAX, 1, 1);
    }

    /// A burst of two units: the searcher that takes the first must pass
    /// the wake-up on (`end_search` sees work left and notifies). Capped at
    /// 2 preemptions: 3 takes over ten minutes.
    #[test]
    fn loom_idle_burst_of_two_units() {
        check(2, 1, 2);
    }

    /// A burst of two units whose first is a long handler: the second unit
    /// needs the other worker, so the searcher that takes the first must
    /// wake it if the second is already queued (its producer, seeing a
    /// searcher, did not), and must not leave it asleep. Without the
    /// hand-off the model never finishes. Capped like the burst above.
    #[test]
    fn loom_idle_a_long_first_unit_hands_the_rest_on() {
        check_with(2, 1, 2, true);
    }

    /// Two producers notify at once: only one may wake a sleeper, and the
    /// second unit must still run. Capped at 1 preemption: five threads
    /// take four minutes at 2.
    #[test]
    fn loom_idle_two_producers() {
        check(1, 2, 1);
    }

    /// The end of a blocking cover (`CoverGuard::drop`: clear `active`,
    /// then `cancel_park` + `unpark` the spare) races the spare going to
    /// sleep: the spare always wakes and leaves, its counters at rest.
    #[test]
    fn loom_idle_cover_end_wakes_the_spare() {
        model(|| {
            let s = loom::sync::Arc::new(Sched::new(0));
            let active = loom::sync::Arc::new(AtomicBool::new(true));
            let parker = Arc::new(Parker::new());
            let spare = {
                let (s, active, parker) = (s.clone(), active.clone(), parker.clone());
                thread::spawn(move || worker(&s, &parker, &|| active.load(SeqCst)))
            };
            active.store(false, SeqCst);
            if s.idle.cancel_park(&parker) {
                parker.unpark();
            }
            spare.join().unwrap();
            assert_at_rest(&s, &[parker]);
        });
    }
}
