//! `Agent`: a process that holds a state and runs the functions it is sent
//! on it, one at a time (Elixir's `Agent`, rules 179-183).
//!
//! An agent is a [`GenServer`] ([`AgentServer`]) whose calls carry boxed
//! closures over `&mut Option<S>`; each closure holds the typed reply port
//! of its call and answers through it. The public behaviour is documented
//! on [`Agent`].

use std::fmt;
use std::time::Duration;

use rotp_runtime::{ExitReason, Handle, Pid};

use crate::behaviour::GenServer;
use crate::client::{ServerRef, DEFAULT_CALL_TIMEOUT};
use crate::context::Ctx;
use crate::error::{CallError, StartError, StopError};
use crate::name::ServerName;
use crate::reply_to::ReplyTo;
use crate::results::{noreply, Handled, Init, InitResult};
use crate::start::{self, StartOptions};

/// A function sent to the agent by a call: it may read or replace the state,
/// and answers its caller through the reply port it holds.
type CallFn<S> = Box<dyn FnOnce(&mut Option<S>) + Send>;
/// A function sent by a cast.
type CastFn<S> = Box<dyn FnOnce(&mut Option<S>) + Send>;
/// The init function.
type InitFn<S> = Box<dyn FnOnce() -> S + Send>;

/// The gen_server behind an [`Agent`]. The state is an `Option` only so
/// that `update` can move it into the user's function and back; it is
/// `Some` whenever no function is running.
struct AgentServer<S> {
    state: Option<S>,
}

impl<S: Send + 'static> GenServer for AgentServer<S> {
    type Args = InitFn<S>;
    type Call = CallFn<S>;
    type Cast = CastFn<S>;
    type Info = std::convert::Infallible;
    type Continue = std::convert::Infallible;

    fn init(init: InitFn<S>, _ctx: &mut Ctx<'_, Self>) -> InitResult<Self> {
        // Rule 179: the function runs inside the new process; a panic here
        // fails the start with the panic as the reason (rule 53).
        Init::ok(AgentServer {
            state: Some(init()),
        })
    }

    fn handle_call(&mut self, f: CallFn<S>, _ctx: &mut Ctx<'_, Self>) -> Handled<Self> {
        f(&mut self.state);
        noreply()
    }

    fn handle_cast(&mut self, f: CastFn<S>, _ctx: &mut Ctx<'_, Self>) -> Handled<Self> {
        f(&mut self.state);
        noreply()
    }

    fn format_status(&self) -> String {
        format!("Agent<{}>", std::any::type_name::<S>())
    }
}

/// Applies `f` to the state in place of the state.
fn replace<S>(state: &mut Option<S>, f: impl FnOnce(S) -> S) {
    let old = state
        .take()
        .expect("the agent's state is present between functions");
    *state = Some(f(old));
}

/// A handle on an agent holding a state of type `S` (Elixir's `Agent`,
/// rules 179-183).
///
/// An agent is a gen_server whose calls and casts carry closures: the
/// functions run inside the agent's process, one at a time, in the order
/// they were sent, so a read-modify-write such as
/// [`get_and_update`](Agent::get_and_update) is atomic. `get`, `update` and
/// `get_and_update` wait 5 seconds by default (rule 180); `cast` returns at
/// once (rule 181).
///
/// Failures follow the gen_server (rule 182): a function that panics
/// crashes the agent with [`ExitReason::Panic`] and its caller gets that
/// reason as [`CallError::Exited`]; a timeout is [`CallError::Timeout`] and
/// the agent carries on. Cloning a handle is cheap; every clone reaches the
/// same agent.
///
/// ```
/// use rotp_gen_server::{Agent, StartOptions};
///
/// let rt = rotp_runtime::Runtime::new().unwrap();
/// let agent = Agent::start(&rt, Vec::<u32>::new, StartOptions::new()).unwrap();
/// agent.update(|mut v| { v.push(1); v }).unwrap();
/// agent.cast(|mut v| { v.push(2); v });
/// assert_eq!(agent.get(|v| v.clone()).unwrap(), vec![1, 2]);
/// assert_eq!(agent.get_and_update(|v| (v.len(), Vec::new())).unwrap(), 2);
/// assert_eq!(agent.get(Vec::len).unwrap(), 0);
/// ```
pub struct Agent<S: Send + 'static> {
    server: ServerRef<AgentServer<S>>,
}

