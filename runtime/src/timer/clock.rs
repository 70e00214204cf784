//! The runtime clock: real, or virtual for tests.

use std::sync::atomic::{AtomicU64, Ordering::SeqCst};
use std::time::{Duration, Instant};

/// Which clock a runtime reads.
#[derive(Debug)]
pub(crate) enum Clock {
    /// The monotonic clock, counted from the runtime's start.
    Real(Instant),
    /// Time that moves only when told to (`Handle::advance`), or, with
    /// `auto_advance`, jumps to the next timer when every process is idle.
    Virtual {
        now_ns: AtomicU64,
        auto_advance: bool,
    },
}

impl Clock {
    /// Time since the runtime's start.
    pub(crate) fn now(&self) -> Duration {
        match self {
            Clock::Real(epoch) => epoch.elapsed(),
            Clock::Virtual { now_ns, .. } => Duration::from_nanos(now_ns.load(SeqCst)),
        }
    }

    pub(crate) fn is_virtual(&self) -> bool {
        matches!(self, Clock::Virtual { .. })
    }

    pub(crate) fn auto_advances(&self) -> bool {
        matches!(
            self,
            Clock::Virtual {
                auto_advance: true,
                ..
            }
        )
    }

    /// Moves virtual time forward to at least `to`; no-op on the real clock.
    pub(crate) fn advance_to(&self, to: Duration) {
        if let Clock::Virtual { now_ns, .. } = self {
            now_ns.fetch_max(to.as_nanos() as u64, SeqCst);
        }
    }
}

/// Milliseconds, rounded up: a timer never fires early (rule 38).
pub(crate) fn ceil_ms(d: Duration) -> u64 {
    let ns = d.as_nanos();
    ns.div_ceil(1_000_000).min(u128::from(u64::MAX)) as u64
}
