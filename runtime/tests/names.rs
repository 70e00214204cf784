//! Registered names: rules 35-36 (one name per process, one process per
//! name, released on exit), 16 (released before anyone hears of the exit)
//! and 14 (sending to an unregistered name fails).

mod common;

use std::sync::mpsc::{self, Sender};

use common::*;
use rotp_runtime::testing::{wait_until, Probe, Received};
use rotp_runtime::{
    assert_receive, Context, Down, ExitReason, NamedSendError, Pid, Process, RegisterError,
};

/// Rule 35: names are 1:1. Registration fails if the name is taken, if the
/// process already has a name, or if the process is not alive; `whereis`
/// and `name_of` answer both ways; `unregister` frees the name.
#[test]
fn rule_35_names_are_one_to_one() {
    each_runtime(|rt| {
        let a = puppet(rt);
        let b = puppet(rt);
        let (ap, bp) = (a.pid(), b.pid());
        assert_eq!(rt.whereis("alpha"), None);
        rt.register("alpha", ap).unwrap();
        assert_eq!(rt.whereis("alpha"), Some(ap));
        assert_eq!(
            rt.name_of(ap).map(|n| n.to_string()),
            Some("alpha".to_owned())
        );
        assert_eq!(
            rt.register("alpha", bp),
            Err(RegisterError::NameTaken {
                name: "alpha".into(),
                holder: ap
            })
        );
        assert_eq!(
            rt.register("beta", ap),
            Err(RegisterError::AlreadyNamed {
                pid: ap,
                name: "alpha".into()
            })
        );
        assert_eq!(call(&b, |ctx| ctx.register("beta")), Ok(()));
        let mut all: Vec<(String, Pid)> = rt
            .registered()
            .into_iter()
            .map(|(n, p)| (n.to_string(), p))
            .collect();
        all.sort();
        assert_eq!(all, vec![("alpha".into(), ap), ("beta".into(), bp)]);
        assert_eq!(
            rt.process_info(ap).unwrap().name.map(|n| n.to_string()),
            Some("alpha".to_owned())
        );

        assert!(rt.unregister("alpha"));
        assert!(!rt.unregister("alpha"));
        assert_eq!(rt.whereis("alpha"), None);
        assert_eq!(rt.name_of(ap), None);
        rt.register("gamma", ap).unwrap(); // free to take another name
        rt.register("alpha", bp).unwrap_err(); // b still has "beta"

        // Dead or never existing processes cannot take a name.
        let watcher: Probe<()> = Probe::spawn(rt);
        let mref = watcher.monitor(bp);
        rt.kill(bp);
        assert_receive!(watcher, Received::Down(d) if d.mref == mref);
        assert_eq!(rt.register("delta", bp), Err(RegisterError::NoProc(bp)));
        assert_eq!(
            rt.register("delta", Pid::ROOT),
            Err(RegisterError::NoProc(Pid::ROOT))
        );
        assert_eq!(rt.whereis("delta"), None);
    });
}

/// Rules 35 and 17: a process that is exiting (killed while its handler
/// still runs) is not alive and cannot take a name.
#[test]
fn rule_35_an_exiting_process_cannot_register() {
    each_runtime(|rt| {
        let gate = Gate::new();
        let _open = gate.opener();
        let p = puppet(rt);
        hold_spinning(&p, &gate);
        rt.kill(p.pid());
        assert_eq!(
            rt.register("late", p.pid()),
            Err(RegisterError::NoProc(p.pid()))
        );
        assert_eq!(rt.whereis("late"), None);
    });
}

/// Rule 36: a name is released automatically when its process exits, for
/// any exit: normal, crash, kill.
#[test]
fn rule_36_names_are_released_on_exit() {
    each_runtime(|rt| {
        let watcher: Probe<()> = Probe::spawn(rt);
        for (i, how) in ["normal", "panic", "kill"].into_iter().enumerate() {
            let p = puppet(rt);
            let name = format!("n{i}");
            rt.register(name.as_str(), p.pid()).unwrap();
            let mref = watcher.monitor(p.pid());
            match how {
                "normal" => cast(&p, |ctx| ctx.exit(ExitReason::Normal)),
                "panic" => cast(&p, |_| panic!("named crash")),
                _ => rt.kill(p.pid()),
            }
            assert_receive!(watcher, Received::Down(d) if d.mref == mref);
            assert_eq!(rt.whereis(&name), None, "{how}");
            assert_eq!(rt.name_of(p.pid()), None, "{how}");
            assert!(rt.registered().iter().all(|(n, _)| n.as_str() != name));
            // The name is free for the next process.
            let q = puppet(rt);
            rt.register(name.as_str(), q.pid()).unwrap();
        }
    });
}

/// What an [`Heir`] is told.
enum HeirMsg {
    /// Watch this process: link while trapping exits, else monitor.
    Watch(Pid),
    /// Keep busy: an heir that is always running picks up a `DOWN` or
    /// `EXIT` on its own worker the moment it is queued, while the exiting
    /// process is still finishing its exit on another.
    Tick,
}

/// Takes over a name the moment it hears (by `DOWN` or by `EXIT`) that its
/// holder exited, and reports whether registering worked.
struct Heir {
    name: String,
    report: Sender<(Pid, Result<(), RegisterError>)>,
}

