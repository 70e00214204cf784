//! The scheduler history behind the charts: once per interval, each
//! worker's utilisation and message rate, from the runtime's statistics.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rotp_runtime::{Handle, RuntimeStats};

/// One point of every chart.
#[derive(Debug, Clone)]
pub(crate) struct Sample {
    /// Seconds since the observer started.
    pub(crate) at: f64,
    /// Per worker: the share of the interval it was not parked, 0 to 1.
    pub(crate) utilisation: Vec<f64>,
    /// Per worker: mailbox entries handled per second.
    pub(crate) rates: Vec<f64>,
    /// Processes alive.
    pub(crate) processes: usize,
}

/// The last `keep` samples.
#[derive(Debug)]
pub(crate) struct History {
    pub(crate) samples: VecDeque<Sample>,
    pub(crate) interval: Duration,
    /// How many samples are kept: the charts' span is `interval * keep`.
    pub(crate) keep: usize,
}

impl History {
    fn push(&mut self, s: Sample) {
        if self.samples.len() == self.keep {
            self.samples.pop_front();
        }
        self.samples.push_back(s);
    }
}

/// The sampling thread's state between two samples.
struct Previous {
    at: Instant,
    stats: RuntimeStats,
}

/// Samples `handle` every `interval` into a history of `span`, until
/// `stop` is set.
pub(crate) fn start(
    handle: Handle,
    interval: Duration,
    span: Duration,
    stop: Arc<AtomicBool>,
) -> std::io::Result<(Arc<Mutex<History>>, std::thread::JoinHandle<()>)> {
    let keep = (span.as_secs_f64() / interval.as_secs_f64())
        .ceil()
        .max(2.0) as usize;
    let history = Arc::new(Mutex::new(History {
        samples: VecDeque::with_capacity(keep),
        interval,
        keep,
    }));
    let h = history.clone();
    let origin = Instant::now();
    let thread = std::thread::Builder::new()
        .name("rotp-observer-sampler".into())
        .spawn(move || {
            let mut prev = Previous {
                at: Instant::now(),
                stats: handle.stats(),
            };
            // A first point at once, so a page opened right away has a
            // chart; then one per interval.
            let mut next = Instant::now() + interval / 4;
            while !stop.load(Ordering::Relaxed) {
                let now = Instant::now();
                if now < next {
                    std::thread::sleep((next - now).min(Duration::from_millis(50)));
                    continue;
                }
                next = now + interval;
                let stats = handle.stats();
                let sample = sample(&prev, &stats, now, origin);
                prev = Previous { at: now, stats };
                h.lock().unwrap_or_else(|e| e.into_inner()).push(sample);
            }
        })?;
    Ok((history, thread))
}

fn sample(prev: &Previous, stats: &RuntimeStats, now: Instant, origin: Instant) -> Sample {
    let dt = now.saturating_duration_since(prev.at).as_secs_f64();
    let per_worker = stats.workers.iter().zip(prev.stats.workers.iter());
    let (utilisation, rates) = if dt > 0.0 {
        per_worker
            .map(|(w, p)| {
                let busy = w.busy.saturating_sub(p.busy).as_secs_f64();
                let handled = w.handled.saturating_sub(p.handled) as f64;
                ((busy / dt).clamp(0.0, 1.0), handled / dt)
            })
            .unzip()
    } else {
        (
            vec![0.0; stats.workers.len()],
            vec![0.0; stats.workers.len()],
        )
    };
    Sample {
        at: now.saturating_duration_since(origin).as_secs_f64(),
        utilisation,
        rates,
        processes: stats.processes,
    }
}
