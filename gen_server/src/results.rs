//! What callbacks return: OTP's result tuples as types.
//!
//! | OTP                                 | rotp                                          |
//! |-------------------------------------|-----------------------------------------------|
//! | `{ok, State}`                       | `Init::ok(state)`                             |
//! | `{ok, State, Timeout}`              | `Init::ok(state).timeout(d)`                  |
//! | `ignore` / `{stop, R}`              | `Init::ignore()` / `Init::stop(r)`            |
//! | `{error, R}` (OTP 26+)              | `Init::error(r)`, or `?` on an error in `init`|
//! | `{reply, R, S}`                     | `reply_to.reply(r)`                           |
//! | `{reply, R, S, {continue, C}}`      | `reply_to.reply(r).then_continue(c)`          |
//! | `{noreply, S}`                      | `noreply()`                                   |
//! | `{noreply, S, hibernate}`           | `noreply().hibernate()`                       |
//! | `{noreply, S, {timeout, T, Msg}}`   | `noreply().event_timeout(EventTimeout::after(t, msg))` |
//! | `{stop, R, Reply, S}`               | `reply_to.stop(r, reply)`                     |
//! | `{stop, R, S}`                      | `stop(r)`, or `?` on an error in a handler    |
//!
//! Every handler but `init` returns [`Handled<Self>`](Handled), a
//! `Result<Next<Self>, Stop>`: the `Ok` side says what the server does next
//! (wait, with an optional timeout, hibernate, continue or event timeout),
//! the `Err` side stops it. Being a `Result`, it lets a handler use `?`: any
//! [`std::error::Error`] converts into a [`Stop`] whose reason is the error.
//! The modifiers (`.timeout(d)`, `.hibernate()`, `.then_continue(c)`,
//! `.event_timeout(t)`) come from the [`Then`] trait.
//!
//! The state is `self`, changed in place, so "forgot to return the new
//! state" cannot happen, and an ill-formed return (`bad_return_value`, rule
//! 76) does not compile (adaptation R3).

use std::fmt;
use std::time::Duration;

use rotp_runtime::ExitReason;

use crate::behaviour::GenServer;

/// What a handler returns: [`Next`] to carry on, [`Stop`] to stop.
///
/// Build it with [`noreply`], [`ReplyTo::reply`](crate::ReplyTo::reply),
/// [`stop`] or [`ReplyTo::stop`](crate::ReplyTo::stop); a handler may also
/// end with `?` on any error, which stops the server with the error as its
/// reason.
pub type Handled<G> = Result<Next<G>, Stop>;

/// What `init` returns: the state, or why the server does not start.
///
/// `?` on an error in `init` behaves like [`Init::error`]: the start
/// returns [`StartError::Init`](crate::StartError::Init) with the error as
/// the reason and the process exits `normal`, so a linked starter is not
/// taken down with it.
pub type InitResult<G> = Result<Init<G>, Stop>;

/// Carry on and wait for the next message (`{noreply, State}`, rule 75).
///
/// From `handle_call` it means "no reply yet": keep the request's
/// [`ReplyTo`](crate::ReplyTo) and answer later with
/// [`ReplyTo::send`](crate::ReplyTo::send) (rule 73).
///
/// ```
/// use rotp_gen_server::{gen_server, noreply, start, Ctx, GenServer, Handled, Init, InitResult, ReplyTo, StartOptions};
///
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
///     fn handle_call(&mut self, r: ReplyTo<usize>, _ctx: &mut Ctx<'_, Self>) -> Handled<Self> {
///         r.reply(self.0.len())
///     }
/// }
///
/// let rt = rotp_runtime::Runtime::new().unwrap();
/// let log = start::<Log>(&rt, (), StartOptions::new()).unwrap();
/// log.cast("one".into());
/// log.cast("two".into());
/// assert_eq!(log.call(|r| r).unwrap(), 2);
/// ```
pub fn noreply<G: GenServer>() -> Handled<G> {
    Ok(Next::new(Action::Wait))
}

