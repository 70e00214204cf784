//! The management API, names and validation (spec rules 104-109, 139-148).

mod common;

use std::time::Duration;

use common::*;
use rotp_runtime::testing::Probe;
use rotp_runtime::ExitReason;
use rotp_supervisor::{
    AutoShutdown, CallError, ChildSpec, ChildSpecError, ChildStartError, ChildStatus, ChildType,
    DeleteChildError, FlagsError, GetChildSpecError, Restart, RestartChildError, Shutdown,
    StartChildError, StopError, Supervisor, SupervisorOptions, SupervisorStartError,
    TerminateChildError,
};

#[test]
fn auto_traits_are_pinned() {
    fn send_sync<T: Send + Sync + Clone>() {}
    send_sync::<Supervisor>();
    send_sync::<ChildSpec>();
    send_sync::<rotp_supervisor::DynamicSupervisor<String>>();
    send_sync::<rotp_supervisor::DynamicChildSpec<String>>();
    fn send<T: Send>() {}
    send::<rotp_supervisor::SupervisorInit>();
}

#[test]
fn rule_104_defaults_are_filled_in_and_returned_by_get_childspec_rule_145() {
    each_runtime(|rt| {
        let probe = Probe::spawn(rt);
        let sup = Supervisor::start_link(
            rt,
            vec![
                worker("w", &probe),
                Supervisor::child_spec("s", vec![], SupervisorOptions::new()),
            ],
            SupervisorOptions::new(),
        )
        .unwrap();
        let w = sup.get_childspec("w").unwrap();
        assert_eq!(w.id, "w");
        assert_eq!(w.restart, Restart::Permanent);
        assert_eq!(w.shutdown, Shutdown::Timeout(Duration::from_secs(5)));
        assert_eq!(w.child_type, ChildType::Worker);
        assert!(!w.significant);
        let s = sup.get_childspec("s").unwrap();
        assert_eq!(s.shutdown, Shutdown::Infinity);
        assert_eq!(s.child_type, ChildType::Supervisor);
        assert_eq!(
            sup.get_childspec("nope").unwrap_err(),
            GetChildSpecError::NotFound
        );
    });
}

#[test]
fn rule_106_duplicate_ids_are_rejected_and_nothing_starts() {
    each_runtime(|rt| {
        let probe = Probe::spawn(rt);
        let before = rt.process_count();
        let r = Supervisor::start_link(
            rt,
            vec![worker("a", &probe), worker("a", &probe)],
            SupervisorOptions::new(),
        );
        assert_eq!(
            r.unwrap_err(),
            SupervisorStartError::InvalidSpec(ChildSpecError::DuplicateId("a".into()))
        );
        assert_eq!(rt.process_count(), before);
        assert!(probe.is_empty());
    });
}

#[test]
fn rule_108_invalid_flags_are_rejected() {
    each_runtime(|rt| {
        let r = Supervisor::start_link(rt, vec![], SupervisorOptions::new().max_seconds(0));
        assert_eq!(
            r.unwrap_err(),
            SupervisorStartError::InvalidFlags(FlagsError::InvalidPeriod(Duration::ZERO))
        );
    });
}

#[test]
fn rule_149_bad_significant_combinations_are_rejected() {
    each_runtime(|rt| {
        let probe = Probe::spawn(rt);
        let r = Supervisor::start_link(
            rt,
            vec![worker("p", &probe).significant(true)],
            SupervisorOptions::new().auto_shutdown(AutoShutdown::AnySignificant),
        );
        assert_eq!(
            r.unwrap_err(),
            SupervisorStartError::InvalidSpec(ChildSpecError::SignificantPermanent("p".into()))
        );
        let r = Supervisor::start_link(
            rt,
            vec![worker("t", &probe)
                .restart(Restart::Transient)
                .significant(true)],
            SupervisorOptions::new(),
        );
        assert_eq!(
            r.unwrap_err(),
            SupervisorStartError::InvalidSpec(ChildSpecError::SignificantWithoutAutoShutdown(
                "t".into()
            ))
        );
        // start_child validates too.
        let sup = Supervisor::start_link(rt, vec![], SupervisorOptions::new()).unwrap();
        assert_eq!(
            sup.start_child(
                worker("t", &probe)
                    .restart(Restart::Temporary)
                    .significant(true)
            ),
            Err(StartChildError::Invalid(
                ChildSpecError::SignificantWithoutAutoShutdown("t".into())
            ))
        );
    });
}

