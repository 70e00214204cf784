//! Links across nodes: exits both ways, unlink, noproc, exit/2.

mod common;

use std::time::Duration;

use common::{cookie, erl_pid, init_log, rotp_node, share_pid, Actor, Erl, Event};
use rotp_dist::Dest;
use rotp_runtime::ExitReason;

const QUIET: Duration = Duration::from_millis(300);

#[test]
fn an_erlang_exit_reaches_a_linked_rotp_process() {
    init_log();
    let c = cookie();
    let (rt, node) = rotp_node(&c);
    let mut erl = Erl::start(&c);
    erl.eval("W = spawn(fun() -> receive {die, R} -> exit(R) end end)");
    let w = erl_pid(&mut erl, &node, "W");

    let actor = Actor::spawn(&rt, &node, true);
    let (n, w2) = (node.clone(), w.clone());
    let proxy = actor.run(move |ctx| n.link(ctx, &w2));
    assert_eq!(node.remote_of(proxy), Some(Dest::Pid(w.clone())));
    erl.eval_until("element(2, process_info(W, links)) =/= []", "true");

    erl.eval("W ! {die, boom}");
    assert_eq!(actor.next(), Event::Exit(proxy, ExitReason::custom("boom")));
}

#[test]
fn a_non_trapping_rotp_process_dies_with_its_erlang_link() {
    init_log();
    let c = cookie();
    let (rt, node) = rotp_node(&c);
    let mut erl = Erl::start(&c);
    erl.eval("W = spawn(fun() -> receive {die, R} -> exit(R) end end)");
    let w = erl_pid(&mut erl, &node, "W");
    let actor = Actor::spawn(&rt, &node, false);
    let n = node.clone();
    actor.run(move |ctx| n.link(ctx, &w));
    erl.eval_until("element(2, process_info(W, links)) =/= []", "true");
    erl.eval("W ! {die, boom}");
    assert_eq!(
        actor.addr.await_exit(Some(common::TIMEOUT)),
        Some(ExitReason::custom("boom"))
    );
}

#[test]
fn a_rotp_exit_reaches_a_linked_erlang_process() {
    init_log();
    let c = cookie();
    let (rt, node) = rotp_node(&c);
    let mut erl = Erl::start(&c);
    let actor = Actor::spawn(&rt, &node, false);
    share_pid(&mut erl, &node, &actor, "R");
    assert_eq!(rt.process_info(actor.addr.pid()).unwrap().links.len(), 0);
    erl.eval("process_flag(trap_exit, true), link(R)");
    common::eventually("the link reaches the rotp process", || {
        rt.process_info(actor.addr.pid())
            .is_some_and(|i| i.links.len() == 1)
    });
    actor.run(|ctx| ctx.exit(ExitReason::custom("rotp_boom")));
    assert_eq!(
        erl.eval("receive {'EXIT', R, Why} -> Why after 10000 -> timeout end"),
        "rotp_boom"
    );
}

#[test]
fn unlink_stops_exits_both_ways() {
    init_log();
    let c = cookie();
    let (rt, node) = rotp_node(&c);
    let mut erl = Erl::start(&c);
    erl.eval("W = spawn(fun() -> receive {die, R} -> exit(R) end end)");
    let w = erl_pid(&mut erl, &node, "W");
    let actor = Actor::spawn(&rt, &node, true);
    let (n, w2) = (node.clone(), w.clone());
    actor.run(move |ctx| n.link(ctx, &w2));
    erl.eval_until("element(2, process_info(W, links)) =/= []", "true");
    let n = node.clone();
    actor.run(move |ctx| n.unlink(ctx, &w));
    erl.eval_until("element(2, process_info(W, links))", "[]");
    erl.eval("W ! {die, boom}");
    actor.quiet(QUIET);
}

#[test]
fn linking_a_dead_erlang_process_gives_noproc() {
    init_log();
    let c = cookie();
    let (rt, node) = rotp_node(&c);
    let mut erl = Erl::start(&c);
    erl.eval("D = spawn(fun() -> ok end), timer:sleep(50)");
    let d = erl_pid(&mut erl, &node, "D");
    let actor = Actor::spawn(&rt, &node, true);
    let n = node.clone();
    let proxy = actor.run(move |ctx| n.link(ctx, &d));
    assert_eq!(actor.next(), Event::Exit(proxy, ExitReason::NoProc));
}

#[test]
fn erlang_exit_2_reaches_rotp() {
    init_log();
    let c = cookie();
    let (rt, node) = rotp_node(&c);
    let mut erl = Erl::start(&c);
    let trapping = Actor::spawn(&rt, &node, true);
    share_pid(&mut erl, &node, &trapping, "T");
    erl.eval("exit(T, normal), exit(T, please_stop)");
    match trapping.next() {
        Event::Exit(from, reason) => {
            assert_eq!(reason, ExitReason::Normal);
            assert!(matches!(node.remote_of(from), Some(Dest::Pid(_))));
        }
        other => panic!("expected an exit, got {other:?}"),
    }
    assert!(matches!(trapping.next(), Event::Exit(_, r) if r == ExitReason::custom("please_stop")));

    let plain = Actor::spawn(&rt, &node, false);
    share_pid(&mut erl, &node, &plain, "P");
    erl.eval("exit(P, normal)");
    plain.quiet(QUIET);
    assert!(plain.addr.is_alive());
    erl.eval("exit(P, kill)");
    assert_eq!(
        plain.addr.await_exit(Some(common::TIMEOUT)),
        Some(ExitReason::Killed)
    );
    // kill is untrappable.
    erl.eval("exit(T, kill)");
    assert_eq!(
        trapping.addr.await_exit(Some(common::TIMEOUT)),
        Some(ExitReason::Killed)
    );
}

#[test]
fn rotp_exit_2_reaches_erlang() {
    init_log();
    let c = cookie();
    let (rt, node) = rotp_node(&c);
    let mut erl = Erl::start(&c);
    erl.eval("W = spawn(fun() -> process_flag(trap_exit, true), receive X -> exit({got, X}) end end), M = monitor(process, W)");
    let w = erl_pid(&mut erl, &node, "W");
    let actor = Actor::spawn(&rt, &node, false);
    let n = node.clone();
    actor.run(move |ctx| n.exit(ctx, &w, &ExitReason::custom("go")));
    let got = erl.eval("receive {'DOWN', M, process, W, Why} -> Why after 10000 -> timeout end");
    assert!(got.starts_with("{got,{'EXIT',<"), "{got}");
    assert!(got.ends_with(",go}}"), "{got}");
}
