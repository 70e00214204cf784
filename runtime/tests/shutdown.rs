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

// ---------------------------------------------------------------------------
// After shutdown: nothing hangs
// ---------------------------------------------------------------------------

/// Runs `f` on its own thread and fails the test if it does not finish in
/// [`TIMEOUT`]: a wait that hangs fails the test instead of hanging it.
#[track_caller]
fn bounded<R: Send + 'static>(what: &str, f: impl FnOnce() -> R + Send + 'static) -> R {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(f());
    });
    match rx.recv_timeout(TIMEOUT) {
        Ok(r) => r,
        Err(_) => panic!("{what} did not return within {TIMEOUT:?}"),
    }
}

/// A spawn on a stopped runtime makes no process that waits to run: the
/// `Addr` it returns is of a process already gone, with reason
/// `runtime_stopped`, and every way to wait for it sees that at once — its
/// exit reason, `await_exit` (also with no timeout), a reply wait on it.
/// `try_spawn` refuses with a typed error. A spawn inside a process during
/// the kill phase is dead on arrival too, and its link tells the spawner.
#[test]
fn spawn_after_shutdown_is_dead_on_arrival_and_every_wait_sees_it() {
    each_fresh_runtime(|rt| {
        assert!(!rt.is_stopping());
        rt.shutdown(TIMEOUT).expect("clean shutdown");
        assert!(rt.is_stopping());
        let stopped = ExitReason::runtime_stopped();
        let late = rt.spawn_fn(|(): (), _ctx| {});
        assert_eq!(late.exit_reason(), Some(stopped.clone()));
        assert!(!rt.is_alive(late.pid()));
        assert!(rt.process_info(late.pid()).is_none());
        late.send(()); // a send to it goes nowhere, as to any dead process
        let h = rt.handle().clone();
        let l = late.clone();
        assert_eq!(
            bounded("await_exit(None) of a dead-on-arrival process", move || h
                .await_exit(&l, None)),
            Some(stopped.clone())
        );
        let l = late.clone();
        let waited = bounded("a reply wait on it", move || {
            let (_reply, mut wait) = rotp_runtime::reply_channel::<()>();
            wait.wait(&l, Some(Duration::from_secs(3600)))
        });
        assert_eq!(
            waited,
            Err(rotp_runtime::WaitError::Exited(stopped.clone()))
        );
        let refused = rt.try_spawn(rotp_runtime::FnProcess::new(|(): (), _ctx| {}));
        assert_eq!(
            refused.unwrap_err(),
            rotp_runtime::SpawnError::RuntimeStopped
        );
        let refused = rt.try_spawn_opts(
            rotp_runtime::FnProcess::new(|(): (), _ctx| {}),
            &SpawnOptions::new().monitor(true),
        );
        assert!(refused.is_err());
    });
}

/// Inside a process, during the kill phase: a spawn_link made by a
/// trapping process that outlives the kill phase's start gets a dead
/// child, and the link reports the child's `runtime_stopped` exit.
#[test]
fn a_spawn_link_in_the_kill_phase_reports_runtime_stopped_over_the_link() {
    each_fresh_runtime(|rt| {
        let gate = Gate::new();
        let _open = gate.opener();
        let (tx, rx) = mpsc::channel();
        let parent = puppet(&rt);
        let g = gate.clone();
        // Held past the start of the kill phase, then spawns.
        hold_then(&parent, &g, Hold::Block, move |ctx| {
            ctx.trap_exit(true);
            let child = ctx.spawn_link(Puppet { observer: None });
            let _ = tx.send((child.pid(), child.exit_reason()));
        });
        let h = rt.handle().clone();
        let opener = std::thread::spawn(move || {
            assert!(wait_until(TIMEOUT, || h.is_stopping()));
            gate.open();
        });
        let _ = rt.shutdown(Duration::from_secs(2));
        opener.join().unwrap();
        let (_child, reason) = rx.recv_timeout(TIMEOUT).expect("the parent spawned");
        assert_eq!(reason, Some(ExitReason::runtime_stopped()));
    });
}

/// Waits with a timeout on a stopped runtime end at once, even on the
/// virtual clock, which nothing moves any more: a reply wait on a process
/// stuck in a handler ends with `RuntimeStopped`, `await_exit` of it with
/// `None`. (Before, both waited forever.)
#[test]
fn waits_on_a_stopped_virtual_clock_runtime_end_at_once() {
    for workers in WORKER_COUNTS {
        let rt = Runtime::builder()
            .workers(workers)
            .virtual_clock()
            .build()
            .unwrap();
        let gate = Gate::new();
        let _open = gate.opener();
        let stuck = puppet(&rt);
        hold_spinning(&stuck, &gate);
        let err = rt.shutdown(Duration::from_millis(200)).unwrap_err();
        assert_eq!(err.stuck, vec![stuck.pid()]);
        let h = rt.handle().clone();
        let s = stuck.clone();
        assert_eq!(
            bounded("await_exit(1 s) on a stopped virtual clock", move || h
                .await_exit(&s, Some(Duration::from_secs(1)))),
            None
        );
        let s = stuck.clone();
        let waited = bounded("a reply wait (1 s) on a stopped virtual clock", move || {
            let (reply, mut wait) = rotp_runtime::reply_channel::<()>();
            let keep = reply; // held: the wait cannot end by a dropped sender
            let r = wait.wait(&s, Some(Duration::from_secs(1)));
            drop(keep);
            r
        });
        assert_eq!(waited, Err(rotp_runtime::WaitError::RuntimeStopped));
        // Timers on a stopped runtime: arming, advancing and cancelling
        // return; nothing fires into a process that will not run.
        let h = rt.handle().clone();
        let s = stuck.clone();
        bounded("timers on a stopped virtual clock", move || {
            let t = h.send_after(&s, Duration::from_secs(1), Job::new(|_| {}));
            h.advance(Duration::from_secs(2));
            let _ = h.cancel_timer(t);
        });
        gate.open();
    }
}

