//! Supervisors for rotp: processes that start other processes, watch them,
//! restart them when they fail, and stop them in order — OTP's
//! `supervisor` and Elixir's `Supervisor`, `DynamicSupervisor` and
//! `Task.Supervisor`, for synchronous Rust.
//!
//! ```
//! use std::time::Duration;
//! use rotp_gen_server::{gen_server, Ctx, GenServer, Handled, Init, InitResult, ReplyTo, ServerRef, StartOptions};
//! use rotp_runtime::Runtime;
//! use rotp_supervisor::{GenServerChildSpec, Strategy, Supervisor, SupervisorOptions};
//!
//! /// Counts; panics on a negative increment.
//! struct Counter(i64);
//!
//! /// Add `n`, answer the new total.
//! struct Add(i64, ReplyTo<i64>);
//!
//! #[gen_server]
//! impl GenServer for Counter {
//!     fn init(start: i64, _ctx: &mut Ctx<'_, Self>) -> InitResult<Self> {
//!         Init::ok(Counter(start))
//!     }
//!     fn handle_call(&mut self, Add(n, r): Add, _ctx: &mut Ctx<'_, Self>) -> Handled<Self> {
//!         assert!(n >= 0, "negative increment");
//!         self.0 += n;
//!         r.reply(self.0)
//!     }
//! }
//!
//! let rt = Runtime::new().unwrap();
//! let sup = Supervisor::start_link(
//!     &rt,
//!     vec![Counter::child_spec_opts(0, StartOptions::new().name("counter"))],
//!     SupervisorOptions::new().strategy(Strategy::OneForOne).name("app"),
//! )
//! .unwrap();
//!
//! let counter = ServerRef::<Counter>::named(&rt, "counter");
//! assert_eq!(counter.call(|r| Add(5, r)).unwrap(), 5);
//! assert!(counter.call(|r| Add(-1, r)).is_err()); // the counter panics and exits...
//!
//! // ...and its supervisor starts it again, from its child spec.
//! let pid = sup.await_child("counter", Duration::from_secs(5)).unwrap();
//! assert_eq!(counter.pid(), Some(pid));
//! assert_eq!(counter.call(|r| Add(1, r)).unwrap(), 1);
//! assert_eq!(sup.count_children().unwrap().active, 1);
//! ```
//!
//! # Concepts
//!
//! **Child specs.** A [`ChildSpec`] says how to start a child (a start
//! function that runs inside the supervisor and returns the pid of a
//! process *linked* to it), when to restart it ([`Restart`]), how to stop
//! it ([`Shutdown`]), and whether it is a worker or a supervisor
//! ([`ChildType`]). Build one with [`ChildSpec::process`] for a raw
//! [`Process`](rotp_runtime::Process) (started like a GenServer: the start
//! returns once its `init` has run; see [`start_link_process`]),
//! [`GenServerChildSpec::child_spec`]
//! for a GenServer (its id is the type's short name, or the server's name
//! when it has one), [`Supervisor::child_spec`] for a nested supervisor,
//! [`SupervisorModule::child_spec`] for a module-based one, or
//! [`ChildSpec::worker`] with any start function. Defaults are Elixir's:
//! permanent, 5 s shutdown for workers, infinity for supervisors.
//!
//! **Module-based supervisors** ([`SupervisorModule`], Elixir's
//! `use Supervisor`): a type whose `init(args)` returns the children and
//! options ([`SupervisorInit::ok`]) or ignores the start
//! ([`SupervisorInit::Ignore`]); `App::start_link(&rt, args)` starts it,
//! `App::child_spec(args)` nests it.
//!
//! **Strategies** ([`Strategy`]) decide which children restart when one
//! must:
//!
//! ```text
//!   children, in start order:   A   B   C   D          C exits abnormally
//!   one_for_one                         C'             only C
//!   one_for_all                 A'  B'  C'  D'         D, B, A stopped, then all started
//!   rest_for_one                        C'  D'         D stopped, then C, D started
//! ```
//!
//! **Restart types**: `Permanent` children always restart; `Transient` ones
//! only after an abnormal exit (not `normal`, `shutdown` or
//! `{shutdown, _}`); `Temporary` ones never, and are forgotten.
//!
//! **Intensity** ([`Intensity`]): more than `max_restarts` automatic
//! restarts within `max_seconds` (3 in 5 s by default) and the supervisor
//! gives up: it stops all children and exits with `shutdown`, which its
//! own supervisor sees as a failure of one child. Time is the runtime
//! clock, so tests use the virtual clock
//! ([`Handle::advance`](rotp_runtime::Handle::advance)).
//!
//! **Stopping** is in reverse start order, one child at a time: exit signal
//! `shutdown`, a wait up to the child's timeout, then a kill. A thread
//! cannot be interrupted, so a kill takes effect when the child's current
//! callback returns; the supervisor always waits for the real exit, so two
//! incarnations of a child never run at once and a restarted child can take
//! its registered name at once. A callback that never returns cannot be
//! stopped: long callbacks should poll `ctx.is_exiting()`.
//!
//! A child may ask its own supervisor to stop it (`terminate_child` of its
//! own id, or `DynamicSupervisor::terminate_child(own_pid)`): it is told to
//! exit and answered without being waited for, and exits when its callback
//! returns.
//!
//! **Parents.** [`Supervisor::start_link`] takes the runtime's
//! [`Handle`](rotp_runtime::Handle) (like `rotp_gen_server::start_link`)
//! and links the supervisor to the calling process, its parent; the
//! parent's exit stops the supervisor and its children. Started from a
//! plain thread, the parent is [`Pid::ROOT`](rotp_runtime::Pid::ROOT) and
//! [`Runtime::shutdown`](rotp_runtime::Runtime::shutdown) stops the tree.
//!
//! **Significant children** ([`AutoShutdown`]): a transient or temporary
//! child marked significant can end its supervisor when it finishes on its
//! own — for trees that do one job and go away.
//!
//! **DynamicSupervisor** ([`DynamicSupervisor`]) starts with no children and
//! adds them on demand ([`DynamicChildSpec`]: a spec without an id, which a
//! DynamicSupervisor would ignore), one_for_one, optionally bounded by
//! `max_children`;
//! each child's start function receives the supervisor's extra argument
//! (Elixir's `extra_arguments`), on start and on every restart. It stops its
//! children all at once.
//!
//! **PartitionSupervisor** ([`PartitionSupervisor`]) starts N copies of
//! one child spec and routes to them by key
//! ([`via`](PartitionSupervisor::via)): a sharded server in one line.
//!
//! **TaskSupervisor** ([`TaskSupervisor`]) is a DynamicSupervisor whose
//! children are closures run as tasks, temporary with a 5 s shutdown:
//! [`start_child`](TaskSupervisor::start_child) for fire-and-forget work,
//! [`run`](TaskSupervisor::run) / [`run_nolink`](TaskSupervisor::run_nolink)
//! for a [`Task`](rotp_gen_server::Task) to await, linked to the caller or
//! not, and [`run_nolink_info`](TaskSupervisor::run_nolink_info) for a
//! GenServer that takes the result and the `DOWN` in `handle_info`.
//!
//! **Reports** (`child_terminated`, `start_error`, `shutdown_error`,
//! `reached_max_restart_intensity`, `auto_shutdown`) are
//! [`rotp_runtime::Report`]s: `log` records under the target
//! `rotp_supervisor` with key-values — the supervisor's `pid` and `name`,
//! `child_id`, `child_pid`, `reason`, and `restarts`, the automatic
//! restarts in the intensity window — when a logger is set, else one line
//! each on stderr. Only abnormal exit reasons are errors; a child ending
//! normally and an auto-shutdown are info (not printed without a logger).
//!
//! The management API ([`Supervisor::start_child`],
//! [`terminate_child`](Supervisor::terminate_child),
//! [`restart_child`](Supervisor::restart_child),
//! [`delete_child`](Supervisor::delete_child),
//! [`which_children`](Supervisor::which_children),
//! [`count_children`](Supervisor::count_children),
//! [`get_childspec`](Supervisor::get_childspec),
//! [`stop`](Supervisor::stop)) never times out; errors are values, one type
//! per operation. [`await_child`](Supervisor::await_child) waits, up to a
//! timeout, for a child to be running again after a crash.
//!
//! Rule numbers in these docs ("rule 65", "R1") refer to the table of OTP
//! rules rotp follows: [`docs/rules.md`](https://github.com/rotp-rs/rotp/blob/main/docs/rules.md),
//! also the `rotp::rules` page of the facade crate's documentation.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod call;
mod child;
mod child_spec;
mod dynamic;
mod dynamic_server;
mod dynamic_spec;
mod error;
mod events;
mod flags;
mod gen_server;
mod info;
mod module;
mod partition;
mod report;
mod restart;
mod server;
mod spawn;
mod supervisor;
mod task_supervisor;

