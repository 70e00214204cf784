//! The process mailbox: one ordered queue for messages and signals.
//!
//! Two rings of entries (`ring.rs`): the shared queue, which senders append
//! to, and the runner's batch, which the process handles without any lock.
//! When the batch runs dry the runner swaps the whole queue for it in one
//! short critical section. Both buffers keep their capacity, so a steady
//! stream of messages allocates nothing, and an empty ring does not
//! allocate, so an idle process with an empty mailbox costs only the two
//! 24-byte headers. A message becomes its envelope only in the slot that
//! stores it ([`Entry`]).
//!
//! # Giving memory back
//!
//! A burst grows both buffers to its size, and a ring never shrinks by
//! itself: a process that drained ten million messages would keep their
//! slots until it hibernates. So the runner looks at the buffers at each
//! batch boundary (in [`Mailbox::idle_or_take`], which runs once per batch,
//! never per message), and only when one holds more than
//! [`SHRINK_ABOVE_BYTES`]:
//!
//! - going idle, with both buffers empty: a big buffer is released;
//! - taking a new batch: the emptied batch buffer becomes the queue that
//!   senders fill next, and if it is more than four times larger than the
//!   backlog it replaces, it is released and the queue starts afresh.
//!
//! The buffers are freed after the critical section. A buffer under the
//! threshold is never touched, so steady traffic allocates nothing; a
//! process whose bursts exceed the threshold pays for regrowing its buffers
//! (by doubling, amortised over the burst's messages). The check costs the
//! common boundary two loads and compares, made before the lock: a mailbox
//! with neither a mark nor an oversized batch buffer takes the fast path.
//! The queue's buffer is checked when it becomes the batch; the one it
//! misses is an empty queue buffer kept by a swap because the backlog it
//! replaced used a quarter of it, with that backlog in a buffer under the
//! threshold — at most four times the threshold, kept until the next burst.
//!
//! # Limit and high-water mark
//!
//! A bounded mailbox refuses (or drops, or exits on) a user message that
//! arrives when the mailbox — queue *and* batch, as `process_info` counts it
//! — already holds `limit` entries. A high-water mark reports the crossing:
//! when the mailbox reaches the mark, once, and the all-clear when it falls
//! below half the mark (checked by senders and at the runner's batch
//! boundaries). The default mark of a bounded mailbox is 80% of its limit.
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
//! word that every sender writes, and its published length and capacity in
//! padding.

use std::sync::atomic::Ordering::Relaxed;

use crate::exit::ExitReason;
use crate::loom::{AtomicU32, UnsafeCell};
use crate::monitor::Down;
use crate::pid::Pid;
use crate::process::state::{Locked, Notify, State, TransitionToIdle};
use crate::ring::Ring;
use crate::system::SystemCall;

/// A mailbox buffer holding more than this many bytes is released at a
/// batch boundary once it is no longer needed (see the module docs).
pub(crate) const SHRINK_ABOVE_BYTES: usize = 256 * 1024;

/// The largest high-water mark: the mark shares its word with two flags.
pub(crate) const MAX_HIGH_WATER: u32 = (1 << 29) - 1;

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
    /// The receive timeout of the given generation (a `u32`) fired (see
    /// `process/after.rs`).
    ///
    /// Held in a `u64` for the layout: with a 4-byte payload here, bytes 4
    /// to 8 of an envelope held data, and an envelope whose message needs a
    /// tag word of its own (a 16-byte enum using its one niche, like the
    /// suite's `Ball`) was written to its slot as a 4-byte tag and a 16-byte
    /// copy of bytes 4 to 20, a load that straddled the message's own
    /// stores and stalled store forwarding on every send. With the payload
    /// at offset 8, bytes 4 to 8 are padding in every variant and the
    /// message is copied whole: ring 1.32×, pingpong 1.41×
    /// (`docs/benchmarks.md`, "The envelope's padding"). The size of an
    /// envelope did not change for any message type.
    Timeout(u64),
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
    bounds: Bounds,
}

