//! `Supervisor::await_child`: waiting for a supervised child to be running
//! (again), without polling.

mod common;

use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::Duration;

use common::*;
use rotp_runtime::testing::{Gate, Probe};
use rotp_runtime::{ExitReason, Pid, Runtime};
use rotp_supervisor::{
    AwaitChildError, CallError, ChildStatus, Restart, Supervisor, SupervisorOptions,
};

/// How many messages the process `pid` has handled.
fn handled(rt: &Runtime, pid: Pid) -> u64 {
    rt.process_info(pid).map(|i| i.handled).unwrap_or(u64::MAX)
}

/// Starts `sup.await_child(id, timeout)` on a thread and returns once the
/// supervisor has taken the request (nothing else is sent to it meanwhile):
/// from then on the request waits inside the supervisor.
fn await_in_background(
    rt: &Runtime,
    sup: &Supervisor,
    id: &str,
    timeout: Duration,
) -> JoinHandle<Result<Pid, AwaitChildError>> {
    let before = handled(rt, sup.pid());
    let (s, id) = (sup.clone(), id.to_owned());
    let waiter = std::thread::spawn(move || s.await_child(id.as_str(), timeout));
    eventually("the supervisor took the request", || {
        handled(rt, sup.pid()) > before
    });
    waiter
}

fn start(rt: &Runtime, probe: &Probe<Event>) -> Supervisor {
    let children = vec![
        worker("a", probe),
        worker("t", probe).restart(Restart::Temporary),
    ];
    let sup = Supervisor::start_link(rt, children, SupervisorOptions::new()).unwrap();
    started(probe, "a");
    started(probe, "t");
    sup
}

#[test]
fn a_running_child_is_returned_at_once() {
    each_runtime(|rt| {
        let probe = Probe::spawn(rt);
        let sup = start(rt, &probe);
        assert_eq!(sup.await_child("a", TIMEOUT), Ok(pid_of(&sup, "a")));
    });
}

#[test]
fn after_a_crash_the_restarted_incarnation_is_returned_rule_122() {
    each_runtime(|rt| {
        let probe = Probe::spawn(rt);
        let sup = start(rt, &probe);
        for _ in 0..3 {
            let old = pid_of(&sup, "a");
            // Gone, but its EXIT may not be handled yet: not the answer.
            crash(rt, old);
            let new = sup.await_child("a", TIMEOUT).unwrap();
            assert_ne!(new, old);
            assert!(rt.is_alive(new));
            assert_eq!(started(&probe, "a"), new);
            assert_eq!(pid_of(&sup, "a"), new);
        }
    });
}

#[test]
fn a_child_killed_inside_a_long_handler_is_not_running_any_more_r1() {
    each_runtime(|rt| {
        let probe = Probe::spawn(rt);
        let sup = start(rt, &probe);
        let old = pid_of(&sup, "a");
        let gate = Gate::new();
        let _open = gate.opener();
        let (inside, entered) = mpsc::channel();
        let g = gate.clone();
        tell(
            rt,
            old,
            Cmd::Run(Box::new(move |_| {
                inside.send(()).unwrap();
                g.wait_blocking();
            })),
        );
        entered.recv_timeout(TIMEOUT).unwrap();
        // Marked exiting at once; its EXIT leaves when the handler returns
        // (R1): until then the supervisor still has it as running.
        rt.kill(old);
        let waiter = await_in_background(rt, &sup, "a", TIMEOUT);
        assert_eq!(status(&sup, "a"), Some(ChildStatus::Running(old)));
        assert!(!waiter.is_finished(), "answered with a dying child");
        gate.open();
        let new = waiter.join().unwrap().unwrap();
        assert_ne!(new, old);
        assert_eq!(started(&probe, "a"), new);
    });
}

