//! Calls: rules 58-68 (default timeout, errors as values, noproc,
//! calling_self, the server dying mid-call, replies, timeouts and late
//! replies, deferred replies, the async request API), call cycles and deep
//! chains of nested calls.

mod common;

use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::Arc;
use std::time::Duration;

use common::*;
use rotp_gen_server::{
    noreply, reply, start, stop, CallError, ReplyTo, RequestId, ServerRef, StartOptions, StopError,
    DEFAULT_CALL_TIMEOUT,
};
use rotp_runtime::testing::Probe;
use rotp_runtime::{ExitReason, Pid};

/// Style: handles to servers are cheap to clone and shareable.
#[test]
fn server_ref_is_clone_send_sync() {
    fn pin<T: Clone + Send + Sync>() {}
    pin::<ServerRef<Puppet>>();
}

/// Rule 58: `call` waits 5 seconds for the reply — on the runtime clock,
/// here virtual — for callers on plain threads and inside processes.
#[test]
fn rule_58_default_call_timeout_is_5s_on_the_virtual_clock() {
    assert_eq!(DEFAULT_CALL_TIMEOUT, Duration::from_secs(5));
    each_virtual_runtime(|rt| {
        let probe = Probe::spawn(rt);
        let server = puppet(rt, &probe);
        let caller = host(rt, &probe);
        for in_process in [false, true] {
            let s = server.clone();
            let pending = if in_process {
                host_spawn(&caller, move |_| s.call(call_job(defer_call)).map(|_| ()))
            } else {
                in_thread(move || s.call(call_job(defer_call)).map(|_| ()))
            };
            wait_timers(rt, 1);
            rt.advance(Duration::from_millis(4999));
            assert_pending(&pending);
            rt.advance(Duration::from_millis(1));
            assert_eq!(
                finished(&pending),
                Err(CallError::Timeout),
                "in a process: {in_process}"
            );
            wait_timers(rt, 0);
        }
    });
}

/// Rule 58: `call_timeout(_, None)` waits however long it takes.
#[test]
fn rule_58_no_timeout_waits_forever() {
    each_virtual_runtime(|rt| {
        let probe = Probe::spawn(rt);
        let server = puppet(rt, &probe);
        let s = server.clone();
        let pending =
            in_thread(move || s.call_timeout(call_job(defer_call), None).map(unval::<i32>));
        assert_eventually_deferred(&server, 1);
        rt.advance(Duration::from_secs(24 * 3600));
        assert_pending(&pending);
        cast(&server, |p, _| {
            p.deferred.pop().unwrap().send(val(7));
            noreply()
        });
        assert_eq!(finished(&pending), Ok(7));
    });
}

/// Waits until the puppet holds `n` deferred replies.
#[track_caller]
fn assert_eventually_deferred(server: &ServerRef<Puppet>, n: usize) {
    rotp_runtime::testing::assert_eventually(TIMEOUT, "the call reaches the server", || {
        server.get_state(move |p| p.deferred.len()).unwrap() == n
    });
}

/// Rule 59: a failed call does not exit the caller: it is a value, and
/// `CallError::reason` gives the reason OTP's caller would exit with.
#[test]
fn rule_59_a_failed_call_is_a_value_not_a_crash() {
    each_runtime(|rt| {
        let probe = Probe::spawn(rt);
        let caller = host(rt, &probe);
        let gone = ServerRef::<Puppet>::named(rt, "r59-nobody");
        let result = in_host(&caller, move |_| {
            gone.call(call_job(defer_call)).map(|_| ())
        });
        assert_eq!(result, Err(CallError::NoProc));
        assert_eq!(
            in_host(&caller, |ctx| ctx.pid()),
            caller.pid(),
            "the caller lives on"
        );

        assert_eq!(CallError::Timeout.reason(), ExitReason::Timeout);
        assert_eq!(CallError::NoProc.reason(), ExitReason::NoProc);
        assert_eq!(
            CallError::Exited(ExitReason::custom("x")).reason(),
            ExitReason::custom("x")
        );
    });
}

/// Rule 60: calling a name nobody holds, or a server that has exited,
/// fails at once with `NoProc` (no time passes on the virtual clock).
#[test]
fn rule_60_noproc_for_missing_names_and_dead_servers() {
    each_virtual_runtime(|rt| {
        let probe = Probe::spawn(rt);
        let nobody = ServerRef::<Puppet>::named(rt, "r60-nobody");
        assert_eq!(
            err(bounded(move || nobody.call(call_job(defer_call)))),
            CallError::NoProc
        );
        assert!(ServerRef::<Puppet>::whereis(rt, "r60-nobody").is_none());

        let server = puppet(rt, &probe);
        server.stop(ExitReason::Normal, None).unwrap();
        let s = server.clone();
        assert_eq!(
            err(bounded(move || s.call(call_job(defer_call)))),
            CallError::NoProc
        );
        assert_eq!(rt.now(), Duration::ZERO);
    });
}

