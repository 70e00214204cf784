//! Atomics that `loom` can model-check.
//!
//! Protocol code imports its atomics from here. In a normal build these are
//! the std types; under `RUSTFLAGS="--cfg loom"` they are loom's, so the same
//! source is explored under every interleaving by the tests in `tests/loom.rs`.

#[cfg(loom)]
pub(crate) use loom::sync::atomic::{AtomicU32, AtomicUsize};

#[cfg(not(loom))]
pub(crate) use std::sync::atomic::{AtomicU32, AtomicUsize};
