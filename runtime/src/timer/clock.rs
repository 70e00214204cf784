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

/// Milliseconds, rounded up: a timer never fires early (rule 38). In 64-bit
/// arithmetic (every arm computes one; `as_nanos` is a `u128`, whose
/// division is a library call), saturating at `u64::MAX`.
pub(crate) fn ceil_ms(d: Duration) -> u64 {
    let sub_ms = d.subsec_nanos().div_ceil(1_000_000);
    d.as_secs()
        .saturating_mul(1000)
        .saturating_add(u64::from(sub_ms))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ceil_ms_rounds_up_and_saturates() {
        assert_eq!(ceil_ms(Duration::ZERO), 0);
        assert_eq!(ceil_ms(Duration::from_nanos(1)), 1);
        assert_eq!(ceil_ms(Duration::from_millis(7)), 7);
        assert_eq!(ceil_ms(Duration::new(2, 1_000_001)), 2002);
        assert_eq!(ceil_ms(Duration::new(2, 999_999_999)), 3000);
        assert_eq!(ceil_ms(Duration::MAX), u64::MAX);
        for ns in [0u64, 1, 999_999, 1_000_000, 1_000_001, 123_456_789_012] {
            let d = Duration::from_nanos(ns);
            assert_eq!(u128::from(ceil_ms(d)), d.as_nanos().div_ceil(1_000_000));
        }
    }
}