#[test]
fn rule_109_specs_can_be_overridden() {
    let probe_free = ChildSpec::worker("x", || Ok(None))
        .id("y")
        .restart(Restart::Temporary)
        .shutdown(Shutdown::BrutalKill);
    assert_eq!(probe_free.id, "y");
    assert_eq!(probe_free.restart, Restart::Temporary);
    assert_eq!(probe_free.shutdown, Shutdown::BrutalKill);
}

#[test]
fn rule_48_a_taken_name_fails_the_start_without_starting_children() {
    each_runtime(|rt| {
        let probe = Probe::spawn(rt);
        let first =
            Supervisor::start_link(rt, vec![], SupervisorOptions::new().name("the_sup")).unwrap();
        assert_eq!(Supervisor::whereis(rt, "the_sup"), Some(first.clone()));
        let r = Supervisor::start_link(
            rt,
            vec![worker("a", &probe)],
            SupervisorOptions::new().name("the_sup"),
        );
        assert_eq!(
            r.unwrap_err(),
            SupervisorStartError::AlreadyStarted(first.pid())
        );
        assert!(probe.is_empty());
        first.stop(ExitReason::Normal).unwrap();
        assert_eq!(Supervisor::whereis(rt, "the_sup"), None);
    });
}

#[test]
fn rule_139_start_child() {
    each_runtime(|rt| {
        let probe = Probe::spawn(rt);
        let ctl = StartControl::new();
        let sup = Supervisor::start_link(rt, vec![worker("a", &probe)], SupervisorOptions::new())
            .unwrap();
        let a = started(&probe, "a");
        // New child: started, stored, last in start order.
        let b = sup.start_child(worker("b", &probe)).unwrap().unwrap();
        assert_eq!(started(&probe, "b"), b);
        // Same id, running.
        assert_eq!(
            sup.start_child(worker("a", &probe)),
            Err(StartChildError::AlreadyStarted(a))
        );
        // Same id, not running.
        sup.terminate_child("a").unwrap();
        assert_eq!(
            sup.start_child(worker("a", &probe)),
            Err(StartChildError::AlreadyPresent)
        );
        // ignore: stored, not running; a temporary one is not stored.
        ctl.ignore();
        assert_eq!(sup.start_child(controlled("ign", &probe, &ctl)), Ok(None));
        assert_eq!(status(&sup, "ign"), Some(ChildStatus::Undefined));
        assert_eq!(
            sup.start_child(controlled("ign_tmp", &probe, &ctl).restart(Restart::Temporary)),
            Ok(None)
        );
        assert_eq!(status(&sup, "ign_tmp"), None);
        // A start error: nothing stored.
        ctl.fail();
        assert_eq!(
            sup.start_child(controlled("bad", &probe, &ctl)),
            Err(StartChildError::Failed(ExitReason::custom("start failed")))
        );
        assert_eq!(status(&sup, "bad"), None);
        // The start function's own already_started passes through.
        let elsewhere = rt.spawn(Parent).pid();
        let clash = ChildSpec::worker("clash", move || {
            Err(ChildStartError::AlreadyStarted(elsewhere))
        });
        assert_eq!(
            sup.start_child(clash),
            Err(StartChildError::AlreadyStarted(elsewhere))
        );
        assert_eq!(status(&sup, "clash"), None);
    });
}

