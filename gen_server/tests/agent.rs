//! Agent: spec rules 179-183 (Elixir's `Agent`).

use std::sync::mpsc;
use std::time::Duration;

use rotp_gen_server::{Agent, CallError, StartError, StartOptions, StopError};
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

fn finish(rt: Runtime) {
    for pid in rt.processes() {
        rt.kill(pid);
    }
    assert_eventually(TIMEOUT, "every process exits", || rt.process_count() == 0);
    rt.shutdown(TIMEOUT).expect("clean shutdown");
}

type Job = Box<dyn FnOnce() + Send>;

/// A raw process that runs closures as itself and reports trapped EXITs.
struct Host {
    exits: mpsc::Sender<(Pid, ExitReason)>,
}

impl Process for Host {
    type Message = Job;

    fn handle(&mut self, job: Job, _ctx: &mut Context<'_, Job>) {
        job()
    }

    fn handle_exit(&mut self, from: Pid, reason: ExitReason, _ctx: &mut Context<'_, Job>) {
        let _ = self.exits.send((from, reason));
    }
}

fn host(rt: &Handle, trap: bool) -> (Addr<Job>, mpsc::Receiver<(Pid, ExitReason)>) {
    let (exits, rx) = mpsc::channel();
    let (addr, _) = rt.spawn_opts(Host { exits }, &SpawnOptions::new().trap_exit(trap));
    (addr, rx)
}

#[track_caller]
fn in_host<R: Send + 'static>(host: &Addr<Job>, f: impl FnOnce() -> R + Send + 'static) -> R {
    let (tx, rx) = mpsc::channel();
    host.send(Box::new(move || {
        let _ = tx.send(f());
    }));
    rx.recv_timeout(TIMEOUT).expect("the host answers")
}

fn in_thread<R: Send + 'static>(f: impl FnOnce() -> R + Send + 'static) -> mpsc::Receiver<R> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(f());
    });
    rx
}

fn is_panic(reason: &ExitReason, text: &str) -> bool {
    matches!(reason, ExitReason::Panic(p) if p.message.contains(text))
}

// ---------------------------------------------------------------------------
// Rule 179: start
// ---------------------------------------------------------------------------

#[test]
fn rule179_init_runs_inside_the_new_process_and_gives_the_state() {
    for workers in WORKER_COUNTS {
        let rt = runtime(workers);
        let agent = Agent::start(
            &rt,
            || (rotp_runtime::self_pid(), vec!["init"]),
            StartOptions::new(),
        )
        .unwrap();
        let (init_pid, state) = agent.get(|s| s.clone()).unwrap();
        assert_eq!(init_pid, agent.pid());
        assert_eq!(state, vec!["init"]);
        finish(rt);
    }
}

#[test]
fn rule179_a_panicking_init_fails_the_start() {
    let rt = runtime(2);
    let err = Agent::<u32>::start(&rt, || panic!("init boom"), StartOptions::new()).unwrap_err();
    assert!(
        matches!(&err, StartError::Init(r) if is_panic(r, "init boom")),
        "{err:?}"
    );
    finish(rt);
}

#[test]
fn rule179_start_link_panicking_init_kills_a_non_trapping_caller() {
    for workers in WORKER_COUNTS {
        let rt = runtime(workers);
        let probe: Probe<()> = Probe::spawn(&rt);
        let (caller, _) = host(&rt, false);
        let mref = probe.monitor(caller.pid());
        let h = rt.handle().clone();
        let result = in_host(&caller, move || {
            Agent::<u8>::start_link(&h, || panic!("linked init"), StartOptions::new())
                .map(|a| a.pid())
        });
        assert!(matches!(&result, Err(StartError::Init(r)) if is_panic(r, "linked init")));
        assert_receive!(probe, Received::Down(d) if d.mref == mref && is_panic(&d.reason, "linked init"));
        finish(rt);
    }
}

#[test]
fn rule179_start_link_links_and_a_trapping_caller_survives_a_failed_init_rule54() {
    let rt = runtime(2);
    let (caller, exits) = host(&rt, true);
    let h = rt.handle().clone();
    let (pid, links) = in_host(&caller, move || {
        let agent = Agent::start_link(&h, || 0u8, StartOptions::new()).unwrap();
        (
            agent.pid().unwrap(),
            h.process_info(agent.pid().unwrap()).unwrap().links,
        )
    });
    assert_eq!(links, vec![caller.pid()]);
    assert!(rt.is_alive(pid));
    let h = rt.handle().clone();
    let result = in_host(&caller, move || {
        Agent::<u8>::start_link(&h, || panic!("trapped init"), StartOptions::new()).map(|_| ())
    });
    assert!(matches!(&result, Err(StartError::Init(r)) if is_panic(r, "trapped init")));
    // Rule 54: the start consumed the EXIT; the trapping caller carries on.
    assert_eq!(in_host(&caller, || "alive"), "alive");
    assert!(exits.try_recv().is_err());
    finish(rt);
}

