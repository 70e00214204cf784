//! The task of [`TaskSupervisor::run_nolink_info`](super::TaskSupervisor::run_nolink_info):
//! a process that waits for its job before running (rule 198), then hands
//! its result to a GenServer's `handle_info` (rule 199).
//!
//! ```text
//!  server                         supervisor               task
//!    │── start_child ───────────────►│── spawn_link ──────────►│ init: monitor(server),
//!    │◄─────────────── Ok(pid) ──────│                         │       timer(5 s)
//!    │  mref = monitor(pid)                                    │
//!    │── Job::Go(mref) ───────────────────────────────────────►│ demonitor, run f
//!    │◄── Info::Msg(wrap(mref, result)) ───────────────────────│
//!    │◄── Info::Down(mref, normal) ────────────────────────────│ exit normal
//! ```
//!
//! The job is the monitor reference, which the server only has once the
//! task exists: that is why this task, unlike the ones behind
//! [`Task`](rotp_gen_server::Task) handles, cannot get everything at spawn
//! and keeps Elixir's wait. While it waits it monitors the server: the
//! server's `DOWN` makes it exit `{shutdown, reason}`; no job within
//! [`TASK_HANDSHAKE_TIMEOUT`] makes it exit `timeout`. Neither runs the
//! body.
//!
//! The server's message and the task's `DOWN` come from the same process,
//! the message first, so the server sees the result before the `DOWN`
//! (rule 11).

use std::sync::{Arc, Mutex};
use std::time::Duration;

use rotp_runtime::{
    blocking, catch_panic, Addr, Context, Down, ExitReason, Handle, MonitorRef, Pid, Process,
    SpawnOptions, TimerRef,
};

use super::lock;

/// How long a task started by
/// [`run_nolink_info`](super::TaskSupervisor::run_nolink_info) waits for
/// its job from the server, on the runtime clock (Elixir's `@ref_timeout`,
/// rule 198).
pub const TASK_HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(5);

/// What the task process receives.
pub(crate) enum Job {
    /// The job: run, and tag the result with this reference.
    Go(MonitorRef),
    /// The handshake timer fired.
    Timeout,
}

type Body<T> = Box<dyn FnOnce() -> T + Send>;
type Deliver<T> = Box<dyn FnOnce(MonitorRef, T) + Send>;

/// Where the spawned task's address waits for the owner.
type Slot = Arc<Mutex<Option<Addr<Job>>>>;

/// A task process waiting for its job (see the module docs).
pub(crate) struct HandshakeTask<T> {
    owner: Pid,
    owner_mref: Option<MonitorRef>,
    timer: Option<TimerRef>,
    body: Option<Body<T>>,
    deliver: Option<Deliver<T>>,
    slot: Slot,
}

/// The owner's side: sends the job once the task exists.
pub(crate) struct JobSender {
    slot: Slot,
}

impl JobSender {
    /// Sends the job to the spawned task (nothing if it was never spawned).
    pub(crate) fn send(self, mref: MonitorRef) {
        if let Some(addr) = lock(&self.slot).take() {
            addr.send(Job::Go(mref));
        }
    }
}

impl<T: Send + 'static> HandshakeTask<T> {
    /// A task for `owner` that runs `body` once it has its job, and hands
    /// the result to `deliver` with the job's reference.
    pub(crate) fn new(
        owner: Pid,
        body: impl FnOnce() -> T + Send + 'static,
        deliver: impl FnOnce(MonitorRef, T) + Send + 'static,
    ) -> (Self, JobSender) {
        let slot = Slot::default();
        let task = HandshakeTask {
            owner,
            owner_mref: None,
            timer: None,
            body: Some(Box::new(body)),
            deliver: Some(Box::new(deliver)),
            slot: slot.clone(),
        };
        (task, JobSender { slot })
    }

    /// Spawns the task linked to the calling process (the supervisor).
    pub(crate) fn spawn_link(self, handle: &Handle) -> Pid {
        let slot = self.slot.clone();
        let (addr, _) = handle.spawn_opts(self, &SpawnOptions::new().link(true));
        let pid = addr.pid();
        *lock(&slot) = Some(addr);
        pid
    }

    fn run(&mut self, mref: MonitorRef, ctx: &mut Context<'_, Job>) {
        if let Some(timer) = self.timer.take() {
            ctx.handle().cancel_timer(timer);
        }
        if let Some(owner) = self.owner_mref.take() {
            ctx.demonitor_flush(owner);
        }
        let (Some(body), Some(deliver)) = (self.body.take(), self.deliver.take()) else {
            return; // a second job: the first one ran
        };
        match catch_panic(|| blocking(body)) {
            Ok(value) => {
                // R1: a task told to exit while its body ran is already
                // dead; its result is dropped.
                if !ctx.is_exiting() {
                    deliver(mref, value);
                }
                ctx.exit(ExitReason::Normal);
            }
            Err(reason) => ctx.exit(reason),
        }
    }
}

