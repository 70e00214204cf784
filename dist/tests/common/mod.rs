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
