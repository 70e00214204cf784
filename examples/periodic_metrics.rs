//! Periodic metrics: a collector samples a gauge every `interval` with a
//! `send_after` loop, keeps the last few samples, and can be paused.
//!
//! The gauge lives in an `Agent` (another process): the collector reads it
//! with a call from inside its own callback — a wait that holds up only the
//! collector, never the worker thread.
//!
//! ```elixir
//! def handle_info(:tick, state) do
//!   Process.send_after(self(), :tick, @interval)
//!   {:noreply, record(state, sample())}
//! end
//! ```
//!
//! Run with `cargo run --example periodic_metrics`.

use std::collections::VecDeque;
use std::time::Duration;

use rotp::gen_server::{
    start, Agent, CallResult, Caller, CastResult, Ctx, GenServer, Info, Init, InitResult, NoReply,
    Reply, ServerRef, StartOptions,
};
use rotp::runtime::{Runtime, TimerRef};

/// One measurement: when, the counter's value, and its rate since the
/// previous sample.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Sample {
    at: Duration,
    total: u64,
    per_second: f64,
}

struct Collector {
    requests: Agent<u64>,
    interval: Duration,
    keep: usize,
    samples: VecDeque<Sample>,
    /// The armed tick; `None` while paused.
    timer: Option<TimerRef>,
    /// Bumped whenever a tick is armed: a tick that was already on its way
    /// when the collector paused (or re-armed) carries an older number and
    /// is ignored, so pausing never leaves a second loop running.
    generation: u64,
}

struct Tick(u64);

enum Call {
    Samples,
}

enum Cast {
    Pause,
    Resume,
}

impl Collector {
    fn schedule(&mut self, ctx: &mut Ctx<'_, Self>) {
        self.generation += 1;
        self.timer = Some(ctx.send_after(self.interval, Tick(self.generation)));
    }

    fn sample(&mut self, now: Duration) {
        let total = self.requests.get(|n| *n).expect("the gauge is up");
        let per_second = match self.samples.back() {
            Some(prev) => (total - prev.total) as f64 / (now - prev.at).as_secs_f64(),
            None => 0.0,
        };
        if self.samples.len() == self.keep {
            self.samples.pop_front();
        }
        self.samples.push_back(Sample {
            at: now,
            total,
            per_second,
        });
    }
}

impl GenServer for Collector {
    type Args = (Agent<u64>, Duration, usize);
    type Call = Call;
    type Reply = Vec<Sample>;
    type Cast = Cast;
    type Info = Tick;
    type Continue = ();

    fn init((requests, interval, keep): Self::Args, ctx: &mut Ctx<'_, Self>) -> InitResult<Self> {
        let mut collector = Collector {
            requests,
            interval,
            keep,
            samples: VecDeque::new(),
            timer: None,
            generation: 0,
        };
        collector.schedule(ctx);
        Init::ok(collector)
    }

    fn handle_info(&mut self, info: Info<Tick>, ctx: &mut Ctx<'_, Self>) -> CastResult<Self> {
        if let Info::Msg(Tick(g)) = info {
            if g != self.generation || self.timer.is_none() {
                return NoReply::noreply(); // stale, or paused
            }
            // Re-arm first: the period does not stretch by the sampling time.
            self.schedule(ctx);
            self.sample(ctx.handle().now());
        }
        NoReply::noreply()
    }

    fn handle_cast(&mut self, request: Cast, ctx: &mut Ctx<'_, Self>) -> CastResult<Self> {
        match request {
            Cast::Pause => {
                if let Some(timer) = self.timer.take() {
                    ctx.cancel_timer(timer);
                }
            }
            Cast::Resume => {
                if self.timer.is_none() {
                    self.schedule(ctx);
                }
            }
        }
        NoReply::noreply()
    }

    fn handle_call(
        &mut self,
        Call::Samples: Call,
        _caller: &mut Caller<Vec<Sample>>,
        _ctx: &mut Ctx<'_, Self>,
    ) -> CallResult<Self> {
        Reply::reply(self.samples.iter().copied().collect())
    }
}

/// Lets `ticks` intervals pass on the virtual clock. Before each step a
/// call waits until the collector has handled everything sent so far (the
/// previous tick, a pause), so each sample is taken at its exact time.
fn tick(rt: &Runtime, collector: &ServerRef<Collector>, interval: Duration, ticks: u32) {
    for _ in 0..ticks {
        collector.call(Call::Samples).unwrap();
        rt.advance(interval);
    }
    collector.call(Call::Samples).unwrap();
}

pub(crate) fn run() {
    let rt = Runtime::builder()
        .workers(2)
        .virtual_clock()
        .build()
        .expect("runtime");
    let requests = Agent::start(&rt, || 0u64, StartOptions::new()).unwrap();
    let interval = Duration::from_secs(10);
    let collector =
        start::<Collector>(&rt, (requests.clone(), interval, 3), StartOptions::new()).unwrap();

    // 50 requests per 10 s, then a burst of 300.
    for load in [50, 50, 50, 300] {
        requests.update(move |n| n + load).unwrap();
        tick(&rt, &collector, interval, 1);
    }
    let samples = collector.call(Call::Samples).unwrap();
    // Only the last three are kept.
    let totals: Vec<u64> = samples.iter().map(|s| s.total).collect();
    assert_eq!(totals, [100, 150, 450]);
    assert_eq!(samples[1].per_second, 5.0);
    assert_eq!(samples[2].per_second, 30.0);
    println!("last samples: {samples:?}");

    // Paused: no samples for a minute; resumed: sampling goes on. (A cast
    // and a later call from the same client arrive in order: the call in
    // `tick` confirms the pause was handled before time moves.)
    collector.cast(Cast::Pause);
    tick(&rt, &collector, interval, 6);
    assert_eq!(collector.call(Call::Samples).unwrap(), samples);
    collector.cast(Cast::Resume);
    tick(&rt, &collector, interval, 1);
    let after = collector.call(Call::Samples).unwrap();
    assert_eq!(after.last().unwrap().at, Duration::from_secs(110));
    println!(
        "paused for 60 s, then resumed at {:?}",
        after.last().unwrap().at
    );

    rt.shutdown(Duration::from_secs(1)).expect("clean shutdown");
}

#[allow(dead_code)]
fn main() {
    run();
    println!("periodic_metrics: ok");
}
