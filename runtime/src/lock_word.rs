//! A word of state bits that is also a lock.
//!
//! Several protocols in the runtime keep a few bits of state beside some
//! data that only one thread at a time may touch: a process's scheduling
//! state and its mailbox (`process/state.rs`), a reply slot's flags and its
//! value (`reply.rs`). A mutex plus a separate atomic costs three locked
//! instructions per change (lock, update, unlock). Here the lock is one bit
//! of the word itself: taking it is one `fetch_or` (acquire), and releasing
//! it is a plain store (release) of the new bits, since nobody else changes
//! the word while the bit is set. Readers that only look load the word.
//!
//! A thread that finds the bit set spins on plain loads (so as not to steal
//! the holder's cache line), then yields: critical sections are a handful of
//! instructions, but the holder may have been preempted.
//!
//! loom cannot explore a spin loop (it reports one as an unbounded model),
//! so under `cfg(loom)` a mutex serialises the lockers before they set the
//! bit: the mutual exclusion the bit gives is modelled by the mutex, and
//! everything the users do with the bits is their real code.

use std::sync::atomic::Ordering::{self, Acquire, Release};

use crate::loom::AtomicU32;

/// The lock bit. The users' bits must leave it clear.
const LOCKED: u32 = 1 << 31;

#[derive(Debug)]
pub(crate) struct LockWord(AtomicU32, #[cfg(loom)] loom::sync::Mutex<()>);

/// The word, locked. Change `bits`; dropping the guard publishes them and
/// releases the lock.
pub(crate) struct WordGuard<'a> {
    word: &'a AtomicU32,
    pub(crate) bits: u32,
    /// Released after `drop` has published the bits.
    #[cfg(loom)]
    _gate: loom::sync::MutexGuard<'a, ()>,
}

impl LockWord {
    pub(crate) fn new(bits: u32) -> Self {
        debug_assert_eq!(bits & LOCKED, 0);
        LockWord(
            AtomicU32::new(bits),
            #[cfg(loom)]
            loom::sync::Mutex::new(()),
        )
    }

    /// The bits, without locking (the lock bit masked off).
    #[inline]
    pub(crate) fn load(&self, order: Ordering) -> u32 {
        self.0.load(order) & !LOCKED
    }

    /// Takes the lock, spinning (then yielding) while another thread holds
    /// it.
    #[inline]
    pub(crate) fn lock(&self) -> WordGuard<'_> {
        #[cfg(loom)]
        let gate = self.1.lock().expect("loom mutex poisoned");
        loop {
            let prev = self.0.fetch_or(LOCKED, Acquire);
            if prev & LOCKED == 0 {
                return WordGuard {
                    word: &self.0,
                    bits: prev,
                    #[cfg(loom)]
                    _gate: gate,
                };
            }
            self.wait_unlocked();
        }
    }

    /// Waits until the word looks unlocked, reading it without writing.
    #[cold]
    #[cfg(not(loom))]
    fn wait_unlocked(&self) {
        let mut step = 0;
        while self.0.load(Ordering::Relaxed) & LOCKED != 0 {
            crate::loom::spin_wait(step);
            step += 1;
        }
    }

    #[cfg(loom)]
    fn wait_unlocked(&self) {
        unreachable!("under loom the gate serialises lockers");
    }
}

impl Drop for WordGuard<'_> {
    #[inline]
    fn drop(&mut self) {
        debug_assert_eq!(self.bits & LOCKED, 0);
        // Nobody else changes the word while LOCKED is set (a contender's
        // `fetch_or` of LOCKED changes nothing), so a store both publishes
        // the new bits and releases the lock.
        self.word.store(self.bits, Release);
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    #[test]
    fn bits_survive_a_lock_and_the_lock_bit_never_shows() {
        let w = LockWord::new(0b101);
        {
            let mut g = w.lock();
            assert_eq!(g.bits, 0b101);
            g.bits |= 0b10;
            assert_ne!(w.0.load(Acquire) & LOCKED, 0);
        }
        assert_eq!(w.0.load(Acquire), 0b111);
        assert_eq!(w.load(Acquire), 0b111);
    }

    #[test]
    fn two_threads_exclude_each_other() {
        let w = std::sync::Arc::new(LockWord::new(0));
        let threads: Vec<_> = (0..2)
            .map(|_| {
                let w = w.clone();
                std::thread::spawn(move || {
                    for _ in 0..10_000 {
                        let mut g = w.lock();
                        // A non-atomic read-modify-write of the bits: a lost
                        // update would show in the total.
                        g.bits += 1;
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        assert_eq!(w.load(Acquire), 20_000);
    }
}
