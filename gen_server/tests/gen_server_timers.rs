//! A server's own timers, on the virtual clock: `Ctx::send_interval`
//! (rules 44-45), `Ctx::start_timer` with its `TimerFired` reaching the
//! server's `Info` (rule 42), `Ctx::cancel_timer` (rule 40) and
//! `Ctx::read_timer` (rule 41). `send_after` and `cast_after` are in
//! `gen_server_cast_info.rs` (rule 71).

mod common;

use std::time::Duration;

use common::*;
use rotp_gen_server::{
    gen_server, noreply, start, Ctx, GenServer, Handled, Info, Init, InitResult, ReplyTo,
    ServerRef, StartOptions,
};
use rotp_runtime::{ExitReason, Runtime, TimerFired, TimerRef};

fn secs(n: u64) -> Duration {
    Duration::from_secs(n)
}

/// A server that sets timers on request and records, with the runtime
/// clock's time, every timer message it handles.
struct Timed {
    ticks: Vec<Duration>,
    fired: Vec<(TimerRef, u32, Duration)>,
}

/// The server's `Info`: an interval's tick, or a `start_timer` firing.
#[derive(Debug, Clone)]
enum Tick {
    Every,
    Fired(TimerRef, u32),
}

impl From<TimerFired<u32>> for Tick {
    fn from(fired: TimerFired<u32>) -> Self {
        Tick::Fired(fired.tref, fired.msg)
    }
}

enum Call {
    Interval(Duration, ReplyTo<TimerRef>),
    StartTimer(Duration, u32, ReplyTo<TimerRef>),
    Cancel(TimerRef, ReplyTo<Option<Duration>>),
    Read(TimerRef, ReplyTo<Option<Duration>>),
    Ticks(ReplyTo<Vec<Duration>>),
    Fired(ReplyTo<Vec<(TimerRef, u32, Duration)>>),
}

#[gen_server]
impl GenServer for Timed {
    fn init((): (), _ctx: &mut Ctx<'_, Self>) -> InitResult<Self> {
        Init::ok(Timed {
            ticks: Vec::new(),
            fired: Vec::new(),
        })
    }

    fn handle_call(&mut self, call: Call, ctx: &mut Ctx<'_, Self>) -> Handled<Self> {
        match call {
            Call::Interval(period, r) => r.reply(ctx.send_interval(period, Tick::Every)),
            Call::StartTimer(delay, n, r) => r.reply(ctx.start_timer(delay, n)),
            Call::Cancel(tref, r) => r.reply(ctx.cancel_timer(tref)),
            Call::Read(tref, r) => r.reply(ctx.read_timer(tref)),
            Call::Ticks(r) => r.reply(self.ticks.clone()),
            Call::Fired(r) => r.reply(self.fired.clone()),
        }
    }

    fn handle_info(&mut self, info: Info<Tick>, ctx: &mut Ctx<'_, Self>) -> Handled<Self> {
        let now = ctx.handle().now();
        match info {
            Info::Msg(Tick::Every) => self.ticks.push(now),
            Info::Msg(Tick::Fired(tref, n)) => self.fired.push((tref, n, now)),
            _ => {}
        }
        noreply()
    }
}

fn timed(rt: &Runtime) -> ServerRef<Timed> {
    start::<Timed>(rt, (), StartOptions::new()).unwrap()
}

/// Calls from a bounded thread: on the virtual clock a call never times
/// out by itself.
#[track_caller]
fn call<R: Send + 'static>(
    server: &ServerRef<Timed>,
    request: impl FnOnce(ReplyTo<R>) -> Call + Send + 'static,
) -> R {
    let s = server.clone();
    bounded(move || s.call(request)).expect("the call succeeds")
}