#[test]
fn rule_140_terminate_child() {
    each_runtime(|rt| {
        let probe = Probe::spawn(rt);
        let sup = Supervisor::start_link(
            rt,
            vec![
                worker("a", &probe),
                worker("tmp", &probe).restart(Restart::Temporary),
            ],
            SupervisorOptions::new(),
        )
        .unwrap();
        next_starts(&probe, 2);
        let watcher = watch(rt, pid_of(&sup, "a"));
        sup.terminate_child("a").unwrap();
        assert_eq!(down_reason(&watcher), ExitReason::Shutdown);
        // Spec kept, no restart.
        assert_eq!(status(&sup, "a"), Some(ChildStatus::Undefined));
        refute_start(&probe);
        // Ok again when not running.
        sup.terminate_child("a").unwrap();
        // A temporary child's spec goes.
        sup.terminate_child("tmp").unwrap();
        assert_eq!(status(&sup, "tmp"), None);
        assert_eq!(
            sup.terminate_child("nope"),
            Err(TerminateChildError::NotFound)
        );
    });
}

#[test]
fn rule_141_restart_child() {
    each_runtime(|rt| {
        let probe = Probe::spawn(rt);
        let ctl = StartControl::new();
        let sup = Supervisor::start_link(
            rt,
            vec![
                controlled("c", &probe, &ctl),
                worker("tmp", &probe).restart(Restart::Temporary),
            ],
            SupervisorOptions::new(),
        )
        .unwrap();
        next_starts(&probe, 2);
        assert_eq!(sup.restart_child("c"), Err(RestartChildError::Running));
        assert_eq!(sup.restart_child("nope"), Err(RestartChildError::NotFound));
        sup.terminate_child("c").unwrap();
        let pid = sup.restart_child("c").unwrap().unwrap();
        assert_eq!(started(&probe, "c"), pid);
        assert_eq!(status(&sup, "c"), Some(ChildStatus::Running(pid)));
        sup.terminate_child("c").unwrap();
        ctl.ignore();
        assert_eq!(sup.restart_child("c"), Ok(None));
        assert_eq!(status(&sup, "c"), Some(ChildStatus::Undefined));
        ctl.fail();
        assert_eq!(
            sup.restart_child("c"),
            Err(RestartChildError::Start(ChildStartError::Failed(
                ExitReason::custom("start failed")
            )))
        );
        assert_eq!(status(&sup, "c"), Some(ChildStatus::Undefined));
        // Temporary children cannot be restarted: their spec is gone.
        sup.terminate_child("tmp").unwrap();
        assert_eq!(sup.restart_child("tmp"), Err(RestartChildError::NotFound));
    });
}

#[test]
fn rule_142_delete_child() {
    each_runtime(|rt| {
        let probe = Probe::spawn(rt);
        let sup = Supervisor::start_link(rt, vec![worker("a", &probe)], SupervisorOptions::new())
            .unwrap();
        started(&probe, "a");
        assert_eq!(sup.delete_child("a"), Err(DeleteChildError::Running));
        assert_eq!(sup.delete_child("nope"), Err(DeleteChildError::NotFound));
        sup.terminate_child("a").unwrap();
        sup.delete_child("a").unwrap();
        assert_eq!(status(&sup, "a"), None);
        // The id is free again.
        sup.start_child(worker("a", &probe)).unwrap();
        started(&probe, "a");
    });
}

#[test]
fn rule_143_144_which_children_and_count_children() {
    each_runtime(|rt| {
        let probe = Probe::spawn(rt);
        let ctl = StartControl::new();
        ctl.ignore();
        let sup = Supervisor::start_link(
            rt,
            vec![
                worker("a", &probe),
                controlled("ign", &probe, &ctl),
                Supervisor::child_spec("s", vec![], SupervisorOptions::new()),
            ],
            SupervisorOptions::new(),
        )
        .unwrap();
        let children = sup.which_children().unwrap();
        let ids: Vec<_> = children.iter().map(|c| c.id.as_str()).collect();
        assert_eq!(ids, ["s", "ign", "a"]);
        assert_eq!(children[1].status, ChildStatus::Undefined);
        assert_eq!(children[0].child_type, ChildType::Supervisor);
        assert!(matches!(children[2].status, ChildStatus::Running(_)));
        let counts = sup.count_children().unwrap();
        assert_eq!(
            (
                counts.specs,
                counts.active,
                counts.supervisors,
                counts.workers
            ),
            (3, 2, 1, 2)
        );
    });
}

