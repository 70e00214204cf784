//! A process standing in for another ends one monitor held on it.
//!
//! A distribution layer represents a process of another node by a local
//! proxy process: local processes monitor the proxy, and the runtime's own
//! machinery gives them their `Down`s when the proxy exits (the connection
//! is lost). But the remote process can also exit while the connection
//! stays up, and then only the monitors on *that* remote process must
//! fire, not the proxy itself. [`Context::fire_monitor`] is that one step:
//! the monitored process removes one monitor held on it and sends its
//! watcher the `Down` it would get at an exit, with the given reason.

use crate::exit::ExitReason;
use crate::link::Relation;
use crate::monitor::{Down, MonitorRef};
use crate::process::pcb::Task;
use crate::process::Context;
use crate::scheduler;

impl<M: Send + 'static> Context<'_, M> {
    /// Ends monitor `mref`, held by another process on this one, as if this
    /// process had exited with `reason`: the watcher receives
    /// `Down { mref, pid: self, reason }`, in order behind what this
    /// process sent it before. Returns false if no such monitor is held on
    /// this process (it was removed, fired, or never existed).
    ///
    /// For proxies that stand for something else (a process on another
    /// node): a process watching the proxy learns that the thing it stands
    /// for is gone while the proxy lives on.
    ///
    /// ```
    /// use rotp_runtime::testing::{Probe, Received};
    /// use rotp_runtime::{Context, ExitReason, MonitorRef, Runtime};
    /// use std::time::Duration;
    ///
    /// let rt = Runtime::new().unwrap();
    /// let proxy = rt.spawn_fn(|mref: MonitorRef, ctx: &mut Context<'_, MonitorRef>| {
    ///     ctx.fire_monitor(mref, ExitReason::custom("remote_gone"));
    /// });
    /// let watcher: Probe<()> = Probe::spawn(&rt);
    /// let mref = watcher.monitor(proxy.pid());
    /// proxy.send(mref);
    /// let got = watcher.assert_receive(Duration::from_secs(5), |r| matches!(r, Received::Down(_)));
    /// let Received::Down(down) = got else { unreachable!() };
    /// assert_eq!((down.mref, down.pid), (mref, proxy.pid()));
    /// assert_eq!(down.reason, ExitReason::custom("remote_gone"));
    /// assert!(proxy.is_alive());
    /// ```
    pub fn fire_monitor(&mut self, mref: MonitorRef, reason: ExitReason) -> bool {
        let header = self.header();
        let watcher = {
            let mut rel = header.relations.lock();
            match rel.take_first(|r| matches!(r, Relation::MonitoredBy(m, _) if *m == mref)) {
                Some(Relation::MonitoredBy(_, watcher)) => watcher,
                _ => return false,
            }
        };
        if let Some(target) = header.shared.table.get(watcher) {
            let down = Down {
                mref,
                pid: header.pid,
                reason,
            };
            if target.push_down(down) {
                scheduler::wake(Task::new(&*target));
            }
        }
        true
    }
}
