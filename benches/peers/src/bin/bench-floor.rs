//! Floors without a runtime, to read the suite's figures against.
//!
//! - `ring`: the ring benchmark on one thread with no scheduler but a run
//!   queue: 1,000 mailboxes (`VecDeque`s) and a `VecDeque` of the nodes that
//!   have mail. A hop is a push onto the next node's mailbox, a push onto the
//!   run queue and the two pops: what any runtime must do at least, with no
//!   synchronisation and no context switch.
//! - `spawn`: a "process" is a boxed state holding the receiving end of a
//!   channel (`std::sync::mpsc`), its sender kept as the address: the least a
//!   process that can wait in a mailbox costs, with nothing scheduled. The
//!   rate is boxes-plus-channels per second; `bytes_per_proc` is the RSS
//!   growth over n, as the suite measures it; `exit_secs` sends each one a
//!   stop message, which it takes from its channel before it is dropped.

use std::collections::VecDeque;
use std::hint::black_box;
use std::sync::mpsc;
use std::time::Instant;

use rotp_peers::{rss_bytes, run_main, Bench, Config, Line, RING_SIZE};

fn main() {
    run_main(
        "floor",
        &[Bench::new("ring", ring), Bench::new("spawn", spawn)],
    );
}

/// A ring node: its mailbox and whether it sits in the run queue.
struct Node {
    mailbox: VecDeque<u64>,
    queued: bool,
}

/// The ring on one thread: `RING_SIZE` mailboxes and a run queue.
struct Ring {
    nodes: Vec<Node>,
    run_queue: VecDeque<usize>,
}

impl Ring {
    fn new() -> Self {
        Ring {
            nodes: (0..RING_SIZE)
                .map(|_| Node {
                    mailbox: VecDeque::with_capacity(4),
                    queued: false,
                })
                .collect(),
            run_queue: VecDeque::with_capacity(RING_SIZE),
        }
    }

    fn send(&mut self, to: usize, token: u64) {
        let node = &mut self.nodes[to];
        node.mailbox.push_back(token);
        if !node.queued {
            node.queued = true;
            self.run_queue.push_back(to);
        }
    }

    /// Runs until a node receives the token with no hops left.
    fn run(&mut self) {
        while let Some(i) = self.run_queue.pop_front() {
            self.nodes[i].queued = false;
            while let Some(token) = self.nodes[i].mailbox.pop_front() {
                match black_box(token) {
                    0 => return,
                    left => self.send((i + 1) % RING_SIZE, left - 1),
                }
            }
        }
        unreachable!("the token was lost");
    }
}

fn ring(config: Config) -> Line {
    let mut ring = Ring::new();
    ring.send(0, RING_SIZE as u64 * 2);
    ring.run();
    let start = Instant::now();
    ring.send(0, config.n);
    ring.run();
    let elapsed = start.elapsed();
    Line::new("ring", config.n, elapsed).ns_per("ns_per_hop", elapsed, config.n)
}

/// A "process" of the spawn floor: its mailbox and nothing else.
struct Idle {
    mailbox: mpsc::Receiver<()>,
}

fn spawn(config: Config) -> Line {
    let n = config.n;
    // Allocated before the baseline, as the suite does: bookkeeping.
    let mut all: Vec<Option<(mpsc::Sender<()>, Box<Idle>)>> = (0..n).map(|_| None).collect();
    black_box(&mut all);
    let rss_before = rss_bytes();
    let start = Instant::now();
    for slot in all.iter_mut() {
        let (tx, rx) = mpsc::channel();
        *slot = Some((tx, Box::new(Idle { mailbox: rx })));
    }
    black_box(&mut all);
    let elapsed = start.elapsed();
    let bytes = rss_bytes().saturating_sub(rss_before) as f64 / n as f64;
    let exit_start = Instant::now();
    for slot in all.iter_mut() {
        let (tx, idle) = slot.take().expect("spawned");
        tx.send(()).expect("alive");
        idle.mailbox.try_recv().expect("stop message");
        drop(idle);
    }
    let exit_secs = exit_start.elapsed().as_secs_f64();
    Line::new("spawn", n, elapsed)
        .extra("bytes_per_proc", format!("{bytes:.0}"))
        .extra("exit_secs", format!("{exit_secs:.3}"))
}
