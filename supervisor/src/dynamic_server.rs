//! The DynamicSupervisor process (rules 154-163): one_for_one over
//! children started on demand, each started with the supervisor's extra
//! argument, and stopped all at once on termination.
//!
//! Children are keyed by a start counter (their order in `which_children`)
//! and found by pid through an index that holds the current pid of a
//! running child or the last pid of a restarting one, so
//! `terminate_child(pid)` also aborts a retry loop.

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use rotp_runtime::{
    Context, ExitReason, Pid, Process, ProcessKind, ReplySender, SupervisedChild, SystemReply,
    SystemRequest, SystemStatus,
};

use crate::child::{self, Running};
use crate::child_spec::{ChildStartError, Restart, Shutdown};
use crate::dynamic_spec::DynamicChildSpec;
use crate::error::{StartChildError, SupervisorStartError, TerminateChildError};
use crate::events;
use crate::flags::Intensity;
use crate::info::{ChildCounts, ChildStatus, DynamicChildInfo};
use crate::report::{self, ChildName, SupName};
use crate::restart::{Admit, RestartWindow};

/// The messages of a DynamicSupervisor process.
pub(crate) enum DynRequest<E> {
    StartChild(
        DynamicChildSpec<E>,
        ReplySender<Result<Option<Pid>, StartChildError>>,
    ),
    /// Stop child `pid`, at the request of the second pid (if any).
    TerminateChild(
        Pid,
        Option<Pid>,
        ReplySender<Result<(), TerminateChildError>>,
    ),
    WhichChildren(ReplySender<Vec<DynamicChildInfo>>),
    CountChildren(ReplySender<ChildCounts>),
    Stop(ExitReason, Option<Pid>),
    /// Retry the failed restart of child `key`, attempt `attempt`.
    TryAgain(u64, u64),
}

enum State {
    Running(Running),
    Restarting { last_pid: Pid, attempt: u64 },
}

struct DynChild<E> {
    spec: DynamicChildSpec<E>,
    state: State,
    /// Automatic restarts of this child so far.
    restarts: u64,
}

/// What `start_link` waits for.
pub(crate) type InitReply = ReplySender<Result<(), SupervisorStartError>>;

/// The DynamicSupervisor process.
pub(crate) struct DynamicServer<E> {
    extra: E,
    max_children: Option<usize>,
    intensity: Intensity,
    /// Automatic restarts so far, all children together.
    restarts: u64,
    window: RestartWindow,
    me: SupName,
    children: BTreeMap<u64, DynChild<E>>,
    by_pid: HashMap<Pid, u64>,
    next_key: u64,
    next_attempt: u64,
    init: Option<InitReply>,
}

