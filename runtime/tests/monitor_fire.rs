//! `Context::fire_monitor`: a proxy ends one monitor held on it while it
//! lives on.

mod common;

use common::{each_runtime, QUIET, TIMEOUT};
use rotp_runtime::testing::{Probe, Received};
use rotp_runtime::{Context, ExitReason, MonitorRef};

enum Cmd {
    Fire(MonitorRef, std::sync::mpsc::Sender<bool>),
    Exit,
}

#[test]
fn a_fired_monitor_delivers_one_down_and_is_gone() {
    each_runtime(|rt| {
        let proxy = rt.spawn_fn(|cmd: Cmd, ctx: &mut Context<'_, Cmd>| match cmd {
            Cmd::Fire(mref, done) => {
                let fired = ctx.fire_monitor(mref, ExitReason::custom("gone"));
                done.send(fired).unwrap();
            }
            Cmd::Exit => ctx.exit(ExitReason::custom("proxy_exit")),
        });
        let watcher: Probe<()> = Probe::spawn(rt);
        let fired_ref = watcher.monitor(proxy.pid());
        let kept_ref = watcher.monitor(proxy.pid());

        let (tx, rx) = std::sync::mpsc::channel();
        proxy.send(Cmd::Fire(fired_ref, tx.clone()));
        assert!(rx.recv_timeout(TIMEOUT).unwrap());
        let got = watcher.assert_receive(TIMEOUT, |r| matches!(r, Received::Down(_)));
        let Received::Down(down) = got else {
            unreachable!()
        };
        assert_eq!(down.mref, fired_ref);
        assert_eq!(down.reason, ExitReason::custom("gone"));

        // Firing it again finds nothing.
        proxy.send(Cmd::Fire(fired_ref, tx));
        assert!(!rx.recv_timeout(TIMEOUT).unwrap());

        // The proxy's own exit fires only the monitor still held.
        proxy.send(Cmd::Exit);
        let got = watcher.assert_receive(TIMEOUT, |r| matches!(r, Received::Down(_)));
        let Received::Down(down) = got else {
            unreachable!()
        };
        assert_eq!(down.mref, kept_ref);
        assert_eq!(down.reason, ExitReason::custom("proxy_exit"));
        watcher.refute_receive(QUIET, |r| matches!(r, Received::Down(_)));
    });
}
