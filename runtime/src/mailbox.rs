//! The process mailbox: one ordered queue for messages and signals.
//!
//! Two `VecDeque`s: the shared queue, which senders append to, and the
//! runner's batch, which the process handles without any lock. When the
//! batch runs dry the runner swaps the whole queue for it in one short
//! critical section. Both buffers keep their capacity, so a steady stream of
//! messages allocates nothing, and an empty `VecDeque` does not allocate, so
//! an idle process with an empty mailbox costs only the two headers.
//!
//! The queue has no lock of its own: the process's state word is its lock
//! (see `process/state.rs`). Appending a message and learning whether the
//! process was idle, or finding the queue empty and going idle, is then one
//! critical section and one atomic read-modify-write. Every method here that
//! touches the queue takes the owner's [`State`] and locks it.
//!
//! A send that wakes an idle process puts its entry straight into the
//! batch: it has just taken the run right (`SCHEDULED`), nobody runs the
//! process, and the batch of an idle process is empty. The runner then
//! starts its slice with the entry in hand, without a critical section, and
//! one message to an idle process costs two locked instructions in all.
//!
//! Everything a process receives goes through this one queue — user messages,
//! trapped `EXIT`s, `DOWN`s, timer firings — so the order in which one sender
//! emitted them is the order in which they are handled (rules 10-12,
//! adaptation R6).
//!
//! # Safety invariants
//!
//! 1. A `Mailbox` is only ever reached through the process that owns it, and
//!    its `queue` only while that process's state word is locked
//!    ([`State::lock`]): one thread at a time, each critical section ordered
//!    after the previous one by the lock's acquire and release.
//! 2. A [`Batch`] belongs to whoever holds its process's run right (state
//!    invariant 1): the sender that set `SCHEDULED`, until it enqueues the
//!    process, then the thread that pops the entry, until it goes idle (in a
//!    critical section, after its last use of the batch) or exits. The run
//!    queues and the state lock order each holder's accesses after the
//!    previous one's. No reference to the entries outlives one call of
//!    [`Batch::with`] or one critical section.
//!
//! The batch is a separate value so that the process control block can
//! keep it on the runner's cache line, away from the queue and the state
//! word that every sender writes, and its published length in padding.

use std::collections::VecDeque;

use std::sync::atomic::Ordering::Relaxed;

use crate::exit::ExitReason;
use crate::loom::{AtomicU32, UnsafeCell};
use crate::monitor::Down;
use crate::pid::Pid;
use crate::process::state::{Locked, Notify, State, TransitionToIdle};
use crate::system::SystemCall;

/// One entry of a mailbox.
pub(crate) enum Envelope<M> {
    /// A user message.
    Message(M),
    /// A trapped exit signal, `{'EXIT', from, reason}`.
    Exit(Box<(Pid, ExitReason)>),
    /// A monitor notification, `{'DOWN', ref, process, pid, reason}`.
    Down(Box<Down>),
    /// A system request (see `system.rs`).
    System(Box<SystemCall>),
}

/// What a mailbox does with a message that arrives when it is full.
///
/// OTP's mailboxes are unbounded, and so are rotp's by default; a limit
/// (set with [`SpawnOptions::mailbox_limit`](crate::SpawnOptions::mailbox_limit))
/// makes overload a named condition instead of a slow death by memory.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Overflow {
    /// Refuse the message: `try_send` hands it back as
    /// [`TrySendError::Full`](crate::TrySendError::Full).
    #[default]
    Reject,
    /// Drop the message silently, as if delivered.
    Drop,
    /// Drop the message and exit the process with reason
    /// `mailbox_overflow`.
    Exit,
}

/// The shared, sender-facing half of a mailbox.
pub(crate) struct Mailbox<M> {
    queue: UnsafeCell<Queue<M>>,
}

// SAFETY: the queue is touched only under the owner's state lock (module
// invariant 1), which hands it from thread to thread; the entries are
// `Send`.
unsafe impl<M: Send> Sync for Mailbox<M> {}

