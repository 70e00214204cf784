//! The server loop: a runtime process that drives a [`GenServer`].
//!
//! Every mailbox entry is one [`ServerMsg`]. A panic in a callback unwinds
//! to the runtime, which catches it once per slice and calls the process's
//! `handle_panic` hook: `terminate` then runs with the panic as the reason
//! before the process exits (rule 77, R2). (A `catch_panic` around every
//! callback cost a fifth of a cast.) After each callback
//! the returned [`Next`] is applied: an inactivity timer is armed (a runtime
//! timer carrying a generation number, so that a timer which fires after
//! newer messages arrived is recognised as stale and ignored), the mailbox
//! buffers are shrunk (hibernate), or `handle_continue` runs at once.
//!
//! An event timeout (rule 81) is the inactivity timer with a payload: the
//! message waits in `ServerProcess::event_msg` while the timer (or a
//! pending zero timeout) is armed, and goes to `handle_info` instead of
//! `Info::Timeout` when it fires; activity drops it with the timer. The
//! mailbox entry stays `ServerMsg::Timeout`, so servers that never use
//! event timeouts pay nothing for them.

use std::collections::VecDeque;
use std::time::Duration;

use rotp_runtime::telemetry::{HandlerKind, HandlerSpan};
use rotp_runtime::{
    catch_panic, Context, Down, ExitReason, Overflow, Pid, Process, ProcessKind, ReplySender,
    SystemReply, SystemRequest, SystemStatus, TimerRef,
};

use crate::behaviour::{GenServer, Info};
use crate::context::Ctx;
use crate::enter::{EnterFn, EnterKind, EnterOptions};
use crate::error::StartError;
use crate::name::{ServerName, ViaError};
use crate::results::{Action, Deadline, Handled, InitKind};
use crate::sys::{Statistics, SystemOp};

/// Timeouts this long or longer are never armed: they wait forever (a
/// century on the runtime clock, which starts at zero, cannot overflow).
const NEVER: Duration = Duration::from_secs(100 * 365 * 24 * 60 * 60);

/// One mailbox entry of a server.
pub(crate) enum ServerMsg<G: GenServer> {
    /// A request; its reply port travels inside it.
    Call(G::Call),
    Cast(G::Cast),
    Info(G::Info),
    /// The inactivity timer of the given generation fired.
    Timeout(u64),
    /// The `hibernate_after` timer of the given generation fired.
    Hibernate(u64),
    /// `stop(reason)`: terminate and exit with `reason` (rule 93).
    Stop(Box<ExitReason>),
    /// A `sys` request: served without touching the inactivity timer.
    System(Box<SystemOp<G>>),
    /// Runs the step deferred from a caller's slice, if nothing ran it
    /// first (see `ServerProcess::deferred`).
    Resume,
}

/// A timer started with [`Ctx::start_timer`](crate::Ctx::start_timer)
/// reaches `handle_info` as the server's own `Info`.
impl<G: GenServer, T> From<rotp_runtime::TimerFired<T>> for ServerMsg<G>
where
    G::Info: From<rotp_runtime::TimerFired<T>>,
{
    fn from(fired: rotp_runtime::TimerFired<T>) -> Self {
        ServerMsg::Info(G::Info::from(fired))
    }
}

/// The server's bookkeeping besides the user state.
pub(crate) struct Core {
    pub(crate) parent: Pid,
    pub(crate) name: Option<ServerName>,
    /// The armed inactivity or hibernate_after timer.
    timer: Option<TimerRef>,
    /// Bumped by every message that counts as activity; a timer message
    /// carrying an older generation is stale.
    generation: u64,
    /// A zero timeout returned while entries were queued (rule 79): it
    /// fires once only system requests and stale timers were served, and
    /// is discarded by any activity.
    zero_timeout: bool,
    pub(crate) hibernate_after: Option<Duration>,
    pub(crate) stats: Statistics,
    pub(crate) trace: bool,
    pub(crate) suspended: bool,
    /// The process's mailbox limit, which also bounds what it holds while
    /// suspended (see `ServerProcess::hold`).
    mailbox_limit: Option<(u32, Overflow)>,
    /// `terminate` has run: no callback runs after it.
    stopped: bool,
}

