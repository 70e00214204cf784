//! Starting a server: rules 46-57 (start variants, init results, names
//! checked before init, failed starts leave nothing behind, start timeout,
//! the parent).

mod common;

use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::Arc;
use std::time::Duration;

use common::*;
use rotp_gen_server::{
    noreply, start, start_link, start_monitor, Init, ServerRef, StartError, StartOptions, Then,
};
use rotp_runtime::testing::{Probe, Received};
use rotp_runtime::{ExitReason, Pid};

/// Rule 46: `start`, `start_link` and `start_monitor` all return only
/// after `init` has returned.
#[test]
fn rule_46_every_start_variant_waits_for_init() {
    each_runtime(|rt| {
        let probe = Probe::spawn(rt);
        for variant in ["start", "start_link", "start_monitor"] {
            let parent = host(rt, &probe);
            let gate = Gate::new();
            let _opener = gate.opener();
            let g = gate.clone();
            let s = script_with(&probe, move |p, _ctx| {
                g.wait_blocking();
                Init::ok(p)
            });
            let started = host_spawn(&parent, move |ctx| {
                let h = ctx.handle();
                let opts = StartOptions::new();
                match variant {
                    "start" => start::<Puppet>(&h, s, opts).map(|s| s.pid().unwrap()),
                    "start_link" => start_link::<Puppet>(&h, s, opts).map(|s| s.pid().unwrap()),
                    _ => start_monitor::<Puppet>(&h, s, opts).map(|(s, _)| s.pid().unwrap()),
                }
            });
            let pid = init_pid(&probe);
            assert_pending(&started);
            gate.open();
            assert_eq!(finished(&started), Ok(pid), "{variant}");
            assert!(rt.is_alive(pid));
            rt.kill(pid);
        }
    });
}

/// Rule 46: `start_link` links the server with its caller, `start` makes
/// no relation, `start_monitor` monitors it from the caller and returns the
/// monitor reference.
#[test]
fn rule_46_start_link_links_and_start_monitor_monitors() {
    each_runtime(|rt| {
        let probe = Probe::spawn(rt);
        let parent = host(rt, &probe);
        let me = parent.pid();

        let s = script(&probe);
        let alone = in_host(&parent, move |ctx| {
            start::<Puppet>(&ctx.handle(), s, StartOptions::new()).unwrap()
        });
        let info = rt.process_info(alone.pid().unwrap()).unwrap();
        assert!(info.links.is_empty() && info.monitored_by.is_empty());

        let s = script(&probe);
        let linked = in_host(&parent, move |ctx| {
            start_link::<Puppet>(&ctx.handle(), s, StartOptions::new()).unwrap()
        });
        let info = rt.process_info(linked.pid().unwrap()).unwrap();
        assert_eq!(info.links, vec![me]);
        assert!(info.monitored_by.is_empty());

        let s = script(&probe);
        let (monitored, mref) = in_host(&parent, move |ctx| {
            start_monitor::<Puppet>(&ctx.handle(), s, StartOptions::new()).unwrap()
        });
        let info = rt.process_info(monitored.pid().unwrap()).unwrap();
        assert!(info.links.is_empty());
        assert_eq!(info.monitored_by, vec![me]);
        monitored.stop(ExitReason::custom("bye"), None).unwrap();
        let down = expect_event(&probe, |e| matches!(e, Ev::HostDown(_)));
        assert!(
            matches!(down, Ev::HostDown(d) if d.mref == mref && d.pid == monitored.pid().unwrap()
            && d.reason == ExitReason::custom("bye"))
        );
        // `start` and `stop` from a plain thread: nothing to link with.
        let free = start_link::<Puppet>(rt, script(&probe), StartOptions::new()).unwrap();
        assert!(rt
            .process_info(free.pid().unwrap())
            .unwrap()
            .links
            .is_empty());
    });
}

