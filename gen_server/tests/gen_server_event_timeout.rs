//! Event-timeout actions (OTP 28): rule 81, on the virtual clock, beside
//! the plain inactivity timeout of rules 78-80 (`gen_server_timeout.rs`).
//!
//! An event timeout is the inactivity timeout with a payload: when it
//! expires, `handle_info` gets `Info::Msg(msg)` instead of `Info::Timeout`.

mod common;

use std::sync::mpsc::Receiver;
use std::time::Duration;

use common::*;
use rotp_gen_server::{
    noreply, start, CallError, Deadline, EventTimeout, Handled, Init, ServerRef, StartOptions, Then,
};
use rotp_runtime::testing::Probe;
use rotp_runtime::{ExitReason, Runtime};

fn secs(n: u64) -> Duration {
    Duration::from_secs(n)
}

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

/// The event timeout every test arms: reports `Ev::Info("event")` when it
/// expires.
fn event(after: Duration) -> EventTimeout<Note> {
    EventTimeout::after(after, Note::Tag("event"))
}

fn is_event(e: &Ev) -> bool {
    *e == Ev::Info("event")
}

/// Casts a handler that returns `timeout`, and waits until the timer is
/// armed.
#[track_caller]
fn arm(rt: &Runtime, server: &ServerRef<Puppet>, timeout: EventTimeout<Note>) {
    cast(server, move |_, _| noreply().event_timeout(timeout));
    wait_timers(rt, 1);
}

/// Returns once everything sent to `server` before has been handled: a
/// system request queues behind it.
#[track_caller]
fn settle(server: &ServerRef<Puppet>) {
    let s = server.clone();
    bounded(move || s.get_state(|_| ())).expect("the server is alive");
}

/// A cast that reports `Ev::Mark(tag)`.
fn mark(server: &ServerRef<Puppet>, tag: &'static str) {
    cast(server, move |p, _| {
        p.report(Ev::Mark(tag));
        noreply()
    });
}

/// Casts a handler that reports `Ev::Mark("held")`, waits for `gate`, then
/// returns `result`; returns once the handler runs.
#[track_caller]
fn hold_then(
    probe: &Probe<Ev>,
    server: &ServerRef<Puppet>,
    gate: &Gate,
    result: impl FnOnce() -> Handled<Puppet> + Send + 'static,
) {
    let g = gate.clone();
    cast(server, move |p, _| {
        p.report(Ev::Mark("held"));
        g.wait_blocking();
        result()
    });
    expect_event(probe, |e| *e == Ev::Mark("held"));
}

/// Holds the server inside a `get_state` (a system request, which leaves
/// timeouts alone) until `gate` opens.
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

/// Rule 81: `{timeout, T, Msg}` from any callback — init, call, cast,
/// info, continue — calls `handle_info(Msg)` once T has passed without a
/// message, not a millisecond earlier, and never `handle_info(timeout)`.
#[test]
fn rule_81_event_timeout_calls_handle_info_with_its_message() {
    each_virtual_runtime(|rt| {
        let probe = Probe::spawn(rt);
        for source in ["init", "call", "cast", "info", "continue"] {
            let s = script_with(&probe, move |p, _| match source {
                "init" => Init::ok(p).event_timeout(event(secs(10))),
                _ => Init::ok(p),
            });
            let server = start::<Puppet>(rt, s, StartOptions::new()).unwrap();
            let returns_event = || noreply::<Puppet>().event_timeout(event(secs(10)));
            match source {
                "init" => {}
                "call" => {
                    call_with(&server, move |_, r, _| {
                        r.reply(val(())).event_timeout(event(secs(10)))
                    })
                    .unwrap();
                }
                "cast" => cast(&server, move |_, _| returns_event()),
                "info" => server.send_info(Note::Run(job(move |_, _| returns_event()))),
                _ => cast(&server, move |_, _| {
                    noreply().then_continue(job(move |_, _| returns_event()))
                }),
            }
            wait_timers(rt, 1);
            rt.advance(ms(9999));
            refute_event(&probe, is_event);
            rt.advance(ms(1));
            expect_event(&probe, is_event);
            rt.advance(secs(60));
            refute_event(&probe, |e| is_event(e) || *e == Ev::Timeout);
            rt.kill(server.pid().unwrap());
        }
    });
}

