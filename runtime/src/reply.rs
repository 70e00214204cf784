//! Replies: a one-shot channel whose receiving side waits without holding up
//! the pool.
//!
//! This is the runtime's hook for every request/reply protocol built on it
//! (`GenServer::call`, `Task::await`, a supervisor waiting for a child): the
//! requester sends a [`ReplySender`] along with its request and waits on the
//! matching [`ReplyWait`]. The wait is where a synchronous runtime earns its
//! speed, so it escalates:
//!
//! 1. **Inline, when the caller waits without a limit.** Inside a process,
//!    if the callee is the process this worker just woke, the worker runs
//!    the callee's slice right here, nested in the caller's handler: a
//!    process-to-process call then costs two sends and two function calls,
//!    with no thread switch. A plain thread whose request woke the callee
//!    ([`ReplyWait::call`], or [`Addr::try_send_deferred`] with
//!    [`ReplyWait::wait_delivered`]) runs it the same way. Such a slice is
//!    one handler long (`Context::caller_waits`): the caller resumes as
//!    soon as the handler that answers it returns. If that handler
//!    answered someone else (other callers' requests were queued ahead),
//!    the caller runs the next one too, up to the callee's budget; inside
//!    a process it also takes a callee that its request did not wake but
//!    that waits in this worker's LIFO slot, left there by its previous
//!    call: a server called by many processes then runs on its callers'
//!    threads instead of waiting in a queue that only a blocked caller's
//!    cover would reach. A caller with a timeout
//!    never does this: while a handler runs on the caller's stack nothing
//!    can end the caller's wait, so a slow handler would hold the caller
//!    past its timeout. Its callee is queued where any worker can take it.
//! 2. **Spin.** If the callee runs on another thread, spin briefly: the
//!    reply usually comes within a microsecond.
//! 3. **Block.** Otherwise block — inside a process through a blocking
//!    cover (a spare thread keeps this worker's queue running), so a
//!    one-worker runtime never deadlocks on nested calls. A timeout ends
//!    the block when it expires, on the runtime clock.
//!
//! A waiter inside a process records whom it waits on; a chain of waits
//! that leads back to the waiter is a call cycle and fails at once with
//! [`WaitError::Deadlock`] instead of waiting out the timeout.
//! [`ReplyWait::call`] records the edge and looks for the cycle *before* it
//! sends, so a call refused as a deadlock leaves no request behind.
//!
//! Dropping the `ReplyWait` abandons the request: a reply sent later is
//! dropped, never delivered to a later request (rules 34, 66). A
//! `ReplySender` dropped unanswered while its server is alive leaves the waiter to
//! time out (rule 73); the death of the server ends the wait with its exit
//! reason (rule 62).

use std::cell::Cell;
use std::cell::UnsafeCell;
use std::fmt;
use std::sync::atomic::{
    fence, AtomicBool, Ordering::Acquire, Ordering::Relaxed, Ordering::Release, Ordering::SeqCst,
};
use std::sync::Arc;
use std::thread::Thread;
use std::time::Duration;

use crate::addr::{Addr, Delivery};
use crate::error::TrySendError;
use crate::exit::ExitReason;
use crate::lock_word::{LockWord, WordGuard};
use crate::pid::Pid;
use crate::process::pcb::{Header, Task};
use crate::runtime::Shared;
use crate::scheduler::{self, blocking, worker};

/// Calls nested inline on one thread before the next one blocks instead.
const MAX_INLINE_DEPTH: u32 = 16;
/// How often a blocked waiter re-checks that its callee is alive (only
/// matters when the callee dropped the reply handle, or handed it to
/// someone else, and then died).
const LIVENESS_POLL: Duration = Duration::from_millis(10);
/// Longest chain of waits followed when looking for a cycle.
const MAX_CYCLE_SEARCH: usize = 64;

thread_local! {
    static INLINE_DEPTH: Cell<u32> = const { Cell::new(0) };
}

/// How a wait may run its callee's slice on the waiting thread.
enum Inline {
    /// Never (`wait_not_inline`).
    No,
    /// Inside a process, when the callee sits in this worker's LIFO slot:
    /// the send just woke it there.
    FromLifo,
    /// The entry a deferred send kept, if it woke the callee; dropped
    /// unused, it schedules the callee.
    Delivered(Delivery),
}

