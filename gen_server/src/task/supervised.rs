//! Tasks whose process someone else spawns: the hook a task supervisor uses
//! to make its children ordinary [`Task`]s (Elixir's `Task.Supervisor.async`
//! and `async_nolink`, rules 197-198). [`Task::prepare`] documents the
//! protocol.
//!
//! A [`SupervisedTask`] is a [`TaskProcess`] with a first step: check the
//! owner (and link to it, if asked) before the body runs. The rest — the
//! `Control` block, detaching, the reply — is the task's own.

use std::fmt;
use std::sync::{Arc, Mutex};

use rotp_runtime::{
    reply_channel, Addr, Context, ExitReason, Handle, Pid, Process, ProcessRef, ReplyWait,
    SpawnOptions,
};

use super::{lock, Control, Never, Owner, Running, State, Task, TaskProcess};

/// Where the child half leaves the task's address for the owner's half.
type Slot = Arc<Mutex<Option<Addr<Never>>>>;

impl<T: Send + 'static> Task<T> {
    /// Prepares a task running `f`, owned by the calling process (or
    /// thread), whose process someone else spawns: a task supervisor's
    /// `async` (Elixir's `Task.Supervisor.async`, rule 197).
    ///
    /// ```text
    ///  owner ── prepare(f) ──► PendingTask ........ spawned() ──► Task<T>
    ///                      └─► TaskChild ── to the supervisor ──► spawn_link()
    /// ```
    ///
    /// The supervisor spawns the [`TaskChild`] linked to itself; the owner
    /// turns the [`PendingTask`] into the [`Task`], with the same
    /// `await_result`, `yield_timeout`, `shutdown` and `ignore` as
    /// [`run`](Self::run)'s.
    ///
    /// If `link_owner`, the task links to its owner when it starts, before
    /// its body runs, as [`run`](Self::run) does; otherwise the owner only
    /// watches it through the `Task`, and a crash does not reach the owner
    /// (Elixir's `async_nolink`).
    ///
    /// **Handshake (rule 198).** In Elixir the owner sends the started task
    /// its job, and the task, monitoring the owner, waits up to 5 s for it.
    /// Here `f` travels with the child, so there is nothing to wait for;
    /// what the handshake protects is kept: when the task starts, if its
    /// owner is gone, it exits `{shutdown, reason}` (the owner's reason, or
    /// `noproc`) without running `f`.
    ///
    /// ```
    /// use rotp_gen_server::Task;
    ///
    /// let rt = rotp_runtime::Runtime::new().unwrap();
    /// let (pending, child) = Task::prepare(&rt, || 6 * 7, false);
    /// // Usually a supervisor's start function does this, inside the supervisor.
    /// child.spawn_link(&rt);
    /// let task = pending.spawned().unwrap();
    /// assert_eq!(task.await_result(), Ok(42));
    /// ```
    pub fn prepare(
        handle: &Handle,
        f: impl FnOnce() -> T + Send + 'static,
        link_owner: bool,
    ) -> (PendingTask<T>, TaskChild<T>) {
        let owner = Owner::current();
        let watched = match owner {
            Owner::Process(pid) => Some(handle.process_ref(pid).ok_or(pid)),
            Owner::Thread(_) => None,
        };
        let (reply, wait) = reply_channel();
        let control = Arc::new(Mutex::new(Control::default()));
        let slot = Slot::default();
        let child = TaskChild {
            process: SupervisedTask {
                owner: watched,
                link_owner,
                inner: TaskProcess {
                    body: Some(Box::new(f)),
                    reply: Some(reply),
                    linked_to: None,
                    control: control.clone(),
                },
            },
            slot: slot.clone(),
        };
        let pending = PendingTask {
            owner,
            wait,
            control,
            slot,
        };
        (pending, child)
    }
}

/// The process half of a task made by [`Task::prepare`], not yet spawned.
/// Whoever is to supervise the task spawns it with
/// [`spawn_link`](Self::spawn_link).
pub struct TaskChild<T> {
    process: SupervisedTask<T>,
    slot: Slot,
}

impl<T: Send + 'static> TaskChild<T> {
    /// Spawns the task's process linked to the calling process (inside a
    /// supervisor's start function: the supervisor) and returns its pid.
    /// From a plain thread the process is linked to nobody.
    pub fn spawn_link(self, handle: &Handle) -> Pid {
        let (addr, _) = handle.spawn_opts(self.process, &SpawnOptions::new().link(true));
        let pid = addr.pid();
        *lock(&self.slot) = Some(addr);
        pid
    }
}

impl<T> fmt::Debug for TaskChild<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TaskChild")
            .field("link_owner", &self.process.link_owner)
            .finish_non_exhaustive()
    }
}

/// The owner's half of a task made by [`Task::prepare`]: becomes the
/// [`Task`] once its [`TaskChild`] has been spawned.
pub struct PendingTask<T> {
    owner: Owner,
    wait: ReplyWait<T>,
    control: Arc<Mutex<Control>>,
    slot: Slot,
}

impl<T: Send + 'static> PendingTask<T> {
    /// The task, if its [`TaskChild`] has been spawned; `None` if it was
    /// not (it was dropped: the task never existed).
    pub fn spawned(self) -> Option<Task<T>> {
        let addr = lock(&self.slot).take()?;
        Some(Task {
            owner: self.owner,
            state: State::Running(Running {
                addr,
                wait: self.wait,
                control: self.control,
            }),
        })
    }
}

impl<T> fmt::Debug for PendingTask<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PendingTask")
            .field("owner", &self.owner)
            .finish_non_exhaustive()
    }
}

/// A task process that checks on its owner before running its body.
struct SupervisedTask<T> {
    /// The owner process (`Err` if it was already gone when the task was
    /// prepared); `None` for a plain thread, which cannot be watched.
    owner: Option<Result<ProcessRef, Pid>>,
    link_owner: bool,
    inner: TaskProcess<T>,
}

impl<T> SupervisedTask<T> {
    /// The handshake of rule 198: `Err` with the reason to exit with if the
    /// owner is gone. Links to the owner if asked to and still attached.
    fn check_owner(&mut self, ctx: &mut Context<'_, Never>) -> Result<(), ExitReason> {
        let gone = |reason: Option<ExitReason>| {
            Err(ExitReason::shutdown_with(
                reason.unwrap_or(ExitReason::NoProc),
            ))
        };
        let owner = match &self.owner {
            None => return Ok(()),
            Some(Err(_)) => return gone(None),
            Some(Ok(owner)) => owner,
        };
        if !owner.is_alive() {
            return gone(owner.exit_reason());
        }
        if self.link_owner {
            // Linked under the control lock: an owner that lets go
            // (`ignore`) sets `detached` under it and then unlinks, so the
            // link is either never made or removed by the owner.
            let control = lock(&self.inner.control);
            if !control.detached {
                if ctx.link(owner.pid()).is_err() {
                    drop(control);
                    return gone(owner.exit_reason());
                }
                self.inner.linked_to = Some(owner.pid());
            }
        }
        Ok(())
    }
}

impl<T: Send + 'static> Process for SupervisedTask<T> {
    type Message = Never;

    fn init(&mut self, ctx: &mut Context<'_, Never>) {
        match self.check_owner(ctx) {
            Ok(()) => self.inner.init(ctx),
            Err(reason) => ctx.exit(reason),
        }
    }

    fn handle(&mut self, msg: Never, _ctx: &mut Context<'_, Never>) {
        match msg {}
    }
}
