//! rotp's suite on ractor: actors are tokio tasks on a multi-thread runtime
//! with `--workers` worker threads; ractor's mailboxes are unbounded.

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::{Duration, Instant};

use ractor::rpc::CallResult;
use ractor::{Actor, ActorProcessingErr, ActorRef, RpcReplyPort, SupervisionEvent};
use tokio::sync::{mpsc, oneshot};

use rotp_peers::{rss_bytes, run_main, Bench, Config, Line, BATCH, RING_SIZE};

fn main() {
    run_main(
        "ractor",
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

/// Spawns an unnamed, unsupervised actor.
async fn start<A: Actor>(actor: A, args: A::Arguments) -> ActorRef<A::Msg> {
    Actor::spawn(None, actor, args).await.expect("spawn").0
}

/// The reply of a call that must succeed.
fn success<T>(result: CallResult<T>) -> T {
    match result {
        CallResult::Success(v) => v,
        CallResult::Timeout => panic!("call timed out"),
        CallResult::SenderError => panic!("callee dropped the reply port"),
    }
}

// ---- pingpong, ring ----

enum Ball {
    Peer(ActorRef<Ball>),
    Hop(u64),
}

/// Passes a counted ball to its peer; reports when no hops are left.
struct Passer;

struct PasserState {
    peer: Option<ActorRef<Ball>>,
    done: mpsc::UnboundedSender<()>,
}

impl Actor for Passer {
    type Msg = Ball;
    type State = PasserState;
    type Arguments = mpsc::UnboundedSender<()>;

    async fn pre_start(
        &self,
        _: ActorRef<Ball>,
        done: Self::Arguments,
    ) -> Result<PasserState, ActorProcessingErr> {
        Ok(PasserState { peer: None, done })
    }

    async fn handle(
        &self,
        _: ActorRef<Ball>,
        msg: Ball,
        state: &mut PasserState,
    ) -> Result<(), ActorProcessingErr> {
        match msg {
            Ball::Peer(peer) => state.peer = Some(peer),
            Ball::Hop(0) => state.done.send(())?,
            Ball::Hop(left) => state
                .peer
                .as_ref()
                .expect("peer set")
                .send_message(Ball::Hop(left - 1))?,
        }
        Ok(())
    }
}

async fn passers(size: usize) -> (Vec<ActorRef<Ball>>, mpsc::UnboundedReceiver<()>) {
    let (tx, rx) = mpsc::unbounded_channel();
    let mut nodes = Vec::with_capacity(size);
    for _ in 0..size {
        nodes.push(start(Passer, tx.clone()).await);
    }
    for (i, node) in nodes.iter().enumerate() {
        node.send_message(Ball::Peer(nodes[(i + 1) % size].clone()))
            .unwrap();
    }
    (nodes, rx)
}

fn pingpong(config: Config) -> Line {
    let n = config.n;
    runtime(config).block_on(async move {
        let (nodes, mut done) = passers(2).await;
        nodes[0].send_message(Ball::Hop(2_000)).unwrap();
        done.recv().await.unwrap();
        let start_at = Instant::now();
        nodes[0].send_message(Ball::Hop(2 * n)).unwrap();
        done.recv().await.unwrap();
        let elapsed = start_at.elapsed();
        Line::new("pingpong", n, elapsed).ns_per("ns_per_rt", elapsed, n)
    })
}

fn ring(config: Config) -> Line {
    let n = config.n;
    runtime(config).block_on(async move {
        let (nodes, mut done) = passers(RING_SIZE).await;
        nodes[0]
            .send_message(Ball::Hop(RING_SIZE as u64 * 2))
            .unwrap();
        done.recv().await.unwrap();
        let start_at = Instant::now();
        nodes[0].send_message(Ball::Hop(n)).unwrap();
        done.recv().await.unwrap();
        let elapsed = start_at.elapsed();
        Line::new("ring", n, elapsed).ns_per("ns_per_hop", elapsed, n)
    })
}

// ---- spawn ----

static STARTED: AtomicU64 = AtomicU64::new(0);
static STOPPED: AtomicU64 = AtomicU64::new(0);

/// Waits in its mailbox; stops on any message. `post_start` runs in the
/// actor's own task (`pre_start` runs in the spawner's).
struct Idler;

impl Actor for Idler {
    type Msg = ();
    type State = ();
    type Arguments = ();

    async fn pre_start(&self, _: ActorRef<()>, (): ()) -> Result<(), ActorProcessingErr> {
        Ok(())
    }

    async fn post_start(&self, _: ActorRef<()>, _: &mut ()) -> Result<(), ActorProcessingErr> {
        STARTED.fetch_add(1, Relaxed);
        Ok(())
    }

    async fn handle(
        &self,
        myself: ActorRef<()>,
        (): (),
        _: &mut (),
    ) -> Result<(), ActorProcessingErr> {
        myself.stop(None);
        Ok(())
    }

    async fn post_stop(&self, _: ActorRef<()>, _: &mut ()) -> Result<(), ActorProcessingErr> {
        STOPPED.fetch_add(1, Relaxed);
        Ok(())
    }
}

type Handles = Vec<Option<ActorRef<()>>>;

/// Spawns the idlers from inside an actor, as the suite does.
struct Spawner;

impl Actor for Spawner {
    type Msg = (Handles, oneshot::Sender<Handles>);
    type State = ();
    type Arguments = ();

    async fn pre_start(&self, _: ActorRef<Self::Msg>, (): ()) -> Result<(), ActorProcessingErr> {
        Ok(())
    }

    async fn handle(
        &self,
        _: ActorRef<Self::Msg>,
        (mut all, reply): Self::Msg,
        _: &mut (),
    ) -> Result<(), ActorProcessingErr> {
        for slot in all.iter_mut() {
            *slot = Some(start(Idler, ()).await);
        }
        let _ = reply.send(all);
        Ok(())
    }
}

fn spawn(config: Config) -> Line {
    let n = config.n;
    runtime(config).block_on(async move {
        let spawner = start(Spawner, ()).await;
        // Allocated before the baseline: bookkeeping, not a cost per actor.
        let mut all: Handles = (0..n).map(|_| None).collect();
        std::hint::black_box(&mut all);
        let rss_before = rss_bytes();
        let started = STARTED.load(Relaxed);
        let stopped = STOPPED.load(Relaxed);
        let start_at = Instant::now();
        let (tx, rx) = oneshot::channel();
        spawner.send_message((all, tx)).unwrap();
        let all = rx.await.unwrap();
        while STARTED.load(Relaxed) - started < n {
            std::thread::yield_now();
        }
        let elapsed = start_at.elapsed();
        let bytes = rss_bytes().saturating_sub(rss_before) as f64 / n as f64;
        let exit_start = Instant::now();
        for idler in all.iter().flatten() {
            idler.send_message(()).unwrap();
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

enum CounterMsg {
    Add(u64),
    Get(RpcReplyPort<u64>),
}

/// A counter: `Add` casts add, a `Get` call reads.
struct Counter;

impl Actor for Counter {
    type Msg = CounterMsg;
    type State = u64;
    type Arguments = ();

    async fn pre_start(&self, _: ActorRef<CounterMsg>, (): ()) -> Result<u64, ActorProcessingErr> {
        Ok(0)
    }

    async fn handle(
        &self,
        _: ActorRef<CounterMsg>,
        msg: CounterMsg,
        count: &mut u64,
    ) -> Result<(), ActorProcessingErr> {
        match msg {
            CounterMsg::Add(k) => *count += k,
            CounterMsg::Get(reply) => reply.send(*count)?,
        }
        Ok(())
    }
}

/// Casts `n` increments to the counter in batches, then reads it.
struct Producer;

struct ProducerState {
    target: ActorRef<CounterMsg>,
    done: mpsc::UnboundedSender<u64>,
}

impl Actor for Producer {
    type Msg = u64;
    type State = ProducerState;
    type Arguments = ProducerState;

    async fn pre_start(
        &self,
        _: ActorRef<u64>,
        state: ProducerState,
    ) -> Result<ProducerState, ActorProcessingErr> {
        Ok(state)
    }

    async fn handle(
        &self,
        myself: ActorRef<u64>,
        left: u64,
        state: &mut ProducerState,
    ) -> Result<(), ActorProcessingErr> {
        let batch = left.min(BATCH);
        for _ in 0..batch {
            state.target.cast(CounterMsg::Add(1))?;
        }
        if left > batch {
            myself.send_message(left - batch)?;
        } else {
            let count = success(state.target.call(CounterMsg::Get, None).await?);
            state.done.send(count)?;
        }
        Ok(())
    }
}

fn cast_throughput(config: Config) -> Line {
    let n = config.n;
    runtime(config).block_on(async move {
        let counter = start(Counter, ()).await;
        let (tx, mut rx) = mpsc::unbounded_channel();
        let producer = start(
            Producer,
            ProducerState {
                target: counter,
                done: tx,
            },
        )
        .await;
        let start_at = Instant::now();
        producer.send_message(n).unwrap();
        let count = rx.recv().await.unwrap();
        let elapsed = start_at.elapsed();
        assert_eq!(count, n, "every cast handled before the clock stops");
        Line::new("cast_throughput", n, elapsed)
    })
}

/// Makes `k` sequential calls to its server, in batches, then reports.
struct Client;

struct ClientState {
    server: ActorRef<CounterMsg>,
    timeout: Option<Duration>,
    done: mpsc::UnboundedSender<()>,
}

impl Actor for Client {
    type Msg = u64;
    type State = ClientState;
    type Arguments = ClientState;

    async fn pre_start(
        &self,
        _: ActorRef<u64>,
        state: ClientState,
    ) -> Result<ClientState, ActorProcessingErr> {
        Ok(state)
    }

    async fn handle(
        &self,
        myself: ActorRef<u64>,
        left: u64,
        state: &mut ClientState,
    ) -> Result<(), ActorProcessingErr> {
        let batch = left.min(BATCH);
        for _ in 0..batch {
            success(state.server.call(CounterMsg::Get, state.timeout).await?);
        }
        if left > batch {
            myself.send_message(left - batch)?;
        } else {
            state.done.send(())?;
        }
        Ok(())
    }
}

async fn client(
    server: ActorRef<CounterMsg>,
    timeout: Option<Duration>,
    done: &mpsc::UnboundedSender<()>,
) -> ActorRef<u64> {
    let done = done.clone();
    start(
        Client,
        ClientState {
            server,
            timeout,
            done,
        },
    )
    .await
}

fn call_latency(config: Config) -> Line {
    let n = config.n;
    runtime(config).block_on(async move {
        let server = start(Counter, ()).await;
        let (tx, mut rx) = mpsc::unbounded_channel();
        let mut run = async |calls: u64, timeout: Option<Duration>| {
            let c = client(server.clone(), timeout, &tx).await;
            let start_at = Instant::now();
            c.send_message(calls).unwrap();
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
        let mut all = Vec::new();
        for _ in 0..clients {
            all.push(client(start(Counter, ()).await, None, &tx).await);
        }
        let start_at = Instant::now();
        for c in &all {
            c.send_message(per_client).unwrap();
        }
        for _ in 0..clients {
            rx.recv().await.unwrap();
        }
        let elapsed = start_at.elapsed();
        Line::new("call_parallel", per_client * clients, elapsed).extra("clients", clients)
    })
}

// ---- supervisor_restart ----

const WORKER_NAME: &str = "bench_worker";

/// Incarnations of the supervised worker started so far.
static INCARNATIONS: AtomicU64 = AtomicU64::new(0);

enum WorkerMsg {
    Ping(RpcReplyPort<u64>),
    Crash(RpcReplyPort<()>),
}

/// A worker that crashes on demand; each incarnation knows its number.
struct Worker;

impl Actor for Worker {
    type Msg = WorkerMsg;
    type State = u64;
    type Arguments = ();

    async fn pre_start(&self, _: ActorRef<WorkerMsg>, (): ()) -> Result<u64, ActorProcessingErr> {
        Ok(INCARNATIONS.fetch_add(1, Relaxed))
    }

    async fn handle(
        &self,
        _: ActorRef<WorkerMsg>,
        msg: WorkerMsg,
        incarnation: &mut u64,
    ) -> Result<(), ActorProcessingErr> {
        match msg {
            WorkerMsg::Ping(reply) => reply.send(*incarnation)?,
            WorkerMsg::Crash(reply) => {
                reply.send(())?;
                // A handler's error fails the actor: its supervisor is told.
                return Err("crash".into());
            }
        }
        Ok(())
    }
}

/// A one_for_one supervisor: ractor tells a supervisor that a linked child
/// failed; restarting it is the supervisor's handler's job.
struct Sup;

async fn start_worker(sup: &ActorRef<()>) -> Result<(), ActorProcessingErr> {
    Actor::spawn_linked(Some(WORKER_NAME.to_owned()), Worker, (), sup.get_cell()).await?;
    Ok(())
}

impl Actor for Sup {
    type Msg = ();
    type State = ();
    type Arguments = ();

    async fn pre_start(&self, _: ActorRef<()>, (): ()) -> Result<(), ActorProcessingErr> {
        Ok(())
    }

    async fn post_start(&self, myself: ActorRef<()>, _: &mut ()) -> Result<(), ActorProcessingErr> {
        start_worker(&myself).await
    }

    async fn handle_supervisor_evt(
        &self,
        myself: ActorRef<()>,
        event: SupervisionEvent,
        _: &mut (),
    ) -> Result<(), ActorProcessingErr> {
        match event {
            SupervisionEvent::ActorFailed(..) | SupervisionEvent::ActorTerminated(..) => {
                start_worker(&myself).await
            }
            _ => Ok(()),
        }
    }
}

/// Calls the worker by its registered name.
async fn call_worker<T: Send + 'static>(
    msg: impl FnOnce(RpcReplyPort<T>) -> WorkerMsg,
) -> Option<T> {
    let worker = ActorRef::<WorkerMsg>::where_is(WORKER_NAME)?;
    match worker.call(msg, None).await {
        Ok(CallResult::Success(v)) => Some(v),
        _ => None,
    }
}

fn supervisor_restart(config: Config) -> Line {
    let n = config.n;
    runtime(config).block_on(async move {
        let _sup = start(Sup, ()).await;
        let mut current = loop {
            match call_worker(WorkerMsg::Ping).await {
                Some(incarnation) => break incarnation,
                None => tokio::task::yield_now().await,
            }
        };
        let start_at = Instant::now();
        for _ in 0..n {
            call_worker(WorkerMsg::Crash)
                .await
                .expect("crash acknowledged");
            // Wait for the restarted incarnation to answer by name.
            loop {
                match call_worker(WorkerMsg::Ping).await {
                    Some(incarnation) if incarnation != current => {
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
