//! Callback results: rules 72-77 (handle_call results, deferred replies,
//! the order of stop-with-reply, cast/info/continue results, panics in
//! callbacks). Rule 76 (bad return values) cannot be written in Rust: an
//! ill-formed result does not compile (R3).

mod common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::*;
use rotp_gen_server::{noreply, stop, CallError, Ctx, Handled, Then};
use rotp_runtime::testing::Probe;
use rotp_runtime::ExitReason;

/// Rule 72: `reply_to.reply(v)` with each follow-up: none, an inactivity
/// timeout, hibernate, a continue. The caller gets `v` in each case and the
/// follow-up happens.
#[test]
fn rule_72_reply_with_each_follow_up() {
    each_virtual_runtime(|rt| {
        let probe = Probe::spawn(rt);
        let server = puppet(rt, &probe);
        assert_eq!(
            unval::<u8>(call_with(&server, |_, r, _| answer(r, 1_u8)).unwrap()),
            1
        );

        let r = call_with(&server, |_, r, _| {
            r.reply(val(2_u8)).timeout(Duration::from_secs(1))
        });
        assert_eq!(unval::<u8>(r.unwrap()), 2);
        wait_timers(rt, 1);
        rt.advance(Duration::from_secs(1));
        expect_event(&probe, |e| *e == Ev::Timeout);

        let r = call_with(&server, |_, r, _| r.reply(val(3_u8)).hibernate());
        assert_eq!(unval::<u8>(r.unwrap()), 3);

        let r = call_with(&server, |_, r, _| {
            r.reply(val(4_u8)).then_continue(job(|p, _| {
                p.report(Ev::Mark("continued"));
                noreply()
            }))
        });
        assert_eq!(unval::<u8>(r.unwrap()), 4);
        expect_event(&probe, |e| *e == Ev::Mark("continued"));
        assert!(server.is_alive());
    });
}

/// Rule 72: `noreply()` with a timeout follow-up: the reply comes
/// from `handle_info(Timeout)` (OTP's delayed answer).
#[test]
fn rule_72_noreply_with_a_timeout_then_a_deferred_answer() {
    each_virtual_runtime(|rt| {
        let probe = Probe::spawn(rt);
        let server = puppet(rt, &probe);
        ask(&server, |p, _| {
            p.after_info = Some(Box::new(|p, _| {
                for d in p.deferred.drain(..) {
                    d.send(val("delayed answer"));
                }
                noreply()
            }))
        });
        let s = server.clone();
        let pending = in_thread(move || {
            s.call(call_job(|p, r, _| {
                p.deferred.push(r);
                noreply().timeout(Duration::from_secs(2))
            }))
            .map(unval::<&str>)
        });
        // The caller's 5 s timeout and the server's 2 s inactivity timeout.
        wait_timers(rt, 2);
        rt.advance(Duration::from_secs(2));
        assert_eq!(finished(&pending), Ok("delayed answer"));
    });
}

/// Rule 72: `reply_to.stop(reason, v)` answers `v` and exits with
/// `reason`; `stop(reason)` fails the call with `reason`.
#[test]
fn rule_72_stop_with_and_without_a_reply() {
    each_runtime(|rt| {
        let probe = Probe::spawn(rt);
        let server = puppet(rt, &probe);
        let r = call_with(&server, |_, r, _| r.stop("done", val("bye")));
        assert_eq!(unval::<&str>(r.unwrap()), "bye");
        expect_event(&probe, |e| *e == Ev::Terminate(ExitReason::custom("done")));
        assert_eq!(exit_reason(&server), ExitReason::custom("done"));

        let server = puppet(rt, &probe);
        let r = call_with(&server, |_, _, _| stop("done"));
        assert_eq!(err(r), CallError::Exited(ExitReason::custom("done")));
        expect_event(&probe, |e| *e == Ev::Terminate(ExitReason::custom("done")));
        assert_eq!(exit_reason(&server), ExitReason::custom("done"));
    });
}

