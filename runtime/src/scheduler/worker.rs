//! A worker thread's loop and its private queues.

use std::cell::{Cell, RefCell};
use std::ptr::NonNull;
use std::rc::Rc;
use std::sync::atomic::Ordering::{Relaxed, Release};
use std::sync::Arc;
use std::time::Instant;

use crossbeam_deque::{Steal, Worker};

use super::lifo::{LifoSlot, SliceMark};
use super::park::Parker;
use super::WorkerShared;
use crate::process::pcb::Task;
use crate::runtime::Shared;

/// Consecutive runs from the LIFO slot before the slot's occupant must wait
/// its turn in the deque: a ping-pong pair cannot starve the others.
const LIFO_CAP: u8 = 3;
/// Every this many ticks the injector is looked at before the LIFO slot and
/// the local deque, so that work from outside is never starved by a busy
/// worker; and after every slice that spent its whole budget (see
/// [`look_outside_next`]). Measured with the `fairness` bench (see
/// `docs/scheduling.md`).
const INJECTOR_INTERVAL: u32 = 16;

/// The per-thread context of a thread that runs processes: a worker (with a
/// core) or a spare (without).
pub(crate) struct WorkerCx {
    pub(crate) shared: Arc<Shared>,
    /// The worker index, `None` on a spare.
    pub(crate) index: Option<usize>,
    core: RefCell<Option<Core>>,
    pub(crate) parker: Arc<Parker>,
    /// The thread is inside `blocking`: what it makes runnable goes where
    /// other threads can run it, not to its own queues.
    pub(crate) blocked: std::cell::Cell<bool>,
    /// The scheduler's hand-off count when this thread last went idle
    /// (see [`WorkerCx::wait_for_work`]).
    seen_handoffs: Cell<u32>,
    /// This thread's LIFO slot (see [`WorkerCx::lifo`]): a worker's, in its
    /// `WorkerShared` inside `shared`, or the spare's own in `spare_lifo`.
    lifo: NonNull<LifoSlot<Task>>,
    /// A worker's `WorkerShared` inside `shared` (see [`WorkerCx::own`]);
    /// `None` on a spare.
    own: Option<NonNull<WorkerShared>>,
    /// A spare's LIFO slot (a worker's is in its `WorkerShared`, where the
    /// watchdog can reach it; nobody steals a spare's). Boxed so that
    /// `lifo` can point at it.
    _spare_lifo: Option<Box<LifoSlot<Task>>>,
}

/// What only the thread's own code touches. A spare has a LIFO slot too
/// (so a process it runs gets the same inline calls and locality as on a
/// worker) but no deque: nobody could steal from it.
struct Core {
    local: Option<Worker<Task>>,
    /// Consecutive runs from the LIFO slot (see `WorkerCx::lifo`).
    lifo_streak: u8,
    tick: u32,
    rng: u32,
}

thread_local! {
    /// The context of this thread's scheduler loop, if it runs one. Set by
    /// [`enter`] from an `Rc` that the returned guard keeps alive, and
    /// cleared when the guard drops.
    static WORKER: Cell<Option<NonNull<WorkerCx>>> = const { Cell::new(None) };
}

/// The runtime context of the current thread, if it runs processes.
#[inline]
pub(crate) fn with_current<R>(f: impl FnOnce(Option<&WorkerCx>) -> R) -> R {
    let cx = WORKER.with(Cell::get);
    // SAFETY: a set pointer comes from the `Rc` that `enter`'s guard keeps
    // alive until it clears the pointer, and the reference lives only for
    // this call, which returns before the guard (held further up this
    // thread's stack) drops.
    f(cx.map(|cx| unsafe { cx.as_ref() }))
}

/// The index of the worker running on the calling thread, among its
/// runtime's workers (`0..Runtime::workers()`); `None` on every other
/// thread: a plain thread, or a spare thread covering for a blocked worker.
/// For diagnostics and tests: a process may run on any worker, and on
/// another one after every slice.
pub fn worker_index() -> Option<usize> {
    with_current(|cx| cx.and_then(|cx| cx.index))
}

