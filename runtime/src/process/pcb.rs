//! The process control block: everything the runtime keeps per process.
//!
//! ```text
//! Arc<Pcb<P>> ─┬─ Header          pid, parent, scheduling state, trap_exit,
//!              │                  relations (links, monitors), counters
//!              ├─ Mailbox<M>      senders append here (under the state
//!              │                  word's lock)
//!              ├─ Batch<M>        what the runner handles next
//!              └─ UnsafeCell<Inner<P>>
//!                                 the process state, touched only by the
//!                                 thread holding the run right
//! ```
//!
//! The table and the run queues hold the control block type-erased as
//! [`Task`] (`Arc<dyn AnyProcess>`); typed handles hold it as
//! `Arc<dyn Deliver<M>>` so a send goes straight to the mailbox.
//!
//! # Safety invariants
//!
//! 1. `Inner` (and the header's `RunnerOnly` fields) is accessed only by the
//!    thread that popped the process's queue entry, and only until that
//!    thread gives up the run right (goes idle, yields, or exits). The
//!    state machine (see `README.md`) guarantees that at most one queue
//!    entry exists, so these accesses never overlap.
//! 2. No reference into `Inner` outlives the slice that created it: `run`
//!    obtains it after popping the entry and drops it before the transition
//!    that ends the slice.

use std::any::Any;
use std::cell::{Cell, UnsafeCell};
use std::fmt;
use std::mem::ManuallyDrop;
use std::ptr::NonNull;
use std::sync::atomic::{
    AtomicBool, AtomicU64, AtomicU8,
    Ordering::{Acquire, Relaxed, Release},
};
use std::sync::Arc;

use parking_lot::Mutex;

use super::after::After;
use super::context::{Context, SliceFlags};
use super::state::{Notify, State, TransitionToIdle};
use super::Process;
use crate::addr::{Addr, Deliver};
use crate::error::TrySendError;
use crate::exit::ExitReason;
use crate::info::ProcessKind;
use crate::link::{self, Relations};
use crate::loom::AtomicU32;
use crate::mailbox::{Batch, BatchCell, Envelope, Mailbox, Mark, Message, Overflow, Refused};
use crate::monitor::Down;
use crate::panic;
use crate::pid::Pid;
use crate::report::{Report, ReportKind};
use crate::runtime::Shared;
use crate::scheduler;
use crate::scheduler::lifo::SliceMark;
use crate::system::SystemCall;
use crate::telemetry;
use crate::timer::TimerList;

/// A process as the table and untyped handles own it.
pub(crate) type ProcessArc = Arc<dyn AnyProcess>;

/// A run-queue entry: a pointer to a process that does not own a reference
/// count, so that making a process runnable and running it touch no count.
///
/// # Safety invariant
///
/// An entry exists only while its process is `SCHEDULED` (state invariant
/// 2, see `README.md`), from the moment a sender, killer or yielding runner
/// creates it until the thread that popped it ends the slice. Such a
/// process has not exited. A process leaves the
/// table, which owns it, only in its own exit, run by that thread, and
/// [`AnyProcess::run`] hands the table's reference back to the caller, which
/// drops it after the slice. The table is never emptied by anyone else. So
/// the process outlives every entry that points at it.
pub(crate) struct Task(NonNull<dyn AnyProcess>);

// SAFETY: a `Task` is a pointer to a process, which is `Send + Sync`; the
// module invariant keeps the pointee alive wherever the entry goes.
unsafe impl Send for Task {}

