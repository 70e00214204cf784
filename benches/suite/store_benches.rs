//! Store benchmarks: registry_lookup, registry_register, table_read,
//! table_write, read_through_server.
//!
//! Readers are processes, as in the BEAM twin: on a runtime with one worker
//! per core nothing is oversubscribed, so a lock holder is never preempted
//! by another reader. (Plain threads read the stores just as well.)

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed, Ordering::SeqCst};
use std::sync::{mpsc, Arc};
use std::time::{Duration, Instant};

use rotp::gen_server::{
    gen_server, start, Ctx, GenServer, Handled, Init, InitResult, ReplyTo, StartOptions,
};
use rotp::runtime::{Context, ExitReason, Handle, Process, Runtime};
use rotp::store::{Keys, Registry, RegistryOptions, Table, TableOptions};

use crate::{Bench, Line};

/// Keys in the stores the readers read.
const KEYS: u64 = 100_000;
/// Reader threads.
const READERS: u64 = 4;

pub(crate) fn all() -> Vec<Bench> {
    vec![
        Bench {
            name: "registry_lookup",
            default_n: 4_000_000,
            run: registry_lookup,
        },
        Bench {
            name: "registry_register",
            default_n: 500_000,
            run: registry_register,
        },
        Bench {
            name: "table_read",
            default_n: 4_000_000,
            run: table_read,
        },
        Bench {
            name: "table_write",
            default_n: 2_000_000,
            run: table_write,
        },
        Bench {
            name: "read_through_server",
            default_n: 1_000_000,
            run: read_through_server,
        },
    ]
}

/// A small PRNG per reader: the keys read are spread over the store.
fn next_key(state: &mut u64) -> u64 {
    *state ^= *state << 13;
    *state ^= *state >> 7;
    *state ^= *state << 17;
    *state % KEYS
}

/// Lookups a reader process makes per handler: long loops are split so
/// that a handler stays short, as every rotp process should.
const BATCH: u64 = 1_000;

/// A reader process: `left` lookups to go with `read`, in batches.
struct Reader<F> {
    read: Arc<F>,
    state: u64,
    left: u64,
    found: u64,
    done: mpsc::Sender<u64>,
}

impl<F: Fn(u64) -> bool + Send + Sync + 'static> Process for Reader<F> {
    type Message = ();
    fn handle(&mut self, (): (), ctx: &mut Context<'_, ()>) {
        let batch = self.left.min(BATCH);
        for _ in 0..batch {
            self.found += u64::from((self.read)(next_key(&mut self.state)));
        }
        self.left -= batch;
        if self.left == 0 {
            let _ = self.done.send(self.found);
        } else {
            ctx.addr().send(());
        }
    }
}

/// Runs `READERS` reader processes doing `n / READERS` reads each with
/// `read(key)` (which says whether it found the key), all started together
/// (the BEAM twin's readers are processes too); returns the elapsed time
/// and the hits.
fn readers<F: Fn(u64) -> bool + Send + Sync + 'static>(
    rt: &Runtime,
    n: u64,
    read: F,
) -> (Duration, u64) {
    let per = n / READERS;
    let read = Arc::new(read);
    let (done, finished) = mpsc::channel();
    let procs: Vec<_> = (0..READERS)
        .map(|r| {
            rt.spawn(Reader {
                read: read.clone(),
                state: 0x9E37_79B9_7F4A_7C15 ^ (r + 1),
                left: per,
                found: 0,
                done: done.clone(),
            })
        })
        .collect();
    let start_at = Instant::now();
    for p in &procs {
        p.send(());
    }
    let hits: u64 = (0..READERS).map(|_| finished.recv().unwrap()).sum();
    (start_at.elapsed(), hits)
}

/// A process that runs the closure it is sent (to act as the owner).
struct Runner;

