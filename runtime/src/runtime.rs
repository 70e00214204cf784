//! The runtime: its shared state, the owning [`Runtime`] and the cloneable
//! [`Handle`].

use std::fmt;
use std::sync::atomic::{
    fence, AtomicBool, AtomicU64, AtomicUsize, Ordering::Relaxed, Ordering::SeqCst,
};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crossbeam_deque::Worker;
use parking_lot::{Condvar, Mutex};

use crate::addr::Addr;
use crate::builder::{Builder, Config};
use crate::error::{
    AddrError, BuildError, NamedSendError, NoProc, RegisterError, ShutdownError, SpawnError,
};
use crate::exit::ExitReason;
use crate::exit_hook::ExitHookRef;
use crate::info::{ProcessInfo, RuntimeStats, Status, WorkerStats};
use crate::link::{self, Relation, Via};
use crate::mailbox::Overflow;
use crate::monitor::MonitorRef;
use crate::pid::Pid;
use crate::process::pcb::{Header, Pcb, ProcessArc, Spawn, Task};
use crate::process::{Context, FnProcess, Process};
use crate::process_ref::ProcessRef;
use crate::registry::{Name, Registry};
use crate::report::{Report, ReportKind};
use crate::scheduler::watchdog::period as watchdog_period;
use crate::scheduler::{self, Parker, Scheduler};
use crate::system::{
    PendingSystem, SystemCall, SystemError, SystemReply, SystemRequest, SystemStatus,
};
use crate::table::Table;
use crate::timer::clock::Clock;
use crate::timer::Timers;

/// What a spawn made: the new process and the monitor asked for, if any.
pub(crate) type Spawned<M> = (Addr<M>, Option<MonitorRef>);

/// Runtime-wide counters.
#[derive(Debug, Default)]
pub(crate) struct Counters {
    pub(crate) spawned: AtomicU64,
    pub(crate) exited: AtomicU64,
    pub(crate) long_schedules: AtomicU64,
}

/// Everything the threads and processes of one runtime share.
pub(crate) struct Shared {
    pub(crate) config: Config,
    pub(crate) table: Table,
    pub(crate) registry: Registry,
    pub(crate) scheduler: Scheduler,
    pub(crate) timers: Timers,
    pub(crate) stats: Counters,
    pub(crate) next_ref: AtomicU64,
    pub(crate) watchdog_parker: Parker,
    /// Per-runtime values of libraries (`Handle::extension`).
    extensions: crate::extensions::Extensions,
    /// When the runtime started (real time): the origin of the workers'
    /// busy-time accounting.
    pub(crate) started: Instant,
    /// Processes spawned from outside any process, in spawn order: the roots
    /// that shutdown stops first, last one first.
    roots: Mutex<Vec<Pid>>,
    /// Threads waiting for processes to exit (shutdown).
    exit_waiters: AtomicUsize,
    /// Set when shutdown starts its kill phase: from then on a spawn
    /// creates a process that is dead on arrival (see `spawn_with`).
    closing: AtomicBool,
    exit_signal: (Mutex<()>, Condvar),
}

impl Shared {
    /// Whether spawns are refused: shutdown is in its kill phase or done.
    pub(crate) fn is_closing(&self) -> bool {
        self.closing.load(Relaxed)
    }

    pub(crate) fn new_ref(&self) -> MonitorRef {
        MonitorRef(self.next_ref.fetch_add(1, Relaxed))
    }

    /// Called by every exiting process; wakes shutdown if it waits.
    pub(crate) fn notify_exit_watchers(&self) {
        if self.exit_waiters.load(SeqCst) > 0 {
            let _lock = self.exit_signal.0.lock();
            self.exit_signal.1.notify_all();
        }
    }

    /// Waits until `done()` holds or `deadline` passes.
    fn wait_exits(&self, deadline: Instant, done: impl Fn() -> bool) -> bool {
        self.exit_waiters.fetch_add(1, SeqCst);
        let mut lock = self.exit_signal.0.lock();
        let ok = loop {
            if done() {
                break true;
            }
            // Exits are signalled, but bound each wait so that a condition
            // changed by other means is seen too.
            let step = (Instant::now() + Duration::from_millis(10)).min(deadline);
            if self.exit_signal.1.wait_until(&mut lock, step).timed_out()
                && Instant::now() >= deadline
            {
                break done();
            }
        };
        drop(lock);
        self.exit_waiters.fetch_sub(1, SeqCst);
        ok
    }

    /// Waits (briefly: the process is past its last handler) until its exit
    /// is complete — name released, slot freed, links and monitors told —
    /// the same "gone" as [`Handle::await_exit`].
    pub(crate) fn wait_until_gone(&self, process: &Header) {
        let gone = || process.state.is_dead();
        if !crate::backoff::spin_until(gone) {
            self.wait_exits(Instant::now() + Duration::from_secs(5), gone);
        }
    }

    /// Waits, until `limit` at the latest, for the runtime to settle:
    /// nothing queued, every worker (or the spare covering a blocked one)
    /// asleep, no slice running on a plain caller's thread. Returns at once
    /// on a runtime thread, which would wait for itself, and once the
    /// runtime is stopping.
    pub(crate) fn settle(&self, limit: Instant) {
        if scheduler::worker::on_runtime_thread() {
            return;
        }
        let settled = || {
            self.scheduler.is_stopping()
                || (self.scheduler.caller_slices.load(SeqCst) == 0
                    && self.scheduler.idle.sleeping() >= self.scheduler.workers.len()
                    && !self.scheduler.has_work())
        };
        if crate::backoff::spin_until(settled) {
            return;
        }
        while !settled() && Instant::now() < limit {
            std::thread::sleep(Duration::from_micros(50));
        }
    }

    /// Called by a worker about to park: with an auto-advancing virtual
    /// clock, the last worker to go idle moves time to the next timer.
    /// Returns whether timers fired: what they woke may be queued on the
    /// calling thread itself, which must then look before it sleeps.
    pub(crate) fn on_idle(&self) -> bool {
        if !self.timers.clock.auto_advances() {
            return false;
        }
        // Each cover pairs a blocked thread with a spare that joins the idle
        // protocol, so "everyone asleep" is still `workers` sleepers.
        self.scheduler.spares.busy_covers() == 0
            && self.scheduler.caller_slices.load(SeqCst) == 0
            && self.scheduler.idle.sleeping() >= self.scheduler.workers.len()
            && !self.scheduler.has_work()
            && self.timers.advance_to_next()
    }