impl Task {
    /// An entry for `process`. The caller must own its queue entry by the
    /// state protocol (a `Schedule` answer, or a yield).
    pub(crate) fn new(process: &(dyn AnyProcess + 'static)) -> Self {
        Task(NonNull::from(process))
    }

    /// The process's header, found at its fixed offset rather than
    /// through the vtable: the scheduler asks for it at every run and
    /// every schedule.
    #[inline]
    pub(crate) fn header(&self) -> &Header {
        // SAFETY: the module invariant keeps the process alive while the
        // entry exists, and the reference does not outlive the entry. The
        // pointee is a `Pcb<P>`, whose header is `HEADER_OFFSET` bytes in
        // for every `P` (`Pcb::create` checks it where it builds one).
        unsafe {
            &*self
                .0
                .as_ptr()
                .cast::<u8>()
                .add(HEADER_OFFSET)
                .cast::<Header>()
        }
    }

    /// Runs one slice of the process (see [`AnyProcess::run`]), consuming
    /// the entry.
    pub(crate) fn run(self, ticks: Option<&AtomicU64>, mark: SliceMark<'_>) {
        // SAFETY: as in `header`; the reference is dead once `run` returns,
        // before the table's reference it hands back is dropped.
        let owned = unsafe { self.0.as_ref() }.run(ticks, mark, false);
        drop(owned);
    }

    /// Runs the process on the thread of a caller that waits for its
    /// answer, one handler per slice (see `Pcb::slice`), consuming the
    /// entry: again while entries are left, until `done()` — the answer
    /// came, or the caller may not wait longer — or the process's budget
    /// of handlers is spent. Returns the entry if the process still has
    /// work queued, for the caller to queue.
    ///
    /// Why not stop after one handler: a server called by several
    /// processes at once holds the others' requests ahead of this caller's.
    /// Queued on this worker, it would wait for this caller's wait to end,
    /// while this caller waits for it: both stuck until the caller's spin
    /// ran out and it blocked under a cover, a futex round trip per call.
    #[inline]
    pub(crate) fn run_for_caller(
        self,
        ticks: Option<&AtomicU64>,
        mut done: impl FnMut() -> bool,
    ) -> Option<Task> {
        let mut handlers = 1;
        loop {
            // SAFETY: as in `run`: this thread holds the entry, and the
            // reference is dead before the table's reference is dropped.
            let owned = unsafe { self.0.as_ref() }.run(ticks, SliceMark(None), true);
            if owned.is_some() || !LEFT_TO_CALLER.with(|left| left.replace(false)) {
                // Exited, or idle: the entry is gone.
                drop(owned);
                return None;
            }
            if done() || handlers >= self.header().budget() {
                return Some(self);
            }
            handlers += 1;
        }
    }
}

thread_local! {
    /// Set by a caller's slice ([`AnyProcess::run`] with `for_caller`)
    /// that ended with entries left, whose queue entry the calling thread
    /// therefore still holds; read and cleared by that thread as soon as
    /// the slice returns. A thread-local rather than a third kind of
    /// result: the worker's `run` keeps its two-register result and its
    /// stack frame, which the hot paths below it are sensitive to (the
    /// ring's messages go through stack slots whose alignment moves with
    /// it).
    static LEFT_TO_CALLER: Cell<bool> = const { Cell::new(false) };
}

/// The type-erased face of a process.
pub(crate) trait AnyProcess: Send + Sync + 'static {
    fn header(&self) -> &Header;
    /// Runs one slice. Called only by the thread that popped the process's
    /// queue entry. `ticks`, the running worker's handler counter, is bumped
    /// after every handler so that the watchdog can tell one long handler
    /// from a slice of many short ones. When the process exits, returns
    /// the table's reference to it, for the caller to drop after the
    /// slice. `mark` is the running worker's slice counter, which the
    /// slice marks over before its last acquisition of the state lock
    /// (`scheduler/lifo.rs`, rule 3).
    ///
    /// `for_caller`: the thread is a caller waiting for the process's
    /// answer; the slice ends after one handler and, if entries are left,
    /// leaves the queue entry to that caller and says so in
    /// [`LEFT_TO_CALLER`] (see `Task::run_for_caller`).
    fn run(
        &self,
        ticks: Option<&AtomicU64>,
        mark: SliceMark<'_>,
        for_caller: bool,
    ) -> Option<ProcessArc>;
    /// Appends a trapped exit; true if the caller must wake the process.
    fn push_exit(&self, from: Pid, reason: ExitReason) -> bool;
    /// Appends a monitor notification; true if the caller must wake it.
    fn push_down(&self, down: Down) -> bool;
    /// Writes an `Addr` for this process into `slot` if `slot` is an
    /// `Option<Addr<M>>` of the process's message type `M`: a typed lookup
    /// by pid or name, without allocating.
    fn addr_into(self: Arc<Self>, slot: &mut dyn Any);
    /// Appends a system request; true if the caller must wake the process.
    fn push_system(&self, call: SystemCall) -> bool;
    /// Entries waiting in the mailbox.
    fn mailbox_len(&self) -> usize;
    /// Bytes held by the mailbox's buffers.
    fn mailbox_memory(&self) -> usize;
    /// How introspection names the process.
    fn kind(&self) -> ProcessKind;
    /// The runtime's memory for the process (see `ProcessInfo::memory`).
    fn memory(&self) -> usize;
}

/// The part of a process every thread may read.
///
/// The field order is fixed (`repr(C)`, and see [`Pcb`]), in two halves:
///
/// - the first 64 bytes hold `state`, which every send writes, and fields
///   that nobody touches per message (`shared` is read once per slice and
///   by a send that wakes the process; the runner's `after` changes only
///   when the process sets a receive timeout, and the runner writes this
///   line at every slice anyway, through the state word): right after the
///   mailbox, they share cache lines with what senders write;
/// - the last 32 hold what the runner reads or writes for every message
///   (`pid`, the counters, the batch's length, `exiting`).
///
/// The allocation is only 16-byte aligned, so where the lines fall moves
/// from process to process: the line holding the state word can reach 64
/// bytes past the word, less the word's offset from a 16-byte boundary.
/// The test `the_runners_fields_are_a_line_away_from_the_state_word`
/// checks the split against the whole layout, the `Arc`'s counts and the
/// mailbox before the header included. A runner draining a flood then
/// never reads a line the senders keep writing, and a sender never waits
/// for the line the runner just wrote (reading `pid` for every message
/// from the senders' line cost `cast_throughput` about a third of its rate
/// on two workers; `docs/benchmarks.md`). The small fields fill what would
/// be padding.
#[repr(C)]
pub(crate) struct Header {
    // The senders' half.
    pub(crate) state: State,
    /// The timers aimed at this process, dropped at its exit (rule 39).
    pub(crate) timers: TimerList,
    pub(crate) relations: Mutex<Relations>,
    pub(crate) parent: Pid,
    /// The process this one waits on in a call (pid bits; 0 = none), for
    /// call-cycle detection.
    pub(crate) waiting_on: AtomicU64,
    /// The capacity of the runner's batch buffer (see `mailbox::Batch`),
    /// which the runner publishes at batch boundaries when it changes.
    batch_capacity: AtomicU32,
    /// Reductions per slice before the process yields (the low 31 bits),
    /// and in the top bit whether a caller that wakes the process may run
    /// its handler whatever the caller's timeout
    /// (`SpawnOptions::callers_run`): one word for both keeps the header
    /// small. Read once per slice.
    slice: u32,
    pub(crate) shared: Arc<Shared>,
    /// The receive timeout, once one was set (`after.rs`).
    after: RunnerOnly<Option<Box<After>>>,
    // The runner's half.
    pub(crate) pid: Pid,
    /// Reductions spent so far (updated once per slice).
    pub(crate) reductions: AtomicU64,
    /// Entries handled so far, counted as each is taken for its handler:
    /// whoever sees a handler's effects (its reply) sees it counted.
    pub(crate) handled: AtomicU64,
    /// The number of entries in the runner's batch (see `mailbox::Batch`).
    batched: AtomicU32,
    /// A copy of the state's `EXITING` bit, set with it, for the runner's
    /// check after every handler (see above).
    exiting: AtomicBool,
    pub(crate) trap_exit: AtomicBool,
    /// [`STARTED`], [`EXIT_REPORTED`], [`GONE`]: the runner's own flags,
    /// here where they fill what would be padding (see [`Inner`]).
    runner_flags: AtomicU8,
}

