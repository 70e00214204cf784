//! rotp's suite on actix: `--workers` arbiters (one event-loop thread each)
//! run the actors; the driver runs on the system's own thread.
//!
//! An actix actor stays on the arbiter it was started on, so its placement
//! is chosen up front, as an actix user would: actors that take turns (the
//! two pingpong actors, the ring, a calling client and its server) share an
//! arbiter, since spreading them only adds a cross-thread wake-up to every
//! message; independent work is spread in contiguous blocks (the k-th of m
//! actors on arbiter `k * workers / m`): the spawned idlers, the producer and
//! its counter (a pipeline), the call_parallel pairs. `ACTIX_PLACEMENT=one`
//! or `ACTIX_PLACEMENT=spread` overrides that choice for every benchmark.
//! Casts use `do_send` (queued whatever the mailbox capacity, like rotp's
//! unbounded mailboxes), calls `send(..).await`.

use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::{Duration, Instant};

use actix::{
    Actor, ActorContext, Addr, Arbiter, ArbiterHandle, AsyncContext, Context, Handler, Message,
    ResponseFuture, Supervised, Supervisor, System,
};
use tokio::sync::{mpsc, oneshot};

use rotp_peers::{rss_bytes, run_main, Bench, Config, Line, BATCH, RING_SIZE};

fn main() {
    run_main(
        "actix",
        &[
            Bench::new("pingpong", pingpong),
            Bench::new("ring", ring),
            Bench::new("spawn", spawn),
            Bench::new("cast_throughput", cast_throughput),
            Bench::new("call_latency", call_latency),
            Bench::new("call_parallel", call_parallel),
            Bench::new("supervisor_restart", supervisor_restart),
        ],
    );
}

/// Where a benchmark's actors go.
#[derive(Clone, Copy, PartialEq)]
enum Placement {
    /// All on the first arbiter.
    One,
    /// In contiguous blocks over every arbiter.
    Spread,
}

/// The arbiters actors run on.
#[derive(Clone)]
struct Arbiters {
    handles: Vec<ArbiterHandle>,
    placement: Placement,
}

impl Arbiters {
    /// The index of the arbiter of the k-th of m actors.
    fn index(&self, k: usize, m: usize) -> usize {
        if self.placement == Placement::One {
            0
        } else {
            k * self.handles.len() / m.max(1)
        }
    }

    /// The arbiter of the k-th of m actors.
    fn place(&self, k: usize, m: usize) -> &ArbiterHandle {
        &self.handles[self.index(k, m)]
    }
}

/// Runs `body` on a system with `config.workers` arbiters, then stops them.
fn with_system<F, Fut>(config: Config, placement: Placement, body: F) -> Line
where
    F: FnOnce(Arbiters) -> Fut,
    Fut: Future<Output = Line>,
{
    let placement = match std::env::var("ACTIX_PLACEMENT").as_deref() {
        Ok("one") => Placement::One,
        Ok("spread") => Placement::Spread,
        Err(_) => placement,
        Ok(other) => {
            eprintln!("ACTIX_PLACEMENT={other}: expected `one` or `spread`");
            std::process::exit(2);
        }
    };
    System::new().block_on(async move {
        let arbiters: Vec<Arbiter> = (0..config.workers).map(|_| Arbiter::new()).collect();
        let handles = arbiters.iter().map(Arbiter::handle).collect();
        let line = body(Arbiters { handles, placement }).await;
        for arbiter in arbiters {
            arbiter.stop();
            // Joining would block the system thread; the process exits anyway.
        }
        line
    })
}

// ---- pingpong, ring ----

/// Passes a counted ball to its peer; reports when no hops are left.
struct Passer {
    peer: Option<Addr<Passer>>,
    done: mpsc::UnboundedSender<()>,
}

impl Actor for Passer {
    type Context = Context<Self>;
}

struct Peer(Addr<Passer>);
struct Hop(u64);

impl Message for Peer {
    type Result = ();
}

impl Message for Hop {
    type Result = ();
}

impl Handler<Peer> for Passer {
    type Result = ();

    fn handle(&mut self, Peer(peer): Peer, _: &mut Context<Self>) {
        self.peer = Some(peer);
    }
}

impl Handler<Hop> for Passer {
    type Result = ();

