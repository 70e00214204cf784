//! Real Erlang nodes for the distribution tests.
//!
//! [`Erl`] starts `erl -name <unique>@127.0.0.1 -setcookie <random>` as a
//! child process running `rotp_test:main()`, a shell that evaluates one
//! expression per line from stdin and answers on stdout; tests drive it
//! with [`Erl::eval`]. The node is killed when the value is dropped. Every
//! wait is bounded. Names and cookies are unique per test, so tests run in
//! parallel.

#![allow(dead_code)]

use std::io::{BufRead, BufReader, Write};
use std::path::PathBuf;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use rotp_dist::Node;
use rotp_runtime::Runtime;

/// How long an Erlang expression may take.
pub(crate) const EVAL_TIMEOUT: Duration = Duration::from_secs(20);

/// How long to wait for something that must happen.
pub(crate) const TIMEOUT: Duration = Duration::from_secs(10);

/// The compiled test modules (`tests/erl/*.erl`), once per test binary.
fn beam_dir() -> &'static PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let src = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/erl");
        let out =
            PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("erl-{}", std::process::id()));
        std::fs::create_dir_all(&out).unwrap();
        let sources: Vec<PathBuf> = std::fs::read_dir(&src)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "erl"))
            .collect();
        let status = Command::new("erlc")
            .arg("-o")
            .arg(&out)
            .args(&sources)
            .status()
            .expect("erlc (Erlang/OTP) is needed for these tests: apt-get install erlang-nox");
        assert!(status.success(), "erlc failed");
        out
    })
}

static COUNTER: AtomicU32 = AtomicU32::new(0);

