//! `Task`: run a function in its own process and collect its result later
//! (Elixir's `Task`, rules 184-194).
//!
//! The public behaviour is documented on [`Task`]. Inside: a task is a
//! [`TaskProcess`] whose `init` runs the body under `catch_panic` and
//! `blocking`, sends the result through a [`ReplySender`] and exits; the
//! [`Task`] handle keeps the other half ([`ReplyWait`]) and the process's
//! `Addr`, through which it sees the exit reason (its "monitor"). The two
//! share a [`Control`] block for detaching and for waking waiters of
//! `await_many`, `yield_many` ([`many`]) and streams ([`stream`]).

mod many;
mod stream;
mod supervised;

pub use many::{OnYieldTimeout, YieldManyOptions};
pub use stream::{OnStreamTimeout, StreamOptions, TaskStream};
pub use supervised::{PendingTask, TaskChild};

use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::thread::ThreadId;
use std::time::Duration;

use rotp_runtime::{
    blocking, catch_panic, reply_channel, Addr, Context, ExitReason, Handle, Pid, Process,
    ReplySender, ReplyWait, SpawnOptions, WaitError,
};
use thiserror::Error;

/// The default timeout of `await_result`, `yield_result`, `shutdown` and
/// of each task of a stream: 5 seconds (R7).
pub const DEFAULT_TASK_TIMEOUT: Duration = Duration::from_secs(5);

/// Why a task operation did not produce the task's result.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum TaskError {
    /// No result within the timeout (rule 187). After `await_result` the
    /// task keeps running, detached from the wait; its late result is
    /// dropped.
    #[error("task timed out")]
    Timeout,
    /// The task exited without a result, with this reason: a panic, a
    /// kill, a shutdown (rules 185, 187). `NoProc` when the result was
    /// already taken (rule 190).
    #[error("task exited: {0}")]
    Exited(ExitReason),
    /// Only the process (or thread) that created a task may await, yield,
    /// shut down or ignore it (rule 186, R13).
    #[error("only the task's owner may do this")]
    NotOwner,
    /// Waiting would close a cycle of processes waiting on each other (the
    /// task waits on its owner).
    #[error("wait cycle: {0:?}")]
    Deadlock(Vec<Pid>),
    /// The owner was itself told to exit while it waited (a kill, or an
    /// exit signal it does not trap, from elsewhere than the task): the wait
    /// ends so that its handler can return and the exit take effect (R1).
    /// The task is left as it was.
    #[error("the owner is exiting")]
    OwnerExiting,
}

impl TaskError {
    /// The exit reason Elixir's caller would exit with.
    pub fn reason(&self) -> ExitReason {
        match self {
            TaskError::Timeout => ExitReason::Timeout,
            TaskError::Exited(r) => r.clone(),
            TaskError::NotOwner => ExitReason::custom("not_owner"),
            TaskError::Deadlock(_) => ExitReason::custom("deadlock"),
            TaskError::OwnerExiting => ExitReason::Killed,
        }
    }
}

/// Whether the calling process has been told to exit; false outside a
/// process.
fn self_exiting() -> bool {
    match (rotp_runtime::self_pid(), Handle::try_current()) {
        (Some(pid), Some(handle)) => !handle.is_alive(pid),
        _ => false,
    }
}

/// How [`Task::shutdown`] stops a task (rule 190).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TaskShutdown {
    /// Send `shutdown`, wait up to this long for the task to exit, then
    /// kill it.
    Timeout(Duration),
    /// Kill it at once.
    BrutalKill,
}

impl Default for TaskShutdown {
    /// `Timeout(5 s)`, Elixir's default.
    fn default() -> Self {
        TaskShutdown::Timeout(DEFAULT_TASK_TIMEOUT)
    }
}

/// Who created a task: only they may collect it (rule 186).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Owner {
    Process(Pid),
    Thread(ThreadId),
}

impl Owner {
    fn current() -> Owner {
        match rotp_runtime::self_pid() {
            Some(pid) => Owner::Process(pid),
            None => Owner::Thread(std::thread::current().id()),
        }
    }
}

/// Wakes whoever waits on any of several tasks (`await_many` and friends).
type Waker = Mutex<Option<ReplySender<()>>>;

