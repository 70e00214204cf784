//! Task: spec rules 184-194 (Elixir's `Task`).
//!
//! Waits are on events — gates the test opens, probes, the results
//! themselves — and timeouts run on the virtual clock where the runtime can
//! arm a timer for them; the few real-clock timeouts are short and guard
//! outcomes that do not depend on timing (the body is held by a gate).

use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rotp_gen_server::{
    OnStreamTimeout, OnYieldTimeout, StreamOptions, Task, TaskError, TaskShutdown, YieldManyOptions,
};
use rotp_runtime::testing::Gate;
use rotp_runtime::testing::{assert_eventually, Probe, Received};
use rotp_runtime::{
    assert_receive, Addr, Context, ExitReason, Handle, Pid, Process, Runtime, SpawnOptions,
};

// ---------------------------------------------------------------------------
// Kit
// ---------------------------------------------------------------------------

const TIMEOUT: Duration = Duration::from_secs(5);
const WORKER_COUNTS: [usize; 3] = [1, 2, 8];

fn runtime(workers: usize) -> Runtime {
    Runtime::builder().workers(workers).build().unwrap()
}

fn virtual_runtime(workers: usize) -> Runtime {
    Runtime::builder()
        .workers(workers)
        .virtual_clock()
        .build()
        .unwrap()
}

fn finish(rt: Runtime) {
    for pid in rt.processes() {
        rt.kill(pid);
    }
    assert_eventually(TIMEOUT, "every process exits", || rt.process_count() == 0);
    rt.shutdown(TIMEOUT).expect("clean shutdown");
}

type Job = Box<dyn FnOnce() + Send>;

/// A raw process that runs closures as itself — a task owner — and reports
/// the EXIT signals it traps.
struct Owner {
    exits: mpsc::Sender<(Pid, ExitReason)>,
}

impl Process for Owner {
    type Message = Job;

    fn handle(&mut self, job: Job, _ctx: &mut Context<'_, Job>) {
        job()
    }

    fn handle_exit(&mut self, from: Pid, reason: ExitReason, _ctx: &mut Context<'_, Job>) {
        let _ = self.exits.send((from, reason));
    }
}

fn owner(rt: &Handle, trap: bool) -> (Addr<Job>, mpsc::Receiver<(Pid, ExitReason)>) {
    let (exits, rx) = mpsc::channel();
    let (addr, _) = rt.spawn_opts(Owner { exits }, &SpawnOptions::new().trap_exit(trap));
    (addr, rx)
}

/// Runs `f` inside `owner`; its result arrives on the receiver.
fn run_in<R: Send + 'static>(
    owner: &Addr<Job>,
    f: impl FnOnce() -> R + Send + 'static,
) -> mpsc::Receiver<R> {
    let (tx, rx) = mpsc::channel();
    owner.send(Box::new(move || {
        let _ = tx.send(f());
    }));
    rx
}

/// Runs `f` inside `owner` and waits for its result.
#[track_caller]
fn in_owner<R: Send + 'static>(owner: &Addr<Job>, f: impl FnOnce() -> R + Send + 'static) -> R {
    run_in(owner, f)
        .recv_timeout(TIMEOUT)
        .expect("the owner answers")
}

/// Runs `f` on its own thread (a plain-thread owner); result on the receiver.
fn in_thread<R: Send + 'static>(f: impl FnOnce() -> R + Send + 'static) -> mpsc::Receiver<R> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(f());
    });
    rx
}

/// Waits until some wait has armed its timer on the virtual clock.
fn wait_for_timer(rt: &Handle) {
    assert_eventually(TIMEOUT, "a wait armed its timer", || rt.stats().timers > 0);
}

/// Whether `pid` has fully exited (its reason recorded, out of the table),
/// not merely been marked exiting.
fn gone(rt: &Handle, pid: Pid) -> bool {
    rt.process_ref(pid).is_none()
}

fn is_panic(e: &TaskError, text: &str) -> bool {
    matches!(e, TaskError::Exited(ExitReason::Panic(p)) if p.message.contains(text))
}

// ---------------------------------------------------------------------------
// Rule 184: async links and monitors; the result comes back
// ---------------------------------------------------------------------------

#[test]
fn rule184_result_is_awaited_from_a_thread_and_from_a_process() {
    for workers in WORKER_COUNTS {
        let rt = runtime(workers);
        let task = Task::run(&rt, || 6 * 7);
        assert_eq!(task.await_result(), Ok(42));

        let (host, _) = owner(&rt, false);
        let h = rt.handle().clone();
        let got = in_owner(&host, move || {
            let tasks: Vec<_> = (0..20u64).map(|n| Task::run(&h, move || n * n)).collect();
            tasks
                .into_iter()
                .map(|t| t.await_result().unwrap())
                .sum::<u64>()
        });
        assert_eq!(got, (0..20u64).map(|n| n * n).sum::<u64>());
        finish(rt);
    }
}

#[test]
fn rule184_task_runs_in_its_own_process_linked_to_the_caller() {
    for workers in WORKER_COUNTS {
        let rt = runtime(workers);
        let (host, _) = owner(&rt, false);
        let gate = Gate::default();
        let (h, g) = (rt.handle().clone(), gate.clone());
        let (body_tx, body_rx) = mpsc::channel();
        let (task_pid, links, owner_pid, task) = in_owner(&host, move || {
            let task = Task::run(&h, move || {
                body_tx.send(rotp_runtime::self_pid()).unwrap();
                assert!(g.wait(), "the test never opened the gate");
                "done"
            });
            let pid = task.pid().unwrap();
            // The link exists from the spawn on (rule 22).
            let links = h.process_info(pid).unwrap().links;
            (pid, links, task.owner(), task)
        });
        assert_eq!(body_rx.recv_timeout(TIMEOUT).unwrap(), Some(task_pid));
        assert_eq!(links, vec![host.pid()]);
        assert_eq!(owner_pid, Some(host.pid()));
        gate.open();
        // The owner process created it: the owner awaits it.
        assert_eq!(in_owner(&host, move || task.await_result()), Ok("done"));
        finish(rt);
    }
}

