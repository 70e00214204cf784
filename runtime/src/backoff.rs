//! Waiting briefly before sleeping.
//!
//! A thread that is about to sleep — a worker out of work, a caller
//! waiting for a reply — often gets what it waits for within microseconds.
//! Sleeping and being woken costs a futex round trip each way, so first
//! spin, then yield a few times, checking the condition between steps.
//!
//! The spin grows like crossbeam's `Backoff` (1, 2, 4 pause instructions)
//! but then stays at 8 between checks instead of doubling to 64: a pause is
//! about 14 ns here, so a 64-pause step let a reply sit unseen for up to
//! 0.9 µs. Checking every 8 pauses cut a call from a plain thread from
//! 1.64-1.77 µs to 1.19-1.32 µs (`call_external`). About 140 pauses (2 µs)
//! in all, then up to 4 `yield_now`s.
//!
//! An idle worker only yields ([`yield_for`]), for up to
//! `Builder::idle_wait`, unless a caller has just handed it a process to
//! run: then it spins a few microseconds first ([`spin_briefly`]). See
//! `docs/scheduling.md`, "Idle workers".

/// Checks while spinning; the pause count per step is `2^min(step, 3)`.
const SPIN_STEPS: u32 = 20;
/// Largest pause count between two checks, as a power of two.
const MAX_SPIN_SHIFT: u32 = 3;
/// `yield_now` calls after spinning.
const YIELDS: u32 = 4;

/// Checks in [`spin_briefly`], 8 pauses apart: about 4.5 µs in all.
const BRIEF_CHECKS: u32 = 40;

/// Waits for `ready()` by spinning only, about 4.5 µs, looking every 8
/// pauses; returns whether it became true. For an idle worker that expects
/// work within microseconds (see `WorkerCx::wait_for_work`).
pub(crate) fn spin_briefly(mut ready: impl FnMut() -> bool) -> bool {
    for _ in 0..BRIEF_CHECKS {
        for _ in 0..(1u32 << MAX_SPIN_SHIFT) {
            std::hint::spin_loop();
        }
        if ready() {
            return true;
        }
    }
    false
}

/// Waits for `ready()` by yielding the CPU, looking after each yield, for
/// up to `wait` (at least one look); returns whether it became true. Never
/// sleeps.
pub(crate) fn yield_for(wait: std::time::Duration, mut ready: impl FnMut() -> bool) -> bool {
    let until = std::time::Instant::now() + wait;
    loop {
        std::thread::yield_now();
        if ready() {
            return true;
        }
        if std::time::Instant::now() >= until {
            return false;
        }
    }
}

/// Waits for `ready()` with spinning and yielding only; returns whether it
/// became true. Never sleeps.
pub(crate) fn spin_until(mut ready: impl FnMut() -> bool) -> bool {
    for step in 0..SPIN_STEPS {
        for _ in 0..(1u32 << step.min(MAX_SPIN_SHIFT)) {
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