#[test]
fn a_stopped_child_is_waited_for_until_it_is_started_again_rule_141() {
    each_runtime(|rt| {
        let probe = Probe::spawn(rt);
        let sup = start(rt, &probe);
        sup.terminate_child("a").unwrap();
        let waiter = await_in_background(rt, &sup, "a", TIMEOUT);
        assert!(!waiter.is_finished());
        let pid = sup.restart_child("a").unwrap().unwrap();
        assert_eq!(waiter.join().unwrap(), Ok(pid));
    });
}

#[test]
fn several_waiters_all_get_the_new_pid() {
    each_runtime(|rt| {
        let probe = Probe::spawn(rt);
        let sup = start(rt, &probe);
        sup.terminate_child("a").unwrap();
        let first = await_in_background(rt, &sup, "a", TIMEOUT);
        let second = await_in_background(rt, &sup, "a", TIMEOUT);
        let pid = sup.restart_child("a").unwrap().unwrap();
        assert_eq!(first.join().unwrap(), Ok(pid));
        assert_eq!(second.join().unwrap(), Ok(pid));
    });
}

#[test]
fn an_unknown_id_is_not_found() {
    each_runtime(|rt| {
        let probe = Probe::spawn(rt);
        let sup = start(rt, &probe);
        assert_eq!(
            sup.await_child("nobody", TIMEOUT),
            Err(AwaitChildError::NotFound)
        );
    });
}

#[test]
fn a_child_removed_while_waited_for_is_not_found_rules_122_142() {
    each_runtime(|rt| {
        let probe = Probe::spawn(rt);
        let sup = start(rt, &probe);
        // A deleted spec.
        sup.terminate_child("a").unwrap();
        let waiter = await_in_background(rt, &sup, "a", TIMEOUT);
        sup.delete_child("a").unwrap();
        assert_eq!(waiter.join().unwrap(), Err(AwaitChildError::NotFound));
        // A temporary child that exits is forgotten: not restarted.
        let t = pid_of(&sup, "t");
        tell(rt, t, Cmd::Exit(ExitReason::custom("crash")));
        eventually("t is forgotten", || status(&sup, "t").is_none());
        assert_eq!(
            sup.await_child("t", TIMEOUT),
            Err(AwaitChildError::NotFound)
        );
    });
}

#[test]
fn the_wait_times_out_on_the_runtime_clock() {
    each_virtual_runtime(|rt| {
        let probe = Probe::spawn(rt);
        let sup = start(rt, &probe);
        sup.terminate_child("a").unwrap();
        let begin = rt.now();
        let waiter = await_in_background(rt, &sup, "a", Duration::from_secs(1));
        // Time moves only when advanced; the thread arms its timeout right
        // after its request, so advance until it has expired.
        eventually("the wait timed out", || {
            rt.advance(Duration::from_millis(250));
            waiter.is_finished()
        });
        assert_eq!(waiter.join().unwrap(), Err(AwaitChildError::Timeout));
        assert!(rt.now() - begin >= Duration::from_secs(1));
        // The abandoned wait leaves the supervisor as it was.
        assert_eq!(status(&sup, "a"), Some(ChildStatus::Undefined));
        let pid = sup.restart_child("a").unwrap().unwrap();
        assert_eq!(sup.await_child("a", TIMEOUT), Ok(pid));
    });
}

#[test]
fn a_supervisor_that_is_gone_is_a_call_error() {
    each_runtime(|rt| {
        let probe = Probe::spawn(rt);
        let sup = start(rt, &probe);
        sup.terminate_child("a").unwrap();
        // Exits while the request waits.
        let waiter = await_in_background(rt, &sup, "a", TIMEOUT);
        sup.stop(ExitReason::Normal).unwrap();
        assert_eq!(
            waiter.join().unwrap(),
            Err(AwaitChildError::Call(CallError::Exited(ExitReason::Normal)))
        );
        // Gone before the request.
        assert_eq!(
            sup.await_child("a", TIMEOUT),
            Err(AwaitChildError::Call(CallError::NoProc))
        );
    });
}
