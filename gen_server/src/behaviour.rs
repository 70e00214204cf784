//! The `GenServer` trait.

use rotp_runtime::{Down, ExitReason, Pid};

use crate::context::Ctx;
use crate::results::{noreply, Handled, InitResult};

/// What reaches `handle_info`: the server's own `Info` messages and the
/// runtime's events (rule 71).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Info<I> {
    /// A message sent with [`ServerRef::send_info`](crate::ServerRef::send_info),
    /// a timer set with [`Ctx::send_after`](crate::Ctx::send_after) or
    /// [`Ctx::send_interval`](crate::Ctx::send_interval),
    /// or the message of an expired [`EventTimeout`](crate::EventTimeout)
    /// (rule 81).
    Msg(I),
    /// A trapped exit signal from a linked process other than the parent
    /// (rule 87): `{'EXIT', from, reason}`.
    Exit {
        /// The process that exited or sent the signal.
        from: Pid,
        /// Its reason.
        reason: ExitReason,
    },
    /// A monitored process exited.
    Down(Down),
    /// The inactivity timeout expired (rule 78).
    Timeout,
}

/// A generic server: one process that owns a state and serves requests one
/// at a time (rule 70).
///
/// The implementing type *is* the state; callbacks take `&mut self`. Only
/// `init` is required; the other callbacks have OTP's or Elixir's defaults.
/// Each request carries its own typed reply port ([`ReplyTo`](crate::ReplyTo)), so every
/// request has its own reply type, checked by the compiler, and a request
/// the server does not handle is a non-exhaustive `match`: a compile error.
///
/// The associated types name the messages a server takes. With the
/// [`gen_server`](macro@crate::gen_server) attribute a server declares only
/// the ones it uses: the attribute reads them from the callbacks'
/// signatures, and makes the unused ones [`Infallible`](std::convert::Infallible)
/// (no value of it exists, so nobody can send one).
///
/// ```
/// use rotp_gen_server::{gen_server, noreply, start, Ctx, GenServer, Handled, Init, InitResult, ReplyTo, StartOptions};
///
/// struct Counter(u64);
///
/// enum Call {
///     Get(ReplyTo<u64>),
/// }
///
/// #[gen_server]
/// impl GenServer for Counter {
///     fn init(start: u64, _ctx: &mut Ctx<'_, Self>) -> InitResult<Self> {
///         Init::ok(Counter(start))
///     }
///     fn handle_call(&mut self, Call::Get(r): Call, _ctx: &mut Ctx<'_, Self>) -> Handled<Self> {
///         r.reply(self.0)
///     }
///     fn handle_cast(&mut self, n: u64, _ctx: &mut Ctx<'_, Self>) -> Handled<Self> {
///         self.0 += n;
///         noreply()
///     }
/// }
///
/// let rt = rotp_runtime::Runtime::new().unwrap();
/// let counter = start::<Counter>(&rt, 1, StartOptions::new()).unwrap();
/// counter.cast(41);
/// assert_eq!(counter.call(Call::Get).unwrap(), 42);
/// ```
pub trait GenServer: Sized + Send + 'static {
    /// What `init` is given.
    type Args: Send + 'static;
    /// Requests answered by `handle_call`: usually an enum whose variants
    /// each end with the [`ReplyTo`](crate::ReplyTo) of their reply type.
    type Call: Send + 'static;
    /// Fire-and-forget requests for `handle_cast`.
    type Cast: Send + 'static;
    /// Plain messages for `handle_info` (besides the runtime's events).
    type Info: Send + 'static;
    /// What a callback hands to `handle_continue`.
    type Continue: Send + 'static;

    /// Builds the state. Runs inside the new process; the start function
    /// returns once it has (rule 46).
    fn init(args: Self::Args, ctx: &mut Ctx<'_, Self>) -> InitResult<Self>;

    /// Handles a call: answer through the request's [`ReplyTo`](crate::ReplyTo) — in the
    /// tail with [`ReplyTo::reply`](crate::ReplyTo::reply), or later with [`ReplyTo::send`](crate::ReplyTo::send) after
    /// returning [`noreply`](crate::noreply). The default panics, crashing
    /// the server, as Elixir's injected default raises (rule 97).
    fn handle_call(&mut self, request: Self::Call, ctx: &mut Ctx<'_, Self>) -> Handled<Self> {
        let _ = (request, ctx);
        panic!(
            "no handle_call clause was provided for {}",
            std::any::type_name::<Self>()
        )
    }

    /// Handles a cast. The default panics, like Elixir's (rule 97).
    fn handle_cast(&mut self, request: Self::Cast, ctx: &mut Ctx<'_, Self>) -> Handled<Self> {
        let _ = (request, ctx);
        panic!(
            "no handle_cast clause was provided for {}",
            std::any::type_name::<Self>()
        )
    }

    /// Handles everything else. The default logs and drops the message and
    /// carries on (rules 95-96).
    fn handle_info(&mut self, info: Info<Self::Info>, ctx: &mut Ctx<'_, Self>) -> Handled<Self> {
        let what = match &info {
            Info::Msg(_) => "a message",
            Info::Exit { .. } => "an EXIT",
            Info::Down(_) => "a DOWN",
            Info::Timeout => "a timeout",
        };
        crate::report::unexpected_message::<Self>(ctx.pid(), what);
        noreply()
    }

    /// Runs right after a callback that returned `then_continue(c)`, before
    /// any other message (rule 83). The default panics: returning a
    /// continue without handling it is a bug (rule 84).
    fn handle_continue(&mut self, cont: Self::Continue, ctx: &mut Ctx<'_, Self>) -> Handled<Self> {
        let _ = (cont, ctx);
        panic!(
            "{} returned a continue but has no handle_continue",
            std::any::type_name::<Self>()
        )
    }

    /// Runs before the server exits on a stop result, a panic in a
    /// callback, `stop`, or its parent's exit while trapping exits — not on
    /// a kill (rules 85-86). Its return is ignored; a panic here replaces
    /// the exit reason (rule 90). Afterwards an abnormal reason is reported
    /// with the state as [`format_status`](Self::format_status) shows it
    /// (rule 92; see [`rotp_runtime::Report`] for where reports go).
    fn terminate(&mut self, reason: &ExitReason, ctx: &mut Ctx<'_, Self>) {
        let _ = (reason, ctx);
    }

    /// How the state appears in crash reports and `sys` status (rule 98).
    /// The default shows the type name.
    fn format_status(&self) -> String {
        std::any::type_name::<Self>().to_owned()
    }
}