#[test]
fn rule184_task_from_a_plain_thread_is_linked_to_nobody() {
    let rt = runtime(2);
    let gate = Gate::default();
    let g = gate.clone();
    let task = Task::run(&rt, move || {
        assert!(g.wait(), "the test never opened the gate");
    });
    let pid = task.pid().unwrap();
    assert!(rt.process_info(pid).unwrap().links.is_empty());
    assert_eq!(task.owner(), None);
    gate.open();
    assert_eq!(task.await_result(), Ok(()));
    finish(rt);
}

// ---------------------------------------------------------------------------
// Rule 185: link consequences and exit reasons
// ---------------------------------------------------------------------------

#[test]
fn rule185_panic_reaches_the_awaiting_thread_as_a_value() {
    let rt = runtime(2);
    let task = Task::run(&rt, || -> u32 { panic!("task boom") });
    let err = task.await_result().unwrap_err();
    assert!(is_panic(&err, "task boom"), "{err:?}");
    finish(rt);
}

/// Rule 185 with rule 2: `rotp_runtime::exit(reason)` in a task body ends
/// the task with `reason`, not a panic: the awaiter gets it, from a plain
/// thread and from a trapping owner process, which also receives the
/// task's EXIT with it.
#[test]
fn rule185_exit_in_the_body_reaches_the_awaiter_with_its_reason() {
    for workers in WORKER_COUNTS {
        let rt = runtime(workers);
        let reason = ExitReason::custom("task gave up");
        let r = reason.clone();
        let task = Task::run(&rt, move || -> u32 { rotp_runtime::exit(r) });
        assert_eq!(task.await_result(), Err(TaskError::Exited(reason.clone())));

        let (host, exits) = owner(&rt, true);
        let h = rt.handle().clone();
        let r = reason.clone();
        let (pid, result) = in_owner(&host, move || {
            let task = Task::run(&h, move || -> u32 { rotp_runtime::exit(r) });
            (task.pid().unwrap(), task.await_result())
        });
        assert_eq!(result, Err(TaskError::Exited(reason.clone())));
        assert_eq!(exits.recv_timeout(TIMEOUT).unwrap(), (pid, reason));
        assert!(host.is_alive());
        finish(rt);
    }
}

#[test]
fn rule185_panic_kills_a_non_trapping_owner_which_still_gets_the_error() {
    for workers in WORKER_COUNTS {
        let rt = runtime(workers);
        let probe: Probe<()> = Probe::spawn(&rt);
        let (host, _) = owner(&rt, false);
        probe.monitor(host.pid());
        let h = rt.handle().clone();
        let err = in_owner(&host, move || {
            Task::run(&h, || -> () { panic!("linked boom") })
                .await_result()
                .unwrap_err()
        });
        assert!(is_panic(&err, "linked boom"), "{err:?}");
        let down = assert_receive!(probe, Received::Down(_));
        let Received::Down(down) = down else {
            unreachable!()
        };
        assert_eq!(down.pid, host.pid());
        assert!(matches!(&down.reason, ExitReason::Panic(p) if p.message.contains("linked boom")));
        finish(rt);
    }
}

#[test]
fn rule185_trapping_owner_survives_and_receives_the_exit() {
    for workers in WORKER_COUNTS {
        let rt = runtime(workers);
        let (host, exits) = owner(&rt, true);
        let h = rt.handle().clone();
        let (pid, err) = in_owner(&host, move || {
            let task = Task::run(&h, || -> () { panic!("trapped boom") });
            (task.pid().unwrap(), task.await_result().unwrap_err())
        });
        assert!(is_panic(&err, "trapped boom"));
        let (from, reason) = exits.recv_timeout(TIMEOUT).unwrap();
        assert_eq!(from, pid);
        assert!(matches!(reason, ExitReason::Panic(_)));
        assert!(host.is_alive());

        // A task that succeeds exits normal: a trapping owner hears that too.
        let h = rt.handle().clone();
        let pid = in_owner(&host, move || {
            let task = Task::run(&h, || 1);
            let pid = task.pid().unwrap();
            assert_eq!(task.await_result(), Ok(1));
            pid
        });
        assert_eq!(
            exits.recv_timeout(TIMEOUT).unwrap(),
            (pid, ExitReason::Normal)
        );
        finish(rt);
    }
}

#[test]
fn rule185_a_dying_owner_kills_its_task_whose_result_is_dropped() {
    for workers in WORKER_COUNTS {
        let rt = runtime(workers);
        let probe: Probe<()> = Probe::spawn(&rt);
        let (host, _) = owner(&rt, false);
        let gate = Gate::default();
        let (h, g) = (rt.handle().clone(), gate.clone());
        let (seen_tx, seen) = mpsc::channel();
        let (started_tx, started) = mpsc::channel();
        let (pid, task) = in_owner(&host, move || {
            let task = Task::run(&h, move || {
                started_tx.send(Task::is_exiting()).unwrap();
                assert!(g.wait(), "the test never opened the gate");
                seen_tx.send(Task::is_exiting()).unwrap();
                "never delivered"
            });
            (task.pid().unwrap(), task)
        });
        assert!(!started.recv_timeout(TIMEOUT).unwrap());
        let mref = probe.monitor(pid);
        rt.kill(host.pid());
        assert_eventually(TIMEOUT, "the task is told to exit", || !rt.is_alive(pid));
        // R1: the body runs on until it returns; it can tell it is exiting.
        gate.open();
        assert!(seen.recv_timeout(TIMEOUT).unwrap());
        assert_receive!(probe, Received::Down(d) if d.mref == mref && d.reason == ExitReason::Killed);
        drop(task);
        finish(rt);
    }
}

