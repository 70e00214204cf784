//! Restart intensity on the runtime clock (spec rules 134-138), tested on
//! the virtual clock.

mod common;

use std::time::Duration;

use common::*;
use rotp_runtime::testing::Probe;
use rotp_runtime::ExitReason;
use rotp_supervisor::{AutoShutdown, Restart, Strategy, Supervisor, SupervisorOptions};

fn secs(s: f64) -> Duration {
    Duration::from_secs_f64(s)
}

#[test]
fn rule_136_the_elixir_default_gives_up_on_the_fourth_restart_within_5s() {
    each_virtual_runtime(|rt| {
        let probe = Probe::spawn(rt);
        let sup = Supervisor::start_link(rt, vec![worker("w", &probe)], SupervisorOptions::new())
            .unwrap();
        let watcher = watch(rt, sup.pid());
        let mut pid = started(&probe, "w");
        for _ in 0..3 {
            rt.advance(secs(1.0));
            crash(rt, pid);
            pid = started(&probe, "w");
        }
        assert!(sup.is_alive());
        rt.advance(secs(1.0)); // 4 s after the first restart
        crash(rt, pid);
        // Rule 135: gives up and exits `shutdown`.
        assert_eq!(down_reason(&watcher), ExitReason::Shutdown);
        refute_start(&probe);
    });
}

#[test]
fn rule_136_restarts_spaced_beyond_the_period_never_accumulate() {
    each_virtual_runtime(|rt| {
        let probe = Probe::spawn(rt);
        let sup = Supervisor::start_link(
            rt,
            vec![worker("w", &probe)],
            SupervisorOptions::new().max_restarts(1).max_seconds(1),
        )
        .unwrap();
        let mut pid = started(&probe, "w");
        for _ in 0..10 {
            rt.advance(secs(1.1));
            crash(rt, pid);
            pid = started(&probe, "w");
        }
        assert!(sup.is_alive());
    });
}

#[test]
fn rule_134_the_window_slides() {
    each_virtual_runtime(|rt| {
        let probe = Probe::spawn(rt);
        let sup = Supervisor::start_link(
            rt,
            vec![worker("w", &probe)],
            SupervisorOptions::new().max_restarts(2).max_seconds(5),
        )
        .unwrap();
        let watcher = watch(rt, sup.pid());
        let mut pid = started(&probe, "w");
        // Restarts at t = 0 and t = 4.
        crash(rt, pid);
        pid = started(&probe, "w");
        rt.advance(secs(4.0));
        crash(rt, pid);
        pid = started(&probe, "w");
        // t = 5.5: the first one has left the window.
        rt.advance(secs(1.5));
        crash(rt, pid);
        pid = started(&probe, "w");
        assert!(sup.is_alive());
        // t = 6: three restarts within 5 s (4, 5.5, 6).
        rt.advance(secs(0.5));
        crash(rt, pid);
        assert_eq!(down_reason(&watcher), ExitReason::Shutdown);
    });
}

#[test]
fn rule_136_intensity_zero_gives_up_on_the_first_restart() {
    each_virtual_runtime(|rt| {
        let probe = Probe::spawn(rt);
        let sup = Supervisor::start_link(
            rt,
            vec![worker("w", &probe)],
            SupervisorOptions::new().max_restarts(0),
        )
        .unwrap();
        let watcher = watch(rt, sup.pid());
        crash(rt, started(&probe, "w"));
        assert_eq!(down_reason(&watcher), ExitReason::Shutdown);
        refute_start(&probe);
    });
}

#[test]
fn rule_135_giving_up_stops_the_other_children_in_reverse_order() {
    each_virtual_runtime(|rt| {
        let probe = Probe::spawn(rt);
        let sup = Supervisor::start_link(
            rt,
            vec![
                trapping_worker("a", &probe, OnShutdown::Exit),
                trapping_worker("b", &probe, OnShutdown::Exit),
                worker("w", &probe),
                trapping_worker("c", &probe, OnShutdown::Exit),
            ],
            SupervisorOptions::new().max_restarts(0),
        )
        .unwrap();
        next_starts(&probe, 4);
        let watcher = watch(rt, sup.pid());
        crash(rt, pid_of(&sup, "w"));
        assert_eq!(next_stops(&probe, 3), ["c", "b", "a"]);
        assert_eq!(down_reason(&watcher), ExitReason::Shutdown);
    });
}

