//! TaskSupervisor (spec rules 195-200).

mod common;

use std::sync::atomic::{AtomicU32, Ordering::SeqCst};
use std::sync::{mpsc, Arc};
use std::time::Duration;

use common::*;
use rotp_gen_server::{
    gen_server, noreply, start, Ctx, GenServer, Handled, Info, Init, InitResult, ReplyTo,
    ServerRef, StartOptions, StreamOptions, Task, TaskChild, TaskError,
};
use rotp_runtime::testing::{wait_until, Gate, Probe, Received};
use rotp_runtime::{
    assert_receive, Context, ExitReason, Handle, MonitorRef, Pid, Process, Runtime, SpawnOptions,
};
use rotp_supervisor::{
    ChildStatus, ChildType, Restart, Shutdown, StartChildError, Supervisor, SupervisorOptions,
    SupervisorStartError, TaskOptions, TaskRunError, TaskSupervisor, TaskSupervisorOptions,
    TerminateChildError, DEFAULT_TASK_SHUTDOWN,
};

fn start_sup(rt: &Runtime) -> TaskSupervisor {
    TaskSupervisor::start_link(rt, TaskSupervisorOptions::new()).unwrap()
}

/// The links of live process `pid`.
fn links(rt: &Runtime, pid: Pid) -> Vec<Pid> {
    rt.process_info(pid).map(|i| i.links).unwrap_or_default()
}

/// A process that spawns the task halves it is sent, linked to itself,
/// and reports the `EXIT`s it traps: it learns a task's exit reason
/// however soon the task exits.
struct Linker {
    exits: mpsc::Sender<(Pid, ExitReason)>,
}

impl Process for Linker {
    type Message = TaskChild<u32>;

    fn init(&mut self, ctx: &mut Context<'_, TaskChild<u32>>) {
        ctx.trap_exit(true);
    }

    fn handle(&mut self, child: TaskChild<u32>, ctx: &mut Context<'_, TaskChild<u32>>) {
        child.spawn_link(&ctx.handle());
    }

    fn handle_exit(
        &mut self,
        from: Pid,
        reason: ExitReason,
        ctx: &mut Context<'_, TaskChild<u32>>,
    ) {
        if from.is_root() {
            ctx.exit(reason); // the runtime's shutdown
        } else {
            let _ = self.exits.send((from, reason));
        }
    }
}

/// A body that tells `started` it runs, then reports `n` to `tx` once
/// `gate` opens.
fn started_then_gated(
    gate: &Gate,
    started: &mpsc::Sender<()>,
    tx: &mpsc::Sender<u32>,
    n: u32,
) -> impl FnOnce() -> u32 + Send + 'static {
    let (started, f) = (started.clone(), gated(gate, tx, n));
    move || {
        let _ = started.send(());
        f()
    }
}

/// A body that reports `n` to `tx` once `gate` opens.
fn gated(gate: &Gate, tx: &mpsc::Sender<u32>, n: u32) -> impl FnOnce() -> u32 + Send + 'static {
    let (gate, tx) = (gate.clone(), tx.clone());
    move || {
        assert!(gate.wait(), "the test opens the gate");
        let _ = tx.send(n);
        n
    }
}

#[test]
fn handles_cross_threads() {
    fn check<T: Send + Sync + Clone>() {}
    fn send<T: Send>() {}
    check::<TaskSupervisor>();
    check::<TaskOptions>();
    // The process half of a task travels to the supervisor.
    send::<TaskChild<Vec<String>>>();
}

