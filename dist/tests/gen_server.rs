//! rotp GenServers called from Erlang (and each other) across nodes.

mod common;

use std::sync::mpsc;
use std::time::Duration;

use common::{cookie, init_log, rotp_node, Erl, TIMEOUT};
use rotp_dist::{FromTerm, FromTermError, RemoteCall, RemoteReply, RemoteServer, Term};
use rotp_gen_server::{
    gen_server, noreply, start, Ctx, GenServer, Handled, Info, Init, InitResult, ReplyTo,
    StartOptions,
};

struct Counter {
    n: i64,
    parked: Option<ReplyTo<i64>>,
    infos: mpsc::Sender<String>,
}

#[derive(RemoteCall)]
enum Call {
    Increment(ReplyTo<i64>),
    Get(ReplyTo<i64>),
    /// Answered at the next increment (a deferred reply).
    NextValue(ReplyTo<i64>),
    Crash(ReplyTo<()>),
    /// `{add_and_get, K}`.
    AddAndGet(i64, ReplyTo<i64>),
}

#[gen_server]
impl GenServer for Counter {
    fn init(infos: mpsc::Sender<String>, _ctx: &mut Ctx<'_, Self>) -> InitResult<Self> {
        Init::ok(Counter {
            n: 0,
            parked: None,
            infos,
        })
    }

    fn handle_call(&mut self, call: Call, ctx: &mut Ctx<'_, Self>) -> Handled<Self> {
        match call {
            Call::Increment(r) => {
                self.n += 1;
                if let Some(p) = self.parked.take() {
                    p.send(self.n);
                }
                r.reply(self.n)
            }
            Call::Get(r) => r.reply(self.n),
            Call::NextValue(r) => {
                self.parked = Some(r);
                noreply()
            }
            Call::AddAndGet(k, r) => {
                self.n += k;
                r.reply(self.n)
            }
            Call::Crash(_r) => {
                let _ = ctx;
                panic!("asked to crash")
            }
        }
    }

    fn handle_cast(&mut self, k: i64, _ctx: &mut Ctx<'_, Self>) -> Handled<Self> {
        self.n += k;
        noreply()
    }

    fn handle_info(&mut self, info: Info<String>, _ctx: &mut Ctx<'_, Self>) -> Handled<Self> {
        if let Info::Msg(m) = info {
            let _ = self.infos.send(m);
        }
        noreply()
    }
}

impl RemoteServer for Counter {
    fn remote_call(request: &Term, reply: RemoteReply) -> Result<Call, FromTermError> {
        Call::from_remote(request, reply)
    }

    fn remote_cast(request: &Term) -> Result<i64, FromTermError> {
        i64::from_term(request)
    }

    fn remote_info(msg: &Term) -> Result<String, FromTermError> {
        Ok(msg.to_string())
    }
}

#[test]
fn erlang_calls_casts_and_sends_to_a_rotp_gen_server() {
    init_log();
    let c = cookie();
    let (rt, node) = rotp_node(&c);
    let (tx, infos) = mpsc::channel();
    let counter = start::<Counter>(&rt, tx, StartOptions::new().name("counter")).unwrap();
    let me = node.serve(&counter).unwrap();
    assert_eq!(node.local_pid(&me), counter.pid());

    let mut erl = Erl::start(&c);
    let s = format!("{{counter, '{}'}}", node.name().as_str());
    assert_eq!(erl.eval(&format!("gen_server:call({s}, increment)")), "1");
    assert_eq!(erl.eval(&format!("gen_server:call({s}, increment)")), "2");
    erl.eval(&format!("gen_server:cast({s}, 40)"));
    assert_eq!(erl.eval(&format!("gen_server:call({s}, get)")), "42");
    assert_eq!(
        erl.eval(&format!("gen_server:call({s}, {{add_and_get, -2}})")),
        "40"
    );
    erl.eval(&format!("gen_server:cast({s}, 2)"));
    erl.eval(&format!("{s} ! {{hello, 1}}"));
    assert_eq!(infos.recv_timeout(TIMEOUT).unwrap(), "{hello,1}");
    // A request the server does not take is answered, and the server
    // lives on.
    assert_eq!(
        erl.eval(&format!("gen_server:call({s}, frobnicate)")),
        "{error,{bad_call,frobnicate}}"
    );
    // A deferred reply: parked until the next increment.
    erl.eval(&format!(
        "Self = self(), spawn(fun() -> Self ! {{next, gen_server:call({s}, next_value)}} end), timer:sleep(200)"
    ));
    // The rotp side can call the same server locally meanwhile.
    assert_eq!(counter.call(Call::Increment).unwrap(), 43);
    assert_eq!(
        erl.eval("receive {next, V} -> V after 5000 -> timeout end"),
        "43"
    );
    // Rust clients and Erlang clients share the state.
    assert_eq!(counter.call(Call::Get).unwrap(), 43);
}