#[test]
fn rule179_a_taken_name_fails_the_start_and_named_handles_reach_the_agent() {
    let rt = runtime(2);
    let first = Agent::start(&rt, || 1, StartOptions::new().name("counter")).unwrap();
    let again = Agent::start(&rt, || 2, StartOptions::new().name("counter")).unwrap_err();
    assert_eq!(again, StartError::AlreadyStarted(first.pid().unwrap()));
    let by_name: Agent<i32> = Agent::named(&rt, "counter");
    assert_eq!(by_name.get(|n| *n).unwrap(), 1);
    // The name follows a restart.
    first.stop(ExitReason::Normal, None).unwrap();
    assert_eq!(by_name.get(|n| *n), Err(CallError::NoProc));
    Agent::start(&rt, || 10, StartOptions::new().name("counter")).unwrap();
    assert_eq!(by_name.get(|n| *n).unwrap(), 10);
    // A name held by an agent of another state type is not this agent:
    // the call says so instead of reaching it.
    let wrong: Agent<String> = Agent::named(&rt, "counter");
    let holder = by_name.pid().unwrap();
    assert!(
        matches!(wrong.get(|s| s.len()), Err(CallError::WrongType { pid, .. }) if pid == holder),
        "a call to another kind of process fails with WrongType"
    );
    assert!(!wrong.is_alive());
    finish(rt);
}

// ---------------------------------------------------------------------------
// Rule 180: serialized get / update / get_and_update
// ---------------------------------------------------------------------------

#[test]
fn rule180_get_update_and_get_and_update() {
    let rt = runtime(2);
    let agent = Agent::start(&rt, Vec::<u32>::new, StartOptions::new()).unwrap();
    agent
        .update(|mut v| {
            v.push(1);
            v
        })
        .unwrap();
    assert_eq!(agent.get(|v| v.clone()).unwrap(), vec![1]);
    let popped = agent
        .get_and_update(|mut v| {
            let top = v.pop();
            (top, v)
        })
        .unwrap();
    assert_eq!(popped, Some(1));
    assert_eq!(agent.get(Vec::len).unwrap(), 0);
    // The functions run inside the agent.
    assert_eq!(
        agent.get(|_| rotp_runtime::self_pid()).unwrap(),
        agent.pid()
    );
    finish(rt);
}

#[test]
fn rule180_operations_from_many_clients_are_serialized() {
    for workers in WORKER_COUNTS {
        let rt = runtime(workers);
        let agent = Agent::start(&rt, || 0u64, StartOptions::new()).unwrap();
        // Eight threads and eight processes, each adding 1 a hundred times
        // with a read-modify-write that would lose updates if two ran at
        // once.
        let threads: Vec<_> = (0..8)
            .map(|_| {
                let a = agent.clone();
                in_thread(move || {
                    for _ in 0..100 {
                        a.get_and_update(|n| ((), n + 1)).unwrap();
                    }
                })
            })
            .collect();
        let processes: Vec<_> = (0..8)
            .map(|_| {
                let (h, _) = host(&rt, false);
                let a = agent.clone();
                let (tx, rx) = mpsc::channel();
                h.send(Box::new(move || {
                    for _ in 0..100 {
                        a.update(|n| n + 1).unwrap();
                    }
                    tx.send(()).unwrap();
                }));
                (h, rx)
            })
            .collect();
        for t in threads {
            t.recv_timeout(TIMEOUT).unwrap();
        }
        for (_, rx) in processes {
            rx.recv_timeout(TIMEOUT).unwrap();
        }
        assert_eq!(agent.get(|n| *n).unwrap(), 1600);
        finish(rt);
    }
}

