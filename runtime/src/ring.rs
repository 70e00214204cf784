//! The buffer of a mailbox: a growable ring of entries.
//!
//! `std`'s `VecDeque` would do, but for two things on the hottest path of
//! the runtime, a send:
//!
//! - **Building the entry in place.** `VecDeque::push_back(value)` checks
//!   for room and may call its `grow` before it writes, so the caller builds
//!   the value first, and the compiler keeps it on the stack across that
//!   call: a mailbox envelope is stored as a 4-byte tag and a payload, then
//!   copied into the buffer with one 16-byte load across both stores — a
//!   store-forwarding stall for every message sent. [`Ring::push_back_with`]
//!   makes room first and then builds the entry straight into its slot.
//! - **Size.** Every process has two of these (the shared queue and the
//!   runner's batch). A `VecDeque` is four words; with 32-bit indices this
//!   is a pointer and three `u32`s, 8 bytes less each.
//!
//! The ring holds at most `u32::MAX` entries; a mailbox that grows beyond
//! that (tens of gigabytes of envelopes) panics with a clear message rather
//! than wrapping.
//!
//! # Safety invariants
//!
//! 1. `buf` points to an allocation for `cap` values of `T` (or dangles,
//!    with `cap == 0`, before the first push and after a release).
//! 2. The `len` slots starting at physical index `head`, wrapping at `cap`,
//!    hold initialised values; every other slot is uninitialised.
//! 3. `head < cap` whenever `cap > 0`, and `len <= cap`.

use std::alloc::{self, Layout};
use std::marker::PhantomData;
use std::ptr::{self, NonNull};

pub(crate) struct Ring<T> {
    buf: NonNull<T>,
    cap: u32,
    head: u32,
    len: u32,
    /// The ring owns its `T`s (for the drop check).
    _owns: PhantomData<T>,
}

// SAFETY: the ring owns its values like a `Vec` does: sending it sends
// them, and sharing it only hands out `&T`.
unsafe impl<T: Send> Send for Ring<T> {}
// SAFETY: as above.
unsafe impl<T: Sync> Sync for Ring<T> {}

impl<T> Default for Ring<T> {
    fn default() -> Self {
        Ring::new()
    }
}

impl<T> Ring<T> {
    /// An empty ring; allocates nothing.
    pub(crate) const fn new() -> Self {
        assert!(size_of::<T>() > 0, "a ring of zero-sized values");
        Ring {
            buf: NonNull::dangling(),
            cap: 0,
            head: 0,
            len: 0,
            _owns: PhantomData,
        }
    }

    #[inline]
    pub(crate) fn len(&self) -> usize {
        self.len as usize
    }

    #[inline]
    pub(crate) fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Slots allocated.
    #[inline]
    pub(crate) fn capacity(&self) -> usize {
        self.cap as usize
    }

    /// The slot of logical index `i` (`i <= len`, `i < cap`).
    #[inline(always)]
    fn slot(&self, i: u32) -> *mut T {
        // `head + i` cannot overflow: both are below `cap`, which fits a u32,
        // and their sum is compared before it is reduced.
        let at = u64::from(self.head) + u64::from(i);
        let at = if at >= u64::from(self.cap) {
            at - u64::from(self.cap)
        } else {
            at
        };
        // SAFETY: `at < cap` (invariant 3 and the reduction above), so the
        // offset stays inside the allocation (invariant 1).
        unsafe { self.buf.as_ptr().add(at as usize) }
    }

    /// Appends the value `make` builds, after making room: the value is
    /// built where it is stored (see the module docs).
    #[inline(always)]
    pub(crate) fn push_back_with(&mut self, make: impl FnOnce() -> T) {
        if self.len == self.cap {
            self.grow();
        }
        let slot = self.slot(self.len);
        // SAFETY: `len < cap` after `grow`, so `slot` is the uninitialised
        // slot just past the last value (invariant 2); writing it and
        // counting it keeps the invariant.
        unsafe { slot.write(make()) };
        self.len += 1;
    }

