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
    ///
    /// ```
    /// use std::time::Duration;
    /// use rotp_gen_server::{gen_server, start, Ctx, GenServer, Handled, Init, InitResult, ReplyTo, StartOptions, Then};
    ///
    /// /// Hands out ticket numbers.
    /// struct Tickets(u64);
    ///
    /// struct Next(ReplyTo<u64>);
    ///
    /// #[gen_server]
    /// impl GenServer for Tickets {
    ///     fn init(first: u64, _ctx: &mut Ctx<'_, Self>) -> InitResult<Self> {
    ///         Init::ok(Tickets(first))
    ///     }
    ///     fn handle_call(&mut self, Next(r): Next, _ctx: &mut Ctx<'_, Self>) -> Handled<Self> {
    ///         self.0 += 1;
    ///         // `{:reply, n, state, :hibernate}` — the reply, then a modifier.
    ///         r.reply(self.0 - 1).hibernate()
    ///     }
    /// }
    ///
    /// let rt = rotp_runtime::Runtime::new().unwrap();
    /// let tickets = start::<Tickets>(&rt, 100, StartOptions::new()).unwrap();
    /// assert_eq!(tickets.call(Next), Ok(100));
    /// assert_eq!(tickets.call_timeout(Next, Some(Duration::from_secs(1))), Ok(101));
    /// ```
    pub fn reply<G: GenServer>(self, value: R) -> Handled<G> {
        self.sender.send(value);
        noreply()
    }

    /// Stops the server with `reason` and replies `value` once `terminate`
    /// has run (`{stop, Reason, Reply, State}`, rule 74).
    ///
    /// ```
    /// use std::time::Duration;
    /// use rotp_gen_server::{gen_server, start, Ctx, GenServer, Handled, Init, InitResult, ReplyTo, StartOptions};
    /// use rotp_runtime::{testing::wait_until, ExitReason};
    ///
    /// /// A shopping cart; checking out answers the items and ends the cart.
    /// struct Cart(Vec<String>);
    ///
    /// enum Call {
    ///     Add(String, ReplyTo<usize>),
    ///     Checkout(ReplyTo<Vec<String>>),
    /// }
    ///
    /// #[gen_server]
    /// impl GenServer for Cart {
    ///     fn init((): (), _ctx: &mut Ctx<'_, Self>) -> InitResult<Self> {
    ///         Init::ok(Cart(Vec::new()))
    ///     }
    ///     fn handle_call(&mut self, call: Call, _ctx: &mut Ctx<'_, Self>) -> Handled<Self> {
    ///         match call {
    ///             Call::Add(item, r) => {
    ///                 self.0.push(item);
    ///                 r.reply(self.0.len())
    ///             }
    ///             Call::Checkout(r) => r.stop(ExitReason::Normal, std::mem::take(&mut self.0)),
    ///         }
    ///     }
    /// }
    ///
    /// let rt = rotp_runtime::Runtime::new().unwrap();
    /// let cart = start::<Cart>(&rt, (), StartOptions::new()).unwrap();
    /// cart.call(|r| Call::Add("tea".into(), r)).unwrap();
    /// assert_eq!(cart.call(Call::Checkout).unwrap(), ["tea"]);
    /// // The cart is done: it exits `normal` right after replying.
    /// assert!(wait_until(Duration::from_secs(5), || cart.exit_reason().is_some()));
    /// assert_eq!(cart.exit_reason(), Some(ExitReason::Normal));
    /// ```
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
    ///
    /// A server answers later by keeping the `ReplyTo` — in its state, or
    /// moved to a thread doing the work — and returning
    /// [`noreply`](crate::noreply); it goes on serving other messages
    /// meanwhile.
    ///
    /// ```
    /// use std::time::Duration;
    /// use rotp_gen_server::{gen_server, noreply, start, Ctx, GenServer, Handled, Init, InitResult, ReplyTo, StartOptions};
    ///
    /// /// Hands each waiting caller the next job that is pushed.
    /// struct Queue { waiting: Vec<ReplyTo<String>> }
    ///
    /// /// Wait for the next job.
    /// struct Take(ReplyTo<String>);
    ///
    /// #[gen_server]
    /// impl GenServer for Queue {
    ///     fn init((): (), _ctx: &mut Ctx<'_, Self>) -> InitResult<Self> {
    ///         Init::ok(Queue { waiting: Vec::new() })
    ///     }
    ///     fn handle_call(&mut self, Take(r): Take, _ctx: &mut Ctx<'_, Self>) -> Handled<Self> {
    ///         self.waiting.push(r); // no job yet: answer later
    ///         noreply()
    ///     }
    ///     fn handle_cast(&mut self, job: String, _ctx: &mut Ctx<'_, Self>) -> Handled<Self> {
    ///         if !self.waiting.is_empty() {
    ///             self.waiting.remove(0).send(job); // the deferred reply
    ///         }
    ///         noreply()
    ///     }
    /// }
    ///
    /// let rt = rotp_runtime::Runtime::new().unwrap();
    /// let queue = start::<Queue>(&rt, (), StartOptions::new()).unwrap();
    /// let pending = queue.send_request(Take).unwrap(); // a call that does not wait yet
    /// queue.cast("resize image 7".into());
    /// assert_eq!(pending.receive_response(Some(Duration::from_secs(5))).unwrap(), "resize image 7");
    /// ```
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
