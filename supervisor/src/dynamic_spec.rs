//! Child specs for a DynamicSupervisor: a [`ChildSpec`] without an id
//! (rules 155-156).

use std::fmt;

use rotp_runtime::Process;

use crate::child_spec::{
    run_start, ChildId, ChildSpec, ChildType, Restart, Shutdown, StartFn, StartResult,
};

/// The specification of a child of a
/// [`DynamicSupervisor`](crate::DynamicSupervisor): how to start it, when
/// to restart it, how to stop it, and its type — a [`ChildSpec`] without
/// the id, which a DynamicSupervisor ignores (rule 155; its children are
/// known by pid).
///
/// [`DynamicSupervisor::start_child`](crate::DynamicSupervisor::start_child)
/// takes one of these or any [`ChildSpec`] (its id is dropped), such as a
/// GenServer's `Counter::child_spec(args)`.
///
/// ```
/// use rotp_runtime::{Context, Process, Runtime};
/// use rotp_supervisor::{DynamicChildSpec, DynamicSupervisor, DynamicSupervisorOptions, Restart};
///
/// struct Session;
/// impl Process for Session {
///     type Message = ();
///     fn handle(&mut self, _: (), _: &mut Context<'_, ()>) {}
/// }
///
/// let rt = Runtime::new().unwrap();
/// let sup = DynamicSupervisor::start_link(&rt, DynamicSupervisorOptions::new()).unwrap();
/// let spec = DynamicChildSpec::process(|| Session).restart(Restart::Transient);
/// let a = sup.start_child(spec.clone()).unwrap().unwrap();
/// let b = sup.start_child(spec).unwrap().unwrap();
/// assert_ne!(a, b);
/// assert_eq!(sup.count_children().unwrap().active, 2);
/// ```
pub struct DynamicChildSpec<E = ()> {
    /// When the child is restarted; default [`Restart::Permanent`].
    pub restart: Restart,
    /// How the child is stopped; defaults to 5 s for workers and
    /// [`Shutdown::Infinity`] for supervisors.
    pub shutdown: Shutdown,
    /// Worker or supervisor.
    pub child_type: ChildType,
    start: StartFn<E>,
    /// The id of a significant [`ChildSpec`] this was made from: a
    /// DynamicSupervisor refuses it (rule 155) and names it in the error.
    pub(crate) significant: Option<ChildId>,
}

impl DynamicChildSpec<()> {
    /// A worker started by `start` (permanent, 5 s shutdown): the start
    /// function runs inside the supervisor and returns the pid of a child
    /// linked to it, as for [`ChildSpec::worker`].
    ///
    /// ```
    /// use rotp_runtime::{FnProcess, Handle, SpawnOptions};
    /// use rotp_supervisor::DynamicChildSpec;
    ///
    /// let spec = DynamicChildSpec::worker(|| {
    ///     let (addr, _) = Handle::current()
    ///         .spawn_opts(FnProcess::new(|_: (), _ctx| {}), &SpawnOptions::new().link(true));
    ///     Ok(Some(addr.pid()))
    /// });
    /// assert_eq!(spec.shutdown, rotp_supervisor::Shutdown::Timeout(std::time::Duration::from_secs(5)));
    /// ```
    pub fn worker<F>(start: F) -> Self
    where
        F: Fn() -> StartResult + Send + Sync + 'static,
    {
        DynamicChildSpec::new(ChildType::Worker, move |_: &()| start())
    }

    /// A child supervisor started by `start` (shutdown infinity).
    pub fn supervisor<F>(start: F) -> Self
    where
        F: Fn() -> StartResult + Send + Sync + 'static,
    {
        DynamicChildSpec::new(ChildType::Supervisor, move |_: &()| start())
    }

    /// A worker that is a raw [`Process`] built by `factory` on every
    /// (re)start, as for [`ChildSpec::process`]: spawned linked to the
    /// supervisor, started once its `init` has returned.
    pub fn process<P, F>(factory: F) -> Self
    where
        P: Process,
        F: Fn() -> P + Send + Sync + 'static,
    {
        DynamicChildSpec::worker(move || crate::spawn::start_link_process(factory()))
    }
}

