//! Termination: rules 85-94 (when `terminate` runs and when it does not,
//! the parent's EXIT, the final reason, error reports, `stop`). Rule 85c
//! (bad return values) cannot happen in Rust (R3).

mod common;

use std::time::Duration;

use common::*;
use rotp_gen_server::{
    gen_server, noreply, start, start_link, stop, CallError, Ctx, GenServer, Handled, Init,
    InitResult, ReplyTo, ServerRef, StartOptions, StopError,
};
use rotp_runtime::testing::LogCapture;
use rotp_runtime::testing::Probe;
use rotp_runtime::{Addr, ExitReason, Runtime};

/// Starts a trapping puppet with `parent` as its (linked) parent.
fn trapping_child(parent: &Addr<HostJob>, probe: &Probe<Ev>) -> ServerRef<Puppet> {
    let s = script_with(probe, |p, ctx| {
        ctx.trap_exit(true);
        Init::ok(p)
    });
    in_host(parent, move |ctx| {
        start_link::<Puppet>(&ctx.handle(), s, StartOptions::new()).unwrap()
    })
}

/// Starts a non-trapping puppet with `parent` as its (linked) parent.
fn child(parent: &Addr<HostJob>, probe: &Probe<Ev>) -> ServerRef<Puppet> {
    let s = script(probe);
    in_host(parent, move |ctx| {
        start_link::<Puppet>(&ctx.handle(), s, StartOptions::new()).unwrap()
    })
}

/// Rule 85 (a, b, d): `terminate` runs — with the reason the server then
/// exits with — on a stop result, on a panic in a callback, and on `stop`.
#[test]
fn rule_85_terminate_runs_on_stop_results_panics_and_stop() {
    each_runtime(|rt| {
        let probe = Probe::spawn(rt);
        let server = puppet(rt, &probe);
        cast(&server, |_, _| stop("by result"));
        expect_event(&probe, |e| {
            *e == Ev::Terminate(ExitReason::custom("by result"))
        });
        assert_eq!(exit_reason(&server), ExitReason::custom("by result"));

        let server = puppet(rt, &probe);
        cast(&server, |_, _| panic!("by panic"));
        let Ev::Terminate(reason) = expect_event(&probe, |e| matches!(e, Ev::Terminate(_))) else {
            unreachable!()
        };
        assert!(matches!(&reason, ExitReason::Panic(p) if p.message == "by panic"));
        assert_eq!(exit_reason(&server), reason);

        let server = puppet(rt, &probe);
        assert_eq!(server.stop(ExitReason::custom("by stop"), None), Ok(()));
        expect_event(&probe, |e| {
            *e == Ev::Terminate(ExitReason::custom("by stop"))
        });
        assert_eq!(exit_reason(&server), ExitReason::custom("by stop"));
    });
}

/// Rule 85e: a server that traps exits runs `terminate(r)` and exits with
/// `r` when its parent exits with `r`.
#[test]
fn rule_85_terminate_runs_when_the_parent_exits_while_trapping() {
    each_runtime(|rt| {
        let probe = Probe::spawn(rt);
        for reason in [
            ExitReason::Shutdown,
            ExitReason::shutdown_with("bye"),
            ExitReason::custom("boom"),
        ] {
            let parent = host(rt, &probe);
            let server = trapping_child(&parent, &probe);
            let r = reason.clone();
            host_cast(&parent, move |ctx| ctx.exit(r));
            expect_event(&probe, |e| *e == Ev::Terminate(reason.clone()));
            assert_eq!(exit_reason(&server), reason);
        }
    });
}

/// Rule 85e: stopping the runtime is the parent's exit for trapping servers
/// started from outside any process: each runs `terminate(shutdown)`.
#[test]
fn rule_85_runtime_shutdown_runs_terminate_of_trapping_root_servers() {
    for workers in WORKER_COUNTS {
        let rt = Runtime::builder().workers(workers).build().unwrap();
        // The probe is a root too, shut down after the servers: report
        // through a channel instead.
        let probe = Probe::spawn(&rt);
        let (tx, terminated) = std::sync::mpsc::channel();
        for linked in [false, true] {
            let tx = tx.clone();
            let s = script_with(&probe, move |mut p, ctx| {
                ctx.trap_exit(true);
                p.on_terminate = Some(Box::new(move |_, reason| tx.send(reason.clone()).unwrap()));
                Init::ok(p)
            });
            if linked {
                start_link::<Puppet>(&rt, s, StartOptions::new()).unwrap();
            } else {
                start::<Puppet>(&rt, s, StartOptions::new()).unwrap();
            }
        }
        rt.shutdown(TIMEOUT).unwrap();
        let reasons: Vec<_> = terminated.try_iter().collect();
        assert_eq!(
            reasons,
            [ExitReason::Shutdown, ExitReason::Shutdown],
            "{workers} worker(s)"
        );
    }
}

