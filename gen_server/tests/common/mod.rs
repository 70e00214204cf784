//! Shared helpers of the gen_server integration tests.
//!
//! - [`each_runtime`] / [`each_virtual_runtime`] run a test body against
//!   runtimes of 1, 2 and 8 workers and check that each shuts down cleanly.
//! - A [`Puppet`] is a gen_server whose callbacks are closures sent by the
//!   test (calls, casts, infos, continues), and which reports what happens
//!   to it — init, terminate, timeouts, EXITs, DOWNs — as [`Ev`]s on a
//!   probe. [`ask`], [`call_with`] and [`cast`] drive it.
//! - A [`Host`] is a raw process that runs closures as itself, so a test
//!   can be a linked or monitoring parent ([`in_host`], [`host_cast`]).
//! - A [`Gate`] holds a callback until the test opens it.
//! - [`bounded`] runs a blocking client operation on its own thread and
//!   fails the test (instead of hanging) if it does not finish: on the
//!   virtual clock a call never times out by itself.

#![allow(dead_code)]

use std::any::Any;
use std::sync::atomic::Ordering::SeqCst;
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rotp_gen_server::{
    noreply, CallError, Ctx, GenServer, Handled, Info, Init, InitResult, ReplyTo, ServerRef,
    StartOptions,
};
use rotp_runtime::testing::{assert_eventually, wait_until, Probe, Received};
use rotp_runtime::{Addr, Builder, Context, Down, ExitReason, Handle, Pid, Process, Runtime};

/// The worker counts every scheduling-sensitive test runs at.
pub(crate) const WORKER_COUNTS: [usize; 3] = [1, 2, 8];

/// How long to wait for something that must happen (real time).
pub(crate) const TIMEOUT: Duration = Duration::from_secs(5);

/// How long to watch for something that must not happen (real time).
pub(crate) const QUIET: Duration = Duration::from_millis(50);

/// Runs `test` against a real-clock runtime of each size in
/// [`WORKER_COUNTS`].
pub(crate) fn each_runtime(test: impl Fn(&Runtime)) {
    each_runtime_with(|b| b, test)
}

/// [`each_runtime`] with the virtual clock.
pub(crate) fn each_virtual_runtime(test: impl Fn(&Runtime)) {
    each_runtime_with(Builder::virtual_clock, test)
}

/// [`each_runtime`] with extra builder settings.
pub(crate) fn each_runtime_with(configure: impl Fn(Builder) -> Builder, test: impl Fn(&Runtime)) {
    for workers in WORKER_COUNTS {
        with_runtime(configure(Runtime::builder().workers(workers)), &test);
    }
}

/// A single virtual-clock runtime of `workers` workers.
pub(crate) fn with_virtual_runtime(workers: usize, test: impl FnOnce(&Runtime)) {
    with_runtime(Runtime::builder().workers(workers).virtual_clock(), test)
}

/// Runs `test` against one runtime built from `builder`, then kills what
/// the test left running, checks that everything goes away and shuts the
/// runtime down.
pub(crate) fn with_runtime(builder: Builder, test: impl FnOnce(&Runtime)) {
    let rt = builder.build().expect("the runtime starts");
    // Captured by the harness, shown when the test fails.
    eprintln!("--- runtime with {} worker(s)", rt.workers());
    test(&rt);
    for pid in rt.processes() {
        rt.kill(pid);
    }
    assert!(
        wait_until(TIMEOUT, || rt.process_count() == 0),
        "{} worker(s): processes left after kill: {:?}",
        rt.workers(),
        rt.processes()
    );
    if let Err(e) = rt.shutdown(TIMEOUT) {
        panic!("{} worker(s): shutdown failed: {e}", rt.workers());
    }
}

/// Runs `f` on its own thread and returns its result; panics if it has not
/// finished within [`TIMEOUT`] of real time.
#[track_caller]
pub(crate) fn bounded<R: Send + 'static>(f: impl FnOnce() -> R + Send + 'static) -> R {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(f());
    });
    match rx.recv_timeout(TIMEOUT) {
        Ok(r) => r,
        Err(e) => panic!("a client operation did not finish: {e}"),
    }
}

