//! Links and exit signals: rules 4-9 (exit reasons over links and
//! `exit/2`) and 18-23 (links, `spawn_link`, cascades).

mod common;

use common::*;
use rotp_runtime::testing::{Probe, Received};
use rotp_runtime::{assert_receive, Context, ExitReason, NoProc, Pid, Process};

/// Waits for the `DOWN` of `mref` on `watcher` and returns its reason.
#[track_caller]
fn down_reason<M: Send + std::fmt::Debug + 'static>(
    watcher: &Probe<M>,
    mref: rotp_runtime::MonitorRef,
) -> ExitReason {
    match assert_receive!(watcher, Received::Down(d) if d.mref == mref) {
        Received::Down(d) => d.reason,
        _ => unreachable!(),
    }
}

/// Rule 4: over a link, `normal` is harmless to a non-trapping process;
/// every other reason — `shutdown` and `{shutdown, _}` included — kills it
/// with that same reason.
#[test]
fn rule_4_only_normal_is_harmless_over_a_link() {
    each_runtime(|rt| {
        let watcher: Probe<()> = Probe::spawn(rt);
        for reason in [
            ExitReason::Normal,
            ExitReason::Shutdown,
            ExitReason::shutdown_with("maintenance"),
            ExitReason::custom("boom"),
        ] {
            let a = puppet(rt);
            let b = puppet(rt);
            let b_pid = b.pid();
            call(&a, move |ctx| ctx.link(b_pid)).unwrap();
            let ma = watcher.monitor(a.pid());
            let mb = watcher.monitor(b.pid());
            let r = reason.clone();
            cast(&b, move |ctx| ctx.exit(r));
            assert_eq!(down_reason(&watcher, mb), reason);
            if reason.is_normal() {
                watcher.refute_receive(QUIET, |e| matches!(e, Received::Down(d) if d.mref == ma));
                assert_answers(&a);
                assert!(call(&a, |ctx| ctx
                    .handle()
                    .process_info(ctx.pid())
                    .unwrap()
                    .links)
                .is_empty());
                rt.kill(a.pid());
            } else {
                assert_eq!(down_reason(&watcher, ma), reason, "A dies with B's reason");
            }
        }
    });
}

/// Rule 5: a kill terminates even a process that traps exits, with reason
/// `killed`, and is not turned into an `EXIT` message.
#[test]
fn rule_5_kill_is_untrappable_and_exits_killed() {
    each_runtime(|rt| {
        let events: Probe<Event> = Probe::spawn(rt);
        let watcher: Probe<()> = Probe::spawn(rt);
        let p = trapping_puppet(rt, &events);
        assert!(call(&p, |ctx| ctx.traps_exit()));
        let mref = watcher.monitor(p.pid());
        rt.kill(p.pid());
        assert_eq!(down_reason(&watcher, mref), ExitReason::Killed);
        events.refute_receive(QUIET, |_| true);
        // From inside a process too.
        let q = trapping_puppet(rt, &events);
        let killer = puppet(rt);
        let mref = watcher.monitor(q.pid());
        let q_pid = q.pid();
        call(&killer, move |ctx| ctx.kill(q_pid));
        assert_eq!(down_reason(&watcher, mref), ExitReason::Killed);
        events.refute_receive(QUIET, |_| true);
    });
}

/// Rules 6 and 7 (with R4): a killed process's links receive `killed`, an
/// ordinary reason — trappable by a trapping peer, fatal (as `killed`) to a
/// non-trapping one.
#[test]
fn rule_6_link_fan_out_of_a_killed_process_carries_killed() {
    each_runtime(|rt| {
        let events: Probe<Event> = Probe::spawn(rt);
        let watcher: Probe<()> = Probe::spawn(rt);
        let victim = puppet(rt);
        let trapper = trapping_puppet(rt, &events);
        let plain = puppet(rt);
        let v = victim.pid();
        call(&trapper, move |ctx| ctx.link(v)).unwrap();
        call(&plain, move |ctx| ctx.link(v)).unwrap();
        let m_plain = watcher.monitor(plain.pid());
        rt.kill(v);
        assert_receive!(events, Received::Message(Event::Exit { from, reason: ExitReason::Killed, .. }) if *from == v);
        assert_eq!(down_reason(&watcher, m_plain), ExitReason::Killed);
        assert_answers(&trapper);
    });
}

