//! `ReplyWait::call`: a timeout bounds the caller's wait however long the
//! handler takes (spec rule 65: the caller gives up when its timeout
//! expires; the request may still be handled), and a call refused as
//! calling self or as a call cycle has no effect (nothing is queued).

mod common;

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst};
use std::sync::Arc;
use std::time::Duration;

use common::*;
use rotp_runtime::testing::{assert_eventually, Probe};
use rotp_runtime::{reply_channel, Addr, Handle, ReplySender, Status, WaitError};

/// The caller's timeout in these tests: real time, short, and never
/// compared with how long anything took.
const SHORT: Duration = Duration::from_millis(100);

/// A request to a [`slow_server`]: wait for the gate, then answer.
struct Slow {
    gate: Gate,
    finished: Arc<AtomicBool>,
    reply: ReplySender<()>,
}

/// A process whose handler holds its thread until the request's gate opens.
fn slow_server(rt: &Handle) -> Addr<Slow> {
    rt.spawn_fn(|req: Slow, _ctx| {
        req.gate.wait();
        req.finished.store(true, SeqCst);
        req.reply.send(());
    })
}

#[track_caller]
fn wait_idle<M: Send + 'static>(rt: &Handle, to: &Addr<M>) {
    assert_eventually(TIMEOUT, "the process waits for a message", || {
        rt.process_info(to.pid())
            .is_some_and(|i| i.status == Status::Waiting && i.mailbox_len == 0)
    });
}

/// Calls `server` with a timeout; returns the result and whether the
/// handler had finished when the call returned.
fn call_slow(server: &Addr<Slow>, gate: &Gate) -> (Result<(), WaitError>, bool) {
    let finished = Arc::new(AtomicBool::new(false));
    let (reply, mut wait) = reply_channel();
    let request = Slow {
        gate: gate.clone(),
        finished: finished.clone(),
        reply,
    };
    let result = wait.call(server, request, Some(SHORT));
    (result, finished.load(SeqCst))
}

/// From a plain thread, to an idle server: the caller gets `Timeout` while
/// the handler still waits for a gate that opens only after the call has
/// returned; the handler then still runs to the end (rule 66: its late
/// reply is dropped).
#[test]
fn rule_65_a_plain_threads_timeout_ends_its_wait_while_the_handler_runs() {
    each_runtime(|rt| {
        let server = slow_server(rt);
        wait_idle(rt, &server);
        let gate = Gate::new();
        let _opener = gate.opener();
        let (result, finished) = call_slow(&server, &gate);
        assert_eq!(result, Err(WaitError::Timeout));
        assert!(!finished, "the caller waited for the handler");
        gate.open();
        wait_idle(rt, &server);
    });
}

/// The same from a process, at every worker count: the process's call
/// returns `Timeout` with the handler still running elsewhere.
#[test]
fn rule_65_a_processs_timeout_ends_its_wait_while_the_handler_runs() {
    each_runtime(|rt| {
        let server = slow_server(rt);
        let caller = puppet(rt);
        wait_idle(rt, &server);
        let gate = Gate::new();
        let _opener = gate.opener();
        let (s, g) = (server.clone(), gate.clone());
        let (result, finished) = call(&caller, move |_| call_slow(&s, &g));
        assert_eq!(result, Err(WaitError::Timeout));
        assert!(!finished, "the caller waited for the handler");
        gate.open();
        wait_idle(rt, &server);
    });
}

/// A request to a [`relay`]: count it, then, if `hops` is not empty, call
/// the first hop with the rest and report that call's result.
struct Relay {
    hops: Vec<Addr<Relay>>,
    reply: ReplySender<()>,
}