/// The runner's half: entries taken from the queue, or handed over by the
/// send that woke the process, and not yet handled (module invariant 2).
pub(crate) struct BatchCell<M>(UnsafeCell<VecDeque<Envelope<M>>>);

// SAFETY: the entries are touched only by the holder of the run right
// (module invariant 2), handed from thread to thread with happens-before;
// the entries are `Send`.
unsafe impl<M: Send> Sync for BatchCell<M> {}

impl<M> BatchCell<M> {
    pub(crate) fn new() -> Self {
        BatchCell(UnsafeCell::new(VecDeque::new()))
    }
}

/// A process's batch as its runner uses it: the entries, and the count of
/// them that the holder of the run right publishes for `process_info`
/// (which may not look at the entries). The two live apart — the count in
/// the padding of the process header — so an idle process stays small.
#[derive(Clone, Copy)]
pub(crate) struct Batch<'a, M> {
    pub(crate) entries: &'a BatchCell<M>,
    pub(crate) len: &'a AtomicU32,
}

impl<M> Batch<'_, M> {
    /// Calls `f` with the entries, and publishes their number afterwards.
    ///
    /// # Safety
    ///
    /// The caller holds the process's run right (module invariant 2).
    #[inline]
    pub(crate) unsafe fn with<R>(&self, f: impl FnOnce(&mut VecDeque<Envelope<M>>) -> R) -> R {
        self.entries.0.with_mut(|entries| {
            // SAFETY: the caller's run right makes this the only access to
            // the entries, and the reference does not escape this closure.
            let entries = unsafe { &mut *entries };
            let r = f(entries);
            // Only the holder of the run right writes the count: a plain
            // store publishes it.
            self.len.store(entries.len() as u32, Relaxed);
            r
        })
    }

    /// The next entry.
    ///
    /// # Safety
    ///
    /// As for [`with`](Self::with).
    #[inline]
    pub(crate) unsafe fn pop(&self) -> Option<Envelope<M>> {
        // SAFETY: the caller's contract.
        unsafe { self.with(VecDeque::pop_front) }
    }

    /// The number of entries as last published; exact for its holder,
    /// a snapshot for everyone else.
    pub(crate) fn len(&self) -> usize {
        self.len.load(Relaxed) as usize
    }
}

struct Queue<M> {
    entries: VecDeque<Envelope<M>>,
    /// Logged the high-water warning since the queue was last below it.
    warned: bool,
    overflow: Overflow,
    /// Maximum number of queued user messages; 0 for no limit.
    limit: u32,
}

/// Why an entry was not appended.
pub(crate) enum Refused<M> {
    /// The process is exiting or has exited (rule 13, R1).
    Closed(Envelope<M>),
    Full(Envelope<M>, Overflow),
}

impl<M> Mailbox<M> {
    pub(crate) fn new(limit: u32, overflow: Overflow) -> Self {
        Mailbox {
            queue: UnsafeCell::new(Queue {
                entries: VecDeque::new(),
                warned: false,
                overflow,
                limit,
            }),
        }
    }

