//! Blocking and long handlers (R12 and the watchdog): a thread held by
//! one process does not hold up the others.
//!
//! Each scenario occupies every worker — one held handler per worker — and
//! then asks a process that was spawned earlier and sits idle to answer a
//! message sent from the test thread. The 1-worker runs are the sharp case
//! the brief describes; the control tests show that without the mechanism
//! under test the idle process indeed cannot answer.

mod common;

use std::sync::mpsc;
use std::time::Duration;

use common::*;
use rotp_runtime::testing::wait_until;
use rotp_runtime::testing::LogCapture;
use rotp_runtime::{Builder, Runtime};

/// The tests here hold workers on purpose (spinning, blocking); run them one
/// at a time so that one test's spinning cannot pass for another's long
/// handler.
static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn serial() -> std::sync::MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(|e| e.into_inner())
}

/// Spawns the idle responder: answers each message on `tx`.
fn responder(rt: &Runtime) -> (rotp_runtime::Addr<u32>, mpsc::Receiver<u32>) {
    let (tx, rx) = mpsc::channel();
    let addr = rt.spawn_fn(move |n: u32, _ctx| tx.send(n).unwrap());
    addr.send(0);
    assert_eq!(rx.recv_timeout(TIMEOUT), Ok(0), "the responder starts");
    (addr, rx)
}

/// R12: a process blocked inside `blocking(...)` hands its worker's queue
/// to a spare thread, so an idle process still answers — with one worker,
/// and with every worker blocked. The watchdog is off: `blocking` alone
/// must do it.
#[test]
fn r12_blocked_process_does_not_stop_others_from_answering() {
    let _serial = serial();
    each_runtime_with(
        |b| b.watchdog_threshold(None),
        |rt| {
            let (addr, rx) = responder(rt);
            let gate = Gate::new();
            let _open = gate.opener();
            occupy_workers(rt, rt.workers(), &gate, Hold::Block);
            addr.send(1);
            assert_eq!(rx.recv_timeout(TIMEOUT), Ok(1), "answered while blocked");
            assert!(rt.stats().spare_threads >= 1);
            gate.open();
            addr.send(2);
            assert_eq!(rx.recv_timeout(TIMEOUT), Ok(2));
        },
    );
}

/// Control for the test above: the same wait *without* `blocking` (and no
/// watchdog) does hold the only worker, so the responder cannot answer
/// until the wait ends.
#[test]
fn control_a_wait_outside_blocking_holds_the_worker() {
    let _serial = serial();
    with_runtime(Builder::new().workers(1).watchdog_threshold(None), |rt| {
        let (addr, rx) = responder(rt);
        let gate = Gate::new();
        let _open = gate.opener();
        let p = puppet(rt);
        let (tx, started) = mpsc::channel();
        let g = gate.clone();
        cast(&p, move |_| {
            tx.send(()).unwrap();
            g.wait();
        });
        started.recv_timeout(TIMEOUT).unwrap();
        addr.send(1);
        assert!(
            rx.recv_timeout(QUIET * 2).is_err(),
            "the only worker is held"
        );
        gate.open();
        assert_eq!(rx.recv_timeout(TIMEOUT), Ok(1));
    });
}

/// The watchdog: with a threshold of a few milliseconds, processes stuck in
/// long handlers (spinning until the test sets a flag, unknown to the
/// runtime) on every worker do not stop an idle process, spawned earlier,
/// from answering a message sent from the test thread. The watchdog logs
/// `long_schedule` naming a stuck process and counts it in
/// `RuntimeStats::long_schedules`.
#[test]
fn watchdog_covers_for_a_worker_stuck_in_a_long_handler() {
    let _serial = serial();
    let logs = LogCapture::install(log::LevelFilter::Warn);
    each_runtime_with(
        |b| b.watchdog_threshold(Some(Duration::from_millis(5))),
        |rt| {
            let (addr, rx) = responder(rt);
            let before = rt.stats().long_schedules;
            let gate = Gate::new();
            let _open = gate.opener();
            let stuck = occupy_workers(rt, rt.workers(), &gate, Hold::Spin);
            addr.send(1);
            assert_eq!(
                rx.recv_timeout(TIMEOUT),
                Ok(1),
                "answered while every worker is stuck"
            );
            assert!(rt.stats().long_schedules > before);
            let named = |line: &str| {
                line.contains("long_schedule")
                    && stuck.iter().any(|p| line.contains(&p.pid().to_string()))
            };
            assert!(
                wait_until(TIMEOUT, || logs.any(named)),
                "a long_schedule warning names a stuck process"
            );
            gate.open();
            addr.send(2);
            assert_eq!(rx.recv_timeout(TIMEOUT), Ok(2));
        },
    );
}

