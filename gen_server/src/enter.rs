//! `enter_loop`: a process that does its own start-up, then becomes a
//! server (rule 101).
//!
//! In OTP any process started with `proc_lib` may call
//! `gen_server:enter_loop/3,4,5` and become a server: the callback module
//! is chosen at that moment, and the process's mailbox, which holds any
//! term, is simply read by the server loop from then on. A rotp process
//! has one message type and one behaviour, both fixed when it is spawned,
//! so an arbitrary raw process cannot turn into a server. What stays
//! possible — and what enter_loop is for — is a server whose start-up is
//! ordinary process code instead of `init` behind the start handshake:
//!
//! ```text
//!  spawn_enter::<G>(handle, spawn options, body) ──► ServerRef<G> at once
//!        │                                            (requests queue up)
//!        ▼  inside the new process
//!  body(&mut Ctx<G>): register names, link, trap exits, tell a starter
//!        │            it is ready (or not), blocking set-up ...
//!        ▼
//!  enter_loop(state, EnterOptions) ──► the server loop, as after init
//! ```
//!
//! The process is spawned with the server's mailbox type from the start,
//! so nothing is lost or mistyped between the body and the loop.

use std::time::Duration;

use rotp_runtime::{ExitReason, Handle, MonitorRef, SpawnOptions};

use crate::behaviour::GenServer;
use crate::client::ServerRef;
use crate::context::Ctx;
use crate::name::ServerName;
use crate::results::{Action, Then};
use crate::server::ServerProcess;

/// Options of [`enter_loop`] (OTP's `enter_loop` options and server name).
///
/// ```
/// use std::time::Duration;
/// use rotp_gen_server::EnterOptions;
/// let opts = EnterOptions::new()
///     .name("conn")
///     .hibernate_after(Duration::from_secs(30));
/// assert_eq!(opts.get_name().unwrap().to_string(), "conn");
/// ```
#[derive(Debug, Clone, Default)]
pub struct EnterOptions {
    pub(crate) name: Option<ServerName>,
    pub(crate) hibernate_after: Option<Duration>,
}

impl EnterOptions {
    /// No name, no auto-hibernation.
    pub fn new() -> Self {
        EnterOptions::default()
    }

    /// The name the process must already hold; `enter_loop` does not
    /// register it. If the process is not registered under `name`, it
    /// exits with [`EnterError`](crate::EnterError)'s reason instead of
    /// serving (rule 101). The server releases a via name when it exits,
    /// as a started server does.
    pub fn name(mut self, name: impl Into<ServerName>) -> Self {
        self.name = Some(name.into());
        self
    }

    /// Hibernates after `idle` without messages (rule 82).
    pub fn hibernate_after(mut self, idle: Duration) -> Self {
        self.hibernate_after = Some(idle);
        self
    }

    /// The configured name.
    pub fn get_name(&self) -> Option<&ServerName> {
        self.name.as_ref()
    }
}

/// What the body of [`spawn_enter`] returns: enter the server loop with a
/// state ([`enter_loop`]), or exit without serving ([`EnterLoop::stop`]).
///
/// Like a callback result it takes one next action, with the [`Then`]
/// modifiers: OTP's `enter_loop/5` timeout, `hibernate`, `{continue, C}` or
/// an event timeout.
pub struct EnterLoop<G: GenServer> {
    pub(crate) kind: EnterKind<G>,
    pub(crate) options: EnterOptions,
    pub(crate) action: Action<G::Continue, G::Info>,
}

impl<G: GenServer> std::fmt::Debug for EnterLoop<G> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let kind = match &self.kind {
            EnterKind::Enter(_) => "enter",
            EnterKind::Stop(_) => "stop",
        };
        f.debug_struct("EnterLoop")
            .field("kind", &kind)
            .field("options", &self.options)
            .finish_non_exhaustive()
    }
}

impl<G: GenServer> Then<G> for EnterLoop<G> {
    fn with_action(mut self, action: Action<G::Continue, G::Info>) -> Self {
        self.action = action;
        self
    }
}

pub(crate) enum EnterKind<G> {
    Enter(G),
    Stop(ExitReason),
}