/// Why a wait for a reply ended without one.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum WaitError {
    /// No reply within the timeout (on the runtime clock).
    #[error("timeout")]
    Timeout,
    /// The callee exited before replying; carries its exit reason.
    #[error("callee exited: {0}")]
    Exited(ExitReason),
    /// Waiting would close a cycle of processes waiting on each other.
    #[error("call cycle: {}", fmt_cycle(.0))]
    Deadlock(Vec<Pid>),
    /// A process called itself: it would wait for itself forever (nothing
    /// was sent).
    #[error("calling self")]
    CallingSelf,
    /// The callee's bounded mailbox refused the request (nothing was sent).
    #[error("mailbox full")]
    MailboxFull,
    /// The waiting process itself was told to exit (a kill, or an exit
    /// signal it does not trap): the wait ends so its handler can return
    /// and the exit take effect (R1).
    #[error("the waiting process is exiting")]
    CallerExiting,
    /// The runtime has stopped ([`Runtime::shutdown`](crate::Runtime::shutdown)
    /// returned) and the reply had not come: nothing runs any more, so it
    /// never will. The wait ends at once, whatever its timeout.
    #[error("the runtime has stopped")]
    RuntimeStopped,
}

fn fmt_cycle(cycle: &[Pid]) -> String {
    cycle
        .iter()
        .map(Pid::to_string)
        .collect::<Vec<_>>()
        .join(" -> ")
}

/// The slot's flags, in its lock word (see `lock_word.rs`).
const VALUE: u32 = 0b0001;
/// The `ReplySender` was dropped without a value.
const CLOSED: u32 = 0b0010;
/// The `ReplyWait` is gone: later values are dropped.
const ABANDONED: u32 = 0b0100;
/// The virtual-clock timer for this wait fired.
const TIMED_OUT: u32 = 0b1000;
/// Any of these is the waiter's cue to look under the lock.
const READY: u32 = VALUE | CLOSED | TIMED_OUT;

/// The state shared by the two halves: flags in a word that is also the
/// lock of the rest, so that sending, taking the value and abandoning cost
/// one atomic read-modify-write each.
struct Slot<T> {
    word: LockWord,
    /// The process that made the channel (OTP's `From` pid); set once.
    caller: Option<Pid>,
    /// Touched only with `word` locked.
    inner: UnsafeCell<SlotInner<T>>,
}

// SAFETY: `inner` is only reached through `Slot::lock`, one thread at a
// time, handed over by the lock's acquire and release; `T` is `Send`.
unsafe impl<T: Send> Sync for Slot<T> {}

struct SlotInner<T> {
    value: Option<T>,
    /// Where a sender made by [`ReplySender::from_fn`] delivers, instead
    /// of `value`.
    deliver: Option<Box<dyn FnOnce(T) + Send>>,
    /// Bumped at the end of every blocking wait: a virtual-clock timer armed
    /// by an earlier wait that fires late is recognised and ignored.
    wait_generation: u64,
    waiter: Option<Thread>,
}

/// A locked slot: its flags (`bits`) and the rest.
struct SlotGuard<'a, T> {
    word: WordGuard<'a>,
    inner: &'a mut SlotInner<T>,
}

impl<T> Slot<T> {
    fn lock(&self) -> SlotGuard<'_, T> {
        let word = self.word.lock();
        // SAFETY: the word is locked for as long as the guard lives, and the
        // reference lives no longer than the guard.
        let inner = unsafe { &mut *self.inner.get() };
        SlotGuard { word, inner }
    }

    fn is_ready(&self) -> bool {
        self.word.load(Acquire) & READY != 0
    }
}

impl<T> SlotGuard<'_, T> {
    /// Sets `flag` and wakes the waiter, after unlocking.
    fn signal(mut self, flag: u32) {
        self.word.bits |= flag;
        let waiter = self.inner.waiter.take();
        drop(self);
        if let Some(t) = waiter {
            t.unpark();
        }
    }
}

/// The replying half: send one value (a gen_server's `From`).
pub struct ReplySender<T> {
    slot: Option<Arc<Slot<T>>>,
}

/// The waiting half.
pub struct ReplyWait<T> {
    slot: Arc<Slot<T>>,
    /// The value was taken: nothing can arrive any more. Only the owner
    /// touches it (an atomic only to keep `ReplyWait` `Sync`).
    taken: AtomicBool,
}

