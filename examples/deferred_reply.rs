//! Deferred reply: answer a call later, from another thread, while the
//! server keeps serving everyone else.
//!
//! `handle_call` hands the slow work and the request's reply port (its
//! `ReplyTo`, Elixir's `from`) to a std thread and returns `noreply()`. The
//! thread answers with `r.send(value)` — Elixir's
//! `GenServer.reply(from, value)` — and tells the server it is done with a
//! cast.
//!
//! Run with `cargo run --example deferred_reply`.

use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rotp::prelude::*;
use rotp::runtime::testing::assert_eventually;

/// Stands in for a slow backend: a "fetch" finishes when the example says
/// so (a real one would do I/O).
#[derive(Clone, Default)]
struct Backend {
    release: Arc<Mutex<Option<mpsc::Receiver<()>>>>,
}

impl Backend {
    fn fetch(&self, url: &str) -> String {
        if let Some(gate) = self.release.lock().unwrap().take() {
            let _ = gate.recv_timeout(Duration::from_secs(5));
        }
        format!("<contents of {url}>")
    }
}

struct Fetcher {
    backend: Backend,
    in_flight: usize,
    /// Whether each deferred reply found its caller still waiting.
    delivered: mpsc::Sender<bool>,
}

enum Call {
    Fetch(String, ReplyTo<String>),
    InFlight(ReplyTo<usize>),
}

/// A fetch is done.
struct Done;

#[gen_server]
impl GenServer for Fetcher {
    fn init(
        (backend, delivered): (Backend, mpsc::Sender<bool>),
        _ctx: &mut Ctx<'_, Self>,
    ) -> InitResult<Self> {
        Init::ok(Fetcher {
            backend,
            in_flight: 0,
            delivered,
        })
    }

    fn handle_call(&mut self, call: Call, ctx: &mut Ctx<'_, Self>) -> Handled<Self> {
        match call {
            Call::Fetch(url, r) => {
                let backend = self.backend.clone();
                let server = ctx.server_ref();
                let delivered = self.delivered.clone();
                self.in_flight += 1;
                std::thread::spawn(move || {
                    let body = backend.fetch(&url);
                    // `send` returns whether the caller was still waiting.
                    let _ = delivered.send(r.send(body));
                    server.cast(Done);
                });
                // No reply now: the caller keeps waiting (rule 73).
                noreply()
            }
            Call::InFlight(r) => r.reply(self.in_flight),
        }
    }

    fn handle_cast(&mut self, Done: Done, _ctx: &mut Ctx<'_, Self>) -> Handled<Self> {
        self.in_flight -= 1;
        noreply()
    }
}

pub(crate) fn run() {
    let rt = Runtime::builder().workers(2).build().expect("runtime");
    let backend = Backend::default();
    let (delivered_tx, delivered) = mpsc::channel();
    let fetcher =
        gen_server::start::<Fetcher>(&rt, (backend.clone(), delivered_tx), StartOptions::new())
            .expect("the fetcher starts");
    let wait = Duration::from_secs(5);

    // A slow fetch, held back until we release the backend.
    let (release, gate) = mpsc::channel();
    *backend.release.lock().unwrap() = Some(gate);
    let f = fetcher.clone();
    let slow =
        std::thread::spawn(move || f.call(|r| Call::Fetch("https://slow.example".into(), r)));

    // Meanwhile the server answers others.
    assert_eventually(wait, "the fetch is in flight", || {
        fetcher.call(Call::InFlight) == Ok(1)
    });
    println!("while a fetch is in flight, the server still answers: in_flight = 1");

    release.send(()).unwrap();
    assert_eq!(
        slow.join().unwrap().unwrap(),
        "<contents of https://slow.example>"
    );
    assert!(delivered.recv_timeout(wait).unwrap());
    println!("the deferred reply arrived from the worker thread");

    // A caller that gives up is not waited for: the late reply is dropped,
    // and the worker learns nobody was listening.
    let (release, gate) = mpsc::channel();
    *backend.release.lock().unwrap() = Some(gate);
    let timed_out = fetcher.call_timeout(
        |r| Call::Fetch("https://slower.example".into(), r),
        Some(Duration::from_millis(20)),
    );
    assert_eq!(timed_out, Err(CallError::Timeout));
    release.send(()).unwrap();
    assert!(!delivered.recv_timeout(wait).unwrap());
    println!("a caller that timed out: its late reply was dropped");

    rt.shutdown(Duration::from_secs(1)).expect("clean shutdown");
}

#[allow(dead_code)]
fn main() {
    run();
    println!("deferred_reply: ok");
}
