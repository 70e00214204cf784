//! A rotp node in an Erlang/Elixir cluster: an Erlang shell calls a rotp
//! counter.
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
//! iex> GenServer.call({:counter, :"rotp@127.0.0.1"}, :increment)
//! 2
//! ```

use std::process::Command;

use rotp::dist::{GenMessage, Node};
use rotp::prelude::*;

const COOKIE: &str = "rotp-example";

/// What the counter answers: `increment`, `get`, `{add, N}`.
#[derive(Debug, rotp::dist::FromTerm)]
#[term(crate = "rotp::dist")]
enum Request {
    Increment,
    Get,
    Add(i64),
}

/// Starts the node and the counter, registered as `counter`.
fn start(rt: &Runtime, name: &str) -> Node {
    let node = Node::builder(name)
        .cookie(COOKIE)
        .start(rt)
        .expect("the node starts");
    let n = node.clone();
    let mut count = 0i64;
    let counter = rt.spawn_fn(move |m: GenMessage<Request, i64>, _ctx| match m {
        GenMessage::Call { request, from } => {
            match request {
                Request::Increment => count += 1,
                Request::Add(k) => count += k,
                Request::Get => {}
            }
            from.reply(&n, count);
        }
        GenMessage::BadCall { request, from, .. } => {
            from.reply(&n, Err::<(), _>(format!("unknown request {request}")));
        }
        GenMessage::Cast(k) => count += k,
        GenMessage::Info(other) => println!("counter got {other}"),
    });
    node.register("counter", &counter)
        .expect("the name is free");
    node
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
    let node = start(&rt, &name);
    let printed = run_client(&name);
    print!("{printed}");
    assert!(printed.contains("increment -> 1"), "{printed}");
    assert!(printed.contains("get -> 12"), "{printed}");
    node.stop();
}

#[allow(dead_code)]
fn main() {
    if std::env::args().any(|a| a == "--wait") {
        let rt = Runtime::new().unwrap();
        let node = start(&rt, "rotp@127.0.0.1");
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