/// Rule 81 (as rule 78): any call, cast, plain message, EXIT or DOWN
/// arriving first cancels the event timeout.
#[test]
fn rule_81_any_message_cancels_the_event_timeout() {
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
            arm(rt, &server, event(secs(10)));
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
            refute_event(&probe, is_event);
            rt.kill(server.pid().unwrap());
        }
    });
}

/// Rule 81 (as rule 80): system requests are served without cancelling or
/// delaying a pending event timeout.
#[test]
fn rule_81_system_requests_do_not_cancel_the_event_timeout() {
    each_virtual_runtime(|rt| {
        let probe = Probe::spawn(rt);
        let s = script_with(&probe, |p, _| Init::ok(p).event_timeout(event(secs(10))));
        let server = start::<Puppet>(rt, s, StartOptions::new()).unwrap();
        rt.advance(secs(5));
        let s = server.clone();
        bounded(move || {
            s.get_state(|p| p.count).unwrap();
            s.status().unwrap();
            s.statistics().unwrap();
            s.trace(false).unwrap();
            s.suspend().unwrap();
            s.resume().unwrap();
        });
        assert_eq!(rt.stats().timers, 1, "the event timeout is still armed");
        rt.advance(ms(4999));
        refute_event(&probe, is_event);
        rt.advance(ms(1));
        expect_event(&probe, is_event);
    });
}

/// Rule 81: unlike a plain zero timeout (rule 79), `{timeout, 0, Msg}`
/// delivers Msg at once, ahead of the messages already queued — from a
/// callback and from init.
#[test]
fn rule_81_zero_event_timeout_goes_ahead_of_queued_messages() {
    each_virtual_runtime(|rt| {
        let probe = Probe::spawn(rt);
        let server = puppet(rt, &probe);
        let gate = Gate::new();
        let _opener = gate.opener();
        hold_then(&probe, &server, &gate, || {
            noreply().event_timeout(event(Duration::ZERO))
        });
        mark(&server, "queued cast");
        info(&server, "queued info");
        wait_queued(rt, server.pid().unwrap(), 2);
        gate.open();
        assert_eq!(
            events(&probe, 3),
            [
                Ev::Info("event"),
                Ev::Mark("queued cast"),
                Ev::Info("queued info")
            ]
        );
        assert_eq!(rt.now(), Duration::ZERO);

        // From init: requests queued while init runs come after it.
        let init_gate = Gate::new();
        let _opener = init_gate.opener();
        let g = init_gate.clone();
        let s = script_with(&probe, move |p, _| {
            g.wait_blocking();
            Init::ok(p).event_timeout(event(Duration::ZERO))
        });
        let h = rt.handle().clone();
        let started = in_thread(move || {
            start::<Puppet>(&h, s, StartOptions::new().name("zero")).map(|s| s.pid().unwrap())
        });
        let first = server.pid().unwrap();
        let pid = match expect_event(&probe, |e| matches!(e, Ev::Init(p) if *p != first)) {
            Ev::Init(pid) => pid,
            _ => unreachable!(),
        };
        mark(&ServerRef::named(rt, "zero"), "queued during init");
        wait_queued(rt, pid, 1);
        init_gate.open();
        assert_eq!(finished(&started), Ok(pid));
        assert_eq!(
            events(&probe, 2),
            [Ev::Info("event"), Ev::Mark("queued during init")]
        );
    });
}

