//! Stopping children and supervisors (spec rules 115-121, 85e, adaptations
//! R1 and R14).

mod common;

use std::sync::{mpsc, Arc};
use std::time::Duration;

use common::*;
use rotp_runtime::testing::{LogCapture, Probe, Received};
use rotp_runtime::{assert_receive, Context, ExitReason, Process};
use rotp_supervisor::{
    ChildSpec, ChildStatus, Restart, Shutdown, Strategy, Supervisor, SupervisorOptions,
};

fn three(probe: &Probe<Event>) -> Vec<ChildSpec> {
    ["a", "b", "c"]
        .iter()
        .map(|id| trapping_worker(id, probe, OnShutdown::Exit))
        .collect()
}

#[test]
fn rule_115_stop_stops_children_in_reverse_start_order() {
    each_runtime(|rt| {
        let probe = Probe::spawn(rt);
        let sup = Supervisor::start_link(rt, three(&probe), SupervisorOptions::new()).unwrap();
        next_starts(&probe, 3);
        let watcher = watch(rt, sup.pid());
        sup.stop(ExitReason::Normal).unwrap();
        assert_eq!(next_stops(&probe, 3), ["c", "b", "a"]);
        assert_eq!(down_reason(&watcher), ExitReason::Normal);
        // Each child got `shutdown` (rule 117).
        assert!(probe.is_empty());
    });
}

#[test]
fn rule_115_an_exit_from_the_root_parent_stops_the_tree_in_reverse_order() {
    each_runtime(|rt| {
        let probe = Probe::spawn(rt);
        let sup = Supervisor::start_link(rt, three(&probe), SupervisorOptions::new()).unwrap();
        next_starts(&probe, 3);
        // Started from a plain thread: the parent is the root pseudo-process,
        // which is what `Runtime::shutdown` sends its `shutdown` from.
        assert_eq!(
            rt.process_info(sup.pid()).unwrap().parent,
            rotp_runtime::Pid::ROOT
        );
        let watcher = watch(rt, sup.pid());
        rt.send_exit(sup.pid(), ExitReason::Shutdown);
        assert_eq!(next_stops(&probe, 3), ["c", "b", "a"]);
        assert_eq!(down_reason(&watcher), ExitReason::Shutdown);
    });
}

#[test]
fn rule_115_runtime_shutdown_stops_the_tree() {
    for workers in WORKER_COUNTS {
        let rt = rotp_runtime::Runtime::builder()
            .workers(workers)
            .build()
            .unwrap();
        let probe = Probe::spawn(&rt);
        let sup = Supervisor::start_link(&rt, three(&probe), SupervisorOptions::new()).unwrap();
        next_starts(&probe, 3);
        let sup_ref = rt.process_ref(sup.pid()).unwrap();
        let children: Vec<_> = ["a", "b", "c"]
            .iter()
            .map(|id| rt.process_ref(pid_of(&sup, id)).unwrap())
            .collect();
        rt.shutdown(SHUTDOWN_TIMEOUT).unwrap();
        assert_eq!(sup_ref.exit_reason(), Some(ExitReason::Shutdown));
        // Stopped by their supervisor, not killed by the runtime's sweep.
        for child in children {
            assert_eq!(child.exit_reason(), Some(ExitReason::Shutdown));
        }
    }
}

#[test]
fn rule_85e_88_115_the_parents_exit_stops_the_supervisor_with_that_reason() {
    each_runtime(|rt| {
        // Rule 88: even a `normal` exit of the parent stops it.
        for reason in [ExitReason::custom("parent gone"), ExitReason::Normal] {
            let probe = Probe::spawn(rt);
            let parent = rt.spawn(Parent);
            let children = three(&probe);
            let handle = rt.handle().clone();
            let sup = run_in(&parent, move |_ctx| {
                Supervisor::start_link(&handle, children, SupervisorOptions::new()).unwrap()
            });
            next_starts(&probe, 3);
            assert_eq!(rt.process_info(sup.pid()).unwrap().parent, parent.pid());
            let watcher = watch(rt, sup.pid());
            let r = reason.clone();
            run_in(&parent, move |ctx| ctx.exit(r));
            assert_eq!(next_stops(&probe, 3), ["c", "b", "a"]);
            assert_eq!(down_reason(&watcher), reason);
        }
    });
}

