//! Monitors: rules 27-33 (`DOWN`, `noproc`, one-shot monitors, monitors by
//! name, `demonitor` and `demonitor_flush`).

mod common;

use common::*;
use rotp_runtime::testing::{wait_until, Probe, Received};
use rotp_runtime::{assert_receive, Addr, Context, Down, ExitReason, MonitorRef, Pid, Process};

/// The `DOWN` a puppet observed for `mref`.
#[track_caller]
fn await_down(events: &Probe<Event>, mref: MonitorRef) -> Down {
    match assert_receive!(events, Received::Message(Event::Down { down, .. }) if down.mref == mref)
    {
        Received::Message(Event::Down { down, .. }) => down,
        _ => unreachable!(),
    }
}

/// Whether a `DOWN` for `mref` reached a puppet.
fn is_down(mref: MonitorRef) -> impl FnMut(&Received<Event>) -> bool {
    move |e| matches!(e, Received::Message(Event::Down { down, .. }) if down.mref == mref)
}

/// Rule 27: `monitor` returns a fresh reference; the target's exit yields
/// `DOWN(ref, pid, reason)` to the watcher. Monitors are one-directional:
/// the watcher's death does not touch the target and leaves nothing behind
/// on it.
#[test]
fn rule_27_down_names_ref_pid_and_reason_and_is_one_directional() {
    each_runtime(|rt| {
        let events: Probe<Event> = Probe::spawn(rt);
        let watcher = observed_puppet(rt, &events);
        let target = puppet(rt);
        let tp = target.pid();
        let (m1, m2) = call(&watcher, move |ctx| (ctx.monitor(tp), ctx.monitor(tp)));
        assert_ne!(m1, m2);
        assert_eq!(
            rt.process_info(watcher.pid()).unwrap().monitors,
            vec![tp, tp]
        );
        assert_eq!(
            rt.process_info(tp).unwrap().monitored_by,
            vec![watcher.pid(), watcher.pid()]
        );
        cast(&target, |ctx| ctx.exit(ExitReason::custom("gone")));
        for mref in [m1, m2] {
            let down = await_down(&events, mref);
            assert_eq!(down.pid, tp);
            assert_eq!(down.reason, ExitReason::custom("gone"));
        }

        // The watcher dies; the target lives on, with no stale entry.
        let w2 = puppet(rt);
        let t2 = puppet(rt);
        let t2p = t2.pid();
        call(&w2, move |ctx| ctx.monitor(t2p));
        let outer: Probe<()> = Probe::spawn(rt);
        let mw = outer.monitor(w2.pid());
        cast(&w2, |ctx| ctx.exit(ExitReason::custom("watcher crash")));
        assert_receive!(outer, Received::Down(d) if d.mref == mw);
        assert_answers(&t2);
        assert!(wait_until(TIMEOUT, || rt
            .process_info(t2p)
            .unwrap()
            .monitored_by
            .is_empty()));
    });
}

/// Rule 28: monitoring a process that does not exist — dead, or never
/// existing — yields an immediate `DOWN` with reason `noproc`.
#[test]
fn rule_28_monitoring_a_dead_pid_yields_noproc() {
    each_runtime(|rt| {
        let events: Probe<Event> = Probe::spawn(rt);
        let watcher = observed_puppet(rt, &events);
        let dead = puppet(rt);
        let dp = dead.pid();
        let outer: Probe<()> = Probe::spawn(rt);
        let mo = outer.monitor(dp);
        rt.kill(dp);
        assert_receive!(outer, Received::Down(d) if d.mref == mo);

        for target in [dp, Pid::ROOT] {
            let mref = call(&watcher, move |ctx| ctx.monitor(target));
            let down = await_down(&events, mref);
            assert_eq!((down.pid, down.reason), (target, ExitReason::NoProc));
        }
        let mref = outer.monitor(dp);
        assert_receive!(outer, Received::Down(d) if d.mref == mref && d.reason == ExitReason::NoProc);
        assert!(rt.process_info(watcher.pid()).unwrap().monitors.is_empty());
    });
}

