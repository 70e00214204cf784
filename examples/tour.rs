//! A short tour of rotp: processes and what they cost, links and monitors,
//! timers on a virtual clock, a GenServer and what a call costs, and a
//! supervision tree that restarts what crashes.
//!
//! Run with `cargo run --release --example tour`: the numbers it prints
//! are only meaningful in a release build. (`cargo test` runs it too, with
//! smaller sizes.)

use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};
use std::time::{Duration, Instant};

use rotp::prelude::*;
use rotp::runtime::testing::{assert_eventually, Probe, Received};
use rotp::runtime::{Context, Process};

/// How many idle processes to spawn, and how many calls to time.
const SPAWNS: usize = if cfg!(test) { 10_000 } else { 100_000 };
const CALLS: u32 = if cfg!(test) { 1_000 } else { 100_000 };

pub(crate) fn run() {
    if cfg!(debug_assertions) {
        println!("(a debug build: the timings below are not representative; use --release)");
    }
    processes();
    exits_and_monitors();
    timers();
    gen_servers();
    supervision();
    println!("\n== where next");
    println!("docs/guide.md shows each Elixir GenServer pattern beside its rotp form;");
    println!("examples/ has each one runnable: cargo run --example counter (or stack, kv_store,");
    println!("session_store, order_state_machine, deferred_reply, task_supervisor, ...).");
}

#[allow(dead_code)]
fn main() {
    run();
}

/// Lightweight processes: spawn, send, and what a process costs.
fn processes() {
    println!("== processes");
    let rt = Runtime::new().expect("runtime");
    let (tx, rx) = std::sync::mpsc::channel();
    // A process is a state machine driven by its mailbox.
    let doubler = rt.spawn_fn(move |n: u64, _ctx| tx.send(n * 2).unwrap());
    for n in 1..=3 {
        doubler.send(n);
    }
    let answers: Vec<u64> = (0..3)
        .map(|_| rx.recv_timeout(Duration::from_secs(5)).expect("doubled"))
        .collect();
    println!("{} doubled 1, 2, 3 into {answers:?}", doubler.pid());

    // Spawn idle processes from inside a process, as a BEAM program would,
    // and measure the time until each has started and the memory they
    // hold (the growth of the resident set).
    let (tx, rx) = std::sync::mpsc::channel();
    let mut idlers: Vec<Option<Addr<()>>> = (0..SPAWNS).map(|_| None).collect();
    let base = rt.process_count();
    let rss_before = rss_bytes();
    let started = STARTED.load(Relaxed);
    let start = Instant::now();
    rt.spawn_fn(move |(), ctx| {
        for slot in idlers.iter_mut() {
            *slot = Some(ctx.spawn(Idler));
        }
        tx.send(std::mem::take(&mut idlers)).unwrap();
        ctx.exit(ExitReason::Normal);
    })
    .send(());
    let idlers = rx.recv_timeout(Duration::from_secs(60)).expect("spawned");
    let deadline = Instant::now() + Duration::from_secs(60);
    while STARTED.load(Relaxed) - started < SPAWNS {
        assert!(Instant::now() < deadline, "the idle processes start");
        std::thread::yield_now();
    }
    let elapsed = start.elapsed();
    let grown = rss_bytes()
        .zip(rss_before)
        .map(|(a, b)| a.saturating_sub(b));
    println!(
        "spawned {SPAWNS} processes in {:.1} ms: {:.0} ns each",
        elapsed.as_secs_f64() * 1e3,
        elapsed.as_nanos() as f64 / SPAWNS as f64
    );
    match grown {
        Some(bytes) => println!(
            "memory: {:.0} bytes per idle process (resident set growth)",
            bytes as f64 / SPAWNS as f64
        ),
        None => println!("memory: the resident set is not readable on this platform"),
    }
    let start = Instant::now();
    for p in idlers.iter().flatten() {
        p.send(());
    }
    assert_eventually(Duration::from_secs(60), "the idlers exit", || {
        rt.process_count() <= base
    });
    println!(
        "and they all exited in {:.1} ms",
        start.elapsed().as_secs_f64() * 1e3
    );
}

/// Idle processes that have started.
static STARTED: AtomicUsize = AtomicUsize::new(0);

/// Waits in its mailbox; exits on any message.
struct Idler;

impl Process for Idler {
    type Message = ();

    fn init(&mut self, _ctx: &mut Context<'_, ()>) {
        STARTED.fetch_add(1, Relaxed);
    }

    fn handle(&mut self, (): (), ctx: &mut Context<'_, ()>) {
        ctx.exit(ExitReason::Normal);
    }
}