/// A second `shutdown` reports what the first did (before, `Ok(())` after
/// an `Err`), and so does a third.
#[test]
fn a_second_shutdown_reports_the_same_outcome() {
    each_fresh_runtime(|rt| {
        let gate = Gate::new();
        let _open = gate.opener();
        let stuck = puppet(&rt);
        hold_spinning(&stuck, &gate);
        let first = rt.shutdown(Duration::from_millis(200));
        assert_eq!(first.as_ref().unwrap_err().stuck, vec![stuck.pid()]);
        assert_eq!(rt.shutdown(Duration::from_millis(200)), first);
        gate.open();
        assert_eq!(rt.shutdown(TIMEOUT), first);
    });
    let rt = Runtime::new().unwrap();
    assert_eq!(rt.shutdown(TIMEOUT), Ok(()));
    assert_eq!(rt.shutdown(TIMEOUT), Ok(()));
}

/// Dropping a runtime whose handler is stuck — a server spinning while a
/// client process waits on it in a long call — returns in bounded time
/// (its 5 s shutdown, then the stuck thread is detached). When the stuck
/// handler later goes on, everything it does is a no-op: no panic, no
/// hang — a reply to the gone caller, sends, a spawn (dead on arrival), a
/// timer, a name.
#[test]
fn drop_with_a_handler_stuck_in_a_long_call_is_bounded_and_later_work_is_a_no_op() {
    let runs: Vec<_> = WORKER_COUNTS
        .into_iter()
        .map(|workers| std::thread::spawn(move || drop_with_a_stuck_call(workers)))
        .collect();
    for run in runs {
        run.join().expect("no panic");
    }
}

type Request = (u32, rotp_runtime::ReplySender<u32>);

fn drop_with_a_stuck_call(workers: usize) {
    let rt = Runtime::builder().workers(workers).build().unwrap();
    let gate = Gate::new();
    let _open = gate.opener();
    let (started_tx, started) = mpsc::channel();
    let (done_tx, done) = mpsc::channel();
    let g = gate.clone();
    let server = rt.spawn_fn(move |(n, reply): Request, ctx: &mut Context<'_, Request>| {
        let _ = started_tx.send(());
        g.spin(); // stuck, as far as the runtime can tell
                  // Runs after the runtime is gone:
        let answered = reply.send(n + 1);
        let me = ctx.addr();
        let child = ctx.spawn_fn(|(): (), _ctx| {});
        child.send(());
        let tref = ctx.send_after_self(
            Duration::from_millis(1),
            (n, {
                let (r, _w) = rotp_runtime::reply_channel();
                r
            }),
        );
        let _ = ctx.cancel_timer(tref);
        let registered = ctx.register("late_name").is_ok();
        drop(me);
        let _ = done_tx.send((answered, child.exit_reason(), registered));
    });
    let s = server.clone();
    let (asked_tx, asked) = mpsc::channel();
    let client = rt.spawn_fn(move |(): (), _ctx| {
        let (reply, mut wait) = rotp_runtime::reply_channel();
        s.send((41, reply));
        let _ = asked_tx.send(());
        let _ = wait.wait(&s, Some(Duration::from_secs(3600)));
    });
    client.send(());
    asked.recv_timeout(TIMEOUT).expect("the client calls");
    started.recv_timeout(TIMEOUT).expect("the server is stuck");
    let began = Instant::now();
    drop(rt);
    let took = began.elapsed();
    assert!(
        took < Duration::from_secs(8),
        "{workers} worker(s): drop took {took:?}"
    );
    gate.open();
    // Whether the reply finds its caller depends on where the call ran
    // (with one worker the client ran the server's handler inline, and is
    // stuck with it); either way it is harmless.
    let (_answered, child, _registered) = done
        .recv_timeout(TIMEOUT)
        .expect("the detached handler finishes without panicking");
    assert_eq!(child, Some(ExitReason::runtime_stopped()));
    // The killed client exits once nothing holds it any more.
    assert!(wait_until(TIMEOUT, || client.exit_reason().is_some()));
    assert!(wait_until(TIMEOUT, || server.exit_reason().is_some()));
}
