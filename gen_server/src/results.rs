//! What callbacks return: OTP's result tuples as types.
//!
//! | OTP                               | rotp                                         |
//! |-----------------------------------|----------------------------------------------|
//! | `{ok, State}`                     | `Init::ok(state)`                            |
//! | `{ok, State, Timeout}`            | `Init::ok(state).timeout(d)`                 |
//! | `ignore` / `{stop, R}`            | `Init::ignore()` / `Init::stop(r)`           |
//! | `{error, R}` (OTP 26+)            | `Init::error(r)`                             |
//! | `{reply, R, S}`                   | `Reply::reply(r)`                            |
//! | `{reply, R, S, {continue, C}}`    | `Reply::reply(r).then_continue(c)`           |
//! | `{noreply, S}`                    | `Reply::noreply()` / `NoReply::noreply()`    |
//! | `{noreply, S, hibernate}`         | `NoReply::noreply().hibernate()`             |
//! | `{noreply, S, {timeout, T, Msg}}` | `NoReply::noreply().event_timeout(EventTimeout::after(t, msg))` |
//! | `{noreply, S, {hibernate, T, Msg}}` | `….event_timeout(EventTimeout::after(t, msg).hibernate())` |
//! | `{stop, R, Reply, S}`             | `Reply::stop(r, reply)`                      |
//! | `{stop, R, S}`                    | `Reply::stop_noreply(r)` / `NoReply::stop(r)`|
//!
//! The state is `self`, changed in place, so "forgot to return the new
//! state" cannot happen, and an ill-formed return (`bad_return_value`, rule
//! 76) does not compile (adaptation R3).

use std::time::Duration;

use rotp_runtime::ExitReason;

/// What the server does after a callback: OTP's optional last element.
///
/// `C` is the server's `Continue` type, `I` its `Info` type (for event
/// timeouts).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Next<C, I> {
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

/// An event timeout (rule 81, OTP 28): like the inactivity timeout of
/// [`Next::Timeout`] — any call, cast, info, `EXIT` or `DOWN` arriving
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
/// use rotp_gen_server::{CastResult, Ctx, EventTimeout, GenServer, Info, Init, InitResult, NoReply};
///
/// /// Flushes its buffer once no write has arrived for 100 ms.
/// struct Writer(Vec<u8>);
///
/// enum Tick { Flush }
///
/// impl GenServer for Writer {
///     type Args = ();
///     type Call = ();
///     type Reply = ();
///     type Cast = Vec<u8>;
///     type Info = Tick;
///     type Continue = ();
///
///     fn init(_: (), _ctx: &mut Ctx<'_, Self>) -> InitResult<Self> {
///         Init::ok(Writer(Vec::new()))
///     }
///     fn handle_cast(&mut self, bytes: Vec<u8>, _ctx: &mut Ctx<'_, Self>) -> CastResult<Self> {
///         self.0.extend(bytes);
///         NoReply::noreply().event_timeout(EventTimeout::after(Duration::from_millis(100), Tick::Flush))
///     }
///     fn handle_info(&mut self, info: Info<Tick>, _ctx: &mut Ctx<'_, Self>) -> CastResult<Self> {
///         if let Info::Msg(Tick::Flush) = info {
///             self.0.clear(); // written out
///         }
///         NoReply::noreply()
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

macro_rules! next_modifiers {
    ($c:ty, $i:ty) => {
        /// Also arm the inactivity timeout (rules 78-79). A century or
        /// more waits forever, like OTP's `infinity`.
        pub fn timeout(mut self, after: Duration) -> Self {
            self.next = Next::Timeout(after);
            self
        }

        /// Also hibernate (rule 82).
        pub fn hibernate(mut self) -> Self {
            self.next = Next::Hibernate;
            self
        }

        /// Also run `handle_continue(c)` before anything else (rule 83).
        pub fn then_continue(mut self, c: $c) -> Self {
            self.next = Next::Continue(c);
            self
        }

        /// Also arm an event timeout: `handle_info(Info::Msg(msg))` when it
        /// expires before any message arrives (rule 81).
        pub fn event_timeout(mut self, timeout: EventTimeout<$i>) -> Self {
            self.next = Next::EventTimeout(timeout);
            self
        }

        /// What happens next.
        pub fn next(&self) -> &Next<$c, $i> {
            &self.next
        }
    };
}

