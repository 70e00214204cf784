//! GenServer benchmarks: cast_throughput, call_latency, call_external,
//! call_parallel.

use std::sync::mpsc;
use std::time::{Duration, Instant};

use rotp::gen_server::{
    gen_server, noreply, start, Ctx, GenServer, Handled, Init, InitResult, ReplyTo, ServerRef,
    StartOptions, DEFAULT_CALL_TIMEOUT,
};
use rotp::runtime::{Context, Process, Runtime};

use crate::{Bench, Line};

pub(crate) fn all() -> Vec<Bench> {
    vec![
        Bench {
            name: "cast_throughput",
            default_n: 10_000_000,
            run: cast_throughput,
        },
        Bench {
            name: "call_latency",
            default_n: 1_000_000,
            run: call_latency,
        },
        Bench {
            name: "call_external",
            default_n: 1_000_000,
            run: call_external,
        },
        Bench {
            name: "call_parallel",
            default_n: 4_000_000,
            run: call_parallel,
        },
    ]
}

/// A counter: casts add, a call reads.
struct Counter(u64);

/// The one call: read the count.
struct Get(ReplyTo<u64>);

#[gen_server]
impl GenServer for Counter {
    fn init((): (), _ctx: &mut Ctx<'_, Self>) -> InitResult<Self> {
        Init::ok(Counter(0))
    }

    fn handle_call(&mut self, Get(r): Get, _ctx: &mut Ctx<'_, Self>) -> Handled<Self> {
        r.reply(self.0)
    }

    fn handle_cast(&mut self, n: u64, _ctx: &mut Ctx<'_, Self>) -> Handled<Self> {
        self.0 += n;
        noreply()
    }
}

/// Messages a client handles per handler invocation before it sends itself
/// the rest: long loops are split so that a handler stays short, as every
/// rotp process should (see docs/scheduling.md).
const BATCH: u64 = 1_000;

/// One producer process casts n messages to one counter, then one call reads
/// the count, which must equal n.
fn cast_throughput(rt: &Runtime, n: u64) -> Line {
    let counter = start::<Counter>(rt, (), StartOptions::new()).unwrap();
    let (tx, rx) = mpsc::channel();
    let start_at = Instant::now();
    let target = counter.clone();
    rt.spawn_fn(move |left: u64, ctx| {
        let batch = left.min(BATCH);
        for _ in 0..batch {
            target.cast(1);
        }
        if left > batch {
            ctx.addr().send(left - batch);
        } else {
            tx.send(target.call_timeout(Get, None).unwrap()).unwrap();
        }
    })
    .send(n);
    let count = rx.recv().unwrap();
    let elapsed = start_at.elapsed();
    assert_eq!(count, n, "every cast handled before the clock stops");
    Line::new("cast_throughput", n, elapsed)
}

/// A client process that makes `calls` sequential calls, then reports.
///
/// The calls wait without a timeout, like the BEAM twin's
/// `gen_server:call(S, R, infinity)`; `call_latency` also times the default
/// 5 s call, which never runs the server's handler on the caller's thread.
struct Client {
    server: ServerRef<Counter>,
    calls: u64,
    timeout: Option<Duration>,
    done: mpsc::Sender<()>,
}

impl Process for Client {
    type Message = ();

    fn handle(&mut self, _: (), ctx: &mut Context<'_, ()>) {
        let batch = self.calls.min(BATCH);
        for _ in 0..batch {
            self.server.call_timeout(Get, self.timeout).unwrap();
        }
        self.calls -= batch;
        if self.calls > 0 {
            ctx.addr().send(());
        } else {
            self.done.send(()).unwrap();
        }
    }
}

/// One client process makes n sequential calls to a server that replies at
/// once: without a timeout (the BEAM twin's `infinity`), then, for the
/// `default_ns_per_call` extra, n / 10 calls with the default 5 s timeout.
fn call_latency(rt: &Runtime, n: u64) -> Line {
    let server = start::<Counter>(rt, (), StartOptions::new()).unwrap();
    let (tx, rx) = mpsc::channel();
    let run = |calls: u64, timeout: Option<Duration>| {
        let client = rt.spawn(Client {
            server: server.clone(),
            calls,
            timeout,
            done: tx.clone(),
        });
        let start_at = Instant::now();
        client.send(());
        rx.recv().unwrap();
        start_at.elapsed()
    };
    run(10_000, None);
    let elapsed = run(n, None);
    let default_n = (n / 10).max(1);
    let default = run(default_n, Some(DEFAULT_CALL_TIMEOUT));
    Line::new("call_latency", n, elapsed)
        .extra(
            "ns_per_call",
            format!("{:.1}", elapsed.as_nanos() as f64 / n as f64),
        )
        .extra(
            "default_ns_per_call",
            format!("{:.1}", default.as_nanos() as f64 / default_n as f64),
        )
}

/// A plain OS thread makes n sequential calls without a timeout (the BEAM
/// twin's `infinity`), then n / 10 with the default 5 s timeout (the
/// `default_ns_per_call` extra); beside it, a raw two-thread
/// crossbeam-channel request/reply loop of n round trips.
fn call_external(rt: &Runtime, n: u64) -> Line {
    let server = start::<Counter>(rt, (), StartOptions::new()).unwrap();
    let run = |calls: u64, timeout: Option<Duration>| {
        let start_at = Instant::now();
        for _ in 0..calls {
            server.call_timeout(Get, timeout).unwrap();
        }
        start_at.elapsed()
    };
    run(10_000, None);
    let elapsed = run(n, None);
    let default_n = (n / 10).max(1);
    let default = run(default_n, Some(DEFAULT_CALL_TIMEOUT));

    let (req_tx, req_rx) = crossbeam_channel::bounded::<u64>(1);
    let (rep_tx, rep_rx) = crossbeam_channel::bounded::<u64>(1);
    let echo = std::thread::spawn(move || {
        while let Ok(v) = req_rx.recv() {
            rep_tx.send(v).unwrap();
        }
    });
    for i in 0..10_000 {
        req_tx.send(i).unwrap();
        rep_rx.recv().unwrap();
    }
    let raw_start = Instant::now();
    for i in 0..n {
        req_tx.send(i).unwrap();
        rep_rx.recv().unwrap();
    }
    let raw = raw_start.elapsed();
    drop(req_tx);
    echo.join().unwrap();
    Line::new("call_external", n, elapsed)
        .extra(
            "ns_per_call",
            format!("{:.1}", elapsed.as_nanos() as f64 / n as f64),
        )
        .extra(
            "raw_ns_per_call",
            format!("{:.1}", raw.as_nanos() as f64 / n as f64),
        )
        .extra(
            "default_ns_per_call",
            format!("{:.1}", default.as_nanos() as f64 / default_n as f64),
        )
}

/// 2 × workers client processes, each calling its own server n/clients
/// times.
fn call_parallel(rt: &Runtime, n: u64) -> Line {
    let clients = 2 * rt.workers() as u64;
    let per_client = n / clients;
    let (tx, rx) = mpsc::channel();
    let procs: Vec<_> = (0..clients)
        .map(|_| {
            let server = start::<Counter>(rt, (), StartOptions::new()).unwrap();
            rt.spawn(Client {
                server,
                calls: per_client,
                timeout: None,
                done: tx.clone(),
            })
        })
        .collect();
    let start_at = Instant::now();
    for p in &procs {
        p.send(());
    }
    for _ in 0..clients {
        rx.recv().unwrap();
    }
    let elapsed = start_at.elapsed();
    Line::new("call_parallel", per_client * clients, elapsed).extra("clients", clients)
}