/// Rule 29: monitors are independent and one-shot: each fires exactly
/// once, and a fired monitor is gone from both sides.
#[test]
fn rule_29_each_monitor_fires_exactly_once() {
    each_runtime(|rt| {
        let events: Probe<Event> = Probe::spawn(rt);
        let a = observed_puppet(rt, &events);
        let b = observed_puppet(rt, &events);
        let target = puppet(rt);
        let tp = target.pid();
        let ma = call(&a, move |ctx| {
            [ctx.monitor(tp), ctx.monitor(tp), ctx.monitor(tp)]
        });
        let mb = call(&b, move |ctx| ctx.monitor(tp));
        rt.send_exit(tp, ExitReason::custom("x"));
        for mref in ma.into_iter().chain([mb]) {
            await_down(&events, mref);
        }
        events.refute_receive(QUIET, |_| true);
        assert!(rt.process_info(a.pid()).unwrap().monitors.is_empty());
        assert!(rt.process_info(b.pid()).unwrap().monitors.is_empty());
    });
}

/// Rule 30: a monitor by name resolves the name once, at creation; an
/// unregistered name yields an immediate `noproc`.
#[test]
fn rule_30_monitor_by_name_resolves_at_creation() {
    each_runtime(|rt| {
        let events: Probe<Event> = Probe::spawn(rt);
        let watcher = observed_puppet(rt, &events);
        let first = puppet(rt);
        let second = puppet(rt);
        rt.register("svc", first.pid()).unwrap();
        let mref = call(&watcher, |ctx| ctx.monitor_name("svc"));
        // The name moves to another process; the monitor stays with the first.
        assert!(rt.unregister("svc"));
        rt.register("svc", second.pid()).unwrap();
        rt.kill(second.pid());
        events.refute_receive(QUIET, is_down(mref));
        rt.send_exit(first.pid(), ExitReason::custom("first"));
        let down = await_down(&events, mref);
        assert_eq!(
            (down.pid, down.reason),
            (first.pid(), ExitReason::custom("first"))
        );

        let mref = call(&watcher, |ctx| ctx.monitor_name("nobody"));
        assert_eq!(await_down(&events, mref).reason, ExitReason::NoProc);
    });
}

/// Rule 31: a `DOWN` is always a message: it never kills the watcher,
/// whatever the reason, trapping or not.
#[test]
fn rule_31_down_never_kills() {
    each_runtime(|rt| {
        let events: Probe<Event> = Probe::spawn(rt);
        let watcher = observed_puppet(rt, &events);
        for reason in [
            ExitReason::Killed,
            ExitReason::custom("crash"),
            ExitReason::Shutdown,
        ] {
            let target = puppet(rt);
            let tp = target.pid();
            let mref = call(&watcher, move |ctx| ctx.monitor(tp));
            match &reason {
                ExitReason::Killed => rt.kill(tp),
                r => rt.send_exit(tp, r.clone()),
            }
            assert_eq!(await_down(&events, mref).reason, reason);
            assert_answers(&watcher);
        }
        assert!(!call(&watcher, |ctx| ctx.traps_exit()));
    });
}

/// Rules 32-33: `demonitor` of an active monitor returns true; no `DOWN`
/// follows and the target forgets the watcher. On a fired, removed or
/// unknown reference it returns false.
#[test]
fn rule_32_demonitor_of_an_active_monitor() {
    each_runtime(|rt| {
        let events: Probe<Event> = Probe::spawn(rt);
        let watcher = observed_puppet(rt, &events);
        let target = puppet(rt);
        let tp = target.pid();
        let mref = call(&watcher, move |ctx| ctx.monitor(tp));
        assert!(call(&watcher, move |ctx| ctx.demonitor(mref)));
        assert!(rt.process_info(tp).unwrap().monitored_by.is_empty());
        assert!(rt.process_info(watcher.pid()).unwrap().monitors.is_empty());
        assert!(
            !call(&watcher, move |ctx| ctx.demonitor(mref)),
            "already removed"
        );
        rt.kill(tp);
        events.refute_receive(QUIET, is_down(mref));

        // A fired monitor.
        let t2 = puppet(rt);
        let t2p = t2.pid();
        let fired = call(&watcher, move |ctx| ctx.monitor(t2p));
        rt.kill(t2p);
        await_down(&events, fired);
        assert!(!call(&watcher, move |ctx| ctx.demonitor(fired)));
        assert!(!call(&watcher, move |ctx| ctx.demonitor_flush(fired)));
    });
}

