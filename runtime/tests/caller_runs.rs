//! A request made with `ReplyWait::call` (or sent with
//! `Addr::try_send_deferred` and waited on with `ReplyWait::wait_delivered`)
//! and no timeout: a plain thread whose send woke the process runs the
//! process's slice itself, one handler long (`Context::caller_waits`), and
//! the virtual clock treats that slice as work. With a timeout it never
//! does (`call_contracts.rs`).
//!
//! Inside a process, a call that finds its callee queued on the caller's
//! own worker, behind requests of others, runs the callee there too,
//! handler after handler, until its own answer comes.

mod common;

use std::thread::ThreadId;
use std::time::Duration;

use common::*;
use rotp_runtime::testing::{assert_eventually, Probe};
use rotp_runtime::{reply_channel, Addr, Context, Handle, ReplySender, Status, DEFAULT_REDUCTIONS};

/// What the request's handler saw: its thread, and whether a caller waits
/// on it.
type Seen = (ThreadId, bool);

/// What a request's handler runs first.
type Work = Box<dyn FnOnce(&mut Context<'_, Request>) + Send>;

/// A request: the handler runs `f`, then answers what it saw.
struct Request {
    f: Work,
    reply: ReplySender<Seen>,
}

/// A process that serves [`Request`]s.
fn server(rt: &Handle) -> Addr<Request> {
    rt.spawn_fn(|req: Request, ctx| {
        (req.f)(ctx);
        req.reply
            .send((std::thread::current().id(), ctx.caller_waits()));
    })
}

/// Calls `to` with a request running `f`, without a timeout, from this
/// thread; fails the test if no answer comes within [`TIMEOUT`] (the wait
/// itself has no limit: it runs on a thread of its own, watched from here).
/// Returns what the handler saw and the calling thread.
fn request(
    to: &Addr<Request>,
    f: impl FnOnce(&mut Context<'_, Request>) + Send + 'static,
) -> (Seen, ThreadId) {
    let to = to.clone();
    let (done, answer) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let (reply, mut wait) = reply_channel();
        let request = Request {
            f: Box::new(f),
            reply,
        };
        let _ = done.send((wait.call(&to, request, None), here()));
    });
    let (seen, caller) = answer.recv_timeout(TIMEOUT).expect("an answer in time");
    (seen.expect("an answer"), caller)
}

/// Waits until process `to` is idle: the next send wakes it.
#[track_caller]
fn wait_idle(rt: &Handle, to: &Addr<Request>) {
    assert_eventually(TIMEOUT, "the process waits for a message", || {
        rt.process_info(to.pid())
            .is_some_and(|i| i.status == Status::Waiting && i.mailbox_len == 0)
    });
}

fn here() -> ThreadId {
    std::thread::current().id()
}

/// The send woke the process: its handler runs on the waiting thread, and
/// knows that a caller waits on it.
#[test]
fn a_woken_process_runs_on_the_waiting_plain_thread() {
    each_runtime(|rt| {
        let to = server(rt);
        wait_idle(rt, &to);
        let ((thread, caller_waits), caller) = request(&to, |_| {});
        assert_eq!(thread, caller);
        assert!(caller_waits);
    });
}

/// Dropping the delivery schedules the process as a plain send would.
#[test]
fn a_dropped_delivery_schedules_the_process() {
    each_runtime(|rt| {
        let to = server(rt);
        wait_idle(rt, &to);
        let (reply, mut wait) = reply_channel();
        let delivery = to
            .try_send_deferred(Request {
                f: Box::new(|_| {}),
                reply,
            })
            .expect("the server is alive");
        drop(delivery);
        let (thread, caller_waits) = wait.wait(&to, Some(TIMEOUT)).expect("an answer");
        assert_ne!(thread, here());
        assert!(!caller_waits);
    });
}

/// The slice on the caller's thread is one handler long: entries queued
/// meanwhile go to the workers.
#[test]
fn the_callers_slice_ends_after_one_handler() {
    each_runtime(|rt| {
        let to = server(rt);
        wait_idle(rt, &to);
        let probe = Probe::<Seen>::spawn(rt);
        let (probe_addr, me) = (probe.addr().clone(), to.clone());
        let (_, caller) = request(&to, move |_| {
            for _ in 0..2 {
                let probe_addr = probe_addr.clone();
                let (reply, _unanswered) = reply_channel();
                me.send(Request {
                    f: Box::new(move |ctx| probe_addr.send((here(), ctx.caller_waits()))),
                    reply,
                });
            }
        });
        for _ in 0..2 {
            let (thread, caller_waits) = probe.assert_message(TIMEOUT);
            assert_ne!(thread, caller);
            assert!(!caller_waits);
        }
    });
}

