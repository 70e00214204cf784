//! Waiting briefly before sleeping.
//!
//! A thread that is about to sleep — a worker out of work, a caller
//! waiting for a reply — often gets what it waits for within microseconds.
//! Sleeping and being woken costs a futex round trip each way, so first
//! spin with exponential back-off, then yield a few times, like
//! crossbeam's `Backoff`: 127 pause instructions (a few µs), then up to 4
//! `yield_now`s, checking the condition between steps.

/// Spin steps: 2^0 + ... + 2^6 pause instructions.
const SPIN_STEPS: u32 = 7;
/// `yield_now` calls after spinning.
const YIELDS: u32 = 4;

/// Waits for `ready()` with spinning and yielding only; returns whether it
/// became true. Never sleeps.
pub(crate) fn spin_until(mut ready: impl FnMut() -> bool) -> bool {
    for step in 0..SPIN_STEPS {
        for _ in 0..(1u32 << step) {
            std::hint::spin_loop();
        }
        if ready() {
            return true;
        }
    }
    for _ in 0..YIELDS {
        std::thread::yield_now();
        if ready() {
            return true;
        }
    }
    false
}
