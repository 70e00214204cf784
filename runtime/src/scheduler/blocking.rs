//! Blocking hand-off: spare threads that keep the pool running while a
//! worker's thread is blocked or stuck.
//!
//! A handler cannot be preempted, so a thread that blocks (in
//! [`blocking`], in a library wait such as a call, or stuck in a long
//! handler noticed by the watchdog) would stop everything queued behind it.
//! Instead, the blocked thread asks for a *cover*: a spare thread that runs
//! the scheduler loop — taking the stalled worker's LIFO slot, stealing its
//! deque, draining the injector — until the cover ends. The blocked thread
//! keeps its own queues and resumes as if nothing happened.
//!
//! Spares are pooled: an idle spare waits for its next cover and retires
//! after [`SPARE_KEEP_ALIVE`] without one. The pool is bounded
//! (`Builder::max_spare_threads`); past the bound a blocking call runs
//! uncovered and a warning is logged once.

use std::rc::Rc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst};
use std::sync::Arc;
use std::time::Duration;

use parking_lot::{Condvar, Mutex};

use super::park::Parker;
use super::worker::{self, WorkerCx};
use crate::report::{Report, ReportKind};
use crate::runtime::Shared;

/// How long an idle spare waits for work before its thread exits.
pub(crate) const SPARE_KEEP_ALIVE: Duration = Duration::from_secs(10);

/// One request for a spare to run the scheduler loop.
pub(crate) struct Cover {
    active: AtomicBool,
    /// The parker of the spare serving this cover, once one does.
    spare: Mutex<Option<Arc<Parker>>>,
}

/// Ends the cover when dropped.
pub(crate) struct CoverGuard {
    shared: Arc<Shared>,
    cover: Arc<Cover>,
    worker: Option<usize>,
    busy: bool,
}

impl std::fmt::Debug for CoverGuard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CoverGuard")
            .field("worker", &self.worker)
            .finish()
    }
}

struct IdleSpare {
    assignment: Mutex<Option<Arc<Cover>>>,
    cv: Condvar,
}

/// The pool of spare threads.
pub(crate) struct Spares {
    idle: Mutex<Vec<Arc<IdleSpare>>>,
    total: AtomicUsize,
    /// Covers for user `blocking` sections in force: the system is not idle
    /// while one runs, so the virtual clock must not auto-advance. (Library
    /// waits — a call waiting for its reply — do not count: the waiter is
    /// idle until a message or a timer wakes it.)
    busy: AtomicUsize,
    max: usize,
    warned: AtomicBool,
    stopping: AtomicBool,
    exited: (Mutex<()>, Condvar),
}

impl Spares {
    pub(crate) fn new(max: usize) -> Self {
        Spares {
            idle: Mutex::new(Vec::new()),
            total: AtomicUsize::new(0),
            busy: AtomicUsize::new(0),
            max,
            warned: AtomicBool::new(false),
            stopping: AtomicBool::new(false),
            exited: (Mutex::new(()), Condvar::new()),
        }
    }

    /// Threads currently in the pool (busy or idle).
    pub(crate) fn total(&self) -> usize {
        self.total.load(SeqCst)
    }

    /// User `blocking` sections in force now.
    pub(crate) fn busy_covers(&self) -> usize {
        self.busy.load(SeqCst)
    }

    pub(crate) fn stop(&self) {
        self.stopping.store(true, SeqCst);
        let idle = std::mem::take(&mut *self.idle.lock());
        for spare in idle {
            // Taken so that the notification cannot fall between the
            // spare's check of `stopping` and its wait (see `spare_main`).
            let _assignment = spare.assignment.lock();
            spare.cv.notify_one();
        }
    }

    /// Waits until every spare thread has exited, up to `timeout`.
    pub(crate) fn join(&self, timeout: Duration) -> bool {
        let deadline = std::time::Instant::now() + timeout;
        let mut guard = self.exited.0.lock();
        while self.total() > 0 {
            if self.exited.1.wait_until(&mut guard, deadline).timed_out() {
                return self.total() == 0;
            }
        }
        true
    }
}

/// Starts a cover for the calling thread (worker `worker`, or a spare).
pub(crate) fn cover(shared: &Arc<Shared>, worker: Option<usize>, busy: bool) -> Option<CoverGuard> {
    let spares = &shared.scheduler.spares;
    if spares.stopping.load(SeqCst) {
        return None;
    }
    let cover = Arc::new(Cover {
        active: AtomicBool::new(true),
        spare: Mutex::new(None),
    });
    if let Some(i) = worker {
        shared.scheduler.workers[i].stalled.store(true, SeqCst);
    }
    if busy {
        spares.busy.fetch_add(1, SeqCst);
    }
    let guard = CoverGuard {
        shared: shared.clone(),
        cover: cover.clone(),
        worker,
        busy,
    };
    let idle = spares.idle.lock().pop();
    if let Some(spare) = idle {
        *spare.assignment.lock() = Some(cover);
        spare.cv.notify_one();
        return Some(guard);
    }
    if spares.total.fetch_add(1, SeqCst) >= spares.max {
        spares.total.fetch_sub(1, SeqCst);
        if !spares.warned.swap(true, SeqCst) {
            Report::warn(
                ReportKind::Runtime,
                format_args!(
                    "all {} spare threads are busy: a blocking call now holds its worker",
                    spares.max
                ),
            )
            .emit();
        }
        return Some(guard);
    }
    let thread_shared = shared.clone();
    let spawned = std::thread::Builder::new()
        .name(format!("{}-spare", shared.config.thread_name))
        .stack_size(shared.config.stack_size)
        .spawn(move || spare_main(thread_shared, cover));
    if let Err(e) = spawned {
        spares.total.fetch_sub(1, SeqCst);
        Report::warn(
            ReportKind::Runtime,
            format_args!("could not start a spare thread: {e}"),
        )
        .emit();
    }
    Some(guard)
}

