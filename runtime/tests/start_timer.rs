//! Timers that say which timer fired, and absolute deadlines: rule 42
//! (`start_timer`, `{abs, true}`), with rules 39-41 applied to them.
//!
//! Everything runs on the virtual clock, at 1, 2 and 8 workers: time moves
//! only on `Handle::advance`.

mod common;

use std::time::Duration;

use common::*;
use rotp_runtime::testing::{wait_until, Probe, Received};
use rotp_runtime::{assert_receive, TimerFired, TimerRef};

const MS: Duration = Duration::from_millis(1);
const SEC: Duration = Duration::from_secs(1);
const HOUR: Duration = Duration::from_secs(3600);

/// Rule 42: a `start_timer` message carries the reference `start_timer`
/// returned, so two timers with the same message are told apart.
#[test]
fn rule_42_start_timer_delivers_its_own_ref_with_the_message() {
    each_virtual_runtime(|rt| {
        let probe: Probe<TimerFired<&'static str>> = Probe::spawn(rt);
        let first = rt.start_timer(probe.addr(), SEC, "poll");
        let second = rt.start_timer(probe.addr(), 2 * SEC, "poll");
        assert_ne!(first, second);
        rt.advance(SEC - MS);
        probe.refute_receive(QUIET, |_| true);
        rt.advance(MS);
        assert_receive!(probe, Received::Message(TimerFired { tref, msg: "poll" }) if *tref == first);
        probe.refute_receive(QUIET, |_| true);
        rt.advance(SEC);
        assert_receive!(probe, Received::Message(TimerFired { tref, msg: "poll" }) if *tref == second);
        assert_eq!(rt.stats().timers, 0);
    });
}

/// A process that keeps one timer armed and re-arms it on request, the way
/// a state machine runs a state timeout.
#[derive(Debug)]
enum Msg {
    /// Cancel the current timer, if any, and start one of `delay` with
    /// `tag` (from inside the process: `Context::start_timer`).
    Rearm(Duration, u32),
    /// Wait in the handler until the gate opens.
    Hold(Gate),
    Fired(TimerFired<u32>),
}

impl From<TimerFired<u32>> for Msg {
    fn from(fired: TimerFired<u32>) -> Msg {
        Msg::Fired(fired)
    }
}

/// What that process reports.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Seen {
    /// A timer was started; `cancelled` is what cancelling the previous one
    /// returned (`None` when there was none, or it had fired).
    Armed {
        tref: TimerRef,
        cancelled: Option<Duration>,
    },
    /// The current timer fired.
    Current(u32),
    /// A timer fired that had been replaced meanwhile.
    Stale(u32),
}

fn rearming_process(rt: &rotp_runtime::Runtime, out: &Probe<Seen>) -> rotp_runtime::Addr<Msg> {
    let out = out.addr().clone();
    let mut current: Option<TimerRef> = None;
    rt.spawn_fn(move |msg: Msg, ctx| match msg {
        Msg::Rearm(delay, tag) => {
            let cancelled = current.take().and_then(|t| ctx.cancel_timer(t));
            let tref = ctx.start_timer(delay, tag);
            assert_eq!(ctx.read_timer(tref), Some(delay));
            current = Some(tref);
            out.send(Seen::Armed { tref, cancelled });
        }
        Msg::Hold(gate) => {
            gate.wait_blocking();
        }
        Msg::Fired(fired) if Some(fired.tref) == current => {
            current = None;
            out.send(Seen::Current(fired.msg));
        }
        Msg::Fired(fired) => out.send(Seen::Stale(fired.msg)),
    })
}

