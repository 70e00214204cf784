//! A hierarchical timing wheel: O(1) insert and cancel.
//!
//! Six levels of 64 slots; a slot at level `L` spans `64^L` milliseconds, so
//! the wheel reaches `64^6` ms (about 795 days) ahead; later deadlines are
//! clamped to that horizon and simply re-filed when they come within range.
//! Each slot is an intrusive doubly linked list threaded through a slab, so
//! cancelling a timer unlinks it at once — OTP code arms and cancels a timer
//! per call and per inactivity timeout, and a lazily-deleted heap would keep
//! every cancelled timer until its deadline. A 64-bit occupancy mask per
//! level finds the next non-empty slot with one `trailing_zeros`.
//!
//! An entry lives at the level of the highest 6-bit digit in which its
//! deadline differs from the wheel's current time (`elapsed`). When time
//! reaches a slot of level `L > 0`, its entries are re-filed at lower levels
//! ("cascade"); entries reaching level 0 fire.

use slab::Slab;

const LEVELS: usize = 6;
const SLOT_BITS: u32 = 6;
const SLOTS: u64 = 1 << SLOT_BITS;
/// Deadlines further than this from `elapsed` are clamped.
const MAX_AHEAD: u64 = (1 << (SLOT_BITS * LEVELS as u32)) - 1;
const NIL: u32 = u32::MAX;

/// A handle on an entry: slab index and the generation it was stored with.
/// Generations count inserts in 64 bits, so a stale key never matches a
/// newer entry in the same slot.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct Key {
    pub(crate) index: u32,
    pub(crate) generation: u64,
}

struct Entry<T> {
    deadline: u64,
    generation: u64,
    /// Where the entry is filed: `Some((level, slot))`, or `None` when it is
    /// in the `expired` list.
    at: Option<(u8, u8)>,
    prev: u32,
    next: u32,
    value: T,
}

struct Level {
    occupied: u64,
    heads: [u32; SLOTS as usize],
}

/// The wheel; times are in milliseconds of the runtime clock.
pub(crate) struct Wheel<T> {
    entries: Slab<Entry<T>>,
    levels: [Level; LEVELS],
    /// Entries whose deadline had already passed when filed.
    expired: Vec<u32>,
    elapsed: u64,
    generation: u64,
}