#[test]
fn rule185_an_owner_killed_while_awaiting_stops_waiting() {
    for workers in WORKER_COUNTS {
        let rt = runtime(workers);
        let (host, _) = owner(&rt, false);
        let gate = Gate::default();
        let (h, g) = (rt.handle().clone(), gate.clone());
        let (pid_tx, pid_rx) = mpsc::channel();
        let awaited = run_in(&host, move || {
            let task = Task::run(&h, move || {
                assert!(g.wait(), "the test never opened the gate");
            });
            pid_tx.send(task.pid().unwrap()).unwrap();
            task.await_timeout(None)
        });
        let task_pid = pid_rx.recv_timeout(TIMEOUT).unwrap();
        rt.kill(host.pid());
        // R1: the owner's wait ends so that its kill can take effect.
        assert_eq!(
            awaited.recv_timeout(TIMEOUT).unwrap(),
            Err(TaskError::OwnerExiting)
        );
        // Its death reaches the task through the link.
        assert_eventually(TIMEOUT, "the task is told to exit", || {
            !rt.is_alive(task_pid)
        });
        gate.open();
        finish(rt);
    }
}

// ---------------------------------------------------------------------------
// Rule 186: owner only
// ---------------------------------------------------------------------------

#[test]
fn rule186_only_the_owner_may_await_yield_shutdown_or_ignore() {
    let rt = runtime(2);
    let gate = Gate::default();
    let g = gate.clone();
    let make = |rt: &Runtime| {
        let g = g.clone();
        Task::run(rt, move || {
            assert!(g.wait(), "the test never opened the gate");
            5
        })
    };
    // Another thread.
    let t = make(&rt);
    assert_eq!(
        in_thread(move || t.await_result()).recv().unwrap(),
        Err(TaskError::NotOwner)
    );
    let mut t = make(&rt);
    let (back, t) = in_thread(move || (t.yield_timeout(Duration::ZERO), t))
        .recv()
        .unwrap();
    assert_eq!(back, Err(TaskError::NotOwner));
    let t2 = make(&rt);
    assert_eq!(
        in_thread(move || t2.shutdown(TaskShutdown::BrutalKill))
            .recv()
            .unwrap(),
        Err(TaskError::NotOwner)
    );
    // Another process.
    let (host, _) = owner(&rt, false);
    let t3 = make(&rt);
    assert_eq!(
        in_owner(&host, move || t3.ignore()),
        Err(TaskError::NotOwner)
    );
    let mut many = vec![make(&rt)];
    let many = in_owner(&host, move || {
        let r = Task::yield_many(&mut many, Duration::ZERO);
        (r, many)
    });
    assert_eq!(many.0, vec![Err(TaskError::NotOwner)]);
    // The owner still can.
    gate.open();
    assert_eq!(t.await_result(), Ok(5));
    finish(rt);
}

// ---------------------------------------------------------------------------
// Rule 187: await
// ---------------------------------------------------------------------------

#[test]
fn rule187_await_times_out_after_five_seconds_and_the_task_runs_on() {
    for workers in WORKER_COUNTS {
        let rt = virtual_runtime(workers);
        let gate = Gate::default();
        let (h, g) = (rt.handle().clone(), gate.clone());
        let (pid_tx, pid_rx) = mpsc::channel();
        let waiter = in_thread(move || {
            let task = Task::run(&h, move || {
                assert!(g.wait(), "the test never opened the gate");
            });
            pid_tx.send(task.pid().unwrap()).unwrap();
            task.await_result()
        });
        let pid = pid_rx.recv().unwrap();
        wait_for_timer(&rt);
        rt.advance(Duration::from_millis(4_999));
        assert!(waiter.recv_timeout(Duration::from_millis(20)).is_err());
        rt.advance(Duration::from_millis(1));
        assert_eq!(
            waiter.recv_timeout(TIMEOUT).unwrap(),
            Err(TaskError::Timeout)
        );
        assert!(
            rt.is_alive(pid),
            "a timed-out await leaves the task running"
        );
        gate.open();
        assert_eventually(TIMEOUT, "the task finishes", || !rt.is_alive(pid));
        finish(rt);
    }
}

#[test]
fn rule187_await_inside_a_process_times_out_while_the_body_runs() {
    // The owner must not end up running the body itself (nested in its own
    // wait): its timeout would then wait for the body.
    for workers in WORKER_COUNTS {
        let rt = virtual_runtime(workers);
        let (host, _) = owner(&rt, false);
        let gate = Gate::default();
        let (h, g) = (rt.handle().clone(), gate.clone());
        let awaited = run_in(&host, move || {
            let task = Task::run(&h, move || {
                assert!(g.wait(), "the test never opened the gate");
            });
            let pid = task.pid().unwrap();
            (pid, task.await_result())
        });
        wait_for_timer(&rt);
        rt.advance(Duration::from_secs(5));
        let (pid, result) = awaited.recv_timeout(TIMEOUT).unwrap();
        assert_eq!(result, Err(TaskError::Timeout));
        assert!(rt.is_alive(pid), "the task runs on");
        gate.open();
        finish(rt);
    }
}

#[test]
fn rule187_await_of_a_killed_task_returns_its_reason() {
    let rt = runtime(2);
    let gate = Gate::default();
    let g = gate.clone();
    let task = Task::run(&rt, move || {
        assert!(g.wait(), "the test never opened the gate");
    });
    rt.kill(task.pid().unwrap());
    gate.open();
    assert_eq!(
        task.await_result(),
        Err(TaskError::Exited(ExitReason::Killed))
    );
    finish(rt);
}

#[test]
fn rule187_await_infinity_waits_for_a_slow_task() {
    let rt = virtual_runtime(1);
    let gate = Gate::default();
    let g = gate.clone();
    let task = Task::run(&rt, move || {
        assert!(g.wait(), "the test never opened the gate");
        "slow"
    });
    rt.advance(Duration::from_secs(3600));
    gate.open();
    assert_eq!(task.await_timeout(None), Ok("slow"));
    finish(rt);
}

// ---------------------------------------------------------------------------
// Rule 188: yield
// ---------------------------------------------------------------------------

