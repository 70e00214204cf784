//! Timers under churn: many arms and cancels from many threads, arms racing
//! their target's exit, and the real-clock timer thread being woken for an
//! earlier deadline (rules 38-40, R11). At 1, 2 and 8 workers.

mod common;

use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::*;
use rotp_runtime::testing::{wait_until, Probe, Received};
use rotp_runtime::{assert_receive, TimerFired};

const MS: Duration = Duration::from_millis(1);
const HOUR: Duration = Duration::from_secs(3600);

/// A message that is either plain or a `start_timer` firing.
#[derive(Debug)]
enum Msg {
    Plain(u32),
    Fired(TimerFired<u32>),
}

impl From<TimerFired<u32>> for Msg {
    fn from(fired: TimerFired<u32>) -> Msg {
        Msg::Fired(fired)
    }
}

/// Rule 39 against a race: timers armed from other threads while their
/// target is being killed are all dropped, whichever side comes first: none
/// stays armed, none reads as live, none is delivered.
#[test]
fn rule_39_timers_armed_while_their_target_dies_are_all_dropped() {
    each_virtual_runtime(|rt| {
        let watcher: Probe<()> = Probe::spawn(rt);
        let delivered = Arc::new(Mutex::new(Vec::new()));
        for round in 0..20u32 {
            let d = delivered.clone();
            let target = rt.spawn_fn(move |m: Msg, _ctx| {
                let tag = match m {
                    Msg::Plain(tag) => tag,
                    Msg::Fired(fired) => fired.msg,
                };
                d.lock().unwrap().push(tag);
            });
            let mref = watcher.monitor(target.pid());
            let armers: Vec<_> = (0..2)
                .map(|_| {
                    let (h, t) = (rt.handle().clone(), target.clone());
                    std::thread::spawn(move || {
                        (0..200)
                            .map(|i| {
                                if i % 2 == 0 {
                                    h.send_after(&t, HOUR, Msg::Plain(i))
                                } else {
                                    h.start_timer(&t, HOUR, i)
                                }
                            })
                            .collect::<Vec<_>>()
                    })
                })
                .collect();
            if round % 2 == 0 {
                std::thread::yield_now();
            }
            rt.kill(target.pid());
            let trefs: Vec<_> = armers
                .into_iter()
                .flat_map(|a| a.join().expect("the arming thread"))
                .collect();
            assert_receive!(watcher, Received::Down(d) if d.mref == mref);
            assert_eq!(rt.stats().timers, 0, "round {round}: timers left armed");
            for t in trefs {
                assert_eq!(rt.read_timer(t), None);
                assert_eq!(rt.cancel_timer(t), None);
            }
        }
        rt.advance(2 * HOUR);
        let any = wait_until(QUIET, || !delivered.lock().unwrap().is_empty());
        assert!(!any, "delivered: {:?}", delivered.lock().unwrap());
    });
}

/// Rule 40 and R11's memory bound: a cancelled timer leaves at once, not at
/// its deadline. Four threads arm and cancel 10,000 one-hour timers each on
/// one process while time stands still; then nothing is armed.
#[test]
fn rule_40_cancelled_timers_do_not_accumulate_until_their_deadline() {
    each_virtual_runtime(|rt| {
        let probe: Probe<u32> = Probe::spawn(rt);
        let threads: Vec<_> = (0..4)
            .map(|_| {
                let (h, p) = (rt.handle().clone(), probe.addr().clone());
                std::thread::spawn(move || {
                    for i in 0..10_000 {
                        let t = h.send_after(&p, HOUR, i);
                        assert_eq!(h.cancel_timer(t), Some(HOUR));
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().expect("the arming thread");
        }
        assert_eq!(rt.stats().timers, 0);
        rt.advance(2 * HOUR);
        probe.refute_receive(QUIET, |_| true);
    });
}

/// R11 on the real clock: the timer thread, asleep until a far deadline or
/// with nothing armed at all, is woken by an earlier one. A lost wake-up
/// would hold the short timer back for an hour.
#[test]
fn an_earlier_deadline_wakes_the_sleeping_timer_thread() {
    each_runtime(|rt| {
        let probe: Probe<&'static str> = Probe::spawn(rt);
        // Nothing armed: the thread sleeps with no deadline.
        rt.send_after(probe.addr(), 2 * MS, "from idle");
        assert_receive!(probe, Received::Message("from idle"));
        // Asleep until an hour from now.
        let far = rt.send_after(probe.addr(), HOUR, "far");
        assert!(wait_until(TIMEOUT, || rt.stats().timers == 1));
        rt.send_after(probe.addr(), 2 * MS, "near");
        assert_receive!(probe, Received::Message("near"));
        // Cancelling the far one does not wake it; a new near one must.
        rt.cancel_timer(far);
        rt.send_after(probe.addr(), 2 * MS, "after cancel");
        assert_receive!(probe, Received::Message("after cancel"));
    });
}

/// R11 on the real clock under churn: threads arm and cancel far timers
/// while others arm near ones in a spread of processes (so in every shard);
/// every near timer fires, and nothing stays armed.
#[test]
fn near_timers_fire_while_other_threads_arm_and_cancel_far_ones() {
    each_runtime(|rt| {
        let fired = Arc::new(AtomicUsize::new(0));
        let targets: Vec<_> = (0..32)
            .map(|_| {
                let f = fired.clone();
                rt.spawn_fn(move |_: u32, _ctx| {
                    f.fetch_add(1, Relaxed);
                })
            })
            .collect();
        let targets = Arc::new(targets);
        let churn: Vec<_> = (0..2)
            .map(|k| {
                let (h, ts) = (rt.handle().clone(), targets.clone());
                std::thread::spawn(move || {
                    for i in 0..20_000usize {
                        let t = h.send_after(&ts[(i + k) % ts.len()], HOUR, 0);
                        h.cancel_timer(t);
                    }
                })
            })
            .collect();
        let mut rng = Rng::new(7);
        for i in 0..500usize {
            let delay = MS * (rng.below(5) as u32);
            rt.send_after(&targets[i % targets.len()], delay, 1);
        }
        for c in churn {
            c.join().expect("the churning thread");
        }
        assert!(
            wait_until(TIMEOUT, || fired.load(Relaxed) == 500),
            "{} of 500 near timers fired",
            fired.load(Relaxed)
        );
        assert!(wait_until(TIMEOUT, || rt.stats().timers == 0));
    });
}
