//! Child specifications: what a supervisor needs to know to start, restart
//! and stop one child (rules 104-105, 109).

use std::borrow::Borrow;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use rotp_runtime::{ExitReason, Pid, Process};

/// How long a worker gets to shut down by default (Elixir: 5000 ms, rule 104).
pub const DEFAULT_WORKER_SHUTDOWN: Duration = Duration::from_secs(5);

/// The identifier of a child within its supervisor.
///
/// Cheap to clone; built from `&str` or `String`, compares with `&str`.
///
/// ```
/// use rotp_supervisor::ChildId;
/// let id: ChildId = "cache".into();
/// assert_eq!(id, "cache");
/// assert_eq!(id.to_string(), "cache");
/// ```
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ChildId(Arc<str>);

impl ChildId {
    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl From<&str> for ChildId {
    fn from(s: &str) -> Self {
        ChildId(s.into())
    }
}

impl From<String> for ChildId {
    fn from(s: String) -> Self {
        ChildId(s.into())
    }
}

impl From<&ChildId> for ChildId {
    fn from(id: &ChildId) -> Self {
        id.clone()
    }
}

impl Borrow<str> for ChildId {
    fn borrow(&self) -> &str {
        &self.0
    }
}

impl PartialEq<str> for ChildId {
    fn eq(&self, other: &str) -> bool {
        &*self.0 == other
    }
}

impl PartialEq<&str> for ChildId {
    fn eq(&self, other: &&str) -> bool {
        &*self.0 == *other
    }
}

impl fmt::Display for ChildId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for ChildId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&*self.0, f)
    }
}

/// When a child is restarted after it exits (rule 122).
///
/// ```
/// use rotp_supervisor::Restart;
/// assert_eq!(Restart::default(), Restart::Permanent);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Restart {
    /// Always restarted, whatever the exit reason.
    #[default]
    Permanent,
    /// Restarted only after an abnormal exit (not `normal`, `shutdown` or
    /// `{shutdown, _}`); `killed` is abnormal (rule 123).
    Transient,
    /// Never restarted; its spec is forgotten once it exits.
    Temporary,
}

/// How a child is stopped by its supervisor (rules 105, 116-118).
///
/// On rotp a kill takes effect when the child's current callback returns
/// (adaptation R1): the timeout bounds the graceful phase only, and the
/// supervisor always waits for the real exit, so two incarnations of a
/// child never run at once. A callback that never returns cannot be
/// stopped; long callbacks should poll
/// [`Context::is_exiting`](rotp_runtime::Context::is_exiting).
///
/// ```
/// use std::time::Duration;
/// use rotp_supervisor::Shutdown;
/// let s = Shutdown::Timeout(Duration::from_millis(500));
/// assert_ne!(s, Shutdown::Infinity);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Shutdown {
    /// Kill at once (`brutal_kill`); the expected exit reason is `killed`.
    BrutalKill,
    /// Send exit signal `shutdown`, wait up to this long on the runtime
    /// clock, then kill.
    Timeout(Duration),
    /// Send exit signal `shutdown` and wait as long as it takes (the
    /// default for supervisors).
    Infinity,
}

/// Whether a child is a worker or a supervisor (rule 104). Decides the
/// default shutdown and the counts of
/// [`count_children`](crate::Supervisor::count_children).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum ChildType {
    /// A worker (default shutdown: 5 s).
    #[default]
    Worker,
    /// A supervisor (default shutdown: infinity).
    Supervisor,
}

impl ChildType {
    /// The default shutdown of this type (Elixir defaults, adaptation R7).
    pub fn default_shutdown(self) -> Shutdown {
        match self {
            ChildType::Worker => Shutdown::Timeout(DEFAULT_WORKER_SHUTDOWN),
            ChildType::Supervisor => Shutdown::Infinity,
        }
    }
}

/// Why a child's start function failed (rule 111).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ChildStartError {
    /// The child's name is already taken by this process (`already_started`);
    /// [`start_child`](crate::Supervisor::start_child) passes it through
    /// unwrapped (rule 139).
    #[error("already started as {0}")]
    AlreadyStarted(Pid),
    /// Any other failure: the start function's error, or its panic as
    /// [`ExitReason::Panic`].
    #[error("{0}")]
    Failed(ExitReason),
}

impl From<ExitReason> for ChildStartError {
    fn from(reason: ExitReason) -> Self {
        ChildStartError::Failed(reason)
    }
}

/// What a start function returns: `Ok(Some(pid))` for a child started and
/// linked to the caller, `Ok(None)` for `ignore` (nothing started).
pub type StartResult = Result<Option<Pid>, ChildStartError>;