#[test]
fn rule188_yield_returns_none_while_running_then_the_result() {
    for workers in WORKER_COUNTS {
        let rt = virtual_runtime(workers);
        let gate = Gate::default();
        let (h, g) = (rt.handle().clone(), gate.clone());
        let (step_tx, step_rx) = mpsc::channel();
        let (go_tx, go_rx) = mpsc::channel::<()>();
        let waiter = in_thread(move || {
            let mut task = Task::run(&h, move || {
                assert!(g.wait(), "the test never opened the gate");
                9
            });
            step_tx.send(task.yield_result()).unwrap();
            go_rx.recv().unwrap();
            let second = task.yield_result();
            (second, task.yield_timeout(Duration::ZERO))
        });
        wait_for_timer(&rt);
        rt.advance(Duration::from_secs(5));
        assert_eq!(step_rx.recv_timeout(TIMEOUT).unwrap(), Ok(None));
        gate.open();
        go_tx.send(()).unwrap();
        let (second, third) = waiter.recv_timeout(TIMEOUT).unwrap();
        assert_eq!(second, Ok(Some(9)));
        // The result was handed out: nothing more to take.
        assert_eq!(third, Err(TaskError::Exited(ExitReason::NoProc)));
        finish(rt);
    }
}

#[test]
fn rule188_yield_reports_an_exit() {
    let rt = runtime(2);
    let mut task = Task::run(&rt, || -> u8 { panic!("yield boom") });
    let err = task.yield_result().unwrap_err();
    assert!(is_panic(&err, "yield boom"));
    finish(rt);
}

// ---------------------------------------------------------------------------
// Rule 189: await_many / yield_many
// ---------------------------------------------------------------------------

#[test]
fn rule189_await_many_returns_results_in_input_order() {
    for workers in WORKER_COUNTS {
        let rt = runtime(workers);
        let gates: Vec<Gate> = (0..4).map(|_| Gate::default()).collect();
        let tasks: Vec<Task<usize>> = gates
            .iter()
            .enumerate()
            .map(|(i, g)| {
                let g = g.clone();
                Task::run(&rt, move || {
                    assert!(g.wait(), "the test never opened the gate");
                    i
                })
            })
            .collect();
        // Finish in reverse order.
        for g in gates.iter().rev() {
            g.open();
        }
        assert_eq!(Task::await_many(tasks, Some(TIMEOUT)), Ok(vec![0, 1, 2, 3]));
        finish(rt);
    }
}

#[test]
fn rule189_await_many_fails_as_soon_as_one_task_dies() {
    for workers in WORKER_COUNTS {
        let rt = runtime(workers);
        let gate = Gate::default();
        let (h, g) = (rt.handle().clone(), gate.clone());
        // No timeout: only the death can end this wait.
        let waiter = in_thread(move || {
            let tasks: Vec<Task<u8>> = vec![
                Task::run(&h, move || {
                    assert!(g.wait(), "the test never opened the gate");
                    1
                }),
                Task::run(&h, || panic!("many boom")),
            ];
            Task::await_many(tasks, None)
        });
        let err = waiter.recv_timeout(TIMEOUT).unwrap().unwrap_err();
        assert!(is_panic(&err, "many boom"));
        gate.open();
        finish(rt);
    }
}

#[test]
fn rule189_await_many_times_out() {
    let rt = virtual_runtime(2);
    let gate = Gate::default();
    let (h, g) = (rt.handle().clone(), gate.clone());
    let waiter = in_thread(move || {
        let tasks = vec![
            Task::run(&h, || 1),
            Task::run(&h, move || {
                assert!(g.wait(), "the test never opened the gate");
                2
            }),
        ];
        Task::await_many(tasks, Some(Duration::from_secs(5)))
    });
    wait_for_timer(&rt);
    rt.advance(Duration::from_secs(5));
    assert_eq!(
        waiter.recv_timeout(TIMEOUT).unwrap(),
        Err(TaskError::Timeout)
    );
    gate.open();
    finish(rt);
}

#[test]
fn rule189_yield_many_reports_each_task_and_keeps_the_running_ones() {
    for workers in WORKER_COUNTS {
        let rt = virtual_runtime(workers);
        let gate = Gate::default();
        let (h, g) = (rt.handle().clone(), gate.clone());
        let (first_tx, first_rx) = mpsc::channel();
        let (go_tx, go_rx) = mpsc::channel::<()>();
        let (pids_tx, pids_rx) = mpsc::channel();
        let waiter = in_thread(move || {
            let mut tasks: Vec<Task<u32>> = vec![
                Task::run(&h, || 1),
                Task::run(&h, || panic!("yield_many boom")),
                Task::run(&h, move || {
                    assert!(g.wait(), "the test never opened the gate");
                    3
                }),
                Task::completed(4),
            ];
            pids_tx
                .send([tasks[0].pid().unwrap(), tasks[1].pid().unwrap()])
                .unwrap();
            first_tx
                .send(Task::yield_many(&mut tasks, Duration::from_secs(1)))
                .unwrap();
            go_rx.recv().unwrap();
            Task::yield_many(&mut tasks, Duration::from_secs(5))
        });
        // The quick tasks are done before the clock moves.
        for pid in pids_rx.recv_timeout(TIMEOUT).unwrap() {
            assert_eventually(TIMEOUT, "a quick task ends", || gone(&rt, pid));
        }
        wait_for_timer(&rt);
        rt.advance(Duration::from_secs(1));
        let first = first_rx.recv_timeout(TIMEOUT).unwrap();
        assert_eq!(first[0], Ok(Some(1)));
        assert!(is_panic(first[1].as_ref().unwrap_err(), "yield_many boom"));
        assert_eq!(first[2], Ok(None));
        assert_eq!(first[3], Ok(Some(4)));
        gate.open();
        go_tx.send(()).unwrap();
        let second = waiter.recv_timeout(TIMEOUT).unwrap();
        let taken = Err(TaskError::Exited(ExitReason::NoProc));
        assert_eq!(
            second,
            vec![taken.clone(), taken.clone(), Ok(Some(3)), taken]
        );
        finish(rt);
    }
}

