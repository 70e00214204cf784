//! Synchronisation primitives that `loom` can model-check.
//!
//! Protocol code (the process state machine, the idle protocol, the parker)
//! imports its atomics, fences, mutexes and condition variables from here.
//! In a normal build these are the std atomics and `parking_lot`'s lock
//! types, re-exported unchanged; under `RUSTFLAGS="--cfg loom"` they are
//! loom's, so the same source is explored under every interleaving by the
//! `loom_tests` modules (see `process/state.rs` and `scheduler/idle.rs`):
//!
//! ```text
//! RUSTFLAGS="--cfg loom" LOOM_MAX_PREEMPTIONS=3 \
//!     cargo test -p rotp-runtime --release --lib loom
//! ```
//!
//! The loom `Mutex` and `Condvar` are thin wrappers that give loom's
//! std-shaped API the `parking_lot` shape the code uses: `lock()` returns
//! the guard directly (there is no poisoning to handle), and a condition
//! variable waits on `&mut MutexGuard`.

#[cfg(loom)]
pub(crate) use loom::sync::atomic::{fence, AtomicU32, AtomicUsize};

#[cfg(not(loom))]
pub(crate) use std::sync::atomic::{fence, AtomicU32, AtomicUsize};

#[cfg(not(loom))]
pub(crate) use parking_lot::{Condvar, Mutex};

#[cfg(loom)]
pub(crate) use loom::cell::UnsafeCell;

/// `std::cell::UnsafeCell` with loom's closure-based API, so that loom can
/// check every access to the cell in a model.
#[cfg(not(loom))]
#[derive(Debug)]
pub(crate) struct UnsafeCell<T>(std::cell::UnsafeCell<T>);

#[cfg(not(loom))]
impl<T> UnsafeCell<T> {
    pub(crate) const fn new(value: T) -> Self {
        UnsafeCell(std::cell::UnsafeCell::new(value))
    }

    /// Calls `f` with a pointer to the value; the caller's synchronisation
    /// decides what `f` may do with it.
    #[inline]
    pub(crate) fn with_mut<R>(&self, f: impl FnOnce(*mut T) -> R) -> R {
        f(self.0.get())
    }
}

/// One step of waiting for a lock word to clear: `step` counts the waits so
/// far. Spins with growing pauses, then yields the CPU (the holder may have
/// been preempted). Not under loom, which cannot explore spin loops (see
/// `process/state.rs`).
#[cfg(not(loom))]
#[inline]
pub(crate) fn spin_wait(step: u32) {
    if step < 6 {
        for _ in 0..(1u32 << step) {
            std::hint::spin_loop();
        }
    } else {
        std::thread::yield_now();
    }
}

#[cfg(loom)]
pub(crate) use self::lock::{Condvar, Mutex};

#[cfg(loom)]
pub(crate) mod lock {
    use std::ops::{Deref, DerefMut};
    use std::time::Duration;

    /// `parking_lot::Mutex`'s API over `loom::sync::Mutex`.
    #[derive(Debug, Default)]
    pub(crate) struct Mutex<T>(loom::sync::Mutex<T>);

    impl<T> Mutex<T> {
        pub(crate) fn new(value: T) -> Self {
            Mutex(loom::sync::Mutex::new(value))
        }

        /// Locks; a poisoned loom mutex means a model thread already
        /// panicked, so the model has failed anyway.
        pub(crate) fn lock(&self) -> MutexGuard<'_, T> {
            MutexGuard(Some(self.0.lock().expect("loom mutex poisoned")))
        }
    }

    /// `parking_lot::MutexGuard`'s API over loom's guard. The `Option` is
    /// `None` only inside `Condvar::wait`, which takes the guard by value in
    /// loom and by `&mut` in `parking_lot`.
    #[derive(Debug)]
    pub(crate) struct MutexGuard<'a, T>(Option<loom::sync::MutexGuard<'a, T>>);

    impl<T> Deref for MutexGuard<'_, T> {
        type Target = T;
        fn deref(&self) -> &T {
            self.0.as_ref().expect("guard taken by a wait")
        }
    }

    impl<T> DerefMut for MutexGuard<'_, T> {
        fn deref_mut(&mut self) -> &mut T {
            self.0.as_mut().expect("guard taken by a wait")
        }
    }

    /// `parking_lot::Condvar`'s API over `loom::sync::Condvar`.
    #[derive(Debug, Default)]
    pub(crate) struct Condvar(loom::sync::Condvar);

    impl Condvar {
        pub(crate) fn wait<T>(&self, guard: &mut MutexGuard<'_, T>) {
            let inner = guard.0.take().expect("guard taken by a wait");
            guard.0 = Some(self.0.wait(inner).expect("loom mutex poisoned"));
        }

        /// loom cannot model time: this waits like `wait` (loom's own
        /// `wait_timeout` does the same) and never reports a timeout.
        pub(crate) fn wait_for<T>(
            &self,
            guard: &mut MutexGuard<'_, T>,
            _timeout: Duration,
        ) -> WaitTimeoutResult {
            self.wait(guard);
            WaitTimeoutResult(false)
        }

        pub(crate) fn notify_one(&self) {
            self.0.notify_one();
        }
    }

    /// Whether a `wait_for` timed out (never, under loom).
    #[derive(Debug, Clone, Copy)]
    pub(crate) struct WaitTimeoutResult(bool);

    impl WaitTimeoutResult {
        #[allow(dead_code)]
        pub(crate) fn timed_out(self) -> bool {
            self.0
        }
    }
}

/// Runs `f` under every interleaving loom explores, with at most
/// `LOOM_MAX_PREEMPTIONS` preemptions (3 if unset: unbounded exploration of
/// these models would never finish).
#[cfg(all(test, loom))]
pub(crate) fn model(f: impl Fn() + Send + Sync + 'static) {
    model_capped(usize::MAX, f);
}

/// [`model`] with the preemption bound capped at `cap`, for the models whose
/// state space explodes past it (each one says why it is capped).
#[cfg(all(test, loom))]
pub(crate) fn model_capped(cap: usize, f: impl Fn() + Send + Sync + 'static) {
    let mut builder = loom::model::Builder::new();
    let bound = builder.preemption_bound.unwrap_or(3).min(cap);
    builder.preemption_bound = Some(bound);
    builder.check(f);
}
