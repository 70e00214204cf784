//! Messages between rotp and Erlang processes: by name and by pid, both
//! ways, and terms of every kind surviving the trip.

mod common;

use std::sync::mpsc;

use common::{cookie, init_log, rotp_node, Erl, TIMEOUT};
use rotp_dist::{BadMessage, FromTerm, FromTermError, Term};

/// A rotp process that passes every term it gets to the test.
fn forwarder(rt: &rotp_runtime::Runtime) -> (rotp_runtime::Addr<Term>, mpsc::Receiver<Term>) {
    let (tx, rx) = mpsc::channel();
    let addr = rt.spawn_fn(move |t: Term, _ctx| {
        let _ = tx.send(t);
    });
    (addr, rx)
}

#[test]
fn erlang_sends_to_a_rotp_name_and_to_a_rotp_pid() {
    init_log();
    let c = cookie();
    let (rt, node) = rotp_node(&c);
    let (addr, rx) = forwarder(&rt);
    let me = node.register("inbox", &addr).unwrap();
    let mut erl = Erl::start(&c);

    erl.eval(&format!(
        "{{inbox, '{}'}} ! {{hello, 1}}",
        node.name().as_str()
    ));
    let got = rx.recv_timeout(TIMEOUT).unwrap();
    assert_eq!(got, Term::tuple(vec![Term::atom("hello"), Term::Int(1)]));

    // The pid the node gives out reaches the same process.
    erl.eval("register(shell_box, self())");
    node.send(("shell_box", erl.name.as_str()), Term::Pid(me))
        .unwrap();
    erl.eval(
        "receive P when is_pid(P) -> P ! {by_pid, node(P) =:= node()} after 10000 -> timeout end",
    );
    let got = rx.recv_timeout(TIMEOUT).unwrap();
    assert_eq!(
        got,
        Term::tuple(vec![Term::atom("by_pid"), Term::atom("false")])
    );
}

#[test]
fn rotp_sends_to_an_erlang_name_and_to_an_erlang_pid() {
    init_log();
    let c = cookie();
    let (rt, node) = rotp_node(&c);
    let mut erl = Erl::start(&c);
    erl.eval("C = spawn(rotp_test, collector, []), register(coll, C)");

    node.send(("coll", erl.name.as_str()), (Term::atom("by_name"), 1))
        .unwrap();
    assert_eq!(erl.eval("rotp_test:collect(C, 1)"), "[{by_name,1}]");

    // Learn the collector's pid, then send to it directly.
    let (addr, rx) = forwarder(&rt);
    node.register("pid_box", &addr).unwrap();
    erl.eval(&format!("{{pid_box, '{}'}} ! C", node.name().as_str()));
    let coll = rx.recv_timeout(TIMEOUT).unwrap();
    let Term::Pid(coll) = coll else {
        panic!("expected a pid, got {coll}")
    };
    assert_eq!(coll.node.as_str(), erl.name);
    node.send(&coll, (Term::atom("by_pid"), 2)).unwrap();
    assert_eq!(erl.eval("rotp_test:collect(C, 1)"), "[{by_pid,2}]");
}

