//! rotp ↔ BEAM over Erlang distribution, against BEAM ↔ BEAM, on loopback.
//!
//! ```sh
//! cargo bench -p rotp-dist --bench dist -- all [--n N] [--rounds R]
//! ```
//!
//! Each benchmark prints one line in the suite's format (see
//! `docs/benchmarks.md`): the same work done with rotp in one role and a
//! BEAM node in the other, and by two BEAM nodes. The work is split into
//! `R` rounds (default 5) that take the roles in turn, and each line sums
//! its role's rounds: a machine whose speed drifts over seconds then slows
//! every role alike, where one stretch per role would hand the drift to
//! whichever ran in it.
//!
//! - `dist_call`: N sequential `gen_server:call(Server, increment)` round
//!   trips, each with its monitor, as OTP's call makes them.
//!   `impl=rotp_client` (rotp calls a BEAM gen_server), `impl=rotp_server`
//!   (a BEAM node calls a rotp GenServer, served with `Node::serve`),
//!   `impl=rotp_raw_server` (the same, to a raw `GenMessage` process),
//!   `impl=beam` (BEAM calls BEAM).
//! - `dist_cast`: N casts `{add, 1}`, then one call that returns the count
//!   (so every cast was handled before the clock stops). Same three
//!   `impl`s, as `rotp_sender`, `rotp_receiver`, `beam`.
//! - `serve`, `serve_raw`: only the BEAM-calls-rotp half of `dist_call`,
//!   for profiles.

use std::io::{BufRead, BufReader, Write};
use std::path::PathBuf;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use rotp_dist::{FromTerm, FromTermError, Node, RemoteCall, RemoteReply, RemoteServer, Term};
use rotp_gen_server::{
    gen_server, noreply, start, Ctx, GenServer, Handled, Init, InitResult, ReplyTo, StartOptions,
};
use rotp_runtime::Runtime;

const COOKIE: &str = "rotp-dist-bench";

struct Beam {
    child: Child,
    stdin: ChildStdin,
    lines: mpsc::Receiver<String>,
    name: String,
}

impl Beam {
    fn start(name: &str, beams: &PathBuf) -> Beam {
        let mut child = Command::new("erl")
            .args(["-noshell", "-name", name, "-setcookie", COOKIE, "-pa"])
            .arg(beams)
            .args(["-eval", "dist_bench:main()"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("erl (Erlang/OTP) is needed: apt-get install erlang-nox");
        let stdin = child.stdin.take().unwrap();
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if line == "READY" || line.starts_with("OK ") {
                    let _ = tx.send(line);
                } else {
                    eprintln!("[erl] {line}");
                }
            }
        });
        let beam = Beam {
            child,
            stdin,
            lines: rx,
            name: name.to_owned(),
        };
        assert_eq!(
            beam.lines.recv_timeout(Duration::from_secs(30)).unwrap(),
            "READY"
        );
        beam
    }

    fn run(&mut self, command: &str) -> String {
        writeln!(self.stdin, "{command}.").unwrap();
        let line = self.lines.recv_timeout(Duration::from_secs(600)).unwrap();
        line.trim_start_matches("OK ").to_owned()
    }

    /// Runs a timed command: (seconds, result).
    fn timed(&mut self, command: &str) -> (f64, String) {
        let out = self.run(command);
        let inner = out.trim_start_matches('{').trim_end_matches('}');
        let (micros, result) = inner.split_once(',').unwrap();
        (micros.parse::<f64>().unwrap() / 1e6, result.to_owned())
    }
}