/// What a task and the handle on it share.
///
/// When the owner lets go with `ignore`, it removes the link itself at
/// once (rule 191). When it stops the task (`shutdown`), the task removes
/// the link: at the start of its body if the owner let go already, else
/// when the body returns. A task stopped by its owner before it ever
/// ran is not killed by the runtime (that would skip the unlink and hit the
/// owner through the link): it finds `cancel` set when it starts, unlinks,
/// and exits with that reason without running the body.
#[derive(Default)]
struct Control {
    /// The task process entered `init` (its body is about to run).
    started: bool,
    /// Set by the owner before the task started: exit with this reason
    /// instead of running the body.
    cancel: Option<ExitReason>,
    /// The owner let go (`ignore`, `shutdown`): the task unlinks from it.
    detached: bool,
    /// The task process is gone (its state was dropped at exit).
    finished: bool,
    /// Fired once when the task finishes.
    waker: Option<Arc<Waker>>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // Nothing panics while holding these locks; a poisoned one is still
    // consistent.
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

fn wake(waker: &Waker) {
    if let Some(sender) = lock(waker).take() {
        sender.send(());
    }
}

/// A task process never handles a message: it runs its body in `init` and
/// exits.
enum Never {}

type Body<T> = Box<dyn FnOnce() -> T + Send>;

struct TaskProcess<T> {
    body: Option<Body<T>>,
    reply: Option<ReplySender<T>>,
    /// The owner process the task is linked to, if any.
    linked_to: Option<Pid>,
    control: Arc<Mutex<Control>>,
}

impl<T: Send + 'static> Process for TaskProcess<T> {
    type Message = Never;

    fn init(&mut self, ctx: &mut Context<'_, Never>) {
        let Some(body) = self.body.take() else {
            return;
        };
        let (cancel, detached) = {
            let mut control = lock(&self.control);
            control.started = true;
            (control.cancel.take(), control.detached)
        };
        if detached {
            self.unlink_owner(ctx);
        }
        if let Some(reason) = cancel {
            ctx.exit(reason);
            return;
        }
        let outcome = catch_panic(|| blocking(body));
        // R1: a task told to exit while its body ran (shutdown, kill, the
        // owner's death) is already dead: its result is dropped and the
        // pending reason becomes its exit reason.
        let alive = !ctx.is_exiting();
        let detached = lock(&self.control).detached;
        if detached {
            self.unlink_owner(ctx);
        }
        match outcome {
            Ok(value) => {
                if let (true, Some(reply)) = (alive, self.reply.take()) {
                    reply.send(value);
                }
                ctx.exit(ExitReason::Normal);
            }
            Err(reason) => {
                // Rule 185: a crash is logged. An unlinked task's crash is
                // reported by the runtime itself.
                if let (Some(owner), false) = (self.linked_to, detached) {
                    crate::report::task_crash(ctx.pid(), owner, &reason);
                }
                ctx.exit(reason);
            }
        }
    }

    fn handle(&mut self, msg: Never, _ctx: &mut Context<'_, Never>) {
        match msg {}
    }
}

impl<T> TaskProcess<T> {
    fn unlink_owner(&mut self, ctx: &mut Context<'_, Never>) {
        if let Some(owner) = self.linked_to.take() {
            ctx.unlink(owner);
        }
    }
}

impl<T> Drop for TaskProcess<T> {
    fn drop(&mut self) {
        // Runs when the process exits, after its exit reason is recorded:
        // whoever wakes up here sees the reply or the reason.
        drop(self.reply.take());
        let waker = {
            let mut control = lock(&self.control);
            control.finished = true;
            control.waker.take()
        };
        if let Some(waker) = waker {
            wake(&waker);
        }
    }
}

/// Spawns a task process running `body`, linked to the calling process if
/// `link`.
fn spawn<T: Send + 'static>(
    handle: &Handle,
    body: Body<T>,
    reply: Option<ReplySender<T>>,
    link: bool,
) -> (Addr<Never>, Arc<Mutex<Control>>) {
    let control = Arc::new(Mutex::new(Control::default()));
    let linked_to = if link { rotp_runtime::self_pid() } else { None };
    let process = TaskProcess {
        body: Some(body),
        reply,
        linked_to,
        control: control.clone(),
    };
    let (addr, _) = handle.spawn_opts(process, &SpawnOptions::new().link(link));
    (addr, control)
}

/// The handle side of a task whose process was spawned.
struct Running<T> {
    addr: Addr<Never>,
    wait: ReplyWait<T>,
    control: Arc<Mutex<Control>>,
}

