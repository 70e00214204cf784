//! Starting a server: `start`, `start_link`, `start_monitor` (rules 46-57).

use std::time::Duration;

use rotp_runtime::{
    reply_channel, ExitReason, Handle, MonitorRef, Overflow, SpawnOptions, WaitError,
};

use crate::behaviour::GenServer;
use crate::client::ServerRef;
use crate::error::StartError;
use crate::name::ServerName;
use crate::server::{ServerProcess, Start};

/// Options for starting a server.
///
/// ```
/// use std::time::Duration;
/// use rotp_gen_server::StartOptions;
/// let opts = StartOptions::new()
///     .name("cache")
///     .timeout(Duration::from_secs(1))
///     .hibernate_after(Duration::from_secs(30));
/// ```
#[derive(Debug, Clone, Default)]
pub struct StartOptions {
    name: Option<ServerName>,
    timeout: Option<Duration>,
    hibernate_after: Option<Duration>,
    spawn: SpawnOptions,
}

impl StartOptions {
    /// No name, no start timeout, no auto-hibernation.
    pub fn new() -> Self {
        StartOptions::default()
    }

    /// Registers the server under `name` before `init` runs (rules 37, 48).
    pub fn name(mut self, name: impl Into<ServerName>) -> Self {
        self.name = Some(name.into());
        self
    }

    /// Fails the start with `Timeout`, killing the process, if `init` has
    /// not returned within `timeout` on the runtime clock (rule 55).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// Hibernates after `idle` without messages (rule 82).
    pub fn hibernate_after(mut self, idle: Duration) -> Self {
        self.hibernate_after = Some(idle);
        self
    }

    /// Bounds the server's mailbox; see [`Overflow`].
    ///
    /// A suspended server ([`ServerRef::suspend`](crate::ServerRef::suspend))
    /// keeps the messages it may not handle yet aside, and the limit bounds
    /// them too: past it a message is dropped (`Drop`), dropped with a
    /// warning (`Reject`: its sender was already told it was delivered), or
    /// ends the server with `mailbox_overflow` (`Exit`). `sys` requests and
    /// `stop` are never held back, so a full suspended server can still be
    /// resumed or stopped.
    pub fn mailbox_limit(mut self, limit: u32, overflow: Overflow) -> Self {
        self.spawn = self.spawn.mailbox_limit(limit, overflow);
        self
    }

    /// Warns when the server's mailbox reaches `n` messages, and again when
    /// it falls below half; see [`SpawnOptions::mailbox_high_water`].
    pub fn mailbox_high_water(mut self, n: u32) -> Self {
        self.spawn = self.spawn.mailbox_high_water(n);
        self
    }

    /// Lets a caller that finds the server idle run `handle_call` on its
    /// own thread whatever its timeout: the fastest call, with no hand-off
    /// to a worker and back.
    ///
    /// By default only a call without a timeout (`call_timeout(req,
    /// None)`) does that, because while a handler runs on the caller's
    /// stack nothing can end the caller's wait: with a timeout the caller
    /// always gets [`CallError::Timeout`](crate::CallError::Timeout) when it
    /// expires (rule 65). With this option a caller's timeout bounds its
    /// wait for a *busy* server only; a handler the caller runs itself
    /// holds it for as long as the handler takes, and a reply made after
    /// the deadline still fails the call with `Timeout`. For servers whose
    /// handlers are short and never block.
    pub fn callers_run(mut self, on: bool) -> Self {
        self.spawn = self.spawn.callers_run(on);
        self
    }

    /// Reductions per slice for the server's process.
    pub fn reductions(mut self, n: u32) -> Self {
        self.spawn = self.spawn.reductions(n);
        self
    }

