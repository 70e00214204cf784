//! The reply port a call carries: typed per request.

use std::fmt;

use rotp_runtime::{ExitReason, Pid, ReplySender};

use crate::behaviour::GenServer;
use crate::results::{noreply, Handled, Stop};

/// Where the reply to one call goes: OTP's `From`, typed by the reply.
///
/// Every request a server answers carries its own `ReplyTo`, so each
/// request has its own reply type and the compiler checks it: a server's
/// `Call` type is usually an enum whose variants end with a `ReplyTo<R>`,
/// and the client passes the variant's constructor to
/// [`ServerRef::call`](crate::ServerRef::call), which returns that variant's
/// `R`.
///
/// ```
/// use rotp_gen_server::{gen_server, noreply, start, Ctx, GenServer, Handled, Init, InitResult, ReplyTo, StartOptions};
///
/// struct Stack(Vec<i64>);
///
/// enum Call {
///     Pop(ReplyTo<Option<i64>>),
///     Size(ReplyTo<usize>),
///     Peek(usize, ReplyTo<Option<i64>>),
/// }
///
/// #[gen_server]
/// impl GenServer for Stack {
///     fn init(items: Vec<i64>, _ctx: &mut Ctx<'_, Self>) -> InitResult<Self> {
///         Init::ok(Stack(items))
///     }
///     fn handle_call(&mut self, call: Call, _ctx: &mut Ctx<'_, Self>) -> Handled<Self> {
///         match call {
///             Call::Pop(r) => r.reply(self.0.pop()),
///             Call::Size(r) => r.reply(self.0.len()),
///             Call::Peek(i, r) => r.reply(self.0.get(i).copied()),
///         }
///     }
///     fn handle_cast(&mut self, x: i64, _ctx: &mut Ctx<'_, Self>) -> Handled<Self> {
///         self.0.push(x);
///         noreply()
///     }
/// }
///
/// let rt = rotp_runtime::Runtime::new().unwrap();
/// let stack = start::<Stack>(&rt, vec![1], StartOptions::new()).unwrap();
/// stack.cast(2);
/// let size: usize = stack.call(Call::Size).unwrap();
/// let top: Option<i64> = stack.call(Call::Pop).unwrap();
/// assert_eq!((size, top), (2, Some(2)));
/// assert_eq!(stack.call(|r| Call::Peek(0, r)).unwrap(), Some(1));
/// ```
///
/// To answer later — after other messages, or from another thread — keep
/// the `ReplyTo` (in the state, or moved to a worker), return
/// [`noreply`](crate::noreply), and [`send`](Self::send) the value when it
/// is ready (rule 73). Dropping it unanswered leaves the caller to time out.
pub struct ReplyTo<R> {
    sender: ReplySender<R>,
}

impl<R: Send + 'static> ReplyTo<R> {
    pub(crate) fn new(sender: ReplySender<R>) -> Self {
        ReplyTo { sender }
    }

    /// Replies with `value` and carries on: the tail of a `handle_call`
    /// (`{reply, Reply, State}`, rule 63). Add a timeout, hibernate or
    /// continue with the [`Then`](crate::Then) modifiers.
    pub fn reply<G: GenServer>(self, value: R) -> Handled<G> {
        self.sender.send(value);
        noreply()
    }

    /// Stops the server with `reason` and replies `value` once `terminate`
    /// has run (`{stop, Reason, Reply, State}`, rule 74).
    pub fn stop<G: GenServer>(self, reason: impl Into<ExitReason>, value: R) -> Handled<G> {
        let sender = self.sender;
        Err(Stop::with_reply(
            reason.into(),
            Box::new(move || {
                sender.send(value);
            }),
        ))
    }

    /// Sends the reply now, from anywhere (`GenServer.reply/2`): a deferred
    /// reply. Replying always "succeeds" (rule 67); returns whether the
    /// caller was still waiting.
    pub fn send(self, value: R) -> bool {
        self.sender.send(value)
    }
}

impl<R> ReplyTo<R> {
    /// The calling process, or `None` for a call from a plain thread.
    pub fn pid(&self) -> Option<Pid> {
        self.sender.caller()
    }

    /// Whether the caller has given up: it timed out, or dropped a pending
    /// request. A handler with slow work may skip it then; the reply would
    /// be dropped anyway (rule 66).
    pub fn is_abandoned(&self) -> bool {
        self.sender.is_abandoned()
    }
}

impl<R> fmt::Debug for ReplyTo<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ReplyTo")
            .field("caller", &self.sender.caller())
            .finish()
    }
}

/// Sends a deferred reply: `GenServer.reply(from, value)`; the same as
/// [`ReplyTo::send`].
pub fn reply<R: Send + 'static>(to: ReplyTo<R>, value: R) -> bool {
    to.send(value)
}