/// `init` has run.
const STARTED: u8 = 1;
/// The process reported its own exit (`Context::report_exit`): no crash
/// report of the runtime's.
const EXIT_REPORTED: u8 = 2;
/// The process's state was taken out (and dropped) at its exit.
const GONE: u8 = 4;

/// A field of the header only the holder of the run right touches
/// (invariant 1).
struct RunnerOnly<T>(UnsafeCell<T>);

// SAFETY: the value is reached only through `get`, whose callers hold the
// run right, which passes from thread to thread with happens-before
// (invariant 1); the value is `Send`.
unsafe impl<T: Send> Sync for RunnerOnly<T> {}

impl<T> RunnerOnly<T> {
    fn new(value: T) -> Self {
        RunnerOnly(UnsafeCell::new(value))
    }

    /// # Safety
    ///
    /// The caller holds the run right, and no other reference from `get`
    /// is alive (invariant 2).
    #[allow(clippy::mut_from_ref)] // the run right is the exclusive borrow
    #[inline]
    unsafe fn get(&self) -> &mut T {
        // SAFETY: exclusive by the caller's contract.
        unsafe { &mut *self.0.get() }
    }
}

/// The top bit of `Header::slice`.
const CALLERS_RUN: u32 = 1 << 31;
/// The largest reduction budget: the bits below [`CALLERS_RUN`].
const MAX_BUDGET: u32 = CALLERS_RUN - 1;

impl Header {
    /// Reductions per slice before the process yields.
    #[inline]
    pub(crate) fn budget(&self) -> u32 {
        self.slice & MAX_BUDGET
    }

    /// Whether a caller whose call wakes the process may run its handler
    /// whatever the caller's timeout.
    #[inline]
    pub(crate) fn callers_run(&self) -> bool {
        self.slice & CALLERS_RUN != 0
    }

    /// Marks the process exiting (see [`State::mark_exiting`]). The
    /// runner's copy is set first, so no handler starts after the state
    /// says exiting.
    pub(crate) fn mark_exiting(&self) -> (bool, Notify) {
        self.exiting.store(true, Release);
        self.state.mark_exiting()
    }

    /// The reason the process exited with, once its relations are closed.
    pub(crate) fn exit_reason(&self) -> Option<ExitReason> {
        let rel = self.relations.lock();
        if rel.is_closed() {
            rel.exit_reason().cloned()
        } else {
            None
        }
    }

    /// Reports a high-water crossing of this process's mailbox.
    #[cold]
    #[inline(never)]
    pub(crate) fn report_mark(&self, mark: Mark) {
        let pid = self.pid;
        let name = self.shared.registry.name_of(pid);
        let named = match &name {
            Some(name) => format!("{pid} ({name})"),
            None => pid.to_string(),
        };
        let report = match mark {
            Mark::Above { len, mark } => Report::warn(
                ReportKind::MailboxHighWater,
                format_args!(
                    "mailbox_high_water: process {named} has {len} messages waiting \
                     (high-water mark {mark})"
                ),
            )
            .count("len", len as u64)
            .count("high_water", u64::from(mark)),
            Mark::Below { len, mark } => Report::warn(
                ReportKind::MailboxBelowHighWater,
                format_args!(
                    "mailbox_below_high_water: process {named} is down to {len} messages \
                     (high-water mark {mark})"
                ),
            )
            .count("len", len as u64)
            .count("high_water", u64::from(mark)),
        };
        report.pid(pid).name(name).emit();
        if telemetry::enabled(telemetry::family::MAILBOX) {
            let (len, mark, crossed) = match mark {
                Mark::Above { len, mark } => (len, mark, true),
                Mark::Below { len, mark } => (len, mark, false),
            };
            telemetry::emit::mailbox_high_water(pid, len, mark as usize, crossed);
        }
    }

    /// Whether the process has been told to exit; the runner's check.
    /// Every path that sets `EXITING` goes through [`mark_exiting`]
    /// (`transition_to_dead` comes after it).
    ///
    /// [`mark_exiting`]: Self::mark_exiting
    #[inline]
    pub(crate) fn is_exiting(&self) -> bool {
        self.exiting.load(Acquire)
    }

    /// One of the runner's flags. Only the runner reads and writes them.
    #[inline]
    fn runner_flag(&self, flag: u8) -> bool {
        self.runner_flags.load(Relaxed) & flag != 0
    }

    #[inline]
    fn set_runner_flag(&self, flag: u8) {
        self.runner_flags
            .store(self.runner_flags.load(Relaxed) | flag, Relaxed);
    }
}

impl fmt::Debug for Header {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Header")
            .field("pid", &self.pid)
            .field("state", &self.state)
            .finish_non_exhaustive()
    }
}

/// Where the header sits in every `Pcb<P>`: the port comes first (both are
/// `repr(C)`), and the mailbox before the header has the same layout
/// whatever the message type (its rings hold a pointer).
const HEADER_OFFSET: usize = std::mem::offset_of!(Port<()>, header);

/// The process control block of a process whose state has type `P`.
///
/// In this order (`repr(C)`): what senders write (the mailbox, then the
/// header's state word), what everyone reads, what the runner touches (the
/// header's `exiting` copy, the batch, then `inner`). A send that wakes the
/// process writes the batch too, but only then: a flood of sends to a
/// running process leaves the runner's lines alone.
#[repr(C)]
pub(crate) struct Pcb<P: Process> {
    port: Port<P::Message>,
    inner: UnsafeCell<Inner<P>>,
}