/// A closure run inside the process.
type JobFn = dyn FnOnce(&mut Context<'_, Job>) + Send;

struct Job(Box<JobFn>);

impl Process for Runner {
    type Message = Job;
    fn handle(&mut self, job: Job, ctx: &mut Context<'_, Job>) {
        (job.0)(ctx)
    }
}

/// Runs `f` inside a new process and returns its result and the process.
fn in_process<R: Send + 'static>(
    rt: &Runtime,
    f: impl FnOnce(&mut Context<'_, Job>) -> R + Send + 'static,
) -> (R, rotp::runtime::Addr<Job>) {
    let p = rt.spawn(Runner);
    let (tx, rx) = mpsc::channel();
    p.send(Job(Box::new(move |ctx| tx.send(f(ctx)).unwrap())));
    (rx.recv().unwrap(), p)
}

/// 4 reader threads look up random keys among 100k unique keys.
fn registry_lookup(rt: &Runtime, n: u64) -> Line {
    let reg: Registry<u64, u64> = Registry::start(rt, RegistryOptions::new(Keys::Unique)).unwrap();
    let r = reg.clone();
    let (_, owner) = in_process(rt, move |_| {
        for k in 0..KEYS {
            r.register(k, k).unwrap();
        }
    });
    let r = reg.clone();
    let (elapsed, hits) = readers(rt, n, move |k| r.get(&k).unwrap().is_some());
    assert_eq!(hits, n / READERS * READERS);
    rt.send_exit(owner.pid(), ExitReason::Shutdown);
    Line::new("registry_lookup", n / READERS * READERS, elapsed)
        .extra("readers", READERS)
        .extra("keys", KEYS)
        .extra(
            "ns_per_lookup",
            format!("{:.1}", elapsed.as_nanos() as f64 / n as f64),
        )
}

/// One process registers and unregisters n keys, one pair at a time; then
/// 100 processes with 1,000 keys each exit, and the clean-up of their
/// 100k entries is timed until the count is zero.
fn registry_register(rt: &Runtime, n: u64) -> Line {
    let reg: Registry<u64, u64> = Registry::start(rt, RegistryOptions::new(Keys::Unique)).unwrap();
    let r = reg.clone();
    let (elapsed, _p) = in_process(rt, move |_| {
        let start_at = Instant::now();
        for k in 0..n {
            r.register(k, k).unwrap();
            r.unregister(&k).unwrap();
        }
        start_at.elapsed()
    });
    assert_eq!(reg.count().unwrap(), 0);
    // Exit clean-up.
    let mut holders = Vec::new();
    for p in 0..100u64 {
        let r = reg.clone();
        let (_, holder) = in_process(rt, move |_| {
            for k in 0..1000 {
                r.register(p * 1000 + k, k).unwrap();
            }
        });
        holders.push(holder);
    }
    assert_eq!(reg.count().unwrap(), 100_000);
    let start_at = Instant::now();
    for h in &holders {
        rt.kill(h.pid());
    }
    while reg.count().unwrap() > 0 {
        std::hint::spin_loop();
    }
    let cleanup = start_at.elapsed();
    Line::new("registry_register", n, elapsed).extra(
        "cleanup_ns_per_key",
        format!("{:.1}", cleanup.as_nanos() as f64 / 100_000.0),
    )
}

/// The owner of a table, writing in batches until told to stop.
fn writer(table: Table<u64, u64>, stop: Arc<AtomicBool>, writes: Arc<AtomicU64>) -> Job {
    Job(Box::new(move |ctx| {
        let mut state = 0x2545_F491_4F6C_DD1D ^ writes.load(Relaxed);
        for _ in 0..1000 {
            let k = next_key(&mut state);
            table.insert(k, k + 1).unwrap();
        }
        writes.fetch_add(1000, Relaxed);
        if !stop.load(SeqCst) {
            ctx.addr().send(writer(table, stop, writes));
        }
    }))
}

/// 4 reader threads look up random keys in a 100k-key protected set while
/// its owner keeps updating it.
fn table_read(rt: &Runtime, n: u64) -> Line {
    let h: Handle = rt.handle().clone();
    let (table, owner) = in_process(rt, move |_| {
        let t: Table<u64, u64> =
            Table::new(&h, TableOptions::new().read_concurrency(true)).unwrap();
        for k in 0..KEYS {
            t.insert(k, k).unwrap();
        }
        t
    });
    let stop = Arc::new(AtomicBool::new(false));
    let writes = Arc::new(AtomicU64::new(0));
    owner.send(writer(table.clone(), stop.clone(), writes.clone()));
    let t = table.clone();
    let (elapsed, hits) = readers(rt, n, move |k| t.get(&k).unwrap().is_some());
    stop.store(true, SeqCst);
    assert_eq!(hits, n / READERS * READERS);
    let w = writes.load(Relaxed);
    rt.send_exit(owner.pid(), ExitReason::Shutdown);
    Line::new("table_read", n / READERS * READERS, elapsed)
        .extra("readers", READERS)
        .extra("writes", w)
        .extra(
            "ns_per_lookup",
            format!("{:.1}", elapsed.as_nanos() as f64 / n as f64),
        )
}

/// The owner inserts n distinct keys into a protected set.
fn table_write(rt: &Runtime, n: u64) -> Line {
    let h: Handle = rt.handle().clone();
    let (elapsed, owner) = in_process(rt, move |_| {
        let t: Table<u64, u64> = Table::new(&h, TableOptions::new()).unwrap();
        let start_at = Instant::now();
        for k in 0..n {
            t.insert(k, k).unwrap();
        }
        let elapsed = start_at.elapsed();
        assert_eq!(t.size().unwrap() as u64, n);
        elapsed
    });
    rt.send_exit(owner.pid(), ExitReason::Shutdown);
    Line::new("table_write", n, elapsed)
}

/// The same reads as `table_read`, as calls to a GenServer holding a map.
struct Store(HashMap<u64, u64>);

/// The one call: the value under a key.
struct Get(u64, ReplyTo<Option<u64>>);

#[gen_server]
impl GenServer for Store {
    fn init((): (), _: &mut Ctx<'_, Self>) -> InitResult<Self> {
        Init::ok(Store((0..KEYS).map(|k| (k, k)).collect()))
    }

    fn handle_call(&mut self, Get(k, r): Get, _: &mut Ctx<'_, Self>) -> Handled<Self> {
        r.reply(self.0.get(&k).copied())
    }
}

fn read_through_server(rt: &Runtime, n: u64) -> Line {
    let server = start::<Store>(rt, (), StartOptions::new()).unwrap();
    let s = server.clone();
    // Without a timeout, like the BEAM twin's `infinity`.
    let read = move |k| s.call_timeout(|r| Get(k, r), None).unwrap().is_some();
    let (elapsed, hits) = readers(rt, n, read);
    assert_eq!(hits, n / READERS * READERS);
    Line::new("read_through_server", n / READERS * READERS, elapsed)
        .extra("readers", READERS)
        .extra(
            "ns_per_lookup",
            format!("{:.1}", elapsed.as_nanos() as f64 / n as f64),
        )
}
