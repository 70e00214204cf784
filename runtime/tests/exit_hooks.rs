//! Exit hooks (`Handle::on_exit`): clean-up that runs in a process's exit,
//! after its state is dropped and its name released, before its links and
//! monitors hear of the exit (rule 16 extended to other registries).

mod common;

use std::sync::mpsc;
use std::sync::Arc;

use common::{each_runtime, puppet, TIMEOUT};
use rotp_runtime::testing::{wait_until, Probe, Received};
use rotp_runtime::{Context, Down, ExitReason, Process};

/// A process that says so when its state is dropped.
struct Dropper(mpsc::Sender<&'static str>);

impl Drop for Dropper {
    fn drop(&mut self) {
        let _ = self.0.send("state dropped");
    }
}

impl Process for Dropper {
    type Message = ExitReason;
    fn handle(&mut self, reason: ExitReason, ctx: &mut Context<'_, ExitReason>) {
        ctx.exit(reason);
    }
}

/// A watcher that says so when a `DOWN` or `EXIT` reaches it.
struct Watcher(mpsc::Sender<&'static str>);

impl Process for Watcher {
    type Message = rotp_runtime::Pid;
    fn handle(&mut self, pid: rotp_runtime::Pid, ctx: &mut Context<'_, rotp_runtime::Pid>) {
        ctx.monitor(pid);
        ctx.link(pid).unwrap();
        let _ = self.0.send("watching");
    }
    fn handle_down(&mut self, _: Down, _: &mut Context<'_, rotp_runtime::Pid>) {
        let _ = self.0.send("down");
    }
    fn handle_exit(
        &mut self,
        _: rotp_runtime::Pid,
        _: ExitReason,
        _: &mut Context<'_, rotp_runtime::Pid>,
    ) {
        let _ = self.0.send("exit");
    }
}

#[test]
fn rule_16_hooks_run_after_the_state_and_the_name_and_before_links_and_monitors() {
    each_runtime(|rt| {
        let (tx, rx) = mpsc::channel();
        let p = rt.spawn(Dropper(tx.clone()));
        rt.register("hooked", p.pid()).unwrap();
        let watcher = rt.spawn_trapping(Watcher(tx.clone()));
        watcher.send(p.pid());
        assert_eq!(rx.recv_timeout(TIMEOUT).unwrap(), "watching");
        let h = rt.handle().clone();
        let hook_tx = tx.clone();
        rt.on_exit(p.pid(), move |pid, reason| {
            assert_eq!(*reason, ExitReason::custom("boom"));
            // The name went first.
            assert_eq!(h.whereis("hooked"), None);
            assert!(!h.is_alive(pid));
            hook_tx.send("hook").unwrap();
        })
        .unwrap();
        p.send(ExitReason::custom("boom"));
        let mut seen: Vec<&str> = (0..4).map(|_| rx.recv_timeout(TIMEOUT).unwrap()).collect();
        // DOWN and EXIT may come in either order; both after the hook.
        seen[2..].sort_unstable();
        assert_eq!(seen, ["state dropped", "hook", "down", "exit"]);
        rt.kill(watcher.pid());
    });
}

#[test]
fn hooks_run_in_order_once_and_a_panicking_one_does_not_stop_the_others() {
    each_runtime(|rt| {
        let probe = Probe::<u32>::spawn(rt);
        let p = puppet(rt);
        for i in 0..3u32 {
            let to = probe.addr().clone();
            rt.on_exit(p.pid(), move |_, _| {
                if i == 1 {
                    panic!("hook {i} fails");
                }
                to.send(i);
            })
            .unwrap();
        }
        let watcher = Probe::<()>::spawn(rt);
        let mref = watcher.monitor(p.pid());
        rt.kill(p.pid());
        assert_eq!(probe.assert_message(TIMEOUT), 0);
        assert_eq!(probe.assert_message(TIMEOUT), 2);
        // The exit completes with its own reason, whatever the hook did.
        let down = watcher.assert_receive(TIMEOUT, |r| matches!(r, Received::Down(_)));
        assert!(
            matches!(down, Received::Down(d) if d.mref == mref && d.reason == ExitReason::Killed)
        );
        probe.refute_receive(common::QUIET, |_| true);
    });
}

#[test]
fn a_cancelled_hook_does_not_run_and_an_exited_process_takes_none() {
    each_runtime(|rt| {
        let ran = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let p = puppet(rt);
        let r = ran.clone();
        let hook = rt
            .on_exit(p.pid(), move |_, _| {
                r.store(true, std::sync::atomic::Ordering::SeqCst)
            })
            .unwrap();
        assert!(rt.cancel_exit_hook(p.pid(), hook));
        assert!(!rt.cancel_exit_hook(p.pid(), hook));
        rt.kill(p.pid());
        assert!(wait_until(TIMEOUT, || !rt.is_alive(p.pid())));
        assert_eq!(rt.await_exit(&p, Some(TIMEOUT)), Some(ExitReason::Killed));
        assert!(!ran.load(std::sync::atomic::Ordering::SeqCst));
        assert!(rt.on_exit(p.pid(), |_, _| {}).is_err());
        assert!(!rt.cancel_exit_hook(p.pid(), hook));
    });
}
