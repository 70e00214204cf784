//! Restart intensity: a sliding window of recent automatic restarts (spec
//! rules 134-137).
//!
//! Each automatic restart, retries included, records the runtime clock's
//! time. Entries older than the period are dropped; if more than
//! `max_restarts` remain (counting the new one), the supervisor gives up.
//! Like OTP and Elixir the window is inclusive: a restart exactly `period`
//! ago still counts. Unlike OTP, times are not rounded to whole seconds
//! (adaptation R7), so `max_seconds(5)` means five seconds to the
//! nanosecond on the runtime clock — the virtual clock in tests.

use std::collections::VecDeque;
use std::time::Duration;

use crate::flags::Intensity;

/// Whether a restart may go ahead.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[must_use]
pub(crate) enum Admit {
    /// Within the intensity: restart.
    Restart,
    /// Over the intensity: give up (rule 135).
    GiveUp,
}

/// The recent restarts of one supervisor.
#[derive(Debug)]
pub(crate) struct RestartWindow {
    intensity: Intensity,
    /// Times of the restarts still inside the window, oldest first.
    restarts: VecDeque<Duration>,
}

impl RestartWindow {
    pub(crate) fn new(intensity: Intensity) -> Self {
        RestartWindow {
            intensity,
            restarts: VecDeque::new(),
        }
    }

    /// The intensity this window enforces.
    pub(crate) fn intensity(&self) -> Intensity {
        self.intensity
    }

    /// The restarts still inside the window at `now`. The times are in
    /// order, so a binary search finds the first one inside: a supervisor
    /// that allows many restarts (and reports the count at each) does not
    /// pay for each one it remembers.
    pub(crate) fn recent(&self, now: Duration) -> usize {
        let period = self.intensity.period;
        let outside = self
            .restarts
            .partition_point(|&then| then.saturating_add(period) < now);
        self.restarts.len() - outside
    }

    /// Records a restart at `now` (runtime clock) and says whether it is
    /// within the intensity.
    pub(crate) fn add(&mut self, now: Duration) -> Admit {
        while let Some(&then) = self.restarts.front() {
            if then + self.intensity.period < now {
                self.restarts.pop_front();
            } else {
                break;
            }
        }
        self.restarts.push_back(now);
        if self.restarts.len() > self.intensity.max_restarts as usize {
            Admit::GiveUp
        } else {
            Admit::Restart
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn window(max_restarts: u32, secs: u64) -> RestartWindow {
        RestartWindow::new(Intensity {
            max_restarts,
            period: Duration::from_secs(secs),
        })
    }

    fn at(ms: u64) -> Duration {
        Duration::from_millis(ms)
    }

    #[test]
    fn elixir_default_gives_up_on_the_fourth_restart_rule_136() {
        let mut w = window(3, 5);
        assert_eq!(w.add(at(0)), Admit::Restart);
        assert_eq!(w.add(at(1000)), Admit::Restart);
        assert_eq!(w.add(at(2000)), Admit::Restart);
        assert_eq!(w.add(at(3000)), Admit::GiveUp);
    }

    #[test]
    fn intensity_zero_gives_up_at_once_rule_136() {
        assert_eq!(window(0, 5).add(at(0)), Admit::GiveUp);
    }

    #[test]
    fn restarts_spaced_beyond_the_period_never_accumulate_rule_136() {
        let mut w = window(1, 1);
        for i in 0..10 {
            assert_eq!(w.add(at(i * 1100)), Admit::Restart);
        }
    }

    #[test]
    fn the_window_slides_rule_134() {
        let mut w = window(2, 5);
        assert_eq!(w.add(at(0)), Admit::Restart);
        assert_eq!(w.add(at(4000)), Admit::Restart);
        // t=0 has left the window at 5.001 s: two in the window again.
        assert_eq!(w.add(at(5001)), Admit::Restart);
        // 4000 and 5001 are still inside at 8 s: a third one is too many.
        assert_eq!(w.add(at(8000)), Admit::GiveUp);
    }

    #[test]
    fn recent_counts_the_restarts_inside_the_window() {
        let mut w = window(10, 1);
        for ms in [0, 500, 1000] {
            assert_eq!(w.add(at(ms)), Admit::Restart);
        }
        // Inclusive at the edge: 0 + 1 s is not before 1 s.
        assert_eq!(w.recent(at(1000)), 3);
        assert_eq!(w.recent(at(1200)), 2);
        assert_eq!(w.recent(at(1999)), 1);
        assert_eq!(w.recent(at(2001)), 0);
    }

    #[test]
    fn the_window_is_inclusive_rule_134() {
        let mut w = window(1, 5);
        assert_eq!(w.add(at(0)), Admit::Restart);
        assert_eq!(w.add(at(5000)), Admit::GiveUp);
    }
}
