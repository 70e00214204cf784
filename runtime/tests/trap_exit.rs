//! `trap_exit`: rules 24-26.

mod common;

use std::time::Duration;

use common::*;
use rotp_runtime::testing::{wait_until, Probe, Received};
use rotp_runtime::{assert_receive, Context, ExitReason, Pid, Process};

/// Rule 24: the flag defaults to false and setting it returns the previous
/// value; `spawn_trapping` sets it before the first instruction.
#[test]
fn rule_24_flag_defaults_to_false_and_returns_previous_value() {
    each_runtime(|rt| {
        let p = puppet(rt);
        let seen = call(&p, |ctx| {
            (
                ctx.traps_exit(),
                ctx.trap_exit(true),
                ctx.trap_exit(true),
                ctx.traps_exit(),
                ctx.trap_exit(false),
                ctx.traps_exit(),
            )
        });
        assert_eq!(seen, (false, false, true, true, true, false));
        assert!(!rt.process_info(p.pid()).unwrap().trap_exit);
        call(&p, |ctx| ctx.trap_exit(true));
        assert!(rt.process_info(p.pid()).unwrap().trap_exit);

        struct SeesFlagInInit(std::sync::mpsc::Sender<bool>);
        impl Process for SeesFlagInInit {
            type Message = ();
            fn init(&mut self, ctx: &mut Context<'_, ()>) {
                self.0.send(ctx.traps_exit()).unwrap();
            }
            fn handle(&mut self, (): (), _ctx: &mut Context<'_, ()>) {}
        }
        let (tx, rx) = std::sync::mpsc::channel();
        rt.spawn_trapping(SeesFlagInInit(tx.clone()));
        rt.spawn(SeesFlagInInit(tx));
        let mut flags = [
            rx.recv_timeout(TIMEOUT).unwrap(),
            rx.recv_timeout(TIMEOUT).unwrap(),
        ];
        flags.sort();
        assert_eq!(flags, [false, true]);
    });
}

/// Rule 24: while trapping, every exit signal — link or explicit, `normal`
/// included — becomes an `EXIT` message, and the process lives on.
#[test]
fn rule_24_every_exit_signal_becomes_a_message_while_trapping() {
    each_runtime(|rt| {
        let events: Probe<Event> = Probe::spawn(rt);
        let t = trapping_puppet(rt, &events);
        let tp = t.pid();
        let mut expected = Vec::new();
        // Over links, with every kind of reason.
        for reason in [
            ExitReason::Normal,
            ExitReason::Shutdown,
            ExitReason::custom("boom"),
        ] {
            let peer = puppet(rt);
            let pp = peer.pid();
            call(&t, move |ctx| ctx.link(pp)).unwrap();
            let r = reason.clone();
            cast(&peer, move |ctx| ctx.exit(r));
            expected.push((pp, reason));
        }
        let killed = puppet(rt);
        let kp = killed.pid();
        call(&t, move |ctx| ctx.link(kp)).unwrap();
        rt.kill(kp);
        expected.push((kp, ExitReason::Killed));
        // Explicit, from outside.
        for reason in [ExitReason::Normal, ExitReason::custom("explicit")] {
            rt.send_exit(tp, reason.clone());
            expected.push((Pid::ROOT, reason));
        }
        for (from, reason) in expected {
            assert_receive!(events, Received::Message(Event::Exit { at, from: f, reason: r })
                if *at == tp && *f == from && *r == reason);
        }
        assert_answers(&t);
        assert!(t.is_alive());
    });
}

/// Rule 24 (with rule 5): `kill` is the one signal trapping does not catch.
#[test]
fn rule_24_kill_is_not_trapped() {
    each_runtime(|rt| {
        let events: Probe<Event> = Probe::spawn(rt);
        let watcher: Probe<()> = Probe::spawn(rt);
        let t = trapping_puppet(rt, &events);
        let mref = watcher.monitor(t.pid());
        rt.kill(t.pid());
        assert_receive!(watcher, Received::Down(d) if d.mref == mref && d.reason == ExitReason::Killed);
        events.refute_receive(QUIET, |_| true);
    });
}

/// Rule 25: the flag's value when the signal is *received* decides. A
/// process that traps when the signal arrives keeps the `EXIT` message even
/// if it stops trapping before handling it; a process that does not trap
/// when the signal arrives dies even if it starts trapping afterwards.
#[test]
fn rule_25_flag_at_reception_decides() {
    each_runtime(|rt| {
        let events: Probe<Event> = Probe::spawn(rt);
        let watcher: Probe<()> = Probe::spawn(rt);

        // Trapping at reception, not trapping when the EXIT is handled.
        let gate = Gate::new();
        let _open = gate.opener();
        let a = trapping_puppet(rt, &events);
        let ap = a.pid();
        let ma = watcher.monitor(ap);
        hold_then(&a, &gate, Hold::Block, |ctx| {
            ctx.trap_exit(false);
        });
        rt.send_exit(ap, ExitReason::custom("late"));
        assert!(wait_until(TIMEOUT, || rt
            .process_info(ap)
            .is_some_and(|i| i.mailbox_len == 1)));
        gate.open();
        assert_receive!(events, Received::Message(Event::Exit { at, reason, .. }) if *at == ap && *reason == ExitReason::custom("late"));
        watcher.refute_receive(QUIET, |e| matches!(e, Received::Down(d) if d.mref == ma));
        assert!(!call(&a, |ctx| ctx.traps_exit()));

        // Not trapping at reception, trapping by the time it could handle it.
        let gate = Gate::new();
        let _open = gate.opener();
        let b = observed_puppet(rt, &events);
        let bp = b.pid();
        let mb = watcher.monitor(bp);
        hold_then(&b, &gate, Hold::Block, |ctx| {
            ctx.trap_exit(true);
        });
        rt.send_exit(bp, ExitReason::custom("early"));
        assert!(!rt.is_alive(bp), "the signal marks it exiting at once");
        gate.open();
        assert_receive!(watcher, Received::Down(d) if d.mref == mb && d.reason == ExitReason::custom("early"));
        events.refute_receive(QUIET, |_| true);
    });
}

/// Rule 26: a link signal that arrives after the link was removed is
/// dropped: the unlinked peer's crash reaches neither a trapping nor a
/// non-trapping process.
#[test]
fn rule_26_stale_link_signals_are_dropped() {
    each_runtime(|rt| {
        let events: Probe<Event> = Probe::spawn(rt);
        let watcher: Probe<()> = Probe::spawn(rt);
        let trapper = trapping_puppet(rt, &events);
        let plain = observed_puppet(rt, &events);
        let peer = puppet(rt);
        let pp = peer.pid();
        for p in [&trapper, &plain] {
            call(p, move |ctx| {
                ctx.link(pp).unwrap();
                ctx.unlink(pp);
            });
        }
        // Both links are gone; now the peer crashes.
        let mp = watcher.monitor(pp);
        let mplain = watcher.monitor(plain.pid());
        cast(&peer, |_| panic!("unlinked crash"));
        assert_receive!(watcher, Received::Down(d) if d.mref == mp);
        events.refute_receive(QUIET, |_| true);
        watcher.refute_receive(
            QUIET,
            |e| matches!(e, Received::Down(d) if d.mref == mplain),
        );
        assert_answers(&trapper);
        assert_answers(&plain);
    });
}

/// Rule 26, in flight: the peer is exiting and its link signal is on its
/// way (the peer has closed its relations, not yet notified them) when the
/// receiver unlinks. The signal arrives after the link was removed and is
/// dropped: a non-trapping receiver survives, a trapping one gets no
/// `EXIT`.
#[test]
fn rule_26_link_signal_in_flight_during_unlink_is_dropped() {
    each_runtime(|rt| {
        let events: Probe<Event> = Probe::spawn(rt);
        let watcher: Probe<()> = Probe::spawn(rt);
        for trapping in [false, true] {
            let gate = Gate::new();
            let _open = gate.opener();
            let hold = HoldExitOnDrop(gate.clone());
            let peer = rt.spawn_fn(move |(): (), ctx| {
                let _state = &hold;
                ctx.exit(ExitReason::custom("in flight"));
            });
            let pp = peer.pid();
            let receiver = if trapping {
                trapping_puppet(rt, &events)
            } else {
                observed_puppet(rt, &events)
            };
            call(&receiver, move |ctx| ctx.link(pp)).unwrap();
            let m_peer = watcher.monitor(pp);
            let m_receiver = watcher.monitor(receiver.pid());
            let h = rt.handle().clone();
            cast(&receiver, move |ctx| {
                // The peer is exiting: its relations are closed.
                rotp_runtime::blocking(|| wait_until(TIMEOUT, || !h.is_alive(pp)));
                ctx.unlink(pp);
                gate.open();
            });
            peer.send(());
            assert_receive!(watcher, Received::Down(d) if d.mref == m_peer
                && d.reason == ExitReason::custom("in flight"));
            watcher.refute_receive(
                QUIET,
                |e| matches!(e, Received::Down(d) if d.mref == m_receiver),
            );
            events.refute_receive(Duration::ZERO, |_| true);
            assert_answers(&receiver);
        }
    });
}

/// Rule 24, turned off again: a process that stops trapping is killed by
/// the next abnormal link signal, with its reason.
#[test]
fn rule_24_turning_trap_exit_off_restores_link_deaths() {
    each_runtime(|rt| {
        let events: Probe<Event> = Probe::spawn(rt);
        let watcher: Probe<()> = Probe::spawn(rt);
        let p = trapping_puppet(rt, &events);
        let peer = puppet(rt);
        let pp = peer.pid();
        call(&p, move |ctx| {
            ctx.link(pp).unwrap();
            ctx.trap_exit(false);
        });
        let mref = watcher.monitor(p.pid());
        cast(&peer, |ctx| ctx.exit(ExitReason::custom("now fatal")));
        assert_receive!(watcher, Received::Down(d) if d.mref == mref && d.reason == ExitReason::custom("now fatal"));
        events.refute_receive(QUIET, |_| true);
    });
}
