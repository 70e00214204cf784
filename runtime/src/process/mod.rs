//! Processes: the [`Process`] trait, its closure form, and the [`Context`]
//! a handler receives.
//!
//! A process is a state machine driven by its mailbox: the runtime calls
//! [`Process::init`] once, then one handler per mailbox entry, on whichever
//! worker thread picks the process up. A handler runs to completion; it is
//! never interrupted. Between two handlers the process may move to another
//! worker, yield to its neighbours (reductions, see `docs/scheduling.md`), or
//! exit.

mod after;
mod context;
pub(crate) mod pcb;
pub(crate) mod state;

pub use context::Context;

use crate::exit::ExitReason;
use crate::info::ProcessKind;
use crate::monitor::Down;
use crate::pid::Pid;
use crate::system::{SystemReply, SystemRequest, SystemStatus};

/// The behaviour of a raw process.
///
/// Implement `handle` for the messages; the other callbacks have defaults.
/// The implementing value is the process state and is dropped when the
/// process exits.
///
/// ```
/// use rotp_runtime::{Context, Process, Runtime};
///
/// struct Counter { total: u64, report: std::sync::mpsc::Sender<u64> }
///
/// enum Msg { Add(u64), Report }
///
/// impl Process for Counter {
///     type Message = Msg;
///     fn handle(&mut self, msg: Msg, _ctx: &mut Context<'_, Msg>) {
///         match msg {
///             Msg::Add(n) => self.total += n,
///             Msg::Report => self.report.send(self.total).unwrap(),
///         }
///     }
/// }
///
/// let rt = Runtime::new().unwrap();
/// let (tx, rx) = std::sync::mpsc::channel();
/// let counter = rt.spawn(Counter { total: 0, report: tx });
/// counter.send(Msg::Add(2));
/// counter.send(Msg::Add(3));
/// counter.send(Msg::Report);
/// assert_eq!(rx.recv().unwrap(), 5);
/// ```
pub trait Process: Send + 'static {
    /// The type of the user messages this process receives.
    type Message: Send + 'static;

    /// Runs once, before the first message. A panic here ends the process.
    fn init(&mut self, ctx: &mut Context<'_, Self::Message>) {
        let _ = ctx;
    }

    /// Handles one user message.
    fn handle(&mut self, msg: Self::Message, ctx: &mut Context<'_, Self::Message>);

    /// Handles a trapped exit signal, `{'EXIT', from, reason}`. Called only
    /// while the process traps exits (rule 24). The default ignores it.
    fn handle_exit(&mut self, from: Pid, reason: ExitReason, ctx: &mut Context<'_, Self::Message>) {
        let _ = (from, reason, ctx);
    }

    /// Handles a monitor notification (rule 27). The default ignores it.
    fn handle_down(&mut self, down: Down, ctx: &mut Context<'_, Self::Message>) {
        let _ = (down, ctx);
    }

    /// Runs when the process has waited for its next mailbox entry for the
    /// receive timeout it set with [`Context::set_receive_timeout`]: the
    /// `after` clause of Erlang's `receive ... after T -> ... end`.
    ///
    /// The wait starts each time the process has handled everything in
    /// its mailbox; anything that arrives before the timeout (a message,
    /// a trapped exit, a `Down`) ends the wait, and the next idle moment
    /// starts a new one. The timeout stays set until changed, like a
    /// receive loop that repeats the same `after`: a process still idle
    /// after this callback gets it again one timeout later, unless the
    /// callback clears it (`ctx.set_receive_timeout(None)`) or exits.
    /// System requests (`Handle::system_status`) do not end the wait.
    ///
    /// The default warns that the process set a receive timeout without
    /// handling it.
    fn handle_timeout(&mut self, ctx: &mut Context<'_, Self::Message>) {
        crate::report::Report::warn(
            crate::report::ReportKind::UnexpectedMessage,
            format_args!(
                "process {} of type {}: its receive timeout fired and it does not \
                 implement handle_timeout",
                ctx.pid(),
                std::any::type_name::<Self>()
            ),
        )
        .pid(ctx.pid())
        .emit();
    }

    /// Runs after `init` or a handler of this process panicked, before the
    /// process exits with the panic as its reason: a behaviour's chance to
    /// clean up (a gen_server runs `terminate` here). The state is as the
    /// panicking handler left it. [`Context::exit`] replaces the exit
    /// reason, and so does a panic in this hook. The default does nothing.
    ///
    /// The runtime catches a panic once per slice, not once per handler,
    /// so a behaviour that needs its own cleanup gets it here for free
    /// instead of paying for a `catch_panic` around every callback.
    fn handle_panic(&mut self, reason: &ExitReason, ctx: &mut Context<'_, Self::Message>) {
        let _ = (reason, ctx);
    }

    /// Answers a system request from an introspection tool
    /// ([`Handle::system_status`](crate::Handle::system_status), the
    /// observer). It runs like a handler, between two of them, on the
    /// process's own thread, but it is not a message: a behaviour should
    /// not count it as activity (OTP's rule for `sys` requests). A panic
    /// here is a panic of the process.
    ///
    /// The default answers `Status` with [`Process::kind`]'s behaviour and
    /// nothing else, and does not support `Suspend` or `Resume`.
    fn system(
        &mut self,
        request: SystemRequest,
        ctx: &mut Context<'_, Self::Message>,
    ) -> SystemReply
    where
        Self: Sized,
    {
        let _ = ctx;
        match request {
            SystemRequest::Status => SystemReply::Status(SystemStatus::new(Self::kind().behaviour)),
            _ => SystemReply::NotSupported,
        }
    }

    /// How introspection names this kind of process: its behaviour and the
    /// type a user recognises. The default is `"process"` and this type; a
    /// behaviour that wraps a user's type names that type instead (a
    /// gen_server: `("gen_server", type_name::<G>())`).
    fn kind() -> ProcessKind
    where
        Self: Sized,
    {
        ProcessKind::new("process", std::any::type_name::<Self>())
    }
}

/// A process made from a closure; see [`Handle::spawn_fn`](crate::Handle::spawn_fn).
pub struct FnProcess<M, F> {
    f: F,
    _msg: std::marker::PhantomData<fn(M)>,
}

impl<M, F> FnProcess<M, F>
where
    M: Send + 'static,
    F: FnMut(M, &mut Context<'_, M>) + Send + 'static,
{
    /// Wraps `f`, which handles each message.
    pub fn new(f: F) -> Self {
        FnProcess {
            f,
            _msg: std::marker::PhantomData,
        }
    }
}

impl<M, F> Process for FnProcess<M, F>
where
    M: Send + 'static,
    F: FnMut(M, &mut Context<'_, M>) + Send + 'static,
{
    type Message = M;

    fn handle(&mut self, msg: M, ctx: &mut Context<'_, M>) {
        (self.f)(msg, ctx)
    }

    /// `"process"` and the closure's type.
    fn kind() -> ProcessKind {
        ProcessKind::new("process", std::any::type_name::<F>())
    }
}

impl<M, F> std::fmt::Debug for FnProcess<M, F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("FnProcess")
    }
}
