//! The mailbox under load: what `process_info` counts, the limit, the
//! high-water mark and its reports, and the memory a burst leaves behind.
//!
//! A mailbox is two buffers: the queue senders append to, and the batch
//! the running process took from it. These tests hold a process on a
//! [`Gate`] so that a burst waits in one buffer or the other, or both.

mod common;

use std::sync::mpsc;

use common::*;
use rotp_runtime::testing::{Captured, LogCapture};
use rotp_runtime::{Addr, Overflow, Runtime, SpawnOptions, Status, TrySendError};

/// A no-op message.
fn noop() -> Job {
    Job::new(|_| {})
}

/// A message whose handler says it started, then waits for `gate`.
fn held_by(gate: &Gate) -> (Job, mpsc::Receiver<()>) {
    let (tx, rx) = mpsc::channel();
    let g = gate.clone();
    let job = Job::new(move |_| {
        tx.send(()).unwrap();
        g.wait_blocking();
    });
    (job, rx)
}

fn info(rt: &Runtime, p: &Addr<Job>) -> rotp_runtime::ProcessInfo {
    rt.process_info(p.pid()).expect("the process is alive")
}

/// Waits until `p` has handled everything and gone idle.
fn drained(rt: &Runtime, p: &Addr<Job>) {
    assert!(
        rotp_runtime::testing::wait_until(TIMEOUT, || {
            let i = info(rt, p);
            i.mailbox_len == 0 && i.status == Status::Waiting
        }),
        "the process drains its mailbox"
    );
}

fn spawn_with(rt: &Runtime, opts: SpawnOptions) -> Addr<Job> {
    rt.spawn_opts(Puppet { observer: None }, &opts).0
}

/// `mailbox_len` counts the whole mailbox: a burst waiting in the queue
/// behind a held handler; the same burst once the process has taken it
/// into its batch; and both at once.
#[test]
fn mailbox_len_counts_the_queue_and_the_batch() {
    const N: usize = 10_000;
    const K: usize = 300;
    each_runtime(|rt| {
        let (first, second) = (Gate::new(), Gate::new());
        let (_o1, _o2) = (first.opener(), second.opener());
        let p = puppet(rt);
        hold_then(&p, &first, Hold::Block, |_| {});
        let (job, started) = held_by(&second);
        p.send(job);
        for _ in 0..N {
            p.send(noop());
        }
        // All in the queue.
        assert_eq!(info(rt, &p).mailbox_len, N + 1);
        // The process takes the queue as its batch and holds in its first
        // entry: the burst is in the batch.
        first.open();
        started.recv_timeout(TIMEOUT).expect("the second hold runs");
        assert_eq!(info(rt, &p).mailbox_len, N);
        // More arrive in the queue meanwhile: both count.
        for _ in 0..K {
            p.send(noop());
        }
        assert_eq!(info(rt, &p).mailbox_len, N + K);
        second.open();
        drained(rt, &p);
    });
}

/// A bounded mailbox counts its batch against the limit, as
/// `process_info` does: a process that has taken a full queue into its
/// batch does not accept a second full load.
#[test]
fn a_bounded_mailbox_counts_its_batch_against_the_limit() {
    const LIMIT: usize = 8;
    each_runtime(|rt| {
        let (first, second) = (Gate::new(), Gate::new());
        let (_o1, _o2) = (first.opener(), second.opener());
        let p = spawn_with(
            rt,
            SpawnOptions::new().mailbox_limit(LIMIT as u32, Overflow::Reject),
        );
        hold_then(&p, &first, Hold::Block, |_| {});
        let (job, started) = held_by(&second);
        assert!(p.try_send(job).is_ok());
        for _ in 1..LIMIT {
            assert!(p.try_send(noop()).is_ok());
        }
        assert!(matches!(p.try_send(noop()), Err(TrySendError::Full(_))));
        // The queue moves to the batch; the process handles one entry.
        first.open();
        started.recv_timeout(TIMEOUT).expect("the second hold runs");
        assert_eq!(info(rt, &p).mailbox_len, LIMIT - 1);
        assert!(p.try_send(noop()).is_ok(), "one slot is free");
        assert!(
            matches!(p.try_send(noop()), Err(TrySendError::Full(_))),
            "the batch counts against the limit"
        );
        second.open();
        drained(rt, &p);
    });
}

