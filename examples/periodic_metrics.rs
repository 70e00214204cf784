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

use rotp::prelude::*;
use rotp::runtime::TimerRef;

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

/// The samples kept, oldest first.
struct Samples(ReplyTo<Vec<Sample>>);

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

#[gen_server]
impl GenServer for Collector {
    fn init(
        (requests, interval, keep): (Agent<u64>, Duration, usize),
        ctx: &mut Ctx<'_, Self>,
    ) -> InitResult<Self> {
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

    fn handle_info(&mut self, info: Info<Tick>, ctx: &mut Ctx<'_, Self>) -> Handled<Self> {
        if let Info::Msg(Tick(g)) = info {
            if g != self.generation || self.timer.is_none() {
                return noreply(); // stale, or paused
            }
            // Re-arm first: the period does not stretch by the sampling time.
            self.schedule(ctx);
            self.sample(ctx.handle().now());
        }
        noreply()
    }

    fn handle_cast(&mut self, request: Cast, ctx: &mut Ctx<'_, Self>) -> Handled<Self> {
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
        noreply()
    }

    fn handle_call(&mut self, Samples(r): Samples, _ctx: &mut Ctx<'_, Self>) -> Handled<Self> {
        r.reply(self.samples.iter().copied().collect())
    }
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
        gen_server::start::<Collector>(&rt, (requests.clone(), interval, 3), StartOptions::new())
            .expect("the collector starts");

    // 50 requests per 10 s, then a burst of 300.
    for load in [50, 50, 50, 300] {
        requests.update(move |n| n + load).unwrap();
        rt.advance(interval);
    }
    let samples = collector.call(Samples).unwrap();
    // Only the last three are kept.
    let totals: Vec<u64> = samples.iter().map(|s| s.total).collect();
    assert_eq!(totals, [100, 150, 450]);
    assert_eq!(samples[1].per_second, 5.0);
    assert_eq!(samples[2].per_second, 30.0);
    println!("last samples: {samples:?}");

    // Paused: no samples for a minute; resumed: sampling goes on. (`advance`
    // first lets the collector handle what it was sent, so the pause is in
    // effect before time moves.)
    collector.cast(Cast::Pause);
    rt.advance(6 * interval);
    assert_eq!(collector.call(Samples).unwrap(), samples);
    collector.cast(Cast::Resume);
    rt.advance(interval);
    let after = collector.call(Samples).unwrap();
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