impl<E: Send + 'static> DynamicServer<E> {
    pub(crate) fn new(
        extra: E,
        intensity: Intensity,
        max_children: Option<usize>,
        name: Option<rotp_gen_server::ServerName>,
        reply: InitReply,
    ) -> Self {
        DynamicServer {
            extra,
            max_children,
            intensity,
            restarts: 0,
            window: RestartWindow::new(intensity),
            me: SupName {
                pid: Pid::ROOT,
                name,
            },
            children: BTreeMap::new(),
            by_pid: HashMap::new(),
            next_key: 0,
            next_attempt: 0,
            init: Some(reply),
        }
    }

    fn remove(&mut self, key: u64) {
        if let Some(child) = self.children.remove(&key) {
            let pid = match child.state {
                State::Running(r) => r.pid,
                State::Restarting { last_pid, .. } => last_pid,
            };
            self.by_pid.remove(&pid);
        }
    }

    /// Rules 155-158 (validation is done by the client).
    fn start_child(
        &mut self,
        spec: DynamicChildSpec<E>,
        ctx: &mut Context<'_, DynRequest<E>>,
    ) -> Result<Option<Pid>, StartChildError> {
        if self
            .max_children
            .is_some_and(|max| self.children.len() >= max)
        {
            return Err(StartChildError::MaxChildren);
        }
        match spec.start_with(&self.extra) {
            Ok(Some(pid)) => {
                let key = self.next_key;
                self.next_key += 1;
                let running = Running::new(&ctx.handle(), pid);
                self.children.insert(
                    key,
                    DynChild {
                        spec,
                        state: State::Running(running),
                        restarts: 0,
                    },
                );
                self.by_pid.insert(pid, key);
                events::child_started(self.me.pid, None, pid);
                Ok(Some(pid))
            }
            Ok(None) => Ok(None),
            Err(e) => {
                events::start_failed(self.me.pid, None, &e);
                Err(match e {
                    ChildStartError::AlreadyStarted(pid) => StartChildError::AlreadyStarted(pid),
                    ChildStartError::Failed(reason) => StartChildError::Failed(reason),
                })
            }
        }
    }

    /// Rule 160. A child asking to stop itself is only told to exit: it
    /// waits for this answer, possibly with this supervisor running nested
    /// on its thread, and exits once its callback returns (R1).
    fn terminate_child(
        &mut self,
        pid: Pid,
        requester: Option<Pid>,
        ctx: &mut Context<'_, DynRequest<E>>,
    ) -> Result<(), TerminateChildError> {
        let key = *self.by_pid.get(&pid).ok_or(TerminateChildError::NotFound)?;
        let child = &self.children[&key];
        if let State::Running(running) = &child.state {
            let result = if requester == Some(running.pid) {
                child::signal(ctx, running, child.spec.shutdown);
                Ok(())
            } else {
                child::shutdown(ctx, running, child.spec.shutdown, child.spec.restart)
            };
            if let Err(reason) = &result {
                report::shutdown_error(&self.me, ChildName(None), running.pid, reason);
            }
            let reason = events::stopped_reason(&result, child.spec.shutdown);
            events::child_terminated(self.me.pid, None, running.pid, &reason, true);
        }
        self.remove(key);
        Ok(())
    }

    /// Rule 159: one_for_one restart decisions.
    fn child_exited(
        &mut self,
        key: u64,
        pid: Pid,
        reason: ExitReason,
        ctx: &mut Context<'_, DynRequest<E>>,
    ) {
        let restart = match self.children[&key].spec.restart {
            Restart::Permanent => true,
            Restart::Transient => !reason.is_normal_class(),
            Restart::Temporary => false,
        };
        if restart || !reason.is_normal_class() {
            let restarts = self.window.recent(ctx.handle().now());
            report::child_terminated(&self.me, ChildName(None), pid, &reason, restarts);
        }
        events::child_terminated(self.me.pid, None, pid, &reason, false);
        if restart {
            self.restart(key, pid, ctx);
        } else {
            self.remove(key);
        }
    }

    /// An automatic restart of child `key` whose last pid was `old`.
    fn restart(&mut self, key: u64, old: Pid, ctx: &mut Context<'_, DynRequest<E>>) {
        if self.window.add(ctx.handle().now()) == Admit::GiveUp {
            let now = ctx.handle().now();
            report::max_intensity(
                &self.me,
                ChildName(None),
                self.window.recent(now),
                self.window.intensity(),
            );
            events::max_intensity(self.me.pid, None, self.intensity);
            self.remove(key);
            self.shut_down(ExitReason::Shutdown, None, ctx);
            return;
        }
        let child = self
            .children
            .get_mut(&key)
            .expect("restarting a known child");
        match child.spec.start_with(&self.extra) {
            Ok(Some(pid)) => {
                child.state = State::Running(Running::new(&ctx.handle(), pid));
                child.restarts += 1;
                self.restarts += 1;
                events::child_restarted(self.me.pid, None, pid, Some(old), child.restarts);
                self.by_pid.remove(&old);
                self.by_pid.insert(pid, key);
            }
            // Ignored on restart: the child is gone.
            Ok(None) => self.remove(key),
            Err(reason) => {
                report::start_error(&self.me, ChildName(None), &reason);
                events::start_failed(self.me.pid, None, &reason);
                self.next_attempt += 1;
                let attempt = self.next_attempt;
                child.state = State::Restarting {
                    last_pid: old,
                    attempt,
                };
                ctx.addr().send(DynRequest::TryAgain(key, attempt));
            }
        }
    }

    fn try_again(&mut self, key: u64, attempt: u64, ctx: &mut Context<'_, DynRequest<E>>) {
        if let Some(DynChild {
            state:
                State::Restarting {
                    last_pid,
                    attempt: a,
                },
            ..
        }) = self.children.get(&key)
        {
            if *a == attempt {
                let old = *last_pid;
                self.restart(key, old, ctx);
            }
        }
    }

    /// Rule 161: every child gets its signal first, then the supervisor
    /// waits, killing each timed-out child at its own deadline.
    /// `requester`, if a child, is told to exit but not waited for.
    fn terminate_all(&mut self, requester: Option<Pid>, ctx: &mut Context<'_, DynRequest<E>>) {
        let mut running: Vec<(Running, Shutdown, Restart)> = std::mem::take(&mut self.children)
            .into_values()
            .filter_map(|c| match c.state {
                State::Running(r) => Some((r, c.spec.shutdown, c.spec.restart)),
                State::Restarting { .. } => None,
            })
            .collect();
        self.by_pid.clear();
        for (r, shutdown, _) in &running {
            child::signal(ctx, r, *shutdown);
        }
        let deadline = |s: &Shutdown| match s {
            Shutdown::BrutalKill => Duration::ZERO,
            Shutdown::Timeout(t) => *t,
            Shutdown::Infinity => Duration::MAX,
        };
        running.retain(|(r, _, _)| Some(r.pid) != requester);
        running.sort_by_key(|(_, s, _)| deadline(s));
        let handle = ctx.handle();
        let start = handle.now();
        let mut killed = Vec::new();
        for (r, shutdown, restart) in running {
            let reason = match shutdown {
                Shutdown::BrutalKill | Shutdown::Infinity => {
                    child::await_exit(&r, None).unwrap_or(None)
                }
                Shutdown::Timeout(t) => {
                    let left = t.saturating_sub(handle.now().saturating_sub(start));
                    match child::await_exit(&r, Some(left)) {
                        Ok(reason) => reason,
                        Err(()) => {
                            ctx.kill(r.pid);
                            killed.push((r, shutdown, restart));
                            continue;
                        }
                    }
                }
            };
            self.check(&r, reason, shutdown, restart);
        }
        for (r, shutdown, restart) in killed {
            let reason = child::await_exit(&r, None).unwrap_or(None);
            self.check(&r, reason, shutdown, restart);
        }
    }

    fn check(&self, r: &Running, reason: Option<ExitReason>, shutdown: Shutdown, restart: Restart) {
        if let Err(reason) = child::check(reason, shutdown, restart) {
            report::shutdown_error(&self.me, ChildName(None), r.pid, &reason);
            events::child_terminated(self.me.pid, None, r.pid, &reason, true);
        } else {
            let reason = events::stopped_reason(&Ok(()), shutdown);
            events::child_terminated(self.me.pid, None, r.pid, &reason, true);
        }
    }

    fn shut_down(
        &mut self,
        reason: ExitReason,
        requester: Option<Pid>,
        ctx: &mut Context<'_, DynRequest<E>>,
    ) {
        self.terminate_all(requester, ctx);
        ctx.exit(reason);
    }

    /// Rule 162.
    fn which_children(&self) -> Vec<DynamicChildInfo> {
        self.children
            .values()
            .map(|c| DynamicChildInfo {
                status: match &c.state {
                    State::Running(r) => ChildStatus::Running(r.pid),
                    State::Restarting { .. } => ChildStatus::Restarting,
                },
                child_type: c.spec.child_type,
            })
            .collect()
    }

    fn count_children(&self) -> ChildCounts {
        let mut counts = ChildCounts::default();
        for c in self.children.values() {
            let active = matches!(&c.state, State::Running(r) if r.is_alive());
            counts.add(c.spec.child_type, active);
        }
        counts
    }
}

