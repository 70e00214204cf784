//! rotp: Erlang/OTP for synchronous Rust — lightweight processes on a
//! work-stealing thread pool, GenServers with call/cast/reply, and
//! supervision trees that restart what crashes. No async runtime.
//!
//! # A GenServer
//!
//! A server is a type that holds its state, and callbacks that handle one
//! message at a time. Each call carries the reply port of its own reply
//! type, so `counter.call(Call::Get)` is an `i64` and the compiler checks
//! it; `#[gen_server]` fills in the message types a server does not use.
//!
//! ```
//! use rotp::prelude::*;
//!
//! struct Counter(i64);
//!
//! enum Call {
//!     Get(ReplyTo<i64>),
//!     Add(i64, ReplyTo<i64>),
//! }
//!
//! #[gen_server]
//! impl GenServer for Counter {
//!     fn init(start: i64, _ctx: &mut Ctx<'_, Self>) -> InitResult<Self> {
//!         Init::ok(Counter(start))
//!     }
//!     fn handle_call(&mut self, call: Call, _ctx: &mut Ctx<'_, Self>) -> Handled<Self> {
//!         match call {
//!             Call::Get(r) => r.reply(self.0),
//!             Call::Add(n, r) => {
//!                 self.0 += n;
//!                 r.reply(self.0)
//!             }
//!         }
//!     }
//!     fn handle_cast(&mut self, n: i64, _ctx: &mut Ctx<'_, Self>) -> Handled<Self> {
//!         self.0 += n;
//!         noreply()
//!     }
//! }
//!
//! let rt = Runtime::new()?;
//! let counter = gen_server::start::<Counter>(&rt, 0, StartOptions::new().name("counter"))?;
//! counter.cast(2);
//! assert_eq!(counter.call(|r| Call::Add(40, r))?, 42);
//! assert_eq!(counter.call(Call::Get)?, 42);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # A supervisor
//!
//! A supervisor starts its children from their specs, watches them, and
//! restarts one that crashes; a handle by name follows the restarts.
//!
//! ```
//! use rotp::prelude::*;
//! # struct Counter(i64);
//! # enum Call { Get(ReplyTo<i64>), Crash(ReplyTo<()>) }
//! # #[gen_server]
//! # impl GenServer for Counter {
//! #     fn init(start: i64, _ctx: &mut Ctx<'_, Self>) -> InitResult<Self> { Init::ok(Counter(start)) }
//! #     fn handle_call(&mut self, call: Call, _ctx: &mut Ctx<'_, Self>) -> Handled<Self> {
//! #         match call { Call::Get(r) => r.reply(self.0), Call::Crash(_) => panic!("crash") }
//! #     }
//! # }
//! use std::time::Duration;
//!
//! let rt = Runtime::new()?;
//! let sup = Supervisor::start_link(
//!     &rt,
//!     vec![Counter::child_spec_opts(7, StartOptions::new().name("counter"))],
//!     SupervisorOptions::new().strategy(Strategy::OneForOne),
//! )?;
//! let counter = ServerRef::<Counter>::named(&rt, "counter");
//! let first = counter.pid();
//! assert!(counter.call(Call::Crash).is_err()); // the counter panics...
//! // ...and its supervisor starts it again, from its spec.
//! let restarted = rotp::runtime::testing::wait_until(Duration::from_secs(5), || {
//!     counter.pid().is_some_and(|pid| Some(pid) != first)
//! });
//! assert!(restarted);
//! assert_eq!(counter.call(Call::Get)?, 7);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Where to go next
//!
//! - `docs/guide.md` shows every Elixir GenServer pattern beside its rotp
//!   form; `examples/` has each one runnable
//!   (`cargo run --release --example tour` to start).
//! - [`rules`] explains each numbered OTP rule the docs cite ("rule 65",
//!   "R1"); it is `docs/rules.md` in the repository.
//! - `docs/semantics.md` lists where rotp differs from OTP, and why.
//!
//! # The crates
//!
//! This facade re-exports the layers and a [`prelude`]:
//!
//! - [`runtime`]: processes, the work-stealing scheduler, links, monitors,
//!   exit signals, timers, names ([`rotp_runtime`]). Raw processes handle
//!   messages with a [`runtime::Context`]; GenServer callbacks get a
//!   [`gen_server::Ctx`], the one in the prelude.
//! - [`gen_server`]: the GenServer behaviour, Agent and Task
//!   ([`rotp_gen_server`]).
//! - [`supervisor`]: supervision trees, DynamicSupervisor,
//!   PartitionSupervisor and TaskSupervisor ([`rotp_supervisor`]).
//! - [`store`]: shared state owned by processes — the key
//!   [`Registry`](store::Registry) and concurrent [`Table`](store::Table)s
//!   (the ETS pattern) ([`rotp_store`]).
//! - [`telemetry`]: events with measurements and metadata, handlers
//!   attached at run time (Elixir's `:telemetry`).
//! - `observer` (feature `observer`): a live web page of the runtime
//!   (`rotp_observer`).
//! - `dist` (feature `dist`): the runtime as a node of an Erlang/Elixir
//!   cluster (`rotp_dist`; see `docs/distribution.md`).

#[doc = include_str!("../docs/rules.md")]
pub mod rules {}

pub use rotp_gen_server as gen_server;
pub use rotp_runtime as runtime;
pub use rotp_runtime::exit;
pub use rotp_runtime::telemetry;
pub use rotp_store as store;
pub use rotp_supervisor as supervisor;

/// The observer page: supervision trees, processes and scheduler load,
/// live in a browser (the `rotp-observer` crate; feature `observer`).
#[cfg(feature = "observer")]
pub use rotp_observer as observer;

/// Erlang distribution: the runtime as a node of an Erlang/Elixir cluster
/// (the `rotp-dist` crate; feature `dist`).
#[cfg(feature = "dist")]
pub use rotp_dist as dist;

/// The names most programs need.
///
/// `Ctx` is a GenServer callback's context; a raw process's handler gets a
/// [`runtime::Context`] instead, not in the
/// prelude.
pub mod prelude {
    pub use rotp_gen_server::{
        self as gen_server, gen_server, noreply, stop, Agent, CallError, Ctx, EnterOptions,
        EventTimeout, GenServer, Handled, Info, Init, InitResult, ReplyTo, ServerRef, StartError,
        StartOptions, Task, TaskError, TaskShutdown, Then,
    };
    pub use rotp_runtime::{
        blocking, exit, Addr, Down, ExitReason, Handle, MonitorRef, Pid, Runtime, SpawnOptions,
    };
    pub use rotp_store::{Access, Keys, Registry, RegistryOptions, Table, TableOptions};
    pub use rotp_supervisor::{
        ChildSpec, DynamicChildSpec, DynamicSupervisor, DynamicSupervisorOptions,
        GenServerChildSpec, PartitionOptions, PartitionSupervisor, Restart, Shutdown, Strategy,
        Supervisor, SupervisorInit, SupervisorModule, SupervisorOptions, SupervisorStartError,
        TaskSupervisor, TaskSupervisorOptions,
    };
}

/// The README's Rust example, compiled and run as a doctest.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