/// The part of a process that depends only on its message type: all a
/// sender touches.
///
/// It is the first field of every `Pcb<P>` (`repr(C)`), so a pointer to a
/// `Pcb<P>` is a pointer to its `Port`: an [`Addr<M>`] reaches the port of a
/// process whose state type it does not know without a virtual call, and
/// the whole send — the message moved into the mailbox, the state word
/// updated — is inlined at the sender's call site, where the message can
/// stay in registers.
#[repr(C)]
pub(crate) struct Port<M> {
    mailbox: Mailbox<M>,
    pub(crate) header: Header,
    batch: BatchCell<M>,
}

/// The process's state, until its exit takes it ([`GONE`]).
///
/// Nothing else lives here: an `Option<P>`, or a flag beside `P`, would
/// cost a stateless process eight bytes of padding, so whether the state
/// is still there is a bit of the header's `runner_flags`, and the other
/// per-runner fields sit in the header too.
struct Inner<P: Process> {
    process: ManuallyDrop<P>,
}

// SAFETY: `Inner` is only reached through invariant 1 (one thread at a time,
// handed over through the state word's acquire/release transitions), and
// everything in it is `Send`. The other fields are `Sync` on their own.
unsafe impl<P: Process> Sync for Pcb<P> {}

/// How a slice ended. An exit's reason goes to a slot of `run`'s frame
/// (see `Pcb::slice`).
#[derive(Clone, Copy)]
enum Ended {
    Idle,
    Yield,
    Exit,
}

/// Ends a slice with an exit: `reason` to the caller's slot.
#[cold]
fn exit_with(slot: &mut Option<ExitReason>, reason: ExitReason) -> Ended {
    *slot = Some(reason);
    Ended::Exit
}

/// What a new process starts with.
pub(crate) struct Spawn {
    pub(crate) parent: Pid,
    pub(crate) link: bool,
    pub(crate) monitor: Option<crate::monitor::MonitorRef>,
    pub(crate) trap_exit: bool,
    pub(crate) budget: u32,
    pub(crate) callers_run: bool,
    pub(crate) mailbox_limit: u32,
    pub(crate) high_water: u32,
    pub(crate) overflow: Overflow,
}

impl<P: Process> Pcb<P> {
    /// Creates the process and registers it in the table with its initial
    /// relations. It does not run until the caller passes it to
    /// [`scheduler::schedule`], so the caller can record its own side of a
    /// link or monitor first (rule 22).
    pub(crate) fn create(shared: &Arc<Shared>, process: P, opts: Spawn) -> Arc<Pcb<P>> {
        // `Task::header` relies on this for every `P`.
        const {
            assert!(
                std::mem::offset_of!(Pcb<P>, port) == 0
                    && std::mem::offset_of!(Port<P::Message>, header) == HEADER_OFFSET
            )
        };
        let mut relations = Vec::new();
        if opts.link {
            relations.push(link::Relation::Link(opts.parent));
        }
        if let Some(mref) = opts.monitor {
            relations.push(link::Relation::MonitoredBy(mref, opts.parent));
        }
        let relations = Relations::with(relations);
        let mailbox = Mailbox::new(opts.mailbox_limit, opts.high_water, opts.overflow);
        let pcb = shared.table.insert_with(|pid| {
            let pcb = Arc::new(Pcb {
                port: Port {
                    header: Header {
                        pid,
                        parent: opts.parent,
                        state: State::new_scheduled(),
                        trap_exit: AtomicBool::new(opts.trap_exit),
                        timers: TimerList::new(),
                        relations: Mutex::new(relations),
                        reductions: AtomicU64::new(0),
                        handled: AtomicU64::new(0),
                        slice: opts.budget.min(MAX_BUDGET)
                            | if opts.callers_run { CALLERS_RUN } else { 0 },
                        waiting_on: AtomicU64::new(0),
                        shared: shared.clone(),
                        exiting: AtomicBool::new(false),
                        batched: AtomicU32::new(0),
                        batch_capacity: AtomicU32::new(0),
                        after: RunnerOnly::new(None),
                        runner_flags: AtomicU8::new(0),
                    },
                    mailbox,
                    batch: BatchCell::new(),
                },
                inner: UnsafeCell::new(Inner {
                    process: ManuallyDrop::new(process),
                }),
            });
            (pcb.clone() as ProcessArc, pcb)
        });
        shared.stats.spawned.fetch_add(1, Relaxed);
        pcb
    }

    /// A new counted reference to this process.
    pub(crate) fn arc(&self) -> Arc<Self> {
        let ptr: *const Self = self;
        // SAFETY: a `Pcb` is only ever created inside an `Arc` (`create`),
        // and this one is alive (the caller borrows it), so its count is at
        // least one; the increment pays for the `Arc` made here.
        unsafe {
            Arc::increment_strong_count(ptr);
            Arc::from_raw(ptr)
        }
    }

    pub(crate) fn mailbox(&self) -> &Mailbox<P::Message> {
        &self.port.mailbox
    }