impl<T> Wheel<T> {
    pub(crate) fn new() -> Self {
        Wheel {
            entries: Slab::new(),
            levels: std::array::from_fn(|_| Level {
                occupied: 0,
                heads: [NIL; SLOTS as usize],
            }),
            expired: Vec::new(),
            elapsed: 0,
            generation: 0,
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.entries.len()
    }

    /// Files `value` to fire at `deadline`.
    pub(crate) fn insert(&mut self, deadline: u64, value: T) -> Key {
        self.generation += 1;
        let generation = self.generation;
        let index = self.entries.insert(Entry {
            deadline,
            generation,
            at: None,
            prev: NIL,
            next: NIL,
            value,
        }) as u32;
        self.file(index);
        Key { index, generation }
    }

    fn get(&self, key: Key) -> Option<&Entry<T>> {
        self.entries
            .get(key.index as usize)
            .filter(|e| e.generation == key.generation)
    }

    /// The deadline of a live entry.
    pub(crate) fn deadline(&self, key: Key) -> Option<u64> {
        self.get(key).map(|e| e.deadline)
    }

    pub(crate) fn value(&self, key: Key) -> Option<&T> {
        self.get(key).map(|e| &e.value)
    }

    /// The value of the live entry at slab `index`, whatever its generation:
    /// for links between entries, which always point at live ones.
    pub(crate) fn at(&self, index: u32) -> Option<&T> {
        self.entries.get(index as usize).map(|e| &e.value)
    }

    /// Mutable [`at`](Self::at).
    pub(crate) fn at_mut(&mut self, index: u32) -> Option<&mut T> {
        self.entries.get_mut(index as usize).map(|e| &mut e.value)
    }

    /// The key of the live entry at slab `index`.
    pub(crate) fn key_at(&self, index: u32) -> Option<Key> {
        self.entries.get(index as usize).map(|e| Key {
            index,
            generation: e.generation,
        })
    }

    /// Cancels an entry, returning its deadline and value.
    pub(crate) fn remove(&mut self, key: Key) -> Option<(u64, T)> {
        self.get(key)?;
        self.unfile(key.index);
        let entry = self.entries.remove(key.index as usize);
        Some((entry.deadline, entry.value))
    }

    fn file(&mut self, index: u32) {
        let deadline = self.entries[index as usize].deadline;
        if deadline <= self.elapsed {
            self.entries[index as usize].at = None;
            self.expired.push(index);
            return;
        }
        let when = deadline.min(self.elapsed + MAX_AHEAD);
        let level = level_for(self.elapsed, when);
        let slot = ((when >> (SLOT_BITS * level as u32)) % SLOTS) as usize;
        let head = self.levels[level].heads[slot];
        {
            let entry = &mut self.entries[index as usize];
            entry.at = Some((level as u8, slot as u8));
            entry.prev = NIL;
            entry.next = head;
        }
        if head != NIL {
            self.entries[head as usize].prev = index;
        }
        self.levels[level].heads[slot] = index;
        self.levels[level].occupied |= 1 << slot;
    }

    fn unfile(&mut self, index: u32) {
        let (at, prev, next) = {
            let e = &self.entries[index as usize];
            (e.at, e.prev, e.next)
        };
        let Some((level, slot)) = at else {
            self.expired.retain(|&i| i != index);
            return;
        };
        let (level, slot) = (level as usize, slot as usize);
        if prev == NIL {
            self.levels[level].heads[slot] = next;
        } else {
            self.entries[prev as usize].next = next;
        }
        if next != NIL {
            self.entries[next as usize].prev = prev;
        }
        if self.levels[level].heads[slot] == NIL {
            self.levels[level].occupied &= !(1 << slot);
        }
    }

    /// The earliest instant at which `advance` may have something to do.
    pub(crate) fn next_deadline(&self) -> Option<u64> {
        if !self.expired.is_empty() {
            return Some(self.elapsed);
        }
        self.next_slot().map(|(_, _, deadline)| deadline)
    }

    /// The next occupied slot: (level, slot, the instant it starts).
    fn next_slot(&self) -> Option<(usize, usize, u64)> {
        (0..LEVELS).find_map(|level| {
            let occupied = self.levels[level].occupied;
            if occupied == 0 {
                return None;
            }
            let slot_range = 1u64 << (SLOT_BITS * level as u32);
            let now_slot = (self.elapsed / slot_range) % SLOTS;
            let zeros = u64::from(occupied.rotate_right(now_slot as u32).trailing_zeros());
            let slot = (zeros + now_slot) % SLOTS;
            Some((level, slot as usize, self.slot_start(level, slot)))
        })
    }

    /// The instant slot `slot` of `level` next starts: when `advance` must
    /// look at it.
    fn slot_start(&self, level: usize, slot: u64) -> u64 {
        let slot_range = 1u64 << (SLOT_BITS * level as u32);
        let level_range = slot_range << SLOT_BITS;
        let level_start = self.elapsed & !(level_range - 1);
        let start = level_start + slot * slot_range;
        if start <= self.elapsed {
            // Only the top level wraps: it is a ring over the horizon.
            start + level_range
        } else {
            start
        }
    }

    /// The earliest instant at which `advance` must run for the live entry
    /// `key` to move on (fire, or cascade to a lower level): never later
    /// than its deadline, and never earlier than [`next_deadline`](Self::next_deadline).
    pub(crate) fn wake_at(&self, key: Key) -> Option<u64> {
        let entry = self.get(key)?;
        Some(match entry.at {
            Some((level, slot)) => self.slot_start(level.into(), slot.into()),
            None => self.elapsed,
        })
    }

    /// Advances time to `now`, moving every entry due by then into `due`
    /// (with its key), in deadline order per slot.
    pub(crate) fn advance(&mut self, now: u64, due: &mut Vec<(Key, u64)>) {
        for index in std::mem::take(&mut self.expired) {
            let e = &self.entries[index as usize];
            due.push((
                Key {
                    index,
                    generation: e.generation,
                },
                e.deadline,
            ));
        }
        while let Some((level, slot, deadline)) = self.next_slot() {
            if deadline > now {
                break;
            }
            self.elapsed = self.elapsed.max(deadline);
            let mut index = self.levels[level].heads[slot];
            self.levels[level].heads[slot] = NIL;
            self.levels[level].occupied &= !(1 << slot);
            while index != NIL {
                let next = self.entries[index as usize].next;
                let entry = &mut self.entries[index as usize];
                if entry.deadline <= now {
                    entry.at = None;
                    due.push((
                        Key {
                            index,
                            generation: entry.generation,
                        },
                        entry.deadline,
                    ));
                } else {
                    self.file(index);
                }
                index = next;
            }
        }
        self.elapsed = self.elapsed.max(now);
    }

    /// Detaches a due entry reported by `advance` (it is in no list).
    pub(crate) fn take_due(&mut self, key: Key) -> Option<T> {
        let entry = self.get(key)?;
        if entry.at.is_some() || self.expired.contains(&key.index) {
            return None; // re-filed or rescheduled meanwhile
        }
        Some(self.entries.remove(key.index as usize).value)
    }

    /// Re-files a due entry reported by `advance` at a new deadline.
    pub(crate) fn refile_due(&mut self, key: Key, deadline: u64) -> bool {
        match self.entries.get_mut(key.index as usize) {
            Some(e) if e.generation == key.generation && e.at.is_none() => {
                e.deadline = deadline;
                self.file(key.index);
                true
            }
            _ => false,
        }
    }
}

fn level_for(elapsed: u64, when: u64) -> usize {
    let masked = (elapsed ^ when) | (SLOTS - 1);
    let significant = 63 - masked.leading_zeros() as usize;
    (significant / SLOT_BITS as usize).min(LEVELS - 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fire(w: &mut Wheel<u32>, now: u64) -> Vec<u32> {
        let mut due = Vec::new();
        w.advance(now, &mut due);
        due.into_iter().filter_map(|(k, _)| w.take_due(k)).collect()
    }

    #[test]
    fn fires_in_order_across_levels() {
        let mut w = Wheel::new();
        let deadlines = [1u64, 63, 64, 65, 4095, 4096, 300_000, 86_400_000];
        for (i, d) in deadlines.iter().enumerate() {
            w.insert(*d, i as u32);
        }
        let mut fired = Vec::new();
        let mut now = 0;
        while w.len() > 0 {
            now = w.next_deadline().unwrap().max(now);
            for v in fire(&mut w, now) {
                assert_eq!(deadlines[v as usize], now, "fired exactly at its deadline");
                fired.push(v);
            }
        }
        assert_eq!(fired, (0..deadlines.len() as u32).collect::<Vec<_>>());
    }

    #[test]
    fn nothing_fires_early_and_cancel_unlinks() {
        let mut w = Wheel::new();
        let a = w.insert(100, 1);
        let b = w.insert(100, 2);
        assert!(fire(&mut w, 99).is_empty());
        assert_eq!(w.remove(a), Some((100, 1)));
        assert_eq!(w.remove(a), None);
        assert_eq!(fire(&mut w, 100), vec![2]);
        assert_eq!(w.deadline(b), None);
        assert_eq!(w.len(), 0);
    }

    #[test]
    fn wake_at_is_the_next_deadline_of_a_lone_entry() {
        let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
        for _ in 0..500 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let mut w = Wheel::new();
            let now = x % 1_000_000;
            fire(&mut w, now);
            let deadline = now + (x >> 20) % (MAX_AHEAD * 2);
            let key = w.insert(deadline, 0);
            let wake = w.wake_at(key).unwrap();
            assert_eq!(Some(wake), w.next_deadline());
            assert!(wake <= deadline.max(now));
        }
    }

    #[test]
    fn past_deadlines_fire_on_next_advance() {
        let mut w = Wheel::new();
        assert!(fire(&mut w, 50).is_empty());
        w.insert(10, 7);
        assert_eq!(w.next_deadline(), Some(50));
        assert_eq!(fire(&mut w, 50), vec![7]);
    }

    #[test]
    fn far_future_is_clamped_then_refiled() {
        let mut w = Wheel::new();
        let far = MAX_AHEAD * 3;
        w.insert(far, 9);
        let mut now = 0;
        let mut fired = Vec::new();
        while fired.is_empty() {
            now = w.next_deadline().unwrap();
            fired = fire(&mut w, now);
        }
        assert_eq!(now, far);
    }

    #[test]
    fn random_deadlines_match_a_sorted_model() {
        let mut w = Wheel::new();
        let mut x: u64 = 0x2545_F491_4F6C_DD1D;
        let mut model = Vec::new();
        for i in 0..2000u32 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let d = 1 + x % 10_000_000;
            let key = w.insert(d, i);
            if i % 3 == 0 {
                w.remove(key);
            } else {
                model.push((d, i));
            }
        }
        model.sort();
        let mut now = 0;
        let mut fired = Vec::new();
        while let Some(next) = w.next_deadline() {
            now = next.max(now);
            let mut due = Vec::new();
            w.advance(now, &mut due);
            for (k, d) in due {
                assert!(d <= now);
                fired.push((d, w.take_due(k).unwrap()));
            }
        }
        fired.sort();
        assert_eq!(fired, model);
    }
}
