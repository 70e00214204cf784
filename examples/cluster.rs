//! A rotp node in an Erlang/Elixir cluster: an Erlang shell calls a rotp
//! GenServer, and the rotp side calls it too.
//!
//! ```sh
//! cargo run --example cluster --features dist            # runs examples/cluster_client.erl against it
//! cargo run --example cluster --features dist -- --wait  # waits for your own shell
//! ```
//!
//! With `--wait`, call it from Erlang or Elixir (cookie `rotp-example`):
//!
//! ```text
//! $ erl -name me@127.0.0.1 -setcookie rotp-example
//! 1> gen_server:call({counter, 'rotp@127.0.0.1'}, increment).
//! 1
//! $ iex --name me@127.0.0.1 --cookie rotp-example
//! iex> GenServer.call({:counter, :"rotp@127.0.0.1"}, {:add, 10})
//! 11
//! ```

use std::process::Command;

use rotp::dist::{FromTerm, FromTermError, Node, RemoteCall, RemoteReply, RemoteServer, Term};
use rotp::prelude::*;

const COOKIE: &str = "rotp-example";

/// An ordinary GenServer...
struct Counter(i64);

/// ...whose calls other nodes make as `increment`, `get`, `{add, N}`.
#[derive(RemoteCall)]
#[term(crate = "rotp::dist")]
enum Call {
    Increment(ReplyTo<i64>),
    Get(ReplyTo<i64>),
    Add(i64, ReplyTo<i64>),
}

#[gen_server]
impl GenServer for Counter {
    fn init(start: i64, _ctx: &mut Ctx<'_, Self>) -> InitResult<Self> {
        Init::ok(Counter(start))
    }

    fn handle_call(&mut self, call: Call, _ctx: &mut Ctx<'_, Self>) -> Handled<Self> {
        match call {
            Call::Increment(r) => {
                self.0 += 1;
                r.reply(self.0)
            }
            Call::Get(r) => r.reply(self.0),
            Call::Add(k, r) => {
                self.0 += k;
                r.reply(self.0)
            }
        }
    }

    fn handle_cast(&mut self, k: i64, _ctx: &mut Ctx<'_, Self>) -> Handled<Self> {
        self.0 += k;
        noreply()
    }
}

/// How terms from other nodes become the counter's requests.
impl RemoteServer for Counter {
    fn remote_call(request: &Term, reply: RemoteReply) -> Result<Call, FromTermError> {
        Call::from_remote(request, reply)
    }

    fn remote_cast(request: &Term) -> Result<i64, FromTermError> {
        i64::from_term(request)
    }
}

/// Starts the node and the counter, registered as `counter`.
fn start(rt: &Runtime, name: &str) -> (Node, ServerRef<Counter>) {
    let node = Node::builder(name)
        .cookie(COOKIE)
        .start(rt)
        .expect("the node starts");
    let counter = gen_server::start::<Counter>(rt, 0, StartOptions::new().name("counter"))
        .expect("the counter starts");
    node.serve(&counter).expect("the counter runs");
    (node, counter)
}

/// Runs the Erlang client script against a node and returns what it
/// printed.
fn run_client(node: &str) -> String {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/cluster_client.erl");
    let out = Command::new("escript")
        .arg(script)
        .arg(node)
        .arg(COOKIE)
        .output()
        .expect("escript (Erlang/OTP) runs the client: apt-get install erlang-nox");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

pub(crate) fn run() {
    let rt = Runtime::new().unwrap();
    let name = format!("rotp_example_{}@127.0.0.1", std::process::id());
    let (node, counter) = start(&rt, &name);
    let printed = run_client(&name);
    print!("{printed}");
    assert!(printed.contains("increment -> 1"), "{printed}");
    assert!(printed.contains("get -> 12"), "{printed}");
    // The Rust side sees what Erlang did, through the same server.
    assert_eq!(counter.call(Call::Get).unwrap(), 12);
    node.stop();
}

#[allow(dead_code)]
fn main() {
    if std::env::args().any(|a| a == "--wait") {
        let rt = Runtime::new().unwrap();
        let (node, _counter) = start(&rt, "rotp@127.0.0.1");
        println!(
            "node {} is up (cookie {COOKIE}); Ctrl-C to stop",
            node.name()
        );
        loop {
            std::thread::park();
        }
    }
    run();
}
