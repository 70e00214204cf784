//! A visible (published) rotp node. (Such a node does not take part in
//! `global`: see docs/distribution.md.)

mod common;

use common::{cookie, init_log, unique, Erl};
use rotp_dist::Node;
use rotp_runtime::Runtime;

#[test]
fn a_published_node_is_listed_in_nodes() {
    init_log();
    let c = cookie();
    let rt = Runtime::builder().workers(2).build().unwrap();
    let node = Node::builder(&format!("{}@127.0.0.1", unique("rotp")))
        .cookie(&c)
        .hidden(false)
        .start(&rt)
        .unwrap();
    let mut erl = Erl::start(&c);
    let rotp = node.name().as_str().to_owned();
    assert_eq!(erl.eval(&format!("net_adm:ping('{rotp}')")), "pong");
    assert_eq!(
        erl.eval(&format!("lists:member('{rotp}', nodes())")),
        "true"
    );
    assert_eq!(
        erl.eval(&format!("lists:member('{rotp}', nodes(hidden))")),
        "false"
    );
}
