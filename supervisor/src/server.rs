//! The supervisor process: starts its children, watches their exits,
//! restarts them by strategy within the intensity, serves the management
//! API and stops them in reverse order (rules 110-153).
//!
//! It is a raw process that traps exits. Every request is one message; a
//! request that stops a child blocks this process until the child has
//! exited (see `child.rs`), which is what OTP's supervisor does too. A
//! failed restart is retried through a message to itself, so requests
//! queued meanwhile — a shutdown included — are served in between (rule
//! 130).
//!
//! Children are kept in start order; each is `Running`, `Restarting` (a
//! retry is queued, identified by an attempt number so a stale retry
//! message is recognised) or `Stopped` (OTP's `undefined`).

use std::time::Duration;

use rotp_runtime::{
    Context, ExitReason, Pid, Process, ProcessKind, ReplySender, SupervisedChild, SystemReply,
    SystemRequest, SystemStatus,
};

use crate::child::{self, Running};
use crate::child_spec::{ChildId, ChildSpec, ChildStartError, Restart};
use crate::error::{
    DeleteChildError, GetChildSpecError, RestartChildError, StartChildError, SupervisorStartError,
    TerminateChildError,
};
use crate::events;
use crate::flags::{
    check_children, check_significant, AutoShutdown, Intensity, Strategy, SupervisorOptions,
};
use crate::info::{ChildCounts, ChildInfo, ChildStatus};
use crate::module::SupervisorInit;
use crate::report::{self, ChildName, SupName};
use crate::restart::{Admit, RestartWindow};

/// The messages of a supervisor process.
///
/// Requests that may stop or start children carry the requesting process,
/// if any: see [`SupervisorServer::requester`].
pub(crate) enum Request {
    StartChild(
        ChildSpec,
        Option<Pid>,
        ReplySender<Result<Option<Pid>, StartChildError>>,
    ),
    TerminateChild(
        ChildId,
        Option<Pid>,
        ReplySender<Result<(), TerminateChildError>>,
    ),
    RestartChild(
        ChildId,
        Option<Pid>,
        ReplySender<Result<Option<Pid>, RestartChildError>>,
    ),
    DeleteChild(ChildId, ReplySender<Result<(), DeleteChildError>>),
    WhichChildren(ReplySender<Vec<ChildInfo>>),
    CountChildren(ReplySender<ChildCounts>),
    GetChildSpec(ChildId, ReplySender<Result<ChildSpec, GetChildSpecError>>),
    /// `await_child`: answered with the pid once the child runs, `None`
    /// if there is no such child (or it is removed meanwhile).
    AwaitChild(ChildId, ReplySender<Option<Pid>>),
    /// `stop(reason)`: stop the children, then exit with `reason`.
    Stop(ExitReason, Option<Pid>),
    /// Retry a failed restart (rule 130).
    TryAgain(ChildId, u64),
}

enum State {
    Running(Running),
    /// A failed restart is being retried; the number identifies the retry.
    Restarting(u64),
    /// Not running (`undefined`).
    Stopped,
}

struct Child {
    spec: ChildSpec,
    state: State,
    /// Automatic restarts of this child so far.
    restarts: u64,
}

impl Child {
    fn status(&self) -> ChildStatus {
        match &self.state {
            State::Running(r) => ChildStatus::Running(r.pid),
            State::Restarting(_) => ChildStatus::Restarting,
            State::Stopped => ChildStatus::Undefined,
        }
    }
}

/// What the start function of `start_link` waits for.
pub(crate) type InitReply = ReplySender<Result<(), SupervisorStartError>>;

/// Where a supervisor's flags and initial children come from.
pub(crate) enum Setup {
    /// Given to `Supervisor::start_link`, already validated.
    Given(SupervisorOptions, Vec<ChildSpec>),
    /// A [`SupervisorModule`](crate::SupervisorModule)'s `init`, run in
    /// the supervisor process before anything else (rule 114).
    Module(Box<dyn FnOnce() -> SupervisorInit + Send>),
}

