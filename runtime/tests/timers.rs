//! Timers: rules 38-45 (`send_after`, destination lifetime, `cancel_timer`,
//! `read_timer`, `send_interval`), R11 and R15 (virtual clock).
//!
//! Everything but the drift test runs on the virtual clock: time moves only
//! on `Handle::advance`, so an hour-long timer is tested in microseconds.

mod common;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::*;
use rotp_runtime::assert_receive;
use rotp_runtime::testing::{wait_until, Probe, Received};

const MS: Duration = Duration::from_millis(1);
const SEC: Duration = Duration::from_secs(1);
const HOUR: Duration = Duration::from_secs(3600);

/// Rule 38: a `send_after` message is delivered no earlier than its delay,
/// and once the delay has passed.
#[test]
fn rule_38_send_after_fires_no_earlier_than_its_delay() {
    each_virtual_runtime(|rt| {
        let probe: Probe<&'static str> = Probe::spawn(rt);
        rt.send_after(probe.addr(), 100 * MS, "ding");
        rt.advance(99 * MS);
        probe.refute_receive(QUIET, |_| true);
        rt.advance(MS);
        assert_receive!(probe, Received::Message("ding"));
        assert_eq!(rt.stats().timers, 0);

        // Several timers fire in deadline order, whatever the arming order.
        for (delay, msg) in [(30, "c"), (10, "a"), (20, "b")] {
            rt.send_after(probe.addr(), delay * MS, msg);
        }
        rt.advance(HOUR);
        assert!(wait_until(TIMEOUT, || probe.len() == 3));
        assert_eq!(
            probe.drain(),
            vec![
                Received::Message("a"),
                Received::Message("b"),
                Received::Message("c")
            ]
        );
    });
}

/// Rule 38: a zero delay is not synchronous: nothing is in the mailbox when
/// `send_after` returns, and a message sent right after can arrive first.
#[test]
fn rule_38_zero_delay_is_not_synchronous() {
    each_virtual_runtime(|rt| {
        let probe: Probe<&'static str> = Probe::spawn(rt);
        rt.send_after(probe.addr(), Duration::ZERO, "timer");
        probe.addr().send("direct");
        rt.advance(Duration::ZERO);
        assert!(wait_until(TIMEOUT, || probe.len() == 2));
        assert_eq!(
            probe.drain(),
            vec![Received::Message("direct"), Received::Message("timer")]
        );
    });
}

/// Rule 39: a timer aimed at a pid is cancelled when the pid dies (or is
/// already dead when the timer is made): `read_timer` and `cancel_timer`
/// report nothing left, and nothing is delivered.
#[test]
fn rule_39_pid_timer_dies_with_its_pid() {
    each_virtual_runtime(|rt| {
        let watcher: Probe<()> = Probe::spawn(rt);
        let (tx, rx) = std::sync::mpsc::channel();
        let target = rt.spawn_fn(move |m: u32, _ctx| tx.send(m).unwrap());
        let t1 = rt.send_after(&target, 10 * SEC, 1);
        let t2 = rt.send_after(&target, 20 * SEC, 2);
        assert_eq!(rt.read_timer(t1), Some(10 * SEC));
        let mref = watcher.monitor(target.pid());
        rt.kill(target.pid());
        assert_receive!(watcher, Received::Down(d) if d.mref == mref);
        assert_eq!(rt.read_timer(t1), None);
        assert_eq!(rt.cancel_timer(t2), None);
        // Dead at creation.
        let t3 = rt.send_after(&target, SEC, 3);
        assert_eq!(rt.read_timer(t3), None);
        assert_eq!(rt.cancel_timer(t3), None);
        rt.advance(HOUR);
        assert!(rx.recv_timeout(QUIET).is_err());
    });
}

/// Rule 39 (and R11): a dead pid's timers no longer count as armed.
#[test]
fn rule_39_dead_pid_timers_are_not_armed() {
    each_virtual_runtime(|rt| {
        let watcher: Probe<()> = Probe::spawn(rt);
        let target = puppet(rt);
        rt.send_after(&target, HOUR, Job::new(|_| {}));
        assert_eq!(rt.stats().timers, 1);
        let mref = watcher.monitor(target.pid());
        rt.kill(target.pid());
        assert_receive!(watcher, Received::Down(d) if d.mref == mref);
        assert_eq!(rt.stats().timers, 0, "the timer was cancelled with its pid");
    });
}