/// Rule 61: a server calling itself — by handle, by name, from any
/// callback, even without a timeout — fails at once with `CallingSelf`;
/// so do its `sys` requests and `stop` on itself.
#[test]
fn rule_61_calling_self_fails_at_once() {
    each_virtual_runtime(|rt| {
        let probe = Probe::spawn(rt);
        let server = start::<Puppet>(rt, script(&probe), StartOptions::new().name("r61")).unwrap();
        let results = ask(&server, |_, ctx| {
            let by_pid = ctx.server_ref();
            let by_name = ServerRef::<Puppet>::named(&ctx.handle(), "r61");
            [
                err(by_pid.call_timeout(call_job(defer_call), None)),
                err(by_name.call_timeout(call_job(defer_call), None)),
                err(by_name.send_request(call_job(defer_call))),
                err(by_pid.get_state(|p| p.count)),
                err(by_pid.status()),
            ]
        });
        assert!(
            results.iter().all(|e| *e == CallError::CallingSelf),
            "{results:?}"
        );
        let stop = ask(&server, |_, ctx| {
            ctx.server_ref().stop(ExitReason::Normal, None)
        });
        assert_eq!(stop, Err(StopError::CallingSelf));

        // From handle_cast and handle_info as well.
        cast(&server, |p, ctx| {
            let e = err(ctx.server_ref().call(call_job(defer_call)));
            p.report(Ev::Mark(if e == CallError::CallingSelf {
                "cast: calling_self"
            } else {
                "cast: other"
            }));
            noreply()
        });
        expect_event(&probe, |e| *e == Ev::Mark("cast: calling_self"));
        server.send_info(Note::Run(job(|p, ctx| {
            let e = err(ctx.server_ref().call(call_job(defer_call)));
            p.report(Ev::Mark(if e == CallError::CallingSelf {
                "info: calling_self"
            } else {
                "info: other"
            }));
            noreply()
        })));
        expect_event(&probe, |e| *e == Ev::Mark("info: calling_self"));
        assert!(server.is_alive());
        assert_eq!(rt.now(), Duration::ZERO);
    });
}

/// Rule 62: a server that exits before replying fails the call with its
/// exit reason: a stop without reply, a panic, a `stop` or a kill while the
/// caller waits.
#[test]
fn rule_62_server_death_fails_the_pending_call_with_its_reason() {
    each_virtual_runtime(|rt| {
        let probe = Probe::spawn(rt);

        let server = puppet(rt, &probe);
        let r = call_with(&server, |_, _, _| stop(ExitReason::custom("bye")));
        assert_eq!(err(r), CallError::Exited(ExitReason::custom("bye")));

        let server = puppet(rt, &probe);
        let r = call_with(&server, |_, _, _| stop(ExitReason::Normal));
        assert_eq!(err(r), CallError::Exited(ExitReason::Normal));

        let server = puppet(rt, &probe);
        let r = call_with(&server, |_, _, _| panic!("handler exploded"));
        let e = err(r);
        assert!(
            matches!(&e, CallError::Exited(ExitReason::Panic(p)) if p.message == "handler exploded"),
            "{e:?}"
        );

        for how in ["stop", "kill"] {
            let server = puppet(rt, &probe);
            let s = server.clone();
            let pending = in_thread(move || s.call(call_job(defer_call)).map(|_| ()));
            assert_eventually_deferred(&server, 1);
            if how == "stop" {
                server.stop(ExitReason::Shutdown, None).unwrap();
                assert_eq!(
                    finished(&pending),
                    Err(CallError::Exited(ExitReason::Shutdown))
                );
            } else {
                rt.kill(server.pid().unwrap());
                assert_eq!(
                    finished(&pending),
                    Err(CallError::Exited(ExitReason::Killed))
                );
            }
        }
        assert_eq!(rt.now(), Duration::ZERO, "no call waited for its timeout");
    });
}

/// Rule 63: the reply comes from `ReplyTo::reply`, from `ReplyTo::stop`
/// with a reply, or from a later deferred reply.
#[test]
fn rule_63_reply_values() {
    each_runtime(|rt| {
        let probe = Probe::spawn(rt);
        let server = puppet(rt, &probe);
        assert_eq!(
            unval::<&str>(call_with(&server, |_, r, _| answer(r, "direct")).unwrap()),
            "direct"
        );

        let s = server.clone();
        let pending = in_thread(move || s.call(call_job(defer_call)).map(unval::<&str>));
        assert_eventually_deferred(&server, 1);
        cast(&server, |p, _| {
            p.deferred.pop().unwrap().send(val("later"));
            noreply()
        });
        assert_eq!(finished(&pending), Ok("later"));

        let r = call_with(&server, |_, r, _| {
            r.stop(ExitReason::Normal, val("last words"))
        });
        assert_eq!(unval::<&str>(r.unwrap()), "last words");
    });
}

