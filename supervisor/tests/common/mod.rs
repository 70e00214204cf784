//! Shared helpers of the supervisor's integration tests.
//!
//! - [`each_runtime`] / [`each_virtual_runtime`] run a test body against
//!   runtimes of 1, 2 and 8 workers and check a clean shutdown afterwards.
//! - A [`Worker`] is a raw child process that reports its starts (and, when
//!   trapping, the shutdown signals it gets) as [`Event`]s to a probe, and
//!   obeys [`Cmd`]s: exit, panic, or run a closure.
//! - A [`StartControl`] makes a child's start function fail or ignore on
//!   demand and counts its calls.
//! - A [`Parent`] is a process that runs closures, to start a supervisor
//!   *from a process* (and to act as its parent).

#![allow(dead_code, unreachable_pub)]

use std::sync::atomic::{AtomicU8, AtomicUsize, Ordering::SeqCst};
use std::sync::{mpsc, Arc};
use std::time::Duration;

use rotp_runtime::testing::{wait_until, Probe, Received};
use rotp_runtime::{
    assert_receive, Addr, Builder, Context, ExitReason, Handle, Pid, Process, Runtime,
};
use rotp_supervisor::{ChildSpec, ChildStartError, ChildStatus, DynamicChildSpec, Supervisor};

/// The worker counts every test runs at.
pub const WORKER_COUNTS: [usize; 3] = [1, 2, 8];

/// How long to wait for something that must happen.
pub const TIMEOUT: Duration = Duration::from_secs(5);

/// How long a test runtime gets to shut down. Generous for trees of a few
/// processes; kept short because a spare-thread race in the runtime
/// sometimes makes `Runtime::shutdown` run out its whole timeout after
/// every process has exited.
pub const SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(2);

/// How long to watch for something that must not happen.
pub const QUIET: Duration = Duration::from_millis(50);

/// Runs `test` on a real-clock runtime of each size in [`WORKER_COUNTS`].
pub fn each_runtime(test: impl Fn(&Runtime)) {
    for workers in WORKER_COUNTS {
        with_runtime(Runtime::builder().workers(workers), &test);
    }
}

/// Runs `test` on a virtual-clock runtime of each size.
pub fn each_virtual_runtime(test: impl Fn(&Runtime)) {
    for workers in WORKER_COUNTS {
        with_runtime(Runtime::builder().workers(workers).virtual_clock(), &test);
    }
}

/// Runs `test` on one runtime, then shuts it down and checks that every
/// process exited.
pub fn with_runtime(builder: Builder, test: impl FnOnce(&Runtime)) {
    let rt = builder.build().expect("the runtime starts");
    eprintln!("--- runtime with {} worker(s)", rt.workers());
    test(&rt);
    if let Err(e) = rt.shutdown(SHUTDOWN_TIMEOUT) {
        panic!("{} worker(s): shutdown failed: {e}", rt.workers());
    }
}

/// What a [`Worker`] reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// Child `id` started as `pid`.
    Started(String, Pid),
    /// Child `id` (trapping) got an exit signal from its supervisor.
    Stopping(String, ExitReason),
}