/// Rule 39: a timer aimed at a name looks the name up when it fires; if
/// nobody holds it then, nothing happens. It is not tied to any process.
#[test]
fn rule_39_name_timer_resolves_the_name_at_expiry() {
    each_virtual_runtime(|rt| {
        let first: Probe<u32> = Probe::spawn(rt);
        let second: Probe<u32> = Probe::spawn(rt);
        // Registered only after arming.
        rt.send_after_named("dest", SEC, 1u32);
        rt.register("dest", first.pid()).unwrap();
        rt.advance(SEC);
        assert_receive!(first, Received::Message(1));
        // The name moves before expiry.
        let t = rt.send_after_named("dest", SEC, 2u32);
        rt.unregister("dest");
        rt.register("dest", second.pid()).unwrap();
        assert_eq!(rt.read_timer(t), Some(SEC));
        rt.advance(SEC);
        assert_receive!(second, Received::Message(2));
        // The holder dies before expiry: the timer lives on and finds nobody.
        let t = rt.send_after_named("dest", SEC, 3u32);
        rt.kill(second.pid());
        assert!(wait_until(TIMEOUT, || rt.whereis("dest").is_none()));
        assert_eq!(rt.read_timer(t), Some(SEC));
        rt.advance(SEC);
        assert_eq!(rt.read_timer(t), None);
        first.refute_receive(QUIET, |_| true);
        assert_eq!(rt.stats().timers, 0);
    });
}

/// Rule 40: `cancel_timer` returns the time left on an active timer and
/// `None` once it fired or was cancelled; a cancelled timer never fires.
#[test]
fn rule_40_cancel_timer_returns_time_left_or_none() {
    each_virtual_runtime(|rt| {
        let probe: Probe<u32> = Probe::spawn(rt);
        let t = rt.send_after(probe.addr(), 1000 * MS, 1);
        rt.advance(300 * MS);
        assert_eq!(rt.cancel_timer(t), Some(700 * MS));
        assert_eq!(rt.cancel_timer(t), None);
        assert_eq!(rt.read_timer(t), None);
        rt.advance(HOUR);
        probe.refute_receive(QUIET, |_| true);

        let fired = rt.send_after(probe.addr(), SEC, 2);
        rt.advance(SEC);
        assert_receive!(probe, Received::Message(2));
        assert_eq!(rt.cancel_timer(fired), None);
    });
}

/// Rule 40: cancelling never removes a message already delivered — here
/// one waiting in the mailbox of a busy process.
#[test]
fn rule_40_cancel_never_removes_a_delivered_message() {
    each_virtual_runtime(|rt| {
        let (tx, rx) = std::sync::mpsc::channel();
        let gate = Gate::new();
        let _open = gate.opener();
        let p = puppet(rt);
        hold_then(&p, &gate, Hold::Block, |_| {});
        let t = rt.send_after(&p, SEC, Job::new(move |_| tx.send("handled").unwrap()));
        rt.advance(SEC);
        assert_eq!(rt.process_info(p.pid()).unwrap().mailbox_len, 1);
        assert_eq!(rt.cancel_timer(t), None, "it already fired");
        gate.open();
        assert_eq!(rx.recv_timeout(TIMEOUT), Ok("handled"));
    });
}

/// Rule 40: a reference to a timer that already fired stays dead even when
/// its slot is reused by a newer timer: cancelling it does not cancel the
/// newer one.
#[test]
fn rule_40_a_stale_timer_ref_does_not_touch_a_newer_timer() {
    each_virtual_runtime(|rt| {
        let probe: Probe<u32> = Probe::spawn(rt);
        let old = rt.send_after(probe.addr(), SEC, 1);
        rt.advance(SEC);
        assert_receive!(probe, Received::Message(1));
        let new = rt.send_after(probe.addr(), SEC, 2);
        assert_ne!(old, new);
        assert_eq!(rt.cancel_timer(old), None);
        assert_eq!(rt.read_timer(old), None);
        assert_eq!(rt.read_timer(new), Some(SEC));
        rt.advance(SEC);
        assert_receive!(probe, Received::Message(2));
    });
}

