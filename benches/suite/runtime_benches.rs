//! Raw-process benchmarks: pingpong, ring, spawn, fairness, timers.

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::mpsc;
use std::sync::Arc;
use std::time::{Duration, Instant};

use rotp::runtime::{Addr, Context, ExitReason, Process, Runtime};

use crate::{Bench, Line};

pub(crate) fn all() -> Vec<Bench> {
    vec![
        Bench {
            name: "pingpong",
            default_n: 1_000_000,
            run: pingpong,
        },
        Bench {
            name: "ring",
            default_n: 10_000_000,
            run: ring,
        },
        Bench {
            name: "spawn",
            default_n: 1_000_000,
            run: spawn,
        },
        Bench {
            name: "fairness",
            default_n: 10_000,
            run: fairness,
        },
        Bench {
            name: "timers",
            default_n: 1_000_000,
            run: timers,
        },
    ]
}

/// A process that passes a counted ball to its peer.
enum Ball {
    Peer(Addr<Ball>),
    Hop(u64),
}

struct Passer {
    peer: Option<Addr<Ball>>,
    done: mpsc::Sender<()>,
}

impl Process for Passer {
    type Message = Ball;

    fn handle(&mut self, msg: Ball, _ctx: &mut Context<'_, Ball>) {
        match msg {
            Ball::Peer(peer) => self.peer = Some(peer),
            Ball::Hop(0) => self.done.send(()).unwrap(),
            Ball::Hop(left) => self.peer.as_ref().unwrap().send(Ball::Hop(left - 1)),
        }
    }
}

/// Two processes exchange a message and its reply, n round trips.
fn pingpong(rt: &Runtime, n: u64) -> Line {
    let (tx, rx) = mpsc::channel();
    let a = rt.spawn(Passer {
        peer: None,
        done: tx.clone(),
    });
    let b = rt.spawn(Passer {
        peer: None,
        done: tx,
    });
    a.send(Ball::Peer(b.clone()));
    b.send(Ball::Peer(a.clone()));
    // Warm-up.
    a.send(Ball::Hop(2_000));
    rx.recv().unwrap();
    let start = Instant::now();
    a.send(Ball::Hop(2 * n));
    rx.recv().unwrap();
    let elapsed = start.elapsed();
    Line::new("pingpong", n, elapsed).extra(
        "ns_per_rt",
        format!("{:.1}", elapsed.as_nanos() as f64 / n as f64),
    )
}

/// 1,000 processes in a ring pass one token n hops.
fn ring(rt: &Runtime, n: u64) -> Line {
    const SIZE: usize = 1_000;
    let (tx, rx) = mpsc::channel();
    let nodes: Vec<Addr<Ball>> = (0..SIZE)
        .map(|_| {
            rt.spawn(Passer {
                peer: None,
                done: tx.clone(),
            })
        })
        .collect();
    for (i, node) in nodes.iter().enumerate() {
        node.send(Ball::Peer(nodes[(i + 1) % SIZE].clone()));
    }
    nodes[0].send(Ball::Hop(SIZE as u64 * 2));
    rx.recv().unwrap();
    let start = Instant::now();
    nodes[0].send(Ball::Hop(n));
    rx.recv().unwrap();
    let elapsed = start.elapsed();
    Line::new("ring", n, elapsed).extra(
        "ns_per_hop",
        format!("{:.1}", elapsed.as_nanos() as f64 / n as f64),
    )
}

fn rss_bytes() -> u64 {
    std::fs::read_to_string("/proc/self/statm")
        .ok()
        .and_then(|s| {
            s.split_whitespace()
                .nth(1)
                .and_then(|v| v.parse::<u64>().ok())
        })
        .map_or(0, |pages| pages * 4096)
}

/// Processes of the `spawn` bench that have run their first slice.
static STARTED: AtomicU64 = AtomicU64::new(0);

/// Waits in its mailbox; exits on any message. It has no state, like the
/// BEAM benchmark's `receive stop -> ok end`.
struct Idler;

impl Process for Idler {
    type Message = ();

    fn init(&mut self, _ctx: &mut Context<'_, ()>) {
        STARTED.fetch_add(1, Relaxed);
    }

    fn handle(&mut self, _: (), ctx: &mut Context<'_, ()>) {
        ctx.exit(ExitReason::Normal);
    }
}

/// Spawns n processes that wait in their mailbox (from inside a process, as
/// BEAM does), then stops them all.
fn spawn(rt: &Runtime, n: u64) -> Line {
    let (tx, rx) = mpsc::channel();
    // The benchmark's own list of handles is allocated before the baseline
    // is taken: it is bookkeeping, not the runtime's cost per process.
    let mut all: Vec<Option<Addr<()>>> = (0..n).map(|_| None).collect();
    std::hint::black_box(&mut all);
    let rss_before = rss_bytes();
    let base_started = STARTED.load(Relaxed);
    let start = Instant::now();
    rt.spawn_fn(move |_: (), ctx| {
        let mut all = std::mem::take(&mut all);
        for slot in all.iter_mut() {
            *slot = Some(ctx.spawn(Idler));
        }
        tx.send(all).unwrap();
    })
    .send(());
    let all = rx.recv().unwrap();
    while STARTED.load(Relaxed) - base_started < n {
        std::thread::yield_now();
    }
    let elapsed = start.elapsed();
    let bytes = rss_bytes().saturating_sub(rss_before) as f64 / n as f64;
    let base = rt.process_count() as u64 - n;
    let exit_start = Instant::now();
    for p in all.iter().flatten() {
        p.send(());
    }
    drop(all);
    while rt.process_count() as u64 > base {
        std::thread::yield_now();
    }
    let exit_secs = exit_start.elapsed().as_secs_f64();
    Line::new("spawn", n, elapsed)
        .extra("bytes_per_proc", format!("{bytes:.0}"))
        .extra("exit_secs", format!("{exit_secs:.3}"))
}