    #[inline]
    pub(crate) fn push_back(&mut self, value: T) {
        self.push_back_with(|| value);
    }

    #[inline]
    pub(crate) fn pop_front(&mut self) -> Option<T> {
        // SAFETY: the slot `take_front` hands over holds the value it no
        // longer counts, read out once, here.
        self.take_front()
            .map(|slot| unsafe { slot.as_ptr().read() })
    }

    /// Removes the first value from the count and returns its slot, where
    /// it still lies: the caller owns it and must move it out (`read`)
    /// before the ring is pushed to, grown or released — it then lies past
    /// the counted values, uninitialised as far as the ring knows
    /// (invariant 2). Lets the runner move a message straight from its
    /// slot to the handler's argument (`Pcb::slice_loop`).
    #[inline]
    pub(crate) fn take_front(&mut self) -> Option<NonNull<T>> {
        if self.len == 0 {
            return None;
        }
        // `len > 0`: the slot at `head` holds a value (invariant 2), which
        // stops being counted here.
        let slot = self.slot(0);
        self.head = if self.head + 1 == self.cap {
            0
        } else {
            self.head + 1
        };
        self.len -= 1;
        // SAFETY: `slot` is inside the allocation (invariant 1), never null.
        Some(unsafe { NonNull::new_unchecked(slot) })
    }

