//! Monitors across nodes: by pid and by name, both ways; demonitor.

mod common;

use std::time::Duration;

use common::{cookie, erl_pid, init_log, rotp_node, share_pid, Actor, Erl, Event};
use rotp_dist::Dest;
use rotp_runtime::ExitReason;

const QUIET: Duration = Duration::from_millis(300);

/// How many monitors are held on the actor.
fn watchers(rt: &rotp_runtime::Runtime, actor: &Actor) -> usize {
    rt.process_info(actor.addr.pid())
        .map_or(0, |i| i.monitored_by.len())
}

fn down_of(ev: Event) -> rotp_runtime::Down {
    match ev {
        Event::Down(d) => d,
        other => panic!("expected a Down, got {other:?}"),
    }
}

#[test]
fn rotp_monitors_an_erlang_pid() {
    init_log();
    let c = cookie();
    let (rt, node) = rotp_node(&c);
    let mut erl = Erl::start(&c);
    erl.eval("W = spawn(fun() -> receive {die, R} -> exit(R) end end)");
    let w = erl_pid(&mut erl, &node, "W");
    let actor = Actor::spawn(&rt, &node, false);
    let (n, w2) = (node.clone(), w.clone());
    let mref = actor.run(move |ctx| n.monitor(ctx, &w2));
    erl.eval_until("element(2, process_info(W, monitored_by)) =/= []", "true");
    erl.eval("W ! {die, {shutdown, maintenance}}");
    let down = down_of(actor.next());
    assert_eq!(down.mref, mref);
    assert_eq!(down.reason, ExitReason::shutdown_with("maintenance"));
    assert_eq!(node.remote_of(down.pid), Some(Dest::Pid(w)));
}

#[test]
fn rotp_monitors_an_erlang_name() {
    init_log();
    let c = cookie();
    let (rt, node) = rotp_node(&c);
    let mut erl = Erl::start(&c);
    erl.eval("W = spawn(fun() -> receive {die, R} -> exit(R) end end), register(worker, W)");
    let actor = Actor::spawn(&rt, &node, false);
    let (n, e) = (node.clone(), erl.name.clone());
    let mref = actor.run(move |ctx| n.monitor(ctx, ("worker", e.as_str())));
    erl.eval_until("element(2, process_info(W, monitored_by)) =/= []", "true");
    erl.eval("W ! {die, gone}");
    let down = down_of(actor.next());
    assert_eq!((down.mref, down.reason), (mref, ExitReason::custom("gone")));
    assert!(matches!(node.remote_of(down.pid), Some(Dest::Name { .. })));

    // A name nobody holds: noproc at once.
    let (n, e) = (node.clone(), erl.name.clone());
    let mref = actor.run(move |ctx| n.monitor(ctx, ("nobody", e.as_str())));
    let down = down_of(actor.next());
    assert_eq!((down.mref, down.reason), (mref, ExitReason::NoProc));
}

#[test]
fn demonitor_means_no_down() {
    init_log();
    let c = cookie();
    let (rt, node) = rotp_node(&c);
    let mut erl = Erl::start(&c);
    erl.eval("W = spawn(fun() -> receive {die, R} -> exit(R) end end)");
    let w = erl_pid(&mut erl, &node, "W");
    let actor = Actor::spawn(&rt, &node, false);
    let n = node.clone();
    let mref = actor.run(move |ctx| n.monitor(ctx, &w));
    erl.eval_until("element(2, process_info(W, monitored_by)) =/= []", "true");
    let n = node.clone();
    assert!(actor.run(move |ctx| n.demonitor(ctx, mref)));
    erl.eval_until("element(2, process_info(W, monitored_by))", "[]");
    erl.eval("W ! {die, boom}");
    actor.quiet(QUIET);
}

#[test]
fn erlang_monitors_a_rotp_pid_and_a_rotp_name() {
    init_log();
    let c = cookie();
    let (rt, node) = rotp_node(&c);
    let mut erl = Erl::start(&c);
    let by_pid = Actor::spawn(&rt, &node, false);
    share_pid(&mut erl, &node, &by_pid, "R");
    let before = watchers(&rt, &by_pid);
    erl.eval("M = monitor(process, R)");
    common::eventually("the monitor reaches the rotp process", || {
        watchers(&rt, &by_pid) == before + 1
    });
    by_pid.run(|ctx| ctx.exit(ExitReason::custom("bye")));
    assert_eq!(
        erl.eval("receive {'DOWN', M, process, R, Why} -> Why after 10000 -> timeout end"),
        "bye"
    );

    let by_name = Actor::spawn(&rt, &node, false);
    node.register("named", &by_name.addr).unwrap();
    let before = watchers(&rt, &by_name);
    let rotp = node.name().as_str().to_owned();
    erl.eval(&format!("M2 = monitor(process, {{named, '{rotp}'}})"));
    common::eventually("the monitor reaches the named process", || {
        watchers(&rt, &by_name) == before + 1
    });
    by_name.run(|ctx| ctx.exit(ExitReason::Shutdown));
    assert_eq!(
        erl.eval(
            "receive {'DOWN', M2, process, Who, Why2} -> {Who, Why2} after 10000 -> timeout end"
        ),
        format!("{{{{named,'{rotp}'}},shutdown}}")
    );

    // Monitoring a name nobody holds.
    erl.eval(&format!("M3 = monitor(process, {{nobody, '{rotp}'}})"));
    assert_eq!(
        erl.eval("receive {'DOWN', M3, process, _, Why3} -> Why3 after 10000 -> timeout end"),
        "noproc"
    );
}

#[test]
fn erlang_demonitor_is_honoured() {
    init_log();
    let c = cookie();
    let (rt, node) = rotp_node(&c);
    let mut erl = Erl::start(&c);
    let actor = Actor::spawn(&rt, &node, false);
    share_pid(&mut erl, &node, &actor, "R");
    let before = watchers(&rt, &actor);
    erl.eval("M = monitor(process, R)");
    common::eventually("the monitor arrives", || {
        watchers(&rt, &actor) == before + 1
    });
    erl.eval("demonitor(M)");
    common::eventually("the demonitor arrives", || watchers(&rt, &actor) == before);
    actor.run(|ctx| ctx.exit(ExitReason::custom("bye")));
    assert_eq!(
        erl.eval("receive {'DOWN', M, _, _, _} -> down after 300 -> none end"),
        "none"
    );
}
