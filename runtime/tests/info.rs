//! Introspection: `process_info` (every field), `processes`,
//! `process_count` and `stats`; rule 17 (an exiting process is listed but
//! not alive).

mod common;

use std::sync::mpsc;
use std::time::Duration;

use common::*;
use rotp_runtime::testing::{wait_until, Probe, Received};
use rotp_runtime::{assert_receive, Builder, ExitReason, Pid, Status};

/// `process_info` of an idle process: identity, parent, relations, flags,
/// counters and type.
#[test]
fn process_info_reports_identity_relations_and_counters() {
    each_runtime(|rt| {
        let events: Probe<Event> = Probe::spawn(rt);
        let parent = puppet(rt);
        let child = call(&parent, |ctx| ctx.spawn(Puppet { observer: None }));
        let (pp, cp) = (parent.pid(), child.pid());
        let other = rt.spawn_trapping(Puppet { observer: None }); // survives cp
        let op = other.pid();
        call(&child, move |ctx| {
            ctx.link(op).unwrap();
            ctx.monitor(op);
            ctx.trap_exit(true);
        });
        let mref = events.monitor(cp);
        rt.register("kid", cp).unwrap();
        // Idle after its one job: counted (as it started), then waiting,
        // then its slice's reductions published.
        assert!(wait_until(TIMEOUT, || {
            let info = rt.process_info(cp).unwrap();
            info.handled == 1 && info.status == Status::Waiting && info.reductions >= 1
        }));

        let info = rt.process_info(cp).unwrap();
        assert_eq!(info.pid, cp);
        assert_eq!(info.name.as_ref().map(|n| n.as_str()), Some("kid"));
        assert_eq!(info.status, Status::Waiting);
        assert_eq!(info.parent, pp);
        assert_eq!(info.mailbox_len, 0);
        assert_eq!(info.handled, 1, "init does not count; the job does");
        assert!(info.reductions >= info.handled);
        assert_eq!(info.links, vec![op]);
        assert_eq!(info.monitors, vec![op]);
        assert_eq!(info.monitored_by, vec![events.pid()]);
        assert!(info.trap_exit);
        assert_eq!(info.current_handler_time, None);
        assert!(info.type_name.ends_with("Puppet"), "{}", info.type_name);

        let root = rt.process_info(pp).unwrap();
        assert_eq!(root.parent, Pid::ROOT);
        assert_eq!(root.name, None);
        assert!(root.links.is_empty() && root.monitors.is_empty());
        assert!(!root.trap_exit);
        let o = rt.process_info(op).unwrap();
        assert_eq!((o.links, o.monitored_by), (vec![cp], vec![cp]));

        rt.kill(cp);
        assert_receive!(events, Received::Down(d) if d.mref == mref);
        assert!(rt.process_info(cp).is_none());
        let o = rt.process_info(op).unwrap();
        assert!(o.links.is_empty() && o.monitored_by.is_empty());
    });
}

/// `status`: `Running` while a handler runs (seen from inside), `Runnable`
/// while queued behind busy workers, `Waiting` when idle, `Exiting` once
/// killed but still in its handler (rule 17: listed, not alive).
#[test]
fn process_info_status_follows_the_process() {
    each_runtime_with(
        |b| b.watchdog_threshold(None),
        |rt| {
            let p = puppet(rt);
            let pp = p.pid();
            assert_eq!(
                call(&p, move |ctx| ctx.handle().process_info(pp).unwrap().status),
                Status::Running
            );
            assert!(wait_until(TIMEOUT, || rt.process_info(pp).unwrap().status
                == Status::Waiting));

            // Every worker busy (no watchdog to cover): a new message leaves
            // `p` runnable, with one entry in its mailbox.
            let gate = Gate::new();
            let _open = gate.opener();
            let held: Vec<_> = (0..rt.workers()).map(|_| puppet(rt)).collect();
            let (tx, rx) = mpsc::channel();
            for h in &held {
                let (g, tx) = (gate.clone(), tx.clone());
                cast(h, move |_| {
                    tx.send(()).unwrap();
                    g.spin();
                });
            }
            for _ in &held {
                rx.recv_timeout(TIMEOUT).unwrap();
            }
            cast(&p, |_| {});
            let info = rt.process_info(pp).unwrap();
            assert_eq!((info.status, info.mailbox_len), (Status::Runnable, 1));
            for h in &held {
                assert_eq!(rt.process_info(h.pid()).unwrap().status, Status::Running);
            }
            rt.kill(held[0].pid());
            let info = rt.process_info(held[0].pid()).expect("still listed");
            assert_eq!(info.status, Status::Exiting);
            assert!(!rt.is_alive(held[0].pid()));
            assert!(rt.processes().contains(&held[0].pid()));
            gate.open();
            assert!(wait_until(TIMEOUT, || rt
                .process_info(held[0].pid())
                .is_none()));
            assert!(wait_until(TIMEOUT, || rt.process_info(pp).unwrap().status
                == Status::Waiting));
        },
    );
}