/// The high-water reports of process `pid`, registered as `name`, seen so
/// far. (Each runtime numbers its pids afresh: the name tells them apart.)
fn marks(logs: &LogCapture, pid: rotp_runtime::Pid, name: &str, kind: &str) -> Vec<Captured> {
    let pid = pid.to_string();
    logs.records(|r| {
        r.kv("kind") == Some(kind)
            && r.kv("pid") == Some(pid.as_str())
            && r.kv("name") == Some(name)
    })
}

/// `mailbox_high_water(n)` without a limit: reaching `n` logs one warning
/// naming the process (pid and registered name) and the length, however
/// far the mailbox grows; falling below `n / 2` logs the all-clear; the
/// next excursion warns again. Nothing is refused.
#[test]
fn a_high_water_mark_warns_once_naming_the_process_and_clears_below_half() {
    const MARK: usize = 10;
    let logs = LogCapture::install(log::LevelFilter::Warn);
    each_runtime(|rt| {
        let gate = Gate::new();
        let _open = gate.opener();
        let p = spawn_with(rt, SpawnOptions::new().mailbox_high_water(MARK as u32));
        let name = format!("hw-{}", rt.workers());
        rt.register(name.as_str(), p.pid()).unwrap();
        hold_then(&p, &gate, Hold::Block, |_| {});
        for _ in 1..MARK {
            p.send(noop());
        }
        assert!(marks(logs, p.pid(), &name, "mailbox_high_water").is_empty());
        p.send(noop());
        let warned = marks(logs, p.pid(), &name, "mailbox_high_water");
        assert_eq!(warned.len(), 1, "{warned:?}");
        let w = &warned[0];
        assert_eq!(w.level, log::Level::Warn);
        assert_eq!(w.kv("name"), Some(name.as_str()));
        assert_eq!(w.kv("len"), Some("10"));
        assert_eq!(w.kv("high_water"), Some("10"));
        assert!(w.line.contains(&format!("{} ({name})", p.pid())), "{w:?}");
        for _ in 0..3 * MARK {
            assert!(p.try_send(noop()).is_ok(), "a mark refuses nothing");
        }
        assert_eq!(marks(logs, p.pid(), &name, "mailbox_high_water").len(), 1);
        assert!(marks(logs, p.pid(), &name, "mailbox_below_high_water").is_empty());
        gate.open();
        assert!(rotp_runtime::testing::wait_until(TIMEOUT, || !marks(
            logs,
            p.pid(),
            &name,
            "mailbox_below_high_water"
        )
        .is_empty()));
        let clear = &marks(logs, p.pid(), &name, "mailbox_below_high_water")[0];
        let len: usize = clear.kv("len").unwrap().parse().unwrap();
        assert!(len * 2 < MARK, "{clear:?}");
        assert_eq!(clear.kv("name"), Some(name.as_str()));
        // A second excursion warns again.
        drained(rt, &p);
        let gate = Gate::new();
        let _open = gate.opener();
        hold_then(&p, &gate, Hold::Block, |_| {});
        for _ in 0..MARK {
            p.send(noop());
        }
        assert_eq!(marks(logs, p.pid(), &name, "mailbox_high_water").len(), 2);
        gate.open();
        drained(rt, &p);
    });
}

/// A bounded mailbox warns at 80% of its limit by default, naming the
/// process.
#[test]
fn a_bounded_mailbox_warns_at_80_percent_of_its_limit() {
    let logs = LogCapture::install(log::LevelFilter::Warn);
    each_runtime(|rt| {
        let gate = Gate::new();
        let _open = gate.opener();
        let p = spawn_with(rt, SpawnOptions::new().mailbox_limit(10, Overflow::Drop));
        let name = format!("bounded-{}", rt.workers());
        rt.register(name.as_str(), p.pid()).unwrap();
        hold_then(&p, &gate, Hold::Block, |_| {});
        for _ in 0..7 {
            p.send(noop());
        }
        assert!(marks(logs, p.pid(), &name, "mailbox_high_water").is_empty());
        p.send(noop());
        let warned = marks(logs, p.pid(), &name, "mailbox_high_water");
        assert_eq!(warned.len(), 1, "{warned:?}");
        assert_eq!(warned[0].kv("high_water"), Some("8"));
        assert_eq!(warned[0].kv("name"), Some(name.as_str()));
        gate.open();
        drained(rt, &p);
    });
}

/// The size of one mailbox entry of a puppet, as the figure counts it:
/// at least a boxed closure.
const ENTRY: usize = std::mem::size_of::<Job>();