/// The supervisor process.
pub(crate) struct SupervisorServer {
    strategy: Strategy,
    intensity: Intensity,
    /// Automatic restarts so far, all children together.
    restarts: u64,
    auto_shutdown: AutoShutdown,
    window: RestartWindow,
    me: SupName,
    children: Vec<Child>,
    /// The flags and initial children, and the starter's reply handle,
    /// until `init`.
    init: Option<(Setup, InitReply)>,
    next_attempt: u64,
    /// The process whose request is being served. It waits for the answer
    /// (never running this supervisor on its own thread: see `call.rs`),
    /// so if the request stops that very process, it is told to exit but
    /// not waited for: it exits once it has the answer and its callback
    /// returns (adaptation R1).
    requester: Option<Pid>,
    /// Children stopped at their own request and not waited for; each is
    /// waited for before its id starts again, so incarnations never
    /// overlap.
    exiting: Vec<(ChildId, Running)>,
    /// `await_child` requests waiting for their child to run.
    waiters: Vec<(ChildId, ReplySender<Option<Pid>>)>,
}

impl SupervisorServer {
    pub(crate) fn new(setup: Setup, reply: InitReply) -> Self {
        let opts = SupervisorOptions::new();
        SupervisorServer {
            strategy: opts.strategy,
            intensity: opts.intensity,
            restarts: 0,
            auto_shutdown: opts.auto_shutdown,
            window: RestartWindow::new(opts.intensity),
            me: SupName {
                pid: Pid::ROOT,
                name: None,
            },
            children: Vec::new(),
            init: Some((setup, reply)),
            next_attempt: 0,
            requester: None,
            exiting: Vec::new(),
            waiters: Vec::new(),
        }
    }

    /// Takes the flags and name of `opts`.
    fn configure(&mut self, opts: SupervisorOptions) {
        self.strategy = opts.strategy;
        self.auto_shutdown = opts.auto_shutdown;
        self.window = RestartWindow::new(opts.intensity);
        self.me.name = opts.name;
    }

    /// The flags and initial children of `setup`: a module's `init` runs
    /// here, and what it returns is checked like `start_link`'s arguments.
    /// `Err` is the start's error and the reason to exit with.
    fn setup(
        setup: Setup,
    ) -> Result<(SupervisorOptions, Vec<ChildSpec>), (SupervisorStartError, ExitReason)> {
        let init = match setup {
            Setup::Given(opts, children) => return Ok((opts, children)),
            Setup::Module(init) => init,
        };
        match rotp_runtime::catch_panic(init) {
            // Rule 114: `ignore` ends the supervisor quietly.
            Ok(SupervisorInit::Ignore) => Err((SupervisorStartError::Ignored, ExitReason::Normal)),
            Ok(SupervisorInit::Start { children, options }) => {
                let checked = options
                    .validate()
                    .map_err(SupervisorStartError::from)
                    .and_then(|()| {
                        check_children(&children, options.auto_shutdown)
                            .map_err(SupervisorStartError::from)
                    });
                match checked {
                    Ok(()) => Ok((options, children)),
                    Err(e) => {
                        let reason = ExitReason::custom(&e);
                        Err((e, reason))
                    }
                }
            }
            // Rule 114: a crash in init fails the start with its reason.
            Err(reason) => Err((SupervisorStartError::Init(reason.clone()), reason)),
        }
    }

    /// Answers the `await_child` requests whose child runs now, or is gone;
    /// forgets those whose caller gave up.
    fn serve_waiters(&mut self) {
        if self.waiters.is_empty() {
            return;
        }
        for (id, reply) in std::mem::take(&mut self.waiters) {
            if reply.is_abandoned() {
                continue;
            }
            match self.position(&id).map(|i| &self.children[i].state) {
                None => {
                    reply.send(None);
                }
                // A child whose EXIT is not handled yet is not running: its
                // restart is still to come.
                Some(State::Running(r)) if r.is_alive() => {
                    reply.send(Some(r.pid));
                }
                Some(_) => self.waiters.push((id, reply)),
            }
        }
    }

    fn position(&self, id: &ChildId) -> Option<usize> {
        self.children.iter().position(|c| &c.spec.id == id)
    }

    /// Starts the initial children in order (rules 111-113).
    fn start_children(
        &mut self,
        specs: Vec<ChildSpec>,
        ctx: &mut Context<'_, Request>,
    ) -> Result<(), SupervisorStartError> {
        let handle = ctx.handle();
        for spec in specs {
            match spec.start_with(&()) {
                Ok(Some(pid)) => {
                    events::child_started(self.me.pid, Some(&spec.id), pid);
                    self.children.push(Child {
                        spec,
                        state: State::Running(Running::new(&handle, pid)),
                        restarts: 0,
                    })
                }
                // Rule 112: ignored children are kept, temporary ones dropped.
                Ok(None) if spec.restart == Restart::Temporary => {}
                Ok(None) => self.children.push(Child {
                    spec,
                    state: State::Stopped,
                    restarts: 0,
                }),
                Err(reason) => {
                    report::start_error(&self.me, ChildName(Some(&spec.id)), &reason);
                    events::start_failed(self.me.pid, Some(&spec.id), &reason);
                    self.terminate_all(ctx);
                    return Err(SupervisorStartError::FailedToStartChild {
                        id: spec.id,
                        reason,
                    });
                }
            }
        }
        Ok(())
    }