/// Stop with `reason` (`{stop, Reason, State}`): `terminate` runs, then the
/// server exits with `reason`. A caller whose reply is still owed gets its
/// call failed with the reason (rule 62).
///
/// ```
/// use std::time::Duration;
/// use rotp_gen_server::{gen_server, noreply, start, stop, Ctx, GenServer, Handled, Init, InitResult, StartOptions};
/// use rotp_runtime::{testing::wait_until, ExitReason};
///
/// /// Counts jobs; a `Quit` ends it.
/// struct Worker(u32);
///
/// enum Cast { Job, Quit }
///
/// #[gen_server]
/// impl GenServer for Worker {
///     fn init((): (), _ctx: &mut Ctx<'_, Self>) -> InitResult<Self> {
///         Init::ok(Worker(0))
///     }
///     fn handle_cast(&mut self, cast: Cast, _ctx: &mut Ctx<'_, Self>) -> Handled<Self> {
///         match cast {
///             Cast::Job => self.0 += 1,
///             Cast::Quit => return stop(ExitReason::Normal),
///         }
///         noreply()
///     }
/// }
///
/// let rt = rotp_runtime::Runtime::new().unwrap();
/// let worker = start::<Worker>(&rt, (), StartOptions::new()).unwrap();
/// worker.cast(Cast::Job);
/// worker.cast(Cast::Quit);
/// assert!(wait_until(Duration::from_secs(5), || worker.exit_reason().is_some()));
/// assert_eq!(worker.exit_reason(), Some(ExitReason::Normal));
/// ```
pub fn stop<G: GenServer>(reason: impl Into<ExitReason>) -> Handled<G> {
    Err(Stop::new(reason))
}

/// What the server does after a callback: OTP's optional last element.
///
/// Made by [`noreply`] and [`ReplyTo::reply`](crate::ReplyTo::reply) and
/// changed by the [`Then`] modifiers; [`action`](Self::action) shows it.
pub struct Next<G: GenServer> {
    pub(crate) action: Action<G::Continue, G::Info>,
}

impl<G: GenServer> Next<G> {
    pub(crate) fn new(action: Action<G::Continue, G::Info>) -> Self {
        Next { action }
    }

    /// The action the server takes next.
    pub fn action(&self) -> &Action<G::Continue, G::Info> {
        &self.action
    }
}

impl<G: GenServer> fmt::Debug for Next<G>
where
    G::Continue: fmt::Debug,
    G::Info: fmt::Debug,
{
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.action.fmt(f)
    }
}

/// The actions a callback can ask for after it returns.
///
/// `C` is the server's `Continue` type, `I` its `Info` type (for event
/// timeouts).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action<C, I> {
    /// Wait for the next message (no timeout).
    Wait,
    /// Wait, but call `handle_info(Info::Timeout)` if nothing arrives
    /// within the duration (rules 78-79).
    Timeout(Duration),
    /// Release spare memory, then wait (rule 82).
    Hibernate,
    /// Call `handle_continue` before any other message (rule 83).
    Continue(C),
    /// Wait, but call `handle_info(Info::Msg(msg))` with the given message
    /// when the timeout expires first (rule 81, OTP 28's
    /// `{timeout, T, Msg}` and `{hibernate, T, Msg}`).
    EventTimeout(EventTimeout<I>),
}

/// Why a server stops: the `Err` side of [`Handled`] and [`InitResult`].
///
/// Made by [`stop`], [`ReplyTo::stop`](crate::ReplyTo::stop), or by `?` from
/// any [`std::error::Error`], whose `Display` becomes the exit reason:
///
/// ```
/// use rotp_gen_server::{gen_server, noreply, Ctx, GenServer, Handled, Init, InitResult};
///
/// struct Parser(Vec<u32>);
///
/// #[gen_server]
/// impl GenServer for Parser {
///     fn init((): (), _ctx: &mut Ctx<'_, Self>) -> InitResult<Self> {
///         Init::ok(Parser(Vec::new()))
///     }
///     // A cast that does not parse stops the server with the parse error.
///     fn handle_cast(&mut self, text: String, _ctx: &mut Ctx<'_, Self>) -> Handled<Self> {
///         self.0.push(text.parse()?);
///         noreply()
///     }
/// }
/// ```
pub struct Stop(Box<StopInner>);

struct StopInner {
    reason: ExitReason,
    /// A reply to send once `terminate` has run (`{stop, R, Reply, S}`).
    reply: Option<Box<dyn FnOnce() + Send>>,
}

