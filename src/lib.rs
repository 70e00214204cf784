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
//! - `dist` (with the `dist` feature): the runtime as a node of an
//!   Erlang/Elixir cluster (`rotp_dist`).
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
pub use rotp_supervisor as supervisor;

#[cfg(feature = "dist")]
pub use rotp_dist as dist;

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