#[test]
fn rule189_yield_many_returns_at_the_limit_without_waiting() {
    // Virtual clock, never advanced: only the limit can end the wait.
    let rt = virtual_runtime(2);
    let gate = Gate::default();
    let g = gate.clone();
    let mut tasks = vec![
        Task::run(&rt, move || {
            assert!(g.wait(), "the test never opened the gate");
            1
        }),
        Task::run(&rt, || 2),
    ];
    let opts = YieldManyOptions::new()
        .timeout(Duration::from_secs(60))
        .limit(1)
        .on_timeout(OnYieldTimeout::KillTask);
    let results = Task::yield_many_with(&mut tasks, opts);
    assert_eq!(results, vec![Ok(None), Ok(Some(2))]);
    // The limit does not trigger on_timeout: the first task still runs.
    assert!(rt.is_alive(tasks[0].pid().unwrap()));
    gate.open();
    assert_eq!(tasks.remove(0).await_result(), Ok(1));
    finish(rt);
}

#[test]
fn rule189_yield_many_on_timeout_kill_task_and_ignore() {
    let rt = virtual_runtime(2);
    let gate = Gate::default();
    let (h, g) = (rt.handle().clone(), gate.clone());
    let waiter = in_thread(move || {
        let slow = |g: Gate| {
            move || {
                assert!(g.wait(), "the test never opened the gate");
                0
            }
        };
        let mut tasks = vec![
            Task::run(&h, slow(g.clone())),
            Task::run(&h, slow(g.clone())),
        ];
        let pids: Vec<Pid> = tasks.iter().map(|t| t.pid().unwrap()).collect();
        let killed = Task::yield_many_with(
            &mut tasks[..1],
            YieldManyOptions::new()
                .timeout(Duration::from_secs(1))
                .on_timeout(OnYieldTimeout::KillTask),
        );
        let ignored = Task::yield_many_with(
            &mut tasks[1..],
            YieldManyOptions::new()
                .timeout(Duration::from_secs(1))
                .on_timeout(OnYieldTimeout::Ignore),
        );
        // Both were handed over: nothing more to take.
        let again = Task::yield_many(&mut tasks, Duration::ZERO);
        (killed, ignored, again, pids)
    });
    wait_for_timer(&rt);
    rt.advance(Duration::from_secs(1));
    wait_for_timer(&rt);
    rt.advance(Duration::from_secs(1));
    let (killed, ignored, again, pids) = waiter.recv_timeout(TIMEOUT).unwrap();
    assert_eq!(killed, vec![Ok(None)]);
    assert_eq!(ignored, vec![Ok(None)]);
    assert_eq!(again, vec![Err(TaskError::Exited(ExitReason::NoProc)); 2]);
    assert!(!rt.is_alive(pids[0]), "kill_task killed it");
    assert!(rt.is_alive(pids[1]), "ignore let it run");
    gate.open();
    finish(rt);
}

// ---------------------------------------------------------------------------
// Rule 190: shutdown
// ---------------------------------------------------------------------------

#[test]
fn rule190_brutal_kill_of_a_running_task_returns_none_and_spares_the_owner() {
    for workers in WORKER_COUNTS {
        let rt = runtime(workers);
        let probe: Probe<()> = Probe::spawn(&rt);
        let (host, _) = owner(&rt, false);
        let gate = Gate::default();
        let (h, g) = (rt.handle().clone(), gate.clone());
        let (started_tx, started) = mpsc::channel();
        let task = in_owner(&host, move || {
            Task::run(&h, move || {
                started_tx.send(()).unwrap();
                assert!(g.wait(), "the test never opened the gate");
                1
            })
        });
        let pid = task.pid().unwrap();
        started.recv_timeout(TIMEOUT).unwrap();
        let mref = probe.monitor(pid);
        let result = in_owner(&host, move || task.shutdown(TaskShutdown::BrutalKill));
        assert_eq!(result, Ok(None));
        assert!(!rt.is_alive(pid), "marked exiting at once");
        gate.open();
        assert_receive!(probe, Received::Down(d) if d.mref == mref && d.reason == ExitReason::Killed);
        // Detached before the kill: the owner did not die with it.
        assert!(host.is_alive());
        finish(rt);
    }
}

#[test]
fn rule190_shutdown_returns_a_result_that_arrived() {
    let rt = runtime(2);
    let task = Task::run(&rt, || "ready");
    let pid = task.pid().unwrap();
    assert_eventually(TIMEOUT, "the task finishes", || gone(&rt, pid));
    assert_eq!(task.shutdown(TaskShutdown::default()), Ok(Some("ready")));
    let task = Task::run(&rt, || "ready");
    let pid = task.pid().unwrap();
    assert_eventually(TIMEOUT, "the task finishes", || gone(&rt, pid));
    assert_eq!(task.shutdown(TaskShutdown::BrutalKill), Ok(Some("ready")));
    finish(rt);
}

#[test]
fn rule190_shutdown_that_the_task_obeys_returns_none() {
    for workers in WORKER_COUNTS {
        let rt = runtime(workers);
        let gate = Gate::default();
        let g = gate.clone();
        let task = Task::run(&rt, move || {
            assert!(g.wait(), "the test never opened the gate");
            1
        });
        let pid = task.pid().unwrap();
        let (h, opener) = (rt.handle().clone(), gate.clone());
        let watcher = in_thread(move || {
            // The signal marks the task exiting at once; then the body may
            // return, and the task exits `shutdown`.
            assert_eventually(TIMEOUT, "the shutdown signal arrives", || !h.is_alive(pid));
            opener.open();
        });
        assert_eq!(task.shutdown(TaskShutdown::Timeout(TIMEOUT)), Ok(None));
        watcher.recv().unwrap();
        finish(rt);
    }
}

#[test]
fn rule190_shutdown_timeout_expiry_kills_the_task() {
    let rt = runtime(2);
    let gate = Gate::default();
    let g = gate.clone();
    let (started_tx, started) = mpsc::channel();
    let task = Task::run(&rt, move || {
        started_tx.send(()).unwrap();
        assert!(g.wait(), "the test never opened the gate");
        1
    });
    let pid = task.pid().unwrap();
    started.recv_timeout(TIMEOUT).unwrap();
    // The body holds on past the timeout, like a task trapping the
    // shutdown: it is killed and the result is dropped.
    assert_eq!(
        task.shutdown(TaskShutdown::Timeout(Duration::from_millis(30))),
        Err(TaskError::Exited(ExitReason::Killed))
    );
    assert!(!rt.is_alive(pid));
    gate.open();
    finish(rt);
}

