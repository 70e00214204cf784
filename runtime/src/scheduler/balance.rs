//! Balancing busy workers: the watchdog moves queued processes from a
//! worker with many waiting to a busy worker with none.
//!
//! Work stealing evens out the load only when a worker runs out: a worker
//! with something to run never looks at the others' queues. So once every
//! worker is busy, the placement they happened to settle into stays. A
//! worker running one process that keeps itself busy (a table's writer, a
//! producer re-sending itself work) has a whole CPU for it, while another
//! shares its CPU among every other runnable process, however many — BEAM
//! evens such loads out by migrating processes between run queues, and so
//! does this.
//!
//! On every watchdog sample (every half `Builder::watchdog_threshold`) the
//! balancer reads each worker's load: the processes queued in its deque,
//! plus one if it is inside a slice. When the most loaded worker has at
//! least two more than the least loaded *busy* worker (inside a slice, not
//! blocked, not stuck) — on two samples in a row for a gap of two, on one
//! for a larger gap — it steals half the difference from the front of the
//! donor's deque (the processes that have waited longest) into the
//! recipient's *inbox*. Nothing moves while some worker is idle: that
//! worker steals for itself.
//!
//! The inbox is a queue of the recipient's own, which the recipient looks
//! at with the injector (every 16th tick, and after a slice that spent its
//! budget): the hot path pays nothing else.
//! Moving a process to the shared injector instead would let the donor take
//! it straight back. Every worker and spare searching for work looks at the
//! inboxes too, and the balancer wakes a sleeper as the injector's producers
//! do, so a process in an inbox is never stranded, even if its recipient
//! goes idle or blocks after the move.
//!
//! Why these numbers: a worker's load read at one instant is noisy
//! (between slices a busy worker looks idle), so the smallest gap must
//! show twice; and moving half the gap leaves a gap of at most one, which
//! never triggers a move back, so balanced loads never oscillate.

use crossbeam_deque::Steal;
use std::sync::atomic::Ordering::Relaxed;

use crate::runtime::Shared;

/// The most processes one sample moves.
const MAX_MOVE: usize = 16;

/// What the balancer remembers between samples: the imbalance it saw last,
/// as (donor, recipient).
#[derive(Default)]
pub(crate) struct Balancer {
    seen: Option<(usize, usize)>,
}

impl Balancer {
    /// One look at the workers' loads, moving processes if the imbalance
    /// is large, or was there on the previous look too.
    pub(crate) fn sample(&mut self, shared: &Shared) {
        let imbalance = find_imbalance(shared);
        let seen = std::mem::replace(&mut self.seen, imbalance.map(|(d, r, _)| (d, r)));
        let Some((donor, recipient, gap)) = imbalance else {
            return;
        };
        if gap < 3 && seen != Some((donor, recipient)) {
            return;
        }
        self.seen = None;
        let sched = &shared.scheduler;
        let from = &sched.workers[donor];
        let to = &sched.workers[recipient];
        let mut moved = 0;
        while moved < (gap / 2).min(MAX_MOVE) {
            match from.stealer.steal() {
                Steal::Success(task) => {
                    to.inbox.push(task);
                    moved += 1;
                }
                Steal::Retry => continue,
                Steal::Empty => break,
            }
        }
        if moved > 0 {
            to.stats.balanced.fetch_add(moved as u64, Relaxed);
            // As for the injector: if the recipient went to sleep since the
            // look above, someone must wake up to take them.
            sched.idle.notify_one();
        }
    }
}

/// The worker with the highest load that has processes queued, the busy
/// worker with the lowest, and the difference between their loads, if it
/// is at least two and no worker is idle.
fn find_imbalance(shared: &Shared) -> Option<(usize, usize, usize)> {
    let workers = &shared.scheduler.workers;
    if workers.len() < 2 {
        return None;
    }
    let mut donor: Option<(usize, usize)> = None;
    let mut recipient: Option<(usize, usize)> = None;
    for (i, ws) in workers.iter().enumerate() {
        let queued = ws.stealer.len();
        let in_slice = ws.slices.load(Relaxed) % 2 == 1;
        if !in_slice && queued == 0 {
            return None; // idle: it steals for itself
        }
        let load = queued + usize::from(in_slice);
        if queued > 0 && donor.is_none_or(|(_, l)| load > l) {
            donor = Some((i, load));
        }
        let busy = in_slice
            && !ws.stalled.load(Relaxed)
            && !ws.watchdog_flag.load(Relaxed)
            && ws.inbox.is_empty();
        if busy && recipient.is_none_or(|(_, l)| load < l) {
            recipient = Some((i, load));
        }
    }
    let ((d, dl), (r, rl)) = (donor?, recipient?);
    (d != r && dl >= rl + 2).then_some((d, r, dl - rl))
}
