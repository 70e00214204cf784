//! The timer API of [`Handle`]: what a timer sends, and to whom.

use std::sync::{Arc, Weak};
use std::time::Duration;

use super::clock::ceil_ms;
use super::shard::{Action, Fire, Tick};
use super::{TimerFired, TimerRef, Timers};
use crate::addr::Addr;
use crate::process::pcb::Header;
use crate::runtime::{Handle, Shared};

/// Sends `make(tref)` to `addr` when the timer fires.
struct SendTo<M, F> {
    addr: Addr<M>,
    make: F,
}

impl<M, F> Fire for SendTo<M, F>
where
    M: Send + 'static,
    F: FnOnce(TimerRef) -> M + Send + 'static,
{
    fn target(&self) -> Option<&Header> {
        Some(self.addr.header())
    }

    fn fire(self: Box<Self>, tref: TimerRef) {
        let SendTo { addr, make } = *self;
        addr.send(make(tref));
    }
}

/// Sends `msg` to whoever holds `name` when the timer fires. It holds the
/// runtime weakly: a timer must not keep its own runtime alive.
struct SendNamed<M> {
    shared: Weak<Shared>,
    name: String,
    msg: M,
}

impl<M: Send + 'static> Fire for SendNamed<M> {
    fn target(&self) -> Option<&Header> {
        None
    }

    fn fire(self: Box<Self>, _tref: TimerRef) {
        if let Some(shared) = self.shared.upgrade() {
            // Nobody holds the name, or with another message type: nothing
            // happens (rule 39).
            let _ = Handle::from_shared(shared).send_named(&self.name, self.msg);
        }
    }
}

/// Sends `make()` to `addr` on every tick.
struct TickTo<M, F> {
    addr: Addr<M>,
    make: F,
}

impl<M, F> Tick for TickTo<M, F>
where
    M: Send + 'static,
    F: Fn() -> M + Send + Sync + 'static,
{
    fn target(&self) -> Option<&Header> {
        Some(self.addr.header())
    }

    fn tick(&self) -> bool {
        // A full bounded mailbox refuses one tick; only the target's exit
        // ends the interval (rule 45).
        let _ = self.addr.try_send((self.make)());
        self.addr.is_alive()
    }
}

impl Timers {
    /// Arms a one-shot timer that sends `make(tref)` to `dest` at `at`
    /// (runtime clock), tied to `dest` (rule 39). `header` is `dest`'s,
    /// borrowed from the caller, who keeps the process's block alive while
    /// `dest` itself moves into the timer.
    pub(crate) fn send_to<M, F>(
        &self,
        dest: Addr<M>,
        header: &Header,
        at: Duration,
        make: F,
    ) -> TimerRef
    where
        M: Send + 'static,
        F: FnOnce(TimerRef) -> M + Send + 'static,
    {
        debug_assert_eq!(dest.pid(), header.pid);
        let action = Action::Once(Box::new(SendTo { addr: dest, make }));
        self.arm_at(at, Some(header), action)
    }
}

/// Timers (rules 38-45).
impl Handle {
    fn timers(&self) -> &Timers {
        &self.shared().timers
    }

