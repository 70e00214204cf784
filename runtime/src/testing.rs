//! A test kit for code built on rotp: probes, `assert_receive`, bounded
//! waits and virtual-clock runtimes.
//!
//! Tests of concurrent code must never wait with a bare sleep: a sleep is
//! either too short (flaky) or too long (slow). Wait on an *event* instead:
//!
//! - a [`Probe`] is a process that records everything it receives —
//!   messages, trapped `EXIT`s, `DOWN`s — and lets the test wait for one that
//!   matches, like ExUnit's `assert_receive`;
//! - [`wait_until`] polls a condition with a deadline;
//! - [`virtual_runtime`] gives a runtime whose clock moves only when the test
//!   says so, so a test of an hour-long timeout runs in microseconds;
//! - [`run_child_test`] runs one test in a child process, for what is
//!   global to a program (the `log` logger) and what it prints on stderr;
//! - [`LogCapture`] keeps the `log` records of the test binary, to check
//!   what was reported.
//!
//! ```
//! use std::time::Duration;
//! use rotp_runtime::testing::{virtual_runtime, Probe, Received};
//! use rotp_runtime::{assert_receive, ExitReason};
//!
//! let rt = virtual_runtime(1);
//! let probe: Probe<&'static str> = Probe::spawn(&rt);
//! rt.send_after(probe.addr(), Duration::from_secs(3600), "an hour later");
//!
//! probe.refute_receive(Duration::from_millis(10), |_| true);
//! rt.advance(Duration::from_secs(3600));
//! assert_receive!(probe, Received::Message("an hour later"));
//!
//! // Probes can link and monitor, and trap exits.
//! let worker = rt.spawn_fn(|_: (), ctx| ctx.exit(ExitReason::custom("boom")));
//! let mref = probe.monitor(worker.pid());
//! worker.send(());
//! assert_receive!(probe, Received::Down(d) if d.mref == mref && d.reason == ExitReason::custom("boom"));
//! ```

use std::collections::VecDeque;
use std::fmt;
use std::sync::atomic::Ordering::AcqRel;
use std::sync::Arc;
use std::time::{Duration, Instant};

use parking_lot::{Condvar, Mutex};

use crate::addr::Addr;
use crate::error::NoProc;
use crate::exit::ExitReason;
use crate::monitor::{Down, MonitorRef};
use crate::pid::Pid;
use crate::process::{Context, Process};
use crate::runtime::{Handle, Runtime};

pub use crate::log_capture::{Captured, LogCapture};

/// The default time [`assert_receive!`](crate::assert_receive) waits.
pub const DEFAULT_RECEIVE_TIMEOUT: Duration = Duration::from_secs(5);

/// Something a [`Probe`] received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Received<M> {
    /// A user message.
    Message(M),
    /// A trapped exit signal: `{'EXIT', from, reason}`.
    Exit(Pid, ExitReason),
    /// A monitor notification.
    Down(Down),
}

struct Inbox<M> {
    queue: Mutex<VecDeque<Received<M>>>,
    arrived: Condvar,
}

struct ProbeProcess<M> {
    inbox: Arc<Inbox<M>>,
}

impl<M: Send + 'static> ProbeProcess<M> {
    fn record(&self, r: Received<M>) {
        self.inbox.queue.lock().push_back(r);
        self.inbox.arrived.notify_all();
    }
}

impl<M: Send + 'static> Process for ProbeProcess<M> {
    type Message = M;

    fn handle(&mut self, msg: M, _ctx: &mut Context<'_, M>) {
        self.record(Received::Message(msg));
    }

    fn handle_exit(&mut self, from: Pid, reason: ExitReason, ctx: &mut Context<'_, M>) {
        // The runtime's shutdown: a trapping probe records it, then goes.
        let shutdown = from.is_root() && reason == ExitReason::Shutdown;
        self.record(Received::Exit(from, reason));
        if shutdown {
            ctx.exit(ExitReason::Shutdown);
        }
    }

    fn handle_down(&mut self, down: Down, _ctx: &mut Context<'_, M>) {
        self.record(Received::Down(down));
    }
}

/// A process that records what it receives, for tests to wait on.
pub struct Probe<M> {
    addr: Addr<M>,
    inbox: Arc<Inbox<M>>,
    handle: Handle,
}

