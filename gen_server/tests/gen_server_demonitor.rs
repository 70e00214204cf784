//! `Ctx::demonitor` and `Ctx::demonitor_flush` in a gen_server: rules 32-33.
//!
//! A monitor on a pid that does not exist fires at once (rule 28): its
//! `DOWN` is queued before the handler that made it returns, which lets
//! each test see a `DOWN` that has already arrived without any timing.

mod common;

use common::*;
use rotp_runtime::testing::Probe;
use rotp_runtime::{ExitReason, Pid};

/// A pid that is gone: a process that exited.
fn dead_pid(rt: &rotp_runtime::Runtime) -> Pid {
    let p = rt.spawn_fn(|(): (), ctx| ctx.exit(ExitReason::Normal));
    p.send(());
    assert!(rt.await_exit(&p, Some(TIMEOUT)).is_some());
    p.pid()
}

/// Rule 32: a plain `demonitor` of a monitor whose `DOWN` has arrived
/// reports false and leaves the `DOWN` to `handle_info`.
#[test]
fn rule_32_ctx_demonitor_keeps_a_down_already_queued() {
    each_runtime(|rt| {
        let probe: Probe<Ev> = Probe::spawn(rt);
        let server = puppet(rt, &probe);
        let gone = dead_pid(rt);
        let (mref, active) = ask(&server, move |_, ctx| {
            let mref = ctx.monitor(gone);
            (mref, ctx.demonitor(mref))
        });
        assert!(!active, "the monitor had fired");
        match expect_event(&probe, |e| matches!(e, Ev::Down(d) if d.mref == mref)) {
            Ev::Down(d) => assert_eq!((d.pid, d.reason), (gone, ExitReason::NoProc)),
            _ => unreachable!(),
        }
    });
}

/// Rule 33: `demonitor_flush` removes the `DOWN` that has arrived and
/// reports false; on an active monitor it reports true and no `DOWN`
/// follows.
#[test]
fn rule_33_ctx_demonitor_flush_drops_a_down_already_queued() {
    each_runtime(|rt| {
        let probe: Probe<Ev> = Probe::spawn(rt);
        let server = puppet(rt, &probe);
        let gone = dead_pid(rt);
        let (mref, active) = ask(&server, move |_, ctx| {
            let mref = ctx.monitor(gone);
            (mref, ctx.demonitor_flush(mref))
        });
        assert!(!active, "the monitor had fired");
        let target = puppet(rt, &probe);
        let tp = target.pid().expect("a started server has a pid");
        let (live, active) = ask(&server, move |_, ctx| {
            let mref = ctx.monitor(tp);
            (mref, ctx.demonitor_flush(mref))
        });
        assert!(active, "an active monitor is found and removed");
        rt.kill(tp);
        refute_event(
            &probe,
            |e| matches!(e, Ev::Down(d) if d.mref == mref || d.mref == live),
        );
    });
}