#[test]
fn rule180_default_timeout_is_five_seconds_and_the_agent_carries_on() {
    for workers in WORKER_COUNTS {
        let rt = Runtime::builder()
            .workers(workers)
            .virtual_clock()
            .build()
            .unwrap();
        let agent = Agent::start(&rt, || 0u32, StartOptions::new()).unwrap();
        let gate = Gate::default();
        let g = gate.clone();
        agent.cast(move |n| {
            assert!(g.wait_blocking(), "the test never opened the gate");
            n + 1
        });
        let a = agent.clone();
        let caller = in_thread(move || a.get(|n| *n));
        assert_eventually(TIMEOUT, "the call armed its timer", || {
            rt.stats().timers > 0
        });
        rt.advance(Duration::from_millis(4_999));
        assert!(caller.recv_timeout(Duration::from_millis(20)).is_err());
        rt.advance(Duration::from_millis(1));
        assert_eq!(
            caller.recv_timeout(TIMEOUT).unwrap(),
            Err(CallError::Timeout)
        );
        gate.open();
        // Rule 182: a timeout exits the caller (here: returns), not the agent.
        assert_eq!(agent.get(|n| *n).unwrap(), 1);
        assert_eq!(
            agent.get_timeout(|n| *n + 1, Some(Duration::from_secs(1))),
            Ok(2)
        );
        finish(rt);
    }
}

// ---------------------------------------------------------------------------
// Rule 181: cast
// ---------------------------------------------------------------------------

#[test]
fn rule181_cast_returns_at_once_and_is_ordered_before_later_calls() {
    for workers in WORKER_COUNTS {
        let rt = runtime(workers);
        let agent = Agent::start(&rt, Vec::<u32>::new, StartOptions::new()).unwrap();
        for i in 0..100 {
            agent.cast(move |mut v| {
                v.push(i);
                v
            });
        }
        assert_eq!(
            agent.get(|v| v.clone()).unwrap(),
            (0..100).collect::<Vec<_>>()
        );
        finish(rt);
    }
}

#[test]
fn rule181_cast_to_a_missing_agent_is_fine() {
    let rt = runtime(1);
    let agent = Agent::start(&rt, || 0, StartOptions::new()).unwrap();
    agent.stop(ExitReason::Normal, None).unwrap();
    agent.cast(|n| n + 1);
    let nobody: Agent<i32> = Agent::named(&rt, "nobody");
    nobody.cast(|n| n + 1);
    assert_eq!(nobody.get(|n| *n), Err(CallError::NoProc));
    finish(rt);
}

// ---------------------------------------------------------------------------
// Rule 182: failures follow GenServer
// ---------------------------------------------------------------------------

#[test]
fn rule182_a_panicking_function_crashes_the_agent_and_the_caller_gets_the_reason() {
    for workers in WORKER_COUNTS {
        let rt = runtime(workers);
        let agent = Agent::start(&rt, || 1u8, StartOptions::new()).unwrap();
        let err = agent.get(|_| -> u8 { panic!("get boom") }).unwrap_err();
        assert!(
            matches!(&err, CallError::Exited(r) if is_panic(r, "get boom")),
            "{err:?}"
        );
        assert!(!agent.is_alive());
        assert!(is_panic(&agent.exit_reason().unwrap(), "get boom"));
        // Once the exit is complete, the agent is gone.
        if let Some(dying) = rt.process_ref(agent.pid().unwrap()) {
            dying.await_exit(Some(TIMEOUT));
        }
        assert_eq!(agent.get(|n| *n), Err(CallError::NoProc));

        let agent = Agent::start(&rt, || 1u8, StartOptions::new()).unwrap();
        let err = agent.update(|_| panic!("update boom")).unwrap_err();
        assert!(matches!(&err, CallError::Exited(r) if is_panic(r, "update boom")));
        let agent = Agent::start(&rt, || 1u8, StartOptions::new()).unwrap();
        let err = agent
            .get_and_update(|_| -> ((), u8) { panic!("gau boom") })
            .unwrap_err();
        assert!(matches!(&err, CallError::Exited(r) if is_panic(r, "gau boom")));
        finish(rt);
    }
}

#[test]
fn rule182_a_panicking_cast_crashes_the_agent() {
    let rt = runtime(2);
    let probe: Probe<()> = Probe::spawn(&rt);
    let agent = Agent::start(&rt, || 1u8, StartOptions::new()).unwrap();
    let mref = probe.monitor(agent.pid().unwrap());
    agent.cast(|_| panic!("cast boom"));
    assert_receive!(probe, Received::Down(d) if d.mref == mref && is_panic(&d.reason, "cast boom"));
    finish(rt);
}

