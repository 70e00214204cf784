//! What a running handler can do to itself and the world.

use std::fmt;
use std::sync::atomic::Ordering::AcqRel;
use std::time::Duration;

use super::pcb::{Header, Pcb};
use super::Process;
use crate::addr::Addr;
use crate::error::{NoProc, RegisterError};
use crate::exit::ExitReason;
use crate::link;
use crate::mailbox::{Batch, Envelope, Mailbox};
use crate::monitor::{self, MonitorRef};
use crate::pid::Pid;
use crate::registry::Name;
use crate::ring::Ring;
use crate::runtime::{Handle, SpawnOptions};
use crate::timer::{TimerFired, TimerRef};

/// Per-slice requests from handlers to the runner.
#[derive(Default)]
pub(crate) struct SliceFlags {
    /// `ctx.exit(reason)` was called.
    pub(crate) exit: Option<ExitReason>,
    /// Extra reductions charged with `ctx.consume(n)`.
    pub(crate) consumed: u32,
    /// The slice runs on the thread of a caller waiting for this process's
    /// answer (see `Pcb::slice`).
    pub(crate) for_caller: bool,
    /// `ctx.report_exit(..)` was called.
    pub(crate) exit_reported: bool,
    /// `ctx.set_receive_timeout(t)` was called: `Some(t)`.
    pub(crate) receive_timeout: Option<Option<Duration>>,
    /// Set with `exit`, `consumed` and `receive_timeout`: the runner looks
    /// at those three only after a handler that asked for something.
    pub(crate) requested: bool,
}

/// The typed view of the running process, without its state type.
pub(crate) trait RunningProcess<M>: Send + Sync {
    fn header(&self) -> &Header;
    fn addr(&self) -> Addr<M>;
    fn mailbox(&self) -> &Mailbox<M>;
    fn batch(&self) -> Batch<'_, M>;
}

impl<P: Process> RunningProcess<P::Message> for Pcb<P> {
    fn header(&self) -> &Header {
        Pcb::header_ref(self)
    }

    fn addr(&self) -> Addr<P::Message> {
        Addr::from_inner(self.arc())
    }

    fn mailbox(&self) -> &Mailbox<P::Message> {
        Pcb::mailbox(self)
    }

    fn batch(&self) -> Batch<'_, P::Message> {
        Pcb::batch(self)
    }
}

/// The handle a handler receives on its own process.
///
/// Everything here acts *as* the running process: links and monitors are
/// its own, exit signals it sends carry its pid, `exit` ends it after the
/// handler returns.
pub struct Context<'a, M> {
    this: &'a dyn RunningProcess<M>,
    flags: &'a mut SliceFlags,
}

