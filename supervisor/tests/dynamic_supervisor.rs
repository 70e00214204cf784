//! DynamicSupervisor (spec rules 154-163).

mod common;

use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::{mpsc, Arc};
use std::time::Duration;

use common::*;
use rotp_runtime::testing::{Probe, Received};
use rotp_runtime::{assert_receive, Addr, ExitReason};
use rotp_supervisor::{
    start_link_process, CallError, ChildSpec, ChildSpecError, ChildStartError, ChildStatus,
    ChildType, DynamicChildSpec, DynamicSupervisor, DynamicSupervisorOptions, FlagsError, Restart,
    Shutdown, StartChildError, Supervisor, SupervisorOptions, SupervisorStartError,
    TerminateChildError,
};

fn start(rt: &rotp_runtime::Runtime) -> DynamicSupervisor {
    DynamicSupervisor::start_link(rt, DynamicSupervisorOptions::new().max_restarts(100)).unwrap()
}

#[test]
fn rule_154_defaults_and_flag_validation() {
    let opts = DynamicSupervisorOptions::new();
    assert_eq!(opts.intensity.max_restarts, 3);
    assert_eq!(opts.intensity.period, Duration::from_secs(5));
    assert_eq!(opts.max_children, None);
    each_runtime(|rt| {
        let sup = DynamicSupervisor::start_link(rt, DynamicSupervisorOptions::new()).unwrap();
        assert!(sup.which_children().unwrap().is_empty());
        let r = DynamicSupervisor::start_link(rt, DynamicSupervisorOptions::new().max_seconds(0));
        assert_eq!(
            r.unwrap_err(),
            SupervisorStartError::InvalidFlags(FlagsError::InvalidPeriod(Duration::ZERO))
        );
    });
}

#[test]
fn rule_155_significant_children_are_rejected_without_asking_the_supervisor() {
    each_runtime(|rt| {
        let probe = Probe::spawn(rt);
        let sup = start(rt);
        sup.stop(ExitReason::Normal).unwrap();
        // Even a dead supervisor gives the validation error: it was not asked.
        let spec = worker("s", &probe)
            .restart(Restart::Temporary)
            .significant(true);
        assert_eq!(
            sup.start_child(spec),
            Err(StartChildError::Invalid(
                ChildSpecError::InvalidSignificant("s".into())
            ))
        );
    });
}

#[test]
fn rule_155_ids_are_ignored() {
    each_runtime(|rt| {
        let probe = Probe::spawn(rt);
        let sup = start(rt);
        let a = sup.start_child(worker("same", &probe)).unwrap().unwrap();
        let b = sup.start_child(worker("same", &probe)).unwrap().unwrap();
        assert_ne!(a, b);
        assert_eq!(sup.count_children().unwrap().active, 2);
    });
}

#[test]
fn rule_155_start_child_takes_a_spec_without_an_id() {
    each_runtime(|rt| {
        let probe = Probe::spawn(rt);
        let sup = start(rt);
        let spec = dynamic_worker("w", &probe).restart(Restart::Transient);
        let a = sup.start_child(spec.clone()).unwrap().unwrap();
        let b = sup.start_child(spec).unwrap().unwrap();
        assert_ne!(a, b);
        assert_eq!(started(&probe, "w"), a);
        assert_eq!(started(&probe, "w"), b);
        // Transient (rule 159): restarted after a crash, not after `normal`.
        crash(rt, a);
        let a2 = started(&probe, "w");
        assert_ne!(a2, a);
        exit_child(rt, b, ExitReason::Normal);
        refute_start(&probe);
        // A supervisor child without an id: counted as a supervisor.
        let nested = DynamicChildSpec::supervisor(|| {
            let inner = DynamicSupervisor::start_link(
                &rotp_runtime::Handle::current(),
                DynamicSupervisorOptions::new(),
            )
            .map_err(|e| ChildStartError::Failed(ExitReason::custom(e)))?;
            Ok(Some(inner.pid()))
        });
        assert_eq!(nested.shutdown, Shutdown::Infinity);
        sup.start_child(nested).unwrap().unwrap();
        let counts = sup.count_children().unwrap();
        assert_eq!((counts.workers, counts.supervisors), (1, 1));
        assert_eq!(
            sup.which_children().unwrap()[0].status,
            ChildStatus::Running(a2)
        );
    });
}