/// Rule 41: `read_timer` reports the time left without cancelling, and
/// `None` once the timer fired or was cancelled.
#[test]
fn rule_41_read_timer_reports_time_left() {
    each_virtual_runtime(|rt| {
        let probe: Probe<u32> = Probe::spawn(rt);
        let t = rt.send_after(probe.addr(), HOUR, 1);
        assert_eq!(rt.read_timer(t), Some(HOUR));
        rt.advance(HOUR - SEC);
        assert_eq!(rt.read_timer(t), Some(SEC));
        assert_eq!(rt.read_timer(t), Some(SEC), "reading does not cancel");
        rt.advance(SEC);
        assert_receive!(probe, Received::Message(1));
        assert_eq!(rt.read_timer(t), None);
        let c = rt.send_after(probe.addr(), SEC, 2);
        rt.cancel_timer(c);
        assert_eq!(rt.read_timer(c), None);
        // From inside a process, a timer to itself.
        let p = puppet(rt);
        let t = call(&p, |ctx| ctx.send_after_self(5 * SEC, Job::new(|_| {})));
        assert_eq!(rt.read_timer(t), Some(5 * SEC));
    });
}

/// Rule 44: an interval with a one-hour period, advanced three hours in one
/// step, ticks exactly three times, at absolute deadlines (the next one is
/// a full period after the last), in milliseconds of real time.
#[test]
fn rule_44_one_hour_interval_runs_in_milliseconds() {
    each_virtual_runtime(|rt| {
        let started = Instant::now();
        let probe: Probe<&'static str> = Probe::spawn(rt);
        let t = rt.send_interval(probe.addr(), HOUR, "tick");
        rt.advance(3 * HOUR);
        for _ in 0..3 {
            assert_receive!(probe, Received::Message("tick"));
        }
        probe.refute_receive(QUIET, |_| true);
        assert_eq!(rt.read_timer(t), Some(HOUR));
        rt.advance(HOUR / 2);
        assert_eq!(rt.read_timer(t), Some(HOUR / 2));
        assert_eq!(rt.cancel_timer(t), Some(HOUR / 2));
        rt.advance(10 * HOUR);
        probe.refute_receive(QUIET, |_| true);
        assert!(started.elapsed() < 2 * SEC, "took {:?}", started.elapsed());
    });
}

/// Rule 44: ticks are anchored to absolute deadlines: a one-second interval
/// advanced in uneven steps over an hour ticks exactly 3600 times and is
/// due again exactly on the next whole second.
#[test]
fn rule_44_interval_ticks_on_absolute_deadlines() {
    each_virtual_runtime(|rt| {
        let count = Arc::new(Mutex::new(0u32));
        let c = count.clone();
        let counter = rt.spawn_fn(move |(): (), _ctx| *c.lock().unwrap() += 1);
        let t = rt.send_interval(&counter, SEC, ());
        let mut elapsed = Duration::ZERO;
        for step in [700 * MS, 1300 * MS, 2500 * MS, 1 * MS, 499 * MS] {
            rt.advance(step);
            elapsed += step;
        }
        assert_eq!(elapsed, 5 * SEC);
        assert_eq!(rt.read_timer(t), Some(SEC));
        rt.advance(HOUR - elapsed - 250 * MS);
        assert_eq!(rt.read_timer(t), Some(250 * MS));
        rt.advance(250 * MS);
        assert!(
            wait_until(TIMEOUT, || *count.lock().unwrap() == 3600),
            "ticks: {}",
            count.lock().unwrap()
        );
        assert_eq!(rt.read_timer(t), Some(SEC));
        rt.cancel_timer(t);
    });
}

