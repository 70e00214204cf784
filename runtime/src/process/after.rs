//! The receive timeout of a raw process: Erlang's `receive ... after T`.
//!
//! A process that sets one ([`Context::set_receive_timeout`]) gets
//! [`Process::handle_timeout`] when its mailbox has stayed empty for that
//! long. The runner arms a timer when the process is about to go idle (its
//! batch is empty) and no timer is armed yet; whatever the process handles
//! next, except the timeout itself and a system request, cancels it. The
//! timer's firing is a mailbox entry like any other
//! (`Envelope::Timeout`), so it is ordered with the messages: one that
//! arrived first is handled first, and then the timeout is stale.
//!
//! Stale firings are told apart by a generation: every cancel moves it on,
//! and a `Timeout` entry whose generation is not the current one, or that
//! arrives when no timer is armed, is dropped. The timer itself is tied to
//! the process, so its exit drops it (rule 39).
//!
//! The state lives behind a `Box` that exists only once a process has
//! set a receive timeout: an idle process without one pays one word.
//!
//! [`Context::set_receive_timeout`]: super::Context::set_receive_timeout
//! [`Process::handle_timeout`]: super::Process::handle_timeout

use std::time::Duration;

use super::pcb::Header;
use crate::addr::Addr;
use crate::timer::shard::{Action, Fire};
use crate::timer::TimerRef;

/// A process's receive timeout, once it has set one.
pub(crate) struct After {
    /// How long the mailbox may stay empty; `None` once cleared (the box
    /// stays, so the generation never repeats).
    timeout: Option<Duration>,
    /// Moves on at every cancel; a firing carries the value it was armed
    /// with.
    generation: u32,
    /// The timer running now, if any.
    armed: Option<TimerRef>,
}

impl After {
    /// Applies `ctx.set_receive_timeout(timeout)`: cancels a running timer
    /// (the next idle moment arms one with the new value).
    pub(crate) fn set(slot: &mut Option<Box<After>>, header: &Header, timeout: Option<Duration>) {
        match slot {
            Some(after) => {
                after.cancel(header);
                after.timeout = timeout;
            }
            None if timeout.is_some() => {
                *slot = Some(Box::new(After {
                    timeout,
                    generation: 0,
                    armed: None,
                }));
            }
            None => {}
        }
    }

    /// Something other than the timeout arrived: the wait is over.
    #[inline]
    pub(crate) fn cancel(&mut self, header: &Header) {
        if let Some(tref) = self.armed.take() {
            header.shared.timers.cancel(tref);
            self.generation = self.generation.wrapping_add(1);
        }
    }

    /// A `Timeout` entry of `generation` came up: true if it is the
    /// current timer's, which is then over.
    pub(crate) fn fired(&mut self, generation: u32) -> bool {
        if self.armed.is_some() && generation == self.generation {
            // The timer's one entry is this one: its generation may serve
            // the next timer.
            self.armed = None;
            true
        } else {
            false
        }
    }

    /// The process is about to wait for its mailbox: starts the timer, if
    /// a timeout is set and none runs. `header` is the process's, `addr`
    /// makes its address.
    pub(crate) fn arm<M: Send + 'static>(
        &mut self,
        header: &Header,
        addr: impl FnOnce() -> Addr<M>,
    ) {
        let (Some(timeout), None) = (self.timeout, self.armed) else {
            return;
        };
        let fire = Fired {
            addr: addr(),
            generation: self.generation,
        };
        let action = Action::Once(Box::new(fire));
        self.armed = Some(header.shared.timers.arm(timeout, Some(header), action));
    }
}

/// The timer's action: a `Timeout` entry in the process's mailbox.
struct Fired<M> {
    addr: Addr<M>,
    generation: u32,
}

impl<M: Send + 'static> Fire for Fired<M> {
    fn target(&self) -> Option<&Header> {
        Some(self.addr.header())
    }

    fn fire(self: Box<Self>, _tref: TimerRef) {
        self.addr.push_timeout(self.generation);
    }
}
