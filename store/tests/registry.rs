//! `Registry` (spec §T, rules 164-178): registration, lookups, clean-up on
//! exit, listeners, meta, via names, bad input.

mod common;

use std::hash::{Hash, Hasher};
use std::sync::mpsc;

use common::{as_process, each_runtime, puppet, TIMEOUT};
use rotp_gen_server::{Agent, CallError, StartError, StartOptions};
use rotp_runtime::testing::{wait_until, Probe, Received};
use rotp_runtime::{Context, Down, ExitReason, Pid, Process};
use rotp_store::{Keys, RegisterError, Registry, RegistryError, RegistryEvent, RegistryOptions};
use rotp_supervisor::{Supervisor, SupervisorOptions};

fn unique<V: rotp_store::RegistryValue>(rt: &rotp_runtime::Runtime) -> Registry<String, V> {
    Registry::start(rt, RegistryOptions::new(Keys::Unique)).unwrap()
}

fn k(s: &str) -> String {
    s.to_string()
}

#[test]
fn rule_165_register_binds_the_calling_process_only() {
    each_runtime(|rt| {
        let reg = unique::<u32>(rt);
        assert_eq!(
            reg.register(k("a"), 1),
            Err(RegisterError::Registry(RegistryError::NotAProcess))
        );
        let p = puppet(rt);
        let r = reg.clone();
        as_process(&p, move |_| r.register(k("a"), 1)).unwrap();
        assert_eq!(reg.lookup(&k("a")).unwrap(), [(p.pid(), 1)]);
        assert_eq!(reg.keys(p.pid()).unwrap(), [k("a")]);
        assert_eq!(reg.count().unwrap(), 1);
    });
}

#[test]
fn rule_166_a_taken_unique_key_names_its_holder_even_the_caller() {
    each_runtime(|rt| {
        let reg = unique::<u32>(rt);
        let (a, b) = (puppet(rt), puppet(rt));
        let r = reg.clone();
        as_process(&a, move |_| r.register(k("x"), 1)).unwrap();
        let r = reg.clone();
        assert_eq!(
            as_process(&a, move |_| r.register(k("x"), 2)),
            Err(RegisterError::AlreadyRegistered { holder: a.pid() })
        );
        let r = reg.clone();
        assert_eq!(
            as_process(&b, move |_| r.register(k("x"), 3)),
            Err(RegisterError::AlreadyRegistered { holder: a.pid() })
        );
        assert_eq!(reg.lookup(&k("x")).unwrap(), [(a.pid(), 1)]);
        // Once the holder is gone the key is free.
        rt.kill(a.pid());
        rt.await_exit(&a, None);
        let r = reg.clone();
        as_process(&b, move |_| r.register(k("x"), 3)).unwrap();
        assert_eq!(reg.lookup(&k("x")).unwrap(), [(b.pid(), 3)]);
    });
}

#[test]
fn rule_167_duplicate_keys_take_many_entries_even_from_one_process() {
    each_runtime(|rt| {
        let reg: Registry<String, u32> =
            Registry::start(rt, RegistryOptions::new(Keys::Duplicate)).unwrap();
        let (a, b) = (puppet(rt), puppet(rt));
        for (p, v) in [(&a, 1), (&a, 2), (&b, 3)] {
            let r = reg.clone();
            as_process(p, move |_| r.register(k("t"), v)).unwrap();
        }
        let mut all = reg.lookup(&k("t")).unwrap();
        all.sort_by_key(|(_, v)| *v);
        assert_eq!(all, [(a.pid(), 1), (a.pid(), 2), (b.pid(), 3)]);
        assert_eq!(reg.values(&k("t"), a.pid()).unwrap().len(), 2);
        assert_eq!(reg.keys(a.pid()).unwrap(), [k("t"), k("t")]);
        assert_eq!(reg.count().unwrap(), 3);
        assert_eq!(reg.count_match(&k("t"), |_, v| *v > 1).unwrap(), 2);
        let r = reg.clone();
        assert_eq!(
            as_process(&a, move |_| r.unregister_match(&k("t"), |v| *v == 2)),
            Ok(1)
        );
        assert_eq!(reg.count().unwrap(), 2);
    });
}

