//! The [`DynamicSupervisor`] handle and its options (rules 154-163).

use std::fmt;
use std::marker::PhantomData;
use std::time::Duration;

use rotp_gen_server::ServerName;
use rotp_runtime::{reply_channel, Addr, ExitReason, Handle, Pid, SpawnOptions, WaitError};

use crate::call::{self, call, call_error};
use crate::child_spec::{ChildId, ChildSpec, ChildStartError};
use crate::dynamic_server::{DynRequest, DynamicServer};
use crate::dynamic_spec::DynamicChildSpec;
use crate::error::{
    CallError, ChildSpecError, StartChildError, StopError, SupervisorStartError,
    TerminateChildError,
};
use crate::flags::Intensity;
use crate::info::{ChildCounts, DynamicChildInfo};

/// How to start a [`DynamicSupervisor`] (rule 154): intensity (3 restarts
/// in 5 s), `max_children` (unlimited), the extra argument every child's
/// start function receives, and a name.
///
/// ```
/// use rotp_supervisor::DynamicSupervisorOptions;
///
/// #[derive(Clone)]
/// struct Pool { url: String }
///
/// let opts = DynamicSupervisorOptions::new()
///     .max_children(100)
///     .extra_arguments(Pool { url: "db://".into() })
///     .name("conns");
/// assert_eq!(opts.max_children, Some(100));
/// assert_eq!(opts.extra.url, "db://");
/// ```
#[derive(Debug, Clone)]
pub struct DynamicSupervisorOptions<E = ()> {
    /// The restart intensity.
    pub intensity: Intensity,
    /// The most children at once, restarting ones included; `None`:
    /// unlimited.
    pub max_children: Option<usize>,
    /// The extra argument (Elixir's `extra_arguments`), handed to every
    /// child's start function on start and restart (rule 156).
    pub extra: E,
    /// The name to register the supervisor under, if any.
    pub name: Option<ServerName>,
}

impl DynamicSupervisorOptions<()> {
    /// The defaults: 3 restarts in 5 s, no `max_children`, no extra
    /// argument, no name.
    pub fn new() -> Self {
        DynamicSupervisorOptions::default()
    }
}

impl<E: Default> Default for DynamicSupervisorOptions<E> {
    fn default() -> Self {
        DynamicSupervisorOptions {
            intensity: Intensity::default(),
            max_children: None,
            extra: E::default(),
            name: None,
        }
    }
}

impl<E> DynamicSupervisorOptions<E> {
    /// Sets the extra argument; children are then [`ChildSpec<X>`]s whose
    /// start function takes `&X`.
    pub fn extra_arguments<X>(self, extra: X) -> DynamicSupervisorOptions<X> {
        DynamicSupervisorOptions {
            intensity: self.intensity,
            max_children: self.max_children,
            extra,
            name: self.name,
        }
    }

    /// Sets `max_restarts`.
    pub fn max_restarts(mut self, n: u32) -> Self {
        self.intensity.max_restarts = n;
        self
    }

    /// Sets `max_seconds` (must be positive).
    pub fn max_seconds(mut self, seconds: u64) -> Self {
        self.intensity.period = Duration::from_secs(seconds);
        self
    }

    /// Sets the intensity window with sub-second precision.
    pub fn restart_period(mut self, period: Duration) -> Self {
        self.intensity.period = period;
        self
    }

    /// Limits the number of children (rule 158).
    pub fn max_children(mut self, n: usize) -> Self {
        self.max_children = Some(n);
        self
    }

    /// Registers the supervisor under `name`.
    pub fn name(mut self, name: impl Into<ServerName>) -> Self {
        self.name = Some(name.into());
        self
    }
}

/// A handle on a running DynamicSupervisor: it starts no children by
/// itself; [`start_child`](DynamicSupervisor::start_child) adds them one at
/// a time. Children are restarted one_for_one, each with the supervisor's
/// extra argument `E`, and stopped all at once when the supervisor stops.
///
/// ```
/// use rotp_runtime::{Context, Process, Runtime};
/// use rotp_supervisor::{DynamicChildSpec, DynamicSupervisor, DynamicSupervisorOptions};
///
/// struct Session;
/// impl Process for Session {
///     type Message = ();
///     fn handle(&mut self, _: (), _: &mut Context<'_, ()>) {}
/// }
///
/// let rt = Runtime::new().unwrap();
/// let sup = DynamicSupervisor::start_link(&rt, DynamicSupervisorOptions::new().max_children(2)).unwrap();
/// let a = sup.start_child(DynamicChildSpec::process(|| Session)).unwrap().unwrap();
/// sup.start_child(DynamicChildSpec::process(|| Session)).unwrap();
/// assert!(sup.start_child(DynamicChildSpec::process(|| Session)).is_err()); // max_children
/// sup.terminate_child(a).unwrap();
/// assert_eq!(sup.count_children().unwrap().active, 1);
/// ```
pub struct DynamicSupervisor<E = ()> {
    addr: Addr<DynRequest<E>>,
    handle: Handle,
    _extra: PhantomData<fn(E)>,
}

