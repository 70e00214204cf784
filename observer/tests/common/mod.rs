//! Shared helpers of the observer's tests: a small supervised system with
//! hostile names and reasons, and a bare HTTP client.

#![allow(dead_code, unreachable_pub)]

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

use rotp_runtime::{Context, ExitReason, Pid, Process, Runtime};
use rotp_supervisor::{ChildSpec, Supervisor, SupervisorOptions};

pub const TIMEOUT: Duration = Duration::from_secs(5);

/// A name no page may take for markup.
pub const HOSTILE_NAME: &str = "<img src=x onerror=alert(1)>\"&'";

/// An exit reason no page may take for markup.
pub const HOSTILE_REASON: &str = "<script>document.title='pwned'</script>";

/// A process that registers the name it is given, and exits with the
/// reason it is sent.
pub struct Named(pub &'static str);

impl Process for Named {
    type Message = String;

    fn init(&mut self, ctx: &mut Context<'_, String>) {
        ctx.register(self.0).expect("the name is free");
    }

    fn handle(&mut self, reason: String, ctx: &mut Context<'_, String>) {
        ctx.exit(ExitReason::custom(reason));
    }
}

/// ```text
/// app (one_for_one)
///  ├─ hostile     registered as HOSTILE_NAME
///  ├─ counter     registered as "counter"
///  └─ inner (rest_for_one)
///      └─ leaf    registered as "leaf"
/// ```
pub fn system(rt: &Runtime) -> Supervisor {
    let inner = Supervisor::child_spec(
        "inner",
        vec![ChildSpec::process("leaf", || Named("leaf"))],
        SupervisorOptions::new()
            .strategy(rotp_supervisor::Strategy::RestForOne)
            .name("inner"),
    );
    Supervisor::start_link(
        rt,
        vec![
            ChildSpec::process("hostile", || Named(HOSTILE_NAME)),
            ChildSpec::process("counter", || Named("counter")),
            inner,
        ],
        SupervisorOptions::new().name("app"),
    )
    .expect("the system starts")
}

/// Sends `raw` (a whole request) and returns the status code and body.
pub fn raw(addr: SocketAddr, raw: &[u8]) -> (u16, String) {
    let mut conn = TcpStream::connect(addr).expect("connect");
    conn.set_read_timeout(Some(TIMEOUT)).unwrap();
    conn.write_all(raw).unwrap();
    let mut answer = Vec::new();
    let _ = conn.read_to_end(&mut answer);
    let answer = String::from_utf8(answer).expect("UTF-8 answer");
    let status = answer
        .get(9..12)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no status line: {answer:?}"));
    let body = answer
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_owned())
        .unwrap_or_default();
    (status, body)
}

/// `GET path` with a proper Host header.
pub fn get(addr: SocketAddr, path: &str) -> (u16, String) {
    raw(
        addr,
        format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\n\r\n").as_bytes(),
    )
}

/// `POST path` with the action header (or without it).
pub fn post(addr: SocketAddr, path: &str, action_header: bool) -> (u16, String) {
    let extra = if action_header {
        "X-Rotp-Observer: action\r\n"
    } else {
        ""
    };
    raw(
        addr,
        format!("POST {path} HTTP/1.1\r\nHost: {addr}\r\n{extra}Content-Length: 0\r\n\r\n")
            .as_bytes(),
    )
}

/// The pid as the API's URLs spell it.
pub fn id(pid: Pid) -> String {
    pid.to_string()
        .trim_start_matches('<')
        .trim_end_matches('>')
        .to_owned()
}

/// `s` as the API writes it inside a JSON string.
pub fn json_escaped(s: &str) -> String {
    let mut out = String::new();
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '<' | '>' | '&' => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out
}