/// A new one-shot reply channel.
///
/// ```
/// use rotp_runtime::{reply_channel, Runtime};
/// use std::time::Duration;
///
/// let rt = Runtime::new().unwrap();
/// let doubler = rt.spawn_fn(|(n, reply): (u32, rotp_runtime::ReplySender<u32>), _ctx| {
///     reply.send(n * 2);
/// });
/// let (reply, mut wait) = reply_channel();
/// doubler.send((21, reply));
/// assert_eq!(wait.wait(&doubler, Some(Duration::from_secs(5))), Ok(42));
/// ```
pub fn reply_channel<T: Send>() -> (ReplySender<T>, ReplyWait<T>) {
    let slot = Arc::new(Slot {
        word: LockWord::new(0),
        caller: crate::current::self_pid(),
        inner: UnsafeCell::new(SlotInner {
            value: None,
            deliver: None,
            wait_generation: 0,
            waiter: None,
        }),
    });
    (
        ReplySender {
            slot: Some(slot.clone()),
        },
        ReplyWait {
            slot,
            taken: AtomicBool::new(false),
        },
    )
}

impl<T: Send + 'static> ReplySender<T> {
    /// A sender whose value goes to `deliver` rather than to a waiting
    /// [`ReplyWait`]: for bridges that answer requests from elsewhere
    /// (another node) through the same reply handles. It has no caller and
    /// is never abandoned; dropped unsent, it drops `deliver` uncalled.
    ///
    /// ```
    /// let (tx, rx) = std::sync::mpsc::channel();
    /// let sender = rotp_runtime::ReplySender::from_fn(move |v: u32| tx.send(v).unwrap());
    /// assert!(sender.send(5));
    /// assert_eq!(rx.recv().unwrap(), 5);
    /// ```
    pub fn from_fn(deliver: impl FnOnce(T) + Send + 'static) -> Self {
        let slot = Arc::new(Slot {
            word: LockWord::new(0),
            caller: None,
            inner: UnsafeCell::new(SlotInner {
                value: None,
                deliver: Some(Box::new(deliver)),
                wait_generation: 0,
                waiter: None,
            }),
        });
        ReplySender { slot: Some(slot) }
    }
}

impl<T> ReplySender<T> {
    /// The process that made the channel — the caller waiting for this
    /// reply, OTP's `From` pid — or `None` if a plain thread made it.
    /// Carried here so that a request need not carry it too.
    pub fn caller(&self) -> Option<Pid> {
        self.slot.as_ref().and_then(|slot| slot.caller)
    }

    /// Sends the reply. Returns whether a waiter was still interested; a
    /// reply nobody waits for any more is dropped (rule 67: replying always
    /// "succeeds").
    pub fn send(mut self, value: T) -> bool {
        let slot = self.slot.take().expect("a ReplySender sends once");
        let guard = slot.lock();
        if let Some(deliver) = guard.inner.deliver.take() {
            drop(guard);
            deliver(value);
            return true;
        }
        if guard.word.bits & ABANDONED != 0 {
            drop(guard);
            drop(value);
            return false;
        }
        guard.inner.value = Some(value);
        guard.signal(VALUE);
        true
    }

    /// Whether the waiter has given up (timed out or dropped its wait).
    pub fn is_abandoned(&self) -> bool {
        self.slot
            .as_ref()
            .is_none_or(|s| s.word.load(Acquire) & ABANDONED != 0)
    }
}

impl<T> Drop for ReplySender<T> {
    fn drop(&mut self) {
        if let Some(slot) = self.slot.take() {
            slot.lock().signal(CLOSED);
        }
    }
}

/// What a look at the slot found.
enum Peek<T> {
    Value(T),
    /// The reply handle was dropped unanswered.
    Closed,
    TimedOut,
    Empty,
}

