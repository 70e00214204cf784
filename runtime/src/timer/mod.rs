//! Timers: `send_after`, `send_interval`, `cancel_timer`, `read_timer`
//! (rules 38-45, adaptation R11), on the runtime clock.
//!
//! One [`Wheel`](wheel) holds every timer of a runtime. A timer's action
//! is an ordinary send into a mailbox, so a timer message is ordered like any
//! other message. With the real clock a timer thread sleeps until the next
//! deadline; with the virtual clock there is no thread: `Handle::advance`
//! fires what is due on the caller's thread, and auto-advance fires the next
//! deadline when the last worker goes idle.

pub(crate) mod clock;
mod wheel;

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use parking_lot::{Condvar, Mutex};

use self::clock::{ceil_ms, Clock};
use self::wheel::{Key, Wheel};
use crate::pid::Pid;

/// The start of a measured wait; see [`Timers::mark`].
#[derive(Debug, Clone, Copy)]
pub(crate) enum Mark {
    Precise(Duration),
    Coarse(u64, Duration),
}

/// A reference to a timer, returned by `send_after` and `send_interval`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TimerRef(u64);

/// What a timer does when it fires.
enum Action {
    /// Deliver once.
    Once(Box<dyn FnOnce() + Send>),
    /// Deliver every `period_ms`; the callback returns false once its
    /// target is gone, which ends the interval (rule 45).
    Interval {
        period_ms: u64,
        tick: Arc<dyn Fn() -> bool + Send + Sync>,
    },
}

struct Timer {
    /// The process the timer is tied to: when it is dead the timer counts as
    /// cancelled (rule 39).
    target: Option<Pid>,
    action: Action,
}

pub(crate) struct Timers {
    pub(crate) clock: Clock,
    /// A coarse reading of the real clock in milliseconds, refreshed by the
    /// watchdog every `coarse_period`: lets the hot path of a call measure a
    /// long timeout without a clock read.
    coarse_ms: AtomicU64,
    coarse_period: Option<Duration>,
    wheel: Mutex<Wheel<Timer>>,
    /// The timers aimed at each pid, so that they die with it (rule 39).
    by_target: Mutex<HashMap<Pid, Vec<Key>>>,
    /// Wakes the real-clock timer thread when an earlier deadline arrives.
    wakeup: Condvar,
    /// The deadline (ms) the timer thread sleeps until; `u64::MAX` when it
    /// sleeps with nothing armed. Written under the wheel's lock.
    sleep_until: AtomicU64,
}

impl Timers {
    pub(crate) fn new(clock: Clock, coarse_period: Option<Duration>) -> Self {
        let coarse_period = coarse_period.filter(|_| !clock.is_virtual());
        Timers {
            clock,
            coarse_ms: AtomicU64::new(0),
            coarse_period,
            wheel: Mutex::new(Wheel::new()),
            by_target: Mutex::new(HashMap::new()),
            wakeup: Condvar::new(),
            sleep_until: AtomicU64::new(u64::MAX),
        }
    }

    pub(crate) fn now(&self) -> Duration {
        self.clock.now()
    }

    /// Refreshes the coarse clock (the watchdog calls this every period).
    pub(crate) fn refresh_coarse(&self) {
        self.coarse_ms
            .store(self.now().as_millis() as u64, Ordering::Relaxed);
    }

    /// Starts measuring a wait of `timeout`: coarsely (no clock read) when
    /// the timeout is long next to the coarse clock's period.
    pub(crate) fn mark(&self, timeout: Duration) -> Mark {
        match self.coarse_period {
            Some(period) if timeout >= period * 4 => {
                Mark::Coarse(self.coarse_ms.load(Ordering::Relaxed), period)
            }
            _ => Mark::Precise(self.now()),
        }
    }

    /// Whether `timeout` has certainly elapsed since `mark` (never early).
    pub(crate) fn expired(&self, mark: Mark, timeout: Duration) -> bool {
        self.left(mark, timeout).is_zero()
    }