/// Rule 64: each call is answered through its own channel: two callers
/// answered in reverse order each get their own reply.
#[test]
fn rule_64_each_call_gets_its_own_reply() {
    each_runtime(|rt| {
        let probe = Probe::spawn(rt);
        let server = puppet(rt, &probe);
        let pending: Vec<_> = (0..2)
            .map(|i| {
                let s = server.clone();
                let rx = in_thread(move || s.call(call_job(defer_call)).map(unval::<usize>));
                assert_eventually_deferred(&server, i + 1);
                rx
            })
            .collect();
        // Answer the second caller first, each with its index.
        cast(&server, |p, _| {
            let second = p.deferred.pop().unwrap();
            let first = p.deferred.pop().unwrap();
            second.send(val(1_usize));
            first.send(val(0_usize));
            noreply()
        });
        for (i, rx) in pending.iter().enumerate() {
            assert_eq!(finished(rx), Ok(i));
        }
    });
}

/// Rule 64: a call from a process with a long mailbox is answered at once,
/// and the messages waiting in the caller's mailbox are left untouched, in
/// order.
#[test]
fn rule_64_a_call_leaves_the_callers_mailbox_alone() {
    each_runtime(|rt| {
        let probe = Probe::spawn(rt);
        let server = puppet(rt, &probe);
        let caller = host(rt, &probe);
        let gate = Gate::new();
        let _opener = gate.opener();
        let g = gate.clone();
        let s = server.clone();
        let answered = host_spawn(&caller, move |_| {
            g.wait_blocking();
            s.call(call_job(|_, r, _| answer(r, 42_u32)))
                .map(unval::<u32>)
        });
        // Fill the caller's mailbox while it is held, then let it call.
        let (tx, rx) = std::sync::mpsc::channel();
        for i in 0..1000 {
            let tx = tx.clone();
            host_cast(&caller, move |_| tx.send(i).unwrap());
        }
        gate.open();
        assert_eq!(finished(&answered), Ok(42));
        let seen: Vec<i32> = (0..1000)
            .map(|_| rx.recv_timeout(TIMEOUT).unwrap())
            .collect();
        assert_eq!(seen, (0..1000).collect::<Vec<_>>());
    });
}

/// Rule 65: when a call times out the server is not told: it still holds
/// the request (its reply port now reports the caller gone), and a
/// request queued behind a busy server is still handled after the timeout.
#[test]
fn rule_65_a_timed_out_request_stays_with_the_server() {
    each_virtual_runtime(|rt| {
        let probe = Probe::spawn(rt);
        let server = puppet(rt, &probe);
        let s = server.clone();
        let pending = in_thread(move || {
            s.call_timeout(call_job(defer_call), Some(Duration::from_secs(1)))
                .map(|_| ())
        });
        wait_timers(rt, 1);
        rt.advance(Duration::from_secs(1));
        assert_eq!(finished(&pending), Err(CallError::Timeout));
        assert_eq!(
            ask(&server, |p, _| p
                .deferred
                .iter()
                .map(|d| d.is_abandoned())
                .collect::<Vec<_>>()),
            vec![true]
        );

        // Queued behind a busy server: handled after the caller gave up.
        let gate = Gate::new();
        let _opener = gate.opener();
        hold(&server, &probe, &gate);
        let s = server.clone();
        let pending = in_thread(move || {
            s.call_timeout(
                call_job(|p, r, _| {
                    p.count += 1;
                    answer(r, ())
                }),
                Some(Duration::from_secs(1)),
            )
            .map(|_| ())
        });
        wait_timers(rt, 1);
        rt.advance(Duration::from_secs(1));
        assert_eq!(finished(&pending), Err(CallError::Timeout));
        gate.open();
        assert_eq!(ask(&server, |p, _| p.count), 1);
    });
}

/// Rule 65 for a caller inside a process whose callee was idle: the caller
/// gets `Timeout` when its timeout expires, while the handler still runs
/// (it waits for a gate that opens only after the call has returned). A
/// caller with a timeout never runs the handler on its own thread.
#[test]
fn rule_65_a_caller_in_a_process_times_out_while_the_handler_runs() {
    each_virtual_runtime(|rt| {
        let probe = Probe::spawn(rt);
        let server = puppet(rt, &probe);
        let caller = host(rt, &probe);
        let gate = Gate::new();
        let _opener = gate.opener();
        let g = gate.clone();
        let s = server.clone();
        let pending = host_spawn(&caller, move |_| {
            s.call(call_job(move |p, r, _| {
                p.report(Ev::Mark("handling"));
                g.wait_blocking();
                answer(r, ())
            }))
            .map(|_| ())
        });
        expect_event(&probe, |e| *e == Ev::Mark("handling"));
        wait_timers(rt, 1);
        rt.advance(Duration::from_secs(5));
        assert_eq!(finished(&pending), Err(CallError::Timeout));
        gate.open();
    });
}

