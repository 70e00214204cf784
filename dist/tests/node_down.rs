//! Losing a node: noconnection on both sides, node monitoring, ticks, a
//! peer that restarts.

mod common;

use std::process::Command;
use std::time::Duration;

use common::{cookie, erl_pid, init_log, rotp_node, share_pid, unique, Actor, Erl, Event};
use rotp_dist::{Node, NodeDownReason, NodeEvent, Term};
use rotp_runtime::{ExitReason, Runtime};

fn noconnection() -> ExitReason {
    ExitReason::custom("noconnection")
}

#[test]
fn losing_an_erlang_node_gives_noconnection_to_links_monitors_and_watchers() {
    init_log();
    let c = cookie();
    let (rt, node) = rotp_node(&c);
    let mut erl = Erl::start(&c);
    erl.eval("W = spawn(fun() -> receive _ -> ok end end)");
    let w = erl_pid(&mut erl, &node, "W");

    let linked = Actor::spawn(&rt, &node, true);
    let (n, w2) = (node.clone(), w.clone());
    let proxy = linked.run(move |ctx| n.link(ctx, &w2));
    let monitoring = Actor::spawn(&rt, &node, false);
    let n = node.clone();
    let mref = monitoring.run(move |ctx| n.monitor(ctx, &w));
    erl.eval_until("length(element(2, process_info(W, links))) + length(element(2, process_info(W, monitored_by)))", "2");

    let watcher = Actor::spawn(&rt, &node, false);
    node.monitor_nodes(&watcher.addr);
    let once = Actor::spawn(&rt, &node, false);
    node.monitor_node(&erl.name, &once.addr).unwrap();

    erl.kill();
    assert_eq!(linked.next(), Event::Exit(proxy, noconnection()));
    match monitoring.next() {
        Event::Down(d) => assert_eq!((d.mref, d.reason), (mref, noconnection())),
        other => panic!("expected a Down, got {other:?}"),
    }
    let down = Event::Node(NodeEvent::Down(
        rotp_dist::Atom::new(&erl.name),
        NodeDownReason::ConnectionClosed,
    ));
    assert_eq!(watcher.next(), down);
    assert_eq!(once.next(), down);
    assert!(node.nodes().is_empty());
}

#[test]
fn erlang_sees_noconnection_when_the_rotp_node_stops() {
    init_log();
    let c = cookie();
    let (rt, node) = rotp_node(&c);
    let mut erl = Erl::start(&c);
    let a = Actor::spawn(&rt, &node, false);
    let b = Actor::spawn(&rt, &node, false);
    share_pid(&mut erl, &node, &a, "A");
    share_pid(&mut erl, &node, &b, "B");
    let rotp = node.name().as_str().to_owned();
    erl.eval(&format!(
        "process_flag(trap_exit, true), link(A), M = monitor(process, B), monitor_node('{rotp}', true)"
    ));
    common::eventually("the link and the monitor are in place", || {
        rt.process_info(a.addr.pid())
            .is_some_and(|i| i.links.len() == 1)
            && rt
                .process_info(b.addr.pid())
                .is_some_and(|i| i.monitored_by.len() == 1)
    });
    node.stop();
    assert_eq!(
        erl.eval("receive {'EXIT', A, Why} -> Why after 10000 -> timeout end"),
        "noconnection"
    );
    assert_eq!(
        erl.eval("receive {'DOWN', M, process, B, Why2} -> Why2 after 10000 -> timeout end"),
        "noconnection"
    );
    assert_eq!(
        erl.eval(&format!(
            "receive {{nodedown, '{rotp}'}} -> down after 10000 -> timeout end"
        )),
        "down"
    );
    // The rotp processes the connection carried links for got their
    // noconnection too (a was linked, without trapping).
    assert_eq!(
        a.addr.await_exit(Some(common::TIMEOUT)),
        Some(noconnection())
    );
}

#[test]
fn a_frozen_peer_is_declared_down_by_ticks() {
    init_log();
    let c = cookie();
    let rt = Runtime::builder().workers(2).build().unwrap();
    let node = Node::builder(&format!("{}@127.0.0.1", unique("rotp")))
        .cookie(&c)
        .tick_time(Duration::from_secs(2))
        .start(&rt)
        .unwrap();
    let erl = Erl::start_with(&c, &["-kernel", "net_ticktime", "2"]);
    node.connect(&erl.name).unwrap();
    let watcher = Actor::spawn(&rt, &node, false);
    node.monitor_node(&erl.name, &watcher.addr).unwrap();
    let stopped = Command::new("kill")
        .args(["-STOP", &erl.os_pid().to_string()])
        .status()
        .unwrap();
    assert!(stopped.success());
    assert_eq!(
        watcher.next(),
        Event::Node(NodeEvent::Down(
            rotp_dist::Atom::new(&erl.name),
            NodeDownReason::TickTimeout
        ))
    );
    drop(erl); // SIGKILL works on a stopped process
}

#[test]
fn watching_an_unreachable_node_reports_it_down_at_once() {
    init_log();
    let (rt, node) = rotp_node(&cookie());
    let watcher = Actor::spawn(&rt, &node, false);
    node.monitor_node("nobody_there@127.0.0.1", &watcher.addr)
        .unwrap();
    assert_eq!(
        watcher.next(),
        Event::Node(NodeEvent::Down(
            rotp_dist::Atom::new("nobody_there@127.0.0.1"),
            NodeDownReason::ConnectionSetupFailed
        ))
    );
}

#[test]
fn a_peer_that_restarts_is_a_new_incarnation() {
    init_log();
    let c = cookie();
    let (rt, node) = rotp_node(&c);
    let name = format!("{}@127.0.0.1", unique("phoenix"));
    let mut erl = Erl::start_named(&name, &c, &[]);
    erl.eval("C = spawn(rotp_test, collector, []), register(coll, C)");
    let old = erl_pid(&mut erl, &node, "C");
    let watcher = Actor::spawn(&rt, &node, false);
    node.monitor_nodes(&watcher.addr);

    erl.kill();
    let atom = rotp_dist::Atom::new(&name);
    assert_eq!(
        watcher.next(),
        Event::Node(NodeEvent::Down(
            atom.clone(),
            NodeDownReason::ConnectionClosed
        ))
    );

    let mut erl = Erl::start_named(&name, &c, &[]);
    erl.eval("C = spawn(rotp_test, collector, []), register(coll, C)");
    let new = erl_pid(&mut erl, &node, "C");
    assert_eq!(watcher.next(), Event::Node(NodeEvent::Up(atom)));
    assert_ne!(old.creation, new.creation);

    // A message to the old incarnation's pid reaches nobody; the new one
    // gets its own.
    node.send(&old, Term::atom("to_the_dead")).unwrap();
    node.send(&new, Term::atom("to_the_living")).unwrap();
    assert_eq!(erl.eval("rotp_test:collect(C, 1)"), "[to_the_living]");
    assert_eq!(erl.eval("rotp_test:collect(C, 1, 300)"), "[]");
}