/// What `start` hands to the new process.
pub(crate) struct Start<G: GenServer> {
    pub(crate) args: G::Args,
    pub(crate) ack: ReplySender<Result<(), StartError>>,
    /// The parent records a link (start_link): unlink before a quiet exit.
    pub(crate) linked: bool,
    /// The parent (rule 57); `None` after a plain `start`: the server is
    /// its own parent.
    pub(crate) parent: Option<Pid>,
}

/// How a server process begins.
enum Boot<G: GenServer> {
    /// `start`: `init` behind the start handshake.
    Start(Start<G>),
    /// `spawn_enter`: the user's body, then `enter_loop` (rule 101).
    Enter(EnterFn<G>),
}

pub(crate) struct ServerProcess<G: GenServer> {
    state: Option<G>,
    boot: Option<Boot<G>>,
    core: Core,
    /// The message of the armed event timeout (rule 81), if the armed
    /// timeout is one.
    event_msg: Option<G::Info>,
    /// Messages and events held while suspended.
    held: VecDeque<Step<G>>,
    /// How many of `held` are messages (the rest are EXITs and DOWNs,
    /// signals, which a mailbox limit does not count).
    held_msgs: usize,
    /// A step to run at once — a continue, a zero timeout — returned while
    /// a caller waited on this thread for the reply (`Context::
    /// caller_waits`): running it there would hold the caller up until it
    /// finished, when OTP's caller has its reply and goes on. It runs
    /// instead before the next entry of any kind, in a slice of its own
    /// that a `Resume` sent to self guarantees (rule 83).
    deferred: Option<Step<G>>,
}

/// What to run next in the loop of one mailbox entry.
enum Step<G: GenServer> {
    Msg(ServerMsg<G>),
    Info(Info<G::Info>),
    Continue(G::Continue),
}

impl<G: GenServer> ServerProcess<G> {
    pub(crate) fn new(
        start: Start<G>,
        name: Option<ServerName>,
        hibernate_after: Option<Duration>,
        mailbox_limit: Option<(u32, Overflow)>,
    ) -> Self {
        ServerProcess::with_boot(Boot::Start(start), name, hibernate_after, mailbox_limit)
    }

    /// A process that runs `body`, then enters the loop (rule 101).
    pub(crate) fn entering(body: EnterFn<G>, mailbox_limit: Option<(u32, Overflow)>) -> Self {
        ServerProcess::with_boot(Boot::Enter(body), None, None, mailbox_limit)
    }

    fn with_boot(
        boot: Boot<G>,
        name: Option<ServerName>,
        hibernate_after: Option<Duration>,
        mailbox_limit: Option<(u32, Overflow)>,
    ) -> Self {
        ServerProcess {
            state: None,
            boot: Some(boot),
            core: Core {
                parent: Pid::ROOT,
                name,
                timer: None,
                generation: 0,
                zero_timeout: false,
                hibernate_after,
                stats: Statistics::default(),
                trace: false,
                suspended: false,
                mailbox_limit,
                stopped: false,
            },
            event_msg: None,
            held: VecDeque::new(),
            held_msgs: 0,
            deferred: None,
        }
    }

    fn name_for_logs(&self, pid: Pid) -> String {
        match &self.core.name {
            Some(name) => format!("{name} ({pid})"),
            None => pid.to_string(),
        }
    }

    /// Runs one step, then the continues and zero timeouts it asks for.
    #[inline(never)]
    fn run(&mut self, first: Step<G>, ctx: &mut Context<'_, ServerMsg<G>>) {
        let mut step = Some(first);
        while let Some(current) = step.take() {
            if self.core.trace {
                log::debug!("{}: {}", self.name_for_logs(ctx.pid()), describe(&current));
            }
            let handled = match current {
                Step::Msg(msg) => self.callback(msg, ctx),
                Step::Info(info) => self.info_callback(info, ctx),
                Step::Continue(c) => self.continue_callback(c, ctx),
            };
            step = self.after_callback(handled, ctx);
        }
    }

