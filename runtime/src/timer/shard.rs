//! One shard of the timer service: a timing wheel under its own lock, and
//! the per-process lists threaded through it.
//!
//! Every timer aimed at a process lives in the shard that process's pid
//! hashes to, on a doubly linked list whose links are the entries' slab
//! indices and whose head is the process's [`TimerList`]. Cancelling or
//! firing a timer unlinks it in O(1); the process's exit walks its list
//! (see `README.md`, exit rules).

use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;

use std::cell::UnsafeCell;
use std::ops::{Deref, DerefMut};

use crate::lock_word::{LockWord, WordGuard};

use super::sync::AtomicU64;
use super::wheel::{Key, Wheel};
use super::{TimerList, TimerRef, FOREVER};
use crate::process::pcb::Header;

/// No entry: the end of a list, or an empty one.
pub(crate) const NIL: u32 = u32::MAX;

/// A one-shot timer's action: a message and where it goes, type-erased.
pub(crate) trait Fire: Send {
    /// The process the message goes to, if the timer is tied to one.
    fn target(&self) -> Option<&Header>;
    /// The list the timer is on while armed: its target's.
    fn list(&self) -> Option<&TimerList> {
        self.target().map(|h| &h.timers)
    }
    /// Delivers the message; `tref` is the timer that fired.
    fn fire(self: Box<Self>, tref: TimerRef);
}

/// An interval's action, run on every tick.
pub(crate) trait Tick: Send + Sync {
    /// The process the ticks go to.
    fn target(&self) -> Option<&Header>;
    /// Delivers one tick; false once the target is gone, which ends the
    /// interval (rule 45).
    fn tick(&self) -> bool;
}

/// What a timer does when it fires.
pub(crate) enum Action {
    /// Deliver once.
    Once(Box<dyn Fire>),
    /// Deliver every `period_ms`, at absolute deadlines (rule 44). Shared,
    /// so that a tick runs outside the lock while the timer stays armed.
    Interval { period_ms: u64, tick: Arc<dyn Tick> },
}

impl Action {
    pub(crate) fn target(&self) -> Option<&Header> {
        match self {
            Action::Once(f) => f.target(),
            Action::Interval { tick, .. } => tick.target(),
        }
    }

    fn list(&self) -> Option<&TimerList> {
        match self {
            Action::Once(f) => f.list(),
            Action::Interval { tick, .. } => tick.target().map(|h| &h.timers),
        }
    }
}

/// A callback timer tied to no process.
pub(crate) struct Callback(pub(crate) Box<dyn FnOnce() + Send>);

impl Fire for Callback {
    fn target(&self) -> Option<&Header> {
        None
    }

    fn fire(self: Box<Self>, _tref: TimerRef) {
        (self.0)()
    }
}

/// An entry of the wheel.
struct Timer {
    action: Action,
    /// Neighbours on the target's list (slab indices), `NIL` at the ends
    /// and for timers tied to no process.
    prev: u32,
    next: u32,
}

/// A timer taken from the wheel because it is due, to run outside the lock.
pub(crate) struct Due {
    pub(crate) deadline: u64,
    pub(crate) tref: TimerRef,
    pub(crate) action: DueAction,
}

pub(crate) enum DueAction {
    Once(Box<dyn Fire>),
    Tick(Arc<dyn Tick>),
}

struct Locked {
    wheel: Wheel<Timer>,
    /// Reused by `take_due`.
    scratch: Vec<(Key, u64)>,
}

/// A lock over `T` made of a [`LockWord`]: taking it is one `fetch_or`,
/// releasing it a plain store, where a mutex costs a read-modify-write for
/// each. Arming and cancelling a timer each take a shard's lock once; the
/// two locked instructions saved took an arm+cancel pair from 175 to 164 ns
/// (see `docs/benchmarks.md`). A contender spins briefly, then yields; holders
/// only move a few entries, except a pass of the timer thread, which moves
/// the entries due (their actions run after it releases the lock).
struct ShardLock<T> {
    word: LockWord,
    data: UnsafeCell<T>,
}

// SAFETY: the data is reached only through a `ShardGuard`, and a guard
// exists only while its thread holds the word's lock bit, which one thread
// at a time can hold: so `&ShardLock` gives `&mut T` to one thread at a
// time, which is sound for `T: Send`, like `Mutex<T>: Sync`.
unsafe impl<T: Send> Sync for ShardLock<T> {}

struct ShardGuard<'a, T> {
    data: &'a UnsafeCell<T>,
    /// Released (by a store) when the guard drops, after the last use of
    /// the data.
    _word: WordGuard<'a>,
}

impl<T> ShardLock<T> {
    fn new(data: T) -> Self {
        ShardLock {
            word: LockWord::new(0),
            data: UnsafeCell::new(data),
        }
    }

    #[inline]
    fn lock(&self) -> ShardGuard<'_, T> {
        ShardGuard {
            _word: self.word.lock(),
            data: &self.data,
        }
    }
}

impl<T> Deref for ShardGuard<'_, T> {
    type Target = T;

    fn deref(&self) -> &T {
        // SAFETY: this guard holds the lock bit, so no other guard exists
        // (see `Sync` above); the reference lives no longer than `&self`.
        unsafe { &*self.data.get() }
    }
}

impl<T> DerefMut for ShardGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: as in `deref`; `&mut self` excludes any other reference
        // handed out by this guard.
        unsafe { &mut *self.data.get() }
    }
}

/// Aligned to two cache lines so that neighbouring shards, armed from
/// different threads, share none.
#[repr(align(128))]
pub(crate) struct Shard {
    locked: ShardLock<Locked>,
    /// Never later than the wheel's next event (ms): the earliest deadline
    /// or the cascade before it; `FOREVER` when the wheel was empty at the
    /// last look (wake rule 3). Written under the lock; read without it.
    hint: AtomicU64,
}