#[test]
fn rule_195_a_dynamic_supervisor_with_task_defaults() {
    let defaults = TaskOptions::new();
    assert_eq!(defaults.restart, Restart::Temporary);
    assert_eq!(
        defaults.shutdown,
        Shutdown::Timeout(Duration::from_millis(5000))
    );
    assert_eq!(DEFAULT_TASK_SHUTDOWN, Duration::from_millis(5000));
    each_runtime(|rt| {
        let opts = TaskSupervisorOptions::new()
            .max_children(3)
            .max_restarts(7)
            .max_seconds(9)
            .name("tasks");
        let sup = TaskSupervisor::start_link(rt, opts).unwrap();
        // Named, and a DynamicSupervisor underneath.
        assert_eq!(
            TaskSupervisor::whereis(rt, "tasks").unwrap().pid(),
            sup.pid()
        );
        assert_eq!(
            TaskSupervisor::start_link(rt, TaskSupervisorOptions::new().name("tasks")).unwrap_err(),
            SupervisorStartError::AlreadyStarted(sup.pid())
        );
        assert!(matches!(
            TaskSupervisor::start_link(rt, TaskSupervisorOptions::new().max_seconds(0)),
            Err(SupervisorStartError::InvalidFlags(_))
        ));
        let gate = Gate::new();
        let _open = gate.opener();
        let (tx, rx) = mpsc::channel();
        let pid = sup.start_child({
            let f = gated(&gate, &tx, 1);
            move || {
                f();
            }
        });
        let pid = pid.unwrap();
        let kids = sup.as_dynamic().which_children().unwrap();
        assert_eq!(kids.len(), 1);
        assert_eq!(kids[0].status, ChildStatus::Running(pid));
        assert_eq!(kids[0].child_type, ChildType::Worker);
        // Temporary by default: a finished task is forgotten, not restarted.
        gate.open();
        assert_eq!(rx.recv_timeout(TIMEOUT), Ok(1));
        eventually("the finished task is forgotten", || {
            sup.children().unwrap().is_empty()
        });
        // A permanent child would be restarted and never leave the list.
        let runs = Arc::new(AtomicU32::new(0));
        let r = runs.clone();
        sup.start_child(move || {
            r.fetch_add(1, SeqCst);
            panic!("task failure");
        })
        .unwrap();
        eventually("the crashed task is forgotten", || {
            sup.children().unwrap().is_empty() && runs.load(SeqCst) == 1
        });
        assert_eq!(runs.load(SeqCst), 1);
    });
}

#[test]
fn rule_195_max_restarts_bounds_restarting_tasks() {
    each_virtual_runtime(|rt| {
        let sup =
            TaskSupervisor::start_link(rt, TaskSupervisorOptions::new().max_restarts(2)).unwrap();
        let watcher = watch(rt, sup.pid());
        let runs = Arc::new(AtomicU32::new(0));
        let r = runs.clone();
        let opts = TaskOptions::new().restart(Restart::Permanent);
        sup.start_child_opts(
            move || {
                r.fetch_add(1, SeqCst);
                panic!("always fails");
            },
            opts,
        )
        .unwrap();
        // The first run and two restarts, then the supervisor gives up.
        assert_eq!(down_reason(&watcher), ExitReason::Shutdown);
        assert_eq!(runs.load(SeqCst), 3);
    });
}

#[test]
fn rule_195_a_task_supervisor_under_a_supervisor() {
    each_runtime(|rt| {
        let spec = TaskSupervisor::child_spec(TaskSupervisorOptions::new().name("t"));
        assert_eq!(spec.child_type, ChildType::Supervisor);
        assert_eq!(spec.shutdown, Shutdown::Infinity);
        let app = Supervisor::start_link(rt, vec![spec], SupervisorOptions::new()).unwrap();
        let tasks = TaskSupervisor::whereis(rt, "t").unwrap();
        assert_eq!(tasks.run(|| 40 + 2).unwrap().await_result(), Ok(42));
        // The application's stop reaches the tasks.
        let gate = Gate::new();
        let _open = gate.opener();
        let (tx, _rx) = mpsc::channel();
        let task = tasks.start_child({
            let f = gated(&gate, &tx, 0);
            move || {
                f();
            }
        });
        let task = task.unwrap();
        let watcher = watch(rt, task);
        let stopper = std::thread::spawn(move || app.stop(ExitReason::Normal));
        // R1: the body is not interrupted; it is told to exit at once.
        eventually("the task was told to exit", || !rt.is_alive(task));
        gate.open();
        assert_eq!(stopper.join().unwrap(), Ok(()));
        assert_eq!(down_reason(&watcher), ExitReason::Shutdown);
    });
}

