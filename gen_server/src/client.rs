//! The client API: calling, casting, stopping and inspecting a server.

use std::fmt;
use std::time::Duration;

use rotp_runtime::{
    reply_channel, Addr, ExitReason, Handle, Pid, ReplyWait, TrySendError, WaitError,
};

use crate::behaviour::GenServer;
use crate::error::{CallError, CastError, StopError};
use crate::name::ServerName;
use crate::server::ServerMsg;
use crate::sys::{self, Statistics, Status, SystemOp};

/// The default call timeout: 5 seconds (rule 58).
pub const DEFAULT_CALL_TIMEOUT: Duration = Duration::from_secs(5);

/// A handle on a server: by pid, or by name.
///
/// A handle by pid (what `start` returns) always means the one process it
/// was made for: once that process has exited, calls fail with `NoProc`
/// — a restarted server is never reached through a stale handle. A handle
/// by name ([`ServerRef::named`]) looks the name up on every use, so it
/// follows restarts.
pub struct ServerRef<G: GenServer> {
    target: Target<G>,
}

enum Target<G: GenServer> {
    Addr(Addr<ServerMsg<G>>),
    Name(Handle, ServerName),
}

impl<G: GenServer> Clone for ServerRef<G> {
    fn clone(&self) -> Self {
        ServerRef {
            target: match &self.target {
                Target::Addr(a) => Target::Addr(a.clone()),
                Target::Name(h, n) => Target::Name(h.clone(), n.clone()),
            },
        }
    }
}

impl<G: GenServer> fmt::Debug for ServerRef<G> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.target {
            Target::Addr(a) => write!(f, "ServerRef({})", a.pid()),
            Target::Name(_, n) => write!(f, "ServerRef({n})"),
        }
    }
}

impl<G: GenServer> ServerRef<G> {
    pub(crate) fn from_addr(addr: Addr<ServerMsg<G>>) -> Self {
        ServerRef {
            target: Target::Addr(addr),
        }
    }

    /// A handle that resolves `name` on every use (rule 37), so it reaches
    /// whichever process holds the name now.
    pub fn named(handle: &Handle, name: impl Into<ServerName>) -> Self {
        ServerRef {
            target: Target::Name(handle.clone(), name.into()),
        }
    }

    /// The server holding `name` now, as a handle by pid (rule 103).
    pub fn whereis(handle: &Handle, name: impl Into<ServerName>) -> Option<Self> {
        ServerRef::named(handle, name)
            .resolve()
            .map(ServerRef::from_addr)
    }

    fn resolve(&self) -> Option<Addr<ServerMsg<G>>> {
        match &self.target {
            Target::Addr(a) => Some(a.clone()),
            Target::Name(handle, name) => handle.addr_of(name.whereis(handle)?),
        }
    }

    /// The server's address, borrowed when this handle holds it (the hot
    /// path of a call: no reference-count traffic).
    fn with_addr<R>(&self, f: impl FnOnce(&Addr<ServerMsg<G>>) -> R) -> Option<R> {
        match &self.target {
            Target::Addr(a) => Some(f(a)),
            Target::Name(..) => self.resolve().map(|a| f(&a)),
        }
    }

    /// The server's pid; for a handle by name, the current holder's, or
    /// [`Pid::ROOT`] when nobody holds the name.
    pub fn pid(&self) -> Pid {
        match &self.target {
            Target::Addr(a) => a.pid(),
            Target::Name(..) => self.resolve().map_or(Pid::ROOT, |a| a.pid()),
        }
    }

    /// Whether the server is alive.
    pub fn is_alive(&self) -> bool {
        self.resolve().is_some_and(|a| a.is_alive())
    }

    /// The server's exit reason, once a handle by pid's server has exited.
    pub fn exit_reason(&self) -> Option<ExitReason> {
        match &self.target {
            Target::Addr(a) => a.exit_reason(),
            Target::Name(..) => None,
        }
    }

    /// Calls with the default 5-second timeout (rule 58).
    pub fn call(&self, request: G::Call) -> Result<G::Reply, CallError> {
        self.call_timeout(request, Some(DEFAULT_CALL_TIMEOUT))
    }

    /// Calls with `timeout` on the runtime clock; `None` waits forever.
    ///
    /// Inside a process the wait blocks that process only: the worker keeps
    /// running others (see `docs/scheduling.md`).
    pub fn call_timeout(
        &self,
        request: G::Call,
        timeout: Option<Duration>,
    ) -> Result<G::Reply, CallError> {
        self.with_addr(|addr| {
            let (reply, mut wait) = reply_channel();
            wait.call(addr, ServerMsg::Call(request, reply), timeout)
                .map_err(wait_error)
        })
        .unwrap_or(Err(CallError::NoProc))
    }

    fn request(&self, request: G::Call) -> Result<RequestId<G>, CallError> {
        let addr = self.resolve().ok_or(CallError::NoProc)?;
        let (reply, wait) = reply_channel();
        if reply.caller() == Some(addr.pid()) {
            return Err(CallError::CallingSelf);
        }
        addr.try_send(ServerMsg::Call(request, reply))
            .map_err(|e| match e {
                TrySendError::Exited(_) => CallError::NoProc,
                TrySendError::Full(_) => CallError::MailboxFull,
            })?;
        Ok(RequestId { addr, wait })
    }

    /// Sends a request without waiting; collect the reply from the
    /// returned [`RequestId`] (rule 68).
    pub fn send_request(&self, request: G::Call) -> Result<RequestId<G>, CallError> {
        self.request(request)
    }

    /// Casts: returns at once, whether or not the server exists (rule 69).
    pub fn cast(&self, request: G::Cast) {
        self.with_addr(|addr| addr.send(ServerMsg::Cast(request)));
    }

