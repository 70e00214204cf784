//! Calls: rules 58-68 (default timeout, errors as values, noproc,
//! calling_self, the server dying mid-call, replies, timeouts and late
//! replies, deferred replies, the async request API), call cycles and deep
//! chains of nested calls.

mod common;

use std::time::Duration;

use common::*;
use rotp_gen_server::{
    reply, start, CallError, NoReply, Reply, ServerRef, StartOptions, StopError,
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
            p.deferred.pop().unwrap().reply(val(7));
            NoReply::noreply()
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
            NoReply::noreply()
        });
        expect_event(&probe, |e| *e == Ev::Mark("cast: calling_self"));
        server.send_info(Note::Run(job(|p, ctx| {
            let e = err(ctx.server_ref().call(call_job(defer_call)));
            p.report(Ev::Mark(if e == CallError::CallingSelf {
                "info: calling_self"
            } else {
                "info: other"
            }));
            NoReply::noreply()
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
        let r = call_with(&server, |_, _, _| {
            Reply::stop_noreply(ExitReason::custom("bye"))
        });
        assert_eq!(err(r), CallError::Exited(ExitReason::custom("bye")));

        let server = puppet(rt, &probe);
        let r = call_with(&server, |_, _, _| Reply::stop_noreply(ExitReason::Normal));
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
                rt.kill(server.pid());
                assert_eq!(
                    finished(&pending),
                    Err(CallError::Exited(ExitReason::Killed))
                );
            }
        }
        assert_eq!(rt.now(), Duration::ZERO, "no call waited for its timeout");
    });
}

/// Rule 63: the reply comes from `Reply::reply`, from `Reply::stop` with a
/// reply, or from a later deferred reply.
#[test]
fn rule_63_reply_values() {
    each_runtime(|rt| {
        let probe = Probe::spawn(rt);
        let server = puppet(rt, &probe);
        assert_eq!(
            unval::<&str>(call_with(&server, |_, _, _| answer("direct")).unwrap()),
            "direct"
        );

        let s = server.clone();
        let pending = in_thread(move || s.call(call_job(defer_call)).map(unval::<&str>));
        assert_eventually_deferred(&server, 1);
        cast(&server, |p, _| {
            p.deferred.pop().unwrap().reply(val("later"));
            NoReply::noreply()
        });
        assert_eq!(finished(&pending), Ok("later"));

        let r = call_with(&server, |_, _, _| {
            Reply::stop(ExitReason::Normal, val("last words"))
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
            second.reply(val(1_usize));
            first.reply(val(0_usize));
            NoReply::noreply()
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
            s.call(call_job(|_, _, _| answer(42_u32))).map(unval::<u32>)
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
/// the request (its reply handle now reports the caller gone), and a
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
                call_job(|p, _, _| {
                    p.count += 1;
                    answer(())
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
            s.call(call_job(move |p, _, _| {
                p.report(Ev::Mark("handling"));
                g.wait_blocking();
                answer(())
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
                    let listened = p.deferred.pop().unwrap().reply(val("late"));
                    p.log.push(format!("late reply delivered: {listened}"));
                    NoReply::noreply()
                }));
                let second = s.call(call_job(|_, _, _| answer("fresh")));
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
/// later, another process, a plain std thread — with `DeferredReply::reply`
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
            s.call(call_job(|_, caller, _| {
                let d = caller.defer().unwrap();
                assert_eq!(d.pid(), None, "a plain thread is no process");
                std::thread::spawn(move || assert!(reply(d, val("from a thread"))));
                Reply::noreply()
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
            s.call(call_job(move |_, caller, _| {
                let d = caller.defer().unwrap();
                assert_eq!(d.pid(), Some(caller_pid));
                h.cast(job(move |p, _| {
                    let listened = d.reply(val("from a helper"));
                    p.log.push(format!("{listened}"));
                    NoReply::noreply()
                }));
                Reply::noreply()
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
            .send_request(call_job(|_, _, _| answer(1_u8)))
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
            ask(&server, |p, _| p.deferred.pop().unwrap().reply(val(2_u8))),
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
            p.deferred.pop().unwrap().reply(val(3_u8));
            NoReply::noreply()
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
            .reply(val(4_u8))));

        // The server dying ends the wait with its reason.
        let req = server
            .send_request(call_job(|_, _, _| Reply::stop_noreply("gone".into())))
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
        expect_deadlock(finished(&pending), &[a.pid(), b.pid()]);
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
        expect_deadlock(finished(&pending), &[a.pid(), b.pid()]);
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
        a1.call(call_job(move |_, _, _| {
            let back = call_job(move |_, _, _| {
                answer(a2.call(call_job(|_, _, _| answer(()))).map(|_| ()))
            });
            answer(b1.call(back).map(unval::<Result<(), CallError>>))
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
fn hop(rest: Vec<ServerRef<Puppet>>) -> CallJob {
    call_job(move |_, _, _| {
        let mut rest = rest;
        if rest.is_empty() {
            return answer(Ok::<usize, CallError>(1));
        }
        let next = rest.remove(0);
        let below = next
            .call(hop(rest))
            .and_then(unval::<Result<usize, CallError>>);
        answer(below.map(|n| n + 1))
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
