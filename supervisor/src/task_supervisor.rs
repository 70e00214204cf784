//! [`TaskSupervisor`]: a DynamicSupervisor whose children are tasks
//! (Elixir's `Task.Supervisor`, rules 195-200).
//!
//! Every operation is a [`DynamicSupervisor`] request: a task is a
//! temporary worker child (5 s shutdown unless told otherwise) whose start
//! function, run inside the supervisor, spawns the task process linked to
//! the supervisor. What differs is what the caller gets back:
//!
//! ```text
//!  start_child(f)     ──► Ok(pid)        fire-and-forget, linked to the supervisor only
//!  run(f)             ──► Ok(Task<T>)    also linked to the caller   (Task.Supervisor.async)
//!  run_nolink(f)      ──► Ok(Task<T>)    watched, not linked         (async_nolink)
//!  run_nolink_info(f) ──► Ok(MonitorRef) result and DOWN reach a GenServer's handle_info
//!  stream(items, f)   ──► TaskStream     one task per item               (async_stream)
//! ```
//!
//! The [`Task`]s are the ordinary ones of `rotp_gen_server`, made with the
//! hook [`Task::prepare`]: `await_result`, `yield_timeout`, `shutdown`,
//! `ignore` and `await_many` work on them as on [`Task::run`]'s.

mod handshake;
mod stream;

use std::fmt;
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use rotp_gen_server::{Ctx, GenServer, ServerName, Task};
use rotp_runtime::{ExitReason, Handle, MonitorRef, Pid};

use crate::child_spec::{ChildSpec, Restart, Shutdown};
use crate::dynamic::{DynamicSupervisor, DynamicSupervisorOptions};
use crate::dynamic_spec::DynamicChildSpec;
use crate::error::{
    CallError, StartChildError, StopError, SupervisorStartError, TaskRunError, TerminateChildError,
};
use crate::info::{ChildCounts, ChildStatus};

pub use handshake::TASK_HANDSHAKE_TIMEOUT;

/// How to start a [`TaskSupervisor`] (rule 195): `max_children`,
/// `max_restarts`, `max_seconds` and a name — the options of a
/// [`DynamicSupervisor`] without an extra argument. Elixir's deprecated
/// supervisor-wide `:restart` and `:shutdown` are not there; give them per
/// task ([`TaskOptions`], [`TaskSupervisor::run_opts`]).
///
/// ```
/// use rotp_supervisor::TaskSupervisorOptions;
/// let opts = TaskSupervisorOptions::new().max_children(10).name("tasks");
/// assert_eq!(opts.max_children, Some(10));
/// ```
pub type TaskSupervisorOptions = DynamicSupervisorOptions<()>;

/// How long a task gets to stop when its supervisor stops it, by default
/// (Elixir: 5000 ms, rule 195).
pub const DEFAULT_TASK_SHUTDOWN: Duration = Duration::from_secs(5);

/// How a task started with [`TaskSupervisor::start_child_opts`] is
/// restarted and stopped (rule 196). The defaults are Elixir's: temporary,
/// 5 s shutdown.
///
/// ```
/// use rotp_supervisor::{Restart, Shutdown, TaskOptions};
/// let opts = TaskOptions::new().restart(Restart::Transient).shutdown(Shutdown::BrutalKill);
/// assert_eq!(opts.restart, Restart::Transient);
/// assert_eq!(TaskOptions::new().restart, Restart::Temporary);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TaskOptions {
    /// When the task is restarted; default [`Restart::Temporary`].
    pub restart: Restart,
    /// How the supervisor stops it; default 5 s. A task body is never
    /// interrupted: a shutdown or kill takes effect when the body returns
    /// (R1), so a long body should poll [`Task::is_exiting`].
    pub shutdown: Shutdown,
}

impl Default for TaskOptions {
    fn default() -> Self {
        TaskOptions {
            restart: Restart::Temporary,
            shutdown: Shutdown::Timeout(DEFAULT_TASK_SHUTDOWN),
        }
    }
}

impl TaskOptions {
    /// Temporary, 5 s shutdown.
    pub fn new() -> Self {
        TaskOptions::default()
    }

    /// Sets the restart type.
    pub fn restart(mut self, restart: Restart) -> Self {
        self.restart = restart;
        self
    }

