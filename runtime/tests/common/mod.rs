//! Shared helpers of the runtime's integration tests.
//!
//! - [`each_runtime`] and friends run a test body against runtimes of 1, 2
//!   and 8 workers, and check that each shuts down cleanly afterwards.
//! - A [`Puppet`] is a process that runs whatever closure it is sent, so a
//!   test can act *as* a process (link, monitor, trap exits, exit) with
//!   [`call`] / [`cast`], and see the exits and downs it receives as
//!   [`Event`]s on a probe.
//! - A [`Gate`] holds a handler inside its callback (spinning, or blocked in
//!   `rotp_runtime::blocking`) until the test opens it; its [`Opener`] opens
//!   it on drop so that a failing test never leaves a thread spinning.
//! - [`Rng`] is a small seeded PRNG (no dependencies).

#![allow(dead_code)]

use std::sync::mpsc;
use std::time::Duration;

use rotp_runtime::testing::Probe;
use rotp_runtime::{Addr, Builder, Context, Down, ExitReason, Handle, Pid, Process, Runtime};

/// The worker counts every scheduling or concurrency test runs at.
pub(crate) const WORKER_COUNTS: [usize; 3] = [1, 2, 8];

/// How long to wait for something that must happen.
pub(crate) const TIMEOUT: Duration = Duration::from_secs(5);

/// How long to watch for something that must not happen.
pub(crate) const QUIET: Duration = Duration::from_millis(50);

/// Runs `test` against a runtime of each size in [`WORKER_COUNTS`], then
/// shuts the runtime down and asserts that every process exited.
pub(crate) fn each_runtime(test: impl Fn(&Runtime)) {
    each_runtime_with(|b| b, test)
}

/// [`each_runtime`] with the virtual clock.
pub(crate) fn each_virtual_runtime(test: impl Fn(&Runtime)) {
    each_runtime_with(Builder::virtual_clock, test)
}

/// [`each_runtime`] with extra builder settings.
pub(crate) fn each_runtime_with(configure: impl Fn(Builder) -> Builder, test: impl Fn(&Runtime)) {
    for workers in WORKER_COUNTS {
        with_runtime(configure(Runtime::builder().workers(workers)), &test);
    }
}

/// Runs `test` against one runtime built from `builder`, then shuts it down.
pub(crate) fn with_runtime(builder: Builder, test: impl FnOnce(&Runtime)) {
    let rt = builder.build().expect("the runtime starts");
    // Captured by the test harness and shown if the test fails.
    eprintln!("--- runtime with {} worker(s)", rt.workers());
    test(&rt);
    // Kill what the test left running (probes trap exits and would sit out
    // the shutdown signal), check that everything really goes away, then
    // stop the threads.
    for pid in rt.processes() {
        rt.kill(pid);
    }
    assert!(
        rotp_runtime::testing::wait_until(TIMEOUT, || rt.process_count() == 0),
        "{} worker(s): processes left after kill: {:?}",
        rt.workers(),
        rt.processes()
    );
    if let Err(e) = rt.shutdown(TIMEOUT) {
        panic!("{} worker(s): shutdown failed: {e}", rt.workers());
    }
}

type JobFn = dyn FnOnce(&mut Context<'_, Job>) + Send;

/// A unit of work run inside a [`Puppet`], as that process.
pub(crate) struct Job(Box<JobFn>);

impl Job {
    pub(crate) fn new(f: impl FnOnce(&mut Context<'_, Job>) + Send + 'static) -> Self {
        Job(Box::new(f))
    }
}

impl std::fmt::Debug for Job {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Job")
    }
}

/// What a puppet saw: a trapped exit or a monitor notification.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Event {
    Exit {
        at: Pid,
        from: Pid,
        reason: ExitReason,
    },
    Down {
        at: Pid,
        down: Down,
    },
}

/// A process that runs the [`Job`]s it receives and reports its trapped
/// exits and downs to an observer.
pub(crate) struct Puppet {
    pub(crate) observer: Option<Addr<Event>>,
}

impl Puppet {
    pub(crate) fn observed_by(probe: &Probe<Event>) -> Self {
        Puppet {
            observer: Some(probe.addr().clone()),
        }
    }
}

impl Process for Puppet {
    type Message = Job;

    fn handle(&mut self, job: Job, ctx: &mut Context<'_, Job>) {
        (job.0)(ctx)
    }

    fn handle_exit(&mut self, from: Pid, reason: ExitReason, ctx: &mut Context<'_, Job>) {
        if let Some(o) = &self.observer {
            o.send(Event::Exit {
                at: ctx.pid(),
                from,
                reason,
            });
        }
    }

    fn handle_down(&mut self, down: Down, ctx: &mut Context<'_, Job>) {
        if let Some(o) = &self.observer {
            o.send(Event::Down {
                at: ctx.pid(),
                down,
            });
        }
    }
}

/// A puppet nobody observes.
pub(crate) fn puppet(h: &Handle) -> Addr<Job> {
    h.spawn(Puppet { observer: None })
}

/// A puppet that reports what it receives to `probe`.
pub(crate) fn observed_puppet(h: &Handle, probe: &Probe<Event>) -> Addr<Job> {
    h.spawn(Puppet::observed_by(probe))
}