/// Control for the watchdog test: with the watchdog off, a handler spinning
/// on the only worker does hold up the idle process, and nothing is
/// counted.
#[test]
fn control_without_watchdog_a_spinning_handler_holds_the_worker() {
    let _serial = serial();
    with_runtime(Builder::new().workers(1).watchdog_threshold(None), |rt| {
        let (addr, rx) = responder(rt);
        let gate = Gate::new();
        let _open = gate.opener();
        occupy_workers(rt, 1, &gate, Hold::Spin);
        addr.send(1);
        assert!(
            rx.recv_timeout(QUIET * 2).is_err(),
            "the only worker is held"
        );
        assert_eq!(rt.stats().long_schedules, 0);
        gate.open();
        assert_eq!(rx.recv_timeout(TIMEOUT), Ok(1));
    });
}

/// The watchdog watches *handlers*: a slice of many short handlers (each
/// 5 ms, far below the threshold, 600 ms in all) is not a long schedule. Counting it as one spawns spare threads for busy but healthy
/// workers (seen on 2 cores with 8 workers: 75 warnings and 14 spares per
/// second with only trivial handlers).
#[test]
fn watchdog_does_not_flag_a_slice_of_short_handlers() {
    let _serial = serial();
    with_runtime(
        // A threshold well above one handler (5 ms) but well below the
        // slice (120 handlers, 600 ms): the slice trips a slice-based
        // watchdog, while even a heavily loaded machine does not stall one
        // handler's thread for 400 ms.
        Builder::new()
            .workers(1)
            .reductions(200)
            .watchdog_threshold(Some(Duration::from_millis(400))),
        |rt| {
            let (tx, rx) = mpsc::channel();
            let worker = rt.spawn_fn(move |n: u32, _ctx| {
                let start = std::time::Instant::now();
                while start.elapsed() < Duration::from_millis(5) {
                    std::hint::spin_loop();
                }
                if n == 119 {
                    tx.send(()).unwrap();
                }
            });
            // Queued from one handler on the only worker: `worker` runs after
            // it returns and finds all 120 in its mailbox, one slice's worth.
            let sender = puppet(rt);
            cast(&sender, move |_| (0..120).for_each(|n| worker.send(n)));
            rx.recv_timeout(TIMEOUT).unwrap();
            assert_eq!(rt.stats().long_schedules, 0);
            assert_eq!(rt.stats().spare_threads, 0);
        },
    );
}

/// The watchdog's cover takes the LIFO slot too. The everyday case: a
/// handler sends to B — which wakes B into its worker's LIFO slot, to run
/// next on that worker — and then makes a slow call without `blocking`.
/// Once the watchdog declares the worker stuck, B runs elsewhere and
/// answers a probe while the handler still spins; before, B waited in the
/// slot for the whole handler, at every worker count (no other worker can
/// take from a slot).
#[test]
fn watchdog_frees_the_process_a_stuck_handler_woke_last() {
    let _serial = serial();
    each_runtime(|rt| {
        let gate = Gate::new();
        let _open = gate.opener();
        let b = puppet(rt);
        assert_answers(&b);
        // Idle, so that the next message wakes it (into the waker's slot).
        assert!(wait_until(TIMEOUT, || rt
            .process_info(b.pid())
            .is_some_and(|i| i.status == rotp_runtime::Status::Waiting)));
        let probe: rotp_runtime::testing::Probe<&'static str> =
            rotp_runtime::testing::Probe::spawn(rt);
        let a = puppet(rt);
        let (woke, woken) = mpsc::channel();
        let (g, b2) = (gate.clone(), b.clone());
        cast(&a, move |_| {
            b2.send(Job::new(|_| {})); // into this worker's LIFO slot
            woke.send(()).unwrap();
            g.spin(); // a long handler, as far as the runtime can tell
        });
        woken.recv_timeout(TIMEOUT).expect("the handler runs");
        let report = probe.addr().clone();
        cast(&b, move |_| report.send("b answers"));
        assert_eq!(probe.assert_message(TIMEOUT), "b answers");
        assert!(rt.stats().long_schedules >= 1, "the watchdog stepped in");
        assert!(!gate.is_open(), "the handler still spins");
    });
}

/// `blocking` outside any runtime thread simply runs the closure.
#[test]
fn blocking_outside_the_runtime_just_runs() {
    let _serial = serial();
    assert_eq!(rotp_runtime::blocking(|| 6 * 7), 42);
}