/// `mailbox_len` counts what waits behind a running handler;
/// `current_handler_time` appears once the watchdog has seen a long
/// handler, and grows.
#[test]
fn process_info_mailbox_len_and_current_handler_time() {
    each_runtime_with(
        |b| b.watchdog_threshold(Some(Duration::from_millis(10))),
        |rt| {
            let gate = Gate::new();
            let _open = gate.opener();
            let p = puppet(rt);
            hold_spinning(&p, &gate);
            for _ in 0..3 {
                cast(&p, |_| {});
            }
            assert_eq!(rt.process_info(p.pid()).unwrap().mailbox_len, 3);
            assert!(wait_until(TIMEOUT, || rt
                .process_info(p.pid())
                .unwrap()
                .current_handler_time
                .is_some()));
            let first = rt
                .process_info(p.pid())
                .unwrap()
                .current_handler_time
                .unwrap();
            assert!(wait_until(TIMEOUT, || rt
                .process_info(p.pid())
                .unwrap()
                .current_handler_time
                .is_some_and(|t| t > first)));
            gate.open();
            assert!(wait_until(TIMEOUT, || {
                let i = rt.process_info(p.pid()).unwrap();
                i.mailbox_len == 0 && i.current_handler_time.is_none() && i.handled == 4
            }));
        },
    );
}

/// `reductions` grows by one per handled entry plus what handlers charge
/// with `consume`.
#[test]
fn process_info_reductions_count_consume() {
    each_runtime(|rt| {
        let p = puppet(rt);
        assert_answers(&p);
        assert!(wait_until(TIMEOUT, || rt
            .process_info(p.pid())
            .unwrap()
            .handled
            == 1));
        let before = rt.process_info(p.pid()).unwrap().reductions;
        call(&p, |ctx| ctx.consume(1_000));
        assert!(wait_until(TIMEOUT, || {
            let i = rt.process_info(p.pid()).unwrap();
            i.handled == 2 && i.reductions >= before + 1_001
        }));
        // (`before` may predate the first slice's own count by one.)
        let after = rt.process_info(p.pid()).unwrap().reductions;
        assert!(
            (1_001..=1_002).contains(&(after - before)),
            "{}",
            after - before
        );
    });
}

/// `processes` and `process_count` list exactly the processes in the table.
#[test]
fn processes_lists_the_live_processes() {
    each_runtime(|rt| {
        assert_eq!(rt.process_count(), 0);
        assert!(rt.processes().is_empty());
        let ps: Vec<_> = (0..10).map(|_| puppet(rt)).collect();
        let mut listed = rt.processes();
        listed.sort();
        let mut expected: Vec<Pid> = ps.iter().map(|p| p.pid()).collect();
        expected.sort();
        assert_eq!(listed, expected);
        assert_eq!(rt.process_count(), 10);
        let watcher: Probe<()> = Probe::spawn(rt);
        let mref = watcher.monitor(ps[3].pid());
        cast(&ps[3], |ctx| ctx.exit(ExitReason::Normal));
        assert_receive!(watcher, Received::Down(d) if d.mref == mref);
        assert!(!rt.processes().contains(&ps[3].pid()));
        assert_eq!(rt.process_count(), 10, "nine puppets and the watcher");
    });
}

/// `stats`: one entry per worker, spawn and exit counters, live processes
/// and armed timers.
#[test]
fn stats_count_workers_processes_and_timers() {
    each_runtime_with(Builder::virtual_clock, |rt| {
        let s = rt.stats();
        assert_eq!(s.workers.len(), rt.workers());
        assert_eq!((s.spawned, s.exited, s.processes, s.timers), (0, 0, 0, 0));
        let ps: Vec<_> = (0..5).map(|_| puppet(rt)).collect();
        for p in &ps {
            assert_answers(p);
        }
        for p in &ps[..2] {
            cast(p, |ctx| ctx.exit(ExitReason::Normal));
        }
        assert!(wait_until(TIMEOUT, || rt.stats().exited == 2));
        let s = rt.stats();
        assert_eq!((s.spawned, s.exited, s.processes), (5, 2, 3));
        assert!(s.workers.iter().map(|w| w.slices).sum::<u64>() >= 5);
        let t = rt.send_after(&ps[2], Duration::from_secs(1), Job::new(|_| {}));
        rt.send_after(&ps[3], Duration::from_secs(2), Job::new(|_| {}));
        assert_eq!(rt.stats().timers, 2);
        rt.cancel_timer(t);
        assert_eq!(rt.stats().timers, 1);
        rt.advance(Duration::from_secs(2));
        assert_eq!(rt.stats().timers, 0);
    });
}
