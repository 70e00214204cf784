//! The [`Supervisor`] handle: starting a supervisor and its management API
//! (rules 110-121 and 139-148).

use std::fmt;
use std::time::Duration;

use rotp_gen_server::ServerName;
use rotp_runtime::{reply_channel, Addr, ExitReason, Handle, Pid, SpawnOptions, WaitError};

use crate::call::{self, call, call_error};
use crate::child_spec::{ChildId, ChildSpec, ChildStartError, StartResult};
use crate::error::{
    AwaitChildError, CallError, DeleteChildError, GetChildSpecError, RestartChildError,
    StartChildError, StopError, SupervisorStartError, TerminateChildError,
};
use crate::flags::{check_children, SupervisorOptions};
use crate::info::{ChildCounts, ChildInfo};
use crate::server::{Request, Setup, SupervisorServer};

/// A handle on a running supervisor: a process that starts children,
/// restarts them by strategy when they exit, and stops them in reverse
/// order when it stops.
///
/// Cheap to clone, usable from any thread. Requests never time out (rule
/// 146); a supervisor that is gone answers [`CallError::NoProc`].
///
/// ```
/// use rotp_runtime::{Context, Process, Runtime};
/// use rotp_supervisor::{ChildSpec, ChildStatus, Strategy, Supervisor, SupervisorOptions};
///
/// struct Worker;
/// impl Process for Worker {
///     type Message = ();
///     fn handle(&mut self, _: (), _: &mut Context<'_, ()>) {}
/// }
///
/// let rt = Runtime::new().unwrap();
/// let sup = Supervisor::start_link(
///     &rt,
///     vec![ChildSpec::process("a", || Worker), ChildSpec::process("b", || Worker)],
///     SupervisorOptions::new().strategy(Strategy::OneForOne).name("my_sup"),
/// )
/// .unwrap();
/// let children = sup.which_children().unwrap();
/// assert_eq!(children.len(), 2);
/// assert_eq!(children[0].id, "b"); // most recently started first
/// assert!(matches!(children[0].status, ChildStatus::Running(_)));
/// assert_eq!(Supervisor::whereis(&rt, "my_sup").unwrap().pid(), sup.pid());
/// ```
#[derive(Clone)]
pub struct Supervisor {
    addr: Addr<Request>,
    handle: Handle,
}

impl Supervisor {
    /// Starts a supervisor with `children`, started one after another in
    /// order (rule 111), and returns once all are started.
    ///
    /// Called inside a process, the supervisor is linked to that process,
    /// its parent: the parent's exit stops the supervisor and its children
    /// (rule 115). From a plain thread it is a root process, stopped by
    /// [`Runtime::shutdown`](rotp_runtime::Runtime::shutdown).
    ///
    /// ```
    /// use rotp_gen_server::{gen_server, Ctx, GenServer, Init, InitResult};
    /// use rotp_runtime::Runtime;
    /// use rotp_supervisor::{GenServerChildSpec, Restart, Strategy, Supervisor, SupervisorOptions};
    ///
    /// struct Cache;
    /// #[gen_server]
    /// impl GenServer for Cache {
    ///     fn init((): (), _ctx: &mut Ctx<'_, Self>) -> InitResult<Self> { Init::ok(Cache) }
    /// }
    /// struct Mailer;
    /// #[gen_server]
    /// impl GenServer for Mailer {
    ///     fn init((): (), _ctx: &mut Ctx<'_, Self>) -> InitResult<Self> { Init::ok(Mailer) }
    /// }
    ///
    /// let rt = Runtime::new().unwrap();
    /// // Elixir: Supervisor.start_link([Cache, {Mailer, restart: :transient}],
    /// //                               strategy: :one_for_one, name: App)
    /// let app = Supervisor::start_link(
    ///     &rt,
    ///     vec![Cache::child_spec(()), Mailer::child_spec(()).restart(Restart::Transient)],
    ///     SupervisorOptions::new().strategy(Strategy::OneForOne).name("app"),
    /// )
    /// .unwrap();
    /// let children = app.which_children().unwrap();
    /// assert_eq!(children[0].id, "Mailer"); // most recently started first
    /// assert_eq!(children[1].id, "Cache");
    /// ```
    ///
    /// # Errors
    ///
    /// - invalid options or specs (rules 106, 108, 149), duplicate ids:
    ///   nothing is started;
    /// - [`SupervisorStartError::AlreadyStarted`] if the name is taken;
    /// - [`SupervisorStartError::FailedToStartChild`] if a child fails to start: the
    ///   children already started are stopped in reverse order and the
    ///   supervisor exits with `{shutdown, failed_to_start_child}` before
    ///   this returns (rule 113). Like OTP, that exit reaches a linked
    ///   caller that does not trap exits and stops it.
    pub fn start_link(
        handle: &Handle,
        children: impl IntoIterator<Item = ChildSpec>,
        opts: SupervisorOptions,
    ) -> Result<Supervisor, SupervisorStartError> {
        let children: Vec<ChildSpec> = children.into_iter().collect();
        opts.validate()?;
        check_children(&children, opts.auto_shutdown)?;
        if let Some(pid) = opts.name.as_ref().and_then(|n| n.whereis(handle)) {
            return Err(SupervisorStartError::AlreadyStarted(pid)); // rule 48
        }
        Supervisor::spawn(handle, Setup::Given(opts, children))
    }

