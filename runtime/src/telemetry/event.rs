//! The names of the events rotp emits, with what each carries.
//!
//! Every built-in event starts with `"rotp"`. Durations are
//! [`Duration`](std::time::Duration)s; pids are [`Pid`](crate::Pid)s;
//! `type` is the Rust type a process runs (for a gen_server, the server's
//! type), `behaviour` what kind of process it is (`"process"`,
//! `"gen_server"`, `"supervisor"`, ...). `docs/observability.md` has the
//! same table.
//!
//! | event | measurements | metadata |
//! |---|---|---|
//! | [`PROCESS_SPAWN`] | — | `pid`, `parent`, `behaviour`, `type` |
//! | [`PROCESS_EXIT`] | `reductions`, `handled` | `pid`, `reason`, `behaviour`, `type`, `name` (if it had one) |
//! | [`GEN_SERVER_CALL_START`] | `system_time` | `server`, `module`, `request` (`Any`) |
//! | [`GEN_SERVER_CALL_STOP`] | `duration` | `server`, `module` |
//! | [`GEN_SERVER_CALL_EXCEPTION`] | `duration` | `server`, `module`, `kind`, `reason` |
//! | [`GEN_SERVER_CAST`] | `duration` | `server`, `module` |
//! | [`GEN_SERVER_INFO`] | `duration` | `server`, `module` |
//! | [`SUPERVISOR_CHILD_STARTED`] | — | `supervisor`, `id`, `pid` |
//! | [`SUPERVISOR_CHILD_RESTARTED`] | `restarts` (this child's) | `supervisor`, `id`, `pid`, `old_pid` (dynamic children) |
//! | [`SUPERVISOR_CHILD_TERMINATED`] | — | `supervisor`, `id`, `pid`, `reason`, `shutdown` |
//! | [`SUPERVISOR_CHILD_START_FAILED`] | — | `supervisor`, `id`, `reason` |
//! | [`SUPERVISOR_MAX_INTENSITY`] | `max_restarts`, `max_seconds` | `supervisor`, `id` |
//! | [`MAILBOX_HIGH_WATER_CROSSED`] | `length` | `pid`, `high_water` |
//! | [`MAILBOX_HIGH_WATER_CLEARED`] | `length` | `pid`, `high_water` |
//! | [`SCHEDULER_LONG_SCHEDULE`] | `duration` | `pid`, `worker` |
//! | [`SCHEDULER_UTILISATION`] | `utilisation`, `busy`, `interval`, `handled` | `worker` |
//! | [`HANDLER_FAILURE`] | — | `handler_id`, `event_name`, `reason` |
//!
//! `id` is a static child's id (absent for dynamic children).

use super::EventName;

/// A process was spawned (emitted before it first runs).
pub const PROCESS_SPAWN: EventName = &["rotp", "process", "spawn"];
/// A process exited: its name is released, links and monitors told.
pub const PROCESS_EXIT: EventName = &["rotp", "process", "exit"];

/// A gen_server starts handling a call.
pub const GEN_SERVER_CALL_START: EventName = &["rotp", "gen_server", "call", "start"];
/// A gen_server's `handle_call` returned.
pub const GEN_SERVER_CALL_STOP: EventName = &["rotp", "gen_server", "call", "stop"];
/// A gen_server's `handle_call` panicked.
pub const GEN_SERVER_CALL_EXCEPTION: EventName = &["rotp", "gen_server", "call", "exception"];
/// A gen_server handled a cast.
pub const GEN_SERVER_CAST: EventName = &["rotp", "gen_server", "cast"];
/// A gen_server handled an info (a plain message, an EXIT, a DOWN, a
/// timeout).
pub const GEN_SERVER_INFO: EventName = &["rotp", "gen_server", "info"];

/// A supervisor started a child (initial start or `start_child`).
pub const SUPERVISOR_CHILD_STARTED: EventName = &["rotp", "supervisor", "child", "started"];
/// A supervisor restarted a child automatically.
pub const SUPERVISOR_CHILD_RESTARTED: EventName = &["rotp", "supervisor", "child", "restarted"];
/// A child exited: on its own (`shutdown: false`) or stopped by its
/// supervisor (`shutdown: true`).
pub const SUPERVISOR_CHILD_TERMINATED: EventName = &["rotp", "supervisor", "child", "terminated"];
/// A child's start function failed.
pub const SUPERVISOR_CHILD_START_FAILED: EventName =
    &["rotp", "supervisor", "child", "start_failed"];
/// A supervisor reached its restart intensity and gives up.
pub const SUPERVISOR_MAX_INTENSITY: EventName = &["rotp", "supervisor", "max_intensity"];

/// A mailbox grew to its high-water mark.
pub const MAILBOX_HIGH_WATER_CROSSED: EventName = &["rotp", "mailbox", "high_water", "crossed"];
/// A mailbox that crossed its high-water mark drained below half of it.
pub const MAILBOX_HIGH_WATER_CLEARED: EventName = &["rotp", "mailbox", "high_water", "cleared"];

/// The watchdog saw one handler run past its threshold.
pub const SCHEDULER_LONG_SCHEDULE: EventName = &["rotp", "scheduler", "long_schedule"];
/// One worker's utilisation over the last sampling interval (about a
/// second; sampled by the watchdog thread, so absent when the watchdog is
/// disabled).
pub const SCHEDULER_UTILISATION: EventName = &["rotp", "scheduler", "utilisation"];

/// A handler panicked and was detached (Elixir's
/// `[:telemetry, :handler, :failure]`).
pub const HANDLER_FAILURE: EventName = &["telemetry", "handler", "failure"];
