//! Inactivity timeouts and hibernation: rules 78-82, on the virtual clock.
//! The OTP 28 event-timeout actions (rule 81) are tested in
//! `gen_server_event_timeout.rs`.

mod common;

use std::sync::mpsc::Receiver;
use std::time::Duration;

use common::*;
use rotp_gen_server::{noreply, start, CallError, Init, ServerRef, StartOptions, Then};
use rotp_runtime::testing::Probe;
use rotp_runtime::{ExitReason, Runtime};

fn secs(n: u64) -> Duration {
    Duration::from_secs(n)
}

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

/// Casts a handler that returns an inactivity timeout of `after`, and
/// waits until the timer is armed.
#[track_caller]
fn arm_timeout(rt: &Runtime, server: &ServerRef<Puppet>, after: Duration) {
    cast(server, move |_, _| noreply().timeout(after));
    wait_timers(rt, 1);
}

/// Holds the server inside a `get_state` (a system request, which leaves
/// the inactivity timeout alone) until `gate` opens.
#[track_caller]
fn hold_in_system_request(
    probe: &Probe<Ev>,
    server: &ServerRef<Puppet>,
    gate: &Gate,
) -> Receiver<Result<(), CallError>> {
    let (g, s) = (gate.clone(), server.clone());
    let held = in_thread(move || {
        s.get_state(move |p| {
            p.report(Ev::Mark("in get_state"));
            g.wait_blocking();
        })
    });
    expect_event(probe, |e| *e == Ev::Mark("in get_state"));
    held
}

/// A cast that reports `Ev::Mark(tag)`.
fn mark(server: &ServerRef<Puppet>, tag: &'static str) {
    cast(server, move |p, _| {
        p.report(Ev::Mark(tag));
        noreply()
    });
}

/// Rule 78: with nothing arriving, `handle_info(Timeout)` runs once the
/// timeout has passed — not a millisecond earlier.
#[test]
fn rule_78_timeout_fires_after_t_of_inactivity() {
    each_virtual_runtime(|rt| {
        let probe = Probe::spawn(rt);
        let server = puppet(rt, &probe);
        arm_timeout(rt, &server, secs(10));
        rt.advance(ms(9999));
        refute_event(&probe, |e| *e == Ev::Timeout);
        rt.advance(ms(1));
        expect_event(&probe, |e| *e == Ev::Timeout);
    });
}

/// Rule 78: any call, cast, plain message, EXIT or DOWN arriving first
/// cancels the pending timeout.
#[test]
fn rule_78_any_message_cancels_the_timeout() {
    each_virtual_runtime(|rt| {
        let probe = Probe::spawn(rt);
        for kind in ["call", "cast", "info", "exit", "down"] {
            let s = script_with(&probe, |p, ctx| {
                ctx.trap_exit(true);
                Init::ok(p)
            });
            let server = start::<Puppet>(rt, s, StartOptions::new()).unwrap();
            let other = host(rt, &probe);
            let other_pid = other.pid();
            ask(&server, move |_, ctx| match kind {
                "exit" => ctx.link(other_pid).unwrap(),
                "down" => drop(ctx.monitor(other_pid)),
                _ => {}
            });
            arm_timeout(rt, &server, secs(10));
            rt.advance(secs(5));
            match kind {
                "call" => ask(&server, |_, _| ()),
                "cast" => mark(&server, "cast"),
                "info" => info(&server, "info"),
                _ => host_cast(&other, |ctx| ctx.exit(ExitReason::custom("bye"))),
            }
            match kind {
                "call" => {}
                "cast" => drop(expect_event(&probe, |e| *e == Ev::Mark("cast"))),
                "info" => drop(expect_event(&probe, |e| *e == Ev::Info("info"))),
                "exit" => drop(expect_event(&probe, |e| matches!(e, Ev::Exit(..)))),
                _ => drop(expect_event(&probe, |e| matches!(e, Ev::Down(_)))),
            }
            wait_timers(rt, 0);
            rt.advance(secs(60));
            refute_event(&probe, |e| *e == Ev::Timeout);
            rt.kill(server.pid().unwrap());
        }
    });
}

/// Rule 78: the timeout is not sticky: after it fired, a plain result arms
/// nothing; a callback returning a timeout arms it afresh from its own
/// time.
#[test]
fn rule_78_each_result_decides_the_timeout_afresh() {
    each_virtual_runtime(|rt| {
        let probe = Probe::spawn(rt);
        let server = puppet(rt, &probe);
        arm_timeout(rt, &server, secs(10));
        rt.advance(secs(10));
        expect_event(&probe, |e| *e == Ev::Timeout);
        rt.advance(secs(60));
        refute_event(&probe, |e| *e == Ev::Timeout);

        // Re-armed at t0 + 5 s for 10 s: fires at t0 + 15 s, not at t0 + 10 s.
        arm_timeout(rt, &server, secs(10));
        rt.advance(secs(5));
        cast(&server, |_, _| noreply().timeout(secs(10)));
        rotp_runtime::testing::assert_eventually(TIMEOUT, "the timer is re-armed", || {
            server.get_state(|_| ()).is_ok() && rt.stats().timers == 1
        });
        rt.advance(ms(5000));
        refute_event(&probe, |e| *e == Ev::Timeout);
        rt.advance(ms(4999));
        refute_event(&probe, |e| *e == Ev::Timeout);
        rt.advance(ms(1));
        expect_event(&probe, |e| *e == Ev::Timeout);

        // handle_info(Timeout) returning a timeout again keeps it going.
        ask(&server, |p, _| {
            p.after_info = Some(Box::new(|_, _| noreply().timeout(secs(1))))
        });
        arm_timeout(rt, &server, secs(1));
        for _ in 0..3 {
            wait_timers(rt, 1);
            rt.advance(secs(1));
            expect_event(&probe, |e| *e == Ev::Timeout);
        }
    });
}

