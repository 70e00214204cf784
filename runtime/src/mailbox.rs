//! The process mailbox: one ordered queue for messages and signals.
//!
//! Senders append to an outer `VecDeque` behind a mutex; the process that
//! owns the mailbox swaps the whole outer queue for its private, empty batch
//! in one short critical section and then handles the batch without any lock.
//! Both buffers keep their capacity, so a steady stream of messages allocates
//! nothing, and an empty `VecDeque` does not allocate, so an idle process with
//! an empty mailbox costs only the two headers.
//!
//! Everything a process receives goes through this one queue — user messages,
//! trapped `EXIT`s, `DOWN`s, timer firings — so the order in which one sender
//! emitted them is the order in which they are handled (spec rules 10-12,
//! adaptation R6).

use std::collections::VecDeque;

use parking_lot::Mutex;

use crate::exit::ExitReason;
use crate::monitor::Down;
use crate::pid::Pid;

/// One entry of a mailbox.
pub(crate) enum Envelope<M> {
    /// A user message.
    Message(M),
    /// A trapped exit signal, `{'EXIT', from, reason}`.
    Exit(Box<(Pid, ExitReason)>),
    /// A monitor notification, `{'DOWN', ref, process, pid, reason}`.
    Down(Box<Down>),
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
    queue: Mutex<Queue<M>>,
}

struct Queue<M> {
    entries: VecDeque<Envelope<M>>,
    /// Set once the process has exited: later sends are dropped (rule 13).
    closed: bool,
    /// Logged the high-water warning since the queue was last below it.
    warned: bool,
    overflow: Overflow,
    /// Maximum number of queued user messages; 0 for no limit.
    limit: u32,
}

/// Why an entry was not appended.
pub(crate) enum Refused<M> {
    Closed(Envelope<M>),
    Full(Envelope<M>, Overflow),
}

impl<M> Mailbox<M> {
    pub(crate) const fn new(limit: u32, overflow: Overflow) -> Self {
        Mailbox {
            queue: Mutex::new(Queue {
                entries: VecDeque::new(),
                closed: false,
                warned: false,
                overflow,
                limit,
            }),
        }
    }

    /// Appends an entry. Signals (exits, downs) are never refused for
    /// fullness: only user messages count against the limit.
    pub(crate) fn push(&self, entry: Envelope<M>) -> Result<(), Refused<M>> {
        let mut queue = self.queue.lock();
        if queue.closed {
            return Err(Refused::Closed(entry));
        }
        if queue.limit > 0 && matches!(entry, Envelope::Message(_)) {
            let len = queue.entries.len();
            if len >= queue.limit as usize {
                return Err(Refused::Full(entry, queue.overflow));
            }
            // High water: 80% of the limit, logged once per excursion.
            let high = queue.limit as usize * 4 / 5;
            if len >= high && !queue.warned {
                queue.warned = true;
                log::warn!("mailbox above 80% of its limit of {} messages", queue.limit);
            } else if len < high / 2 {
                queue.warned = false;
            }
        }
        queue.entries.push_back(entry);
        Ok(())
    }

    /// Moves everything queued to the back of `batch`. When `batch` is
    /// empty (the common case) the two buffers are swapped, keeping both
    /// allocations.
    pub(crate) fn take_into(&self, batch: &mut VecDeque<Envelope<M>>) {
        let mut queue = self.queue.lock();
        if batch.is_empty() {
            std::mem::swap(&mut queue.entries, batch);
        } else {
            batch.extend(queue.entries.drain(..));
        }
    }

    /// Number of queued entries (not counting the owner's private batch).
    pub(crate) fn len(&self) -> usize {
        self.queue.lock().entries.len()
    }

    /// Closes the mailbox and returns what was still queued, to be dropped
    /// outside the lock (drops may run user code).
    pub(crate) fn close(&self) -> VecDeque<Envelope<M>> {
        let mut queue = self.queue.lock();
        queue.closed = true;
        std::mem::take(&mut queue.entries)
    }

    /// Removes the first queued entry matching `pred`, if any.
    pub(crate) fn remove_first(&self, pred: impl FnMut(&Envelope<M>) -> bool) -> bool {
        let mut queue = self.queue.lock();
        match queue.entries.iter().position(pred) {
            Some(i) => {
                queue.entries.remove(i);
                true
            }
            None => false,
        }
    }

    /// Releases spare capacity (used by hibernation).
    pub(crate) fn shrink(&self) {
        self.queue.lock().entries.shrink_to_fit();
    }
}
