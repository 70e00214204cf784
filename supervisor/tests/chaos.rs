//! Chaos: a three-level tree of 1,000 named workers under random panics and
//! kills of workers and supervisors, for a bounded number of seeded rounds.
//! Afterwards every worker runs and answers through its name, every
//! restart is accounted for by an injected fault, and no process leaked.
//!
//! ```text
//! root ─┬─ mid-0 ─┬─ leaf-0-0 ── w-0-0-0 … w-0-0-9
//!       │         ├─ …
//!       │         └─ leaf-0-9 ── …
//!       ├─ …
//!       └─ mid-9 ── …                 10 × 10 × 10 = 1,000 workers
//! ```
//!
//! Faults in one round never overlap (no fault inside a subtree that is
//! also hit), so each one causes exactly one restart of everything below
//! it, and the expected start counts are exact.

mod common;

use std::collections::HashSet;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::Arc;
use std::time::Duration;

use common::*;
use rotp_runtime::{
    reply_channel, Context, ExitReason, Handle, Pid, Process, ReplySender, Runtime,
};
use rotp_supervisor::{start_link_process, ChildSpec, Supervisor, SupervisorOptions};

const FAN_OUT: usize = 10;
const WORKERS: usize = FAN_OUT * FAN_OUT * FAN_OUT;
const ROUNDS: usize = 12;
const FAULTS_PER_ROUND: usize = 25;

enum Msg {
    Panic,
    Ping(ReplySender<()>),
}

/// A worker that registers its name, taking it over from a previous
/// incarnation that is still on its way out.
struct ChaosWorker {
    index: usize,
    starts: Arc<Vec<AtomicUsize>>,
}

fn name(index: usize) -> String {
    let (i, j, k) = (index / 100, index / 10 % 10, index % 10);
    format!("w-{i}-{j}-{k}")
}

impl Process for ChaosWorker {
    type Message = Msg;

    fn init(&mut self, ctx: &mut Context<'_, Msg>) {
        let name = name(self.index);
        loop {
            match ctx.register(name.as_str()) {
                Ok(()) => break,
                Err(rotp_runtime::RegisterError::NameTaken { holder, .. }) => {
                    if let Some(old) = ctx.handle().process_ref(holder) {
                        old.await_exit(Some(TIMEOUT));
                    }
                }
                Err(e) => panic!("cannot register {name}: {e}"),
            }
        }
        self.starts[self.index].fetch_add(1, SeqCst);
    }

    fn handle(&mut self, msg: Msg, _ctx: &mut Context<'_, Msg>) {
        match msg {
            Msg::Panic => panic!("chaos"),
            Msg::Ping(reply) => {
                reply.send(());
            }
        }
    }
}

/// Start counters of every worker and supervisor.
struct Counts {
    workers: Arc<Vec<AtomicUsize>>,
    leaves: Arc<Vec<AtomicUsize>>,
    mids: Arc<Vec<AtomicUsize>>,
}

fn counters(n: usize) -> Arc<Vec<AtomicUsize>> {
    Arc::new((0..n).map(|_| AtomicUsize::new(0)).collect())
}

/// A supervisor child spec that counts its starts.
fn counted_supervisor(
    id: String,
    children: Vec<ChildSpec>,
    count: Arc<Vec<AtomicUsize>>,
    at: usize,
) -> ChildSpec {
    let opts = SupervisorOptions::new().max_restarts(10_000);
    ChildSpec::supervisor(id, move || {
        count[at].fetch_add(1, SeqCst);
        let sup = Supervisor::start_link(&Handle::current(), children.clone(), opts.clone())
            .map_err(|e| rotp_supervisor::ChildStartError::Failed(ExitReason::custom(e)))?;
        Ok(Some(sup.pid()))
    })
}

fn tree(counts: &Counts) -> Vec<ChildSpec> {
    (0..FAN_OUT)
        .map(|i| {
            let leaves = (0..FAN_OUT)
                .map(|j| {
                    let workers = (0..FAN_OUT)
                        .map(|k| {
                            let index = i * 100 + j * 10 + k;
                            let starts = counts.workers.clone();
                            ChildSpec::worker(name(index), move || {
                                start_link_process(ChaosWorker {
                                    index,
                                    starts: starts.clone(),
                                })
                            })
                        })
                        .collect();
                    counted_supervisor(
                        format!("leaf-{i}-{j}"),
                        workers,
                        counts.leaves.clone(),
                        i * 10 + j,
                    )
                })
                .collect();
            counted_supervisor(format!("mid-{i}"), leaves, counts.mids.clone(), i)
        })
        .collect()
}

/// Where a fault hits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Target {
    Worker(usize),
    Leaf(usize),
    Mid(usize),
}

impl Target {
    /// The workers in its subtree.
    fn workers(self) -> std::ops::Range<usize> {
        match self {
            Target::Worker(w) => w..w + 1,
            Target::Leaf(l) => l * 10..l * 10 + 10,
            Target::Mid(m) => m * 100..m * 100 + 100,
        }
    }
}

fn child_pid(sup: &Supervisor, id: &str) -> Pid {
    pid_of(sup, id)
}

fn sup_at(rt: &Runtime, pid: Pid) -> Supervisor {
    Supervisor::from_pid(rt, pid).expect("a live supervisor")
}

fn mid(rt: &Runtime, root: &Supervisor, m: usize) -> Supervisor {
    sup_at(rt, child_pid(root, &format!("mid-{m}")))
}