    /// Spawns a process. `parent` is the spawning process, if any: the link
    /// or monitor that `opts` asks for is recorded on its side before the
    /// child can run (rule 22). Without a parent the child is a root.
    ///
    /// Once the runtime is closing the child never runs: it exits at once,
    /// here, with [`ExitReason::runtime_stopped`], telling the link or
    /// monitor just made, and the `Addr` returned is that of a dead
    /// process. `Err` then, for `try_spawn`.
    pub(crate) fn spawn_with<P: Process>(
        self: &Arc<Self>,
        process: P,
        opts: &SpawnOptions,
        parent: Option<&Header>,
    ) -> Result<Spawned<P::Message>, Spawned<P::Message>> {
        let parent_pid = parent.map_or(Pid::ROOT, |h| h.pid);
        let link = opts.link && parent.is_some();
        let monitor = (opts.monitor && parent.is_some()).then(|| self.new_ref());
        let pcb = Pcb::create(
            self,
            process,
            Spawn {
                parent: parent_pid,
                link,
                monitor,
                trap_exit: opts.trap_exit,
                budget: opts.reductions.unwrap_or(self.config.reductions),
                callers_run: opts.callers_run,
                mailbox_limit: opts.mailbox_limit,
                high_water: opts.high_water,
                overflow: opts.overflow,
            },
        );
        let child = pcb.header_ref().pid;
        // Either shutdown's kill phase, which sets `closing` and then
        // takes its snapshot of the table, sees this process (inserted
        // above) and kills it, or we see `closing` here (both sides fence).
        fence(SeqCst);
        let closing = self.closing.load(Relaxed);
        match parent {
            Some(parent) => {
                let mut rel = parent.relations.lock();
                if link {
                    rel.push(Relation::Link(child));
                }
                if let Some(mref) = monitor {
                    rel.push(Relation::Monitoring(mref, child));
                }
            }
            None if closing => {}
            None => {
                let mut roots = self.roots.lock();
                if roots.len() >= 64 && roots.len().is_power_of_two() {
                    roots.retain(|p| self.table.get(*p).is_some());
                }
                roots.push(child);
            }
        }
        if closing {
            self.dead_on_arrival(&*pcb);
            return Err((Addr::from_inner(pcb), monitor));
        }
        if crate::telemetry::enabled(crate::telemetry::family::PROCESS) {
            crate::telemetry::emit::process_spawn(child, parent_pid, P::kind());
        }
        scheduler::schedule(Task::new(&*pcb));
        Ok((Addr::from_inner(pcb), monitor))
    }

    /// Ends a process that was just created and will never run: the
    /// creator holds its run right (it is scheduled, not queued), so the
    /// exit runs here, as a kill's would on a worker.
    #[cold]
    fn dead_on_arrival(&self, process: &(dyn crate::process::pcb::AnyProcess + 'static)) {
        let header = process.header();
        header
            .relations
            .lock()
            .set_exit_reason(ExitReason::runtime_stopped());
        let _ = header.mark_exiting();
        Task::new(process).run(None, crate::scheduler::lifo::SliceMark(None));
    }

    /// The header of the process running on this thread, if it belongs to
    /// this runtime.
    pub(crate) fn current_process(&self) -> Option<ProcessArc> {
        self.table.get(crate::current::self_pid()?)
    }
}

/// The longest [`Handle::advance`] waits, in real time, for the processes
/// to handle what its steps delivered, over all of its steps.
pub const ADVANCE_SETTLE_LIMIT: Duration = Duration::from_secs(1);

/// How to spawn a process; see [`Handle::spawn_opts`].
///
/// Links and monitors are made with the *calling* process. Called from
/// outside any process there is nobody to link with, so `link` and
/// `monitor` are ignored and the new process is a root (its parent is
/// [`Pid::ROOT`]).
#[derive(Debug, Clone, Default)]
pub struct SpawnOptions {
    link: bool,
    monitor: bool,
    trap_exit: bool,
    reductions: Option<u32>,
    callers_run: bool,
    mailbox_limit: u32,
    high_water: u32,
    overflow: Overflow,
}

impl SpawnOptions {
    /// The defaults: no link, no monitor, not trapping exits.
    pub fn new() -> Self {
        SpawnOptions::default()
    }

    /// Link the new process with the caller (`spawn_link`).
    pub fn link(mut self, on: bool) -> Self {
        self.link = on;
        self
    }

    /// Monitor the new process from the caller (`spawn_monitor`).
    pub fn monitor(mut self, on: bool) -> Self {
        self.monitor = on;
        self
    }

    /// Start trapping exits before the first instruction.
    pub fn trap_exit(mut self, on: bool) -> Self {
        self.trap_exit = on;
        self
    }

    /// Reductions per slice for this process.
    pub fn reductions(mut self, n: u32) -> Self {
        self.reductions = Some(n.max(1));
        self
    }

    /// Lets a caller whose call wakes this process run the handler that
    /// answers it on the caller's own thread, whatever the caller's timeout
    /// — the fastest call, with no hand-off to a worker and back.
    ///
    /// By default only a caller that waits without a timeout does that
    /// (see [`ReplyWait::call`](crate::ReplyWait::call)): while a handler
    /// runs on the caller's stack nothing can end the caller's wait. With
    /// this option a caller's timeout bounds its wait for a *busy* process
    /// only; a handler it runs itself holds it for as long as the handler
    /// takes (a reply made after the deadline is still refused as late).
    /// Meant for processes whose handlers are short and never block.
    pub fn callers_run(mut self, on: bool) -> Self {
        self.callers_run = on;
        self
    }

    /// Bounds the mailbox at `limit` entries and chooses what happens to a
    /// user message that arrives when it is full. The limit counts the
    /// whole mailbox, as [`ProcessInfo::mailbox_len`](crate::ProcessInfo)
    /// does; exit signals and monitor notifications are never refused, but
    /// they take room while they wait. A bounded mailbox has a high-water
    /// mark at 80% of the limit unless [`mailbox_high_water`] sets another
    /// (see there). The default is OTP's unbounded mailbox; `limit` 0 means
    /// unbounded.
    ///
    /// [`mailbox_high_water`]: Self::mailbox_high_water
    pub fn mailbox_limit(mut self, limit: u32, overflow: Overflow) -> Self {
        self.mailbox_limit = limit;
        self.overflow = overflow;
        self
    }