    /// [`run`](Self::run) for a call, cast or info straight from the
    /// mailbox: the entry goes to its callback without first becoming a
    /// `Step`, and only what the callback asks to run at once goes through
    /// `run`. Built into a `Step` and moved through the loop, the entry was
    /// written to the stack in pieces and read back whole: a
    /// store-forwarding stall per message, a fifth of a cast's cost on the
    /// server.
    #[inline(always)]
    fn run_message(&mut self, msg: ServerMsg<G>, ctx: &mut Context<'_, ServerMsg<G>>) {
        if self.core.trace {
            log::debug!("{}: {}", self.name_for_logs(ctx.pid()), describe_msg(&msg));
        }
        let handled = self.callback(msg, ctx);
        if let Some(step) = self.after_callback(handled, ctx) {
            self.run(step, ctx);
        }
    }

    /// Runs the callback of a call, cast or info; `None` once the server
    /// has terminated (no callback runs after `terminate`).
    #[inline(always)]
    fn callback(
        &mut self,
        msg: ServerMsg<G>,
        ctx: &mut Context<'_, ServerMsg<G>>,
    ) -> Option<Handled<G>> {
        let state = self.state.as_mut()?;
        let mut gctx = Ctx {
            raw: ctx.reborrow(),
            core: &mut self.core,
        };
        // Each callback is timed for telemetry: with no handler attached, a
        // span costs one relaxed load (the pid is read only for an event).
        let module = std::any::type_name::<G>();
        Some(match msg {
            ServerMsg::Call(request) => {
                gctx.core.stats.calls += 1;
                let span =
                    HandlerSpan::start(HandlerKind::Call, || gctx.raw.pid(), module, &request);
                let handled = state.handle_call(request, &mut gctx);
                span.finish();
                handled
            }
            ServerMsg::Cast(msg) => {
                gctx.core.stats.casts += 1;
                let span = HandlerSpan::start(HandlerKind::Cast, || gctx.raw.pid(), module, &());
                let handled = state.handle_cast(msg, &mut gctx);
                span.finish();
                handled
            }
            ServerMsg::Info(msg) => {
                gctx.core.stats.infos += 1;
                let span = HandlerSpan::start(HandlerKind::Info, || gctx.raw.pid(), module, &());
                let handled = state.handle_info(Info::Msg(msg), &mut gctx);
                span.finish();
                handled
            }
            _ => crate::results::noreply(),
        })
    }

    /// Runs `handle_info` with a timeout or another runtime-made info.
    fn info_callback(
        &mut self,
        info: Info<G::Info>,
        ctx: &mut Context<'_, ServerMsg<G>>,
    ) -> Option<Handled<G>> {
        let state = self.state.as_mut()?;
        let mut gctx = Ctx {
            raw: ctx.reborrow(),
            core: &mut self.core,
        };
        gctx.core.stats.infos += 1;
        let module = std::any::type_name::<G>();
        let span = HandlerSpan::start(HandlerKind::Info, || gctx.raw.pid(), module, &());
        let handled = state.handle_info(info, &mut gctx);
        span.finish();
        Some(handled)
    }

    /// Runs `handle_continue`.
    fn continue_callback(
        &mut self,
        c: G::Continue,
        ctx: &mut Context<'_, ServerMsg<G>>,
    ) -> Option<Handled<G>> {
        let state = self.state.as_mut()?;
        let mut gctx = Ctx {
            raw: ctx.reborrow(),
            core: &mut self.core,
        };
        Some(state.handle_continue(c, &mut gctx))
    }

    /// What a callback's result comes to: the step to run at once, if any,
    /// or the server's end.
    #[inline(always)]
    fn after_callback(
        &mut self,
        handled: Option<Handled<G>>,
        ctx: &mut Context<'_, ServerMsg<G>>,
    ) -> Option<Step<G>> {
        match handled? {
            Ok(next) => self.apply(next.action, ctx),
            Err(stop) => {
                let (reason, reply) = stop.into_parts();
                self.terminate(reason, reply, ctx);
                None
            }
        }
    }

    /// Applies a callback's `Next`; returns a step to run at once, if any
    /// and if no caller waits on this thread (else it is deferred).
    fn apply(
        &mut self,
        next: Action<G::Continue, G::Info>,
        ctx: &mut Context<'_, ServerMsg<G>>,
    ) -> Option<Step<G>> {
        let step = self.apply_next(next, ctx)?;
        self.at_once(step, ctx)
    }

