//! What a gen_server callback can do.

use std::fmt;
use std::time::Duration;

use rotp_runtime::{Context, ExitReason, Handle, MonitorRef, NoProc, Pid, TimerFired, TimerRef};

use crate::behaviour::GenServer;
use crate::client::ServerRef;
use crate::server::{Core, ServerMsg};

/// The context of a gen_server callback: the server's own process.
///
/// Links, monitors and exit signals act as the server; timers set here
/// deliver to the server's `handle_info`.
pub struct Ctx<'a, G: GenServer> {
    pub(crate) raw: Context<'a, ServerMsg<G>>,
    pub(crate) core: &'a mut Core,
}

impl<'a, G: GenServer> Ctx<'a, G> {
    /// The server's pid.
    pub fn pid(&self) -> Pid {
        self.raw.pid()
    }

    /// The server's parent: the process that started it with `start_link`
    /// or `start_monitor`, or the server itself after a plain `start`
    /// (rule 57). [`Pid::ROOT`] when started from outside any process.
    pub fn parent(&self) -> Pid {
        self.core.parent
    }

    /// A handle on this server, to give to others.
    pub fn server_ref(&self) -> ServerRef<G> {
        ServerRef::from_addr(self.raw.addr())
    }

    /// The runtime.
    pub fn handle(&self) -> Handle {
        self.raw.handle()
    }

    /// Delivers `Info::Msg(msg)` to this server after `delay`
    /// (`Process.send_after(self(), msg, delay)`, rule 38). The timer dies
    /// with the server (rule 39).
    ///
    /// ```
    /// use std::time::Duration;
    /// use rotp_gen_server::{gen_server, noreply, start, Ctx, GenServer, Handled, Info, Init, InitResult, ReplyTo, StartOptions};
    ///
    /// /// Counts ticks, one a second, from its own timer.
    /// struct Ticker(u32);
    ///
    /// #[gen_server]
    /// impl GenServer for Ticker {
    ///     fn init((): (), ctx: &mut Ctx<'_, Self>) -> InitResult<Self> {
    ///         ctx.send_after(Duration::from_secs(1), ());
    ///         Init::ok(Ticker(0))
    ///     }
    ///     fn handle_info(&mut self, _tick: Info<()>, ctx: &mut Ctx<'_, Self>) -> Handled<Self> {
    ///         self.0 += 1;
    ///         ctx.send_after(Duration::from_secs(1), ());
    ///         noreply()
    ///     }
    ///     fn handle_call(&mut self, r: ReplyTo<u32>, _ctx: &mut Ctx<'_, Self>) -> Handled<Self> {
    ///         r.reply(self.0)
    ///     }
    /// }
    ///
    /// let rt = rotp_runtime::testing::virtual_runtime(1);
    /// let ticker = start::<Ticker>(&rt, (), StartOptions::new()).unwrap();
    /// rt.advance(Duration::from_secs(3));
    /// assert_eq!(ticker.call(|r| r).unwrap(), 3);
    /// ```
    pub fn send_after(&mut self, delay: Duration, msg: G::Info) -> TimerRef {
        self.raw.send_after_self(delay, ServerMsg::Info(msg))
    }

    /// Casts `msg` to this server after `delay`.
    pub fn cast_after(&mut self, delay: Duration, msg: G::Cast) -> TimerRef {
        self.raw.send_after_self(delay, ServerMsg::Cast(msg))
    }

    /// Delivers `Info::Msg(msg.clone())` to this server every `period`, at
    /// absolute deadlines so that the ticks do not drift (`:timer.send_interval`,
    /// rule 44), until the timer is cancelled or the server exits (rule 45).
    ///
    /// ```
    /// use std::time::Duration;
    /// use rotp_gen_server::{gen_server, noreply, start, Ctx, GenServer, Handled, Info, Init, InitResult, ReplyTo, StartOptions};
    ///
    /// /// Collects a metric every 10 s.
    /// struct Metrics(Vec<usize>);
    ///
    /// #[derive(Clone)]
    /// struct Collect;
    ///
    /// #[gen_server]
    /// impl GenServer for Metrics {
    ///     fn init((): (), ctx: &mut Ctx<'_, Self>) -> InitResult<Self> {
    ///         ctx.send_interval(Duration::from_secs(10), Collect);
    ///         Init::ok(Metrics(Vec::new()))
    ///     }
    ///     fn handle_info(&mut self, _: Info<Collect>, ctx: &mut Ctx<'_, Self>) -> Handled<Self> {
    ///         self.0.push(ctx.mailbox_len());
    ///         noreply()
    ///     }
    ///     fn handle_call(&mut self, r: ReplyTo<usize>, _ctx: &mut Ctx<'_, Self>) -> Handled<Self> {
    ///         r.reply(self.0.len())
    ///     }
    /// }
    ///
    /// let rt = rotp_runtime::testing::virtual_runtime(1);
    /// let metrics = start::<Metrics>(&rt, (), StartOptions::new()).unwrap();
    /// rt.advance(Duration::from_secs(30));
    /// assert_eq!(metrics.call(|r| r).unwrap(), 3);
    /// ```
    pub fn send_interval(&mut self, period: Duration, msg: G::Info) -> TimerRef
    where
        G::Info: Clone + Sync,
    {
        let me = self.raw.addr();
        self.raw
            .handle()
            .send_interval_with(&me, period, move || ServerMsg::Info(msg.clone()))
    }

