//! Two rotp nodes talk to each other over the same protocol.

mod common;

use std::time::Duration;

use common::{cookie, init_log, rotp_node, Actor, Event};
use rotp_dist::{CallError, GenMessage, NodeDownReason, NodeEvent, Term};
use rotp_runtime::ExitReason;

#[test]
fn two_rotp_nodes_call_link_and_notice_each_other_leaving() {
    init_log();
    let c = cookie();
    let (rt_a, a) = rotp_node(&c);
    let (rt_b, b) = rotp_node(&c);

    let bn = b.clone();
    let server = rt_b.spawn_fn(move |m: GenMessage<i64>, _ctx| {
        if let GenMessage::Call { request, from } = m {
            from.reply(&bn, request * 2);
        }
    });
    b.register("doubler", &server).unwrap();
    let b_name = b.name().as_str().to_owned();
    let doubled: i64 = a
        .call(("doubler", b_name.as_str()), 21, Duration::from_secs(5))
        .unwrap();
    assert_eq!(doubled, 42);

    // A process on A links to the server on B and watches B.
    let actor = Actor::spawn(&rt_a, &a, true);
    let (an, remote) = (a.clone(), b.pid_of(server.pid()));
    let proxy = actor.run(move |ctx| an.link(ctx, &remote));
    a.monitor_node(&b_name, &actor.addr).unwrap();
    common::eventually("the link reaches B", || {
        rt_b.process_info(server.pid())
            .is_some_and(|i| i.links.len() == 1)
    });

    b.stop();
    let mut got = [actor.next(), actor.next()];
    got.sort_by_key(|e| matches!(e, Event::Node(_)));
    assert_eq!(
        got[0],
        Event::Exit(proxy, ExitReason::custom("noconnection"))
    );
    assert!(matches!(
        &got[1],
        Event::Node(NodeEvent::Down(n, NodeDownReason::ConnectionClosed)) if n.as_str() == b_name
    ));
    assert!(matches!(
        a.call::<Term>(("doubler", b_name.as_str()), 1, Duration::from_secs(5)),
        Err(CallError::NoConnection)
    ));
}