impl<S: Send + 'static> Clone for Agent<S> {
    fn clone(&self) -> Self {
        Agent {
            server: self.server.clone(),
        }
    }
}

impl<S: Send + 'static> fmt::Debug for Agent<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Agent({:?})", self.server)
    }
}

impl<S: Send + 'static> Agent<S> {
    fn wrap(server: ServerRef<AgentServer<S>>) -> Self {
        Agent { server }
    }

    /// Starts an agent linked to nobody. `init` runs inside the new
    /// process and its result is the state; `start` returns once it has
    /// (rule 179). A panicking `init` fails the start with
    /// [`StartError::Init`] carrying the panic; a taken name fails it with
    /// [`StartError::AlreadyStarted`].
    pub fn start(
        handle: &Handle,
        init: impl FnOnce() -> S + Send + 'static,
        opts: StartOptions,
    ) -> Result<Self, StartError> {
        start::start::<AgentServer<S>>(handle, Box::new(init), opts).map(Agent::wrap)
    }

    /// Starts an agent linked to the calling process (rule 179). With a
    /// caller that does not trap exits, a panicking `init` kills the caller
    /// too (rule 52); from a plain thread there is nobody to link with.
    ///
    /// ```
    /// use std::collections::HashMap;
    /// use rotp_gen_server::{Agent, StartOptions};
    ///
    /// let rt = rotp_runtime::Runtime::new().unwrap();
    /// // Elixir: Agent.start_link(fn -> %{} end, name: :prices)
    /// Agent::start_link(&rt, HashMap::<String, u32>::new, StartOptions::new().name("prices")).unwrap();
    ///
    /// let prices = Agent::<HashMap<String, u32>>::named(&rt, "prices");
    /// prices.update(|mut p| { p.insert("tea".into(), 3); p }).unwrap();
    /// assert_eq!(prices.get(|p| p.get("tea").copied()).unwrap(), Some(3));
    /// ```
    pub fn start_link(
        handle: &Handle,
        init: impl FnOnce() -> S + Send + 'static,
        opts: StartOptions,
    ) -> Result<Self, StartError> {
        start::start_link::<AgentServer<S>>(handle, Box::new(init), opts).map(Agent::wrap)
    }

    /// A handle that finds the agent registered as `name` on every use, so
    /// it follows restarts.
    ///
    /// The name must belong to an agent with state `S`; calls to a process
    /// of another kind under that name fail with
    /// [`CallError::WrongType`].
    pub fn named(handle: &Handle, name: impl Into<ServerName>) -> Self {
        Agent::wrap(ServerRef::named(handle, name))
    }

    /// The agent's pid (for a handle by name, whoever holds the name now;
    /// `None` when nobody does).
    pub fn pid(&self) -> Option<Pid> {
        self.server.pid()
    }

    /// Whether the agent is alive.
    pub fn is_alive(&self) -> bool {
        self.server.is_alive()
    }

    /// The agent's exit reason, once an agent started through this handle
    /// has exited.
    pub fn exit_reason(&self) -> Option<ExitReason> {
        self.server.exit_reason()
    }

    /// Returns `f(&state)`, computed inside the agent, waiting up to 5
    /// seconds (rule 180). Compute what you need in `f` rather than
    /// copying the whole state out.
    ///
    /// ```
    /// use rotp_gen_server::{Agent, StartOptions};
    ///
    /// let rt = rotp_runtime::Runtime::new().unwrap();
    /// let scores = Agent::start(&rt, || vec![7, 3, 9], StartOptions::new()).unwrap();
    /// assert_eq!(scores.get(|s| s.iter().max().copied()).unwrap(), Some(9));
    /// assert_eq!(scores.get(Vec::len).unwrap(), 3);
    /// ```
    pub fn get<R: Send + 'static>(
        &self,
        f: impl FnOnce(&S) -> R + Send + 'static,
    ) -> Result<R, CallError> {
        self.get_timeout(f, Some(DEFAULT_CALL_TIMEOUT))
    }

    /// [`get`](Self::get) with a timeout on the runtime clock; `None` waits
    /// forever.
    pub fn get_timeout<R: Send + 'static>(
        &self,
        f: impl FnOnce(&S) -> R + Send + 'static,
        timeout: Option<Duration>,
    ) -> Result<R, CallError> {
        self.call(
            move |state| {
                f(state
                    .as_ref()
                    .expect("the agent's state is present between functions"))
            },
            timeout,
        )
    }

    /// Replaces the state with `f(state)`, waiting up to 5 seconds for the
    /// agent to confirm (rule 180).
    ///
    /// ```
    /// use rotp_gen_server::{Agent, StartOptions};
    ///
    /// let rt = rotp_runtime::Runtime::new().unwrap();
    /// let visits = Agent::start(&rt, || 0u64, StartOptions::new()).unwrap();
    /// visits.update(|n| n + 1).unwrap();
    /// visits.update(|n| n + 1).unwrap();
    /// assert_eq!(visits.get(|n| *n).unwrap(), 2);
    /// ```
    pub fn update(&self, f: impl FnOnce(S) -> S + Send + 'static) -> Result<(), CallError> {
        self.update_timeout(f, Some(DEFAULT_CALL_TIMEOUT))
    }

    /// [`update`](Self::update) with a timeout; `None` waits forever.
    pub fn update_timeout(
        &self,
        f: impl FnOnce(S) -> S + Send + 'static,
        timeout: Option<Duration>,
    ) -> Result<(), CallError> {
        self.call(move |state| replace(state, f), timeout)
    }

    /// Runs `f(state)`, which returns `(reply, new_state)`: the agent keeps
    /// `new_state` and the caller gets `reply` (rule 180). A function that
    /// does not return a pair does not compile, so the `bad_return_value`
    /// case of rule 180 cannot happen (R3).
    pub fn get_and_update<R: Send + 'static>(
        &self,
        f: impl FnOnce(S) -> (R, S) + Send + 'static,
    ) -> Result<R, CallError> {
        self.get_and_update_timeout(f, Some(DEFAULT_CALL_TIMEOUT))
    }

    /// [`get_and_update`](Self::get_and_update) with a timeout; `None`
    /// waits forever.
    pub fn get_and_update_timeout<R: Send + 'static>(
        &self,
        f: impl FnOnce(S) -> (R, S) + Send + 'static,
        timeout: Option<Duration>,
    ) -> Result<R, CallError> {
        self.call(
            move |state| {
                let mut reply = None;
                replace(state, |old| {
                    let (r, new) = f(old);
                    reply = Some(r);
                    new
                });
                reply.expect("get_and_update's function returned a reply")
            },
            timeout,
        )
    }

    /// Replaces the state with `f(state)` without waiting: returns at once,
    /// even if the agent does not exist (rule 181).
    pub fn cast(&self, f: impl FnOnce(S) -> S + Send + 'static) {
        self.server.cast(Box::new(move |state| replace(state, f)));
    }

    /// Stops the agent with `reason` and waits up to `timeout` (`None`:
    /// forever, Elixir's default) for it to exit (rule 183).
    pub fn stop(&self, reason: ExitReason, timeout: Option<Duration>) -> Result<(), StopError> {
        self.server.stop(reason, timeout)
    }

    fn call<R: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Option<S>) -> R + Send + 'static,
        timeout: Option<Duration>,
    ) -> Result<R, CallError> {
        self.server.call_timeout(
            |reply: ReplyTo<R>| -> CallFn<S> {
                Box::new(move |state| {
                    reply.send(f(state));
                })
            },
            timeout,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn agent_handles_are_send_sync_clone() {
        fn check<T: Send + Sync + Clone>() {}
        check::<Agent<Vec<String>>>();
    }

    #[test]
    fn replace_moves_the_state_through_the_function() {
        let mut state = Some(vec![1]);
        replace(&mut state, |mut v| {
            v.push(2);
            v
        });
        assert_eq!(state, Some(vec![1, 2]));
    }
}
