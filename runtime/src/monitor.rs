//! Monitors: one-way, one-shot notifications of another process's exit.
//!
//! `monitor` records the monitor on both sides (the target's
//! `MonitoredBy`, the watcher's `Monitoring`). When the target exits it
//! delivers a [`Down`] to each watcher ([`deliver_down`]): under the
//! watcher's relations lock it takes the watcher's `Monitoring` entry and
//! appends the `Down` to the watcher's mailbox, in one step. So a monitor
//! is in exactly one of two states, as in OTP:
//!
//! - **active**: the watcher holds the entry and no `Down` is queued;
//!   `demonitor` removes the entry, returns `true`, and no `Down` for it
//!   will ever arrive (rule 32);
//! - **fired**: the entry is gone and the `Down` is in the mailbox;
//!   `demonitor` returns `false` and leaves the `Down` there, to be
//!   handled like any message. Only `demonitor_flush` (rule 33) removes
//!   it.

use std::fmt;
use std::sync::atomic::Ordering::Relaxed;

use crate::exit::ExitReason;
use crate::link::Relation;
use crate::pid::Pid;
use crate::process::pcb::{AnyProcess, Header, Task};
use crate::scheduler;

/// A monitor reference, unique within its runtime.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct MonitorRef(pub(crate) u64);

impl fmt::Debug for MonitorRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "#Ref<{}>", self.0)
    }
}

impl fmt::Display for MonitorRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self, f)
    }
}

/// The notification that a monitored process exited:
/// `{'DOWN', mref, process, pid, reason}`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Down {
    /// The reference [`monitor`](crate::Context::monitor) returned.
    pub mref: MonitorRef,
    /// The process that exited.
    pub pid: Pid,
    /// Its exit reason; `NoProc` if it did not exist when monitored (rule 28).
    pub reason: ExitReason,
}

/// `me` (the running process) starts monitoring `target`.
pub(crate) fn monitor(me: &Header, target: Pid) -> MonitorRef {
    let mref = MonitorRef(me.shared.next_ref.fetch_add(1, Relaxed));
    me.relations.lock().push(Relation::Monitoring(mref, target));
    let accepted = match me.shared.table.get(target) {
        Some(t) => {
            let mut rel = t.header().relations.lock();
            if rel.is_closed() {
                false
            } else {
                rel.push(Relation::MonitoredBy(mref, me.pid));
                true
            }
        }
        None => false,
    };
    if !accepted {
        // Rule 28: an immediate DOWN with reason noproc.
        if let Some(this) = me.shared.table.get(me.pid) {
            let down = Down {
                mref,
                pid: target,
                reason: ExitReason::NoProc,
            };
            deliver_down(&*this, down);
        }
    }
    mref
}

/// Delivers `down` to `watcher` if the watcher still holds the monitor:
/// takes its `Monitoring` entry and appends the `Down` under the watcher's
/// relations lock, so that `demonitor` sees the monitor either active (and
/// no `Down` ever arrives) or fired (and the `Down` already queued, where
/// `demonitor_flush` finds it). A monitor removed before it fired gets
/// nothing.
pub(crate) fn deliver_down(watcher: &dyn AnyProcess, down: Down) {
    let header = watcher.header();
    let wake = {
        let mut rel = header.relations.lock();
        if !rel.remove(Relation::Monitoring(down.mref, down.pid)) {
            return;
        }
        // The mailbox lock (the state word) is taken inside the relations
        // lock here; nothing takes them the other way round.
        watcher.push_down(down)
    };
    if wake {
        scheduler::wake(Task::new(watcher));
    }
}

/// Removes monitor `mref` held by `me`. Returns true iff it was still
/// active — it had not fired — so no `Down` for it was or will be
/// delivered (`erlang:demonitor/2` with `info`). False if it had fired (its
/// `Down` is queued or was handled), was removed before, or is unknown; a
/// `Down` already queued stays queued (rule 32).
pub(crate) fn demonitor(me: &Header, mref: MonitorRef) -> bool {
    let target = {
        let mut rel = me.relations.lock();
        match rel.take_first(|r| matches!(r, Relation::Monitoring(m, _) if *m == mref)) {
            Some(Relation::Monitoring(_, target)) => target,
            _ => return false,
        }
    };
    // The target's side, if it is still there: it would otherwise try to
    // deliver a `Down` that `deliver_down` drops.
    if let Some(t) = me.shared.table.get(target) {
        t.header()
            .relations
            .lock()
            .remove(Relation::MonitoredBy(mref, me.pid));
    }
    true
}
