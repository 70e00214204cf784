//! A reader-writer lock for read-mostly data: a reader indicator per group
//! of threads, each on its own cache line (ETS's `read_concurrency`).
//!
//! ```text
//!   reader on thread t ──► shards[t % 8].lock_shared()      one line
//!   writer             ──► shards[0..8].lock_exclusive()    every line
//! ```
//!
//! A plain reader-writer lock is one word that every reader writes: readers
//! on different cores pass its cache line back and forth, and a read costs
//! a cache miss as soon as two cores read. Here a reader takes the shared
//! lock of its own shard only, so readers on different threads never write
//! the same line; a writer takes every shard's lock exclusively, in order,
//! which excludes every reader and every other writer.
//!
//! Each shard is a `parking_lot` raw lock: no poisoning (the stores keep
//! their maps consistent through a panic: std's maps are panic-safe), and a
//! shared lock and its release are one atomic instruction each. It replaced
//! `crossbeam_utils::ShardedLock`, whose shards are poisoning `std` locks:
//! a store's read went from about 120 to about 70 instructions, a write
//! from about 380 to about 180 (`docs/benchmarks.md`, "A lock of our own").
//!
//! A thread's shard is fixed at its first read, round robin over the
//! threads that read any store: a runtime's few workers get a shard each.

use std::cell::{Cell, UnsafeCell};
use std::marker::PhantomData;
use std::ops::{Deref, DerefMut};
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};

use crossbeam_utils::CachePadded;
use parking_lot::lock_api::RawRwLock as _;
use parking_lot::RawRwLock;

/// Reader indicators per lock: threads beyond this many share them.
const SHARDS: usize = 8;

/// The next thread's shard number.
static NEXT_SHARD: AtomicUsize = AtomicUsize::new(0);

thread_local! {
    /// This thread's shard number, `usize::MAX` until its first read.
    static SHARD: Cell<usize> = const { Cell::new(usize::MAX) };
}

/// The calling thread's shard.
#[inline]
fn this_shard() -> usize {
    let n = SHARD.with(|s| {
        let n = s.get();
        if n != usize::MAX {
            return n;
        }
        let n = NEXT_SHARD.fetch_add(1, Relaxed);
        s.set(n);
        n
    });
    n % SHARDS
}

/// A reader-writer lock with a reader indicator per group of threads.
pub(crate) struct ShardedLock<T> {
    /// Boxed: a store keeps its stripes in one array, and a stripe with a
    /// plain lock must not take a kilobyte because this kind does.
    shards: Box<[CachePadded<RawRwLock>; SHARDS]>,
    value: UnsafeCell<T>,
}

// SAFETY: the lock hands out `&T` to readers on any thread and `&mut T` to
// one writer at a time, as `std::sync::RwLock` does, under the same bounds.
unsafe impl<T: Send> Send for ShardedLock<T> {}
// SAFETY: as above: shared access needs `T: Sync`, moving a value out
// through a write guard needs `T: Send`.
unsafe impl<T: Send + Sync> Sync for ShardedLock<T> {}

impl<T> ShardedLock<T> {
    pub(crate) fn new(value: T) -> Self {
        ShardedLock {
            shards: Box::new(std::array::from_fn(|_| CachePadded::new(RawRwLock::INIT))),
            value: UnsafeCell::new(value),
        }
    }

    /// Locks for reading: the calling thread's shard, shared.
    #[inline]
    pub(crate) fn read(&self) -> ReadGuard<'_, T> {
        let shard = this_shard();
        self.shards[shard].lock_shared();
        ReadGuard {
            lock: self,
            shard,
            _not_send: PhantomData,
        }
    }

    /// Locks for writing: every shard, exclusively, in order.
    pub(crate) fn write(&self) -> WriteGuard<'_, T> {
        for shard in self.shards.iter() {
            shard.lock_exclusive();
        }
        WriteGuard {
            lock: self,
            _not_send: PhantomData,
        }
    }
}

/// Shared access, until dropped.
pub(crate) struct ReadGuard<'a, T> {
    lock: &'a ShardedLock<T>,
    shard: usize,
    /// `parking_lot`'s locks are released by the thread that took them.
    _not_send: PhantomData<*const ()>,
}

impl<T> Deref for ReadGuard<'_, T> {
    type Target = T;

    #[inline]
    fn deref(&self) -> &T {
        // SAFETY: this guard holds a shared lock of one shard; a writer
        // needs every shard exclusively, so none runs while it lives.
        unsafe { &*self.lock.value.get() }
    }
}

impl<T> Drop for ReadGuard<'_, T> {
    #[inline]
    fn drop(&mut self) {
        // SAFETY: `read` took this shard's shared lock on this thread (the
        // guard is not `Send`), and this is its only release.
        unsafe { self.lock.shards[self.shard].unlock_shared() }
    }
}

/// Exclusive access, until dropped.
pub(crate) struct WriteGuard<'a, T> {
    lock: &'a ShardedLock<T>,
    _not_send: PhantomData<*const ()>,
}

impl<T> Deref for WriteGuard<'_, T> {
    type Target = T;

    #[inline]
    fn deref(&self) -> &T {
        // SAFETY: this guard holds every shard exclusively: no reader and
        // no other writer runs while it lives.
        unsafe { &*self.lock.value.get() }
    }
}

impl<T> DerefMut for WriteGuard<'_, T> {
    #[inline]
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: as in `deref`; `&mut self` makes this the only reference
        // the guard hands out.
        unsafe { &mut *self.lock.value.get() }
    }
}

impl<T> Drop for WriteGuard<'_, T> {
    fn drop(&mut self) {
        for shard in self.lock.shards.iter().rev() {
            // SAFETY: `write` took every shard's exclusive lock on this
            // thread, and this is their only release.
            unsafe { shard.unlock_exclusive() }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicBool;
    use std::sync::Arc;

    /// A writer keeps two fields equal only under the lock (it writes one,
    /// then the other); readers on more threads than there are shards must
    /// never see them differ, and the writer's updates must all land.
    #[test]
    fn readers_never_see_a_write_half_done() {
        let lock = Arc::new(ShardedLock::new((0u64, 0u64)));
        let stop = Arc::new(AtomicBool::new(false));
        let readers: Vec<_> = (0..SHARDS + 2)
            .map(|_| {
                let (lock, stop) = (lock.clone(), stop.clone());
                std::thread::spawn(move || {
                    let mut reads = 0u64;
                    while !stop.load(Relaxed) || reads == 0 {
                        let g = lock.read();
                        assert_eq!(g.0, g.1, "a read saw a write half done");
                        reads += 1;
                    }
                    reads
                })
            })
            .collect();
        let writers: Vec<_> = (0..2)
            .map(|_| {
                let lock = lock.clone();
                std::thread::spawn(move || {
                    for _ in 0..20_000 {
                        let mut g = lock.write();
                        g.0 += 1;
                        std::hint::black_box(&mut *g);
                        g.1 += 1;
                    }
                })
            })
            .collect();
        for w in writers {
            w.join().unwrap();
        }
        stop.store(true, Relaxed);
        for r in readers {
            assert!(r.join().unwrap() > 0);
        }
        assert_eq!(*lock.read(), (40_000, 40_000));
    }

    /// A thread reads through the same shard every time.
    #[test]
    fn a_thread_keeps_its_shard() {
        let first = this_shard();
        assert_eq!(this_shard(), first);
        assert!(first < SHARDS);
    }
}