enum Flood {
    Go(u64),
    Work(#[allow(dead_code)] u64),
}

/// One process is flooded with 10,000,000 messages while a light process
/// answers n pings from a client process; reports the light one's latency.
fn fairness(rt: &Runtime, n: u64) -> Line {
    const FLOOD: u64 = 10_000_000;
    const CHUNK: u64 = 10_000;
    let handled = Arc::new(AtomicU64::new(0));
    let h = handled.clone();
    let victim = rt.spawn_fn(move |m: Flood, _ctx| {
        if let Flood::Work(_) = m {
            h.fetch_add(1, Relaxed);
        }
    });
    let target = victim.clone();
    let producer = rt.spawn_fn(move |m: Flood, ctx| {
        if let Flood::Go(left) = m {
            let batch = left.min(CHUNK);
            for i in 0..batch {
                target.send(Flood::Work(i));
            }
            if left > batch {
                ctx.addr().send(Flood::Go(left - batch));
            }
        }
    });
    // The client is a plain thread: each ping carries the channel to answer on.
    let light = rt.spawn_fn(|reply: mpsc::SyncSender<()>, _ctx| reply.send(()).unwrap());
    producer.send(Flood::Go(FLOOD));
    let (tx, rx) = mpsc::sync_channel(1);
    let mut latencies = Vec::with_capacity(n as usize);
    let start = Instant::now();
    for _ in 0..n {
        let sent = Instant::now();
        light.send(tx.clone());
        rx.recv().unwrap();
        latencies.push(sent.elapsed());
    }
    let elapsed = start.elapsed();
    let flooded = handled.load(Relaxed);
    latencies.sort();
    let pct = |p: f64| latencies[((latencies.len() as f64 * p) as usize).min(latencies.len() - 1)];
    Line::new("fairness", n, elapsed)
        .extra("p50_us", format!("{:.1}", pct(0.50).as_secs_f64() * 1e6))
        .extra("p99_us", format!("{:.1}", pct(0.99).as_secs_f64() * 1e6))
        .extra("flood_handled", flooded)
}

/// n processes each arm and cancel a timer, then arm one that fires.
fn timers(rt: &Runtime, n: u64) -> Line {
    let fired = Arc::new(AtomicU64::new(0));
    let (tx, rx) = mpsc::channel();
    let start = Instant::now();
    let counter = fired.clone();
    rt.spawn_fn(move |_: (), ctx| {
        for _ in 0..n {
            let counter = counter.clone();
            let p = ctx.spawn_fn(move |fire: bool, ctx: &mut Context<'_, bool>| {
                if fire {
                    counter.fetch_add(1, Relaxed);
                    ctx.exit(ExitReason::Normal);
                } else {
                    let handle = ctx.handle();
                    let me = ctx.addr();
                    let t = handle.send_after(&me, Duration::from_secs(10), true);
                    handle.cancel_timer(t);
                    handle.send_after(&me, Duration::from_millis(1), true);
                }
            });
            p.send(false);
        }
        tx.send(()).unwrap();
    })
    .send(());
    rx.recv().unwrap();
    while fired.load(Relaxed) < n {
        std::thread::yield_now();
    }
    let line = Line::new("timers", n, start.elapsed());
    line.extra(
        "arm_cancel_per_core",
        format!("{:.0}", arm_cancel_per_core(rt, n)),
    )
}

/// Arm+cancel pairs per second per worker: one process per worker arms a
/// timer aimed at itself and cancels it, `n` pairs in all, in batches of
/// 1,000 per message so that the processes still yield now and then. Every
/// timer is cancelled with time left, so none fires.
fn arm_cancel_per_core(rt: &Runtime, n: u64) -> f64 {
    const BATCH: u64 = 1_000;
    let workers = rt.workers() as u64;
    let per_process = n.div_ceil(workers).div_ceil(BATCH) * BATCH;
    let (tx, rx) = mpsc::channel();
    let start = Instant::now();
    for _ in 0..workers {
        let tx = tx.clone();
        rt.spawn_fn(move |left: u64, ctx: &mut Context<'_, u64>| {
            let handle = ctx.handle();
            let me = ctx.addr();
            for _ in 0..BATCH {
                let t = handle.send_after(&me, Duration::from_secs(10), 0);
                assert!(handle.cancel_timer(t).is_some());
            }
            if left > BATCH {
                me.send(left - BATCH);
            } else {
                tx.send(()).unwrap();
                ctx.exit(ExitReason::Normal);
            }
        })
        .send(per_process);
    }
    for _ in 0..workers {
        rx.recv().unwrap();
    }
    let secs = start.elapsed().as_secs_f64();
    (per_process * workers) as f64 / secs / workers as f64
}