#[test]
fn rule_146_a_missing_supervisor_answers_noproc() {
    each_runtime(|rt| {
        let probe = Probe::spawn(rt);
        let sup = Supervisor::start_link(rt, vec![], SupervisorOptions::new()).unwrap();
        sup.stop(ExitReason::Normal).unwrap();
        assert_eq!(sup.which_children(), Err(CallError::NoProc));
        assert_eq!(sup.count_children(), Err(CallError::NoProc));
        assert_eq!(
            sup.start_child(worker("a", &probe)),
            Err(StartChildError::Call(CallError::NoProc))
        );
        assert_eq!(
            sup.terminate_child("a"),
            Err(TerminateChildError::Call(CallError::NoProc))
        );
        assert_eq!(sup.stop(ExitReason::Normal), Err(StopError::NoProc));
    });
}

#[test]
fn rule_146_requests_from_processes_work_too() {
    each_runtime(|rt| {
        let probe = Probe::spawn(rt);
        let sup = Supervisor::start_link(rt, vec![worker("a", &probe)], SupervisorOptions::new())
            .unwrap();
        started(&probe, "a");
        let parent = rt.spawn(Parent);
        let s = sup.clone();
        let n = run_in(&parent, move |_| s.which_children().unwrap().len());
        assert_eq!(n, 1);
        let s = sup.clone();
        let spec = worker("b", &probe);
        let pid = run_in(&parent, move |_| s.start_child(spec).unwrap().unwrap());
        assert_eq!(started(&probe, "b"), pid);
    });
}

#[test]
fn rule_148_stop_with_a_reason_and_a_timeout() {
    each_virtual_runtime(|rt| {
        let probe = Probe::spawn(rt);
        let sup = Supervisor::start_link(
            rt,
            vec![trapping_worker("slow", &probe, OnShutdown::Ignore)
                .shutdown(Shutdown::Timeout(Duration::from_secs(10)))],
            SupervisorOptions::new(),
        )
        .unwrap();
        started(&probe, "slow");
        let watcher = watch(rt, sup.pid());
        let s = sup.clone();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            tx.send(s.stop_timeout(ExitReason::custom("bye"), Some(Duration::from_secs(1))))
                .unwrap()
        });
        // The supervisor got the request: it is stopping its child.
        rotp_runtime::assert_receive!(
            probe,
            rotp_runtime::testing::Received::Message(Event::Stopping(..))
        );
        // The stop gives up waiting after 1 s of runtime clock; the
        // supervisor keeps going (its child has 10 s).
        let mut advanced = Duration::ZERO;
        let result = loop {
            rt.advance(Duration::from_millis(100));
            advanced += Duration::from_millis(100);
            if let Ok(r) = rx.recv_timeout(Duration::from_millis(20)) {
                break r;
            }
            assert!(
                advanced < Duration::from_secs(5),
                "stop_timeout did not time out"
            );
        };
        assert_eq!(result, Err(StopError::Timeout));
        assert!(advanced >= Duration::from_secs(1));
        assert!(rt.process_ref(sup.pid()).is_some());
        rt.advance(Duration::from_secs(10));
        assert_eq!(down_reason(&watcher), ExitReason::custom("bye"));
    });
}

#[test]
fn rule_47_a_supervisor_started_from_a_process_is_linked_to_it() {
    each_runtime(|rt| {
        let parent = rt.spawn(Parent);
        let handle = rt.handle().clone();
        let sup = run_in(&parent, move |_| {
            Supervisor::start_link(&handle, vec![], SupervisorOptions::new()).unwrap()
        });
        let info = rt.process_info(sup.pid()).unwrap();
        assert_eq!(info.parent, parent.pid());
        assert!(info.links.contains(&parent.pid()));
        assert!(info.trap_exit);
    });
}