    /// How much of `timeout` is certainly left since `mark`.
    pub(crate) fn left(&self, mark: Mark, timeout: Duration) -> Duration {
        match mark {
            Mark::Precise(start) => timeout.saturating_sub(self.now().saturating_sub(start)),
            Mark::Coarse(start_ms, period) => {
                let elapsed = Duration::from_millis(
                    self.coarse_ms
                        .load(Ordering::Relaxed)
                        .saturating_sub(start_ms),
                );
                // The coarse reading lags by up to a period: count only
                // what has surely passed.
                timeout.saturating_sub(elapsed.saturating_sub(period))
            }
        }
    }

    fn arm(&self, delay: Duration, target: Option<Pid>, action: Action) -> TimerRef {
        let deadline = ceil_ms(self.now() + delay);
        let mut wheel = self.wheel.lock();
        let earliest = wheel.next_deadline().is_none_or(|next| deadline < next);
        let key = wheel.insert(deadline, Timer { target, action });
        drop(wheel);
        if let Some(pid) = target {
            self.by_target.lock().entry(pid).or_default().push(key);
        }
        if earliest {
            self.wakeup.notify_one();
        }
        TimerRef(key.to_bits())
    }

    pub(crate) fn send_after(
        &self,
        delay: Duration,
        target: Option<Pid>,
        deliver: Box<dyn FnOnce() + Send>,
    ) -> TimerRef {
        self.arm(delay, target, Action::Once(deliver))
    }

    pub(crate) fn send_interval(
        &self,
        period: Duration,
        target: Option<Pid>,
        tick: Arc<dyn Fn() -> bool + Send + Sync>,
    ) -> TimerRef {
        let period_ms = ceil_ms(period).max(1);
        self.arm(period, target, Action::Interval { period_ms, tick })
    }

    /// Time left on a live timer whose target is alive.
    pub(crate) fn read(&self, tref: TimerRef, alive: impl Fn(Pid) -> bool) -> Option<Duration> {
        let key = Key::from_bits(tref.0);
        let wheel = self.wheel.lock();
        let timer = wheel.value(key)?;
        if timer.target.is_some_and(|pid| !alive(pid)) {
            return None;
        }
        let deadline = wheel.deadline(key)?;
        Some(Duration::from_millis(deadline).saturating_sub(self.now()))
    }

    /// Cancels a timer; the time it had left, or `None` if it had fired, was
    /// cancelled, or its target is dead (rule 40).
    pub(crate) fn cancel(&self, tref: TimerRef, alive: impl Fn(Pid) -> bool) -> Option<Duration> {
        let key = Key::from_bits(tref.0);
        let removed = self.wheel.lock().remove(key);
        let (deadline, timer) = removed?;
        self.forget(timer.target, key);
        if timer.target.is_some_and(|pid| !alive(pid)) {
            return None;
        }
        Some(Duration::from_millis(deadline).saturating_sub(self.now()))
    }

    /// Drops `key` from its target's index.
    fn forget(&self, target: Option<Pid>, key: Key) {
        let Some(pid) = target else {
            return;
        };
        // The entry stays (emptied) until the process exits: a process that
        // sets timers usually sets more, and re-allocating it each time
        // showed up in the arm+cancel benchmark.
        if let Some(keys) = self.by_target.lock().get_mut(&pid) {
            keys.retain(|k| *k != key);
        }
    }

    /// Cancels every timer aimed at `pid`, which has exited (rule 39).
    pub(crate) fn cancel_all_for(&self, pid: Pid) {
        let keys = self.by_target.lock().remove(&pid).unwrap_or_default();
        if keys.is_empty() {
            return;
        }
        // Drop the actions (they hold messages) outside the lock.
        let removed: Vec<_> = {
            let mut wheel = self.wheel.lock();
            keys.into_iter().filter_map(|k| wheel.remove(k)).collect()
        };
        drop(removed);
    }