    /// Stops one running child per its shutdown value and marks it
    /// stopped; reports an unexpected reason (rule 120). The requester of
    /// the current request is only told to exit (see `requester`).
    fn terminate_at(&mut self, i: usize, ctx: &mut Context<'_, Request>) {
        let child = &mut self.children[i];
        if let State::Running(running) = std::mem::replace(&mut child.state, State::Stopped) {
            if Some(running.pid) == self.requester {
                child::signal(ctx, &running, child.spec.shutdown);
                let reason = events::stopped_reason(&Ok(()), child.spec.shutdown);
                events::child_terminated(
                    self.me.pid,
                    Some(&child.spec.id),
                    running.pid,
                    &reason,
                    true,
                );
                self.exiting.push((child.spec.id.clone(), running));
            } else {
                let result =
                    child::shutdown(ctx, &running, child.spec.shutdown, child.spec.restart);
                if let Err(reason) = &result {
                    report::shutdown_error(
                        &self.me,
                        ChildName(Some(&child.spec.id)),
                        running.pid,
                        reason,
                    );
                }
                let reason = events::stopped_reason(&result, child.spec.shutdown);
                events::child_terminated(
                    self.me.pid,
                    Some(&child.spec.id),
                    running.pid,
                    &reason,
                    true,
                );
            }
        }
    }

    /// Waits for the previous incarnation of `id`, if it stopped at its own
    /// request and may still be exiting. `Err(pid)` if that incarnation is
    /// the requester itself: it cannot be waited for while it waits on us.
    fn settle(&mut self, id: &ChildId) -> Result<(), Pid> {
        self.exiting
            .retain(|(_, r)| child::await_exit(r, Some(Duration::ZERO)).is_err());
        while let Some(k) = self.exiting.iter().position(|(i, _)| i == id) {
            if Some(self.exiting[k].1.pid) == self.requester {
                return Err(self.exiting[k].1.pid);
            }
            let (_, old) = self.exiting.swap_remove(k);
            let _ = child::await_exit(&old, None);
        }
        Ok(())
    }

    /// Stops every child, last started first, one at a time (rule 115).
    fn terminate_all(&mut self, ctx: &mut Context<'_, Request>) {
        for i in (0..self.children.len()).rev() {
            self.terminate_at(i, ctx);
        }
    }

    /// Stops the children and ends the supervisor with `reason`. Children
    /// that stopped at their own request are waited for too, except the
    /// requester (it exits once it has its answer).
    fn shut_down(&mut self, reason: ExitReason, ctx: &mut Context<'_, Request>) {
        self.terminate_all(ctx);
        for (_, old) in std::mem::take(&mut self.exiting) {
            if Some(old.pid) != self.requester {
                let _ = child::await_exit(&old, None);
            }
        }
        ctx.exit(reason);
    }

    /// Child `i` exited on its own with `reason` (rules 122-123).
    fn child_exited(
        &mut self,
        i: usize,
        pid: Pid,
        reason: ExitReason,
        ctx: &mut Context<'_, Request>,
    ) {
        let child = &mut self.children[i];
        child.state = State::Stopped;
        let restart = match child.spec.restart {
            Restart::Permanent => true,
            Restart::Transient => !reason.is_normal_class(),
            Restart::Temporary => false,
        };
        if restart || !reason.is_normal_class() {
            let restarts = self.window.recent(ctx.handle().now());
            report::child_terminated(
                &self.me,
                ChildName(Some(&child.spec.id)),
                pid,
                &reason,
                restarts,
            );
        }
        events::child_terminated(self.me.pid, Some(&child.spec.id), pid, &reason, false);
        if restart {
            self.restart(i, ctx);
            return;
        }
        let significant = child.spec.significant;
        let id = child.spec.id.clone();
        if child.spec.restart == Restart::Temporary {
            self.children.remove(i);
        }
        if significant {
            self.auto_shutdown(&id, ctx);
        }
    }