/// Rule 8: `exit(pid, normal)` is ignored by a non-trapping process, becomes
/// `EXIT(sender, normal)` for a trapping one, and ends the caller when sent
/// to itself.
#[test]
fn rule_8_explicit_normal_exit_signal() {
    each_runtime(|rt| {
        let events: Probe<Event> = Probe::spawn(rt);
        let watcher: Probe<()> = Probe::spawn(rt);

        // Non-trapping target: ignored, from outside and from a process.
        let target = puppet(rt);
        let mref = watcher.monitor(target.pid());
        let sender = puppet(rt);
        rt.send_exit(target.pid(), ExitReason::Normal);
        let t = target.pid();
        call(&sender, move |ctx| ctx.send_exit(t, ExitReason::Normal));
        assert_answers(&target);
        assert!(target.is_alive());
        watcher.refute_receive(QUIET, |e| matches!(e, Received::Down(d) if d.mref == mref));

        // Trapping target: an EXIT message naming the sender.
        let trapper = trapping_puppet(rt, &events);
        let tr = trapper.pid();
        rt.send_exit(tr, ExitReason::Normal);
        assert_receive!(events, Received::Message(Event::Exit { at, from: Pid::ROOT, reason: ExitReason::Normal }) if *at == tr);
        let s = sender.pid();
        call(&sender, move |ctx| ctx.send_exit(tr, ExitReason::Normal));
        assert_receive!(events, Received::Message(Event::Exit { at, from, reason: ExitReason::Normal }) if *at == tr && *from == s);
        assert_answers(&trapper);

        // To itself: the caller exits normal.
        let selfish = puppet(rt);
        let mref = watcher.monitor(selfish.pid());
        cast(&selfish, |ctx| ctx.send_exit(ctx.pid(), ExitReason::Normal));
        assert_eq!(down_reason(&watcher, mref), ExitReason::Normal);
    });
}

/// Rule 9: `exit(pid, reason)` with any other reason kills a non-trapping
/// target with that reason, and reaches a trapping one as
/// `EXIT(caller, reason)`.
#[test]
fn rule_9_explicit_exit_signal_with_other_reasons() {
    each_runtime(|rt| {
        let events: Probe<Event> = Probe::spawn(rt);
        let watcher: Probe<()> = Probe::spawn(rt);
        let sender = puppet(rt);
        for reason in [
            ExitReason::Shutdown,
            ExitReason::custom("bad"),
            ExitReason::Killed,
        ] {
            let target = puppet(rt);
            let mref = watcher.monitor(target.pid());
            let (t, r) = (target.pid(), reason.clone());
            call(&sender, move |ctx| ctx.send_exit(t, r));
            assert_eq!(down_reason(&watcher, mref), reason);

            let trapper = trapping_puppet(rt, &events);
            let (tr, s, r) = (trapper.pid(), sender.pid(), reason.clone());
            call(&sender, move |ctx| ctx.send_exit(tr, r));
            assert_receive!(events, Received::Message(Event::Exit { at, from, reason: got }) if *at == tr && *from == s && *got == reason);
            rt.send_exit(tr, reason.clone());
            assert_receive!(events, Received::Message(Event::Exit { at, from: Pid::ROOT, reason: got }) if *at == tr && *got == reason);
            assert_answers(&trapper);
        }
    });
}

/// Rule 18: linking twice, or linking to oneself, is a no-op that succeeds;
/// the pair holds one link, so one `EXIT` arrives.
#[test]
fn rule_18_links_are_unique_per_pair_and_self_link_is_a_no_op() {
    each_runtime(|rt| {
        let events: Probe<Event> = Probe::spawn(rt);
        let a = trapping_puppet(rt, &events);
        let b = puppet(rt);
        let (a_pid, b_pid) = (a.pid(), b.pid());
        call(&a, move |ctx| {
            ctx.link(b_pid).unwrap();
            ctx.link(b_pid).unwrap();
            ctx.link(ctx.pid()).unwrap();
        });
        call(&b, move |ctx| ctx.link(a_pid)).unwrap();
        assert_eq!(rt.process_info(a_pid).unwrap().links, vec![b_pid]);
        assert_eq!(rt.process_info(b_pid).unwrap().links, vec![a_pid]);
        rt.send_exit(b_pid, ExitReason::custom("bye"));
        assert_receive!(events, Received::Message(Event::Exit { from, .. }) if *from == b_pid);
        events.refute_receive(QUIET, |_| true);
        assert!(rt.process_info(a_pid).unwrap().links.is_empty());
    });
}