/// A process that counts the requests it handles in `handled` and reports
/// the results of the calls it makes to `results`.
fn relay(
    rt: &Handle,
    handled: Arc<AtomicUsize>,
    results: Addr<Result<(), WaitError>>,
) -> Addr<Relay> {
    rt.spawn_fn(move |mut req: Relay, _ctx| {
        handled.fetch_add(1, SeqCst);
        if !req.hops.is_empty() {
            let next = req.hops.remove(0);
            let (reply, mut wait) = reply_channel();
            let hops = std::mem::take(&mut req.hops);
            results.send(wait.call(&next, Relay { hops, reply }, None));
        }
        req.reply.send(());
    })
}

/// A calls B, whose handler calls A back: B's call fails with `Deadlock`
/// and leaves nothing in A's mailbox, so once A has its answer from B no
/// handler runs any more: the refused request is never handled later.
#[test]
fn a_call_refused_as_a_deadlock_is_never_handled() {
    each_runtime(|rt| {
        let results = Probe::<Result<(), WaitError>>::spawn(rt);
        let (a_count, b_count) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
        let a = relay(rt, a_count.clone(), results.addr().clone());
        let b = relay(rt, b_count.clone(), results.addr().clone());
        let (reply, mut wait) = reply_channel();
        let hops = vec![b.clone(), a.clone()];
        assert_eq!(wait.call(&a, Relay { hops, reply }, Some(TIMEOUT)), Ok(()));
        let cycle = results.assert_message(TIMEOUT);
        assert!(
            matches!(&cycle, Err(WaitError::Deadlock(pids)) if pids.contains(&a.pid())),
            "B's call back to A: {cycle:?}"
        );
        assert_eq!(results.assert_message(TIMEOUT), Ok(()), "A's call to B");
        wait_idle(rt, &a);
        wait_idle(rt, &b);
        results.refute_receive(QUIET, |_| true);
        assert_eq!((a_count.load(SeqCst), b_count.load(SeqCst)), (1, 1));
    });
}

/// Two processes call each other at the same moment, many times over: each
/// call either succeeds or fails with `Deadlock`, and every request that
/// was handled belongs to a call that did not fail — a refused request is
/// never queued, even when both sides look for the cycle at once.
#[test]
fn crossed_calls_never_leave_a_refused_request_behind() {
    each_runtime(|rt| {
        let results = Probe::<Result<(), WaitError>>::spawn(rt);
        let (a_count, b_count) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
        let a = relay(rt, a_count.clone(), results.addr().clone());
        let b = relay(rt, b_count.clone(), results.addr().clone());
        const ROUNDS: usize = 200;
        for _ in 0..ROUNDS {
            // "call the other one" to each, at once; nobody waits for them.
            let (to_a, _wait_a) = reply_channel();
            let (to_b, _wait_b) = reply_channel();
            a.send(Relay {
                hops: vec![b.clone()],
                reply: to_a,
            });
            b.send(Relay {
                hops: vec![a.clone()],
                reply: to_b,
            });
        }
        let mut ok = 0;
        for _ in 0..2 * ROUNDS {
            match results.assert_message(TIMEOUT) {
                Ok(()) => ok += 1,
                Err(WaitError::Deadlock(_)) => {}
                other => panic!("unexpected call result: {other:?}"),
            }
        }
        wait_idle(rt, &a);
        wait_idle(rt, &b);
        let handled = a_count.load(SeqCst) + b_count.load(SeqCst);
        assert_eq!(
            handled,
            2 * ROUNDS + ok,
            "requests handled beyond the calls that succeeded"
        );
    });
}

/// A process calling itself gets `CallingSelf`, and nothing is queued.
#[test]
fn a_call_to_self_is_refused_and_queues_nothing() {
    each_runtime(|rt| {
        let caller = puppet(rt);
        let (result, queued) = call(&caller, |ctx| {
            let me = ctx.addr();
            let (reply, mut wait) = reply_channel::<()>();
            let job = Job::new(move |_| drop(reply));
            (wait.call(&me, job, None), ctx.mailbox_len())
        });
        assert_eq!(result, Err(WaitError::CallingSelf));
        assert_eq!(queued, 0);
    });
}