/// Rule 42, its purpose: a timer that fired while the process was busy
/// re-arming it is still in the mailbox after the cancel (rule 40:
/// cancelling never removes a delivered message); its reference tells the
/// process it is stale.
#[test]
fn rule_42_a_replaced_timer_that_already_fired_is_recognised_as_stale() {
    each_virtual_runtime(|rt| {
        let out: Probe<Seen> = Probe::spawn(rt);
        let p = rearming_process(rt, &out);
        p.send(Msg::Rearm(SEC, 1));
        let first = match out.assert_message(TIMEOUT) {
            Seen::Armed {
                tref,
                cancelled: None,
            } => tref,
            other => panic!("expected the first timer armed, got {other:?}"),
        };

        // Hold the process; the re-arm request queues, then the first timer
        // fires behind it.
        let gate = Gate::new();
        let _open = gate.opener();
        p.send(Msg::Hold(gate.clone()));
        p.send(Msg::Rearm(5 * SEC, 2));
        rt.advance(SEC);
        assert!(wait_until(TIMEOUT, || rt
            .process_info(p.pid())
            .is_some_and(|i| i.mailbox_len >= 2)));
        gate.open();

        let second = match out.assert_message(TIMEOUT) {
            Seen::Armed { tref, cancelled } => {
                assert_eq!(cancelled, None, "the first timer had fired");
                tref
            }
            other => panic!("expected the second timer armed, got {other:?}"),
        };
        assert_ne!(first, second);
        assert_eq!(out.assert_message(TIMEOUT), Seen::Stale(1));
        assert_eq!(rt.read_timer(second), Some(5 * SEC));
        rt.advance(5 * SEC);
        assert_eq!(out.assert_message(TIMEOUT), Seen::Current(2));
        out.refute_receive(QUIET, |_| true);
    });
}

/// Rule 42, re-arming before the timer fires: the old timer is cancelled
/// with its time left (rule 40) and never delivered.
#[test]
fn rule_42_rearming_cancels_the_old_timer_with_its_time_left() {
    each_virtual_runtime(|rt| {
        let out: Probe<Seen> = Probe::spawn(rt);
        let p = rearming_process(rt, &out);
        p.send(Msg::Rearm(10 * SEC, 1));
        assert!(matches!(
            out.assert_message(TIMEOUT),
            Seen::Armed {
                cancelled: None,
                ..
            }
        ));
        rt.advance(4 * SEC);
        p.send(Msg::Rearm(SEC, 2));
        assert!(matches!(
            out.assert_message(TIMEOUT),
            Seen::Armed { cancelled: Some(left), .. } if left == 6 * SEC
        ));
        rt.advance(HOUR);
        assert_eq!(out.assert_message(TIMEOUT), Seen::Current(2));
        out.refute_receive(QUIET, |_| true);
        assert_eq!(rt.stats().timers, 0);
    });
}

/// Rules 40-41 for `start_timer`: read and cancel report the time left,
/// and `None` once it was cancelled or fired; a cancelled one never fires.
#[test]
fn rule_42_start_timer_is_read_and_cancelled_like_any_timer() {
    each_virtual_runtime(|rt| {
        let probe: Probe<TimerFired<u8>> = Probe::spawn(rt);
        let t = rt.start_timer(probe.addr(), 10 * SEC, 1);
        rt.advance(3 * SEC);
        assert_eq!(rt.read_timer(t), Some(7 * SEC));
        assert_eq!(rt.cancel_timer(t), Some(7 * SEC));
        assert_eq!(rt.cancel_timer(t), None);
        assert_eq!(rt.read_timer(t), None);
        rt.advance(HOUR);
        probe.refute_receive(QUIET, |_| true);

        let fired = rt.start_timer(probe.addr(), SEC, 2);
        rt.advance(SEC);
        assert_receive!(probe, Received::Message(f) if f.tref == fired && f.msg == 2);
        assert_eq!(rt.read_timer(fired), None);
        assert_eq!(rt.cancel_timer(fired), None);
        assert_eq!(rt.stats().timers, 0);
    });
}

/// Rule 42 `{abs, true}`: `send_at` fires when the runtime clock reads the
/// deadline, however late it was armed, where `send_after` counts from the
/// arming.
#[test]
fn rule_42_send_at_fires_at_an_absolute_instant_of_the_runtime_clock() {
    each_virtual_runtime(|rt| {
        let probe: Probe<&'static str> = Probe::spawn(rt);
        let start = rt.now();
        let at = start + 20 * SEC;
        rt.advance(5 * SEC);
        let abs = rt.send_at(probe.addr(), at, "absolute");
        let rel = rt.send_after(probe.addr(), 20 * SEC, "relative");
        assert_eq!(rt.read_timer(abs), Some(15 * SEC));
        assert_eq!(rt.read_timer(rel), Some(20 * SEC));
        rt.advance(15 * SEC - MS);
        probe.refute_receive(QUIET, |_| true);
        rt.advance(MS);
        assert_eq!(rt.now(), at);
        assert_receive!(probe, Received::Message("absolute"));
        probe.refute_receive(QUIET, |_| true);
        rt.advance(5 * SEC);
        assert_receive!(probe, Received::Message("relative"));
    });
}