impl<T: Send + 'static> Process for HandshakeTask<T> {
    type Message = Job;

    fn init(&mut self, ctx: &mut Context<'_, Job>) {
        // The timer first: once the monitor shows, both are in place.
        self.timer = Some(ctx.send_after_self(TASK_HANDSHAKE_TIMEOUT, Job::Timeout));
        self.owner_mref = Some(ctx.monitor(self.owner));
    }

    fn handle(&mut self, job: Job, ctx: &mut Context<'_, Job>) {
        match job {
            Job::Go(mref) => self.run(mref, ctx),
            Job::Timeout if self.body.is_some() => ctx.exit(ExitReason::Timeout),
            Job::Timeout => {}
        }
    }

    fn handle_down(&mut self, down: Down, ctx: &mut Context<'_, Job>) {
        if Some(down.mref) == self.owner_mref {
            ctx.exit(ExitReason::shutdown_with(down.reason));
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicBool, Ordering::SeqCst};

    use rotp_runtime::assert_receive;
    use rotp_runtime::testing::{assert_eventually, virtual_runtime, Probe, Received};

    use super::*;

    /// Waits until task `pid` has run its `init` (it monitors `owner`).
    fn waiting_for_job(rt: &Handle, pid: Pid, owner: Pid) {
        assert_eventually(
            Duration::from_secs(5),
            "the task monitors its owner",
            || {
                rt.process_info(pid)
                    .is_some_and(|i| i.monitors.contains(&owner))
            },
        );
    }

    /// A task for `owner` whose body records that it ran.
    fn task(owner: Pid, ran: &Arc<AtomicBool>) -> (HandshakeTask<()>, JobSender) {
        let ran = ran.clone();
        HandshakeTask::new(owner, move || ran.store(true, SeqCst), |_, ()| {})
    }

    #[test]
    fn rule_198_no_job_in_time_exits_timeout() {
        let rt = virtual_runtime(1);
        let owner: Probe<()> = Probe::spawn(&rt);
        let watcher: Probe<()> = Probe::spawn(&rt);
        let ran = Arc::new(AtomicBool::new(false));
        let (t, _job) = task(owner.pid(), &ran);
        let pid = t.spawn_link(&rt);
        watcher.monitor(pid);
        waiting_for_job(&rt, pid, owner.pid());
        rt.advance(TASK_HANDSHAKE_TIMEOUT - Duration::from_millis(1));
        watcher.refute_receive(Duration::from_millis(20), |_| true);
        rt.advance(Duration::from_millis(1));
        assert_receive!(watcher, Received::Down(d) if d.pid == pid && d.reason == ExitReason::Timeout);
        assert!(!ran.load(SeqCst));
    }

    #[test]
    fn rule_198_owner_death_before_the_job_exits_shutdown() {
        let rt = virtual_runtime(1);
        let owner: Probe<()> = Probe::spawn(&rt);
        let watcher: Probe<()> = Probe::spawn(&rt);
        let ran = Arc::new(AtomicBool::new(false));
        let (t, job) = task(owner.pid(), &ran);
        let pid = t.spawn_link(&rt);
        watcher.monitor(pid);
        waiting_for_job(&rt, pid, owner.pid());
        rt.send_exit(owner.pid(), ExitReason::custom("gone"));
        assert_receive!(
            watcher,
            Received::Down(d) if d.pid == pid && d.reason == ExitReason::shutdown_with("gone")
        );
        drop(job);
        assert!(!ran.load(SeqCst));
    }
}