impl<T: Send + 'static> ReplyWait<T> {
    fn peek(&self) -> Peek<T> {
        if !self.slot.is_ready() {
            return Peek::Empty;
        }
        let mut guard = self.slot.lock();
        if let Some(v) = guard.inner.value.take() {
            guard.word.bits &= !VALUE;
            self.taken.store(true, Relaxed);
            return Peek::Value(v);
        }
        if guard.word.bits & TIMED_OUT != 0 {
            return Peek::TimedOut;
        }
        if guard.word.bits & CLOSED != 0 {
            return Peek::Closed;
        }
        Peek::Empty
    }

    /// The reply, if it has arrived (never blocks).
    pub fn try_recv(&mut self) -> Option<T> {
        match self.peek() {
            Peek::Value(v) => Some(v),
            _ => None,
        }
    }

    /// Makes a call: sends `request` — which carries this wait's
    /// [`ReplySender`] — to `callee`, then waits for the reply up to
    /// `timeout` on the runtime clock (`None`: no limit).
    ///
    /// Unlike a send followed by [`wait`](Self::wait), a call that fails
    /// with [`WaitError::CallingSelf`] or [`WaitError::Deadlock`] has no
    /// effect: inside a process, the caller publishes whom it is about to
    /// wait on and looks for a cycle of waits *before* the request is
    /// queued, so a refused request is never handled later. (Two processes
    /// that start calling each other at once both publish first and then
    /// look, so at least one of them sees the cycle; a request that was
    /// queued is therefore never part of one.) A request the callee's
    /// mailbox refuses is dropped: [`WaitError::MailboxFull`], or
    /// [`WaitError::Exited`] with `NoProc` for a process that is gone.
    ///
    /// The callee's handler runs on the calling thread — the fastest way to
    /// answer — only when the caller waits without a timeout (or the callee
    /// was spawned with [`SpawnOptions::callers_run`](crate::SpawnOptions::callers_run));
    /// a caller with a timeout otherwise always gets [`WaitError::Timeout`]
    /// when it expires, however long the handler takes (see the module
    /// docs).
    ///
    /// ```
    /// use rotp_runtime::{reply_channel, ReplySender, Runtime, WaitError};
    ///
    /// let rt = Runtime::new().unwrap();
    /// let doubler = rt.spawn_fn(|(n, reply): (u32, ReplySender<u32>), _ctx| {
    ///     reply.send(n * 2);
    /// });
    /// let (reply, mut wait) = reply_channel();
    /// assert_eq!(wait.call(&doubler, (21, reply), None), Ok(42));
    /// ```
    pub fn call<M: Send + 'static>(
        &mut self,
        callee: &Addr<M>,
        request: M,
        timeout: Option<Duration>,
    ) -> Result<T, WaitError> {
        let shared = &callee.header().shared;
        crate::current::with_header(|me| match me {
            None => {
                let delivery = send_request(callee, request)?;
                self.wait_on_thread(callee, shared, timeout, Inline::Delivered(delivery))
            }
            Some(me) => {
                if me.pid == callee.pid() {
                    return Err(WaitError::CallingSelf);
                }
                // Publish the edge, then look for a cycle: of two processes
                // doing this at once, the later by the fences' order sees the
                // other's edge.
                me.waiting_on.store(callee.pid().to_bits(), Release);
                fence(SeqCst);
                let result = match find_cycle(shared, me.pid, callee) {
                    Some(cycle) => Err(WaitError::Deadlock(cycle)),
                    None => send_request(callee, request).and_then(|delivery| {
                        let inline = Inline::Delivered(delivery);
                        self.wait_in_process(me.pid, callee, shared, timeout, inline, false)
                    }),
                };
                me.waiting_on.store(0, Release);
                result
            }
        })
    }

    /// Waits for the reply from `callee`, up to `timeout` on the runtime
    /// clock (`None`: no limit). See the module docs for how it waits.
    ///
    /// On [`WaitError::Timeout`] the wait may be repeated; drop the
    /// `ReplyWait` to abandon the request.
    pub fn wait<M: Send + 'static>(
        &mut self,
        callee: &Addr<M>,
        timeout: Option<Duration>,
    ) -> Result<T, WaitError> {
        self.wait_with(callee, timeout, Inline::FromLifo)
    }

    /// Like [`wait`](Self::wait), for a request sent with
    /// [`Addr::try_send_deferred`]: if the send woke the callee and the
    /// wait has no timeout, runs the callee's slice right here before
    /// waiting — on a plain thread too, where [`wait`](Self::wait) never
    /// does, and inside a process straight from the delivery rather than
    /// through the worker's LIFO slot. The reply is then usually ready when
    /// the slice returns, with no hand-off to a worker and back.
    /// [`call`](Self::call) sends and waits in one step, and also keeps a
    /// request that would close a call cycle from being queued.
    pub fn wait_delivered<M: Send + 'static>(
        &mut self,
        callee: &Addr<M>,
        delivery: Delivery,
        timeout: Option<Duration>,
    ) -> Result<T, WaitError> {
        self.wait_with(callee, timeout, Inline::Delivered(delivery))
    }

    /// Like [`wait`](Self::wait), but never runs the callee on this
    /// thread. For requests whose handler may wait for the caller itself —
    /// asking a supervisor to stop the calling child — where running the
    /// callee inline, on top of the caller's own stack, could never finish.
    pub fn wait_not_inline<M: Send + 'static>(
        &mut self,
        callee: &Addr<M>,
        timeout: Option<Duration>,
    ) -> Result<T, WaitError> {
        self.wait_with(callee, timeout, Inline::No)
    }

    fn wait_with<M: Send + 'static>(
        &mut self,
        callee: &Addr<M>,
        timeout: Option<Duration>,
        inline: Inline,
    ) -> Result<T, WaitError> {
        if let Peek::Value(v) = self.peek() {
            return Ok(v);
        }
        let shared = &callee.header().shared;
        crate::current::with_header(|me| match me {
            Some(me) => {
                // Publish whom we wait on before anything else, the inline
                // run included: a callee run inline that calls us back must
                // find the edge (a cycle on one thread would never resolve).
                me.waiting_on.store(callee.pid().to_bits(), Release);
                let result = self.wait_in_process(me.pid, callee, shared, timeout, inline, true);
                me.waiting_on.store(0, Release);
                result
            }
            None => self.wait_on_thread(callee, shared, timeout, inline),
        })
    }

    /// The wait of a plain thread: no call cycle can pass through it.
    fn wait_on_thread<M: Send + 'static>(
        &mut self,
        callee: &Addr<M>,
        shared: &Arc<Shared>,
        timeout: Option<Duration>,
        inline: Inline,
    ) -> Result<T, WaitError> {
        // A long timeout is marked on the coarse clock, and a reply caught
        // while spinning costs no more.
        let mark = timeout.map(|t| (shared.timers.mark(t), t));
        if let Inline::Delivered(mut delivery) = inline {
            match delivery.take() {
                // Only a caller that waits without a limit may run the
                // handler itself (while it runs, nothing could end the
                // wait), or one the callee lets do so (`callers_run`).
                Some(task) if timeout.is_none() || callee.header().callers_run() => {
                    // A reply produced here after the deadline is late.
                    let late = || mark.is_some_and(|(m, t)| shared.timers.expired(m, t));
                    let done = || self.slot.is_ready() || late();
                    match scheduler::run_on_caller(task, done, late) {
                        Err(task) => scheduler::schedule(task),
                        Ok(true) => return Err(WaitError::Timeout),
                        Ok(false) => {}
                    }
                    if let Peek::Value(v) = self.peek() {
                        return Ok(v);
                    }
                }
                Some(task) => scheduler::schedule(task),
                None => {}
            }
        }
        if crate::backoff::spin_until(|| self.slot.is_ready()) {
            if let Peek::Value(v) = self.peek() {
                return Ok(v);
            }
        }
        let deadline = mark.map(|(m, t)| shared.timers.now() + shared.timers.left(m, t));
        self.block(callee, deadline)
    }

    /// The wait of a process. `check_cycles`: whether to look for a call
    /// cycle here ([`call`](Self::call) looked before it sent).
    fn wait_in_process<M: Send + 'static>(
        &mut self,
        me: Pid,
        callee: &Addr<M>,
        shared: &Arc<Shared>,
        timeout: Option<Duration>,
        inline: Inline,
        check_cycles: bool,
    ) -> Result<T, WaitError> {
        // (A delivery dropped on the way out schedules the callee.)
        if check_cycles {
            if let Some(cycle) = find_cycle(shared, me, callee) {
                return Err(WaitError::Deadlock(cycle));
            }
        }
        // A long timeout is measured on the coarse clock: a reply caught
        // while spinning then costs no clock read.
        let mark = timeout.map(|t| (shared.timers.mark(t), t));
        // Only a caller that waits without a limit runs the callee on its
        // own stack: while the callee's handler runs there, nothing could
        // end the caller's wait.
        let inline_ok = (timeout.is_none() || callee.header().callers_run())
            && INLINE_DEPTH.with(Cell::get) < MAX_INLINE_DEPTH;
        let task = match inline {
            Inline::FromLifo if inline_ok => worker::take_lifo_if(callee.pid()),
            // A request that did not wake the callee may still find it in
            // this worker's LIFO slot: left there by this thread's last
            // inline run, with others' requests queued (see below).
            Inline::Delivered(mut delivery) if inline_ok => delivery
                .take()
                .or_else(|| worker::take_lifo_if(callee.pid())),
            // Not run here: queued where another worker can take it while
            // this one waits (the LIFO slot is this worker's alone).
            Inline::FromLifo => {
                queue_stealable(worker::take_lifo_if(callee.pid()));
                None
            }
            Inline::Delivered(mut delivery) => {
                queue_stealable(
                    delivery
                        .take()
                        .or_else(|| worker::take_lifo_if(callee.pid())),
                );
                None
            }
            Inline::No => None,
        };
        if let Some(task) = task {
            // A reply produced inline after the deadline (a callee that
            // lets callers run it) is still late.
            let late = || mark.is_some_and(|(m, t)| shared.timers.expired(m, t));
            INLINE_DEPTH.with(|d| d.set(d.get() + 1));
            // A caller told to exit stops running others' handlers: its
            // exit waits for its own handler to return (R1).
            let done = || {
                self.slot.is_ready()
                    || late()
                    || crate::current::with_header(|me| me.is_some_and(Header::is_exiting))
            };
            let left = worker::with_ticks(|ticks| task.run_for_caller(ticks, done));
            INLINE_DEPTH.with(|d| d.set(d.get() - 1));
            // Entries for other callers are left. Answered, the callee
            // waits in this worker's LIFO slot, where this thread's next
            // call to it finds it (above) and where the worker runs it
            // next, as it would a process this handler had woken. Still
            // waiting (the callee's budget ran out first, or the deadline
            // passed), it goes where another worker can take it.
            if let Some(left) = left {
                if self.slot.is_ready() {
                    scheduler::schedule(left);
                } else {
                    queue_stealable(Some(left));
                }
            }
            if late() {
                return Err(WaitError::Timeout);
            }
            if let Peek::Value(v) = self.peek() {
                return Ok(v);
            }
        }
        if crate::backoff::spin_until(|| self.slot.is_ready()) {
            if let Peek::Value(v) = self.peek() {
                return Ok(v);
            }
        }
        if check_cycles {
            // About to block: look again with a full fence, so that of two
            // processes on different threads starting to wait on each other
            // at once, at least one sees the other's edge.
            fence(SeqCst);
            if let Some(cycle) = find_cycle(shared, me, callee) {
                return Err(WaitError::Deadlock(cycle));
            }
        }
        let deadline = mark.map(|(m, t)| shared.timers.now() + shared.timers.left(m, t));
        blocking::cover_wait(shared, || self.block(callee, deadline))
    }

    fn block<M: Send + 'static>(
        &mut self,
        callee: &Addr<M>,
        deadline: Option<Duration>,
    ) -> Result<T, WaitError> {
        let shared = callee.header().shared.clone();
        let clock_virtual = shared.timers.clock.is_virtual();
        let mut timer = None;
        if let (true, Some(deadline)) = (clock_virtual, deadline) {
            // Virtual time moves by `advance` or auto-advance; a timer on the
            // wheel both wakes us and gives auto-advance a deadline to jump to.
            let slot = self.slot.clone();
            let generation = self.slot.lock().inner.wait_generation;
            let delay = deadline.saturating_sub(shared.timers.now());
            timer = Some(shared.timers.send_after(
                delay,
                None,
                Box::new(move || {
                    let guard = slot.lock();
                    if guard.inner.wait_generation == generation {
                        guard.signal(TIMED_OUT);
                    }
                }),
            ));
        }
        let result = loop {
            match self.peek() {
                Peek::Value(v) => break Ok(v),
                Peek::TimedOut => {
                    self.slot.lock().word.bits &= !TIMED_OUT;
                    break Err(WaitError::Timeout);
                }
                Peek::Closed | Peek::Empty => {}
            }
            if crate::current::with_header(|me| me.is_some_and(|h| h.is_exiting())) {
                // Whoever told us to exit may be answering right now (a
                // supervisor asked by a child to stop that child): give the
                // reply a moment before giving up on it.
                crate::backoff::spin_until(|| self.slot.is_ready());
                if let Peek::Value(v) = self.peek() {
                    break Ok(v);
                }
                break Err(WaitError::CallerExiting);
            }
            if let Some(reason) = callee.exit_reason() {
                // The reply may have raced the exit.
                if let Peek::Value(v) = self.peek() {
                    break Ok(v);
                }
                // Report the death once it is complete, as a DOWN would
                // (rule 16): the name is released, so the caller can start
                // a successor under it at once.
                shared.wait_until_gone(callee.header());
                break Err(WaitError::Exited(reason));
            }
            if shared.scheduler.is_stopping() {
                // Nothing runs the callee any more, and a virtual clock
                // no longer moves: neither a reply nor the deadline would
                // ever come. (Only a handler stuck at shutdown, on its
                // detached thread, could still answer: it answers nobody.)
                if let Peek::Value(v) = self.peek() {
                    break Ok(v);
                }
                break Err(WaitError::RuntimeStopped);
            }
            let now = shared.timers.now();
            if deadline.is_some_and(|d| now >= d) {
                break Err(WaitError::Timeout);
            }
            let mut pause = LIVENESS_POLL;
            if !clock_virtual {
                if let Some(d) = deadline {
                    pause = pause.min(d - now);
                }
            }
            let guard = self.slot.lock();
            if guard.word.bits & (VALUE | TIMED_OUT) != 0 {
                continue;
            }
            if guard.word.bits & CLOSED != 0 {
                // Unanswered and dropped: only the callee's exit or the
                // timeout can end this wait now (rule 73). Poll for both.
                drop(guard);
                std::thread::park_timeout(pause);
                continue;
            }
            guard.inner.waiter = Some(std::thread::current());
            drop(guard);
            std::thread::park_timeout(pause);
            self.slot.lock().inner.waiter = None;
        };
        if let Some(t) = timer {
            shared.timers.cancel(t);
        }
        // Whatever an old timer does from now on is ignored.
        let mut guard = self.slot.lock();
        guard.inner.wait_generation += 1;
        guard.word.bits &= !TIMED_OUT;
        drop(guard);
        result
    }
}