/// Rule 66: a reply sent after the caller timed out is dropped — the
/// sender learns nobody listened — and never reaches the caller's next
/// call, from a thread or from a process.
#[test]
fn rule_66_late_replies_never_confuse_a_later_call() {
    each_virtual_runtime(|rt| {
        let probe = Probe::spawn(rt);
        let server = puppet(rt, &probe);
        let caller = host(rt, &probe);
        for in_process in [false, true] {
            let s = server.clone();
            let both_calls = move || {
                let first = s.call_timeout(call_job(defer_call), Some(Duration::from_secs(1)));
                // The late reply goes out before the second call is handled.
                s.cast(job(|p, _| {
                    let listened = p.deferred.pop().unwrap().send(val("late"));
                    p.log.push(format!("late reply delivered: {listened}"));
                    noreply()
                }));
                let second = s.call(call_job(|_, r, _| answer(r, "fresh")));
                (first.map(unval::<&str>), second.map(unval::<&str>))
            };
            let pending = if in_process {
                host_spawn(&caller, move |_| both_calls())
            } else {
                in_thread(both_calls)
            };
            wait_timers(rt, 1);
            rt.advance(Duration::from_secs(1));
            let (first, second) = finished(&pending);
            assert_eq!(first, Err(CallError::Timeout));
            assert_eq!(second, Ok("fresh"));
            let log = ask(&server, |p, _| std::mem::take(&mut p.log));
            assert_eq!(log, vec!["late reply delivered: false".to_owned()]);
        }
    });
}

/// Rule 67: a deferred reply can be sent by anyone holding it — the server
/// later, another process, a plain std thread — with `ReplyTo::send`
/// or `rotp_gen_server::reply`; it reports whether the caller still
/// listened, and replying to a caller that gave up is harmless.
#[test]
fn rule_67_deferred_reply_from_anywhere() {
    each_virtual_runtime(|rt| {
        let probe = Probe::spawn(rt);
        let server = puppet(rt, &probe);
        let helper = puppet(rt, &probe);

        // From a spawned std thread.
        let s = server.clone();
        let pending = in_thread(move || {
            s.call(call_job(|_, d, _| {
                assert_eq!(d.pid(), None, "a plain thread is no process");
                std::thread::spawn(move || assert!(reply(d, val("from a thread"))));
                noreply()
            }))
            .map(unval::<&str>)
        });
        assert_eq!(finished(&pending), Ok("from a thread"));

        // From another process, to a caller that is a process.
        let caller = host(rt, &probe);
        let caller_pid = caller.pid();
        let s = server.clone();
        let h = helper.clone();
        let pending = host_spawn(&caller, move |_| {
            s.call(call_job(move |_, d, _| {
                assert_eq!(d.pid(), Some(caller_pid));
                h.cast(job(move |p, _| {
                    let listened = d.send(val("from a helper"));
                    p.log.push(format!("{listened}"));
                    noreply()
                }));
                noreply()
            }))
            .map(unval::<&str>)
        });
        assert_eq!(finished(&pending), Ok("from a helper"));
        assert_eq!(ask(&helper, |p, _| p.log.clone()), vec!["true".to_owned()]);

        // To a caller that gave up.
        let s = server.clone();
        let pending = in_thread(move || {
            s.call_timeout(call_job(defer_call), Some(Duration::from_secs(1)))
                .map(|_| ())
        });
        wait_timers(rt, 1);
        rt.advance(Duration::from_secs(1));
        assert_eq!(finished(&pending), Err(CallError::Timeout));
        assert!(!ask(&server, |p, _| reply(
            p.deferred.pop().unwrap(),
            val("nobody listens")
        )));
        assert!(server.is_alive());
    });
}

