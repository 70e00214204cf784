//! Module-based supervisors, Elixir's `use Supervisor` with `init/1`
//! (spec rules 104, 106, 108, 111-114, 48).

mod common;

use std::sync::mpsc;
use std::time::Duration;

use common::*;
use rotp_runtime::testing::Probe;
use rotp_runtime::{ExitReason, Pid};
use rotp_supervisor::{
    ChildSpec, ChildSpecError, ChildStatus, ChildType, FlagsError, Restart, Shutdown,
    StartChildError, Strategy, Supervisor, SupervisorInit, SupervisorModule, SupervisorOptions,
    SupervisorStartError,
};

/// What [`App`]'s `init` does.
#[derive(Clone)]
enum Plan {
    /// Start these children with these options; report the pid `init`
    /// runs in.
    Start(Vec<ChildSpec>, SupervisorOptions, Option<mpsc::Sender<Pid>>),
    /// Ignore the start; report the pid `init` runs in.
    Ignore(mpsc::Sender<Pid>),
    /// Panic.
    Panic,
}

impl Plan {
    fn start(children: Vec<ChildSpec>, opts: SupervisorOptions) -> Plan {
        Plan::Start(children, opts, None)
    }
}

struct App;

impl SupervisorModule for App {
    type Args = Plan;

    fn init(plan: Plan) -> SupervisorInit {
        let me = rotp_runtime::self_pid().expect("init runs in a process");
        match plan {
            Plan::Start(children, opts, report) => {
                if let Some(r) = report {
                    r.send(me).unwrap();
                }
                SupervisorInit::ok(children, opts)
            }
            Plan::Ignore(report) => {
                report.send(me).unwrap();
                SupervisorInit::ignore()
            }
            Plan::Panic => panic!("no configuration"),
        }
    }
}

#[test]
fn rule_111_a_module_supervisor_starts_what_its_init_returns() {
    each_runtime(|rt| {
        let probe = Probe::spawn(rt);
        let (tx, rx) = mpsc::channel();
        let plan = Plan::Start(
            vec![worker("a", &probe), worker("b", &probe)],
            SupervisorOptions::new()
                .strategy(Strategy::OneForAll)
                .name("app"),
            Some(tx),
        );
        let sup = App::start_link(rt, plan).unwrap();
        // init ran in the supervisor process, before the children.
        assert_eq!(rx.recv_timeout(TIMEOUT), Ok(sup.pid()));
        assert_eq!(next_starts(&probe, 2), ["a", "b"]);
        assert_eq!(Supervisor::whereis(rt, "app"), Some(sup.clone()));
        // The strategy init chose: one_for_all.
        crash(rt, pid_of(&sup, "a"));
        assert_eq!(next_starts(&probe, 2), ["a", "b"]);
        sup.stop(ExitReason::Normal).unwrap();
    });
}

#[test]
fn rule_114_ignore_makes_start_return_ignored_and_the_supervisor_not_run() {
    each_runtime(|rt| {
        let parent = rt.spawn(Parent);
        let (tx, rx) = mpsc::channel();
        let result = run_in(&parent, move |ctx| {
            App::start_link(&ctx.handle(), Plan::Ignore(tx)).map(|s| s.pid())
        });
        assert_eq!(result, Err(SupervisorStartError::Ignored));
        let sup = rx.recv_timeout(TIMEOUT).unwrap();
        assert_ne!(sup, parent.pid());
        // Rule 54: gone when the start returns; its `normal` exit spares
        // the linked caller.
        assert!(!rt.is_alive(sup));
        assert!(rt.is_alive(parent.pid()));
    });
}

#[test]
fn rule_112_114_an_ignoring_module_supervisor_is_an_ignored_child() {
    each_runtime(|rt| {
        let (tx, rx) = mpsc::channel();
        let root = Supervisor::start_link(
            rt,
            vec![App::child_spec(Plan::Ignore(tx)).id("app")],
            SupervisorOptions::new(),
        )
        .unwrap();
        rx.recv_timeout(TIMEOUT).unwrap();
        assert_eq!(status(&root, "app"), Some(ChildStatus::Undefined));
        // Restarting it runs init again, which ignores again.
        assert_eq!(root.restart_child("app"), Ok(None));
        rx.recv_timeout(TIMEOUT).unwrap();
        assert_eq!(root.count_children().unwrap().active, 0);
    });
}

