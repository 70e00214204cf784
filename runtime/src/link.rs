//! Links, exit signals and the relations a process keeps.
//!
//! Each process keeps its links and monitors in one small vector behind one
//! mutex ([`Relations`]). No code ever holds two processes' relation locks at
//! once, so there is no lock ordering to get wrong. The races that remain are
//! closed by two rules:
//!
//! 1. **Own side first.** `link` records the peer in the caller's relations
//!    before it records the caller in the peer's. If the peer dies in
//!    between, its link signal finds the caller's entry and is honoured.
//! 2. **Receipt checks the receiver's side.** A link signal is honoured only
//!    if the receiver still lists the sender (rule 26); `unlink` removes the
//!    entry first, so a signal racing an unlink is dropped (rule 21).
//!
//! An exit signal is *received* when it is delivered: the receiver's
//! `trap_exit` flag is read at that instant (rule 25). A trapping receiver
//! gets an `EXIT` message appended to its mailbox, behind everything the
//! sender sent before (rules 10-11); a non-trapping receiver hit by an
//! abnormal reason is marked exiting at once, like a kill (rules 4, 9, R1).

use std::sync::atomic::Ordering::Acquire;

use crate::exit::ExitReason;
use crate::monitor::{Down, MonitorRef};
use crate::pid::Pid;
use crate::process::pcb::{Header, ProcessArc, Task};
use crate::runtime::Shared;
use crate::scheduler;

/// One relation of a process.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Relation {
    /// A bidirectional link with the peer.
    Link(Pid),
    /// The watcher holds monitor `MonitorRef` on this process.
    MonitoredBy(MonitorRef, Pid),
    /// This process holds monitor `MonitorRef` on the target.
    Monitoring(MonitorRef, Pid),
}

/// The relations of one process, behind `Header::relations`.
#[derive(Debug, Default)]
pub(crate) struct Relations {
    pub(crate) entries: Vec<Relation>,
    /// Set when the process exits: no new links or monitors are accepted.
    pub(crate) closed: bool,
    /// The process holds a registered name.
    pub(crate) registered: bool,
    /// The reason of a pending kill or exit signal; once `closed`, the
    /// reason the process exited with.
    pub(crate) exit_reason: Option<Box<ExitReason>>,
    /// Clean-up to run at the exit (see `exit_hook.rs`); boxed so that a
    /// process without hooks pays one pointer.
    pub(crate) exit_hooks: Option<Box<crate::exit_hook::ExitHooks>>,
}

impl Relations {
    pub(crate) fn remove(&mut self, relation: Relation) -> bool {
        match self.entries.iter().position(|r| *r == relation) {
            Some(i) => {
                self.entries.swap_remove(i);
                true
            }
            None => false,
        }
    }

    fn add_unique(&mut self, relation: Relation) {
        if !self.entries.contains(&relation) {
            self.entries.push(relation);
        }
    }
}

/// How a signal reached the receiver.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Via {
    /// The sender died and was linked to the receiver.
    Link,
    /// Someone called `exit(pid, reason)`.
    Explicit,
    /// The process's own mailbox overflowed: it exits even if it traps
    /// exits.
    Overflow,
}

/// Links `me` (the running process) with `peer`.
pub(crate) fn link(me: &Header, peer: Pid) -> Result<(), crate::error::NoProc> {
    if peer == me.pid {
        return Ok(()); // rule 18
    }
    me.relations.lock().add_unique(Relation::Link(peer));
    let accepted = match me.shared.table.get(peer) {
        Some(target) => {
            let mut rel = target.header().relations.lock();
            if rel.closed {
                false
            } else {
                rel.add_unique(Relation::Link(me.pid));
                true
            }
        }
        None => false,
    };
    if accepted {
        return Ok(());
    }
    // Rule 20: the peer does not exist.
    me.relations.lock().remove(Relation::Link(peer));
    if me.trap_exit.load(Acquire) {
        deliver_exit_message(me.pid, &me.shared, peer, ExitReason::NoProc);
        Ok(())
    } else {
        Err(crate::error::NoProc(peer))
    }
}

/// Removes the link between `me` and `peer`, if any (rule 21).
pub(crate) fn unlink(me: &Header, peer: Pid) {
    me.relations.lock().remove(Relation::Link(peer));
    if let Some(target) = me.shared.table.get(peer) {
        target
            .header()
            .relations
            .lock()
            .remove(Relation::Link(me.pid));
    }
}

/// Appends `{'EXIT', from, reason}` to `to`'s mailbox, if `to` is alive.
fn deliver_exit_message(to: Pid, shared: &Shared, from: Pid, reason: ExitReason) {
    if let Some(target) = shared.table.get(to) {
        if target.push_exit(from, reason) {
            scheduler::wake(Task::new(&*target));
        }
    }
}

/// Delivers an exit signal from `from` to `target` (rules 4-9, 24-26).
pub(crate) fn exit_signal(target: ProcessArc, from: Pid, reason: ExitReason, via: Via) {
    let header = target.header();
    let mut rel = header.relations.lock();
    if rel.closed {
        return;
    }
    if via == Via::Link && !rel.remove(Relation::Link(from)) {
        return; // stale: the link was removed (rule 26)
    }
    if via != Via::Overflow && header.trap_exit.load(Acquire) {
        drop(rel);
        if target.push_exit(from, reason) {
            scheduler::wake(Task::new(&*target));
        }
        return;
    }
    if reason.is_normal() && from != header.pid {
        return; // rule 4, rule 8
    }
    if rel.exit_reason.is_none() {
        rel.exit_reason = Some(Box::new(reason));
    }
    drop(rel);
    mark_exiting(target);
}

/// The untrappable kill (rule 5): the target exits `killed` as soon as its
/// current handler returns (R1).
pub(crate) fn kill(target: ProcessArc) {
    let header = target.header();
    let mut rel = header.relations.lock();
    if rel.closed {
        return;
    }
    if rel.exit_reason.is_none() {
        rel.exit_reason = Some(Box::new(ExitReason::Killed));
    }
    drop(rel);
    mark_exiting(target);
}

fn mark_exiting(target: ProcessArc) {
    let (_, notify) = target.header().mark_exiting();
    if notify == crate::process::state::Notify::Schedule {
        scheduler::schedule(Task::new(&*target));
    }
}

/// Tells every relation of an exited process (whose name is already
/// released) that it is gone. Returns whether anyone was linked or
/// monitoring, i.e. whether the exit was observed.
pub(crate) fn notify_exit(
    shared: &Shared,
    pid: Pid,
    relations: Vec<Relation>,
    reason: &ExitReason,
) -> bool {
    let mut observed = false;
    for relation in relations {
        match relation {
            Relation::Link(peer) => {
                observed = true;
                if let Some(target) = shared.table.get(peer) {
                    exit_signal(target, pid, reason.clone(), Via::Link);
                }
            }
            Relation::MonitoredBy(mref, watcher) => {
                observed = true;
                if let Some(target) = shared.table.get(watcher) {
                    let down = Down {
                        mref,
                        pid,
                        reason: reason.clone(),
                    };
                    crate::monitor::deliver_down(&*target, down);
                }
            }
            Relation::Monitoring(mref, watched) => {
                // Our monitor on someone else: drop their entry so it does
                // not outlive us.
                if let Some(target) = shared.table.get(watched) {
                    target
                        .header()
                        .relations
                        .lock()
                        .remove(Relation::MonitoredBy(mref, pid));
                }
            }
        }
    }
    observed
}
