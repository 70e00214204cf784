//! Stress: 10,000 processes with random links and monitors, random panics,
//! exits and kills (rules 4-6, 10, 19, 23, 27, 29, R2), driven by a seeded
//! PRNG. Every `EXIT` and `DOWN` an observer is owed arrives exactly once,
//! with one consistent reason per process; no process ever handles a
//! duplicate; the process table empties.

mod common;

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::*;
use rotp_runtime::testing::{wait_until, Probe, Received};
use rotp_runtime::{Addr, Context, Down, ExitReason, MonitorRef, Pid, Process, Runtime};

const PROCESSES: usize = 10_000;
const OBSERVERS: usize = 8;
const SEED: u64 = 0x5EED_CAFE;

/// What the chaos processes are told to do.
enum Cmd {
    Panic,
    Exit(ExitReason),
    Kill(Pid),
    Monitor(Pid),
}

/// What the chaos processes themselves saw, checked for duplicates.
#[derive(Default)]
struct Book {
    /// Monitors held by chaos processes: ref → target.
    monitors: Mutex<HashMap<MonitorRef, Pid>>,
    downs: Mutex<HashSet<MonitorRef>>,
    /// (receiver, sender) of link `EXIT`s handled by trapping processes.
    exits: Mutex<HashSet<(Pid, Pid)>>,
    violations: Mutex<Vec<String>>,
}

struct Chaos {
    id: usize,
    book: Arc<Book>,
}

impl Process for Chaos {
    type Message = Cmd;

    fn handle(&mut self, cmd: Cmd, ctx: &mut Context<'_, Cmd>) {
        match cmd {
            Cmd::Panic => panic!("chaos {}", self.id),
            Cmd::Exit(reason) => ctx.exit(reason),
            Cmd::Kill(pid) => ctx.kill(pid),
            Cmd::Monitor(pid) => {
                let mref = ctx.monitor(pid);
                self.book.monitors.lock().unwrap().insert(mref, pid);
            }
        }
    }

    fn handle_exit(&mut self, from: Pid, reason: ExitReason, ctx: &mut Context<'_, Cmd>) {
        // Explicit signals come from the test thread (ROOT); an EXIT from a
        // process can only be its link's, and a pair has one link (rule 18).
        if from != Pid::ROOT && !self.book.exits.lock().unwrap().insert((ctx.pid(), from)) {
            let v = format!("{} got a second EXIT from {from} ({reason})", ctx.pid());
            self.book.violations.lock().unwrap().push(v);
        }
    }

    fn handle_down(&mut self, down: Down, ctx: &mut Context<'_, Cmd>) {
        let mut v = Vec::new();
        if !self.book.downs.lock().unwrap().insert(down.mref) {
            v.push(format!("{} got a second DOWN for {}", ctx.pid(), down.mref));
        }
        let target = self.book.monitors.lock().unwrap().get(&down.mref).copied();
        if target != Some(down.pid) {
            v.push(format!(
                "{}: DOWN {:?} for a monitor on {target:?}",
                ctx.pid(),
                down
            ));
        }
        self.book.violations.lock().unwrap().extend(v);
    }
}

fn random_reason(rng: &mut Rng, id: usize) -> ExitReason {
    match rng.below(4) {
        0 => ExitReason::Normal,
        1 => ExitReason::Shutdown,
        2 => ExitReason::shutdown_with(id),
        _ => ExitReason::custom(format!("bye {id}")),
    }
}

