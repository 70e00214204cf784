//! Supervision trees: escalation of a child supervisor that gives up, and
//! whole-tree shutdown order (spec rules 115, 135, 138).

mod common;

use common::*;
use rotp_runtime::testing::Probe;
use rotp_runtime::{ExitReason, Pid, Runtime};
use rotp_supervisor::{ChildSpec, ChildStatus, Restart, Strategy, Supervisor, SupervisorOptions};

fn inner_spec(probe: &Probe<Event>, max_restarts: u32) -> ChildSpec {
    Supervisor::child_spec(
        "inner",
        vec![
            worker("leaf", probe),
            trapping_worker("leaf_sibling", probe, OnShutdown::Exit),
        ],
        SupervisorOptions::new().max_restarts(max_restarts),
    )
}

fn inner_of(rt: &Runtime, outer: &Supervisor) -> Supervisor {
    Supervisor::from_pid(rt, pid_of(outer, "inner")).expect("inner is a live supervisor")
}

fn leaf(rt: &Runtime, outer: &Supervisor) -> Pid {
    pid_of(&inner_of(rt, outer), "leaf")
}

#[test]
fn rule_138_a_child_supervisor_giving_up_is_restarted_by_its_parent() {
    each_virtual_runtime(|rt| {
        let probe = Probe::spawn(rt);
        let outer = Supervisor::start_link(
            rt,
            vec![worker("outer_worker", &probe), inner_spec(&probe, 0)],
            SupervisorOptions::new().max_restarts(5),
        )
        .unwrap();
        next_starts(&probe, 3);
        let outer_worker = pid_of(&outer, "outer_worker");
        let inner = pid_of(&outer, "inner");
        let inner_watch = watch(rt, inner);
        // Intensity 0: the leaf's first crash makes inner give up.
        crash(rt, leaf(rt, &outer));
        assert_eq!(next_stops(&probe, 1), ["leaf_sibling"]);
        assert_eq!(down_reason(&inner_watch), ExitReason::Shutdown);
        // Outer restarts inner (permanent), which starts its children again.
        assert_eq!(next_starts(&probe, 2), ["leaf", "leaf_sibling"]);
        assert_ne!(pid_of(&outer, "inner"), inner);
        assert_eq!(pid_of(&outer, "outer_worker"), outer_worker);
    });
}

#[test]
fn rule_138_repeated_escalations_consume_the_parents_intensity() {
    each_virtual_runtime(|rt| {
        let probe = Probe::spawn(rt);
        let root = Supervisor::start_link(
            rt,
            vec![Supervisor::child_spec(
                "outer",
                vec![inner_spec(&probe, 0)],
                SupervisorOptions::new().max_restarts(2),
            )],
            SupervisorOptions::new().max_restarts(0),
        )
        .unwrap();
        let root_watch = watch(rt, root.pid());
        let outer = || Supervisor::from_pid(rt, pid_of(&root, "outer")).unwrap();
        next_starts(&probe, 2);
        // Two escalations: outer restarts inner twice.
        for _ in 0..2 {
            crash(rt, leaf(rt, &outer()));
            assert_eq!(next_starts(&probe, 2), ["leaf", "leaf_sibling"]);
        }
        // The third exceeds outer's intensity: outer gives up, root (with
        // intensity 0) gives up too: the failure escalates to the top.
        crash(rt, leaf(rt, &outer()));
        assert_eq!(down_reason(&root_watch), ExitReason::Shutdown);
    });
}

#[test]
fn rule_138_a_transient_child_supervisor_giving_up_is_not_restarted() {
    each_virtual_runtime(|rt| {
        let probe = Probe::spawn(rt);
        let outer = Supervisor::start_link(
            rt,
            vec![
                inner_spec(&probe, 0).restart(Restart::Transient),
                worker("w", &probe),
            ],
            SupervisorOptions::new(),
        )
        .unwrap();
        next_starts(&probe, 3);
        let inner_watch = watch(rt, pid_of(&outer, "inner"));
        crash(rt, leaf(rt, &outer));
        assert_eq!(down_reason(&inner_watch), ExitReason::Shutdown);
        refute_start(&probe);
        assert_eq!(status(&outer, "inner"), Some(ChildStatus::Undefined));
        assert!(outer.is_alive());
    });
}