impl<T> Drop for ReplyWait<T> {
    fn drop(&mut self) {
        if self.taken.load(Relaxed) {
            // The one value was delivered: the sender is done with the slot.
            return;
        }
        let mut guard = self.slot.lock();
        guard.word.bits |= ABANDONED;
        // A reply that raced the abandonment is dropped here, outside any
        // mailbox (and outside the lock): it never confuses a later request.
        let late = guard.inner.value.take();
        drop(guard);
        drop(late);
    }
}

/// Queues a request for [`ReplyWait::call`]; the delivery schedules the
/// callee unless the wait runs it.
fn send_request<M: Send + 'static>(callee: &Addr<M>, request: M) -> Result<Delivery, WaitError> {
    callee.try_send_deferred(request).map_err(|e| match e {
        TrySendError::Exited(_) => WaitError::Exited(ExitReason::NoProc),
        TrySendError::Full(_) => WaitError::MailboxFull,
    })
}

/// Queues a callee woken by a request this thread will not run: behind the
/// worker's waiting processes, where the other workers can steal it.
fn queue_stealable(task: Option<Task>) {
    if let Some(task) = task {
        // An idle worker that sees this spins for the next one a moment
        // before it yields (`WorkerCx::wait_for_work`).
        task.header().shared.scheduler.note_handoff();
        scheduler::yield_now(task);
    }
}

/// Follows the chain of waits from `callee`; returns the cycle if it leads
/// back to `me`. The common case — the callee waits on nobody — costs one
/// load.
fn find_cycle<M: Send + 'static>(shared: &Shared, me: Pid, callee: &Addr<M>) -> Option<Vec<Pid>> {
    let first = callee.header().waiting_on.load(Acquire);
    if first == 0 {
        return None;
    }
    let mut chain = vec![me, callee.pid()];
    let mut at = Pid::from_bits(first);
    for _ in 0..MAX_CYCLE_SEARCH {
        chain.push(at);
        if at == me {
            return Some(chain);
        }
        let next = shared.table.get(at)?.header().waiting_on.load(Acquire);
        if next == 0 {
            return None;
        }
        at = Pid::from_bits(next);
    }
    None
}

impl<T> fmt::Debug for ReplySender<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ReplySender(..)")
    }
}

impl<T> fmt::Debug for ReplyWait<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ReplyWait(..)")
    }
}