    /// Sets the shutdown.
    pub fn shutdown(mut self, shutdown: Shutdown) -> Self {
        self.shutdown = shutdown;
        self
    }
}

/// A supervisor of tasks (Elixir's `Task.Supervisor`, rules 195-200): a
/// [`DynamicSupervisor`] whose children are closures run as task
/// processes.
///
/// ```
/// use rotp_supervisor::{TaskSupervisor, TaskSupervisorOptions};
///
/// let rt = rotp_runtime::Runtime::new().unwrap();
/// let tasks = TaskSupervisor::start_link(&rt, TaskSupervisorOptions::new().name("tasks")).unwrap();
///
/// // A task to await, as with Task.Supervisor.async:
/// let task = tasks.run(|| (1..=5u64).sum::<u64>()).unwrap();
/// assert_eq!(task.await_result(), Ok(15));
///
/// // Fire and forget:
/// let (tx, rx) = std::sync::mpsc::channel();
/// tasks.start_child(move || tx.send("logged").unwrap()).unwrap();
/// assert_eq!(rx.recv().unwrap(), "logged");
/// ```
///
/// # Linked, or not
///
/// Every task is linked to the supervisor, which stops it with its shutdown
/// value when asked to ([`terminate_child`](Self::terminate_child)) or when
/// the supervisor itself stops. Towards the caller:
///
/// - [`start_child`](Self::start_child): no relation at all (rule 196).
/// - [`run`](Self::run): linked, like [`Task::run`]: a task that panics
///   kills a caller process that does not trap exits, and the caller's
///   death kills the task (rule 197).
/// - [`run_nolink`](Self::run_nolink): not linked. The caller watches the
///   task through the returned [`Task`]: a panic does not reach it;
///   `yield_timeout` returns the exit as `Err(TaskError::Exited(reason))`,
///   and `await_result` fails with it (rule 197). rotp never makes a
///   function exit its caller, so "`await` exits the caller" is this error
///   value, as for every [`Task`].
///
/// # The handshake (rule 198)
///
/// The closure travels with the child, so a task never waits for its job.
/// It checks on its owner when it starts instead: if the owner is already
/// gone, the task exits `{shutdown, reason}` without running. See
/// [`Task::prepare`] and, for the GenServer form that keeps the 5 s wait,
/// [`run_nolink_info`](Self::run_nolink_info).
///
/// # Errors
///
/// `max_children` reached: `start_child` returns
/// [`StartChildError::MaxChildren`] and `run*` return
/// [`TaskRunError::MaxChildren`], where Elixir's `async` raises. Nothing is
/// started.
///
/// A `TaskSupervisor` is a `DynamicSupervisor<()>`;
/// [`as_dynamic`](Self::as_dynamic) gives that view, and
/// [`whereis`](Self::whereis) finds either.
#[derive(Clone)]
pub struct TaskSupervisor {
    sup: DynamicSupervisor,
    handle: Handle,
}

impl fmt::Debug for TaskSupervisor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "TaskSupervisor({})", self.sup.pid())
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // Only `Option::take` runs under these locks: never poisoned midway.
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// A start function that runs `start` once, for a temporary child: a
/// second call (there is none; temporary children are never restarted)
/// ignores the start.
fn once<S: Send + 'static>(start: S, run: fn(S) -> Pid) -> impl Fn() -> crate::StartResult {
    let cell = Mutex::new(Some(start));
    move || Ok(lock(&cell).take().map(run))
}

impl TaskSupervisor {
    /// Starts a task supervisor with no children, linked to the calling
    /// process if there is one (rule 195).
    ///
    /// # Errors
    ///
    /// As [`DynamicSupervisor::start_link`]: [`SupervisorStartError::InvalidFlags`]
    /// for a zero `max_seconds`, [`SupervisorStartError::AlreadyStarted`] if the name
    /// is taken.
    pub fn start_link(
        handle: &Handle,
        opts: TaskSupervisorOptions,
    ) -> Result<Self, SupervisorStartError> {
        Ok(TaskSupervisor {
            sup: DynamicSupervisor::start_link(handle, opts)?,
            handle: handle.clone(),
        })
    }