/// The extra argument of the tests below: where to report, and a tag.
#[derive(Clone)]
struct Extra {
    events: Addr<Event>,
    tag: &'static str,
}

/// A child whose start function combines the extra argument with its own
/// argument (Elixir prepends `extra_arguments` to the child's arguments).
fn tagged(arg: u32, starts: &Arc<AtomicUsize>) -> ChildSpec<Extra> {
    let starts = starts.clone();
    ChildSpec::new("tagged", ChildType::Worker, move |extra: &Extra| {
        starts.fetch_add(1, SeqCst);
        let events = extra.events.clone();
        let id = format!("{}-{arg}", extra.tag);
        start_link_process(rotp_runtime::FnProcess::new(move |cmd: Cmd, ctx| {
            let _ = &events;
            if let Cmd::Exit(r) = cmd {
                ctx.exit(r)
            }
        }))
        .inspect(|pid| {
            if let Some(pid) = pid {
                extra.events.send(Event::Started(id, *pid));
            }
        })
    })
}

#[test]
fn rule_156_the_extra_argument_reaches_every_start_and_restart() {
    each_runtime(|rt| {
        let probe = Probe::spawn(rt);
        let extra = Extra {
            events: probe.addr().clone(),
            tag: "pool",
        };
        let opts = DynamicSupervisorOptions::new().extra_arguments(extra);
        let sup: DynamicSupervisor<Extra> = DynamicSupervisor::start_link(rt, opts).unwrap();
        let starts = Arc::new(AtomicUsize::new(0));
        let pid = sup.start_child(tagged(7, &starts)).unwrap().unwrap();
        assert_eq!(started(&probe, "pool-7"), pid);
        crash(rt, pid);
        let again = started(&probe, "pool-7");
        assert_ne!(again, pid);
        assert_eq!(starts.load(SeqCst), 2);
        // Looking it up by name checks the extra type.
        assert!(DynamicSupervisor::<()>::from_pid(rt, sup.pid()).is_none());
        assert!(DynamicSupervisor::<Extra>::from_pid(rt, sup.pid()).is_some());
    });
}

#[test]
fn rule_156_a_spec_without_an_id_gets_the_extra_argument_too() {
    each_runtime(|rt| {
        let probe = Probe::spawn(rt);
        let extra = Extra {
            events: probe.addr().clone(),
            tag: "conn",
        };
        let opts = DynamicSupervisorOptions::new().extra_arguments(extra);
        let sup: DynamicSupervisor<Extra> = DynamicSupervisor::start_link(rt, opts).unwrap();
        let starts = Arc::new(AtomicUsize::new(0));
        // The same start function as `tagged`, without the id.
        let spec = DynamicChildSpec::new(ChildType::Worker, {
            let inner = tagged(3, &starts);
            move |extra: &Extra| (inner.start_fn())(extra)
        });
        let pid = sup.start_child(spec).unwrap().unwrap();
        assert_eq!(started(&probe, "conn-3"), pid);
        crash(rt, pid);
        assert_ne!(started(&probe, "conn-3"), pid);
        assert_eq!(starts.load(SeqCst), 2);
    });
}

#[test]
fn rule_157_start_child_results() {
    each_runtime(|rt| {
        let probe = Probe::spawn(rt);
        let ctl = StartControl::new();
        let sup = start(rt);
        let pid = sup
            .start_child(controlled("c", &probe, &ctl))
            .unwrap()
            .unwrap();
        assert_eq!(started(&probe, "c"), pid);
        ctl.ignore();
        assert_eq!(sup.start_child(controlled("c", &probe, &ctl)), Ok(None));
        ctl.fail();
        // Not wrapped with the spec.
        assert_eq!(
            sup.start_child(controlled("c", &probe, &ctl)),
            Err(StartChildError::Failed(ExitReason::custom("start failed")))
        );
        let panicking = ChildSpec::worker("p", || panic!("no"));
        assert!(matches!(
            sup.start_child(panicking),
            Err(StartChildError::Failed(ExitReason::Panic(_)))
        ));
        let other = rt.spawn(Parent).pid();
        let clash = ChildSpec::worker("x", move || Err(ChildStartError::AlreadyStarted(other)));
        assert_eq!(
            sup.start_child(clash),
            Err(StartChildError::AlreadyStarted(other))
        );
        // Only the first one is kept.
        assert_eq!(sup.count_children().unwrap().specs, 1);
    });
}