/// Rule 47: the start results — `Ok`, `Ignored`, `Init(reason)`,
/// `AlreadyStarted(pid)`, `Timeout` — are distinct values.
#[test]
fn rule_47_start_results() {
    each_virtual_runtime(|rt| {
        let probe = Probe::spawn(rt);
        let ok = start::<Puppet>(rt, script(&probe), StartOptions::new().name("r47")).unwrap();
        assert!(ok.is_alive());
        assert_eq!(
            start::<Puppet>(rt, script(&probe), StartOptions::new().name("r47")).unwrap_err(),
            StartError::AlreadyStarted(ok.pid().unwrap())
        );
        assert_eq!(
            start::<Puppet>(
                rt,
                script_with(&probe, |_, _| Init::ignore()),
                StartOptions::new()
            )
            .unwrap_err(),
            StartError::Ignored
        );
        assert_eq!(
            start::<Puppet>(
                rt,
                script_with(&probe, |_, _| Init::error("foobar")),
                StartOptions::new()
            )
            .unwrap_err(),
            StartError::Init(ExitReason::custom("foobar"))
        );
        assert_eq!(
            start::<Puppet>(
                rt,
                script_with(&probe, |_, _| Init::stop("stopped")),
                StartOptions::new()
            )
            .unwrap_err(),
            StartError::Init(ExitReason::custom("stopped"))
        );
    });
}

/// Rule 48: a name that is taken fails the start with the holder's pid,
/// and the new server's `init` never runs.
#[test]
fn rule_48_already_started_does_not_run_init() {
    each_runtime(|rt| {
        let probe = Probe::spawn(rt);
        let first = start::<Puppet>(rt, script(&probe), StartOptions::new().name("r48")).unwrap();
        expect_event(&probe, |e| *e == Ev::Init(first.pid().unwrap()));
        for mode in 0..3 {
            let s = script(&probe);
            let opts = StartOptions::new().name("r48");
            let err = match mode {
                0 => start::<Puppet>(rt, s, opts).map(|_| ()),
                1 => start_link::<Puppet>(rt, s, opts).map(|_| ()),
                _ => {
                    let parent = host(rt, &probe);
                    in_host(&parent, move |ctx| {
                        start_monitor::<Puppet>(&ctx.handle(), s, opts).map(|_| ())
                    })
                }
            };
            assert_eq!(err, Err(StartError::AlreadyStarted(first.pid().unwrap())));
        }
        refute_event(&probe, |e| matches!(e, Ev::Init(_)));
        assert_eq!(rt.whereis("r48"), first.pid());
    });
}

/// Rule 48: of several concurrent starts under one name exactly one wins;
/// the others fail with `AlreadyStarted(winner)` and none of their inits
/// runs.
#[test]
fn rule_48_concurrent_starts_under_one_name_have_one_winner() {
    each_runtime(|rt| {
        let probe = Probe::spawn(rt);
        let inits = Arc::new(AtomicUsize::new(0));
        let results: Vec<_> = (0..8)
            .map(|_| {
                let h = rt.handle().clone();
                let s = {
                    let inits = inits.clone();
                    script_with(&probe, move |p, _| {
                        inits.fetch_add(1, SeqCst);
                        Init::ok(p)
                    })
                };
                in_thread(move || {
                    start::<Puppet>(&h, s, StartOptions::new().name("r48-race"))
                        .map(|s| s.pid().unwrap())
                })
            })
            .map(|rx| finished(&rx))
            .collect();
        let winners: Vec<Pid> = results
            .iter()
            .filter_map(|r| r.as_ref().ok().copied())
            .collect();
        assert_eq!(winners.len(), 1, "{results:?}");
        for r in &results {
            if let Err(e) = r {
                assert_eq!(*e, StartError::AlreadyStarted(winners[0]));
            }
        }
        assert_eq!(inits.load(SeqCst), 1, "only the winner's init ran");
        assert_eq!(rt.whereis("r48-race"), Some(winners[0]));
    });
}