impl<T: Send + 'static> Running<T> {
    fn start(handle: &Handle, body: Body<T>) -> Self {
        let (reply, wait) = reply_channel();
        let (addr, control) = spawn(handle, body, Some(reply), true);
        Running {
            addr,
            wait,
            control,
        }
    }

    /// The outcome if the task has finished, without waiting.
    fn poll(&mut self) -> Option<Result<T, TaskError>> {
        if let Some(value) = self.wait.try_recv() {
            return Some(Ok(value));
        }
        let reason = self.addr.exit_reason()?;
        // The reply may have raced the exit.
        Some(self.wait.try_recv().ok_or(TaskError::Exited(reason)))
    }

    /// Waits on the reply channel, which may be waited on again later. A
    /// wait that ended at its deadline can leave its timer's wake-up behind
    /// for the next wait on the same channel, which then returns `Timeout`
    /// at once; such an early timeout is retried for the time left.
    fn wait_repeatable(&mut self, timeout: Duration) -> Result<T, WaitError> {
        let handle = self.addr.handle();
        let deadline = handle.now() + timeout;
        loop {
            let left = deadline.saturating_sub(handle.now());
            match wait_off_thread(&mut self.wait, &self.addr, Some(left)) {
                Err(WaitError::Timeout) if !left.is_zero() && handle.now() < deadline => continue,
                other => return other,
            }
        }
    }

    /// What a wait that ended without the result means.
    fn failed_wait(&mut self, e: WaitError) -> Result<T, TaskError> {
        match e {
            WaitError::Timeout => Err(TaskError::Timeout),
            WaitError::Exited(reason) => Err(TaskError::Exited(reason)),
            WaitError::Deadlock(cycle) => Err(TaskError::Deadlock(cycle)),
            other => {
                // A wait also ends when the owner itself is told to exit
                // (R1) — most often by the link of this very task, which
                // then has exited already: report how it ended.
                if let Some(outcome) = self.poll() {
                    return outcome;
                }
                if self_exiting() {
                    Err(TaskError::OwnerExiting)
                } else {
                    Err(TaskError::Exited(ExitReason::custom(other)))
                }
            }
        }
    }

    /// Rule 191: the owner lets go. The link goes at once, from the
    /// owner's side, so that nothing the owner does from now on reaches the
    /// task (and nothing the task does reaches the owner). `detached`, set
    /// first under the control lock, keeps a supervised task that has not
    /// linked yet from linking at all (see `supervised.rs`).
    fn ignore(mut self) -> Result<Option<T>, TaskError> {
        lock(&self.control).detached = true;
        if let Some(owner) = rotp_runtime::self_pid() {
            self.addr.handle().unlink_pids(owner, self.addr.pid());
        }
        self.poll().transpose()
    }

    /// Rule 190.
    fn shutdown(mut self, how: TaskShutdown) -> Result<Option<T>, TaskError> {
        let sent = match how {
            TaskShutdown::BrutalKill => ExitReason::Killed,
            TaskShutdown::Timeout(_) => ExitReason::Shutdown,
        };
        let started = self.stop(sent.clone());
        let timeout = match how {
            // A task that never started exits as soon as it is scheduled.
            TaskShutdown::BrutalKill => (!started).then_some(DEFAULT_TASK_TIMEOUT),
            TaskShutdown::Timeout(timeout) => Some(timeout),
        };
        if let Some(timeout) = timeout {
            if self.addr.await_exit(Some(timeout)).is_none() {
                if !started {
                    // Not scheduled yet: it exits with `sent` as soon as it
                    // is, without running its body. A kill now would skip
                    // its unlink and reach the owner.
                    return Ok(self.wait.try_recv());
                }
                // Its body outlived the timeout (as if it trapped the
                // shutdown): kill it. R1: it stops when the body returns
                // and its result is dropped.
                self.addr.handle().kill(self.addr.pid());
                return match self.wait.try_recv() {
                    Some(value) => Ok(Some(value)),
                    None => Err(TaskError::Exited(ExitReason::Killed)),
                };
            }
        }
        match self.poll() {
            Some(Ok(value)) => Ok(Some(value)),
            // Died of exactly the signal sent: `nil`.
            Some(Err(TaskError::Exited(reason))) if reason == sent => Ok(None),
            Some(Err(e)) => Err(e),
            // Killed while its body runs: dead, though not yet gone (R1).
            None => Ok(None),
        }
    }
}

