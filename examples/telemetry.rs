//! Telemetry feeding a metrics collector: handlers attached to events turn
//! them into casts to a `MetricsCollector` GenServer, which sums them up
//! once per interval; the database query of the example is wrapped in a
//! span, so its duration arrives as a `stop` event.
//!
//! ```elixir
//! :telemetry.attach_many("metrics", [[:my_app, :repo, :query, :stop]],
//!   fn _event, %{duration: d}, meta, _config ->
//!     GenServer.cast(MetricsCollector, {:query, meta.table, d})
//!   end, nil)
//!
//! :telemetry.span([:my_app, :repo, :query], %{table: "users"}, fn ->
//!   {Repo.all(User), %{}}
//! end)
//! ```
//!
//! Run with `cargo run --example telemetry`.

use std::collections::BTreeMap;
use std::time::Duration;

use rotp::gen_server::{
    gen_server, noreply, start, Ctx, GenServer, Handled, Info, Init, InitResult, ReplyTo,
    ServerRef, StartOptions,
};
use rotp::runtime::Runtime;
use rotp::telemetry::{self, event, EventName};

/// The span's prefix: `start`, `stop` and `exception` are appended.
const QUERY: &[&str] = &["my_app", "repo", "query"];
const QUERY_STOP: EventName = &["my_app", "repo", "query", "stop"];
const QUERY_EXCEPTION: EventName = &["my_app", "repo", "query", "exception"];

/// One interval's summary.
#[derive(Debug, Clone, PartialEq, Default)]
struct Report {
    /// Queries per table.
    queries: BTreeMap<String, u64>,
    failed: u64,
    slowest: Duration,
    spawned: u64,
}

/// What the handlers report.
enum Measure {
    Query { table: String, took: Duration },
    QueryFailed,
    Spawned,
}

struct Tick;

/// The one call: the reports filed so far.
struct Reports(ReplyTo<Vec<Report>>);

/// Sums what it hears until its interval ends, then files a report.
struct MetricsCollector {
    interval: Duration,
    current: Report,
    reports: Vec<Report>,
}

#[gen_server]
impl GenServer for MetricsCollector {
    fn init(interval: Duration, ctx: &mut Ctx<'_, Self>) -> InitResult<Self> {
        ctx.send_after(interval, Tick);
        Init::ok(MetricsCollector {
            interval,
            current: Report::default(),
            reports: Vec::new(),
        })
    }

    fn handle_cast(&mut self, m: Measure, _ctx: &mut Ctx<'_, Self>) -> Handled<Self> {
        let r = &mut self.current;
        match m {
            Measure::Query { table, took } => {
                *r.queries.entry(table).or_default() += 1;
                r.slowest = r.slowest.max(took);
            }
            Measure::QueryFailed => r.failed += 1,
            Measure::Spawned => r.spawned += 1,
        }
        noreply()
    }

    fn handle_info(&mut self, info: Info<Tick>, ctx: &mut Ctx<'_, Self>) -> Handled<Self> {
        if let Info::Msg(Tick) = info {
            ctx.send_after(self.interval, Tick);
            self.reports.push(std::mem::take(&mut self.current));
        }
        noreply()
    }

    fn handle_call(&mut self, Reports(r): Reports, _ctx: &mut Ctx<'_, Self>) -> Handled<Self> {
        r.reply(self.reports.clone())
    }
}

/// A "query": its duration and outcome are reported by the span around it.
fn query(table: &str, rows: usize) -> usize {
    telemetry::span(QUERY, &[("table", table.into())], || {
        assert!(table != "missing", "no such table: {table}");
        (0..rows).map(|i| i % 7).sum::<usize>() + rows
    })
}

/// Attaches the handlers that feed `collector`; each handler captures
/// what it needs (Elixir's handler config).
fn attach(id: &str, collector: ServerRef<MetricsCollector>) {
    let c = collector.clone();
    telemetry::attach(format!("{id}-queries"), QUERY_STOP, move |_, m, meta| {
        c.cast(Measure::Query {
            table: meta.str("table").unwrap_or("?").to_owned(),
            took: m.duration("duration").unwrap_or_default(),
        });
    })
    .expect("a fresh id");
    let c = collector.clone();
    telemetry::attach(format!("{id}-failures"), QUERY_EXCEPTION, move |_, _, _| {
        c.cast(Measure::QueryFailed)
    })
    .expect("a fresh id");
    telemetry::attach(
        format!("{id}-spawns"),
        event::PROCESS_SPAWN,
        move |_, _, _| collector.cast(Measure::Spawned),
    )
    .expect("a fresh id");
}

fn detach(id: &str) {
    for part in ["queries", "failures", "spawns"] {
        let _ = telemetry::detach(&format!("{id}-{part}"));
    }
}

pub(crate) fn run() {
    let rt = Runtime::builder()
        .workers(2)
        .virtual_clock()
        .build()
        .expect("runtime");
    let interval = Duration::from_secs(10);
    let collector = start::<MetricsCollector>(&rt, interval, StartOptions::new()).unwrap();
    // The id is unique per run: tests may run this example alongside
    // others in one program, and handlers are program-wide.
    let id = format!(
        "metrics-{}",
        collector.pid().expect("a started server has a pid")
    );
    attach(&id, collector.clone());

    // First interval: three queries and two spawned processes.
    assert_eq!(query("users", 10), 34);
    query("users", 20);
    query("orders", 5);
    let workers: Vec<_> = (0..2).map(|_| rt.spawn_fn(|(): (), _ctx| {})).collect();
    // Casts from one sender arrive in order: a call after them sees them.
    collector.call(Reports).unwrap();
    rt.advance(interval);

    // Second interval: one query, and one that fails (the panic goes on
    // to its caller after the span reported it).
    query("orders", 1);
    let failed = std::panic::catch_unwind(|| query("missing", 1));
    assert!(failed.is_err());
    collector.call(Reports).unwrap();
    rt.advance(interval);

    let reports = collector.call(Reports).unwrap();
    detach(&id);
    assert_eq!(reports.len(), 2);
    let first = &reports[0];
    assert_eq!(first.queries.get("users"), Some(&2));
    assert_eq!(first.queries.get("orders"), Some(&1));
    assert!(first.spawned >= 2, "at least our two workers");
    assert_eq!(reports[1].queries.get("orders"), Some(&1));
    assert_eq!(reports[1].failed, 1);
    for (i, r) in reports.iter().enumerate() {
        println!(
            "interval {}: queries {:?}, failed {}, slowest {:?}, processes spawned {}",
            i + 1,
            r.queries,
            r.failed,
            r.slowest,
            r.spawned
        );
    }
    drop(workers);
    rt.shutdown(Duration::from_secs(1)).expect("clean shutdown");
}

#[allow(dead_code)]
fn main() {
    run();
    println!("telemetry: ok");
}