/// Reports from its `DOWN` handler what the registry says about the dead.
struct Watcher(Registry<String, u32>, mpsc::Sender<(usize, Vec<String>)>);

impl Process for Watcher {
    type Message = Pid;
    fn handle(&mut self, pid: Pid, ctx: &mut Context<'_, Pid>) {
        ctx.monitor(pid);
        let _ = self.1.send((usize::MAX, Vec::new()));
    }
    fn handle_down(&mut self, down: Down, _: &mut Context<'_, Pid>) {
        let found = self.0.lookup(&k("k1")).unwrap().len() + self.0.lookup(&k("k2")).unwrap().len();
        let _ = self.1.send((found, self.0.keys(down.pid).unwrap()));
    }
}

#[test]
fn rule_169_entries_go_with_their_process_before_its_monitors_hear() {
    each_runtime(|rt| {
        let reg = unique::<u32>(rt);
        let p = puppet(rt);
        let r = reg.clone();
        as_process(&p, move |_| {
            r.register(k("k1"), 1)?;
            r.register(k("k2"), 2)
        })
        .unwrap();
        let (tx, rx) = mpsc::channel();
        let w = rt.spawn(Watcher(reg.clone(), tx));
        w.send(p.pid());
        rx.recv_timeout(TIMEOUT).unwrap();
        rt.send_exit(p.pid(), ExitReason::custom("crash"));
        assert_eq!(rx.recv_timeout(TIMEOUT).unwrap(), (0, Vec::new()));
        assert_eq!(reg.count().unwrap(), 0);
    });
}

#[test]
fn rule_170_unregister_removes_the_callers_entries_and_is_ok_without_any() {
    each_runtime(|rt| {
        let reg = unique::<u32>(rt);
        let p = puppet(rt);
        let r = reg.clone();
        as_process(&p, move |_| {
            r.unregister(&k("none"))?;
            r.register(k("a"), 1).unwrap();
            r.unregister(&k("a"))
        })
        .unwrap();
        assert!(reg.lookup(&k("a")).unwrap().is_empty());
        assert!(reg.keys(p.pid()).unwrap().is_empty());
        // Another process cannot unregister what it does not hold.
        let r = reg.clone();
        as_process(&p, move |_| r.register(k("b"), 1)).unwrap();
        let q = puppet(rt);
        let r = reg.clone();
        as_process(&q, move |_| r.unregister(&k("b"))).unwrap();
        assert_eq!(reg.lookup(&k("b")).unwrap(), [(p.pid(), 1)]);
    });
}

#[test]
fn rule_172_dispatch_runs_in_the_caller_only_when_there_are_entries() {
    let rt = rotp_runtime::Runtime::new().unwrap();
    let reg: Registry<String, u32> =
        Registry::start(&rt, RegistryOptions::new(Keys::Duplicate)).unwrap();
    let mut called = 0;
    reg.dispatch(&k("empty"), |_| called += 1).unwrap();
    assert_eq!(called, 0);
    let subs: Vec<_> = (0..3).map(|_| puppet(&rt)).collect();
    for (i, s) in subs.iter().enumerate() {
        let r = reg.clone();
        as_process(s, move |_| r.register(k("topic"), i as u32)).unwrap();
    }
    reg.dispatch(&k("topic"), |entries| {
        called += 1;
        assert_eq!(entries.len(), 3);
        // The callback may use the registry.
        assert_eq!(reg.count().unwrap(), 3);
    })
    .unwrap();
    assert_eq!(called, 1);
}