/// Makes this thread's next look for work start with the injector (and
/// the worker's inbox), as every 16th does: called when a slice has spent
/// its whole budget. Sixteen slices are a short wait when each ran a
/// handler or two, but 2,048 handlers when each spent its budget — 70 ms
/// that processes woken from outside waited in `table_read` before this.
pub(crate) fn look_outside_next() {
    with_current(|cx| {
        if let Some(Ok(mut core)) = cx.map(|cx| cx.core.try_borrow_mut()) {
            if let Some(core) = core.as_mut() {
                // `next_local` counts this look, then finds a multiple.
                core.tick |= INJECTOR_INTERVAL - 1;
            }
        }
    });
}

/// Whether this thread is one of the runtime's workers or spares.
pub(crate) fn on_runtime_thread() -> bool {
    WORKER.with(Cell::get).is_some()
}

/// Moves this worker's LIFO slot to the back of its deque, where others can
/// steal it (before the thread blocks). Called inside a slice.
pub(crate) fn flush_lifo() {
    with_current(|cx| {
        if let Some(cx) = cx {
            if let Some(task) = cx.lifo().take_in_slice() {
                cx.push_back(task);
            }
        }
    })
}

/// Takes the task in this worker's LIFO slot if it is process `pid` (for
/// running a callee inline, see `reply.rs`). Called inside a slice.
pub(crate) fn take_lifo_if(pid: crate::pid::Pid) -> Option<Task> {
    with_current(|cx| {
        let cx = cx?;
        let lifo = cx.lifo();
        let task = lifo.take_in_slice()?;
        if task.header().pid == pid {
            return Some(task);
        }
        // Someone else's: back where it was (or, if the watchdog holds the
        // slot meanwhile, behind the waiting ones).
        if let Err(task) = lifo.push(task) {
            cx.push_back(task);
        }
        None
    })
}

/// Calls `f` with this worker's handler counter (`None` off the workers).
/// Nothing of the thread's context stays borrowed during `f`, which may run
/// a whole nested slice.
#[inline]
pub(crate) fn with_ticks<R>(f: impl FnOnce(Option<&std::sync::atomic::AtomicU64>) -> R) -> R {
    with_current(|cx| {
        let ticks = cx.and_then(|cx| cx.own().map(|ws| &ws.ticks));
        f(ticks)
    })
}

/// Sets the thread's context for the lifetime of the returned guard.
pub(crate) fn enter(cx: Rc<WorkerCx>) -> impl Drop {
    /// Keeps the context alive while the thread-local points at it.
    struct Reset {
        _cx: Rc<WorkerCx>,
    }
    impl Drop for Reset {
        fn drop(&mut self) {
            WORKER.with(|w| w.set(None));
        }
    }
    WORKER.with(|w| w.set(Some(NonNull::from(&*cx))));
    Reset { _cx: cx }
}

/// Pushes `task` onto this thread's own queues if it is a worker of the
/// task's runtime: the LIFO slot (`lifo`) or the back of the deque. Hands
/// the task back otherwise.
#[inline]
pub(crate) fn push_local(task: Task, lifo: bool) -> Option<Task> {
    with_current(|cx| {
        let Some(cx) = cx else {
            return Some(task);
        };
        if cx.blocked.get() || !Arc::ptr_eq(&cx.shared, &task.header().shared) {
            return Some(task);
        }
        let back = if lifo {
            // The hot path of a send to an idle process: a plain store
            // into the empty slot, nothing else.
            match cx.lifo().push(task) {
                Ok(None) => return None,
                // The old occupant waits its turn; or the watchdog holds
                // the slot, and the new one does.
                Ok(Some(back)) | Err(back) => back,
            }
        } else {
            task
        };
        cx.push_back(back);
        None
    })
}

impl Core {
    fn new(local: Option<Worker<Task>>, seed: u32) -> Self {
        Core {
            local,
            lifo_streak: 0,
            tick: 0,
            rng: seed.wrapping_mul(0x9E37_79B9) | 1,
        }
    }

