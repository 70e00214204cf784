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
