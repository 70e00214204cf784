//! Module-based supervisors (Elixir's `use Supervisor` with `init/1`): a
//! type whose `init` describes the tree, started like any supervisor and
//! usable as a child of another (rule 114).

use rotp_runtime::Handle;

use crate::child_spec::{short_type_name, ChildSpec};
use crate::error::SupervisorStartError;
use crate::flags::SupervisorOptions;
use crate::server::Setup;
use crate::supervisor::{child_start_result, Supervisor};

/// What a [`SupervisorModule`]'s `init` returns: the children to start and
/// the supervisor's options, or [`Ignore`](SupervisorInit::Ignore).
///
/// ```
/// use rotp_supervisor::{SupervisorInit, SupervisorOptions, Strategy};
///
/// let init = SupervisorInit::ok(vec![], SupervisorOptions::new().strategy(Strategy::OneForAll));
/// assert!(matches!(init, SupervisorInit::Start { .. }));
/// ```
#[derive(Debug)]
#[must_use]
pub enum SupervisorInit {
    /// Start these children, in order, with these options — Elixir's
    /// `Supervisor.init(children, opts)`.
    Start {
        /// The initial children, started in order (rule 111).
        children: Vec<ChildSpec>,
        /// Strategy, intensity, auto-shutdown, and the name to register
        /// the supervisor under (registered before the children start).
        options: SupervisorOptions,
    },
    /// Do not start (OTP's `ignore`, rule 114): the supervisor exits
    /// `normal` and its start returns [`SupervisorStartError::Ignored`]; as
    /// a child it is one whose start was ignored (kept, not running).
    Ignore,
}

impl SupervisorInit {
    /// Start `children` with `options` (Elixir's `Supervisor.init/2`).
    pub fn ok(children: impl IntoIterator<Item = ChildSpec>, options: SupervisorOptions) -> Self {
        SupervisorInit::Start {
            children: children.into_iter().collect(),
            options,
        }
    }

    /// Do not start (rule 114).
    pub fn ignore() -> Self {
        SupervisorInit::Ignore
    }
}

/// A module-based supervisor, Elixir's `use Supervisor`: a type whose
/// [`init`](SupervisorModule::init) turns its arguments into the children
/// and options of a supervisor.
///
/// [`start_link`](SupervisorModule::start_link) starts it like
/// [`Supervisor::start_link`], and [`child_spec`](SupervisorModule::child_spec)
/// nests it under another supervisor (type supervisor, shutdown infinity,
/// permanent, id = the type's short name). `init` runs inside the new
/// supervisor process, once per (re)start, before anything else: it may
/// read configuration and decide what to start, or to start nothing
/// ([`SupervisorInit::Ignore`]).
///
/// ```
/// use rotp_runtime::{Context, Process, Runtime};
/// use rotp_supervisor::{
///     ChildSpec, Strategy, Supervisor, SupervisorInit, SupervisorModule, SupervisorOptions,
/// };
///
/// struct Worker;
/// impl Process for Worker {
///     type Message = ();
///     fn handle(&mut self, _: (), _: &mut Context<'_, ()>) {}
/// }
///
/// /// The application's tree: `workers` workers, restarted one_for_all.
/// struct App;
///
/// impl SupervisorModule for App {
///     type Args = usize;
///
///     fn init(workers: usize) -> SupervisorInit {
///         let children = (0..workers).map(|i| ChildSpec::process(format!("worker-{i}"), || Worker));
///         SupervisorInit::ok(children, SupervisorOptions::new().strategy(Strategy::OneForAll).name("app"))
///     }
/// }
///
/// let rt = Runtime::new().unwrap();
/// let app = App::start_link(&rt, 3).unwrap();
/// assert_eq!(app.count_children().unwrap().active, 3);
/// assert_eq!(Supervisor::whereis(&rt, "app"), Some(app));
/// ```
///
/// Where Elixir passes the name to `Supervisor.start_link/3`, rotp takes it
/// from the options `init` returns: the name is registered after `init`
/// has run and before the children start, so `init` should only describe
/// the tree, with no effect of its own that a taken name would leave
/// behind.
pub trait SupervisorModule: 'static {
    /// What `init` is given.
    type Args: Send + 'static;

    /// The children and options of the supervisor, or
    /// [`SupervisorInit::Ignore`]. Runs in the supervisor process, like
    /// OTP's `init/1`; a panic fails the start with
    /// [`SupervisorStartError::Init`] and the supervisor exits with the
    /// panic's reason (rule 114).
    fn init(args: Self::Args) -> SupervisorInit;

    /// Starts the supervisor: runs `init` inside it, then registers the
    /// name and starts the children in order, and returns once all are
    /// started. Linked to the calling process, like
    /// [`Supervisor::start_link`].
    ///
    /// # Errors
    ///
    /// As [`Supervisor::start_link`], checked on what `init` returned, and
    /// [`SupervisorStartError::Ignored`] when `init` ignores the start,
    /// [`SupervisorStartError::Init`] when it panics. The supervisor has
    /// exited when this returns an error (rule 54).
    fn start_link(handle: &Handle, args: Self::Args) -> Result<Supervisor, SupervisorStartError> {
        Supervisor::spawn(handle, Setup::Module(Box::new(move || Self::init(args))))
    }

    /// A child spec starting this supervisor with `args` on every
    /// (re)start: id = the type's short name (like Elixir's module name),
    /// type supervisor, shutdown infinity, permanent. An `init` that
    /// ignores the start makes an ignored child (rule 112).
    ///
    /// ```
    /// use rotp_runtime::{Context, Process, Runtime};
    /// use rotp_supervisor::{ChildSpec, ChildType, Shutdown, Supervisor, SupervisorInit, SupervisorModule, SupervisorOptions};
    ///
    /// struct Worker;
    /// impl Process for Worker {
    ///     type Message = ();
    ///     fn handle(&mut self, _: (), _: &mut Context<'_, ()>) {}
    /// }
    ///
    /// /// A pool of `n` workers, or nothing for `n == 0`.
    /// struct Pool;
    /// impl SupervisorModule for Pool {
    ///     type Args = usize;
    ///     fn init(n: usize) -> SupervisorInit {
    ///         if n == 0 {
    ///             return SupervisorInit::ignore();
    ///         }
    ///         let workers = (0..n).map(|i| ChildSpec::process(format!("w{i}"), || Worker));
    ///         SupervisorInit::ok(workers, SupervisorOptions::new())
    ///     }
    /// }
    ///
    /// let spec = Pool::child_spec(2);
    /// assert_eq!(spec.id, "Pool");
    /// assert_eq!((spec.child_type, spec.shutdown), (ChildType::Supervisor, Shutdown::Infinity));
    ///
    /// let rt = Runtime::new().unwrap();
    /// let root = Supervisor::start_link(
    ///     &rt,
    ///     vec![spec, Pool::child_spec(0).id("empty")],
    ///     SupervisorOptions::new(),
    /// )
    /// .unwrap();
    /// let counts = root.count_children().unwrap();
    /// assert_eq!((counts.specs, counts.active), (2, 1)); // "empty" was ignored
    /// ```
    fn child_spec(args: Self::Args) -> ChildSpec
    where
        Self::Args: Clone + Sync,
    {
        ChildSpec::supervisor(short_type_name::<Self>(), move || {
            child_start_result(Self::start_link(&Handle::current(), args.clone()))
        })
    }
}