fn run_chaos(rt: &Runtime, seed: u64) {
    let mut rng = Rng::new(seed);
    let baseline = rt.process_count();
    let before = rt.stats();
    let book = Arc::new(Book::default());
    let observers: Vec<Probe<()>> = (0..OBSERVERS).map(|_| Probe::spawn_trapping(rt)).collect();

    // Spawn; a quarter trap exits.
    let procs: Vec<Addr<Cmd>> = (0..PROCESSES)
        .map(|id| {
            let chaos = Chaos {
                id,
                book: book.clone(),
            };
            if rng.chance(25) {
                rt.spawn_trapping(chaos)
            } else {
                rt.spawn(chaos)
            }
        })
        .collect();
    let pids: Vec<Pid> = procs.iter().map(Addr::pid).collect();
    let id_of: HashMap<Pid, usize> = pids.iter().enumerate().map(|(i, p)| (*p, i)).collect();

    // Every process is linked to one observer and monitored by it once or
    // twice: these notifications are owed exactly once.
    let mut owed_monitors: HashMap<MonitorRef, Pid> = HashMap::new();
    for (i, &pid) in pids.iter().enumerate() {
        let obs = &observers[i % OBSERVERS];
        obs.link(pid).expect("nobody has died yet");
        for _ in 0..1 + rng.below(2) {
            owed_monitors.insert(obs.monitor(pid), pid);
        }
    }
    // Random links among the processes, 0-2 per process, mostly within
    // groups of 20 so that cascades stay local, sometimes across.
    const GROUP: usize = 20;
    for (i, &pid) in pids.iter().enumerate() {
        for _ in 0..rng.below(3) {
            let peer = if rng.chance(2) {
                pids[rng.below(PROCESSES)]
            } else {
                pids[i / GROUP * GROUP + rng.below(GROUP)]
            };
            rt.link_pids(pid, peer).expect("nobody has died yet");
        }
    }
    // Monitors between the processes, 1-2 each, in place before the chaos.
    let mut monitors = 0;
    for p in &procs {
        for _ in 0..1 + rng.below(2) {
            p.send(Cmd::Monitor(pids[rng.below(PROCESSES)]));
            monitors += 1;
        }
    }
    assert!(wait_until(TIMEOUT * 2, || book
        .monitors
        .lock()
        .unwrap()
        .len()
        == monitors));

    // Chaos, in random order: monitors between processes, panics, exits,
    // kills from outside and from inside, explicit exit signals.
    for _ in 0..PROCESSES {
        let i = rng.below(PROCESSES);
        let p = &procs[i];
        match rng.below(40) {
            0..=5 => p.send(Cmd::Monitor(pids[rng.below(PROCESSES)])),
            6..=11 => p.send(Cmd::Panic),
            12..=17 => p.send(Cmd::Exit(random_reason(&mut rng, i))),
            18 => rt.kill(p.pid()),
            19 => p.send(Cmd::Kill(pids[rng.below(PROCESSES)])),
            20..=22 => rt.send_exit(p.pid(), random_reason(&mut rng, i)),
            _ => {}
        }
    }
    // Let the chaos play out (no slice for 20 ms), then kill everything
    // left.
    let slices = || rt.stats().workers.iter().map(|w| w.slices).sum::<u64>();
    let mut last = (slices(), Instant::now());
    assert!(wait_until(TIMEOUT, || {
        let now = slices();
        if now != last.0 {
            last = (now, Instant::now());
        }
        last.1.elapsed() > Duration::from_millis(20)
    }));
    for &pid in &pids {
        if rng.chance(50) {
            rt.kill(pid);
        }
    }
    for &pid in pids.iter().rev() {
        rt.kill(pid);
    }

    // Every owed notification arrives, and nothing more.
    let owed = PROCESSES + owed_monitors.len();
    let total = || observers.iter().map(Probe::len).sum::<usize>();
    assert!(
        wait_until(TIMEOUT * 6, || total() >= owed),
        "owed {owed}, received {}",
        total()
    );
    assert!(!wait_until(QUIET, || total() > owed), "extra notifications");
    let received: Vec<Vec<Received<()>>> = observers.iter().map(Probe::drain).collect();
    assert_eq!(
        received.iter().map(Vec::len).sum::<usize>(),
        owed,
        "extra notifications"
    );

    // Exactly once each, from the right process, one reason per process.
    let mut exit_reason: HashMap<Pid, ExitReason> = HashMap::new();
    let mut downs_seen: HashSet<MonitorRef> = HashSet::new();
    let mut down_reasons: Vec<(Pid, ExitReason)> = Vec::new();
    for (o, entries) in received.into_iter().enumerate() {
        for entry in entries {
            match entry {
                Received::Exit(from, reason) => {
                    let id = id_of[&from];
                    assert_eq!(
                        id % OBSERVERS,
                        o,
                        "EXIT from a process not linked to observer {o}"
                    );
                    assert!(
                        exit_reason.insert(from, reason).is_none(),
                        "second EXIT from {from}"
                    );
                }
                Received::Down(d) => {
                    assert_eq!(
                        owed_monitors.get(&d.mref),
                        Some(&d.pid),
                        "unknown DOWN {d:?}"
                    );
                    assert!(downs_seen.insert(d.mref), "second DOWN {d:?}");
                    down_reasons.push((d.pid, d.reason));
                }
                Received::Message(_) => panic!("observers get no messages"),
            }
        }
    }
    assert_eq!(exit_reason.len(), PROCESSES);
    assert_eq!(downs_seen.len(), owed_monitors.len());
    for (pid, reason) in down_reasons {
        assert_eq!(exit_reason[&pid], reason, "DOWN and EXIT of {pid} disagree");
    }
    let mut by_kind: HashMap<&'static str, usize> = HashMap::new();
    for (pid, reason) in &exit_reason {
        let kind = match reason {
            ExitReason::Panic(p) => {
                // A panic is the process's own (cascades carry it on, rule 23).
                let origin = p.message.strip_prefix("chaos ").expect("a chaos panic");
                assert!(
                    origin.parse::<usize>().is_ok_and(|n| n < PROCESSES),
                    "{pid}: {p:?}"
                );
                "panic"
            }
            ExitReason::Killed => "killed",
            ExitReason::Normal => "normal",
            ExitReason::Shutdown | ExitReason::ShutdownWith(_) => "shutdown",
            ExitReason::Custom(_) => "custom",
            other => panic!("{pid}: unexpected reason {other:?}"),
        };
        *by_kind.entry(kind).or_default() += 1;
    }
    for kind in ["panic", "killed", "shutdown", "custom"] {
        assert!(
            by_kind.get(kind).is_some_and(|&n| n > 0),
            "no {kind} exits: {by_kind:?}"
        );
    }
    let violations = book.violations.lock().unwrap();
    assert!(
        violations.is_empty(),
        "{} violations, e.g. {:?}",
        violations.len(),
        &violations[..violations.len().min(5)]
    );
    eprintln!(
        "worker monitors {} downs {} exits {}",
        book.monitors.lock().unwrap().len(),
        book.downs.lock().unwrap().len(),
        book.exits.lock().unwrap().len()
    );
    assert!(!book.downs.lock().unwrap().is_empty());

    // The table empties.
    for o in &observers {
        rt.kill(o.pid());
    }
    assert!(
        wait_until(TIMEOUT, || rt.process_count() == baseline),
        "{} processes left",
        rt.process_count()
    );
    // A process leaves the table before its exit is counted.
    let all = (PROCESSES + OBSERVERS) as u64;
    assert!(
        wait_until(TIMEOUT, || rt.stats().exited - before.exited == all),
        "{} exits counted",
        rt.stats().exited - before.exited
    );
    let after = rt.stats();
    assert_eq!(after.spawned - before.spawned, all);
    eprintln!("exit reasons: {by_kind:?}");
}

/// Rules 4-6, 10, 19, 23, 27, 29 and R2 under load, at 1, 2 and 8 workers.
#[test]
fn stress_random_links_monitors_panics_and_kills() {
    each_runtime(|rt| run_chaos(rt, SEED ^ rt.workers() as u64));
}