    /// `step`, to run now; or, in a slice run on a waiting caller's thread,
    /// `None`: the step is deferred to a slice of its own (see
    /// `deferred`).
    fn at_once(&mut self, step: Step<G>, ctx: &mut Context<'_, ServerMsg<G>>) -> Option<Step<G>> {
        if !ctx.caller_waits() {
            return Some(step);
        }
        self.deferred = Some(step);
        ctx.addr().send(ServerMsg::Resume);
        None
    }

    /// Runs the deferred step before the entry at hand; false if the step
    /// stopped the server.
    #[cold]
    fn run_deferred(&mut self, ctx: &mut Context<'_, ServerMsg<G>>) -> bool {
        if let Some(step) = self.deferred.take() {
            self.run(step, ctx);
        }
        !self.core.stopped
    }

    /// Applies a callback's `Next`; returns a step to run at once, if any.
    fn apply_next(
        &mut self,
        next: Action<G::Continue, G::Info>,
        ctx: &mut Context<'_, ServerMsg<G>>,
    ) -> Option<Step<G>> {
        match next {
            Action::Continue(c) => return Some(Step::Continue(c)),
            Action::Timeout(after) if after.is_zero() => return self.zero(ctx),
            Action::Timeout(after) => self.arm(ctx, after, ServerMsg::Timeout),
            Action::Hibernate => ctx.shrink(),
            Action::Wait => {
                if let Some(after) = self.core.hibernate_after {
                    self.arm(ctx, after, ServerMsg::Hibernate);
                }
            }
            Action::EventTimeout(timeout) => return self.event_timeout(timeout, ctx),
        }
        None
    }

    /// A zero timeout (rule 79), plain or with the event message already
    /// in `event_msg`: fires at once only if nothing is queued; else after
    /// what is queued, unless that includes a message.
    fn zero(&mut self, ctx: &mut Context<'_, ServerMsg<G>>) -> Option<Step<G>> {
        if ctx.mailbox_len() == 0 {
            return Some(Step::Info(self.timeout_info()));
        }
        self.core.zero_timeout = true;
        None
    }

    /// Arms an event timeout (rule 81).
    #[cold]
    fn event_timeout(
        &mut self,
        timeout: crate::results::EventTimeout<G::Info>,
        ctx: &mut Context<'_, ServerMsg<G>>,
    ) -> Option<Step<G>> {
        let (deadline, msg, hibernate) = timeout.into_parts();
        if hibernate {
            ctx.shrink();
        }
        let after = match deadline {
            // Unlike a plain zero timeout, the message goes first, ahead
            // of what is queued.
            Deadline::After(after) if after.is_zero() => return Some(Step::Info(Info::Msg(msg))),
            Deadline::After(after) => after,
            Deadline::At(at) => at.saturating_sub(ctx.handle().now()),
        };
        if after >= NEVER {
            return None;
        }
        self.event_msg = Some(msg);
        if after.is_zero() {
            // An absolute deadline already passed: as a timer that has
            // just fired, behind what is queued.
            return self.zero(ctx);
        }
        self.arm(ctx, after, ServerMsg::Timeout);
        None
    }

    /// What an expiring timeout hands to `handle_info`: the event
    /// timeout's message, or the plain `Timeout`.
    fn timeout_info(&mut self) -> Info<G::Info> {
        match self.event_msg.take() {
            Some(msg) => Info::Msg(msg),
            None => Info::Timeout,
        }
    }

    fn arm(
        &mut self,
        ctx: &mut Context<'_, ServerMsg<G>>,
        after: Duration,
        msg: fn(u64) -> ServerMsg<G>,
    ) {
        if after >= NEVER {
            // Waits forever, like OTP's `infinity`, rather than overflowing
            // the timer's clock arithmetic.
            return;
        }
        let me = ctx.addr();
        let timer = ctx
            .handle()
            .send_after(&me, after, msg(self.core.generation));
        self.core.timer = Some(timer);
    }

