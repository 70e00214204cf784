//! The benchmark suite: one macro benchmark per run, one result line.
//!
//! ```text
//! cargo bench --bench suite -- <bench|all> [--n N] [--workers W] [--reductions R]
//! bench=<name> impl=rotp n=<N> secs=<wall s> rate=<ops/s> extra=<k:v,...|->
//! ```
//!
//! Every message counted is handled before the clock stops. Progress goes to
//! stderr; stdout carries only result lines, so they can be compared with
//! other runtimes' lines (see `benches/compare.sh`).

mod gen_server_benches;
mod runtime_benches;
mod store_benches;
mod supervisor_benches;

use std::time::Duration;

use rotp::runtime::Runtime;

/// One result line.
#[derive(Debug)]
pub struct Line {
    pub name: &'static str,
    pub n: u64,
    pub secs: f64,
    pub extra: Vec<(&'static str, String)>,
}

impl Line {
    pub fn new(name: &'static str, n: u64, elapsed: Duration) -> Self {
        Line {
            name,
            n,
            secs: elapsed.as_secs_f64(),
            extra: Vec::new(),
        }
    }

    pub fn extra(mut self, key: &'static str, value: impl ToString) -> Self {
        self.extra.push((key, value.to_string()));
        self
    }

    fn print(&self) {
        let extra = if self.extra.is_empty() {
            "-".to_owned()
        } else {
            self.extra
                .iter()
                .map(|(k, v)| format!("{k}:{v}"))
                .collect::<Vec<_>>()
                .join(",")
        };
        println!(
            "bench={} impl=rotp n={} secs={:.6} rate={:.1} extra={}",
            self.name,
            self.n,
            self.secs,
            self.n as f64 / self.secs,
            extra
        );
    }
}

/// A benchmark: its name, default n, and body.
#[derive(Debug)]
pub struct Bench {
    pub name: &'static str,
    pub default_n: u64,
    pub run: fn(&Runtime, u64) -> Line,
}

fn benches() -> Vec<Bench> {
    let mut all = runtime_benches::all();
    all.extend(gen_server_benches::all());
    all.extend(supervisor_benches::all());
    all.extend(store_benches::all());
    all
}

fn main() {
    let mut args = std::env::args().skip(1);
    let mut which = None;
    let mut n = None;
    let mut workers = None;
    let mut reductions = None;
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--n" => n = args.next().and_then(|v| v.replace('_', "").parse().ok()),
            "--workers" => workers = args.next().and_then(|v| v.parse().ok()),
            "--reductions" => reductions = args.next().and_then(|v| v.parse().ok()),
            "--bench" => {} // passed by `cargo bench`
            other if !other.starts_with('-') && which.is_none() => which = Some(other.to_owned()),
            _ => {}
        }
    }
    let which = which.unwrap_or_else(|| "all".to_owned());
    let all = benches();
    let selected: Vec<&Bench> = all
        .iter()
        .filter(|b| which == "all" || b.name == which)
        .collect();
    if selected.is_empty() {
        let names: Vec<_> = all.iter().map(|b| b.name).collect();
        eprintln!("unknown bench `{which}`; one of: all, {}", names.join(", "));
        std::process::exit(2);
    }
    for bench in selected {
        let mut builder = Runtime::builder();
        if let Some(w) = workers {
            builder = builder.workers(w);
        }
        if let Some(r) = reductions {
            builder = builder.reductions(r);
        }
        let rt = builder.build().expect("runtime");
        let n = n.unwrap_or(bench.default_n);
        eprintln!("running {} (n={n}, workers={})", bench.name, rt.workers());
        let line = (bench.run)(&rt, n);
        line.print();
        if let Err(e) = rt.shutdown(Duration::from_secs(10)) {
            eprintln!("shutdown: {e}");
        }
    }
}