#[test]
fn rule_196_start_child_is_fire_and_forget_and_not_linked_to_the_caller() {
    each_runtime(|rt| {
        let sup = start_sup(rt);
        let parent = rt.spawn(Parent);
        let gate = Gate::new();
        let _open = gate.opener();
        let (tx, rx) = mpsc::channel();
        let f = gated(&gate, &tx, 7);
        let s = sup.clone();
        let pid = run_in(&parent, move |_| {
            s.start_child(move || {
                f();
            })
        })
        .unwrap();
        eventually("the task is linked to its supervisor", || {
            links(rt, pid).contains(&sup.pid())
        });
        assert!(!links(rt, pid).contains(&parent.pid()));
        // The caller's death does not reach the task.
        let parent_gone = watch(rt, parent.pid());
        rt.send_exit(parent.pid(), ExitReason::custom("caller crash"));
        assert_eq!(
            down_reason(&parent_gone),
            ExitReason::custom("caller crash")
        );
        gate.open();
        assert_eq!(rx.recv_timeout(TIMEOUT), Ok(7));
        // And the task's crash does not reach the caller.
        let parent = rt.spawn(Parent);
        let crash_gate = Gate::new();
        let _open = crash_gate.opener();
        let (s, g) = (sup.clone(), crash_gate.clone());
        let crashed = run_in(&parent, move |_| {
            s.start_child(move || {
                g.wait();
                panic!("task failure");
            })
        })
        .unwrap();
        let task_gone = watch(rt, crashed);
        crash_gate.open();
        assert!(matches!(down_reason(&task_gone), ExitReason::Panic(_)));
        assert_eq!(run_in(&parent, |ctx| ctx.pid()), parent.pid());
    });
}

#[test]
fn rule_196_restart_and_shutdown_options() {
    each_runtime(|rt| {
        let sup = start_sup(rt);
        // Transient: restarted after a crash, not after returning.
        let runs = Arc::new(AtomicU32::new(0));
        let (tx, rx) = mpsc::channel();
        let r = runs.clone();
        sup.start_child_opts(
            move || {
                if r.fetch_add(1, SeqCst) == 0 {
                    panic!("first run fails");
                }
                tx.send("second run").unwrap();
            },
            TaskOptions::new().restart(Restart::Transient),
        )
        .unwrap();
        assert_eq!(rx.recv_timeout(TIMEOUT), Ok("second run"));
        eventually("the transient task that returned is forgotten", || {
            sup.children().unwrap().is_empty()
        });
        assert_eq!(runs.load(SeqCst), 2);
        // The shutdown value reaches the child spec: brutal_kill kills,
        // the default sends `shutdown`.
        let (gate_k, gate_s) = (Gate::new(), Gate::new());
        let (_open_k, _open_s) = (gate_k.opener(), gate_s.opener());
        let g = gate_k.clone();
        let killed = sup
            .start_child_opts(
                move || {
                    g.wait();
                },
                TaskOptions::new().shutdown(Shutdown::BrutalKill),
            )
            .unwrap();
        let g = gate_s.clone();
        let stopped = sup
            .start_child_opts(
                move || {
                    g.wait();
                },
                TaskOptions::new(),
            )
            .unwrap();
        let (w_killed, w_stopped) = (watch(rt, killed), watch(rt, stopped));
        let s = sup.clone();
        let terminator =
            std::thread::spawn(move || (s.terminate_child(killed), s.terminate_child(stopped)));
        // R1: a body returns when its gate opens; the reasons tell which
        // signal each task got.
        eventually("the first task was told to exit", || !rt.is_alive(killed));
        gate_k.open();
        eventually("the second task was told to exit", || !rt.is_alive(stopped));
        gate_s.open();
        assert_eq!(terminator.join().unwrap(), (Ok(()), Ok(())));
        assert_eq!(down_reason(&w_killed), ExitReason::Killed);
        assert_eq!(down_reason(&w_stopped), ExitReason::Shutdown);
    });
}