    /// Queues `task` behind the waiting ones: the deque on a worker, the
    /// injector on a spare.
    fn push_back(&self, task: Task, shared: &Shared) {
        match &self.local {
            Some(local) => {
                local.push(task);
                shared.scheduler.idle.notify_one();
            }
            None => shared.scheduler.inject(task),
        }
    }
}

impl WorkerCx {
    pub(crate) fn new_worker(shared: Arc<Shared>, index: usize, local: Worker<Task>) -> Self {
        let own = &shared.scheduler.workers[index];
        let lifo = NonNull::from(&own.lifo);
        let own = NonNull::from(own);
        WorkerCx {
            lifo,
            own: Some(own),
            _spare_lifo: None,
            shared,
            index: Some(index),
            core: RefCell::new(Some(Core::new(Some(local), index as u32))),
            parker: Arc::new(Parker::new()),
            blocked: std::cell::Cell::new(false),
            seen_handoffs: Cell::new(0),
        }
    }

    pub(crate) fn new_spare(shared: Arc<Shared>) -> Self {
        let slot = Box::new(LifoSlot::new());
        WorkerCx {
            lifo: NonNull::from(&*slot),
            own: None,
            _spare_lifo: Some(slot),
            shared,
            index: None,
            core: RefCell::new(Some(Core::new(None, 7))),
            parker: Arc::new(Parker::new()),
            blocked: std::cell::Cell::new(false),
            seen_handoffs: Cell::new(0),
        }
    }

    /// Queues `task` behind the waiting ones (see `Core::push_back`).
    fn push_back(&self, task: Task) {
        if let Some(core) = self.core.borrow().as_ref() {
            core.push_back(task, &self.shared);
        }
    }

    /// What other threads see of this worker (`None` on a spare): found
    /// once, when the context is made, not through the scheduler's slice
    /// at every slice.
    #[inline]
    fn own(&self) -> Option<&WorkerShared> {
        // SAFETY: `own` points into `self.shared` (kept alive by the `Arc`
        // this context holds; the workers' slice is boxed and never
        // replaced), and the reference does not outlive `self`.
        self.own.map(|own| unsafe { own.as_ref() })
    }

    /// This thread's LIFO slot: the process it woke last, run next for
    /// locality. A worker's sits in its `WorkerShared`, where the watchdog
    /// takes it when the worker is stuck in a handler (see `lifo.rs`).
    #[inline]
    fn lifo(&self) -> &LifoSlot<Task> {
        // SAFETY: `lifo` points into `self.shared` (kept alive by the `Arc`
        // this context holds, and never moved: the workers' slice is boxed)
        // or into `self._spare_lifo`'s box, which lives as long as `self`
        // and is never replaced.
        unsafe { self.lifo.as_ref() }
    }

    /// Moves the LIFO slot's occupant to the injector (a spare whose cover
    /// ended: nobody else can reach its slot). Between slices.
    pub(crate) fn flush_to_injector(&self) {
        if let Some(task) = self.lifo().take_between_slices() {
            self.shared.scheduler.inject(task);
        }
    }