/// The process's resident set, in bytes (Linux).
fn rss_bytes() -> Option<u64> {
    let statm = std::fs::read_to_string("/proc/self/statm").ok()?;
    let pages: u64 = statm.split_whitespace().nth(1)?.parse().ok()?;
    Some(pages * 4096)
}

/// Links propagate crashes; trapping exits turns them into messages;
/// monitors report a death once.
fn exits_and_monitors() {
    println!("\n== exits, links, monitors");
    let rt = Runtime::new().expect("runtime");
    let watcher: Probe<()> = Probe::spawn_trapping(&rt);
    let worker = rt.spawn_fn(|divisor: u64, _ctx| {
        let _ = 100 / divisor; // panics on zero
    });
    watcher.link(worker.pid()).unwrap();
    let mref = watcher.monitor(worker.pid());
    worker.send(0);
    let exit = watcher.assert_receive(Duration::from_secs(5), |r| matches!(r, Received::Exit(..)));
    println!("linked and trapping, the watcher got {exit:?}");
    let down = watcher.assert_receive(
        Duration::from_secs(5),
        |r| matches!(r, Received::Down(d) if d.mref == mref),
    );
    if let Received::Down(d) = down {
        println!("and the monitor reported {} down: {}", d.pid, d.reason);
    }
}

/// An alarm clock: ticks every ten minutes, rings once after an hour.
#[derive(Default)]
struct AlarmClock {
    ticks: u32,
    rang_at: Option<Duration>,
}

#[derive(Clone)]
enum Alarm {
    Tick,
    Ring,
}

/// Ticks so far, and when it rang.
struct Report(ReplyTo<(u32, Option<Duration>)>);

#[gen_server]
impl GenServer for AlarmClock {
    fn init((): (), ctx: &mut Ctx<'_, Self>) -> InitResult<Self> {
        ctx.send_interval(Duration::from_secs(600), Alarm::Tick);
        ctx.send_after(Duration::from_secs(3600), Alarm::Ring);
        Init::ok(AlarmClock::default())
    }

    fn handle_info(&mut self, info: Info<Alarm>, ctx: &mut Ctx<'_, Self>) -> Handled<Self> {
        match info {
            Info::Msg(Alarm::Tick) => self.ticks += 1,
            Info::Msg(Alarm::Ring) => self.rang_at = Some(ctx.handle().now()),
            _ => {}
        }
        noreply()
    }

    fn handle_call(&mut self, Report(r): Report, _ctx: &mut Ctx<'_, Self>) -> Handled<Self> {
        r.reply((self.ticks, self.rang_at))
    }
}

/// Timers read the runtime clock; a virtual clock makes an hour pass at once.
fn timers() {
    println!("\n== timers on a virtual clock");
    println!(
        "A virtual clock is the runtime's clock made manual: time moves only when you call \
         rt.advance(d), and every timer due on the way fires, in order."
    );
    let rt = Runtime::builder().virtual_clock().build().expect("runtime");
    let clock =
        gen_server::start::<AlarmClock>(&rt, (), StartOptions::new()).expect("the clock starts");
    let start = Instant::now();
    rt.advance(Duration::from_secs(3600));
    let (ticks, rang_at) = clock.call(Report).unwrap();
    assert_eq!((ticks, rang_at), (6, Some(Duration::from_secs(3600))));
    println!(
        "one virtual hour in {:.2} ms of real time: {ticks} ticks, the alarm rang at {:?}",
        start.elapsed().as_secs_f64() * 1e3,
        rang_at.unwrap()
    );
}

/// A GenServer: the state is the struct, callbacks take `&mut self`.
struct Account {
    balance: i64,
}

enum Request {
    Balance(ReplyTo<i64>),
    Withdraw(i64, ReplyTo<Result<i64, String>>),
}

#[gen_server]
impl GenServer for Account {
    fn init(opening: i64, _ctx: &mut Ctx<'_, Self>) -> InitResult<Self> {
        Init::ok(Account { balance: opening })
    }

    fn handle_call(&mut self, req: Request, _ctx: &mut Ctx<'_, Self>) -> Handled<Self> {
        match req {
            Request::Balance(r) => r.reply(self.balance),
            Request::Withdraw(n, r) if n > self.balance => {
                r.reply(Err(format!("insufficient funds: {}", self.balance)))
            }
            Request::Withdraw(n, r) => {
                self.balance -= n;
                r.reply(Ok(self.balance))
            }
        }
    }

    fn handle_cast(&mut self, deposit: i64, _ctx: &mut Ctx<'_, Self>) -> Handled<Self> {
        self.balance += deposit;
        noreply()
    }
}