impl<T> Running<T> {
    /// Detaches the task from its owner and stops it with `reason`; see
    /// [`Control`]. Returns whether the task had started (if not, it exits
    /// with `reason` as soon as it is scheduled, without running its body).
    fn stop(&self, reason: ExitReason) -> bool {
        let mut control = lock(&self.control);
        control.detached = true;
        if control.started || control.finished {
            drop(control);
            let handle = self.addr.handle();
            match reason {
                ExitReason::Killed => handle.kill(self.addr.pid()),
                reason => handle.send_exit(self.addr.pid(), reason),
            }
            true
        } else {
            control.cancel = Some(reason);
            false
        }
    }
}

/// Waits for a task's reply (or a wake-up) from `task`.
///
/// A reply wait inside a process may run its callee right here, nested, if
/// the callee is queued on this thread — right for a gen_server call, wrong
/// for a task: a task body may run for long, and the wait must stay able to
/// time out and to end when the owner is told to exit. Waiting inside
/// [`blocking`] first hands this thread's queued work — the task just
/// spawned, typically — to a spare thread, so the task runs there.
fn wait_off_thread<R: Send + 'static>(
    wait: &mut ReplyWait<R>,
    task: &Addr<Never>,
    timeout: Option<Duration>,
) -> Result<R, WaitError> {
    blocking(|| wait.wait(task, timeout))
}

/// Waits until one of `pending` finishes, or `timeout` passes. Returns
/// whether it woke before the timeout.
fn wait_any<T: Send + 'static>(
    pending: &[&Running<T>],
    timeout: Option<Duration>,
) -> Result<bool, TaskError> {
    let Some(first) = pending.first() else {
        return Ok(true);
    };
    let (sender, mut wait) = reply_channel::<()>();
    let waker: Arc<Waker> = Arc::new(Mutex::new(Some(sender)));
    let mut finished = false;
    for task in pending {
        let mut control = lock(&task.control);
        if control.finished {
            finished = true;
            break;
        }
        control.waker = Some(waker.clone());
    }
    let result = if finished {
        Ok(true)
    } else {
        // Any task will do as the callee: its exit ends the wait as well.
        match wait_off_thread(&mut wait, &first.addr, timeout) {
            Ok(()) | Err(WaitError::Exited(_)) => Ok(true),
            Err(WaitError::Timeout) => Ok(false),
            Err(WaitError::Deadlock(cycle)) => Err(TaskError::Deadlock(cycle)),
            Err(_) if self_exiting() => Err(TaskError::OwnerExiting),
            Err(other) => Err(TaskError::Exited(ExitReason::custom(other))),
        }
    };
    for task in pending {
        let mut control = lock(&task.control);
        if control
            .waker
            .as_ref()
            .is_some_and(|w| Arc::ptr_eq(w, &waker))
        {
            control.waker = None;
        }
    }
    result
}

enum State<T> {
    Running(Running<T>),
    /// Made by [`Task::completed`]: no process, the result is here.
    Completed(T),
    /// The result (or exit) was handed out.
    Taken,
}