    /// The values, front to back.
    pub(crate) fn iter(&self) -> impl Iterator<Item = &T> + '_ {
        // SAFETY: every logical index below `len` holds a value (invariant
        // 2), borrowed for as long as the ring is.
        (0..self.len).map(move |i| unsafe { &*self.slot(i) })
    }

    /// Removes and returns the value at logical index `i`, moving the ones
    /// behind it forward.
    pub(crate) fn remove(&mut self, i: usize) -> Option<T> {
        let i = u32::try_from(i).ok().filter(|&i| i < self.len)?;
        // SAFETY: `i < len`: the slot holds a value, which is moved out; the
        // values behind it then move one slot forward, each into the slot
        // just vacated, and the count drops by one (invariant 2).
        unsafe {
            let value = self.slot(i).read();
            for j in i + 1..self.len {
                ptr::copy_nonoverlapping(self.slot(j), self.slot(j - 1), 1);
            }
            self.len -= 1;
            Some(value)
        }
    }

    /// Moves every value of `other` to the back of this ring, in order.
    pub(crate) fn append(&mut self, other: &mut Ring<T>) {
        while let Some(value) = other.pop_front() {
            self.push_back(value);
        }
    }

    /// Drops every value; keeps the buffer.
    pub(crate) fn clear(&mut self) {
        while let Some(value) = self.pop_front() {
            drop(value);
        }
        self.head = 0;
    }

    /// Releases the slots not in use: all of them if the ring is empty,
    /// else a buffer of exactly `len` slots replaces the current one.
    pub(crate) fn shrink_to_fit(&mut self) {
        if self.len < self.cap {
            self.reallocate(self.len);
        }
    }

    /// Room for at least one more value: doubles the buffer (four slots at
    /// first). The buffer is reallocated in place where the allocator can
    /// (a large one is remapped, not copied), and the values that had
    /// wrapped to its start move to just past the old end, so that a burst
    /// that grows a mailbox to millions of entries copies each at most once
    /// per doubling, in two block copies.
    #[cold]
    #[inline(never)]
    fn grow(&mut self) {
        if self.cap == 0 {
            self.reallocate(4);
            return;
        }
        let old_cap = self.cap;
        let new_cap = old_cap
            .checked_mul(2)
            .expect("a mailbox of more than 2^32 entries");
        let new_layout = Self::layout(new_cap);
        // SAFETY: `buf` was allocated with the layout of `old_cap`
        // (invariant 1), and the new size is non-zero and fits `isize`
        // (`layout` checked it).
        let raw = unsafe {
            alloc::realloc(
                self.buf.as_ptr().cast(),
                Self::layout(old_cap),
                new_layout.size(),
            )
        };
        self.buf =
            NonNull::new(raw.cast::<T>()).unwrap_or_else(|| alloc::handle_alloc_error(new_layout));
        self.cap = new_cap;
        // The values keep their physical slots; those past the old end, if
        // they had wrapped, are the first `wrapped` slots.
        let end = u64::from(self.head) + u64::from(self.len);
        if end > u64::from(old_cap) {
            let wrapped = (end - u64::from(old_cap)) as usize;
            // SAFETY: slots `0..wrapped` hold the last values (invariant 2
            // under the old capacity); slots `old_cap..old_cap + wrapped`
            // are new and uninitialised (`wrapped <= old_cap` since
            // `len <= old_cap`, and `new_cap = 2 * old_cap`). Moving them
            // there makes the values contiguous from `head`.
            unsafe {
                ptr::copy_nonoverlapping(
                    self.buf.as_ptr(),
                    self.buf.as_ptr().add(old_cap as usize),
                    wrapped,
                );
            }
        }
    }

    /// Moves the values, front first, into a new buffer of `cap` slots (no
    /// buffer if `cap` is 0) and frees the old one.
    fn reallocate(&mut self, cap: u32) {
        debug_assert!(cap >= self.len);
        let buf = if cap == 0 {
            NonNull::dangling()
        } else {
            let layout = Self::layout(cap);
            // SAFETY: the layout has a non-zero size (`cap > 0` and `T` is
            // not zero-sized, asserted in `new`).
            let raw = unsafe { alloc::alloc(layout) }.cast::<T>();
            NonNull::new(raw).unwrap_or_else(|| alloc::handle_alloc_error(layout))
        };
        // The values are the `first` slots from `head`, then, if they wrap,
        // the rest from slot 0.
        let first = self.len.min(self.cap - self.head) as usize;
        let rest = self.len as usize - first;
        // SAFETY: those slots hold the values (invariant 2); the new buffer
        // has `cap >= len` slots and does not overlap the old one.
        unsafe {
            if first > 0 {
                ptr::copy_nonoverlapping(self.slot(0), buf.as_ptr(), first);
            }
            if rest > 0 {
                ptr::copy_nonoverlapping(self.buf.as_ptr(), buf.as_ptr().add(first), rest);
            }
        }
        self.free();
        self.buf = buf;
        self.cap = cap;
        self.head = 0;
    }

    /// Frees the buffer, without dropping values (the caller moved them).
    fn free(&mut self) {
        if self.cap > 0 {
            // SAFETY: `buf` was allocated with this layout (invariant 1).
            unsafe { alloc::dealloc(self.buf.as_ptr().cast(), Self::layout(self.cap)) };
        }
    }

    fn layout(cap: u32) -> Layout {
        Layout::array::<T>(cap as usize).expect("a mailbox buffer fits the address space")
    }
}