fn gen_servers() {
    println!("\n== a GenServer");
    let rt = Runtime::new().expect("runtime");
    let account = gen_server::start::<Account>(&rt, 100, StartOptions::new().name("account"))
        .expect("the account starts");
    account.cast(50);
    // Each request names its reply type: a balance is an i64...
    let balance: i64 = account.call(Request::Balance).unwrap();
    println!("balance after a deposit: {balance}");
    // ...a withdrawal a Result.
    let refused = account.call(|r| Request::Withdraw(500, r)).unwrap();
    println!("withdraw 500: {refused:?}");
    // Reach it by name, from anywhere.
    let by_name = ServerRef::<Account>::named(&rt, "account");
    let left = by_name.call(|r| Request::Withdraw(30, r)).unwrap();
    println!("withdraw 30 by name: {left:?}");

    // What a call costs, from a process (as in a BEAM program: the call
    // blocks only that process) and from a plain thread; with a timeout
    // (`call` has 5 s), and without (`call_timeout(req, None)`, Elixir's
    // `:infinity`), which may run the server's handler on the caller's
    // thread when the server is idle.
    let time_calls = |server: &ServerRef<Account>, timeout: Option<Duration>| {
        let start = Instant::now();
        for _ in 0..CALLS {
            server.call_timeout(Request::Balance, timeout).unwrap();
        }
        start.elapsed().as_nanos() as f64 / f64::from(CALLS)
    };
    let five_s = Some(Duration::from_secs(5));
    let (tx, rx) = std::sync::mpsc::channel();
    let server = account.clone();
    rt.spawn_fn(move |(), ctx| {
        let times = (time_calls(&server, five_s), time_calls(&server, None));
        tx.send(times).unwrap();
        ctx.exit(ExitReason::Normal);
    })
    .send(());
    let from_process = rx.recv_timeout(Duration::from_secs(60)).expect("timed");
    let from_thread = (time_calls(&account, five_s), time_calls(&account, None));
    println!("a call's round trip, over {CALLS} calls:");
    for (from, (with, without)) in [("a process", from_process), ("a thread", from_thread)] {
        println!("  from {from:9}: {with:6.0} ns with a timeout, {without:4.0} ns without");
    }

    account
        .stop(ExitReason::Normal, Some(Duration::from_secs(5)))
        .expect("the account stops");
    println!(
        "stopped; a call now fails with {:?}",
        account.call(Request::Balance).unwrap_err()
    );
}

/// A worker that crashes on bad input.
struct Flaky {
    calls: u64,
}

enum FlakyCall {
    Ping(ReplyTo<u64>),
    /// 100 / n: dividing by zero crashes the server.
    Divide(u64, ReplyTo<u64>),
}

#[gen_server]
impl GenServer for Flaky {
    fn init((): (), _ctx: &mut Ctx<'_, Self>) -> InitResult<Self> {
        Init::ok(Flaky { calls: 0 })
    }

    fn handle_call(&mut self, req: FlakyCall, _ctx: &mut Ctx<'_, Self>) -> Handled<Self> {
        self.calls += 1;
        match req {
            FlakyCall::Ping(r) => r.reply(self.calls),
            FlakyCall::Divide(n, r) => r.reply(100 / n),
        }
    }
}

/// A supervisor restarts a crashed child; its name keeps working.
fn supervision() {
    println!("\n== supervision");
    let rt = Runtime::new().expect("runtime");
    let sup = Supervisor::start_link(
        &rt,
        vec![Flaky::child_spec_opts(
            (),
            StartOptions::new().name("flaky"),
        )],
        SupervisorOptions::new().strategy(Strategy::OneForOne),
    )
    .expect("supervisor");
    let flaky = ServerRef::<Flaky>::named(&rt, "flaky");
    flaky.call(FlakyCall::Ping).unwrap();
    let before = flaky.pid().expect("flaky runs");
    println!(
        "flaky is {before}, answered 2 pings: {}",
        flaky.call(FlakyCall::Ping).unwrap()
    );
    let crash = flaky.call(|r| FlakyCall::Divide(0, r)).unwrap_err();
    println!("asked to divide by zero, the call failed with: {crash}");
    // The supervisor restarts it; the name finds the new incarnation.
    assert_eventually(Duration::from_secs(5), "flaky restarted", || {
        flaky.is_alive() && flaky.pid().is_some_and(|pid| pid != before)
    });
    println!(
        "restarted as {}, fresh state: {} ping so far",
        flaky.pid().expect("flaky runs"),
        flaky.call(FlakyCall::Ping).unwrap()
    );
    let counts = sup.count_children().unwrap();
    println!("the supervisor has {} active child", counts.active);
}