#[test]
fn rule_174_listeners_hear_explicit_changes_only_and_a_dead_one_breaks_nothing() {
    each_runtime(|rt| {
        let probe = Probe::<RegistryEvent<String, u32>>::spawn(rt);
        rt.register("listener", probe.pid()).unwrap();
        let (tx, rx) = mpsc::channel();
        let reg: Registry<String, u32> = Registry::start(
            rt,
            RegistryOptions::new(Keys::Unique)
                .listener("listener")
                .listener("nobody")
                .listener_fn(move |e| tx.send(e.clone()).unwrap())
                .listener_fn(|_| panic!("a broken listener")),
        )
        .unwrap();
        let p = puppet(rt);
        let r = reg.clone();
        as_process(&p, move |_| {
            r.register(k("a"), 1)?;
            r.unregister(&k("a"))?;
            r.register(k("b"), 2)
        })
        .unwrap();
        let expected = [
            RegistryEvent::Register {
                key: k("a"),
                pid: p.pid(),
                value: 1,
            },
            RegistryEvent::Unregister {
                key: k("a"),
                pid: p.pid(),
            },
            RegistryEvent::Register {
                key: k("b"),
                pid: p.pid(),
                value: 2,
            },
        ];
        for e in &expected {
            assert_eq!(probe.assert_message(TIMEOUT), *e);
            assert_eq!(rx.recv_timeout(TIMEOUT).unwrap(), *e);
        }
        // An exit is not reported.
        rt.kill(p.pid());
        rt.await_exit(&p, None);
        probe.refute_receive(std::time::Duration::from_millis(50), |_| true);
        // The listener dies; the registry carries on.
        rt.kill(probe.pid());
        let q = puppet(rt);
        let r = reg.clone();
        as_process(&q, move |_| r.register(k("c"), 3)).unwrap();
        assert_eq!(reg.lookup(&k("c")).unwrap(), [(q.pid(), 3)]);
    });
}

#[test]
fn rule_175_meta() {
    let rt = rotp_runtime::Runtime::new().unwrap();
    let reg: Registry<String, ()> =
        Registry::start(&rt, RegistryOptions::new(Keys::Unique).meta("region", "eu")).unwrap();
    assert_eq!(reg.meta::<&str>("region").unwrap(), Some("eu"));
    assert_eq!(reg.meta::<u32>("region").unwrap(), None, "another type");
    reg.put_meta("shards", 4u32).unwrap();
    assert_eq!(reg.meta::<u32>("shards").unwrap(), Some(4));
    reg.delete_meta("shards").unwrap();
    assert_eq!(reg.meta::<u32>("shards").unwrap(), None);
}

#[test]
fn rule_176_update_value_keys_values_select() {
    let rt = rotp_runtime::Runtime::new().unwrap();
    let reg = unique::<u32>(&rt);
    let (a, b) = (puppet(&rt), puppet(&rt));
    let r = reg.clone();
    as_process(&a, move |_| r.register(k("a"), 1)).unwrap();
    let r = reg.clone();
    assert_eq!(
        as_process(&a, move |_| r.update_value(&k("a"), |v| v + 10)),
        Ok((11, 1))
    );
    let r = reg.clone();
    assert_eq!(
        as_process(&b, move |_| r.update_value(&k("a"), |v| v + 10)),
        Err(RegistryError::NotRegistered)
    );
    assert_eq!(reg.values(&k("a"), a.pid()).unwrap(), [11]);
    assert!(reg.values(&k("a"), b.pid()).unwrap().is_empty());
    let r = reg.clone();
    as_process(&b, move |_| r.register(k("b"), 2)).unwrap();
    let mut keys = reg
        .select(|key, _, v| (*v > 1).then(|| key.clone()))
        .unwrap();
    keys.sort();
    assert_eq!(keys, [k("a"), k("b")]);
    assert_eq!(reg.count_select(|_, p, _| p == b.pid()).unwrap(), 1);
    assert_eq!(
        reg.match_entries(&k("a"), |_, v| *v == 11).unwrap(),
        [(a.pid(), 11)]
    );
    let dup: Registry<String, u32> =
        Registry::start(&rt, RegistryOptions::new(Keys::Duplicate)).unwrap();
    let d = dup.clone();
    assert_eq!(
        as_process(&a, move |_| d.update_value(&k("a"), |v| *v)),
        Err(RegistryError::UniqueOnly("update_value"))
    );
}

#[test]
fn a_stopped_registry_answers_stopped_and_its_processes_hear_of_it() {
    each_runtime(|rt| {
        let reg = unique::<u32>(rt);
        let p = puppet(rt);
        let r = reg.clone();
        as_process(&p, move |_| r.register(k("p"), 1)).unwrap();
        let owner = reg.pid();
        reg.stop().unwrap();
        assert!(reg.is_stopped());
        assert_eq!(reg.lookup(&k("p")), Err(RegistryError::Stopped));
        assert_eq!(reg.count(), Err(RegistryError::Stopped));
        assert_eq!(reg.stop(), Err(RegistryError::Stopped));
        let r = reg.clone();
        assert_eq!(
            as_process(&p, move |_| r.register(k("q"), 1)),
            Err(RegisterError::Registry(RegistryError::Stopped))
        );
        assert!(!rt.is_alive(owner));
        // A normal stop is no crash: the registered process lives on.
        assert!(rt.is_alive(p.pid()));
    });
}