/// Starts `f` on its own thread; its result arrives on the receiver.
pub(crate) fn in_thread<R: Send + 'static>(
    f: impl FnOnce() -> R + Send + 'static,
) -> mpsc::Receiver<R> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(f());
    });
    rx
}

/// Asserts that nothing arrives on `rx` within [`QUIET`].
#[track_caller]
pub(crate) fn assert_pending<R: std::fmt::Debug>(rx: &mpsc::Receiver<R>) {
    match rx.recv_timeout(QUIET) {
        Err(mpsc::RecvTimeoutError::Timeout) => {}
        Ok(r) => panic!("finished too early with {r:?}"),
        Err(e) => panic!("the operation's thread died: {e}"),
    }
}

/// The result that arrives on `rx` within [`TIMEOUT`].
#[track_caller]
pub(crate) fn finished<R>(rx: &mpsc::Receiver<R>) -> R {
    rx.recv_timeout(TIMEOUT).expect("the operation finishes")
}

/// Waits until the runtime has exactly `n` armed timers (e.g. a caller's
/// call timeout, or a server's inactivity timeout, is in place).
#[track_caller]
pub(crate) fn wait_timers(rt: &Handle, n: usize) {
    assert_eventually(TIMEOUT, &format!("{n} timer(s) armed"), || {
        rt.stats().timers == n
    });
}

/// Waits until process `pid` has at least `n` entries queued in its mailbox.
#[track_caller]
pub(crate) fn wait_queued(rt: &Handle, pid: Pid, n: usize) {
    assert_eventually(TIMEOUT, &format!("{n} entries queued at {pid}"), || {
        rt.process_info(pid).is_some_and(|i| i.mailbox_len >= n)
    });
}

/// Waits until `server` is idle with an empty mailbox: the next call from a
/// plain thread wakes it (and, without a timeout, runs its handler).
#[track_caller]
pub(crate) fn wait_idle<G: GenServer>(rt: &Handle, server: &ServerRef<G>) {
    let pid = server.pid().expect("a handle by pid");
    assert_eventually(TIMEOUT, "the server waits for a message", || {
        rt.process_info(pid)
            .is_some_and(|i| i.status == rotp_runtime::Status::Waiting && i.mailbox_len == 0)
    });
}

/// The thread a closure runs on.
pub(crate) fn here() -> std::thread::ThreadId {
    std::thread::current().id()
}

// ---------------------------------------------------------------------------
// Events
// ---------------------------------------------------------------------------

/// What a [`Puppet`] (or a [`Host`]) reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Ev {
    /// `init` ran in this process.
    Init(Pid),
    /// `terminate` ran with this reason.
    Terminate(ExitReason),
    /// `handle_info(Info::Timeout)` ran.
    Timeout,
    /// `handle_info(Info::Msg(Note::Tag(t)))` ran.
    Info(&'static str),
    /// `handle_info(Info::Exit{..})` ran.
    Exit(Pid, ExitReason),
    /// `handle_info(Info::Down(..))` ran.
    Down(Down),
    /// A marker a test's closure sent.
    Mark(&'static str),
    /// A host process received a trapped EXIT.
    HostExit(Pid, ExitReason),
    /// A host process received a DOWN.
    HostDown(Down),
}

/// Waits for the next `n` events from `probe` other than `Ev::Init`, in
/// arrival order.
#[track_caller]
pub(crate) fn events(probe: &Probe<Ev>, n: usize) -> Vec<Ev> {
    (0..n)
        .map(|_| expect_event(probe, |e| !matches!(e, Ev::Init(_))))
        .collect()
}

/// Waits for the `DOWN` of `mref` on `probe` and returns its reason.
#[track_caller]
pub(crate) fn down_reason<M: Send + std::fmt::Debug + 'static>(
    probe: &Probe<M>,
    mref: rotp_runtime::MonitorRef,
) -> ExitReason {
    match probe.assert_receive(
        TIMEOUT,
        |r| matches!(r, Received::Down(d) if d.mref == mref),
    ) {
        Received::Down(d) => d.reason,
        _ => unreachable!(),
    }
}

