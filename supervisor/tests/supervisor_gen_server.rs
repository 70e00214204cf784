//! GenServers as children (spec rules 102, 85e, 139, 156; restart identity
//! through names, architecture §7).

mod common;

use std::sync::mpsc;
use std::time::Duration;

use common::*;
use rotp_gen_server::{
    gen_server, Ctx, GenServer, Handled, Init, InitResult, ReplyTo, ServerRef, StartOptions,
};
use rotp_runtime::{ExitReason, Pid};
use rotp_supervisor::{
    ChildStartError, ChildStatus, DynamicSupervisor, DynamicSupervisorOptions, GenServerChildSpec,
    Restart, Shutdown, StartChildError, Strategy, Supervisor, SupervisorOptions,
    SupervisorStartError,
};

/// A counter that can be told to crash, and reports its `terminate`.
struct Counter {
    n: u64,
    terminated: Option<mpsc::Sender<(u64, ExitReason)>>,
}

#[derive(Clone)]
enum Start {
    /// Start at `n`; trap exits if a terminate reporter is given.
    At(u64, Option<mpsc::Sender<(u64, ExitReason)>>),
    Ignore,
    Fail,
}

enum Call {
    Incr(ReplyTo<u64>),
    Crash(ReplyTo<u64>),
}

#[gen_server]
impl GenServer for Counter {
    fn init(start: Start, ctx: &mut Ctx<'_, Self>) -> InitResult<Self> {
        match start {
            Start::At(n, terminated) => {
                if terminated.is_some() {
                    ctx.trap_exit(true);
                }
                Init::ok(Counter { n, terminated })
            }
            Start::Ignore => Init::ignore(),
            Start::Fail => Init::stop(ExitReason::custom("bad config")),
        }
    }

    fn handle_call(&mut self, call: Call, _: &mut Ctx<'_, Self>) -> Handled<Self> {
        match call {
            Call::Incr(r) => {
                self.n += 1;
                r.reply(self.n)
            }
            Call::Crash(_r) => panic!("counter crashed at {}", self.n),
        }
    }

    fn terminate(&mut self, reason: &ExitReason, _: &mut Ctx<'_, Self>) {
        if let Some(t) = &self.terminated {
            let _ = t.send((self.n, reason.clone()));
        }
    }
}

#[test]
fn rule_102_the_generated_child_spec_has_elixirs_defaults() {
    let spec = Counter::child_spec(Start::At(0, None));
    assert_eq!(spec.id, "Counter");
    assert_eq!(spec.restart, Restart::Permanent);
    assert_eq!(spec.shutdown, Shutdown::Timeout(Duration::from_secs(5)));
    assert_eq!(spec.child_type, rotp_supervisor::ChildType::Worker);
}

#[test]
fn restarted_servers_are_reachable_through_their_name_with_fresh_state() {
    each_runtime(|rt| {
        let sup = Supervisor::start_link(
            rt,
            vec![Counter::child_spec_opts(
                Start::At(10, None),
                StartOptions::new().name("counter"),
            )],
            SupervisorOptions::new().strategy(Strategy::OneForOne),
        )
        .unwrap();
        let counter = ServerRef::<Counter>::named(rt, "counter");
        assert_eq!(counter.call(Call::Incr).unwrap(), 11);
        assert_eq!(counter.call(Call::Incr).unwrap(), 12);
        let before = pid_of(&sup, "counter");
        assert!(counter.call(Call::Crash).is_err());
        // The restart re-registers the name; no stale handle in between.
        eventually(
            "restarted",
            || matches!(status(&sup, "counter"), Some(ChildStatus::Running(p)) if p != before),
        );
        assert_eq!(counter.call(Call::Incr).unwrap(), 11);
        assert_eq!(counter.pid(), Some(pid_of(&sup, "counter")));
    });
}

#[test]
fn a_named_servers_child_id_is_its_name() {
    each_runtime(|rt| {
        let named = |name: &str| {
            Counter::child_spec_opts(Start::At(0, None), StartOptions::new().name(name))
        };
        assert_eq!(named("a").id, "a");
        // Two named servers of one type need no `.id(...)` to share a
        // supervisor.
        let sup =
            Supervisor::start_link(rt, vec![named("a"), named("b")], SupervisorOptions::new())
                .unwrap();
        let a = ServerRef::<Counter>::named(rt, "a");
        let b = ServerRef::<Counter>::named(rt, "b");
        assert_eq!(a.pid(), Some(pid_of(&sup, "a")));
        assert_eq!(b.pid(), Some(pid_of(&sup, "b")));
        sup.terminate_child("a").unwrap();
        assert!(!a.is_alive());
        assert_eq!(b.call(Call::Incr).unwrap(), 1);
    });
}

