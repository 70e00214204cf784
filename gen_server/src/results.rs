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
//! | `{stop, R, Reply, S}`             | `Reply::stop(r, reply)`                      |
//! | `{stop, R, S}`                    | `Reply::stop_noreply(r)` / `NoReply::stop(r)`|
//!
//! The state is `self`, changed in place, so "forgot to return the new
//! state" cannot happen, and an ill-formed return (`bad_return_value`, rule
//! 76) does not compile (adaptation R3).

use std::time::Duration;

use rotp_runtime::ExitReason;

/// What the server does after a callback: OTP's optional last element.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Next<C> {
    /// Wait for the next message (no timeout).
    Wait,
    /// Wait, but call `handle_info(Info::Timeout)` if nothing arrives
    /// within the duration (rules 78-79).
    Timeout(Duration),
    /// Release spare memory, then wait (rule 82).
    Hibernate,
    /// Call `handle_continue` before any other message (rule 83).
    Continue(C),
}

macro_rules! next_modifiers {
    () => {
        /// Also arm the inactivity timeout (rules 78-79).
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
        pub fn then_continue(mut self, c: C) -> Self {
            self.next = Next::Continue(c);
            self
        }

        /// What happens next.
        pub fn next(&self) -> &Next<C> {
            &self.next
        }
    };
}

/// The result of `init`.
#[derive(Debug)]
pub struct Init<S, C> {
    pub(crate) kind: InitKind<S>,
    pub(crate) next: Next<C>,
}

#[derive(Debug)]
pub(crate) enum InitKind<S> {
    Ok(S),
    Ignore,
    Stop(ExitReason),
    Error(ExitReason),
}

impl<S, C> Init<S, C> {
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

    next_modifiers!();
}

/// The result of `handle_call`.
#[derive(Debug)]
pub struct Reply<R, C> {
    pub(crate) kind: ReplyKind<R>,
    pub(crate) next: Next<C>,
}

#[derive(Debug)]
pub(crate) enum ReplyKind<R> {
    Reply(R),
    NoReply,
    Stop(ExitReason, Option<R>),
}

impl<R, C> Reply<R, C> {
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

    next_modifiers!();
}

/// The result of `handle_cast`, `handle_info` and `handle_continue`.
#[derive(Debug)]
pub struct NoReply<C> {
    pub(crate) stop: Option<ExitReason>,
    pub(crate) next: Next<C>,
}

impl<C> NoReply<C> {
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

    next_modifiers!();
}
