//! Spawning, sending and panics: rules 10-13 (ordering, dead pids), R2
//! (panics are abnormal exits), and the process table under churn.

mod common;

use std::panic::Location;
use std::sync::mpsc::{self, Sender};
use std::sync::{Arc, Barrier};

use common::*;
use rotp_runtime::testing::{wait_until, Probe, Received};
use rotp_runtime::{assert_receive, Context, ExitReason, PanicReason, Process, TrySendError};

/// Counts `(sender, seq)` messages and checks that each sender's sequence
/// numbers arrive in order, without gaps or duplicates.
struct Tally {
    next: Vec<u64>,
    count: u64,
    sum: u64,
    expected: u64,
    out_of_order: u64,
    done: Sender<(u64, u64, u64)>,
}

impl Process for Tally {
    type Message = (usize, u64);

    fn handle(&mut self, (sender, seq): (usize, u64), _ctx: &mut Context<'_, (usize, u64)>) {
        if self.next[sender] != seq {
            self.out_of_order += 1;
        }
        self.next[sender] = seq + 1;
        self.count += 1;
        self.sum += seq;
        if self.count == self.expected {
            let _ = self.done.send((self.count, self.sum, self.out_of_order));
        }
    }
}

/// Starts `threads` plain threads and `processes` processes that each send
/// `per_sender` numbered messages to one receiver, all at once; returns
/// (count, sum of sequence numbers, out-of-order arrivals) once the receiver
/// has counted `expected` messages.
fn flood(
    rt: &rotp_runtime::Runtime,
    threads: usize,
    processes: usize,
    per_sender: u64,
) -> (u64, u64, u64) {
    let senders = threads + processes;
    let expected = senders as u64 * per_sender;
    let (done_tx, done_rx) = mpsc::channel();
    let tally = rt.spawn(Tally {
        next: vec![0; senders],
        count: 0,
        sum: 0,
        expected,
        out_of_order: 0,
        done: done_tx,
    });
    let start = Arc::new(Barrier::new(threads + 1));
    let mut joins = Vec::new();
    for id in 0..threads {
        let (to, start) = (tally.clone(), start.clone());
        joins.push(std::thread::spawn(move || {
            start.wait();
            for seq in 0..per_sender {
                to.send((id, seq));
            }
        }));
    }
    let mut starters = Vec::new();
    for k in 0..processes {
        let id = threads + k;
        let to = tally.clone();
        starters.push(rt.spawn_fn(move |(): (), _ctx| {
            for seq in 0..per_sender {
                to.send((id, seq));
            }
        }));
    }
    for s in &starters {
        s.send(());
    }
    start.wait();
    for j in joins {
        j.join().unwrap();
    }
    let result = done_rx
        .recv_timeout(TIMEOUT * 4)
        .expect("the receiver counts every message");
    // Nothing beyond the expected count arrives later.
    assert!(
        wait_until(TIMEOUT, || rt
            .process_info(tally.pid())
            .is_some_and(|i| i.mailbox_len == 0)),
        "the receiver drains its mailbox"
    );
    result
}

/// Rules 10 and 12: messages from one sender are handled in the order they
/// were sent, whether the sender is a process or a plain thread; there is no
/// ordering between senders, so the receiver checks each sender separately.
#[test]
fn rule_10_12_messages_of_one_sender_arrive_in_send_order() {
    each_runtime(|rt| {
        let per_sender = 2_000;
        let (count, sum, out_of_order) = flood(rt, 3, 5, per_sender);
        assert_eq!(out_of_order, 0, "a sender's messages were reordered");
        assert_eq!(count, 8 * per_sender);
        assert_eq!(sum, 8 * (per_sender * (per_sender - 1) / 2));
    });
}

/// Rule 10 under contention: many concurrent senders, every message counted
/// exactly once (count and checksum), none lost, none duplicated.
#[test]
fn rule_10_no_message_lost_under_many_concurrent_senders() {
    each_runtime(|rt| {
        let per_sender = 2_500;
        let (count, sum, out_of_order) = flood(rt, 8, 16, per_sender);
        assert_eq!(count, 24 * per_sender);
        assert_eq!(sum, 24 * (per_sender * (per_sender - 1) / 2));
        assert_eq!(out_of_order, 0);
    });
}