    /// Rules 150-151: a significant child ended without being restarted.
    fn auto_shutdown(&mut self, id: &ChildId, ctx: &mut Context<'_, Request>) {
        let shut = match self.auto_shutdown {
            AutoShutdown::Never => false,
            AutoShutdown::AnySignificant => true,
            AutoShutdown::AllSignificant => !self
                .children
                .iter()
                .any(|c| c.spec.significant && !matches!(c.state, State::Stopped)),
        };
        if shut {
            report::auto_shutdown(&self.me, ChildName(Some(id)));
            self.shut_down(ExitReason::Shutdown, ctx);
        }
    }

    /// An automatic restart of child `i` (stopped or restarting): counts
    /// against the intensity (rules 134-135), then restarts the child's
    /// group per the strategy (rules 125-127).
    fn restart(&mut self, i: usize, ctx: &mut Context<'_, Request>) {
        if self.window.add(ctx.handle().now()) == Admit::GiveUp {
            let now = ctx.handle().now();
            report::max_intensity(
                &self.me,
                ChildName(Some(&self.children[i].spec.id)),
                self.window.recent(now),
                self.window.intensity(),
            );
            events::max_intensity(self.me.pid, Some(&self.children[i].spec.id), self.intensity);
            self.children[i].state = State::Stopped;
            self.shut_down(ExitReason::Shutdown, ctx);
            return;
        }
        let first = match self.strategy {
            Strategy::OneForOne => {
                self.start_group(&[i], ctx);
                return;
            }
            Strategy::OneForAll => 0,
            Strategy::RestForOne => i,
        };
        // Stop the rest of the group, last started first; temporary ones are
        // dropped, never restarted (rule 126).
        for j in (first..self.children.len()).rev() {
            self.terminate_at(j, ctx);
        }
        let mut j = first;
        while j < self.children.len() {
            if self.children[j].spec.restart == Restart::Temporary {
                self.children.remove(j);
            } else {
                j += 1;
            }
        }
        let group: Vec<usize> = (first..self.children.len()).collect();
        self.start_group(&group, ctx);
    }

    /// Starts the children at `group` in order. On a failure the failed
    /// child is marked restarting and a retry is queued; the ones after it
    /// stay stopped (rules 130-131, 133).
    fn start_group(&mut self, group: &[usize], ctx: &mut Context<'_, Request>) {
        let handle = ctx.handle();
        for &j in group {
            let id = self.children[j].spec.id.clone();
            // Automatic restarts have no requester: this always waits.
            let _ = self.settle(&id);
            let child = &mut self.children[j];
            match child.spec.start_with(&()) {
                Ok(Some(pid)) => {
                    child.state = State::Running(Running::new(&handle, pid));
                    child.restarts += 1;
                    self.restarts += 1;
                    events::child_restarted(
                        self.me.pid,
                        Some(&child.spec.id),
                        pid,
                        None,
                        child.restarts,
                    );
                }
                Ok(None) => child.state = State::Stopped,
                Err(reason) => {
                    report::start_error(&self.me, ChildName(Some(&child.spec.id)), &reason);
                    events::start_failed(self.me.pid, Some(&child.spec.id), &reason);
                    self.next_attempt += 1;
                    child.state = State::Restarting(self.next_attempt);
                    ctx.addr()
                        .send(Request::TryAgain(child.spec.id.clone(), self.next_attempt));
                    return;
                }
            }
        }
    }

    fn try_again(&mut self, id: &ChildId, attempt: u64, ctx: &mut Context<'_, Request>) {
        let current = self
            .position(id)
            .filter(|&i| matches!(self.children[i].state, State::Restarting(a) if a == attempt));
        if let Some(i) = current {
            self.restart(i, ctx);
        }
    }