/// Rule 86: a kill ends a server without `terminate`, trapping or not.
#[test]
fn rule_86_no_terminate_on_kill() {
    each_runtime(|rt| {
        let probe = Probe::spawn(rt);
        for trapping in [false, true] {
            let s = script_with(&probe, move |p, ctx| {
                ctx.trap_exit(trapping);
                Init::ok(p)
            });
            let server = start::<Puppet>(rt, s, StartOptions::new()).unwrap();
            rt.kill(server.pid().unwrap());
            assert_eq!(exit_reason(&server), ExitReason::Killed);
        }
        refute_event(&probe, |e| matches!(e, Ev::Terminate(_)));
    });
}

/// Rule 86: an exit signal the server does not trap ends it at once,
/// without `terminate` — sent explicitly, or through the link to a parent
/// that died.
#[test]
fn rule_86_no_terminate_on_an_untrapped_exit_signal() {
    each_runtime(|rt| {
        let probe = Probe::spawn(rt);
        let server = puppet(rt, &probe);
        rt.send_exit(server.pid().unwrap(), ExitReason::custom("shot"));
        assert_eq!(exit_reason(&server), ExitReason::custom("shot"));

        let parent = host(rt, &probe);
        let server = child(&parent, &probe);
        host_cast(&parent, |ctx| ctx.exit(ExitReason::custom("parent died")));
        assert_eq!(exit_reason(&server), ExitReason::custom("parent died"));
        refute_event(&probe, |e| matches!(e, Ev::Terminate(_)));
    });
}

/// Rule 87: while trapping, an EXIT from a linked process other than the
/// parent is just a message for `handle_info`.
#[test]
fn rule_87_only_the_parents_exit_terminates() {
    each_runtime(|rt| {
        let probe = Probe::spawn(rt);
        let parent = host(rt, &probe);
        let server = trapping_child(&parent, &probe);
        let other = host(rt, &probe);
        let other_pid = other.pid();
        ask(&server, move |_, ctx| ctx.link(other_pid).unwrap());
        host_cast(&other, |ctx| ctx.exit(ExitReason::custom("not the parent")));
        expect_event(&probe, |e| {
            *e == Ev::Exit(other_pid, ExitReason::custom("not the parent"))
        });
        assert!(server.is_alive());
        refute_event(&probe, |e| matches!(e, Ev::Terminate(_)));
        assert_eq!(ask(&server, |p, _| p.count), 0);
    });
}

/// Rule 88: a parent exiting `normal` terminates a trapping server (reason
/// `normal`, `terminate` called); a non-trapping one ignores it.
#[test]
fn rule_88_parent_exiting_normal() {
    each_runtime(|rt| {
        let probe = Probe::spawn(rt);
        let parent = host(rt, &probe);
        let trapping = trapping_child(&parent, &probe);
        let plain = child(&parent, &probe);
        host_cast(&parent, |ctx| ctx.exit(ExitReason::Normal));
        expect_event(&probe, |e| *e == Ev::Terminate(ExitReason::Normal));
        assert_eq!(exit_reason(&trapping), ExitReason::Normal);
        assert_eq!(ask(&plain, |p, _| p.count), 0);
        assert!(plain.is_alive());
        refute_event(&probe, |e| matches!(e, Ev::Terminate(_)));
    });
}

/// Rule 89: the parent's EXIT is handled in mailbox order: what arrived
/// before it is handled first, what arrives after it never is.
#[test]
fn rule_89_the_parents_exit_is_handled_in_mailbox_order() {
    each_runtime(|rt| {
        let probe = Probe::spawn(rt);
        let parent = host(rt, &probe);
        let server = trapping_child(&parent, &probe);
        let gate = Gate::new();
        let _opener = gate.opener();
        hold(&server, &probe, &gate);
        let mark = |tag: &'static str| {
            cast(&server, move |p, _| {
                p.report(Ev::Mark(tag));
                noreply()
            })
        };
        mark("before 1");
        mark("before 2");
        host_cast(&parent, |ctx| ctx.exit(ExitReason::Shutdown));
        wait_queued(rt, server.pid().unwrap(), 3);
        mark("after");
        gate.open();
        assert_eq!(
            events(&probe, 3),
            [
                Ev::Mark("before 1"),
                Ev::Mark("before 2"),
                Ev::Terminate(ExitReason::Shutdown)
            ]
        );
        assert_eq!(exit_reason(&server), ExitReason::Shutdown);
        refute_event(&probe, |e| *e == Ev::Mark("after"));
    });
}

