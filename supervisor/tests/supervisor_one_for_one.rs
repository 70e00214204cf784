//! one_for_one supervisors: start order, restart types, restarts of the
//! failed child only, failed restarts (spec rules 111-113, 122-125, 129-130,
//! 132-133).

mod common;

use common::*;
use rotp_runtime::testing::Probe;
use rotp_runtime::ExitReason;
use rotp_supervisor::{
    ChildStartError, ChildStatus, Restart, Strategy, Supervisor, SupervisorOptions,
    SupervisorStartError,
};

fn opts() -> SupervisorOptions {
    SupervisorOptions::new()
        .strategy(Strategy::OneForOne)
        .max_restarts(100)
}

#[test]
fn rule_111_children_start_in_list_order() {
    each_runtime(|rt| {
        let probe = Probe::spawn(rt);
        let alive = std::sync::Arc::new(Incarnations::default());
        let _sup = Supervisor::start_link(
            rt,
            vec![
                counted_worker("a", &probe, &alive),
                counted_worker("b", &probe, &alive),
                counted_worker("c", &probe, &alive),
            ],
            opts(),
        )
        .unwrap();
        // start_link returned only after all three ran their init.
        assert_eq!(alive.now(), 3);
        assert_eq!(next_starts(&probe, 3), ["a", "b", "c"]);
    });
}

#[test]
fn rule_125_only_the_failed_child_restarts() {
    each_runtime(|rt| {
        let probe = Probe::spawn(rt);
        let sup = Supervisor::start_link(
            rt,
            vec![
                worker("a", &probe),
                worker("b", &probe),
                worker("c", &probe),
            ],
            opts(),
        )
        .unwrap();
        next_starts(&probe, 3);
        let (a, b, c) = (pid_of(&sup, "a"), pid_of(&sup, "b"), pid_of(&sup, "c"));
        crash(rt, b);
        let b2 = started(&probe, "b");
        assert_ne!(b2, b);
        refute_start(&probe);
        assert_eq!(pid_of(&sup, "a"), a);
        assert_eq!(pid_of(&sup, "b"), b2);
        assert_eq!(pid_of(&sup, "c"), c);
    });
}

#[test]
fn rule_122_permanent_children_restart_whatever_the_reason() {
    each_runtime(|rt| {
        let probe = Probe::spawn(rt);
        let sup = Supervisor::start_link(rt, vec![worker("p", &probe)], opts()).unwrap();
        let mut pid = started(&probe, "p");
        for reason in [
            ExitReason::Normal,
            ExitReason::Shutdown,
            ExitReason::shutdown_with("x"),
            ExitReason::custom("boom"),
        ] {
            exit_child(rt, pid, reason);
            let next = started(&probe, "p");
            assert_ne!(next, pid);
            pid = next;
        }
        // A panic is an abnormal exit too (R2).
        tell(rt, pid, Cmd::Panic);
        assert_ne!(started(&probe, "p"), pid);
        assert!(sup.is_alive());
    });
}

#[test]
fn rule_122_transient_children_restart_only_after_abnormal_exits() {
    each_runtime(|rt| {
        for reason in [
            ExitReason::Normal,
            ExitReason::Shutdown,
            ExitReason::shutdown_with("done"),
        ] {
            let probe = Probe::spawn(rt);
            let sup = Supervisor::start_link(
                rt,
                vec![worker("t", &probe).restart(Restart::Transient)],
                opts(),
            )
            .unwrap();
            exit_child(rt, started(&probe, "t"), reason);
            refute_start(&probe);
            // The spec stays, not running.
            assert_eq!(status(&sup, "t"), Some(ChildStatus::Undefined));
            sup.stop(ExitReason::Normal).unwrap();
        }
        let probe = Probe::spawn(rt);
        let sup = Supervisor::start_link(
            rt,
            vec![worker("t", &probe).restart(Restart::Transient)],
            opts(),
        )
        .unwrap();
        crash(rt, started(&probe, "t"));
        let again = started(&probe, "t");
        assert_eq!(status(&sup, "t"), Some(ChildStatus::Running(again)));
    });
}

#[test]
fn rule_123_a_killed_transient_child_is_restarted() {
    each_runtime(|rt| {
        let probe = Probe::spawn(rt);
        let _sup = Supervisor::start_link(
            rt,
            vec![worker("t", &probe).restart(Restart::Transient)],
            opts(),
        )
        .unwrap();
        let pid = started(&probe, "t");
        let p = rt.process_ref(pid).unwrap();
        rt.kill(pid);
        assert_eq!(p.await_exit(Some(TIMEOUT)), Some(ExitReason::Killed));
        assert_ne!(started(&probe, "t"), pid);
    });
}

