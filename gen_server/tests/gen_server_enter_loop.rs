//! `enter_loop`: rule 101 — a process that did its own start-up becomes a
//! server (`spawn_enter` + `enter_loop`, the rotp form of `proc_lib:spawn`
//! followed by `gen_server:enter_loop`).

mod common;

use std::sync::atomic::Ordering::SeqCst;
use std::sync::Arc;
use std::time::Duration;

use common::*;
use rotp_gen_server::{
    enter_loop, noreply, spawn_enter, stop, CallError, Ctx, EnterError, EnterLoop, EnterOptions,
    EventTimeout, ServerName, ServerRef, StopError, Then,
};
use rotp_runtime::testing::Probe;
use rotp_runtime::{ExitReason, Handle, Pid, SpawnOptions};

type Body = dyn FnOnce(Puppet, &mut Ctx<'_, Puppet>) -> EnterLoop<Puppet> + Send;

/// Spawns a process that builds a puppet reporting to `probe` and runs
/// `body` with it; the body decides whether and how to enter the loop.
fn spawn_puppet(
    rt: &Handle,
    probe: &Probe<Ev>,
    opts: &SpawnOptions,
    body: impl FnOnce(Puppet, &mut Ctx<'_, Puppet>) -> EnterLoop<Puppet> + Send + 'static,
) -> ServerRef<Puppet> {
    let ev = probe.addr().clone();
    let body: Box<Body> = Box::new(body);
    spawn_enter::<Puppet, _>(rt, opts, move |ctx| {
        let puppet = Puppet {
            ev,
            count: 0,
            log: Vec::new(),
            deferred: Vec::new(),
            after_info: None,
            on_terminate: None,
            shown: "entered".to_owned(),
        };
        body(puppet, ctx)
    })
    .0
}

/// The two kinds of name, under `key`.
fn names(registry: &Arc<TestRegistry>, key: &str) -> [(&'static str, ServerName); 2] {
    [("local", key.into()), ("via", registry.name(key))]
}

/// Registers the calling process (`pid`) under `name`, as OTP's
/// enter_loop expects the process to have done.
fn register(rt: &Handle, name: &ServerName, pid: Pid) {
    match name {
        ServerName::Local(n) => rt.register(n.clone(), pid).expect("the name is free"),
        ServerName::Via(registry, key) => {
            registry.register_name(key, pid).expect("the key is free")
        }
        other => other.register(rt, pid).expect("the key is free"),
    }
}

/// The reason a process exits with when it is not registered under `name`.
fn not_registered(name: &ServerName) -> ExitReason {
    match name {
        ServerName::Local(_) => EnterError::NotRegistered.reason(),
        _ => EnterError::NotRegisteredVia.reason(),
    }
}

/// A cast that reports `Ev::Mark(tag)`.
fn mark(server: &ServerRef<Puppet>, tag: &'static str) {
    cast(server, move |p, _| {
        p.report(Ev::Mark(tag));
        noreply()
    });
}

/// Rule 101: the spawned process runs its body — init never runs — and
/// then serves as a server: what was sent to it meanwhile is queued and
/// served in order once it has entered the loop; it can be stopped like
/// any server.
#[test]
fn rule_101_the_process_becomes_a_server_after_its_body() {
    each_runtime(|rt| {
        let probe = Probe::spawn(rt);
        let gate = Gate::new();
        let _opener = gate.opener();
        let g = gate.clone();
        let server = spawn_puppet(rt, &probe, &SpawnOptions::new(), move |p, _| {
            p.report(Ev::Mark("body"));
            g.wait_blocking();
            enter_loop(p, EnterOptions::new())
        });
        expect_event(&probe, |e| *e == Ev::Mark("body"));
        mark(&server, "queued cast");
        let s = server.clone();
        let called = in_thread(move || s.call(call_job(|_, r, ctx| answer(r, ctx.pid()))));
        info(&server, "queued info");
        wait_queued(rt, server.pid().unwrap(), 3);
        assert_pending(&called);
        gate.open();
        let first = events(&probe, 2);
        assert_eq!(first, [Ev::Mark("queued cast"), Ev::Info("queued info")]);
        let me = finished(&called).map(unval::<Pid>);
        assert_eq!(me, Ok(server.pid().unwrap()));
        refute_event(&probe, |e| matches!(e, Ev::Init(_)));

        let status = server.status().unwrap();
        assert_eq!(status.parent, Pid::ROOT, "spawned from outside any process");
        assert_eq!(status.name, None);
        assert_eq!(status.state, "entered");
        assert_eq!(server.stop(ExitReason::Normal, None), Ok(()));
        expect_event(&probe, |e| *e == Ev::Terminate(ExitReason::Normal));
    });
}

/// Rule 101: with a local or via name, the process must already hold it;
/// then the server is reachable by that name, and releases it when it
/// exits like a started server does.
#[test]
fn rule_101_a_named_process_that_registered_itself_serves_by_name() {
    each_runtime(|rt| {
        let probe = Probe::spawn(rt);
        let registry = TestRegistry::new();
        for (kind, name) in names(&registry, "r101") {
            let (h, n) = (rt.handle().clone(), name.clone());
            let server = spawn_puppet(rt, &probe, &SpawnOptions::new(), move |p, ctx| {
                register(&h, &n, ctx.pid());
                enter_loop(p, EnterOptions::new().name(n))
            });
            // spawn_enter returns before the body runs: the name appears
            // once the process has registered it.
            let pid = server.pid().unwrap();
            rotp_runtime::testing::assert_eventually(TIMEOUT, "the body registers", || {
                name.whereis(rt) == Some(pid)
            });
            let by_name = ServerRef::<Puppet>::named(rt, name.clone());
            let b = by_name.clone();
            let me = bounded(move || {
                b.call(call_job(|_, r, ctx| answer(r, ctx.pid())))
                    .map(unval::<Pid>)
            });
            assert_eq!(me, Ok(server.pid().unwrap()), "{kind}");
            assert_eq!(
                server.status().unwrap().name,
                Some(name.to_string()),
                "{kind}"
            );
            assert_eq!(by_name.stop(ExitReason::Normal, None), Ok(()), "{kind}");
            assert_eq!(name.whereis(rt), None, "{kind}: the name is released");
        }
        assert!(registry.unregistered.load(SeqCst) > 0);
    });
}

/// Rule 101: a process that is not registered under the name it enters
/// with exits `process_not_registered` (local) or
/// `process_not_registered_via` (via) instead of serving — whether nobody
/// or another process holds the name. `terminate` does not run; a call
/// queued meanwhile fails with that reason; the other holder keeps its
/// name.
#[test]
fn rule_101_an_unregistered_name_exits_process_not_registered() {
    each_runtime(|rt| {
        let probe = Probe::spawn(rt);
        let registry = TestRegistry::new();
        for (kind, name) in names(&registry, "r101x") {
            for holder in ["nobody", "another process"] {
                let other = host(rt, &probe);
                if holder != "nobody" {
                    register(rt, &name, other.pid());
                }
                let gate = Gate::new();
                let _opener = gate.opener();
                let (g, n) = (gate.clone(), name.clone());
                let server = spawn_puppet(rt, &probe, &SpawnOptions::new(), move |p, _| {
                    p.report(Ev::Mark("body"));
                    g.wait_blocking();
                    enter_loop(p, EnterOptions::new().name(n))
                });
                expect_event(&probe, |e| *e == Ev::Mark("body"));
                let s = server.clone();
                let called = in_thread(move || s.call(call_job(|_, r, _| answer(r, ()))).map(drop));
                wait_queued(rt, server.pid().unwrap(), 1);
                gate.open();
                let reason = not_registered(&name);
                assert_eq!(exit_reason(&server), reason, "{kind}, {holder}");
                assert_eq!(finished(&called), Err(CallError::Exited(reason.clone())));
                refute_event(&probe, |e| matches!(e, Ev::Terminate(_)));
                let expected = (holder != "nobody").then(|| other.pid());
                assert_eq!(name.whereis(rt), expected, "{kind}, {holder}");
                rt.kill(other.pid());
            }
        }
        assert_eq!(
            EnterError::NotRegistered.reason(),
            ExitReason::custom("process_not_registered")
        );
        assert_eq!(
            EnterError::NotRegisteredVia.reason(),
            ExitReason::custom("process_not_registered_via")
        );
    });
}

/// Rule 101 with rules 57 and 85: the spawner is the server's parent; a
/// trapping server linked to it terminates with the parent's exit reason.
#[test]
fn rule_101_the_spawner_is_the_parent() {
    each_runtime(|rt| {
        let probe = Probe::spawn(rt);
        let parent = host(rt, &probe);
        let (h, pr) = (rt.handle().clone(), probe.addr().clone());
        let server = in_host(&parent, move |_ctx| {
            let ev = pr.clone();
            spawn_enter::<Puppet, _>(&h, &SpawnOptions::new().link(true), move |ctx| {
                ctx.trap_exit(true);
                let puppet = Puppet {
                    ev,
                    count: 0,
                    log: Vec::new(),
                    deferred: Vec::new(),
                    after_info: None,
                    on_terminate: None,
                    shown: "entered".to_owned(),
                };
                puppet.report(Ev::Mark(if ctx.parent() == ctx.pid() {
                    "self"
                } else {
                    "spawner"
                }));
                enter_loop(puppet, EnterOptions::new())
            })
            .0
        });
        expect_event(&probe, |e| *e == Ev::Mark("spawner"));
        assert_eq!(server.status().unwrap().parent, parent.pid());
        host_cast(&parent, |ctx| ctx.exit(ExitReason::custom("bye")));
        expect_event(&probe, |e| *e == Ev::Terminate(ExitReason::custom("bye")));
        assert_eq!(exit_reason(&server), ExitReason::custom("bye"));
    });
}

/// Rule 101 (OTP's enter_loop/5 last argument): the loop is entered with a
/// next action — a continue that runs before the queued messages, an
/// inactivity timeout, an event timeout — and `hibernate_after` applies.
#[test]
fn rule_101_the_loop_is_entered_with_a_next_action() {
    each_virtual_runtime(|rt| {
        let probe = Probe::spawn(rt);
        for action in ["continue", "timeout", "event_timeout", "hibernate_after"] {
            let gate = Gate::new();
            let _opener = gate.opener();
            let g = gate.clone();
            let server = spawn_puppet(rt, &probe, &SpawnOptions::new(), move |p, _| {
                p.report(Ev::Mark("body"));
                g.wait_blocking();
                let entered = match action {
                    "hibernate_after" => enter_loop(
                        p,
                        EnterOptions::new().hibernate_after(Duration::from_secs(30)),
                    ),
                    _ => enter_loop(p, EnterOptions::new()),
                };
                match action {
                    "continue" => entered.then_continue(job(|p, _| {
                        p.report(Ev::Mark("continue"));
                        noreply()
                    })),
                    "timeout" => entered.timeout(Duration::from_secs(10)),
                    "event_timeout" => entered.event_timeout(EventTimeout::after(
                        Duration::from_secs(10),
                        Note::Tag("event"),
                    )),
                    _ => entered,
                }
            });
            expect_event(&probe, |e| *e == Ev::Mark("body"));
            if action == "continue" {
                mark(&server, "queued");
                wait_queued(rt, server.pid().unwrap(), 1);
            }
            gate.open();
            match action {
                "continue" => assert_eq!(
                    events(&probe, 2),
                    [Ev::Mark("continue"), Ev::Mark("queued")]
                ),
                "hibernate_after" => wait_timers(rt, 1),
                _ => {
                    wait_timers(rt, 1);
                    rt.advance(Duration::from_secs(10));
                    let expected = if action == "timeout" {
                        Ev::Timeout
                    } else {
                        Ev::Info("event")
                    };
                    assert_eq!(events(&probe, 1), [expected]);
                }
            }
            rt.kill(server.pid().unwrap());
            wait_timers(rt, 0);
        }
    });
}

/// Rule 101: the body may end the process instead of entering the loop —
/// with a stop, or by panicking — and no `terminate` runs, since there is
/// no server yet.
#[test]
fn rule_101_the_body_may_exit_instead() {
    each_runtime(|rt| {
        let probe = Probe::spawn(rt);
        let stopped = spawn_puppet(rt, &probe, &SpawnOptions::new(), |_, _| {
            EnterLoop::stop(ExitReason::custom("not today"))
        });
        assert_eq!(exit_reason(&stopped), ExitReason::custom("not today"));
        let panicked = spawn_puppet(rt, &probe, &SpawnOptions::new(), |_, _| {
            panic!("set-up failed")
        });
        match exit_reason(&panicked) {
            ExitReason::Panic(p) => assert!(p.message.contains("set-up failed")),
            other => panic!("expected a panic reason, got {other}"),
        }
        refute_event(&probe, |e| matches!(e, Ev::Terminate(_)));
        assert_eq!(
            stopped.stop(ExitReason::Normal, None),
            Err(StopError::NoProc)
        );
    });
}

/// Rule 101: `spawn_enter` honours the runtime's spawn options; a monitor
/// asked for is returned and fires with the server's exit reason.
#[test]
fn rule_101_spawn_options_apply() {
    each_runtime(|rt| {
        let probe = Probe::spawn(rt);
        let watcher = host(rt, &probe);
        let (h, pr) = (rt.handle().clone(), probe.addr().clone());
        let (server, mref) = in_host(&watcher, move |_ctx| {
            let (server, mref) =
                spawn_enter::<Puppet, _>(&h, &SpawnOptions::new().monitor(true), move |_| {
                    let puppet = Puppet {
                        ev: pr,
                        count: 0,
                        log: Vec::new(),
                        deferred: Vec::new(),
                        after_info: None,
                        on_terminate: None,
                        shown: "entered".to_owned(),
                    };
                    enter_loop(puppet, EnterOptions::new())
                });
            (server, mref.expect("a monitor was asked for"))
        });
        cast(&server, |_, _| stop(ExitReason::custom("done")));
        match expect_event(&probe, |e| matches!(e, Ev::HostDown(_))) {
            Ev::HostDown(d) => {
                assert_eq!(d.mref, mref);
                assert_eq!(d.reason, ExitReason::custom("done"));
            }
            _ => unreachable!(),
        }
    });
}