impl Drop for CoverGuard {
    fn drop(&mut self) {
        if let Some(i) = self.worker {
            self.shared.scheduler.workers[i]
                .stalled
                .store(false, SeqCst);
        }
        self.cover.active.store(false, SeqCst);
        if self.busy {
            self.shared.scheduler.spares.busy.fetch_sub(1, SeqCst);
        }
        let spare = self.cover.spare.lock().clone();
        if let Some(parker) = spare {
            // Wake it if it sleeps, so it notices the end of the cover.
            if self.shared.scheduler.idle.cancel_park(&parker) {
                parker.unpark();
            }
        }
    }
}

fn spare_main(shared: Arc<Shared>, first: Arc<Cover>) {
    let cx = Rc::new(WorkerCx::new_spare(shared.clone()));
    let _reset = worker::enter(cx.clone());
    let spares = &shared.scheduler.spares;
    let me = Arc::new(IdleSpare {
        assignment: Mutex::new(None),
        cv: Condvar::new(),
    });
    let mut cover = first;
    loop {
        *cover.spare.lock() = Some(cx.parker.clone());
        let serving = cover.clone();
        cx.run(move || serving.active.load(SeqCst));
        cx.flush_to_injector();
        *cover.spare.lock() = None;
        // Wait for the next cover, or retire. Holding our assignment lock
        // from before we are listed until the wait releases it means
        // `Spares::stop` (which takes it to notify us) cannot slip its
        // wake-up in between.
        let mut assignment = me.assignment.lock();
        spares.idle.lock().push(me.clone());
        if spares.stopping.load(SeqCst) {
            spares.idle.lock().retain(|s| !Arc::ptr_eq(s, &me));
            break;
        }
        if assignment.is_none() {
            me.cv.wait_for(&mut assignment, SPARE_KEEP_ALIVE);
        }
        match assignment.take() {
            Some(next) => cover = next,
            None => {
                drop(assignment);
                let mut idle = spares.idle.lock();
                // A cover may have been handed to us just after the timeout.
                if let Some(next) = me.assignment.lock().take() {
                    drop(idle);
                    cover = next;
                    continue;
                }
                idle.retain(|s| !Arc::ptr_eq(s, &me));
                break;
            }
        }
    }
    let _lock = spares.exited.0.lock();
    spares.total.fetch_sub(1, SeqCst);
    spares.exited.1.notify_all();
}

/// Runs `f`, which may block, without holding up other processes.
///
/// Called on a thread that runs processes, it hands that thread's queued
/// work to a spare thread for the duration of `f` (see the module docs);
/// anywhere else it simply calls `f`. Use it around any blocking operation
/// inside a handler: file or network I/O, waiting on a lock or a channel,
/// `std::thread::sleep`.
///
/// ```
/// use rotp_runtime::{blocking, Runtime};
/// let rt = Runtime::builder().workers(1).build().unwrap();
/// let (tx, rx) = std::sync::mpsc::channel();
/// rt.spawn_fn(move |_: (), _ctx| {
///     let contents = blocking(|| std::fs::read_to_string("Cargo.toml"));
///     tx.send(contents.is_ok()).unwrap();
/// })
/// .send(());
/// assert!(rx.recv().unwrap());
/// ```
pub fn blocking<R>(f: impl FnOnce() -> R) -> R {
    covered(true, f)
}

/// Like [`blocking`], for the library's own waits on replies and exits: the
/// waiting process counts as idle for the virtual clock's auto-advance.
pub(crate) fn cover_wait<R>(shared: &Arc<Shared>, f: impl FnOnce() -> R) -> R {
    let on_this_runtime =
        worker::with_current(|cx| cx.is_some_and(|cx| Arc::ptr_eq(&cx.shared, shared)));
    if on_this_runtime {
        covered(false, f)
    } else {
        f()
    }
}

fn covered<R>(busy: bool, f: impl FnOnce() -> R) -> R {
    /// Restores the thread's `blocked` flag, even if `f` panics.
    struct Unblock(bool);
    impl Drop for Unblock {
        fn drop(&mut self) {
            worker::with_current(|cx| {
                if let Some(cx) = cx {
                    cx.blocked.set(self.0);
                }
            });
        }
    }
    worker::flush_lifo();
    let (guard, unblock) = worker::with_current(|cx| match cx {
        Some(cx) => (
            Some(cover(&cx.shared, cx.index, busy)),
            Some(Unblock(cx.blocked.replace(true))),
        ),
        None => (None, None),
    });
    let result = f();
    drop(unblock);
    drop(guard);
    result
}
