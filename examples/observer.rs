//! The observer page on a small supervised system under changing load.
//!
//! ```text
//! app (supervisor, one_for_one)
//!  ├─ counter   a GenServer counting finished jobs
//!  ├─ flaky     a process that crashes every so often (watch its restarts)
//!  └─ workers   a DynamicSupervisor with four workers hashing on demand
//! ```
//!
//! The load rises and falls over twenty seconds, so the scheduler charts
//! move. The first line printed is the page's address; open it in a
//! browser. Runs until stopped, or for the number of seconds given as the
//! first argument:
//!
//! ```sh
//! cargo run --release --features observer --example observer        # until Ctrl-C
//! cargo run --release --features observer --example observer -- 30  # 30 seconds
//! ```

use std::io::Write;
use std::time::{Duration, Instant};

use rotp::observer::{Observer, ObserverOptions};
use rotp::prelude::*;
use rotp::runtime::{Context, Process};

/// Counts the jobs the workers finished.
struct Counter {
    done: u64,
}

/// The one call: how many jobs are done.
struct Done(ReplyTo<u64>);

#[gen_server]
impl GenServer for Counter {
    fn init((): (), _ctx: &mut Ctx<'_, Self>) -> InitResult<Self> {
        Init::ok(Counter { done: 0 })
    }

    fn handle_call(&mut self, Done(r): Done, _ctx: &mut Ctx<'_, Self>) -> Handled<Self> {
        r.reply(self.done)
    }

    fn handle_cast(&mut self, n: u64, _ctx: &mut Ctx<'_, Self>) -> Handled<Self> {
        self.done += n;
        noreply()
    }

    fn format_status(&self) -> String {
        format!("done = {}", self.done)
    }
}

/// Hashes for a while per job, then tells the counter.
struct Worker {
    jobs: u64,
}

impl Process for Worker {
    type Message = u32;

    fn handle(&mut self, rounds: u32, ctx: &mut Context<'_, u32>) {
        let mut h = self.jobs;
        for i in 0..u64::from(rounds) * 2_000 {
            h = h.wrapping_mul(0x9E37_79B9_7F4A_7C15).wrapping_add(i);
        }
        std::hint::black_box(h);
        self.jobs += 1;
        ServerRef::<Counter>::named(&ctx.handle(), "counter").cast(1);
    }
}

/// Crashes on every 40th message; its supervisor restarts it.
struct Flaky {
    seen: u32,
}

impl Process for Flaky {
    type Message = ();

    fn init(&mut self, ctx: &mut Context<'_, ()>) {
        let _ = ctx.register("flaky");
    }

    fn handle(&mut self, (): (), _ctx: &mut Context<'_, ()>) {
        self.seen += 1;
        assert!(self.seen < 40, "flaky gave up after {} messages", self.seen);
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let run_for = std::env::args()
        .nth(1)
        .map(|s| s.parse::<f64>().map(Duration::from_secs_f64))
        .transpose()?;
    let rt = Runtime::builder().workers(2).build()?;
    let app = Supervisor::start_link(
        &rt,
        vec![
            Counter::child_spec_opts((), StartOptions::new().name("counter")),
            ChildSpec::process("flaky", || Flaky { seen: 0 }),
            DynamicSupervisor::<()>::child_spec(DynamicSupervisorOptions::new().name("workers")),
        ],
        SupervisorOptions::new()
            .name("app")
            .max_restarts(1_000)
            .max_seconds(5),
    )?;
    let workers =
        DynamicSupervisor::<()>::whereis(&rt, "workers").ok_or("no workers supervisor")?;
    let mut pool = Vec::new();
    for _ in 0..4 {
        if let Some(pid) =
            workers.start_child(ChildSpec::process("worker", || Worker { jobs: 0 }))?
        {
            pool.push(pid);
        }
    }

    let observer = Observer::start(&rt, ObserverOptions::new())?;
    println!("{}", observer.url());
    std::io::stdout().flush()?;
    eprintln!("serving the observer page; stop with Ctrl-C");

    let started = Instant::now();
    let mut tick = 0u64;
    while run_for.is_none_or(|d| started.elapsed() < d) {
        // Load between 5% and 95% of its peak, over a 20 s period.
        let phase = started.elapsed().as_secs_f64() * std::f64::consts::TAU / 20.0;
        let level = 0.5 + 0.45 * phase.sin();
        let jobs = (level * 60.0) as u32;
        for j in 0..jobs {
            let pid = pool[(j as usize) % pool.len()];
            if let Some(addr) = rt.addr_of::<u32>(pid) {
                addr.send(20);
            }
        }
        if let Some(flaky) = rt.whereis_addr::<()>("flaky") {
            flaky.send(());
        }
        tick += 1;
        std::thread::sleep(Duration::from_millis(50));
    }
    let done = ServerRef::<Counter>::named(&rt, "counter").call(Done)?;
    eprintln!("{tick} ticks, {done} jobs done");
    drop(observer);
    drop(app);
    rt.shutdown(Duration::from_secs(5))?;
    Ok(())
}