impl<M: Send + fmt::Debug + 'static> Probe<M> {
    /// Spawns a probe (not trapping exits).
    pub fn spawn(handle: &Handle) -> Self {
        Probe::start(handle, false)
    }

    /// Spawns a probe that traps exits, so link signals arrive as
    /// [`Received::Exit`]. It still exits on the runtime's shutdown signal
    /// (`shutdown` from [`Pid::ROOT`]), after recording it.
    pub fn spawn_trapping(handle: &Handle) -> Self {
        Probe::start(handle, true)
    }

    fn start(handle: &Handle, trap: bool) -> Self {
        let inbox = Arc::new(Inbox {
            queue: Mutex::new(VecDeque::new()),
            arrived: Condvar::new(),
        });
        let process = ProbeProcess {
            inbox: inbox.clone(),
        };
        let addr = if trap {
            handle.spawn_trapping(process)
        } else {
            handle.spawn(process)
        };
        Probe {
            addr,
            inbox,
            handle: handle.clone(),
        }
    }

    /// The probe's address, to give to the code under test.
    pub fn addr(&self) -> &Addr<M> {
        &self.addr
    }

    /// The probe's pid.
    pub fn pid(&self) -> Pid {
        self.addr.pid()
    }

    /// Links the probe with `pid`, as the probe.
    pub fn link(&self, pid: Pid) -> Result<(), NoProc> {
        self.handle.link_pids(self.pid(), pid)
    }

    /// Monitors `pid`, as the probe.
    pub fn monitor(&self, pid: Pid) -> MonitorRef {
        let task = self
            .handle
            .shared()
            .table
            .get(self.pid())
            .expect("the probe is alive");
        crate::monitor::monitor(task.header(), pid)
    }

    /// Sets the probe's `trap_exit` flag; returns the previous value.
    pub fn trap_exit(&self, on: bool) -> bool {
        match self.handle.shared().table.get(self.pid()) {
            Some(task) => task.header().trap_exit.swap(on, AcqRel),
            None => false,
        }
    }

    /// Waits up to `timeout` for an entry matching `pred`, removes and
    /// returns it. Entries that do not match stay, in order.
    ///
    /// # Panics
    ///
    /// When nothing matches in time; the message lists what did arrive.
    #[track_caller]
    pub fn assert_receive(
        &self,
        timeout: Duration,
        mut pred: impl FnMut(&Received<M>) -> bool,
    ) -> Received<M> {
        match self.receive(timeout, &mut pred) {
            Some(r) => r,
            None => panic!(
                "assert_receive: nothing matching arrived within {timeout:?}; the probe {} holds: {:?}",
                self.pid(),
                self.inbox.queue.lock()
            ),
        }
    }

    /// Waits up to `timeout` for an entry matching `pred`.
    pub fn receive(
        &self,
        timeout: Duration,
        mut pred: impl FnMut(&Received<M>) -> bool,
    ) -> Option<Received<M>> {
        let deadline = Instant::now() + timeout;
        let mut queue = self.inbox.queue.lock();
        loop {
            if let Some(i) = queue.iter().position(&mut pred) {
                return queue.remove(i);
            }
            if self
                .inbox
                .arrived
                .wait_until(&mut queue, deadline)
                .timed_out()
            {
                let i = queue.iter().position(&mut pred)?;
                return queue.remove(i);
            }
        }
    }

    /// The next user message, waiting up to `timeout`.
    ///
    /// # Panics
    ///
    /// When no user message arrives in time.
    #[track_caller]
    pub fn assert_message(&self, timeout: Duration) -> M {
        match self.assert_receive(timeout, |r| matches!(r, Received::Message(_))) {
            Received::Message(m) => m,
            _ => unreachable!("the predicate only accepts messages"),
        }
    }

    /// Asserts that nothing matching `pred` arrives within `within`.
    ///
    /// # Panics
    ///
    /// When something matching arrives.
    #[track_caller]
    pub fn refute_receive(&self, within: Duration, mut pred: impl FnMut(&Received<M>) -> bool) {
        if let Some(r) = self.receive(within, &mut pred) {
            panic!("refute_receive: unexpectedly received {r:?}");
        }
    }

    /// Everything received and not yet taken, oldest first.
    pub fn drain(&self) -> Vec<Received<M>> {
        self.inbox.queue.lock().drain(..).collect()
    }

    /// How many entries wait in the probe's record.
    pub fn len(&self) -> usize {
        self.inbox.queue.lock().len()
    }

    /// Whether the record is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl<M: Send + 'static> fmt::Debug for Probe<M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Probe({})", self.addr.pid())
    }
}