    /// A child spec that starts a task supervisor under a parent supervisor
    /// (type supervisor, shutdown infinity), like `{Task.Supervisor, opts}`:
    /// its id is the local name of `opts`, or `"TaskSupervisor"` without
    /// one (set another with [`ChildSpec::id`]).
    ///
    /// ```
    /// use rotp_supervisor::{Supervisor, SupervisorOptions, TaskSupervisor, TaskSupervisorOptions};
    ///
    /// let rt = rotp_runtime::Runtime::new().unwrap();
    /// let opts = TaskSupervisorOptions::new().name("app.tasks");
    /// let _app = Supervisor::start_link(
    ///     &rt,
    ///     vec![TaskSupervisor::child_spec(opts)],
    ///     SupervisorOptions::new(),
    /// )
    /// .unwrap();
    /// let tasks = TaskSupervisor::whereis(&rt, "app.tasks").unwrap();
    /// assert_eq!(tasks.run(|| 1 + 1).unwrap().await_result(), Ok(2));
    /// ```
    pub fn child_spec(opts: TaskSupervisorOptions) -> ChildSpec {
        let named = matches!(opts.name, Some(ServerName::Local(_)));
        let spec = DynamicSupervisor::child_spec(opts);
        if named {
            spec
        } else {
            spec.id("TaskSupervisor")
        }
    }

    /// The task supervisor registered as `name`, if any.
    pub fn whereis(handle: &Handle, name: &str) -> Option<Self> {
        TaskSupervisor::from_pid(handle, handle.whereis(name)?)
    }

    /// The task supervisor with pid `pid`, if `pid` is one (or any
    /// `DynamicSupervisor<()>`).
    pub fn from_pid(handle: &Handle, pid: Pid) -> Option<Self> {
        Some(TaskSupervisor {
            sup: DynamicSupervisor::from_pid(handle, pid)?,
            handle: handle.clone(),
        })
    }

    /// The supervisor's pid.
    pub fn pid(&self) -> Pid {
        self.sup.pid()
    }

    /// Whether the supervisor is alive.
    pub fn is_alive(&self) -> bool {
        self.sup.is_alive()
    }

    /// The same supervisor seen as the [`DynamicSupervisor`] it is, for
    /// `which_children` and the rest of its API.
    pub fn as_dynamic(&self) -> &DynamicSupervisor {
        &self.sup
    }

    /// Runs `f` in a task under the supervisor, fire-and-forget: temporary,
    /// 5 s shutdown, not linked to the caller (rule 196). Returns the
    /// task's pid. The task runs whatever becomes of the caller.
    ///
    /// ```
    /// use rotp_supervisor::{TaskSupervisor, TaskSupervisorOptions};
    ///
    /// let rt = rotp_runtime::Runtime::new().unwrap();
    /// let tasks = TaskSupervisor::start_link(&rt, TaskSupervisorOptions::new()).unwrap();
    /// let (tx, rx) = std::sync::mpsc::channel();
    /// let pid = tasks.start_child(move || tx.send(2 + 2).unwrap()).unwrap();
    /// assert_eq!(rx.recv().unwrap(), 4);
    /// # let _ = pid;
    /// ```
    ///
    /// # Errors
    ///
    /// [`StartChildError::MaxChildren`] (nothing started),
    /// [`StartChildError::Call`] if the supervisor is gone.
    pub fn start_child(&self, f: impl FnOnce() + Send + 'static) -> Result<Pid, StartChildError> {
        let spec = DynamicChildSpec::worker(once(Box::new(f) as Box<dyn FnOnce() + Send>, |f| {
            Task::start_link(&Handle::current(), f)
        }));
        self.start_task(spec, TaskOptions::new())
    }