/// Rule 49: `Init::ok(s)` gives a running server with no timeout;
/// `Init::ok(s).timeout(t)` arms the inactivity timeout from init.
#[test]
fn rule_49_init_ok_with_and_without_a_timeout_action() {
    each_virtual_runtime(|rt| {
        let probe = Probe::spawn(rt);
        let plain = puppet(rt, &probe);
        wait_timers(rt, 0);
        rt.advance(Duration::from_secs(3600));
        refute_event(&probe, |e| *e == Ev::Timeout);
        assert_eq!(ask(&plain, |p, _| p.count), 0);

        let s = script_with(&probe, |p, _| Init::ok(p).timeout(Duration::from_secs(2)));
        let timed = start::<Puppet>(rt, s, StartOptions::new()).unwrap();
        // Start returns after init, so the timer is already armed.
        assert_eq!(rt.stats().timers, 1);
        rt.advance(Duration::from_millis(1999));
        refute_event(&probe, |e| *e == Ev::Timeout);
        rt.advance(Duration::from_millis(1));
        expect_event(&probe, |e| *e == Ev::Timeout);
        assert!(timed.is_alive());
    });
}

/// Rule 49: `Init::ok(s).hibernate()` starts a server that serves as
/// usual.
#[test]
fn rule_49_init_ok_with_hibernate_serves_as_usual() {
    each_runtime(|rt| {
        let probe = Probe::spawn(rt);
        let s = script_with(&probe, |mut p, _| {
            p.count = 7;
            Init::ok(p).hibernate()
        });
        let server = start::<Puppet>(rt, s, StartOptions::new()).unwrap();
        assert_eq!(ask(&server, |p, _| p.count), 7);
    });
}

/// Rule 50: `Init::ignore()`: start returns `Ignored`, the process is gone
/// and its name released by then, `terminate` is not called, and a linked
/// caller is not harmed (no EXIT reaches even a trapping one).
#[test]
fn rule_50_init_ignore() {
    each_runtime(|rt| {
        let probe = Probe::spawn(rt);
        let parent = trapping_host(rt, &probe);
        let s = script_with(&probe, |_, _| Init::ignore());
        let (result, registered, processes) = in_host(&parent, move |ctx| {
            let h = ctx.handle();
            let r = start_link::<Puppet>(&h, s, StartOptions::new().name("r50"));
            (
                r.map(|s| s.pid().unwrap()),
                h.whereis("r50"),
                h.processes().len(),
            )
        });
        assert_eq!(result, Err(StartError::Ignored));
        assert_eq!(
            registered, None,
            "the name is released before start returns"
        );
        let pid = init_pid(&probe);
        assert!(rt.process_info(pid).is_none());
        assert_eq!(processes, 2, "only the probe and the host are left");
        refute_event(&probe, |e| matches!(e, Ev::Terminate(_) | Ev::HostExit(..)));
        assert!(parent.is_alive());
    });
}

/// Rule 51: `Init::error(r)`: start returns `Init(r)` but the process exits
/// `normal`, so a linked caller — trapping or not — is not harmed.
#[test]
fn rule_51_init_error_exits_normal() {
    each_runtime(|rt| {
        let probe = Probe::spawn(rt);
        // Seen by a monitor: the exit reason is normal.
        let watcher = host(rt, &probe);
        let s = script_with(&probe, |_, _| Init::error("foobar"));
        let result = in_host(&watcher, move |ctx| {
            start_monitor::<Puppet>(&ctx.handle(), s, StartOptions::new())
        });
        assert_eq!(
            result.unwrap_err(),
            StartError::Init(ExitReason::custom("foobar"))
        );
        expect_event(
            &probe,
            |e| matches!(e, Ev::HostDown(d) if d.reason == ExitReason::Normal),
        );

        // A linked, non-trapping caller survives; a trapping one gets no EXIT.
        for parent in [host(rt, &probe), trapping_host(rt, &probe)] {
            let s = script_with(&probe, |_, _| Init::error("foobar"));
            let result = in_host(&parent, move |ctx| {
                start_link::<Puppet>(&ctx.handle(), s, StartOptions::new())
            });
            assert_eq!(
                result.unwrap_err(),
                StartError::Init(ExitReason::custom("foobar"))
            );
            refute_event(&probe, |e| matches!(e, Ev::HostExit(..) | Ev::Terminate(_)));
            assert!(parent.is_alive());
        }
    });
}