#[test]
fn rule_158_max_children_counts_restarting_children() {
    each_virtual_runtime(|rt| {
        let probe = Probe::spawn(rt);
        let ctl = StartControl::new();
        let sup = DynamicSupervisor::start_link(
            rt,
            DynamicSupervisorOptions::new()
                .max_children(2)
                .max_restarts(1_000_000),
        )
        .unwrap();
        sup.start_child(worker("a", &probe)).unwrap();
        let c = sup
            .start_child(controlled("c", &probe, &ctl))
            .unwrap()
            .unwrap();
        assert_eq!(
            sup.start_child(worker("x", &probe)),
            Err(StartChildError::MaxChildren)
        );
        ctl.fail();
        crash(rt, c);
        eventually("c is restarting", || {
            sup.which_children()
                .unwrap()
                .iter()
                .any(|c| c.status == ChildStatus::Restarting)
        });
        assert_eq!(
            sup.start_child(worker("x", &probe)),
            Err(StartChildError::MaxChildren)
        );
        let counts = sup.count_children().unwrap();
        assert_eq!((counts.specs, counts.active), (2, 1));
        // terminate_child by the old pid aborts the retry loop (rule 160).
        sup.terminate_child(c).unwrap();
        sup.start_child(worker("x", &probe)).unwrap().unwrap();
    });
}

#[test]
fn rule_159_restart_types() {
    each_runtime(|rt| {
        let probe = Probe::spawn(rt);
        let sup = start(rt);
        // permanent: always.
        let p = sup.start_child(worker("p", &probe)).unwrap().unwrap();
        exit_child(rt, p, ExitReason::Normal);
        started(&probe, "p");
        started(&probe, "p");
        // transient: only abnormal.
        let t = sup
            .start_child(worker("t", &probe).restart(Restart::Transient))
            .unwrap()
            .unwrap();
        started(&probe, "t");
        exit_child(rt, t, ExitReason::shutdown_with("done"));
        let t2 = sup
            .start_child(worker("t", &probe).restart(Restart::Transient))
            .unwrap()
            .unwrap();
        started(&probe, "t");
        crash(rt, t2);
        started(&probe, "t");
        // temporary: never.
        let tmp = sup
            .start_child(worker("tmp", &probe).restart(Restart::Temporary))
            .unwrap()
            .unwrap();
        started(&probe, "tmp");
        crash(rt, tmp);
        refute_start(&probe);
        // p and t remain.
        assert_eq!(sup.count_children().unwrap().specs, 2);
    });
}

#[test]
fn rule_159_intensity_applies() {
    each_virtual_runtime(|rt| {
        let probe = Probe::spawn(rt);
        let sup =
            DynamicSupervisor::start_link(rt, DynamicSupervisorOptions::new().max_restarts(1))
                .unwrap();
        let watcher = watch(rt, sup.pid());
        let mut pid = sup.start_child(worker("w", &probe)).unwrap().unwrap();
        started(&probe, "w");
        crash(rt, pid);
        pid = started(&probe, "w");
        crash(rt, pid);
        assert_eq!(down_reason(&watcher), ExitReason::Shutdown);
    });
}

#[test]
fn rule_159_a_failed_restart_is_retried_until_it_works() {
    each_virtual_runtime(|rt| {
        let probe = Probe::spawn(rt);
        let ctl = StartControl::new();
        let sup = DynamicSupervisor::start_link(
            rt,
            DynamicSupervisorOptions::new().max_restarts(1_000_000),
        )
        .unwrap();
        let pid = sup
            .start_child(controlled("c", &probe, &ctl))
            .unwrap()
            .unwrap();
        started(&probe, "c");
        ctl.fail();
        crash(rt, pid);
        eventually("it retries", || ctl.calls() > 5);
        ctl.start();
        let again = started(&probe, "c");
        eventually("running again", || {
            sup.which_children().unwrap().first().map(|c| c.status)
                == Some(ChildStatus::Running(again))
        });
    });
}

#[test]
fn rule_160_terminate_child_by_pid() {
    each_runtime(|rt| {
        let probe = Probe::spawn(rt);
        let sup = start(rt);
        let pid = sup.start_child(worker("w", &probe)).unwrap().unwrap();
        assert_eq!(started(&probe, "w"), pid);
        let watcher = watch(rt, pid);
        sup.terminate_child(pid).unwrap();
        assert_eq!(down_reason(&watcher), ExitReason::Shutdown);
        refute_start(&probe);
        assert_eq!(sup.terminate_child(pid), Err(TerminateChildError::NotFound));
        let stranger = rt.spawn(Parent).pid();
        assert_eq!(
            sup.terminate_child(stranger),
            Err(TerminateChildError::NotFound)
        );
    });
}

