//! Supervisor reports through `log` (adaptation R14): `child_terminated`,
//! `start_error`, `shutdown_error`, `reached_max_restart_intensity` and
//! auto-shutdown. Only abnormal reasons are errors (rule 3); a child ending
//! with a normal-class reason is reported at info level.

use std::fmt;

use rotp_gen_server::ServerName;
use rotp_runtime::{ExitReason, Pid};

use crate::child_spec::{ChildId, ChildStartError};

/// How a supervisor names itself in its reports: its registered name and
/// pid.
#[derive(Debug, Clone)]
pub(crate) struct SupName {
    pub(crate) pid: Pid,
    pub(crate) name: Option<ServerName>,
}

impl fmt::Display for SupName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.name {
            Some(name) => write!(f, "{name} ({})", self.pid),
            None => write!(f, "{}", self.pid),
        }
    }
}

/// How a child is named in reports: its id (none for dynamic children).
pub(crate) struct ChildName<'a>(pub(crate) Option<&'a ChildId>);

impl fmt::Display for ChildName<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Some(id) => write!(f, "child `{id}`"),
            None => f.write_str("dynamic child"),
        }
    }
}

/// A child exited on its own.
pub(crate) fn child_terminated(sup: &SupName, child: ChildName<'_>, pid: Pid, reason: &ExitReason) {
    if reason.is_normal_class() {
        log::info!("supervisor {sup}: child_terminated: {child} {pid} exited: {reason}");
    } else {
        log::error!("supervisor {sup}: child_terminated: {child} {pid} exited: {reason}");
    }
}

/// A child's start function failed.
pub(crate) fn start_error(sup: &SupName, child: ChildName<'_>, reason: &ChildStartError) {
    log::error!("supervisor {sup}: start_error: {child} failed to start: {reason}");
}

/// A child died with an unexpected reason while being stopped (rule 120).
pub(crate) fn shutdown_error(sup: &SupName, child: ChildName<'_>, pid: Pid, reason: &ExitReason) {
    log::error!("supervisor {sup}: shutdown_error: {child} {pid} exited: {reason}");
}

/// The supervisor gives up (rule 135).
pub(crate) fn max_intensity(sup: &SupName, child: ChildName<'_>) {
    log::error!("supervisor {sup}: shutdown: reached_max_restart_intensity restarting {child}");
}

/// A significant child's exit shuts the supervisor down (rules 150-151).
pub(crate) fn auto_shutdown(sup: &SupName, child: ChildName<'_>) {
    log::info!("supervisor {sup}: auto_shutdown after significant {child} exited");
}