/// Rule 52: `Init::stop(r)`: start returns `Init(r)`, the process exits
/// with `r` without `terminate`, and a linked caller that does not trap
/// exits dies of it.
#[test]
fn rule_52_init_stop_exits_with_the_reason_and_kills_a_linked_caller() {
    each_runtime(|rt| {
        let probe = Probe::spawn(rt);
        let watcher = host(rt, &probe);
        let s = script_with(&probe, |_, _| Init::stop("stopped"));
        let result = in_host(&watcher, move |ctx| {
            start_monitor::<Puppet>(&ctx.handle(), s, StartOptions::new())
        });
        assert_eq!(
            result.unwrap_err(),
            StartError::Init(ExitReason::custom("stopped"))
        );
        expect_event(
            &probe,
            |e| matches!(e, Ev::HostDown(d) if d.reason == ExitReason::custom("stopped")),
        );

        let parent = host(rt, &probe);
        let mref = probe.monitor(parent.pid());
        let s = script_with(&probe, |_, _| Init::stop("stopped"));
        let result = in_host(&parent, move |ctx| {
            start_link::<Puppet>(&ctx.handle(), s, StartOptions::new())
        });
        assert_eq!(
            result.unwrap_err(),
            StartError::Init(ExitReason::custom("stopped"))
        );
        assert_eq!(down_reason(&probe, mref), ExitReason::custom("stopped"));
        refute_event(&probe, |e| matches!(e, Ev::Terminate(_)));
    });
}

/// Rules 52 and 54: `Init::stop(normal)` does not harm a linked caller.
#[test]
fn rule_52_init_stop_normal_leaves_a_linked_caller_alive() {
    each_runtime(|rt| {
        let probe = Probe::spawn(rt);
        let parent = host(rt, &probe);
        let s = script_with(&probe, |_, _| Init::stop(ExitReason::Normal));
        let result = in_host(&parent, move |ctx| {
            start_link::<Puppet>(&ctx.handle(), s, StartOptions::new())
        });
        assert_eq!(result.unwrap_err(), StartError::Init(ExitReason::Normal));
        assert_eq!(in_host(&parent, |ctx| ctx.pid()), parent.pid());
    });
}

/// Rule 53: a panic in `init` fails the start with the panic as the
/// reason; the process exits with it and `terminate` is not called.
#[test]
fn rule_53_init_panic_fails_the_start() {
    each_runtime(|rt| {
        let probe = Probe::spawn(rt);
        let watcher = host(rt, &probe);
        let s = script_with(&probe, |_, _| panic!("init exploded"));
        let result = in_host(&watcher, move |ctx| {
            start_monitor::<Puppet>(&ctx.handle(), s, StartOptions::new())
        });
        let Err(StartError::Init(reason @ ExitReason::Panic(_))) = result else {
            panic!("expected a panic reason, got {result:?}");
        };
        assert!(reason.to_string().contains("init exploded"), "{reason}");
        expect_event(
            &probe,
            |e| matches!(e, Ev::HostDown(d) if d.reason == reason),
        );
        refute_event(&probe, |e| matches!(e, Ev::Terminate(_)));

        // A non-trapping linked caller dies of it.
        let parent = host(rt, &probe);
        let mref = probe.monitor(parent.pid());
        let s = script_with(&probe, |_, _| panic!("init exploded"));
        let result = in_host(&parent, move |ctx| {
            start_link::<Puppet>(&ctx.handle(), s, StartOptions::new())
        });
        assert!(matches!(
            result,
            Err(StartError::Init(ExitReason::Panic(_)))
        ));
        assert!(matches!(down_reason(&probe, mref), ExitReason::Panic(_)));
    });
}

/// Rule 54: whatever way init fails, when start returns the process has
/// exited and its name is free, and a trapping `start_link` caller finds
/// no EXIT from it in its mailbox.
#[test]
fn rule_54_failed_starts_leave_nothing_behind() {
    type Failing = fn(Puppet) -> rotp_gen_server::InitResult<Puppet>;
    let failures: [(&str, Failing); 5] = [
        ("ignore", |_| Init::ignore()),
        ("error", |_| Init::error("foobar")),
        ("stop", |_| Init::stop("stopped")),
        ("stop normal", |_| Init::stop(ExitReason::Normal)),
        ("panic", |_| panic!("init exploded")),
    ];
    each_runtime(|rt| {
        let probe = Probe::spawn(rt);
        let parent = trapping_host(rt, &probe);
        for (what, fail) in failures {
            let s = script_with(&probe, move |p, _| fail(p));
            let (result, holder) = in_host(&parent, move |ctx| {
                let h = ctx.handle();
                let r = start_link::<Puppet>(&h, s, StartOptions::new().name("r54"));
                (r.map(|s| s.pid().unwrap()), h.whereis("r54"))
            });
            assert!(result.is_err(), "{what}");
            assert_eq!(holder, None, "{what}: the name is free when start returns");
            let pid = init_pid(&probe);
            assert!(
                rt.process_info(pid).is_none(),
                "{what}: the process is gone"
            );
            // The trapping caller's mailbox holds no EXIT from the server.
            in_host(&parent, |_| ());
            refute_event(&probe, |e| matches!(e, Ev::HostExit(..)));
        }
    });
}

