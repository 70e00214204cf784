//! A one-permit parker: `unpark` before `park` is never lost.

use std::time::Duration;

use crate::loom::{Condvar, Mutex};

#[derive(Debug, Default)]
pub(crate) struct Parker {
    notified: Mutex<bool>,
    cv: Condvar,
}

impl Parker {
    pub(crate) fn new() -> Self {
        Parker::default()
    }

    /// Blocks until a permit is available, then consumes it.
    pub(crate) fn park(&self) {
        let mut notified = self.notified.lock();
        while !*notified {
            self.cv.wait(&mut notified);
        }
        *notified = false;
    }

    /// Like `park`, but gives up after `timeout`. Returns whether a permit
    /// was consumed. (Under loom, which cannot model time, the wait is
    /// untimed: see `crate::loom`.)
    pub(crate) fn park_timeout(&self, timeout: Duration) -> bool {
        let mut notified = self.notified.lock();
        if !*notified {
            self.cv.wait_for(&mut notified, timeout);
        }
        std::mem::replace(&mut *notified, false)
    }

    /// Makes a permit available and wakes the parked thread, if any.
    pub(crate) fn unpark(&self) {
        *self.notified.lock() = true;
        self.cv.notify_one();
    }

    /// Whether a permit is waiting (the loom models check that none is
    /// left over: a stale permit would make a later park return at once).
    #[cfg(all(test, loom))]
    pub(crate) fn has_permit(&self) -> bool {
        *self.notified.lock()
    }
}