/// Rule 90: if `terminate` panics, the server exits with that panic
/// instead, and `stop` reports it.
#[test]
fn rule_90_a_panicking_terminate_replaces_the_reason() {
    each_runtime(|rt| {
        let probe = Probe::spawn(rt);
        let log = LogCapture::install(log::LevelFilter::Debug);
        let server = puppet(rt, &probe);
        ask(&server, |p, _| {
            p.on_terminate = Some(Box::new(|_, _| panic!("terminate exploded")))
        });
        let result = server.stop(ExitReason::Normal, None);
        let Err(StopError::Exited(reason)) = result else {
            panic!("expected the panic, got {result:?}");
        };
        assert!(matches!(&reason, ExitReason::Panic(p) if p.message == "terminate exploded"));
        assert_eq!(exit_reason(&server), reason);
        assert!(log.any(|l| l.starts_with("ERROR") && l.contains("terminate panicked")));
    });
}

/// A server without `terminate`.
struct Plain;

#[gen_server]
impl GenServer for Plain {
    fn init((): (), _ctx: &mut Ctx<'_, Self>) -> InitResult<Self> {
        Init::ok(Plain)
    }

    fn handle_cast(&mut self, reason: ExitReason, _ctx: &mut Ctx<'_, Self>) -> Handled<Self> {
        stop(reason)
    }
}

/// Rule 91: without a `terminate` callback, stops work as usual.
#[test]
fn rule_91_the_default_terminate_does_nothing() {
    each_runtime(|rt| {
        let server = start::<Plain>(rt, (), StartOptions::new()).unwrap();
        assert_eq!(server.stop(ExitReason::custom("bye"), None), Ok(()));
        let server = start::<Plain>(rt, (), StartOptions::new()).unwrap();
        server.cast(ExitReason::custom("by result"));
        assert_eq!(exit_reason(&server), ExitReason::custom("by result"));
    });
}

/// Rule 92: an abnormal exit is reported as an error naming the server,
/// the reason and the state as `format_status` shows it; a normal-class
/// exit (`normal`, `shutdown`, `{shutdown, _}`) is not reported.
#[test]
fn rule_92_error_report_for_abnormal_exits_only() {
    each_runtime(|rt| {
        let log = LogCapture::install(log::LevelFilter::Debug);
        let probe = Probe::spawn(rt);
        let start_named = |name: &str| {
            let s = script_with(&probe, |mut p, _| {
                p.shown = "state-r92".into();
                Init::ok(p)
            });
            // One name per runtime: the log is shared by the whole binary.
            let name = format!("{name}-{}", rt.workers());
            (
                start::<Puppet>(rt, s, StartOptions::new().name(name.as_str())).unwrap(),
                name,
            )
        };
        let (crashy, name) = start_named("r92-crashy");
        cast(&crashy, |_, _| panic!("r92 exploded"));
        exit_reason(&crashy);
        let report = log.lines(|l| l.contains(&format!("{name} (")) && l.contains("terminating"));
        assert_eq!(report.len(), 1, "{report:?}");
        let line = &report[0];
        assert!(line.starts_with("ERROR"), "{line}");
        assert!(
            line.contains("r92 exploded") && line.contains("state-r92"),
            "{line}"
        );

        for (name, reason) in [
            ("r92-normal", ExitReason::Normal),
            ("r92-shutdown", ExitReason::Shutdown),
            ("r92-shutdown-with", ExitReason::shutdown_with("x")),
        ] {
            let (server, name) = start_named(name);
            server.stop(reason, None).unwrap();
            assert!(
                !log.any(|l| l.contains(&format!("{name} (")) && l.contains("terminating")),
                "{name}"
            );
        }
    });
}

