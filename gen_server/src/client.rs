//! The client API: calling, casting, stopping and inspecting a server.

use std::fmt;
use std::time::Duration;

use rotp_runtime::{
    reply_channel, Addr, ExitReason, Handle, Pid, ReplyWait, TrySendError, WaitError,
};

use crate::behaviour::GenServer;
use crate::error::{CallError, CastError, StopError};
use crate::name::ServerName;
use crate::reply_to::ReplyTo;
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
    /// whichever process holds the name now: Elixir's
    /// `GenServer.call(:name, req)`. `name` is a local name (a string) or a
    /// via name ([`ServerName::via`], a `Registry`'s `via(key)`).
    ///
    /// ```
    /// use rotp_gen_server::{gen_server, start, CallError, Ctx, GenServer, Handled, Init, InitResult, ReplyTo, ServerRef, StartOptions};
    /// use rotp_runtime::ExitReason;
    ///
    /// struct Config(u32);
    ///
    /// /// The configuration's version.
    /// struct Version(ReplyTo<u32>);
    ///
    /// #[gen_server]
    /// impl GenServer for Config {
    ///     fn init(version: u32, _ctx: &mut Ctx<'_, Self>) -> InitResult<Self> {
    ///         Init::ok(Config(version))
    ///     }
    ///     fn handle_call(&mut self, Version(r): Version, _ctx: &mut Ctx<'_, Self>) -> Handled<Self> {
    ///         r.reply(self.0)
    ///     }
    /// }
    ///
    /// let rt = rotp_runtime::Runtime::new().unwrap();
    /// let config = ServerRef::<Config>::named(&rt, "config");
    /// assert_eq!(config.call(Version), Err(CallError::NoProc)); // nobody holds the name yet
    ///
    /// let first = start::<Config>(&rt, 1, StartOptions::new().name("config")).unwrap();
    /// assert_eq!(config.call(Version), Ok(1));
    /// first.stop(ExitReason::Normal, None).unwrap();
    ///
    /// start::<Config>(&rt, 2, StartOptions::new().name("config")).unwrap();
    /// assert_eq!(config.call(Version), Ok(2)); // the named handle finds the new server
    /// assert_eq!(first.call(Version), Err(CallError::NoProc)); // a handle by pid does not
    /// ```
    pub fn named(handle: &Handle, name: impl Into<ServerName>) -> Self {
        ServerRef {
            target: Target::Name(handle.clone(), name.into()),
        }
    }

    /// The server holding `name` now, as a handle by pid (rule 103);
    /// `None` if nobody holds the name or its holder is not a `G` server.
    ///
    /// Unlike [`named`](Self::named), the handle stays with the process
    /// found: it does not follow the name to a restarted server.
    ///
    /// ```
    /// # use rotp_gen_server::{gen_server, Ctx, GenServer, Init, InitResult};
    /// # struct Cache;
    /// # #[gen_server]
    /// # impl GenServer for Cache {
    /// #     fn init((): (), _ctx: &mut Ctx<'_, Self>) -> InitResult<Self> { Init::ok(Cache) }
    /// # }
    /// use rotp_gen_server::{start, ServerRef, StartOptions};
    /// use rotp_runtime::ExitReason;
    ///
    /// let rt = rotp_runtime::Runtime::new().unwrap();
    /// assert!(ServerRef::<Cache>::whereis(&rt, "cache").is_none());
    /// let cache = start::<Cache>(&rt, (), StartOptions::new().name("cache")).unwrap();
    /// let found = ServerRef::<Cache>::whereis(&rt, "cache").unwrap();
    /// assert_eq!(found.pid(), cache.pid());
    /// cache.stop(ExitReason::Normal, None).unwrap();
    /// assert!(ServerRef::<Cache>::whereis(&rt, "cache").is_none());
    /// ```
    pub fn whereis(handle: &Handle, name: impl Into<ServerName>) -> Option<Self> {
        ServerRef::named(handle, name)
            .resolve()
            .ok()
            .map(ServerRef::from_addr)
    }

    /// A handle on the server with pid `pid` — from `which_children`, a
    /// `Down`, a message — checked: [`CallError::WrongType`] if `pid` is a
    /// live process of another kind, [`CallError::NoProc`] if it is not
    /// alive.
    ///
    /// ```
    /// use rotp_gen_server::{gen_server, start, CallError, Ctx, GenServer, Init, InitResult, ServerRef, StartOptions};
    ///
    /// struct A;
    /// #[gen_server]
    /// impl GenServer for A {
    ///     fn init((): (), _ctx: &mut Ctx<'_, Self>) -> InitResult<Self> { Init::ok(A) }
    /// }
    /// struct B;
    /// #[gen_server]
    /// impl GenServer for B {
    ///     fn init((): (), _ctx: &mut Ctx<'_, Self>) -> InitResult<Self> { Init::ok(B) }
    /// }
    ///
    /// let rt = rotp_runtime::Runtime::new().unwrap();
    /// let a = start::<A>(&rt, (), StartOptions::new()).unwrap();
    /// let pid = a.pid().unwrap();
    /// assert!(ServerRef::<A>::from_pid(&rt, pid).is_ok());
    /// assert!(matches!(ServerRef::<B>::from_pid(&rt, pid), Err(CallError::WrongType { .. })));
    /// ```
    pub fn from_pid(handle: &Handle, pid: Pid) -> Result<Self, CallError> {
        handle
            .typed_addr(pid)
            .map(ServerRef::from_addr)
            .map_err(CallError::from)
    }

    fn resolve(&self) -> Result<Addr<ServerMsg<G>>, CallError> {
        match &self.target {
            Target::Addr(a) => Ok(a.clone()),
            Target::Name(handle, name) => {
                let pid = name.whereis(handle).ok_or(CallError::NoProc)?;
                handle.typed_addr(pid).map_err(CallError::from)
            }
        }
    }

    /// The server's address, borrowed when this handle holds it (the hot
    /// path of a call: no reference-count traffic).
    fn with_addr<R>(&self, f: impl FnOnce(&Addr<ServerMsg<G>>) -> R) -> Result<R, CallError> {
        match &self.target {
            Target::Addr(a) => Ok(f(a)),
            Target::Name(..) => self.resolve().map(|a| f(&a)),
        }
    }

    /// The server's pid: for a handle by pid, always that one (alive or
    /// not, see [`is_alive`](Self::is_alive)); for a handle by name, the
    /// pid of whoever holds the name now, or `None` when nobody does.
    pub fn pid(&self) -> Option<Pid> {
        match &self.target {
            Target::Addr(a) => Some(a.pid()),
            Target::Name(handle, name) => name.whereis(handle),
        }
    }

    /// Whether a live `G` server is behind this handle now.
    pub fn is_alive(&self) -> bool {
        self.resolve().is_ok_and(|a| a.is_alive())
    }

    /// The server's exit reason, once a handle by pid's server has exited.
    pub fn exit_reason(&self) -> Option<ExitReason> {
        match &self.target {
            Target::Addr(a) => a.exit_reason(),
            Target::Name(..) => None,
        }
    }

    /// Calls with the default 5-second timeout (rule 58).
    ///
    /// `request` builds the request around its reply port: pass a variant
    /// of the server's `Call` enum that ends with a [`ReplyTo<R>`], or a
    /// closure for one with more fields, and the call returns that
    /// variant's `R`.
    ///
    /// ```
    /// use rotp_gen_server::{gen_server, start, Ctx, GenServer, Handled, Init, InitResult, ReplyTo, StartOptions};
    ///
    /// struct Kv(std::collections::HashMap<String, i64>);
    ///
    /// enum Call {
    ///     Get(String, ReplyTo<Option<i64>>),
    ///     Put(String, i64, ReplyTo<()>),
    ///     Len(ReplyTo<usize>),
    /// }
    ///
    /// #[gen_server]
    /// impl GenServer for Kv {
    ///     fn init((): (), _ctx: &mut Ctx<'_, Self>) -> InitResult<Self> {
    ///         Init::ok(Kv(Default::default()))
    ///     }
    ///     fn handle_call(&mut self, call: Call, _ctx: &mut Ctx<'_, Self>) -> Handled<Self> {
    ///         match call {
    ///             Call::Get(k, r) => r.reply(self.0.get(&k).copied()),
    ///             Call::Put(k, v, r) => r.reply(drop(self.0.insert(k, v))),
    ///             Call::Len(r) => r.reply(self.0.len()),
    ///         }
    ///     }
    /// }
    ///
    /// let rt = rotp_runtime::Runtime::new().unwrap();
    /// let kv = start::<Kv>(&rt, (), StartOptions::new()).unwrap();
    /// kv.call(|r| Call::Put("a".into(), 1, r)).unwrap();
    /// assert_eq!(kv.call(|r| Call::Get("a".into(), r)).unwrap(), Some(1));
    /// assert_eq!(kv.call(Call::Len).unwrap(), 1);
    /// ```
    ///
    /// A call returns [`CallError::Timeout`] when its timeout expires,
    /// however long the handler takes; the server still handles the
    /// request and its late reply is dropped (rules 65-66). A call refused
    /// with `CallingSelf` or `Deadlock` never reaches the server.
    pub fn call<R: Send + 'static>(
        &self,
        request: impl FnOnce(ReplyTo<R>) -> G::Call,
    ) -> Result<R, CallError> {
        self.call_timeout(request, Some(DEFAULT_CALL_TIMEOUT))
    }

    /// Calls with `timeout` on the runtime clock; `None` waits forever
    /// (OTP's `infinity`).
    ///
    /// Inside a process the wait blocks that process only: the worker keeps
    /// running others (see `docs/scheduling.md`). A call without a timeout
    /// that finds the server idle runs its handler on the calling thread,
    /// the fastest call; a call with one never does, so that the timeout
    /// always bounds the wait (unless the server was started with
    /// [`StartOptions::callers_run`](crate::StartOptions::callers_run)).
    ///
    /// ```
    /// # use rotp_gen_server::{gen_server, start, Ctx, GenServer, Handled, Init, InitResult, ReplyTo, StartOptions};
    /// # struct Echo;
    /// # struct Ping(ReplyTo<&'static str>);
    /// # #[gen_server]
    /// # impl GenServer for Echo {
    /// #     fn init((): (), _ctx: &mut Ctx<'_, Self>) -> InitResult<Self> { Init::ok(Echo) }
    /// #     fn handle_call(&mut self, Ping(r): Ping, _ctx: &mut Ctx<'_, Self>) -> Handled<Self> { r.reply("pong") }
    /// # }
    /// use std::time::Duration;
    /// let rt = rotp_runtime::Runtime::new().unwrap();
    /// let echo = start::<Echo>(&rt, (), StartOptions::new()).unwrap();
    /// assert_eq!(echo.call_timeout(Ping, Some(Duration::from_millis(100))), Ok("pong"));
    /// assert_eq!(echo.call_timeout(Ping, None), Ok("pong"));
    /// ```
    pub fn call_timeout<R: Send + 'static>(
        &self,
        request: impl FnOnce(ReplyTo<R>) -> G::Call,
        timeout: Option<Duration>,
    ) -> Result<R, CallError> {
        self.with_addr(|addr| {
            let (reply, mut wait) = reply_channel();
            let request = ServerMsg::Call(request(ReplyTo::new(reply)));
            wait.call(addr, request, timeout).map_err(wait_error)
        })?
    }

    /// Sends a request without waiting; collect the reply from the
    /// returned [`RequestId`] (rule 68).
    pub fn send_request<R: Send + 'static>(
        &self,
        request: impl FnOnce(ReplyTo<R>) -> G::Call,
    ) -> Result<RequestId<G, R>, CallError> {
        let addr = self.resolve()?;
        let (reply, wait) = reply_channel();
        if reply.caller() == Some(addr.pid()) {
            return Err(CallError::CallingSelf);
        }
        addr.try_send(ServerMsg::Call(request(ReplyTo::new(reply))))
            .map_err(|e| match e {
                TrySendError::Exited(_) => CallError::NoProc,
                TrySendError::Full(_) => CallError::MailboxFull,
            })?;
        Ok(RequestId { addr, wait })
    }

    /// Casts: returns at once, whether or not the server exists (rule 69).
    /// `handle_cast` gets `request`; a client's casts and calls are handled
    /// in the order it sent them (rule 70).
    ///
    /// ```
    /// use rotp_gen_server::{gen_server, noreply, start, Ctx, GenServer, Handled, Init, InitResult, ReplyTo, StartOptions};
    /// use rotp_runtime::ExitReason;
    ///
    /// /// Collects lines: casts add one, a call reads them all.
    /// struct Log(Vec<String>);
    ///
    /// #[gen_server]
    /// impl GenServer for Log {
    ///     fn init((): (), _ctx: &mut Ctx<'_, Self>) -> InitResult<Self> {
    ///         Init::ok(Log(Vec::new()))
    ///     }
    ///     fn handle_cast(&mut self, line: String, _ctx: &mut Ctx<'_, Self>) -> Handled<Self> {
    ///         self.0.push(line);
    ///         noreply()
    ///     }
    ///     fn handle_call(&mut self, r: ReplyTo<Vec<String>>, _ctx: &mut Ctx<'_, Self>) -> Handled<Self> {
    ///         r.reply(self.0.clone())
    ///     }
    /// }
    ///
    /// let rt = rotp_runtime::Runtime::new().unwrap();
    /// let log = start::<Log>(&rt, (), StartOptions::new()).unwrap();
    /// log.cast("started".into());
    /// log.cast("ready".into());
    /// assert_eq!(log.call(|r| r).unwrap(), ["started", "ready"]);
    ///
    /// log.stop(ExitReason::Normal, None).unwrap();
    /// log.cast("lost".into()); // no server: not an error, the cast is dropped
    /// ```
    pub fn cast(&self, request: G::Cast) {
        let _ = self.with_addr(|addr| addr.send(ServerMsg::Cast(request)));
    }

    /// Casts, but reports a full mailbox (a bounded server whose policy
    /// rejects). A missing server is still not an error (rule 69).
    pub fn try_cast(&self, request: G::Cast) -> Result<(), CastError> {
        match self.resolve().map(|a| a.try_send(ServerMsg::Cast(request))) {
            Ok(Err(TrySendError::Full(_))) => Err(CastError::MailboxFull),
            _ => Ok(()),
        }
    }

    /// Sends a plain message, handled by `handle_info(Info::Msg(..))`.
    pub fn send_info(&self, msg: G::Info) {
        if let Ok(addr) = self.resolve() {
            addr.send(ServerMsg::Info(msg));
        }
    }

    /// Asks the server to stop with `reason` and waits for it to exit
    /// (rule 93): `terminate` runs; `Ok` if it exited with `reason`. `None`
    /// waits forever (the OTP default).
    ///
    /// ```
    /// use std::sync::mpsc;
    /// use std::time::Duration;
    /// use rotp_gen_server::{gen_server, start, Ctx, GenServer, Init, InitResult, StartOptions, StopError};
    /// use rotp_runtime::ExitReason;
    ///
    /// /// Tells `closed` why it stopped.
    /// struct Conn { closed: mpsc::Sender<ExitReason> }
    ///
    /// #[gen_server]
    /// impl GenServer for Conn {
    ///     fn init(closed: mpsc::Sender<ExitReason>, _ctx: &mut Ctx<'_, Self>) -> InitResult<Self> {
    ///         Init::ok(Conn { closed })
    ///     }
    ///     fn terminate(&mut self, reason: &ExitReason, _ctx: &mut Ctx<'_, Self>) {
    ///         let _ = self.closed.send(reason.clone());
    ///     }
    /// }
    ///
    /// let rt = rotp_runtime::Runtime::new().unwrap();
    /// let (tx, closed) = mpsc::channel();
    /// let conn = start::<Conn>(&rt, tx, StartOptions::new()).unwrap();
    /// assert_eq!(conn.stop(ExitReason::Shutdown, Some(Duration::from_secs(5))), Ok(()));
    /// assert_eq!(closed.try_recv(), Ok(ExitReason::Shutdown)); // `terminate` ran first
    /// assert_eq!(conn.stop(ExitReason::Shutdown, None), Err(StopError::NoProc));
    /// ```
    pub fn stop(&self, reason: ExitReason, timeout: Option<Duration>) -> Result<(), StopError> {
        let addr = self.resolve().map_err(|e| match e {
            CallError::WrongType { pid, actual } => StopError::WrongType { pid, actual },
            _ => StopError::NoProc,
        })?;
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
        let addr = self.resolve()?;
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
    /// until resumed; other messages wait, in order (`sys:suspend`). With a
    /// mailbox limit, the messages it holds count against the limit (see
    /// [`StartOptions::mailbox_limit`](crate::StartOptions::mailbox_limit)).
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

/// A request sent with [`ServerRef::send_request`] (rule 68), whose reply
/// is an `R`.
pub struct RequestId<G: GenServer, R> {
    addr: Addr<ServerMsg<G>>,
    wait: ReplyWait<R>,
}

impl<G: GenServer, R: Send + 'static> RequestId<G, R> {
    /// Waits for the reply; on timeout the request is abandoned and a late
    /// reply is dropped (`receive_response`). A timeout bounds the wait
    /// however long the handler takes.
    pub fn receive_response(mut self, timeout: Option<Duration>) -> Result<R, CallError> {
        self.wait.wait(&self.addr, timeout).map_err(wait_error)
    }

    /// Waits for the reply; on timeout the request stays pending and can be
    /// waited on again (`wait_response`).
    pub fn wait_response(&mut self, timeout: Option<Duration>) -> Result<R, CallError> {
        self.wait.wait(&self.addr, timeout).map_err(wait_error)
    }

    /// The reply if it has arrived, without waiting (`check_response`).
    pub fn check_response(&mut self) -> Option<R> {
        self.wait.try_recv()
    }
}

impl<G: GenServer, R> fmt::Debug for RequestId<G, R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "RequestId({})", self.addr.pid())
    }
}