/// A function running in its own process, whose result its owner collects
/// (Elixir's `Task`, rules 184-194).
///
/// ```
/// use rotp_gen_server::Task;
///
/// let rt = rotp_runtime::Runtime::new().unwrap();
/// let task = Task::run(&rt, || (1..=10u64).product::<u64>());
/// // ... do something else meanwhile ...
/// assert_eq!(task.await_result(), Ok(3_628_800));
/// ```
///
/// ```text
///  owner ── Task::run(f) ──► task process (linked to the owner)
///    │                         runs f inside `blocking`, then
///    │◄──── reply (one-shot) ── sends f's result and exits normal
///    └─ await / yield / shutdown / ignore   (owner only)
/// ```
///
/// # How a task runs
///
/// The task is a process spawned linked to the calling process (rule 184).
/// Its body is blocking code, so it runs inside
/// [`blocking`](rotp_runtime::blocking): the worker's queue moves to a spare
/// thread while the body runs, and no other process waits behind it. The
/// result travels back through a one-shot reply channel whose wait is
/// blocking-aware too: awaiting inside a process holds up only that process.
///
/// OTP's owner also monitors the task and must flush the `DOWN` after
/// `await`. Here the `Task` value itself watches the process (it sees its
/// exit reason), so no `DOWN` ever lands in the owner's mailbox.
///
/// # Owner only
///
/// Only the process (or plain thread) that created a task may collect it;
/// anyone else gets [`TaskError::NotOwner`] (rule 186, adaptation R13). A
/// `Task` may still be moved, e.g. into a gen_server's state: a server that
/// starts a task in one callback can await it in another.
///
/// # Exits and links (rule 185)
///
/// A panicking body makes the task exit with
/// [`ExitReason::Panic`](rotp_runtime::ExitReason::Panic). What the owner
/// sees:
///
/// - **Always**: `await_result` / `yield_result` return the reason as a
///   value, [`TaskError::Exited`] — rotp never makes a function exit its
///   caller.
/// - **Owner is a process that does not trap exits**: the link kills it
///   too, as in OTP. It still gets the error from `await_result`, but it is
///   already marked exiting and ends with the task's reason when its
///   current handler returns.
/// - **Owner traps exits** (e.g. a gen_server after
///   `ctx.trap_exit(true)`): it carries on, and also receives
///   `Info::Exit { from: task, reason }` — after every task, `Normal`
///   included, as OTP delivers it.
/// - **Owner is a plain thread**: there is no link; the error value is all
///   there is.
///
/// The other direction holds as well: an owner that dies kills its tasks.
///
/// # Stopping a running body (R1)
///
/// A body cannot be interrupted. [`shutdown`](Task::shutdown), a kill, or
/// the owner's death mark the task *exiting* at once: its eventual result
/// is dropped, and it exits with the signal's reason as soon as the body
/// returns. A long body may poll [`Task::is_exiting`] and return early.
/// `shutdown` waits for such a body no longer than its timeout.
///
/// [`ignore`](Task::ignore) removes the link between owner and task at
/// once, before it returns (rule 191: an ignored task is on its own). From
/// then on the owner's `process_info` lists no link to the task, the
/// task's exit no longer reaches the owner, and the owner's exit — normal
/// or not — no longer reaches the task, which runs its body to the end.
///
/// `shutdown` detaches the task too, so its exit does not reach the owner;
/// there the task removes the link itself: at once if it had not started
/// its body yet, otherwise when the body returns.
///
/// Dropping a `Task` abandons its result; the task keeps running, linked.
pub struct Task<T> {
    owner: Owner,
    state: State<T>,
}

impl<T> fmt::Debug for Task<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("Task");
        match &self.state {
            State::Running(r) => d.field("pid", &r.addr.pid()),
            State::Completed(_) => d.field("completed", &true),
            State::Taken => d.field("taken", &true),
        };
        d.field("owner", &self.owner).finish()
    }
}

