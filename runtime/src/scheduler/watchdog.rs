//! The watchdog: notices a worker stuck in one slice and compensates.
//!
//! A handler cannot be interrupted. The watchdog samples every worker's
//! slice counter (odd while a slice runs) and handler counter (bumped after
//! each handler) twice per threshold; a worker whose slice counter is odd
//! and whose two counters are unchanged since the last sample has spent at
//! least one sampling period in the same handler. The watchdog then logs a
//! `long_schedule` warning naming the process and starts a cover (a spare
//! thread running the scheduler loop, see `blocking.rs`), so the processes
//! queued behind the stuck one keep running. It also takes the process in
//! the worker's LIFO slot — typically the one the stuck handler woke just
//! before it got stuck — and queues it where the cover runs it (`lifo.rs`);
//! it does that again on every sample while the worker stays stuck. The
//! worker ends the cover itself when the slice returns.
//!
//! The cost on the hot path is two plain stores per slice and one per
//! handler.

use std::sync::atomic::Ordering::{Acquire, Relaxed, SeqCst};
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::WorkerShared;
use crate::pid::Pid;
use crate::report::{Report, ReportKind};
use crate::runtime::Shared;
use crate::telemetry;

/// How often the watchdog samples each worker's utilisation for
/// [`telemetry::event::SCHEDULER_UTILISATION`].
pub(crate) const UTILISATION_INTERVAL: Duration = Duration::from_secs(1);

/// Takes the occupant of stuck worker `ws`'s LIFO slot, if the worker is
/// still in slice `sample`, and queues it in the injector.
///
/// `lifo.rs` rule 3: the steal happens under the state lock of the process
/// running the slice, and only if the slice counter still reads `sample`
/// there. The worker marks the slice over before its last acquisition of
/// that lock, so either this steal is done before the worker takes the slot
/// again, or it sees the new count and takes nothing.
fn steal_lifo(shared: &Shared, ws: &WorkerShared, sample: u64) {
    // Acquire (after the caller's acquire load of `sample`): the pid of
    // that slice or of a later one, whose count this check then sees.
    let pid = Pid::from_bits(ws.running.load(Acquire));
    let Some(process) = shared.table.get(pid) else {
        return;
    };
    let guard = process.header().state.lock();
    let stolen = if ws.slices.load(Acquire) == sample {
        ws.lifo.steal()
    } else {
        None
    };
    drop(guard);
    if let Some(task) = stolen {
        shared.scheduler.inject(task);
    }
}

/// Ends the watchdog's cover of `ws`, if any (called by the worker).
pub(crate) fn end_cover(ws: &WorkerShared) {
    ws.watchdog_flag.store(false, Relaxed);
    drop(ws.watchdog_cover.lock().take());
}

/// How often the watchdog samples, for a threshold.
pub(crate) fn period(threshold: Duration) -> Duration {
    (threshold / 2).max(Duration::from_millis(1))
}

/// The body of the watchdog thread.
pub(crate) fn main(shared: Arc<Shared>, threshold: Duration) {
    let period = period(threshold);
    let workers = shared.scheduler.workers.len();
    let mut last = vec![(0u64, 0u64); workers];
    let mut stuck_since: Vec<Option<Instant>> = vec![None; workers];
    let mut utilisation = Utilisation::new(&shared);
    let mut balancer = super::balance::Balancer::default();
    while !shared.scheduler.is_stopping() {
        shared.watchdog_parker.park_timeout(period);
        shared.timers.refresh_coarse();
        utilisation.sample(&shared);
        balancer.sample(&shared);
        for (i, ws) in shared.scheduler.workers.iter().enumerate() {
            let sample = ws.slices.load(Acquire);
            let ticks = ws.ticks.load(Relaxed);
            let in_slice = sample % 2 == 1;
            // Stuck means: inside the same slice *and* the same handler.
            if !in_slice || (sample, ticks) != last[i] {
                last[i] = (sample, ticks);
                stuck_since[i] = in_slice.then(Instant::now);
                if in_slice {
                    *ws.seen.lock() = (sample, Instant::now());
                }
                continue;
            }
            let since = *stuck_since[i].get_or_insert_with(Instant::now);
            if ws.watchdog_flag.load(Relaxed) {
                // Still stuck, and covered: whatever the handler woke since
                // the last sample is in the LIFO slot again.
                steal_lifo(&shared, ws, sample);
                continue;
            }
            if since.elapsed() + period < threshold {
                continue;
            }
            let pid = Pid::from_bits(ws.running.load(Relaxed));
            let name = shared.registry.name_of(pid);
            let named = match &name {
                Some(name) => format!("{pid} ({name})"),
                None => pid.to_string(),
            };
            Report::warn(
                ReportKind::LongSchedule,
                format_args!(
                    "long_schedule: process {named} has run one handler for over {threshold:?} \
                     on worker {i}; a spare thread takes over the worker's queue"
                ),
            )
            .pid(pid)
            .name(name)
            .count("worker", i as u64)
            .count("threshold_ms", threshold.as_millis() as u64)
            .emit();
            if telemetry::enabled(telemetry::family::SCHEDULER) {
                telemetry::emit::long_schedule(pid, i, since.elapsed() + period);
            }
            shared.stats.long_schedules.fetch_add(1, Relaxed);
            if let Some(guard) = super::blocking::cover(&shared, Some(i), true) {
                *ws.watchdog_cover.lock() = Some(guard);
                ws.watchdog_flag.store(true, SeqCst);
                // The slice may have ended while we set up the cover.
                if ws.slices.load(SeqCst) != sample || ws.ticks.load(SeqCst) != ticks {
                    end_cover(ws);
                    continue;
                }
            }
            steal_lifo(&shared, ws, sample);
        }
    }
}

/// The previous utilisation sample of every worker: (uptime, busy, handled).
struct Utilisation {
    at: Duration,
    last: Vec<(Duration, u64)>,
}

impl Utilisation {
    fn new(shared: &Shared) -> Self {
        let at = shared.started.elapsed();
        let last = shared
            .scheduler
            .workers
            .iter()
            .map(|ws| (ws.busy(at), ws.ticks.load(Relaxed)))
            .collect();
        Utilisation { at, last }
    }

    /// Once per [`UTILISATION_INTERVAL`], emits every worker's utilisation
    /// since the previous sample (if anyone listens).
    fn sample(&mut self, shared: &Shared) {
        let now = shared.started.elapsed();
        let interval = now.saturating_sub(self.at);
        if interval < UTILISATION_INTERVAL {
            return;
        }
        let emit = telemetry::enabled(telemetry::family::SCHEDULER);
        for (i, ws) in shared.scheduler.workers.iter().enumerate() {
            let busy = ws.busy(now);
            let ticks = ws.ticks.load(Relaxed);
            let (last_busy, last_ticks) = self.last[i];
            if emit {
                telemetry::emit::utilisation(
                    i,
                    busy.saturating_sub(last_busy).min(interval),
                    interval,
                    ticks.wrapping_sub(last_ticks),
                );
            }
            self.last[i] = (busy, ticks);
        }
        self.at = now;
    }
}