    fn handle(&mut self, Hop(left): Hop, _: &mut Context<Self>) {
        match left {
            0 => self.done.send(()).expect("driver waiting"),
            left => self.peer.as_ref().expect("peer set").do_send(Hop(left - 1)),
        }
    }
}

fn passers(arbiters: &Arbiters, size: usize) -> (Vec<Addr<Passer>>, mpsc::UnboundedReceiver<()>) {
    let (tx, rx) = mpsc::unbounded_channel();
    let nodes: Vec<_> = (0..size)
        .map(|k| {
            let done = tx.clone();
            Passer::start_in_arbiter(arbiters.place(k, size), move |_| Passer {
                peer: None,
                done,
            })
        })
        .collect();
    for (i, node) in nodes.iter().enumerate() {
        node.do_send(Peer(nodes[(i + 1) % size].clone()));
    }
    (nodes, rx)
}

fn pingpong(config: Config) -> Line {
    let n = config.n;
    with_system(config, Placement::One, |arbiters| async move {
        let (nodes, mut done) = passers(&arbiters, 2);
        nodes[0].do_send(Hop(2_000));
        done.recv().await.unwrap();
        let start_at = Instant::now();
        nodes[0].do_send(Hop(2 * n));
        done.recv().await.unwrap();
        let elapsed = start_at.elapsed();
        Line::new("pingpong", n, elapsed).ns_per("ns_per_rt", elapsed, n)
    })
}

fn ring(config: Config) -> Line {
    let n = config.n;
    with_system(config, Placement::One, |arbiters| async move {
        let (nodes, mut done) = passers(&arbiters, RING_SIZE);
        nodes[0].do_send(Hop(RING_SIZE as u64 * 2));
        done.recv().await.unwrap();
        let start_at = Instant::now();
        nodes[0].do_send(Hop(n));
        done.recv().await.unwrap();
        let elapsed = start_at.elapsed();
        Line::new("ring", n, elapsed).ns_per("ns_per_hop", elapsed, n)
    })
}

// ---- spawn ----

static STARTED: AtomicU64 = AtomicU64::new(0);
static STOPPED: AtomicU64 = AtomicU64::new(0);

/// Waits in its mailbox; stops on any message.
struct Idler;

impl Actor for Idler {
    type Context = Context<Self>;

    fn started(&mut self, _: &mut Context<Self>) {
        STARTED.fetch_add(1, Relaxed);
    }

    fn stopped(&mut self, _: &mut Context<Self>) {
        STOPPED.fetch_add(1, Relaxed);
    }
}

struct Stop;

impl Message for Stop {
    type Result = ();
}

impl Handler<Stop> for Idler {
    type Result = ();

    fn handle(&mut self, _: Stop, ctx: &mut Context<Self>) {
        ctx.stop();
    }
}

type Handles = Vec<Option<Addr<Idler>>>;

/// Spawns the idlers from inside an actor (on the first arbiter), as the
/// suite does: those placed on its own arbiter with `start`, the others
/// with `start_in_arbiter`.
struct Spawner {
    arbiters: Arbiters,
}

impl Actor for Spawner {
    type Context = Context<Self>;
}

struct SpawnAll(Handles, oneshot::Sender<Handles>);

impl Message for SpawnAll {
    type Result = ();
}

impl Handler<SpawnAll> for Spawner {
    type Result = ();

    fn handle(&mut self, SpawnAll(mut all, reply): SpawnAll, _: &mut Context<Self>) {
        let m = all.len();
        for (k, slot) in all.iter_mut().enumerate() {
            *slot = Some(match self.arbiters.index(k, m) {
                0 => Idler.start(),
                _ => Idler::start_in_arbiter(self.arbiters.place(k, m), |_| Idler),
            });
        }
        let _ = reply.send(all);
    }
}

