//! The GenServer behaviour for rotp: a process that owns a state and serves
//! calls, casts and messages one at a time, with OTP's semantics.
//!
//! ```
//! use rotp_gen_server::{gen_server, noreply, start, Ctx, GenServer, Handled, Init, InitResult, ReplyTo, StartOptions};
//!
//! /// A stack: push with a cast, pop and size with calls.
//! struct Stack(Vec<String>);
//!
//! /// The calls, each with the reply port of its own reply type.
//! enum Call {
//!     Pop(ReplyTo<Option<String>>),
//!     Size(ReplyTo<usize>),
//! }
//!
//! #[gen_server]
//! impl GenServer for Stack {
//!     fn init(items: Vec<String>, _ctx: &mut Ctx<'_, Self>) -> InitResult<Self> {
//!         Init::ok(Stack(items))
//!     }
//!     fn handle_call(&mut self, call: Call, _ctx: &mut Ctx<'_, Self>) -> Handled<Self> {
//!         match call {
//!             Call::Pop(r) => r.reply(self.0.pop()),
//!             Call::Size(r) => r.reply(self.0.len()),
//!         }
//!     }
//!     fn handle_cast(&mut self, item: String, _ctx: &mut Ctx<'_, Self>) -> Handled<Self> {
//!         self.0.push(item);
//!         noreply()
//!     }
//! }
//!
//! let rt = rotp_runtime::Runtime::new().unwrap();
//! let stack = start::<Stack>(&rt, vec!["hello".into()], StartOptions::new().name("stack")).unwrap();
//! stack.cast("world".into());
//! assert_eq!(stack.call(Call::Size).unwrap(), 2);
//! assert_eq!(stack.call(Call::Pop).unwrap().as_deref(), Some("world"));
//! assert_eq!(stack.call(Call::Pop).unwrap().as_deref(), Some("hello"));
//! ```
//!
//! # Concepts
//!
//! ```text
//!  client ──call(Call::Get)──► mailbox ──► handle_call(&mut self, Call::Get(r), ctx)
//!     ▲                                        │ r.reply(v)  (or keep r, noreply(),
//!     └──────────── reply (typed) ─────────────┘   and r.send(v) later)
//!  client ──cast(msg)──► mailbox ──► handle_cast(&mut self, msg, ctx)
//!  links, monitors, timers ──► handle_info(&mut self, Info::{Msg, Exit, Down, Timeout}, ctx)
//! ```
//!
//! - The implementing type is the state; callbacks change it in place.
//! - Each request carries its own [`ReplyTo`], so each has its own reply
//!   type: `stack.call(Call::Size)` is a `usize`, `stack.call(Call::Pop)`
//!   an `Option<String>`, checked by the compiler.
//! - [`#[gen_server]`](macro@gen_server) lets a server declare only the
//!   message types it uses.
//! - Handlers return [`Handled`], a `Result`: [`noreply`], `r.reply(v)`,
//!   [`stop`], or `?` on any error (which stops the server). [`Then`]
//!   adds an inactivity timeout, hibernate, a continue, or OTP 28's
//!   [`EventTimeout`].
//! - A process may do its own start-up and then become a server:
//!   [`spawn_enter`] and [`enter_loop`] (OTP's `gen_server:enter_loop`).
//! - Calls fail with a [`CallError`] value instead of exiting the caller.
//! - A call made inside a process blocks only that process.
//! - `terminate` runs on stop results, panics, `stop`, and the parent's
//!   exit while trapping exits — never on a kill.
//! - A server that stops with an abnormal reason is reported once
//!   (`gen_server_terminating`: pid, name, type, reason, state): a `log`
//!   record, or a line on stderr when no logger is set
//!   ([`rotp_runtime::Report`]).
//! - `docs/guide.md` shows each Elixir GenServer pattern beside its rotp
//!   form.
//!
//! Rule numbers in these docs ("rule 65", "R1") refer to the table of OTP
//! rules rotp follows: [`docs/rules.md`](https://github.com/rotp-rs/rotp/blob/main/docs/rules.md),
//! also the `rotp::rules` page of the facade crate's documentation.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod agent;
mod behaviour;
mod client;
mod context;
mod enter;
mod error;
mod name;
mod reply_fn;
mod reply_to;
mod report;
mod results;
mod server;
mod start;
mod sys;
mod task;

pub use agent::Agent;
pub use behaviour::{GenServer, Info};
pub use client::{RequestId, ServerRef, DEFAULT_CALL_TIMEOUT};
pub use context::Ctx;
pub use enter::{enter_loop, spawn_enter, EnterLoop, EnterOptions};
pub use error::{CallError, CastError, EnterError, StartError, StopError};
pub use name::{ServerName, ViaError, ViaKey};
pub use reply_to::{reply, ReplyTo};
pub use results::{
    noreply, stop, Action, Deadline, EventTimeout, Handled, Init, InitResult, Next, Stop, Then,
};
/// Fills in the message types a `GenServer` impl does not declare, from
/// its callbacks' signatures; see [`GenServer`].
pub use rotp_macros::gen_server;
/// The policy of a bounded mailbox ([`StartOptions::mailbox_limit`]),
/// re-exported so that a server's options need only this crate.
pub use rotp_runtime::Overflow;
pub use start::{start, start_link, start_monitor, StartOptions};
pub use sys::{Statistics, Status};
pub use task::{
    OnStreamTimeout, OnYieldTimeout, PendingTask, StreamOptions, Task, TaskChild, TaskError,
    TaskShutdown, TaskStream, YieldManyOptions, DEFAULT_TASK_TIMEOUT,
};