impl<E: Send + 'static> DynamicServer<E> {
    /// What the supervisor tells introspection tools: its children in
    /// start order, with their restarts.
    fn status(&self) -> SystemStatus {
        let mut status = SystemStatus::new("supervisor")
            .state(format!("{} children, one_for_one", self.children.len()))
            .detail("strategy", "one_for_one")
            .detail("intensity", events::intensity_text(self.intensity))
            .detail("restarts", self.restarts);
        if let Some(max) = self.max_children {
            status = status.detail("max_children", max);
        }
        if let Some(name) = &self.me.name {
            status = status.detail("name", name);
        }
        for c in self.children.values() {
            let (pid, state) = match &c.state {
                State::Running(r) => (Some(r.pid), "running"),
                State::Restarting { .. } => (None, "restarting"),
            };
            status = status.child(SupervisedChild::new(
                None,
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

impl<E: Send + 'static> Process for DynamicServer<E> {
    type Message = DynRequest<E>;

    fn kind() -> ProcessKind {
        ProcessKind::new("supervisor", "rotp_supervisor::DynamicSupervisor")
    }

    fn system(
        &mut self,
        request: SystemRequest,
        _ctx: &mut Context<'_, DynRequest<E>>,
    ) -> SystemReply {
        match request {
            SystemRequest::Status => SystemReply::Status(self.status()),
            _ => SystemReply::NotSupported,
        }
    }

    fn init(&mut self, ctx: &mut Context<'_, DynRequest<E>>) {
        let reply = self.init.take().expect("init runs once");
        self.me.pid = ctx.pid();
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
                ctx.exit(ExitReason::Normal);
                return;
            }
        }
        reply.send(Ok(()));
    }

    fn handle(&mut self, request: DynRequest<E>, ctx: &mut Context<'_, DynRequest<E>>) {
        match request {
            DynRequest::StartChild(spec, reply) => {
                reply.send(self.start_child(spec, ctx));
            }
            DynRequest::TerminateChild(pid, requester, reply) => {
                reply.send(self.terminate_child(pid, requester, ctx));
            }
            DynRequest::WhichChildren(reply) => {
                reply.send(self.which_children());
            }
            DynRequest::CountChildren(reply) => {
                reply.send(self.count_children());
            }
            DynRequest::Stop(reason, requester) => self.shut_down(reason, requester, ctx),
            DynRequest::TryAgain(key, attempt) => self.try_again(key, attempt, ctx),
        }
    }

    fn handle_exit(&mut self, from: Pid, reason: ExitReason, ctx: &mut Context<'_, DynRequest<E>>) {
        if from == ctx.parent() {
            self.shut_down(reason, None, ctx);
            return;
        }
        let Some(&key) = self.by_pid.get(&from) else {
            return; // rule 124
        };
        if matches!(&self.children[&key].state, State::Running(r) if r.pid == from) {
            self.child_exited(key, from, reason, ctx);
        }
    }
}

impl<E> Drop for DynamicServer<E> {
    fn drop(&mut self) {
        // As for `SupervisorServer`: a via name is released with the state.
        if let Some(name) = &self.me.name {
            name.release_on_exit();
        }
    }
}
