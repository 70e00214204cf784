//! The work-stealing scheduler.
//!
//! N workers, each owning a FIFO deque and a LIFO slot; one shared injector
//! for work made runnable outside the workers; every deque stealable by the
//! others. `README.md` beside this file describes the queues, the order in
//! which a worker looks for work, and the idle protocol with its invariants.
//! Blocking hand-off and the watchdog live in `blocking.rs` and
//! `watchdog.rs`.

pub(crate) mod balance;
pub(crate) mod blocking;
mod idle;
pub(crate) mod lifo;
mod park;
pub(crate) mod watchdog;
pub(crate) mod worker;

use std::sync::atomic::{
    AtomicBool, AtomicU32, AtomicU64, AtomicUsize, Ordering::Relaxed, Ordering::SeqCst,
};
use std::sync::Arc;

use crossbeam_deque::{Injector, Steal, Stealer};
use parking_lot::Mutex;

pub(crate) use idle::Idle;
pub(crate) use park::Parker;

use crate::process::pcb::Task;

/// The shared half of the scheduler.
pub(crate) struct Scheduler {
    pub(crate) injector: Injector<Task>,
    pub(crate) workers: Box<[WorkerShared]>,
    pub(crate) idle: Idle,
    pub(crate) spares: blocking::Spares,
    /// Slices running on plain threads that called the process (see
    /// [`run_on_caller`]); counted only under an auto-advancing clock,
    /// which must not move while one runs.
    pub(crate) caller_slices: AtomicUsize,
    stopping: AtomicBool,
    /// Bumped by a process that queued the process it calls for another
    /// worker to run while it waits (a call with a timeout, which may not
    /// run the callee itself): a hint to idle workers that more such work
    /// is coming within microseconds (see `WorkerCx::wait_for_work`). Its
    /// value means nothing; only its changing does. On a line of its own:
    /// callers on every worker write it.
    handoffs: Padded<AtomicU32>,
}

/// Keeps a value on cache lines of its own (two lines: adjacent-line
/// prefetch pairs them).
#[repr(align(128))]
pub(crate) struct Padded<T>(pub(crate) T);

impl<T> std::ops::Deref for Padded<T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.0
    }
}

/// What other threads may see and take of one worker.
///
/// The stealer, which idle workers read while they spin, sits apart from
/// the counters this worker writes on every slice: sharing a cache line,
/// every write would cost the worker a coherence miss (measured: a 2-worker
/// ping-pong ran at 630 ns per round trip against 400 with one worker).
#[repr(align(128))]
pub(crate) struct WorkerShared {
    pub(crate) stealer: Padded<Stealer<Task>>,
    /// Processes the balancer moved here from a busier worker's deque
    /// (`balance.rs`): looked at by this worker with the injector (every
    /// 16th tick, and after a slice that spent its budget), and by every
    /// thread searching for work.
    pub(crate) inbox: Injector<Task>,
    /// The worker's thread is blocked in `blocking` or stuck in a long
    /// handler (informational; a spare covers for it).
    pub(crate) stalled: AtomicBool,
    /// Incremented at the start and the end of every slice: odd while a
    /// slice runs. The watchdog compares two samples.
    pub(crate) slices: AtomicU64,
    /// Incremented after every handler (single writer: the worker).
    pub(crate) ticks: AtomicU64,
    /// The pid (as bits) of the process in the current slice.
    pub(crate) running: AtomicU64,
    /// The process this worker woke last, run next for locality; written by
    /// the worker on every hop, taken by the watchdog when the worker is
    /// stuck (see `lifo.rs`).
    pub(crate) lifo: lifo::LifoSlot<Task>,
    /// The watchdog's compensation for a stuck slice, if any.
    pub(crate) watchdog_cover: Mutex<Option<blocking::CoverGuard>>,
    pub(crate) watchdog_flag: AtomicBool,
    /// The watchdog's first sighting of the current slice: (counter, when).
    pub(crate) seen: Mutex<(u64, std::time::Instant)>,
    pub(crate) stats: WorkerStats,
}

impl WorkerShared {
    /// Takes from this worker's inbox, which is almost always empty: a
    /// look at its two indices first, before the steal's fence.
    #[inline]
    pub(crate) fn take_inbox(&self, local: Option<&crossbeam_deque::Worker<Task>>) -> Steal<Task> {
        if self.inbox.is_empty() {
            return Steal::Empty;
        }
        steal_from(&self.inbox, local)
    }