impl<T: Send + 'static> Task<T> {
    /// Runs `f` in a new process linked to the caller (Elixir's
    /// `Task.async`, rule 184); collect the result with
    /// [`await_result`](Self::await_result).
    ///
    /// Called from a plain thread, the task is linked to nobody.
    ///
    /// ```
    /// use rotp_gen_server::Task;
    ///
    /// let rt = rotp_runtime::Runtime::new().unwrap();
    /// // Three lookups at once, awaited in order (`Task.async` then `Task.await`).
    /// let tasks: Vec<Task<usize>> = ["/", "/about", "/blog"]
    ///     .into_iter()
    ///     .map(|path| Task::run(&rt, move || path.len()))
    ///     .collect();
    /// let sizes: Vec<usize> = tasks.into_iter().map(|t| t.await_result().unwrap()).collect();
    /// assert_eq!(sizes, [1, 6, 5]);
    /// ```
    pub fn run(handle: &Handle, f: impl FnOnce() -> T + Send + 'static) -> Task<T> {
        let owner = Owner::current();
        Task {
            owner,
            state: State::Running(Running::start(handle, Box::new(f))),
        }
    }

    /// A task that has already finished with `value`, without a process
    /// (rule 192).
    ///
    /// ```
    /// use rotp_gen_server::Task;
    /// assert_eq!(Task::completed(7).await_result(), Ok(7));
    /// ```
    pub fn completed(value: T) -> Task<T> {
        Task {
            owner: Owner::current(),
            state: State::Completed(value),
        }
    }

    /// The task's pid; `None` for a [`completed`](Self::completed) task.
    pub fn pid(&self) -> Option<Pid> {
        match &self.state {
            State::Running(r) => Some(r.addr.pid()),
            _ => None,
        }
    }

    /// The process that created the task; `None` if a plain thread did.
    pub fn owner(&self) -> Option<Pid> {
        match self.owner {
            Owner::Process(pid) => Some(pid),
            Owner::Thread(_) => None,
        }
    }

    fn check_owner(&self) -> Result<(), TaskError> {
        if Owner::current() == self.owner {
            Ok(())
        } else {
            Err(TaskError::NotOwner)
        }
    }

    /// Waits up to 5 seconds for the result (`Task.await/1`, rule 187).
    /// A task that failed gives its exit reason as a value,
    /// [`TaskError::Exited`]; see [`await_timeout`](Self::await_timeout)
    /// for the other outcomes.
    ///
    /// ```
    /// use rotp_gen_server::{Task, TaskError};
    /// use rotp_runtime::ExitReason;
    ///
    /// let rt = rotp_runtime::Runtime::new().unwrap();
    /// let ok = Task::run(&rt, || "42".parse::<u32>());
    /// assert_eq!(ok.await_result(), Ok(Ok(42)));
    ///
    /// let failed = Task::run(&rt, || -> u32 { rotp_runtime::exit("no input") });
    /// assert_eq!(failed.await_result(), Err(TaskError::Exited(ExitReason::custom("no input"))));
    /// ```
    pub fn await_result(self) -> Result<T, TaskError> {
        self.await_timeout(Some(DEFAULT_TASK_TIMEOUT))
    }

    /// Waits up to `timeout` on the runtime clock (`None`: forever) for the
    /// result (`Task.await/2`, rule 187).
    ///
    /// - the result → `Ok`;
    /// - the task exited first → [`TaskError::Exited`] with its reason;
    /// - the timeout passed → [`TaskError::Timeout`]: the task keeps
    ///   running and its late result is dropped. To stop it instead, use
    ///   [`yield_timeout`](Self::yield_timeout) then
    ///   [`shutdown`](Self::shutdown).
    ///
    /// A task is awaited once: `await_timeout` consumes it.
    pub fn await_timeout(mut self, timeout: Option<Duration>) -> Result<T, TaskError> {
        self.check_owner()?;
        match std::mem::replace(&mut self.state, State::Taken) {
            State::Running(mut r) => match wait_off_thread(&mut r.wait, &r.addr, timeout) {
                Ok(value) => Ok(value),
                Err(e) => r.failed_wait(e),
            },
            State::Completed(value) => Ok(value),
            State::Taken => Err(TaskError::Exited(ExitReason::NoProc)),
        }
    }

    /// Waits up to 5 seconds for the result, keeping the task if it is not
    /// there yet (`Task.yield/1`, rule 188).
    pub fn yield_result(&mut self) -> Result<Option<T>, TaskError> {
        self.yield_timeout(DEFAULT_TASK_TIMEOUT)
    }

    /// Waits up to `timeout` for the result (`Task.yield/2`, rule 188):
    /// `Ok(Some(result))`; `Ok(None)` if the task is still running — yield
    /// again, or [`shutdown`](Self::shutdown); `Err(Exited(reason))` if it
    /// exited without a result. Once the result has been handed out, later
    /// calls return `Err(Exited(NoProc))`.
    ///
    /// ```
    /// use std::time::Duration;
    /// use rotp_gen_server::{Task, TaskShutdown};
    ///
    /// let rt = rotp_runtime::Runtime::new().unwrap();
    /// let (release, gate) = std::sync::mpsc::channel::<()>();
    /// let mut task = Task::run(&rt, move || gate.recv().is_ok());
    /// assert_eq!(task.yield_timeout(Duration::from_millis(10)), Ok(None));
    /// release.send(()).unwrap();
    /// assert_eq!(task.yield_timeout(Duration::from_secs(5)), Ok(Some(true)));
    /// ```
    pub fn yield_timeout(&mut self, timeout: Duration) -> Result<Option<T>, TaskError> {
        self.check_owner()?;
        let outcome = match &mut self.state {
            State::Running(r) => match r.wait_repeatable(timeout) {
                Ok(value) => Ok(value),
                Err(WaitError::Timeout) => return Ok(None),
                Err(e) => match r.failed_wait(e) {
                    // Still running: the task stays to be yielded again.
                    Err(e @ (TaskError::Deadlock(_) | TaskError::OwnerExiting)) => return Err(e),
                    outcome => outcome,
                },
            },
            State::Completed(_) => match std::mem::replace(&mut self.state, State::Taken) {
                State::Completed(value) => return Ok(Some(value)),
                _ => unreachable!("matched Completed above"),
            },
            State::Taken => return Err(TaskError::Exited(ExitReason::NoProc)),
        };
        self.state = State::Taken;
        outcome.map(Some)
    }

    /// Stops the task (`Task.shutdown/2`, rule 190) and tells what became
    /// of it:
    ///
    /// - `Ok(Some(result))`: the result had arrived;
    /// - `Ok(None)`: the task died of the signal sent (`shutdown` for
    ///   [`TaskShutdown::Timeout`], a kill for [`TaskShutdown::BrutalKill`]);
    /// - `Err(Exited(reason))`: it had exited otherwise — a panic,
    ///   another signal — or its body outlived the timeout and was killed
    ///   (`Killed`, see the module docs on R1); `NoProc` if its result was
    ///   already taken.
    ///
    /// The task is detached first, so its exit does not reach the owner. A
    /// completed task behaves like [`ignore`](Self::ignore).
    pub fn shutdown(mut self, how: TaskShutdown) -> Result<Option<T>, TaskError> {
        self.check_owner()?;
        match std::mem::replace(&mut self.state, State::Taken) {
            State::Running(r) => r.shutdown(how),
            State::Completed(value) => Ok(Some(value)),
            State::Taken => Err(TaskError::Exited(ExitReason::NoProc)),
        }
    }

    /// Lets the task run on, detached from its owner (`Task.ignore/1`,
    /// rule 191): `Ok(Some(result))` if it had finished, `Err(Exited(_))`
    /// if it had exited without a result, `Ok(None)` if it is still
    /// running — its result will be dropped.
    ///
    /// The link between owner and task is gone when this returns: the
    /// task runs to completion whatever the owner does afterwards (even
    /// exit abnormally), and its own exit never reaches the owner.
    pub fn ignore(mut self) -> Result<Option<T>, TaskError> {
        self.check_owner()?;
        match std::mem::replace(&mut self.state, State::Taken) {
            State::Running(r) => r.ignore(),
            State::Completed(value) => Ok(Some(value)),
            State::Taken => Err(TaskError::Exited(ExitReason::NoProc)),
        }
    }
}