    /// Fires everything due at the current clock reading. Actions run
    /// outside the wheel's lock. Returns how many fired.
    pub(crate) fn fire_due(&self) -> usize {
        let now_ms = self.now().as_millis() as u64;
        let mut due = Vec::new();
        let mut actions = Vec::new();
        let mut done = Vec::new();
        {
            let mut wheel = self.wheel.lock();
            wheel.advance(now_ms, &mut due);
            for (key, deadline) in due.drain(..) {
                let interval = match wheel.value(key).map(|t| &t.action) {
                    Some(Action::Interval { period_ms, tick }) => Some((*period_ms, tick.clone())),
                    Some(Action::Once(_)) => None,
                    None => continue,
                };
                match interval {
                    Some((period, tick)) => {
                        // Anchored to absolute deadlines (rule 44): a late
                        // tick does not shift the ones after it.
                        wheel.refile_due(key, deadline + period);
                        actions.push((Some(key), FireAction::Tick(tick)));
                    }
                    None => {
                        if let Some(Timer {
                            action: Action::Once(f),
                            target,
                        }) = wheel.take_due(key)
                        {
                            actions.push((None, FireAction::Once(f)));
                            done.push((target, key));
                        }
                    }
                }
            }
        }
        for (target, key) in done {
            self.forget(target, key);
        }
        let fired = actions.len();
        for (key, action) in actions {
            match action {
                FireAction::Once(f) => f(),
                FireAction::Tick(tick) => {
                    if !tick() {
                        if let Some(key) = key {
                            let removed = self.wheel.lock().remove(key);
                            if let Some((_, timer)) = removed {
                                self.forget(timer.target, key);
                            }
                        }
                    }
                }
            }
        }
        fired
    }

    /// The deadline of the next timer, if any.
    pub(crate) fn next_deadline(&self) -> Option<Duration> {
        self.wheel.lock().next_deadline().map(Duration::from_millis)
    }

    /// Number of armed timers.
    pub(crate) fn len(&self) -> usize {
        self.wheel.lock().len()
    }

    /// Virtual clock only: jumps to the next deadline and fires it.
    pub(crate) fn advance_to_next(&self) -> bool {
        match self.next_deadline() {
            Some(next) => {
                self.clock.advance_to(next);
                self.fire_due() > 0
            }
            None => false,
        }
    }

    /// Wakes the timer thread (shutdown).
    pub(crate) fn wake_thread(&self) {
        let _lock = self.wheel.lock();
        self.wakeup.notify_all();
    }

    /// The body of the real-clock timer thread.
    pub(crate) fn run_thread(&self, stopping: impl Fn() -> bool) {
        // After finding the wheel empty, linger once before sleeping for
        // good: code that arms and cancels timers in a loop (a call with a
        // timeout, an inactivity timeout) then wakes this thread at most
        // once per linger instead of once per timer.
        const LINGER: Duration = Duration::from_millis(10);
        let mut lingered = false;
        while !stopping() {
            self.fire_due();
            let mut wheel = self.wheel.lock();
            if stopping() {
                break;
            }
            let now = self.now();
            match wheel.next_deadline() {
                Some(next) if Duration::from_millis(next) <= now => continue,
                Some(next) => {
                    self.sleep_until.store(next, Ordering::Relaxed);
                    self.wakeup
                        .wait_for(&mut wheel, Duration::from_millis(next) - now);
                }
                None if !lingered => {
                    lingered = true;
                    let until = now + LINGER;
                    self.sleep_until
                        .store(until.as_millis() as u64, Ordering::Relaxed);
                    self.wakeup.wait_for(&mut wheel, LINGER);
                    continue;
                }
                None => {
                    self.sleep_until.store(u64::MAX, Ordering::Relaxed);
                    self.wakeup.wait_for(&mut wheel, Duration::from_secs(3600));
                }
            }
            lingered = false;
            // Awake: every arm until the next wait must not notify in vain,
            // but one earlier than anything we know of still must.
            self.sleep_until.store(0, Ordering::Relaxed);
        }
    }
}

enum FireAction {
    Once(Box<dyn FnOnce() + Send>),
    Tick(Arc<dyn Fn() -> bool + Send + Sync>),
}