    /// Time this worker spent not parked in the first `uptime` of the
    /// runtime (`uptime` read by the caller from the runtime's start).
    pub(crate) fn busy(&self, uptime: std::time::Duration) -> std::time::Duration {
        let uptime_ns = uptime.as_nanos() as u64;
        // Read the open park first: a worker waking meanwhile adds it to
        // `parked_ns` before clearing it, so this can only overcount the
        // park (a busy time briefly low), never count it twice as busy.
        let since = self.stats.parked_since_ns.load(Relaxed);
        let open = if since == 0 {
            0
        } else {
            uptime_ns.saturating_sub(since)
        };
        let parked = self.stats.parked_ns.load(Relaxed) + open;
        std::time::Duration::from_nanos(uptime_ns.saturating_sub(parked))
    }

    /// How long the slice numbered `slices` has been running, if the
    /// watchdog has seen it.
    pub(crate) fn running_since(&self, slices: u64) -> Option<std::time::Duration> {
        let seen = self.seen.lock();
        (seen.0 == slices).then(|| seen.1.elapsed())
    }
}

/// Counters of one worker (relaxed; read by `Runtime::stats`).
#[derive(Debug, Default)]
pub(crate) struct WorkerStats {
    pub(crate) steals: AtomicU64,
    /// Processes the balancer moved to this worker.
    pub(crate) balanced: AtomicU64,
    pub(crate) parks: AtomicU64,
    pub(crate) parked_ns: AtomicU64,
    /// When the current park began (nanoseconds since the runtime's
    /// start, at least 1); 0 while not parked.
    pub(crate) parked_since_ns: AtomicU64,
}

impl Scheduler {
    pub(crate) fn new(stealers: Vec<Stealer<Task>>, max_spares: usize) -> Self {
        Scheduler {
            injector: Injector::new(),
            workers: stealers
                .into_iter()
                .map(|stealer| WorkerShared {
                    stealer: Padded(stealer),
                    inbox: Injector::new(),
                    stalled: AtomicBool::new(false),
                    slices: AtomicU64::new(0),
                    ticks: AtomicU64::new(0),
                    running: AtomicU64::new(0),
                    lifo: lifo::LifoSlot::new(),
                    watchdog_cover: Mutex::new(None),
                    watchdog_flag: AtomicBool::new(false),
                    seen: Mutex::new((0, std::time::Instant::now())),
                    stats: WorkerStats::default(),
                })
                .collect(),
            idle: Idle::new(),
            spares: blocking::Spares::new(max_spares),
            caller_slices: AtomicUsize::new(0),
            stopping: AtomicBool::new(false),
            handoffs: Padded(AtomicU32::new(0)),
        }
    }

    /// Notes that a waiting caller handed a process to the other workers
    /// (see `handoffs`). A plain load and store: two callers bumping it at
    /// once may count one, which changes it all the same.
    pub(crate) fn note_handoff(&self) {
        self.handoffs
            .store(self.handoffs.load(Relaxed).wrapping_add(1), Relaxed);
    }

    /// The hand-off count, to compare with an earlier look.
    pub(crate) fn handoffs(&self) -> u32 {
        self.handoffs.load(Relaxed)
    }

    /// Queues `task` from outside the workers.
    pub(crate) fn inject(&self, task: Task) {
        self.injector.push(task);
        self.idle.notify_one();
    }

    pub(crate) fn is_stopping(&self) -> bool {
        self.stopping.load(Relaxed)
    }

    pub(crate) fn stop(&self) {
        self.stopping
            .store(true, std::sync::atomic::Ordering::SeqCst);
        self.idle.notify_all();
        self.spares.stop();
    }

    /// Whether any queue a searcher could take from holds work.
    pub(crate) fn has_work(&self) -> bool {
        !self.injector.is_empty()
            || self
                .workers
                .iter()
                .any(|w| !w.stealer.is_empty() || !w.inbox.is_empty())
    }

    /// Looks for work outside the caller's own queues: the injector, every
    /// worker's inbox and the other workers' deques, starting at a random
    /// victim. Steals a batch into `local` when given one.
    pub(crate) fn steal(
        &self,
        own: Option<usize>,
        local: Option<&crossbeam_deque::Worker<Task>>,
        start: usize,
    ) -> Option<Task> {
        let n = self.workers.len();
        loop {
            let mut retry = false;
            match self.steal_injector(local) {
                Steal::Success(task) => return Some(task),
                Steal::Retry => retry = true,
                Steal::Empty => {}
            }
            for k in 0..n {
                match self.workers[(start + k) % n].take_inbox(local) {
                    Steal::Success(task) => return Some(task),
                    Steal::Retry => retry = true,
                    Steal::Empty => {}
                }
            }
            for k in 0..n {
                let i = (start + k) % n;
                if Some(i) == own {
                    continue;
                }
                let victim = &self.workers[i];
                let stolen = match local {
                    Some(local) => victim.stealer.steal_batch_and_pop(local),
                    None => victim.stealer.steal(),
                };
                match stolen {
                    Steal::Success(task) => {
                        if let Some(own) = own {
                            self.workers[own].stats.steals.fetch_add(1, Relaxed);
                        }
                        return Some(task);
                    }
                    Steal::Retry => retry = true,
                    Steal::Empty => {}
                }
            }
            if !retry {
                return None;
            }
        }
    }

