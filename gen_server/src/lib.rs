//! The GenServer behaviour for rotp: a process that owns a state and serves
//! calls, casts and messages one at a time, with OTP's semantics.
//!
//! ```
//! use rotp_gen_server::{start, CallResult, CastResult, Caller, Ctx, GenServer, Init, InitResult, NoReply, Reply, StartOptions};
//!
//! /// A stack: push with a cast, pop with a call.
//! struct Stack(Vec<String>);
//!
//! enum Call { Pop }
//!
//! impl GenServer for Stack {
//!     type Args = Vec<String>;
//!     type Call = Call;
//!     type Reply = Option<String>;
//!     type Cast = String;
//!     type Info = ();
//!     type Continue = ();
//!
//!     fn init(items: Vec<String>, _ctx: &mut Ctx<'_, Self>) -> InitResult<Self> {
//!         Init::ok(Stack(items))
//!     }
//!     fn handle_call(&mut self, Call::Pop: Call, _caller: &mut Caller<Self::Reply>, _ctx: &mut Ctx<'_, Self>) -> CallResult<Self> {
//!         Reply::reply(self.0.pop())
//!     }
//!     fn handle_cast(&mut self, item: String, _ctx: &mut Ctx<'_, Self>) -> CastResult<Self> {
//!         self.0.push(item);
//!         NoReply::noreply()
//!     }
//! }
//!
//! let rt = rotp_runtime::Runtime::new().unwrap();
//! let stack = start::<Stack>(&rt, vec!["hello".into()], StartOptions::new().name("stack")).unwrap();
//! stack.cast("world".into());
//! assert_eq!(stack.call(Call::Pop).unwrap().as_deref(), Some("world"));
//! assert_eq!(stack.call(Call::Pop).unwrap().as_deref(), Some("hello"));
//! ```
//!
//! # Concepts
//!
//! ```text
//!  client ──call(req)──► mailbox ──► handle_call(&mut self, req, caller, ctx)
//!     ▲                                   │ Reply::reply(v) / Reply::noreply()
//!     └───────────── reply ───────────────┘   (or caller.defer() → reply later)
//!  client ──cast(msg)──► mailbox ──► handle_cast(&mut self, msg, ctx)
//!  links, monitors, timers ──► handle_info(&mut self, Info::{Msg, Exit, Down, Timeout}, ctx)
//! ```
//!
//! - The implementing type is the state; callbacks change it in place.
//! - Results are values ([`Reply`], [`NoReply`], [`Init`]) with optional
//!   [`Next`] actions: inactivity timeout, hibernate, continue, and OTP 28's
//!   [`EventTimeout`].
//! - A process may do its own start-up and then become a server:
//!   [`spawn_enter`] and [`enter_loop`] (OTP's `gen_server:enter_loop`).
//! - Calls fail with a [`CallError`] value instead of exiting the caller.
//! - A call made inside a process blocks only that process.
//! - `terminate` runs on stop results, panics, `stop`, and the parent's
//!   exit while trapping exits — never on a kill.
//! - `docs/guide.md` shows each Elixir GenServer pattern beside its rotp
//!   form.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod agent;
mod behaviour;
mod caller;
mod client;
mod context;
mod enter;
mod error;
mod name;
mod results;
mod server;
mod start;
mod sys;
mod task;

pub use agent::Agent;
pub use behaviour::{CallResult, CastResult, GenServer, Info, InitResult};
pub use caller::{reply, Caller, DeferredReply};
pub use client::{RequestId, ServerRef, DEFAULT_CALL_TIMEOUT};
pub use context::Ctx;
pub use enter::{enter_loop, spawn_enter, EnterLoop, EnterOptions};
pub use error::{CallError, CastError, EnterError, StartError, StopError};
pub use name::{ServerName, ViaError, ViaKey};
pub use results::{Deadline, EventTimeout, Init, Next, NoReply, Reply};
/// The policy of a bounded mailbox ([`StartOptions::mailbox_limit`]),
/// re-exported so that a server's options need only this crate.
pub use rotp_runtime::Overflow;
pub use start::{start, start_link, start_monitor, StartOptions};
pub use sys::{Statistics, Status};
pub use task::{
    OnStreamTimeout, OnYieldTimeout, PendingTask, StreamOptions, Task, TaskChild, TaskError,
    TaskShutdown, TaskStream, YieldManyOptions, DEFAULT_TASK_TIMEOUT,
};