impl Stop {
    /// Stop with `reason`.
    pub fn new(reason: impl Into<ExitReason>) -> Self {
        Stop(Box::new(StopInner {
            reason: reason.into(),
            reply: None,
        }))
    }

    /// Stop with `reason`, then run `reply` (which answers a caller) once
    /// `terminate` has run.
    pub(crate) fn with_reply(reason: ExitReason, reply: Box<dyn FnOnce() + Send>) -> Self {
        Stop(Box::new(StopInner {
            reason,
            reply: Some(reply),
        }))
    }

    /// The exit reason.
    pub fn reason(&self) -> &ExitReason {
        &self.0.reason
    }

    pub(crate) fn into_parts(self) -> (ExitReason, Option<Box<dyn FnOnce() + Send>>) {
        let inner = *self.0;
        (inner.reason, inner.reply)
    }
}

impl<E: std::error::Error + Send + Sync + 'static> From<E> for Stop {
    fn from(error: E) -> Self {
        Stop::new(ExitReason::custom(error))
    }
}

impl fmt::Debug for Stop {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Stop")
            .field("reason", &self.0.reason)
            .field("reply", &self.0.reply.is_some())
            .finish()
    }
}

/// An event timeout (rule 81, OTP 28): like the inactivity timeout of
/// [`Then::timeout`] — any call, cast, info, `EXIT` or `DOWN` arriving
/// first cancels it, `sys` requests do not (rule 80) — but when it expires
/// the server's `handle_info` gets `Info::Msg(msg)`, a message of the
/// server's own `Info` type, instead of `Info::Timeout`.
///
/// | OTP 28                                     | rotp                                     |
/// |--------------------------------------------|------------------------------------------|
/// | `{timeout, T, Msg}`                        | `EventTimeout::after(t, msg)`            |
/// | `{timeout, T, Msg, [{abs, true}]}`         | `EventTimeout::at(deadline, msg)`        |
/// | `{hibernate, T, Msg}`                      | `EventTimeout::after(t, msg).hibernate()`|
///
/// Unlike a plain zero timeout (rule 79), `EventTimeout::after(Duration::ZERO, msg)`
/// delivers `msg` at once, ahead of messages already queued. An absolute
/// deadline ([`at`](Self::at)) that has already passed fires like a timer
/// that has just expired: after the entries already queued, and only if
/// none of them is a message that cancels it.
///
/// ```
/// use std::time::Duration;
/// use rotp_gen_server::{gen_server, noreply, Ctx, EventTimeout, GenServer, Handled, Info, Init, InitResult, Then};
///
/// /// Flushes its buffer once no write has arrived for 100 ms.
/// struct Writer(Vec<u8>);
///
/// enum Tick { Flush }
///
/// #[gen_server]
/// impl GenServer for Writer {
///     fn init((): (), _ctx: &mut Ctx<'_, Self>) -> InitResult<Self> {
///         Init::ok(Writer(Vec::new()))
///     }
///     fn handle_cast(&mut self, bytes: Vec<u8>, _ctx: &mut Ctx<'_, Self>) -> Handled<Self> {
///         self.0.extend(bytes);
///         noreply().event_timeout(EventTimeout::after(Duration::from_millis(100), Tick::Flush))
///     }
///     fn handle_info(&mut self, info: Info<Tick>, _ctx: &mut Ctx<'_, Self>) -> Handled<Self> {
///         if let Info::Msg(Tick::Flush) = info {
///             self.0.clear(); // written out
///         }
///         noreply()
///     }
/// }
/// # let rt = rotp_runtime::Runtime::new().unwrap();
/// # let w = rotp_gen_server::start::<Writer>(&rt, (), rotp_gen_server::StartOptions::new()).unwrap();
/// # w.cast(b"hello".to_vec());
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventTimeout<I> {
    // Boxed so that results stay as small as they are without event
    // timeouts, whatever the size of the server's `Info` type: the hot
    // call/cast path moves results by value.
    spec: Box<EventTimeoutSpec<I>>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct EventTimeoutSpec<I> {
    deadline: Deadline,
    msg: I,
    hibernate: bool,
}

/// When an [`EventTimeout`] expires.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Deadline {
    /// This long after the callback returns (OTP's default, relative
    /// time).
    After(Duration),
    /// At this time on the runtime clock, the clock of
    /// [`Handle::now`](rotp_runtime::Handle::now) (OTP's `{abs, true}`).
    At(Duration),
}

