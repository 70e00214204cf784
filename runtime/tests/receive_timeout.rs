//! The receive timeout of a raw process (`Context::set_receive_timeout`,
//! `Process::handle_timeout`): Erlang's `receive ... after T`. The callback
//! runs when the mailbox has stayed empty for the timeout, anything that
//! arrives first restarts the wait, a firing overtaken by a message is
//! dropped, and the setting stays until changed.
//!
//! Everything runs on the virtual clock: time moves only on `advance`.

mod common;

use std::time::Duration;

use common::*;
use rotp_runtime::testing::{wait_until, Probe, Received};
use rotp_runtime::{assert_receive, Addr, Context, ExitReason, Process};

const MS: Duration = Duration::from_millis(1);

#[derive(Debug, Clone, PartialEq)]
enum Event {
    Handled(&'static str),
    TimedOut(u32),
}

enum Msg {
    Ping(&'static str),
    Set(Option<Duration>),
}

/// Reports what it handles and each timeout; starts with `timeout` set.
struct Waiter {
    probe: Addr<Event>,
    timeout: Option<Duration>,
    fired: u32,
    /// Clears the timeout on its `n`th firing.
    clear_after: Option<u32>,
}

impl Process for Waiter {
    type Message = Msg;

    fn init(&mut self, ctx: &mut Context<'_, Msg>) {
        ctx.set_receive_timeout(self.timeout);
    }

    fn handle(&mut self, msg: Msg, ctx: &mut Context<'_, Msg>) {
        match msg {
            Msg::Ping(what) => self.probe.send(Event::Handled(what)),
            Msg::Set(timeout) => ctx.set_receive_timeout(timeout),
        }
    }