// SAFETY: the queue is touched only under the owner's state lock (module
// invariant 1), which hands it from thread to thread; the entries are
// `Send`.
unsafe impl<M: Send> Sync for Mailbox<M> {}

/// The runner's half: entries taken from the queue, or handed over by the
/// send that woke the process, and not yet handled (module invariant 2).
pub(crate) struct BatchCell<M>(UnsafeCell<Ring<Envelope<M>>>);

// SAFETY: the entries are touched only by the holder of the run right
// (module invariant 2), handed from thread to thread with happens-before;
// the entries are `Send`.
unsafe impl<M: Send> Sync for BatchCell<M> {}

impl<M> BatchCell<M> {
    pub(crate) fn new() -> Self {
        BatchCell(UnsafeCell::new(Ring::new()))
    }
}

/// A process's batch as its runner uses it: the entries, and the count of
/// them and the capacity of their buffer, which the holder of the run right
/// publishes for `process_info` (which may not look at the entries). They
/// live apart — the figures in the padding of the process header — so an
/// idle process stays small.
#[derive(Clone, Copy)]
pub(crate) struct Batch<'a, M> {
    pub(crate) entries: &'a BatchCell<M>,
    pub(crate) len: &'a AtomicU32,
    /// The buffer's capacity, published at batch boundaries (not by every
    /// [`with`](Self::with): a handler's `pop` never changes it).
    pub(crate) capacity: &'a AtomicU32,
}

impl<M> Batch<'_, M> {
    /// Calls `f` with the entries, and publishes their number afterwards.
    ///
    /// # Safety
    ///
    /// The caller holds the process's run right (module invariant 2).
    #[inline]
    pub(crate) unsafe fn with<R>(&self, f: impl FnOnce(&mut Ring<Envelope<M>>) -> R) -> R {
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

    /// The next entry, left in its slot for the caller to move out (see
    /// [`Ring::take_front`]).
    ///
    /// # Safety
    ///
    /// As for [`with`](Self::with); and the caller moves the entry out of
    /// the returned slot (`ptr::read`) before anything touches this batch
    /// again.
    #[inline]
    pub(crate) unsafe fn pop_in_place(&self) -> Option<std::ptr::NonNull<Envelope<M>>> {
        self.entries.0.with_mut(|entries| {
            // SAFETY: as in `with`, by the caller's contract.
            let entries = unsafe { &mut *entries };
            // An empty batch changed nothing: nothing to publish (the
            // runner looks once per slice, just before it goes idle).
            let slot = entries.take_front()?;
            self.len.store(entries.len() as u32, Relaxed);
            Some(slot)
        })
    }

    /// The number of entries as last published; exact for its holder,
    /// a snapshot for everyone else.
    pub(crate) fn len(&self) -> usize {
        self.len.load(Relaxed) as usize
    }

    /// The buffer's capacity as of the last batch boundary.
    pub(crate) fn capacity(&self) -> usize {
        self.capacity.load(Relaxed) as usize
    }

    /// Publishes the capacity of `entries`, the batch's buffer. Only the
    /// holder of the run right calls this, inside [`with`](Self::with).
    fn publish_capacity(&self, entries: &Ring<Envelope<M>>) {
        let capacity = u32::try_from(entries.capacity()).unwrap_or(u32::MAX);
        if self.capacity.load(Relaxed) != capacity {
            self.capacity.store(capacity, Relaxed);
        }
    }
}

struct Queue<M> {
    entries: Ring<Envelope<M>>,
}

/// A mailbox's limit, high-water mark and overflow policy, in eight bytes
/// so that the control block of an idle process does not grow: `watch`
/// holds the mark in its low 29 bits, the policy in the next two and, in
/// the top bit, whether the mailbox is above the mark (the warning went
/// out and the all-clear has not).
///
/// Everything but that bit is fixed at spawn, so senders and the runner
/// read `watch` before taking the lock, to choose the fast path (no mark,
/// no limit: nothing to check); the bit is read and written only under the
/// owner's state lock, which orders those accesses (so `Relaxed` is
/// enough).
struct Bounds {
    /// Maximum number of entries a user message may find; 0 for no limit.
    limit: u32,
    watch: AtomicU32,
}