impl Drop for Beam {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn compile() -> PathBuf {
    let src = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("benches/erl/dist_bench.erl");
    let out = std::env::temp_dir().join(format!("rotp-dist-bench-{}", std::process::id()));
    std::fs::create_dir_all(&out).unwrap();
    let ok = Command::new("erlc")
        .arg("-o")
        .arg(&out)
        .arg(&src)
        .status()
        .unwrap();
    assert!(ok.success(), "erlc failed");
    out
}

fn line(bench: &str, imp: &str, n: u64, secs: f64, extra_key: &str) {
    let rate = n as f64 / secs;
    let per = secs * 1e9 / n as f64;
    println!(
        "bench={bench} impl={imp} n={n} secs={secs:.4} rate={rate:.1} extra={extra_key}:{per:.0}"
    );
}

/// The counter other nodes call: a rotp GenServer served through the
/// bridge, with calls `increment`, `get` and casts `{add, K}`.
struct Counter(i64);

#[derive(RemoteCall)]
enum Call {
    Increment(ReplyTo<i64>),
    Get(ReplyTo<i64>),
}

#[gen_server]
impl GenServer for Counter {
    fn init(n: i64, _ctx: &mut Ctx<'_, Self>) -> InitResult<Self> {
        Init::ok(Counter(n))
    }

    fn handle_call(&mut self, call: Call, _ctx: &mut Ctx<'_, Self>) -> Handled<Self> {
        match call {
            Call::Increment(r) => {
                self.0 += 1;
                r.reply(self.0)
            }
            Call::Get(r) => r.reply(self.0),
        }
    }

    fn handle_cast(&mut self, k: i64, _ctx: &mut Ctx<'_, Self>) -> Handled<Self> {
        self.0 += k;
        noreply()
    }
}

impl RemoteServer for Counter {
    fn remote_call(request: &Term, reply: RemoteReply) -> Result<Call, FromTermError> {
        Call::from_remote(request, reply)
    }

