//! Starting a raw [`Process`] as a child: spawn it linked to the supervisor
//! and wait until its `init` has run, like OTP's `proc_lib:start_link`.
//!
//! A raw process's `init` runs when it is first scheduled, after the spawn
//! returns. Waiting for it makes a raw child start like a GenServer:
//! children really start one after another (rule 111), a child is trapping
//! exits (if its `init` asks to) before its supervisor can stop it, and a
//! panic in `init` is a start error rather than a crash right after a
//! "successful" start.

use rotp_runtime::{
    reply_channel, Context, Down, ExitReason, Handle, Pid, Process, ProcessKind, ReplySender,
    SpawnOptions, SystemReply, SystemRequest,
};

use crate::child_spec::{ChildStartError, StartResult};

/// Wraps a process to acknowledge the end of its `init`.
struct Supervised<P> {
    inner: P,
    ack: Option<ReplySender<()>>,
}

impl<P: Process> Process for Supervised<P> {
    type Message = P::Message;

    fn init(&mut self, ctx: &mut Context<'_, P::Message>) {
        self.inner.init(ctx);
        if let Some(ack) = self.ack.take() {
            ack.send(());
        }
    }

    fn handle(&mut self, msg: P::Message, ctx: &mut Context<'_, P::Message>) {
        self.inner.handle(msg, ctx)
    }

    fn handle_exit(&mut self, from: Pid, reason: ExitReason, ctx: &mut Context<'_, P::Message>) {
        self.inner.handle_exit(from, reason, ctx)
    }

    fn handle_down(&mut self, down: Down, ctx: &mut Context<'_, P::Message>) {
        self.inner.handle_down(down, ctx)
    }

    fn handle_panic(&mut self, reason: &ExitReason, ctx: &mut Context<'_, P::Message>) {
        self.inner.handle_panic(reason, ctx)
    }

    fn system(&mut self, request: SystemRequest, ctx: &mut Context<'_, P::Message>) -> SystemReply {
        self.inner.system(request, ctx)
    }

    /// The wrapped process's kind: the wrapper is invisible.
    fn kind() -> ProcessKind {
        P::kind()
    }
}

/// Starts a raw process as a child: spawns `process` linked to the calling
/// process (the supervisor, inside a start function) and returns
/// `Ok(Some(pid))` once its `init` has returned. The building block of
/// [`ChildSpec::process`](crate::ChildSpec::process) and
/// [`DynamicChildSpec::process`](crate::DynamicChildSpec::process), for start functions
/// that need more, such as a DynamicSupervisor's extra argument.
///
/// ```
/// use rotp_runtime::{Context, Process, Runtime};
/// use rotp_supervisor::{start_link_process, ChildType, DynamicChildSpec, DynamicSupervisor, DynamicSupervisorOptions};
///
/// struct Conn { url: String }
/// impl Process for Conn {
///     type Message = ();
///     fn handle(&mut self, _: (), _: &mut Context<'_, ()>) {}
/// }
///
/// let rt = Runtime::new().unwrap();
/// let opts = DynamicSupervisorOptions::new().extra_arguments(String::from("db://local"));
/// let sup = DynamicSupervisor::start_link(&rt, opts).unwrap();
/// let spec = DynamicChildSpec::new(ChildType::Worker, |url: &String| {
///     start_link_process(Conn { url: url.clone() })
/// });
/// assert!(sup.start_child(spec).unwrap().is_some());
/// ```
///
/// # Errors
///
/// [`ChildStartError::Failed`] with the process's exit reason if it died
/// in `init` (a panic, say).
///
/// # Panics
///
/// Outside a runtime thread.
pub fn start_link_process<P: Process>(process: P) -> StartResult {
    let (ack, mut wait) = reply_channel();
    let child = Supervised {
        inner: process,
        ack: Some(ack),
    };
    let (addr, _) = Handle::current().spawn_opts(child, &SpawnOptions::new().link(true));
    match wait.wait(&addr, None) {
        Ok(()) => Ok(Some(addr.pid())),
        Err(rotp_runtime::WaitError::Exited(reason)) => Err(ChildStartError::Failed(reason)),
        Err(e) => Err(ChildStartError::Failed(ExitReason::custom(e))),
    }
}