/// Rule 78: a message that was queued before the timer fired cancels the
/// timeout even though the timer's message is queued too (it is stale); a
/// timer that fired before the message arrived is handled first.
#[test]
fn rule_78_a_timeout_queued_behind_a_message_is_stale() {
    each_virtual_runtime(|rt| {
        let probe = Probe::spawn(rt);
        for message_first in [true, false] {
            let server = puppet(rt, &probe);
            arm_timeout(rt, &server, secs(1));
            let gate = Gate::new();
            let _opener = gate.opener();
            let held = hold_in_system_request(&probe, &server, &gate);
            if message_first {
                mark(&server, "message");
                wait_queued(rt, server.pid().unwrap(), 1);
                rt.advance(secs(1));
                wait_queued(rt, server.pid().unwrap(), 2);
            } else {
                rt.advance(secs(1));
                wait_queued(rt, server.pid().unwrap(), 1);
                mark(&server, "message");
                wait_queued(rt, server.pid().unwrap(), 2);
            }
            gate.open();
            assert_eq!(finished(&held), Ok(()));
            let seen = events(&probe, if message_first { 1 } else { 2 });
            if message_first {
                assert_eq!(seen, [Ev::Mark("message")]);
                refute_event(&probe, |e| *e == Ev::Timeout);
            } else {
                assert_eq!(seen, [Ev::Timeout, Ev::Mark("message")]);
            }
            rt.kill(server.pid().unwrap());
        }
    });
}

/// Rule 79: a zero timeout with an empty mailbox fires at once (no time
/// passes).
#[test]
fn rule_79_timeout_zero_fires_at_once_with_an_empty_mailbox() {
    each_virtual_runtime(|rt| {
        let probe = Probe::spawn(rt);
        let server = puppet(rt, &probe);
        cast(&server, |_, _| noreply().timeout(Duration::ZERO));
        expect_event(&probe, |e| *e == Ev::Timeout);
        let s = script_with(&probe, |p, _| Init::ok(p).timeout(Duration::ZERO));
        start::<Puppet>(rt, s, StartOptions::new()).unwrap();
        expect_event(&probe, |e| *e == Ev::Timeout);
        assert_eq!(rt.now(), Duration::ZERO);
    });
}

/// Rule 79: a zero timeout with a message already queued is discarded:
/// the message is handled and no timeout follows — whether the callback
/// queued the message itself or it arrived while the callback ran.
#[test]
fn rule_79_timeout_zero_yields_to_a_queued_message() {
    each_virtual_runtime(|rt| {
        let probe = Probe::spawn(rt);
        let server = puppet(rt, &probe);
        cast(&server, |_, ctx| {
            ctx.server_ref()
                .send_info(Note::Tag("queued by the callback"));
            noreply().timeout(Duration::ZERO)
        });
        expect_event(&probe, |e| *e == Ev::Info("queued by the callback"));
        refute_event(&probe, |e| *e == Ev::Timeout);

        let gate = Gate::new();
        let _opener = gate.opener();
        let g = gate.clone();
        cast(&server, move |p, _| {
            p.report(Ev::Mark("held"));
            g.wait_blocking();
            noreply().timeout(Duration::ZERO)
        });
        expect_event(&probe, |e| *e == Ev::Mark("held"));
        mark(&server, "arrived meanwhile");
        wait_queued(rt, server.pid().unwrap(), 1);
        gate.open();
        expect_event(&probe, |e| *e == Ev::Mark("arrived meanwhile"));
        refute_event(&probe, |e| *e == Ev::Timeout);
    });
}

/// Rules 79 and 80: a system request queued when a callback returns a
/// zero timeout is served, and the timeout still fires — a system request
/// is not a message that discards it.
#[test]
fn rule_79_timeout_zero_survives_a_queued_system_request() {
    each_virtual_runtime(|rt| {
        let probe = Probe::spawn(rt);
        let server = puppet(rt, &probe);
        let gate = Gate::new();
        let _opener = gate.opener();
        let g = gate.clone();
        cast(&server, move |p, _| {
            p.report(Ev::Mark("held"));
            g.wait_blocking();
            noreply().timeout(Duration::ZERO)
        });
        expect_event(&probe, |e| *e == Ev::Mark("held"));
        let s = server.clone();
        let status = in_thread(move || s.statistics().map(|st| st.casts));
        wait_queued(rt, server.pid().unwrap(), 1);
        gate.open();
        assert_eq!(finished(&status), Ok(1));
        expect_event(&probe, |e| *e == Ev::Timeout);
        assert_eq!(rt.now(), Duration::ZERO);
    });
}