#[test]
fn rule_116_brutal_kill_kills_even_a_trapping_child() {
    each_runtime(|rt| {
        let probe = Probe::spawn(rt);
        let sup = Supervisor::start_link(
            rt,
            vec![trapping_worker("k", &probe, OnShutdown::Ignore).shutdown(Shutdown::BrutalKill)],
            SupervisorOptions::new(),
        )
        .unwrap();
        let pid = started(&probe, "k");
        let watcher = watch(rt, pid);
        sup.terminate_child("k").unwrap();
        assert_eq!(down_reason(&watcher), ExitReason::Killed);
        // It never saw a shutdown signal.
        assert!(probe.is_empty());
    });
}

#[test]
fn rule_117_a_non_trapping_child_dies_at_once_with_shutdown() {
    each_virtual_runtime(|rt| {
        let probe = Probe::spawn(rt);
        let sup = Supervisor::start_link(rt, vec![worker("w", &probe)], SupervisorOptions::new())
            .unwrap();
        let watcher = watch(rt, started(&probe, "w"));
        // No clock advance needed: the 5 s budget is not used.
        sup.terminate_child("w").unwrap();
        assert_eq!(down_reason(&watcher), ExitReason::Shutdown);
    });
}

#[test]
fn rule_117_a_child_ignoring_shutdown_is_killed_after_its_timeout() {
    each_virtual_runtime(|rt| {
        let probe = Probe::spawn(rt);
        let sup = Supervisor::start_link(
            rt,
            vec![trapping_worker("slow", &probe, OnShutdown::Ignore)
                .shutdown(Shutdown::Timeout(Duration::from_secs(2)))],
            SupervisorOptions::new(),
        )
        .unwrap();
        let pid = started(&probe, "slow");
        let watcher = watch(rt, pid);
        let (tx, rx) = mpsc::channel();
        let s = sup.clone();
        std::thread::spawn(move || tx.send(s.terminate_child("slow")).unwrap());
        assert_receive!(
            probe,
            Received::Message(Event::Stopping(_, ExitReason::Shutdown))
        );
        // Within the budget it is left alone.
        rt.advance(Duration::from_millis(1900));
        assert!(rx.recv_timeout(QUIET).is_err());
        assert!(rt.is_alive(pid));
        rt.advance(Duration::from_millis(200));
        assert_eq!(rx.recv_timeout(TIMEOUT).unwrap(), Ok(()));
        assert_eq!(down_reason(&watcher), ExitReason::Killed);
        assert_eq!(status(&sup, "slow"), Some(ChildStatus::Undefined));
    });
}

#[test]
fn rule_118_infinity_waits_as_long_as_it_takes() {
    each_virtual_runtime(|rt| {
        let probe = Probe::spawn(rt);
        let sup = Supervisor::start_link(
            rt,
            vec![trapping_worker("inf", &probe, OnShutdown::Ignore).shutdown(Shutdown::Infinity)],
            SupervisorOptions::new(),
        )
        .unwrap();
        let pid = started(&probe, "inf");
        let (tx, rx) = mpsc::channel();
        let s = sup.clone();
        std::thread::spawn(move || tx.send(s.terminate_child("inf")).unwrap());
        assert_receive!(probe, Received::Message(Event::Stopping(..)));
        rt.advance(Duration::from_secs(3600));
        assert!(rx.recv_timeout(QUIET).is_err());
        assert!(rt.is_alive(pid));
        // It finishes its work and exits on its own terms.
        tell(rt, pid, Cmd::Exit(ExitReason::Shutdown));
        assert_eq!(rx.recv_timeout(TIMEOUT).unwrap(), Ok(()));
    });
}

/// A child that unlinks itself from its supervisor in init.
struct Naughty(rotp_runtime::Addr<Event>);

impl Process for Naughty {
    type Message = Cmd;

    fn init(&mut self, ctx: &mut Context<'_, Cmd>) {
        let parent = ctx.parent();
        ctx.unlink(parent);
        self.0.send(Event::Started("naughty".into(), ctx.pid()));
    }