impl<G: GenServer> EnterLoop<G> {
    /// Do not enter the loop: the process exits with `reason`. No
    /// `terminate` runs, since there is no server state yet.
    pub fn stop(reason: impl Into<ExitReason>) -> Self {
        EnterLoop {
            kind: EnterKind::Stop(reason.into()),
            options: EnterOptions::new(),
            action: Action::Wait,
        }
    }
}

/// Enters the server loop with `state` (`gen_server:enter_loop`, rule
/// 101); return it from the body of [`spawn_enter`].
///
/// From then on the process is a server like one started with
/// [`start`](crate::start): the queued requests are served in order, after
/// the next action (timeout, hibernate, continue, event timeout) set on
/// the result. With [`EnterOptions::name`] the process must already hold
/// the name, else it exits `process_not_registered` (or
/// `process_not_registered_via`).
pub fn enter_loop<G: GenServer>(state: G, options: EnterOptions) -> EnterLoop<G> {
    EnterLoop {
        kind: EnterKind::Enter(state),
        options,
        action: Action::Wait,
    }
}

/// Spawns a process that runs `body` and then becomes a server: the
/// rotp form of `proc_lib:spawn_link` followed by `gen_server:enter_loop`
/// (rule 101).
///
/// Returns at once, without waiting for `body`: requests sent through the
/// returned handle queue up and are served once the loop is entered (or
/// fail with the exit reason if the process exits instead). `opts` are the
/// runtime's spawn options (link, monitor, trap_exit, mailbox limit,
/// reductions); the monitor reference is returned when one was asked for.
/// Inside a process, the caller is the server's parent (rule 57) — a
/// trapping server terminates when a linked parent exits — outside any
/// process the parent is [`Pid::ROOT`](rotp_runtime::Pid::ROOT).
///
/// `body` runs in the new process with the server's context: it may
/// register names (`ctx.handle().register(name, ctx.pid())`), link,
/// monitor, trap exits, set timers for the server, report readiness to
/// whoever waits for it, and block (wrapped in
/// [`blocking`](rotp_runtime::blocking)) before the first request is
/// served. A panic in `body` ends the process with the panic as reason.
///
/// ```
/// use rotp_gen_server::{enter_loop, gen_server, spawn_enter, Ctx, EnterOptions, GenServer, Handled, Init, InitResult, ReplyTo};
/// use rotp_runtime::{Runtime, SpawnOptions};
///
/// struct Conn { greeting: String }
///
/// struct Greet(ReplyTo<String>);
///
/// #[gen_server]
/// impl GenServer for Conn {
///     // Not used: the process enters the loop with a state of its own.
///     fn init((): (), _ctx: &mut Ctx<'_, Self>) -> InitResult<Self> {
///         Init::stop("use spawn_enter")
///     }
///     fn handle_call(&mut self, Greet(r): Greet, _ctx: &mut Ctx<'_, Self>) -> Handled<Self> {
///         r.reply(self.greeting.clone())
///     }
/// }
///
/// let rt = Runtime::new().unwrap();
/// let (conn, _) = spawn_enter::<Conn, _>(&rt, &SpawnOptions::new(), |ctx| {
///     // The process registers itself, as OTP's enter_loop expects.
///     ctx.handle().register("conn", ctx.pid()).unwrap();
///     let greeting = format!("hello from {}", ctx.pid());
///     enter_loop(Conn { greeting }, EnterOptions::new().name("conn"))
/// });
/// assert!(conn.call(Greet).unwrap().starts_with("hello from"));
/// ```
pub fn spawn_enter<G, F>(
    handle: &Handle,
    opts: &SpawnOptions,
    body: F,
) -> (ServerRef<G>, Option<MonitorRef>)
where
    G: GenServer,
    F: FnOnce(&mut Ctx<'_, G>) -> EnterLoop<G> + Send + 'static,
{
    let process = ServerProcess::<G>::entering(Box::new(body), opts.get_mailbox_limit());
    let (addr, mref) = handle.spawn_opts(process, opts);
    (ServerRef::from_addr(addr), mref)
}

/// The body of [`spawn_enter`], boxed.
pub(crate) type EnterFn<G> = Box<dyn FnOnce(&mut Ctx<'_, G>) -> EnterLoop<G> + Send>;