/// Under auto-advance the clock stays put while a slice runs on a caller's
/// thread, even when every worker falls asleep meanwhile; and once the slice
/// is over, the timer it armed fires without any worker waking up.
///
/// The test needs the request to wake the server, so that the caller runs
/// the handler itself; on a loaded machine the server can still be finishing
/// its previous slice when the request arrives, and then a worker runs the
/// handler instead. Such a round checks nothing and is tried again.
#[test]
fn auto_advance_waits_for_the_callers_slice() {
    each_runtime_with(
        |b| b.virtual_clock().auto_advance(true),
        |rt| {
            let to = server(rt);
            let other = server(rt);
            wait_idle(rt, &other);
            let probe = Probe::<&'static str>::spawn(rt);
            let workers = rt.workers();
            let ran_on_caller = (0..20).any(|_| {
                wait_idle(rt, &to);
                let (h, probe_addr, other) =
                    (rt.handle().clone(), probe.addr().clone(), other.clone());
                let ((_, caller_waits), _) = request(&to, move |ctx| {
                    if !ctx.caller_waits() {
                        return; // a worker runs it: try again
                    }
                    h.send_after(&probe_addr, Duration::from_secs(3600), "fired");
                    // Wake a worker for another process and let it fall
                    // asleep again: a worker going to sleep is when the
                    // clock moves.
                    let parks =
                        |h: &Handle| -> u64 { h.stats().workers.iter().map(|w| w.parks).sum() };
                    let before = parks(&h);
                    let (reply, _wait) = reply_channel();
                    other.send(Request {
                        f: Box::new(|_| {}),
                        reply,
                    });
                    assert_eventually(TIMEOUT, "the workers sleep again", || {
                        parks(&h) > before && h.stats().sleeping >= workers
                    });
                    assert_eq!(
                        h.now(),
                        Duration::ZERO,
                        "the clock moved under a running slice"
                    );
                });
                caller_waits
            });
            assert!(ran_on_caller, "no request ran on its caller's thread");
            assert_eq!(probe.assert_message(TIMEOUT), "fired");
            assert_eq!(rt.now(), Duration::from_secs(3600));
        },
    );
}

/// Requests from other callers queued ahead of this caller's, left in
/// this worker's LIFO slot. Sends `n` requests to a new, idle server from
/// inside the calling process (the first wakes the server into the slot),
/// then calls it without a timeout. Returns the threads the queued
/// handlers ran on, the thread of the call's handler, and the caller's
/// own thread.
fn call_behind(rt: &Handle, n: usize) -> (Vec<ThreadId>, ThreadId, ThreadId) {
    let to = server(rt);
    wait_idle(rt, &to);
    let caller = puppet(rt);
    let (ran_tx, ran) = std::sync::mpsc::channel();
    let (answer, caller_thread) = call(&caller, move |_| {
        for _ in 0..n {
            let ran_tx = ran_tx.clone();
            let (reply, _unanswered) = reply_channel();
            to.send(Request {
                f: Box::new(move |_| {
                    let _ = ran_tx.send(here());
                }),
                reply,
            });
        }
        let (reply, mut wait) = reply_channel();
        let request = Request {
            f: Box::new(|_| {}),
            reply,
        };
        (wait.call(&to, request, None), here())
    });
    let (thread, _) = answer.expect("an answer");
    let queued = (0..n).map(|_| ran.recv_timeout(TIMEOUT).unwrap()).collect();
    (queued, thread, caller_thread)
}

/// The many-callers case of a busy server: a call whose request did not
/// wake the callee (others' requests had) finds it in its worker's LIFO
/// slot and runs it right there, through the requests ahead of its own,
/// instead of waiting for a cover thread to run it. Without that, the
/// callee sits in a slot nobody else may take while its caller waits for
/// it, until the caller blocks and a spare thread takes over the worker.
#[test]
fn a_call_runs_its_callee_through_the_requests_ahead_of_it() {
    each_runtime(|rt| {
        let (queued, thread, caller) = call_behind(rt, 2);
        assert!(
            queued.iter().all(|t| *t == caller),
            "{queued:?} != {caller:?}"
        );
        assert_eq!(thread, caller);
        assert_eq!(rt.stats().spare_threads, 0, "the caller blocked");
    });
}

/// A caller runs its callee for at most the callee's budget of handlers
/// (`DEFAULT_REDUCTIONS`, 128): the rest of a long queue goes where the
/// workers take it, and the call is answered all the same.
#[test]
fn a_caller_runs_at_most_one_budget_of_others_handlers() {
    each_runtime(|rt| {
        let (queued, thread, caller) = call_behind(rt, 200);
        let on_caller = queued.iter().filter(|t| **t == caller).count();
        assert_eq!(on_caller, DEFAULT_REDUCTIONS as usize);
        assert_ne!(thread, caller);
    });
}

/// A caller killed while it runs the handlers ahead of its request stops
/// after the one running: its exit waits for its own handler to return
/// (R1), not for the rest of the server's queue, which the workers take.
#[test]
fn a_caller_told_to_exit_stops_running_others_handlers() {
    each_runtime(|rt| {
        let to = server(rt);
        wait_idle(rt, &to);
        let caller = puppet(rt);
        let victim = caller.pid();
        // Whether each handler ran for a waiting caller.
        let (ran_tx, ran) = std::sync::mpsc::channel();
        cast(&caller, move |ctx| {
            for i in 0..200 {
                let (ran_tx, h) = (ran_tx.clone(), ctx.handle());
                let (reply, _unanswered) = reply_channel();
                to.send(Request {
                    f: Box::new(move |ctx| {
                        if i == 0 {
                            h.kill(victim);
                        }
                        let _ = ran_tx.send(ctx.caller_waits());
                    }),
                    reply,
                });
            }
            let (reply, mut wait) = reply_channel();
            let request = Request {
                f: Box::new(|_| {}),
                reply,
            };
            let _ = wait.call(&to, request, None);
        });
        let for_caller = (0..200)
            .map(|_| ran.recv_timeout(TIMEOUT).unwrap())
            .filter(|waits| *waits)
            .count();
        assert_eq!(for_caller, 1, "handlers run by the killed caller");
        assert_eq!(
            caller.await_exit(Some(TIMEOUT)),
            Some(rotp_runtime::ExitReason::Killed)
        );
    });
}