    /// [`start_child`](Self::start_child) with a restart type and a
    /// shutdown (rule 196). A restarted task runs `f` again, so `f` is
    /// `Fn`: a transient task is restarted after a panic (an abnormal
    /// exit) until it returns, a permanent one after every exit — within
    /// the supervisor's restart intensity.
    ///
    /// ```
    /// use std::sync::atomic::{AtomicU32, Ordering::SeqCst};
    /// use std::sync::Arc;
    /// use rotp_supervisor::{Restart, TaskOptions, TaskSupervisor, TaskSupervisorOptions};
    ///
    /// let rt = rotp_runtime::Runtime::new().unwrap();
    /// let tasks = TaskSupervisor::start_link(&rt, TaskSupervisorOptions::new()).unwrap();
    /// let tries = Arc::new(AtomicU32::new(0));
    /// let (t, (tx, rx)) = (tries.clone(), std::sync::mpsc::channel());
    /// tasks.start_child_opts(move || {
    ///     // Fails twice, then succeeds: a transient task is retried.
    ///     assert!(t.fetch_add(1, SeqCst) >= 2, "not yet");
    ///     tx.send("done").unwrap();
    /// }, TaskOptions::new().restart(Restart::Transient)).unwrap();
    /// assert_eq!(rx.recv().unwrap(), "done");
    /// assert_eq!(tries.load(SeqCst), 3);
    /// ```
    ///
    /// # Errors
    ///
    /// As [`start_child`](Self::start_child).
    pub fn start_child_opts<F>(&self, f: F, opts: TaskOptions) -> Result<Pid, StartChildError>
    where
        F: Fn() + Send + Sync + 'static,
    {
        let f = std::sync::Arc::new(f);
        let spec = DynamicChildSpec::worker(move || {
            let f = f.clone();
            Ok(Some(Task::start_link(&Handle::current(), move || f())))
        });
        self.start_task(spec, opts)
    }

    fn start_task(
        &self,
        spec: DynamicChildSpec,
        opts: TaskOptions,
    ) -> Result<Pid, StartChildError> {
        let spec = spec.restart(opts.restart).shutdown(opts.shutdown);
        match self.sup.start_child(spec)? {
            Some(pid) => Ok(pid),
            // The start function always starts the task the first time.
            None => Err(StartChildError::Failed(ExitReason::custom(
                "the task start was ignored",
            ))),
        }
    }