    /// Rule 139.
    fn start_child(
        &mut self,
        spec: ChildSpec,
        ctx: &mut Context<'_, Request>,
    ) -> Result<Option<Pid>, StartChildError> {
        check_significant(&spec, self.auto_shutdown)?;
        if let Some(i) = self.position(&spec.id) {
            return Err(match &self.children[i].state {
                State::Running(r) => StartChildError::AlreadyStarted(r.pid),
                State::Restarting(_) | State::Stopped => StartChildError::AlreadyPresent,
            });
        }
        self.settle(&spec.id)
            .map_err(StartChildError::AlreadyStarted)?;
        match spec.start_with(&()) {
            Ok(Some(pid)) => {
                events::child_started(self.me.pid, Some(&spec.id), pid);
                let running = Running::new(&ctx.handle(), pid);
                self.children.push(Child {
                    spec,
                    state: State::Running(running),
                    restarts: 0,
                });
                Ok(Some(pid))
            }
            Ok(None) => {
                if spec.restart != Restart::Temporary {
                    self.children.push(Child {
                        spec,
                        state: State::Stopped,
                        restarts: 0,
                    });
                }
                Ok(None)
            }
            Err(e) => {
                events::start_failed(self.me.pid, Some(&spec.id), &e);
                Err(match e {
                    ChildStartError::AlreadyStarted(pid) => StartChildError::AlreadyStarted(pid),
                    ChildStartError::Failed(reason) => StartChildError::Failed(reason),
                })
            }
        }
    }
    /// Rule 140: stops the child, keeps the spec (not for temporary ones);
    /// aborts a retry loop; no restart, no intensity, no auto-shutdown.
    fn terminate_child(
        &mut self,
        id: &ChildId,
        ctx: &mut Context<'_, Request>,
    ) -> Result<(), TerminateChildError> {
        let i = self.position(id).ok_or(TerminateChildError::NotFound)?;
        self.terminate_at(i, ctx);
        self.children[i].state = State::Stopped;
        if self.children[i].spec.restart == Restart::Temporary {
            self.children.remove(i);
        }
        Ok(())
    }

    /// Rule 141.
    fn restart_child(
        &mut self,
        id: &ChildId,
        ctx: &mut Context<'_, Request>,
    ) -> Result<Option<Pid>, RestartChildError> {
        let i = self.position(id).ok_or(RestartChildError::NotFound)?;
        let child = &mut self.children[i];
        match child.state {
            State::Running(_) => return Err(RestartChildError::Running),
            State::Restarting(_) => return Err(RestartChildError::Restarting),
            State::Stopped => {}
        }
        let id = child.spec.id.clone();
        // The requester restarting itself before its own exit took effect.
        self.settle(&id).map_err(|_| RestartChildError::Running)?;
        let child = &mut self.children[i];
        match child.spec.start_with(&()) {
            Ok(Some(pid)) => {
                events::child_started(self.me.pid, Some(&id), pid);
                child.state = State::Running(Running::new(&ctx.handle(), pid));
                Ok(Some(pid))
            }
            Ok(None) => Ok(None),
            Err(e) => {
                events::start_failed(self.me.pid, Some(&id), &e);
                Err(RestartChildError::Start(e))
            }
        }
    }

    /// Rule 142.
    fn delete_child(&mut self, id: &ChildId) -> Result<(), DeleteChildError> {
        let i = self.position(id).ok_or(DeleteChildError::NotFound)?;
        match self.children[i].state {
            State::Running(_) => Err(DeleteChildError::Running),
            State::Restarting(_) => Err(DeleteChildError::Restarting),
            State::Stopped => {
                self.children.remove(i);
                Ok(())
            }
        }
    }

    /// Rule 143: most recently started first.
    fn which_children(&self) -> Vec<ChildInfo> {
        self.children
            .iter()
            .rev()
            .map(|c| ChildInfo {
                id: c.spec.id.clone(),
                status: c.status(),
                child_type: c.spec.child_type,
            })
            .collect()
    }

    /// Rule 144.
    fn count_children(&self) -> ChildCounts {
        let mut counts = ChildCounts::default();
        for c in &self.children {
            let active = matches!(&c.state, State::Running(r) if r.is_alive());
            counts.add(c.spec.child_type, active);
        }
        counts
    }
}

impl SupervisorServer {
    /// What the supervisor tells introspection tools: strategy, intensity,
    /// restarts, and its children in start order.
    fn status(&self) -> SystemStatus {
        let mut status = SystemStatus::new("supervisor")
            .state(format!(
                "{} children, {}",
                self.children.len(),
                events::strategy_name(self.strategy)
            ))
            .detail("strategy", events::strategy_name(self.strategy))
            .detail("intensity", events::intensity_text(self.intensity))
            .detail("restarts", self.restarts);
        if let Some(name) = &self.me.name {
            status = status.detail("name", name);
        }
        for c in &self.children {
            let (pid, state) = match &c.state {
                State::Running(r) => (Some(r.pid), "running"),
                State::Restarting(_) => (None, "restarting"),
                State::Stopped => (None, "undefined"),
            };
            status = status.child(SupervisedChild::new(
                Some(c.spec.id.to_string()),
                pid,
                events::is_supervisor(c.spec.child_type),
                events::restart_name(c.spec.restart),
                state,
                c.restarts,
            ));
        }
        status
    }
}