    pub(crate) fn batch(&self) -> Batch<'_, P::Message> {
        self.port.batch()
    }

    pub(crate) fn header_ref(&self) -> &Header {
        &self.port.header
    }

    /// The process's state, unless the exit took it.
    fn state<'a>(&self, inner: &'a mut Inner<P>) -> Option<&'a mut P> {
        (!self.port.header.runner_flag(GONE)).then_some(&mut *inner.process)
    }

    /// Takes the state out, for the exit to drop.
    fn take_state(&self, inner: &mut Inner<P>) -> Option<P> {
        let header = &self.port.header;
        if header.runner_flag(GONE) {
            return None;
        }
        header.set_runner_flag(GONE);
        // SAFETY: `GONE` was clear, so the state is there, and it is set
        // now, so nothing takes or drops the state again.
        Some(unsafe { ManuallyDrop::take(&mut inner.process) })
    }

    /// Runs init (first slice only), then handles entries until the mailbox
    /// is empty, the budget is spent, or the process exits. One
    /// `catch_unwind` covers the whole slice: a panic ends the process, so
    /// there is nothing to resume.
    ///
    /// A slice `for_caller` runs on the thread of a caller that waits for
    /// this process's answer, and ends after one handler (or `init`), so
    /// that the caller resumes as soon as the handler that answers it
    /// returns; whatever else is queued is the caller's to run next or to
    /// queue (`Task::run_for_caller`).
    fn slice(
        &self,
        inner: &mut Inner<P>,
        ticks: Option<&AtomicU64>,
        mark: SliceMark<'_>,
        for_caller: bool,
        exit: &mut Option<ExitReason>,
    ) -> Ended {
        let mut flags = SliceFlags {
            for_caller,
            ..SliceFlags::default()
        };
        let mut spent = 0u64;
        // What comes out is one byte, and an exit's reason (24 bytes) is
        // written to `exit` where the slice ends: a 24-byte result passed
        // out of `catch_unwind` and up to `run` was copied through stack
        // slots with loads wider than the stores that wrote them,
        // store-forwarding stalls on every slice (`docs/benchmarks.md`,
        // "The envelope's padding").
        let result = panic::catch_slice(|| {
            self.slice_loop(inner, &mut flags, &mut spent, ticks, mark, &mut *exit)
        });
        // Only the runner writes the counters: a plain load and store
        // publishes them without a locked instruction.
        let h = &self.port.header;
        h.reductions
            .store(h.reductions.load(Relaxed) + spent.max(1), Relaxed);
        match result {
            Ok(end) => end,
            Err(reason) => {
                *exit = Some(self.after_panic(inner, reason));
                Ended::Exit
            }
        }
    }

    /// A handler panicked: runs the process's `handle_panic` hook, which
    /// may replace the exit reason.
    #[cold]
    fn after_panic(&self, inner: &mut Inner<P>, reason: ExitReason) -> ExitReason {
        let Some(process) = self.state(inner) else {
            return reason;
        };
        let mut flags = SliceFlags::default();
        let hook = panic::catch_slice(|| {
            process.handle_panic(&reason, &mut Context::new(self, &mut flags));
        });
        if flags.exit_reported {
            self.port.header.set_runner_flag(EXIT_REPORTED);
        }
        match hook {
            Err(crash) => crash,
            Ok(()) => flags.exit.take().unwrap_or(reason),
        }
    }

    fn slice_loop(
        &self,
        inner: &mut Inner<P>,
        flags: &mut SliceFlags,
        spent: &mut u64,
        ticks: Option<&AtomicU64>,
        mark: SliceMark<'_>,
        exit: &mut Option<ExitReason>,
    ) -> Ended {
        let header = &self.port.header;
        let Some(process) = self.state(inner) else {
            return exit_with(exit, ExitReason::Killed);
        };
        // SAFETY: this thread holds the run right (invariant 1), and this
        // is the slice's only reference (invariant 2).
        let after = unsafe { header.after.get() };
        let state = &header.state;
        let mut budget = match flags.for_caller {
            true => 1,
            false => i64::from(self.port.header.budget()),
        };
        if !header.runner_flag(STARTED) {
            header.set_runner_flag(STARTED);
            process.init(&mut Context::new(self, flags));
            if let Some(reason) = flags.exit.take() {
                if flags.exit_reported {
                    header.set_runner_flag(EXIT_REPORTED);
                }
                return exit_with(exit, reason);
            }
            if let Some(timeout) = flags.receive_timeout.take() {
                After::set(after, &self.port.header, timeout);
            }
            if flags.for_caller {
                return self.out_of_budget(mark, after, exit);
            }
        }
        loop {
            // SAFETY: this thread holds the run right (it popped the queue
            // entry; invariant 1), and moves the entry out of its slot below
            // before it touches the batch again.
            let Some(slot) = (unsafe { self.port.batch().pop_in_place() }) else {
                // Under the state lock: either the mailbox is empty and we
                // go idle (a later sender finds us idle and schedules us),
                // or what arrived moves to the batch. The slice is marked
                // over first (`scheduler/lifo.rs`, rule 3). A receive
                // timeout starts now (`after.rs`).
                mark.end();
                if let Some(after) = after {
                    after.arm(&self.port.header, || Addr::from_inner(self.arc()));
                }
                // SAFETY: as for `pop`; the run right ends with `Ok`.
                match unsafe {
                    self.port
                        .mailbox
                        .idle_or_take(state, self.port.batch(), |m| {
                            self.port.header.report_mark(m)
                        })
                } {
                    TransitionToIdle::Ok => return Ended::Idle,
                    TransitionToIdle::Notified => {
                        mark.resume();
                        // We keep running: whatever we woke into this
                        // worker's LIFO slot will not run soon here, so let
                        // an idle worker take it (a producer and its
                        // consumer then run in parallel).
                        crate::scheduler::worker::flush_lifo();
                        continue;
                    }
                    TransitionToIdle::Exiting => return exit_with(exit, ExitReason::Killed),
                }
            };
            // Counted before the handler runs, so that anyone who sees the
            // handler's effects (a reply, a message) sees the entry
            // counted in `process_info`. Only the runner writes it, on its
            // own half of the header.
            let h = &self.port.header;
            h.handled.store(h.handled.load(Relaxed) + 1, Relaxed);
            // SAFETY: the slot holds the entry just taken, which only this
            // thread can reach until it moves it out, just below.
            let entry = unsafe { slot.as_ref() };
            if let Some(after) = after {
                // Whatever arrived ends the wait, but a system request is
                // not activity, and a timeout entry decides for itself.
                if !matches!(entry, Envelope::System(_) | Envelope::Timeout(_)) {
                    after.cancel(&self.port.header);
                }
            }
            let mut ctx = Context::new(self, flags);
            // A message goes from its slot straight into the handler's
            // argument: moved out of the envelope by value, it went through
            // two stack copies first (`docs/benchmarks.md`, "The envelope's
            // padding").
            if let Envelope::Message(msg) = entry {
                // SAFETY: moved out once, here; the slot is not read again.
                process.handle(unsafe { std::ptr::read(msg) }, &mut ctx);
            } else {
                // SAFETY: as above, for every other kind of entry.
                match unsafe { slot.as_ptr().read() } {
                    Envelope::Message(_) => unreachable!("handled above"),
                    Envelope::Timeout(generation) => {
                        // Pushed from a `u32` (`Addr::push_timeout`).
                        let generation = generation as u32;
                        if after.as_mut().is_some_and(|a| a.fired(generation)) {
                            process.handle_timeout(&mut ctx);
                        }
                    }
                    Envelope::Exit(exit) => {
                        let (from, reason) = *exit;
                        process.handle_exit(from, reason, &mut ctx)
                    }
                    // The monitor was consumed when the `Down` arrived (see
                    // `monitor::deliver_down`): a queued `Down` is always
                    // handled, even after a plain `demonitor` (rule 32).
                    Envelope::Down(down) => process.handle_down(*down, &mut ctx),
                    Envelope::System(call) => {
                        let reply = process.system(call.request, &mut ctx);
                        call.answer(reply);
                    }
                }
            }
            if let Some(ticks) = ticks {
                // Single writer: the worker's own thread.
                ticks.store(ticks.load(Relaxed).wrapping_add(1), Relaxed);
            }
            // What the handler asked for (an exit, a receive timeout,
            // extra reductions) is looked at only if it asked for
            // something: one test per handler.
            if flags.requested && flags.exit.is_some() {
                // A behaviour reports its own exit in the handler that
                // exits (`Context::report_exit`).
                if flags.exit_reported {
                    header.set_runner_flag(EXIT_REPORTED);
                }
                let reason = flags.exit.take().unwrap_or(ExitReason::Normal);
                return exit_with(exit, reason);
            }
            if self.port.header.is_exiting() {
                return exit_with(exit, ExitReason::Killed);
            }
            let mut cost = 1;
            if flags.requested {
                flags.requested = false;
                if let Some(timeout) = flags.receive_timeout.take() {
                    After::set(after, &self.port.header, timeout);
                }
                cost += u64::from(std::mem::take(&mut flags.consumed));
            }
            *spent += cost;
            budget -= cost as i64;
            if budget <= 0 {
                return self.out_of_budget(mark, after, exit);
            }
        }
    }

    /// Ends a slice whose budget is spent: idle if nothing is left, else a
    /// yield. A yield keeps the process SCHEDULED: the run right passes to
    /// the queue entry `run` creates for it.
    fn out_of_budget(
        &self,
        mark: SliceMark<'_>,
        after: &mut Option<Box<After>>,
        exit: &mut Option<ExitReason>,
    ) -> Ended {
        // The slice ends here whatever follows: marked over before the
        // state lock's last acquisition (`scheduler/lifo.rs`, rule 3).
        mark.end();
        // The count is exact for the holder of the run right: this thread.
        if self.port.batch().len() != 0 {
            if mark.0.is_some() {
                // No transition on this path: take the lock once anyway,
                // so a watchdog stealing from this worker's LIFO slot
                // (under this lock) is done before the worker takes it.
                drop(self.port.header.state.lock());
            }
            return Ended::Yield;
        }
        if let Some(after) = after {
            after.arm(&self.port.header, || Addr::from_inner(self.arc()));
        }
        // SAFETY: this thread holds the run right (invariant 1); it ends
        // with `Ok`.
        match unsafe {
            self.port
                .mailbox
                .idle_or_take(&self.port.header.state, self.port.batch(), |m| {
                    self.port.header.report_mark(m)
                })
        } {
            TransitionToIdle::Ok => Ended::Idle,
            TransitionToIdle::Notified => Ended::Yield,
            TransitionToIdle::Exiting => exit_with(exit, ExitReason::Killed),
        }
    }

    /// Ends the process: drop its state and mailbox, close its relations,
    /// release its name, run its exit hooks, leave the table, then notify
    /// links and monitors (rule 16), in that order. Returns the table's reference, which keeps
    /// the process alive until the caller's slice is over.
    #[must_use]
    fn exit(&self, inner: &mut Inner<P>, reason: ExitReason) -> Option<ProcessArc> {
        let header = &self.port.header;
        let shared = &header.shared;
        let _ = header.mark_exiting();
        // Close the relations and record the reason first: a caller whose
        // pending reply is dropped below then already sees why (rule 62).
        // A kill or exit signal that arrived first decides the reason.
        let (reason, relations, registered, hooks) = {
            let mut rel = header.relations.lock();
            let (reason, relations, hooks) = rel.close(reason);
            (reason, relations, rel.is_registered(), hooks)
        };
        // The name, for the exit event and a crash report (if reports are
        // written at all): look it up while it is held.
        let name = if registered
            && ((!reason.is_normal_class() && Report::enabled(log::Level::Error))
                || telemetry::enabled(telemetry::family::PROCESS))
        {
            shared.registry.name_of(header.pid)
        } else {
            None
        };
        let state = self.take_state(inner);
        // SAFETY: the exit runs in the slice, under the run right.
        let batch = unsafe { self.port.batch().with(std::mem::take) };
        let queued = self.port.mailbox.close(&header.state);
        // Dropping user state runs user code; it must not take the runtime
        // down, and its failure changes nothing: the process is gone.
        let _ = panic::catch(move || drop((state, batch, queued)));

        if registered {
            shared.registry.release(header.pid);
        }
        // Entries other registries keep for this process go now, with its
        // name, before anyone hears of the exit (`exit_hook.rs`).
        if !hooks.is_empty() {
            hooks.run(header.pid, &reason);
        }
        shared.timers.cancel_all_for(header);
        let owned = shared.table.remove(header.pid);
        let observed = link::notify_exit(shared, header.pid, relations, &reason);
        // Before the exit is complete, so that whoever waits for it (an
        // `await_exit`) finds the report written. Only an exit nobody
        // observes has one, so a supervised restart never waits for it.
        if !reason.is_normal_class() && !observed && !header.runner_flag(EXIT_REPORTED) {
            crash_report(
                header.pid,
                name.as_ref(),
                std::any::type_name::<P>(),
                &reason,
            );
        }
        if telemetry::enabled(telemetry::family::PROCESS) {
            telemetry::emit::process_exit(header, P::kind(), &reason, name.as_ref());
        }
        header.state.transition_to_dead();
        shared.stats.exited.fetch_add(1, Relaxed);
        shared.notify_exit_watchers();
        owned
    }
}