    /// Any message but a system request counts as activity: it cancels the
    /// pending timeout (rules 78, 80).
    fn activity(&mut self, ctx: &mut Context<'_, ServerMsg<G>>) {
        self.core.generation += 1;
        self.core.zero_timeout = false;
        if let Some(timer) = self.core.timer.take() {
            ctx.handle().cancel_timer(timer);
        }
        self.event_msg = None;
    }

    /// Runs `terminate`, sends a pending reply, exits (rules 74, 77, 90).
    fn terminate(
        &mut self,
        reason: ExitReason,
        reply: Option<Box<dyn FnOnce() + Send>>,
        ctx: &mut Context<'_, ServerMsg<G>>,
    ) {
        self.activity(ctx);
        self.core.stopped = true;
        let mut reason = reason;
        if let Some(state) = self.state.as_mut() {
            let mut gctx = Ctx {
                raw: ctx.reborrow(),
                core: &mut self.core,
            };
            if let Err(crash) = catch_panic(|| state.terminate(&reason, &mut gctx)) {
                crate::report::terminate_crash(ctx.pid(), self.core.name.as_ref(), &crash);
                reason = crash;
            }
        }
        if let Some(reply) = reply {
            reply();
        }
        if !reason.is_normal_class() {
            // Rule 92: the error report names the server, its state and the
            // reason.
            crate::report::terminating(ctx, self.core.name.as_ref(), &reason, &self.state);
        }
        ctx.exit(reason);
    }

    fn serve_system(&mut self, op: SystemOp<G>, ctx: &mut Context<'_, ServerMsg<G>>) {
        crate::sys::serve(op, &mut self.state, &mut self.core, ctx.pid());
        // After a resume, what arrived while suspended runs first, in order.
        while !self.core.suspended
            && !self.core.stopped
            && self.state.is_some()
            && !ctx.is_exiting()
        {
            let Some(step) = self.held.pop_front() else {
                break;
            };
            match step {
                Step::Msg(msg) => {
                    self.held_msgs -= 1;
                    self.message(msg, ctx)
                }
                step => {
                    self.activity(ctx);
                    self.run(step, ctx);
                }
            }
        }
    }

    /// Sets a message aside while suspended; it runs after `resume`, in
    /// order.
    ///
    /// In OTP the message would wait in the mailbox. Here the server has
    /// taken it out of the runtime's mailbox, so a bounded server counts
    /// what it holds against its limit itself: past the limit a message
    /// meets the limit's policy here rather than at its sender, who was
    /// told it was delivered — `Exit` ends the server with
    /// `mailbox_overflow` (no `terminate`, as for a full mailbox), `Drop`
    /// drops it, and `Reject`, which can no longer hand it back, drops it
    /// with a warning. `sys` requests and `stop` are never held, so a full
    /// suspended server can still be inspected, resumed and stopped.
    fn hold(&mut self, msg: ServerMsg<G>, ctx: &mut Context<'_, ServerMsg<G>>) {
        if let Some((limit, overflow)) = self.core.mailbox_limit {
            if self.held_msgs >= limit as usize {
                match overflow {
                    Overflow::Exit => ctx.exit(ExitReason::custom("mailbox_overflow")),
                    Overflow::Drop => {}
                    _ => {
                        let what = match msg {
                            ServerMsg::Call(_) => "call",
                            ServerMsg::Cast(_) => "cast",
                            ServerMsg::Info(_) => "message",
                            _ => "timeout",
                        };
                        crate::report::held_dropped(
                            ctx.pid(),
                            self.core.name.as_ref(),
                            limit,
                            what,
                        );
                    }
                }
                return;
            }
        }
        self.held_msgs += 1;
        self.held.push_back(Step::Msg(msg));
    }

    /// Fires a pending zero timeout once the mailbox is empty (rules 79,
    /// 80): called after entries that are not activity.
    fn zero_timeout(&mut self, ctx: &mut Context<'_, ServerMsg<G>>) {
        let idle = !self.core.suspended && self.state.is_some() && !ctx.is_exiting();
        if self.core.zero_timeout && idle && ctx.mailbox_len() == 0 {
            self.core.zero_timeout = false;
            let info = self.timeout_info();
            if let Some(step) = self.at_once(Step::Info(info), ctx) {
                self.run(step, ctx);
            }
        }
    }

