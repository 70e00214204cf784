//! Defaults and introspection: rules 95-99 (unexpected infos, missing
//! callbacks, `format_status`, get/replace state) and the `sys`-style
//! operations: suspend/resume, trace, statistics, status.

mod common;

use std::time::Duration;

use common::*;
use rotp_gen_server::{
    gen_server, noreply, start, stop, CallError, Ctx, GenServer, Handled, Init, InitResult,
    ReplyTo, StartOptions, Then,
};
use rotp_runtime::testing::LogCapture;
use rotp_runtime::testing::Probe;
use rotp_runtime::ExitReason;

/// A server with only `init` and `handle_call`, and an `Info` type.
struct Minimal;

#[gen_server]
impl GenServer for Minimal {
    type Info = &'static str;

    fn init((): (), _ctx: &mut Ctx<'_, Self>) -> InitResult<Self> {
        Init::ok(Minimal)
    }

    fn handle_call(&mut self, r: ReplyTo<&'static str>, _ctx: &mut Ctx<'_, Self>) -> Handled<Self> {
        r.reply("still here")
    }
}

/// A server with only `init` that declares call and cast types. Written
/// without `#[gen_server]`, which refuses a declared `Call` or `Cast` type
/// without its handler at compile time: the trait's default handlers are
/// what rule 97 checks.
struct Bare;

impl GenServer for Bare {
    type Args = ();
    type Call = ReplyTo<()>;
    type Cast = ();
    type Info = std::convert::Infallible;
    type Continue = std::convert::Infallible;

    fn init((): (), _ctx: &mut Ctx<'_, Self>) -> InitResult<Self> {
        Init::ok(Bare)
    }
}

/// Rules 95-96: without `handle_info`, a plain message is logged as a
/// warning and dropped; the server carries on.
#[test]
fn rule_95_unexpected_info_is_logged_and_dropped() {
    each_runtime(|rt| {
        let log = LogCapture::install(log::LevelFilter::Debug);
        let server = start::<Minimal>(rt, (), StartOptions::new()).unwrap();
        server.send_info("stray");
        let pid = server.pid().unwrap().to_string();
        rotp_runtime::testing::assert_eventually(TIMEOUT, "the warning is logged", || {
            log.any(|l| {
                l.starts_with("WARN") && l.contains(&pid) && l.contains("undefined handle_info")
            })
        });
        assert_eq!(bounded(move || server.call(|r| r)), Ok("still here"));
    });
}

/// Rule 97: without `handle_call` / `handle_cast`, a call or a cast
/// crashes the server; the caller gets the crash.
#[test]
fn rule_97_missing_handle_call_or_handle_cast_crashes() {
    each_runtime(|rt| {
        let server = start::<Bare>(rt, (), StartOptions::new()).unwrap();
        let s = server.clone();
        let e = bounded(move || s.call(|r| r));
        assert!(
            matches!(&e, Err(CallError::Exited(ExitReason::Panic(p))) if p.message.contains("no handle_call clause")),
            "{e:?}"
        );
        assert!(matches!(exit_reason(&server), ExitReason::Panic(_)));

        let server = start::<Bare>(rt, (), StartOptions::new()).unwrap();
        server.cast(());
        let reason = exit_reason(&server);
        assert!(
            matches!(&reason, ExitReason::Panic(p) if p.message.contains("no handle_cast clause")),
            "{reason}"
        );
    });
}

/// Rule 98: `status` shows the state through `format_status`; a panicking
/// `format_status` shows a marker instead of failing.
#[test]
fn rule_98_format_status_in_status() {
    each_runtime(|rt| {
        let probe = Probe::spawn(rt);
        let server = puppet(rt, &probe);
        ask(&server, |p, _| p.shown = "shown state".into());
        assert_eq!(server.status().unwrap().state, "shown state");
        ask(&server, |p, _| p.shown = "panic".into());
        assert_eq!(server.status().unwrap().state, "format_status crashed");
        assert!(server.is_alive());
    });
}

