//! A live web page of a running rotp runtime, served by the runtime's
//! process itself: Erlang's observer, in a browser.
//!
//! ```no_run
//! use rotp_observer::{Observer, ObserverOptions};
//!
//! let rt = rotp_runtime::Runtime::new().unwrap();
//! let observer = Observer::start(&rt, ObserverOptions::new()).unwrap();
//! println!("{}", observer.url()); // http://127.0.0.1:PORT/
//! // ... the program runs; the page updates every second ...
//! ```
//!
//! The page shows:
//!
//! - the supervision trees: supervisors with their strategy and restart
//!   counts, their children with names, types and restart counts;
//! - the process table, sortable by mailbox length, reductions and memory,
//!   with each process's name, type, status and state summary (what its
//!   behaviour's `system` hook says: a gen_server's `format_status`);
//! - each worker's utilisation and message rate over the last minute, as
//!   live charts;
//! - the registered names;
//! - the last abnormal exits, with their reasons (gathered by a telemetry
//!   handler on `rotp.process.exit` while the observer runs, so process
//!   exits cost a handler call meanwhile; exits of every runtime in the
//!   program are listed);
//! - for a selected process: its links, monitors, mailbox, counters and
//!   `sys`-style status, and — only when enabled with
//!   [`ObserverOptions::allow_actions`] — buttons to kill, suspend and
//!   resume it.
//!
//! Behind the page is a JSON API (`/api/processes`, `/api/tree`,
//! `/api/schedulers`, `/api/names`, `/api/exits`, `/api/process/<pid>`), documented in
//! `docs/observability.md`.
//!
//! # Serving
//!
//! A small HTTP/1.1 server on std's `TcpListener`: one thread accepts, one
//! short-lived thread serves each connection (16 at once by default), one
//! request per connection, with a bounded request size and read and write
//! timeouts. It binds to the loopback address unless told otherwise, and
//! on loopback answers only requests that name a loopback host. The page
//! builds its DOM from data with text nodes only, so names, states and
//! exit reasons — user data — are never taken for markup, and its content
//! security policy allows no outside resources.
//!
//! The observer's threads are plain threads, not processes: watching the
//! runtime does not take a worker, and a status request to a busy process
//! times out instead of holding the page up.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod api;
mod exits;
mod http;
mod json;
mod observer;
mod page;
mod sampler;

pub use observer::{Observer, ObserverOptions};