    fn message(&mut self, msg: ServerMsg<G>, ctx: &mut Context<'_, ServerMsg<G>>) {
        if self.deferred.is_some() && !self.run_deferred(ctx) {
            return;
        }
        match msg {
            // What it asks for ran above, or before an earlier entry.
            ServerMsg::Resume => {}
            ServerMsg::System(op) => {
                self.serve_system(*op, ctx);
                self.zero_timeout(ctx);
            }
            // Like `sys:terminate`, a stop is served even when suspended.
            ServerMsg::Stop(reason) => self.terminate(*reason, None, ctx),
            msg if self.core.suspended => self.hold(msg, ctx),
            ServerMsg::Timeout(generation) => {
                if generation == self.core.generation && self.core.timer.take().is_some() {
                    let info = self.timeout_info();
                    self.run(Step::Info(info), ctx);
                } else {
                    self.zero_timeout(ctx);
                }
            }
            ServerMsg::Hibernate(generation) => {
                if generation == self.core.generation && self.core.timer.take().is_some() {
                    ctx.shrink();
                } else {
                    self.zero_timeout(ctx);
                }
            }
            msg => {
                self.activity(ctx);
                self.run_message(msg, ctx);
            }
        }
    }
}

fn describe<G: GenServer>(step: &Step<G>) -> &'static str {
    match step {
        Step::Msg(msg) => describe_msg(msg),
        Step::Info(Info::Timeout) => "timeout",
        Step::Info(_) => "info",
        Step::Continue(_) => "continue",
    }
}

fn describe_msg<G: GenServer>(msg: &ServerMsg<G>) -> &'static str {
    match msg {
        ServerMsg::Call(..) => "call",
        ServerMsg::Cast(_) => "cast",
        ServerMsg::Info(_) => "info",
        ServerMsg::Stop(_) => "stop",
        _ => "system",
    }
}

impl<G: GenServer> Process for ServerProcess<G> {
    type Message = ServerMsg<G>;

    fn kind() -> ProcessKind {
        ProcessKind::new("gen_server", std::any::type_name::<G>())
    }

    /// The runtime's system requests (the observer's status, suspend and
    /// resume), served like `sys` requests: without touching the inactivity
    /// timeout.
    fn system(
        &mut self,
        request: SystemRequest,
        ctx: &mut Context<'_, ServerMsg<G>>,
    ) -> SystemReply {
        match request {
            SystemRequest::Status => SystemReply::Status(
                SystemStatus::new("gen_server")
                    .state(crate::sys::shown_state(&self.state))
                    .suspended(self.core.suspended)
                    .detail("calls", self.core.stats.calls)
                    .detail("casts", self.core.stats.casts)
                    .detail("infos", self.core.stats.infos),
            ),
            SystemRequest::Suspend => {
                self.core.suspended = true;
                SystemReply::Done
            }
            SystemRequest::Resume => {
                let (done, _) = rotp_runtime::reply_channel();
                self.serve_system(SystemOp::Resume(done), ctx);
                SystemReply::Done
            }
            _ => SystemReply::NotSupported,
        }
    }

    fn init(&mut self, ctx: &mut Context<'_, ServerMsg<G>>) {
        match self.boot.take() {
            Some(Boot::Start(start)) => self.start(start, ctx),
            Some(Boot::Enter(body)) => self.enter(body, ctx),
            None => {}
        }
    }

    fn handle(&mut self, msg: ServerMsg<G>, ctx: &mut Context<'_, ServerMsg<G>>) {
        self.message(msg, ctx);
    }

    /// A callback panicked (rule 77, R2): `terminate` with the panic as the
    /// reason. The start handshake and `enter_loop`'s body catch their own
    /// panics; before them there is no state to terminate.
    fn handle_panic(&mut self, reason: &ExitReason, ctx: &mut Context<'_, ServerMsg<G>>) {
        self.terminate(reason.clone(), None, ctx);
    }