/// Rule 55: with a start timeout, a server whose init has not finished in
/// time is killed and start fails with `Timeout`, measured on the runtime
/// clock; the process is gone and its name free afterwards.
#[test]
fn rule_55_start_timeout_kills_a_slow_init() {
    each_virtual_runtime(|rt| {
        let probe = Probe::spawn(rt);
        let gate = Gate::new();
        let _opener = gate.opener();
        let s = slow_init(&probe, &gate);
        let opts = StartOptions::new()
            .name("r55")
            .timeout(Duration::from_secs(1));
        let h = rt.handle().clone();
        let started = in_thread(move || start::<Puppet>(&h, s, opts).map(|s| s.pid().unwrap()));
        let pid = init_pid(&probe);
        expect_slow_init_killed(rt, &probe, &gate, pid, &started);
    });
}

/// Rule 55 with a linked caller: the start timeout's kill does not reach a
/// non-trapping caller, and a trapping one finds no EXIT.
#[test]
fn rule_55_start_timeout_spares_a_linked_caller() {
    each_virtual_runtime(|rt| {
        let probe = Probe::spawn(rt);
        for trapping in [false, true] {
            let parent = if trapping {
                trapping_host(rt, &probe)
            } else {
                host(rt, &probe)
            };
            let gate = Gate::new();
            let _opener = gate.opener();
            let s = slow_init(&probe, &gate);
            let opts = StartOptions::new().timeout(Duration::from_secs(1));
            let started = host_spawn(&parent, move |ctx| {
                start_link::<Puppet>(&ctx.handle(), s, opts).map(|s| s.pid().unwrap())
            });
            let pid = init_pid(&probe);
            rt.advance(Duration::from_millis(999));
            assert_pending(&started);
            rt.advance(Duration::from_millis(1));
            assert_eq!(finished(&started), Err(StartError::Timeout));
            gate.open();
            rotp_runtime::testing::assert_eventually(TIMEOUT, "the server is gone", || {
                rt.process_info(pid).is_none()
            });
            // The caller survives and holds no EXIT.
            assert_eq!(in_host(&parent, |ctx| ctx.pid()), parent.pid());
            refute_event(&probe, |e| matches!(e, Ev::HostExit(..)));
        }
    });
}

/// An init that waits for `gate`, then reports whether it was killed
/// meanwhile.
fn slow_init(probe: &Probe<Ev>, gate: &Gate) -> Script {
    let g = gate.clone();
    script_with(probe, move |p, ctx| {
        g.wait_blocking();
        let seen = if ctx.is_exiting() {
            "init saw the kill"
        } else {
            "init done"
        };
        p.report(Ev::Mark(seen));
        Init::ok(p)
    })
}

/// The pid of the next server whose init runs.
#[track_caller]
fn init_pid(probe: &Probe<Ev>) -> Pid {
    match expect_event(probe, |e| matches!(e, Ev::Init(_))) {
        Ev::Init(pid) => pid,
        _ => unreachable!(),
    }
}