#[test]
fn terms_of_every_kind_survive_the_trip_both_ways() {
    init_log();
    let c = cookie();
    let (rt, node) = rotp_node(&c);
    let (tx, rx) = mpsc::channel();
    let n = node.clone();
    // Echoes {From, Term} back to From, keeping a copy.
    let echo = rt.spawn_fn(move |t: Term, _ctx| {
        if let Some([Term::Pid(from), body]) = t.as_tuple() {
            let _ = tx.send(body.clone());
            n.send(from, body).unwrap();
        }
    });
    node.register("echo", &echo).unwrap();
    let mut erl = Erl::start(&c);
    erl.eval(
        "T = {atom, 'ünïcode', 42, -42, 1 bsl 100, -(1 bsl 70), 3.25, <<\"bin\">>, <<1:3>>, \
         \"charlist\", [1 | improper], #{a => 1, <<\"k\">> => [x]}, {}, [], make_ref(), self(), \
         fun erlang:self/0, list_to_atom(lists:duplicate(255, $a))}",
    );
    let expr = format!(
        "{{echo, '{}'}} ! {{self(), T}}, receive Back -> Back =:= T after 10000 -> timeout end",
        node.name().as_str()
    );
    assert_eq!(erl.eval(&expr), "true");
    let got = rx.recv_timeout(TIMEOUT).unwrap();
    let t = got.as_tuple().unwrap();
    assert_eq!(t[0], Term::atom("atom"));
    assert_eq!(t[1], Term::atom("ünïcode"));
    assert_eq!(t[2], Term::Int(42));
    assert_eq!(t[3], Term::Int(-42));
    assert_eq!(u128::from_term(&t[4]), Ok(1 << 100));
    assert_eq!(i128::from_term(&t[5]), Ok(-(1 << 70)));
    assert_eq!(t[6], Term::Float(3.25));
    assert_eq!(t[7].as_str(), Some("bin"));
    assert!(matches!(t[8], Term::BitBinary(_)));
    assert_eq!(String::from_term(&t[9]).unwrap(), "charlist");
    assert!(matches!(t[10], Term::ImproperList(..)));
    assert_eq!(t[11].map_get_atom("a"), Some(&Term::Int(1)));
    assert_eq!(t[12], Term::tuple(vec![]));
    assert_eq!(t[13], Term::nil());
    assert!(matches!(t[14], Term::Ref(_)));
    assert!(matches!(t[15], Term::Pid(_)));
    assert!(matches!(t[16], Term::Fun(_)));
    assert_eq!(t[17].as_atom().unwrap().as_str().len(), 255);
}

/// What the typed process below takes.
#[derive(Debug, PartialEq)]
enum Cmd {
    Add(i64),
}

impl FromTerm for Cmd {
    fn from_term(t: &Term) -> Result<Self, FromTermError> {
        match t.tagged("add") {
            Some([n]) => Ok(Cmd::Add(i64::from_term(n)?)),
            _ => Err(FromTermError::expected("{add, N}", t)),
        }
    }
}

#[test]
fn a_message_of_the_wrong_shape_reaches_its_receiver_as_an_error() {
    init_log();
    let c = cookie();
    let (rt, node) = rotp_node(&c);
    let (tx, rx) = mpsc::channel();
    let typed = rt.spawn_fn(move |m: Result<Cmd, BadMessage>, _ctx| {
        let _ = tx.send(m);
    });
    node.register("typed", &typed).unwrap();
    let mut erl = Erl::start(&c);
    let to = format!("{{typed, '{}'}}", node.name().as_str());
    erl.eval(&format!(
        "{to} ! {{add, 1}}, {to} ! {{sub, 1}}, {to} ! {{add, 2}}"
    ));
    assert_eq!(rx.recv_timeout(TIMEOUT).unwrap().unwrap(), Cmd::Add(1));
    match rx.recv_timeout(TIMEOUT).unwrap() {
        Err(BadMessage::Unexpected { term, error }) => {
            assert_eq!(term.to_string(), "{sub,1}");
            assert!(error.to_string().contains("{add, N}"), "{error}");
        }
        other => panic!("expected a BadMessage, got {other:?}"),
    }
    // The connection is still up and in order.
    assert_eq!(rx.recv_timeout(TIMEOUT).unwrap().unwrap(), Cmd::Add(2));
    assert!(node.is_connected(&erl.name));
}

#[test]
fn a_large_binary_crosses_both_ways() {
    init_log();
    let c = cookie();
    let (rt, node) = rotp_node(&c);
    let n = node.clone();
    let echo = rt.spawn_fn(move |t: Term, _ctx| {
        if let Some([Term::Pid(from), body]) = t.as_tuple() {
            n.send(from, body).unwrap();
        }
    });
    node.register("big_echo", &echo).unwrap();
    let mut erl = Erl::start(&c);
    let expr = format!(
        "B = crypto:strong_rand_bytes(4000000), {{big_echo, '{}'}} ! {{self(), B}}, \
         receive Back -> Back =:= B after 10000 -> timeout end",
        node.name().as_str()
    );
    assert_eq!(erl.eval(&expr), "true");
}