    /// Delivers `msg` to `dest` after `delay` (rule 38); zero is not
    /// synchronous: other messages may arrive first. The timer is tied to
    /// the process: once it exits the timer counts as cancelled (rule 39).
    ///
    /// ```
    /// use std::time::Duration;
    /// use rotp_runtime::{assert_receive, testing::{virtual_runtime, Probe, Received}};
    /// let rt = virtual_runtime(1);
    /// let probe: Probe<&str> = Probe::spawn(&rt);
    /// rt.send_after(probe.addr(), Duration::from_millis(100), "ding");
    /// rt.advance(Duration::from_millis(100));
    /// assert_receive!(probe, Received::Message("ding"));
    /// ```
    pub fn send_after<M: Send + 'static>(
        &self,
        dest: &Addr<M>,
        delay: Duration,
        msg: M,
    ) -> TimerRef {
        let at = self.now().saturating_add(delay);
        self.timers()
            .send_to(dest.clone(), dest.header(), at, move |_| msg)
    }

    /// Delivers `msg` to `dest` when the runtime clock reads `at`, an
    /// absolute deadline on the clock of [`now`](Handle::now) (`{abs, true}`,
    /// rule 42). A deadline already past fires at once, though not
    /// synchronously. Tied to `dest` like [`send_after`](Handle::send_after).
    ///
    /// ```
    /// use std::time::Duration;
    /// use rotp_runtime::{assert_receive, testing::{virtual_runtime, Probe, Received}};
    /// let rt = virtual_runtime(1);
    /// let probe: Probe<&str> = Probe::spawn(&rt);
    /// let at = rt.now() + Duration::from_secs(60);
    /// let t = rt.send_at(probe.addr(), at, "on the minute");
    /// rt.advance(Duration::from_secs(20));
    /// assert_eq!(rt.read_timer(t), Some(Duration::from_secs(40)));
    /// rt.advance(Duration::from_secs(40));
    /// assert_receive!(probe, Received::Message("on the minute"));
    /// ```
    pub fn send_at<M: Send + 'static>(&self, dest: &Addr<M>, at: Duration, msg: M) -> TimerRef {
        self.timers()
            .send_to(dest.clone(), dest.header(), at, move |_| msg)
    }

    /// Delivers [`TimerFired`]`{ tref, msg }` to `dest` after `delay`, where
    /// `tref` is the reference returned here: Erlang's `start_timer`, whose
    /// message is `{timeout, TimerRef, Msg}` (rule 42). The process's message
    /// type takes it through `From`. Tied to `dest` like
    /// [`send_after`](Handle::send_after); cancelled and read like any timer
    /// (rules 40-41).
    ///
    /// ```
    /// use std::time::Duration;
    /// use rotp_runtime::{assert_receive, TimerFired, TimerRef};
    /// use rotp_runtime::testing::{virtual_runtime, Probe, Received};
    ///
    /// #[derive(Debug, PartialEq)]
    /// enum Msg {
    ///     Work(u32),
    ///     Timeout(TimerRef),
    /// }
    /// impl From<TimerFired<()>> for Msg {
    ///     fn from(fired: TimerFired<()>) -> Msg {
    ///         Msg::Timeout(fired.tref)
    ///     }
    /// }
    ///
    /// let rt = virtual_runtime(1);
    /// let probe: Probe<Msg> = Probe::spawn(&rt);
    /// let stale = rt.start_timer(probe.addr(), Duration::from_secs(1), ());
    /// let current = rt.start_timer(probe.addr(), Duration::from_secs(2), ());
    /// rt.advance(Duration::from_secs(2));
    /// assert_receive!(probe, Received::Message(Msg::Timeout(t)) if *t == stale);
    /// assert_receive!(probe, Received::Message(Msg::Timeout(t)) if *t == current);
    /// ```
    pub fn start_timer<T, M>(&self, dest: &Addr<M>, delay: Duration, msg: T) -> TimerRef
    where
        T: Send + 'static,
        M: From<TimerFired<T>> + Send + 'static,
    {
        self.start_timer_at(dest, self.now().saturating_add(delay), msg)
    }

    /// [`start_timer`](Handle::start_timer) with an absolute deadline on the
    /// runtime clock, like [`send_at`](Handle::send_at) (rule 42).
    ///
    /// ```
    /// use std::time::Duration;
    /// use rotp_runtime::{assert_receive, TimerFired};
    /// use rotp_runtime::testing::{virtual_runtime, Probe, Received};
    /// let rt = virtual_runtime(1);
    /// let probe: Probe<TimerFired<u8>> = Probe::spawn(&rt);
    /// let t = rt.start_timer_at(probe.addr(), rt.now() + Duration::from_secs(3), 7);
    /// rt.advance(Duration::from_secs(3));
    /// assert_receive!(probe, Received::Message(f) if f.tref == t && f.msg == 7);
    /// ```
    pub fn start_timer_at<T, M>(&self, dest: &Addr<M>, at: Duration, msg: T) -> TimerRef
    where
        T: Send + 'static,
        M: From<TimerFired<T>> + Send + 'static,
    {
        self.timers()
            .send_to(dest.clone(), dest.header(), at, move |tref| {
                M::from(TimerFired { tref, msg })
            })
    }

    /// Delivers `msg` to whoever is registered as `name` when the timer
    /// fires; if nobody is (or the holder takes other messages), nothing
    /// happens. The timer is tied to no process (rule 39).
    ///
    /// ```
    /// use std::time::Duration;
    /// use rotp_runtime::{assert_receive, testing::{virtual_runtime, Probe, Received}};
    /// let rt = virtual_runtime(1);
    /// rt.send_after_named("later", Duration::from_secs(1), 7u32);
    /// let probe: Probe<u32> = Probe::spawn(&rt);
    /// rt.register("later", probe.pid()).unwrap();
    /// rt.advance(Duration::from_secs(1));
    /// assert_receive!(probe, Received::Message(7));
    /// ```
    pub fn send_after_named<M: Send + 'static>(
        &self,
        name: &str,
        delay: Duration,
        msg: M,
    ) -> TimerRef {
        let action = Action::Once(Box::new(SendNamed {
            shared: Arc::downgrade(self.shared()),
            name: name.to_owned(),
            msg,
        }));
        self.timers().arm(delay, None, action)
    }

    /// Delivers a clone of `msg` to `dest` every `period`, at absolute
    /// deadlines (no drift, rule 44), until cancelled or `dest` exits
    /// (rule 45). A period under a millisecond counts as one.
    ///
    /// ```
    /// use std::time::Duration;
    /// use rotp_runtime::{assert_receive, testing::{virtual_runtime, Probe, Received}};
    /// let rt = virtual_runtime(1);
    /// let probe: Probe<&str> = Probe::spawn(&rt);
    /// let t = rt.send_interval(probe.addr(), Duration::from_secs(1), "tick");
    /// rt.advance(Duration::from_secs(2));
    /// assert_receive!(probe, Received::Message("tick"));
    /// assert_receive!(probe, Received::Message("tick"));
    /// assert_eq!(rt.cancel_timer(t), Some(Duration::from_secs(1)));
    /// ```
    pub fn send_interval<M: Clone + Send + Sync + 'static>(
        &self,
        dest: &Addr<M>,
        period: Duration,
        msg: M,
    ) -> TimerRef {
        self.send_interval_with(dest, period, move || msg.clone())
    }

    /// Like [`send_interval`](Handle::send_interval), delivering what
    /// `make` builds on each tick: for a message that is not `Clone`, or
    /// one wrapped on the way (a server's own message type around a
    /// payload).
    ///
    /// ```
    /// use std::time::Duration;
    /// use rotp_runtime::{assert_receive, testing::{virtual_runtime, Probe, Received}};
    /// let rt = virtual_runtime(1);
    /// let probe: Probe<Vec<u8>> = Probe::spawn(&rt);
    /// rt.send_interval_with(probe.addr(), Duration::from_secs(1), || vec![1, 2]);
    /// rt.advance(Duration::from_secs(1));
    /// assert_receive!(probe, Received::Message(v) if *v == [1, 2]);
    /// ```
    pub fn send_interval_with<M, F>(&self, dest: &Addr<M>, period: Duration, make: F) -> TimerRef
    where
        M: Send + 'static,
        F: Fn() -> M + Send + Sync + 'static,
    {
        let period_ms = ceil_ms(period).max(1);
        let tick = Arc::new(TickTo {
            addr: dest.clone(),
            make,
        });
        let action = Action::Interval { period_ms, tick };
        let at = self.now().saturating_add(Duration::from_millis(period_ms));
        self.timers().arm_at(at, Some(dest.header()), action)
    }

    /// Like [`send_interval`](Handle::send_interval) to the process
    /// registered as `name`, resolved now: the interval is tied to that
    /// process, and a name nobody holds, or held by a process taking other
    /// messages, arms nothing (rule 45). Returns `None` then.
    pub fn send_interval_named<M: Clone + Send + Sync + 'static>(
        &self,
        name: &str,
        period: Duration,
        msg: M,
    ) -> Option<TimerRef> {
        let addr = self.whereis_addr::<M>(name)?;
        Some(self.send_interval(&addr, period, msg))
    }

    /// Cancels a timer: the time it had left, or `None` if it already fired,
    /// was cancelled, or its process exited (rule 40). A message already
    /// delivered stays delivered.
    ///
    /// ```
    /// use std::time::Duration;
    /// let rt = rotp_runtime::testing::virtual_runtime(1);
    /// let p = rt.spawn_fn(|_: (), _ctx| {});
    /// let t = rt.send_after(&p, Duration::from_secs(10), ());
    /// rt.advance(Duration::from_secs(4));
    /// assert_eq!(rt.cancel_timer(t), Some(Duration::from_secs(6)));
    /// assert_eq!(rt.cancel_timer(t), None);
    /// ```
    pub fn cancel_timer(&self, tref: TimerRef) -> Option<Duration> {
        self.timers().cancel(tref)
    }

    /// The time a timer has left, or `None` like `cancel_timer` (rule 41).
    ///
    /// ```
    /// use std::time::Duration;
    /// let rt = rotp_runtime::testing::virtual_runtime(1);
    /// let p = rt.spawn_fn(|_: (), _ctx| {});
    /// let t = rt.send_after(&p, Duration::from_secs(10), ());
    /// rt.advance(Duration::from_secs(4));
    /// assert_eq!(rt.read_timer(t), Some(Duration::from_secs(6)));
    /// rt.advance(Duration::from_secs(6));
    /// assert_eq!(rt.read_timer(t), None);
    /// ```
    pub fn read_timer(&self, tref: TimerRef) -> Option<Duration> {
        self.timers().read(tref)
    }
}