/// Drives a 1-second start timeout of the slow init `pid`: nothing before
/// the second, a kill at it (effective when init returns, R1), `Timeout`.
#[track_caller]
fn expect_slow_init_killed(
    rt: &rotp_runtime::Runtime,
    probe: &Probe<Ev>,
    gate: &Gate,
    pid: Pid,
    started: &std::sync::mpsc::Receiver<Result<Pid, StartError>>,
) {
    wait_timers(rt, 1);
    rt.advance(Duration::from_millis(999));
    assert_pending(started);
    assert!(rt.is_alive(pid));
    rt.advance(Duration::from_millis(1));
    // The start returns while init still runs: its timeout bounds it.
    assert_eq!(finished(started), Err(StartError::Timeout));
    assert!(!rt.is_alive(pid), "the server is killed");
    assert!(!gate.is_open());
    // Once init returns the kill takes effect and the name is released.
    gate.open();
    expect_event(probe, |e| *e == Ev::Mark("init saw the kill"));
    rotp_runtime::testing::assert_eventually(TIMEOUT, "the server is gone", || {
        rt.process_info(pid).is_none()
    });
    assert_eq!(rt.whereis("r55"), None);
}

/// Rule 55: the default start timeout is infinite: a slow init is waited
/// for however much time passes.
#[test]
fn rule_55_default_start_timeout_is_infinite() {
    each_virtual_runtime(|rt| {
        let probe = Probe::spawn(rt);
        let gate = Gate::new();
        let _opener = gate.opener();
        let g = gate.clone();
        let s = script_with(&probe, move |p, _| {
            g.wait_blocking();
            Init::ok(p)
        });
        let h = rt.handle().clone();
        let started = in_thread(move || {
            start::<Puppet>(&h, s, StartOptions::new()).map(|s| s.pid().unwrap())
        });
        expect_event(&probe, |e| matches!(e, Ev::Init(_)));
        rt.advance(Duration::from_secs(24 * 3600));
        assert_pending(&started);
        gate.open();
        assert!(finished(&started).is_ok());
    });
}

/// Rule 56: spawn options reach the server's process (here the mailbox
/// limit; `hibernate_after` is covered in `gen_server_timeout.rs`).
#[test]
fn rule_56_spawn_options_apply_to_the_server() {
    each_runtime(|rt| {
        let probe = Probe::spawn(rt);
        let opts = StartOptions::new()
            .mailbox_limit(1, rotp_runtime::Overflow::Reject)
            .reductions(1);
        let server = start::<Puppet>(rt, script(&probe), opts).unwrap();
        let gate = Gate::new();
        let _opener = gate.opener();
        hold(&server, &probe, &gate);
        assert!(server.try_cast(job(|_, _| noreply())).is_ok());
        assert!(server.try_cast(job(|_, _| noreply())).is_err());
    });
}

/// Rule 57: the parent is the caller for `start_link` and `start_monitor`,
/// and the server itself for `start`.
#[test]
fn rule_57_parent_by_start_variant() {
    each_runtime(|rt| {
        let probe = Probe::spawn(rt);
        let parent = host(rt, &probe);
        let me = parent.pid();
        let parents = in_host(&parent, move |ctx| {
            let h = ctx.handle();
            let parent_of = |s: ServerRef<Puppet>| (s.pid().unwrap(), s.status().unwrap().parent);
            [
                parent_of(start::<Puppet>(&h, script(&probe), StartOptions::new()).unwrap()),
                parent_of(start_link::<Puppet>(&h, script(&probe), StartOptions::new()).unwrap()),
                parent_of(
                    start_monitor::<Puppet>(&h, script(&probe), StartOptions::new())
                        .unwrap()
                        .0,
                ),
            ]
        });
        assert_eq!(parents[0].1, parents[0].0, "start: its own parent");
        assert_eq!(parents[1].1, me, "start_link: the caller");
        assert_eq!(parents[2].1, me, "start_monitor: the caller");
    });
}

