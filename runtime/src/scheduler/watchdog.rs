//! The watchdog: notices a worker stuck in one slice and compensates.
//!
//! A handler cannot be interrupted. The watchdog samples every worker's
//! slice counter (odd while a slice runs) and handler counter (bumped after
//! each handler) twice per threshold; a worker whose slice counter is odd
//! and whose two counters are unchanged since the last sample has spent at
//! least one sampling period in the same handler. The watchdog then logs a
//! `long_schedule` warning naming the process and starts a cover (a spare
//! thread running the scheduler loop, see `blocking.rs`), so the processes
//! queued behind the stuck one keep running. The worker ends the cover
//! itself when the slice returns.
//!
//! The cost on the hot path is two plain stores per slice and one per
//! handler.

use std::sync::atomic::Ordering::{Relaxed, SeqCst};
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::WorkerShared;
use crate::pid::Pid;
use crate::report::{Report, ReportKind};
use crate::runtime::Shared;

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
    while !shared.scheduler.is_stopping() {
        shared.watchdog_parker.park_timeout(period);
        shared.timers.refresh_coarse();
        for (i, ws) in shared.scheduler.workers.iter().enumerate() {
            let sample = ws.slices.load(Relaxed);
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
            if ws.watchdog_flag.load(Relaxed) || since.elapsed() + period < threshold {
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
            shared.stats.long_schedules.fetch_add(1, Relaxed);
            if let Some(guard) = super::blocking::cover(&shared, Some(i), true) {
                *ws.watchdog_cover.lock() = Some(guard);
                ws.watchdog_flag.store(true, SeqCst);
                // The slice may have ended while we set up the cover.
                if ws.slices.load(SeqCst) != sample || ws.ticks.load(SeqCst) != ticks {
                    end_cover(ws);
                }
            }
        }
    }
}