const MARK_MASK: u32 = MAX_HIGH_WATER;
const POLICY_SHIFT: u32 = 29;
const ABOVE: u32 = 1 << 31;

/// A high-water crossing, with the mailbox's length at that moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mark {
    /// The mailbox reached its high-water mark.
    Above { len: usize, mark: u32 },
    /// It fell below half the mark again.
    Below { len: usize, mark: u32 },
}

/// What the bounds say to one more entry.
enum Admit {
    Yes,
    /// Yes, and the mailbox crossed its mark.
    Crossed(Mark),
    Full(Overflow),
}

impl Bounds {
    fn new(limit: u32, high_water: u32, overflow: Overflow) -> Self {
        let mark = match (high_water, limit) {
            (0, 0) => 0,
            (0, limit) => default_high_water(limit),
            (mark, _) => mark.min(MAX_HIGH_WATER),
        };
        let policy = match overflow {
            Overflow::Reject => 0,
            Overflow::Drop => 1,
            Overflow::Exit => 2,
        };
        Bounds {
            limit,
            watch: AtomicU32::new(mark | policy << POLICY_SHIFT),
        }
    }

    /// Whether there is a limit or a mark to check; a bounded mailbox
    /// always has a mark. Readable without the lock.
    #[inline]
    fn active(&self) -> bool {
        self.watch.load(Relaxed) & MARK_MASK != 0
    }

    fn mark(&self) -> u32 {
        self.watch.load(Relaxed) & MARK_MASK
    }

    fn overflow(&self) -> Overflow {
        match (self.watch.load(Relaxed) >> POLICY_SHIFT) & 3 {
            0 => Overflow::Reject,
            1 => Overflow::Drop,
            _ => Overflow::Exit,
        }
    }

    /// Sets or clears the "above the mark" bit; under the state lock.
    fn set_above(&self, above: bool) {
        let watch = self.watch.load(Relaxed);
        let watch = if above { watch | ABOVE } else { watch & !ABOVE };
        self.watch.store(watch, Relaxed);
    }

    fn above(&self) -> bool {
        self.watch.load(Relaxed) & ABOVE != 0
    }

    /// One more entry for a mailbox holding `len`; `message`: a user
    /// message, which the limit applies to (signals are never refused).
    /// Under the state lock.
    fn admit(&self, len: usize, message: bool) -> Admit {
        if message && self.limit > 0 && len >= self.limit as usize {
            return Admit::Full(self.overflow());
        }
        let after = len + 1;
        let mark = self.mark();
        if !self.above() && after >= mark as usize {
            self.set_above(true);
            return Admit::Crossed(Mark::Above { len: after, mark });
        }
        self.settle(after).map_or(Admit::Yes, Admit::Crossed)
    }

    /// The all-clear, if the mailbox was above its mark and now holds
    /// `len`, less than half the mark. Under the state lock.
    fn settle(&self, len: usize) -> Option<Mark> {
        let mark = self.mark();
        if self.above() && len.saturating_mul(2) < mark as usize {
            self.set_above(false);
            return Some(Mark::Below { len, mark });
        }
        None
    }
}

/// The high-water mark of a mailbox bounded at `limit` when none is set:
/// 80% of the limit (at least 1).
pub(crate) fn default_high_water(limit: u32) -> u32 {
    ((u64::from(limit) * 4 / 5) as u32).clamp(1, MAX_HIGH_WATER)
}

/// What [`Mailbox::push`] appends: a signal's envelope, or a user message
/// ([`Message`]), which becomes its envelope only in the slot that stores
/// it (see `ring.rs`: built earlier, it would be copied into the slot
/// through the stack, a store-forwarding stall per send).
pub(crate) trait Entry<M> {
    /// A user message, held to the mailbox's limit.
    fn is_message(&self) -> bool;
    fn into_envelope(self) -> Envelope<M>;
}