    /// Spawns the supervisor process and waits for its `init`.
    pub(crate) fn spawn(handle: &Handle, setup: Setup) -> Result<Supervisor, SupervisorStartError> {
        let (reply, mut wait) = reply_channel();
        let server = SupervisorServer::new(setup, reply);
        let (addr, _) = handle.spawn_opts(server, &SpawnOptions::new().link(true).trap_exit(true));
        let result = match wait.wait(&addr, None) {
            Ok(result) => result,
            Err(WaitError::Exited(reason)) => Err(SupervisorStartError::Exited(reason)),
            Err(e) => Err(SupervisorStartError::Exited(ExitReason::custom(
                call_error(e),
            ))),
        };
        match result {
            Ok(()) => Ok(Supervisor {
                addr,
                handle: handle.clone(),
            }),
            Err(e) => {
                // Rule 54: a failed start leaves nothing behind.
                handle.await_exit(&addr, None);
                Err(e)
            }
        }
    }

    /// A child spec that starts a nested supervisor with `children` and
    /// `opts` under a parent supervisor (type supervisor, shutdown
    /// infinity, permanent).
    ///
    /// ```
    /// use rotp_runtime::{Context, Process, Runtime};
    /// use rotp_supervisor::{ChildSpec, ChildType, Supervisor, SupervisorOptions};
    ///
    /// struct Worker;
    /// impl Process for Worker {
    ///     type Message = ();
    ///     fn handle(&mut self, _: (), _: &mut Context<'_, ()>) {}
    /// }
    ///
    /// let rt = Runtime::new().unwrap();
    /// let inner = Supervisor::child_spec(
    ///     "inner",
    ///     vec![ChildSpec::process("w", || Worker)],
    ///     SupervisorOptions::new(),
    /// );
    /// let root = Supervisor::start_link(&rt, vec![inner], SupervisorOptions::new()).unwrap();
    /// let counts = root.count_children().unwrap();
    /// assert_eq!((counts.supervisors, counts.active), (1, 1));
    /// ```
    pub fn child_spec(
        id: impl Into<ChildId>,
        children: Vec<ChildSpec>,
        opts: SupervisorOptions,
    ) -> ChildSpec {
        ChildSpec::supervisor(id, move || {
            child_start_result(Supervisor::start_link(
                &Handle::current(),
                children.clone(),
                opts.clone(),
            ))
        })
    }

    /// The supervisor registered as `name` (local or via), if any.
    pub fn whereis(handle: &Handle, name: impl Into<ServerName>) -> Option<Supervisor> {
        Supervisor::from_pid(handle, name.into().whereis(handle)?)
    }

    /// The supervisor with pid `pid`, if `pid` is a live supervisor.
    pub fn from_pid(handle: &Handle, pid: Pid) -> Option<Supervisor> {
        Some(Supervisor {
            addr: handle.addr_of::<Request>(pid)?,
            handle: handle.clone(),
        })
    }

    /// The supervisor's pid.
    pub fn pid(&self) -> Pid {
        self.addr.pid()
    }

    /// Whether the supervisor is alive.
    pub fn is_alive(&self) -> bool {
        self.addr.is_alive()
    }