/// Rule 98: a crash report whose `format_status` panics shows the marker;
/// the server still exits with its own reason.
#[test]
fn rule_98_a_panicking_format_status_does_not_change_the_crash() {
    each_runtime(|rt| {
        let log = LogCapture::install(log::LevelFilter::Debug);
        let probe = Probe::spawn(rt);
        let name = format!("r98-{}", rt.workers());
        let server =
            start::<Puppet>(rt, script(&probe), StartOptions::new().name(name.as_str())).unwrap();
        cast(&server, |p, _| {
            p.shown = "panic".into();
            stop("crashed")
        });
        assert_eq!(exit_reason(&server), ExitReason::custom("crashed"));
        let report = log.lines(|l| l.contains(&format!("{name} (")) && l.contains("terminating"));
        assert_eq!(report.len(), 1, "{report:?}");
        assert!(report[0].contains("format_status crashed"), "{}", report[0]);
    });
}

/// Rule 99: `get_state` reads the state; `replace_state` replaces it; a
/// panicking function fails the request, leaves the state unchanged and
/// the server running.
#[test]
fn rule_99_get_state_and_replace_state() {
    each_runtime(|rt| {
        let probe = Probe::spawn(rt);
        let server = puppet(rt, &probe);
        ask(&server, |p, _| p.count = 5);
        assert_eq!(server.get_state(|p| p.count), Ok(5));
        server
            .replace_state(|p| Puppet {
                ev: p.ev.clone(),
                count: p.count * 10,
                log: Vec::new(),
                deferred: Vec::new(),
                after_info: None,
                on_terminate: None,
                shown: p.shown.clone(),
            })
            .unwrap();
        assert_eq!(ask(&server, |p, _| p.count), 50);

        let e = server.replace_state(|_| panic!("replace exploded"));
        assert!(
            matches!(&e, Err(CallError::Exited(ExitReason::Panic(p))) if p.message == "replace exploded"),
            "{e:?}"
        );
        let e = server.get_state(|_| -> i64 { panic!("get exploded") });
        assert!(
            matches!(&e, Err(CallError::Exited(ExitReason::Panic(_)))),
            "{e:?}"
        );
        assert_eq!(server.get_state(|p| p.count), Ok(50));

        server.stop(ExitReason::Normal, None).unwrap();
        assert_eq!(server.get_state(|p| p.count), Err(CallError::NoProc));
        assert_eq!(server.status().map(|_| ()), Err(CallError::NoProc));
    });
}

/// `suspend` holds calls, casts, infos and DOWNs — in order — while `sys`
/// requests are still served; `resume` handles what was held.
#[test]
fn suspend_holds_messages_until_resume() {
    each_runtime(|rt| {
        let probe = Probe::spawn(rt);
        let server = puppet(rt, &probe);
        let watched = host(rt, &probe);
        let w = watched.pid();
        ask(&server, move |_, ctx| {
            ctx.monitor(w);
        });
        server.suspend().unwrap();
        assert!(server.status().unwrap().suspended);

        cast(&server, |p, _| {
            p.report(Ev::Mark("cast"));
            noreply()
        });
        let call = server
            .send_request(call_job(|p, r, _| {
                p.report(Ev::Mark("call"));
                answer(r, ())
            }))
            .unwrap();
        info(&server, "info");
        host_cast(&watched, |ctx| ctx.exit(ExitReason::custom("gone")));
        // The DOWN has reached the server once its monitor is consumed.
        let pid = server.pid().unwrap();
        rotp_runtime::testing::assert_eventually(TIMEOUT, "the DOWN arrives", || {
            rt.process_info(pid).is_some_and(|i| i.monitors.is_empty())
        });
        refute_event(&probe, |e| !matches!(e, Ev::Init(_)));
        assert_eq!(
            server.get_state(|p| p.count),
            Ok(0),
            "sys requests are served"
        );

        server.resume().unwrap();
        assert_eq!(
            bounded(move || call.receive_response(None).map(|_| ())),
            Ok(())
        );
        let seen = events(&probe, 4);
        assert_eq!(
            seen[..3],
            [Ev::Mark("cast"), Ev::Mark("call"), Ev::Info("info")]
        );
        assert!(matches!(&seen[3], Ev::Down(d) if d.pid == w), "{seen:?}");
        assert!(!server.status().unwrap().suspended);
    });
}