#[test]
fn rule_165_a_crashing_registry_takes_its_processes_with_it() {
    each_runtime(|rt| {
        let reg = unique::<u32>(rt);
        let p = puppet(rt);
        let r = reg.clone();
        as_process(&p, move |_| r.register(k("p"), 1)).unwrap();
        let bystander = puppet(rt);
        rt.send_exit(reg.pid(), ExitReason::custom("boom"));
        assert_eq!(
            rt.await_exit(&p, Some(TIMEOUT)),
            Some(ExitReason::custom("boom"))
        );
        assert!(rt.is_alive(bystander.pid()));
        assert_eq!(reg.lookup(&k("p")), Err(RegistryError::Stopped));
    });
}

/// A key whose `Hash` panics for one value.
#[derive(Clone, PartialEq, Eq, Debug)]
struct Touchy(u32);

impl Hash for Touchy {
    fn hash<H: Hasher>(&self, h: &mut H) {
        assert!(self.0 != 13, "unlucky key");
        self.0.hash(h)
    }
}

#[test]
fn a_key_whose_hash_panics_is_refused_and_the_registry_keeps_working() {
    let rt = rotp_runtime::Runtime::new().unwrap();
    let reg: Registry<Touchy, ()> =
        Registry::start(&rt, RegistryOptions::new(Keys::Unique)).unwrap();
    let p = puppet(&rt);
    let r = reg.clone();
    let (bad, good) = as_process(&p, move |_| {
        (r.register(Touchy(13), ()), r.register(Touchy(1), ()))
    });
    assert!(
        matches!(bad, Err(RegisterError::Registry(RegistryError::BadKey(m))) if m.contains("unlucky"))
    );
    good.unwrap();
    assert!(matches!(
        reg.lookup(&Touchy(13)),
        Err(RegistryError::BadKey(_))
    ));
    assert_eq!(reg.lookup(&Touchy(1)).unwrap(), [(p.pid(), ())]);
    assert!(rt.is_alive(p.pid()) && !reg.is_stopped());
}

#[test]
fn rule_164_a_supervised_registry_restarts_and_is_found_by_name() {
    let rt = rotp_runtime::Runtime::new().unwrap();
    let sup = Supervisor::start_link(
        &rt,
        vec![Registry::<String, u32>::child_spec(
            "reg",
            RegistryOptions::new(Keys::Unique).name("reg"),
        )],
        SupervisorOptions::new(),
    )
    .unwrap();
    let first = Registry::<String, u32>::whereis(&rt, "reg").unwrap();
    let kids = sup.which_children().unwrap();
    assert_eq!(kids[0].child_type, rotp_supervisor::ChildType::Supervisor);
    assert_eq!(
        Registry::<String, u32>::start(&rt, RegistryOptions::new(Keys::Unique).name("reg"))
            .unwrap_err(),
        rotp_store::StartError::NameTaken("reg".into())
    );
    rt.kill(first.pid());
    assert!(wait_until(TIMEOUT, || {
        Registry::<String, u32>::whereis(&rt, "reg").is_some_and(|r| r != first)
    }));
    assert!(first.is_stopped());
    sup.stop(ExitReason::Normal).unwrap();
    assert!(Registry::<String, u32>::whereis(&rt, "reg").is_none());
}