    /// Runs `f` in a task under the supervisor, linked to the caller, and
    /// returns the [`Task`] to await (Elixir's `Task.Supervisor.async`,
    /// rule 197). Temporary, 5 s shutdown.
    ///
    /// Like [`Task::run`], a panicking task kills a caller process that does
    /// not trap exits, and the caller's death kills the task. Called from a
    /// plain thread, the task is linked to nobody.
    ///
    /// ```
    /// use rotp_supervisor::{TaskRunError, TaskSupervisor, TaskSupervisorOptions};
    ///
    /// let rt = rotp_runtime::Runtime::new().unwrap();
    /// let tasks = TaskSupervisor::start_link(&rt, TaskSupervisorOptions::new().max_children(1)).unwrap();
    /// let (release, gate) = std::sync::mpsc::channel::<()>();
    /// let busy = tasks.run(move || gate.recv().is_ok()).unwrap();
    /// // Elixir raises here; rotp returns the error.
    /// assert_eq!(tasks.run(|| true).unwrap_err(), TaskRunError::MaxChildren);
    /// release.send(()).unwrap();
    /// assert_eq!(busy.await_result(), Ok(true));
    /// ```
    ///
    /// # Errors
    ///
    /// [`TaskRunError::MaxChildren`] (nothing started),
    /// [`TaskRunError::Call`] if the supervisor is gone.
    #[doc(alias = "async")]
    pub fn run<T: Send + 'static>(
        &self,
        f: impl FnOnce() -> T + Send + 'static,
    ) -> Result<Task<T>, TaskRunError> {
        self.run_task(f, true, Shutdown::Timeout(DEFAULT_TASK_SHUTDOWN))
    }

    /// [`run`](Self::run) with a shutdown for the supervisor to stop the
    /// task with (Elixir's `shutdown:` option of `async`).
    ///
    /// # Errors
    ///
    /// As [`run`](Self::run).
    pub fn run_opts<T: Send + 'static>(
        &self,
        f: impl FnOnce() -> T + Send + 'static,
        shutdown: Shutdown,
    ) -> Result<Task<T>, TaskRunError> {
        self.run_task(f, true, shutdown)
    }

    /// Runs `f` in a task under the supervisor, *not* linked to the caller,
    /// and returns the [`Task`] to await (Elixir's
    /// `Task.Supervisor.async_nolink`, rule 197). Temporary, 5 s shutdown.
    ///
    /// A panicking task does not reach the caller; `await_result` and
    /// `yield_timeout` return its exit as `Err(TaskError::Exited(reason))`.
    ///
    /// ```
    /// use rotp_gen_server::TaskError;
    /// use rotp_supervisor::{TaskSupervisor, TaskSupervisorOptions};
    ///
    /// let rt = rotp_runtime::Runtime::new().unwrap();
    /// let tasks = TaskSupervisor::start_link(&rt, TaskSupervisorOptions::new()).unwrap();
    /// let mut task = tasks.run_nolink(|| -> u32 { panic!("bad input") }).unwrap();
    /// let outcome = task.yield_timeout(std::time::Duration::from_secs(5));
    /// assert!(matches!(outcome, Err(TaskError::Exited(_))));
    /// ```
    ///
    /// # Errors
    ///
    /// As [`run`](Self::run).
    #[doc(alias = "async_nolink")]
    pub fn run_nolink<T: Send + 'static>(
        &self,
        f: impl FnOnce() -> T + Send + 'static,
    ) -> Result<Task<T>, TaskRunError> {
        self.run_task(f, false, Shutdown::Timeout(DEFAULT_TASK_SHUTDOWN))
    }

    /// [`run_nolink`](Self::run_nolink) with a shutdown.
    ///
    /// # Errors
    ///
    /// As [`run`](Self::run).
    pub fn run_nolink_opts<T: Send + 'static>(
        &self,
        f: impl FnOnce() -> T + Send + 'static,
        shutdown: Shutdown,
    ) -> Result<Task<T>, TaskRunError> {
        self.run_task(f, false, shutdown)
    }

    fn run_task<T: Send + 'static>(
        &self,
        f: impl FnOnce() -> T + Send + 'static,
        link: bool,
        shutdown: Shutdown,
    ) -> Result<Task<T>, TaskRunError> {
        let (pending, child) = Task::prepare(&self.handle, f, link);
        let spec =
            DynamicChildSpec::worker(once(child, |child| child.spawn_link(&Handle::current())));
        self.start_task(spec, TaskOptions::new().shutdown(shutdown))
            .map_err(TaskRunError::from)?;
        pending
            .spawned()
            .ok_or_else(|| TaskRunError::Failed(ExitReason::custom("the task was not spawned")))
    }

    /// Runs `f` in a task under the supervisor for a GenServer, Elixir's
    /// `async_nolink` inside an OTP behaviour (rule 199): the task is not
    /// linked to the server, the server monitors it, and both outcomes
    /// arrive in `handle_info`:
    ///
    /// - the result, as `Info::Msg(wrap(mref, result))`, then the `DOWN`
    ///   with reason `normal` — drop it with
    ///   [`ctx.demonitor_flush(mref)`](rotp_gen_server::Ctx::demonitor_flush);
    /// - or only `Info::Down(down)` with `down.mref == mref` and the task's
    ///   exit reason, if it panicked or was stopped.
    ///
    /// The returned [`MonitorRef`] is that `mref`. Temporary, 5 s shutdown.
    ///
    /// This one keeps Elixir's handshake (rule 198): the task starts,
    /// monitors the server, and waits up to [`TASK_HANDSHAKE_TIMEOUT`] for
    /// its job — the monitor reference, which exists only once the server
    /// has monitored the started task. If the server dies first, the task
    /// exits `{shutdown, reason}` without running `f`; if no job comes in
    /// time, it exits `timeout`.
    ///
    /// ```
    /// use rotp_gen_server::{gen_server, noreply, Ctx, GenServer, Handled, Info, Init, InitResult};
    /// use rotp_runtime::MonitorRef;
    /// use rotp_supervisor::{TaskSupervisor, TaskSupervisorOptions};
    ///
    /// struct Fetcher { tasks: TaskSupervisor, pending: Option<MonitorRef>, done: std::sync::mpsc::Sender<u32> }
    /// enum Msg { Fetched(MonitorRef, u32) }
    ///
    /// #[gen_server]
    /// impl GenServer for Fetcher {
    ///     fn init(
    ///         (tasks, done): (TaskSupervisor, std::sync::mpsc::Sender<u32>),
    ///         ctx: &mut Ctx<'_, Self>,
    ///     ) -> InitResult<Self> {
    ///         let pending = tasks.run_nolink_info(ctx, || 42, Msg::Fetched).ok();
    ///         Init::ok(Fetcher { tasks, pending, done })
    ///     }
    ///     fn handle_info(&mut self, info: Info<Msg>, ctx: &mut Ctx<'_, Self>) -> Handled<Self> {
    ///         match info {
    ///             Info::Msg(Msg::Fetched(mref, n)) if Some(mref) == self.pending => {
    ///                 ctx.demonitor_flush(mref); // no DOWN for a task that answered
    ///                 self.pending = None;
    ///                 self.done.send(n).unwrap();
    ///             }
    ///             Info::Down(down) if Some(down.mref) == self.pending => {
    ///                 self.pending = None; // the task failed: log, retry...
    ///             }
    ///             _ => {}
    ///         }
    ///         noreply()
    ///     }
    /// }
    ///
    /// let rt = rotp_runtime::Runtime::new().unwrap();
    /// let tasks = TaskSupervisor::start_link(&rt, TaskSupervisorOptions::new()).unwrap();
    /// let (tx, rx) = std::sync::mpsc::channel();
    /// rotp_gen_server::start::<Fetcher>(&rt, (tasks, tx), Default::default()).unwrap();
    /// assert_eq!(rx.recv().unwrap(), 42);
    /// ```
    ///
    /// # Errors
    ///
    /// As [`run`](Self::run).
    #[doc(alias = "async_nolink")]
    pub fn run_nolink_info<G, T, F, W>(
        &self,
        ctx: &mut Ctx<'_, G>,
        f: F,
        wrap: W,
    ) -> Result<MonitorRef, TaskRunError>
    where
        G: GenServer,
        T: Send + 'static,
        F: FnOnce() -> T + Send + 'static,
        W: FnOnce(MonitorRef, T) -> G::Info + Send + 'static,
    {
        let server = ctx.server_ref();
        let (task, job) = handshake::HandshakeTask::new(ctx.pid(), f, move |mref, value| {
            server.send_info(wrap(mref, value))
        });
        let spec = DynamicChildSpec::worker(once(task, |task| task.spawn_link(&Handle::current())));
        let pid = self
            .start_task(spec, TaskOptions::new())
            .map_err(TaskRunError::from)?;
        let mref = ctx.monitor(pid);
        job.send(mref);
        Ok(mref)
    }

    /// Stops task `pid` per its shutdown value and returns once it has
    /// exited (rule 200).
    ///
    /// # Errors
    ///
    /// [`TerminateChildError::NotFound`] if `pid` is not a child (any
    /// more); [`TerminateChildError::Call`] if the supervisor is gone.
    pub fn terminate_child(&self, pid: Pid) -> Result<(), TerminateChildError> {
        self.sup.terminate_child(pid)
    }

    /// The pids of the running tasks, in start order; restarting ones are
    /// left out (rule 200).
    pub fn children(&self) -> Result<Vec<Pid>, CallError> {
        Ok(self
            .sup
            .which_children()?
            .into_iter()
            .filter_map(|c| match c.status {
                ChildStatus::Running(pid) => Some(pid),
                ChildStatus::Restarting | ChildStatus::Undefined => None,
            })
            .collect())
    }

    /// Counts the children (rule 162).
    pub fn count_children(&self) -> Result<ChildCounts, CallError> {
        self.sup.count_children()
    }

    /// Stops every task at once, each per its shutdown value (rule 161),
    /// then the supervisor, with `reason`.
    pub fn stop(&self, reason: ExitReason) -> Result<(), StopError> {
        self.sup.stop(reason)
    }

    /// [`stop`](Self::stop), waiting at most `timeout`.
    pub fn stop_timeout(
        &self,
        reason: ExitReason,
        timeout: Option<Duration>,
    ) -> Result<(), StopError> {
        self.sup.stop_timeout(reason, timeout)
    }
}

impl From<StartChildError> for TaskRunError {
    fn from(e: StartChildError) -> Self {
        match e {
            StartChildError::MaxChildren => TaskRunError::MaxChildren,
            StartChildError::Call(e) => TaskRunError::Call(e),
            StartChildError::Failed(reason) => TaskRunError::Failed(reason),
            // Cannot happen for a task (no names, never significant); kept
            // total.
            other => TaskRunError::Failed(ExitReason::custom(other)),
        }
    }
}