/// Rule 11: a message a process sends before it exits is seen before the
/// `EXIT` (trapping, linked receiver) and before the `DOWN` (monitoring
/// receiver). Repeated so that a racy implementation shows.
#[test]
fn rule_11_message_sent_before_exit_is_seen_before_exit_and_down() {
    each_runtime(|rt| {
        let linked: Probe<u32> = Probe::spawn_trapping(rt);
        let watcher: Probe<u32> = Probe::spawn(rt);
        for i in 0..50u32 {
            let sender = puppet(rt);
            linked.link(sender.pid()).unwrap();
            let mref = watcher.monitor(sender.pid());
            let (to_linked, to_watcher) = (linked.addr().clone(), watcher.addr().clone());
            cast(&sender, move |ctx| {
                to_linked.send(i);
                to_watcher.send(i);
                ctx.exit(ExitReason::custom("done"));
            });
            assert!(wait_until(TIMEOUT, || linked.len() == 2 && watcher.len() == 2));
            assert_eq!(
                linked.drain(),
                vec![
                    Received::Message(i),
                    Received::Exit(sender.pid(), ExitReason::custom("done"))
                ]
            );
            match &watcher.drain()[..] {
                [Received::Message(m), Received::Down(d)] => {
                    assert_eq!(*m, i);
                    assert_eq!((d.mref, d.pid), (mref, sender.pid()));
                    assert_eq!(d.reason, ExitReason::custom("done"));
                }
                other => panic!("message must precede DOWN, got {other:?}"),
            }
        }
    });
}

/// Rule 13: sending to a process that has exited is silent; `try_send`
/// hands the message back; the pid no longer resolves.
#[test]
fn rule_13_send_to_exited_process_is_silent_and_hands_message_back() {
    each_runtime(|rt| {
        let watcher: Probe<()> = Probe::spawn(rt);
        let p = rt.spawn_fn(|n: u32, ctx| {
            if n == 0 {
                ctx.exit(ExitReason::Normal);
            }
        });
        let mref = watcher.monitor(p.pid());
        p.send(0);
        assert_receive!(watcher, Received::Down(d) if d.mref == mref);
        assert!(!p.is_alive());
        assert!(!rt.is_alive(p.pid()));
        p.send(7); // does not panic, goes nowhere
        assert_eq!(p.try_send(8), Err(TrySendError::Exited(8)));
        assert_eq!(p.try_send(9).unwrap_err().into_inner(), 9);
        assert!(rt.addr_of::<u32>(p.pid()).is_none());
        assert!(rt.process_info(p.pid()).is_none());
    });
}

/// Pid generations: a stale pid never reaches the process that reuses its
/// table slot (rule 13: a dead pid stays dead).
#[test]
fn stale_pid_does_not_reach_the_process_reusing_its_slot() {
    // "<0.index.generation>"
    fn slot(pid: rotp_runtime::Pid) -> String {
        let s = pid.to_string();
        let parts: Vec<&str> = s
            .trim_matches(|c| c == '<' || c == '>')
            .split('.')
            .collect();
        parts[1].to_owned()
    }
    each_runtime(|rt| {
        let watcher: Probe<Event> = Probe::spawn(rt);
        let old = puppet(rt);
        let old_pid = old.pid();
        let mref = watcher.monitor(old_pid);
        rt.kill(old_pid);
        assert_receive!(watcher, Received::Down(d) if d.mref == mref);
        // The test thread spawns into its own table shard, which reuses the
        // freed slot first.
        let mut successor = None;
        let mut others = Vec::new();
        for _ in 0..64 {
            let p = puppet(rt);
            if slot(p.pid()) == slot(old_pid) {
                successor = Some(p);
                break;
            }
            others.push(p);
        }
        let new = successor.expect("the freed slot is reused");
        assert_ne!(new.pid(), old_pid);
        assert!(!rt.is_alive(old_pid));
        assert!(rt.process_info(old_pid).is_none());
        rt.kill(old_pid);
        rt.send_exit(old_pid, ExitReason::custom("stale"));
        assert!(rt.addr_of::<Job>(old_pid).is_none());
        assert_answers(&new);
        assert!(new.is_alive());
        for p in others.iter().chain([&new]) {
            rt.kill(p.pid());
        }
    });
}

/// A process that exits in its `init`.
struct ExitAtOnce;

impl Process for ExitAtOnce {
    type Message = ();

    fn init(&mut self, ctx: &mut Context<'_, ()>) {
        ctx.exit(ExitReason::Normal);
    }