fn spawn(config: Config) -> Line {
    let n = config.n;
    with_system(config, Placement::Spread, |arbiters| async move {
        let own = arbiters.place(0, 1).clone();
        let spawner = Spawner::start_in_arbiter(&own, move |_| Spawner { arbiters });
        // Allocated before the baseline: bookkeeping, not a cost per actor.
        let mut all: Handles = (0..n).map(|_| None).collect();
        std::hint::black_box(&mut all);
        let rss_before = rss_bytes();
        let started = STARTED.load(Relaxed);
        let stopped = STOPPED.load(Relaxed);
        let start_at = Instant::now();
        let (tx, rx) = oneshot::channel();
        spawner.do_send(SpawnAll(all, tx));
        let all = rx.await.unwrap();
        while STARTED.load(Relaxed) - started < n {
            std::thread::yield_now();
        }
        let elapsed = start_at.elapsed();
        let bytes = rss_bytes().saturating_sub(rss_before) as f64 / n as f64;
        let exit_start = Instant::now();
        for idler in all.iter().flatten() {
            idler.do_send(Stop);
        }
        drop(all);
        while STOPPED.load(Relaxed) - stopped < n {
            std::thread::yield_now();
        }
        let exit_secs = exit_start.elapsed().as_secs_f64();
        Line::new("spawn", n, elapsed)
            .extra("bytes_per_proc", format!("{bytes:.0}"))
            .extra("exit_secs", format!("{exit_secs:.3}"))
    })
}

// ---- cast_throughput, call_latency, call_parallel ----

/// A counter: `Add` casts add, a `Get` call reads.
struct Counter(u64);

impl Actor for Counter {
    type Context = Context<Self>;
}

struct Add(u64);
struct Get;

impl Message for Add {
    type Result = ();
}

impl Message for Get {
    type Result = u64;
}

impl Handler<Add> for Counter {
    type Result = ();

    fn handle(&mut self, Add(k): Add, _: &mut Context<Self>) {
        self.0 += k;
    }
}

impl Handler<Get> for Counter {
    type Result = u64;

    fn handle(&mut self, _: Get, _: &mut Context<Self>) -> u64 {
        self.0
    }
}

/// Casts `Produce(n)` increments to the counter in batches, then reads it.
struct Producer {
    target: Addr<Counter>,
    done: mpsc::UnboundedSender<u64>,
}

impl Actor for Producer {
    type Context = Context<Self>;
}

struct Produce(u64);

impl Message for Produce {
    type Result = ();
}

impl Handler<Produce> for Producer {
    type Result = ResponseFuture<()>;

    fn handle(&mut self, Produce(left): Produce, ctx: &mut Context<Self>) -> Self::Result {
        let batch = left.min(BATCH);
        for _ in 0..batch {
            self.target.do_send(Add(1));
        }
        if left > batch {
            ctx.notify(Produce(left - batch));
            Box::pin(async {})
        } else {
            let target = self.target.clone();
            let done = self.done.clone();
            Box::pin(async move {
                let count = target.send(Get).await.expect("counter alive");
                done.send(count).unwrap();
            })
        }
    }
}

fn cast_throughput(config: Config) -> Line {
    let n = config.n;
    with_system(config, Placement::Spread, |arbiters| async move {
        let counter = Counter::start_in_arbiter(arbiters.place(1, 2), |_| Counter(0));
        let (tx, mut rx) = mpsc::unbounded_channel();
        let producer = Producer::start_in_arbiter(arbiters.place(0, 2), move |_| Producer {
            target: counter,
            done: tx,
        });
        let start_at = Instant::now();
        producer.do_send(Produce(n));
        let count = rx.recv().await.unwrap();
        let elapsed = start_at.elapsed();
        assert_eq!(count, n, "every cast handled before the clock stops");
        Line::new("cast_throughput", n, elapsed)
    })
}

/// Makes `Calls(k)` sequential calls to its server, in batches, then reports.
struct Client {
    server: Addr<Counter>,
    timeout: Option<Duration>,
    done: mpsc::UnboundedSender<()>,
}

impl Actor for Client {
    type Context = Context<Self>;
}

struct Calls(u64);

impl Message for Calls {
    type Result = ();
}

impl Handler<Calls> for Client {
    type Result = ResponseFuture<()>;

    fn handle(&mut self, Calls(left): Calls, ctx: &mut Context<Self>) -> Self::Result {
        let server = self.server.clone();
        let timeout = self.timeout;
        let done = self.done.clone();
        let me = ctx.address();
        Box::pin(async move {
            let batch = left.min(BATCH);
            for _ in 0..batch {
                match timeout {
                    None => server.send(Get).await.expect("server alive"),
                    Some(t) => server.send(Get).timeout(t).await.expect("reply"),
                };
            }
            if left > batch {
                me.do_send(Calls(left - batch));
            } else {
                done.send(()).unwrap();
            }
        })
    }
}