/// Rule 73: a handler that neither replies nor keeps the reply port
/// leaves the caller to time out — at the timeout, not before; so does a
/// reply port kept and later dropped unanswered.
#[test]
fn rule_73_no_reply_means_the_caller_times_out() {
    each_virtual_runtime(|rt| {
        let probe = Probe::spawn(rt);
        let server = puppet(rt, &probe);
        for keep_and_drop in [false, true] {
            let s = server.clone();
            let pending = in_thread(move || {
                s.call(call_job(move |p, r, _| {
                    if keep_and_drop {
                        p.deferred.push(r);
                    }
                    noreply()
                }))
                .map(|_| ())
            });
            wait_timers(rt, 1);
            if keep_and_drop {
                // Queued behind the call: the kept port is dropped unanswered.
                cast(&server, |p, _| {
                    p.deferred.clear();
                    noreply()
                });
                assert_eq!(ask(&server, |p, _| p.deferred.len()), 0);
            }
            rt.advance(Duration::from_millis(4999));
            assert_pending(&pending);
            rt.advance(Duration::from_millis(1));
            assert_eq!(finished(&pending), Err(CallError::Timeout));
        }
        assert!(server.is_alive());
    });
}

/// Rule 73: a handler that keeps the reply port and returns `noreply()`
/// leaves the caller waiting; the deferred reply is the answer. (A handler
/// cannot also return a reply: answering consumes the port.)
#[test]
fn rule_73_a_deferred_call_is_answered_by_the_deferred_reply() {
    each_runtime(|rt| {
        let probe = Probe::spawn(rt);
        let server = puppet(rt, &probe);
        let s = server.clone();
        let pending = in_thread(move || {
            s.call(call_job(|p, r, _| {
                p.deferred.push(r);
                noreply()
            }))
            .map(unval::<&str>)
        });
        rotp_runtime::testing::assert_eventually(TIMEOUT, "the call is deferred", || {
            server.get_state(|p| p.deferred.len()).unwrap() == 1
        });
        assert_pending(&pending);
        cast(&server, |p, _| {
            p.deferred.pop().unwrap().send(val("deferred"));
            noreply()
        });
        assert_eq!(finished(&pending), Ok("deferred"));
    });
}

/// Rule 74: for `reply_to.stop(reason, v)` the server runs `terminate`
/// first; the caller gets `v` only after `terminate` returned; then the
/// server exits with `reason`.
#[test]
fn rule_74_stop_with_reply_runs_terminate_before_the_reply() {
    each_runtime(|rt| {
        let probe = Probe::spawn(rt);
        let server = puppet(rt, &probe);
        let mref = probe.monitor(server.pid().unwrap());
        let order = Arc::new(Mutex::new(Vec::new()));
        let gate = Gate::new();
        let _opener = gate.opener();
        let (g, o) = (gate.clone(), order.clone());
        let s = server.clone();
        let o2 = order.clone();
        let pending = in_thread(move || {
            let r = s.call(call_job(move |p, r, _| {
                p.on_terminate = Some(Box::new(move |_, _| {
                    g.wait_blocking();
                    o.lock().unwrap().push("terminate returned");
                }));
                r.stop("done", val("reply"))
            }));
            o2.lock().unwrap().push("reply received");
            r.map(unval::<&str>)
        });
        expect_event(&probe, |e| *e == Ev::Terminate(ExitReason::custom("done")));
        assert_pending(&pending);
        gate.open();
        assert_eq!(finished(&pending), Ok("reply"));
        assert_eq!(
            *order.lock().unwrap(),
            ["terminate returned", "reply received"]
        );
        assert_eq!(down_reason(&probe, mref), ExitReason::custom("done"));
    });
}

/// Rules 74 and 90: the reply of `ReplyTo::stop` is sent even if `terminate`
/// panics; the server then exits with the panic.
#[test]
fn rule_74_the_reply_is_sent_even_if_terminate_panics() {
    each_runtime(|rt| {
        let probe = Probe::spawn(rt);
        let server = puppet(rt, &probe);
        let mref = probe.monitor(server.pid().unwrap());
        let r = call_with(&server, |p, r, _| {
            p.on_terminate = Some(Box::new(|_, _| panic!("terminate exploded")));
            r.stop("done", val("reply"))
        });
        assert_eq!(unval::<&str>(r.unwrap()), "reply");
        let reason = down_reason(&probe, mref);
        assert!(
            matches!(&reason, ExitReason::Panic(p) if p.message == "terminate exploded"),
            "{reason}"
        );
    });
}