/// The start function of a child. It runs inside the supervisor process and
/// must create the child *linked* to the caller (the supervisor), e.g.
/// with `Handle::current().spawn_opts(p, &SpawnOptions::new().link(true))`
/// or a GenServer's `start_link`. `E` is the supervisor's extra argument
/// ([`DynamicSupervisor`](crate::DynamicSupervisor)); `()` for a
/// [`Supervisor`](crate::Supervisor).
pub type StartFn<E = ()> = Arc<dyn Fn(&E) -> StartResult + Send + Sync>;

/// The specification of one child (rule 104): its id, how to start it, when
/// to restart it, how to stop it, its type, and whether it is significant
/// for [`AutoShutdown`](crate::AutoShutdown).
///
/// The fields are public to read and to override, like Elixir's
/// `Supervisor.child_spec(spec, overrides)` (rule 109); the builder methods
/// of the same names return the changed spec.
///
/// ```
/// use std::time::Duration;
/// use rotp_runtime::{Context, Process};
/// use rotp_supervisor::{ChildSpec, ChildType, Restart, Shutdown};
///
/// struct Worker;
/// impl Process for Worker {
///     type Message = ();
///     fn handle(&mut self, _: (), _: &mut Context<'_, ()>) {}
/// }
///
/// let spec = ChildSpec::process("worker", || Worker)
///     .restart(Restart::Transient)
///     .shutdown(Shutdown::Timeout(Duration::from_secs(1)));
/// assert_eq!(spec.id, "worker");
/// assert_eq!(spec.child_type, ChildType::Worker);
/// assert_eq!(spec.restart, Restart::Transient);
/// ```
pub struct ChildSpec<E = ()> {
    /// The id, unique within a [`Supervisor`](crate::Supervisor) (ignored by
    /// a [`DynamicSupervisor`](crate::DynamicSupervisor), rule 155).
    pub id: ChildId,
    /// When the child is restarted; default [`Restart::Permanent`].
    pub restart: Restart,
    /// How the child is stopped; defaults to 5 s for workers and
    /// [`Shutdown::Infinity`] for supervisors.
    pub shutdown: Shutdown,
    /// Worker or supervisor.
    pub child_type: ChildType,
    /// Whether the child's own exit may shut the supervisor down (rules
    /// 149-153); only for transient and temporary children.
    pub significant: bool,
    start: StartFn<E>,
}

impl ChildSpec<()> {
    /// A worker started by `start` (rule 104 defaults: permanent, 5 s
    /// shutdown, not significant).
    ///
    /// ```
    /// use rotp_runtime::{Handle, SpawnOptions};
    /// use rotp_supervisor::ChildSpec;
    ///
    /// let spec = ChildSpec::worker("echo", || {
    ///     let (addr, _) = Handle::current().spawn_opts(
    ///         rotp_runtime::FnProcess::new(|_: (), _ctx| {}),
    ///         &SpawnOptions::new().link(true),
    ///     );
    ///     Ok(Some(addr.pid()))
    /// });
    /// assert_eq!(spec.id, "echo");
    /// ```
    pub fn worker<F>(id: impl Into<ChildId>, start: F) -> Self
    where
        F: Fn() -> StartResult + Send + Sync + 'static,
    {
        ChildSpec::new(id, ChildType::Worker, move |_: &()| start())
    }

    /// A child supervisor started by `start` (shutdown infinity).
    ///
    /// [`Supervisor::child_spec`](crate::Supervisor::child_spec) builds one
    /// for a nested [`Supervisor`](crate::Supervisor).
    pub fn supervisor<F>(id: impl Into<ChildId>, start: F) -> Self
    where
        F: Fn() -> StartResult + Send + Sync + 'static,
    {
        ChildSpec::new(id, ChildType::Supervisor, move |_: &()| start())
    }

    /// A worker that is a raw [`Process`] built by `factory` on every
    /// (re)start, spawned linked to the supervisor. The start waits until
    /// the process's `init` has returned, like a GenServer's start; a
    /// panic in `init` is a start error.
    ///
    /// ```
    /// use rotp_runtime::{Context, Process};
    /// use rotp_supervisor::ChildSpec;
    ///
    /// struct Ticker { ticks: u64 }
    /// impl Process for Ticker {
    ///     type Message = ();
    ///     fn handle(&mut self, _: (), _: &mut Context<'_, ()>) { self.ticks += 1; }
    /// }
    /// let spec = ChildSpec::process("ticker", || Ticker { ticks: 0 });
    /// assert_eq!(spec.id, "ticker");
    /// ```
    pub fn process<P, F>(id: impl Into<ChildId>, factory: F) -> Self
    where
        P: Process,
        F: Fn() -> P + Send + Sync + 'static,
    {
        ChildSpec::worker(id, move || crate::spawn::start_link_process(factory()))
    }
}