impl<I> EventTimeout<I> {
    /// Expires `after` the callback returns (`{timeout, T, Msg}`); zero
    /// delivers `msg` at once, ahead of queued messages; a century or more
    /// never expires (`infinity`).
    pub fn after(after: Duration, msg: I) -> Self {
        EventTimeout::new(Deadline::After(after), msg)
    }

    /// Expires at `deadline` on the runtime clock
    /// (`{timeout, T, Msg, [{abs, true}]}`), e.g. `ctx.handle().now() + d`.
    pub fn at(deadline: Duration, msg: I) -> Self {
        EventTimeout::new(Deadline::At(deadline), msg)
    }

    fn new(deadline: Deadline, msg: I) -> Self {
        EventTimeout {
            spec: Box::new(EventTimeoutSpec {
                deadline,
                msg,
                hibernate: false,
            }),
        }
    }

    /// Also hibernates while waiting (`{hibernate, T, Msg}`, rule 82).
    pub fn hibernate(mut self) -> Self {
        self.spec.hibernate = true;
        self
    }

    /// When it expires.
    pub fn deadline(&self) -> Deadline {
        self.spec.deadline
    }

    /// The message `handle_info` gets when it expires.
    pub fn msg(&self) -> &I {
        &self.spec.msg
    }

    /// Whether the server hibernates while waiting.
    pub fn hibernates(&self) -> bool {
        self.spec.hibernate
    }

    /// The parts: deadline, message, hibernate.
    pub(crate) fn into_parts(self) -> (Deadline, I, bool) {
        let spec = *self.spec;
        (spec.deadline, spec.msg, spec.hibernate)
    }
}

/// The modifiers of a result: OTP's optional last element of a callback's
/// tuple. Implemented for [`Handled`], [`InitResult`] and
/// [`EnterLoop`](crate::EnterLoop); on a result that stops the server they
/// change nothing. Each replaces the action set before it.
///
/// ```
/// use std::time::Duration;
/// use rotp_gen_server::{gen_server, noreply, Ctx, GenServer, Handled, Info, Init, InitResult, Then};
///
/// /// Goes away after a minute without messages.
/// struct Session;
///
/// #[gen_server]
/// impl GenServer for Session {
///     fn init((): (), _ctx: &mut Ctx<'_, Self>) -> InitResult<Self> {
///         Init::ok(Session).timeout(Duration::from_secs(60))
///     }
///     fn handle_cast(&mut self, (): (), _ctx: &mut Ctx<'_, Self>) -> Handled<Self> {
///         noreply().timeout(Duration::from_secs(60))
///     }
///     fn handle_info(&mut self, info: Info<()>, _ctx: &mut Ctx<'_, Self>) -> Handled<Self> {
///         match info {
///             Info::Timeout => rotp_gen_server::stop("idle"),
///             _ => noreply(),
///         }
///     }
/// }
/// ```
pub trait Then<G: GenServer>: Sized {
    /// Replaces the action.
    #[doc(hidden)]
    fn with_action(self, action: Action<G::Continue, G::Info>) -> Self;

    /// Also arm the inactivity timeout (rules 78-79): `handle_info` gets
    /// `Info::Timeout` if nothing arrives within `after`. Zero fires once
    /// the mailbox is empty; a century or more waits forever, like OTP's
    /// `infinity`.
    fn timeout(self, after: Duration) -> Self {
        self.with_action(Action::Timeout(after))
    }

    /// Also hibernate: release the mailbox's spare memory (rule 82).
    fn hibernate(self) -> Self {
        self.with_action(Action::Hibernate)
    }

    /// Also run `handle_continue(c)` before anything else (rule 83).
    fn then_continue(self, c: G::Continue) -> Self {
        self.with_action(Action::Continue(c))
    }

    /// Also arm an event timeout: `handle_info(Info::Msg(msg))` when it
    /// expires before any message arrives (rule 81).
    fn event_timeout(self, timeout: EventTimeout<G::Info>) -> Self {
        self.with_action(Action::EventTimeout(timeout))
    }
}