    /// Sets a high-water mark of `n` entries, with or without a limit.
    /// When the mailbox reaches `n` a warning report
    /// ([`ReportKind::MailboxHighWater`](crate::ReportKind)) names the
    /// process (pid and registered name) and the mailbox's length, once;
    /// when it falls below `n / 2` again an all-clear
    /// ([`ReportKind::MailboxBelowHighWater`](crate::ReportKind)) follows,
    /// noticed at the next send or when the process has handled what it
    /// took from its mailbox. Nothing is refused: the mark only makes
    /// overload visible. 0 removes the mark (a bounded mailbox then keeps
    /// its default, 80% of the limit); marks above 536,870,911 are lowered
    /// to it.
    ///
    /// ```
    /// use rotp_runtime::{Runtime, SpawnOptions};
    /// let rt = Runtime::new().unwrap();
    /// let opts = SpawnOptions::new().mailbox_high_water(10_000);
    /// let (p, _) = rt.spawn_opts(rotp_runtime::FnProcess::new(|_: u64, _| {}), &opts);
    /// p.send(1);
    /// ```
    pub fn mailbox_high_water(mut self, n: u32) -> Self {
        self.high_water = n;
        self
    }

    /// The mailbox limit and its policy, if one is set: for a behaviour
    /// that keeps messages aside itself (a suspended gen_server) and must
    /// bound them the same way.
    ///
    /// ```
    /// use rotp_runtime::{Overflow, SpawnOptions};
    /// assert_eq!(SpawnOptions::new().get_mailbox_limit(), None);
    /// let opts = SpawnOptions::new().mailbox_limit(8, Overflow::Drop);
    /// assert_eq!(opts.get_mailbox_limit(), Some((8, Overflow::Drop)));
    /// ```
    pub fn get_mailbox_limit(&self) -> Option<(u32, Overflow)> {
        (self.mailbox_limit > 0).then_some((self.mailbox_limit, self.overflow))
    }
}

/// A cloneable handle on a runtime, usable from any thread.
///
/// Inside a process, [`Handle::current`] finds the runtime the process runs
/// on; from plain threads, keep the handle the [`Runtime`] gave you.
#[derive(Clone)]
pub struct Handle {
    shared: Arc<Shared>,
}

impl fmt::Debug for Handle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Handle")
            .field("workers", &self.shared.config.workers)
            .field("processes", &self.shared.table.len())
            .finish()
    }
}

impl Handle {
    pub(crate) fn from_shared(shared: Arc<Shared>) -> Self {
        Handle { shared }
    }

    pub(crate) fn shared(&self) -> &Arc<Shared> {
        &self.shared
    }

    /// The runtime of the process (or runtime thread) calling this.
    ///
    /// # Panics
    ///
    /// Outside any runtime thread; see [`Handle::try_current`].
    pub fn current() -> Handle {
        Handle::try_current().expect("Handle::current called outside a rotp runtime thread")
    }

    /// The runtime of the calling thread, if it is one of a runtime's threads.
    pub fn try_current() -> Option<Handle> {
        scheduler::worker::with_current(|cx| cx.map(|cx| Handle::from_shared(cx.shared.clone())))
    }

    /// Number of worker threads.
    pub fn workers(&self) -> usize {
        self.shared.config.workers
    }

    /// How long an idle worker stays awake looking for work
    /// ([`Builder::idle_wait`](crate::Builder::idle_wait)); a thread of
    /// the embedding program waiting on something slow can use it to
    /// match the runtime's trade of CPU for wake-ups.
    pub fn idle_wait(&self) -> std::time::Duration {
        self.shared.config.idle_wait
    }

    /// Spawns a process (not linked to anyone). Called inside a process, the
    /// new process's parent is the caller; otherwise [`Pid::ROOT`]. Once
    /// the runtime is stopping the process never runs and is gone on return
    /// (see [`spawn_opts`](Handle::spawn_opts), [`try_spawn`](Handle::try_spawn)).
    pub fn spawn<P: Process>(&self, process: P) -> Addr<P::Message> {
        self.spawn_opts(process, &SpawnOptions::new()).0
    }

    /// Spawns a process that traps exits from its first instruction.
    pub fn spawn_trapping<P: Process>(&self, process: P) -> Addr<P::Message> {
        self.spawn_opts(process, &SpawnOptions::new().trap_exit(true))
            .0
    }

    /// Spawns with options; links and monitors are made with the calling
    /// process (see [`SpawnOptions`]). Returns the monitor reference when a
    /// monitor was made.
    ///
    /// Once the runtime is stopping (see [`try_spawn_opts`]) the process
    /// never runs: it is gone when this returns, with exit reason
    /// [`ExitReason::runtime_stopped`], and every wait on it says so at
    /// once (`await_exit`, a monitor's `Down`, a link's exit signal, a
    /// reply wait's [`WaitError::Exited`](crate::WaitError::Exited)).
    ///
    /// [`try_spawn_opts`]: Handle::try_spawn_opts
    pub fn spawn_opts<P: Process>(
        &self,
        process: P,
        opts: &SpawnOptions,
    ) -> (Addr<P::Message>, Option<MonitorRef>) {
        let parent = self.shared.current_process();
        match self
            .shared
            .spawn_with(process, opts, parent.as_ref().map(|t| t.header()))
        {
            Ok(spawned) | Err(spawned) => spawned,
        }
    }

    /// Spawns a process, or fails with [`SpawnError::RuntimeStopped`] once
    /// the runtime is stopping: from the kill phase of
    /// [`Runtime::shutdown`] on, and after it. (While the roots stop, in the
    /// first phase, spawning still works: a `terminate` may start a task.)
    ///
    /// ```
    /// use rotp_runtime::{Runtime, SpawnError};
    /// let rt = Runtime::new().unwrap();
    /// assert!(rt.try_spawn(rotp_runtime::FnProcess::new(|_: (), _ctx| {})).is_ok());
    /// rt.shutdown(std::time::Duration::from_secs(1)).unwrap();
    /// let refused = rt.try_spawn(rotp_runtime::FnProcess::new(|_: (), _ctx| {}));
    /// assert_eq!(refused.unwrap_err(), SpawnError::RuntimeStopped);
    /// ```
    pub fn try_spawn<P: Process>(&self, process: P) -> Result<Addr<P::Message>, SpawnError> {
        self.try_spawn_opts(process, &SpawnOptions::new())
            .map(|(addr, _)| addr)
    }

    /// [`spawn_opts`](Handle::spawn_opts), or
    /// [`SpawnError::RuntimeStopped`] once the runtime is stopping (see
    /// [`try_spawn`](Handle::try_spawn)). A process created in the race
    /// with the start of the kill phase is ended before this returns the
    /// error; a link or monitor asked for tells the caller as usual.
    pub fn try_spawn_opts<P: Process>(
        &self,
        process: P,
        opts: &SpawnOptions,
    ) -> Result<(Addr<P::Message>, Option<MonitorRef>), SpawnError> {
        if self.shared.is_closing() {
            return Err(SpawnError::RuntimeStopped);
        }
        let parent = self.shared.current_process();
        self.shared
            .spawn_with(process, opts, parent.as_ref().map(|t| t.header()))
            .map_err(|_| SpawnError::RuntimeStopped)
    }