    fn handle_timeout(&mut self, ctx: &mut Context<'_, Msg>) {
        self.fired += 1;
        self.probe.send(Event::TimedOut(self.fired));
        if self.clear_after == Some(self.fired) {
            ctx.set_receive_timeout(None);
        }
    }
}

fn waiter(rt: &rotp_runtime::Runtime, probe: &Probe<Event>, timeout: Duration) -> Addr<Msg> {
    let waiter = rt.spawn(Waiter {
        probe: probe.addr().clone(),
        timeout: Some(timeout),
        fired: 0,
        clear_after: None,
    });
    // Settle: the process has run `init` and gone idle, its timer armed.
    rt.advance(Duration::ZERO);
    waiter
}

/// The callback runs once the mailbox has been empty for the timeout, not
/// before.
#[test]
fn fires_after_the_timeout_and_not_before() {
    each_virtual_runtime(|rt| {
        let probe = Probe::spawn(rt);
        let _waiter = waiter(rt, &probe, 100 * MS);
        rt.advance(99 * MS);
        probe.refute_receive(QUIET, |_| true);
        rt.advance(MS);
        assert_receive!(probe, Received::Message(Event::TimedOut(1)));
    });
}

/// A message that arrives first ends the wait; the next wait starts when
/// the process is idle again, for the whole timeout.
#[test]
fn a_message_restarts_the_wait() {
    each_virtual_runtime(|rt| {
        let probe = Probe::spawn(rt);
        let waiter = waiter(rt, &probe, 100 * MS);
        rt.advance(60 * MS);
        waiter.send(Msg::Ping("a"));
        rt.advance(Duration::ZERO);
        assert_receive!(probe, Received::Message(Event::Handled("a")));
        // 60 + 60 = 120 ms in: past the first deadline, not the new one.
        rt.advance(60 * MS);
        probe.refute_receive(QUIET, |_| true);
        rt.advance(40 * MS);
        assert_receive!(probe, Received::Message(Event::TimedOut(1)));
    });
}

/// The timeout stays set, like a receive loop repeating its `after`: an
/// idle process gets it every timeout, until it clears it.
#[test]
fn the_timeout_repeats_until_cleared() {
    each_virtual_runtime(|rt| {
        let probe = Probe::spawn(rt);
        let _waiter = rt.spawn(Waiter {
            probe: probe.addr().clone(),
            timeout: Some(10 * MS),
            fired: 0,
            clear_after: Some(3),
        });
        rt.advance(Duration::ZERO);
        for n in 1..=3 {
            rt.advance(10 * MS);
            assert_receive!(probe, Received::Message(Event::TimedOut(m)) if *m == n);
        }
        rt.advance(Duration::from_secs(10));
        probe.refute_receive(QUIET, |_| true);
        assert_eq!(rt.stats().timers, 0, "a cleared timeout leaves no timer");
    });
}

/// `set_receive_timeout` from a handler replaces the running wait, and
/// `None` cancels it.
#[test]
fn setting_it_again_replaces_the_running_wait() {
    each_virtual_runtime(|rt| {
        let probe = Probe::spawn(rt);
        let waiter = waiter(rt, &probe, 100 * MS);
        waiter.send(Msg::Set(Some(500 * MS)));
        rt.advance(100 * MS);
        probe.refute_receive(QUIET, |_| true);
        rt.advance(400 * MS);
        assert_receive!(probe, Received::Message(Event::TimedOut(1)));

        waiter.send(Msg::Set(None));
        rt.advance(Duration::from_secs(10));
        probe.refute_receive(QUIET, |_| true);
        assert_eq!(rt.stats().timers, 0);
    });
}

/// A firing that a message overtook is stale: the message is handled,
/// the firing dropped, and a new wait starts. With one worker the process
/// cannot run between the send and the advance below (both happen inside
/// another process's handler), so the timer fires with the message
/// already queued before it.
#[test]
fn a_firing_behind_a_message_is_dropped() {
    each_virtual_runtime(|rt| {
        let probe = Probe::spawn(rt);
        let waiter = waiter(rt, &probe, 100 * MS);
        let target = waiter.clone();
        let driver = rt.spawn_fn(move |(), ctx| {
            target.send(Msg::Ping("first"));
            ctx.handle().advance(100 * MS);
        });
        driver.send(());
        rt.advance(Duration::ZERO);
        assert_receive!(probe, Received::Message(Event::Handled("first")));
        probe.refute_receive(QUIET, |_| true);
        // The wait that started after "first" runs its full course.
        rt.advance(99 * MS);
        probe.refute_receive(QUIET, |_| true);
        rt.advance(MS);
        assert_receive!(probe, Received::Message(Event::TimedOut(1)));
    });
}

/// A system request is not activity: it does not restart the wait.
#[test]
fn a_system_request_does_not_restart_the_wait() {
    each_virtual_runtime(|rt| {
        let probe = Probe::spawn(rt);
        let waiter = waiter(rt, &probe, 100 * MS);
        rt.advance(50 * MS);
        rt.system_status(waiter.pid(), TIMEOUT)
            .expect("a raw process answers a status request");
        rt.advance(50 * MS);
        assert_receive!(probe, Received::Message(Event::TimedOut(1)));
    });
}

/// `handle_timeout` may end the process, and an exiting process leaves no
/// timer behind (rule 39).
#[test]
fn the_callback_may_exit_and_the_exit_drops_the_timer() {
    each_virtual_runtime(|rt| {
        struct Quitter;
        impl Process for Quitter {
            type Message = ();
            fn init(&mut self, ctx: &mut Context<'_, ()>) {
                ctx.set_receive_timeout(Some(Duration::from_secs(60)));
            }
            fn handle(&mut self, (): (), _ctx: &mut Context<'_, ()>) {}
            fn handle_timeout(&mut self, ctx: &mut Context<'_, ()>) {
                ctx.exit(ExitReason::custom("idle"));
            }
        }
        let quitter = rt.spawn(Quitter);
        rt.advance(Duration::from_secs(60));
        assert_eq!(
            quitter.await_exit(Some(TIMEOUT)),
            Some(ExitReason::custom("idle"))
        );

        let probe = Probe::spawn(rt);
        let waiter = waiter(rt, &probe, Duration::from_secs(60));
        assert_eq!(rt.stats().timers, 1);
        rt.kill(waiter.pid());
        assert!(wait_until(TIMEOUT, || rt.stats().timers == 0));
    });
}
