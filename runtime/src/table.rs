//! The process table: pid → process, sharded.
//!
//! A pid is a slot index plus the slot's generation. The generation grows
//! every time a slot is freed, so a stale pid never reaches the slot's next
//! occupant. The table is split into shards, each behind its own mutex; a
//! spawning thread picks a shard from its thread id, so concurrent spawns on
//! different workers rarely meet on one lock. Slot `i` of shard `s` is global
//! index `i * shards + s`.
//!
//! Hot-path sends never come here: typed handles ([`Addr`](crate::Addr))
//! hold the process itself. The table serves pid-addressed operations (links,
//! monitors, exit signals, introspection) and the runtime's shutdown.

use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};

use parking_lot::Mutex;

use crate::pid::Pid;
use crate::process::pcb::ProcessArc;

pub(crate) struct Table {
    shards: Box<[Mutex<Shard>]>,
    /// `shards.len() - 1`; the shard count is a power of two.
    mask: u32,
    len: AtomicUsize,
}

#[derive(Default)]
struct Shard {
    slots: Vec<Slot>,
    free: Vec<u32>,
}

struct Slot {
    generation: u32,
    process: Option<ProcessArc>,
}

impl Table {
    pub(crate) fn new(workers: usize) -> Self {
        let shards = (workers * 4).next_power_of_two().clamp(4, 64);
        Table {
            shards: (0..shards).map(|_| Mutex::new(Shard::default())).collect(),
            mask: shards as u32 - 1,
            len: AtomicUsize::new(0),
        }
    }

    fn shard_for_this_thread(&self) -> u32 {
        thread_local! {
            static SHARD_SEED: u32 = {
                use std::hash::{BuildHasher, Hasher};
                let mut h = std::collections::hash_map::RandomState::new().build_hasher();
                h.write_u64(0);
                h.finish() as u32
            };
        }
        SHARD_SEED.with(|s| *s) & self.mask
    }

    /// Allocates a pid and stores the process built for it.
    pub(crate) fn insert_with<T>(&self, build: impl FnOnce(Pid) -> (ProcessArc, T)) -> T {
        let shard_index = self.shard_for_this_thread();
        let shards = self.mask + 1;
        let mut shard = self.shards[shard_index as usize].lock();
        let local = match shard.free.pop() {
            Some(local) => local,
            None => {
                shard.slots.push(Slot {
                    generation: 1,
                    process: None,
                });
                shard.slots.len() as u32 - 1
            }
        };
        let slot = &mut shard.slots[local as usize];
        let pid = Pid::new(local * shards + shard_index, slot.generation);
        let (task, out) = build(pid);
        slot.process = Some(task);
        self.len.fetch_add(1, Relaxed);
        out
    }

    fn locate(&self, pid: Pid) -> Option<(usize, usize)> {
        if pid.is_root() {
            return None;
        }
        let shards = self.mask + 1;
        Some((
            (pid.index() & self.mask) as usize,
            (pid.index() / shards) as usize,
        ))
    }

    /// The live process behind `pid`, if any.
    pub(crate) fn get(&self, pid: Pid) -> Option<ProcessArc> {
        let (s, i) = self.locate(pid)?;
        let shard = self.shards[s].lock();
        let slot = shard.slots.get(i)?;
        if slot.generation != pid.generation() {
            return None;
        }
        slot.process.clone()
    }

    /// Frees `pid`'s slot. Returns the process if it was there.
    pub(crate) fn remove(&self, pid: Pid) -> Option<ProcessArc> {
        let (s, i) = self.locate(pid)?;
        let mut shard = self.shards[s].lock();
        let slot = shard.slots.get_mut(i)?;
        if slot.generation != pid.generation() {
            return None;
        }
        let task = slot.process.take();
        // Generation 0 is never handed out, so a wrapped counter skips it.
        slot.generation = slot.generation.wrapping_add(1).max(1);
        shard.free.push(i as u32);
        drop(shard);
        if task.is_some() {
            self.len.fetch_sub(1, Relaxed);
        }
        task
    }

    /// How many processes are in the table.
    pub(crate) fn len(&self) -> usize {
        self.len.load(Relaxed)
    }

    /// A snapshot of every process in the table.
    pub(crate) fn snapshot(&self) -> Vec<ProcessArc> {
        let mut all = Vec::with_capacity(self.len());
        for shard in self.shards.iter() {
            let shard = shard.lock();
            all.extend(shard.slots.iter().filter_map(|s| s.process.clone()));
        }
        all
    }
}

impl std::fmt::Debug for Table {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Table").field("len", &self.len()).finish()
    }
}