    /// Whether the runtime is stopping or has stopped: [`Runtime::shutdown`]
    /// has reached its kill phase (or finished). Spawns then make processes
    /// that never run ([`spawn_opts`](Handle::spawn_opts)), and
    /// [`try_spawn`](Handle::try_spawn) fails.
    pub fn is_stopping(&self) -> bool {
        self.shared.is_closing()
    }

    /// Waits until the process behind `addr` has exited — its name
    /// released, its slot freed, its links and monitors told — and returns
    /// its exit reason; `None` if `timeout`
    /// (on the runtime clock) passes first, or if the waiting process is
    /// itself told to exit meanwhile. Inside a process the wait does not
    /// hold up the worker.
    ///
    /// On a runtime that has stopped ([`Runtime::shutdown`] returned) it
    /// does not wait: the exit reason if the process is gone, else `None`
    /// (nothing runs any more, so it never will be).
    pub fn await_exit<M: Send + 'static>(
        &self,
        addr: &Addr<M>,
        timeout: Option<Duration>,
    ) -> Option<ExitReason> {
        self.await_exit_of_header(addr.header(), timeout)
    }

    pub(crate) fn await_exit_of(
        &self,
        process: &ProcessRef,
        timeout: Option<Duration>,
    ) -> Option<ExitReason> {
        self.await_exit_of_header(process.header(), timeout)
    }

    fn await_exit_of_header(
        &self,
        process: &Header,
        timeout: Option<Duration>,
    ) -> Option<ExitReason> {
        let shared = &self.shared;
        let start = shared.timers.now();
        // DEAD is set once the exit is complete: the name released, the
        // slot freed, links and monitors told (rule 16). So a supervisor
        // that awaits its child and then handles its own mailbox finds the
        // child's EXIT there.
        let done = || process.state.is_dead();
        // The common case for a supervisor: the EXIT it handles is sent
        // just before the child is marked DEAD. No need for a cover then;
        // and an exit under way usually completes within a spin.
        if done() || crate::backoff::spin_until(done) {
            return process.exit_reason();
        }
        // On the virtual clock, time moves only by `advance` or
        // auto-advance, which jumps to the next timer: a timer at the
        // deadline gives it one, and its firing wakes the wait.
        let deadline_timer = match timeout {
            Some(t) if shared.timers.clock.is_virtual() => {
                let weak = Arc::downgrade(shared);
                Some(shared.timers.send_after(
                    t,
                    None,
                    Box::new(move || {
                        if let Some(shared) = weak.upgrade() {
                            shared.notify_exit_watchers();
                        }
                    }),
                ))
            }
            _ => None,
        };
        let wait = || loop {
            if done() {
                return process.exit_reason();
            }
            // A waiter that is itself told to exit stops waiting (R1).
            if crate::current::with_header(|me| me.is_some_and(|h| h.is_exiting())) {
                return None;
            }
            // A stopped runtime runs nothing any more, and its clock may
            // not move again (virtual): the process will not exit.
            if shared.scheduler.is_stopping() {
                return None;
            }
            let left = match timeout {
                Some(t) => {
                    let spent = shared.timers.now().saturating_sub(start);
                    if spent >= t {
                        return None;
                    }
                    t - spent
                }
                None => Duration::from_secs(3600),
            };
            // Auto-advance runs when the last worker goes idle; if they all
            // slept before the deadline's timer was armed, nobody would
            // look again.
            if deadline_timer.is_some() {
                shared.on_idle();
            }
            // Real time bounds each step; the runtime clock decides the end.
            let step = left.min(Duration::from_millis(50));
            shared.wait_exits(Instant::now() + step, done);
        };
        let reason = scheduler::blocking::cover_wait(shared, wait);
        if let Some(timer) = deadline_timer {
            shared.timers.cancel(timer);
        }
        reason
    }

    /// Whether the calling process has been told to exit (a kill, or an exit
    /// signal it does not trap); `false` outside any process. A wait in a
    /// library that returns early because of this can tell why.
    pub fn self_is_exiting(&self) -> bool {
        crate::current::with_header(|me| me.is_some_and(|h| h.is_exiting()))
    }

    /// An untyped handle on live process `pid`.
    pub fn process_ref(&self, pid: Pid) -> Option<ProcessRef> {
        self.shared.table.get(pid).map(ProcessRef::new)
    }

    /// Spawns a process from a closure that handles each message.
    ///
    /// ```
    /// let rt = rotp_runtime::Runtime::new().unwrap();
    /// let (tx, rx) = std::sync::mpsc::channel();
    /// let p = rt.spawn_fn(move |msg: &'static str, ctx| {
    ///     tx.send(format!("{} got {msg}", ctx.pid())).unwrap();
    /// });
    /// p.send("hello");
    /// assert!(rx.recv().unwrap().ends_with("got hello"));
    /// ```
    pub fn spawn_fn<M, F>(&self, f: F) -> Addr<M>
    where
        M: Send + 'static,
        F: FnMut(M, &mut Context<'_, M>) + Send + 'static,
    {
        self.spawn(FnProcess::new(f))
    }

    /// Whether `pid` is alive (rule 17).
    pub fn is_alive(&self, pid: Pid) -> bool {
        self.shared
            .table
            .get(pid)
            .is_some_and(|t| t.header().state.is_alive())
    }

    /// Sends an exit signal with `reason` to `pid` (`exit/2`, rules 8-9).
    /// Inside a process the signal comes from that process; outside, from
    /// [`Pid::ROOT`]. For the untrappable kill use [`kill`](Handle::kill).
    pub fn send_exit(&self, pid: Pid, reason: ExitReason) {
        let from = crate::current::self_pid().unwrap_or(Pid::ROOT);
        self.send_exit_from(from, pid, reason)
    }

    pub(crate) fn send_exit_from(&self, from: Pid, pid: Pid, reason: ExitReason) {
        if let Some(target) = self.shared.table.get(pid) {
            link::exit_signal(target, from, reason, Via::Explicit);
        }
    }

    /// Kills `pid`: untrappable; it exits `killed` as soon as its current
    /// handler returns (rule 5, R1).
    pub fn kill(&self, pid: Pid) {
        if let Some(target) = self.shared.table.get(pid) {
            link::kill(target);
        }
    }

    /// Adds a clean-up function to run when process `pid` exits, after its
    /// state is dropped and its local name released and before its links
    /// and monitors hear of the exit (rule 16), on the thread that runs the
    /// exit. Hooks run in the order they were added, each once; a panic in
    /// one is logged and does not stop the others. A hook must be short and
    /// must not wait for other processes: the exit, and everyone linked to
    /// the process, waits for it.
    ///
    /// This is how a structure that keeps entries per process (a key
    /// registry, a table owned by a process) forgets a process as the
    /// runtime forgets its name. A process that adds no hook pays nothing
    /// for the mechanism.
    ///
    /// # Errors
    ///
    /// [`NoProc`] if `pid` has exited (or its exit has begun): the hook
    /// would never run.
    ///
    /// ```
    /// use rotp_runtime::{ExitReason, Runtime};
    /// use std::sync::mpsc;
    ///
    /// let rt = Runtime::new().unwrap();
    /// let p = rt.spawn_fn(|_: (), ctx| ctx.exit(ExitReason::custom("bye")));
    /// let (tx, rx) = mpsc::channel();
    /// rt.on_exit(p.pid(), move |pid, reason| tx.send((pid, reason.clone())).unwrap())
    ///     .unwrap();
    /// p.send(());
    /// assert_eq!(rx.recv().unwrap(), (p.pid(), ExitReason::custom("bye")));
    /// assert!(rt.on_exit(p.pid(), |_, _| {}).is_err()); // gone
    /// ```
    pub fn on_exit(
        &self,
        pid: Pid,
        hook: impl FnOnce(Pid, &ExitReason) + Send + 'static,
    ) -> Result<ExitHookRef, NoProc> {
        let process = self.shared.table.get(pid).ok_or(NoProc(pid))?;
        let mut rel = process.header().relations.lock();
        if rel.is_closed() {
            return Err(NoProc(pid));
        }
        let id = self.shared.next_ref.fetch_add(1, Relaxed);
        rel.exit_hooks().push(id, Box::new(hook));
        Ok(ExitHookRef(id))
    }

    /// This runtime's value of type `T`, created with `T::default()` on
    /// first use and kept until the runtime is dropped: a library's
    /// runtime-wide state (its named tables, say), one per runtime.
    ///
    /// ```
    /// use std::sync::atomic::{AtomicU64, Ordering};
    /// #[derive(Default)]
    /// struct Counter(AtomicU64);
    ///
    /// let rt = rotp_runtime::Runtime::new().unwrap();
    /// rt.extension::<Counter>().0.fetch_add(1, Ordering::Relaxed);
    /// assert_eq!(rt.extension::<Counter>().0.load(Ordering::Relaxed), 1);
    /// let other = rotp_runtime::Runtime::new().unwrap();
    /// assert_eq!(other.extension::<Counter>().0.load(Ordering::Relaxed), 0);
    /// ```
    pub fn extension<T: Default + Send + Sync + 'static>(&self) -> Arc<T> {
        self.shared.extensions.get::<T>()
    }

    /// Removes an exit hook added with [`on_exit`](Handle::on_exit) before
    /// it runs; whether it was still there (`false` once the process has
    /// exited: the hook ran).
    pub fn cancel_exit_hook(&self, pid: Pid, hook: ExitHookRef) -> bool {
        let Some(process) = self.shared.table.get(pid) else {
            return false;
        };
        let mut rel = process.header().relations.lock();
        rel.exit_hooks_if_any()
            .is_some_and(|hooks| hooks.remove(hook.0))
    }

    /// Registers `pid` under `name` (rule 35).
    pub fn register(&self, name: impl Into<Name>, pid: Pid) -> Result<(), RegisterError> {
        self.shared
            .registry
            .register(&self.shared.table, name.into(), pid)
    }

    /// Removes a registration; returns whether `name` was registered.
    pub fn unregister(&self, name: &str) -> bool {
        self.shared.registry.unregister(&self.shared.table, name)
    }

    /// The pid registered as `name`, if any.
    pub fn whereis(&self, name: &str) -> Option<Pid> {
        self.shared.registry.whereis(name)
    }

    /// The name `pid` is registered under, if any.
    pub fn name_of(&self, pid: Pid) -> Option<Name> {
        self.shared.registry.name_of(pid)
    }

    /// Every registered name with its pid.
    pub fn registered(&self) -> Vec<(Name, Pid)> {
        self.shared.registry.names()
    }

    /// A typed handle on live process `pid`, if its messages are `M`.
    pub fn addr_of<M: Send + 'static>(&self, pid: Pid) -> Option<Addr<M>> {
        self.typed_addr(pid).ok()
    }

    /// A typed handle on live process `pid`, or why there is none: no such
    /// process, or one that takes other messages than `M`.
    ///
    /// ```
    /// use rotp_runtime::{AddrError, Runtime};
    /// let rt = Runtime::new().unwrap();
    /// let p = rt.spawn_fn(|_: u32, _ctx| {});
    /// assert!(rt.typed_addr::<u32>(p.pid()).is_ok());
    /// assert!(matches!(rt.typed_addr::<String>(p.pid()), Err(AddrError::WrongType { .. })));
    /// ```
    pub fn typed_addr<M: Send + 'static>(&self, pid: Pid) -> Result<Addr<M>, AddrError> {
        let process = self.shared.table.get(pid).ok_or(AddrError::NoProc(pid))?;
        let actual = process.kind().type_name;
        let mut addr = None;
        process.addr_into(&mut addr);
        addr.ok_or(AddrError::WrongType { pid, actual })
    }

    /// A typed handle on the process registered as `name`.
    pub fn whereis_addr<M: Send + 'static>(&self, name: &str) -> Option<Addr<M>> {
        self.addr_of(self.whereis(name)?)
    }

    /// Sends to a registered name. Unlike a send to a pid, this fails when
    /// nobody holds the name (rule 14).
    pub fn send_named<M: Send + 'static>(
        &self,
        name: &str,
        msg: M,
    ) -> Result<(), NamedSendError<M>> {
        let Some(pid) = self.whereis(name) else {
            return Err(NamedSendError::NotRegistered(name.to_owned(), msg));
        };
        let Some(process) = self.shared.table.get(pid) else {
            return Ok(()); // exited after lookup: like a send to a dead pid
        };
        let mut addr: Option<Addr<M>> = None;
        process.addr_into(&mut addr);
        match addr {
            Some(addr) => {
                addr.send(msg);
                Ok(())
            }
            None => Err(NamedSendError::WrongType(name.to_owned(), msg)),
        }
    }

    /// The runtime clock: time since the runtime started (virtual time with
    /// the virtual clock).
    pub fn now(&self) -> Duration {
        self.shared.timers.now()
    }

    /// Whether the runtime uses the virtual clock.
    pub fn is_virtual_clock(&self) -> bool {
        self.shared.timers.clock.is_virtual()
    }

    /// Virtual clock: moves time forward by `by`, stopping at every
    /// deadline on the way: at each, the timers due fire (in deadline
    /// order) and the processes handle what they delivered — and whatever
    /// that handling set off — before time moves on. So a server that
    /// re-arms a one-second timer on each tick ticks three times in
    /// `advance(3 s)`, and a test sees the state of each step.
    ///
    /// "Handled" means the runtime has settled: nothing queued, every
    /// worker idle, no handler running on a plain thread. A handler that
    /// blocks (say, on a gate the test opens later) does not hold the
    /// advance up: its worker is covered by a spare, which idles. The
    /// waiting is bounded all the same, by [`ADVANCE_SETTLE_LIMIT`] of
    /// real time per call, for a process that never stops working; and it
    /// is skipped when `advance` is called from inside a process, which
    /// cannot wait for the runtime it keeps busy.
    ///
    /// ```
    /// use std::time::Duration;
    /// use rotp_runtime::testing::virtual_runtime;
    ///
    /// let rt = virtual_runtime(1);
    /// let (tx, rx) = std::sync::mpsc::channel();
    /// // Each tick re-arms the next one, a second later.
    /// let ticker = rt.spawn_fn(move |n: u32, ctx| {
    ///     tx.send(n).unwrap();
    ///     ctx.send_after_self(Duration::from_secs(1), n + 1);
    /// });
    /// ticker.send(0);
    /// rt.advance(Duration::from_secs(3));
    /// assert_eq!(rx.try_iter().collect::<Vec<_>>(), [0, 1, 2, 3]);
    /// ```
    ///
    /// # Panics
    ///
    /// With the real clock.
    pub fn advance(&self, by: Duration) {
        assert!(
            self.is_virtual_clock(),
            "Handle::advance needs a runtime built with virtual_clock()"
        );
        let target = self.now() + by;
        let settle_by = Instant::now() + ADVANCE_SETTLE_LIMIT;
        let timers = &self.shared.timers;
        // What was sent before the advance is handled at the old time.
        self.shared.settle(settle_by);
        // Step through the deadlines so that an interval firing several
        // times fires in order and re-arms relative to each tick.
        while let Some(next) = timers.next_deadline() {
            if next > target {
                break;
            }
            timers.clock.advance_to(next.max(self.now()));
            timers.fire_due();
            self.shared.settle(settle_by);
        }
        timers.clock.advance_to(target);
        if timers.fire_due() > 0 {
            self.shared.settle(settle_by);
        }
    }

    /// A snapshot of process `pid` (`process_info/1`), or `None` if it is not
    /// alive.
    pub fn process_info(&self, pid: Pid) -> Option<ProcessInfo> {
        let task = self.shared.table.get(pid)?;
        let h = task.header();
        let (links, monitors, monitored_by) = {
            let rel = h.relations.lock();
            let mut l = Vec::new();
            let mut m = Vec::new();
            let mut mb = Vec::new();
            for r in rel.entries() {
                match *r {
                    Relation::Link(p) => l.push(p),
                    Relation::Monitoring(_, p) => m.push(p),
                    Relation::MonitoredBy(_, p) => mb.push(p),
                }
            }
            (l, m, mb)
        };
        // A worker publishes the pid it runs and an odd slice count while
        // it runs it (the watchdog's view); the state word only says
        // "queued or running".
        let running_on = self.shared.scheduler.workers.iter().find_map(|ws| {
            let slices = ws.slices.load(Relaxed);
            (slices % 2 == 1 && ws.running.load(Relaxed) == pid.to_bits()).then_some((ws, slices))
        });
        let status = if !h.state.is_alive() {
            Status::Exiting
        } else if running_on.is_some() {
            Status::Running
        } else if h.state.is_scheduled() {
            Status::Runnable
        } else {
            Status::Waiting
        };
        let current_handler_time = running_on.and_then(|(ws, slices)| ws.running_since(slices));
        Some(ProcessInfo {
            pid,
            name: self.shared.registry.name_of(pid),
            status,
            parent: h.parent,
            mailbox_len: task.mailbox_len(),
            mailbox_memory: task.mailbox_memory(),
            reductions: h.reductions.load(Relaxed),
            handled: h.handled.load(Relaxed),
            links,
            monitors,
            monitored_by,
            trap_exit: h.trap_exit.load(Relaxed),
            current_handler_time,
            type_name: task.kind().type_name,
            behaviour: task.kind().behaviour,
            memory: task.memory(),
        })
    }

    /// Sends system request `request` to process `pid` (see
    /// [`Process::system`]); collect the answer from the returned
    /// [`PendingSystem`]. Many requests can be sent before any answer is
    /// awaited.
    pub fn system_request(
        &self,
        pid: Pid,
        request: SystemRequest,
    ) -> Result<PendingSystem, SystemError> {
        if crate::current::self_pid() == Some(pid) {
            return Err(SystemError::CallingSelf);
        }
        let task = self.shared.table.get(pid).ok_or(SystemError::NoProc)?;
        let (tx, rx) = crossbeam_channel::bounded(1);
        if task.push_system(SystemCall { request, reply: tx }) {
            scheduler::wake(Task::new(&*task));
        }
        Ok(PendingSystem {
            pid,
            rx,
            shared: self.shared.clone(),
        })
    }

    /// What process `pid` says about itself (`sys:get_status` for any
    /// kind of process): its behaviour, a state summary, facts, and for a
    /// supervisor its children. Waits up to `timeout`, real time.
    ///
    /// ```
    /// use std::time::Duration;
    /// let rt = rotp_runtime::Runtime::new().unwrap();
    /// let p = rt.spawn_fn(|_: (), _ctx| {});
    /// let status = rt.system_status(p.pid(), Duration::from_secs(5)).unwrap();
    /// assert_eq!(status.behaviour, "process");
    /// ```
    pub fn system_status(&self, pid: Pid, timeout: Duration) -> Result<SystemStatus, SystemError> {
        match self
            .system_request(pid, SystemRequest::Status)?
            .wait(timeout)?
        {
            SystemReply::Status(status) => Ok(status),
            _ => Err(SystemError::NotSupported),
        }
    }

    /// Suspends process `pid` (`sys:suspend`): it serves only system
    /// requests until resumed. Behaviours that support it (a gen_server)
    /// keep other messages queued, in order.
    pub fn suspend(&self, pid: Pid, timeout: Duration) -> Result<(), SystemError> {
        self.system_done(pid, SystemRequest::Suspend, timeout)
    }

    /// Resumes a suspended process (`sys:resume`).
    pub fn resume(&self, pid: Pid, timeout: Duration) -> Result<(), SystemError> {
        self.system_done(pid, SystemRequest::Resume, timeout)
    }

    fn system_done(
        &self,
        pid: Pid,
        request: SystemRequest,
        timeout: Duration,
    ) -> Result<(), SystemError> {
        match self.system_request(pid, request)?.wait(timeout)? {
            SystemReply::Done => Ok(()),
            _ => Err(SystemError::NotSupported),
        }
    }

    /// Every process in the table (`processes/0`).
    pub fn processes(&self) -> Vec<Pid> {
        self.shared
            .table
            .snapshot()
            .iter()
            .map(|t| t.header().pid)
            .collect()
    }

    /// Number of processes in the table.
    pub fn process_count(&self) -> usize {
        self.shared.table.len()
    }

    /// Runtime statistics.
    pub fn stats(&self) -> RuntimeStats {
        let uptime = self.shared.started.elapsed();
        RuntimeStats {
            workers: self
                .shared
                .scheduler
                .workers
                .iter()
                .map(|ws| WorkerStats {
                    slices: ws.slices.load(Relaxed) / 2,
                    handled: ws.ticks.load(Relaxed),
                    steals: ws.stats.steals.load(Relaxed),
                    balanced: ws.stats.balanced.load(Relaxed),
                    parks: ws.stats.parks.load(Relaxed),
                    busy: ws.busy(uptime),
                })
                .collect(),
            spawned: self.shared.stats.spawned.load(Relaxed),
            exited: self.shared.stats.exited.load(Relaxed),
            processes: self.shared.table.len(),
            messages: self
                .shared
                .scheduler
                .workers
                .iter()
                .map(|ws| ws.ticks.load(Relaxed))
                .sum(),
            long_schedules: self.shared.stats.long_schedules.load(Relaxed),
            spare_threads: self.shared.scheduler.spares.total(),
            sleeping: self.shared.scheduler.idle.sleeping(),
            timers: self.shared.timers.len(),
        }
    }

    /// Removes the link between two processes from outside either of them
    /// (the mirror of [`link_pids`](Handle::link_pids)): a behaviour about
    /// to kill a child it started on a caller's behalf unlinks the caller
    /// first, as OTP's start does.
    pub fn unlink_pids(&self, a: Pid, b: Pid) {
        if let Some(ta) = self.shared.table.get(a) {
            link::unlink(ta.header(), b);
        }
    }

    /// Links two processes from outside either of them. Used by behaviours
    /// that start a child on behalf of a parent.
    pub fn link_pids(&self, a: Pid, b: Pid) -> Result<(), NoProc> {
        let ta = self.shared.table.get(a).ok_or(NoProc(a))?;
        link::link(ta.header(), b)
    }
}

