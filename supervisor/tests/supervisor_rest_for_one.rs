//! rest_for_one supervisors (spec rules 127-128, 131).

mod common;

use common::*;
use rotp_runtime::testing::Probe;
use rotp_supervisor::{ChildStatus, Restart, Strategy, Supervisor, SupervisorOptions};

fn opts() -> SupervisorOptions {
    SupervisorOptions::new()
        .strategy(Strategy::RestForOne)
        .max_restarts(100)
}

fn four(probe: &Probe<Event>) -> Vec<rotp_supervisor::ChildSpec> {
    ["a", "b", "c", "d"]
        .iter()
        .map(|id| trapping_worker(id, probe, OnShutdown::Exit))
        .collect()
}

#[test]
fn rule_127_later_children_stop_in_reverse_and_restart_in_order() {
    each_runtime(|rt| {
        let probe = Probe::spawn(rt);
        let sup = Supervisor::start_link(rt, four(&probe), opts()).unwrap();
        next_starts(&probe, 4);
        let (a, b) = (pid_of(&sup, "a"), pid_of(&sup, "b"));
        crash(rt, pid_of(&sup, "c"));
        assert_eq!(next_stops(&probe, 1), ["d"]);
        assert_eq!(next_starts(&probe, 2), ["c", "d"]);
        refute_start(&probe);
        // Earlier children are untouched.
        assert_eq!(pid_of(&sup, "a"), a);
        assert_eq!(pid_of(&sup, "b"), b);
    });
}

#[test]
fn rule_127_the_first_child_failing_restarts_everything() {
    each_runtime(|rt| {
        let probe = Probe::spawn(rt);
        let sup = Supervisor::start_link(rt, four(&probe), opts()).unwrap();
        next_starts(&probe, 4);
        crash(rt, pid_of(&sup, "a"));
        assert_eq!(next_stops(&probe, 3), ["d", "c", "b"]);
        assert_eq!(next_starts(&probe, 4), ["a", "b", "c", "d"]);
    });
}

#[test]
fn rule_127_the_last_child_failing_restarts_only_itself() {
    each_runtime(|rt| {
        let probe = Probe::spawn(rt);
        let sup = Supervisor::start_link(rt, four(&probe), opts()).unwrap();
        next_starts(&probe, 4);
        crash(rt, pid_of(&sup, "d"));
        assert_eq!(next_starts(&probe, 1), ["d"]);
        refute_start(&probe);
    });
}

#[test]
fn rule_126_127_temporary_later_children_are_dropped() {
    each_runtime(|rt| {
        let probe = Probe::spawn(rt);
        let sup = Supervisor::start_link(
            rt,
            vec![
                worker("a", &probe),
                worker("b", &probe),
                trapping_worker("tmp", &probe, OnShutdown::Exit).restart(Restart::Temporary),
            ],
            opts(),
        )
        .unwrap();
        next_starts(&probe, 3);
        crash(rt, pid_of(&sup, "b"));
        assert_eq!(next_stops(&probe, 1), ["tmp"]);
        assert_eq!(next_starts(&probe, 1), ["b"]);
        refute_start(&probe);
        assert_eq!(status(&sup, "tmp"), None);
    });
}

#[test]
fn rule_128_dynamically_added_children_come_last() {
    each_runtime(|rt| {
        let probe = Probe::spawn(rt);
        let sup = Supervisor::start_link(
            rt,
            vec![
                trapping_worker("a", &probe, OnShutdown::Exit),
                trapping_worker("b", &probe, OnShutdown::Exit),
            ],
            opts(),
        )
        .unwrap();
        next_starts(&probe, 2);
        sup.start_child(trapping_worker("late", &probe, OnShutdown::Exit))
            .unwrap();
        next_starts(&probe, 1);
        let ids: Vec<_> = sup
            .which_children()
            .unwrap()
            .into_iter()
            .map(|c| c.id)
            .collect();
        assert_eq!(ids, ["late", "b", "a"]);
        // rest_for_one: b's crash also restarts the later child.
        crash(rt, pid_of(&sup, "b"));
        assert_eq!(next_stops(&probe, 1), ["late"]);
        assert_eq!(next_starts(&probe, 2), ["b", "late"]);
        // And it is stopped first when the supervisor stops (rule 115).
        sup.stop(rotp_runtime::ExitReason::Normal).unwrap();
        assert_eq!(next_stops(&probe, 3), ["late", "b", "a"]);
    });
}

#[test]
fn rule_131_a_later_sibling_failing_its_restart_retries_from_itself() {
    each_virtual_runtime(|rt| {
        let probe = Probe::spawn(rt);
        let ctl = StartControl::new();
        let sup = Supervisor::start_link(
            rt,
            vec![
                worker("a", &probe),
                worker("b", &probe),
                controlled("c", &probe, &ctl),
                trapping_worker("d", &probe, OnShutdown::Exit),
            ],
            opts().max_restarts(1_000_000),
        )
        .unwrap();
        next_starts(&probe, 4);
        let a = pid_of(&sup, "a");
        ctl.fail();
        crash(rt, pid_of(&sup, "b"));
        assert_eq!(next_stops(&probe, 1), ["d"]);
        let b = started(&probe, "b");
        eventually("c is restarting", || {
            status(&sup, "c") == Some(ChildStatus::Restarting)
        });
        assert_eq!(status(&sup, "d"), Some(ChildStatus::Undefined));
        ctl.start();
        let c = started(&probe, "c");
        let d = started(&probe, "d");
        // The retry restarted c and what follows it, nothing before.
        assert_eq!(pid_of(&sup, "a"), a);
        assert_eq!(pid_of(&sup, "b"), b);
        assert_eq!(pid_of(&sup, "c"), c);
        assert_eq!(pid_of(&sup, "d"), d);
        refute_start(&probe);
    });
}