/// Rule 68: `send_request` with `receive_response`, `wait_response`
/// (repeatable after a timeout) and `check_response`; `receive_response`
/// abandons the request on timeout.
#[test]
fn rule_68_send_request_and_its_responses() {
    each_virtual_runtime(|rt| {
        let probe = Probe::spawn(rt);
        let server = puppet(rt, &probe);

        let req = server
            .send_request(call_job(|_, r, _| answer(r, 1_u8)))
            .unwrap();
        assert_eq!(
            bounded(move || req.receive_response(None).map(unval::<u8>)),
            Ok(1)
        );

        // wait_response: times out, stays pending, and can be waited on again.
        let mut req = server.send_request(call_job(defer_call)).unwrap();
        assert!(req.check_response().is_none());
        assert_eventually_deferred(&server, 1);
        let pending = in_thread(move || {
            let first = req.wait_response(Some(Duration::from_secs(1))).map(|_| ());
            (first, req)
        });
        wait_timers(rt, 1);
        rt.advance(Duration::from_secs(1));
        let (first, mut req) = finished(&pending);
        assert_eq!(first, Err(CallError::Timeout));
        assert!(
            ask(&server, |p, _| p.deferred.pop().unwrap().send(val(2_u8))),
            "still listened to"
        );
        assert_eq!(
            bounded(move || req.wait_response(None).map(unval::<u8>)),
            Ok(2)
        );

        // check_response: None until the reply is there.
        let mut req = server.send_request(call_job(defer_call)).unwrap();
        assert_eventually_deferred(&server, 1);
        assert!(req.check_response().is_none());
        cast(&server, |p, _| {
            p.deferred.pop().unwrap().send(val(3_u8));
            noreply()
        });
        rotp_runtime::testing::assert_eventually(TIMEOUT, "the reply arrives", || {
            req.check_response().is_some_and(|v| unval::<u8>(v) == 3)
        });

        // receive_response abandons on timeout: a late reply finds nobody.
        let req = server.send_request(call_job(defer_call)).unwrap();
        assert_eventually_deferred(&server, 1);
        let pending = in_thread(move || {
            req.receive_response(Some(Duration::from_secs(1)))
                .map(|_| ())
        });
        wait_timers(rt, 1);
        rt.advance(Duration::from_secs(1));
        assert_eq!(finished(&pending), Err(CallError::Timeout));
        assert!(!ask(&server, |p, _| p
            .deferred
            .pop()
            .unwrap()
            .send(val(4_u8))));

        // The server dying ends the wait with its reason.
        let req = server
            .send_request(call_job(|_, _, _| stop("gone")))
            .unwrap();
        assert_eq!(
            err(bounded(move || req.receive_response(None))),
            CallError::Exited(ExitReason::custom("gone"))
        );
    });
}

/// A call cycle A → B → A between idle servers fails with `Deadlock`
/// naming the cycle, instead of waiting out the timeout (no virtual time
/// passes).
#[test]
fn a_call_cycle_fails_with_deadlock() {
    each_virtual_runtime(|rt| {
        let probe = Probe::spawn(rt);
        let a = puppet(rt, &probe);
        let b = puppet(rt, &probe);
        let pending = call_cycle(&a, &b);
        expect_deadlock(finished(&pending), &[a.pid().unwrap(), b.pid().unwrap()]);
        assert_eq!(rt.now(), Duration::ZERO);
        assert!(a.is_alive() && b.is_alive());
    });
}

/// The same cycle when B is busy as A calls it, so that A really blocks:
/// B's call back to A fails with `Deadlock`.
#[test]
fn a_call_cycle_through_a_busy_server_fails_with_deadlock() {
    each_virtual_runtime(|rt| {
        let probe = Probe::spawn(rt);
        let a = puppet(rt, &probe);
        let b = puppet(rt, &probe);
        let gate = Gate::new();
        let _opener = gate.opener();
        hold(&b, &probe, &gate);
        let pending = call_cycle(&a, &b);
        // Two call timeouts: the client's (a plain thread with a timeout
        // never runs A's handler itself) and A's, waiting on B.
        wait_timers(rt, 2);
        gate.open();
        expect_deadlock(finished(&pending), &[a.pid().unwrap(), b.pid().unwrap()]);
        assert_eq!(rt.now(), Duration::ZERO);
        assert!(a.is_alive() && b.is_alive());
    });
}

/// What the client's call to A gives: A's answer is what B's call gave,
/// B's answer is what its call back to A gave.
type CycleResult = Result<Result<Result<(), CallError>, CallError>, CallError>;

/// From a thread, calls A, whose handler calls B, whose handler calls A
/// back; returns what B's call to A gave (as seen by the client).
fn call_cycle(
    a: &ServerRef<Puppet>,
    b: &ServerRef<Puppet>,
) -> std::sync::mpsc::Receiver<CycleResult> {
    let (a1, a2, b1) = (a.clone(), a.clone(), b.clone());
    in_thread(move || {
        a1.call(call_job(move |_, r, _| {
            let back = call_job(move |_, r, _| {
                answer(r, a2.call(call_job(|_, r, _| answer(r, ()))).map(|_| ()))
            });
            answer(r, b1.call(back).map(unval::<Result<(), CallError>>))
        }))
        .map(unval::<Result<Result<(), CallError>, CallError>>)
    })
}

#[track_caller]
fn expect_deadlock(r: CycleResult, pids: &[Pid]) {
    match r {
        Ok(Ok(Err(CallError::Deadlock(cycle)))) => {
            assert!(pids.iter().all(|p| cycle.contains(p)), "{cycle:?}");
        }
        other => panic!("expected B's call back to A to fail with Deadlock, got {other:?}"),
    }
}

/// A request that walks `rest`: each server calls the next with it and
/// adds 1 to the answer; the last server answers 1.
fn hop(rest: Vec<ServerRef<Puppet>>) -> impl FnOnce(ReplyTo<Val>) -> CallJob {
    call_job(move |_, r, _| {
        let mut rest = rest;
        if rest.is_empty() {
            return answer(r, Ok::<usize, CallError>(1));
        }
        let next = rest.remove(0);
        let below = next
            .call(hop(rest))
            .and_then(unval::<Result<usize, CallError>>);
        answer(r, below.map(|n| n + 1))
    })
}