#[test]
fn rule_114_a_panicking_init_fails_the_start() {
    each_runtime(|rt| {
        match App::start_link(rt, Plan::Panic) {
            Err(SupervisorStartError::Init(ExitReason::Panic(p))) => {
                assert_eq!(p.message, "no configuration")
            }
            other => panic!("unexpected {other:?}"),
        }
        let root = Supervisor::start_link(rt, vec![], SupervisorOptions::new()).unwrap();
        match root.start_child(App::child_spec(Plan::Panic)) {
            Err(StartChildError::Failed(ExitReason::Panic(p))) => {
                assert_eq!(p.message, "no configuration")
            }
            other => panic!("unexpected {other:?}"),
        }
        assert_eq!(root.count_children().unwrap().specs, 0);
    });
}

#[test]
fn rules_106_108_what_init_returns_is_checked() {
    each_runtime(|rt| {
        let probe = Probe::spawn(rt);
        let duplicate = Plan::start(
            vec![worker("a", &probe), worker("a", &probe)],
            SupervisorOptions::new(),
        );
        assert_eq!(
            App::start_link(rt, duplicate).unwrap_err(),
            SupervisorStartError::InvalidSpec(ChildSpecError::DuplicateId("a".into()))
        );
        let zero_period = Plan::start(
            vec![worker("a", &probe)],
            SupervisorOptions::new().max_seconds(0),
        );
        assert_eq!(
            App::start_link(rt, zero_period).unwrap_err(),
            SupervisorStartError::InvalidFlags(FlagsError::InvalidPeriod(Duration::ZERO))
        );
        refute_start(&probe);
    });
}

#[test]
fn rule_113_a_child_that_fails_to_start_fails_the_module_start() {
    each_runtime(|rt| {
        let probe = Probe::spawn(rt);
        let ctl = StartControl::new();
        ctl.fail();
        let plan = Plan::start(
            vec![worker("a", &probe), controlled("b", &probe, &ctl)],
            SupervisorOptions::new(),
        );
        match App::start_link(rt, plan) {
            Err(SupervisorStartError::FailedToStartChild { id, .. }) => assert_eq!(id, "b"),
            other => panic!("unexpected {other:?}"),
        }
        // "a" was started, then stopped again.
        let a = started(&probe, "a");
        assert!(!rt.is_alive(a));
    });
}

#[test]
fn rule_48_a_name_from_init_that_is_taken_is_already_started() {
    each_runtime(|rt| {
        let probe = Probe::spawn(rt);
        let plan = Plan::start(
            vec![worker("a", &probe)],
            SupervisorOptions::new().name("app"),
        );
        let first = App::start_link(rt, plan.clone()).unwrap();
        started(&probe, "a");
        assert_eq!(
            App::start_link(rt, plan).unwrap_err(),
            SupervisorStartError::AlreadyStarted(first.pid())
        );
        // The second one started no child.
        refute_start(&probe);
        assert_eq!(first.count_children().unwrap().active, 1);
    });
}

#[test]
fn rule_104_a_module_supervisor_child_is_a_permanent_supervisor_with_infinity_shutdown() {
    let spec = App::child_spec(Plan::Panic);
    assert_eq!(spec.id, "App");
    assert_eq!(spec.child_type, ChildType::Supervisor);
    assert_eq!(spec.shutdown, Shutdown::Infinity);
    assert_eq!(spec.restart, Restart::Permanent);
}

#[test]
fn a_nested_module_supervisor_is_restarted_through_its_init() {
    each_runtime(|rt| {
        let probe = Probe::spawn(rt);
        let (tx, rx) = mpsc::channel();
        let plan = Plan::Start(
            vec![worker("leaf", &probe)],
            SupervisorOptions::new(),
            Some(tx),
        );
        let root = Supervisor::start_link(
            rt,
            vec![App::child_spec(plan), worker("sibling", &probe)],
            SupervisorOptions::new(),
        )
        .unwrap();
        assert_eq!(next_starts(&probe, 2), ["leaf", "sibling"]);
        let counts = root.count_children().unwrap();
        assert_eq!((counts.supervisors, counts.workers), (1, 1));
        let app = pid_of(&root, "App");
        assert_eq!(rx.recv_timeout(TIMEOUT), Ok(app));
        let leaf = pid_of(&Supervisor::from_pid(rt, app).unwrap(), "leaf");
        // Killed, the nested supervisor takes its leaf with it; its parent
        // starts it again, and its init runs again.
        let leaf_watch = watch(rt, leaf);
        rt.kill(app);
        assert_eq!(down_reason(&leaf_watch), ExitReason::Killed);
        let again = root.await_child("App", TIMEOUT).unwrap();
        assert_ne!(again, app);
        assert_eq!(rx.recv_timeout(TIMEOUT), Ok(again));
        assert_eq!(next_starts(&probe, 1), ["leaf"]);
    });
}