impl<G: GenServer> Then<G> for Handled<G> {
    fn with_action(self, action: Action<G::Continue, G::Info>) -> Self {
        self.map(|_| Next::new(action))
    }
}

impl<G: GenServer> Then<G> for InitResult<G> {
    fn with_action(self, action: Action<G::Continue, G::Info>) -> Self {
        self.map(|mut init| {
            init.action = action;
            init
        })
    }
}

/// What a successful `init` returns: the state and the first action.
///
/// Made by [`Init::ok`], [`Init::ignore`], [`Init::stop`] and
/// [`Init::error`], which return an [`InitResult`] ready to be returned.
///
/// ```
/// use rotp_gen_server::{gen_server, start, Ctx, GenServer, Init, InitResult, StartError, StartOptions};
/// use rotp_runtime::ExitReason;
///
/// /// A pool of connections: `None` when pooling is configured off.
/// struct Pool(Vec<u32>);
///
/// #[gen_server]
/// impl GenServer for Pool {
///     fn init(size: Option<usize>, _ctx: &mut Ctx<'_, Self>) -> InitResult<Self> {
///         match size {
///             None => Init::ignore(), // configured off: no process, no error
///             Some(0) => Init::error("a pool needs a connection"),
///             Some(n) => Init::ok(Pool((0..n as u32).collect())),
///         }
///     }
/// }
///
/// let rt = rotp_runtime::Runtime::new().unwrap();
/// assert!(start::<Pool>(&rt, Some(4), StartOptions::new()).is_ok());
/// assert_eq!(start::<Pool>(&rt, None, StartOptions::new()).unwrap_err(), StartError::Ignored);
/// assert_eq!(
///     start::<Pool>(&rt, Some(0), StartOptions::new()).unwrap_err(),
///     StartError::Init(ExitReason::custom("a pool needs a connection")),
/// );
/// ```
pub struct Init<G: GenServer> {
    pub(crate) kind: InitKind<G>,
    pub(crate) action: Action<G::Continue, G::Info>,
}

pub(crate) enum InitKind<G> {
    Ok(G),
    Ignore,
    Stop(ExitReason),
    Error(ExitReason),
}

impl<G: GenServer> Init<G> {
    fn result(kind: InitKind<G>) -> InitResult<G> {
        Ok(Init {
            kind,
            action: Action::Wait,
        })
    }

    /// Start with `state` (`{ok, State}`, rule 49). Add a first action
    /// with the [`Then`] modifiers: `Init::ok(state).timeout(d)`,
    /// `.hibernate()`, `.then_continue(c)` (the start returns before
    /// `handle_continue` runs, rule 83).
    ///
    /// ```
    /// use rotp_gen_server::{gen_server, noreply, start, Ctx, GenServer, Handled, Init, InitResult, ReplyTo, StartOptions, Then};
    ///
    /// /// Starts at once and loads its data right after, before any request.
    /// struct Catalog(Vec<String>);
    ///
    /// struct Load;
    ///
    /// #[gen_server]
    /// impl GenServer for Catalog {
    ///     fn init((): (), _ctx: &mut Ctx<'_, Self>) -> InitResult<Self> {
    ///         Init::ok(Catalog(Vec::new())).then_continue(Load)
    ///     }
    ///     fn handle_continue(&mut self, Load: Load, _ctx: &mut Ctx<'_, Self>) -> Handled<Self> {
    ///         self.0 = vec!["tea".into(), "coffee".into()]; // the slow part
    ///         noreply()
    ///     }
    ///     fn handle_call(&mut self, r: ReplyTo<usize>, _ctx: &mut Ctx<'_, Self>) -> Handled<Self> {
    ///         r.reply(self.0.len())
    ///     }
    /// }
    ///
    /// let rt = rotp_runtime::Runtime::new().unwrap();
    /// let catalog = start::<Catalog>(&rt, (), StartOptions::new()).unwrap();
    /// assert_eq!(catalog.call(|r| r).unwrap(), 2); // loaded before the first call
    /// ```
    #[allow(clippy::self_named_constructors)] // OTP's `{ok, ...}`
    pub fn ok(state: G) -> InitResult<G> {
        Init::result(InitKind::Ok(state))
    }