    /// Starts a timer to this server: after `delay`, `handle_info` gets
    /// `Info::Msg` of a [`TimerFired`]`{ tref, msg }`, `tref` being the
    /// reference returned here (`erlang:start_timer`, rule 42), so a
    /// server can tell a stale timer from the current one. The server's
    /// `Info` type takes it through `From`.
    ///
    /// ```
    /// use std::time::Duration;
    /// use rotp_gen_server::{gen_server, noreply, start, Ctx, GenServer, Handled, Info, Init, InitResult, ReplyTo, StartOptions};
    /// use rotp_runtime::{TimerFired, TimerRef};
    ///
    /// /// Fires once, ignoring any timer but the latest.
    /// struct Debounce { current: Option<TimerRef>, fired: u32 }
    ///
    /// struct Fired(TimerRef);
    /// impl From<TimerFired<()>> for Fired {
    ///     fn from(f: TimerFired<()>) -> Self { Fired(f.tref) }
    /// }
    ///
    /// #[gen_server]
    /// impl GenServer for Debounce {
    ///     fn init((): (), _ctx: &mut Ctx<'_, Self>) -> InitResult<Self> {
    ///         Init::ok(Debounce { current: None, fired: 0 })
    ///     }
    ///     fn handle_cast(&mut self, (): (), ctx: &mut Ctx<'_, Self>) -> Handled<Self> {
    ///         if let Some(old) = self.current.take() {
    ///             ctx.cancel_timer(old);
    ///         }
    ///         self.current = Some(ctx.start_timer(Duration::from_secs(1), ()));
    ///         noreply()
    ///     }
    ///     fn handle_info(&mut self, info: Info<Fired>, _ctx: &mut Ctx<'_, Self>) -> Handled<Self> {
    ///         if let Info::Msg(Fired(tref)) = info {
    ///             if self.current == Some(tref) {
    ///                 self.fired += 1;
    ///             }
    ///         }
    ///         noreply()
    ///     }
    ///     fn handle_call(&mut self, r: ReplyTo<u32>, _ctx: &mut Ctx<'_, Self>) -> Handled<Self> {
    ///         r.reply(self.fired)
    ///     }
    /// }
    ///
    /// let rt = rotp_runtime::testing::virtual_runtime(1);
    /// let d = start::<Debounce>(&rt, (), StartOptions::new()).unwrap();
    /// d.cast(());
    /// d.cast(());
    /// rt.advance(Duration::from_secs(2));
    /// assert_eq!(d.call(|r| r).unwrap(), 1);
    /// ```
    pub fn start_timer<T: Send + 'static>(&mut self, delay: Duration, msg: T) -> TimerRef
    where
        G::Info: From<TimerFired<T>>,
    {
        let me = self.raw.addr();
        self.raw
            .handle()
            .start_timer::<T, ServerMsg<G>>(&me, delay, msg)
    }

    /// Cancels a timer: the time it had left, or `None` if it already
    /// fired, was cancelled, or its process exited (rule 40).
    pub fn cancel_timer(&mut self, timer: TimerRef) -> Option<Duration> {
        self.raw.cancel_timer(timer)
    }

    /// The time a timer has left, or `None` like
    /// [`cancel_timer`](Self::cancel_timer) (rule 41).
    pub fn read_timer(&self, timer: TimerRef) -> Option<Duration> {
        self.raw.read_timer(timer)
    }

    /// Sets `trap_exit`; returns the previous value. A trapping server
    /// receives EXITs from linked processes as `Info::Exit`, and runs
    /// `terminate` when its parent exits (rules 85, 87).
    pub fn trap_exit(&mut self, on: bool) -> bool {
        self.raw.trap_exit(on)
    }

    /// Links the server with `pid` (rules 18-20).
    pub fn link(&mut self, pid: Pid) -> Result<(), NoProc> {
        self.raw.link(pid)
    }

    /// Removes a link (rule 21).
    pub fn unlink(&mut self, pid: Pid) {
        self.raw.unlink(pid)
    }

    /// Monitors `pid`; its exit arrives as `Info::Down` (rule 27).
    pub fn monitor(&mut self, pid: Pid) -> MonitorRef {
        self.raw.monitor(pid)
    }

    /// Removes a monitor (rule 32: a `DOWN` that has already arrived is
    /// not touched). Returns `true` if the monitor was still active — it is
    /// removed, and no `Info::Down` for it will ever come; `false` if it had
    /// fired (or was removed before): its `Info::Down`, if not handled yet,
    /// is still queued and `handle_info` gets it. To drop that too, use
    /// [`demonitor_flush`](Self::demonitor_flush).
    pub fn demonitor(&mut self, mref: MonitorRef) -> bool {
        self.raw.demonitor(mref)
    }

    /// Removes a monitor and any `Down` for it already queued (rule 33: the
    /// flush option): after it, no `Info::Down` for `mref` is handled.
    /// Returns `true` if the monitor was still active (nothing to flush),
    /// `false` if it had fired.
    pub fn demonitor_flush(&mut self, mref: MonitorRef) -> bool {
        self.raw.demonitor_flush(mref)
    }

    /// Sends an exit signal from the server to `pid` (rules 8-9).
    pub fn send_exit(&self, pid: Pid, reason: ExitReason) {
        self.raw.send_exit(pid, reason)
    }

    /// Charges extra reductions for heavy work (see `docs/scheduling.md`).
    pub fn consume(&mut self, reductions: u32) {
        self.raw.consume(reductions)
    }

    /// Whether the server has been told to exit (a kill, or an exit signal
    /// it does not trap): a long callback may return early.
    pub fn is_exiting(&self) -> bool {
        self.raw.is_exiting()
    }

    /// Messages waiting in the server's mailbox.
    pub fn mailbox_len(&self) -> usize {
        self.raw.mailbox_len()
    }
}

impl<G: GenServer> fmt::Debug for Ctx<'_, G> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Ctx").field("pid", &self.pid()).finish()
    }
}