impl<E: Send + 'static> DynamicSupervisor<E> {
    /// Starts a DynamicSupervisor with no children, linked to the calling
    /// process if there is one (like [`Supervisor::start_link`](crate::Supervisor::start_link)).
    ///
    /// # Errors
    ///
    /// [`SupervisorStartError::InvalidFlags`] for a zero period,
    /// [`SupervisorStartError::AlreadyStarted`] if the name is taken.
    pub fn start_link(
        handle: &Handle,
        opts: DynamicSupervisorOptions<E>,
    ) -> Result<Self, SupervisorStartError> {
        opts.intensity.validate()?;
        if let Some(pid) = opts.name.as_ref().and_then(|n| n.whereis(handle)) {
            return Err(SupervisorStartError::AlreadyStarted(pid));
        }
        let (reply, mut wait) = reply_channel();
        let server = DynamicServer::new(
            opts.extra,
            opts.intensity,
            opts.max_children,
            opts.name,
            reply,
        );
        let (addr, _) = handle.spawn_opts(server, &SpawnOptions::new().link(true).trap_exit(true));
        let result = match wait.wait(&addr, None) {
            Ok(result) => result,
            Err(WaitError::Exited(reason)) => Err(SupervisorStartError::Exited(reason)),
            Err(e) => Err(SupervisorStartError::Exited(ExitReason::custom(
                call_error(e),
            ))),
        };
        match result {
            Ok(()) => Ok(DynamicSupervisor {
                addr,
                handle: handle.clone(),
                _extra: PhantomData,
            }),
            Err(e) => {
                handle.await_exit(&addr, None);
                Err(e)
            }
        }
    }

    /// A child spec that starts a DynamicSupervisor with `opts` under a
    /// parent supervisor, like Elixir's `{DynamicSupervisor, opts}` (rule
    /// 163): type supervisor, shutdown infinity, and as id the local name
    /// of `opts`, or `"DynamicSupervisor"` without one (set another with
    /// [`ChildSpec::id`]).
    ///
    /// ```
    /// use rotp_supervisor::{DynamicSupervisor, DynamicSupervisorOptions, Supervisor, SupervisorOptions};
    ///
    /// let rt = rotp_runtime::Runtime::new().unwrap();
    /// let spec = DynamicSupervisor::<()>::child_spec(DynamicSupervisorOptions::new().name("workers"));
    /// assert_eq!(spec.id.to_string(), "workers");
    /// let app = Supervisor::start_link(&rt, vec![spec], SupervisorOptions::new()).unwrap();
    /// assert!(DynamicSupervisor::<()>::whereis(&rt, "workers").is_some());
    /// # drop(app);
    /// ```
    pub fn child_spec(opts: DynamicSupervisorOptions<E>) -> ChildSpec
    where
        E: Clone + Sync,
    {
        let id = match &opts.name {
            Some(ServerName::Local(name)) => ChildId::from(name.as_str()),
            _ => ChildId::from("DynamicSupervisor"),
        };
        ChildSpec::supervisor(id, move || {
            match DynamicSupervisor::start_link(&Handle::current(), opts.clone()) {
                Ok(sup) => Ok(Some(sup.pid())),
                Err(SupervisorStartError::AlreadyStarted(pid)) => {
                    Err(ChildStartError::AlreadyStarted(pid))
                }
                Err(e) => Err(ChildStartError::Failed(ExitReason::custom(e))),
            }
        })
    }

    /// The DynamicSupervisor (with extra argument type `E`) registered as
    /// `name`, if any.
    pub fn whereis(handle: &Handle, name: impl Into<ServerName>) -> Option<Self> {
        DynamicSupervisor::from_pid(handle, name.into().whereis(handle)?)
    }

    /// The DynamicSupervisor (with extra argument type `E`) with pid `pid`.
    pub fn from_pid(handle: &Handle, pid: Pid) -> Option<Self> {
        Some(DynamicSupervisor {
            addr: handle.addr_of::<DynRequest<E>>(pid)?,
            handle: handle.clone(),
            _extra: PhantomData,
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

    /// Starts a child with the supervisor's extra argument (rules 155-158).
    /// `spec` is a [`DynamicChildSpec`], or any [`ChildSpec`] (a GenServer's
    /// `child_spec(args)`, say) whose id is then ignored. `Ok(None)` if the
    /// start function ignored the start (nothing is kept).
    ///
    /// # Errors
    ///
    /// [`StartChildError::Invalid`] for a significant child (checked here,
    /// without contacting the supervisor), [`StartChildError::MaxChildren`],
    /// [`StartChildError::AlreadyStarted`] / [`StartChildError::Failed`]
    /// from the start function (not wrapped).
    ///
    /// ```
    /// use rotp_gen_server::{gen_server, Ctx, GenServer, Handled, Init, InitResult, ReplyTo, ServerRef, StartOptions};
    /// use rotp_supervisor::{DynamicSupervisor, DynamicSupervisorOptions, GenServerChildSpec};
    ///
    /// /// One user's session.
    /// struct Session(String);
    ///
    /// /// Whose session this is.
    /// struct User(ReplyTo<String>);
    ///
    /// #[gen_server]
    /// impl GenServer for Session {
    ///     fn init(user: String, _ctx: &mut Ctx<'_, Self>) -> InitResult<Self> {
    ///         Init::ok(Session(user))
    ///     }
    ///     fn handle_call(&mut self, User(r): User, _ctx: &mut Ctx<'_, Self>) -> Handled<Self> {
    ///         r.reply(self.0.clone())
    ///     }
    /// }
    ///
    /// let rt = rotp_runtime::Runtime::new().unwrap();
    /// let sessions = DynamicSupervisor::start_link(&rt, DynamicSupervisorOptions::new().name("sessions")).unwrap();
    /// // Elixir: DynamicSupervisor.start_child(Sessions, {Session, user})
    /// for user in ["ada", "grace"] {
    ///     let opts = StartOptions::new().name(format!("session:{user}"));
    ///     sessions.start_child(Session::child_spec_opts(user.to_string(), opts)).unwrap();
    /// }
    /// let grace = ServerRef::<Session>::named(&rt, "session:grace");
    /// assert_eq!(grace.call(User).unwrap(), "grace");
    /// assert_eq!(sessions.count_children().unwrap().active, 2);
    /// ```
    pub fn start_child(
        &self,
        spec: impl Into<DynamicChildSpec<E>>,
    ) -> Result<Option<Pid>, StartChildError> {
        let spec = spec.into();
        if let Some(id) = spec.significant.clone() {
            return Err(ChildSpecError::InvalidSignificant(id).into());
        }
        call(&self.handle, &self.addr, |r| {
            DynRequest::StartChild(spec, r)
        })?
    }

    /// Stops child `pid` per its shutdown value and forgets it; returns
    /// once it has exited (rule 160).
    pub fn terminate_child(&self, pid: Pid) -> Result<(), TerminateChildError> {
        call(&self.handle, &self.addr, |r| {
            DynRequest::TerminateChild(pid, rotp_runtime::self_pid(), r)
        })?
    }

    /// Every child: its pid (or restarting) and type, in start order
    /// (rule 162).
    pub fn which_children(&self) -> Result<Vec<DynamicChildInfo>, CallError> {
        call(&self.handle, &self.addr, DynRequest::WhichChildren)
    }

    /// Counts: specs (restarting ones included), active, supervisors,
    /// workers (rule 162).
    pub fn count_children(&self) -> Result<ChildCounts, CallError> {
        call(&self.handle, &self.addr, DynRequest::CountChildren)
    }

    /// Stops all children concurrently (rule 161), then the supervisor,
    /// with `reason`.
    pub fn stop(&self, reason: ExitReason) -> Result<(), StopError> {
        self.stop_timeout(reason, None)
    }

    /// [`stop`](DynamicSupervisor::stop), waiting at most `timeout`.
    pub fn stop_timeout(
        &self,
        reason: ExitReason,
        timeout: Option<Duration>,
    ) -> Result<(), StopError> {
        let r = reason.clone();
        call::stop(
            &self.handle,
            &self.addr,
            move || DynRequest::Stop(r, rotp_runtime::self_pid()),
            &reason,
            timeout,
        )
    }
}

impl<E> Clone for DynamicSupervisor<E> {
    fn clone(&self) -> Self {
        DynamicSupervisor {
            addr: self.addr.clone(),
            handle: self.handle.clone(),
            _extra: PhantomData,
        }
    }
}

impl<E> fmt::Debug for DynamicSupervisor<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DynamicSupervisor({:?})", self.addr)
    }
}
