//! Introspection: `process_info` and runtime statistics.

use std::time::Duration;

use crate::pid::Pid;
use crate::registry::Name;

/// What a process is doing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Status {
    /// A worker is running one of its handlers.
    Running,
    /// Queued, waiting for a worker; also a process whose handler runs
    /// off the workers' own slices (on a spare thread, or on the thread of
    /// a caller waiting for its answer).
    Runnable,
    /// Idle, waiting for a message.
    Waiting,
    /// Told to exit; the exit completes when its current handler returns.
    Exiting,
}

/// A snapshot of one process (`process_info/1`).
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ProcessInfo {
    /// The process.
    pub pid: Pid,
    /// Its registered name.
    pub name: Option<Name>,
    /// What it is doing.
    pub status: Status,
    /// Its parent ([`Pid::ROOT`] if spawned from outside).
    pub parent: Pid,
    /// Entries waiting in its mailbox: everything queued, including what the
    /// process has already taken from the queue in a batch and not yet
    /// handled. A behaviour that keeps entries aside in its own state (a
    /// suspended GenServer's backlog) holds them outside the mailbox.
    pub mailbox_len: usize,
    /// Bytes held by the mailbox's two buffers (allocated slots, used or
    /// not), not counting what the messages themselves own on the heap.
    /// After a burst the buffers stay as large as the burst until the
    /// process has drained them; then, at its next batch boundary, buffers
    /// over 256 KiB are released. The runner's half is as of its last
    /// batch boundary.
    pub mailbox_memory: usize,
    /// Reductions spent so far, as of the end of the process's last slice.
    pub reductions: u64,
    /// Mailbox entries handled so far, the one being handled included: an
    /// entry is counted before its handler runs, so whoever has seen a
    /// handler's reply or message sees its entry counted.
    pub handled: u64,
    /// Linked processes.
    pub links: Vec<Pid>,
    /// Processes this one monitors.
    pub monitors: Vec<Pid>,
    /// Processes monitoring this one.
    pub monitored_by: Vec<Pid>,
    /// Whether it traps exits.
    pub trap_exit: bool,
    /// How long its current handler has been running, when the watchdog has
    /// seen it running (resolution: half the watchdog threshold).
    pub current_handler_time: Option<Duration>,
    /// The Rust type it runs: its state's type, or for a behaviour the
    /// user's type it wraps (see [`Process::kind`](crate::Process::kind)).
    pub type_name: &'static str,
    /// What kind of process it is: `"process"`, `"gen_server"`,
    /// `"supervisor"`, ...
    pub behaviour: &'static str,
    /// The runtime's memory for it, in bytes: control block, mailbox
    /// buffers and relations; not what its state owns on the heap (an
    /// estimate, like `process_info(pid, memory)`).
    pub memory: usize,
}

/// How introspection names a kind of process; see
/// [`Process::kind`](crate::Process::kind).
///
/// ```
/// use rotp_runtime::ProcessKind;
/// let kind = ProcessKind::new("gen_server", "my_app::Stack");
/// assert_eq!(kind.behaviour, "gen_server");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct ProcessKind {
    /// The behaviour: `"process"`, `"gen_server"`, `"supervisor"`, ...
    pub behaviour: &'static str,
    /// The Rust type a user recognises.
    pub type_name: &'static str,
}

impl ProcessKind {
    /// A kind.
    pub const fn new(behaviour: &'static str, type_name: &'static str) -> Self {
        ProcessKind {
            behaviour,
            type_name,
        }
    }
}

/// Counters of one worker.
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct WorkerStats {
    /// Slices run. A slice that finds new mail just as it was about to go
    /// idle, and goes on, counts twice.
    pub slices: u64,
    /// Mailbox entries handled (one per handler run).
    pub handled: u64,
    /// Successful steals from other workers.
    pub steals: u64,
    /// Processes the balancer moved to this worker from a busier one's
    /// queue (`docs/scheduling.md`, "Balancing busy workers").
    pub balanced: u64,
    /// Times the worker parked for lack of work.
    pub parks: u64,
    /// Time spent not parked since the runtime started.
    pub busy: Duration,
}

/// Runtime-wide statistics.
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct RuntimeStats {
    /// One entry per worker.
    pub workers: Vec<WorkerStats>,
    /// Processes spawned since start.
    pub spawned: u64,
    /// Processes exited since start.
    pub exited: u64,
    /// Processes alive now.
    pub processes: usize,
    /// Mailbox entries handled, all workers together (messages, trapped
    /// exits, downs; not counting handlers run on spare threads or on the
    /// thread of a caller waiting for the answer).
    pub messages: u64,
    /// Watchdog `long_schedule` events.
    pub long_schedules: u64,
    /// Spare threads alive now.
    pub spare_threads: usize,
    /// Pool threads (workers and spares) asleep for lack of work now.
    pub sleeping: usize,
    /// Timers armed now.
    pub timers: usize,
}