/// A puppet that traps exits from the start and reports to `probe`.
pub(crate) fn trapping_puppet(h: &Handle, probe: &Probe<Event>) -> Addr<Job> {
    h.spawn_trapping(Puppet::observed_by(probe))
}

/// Runs `f` inside process `p` and returns its result.
///
/// # Panics
///
/// If the process does not answer within [`TIMEOUT`] (it is dead, or `f`
/// panicked).
#[track_caller]
pub(crate) fn call<R: Send + 'static>(
    p: &Addr<Job>,
    f: impl FnOnce(&mut Context<'_, Job>) -> R + Send + 'static,
) -> R {
    let (tx, rx) = mpsc::channel();
    p.send(Job::new(move |ctx| {
        let _ = tx.send(f(ctx));
    }));
    match rx.recv_timeout(TIMEOUT) {
        Ok(r) => r,
        Err(e) => panic!("process {} did not answer: {e}", p.pid()),
    }
}

/// Sends `f` to run inside process `p`, without waiting.
pub(crate) fn cast(p: &Addr<Job>, f: impl FnOnce(&mut Context<'_, Job>) + Send + 'static) {
    p.send(Job::new(f));
}

/// Whether `p` answers a trivial call: the process is alive and handles
/// messages.
#[track_caller]
pub(crate) fn assert_answers(p: &Addr<Job>) {
    let me = p.pid();
    assert_eq!(call(p, |ctx| ctx.pid()), me);
}

pub(crate) use rotp_runtime::testing::Gate;

/// Part of a process's state that blocks its drop until the gate opens.
/// A process drops its state after it has closed its relations and before
/// it notifies them, so while the drop blocks, the process's `EXIT`s and
/// `DOWN`s are "in flight".
pub(crate) struct HoldExitOnDrop(pub(crate) Gate);

impl Drop for HoldExitOnDrop {
    fn drop(&mut self) {
        rotp_runtime::blocking(|| self.0.wait_timeout(TIMEOUT));
    }
}

/// How a held handler waits for its gate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Hold {
    /// Busy, like a long computation: the runtime cannot tell.
    Spin,
    /// Blocked inside `rotp_runtime::blocking`.
    Block,
}

/// Makes `p` run a handler that signals it has started, waits for `gate`
/// (as `how` says), then runs `after`. Returns once the handler runs.
pub(crate) fn hold_then(
    p: &Addr<Job>,
    gate: &Gate,
    how: Hold,
    after: impl FnOnce(&mut Context<'_, Job>) + Send + 'static,
) {
    let (tx, rx) = mpsc::channel();
    let g = gate.clone();
    cast(p, move |ctx| {
        tx.send(()).unwrap();
        match how {
            Hold::Spin => g.spin(),
            Hold::Block => {
                g.wait_blocking();
            }
        }
        after(ctx);
    });
    rx.recv_timeout(TIMEOUT)
        .expect("the held handler starts running");
}

/// Makes `p` spin in a handler until `gate` opens; returns once it spins.
pub(crate) fn hold_spinning(p: &Addr<Job>, gate: &Gate) {
    hold_then(p, gate, Hold::Spin, |_| {});
}

/// Holds `n` handlers (one per worker when `n` is the worker count), each
/// waiting for `gate` as `how` says; returns once all of them run.
pub(crate) fn occupy_workers(rt: &Runtime, n: usize, gate: &Gate, how: Hold) -> Vec<Addr<Job>> {
    let held: Vec<_> = (0..n).map(|_| puppet(rt)).collect();
    let (tx, rx) = mpsc::channel();
    for p in &held {
        let (g, tx) = (gate.clone(), tx.clone());
        cast(p, move |_| {
            tx.send(()).unwrap();
            match how {
                Hold::Spin => g.spin(),
                Hold::Block => {
                    g.wait_blocking();
                }
            }
        });
    }
    for _ in 0..n {
        rx.recv_timeout(TIMEOUT).expect("every held handler starts");
    }
    held
}

/// A small, seeded PRNG (splitmix64).
#[derive(Debug, Clone)]
pub(crate) struct Rng(u64);

impl Rng {
    pub(crate) fn new(seed: u64) -> Self {
        Rng(seed)
    }

    pub(crate) fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `0..n`.
    pub(crate) fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }

    /// True with probability `percent` / 100.
    pub(crate) fn chance(&mut self, percent: u64) -> bool {
        self.next_u64() % 100 < percent
    }
}

/// Has a new process arm a timer of `delay` to itself, from inside (so the
/// worker going idle after it is the one an auto-advancing clock moves
/// on), and returns the channel the timer's message arrives on: wait on it
/// with the real clock, as a probe's wait would arm a timer of its own on a
/// virtual one, due first.
pub(crate) fn self_timer(h: &Handle, delay: Duration) -> mpsc::Receiver<&'static str> {
    let (tx, rx) = mpsc::channel();
    let p = h.spawn_fn(move |msg: &'static str, ctx| match msg {
        "arm" => {
            ctx.handle().send_after(&ctx.addr(), delay, "fired");
        }
        fired => {
            let _ = tx.send(fired);
        }
    });
    p.send("arm");
    rx
}
