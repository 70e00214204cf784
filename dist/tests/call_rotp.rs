//! Erlang and Elixir clients call and cast rotp processes that speak the
//! gen_server protocol.

mod common;

use std::sync::mpsc;

use common::{cookie, init_log, rotp_node, Erl, TIMEOUT};
use rotp_dist::{FromTerm, GenMessage, Node, Term};

#[derive(Debug, PartialEq, FromTerm)]
enum Req {
    Increment,
    Get,
    Add(i64),
}

/// A counter written as a raw process over `GenMessage`.
fn raw_counter(rt: &rotp_runtime::Runtime, node: &Node, name: &str) -> mpsc::Receiver<String> {
    let (tx, rx) = mpsc::channel();
    let n = node.clone();
    let mut count = 0i64;
    let counter = rt.spawn_fn(
        move |m: Result<GenMessage<Req, i64>, rotp_dist::BadMessage>, _ctx| match m {
            Ok(GenMessage::Call { request, from }) => {
                let reply = match request {
                    Req::Increment => {
                        count += 1;
                        count
                    }
                    Req::Get => count,
                    Req::Add(k) => {
                        count += k;
                        count
                    }
                };
                from.reply(&n, reply);
            }
            Ok(GenMessage::BadCall { request, from, .. }) => {
                let why = (Term::atom("bad_call"), request);
                from.reply(&n, (Term::atom("error"), why));
            }
            Ok(GenMessage::Cast(k)) => count += k,
            Ok(GenMessage::Info(t)) => {
                let _ = tx.send(format!("info {t}"));
            }
            Err(bad) => {
                let _ = tx.send(format!("bad {bad}"));
            }
        },
    );
    node.register(name, &counter).unwrap();
    rx
}

#[test]
fn gen_server_call_and_cast_reach_a_rotp_process() {
    init_log();
    let c = cookie();
    let (rt, node) = rotp_node(&c);
    let events = raw_counter(&rt, &node, "counter");
    let mut erl = Erl::start(&c);
    let s = format!("{{counter, '{}'}}", node.name().as_str());
    assert_eq!(erl.eval(&format!("gen_server:call({s}, increment)")), "1");
    assert_eq!(
        erl.eval(&format!("gen_server:call({s}, {{add, 10}})")),
        "11"
    );
    erl.eval(&format!("gen_server:cast({s}, 5)"));
    assert_eq!(erl.eval(&format!("gen_server:call({s}, get, 5000)")), "16");
    // A request the counter does not know: answered with an error.
    assert_eq!(
        erl.eval(&format!("gen_server:call({s}, {{frobnicate, 1}})")),
        "{error,{bad_call,{frobnicate,1}}}"
    );
    erl.eval(&format!("{s} ! hello"));
    assert_eq!(events.recv_timeout(TIMEOUT).unwrap(), "info hello");
    // A call by pid, with the old (pre-alias) tag form: {Pid, Ref}.
    assert_eq!(
        erl.eval(&format!(
            "Ref = make_ref(), {s} ! {{'$gen_call', {{self(), Ref}}, get}}, \
             receive {{Ref, R}} -> R after 5000 -> timeout end"
        )),
        "16"
    );
}

#[test]
fn a_call_to_a_missing_rotp_name_fails_in_erlang_with_noproc() {
    init_log();
    let c = cookie();
    let (_rt, node) = rotp_node(&c);
    let mut erl = Erl::start(&c);
    let got = erl.eval(&format!(
        "catch gen_server:call({{nobody, '{}'}}, get, 2000)",
        node.name().as_str()
    ));
    assert!(got.starts_with("{'EXIT',{noproc,"), "{got}");
}

#[test]
fn a_rotp_server_that_dies_during_a_call_exits_the_erlang_caller() {
    init_log();
    let c = cookie();
    let (rt, node) = rotp_node(&c);
    let n = node.clone();
    let server = rt.spawn_fn(
        move |m: GenMessage<Term>, ctx: &mut rotp_runtime::Context<'_, _>| {
            if let GenMessage::Call { request, from } = m {
                if request.is_atom("die") {
                    ctx.exit(rotp_runtime::ExitReason::custom("asked_to_die"));
                } else {
                    from.reply(&n, request);
                }
            }
        },
    );
    node.register("mortal", &server).unwrap();
    let mut erl = Erl::start(&c);
    let s = format!("{{mortal, '{}'}}", node.name().as_str());
    // Earlier calls leave the server watched on behalf of this caller.
    for i in 0..5 {
        assert_eq!(
            erl.eval(&format!("gen_server:call({s}, {i})")),
            i.to_string()
        );
    }
    let got = erl.eval(&format!("catch gen_server:call({s}, die)"));
    assert!(got.starts_with("{'EXIT',{asked_to_die,"), "{got}");
}