/// An Erlang/OTP-style runtime: worker threads, processes, timers.
///
/// Dropping the runtime shuts it down with a 5-second timeout; call
/// [`shutdown`](Runtime::shutdown) to choose the timeout and see the result.
/// `Runtime` dereferences to its [`Handle`].
///
/// ```
/// let rt = rotp_runtime::Runtime::builder().workers(2).build().unwrap();
/// let (tx, rx) = std::sync::mpsc::channel();
/// rt.spawn_fn(move |n: u64, _ctx| tx.send(n + 1).unwrap()).send(41);
/// assert_eq!(rx.recv().unwrap(), 42);
/// rt.shutdown(std::time::Duration::from_secs(1)).unwrap();
/// ```
pub struct Runtime {
    handle: Handle,
    threads: Mutex<Vec<JoinHandle<()>>>,
    /// The outcome of the one shutdown, once it has run; held locked while
    /// it runs, so that a concurrent call waits for it.
    outcome: Mutex<Option<Result<(), ShutdownError>>>,
}

impl fmt::Debug for Runtime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Runtime")
            .field("handle", &self.handle)
            .finish()
    }
}

impl std::ops::Deref for Runtime {
    type Target = Handle;

    fn deref(&self) -> &Handle {
        &self.handle
    }
}

/// The least time the kill phase of a shutdown gets, whatever the roots
/// used of the timeout.
const KILL_GRACE: Duration = Duration::from_millis(200);