/// Rule 19: a linked, trapping process receives the terminated side's exit
/// reason, whatever ended it (here a panic).
#[test]
fn rule_19_termination_propagates_with_the_exit_reason() {
    each_runtime(|rt| {
        let events: Probe<Event> = Probe::spawn(rt);
        let a = trapping_puppet(rt, &events);
        let b = puppet(rt);
        let b_pid = b.pid();
        call(&a, move |ctx| ctx.link(b_pid)).unwrap();
        cast(&b, |_| panic!("link me"));
        assert_receive!(events, Received::Message(Event::Exit { from, reason: ExitReason::Panic(p), .. })
            if *from == b_pid && p.message == "link me");
    });
}

/// Rule 20: linking to a process that does not exist fails with `noproc`
/// for a non-trapping caller, and yields `EXIT(pid, noproc)` to a trapping
/// one. No half link is left behind.
#[test]
fn rule_20_link_to_a_dead_pid() {
    each_runtime(|rt| {
        let events: Probe<Event> = Probe::spawn(rt);
        let watcher: Probe<()> = Probe::spawn(rt);
        let dead = puppet(rt);
        let dead_pid = dead.pid();
        let mref = watcher.monitor(dead_pid);
        rt.kill(dead_pid);
        down_reason(&watcher, mref);

        let plain = puppet(rt);
        assert_eq!(
            call(&plain, move |ctx| ctx.link(dead_pid)),
            Err(NoProc(dead_pid))
        );
        assert_eq!(
            call(&plain, |ctx| ctx.link(Pid::ROOT)),
            Err(NoProc(Pid::ROOT))
        );
        assert!(rt.process_info(plain.pid()).unwrap().links.is_empty());
        assert_answers(&plain);

        let trapper = trapping_puppet(rt, &events);
        let tr = trapper.pid();
        assert_eq!(call(&trapper, move |ctx| ctx.link(dead_pid)), Ok(()));
        assert_receive!(events, Received::Message(Event::Exit { at, from, reason: ExitReason::NoProc }) if *at == tr && *from == dead_pid);
        assert!(rt.process_info(tr).unwrap().links.is_empty());
        assert_eq!(rt.link_pids(dead_pid, tr), Err(NoProc(dead_pid)));
    });
}

/// Rule 21: `unlink` always succeeds; after it returns the peer's exit has
/// no effect on either side.
#[test]
fn rule_21_unlink_removes_both_sides() {
    each_runtime(|rt| {
        let watcher: Probe<()> = Probe::spawn(rt);
        let a = puppet(rt);
        let b = puppet(rt);
        let (a_pid, b_pid) = (a.pid(), b.pid());
        call(&a, move |ctx| {
            ctx.unlink(b_pid); // no link yet: fine
            ctx.link(b_pid).unwrap();
            ctx.unlink(b_pid);
        });
        assert!(rt.process_info(a_pid).unwrap().links.is_empty());
        assert!(rt.process_info(b_pid).unwrap().links.is_empty());
        let ma = watcher.monitor(a_pid);
        let mb = watcher.monitor(b_pid);
        cast(&b, |ctx| ctx.exit(ExitReason::custom("alone")));
        assert_eq!(down_reason(&watcher, mb), ExitReason::custom("alone"));
        watcher.refute_receive(QUIET, |e| matches!(e, Received::Down(d) if d.mref == ma));
        assert_answers(&a);
        call(&a, move |ctx| ctx.unlink(b_pid)); // peer dead: fine
        assert_answers(&a);
    });
}

/// Rule 21: an `EXIT` already queued before the `unlink` stays in the
/// mailbox and is still handled.
#[test]
fn rule_21_exit_queued_before_unlink_stays() {
    each_runtime(|rt| {
        let events: Probe<Event> = Probe::spawn(rt);
        let a = trapping_puppet(rt, &events);
        let b = puppet(rt);
        let (a_pid, b_pid) = (a.pid(), b.pid());
        call(&a, move |ctx| ctx.link(b_pid)).unwrap();
        let gate = Gate::new();
        let _open = gate.opener();
        hold_then(&a, &gate, Hold::Block, move |ctx| ctx.unlink(b_pid));
        cast(&b, |ctx| ctx.exit(ExitReason::custom("early")));
        assert!(
            rotp_runtime::testing::wait_until(TIMEOUT, || rt
                .process_info(a_pid)
                .is_some_and(|i| i.mailbox_len >= 1)),
            "B's EXIT is queued while A is busy"
        );
        gate.open();
        assert_receive!(events, Received::Message(Event::Exit { at, from, reason }) if *at == a_pid && *from == b_pid && *reason == ExitReason::custom("early"));
    });
}

