//! Command line shared by the binaries: `<bench|all|--list> [--n N] [--workers W]`.

use crate::Line;

/// What every benchmark run is given.
#[derive(Debug, Clone, Copy)]
pub struct Config {
    /// Operations to run (the bench's default unless `--n`).
    pub n: u64,
    /// Worker threads: the suite's `--workers`, default the number of CPUs.
    pub workers: usize,
}

/// A benchmark: its suite name, default n, and body.
#[derive(Debug)]
pub struct Bench {
    /// The suite's name for it.
    pub name: &'static str,
    /// The suite's default n.
    pub default_n: u64,
    /// Runs it once.
    pub run: fn(Config) -> Line,
}

/// The suite's default n of each bench the peers have (`benches/suite/`):
/// one table, so that every implementation runs the same n.
const DEFAULT_N: &[(&str, u64)] = &[
    ("pingpong", 1_000_000),
    ("ring", 10_000_000),
    ("spawn", 1_000_000),
    ("cast_throughput", 10_000_000),
    ("call_latency", 1_000_000),
    ("call_parallel", 4_000_000),
    ("supervisor_restart", 1_000),
];

impl Bench {
    /// The suite's bench `name`, run by `run`, with the suite's default n.
    ///
    /// # Panics
    ///
    /// If the suite has no such bench.
    pub fn new(name: &'static str, run: fn(Config) -> Line) -> Self {
        let default_n = DEFAULT_N
            .iter()
            .find(|(n, _)| *n == name)
            .map(|&(_, d)| d)
            .unwrap_or_else(|| panic!("the suite has no bench {name}"));
        Bench {
            name,
            default_n,
            run,
        }
    }
}

/// Parses the arguments, runs the selected benches of `implementation` and
/// prints one line each. `--list` prints the names of the benches it has.
pub fn run_main(implementation: &str, benches: &[Bench]) {
    let mut args = std::env::args().skip(1);
    let mut which = None;
    let mut n = None;
    let mut workers = None;
    let usage =
        |msg: &str| -> ! {
            eprintln!("{msg}");
            eprintln!(
            "usage: bench-{implementation} <bench|all|--list> [--n N] [--workers W]; benches: {}",
            benches.iter().map(|b| b.name).collect::<Vec<_>>().join(", ")
        );
            std::process::exit(2);
        };
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--list" => {
                for b in benches {
                    println!("{}", b.name);
                }
                return;
            }
            "--n" => {
                let v = args.next().unwrap_or_default().replace('_', "");
                n = Some(
                    v.parse::<u64>()
                        .ok()
                        .filter(|&v| v > 0)
                        .unwrap_or_else(|| usage("--n needs a positive integer")),
                );
            }
            "--workers" => {
                let v = args.next().unwrap_or_default();
                workers = Some(
                    v.parse::<usize>()
                        .ok()
                        .filter(|&v| v > 0)
                        .unwrap_or_else(|| usage("--workers needs a positive integer")),
                );
            }
            "--bench" => {} // passed by `cargo bench`
            other if !other.starts_with('-') && which.is_none() => which = Some(other.to_owned()),
            other => usage(&format!("unexpected argument `{other}`")),
        }
    }
    let which = which.unwrap_or_else(|| "all".to_owned());
    let selected: Vec<&Bench> = benches
        .iter()
        .filter(|b| which == "all" || b.name == which)
        .collect();
    if selected.is_empty() {
        eprintln!("bench-{implementation}: `{which}` is not implemented for {implementation}");
        std::process::exit(3);
    }
    let workers =
        workers.unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    for bench in selected {
        let config = Config {
            n: n.unwrap_or(bench.default_n),
            workers,
        };
        eprintln!(
            "{implementation}: running {} (n={}, workers={workers})",
            bench.name, config.n
        );
        (bench.run)(config).print(implementation);
    }
}