/// A closure run inside a worker.
pub type Action = Box<dyn FnOnce(&mut Context<'_, Cmd>) + Send>;

/// What a [`Worker`] can be told to do.
pub enum Cmd {
    /// Exit with this reason.
    Exit(ExitReason),
    /// Panic.
    Panic,
    /// Run a closure as the worker.
    Run(Action),
}

/// What a trapping [`Worker`] does with its supervisor's shutdown signal.
#[derive(Debug, Clone)]
pub enum OnShutdown {
    /// Exit with the signal's reason.
    Exit,
    /// Exit with another reason (a child racing its shutdown).
    ExitWith(ExitReason),
    /// Keep running (until killed).
    Ignore,
}

/// A raw child process for tests.
pub struct Worker {
    id: String,
    events: Addr<Event>,
    /// `None`: does not trap exits.
    on_shutdown: Option<OnShutdown>,
    /// Incarnations of this child alive at once (incremented in init,
    /// decremented when the state is dropped at exit).
    alive: Option<Arc<Incarnations>>,
}

/// Counts the live incarnations of a child and the most seen at once.
#[derive(Debug, Default)]
pub struct Incarnations {
    now: AtomicUsize,
    max: AtomicUsize,
}

impl Incarnations {
    /// How many are alive now.
    pub fn now(&self) -> usize {
        self.now.load(SeqCst)
    }

    /// The most that were alive at once.
    pub fn max(&self) -> usize {
        self.max.load(SeqCst)
    }
}

impl Process for Worker {
    type Message = Cmd;

    fn init(&mut self, ctx: &mut Context<'_, Cmd>) {
        if self.on_shutdown.is_some() {
            ctx.trap_exit(true);
        }
        if let Some(a) = &self.alive {
            let n = a.now.fetch_add(1, SeqCst) + 1;
            a.max.fetch_max(n, SeqCst);
        }
        self.events.send(Event::Started(self.id.clone(), ctx.pid()));
    }

    fn handle(&mut self, cmd: Cmd, ctx: &mut Context<'_, Cmd>) {
        match cmd {
            Cmd::Exit(reason) => ctx.exit(reason),
            Cmd::Panic => panic!("worker {} told to panic", self.id),
            Cmd::Run(f) => f(ctx),
        }
    }

    fn handle_exit(&mut self, from: Pid, reason: ExitReason, ctx: &mut Context<'_, Cmd>) {
        if from != ctx.parent() {
            return;
        }
        self.events
            .send(Event::Stopping(self.id.clone(), reason.clone()));
        match &self.on_shutdown {
            Some(OnShutdown::Exit) | None => ctx.exit(reason),
            Some(OnShutdown::ExitWith(r)) => ctx.exit(r.clone()),
            Some(OnShutdown::Ignore) => {}
        }
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        if let Some(a) = &self.alive {
            a.now.fetch_sub(1, SeqCst);
        }
    }
}

/// A non-trapping worker child reporting to `probe`.
pub fn worker(id: &str, probe: &Probe<Event>) -> ChildSpec {
    let (id, events) = (id.to_owned(), probe.addr().clone());
    ChildSpec::process(id.clone(), move || Worker {
        id: id.clone(),
        events: events.clone(),
        on_shutdown: None,
        alive: None,
    })
}

/// A non-trapping worker child without an id, for a DynamicSupervisor; it
/// reports its starts to `probe` as `label`.
pub fn dynamic_worker(label: &str, probe: &Probe<Event>) -> DynamicChildSpec {
    let (id, events) = (label.to_owned(), probe.addr().clone());
    DynamicChildSpec::process(move || Worker {
        id: id.clone(),
        events: events.clone(),
        on_shutdown: None,
        alive: None,
    })
}

/// A trapping worker child reporting to `probe`.
pub fn trapping_worker(id: &str, probe: &Probe<Event>, on_shutdown: OnShutdown) -> ChildSpec {
    let (id, events) = (id.to_owned(), probe.addr().clone());
    ChildSpec::process(id.clone(), move || Worker {
        id: id.clone(),
        events: events.clone(),
        on_shutdown: Some(on_shutdown.clone()),
        alive: None,
    })
}

/// A worker child that counts its live incarnations.
pub fn counted_worker(id: &str, probe: &Probe<Event>, alive: &Arc<Incarnations>) -> ChildSpec {
    let (id, events, alive) = (id.to_owned(), probe.addr().clone(), alive.clone());
    ChildSpec::process(id.clone(), move || Worker {
        id: id.clone(),
        events: events.clone(),
        on_shutdown: None,
        alive: Some(alive.clone()),
    })
}

/// Decides what a controlled start function does.
#[derive(Debug, Clone, Default)]
pub struct StartControl {
    calls: Arc<AtomicUsize>,
    mode: Arc<AtomicU8>,
}

const START: u8 = 0;
const FAIL: u8 = 1;
const IGNORE: u8 = 2;

impl StartControl {
    pub fn new() -> Self {
        StartControl::default()
    }

    /// Start normally from now on.
    pub fn start(&self) {
        self.mode.store(START, SeqCst);
    }

    /// Fail from now on.
    pub fn fail(&self) {
        self.mode.store(FAIL, SeqCst);
    }

    /// Ignore from now on.
    pub fn ignore(&self) {
        self.mode.store(IGNORE, SeqCst);
    }

    /// How often the start function ran.
    pub fn calls(&self) -> usize {
        self.calls.load(SeqCst)
    }
}

/// A worker child whose start function obeys `ctl`; a failed start
/// reports `start failed`.
pub fn controlled(id: &str, probe: &Probe<Event>, ctl: &StartControl) -> ChildSpec {
    let (id, events, ctl) = (id.to_owned(), probe.addr().clone(), ctl.clone());
    ChildSpec::worker(id.clone(), move || {
        ctl.calls.fetch_add(1, SeqCst);
        match ctl.mode.load(SeqCst) {
            FAIL => Err(ChildStartError::Failed(ExitReason::custom("start failed"))),
            IGNORE => Ok(None),
            _ => {
                let w = Worker {
                    id: id.clone(),
                    events: events.clone(),
                    on_shutdown: None,
                    alive: None,
                };
                rotp_supervisor::start_link_process(w)
            }
        }
    })
}

/// Waits for child `id` to report its start; returns its pid.
#[track_caller]
pub fn started(probe: &Probe<Event>, id: &str) -> Pid {
    match assert_receive!(probe, Received::Message(Event::Started(i, _)) if i == id) {
        Received::Message(Event::Started(_, pid)) => pid,
        _ => unreachable!(),
    }
}

/// The ids of the next `n` starts, in order.
#[track_caller]
pub fn next_starts(probe: &Probe<Event>, n: usize) -> Vec<String> {
    (0..n)
        .map(
            |_| match assert_receive!(probe, Received::Message(Event::Started(..))) {
                Received::Message(Event::Started(id, _)) => id,
                _ => unreachable!(),
            },
        )
        .collect()
}

/// The ids of the next `n` shutdown signals seen by trapping workers.
#[track_caller]
pub fn next_stops(probe: &Probe<Event>, n: usize) -> Vec<String> {
    (0..n)
        .map(
            |_| match assert_receive!(probe, Received::Message(Event::Stopping(..))) {
                Received::Message(Event::Stopping(id, _)) => id,
                _ => unreachable!(),
            },
        )
        .collect()
}

/// Asserts that no child starts within [`QUIET`].
#[track_caller]
pub fn refute_start(probe: &Probe<Event>) {
    probe.refute_receive(QUIET, |r| {
        matches!(r, Received::Message(Event::Started(..)))
    });
}

/// The status of child `id`.
#[track_caller]
pub fn status(sup: &Supervisor, id: &str) -> Option<ChildStatus> {
    sup.which_children()
        .expect("the supervisor answers")
        .into_iter()
        .find(|c| c.id == id)
        .map(|c| c.status)
}

/// The pid of running child `id`.
#[track_caller]
pub fn pid_of(sup: &Supervisor, id: &str) -> Pid {
    match status(sup, id) {
        Some(ChildStatus::Running(pid)) => pid,
        other => panic!("child {id} is not running: {other:?}"),
    }
}

/// Sends `cmd` to worker `pid`.
#[track_caller]
pub fn tell(h: &Handle, pid: Pid, cmd: Cmd) {
    h.addr_of::<Cmd>(pid).expect("a live worker").send(cmd);
}

/// Makes worker `pid` exit with `reason` and waits until it is gone.
#[track_caller]
pub fn exit_child(h: &Handle, pid: Pid, reason: ExitReason) {
    let p = h.process_ref(pid).expect("a live worker");
    tell(h, pid, Cmd::Exit(reason));
    assert!(
        p.await_exit(Some(TIMEOUT)).is_some(),
        "worker {pid} did not exit"
    );
}

/// Makes worker `pid` crash (abnormal exit) and waits until it is gone.
#[track_caller]
pub fn crash(h: &Handle, pid: Pid) {
    exit_child(h, pid, ExitReason::custom("crash"));
}

/// Monitors `pid` from a fresh probe; the probe receives its `Down`.
pub fn watch(h: &Handle, pid: Pid) -> Probe<()> {
    let probe = Probe::spawn(h);
    probe.monitor(pid);
    probe
}

/// Waits for the `Down` of the process `probe` watches; returns its reason.
#[track_caller]
pub fn down_reason(probe: &Probe<()>) -> ExitReason {
    match assert_receive!(probe, Received::Down(_)) {
        Received::Down(d) => d.reason,
        _ => unreachable!(),
    }
}

/// Waits until `f` holds.
#[track_caller]
pub fn eventually(what: &str, f: impl FnMut() -> bool) {
    assert!(wait_until(TIMEOUT, f), "not within {TIMEOUT:?}: {what}");
}

/// A unit of work run by a [`Parent`].
pub struct Job(JobFn);

type JobFn = Box<dyn FnOnce(&mut Context<'_, Job>) + Send>;

/// A process that runs the closures it is sent: a parent for supervisors
/// started from inside a process.
pub struct Parent;

impl Process for Parent {
    type Message = Job;

    fn handle(&mut self, job: Job, ctx: &mut Context<'_, Job>) {
        (job.0)(ctx)
    }
}

/// Runs `f` inside `parent` and returns its result.
#[track_caller]
pub fn run_in<R: Send + 'static>(
    parent: &Addr<Job>,
    f: impl FnOnce(&mut Context<'_, Job>) -> R + Send + 'static,
) -> R {
    let (tx, rx) = mpsc::channel();
    parent.send(Job(Box::new(move |ctx| {
        let _ = tx.send(f(ctx));
    })));
    rx.recv_timeout(TIMEOUT)
        .expect("the parent process answers")
}

/// A small seeded PRNG (splitmix64), so chaos runs are reproducible.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `0..n`.
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }

    /// True with probability `percent` / 100.
    pub fn chance(&mut self, percent: u64) -> bool {
        self.next_u64() % 100 < percent
    }
}