/// Rule 79: a stale timer message (from a timeout the callback's own
/// message cancelled) does not count as a queued message: the zero timeout
/// of that callback still fires.
#[test]
fn rule_79_timeout_zero_is_not_discarded_by_a_stale_timer_message() {
    each_virtual_runtime(|rt| {
        let probe = Probe::spawn(rt);
        let server = puppet(rt, &probe);
        arm_timeout(rt, &server, secs(1));
        let gate = Gate::new();
        let _opener = gate.opener();
        let held = hold_in_system_request(&probe, &server, &gate);
        // Queued before the 1 s timer fires: cancels it, and asks for a
        // zero timeout of its own.
        cast(&server, |p, _| {
            p.report(Ev::Mark("zero"));
            noreply().timeout(Duration::ZERO)
        });
        wait_queued(rt, server.pid().unwrap(), 1);
        rt.advance(secs(1));
        wait_queued(rt, server.pid().unwrap(), 2);
        gate.open();
        assert_eq!(finished(&held), Ok(()));
        assert_eq!(events(&probe, 2), [Ev::Mark("zero"), Ev::Timeout]);
        refute_event(&probe, |e| *e == Ev::Timeout);
    });
}

/// Rule 80: system requests (get_state, replace_state, status, statistics)
/// are served without cancelling or delaying a pending timeout.
#[test]
fn rule_80_system_requests_do_not_cancel_the_timeout() {
    each_virtual_runtime(|rt| {
        let probe = Probe::spawn(rt);
        let s = script_with(&probe, |p, _| Init::ok(p).timeout(secs(10)));
        let server = start::<Puppet>(rt, s, StartOptions::new()).unwrap();
        rt.advance(secs(5));
        let s = server.clone();
        bounded(move || {
            s.get_state(|p| p.count).unwrap();
            s.replace_state(|p| Puppet {
                ev: p.ev.clone(),
                count: 1,
                log: Vec::new(),
                deferred: Vec::new(),
                after_info: None,
                on_terminate: None,
                shown: p.shown.clone(),
            })
            .unwrap();
            s.status().unwrap();
            s.statistics().unwrap();
            s.trace(false).unwrap();
        });
        assert_eq!(rt.stats().timers, 1, "the timeout is still armed");
        rt.advance(ms(4999));
        refute_event(&probe, |e| *e == Ev::Timeout);
        rt.advance(ms(1));
        expect_event(&probe, |e| *e == Ev::Timeout);
        assert_eq!(ask(&server, |p, _| p.count), 1);
    });
}

/// Rule 82: a hibernating server serves as before, keeps its state, and
/// handles a message that was already waiting at once.
#[test]
fn rule_82_hibernate_changes_nothing_observable() {
    each_virtual_runtime(|rt| {
        let probe = Probe::spawn(rt);
        let server = puppet(rt, &probe);
        let gate = Gate::new();
        let _opener = gate.opener();
        let g = gate.clone();
        cast(&server, move |p, _| {
            p.count = 42;
            p.report(Ev::Mark("held"));
            g.wait_blocking();
            noreply().hibernate()
        });
        expect_event(&probe, |e| *e == Ev::Mark("held"));
        mark(&server, "waiting");
        wait_queued(rt, server.pid().unwrap(), 1);
        gate.open();
        expect_event(&probe, |e| *e == Ev::Mark("waiting"));
        cast(&server, |_, _| noreply().hibernate());
        assert_eq!(ask(&server, |p, _| p.count), 42);
        assert_eq!(rt.now(), Duration::ZERO);
    });
}

/// Rule 82: `hibernate_after` arms an idle timer after every message; when
/// it fires the server hibernates silently (no `handle_info`) and keeps
/// serving; activity re-arms it.
#[test]
fn rule_82_hibernate_after_is_an_idle_timer() {
    each_virtual_runtime(|rt| {
        let probe = Probe::spawn(rt);
        let opts = StartOptions::new().hibernate_after(secs(30));
        let server = start::<Puppet>(rt, script(&probe), opts).unwrap();
        assert_eq!(rt.stats().timers, 1, "armed after init");
        rt.advance(secs(20));
        assert_eq!(ask(&server, |p, _| p.count), 0);
        wait_timers(rt, 1);
        rt.advance(secs(20));
        assert_eq!(rt.stats().timers, 1, "the activity at 20 s re-armed it");
        rt.advance(secs(10));
        wait_timers(rt, 0);
        refute_event(&probe, |e| *e == Ev::Timeout);
        assert_eq!(ask(&server, |p, _| p.count), 0, "it still serves");
        wait_timers(rt, 1);
    });
}