#[test]
fn rule_122_temporary_children_are_never_restarted_and_forgotten() {
    each_runtime(|rt| {
        for reason in [ExitReason::Normal, ExitReason::custom("boom")] {
            let probe = Probe::spawn(rt);
            let sup = Supervisor::start_link(
                rt,
                vec![
                    worker("tmp", &probe).restart(Restart::Temporary),
                    worker("keep", &probe),
                ],
                opts(),
            )
            .unwrap();
            next_starts(&probe, 2);
            exit_child(rt, pid_of(&sup, "tmp"), reason);
            refute_start(&probe);
            eventually("the temporary spec is removed", || {
                status(&sup, "tmp").is_none()
            });
            assert_eq!(sup.count_children().unwrap().specs, 1);
            sup.stop(ExitReason::Normal).unwrap();
        }
    });
}

#[test]
fn rule_124_exits_from_strangers_are_ignored() {
    each_runtime(|rt| {
        let probe = Probe::spawn(rt);
        let sup = Supervisor::start_link(rt, vec![worker("a", &probe)], opts()).unwrap();
        let a = started(&probe, "a");
        // A stranger linked to the supervisor crashes.
        let stranger = rt.spawn(Parent);
        rt.link_pids(stranger.pid(), sup.pid()).unwrap();
        let p = rt.process_ref(stranger.pid()).unwrap();
        rt.send_exit(stranger.pid(), ExitReason::custom("stranger down"));
        assert!(p.await_exit(Some(TIMEOUT)).is_some());
        refute_start(&probe);
        assert!(sup.is_alive());
        assert_eq!(pid_of(&sup, "a"), a);
    });
}

#[test]
fn rule_129_a_restart_runs_the_same_start_function_again() {
    each_runtime(|rt| {
        let probe = Probe::spawn(rt);
        let ctl = StartControl::new();
        let sup = Supervisor::start_link(rt, vec![controlled("c", &probe, &ctl)], opts()).unwrap();
        let first = started(&probe, "c");
        assert_eq!(ctl.calls(), 1);
        crash(rt, first);
        let second = started(&probe, "c");
        assert_ne!(first, second);
        assert_eq!(ctl.calls(), 2);
        assert_eq!(pid_of(&sup, "c"), second);
    });
}

#[test]
fn rule_112_ignored_children_keep_their_spec_temporary_ones_do_not() {
    each_runtime(|rt| {
        let probe = Probe::spawn(rt);
        let ctl = StartControl::new();
        ctl.ignore();
        let sup = Supervisor::start_link(
            rt,
            vec![
                controlled("ignored", &probe, &ctl),
                controlled("ignored_tmp", &probe, &ctl).restart(Restart::Temporary),
                worker("w", &probe),
            ],
            opts(),
        )
        .unwrap();
        assert_eq!(status(&sup, "ignored"), Some(ChildStatus::Undefined));
        assert_eq!(status(&sup, "ignored_tmp"), None);
        assert_eq!(sup.count_children().unwrap().specs, 2);
        // Restartable later (rule 112).
        ctl.start();
        let pid = sup.restart_child("ignored").unwrap().unwrap();
        assert_eq!(started(&probe, "ignored"), pid);
    });
}

#[test]
fn rule_113_a_failing_child_stops_the_started_ones_and_fails_the_start() {
    each_runtime(|rt| {
        let probe = Probe::spawn(rt);
        let ctl = StartControl::new();
        ctl.fail();
        let before = rt.process_count();
        let result = Supervisor::start_link(
            rt,
            vec![
                trapping_worker("a", &probe, OnShutdown::Exit),
                trapping_worker("b", &probe, OnShutdown::Exit),
                controlled("bad", &probe, &ctl),
                worker("never", &probe),
            ],
            opts().name("failing_sup"),
        );
        match result {
            Err(SupervisorStartError::FailedToStartChild { id, reason }) => {
                assert_eq!(id, "bad");
                assert_eq!(
                    reason,
                    ChildStartError::Failed(ExitReason::custom("start failed"))
                );
            }
            other => panic!("unexpected {other:?}"),
        }
        assert_eq!(next_starts(&probe, 2), ["a", "b"]);
        // Stopped in reverse order, with `shutdown`.
        assert_eq!(next_stops(&probe, 2), ["b", "a"]);
        refute_start(&probe);
        // Nothing left behind, the name released (rule 54).
        assert_eq!(rt.process_count(), before);
        assert_eq!(rt.whereis("failing_sup"), None);
    });
}

#[test]
fn rule_113_a_panicking_start_function_counts_as_a_failure() {
    each_runtime(|rt| {
        let spec = rotp_supervisor::ChildSpec::worker("p", || panic!("cannot start"));
        match Supervisor::start_link(rt, vec![spec], opts()) {
            Err(SupervisorStartError::FailedToStartChild {
                reason: ChildStartError::Failed(ExitReason::Panic(p)),
                ..
            }) => assert_eq!(p.message, "cannot start"),
            other => panic!("unexpected {other:?}"),
        }
    });
}