    /// The next task from this worker's own queues (or the injector).
    ///
    /// Inlined, like [`run_task`](Self::run_task), into the worker's loop,
    /// which calls each once per slice: on a hop of a ring the two call
    /// frames (saving and restoring nine registers) were a tenth of the
    /// work. Ring and pingpong 1.06-1.07× from these two alone.
    #[inline(always)]
    fn next_local(&self) -> Option<Task> {
        let mut core = self.core.borrow_mut();
        let core = core.as_mut()?;
        let sched = &self.shared.scheduler;
        core.tick = core.tick.wrapping_add(1);
        let local = core.local.as_ref();
        // Every INJECTOR_INTERVAL ticks the injector comes first, before the
        // LIFO slot: a ping-pong pair living in the slot must not hide it.
        // The slot's occupant keeps the slot and runs next.
        // The worker's inbox, where the balancer puts what it moves here
        // (`balance.rs`), comes with it.
        if core.tick % INJECTOR_INTERVAL == 0 {
            if let Some(ws) = self.own() {
                if let Steal::Success(task) = ws.take_inbox(local) {
                    return Some(task);
                }
            }
            if let Steal::Success(task) = sched.steal_injector(local) {
                return Some(task);
            }
        }
        // Between slices: the plain take of `lifo.rs` rule 3.
        if let Some(task) = self.lifo().take_between_slices() {
            // The cap is for the processes waiting in the deque; with none
            // there, demoting the task would only add a round trip through
            // the deque (a locked instruction) to, say, every fourth hop of
            // a ring.
            if core.lifo_streak < LIFO_CAP || local.is_none_or(Worker::is_empty) {
                core.lifo_streak = core.lifo_streak.saturating_add(1);
                return Some(task);
            }
            // Fairness, not parallelism: the task waits its turn in our own
            // deque. Waking another worker for it would make a ping-pong
            // pair bounce between workers.
            match local {
                Some(local) => local.push(task),
                None => sched.inject(task),
            }
        }
        core.lifo_streak = 0;
        if let Some(task) = local.and_then(Worker::pop) {
            return Some(task);
        }
        loop {
            match sched.steal_injector(local) {
                Steal::Success(task) => return Some(task),
                Steal::Retry => continue,
                Steal::Empty => return None,
            }
        }
    }

    /// Steals from other queues.
    fn steal(&self) -> Option<Task> {
        let sched = &self.shared.scheduler;
        let start = self.next_random(sched.workers.len());
        let core = self.core.borrow();
        sched.steal(
            self.index,
            core.as_ref().and_then(|c| c.local.as_ref()),
            start,
        )
    }

    fn next_random(&self, n: usize) -> usize {
        let mut core = self.core.borrow_mut();
        match core.as_mut() {
            Some(core) => {
                // xorshift32
                let mut x = core.rng;
                x ^= x << 13;
                x ^= x >> 17;
                x ^= x << 5;
                core.rng = x;
                x as usize % n.max(1)
            }
            None => 0,
        }
    }

    /// Runs one slice of `task`, keeping the watchdog's view current.
    /// Inlined into the worker's loop (see [`next_local`](Self::next_local)).
    #[inline(always)]
    pub(crate) fn run_task(&self, task: Task) {
        let Some(ws) = self.own() else {
            task.run(None, SliceMark(None));
            return;
        };
        // Only this thread writes these two words: plain stores suffice.
        // Released, so that the watchdog, reading an odd count, also sees
        // the pid of that slice (`lifo.rs` rule 3).
        ws.running.store(task.header().pid.to_bits(), Release);
        ws.slices.store(ws.slices.load(Relaxed) + 1, Release);
        let mark = SliceMark(Some(&ws.slices));
        // The slice marks itself over before its last state-lock
        // acquisition; `end` here is then a no-op.
        task.run(Some(&ws.ticks), mark);
        mark.end();
        if ws.watchdog_flag.load(Relaxed) {
            super::watchdog::end_cover(ws);
        }
    }

    /// The loop of a worker thread or of a spare covering for a stalled
    /// thread: run work while `keep_going` holds, park when there is none.
    pub(crate) fn run(&self, keep_going: impl Fn() -> bool) {
        let sched = &self.shared.scheduler;
        let mut searching = false;
        while keep_going() && !sched.is_stopping() {
            let task = match self.next_local() {
                Some(task) => Some(task),
                None => {
                    if !searching {
                        sched.idle.begin_search();
                        searching = true;
                    }
                    self.steal()
                }
            };
            if let Some(task) = task {
                if searching {
                    searching = false;
                    sched.idle.end_search(|| sched.has_work());
                }
                self.run_task(task);
                continue;
            }
            // Nothing anywhere. Work often arrives within microseconds (a
            // reply, a process the other worker wakes): look again a few
            // times before paying for a sleep and a wake-up.
            if self.wait_for_work() {
                continue;
            }
            // Park. Re-check after registering (see idle.rs).
            sched.idle.prepare_park(&self.parker, searching);
            // Either way we come back counted as searching: `cancel_park`
            // counts us, and so does whoever unparks us.
            if sched.has_work() || !keep_going() || sched.is_stopping() {
                if !sched.idle.cancel_park(&self.parker) {
                    self.parker.park();
                }
            } else {
                self.park();
            }
            searching = true;
        }
        if searching {
            sched.idle.end_search(|| sched.has_work());
        }
    }