impl Heir {
    fn take_over(&mut self, from: Pid, ctx: &mut Context<'_, HeirMsg>) {
        let r = ctx.register(self.name.as_str());
        let _ = ctx.handle().unregister(&self.name);
        self.report.send((from, r)).unwrap();
    }
}

impl Process for Heir {
    type Message = HeirMsg;

    fn handle(&mut self, msg: HeirMsg, ctx: &mut Context<'_, HeirMsg>) {
        match msg {
            HeirMsg::Watch(pid) if ctx.traps_exit() => ctx.link(pid).unwrap(),
            HeirMsg::Watch(pid) => drop(ctx.monitor(pid)),
            HeirMsg::Tick => ctx.addr().send(HeirMsg::Tick),
        }
    }

    fn handle_down(&mut self, down: Down, ctx: &mut Context<'_, HeirMsg>) {
        self.take_over(down.pid, ctx);
    }

    fn handle_exit(&mut self, from: Pid, _reason: ExitReason, ctx: &mut Context<'_, HeirMsg>) {
        self.take_over(from, ctx);
    }
}

/// Rules 16 and 36: the name is released *before* links and monitors are
/// notified, so whoever receives the `DOWN` or the `EXIT` can register the
/// name at once. The heir is kept running (on its own worker when there
/// are several), so it handles the notification the moment it is queued;
/// a crowd of later monitors keeps the holder's exit busy notifying after
/// the heir's turn, so a release that came after the notifications would
/// be seen. Holders exit normally, crash, or are killed.
#[test]
fn rule_16_name_is_released_before_down_and_exit() {
    each_runtime(|rt| {
        let (tx, rx) = mpsc::channel();
        let by_down = rt.spawn(Heir {
            name: "throne".into(),
            report: tx,
        });
        let (tx, rx2) = mpsc::channel();
        let by_exit = rt.spawn_trapping(Heir {
            name: "crown".into(),
            report: tx,
        });
        if rt.workers() > 1 {
            by_down.send(HeirMsg::Tick);
            by_exit.send(HeirMsg::Tick);
        }
        let crowd = puppet(rt);
        for i in 0..30 {
            let (heir, name, rx) = if i % 2 == 0 {
                (&by_down, "throne", &rx)
            } else {
                (&by_exit, "crown", &rx2)
            };
            let holder = puppet(rt);
            let hp = holder.pid();
            rt.register(name, hp).unwrap();
            heir.send(HeirMsg::Watch(hp));
            // The heir watches first; then the crowd.
            assert!(wait_until(TIMEOUT, || rt.process_info(hp).is_some_and(
                |info| !info.monitored_by.is_empty() || !info.links.is_empty()
            )));
            call(&crowd, move |ctx| {
                for _ in 0..200 {
                    ctx.monitor(hp);
                }
            });
            match i % 3 {
                0 => cast(&holder, |ctx| ctx.exit(ExitReason::custom("abdicate"))),
                1 => cast(&holder, |_| panic!("regicide")),
                _ => rt.kill(hp),
            }
            let (from, result) = rx.recv_timeout(TIMEOUT).unwrap();
            assert_eq!(from, hp);
            assert_eq!(result, Ok(()), "iteration {i}: the name was still held");
        }
    });
}

/// Rule 14: sending to a name nobody holds fails at once and hands the
/// message back — before registration, after unregistration, and after the
/// holder exited. A name held by a process of another message type fails
/// too.
#[test]
fn rule_14_send_to_an_unregistered_name_fails() {
    each_runtime(|rt| {
        match rt.send_named("ghost", 5u32) {
            Err(NamedSendError::NotRegistered(name, msg)) => {
                assert_eq!((name.as_str(), msg), ("ghost", 5));
            }
            other => panic!("expected NotRegistered, got {other:?}"),
        }
        let probe: Probe<u32> = Probe::spawn(rt);
        rt.register("inbox", probe.pid()).unwrap();
        rt.send_named("inbox", 1u32).unwrap();
        assert_receive!(probe, Received::Message(1));
        assert_eq!(
            rt.whereis_addr::<u32>("inbox").map(|a| a.pid()),
            Some(probe.pid())
        );
        match rt.send_named("inbox", "text") {
            Err(NamedSendError::WrongType(name, msg)) => {
                assert_eq!((name.as_str(), msg), ("inbox", "text"))
            }
            other => panic!("expected WrongType, got {other:?}"),
        }
        assert!(rt.whereis_addr::<&str>("inbox").is_none());
        rt.unregister("inbox");
        assert!(matches!(
            rt.send_named("inbox", 2u32),
            Err(NamedSendError::NotRegistered(_, 2))
        ));

        let holder = puppet(rt);
        rt.register("holder", holder.pid()).unwrap();
        let mref = probe.monitor(holder.pid());
        rt.kill(holder.pid());
        assert_receive!(probe, Received::Down(d) if d.mref == mref);
        assert!(matches!(
            rt.send_named("holder", Job::new(|_| {})),
            Err(NamedSendError::NotRegistered(_, _))
        ));
        probe.refute_receive(QUIET, |_| true);
    });
}
