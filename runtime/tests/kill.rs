//! Kills and handlers that cannot be interrupted: R1 (with rules 5, 16,
//! 17). A kill (or fatal exit signal) that arrives while a handler runs
//! marks the process exiting at once — not alive, no more callbacks,
//! sends dropped — and takes effect when the handler returns; only then
//! are its name released and its links and monitors told.

mod common;

use std::sync::mpsc;
use std::time::Duration;

use common::*;
use rotp_runtime::testing::{wait_until, Probe, Received};
use rotp_runtime::{assert_receive, ExitReason, Status, TrySendError};

/// R1, rules 5 and 17: a kill during a handler makes the process not alive
/// at once, but its links and monitors hear of it only when the handler
/// returns, with reason `killed`.
#[test]
fn r1_kill_during_a_handler_takes_effect_when_it_returns() {
    each_runtime(|rt| {
        let watcher: Probe<()> = Probe::spawn(rt);
        let linked: Probe<()> = Probe::spawn_trapping(rt);
        let gate = Gate::new();
        let _open = gate.opener();
        let p = puppet(rt);
        let pp = p.pid();
        let mref = watcher.monitor(pp);
        linked.link(pp).unwrap();
        hold_spinning(&p, &gate);
        assert!(rt.is_alive(pp));
        rt.kill(pp);
        // From this instant: not alive, though still listed (rule 17).
        assert!(!rt.is_alive(pp));
        assert!(!p.is_alive());
        assert_eq!(rt.process_info(pp).map(|i| i.status), Some(Status::Exiting));
        assert!(rt.processes().contains(&pp));
        // Nobody is told while the handler runs.
        watcher.refute_receive(QUIET, |_| true);
        linked.refute_receive(Duration::ZERO, |_| true);
        gate.open();
        assert_receive!(watcher, Received::Down(d) if d.mref == mref && d.reason == ExitReason::Killed);
        assert_receive!(linked, Received::Exit(from, ExitReason::Killed) if *from == pp);
        assert!(rt.process_info(pp).is_none());
    });
}

/// R1: from the kill on, sends are dropped: a message sent after the kill
/// is refused, and messages queued before it are never handled either.
#[test]
fn r1_messages_to_a_killed_process_are_never_handled() {
    each_runtime(|rt| {
        let (tx, rx) = mpsc::channel();
        let gate = Gate::new();
        let _open = gate.opener();
        let p = puppet(rt);
        hold_spinning(&p, &gate);
        let t = tx.clone();
        cast(&p, move |_| t.send("queued before the kill").unwrap());
        rt.kill(p.pid());
        let t = tx.clone();
        cast(&p, move |_| t.send("sent after the kill").unwrap());
        gate.open();
        assert!(wait_until(TIMEOUT, || rt.process_info(p.pid()).is_none()));
        assert!(
            rx.recv_timeout(QUIET).is_err(),
            "no callback ran after the kill"
        );
    });
}

/// R1: "the mailbox is closed so new sends are dropped": `try_send` to a
/// process that is exiting hands the message back, as for an exited one.
#[test]
fn r1_try_send_to_an_exiting_process_hands_the_message_back() {
    each_runtime(|rt| {
        let gate = Gate::new();
        let _open = gate.opener();
        let p = puppet(rt);
        hold_spinning(&p, &gate);
        rt.kill(p.pid());
        assert!(matches!(
            p.try_send(Job::new(|_| {})),
            Err(TrySendError::Exited(_))
        ));
    });
}

/// R1: a long handler can poll `is_exiting` and return early; the kill
/// then completes.
#[test]
fn r1_long_handler_can_poll_is_exiting() {
    each_runtime(|rt| {
        let watcher: Probe<()> = Probe::spawn(rt);
        let (tx, rx) = mpsc::channel();
        let (started_tx, started_rx) = mpsc::channel();
        let p = puppet(rt);
        let mref = watcher.monitor(p.pid());
        cast(&p, move |ctx| {
            started_tx.send(ctx.is_exiting()).unwrap();
            let mut spins = 0u64;
            while !ctx.is_exiting() {
                spins += 1;
                std::thread::yield_now();
            }
            tx.send(spins).unwrap();
        });
        assert_eq!(started_rx.recv_timeout(TIMEOUT), Ok(false));
        rt.kill(p.pid());
        rx.recv_timeout(TIMEOUT).expect("the handler saw the kill");
        assert_receive!(watcher, Received::Down(d) if d.mref == mref && d.reason == ExitReason::Killed);
    });
}

/// R1 with rule 9: a fatal exit signal during a handler behaves like a kill
/// (deferred, not alive at once) and keeps its own reason; a kill that
/// follows does not replace it.
#[test]
fn r1_exit_signal_during_a_handler_is_deferred_and_keeps_its_reason() {
    each_runtime(|rt| {
        let watcher: Probe<()> = Probe::spawn(rt);
        let gate = Gate::new();
        let _open = gate.opener();
        let p = puppet(rt);
        let mref = watcher.monitor(p.pid());
        hold_spinning(&p, &gate);
        rt.send_exit(p.pid(), ExitReason::custom("first"));
        assert!(!rt.is_alive(p.pid()));
        rt.kill(p.pid());
        watcher.refute_receive(QUIET, |_| true);
        gate.open();
        assert_receive!(watcher, Received::Down(d) if d.mref == mref && d.reason == ExitReason::custom("first"));
    });
}

/// R1: a process killing itself finishes its handler first.
#[test]
fn r1_self_kill_finishes_the_handler() {
    each_runtime(|rt| {
        let watcher: Probe<()> = Probe::spawn(rt);
        let (tx, rx) = mpsc::channel();
        let p = puppet(rt);
        let mref = watcher.monitor(p.pid());
        cast(&p, move |ctx| {
            ctx.kill(ctx.pid());
            tx.send(ctx.is_exiting()).unwrap();
        });
        assert_eq!(rx.recv_timeout(TIMEOUT), Ok(true));
        assert_receive!(watcher, Received::Down(d) if d.mref == mref && d.reason == ExitReason::Killed);
    });
}

/// Rules 5 and 16 with R1: a killed idle process exits `killed` promptly;
/// its name is gone by the time its `DOWN` arrives; killing a dead pid is a
/// no-op.
#[test]
fn r1_kill_of_an_idle_process_and_of_a_dead_pid() {
    each_runtime(|rt| {
        let watcher: Probe<()> = Probe::spawn(rt);
        let p = puppet(rt);
        rt.register("victim", p.pid()).unwrap();
        let mref = watcher.monitor(p.pid());
        rt.kill(p.pid());
        assert_receive!(watcher, Received::Down(d) if d.mref == mref && d.reason == ExitReason::Killed);
        assert_eq!(rt.whereis("victim"), None);
        rt.kill(p.pid());
        let q = puppet(rt);
        assert_answers(&q);
        watcher.refute_receive(QUIET, |_| true);
    });
}