impl<T> Drop for Ring<T> {
    fn drop(&mut self) {
        self.clear();
        self.free();
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use std::rc::Rc;

    #[test]
    fn values_come_out_in_order_across_growth_and_wrapping() {
        let mut r = Ring::new();
        let mut next_out = 0;
        for i in 0..1_000u64 {
            r.push_back(i);
            // Pop one in three, so the head moves and the ring wraps.
            if i % 3 == 0 {
                assert_eq!(r.pop_front(), Some(next_out));
                next_out += 1;
            }
        }
        assert_eq!(r.len() as u64, 1_000 - next_out);
        let rest: Vec<u64> = std::iter::from_fn(|| r.pop_front()).collect();
        assert_eq!(rest, (next_out..1_000).collect::<Vec<_>>());
        assert!(r.is_empty());
        assert_eq!(r.pop_front(), None);
    }

    /// `take_front` hands over each value exactly once, in order, across
    /// wrapping; the ring never drops a value taken that way (the `Rc`
    /// counts show each one dropped once, by its taker).
    #[test]
    fn take_front_hands_each_value_over_once() {
        let token = Rc::new(());
        let mut r = Ring::new();
        let mut taken = Vec::new();
        for i in 0..50u64 {
            r.push_back((i, token.clone()));
            if i % 2 == 1 {
                let slot = r.take_front().expect("a value");
                // SAFETY: the slot just taken, read once before the next push.
                taken.push(unsafe { slot.as_ptr().read() });
            }
        }
        while let Some(slot) = r.take_front() {
            // SAFETY: as above.
            taken.push(unsafe { slot.as_ptr().read() });
        }
        assert!(r.take_front().is_none());
        assert_eq!(
            taken.iter().map(|(i, _)| *i).collect::<Vec<_>>(),
            (0..50).collect::<Vec<_>>()
        );
        assert_eq!(Rc::strong_count(&token), 51);
        drop(r);
        assert_eq!(
            Rc::strong_count(&token),
            51,
            "the ring dropped a taken value"
        );
        drop(taken);
        assert_eq!(Rc::strong_count(&token), 1);
    }

    #[test]
    fn remove_keeps_the_order_of_the_others_even_when_wrapped() {
        let mut r = Ring::new();
        for i in 0..4 {
            r.push_back(i);
        }
        r.pop_front();
        r.pop_front();
        for i in 4..6 {
            r.push_back(i); // wraps: 2 3 | 4 5 at the start of the buffer
        }
        assert_eq!(r.capacity(), 4);
        assert_eq!(r.remove(1), Some(3));
        assert_eq!(r.remove(9), None);
        assert_eq!(r.iter().copied().collect::<Vec<_>>(), vec![2, 4, 5]);
        assert_eq!(r.iter().position(|&v| v == 5), Some(2));
    }

    #[test]
    fn every_value_is_dropped_once() {
        let token = Rc::new(());
        {
            let mut r = Ring::new();
            for _ in 0..10 {
                r.push_back(token.clone());
            }
            drop(r.pop_front());
            drop(r.remove(3));
            let mut other = Ring::new();
            for _ in 0..5 {
                other.push_back(token.clone());
            }
            r.append(&mut other);
            assert!(other.is_empty());
            assert_eq!(Rc::strong_count(&token), 14);
            r.shrink_to_fit();
            assert_eq!(r.capacity(), 13);
            assert_eq!(Rc::strong_count(&token), 14);
        }
        assert_eq!(Rc::strong_count(&token), 1);
    }

    #[test]
    fn growing_while_wrapped_keeps_the_order() {
        for popped in 0..8 {
            let mut r = Ring::new();
            let mut expected = std::collections::VecDeque::new();
            for i in 0..8 {
                r.push_back(i);
                expected.push_back(i);
            }
            for _ in 0..popped {
                assert_eq!(r.pop_front(), expected.pop_front());
            }
            // Refill to capacity, wrapped, then one more: a growth.
            for i in 8..8 + popped + 1 {
                r.push_back(i);
                expected.push_back(i);
            }
            assert_eq!(
                r.iter().copied().collect::<Vec<_>>(),
                Vec::from(expected.clone())
            );
            r.shrink_to_fit();
            assert_eq!(r.capacity(), expected.len());
            assert_eq!(r.iter().copied().collect::<Vec<_>>(), Vec::from(expected));
        }
    }

    #[test]
    fn an_emptied_ring_gives_its_buffer_back() {
        let mut r = Ring::new();
        for i in 0..100 {
            r.push_back(i);
        }
        r.clear();
        assert_eq!(r.capacity(), 128);
        r.shrink_to_fit();
        assert_eq!(r.capacity(), 0);
        r.push_back(7);
        assert_eq!(r.pop_front(), Some(7));
    }
}