#[test]
fn rule_161_children_are_stopped_concurrently_each_with_its_own_timeout() {
    each_virtual_runtime(|rt| {
        let probe = Probe::spawn(rt);
        let sup = start(rt);
        let mut slow = Vec::new();
        for i in 0..3 {
            let spec = trapping_worker(&format!("slow{i}"), &probe, OnShutdown::Ignore)
                .shutdown(Shutdown::Timeout(Duration::from_secs(2)));
            slow.push(sup.start_child(spec).unwrap().unwrap());
        }
        let quick = sup
            .start_child(trapping_worker("quick", &probe, OnShutdown::Exit))
            .unwrap()
            .unwrap();
        let brutal = sup
            .start_child(
                trapping_worker("brutal", &probe, OnShutdown::Ignore)
                    .shutdown(Shutdown::BrutalKill),
            )
            .unwrap()
            .unwrap();
        next_starts(&probe, 5);
        let watchers: Vec<_> = slow.iter().map(|p| watch(rt, *p)).collect();
        let quick_w = watch(rt, quick);
        let brutal_w = watch(rt, brutal);
        let (tx, rx) = mpsc::channel();
        let s = sup.clone();
        std::thread::spawn(move || tx.send(s.stop(ExitReason::Shutdown)).unwrap());
        // All got their signal before anyone was waited for.
        let mut stopping = next_stops(&probe, 4);
        stopping.sort();
        assert_eq!(stopping, ["quick", "slow0", "slow1", "slow2"]);
        assert_eq!(down_reason(&quick_w), ExitReason::Shutdown);
        assert_eq!(down_reason(&brutal_w), ExitReason::Killed);
        // One 2 s budget for all the slow ones, not 2 s each.
        rt.advance(Duration::from_millis(2100));
        for w in &watchers {
            assert_eq!(down_reason(w), ExitReason::Killed);
        }
        assert_eq!(rx.recv_timeout(TIMEOUT).unwrap(), Ok(()));
    });
}

#[test]
fn rule_162_which_children_and_count_children() {
    each_runtime(|rt| {
        let probe = Probe::spawn(rt);
        let sup = start(rt);
        let a = sup.start_child(worker("a", &probe)).unwrap().unwrap();
        let s = sup
            .start_child(Supervisor::child_spec(
                "s",
                vec![],
                SupervisorOptions::new(),
            ))
            .unwrap()
            .unwrap();
        let children = sup.which_children().unwrap();
        assert_eq!(children.len(), 2);
        assert_eq!(children[0].status, ChildStatus::Running(a));
        assert_eq!(children[0].child_type, ChildType::Worker);
        assert_eq!(children[1].status, ChildStatus::Running(s));
        assert_eq!(children[1].child_type, ChildType::Supervisor);
        let counts = sup.count_children().unwrap();
        assert_eq!(
            (
                counts.specs,
                counts.active,
                counts.supervisors,
                counts.workers
            ),
            (2, 2, 1, 1)
        );
    });
}

#[test]
fn rule_163_a_dynamic_supervisor_under_a_supervisor() {
    each_runtime(|rt| {
        let probe = Probe::spawn(rt);
        let spec = DynamicSupervisor::child_spec(DynamicSupervisorOptions::new().name("dyn_sup"));
        assert_eq!(spec.child_type, ChildType::Supervisor);
        assert_eq!(spec.shutdown, Shutdown::Infinity);
        let root = Supervisor::start_link(rt, vec![spec], SupervisorOptions::new()).unwrap();
        let dynamic = DynamicSupervisor::<()>::whereis(rt, "dyn_sup").unwrap();
        dynamic
            .start_child(trapping_worker("w", &probe, OnShutdown::Exit))
            .unwrap();
        started(&probe, "w");
        root.stop(ExitReason::Normal).unwrap();
        assert_receive!(
            probe,
            Received::Message(Event::Stopping(_, ExitReason::Shutdown))
        );
        assert_eq!(dynamic.count_children(), Err(CallError::NoProc));
    });
}