impl<'a, M: Send + 'static> Context<'a, M> {
    pub(crate) fn new<P: Process<Message = M>>(
        this: &'a Pcb<P>,
        flags: &'a mut SliceFlags,
    ) -> Self {
        Context { this, flags }
    }

    /// Calls `f` with the process's batch (entries taken from the mailbox
    /// and not yet handled).
    fn with_batch<R>(&mut self, f: impl FnOnce(&mut Ring<Envelope<M>>) -> R) -> R {
        // SAFETY: a `Context` exists only inside a handler of the running
        // slice, whose thread holds the run right; `&mut self` keeps two
        // calls from overlapping.
        unsafe { self.this.batch().with(f) }
    }

    pub(crate) fn header(&self) -> &Header {
        self.this.header()
    }

    /// This process's pid (`self()`).
    pub fn pid(&self) -> Pid {
        self.header().pid
    }

    /// The process that spawned this one; [`Pid::ROOT`] when spawned from
    /// outside any process.
    pub fn parent(&self) -> Pid {
        self.header().parent
    }

    /// A typed handle on this process, to hand to others.
    pub fn addr(&self) -> Addr<M> {
        self.this.addr()
    }

    /// The runtime this process runs on.
    pub fn handle(&self) -> Handle {
        Handle::from_shared(self.header().shared.clone())
    }

    /// Ends this process with `reason` once the current handler returns
    /// (`exit/1`). Its links and monitors are told `reason`.
    pub fn exit(&mut self, reason: ExitReason) {
        self.flags.exit = Some(reason);
        self.flags.requested = true;
    }

    /// Charges `reductions` extra reductions for heavy work, so that the
    /// process yields sooner to its neighbours.
    pub fn consume(&mut self, reductions: u32) {
        self.flags.consumed = self.flags.consumed.saturating_add(reductions);
        self.flags.requested = true;
    }

    /// Whether this process has been told to exit (a kill, or an exit signal
    /// it does not trap). A long handler may poll this and return early: the
    /// exit takes effect when the handler returns.
    pub fn is_exiting(&self) -> bool {
        self.header().is_exiting()
    }

    /// Whether this handler runs on the thread of a caller that waits for
    /// this process's answer — to this entry, or to one queued behind it:
    /// a call run inline, on the caller's stack, rather than handed to a
    /// worker (see `docs/scheduling.md`). The slice ends with this
    /// handler; work the handler would do after its reply holds a caller
    /// up, so a behaviour defers such work (the gen_server's
    /// `handle_continue`) to a message of its own.
    pub fn caller_waits(&self) -> bool {
        self.flags.for_caller
    }

    /// Sets `trap_exit`; returns the previous value (rule 24).
    pub fn trap_exit(&mut self, on: bool) -> bool {
        self.header().trap_exit.swap(on, AcqRel)
    }

    /// Whether this process traps exits.
    pub fn traps_exit(&self) -> bool {
        self.header()
            .trap_exit
            .load(std::sync::atomic::Ordering::Acquire)
    }

    /// Spawns an unlinked process whose parent is this one.
    pub fn spawn<P: Process>(&mut self, process: P) -> Addr<P::Message> {
        self.spawn_with(process, false, None)
    }

    /// Spawns a process from a closure that handles each message.
    pub fn spawn_fn<T, F>(&mut self, f: F) -> Addr<T>
    where
        T: Send + 'static,
        F: FnMut(T, &mut Context<'_, T>) + Send + 'static,
    {
        self.spawn(super::FnProcess::new(f))
    }

    /// Spawns a process linked to this one. The link exists before the child
    /// runs, so even an immediate crash is propagated (rule 22).
    pub fn spawn_link<P: Process>(&mut self, process: P) -> Addr<P::Message> {
        self.spawn_with(process, true, None)
    }

    /// Spawns a process and monitors it atomically.
    pub fn spawn_monitor<P: Process>(&mut self, process: P) -> (Addr<P::Message>, MonitorRef) {
        let (addr, mref) = self.spawn_opts(process, &SpawnOptions::new().monitor(true));
        (addr, mref.expect("a monitor was requested from a process"))
    }

    fn spawn_with<P: Process>(
        &mut self,
        process: P,
        link: bool,
        monitor: Option<MonitorRef>,
    ) -> Addr<P::Message> {
        let opts = SpawnOptions::new().link(link).monitor(monitor.is_some());
        let header = self.header();
        match header.shared.spawn_with(process, &opts, Some(header)) {
            Ok(spawned) | Err(spawned) => spawned.0,
        }
    }

    /// Spawns with options, linked or monitored from this process.
    pub fn spawn_opts<P: Process>(
        &mut self,
        process: P,
        opts: &SpawnOptions,
    ) -> (Addr<P::Message>, Option<MonitorRef>) {
        let header = self.header();
        match header.shared.spawn_with(process, opts, Some(header)) {
            Ok(spawned) | Err(spawned) => spawned,
        }
    }

    /// A shorter-lived copy of this context, for behaviours that wrap it in
    /// their own context type.
    pub fn reborrow(&mut self) -> Context<'_, M> {
        Context {
            this: self.this,
            flags: self.flags,
        }
    }

    /// Links this process with `pid` (rules 18-20). Linking a process that
    /// does not exist fails with [`NoProc`] — unless this process traps
    /// exits, in which case it receives `EXIT(pid, noproc)` instead.
    pub fn link(&mut self, pid: Pid) -> Result<(), NoProc> {
        link::link(self.header(), pid)
    }

    /// Removes the link with `pid`, if any (rule 21). An `EXIT` already in
    /// the mailbox stays there.
    pub fn unlink(&mut self, pid: Pid) {
        link::unlink(self.header(), pid)
    }

    /// Monitors `pid` (rule 27); a pid that does not exist yields an
    /// immediate `Down` with reason `NoProc` (rule 28).
    pub fn monitor(&mut self, pid: Pid) -> MonitorRef {
        monitor::monitor(self.header(), pid)
    }

    /// Monitors the process registered as `name`, resolved now (rule 30).
    pub fn monitor_name(&mut self, name: &str) -> MonitorRef {
        let pid = self.header().shared.registry.whereis(name);
        self.monitor(pid.unwrap_or(Pid::ROOT))
    }

    /// Removes monitor `mref` (`erlang:demonitor/2` with `info`, rule 32).
    ///
    /// Returns `true` if the monitor was still active: it is removed before
    /// it fired, and no `Down` for it was or will ever be delivered.
    /// Returns `false` if it had already fired, was removed before, or is
    /// unknown. A monitor fires when its `Down` arrives in the mailbox; a
    /// `Down` that has arrived stays there and is handled by
    /// [`Process::handle_down`](crate::Process::handle_down) like any
    /// message. To drop it as well, use
    /// [`demonitor_flush`](Self::demonitor_flush).
    ///
    /// ```
    /// use rotp_runtime::{Context, Down, Process, Runtime};
    ///
    /// struct Watcher(std::sync::mpsc::Sender<Down>);
    /// impl Process for Watcher {
    ///     type Message = rotp_runtime::Pid;
    ///     fn handle(&mut self, target: rotp_runtime::Pid, ctx: &mut Context<'_, Self::Message>) {
    ///         // A target that does not exist fires at once (rule 28) ...
    ///         let mref = ctx.monitor(target);
    ///         // ... so the monitor is no longer active, and its Down stays.
    ///         assert!(!ctx.demonitor(mref));
    ///     }
    ///     fn handle_down(&mut self, down: Down, _ctx: &mut Context<'_, Self::Message>) {
    ///         self.0.send(down).unwrap();
    ///     }
    /// }
    ///
    /// let rt = Runtime::new().unwrap();
    /// let (tx, rx) = std::sync::mpsc::channel();
    /// let gone = rt.spawn_fn(|_: (), ctx| ctx.exit(rotp_runtime::ExitReason::Normal));
    /// gone.send(());
    /// rt.await_exit(&gone, None);
    /// rt.spawn(Watcher(tx)).send(gone.pid());
    /// assert_eq!(rx.recv().unwrap().reason, rotp_runtime::ExitReason::NoProc);
    /// ```
    pub fn demonitor(&mut self, mref: MonitorRef) -> bool {
        monitor::demonitor(self.header(), mref)
    }

    /// Removes monitor `mref` and, if it had already fired, its `Down` from
    /// the mailbox (`erlang:demonitor(Ref, [flush, info])`, rule 33): after
    /// this call no `Down` for `mref` is ever handled.
    ///
    /// Returns `true` if the monitor was still active (removed before it
    /// fired: there was nothing to flush), `false` if it was not — it had
    /// fired and its `Down`, if still queued, is gone now.
    pub fn demonitor_flush(&mut self, mref: MonitorRef) -> bool {
        let active = self.demonitor(mref);
        let is_down = |e: &Envelope<M>| matches!(e, Envelope::Down(d) if d.mref == mref);
        let in_batch = self.with_batch(|batch| {
            let found = batch.iter().position(is_down);
            found.is_some_and(|i| batch.remove(i).is_some())
        });
        if !in_batch {
            self.this
                .mailbox()
                .remove_first(&self.header().state, is_down);
        }
        active
    }

    /// Sends an exit signal with `reason` to `pid`, from this process
    /// (`exit/2`, rules 8-9). Use [`kill`](Self::kill) for the untrappable kill.
    pub fn send_exit(&self, pid: Pid, reason: ExitReason) {
        self.handle().send_exit_from(self.pid(), pid, reason)
    }

    /// Kills `pid` (rule 5).
    pub fn kill(&self, pid: Pid) {
        self.handle().kill(pid)
    }

    /// Registers this process under `name` (rule 35).
    pub fn register(&mut self, name: impl Into<Name>) -> Result<(), RegisterError> {
        self.handle().register(name, self.pid())
    }

    /// Sends `msg` to this process after `delay` (rule 38); see
    /// [`Handle::send_after`].
    pub fn send_after_self(&mut self, delay: Duration, msg: M) -> TimerRef {
        let timers = &self.header().shared.timers;
        let at = timers.now().saturating_add(delay);
        timers.send_to(self.addr(), self.header(), at, move |_| msg)
    }

    /// Starts a timer to this process: after `delay` it receives
    /// [`TimerFired`]`{ tref, msg }`, `tref` being the reference returned
    /// here (rule 42); see [`Handle::start_timer`].
    ///
    /// ```
    /// use std::time::Duration;
    /// use rotp_runtime::{testing::virtual_runtime, TimerFired};
    ///
    /// let rt = virtual_runtime(1);
    /// let (tx, rx) = std::sync::mpsc::channel();
    /// let p = rt.spawn_fn(move |fired: TimerFired<&str>, ctx| {
    ///     if fired.msg == "start" {
    ///         let tref = ctx.start_timer(Duration::from_secs(1), "tick");
    ///         tx.send(tref).unwrap();
    ///     } else {
    ///         tx.send(fired.tref).unwrap();
    ///     }
    /// });
    /// rt.start_timer(&p, Duration::ZERO, "start");
    /// rt.advance(Duration::ZERO);
    /// let armed = rx.recv().unwrap();
    /// rt.advance(Duration::from_secs(1));
    /// assert_eq!(rx.recv().unwrap(), armed);
    /// ```
    pub fn start_timer<T: Send + 'static>(&mut self, delay: Duration, msg: T) -> TimerRef
    where
        M: From<TimerFired<T>>,
    {
        let timers = &self.header().shared.timers;
        let at = timers.now().saturating_add(delay);
        timers.send_to(self.addr(), self.header(), at, move |tref| {
            M::from(TimerFired { tref, msg })
        })
    }

    /// Cancels a timer: the time it had left, or `None` if it already fired,
    /// was cancelled, or its process exited (rule 40); see
    /// [`Handle::cancel_timer`].
    pub fn cancel_timer(&mut self, tref: TimerRef) -> Option<Duration> {
        self.header().shared.timers.cancel(tref)
    }

    /// The time a timer has left, or `None` like
    /// [`cancel_timer`](Self::cancel_timer) (rule 41).
    pub fn read_timer(&self, tref: TimerRef) -> Option<Duration> {
        self.header().shared.timers.read(tref)
    }

    /// Releases spare memory held by the mailbox buffers (hibernation).
    pub fn shrink(&mut self) {
        // SAFETY: as in `with_batch`: this handler's thread holds the run
        // right.
        unsafe {
            self.this
                .mailbox()
                .shrink(&self.header().state, self.this.batch())
        };
    }

    /// Sets how long this process waits for its next mailbox entry before
    /// [`Process::handle_timeout`](crate::Process::handle_timeout) runs —
    /// Erlang's `receive ... after T` — or clears it (`None`). It takes
    /// effect when the current handler returns and stays until changed; a
    /// timer already running is cancelled. The wait is measured on the
    /// runtime clock, so a virtual clock drives it in tests.
    ///
    /// ```
    /// use std::time::Duration;
    /// use rotp_runtime::{Context, Process};
    ///
    /// /// Exits after a minute without work.
    /// struct Worker;
    ///
    /// impl Process for Worker {
    ///     type Message = u64;
    ///     fn init(&mut self, ctx: &mut Context<'_, u64>) {
    ///         ctx.set_receive_timeout(Some(Duration::from_secs(60)));
    ///     }
    ///     fn handle(&mut self, job: u64, _ctx: &mut Context<'_, u64>) {
    ///         let _ = job;
    ///     }
    ///     fn handle_timeout(&mut self, ctx: &mut Context<'_, u64>) {
    ///         ctx.exit(rotp_runtime::ExitReason::Normal);
    ///     }
    /// }
    ///
    /// let rt = rotp_runtime::testing::virtual_runtime(1);
    /// let worker = rt.spawn(Worker);
    /// worker.send(1);
    /// rt.advance(Duration::from_secs(59));
    /// assert!(worker.is_alive());
    /// rt.advance(Duration::from_secs(1));
    /// assert_eq!(worker.await_exit(None), Some(rotp_runtime::ExitReason::Normal));
    /// ```
    pub fn set_receive_timeout(&mut self, timeout: Option<Duration>) {
        self.flags.receive_timeout = Some(timeout);
        self.flags.requested = true;
    }

    /// Emits `report` as the report of this process's own exit, which its
    /// behaviour writes because it knows more than the runtime does (a
    /// gen_server's termination report names its state): when the process
    /// then exits abnormally with nobody observing it, the runtime writes no
    /// crash report of its own ([`ReportKind::Crash`](crate::ReportKind::Crash)),
    /// so one crash is one report. Call it in the handler that ends the
    /// process ([`exit`](Self::exit), or [`Process::handle_panic`](crate::Process::handle_panic)),
    /// just before the exit.
    pub fn report_exit(&mut self, report: &crate::Report) {
        self.flags.exit_reported = true;
        report.emit();
    }

    /// Entries waiting to be handled.
    pub fn mailbox_len(&self) -> usize {
        // The runner's own published count is exact.
        self.this.batch().len() + self.this.mailbox().len(&self.header().state)
    }
}

impl<M> fmt::Debug for Context<'_, M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Context")
            .field("pid", &self.this.header().pid)
            .finish_non_exhaustive()
    }
}