/// A name no other test uses: `<prefix>_<pid>_<n>`.
pub(crate) fn unique(prefix: &str) -> String {
    format!(
        "{prefix}_{}_{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    )
}

/// A random cookie.
pub(crate) fn cookie() -> String {
    use std::collections::hash_map::RandomState;
    use std::hash::{BuildHasher, Hasher};
    let mut h = RandomState::new().build_hasher();
    h.write_u32(COUNTER.fetch_add(1, Ordering::Relaxed));
    format!("C{:016x}", h.finish())
}

/// A running Erlang node driven through its stdin.
pub(crate) struct Erl {
    child: Child,
    stdin: ChildStdin,
    lines: Receiver<String>,
    /// Its node name, `name@127.0.0.1`.
    pub(crate) name: String,
}

impl Erl {
    /// Starts a node with `cookie`.
    pub(crate) fn start(cookie: &str) -> Erl {
        Erl::start_with(cookie, &[])
    }

    /// Starts a node with extra `erl` arguments.
    pub(crate) fn start_with(cookie: &str, extra: &[&str]) -> Erl {
        Erl::start_named(&format!("{}@127.0.0.1", unique("erl")), cookie, extra)
    }

    /// Starts a node under a given name.
    pub(crate) fn start_named(name: &str, cookie: &str, extra: &[&str]) -> Erl {
        let mut child = Command::new("erl")
            .args(["-noshell", "-name", name, "-setcookie", cookie, "-pa"])
            .arg(beam_dir())
            .args(extra)
            .args(["-eval", "rotp_test:main()"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("erl (Erlang/OTP) is needed for these tests: apt-get install erlang-nox");
        let stdin = child.stdin.take().unwrap();
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = mpsc::channel();
        let label = name.to_owned();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if line.starts_with("OK ") || line.starts_with("ERR ") || line == "READY" {
                    if tx.send(line).is_err() {
                        break;
                    }
                } else {
                    eprintln!("[{label}] {line}");
                }
            }
        });
        let erl = Erl {
            child,
            stdin,
            lines: rx,
            name: name.to_owned(),
        };
        match erl.lines.recv_timeout(EVAL_TIMEOUT) {
            Ok(l) if l == "READY" => {}
            other => panic!("erl node {name} did not start: {other:?}"),
        }
        erl
    }

    /// Evaluates `expr` (without the final dot) and returns the printed
    /// result; panics on an error or a timeout.
    #[track_caller]
    pub(crate) fn eval(&mut self, expr: &str) -> String {
        match self.try_eval(expr) {
            Ok(v) => v,
            Err(e) => panic!("erl `{expr}` failed: {e}"),
        }
    }

    /// Evaluates `expr`; `Err` carries an Erlang error.
    pub(crate) fn try_eval(&mut self, expr: &str) -> Result<String, String> {
        let line = format!("{}.\n", expr.replace('\n', " "));
        self.stdin
            .write_all(line.as_bytes())
            .map_err(|e| e.to_string())?;
        self.stdin.flush().map_err(|e| e.to_string())?;
        match self.lines.recv_timeout(EVAL_TIMEOUT) {
            Ok(l) => match l.strip_prefix("OK ") {
                Some(v) => Ok(v.to_owned()),
                None => Err(l),
            },
            Err(RecvTimeoutError::Timeout) => Err(format!("no answer within {EVAL_TIMEOUT:?}")),
            Err(RecvTimeoutError::Disconnected) => Err("the erl node exited".into()),
        }
    }

    /// Evaluates `expr` until it prints `expected`, up to [`TIMEOUT`].
    #[track_caller]
    pub(crate) fn eval_until(&mut self, expr: &str, expected: &str) {
        let deadline = Instant::now() + TIMEOUT;
        loop {
            let got = self.eval(expr);
            if got == expected {
                return;
            }
            if Instant::now() > deadline {
                panic!("erl `{expr}` gave {got}, expected {expected}");
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// The OS process id of the node.
    pub(crate) fn os_pid(&self) -> u32 {
        self.child.id()
    }

    /// Kills the node at once (`SIGKILL`).
    pub(crate) fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Erl {
    fn drop(&mut self) {
        self.kill();
    }
}

/// A runtime and a rotp node on it with `cookie`.
pub(crate) fn rotp_node(cookie: &str) -> (Runtime, Node) {
    let rt = Runtime::builder().workers(2).build().unwrap();
    let node = Node::builder(&format!("{}@127.0.0.1", unique("rotp")))
        .cookie(cookie)
        .start(&rt)
        .unwrap();
    (rt, node)
}

/// Waits until `pred` holds, up to [`TIMEOUT`].
#[track_caller]
pub(crate) fn eventually(what: &str, pred: impl FnMut() -> bool) {
    assert!(
        rotp_runtime::testing::wait_until(TIMEOUT, pred),
        "not within {TIMEOUT:?}: {what}"
    );
}

/// Logs to stderr during tests (`RUST_LOG`-free: warnings and up).
pub(crate) fn init_log() {
    struct Stderr;
    impl log::Log for Stderr {
        fn enabled(&self, m: &log::Metadata<'_>) -> bool {
            m.level() <= log::Level::Info
        }
        fn log(&self, r: &log::Record<'_>) {
            if self.enabled(r.metadata()) {
                eprintln!("[{}] {}", r.level(), r.args());
            }
        }
        fn flush(&self) {}
    }
    static LOGGER: Stderr = Stderr;
    let _ = log::set_logger(&LOGGER);
    log::set_max_level(log::LevelFilter::Info);
}

/// What an [`Actor`] saw.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Event {
    /// A trapped exit signal.
    Exit(rotp_runtime::Pid, rotp_runtime::ExitReason),
    /// A monitor notification.
    Down(rotp_runtime::Down),
    /// A message from another node.
    Msg(rotp_dist::Term),
    /// A node up or down.
    Node(rotp_dist::NodeEvent),
}

/// A closure an [`Actor`] runs as itself.
pub(crate) type Job = Box<dyn FnOnce(&mut rotp_runtime::Context<'_, Act>) + Send>;

/// What an [`Actor`] takes: a closure to run as the process, or a term.
pub(crate) enum Act {
    Run(Job),
    Term(rotp_dist::Term),
    Node(rotp_dist::NodeEvent),
}

impl rotp_dist::FromTerm for Act {
    fn from_term(t: &rotp_dist::Term) -> Result<Self, rotp_dist::FromTermError> {
        Ok(Act::Term(t.clone()))
    }
}

impl From<rotp_dist::NodeEvent> for Act {
    fn from(ev: rotp_dist::NodeEvent) -> Self {
        Act::Node(ev)
    }
}

struct ActorProcess {
    events: mpsc::Sender<Event>,
}

impl rotp_runtime::Process for ActorProcess {
    type Message = Act;

    fn handle(&mut self, msg: Act, ctx: &mut rotp_runtime::Context<'_, Act>) {
        match msg {
            Act::Run(f) => f(ctx),
            Act::Term(t) => {
                let _ = self.events.send(Event::Msg(t));
            }
            Act::Node(ev) => {
                let _ = self.events.send(Event::Node(ev));
            }
        }
    }

    fn handle_exit(
        &mut self,
        from: rotp_runtime::Pid,
        reason: rotp_runtime::ExitReason,
        ctx: &mut rotp_runtime::Context<'_, Act>,
    ) {
        if from.is_root() {
            ctx.exit(reason);
            return;
        }
        let _ = self.events.send(Event::Exit(from, reason));
    }

    fn handle_down(&mut self, down: rotp_runtime::Down, _ctx: &mut rotp_runtime::Context<'_, Act>) {
        let _ = self.events.send(Event::Down(down));
    }
}

/// A rotp process a test acts as: it runs closures as the process, and
/// reports the exits, downs and messages it receives.
pub(crate) struct Actor {
    pub(crate) addr: rotp_runtime::Addr<Act>,
    events: mpsc::Receiver<Event>,
}

impl Actor {
    /// Spawns an actor (trapping exits if `trap`) that accepts messages
    /// from other nodes.
    pub(crate) fn spawn(rt: &Runtime, node: &Node, trap: bool) -> Actor {
        let (tx, rx) = mpsc::channel();
        let process = ActorProcess { events: tx };
        let addr = if trap {
            rt.spawn_trapping(process)
        } else {
            rt.spawn(process)
        };
        node.accept(&addr);
        Actor { addr, events: rx }
    }

    /// Runs `f` as the process and returns its result.
    pub(crate) fn run<R: Send + 'static>(
        &self,
        f: impl FnOnce(&mut rotp_runtime::Context<'_, Act>) -> R + Send + 'static,
    ) -> R {
        let (tx, rx) = mpsc::channel();
        self.addr.send(Act::Run(Box::new(move |ctx| {
            let _ = tx.send(f(ctx));
        })));
        rx.recv_timeout(EVAL_TIMEOUT)
            .expect("the actor did not run the closure")
    }

    /// The next event, waiting up to [`TIMEOUT`].
    #[track_caller]
    pub(crate) fn next(&self) -> Event {
        self.events
            .recv_timeout(TIMEOUT)
            .expect("no event within the timeout")
    }

    /// Asserts that no event arrives within `within`.
    #[track_caller]
    pub(crate) fn quiet(&self, within: Duration) {
        if let Ok(ev) = self.events.recv_timeout(within) {
            panic!("unexpected event {ev:?}");
        }
    }

    /// This actor's pid as other nodes know it.
    pub(crate) fn remote(&self, node: &Node) -> rotp_dist::RemotePid {
        node.pid_of(self.addr.pid())
    }
}

/// Registers the actor under `name` so that an Erlang test shell can
/// reach it, and makes the shell learn its pid as `var`.
pub(crate) fn share_pid(erl: &mut Erl, node: &Node, actor: &Actor, var: &str) {
    // The shell asks the actor for its pid: the actor answers with self().
    let me = actor.remote(node);
    let n = node.clone();
    let box_name = unique("box");
    erl.eval(&format!("register({box_name}, self())"));
    let erl_name = erl.name.clone();
    let bn = box_name.clone();
    actor.run(move |_ctx| {
        n.send((bn.as_str(), erl_name.as_str()), rotp_dist::Term::Pid(me))
            .unwrap();
    });
    // A fresh variable for the pattern: the shell keeps every binding.
    let v = unique("V").to_uppercase();
    erl.eval(&format!(
        "{var} = receive {v} when is_pid({v}) -> {v} after 10000 -> timeout end, unregister({box_name})"
    ));
}

/// Makes the rotp test learn an Erlang process's pid, the value of the
/// shell expression `expr`.
pub(crate) fn erl_pid(erl: &mut Erl, node: &Node, expr: &str) -> rotp_dist::RemotePid {
    let (tx, rx) = mpsc::channel();
    let rt = node.handle().clone();
    let taker = rt.spawn_fn(move |t: rotp_dist::Term, _ctx| {
        let _ = tx.send(t);
    });
    let name = unique("pidtaker");
    node.register(&name, &taker).unwrap();
    erl.eval(&format!(
        "{{{name}, '{}'}} ! ({expr})",
        node.name().as_str()
    ));
    match rx.recv_timeout(TIMEOUT).expect("the pid did not arrive") {
        rotp_dist::Term::Pid(p) => p,
        other => panic!("expected a pid, got {other}"),
    }
}