/// Rule 93: `stop(r)` runs `terminate(r)` and returns `Ok` once the server
/// has exited with `r`; by pid or by name.
#[test]
fn rule_93_stop_runs_terminate_and_waits_for_the_exit() {
    each_runtime(|rt| {
        let probe = Probe::spawn(rt);
        for (by_name, reason) in [
            (false, ExitReason::Normal),
            (true, ExitReason::custom("done")),
        ] {
            let server =
                start::<Puppet>(rt, script(&probe), StartOptions::new().name("r93")).unwrap();
            let target = if by_name {
                ServerRef::named(rt, "r93")
            } else {
                server.clone()
            };
            assert_eq!(target.stop(reason.clone(), None), Ok(()));
            expect_event(&probe, |e| *e == Ev::Terminate(reason.clone()));
            // Exited, and the name is free, when stop returns.
            assert!(rt.process_info(server.pid().unwrap()).is_none());
            assert_eq!(rt.whereis("r93"), None);
        }
    });
}

/// Rule 93: `stop` fails with `NoProc` for a missing server and with
/// `Timeout` when the server has not exited in time (on the runtime clock)
/// — the server keeps shutting down.
#[test]
fn rule_93_stop_noproc_and_timeout() {
    each_virtual_runtime(|rt| {
        let probe = Probe::spawn(rt);
        assert_eq!(
            ServerRef::<Puppet>::named(rt, "r93-nobody").stop(ExitReason::Normal, None),
            Err(StopError::NoProc)
        );
        let gone = puppet(rt, &probe);
        gone.stop(ExitReason::Normal, None).unwrap();
        assert_eq!(gone.stop(ExitReason::Normal, None), Err(StopError::NoProc));

        let server = puppet(rt, &probe);
        let gate = Gate::new();
        let _opener = gate.opener();
        let g = gate.clone();
        ask(&server, move |p, _| {
            p.on_terminate = Some(Box::new(move |_, _| {
                g.wait_blocking();
            }))
        });
        let s = server.clone();
        let stopping =
            in_thread(move || s.stop(ExitReason::custom("slow"), Some(Duration::from_secs(1))));
        expect_event(&probe, |e| *e == Ev::Terminate(ExitReason::custom("slow")));
        rt.advance(Duration::from_millis(999));
        assert_pending(&stopping);
        // `stop` polls the clock: step it until the timeout is seen.
        let mut result = None;
        for _ in 0..100 {
            rt.advance(Duration::from_millis(100));
            if let Ok(r) = stopping.recv_timeout(Duration::from_millis(20)) {
                result = Some(r);
                break;
            }
        }
        assert_eq!(result, Some(Err(StopError::Timeout)));
        assert!(server.exit_reason().is_none(), "still shutting down");
        gate.open();
        assert_eq!(exit_reason(&server), ExitReason::custom("slow"));
    });
}

/// Rule 94: linked processes receive the final exit reason — the stop
/// reason, or the panic of a crashing `terminate`.
#[test]
fn rule_94_links_see_the_final_reason() {
    each_runtime(|rt| {
        let probe = Probe::spawn(rt);
        let parent = trapping_host(rt, &probe);
        let server = child(&parent, &probe);
        cast(&server, |_, _| stop("final"));
        expect_event(&probe, |e| {
            *e == Ev::HostExit(server.pid().unwrap(), ExitReason::custom("final"))
        });

        let server = child(&parent, &probe);
        cast(&server, |p, _| {
            p.on_terminate = Some(Box::new(|_, _| panic!("terminate exploded")));
            stop("final")
        });
        let pid = server.pid().unwrap();
        let Ev::HostExit(_, reason) =
            expect_event(&probe, |e| matches!(e, Ev::HostExit(p, _) if *p == pid))
        else {
            unreachable!()
        };
        assert!(
            matches!(&reason, ExitReason::Panic(p) if p.message == "terminate exploded"),
            "{reason}"
        );
    });
}

/// Rule 93 bounded by its timeout (as rule 65 bounds a call): `stop(r,
/// Some(t))` against a server stuck in a handler returns `Timeout` once
/// `t` has passed, from a plain thread and from a process, while the
/// handler still waits on a gate; once the handler returns, the server
/// serves the stop: `terminate(r)` runs and it exits with `r`.
#[test]
fn rule_93_stop_times_out_against_a_server_stuck_in_a_handler() {
    each_virtual_runtime(|rt| {
        let probe = Probe::spawn(rt);
        let client = host(rt, &probe);
        for in_process in [false, true] {
            let server = puppet(rt, &probe);
            let gate = Gate::new();
            let _opener = gate.opener();
            hold(&server, &probe, &gate);
            let s = server.clone();
            let stop = move || s.stop(ExitReason::custom("late"), Some(Duration::from_secs(1)));
            let stopping = if in_process {
                host_spawn(&client, move |_| stop())
            } else {
                in_thread(stop)
            };
            wait_timers(rt, 1);
            rt.advance(Duration::from_millis(999));
            assert_pending(&stopping);
            rt.advance(Duration::from_millis(1));
            assert_eq!(
                finished(&stopping),
                Err(StopError::Timeout),
                "in a process: {in_process}"
            );
            assert!(!gate.is_open());
            assert!(server.is_alive(), "still in its handler");
            refute_event(&probe, |e| matches!(e, Ev::Terminate(_)));
            gate.open();
            expect_event(&probe, |e| *e == Ev::Terminate(ExitReason::custom("late")));
            assert_eq!(exit_reason(&server), ExitReason::custom("late"));
        }
        assert_eq!(in_host(&client, |ctx| ctx.pid()), client.pid());
    });
}