/// Rule 75: handle_cast, handle_info and handle_continue may each carry on,
/// carry on with a timeout or a continue, or stop (running `terminate`).
#[test]
fn rule_75_cast_info_and_continue_results() {
    each_virtual_runtime(|rt| {
        let probe = Probe::spawn(rt);
        // Runs `result` as a cast, an info, or a continue (after a cast).
        let deliver =
            |server: &rotp_gen_server::ServerRef<Puppet>, via: &str, result: Job| match via {
                "cast" => server.cast(result),
                "info" => server.send_info(Note::Run(result)),
                _ => server.cast(job(move |_, _| noreply().then_continue(result))),
            };
        for via in ["cast", "info", "continue"] {
            let server = puppet(rt, &probe);
            deliver(
                &server,
                via,
                job(|p, _| {
                    p.count += 1;
                    noreply()
                }),
            );
            assert_eq!(ask(&server, |p, _| p.count), 1, "{via}: noreply");

            deliver(
                &server,
                via,
                job(|_, _| noreply().timeout(Duration::from_secs(1))),
            );
            wait_timers(rt, 1);
            rt.advance(Duration::from_secs(1));
            expect_event(&probe, |e| *e == Ev::Timeout);

            deliver(&server, via, job(|_, _| noreply().hibernate()));
            deliver(
                &server,
                via,
                job(|_, _| {
                    noreply().then_continue(job(|p, _| {
                        p.report(Ev::Mark("continued"));
                        noreply()
                    }))
                }),
            );
            expect_event(&probe, |e| *e == Ev::Mark("continued"));

            deliver(&server, via, job(|_, _| stop("stopped")));
            expect_event(&probe, |e| {
                *e == Ev::Terminate(ExitReason::custom("stopped"))
            });
            assert_eq!(exit_reason(&server), ExitReason::custom("stopped"), "{via}");
        }
    });
}

/// Rule 77: a panic in any callback runs `terminate` with the panic as the
/// reason, then the server exits with it; a caller waiting on a panicking
/// `handle_call` gets it too.
#[test]
fn rule_77_a_panicking_callback_runs_terminate_and_exits_with_the_panic() {
    each_runtime(|rt| {
        let probe = Probe::spawn(rt);
        for via in ["call", "cast", "info", "continue"] {
            let server = puppet(rt, &probe);
            let mref = probe.monitor(server.pid().unwrap());
            match via {
                "call" => {
                    let e = err(call_with(&server, |_, _, _| panic!("callback exploded")));
                    assert!(
                        matches!(e, CallError::Exited(ExitReason::Panic(_))),
                        "{e:?}"
                    );
                }
                "cast" => cast(&server, |_, _| panic!("callback exploded")),
                "info" => server.send_info(Note::Run(job(|_, _| panic!("callback exploded")))),
                _ => cast(&server, |_, _| {
                    noreply().then_continue(job(|_, _| panic!("callback exploded")))
                }),
            }
            let Ev::Terminate(reason) = expect_event(&probe, |e| matches!(e, Ev::Terminate(_)))
            else {
                unreachable!()
            };
            assert!(
                matches!(&reason, ExitReason::Panic(p) if p.message == "callback exploded"
                    && p.location.as_deref().is_some_and(|l| l.contains("gen_server_results.rs"))),
                "{via}: {reason}"
            );
            assert_eq!(down_reason(&probe, mref), reason, "{via}");
        }
    });
}

/// `?` in a handler (rule 75's stop, written as an error): an error stops
/// the server with the error's text as the reason; `terminate` runs with
/// it, and a caller waiting on the call gets it — from `handle_call`,
/// `handle_cast`, `handle_info` and `handle_continue`.
#[test]
fn question_mark_in_a_handler_stops_the_server_with_the_error() {
    let reason = ExitReason::custom("300".parse::<u8>().unwrap_err());
    each_runtime(|rt| {
        let probe = Probe::spawn(rt);
        for via in ["call", "cast", "info", "continue"] {
            let server = puppet(rt, &probe);
            let failing = |p: &mut Puppet, _: &mut Ctx<'_, Puppet>| -> Handled<Puppet> {
                let small: u8 = "300".parse()?;
                p.count = i64::from(small);
                noreply()
            };
            match via {
                "call" => {
                    let e = call_with(&server, move |p, r, ctx| {
                        failing(p, ctx)?;
                        answer(r, ())
                    });
                    assert_eq!(err(e), CallError::Exited(reason.clone()));
                }
                "cast" => cast(&server, failing),
                "info" => server.send_info(Note::Run(job(failing))),
                _ => cast(&server, move |_, _| noreply().then_continue(job(failing))),
            }
            expect_event(&probe, |e| *e == Ev::Terminate(reason.clone()));
            assert_eq!(exit_reason(&server), reason, "{via}");
        }
    });
}