    /// Do not start; the start function returns `Ignored` and the process
    /// exits `normal` (`ignore`, rule 50). Under a supervisor the child
    /// keeps its spec without a process (rule 112).
    ///
    /// ```
    /// # use rotp_gen_server::{gen_server, start, Ctx, GenServer, Init, InitResult, StartError, StartOptions};
    /// /// Runs only where a feature is enabled.
    /// struct Metrics;
    ///
    /// #[gen_server]
    /// impl GenServer for Metrics {
    ///     fn init(enabled: bool, _ctx: &mut Ctx<'_, Self>) -> InitResult<Self> {
    ///         if !enabled {
    ///             return Init::ignore();
    ///         }
    ///         Init::ok(Metrics)
    ///     }
    /// }
    ///
    /// let rt = rotp_runtime::Runtime::new().unwrap();
    /// assert_eq!(start::<Metrics>(&rt, false, StartOptions::new()).unwrap_err(), StartError::Ignored);
    /// ```
    pub fn ignore() -> InitResult<G> {
        Init::result(InitKind::Ignore)
    }

    /// Do not start; the process exits with `reason` (a linked caller that
    /// does not trap exits dies of it) and the start function returns
    /// `Init(reason)` (`{stop, Reason}`, rule 52).
    ///
    /// ```
    /// # use rotp_gen_server::{gen_server, start, Ctx, GenServer, Init, InitResult, StartError, StartOptions};
    /// # use rotp_runtime::ExitReason;
    /// struct Listener(u16);
    ///
    /// #[gen_server]
    /// impl GenServer for Listener {
    ///     fn init(port: u16, _ctx: &mut Ctx<'_, Self>) -> InitResult<Self> {
    ///         if port == 0 {
    ///             return Init::stop("no port configured");
    ///         }
    ///         Init::ok(Listener(port))
    ///     }
    /// }
    ///
    /// let rt = rotp_runtime::Runtime::new().unwrap();
    /// let failed = start::<Listener>(&rt, 0, StartOptions::new());
    /// assert_eq!(failed.unwrap_err(), StartError::Init(ExitReason::custom("no port configured")));
    /// ```
    pub fn stop(reason: impl Into<ExitReason>) -> InitResult<G> {
        Init::result(InitKind::Stop(reason.into()))
    }

    /// Do not start; the start function returns `Init(reason)` but the
    /// process exits `normal`, harming no linked caller (`{error, Reason}`,
    /// rule 51). `?` on an error in `init` does the same.
    ///
    /// ```
    /// # use rotp_gen_server::{gen_server, start, Ctx, GenServer, Init, InitResult, StartError, StartOptions};
    /// struct Limits { max: usize }
    ///
    /// #[gen_server]
    /// impl GenServer for Limits {
    ///     fn init(max: String, _ctx: &mut Ctx<'_, Self>) -> InitResult<Self> {
    ///         if max.is_empty() {
    ///             return Init::error("no limit given");
    ///         }
    ///         let max = max.parse()?; // a parse error fails the start the same way
    ///         Init::ok(Limits { max })
    ///     }
    /// }
    ///
    /// let rt = rotp_runtime::Runtime::new().unwrap();
    /// assert!(start::<Limits>(&rt, "10".into(), StartOptions::new()).is_ok());
    /// assert!(matches!(start::<Limits>(&rt, "".into(), StartOptions::new()), Err(StartError::Init(_))));
    /// assert!(matches!(start::<Limits>(&rt, "ten".into(), StartOptions::new()), Err(StartError::Init(_))));
    /// ```
    pub fn error(reason: impl Into<ExitReason>) -> InitResult<G> {
        Init::result(InitKind::Error(reason.into()))
    }

    /// The action the server takes once started.
    pub fn action(&self) -> &Action<G::Continue, G::Info> {
        &self.action
    }

    /// Whether this starts the server (`Init::ok`).
    pub fn is_ok(&self) -> bool {
        matches!(self.kind, InitKind::Ok(_))
    }
}

impl<G: GenServer> fmt::Debug for Init<G> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = match &self.kind {
            InitKind::Ok(_) => "ok",
            InitKind::Ignore => "ignore",
            InitKind::Stop(_) => "stop",
            InitKind::Error(_) => "error",
        };
        f.debug_struct("Init").field("kind", &kind).finish()
    }
}