    /// The configured name.
    pub fn get_name(&self) -> Option<&ServerName> {
        self.name.as_ref()
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    Alone,
    Link,
    Monitor,
}

/// Starts a server that is linked to nobody (rule 46). Returns after
/// `init` has returned.
///
/// ```
/// use rotp_gen_server::{gen_server, start, Ctx, GenServer, Handled, Init, InitResult, ReplyTo, StartError, StartOptions};
///
/// struct Greeter(String);
///
/// /// Greet someone; answers the greeting.
/// struct Greet(String, ReplyTo<String>);
///
/// #[gen_server]
/// impl GenServer for Greeter {
///     fn init(greeting: String, _ctx: &mut Ctx<'_, Self>) -> InitResult<Self> {
///         Init::ok(Greeter(greeting))
///     }
///     fn handle_call(&mut self, Greet(name, r): Greet, _ctx: &mut Ctx<'_, Self>) -> Handled<Self> {
///         r.reply(format!("{}, {name}!", self.0))
///     }
/// }
///
/// let rt = rotp_runtime::Runtime::new().unwrap();
/// let greeter = start::<Greeter>(&rt, "Hello".into(), StartOptions::new().name("greeter")).unwrap();
/// assert_eq!(greeter.call(|r| Greet("Ada".into(), r)).unwrap(), "Hello, Ada!");
///
/// // The name is taken: a second start fails before its `init` runs (rule 48).
/// let again = start::<Greeter>(&rt, "Hi".into(), StartOptions::new().name("greeter"));
/// assert_eq!(again.unwrap_err(), StartError::AlreadyStarted(greeter.pid().unwrap()));
/// ```
pub fn start<G: GenServer>(
    handle: &Handle,
    args: G::Args,
    opts: StartOptions,
) -> Result<ServerRef<G>, StartError> {
    start_with(handle, args, opts, Mode::Alone).map(|(s, _)| s)
}

/// Starts a server linked to the calling process, its parent (rules 46,
/// 57). Called outside any process there is nobody to link with: the
/// server is a root, stopped by `Runtime::shutdown`.
///
/// ```
/// # use rotp_gen_server::{gen_server, Ctx, GenServer, Init, InitResult};
/// # struct Worker;
/// # #[gen_server]
/// # impl GenServer for Worker {
/// #     fn init((): (), _ctx: &mut Ctx<'_, Self>) -> InitResult<Self> { Init::ok(Worker) }
/// # }
/// use std::time::Duration;
/// use rotp_gen_server::{start_link, StartOptions};
/// use rotp_runtime::{testing::wait_until, ExitReason, Runtime};
///
/// let rt = Runtime::new().unwrap();
/// let (tx, rx) = std::sync::mpsc::channel();
/// // A process starts a worker linked to it, then fails.
/// let parent = rt.spawn_fn(move |(): (), ctx| {
///     let worker = start_link::<Worker>(&ctx.handle(), (), StartOptions::new()).unwrap();
///     tx.send(worker).unwrap();
///     rotp_runtime::exit("parent failed");
/// });
/// parent.send(());
/// let worker = rx.recv_timeout(Duration::from_secs(5)).unwrap();
/// // The link takes the worker down with its parent's reason.
/// assert!(wait_until(Duration::from_secs(5), || worker.exit_reason().is_some()));
/// assert_eq!(worker.exit_reason(), Some(ExitReason::custom("parent failed")));
/// ```
pub fn start_link<G: GenServer>(
    handle: &Handle,
    args: G::Args,
    opts: StartOptions,
) -> Result<ServerRef<G>, StartError> {
    start_with(handle, args, opts, Mode::Link).map(|(s, _)| s)
}

/// Starts a server monitored by the calling process (rule 46): when the
/// server exits, the caller gets a `Down` with that [`MonitorRef`] — a
/// gen_server in `handle_info(Info::Down(..))` — and the server's exit
/// does not reach it otherwise.
///
/// If the start fails, the server has exited and the caller's monitor has
/// fired all the same, as with OTP's `start_monitor`: a `Down` arrives for
/// a [`MonitorRef`] that was never returned. A caller that starts servers
/// this way ignores a `Down` whose reference it does not know.
///
/// ```
/// use std::time::Duration;
/// use rotp_gen_server::{gen_server, noreply, start, start_monitor, Ctx, GenServer, Handled, Info, Init, InitResult, ReplyTo, ServerRef, StartOptions};
/// use rotp_runtime::{testing::wait_until, ExitReason, MonitorRef};
///
/// struct Job;
/// #[gen_server]
/// impl GenServer for Job {
///     fn init((): (), _ctx: &mut Ctx<'_, Self>) -> InitResult<Self> { Init::ok(Job) }
/// }
///
/// /// Starts a job, watches it, and remembers how it ended.
/// struct Watcher { job: ServerRef<Job>, mref: MonitorRef, ended: Option<ExitReason> }
///
/// enum Call {
///     Job(ReplyTo<ServerRef<Job>>),
///     Ended(ReplyTo<Option<ExitReason>>),
/// }
///
/// #[gen_server]
/// impl GenServer for Watcher {
///     fn init((): (), ctx: &mut Ctx<'_, Self>) -> InitResult<Self> {
///         let (job, mref) = start_monitor::<Job>(&ctx.handle(), (), StartOptions::new())?;
///         Init::ok(Watcher { job, mref, ended: None })
///     }
///     fn handle_info(&mut self, info: Info<()>, _ctx: &mut Ctx<'_, Self>) -> Handled<Self> {
///         if let Info::Down(down) = info {
///             if down.mref == self.mref {
///                 self.ended = Some(down.reason);
///             }
///         }
///         noreply()
///     }
///     fn handle_call(&mut self, call: Call, _ctx: &mut Ctx<'_, Self>) -> Handled<Self> {
///         match call {
///             Call::Job(r) => r.reply(self.job.clone()),
///             Call::Ended(r) => r.reply(self.ended.clone()),
///         }
///     }
/// }
///
/// let rt = rotp_runtime::Runtime::new().unwrap();
/// let watcher = start::<Watcher>(&rt, (), StartOptions::new()).unwrap();
/// let job = watcher.call(Call::Job).unwrap();
/// job.stop(ExitReason::Normal, Some(Duration::from_secs(5))).unwrap();
/// // The watcher hears of it through its monitor, and lives on.
/// assert!(wait_until(Duration::from_secs(5), || watcher.call(Call::Ended).unwrap().is_some()));
/// assert_eq!(watcher.call(Call::Ended).unwrap(), Some(ExitReason::Normal));
/// ```
///
/// # Panics
///
/// Outside a process: there is nobody to hold the monitor.
pub fn start_monitor<G: GenServer>(
    handle: &Handle,
    args: G::Args,
    opts: StartOptions,
) -> Result<(ServerRef<G>, MonitorRef), StartError> {
    assert!(
        rotp_runtime::self_pid().is_some(),
        "start_monitor needs a calling process to hold the monitor"
    );
    start_with(handle, args, opts, Mode::Monitor).map(|(s, m)| (s, m.expect("monitor requested")))
}

fn start_with<G: GenServer>(
    handle: &Handle,
    args: G::Args,
    opts: StartOptions,
    mode: Mode,
) -> Result<(ServerRef<G>, Option<MonitorRef>), StartError> {
    // Rule 48: a taken name fails the start before anything is spawned.
    if let Some(name) = &opts.name {
        if let Some(holder) = name.whereis(handle) {
            if handle.is_alive(holder) {
                return Err(StartError::AlreadyStarted(holder));
            }
        }
    }
    let caller = rotp_runtime::self_pid();
    let linked = mode == Mode::Link && caller.is_some();
    let (ack, mut wait) = reply_channel();
    let process = ServerProcess::<G>::new(
        Start {
            args,
            ack,
            linked,
            parent: match mode {
                Mode::Alone => None,
                Mode::Link | Mode::Monitor => Some(caller.unwrap_or(rotp_runtime::Pid::ROOT)),
            },
        },
        opts.name.clone(),
        opts.hibernate_after,
        opts.spawn.get_mailbox_limit(),
    );
    let spawn = opts
        .spawn
        .clone()
        .link(linked)
        .monitor(mode == Mode::Monitor);
    let (addr, mref) = handle.spawn_opts(process, &spawn);
    match wait.wait(&addr, opts.timeout) {
        Ok(Ok(())) => Ok((ServerRef::from_addr(addr), mref)),
        Ok(Err(e)) => {
            // Rule 54: when start reports a failure, the process is gone.
            // It answered on its way out, so this wait is short; it is
            // bounded all the same by the start's own timeout.
            addr.await_exit(opts.timeout);
            Err(e)
        }
        Err(WaitError::Exited(reason)) => Err(StartError::Init(reason)),
        Err(WaitError::Timeout) => {
            abandon(handle, &addr, linked, caller);
            Err(StartError::Timeout)
        }
        Err(other) => {
            abandon(handle, &addr, linked, caller);
            Err(StartError::Init(ExitReason::custom(other)))
        }
    }
}

/// Kills a server whose start failed, unlinking the caller first so the
/// kill does not travel down the link to it (rule 55). Does not wait for
/// the exit: an `init` that is still running cannot be interrupted (R1), so
/// the process exits — releasing its name — only when `init` returns, and
/// a start timeout must bound the starter's wait all the same.
fn abandon<M: Send + 'static>(
    handle: &Handle,
    addr: &rotp_runtime::Addr<M>,
    linked: bool,
    caller: Option<rotp_runtime::Pid>,
) {
    if let (true, Some(caller)) = (linked, caller) {
        handle.unlink_pids(caller, addr.pid());
    }
    handle.kill(addr.pid());
}