/// A client on `client_at` calling a new server on `server_at`.
fn pair(
    client_at: &ArbiterHandle,
    server_at: &ArbiterHandle,
    timeout: Option<Duration>,
    done: &mpsc::UnboundedSender<()>,
) -> Addr<Client> {
    let server = Counter::start_in_arbiter(server_at, |_| Counter(0));
    let done = done.clone();
    Client::start_in_arbiter(client_at, move |_| Client {
        server,
        timeout,
        done,
    })
}

fn call_latency(config: Config) -> Line {
    let n = config.n;
    with_system(config, Placement::One, |arbiters| async move {
        let (tx, mut rx) = mpsc::unbounded_channel();
        let client_at = arbiters.place(0, 2);
        let server_at = arbiters.place(1, 2);
        let mut run = async |calls: u64, timeout: Option<Duration>| {
            let c = pair(client_at, server_at, timeout, &tx);
            let start_at = Instant::now();
            c.do_send(Calls(calls));
            rx.recv().await.unwrap();
            start_at.elapsed()
        };
        run(10_000, None).await;
        let elapsed = run(n, None).await;
        let default_n = (n / 10).max(1);
        let default = run(default_n, Some(Duration::from_secs(5))).await;
        Line::new("call_latency", n, elapsed)
            .ns_per("ns_per_call", elapsed, n)
            .ns_per("default_ns_per_call", default, default_n)
    })
}

fn call_parallel(config: Config) -> Line {
    let clients = 2 * config.workers;
    let per_client = config.n / clients as u64;
    with_system(config, Placement::Spread, |arbiters| async move {
        let (tx, mut rx) = mpsc::unbounded_channel();
        // Client k and its server side by side, the pairs spread evenly.
        let all: Vec<_> = (0..clients)
            .map(|k| {
                let at = arbiters.place(k, clients);
                pair(at, at, None, &tx)
            })
            .collect();
        let start_at = Instant::now();
        for c in &all {
            c.do_send(Calls(per_client));
        }
        for _ in 0..clients {
            rx.recv().await.unwrap();
        }
        let elapsed = start_at.elapsed();
        Line::new("call_parallel", per_client * clients as u64, elapsed).extra("clients", clients)
    })
}

// ---- supervisor_restart ----

/// Incarnations of the supervised worker started so far.
static INCARNATIONS: AtomicU64 = AtomicU64::new(0);

/// A worker that stops on demand; actix's `Supervisor` restarts the same
/// actor value in a new context (`restarting`, then `started`), so each
/// start takes a new incarnation number.
struct Worker(u64);

impl Actor for Worker {
    type Context = Context<Self>;

    fn started(&mut self, _: &mut Context<Self>) {
        self.0 = INCARNATIONS.fetch_add(1, Relaxed);
    }
}

impl Supervised for Worker {}

struct Ping;
struct Crash;

impl Message for Ping {
    type Result = u64;
}

impl Message for Crash {
    type Result = ();
}

impl Handler<Ping> for Worker {
    type Result = u64;

    fn handle(&mut self, _: Ping, _: &mut Context<Self>) -> u64 {
        self.0
    }
}

impl Handler<Crash> for Worker {
    type Result = ();

    /// Acknowledges, then stops: a panic would take the arbiter down.
    fn handle(&mut self, _: Crash, ctx: &mut Context<Self>) {
        ctx.stop();
    }
}

fn supervisor_restart(config: Config) -> Line {
    let n = config.n;
    with_system(config, Placement::One, |arbiters| async move {
        // The address outlives every restart, as a registered name does.
        let worker = Supervisor::start_in_arbiter(arbiters.place(0, 1), |_| Worker(0));
        let mut current = worker.send(Ping).await.expect("worker up");
        let start_at = Instant::now();
        for _ in 0..n {
            worker.send(Crash).await.expect("crash acknowledged");
            // Wait for the restarted incarnation to answer.
            loop {
                match worker.send(Ping).await {
                    Ok(incarnation) if incarnation != current => {
                        current = incarnation;
                        break;
                    }
                    _ => tokio::task::yield_now().await,
                }
            }
        }
        let elapsed = start_at.elapsed();
        Line::new("supervisor_restart", n, elapsed)
    })
}