pub(crate) use next_modifiers;

/// The result of `init`.
#[derive(Debug)]
pub struct Init<S, C, I> {
    pub(crate) kind: InitKind<S>,
    pub(crate) next: Next<C, I>,
}

#[derive(Debug)]
pub(crate) enum InitKind<S> {
    Ok(S),
    Ignore,
    Stop(ExitReason),
    Error(ExitReason),
}

impl<S, C, I> Init<S, C, I> {
    /// Start with `state` (rule 49).
    pub fn ok(state: S) -> Self {
        Init {
            kind: InitKind::Ok(state),
            next: Next::Wait,
        }
    }

    /// Do not start; the start function returns `Ignored` and the process
    /// exits `normal` (rule 50).
    pub fn ignore() -> Self {
        Init {
            kind: InitKind::Ignore,
            next: Next::Wait,
        }
    }

    /// Do not start; the process exits with `reason` (linked callers see
    /// it) and the start function returns `Init(reason)` (rule 52).
    pub fn stop(reason: ExitReason) -> Self {
        Init {
            kind: InitKind::Stop(reason),
            next: Next::Wait,
        }
    }

    /// Do not start; the start function returns `Init(reason)` but the
    /// process exits `normal`, harming no linked caller (rule 51).
    pub fn error(reason: ExitReason) -> Self {
        Init {
            kind: InitKind::Error(reason),
            next: Next::Wait,
        }
    }

    next_modifiers!(C, I);
}

/// The result of `handle_call`.
#[derive(Debug)]
pub struct Reply<R, C, I> {
    pub(crate) kind: ReplyKind<R>,
    pub(crate) next: Next<C, I>,
}

#[derive(Debug)]
pub(crate) enum ReplyKind<R> {
    Reply(R),
    NoReply,
    Stop(ExitReason, Option<R>),
}

impl<R, C, I> Reply<R, C, I> {
    /// Reply with `value` (rule 63).
    #[allow(clippy::self_named_constructors)] // OTP's `{reply, ...}`
    pub fn reply(value: R) -> Self {
        Reply {
            kind: ReplyKind::Reply(value),
            next: Next::Wait,
        }
    }

    /// Reply later: the caller keeps waiting until someone answers through
    /// the deferred reply handle, or its timeout (rule 73).
    pub fn noreply() -> Self {
        Reply {
            kind: ReplyKind::NoReply,
            next: Next::Wait,
        }
    }

    /// Stop with `reason`: `terminate` runs, then the caller gets `value`,
    /// then the server exits (rule 74).
    pub fn stop(reason: ExitReason, value: R) -> Self {
        Reply {
            kind: ReplyKind::Stop(reason, Some(value)),
            next: Next::Wait,
        }
    }

    /// Stop with `reason` without replying: the caller's call fails with
    /// the reason (rule 62).
    pub fn stop_noreply(reason: ExitReason) -> Self {
        Reply {
            kind: ReplyKind::Stop(reason, None),
            next: Next::Wait,
        }
    }

    next_modifiers!(C, I);
}

/// The result of `handle_cast`, `handle_info` and `handle_continue`.
#[derive(Debug)]
pub struct NoReply<C, I> {
    pub(crate) stop: Option<ExitReason>,
    pub(crate) next: Next<C, I>,
}

impl<C, I> NoReply<C, I> {
    /// Carry on (rule 75).
    #[allow(clippy::self_named_constructors)] // OTP's `{noreply, ...}`
    pub fn noreply() -> Self {
        NoReply {
            stop: None,
            next: Next::Wait,
        }
    }

    /// Stop with `reason`: `terminate` runs, then the server exits.
    pub fn stop(reason: ExitReason) -> Self {
        NoReply {
            stop: Some(reason),
            next: Next::Wait,
        }
    }

    next_modifiers!(C, I);
}