/// Rule 44: `send_interval` from a server delivers its message to
/// `handle_info` every period, at absolute deadlines (10 s, 20 s, 30 s,
/// whatever the steps the clock takes); `cancel_timer` stops it, telling
/// the time left to the next tick.
#[test]
fn rule_44_send_interval_ticks_until_cancelled() {
    each_virtual_runtime(|rt| {
        let server = timed(rt);
        let interval = call(&server, |r| Call::Interval(secs(10), r));
        rt.advance(Duration::from_millis(9999));
        assert_eq!(call(&server, Call::Ticks), []);
        rt.advance(Duration::from_millis(1));
        rt.advance(secs(7));
        rt.advance(secs(18));
        assert_eq!(call(&server, Call::Ticks), [secs(10), secs(20), secs(30)]);
        assert_eq!(
            call(&server, move |r| Call::Read(interval, r)),
            Some(secs(5))
        );
        assert_eq!(
            call(&server, move |r| Call::Cancel(interval, r)),
            Some(secs(5))
        );
        rt.advance(secs(60));
        assert_eq!(call(&server, Call::Ticks).len(), 3, "no tick after cancel");
        assert_eq!(call(&server, move |r| Call::Cancel(interval, r)), None);
        assert_eq!(rt.stats().timers, 0);
    });
}

/// Rule 45: a server's interval dies with the server.
#[test]
fn rule_45_an_interval_dies_with_its_server() {
    each_virtual_runtime(|rt| {
        let server = timed(rt);
        call(&server, |r| Call::Interval(secs(10), r));
        assert_eq!(rt.stats().timers, 1);
        server.stop(ExitReason::Normal, None).unwrap();
        wait_timers(rt, 0);
        rt.advance(secs(60));
    });
}

/// Rule 42: `start_timer` delivers a `TimerFired` carrying the reference
/// it returned and its message, which reaches `handle_info` as the
/// server's own `Info` (through `From`), once its delay has passed.
/// Rule 41: `read_timer` tells the time left, and `None` once it fired;
/// `cancel_timer` of a fired timer is `None` too (rule 40).
#[test]
fn rule_42_start_timer_delivers_its_reference_and_message() {
    each_virtual_runtime(|rt| {
        let server = timed(rt);
        let first = call(&server, |r| Call::StartTimer(secs(5), 7, r));
        let second = call(&server, |r| Call::StartTimer(secs(8), 9, r));
        assert_ne!(first, second);
        assert_eq!(call(&server, move |r| Call::Read(first, r)), Some(secs(5)));
        rt.advance(secs(2));
        assert_eq!(call(&server, move |r| Call::Read(first, r)), Some(secs(3)));
        rt.advance(Duration::from_millis(2999));
        assert_eq!(call(&server, Call::Fired), []);
        rt.advance(Duration::from_millis(1));
        assert_eq!(call(&server, Call::Fired), [(first, 7, secs(5))]);
        assert_eq!(call(&server, move |r| Call::Read(first, r)), None);
        assert_eq!(call(&server, move |r| Call::Cancel(first, r)), None);
        rt.advance(secs(3));
        assert_eq!(
            call(&server, Call::Fired),
            [(first, 7, secs(5)), (second, 9, secs(8))]
        );
    });
}

/// Rule 40: `cancel_timer` of a pending timer returns the time it had left
/// and the timer never fires; a second cancel returns `None`, and so does
/// `read_timer`.
#[test]
fn rule_40_a_cancelled_timer_never_fires() {
    each_virtual_runtime(|rt| {
        let server = timed(rt);
        let tref = call(&server, |r| Call::StartTimer(secs(5), 1, r));
        rt.advance(secs(1));
        assert_eq!(call(&server, move |r| Call::Cancel(tref, r)), Some(secs(4)));
        assert_eq!(call(&server, move |r| Call::Cancel(tref, r)), None);
        assert_eq!(call(&server, move |r| Call::Read(tref, r)), None);
        rt.advance(secs(60));
        assert_eq!(call(&server, Call::Fired), []);
        assert_eq!(rt.stats().timers, 0);
    });
}