/// Rule 81 against rule 79, side by side: with the same queue, a plain
/// zero timeout yields to the queued message, a zero event timeout goes
/// first.
#[test]
fn rule_81_zero_event_timeout_differs_from_plain_zero() {
    each_virtual_runtime(|rt| {
        let probe = Probe::spawn(rt);
        for plain in [true, false] {
            let server = puppet(rt, &probe);
            let gate = Gate::new();
            let _opener = gate.opener();
            hold_then(&probe, &server, &gate, move || {
                if plain {
                    noreply().timeout(Duration::ZERO)
                } else {
                    noreply().event_timeout(event(Duration::ZERO))
                }
            });
            mark(&server, "queued");
            wait_queued(rt, server.pid().unwrap(), 1);
            gate.open();
            if plain {
                assert_eq!(events(&probe, 1), [Ev::Mark("queued")]);
                refute_event(&probe, |e| *e == Ev::Timeout);
            } else {
                assert_eq!(events(&probe, 2), [Ev::Info("event"), Ev::Mark("queued")]);
            }
            rt.kill(server.pid().unwrap());
        }
    });
}

/// Rule 81 with rule 80: a system request queued when a callback returns
/// `{timeout, 0, Msg}` does not cancel it: Msg is handled first, then the
/// request is served (its statistics count the event's info).
#[test]
fn rule_81_zero_event_timeout_is_not_cancelled_by_a_queued_system_request() {
    each_virtual_runtime(|rt| {
        let probe = Probe::spawn(rt);
        let server = puppet(rt, &probe);
        let gate = Gate::new();
        let _opener = gate.opener();
        hold_then(&probe, &server, &gate, || {
            noreply().event_timeout(event(Duration::ZERO))
        });
        let s = server.clone();
        let stats = in_thread(move || s.statistics().map(|st| st.infos));
        wait_queued(rt, server.pid().unwrap(), 1);
        gate.open();
        expect_event(&probe, is_event);
        assert_eq!(finished(&stats), Ok(1), "the event ran before the request");
    });
}

/// Rule 81: a timer that fired before a message arrived delivers the event
/// first; a message queued before the timer fired cancels it (the timer's
/// entry is stale).
#[test]
fn rule_81_an_event_timeout_queued_behind_a_message_is_stale() {
    each_virtual_runtime(|rt| {
        let probe = Probe::spawn(rt);
        for message_first in [true, false] {
            let server = puppet(rt, &probe);
            arm(rt, &server, event(secs(1)));
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
            if message_first {
                assert_eq!(events(&probe, 1), [Ev::Mark("message")]);
                refute_event(&probe, is_event);
            } else {
                assert_eq!(events(&probe, 2), [Ev::Info("event"), Ev::Mark("message")]);
            }
            rt.kill(server.pid().unwrap());
        }
    });
}

/// Rule 81: `{hibernate, T, Msg}` hibernates and otherwise behaves like
/// `{timeout, T, Msg}`: it fires after T, a message cancels it, zero goes
/// ahead of the queue, and the state is kept.
#[test]
fn rule_81_hibernate_with_an_event_timeout() {
    each_virtual_runtime(|rt| {
        let probe = Probe::spawn(rt);
        let server = puppet(rt, &probe);
        assert!(event(secs(1)).hibernate().hibernates());
        cast(&server, |p, _| {
            p.count = 42;
            noreply().event_timeout(event(secs(10)).hibernate())
        });
        wait_timers(rt, 1);
        rt.advance(secs(10));
        expect_event(&probe, is_event);

        arm(rt, &server, event(secs(10)).hibernate());
        mark(&server, "cancels");
        expect_event(&probe, |e| *e == Ev::Mark("cancels"));
        wait_timers(rt, 0);
        rt.advance(secs(60));
        refute_event(&probe, is_event);

        let gate = Gate::new();
        let _opener = gate.opener();
        hold_then(&probe, &server, &gate, || {
            noreply().event_timeout(event(Duration::ZERO).hibernate())
        });
        mark(&server, "queued");
        wait_queued(rt, server.pid().unwrap(), 1);
        gate.open();
        assert_eq!(events(&probe, 2), [Ev::Info("event"), Ev::Mark("queued")]);
        assert_eq!(ask(&server, |p, _| p.count), 42);
    });
}

