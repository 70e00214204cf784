//! rotp's suite on kameo: actors are tokio tasks on a multi-thread runtime
//! with `--workers` worker threads; mailboxes are unbounded, as rotp's are.

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::{Duration, Instant};

use kameo::actor::{Actor, ActorRef, Spawn};
use kameo::error::Infallible;
use kameo::mailbox;
use kameo::message::{Context, Message};
use tokio::sync::{mpsc, oneshot};

use rotp_peers::{rss_bytes, run_main, Bench, Config, Line, BATCH, RING_SIZE};

fn main() {
    run_main(
        "kameo",
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

fn runtime(config: Config) -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(config.workers)
        .enable_all()
        .build()
        .expect("tokio runtime")
}

/// Spawns `actor` with an unbounded mailbox.
fn start<A: Actor<Args = A>>(actor: A) -> ActorRef<A> {
    A::spawn_with_mailbox(actor, mailbox::unbounded())
}

/// Sends without waiting: the mailboxes are unbounded.
macro_rules! tell {
    ($to:expr, $msg:expr) => {
        $to.tell($msg).try_send().expect("actor alive")
    };
}

macro_rules! plain_actor {
    ($($t:ty),*) => {$(
        impl Actor for $t {
            type Args = Self;
            type Error = Infallible;

            async fn on_start(state: Self, _: ActorRef<Self>) -> Result<Self, Infallible> {
                Ok(state)
            }
        }
    )*};
}

plain_actor!(Passer, Counter, Producer, Client, Spawner);

// ---- pingpong, ring ----

/// Passes a counted ball to its peer; reports when no hops are left.
struct Passer {
    peer: Option<ActorRef<Passer>>,
    done: mpsc::UnboundedSender<()>,
}

struct Peer(ActorRef<Passer>);
struct Hop(u64);

impl Message<Peer> for Passer {
    type Reply = ();

    async fn handle(&mut self, Peer(peer): Peer, _: &mut Context<Self, ()>) {
        self.peer = Some(peer);
    }
}

impl Message<Hop> for Passer {
    type Reply = ();

    async fn handle(&mut self, Hop(left): Hop, _: &mut Context<Self, ()>) {
        match left {
            0 => self.done.send(()).expect("driver waiting"),
            left => tell!(self.peer.as_ref().expect("peer set"), Hop(left - 1)),
        }
    }
}

/// `size` passers, each one's peer the next.
fn passers(size: usize) -> (Vec<ActorRef<Passer>>, mpsc::UnboundedReceiver<()>) {
    let (tx, rx) = mpsc::unbounded_channel();
    let nodes: Vec<_> = (0..size)
        .map(|_| {
            start(Passer {
                peer: None,
                done: tx.clone(),
            })
        })
        .collect();
    for (i, node) in nodes.iter().enumerate() {
        tell!(node, Peer(nodes[(i + 1) % size].clone()));
    }
    (nodes, rx)
}

fn pingpong(config: Config) -> Line {
    let n = config.n;
    runtime(config).block_on(async move {
        let (nodes, mut done) = passers(2);
        tell!(nodes[0], Hop(2_000));
        done.recv().await.unwrap();
        let start = Instant::now();
        tell!(nodes[0], Hop(2 * n));
        done.recv().await.unwrap();
        let elapsed = start.elapsed();
        Line::new("pingpong", n, elapsed).ns_per("ns_per_rt", elapsed, n)
    })
}

fn ring(config: Config) -> Line {
    let n = config.n;
    runtime(config).block_on(async move {
        let (nodes, mut done) = passers(RING_SIZE);
        tell!(nodes[0], Hop(RING_SIZE as u64 * 2));
        done.recv().await.unwrap();
        let start = Instant::now();
        tell!(nodes[0], Hop(n));
        done.recv().await.unwrap();
        let elapsed = start.elapsed();
        Line::new("ring", n, elapsed).ns_per("ns_per_hop", elapsed, n)
    })
}

// ---- spawn ----

static STARTED: AtomicU64 = AtomicU64::new(0);
static STOPPED: AtomicU64 = AtomicU64::new(0);

/// Waits in its mailbox; stops on any message.
struct Idler;

impl Actor for Idler {
    type Args = ();
    type Error = Infallible;

    async fn on_start((): (), _: ActorRef<Self>) -> Result<Self, Infallible> {
        STARTED.fetch_add(1, Relaxed);
        Ok(Idler)
    }

    async fn on_stop(
        &mut self,
        _: kameo::actor::WeakActorRef<Self>,
        _: kameo::error::ActorStopReason,
    ) -> Result<(), Infallible> {
        STOPPED.fetch_add(1, Relaxed);
        Ok(())
    }
}

struct Stop;

impl Message<Stop> for Idler {
    type Reply = ();

    async fn handle(&mut self, _: Stop, ctx: &mut Context<Self, ()>) {
        ctx.stop();
    }
}

type Handles = Vec<Option<ActorRef<Idler>>>;

/// Spawns the idlers from inside an actor, as the suite does.
struct Spawner;

struct SpawnAll(Handles, oneshot::Sender<Handles>);

impl Message<SpawnAll> for Spawner {
    type Reply = ();

    async fn handle(&mut self, SpawnAll(mut all, reply): SpawnAll, _: &mut Context<Self, ()>) {
        for slot in all.iter_mut() {
            *slot = Some(Idler::spawn_with_mailbox((), mailbox::unbounded()));
        }
        let _ = reply.send(all);
    }
}

fn spawn(config: Config) -> Line {
    let n = config.n;
    runtime(config).block_on(async move {
        let spawner = start(Spawner);
        // Allocated before the baseline: bookkeeping, not a cost per actor.
        let mut all: Handles = (0..n).map(|_| None).collect();
        std::hint::black_box(&mut all);
        let rss_before = rss_bytes();
        let started = STARTED.load(Relaxed);
        let stopped = STOPPED.load(Relaxed);
        let start_at = Instant::now();
        let (tx, rx) = oneshot::channel();
        tell!(spawner, SpawnAll(all, tx));
        let all = rx.await.unwrap();
        while STARTED.load(Relaxed) - started < n {
            std::thread::yield_now();
        }
        let elapsed = start_at.elapsed();
        let bytes = rss_bytes().saturating_sub(rss_before) as f64 / n as f64;
        let exit_start = Instant::now();
        for idler in all.iter().flatten() {
            tell!(idler, Stop);
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

struct Add(u64);
struct Get;

impl Message<Add> for Counter {
    type Reply = ();

    async fn handle(&mut self, Add(k): Add, _: &mut Context<Self, ()>) {
        self.0 += k;
    }
}

impl Message<Get> for Counter {
    type Reply = u64;

    async fn handle(&mut self, _: Get, _: &mut Context<Self, u64>) -> u64 {
        self.0
    }
}

/// Casts `Produce(n)` increments to the counter in batches, then reads it.
struct Producer {
    target: ActorRef<Counter>,
    done: mpsc::UnboundedSender<u64>,
}

struct Produce(u64);

impl Message<Produce> for Producer {
    type Reply = ();

    async fn handle(&mut self, Produce(left): Produce, ctx: &mut Context<Self, ()>) {
        let batch = left.min(BATCH);
        for _ in 0..batch {
            tell!(self.target, Add(1));
        }
        if left > batch {
            tell!(ctx.actor_ref(), Produce(left - batch));
        } else {
            let count = self.target.ask(Get).await.expect("counter alive");
            self.done.send(count).unwrap();
        }
    }
}

fn cast_throughput(config: Config) -> Line {
    let n = config.n;
    runtime(config).block_on(async move {
        let counter = start(Counter(0));
        let (tx, mut rx) = mpsc::unbounded_channel();
        let producer = start(Producer {
            target: counter,
            done: tx,
        });
        let start_at = Instant::now();
        tell!(producer, Produce(n));
        let count = rx.recv().await.unwrap();
        let elapsed = start_at.elapsed();
        assert_eq!(count, n, "every cast handled before the clock stops");
        Line::new("cast_throughput", n, elapsed)
    })
}

/// Makes `Calls(k)` sequential asks to its server, in batches, then reports.
struct Client {
    server: ActorRef<Counter>,
    timeout: Option<Duration>,
    done: mpsc::UnboundedSender<()>,
}

struct Calls(u64);

impl Message<Calls> for Client {
    type Reply = ();

    async fn handle(&mut self, Calls(left): Calls, ctx: &mut Context<Self, ()>) {
        let batch = left.min(BATCH);
        for _ in 0..batch {
            match self.timeout {
                None => self.server.ask(Get).await.expect("server alive"),
                Some(t) => self.server.ask(Get).reply_timeout(t).await.expect("reply"),
            };
        }
        if left > batch {
            tell!(ctx.actor_ref(), Calls(left - batch));
        } else {
            self.done.send(()).unwrap();
        }
    }
}

fn client(
    server: ActorRef<Counter>,
    timeout: Option<Duration>,
    done: &mpsc::UnboundedSender<()>,
) -> ActorRef<Client> {
    start(Client {
        server,
        timeout,
        done: done.clone(),
    })
}

fn call_latency(config: Config) -> Line {
    let n = config.n;
    runtime(config).block_on(async move {
        let server = start(Counter(0));
        let (tx, mut rx) = mpsc::unbounded_channel();
        let mut run = async |calls: u64, timeout: Option<Duration>| {
            let c = client(server.clone(), timeout, &tx);
            let start_at = Instant::now();
            tell!(c, Calls(calls));
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
    let clients = 2 * config.workers as u64;
    let per_client = config.n / clients;
    runtime(config).block_on(async move {
        let (tx, mut rx) = mpsc::unbounded_channel();
        let all: Vec<_> = (0..clients)
            .map(|_| client(start(Counter(0)), None, &tx))
            .collect();
        let start_at = Instant::now();
        for c in &all {
            tell!(c, Calls(per_client));
        }
        for _ in 0..clients {
            rx.recv().await.unwrap();
        }
        let elapsed = start_at.elapsed();
        Line::new("call_parallel", per_client * clients, elapsed).extra("clients", clients)
    })
}

// ---- supervisor_restart ----

/// Incarnations of the supervised worker started so far.
static INCARNATIONS: AtomicU64 = AtomicU64::new(0);

/// A one_for_one supervisor (kameo's default strategy) with no state.
struct Sup;

impl Actor for Sup {
    type Args = ();
    type Error = Infallible;

    async fn on_start((): (), _: ActorRef<Self>) -> Result<Self, Infallible> {
        Ok(Sup)
    }
}

/// A worker that crashes on demand; each incarnation knows its number.
struct Worker(u64);

impl Actor for Worker {
    type Args = ();
    type Error = Infallible;

    async fn on_start((): (), _: ActorRef<Self>) -> Result<Self, Infallible> {
        Ok(Worker(INCARNATIONS.fetch_add(1, Relaxed)))
    }
}

struct Ping;
struct Crash;

#[derive(Debug)]
struct Crashed;

impl Message<Ping> for Worker {
    type Reply = u64;

    async fn handle(&mut self, _: Ping, _: &mut Context<Self, u64>) -> u64 {
        self.0
    }
}

impl Message<Crash> for Worker {
    type Reply = Result<(), Crashed>;

    /// Acknowledges, then fails: the error of an ask whose reply was already
    /// sent stops the actor as a panic would, without unwinding.
    async fn handle(
        &mut self,
        _: Crash,
        ctx: &mut Context<Self, Result<(), Crashed>>,
    ) -> Result<(), Crashed> {
        let (_delegated, reply) = ctx.reply_sender();
        if let Some(reply) = reply {
            reply.send(Ok(()));
        }
        Err(Crashed)
    }
}

fn supervisor_restart(config: Config) -> Line {
    let n = config.n;
    runtime(config).block_on(async move {
        let sup = Sup::spawn_with_mailbox((), mailbox::unbounded());
        // A restarted kameo child keeps its id and mailbox, so this one
        // reference reaches every incarnation, as a registered name does.
        let worker = Worker::supervise(&sup, ())
            .restart_limit(
                u32::try_from(n + 1).unwrap_or(u32::MAX),
                Duration::from_secs(3600),
            )
            .spawn_with_mailbox(mailbox::unbounded())
            .await;
        let mut current = worker.ask(Ping).await.expect("worker up");
        let start_at = Instant::now();
        for _ in 0..n {
            worker.ask(Crash).await.expect("crash acknowledged");
            // Wait for the restarted incarnation to answer.
            loop {
                match worker.ask(Ping).await {
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