impl Process for SupervisorServer {
    type Message = Request;

    fn kind() -> ProcessKind {
        ProcessKind::new("supervisor", "rotp_supervisor::Supervisor")
    }

    fn system(&mut self, request: SystemRequest, _ctx: &mut Context<'_, Request>) -> SystemReply {
        match request {
            SystemRequest::Status => SystemReply::Status(self.status()),
            _ => SystemReply::NotSupported,
        }
    }

    fn init(&mut self, ctx: &mut Context<'_, Request>) {
        let (setup, reply) = self.init.take().expect("init runs once");
        self.me.pid = ctx.pid();
        let specs = match SupervisorServer::setup(setup) {
            Ok((opts, specs)) => {
                self.configure(opts);
                specs
            }
            Err((e, reason)) => {
                reply.send(Err(e));
                ctx.exit(reason);
                return;
            }
        };
        if let Some(name) = self.me.name.clone() {
            if let Err(e) = name.register(&ctx.handle(), ctx.pid()) {
                // Not ours: nothing to release at the exit.
                self.me.name = None;
                reply.send(Err(match e {
                    rotp_gen_server::ViaError::Taken(holder) => {
                        SupervisorStartError::AlreadyStarted(holder)
                    }
                    other => SupervisorStartError::Exited(ExitReason::custom(other)),
                }));
                ctx.exit(ExitReason::Normal); // rule 48
                return;
            }
        }
        match self.start_children(specs, ctx) {
            Ok(()) => {
                reply.send(Ok(()));
            }
            Err(e) => {
                let reason = match &e {
                    SupervisorStartError::FailedToStartChild { id, reason } => {
                        ExitReason::shutdown_with(format!("failed_to_start_child {id}: {reason}"))
                    }
                    other => ExitReason::shutdown_with(other),
                };
                reply.send(Err(e));
                ctx.exit(reason); // rule 113
            }
        }
    }

    fn handle(&mut self, request: Request, ctx: &mut Context<'_, Request>) {
        match request {
            Request::StartChild(spec, requester, reply) => {
                self.requester = requester;
                reply.send(self.start_child(spec, ctx));
            }
            Request::TerminateChild(id, requester, reply) => {
                self.requester = requester;
                reply.send(self.terminate_child(&id, ctx));
            }
            Request::RestartChild(id, requester, reply) => {
                self.requester = requester;
                reply.send(self.restart_child(&id, ctx));
            }
            Request::DeleteChild(id, reply) => {
                reply.send(self.delete_child(&id));
            }
            Request::WhichChildren(reply) => {
                reply.send(self.which_children());
            }
            Request::CountChildren(reply) => {
                reply.send(self.count_children());
            }
            Request::GetChildSpec(id, reply) => {
                let spec = self.position(&id).map(|i| self.children[i].spec.clone());
                reply.send(spec.ok_or(GetChildSpecError::NotFound));
            }
            Request::Stop(reason, requester) => {
                self.requester = requester;
                self.shut_down(reason, ctx);
            }
            Request::AwaitChild(id, reply) => self.waiters.push((id, reply)),
            Request::TryAgain(id, attempt) => self.try_again(&id, attempt, ctx),
        }
        self.requester = None;
        self.serve_waiters();
    }

    fn handle_exit(&mut self, from: Pid, reason: ExitReason, ctx: &mut Context<'_, Request>) {
        if from == ctx.parent() {
            // Rule 115 / 85e: the parent's exit stops the tree.
            self.shut_down(reason, ctx);
            return;
        }
        let child = self
            .children
            .iter()
            .position(|c| matches!(&c.state, State::Running(r) if r.pid == from));
        // Rule 124: an EXIT from a stranger, or from a child already
        // stopped or replaced, changes nothing.
        if let Some(i) = child {
            self.child_exited(i, from, reason, ctx);
            self.serve_waiters();
        }
    }
}

impl Drop for SupervisorServer {
    fn drop(&mut self) {
        // A local name dies with the process in the runtime; a via name is
        // released here, before the supervisor's links and monitors hear of
        // its exit (the runtime drops the state first).
        if let Some(name) = &self.me.name {
            name.release_on_exit();
        }
    }
}
