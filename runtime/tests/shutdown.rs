//! `Runtime::shutdown`: roots (processes spawned from outside any process)
//! get a `shutdown` exit signal from `Pid::ROOT` first, last spawned first,
//! each awaited; then everything left is killed. Processes stuck in a
//! handler are reported and never waited for beyond the timeout (R1).

mod common;

use std::sync::mpsc::{self, Sender};
use std::time::{Duration, Instant};

use common::*;
use rotp_runtime::testing::{wait_until, Probe};
use rotp_runtime::{Addr, Context, ExitReason, Pid, Process, Runtime, SpawnOptions};

/// What a [`Recorder`] saw on a trapped exit: itself, the sender, the
/// reason, and whether the process it keeps an eye on was alive then.
type Record = (Pid, Pid, ExitReason, bool);

/// Records each trapped exit it receives, and exits with the reason of an
/// exit signal from `Pid::ROOT` (a well-behaved root).
struct Recorder {
    seen: Sender<Record>,
    eye_on: Option<Pid>,
}

impl Process for Recorder {
    type Message = ();

    fn handle(&mut self, (): (), _ctx: &mut Context<'_, ()>) {}

    fn handle_exit(&mut self, from: Pid, reason: ExitReason, ctx: &mut Context<'_, ()>) {
        let alive = self.eye_on.is_some_and(|p| ctx.handle().is_alive(p));
        let _ = self.seen.send((ctx.pid(), from, reason.clone(), alive));
        if from == Pid::ROOT {
            ctx.exit(reason);
        }
    }
}

/// Runs one shutdown scenario per worker count; the test shuts the runtime
/// down itself.
fn each_fresh_runtime(test: impl Fn(Runtime)) {
    for workers in WORKER_COUNTS {
        eprintln!("--- runtime with {workers} worker(s)");
        test(Runtime::builder().workers(workers).build().unwrap());
    }
}

/// One side of a ping-pong pair.
enum Ping {
    Peer(Addr<Ping>),
    Ball(u64),
}

fn player() -> impl FnMut(Ping, &mut Context<'_, Ping>) + Send + 'static {
    let mut peer = None;
    move |msg, _ctx| match msg {
        Ping::Peer(p) => peer = Some(p),
        Ping::Ball(n) => {
            if let Some(p) = &peer {
                p.send(Ping::Ball(n + 1));
            }
        }
    }
}

fn start_pair(a: &Addr<Ping>, b: &Addr<Ping>) {
    a.send(Ping::Peer(b.clone()));
    b.send(Ping::Peer(a.clone()));
    a.send(Ping::Ball(0));
}

/// Shutdown returns, cleanly and well within its timeout, while processes
/// keep themselves permanently runnable (they never go idle): self-senders
/// (one per worker) and ping-pong pairs, among the roots and among
/// processes spawned by processes.
#[test]
fn shutdown_with_busy_processes_returns() {
    each_fresh_runtime(|rt| {
        let self_sender = |n: u64, ctx: &mut Context<'_, u64>| ctx.addr().send(n + 1);
        for _ in 0..rt.workers() {
            rt.spawn_fn(self_sender).send(0);
        }
        for _ in 0..2 {
            start_pair(&rt.spawn_fn(player()), &rt.spawn_fn(player()));
        }
        let workers = rt.workers();
        cast(&puppet(&rt), move |ctx| {
            for _ in 0..2 {
                start_pair(&ctx.spawn_fn(player()), &ctx.spawn_fn(player()));
            }
            for _ in 0..workers {
                ctx.spawn_fn(self_sender).send(0);
            }
        });
        let slices = || rt.stats().workers.iter().map(|w| w.slices).sum::<u64>();
        let start = slices();
        assert!(
            wait_until(TIMEOUT, || slices() > start + 1_000),
            "they are busy"
        );
        let started = Instant::now();
        assert_eq!(rt.shutdown(TIMEOUT * 2), Ok(()));
        assert!(started.elapsed() < TIMEOUT, "took {:?}", started.elapsed());
        assert_eq!(rt.process_count(), 0);
    });
}

/// Roots get an exit signal `shutdown` from `Pid::ROOT` first — a trapping
/// root sees it as an `EXIT`, a non-trapping one exits `shutdown` — one at
/// a time, last spawned first. Processes spawned by processes are not sent
/// `shutdown`: they are killed once every root is gone (each root sees the
/// non-root still alive when its own signal comes).
#[test]
fn shutdown_signals_roots_from_root_last_spawned_first() {
    each_fresh_runtime(|rt| {
        let (tx, rx) = mpsc::channel::<Record>();
        // Root #1, non-trapping, spawns a trapping non-root.
        let parent = puppet(&rt);
        let seen = tx.clone();
        let non_root = call(&parent, move |ctx| {
            let recorder = Recorder { seen, eye_on: None };
            let opts = SpawnOptions::new().trap_exit(true);
            ctx.spawn_opts(recorder, &opts).0.pid()
        });
        assert_eq!(rt.process_info(non_root).unwrap().parent, parent.pid());
        // Roots #2-#4 trap exits.
        let roots: Vec<_> = (0..3)
            .map(|_| {
                rt.spawn_trapping(Recorder {
                    seen: tx.clone(),
                    eye_on: Some(non_root),
                })
            })
            .collect();
        assert_eq!(rt.process_info(roots[0].pid()).unwrap().parent, Pid::ROOT);
        let parent_ref = rt.process_ref(parent.pid()).unwrap();
        let non_root_ref = rt.process_ref(non_root).unwrap();

        assert_eq!(rt.shutdown(TIMEOUT), Ok(()));
        drop(tx);
        let records: Vec<Record> = rx.try_iter().collect();
        let expected: Vec<Record> = roots
            .iter()
            .rev()
            .map(|r| (r.pid(), Pid::ROOT, ExitReason::Shutdown, true))
            .collect();
        assert_eq!(records, expected, "roots, last first, before any kill");
        assert_eq!(parent_ref.exit_reason(), Some(ExitReason::Shutdown));
        assert_eq!(non_root_ref.exit_reason(), Some(ExitReason::Killed));
    });
}

/// R1: a process stuck in a handler cannot be stopped: shutdown reports it
/// in `ShutdownError` and still returns within (about) its timeout.
#[test]
fn shutdown_reports_a_stuck_process_and_returns_in_time() {
    each_fresh_runtime(|rt| {
        let gate = Gate::new();
        let _open = gate.opener();
        let stuck = puppet(&rt);
        hold_spinning(&stuck, &gate);
        // Roots spawned later are stopped first, and do stop.
        let idle: Vec<_> = (0..3).map(|_| puppet(&rt)).collect();
        let timeout = Duration::from_millis(300);
        let started = Instant::now();
        let err = rt.shutdown(timeout).unwrap_err();
        let took = started.elapsed();
        assert_eq!(err.stuck, vec![stuck.pid()]);
        assert!(took >= timeout, "it waited for the stuck process: {took:?}");
        assert!(took < timeout + Duration::from_secs(1), "took {took:?}");
        for p in &idle {
            assert!(rt.process_info(p.pid()).is_none());
        }
        assert!(err.to_string().contains(&stuck.pid().to_string()));
    });
}

/// A root that traps exits and ignores `shutdown` holds the root phase up
/// to the deadline; the processes killed after it are idle and exit at
/// once, so none of them is "stuck in a handler" and shutdown succeeds.
#[test]
fn shutdown_does_not_report_idle_processes_as_stuck() {
    each_fresh_runtime(|rt| {
        let _deaf: Probe<()> = Probe::spawn_trapping(&rt); // ignores `shutdown`
        let parent = puppet(&rt);
        let child = call(&parent, |ctx| ctx.spawn(Puppet { observer: None }).pid());
        let timeout = Duration::from_millis(200);
        let started = Instant::now();
        let result = rt.shutdown(timeout);
        assert!(started.elapsed() < timeout + Duration::from_secs(1));
        assert_eq!(result, Ok(()), "child {child} was idle, not stuck");
    });
}