    fn handle(&mut self, _: Cmd, _: &mut Context<'_, Cmd>) {}
}

#[test]
fn rule_119_a_child_that_unlinked_itself_cannot_hang_the_supervisor() {
    each_runtime(|rt| {
        let probe = Probe::spawn(rt);
        let events = probe.addr().clone();
        let sup = Supervisor::start_link(
            rt,
            vec![ChildSpec::process("naughty", move || {
                Naughty(events.clone())
            })],
            SupervisorOptions::new(),
        )
        .unwrap();
        let pid = started(&probe, "naughty");
        assert!(!rt.process_info(pid).unwrap().links.contains(&sup.pid()));
        let watcher = watch(rt, pid);
        sup.terminate_child("naughty").unwrap();
        assert_eq!(down_reason(&watcher), ExitReason::Shutdown);
        sup.restart_child("naughty").unwrap();
        started(&probe, "naughty");
        sup.stop(ExitReason::Normal).unwrap();
    });
}

#[test]
fn rule_119_124_a_leftover_exit_of_a_stopped_child_is_not_taken_for_a_crash() {
    each_runtime(|rt| {
        let probe = Probe::spawn(rt);
        let sup = Supervisor::start_link(
            rt,
            vec![
                worker("a", &probe),
                worker("b", &probe),
                trapping_worker("slow", &probe, OnShutdown::Ignore).shutdown(Shutdown::Infinity),
            ],
            SupervisorOptions::new()
                .strategy(Strategy::OneForAll)
                .max_restarts(100),
        )
        .unwrap();
        next_starts(&probe, 3);
        let (a, b, slow) = (pid_of(&sup, "a"), pid_of(&sup, "b"), pid_of(&sup, "slow"));
        // Keep the supervisor busy stopping `slow` while a and b die, so
        // both EXITs are queued when it gets back to its mailbox.
        let s = sup.clone();
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || tx.send(s.terminate_child("slow")).unwrap());
        assert_receive!(probe, Received::Message(Event::Stopping(..)));
        crash(rt, a);
        exit_child(rt, b, ExitReason::custom("also down"));
        tell(rt, slow, Cmd::Exit(ExitReason::Shutdown));
        assert_eq!(rx.recv_timeout(TIMEOUT).unwrap(), Ok(()));
        // a's EXIT restarts the group once (b, already dead, is "stopped"
        // as a bystander); b's leftover EXIT changes nothing.
        let mut starts = next_starts(&probe, 3);
        starts.sort();
        assert_eq!(starts, ["a", "b", "slow"]);
        refute_start(&probe);
        let counts = sup.count_children().unwrap();
        assert_eq!((counts.specs, counts.active), (3, 3));
        // Clean up: `slow` stops only when told to.
        let slow = pid_of(&sup, "slow");
        let s = sup.clone();
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || tx.send(s.stop(ExitReason::Normal)).unwrap());
        assert_receive!(probe, Received::Message(Event::Stopping(..)));
        tell(rt, slow, Cmd::Exit(ExitReason::Shutdown));
        assert_eq!(rx.recv_timeout(TIMEOUT).unwrap(), Ok(()));
    });
}

#[test]
fn rule_121_a_child_racing_the_shutdown_keeps_its_reason_and_is_reported() {
    let logs = LogCapture::install(log::LevelFilter::Info);
    each_runtime(|rt| {
        let probe = Probe::spawn(rt);
        let sup = Supervisor::start_link(
            rt,
            vec![
                trapping_worker("calm", &probe, OnShutdown::Exit),
                trapping_worker(
                    "racer",
                    &probe,
                    OnShutdown::ExitWith(ExitReason::custom("my own reason")),
                ),
            ],
            SupervisorOptions::new(),
        )
        .unwrap();
        next_starts(&probe, 2);
        let racer = pid_of(&sup, "racer");
        let watcher = watch(rt, racer);
        let sup_watcher = watch(rt, sup.pid());
        sup.stop(ExitReason::Shutdown).unwrap();
        assert_eq!(down_reason(&watcher), ExitReason::custom("my own reason"));
        assert_eq!(down_reason(&sup_watcher), ExitReason::Shutdown);
        // Rule 120: reported as a shutdown_error, at error level.
        let needle = format!("{racer} exited: my own reason");
        let lines = logs.records(|r| r.line.contains(&needle));
        assert!(
            lines
                .iter()
                .any(|r| r.level == log::Level::Error && r.line.contains("shutdown_error")),
            "{lines:?}"
        );
    });
}