/// A one-way barrier: handlers (or threads) wait on it until the test opens
/// it. Use it to hold a process inside a handler at a known point, then let
/// it go. Cloning shares the gate.
///
/// ```
/// use rotp_runtime::testing::Gate;
/// let gate = Gate::new();
/// let g = gate.clone();
/// let t = std::thread::spawn(move || g.wait());
/// gate.open();
/// assert!(t.join().unwrap());
/// ```
#[derive(Clone, Default)]
pub struct Gate(Arc<GateInner>);

#[derive(Default)]
struct GateInner {
    open: std::sync::atomic::AtomicBool,
    lock: Mutex<()>,
    opened: Condvar,
}

impl Gate {
    /// A closed gate.
    pub fn new() -> Self {
        Gate::default()
    }

    /// Opens the gate for every waiter, now and later.
    pub fn open(&self) {
        let _lock = self.0.lock.lock();
        self.0.open.store(true, std::sync::atomic::Ordering::SeqCst);
        self.0.opened.notify_all();
    }

    /// Whether the gate is open.
    pub fn is_open(&self) -> bool {
        self.0.open.load(std::sync::atomic::Ordering::SeqCst)
    }

    /// A guard that opens the gate when dropped — also when the test fails,
    /// so no held handler outlives it.
    #[must_use]
    pub fn opener(&self) -> GateOpener {
        GateOpener(self.clone())
    }

    /// Blocks the calling thread until the gate opens, giving up after
    /// [`DEFAULT_RECEIVE_TIMEOUT`]; returns whether it opened. Inside a
    /// handler this holds the worker like any blocking code; see
    /// [`wait_blocking`](Self::wait_blocking).
    pub fn wait(&self) -> bool {
        self.wait_timeout(DEFAULT_RECEIVE_TIMEOUT)
    }

    /// Like [`wait`](Self::wait), inside [`blocking`](crate::blocking), so
    /// that a handler waiting here does not hold up the worker's other
    /// processes.
    pub fn wait_blocking(&self) -> bool {
        crate::blocking(|| self.wait())
    }

    /// Blocks until the gate opens or `timeout` passes; returns whether it
    /// opened.
    pub fn wait_timeout(&self, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        let mut lock = self.0.lock.lock();
        while !self.is_open() {
            if self.0.opened.wait_until(&mut lock, deadline).timed_out() {
                return self.is_open();
            }
        }
        true
    }

    /// Keeps the calling thread busy until the gate opens, like a long
    /// computation the runtime knows nothing about.
    pub fn spin(&self) {
        while !self.is_open() {
            std::hint::spin_loop();
            std::thread::yield_now();
        }
    }
}

impl fmt::Debug for Gate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Gate(open: {})", self.is_open())
    }
}

/// Opens its [`Gate`] when dropped.
#[derive(Debug)]
pub struct GateOpener(Gate);

impl Drop for GateOpener {
    fn drop(&mut self) {
        self.0.open();
    }
}

/// Waits until `pred` holds, polling with a short back-off, for at most
/// `timeout`. Returns whether it held.
///
/// ```
/// use std::time::Duration;
/// use rotp_runtime::testing::wait_until;
/// let rt = rotp_runtime::Runtime::new().unwrap();
/// let p = rt.spawn_fn(|_: (), ctx| ctx.exit(rotp_runtime::ExitReason::Normal));
/// p.send(());
/// assert!(wait_until(Duration::from_secs(5), || !p.is_alive()));
/// ```
pub fn wait_until(timeout: Duration, mut pred: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + timeout;
    let mut pause = Duration::from_micros(10);
    loop {
        if pred() {
            return true;
        }
        if Instant::now() >= deadline {
            return pred();
        }
        std::thread::sleep(pause);
        pause = (pause * 2).min(Duration::from_millis(5));
    }
}

/// The environment variable that tells a test binary it runs as the child
/// of [`run_child_test`].
pub const CHILD_TEST_ENV: &str = "ROTP_CHILD_TEST";