    /// Casts, but reports a full mailbox (a bounded server whose policy
    /// rejects). A missing server is still not an error (rule 69).
    pub fn try_cast(&self, request: G::Cast) -> Result<(), CastError> {
        match self.resolve().map(|a| a.try_send(ServerMsg::Cast(request))) {
            Some(Err(TrySendError::Full(_))) => Err(CastError::MailboxFull),
            _ => Ok(()),
        }
    }

    /// Sends a plain message, handled by `handle_info(Info::Msg(..))`.
    pub fn send_info(&self, msg: G::Info) {
        if let Some(addr) = self.resolve() {
            addr.send(ServerMsg::Info(msg));
        }
    }

    /// Asks the server to stop with `reason` and waits for it to exit
    /// (rule 93): `terminate` runs; `Ok` if it exited with `reason`. `None`
    /// waits forever (the OTP default).
    pub fn stop(&self, reason: ExitReason, timeout: Option<Duration>) -> Result<(), StopError> {
        let addr = self.resolve().ok_or(StopError::NoProc)?;
        if rotp_runtime::self_pid() == Some(addr.pid()) {
            return Err(StopError::CallingSelf);
        }
        match addr.try_send(ServerMsg::Stop(Box::new(reason.clone()))) {
            Ok(()) => {}
            Err(TrySendError::Full(_)) => return Err(StopError::MailboxFull),
            Err(TrySendError::Exited(_)) => return Err(StopError::NoProc),
        }
        match addr.await_exit(timeout) {
            Some(actual) if actual == reason => Ok(()),
            Some(actual) => Err(StopError::Exited(actual)),
            None => Err(StopError::Timeout),
        }
    }

    fn system<R: Send + 'static>(
        &self,
        op: impl FnOnce(rotp_runtime::ReplySender<R>) -> SystemOp<G>,
    ) -> Result<R, CallError> {
        let addr = self.resolve().ok_or(CallError::NoProc)?;
        let (reply, mut wait) = reply_channel();
        let request = ServerMsg::System(Box::new(op(reply)));
        wait.call(&addr, request, Some(DEFAULT_CALL_TIMEOUT))
            .map_err(wait_error)
    }

    /// Reads the server's state through `f` (`sys:get_state`, rule 99),
    /// without disturbing its inactivity timeout (rule 80).
    pub fn get_state<R: Send + 'static>(
        &self,
        f: impl FnOnce(&G) -> R + Send + 'static,
    ) -> Result<R, CallError> {
        self.system(|reply| sys::get_state(f, reply))?
            .map_err(CallError::Exited)
    }

    /// Replaces the state with `f(&state)` (`sys:replace_state`). If `f`
    /// panics, the state is unchanged and the panic is returned (rule 99).
    pub fn replace_state(&self, f: impl FnOnce(&G) -> G + Send + 'static) -> Result<(), CallError> {
        self.system(|reply| sys::replace_state(f, reply))?
            .map_err(CallError::Exited)
    }

    /// The server's counters (`sys:statistics`).
    pub fn statistics(&self) -> Result<Statistics, CallError> {
        self.system(SystemOp::Statistics)
    }

    /// The server's status (`sys:get_status`).
    pub fn status(&self) -> Result<Status, CallError> {
        self.system(SystemOp::Status)
    }

    /// Suspends the server: it serves only system requests (and `stop`)
    /// until resumed; other messages wait, in order (`sys:suspend`).
    pub fn suspend(&self) -> Result<(), CallError> {
        self.system(SystemOp::Suspend)
    }

    /// Resumes a suspended server (`sys:resume`).
    pub fn resume(&self) -> Result<(), CallError> {
        self.system(SystemOp::Resume)
    }

    /// Logs every message the server handles at `debug` level (`sys:trace`).
    pub fn trace(&self, on: bool) -> Result<(), CallError> {
        self.system(|reply| SystemOp::Trace(on, reply))
    }
}

fn wait_error(e: WaitError) -> CallError {
    match e {
        WaitError::Timeout => CallError::Timeout,
        WaitError::Exited(ExitReason::NoProc) => CallError::NoProc,
        WaitError::Exited(reason) => CallError::Exited(reason),
        WaitError::Deadlock(cycle) => CallError::Deadlock(cycle),
        WaitError::CallerExiting => CallError::CallerExiting,
        WaitError::CallingSelf => CallError::CallingSelf,
        WaitError::MailboxFull => CallError::MailboxFull,
        other => CallError::Exited(ExitReason::custom(other)),
    }
}

/// A request sent with [`ServerRef::send_request`] (rule 68).
pub struct RequestId<G: GenServer> {
    addr: Addr<ServerMsg<G>>,
    wait: ReplyWait<G::Reply>,
}

impl<G: GenServer> RequestId<G> {
    /// Waits for the reply; on timeout the request is abandoned and a late
    /// reply is dropped (`receive_response`).
    pub fn receive_response(mut self, timeout: Option<Duration>) -> Result<G::Reply, CallError> {
        self.wait.wait(&self.addr, timeout).map_err(wait_error)
    }

    /// Waits for the reply; on timeout the request stays pending and can be
    /// waited on again (`wait_response`).
    pub fn wait_response(&mut self, timeout: Option<Duration>) -> Result<G::Reply, CallError> {
        self.wait.wait(&self.addr, timeout).map_err(wait_error)
    }

    /// The reply if it has arrived, without waiting (`check_response`).
    pub fn check_response(&mut self) -> Option<G::Reply> {
        self.wait.try_recv()
    }
}

impl<G: GenServer> fmt::Debug for RequestId<G> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "RequestId({})", self.addr.pid())
    }
}