#[test]
fn rule190_shutdown_of_a_crashed_or_handled_task() {
    let rt = runtime(2);
    let task = Task::run(&rt, || -> u8 { panic!("shutdown boom") });
    let pid = task.pid().unwrap();
    assert_eventually(TIMEOUT, "the task crashes", || gone(&rt, pid));
    let err = task.shutdown(TaskShutdown::BrutalKill).unwrap_err();
    assert!(is_panic(&err, "shutdown boom"));

    let mut task = Task::run(&rt, || 1u8);
    assert_eq!(task.yield_result(), Ok(Some(1)));
    assert_eq!(
        task.shutdown(TaskShutdown::default()),
        Err(TaskError::Exited(ExitReason::NoProc))
    );
    finish(rt);
}

// ---------------------------------------------------------------------------
// Rule 191: ignore
// ---------------------------------------------------------------------------

#[test]
fn rule191_ignore_lets_the_task_run_detached_from_the_owner() {
    for workers in WORKER_COUNTS {
        let rt = runtime(workers);
        let (host, _) = owner(&rt, false);
        let gate = Gate::default();
        let (h, g) = (rt.handle().clone(), gate.clone());
        let (pid, result) = in_owner(&host, move || {
            let task = Task::run(&h, move || -> u8 {
                assert!(g.wait(), "the test never opened the gate");
                panic!("ignored boom")
            });
            (task.pid().unwrap(), task.ignore())
        });
        assert_eq!(result, Ok(None));
        assert!(rt.is_alive(pid), "the task keeps running");
        gate.open();
        assert_eventually(TIMEOUT, "the task crashes", || !rt.is_alive(pid));
        // Its crash no longer reaches the (non-trapping) owner.
        assert_eq!(in_owner(&host, || "still here"), "still here");
        finish(rt);
    }
}

/// Rule 191: `ignore` unlinks at once. The owner's `process_info` shows no
/// link to the task as soon as `ignore` returns, and an owner that then
/// exits abnormally does not take the task with it: the task's body runs
/// to the end and reports.
#[test]
fn rule191_ignore_unlinks_at_once_and_the_task_outlives_an_abnormal_owner() {
    for workers in WORKER_COUNTS {
        let rt = runtime(workers);
        let (host, _) = owner(&rt, false);
        let owner_pid = host.pid();
        let probe: Probe<&'static str> = Probe::spawn(&rt);
        let gate = Gate::default();
        let (h, g, report) = (rt.handle().clone(), gate.clone(), probe.addr().clone());
        let (pid, result) = in_owner(&host, move || {
            let task = Task::run(&h, move || {
                assert!(g.wait(), "the test never opened the gate");
                report.send("task finished");
            });
            (task.pid().unwrap(), task.ignore())
        });
        assert_eq!(result, Ok(None));
        let owner_info = rt.process_info(owner_pid).expect("the owner is alive");
        assert!(
            !owner_info.links.contains(&pid),
            "{workers} worker(s): the owner still links the ignored task: {:?}",
            owner_info.links
        );
        let task_info = rt.process_info(pid).expect("the task runs");
        assert!(
            !task_info.links.contains(&owner_pid),
            "{workers} worker(s): the ignored task still links its owner: {:?}",
            task_info.links
        );
        rt.send_exit(owner_pid, ExitReason::custom("owner_crashed"));
        assert_eventually(TIMEOUT, "the owner exits", || gone(&rt, owner_pid));
        assert!(
            rt.is_alive(pid),
            "the owner's exit reached the ignored task"
        );
        gate.open();
        assert_eq!(probe.assert_message(TIMEOUT), "task finished");
        assert_eventually(TIMEOUT, "the task exits", || gone(&rt, pid));
        finish(rt);
    }
}

#[test]
fn rule191_ignore_returns_what_is_already_there() {
    let rt = runtime(2);
    let task = Task::run(&rt, || 3);
    let pid = task.pid().unwrap();
    assert_eventually(TIMEOUT, "done", || gone(&rt, pid));
    assert_eq!(task.ignore(), Ok(Some(3)));
    let task = Task::run(&rt, || -> u8 { panic!("ignore boom") });
    let pid = task.pid().unwrap();
    assert_eventually(TIMEOUT, "done", || gone(&rt, pid));
    assert!(is_panic(&task.ignore().unwrap_err(), "ignore boom"));
    finish(rt);
}

// ---------------------------------------------------------------------------
// Rule 192: completed
// ---------------------------------------------------------------------------

#[test]
fn rule192_completed_task_has_no_process_and_a_ready_result() {
    let t = Task::completed("x");
    assert_eq!(t.pid(), None);
    assert_eq!(t.await_result(), Ok("x"));
    let mut t = Task::completed(1);
    assert_eq!(t.yield_timeout(Duration::ZERO), Ok(Some(1)));
    assert_eq!(Task::completed(2).ignore(), Ok(Some(2)));
    assert_eq!(
        Task::completed(3).shutdown(TaskShutdown::BrutalKill),
        Ok(Some(3))
    );
    assert_eq!(
        Task::await_many(vec![Task::completed(4)], Some(Duration::ZERO)),
        Ok(vec![4])
    );
}

// ---------------------------------------------------------------------------
// Rule 193: start / start_link
// ---------------------------------------------------------------------------

#[test]
fn rule193_start_is_fire_and_forget() {
    for workers in WORKER_COUNTS {
        let rt = runtime(workers);
        let (tx, rx) = mpsc::channel();
        let pid = Task::start(&rt, move || tx.send(rotp_runtime::self_pid()).unwrap());
        assert_eq!(rx.recv_timeout(TIMEOUT).unwrap(), Some(pid));
        // Unlinked: a crash harms nobody.
        let (host, _) = owner(&rt, false);
        let h = rt.handle().clone();
        let pid = in_owner(&host, move || Task::start(&h, || panic!("unlinked boom")));
        assert_eventually(TIMEOUT, "the task crashes", || !rt.is_alive(pid));
        assert_eq!(in_owner(&host, || 1), 1);
        finish(rt);
    }
}

