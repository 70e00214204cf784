//! Errors of the supervisor operations, one type per operation.

use std::time::Duration;

pub(crate) use rotp_gen_server::CallError;
use rotp_runtime::{ExitReason, Pid};
use thiserror::Error;

use crate::child_spec::{ChildId, ChildStartError};

/// Invalid supervisor flags (rule 108, `{supervisor_data, ...}`). The other
/// OTP flag errors cannot happen: the types rule them out.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum FlagsError {
    /// The intensity period must be positive (`invalid_period`).
    #[error("invalid intensity period {0:?}: must be positive")]
    InvalidPeriod(Duration),
}

/// An invalid child spec (rules 106, 149, 155).
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum ChildSpecError {
    /// Two initial children share an id (`duplicate_child_name`).
    #[error("duplicate child id `{0}`")]
    DuplicateId(ChildId),
    /// A permanent child cannot be significant (`bad_combination`).
    #[error("child `{0}` is significant but permanent")]
    SignificantPermanent(ChildId),
    /// Significant children need auto-shutdown (`bad_combination`).
    #[error("child `{0}` is significant but the supervisor's auto_shutdown is never")]
    SignificantWithoutAutoShutdown(ChildId),
    /// A DynamicSupervisor takes no significant children
    /// (`invalid_significant`, rule 155).
    #[error("child `{0}` is significant; a DynamicSupervisor takes none")]
    InvalidSignificant(ChildId),
}

/// Starting a supervisor failed (rules 106, 108, 113, 114).
///
/// Named apart from [`rotp_gen_server::StartError`] (a GenServer's start
/// error) so that both fit in one scope, as in `rotp::prelude`.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum SupervisorStartError {
    /// Invalid flags (`{supervisor_data, _}`); nothing was started.
    #[error("invalid supervisor flags: {0}")]
    InvalidFlags(#[from] FlagsError),
    /// An invalid child spec (`{start_spec, _}`); nothing was started.
    #[error("invalid child spec: {0}")]
    InvalidSpec(#[from] ChildSpecError),
    /// The name is registered to another process (`already_started`).
    #[error("already started as {0}")]
    AlreadyStarted(Pid),
    /// A child failed to start; the children started before it were
    /// stopped in reverse order and the supervisor exited with
    /// `{shutdown, failed_to_start_child}` (rule 113).
    #[error("failed to start child `{id}`: {reason}")]
    FailedToStartChild {
        /// The child that failed.
        id: ChildId,
        /// Why it failed.
        reason: ChildStartError,
    },
    /// The supervisor process exited during its start (killed, say).
    #[error("the supervisor exited while starting: {0}")]
    Exited(ExitReason),
    /// A [`SupervisorModule`](crate::SupervisorModule)'s `init` returned
    /// [`SupervisorInit::Ignore`](crate::SupervisorInit::Ignore): the
    /// supervisor exited `normal` without starting anything (rule 114,
    /// OTP's `ignore`). As a child, it is a child whose start was ignored.
    #[error("init ignored the start")]
    Ignored,
    /// A [`SupervisorModule`](crate::SupervisorModule)'s `init` panicked;
    /// the supervisor exited with this reason (rule 114).
    #[error("init failed: {0}")]
    Init(ExitReason),
}

/// `start_child` failed (rules 139, 155, 157-158).
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum StartChildError {
    /// A running child has this id, or the start function reported its
    /// name taken by this process (`already_started`).
    #[error("already started as {0}")]
    AlreadyStarted(Pid),
    /// A child with this id exists but is not running (`already_present`;
    /// [`Supervisor`](crate::Supervisor) only).
    #[error("a child with this id is already present")]
    AlreadyPresent,
    /// The spec is invalid; the supervisor was not contacted for a
    /// [`DynamicSupervisor`](crate::DynamicSupervisor).
    #[error("invalid child spec: {0}")]
    Invalid(#[from] ChildSpecError),
    /// The start function failed; nothing was stored.
    #[error("the child failed to start: {0}")]
    Failed(ExitReason),
    /// The DynamicSupervisor already has `max_children` children (rule 158).
    #[error("max_children reached")]
    MaxChildren,
    /// The supervisor could not be reached.
    #[error(transparent)]
    Call(#[from] CallError),
}

/// Starting a task to await under a
/// [`TaskSupervisor`](crate::TaskSupervisor) failed (`run`, `run_nolink`,
/// `run_nolink_info`; rule 197). Elixir's `async` raises; rotp returns the
/// reason, and nothing was started.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum TaskRunError {
    /// The supervisor already has `max_children` children (rule 158).
    #[error("reached the maximum number of tasks for this task supervisor (max_children)")]
    MaxChildren,
    /// The supervisor could not start the task process.
    #[error("the task could not be started: {0}")]
    Failed(ExitReason),
    /// The supervisor could not be reached.
    #[error(transparent)]
    Call(#[from] CallError),
}

/// `terminate_child` failed (rules 140, 160).
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum TerminateChildError {
    /// No such child (`not_found`).
    #[error("no such child")]
    NotFound,
    /// The supervisor could not be reached.
    #[error(transparent)]
    Call(#[from] CallError),
}

/// `restart_child` failed (rule 141).
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum RestartChildError {
    /// The child is running.
    #[error("the child is running")]
    Running,
    /// The supervisor is retrying a failed restart of it (rule 132).
    #[error("the child is restarting")]
    Restarting,
    /// No such child (`not_found`); temporary children are forgotten once
    /// they exit.
    #[error("no such child")]
    NotFound,
    /// The start function failed; the child stays not running.
    #[error("the child failed to start: {0}")]
    Start(ChildStartError),
    /// The supervisor could not be reached.
    #[error(transparent)]
    Call(#[from] CallError),
}

/// `delete_child` failed (rule 142).
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum DeleteChildError {
    /// The child is running.
    #[error("the child is running")]
    Running,
    /// The supervisor is retrying a failed restart of it.
    #[error("the child is restarting")]
    Restarting,
    /// No such child.
    #[error("no such child")]
    NotFound,
    /// The supervisor could not be reached.
    #[error(transparent)]
    Call(#[from] CallError),
}

/// `get_childspec` failed (rule 145).
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum GetChildSpecError {
    /// No such child.
    #[error("no such child")]
    NotFound,
    /// The supervisor could not be reached.
    #[error(transparent)]
    Call(#[from] CallError),
}

/// [`Supervisor::await_child`](crate::Supervisor::await_child) got no
/// running child.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum AwaitChildError {
    /// No child has this id, or it was removed while waited for (a
    /// temporary child that exited, a deleted spec).
    #[error("no such child")]
    NotFound,
    /// The child was not running within the timeout (on the runtime clock).
    #[error("the child was not running in time")]
    Timeout,
    /// The supervisor is gone (`NoProc`), exited while the caller waited
    /// (`Exited`), or could not be asked.
    #[error(transparent)]
    Call(CallError),
}

/// `stop` failed (rule 148, like `GenServer.stop`, rule 93).
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum StopError {
    /// The supervisor does not exist.
    #[error("no such supervisor (noproc)")]
    NoProc,
    /// It did not exit within the timeout; it keeps shutting down.
    #[error("the supervisor did not exit in time")]
    Timeout,
    /// It exited with another reason than the one asked for.
    #[error("the supervisor exited with {0}")]
    Exited(ExitReason),
    /// The calling process was told to exit while it waited (it is in the
    /// tree being stopped); it should return from its callback.
    #[error("the calling process is exiting")]
    CallerExiting,
}
