//! rotp calls and casts Erlang gen_servers.

mod common;

use std::time::Duration;

use common::{cookie, erl_pid, init_log, rotp_node, Actor, Erl};
use rotp_dist::{CallError, Term};
use rotp_runtime::ExitReason;

const T: Duration = Duration::from_secs(5);

fn erl_with_counter(c: &str) -> Erl {
    let mut erl = Erl::start(c);
    erl.eval("{ok, S} = rotp_test_server:start(counter)");
    erl
}

#[test]
fn calls_by_name_and_by_pid_from_a_plain_thread() {
    init_log();
    let c = cookie();
    let (_rt, node) = rotp_node(&c);
    let mut erl = erl_with_counter(&c);
    let server = ("counter", erl.name.as_str());
    assert_eq!(
        node.call::<i64>(server, Term::atom("increment"), T)
            .unwrap(),
        1
    );
    assert_eq!(
        node.call::<i64>(server, Term::atom("increment"), T)
            .unwrap(),
        2
    );
    let reply: Result<i64, String> = node.call(server, (Term::atom("add"), 10), T).unwrap();
    assert_eq!(reply, Ok(12));

    let s = erl_pid(&mut erl, &node, "S");
    assert_eq!(node.call::<i64>(&s, Term::atom("get"), T).unwrap(), 12);
}

#[test]
fn calls_from_a_process_and_casts() {
    init_log();
    let c = cookie();
    let (rt, node) = rotp_node(&c);
    let erl = erl_with_counter(&c);
    let actor = Actor::spawn(&rt, &node, false);
    let (n, e) = (node.clone(), erl.name.clone());
    let got = actor.run(move |_ctx| {
        n.cast(("counter", e.as_str()), (Term::atom("add"), 5))
            .unwrap();
        n.call::<i64>(("counter", e.as_str()), Term::atom("get"), T)
    });
    assert_eq!(got.unwrap(), 5);
}

#[test]
fn call_errors_are_typed() {
    init_log();
    let c = cookie();
    let (_rt, node) = rotp_node(&c);
    let erl = erl_with_counter(&c);
    let e = erl.name.as_str();

    // No such server.
    assert!(matches!(
        node.call::<Term>(("nobody", e), Term::atom("get"), T),
        Err(CallError::NoProc)
    ));
    // A slow server.
    assert!(matches!(
        node.call::<Term>(
            ("counter", e),
            (Term::atom("sleep"), 1000),
            Duration::from_millis(100)
        ),
        Err(CallError::Timeout)
    ));
    // The late reply is dropped; the next call gets its own answer.
    assert_eq!(
        node.call::<i64>(("counter", e), Term::atom("get"), T)
            .unwrap(),
        0
    );
    // A reply of the wrong type.
    assert!(matches!(
        node.call::<String>(("counter", e), Term::atom("get"), T),
        Err(CallError::BadReply(_))
    ));
    // A deferred reply (gen_server:reply/2 from elsewhere) arrives.
    assert_eq!(
        node.call::<Term>(("counter", e), (Term::atom("defer"), 50), T)
            .unwrap(),
        Term::atom("deferred")
    );
    // A server that crashes during the call.
    match node.call::<Term>(("counter", e), Term::atom("crash"), T) {
        Err(CallError::Exited(reason)) => assert_eq!(reason, ExitReason::custom("crashed")),
        other => panic!("expected Exited, got {other:?}"),
    }
    // A node nobody runs.
    assert!(matches!(
        node.call::<Term>(("counter", "nobody@127.0.0.1"), Term::atom("get"), T),
        Err(CallError::NoConnection)
    ));
}

#[test]
fn a_call_whose_node_dies_fails_with_noconnection() {
    init_log();
    let c = cookie();
    let (_rt, node) = rotp_node(&c);
    let mut erl = erl_with_counter(&c);
    node.connect(&erl.name).unwrap();
    let n = node.clone();
    let e = erl.name.clone();
    let caller = std::thread::spawn(move || {
        n.call::<Term>(
            ("counter", e.as_str()),
            (Term::atom("sleep"), 60_000),
            Duration::from_secs(30),
        )
    });
    // Let the call reach the server, then kill its node.
    erl.eval_until(
        "element(2, process_info(whereis(counter), current_function))",
        "{timer,sleep,1}",
    );
    erl.kill();
    assert!(matches!(
        caller.join().unwrap(),
        Err(CallError::NoConnection)
    ));
}
