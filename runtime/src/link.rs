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
///
/// Most processes never link, monitor, register a name or get an exit
/// hook, so everything lives in [`More`], allocated the first time the
/// process has any of it: an idle process pays one pointer here, and the
/// mutex around it is 16 bytes, not 24 (the control block of an idle
/// process is what `spawn`'s bytes per process measure). Every process
/// gets a `More` at its exit at the latest, to keep its exit reason.
#[derive(Debug, Default)]
pub(crate) struct Relations {
    more: Option<Box<More>>,
}

/// The part of [`Relations`] a process has once it has any.
#[derive(Debug, Default)]
struct More {
    entries: Vec<Relation>,
    /// Set when the process exits: no new links or monitors are accepted.
    closed: bool,
    /// The process holds a registered name.
    registered: bool,
    /// The reason of a pending kill or exit signal; once `closed`, the
    /// reason the process exited with.
    exit_reason: Option<ExitReason>,
    /// Clean-up to run at the exit (see `exit_hook.rs`).
    exit_hooks: crate::exit_hook::ExitHooks,
}

impl Relations {
    /// `relations`, as a new process starts with them.
    pub(crate) fn with(relations: Vec<Relation>) -> Relations {
        Relations {
            more: (!relations.is_empty()).then(|| {
                Box::new(More {
                    entries: relations,
                    ..More::default()
                })
            }),
        }
    }

    /// Whether the process has exited: no new links or monitors.
    pub(crate) fn is_closed(&self) -> bool {
        self.more.as_ref().is_some_and(|m| m.closed)
    }

    /// Whether the process holds a registered name.
    pub(crate) fn is_registered(&self) -> bool {
        self.more.as_ref().is_some_and(|m| m.registered)
    }

    /// Records that the process holds a registered name, or no longer does.
    pub(crate) fn set_registered(&mut self, registered: bool) {
        if registered {
            self.more().registered = true;
        } else if let Some(more) = &mut self.more {
            more.registered = false;
        }
    }

    fn more(&mut self) -> &mut More {
        self.more.get_or_insert_with(Box::default)
    }

    /// The links and monitors, in no particular order.
    pub(crate) fn entries(&self) -> &[Relation] {
        self.more.as_ref().map_or(&[], |m| &m.entries)
    }

    pub(crate) fn push(&mut self, relation: Relation) {
        self.more().entries.push(relation);
    }

    /// Removes and returns the first entry `pred` accepts.
    pub(crate) fn take_first(&mut self, pred: impl Fn(&Relation) -> bool) -> Option<Relation> {
        let more = self.more.as_mut()?;
        let i = more.entries.iter().position(pred)?;
        Some(more.entries.swap_remove(i))
    }

    pub(crate) fn remove(&mut self, relation: Relation) -> bool {
        self.take_first(|r| *r == relation).is_some()
    }

    fn add_unique(&mut self, relation: Relation) {
        if !self.entries().contains(&relation) {
            self.push(relation);
        }
    }

    /// The memory the entries' buffer takes, for `process_info`.
    pub(crate) fn entries_capacity(&self) -> usize {
        self.more.as_ref().map_or(0, |m| m.entries.capacity())
    }

    /// The reason of a pending kill or exit signal, or once closed the
    /// reason of the exit.
    pub(crate) fn exit_reason(&self) -> Option<&ExitReason> {
        self.more.as_ref()?.exit_reason.as_ref()
    }

    /// Records the reason of a kill or exit signal, unless one is pending.
    fn pend_exit_reason(&mut self, reason: ExitReason) {
        let more = self.more();
        if more.exit_reason.is_none() {
            more.exit_reason = Some(reason);
        }
    }

    /// Records the reason of a kill that stops a process before it ever
    /// runs.
    pub(crate) fn set_exit_reason(&mut self, reason: ExitReason) {
        self.more().exit_reason = Some(reason);
    }

    /// Closes the relations at the exit: the reason of a pending signal
    /// decides the exit's reason over `reason`, and is kept for
    /// [`exit_reason`](Self::exit_reason). Returns the reason, the links
    /// and monitors to notify, and the exit hooks to run.
    pub(crate) fn close(
        &mut self,
        reason: ExitReason,
    ) -> (ExitReason, Vec<Relation>, crate::exit_hook::ExitHooks) {
        let more = self.more();
        more.closed = true;
        let reason = more.exit_reason.take().unwrap_or(reason);
        more.exit_reason = Some(reason.clone());
        (
            reason,
            std::mem::take(&mut more.entries),
            std::mem::take(&mut more.exit_hooks),
        )
    }

    /// The exit hooks, created empty on first use.
    pub(crate) fn exit_hooks(&mut self) -> &mut crate::exit_hook::ExitHooks {
        &mut self.more().exit_hooks
    }

    /// The exit hooks, if the process has a `More`, without creating one.
    pub(crate) fn exit_hooks_if_any(&mut self) -> Option<&mut crate::exit_hook::ExitHooks> {
        self.more.as_mut().map(|m| &mut m.exit_hooks)
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
            if rel.is_closed() {
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
    if rel.is_closed() {
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
    rel.pend_exit_reason(reason);
    drop(rel);
    mark_exiting(target);
}

/// The untrappable kill (rule 5): the target exits `killed` as soon as its
/// current handler returns (R1).
pub(crate) fn kill(target: ProcessArc) {
    let header = target.header();
    let mut rel = header.relations.lock();
    if rel.is_closed() {
        return;
    }
    rel.pend_exit_reason(ExitReason::Killed);
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