impl Shard {
    pub(crate) fn new() -> Self {
        Shard {
            locked: ShardLock::new(Locked {
                wheel: Wheel::new(),
                scratch: Vec::new(),
            }),
            hint: AtomicU64::new(FOREVER),
        }
    }

    pub(crate) fn hint(&self) -> u64 {
        self.hint.load(Relaxed)
    }

    /// Files `action` at `deadline` and puts it on its target's list.
    pub(crate) fn insert(&self, deadline: u64, action: Action) -> Key {
        let mut locked = self.locked.lock();
        let wheel = &mut locked.wheel;
        let key = wheel.insert(
            deadline,
            Timer {
                action,
                prev: NIL,
                next: NIL,
            },
        );
        link(wheel, key.index);
        // Wake rule 3: the hint bounds the wheel's next event, which may be
        // a cascade before the deadline.
        let wake = wheel.wake_at(key).unwrap_or(deadline);
        if wake < self.hint.load(Relaxed) {
            self.hint.store(wake, Relaxed);
        }
        key
    }

    /// Removes a live timer: its deadline and action.
    pub(crate) fn remove(&self, key: Key) -> Option<(u64, Action)> {
        let mut locked = self.locked.lock();
        let wheel = &mut locked.wheel;
        wheel.value(key)?;
        unlink(wheel, key.index);
        wheel.remove(key).map(|(deadline, t)| (deadline, t.action))
    }

    /// The deadline of a live timer whose target (if any) is alive.
    pub(crate) fn read(&self, key: Key) -> Option<u64> {
        let locked = self.locked.lock();
        let timer = locked.wheel.value(key)?;
        if timer.action.target().is_some_and(|h| !h.state.is_alive()) {
            return None;
        }
        locked.wheel.deadline(key)
    }

    /// Removes every timer on `list` (exit rule 4); the actions are returned
    /// to be dropped outside the lock.
    pub(crate) fn take_list(&self, list: &TimerList) -> Vec<Action> {
        let mut locked = self.locked.lock();
        let wheel = &mut locked.wheel;
        let mut taken = Vec::new();
        let mut index = list.head.load(Relaxed);
        list.head.store(NIL, Relaxed);
        while index != NIL {
            let Some(key) = wheel.key_at(index) else {
                debug_assert!(false, "a list links only live entries");
                break;
            };
            let Some((_, timer)) = wheel.remove(key) else {
                break;
            };
            index = timer.next;
            taken.push(timer.action);
        }
        taken
    }

    /// Moves every timer due by `now_ms` to `out`: a one-shot timer leaves
    /// the wheel (and its list), an interval is re-filed a period after its
    /// deadline (rule 44). Returns the hint for what is left.
    pub(crate) fn take_due(&self, now_ms: u64, shard: usize, out: &mut Vec<Due>) -> u64 {
        let mut locked = self.locked.lock();
        let Locked { wheel, scratch } = &mut *locked;
        wheel.advance(now_ms, scratch);
        for (key, deadline) in scratch.drain(..) {
            let tref = TimerRef {
                generation: key.generation,
                index: key.index,
                shard: shard as u32,
            };
            let interval = match wheel.value(key).map(|t| &t.action) {
                Some(Action::Interval { period_ms, tick }) => Some((*period_ms, tick.clone())),
                Some(Action::Once(_)) => None,
                None => continue,
            };
            let action = match interval {
                Some((period, tick)) => {
                    // Anchored to absolute deadlines (rule 44): a late tick
                    // does not shift the ones after it.
                    wheel.refile_due(key, deadline + period);
                    DueAction::Tick(tick)
                }
                None => {
                    unlink(wheel, key.index);
                    match wheel.take_due(key) {
                        Some(Timer {
                            action: Action::Once(f),
                            ..
                        }) => DueAction::Once(f),
                        _ => continue,
                    }
                }
            };
            out.push(Due {
                deadline,
                tref,
                action,
            });
        }
        let hint = wheel.next_deadline().unwrap_or(FOREVER);
        self.hint.store(hint, Relaxed);
        hint
    }

    /// The exact next deadline (ms), looking under the lock.
    pub(crate) fn next_deadline(&self) -> Option<u64> {
        self.locked.lock().wheel.next_deadline()
    }

    pub(crate) fn len(&self) -> usize {
        self.locked.lock().wheel.len()
    }
}

/// Pushes the entry at `index` on the front of its target's list (exit
/// rule 1: under the shard's lock).
fn link(wheel: &mut Wheel<Timer>, index: u32) {
    let Some(head) = wheel
        .at(index)
        .and_then(|t| t.action.list())
        .map(|list| &list.head)
    else {
        return;
    };
    let old = head.load(Relaxed);
    head.store(index, Relaxed);
    if let Some(t) = wheel.at_mut(index) {
        t.next = old;
    }
    if let Some(t) = wheel.at_mut(old) {
        t.prev = index;
    }
}

/// Takes the entry at `index` off its target's list.
fn unlink(wheel: &mut Wheel<Timer>, index: u32) {
    let Some(t) = wheel.at(index) else {
        return;
    };
    let (prev, next) = (t.prev, t.next);
    if prev == NIL {
        if let Some(list) = t.action.list() {
            list.head.store(next, Relaxed);
        }
    } else if let Some(p) = wheel.at_mut(prev) {
        p.next = next;
    }
    if let Some(n) = wheel.at_mut(next) {
        n.prev = prev;
    }
    if let Some(t) = wheel.at_mut(index) {
        t.prev = NIL;
        t.next = NIL;
    }
}
