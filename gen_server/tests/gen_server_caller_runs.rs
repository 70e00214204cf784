//! Calls whose handler runs on the caller's own thread (see
//! `docs/scheduling.md`, "Calls run by their caller"): a plain thread that
//! calls an idle server without a timeout runs the handler that answers it,
//! as a process does for the callee it has just woken. A call with a
//! timeout never does: nothing could end its wait while the handler ran.
//! Only up to the handler that answers it: a continue or a zero timeout it
//! asks for, and whatever else is queued, goes back to the workers, so the
//! caller has its reply as soon as the handler returns (rules 63, 79, 83).
//! Handlers queued *ahead* of the caller's request, it runs first.

mod common;

use std::sync::mpsc;
use std::thread::ThreadId;
use std::time::Duration;

use common::*;
use rotp_gen_server::{noreply, CallError, Ctx, Handled, ReplyTo, ServerRef, StartOptions, Then};
use rotp_runtime::testing::Probe;
use rotp_runtime::Handle;

/// A puppet that is idle: the next call from a plain thread wakes it.
#[track_caller]
fn idle_puppet(rt: &Handle, probe: &Probe<Ev>) -> ServerRef<Puppet> {
    let server = puppet(rt, probe);
    wait_idle(rt, &server);
    server
}

/// Calls `server` without a timeout, with `f` as the handler, from a new
/// plain thread; expects success, and returns that thread's id.
#[track_caller]
fn call_from_thread(
    server: &ServerRef<Puppet>,
    f: impl FnOnce(&mut Puppet, ReplyTo<Val>, &mut Ctx<'_, Puppet>) -> Handled<Puppet> + Send + 'static,
) -> ThreadId {
    let s = server.clone();
    bounded(move || {
        s.call_timeout(call_job(f), None)
            .expect("the call succeeds");
        here()
    })
}

/// A plain thread's call without a timeout to an idle server runs
/// `handle_call` on that thread: no worker has to notice the request, and
/// the reply needs no hand-off back.
#[test]
fn a_plain_threads_call_runs_the_handler_on_the_calling_thread() {
    each_runtime(|rt| {
        let probe = Probe::spawn(rt);
        let server = idle_puppet(rt, &probe);
        let s = server.clone();
        let (caller, handler) = bounded(move || {
            let handler = s.call_timeout(call_job(|_, r, _| answer(r, here())), None);
            (here(), handler)
        });
        assert_eq!(handler.map(unval::<ThreadId>), Ok(caller));
    });
}

/// Rule 65: a call with a timeout, from a plain thread or a process, never
/// runs the handler on the caller's thread, so the timeout always bounds
/// the wait.
#[test]
fn rule_65_a_call_with_a_timeout_never_runs_on_the_callers_thread() {
    each_runtime(|rt| {
        let probe = Probe::spawn(rt);
        let client = host(rt, &probe);
        let server = idle_puppet(rt, &probe);
        let s = server.clone();
        let (caller, handler) =
            bounded(move || (here(), s.call(call_job(|_, r, _| answer(r, here())))));
        assert_ne!(
            handler.map(unval::<ThreadId>),
            Ok(caller),
            "from a plain thread"
        );
        wait_idle(rt, &server);
        let s = server.clone();
        let same = in_host(&client, move |_| {
            let handler = s.call(call_job(|_, r, _| answer(r, here())));
            handler.map(unval::<ThreadId>).map(|t| t == here())
        });
        assert_eq!(same, Ok(false), "from a process");
    });
}

/// A server started with `callers_run` lets a caller with a timeout run its
/// handler all the same; a reply made after the caller's deadline is late,
/// and the call fails with `Timeout` (rule 65).
#[test]
fn callers_run_lets_a_caller_with_a_timeout_run_the_handler() {
    each_virtual_runtime(|rt| {
        let probe = Probe::spawn(rt);
        let opts = StartOptions::new().callers_run(true);
        let server = rotp_gen_server::start::<Puppet>(rt, script(&probe), opts).unwrap();
        wait_idle(rt, &server);
        let s = server.clone();
        let (caller, handler) = bounded(move || {
            let handler = s.call_timeout(call_job(|_, r, _| answer(r, here())), Some(TIMEOUT));
            (here(), handler)
        });
        assert_eq!(handler.map(unval::<ThreadId>), Ok(caller));
        wait_idle(rt, &server);
        let s = server.clone();
        let late = bounded(move || {
            let job = call_job(|_, r, ctx| {
                ctx.handle().advance(Duration::from_secs(2));
                answer(r, here())
            });
            s.call_timeout(job, Some(Duration::from_secs(1)))
                .map(unval::<ThreadId>)
        });
        assert_eq!(late, Err(CallError::Timeout));
        assert_eq!(ask(&server, |_, _| 7), 7, "the server goes on");
    });
}

/// Rule 83 with the caller waiting on the server's thread: the continue
/// after the reply does not hold the caller up. Here it waits for
/// something the caller does only once its call has returned, which could
/// never happen if the continue ran on the caller's stack.
#[test]
fn rule_83_a_continue_after_the_reply_does_not_hold_up_the_caller() {
    each_runtime(|rt| {
        let probe = Probe::spawn(rt);
        let server = idle_puppet(rt, &probe);
        let (go, signal) = mpsc::channel::<()>();
        let s = server.clone();
        let caller = bounded(move || {
            let job = call_job(move |_, r, _| {
                r.reply(val(here())).then_continue(job(move |p, _| {
                    signal.recv_timeout(TIMEOUT).expect("the caller goes on");
                    p.report(Ev::Mark("continue"));
                    noreply()
                }))
            });
            let reply = s.call_timeout(job, None);
            go.send(()).unwrap();
            (here(), reply.map(unval::<ThreadId>))
        });
        assert_eq!(caller.1, Ok(caller.0), "the call ran on the caller");
        expect_event(&probe, |e| *e == Ev::Mark("continue"));
    });
}

/// Rule 83: the deferred continue still runs before every message queued
/// after the callback that asked for it.
#[test]
fn rule_83_a_deferred_continue_runs_before_queued_messages() {
    each_runtime(|rt| {
        let probe = Probe::spawn(rt);
        let server = idle_puppet(rt, &probe);
        let (ran, on) = mpsc::channel::<ThreadId>();
        let me = server.clone();
        let caller = call_from_thread(&server, move |_, r, _| {
            cast(&me, |p, _| {
                p.report(Ev::Mark("cast"));
                noreply()
            });
            r.reply(val(())).then_continue(job(move |p, _| {
                ran.send(here()).unwrap();
                p.report(Ev::Mark("continue"));
                noreply()
            }))
        });
        assert_eq!(events(&probe, 2), [Ev::Mark("continue"), Ev::Mark("cast")]);
        let thread = on.recv_timeout(TIMEOUT).expect("the continue ran");
        assert_ne!(thread, caller, "the continue was not deferred");
    });
}

/// One handler only: what the handler queues for its own server is handled
/// by the workers, not on the caller's thread.
#[test]
fn a_caller_runs_only_the_handler_that_answers_it() {
    each_runtime(|rt| {
        let probe = Probe::spawn(rt);
        let server = idle_puppet(rt, &probe);
        let (ran, on) = mpsc::channel::<ThreadId>();
        let me = server.clone();
        let caller = call_from_thread(&server, move |_, r, _| {
            for _ in 0..3 {
                let ran = ran.clone();
                cast(&me, move |_, _| {
                    ran.send(here()).unwrap();
                    noreply()
                });
            }
            r.reply(val(()))
        });
        for _ in 0..3 {
            let thread = on.recv_timeout(TIMEOUT).expect("handled");
            assert_ne!(thread, caller, "a cast ran on the caller's thread");
        }
    });
}

/// Rule 79 with the caller waiting on the server's thread: a zero timeout
/// returned with the reply fires, but on a worker.
#[test]
fn rule_79_a_zero_timeout_after_the_reply_fires_on_a_worker() {
    each_runtime(|rt| {
        let probe = Probe::spawn(rt);
        let server = idle_puppet(rt, &probe);
        let (ran, on) = mpsc::channel::<ThreadId>();
        let caller = call_from_thread(&server, move |p, r, _| {
            p.after_info = Some(Box::new(move |_, _| {
                ran.send(here()).unwrap();
                noreply()
            }));
            r.reply(val(())).timeout(Duration::ZERO)
        });
        expect_event(&probe, |e| *e == Ev::Timeout);
        let thread = on.recv_timeout(TIMEOUT).expect("the timeout fired");
        assert_ne!(thread, caller, "the timeout fired on the caller's thread");
    });
}

/// The same from a process: a server called without a timeout from inside
/// a handler runs on the caller's worker, nested in that handler; the callee's continue is
/// deferred, so the caller's handler goes on at once.
#[test]
fn rule_83_a_process_callers_handler_goes_on_before_the_callees_continue() {
    each_runtime(|rt| {
        let probe = Probe::spawn(rt);
        let client = host(rt, &probe);
        let server = idle_puppet(rt, &probe);
        let (go, signal) = mpsc::channel::<()>();
        let s = server.clone();
        let answer = in_host(&client, move |_| {
            let job = call_job(move |_, r, _| {
                r.reply(val(here())).then_continue(job(move |p, _| {
                    signal.recv_timeout(TIMEOUT).expect("the caller goes on");
                    p.report(Ev::Mark("continue"));
                    noreply()
                }))
            });
            let reply = s.call_timeout(job, None);
            go.send(()).unwrap();
            reply.map(unval::<ThreadId>).map(|t| t == here())
        });
        assert_eq!(answer, Ok(true), "the callee ran on the caller's thread");
        expect_event(&probe, |e| *e == Ev::Mark("continue"));
    });
}

/// Rule 64 under contention: plain threads and processes calling one server
/// at once — some running its handler themselves, the rest queued behind
/// them and served by whoever runs the server next — each get their own
/// answers, in order, and the server counts every call.
#[test]
fn rule_64_threads_and_processes_calling_at_once_each_get_their_own_answers() {
    const CALLERS: usize = 4;
    const CALLS: u64 = 2_000;
    each_runtime(|rt| {
        let probe = Probe::spawn(rt);
        let server = idle_puppet(rt, &probe);
        let echo = |server: &ServerRef<Puppet>, who: usize| -> Result<(), String> {
            for seq in 0..CALLS {
                let job = call_job(move |p, r, _| {
                    p.count += 1;
                    answer(r, (who, seq))
                });
                // Half the calls may run the handler on the caller's thread.
                let timeout = (seq % 2 == 0).then_some(TIMEOUT);
                let answer = server.call_timeout(job, timeout).map(unval::<(usize, u64)>);
                if answer != Ok((who, seq)) {
                    return Err(format!("caller {who}, call {seq}: {answer:?}"));
                }
            }
            Ok(())
        };
        let threads: Vec<_> = (0..CALLERS)
            .map(|who| {
                let s = server.clone();
                in_thread(move || echo(&s, who))
            })
            .collect();
        let hosts: Vec<_> = (0..CALLERS)
            .map(|i| {
                let s = server.clone();
                host_spawn(&host(rt, &probe), move |_| echo(&s, CALLERS + i))
            })
            .collect();
        for done in threads.iter().chain(&hosts) {
            assert_eq!(
                done.recv_timeout(TIMEOUT * 4).expect("the caller finishes"),
                Ok(())
            );
        }
        assert_eq!(
            ask(&server, |p, _| p.count),
            (2 * CALLERS) as i64 * CALLS as i64
        );
    });
}

/// Rule 83 when a caller runs the entries queued ahead of its own request
/// (`docs/scheduling.md`, "A server called by many processes"): a cast
/// ahead of the call asks for a continue, which still runs before the
/// next entry, the call; all three on the calling process's thread, which
/// found the server in its worker's LIFO slot, where the cast had woken
/// it.
#[test]
fn rule_83_a_continue_ahead_of_a_call_runs_first_on_the_callers_thread() {
    each_runtime(|rt| {
        let probe = Probe::spawn(rt);
        let client = host(rt, &probe);
        let server = idle_puppet(rt, &probe);
        let (ran, on) = mpsc::channel::<ThreadId>();
        let s = server.clone();
        let caller = in_host(&client, move |_| {
            let (cast_ran, continue_ran) = (ran.clone(), ran.clone());
            cast(&s, move |p, _| {
                cast_ran.send(here()).unwrap();
                p.report(Ev::Mark("cast"));
                noreply().then_continue(job(move |p, _| {
                    continue_ran.send(here()).unwrap();
                    p.report(Ev::Mark("continue"));
                    noreply()
                }))
            });
            let job = call_job(move |p, r, _| {
                ran.send(here()).unwrap();
                p.report(Ev::Mark("call"));
                answer(r, ())
            });
            s.call_timeout(job, None).expect("the call succeeds");
            here()
        });
        assert_eq!(
            events(&probe, 3),
            [Ev::Mark("cast"), Ev::Mark("continue"), Ev::Mark("call")]
        );
        for _ in 0..3 {
            assert_eq!(on.recv_timeout(TIMEOUT), Ok(caller));
        }
    });
}