    /// Adds a child and starts it, at the end of the start order (rules
    /// 128, 139). `Ok(None)` if its start function ignored the start (the
    /// spec is kept unless temporary).
    ///
    /// # Errors
    ///
    /// [`StartChildError::AlreadyStarted`] if a running child has the id
    /// (or the start function says its name is taken),
    /// [`StartChildError::AlreadyPresent`] if a stopped one does,
    /// [`StartChildError::Invalid`] for an invalid spec,
    /// [`StartChildError::Failed`] if the start failed (nothing is stored).
    ///
    /// ```
    /// # use rotp_gen_server::{gen_server, Ctx, GenServer, Init, InitResult};
    /// # struct Mailer;
    /// # #[gen_server]
    /// # impl GenServer for Mailer {
    /// #     fn init((): (), _ctx: &mut Ctx<'_, Self>) -> InitResult<Self> { Init::ok(Mailer) }
    /// # }
    /// use rotp_gen_server::StartOptions;
    /// use rotp_supervisor::{GenServerChildSpec, StartChildError, Supervisor, SupervisorOptions};
    ///
    /// let rt = rotp_runtime::Runtime::new().unwrap();
    /// let sup = Supervisor::start_link(&rt, Vec::new(), SupervisorOptions::new()).unwrap();
    /// let spec = || Mailer::child_spec_opts((), StartOptions::new().name("mailer"));
    /// let pid = sup.start_child(spec()).unwrap().expect("not ignored");
    /// assert_eq!(sup.which_children().unwrap()[0].id, "mailer"); // a named server's id is its name
    /// assert_eq!(sup.start_child(spec()), Err(StartChildError::AlreadyStarted(pid)));
    /// ```
    pub fn start_child(&self, spec: ChildSpec) -> Result<Option<Pid>, StartChildError> {
        call(&self.handle, &self.addr, |r| {
            Request::StartChild(spec, rotp_runtime::self_pid(), r)
        })?
    }

    /// Stops a child per its shutdown value and keeps its spec (temporary
    /// children are forgotten). No restart follows (rule 140). `Ok` also if
    /// it was not running.
    pub fn terminate_child(&self, id: impl Into<ChildId>) -> Result<(), TerminateChildError> {
        let id = id.into();
        call(&self.handle, &self.addr, |r| {
            Request::TerminateChild(id, rotp_runtime::self_pid(), r)
        })?
    }

    /// Starts a stopped child again from its spec (rule 141). `Ok(None)` if
    /// its start function ignored the start.
    pub fn restart_child(&self, id: impl Into<ChildId>) -> Result<Option<Pid>, RestartChildError> {
        let id = id.into();
        call(&self.handle, &self.addr, |r| {
            Request::RestartChild(id, rotp_runtime::self_pid(), r)
        })?
    }

    /// Forgets the spec of a stopped child (rule 142).
    pub fn delete_child(&self, id: impl Into<ChildId>) -> Result<(), DeleteChildError> {
        let id = id.into();
        call(&self.handle, &self.addr, |r| Request::DeleteChild(id, r))?
    }

    /// Every child with its state, most recently started first (rule 143).
    pub fn which_children(&self) -> Result<Vec<ChildInfo>, CallError> {
        call(&self.handle, &self.addr, Request::WhichChildren)
    }

    /// Counts of specs, active children, supervisors and workers (rule 144).
    pub fn count_children(&self) -> Result<ChildCounts, CallError> {
        call(&self.handle, &self.addr, Request::CountChildren)
    }

    /// The spec of child `id`, defaults filled in (rule 145).
    pub fn get_childspec(&self, id: impl Into<ChildId>) -> Result<ChildSpec, GetChildSpecError> {
        let id = id.into();
        call(&self.handle, &self.addr, |r| Request::GetChildSpec(id, r))?
    }