/// A chain of 10 nested calls — each server's handler blocked in a call to
/// the next — completes on a 1-worker runtime (and on 2 and 8), from a
/// thread and from a process; so does a chain deeper than the runtime's
/// inline limit.
#[test]
fn nested_call_chains_complete_even_on_one_worker() {
    each_virtual_runtime(|rt| {
        let probe = Probe::spawn(rt);
        for n in [10, 40] {
            let mut servers: Vec<_> = (0..n).map(|_| puppet(rt, &probe)).collect();
            let head = servers.remove(0);
            let (h, rest) = (head.clone(), servers.clone());
            let from_thread = bounded(move || {
                h.call(hop(rest))
                    .and_then(unval::<Result<usize, CallError>>)
            });
            assert_eq!(from_thread, Ok(n), "{n} servers, from a thread");
            let caller = host(rt, &probe);
            let from_process = in_host(&caller, move |_| {
                head.call(hop(servers))
                    .and_then(unval::<Result<usize, CallError>>)
            });
            assert_eq!(from_process, Ok(n), "{n} servers, from a process");
        }
        assert_eq!(rt.now(), Duration::ZERO);
    });
}

/// How a request's reply is waited for in [`wait_while_handled`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum WaitBy {
    /// `call_timeout(req, Some(1 s))`.
    Call,
    /// `send_request`, then `receive_response(Some(1 s))`.
    ReceiveResponse,
    /// `send_request`, then `wait_response(Some(1 s))`.
    WaitResponse,
}

/// What [`wait_while_handled`]'s caller got first, and for `wait_response`
/// the request, still pending.
type FirstWait = (Result<(), CallError>, Option<RequestId<Puppet, Val>>);

/// Rules 65-66 (and 68) every way round: a request whose handler reports
/// `handling`, then waits for a gate the test opens only after the caller's
/// 1-second wait has returned `Timeout`, then replies 7 and logs whether
/// the caller still listened. The caller is a plain thread or a process;
/// the server is idle, or busy with a held handler so that the request
/// waits in its mailbox while the caller gives up. Returns what the log
/// says and, for `wait_response`, what a second wait without a timeout
/// gets.
fn wait_while_handled(
    rt: &rotp_runtime::Runtime,
    how: WaitBy,
    in_process: bool,
    busy: bool,
) -> (Vec<String>, Option<Result<u8, CallError>>) {
    let probe = Probe::spawn(rt);
    let client = host(rt, &probe);
    let server = puppet(rt, &probe);
    let busy_gate = Gate::new();
    let _busy_opener = busy_gate.opener();
    if busy {
        hold(&server, &probe, &busy_gate);
    }
    let gate = Gate::new();
    let _opener = gate.opener();
    let g = gate.clone();
    let request = call_job(move |p, r, _| {
        p.report(Ev::Mark("handling"));
        g.wait_blocking();
        let listened = r.send(val(7_u8));
        p.log.push(format!("late reply delivered: {listened}"));
        noreply()
    });
    let s = server.clone();
    let t = Some(Duration::from_secs(1));
    let first_wait = move || -> FirstWait {
        match how {
            WaitBy::Call => (s.call_timeout(request, t).map(drop), None),
            WaitBy::ReceiveResponse => {
                let req = s.send_request(request).expect("the request is sent");
                (req.receive_response(t).map(drop), None)
            }
            WaitBy::WaitResponse => {
                let mut req = s.send_request(request).expect("the request is sent");
                (req.wait_response(t).map(drop), Some(req))
            }
        }
    };
    let pending = if in_process {
        host_spawn(&client, move |_| first_wait())
    } else {
        in_thread(first_wait)
    };
    if busy {
        wait_queued(rt, server.pid().unwrap(), 1);
    } else {
        expect_event(&probe, |e| *e == Ev::Mark("handling"));
    }
    wait_timers(rt, 1);
    rt.advance(Duration::from_secs(1));
    let what = format!("{how:?}, in a process: {in_process}, busy: {busy}");
    let (first, req) = finished(&pending);
    assert_eq!(first, Err(CallError::Timeout), "{what}");
    assert!(!gate.is_open(), "{what}: returned while the handler waits");
    if busy {
        busy_gate.open();
        expect_event(&probe, |e| *e == Ev::Mark("handling"));
    }
    gate.open();
    let second = req.map(|req| {
        let again = move || {
            let mut req = req;
            req.wait_response(None).map(unval::<u8>)
        };
        if in_process {
            in_host(&client, move |_| again())
        } else {
            bounded(again)
        }
    });
    // The caller's next call is answered with its own reply, after the
    // late one (rule 66).
    let s = server.clone();
    let next = move || s.call(call_job(|p, r, _| answer(r, std::mem::take(&mut p.log))));
    let log = if in_process {
        in_host(&client, move |_| next())
    } else {
        bounded(next)
    };
    let log = log
        .map(unval::<Vec<String>>)
        .expect("the next call succeeds");
    rt.kill(server.pid().unwrap());
    rt.kill(client.pid());
    (log, second)
}