    /// Runs `f` on the queue with `state`, the owner's word, locked.
    #[inline]
    fn locked<R>(&self, state: &State, f: impl FnOnce(&mut Locked<'_>, &mut Queue<M>) -> R) -> R {
        let mut word = state.lock();
        // SAFETY: module invariant — `state` is the owner's word and stays
        // locked while `f` runs, so this is the only reference to the queue,
        // and it does not escape `f`.
        self.queue
            .with_mut(|queue| f(&mut word, unsafe { &mut *queue }))
    }

    /// Appends an entry; `Schedule` if the process was idle and the caller
    /// must enqueue it (the entry is then in the batch already). Signals
    /// (exits, downs) are never refused for fullness: only user messages
    /// count against the limit.
    #[inline]
    pub(crate) fn push(
        &self,
        state: &State,
        batch: Batch<'_, M>,
        entry: Envelope<M>,
    ) -> Result<Notify, Refused<M>> {
        let mut high_water = None;
        let pushed = self.locked(state, |word, queue| {
            if !word.is_alive() {
                return Err(Refused::Closed(entry));
            }
            if queue.limit > 0 && matches!(entry, Envelope::Message(_)) {
                match queue.room() {
                    Room::Full => return Err(Refused::Full(entry, queue.overflow)),
                    Room::HighWater => high_water = Some(queue.limit),
                    Room::Free => {}
                }
            }
            let notify = word.notify();
            match notify {
                // SAFETY: invariant 2 — `notify` just gave this thread the
                // run right, which it keeps until it enqueues the process.
                Notify::Schedule => unsafe { batch.with(|batch| batch.push_back(entry)) },
                Notify::Nothing => queue.entries.push_back(entry),
            }
            Ok(notify)
        });
        // Outside the lock: a logger may take its time.
        if let Some(limit) = high_water {
            log::warn!("mailbox above 80% of its limit of {limit} messages");
        }
        pushed
    }

    /// The runner's batch is empty: goes idle if the queue is empty too,
    /// else moves what arrived to the batch (`Notified`). After `Ok` the
    /// caller has given up the run right.
    ///
    /// # Safety
    ///
    /// The caller holds the run right of the process that owns `batch`.
    #[inline]
    pub(crate) unsafe fn idle_or_take(
        &self,
        state: &State,
        batch: Batch<'_, M>,
    ) -> TransitionToIdle {
        self.locked(state, |word, queue| {
            let next = word.transition_to_idle(queue.entries.is_empty());
            if next == TransitionToIdle::Notified {
                // SAFETY: the caller's run right lasts until the unlock
                // that follows this critical section.
                unsafe { batch.with(|batch| queue.take_into(batch)) };
            }
            next
        })
    }

    /// Number of queued entries (not counting the runner's batch).
    pub(crate) fn len(&self, state: &State) -> usize {
        self.locked(state, |_, queue| queue.entries.len())
    }

    /// The number of entries the queue's buffer has room for.
    pub(crate) fn capacity(&self, state: &State) -> usize {
        self.locked(state, |_, queue| queue.entries.capacity())
    }

    /// Returns what was still queued when the process exited, to be dropped
    /// outside the lock (drops may run user code). The process is marked
    /// exiting already, so nothing more is appended.
    pub(crate) fn close(&self, state: &State) -> VecDeque<Envelope<M>> {
        self.locked(state, |word, queue| {
            debug_assert!(!word.is_alive());
            std::mem::take(&mut queue.entries)
        })
    }

    /// Removes the first queued entry matching `pred`, if any.
    pub(crate) fn remove_first(
        &self,
        state: &State,
        pred: impl FnMut(&Envelope<M>) -> bool,
    ) -> Option<Envelope<M>> {
        self.locked(state, |_, queue| {
            let i = queue.entries.iter().position(pred)?;
            queue.entries.remove(i)
        })
    }

    /// Releases spare capacity (used by hibernation).
    pub(crate) fn shrink(&self, state: &State) {
        self.locked(state, |_, queue| queue.entries.shrink_to_fit());
    }
}

impl<M> Queue<M> {
    /// Moves everything queued to the back of `batch`. When `batch` is
    /// empty (the common case) the two buffers are swapped, keeping both
    /// allocations.
    #[inline]
    fn take_into(&mut self, batch: &mut VecDeque<Envelope<M>>) {
        if batch.is_empty() {
            std::mem::swap(&mut self.entries, batch);
        } else {
            batch.extend(self.entries.drain(..));
        }
    }

    /// Whether one more user message fits under the limit, and whether the
    /// queue just crossed its high-water mark (80% of the limit), which is
    /// reported once per excursion.
    fn room(&mut self) -> Room {
        let len = self.entries.len();
        if len >= self.limit as usize {
            return Room::Full;
        }
        let high = self.limit as usize * 4 / 5;
        if len >= high && !self.warned {
            self.warned = true;
            return Room::HighWater;
        }
        if len < high / 2 {
            self.warned = false;
        }
        Room::Free
    }
}

/// What a bounded queue says to one more message.
enum Room {
    Free,
    /// Room, and the high-water mark was just crossed.
    HighWater,
    Full,
}
