//! What a gen_server callback can do.

use std::fmt;
use std::time::Duration;

use rotp_runtime::{Context, ExitReason, Handle, MonitorRef, NoProc, Pid, TimerRef};

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
    /// (`Process.send_after(self(), msg, delay)`).
    pub fn send_after(&mut self, delay: Duration, msg: G::Info) -> TimerRef {
        let me = self.raw.addr();
        self.raw
            .handle()
            .send_after(&me, delay, ServerMsg::Info(msg))
    }

    /// Casts `msg` to this server after `delay`.
    pub fn cast_after(&mut self, delay: Duration, msg: G::Cast) -> TimerRef {
        let me = self.raw.addr();
        self.raw
            .handle()
            .send_after(&me, delay, ServerMsg::Cast(msg))
    }

    /// Cancels a timer; the time it had left, or `None` (rule 40).
    pub fn cancel_timer(&mut self, timer: TimerRef) -> Option<Duration> {
        self.raw.handle().cancel_timer(timer)
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
