//! A short tour of rotp: processes, links and monitors, timers on a virtual
//! clock, a GenServer, and a supervision tree that restarts what crashes.
//!
//! Run with `cargo run --release --example tour`.

use std::sync::mpsc;
use std::time::Duration;

use rotp::prelude::*;
use rotp::runtime::testing::{virtual_runtime, Probe, Received};

fn main() {
    processes();
    exits_and_monitors();
    timers();
    gen_servers();
    supervision();
    println!("\ntour complete");
}

/// Lightweight processes: spawn, send, reply.
fn processes() {
    println!("== processes");
    let rt = Runtime::new().expect("runtime");
    let (tx, rx) = mpsc::channel();
    // A process is a state machine driven by its mailbox.
    let doubler = rt.spawn_fn(move |n: u64, _ctx| tx.send(n * 2).unwrap());
    for n in 1..=3 {
        doubler.send(n);
    }
    let answers: Vec<u64> = rx.iter().take(3).collect();
    println!("{} doubled 1, 2, 3 into {answers:?}", doubler.pid());

    // A hundred thousand processes are cheap.
    let before = rt.process_count();
    let procs: Vec<_> = (0..100_000)
        .map(|_| rt.spawn_fn(|_: (), ctx| ctx.exit(ExitReason::Normal)))
        .collect();
    println!("spawned {} processes", rt.process_count() - before);
    for p in &procs {
        p.send(());
    }
    rotp::runtime::testing::assert_eventually(Duration::from_secs(10), "all exited", || {
        rt.process_count() == before
    });
    println!("and they all exited");
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

/// Timers read the runtime clock; a virtual clock makes an hour pass at once.
fn timers() {
    println!("\n== timers on a virtual clock");
    let rt = virtual_runtime(1);
    let probe: Probe<&'static str> = Probe::spawn(&rt);
    rt.send_interval(probe.addr(), Duration::from_secs(600), "tick");
    rt.send_after(probe.addr(), Duration::from_secs(3600), "an hour later");
    rt.advance(Duration::from_secs(3600));
    let ticks: Vec<&str> = (0..6)
        .map(|_| probe.assert_message(Duration::from_secs(5)))
        .collect();
    let last = probe.assert_message(Duration::from_secs(5));
    println!(
        "virtual time {:?}: {} ticks, then {last:?}",
        rt.now(),
        ticks.len()
    );
}

/// A GenServer: the state is the struct, callbacks take `&mut self`.
struct Account {
    balance: i64,
}

enum Request {
    Balance,
    Withdraw(i64),
}

impl GenServer for Account {
    type Args = i64;
    type Call = Request;
    type Reply = Result<i64, String>;
    type Cast = i64;
    type Info = ();
    type Continue = ();

    fn init(opening: i64, _ctx: &mut Ctx<'_, Self>) -> InitResult<Self> {
        Init::ok(Account { balance: opening })
    }

    fn handle_call(
        &mut self,
        req: Request,
        _caller: &mut Caller<Self::Reply>,
        _ctx: &mut Ctx<'_, Self>,
    ) -> CallResult<Self> {
        match req {
            Request::Balance => Reply::reply(Ok(self.balance)),
            Request::Withdraw(n) if n > self.balance => {
                Reply::reply(Err(format!("insufficient funds: {}", self.balance)))
            }
            Request::Withdraw(n) => {
                self.balance -= n;
                Reply::reply(Ok(self.balance))
            }
        }
    }

    fn handle_cast(&mut self, deposit: i64, _ctx: &mut Ctx<'_, Self>) -> CastResult<Self> {
        self.balance += deposit;
        NoReply::noreply()
    }
}

fn gen_servers() {
    println!("\n== a GenServer");
    let rt = Runtime::new().expect("runtime");
    let account =
        gen_server::start::<Account>(&rt, 100, StartOptions::new().name("account")).unwrap();
    account.cast(50);
    println!(
        "balance after a deposit: {:?}",
        account.call(Request::Balance).unwrap()
    );
    println!(
        "withdraw 500: {:?}",
        account.call(Request::Withdraw(500)).unwrap()
    );
    // Reach it by name, from anywhere.
    let by_name = ServerRef::<Account>::named(&rt, "account");
    println!(
        "withdraw 30 by name: {:?}",
        by_name.call(Request::Withdraw(30)).unwrap()
    );
    account
        .stop(ExitReason::Normal, Some(Duration::from_secs(5)))
        .unwrap();
    println!(
        "stopped; a call now fails with {:?}",
        account.call(Request::Balance).unwrap_err()
    );
}

/// A worker that can be told to crash.
struct Flaky {
    calls: u64,
}

enum FlakyCall {
    Ping,
    Crash,
}

impl GenServer for Flaky {
    type Args = ();
    type Call = FlakyCall;
    type Reply = u64;
    type Cast = ();
    type Info = ();
    type Continue = ();

    fn init(_: (), _ctx: &mut Ctx<'_, Self>) -> InitResult<Self> {
        Init::ok(Flaky { calls: 0 })
    }

    fn handle_call(
        &mut self,
        req: FlakyCall,
        _caller: &mut Caller<u64>,
        _ctx: &mut Ctx<'_, Self>,
    ) -> CallResult<Self> {
        match req {
            FlakyCall::Ping => {
                self.calls += 1;
                Reply::reply(self.calls)
            }
            FlakyCall::Crash => panic!("asked to crash"),
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
    let before = flaky.pid();
    println!(
        "flaky is {before}, answered 2 pings: {}",
        flaky.call(FlakyCall::Ping).unwrap()
    );
    let crash = flaky.call(FlakyCall::Crash).unwrap_err();
    println!("asked to crash, the call failed with: {crash}");
    // The supervisor restarts it; the name finds the new incarnation.
    rotp::runtime::testing::assert_eventually(Duration::from_secs(5), "restarted", || {
        flaky.is_alive() && flaky.pid() != before
    });
    println!(
        "restarted as {}, fresh state: {} ping so far",
        flaky.pid(),
        flaky.call(FlakyCall::Ping).unwrap()
    );
    let counts = sup.count_children().unwrap();
    println!("the supervisor has {} active child", counts.active);
}