    fn handle(&mut self, (): (), _ctx: &mut Context<'_, ()>) {}
}

/// 100,000 processes spawned (half from outside, half from inside
/// processes) and exited: the spawn/exit counters match and the process
/// table is back to empty.
#[test]
fn hundred_thousand_processes_spawn_and_exit_leaving_an_empty_table() {
    each_runtime(|rt| {
        assert_eq!(rt.process_count(), 0);
        let before = rt.stats();
        const OUTSIDE: u64 = 50_000;
        const SPAWNERS: u64 = 10;
        const PER_SPAWNER: u64 = 5_000;
        for _ in 0..OUTSIDE {
            rt.spawn(ExitAtOnce);
        }
        for _ in 0..SPAWNERS {
            rt.spawn_fn(|(): (), ctx| {
                for _ in 0..PER_SPAWNER {
                    ctx.spawn(ExitAtOnce);
                }
                ctx.exit(ExitReason::Normal);
            })
            .send(());
        }
        let total = OUTSIDE + SPAWNERS * (PER_SPAWNER + 1);
        assert!(
            wait_until(TIMEOUT * 4, || rt.stats().exited - before.exited == total
                && rt.process_count() == 0),
            "every process exits: {:?}",
            rt.stats()
        );
        let after = rt.stats();
        assert_eq!(after.spawned - before.spawned, total);
        assert_eq!(after.processes, 0);
        assert!(rt.processes().is_empty());
    });
}

/// Panics with `msg`, reporting where (a `#[track_caller]` panic is located
/// at the caller, so the reported location is exactly the panic's).
#[track_caller]
fn panic_reporting_location(at: &Sender<String>, msg: String) -> ! {
    let l = Location::caller();
    at.send(format!("{}:{}:{}", l.file(), l.line(), l.column()))
        .unwrap();
    panic!("{msg}");
}

fn panic_reason(r: &ExitReason) -> &PanicReason {
    match r {
        ExitReason::Panic(p) => p,
        other => panic!("expected a panic reason, got {other:?}"),
    }
}

/// R2 (and rule 2): a panic in a handler ends the process with
/// `ExitReason::Panic` carrying the message and the exact location.
#[test]
fn r2_panic_in_handler_becomes_panic_reason_with_message_and_location() {
    each_runtime(|rt| {
        let watcher: Probe<()> = Probe::spawn(rt);
        let p = puppet(rt);
        let mref = watcher.monitor(p.pid());
        let (at_tx, at_rx) = mpsc::channel();
        cast(&p, move |_ctx| {
            panic_reporting_location(&at_tx, format!("boom {}", 42))
        });
        let down = match assert_receive!(watcher, Received::Down(d) if d.mref == mref) {
            Received::Down(d) => d,
            _ => unreachable!(),
        };
        let location = at_rx.recv_timeout(TIMEOUT).unwrap();
        assert!(location.contains("spawn_send.rs"), "{location}");
        let reason = panic_reason(&down.reason);
        assert_eq!(reason.message, "boom 42");
        assert_eq!(reason.location.as_deref(), Some(location.as_str()));
        assert!(!down.reason.is_normal_class());
    });
}

/// R2: `&'static str` and non-string payloads are converted too.
#[test]
fn r2_panic_payload_kinds_become_messages() {
    each_runtime(|rt| {
        let watcher: Probe<()> = Probe::spawn(rt);
        let a = puppet(rt);
        let b = puppet(rt);
        let ma = watcher.monitor(a.pid());
        let mb = watcher.monitor(b.pid());
        cast(&a, |_| panic!("a static message"));
        cast(&b, |_| std::panic::panic_any(7u32));
        for (mref, expected) in [(ma, "a static message"), (mb, "Box<dyn Any>")] {
            match assert_receive!(watcher, Received::Down(d) if d.mref == mref) {
                Received::Down(d) => {
                    let r = panic_reason(&d.reason);
                    assert_eq!(r.message, expected);
                    assert!(r
                        .location
                        .as_deref()
                        .is_some_and(|l| l.contains("spawn_send.rs")));
                }
                _ => unreachable!(),
            }
        }
    });
}

/// A process whose `init` panics.
struct PanicInInit;

impl Process for PanicInInit {
    type Message = ();

    fn init(&mut self, _ctx: &mut Context<'_, ()>) {
        panic!("init failed");
    }