/// Rule 57: with `start_monitor` there is no link, but an explicit exit
/// signal from the parent still ends a trapping server through
/// `terminate`; with `start` the same signal from the starter is just an
/// `Info::Exit`.
#[test]
fn rule_57_parent_exit_signal_without_a_link() {
    each_runtime(|rt| {
        let probe = Probe::spawn(rt);
        let parent = host(rt, &probe);
        for monitored in [true, false] {
            let s = script_with(&probe, |p, ctx| {
                ctx.trap_exit(true);
                Init::ok(p)
            });
            let server = in_host(&parent, move |ctx| {
                let h = ctx.handle();
                if monitored {
                    start_monitor::<Puppet>(&h, s, StartOptions::new())
                        .unwrap()
                        .0
                } else {
                    start::<Puppet>(&h, s, StartOptions::new()).unwrap()
                }
            });
            let pid = server.pid().unwrap();
            in_host(&parent, move |ctx| {
                ctx.send_exit(pid, ExitReason::custom("go away"))
            });
            if monitored {
                expect_event(&probe, |e| {
                    *e == Ev::Terminate(ExitReason::custom("go away"))
                });
                assert_eq!(exit_reason(&server), ExitReason::custom("go away"));
            } else {
                expect_event(&probe, |e| {
                    *e == Ev::Exit(parent.pid(), ExitReason::custom("go away"))
                });
                assert!(server.is_alive());
                refute_event(&probe, |e| matches!(e, Ev::Terminate(_)));
            }
        }
    });
}

/// Rule 55 from a process, for `start`, `start_link` and `start_monitor`:
/// with a start timeout, an init that waits on a gate makes the start
/// return `Timeout` once the timeout has passed, while init still runs;
/// the server is killed, and when init returns it exits and its name is
/// released. The calling process lives on.
#[test]
fn rule_55_every_start_variant_times_out_from_a_process() {
    each_virtual_runtime(|rt| {
        let probe = Probe::spawn(rt);
        let parent = host(rt, &probe);
        for variant in ["start", "start_link", "start_monitor"] {
            let gate = Gate::new();
            let _opener = gate.opener();
            let s = slow_init(&probe, &gate);
            let opts = StartOptions::new()
                .name("r55")
                .timeout(Duration::from_secs(1));
            let started = host_spawn(&parent, move |ctx| {
                let h = ctx.handle();
                match variant {
                    "start" => start::<Puppet>(&h, s, opts).map(|s| s.pid().unwrap()),
                    "start_link" => start_link::<Puppet>(&h, s, opts).map(|s| s.pid().unwrap()),
                    _ => start_monitor::<Puppet>(&h, s, opts).map(|(s, _)| s.pid().unwrap()),
                }
            });
            let pid = init_pid(&probe);
            expect_slow_init_killed(rt, &probe, &gate, pid, &started);
            assert_eq!(
                in_host(&parent, |ctx| ctx.pid()),
                parent.pid(),
                "{variant}: the caller lives on"
            );
        }
    });
}

/// Rule 51 by `?`: an error returned with `?` from `init` fails the start
/// with `Init(reason)`, the error's text as the reason, and the process
/// exits `normal` (a monitor sees `normal`; a linked caller that does not
/// trap exits lives on); `terminate` does not run.
#[test]
fn rule_51_question_mark_in_init_fails_the_start_and_exits_normal() {
    let text = "300".parse::<u8>().unwrap_err().to_string();
    let failing = |probe: &Probe<Ev>| {
        script_with(probe, |p, _| {
            let _small: u8 = "300".parse()?;
            Init::ok(p)
        })
    };
    each_runtime(|rt| {
        let probe = Probe::spawn(rt);
        let expected = StartError::Init(ExitReason::custom(&text));

        let watcher = host(rt, &probe);
        let s = failing(&probe);
        let result = in_host(&watcher, move |ctx| {
            start_monitor::<Puppet>(&ctx.handle(), s, StartOptions::new()).map(drop)
        });
        assert_eq!(result, Err(expected.clone()));
        expect_event(
            &probe,
            |e| matches!(e, Ev::HostDown(d) if d.reason == ExitReason::Normal),
        );

        let parent = host(rt, &probe);
        let mref = probe.monitor(parent.pid());
        let s = failing(&probe);
        let result = in_host(&parent, move |ctx| {
            start_link::<Puppet>(&ctx.handle(), s, StartOptions::new().name("r51-q")).map(drop)
        });
        assert_eq!(result, Err(expected));
        assert_eq!(rt.whereis("r51-q"), None);
        assert_eq!(in_host(&parent, |ctx| ctx.pid()), parent.pid());
        probe.refute_receive(QUIET, |r| matches!(r, Received::Down(d) if d.mref == mref));
        refute_event(&probe, |e| matches!(e, Ev::Terminate(_)));
    });
}
