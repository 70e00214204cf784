//! Timers: `send_after`, `send_at`, `start_timer`, `send_interval`,
//! `cancel_timer`, `read_timer` (rules 38-45, adaptation R11), on the
//! runtime clock.
//!
//! A timer's action is an ordinary send into a mailbox, so a timer message
//! is ordered like any other message. Timers live in a few [`Shard`]s, each a
//! timing wheel under its own lock: a timer aimed at a process goes to the
//! shard its pid hashes to, so arming and cancelling on different workers
//! rarely meet on a lock, and all of one process's timers sit in one shard,
//! threaded on a list whose head is in the process (`TimerList`): the exit
//! drops them in one pass (rule 39) without any index keyed by pid.
//!
//! With the real clock a timer thread sleeps until the next deadline; arming
//! wakes it only when the new deadline is earlier than the one it sleeps to,
//! and cancelling never does. With the virtual clock there is no thread:
//! `Handle::advance` fires what is due on the caller's thread, stepping
//! from deadline to deadline and letting the processes handle each, and
//! auto-advance fires the next deadline when the last worker goes idle.
//!
//! The two cross-thread protocols (waking the timer thread, dropping a
//! process's timers at its exit) are described in `README.md` beside this
//! file; the comments below cite its rules as "wake rule N" and "exit rule N".

pub(crate) mod clock;
mod handle;
pub(crate) mod shard;
mod wheel;

use std::sync::atomic::Ordering;
use std::sync::OnceLock;
use std::thread::Thread;
use std::time::Duration;

use self::clock::{ceil_ms, Clock};
use self::shard::{Action, Shard, NIL};
use self::sync::{AtomicU32, AtomicU64};
use crate::loom::fence;
use crate::pid::Pid;
use crate::process::pcb::Header;

/// The atomics of the two protocols (see `README.md`): loom's under
/// `cfg(loom)`, so that `loom_tests` below explores the real code.
mod sync {
    #[cfg(loom)]
    pub(crate) use loom::sync::atomic::{AtomicU32, AtomicU64};
    #[cfg(not(loom))]
    pub(crate) use std::sync::atomic::{AtomicU32, AtomicU64};
}

/// The start of a measured wait; see [`Timers::mark`].
#[derive(Debug, Clone, Copy)]
pub(crate) enum Mark {
    Precise(Duration),
    Coarse(u64, Duration),
}

/// A reference to a timer, returned by `send_after`, `send_at`,
/// `start_timer` and `send_interval`; give it to `cancel_timer` or
/// `read_timer`.
///
/// References are never reused: once its timer has fired or been cancelled,
/// a `TimerRef` stays dead, even when a newer timer takes its place
/// (rule 40).
///
/// ```
/// use std::time::Duration;
/// let rt = rotp_runtime::testing::virtual_runtime(1);
/// let p = rt.spawn_fn(|_: u8, _ctx| {});
/// let a = rt.send_after(&p, Duration::from_secs(1), 1);
/// let b = rt.send_after(&p, Duration::from_secs(1), 2);
/// assert_ne!(a, b);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TimerRef {
    generation: u64,
    index: u32,
    shard: u32,
}

/// The message a [`start_timer`](crate::Handle::start_timer) timer delivers:
/// Erlang's `{timeout, TimerRef, Msg}` (rule 42). `tref` is the reference
/// `start_timer` returned, so a process running several timers can tell
/// which one fired, and ignore one it has since replaced.
///
/// A process receives it as its message type `M` through
/// `M: From<TimerFired<T>>`: either `M` is `TimerFired<T>` itself, or an enum
/// with a variant that wraps it.
///
/// ```
/// use std::time::Duration;
/// use rotp_runtime::{assert_receive, TimerFired};
/// use rotp_runtime::testing::{virtual_runtime, Probe, Received};
///
/// let rt = virtual_runtime(1);
/// let probe: Probe<TimerFired<&str>> = Probe::spawn(&rt);
/// let tref = rt.start_timer(probe.addr(), Duration::from_secs(5), "poll");
/// rt.advance(Duration::from_secs(5));
/// assert_receive!(probe, Received::Message(TimerFired { tref: t, msg: "poll" }) if *t == tref);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TimerFired<T> {
    /// The timer that fired.
    pub tref: TimerRef,
    /// The message it was armed with.
    pub msg: T,
}

/// The head of a process's list of timers, kept in its control block. Only
/// the process's timer shard touches it, under that shard's lock (exit rule
/// 1); its exit reads it once without the lock (exit rule 3).
#[derive(Debug)]
pub(crate) struct TimerList {
    head: AtomicU32,
}