/// Rule 2 in a server: `rotp_runtime::exit(reason)` from a callback ends
/// the server with `reason` at once — the rest of the callback does not
/// run — `terminate` runs with it, a waiting caller gets it, and it is not
/// reported as a panic. From a call handler run by a worker, from one run
/// on the calling thread, and from a cast; `exit(normal)` logs nothing.
#[test]
fn rule_2_exit_from_a_callback_ends_the_server_with_its_reason() {
    each_runtime(|rt| {
        let log = LogCapture::install(log::LevelFilter::Debug);
        let probe = Probe::spawn(rt);
        let named = |tag: &str| {
            let name = format!("exit-{tag}-{}", rt.workers());
            let server =
                start::<Puppet>(rt, script(&probe), StartOptions::new().name(name.as_str()))
                    .unwrap();
            (server, name)
        };
        let expect_exit = |server: &ServerRef<Puppet>, name: &str, reason: &ExitReason| {
            expect_event(&probe, |e| *e == Ev::Terminate(reason.clone()));
            assert_eq!(exit_reason(server), *reason);
            refute_event(&probe, |e| *e == Ev::Mark("after exit"));
            let lines = log.lines(|l| l.contains(&format!("{name} (")));
            assert!(
                lines.iter().all(|l| !l.contains("panic")),
                "{name}: {lines:?}"
            );
            if reason.is_normal_class() {
                assert!(lines.is_empty(), "{name}: {lines:?}");
            } else {
                assert_eq!(lines.len(), 1, "{name}: {lines:?}");
                assert!(lines[0].contains(&format!("terminating: {reason}")));
            }
        };
        // Exits, unless told otherwise by a count the tests never set.
        let exiting = |reason: ExitReason| {
            move |p: &mut Puppet, _: ReplyTo<Val>, _: &mut Ctx<'_, Puppet>| -> Handled<Puppet> {
                if p.count == 0 {
                    rotp_runtime::exit(reason);
                }
                p.report(Ev::Mark("after exit"));
                noreply()
            }
        };

        let (server, name) = named("call");
        let reason = ExitReason::custom("by call");
        let e = call_with(&server, exiting(reason.clone()));
        assert_eq!(err(e), CallError::Exited(reason.clone()));
        expect_exit(&server, &name, &reason);

        // Without a timeout, to an idle server: the handler runs on the
        // calling thread, and the exit unwinds from there.
        let (server, name) = named("inline");
        wait_idle(rt, &server);
        let reason = ExitReason::shutdown_with("by an inline call");
        let (ran, on) = std::sync::mpsc::channel();
        let s = server.clone();
        let exit = exiting(reason.clone());
        let (caller, result) = bounded(move || {
            let job = call_job(move |p, r, ctx| {
                ran.send(here()).unwrap();
                exit(p, r, ctx)
            });
            (here(), s.call_timeout(job, None).map(drop))
        });
        assert_eq!(
            on.recv_timeout(TIMEOUT).unwrap(),
            caller,
            "ran on the caller"
        );
        assert_eq!(result, Err(CallError::Exited(reason.clone())));
        expect_exit(&server, &name, &reason);

        let (server, name) = named("cast");
        let reason = ExitReason::custom("by cast");
        let r = reason.clone();
        cast(&server, move |p, _| {
            if p.count == 0 {
                rotp_runtime::exit(r);
            }
            p.report(Ev::Mark("after exit"));
            noreply()
        });
        expect_exit(&server, &name, &reason);

        let (server, name) = named("normal");
        cast(&server, |_, _| rotp_runtime::exit(ExitReason::Normal));
        expect_exit(&server, &name, &ExitReason::Normal);
    });
}