/// Rules 65-66: from a plain thread and from a process, to an idle server
/// and to a busy one, `call_timeout(req, Some(t))` returns `Timeout` once
/// `t` has passed while the request's handler still runs (or has not
/// started yet); the server still handles the request, and its late reply
/// is dropped: the caller's next call gets its own answer.
#[test]
fn rule_65_a_call_times_out_while_its_request_is_handled() {
    each_virtual_runtime(|rt| {
        for in_process in [false, true] {
            for busy in [false, true] {
                let (log, _) = wait_while_handled(rt, WaitBy::Call, in_process, busy);
                assert_eq!(log, ["late reply delivered: false"]);
            }
        }
    });
}

/// Rules 65-66 and 68: `receive_response(Some(t))` returns `Timeout` while
/// the request is still being handled and abandons it: the late reply is
/// dropped. From a plain thread and a process, to an idle and a busy
/// server.
#[test]
fn rule_65_receive_response_times_out_while_its_request_is_handled() {
    each_virtual_runtime(|rt| {
        for in_process in [false, true] {
            for busy in [false, true] {
                let (log, _) = wait_while_handled(rt, WaitBy::ReceiveResponse, in_process, busy);
                assert_eq!(log, ["late reply delivered: false"]);
            }
        }
    });
}

/// Rules 65 and 68: `wait_response(Some(t))` returns `Timeout` while the
/// request is still being handled, but keeps the request: the reply sent
/// once the handler goes on is delivered, and a second wait gets it. From
/// a plain thread and a process, to an idle and a busy server.
#[test]
fn rule_65_wait_response_times_out_and_the_request_stays_pending() {
    each_virtual_runtime(|rt| {
        for in_process in [false, true] {
            for busy in [false, true] {
                let (log, second) = wait_while_handled(rt, WaitBy::WaitResponse, in_process, busy);
                assert_eq!(log, ["late reply delivered: true"]);
                assert_eq!(second, Some(Ok(7)));
            }
        }
    });
}

/// Counts the handlers that run.
fn counted(count: &Arc<AtomicUsize>) -> Arc<AtomicUsize> {
    count.clone()
}

/// A call refused as a cycle (A → B → A) has no effect: only A's and B's
/// handlers run, the request back to A is never queued, and once the cycle
/// has failed an idle period runs no more handlers — with B idle or busy
/// when A calls it.
#[test]
fn a_refused_call_cycle_runs_no_handler() {
    each_virtual_runtime(|rt| {
        let probe = Probe::spawn(rt);
        for busy in [false, true] {
            let a = puppet(rt, &probe);
            let b = puppet(rt, &probe);
            let gate = Gate::new();
            let _opener = gate.opener();
            if busy {
                hold(&b, &probe, &gate);
            }
            let handlers = Arc::new(AtomicUsize::new(0));
            let (a1, a2, b1) = (a.clone(), a.clone(), b.clone());
            let (n1, n2, n3) = (counted(&handlers), counted(&handlers), counted(&handlers));
            let pending = in_thread(move || {
                a1.call(call_job(move |_, r, _| {
                    n1.fetch_add(1, SeqCst);
                    let back = call_job(move |_, r, _| {
                        n2.fetch_add(1, SeqCst);
                        let refused = a2.call(call_job(move |_, r, _| {
                            n3.fetch_add(1, SeqCst);
                            answer(r, ())
                        }));
                        answer(r, refused.map(drop))
                    });
                    answer(r, b1.call(back).map(unval::<Result<(), CallError>>))
                }))
                .map(unval::<Result<Result<(), CallError>, CallError>>)
            });
            if busy {
                wait_timers(rt, 2);
                gate.open();
            }
            match finished(&pending) {
                Ok(Ok(Err(CallError::Deadlock(_)))) => {}
                other => panic!("expected Deadlock, got {other:?}"),
            }
            assert!(
                !rotp_runtime::testing::wait_until(QUIET, || handlers.load(SeqCst) != 2),
                "handlers run: {}",
                handlers.load(SeqCst)
            );
            // A sys request queues behind anything left in the mailbox.
            assert_eq!(a.statistics().unwrap().calls, 1, "busy: {busy}");
            assert_eq!(b.statistics().unwrap().calls, 1, "busy: {busy}");
            assert_eq!(handlers.load(SeqCst), 2);
            rt.kill(a.pid().unwrap());
            rt.kill(b.pid().unwrap());
        }
    });
}

