//! Typed send handles.

use std::fmt;
use std::hash::{Hash, Hasher};
use std::sync::Arc;

use crate::error::TrySendError;
use crate::exit::ExitReason;
use crate::mailbox::Envelope;
use crate::pid::Pid;
use crate::process::pcb::{AnyProcess, Header, Port, Task};
use crate::scheduler;

/// The typed face of a process for senders.
///
/// # Safety
///
/// An implementor starts with a [`Port<M>`] (`repr(C)`): [`Addr`] reads the
/// port through the trait object's data pointer, without a virtual call,
/// and makes a run-queue entry by upcasting to `dyn AnyProcess` (a load
/// from the vtable, not a call). Only `Pcb<P>` implements it.
pub(crate) unsafe trait Deliver<M>: AnyProcess {}

/// A typed handle for sending messages of type `M` to one process.
///
/// An `Addr` holds the process itself, so a send goes straight to its
/// mailbox without consulting the process table. It does not keep the
/// process alive: once the process has exited, sends are dropped silently
/// (rule 13) and [`try_send`](Addr::try_send) hands the message back.
/// Cloning is cheap (a reference count).
///
/// ```
/// use rotp_runtime::Runtime;
/// let rt = Runtime::new().unwrap();
/// let (tx, rx) = std::sync::mpsc::channel();
/// let echo = rt.spawn_fn(move |n: u32, _ctx| tx.send(n * 2).unwrap());
/// echo.send(21);
/// assert_eq!(rx.recv().unwrap(), 42);
/// ```
pub struct Addr<M> {
    inner: Arc<dyn Deliver<M>>,
}

impl<M: Send + 'static> Addr<M> {
    pub(crate) fn from_inner(inner: Arc<dyn Deliver<M>>) -> Self {
        Addr { inner }
    }

    /// Sends `msg`. Never fails and never blocks; a message to a process
    /// that has exited is dropped (rule 13).
    #[inline]
    pub fn send(&self, msg: M) {
        let _ = self.try_send(msg);
    }

    /// Sends `msg`, handing it back if the process has exited (or is
    /// exiting) or its bounded mailbox refuses it.
    #[inline]
    pub fn try_send(&self, msg: M) -> Result<(), TrySendError<M>> {
        // R1: from the instant a process is marked exiting (a kill during a
        // handler) its mailbox refuses messages, checked under the same
        // lock as the push.
        match self.port().deliver(msg) {
            Ok(false) => Ok(()),
            Ok(true) => {
                scheduler::schedule(self.task());
                Ok(())
            }
            Err(e) => Err(e),
        }
    }

    /// Sends `msg` like [`try_send`](Self::try_send), but if the send
    /// wakes the process, leaves scheduling it to the returned
    /// [`Delivery`].
    ///
    /// For a caller about to wait for the process's answer: passed to
    /// [`ReplyWait::wait_delivered`](crate::ReplyWait::wait_delivered), the
    /// delivery lets a plain thread run the process's slice itself instead
    /// of handing it to a worker and waiting for the hand-off to come back.
    /// Dropping the delivery schedules the process as `try_send` would.
    #[inline]
    pub fn try_send_deferred(&self, msg: M) -> Result<Delivery, TrySendError<M>> {
        match self.port().deliver(msg) {
            Ok(woke) => Ok(Delivery {
                task: woke.then(|| self.task()),
            }),
            Err(e) => Err(e),
        }
    }

    /// The process's pid.
    pub fn pid(&self) -> Pid {
        self.port().header.pid
    }

    /// Whether the process is alive: not exited and not exiting (rule 17).
    pub fn is_alive(&self) -> bool {
        self.port().header.state.is_alive()
    }

    /// The reason the process exited with, once it has exited.
    pub fn exit_reason(&self) -> Option<ExitReason> {
        self.port().header.exit_reason()
    }

    /// Waits until the process has exited and returns its reason; `None`
    /// if `timeout` on the runtime clock passes first. See
    /// [`Handle::await_exit`](crate::Handle::await_exit).
    pub fn await_exit(&self, timeout: Option<std::time::Duration>) -> Option<ExitReason> {
        self.handle().await_exit(self, timeout)
    }

    /// The runtime the process belongs to.
    pub fn handle(&self) -> crate::Handle {
        crate::Handle::from_shared(self.port().header.shared.clone())
    }

    pub(crate) fn header(&self) -> &Header {
        &self.port().header
    }

    /// Appends a receive-timeout entry of `generation` (see
    /// `process/after.rs`), waking the process if it is idle.
    pub(crate) fn push_timeout(&self, generation: u32) {
        if self
            .port()
            .push_signal(Envelope::Timeout(u64::from(generation)))
        {
            scheduler::schedule(self.task());
        }
    }
}

/// A message sent with [`Addr::try_send_deferred`] whose process may still
/// have to be scheduled: the send woke it and left the run-queue entry
/// here. Dropping the delivery schedules the process; a caller that waits
/// for the answer hands it to
/// [`ReplyWait::wait_delivered`](crate::ReplyWait::wait_delivered) instead.
/// Forgetting it (`mem::forget`) would leave the process scheduled and
/// never run.
#[must_use = "dropping a Delivery schedules the process at once"]
pub struct Delivery {
    task: Option<Task>,
}

impl Delivery {
    /// The run-queue entry, if the send woke the process. Whoever takes it
    /// runs or schedules it (it owns the run right, see `Task`).
    pub(crate) fn take(&mut self) -> Option<Task> {
        self.task.take()
    }
}

impl Drop for Delivery {
    fn drop(&mut self) {
        if let Some(task) = self.task.take() {
            scheduler::schedule(task);
        }
    }
}

impl fmt::Debug for Delivery {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Delivery")
            .field("woke", &self.task.is_some())
            .finish()
    }
}

impl<M> Addr<M> {
    /// A run-queue entry for the process; the caller must own the entry by
    /// the state protocol (see `Task`). The upcast to `dyn AnyProcess`
    /// reads the process's vtable from `Deliver`'s: no call.
    #[inline]
    fn task(&self) -> Task {
        let process: &dyn AnyProcess = &*self.inner;
        Task::new(process)
    }

    /// The process's port: its mailbox, header and batch.
    #[inline]
    fn port(&self) -> &Port<M> {
        // SAFETY: `Deliver`'s contract puts a `Port<M>` at the start of the
        // pointee, and the `Arc` keeps the pointee alive for the borrow.
        unsafe { &*(Arc::as_ptr(&self.inner) as *const Port<M>) }
    }
}

impl<M> Clone for Addr<M> {
    fn clone(&self) -> Self {
        Addr {
            inner: self.inner.clone(),
        }
    }
}

impl<M> fmt::Debug for Addr<M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Addr({})", self.port().header.pid)
    }
}

impl<M> PartialEq for Addr<M> {
    fn eq(&self, other: &Self) -> bool {
        self.port().header.pid == other.port().header.pid
    }
}

impl<M> Eq for Addr<M> {}

impl<M> Hash for Addr<M> {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.port().header.pid.hash(state)
    }
}