/// How long `Drop` lets processes finish.
const DROP_SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(5);

impl Runtime {
    /// A builder with the defaults.
    pub fn builder() -> Builder {
        Builder::new()
    }

    /// A runtime with the defaults: one worker per core, the real clock,
    /// the watchdog on (see [`Builder`] for each).
    ///
    /// ```
    /// use rotp_runtime::Runtime;
    ///
    /// let rt = Runtime::new().unwrap();
    /// let (tx, rx) = std::sync::mpsc::channel();
    /// let echo = rt.spawn_fn(move |text: String, _ctx| tx.send(text.to_uppercase()).unwrap());
    /// echo.send("hello".into());
    /// assert_eq!(rx.recv_timeout(std::time::Duration::from_secs(5)).unwrap(), "HELLO");
    /// // Dropping `rt` shuts it down (5 s timeout); `shutdown` lets you choose.
    /// ```
    pub fn new() -> Result<Runtime, BuildError> {
        Builder::new().build()
    }

    pub(crate) fn start(config: Config) -> Result<Runtime, BuildError> {
        crate::panic::install_hook();
        let locals: Vec<Worker<Task>> = (0..config.workers).map(|_| Worker::new_fifo()).collect();
        let stealers = locals.iter().map(Worker::stealer).collect();
        let clock = if config.virtual_clock {
            Clock::Virtual {
                now_ns: AtomicU64::new(0),
                auto_advance: config.auto_advance,
            }
        } else {
            Clock::Real(Instant::now())
        };
        let shared = Arc::new(Shared {
            table: Table::new(config.workers),
            registry: Registry::default(),
            scheduler: Scheduler::new(stealers, config.max_spare_threads),
            timers: Timers::new(clock, config.watchdog.map(watchdog_period)),
            stats: Counters::default(),
            next_ref: AtomicU64::new(1),
            watchdog_parker: Parker::new(),
            extensions: Default::default(),
            started: Instant::now(),
            roots: Mutex::new(Vec::new()),
            exit_waiters: AtomicUsize::new(0),
            closing: AtomicBool::new(false),
            exit_signal: (Mutex::new(()), Condvar::new()),
            config,
        });
        let runtime = Runtime {
            handle: Handle::from_shared(shared.clone()),
            threads: Mutex::new(Vec::new()),
            outcome: Mutex::new(None),
        };
        let name = &shared.config.thread_name;
        let stack = shared.config.stack_size;
        for (index, local) in locals.into_iter().enumerate() {
            let s = shared.clone();
            let t = std::thread::Builder::new()
                .name(format!("{name}-worker-{index}"))
                .stack_size(stack)
                .spawn(move || scheduler::worker::main(s, index, local))?;
            runtime.threads.lock().push(t);
        }
        if !shared.timers.clock.is_virtual() {
            let s = shared.clone();
            let t = std::thread::Builder::new()
                .name(format!("{name}-timer"))
                .spawn(move || s.timers.run_thread(|| s.scheduler.is_stopping()))?;
            runtime.threads.lock().push(t);
        }
        if let Some(threshold) = shared.config.watchdog {
            let s = shared.clone();
            let t = std::thread::Builder::new()
                .name(format!("{name}-watchdog"))
                .spawn(move || scheduler::watchdog::main(s, threshold))?;
            runtime.threads.lock().push(t);
        }
        Ok(runtime)
    }

