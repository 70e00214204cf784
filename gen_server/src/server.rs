//! The server loop: a runtime process that drives a [`GenServer`].
//!
//! Every mailbox entry is one [`ServerMsg`]. User callbacks run under
//! `catch_panic`, so that a panic still runs `terminate` with the panic as
//! the reason before the process exits (rule 77, R2). After each callback
//! the returned [`Next`] is applied: an inactivity timer is armed (a runtime
//! timer carrying a generation number, so that a timer which fires after
//! newer messages arrived is recognised as stale and ignored), the mailbox
//! buffers are shrunk (hibernate), or `handle_continue` runs at once.

use std::collections::VecDeque;
use std::time::Duration;

use rotp_runtime::{catch_panic, Context, Down, ExitReason, Pid, Process, ReplySender, TimerRef};

use crate::behaviour::{GenServer, Info};
use crate::caller::Caller;
use crate::context::Ctx;
use crate::error::StartError;
use crate::name::ServerName;
use crate::results::{InitKind, Next, ReplyKind};
use crate::sys::{Statistics, SystemOp};

/// One mailbox entry of a server.
pub(crate) enum ServerMsg<G: GenServer> {
    Call(G::Call, ReplySender<G::Reply>, Option<Pid>),
    Cast(G::Cast),
    Info(G::Info),
    /// The inactivity timer of the given generation fired.
    Timeout(u64),
    /// The `hibernate_after` timer of the given generation fired.
    Hibernate(u64),
    /// `stop(reason)`: terminate and exit with `reason` (rule 93).
    Stop(ExitReason),
    /// A `sys` request: served without touching the inactivity timer.
    System(SystemOp<G>),
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

pub(crate) struct ServerProcess<G: GenServer> {
    state: Option<G>,
    start: Option<Start<G>>,
    core: Core,
    /// Messages and events held while suspended.
    held: VecDeque<Step<G>>,
}

/// A callback's outcome, once the reply (if any) is separated out.
enum Outcome<G: GenServer> {
    Next(Next<G::Continue>),
    Stop(ExitReason, Option<(ReplySender<G::Reply>, G::Reply)>),
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
    ) -> Self {
        ServerProcess {
            state: None,
            start: Some(start),
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
            },
            held: VecDeque::new(),
        }
    }

    fn name_for_logs(&self, pid: Pid) -> String {
        match &self.core.name {
            Some(name) => format!("{name} ({pid})"),
            None => pid.to_string(),
        }
    }

    /// Runs one mailbox entry, then its continues and zero timeouts.
    fn run(&mut self, first: Step<G>, ctx: &mut Context<'_, ServerMsg<G>>) {
        let mut step = Some(first);
        while let Some(current) = step.take() {
            if self.core.trace {
                log::debug!("{}: {}", self.name_for_logs(ctx.pid()), describe(&current));
            }
            let Some(state) = self.state.as_mut() else {
                return;
            };
            let mut gctx = Ctx {
                raw: ctx.reborrow(),
                core: &mut self.core,
            };
            let outcome = catch_panic(|| -> Outcome<G> {
                match current {
                    Step::Msg(ServerMsg::Call(request, reply, pid)) => {
                        gctx.core.stats.calls += 1;
                        let mut caller = Caller::new(pid, reply);
                        let result = state.handle_call(request, &mut caller, &mut gctx);
                        let sender = caller.take();
                        match result.kind {
                            ReplyKind::Reply(value) => {
                                match sender {
                                    Some(sender) => {
                                        sender.send(value);
                                    }
                                    None => log::debug!(
                                        "reply returned after the caller was deferred; dropped"
                                    ),
                                }
                                Outcome::Next(result.next)
                            }
                            ReplyKind::NoReply => Outcome::Next(result.next),
                            ReplyKind::Stop(reason, value) => {
                                Outcome::Stop(reason, sender.zip(value))
                            }
                        }
                    }
                    Step::Msg(ServerMsg::Cast(msg)) => {
                        gctx.core.stats.casts += 1;
                        noreply(state.handle_cast(msg, &mut gctx))
                    }
                    Step::Msg(ServerMsg::Info(msg)) => {
                        gctx.core.stats.infos += 1;
                        noreply(state.handle_info(Info::Msg(msg), &mut gctx))
                    }
                    Step::Info(info) => {
                        gctx.core.stats.infos += 1;
                        noreply(state.handle_info(info, &mut gctx))
                    }
                    Step::Continue(c) => noreply(state.handle_continue(c, &mut gctx)),
                    Step::Msg(_) => Outcome::Next(Next::Wait),
                }
            });
            match outcome {
                Err(panic) => return self.terminate(panic, None, ctx),
                Ok(Outcome::Stop(reason, reply)) => return self.terminate(reason, reply, ctx),
                Ok(Outcome::Next(next)) => step = self.apply(next, ctx),
            }
        }
    }

    /// Applies a callback's `Next`; returns a step to run at once, if any.
    fn apply(
        &mut self,
        next: Next<G::Continue>,
        ctx: &mut Context<'_, ServerMsg<G>>,
    ) -> Option<Step<G>> {
        match next {
            Next::Continue(c) => return Some(Step::Continue(c)),
            Next::Timeout(after) if after.is_zero() => {
                // Rule 79: fires at once only if nothing is queued; else
                // after what is queued, unless that includes a message.
                if ctx.mailbox_len() == 0 {
                    return Some(Step::Info(Info::Timeout));
                }
                self.core.zero_timeout = true;
            }
            Next::Timeout(after) => self.arm(ctx, after, ServerMsg::Timeout),
            Next::Hibernate => ctx.shrink(),
            Next::Wait => {
                if let Some(after) = self.core.hibernate_after {
                    self.arm(ctx, after, ServerMsg::Hibernate);
                }
            }
        }
        None
    }

    fn arm(
        &mut self,
        ctx: &mut Context<'_, ServerMsg<G>>,
        after: Duration,
        msg: fn(u64) -> ServerMsg<G>,
    ) {
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
    }

    /// Runs `terminate`, sends a pending reply, exits (rules 74, 77, 90).
    fn terminate(
        &mut self,
        reason: ExitReason,
        reply: Option<(ReplySender<G::Reply>, G::Reply)>,
        ctx: &mut Context<'_, ServerMsg<G>>,
    ) {
        self.activity(ctx);
        let mut reason = reason;
        if let Some(state) = self.state.as_mut() {
            let mut gctx = Ctx {
                raw: ctx.reborrow(),
                core: &mut self.core,
            };
            if let Err(crash) = catch_panic(|| state.terminate(&reason, &mut gctx)) {
                log::error!(
                    "{}: terminate panicked: {crash}",
                    self.name_for_logs(ctx.pid())
                );
                reason = crash;
            }
        }
        if let Some((sender, value)) = reply {
            sender.send(value);
        }
        if !reason.is_normal_class() {
            // Rule 92: the error report names the server, its state and the
            // reason.
            log::error!(
                "gen_server {} terminating: {reason}; state: {}",
                self.name_for_logs(ctx.pid()),
                crate::sys::shown_state(&self.state)
            );
        }
        ctx.exit(reason);
    }

    fn system(&mut self, op: SystemOp<G>, ctx: &mut Context<'_, ServerMsg<G>>) {
        crate::sys::serve(op, &mut self.state, &mut self.core, ctx.pid());
        // After a resume, what arrived while suspended runs first, in order.
        while !self.core.suspended && self.state.is_some() && !ctx.is_exiting() {
            let Some(step) = self.held.pop_front() else {
                break;
            };
            match step {
                Step::Msg(msg) => self.message(msg, ctx),
                step => {
                    self.activity(ctx);
                    self.run(step, ctx);
                }
            }
        }
    }

    /// Fires a pending zero timeout once the mailbox is empty (rules 79,
    /// 80): called after entries that are not activity.
    fn zero_timeout(&mut self, ctx: &mut Context<'_, ServerMsg<G>>) {
        let idle = !self.core.suspended && self.state.is_some() && !ctx.is_exiting();
        if self.core.zero_timeout && idle && ctx.mailbox_len() == 0 {
            self.core.zero_timeout = false;
            self.run(Step::Info(Info::Timeout), ctx);
        }
    }

    fn message(&mut self, msg: ServerMsg<G>, ctx: &mut Context<'_, ServerMsg<G>>) {
        match msg {
            ServerMsg::System(op) => {
                self.system(op, ctx);
                self.zero_timeout(ctx);
            }
            // Like `sys:terminate`, a stop is served even when suspended.
            ServerMsg::Stop(reason) => self.terminate(reason, None, ctx),
            msg if self.core.suspended => self.held.push_back(Step::Msg(msg)),
            ServerMsg::Timeout(generation) => {
                if generation == self.core.generation && self.core.timer.take().is_some() {
                    self.run(Step::Info(Info::Timeout), ctx);
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
                self.run(Step::Msg(msg), ctx);
            }
        }
    }
}