impl<E> DynamicChildSpec<E> {
    /// A child of type `child_type` whose start function receives the
    /// supervisor's extra argument on start and on every restart (rule
    /// 156).
    ///
    /// ```
    /// use rotp_runtime::{Context, Process, Runtime};
    /// use rotp_supervisor::{start_link_process, ChildType, DynamicChildSpec, DynamicSupervisor, DynamicSupervisorOptions};
    ///
    /// struct Conn { url: String }
    /// impl Process for Conn {
    ///     type Message = ();
    ///     fn handle(&mut self, _: (), _: &mut Context<'_, ()>) {}
    /// }
    ///
    /// let rt = Runtime::new().unwrap();
    /// let opts = DynamicSupervisorOptions::new().extra_arguments(String::from("db://local"));
    /// let sup = DynamicSupervisor::start_link(&rt, opts).unwrap();
    /// let spec = DynamicChildSpec::new(ChildType::Worker, |url: &String| {
    ///     start_link_process(Conn { url: url.clone() })
    /// });
    /// assert!(sup.start_child(spec).unwrap().is_some());
    /// ```
    pub fn new<F>(child_type: ChildType, start: F) -> Self
    where
        F: Fn(&E) -> StartResult + Send + Sync + 'static,
    {
        DynamicChildSpec {
            restart: Restart::Permanent,
            shutdown: child_type.default_shutdown(),
            child_type,
            start: std::sync::Arc::new(start),
            significant: None,
        }
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

    /// The start function.
    pub fn start_fn(&self) -> &StartFn<E> {
        &self.start
    }

    /// Runs the start function with `extra`; a panic is a start error.
    pub(crate) fn start_with(&self, extra: &E) -> StartResult {
        run_start(&self.start, extra)
    }
}

/// Drops the id; a significant spec stays marked, for `start_child` to
/// refuse (rule 155).
impl<E> From<ChildSpec<E>> for DynamicChildSpec<E> {
    fn from(spec: ChildSpec<E>) -> Self {
        DynamicChildSpec {
            restart: spec.restart,
            shutdown: spec.shutdown,
            child_type: spec.child_type,
            significant: spec.significant.then(|| spec.id.clone()),
            start: spec.start_fn().clone(),
        }
    }
}

impl<E> Clone for DynamicChildSpec<E> {
    fn clone(&self) -> Self {
        DynamicChildSpec {
            restart: self.restart,
            shutdown: self.shutdown,
            child_type: self.child_type,
            start: self.start.clone(),
            significant: self.significant.clone(),
        }
    }
}

impl<E> fmt::Debug for DynamicChildSpec<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DynamicChildSpec")
            .field("restart", &self.restart)
            .field("shutdown", &self.shutdown)
            .field("child_type", &self.child_type)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::child_spec::DEFAULT_WORKER_SHUTDOWN;

    #[test]
    fn defaults_follow_rule_104() {
        let w = DynamicChildSpec::worker(|| Ok(None));
        assert_eq!(w.restart, Restart::Permanent);
        assert_eq!(w.shutdown, Shutdown::Timeout(DEFAULT_WORKER_SHUTDOWN));
        assert_eq!(w.child_type, ChildType::Worker);
        assert!(w.significant.is_none());
        let s = DynamicChildSpec::supervisor(|| Ok(None));
        assert_eq!(s.shutdown, Shutdown::Infinity);
        assert_eq!(s.child_type, ChildType::Supervisor);
    }

    #[test]
    fn a_child_spec_converts_keeping_everything_but_the_id() {
        let spec = ChildSpec::worker("w", || Ok(None))
            .restart(Restart::Transient)
            .shutdown(Shutdown::BrutalKill);
        let d = DynamicChildSpec::from(spec.clone());
        assert_eq!(
            (d.restart, d.shutdown, d.child_type, d.significant),
            (
                Restart::Transient,
                Shutdown::BrutalKill,
                ChildType::Worker,
                None
            )
        );
        let d = DynamicChildSpec::from(spec.significant(true));
        assert_eq!(d.significant, Some("w".into()));
    }
}