#[test]
fn rule_137_exits_without_restart_and_manual_operations_do_not_count() {
    each_virtual_runtime(|rt| {
        let probe = Probe::spawn(rt);
        let sup = Supervisor::start_link(
            rt,
            vec![
                worker("t", &probe).restart(Restart::Transient),
                worker("tmp", &probe).restart(Restart::Temporary),
                worker("p", &probe),
            ],
            SupervisorOptions::new().max_restarts(1),
        )
        .unwrap();
        next_starts(&probe, 3);
        // No restart follows these: nothing is counted.
        exit_child(rt, pid_of(&sup, "t"), ExitReason::Normal);
        exit_child(rt, pid_of(&sup, "tmp"), ExitReason::custom("boom"));
        for _ in 0..5 {
            sup.terminate_child("p").unwrap();
            sup.restart_child("p").unwrap();
            started(&probe, "p");
            sup.restart_child("t").unwrap();
            started(&probe, "t");
            sup.terminate_child("t").unwrap();
        }
        // One automatic restart is still allowed...
        crash(rt, pid_of(&sup, "p"));
        started(&probe, "p");
        assert!(sup.is_alive());
        // ...and the second one is not.
        let watcher = watch(rt, sup.pid());
        crash(rt, pid_of(&sup, "p"));
        assert_eq!(down_reason(&watcher), ExitReason::Shutdown);
    });
}

#[test]
fn rule_134_a_one_for_all_group_restart_counts_once() {
    each_virtual_runtime(|rt| {
        let probe = Probe::spawn(rt);
        let sup = Supervisor::start_link(
            rt,
            vec![
                worker("a", &probe),
                worker("b", &probe),
                worker("c", &probe),
            ],
            SupervisorOptions::new()
                .strategy(Strategy::OneForAll)
                .max_restarts(2),
        )
        .unwrap();
        next_starts(&probe, 3);
        crash(rt, pid_of(&sup, "a"));
        next_starts(&probe, 3);
        crash(rt, pid_of(&sup, "c"));
        next_starts(&probe, 3);
        assert!(sup.is_alive());
        let watcher = watch(rt, sup.pid());
        crash(rt, pid_of(&sup, "b"));
        assert_eq!(down_reason(&watcher), ExitReason::Shutdown);
    });
}

/// `restart_period` sets the intensity window, to the nanosecond, and
/// leaves every other option as it was — whichever order the builder
/// calls come in.
#[test]
fn rule_134_restart_period_sets_only_the_window() {
    let period = Duration::from_millis(1_500);
    let after = SupervisorOptions::new()
        .strategy(Strategy::RestForOne)
        .max_restarts(7)
        .auto_shutdown(AutoShutdown::AnySignificant)
        .name("app_sup")
        .restart_period(period);
    let before = SupervisorOptions::new()
        .restart_period(period)
        .strategy(Strategy::RestForOne)
        .max_restarts(7)
        .auto_shutdown(AutoShutdown::AnySignificant)
        .name("app_sup");
    for opts in [after, before] {
        assert_eq!(opts.intensity.period, period);
        assert_eq!(opts.intensity.max_restarts, 7);
        assert_eq!(opts.strategy, Strategy::RestForOne);
        assert_eq!(opts.auto_shutdown, AutoShutdown::AnySignificant);
        assert_eq!(
            opts.name.as_ref().map(|n| n.to_string()),
            Some("app_sup".to_owned())
        );
    }
    // `max_seconds` and `restart_period` set the same window: the last wins.
    let opts = SupervisorOptions::new()
        .restart_period(period)
        .max_seconds(9);
    assert_eq!(opts.intensity.period, Duration::from_secs(9));
}

/// A supervisor started with a sub-second `restart_period` counts restarts
/// in that window, with its strategy, `max_restarts` and name in force.
#[test]
fn rule_134_a_supervisor_uses_its_restart_period() {
    each_virtual_runtime(|rt| {
        let probe = Probe::spawn(rt);
        let name = format!("period-{}", rt.workers());
        let sup = Supervisor::start_link(
            rt,
            vec![worker("a", &probe), worker("b", &probe)],
            SupervisorOptions::new()
                .strategy(Strategy::OneForAll)
                .max_restarts(1)
                .name(name.as_str())
                .restart_period(Duration::from_millis(500)),
        )
        .unwrap();
        assert_eq!(
            Supervisor::whereis(rt, &name).map(|s| s.pid()),
            Some(sup.pid())
        );
        next_starts(&probe, 2);
        // one_for_all: both restart; 600 ms apart, the restarts never
        // share the 500 ms window.
        for _ in 0..3 {
            crash(rt, pid_of(&sup, "a"));
            assert_eq!(next_starts(&probe, 2), ["a", "b"]);
            rt.advance(Duration::from_millis(600));
        }
        // Two within 500 ms are one more than max_restarts allows.
        let watcher = watch(rt, sup.pid());
        crash(rt, pid_of(&sup, "b"));
        next_starts(&probe, 2);
        rt.advance(Duration::from_millis(400));
        crash(rt, pid_of(&sup, "a"));
        assert_eq!(down_reason(&watcher), ExitReason::Shutdown);
    });
}
