//! The rotp benchmark suite written for other Rust actor runtimes.
//!
//! Each binary (`bench-ractor`, `bench-kameo`, `bench-actix`, `bench-floor`)
//! takes the suite's arguments and prints the suite's one result line per
//! benchmark, with its own `impl=` tag:
//!
//! ```text
//! bench-<impl> <bench|all|--list> [--n N] [--workers W]
//! bench=<name> impl=<impl> n=<N> secs=<wall s> rate=<ops/s> extra=<k:v,...|->
//! ```
//!
//! The definitions are those of rotp's suite (`benches/suite/`): every message
//! counted is handled before the clock stops, the same default n, and a
//! worker count equal to the suite's `--workers` (default: the number of
//! CPUs). Progress goes to stderr; stdout carries only result lines.

mod cli;
mod line;
mod rss;

pub use cli::{run_main, Bench, Config};
pub use line::Line;
pub use rss::rss_bytes;

/// Messages a producer or client handles per handler invocation before it
/// sends itself the rest, as rotp's suite does.
pub const BATCH: u64 = 1_000;

/// Processes in the `ring` benchmark.
pub const RING_SIZE: usize = 1_000;