/// Rule 32: `demonitor` while the target is exiting and its `DOWN` is in
/// flight (the target's relations closed, its watchers not yet told): the
/// `DOWN` has not arrived, so the monitor is still active — `demonitor`
/// reports true, and the `DOWN` is never delivered.
#[test]
fn rule_32_demonitor_while_the_down_is_in_flight() {
    each_runtime(|rt| {
        let events: Probe<Event> = Probe::spawn(rt);
        let outer: Probe<()> = Probe::spawn(rt);
        let gate = Gate::new();
        let _open = gate.opener();
        let hold = HoldExitOnDrop(gate.clone());
        let target = rt.spawn_fn(move |(): (), ctx| {
            let _state = &hold;
            ctx.exit(ExitReason::custom("in flight"));
        });
        let tp = target.pid();
        let watcher = observed_puppet(rt, &events);
        let wp = watcher.pid();
        let mref = call(&watcher, move |ctx| ctx.monitor(tp));
        let m_outer = outer.monitor(tp);
        let h = rt.handle().clone();
        let (tx, rx) = std::sync::mpsc::channel();
        cast(&watcher, move |ctx| {
            rotp_runtime::blocking(|| wait_until(TIMEOUT, || !h.is_alive(tp)));
            tx.send(ctx.demonitor(mref)).unwrap();
            gate.open();
        });
        target.send(());
        assert_eq!(rx.recv_timeout(TIMEOUT), Ok(true));
        assert_receive!(outer, Received::Down(d) if d.mref == m_outer);
        // Gone: every watcher still holding a monitor has its DOWN queued.
        assert!(rt.await_exit(&target, Some(TIMEOUT)).is_some());
        assert_eq!(rt.process_info(wp).unwrap().mailbox_len, 0);
        assert_answers(&watcher);
        events.refute_receive(QUIET, is_down(mref));
    });
}

/// Holds `watcher` in a job until `gate` opens, kills a target it
/// monitors, and waits until the target's `DOWN` is queued behind the job;
/// then runs `then` in the watcher, which sees the `DOWN` already arrived.
/// Returns the monitor and what `then` returned.
fn with_down_queued<R: Send + 'static>(
    rt: &rotp_runtime::Runtime,
    watcher: &Addr<Job>,
    then: impl FnOnce(&mut Context<'_, Job>, MonitorRef) -> R + Send + 'static,
) -> (MonitorRef, R) {
    let wp = watcher.pid();
    let target = puppet(rt);
    let tp = target.pid();
    let mref = call(watcher, move |ctx| ctx.monitor(tp));
    let gate = Gate::new();
    let _open = gate.opener();
    let (tx, rx) = std::sync::mpsc::channel();
    hold_then(watcher, &gate, Hold::Block, move |ctx| {
        tx.send(then(ctx, mref)).unwrap();
    });
    rt.kill(tp);
    assert!(wait_until(TIMEOUT, || rt
        .process_info(wp)
        .is_some_and(|i| i.mailbox_len == 1)));
    gate.open();
    (mref, rx.recv_timeout(TIMEOUT).unwrap())
}

/// Rule 32: a `DOWN` that has already arrived when `demonitor` is called
/// stays in the mailbox and is handled. `demonitor` reports false: the
/// monitor had fired. (Only the flush variant, rule 33, drops the `DOWN`.)
#[test]
fn rule_32_demonitor_keeps_a_down_already_queued() {
    each_runtime(|rt| {
        let events: Probe<Event> = Probe::spawn(rt);
        let watcher = observed_puppet(rt, &events);
        let (mref, (before, active, after)) = with_down_queued(rt, &watcher, |ctx, mref| {
            let before = ctx.mailbox_len();
            let active = ctx.demonitor(mref);
            (before, active, ctx.mailbox_len())
        });
        assert_eq!(before, 1);
        assert!(!active, "the monitor had fired: demonitor reports false");
        assert_eq!(after, 1, "a plain demonitor leaves the DOWN queued");
        let down = await_down(&events, mref);
        assert_eq!(down.reason, ExitReason::Killed);
        assert_answers(&watcher);
    });
}

/// Rule 32: a `DOWN` already taken into the watcher's current batch (queued
/// behind the message being handled) is handled too after a plain
/// `demonitor`.
#[test]
fn rule_32_demonitor_keeps_a_down_behind_the_current_message() {
    each_runtime(|rt| {
        let events: Probe<Event> = Probe::spawn(rt);
        let watcher = observed_puppet(rt, &events);
        let wp = watcher.pid();
        let target = puppet(rt);
        let tp = target.pid();
        let mref = call(&watcher, move |ctx| ctx.monitor(tp));
        let gate = Gate::new();
        let _open = gate.opener();
        hold_then(&watcher, &gate, Hold::Block, |_| {});
        let (tx, rx) = std::sync::mpsc::channel();
        cast(&watcher, move |ctx| {
            tx.send(ctx.demonitor(mref)).unwrap();
        });
        rt.kill(tp);
        assert!(wait_until(TIMEOUT, || rt
            .process_info(wp)
            .is_some_and(|i| i.mailbox_len == 2)));
        gate.open();
        assert_eq!(rx.recv_timeout(TIMEOUT), Ok(false));
        await_down(&events, mref);
    });
}