    fn remote_cast(request: &Term) -> Result<i64, FromTermError> {
        match request.tagged("add") {
            Some([k]) => i64::from_term(k),
            _ => Err(FromTermError::expected("{add, K}", request)),
        }
    }
}

/// The same counter as a raw process over [`GenMessage`].
fn raw_counter(rt: &Runtime, node: &Node, name: &str) {
    let n = node.clone();
    let mut count = 0i64;
    let counter = rt.spawn_fn(move |m: rotp_dist::GenMessage<Term, Term>, _ctx| match m {
        rotp_dist::GenMessage::Call { request, from } => {
            if request.is_atom("increment") {
                count += 1;
            }
            from.reply(&n, count);
        }
        rotp_dist::GenMessage::Cast(t) => {
            if let Some([k]) = t.tagged("add") {
                count += k.as_int().unwrap_or(0);
            }
        }
        _ => {}
    });
    node.register(name, &counter).unwrap();
}

fn rotp_counter(rt: &Runtime, node: &Node, name: &str) {
    let counter = start::<Counter>(rt, 0, StartOptions::new().name(name)).unwrap();
    node.serve(&counter).unwrap();
}

fn main() {
    let mut args = std::env::args().skip(1).filter(|a| a != "--bench");
    let mut which = Vec::new();
    let mut n_calls = 20_000u64;
    let mut n_casts = 200_000u64;
    let mut rounds = 5u64;
    while let Some(a) = args.next() {
        if a == "--rounds" {
            rounds = args
                .next()
                .and_then(|v| v.parse().ok())
                .filter(|&r| r > 0)
                .expect("--rounds R, R > 0");
        } else if a == "--n" {
            let n: u64 = args.next().and_then(|v| v.parse().ok()).expect("--n N");
            n_calls = n;
            n_casts = n * 10;
        } else {
            which.push(a);
        }
    }
    if which.is_empty() || which.iter().any(|w| w == "all") {
        which = vec!["dist_call".into(), "dist_cast".into()];
    }
    let beams = compile();
    let pid = std::process::id();
    let rt = Runtime::new().unwrap();
    let node = Node::builder(&format!("rotp_bench_{pid}@127.0.0.1"))
        .cookie(COOKIE)
        .start(&rt)
        .unwrap();
    rotp_counter(&rt, &node, "rotp_counter");
    raw_counter(&rt, &node, "raw_counter");
    let mut a = Beam::start(&format!("bench_a_{pid}@127.0.0.1"), &beams);
    let mut b = Beam::start(&format!("bench_b_{pid}@127.0.0.1"), &beams);
    a.run("{serve, counter}");
    b.run(&format!("{{connect, '{}'}}", a.name));
    a.run(&format!("{{connect, '{}'}}", node.name().as_str()));
    node.connect(&a.name).unwrap();
    let a_name = a.name.clone();
    let beam_counter = ("counter", a_name.as_str());
    let rotp_counter = format!("{{rotp_counter, '{}'}}", node.name().as_str());
    let raw_counter = format!("{{raw_counter, '{}'}}", node.name().as_str());
    let beam_counter_term = format!("{{counter, '{}'}}", a.name);

    for w in &which {
        match w.as_str() {
            "dist_call" => {
                let n = n_calls;
                // rotp calls the BEAM counter k times.
                let calls = |k: u64| {
                    for _ in 0..k {
                        let _: i64 = node
                            .call(
                                beam_counter,
                                Term::atom("increment"),
                                Duration::from_secs(60),
                            )
                            .unwrap();
                    }
                };
                // Warm up every path.
                calls(1000);
                a.timed(&format!("{{calls, {rotp_counter}, 1000}}"));
                b.timed(&format!("{{calls, {beam_counter_term}, 1000}}"));

                let per = (n / rounds).max(1);
                let mut secs = [0f64; 4];
                for _ in 0..rounds {
                    let start = Instant::now();
                    calls(per);
                    secs[0] += start.elapsed().as_secs_f64();
                    secs[1] += a.timed(&format!("{{calls, {rotp_counter}, {per}}}")).0;
                    secs[2] += a.timed(&format!("{{calls, {raw_counter}, {per}}}")).0;
                    secs[3] += b.timed(&format!("{{calls, {beam_counter_term}, {per}}}")).0;
                }
                let n = per * rounds;
                line("dist_call", "rotp_client", n, secs[0], "ns_per_call");
                line("dist_call", "rotp_server", n, secs[1], "ns_per_call");
                line("dist_call", "rotp_raw_server", n, secs[2], "ns_per_call");
                line("dist_call", "beam", n, secs[3], "ns_per_call");
            }
            "dist_cast" => {
                let per = (n_casts / rounds).max(1);
                let mut secs = [0f64; 3];
                for _ in 0..rounds {
                    let before: i64 = node
                        .call(beam_counter, Term::atom("get"), Duration::from_secs(60))
                        .unwrap();
                    let start = Instant::now();
                    for _ in 0..per {
                        node.cast(beam_counter, (Term::atom("add"), 1)).unwrap();
                    }
                    let after: i64 = node
                        .call(beam_counter, Term::atom("get"), Duration::from_secs(600))
                        .unwrap();
                    secs[0] += start.elapsed().as_secs_f64();
                    assert_eq!((after - before) as u64, per, "every cast counted");
                    secs[1] += a.timed(&format!("{{casts, {rotp_counter}, {per}}}")).0;
                    secs[2] += b.timed(&format!("{{casts, {beam_counter_term}, {per}}}")).0;
                }
                let n = per * rounds;
                line("dist_cast", "rotp_sender", n, secs[0], "ns_per_msg");
                line("dist_cast", "rotp_receiver", n, secs[1], "ns_per_msg");
                line("dist_cast", "beam", n, secs[2], "ns_per_msg");
            }
            // Only the BEAM-calls-rotp half of dist_call, for profiles.
            "serve" | "serve_raw" => {
                let n = n_calls;
                let target = if w == "serve" {
                    &rotp_counter
                } else {
                    &raw_counter
                };
                a.timed(&format!("{{calls, {target}, 1000}}"));
                let (secs, _) = a.timed(&format!("{{calls, {target}, {n}}}"));
                line("dist_call", w, n, secs, "ns_per_call");
            }
            other => eprintln!("unknown benchmark {other}"),
        }
    }
    drop((a, b));
    node.stop();
}