    pub(crate) fn steal_injector(
        &self,
        local: Option<&crossbeam_deque::Worker<Task>>,
    ) -> Steal<Task> {
        steal_from(&self.injector, local)
    }
}

/// Takes from a shared queue (the injector or an inbox): a batch into
/// `local` when given one.
fn steal_from(
    queue: &Injector<Task>,
    local: Option<&crossbeam_deque::Worker<Task>>,
) -> Steal<Task> {
    match local {
        Some(local) => queue.steal_batch_and_pop(local),
        None => queue.steal(),
    }
}

/// Makes `task` runnable: into this worker's LIFO slot when called on a
/// worker of the task's runtime, else into the injector.
///
/// Inlined into every send: on a worker, waking a process is a check of
/// the thread's context and a store into the slot, and a call frame (its
/// register saves and restores) cost more than that. With the worker
/// loop's two helpers inlined as well (`worker.rs`), ring 1.14×, pingpong
/// 1.15× (`docs/benchmarks.md`, "Call frames on the hop").
#[inline(always)]
pub(crate) fn schedule(task: Task) {
    if let Some(task) = worker::push_local(task, true) {
        inject(task);
    }
}

/// [`schedule`] or [`yield_now`] from a thread that is not one of the
/// task's runtime's workers: the injector. Out of line, to keep the
/// senders' inlined copies of `schedule` short.
#[inline(never)]
fn inject(task: Task) {
    let shared = task.header().shared.clone();
    shared.scheduler.inject(task);
}

/// Runs one slice of `task` on the calling thread, a plain thread about to
/// wait for the process's answer (see `reply.rs`): the slice starts at once
/// and the answer needs no hand-off back, where a worker would first have
/// to notice the task and the caller then the reply. Hands the task back
/// on a worker or spare thread, whose own queues decide what runs next,
/// and once the runtime is stopping. (Inside a process the wait runs the
/// callee itself, after its call-cycle check.)
///
/// The process runs handler by handler until `done()` (see
/// `Task::run_for_caller`); what it still has queued then goes to the
/// workers. `after` runs right after the last slice, before a virtual
/// clock may move on: what it reads of the clock is the time the slice
/// ended.
pub(crate) fn run_on_caller<R>(
    task: Task,
    done: impl FnMut() -> bool,
    after: impl FnOnce() -> R,
) -> Result<R, Task> {
    if worker::on_runtime_thread() {
        return Err(task);
    }
    let shared = &task.header().shared;
    if shared.scheduler.is_stopping() {
        return Err(task);
    }
    // What the process still has queued goes to the workers.
    let run = |task: Task| {
        if let Some(left) = task.run_for_caller(None, done) {
            yield_now(left);
        }
    };
    if !shared.timers.clock.auto_advances() {
        run(task);
        return Ok(after());
    }
    // Under auto-advance the clock moves when every worker sleeps; a slice
    // running here keeps the runtime busy all the same. The slice may end
    // the process, so hold on to the runtime.
    let shared = Arc::clone(shared);
    shared.scheduler.caller_slices.fetch_add(1, SeqCst);
    run(task);
    let result = after();
    shared.scheduler.caller_slices.fetch_sub(1, SeqCst);
    // As a worker going idle would: the slice may have armed the timer
    // that is now the next thing to happen.
    shared.on_idle();
    Ok(result)
}

/// `schedule` for a process a signal or message was just pushed to.
pub(crate) fn wake(task: Task) {
    schedule(task)
}

/// Re-queues a process whose slice spent its whole budget, behind the
/// waiting ones; the worker's next look for work starts outside its own
/// queues.
pub(crate) fn yield_spent(task: Task) {
    worker::look_outside_next();
    yield_now(task)
}

/// Re-queues a process that used up its slice, behind the waiting ones.
pub(crate) fn yield_now(task: Task) {
    if let Some(task) = worker::push_local(task, false) {
        inject(task);
    }
}
