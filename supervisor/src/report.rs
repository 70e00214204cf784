//! Supervisor reports (adaptation R14): `child_terminated`, `start_error`,
//! `shutdown_error`, `reached_max_restart_intensity` and `auto_shutdown`,
//! written through the runtime's [`Report`]: structured `log` records when
//! a logger is set, else one line each on stderr. Only abnormal reasons are
//! errors (rule 3); a child ending with a normal-class reason, and an
//! auto-shutdown, are reported at info level (not on stderr).
//!
//! Key-values: `kind`; `pid` and `name`, the supervisor's; `child_id` (a
//! static child's id), `child_pid`; `reason`; `restarts`, the automatic
//! restarts in the intensity window (with `max_restarts` and `period_ms`
//! when the supervisor gives up).

use std::fmt;

use rotp_gen_server::ServerName;
use rotp_runtime::{ExitReason, Pid, Report, ReportKind};

use crate::child_spec::{ChildId, ChildStartError};
use crate::flags::Intensity;

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
#[derive(Clone, Copy)]
pub(crate) struct ChildName<'a>(pub(crate) Option<&'a ChildId>);

impl fmt::Display for ChildName<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Some(id) => write!(f, "child `{id}`"),
            None => f.write_str("dynamic child"),
        }
    }
}

/// A supervisor's report about one of its children, before it is sent:
/// the supervisor (`pid`, `name`), the child (`child_id` for a static
/// child, `child_pid`), the reason.
///
/// `None` when a report at `level` would be written nowhere
/// ([`Report::enabled`]): nothing is formatted then, which matters to a
/// supervisor restarting a child many times a second with reports off or
/// filtered out.
fn about(
    level: log::Level,
    kind: ReportKind,
    sup: &SupName,
    child: ChildName<'_>,
    text: fmt::Arguments<'_>,
) -> Option<Report> {
    if !Report::enabled(level) {
        return None;
    }
    let report = Report::new(
        level,
        kind,
        format_args!("supervisor {sup}: {kind}: {text}"),
    )
    .pid(sup.pid)
    .name(sup.name.as_ref());
    Some(match child.0 {
        Some(id) => report.field("child_id", id),
        None => report,
    })
}

/// A child exited on its own; `restarts`: the automatic restarts already
/// in the intensity window.
pub(crate) fn child_terminated(
    sup: &SupName,
    child: ChildName<'_>,
    pid: Pid,
    reason: &ExitReason,
    restarts: usize,
) {
    let level = if reason.is_normal_class() {
        log::Level::Info
    } else {
        log::Level::Error
    };
    let Some(report) = about(
        level,
        ReportKind::ChildTerminated,
        sup,
        child,
        format_args!("{child} {pid} exited: {reason}"),
    ) else {
        return;
    };
    report
        .field("child_pid", pid)
        .reason(reason)
        .count("restarts", restarts as u64)
        .emit();
}

/// A child's start function failed.
pub(crate) fn start_error(sup: &SupName, child: ChildName<'_>, reason: &ChildStartError) {
    let Some(report) = about(
        log::Level::Error,
        ReportKind::StartError,
        sup,
        child,
        format_args!("{child} failed to start: {reason}"),
    ) else {
        return;
    };
    report.field("reason", reason).emit();
}

/// A child died with an unexpected reason while being stopped (rule 120).
pub(crate) fn shutdown_error(sup: &SupName, child: ChildName<'_>, pid: Pid, reason: &ExitReason) {
    let Some(report) = about(
        log::Level::Error,
        ReportKind::ShutdownError,
        sup,
        child,
        format_args!("{child} {pid} exited: {reason}"),
    ) else {
        return;
    };
    report.field("child_pid", pid).reason(reason).emit();
}

/// The supervisor gives up (rule 135): `restarts` restarts within the
/// window are more than `intensity` allows.
pub(crate) fn max_intensity(
    sup: &SupName,
    child: ChildName<'_>,
    restarts: usize,
    intensity: Intensity,
) {
    let Some(report) = about(
        log::Level::Error,
        ReportKind::MaxRestartIntensity,
        sup,
        child,
        format_args!(
            "shutting down after {restarts} restarts within {:?} (at most {} allowed), \
             restarting {child}",
            intensity.period, intensity.max_restarts
        ),
    ) else {
        return;
    };
    report
        .reason(&ExitReason::Shutdown)
        .count("restarts", restarts as u64)
        .count("max_restarts", u64::from(intensity.max_restarts))
        .count("period_ms", intensity.period.as_millis() as u64)
        .emit();
}

/// A significant child's exit shuts the supervisor down (rules 150-151).
pub(crate) fn auto_shutdown(sup: &SupName, child: ChildName<'_>) {
    if let Some(report) = about(
        log::Level::Info,
        ReportKind::AutoShutdown,
        sup,
        child,
        format_args!("significant {child} exited"),
    ) {
        report.emit();
    }
}
