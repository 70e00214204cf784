//! Lock striping: a store's entries spread over many small maps, each
//! behind its own reader-writer lock, chosen by the key's hash.
//!
//! ```text
//!   hash(key) ──bits 32..──► shard i ──► RwLock<HashMap<K, T>>
//! ```
//!
//! Readers of different shards share nothing; readers of one shard share
//! its lock word but never wait for each other. A writer holds one shard's
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

use parking_lot::RwLock;

use crate::hash::Seed;

/// One stripe, alone on its cache lines.
#[repr(align(128))]
pub(crate) struct Shard<K, T>(pub(crate) RwLock<HashMap<K, T, Seed>>);

pub(crate) struct Shards<K, T> {
    shards: Box<[Shard<K, T>]>,
    mask: usize,
    pub(crate) seed: Seed,
}

impl<K: Hash + Eq, T> Shards<K, T> {
    /// `n` shards, rounded up to a power of two (at least one).
    pub(crate) fn new(n: usize) -> Self {
        let n = n.clamp(1, 1 << 16).next_power_of_two();
        let seed = Seed::random();
        Shards {
            shards: (0..n)
                .map(|_| Shard(RwLock::new(HashMap::with_hasher(seed))))
                .collect(),
            mask: n - 1,
            seed,
        }
    }

    #[inline]
    pub(crate) fn for_hash(&self, hash: u64) -> &RwLock<HashMap<K, T, Seed>> {
        &self.shards[(hash >> 32) as usize & self.mask].0
    }

    pub(crate) fn iter(&self) -> impl Iterator<Item = &RwLock<HashMap<K, T, Seed>>> {
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
