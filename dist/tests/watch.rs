//! Node monitoring: up and down events, disconnect, unsubscribing.

mod common;

use std::time::Duration;

use common::{cookie, init_log, rotp_node, Actor, Erl, Event};
use rotp_dist::{Atom, NodeDownReason, NodeEvent};

#[test]
fn nodes_up_and_down_reach_subscribers_until_they_unsubscribe() {
    init_log();
    let c = cookie();
    let (rt, node) = rotp_node(&c);
    let watcher = Actor::spawn(&rt, &node, false);
    let sub = node.monitor_nodes(&watcher.addr);

    // An Erlang node dials us: up.
    let mut erl = Erl::start(&c);
    let peer = Atom::new(&erl.name);
    assert_eq!(
        erl.eval(&format!("net_adm:ping('{}')", node.name().as_str())),
        "pong"
    );
    assert_eq!(watcher.next(), Event::Node(NodeEvent::Up(peer.clone())));
    assert_eq!(node.nodes(), vec![peer.clone()]);

    // We disconnect: down, with our reason; Erlang sees it too.
    assert!(node.disconnect(&erl.name));
    assert_eq!(
        watcher.next(),
        Event::Node(NodeEvent::Down(peer.clone(), NodeDownReason::Disconnect))
    );
    erl.eval_until(
        &format!("lists:member('{}', nodes(connected))", node.name().as_str()),
        "false",
    );
    assert!(!node.disconnect(&erl.name));

    // We dial it: up again.
    node.connect(&erl.name).unwrap();
    assert_eq!(watcher.next(), Event::Node(NodeEvent::Up(peer.clone())));

    // Unsubscribed, the watcher hears nothing more.
    assert!(node.demonitor_nodes(sub));
    assert!(!node.demonitor_nodes(sub));
    erl.kill();
    common::eventually("the node is gone", || node.nodes().is_empty());
    watcher.quiet(Duration::from_millis(300));
}