#[test]
fn a_rotp_gen_server_crashing_in_a_call_exits_the_erlang_caller() {
    init_log();
    let c = cookie();
    let (rt, node) = rotp_node(&c);
    let (tx, _infos) = mpsc::channel();
    let counter = start::<Counter>(&rt, tx, StartOptions::new().name("fragile")).unwrap();
    node.serve(&counter).unwrap();
    let mut erl = Erl::start(&c);
    let s = format!("{{fragile, '{}'}}", node.name().as_str());
    assert_eq!(erl.eval(&format!("gen_server:call({s}, increment)")), "1");
    let got = erl.eval(&format!("catch gen_server:call({s}, crash)"));
    assert!(got.starts_with("{'EXIT',{{panic,"), "{got}");
    assert!(got.contains("asked to crash"), "{got}");
}

#[test]
fn one_rotp_node_calls_another_rotp_gen_server() {
    init_log();
    let c = cookie();
    let (rt_a, a) = rotp_node(&c);
    let (_rt_b, b) = rotp_node(&c);
    let (tx, _infos) = mpsc::channel();
    let counter = start::<Counter>(&rt_a, tx, StartOptions::new().name("shared")).unwrap();
    a.serve(&counter).unwrap();
    let server = ("shared", a.name().as_str());
    let n: i64 = b
        .call(server, Term::atom("increment"), Duration::from_secs(5))
        .unwrap();
    assert_eq!(n, 1);
    b.cast(server, 9).unwrap();
    let n: i64 = b
        .call(server, Term::atom("get"), Duration::from_secs(5))
        .unwrap();
    assert_eq!(n, 10);
}

#[test]
fn a_served_name_follows_restarts() {
    init_log();
    let c = cookie();
    let (rt, node) = rotp_node(&c);
    node.serve_named::<Counter>("phoenix");
    let mut erl = Erl::start(&c);
    let s = format!("{{phoenix, '{}'}}", node.name().as_str());

    // Nobody holds the name yet.
    let got = erl.eval(&format!("catch gen_server:call({s}, get, 2000)"));
    assert!(got.starts_with("{'EXIT',{noproc,"), "{got}");

    let (tx, _infos) = mpsc::channel();
    let first = start::<Counter>(&rt, tx.clone(), StartOptions::new().name("phoenix")).unwrap();
    assert_eq!(erl.eval(&format!("gen_server:call({s}, increment)")), "1");
    rt.kill(first.pid().unwrap());
    common::eventually("the name is free", || rt.whereis("phoenix").is_none());

    // A new incarnation under the same name: reached without serving again.
    let _second = start::<Counter>(&rt, tx, StartOptions::new().name("phoenix")).unwrap();
    assert_eq!(erl.eval(&format!("gen_server:call({s}, increment)")), "1");
    erl.eval(&format!("gen_server:cast({s}, 4)"));
    assert_eq!(erl.eval(&format!("gen_server:call({s}, get)")), "5");

    assert!(node.stop_serving("phoenix"));
    let got = erl.eval(&format!("catch gen_server:call({s}, get, 500)"));
    assert!(got.starts_with("{'EXIT',{timeout,"), "{got}");
}
