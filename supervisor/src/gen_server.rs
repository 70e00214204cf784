//! Child specs for GenServers (rule 102): `Counter::child_spec(args)`
//! like Elixir's `use GenServer`.

use rotp_gen_server::{start_link, GenServer, ServerName, StartError, StartOptions};
use rotp_runtime::{ExitReason, Handle};

use crate::child_spec::{
    short_type_name, ChildId, ChildSpec, ChildStartError, ChildType, StartResult,
};

/// Child specs for every [`GenServer`]: bring the trait into scope and
/// write `Counter::child_spec(0)`.
///
/// The spec starts the server with
/// [`rotp_gen_server::start_link`] (linked to the supervisor, synchronous
/// `init`), restart permanent and shutdown 5 s (rule 102). Its id is the
/// type's short name (`Counter`, Elixir's module name), or the server's
/// local name when it is started with one: `child_spec_opts(args,
/// StartOptions::new().name("counter"))` has the id `"counter"`, so that
/// several named servers of one type can share a supervisor, and the name
/// you reach the server by is the id you manage it by. `init` ignoring the
/// start is `ignore`; a taken name is passed through as `already_started`
/// (rule 139); other failures are start errors.
///
/// ```
/// use rotp_gen_server::{gen_server, Ctx, GenServer, Handled, Init, InitResult, ReplyTo, ServerRef};
/// use rotp_supervisor::{GenServerChildSpec, Supervisor, SupervisorOptions};
///
/// struct Counter(u64);
///
/// /// Count one more, answer the total.
/// struct Incr(ReplyTo<u64>);
///
/// #[gen_server]
/// impl GenServer for Counter {
///     fn init(start: u64, _ctx: &mut Ctx<'_, Self>) -> InitResult<Self> {
///         Init::ok(Counter(start))
///     }
///     fn handle_call(&mut self, Incr(r): Incr, _ctx: &mut Ctx<'_, Self>) -> Handled<Self> {
///         self.0 += 1;
///         r.reply(self.0)
///     }
/// }
///
/// let rt = rotp_runtime::Runtime::new().unwrap();
/// assert_eq!(Counter::child_spec(0).id, "Counter");
/// let spec = Counter::child_spec_opts(41, rotp_gen_server::StartOptions::new().name("counter"));
/// assert_eq!(spec.id, "counter");
/// let _sup = Supervisor::start_link(&rt, vec![spec], SupervisorOptions::new()).unwrap();
/// let counter = ServerRef::<Counter>::named(&rt, "counter");
/// assert_eq!(counter.call(Incr).unwrap(), 42);
/// ```
pub trait GenServerChildSpec: GenServer {
    /// A worker spec starting this server with `args` on every (re)start.
    fn child_spec(args: Self::Args) -> ChildSpec
    where
        Self::Args: Clone + Sync,
    {
        Self::child_spec_opts(args, StartOptions::new())
    }

    /// [`child_spec`](GenServerChildSpec::child_spec) with start options —
    /// typically a name, so that the server is reachable across restarts
    /// through [`ServerRef::named`](rotp_gen_server::ServerRef::named). A
    /// local name is also the spec's id; a via name is not (the id is then
    /// the type's short name).
    fn child_spec_opts(args: Self::Args, opts: StartOptions) -> ChildSpec
    where
        Self::Args: Clone + Sync,
    {
        let id = match opts.get_name() {
            Some(ServerName::Local(name)) => ChildId::from(name.as_str()),
            _ => short_type_name::<Self>(),
        };
        ChildSpec::new(id, ChildType::Worker, move |_: &()| {
            start_server::<Self>(args.clone(), opts.clone())
        })
    }

    /// A spec for a [`DynamicSupervisor`](crate::DynamicSupervisor) with
    /// extra argument `E`: `args` builds the server's arguments from the
    /// extra argument on every (re)start — Elixir's `extra_arguments`
    /// prepended to the child's own (rule 156).
    fn child_spec_with_extra<E, F>(args: F) -> ChildSpec<E>
    where
        F: Fn(&E) -> Self::Args + Send + Sync + 'static,
    {
        ChildSpec::new(
            short_type_name::<Self>(),
            ChildType::Worker,
            move |extra: &E| start_server::<Self>(args(extra), StartOptions::new()),
        )
    }
}

impl<G: GenServer> GenServerChildSpec for G {}

/// Starts `G` linked to the caller and maps the result to a start result.
fn start_server<G: GenServer>(args: G::Args, opts: StartOptions) -> StartResult {
    match start_link::<G>(&Handle::current(), args, opts) {
        Ok(server) => Ok(server.pid()),
        Err(StartError::Ignored) => Ok(None),
        Err(StartError::AlreadyStarted(pid)) => Err(ChildStartError::AlreadyStarted(pid)),
        Err(StartError::Init(reason)) => Err(ChildStartError::Failed(reason)),
        Err(StartError::Timeout) => Err(ChildStartError::Failed(ExitReason::Timeout)),
        Err(e) => Err(ChildStartError::Failed(ExitReason::custom(e))),
    }
}