#[test]
fn rule_196_max_children_is_an_error() {
    each_runtime(|rt| {
        let sup =
            TaskSupervisor::start_link(rt, TaskSupervisorOptions::new().max_children(1)).unwrap();
        let gate = Gate::new();
        let _open = gate.opener();
        let g = gate.clone();
        sup.start_child(move || {
            g.wait();
        })
        .unwrap();
        let ran = Arc::new(AtomicU32::new(0));
        let r = ran.clone();
        assert_eq!(
            sup.start_child(move || {
                r.fetch_add(1, SeqCst);
            }),
            Err(StartChildError::MaxChildren)
        );
        gate.open();
        eventually("the slot frees", || sup.children().unwrap().is_empty());
        assert_eq!(ran.load(SeqCst), 0);
    });
}

#[test]
fn rule_197_run_links_the_task_to_the_caller() {
    each_runtime(|rt| {
        let sup = start_sup(rt);
        let parent = rt.spawn(Parent);
        // The result comes back, and the task is linked both ways.
        let s = sup.clone();
        let (pid, value) = run_in(&parent, move |_| {
            let task = s.run(|| 6 * 7).unwrap();
            let pid = task.pid().unwrap();
            (pid, task.await_result())
        });
        assert_eq!(value, Ok(42));
        // The task answers, then exits: gone soon after, not necessarily
        // by the time the answer is read (as with `Task.await`).
        eventually("the task exits", || !rt.is_alive(pid));
        // A crash kills the (non-trapping) caller, as Task.async does.
        let parent_gone = watch(rt, parent.pid());
        let s = sup.clone();
        let outcome = run_in(&parent, move |_| {
            let task = s.run(|| -> u32 { panic!("task failure") }).unwrap();
            task.await_result()
        });
        assert!(matches!(
            outcome,
            Err(TaskError::Exited(ExitReason::Panic(_)))
        ));
        assert!(matches!(down_reason(&parent_gone), ExitReason::Panic(_)));
        // The caller's death kills a linked task.
        let parent = rt.spawn(Parent);
        let gate = Gate::new();
        let _open = gate.opener();
        let (tx, rx) = mpsc::channel();
        let (s, f) = (sup.clone(), gated(&gate, &tx, 1));
        let pid = run_in(&parent, move |_| {
            let task = s.run(f).unwrap();
            task.pid().unwrap()
        });
        eventually("the task is linked to its caller", || {
            let l = links(rt, pid);
            l.contains(&parent.pid()) && l.contains(&sup.pid())
        });
        let task_gone = watch(rt, pid);
        rt.send_exit(parent.pid(), ExitReason::custom("caller crash"));
        // R1: the link marks the task exiting; its body returns later.
        eventually("the caller's exit reached the task", || !rt.is_alive(pid));
        gate.open();
        assert_eq!(down_reason(&task_gone), ExitReason::custom("caller crash"));
        // R1: the body ran to its end, but its result was dropped.
        let _ = rx.recv_timeout(TIMEOUT);
    });
}

#[test]
fn rule_197_run_nolink_crashes_do_not_reach_the_caller() {
    each_runtime(|rt| {
        let sup = start_sup(rt);
        let parent = rt.spawn(Parent);
        let s = sup.clone();
        let (pid, linked, yielded) = run_in(&parent, move |ctx| {
            let mut task = s.run_nolink(|| -> u32 { panic!("task failure") }).unwrap();
            let pid = task.pid().unwrap();
            let yielded = task.yield_timeout(TIMEOUT);
            (
                pid,
                ctx.handle().process_info(ctx.pid()).unwrap().links,
                yielded,
            )
        });
        assert!(!linked.contains(&pid));
        assert!(matches!(
            yielded,
            Err(TaskError::Exited(ExitReason::Panic(_)))
        ));
        // The caller lives on; `await_result` fails with the exit.
        let s = sup.clone();
        let awaited = run_in(&parent, move |_| {
            s.run_nolink(|| -> u32 { panic!("again") })
                .unwrap()
                .await_result()
        });
        assert!(matches!(
            awaited,
            Err(TaskError::Exited(ExitReason::Panic(_)))
        ));
        assert!(rt.is_alive(parent.pid()));
        // A result comes back as with `run`, from a plain thread too.
        assert_eq!(sup.run_nolink(|| "ok").unwrap().await_result(), Ok("ok"));
        // Temporary: the crashed tasks were not restarted.
        eventually("no task left", || sup.children().unwrap().is_empty());
    });
}

