//! Names: local names and `via` registries (rule 37, R10),
//! `already_started` (rule 48), names released when a start fails (rule
//! 54) and before links and monitors hear of an exit (rule 16), calls by
//! name (rules 60, 61, 93).

mod common;

use std::sync::atomic::Ordering::SeqCst;
use std::sync::Arc;

use common::*;
use rotp_gen_server::{
    start, CallError, Init, InitResult, ServerName, ServerRef, StartError, StartOptions, StopError,
};
use rotp_runtime::testing::Probe;
use rotp_runtime::{ExitReason, Runtime};

/// The two kinds of name, under `key`.
fn names(registry: &Arc<TestRegistry>, key: &str) -> [(&'static str, ServerName); 2] {
    [("local", key.into()), ("via", registry.name(key))]
}

/// Who holds `name` now.
fn holder(rt: &Runtime, name: &ServerName) -> Option<rotp_runtime::Pid> {
    name.whereis(rt)
}

/// Rule 37: a server started under a name is registered before start
/// returns and can be reached through the name.
#[test]
fn rule_37_servers_are_reachable_by_local_and_via_names() {
    each_runtime(|rt| {
        let probe = Probe::spawn(rt);
        let registry = TestRegistry::new();
        for (kind, name) in names(&registry, "r37") {
            let server =
                start::<Puppet>(rt, script(&probe), StartOptions::new().name(name.clone()))
                    .unwrap();
            assert_eq!(holder(rt, &name), server.pid(), "{kind}");
            let by_name = ServerRef::<Puppet>::named(rt, name.clone());
            assert_eq!(by_name.pid(), server.pid());
            assert!(by_name.is_alive());
            let me = bounded(move || {
                by_name
                    .call(call_job(|_, r, ctx| answer(r, ctx.pid())))
                    .map(unval::<rotp_runtime::Pid>)
            });
            assert_eq!(me, Ok(server.pid().unwrap()), "{kind}");
            assert_eq!(
                ServerRef::<Puppet>::whereis(rt, name.clone()).and_then(|s| s.pid()),
                server.pid()
            );
            assert_eq!(server.status().unwrap().name, Some(name.to_string()));
        }
        assert_eq!(rt.whereis("r37"), holder(rt, &"r37".into()));
    });
}

/// Rule 48: a taken local or via name fails the start with
/// `AlreadyStarted(holder)` without running the new server's init.
#[test]
fn rule_48_already_started_for_local_and_via_names() {
    each_runtime(|rt| {
        let probe = Probe::spawn(rt);
        let registry = TestRegistry::new();
        for (kind, name) in names(&registry, "r48") {
            let first = start::<Puppet>(rt, script(&probe), StartOptions::new().name(name.clone()))
                .unwrap();
            expect_event(&probe, |e| *e == Ev::Init(first.pid().unwrap()));
            let second =
                start::<Puppet>(rt, script(&probe), StartOptions::new().name(name.clone()));
            assert_eq!(
                second.unwrap_err(),
                StartError::AlreadyStarted(first.pid().unwrap()),
                "{kind}"
            );
            refute_event(&probe, |e| matches!(e, Ev::Init(_)));
            assert_eq!(
                holder(rt, &name),
                first.pid(),
                "{kind}: the name stays with the first"
            );
        }
    });
}

/// Rule 54: whatever way init fails, the name — local or via — is free
/// when start returns, and a new server can take it at once.
#[test]
fn rule_54_the_name_is_released_when_start_fails() {
    type Failing = fn(Puppet) -> InitResult<Puppet>;
    let failures: [(&str, Failing); 4] = [
        ("ignore", |_| Init::ignore()),
        ("error", |_| Init::error("foobar")),
        ("stop", |_| Init::stop("stopped")),
        ("panic", |_| panic!("init exploded")),
    ];
    each_runtime(|rt| {
        let probe = Probe::spawn(rt);
        let registry = TestRegistry::new();
        for (kind, name) in names(&registry, "r54") {
            for (what, fail) in failures {
                let s = script_with(&probe, move |p, _| fail(p));
                assert!(start::<Puppet>(rt, s, StartOptions::new().name(name.clone())).is_err());
                assert_eq!(holder(rt, &name), None, "{kind}, {what}");
                let next =
                    start::<Puppet>(rt, script(&probe), StartOptions::new().name(name.clone()));
                let next = next.unwrap_or_else(|e| panic!("{kind}, {what}: {e}"));
                next.stop(ExitReason::Normal, None).unwrap();
            }
        }
    });
}

/// Rule 16: an exiting server's name — local or via — is released before
/// its monitors hear of the exit, so whoever gets the DOWN can start a
/// successor under the same name at once; by stop, crash or kill.
#[test]
fn rule_16_the_name_is_free_when_the_down_arrives() {
    each_runtime(|rt| {
        let probe = Probe::spawn(rt);
        let registry = TestRegistry::new();
        for (kind, name) in names(&registry, "r16") {
            for how in ["stop", "crash", "kill"].into_iter().cycle().take(30) {
                let server =
                    start::<Puppet>(rt, script(&probe), StartOptions::new().name(name.clone()))
                        .unwrap();
                let mref = probe.monitor(server.pid().unwrap());
                match how {
                    "stop" => cast(&server, |_, _| rotp_gen_server::stop(ExitReason::Shutdown)),
                    "crash" => cast(&server, |_, _| panic!("crash")),
                    _ => rt.kill(server.pid().unwrap()),
                }
                down_reason(&probe, mref);
                assert_eq!(holder(rt, &name), None, "{kind}, {how}");
                let successor =
                    start::<Puppet>(rt, script(&probe), StartOptions::new().name(name.clone()));
                let successor = successor.unwrap_or_else(|e| panic!("{kind}, {how}: {e}"));
                rt.kill(successor.pid().unwrap());
                let m = probe.monitor(successor.pid().unwrap());
                down_reason(&probe, m);
            }
        }
        assert_eq!(registry.get("r16"), None);
        assert!(registry.unregistered.load(SeqCst) > 0);
    });
}

/// A handle by name follows the name to a restarted server; a handle by
/// pid keeps meaning the old one (`NoProc`).
#[test]
fn a_handle_by_name_follows_restarts() {
    each_runtime(|rt| {
        let probe = Probe::spawn(rt);
        let registry = TestRegistry::new();
        for (kind, name) in names(&registry, "follow") {
            let by_name = ServerRef::<Puppet>::named(rt, name.clone());
            let old = start::<Puppet>(rt, script(&probe), StartOptions::new().name(name.clone()))
                .unwrap();
            old.stop(ExitReason::Normal, None).unwrap();
            assert!(!by_name.is_alive(), "{kind}");
            let new = start::<Puppet>(rt, script(&probe), StartOptions::new().name(name.clone()))
                .unwrap();
            let b = by_name.clone();
            let reached = bounded(move || {
                b.call(call_job(|_, r, ctx| answer(r, ctx.pid())))
                    .map(unval::<rotp_runtime::Pid>)
            });
            assert_eq!(reached, Ok(new.pid().unwrap()), "{kind}");
            assert_eq!(err(try_ask(&old, |_, _| ())), CallError::NoProc, "{kind}");
        }
    });
}

/// Rules 61 and 93 by name: a server calling itself through its via name
/// gets `CallingSelf`; `stop` by via name works, and fails with `NoProc`
/// once nobody holds the name.
#[test]
fn calls_and_stop_through_a_via_name() {
    each_runtime(|rt| {
        let probe = Probe::spawn(rt);
        let registry = TestRegistry::new();
        let name = registry.name("via-ops");
        let server =
            start::<Puppet>(rt, script(&probe), StartOptions::new().name(name.clone())).unwrap();
        let n = name.clone();
        let selfcall = ask(&server, move |_, ctx| {
            err(ServerRef::<Puppet>::named(&ctx.handle(), n).call(call_job(defer_call)))
        });
        assert_eq!(selfcall, CallError::CallingSelf);
        let by_name = ServerRef::<Puppet>::named(rt, name.clone());
        assert_eq!(by_name.stop(ExitReason::custom("bye"), None), Ok(()));
        expect_event(&probe, |e| *e == Ev::Terminate(ExitReason::custom("bye")));
        assert_eq!(registry.get("via-ops"), None);
        assert_eq!(
            by_name.stop(ExitReason::Normal, None),
            Err(StopError::NoProc)
        );
        assert_eq!(err(try_ask(&by_name, |_, _| ())), CallError::NoProc);
    });
}

/// `ServerRef::from_pid` checks the process behind a pid: a live server of
/// the handle's type gives a handle that reaches it; a live process of
/// another kind — a raw process, a server of another type — gives
/// `WrongType` naming it; a pid that is no longer alive gives `NoProc`.
#[test]
fn from_pid_checks_the_kind_of_process() {
    each_runtime(|rt| {
        let probe = Probe::spawn(rt);
        let server = puppet(rt, &probe);
        let pid = server.pid().unwrap();
        let by_pid = ServerRef::<Puppet>::from_pid(rt, pid).expect("a puppet");
        assert_eq!(by_pid.pid(), Some(pid));
        assert_eq!(try_ask(&by_pid, |_, ctx| ctx.pid()), Ok(pid));

        let raw = host(rt, &probe);
        match ServerRef::<Puppet>::from_pid(rt, raw.pid()) {
            Err(CallError::WrongType { pid, actual }) => {
                assert_eq!(pid, raw.pid());
                assert!(actual.contains("Host"), "{actual}");
            }
            other => panic!("expected WrongType, got {other:?}"),
        }
        let agent = rotp_gen_server::Agent::start(rt, || 0_u8, StartOptions::new()).unwrap();
        let agent_pid = agent.pid().unwrap();
        assert!(matches!(
            ServerRef::<Puppet>::from_pid(rt, agent_pid),
            Err(CallError::WrongType { pid, .. }) if pid == agent_pid
        ));

        server.stop(ExitReason::Normal, None).unwrap();
        assert_eq!(
            ServerRef::<Puppet>::from_pid(rt, pid).unwrap_err(),
            CallError::NoProc
        );
    });
}

/// A handle by name whose name — local or via — is held by a process of
/// another kind: calls and `sys` requests fail with `WrongType` naming the
/// holder, `stop` too, casts and infos go nowhere, `pid()` is the holder's
/// and `is_alive()` is false. On a name nobody holds, `pid()` is `None`.
#[test]
fn a_named_handle_on_another_kind_of_process() {
    each_runtime(|rt| {
        let probe = Probe::spawn(rt);
        let registry = TestRegistry::new();
        for (kind, name) in names(&registry, "other-kind") {
            let raw = host(rt, &probe);
            name.register(rt, raw.pid()).unwrap();
            let by_name = ServerRef::<Puppet>::named(rt, name.clone());
            let wrong =
                |e: &CallError| matches!(e, CallError::WrongType { pid, .. } if *pid == raw.pid());
            let e = err(try_ask(&by_name, |_, _| ()));
            assert!(wrong(&e), "{kind}: {e:?}");
            let e = by_name.get_state(|p| p.count).unwrap_err();
            assert!(wrong(&e), "{kind}: {e:?}");
            let b = by_name.clone();
            let e = err(bounded(move || b.send_request(call_job(defer_call))));
            assert!(wrong(&e), "{kind}: {e:?}");
            assert!(matches!(
                by_name.stop(ExitReason::Normal, None),
                Err(StopError::WrongType { pid, .. }) if pid == raw.pid()
            ));
            by_name.cast(job(|_, _| unreachable!("nobody handles this")));
            by_name.send_info(Note::Tag("lost"));
            assert_eq!(by_name.pid(), Some(raw.pid()), "{kind}");
            assert!(!by_name.is_alive(), "{kind}");
            assert!(ServerRef::<Puppet>::whereis(rt, name.clone()).is_none());
            assert!(raw.is_alive());
            if let ServerName::Via(reg, key) = &name {
                reg.unregister_name(key);
            }
            rt.kill(raw.pid());
        }
        let nobody = ServerRef::<Puppet>::named(rt, "nobody-holds-this");
        assert_eq!(nobody.pid(), None);
        assert!(!nobody.is_alive());
        let nobody = ServerRef::<Puppet>::named(rt, registry.name("nobody-holds-this"));
        assert_eq!(nobody.pid(), None);
        assert!(!nobody.is_alive());
    });
}
