//! Connecting: EPMD, the handshake both ways, cookies.

mod common;

use common::{cookie, init_log, rotp_node, Erl};
use rotp_dist::ConnectError;

#[test]
fn an_erlang_node_pings_rotp() {
    init_log();
    let c = cookie();
    let (_rt, node) = rotp_node(&c);
    let mut erl = Erl::start(&c);
    assert_eq!(
        erl.eval(&format!("net_adm:ping('{}')", node.name().as_str())),
        "pong"
    );
    assert_eq!(
        erl.eval(&format!(
            "lists:member('{}', nodes(hidden))",
            node.name().as_str()
        )),
        "true"
    );
    assert!(node.is_connected(&erl.name));
}

#[test]
fn rotp_connects_to_an_erlang_node() {
    init_log();
    let c = cookie();
    let (_rt, node) = rotp_node(&c);
    let mut erl = Erl::start(&c);
    node.connect(&erl.name).unwrap();
    assert_eq!(node.nodes().len(), 1);
    assert_eq!(node.nodes()[0].as_str(), erl.name);
    erl.eval_until(
        &format!("lists:member('{}', nodes(connected))", node.name().as_str()),
        "true",
    );
}

#[test]
fn a_wrong_cookie_is_refused_both_ways() {
    init_log();
    let (_rt, node) = rotp_node(&cookie());
    let mut erl = Erl::start(&cookie());
    assert_eq!(
        erl.eval(&format!("net_adm:ping('{}')", node.name().as_str())),
        "pang"
    );
    match node.connect(&erl.name) {
        Err(ConnectError::BadCookie) => {}
        other => panic!("expected BadCookie, got {other:?}"),
    }
    assert!(node.nodes().is_empty());
}

#[test]
fn connecting_to_a_node_that_is_not_there_fails_with_a_reason() {
    let (_rt, node) = rotp_node(&cookie());
    match node.connect("nobody_here@127.0.0.1") {
        Err(ConnectError::NotRegistered(n)) => assert_eq!(n, "nobody_here@127.0.0.1"),
        other => panic!("expected NotRegistered, got {other:?}"),
    }
    assert!(matches!(
        node.connect("bad name"),
        Err(ConnectError::InvalidName(_))
    ));
    assert!(matches!(
        node.connect(node.name().as_str()),
        Err(ConnectError::SelfConnect)
    ));
}

/// A refused connection is a report: with no `log` logger set, a warning
/// line on stderr for each direction, as OTP's "connection attempt ...
/// rejected" reaches its console; the cookies are never in it.
#[test]
fn a_wrong_cookie_is_reported_on_stderr_without_a_logger() {
    use rotp_runtime::testing::{is_child_test, run_child_test};
    if is_child_test() {
        let ours = cookie();
        let theirs = cookie();
        let (_rt, node) = rotp_node(&ours);
        let mut erl = Erl::start(&theirs);
        println!("cookies {ours} {theirs}");
        assert_eq!(
            erl.eval(&format!("net_adm:ping('{}')", node.name().as_str())),
            "pang"
        );
        assert!(matches!(
            node.connect(&erl.name),
            Err(ConnectError::BadCookie)
        ));
        return;
    }
    let (stdout, stderr) = run_child_test("a_wrong_cookie_is_reported_on_stderr_without_a_logger");
    let warnings: Vec<&str> = stderr
        .lines()
        .filter(|l| l.starts_with("[warning] ") && l.contains("the cookies differ"))
        .collect();
    assert!(
        warnings
            .iter()
            .any(|l| l.contains("refused a connection from")),
        "{stderr}"
    );
    assert!(
        warnings.iter().any(|l| l.contains("cannot connect to")),
        "{stderr}"
    );
    let cookies = stdout
        .lines()
        .find_map(|l| l.split_once("cookies ").map(|(_, rest)| rest))
        .expect("the child names its cookies");
    for c in cookies.split(' ') {
        assert!(!stderr.contains(c), "a cookie was printed: {stderr}");
    }
}