/// A process exited abnormally and nobody observed it.
#[cold]
fn crash_report(
    pid: Pid,
    name: Option<&crate::registry::Name>,
    type_name: &str,
    reason: &ExitReason,
) {
    if !Report::enabled(log::Level::Error) {
        return;
    }
    let named = match &name {
        Some(name) => format!("{pid} ({name})"),
        None => pid.to_string(),
    };
    Report::error(
        ReportKind::Crash,
        format_args!("crash report: process {named} of type {type_name} exited: {reason}"),
    )
    .pid(pid)
    .name(name)
    .field("type", type_name)
    .reason(reason)
    .emit();
}

impl<P: Process> Drop for Pcb<P> {
    /// Drops the state of a process that never exited: one the runtime
    /// dropped before it ran, or at its shutdown.
    fn drop(&mut self) {
        if !self.port.header.runner_flag(GONE) {
            // SAFETY: `GONE` is clear, so the state is there; nothing can
            // reach it after this.
            unsafe { ManuallyDrop::drop(&mut self.inner.get_mut().process) }
        }
    }
}

impl<P: Process> AnyProcess for Pcb<P> {
    fn header(&self) -> &Header {
        &self.port.header
    }

    fn run(
        &self,
        ticks: Option<&AtomicU64>,
        mark: SliceMark<'_>,
        for_caller: bool,
    ) -> Option<ProcessArc> {
        let _current = crate::current::enter_process(&self.port.header);
        let end = {
            // SAFETY: invariant 1 — this thread popped the process's only
            // queue entry, so nobody else runs it until this thread gives
            // up the run right below; the previous runner gave it up (went
            // idle under the state lock, or queued the entry itself on a
            // yield) before this entry could exist, so its last use of
            // `inner` happens before this one.
            // Invariant 2 — the reference lives only in this block.
            let inner = unsafe { &mut *self.inner.get() };
            // Whatever woke the process is in its batch already (see
            // `mailbox.rs`); a kill sets `exiting` before it enqueues.
            let mut exit = None;
            let end = if self.port.header.is_exiting() {
                Ended::Exit
            } else {
                self.slice(inner, ticks, mark, for_caller, &mut exit)
            };
            if let Ended::Exit = end {
                // The exit takes the state lock: marked over first.
                mark.end();
                return self.exit(inner, exit.unwrap_or(ExitReason::Killed));
            }
            end
        };
        match end {
            Ended::Idle => {}
            // The yield gave this thread a new queue entry: a caller
            // decides what becomes of it (`Task::run_for_caller`).
            Ended::Yield if for_caller => LEFT_TO_CALLER.with(|left| left.set(true)),
            Ended::Yield => scheduler::yield_spent(Task::new(self)),
            Ended::Exit => unreachable!("handled above"),
        }
        None
    }

