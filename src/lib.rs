//! rotp: Erlang/OTP for synchronous Rust.
//!
//! This facade re-exports the three layers and a [`prelude`]:
//!
//! - [`runtime`]: processes, the work-stealing scheduler, links, monitors,
//!   exit signals, timers, names ([`rotp_runtime`]).
//! - [`gen_server`]: the GenServer behaviour, Agent and Task
//!   ([`rotp_gen_server`]).
//! - [`supervisor`]: supervision trees, DynamicSupervisor and
//!   TaskSupervisor ([`rotp_supervisor`]).
//! - [`telemetry`]: events with measurements and metadata, handlers
//!   attached at run time (Elixir's `:telemetry`).
//! - `observer` (feature `observer`): a live web page of the runtime
//!   (`rotp_observer`).
//!
//! ```
//! use rotp::prelude::*;
//!
//! let rt = Runtime::new().unwrap();
//! let (tx, rx) = std::sync::mpsc::channel();
//! let greeter = rt.spawn_fn(move |name: String, _ctx| tx.send(format!("hello, {name}")).unwrap());
//! greeter.send("world".to_owned());
//! assert_eq!(rx.recv().unwrap(), "hello, world");
//! ```

pub use rotp_gen_server as gen_server;
pub use rotp_runtime as runtime;
pub use rotp_runtime::telemetry;
pub use rotp_supervisor as supervisor;

/// The observer page: supervision trees, processes and scheduler load,
/// live in a browser (the `rotp-observer` crate; feature `observer`).
#[cfg(feature = "observer")]
pub use rotp_observer as observer;

/// The names most programs need.
pub mod prelude {
    pub use rotp_gen_server::{
        self as gen_server, Agent, CallError, CallResult, Caller, CastResult, Ctx, DeferredReply,
        EnterOptions, EventTimeout, GenServer, Info, Init, InitResult, NoReply, Reply, ServerRef,
        StartError, StartOptions, Task, TaskError, TaskShutdown,
    };
    pub use rotp_runtime::{
        blocking, Addr, Context, Down, ExitReason, Handle, MonitorRef, Pid, Process, Runtime,
        SpawnOptions,
    };
    pub use rotp_supervisor::{
        ChildSpec, DynamicSupervisor, DynamicSupervisorOptions, GenServerChildSpec, Restart,
        Shutdown, Strategy, Supervisor, SupervisorOptions, TaskSupervisor, TaskSupervisorOptions,
    };
}