    fn handle(&mut self, (): (), _ctx: &mut Context<'_, ()>) {
        unreachable!("init panicked");
    }
}

/// R2: a panic in `init` ends the process the same way.
#[test]
fn r2_panic_in_init_becomes_panic_reason() {
    each_runtime(|rt| {
        let events: Probe<Event> = Probe::spawn(rt);
        let parent = observed_puppet(rt, &events);
        let (child, mref) = call(&parent, |ctx| {
            let (child, mref) = ctx.spawn_monitor(PanicInInit);
            (child.pid(), mref)
        });
        match assert_receive!(events, Received::Message(Event::Down { down, .. }) if down.mref == mref)
        {
            Received::Message(Event::Down { down, .. }) => {
                assert_eq!(down.pid, child);
                assert_eq!(panic_reason(&down.reason).message, "init failed");
            }
            _ => unreachable!(),
        }
    });
}

/// State whose destructor panics.
struct PanicOnDrop;

impl Drop for PanicOnDrop {
    fn drop(&mut self) {
        panic!("drop failed");
    }
}

/// R2: panics are isolated. Many processes panic while a bystander keeps
/// its state and keeps answering, on every worker count including one; a
/// panic in the state's destructor at exit is contained too and does not
/// change the exit reason.
#[test]
fn r2_panics_are_isolated_from_other_processes_and_workers() {
    each_runtime(|rt| {
        let watcher: Probe<()> = Probe::spawn(rt);
        let (tx, rx) = mpsc::channel();
        let mut total = 0u64;
        let bystander = rt.spawn_fn(move |n: u64, _ctx| {
            total += n;
            tx.send(total).unwrap();
        });
        let mut mrefs = Vec::new();
        for i in 0..100u64 {
            let p = puppet(rt);
            mrefs.push((watcher.monitor(p.pid()), format!("crash {i}")));
            cast(&p, move |_| panic!("crash {i}"));
            bystander.send(1);
            assert_eq!(rx.recv_timeout(TIMEOUT).unwrap(), i + 1);
        }
        for (mref, message) in mrefs {
            assert_receive!(watcher, Received::Down(d) if d.mref == mref
                && matches!(&d.reason, ExitReason::Panic(p) if p.message == message));
        }
        // The state's destructor runs at exit; its panic is contained.
        struct DropPanicsAtExit(#[allow(dead_code)] PanicOnDrop);
        impl Process for DropPanicsAtExit {
            type Message = ();
            fn handle(&mut self, (): (), ctx: &mut Context<'_, ()>) {
                ctx.exit(ExitReason::custom("bye"));
            }
        }
        let p = rt.spawn(DropPanicsAtExit(PanicOnDrop));
        let mref = watcher.monitor(p.pid());
        p.send(());
        assert_receive!(watcher, Received::Down(d) if d.mref == mref && d.reason == ExitReason::custom("bye"));
        bystander.send(1);
        assert_eq!(rx.recv_timeout(TIMEOUT).unwrap(), 101);
    });
}

/// A process that panics on `Boom` and reports what its `handle_panic`
/// hook saw; the hook may replace the reason (`exit`) or panic itself.
struct Cleaner {
    seen: Sender<String>,
    then: AfterPanic,
}

#[derive(Clone, Copy)]
enum AfterPanic {
    Nothing,
    Exit,
    Panic,
}

impl Process for Cleaner {
    type Message = ();

    fn handle(&mut self, (): (), _ctx: &mut Context<'_, ()>) {
        panic!("handler boom");
    }

    fn handle_panic(&mut self, reason: &ExitReason, ctx: &mut Context<'_, ()>) {
        self.seen
            .send(panic_reason(reason).message.clone())
            .unwrap();
        match self.then {
            AfterPanic::Nothing => {}
            AfterPanic::Exit => ctx.exit(ExitReason::custom("cleaned")),
            AfterPanic::Panic => panic!("hook boom"),
        }
    }
}

/// R2: after a handler panics, `handle_panic` runs on the process with the
/// panic as the reason, before links and monitors hear of the exit; it can
/// replace the reason, and a panic in the hook replaces it too.
#[test]
fn r2_handle_panic_runs_before_the_exit_and_may_replace_the_reason() {
    each_runtime(|rt| {
        let watcher: Probe<()> = Probe::spawn(rt);
        for then in [AfterPanic::Nothing, AfterPanic::Exit, AfterPanic::Panic] {
            let (tx, rx) = mpsc::channel();
            let p = rt.spawn(Cleaner { seen: tx, then });
            let mref = watcher.monitor(p.pid());
            p.send(());
            let down = match assert_receive!(watcher, Received::Down(d) if d.mref == mref) {
                Received::Down(d) => d,
                _ => unreachable!(),
            };
            // The hook ran before the DOWN was sent.
            assert_eq!(rx.try_recv().as_deref(), Ok("handler boom"));
            match then {
                AfterPanic::Nothing => {
                    assert_eq!(panic_reason(&down.reason).message, "handler boom")
                }
                AfterPanic::Exit => assert_eq!(down.reason, ExitReason::custom("cleaned")),
                AfterPanic::Panic => assert_eq!(panic_reason(&down.reason).message, "hook boom"),
            }
        }
    });
}