    fn push_exit(&self, from: Pid, reason: ExitReason) -> bool {
        let entry = Envelope::Exit(Box::new((from, reason)));
        self.port.push_signal(entry)
    }

    fn push_down(&self, down: Down) -> bool {
        let entry = Envelope::Down(Box::new(down));
        self.port.push_signal(entry)
    }

    fn addr_into(self: Arc<Self>, slot: &mut dyn Any) {
        if let Some(slot) = slot.downcast_mut::<Option<Addr<P::Message>>>() {
            *slot = Some(Addr::from_inner(self));
        }
    }

    fn push_system(&self, call: SystemCall) -> bool {
        let entry = Envelope::System(Box::new(call));
        self.port.push_signal(entry)
    }

    fn mailbox_len(&self) -> usize {
        self.port.mailbox.len(&self.port.header.state) + self.port.batch().len()
    }

    fn mailbox_memory(&self) -> usize {
        let capacity =
            self.port.mailbox.capacity(&self.port.header.state) + self.port.batch().capacity();
        capacity * std::mem::size_of::<Envelope<P::Message>>()
    }

    fn kind(&self) -> ProcessKind {
        P::kind()
    }

    fn memory(&self) -> usize {
        let relations = self.port.header.relations.lock().entries_capacity();
        // The `Arc`'s two counts, the mailbox's buffers, the relations'.
        2 * std::mem::size_of::<usize>()
            + std::mem::size_of::<Self>()
            + self.mailbox_memory()
            + relations * std::mem::size_of::<link::Relation>()
    }
}

// SAFETY: `Pcb` is `repr(C)` and its first field is a `Port<P::Message>`.
unsafe impl<P: Process> Deliver<P::Message> for Pcb<P> {}

impl<M> Port<M> {
    /// The runner's batch, with its published length and capacity.
    #[inline]
    pub(crate) fn batch(&self) -> Batch<'_, M> {
        Batch {
            entries: &self.batch,
            len: &self.header.batched,
            capacity: &self.header.batch_capacity,
        }
    }

    /// Appends a signal; true if the caller must wake the process.
    pub(crate) fn push_signal(&self, entry: Envelope<M>) -> bool {
        matches!(
            self.mailbox
                .push(&self.header.state, self.batch(), entry, |m| {
                    self.header.report_mark(m)
                }),
            Ok(Notify::Schedule)
        )
    }
}

