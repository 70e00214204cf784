//! Casts, infos and ordering: rules 69-71.

mod common;

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst};
use std::sync::Arc;
use std::time::Duration;

use common::*;
use rotp_gen_server::{noreply, start, ServerRef, StartOptions};
use rotp_runtime::testing::Probe;
use rotp_runtime::ExitReason;

/// Rule 69: `cast`, `try_cast` and `send_info` return at once whether or
/// not the server exists: an unregistered name, an unknown via key, a
/// server that has exited.
#[test]
fn rule_69_cast_never_fails() {
    each_runtime(|rt| {
        let probe = Probe::spawn(rt);
        let registry = TestRegistry::new();
        let dead = puppet(rt, &probe);
        dead.stop(ExitReason::Normal, None).unwrap();
        let targets = [
            ServerRef::<Puppet>::named(rt, "r69-nobody"),
            ServerRef::<Puppet>::named(rt, registry.name("r69-nobody")),
            dead,
        ];
        for target in targets {
            target.cast(job(|_, _| unreachable!("nobody handles this")));
            assert_eq!(
                target.try_cast(job(|_, _| unreachable!("nobody handles this"))),
                Ok(())
            );
            target.send_info(Note::Tag("lost"));
        }
        refute_event(&probe, |e| *e == Ev::Info("lost"));
    });
}

/// Rule 70: calls, casts and infos from one client — a thread or a process
/// — are handled in the order the client sent them.
#[test]
fn rule_70_one_clients_requests_are_handled_in_send_order() {
    each_runtime(|rt| {
        let probe = Probe::spawn(rt);
        let client = host(rt, &probe);
        for in_process in [false, true] {
            let server = puppet(rt, &probe);
            let s = server.clone();
            let send_all = move || {
                for i in 0..300_u32 {
                    let entry = move |p: &mut Puppet| p.log.push(i.to_string());
                    match i % 3 {
                        0 => s.cast(job(move |p, _| {
                            entry(p);
                            noreply()
                        })),
                        1 => s.send_info(Note::Run(job(move |p, _| {
                            entry(p);
                            noreply()
                        }))),
                        _ => {
                            s.call(call_job(move |p, r, _| {
                                entry(p);
                                answer(r, ())
                            }))
                            .map(|_| ())
                            .unwrap();
                        }
                    }
                }
            };
            if in_process {
                in_host(&client, move |_| send_all());
            } else {
                bounded(send_all);
            }
            let log = ask(&server, |p, _| p.log.clone());
            let expected: Vec<String> = (0..300).map(|i: u32| i.to_string()).collect();
            assert_eq!(log, expected, "in a process: {in_process}");
        }
    });
}

/// Rule 70: the server handles one message at a time: casts from many
/// concurrent clients never overlap, and none is lost.
#[test]
fn rule_70_one_message_at_a_time() {
    each_runtime(|rt| {
        let probe = Probe::spawn(rt);
        let server = puppet(rt, &probe);
        let busy = Arc::new(AtomicBool::new(false));
        let overlaps = Arc::new(AtomicUsize::new(0));
        let clients: Vec<_> = (0..8)
            .map(|_| {
                let (s, busy, overlaps) = (server.clone(), busy.clone(), overlaps.clone());
                in_thread(move || {
                    for _ in 0..200 {
                        let (busy, overlaps) = (busy.clone(), overlaps.clone());
                        s.cast(job(move |p, _| {
                            if busy.swap(true, SeqCst) {
                                overlaps.fetch_add(1, SeqCst);
                            }
                            let seen = p.count;
                            std::thread::yield_now();
                            p.count = seen + 1;
                            busy.store(false, SeqCst);
                            noreply()
                        }));
                    }
                })
            })
            .collect();
        for c in &clients {
            finished(c);
        }
        assert_eq!(ask(&server, |p, _| p.count), 1600);
        assert_eq!(overlaps.load(SeqCst), 0);
    });
}

/// Rule 71: plain messages reach `handle_info`: messages sent with
/// `send_info`, EXITs from linked processes other than the parent while
/// trapping, DOWNs of monitored processes, and timer messages
/// (`Ctx::send_after`); `Ctx::cast_after` reaches `handle_cast`, and a
/// cancelled timer delivers nothing.
#[test]
fn rule_71_plain_messages_reach_handle_info() {
    each_virtual_runtime(|rt| {
        let probe = Probe::spawn(rt);
        let s = script_with(&probe, |p, ctx| {
            ctx.trap_exit(true);
            rotp_gen_server::Init::ok(p)
        });
        let server = start::<Puppet>(rt, s, StartOptions::new()).unwrap();

        info(&server, "hello");
        expect_event(&probe, |e| *e == Ev::Info("hello"));

        let linked = host(rt, &probe);
        let watched = host(rt, &probe);
        let (l, w) = (linked.pid(), watched.pid());
        let mref = ask(&server, move |_, ctx| {
            ctx.link(l).unwrap();
            ctx.monitor(w)
        });
        host_cast(&linked, |ctx| ctx.exit(ExitReason::custom("linked died")));
        expect_event(&probe, |e| {
            *e == Ev::Exit(l, ExitReason::custom("linked died"))
        });
        host_cast(&watched, |ctx| ctx.exit(ExitReason::custom("watched died")));
        expect_event(
            &probe,
            |e| matches!(e, Ev::Down(d) if d.mref == mref && d.pid == w && d.reason == ExitReason::custom("watched died")),
        );

        let cancelled = ask(&server, |_, ctx| {
            ctx.send_after(Duration::from_secs(1), Note::Tag("timer"));
            ctx.cast_after(
                Duration::from_secs(2),
                job(|p, _| {
                    p.report(Ev::Mark("cast timer"));
                    noreply()
                }),
            );
            let t = ctx.send_after(Duration::from_secs(3), Note::Tag("cancelled"));
            ctx.cancel_timer(t)
        });
        assert_eq!(cancelled, Some(Duration::from_secs(3)));
        rt.advance(Duration::from_secs(1));
        expect_event(&probe, |e| *e == Ev::Info("timer"));
        rt.advance(Duration::from_secs(1));
        expect_event(&probe, |e| *e == Ev::Mark("cast timer"));
        rt.advance(Duration::from_secs(1));
        refute_event(&probe, |e| *e == Ev::Info("cancelled"));
        assert!(server.is_alive());
    });
}
