//! `sys`-style introspection and control, served by every server without
//! disturbing its inactivity timeout (rule 80).

use std::fmt;
use std::time::Duration;

use rotp_runtime::{catch_panic, ExitReason, Pid, ReplySender};

use crate::behaviour::GenServer;
use crate::server::Core;

/// Counters a server keeps about itself (`sys:statistics`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Statistics {
    /// Runtime-clock time at which `init` returned.
    pub started_at: Duration,
    /// Calls handled.
    pub calls: u64,
    /// Casts handled.
    pub casts: u64,
    /// Infos handled (including EXIT, DOWN and timeouts).
    pub infos: u64,
}

/// A server's status (`sys:get_status`).
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Status {
    /// The server's pid.
    pub pid: Pid,
    /// Its name, if any.
    pub name: Option<String>,
    /// Its parent.
    pub parent: Pid,
    /// Whether it is suspended.
    pub suspended: bool,
    /// Its state as `format_status` shows it.
    pub state: String,
    /// Its counters.
    pub statistics: Statistics,
}

type StateFn<G> = Box<dyn FnOnce(&mut Option<G>) + Send>;

/// A system request.
pub(crate) enum SystemOp<G: GenServer> {
    /// Run a closure on the state (get_state, replace_state).
    State(StateFn<G>),
    Statistics(ReplySender<Statistics>),
    Status(ReplySender<Status>),
    Suspend(ReplySender<()>),
    Resume(ReplySender<()>),
    Trace(bool, ReplySender<()>),
}

impl<G: GenServer> fmt::Debug for SystemOp<G> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SystemOp")
    }
}

/// The state as `format_status` shows it, or a marker if that panics
/// (rule 98); empty without a state.
pub(crate) fn shown_state<G: GenServer>(state: &Option<G>) -> String {
    state
        .as_ref()
        .map(|s| {
            catch_panic(|| s.format_status()).unwrap_or_else(|_| "format_status crashed".to_owned())
        })
        .unwrap_or_default()
}

/// Serves one request.
pub(crate) fn serve<G: GenServer>(
    op: SystemOp<G>,
    state: &mut Option<G>,
    core: &mut Core,
    pid: Pid,
) {
    match op {
        SystemOp::State(f) => f(state),
        SystemOp::Statistics(reply) => {
            reply.send(core.stats.clone());
        }
        SystemOp::Status(reply) => {
            let shown = shown_state(state);
            reply.send(Status {
                pid,
                name: core.name.as_ref().map(ToString::to_string),
                parent: core.parent,
                suspended: core.suspended,
                state: shown,
                statistics: core.stats.clone(),
            });
        }
        SystemOp::Suspend(reply) => {
            core.suspended = true;
            reply.send(());
        }
        SystemOp::Resume(reply) => {
            core.suspended = false;
            reply.send(());
        }
        SystemOp::Trace(on, reply) => {
            core.trace = on;
            reply.send(());
        }
    }
}

/// Builds the closure for `get_state`: reads the state, replies with `f`'s
/// result.
pub(crate) fn get_state<G: GenServer, R: Send + 'static>(
    f: impl FnOnce(&G) -> R + Send + 'static,
    reply: ReplySender<Result<R, ExitReason>>,
) -> SystemOp<G> {
    SystemOp::State(Box::new(move |state: &mut Option<G>| {
        let result = match state.as_ref() {
            Some(s) => catch_panic(|| f(s)),
            None => Err(ExitReason::NoProc),
        };
        reply.send(result);
    }))
}

/// Builds the closure for `replace_state`: computes a new state from the
/// old one; if `f` panics the state is unchanged and the caller gets the
/// panic (rule 99).
pub(crate) fn replace_state<G: GenServer>(
    f: impl FnOnce(&G) -> G + Send + 'static,
    reply: ReplySender<Result<(), ExitReason>>,
) -> SystemOp<G> {
    SystemOp::State(Box::new(move |state: &mut Option<G>| {
        let result = match state.as_ref() {
            Some(s) => catch_panic(|| f(s)).map(|new| *state = Some(new)),
            None => Err(ExitReason::NoProc),
        };
        reply.send(result);
    }))
}