/// Asserts that no event matching `pred` arrives within [`QUIET`].
#[track_caller]
pub(crate) fn refute_event(probe: &Probe<Ev>, pred: impl Fn(&Ev) -> bool) {
    probe.refute_receive(QUIET, |r| matches!(r, Received::Message(e) if pred(e)));
}

/// Waits for an event matching `pred`.
#[track_caller]
pub(crate) fn expect_event(probe: &Probe<Ev>, pred: impl Fn(&Ev) -> bool) -> Ev {
    match probe.assert_receive(TIMEOUT, |r| matches!(r, Received::Message(e) if pred(e))) {
        Received::Message(e) => e,
        _ => unreachable!(),
    }
}

// ---------------------------------------------------------------------------
// Puppet: a scriptable gen_server
// ---------------------------------------------------------------------------

/// A call's reply: any value (see [`val`] and [`unval`]).
pub(crate) type Val = Box<dyn Any + Send>;

/// Boxes a reply value.
pub(crate) fn val<T: Send + 'static>(v: T) -> Val {
    Box::new(v)
}

/// Unboxes a reply value.
#[track_caller]
pub(crate) fn unval<T: 'static>(v: Val) -> T {
    *v.downcast::<T>().expect("a reply of the expected type")
}

/// Replies to a puppet's call with a boxed value: the tail of a call job.
pub(crate) fn answer<T: Send + 'static>(r: ReplyTo<Val>, v: T) -> Handled<Puppet> {
    r.reply(val(v))
}