    /// Waits until child `id` is running and returns its pid: at once if it
    /// runs now, else once the supervisor has (re)started it — after a
    /// crash, the new incarnation. Waits at most `timeout` on the runtime
    /// clock.
    ///
    /// A child counts as running once its start has returned and while its
    /// process is alive; a child that has died but whose exit the
    /// supervisor has not handled yet is not, so after a crash this returns
    /// the restarted incarnation, never the dead one. What the test kit's
    /// `wait_until` does by polling, without polling: the supervisor
    /// answers when the child starts.
    ///
    /// ```
    /// use std::time::Duration;
    /// use rotp_runtime::{Context, ExitReason, Process, Runtime};
    /// use rotp_supervisor::{AwaitChildError, ChildSpec, Supervisor, SupervisorOptions};
    ///
    /// struct Worker;
    /// impl Process for Worker {
    ///     type Message = ExitReason;
    ///     fn handle(&mut self, reason: ExitReason, ctx: &mut Context<'_, ExitReason>) {
    ///         ctx.exit(reason);
    ///     }
    /// }
    ///
    /// let rt = Runtime::new().unwrap();
    /// let sup = Supervisor::start_link(&rt, vec![ChildSpec::process("w", || Worker)], SupervisorOptions::new()).unwrap();
    /// let first = sup.await_child("w", Duration::from_secs(5)).unwrap();
    /// let worker = rt.addr_of::<ExitReason>(first).unwrap();
    /// worker.send(ExitReason::custom("crash"));
    /// worker.await_exit(Some(Duration::from_secs(5))).unwrap();
    /// let second = sup.await_child("w", Duration::from_secs(5)).unwrap();
    /// assert_ne!(first, second);
    /// assert!(rt.is_alive(second));
    /// assert_eq!(sup.await_child("nope", Duration::from_secs(5)), Err(AwaitChildError::NotFound));
    /// ```
    ///
    /// # Errors
    ///
    /// [`AwaitChildError::NotFound`] if there is no child `id` or it is
    /// removed meanwhile (a temporary child that exits, a deleted spec);
    /// [`AwaitChildError::Timeout`] if it is not running within `timeout`;
    /// [`AwaitChildError::Call`] if the supervisor is gone or exits
    /// meanwhile.
    pub fn await_child(
        &self,
        id: impl Into<ChildId>,
        timeout: Duration,
    ) -> Result<Pid, AwaitChildError> {
        let id = id.into();
        let request = |r| Request::AwaitChild(id, r);
        match call::call_timeout(&self.handle, &self.addr, request, Some(timeout)) {
            Ok(Some(pid)) => Ok(pid),
            Ok(None) => Err(AwaitChildError::NotFound),
            Err(CallError::Timeout) => Err(AwaitChildError::Timeout),
            Err(e) => Err(AwaitChildError::Call(e)),
        }
    }

    /// Stops the children in reverse order, then the supervisor, with
    /// `reason`, waiting as long as it takes (rule 148; Elixir's default
    /// reason is [`ExitReason::Normal`]).
    pub fn stop(&self, reason: ExitReason) -> Result<(), StopError> {
        self.stop_timeout(reason, None)
    }

    /// [`stop`](Supervisor::stop), waiting at most `timeout` on the runtime
    /// clock; on [`StopError::Timeout`] the supervisor keeps stopping.
    pub fn stop_timeout(
        &self,
        reason: ExitReason,
        timeout: Option<Duration>,
    ) -> Result<(), StopError> {
        let r = reason.clone();
        call::stop(
            &self.handle,
            &self.addr,
            move || Request::Stop(r, rotp_runtime::self_pid()),
            &reason,
            timeout,
        )
    }
}

/// A supervisor's start as a child's start result: an ignored start is an
/// ignored child (rule 112), a taken name `already_started` (rule 139).
pub(crate) fn child_start_result(r: Result<Supervisor, SupervisorStartError>) -> StartResult {
    match r {
        Ok(sup) => Ok(Some(sup.pid())),
        Err(SupervisorStartError::Ignored) => Ok(None),
        Err(SupervisorStartError::AlreadyStarted(pid)) => Err(ChildStartError::AlreadyStarted(pid)),
        Err(SupervisorStartError::Init(reason)) => Err(ChildStartError::Failed(reason)),
        Err(e) => Err(ChildStartError::Failed(ExitReason::custom(e))),
    }
}

impl fmt::Debug for Supervisor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Supervisor({})", self.pid())
    }
}

impl PartialEq for Supervisor {
    fn eq(&self, other: &Self) -> bool {
        self.pid() == other.pid()
    }
}

impl Eq for Supervisor {}