/// A process that panics in `init`.
struct CrashInInit;

impl Process for CrashInInit {
    type Message = ();

    fn init(&mut self, _ctx: &mut Context<'_, ()>) {
        panic!("instant crash");
    }

    fn handle(&mut self, (): (), _ctx: &mut Context<'_, ()>) {}
}

/// Rule 22: `spawn_link` is atomic: a child that crashes in its first
/// instruction still takes the link down (never `noproc`), for trapping
/// and non-trapping parents. Repeated so that a race would show.
#[test]
fn rule_22_spawn_link_is_atomic() {
    each_runtime(|rt| {
        let events: Probe<Event> = Probe::spawn(rt);
        let watcher: Probe<()> = Probe::spawn(rt);
        let parent = trapping_puppet(rt, &events);
        let p = parent.pid();
        for _ in 0..50 {
            let child = call(&parent, |ctx| ctx.spawn_link(CrashInInit).pid());
            assert_receive!(events, Received::Message(Event::Exit { at, from, reason: ExitReason::Panic(r) })
                if *at == p && *from == child && r.message == "instant crash");
        }
        for _ in 0..20 {
            let plain = puppet(rt);
            let mref = watcher.monitor(plain.pid());
            cast(&plain, |ctx| {
                ctx.spawn_link(CrashInInit);
            });
            match down_reason(&watcher, mref) {
                ExitReason::Panic(r) => assert_eq!(r.message, "instant crash"),
                other => panic!("the parent must die of the child's crash, got {other:?}"),
            }
        }
        // Again with every worker blocked, so that the parent runs on a
        // spare thread: there a new process goes to the shared queue and
        // may start on another thread before `spawn_link` returns.
        let gate = Gate::new();
        let _open = gate.opener();
        occupy_workers(rt, rt.workers(), &gate, Hold::Block);
        for _ in 0..50 {
            let child = call(&parent, |ctx| ctx.spawn_link(CrashInInit).pid());
            assert_receive!(events, Received::Message(Event::Exit { at, from, reason: ExitReason::Panic(r) })
                if *at == p && *from == child && r.message == "instant crash");
        }
    });
}

/// Rule 23: a non-trapping process killed by a link signal passes the same
/// reason on to its other links; a trapping process stops the cascade.
#[test]
fn rule_23_exit_cascades_along_links_until_a_trapping_process() {
    each_runtime(|rt| {
        let events: Probe<Event> = Probe::spawn(rt);
        let watcher: Probe<()> = Probe::spawn(rt);
        // beyond — trapper — c0 — c1 — c2 — c3 — c4
        //                            └── fan0, fan1 (also linked to c2)
        let chain: Vec<_> = (0..5).map(|_| puppet(rt)).collect();
        let fans: Vec<_> = (0..2).map(|_| puppet(rt)).collect();
        let trapper = trapping_puppet(rt, &events);
        let beyond = puppet(rt);
        for pair in chain.windows(2) {
            let next = pair[1].pid();
            call(&pair[0], move |ctx| ctx.link(next)).unwrap();
        }
        for f in &fans {
            let c2 = chain[2].pid();
            call(f, move |ctx| ctx.link(c2)).unwrap();
        }
        let c0 = chain[0].pid();
        call(&trapper, move |ctx| ctx.link(c0)).unwrap();
        let t = trapper.pid();
        call(&beyond, move |ctx| ctx.link(t)).unwrap();
        let mrefs: Vec<_> = chain
            .iter()
            .chain(&fans)
            .map(|p| watcher.monitor(p.pid()))
            .collect();
        let m_beyond = watcher.monitor(beyond.pid());
        let m_trapper = watcher.monitor(t);

        let reason = ExitReason::custom("cascade");
        rt.send_exit(chain[4].pid(), reason.clone());
        for mref in mrefs {
            assert_eq!(down_reason(&watcher, mref), reason);
        }
        assert_receive!(events, Received::Message(Event::Exit { at, from, reason: r }) if *at == t && *from == c0 && *r == reason);
        watcher.refute_receive(
            QUIET,
            |e| matches!(e, Received::Down(d) if d.mref == m_beyond || d.mref == m_trapper),
        );
        assert_answers(&trapper);
        assert_answers(&beyond);
    });
}