type CallFn = dyn FnOnce(&mut Puppet, &mut Ctx<'_, Puppet>) -> Handled<Puppet> + Send;
type JobFn = dyn FnOnce(&mut Puppet, &mut Ctx<'_, Puppet>) -> Handled<Puppet> + Send;
type InitFn = dyn FnOnce(Puppet, &mut Ctx<'_, Puppet>) -> InitResult<Puppet> + Send;
type HookFn = dyn FnMut(&mut Puppet, &mut Ctx<'_, Puppet>) -> Handled<Puppet> + Send;
type TerminateFn = dyn FnOnce(&mut Puppet, &ExitReason) + Send;

/// A request for a puppet: a closure run by `handle_call`, holding the
/// request's reply port.
pub(crate) struct CallJob(Box<CallFn>);

/// A closure run by `handle_cast`, `handle_info` or `handle_continue`.
pub(crate) struct Job(Box<JobFn>);

/// Wraps a closure as a [`Job`] (e.g. for `then_continue`).
pub(crate) fn job(
    f: impl FnOnce(&mut Puppet, &mut Ctx<'_, Puppet>) -> Handled<Puppet> + Send + 'static,
) -> Job {
    Job(Box::new(f))
}

/// A call request for a puppet, to pass to `call`, `call_timeout` or
/// `send_request`: `f` runs as `handle_call` with the request's reply
/// port, whose replies are boxed [`Val`]s.
pub(crate) fn call_job(
    f: impl FnOnce(&mut Puppet, ReplyTo<Val>, &mut Ctx<'_, Puppet>) -> Handled<Puppet> + Send + 'static,
) -> impl FnOnce(ReplyTo<Val>) -> CallJob {
    call_as(f)
}

/// [`call_job`] with a reply of type `R` instead of a boxed value.
pub(crate) fn call_as<R: Send + 'static>(
    f: impl FnOnce(&mut Puppet, ReplyTo<R>, &mut Ctx<'_, Puppet>) -> Handled<Puppet> + Send + 'static,
) -> impl FnOnce(ReplyTo<R>) -> CallJob {
    move |r| CallJob(Box::new(move |p, ctx| f(p, r, ctx)))
}

/// A plain message for a puppet's `handle_info`.
pub(crate) enum Note {
    /// Reported as [`Ev::Info`].
    Tag(&'static str),
    /// Run as the handler.
    Run(Job),
}

/// What a puppet starts with.
pub(crate) struct Script {
    probe: Addr<Ev>,
    init: Box<InitFn>,
}

/// The puppet gen_server.
pub(crate) struct Puppet {
    /// Where events go.
    pub(crate) ev: Addr<Ev>,
    /// A counter for tests.
    pub(crate) count: i64,
    /// A log for tests.
    pub(crate) log: Vec<String>,
    /// Reply ports kept by tests, to answer later.
    pub(crate) deferred: Vec<ReplyTo<Val>>,
    /// What `handle_info` returns after reporting a non-`Run` info.
    pub(crate) after_info: Option<Box<HookFn>>,
    /// Run by `terminate` after it reported [`Ev::Terminate`].
    pub(crate) on_terminate: Option<Box<TerminateFn>>,
    /// What `format_status` shows; it panics if this is `"panic"`.
    pub(crate) shown: String,
}

impl Puppet {
    /// Sends an event to the puppet's probe.
    pub(crate) fn report(&self, ev: Ev) {
        self.ev.send(ev);
    }
}

#[rotp_gen_server::gen_server]
impl GenServer for Puppet {
    fn init(script: Script, ctx: &mut Ctx<'_, Self>) -> InitResult<Self> {
        script.probe.send(Ev::Init(ctx.pid()));
        let puppet = Puppet {
            ev: script.probe,
            count: 0,
            log: Vec::new(),
            deferred: Vec::new(),
            after_info: None,
            on_terminate: None,
            shown: "puppet".to_owned(),
        };
        (script.init)(puppet, ctx)
    }

    fn handle_call(&mut self, request: CallJob, ctx: &mut Ctx<'_, Self>) -> Handled<Self> {
        (request.0)(self, ctx)
    }

    fn handle_cast(&mut self, request: Job, ctx: &mut Ctx<'_, Self>) -> Handled<Self> {
        (request.0)(self, ctx)
    }

    fn handle_info(&mut self, info: Info<Note>, ctx: &mut Ctx<'_, Self>) -> Handled<Self> {
        match info {
            Info::Msg(Note::Run(job)) => return (job.0)(self, ctx),
            Info::Msg(Note::Tag(t)) => self.report(Ev::Info(t)),
            Info::Timeout => self.report(Ev::Timeout),
            Info::Exit { from, reason } => self.report(Ev::Exit(from, reason)),
            Info::Down(d) => self.report(Ev::Down(d)),
        }
        match self.after_info.take() {
            Some(mut hook) => {
                let result = hook(self, ctx);
                self.after_info = Some(hook);
                result
            }
            None => noreply(),
        }
    }

    fn handle_continue(&mut self, cont: Job, ctx: &mut Ctx<'_, Self>) -> Handled<Self> {
        (cont.0)(self, ctx)
    }

    fn terminate(&mut self, reason: &ExitReason, _ctx: &mut Ctx<'_, Self>) {
        self.report(Ev::Terminate(reason.clone()));
        if let Some(f) = self.on_terminate.take() {
            f(self, reason);
        }
    }

    fn format_status(&self) -> String {
        assert_ne!(self.shown, "panic", "format_status was told to panic");
        self.shown.clone()
    }
}

/// A script whose init returns `Init::ok`.
pub(crate) fn script(probe: &Probe<Ev>) -> Script {
    script_with(probe, |p, _ctx| Init::ok(p))
}

/// A script whose init is `f`.
pub(crate) fn script_with(
    probe: &Probe<Ev>,
    f: impl FnOnce(Puppet, &mut Ctx<'_, Puppet>) -> InitResult<Puppet> + Send + 'static,
) -> Script {
    Script {
        probe: probe.addr().clone(),
        init: Box::new(f),
    }
}

/// Starts an unnamed, unlinked puppet.
#[track_caller]
pub(crate) fn puppet(rt: &Handle, probe: &Probe<Ev>) -> ServerRef<Puppet> {
    rotp_gen_server::start::<Puppet>(rt, script(probe), StartOptions::new())
        .expect("the puppet starts")
}

/// Calls the puppet with `f` as the handler, from a separate thread, bounded
/// by [`TIMEOUT`] of real time.
#[track_caller]
pub(crate) fn call_with(
    s: &ServerRef<Puppet>,
    f: impl FnOnce(&mut Puppet, ReplyTo<Val>, &mut Ctx<'_, Puppet>) -> Handled<Puppet> + Send + 'static,
) -> Result<Val, CallError> {
    let s = s.clone();
    bounded(move || s.call(call_job(f)))
}

/// Runs `f` inside the puppet with a call and returns what it returns.
#[track_caller]
pub(crate) fn try_ask<T: Send + 'static>(
    s: &ServerRef<Puppet>,
    f: impl FnOnce(&mut Puppet, &mut Ctx<'_, Puppet>) -> T + Send + 'static,
) -> Result<T, CallError> {
    call_with(s, move |p, r, ctx| answer(r, f(p, ctx))).map(unval::<T>)
}

/// [`try_ask`], expecting success.
#[track_caller]
pub(crate) fn ask<T: Send + 'static>(
    s: &ServerRef<Puppet>,
    f: impl FnOnce(&mut Puppet, &mut Ctx<'_, Puppet>) -> T + Send + 'static,
) -> T {
    try_ask(s, f).expect("the call succeeds")
}

/// Casts `f` to the puppet.
pub(crate) fn cast(
    s: &ServerRef<Puppet>,
    f: impl FnOnce(&mut Puppet, &mut Ctx<'_, Puppet>) -> Handled<Puppet> + Send + 'static,
) {
    s.cast(job(f));
}

/// Sends a tagged info to the puppet.
pub(crate) fn info(s: &ServerRef<Puppet>, tag: &'static str) {
    s.send_info(Note::Tag(tag));
}

// ---------------------------------------------------------------------------
// Host: a raw process that runs closures as itself
// ---------------------------------------------------------------------------

/// A closure run inside a [`Host`].
pub(crate) struct HostJob(Box<HostFn>);

type HostFn = dyn FnOnce(&mut Context<'_, HostJob>) + Send;

impl std::fmt::Debug for HostJob {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("HostJob")
    }
}

/// A raw process that runs [`HostJob`]s and reports trapped EXITs and DOWNs
/// as [`Ev::HostExit`] / [`Ev::HostDown`].
pub(crate) struct Host {
    probe: Addr<Ev>,
}

impl Process for Host {
    type Message = HostJob;

    fn handle(&mut self, job: HostJob, ctx: &mut Context<'_, HostJob>) {
        (job.0)(ctx)
    }

    fn handle_exit(&mut self, from: Pid, reason: ExitReason, _ctx: &mut Context<'_, HostJob>) {
        self.probe.send(Ev::HostExit(from, reason));
    }

    fn handle_down(&mut self, down: Down, _ctx: &mut Context<'_, HostJob>) {
        self.probe.send(Ev::HostDown(down));
    }
}

/// A host that does not trap exits.
pub(crate) fn host(rt: &Handle, probe: &Probe<Ev>) -> Addr<HostJob> {
    rt.spawn(Host {
        probe: probe.addr().clone(),
    })
}

/// A host that traps exits.
pub(crate) fn trapping_host(rt: &Handle, probe: &Probe<Ev>) -> Addr<HostJob> {
    rt.spawn_trapping(Host {
        probe: probe.addr().clone(),
    })
}

/// Runs `f` inside host `h` and returns its result (bounded by
/// [`TIMEOUT`]).
#[track_caller]
pub(crate) fn in_host<R: Send + 'static>(
    h: &Addr<HostJob>,
    f: impl FnOnce(&mut Context<'_, HostJob>) -> R + Send + 'static,
) -> R {
    let rx = host_spawn(h, f);
    match rx.recv_timeout(TIMEOUT) {
        Ok(r) => r,
        Err(e) => panic!("host {} did not answer: {e}", h.pid()),
    }
}

/// Sends `f` to run inside host `h`; its result arrives on the receiver.
pub(crate) fn host_spawn<R: Send + 'static>(
    h: &Addr<HostJob>,
    f: impl FnOnce(&mut Context<'_, HostJob>) -> R + Send + 'static,
) -> mpsc::Receiver<R> {
    let (tx, rx) = mpsc::channel();
    h.send(HostJob(Box::new(move |ctx| {
        let _ = tx.send(f(ctx));
    })));
    rx
}

/// Sends `f` to run inside host `h`, without waiting.
pub(crate) fn host_cast(
    h: &Addr<HostJob>,
    f: impl FnOnce(&mut Context<'_, HostJob>) + Send + 'static,
) {
    h.send(HostJob(Box::new(f)));
}

// ---------------------------------------------------------------------------
// Gate
// ---------------------------------------------------------------------------

pub(crate) use rotp_runtime::testing::Gate;

/// Casts a handler to `s` that reports `Ev::Mark("held")` and then waits
/// for `gate`, and waits until it runs: the server is busy until the gate
/// opens, and whatever is sent now queues up behind.
#[track_caller]
pub(crate) fn hold(s: &ServerRef<Puppet>, probe: &Probe<Ev>, gate: &Gate) {
    let g = gate.clone();
    cast(s, move |p, _ctx| {
        p.report(Ev::Mark("held"));
        g.wait_blocking();
        noreply()
    });
    expect_event(probe, |e| *e == Ev::Mark("held"));
}

// ---------------------------------------------------------------------------
// Log capture
// ---------------------------------------------------------------------------

/// The exit reason of the server behind `s` (a handle by pid), once it has
/// exited.
#[track_caller]
pub(crate) fn exit_reason<G: GenServer>(s: &ServerRef<G>) -> ExitReason {
    assert_eventually(TIMEOUT, "the server exits", || s.exit_reason().is_some());
    s.exit_reason().unwrap()
}

/// The error of a result whose success value is not `Debug`.
#[track_caller]
pub(crate) fn err<T>(r: Result<T, CallError>) -> CallError {
    match r {
        Ok(_) => panic!("expected an error, the call succeeded"),
        Err(e) => e,
    }
}

/// A call handler that keeps the caller waiting: its reply port goes to
/// `Puppet::deferred`.
pub(crate) fn defer_call(
    p: &mut Puppet,
    r: ReplyTo<Val>,
    _ctx: &mut Ctx<'_, Puppet>,
) -> Handled<Puppet> {
    p.deferred.push(r);
    noreply()
}

/// A `{via, Module, Key}` registry for tests: a plain map that trusts the
/// server to register and release its own names (so a test sees whether it
/// does), and counts the calls it gets.
#[derive(Default)]
pub(crate) struct TestRegistry {
    names: Mutex<std::collections::HashMap<String, Pid>>,
    pub(crate) unregistered: std::sync::atomic::AtomicUsize,
}

impl TestRegistry {
    pub(crate) fn new() -> Arc<TestRegistry> {
        Arc::new(TestRegistry::default())
    }

    /// The registry as a server name under `key`.
    pub(crate) fn name(self: &Arc<Self>, key: &str) -> rotp_gen_server::ServerName {
        rotp_gen_server::ServerName::via(self.clone(), key)
    }

    /// The pid bound to `key`.
    pub(crate) fn get(&self, key: &str) -> Option<Pid> {
        self.names.lock().unwrap().get(key).copied()
    }
}

impl rotp_runtime::ViaRegistry for TestRegistry {
    fn register_name(&self, key: &str, pid: Pid) -> Result<(), Pid> {
        let mut names = self.names.lock().unwrap();
        match names.get(key) {
            Some(&holder) => Err(holder),
            None => {
                names.insert(key.to_owned(), pid);
                Ok(())
            }
        }
    }

    fn unregister_name(&self, key: &str) {
        self.unregistered.fetch_add(1, SeqCst);
        self.names.lock().unwrap().remove(key);
    }

    fn whereis_name(&self, key: &str) -> Option<Pid> {
        self.get(key)
    }
}
