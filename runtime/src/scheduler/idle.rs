//! The idle protocol: who sleeps, who searches, who gets woken.
//!
//! See `README.md` beside this file. The counters:
//!
//! - `searching`: participants looking for work in other queues. Whoever
//!   makes work available wakes a sleeper only when nobody is searching (a
//!   searcher will find the work), so a burst of sends wakes at most one
//!   thread — no thundering herd.
//! - `sleeping`: participants registered in `sleepers`.
//!
//! Invariant: a participant woken through `notify_one` is counted as
//! searching *by the waker*, before it runs. So the count never lags behind
//! a wake-up, and two notifiers cannot both see "nobody searching" for the
//! same piece of work.
//!
//! No lost wake-up: a participant registers as a sleeper, then (after a
//! SeqCst fence) checks every queue once more; a producer pushes, then
//! (after a SeqCst fence) reads the counters. One of the two sees the other.

use std::sync::atomic::{fence, Ordering::SeqCst};
use std::sync::Arc;

use parking_lot::Mutex;

use super::park::Parker;
use crate::loom::AtomicUsize;

pub(crate) struct Idle {
    searching: AtomicUsize,
    sleeping: AtomicUsize,
    sleepers: Mutex<Vec<Arc<Parker>>>,
}

impl Idle {
    pub(crate) fn new() -> Self {
        Idle {
            searching: AtomicUsize::new(0),
            sleeping: AtomicUsize::new(0),
            sleepers: Mutex::new(Vec::new()),
        }
    }

    /// Work was made available: wake one sleeper if nobody is searching.
    pub(crate) fn notify_one(&self) {
        fence(SeqCst);
        if self.searching.load(SeqCst) != 0 || self.sleeping.load(SeqCst) == 0 {
            return;
        }
        self.notify_one_slow();
    }

    #[cold]
    fn notify_one_slow(&self) {
        let mut sleepers = self.sleepers.lock();
        if self.searching.load(SeqCst) != 0 {
            return;
        }
        if let Some(parker) = sleepers.pop() {
            self.sleeping.fetch_sub(1, SeqCst);
            self.searching.fetch_add(1, SeqCst);
            drop(sleepers);
            parker.unpark();
        }
    }

    /// A participant starts searching other queues.
    pub(crate) fn begin_search(&self) {
        self.searching.fetch_add(1, SeqCst);
    }

    /// A searching participant stops searching. Returns whether it was the
    /// last searcher: if it found work, it should `notify_one` so that the
    /// rest of a burst is not left to nobody.
    pub(crate) fn end_search(&self) -> bool {
        self.searching.fetch_sub(1, SeqCst) == 1
    }

    /// Registers `parker` as a sleeper; the caller stops searching if it was.
    /// The caller must then re-check every queue (`has_work`) before parking.
    pub(crate) fn prepare_park(&self, parker: &Arc<Parker>, was_searching: bool) {
        let mut sleepers = self.sleepers.lock();
        sleepers.push(parker.clone());
        self.sleeping.fetch_add(1, SeqCst);
        if was_searching {
            self.searching.fetch_sub(1, SeqCst);
        }
        drop(sleepers);
        fence(SeqCst);
    }

    /// Takes `parker` out of the sleepers. Returns true if it was still
    /// there; it is then counted as searching. False means a notifier took
    /// it (and counted it as searching) and its permit is on the way.
    pub(crate) fn cancel_park(&self, parker: &Arc<Parker>) -> bool {
        let mut sleepers = self.sleepers.lock();
        match sleepers.iter().position(|p| Arc::ptr_eq(p, parker)) {
            Some(i) => {
                sleepers.swap_remove(i);
                self.sleeping.fetch_sub(1, SeqCst);
                self.searching.fetch_add(1, SeqCst);
                true
            }
            None => false,
        }
    }

    /// Wakes every sleeper (shutdown).
    pub(crate) fn notify_all(&self) {
        let sleepers = std::mem::take(&mut *self.sleepers.lock());
        for parker in sleepers {
            self.sleeping.fetch_sub(1, SeqCst);
            self.searching.fetch_add(1, SeqCst);
            parker.unpark();
        }
    }

    pub(crate) fn sleeping(&self) -> usize {
        self.sleeping.load(SeqCst)
    }
}

impl std::fmt::Debug for Idle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Idle")
            .field("searching", &self.searching.load(SeqCst))
            .field("sleeping", &self.sleeping.load(SeqCst))
            .finish()
    }
}