/// `stop` is served while suspended, and runs `terminate`.
#[test]
fn stop_works_while_suspended() {
    each_runtime(|rt| {
        let probe = Probe::spawn(rt);
        let server = puppet(rt, &probe);
        server.suspend().unwrap();
        assert_eq!(server.stop(ExitReason::custom("bye"), None), Ok(()));
        expect_event(&probe, |e| *e == Ev::Terminate(ExitReason::custom("bye")));
    });
}

/// `trace(true)` logs each handled message at debug level, naming the
/// server; `trace(false)` stops it.
#[test]
fn trace_logs_each_message() {
    each_runtime(|rt| {
        let log = LogCapture::install(log::LevelFilter::Debug);
        let probe = Probe::spawn(rt);
        let name = format!("traced-{}", rt.workers());
        let server =
            start::<Puppet>(rt, script(&probe), StartOptions::new().name(name.as_str())).unwrap();
        let traced = |what: &str| {
            let prefix = format!("DEBUG {name} (");
            let suffix = format!("): {what}");
            log.lines(|l| l.starts_with(&prefix) && l.ends_with(&suffix))
                .len()
        };
        server.trace(true).unwrap();
        ask(&server, |_, _| ());
        cast(&server, |_, _| noreply());
        info(&server, "traced");
        expect_event(&probe, |e| *e == Ev::Info("traced"));
        assert_eq!((traced("call"), traced("cast"), traced("info")), (1, 1, 1));
        server.trace(false).unwrap();
        ask(&server, |_, _| ());
        assert_eq!(traced("call"), 1);
    });
}

/// `statistics` counts the calls, casts and infos handled (timeouts
/// included, sys requests not) and when init returned.
#[test]
fn statistics_count_what_the_server_handled() {
    each_virtual_runtime(|rt| {
        let probe = Probe::spawn(rt);
        rt.advance(Duration::from_secs(10));
        let server = puppet(rt, &probe);
        ask(&server, |_, _| ());
        ask(&server, |_, _| ());
        cast(&server, |_, _| noreply().timeout(Duration::ZERO));
        expect_event(&probe, |e| *e == Ev::Timeout);
        info(&server, "one");
        expect_event(&probe, |e| *e == Ev::Info("one"));
        server.status().unwrap();
        let stats = server.statistics().unwrap();
        assert_eq!(stats.started_at, Duration::from_secs(10));
        assert_eq!((stats.calls, stats.casts, stats.infos), (2, 1, 2));
    });
}

/// `status` reports pid, name, parent, suspension, state and counters.
#[test]
fn status_describes_the_server() {
    each_runtime(|rt| {
        let probe = Probe::spawn(rt);
        let name = format!("status-{}", rt.workers());
        let server =
            start::<Puppet>(rt, script(&probe), StartOptions::new().name(name.as_str())).unwrap();
        ask(&server, |p, _| p.shown = "the state".into());
        let status = server.status().unwrap();
        assert_eq!(status.pid, server.pid().unwrap());
        assert_eq!(status.name.as_deref(), Some(name.as_str()));
        assert_eq!(
            status.parent,
            server.pid().unwrap(),
            "started with start: its own parent"
        );
        assert!(!status.suspended);
        assert_eq!(status.state, "the state");
        assert_eq!(status.statistics.calls, 1);
    });
}