fn leaf(rt: &Runtime, root: &Supervisor, l: usize) -> Supervisor {
    sup_at(
        rt,
        child_pid(
            &mid(rt, root, l / 10),
            &format!("leaf-{}-{}", l / 10, l % 10),
        ),
    )
}

fn ping_all(rt: &Runtime) {
    for w in 0..WORKERS {
        let addr = rt
            .whereis_addr::<Msg>(&name(w))
            .unwrap_or_else(|| panic!("{} is registered", name(w)));
        let (reply, mut wait) = reply_channel();
        addr.send(Msg::Ping(reply));
        wait.wait(&addr, Some(TIMEOUT))
            .unwrap_or_else(|e| panic!("{} answers: {e}", name(w)));
    }
}

fn chaos(rt: &Runtime, seed: u64) {
    let counts = Counts {
        workers: counters(WORKERS),
        leaves: counters(FAN_OUT * FAN_OUT),
        mids: counters(FAN_OUT),
    };
    let base = rt.process_count();
    let root = Supervisor::start_link(
        rt,
        tree(&counts),
        SupervisorOptions::new().max_restarts(10_000),
    )
    .unwrap();
    let supervisors = 1 + FAN_OUT + FAN_OUT * FAN_OUT;
    assert_eq!(rt.process_count(), base + supervisors + WORKERS);
    let mut expect_workers = vec![1usize; WORKERS];
    let mut expect_leaves = vec![1usize; FAN_OUT * FAN_OUT];
    let mut expect_mids = vec![1usize; FAN_OUT];
    let mut rng = Rng::new(seed);
    let mut injected = 0;
    for _round in 0..ROUNDS {
        // Pick non-overlapping targets.
        let mut hit: HashSet<usize> = HashSet::new();
        let mut targets = Vec::new();
        while targets.len() < FAULTS_PER_ROUND {
            let t = match rng.below(100) {
                0..=2 => Target::Mid(rng.below(FAN_OUT)),
                3..=12 => Target::Leaf(rng.below(FAN_OUT * FAN_OUT)),
                _ => Target::Worker(rng.below(WORKERS)),
            };
            if t.workers().any(|w| hit.contains(&w)) {
                continue;
            }
            hit.extend(t.workers());
            targets.push(t);
        }
        // Resolve every pid first, then strike.
        let strikes: Vec<(Target, Pid)> = targets
            .iter()
            .map(|&t| {
                let pid = match t {
                    Target::Worker(w) => rt.whereis(&name(w)).expect("registered"),
                    Target::Leaf(l) => leaf(rt, &root, l).pid(),
                    Target::Mid(m) => mid(rt, &root, m).pid(),
                };
                (t, pid)
            })
            .collect();
        for (t, pid) in strikes {
            match t {
                Target::Worker(w) if rng.chance(50) => {
                    rt.whereis_addr::<Msg>(&name(w)).unwrap().send(Msg::Panic);
                }
                _ => rt.kill(pid),
            }
            for w in t.workers() {
                expect_workers[w] += 1;
            }
            match t {
                Target::Leaf(l) => expect_leaves[l] += 1,
                Target::Mid(m) => {
                    expect_mids[m] += 1;
                    for e in &mut expect_leaves[m * 10..m * 10 + 10] {
                        *e += 1;
                    }
                }
                Target::Worker(_) => {}
            }
            injected += 1;
        }
        let done = |counters: &Arc<Vec<AtomicUsize>>, expected: &[usize]| {
            counters
                .iter()
                .zip(expected)
                .all(|(c, e)| c.load(SeqCst) >= *e)
        };
        assert!(
            rotp_runtime::testing::wait_until(Duration::from_secs(20), || {
                done(&counts.workers, &expect_workers)
                    && done(&counts.leaves, &expect_leaves)
                    && done(&counts.mids, &expect_mids)
                    && rt.process_count() == base + supervisors + WORKERS
            }),
            "round did not settle: {} processes, expected {}",
            rt.process_count(),
            base + supervisors + WORKERS
        );
    }
    // Every restart was caused by an injected fault: no more, no fewer.
    let actual = |c: &Arc<Vec<AtomicUsize>>| c.iter().map(|a| a.load(SeqCst)).collect::<Vec<_>>();
    assert_eq!(actual(&counts.workers), expect_workers);
    assert_eq!(actual(&counts.leaves), expect_leaves);
    assert_eq!(actual(&counts.mids), expect_mids);
    assert_eq!(injected, ROUNDS * FAULTS_PER_ROUND);
    // Every worker runs and answers through its name.
    ping_all(rt);
    let counts_root = root.count_children().unwrap();
    assert_eq!((counts_root.specs, counts_root.active), (FAN_OUT, FAN_OUT));
    // No leak: stopping the tree leaves what was there before.
    root.stop(ExitReason::Shutdown).unwrap();
    eventually("every process of the tree is gone", || {
        rt.process_count() == base
    });
    assert!(rt.registered().is_empty());
}

#[test]
fn chaos_three_level_tree_of_a_thousand_workers() {
    for (workers, seed) in [(1, 0x5eed_0001), (2, 0x5eed_0002), (8, 0x5eed_0008)] {
        let rt = Runtime::builder().workers(workers).build().unwrap();
        eprintln!("--- chaos with {workers} worker(s), seed {seed:#x}");
        chaos(&rt, seed);
        rt.shutdown(SHUTDOWN_TIMEOUT).unwrap();
    }
}
