//! Significant children and auto_shutdown (spec rules 149-153).

mod common;

use common::*;
use rotp_runtime::testing::Probe;
use rotp_runtime::ExitReason;
use rotp_supervisor::{
    AutoShutdown, ChildStatus, Restart, Strategy, Supervisor, SupervisorOptions,
};

fn opts(auto: AutoShutdown) -> SupervisorOptions {
    SupervisorOptions::new()
        .auto_shutdown(auto)
        .max_restarts(100)
}

#[test]
fn rule_150_any_significant_transient_ending_normally_shuts_down() {
    each_runtime(|rt| {
        for reason in [
            ExitReason::Normal,
            ExitReason::Shutdown,
            ExitReason::shutdown_with("done"),
        ] {
            let probe = Probe::spawn(rt);
            let sup = Supervisor::start_link(
                rt,
                vec![
                    trapping_worker("other", &probe, OnShutdown::Exit),
                    worker("sig", &probe)
                        .restart(Restart::Transient)
                        .significant(true),
                ],
                opts(AutoShutdown::AnySignificant),
            )
            .unwrap();
            next_starts(&probe, 2);
            let watcher = watch(rt, sup.pid());
            exit_child(rt, pid_of(&sup, "sig"), reason);
            assert_eq!(next_stops(&probe, 1), ["other"]);
            assert_eq!(down_reason(&watcher), ExitReason::Shutdown);
        }
    });
}

#[test]
fn rule_150_any_significant_temporary_ending_with_any_reason_shuts_down() {
    each_runtime(|rt| {
        for reason in [ExitReason::Normal, ExitReason::custom("boom")] {
            let probe = Probe::spawn(rt);
            let sup = Supervisor::start_link(
                rt,
                vec![worker("sig", &probe)
                    .restart(Restart::Temporary)
                    .significant(true)],
                opts(AutoShutdown::AnySignificant),
            )
            .unwrap();
            let watcher = watch(rt, sup.pid());
            exit_child(rt, started(&probe, "sig"), reason);
            assert_eq!(down_reason(&watcher), ExitReason::Shutdown);
        }
    });
}

#[test]
fn rule_151_all_significant_waits_for_the_last_significant_child() {
    each_runtime(|rt| {
        let probe = Probe::spawn(rt);
        let sup = Supervisor::start_link(
            rt,
            vec![
                worker("s1", &probe)
                    .restart(Restart::Temporary)
                    .significant(true),
                worker("s2", &probe)
                    .restart(Restart::Transient)
                    .significant(true),
                worker("plain", &probe),
            ],
            opts(AutoShutdown::AllSignificant),
        )
        .unwrap();
        next_starts(&probe, 3);
        let watcher = watch(rt, sup.pid());
        exit_child(rt, pid_of(&sup, "s1"), ExitReason::Normal);
        assert!(watcher.receive(QUIET, |_| true).is_none());
        assert!(sup.is_alive());
        exit_child(rt, pid_of(&sup, "s2"), ExitReason::Normal);
        assert_eq!(down_reason(&watcher), ExitReason::Shutdown);
    });
}

#[test]
fn rule_152_terminate_child_does_not_trigger_auto_shutdown() {
    each_runtime(|rt| {
        let probe = Probe::spawn(rt);
        let sup = Supervisor::start_link(
            rt,
            vec![worker("sig", &probe)
                .restart(Restart::Transient)
                .significant(true)],
            opts(AutoShutdown::AnySignificant),
        )
        .unwrap();
        started(&probe, "sig");
        sup.terminate_child("sig").unwrap();
        assert!(sup.is_alive());
        assert_eq!(status(&sup, "sig"), Some(ChildStatus::Undefined));
    });
}

#[test]
fn rule_152_an_abnormal_exit_of_a_significant_transient_restarts_it() {
    each_runtime(|rt| {
        let probe = Probe::spawn(rt);
        let sup = Supervisor::start_link(
            rt,
            vec![worker("sig", &probe)
                .restart(Restart::Transient)
                .significant(true)],
            opts(AutoShutdown::AnySignificant),
        )
        .unwrap();
        crash(rt, started(&probe, "sig"));
        started(&probe, "sig");
        assert!(sup.is_alive());
    });
}

#[test]
fn rule_152_significant_bystanders_of_a_group_restart_do_not_trigger() {
    each_runtime(|rt| {
        let probe = Probe::spawn(rt);
        let sup = Supervisor::start_link(
            rt,
            vec![
                worker("trigger", &probe),
                worker("sig", &probe)
                    .restart(Restart::Transient)
                    .significant(true),
            ],
            opts(AutoShutdown::AnySignificant).strategy(Strategy::OneForAll),
        )
        .unwrap();
        next_starts(&probe, 2);
        crash(rt, pid_of(&sup, "trigger"));
        assert_eq!(next_starts(&probe, 2), ["trigger", "sig"]);
        assert!(sup.is_alive());
    });
}

#[test]
fn rule_152_non_significant_children_do_not_trigger() {
    each_runtime(|rt| {
        let probe = Probe::spawn(rt);
        let sup = Supervisor::start_link(
            rt,
            vec![
                worker("t", &probe).restart(Restart::Transient),
                worker("tmp", &probe).restart(Restart::Temporary),
                worker("sig", &probe)
                    .restart(Restart::Transient)
                    .significant(true),
            ],
            opts(AutoShutdown::AnySignificant),
        )
        .unwrap();
        next_starts(&probe, 3);
        exit_child(rt, pid_of(&sup, "t"), ExitReason::Normal);
        exit_child(rt, pid_of(&sup, "tmp"), ExitReason::Normal);
        assert_eq!(sup.count_children().unwrap().specs, 2);
        assert!(sup.is_alive());
    });
}

#[test]
fn rule_153_auto_shutdown_escalates_through_a_significant_child_supervisor() {
    each_runtime(|rt| {
        let probe = Probe::spawn(rt);
        let inner = Supervisor::child_spec(
            "inner",
            vec![worker("leaf", &probe)
                .restart(Restart::Transient)
                .significant(true)],
            opts(AutoShutdown::AnySignificant),
        )
        .restart(Restart::Transient)
        .significant(true);
        let outer = Supervisor::start_link(
            rt,
            vec![trapping_worker("sibling", &probe, OnShutdown::Exit), inner],
            opts(AutoShutdown::AnySignificant),
        )
        .unwrap();
        next_starts(&probe, 2);
        let watcher = watch(rt, outer.pid());
        let leaf = started_leaf(&outer, rt);
        exit_child(rt, leaf, ExitReason::Normal);
        // inner exits `shutdown` (normal-class for a transient child), which
        // is significant for outer: outer shuts down too.
        assert_eq!(next_stops(&probe, 1), ["sibling"]);
        assert_eq!(down_reason(&watcher), ExitReason::Shutdown);
    });
}

fn started_leaf(outer: &Supervisor, rt: &rotp_runtime::Runtime) -> rotp_runtime::Pid {
    let inner = Supervisor::from_pid(rt, pid_of(outer, "inner")).expect("inner is a supervisor");
    pid_of(&inner, "leaf")
}