impl<M> Entry<M> for Envelope<M> {
    #[inline(always)]
    fn is_message(&self) -> bool {
        matches!(self, Envelope::Message(_))
    }

    #[inline(always)]
    fn into_envelope(self) -> Envelope<M> {
        self
    }
}

/// A user message on its way into a mailbox (see [`Entry`]).
pub(crate) struct Message<M>(pub(crate) M);

impl<M> Entry<M> for Message<M> {
    #[inline(always)]
    fn is_message(&self) -> bool {
        true
    }

    #[inline(always)]
    fn into_envelope(self) -> Envelope<M> {
        Envelope::Message(self.0)
    }
}

/// Why an entry was not appended; it comes back.
pub(crate) enum Refused<E> {
    /// The process is exiting or has exited (rule 13, R1).
    Closed(E),
    Full(E, Overflow),
}

impl<M> Mailbox<M> {
    /// A mailbox; `limit` and `high_water` 0 for none (see
    /// [`SpawnOptions`](crate::SpawnOptions)).
    pub(crate) fn new(limit: u32, high_water: u32, overflow: Overflow) -> Self {
        Mailbox {
            queue: UnsafeCell::new(Queue {
                entries: Ring::new(),
            }),
            bounds: Bounds::new(limit, high_water, overflow),
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
    /// are held to the limit. A high-water crossing is passed to `crossed`
    /// after the critical section.
    #[inline]
    pub(crate) fn push<E: Entry<M>>(
        &self,
        state: &State,
        batch: Batch<'_, M>,
        entry: E,
        crossed: impl FnOnce(Mark),
    ) -> Result<Notify, Refused<E>> {
        if self.bounds.active() {
            return self.push_watched(state, batch, entry, crossed);
        }
        self.push_unbounded(state, batch, entry)
    }

    /// Whether the mailbox has a limit or a high-water mark: a push must
    /// then go through [`push`](Self::push), which watches them.
    #[inline]
    pub(crate) fn is_bounded(&self) -> bool {
        self.bounds.active()
    }

    /// [`push`](Self::push) to a mailbox that is not
    /// [bounded](Self::is_bounded). A send takes this path after its own
    /// test, and calls out of line for a bounded mailbox: the hot path then
    /// keeps neither a batch handle in memory for a call it will not make
    /// nor a copy of the entry for a refusal it will not return.
    #[inline]
    pub(crate) fn push_unbounded<E: Entry<M>>(
        &self,
        state: &State,
        batch: Batch<'_, M>,
        entry: E,
    ) -> Result<Notify, Refused<E>> {
        debug_assert!(!self.bounds.active());
        // The entry is moved into the queue from where the caller left it,
        // inside the critical section, not copied into the closure first:
        // a message the sender has just built (with stores narrower than
        // the copy's loads, for an enum) cannot be forwarded from the store
        // buffer to a wider load, and the copy would stall, on every send;
        // after the lock's locked instruction those stores are in the
        // cache. Ring 1.07-1.10×, pingpong 1.07× (`docs/benchmarks.md`,
        // "The envelope's padding").
        let mut entry = std::mem::ManuallyDrop::new(entry);
        self.locked(state, |word, queue| {
            // Taken on one of the two paths, where it is used: taken
            // before the branch, it was copied to the stack for the
            // refusal on every send.
            if !word.is_alive() {
                // SAFETY: taken once, here, and never used again: `locked`
                // calls the closure exactly once.
                let entry = unsafe { std::mem::ManuallyDrop::take(&mut entry) };
                return Err(Refused::Closed(entry));
            }
            // SAFETY: as above, on the other path.
            let entry = unsafe { std::mem::ManuallyDrop::take(&mut entry) };
            Ok(queue.append(word, batch, entry))
        })
    }

    /// [`push`](Self::push) to a mailbox with a limit or a high-water mark.
    #[cold]
    #[inline(never)]
    fn push_watched<E: Entry<M>>(
        &self,
        state: &State,
        batch: Batch<'_, M>,
        entry: E,
        crossed: impl FnOnce(Mark),
    ) -> Result<Notify, Refused<E>> {
        let mut mark = None;
        let pushed = self.locked(state, |word, queue| {
            if !word.is_alive() {
                return Err(Refused::Closed(entry));
            }
            // The whole mailbox: the runner's published batch count may
            // lag behind its pops, which only errs towards "full".
            let len = queue.entries.len() + batch.len();
            match self.bounds.admit(len, entry.is_message()) {
                Admit::Yes => {}
                Admit::Crossed(m) => mark = Some(m),
                Admit::Full(overflow) => return Err(Refused::Full(entry, overflow)),
            }
            Ok(queue.append(word, batch, entry))
        });
        // Outside the lock: a report may take its time.
        if let Some(mark) = mark {
            crossed(mark);
        }
        pushed
    }

    /// The runner's batch is empty: goes idle if the queue is empty too,
    /// else moves what arrived to the batch (`Notified`). After `Ok` the
    /// caller has given up the run right. Releases buffers a burst left
    /// behind (see the module docs) and passes a high-water all-clear to
    /// `crossed`, both after the critical section.
    ///
    /// # Safety
    ///
    /// The caller holds the run right of the process that owns `batch`.
    #[inline]
    pub(crate) unsafe fn idle_or_take(
        &self,
        state: &State,
        batch: Batch<'_, M>,
        crossed: impl FnOnce(Mark),
    ) -> TransitionToIdle {
        // The common case: no mark to watch, no buffer to give back. The
        // published capacity is exact but for the few slots a waking send
        // may have allocated. (The queue's buffer is not checked here: it
        // is the batch's at the next boundary. See the module docs for the
        // one buffer this leaves until the next burst.)
        if self.bounds.active() || oversized::<M>(batch.capacity()) {
            // SAFETY: the caller's contract.
            return unsafe { self.idle_or_take_slow(state, batch, crossed) };
        }
        self.locked(state, |word, queue| {
            let next = word.transition_to_idle(queue.entries.is_empty());
            if next == TransitionToIdle::Notified {
                // SAFETY: the caller's run right lasts until the unlock that
                // follows this critical section.
                unsafe {
                    batch.with(|entries| {
                        queue.take_into(entries);
                        batch.publish_capacity(entries);
                    })
                };
            }
            next
        })
    }

    /// [`idle_or_take`](Self::idle_or_take) when there is a mark to watch
    /// or a buffer to give back.
    ///
    /// # Safety
    ///
    /// As for `idle_or_take`.
    #[cold]
    #[inline(never)]
    unsafe fn idle_or_take_slow(
        &self,
        state: &State,
        batch: Batch<'_, M>,
        crossed: impl FnOnce(Mark),
    ) -> TransitionToIdle {
        let mut spare = Spare::EMPTY;
        let mut mark = None;
        let next = self.locked(state, |word, queue| {
            let next = word.transition_to_idle(queue.entries.is_empty());
            if self.bounds.active() {
                mark = self.bounds.settle(queue.entries.len());
            }
            match next {
                // SAFETY: the caller's run right lasts until the unlock
                // that follows this critical section.
                TransitionToIdle::Notified => unsafe {
                    batch.with(|entries| {
                        queue.take_or_release(entries, &mut spare);
                        batch.publish_capacity(entries);
                    })
                },
                TransitionToIdle::Ok => {
                    if oversized::<M>(batch.capacity()) {
                        // SAFETY: as above.
                        unsafe {
                            batch.with(|entries| {
                                spare.0[0] = std::mem::take(entries);
                                batch.publish_capacity(entries);
                            })
                        };
                    }
                    if oversized::<M>(queue.entries.capacity()) {
                        spare.0[1] = std::mem::take(&mut queue.entries);
                    }
                }
                TransitionToIdle::Exiting => {}
            }
            next
        });
        // Outside the lock: freeing a large buffer takes time.
        drop(spare);
        if let Some(mark) = mark {
            crossed(mark);
        }
        next
    }

    /// Number of queued entries (not counting the runner's batch).
    pub(crate) fn len(&self, state: &State) -> usize {
        self.locked(state, |_, queue| queue.entries.len())
    }

    /// The capacity of the queue's buffer, in entries (not counting the
    /// runner's batch).
    pub(crate) fn capacity(&self, state: &State) -> usize {
        self.locked(state, |_, queue| queue.entries.capacity())
    }

    /// Returns what was still queued when the process exited, to be dropped
    /// outside the lock (drops may run user code). The process is marked
    /// exiting already, so nothing more is appended.
    pub(crate) fn close(&self, state: &State) -> Ring<Envelope<M>> {
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

    /// Releases spare capacity of both buffers (hibernation).
    ///
    /// # Safety
    ///
    /// The caller holds the run right of the process that owns `batch`.
    pub(crate) unsafe fn shrink(&self, state: &State, batch: Batch<'_, M>) {
        self.locked(state, |_, queue| {
            queue.entries.shrink_to_fit();
            // SAFETY: the caller's contract.
            unsafe {
                batch.with(|entries| {
                    entries.shrink_to_fit();
                    batch.publish_capacity(entries);
                })
            };
        });
    }
}

/// Buffers released in a critical section, freed after it.
struct Spare<M>([Ring<Envelope<M>>; 2]);

impl<M> Spare<M> {
    /// No buffers (allocates nothing).
    const EMPTY: Self = Spare([Ring::new(), Ring::new()]);
}

/// The capacity, in entries, above which an empty buffer is given back:
/// [`SHRINK_ABOVE_BYTES`] worth (a constant per message type).
#[inline]
fn shrink_above_entries<M>() -> usize {
    SHRINK_ABOVE_BYTES / std::mem::size_of::<Envelope<M>>().max(1)
}

/// Whether an empty buffer of `capacity` entries is big enough to give
/// back.
#[inline]
fn oversized<M>(capacity: usize) -> bool {
    capacity > shrink_above_entries::<M>()
}

impl<M> Queue<M> {
    /// Appends `entry` for a live process, into the batch if this send
    /// wakes it (`word.notify()` says so).
    #[inline]
    fn append(
        &mut self,
        word: &mut Locked<'_>,
        batch: Batch<'_, M>,
        entry: impl Entry<M>,
    ) -> Notify {
        let notify = word.notify();
        match notify {
            // SAFETY: invariant 2 — `notify` just gave this thread the run
            // right, which it keeps until it enqueues the process.
            Notify::Schedule => unsafe {
                batch.with(|batch| batch.push_back_with(|| entry.into_envelope()))
            },
            Notify::Nothing => self.entries.push_back_with(|| entry.into_envelope()),
        }
        notify
    }

    /// Moves everything queued to the back of `batch`. When `batch` is
    /// empty (the common case) the two buffers are swapped, keeping both
    /// allocations.
    #[inline]
    fn take_into(&mut self, batch: &mut Ring<Envelope<M>>) {
        if batch.is_empty() {
            std::mem::swap(&mut self.entries, batch);
        } else {
            batch.append(&mut self.entries);
        }
    }

    /// [`take_into`](Self::take_into), but the batch's empty buffer, which
    /// becomes the queue, goes to `spare` instead if it is oversized for
    /// the backlog it replaces, and the queue starts afresh.
    fn take_or_release(&mut self, batch: &mut Ring<Envelope<M>>, spare: &mut Spare<M>) {
        if batch.is_empty()
            && oversized::<M>(batch.capacity())
            && batch.capacity() / 4 > self.entries.len()
        {
            spare.0[0] = std::mem::take(batch);
        }
        self.take_into(batch);
    }
}
