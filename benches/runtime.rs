//! Criterion micro-benchmarks of the runtime's basic operations, for
//! regressions and profiles (the macro suite is `benches/suite`).

use std::sync::mpsc;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, BatchSize, Criterion};
use rotp::runtime::{ExitReason, Runtime};

fn runtime() -> Runtime {
    Runtime::builder().workers(2).build().expect("runtime")
}

/// One message sent from a plain thread, handled, and acknowledged.
fn send_and_handle(c: &mut Criterion) {
    let rt = runtime();
    let (tx, rx) = mpsc::sync_channel(1);
    let echo = rt.spawn_fn(move |n: u64, _ctx| tx.send(n).unwrap());
    c.bench_function("send+handle (external round trip)", |b| {
        b.iter(|| {
            echo.send(1);
            rx.recv().unwrap()
        })
    });
    // 1,000 messages queued back to back, then one acknowledgement.
    let (tx, rx) = mpsc::sync_channel(1);
    let counter = rt.spawn_fn(move |n: u64, _ctx| {
        if n == 0 {
            tx.send(()).unwrap()
        }
    });
    c.bench_function("send x1000 then handle", |b| {
        b.iter(|| {
            for i in (0..1000).rev() {
                counter.send(i);
            }
            rx.recv().unwrap()
        })
    });
}

/// Spawn a process, let it run once and exit.
fn spawn_and_exit(c: &mut Criterion) {
    let rt = runtime();
    let (tx, rx) = mpsc::sync_channel(1);
    c.bench_function("spawn+exit", |b| {
        b.iter(|| {
            let tx = tx.clone();
            let p = rt.spawn_fn(move |_: (), ctx| {
                ctx.exit(ExitReason::Normal);
                tx.send(()).unwrap();
            });
            p.send(());
            rx.recv().unwrap()
        })
    });
}

/// Time from a send to an idle process until its handler runs, when the
/// workers are parked.
fn wake_latency(c: &mut Criterion) {
    let rt = runtime();
    let (tx, rx) = mpsc::sync_channel(1);
    let p = rt.spawn_fn(move |_: (), _ctx| tx.send(()).unwrap());
    c.bench_function("wake parked worker", |b| {
        b.iter_batched(
            // Let the workers spin out and park between iterations.
            || std::thread::sleep(Duration::from_micros(200)),
            |()| {
                p.send(());
                rx.recv().unwrap()
            },
            BatchSize::PerIteration,
        )
    });
}

/// An exit propagating over a link and a monitor.
fn exit_propagation(c: &mut Criterion) {
    let rt = runtime();
    let (tx, rx) = mpsc::sync_channel(1);
    c.bench_function("link+monitor exit propagation", |b| {
        b.iter(|| {
            let tx = tx.clone();
            // A watcher that traps exits and reports once it has seen both
            // the EXIT and the DOWN of a linked, monitored child.
            let watcher = rt.spawn_trapping(Watcher { seen: 0, done: tx });
            watcher.send(());
            rx.recv().unwrap()
        })
    });
}

struct Watcher {
    seen: u8,
    done: mpsc::SyncSender<()>,
}

impl rotp::runtime::Process for Watcher {
    type Message = ();

    fn handle(&mut self, _: (), ctx: &mut rotp::runtime::Context<'_, ()>) {
        let child = ctx.spawn_link(rotp::runtime::FnProcess::new(
            |_: (), ctx: &mut rotp::runtime::Context<'_, ()>| ctx.exit(ExitReason::custom("bye")),
        ));
        ctx.monitor(child.pid());
        child.send(());
    }

    fn handle_exit(
        &mut self,
        _: rotp::runtime::Pid,
        _: ExitReason,
        ctx: &mut rotp::runtime::Context<'_, ()>,
    ) {
        self.seen += 1;
        self.finish(ctx);
    }

    fn handle_down(&mut self, _: rotp::runtime::Down, ctx: &mut rotp::runtime::Context<'_, ()>) {
        self.seen += 1;
        self.finish(ctx);
    }
}

impl Watcher {
    fn finish(&mut self, ctx: &mut rotp::runtime::Context<'_, ()>) {
        if self.seen == 2 {
            self.done.send(()).unwrap();
            ctx.exit(ExitReason::Normal);
        }
    }
}

/// Arm and cancel a timer aimed at a process: what a gen_server does per
/// call with a timeout. Beside it, the same pattern on a binary heap with
/// lazy deletion (the alternative design to the timing wheel), which must
/// keep every cancelled entry until its deadline passes.
fn timer_arm_cancel(c: &mut Criterion) {
    let rt = runtime();
    let target = rt.spawn_fn(|_: u64, _ctx| {});
    c.bench_function("send_after+cancel_timer", |b| {
        b.iter(|| {
            let t = rt.send_after(&target, Duration::from_secs(5), 1);
            rt.cancel_timer(t)
        })
    });
    // The same pair inside processes, one per worker, all at once: the
    // time per pair per worker (wall time × workers / pairs), which is the
    // inverse of the per-core rate.
    c.bench_function("send_after+cancel_timer (a process per worker)", |b| {
        b.iter_custom(|iters| {
            let workers = rt.workers() as u64;
            let per_process = iters.div_ceil(workers);
            let (tx, rx) = mpsc::channel();
            let start = std::time::Instant::now();
            for _ in 0..workers {
                let tx = tx.clone();
                rt.spawn_fn(move |pairs: u64, ctx| {
                    let handle = ctx.handle();
                    let me = ctx.addr();
                    for _ in 0..pairs {
                        let t = handle.send_after(&me, Duration::from_secs(5), 0u64);
                        handle.cancel_timer(t);
                    }
                    tx.send(()).unwrap();
                    ctx.exit(ExitReason::Normal);
                })
                .send(per_process);
            }
            for _ in 0..workers {
                rx.recv().unwrap();
            }
            // Each process ran `per_process` pairs in the wall time.
            start
                .elapsed()
                .mul_f64(iters as f64 / per_process.max(1) as f64)
        })
    });
    c.bench_function("heap arm+lazy cancel (comparison)", |b| {
        let mut heap = LazyHeap::default();
        let mut now = 0u64;
        b.iter(|| {
            now += 1;
            let id = heap.arm(now + 5_000);
            heap.cancel(id);
            heap.expire(now)
        });
        // What the lazy design costs in memory: every cancelled timer of the
        // last 5 s of virtual time is still in the heap.
        eprintln!("lazy heap holds {} dead entries", heap.heap.len());
    });
}

/// A binary heap of deadlines with cancellation by tombstone.
#[derive(Default)]
struct LazyHeap {
    heap: std::collections::BinaryHeap<std::cmp::Reverse<(u64, u64)>>,
    cancelled: std::collections::HashSet<u64>,
    next: u64,
}

impl LazyHeap {
    fn arm(&mut self, deadline: u64) -> u64 {
        self.next += 1;
        self.heap.push(std::cmp::Reverse((deadline, self.next)));
        self.next
    }

    fn cancel(&mut self, id: u64) {
        self.cancelled.insert(id);
    }

    fn expire(&mut self, now: u64) -> usize {
        let mut fired = 0;
        while let Some(std::cmp::Reverse((deadline, id))) = self.heap.peek().copied() {
            if deadline > now {
                break;
            }
            self.heap.pop();
            if !self.cancelled.remove(&id) {
                fired += 1;
            }
        }
        fired
    }
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(30).measurement_time(Duration::from_secs(3));
    targets = send_and_handle, spawn_and_exit, wake_latency, exit_propagation, timer_arm_cancel
}
criterion_main!(benches);