#[test]
fn rule_125_a_leaf_crash_stays_inside_its_subtree() {
    each_runtime(|rt| {
        let probe = Probe::spawn(rt);
        let outer = Supervisor::start_link(
            rt,
            vec![
                Supervisor::child_spec(
                    "left",
                    vec![worker("l1", &probe), worker("l2", &probe)],
                    SupervisorOptions::new().strategy(Strategy::OneForAll),
                ),
                Supervisor::child_spec(
                    "right",
                    vec![worker("r1", &probe)],
                    SupervisorOptions::new(),
                ),
            ],
            SupervisorOptions::new().strategy(Strategy::OneForAll),
        )
        .unwrap();
        next_starts(&probe, 3);
        let right = pid_of(&outer, "right");
        let left = Supervisor::from_pid(rt, pid_of(&outer, "left")).unwrap();
        let r1 = pid_of(&Supervisor::from_pid(rt, right).unwrap(), "r1");
        crash(rt, pid_of(&left, "l1"));
        assert_eq!(next_starts(&probe, 2), ["l1", "l2"]);
        refute_start(&probe);
        assert_eq!(pid_of(&outer, "right"), right);
        assert_eq!(pid_of(&Supervisor::from_pid(rt, right).unwrap(), "r1"), r1);
    });
}

#[test]
fn rule_115_a_tree_stops_depth_first_in_reverse_start_order() {
    each_runtime(|rt| {
        let probe = Probe::spawn(rt);
        let t = |id: &str| trapping_worker(id, &probe, OnShutdown::Exit);
        let root = Supervisor::start_link(
            rt,
            vec![
                t("a"),
                Supervisor::child_spec(
                    "mid",
                    vec![
                        t("b"),
                        Supervisor::child_spec(
                            "low",
                            vec![t("c"), t("d")],
                            SupervisorOptions::new(),
                        ),
                        t("e"),
                    ],
                    SupervisorOptions::new(),
                ),
                t("f"),
            ],
            SupervisorOptions::new(),
        )
        .unwrap();
        assert_eq!(next_starts(&probe, 6), ["a", "b", "c", "d", "e", "f"]);
        root.stop(ExitReason::Shutdown).unwrap();
        assert_eq!(next_stops(&probe, 6), ["f", "e", "d", "c", "b", "a"]);
    });
}

#[test]
fn r1_a_grandchild_stopping_the_root_does_not_deadlock() {
    each_runtime(|rt| {
        let probe = Probe::spawn(rt);
        let root = Supervisor::start_link(
            rt,
            vec![Supervisor::child_spec(
                "mid",
                vec![worker("leaf", &probe)],
                SupervisorOptions::new(),
            )],
            SupervisorOptions::new(),
        )
        .unwrap();
        let leaf = started(&probe, "leaf");
        let root_watch = watch(rt, root.pid());
        let (tx, rx) = std::sync::mpsc::channel();
        let r = root.clone();
        tell(
            rt,
            leaf,
            Cmd::Run(Box::new(move |_ctx| {
                // The root stops mid, which stops this process while it
                // waits: the wait notices and returns.
                tx.send(r.stop(ExitReason::Normal)).unwrap();
            })),
        );
        assert_eq!(
            rx.recv_timeout(TIMEOUT).unwrap(),
            Err(rotp_supervisor::StopError::CallerExiting)
        );
        assert_eq!(down_reason(&root_watch), ExitReason::Normal);
    });
}

#[test]
fn r1_a_grandchild_terminating_its_own_supervisor_does_not_deadlock() {
    each_runtime(|rt| {
        let probe = Probe::spawn(rt);
        let root = Supervisor::start_link(
            rt,
            vec![Supervisor::child_spec(
                "mid",
                vec![worker("leaf", &probe)],
                SupervisorOptions::new(),
            )],
            SupervisorOptions::new(),
        )
        .unwrap();
        let leaf = started(&probe, "leaf");
        let (tx, rx) = std::sync::mpsc::channel();
        let r = root.clone();
        tell(
            rt,
            leaf,
            Cmd::Run(Box::new(move |_ctx| {
                tx.send(r.terminate_child("mid")).unwrap();
            })),
        );
        let result = rx.recv_timeout(TIMEOUT).unwrap();
        // Either the answer came first, or the wait noticed the exit.
        assert!(
            matches!(
                result,
                Ok(())
                    | Err(rotp_supervisor::TerminateChildError::Call(
                        rotp_supervisor::CallError::CallerExiting
                    ))
            ),
            "{result:?}"
        );
        eventually("mid is stopped", || {
            status(&root, "mid") == Some(ChildStatus::Undefined)
        });
        assert!(!rt.is_alive(leaf));
    });
}