/// Whether this test binary runs as the child of [`run_child_test`]: the
/// test then plays its scenario instead of starting the child.
pub fn is_child_test() -> bool {
    std::env::var_os(CHILD_TEST_ENV).is_some()
}

/// Runs the test `name` of the current test binary in a child process and
/// returns what it wrote on stdout and stderr.
///
/// For what a test cannot check inside its own process: what a program
/// prints on stderr (the runtime's reports when no logger is set), and
/// anything global, such as the `log` logger, which a process sets once.
/// The child runs with [`CHILD_TEST_ENV`] set, the harness's output
/// capture off and `RUST_LOG` unset; the test tells the two roles apart
/// with [`is_child_test`]:
///
/// ```no_run
/// use rotp_runtime::testing::{is_child_test, run_child_test};
///
/// #[test]
/// fn a_crash_reaches_stderr() {
///     if is_child_test() {
///         // ... the scenario: crash a process ...
///         return;
///     }
///     let (_stdout, stderr) = run_child_test("a_crash_reaches_stderr");
///     assert!(stderr.contains("crash report"));
/// }
/// ```
///
/// # Panics
///
/// If the child cannot start, fails, or runs for more than a minute (it
/// is then killed). The harness's own lines (`running 1 test`, ...) are on
/// stdout.
pub fn run_child_test(name: &str) -> (String, String) {
    use std::io::Read;
    use std::process::{Command, Stdio};
    let exe = std::env::current_exe().expect("the path of the test binary");
    let mut child = Command::new(exe)
        .args(["--exact", name, "--nocapture", "--test-threads=1"])
        .env(CHILD_TEST_ENV, "1")
        .env_remove("RUST_LOG")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the child test starts");
    // Read both pipes on threads, so that a chatty child never blocks.
    let read = |mut pipe: Box<dyn Read + Send>| {
        std::thread::spawn(move || {
            let mut text = String::new();
            let _ = pipe.read_to_string(&mut text);
            text
        })
    };
    let out = read(Box::new(child.stdout.take().expect("piped stdout")));
    let err = read(Box::new(child.stderr.take().expect("piped stderr")));
    let mut status = None;
    let exited = wait_until(Duration::from_secs(60), || {
        status = child.try_wait().expect("the child can be waited for");
        status.is_some()
    });
    if !exited {
        let _ = child.kill();
        let _ = child.wait();
        panic!("the child running {name} did not finish within 60 s");
    }
    let status = status.expect("the child exited");
    let (out, err) = (
        out.join().unwrap_or_default(),
        err.join().unwrap_or_default(),
    );
    assert!(
        status.success(),
        "the child running {name} failed ({status}):\n--- stdout\n{out}\n--- stderr\n{err}"
    );
    (out, err)
}

/// Like [`wait_until`], but panics with `what` when the time runs out.
///
/// # Panics
///
/// When `pred` does not hold within `timeout`.
#[track_caller]
pub fn assert_eventually(timeout: Duration, what: &str, pred: impl FnMut() -> bool) {
    assert!(wait_until(timeout, pred), "not within {timeout:?}: {what}");
}

/// A runtime with `workers` workers and a virtual clock that moves only on
/// [`Handle::advance`].
///
/// # Panics
///
/// If the runtime cannot start (no threads available).
pub fn virtual_runtime(workers: usize) -> Runtime {
    Runtime::builder()
        .workers(workers)
        .virtual_clock()
        .build()
        .expect("starting a test runtime")
}

/// Waits for a [`Probe`] to receive something matching a pattern, like
/// ExUnit's `assert_receive`. Returns the matching [`Received`] entry.
///
/// `assert_receive!(probe, pattern)` waits up to
/// [`DEFAULT_RECEIVE_TIMEOUT`]; `assert_receive!(probe, pattern, timeout)`
/// chooses. The pattern may carry an `if` guard.
#[macro_export]
macro_rules! assert_receive {
    ($probe:expr, $pat:pat $(if $guard:expr)?, $timeout:expr) => {
        $probe.assert_receive($timeout, |r| matches!(r, $pat $(if $guard)?))
    };
    ($probe:expr, $pat:pat $(if $guard:expr)?) => {
        $crate::assert_receive!($probe, $pat $(if $guard)?, $crate::testing::DEFAULT_RECEIVE_TIMEOUT)
    };
}