/// Once a burst is drained and the process idle, the buffers the burst
/// grew are released (`mailbox_memory` falls back to a few entries).
#[test]
fn a_drained_burst_gives_its_buffers_back() {
    const N: usize = 100_000;
    each_runtime(|rt| {
        let gate = Gate::new();
        let _open = gate.opener();
        let p = puppet(rt);
        let idle = info(rt, &p).mailbox_memory;
        hold_then(&p, &gate, Hold::Block, |_| {});
        for _ in 0..N {
            p.send(noop());
        }
        let full = info(rt, &p).mailbox_memory;
        assert!(full >= N * ENTRY, "{full} bytes for {N} entries");
        gate.open();
        drained(rt, &p);
        let after = info(rt, &p).mailbox_memory;
        assert!(
            after <= idle + 16 * ENTRY.max(32),
            "after the burst: {after} bytes (idle: {idle}, full: {full})"
        );
        assert_answers(&p);
    });
}

/// A process that never goes idle still gives back the buffer a burst
/// left: the emptied batch buffer that would become the queue is released
/// when it is far larger than the backlog it replaces.
#[test]
fn a_busy_process_gives_back_a_buffer_it_outgrew() {
    const N: usize = 100_000;
    each_runtime(|rt| {
        let gates = [Gate::new(), Gate::new(), Gate::new()];
        let _openers: Vec<_> = gates.iter().map(Gate::opener).collect();
        let p = puppet(rt);
        hold_then(&p, &gates[0], Hold::Block, |_| {});
        for _ in 0..N {
            p.send(noop());
        }
        let (last, last_started) = held_by(&gates[1]);
        p.send(last);
        gates[0].open();
        // The burst was taken as one batch and handled; the process holds
        // in its last entry, its batch buffer empty but burst-sized.
        last_started
            .recv_timeout(TIMEOUT)
            .expect("the burst is handled");
        assert!(info(rt, &p).mailbox_memory >= N * ENTRY);
        let (next, next_started) = held_by(&gates[2]);
        p.send(next);
        gates[1].open();
        // It takes one entry from the queue and holds in it, never idle.
        next_started
            .recv_timeout(TIMEOUT)
            .expect("the next entry runs");
        let busy = info(rt, &p).mailbox_memory;
        assert!(busy <= 16 * ENTRY.max(32), "{busy} bytes while busy");
        gates[2].open();
        drained(rt, &p);
    });
}

/// Not a test: the resident memory of the whole program before, during
/// and after a burst of 20 M messages to one process, for
/// `docs/benchmarks.md` (Linux only):
///
/// ```text
/// cargo test --release -p rotp-runtime --test mailbox -- --ignored --nocapture burst_rss
/// ```
#[test]
#[ignore = "a measurement: run by hand with --release"]
fn burst_rss() {
    fn rss_mib() -> f64 {
        let statm = std::fs::read_to_string("/proc/self/statm").unwrap_or_default();
        let pages: f64 = statm
            .split_whitespace()
            .nth(1)
            .and_then(|p| p.parse().ok())
            .unwrap_or(0.0);
        pages * 4096.0 / (1024.0 * 1024.0)
    }
    const N: u64 = 20_000_000;
    let rt = Runtime::builder().workers(2).build().unwrap();
    let (tx, rx) = mpsc::channel();
    let gate = Gate::new();
    let g = gate.clone();
    let p = rt.spawn_fn(move |n: u64, _ctx| {
        if n == 0 {
            g.wait_blocking();
        } else if n == N {
            tx.send(()).unwrap();
        }
    });
    let baseline = rss_mib();
    p.send(0);
    for n in 1..=N {
        p.send(n);
    }
    let held = rss_mib();
    let full = rt.process_info(p.pid()).unwrap().mailbox_memory;
    gate.open();
    rx.recv_timeout(TIMEOUT * 12).expect("the burst is handled");
    assert!(rotp_runtime::testing::wait_until(TIMEOUT, || rt
        .process_info(p.pid())
        .is_some_and(|i| i.status == Status::Waiting)));
    let after = rss_mib();
    let left = rt.process_info(p.pid()).unwrap().mailbox_memory;
    println!(
        "burst of {N} u64 messages: RSS {baseline:.0} MiB before, {held:.0} MiB held \
         (mailbox {:.0} MiB), {after:.0} MiB after draining (mailbox {left} bytes)",
        full as f64 / (1024.0 * 1024.0)
    );
    rt.shutdown(TIMEOUT).unwrap();
}
