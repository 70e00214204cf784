//! Monitors: one-way, one-shot notifications of another process's exit.
//!
//! `monitor` records the monitor on both sides (the target's
//! `MonitoredBy`, the watcher's `Monitoring`). When the target exits it
//! appends a [`Down`] to each watcher's mailbox. The watcher honours a `Down`
//! only while it still holds the `Monitoring` entry, which `demonitor`
//! removes first, so after `demonitor` returns no `Down` for that reference
//! is ever handled (rule 32).

use std::fmt;
use std::sync::atomic::Ordering::Relaxed;

use crate::exit::ExitReason;
use crate::link::Relation;
use crate::pid::Pid;
use crate::process::pcb::{Header, Task};
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
    me.relations
        .lock()
        .entries
        .push(Relation::Monitoring(mref, target));
    let accepted = match me.shared.table.get(target) {
        Some(t) => {
            let mut rel = t.header().relations.lock();
            if rel.closed {
                false
            } else {
                rel.entries.push(Relation::MonitoredBy(mref, me.pid));
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
            if this.push_down(down) {
                scheduler::wake(Task::new(&*this));
            }
        }
    }
    mref
}

/// Removes monitor `mref` held by `me`. Returns true iff it was still active
/// on the target and was removed there, i.e. no `Down` was or will be sent
/// (rule 33 `info`).
pub(crate) fn demonitor(me: &Header, mref: MonitorRef) -> bool {
    let target = {
        let mut rel = me.relations.lock();
        let found = rel
            .entries
            .iter()
            .position(|r| matches!(r, Relation::Monitoring(m, _) if *m == mref));
        match found {
            Some(i) => match rel.entries.swap_remove(i) {
                Relation::Monitoring(_, target) => target,
                _ => unreachable!("position matched a Monitoring entry"),
            },
            None => return false,
        }
    };
    match me.shared.table.get(target) {
        Some(t) => t
            .header()
            .relations
            .lock()
            .remove(Relation::MonitoredBy(mref, me.pid)),
        None => false,
    }
}

/// Whether `me` still holds monitor `mref` (consumes it if so): a `Down` is
/// handled only when this returns true.
pub(crate) fn accept_down(me: &Header, down: &Down) -> bool {
    me.relations
        .lock()
        .remove(Relation::Monitoring(down.mref, down.pid))
}