pub use child_spec::{
    ChildId, ChildSpec, ChildStartError, ChildType, Restart, Shutdown, StartFn, StartResult,
    DEFAULT_WORKER_SHUTDOWN,
};
pub use dynamic::{DynamicSupervisor, DynamicSupervisorOptions};
pub use dynamic_spec::DynamicChildSpec;
pub use error::{
    AwaitChildError, ChildSpecError, DeleteChildError, FlagsError, GetChildSpecError,
    RestartChildError, StartChildError, StopError, SupervisorStartError, TaskRunError,
    TerminateChildError,
};
pub use flags::{
    AutoShutdown, Intensity, Strategy, SupervisorOptions, DEFAULT_MAX_RESTARTS, DEFAULT_MAX_SECONDS,
};
pub use gen_server::GenServerChildSpec;
pub use info::{ChildCounts, ChildInfo, ChildStatus, DynamicChildInfo};
pub use module::{SupervisorInit, SupervisorModule};
pub use partition::{PartitionOptions, PartitionSupervisor, PartitionVia};
/// Why a request to a supervisor failed: the call error of
/// [`rotp_gen_server`], shared so that one `CallError` covers servers and
/// supervisors. Supervisor requests never time out (rule 146), so they
/// fail only with `NoProc`, `Exited`, `Deadlock`, `CallingSelf` or
/// `CallerExiting`.
pub use rotp_gen_server::CallError;
pub use spawn::start_link_process;
pub use supervisor::Supervisor;
pub use task_supervisor::{
    TaskOptions, TaskSupervisor, TaskSupervisorOptions, DEFAULT_TASK_SHUTDOWN,
    TASK_HANDSHAKE_TIMEOUT,
};