    fn handle_exit(&mut self, from: Pid, reason: ExitReason, ctx: &mut Context<'_, ServerMsg<G>>) {
        if self.deferred.is_some() && !self.run_deferred(ctx) {
            return;
        }
        // Rules 85e, 87, 88: only the parent's EXIT terminates the server,
        // whatever its reason. The runtime's shutdown signal (from ROOT)
        // counts as the parent's for servers started from outside.
        let from_parent =
            from == self.core.parent || (from.is_root() && reason == ExitReason::Shutdown);
        if from_parent && self.state.is_some() {
            self.terminate(reason, None, ctx);
        } else if self.core.suspended {
            self.held.push_back(Step::Info(Info::Exit { from, reason }));
        } else {
            self.activity(ctx);
            self.run(Step::Info(Info::Exit { from, reason }), ctx);
        }
    }

    fn handle_down(&mut self, down: Down, ctx: &mut Context<'_, ServerMsg<G>>) {
        if self.deferred.is_some() && !self.run_deferred(ctx) {
            return;
        }
        if self.core.suspended {
            self.held.push_back(Step::Info(Info::Down(down)));
        } else {
            self.activity(ctx);
            self.run(Step::Info(Info::Down(down)), ctx);
        }
    }
}

impl<G: GenServer> ServerProcess<G> {
    /// `start`: claims the name, runs `init`, answers the starter (rules
    /// 46-55).
    fn start(&mut self, start: Start<G>, ctx: &mut Context<'_, ServerMsg<G>>) {
        let Start {
            args,
            ack,
            linked,
            parent,
        } = start;
        self.core.parent = parent.unwrap_or_else(|| ctx.pid());
        // Rule 48: the name is claimed before init runs; on a clash init
        // never runs and the process exits normal.
        if let Some(name) = &self.core.name {
            if let Err(e) = name.register(&ctx.handle(), ctx.pid()) {
                self.core.name = None;
                self.quiet_exit(ctx, linked);
                ack.send(Err(match e {
                    ViaError::Taken(holder) => StartError::AlreadyStarted(holder),
                    ViaError::Refused(why) => StartError::Init(ExitReason::custom(why)),
                }));
                return;
            }
        }
        let mut gctx = Ctx {
            raw: ctx.reborrow(),
            core: &mut self.core,
        };
        let init = catch_panic(|| G::init(args, &mut gctx));
        if linked && ctx.is_exiting() {
            // Rule 55: killed while in init (the start timed out). OTP
            // unlinks before that kill: the caller must not die of it.
            ctx.unlink(self.core.parent);
        }
        let init = match init {
            Ok(Ok(init)) => init,
            // `?` in init: OTP 26's `{error, Reason}` (rule 51).
            Ok(Err(stop)) => {
                let (reason, _) = stop.into_parts();
                self.release_name(ctx);
                self.quiet_exit(ctx, linked);
                ack.send(Err(StartError::Init(reason)));
                return;
            }
            Err(reason) => {
                // Rule 53: a panicking init fails the start with its reason.
                self.release_name(ctx);
                self.failed_exit(ctx, linked, reason.clone());
                ack.send(Err(StartError::Init(reason)));
                return;
            }
        };
        match init.kind {
            InitKind::Ok(state) => {
                self.state = Some(state);
                self.core.stats.started_at = ctx.handle().now();
                // Timers are armed before start returns; a continue (or a
                // zero timeout) runs after it has (rule 83).
                let step = self.apply(init.action, ctx);
                ack.send(Ok(()));
                if let Some(step) = step {
                    self.run(step, ctx);
                }
            }
            InitKind::Ignore => {
                // Rules 50, 54: nothing is left behind.
                self.release_name(ctx);
                self.quiet_exit(ctx, linked);
                ack.send(Err(StartError::Ignored));
            }
            InitKind::Error(reason) => {
                self.release_name(ctx);
                self.quiet_exit(ctx, linked);
                ack.send(Err(StartError::Init(reason)));
            }
            InitKind::Stop(reason) => {
                // Rule 52: exits with the reason; a linked caller sees it.
                self.release_name(ctx);
                self.failed_exit(ctx, linked, reason.clone());
                ack.send(Err(StartError::Init(reason)));
            }
        }
    }