impl TimerList {
    pub(crate) fn new() -> Self {
        TimerList {
            head: AtomicU32::new(NIL),
        }
    }
}

/// Nothing armed: the timer thread sleeps until woken.
const FOREVER: u64 = u64::MAX;

pub(crate) struct Timers {
    pub(crate) clock: Clock,
    /// A coarse reading of the real clock in milliseconds, refreshed by the
    /// watchdog every `coarse_period`: lets the hot path of a call measure a
    /// long timeout without a clock read.
    coarse_ms: std::sync::atomic::AtomicU64,
    coarse_period: Option<Duration>,
    shards: Box<[Shard]>,
    /// The deadline (ms) the timer thread sleeps until: `FOREVER` with
    /// nothing armed, 0 while it is awake and looking (wake rule 1). Always
    /// 0 with the virtual clock, which has no thread.
    sleep_until: AtomicU64,
    /// The timer thread, once it runs; arming unparks it (wake rule 2).
    thread: OnceLock<Thread>,
}

impl Timers {
    pub(crate) fn new(clock: Clock, coarse_period: Option<Duration>) -> Self {
        let coarse_period = coarse_period.filter(|_| !clock.is_virtual());
        // A few shards per core: two workers arming at once seldom pick
        // the same one. A power of two, for a mask instead of a division.
        let cores = std::thread::available_parallelism().map_or(4, |n| n.get());
        let count = if cfg!(loom) {
            2
        } else {
            (cores * 4).next_power_of_two().clamp(4, 64)
        };
        Timers {
            clock,
            coarse_ms: std::sync::atomic::AtomicU64::new(0),
            coarse_period,
            shards: (0..count).map(|_| Shard::new()).collect(),
            sleep_until: AtomicU64::new(0),
            thread: OnceLock::new(),
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

    fn shard_of(&self, pid: Pid) -> usize {
        // Fibonacci hashing of the slot: neighbouring slots (processes
        // spawned one after another) land in different shards.
        let mixed = u64::from(pid.index()).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        (mixed >> 32) as usize & (self.shards.len() - 1)
    }

    /// A shard for a timer aimed at no process: the caller's own process's
    /// shard if it runs in one, so that threads do not all meet in one.
    fn shard_for_caller(&self) -> usize {
        crate::current::self_pid().map_or(0, |pid| self.shard_of(pid))
    }

    /// Arms `action` to fire at `deadline` (runtime clock). `target` is the
    /// process the action sends to, if it is tied to one: a timer aimed at
    /// a process that has exited, or exits meanwhile, is dropped at once
    /// (rule 39).
    pub(crate) fn arm_at(
        &self,
        deadline: Duration,
        target: Option<&Header>,
        action: Action,
    ) -> TimerRef {
        debug_assert_eq!(
            target.map(|h| h.pid),
            action.target().map(|h| h.pid),
            "the target is the action's"
        );
        let deadline = ceil_ms(deadline);
        let index = match target {
            Some(header) => self.shard_of(header.pid),
            None => self.shard_for_caller(),
        };
        let shard = &self.shards[index];
        let key = shard.insert(deadline, action);
        if self.must_wake(deadline) {
            self.wake_thread();
        }
        // Exit rule 2 (after `must_wake`'s fence).
        if target.is_some_and(|h| !h.state.is_alive()) {
            drop(shard.remove(key));
        }
        TimerRef {
            generation: key.generation,
            index: key.index,
            shard: index as u32,
        }
    }

    /// The arm's side of wake rule 2 (and the fence of exit rule 2): with
    /// the timer filed and its shard's hint lowered, whether the timer
    /// thread sleeps past `deadline` and must be woken.
    fn must_wake(&self, deadline: u64) -> bool {
        fence(Ordering::SeqCst);
        deadline < self.sleep_until.load(Ordering::Relaxed)
    }

    /// The timer thread's side of wake rule 2: publishes that it means to
    /// sleep until `next`, then checks that no arm it missed wants it
    /// earlier. False: look at the shards again instead of sleeping.
    fn may_sleep(&self, next: u64) -> bool {
        self.sleep_until.store(next, Ordering::Relaxed);
        fence(Ordering::SeqCst);
        let hinted = self.shards.iter().map(Shard::hint).min();
        hinted.is_none_or(|hint| hint >= next)
    }

    /// Arms `action` to fire `delay` from now.
    pub(crate) fn arm(&self, delay: Duration, target: Option<&Header>, action: Action) -> TimerRef {
        self.arm_at(self.now().saturating_add(delay), target, action)
    }

    /// A callback timer tied to no process (a reply wait's timeout on the
    /// virtual clock). `target` must be `None`: a callback knows nothing of
    /// a process to be tied to.
    pub(crate) fn send_after(
        &self,
        delay: Duration,
        target: Option<Pid>,
        deliver: Box<dyn FnOnce() + Send>,
    ) -> TimerRef {
        debug_assert!(target.is_none(), "callback timers are tied to no process");
        self.arm(
            delay,
            None,
            Action::Once(Box::new(shard::Callback(deliver))),
        )
    }

    /// Time left on a live timer whose target is alive (rule 41).
    pub(crate) fn read(&self, tref: TimerRef) -> Option<Duration> {
        let deadline = self.shards.get(tref.shard as usize)?.read(tref.key())?;
        Some(Duration::from_millis(deadline).saturating_sub(self.now()))
    }

    /// Cancels a timer; the time it had left, or `None` if it had fired, was
    /// cancelled, or its target has exited (rule 40); the target's
    /// liveness is read from the timer itself.
    pub(crate) fn cancel(&self, tref: TimerRef) -> Option<Duration> {
        let shard = self.shards.get(tref.shard as usize)?;
        let (deadline, action) = shard.remove(tref.key())?;
        let alive = action.target().is_none_or(|h| h.state.is_alive());
        // Dropping the action drops its message, which may run user code:
        // outside the shard's lock.
        drop(action);
        alive.then(|| Duration::from_millis(deadline).saturating_sub(self.now()))
    }

    /// Drops every timer aimed at the process of `header`, which is exiting
    /// (rule 39). Cheap when it has none.
    pub(crate) fn cancel_all_for(&self, header: &Header) {
        let shard = &self.shards[self.shard_of(header.pid)];
        // Dropping the messages may run user code: outside the lock.
        drop(Self::take_listed(shard, &header.timers));
    }

    /// The exit's side of exit rules 3 and 4: with the process marked
    /// exiting, takes every timer on its list out of `shard`.
    fn take_listed(shard: &Shard, list: &TimerList) -> Vec<Action> {
        fence(Ordering::SeqCst);
        if list.head.load(Ordering::Relaxed) == NIL {
            return Vec::new();
        }
        shard.take_list(list)
    }

    /// Fires everything due at the current clock reading and returns how
    /// many fired. Actions run outside the shards' locks.
    pub(crate) fn fire_due(&self) -> usize {
        self.fire_and_next().0
    }

    /// [`fire_due`](Self::fire_due), also returning the earliest deadline
    /// left (ms; `FOREVER` if none), as far as the shards' hints know.
    fn fire_and_next(&self) -> (usize, u64) {
        let now_ms = self.now().as_millis() as u64;
        let mut next = FOREVER;
        let mut due = Vec::new();
        for (index, shard) in self.shards.iter().enumerate() {
            let hint = shard.hint();
            if hint > now_ms {
                // Nothing to do here: the hint is never later than the
                // shard's next event (wake rule 3).
                next = next.min(hint);
                continue;
            }
            next = next.min(shard.take_due(now_ms, index, &mut due));
        }
        // In deadline order across shards, as one wheel would fire them
        // (the sort is stable: each shard's order within a millisecond
        // stays).
        due.sort_by_key(|d| d.deadline);
        let fired = due.len();
        for d in due {
            match d.action {
                shard::DueAction::Once(f) => f.fire(d.tref),
                shard::DueAction::Tick(tick) => {
                    if !tick.tick() {
                        // Its target is gone: the interval ends (rule 45).
                        let shard = &self.shards[d.tref.shard as usize];
                        drop(shard.remove(d.tref.key()));
                    }
                }
            }
        }
        (fired, next)
    }

    /// The deadline of the next timer, if any.
    pub(crate) fn next_deadline(&self) -> Option<Duration> {
        self.shards
            .iter()
            .filter_map(Shard::next_deadline)
            .min()
            .map(Duration::from_millis)
    }

    /// Number of armed timers.
    pub(crate) fn len(&self) -> usize {
        self.shards.iter().map(Shard::len).sum()
    }

    /// Virtual clock only: jumps to the next deadline and fires it. Steps
    /// over the wheel's cascades on the way (where nothing fires), so that
    /// a worker going idle never parks with a timer left to jump to.
    pub(crate) fn advance_to_next(&self) -> bool {
        while let Some(next) = self.next_deadline() {
            self.clock.advance_to(next);
            if self.fire_due() > 0 {
                return true;
            }
        }
        false
    }

    /// Wakes the timer thread (an earlier deadline, or shutdown). Its park
    /// token makes the wake stick even if the thread is not parked yet.
    pub(crate) fn wake_thread(&self) {
        if let Some(thread) = self.thread.get() {
            thread.unpark();
        }
    }

    /// The body of the real-clock timer thread.
    pub(crate) fn run_thread(&self, stopping: impl Fn() -> bool) {
        let _ = self.thread.set(std::thread::current());
        while !stopping() {
            // Wake rule 1: awake and about to look at every shard; arms
            // meanwhile need not wake us.
            self.sleep_until.store(0, Ordering::Relaxed);
            let (_, next) = self.fire_and_next();
            if !self.may_sleep(next) || stopping() {
                continue;
            }
            if next == FOREVER {
                std::thread::park();
            } else {
                let now = self.now();
                let until = Duration::from_millis(next);
                if until > now {
                    std::thread::park_timeout(until - now);
                }
            }
        }
    }
}

impl TimerRef {
    fn key(self) -> wheel::Key {
        wheel::Key {
            index: self.index,
            generation: self.generation,
        }
    }
}

/// Model checks of the two protocols in `README.md`, on the real shard,
/// list and handshake code (the process and the timer thread are stood in
/// for by the two sides' calls):
///
/// ```text
/// RUSTFLAGS="--cfg loom" cargo test -p rotp-runtime --release --lib timer::loom
/// ```
#[cfg(all(test, loom))]
mod loom_tests {
    use std::sync::atomic::Ordering::Relaxed;

    use loom::sync::atomic::AtomicBool;
    use loom::sync::Arc;

    use super::clock::Clock;
    use super::shard::{Action, Callback, Fire};
    use super::{TimerList, TimerRef, Timers};
    use crate::process::pcb::Header;

    fn timers() -> Timers {
        let clock = Clock::Virtual {
            now_ns: std::sync::atomic::AtomicU64::new(0),
            auto_advance: false,
        };
        Timers::new(clock, None)
    }

    /// A timer on a list of the test's own, standing for a process's.
    struct Listed(Arc<TimerList>);

    impl Fire for Listed {
        fn target(&self) -> Option<&Header> {
            None
        }

        fn list(&self) -> Option<&TimerList> {
            Some(&self.0)
        }

        fn fire(self: Box<Self>, _tref: TimerRef) {}
    }

    /// Wake rule 2: the timer thread finishes a pass while a timer due
    /// before anything it saw is armed. Either the thread sees the arm and
    /// looks again, or the arm sees the thread's deadline and wakes it.
    #[test]
    fn an_earlier_arm_never_misses_the_sleeping_thread() {
        loom::model(|| {
            let timers = Arc::new(timers());
            let t = timers.clone();
            let armer = loom::thread::spawn(move || {
                let action = Action::Once(Box::new(Callback(Box::new(|| {}))));
                t.shards[1].insert(5, action);
                t.must_wake(5)
            });
            // The thread's pass at time 0: nothing due, then the handshake.
            let (fired, next) = timers.fire_and_next();
            assert_eq!(fired, 0);
            let sleeps = timers.may_sleep(next);
            let woken = armer.join().unwrap();
            if sleeps && next > 5 {
                assert!(
                    woken,
                    "the thread sleeps until {next} past a timer due at 5"
                );
            }
        });
    }

    /// Exit rules 2-4: a timer armed while its target exits is dropped by
    /// one side or the other; none stays in the wheel.
    #[test]
    fn a_timer_armed_during_the_exit_never_outlives_it() {
        loom::model(|| {
            let timers = Arc::new(timers());
            let list = Arc::new(TimerList::new());
            let exiting = Arc::new(AtomicBool::new(false));
            let (t, l, e) = (timers.clone(), list.clone(), exiting.clone());
            let armer = loom::thread::spawn(move || {
                let shard = &t.shards[0];
                let key = shard.insert(5, Action::Once(Box::new(Listed(l))));
                let _ = t.must_wake(5);
                if e.load(Relaxed) {
                    drop(shard.remove(key));
                }
            });
            exiting.store(true, Relaxed);
            drop(Timers::take_listed(&timers.shards[0], &list));
            armer.join().unwrap();
            assert_eq!(timers.shards[0].len(), 0, "a timer outlived its target");
        });
    }
}