/// Rule 44 on the real clock: ticks do not drift. A 2 ms interval is
/// handled 100 times; no tick comes early, and the last one is late by no
/// more than a scheduling hiccup — an interval re-armed from each firing
/// (rounded up to the millisecond) would be at least 100 ms late.
#[test]
fn rule_44_interval_does_not_drift_on_the_real_clock() {
    each_runtime(|rt| {
        let period = 2 * MS;
        let handled = Arc::new(Mutex::new(Vec::new()));
        let h = handled.clone();
        let p = rt.spawn_fn(move |(): (), ctx| h.lock().unwrap().push(ctx.handle().now()));
        let start = rt.now();
        let t = rt.send_interval(&p, period, ());
        assert!(wait_until(TIMEOUT, || handled.lock().unwrap().len() >= 100));
        rt.cancel_timer(t);
        let times = handled.lock().unwrap().clone();
        for (k, at) in times.iter().enumerate().take(100) {
            assert!(
                *at - start >= period * (k as u32 + 1),
                "tick {} came early at {:?}",
                k + 1,
                *at - start
            );
        }
        let lateness = times[99] - start - period * 100;
        assert!(lateness < 60 * MS, "the 100th tick is {lateness:?} late");
    });
}

/// Rule 45: an interval stops when its destination exits (and leaves the
/// wheel at its next tick), and when it is cancelled.
#[test]
fn rule_45_interval_stops_with_its_destination_or_cancel() {
    each_virtual_runtime(|rt| {
        let watcher: Probe<()> = Probe::spawn(rt);
        let count = Arc::new(Mutex::new(0u32));
        let c = count.clone();
        let counter = rt.spawn_fn(move |(): (), _ctx| *c.lock().unwrap() += 1);
        let ti = rt.send_interval(&counter, SEC, ());
        rt.advance(3 * SEC);
        assert!(wait_until(TIMEOUT, || *count.lock().unwrap() == 3));
        let mref = watcher.monitor(counter.pid());
        rt.kill(counter.pid());
        assert_receive!(watcher, Received::Down(d) if d.mref == mref);
        assert_eq!(rt.read_timer(ti), None);
        rt.advance(SEC);
        assert_eq!(rt.stats().timers, 0, "the interval ended");
        assert_eq!(rt.cancel_timer(ti), None);
        assert_eq!(*count.lock().unwrap(), 3);

        let probe: Probe<u8> = Probe::spawn(rt);
        let tc = rt.send_interval(probe.addr(), SEC, 7);
        rt.advance(SEC);
        assert_receive!(probe, Received::Message(7));
        assert_eq!(rt.cancel_timer(tc), Some(SEC));
        assert_eq!(rt.stats().timers, 0);
        rt.advance(10 * SEC);
        probe.refute_receive(QUIET, |_| true);
    });
}

/// R15: everything time-based reads the runtime clock. On an
/// auto-advancing virtual clock an `await_exit` timeout is a deadline that
/// auto-advance jumps to, so waiting an hour for a process that never exits
/// ends after an hour of virtual time, not never.
#[test]
fn r15_await_exit_timeout_passes_on_the_virtual_clock() {
    each_runtime_with(
        |b| b.virtual_clock().auto_advance(true),
        |rt| {
            let p = rt.spawn_fn(|(): (), _ctx| {});
            let h = rt.handle().clone();
            let before = h.now();
            let (tx, rx) = std::sync::mpsc::channel();
            let addr = p.clone();
            std::thread::spawn(move || tx.send(h.await_exit(&addr, Some(HOUR))).unwrap());
            let got = rx
                .recv_timeout(TIMEOUT)
                .expect("await_exit must end once the virtual hour has passed");
            assert_eq!(got, None);
            assert!(rt.handle().now() - before >= HOUR);
            assert!(p.is_alive());
        },
    );
}

/// Auto-advance fires a timer from the worker that went idle last, just
/// before it sleeps; a process the timer wakes must run, not wait in that
/// worker's own LIFO slot while it sleeps (which left this message
/// undelivered, on every worker count, until it was fixed).
#[test]
fn auto_advance_delivers_a_timer_to_the_process_that_armed_it() {
    each_runtime_with(
        |b| b.virtual_clock().auto_advance(true),
        |rt| {
            let before = rt.now();
            let fired = self_timer(rt, HOUR);
            assert_eq!(fired.recv_timeout(TIMEOUT), Ok("fired"));
            assert!(rt.now() - before >= HOUR);
        },
    );
}