    /// `spawn_enter`: runs the body, checks the name, enters the loop
    /// (rule 101).
    fn enter(&mut self, body: EnterFn<G>, ctx: &mut Context<'_, ServerMsg<G>>) {
        // OTP's enter_loop takes the proc_lib parent: the spawner.
        self.core.parent = ctx.parent();
        let mut gctx = Ctx {
            raw: ctx.reborrow(),
            core: &mut self.core,
        };
        let entered = match catch_panic(|| body(&mut gctx)) {
            Ok(entered) => entered,
            Err(reason) => return ctx.exit(reason),
        };
        let state = match entered.kind {
            EnterKind::Enter(state) => state,
            EnterKind::Stop(reason) => return ctx.exit(reason),
        };
        let EnterOptions {
            name,
            hibernate_after,
        } = entered.options;
        if let Some(name) = &name {
            if name.whereis(&ctx.handle()) != Some(ctx.pid()) {
                return ctx.exit(name.not_registered().reason());
            }
        }
        // From here on the server owns the name like a started one: a via
        // name is released when it exits.
        self.core.name = name;
        self.core.hibernate_after = hibernate_after;
        self.state = Some(state);
        self.core.stats.started_at = ctx.handle().now();
        if let Some(step) = self.apply(entered.action, ctx) {
            self.run(step, ctx);
        }
    }

    /// Exits `normal` without an EXIT reaching the starter (rule 54).
    fn quiet_exit(&mut self, ctx: &mut Context<'_, ServerMsg<G>>, linked: bool) {
        if linked {
            ctx.unlink(self.core.parent);
        }
        ctx.exit(ExitReason::Normal);
    }

    /// Exits with `reason` after init failed (rules 52-54). OTP's start
    /// consumes the EXIT a trapping caller would get, so for such a caller
    /// the link goes first; a non-trapping caller keeps it and dies of a
    /// non-normal reason. The caller is blocked in start, so its flag
    /// cannot change meanwhile.
    fn failed_exit(
        &mut self,
        ctx: &mut Context<'_, ServerMsg<G>>,
        linked: bool,
        reason: ExitReason,
    ) {
        let parent = self.core.parent;
        if linked
            && ctx
                .handle()
                .process_info(parent)
                .is_some_and(|p| p.trap_exit)
        {
            ctx.unlink(parent);
        }
        ctx.exit(reason);
    }

    /// Releases the server's name now, before start returns (rule 54).
    fn release_name(&mut self, ctx: &mut Context<'_, ServerMsg<G>>) {
        if let Some(name) = self.core.name.take() {
            name.unregister(&ctx.handle(), ctx.pid());
        }
    }
}

impl<G: GenServer> Drop for ServerProcess<G> {
    fn drop(&mut self) {
        // Local names die with the process in the runtime; a via registry
        // must be told (before links and monitors hear of the exit, since
        // the runtime drops the state first — rule 16).
        if let Some(name) = self.core.name.take() {
            name.release_on_exit();
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::{gen_server, Ctx, GenServer, Handled, Init, InitResult, ReplyTo};

    /// A server whose requests are one word or less.
    struct Small;

    #[allow(dead_code)] // only its size matters
    enum Call {
        Get(ReplyTo<u64>),
        Put(u32, ReplyTo<()>),
    }

    #[gen_server]
    impl GenServer for Small {
        fn init((): (), _ctx: &mut Ctx<'_, Self>) -> InitResult<Self> {
            Init::ok(Small)
        }
        fn handle_call(&mut self, call: Call, _ctx: &mut Ctx<'_, Self>) -> Handled<Self> {
            match call {
                Call::Get(r) => r.reply(0),
                Call::Put(_, r) => r.reply(()),
            }
        }
        fn handle_cast(&mut self, _: u64, _ctx: &mut Ctx<'_, Self>) -> Handled<Self> {
            crate::noreply()
        }
    }

    /// A mailbox entry is what a flood of casts moves between cores: the
    /// rare requests are boxed and a call's reply port is one word inside
    /// its request, so a one-word cast or call takes two words.
    #[test]
    fn one_word_requests_make_two_word_entries() {
        assert_eq!(std::mem::size_of::<super::ServerMsg<Small>>(), 16);
    }
}