fn noreply<G: GenServer>(result: crate::behaviour::CastResult<G>) -> Outcome<G> {
    match result.stop {
        Some(reason) => Outcome::Stop(reason, None),
        None => Outcome::Next(result.next),
    }
}

fn describe<G: GenServer>(step: &Step<G>) -> &'static str {
    match step {
        Step::Msg(ServerMsg::Call(..)) => "call",
        Step::Msg(ServerMsg::Cast(_)) => "cast",
        Step::Msg(ServerMsg::Info(_)) => "info",
        Step::Msg(ServerMsg::Stop(_)) => "stop",
        Step::Msg(_) => "system",
        Step::Info(Info::Timeout) => "timeout",
        Step::Info(_) => "info",
        Step::Continue(_) => "continue",
    }
}

impl<G: GenServer> Process for ServerProcess<G> {
    type Message = ServerMsg<G>;

    fn init(&mut self, ctx: &mut Context<'_, ServerMsg<G>>) {
        let Some(Start {
            args,
            ack,
            linked,
            parent,
        }) = self.start.take()
        else {
            return;
        };
        self.core.parent = parent.unwrap_or_else(|| ctx.pid());
        // Rule 48: the name is claimed before init runs; on a clash init
        // never runs and the process exits normal.
        if let Some(name) = &self.core.name {
            if let Err(holder) = name.register(&ctx.handle(), ctx.pid()) {
                self.core.name = None;
                self.quiet_exit(ctx, linked);
                ack.send(Err(StartError::AlreadyStarted(holder)));
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
            Ok(init) => init,
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
                let step = self.apply(init.next, ctx);
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

    fn handle(&mut self, msg: ServerMsg<G>, ctx: &mut Context<'_, ServerMsg<G>>) {
        self.message(msg, ctx);
    }

    fn handle_exit(&mut self, from: Pid, reason: ExitReason, ctx: &mut Context<'_, ServerMsg<G>>) {
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
        if self.core.suspended {
            self.held.push_back(Step::Info(Info::Down(down)));
        } else {
            self.activity(ctx);
            self.run(Step::Info(Info::Down(down)), ctx);
        }
    }
}

impl<G: GenServer> ServerProcess<G> {
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