#[test]
fn rule182_a_linked_caller_dies_with_the_agent() {
    let rt = runtime(2);
    let probe: Probe<()> = Probe::spawn(&rt);
    let (caller, _) = host(&rt, false);
    let mref = probe.monitor(caller.pid());
    let h = rt.handle().clone();
    let err = in_host(&caller, move || {
        let agent = Agent::start_link(&h, || 0u8, StartOptions::new()).unwrap();
        agent.get(|_| -> u8 { panic!("agent down") }).unwrap_err()
    });
    // The call fails: with the agent's reason, or because the caller, hit
    // by the link, is already exiting itself.
    assert!(
        matches!(&err, CallError::Exited(r) if is_panic(r, "agent down"))
            || err.reason() == ExitReason::Killed,
        "{err:?}"
    );
    assert_receive!(probe, Received::Down(d) if d.mref == mref && is_panic(&d.reason, "agent down"));
    finish(rt);
}

/// Rule 182 with rule 2: `rotp_runtime::exit(reason)` in an agent's
/// function ends the agent with `reason`, not a panic: a waiting caller
/// gets it (from `update` and `get`), and so does a monitor after a cast.
#[test]
fn rule182_exit_in_a_function_ends_the_agent_with_its_reason() {
    for workers in WORKER_COUNTS {
        let rt = runtime(workers);
        let probe: Probe<()> = Probe::spawn(&rt);
        let reason = ExitReason::custom("agent gave up");

        let agent = Agent::start(&rt, || 1u8, StartOptions::new()).unwrap();
        let r = reason.clone();
        let err = agent.update(move |_| rotp_runtime::exit(r)).unwrap_err();
        assert_eq!(err, CallError::Exited(reason.clone()));
        assert_eq!(agent.exit_reason(), Some(reason.clone()));

        let agent = Agent::start(&rt, || 1u8, StartOptions::new()).unwrap();
        let err = agent
            .get(|_| -> u8 { rotp_runtime::exit(ExitReason::Shutdown) })
            .unwrap_err();
        assert_eq!(err, CallError::Exited(ExitReason::Shutdown));

        let agent = Agent::start(&rt, || 1u8, StartOptions::new()).unwrap();
        let mref = probe.monitor(agent.pid().unwrap());
        let r = reason.clone();
        agent.cast(move |_| rotp_runtime::exit(r));
        assert_receive!(probe, Received::Down(d) if d.mref == mref && d.reason == reason);
        finish(rt);
    }
}

// ---------------------------------------------------------------------------
// Rule 183: stop
// ---------------------------------------------------------------------------

#[test]
fn rule183_stop_with_a_reason_waits_for_the_exit() {
    for workers in WORKER_COUNTS {
        let rt = runtime(workers);
        let agent = Agent::start(&rt, || 0u8, StartOptions::new()).unwrap();
        assert_eq!(agent.stop(ExitReason::Normal, None), Ok(()));
        assert!(!agent.is_alive());
        assert_eq!(agent.exit_reason(), Some(ExitReason::Normal));
        assert_eq!(agent.stop(ExitReason::Normal, None), Err(StopError::NoProc));

        let agent = Agent::start(&rt, || 0u8, StartOptions::new()).unwrap();
        let reason = ExitReason::custom("done");
        assert_eq!(agent.stop(reason.clone(), Some(TIMEOUT)), Ok(()));
        assert_eq!(agent.exit_reason(), Some(reason));
        finish(rt);
    }
}

#[test]
fn agent_calls_inside_processes_do_not_pin_the_only_worker() {
    // One worker: a process calling an agent blocks only itself.
    let rt = runtime(1);
    let agent = Agent::start(&rt, || 0u32, StartOptions::new()).unwrap();
    let hosts: Vec<_> = (0..4).map(|_| host(&rt, false).0).collect();
    let results: Vec<_> = hosts
        .iter()
        .map(|h| {
            let a = agent.clone();
            let (tx, rx) = mpsc::channel();
            h.send(Box::new(move || {
                tx.send(a.get_and_update(|n| (n, n + 1)).unwrap()).unwrap();
            }));
            rx
        })
        .collect();
    let mut seen: Vec<u32> = results
        .into_iter()
        .map(|rx| rx.recv_timeout(TIMEOUT).unwrap())
        .collect();
    seen.sort_unstable();
    assert_eq!(seen, vec![0, 1, 2, 3]);
    finish(rt);
}
