//! The rotp process runtime: Erlang-style processes for synchronous Rust.
//!
//! A [`Runtime`] runs lightweight processes on a work-stealing pool of
//! worker threads. A process owns a mailbox and a state; the runtime calls
//! its handler once per message, on whichever worker picks it up, and a
//! handler always runs to completion. Processes link, monitor, trap exits,
//! register names and set timers with Erlang's semantics (see
//! `docs/semantics.md` for the few places where a Rust runtime must differ).
//!
//! ```
//! use rotp_runtime::{ExitReason, Runtime};
//! use std::sync::mpsc;
//!
//! let rt = Runtime::new().unwrap();
//! let (tx, rx) = mpsc::channel();
//!
//! // A process from a closure: doubles what it receives, stops on zero.
//! let doubler = rt.spawn_fn(move |n: u64, ctx| {
//!     if n == 0 {
//!         ctx.exit(ExitReason::Normal);
//!     } else {
//!         tx.send(n * 2).unwrap();
//!     }
//! });
//! doubler.send(21);
//! assert_eq!(rx.recv().unwrap(), 42);
//! ```
//!
//! # Concepts
//!
//! ```text
//!  plain threads ──send──┐         ┌──────── worker 0 ────────┐
//!                        ▼         │ LIFO slot │ local deque  │◄─┐
//!                    injector ────►│  run one slice of a      │  │ steal
//!                                  │  process: ≤ N reductions │  │
//!                                  └──────────────────────────┘  │
//!                                  ┌──────── worker 1 ────────┐──┘
//!                                  └──────────────────────────┘
//! ```
//!
//! - **Process**: a [`Process`] value (or a closure) plus a mailbox, a
//!   [`Pid`] and relations. Send with a typed [`Addr`].
//! - **Slice**: a worker handles up to `reductions` mailbox entries of one
//!   process, then moves on, so a flooded process cannot starve the others.
//! - **Exit signals**: links propagate exits; [`Context::trap_exit`] turns
//!   them into messages; [`Handle::kill`] is untrappable. A panic in a
//!   handler is an abnormal exit ([`ExitReason::Panic`]).
//! - **Blocking**: wrap blocking code in [`blocking`]; a watchdog covers for
//!   handlers that run long without saying so.
//! - **Time**: timers and every timeout read the runtime clock, which can be
//!   virtual in tests ([`Builder::virtual_clock`], [`Handle::advance`]).
//! - **Reports**: crashes, supervisor events and overload warnings are
//!   [`Report`]s: structured `log` records when a logger is set, one line
//!   on stderr when none is, so a crash is never silent
//!   ([`set_report_route`] to choose).
//!
//! Rule numbers in these docs ("rule 65", "R1") refer to the table of OTP
//! rules rotp follows: [`docs/rules.md`](https://github.com/rotp-rs/rotp/blob/main/docs/rules.md),
//! also the `rotp::rules` page of the facade crate's documentation.

#![cfg_attr(not(loom), warn(missing_docs))]

mod addr;
mod backoff;
mod builder;
mod current;
mod error;
mod exit;
mod exit_hook;
mod extensions;
mod info;
mod link;
mod lock_word;
mod log_capture;
mod loom;
mod mailbox;
mod monitor;
mod monitor_fire;
mod panic;
mod pid;
mod pid_parts;
mod process;
mod process_ref;
mod registry;
mod reply;
mod report;
mod ring;
mod runtime;
mod scheduler;
mod system;
mod table;
pub mod telemetry;
pub mod testing;
mod timer;

pub use addr::{Addr, Delivery};
pub use builder::{Builder, DEFAULT_IDLE_WAIT, DEFAULT_REDUCTIONS, DEFAULT_WATCHDOG_THRESHOLD};
pub use current::self_pid;
pub use error::{
    AddrError, BuildError, NamedSendError, NoProc, RegisterError, ShutdownError, SpawnError,
    TrySendError,
};
pub use exit::{exit, ExitReason, PanicReason};
pub use exit_hook::ExitHookRef;
pub use info::{ProcessInfo, ProcessKind, RuntimeStats, Status, WorkerStats};
pub use mailbox::Overflow;
pub use monitor::{Down, MonitorRef};
pub use panic::catch_panic;
pub use pid::{ParsePidError, Pid};
pub use process::{Context, FnProcess, Process};
pub use process_ref::ProcessRef;
pub use registry::{Name, ViaRegistry};
pub use reply::{reply_channel, ReplySender, ReplyWait, WaitError};
pub use report::{report_route, set_report_route, Report, ReportKind, ReportRoute};
pub use runtime::{Handle, Runtime, SpawnOptions, ADVANCE_SETTLE_LIMIT};
pub use scheduler::blocking::blocking;
pub use scheduler::worker::worker_index;
pub use system::{
    PendingSystem, SupervisedChild, SystemError, SystemReply, SystemRequest, SystemStatus,
};
pub use timer::{TimerFired, TimerRef};