impl<M: Send + 'static> Port<M> {
    /// Appends a message; `Ok(true)` if the caller must schedule the
    /// process (see [`Deliver`]).
    #[inline]
    pub(crate) fn deliver(&self, msg: M) -> Result<bool, TrySendError<M>> {
        if self.mailbox.is_bounded() {
            return self.deliver_bounded(msg);
        }
        match self
            .mailbox
            .push_unbounded(&self.header.state, self.batch(), Message(msg))
        {
            Ok(notify) => Ok(notify == Notify::Schedule),
            Err(refused) => self.refused(refused),
        }
    }

    /// [`deliver`](Self::deliver) to a mailbox with a limit or a
    /// high-water mark. Out of line: a send to any other mailbox carries
    /// none of its set-up (see `Mailbox::push_unbounded`).
    #[inline(never)]
    fn deliver_bounded(&self, msg: M) -> Result<bool, TrySendError<M>> {
        match self
            .mailbox
            .push(&self.header.state, self.batch(), Message(msg), |m| {
                self.header.report_mark(m)
            }) {
            Ok(notify) => Ok(notify == Notify::Schedule),
            Err(refused) => self.refused(refused),
        }
    }

    /// What a send that the mailbox refused comes to.
    #[cold]
    fn refused(&self, refused: Refused<Message<M>>) -> Result<bool, TrySendError<M>> {
        match refused {
            Refused::Closed(Message(msg)) => Err(TrySendError::Exited(msg)),
            Refused::Full(Message(msg), overflow) => match overflow {
                Overflow::Reject => Err(TrySendError::Full(msg)),
                Overflow::Drop => Ok(false),
                Overflow::Exit => {
                    if let Some(task) = self.header.shared.table.get(self.header.pid) {
                        link::exit_signal(
                            task,
                            self.header.pid,
                            ExitReason::custom("mailbox_overflow"),
                            link::Via::Overflow,
                        );
                    }
                    Ok(false)
                }
            },
        }
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    struct Idle;

    impl Process for Idle {
        type Message = ();
        fn handle(&mut self, _: (), _: &mut Context<'_, ()>) {}
    }

    #[test]
    fn the_runners_fields_are_a_line_away_from_the_state_word() {
        use std::mem::offset_of;
        // Offsets in the allocation: an `Arc` keeps its two counts before
        // the `Pcb`, and the allocation is 16-byte aligned, so a cache line
        // may start at any multiple of 16 at or before the state word.
        let header =
            2 * size_of::<usize>() + offset_of!(Pcb<Idle>, port) + offset_of!(Port<()>, header);
        let state = header + offset_of!(Header, state);
        let line_end = state - state % 16 + 64;
        for (name, field) in [
            ("pid", offset_of!(Header, pid)),
            ("reductions", offset_of!(Header, reductions)),
            ("handled", offset_of!(Header, handled)),
            ("batched", offset_of!(Header, batched)),
            ("exiting", offset_of!(Header, exiting)),
        ] {
            assert!(
                header + field >= line_end,
                "`{name}` may share the state word's cache line"
            );
        }
        assert!(
            2 * size_of::<usize>() + offset_of!(Pcb<Idle>, port) + offset_of!(Port<()>, batch)
                >= line_end,
            "the batch may share the state word's cache line"
        );
    }

    /// Counts its drops.
    struct Counted(Arc<std::sync::atomic::AtomicUsize>);

    impl Drop for Counted {
        fn drop(&mut self) {
            self.0.fetch_add(1, Relaxed);
        }
    }

    impl Process for Counted {
        type Message = ();
        fn handle(&mut self, _: (), ctx: &mut Context<'_, ()>) {
            ctx.exit(ExitReason::Normal);
        }
    }

    fn spawn_opts() -> Spawn {
        Spawn {
            parent: Pid::ROOT,
            link: false,
            monitor: None,
            trap_exit: false,
            budget: 100,
            callers_run: false,
            mailbox_limit: 0,
            high_water: 0,
            overflow: Overflow::default(),
        }
    }

    #[test]
    fn the_state_of_a_process_that_never_ran_is_dropped_once() {
        let rt = crate::Runtime::builder().workers(1).build().unwrap();
        let drops = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let pcb = Pcb::create(rt.shared(), Counted(drops.clone()), spawn_opts());
        let pid = pcb.header_ref().pid;
        assert!(rt.shared().table.remove(pid).is_some());
        assert_eq!(drops.load(Relaxed), 0);
        drop(pcb);
        assert_eq!(drops.load(Relaxed), 1);
    }

    #[test]
    fn the_state_is_dropped_once_at_the_exit_and_not_again_with_the_block() {
        let rt = crate::Runtime::builder().workers(1).build().unwrap();
        let drops = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let addr = rt.spawn(Counted(drops.clone()));
        addr.send(());
        let _ = rt.await_exit(&addr, Some(std::time::Duration::from_secs(10)));
        // The exit dropped the state while this handle still holds the
        // control block.
        assert_eq!(drops.load(Relaxed), 1);
        drop(addr);
        drop(rt);
        assert_eq!(drops.load(Relaxed), 1);
    }

    #[test]
    fn idle_process_footprint() {
        let pcb = std::mem::size_of::<Pcb<Idle>>();
        let arc = pcb + 16;
        eprintln!(
            "Pcb<Idle>: {pcb} bytes (+16 Arc counts); Header {}; Mailbox {}; Relations {}",
            std::mem::size_of::<Header>(),
            std::mem::size_of::<Mailbox<()>>(),
            std::mem::size_of::<Relations>()
        );
        // 152 + 16: the control block with its `Arc` counts. A typical
        // allocator adds a word and rounds to 16 (176 bytes); with the
        // process table's 16-byte slot, `spawn` measures about 192 bytes of
        // memory per idle process. One more word here would cost 16.
        assert!(
            arc <= 168,
            "an idle process must stay under 200 bytes, its block is {arc}"
        );
    }
}