#[test]
fn r14_only_abnormal_child_exits_are_logged_as_errors() {
    let logs = LogCapture::install(log::LevelFilter::Info);
    each_runtime(|rt| {
        let probe = Probe::spawn(rt);
        let sup = Supervisor::start_link(rt, vec![worker("p", &probe)], SupervisorOptions::new())
            .unwrap();
        let first = started(&probe, "p");
        exit_child(rt, first, ExitReason::Normal);
        let second = started(&probe, "p");
        crash(rt, second);
        started(&probe, "p");
        let needle = format!("{first} exited: normal");
        let normal = logs.records(|r| r.line.contains(&needle));
        assert!(
            normal.iter().all(|r| r.level == log::Level::Info) && !normal.is_empty(),
            "{normal:?}"
        );
        let needle = format!("{second} exited: crash");
        let crashed = logs.records(|r| r.line.contains(&needle));
        assert!(
            crashed
                .iter()
                .any(|r| r.level == log::Level::Error && r.line.contains("child_terminated")),
            "{crashed:?}"
        );
        drop(sup);
    });
}

#[test]
fn r1_a_kill_waits_for_the_busy_callback_and_no_two_incarnations_overlap() {
    each_runtime(|rt| {
        let probe = Probe::spawn(rt);
        let alive = Arc::new(Incarnations::default());
        let sup = Supervisor::start_link(
            rt,
            vec![counted_worker("busy", &probe, &alive).shutdown(Shutdown::BrutalKill)],
            SupervisorOptions::new().strategy(Strategy::OneForOne),
        )
        .unwrap();
        let pid = started(&probe, "busy");
        // The child blocks in a callback until the test lets it go.
        let (go_tx, go_rx) = mpsc::channel::<()>();
        let (in_tx, in_rx) = mpsc::channel::<()>();
        tell(
            rt,
            pid,
            Cmd::Run(Box::new(move |_ctx| {
                in_tx.send(()).unwrap();
                rotp_runtime::blocking(|| go_rx.recv_timeout(TIMEOUT).unwrap());
            })),
        );
        in_rx.recv_timeout(TIMEOUT).unwrap();
        let (tx, rx) = mpsc::channel();
        let s = sup.clone();
        std::thread::spawn(move || tx.send(s.terminate_child("busy")).unwrap());
        // Marked exiting at once (not alive), but the kill waits for the
        // callback: terminate_child has not returned.
        eventually("the child is marked exiting", || !rt.is_alive(pid));
        assert!(rx.recv_timeout(QUIET).is_err());
        assert!(
            rt.process_ref(pid).is_some(),
            "still in the table while its callback runs"
        );
        go_tx.send(()).unwrap();
        assert_eq!(rx.recv_timeout(TIMEOUT).unwrap(), Ok(()));
        assert!(rt.process_ref(pid).is_none());
        // Restarted at once afterwards, never alongside the old one.
        sup.restart_child("busy").unwrap();
        started(&probe, "busy");
        assert_eq!(alive.max(), 1);
    });
}

#[test]
fn r1_a_child_busy_when_its_timeout_expires_is_waited_for_before_the_restart() {
    each_virtual_runtime(|rt| {
        let probe = Probe::spawn(rt);
        let alive = Arc::new(Incarnations::default());
        let sup = Supervisor::start_link(
            rt,
            vec![
                worker("trigger", &probe),
                counted_worker("busy", &probe, &alive)
                    .shutdown(Shutdown::Timeout(Duration::from_secs(1))),
            ],
            SupervisorOptions::new().strategy(Strategy::OneForAll),
        )
        .unwrap();
        next_starts(&probe, 2);
        let busy = pid_of(&sup, "busy");
        let (go_tx, go_rx) = mpsc::channel::<()>();
        let (in_tx, in_rx) = mpsc::channel::<()>();
        tell(
            rt,
            busy,
            Cmd::Run(Box::new(move |_ctx| {
                in_tx.send(()).unwrap();
                rotp_runtime::blocking(|| go_rx.recv_timeout(TIMEOUT).unwrap());
            })),
        );
        in_rx.recv_timeout(TIMEOUT).unwrap();
        // The trigger's crash makes the supervisor stop `busy` (one_for_all).
        crash(rt, pid_of(&sup, "trigger"));
        eventually("busy is told to exit", || !rt.is_alive(busy));
        rt.advance(Duration::from_secs(2)); // the timeout expires: kill
        refute_start(&probe);
        go_tx.send(()).unwrap();
        assert_eq!(next_starts(&probe, 2), ["trigger", "busy"]);
        assert_eq!(alive.max(), 1);
    });
}