/// Rule 61: a call to self is refused before anything is queued — by
/// `call`, `call_timeout(_, None)` and `send_request` — so the request's
/// handler never runs, and an idle period after it runs no handler.
#[test]
fn rule_61_a_call_to_self_runs_no_handler() {
    each_virtual_runtime(|rt| {
        let probe = Probe::spawn(rt);
        let server = puppet(rt, &probe);
        let handlers = Arc::new(AtomicUsize::new(0));
        let n = handlers.clone();
        let results = ask(&server, move |_, ctx| {
            let me = ctx.server_ref();
            let job = || {
                let n = n.clone();
                call_job(move |_, r, _| {
                    n.fetch_add(1, SeqCst);
                    answer(r, ())
                })
            };
            [
                err(me.call(job())),
                err(me.call_timeout(job(), None)),
                err(me.send_request(job())),
            ]
        });
        assert!(
            results.iter().all(|e| *e == CallError::CallingSelf),
            "{results:?}"
        );
        assert!(!rotp_runtime::testing::wait_until(QUIET, || handlers
            .load(SeqCst)
            > 0));
        assert_eq!(server.statistics().unwrap().calls, 1, "only the ask");
        assert_eq!(handlers.load(SeqCst), 0);
    });
}

/// `ReplyTo::pid` in `handle_call` is the calling process — for `call` and
/// `send_request`, from a raw process and from another server's handler —
/// and `None` for a call from a plain thread.
#[test]
fn reply_to_pid_is_the_calling_process() {
    each_runtime(|rt| {
        let probe = Probe::spawn(rt);
        let server = puppet(rt, &probe);
        let caller_pid = || {
            call_as(|_, r: ReplyTo<Option<Pid>>, _| {
                let pid = r.pid();
                r.reply(pid)
            })
        };

        let s = server.clone();
        assert_eq!(bounded(move || s.call(caller_pid())), Ok(None));

        let client = host(rt, &probe);
        let s = server.clone();
        let from_host = in_host(&client, move |_| {
            let by_call = s.call(caller_pid());
            let by_request = s
                .send_request(caller_pid())
                .and_then(|req| req.receive_response(None));
            (by_call, by_request)
        });
        assert_eq!(from_host, (Ok(Some(client.pid())), Ok(Some(client.pid()))));

        let other = puppet(rt, &probe);
        let s = server.clone();
        assert_eq!(
            ask(&other, move |_, _| s.call(caller_pid())),
            Ok(other.pid())
        );
    });
}

/// `ReplyTo::is_abandoned` is false while the caller waits — also after a
/// `wait_response` timed out, since the request stays pending — and true
/// once the caller gave up: a call or a `receive_response` that timed out,
/// a request dropped unanswered.
#[test]
fn reply_to_is_abandoned_once_the_caller_gave_up() {
    each_virtual_runtime(|rt| {
        let probe = Probe::spawn(rt);
        let server = puppet(rt, &probe);
        let abandoned = |server: &ServerRef<Puppet>| {
            server
                .get_state(|p| {
                    p.deferred
                        .iter()
                        .map(ReplyTo::is_abandoned)
                        .collect::<Vec<_>>()
                })
                .unwrap()
        };
        let one_second = Some(Duration::from_secs(1));

        // A call.
        let s = server.clone();
        let pending = in_thread(move || s.call_timeout(call_job(defer_call), one_second).map(drop));
        assert_eventually_deferred(&server, 1);
        assert_eq!(abandoned(&server), [false], "the caller waits");
        wait_timers(rt, 1);
        rt.advance(Duration::from_secs(1));
        assert_eq!(finished(&pending), Err(CallError::Timeout));
        assert_eq!(abandoned(&server), [true], "the call timed out");
        ask(&server, |p, _| p.deferred.clear());

        // wait_response keeps the request; dropping it gives up.
        let mut req = server.send_request(call_job(defer_call)).unwrap();
        assert_eventually_deferred(&server, 1);
        let pending = in_thread(move || (req.wait_response(one_second).map(drop), req));
        wait_timers(rt, 1);
        rt.advance(Duration::from_secs(1));
        let (first, req) = finished(&pending);
        assert_eq!(first, Err(CallError::Timeout));
        assert_eq!(abandoned(&server), [false], "still pending");
        drop(req);
        assert_eq!(abandoned(&server), [true], "the request was dropped");
        ask(&server, |p, _| p.deferred.clear());

        // receive_response abandons on timeout.
        let req = server.send_request(call_job(defer_call)).unwrap();
        assert_eventually_deferred(&server, 1);
        assert_eq!(abandoned(&server), [false]);
        let pending = in_thread(move || req.receive_response(one_second).map(drop));
        wait_timers(rt, 1);
        rt.advance(Duration::from_secs(1));
        assert_eq!(finished(&pending), Err(CallError::Timeout));
        assert_eq!(abandoned(&server), [true], "receive_response timed out");
    });
}