/// Rule 33 `flush`: a `DOWN` already queued is removed and never handled;
/// the call reports false (the monitor had fired, a flush was needed).
#[test]
fn rule_33_demonitor_flush_removes_a_down_already_queued() {
    each_runtime(|rt| {
        let events: Probe<Event> = Probe::spawn(rt);
        let watcher = observed_puppet(rt, &events);
        let (mref, (before, active, after)) = with_down_queued(rt, &watcher, |ctx, mref| {
            let before = ctx.mailbox_len();
            let active = ctx.demonitor_flush(mref);
            (before, active, ctx.mailbox_len())
        });
        assert_eq!((before, active, after), (1, false, 0));
        events.refute_receive(QUIET, is_down(mref));
        assert_answers(&watcher);
    });
}

/// Rule 33 `flush` on an active monitor: nothing to flush, true; no `DOWN`
/// ever follows.
#[test]
fn rule_33_demonitor_flush_of_an_active_monitor() {
    each_runtime(|rt| {
        let events: Probe<Event> = Probe::spawn(rt);
        let watcher = observed_puppet(rt, &events);
        let target = puppet(rt);
        let tp = target.pid();
        let mref = call(&watcher, move |ctx| ctx.monitor(tp));
        assert!(call(&watcher, move |ctx| ctx.demonitor_flush(mref)));
        rt.kill(tp);
        events.refute_receive(QUIET, is_down(mref));
    });
}

/// Rule 33 `flush`: a `DOWN` the watcher has already taken into its current
/// batch (queued behind the message being handled) is removed as well.
#[test]
fn rule_33_demonitor_flush_removes_a_down_behind_the_current_message() {
    each_runtime(|rt| {
        let events: Probe<Event> = Probe::spawn(rt);
        let watcher = observed_puppet(rt, &events);
        let wp = watcher.pid();
        let target = puppet(rt);
        let tp = target.pid();
        let mref = call(&watcher, move |ctx| ctx.monitor(tp));
        let gate = Gate::new();
        let _open = gate.opener();
        hold_then(&watcher, &gate, Hold::Block, |_| {});
        // Behind the held job: the flushing job, then the DOWN.
        let (tx, rx) = std::sync::mpsc::channel();
        cast(&watcher, move |ctx| {
            let before = ctx.mailbox_len();
            let active = ctx.demonitor_flush(mref);
            tx.send((before, active, ctx.mailbox_len())).unwrap();
        });
        rt.kill(tp);
        assert!(wait_until(TIMEOUT, || rt
            .process_info(wp)
            .is_some_and(|i| i.mailbox_len == 2)));
        gate.open();
        assert_eq!(rx.recv_timeout(TIMEOUT).unwrap(), (1, false, 0));
        events.refute_receive(QUIET, is_down(mref));
    });
}

/// Spawns a child that exits at once.
struct ExitsInInit;

impl Process for ExitsInInit {
    type Message = ();

    fn init(&mut self, ctx: &mut Context<'_, ()>) {
        ctx.exit(ExitReason::custom("quick"));
    }

    fn handle(&mut self, (): (), _ctx: &mut Context<'_, ()>) {}
}

/// Rule 27 with `spawn_monitor` (atomic like rule 22's `spawn_link`): the
/// monitor exists before the child runs, so a child that exits at once
/// still yields its reason, never `noproc`.
#[test]
fn rule_27_spawn_monitor_is_atomic() {
    each_runtime(|rt| {
        let events: Probe<Event> = Probe::spawn(rt);
        let parent = observed_puppet(rt, &events);
        let check = || {
            for _ in 0..50 {
                let (child, mref) = call(&parent, |ctx| {
                    let (c, m) = ctx.spawn_monitor(ExitsInInit);
                    (c.pid(), m)
                });
                let down = await_down(&events, mref);
                assert_eq!(
                    (down.pid, down.reason),
                    (child, ExitReason::custom("quick"))
                );
            }
        };
        check();
        // With every worker blocked the parent runs on a spare thread, from
        // where the child may start on another thread at once.
        let gate = Gate::new();
        let _open = gate.opener();
        occupy_workers(rt, rt.workers(), &gate, Hold::Block);
        check();
    });
}