#[test]
fn parent_exit_stops_the_dynamic_supervisor() {
    each_runtime(|rt| {
        let probe = Probe::spawn(rt);
        let parent = rt.spawn(Parent);
        let handle = rt.handle().clone();
        let sup = run_in(&parent, move |_| {
            DynamicSupervisor::start_link(&handle, DynamicSupervisorOptions::new()).unwrap()
        });
        sup.start_child(trapping_worker("w", &probe, OnShutdown::Exit))
            .unwrap();
        started(&probe, "w");
        let watcher = watch(rt, sup.pid());
        run_in(&parent, |ctx| ctx.exit(ExitReason::custom("bye")));
        assert_receive!(probe, Received::Message(Event::Stopping(..)));
        assert_eq!(down_reason(&watcher), ExitReason::custom("bye"));
    });
}

#[test]
fn rule_160_a_child_can_terminate_itself_through_its_supervisor() {
    each_runtime(|rt| {
        let probe = Probe::spawn(rt);
        let sup = start(rt);
        let pid = sup.start_child(worker("w", &probe)).unwrap().unwrap();
        started(&probe, "w");
        let watcher = watch(rt, pid);
        let (tx, rx) = mpsc::channel();
        let s = sup.clone();
        tell(
            rt,
            pid,
            Cmd::Run(Box::new(move |ctx| {
                tx.send(s.terminate_child(ctx.pid())).unwrap();
            })),
        );
        // The child is told to exit while it waits for the answer (R1): it
        // gets the answer, or, if the exit beats it, `CallerExiting`.
        let answer = rx.recv_timeout(TIMEOUT).unwrap();
        assert!(
            matches!(
                answer,
                Ok(()) | Err(TerminateChildError::Call(CallError::CallerExiting))
            ),
            "{answer:?}"
        );
        assert_eq!(down_reason(&watcher), ExitReason::Shutdown);
        refute_start(&probe);
        assert_eq!(sup.count_children().unwrap().specs, 0);
    });
}

/// `restart_period` sets the intensity window and leaves `max_restarts`,
/// `max_children`, the extra argument and the name as they were, in either
/// order.
#[test]
fn rule_154_restart_period_sets_only_the_window() {
    let period = Duration::from_millis(250);
    let after = DynamicSupervisorOptions::new()
        .max_restarts(9)
        .max_children(4)
        .name("conns")
        .extra_arguments(7u32)
        .restart_period(period);
    let before = DynamicSupervisorOptions::new()
        .restart_period(period)
        .max_restarts(9)
        .max_children(4)
        .name("conns")
        .extra_arguments(7u32);
    for opts in [after, before] {
        assert_eq!(opts.intensity.period, period);
        assert_eq!(opts.intensity.max_restarts, 9);
        assert_eq!(opts.max_children, Some(4));
        assert_eq!(opts.extra, 7);
        assert_eq!(
            opts.name.as_ref().map(|n| n.to_string()),
            Some("conns".to_owned())
        );
    }
}

/// A DynamicSupervisor counts restarts in its `restart_period`, with its
/// `max_restarts`, `max_children` and name in force.
#[test]
fn rule_159_a_dynamic_supervisor_uses_its_restart_period() {
    each_virtual_runtime(|rt| {
        let probe = Probe::spawn(rt);
        let name = format!("dyn-period-{}", rt.workers());
        let sup = DynamicSupervisor::start_link(
            rt,
            DynamicSupervisorOptions::new()
                .max_restarts(1)
                .max_children(1)
                .name(name.as_str())
                .restart_period(Duration::from_millis(500)),
        )
        .unwrap();
        assert_eq!(
            DynamicSupervisor::<()>::whereis(rt, &name).map(|s| s.pid()),
            Some(sup.pid())
        );
        let mut pid = sup.start_child(worker("w", &probe)).unwrap().unwrap();
        started(&probe, "w");
        assert!(matches!(
            sup.start_child(worker("x", &probe)),
            Err(StartChildError::MaxChildren)
        ));
        for _ in 0..3 {
            crash(rt, pid);
            pid = started(&probe, "w");
            rt.advance(Duration::from_millis(600));
        }
        let watcher = watch(rt, sup.pid());
        crash(rt, pid);
        pid = started(&probe, "w");
        rt.advance(Duration::from_millis(400));
        crash(rt, pid);
        assert_eq!(down_reason(&watcher), ExitReason::Shutdown);
    });
}
