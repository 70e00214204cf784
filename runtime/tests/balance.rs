//! Balancing busy workers, and work from outside reaching a busy worker
//! (`docs/scheduling.md`, "Balancing busy workers" and "Finding work").

mod common;

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed, Ordering::SeqCst};
use std::sync::{mpsc, Arc};
use std::time::{Duration, Instant};

use common::*;
use rotp_runtime::testing::wait_until;
use rotp_runtime::{worker_index, Addr, Builder, Context, Handle, Runtime, DEFAULT_REDUCTIONS};

/// Keeps its CPU busy for `d`: a handler's work, not a wait.
fn work_for(d: Duration) {
    let start = Instant::now();
    while start.elapsed() < d {
        std::hint::spin_loop();
    }
}

/// A process that keeps itself busy, handler after handler, until `stop`:
/// each handler works for 50 µs, notes the worker it ran on in `ran_on`
/// (one bit per worker) and sends the process its next message.
fn spinner(h: &Handle, stop: &Arc<AtomicBool>) -> (Addr<()>, Arc<AtomicU64>) {
    let ran_on = Arc::new(AtomicU64::new(0));
    let (stop, seen) = (stop.clone(), ran_on.clone());
    let addr = h.spawn_fn(move |(), ctx: &mut Context<'_, ()>| {
        if let Some(w) = worker_index() {
            seen.fetch_or(1 << w, Relaxed);
        }
        work_for(Duration::from_micros(50));
        if !stop.load(Relaxed) {
            ctx.addr().send(());
        }
    });
    addr.send(());
    (addr, ran_on)
}

/// One attempt at the unbalanced placement: a spinner alone on one worker,
/// four on the other. Returns the lone spinner's worker and the four's
/// `ran_on`, or `None` if the four started on the lone spinner's worker
/// (then the other worker, idle, steals half of them: balanced already).
fn one_alone_four_together(
    rt: &Runtime,
    stop: &Arc<AtomicBool>,
) -> Option<(usize, Vec<Arc<AtomicU64>>)> {
    let (_, alone) = spinner(rt.handle(), stop);
    assert!(wait_until(TIMEOUT, || alone.load(Relaxed) != 0));
    let lone = alone.load(Relaxed).trailing_zeros() as usize;
    // Spawned from a process's handler, the four are queued on its worker.
    // The lone spinner's worker never runs out of work, so it never steals.
    let (tx, rx) = mpsc::channel();
    let (h, stop) = (rt.handle().clone(), stop.clone());
    let spawner = rt.spawn_fn(move |(), _ctx: &mut Context<'_, ()>| {
        let four: Vec<_> = (0..4).map(|_| spinner(&h, &stop).1).collect();
        tx.send((worker_index(), four)).unwrap();
    });
    spawner.send(());
    let (spawned_on, four) = rx.recv_timeout(TIMEOUT).expect("the spawner runs");
    (spawned_on != Some(lone)).then_some((lone, four))
}

/// A worker busy with one process while another has four queued gets some
/// of the four: without the balancer, a worker that never runs out of work
/// never steals, and the lone process keeps a CPU to itself for good.
#[test]
fn a_busy_worker_with_nothing_queued_takes_work_from_a_crowded_one() {
    let builder = Builder::new()
        .workers(2)
        .watchdog_threshold(Some(Duration::from_millis(10)));
    with_runtime(builder, |rt| {
        for _attempt in 0..10 {
            let stop = Arc::new(AtomicBool::new(false));
            let placed = one_alone_four_together(rt, &stop);
            if let Some((lone, four)) = placed {
                let moved = wait_until(TIMEOUT, || {
                    four.iter().any(|r| r.load(Relaxed) & (1 << lone) != 0)
                });
                stop.store(true, SeqCst);
                assert!(moved, "none of the four ever ran on worker {lone}");
                assert!(rt.stats().workers[lone].balanced >= 1);
                return;
            }
            stop.store(true, SeqCst);
        }
        panic!("the four spinners always started beside the lone one");
    });
}

/// A message sent from outside the runtime to an idle process reaches the
/// only worker, busy with a process that keeps sending itself work, within
/// about one budget of that process's handlers — not after 16 of its slices
/// (2,048 handlers), however long they are.
#[test]
fn work_from_outside_waits_at_most_about_one_slice_of_a_busy_worker() {
    let builder = Builder::new().workers(1);
    with_runtime(builder, |rt| {
        let stop = Arc::new(AtomicBool::new(false));
        let handled = Arc::new(AtomicU64::new(0));
        let (s, n) = (stop.clone(), handled.clone());
        let hog = rt.spawn_fn(move |(), ctx: &mut Context<'_, ()>| {
            n.fetch_add(1, SeqCst);
            work_for(Duration::from_micros(2));
            if !s.load(Relaxed) {
                ctx.addr().send(());
            }
        });
        hog.send(());
        assert!(wait_until(TIMEOUT, || handled.load(SeqCst) > 0));
        let (tx, rx) = mpsc::channel();
        let n = handled.clone();
        let outsider = rt.spawn_fn(move |(), _ctx: &mut Context<'_, ()>| {
            tx.send(n.load(SeqCst)).unwrap();
        });
        // Several tries: the phase of a count of 16 slices is random, and
        // one try could land at its end.
        let mut waits = Vec::new();
        for _ in 0..5 {
            let sent_at = handled.load(SeqCst);
            outsider.send(());
            let ran_at = rx.recv_timeout(TIMEOUT).expect("the outsider runs");
            waits.push(ran_at - sent_at);
        }
        stop.store(true, SeqCst);
        let bound = 2 * u64::from(DEFAULT_REDUCTIONS);
        assert!(
            waits.iter().all(|&w| w <= bound),
            "handlers of the busy process run before the outsider: {waits:?}"
        );
    });
}
