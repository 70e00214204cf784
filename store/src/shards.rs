//! Lock striping: a store's entries spread over many small maps, each
//! behind its own reader-writer lock, chosen by the key's hash.
//!
//! ```text
//!   hash(key) ──bits 32..──► shard i ──► RwLock<HashMap<K, T>>
//! ```
//!
//! Readers of different shards share nothing; readers of one shard never
//! wait for each other (and with `read_concurrency` do not even share a
//! cache line, see [`Stripe`]). A writer holds one shard's
//! lock for one map operation. Each shard sits on its own pair of cache
//! lines, so that taking one lock never invalidates a neighbour's.
//!
//! The shard index comes from the middle bits of the hash: the maps
//! themselves place entries by the low bits and tag them with the top ones,
//! and a shard whose keys all shared those bits would probe badly.
//!
//! No user code runs under a shard lock except the key's `Eq` (and its
//! `Hash` again, which already succeeded once on the same key), and callers
//! never call back into a store while they hold a shard, so a store cannot
//! deadlock on itself.

use std::collections::HashMap;
use std::hash::Hash;

use std::ops::{Deref, DerefMut};

use parking_lot::{RwLock, RwLockReadGuard, RwLockWriteGuard};

use crate::hash::Seed;
use crate::sharded_lock::{self, ShardedLock};

/// A stripe's reader-writer lock, of one of two kinds chosen per store:
///
/// - `Plain`: one `parking_lot` lock word. A read is one atomic on that
///   word, so readers on different cores pass its cache line between them;
///   a write is one atomic too.
/// - `Sharded` (ETS's `read_concurrency`): a reader indicator per group of
///   threads, each on its own cache line (`sharded_lock.rs`). Readers on
///   different cores write different lines and never meet; a write takes
///   every indicator's lock, about eight times the cost.
pub(crate) enum Stripe<T> {
    Plain(RwLock<T>),
    Sharded(ShardedLock<T>),
}

/// A read guard of either kind.
pub(crate) enum ReadGuard<'a, T> {
    Plain(RwLockReadGuard<'a, T>),
    Sharded(sharded_lock::ReadGuard<'a, T>),
}

/// A write guard of either kind.
pub(crate) enum WriteGuard<'a, T> {
    Plain(RwLockWriteGuard<'a, T>),
    Sharded(sharded_lock::WriteGuard<'a, T>),
}

impl<T> Deref for ReadGuard<'_, T> {
    type Target = T;
    #[inline]
    fn deref(&self) -> &T {
        match self {
            ReadGuard::Plain(g) => g,
            ReadGuard::Sharded(g) => g,
        }
    }
}

impl<T> Deref for WriteGuard<'_, T> {
    type Target = T;
    #[inline]
    fn deref(&self) -> &T {
        match self {
            WriteGuard::Plain(g) => g,
            WriteGuard::Sharded(g) => g,
        }
    }
}

impl<T> DerefMut for WriteGuard<'_, T> {
    #[inline]
    fn deref_mut(&mut self) -> &mut T {
        match self {
            WriteGuard::Plain(g) => &mut *g,
            WriteGuard::Sharded(g) => &mut *g,
        }
    }
}

impl<T> Stripe<T> {
    fn new(value: T, read_concurrency: bool) -> Self {
        if read_concurrency {
            Stripe::Sharded(ShardedLock::new(value))
        } else {
            Stripe::Plain(RwLock::new(value))
        }
    }

    #[inline]
    pub(crate) fn read(&self) -> ReadGuard<'_, T> {
        match self {
            Stripe::Plain(l) => ReadGuard::Plain(l.read()),
            Stripe::Sharded(l) => ReadGuard::Sharded(l.read()),
        }
    }

    #[inline]
    pub(crate) fn write(&self) -> WriteGuard<'_, T> {
        match self {
            Stripe::Plain(l) => WriteGuard::Plain(l.write()),
            Stripe::Sharded(l) => WriteGuard::Sharded(l.write()),
        }
    }
}

/// One stripe, alone on its pair of cache lines.
#[repr(align(128))]
pub(crate) struct Shard<K, T>(pub(crate) Stripe<HashMap<K, T, Seed>>);

pub(crate) struct Shards<K, T> {
    shards: Box<[Shard<K, T>]>,
    mask: usize,
    pub(crate) seed: Seed,
}

impl<K: Hash + Eq, T> Shards<K, T> {
    /// `n` shards, rounded up to a power of two (at least one), with
    /// reader indicators per thread group if `read_concurrency`.
    pub(crate) fn new(n: usize, read_concurrency: bool) -> Self {
        let n = n.clamp(1, 1 << 16).next_power_of_two();
        let seed = Seed::random();
        Shards {
            shards: (0..n)
                .map(|_| Shard(Stripe::new(HashMap::with_hasher(seed), read_concurrency)))
                .collect(),
            mask: n - 1,
            seed,
        }
    }

    #[inline]
    pub(crate) fn for_hash(&self, hash: u64) -> &Stripe<HashMap<K, T, Seed>> {
        &self.shards[(hash >> 32) as usize & self.mask].0
    }

    pub(crate) fn iter(&self) -> impl Iterator<Item = &Stripe<HashMap<K, T, Seed>>> {
        self.shards.iter().map(|s| &s.0)
    }

    pub(crate) fn len(&self) -> usize {
        self.shards.len()
    }

    /// Empties every shard (and gives their memory back).
    pub(crate) fn clear(&self) {
        for shard in self.iter() {
            // The old entries are dropped after the lock is released: a
            // value's `Drop` is user code.
            let old = std::mem::replace(&mut *shard.write(), HashMap::with_hasher(self.seed));
            drop(old);
        }
    }
}