/// Rule 81, `{abs, true}`: the deadline is a time on the runtime clock,
/// not a delay from the callback's return.
#[test]
fn rule_81_absolute_deadline_is_a_time_on_the_runtime_clock() {
    each_virtual_runtime(|rt| {
        let probe = Probe::spawn(rt);
        let server = puppet(rt, &probe);
        rt.advance(secs(5));
        let at = EventTimeout::at(secs(10), Note::Tag("event"));
        assert_eq!(at.deadline(), Deadline::At(secs(10)));
        // Armed at t = 5 s for t = 10 s: fires 5 s later, not 10.
        arm(rt, &server, at);
        rt.advance(ms(4999));
        refute_event(&probe, is_event);
        rt.advance(ms(1));
        expect_event(&probe, is_event);
        assert_eq!(rt.now(), secs(10));
    });
}

/// Rule 81, `{abs, true}` with a deadline that has passed: it fires like a
/// timer that has just expired — at once with an empty mailbox, but behind
/// a queued message, which cancels it.
#[test]
fn rule_81_a_passed_absolute_deadline_fires_like_an_expired_timer() {
    each_virtual_runtime(|rt| {
        let probe = Probe::spawn(rt);
        let server = puppet(rt, &probe);
        rt.advance(secs(5));
        let passed = || EventTimeout::at(secs(1), Note::Tag("event"));
        cast(&server, move |_, _| noreply().event_timeout(passed()));
        expect_event(&probe, is_event);
        assert_eq!(rt.now(), secs(5));

        let gate = Gate::new();
        let _opener = gate.opener();
        hold_then(&probe, &server, &gate, move || {
            noreply().event_timeout(passed())
        });
        mark(&server, "queued");
        wait_queued(rt, server.pid().unwrap(), 1);
        gate.open();
        assert_eq!(events(&probe, 1), [Ev::Mark("queued")]);
        refute_event(&probe, is_event);
    });
}

/// Rule 81 with rule 78: like the plain timeout, an event timeout is not
/// sticky; a cancelled event timeout leaves nothing behind, so a later
/// plain timeout fires as `Info::Timeout`, not with the old message.
#[test]
fn rule_81_each_result_decides_afresh() {
    each_virtual_runtime(|rt| {
        let probe = Probe::spawn(rt);
        let server = puppet(rt, &probe);
        arm(rt, &server, event(secs(10)));
        rt.advance(secs(10));
        expect_event(&probe, is_event);
        rt.advance(secs(60));
        refute_event(&probe, is_event);

        // Cancelled by a cast that arms a plain timeout instead.
        arm(rt, &server, event(secs(10)));
        cast(&server, |_, _| noreply().timeout(secs(10)));
        settle(&server);
        assert_eq!(rt.stats().timers, 1, "only the plain timeout is armed");
        rt.advance(secs(10));
        expect_event(&probe, |e| *e == Ev::Timeout);
        refute_event(&probe, is_event);

        // And the other way round: an event timeout replaces a plain one.
        cast(&server, |_, _| noreply().timeout(secs(10)));
        cast(&server, |_, _| noreply().event_timeout(event(secs(10))));
        settle(&server);
        assert_eq!(rt.stats().timers, 1, "only the event timeout is armed");
        rt.advance(secs(10));
        expect_event(&probe, is_event);
        refute_event(&probe, |e| *e == Ev::Timeout);
    });
}

/// Rules 78 and 81: a timeout too long for the clock (a century or more)
/// waits forever, like `infinity`, instead of crashing the server — plain,
/// relative or absolute.
#[test]
fn rule_81_a_timeout_too_long_for_the_clock_waits_forever() {
    each_virtual_runtime(|rt| {
        let probe = Probe::spawn(rt);
        let server = puppet(rt, &probe);
        cast(&server, |_, _| noreply().timeout(Duration::MAX));
        settle(&server);
        cast(&server, |_, _| {
            noreply().event_timeout(event(Duration::MAX))
        });
        settle(&server);
        cast(&server, |_, _| {
            noreply().event_timeout(EventTimeout::at(Duration::MAX, Note::Tag("event")))
        });
        settle(&server);
        assert!(server.is_alive());
        assert_eq!(rt.stats().timers, 0);
        rt.advance(secs(365 * 24 * 3600));
        refute_event(&probe, |e| is_event(e) || *e == Ev::Timeout);
    });
}