#[test]
fn rule_173_via_names_start_call_and_stop_servers_by_key() {
    each_runtime(|rt| {
        let reg = unique::<&'static str>(rt);
        let agent = Agent::start(
            rt,
            || 1u32,
            StartOptions::new().name(reg.via_value(k("a"), "meta")),
        )
        .unwrap();
        let agent_pid = agent.pid().expect("a started agent has a pid");
        assert_eq!(reg.lookup(&k("a")).unwrap(), [(agent_pid, "meta")]);
        assert_eq!(reg.whereis_key(&k("a")), Some(agent_pid));
        // Taken: the start fails naming the holder.
        let again = Agent::start(rt, || 2u32, StartOptions::new().name(reg.via(k("a"))));
        assert!(matches!(again, Err(StartError::AlreadyStarted(p)) if p == agent_pid));
        // Called by name.
        let named = Agent::<u32>::named(rt, reg.via(k("a")));
        assert_eq!(named.get(|n| *n).unwrap(), 1);
        // A missing key: a call is noproc, a cast is fine.
        let missing = Agent::<u32>::named(rt, reg.via(k("missing")));
        assert!(matches!(missing.get(|n| *n), Err(CallError::NoProc)));
        missing.cast(|n| n);
        // Stopped by name; the key is released.
        named.stop(ExitReason::Normal, None).unwrap();
        assert!(reg.lookup(&k("a")).unwrap().is_empty());
        assert_eq!(reg.whereis_key(&k("a")), None);
    });
}

#[test]
fn rule_173_via_refuses_a_duplicate_registry() {
    let rt = rotp_runtime::Runtime::new().unwrap();
    let reg: Registry<String, ()> =
        Registry::start(&rt, RegistryOptions::new(Keys::Duplicate)).unwrap();
    let r = Agent::start(&rt, || 0u8, StartOptions::new().name(reg.via(k("x"))));
    assert!(matches!(r, Err(StartError::Init(_))), "{r:?}");
    assert_eq!(reg.count().unwrap(), 0);
}

#[test]
fn rule_173_a_via_named_gen_server_by_server_ref() {
    let rt = rotp_runtime::Runtime::new().unwrap();
    let reg = unique::<()>(&rt);
    let agent = Agent::start(&rt, || 5u8, StartOptions::new().name(reg.via(k("s")))).unwrap();
    assert_eq!(agent.get(|n| *n).unwrap(), 5);
    // The entry goes when the server crashes.
    agent.cast(|_| panic!("crash"));
    assert!(wait_until(TIMEOUT, || reg
        .lookup(&k("s"))
        .unwrap()
        .is_empty()));
}

#[test]
fn probe_events_are_received_as_messages() {
    // `Received` is used to check listener messages arrive as plain messages.
    let rt = rotp_runtime::Runtime::new().unwrap();
    let probe = Probe::<RegistryEvent<String, ()>>::spawn(&rt);
    rt.register("l", probe.pid()).unwrap();
    let reg: Registry<String, ()> =
        Registry::start(&rt, RegistryOptions::new(Keys::Unique).listener("l")).unwrap();
    let p = puppet(&rt);
    let r = reg.clone();
    as_process(&p, move |_| r.register(k("z"), ())).unwrap();
    assert!(matches!(
        probe.assert_receive(TIMEOUT, |_| true),
        Received::Message(RegistryEvent::Register { .. })
    ));
}

#[test]
fn rule_173_supervisors_start_and_are_found_under_via_names() {
    each_runtime(|rt| {
        let reg = unique::<()>(rt);
        let sup =
            Supervisor::start_link(rt, vec![], SupervisorOptions::new().name(reg.via(k("sup"))))
                .unwrap();
        assert_eq!(reg.whereis_key(&k("sup")), Some(sup.pid()));
        assert_eq!(
            Supervisor::whereis(rt, reg.via(k("sup"))),
            Some(sup.clone())
        );
        let again =
            Supervisor::start_link(rt, vec![], SupervisorOptions::new().name(reg.via(k("sup"))));
        assert!(
            matches!(again, Err(rotp_supervisor::SupervisorStartError::AlreadyStarted(p)) if p == sup.pid())
        );
        let dynamic = rotp_supervisor::DynamicSupervisor::<()>::start_link(
            rt,
            rotp_supervisor::DynamicSupervisorOptions::new().name(reg.via(k("dyn"))),
        )
        .unwrap();
        assert_eq!(reg.whereis_key(&k("dyn")), Some(dynamic.pid()));
        sup.stop(ExitReason::Normal).unwrap();
        assert_eq!(reg.whereis_key(&k("sup")), None);
        assert!(reg.lookup(&k("sup")).unwrap().is_empty());
    });
}