/// Rule 42 `{abs, true}` with rule 38: a deadline between milliseconds is
/// rounded up (never early), and one already past fires at the next look at
/// the clock, not synchronously.
#[test]
fn rule_42_absolute_deadlines_round_up_and_past_ones_are_not_synchronous() {
    each_virtual_runtime(|rt| {
        let probe: Probe<&'static str> = Probe::spawn(rt);
        rt.advance(SEC);
        let t = rt.send_at(probe.addr(), rt.now() + MS + MS / 2, "rounded");
        assert_eq!(rt.read_timer(t), Some(2 * MS));
        rt.advance(MS + MS / 2);
        probe.refute_receive(QUIET, |_| true);
        rt.advance(MS / 2);
        assert_receive!(probe, Received::Message("rounded"));

        let past = rt.send_at(probe.addr(), Duration::ZERO, "past");
        probe.addr().send("direct");
        assert_eq!(rt.read_timer(past), Some(Duration::ZERO));
        rt.advance(Duration::ZERO);
        assert!(wait_until(TIMEOUT, || probe.len() == 2));
        assert_eq!(
            probe.drain(),
            vec![Received::Message("direct"), Received::Message("past")]
        );
        assert_eq!(rt.read_timer(past), None);
    });
}

/// Rule 42: `start_timer_at` combines both: an absolute deadline, and the
/// reference in the message.
#[test]
fn rule_42_start_timer_at_fires_at_the_deadline_with_its_ref() {
    each_virtual_runtime(|rt| {
        let probe: Probe<TimerFired<u32>> = Probe::spawn(rt);
        let at = rt.now() + 3 * SEC;
        rt.advance(SEC);
        let t = rt.start_timer_at(probe.addr(), at, 42);
        assert_eq!(rt.read_timer(t), Some(2 * SEC));
        rt.advance(2 * SEC);
        assert_receive!(probe, Received::Message(f) if f.tref == t && f.msg == 42);
    });
}

/// Rule 39 for the new kinds: `start_timer`, `start_timer_at` and `send_at`
/// timers die with their pid (also when it is dead at creation): reading and
/// cancelling report nothing, nothing is delivered, nothing stays armed.
#[test]
fn rule_42_timers_of_every_kind_die_with_their_pid() {
    each_virtual_runtime(|rt| {
        let watcher: Probe<()> = Probe::spawn(rt);
        let (tx, rx) = std::sync::mpsc::channel();
        let target = rt.spawn_fn(move |m: TimerFired<u32>, _ctx| tx.send(m.msg).unwrap());
        let now = rt.now();
        let trefs = [
            rt.start_timer(&target, SEC, 1),
            rt.start_timer_at(&target, now + 2 * SEC, 2),
            rt.send_at(
                &target,
                now + 3 * SEC,
                TimerFired {
                    tref: rt.start_timer(&target, HOUR, 0),
                    msg: 3,
                },
            ),
        ];
        assert_eq!(rt.stats().timers, 4);
        let mref = watcher.monitor(target.pid());
        rt.kill(target.pid());
        assert_receive!(watcher, Received::Down(d) if d.mref == mref);
        assert_eq!(rt.stats().timers, 0, "the exit dropped them all");
        for t in trefs {
            assert_eq!(rt.read_timer(t), None);
            assert_eq!(rt.cancel_timer(t), None);
        }
        // Dead at creation.
        let late = rt.start_timer(&target, SEC, 4);
        let late_at = rt.send_at(&target, now + SEC, TimerFired { tref: late, msg: 5 });
        assert_eq!(rt.read_timer(late), None);
        assert_eq!(rt.cancel_timer(late_at), None);
        assert_eq!(rt.stats().timers, 0);
        rt.advance(2 * HOUR);
        assert!(rx.recv_timeout(QUIET).is_err());
    });
}