#[test]
fn rule_130_132_a_failed_restart_is_retried_and_shows_as_restarting() {
    each_virtual_runtime(|rt| {
        let probe = Probe::spawn(rt);
        let ctl = StartControl::new();
        let sup = Supervisor::start_link(
            rt,
            vec![worker("a", &probe), controlled("c", &probe, &ctl)],
            SupervisorOptions::new().max_restarts(1_000_000),
        )
        .unwrap();
        next_starts(&probe, 2);
        ctl.fail();
        crash(rt, pid_of(&sup, "c"));
        // The supervisor keeps retrying through its mailbox and still serves
        // requests in between.
        eventually("c shows as restarting", || {
            status(&sup, "c") == Some(ChildStatus::Restarting)
        });
        let calls = ctl.calls();
        eventually("it retries", || ctl.calls() > calls + 3);
        let counts = sup.count_children().unwrap();
        assert_eq!((counts.specs, counts.active), (2, 1));
        assert_eq!(
            sup.restart_child("c"),
            Err(rotp_supervisor::RestartChildError::Restarting)
        );
        assert_eq!(
            sup.delete_child("c"),
            Err(rotp_supervisor::DeleteChildError::Restarting)
        );
        ctl.start();
        let pid = started(&probe, "c");
        eventually("c runs again", || {
            status(&sup, "c") == Some(ChildStatus::Running(pid))
        });
    });
}

#[test]
fn rule_130_a_child_that_never_restarts_brings_the_supervisor_down() {
    each_virtual_runtime(|rt| {
        let probe = Probe::spawn(rt);
        let ctl = StartControl::new();
        let sup = Supervisor::start_link(
            rt,
            vec![
                trapping_worker("a", &probe, OnShutdown::Exit),
                controlled("c", &probe, &ctl),
            ],
            SupervisorOptions::new(), // 3 restarts in 5 s
        )
        .unwrap();
        next_starts(&probe, 2);
        let watcher = watch(rt, sup.pid());
        ctl.fail();
        crash(rt, pid_of(&sup, "c"));
        // 1 restart + 3 retries: the 4th within the window gives up.
        assert_eq!(down_reason(&watcher), ExitReason::Shutdown);
        assert_eq!(ctl.calls(), 1 + 3);
        assert_eq!(next_stops(&probe, 1), ["a"]);
    });
}

#[test]
fn rule_132_terminate_child_aborts_the_retry_loop() {
    each_virtual_runtime(|rt| {
        let probe = Probe::spawn(rt);
        let ctl = StartControl::new();
        let sup = Supervisor::start_link(
            rt,
            vec![controlled("c", &probe, &ctl)],
            SupervisorOptions::new().max_restarts(1_000_000),
        )
        .unwrap();
        let pid = started(&probe, "c");
        ctl.fail();
        crash(rt, pid);
        eventually("c is restarting", || {
            status(&sup, "c") == Some(ChildStatus::Restarting)
        });
        sup.terminate_child("c").unwrap();
        assert_eq!(status(&sup, "c"), Some(ChildStatus::Undefined));
        let calls = ctl.calls();
        ctl.start();
        refute_start(&probe);
        assert_eq!(ctl.calls(), calls);
        // start_child with the same id: already present.
        assert_eq!(
            sup.start_child(worker("c", &probe)),
            Err(rotp_supervisor::StartChildError::AlreadyPresent)
        );
    });
}

#[test]
fn rule_133_ignore_on_an_automatic_restart_leaves_the_child_stopped() {
    each_runtime(|rt| {
        let probe = Probe::spawn(rt);
        let ctl = StartControl::new();
        let sup = Supervisor::start_link(rt, vec![controlled("c", &probe, &ctl)], opts()).unwrap();
        let pid = started(&probe, "c");
        ctl.ignore();
        crash(rt, pid);
        eventually("the restart ran", || ctl.calls() == 2);
        assert_eq!(status(&sup, "c"), Some(ChildStatus::Undefined));
        // No retry follows.
        probe.refute_receive(QUIET, |_| true);
        assert_eq!(ctl.calls(), 2);
    });
}

#[test]
fn rule_110_the_supervisor_traps_exits_and_survives_crashing_children() {
    each_runtime(|rt| {
        let probe = Probe::spawn(rt);
        let sup = Supervisor::start_link(rt, vec![worker("a", &probe)], opts()).unwrap();
        assert!(rt.process_info(sup.pid()).unwrap().trap_exit);
        tell(rt, started(&probe, "a"), Cmd::Panic);
        started(&probe, "a");
        assert!(sup.is_alive());
    });
}