impl Task<()> {
    /// Called from inside a task's body: whether the task has been told to
    /// exit (shutdown, kill, its owner's death). Its result would be
    /// dropped, so a long body may return early. Outside a process, false.
    ///
    /// ```
    /// use rotp_gen_server::Task;
    /// let rt = rotp_runtime::Runtime::new().unwrap();
    /// let task = Task::run(&rt, Task::is_exiting);
    /// assert_eq!(task.await_result(), Ok(false));
    /// ```
    pub fn is_exiting() -> bool {
        self_exiting()
    }

    /// Runs `f` in a new process linked to nobody, fire-and-forget
    /// (`Task.start/1`, rule 193). A panic is logged as a crash report.
    ///
    /// ```
    /// use rotp_gen_server::Task;
    /// let rt = rotp_runtime::Runtime::new().unwrap();
    /// let (tx, rx) = std::sync::mpsc::channel();
    /// Task::start(&rt, move || tx.send("done").unwrap());
    /// assert_eq!(rx.recv().unwrap(), "done");
    /// ```
    pub fn start(handle: &Handle, f: impl FnOnce() + Send + 'static) -> Pid {
        spawn::<()>(handle, Box::new(f), None, false).0.pid()
    }

    /// Runs `f` in a new process linked to the caller, fire-and-forget
    /// (`Task.start_link/1`, rule 193): its crash kills a non-trapping
    /// caller; the caller's death kills it. From a plain thread it is
    /// linked to nobody.
    pub fn start_link(handle: &Handle, f: impl FnOnce() + Send + 'static) -> Pid {
        spawn::<()>(handle, Box::new(f), None, true).0.pid()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn task_is_send_when_its_result_is() {
        fn check<T: Send>() {}
        check::<Task<Vec<String>>>();
    }

    #[test]
    fn errors_map_to_otp_reasons() {
        assert_eq!(TaskError::Timeout.reason(), ExitReason::Timeout);
        assert_eq!(
            TaskError::Exited(ExitReason::Killed).reason(),
            ExitReason::Killed
        );
    }

    #[test]
    fn default_shutdown_waits_five_seconds() {
        assert_eq!(
            TaskShutdown::default(),
            TaskShutdown::Timeout(Duration::from_secs(5))
        );
    }
}