    /// Yields the CPU while nothing is runnable, for up to
    /// `Builder::idle_wait`; returns whether work appeared. It does not
    /// spin as a rule: on a machine with as many threads as CPUs or more, a
    /// spinning idle worker holds a CPU that the thread about to make its
    /// work — a caller, the other worker — needs (`docs/scheduling.md`,
    /// "Idle workers").
    ///
    /// The exception is a worker that goes idle after a waiting caller
    /// handed a process to the other workers (a call with a timeout, whose
    /// caller may not run the callee itself): that caller is likely to
    /// make its next call within a microsecond of its reply, and a look
    /// per `sched_yield` would leave the callee queued for the length of a
    /// system call each time. Such a worker spins about 4.5 µs first. A
    /// call with a timeout went from 730-900 to 500-545 ns
    /// (`call_latency`'s `default_ns_per_call`; `docs/benchmarks.md`,
    /// "Spinning after a hand-off"); the benches without such calls never
    /// spin.
    fn wait_for_work(&self) -> bool {
        let sched = &self.shared.scheduler;
        let config = &self.shared.config;
        // A virtual clock moves when every worker sleeps (auto-advance) or
        // once they all do (`advance` settles the runtime first): such a
        // runtime's workers sleep after one look.
        let wait = match config.virtual_clock {
            true => std::time::Duration::ZERO,
            false => config.idle_wait,
        };
        let ready = || sched.has_work() || sched.is_stopping();
        let handoffs = sched.handoffs();
        let handed_off = self.seen_handoffs.replace(handoffs) != handoffs;
        if handed_off
            && !wait.is_zero()
            && self.own().is_some()
            && crate::backoff::spin_briefly(ready)
        {
            return true;
        }
        crate::backoff::yield_for(wait, ready)
    }

    fn park(&self) {
        let started = Instant::now();
        if let Some(ws) = self.own() {
            ws.stats.parks.fetch_add(1, Relaxed);
            let since = started.saturating_duration_since(self.shared.started);
            ws.stats
                .parked_since_ns
                .store((since.as_nanos() as u64).max(1), Relaxed);
            if ws.watchdog_flag.load(Relaxed) {
                super::watchdog::end_cover(ws);
            }
        }
        // Auto-advance may fire timers from this thread, and a process they
        // wake may sit in its own LIFO slot, where nobody else looks: queue
        // it where `has_work` sees it, and look again rather than sleep
        // with it (if a notifier took us out of the sleepers first, `park`
        // takes the permit on its way).
        let fired = self.shared.on_idle();
        if fired {
            if let Some(task) = self.lifo().take_between_slices() {
                self.push_back(task);
            }
        }
        let sched = &self.shared.scheduler;
        if !(fired && sched.has_work() && sched.idle.cancel_park(&self.parker)) {
            self.parker.park();
        }
        if let Some(ws) = self.own() {
            ws.stats
                .parked_ns
                .fetch_add(started.elapsed().as_nanos() as u64, Relaxed);
            ws.stats.parked_since_ns.store(0, Relaxed);
        }
    }
}

/// The body of worker thread `index`.
pub(crate) fn main(shared: Arc<Shared>, index: usize, local: Worker<Task>) {
    let cx = Rc::new(WorkerCx::new_worker(shared, index, local));
    let _reset = enter(cx.clone());
    // Entries still queued when the runtime stops own nothing (see `Task`):
    // the processes stay in the table, which the runtime reports.
    cx.run(|| true);
}