#[test]
fn rule193_start_link_crash_kills_a_non_trapping_caller() {
    for workers in WORKER_COUNTS {
        let rt = runtime(workers);
        let probe: Probe<()> = Probe::spawn(&rt);
        let (host, _) = owner(&rt, false);
        let mref = probe.monitor(host.pid());
        let h = rt.handle().clone();
        let gate = Gate::default();
        let g = gate.clone();
        let pid = in_owner(&host, move || {
            Task::start_link(&h, move || {
                assert!(g.wait(), "the test never opened the gate");
                panic!("start_link boom")
            })
        });
        assert_eq!(rt.process_info(pid).unwrap().links, vec![host.pid()]);
        gate.open();
        assert_receive!(probe, Received::Down(d) if d.mref == mref && matches!(d.reason, ExitReason::Panic(_)));
        finish(rt);
    }
}

// ---------------------------------------------------------------------------
// Rule 194: async_stream
// ---------------------------------------------------------------------------

/// Bodies that record how many run at once.
#[derive(Clone, Default)]
struct Concurrency {
    now: Arc<AtomicUsize>,
    max: Arc<AtomicUsize>,
}

impl Concurrency {
    fn enter(&self) {
        let n = self.now.fetch_add(1, SeqCst) + 1;
        self.max.fetch_max(n, SeqCst);
    }

    fn leave(&self) {
        self.now.fetch_sub(1, SeqCst);
    }
}

#[test]
fn rule194_at_most_max_concurrency_tasks_run_at_once() {
    for workers in WORKER_COUNTS {
        let rt = runtime(workers);
        let c = Concurrency::default();
        let gates: Vec<Gate> = (0..6).map(|_| Gate::default()).collect();
        let (h, c2, g2) = (rt.handle().clone(), c.clone(), gates.clone());
        let consumer = in_thread(move || {
            let items: Vec<usize> = (0..6).collect();
            Task::map_concurrent(&h, items, 2, true, Some(TIMEOUT), move |i| {
                c2.enter();
                g2[i].wait();
                c2.leave();
                i * 10
            })
        });
        // Open the gates one by one, each time once two bodies are in.
        for (i, g) in gates.iter().enumerate() {
            let expect = (6 - i).min(2);
            assert_eventually(TIMEOUT, "the pool is full", || c.now.load(SeqCst) == expect);
            g.open();
        }
        let results = consumer.recv_timeout(TIMEOUT).unwrap();
        assert_eq!(results, (0..6).map(|i| Ok(i * 10)).collect::<Vec<_>>());
        assert_eq!(c.max.load(SeqCst), 2);
        finish(rt);
    }
}

#[test]
fn rule194_ordered_output_follows_input_order_whatever_the_completion_order() {
    for workers in WORKER_COUNTS {
        let rt = runtime(workers);
        let gates: Vec<Gate> = (0..4).map(|_| Gate::default()).collect();
        let (done_tx, done_rx) = mpsc::channel();
        let done_tx = Mutex::new(done_tx);
        let g2 = gates.clone();
        let h = rt.handle().clone();
        let consumer = in_thread(move || {
            Task::map_concurrent(&h, 0..4usize, 4, true, None, move |i| {
                g2[i].wait();
                done_tx.lock().unwrap().send(i).unwrap();
                i
            })
        });
        // Complete 3, 2, 1, then 0.
        for i in (0..4).rev() {
            gates[i].open();
            assert_eq!(done_rx.recv_timeout(TIMEOUT).unwrap(), i);
        }
        assert_eq!(
            consumer.recv_timeout(TIMEOUT).unwrap(),
            vec![Ok(0), Ok(1), Ok(2), Ok(3)]
        );
        finish(rt);
    }
}

#[test]
fn rule194_unordered_output_follows_completion_order() {
    for workers in WORKER_COUNTS {
        let rt = runtime(workers);
        let gates: Vec<Gate> = (0..4).map(|_| Gate::default()).collect();
        let g2 = gates.clone();
        let h = rt.handle().clone();
        let (out_tx, out_rx) = mpsc::channel();
        let (next_tx, next_rx) = mpsc::channel::<()>();
        let consumer = in_thread(move || {
            let opts = StreamOptions::new().max_concurrency(4).ordered(false);
            let mut stream = Task::stream(&h, 0..4usize, opts, move |i| {
                g2[i].wait();
                i
            });
            while next_rx.recv().is_ok() {
                out_tx.send(stream.next()).unwrap();
            }
        });
        for i in [2, 0, 3, 1] {
            gates[i].open();
            next_tx.send(()).unwrap();
            assert_eq!(out_rx.recv_timeout(TIMEOUT).unwrap(), Some(Ok(i)));
        }
        next_tx.send(()).unwrap();
        assert_eq!(out_rx.recv_timeout(TIMEOUT).unwrap(), None);
        drop(next_tx);
        consumer.recv_timeout(TIMEOUT).unwrap();
        finish(rt);
    }
}

#[test]
fn rule194_a_panicking_element_yields_its_exit() {
    let rt = runtime(2);
    let results = Task::map_concurrent(&rt, 0..3u32, 2, true, None, |i| {
        assert_ne!(i, 1, "element one fails");
        i
    });
    assert_eq!(results[0], Ok(0));
    assert!(is_panic(
        results[1].as_ref().unwrap_err(),
        "element one fails"
    ));
    assert_eq!(results[2], Ok(2));
    finish(rt);
}