#[test]
fn await_child_returns_the_restarted_server_reachable_by_its_name() {
    each_runtime(|rt| {
        let sup = Supervisor::start_link(
            rt,
            vec![Counter::child_spec_opts(
                Start::At(7, None),
                StartOptions::new().name("counter"),
            )],
            SupervisorOptions::new(),
        )
        .unwrap();
        let counter = ServerRef::<Counter>::named(rt, "counter");
        for _ in 0..3 {
            let first = counter.pid().unwrap();
            assert_eq!(counter.call(Call::Incr).unwrap(), 8);
            assert!(counter.call(Call::Crash).is_err());
            // The call failed once the server was gone; the supervisor may
            // not have seen its exit yet: await_child waits for the restart.
            let pid = sup.await_child("counter", TIMEOUT).unwrap();
            assert_ne!(pid, first);
            assert_eq!(counter.pid(), Some(pid));
        }
        assert_eq!(counter.call(Call::Incr).unwrap(), 8);
    });
}

#[test]
fn rule_85e_a_trapping_server_runs_terminate_when_its_supervisor_stops_it() {
    each_runtime(|rt| {
        let (tx, rx) = mpsc::channel();
        let sup = Supervisor::start_link(
            rt,
            vec![Counter::child_spec(Start::At(5, Some(tx)))],
            SupervisorOptions::new(),
        )
        .unwrap();
        let pid = pid_of(&sup, "Counter");
        sup.terminate_child("Counter").unwrap();
        assert_eq!(rx.recv_timeout(TIMEOUT).unwrap(), (5, ExitReason::Shutdown));
        assert!(!rt.is_alive(pid));
    });
}

#[test]
fn rule_112_139_init_ignore_and_init_failure() {
    each_runtime(|rt| {
        let sup = Supervisor::start_link(
            rt,
            vec![Counter::child_spec(Start::Ignore).id("ignored")],
            SupervisorOptions::new(),
        )
        .unwrap();
        assert_eq!(status(&sup, "ignored"), Some(ChildStatus::Undefined));
        assert_eq!(
            sup.start_child(Counter::child_spec(Start::Fail).id("failing")),
            Err(StartChildError::Failed(ExitReason::custom("bad config")))
        );
        match Supervisor::start_link(
            rt,
            vec![Counter::child_spec(Start::Fail)],
            SupervisorOptions::new(),
        ) {
            Err(SupervisorStartError::FailedToStartChild { id, reason }) => {
                assert_eq!(id, "Counter");
                assert_eq!(
                    reason,
                    ChildStartError::Failed(ExitReason::custom("bad config"))
                );
            }
            other => panic!("unexpected {other:?}"),
        }
    });
}

#[test]
fn rule_139_a_name_clash_passes_already_started_through() {
    each_runtime(|rt| {
        let outside = rotp_gen_server::start::<Counter>(
            rt,
            Start::At(0, None),
            StartOptions::new().name("taken"),
        )
        .unwrap();
        let sup = Supervisor::start_link(rt, vec![], SupervisorOptions::new()).unwrap();
        assert_eq!(
            sup.start_child(Counter::child_spec_opts(
                Start::At(0, None),
                StartOptions::new().name("taken")
            )),
            Err(StartChildError::AlreadyStarted(outside.pid().unwrap()))
        );
        outside.stop(ExitReason::Normal, Some(TIMEOUT)).unwrap();
    });
}

#[test]
fn rule_156_gen_servers_under_a_dynamic_supervisor_get_the_extra_argument() {
    each_runtime(|rt| {
        let opts = DynamicSupervisorOptions::new().extra_arguments(100u64);
        let sup = DynamicSupervisor::start_link(rt, opts).unwrap();
        let offsets = [1u64, 2, 3];
        let mut pids: Vec<Pid> = Vec::new();
        for off in offsets {
            let spec =
                Counter::child_spec_with_extra(move |base: &u64| Start::At(base + off, None));
            pids.push(sup.start_child(spec).unwrap().unwrap());
        }
        for (pid, off) in pids.iter().zip(offsets) {
            let server = server_at(rt, *pid);
            assert_eq!(server.call(Call::Incr).unwrap(), 100 + off + 1);
        }
        // A restart gets the extra argument again.
        let first = server_at(rt, pids[0]);
        assert!(first.call(Call::Crash).is_err());
        eventually("restarted", || {
            sup.which_children()
                .unwrap()
                .iter()
                .filter_map(|c| c.status.pid())
                .any(|p| !pids.contains(&p))
        });
        let new_pid = sup
            .which_children()
            .unwrap()
            .iter()
            .filter_map(|c| c.status.pid())
            .find(|p| !pids.contains(p))
            .unwrap();
        assert_eq!(server_at(rt, new_pid).call(Call::Incr).unwrap(), 102);
    });
}

/// A handle on the Counter with pid `pid` (what `which_children` gives).
fn server_at(rt: &rotp_runtime::Runtime, pid: Pid) -> ServerRef<Counter> {
    ServerRef::<Counter>::from_pid(rt, pid).unwrap()
}
