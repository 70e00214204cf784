//! The `GenServer` trait.

use rotp_runtime::{Down, ExitReason, Pid};

use crate::caller::Caller;
use crate::context::Ctx;
use crate::results::{Init, NoReply, Reply};

/// The result type of [`GenServer::init`].
pub type InitResult<G> = Init<G, <G as GenServer>::Continue, <G as GenServer>::Info>;
/// The result type of [`GenServer::handle_call`].
pub type CallResult<G> =
    Reply<<G as GenServer>::Reply, <G as GenServer>::Continue, <G as GenServer>::Info>;
/// The result type of [`GenServer::handle_cast`], `handle_info` and
/// `handle_continue`.
pub type CastResult<G> = NoReply<<G as GenServer>::Continue, <G as GenServer>::Info>;

/// What reaches `handle_info`: the server's own `Info` messages and the
/// runtime's events (rule 71).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Info<I> {
    /// A message sent with [`ServerRef::send_info`](crate::ServerRef::send_info)
    /// or a timer set with [`Ctx::send_after`](crate::Ctx::send_after),
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
///
/// ```
/// use rotp_gen_server::{start, CallResult, CastResult, Caller, Ctx, GenServer, Init, InitResult, NoReply, Reply, StartOptions};
///
/// struct Counter(u64);
///
/// impl GenServer for Counter {
///     type Args = u64;
///     type Call = ();
///     type Reply = u64;
///     type Cast = u64;
///     type Info = ();
///     type Continue = ();
///
///     fn init(start: u64, _ctx: &mut Ctx<'_, Self>) -> InitResult<Self> {
///         Init::ok(Counter(start))
///     }
///     fn handle_call(&mut self, _: (), _caller: &mut Caller<u64>, _ctx: &mut Ctx<'_, Self>) -> CallResult<Self> {
///         Reply::reply(self.0)
///     }
///     fn handle_cast(&mut self, n: u64, _ctx: &mut Ctx<'_, Self>) -> CastResult<Self> {
///         self.0 += n;
///         NoReply::noreply()
///     }
/// }
///
/// let rt = rotp_runtime::Runtime::new().unwrap();
/// let counter = start::<Counter>(&rt, 1, StartOptions::new()).unwrap();
/// counter.cast(41);
/// assert_eq!(counter.call(()).unwrap(), 42);
/// ```
pub trait GenServer: Sized + Send + 'static {
    /// What `init` is given.
    type Args: Send + 'static;
    /// Requests answered by `handle_call`.
    type Call: Send + 'static;
    /// Replies to calls.
    type Reply: Send + 'static;
    /// Fire-and-forget requests for `handle_cast`.
    type Cast: Send + 'static;
    /// Plain messages for `handle_info`.
    type Info: Send + 'static;
    /// What a callback hands to `handle_continue`; `()` if unused.
    type Continue: Send + 'static;

    /// Builds the state. Runs inside the new process; the start function
    /// returns once it has (rule 46).
    fn init(args: Self::Args, ctx: &mut Ctx<'_, Self>) -> InitResult<Self>;

    /// Handles a call. The default panics, crashing the server, as Elixir's
    /// injected default raises (rule 97).
    fn handle_call(
        &mut self,
        request: Self::Call,
        caller: &mut Caller<Self::Reply>,
        ctx: &mut Ctx<'_, Self>,
    ) -> CallResult<Self> {
        let _ = (request, caller, ctx);
        panic!(
            "no handle_call clause was provided for {}",
            std::any::type_name::<Self>()
        )
    }

    /// Handles a cast. The default panics, like Elixir's (rule 97).
    fn handle_cast(&mut self, request: Self::Cast, ctx: &mut Ctx<'_, Self>) -> CastResult<Self> {
        let _ = (request, ctx);
        panic!(
            "no handle_cast clause was provided for {}",
            std::any::type_name::<Self>()
        )
    }

    /// Handles everything else. The default logs and drops the message and
    /// carries on (rules 95-96).
    fn handle_info(&mut self, info: Info<Self::Info>, ctx: &mut Ctx<'_, Self>) -> CastResult<Self> {
        let what = match &info {
            Info::Msg(_) => "a message",
            Info::Exit { .. } => "an EXIT",
            Info::Down(_) => "a DOWN",
            Info::Timeout => "a timeout",
        };
        crate::report::unexpected_message::<Self>(ctx.pid(), what);
        NoReply::noreply()
    }

    /// Runs right after a callback that returned `then_continue(c)`, before
    /// any other message (rule 83). The default panics: returning a
    /// continue without handling it is a bug (rule 84).
    fn handle_continue(
        &mut self,
        cont: Self::Continue,
        ctx: &mut Ctx<'_, Self>,
    ) -> CastResult<Self> {
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