#[test]
fn rule_117_a_supervisor_child_gets_infinity_and_stops_its_own_children_first() {
    each_runtime(|rt| {
        let probe = Probe::spawn(rt);
        let inner = Supervisor::child_spec("inner", three(&probe), SupervisorOptions::new());
        assert_eq!(inner.shutdown, Shutdown::Infinity);
        let outer = Supervisor::start_link(
            rt,
            vec![trapping_worker("first", &probe, OnShutdown::Exit), inner],
            SupervisorOptions::new(),
        )
        .unwrap();
        next_starts(&probe, 4);
        outer.stop(ExitReason::Normal).unwrap();
        assert_eq!(next_stops(&probe, 4), ["c", "b", "a", "first"]);
    });
}

#[test]
fn rule_122_temporary_children_stopped_by_terminate_child_are_forgotten() {
    each_runtime(|rt| {
        let probe = Probe::spawn(rt);
        let sup = Supervisor::start_link(
            rt,
            vec![worker("tmp", &probe).restart(Restart::Temporary)],
            SupervisorOptions::new(),
        )
        .unwrap();
        started(&probe, "tmp");
        sup.terminate_child("tmp").unwrap();
        assert_eq!(status(&sup, "tmp"), None);
    });
}

#[test]
fn r1_a_child_asking_its_supervisor_to_stop_it_does_not_deadlock() {
    each_runtime(|rt| {
        let probe = Probe::spawn(rt);
        let sup = Supervisor::start_link(
            rt,
            vec![worker("self_stopper", &probe)],
            SupervisorOptions::new(),
        )
        .unwrap();
        let pid = started(&probe, "self_stopper");
        let watcher = watch(rt, pid);
        let (tx, rx) = mpsc::channel();
        let s = sup.clone();
        tell(
            rt,
            pid,
            Cmd::Run(Box::new(move |_ctx| {
                // The supervisor tells this process to exit and answers
                // without waiting for it (it is waiting for the answer).
                let stopped = s.terminate_child("self_stopper");
                // Restarting itself before its exit took effect is refused.
                let restarted = s.restart_child("self_stopper");
                tx.send((stopped, restarted)).unwrap();
            })),
        );
        let (stopped, restarted) = rx.recv_timeout(TIMEOUT).unwrap();
        // Told to exit while it waits (R1), the child gets the answer or,
        // if its exit is noticed first, `CallerExiting`; either way nothing
        // deadlocks and the restart is refused.
        let exiting = rotp_supervisor::CallError::CallerExiting;
        assert!(
            matches!(&stopped, Ok(())) || stopped == Err(exiting.clone().into()),
            "{stopped:?}"
        );
        assert!(
            matches!(restarted, Err(rotp_supervisor::RestartChildError::Running))
                || restarted == Err(exiting.into()),
            "{restarted:?}"
        );
        assert_eq!(down_reason(&watcher), ExitReason::Shutdown);
        assert_eq!(status(&sup, "self_stopper"), Some(ChildStatus::Undefined));
        refute_start(&probe);
        // Once it is gone it can be restarted.
        let again = sup.restart_child("self_stopper").unwrap().unwrap();
        assert_eq!(started(&probe, "self_stopper"), again);
    });
}

#[test]
fn r1_a_child_stopping_its_own_supervisor_does_not_deadlock() {
    each_runtime(|rt| {
        let probe = Probe::spawn(rt);
        let sup = Supervisor::start_link(
            rt,
            vec![
                trapping_worker("a", &probe, OnShutdown::Exit),
                worker("stopper", &probe),
            ],
            SupervisorOptions::new(),
        )
        .unwrap();
        next_starts(&probe, 2);
        let stopper = pid_of(&sup, "stopper");
        let sup_watch = watch(rt, sup.pid());
        let stopper_watch = watch(rt, stopper);
        let (tx, rx) = mpsc::channel();
        let s = sup.clone();
        tell(
            rt,
            stopper,
            Cmd::Run(Box::new(move |_ctx| {
                tx.send(s.stop(ExitReason::custom("done"))).unwrap();
            })),
        );
        // The stopper is itself shut down by the supervisor it stops (R1):
        // its wait ends with the answer or with `CallerExiting`.
        let answer = rx.recv_timeout(TIMEOUT).unwrap();
        assert!(
            matches!(
                answer,
                Ok(()) | Err(rotp_supervisor::StopError::CallerExiting)
            ),
            "{answer:?}"
        );
        assert_eq!(next_stops(&probe, 1), ["a"]);
        assert_eq!(down_reason(&sup_watch), ExitReason::custom("done"));
        assert_eq!(down_reason(&stopper_watch), ExitReason::Shutdown);
    });
}