#[test]
fn rule_197_max_children_makes_run_fail_with_a_typed_error() {
    each_runtime(|rt| {
        let sup =
            TaskSupervisor::start_link(rt, TaskSupervisorOptions::new().max_children(2)).unwrap();
        let gate = Gate::new();
        let _open = gate.opener();
        let (tx, rx) = mpsc::channel();
        let a = sup.run(gated(&gate, &tx, 1)).unwrap();
        let b = sup.run_nolink(gated(&gate, &tx, 2)).unwrap();
        assert_eq!(sup.run(|| 3).unwrap_err(), TaskRunError::MaxChildren);
        assert_eq!(sup.run_nolink(|| 3).unwrap_err(), TaskRunError::MaxChildren);
        assert_eq!(
            sup.start_child(|| {}).unwrap_err(),
            StartChildError::MaxChildren
        );
        gate.open();
        assert_eq!(Task::await_many(vec![a, b], Some(TIMEOUT)), Ok(vec![1, 2]));
        let mut got: Vec<u32> = rx.try_iter().collect();
        got.sort_unstable();
        assert_eq!(got, [1, 2]);
        // A gone supervisor is an error too.
        sup.stop(ExitReason::Normal).unwrap();
        assert!(matches!(sup.run(|| 1), Err(TaskRunError::Call(_))));
    });
}

#[test]
fn rule_197_only_the_owner_collects_a_task_and_shutdown_stops_it() {
    each_runtime(|rt| {
        let sup = start_sup(rt);
        let gate = Gate::new();
        let _open = gate.opener();
        let (tx, _rx) = mpsc::channel();
        let task = sup.run_nolink(gated(&gate, &tx, 9)).unwrap();
        let pid = task.pid().unwrap();
        let watcher = watch(rt, pid);
        let (h, g) = (Handle::clone(rt), gate.clone());
        let opener = std::thread::spawn(move || {
            assert!(wait_until(TIMEOUT, || !h.is_alive(pid)));
            g.open();
        });
        // R1: shutdown tells the task to exit; its body returns when the
        // gate opens, and it dies of exactly the signal sent.
        assert_eq!(task.shutdown(Default::default()), Ok(None));
        opener.join().unwrap();
        assert_eq!(down_reason(&watcher), ExitReason::Shutdown);
        // Only its owner may collect a task.
        let task = sup.run(|| 1).unwrap();
        let other = std::thread::spawn(move || {
            let mut t = task;
            (t.yield_timeout(TIMEOUT), t)
        });
        let (outcome, task) = other.join().unwrap();
        assert_eq!(outcome, Err(TaskError::NotOwner));
        drop(task);
    });
}

#[test]
fn rule_198_an_owner_gone_before_the_task_starts_makes_it_exit_shutdown() {
    each_runtime(|rt| {
        let ran = Arc::new(AtomicU32::new(0));
        let (exits, exited) = mpsc::channel();
        let (linker, _) = rt.spawn_opts(Linker { exits }, &SpawnOptions::new());
        for link in [true, false] {
            // The owner prepares a task (as a TaskSupervisor's `run` does)
            // and dies before the task is spawned and starts.
            let owner = rt.spawn(Parent);
            let r = ran.clone();
            let (pending, child) = run_in(&owner, move |ctx| {
                Task::prepare(&ctx.handle(), move || r.fetch_add(1, SeqCst), link)
            });
            let owner_gone = watch(rt, owner.pid());
            rt.send_exit(owner.pid(), ExitReason::custom("owner crash"));
            assert_eq!(down_reason(&owner_gone), ExitReason::custom("owner crash"));
            linker.send(child);
            let (pid, reason) = exited.recv_timeout(TIMEOUT).expect("the task exits");
            assert_eq!(
                reason,
                ExitReason::shutdown_with(ExitReason::custom("owner crash")),
                "link: {link}"
            );
            assert_eq!(pending.spawned().and_then(|t| t.pid()), Some(pid));
        }
        assert_eq!(ran.load(SeqCst), 0, "no body ran");
    });
}

