//! one_for_all supervisors (spec rules 126, 131).

mod common;

use std::sync::Arc;

use common::*;
use rotp_runtime::testing::Probe;
use rotp_runtime::ExitReason;
use rotp_supervisor::{ChildStatus, Restart, Strategy, Supervisor, SupervisorOptions};

fn opts() -> SupervisorOptions {
    SupervisorOptions::new()
        .strategy(Strategy::OneForAll)
        .max_restarts(100)
}

#[test]
fn rule_126_all_others_stop_in_reverse_order_then_all_restart_in_order() {
    each_runtime(|rt| {
        let probe = Probe::spawn(rt);
        let sup = Supervisor::start_link(
            rt,
            vec![
                trapping_worker("a", &probe, OnShutdown::Exit),
                trapping_worker("b", &probe, OnShutdown::Exit),
                trapping_worker("c", &probe, OnShutdown::Exit),
                trapping_worker("d", &probe, OnShutdown::Exit),
            ],
            opts(),
        )
        .unwrap();
        assert_eq!(next_starts(&probe, 4), ["a", "b", "c", "d"]);
        let old: Vec<_> = ["a", "b", "c", "d"]
            .iter()
            .map(|id| pid_of(&sup, id))
            .collect();
        crash(rt, pid_of(&sup, "b"));
        assert_eq!(next_stops(&probe, 3), ["d", "c", "a"]);
        assert_eq!(next_starts(&probe, 4), ["a", "b", "c", "d"]);
        for (id, old) in ["a", "b", "c", "d"].iter().zip(old) {
            assert_ne!(pid_of(&sup, id), old, "{id} has a new pid");
        }
    });
}

#[test]
fn rule_126_temporary_bystanders_are_stopped_and_dropped() {
    each_runtime(|rt| {
        let probe = Probe::spawn(rt);
        let sup = Supervisor::start_link(
            rt,
            vec![
                worker("a", &probe),
                trapping_worker("tmp", &probe, OnShutdown::Exit).restart(Restart::Temporary),
                worker("c", &probe),
            ],
            opts(),
        )
        .unwrap();
        next_starts(&probe, 3);
        crash(rt, pid_of(&sup, "a"));
        assert_eq!(next_stops(&probe, 1), ["tmp"]);
        assert_eq!(next_starts(&probe, 2), ["a", "c"]);
        refute_start(&probe);
        assert_eq!(status(&sup, "tmp"), None);
        assert_eq!(sup.count_children().unwrap().specs, 2);
    });
}

#[test]
fn rule_126_a_transient_normal_exit_restarts_nothing() {
    each_runtime(|rt| {
        let probe = Probe::spawn(rt);
        let sup = Supervisor::start_link(
            rt,
            vec![
                worker("a", &probe).restart(Restart::Transient),
                worker("b", &probe),
            ],
            opts(),
        )
        .unwrap();
        next_starts(&probe, 2);
        let b = pid_of(&sup, "b");
        exit_child(rt, pid_of(&sup, "a"), ExitReason::Normal);
        refute_start(&probe);
        assert_eq!(status(&sup, "a"), Some(ChildStatus::Undefined));
        assert_eq!(pid_of(&sup, "b"), b);
    });
}

#[test]
fn rule_131_a_sibling_failing_its_restart_restarts_the_whole_group_again() {
    each_virtual_runtime(|rt| {
        let probe = Probe::spawn(rt);
        let ctl = StartControl::new();
        let sup = Supervisor::start_link(
            rt,
            vec![
                worker("a", &probe),
                controlled("b", &probe, &ctl),
                trapping_worker("c", &probe, OnShutdown::Exit),
            ],
            opts().max_restarts(1_000_000),
        )
        .unwrap();
        next_starts(&probe, 3);
        ctl.fail();
        crash(rt, pid_of(&sup, "a"));
        // c stops; a restarts; b fails; c stays stopped; b is retried.
        assert_eq!(next_stops(&probe, 1), ["c"]);
        let first_a = started(&probe, "a");
        eventually("b is restarting", || {
            status(&sup, "b") == Some(ChildStatus::Restarting)
        });
        assert_eq!(status(&sup, "c"), Some(ChildStatus::Undefined));
        ctl.start();
        // A retry stops the restarted a and starts the whole group again.
        let b = started(&probe, "b");
        let c = started(&probe, "c");
        assert_eq!(pid_of(&sup, "b"), b);
        assert_eq!(pid_of(&sup, "c"), c);
        assert_ne!(pid_of(&sup, "a"), first_a);
    });
}

#[test]
fn r1_the_group_restart_waits_for_each_sibling_to_really_exit() {
    each_runtime(|rt| {
        let probe = Probe::spawn(rt);
        let alive_a = Arc::new(Incarnations::default());
        let alive_b = Arc::new(Incarnations::default());
        let sup = Supervisor::start_link(
            rt,
            vec![
                counted_worker("a", &probe, &alive_a),
                counted_worker("b", &probe, &alive_b)
                    .shutdown(rotp_supervisor::Shutdown::BrutalKill),
            ],
            opts(),
        )
        .unwrap();
        next_starts(&probe, 2);
        for _ in 0..20 {
            crash(rt, pid_of(&sup, "a"));
            next_starts(&probe, 2);
        }
        assert_eq!(alive_a.max(), 1);
        assert_eq!(alive_b.max(), 1);
    });
}