    /// A cloneable handle on this runtime.
    pub fn handle(&self) -> &Handle {
        &self.handle
    }

    /// Stops the runtime: first every process spawned from outside a process
    /// (the roots, typically supervision trees) gets a `shutdown` exit
    /// signal, last-spawned first, each awaited in turn so trapping
    /// behaviours run their `terminate`; then every remaining process is
    /// killed; then the threads are joined. Processes still running at the
    /// deadline (stuck in a handler) are reported in the error and left
    /// behind; nothing waits forever.
    ///
    /// From the kill phase on the runtime refuses new processes: a spawn
    /// returns the `Addr` of a process that is already gone, with reason
    /// [`ExitReason::runtime_stopped`], and [`Handle::try_spawn`] fails with
    /// [`SpawnError::RuntimeStopped`]; so a behaviour's start after shutdown
    /// fails at once. Once this returns, waits do not wait: a reply wait
    /// ends with [`WaitError::RuntimeStopped`](crate::WaitError) unless its
    /// reply is there, `await_exit` returns at once. Timers armed on a
    /// stopped runtime never fire.
    ///
    /// A handler stuck past the deadline keeps its thread, which is
    /// detached: it is not joined, and the shutdown returns. What that
    /// handler does later — sends, replies, spawns, timers — is harmless and
    /// goes nowhere: nothing runs the messages, spawns are dead on arrival,
    /// and its thread ends when the handler returns.
    ///
    /// Calling it again (or dropping the runtime after it) does nothing
    /// more and returns the first call's outcome; a call made while
    /// another runs waits for it.
    ///
    /// ```
    /// use std::sync::mpsc;
    /// use std::time::Duration;
    /// use rotp_runtime::{Context, ExitReason, Pid, Process, Runtime, SpawnError, SpawnOptions};
    ///
    /// /// Flushes its buffer when it is told to shut down.
    /// struct Writer { flushed: mpsc::Sender<ExitReason> }
    ///
    /// impl Process for Writer {
    ///     type Message = Vec<u8>;
    ///     fn handle(&mut self, _bytes: Vec<u8>, _ctx: &mut Context<'_, Vec<u8>>) {}
    ///     fn handle_exit(&mut self, _from: Pid, reason: ExitReason, ctx: &mut Context<'_, Vec<u8>>) {
    ///         self.flushed.send(reason.clone()).unwrap();
    ///         ctx.exit(reason);
    ///     }
    /// }
    ///
    /// let rt = Runtime::new().unwrap();
    /// let (tx, flushed) = mpsc::channel();
    /// // Spawned from outside a process: a root. It traps exits, so it hears
    /// // of the shutdown as an EXIT.
    /// rt.spawn_opts(Writer { flushed: tx }, &SpawnOptions::new().trap_exit(true));
    /// rt.shutdown(Duration::from_secs(5)).unwrap();
    /// assert_eq!(flushed.try_recv(), Ok(ExitReason::Shutdown));
    ///
    /// // A stopped runtime refuses new work at once.
    /// let late = rt.try_spawn(Writer { flushed: mpsc::channel().0 });
    /// assert!(matches!(late, Err(SpawnError::RuntimeStopped)));
    /// ```
    pub fn shutdown(&self, timeout: Duration) -> Result<(), ShutdownError> {
        let mut outcome = self.outcome.lock();
        if let Some(outcome) = &*outcome {
            return outcome.clone();
        }
        let result = self.shutdown_once(timeout);
        *outcome = Some(result.clone());
        result
    }

