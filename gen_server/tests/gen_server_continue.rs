//! `handle_continue`: rules 83-84.

mod common;

use std::time::Duration;

use common::*;
use rotp_gen_server::{
    noreply, start, stop, Ctx, GenServer, Handled, Init, InitResult, StartOptions, Then,
};
use rotp_runtime::testing::Probe;
use rotp_runtime::{Addr, ExitReason};

/// A continue that reports `Ev::Mark(tag)`.
fn report(tag: &'static str) -> Job {
    job(move |p, _| {
        p.report(Ev::Mark(tag));
        noreply()
    })
}

/// Rule 83: a continue runs right after the callback that asked for it,
/// before messages that were already queued.
#[test]
fn rule_83_continue_runs_before_queued_messages() {
    each_runtime(|rt| {
        let probe = Probe::spawn(rt);
        let server = puppet(rt, &probe);
        let gate = Gate::new();
        let _opener = gate.opener();
        let g = gate.clone();
        cast(&server, move |p, _| {
            p.report(Ev::Mark("held"));
            g.wait_blocking();
            noreply().then_continue(report("continue"))
        });
        expect_event(&probe, |e| *e == Ev::Mark("held"));
        cast(&server, |p, _| {
            p.report(Ev::Mark("cast"));
            noreply()
        });
        info(&server, "info");
        wait_queued(rt, server.pid().unwrap(), 2);
        gate.open();
        assert_eq!(
            events(&probe, 3),
            [Ev::Mark("continue"), Ev::Mark("cast"), Ev::Info("info")]
        );
    });
}

/// Rule 83: continues chain — each one's continue runs before any message.
#[test]
fn rule_83_continues_chain() {
    each_runtime(|rt| {
        let probe = Probe::spawn(rt);
        let server = puppet(rt, &probe);
        let gate = Gate::new();
        let _opener = gate.opener();
        let g = gate.clone();
        cast(&server, move |p, _| {
            p.report(Ev::Mark("held"));
            g.wait_blocking();
            noreply().then_continue(job(|p, _| {
                p.report(Ev::Mark("first"));
                noreply().then_continue(job(|p, _| {
                    p.report(Ev::Mark("second"));
                    noreply().then_continue(report("third"))
                }))
            }))
        });
        expect_event(&probe, |e| *e == Ev::Mark("held"));
        info(&server, "queued");
        wait_queued(rt, server.pid().unwrap(), 1);
        gate.open();
        assert_eq!(
            events(&probe, 4),
            [
                Ev::Mark("first"),
                Ev::Mark("second"),
                Ev::Mark("third"),
                Ev::Info("queued")
            ]
        );
    });
}

/// Rule 83: a continue from `init` runs after start has returned, and
/// before anything sent after start returned.
#[test]
fn rule_83_continue_from_init_runs_after_start_returns() {
    each_runtime(|rt| {
        let probe = Probe::spawn(rt);
        let gate = Gate::new();
        let _opener = gate.opener();
        let g = gate.clone();
        let s = script_with(&probe, move |p, _| {
            Init::ok(p).then_continue(job(move |p, _| {
                p.report(Ev::Mark("continue started"));
                g.wait_blocking();
                p.log.push("continue".into());
                noreply()
            }))
        });
        // start returns while the continue is still held.
        let server = start::<Puppet>(rt, s, StartOptions::new()).unwrap();
        expect_event(&probe, |e| *e == Ev::Mark("continue started"));
        let s = server.clone();
        let pending = in_thread(move || {
            s.call(call_job(|p, r, _| answer(r, p.log.clone())))
                .map(unval::<Vec<String>>)
        });
        assert_pending(&pending);
        gate.open();
        assert_eq!(finished(&pending), Ok(vec!["continue".to_owned()]));
    });
}

/// Rule 83: a continue after a reply runs after the reply was sent (the
/// caller is not held by it), from `handle_call`, `handle_info` and
/// `handle_continue` alike.
#[test]
fn rule_83_continue_after_a_reply_and_from_every_callback() {
    each_runtime(|rt| {
        let probe = Probe::spawn(rt);
        let server = puppet(rt, &probe);
        let gate = Gate::new();
        let _opener = gate.opener();
        let g = gate.clone();
        let r = call_with(&server, move |_, r, _| {
            r.reply(val("replied")).then_continue(job(move |p, _| {
                g.wait_blocking();
                p.report(Ev::Mark("after the reply"));
                noreply()
            }))
        });
        assert_eq!(unval::<&str>(r.unwrap()), "replied");
        gate.open();
        expect_event(&probe, |e| *e == Ev::Mark("after the reply"));

        server.send_info(Note::Run(job(|_, _| {
            noreply().then_continue(report("from info"))
        })));
        expect_event(&probe, |e| *e == Ev::Mark("from info"));
    });
}

/// Rule 83: a continue may stop the server; `terminate` runs.
#[test]
fn rule_83_a_continue_can_stop_the_server() {
    each_runtime(|rt| {
        let probe = Probe::spawn(rt);
        let server = puppet(rt, &probe);
        cast(&server, |_, _| {
            noreply().then_continue(job(|_, _| stop("done")))
        });
        expect_event(&probe, |e| *e == Ev::Terminate(ExitReason::custom("done")));
        assert_eq!(exit_reason(&server), ExitReason::custom("done"));
    });
}

/// A server that asks for a continue without implementing
/// `handle_continue`. Written without `#[gen_server]`, which refuses a
/// declared `Continue` type without its handler at compile time: the
/// trait's default `handle_continue` is what this checks.
struct NoContinue {
    probe: Addr<Ev>,
}

impl GenServer for NoContinue {
    type Args = (Addr<Ev>, bool);
    type Call = std::convert::Infallible;
    type Cast = ();
    type Info = ();
    type Continue = ();

    fn init((probe, from_init): Self::Args, _ctx: &mut Ctx<'_, Self>) -> InitResult<Self> {
        let s = NoContinue { probe };
        if from_init {
            Init::ok(s).then_continue(())
        } else {
            Init::ok(s)
        }
    }

    fn handle_cast(&mut self, _: (), _ctx: &mut Ctx<'_, Self>) -> Handled<Self> {
        noreply().then_continue(())
    }

    fn terminate(&mut self, reason: &ExitReason, _ctx: &mut Ctx<'_, Self>) {
        self.probe.send(Ev::Terminate(reason.clone()));
    }
}

/// Rule 84: returning a continue without a `handle_continue` crashes the
/// server (after a start from init: start itself succeeded).
#[test]
fn rule_84_a_continue_without_handle_continue_crashes() {
    each_virtual_runtime(|rt| {
        let probe = Probe::spawn(rt);
        for from_init in [true, false] {
            // From init: start itself succeeds, the crash comes after.
            let server =
                start::<NoContinue>(rt, (probe.addr().clone(), from_init), StartOptions::new())
                    .expect("start succeeds");
            if !from_init {
                server.cast(());
            }
            let Ev::Terminate(reason) = expect_event(&probe, |e| matches!(e, Ev::Terminate(_)))
            else {
                unreachable!()
            };
            assert!(
                matches!(&reason, ExitReason::Panic(p) if p.message.contains("no handle_continue")),
                "{reason}"
            );
            assert_eq!(exit_reason(&server), reason);
        }
        assert_eq!(rt.now(), Duration::ZERO);
    });
}