#[test]
fn rule194_timeout_kill_task_yields_a_timeout_for_that_element() {
    for workers in WORKER_COUNTS {
        let rt = virtual_runtime(workers);
        let gate = Gate::default();
        let (h, g) = (rt.handle().clone(), gate.clone());
        let (pids_tx, pids_rx) = mpsc::channel();
        let pids_tx = Mutex::new(pids_tx);
        let consumer = in_thread(move || {
            let opts = StreamOptions::new()
                .max_concurrency(3)
                .timeout(Some(Duration::from_secs(1)))
                .on_timeout(OnStreamTimeout::KillTask);
            Task::stream(&h, 0..3u32, opts, move |i| {
                if i == 1 {
                    assert!(g.wait(), "the test never opened the gate");
                } else {
                    let me = rotp_runtime::self_pid().unwrap();
                    pids_tx.lock().unwrap().send(me).unwrap();
                }
                i
            })
            .collect::<Vec<_>>()
        });
        // The quick items are done before the clock moves.
        for _ in 0..2 {
            let pid = pids_rx.recv_timeout(TIMEOUT).unwrap();
            assert_eventually(TIMEOUT, "a quick task ends", || gone(&rt, pid));
        }
        wait_for_timer(&rt);
        rt.advance(Duration::from_secs(1));
        assert_eq!(
            consumer.recv_timeout(TIMEOUT).unwrap(),
            vec![Ok(0), Err(TaskError::Timeout), Ok(2)]
        );
        gate.open();
        finish(rt);
    }
}

#[test]
fn rule194_timeout_exit_ends_the_stream_and_shuts_the_rest_down() {
    let rt = virtual_runtime(2);
    let gate = Gate::default();
    let (h, g) = (rt.handle().clone(), gate.clone());
    let (pids_tx, pids_rx) = mpsc::channel();
    let pids_tx = Mutex::new(pids_tx);
    let (first_tx, first_rx) = mpsc::channel();
    let consumer = in_thread(move || {
        let opts = StreamOptions::new()
            .max_concurrency(3)
            .timeout(Some(Duration::from_secs(1)));
        let mut stream = Task::stream(&h, 0..4u32, opts, move |i| {
            if i > 0 {
                pids_tx
                    .lock()
                    .unwrap()
                    .send(rotp_runtime::self_pid().unwrap())
                    .unwrap();
                assert!(g.wait(), "the test never opened the gate");
            }
            i
        });
        first_tx.send(stream.next()).unwrap();
        stream.collect::<Vec<_>>()
    });
    assert_eq!(first_rx.recv_timeout(TIMEOUT).unwrap(), Some(Ok(0)));
    let pids: Vec<Pid> = (0..2)
        .map(|_| pids_rx.recv_timeout(TIMEOUT).unwrap())
        .collect();
    wait_for_timer(&rt);
    rt.advance(Duration::from_secs(1));
    // Elixir's default `on_timeout: :exit`: the stream ends with the timeout.
    assert_eq!(
        consumer.recv_timeout(TIMEOUT).unwrap(),
        vec![Err(TaskError::Timeout)]
    );
    for pid in pids {
        assert!(!rt.is_alive(pid), "the stream shut its tasks down");
    }
    gate.open();
    finish(rt);
}

#[test]
fn rule194_dropping_the_stream_early_shuts_down_running_tasks() {
    for workers in WORKER_COUNTS {
        let rt = runtime(workers);
        let gate = Gate::default();
        let (pids_tx, pids_rx) = mpsc::channel();
        let pids_tx = Mutex::new(pids_tx);
        let g = gate.clone();
        let mut stream = Task::stream(
            &rt,
            0..5u32,
            StreamOptions::new().max_concurrency(3),
            move |i| {
                if i > 0 {
                    pids_tx
                        .lock()
                        .unwrap()
                        .send(rotp_runtime::self_pid().unwrap())
                        .unwrap();
                    assert!(g.wait(), "the test never opened the gate");
                }
                i
            },
        );
        assert_eq!(stream.next(), Some(Ok(0)));
        // Items 1 and 2 run; item 3 waits for a free slot.
        let pids: Vec<Pid> = (0..2)
            .map(|_| pids_rx.recv_timeout(TIMEOUT).unwrap())
            .collect();
        drop(stream);
        for pid in &pids {
            assert!(!rt.is_alive(*pid), "dropping the stream killed {pid}");
        }
        gate.open();
        // Items never started stay unstarted.
        assert!(pids_rx.recv_timeout(Duration::from_millis(20)).is_err());
        finish(rt);
    }
}

// ---------------------------------------------------------------------------
// Blocking-awareness (architecture §6): tasks never pin a worker
// ---------------------------------------------------------------------------

#[test]
fn tasks_awaited_inside_a_process_on_one_worker_do_not_deadlock() {
    // One worker: the owner blocks in await, the tasks block in their
    // bodies waiting for a third process; all of it must still progress.
    let rt = runtime(1);
    let (host, _) = owner(&rt, false);
    let echo = rt.spawn_fn(move |(n, reply): (u32, mpsc::Sender<u32>), _ctx| {
        reply.send(n + 100).unwrap();
    });
    let h = rt.handle().clone();
    let sum = in_owner(&host, move || {
        let tasks: Vec<Task<u32>> = (0..8)
            .map(|n| {
                let echo = echo.clone();
                Task::run(&h, move || {
                    let (tx, rx) = mpsc::channel();
                    echo.send((n, tx));
                    // The body blocks (inside `blocking`) on a process it
                    // just woke: that process must not be stranded behind
                    // the blocked thread.
                    rx.recv_timeout(TIMEOUT)
                        .expect("the process woken from a blocking body ran")
                })
            })
            .collect();
        Task::await_many(tasks, Some(TIMEOUT))
            .unwrap()
            .into_iter()
            .sum::<u32>()
    });
    assert_eq!(sum, (0..8).map(|n| n + 100).sum::<u32>());
    let h = rt.handle().clone();
    let squares = in_owner(&host, move || {
        Task::map_concurrent(&h, 0..16u64, 4, false, Some(TIMEOUT), |n| n * n)
    });
    let mut squares: Vec<u64> = squares.into_iter().map(Result::unwrap).collect();
    squares.sort_unstable();
    assert_eq!(squares, (0..16u64).map(|n| n * n).collect::<Vec<_>>());
    finish(rt);
}

#[test]
fn task_handles_are_send() {
    fn check<T: Send>() {}
    check::<Task<String>>();
    check::<TaskError>();
}