impl<E> ChildSpec<E> {
    /// A child of type `child_type` whose start function receives the
    /// supervisor's extra argument — the Rust form of a
    /// DynamicSupervisor's `extra_arguments` (rule 156), passed on start
    /// and on every restart.
    ///
    /// ```
    /// use rotp_supervisor::{ChildSpec, ChildType};
    ///
    /// #[derive(Clone)]
    /// struct Pool { size: usize }
    ///
    /// let spec: ChildSpec<Pool> = ChildSpec::new("conn", ChildType::Worker, |pool: &Pool| {
    ///     let size = pool.size;
    ///     Ok(Some(rotp_runtime::Handle::current()
    ///         .spawn_opts(
    ///             rotp_runtime::FnProcess::new(move |_: (), _ctx| { let _ = size; }),
    ///             &rotp_runtime::SpawnOptions::new().link(true),
    ///         )
    ///         .0
    ///         .pid()))
    /// });
    /// assert_eq!(spec.id, "conn");
    /// ```
    pub fn new<F>(id: impl Into<ChildId>, child_type: ChildType, start: F) -> Self
    where
        F: Fn(&E) -> StartResult + Send + Sync + 'static,
    {
        ChildSpec {
            id: id.into(),
            restart: Restart::Permanent,
            shutdown: child_type.default_shutdown(),
            child_type,
            significant: false,
            start: Arc::new(start),
        }
    }

    /// Replaces the id.
    pub fn id(mut self, id: impl Into<ChildId>) -> Self {
        self.id = id.into();
        self
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

    /// Marks the child significant (or not) for auto-shutdown (rule 149).
    pub fn significant(mut self, significant: bool) -> Self {
        self.significant = significant;
        self
    }

    /// The start function.
    pub fn start_fn(&self) -> &StartFn<E> {
        &self.start
    }

    /// Runs the start function with `extra`, turning a panic into
    /// [`ChildStartError::Failed`] with [`ExitReason::Panic`] (rule 111:
    /// an exception counts as an error).
    pub(crate) fn start_with(&self, extra: &E) -> StartResult {
        run_start(&self.start, extra)
    }
}

impl<E> Clone for ChildSpec<E> {
    fn clone(&self) -> Self {
        ChildSpec {
            id: self.id.clone(),
            restart: self.restart,
            shutdown: self.shutdown,
            child_type: self.child_type,
            significant: self.significant,
            start: self.start.clone(),
        }
    }
}

impl<E> fmt::Debug for ChildSpec<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ChildSpec")
            .field("id", &self.id)
            .field("restart", &self.restart)
            .field("shutdown", &self.shutdown)
            .field("child_type", &self.child_type)
            .field("significant", &self.significant)
            .finish_non_exhaustive()
    }
}

/// Runs a start function with `extra`, a panic being a start error (rule
/// 111).
pub(crate) fn run_start<E>(start: &StartFn<E>, extra: &E) -> StartResult {
    match rotp_runtime::catch_panic(|| start(extra)) {
        Ok(result) => result,
        Err(reason) => Err(ChildStartError::Failed(reason)),
    }
}

/// `my_app::cache::Cache<K>` → `Cache<K>`: the default child id of a
/// GenServer or a module-based supervisor (rule 102: the module name).
pub(crate) fn short_type_name<T: ?Sized>() -> ChildId {
    let full = std::any::type_name::<T>();
    let (path, generics) = full.split_at(full.find('<').unwrap_or(full.len()));
    let short = path.rsplit("::").next().unwrap_or(path);
    format!("{short}{generics}").into()
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Plain;
    #[allow(dead_code)]
    struct Generic<T>(T);

    #[test]
    fn ids_are_short_type_names_rule_102() {
        assert_eq!(short_type_name::<Plain>(), "Plain");
        assert_eq!(short_type_name::<Generic<u8>>(), "Generic<u8>");
    }

    #[test]
    fn defaults_follow_rule_104() {
        let w = ChildSpec::worker("w", || Ok(None));
        assert_eq!(w.restart, Restart::Permanent);
        assert_eq!(w.shutdown, Shutdown::Timeout(Duration::from_secs(5)));
        assert_eq!(w.child_type, ChildType::Worker);
        assert!(!w.significant);
        let s = ChildSpec::supervisor("s", || Ok(None));
        assert_eq!(s.shutdown, Shutdown::Infinity);
        assert_eq!(s.child_type, ChildType::Supervisor);
    }

    #[test]
    fn a_panicking_start_is_an_error() {
        let spec = ChildSpec::worker("w", || panic!("no luck"));
        match spec.start_with(&()) {
            Err(ChildStartError::Failed(ExitReason::Panic(p))) => assert_eq!(p.message, "no luck"),
            other => panic!("unexpected {other:?}"),
        }
    }
}
