//! The process table: pid → process, sharded.
//!
//! A pid is a slot index plus the slot's generation. The generation grows
//! every time a slot is freed, so a stale pid never reaches the slot's next
//! occupant. A slot holds only its process, whose header carries its pid
//! (generation included), so a lookup compares against that; a free
//! slot's next generation waits in the free list. Sixteen bytes a slot
//! instead of twenty-four: the table is part of every process's cost.
//!
//! The table is split into shards, each behind its own mutex; a
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
    slots: Vec<Option<ProcessArc>>,
    /// Free slots, each with the generation its next occupant gets.
    free: Vec<Free>,
}

struct Free {
    local: u32,
    generation: u32,
}

/// The process in `slot` if it is the one `pid` names.
fn occupant(slot: &Option<ProcessArc>, pid: Pid) -> Option<&ProcessArc> {
    slot.as_ref().filter(|p| p.header().pid == pid)
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
        let Free { local, generation } = shard.free.pop().unwrap_or_else(|| {
            shard.slots.push(None);
            Free {
                local: shard.slots.len() as u32 - 1,
                generation: 1,
            }
        });
        let pid = Pid::new(local * shards + shard_index, generation);
        let (task, out) = build(pid);
        shard.slots[local as usize] = Some(task);
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
        occupant(shard.slots.get(i)?, pid).cloned()
    }

    /// Frees `pid`'s slot. Returns the process if it was there.
    pub(crate) fn remove(&self, pid: Pid) -> Option<ProcessArc> {
        let (s, i) = self.locate(pid)?;
        let mut shard = self.shards[s].lock();
        let slot = shard.slots.get_mut(i)?;
        occupant(slot, pid)?;
        let task = slot.take();
        shard.free.push(Free {
            local: i as u32,
            // Generation 0 is never handed out, so a wrapped counter skips it.
            generation: pid.generation().wrapping_add(1).max(1),
        });
        drop(shard);
        self.len.fetch_sub(1, Relaxed);
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
            all.extend(shard.slots.iter().flatten().cloned());
        }
        all
    }
}

impl std::fmt::Debug for Table {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Table").field("len", &self.len()).finish()
    }
}