    fn shutdown_once(&self, timeout: Duration) -> Result<(), ShutdownError> {
        let shared = &self.handle.shared;
        let start = Instant::now();
        let deadline = start + timeout;
        // The roots get three quarters of the time, so that a root ignoring
        // the signal cannot leave the kill phase none.
        let roots_deadline = start + timeout * 3 / 4;
        let roots: Vec<Pid> = std::mem::take(&mut *shared.roots.lock());
        for &pid in roots.iter().rev() {
            if let Some(task) = shared.table.get(pid) {
                link::exit_signal(task, Pid::ROOT, ExitReason::Shutdown, Via::Explicit);
                shared.wait_exits(roots_deadline, || shared.table.get(pid).is_none());
            }
        }
        // The kill phase: no new process from here on (see `spawn_with`).
        shared.closing.store(true, SeqCst);
        fence(SeqCst);
        for task in shared.table.snapshot() {
            link::kill(task);
        }
        let kill_deadline = deadline.max(Instant::now() + KILL_GRACE);
        shared.wait_exits(kill_deadline, || shared.table.len() == 0);
        // What is left did not exit in time: typically a handler that never
        // returns (a killed process exits when its handler returns, R1).
        let stuck: Vec<Pid> = self.handle.processes();
        shared.scheduler.stop();
        shared.timers.wake_thread();
        shared.watchdog_parker.unpark();
        let threads = std::mem::take(&mut *self.threads.lock());
        let remaining = deadline
            .saturating_duration_since(Instant::now())
            .max(Duration::from_millis(100));
        join_until(threads, Instant::now() + remaining);
        shared.scheduler.spares.join(remaining);
        if stuck.is_empty() {
            Ok(())
        } else {
            Report::error(
                ReportKind::Runtime,
                format_args!(
                    "shutdown: {} process(es) did not exit in time: {:?}",
                    stuck.len(),
                    stuck
                ),
            )
            .count("stuck", stuck.len() as u64)
            .emit();
            Err(ShutdownError { stuck })
        }
    }
}

/// Joins the threads that finish by `deadline`; the others are detached
/// (a thread stuck in a handler cannot be stopped).
fn join_until(threads: Vec<JoinHandle<()>>, deadline: Instant) {
    for t in threads {
        while !t.is_finished() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(1));
        }
        if t.is_finished() {
            let _ = t.join();
        } else {
            Report::warn(
                ReportKind::Runtime,
                format_args!(
                    "runtime thread {:?} still busy at shutdown; detached",
                    t.thread().name()
                ),
            )
            .emit();
        }
    }
}

impl Drop for Runtime {
    fn drop(&mut self) {
        if self.outcome.lock().is_some() {
            return;
        }
        if let Err(e) = self.shutdown(DROP_SHUTDOWN_TIMEOUT) {
            Report::error(ReportKind::Runtime, format_args!("runtime dropped: {e}")).emit();
        }
    }
}