#[test]
fn rule_198_once_started_a_nolink_task_outlives_its_owner() {
    each_runtime(|rt| {
        let sup = start_sup(rt);
        let owner = rt.spawn(Parent);
        let gate = Gate::new();
        let _open = gate.opener();
        let (started, running) = mpsc::channel();
        let (tx, rx) = mpsc::channel();
        let (s, f) = (sup.clone(), started_then_gated(&gate, &started, &tx, 3));
        let pid = run_in(&owner, move |_| s.run_nolink(f).unwrap().pid().unwrap());
        running.recv_timeout(TIMEOUT).expect("the body runs");
        let owner_gone = watch(rt, owner.pid());
        rt.send_exit(owner.pid(), ExitReason::custom("owner crash"));
        assert_eq!(down_reason(&owner_gone), ExitReason::custom("owner crash"));
        assert!(rt.is_alive(pid));
        gate.open();
        assert_eq!(rx.recv_timeout(TIMEOUT), Ok(3));
    });
}

/// A server that starts tasks with `run_nolink_info` and reports what its
/// `handle_info` sees.
struct Owner {
    tasks: TaskSupervisor,
    seen: rotp_runtime::Addr<Seen>,
    flush: bool,
}

/// What [`Owner`] reports.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Seen {
    Result(MonitorRef, u32),
    Down(MonitorRef, ExitReason),
}

enum OwnerInfo {
    Done(MonitorRef, u32),
}

type Job = Box<dyn FnOnce() -> u32 + Send>;

/// Starts a job: answered with the task's monitor reference.
struct RunJob(Job, ReplyTo<Result<MonitorRef, TaskRunError>>);

#[gen_server]
impl GenServer for Owner {
    fn init(
        (tasks, seen, flush): (TaskSupervisor, rotp_runtime::Addr<Seen>, bool),
        _ctx: &mut Ctx<'_, Self>,
    ) -> InitResult<Self> {
        Init::ok(Owner { tasks, seen, flush })
    }

    fn handle_call(&mut self, RunJob(job, r): RunJob, ctx: &mut Ctx<'_, Self>) -> Handled<Self> {
        r.reply(self.tasks.run_nolink_info(ctx, job, OwnerInfo::Done))
    }

    fn handle_info(&mut self, info: Info<OwnerInfo>, ctx: &mut Ctx<'_, Self>) -> Handled<Self> {
        match info {
            Info::Msg(OwnerInfo::Done(mref, n)) => {
                if self.flush {
                    ctx.demonitor_flush(mref);
                }
                self.seen.send(Seen::Result(mref, n));
            }
            Info::Down(d) => self.seen.send(Seen::Down(d.mref, d.reason)),
            _ => {}
        }
        noreply()
    }
}

fn owner(
    rt: &Runtime,
    tasks: &TaskSupervisor,
    seen: &Probe<Seen>,
    flush: bool,
) -> ServerRef<Owner> {
    start::<Owner>(
        rt,
        (tasks.clone(), seen.addr().clone(), flush),
        StartOptions::new(),
    )
    .unwrap()
}

#[test]
fn rule_199_a_gen_server_gets_the_result_then_the_down_in_handle_info() {
    each_runtime(|rt| {
        let sup = start_sup(rt);
        let seen = Probe::spawn(rt);
        let server = owner(rt, &sup, &seen, false);
        let mref = server
            .call(|r| RunJob(Box::new(|| 21 * 2), r))
            .unwrap()
            .unwrap();
        // The result first, then the DOWN with the same reference.
        assert_receive!(seen, Received::Message(Seen::Result(m, 42)) if *m == mref);
        assert_receive!(seen, Received::Message(Seen::Down(m, ExitReason::Normal)) if *m == mref);
        // A crash: only the DOWN, and the server lives on.
        let mref = server
            .call(|r| RunJob(Box::new(|| -> u32 { panic!("task failure") }), r))
            .unwrap()
            .unwrap();
        match assert_receive!(seen, Received::Message(_)) {
            Received::Message(Seen::Down(m, ExitReason::Panic(_))) => assert_eq!(m, mref),
            other => panic!("expected the DOWN, got {other:?}"),
        }
        assert!(server.is_alive());
        eventually("no task left", || sup.children().unwrap().is_empty());
    });
}

