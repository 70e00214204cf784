//! Configuring a runtime.

use std::time::Duration;

use crate::error::BuildError;
use crate::runtime::Runtime;

/// Settings of a runtime; see [`Runtime::builder`].
#[derive(Debug, Clone)]
pub(crate) struct Config {
    pub(crate) workers: usize,
    pub(crate) reductions: u32,
    pub(crate) thread_name: String,
    pub(crate) stack_size: usize,
    pub(crate) max_spare_threads: usize,
    pub(crate) watchdog: Option<Duration>,
    pub(crate) virtual_clock: bool,
    pub(crate) auto_advance: bool,
    pub(crate) idle_wait: Duration,
}

/// The default number of reductions (handled messages) in one slice; see
/// `docs/scheduling.md` for the measurement behind it.
pub const DEFAULT_REDUCTIONS: u32 = 128;

/// The default time one handler may run before the watchdog compensates.
pub const DEFAULT_WATCHDOG_THRESHOLD: Duration = Duration::from_millis(20);

/// The default time an idle worker stays awake looking for work before it
/// sleeps; see [`Builder::idle_wait`].
pub const DEFAULT_IDLE_WAIT: Duration = Duration::from_micros(150);

/// Builds a [`Runtime`].
///
/// ```
/// use std::time::Duration;
/// let rt = rotp_runtime::Runtime::builder()
///     .workers(2)
///     .reductions(200)
///     .thread_name("app")
///     .watchdog_threshold(Some(Duration::from_millis(50)))
///     .build()
///     .unwrap();
/// assert_eq!(rt.workers(), 2);
/// ```
#[derive(Debug, Clone)]
pub struct Builder {
    config: Config,
}

impl Default for Builder {
    fn default() -> Self {
        Builder::new()
    }
}

impl Builder {
    /// The defaults: one worker per available core, 128 reductions per slice,
    /// 2 MiB stacks, up to 512 spare threads, a 20 ms watchdog, real clock.
    pub fn new() -> Self {
        Builder {
            config: Config {
                workers: std::thread::available_parallelism().map_or(1, |n| n.get()),
                reductions: DEFAULT_REDUCTIONS,
                thread_name: "rotp".to_owned(),
                stack_size: 2 * 1024 * 1024,
                max_spare_threads: 512,
                watchdog: Some(DEFAULT_WATCHDOG_THRESHOLD),
                virtual_clock: false,
                auto_advance: false,
                idle_wait: DEFAULT_IDLE_WAIT,
            },
        }
    }

    /// Number of worker threads (at least 1).
    pub fn workers(mut self, n: usize) -> Self {
        self.config.workers = n;
        self
    }

    /// Reductions per slice: how many messages a process handles before it
    /// yields to the others (at least 1).
    pub fn reductions(mut self, n: u32) -> Self {
        self.config.reductions = n;
        self
    }

    /// Prefix of the runtime's thread names.
    pub fn thread_name(mut self, name: impl Into<String>) -> Self {
        self.config.thread_name = name.into();
        self
    }

    /// Stack size of worker and spare threads, in bytes (at least 64 KiB).
    pub fn stack_size(mut self, bytes: usize) -> Self {
        self.config.stack_size = bytes;
        self
    }

    /// Upper bound on spare threads that cover for blocked workers.
    pub fn max_spare_threads(mut self, n: usize) -> Self {
        self.config.max_spare_threads = n;
        self
    }

    /// How long one handler may run before the watchdog logs a
    /// `long_schedule` warning and lets a spare take over the worker's
    /// queue; `None` disables the watchdog.
    ///
    /// What holds once the watchdog has declared a worker stuck: every
    /// process queued on that worker runs elsewhere within about half the
    /// threshold — its deque, and the process its handler woke last (the
    /// worker's LIFO slot, which no other worker takes from otherwise).
    /// Only the stuck handler's own process waits for it: a handler cannot
    /// be interrupted. Wrap known slow work in
    /// [`blocking`](crate::blocking) instead, which hands the queue over at
    /// once.
    pub fn watchdog_threshold(mut self, threshold: Option<Duration>) -> Self {
        self.config.watchdog = threshold;
        self
    }

    /// How long a worker out of work stays awake looking for more — giving
    /// its CPU away between looks (`yield_now`), so that it never holds up
    /// a thread that has work — before it sleeps until woken. Default
    /// [`DEFAULT_IDLE_WAIT`] (150 µs).
    ///
    /// Waking a sleeping thread costs far more than a look: 25-30 µs on the
    /// virtual machine of `docs/benchmarks.md`, where staying awake made a
    /// call from an Erlang node to a rotp server take a quarter less time
    /// and supervisor restarts 40% faster. The price is CPU time while
    /// the runtime is nearly idle: work arriving every 100 µs keeps the
    /// workers from ever sleeping, as BEAM's busy-waiting schedulers do.
    /// `Duration::ZERO` makes a worker sleep after one look, as the workers
    /// of a [`virtual_clock`](Self::virtual_clock) runtime always do: its
    /// time moves once every worker sleeps.
    pub fn idle_wait(mut self, wait: Duration) -> Self {
        self.config.idle_wait = wait;
        self
    }

    /// Uses a virtual clock: time moves only through
    /// [`Handle::advance`](crate::Handle::advance) (and auto-advance, if
    /// enabled). For tests.
    pub fn virtual_clock(mut self) -> Self {
        self.config.virtual_clock = true;
        self
    }

    /// With the virtual clock: when every worker is idle and no blocking call
    /// is in flight, jump to the next timer's deadline and fire it.
    pub fn auto_advance(mut self, on: bool) -> Self {
        self.config.auto_advance = on;
        self
    }

    /// Starts the runtime's threads.
    pub fn build(self) -> Result<Runtime, BuildError> {
        let c = &self.config;
        if c.workers == 0 {
            return Err(BuildError::InvalidSetting {
                setting: "workers",
                reason: "must be at least 1",
            });
        }
        if c.reductions == 0 {
            return Err(BuildError::InvalidSetting {
                setting: "reductions",
                reason: "must be at least 1",
            });
        }
        if c.stack_size < 64 * 1024 {
            return Err(BuildError::InvalidSetting {
                setting: "stack_size",
                reason: "must be at least 64 KiB",
            });
        }
        if c.watchdog.is_some_and(|t| t.is_zero()) {
            return Err(BuildError::InvalidSetting {
                setting: "watchdog_threshold",
                reason: "must be positive (use None to disable)",
            });
        }
        if c.auto_advance && !c.virtual_clock {
            return Err(BuildError::InvalidSetting {
                setting: "auto_advance",
                reason: "needs the virtual clock",
            });
        }
        Runtime::start(self.config)
    }
}