#[test]
fn rule_199_demonitor_with_flush_after_the_result_drops_the_down() {
    each_runtime(|rt| {
        let sup = start_sup(rt);
        let seen = Probe::spawn(rt);
        let server = owner(rt, &sup, &seen, true);
        let mref = server.call(|r| RunJob(Box::new(|| 7), r)).unwrap().unwrap();
        assert_receive!(seen, Received::Message(Seen::Result(m, 7)) if *m == mref);
        // A later task's DOWN would come after this one's: none in between.
        let crash = server
            .call(|r| RunJob(Box::new(|| -> u32 { panic!("task failure") }), r))
            .unwrap()
            .unwrap();
        match assert_receive!(seen, Received::Message(_)) {
            Received::Message(Seen::Down(m, _)) => assert_eq!(m, crash, "no DOWN for {mref:?}"),
            other => panic!("expected the second task's DOWN, got {other:?}"),
        }
    });
}

#[test]
fn rule_199_max_children_is_an_error_for_the_gen_server_form_too() {
    each_runtime(|rt| {
        let sup =
            TaskSupervisor::start_link(rt, TaskSupervisorOptions::new().max_children(1)).unwrap();
        let gate = Gate::new();
        let _open = gate.opener();
        let g = gate.clone();
        sup.start_child(move || {
            g.wait();
        })
        .unwrap();
        let seen = Probe::spawn(rt);
        let server = owner(rt, &sup, &seen, false);
        assert_eq!(
            server.call(|r| RunJob(Box::new(|| 1), r)).unwrap(),
            Err(TaskRunError::MaxChildren)
        );
        gate.open();
    });
}

#[test]
fn rule_200_terminate_child_and_children() {
    each_runtime(|rt| {
        let sup = start_sup(rt);
        let gate = Gate::new();
        let _open = gate.opener();
        let (tx, _rx) = mpsc::channel();
        let a = sup.run_nolink(gated(&gate, &tx, 1)).unwrap();
        let b = sup.run_nolink(gated(&gate, &tx, 2)).unwrap();
        let (pa, pb) = (a.pid().unwrap(), b.pid().unwrap());
        assert_eq!(sup.children().unwrap(), [pa, pb]);
        let watcher = watch(rt, pa);
        let s = sup.clone();
        let terminator = std::thread::spawn(move || s.terminate_child(pa));
        eventually("the task was told to exit", || !rt.is_alive(pa));
        gate.open();
        assert_eq!(terminator.join().unwrap(), Ok(()));
        assert_eq!(down_reason(&watcher), ExitReason::Shutdown);
        assert_eq!(sup.terminate_child(pa), Err(TerminateChildError::NotFound));
        assert_eq!(
            sup.terminate_child(Handle::clone(rt).spawn(Parent).pid()),
            Err(TerminateChildError::NotFound)
        );
        assert_eq!(b.await_result(), Ok(2));
        drop(a);
    });
}

#[test]
fn rule_200_children_leaves_out_restarting_ones() {
    each_virtual_runtime(|rt| {
        let probe = Probe::spawn(rt);
        let ctl = StartControl::new();
        let sup =
            TaskSupervisor::start_link(rt, TaskSupervisorOptions::new().max_restarts(1_000_000))
                .unwrap();
        // A TaskSupervisor is a DynamicSupervisor: a child whose restarts
        // fail can be put under it through that API.
        let c = sup
            .as_dynamic()
            .start_child(controlled("c", &probe, &ctl))
            .unwrap()
            .unwrap();
        let gate = Gate::new();
        let _open = gate.opener();
        let g = gate.clone();
        let task = sup
            .start_child(move || {
                g.wait();
            })
            .unwrap();
        assert_eq!(sup.children().unwrap(), [c, task]);
        ctl.fail();
        crash(rt, c);
        eventually("c is restarting", || {
            sup.as_dynamic()
                .which_children()
                .unwrap()
                .iter()
                .any(|c| c.status == ChildStatus::Restarting)
        });
        assert_eq!(sup.children().unwrap(), [task]);
        assert_eq!(sup.count_children().unwrap().specs, 2);
        sup.terminate_child(c).unwrap();
        gate.open();
    });
}

#[test]
fn rule_194_a_supervised_stream_runs_its_tasks_under_the_supervisor_max_concurrency_at_once() {
    each_runtime(|rt| {
        let sup = start_sup(rt);
        let gate = Gate::new();
        let _open = gate.opener();
        let running = Arc::new(AtomicU32::new(0));
        let most = Arc::new(AtomicU32::new(0));
        let (s, g, r, m) = (sup.clone(), gate.clone(), running.clone(), most.clone());
        let consumer = std::thread::spawn(move || {
            let opts = StreamOptions::new().max_concurrency(2);
            s.stream(1..=6u32, opts, move |n| {
                let now = r.fetch_add(1, SeqCst) + 1;
                m.fetch_max(now, SeqCst);
                assert!(g.wait(), "the test opens the gate");
                r.fetch_sub(1, SeqCst);
                n * 10
            })
            .collect::<Vec<_>>()
        });
        eventually("two tasks run, as children of the supervisor", || {
            running.load(SeqCst) == 2 && sup.children().unwrap().len() == 2
        });
        // No third one starts while the two are busy.
        assert!(!wait_until(QUIET, || sup.children().unwrap().len() > 2));
        gate.open();
        let results = consumer.join().unwrap();
        assert_eq!(results, [10, 20, 30, 40, 50, 60].map(Ok));
        assert_eq!(most.load(SeqCst), 2);
        eventually("no task left", || sup.children().unwrap().is_empty());
    });
}

#[test]
fn rule_194_stream_links_its_tasks_to_the_caller_and_stream_nolink_does_not() {
    each_runtime(|rt| {
        let sup = start_sup(rt);
        // nolink: a crash is an item, and the caller lives on.
        let parent = rt.spawn(Parent);
        let s = sup.clone();
        let results = run_in(&parent, move |_| {
            s.stream_nolink([1u32, 0, 2], StreamOptions::new(), |n| 10 / n)
                .collect::<Vec<_>>()
        });
        assert_eq!(results[0], Ok(10));
        assert!(matches!(
            results[1],
            Err(TaskError::Exited(ExitReason::Panic(_)))
        ));
        assert_eq!(results[2], Ok(5));
        assert!(rt.is_alive(parent.pid()));
        // linked: the same crash takes the (non-trapping) caller down.
        let parent_gone = watch(rt, parent.pid());
        let s = sup.clone();
        run_in(&parent, move |_| {
            s.stream([0u32], StreamOptions::new(), |n| 10 / n)
                .collect::<Vec<_>>()
        });
        assert!(matches!(down_reason(&parent_gone), ExitReason::Panic(_)));
    });
}

#[test]
fn rule_194_a_stream_that_hits_max_children_ends_with_an_error() {
    each_runtime(|rt| {
        let sup =
            TaskSupervisor::start_link(rt, TaskSupervisorOptions::new().max_children(1)).unwrap();
        let gate = Gate::new();
        let _open = gate.opener();
        let g = gate.clone();
        sup.start_child(move || {
            g.wait();
        })
        .unwrap();
        let results: Vec<_> = sup.stream(1..=3u32, StreamOptions::new(), |n| n).collect();
        match results.as_slice() {
            [Err(TaskError::Exited(reason))] => {
                assert!(reason.to_string().contains("max_children"), "{reason}")
            }
            other => panic!("expected one max_children error, got {other:?}"),
        }
        gate.open();
    });
}
