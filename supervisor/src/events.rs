//! Telemetry events of supervisors (see
//! `rotp_runtime::telemetry::event`) and what a supervisor tells
//! introspection tools about itself (its `system` hook).
//!
//! Every site first checks that some handler is attached at all (one
//! relaxed load), so a supervisor nobody watches builds nothing.

use rotp_runtime::telemetry::{self, event, Value};
use rotp_runtime::{ExitReason, Pid};

use crate::child_spec::{ChildId, ChildStartError, ChildType, Restart, Shutdown};
use crate::flags::{Intensity, Strategy};

fn id_entry(id: Option<&ChildId>) -> Option<(&'static str, Value<'_>)> {
    id.map(|id| ("id", Value::Str(id.as_str())))
}

/// Metadata with the supervisor first, the child's id if it has one, then
/// `rest`.
fn meta<'a>(
    sup: Pid,
    id: Option<&'a ChildId>,
    rest: &[(&'static str, Value<'a>)],
) -> Vec<(&'static str, Value<'a>)> {
    let mut m = Vec::with_capacity(2 + rest.len());
    m.push(("supervisor", Value::Pid(sup)));
    m.extend(id_entry(id));
    m.extend_from_slice(rest);
    m
}

/// A child was started (initially, by `start_child` or `restart_child`).
pub(crate) fn child_started(sup: Pid, id: Option<&ChildId>, pid: Pid) {
    if telemetry::any_attached() {
        let m = meta(sup, id, &[("pid", Value::Pid(pid))]);
        telemetry::execute(event::SUPERVISOR_CHILD_STARTED, &[], &m);
    }
}

/// A child was restarted automatically; `restarts` counts this child's
/// automatic restarts so far.
pub(crate) fn child_restarted(
    sup: Pid,
    id: Option<&ChildId>,
    pid: Pid,
    old: Option<Pid>,
    restarts: u64,
) {
    if telemetry::any_attached() {
        let mut m = meta(sup, id, &[("pid", Value::Pid(pid))]);
        if let Some(old) = old {
            m.push(("old_pid", Value::Pid(old)));
        }
        telemetry::execute(
            event::SUPERVISOR_CHILD_RESTARTED,
            &[("restarts", Value::U64(restarts))],
            &m,
        );
    }
}

/// A child exited on its own (`shutdown: false`) or was stopped by the
/// supervisor.
pub(crate) fn child_terminated(
    sup: Pid,
    id: Option<&ChildId>,
    pid: Pid,
    reason: &ExitReason,
    shutdown: bool,
) {
    if telemetry::any_attached() {
        let m = meta(
            sup,
            id,
            &[
                ("pid", Value::Pid(pid)),
                ("reason", Value::Reason(reason)),
                ("shutdown", Value::Bool(shutdown)),
            ],
        );
        telemetry::execute(event::SUPERVISOR_CHILD_TERMINATED, &[], &m);
    }
}

/// What a child stopped by its supervisor exited with, as far as the
/// supervisor knows: the unexpected reason, or the one its shutdown
/// produces.
pub(crate) fn stopped_reason(result: &Result<(), ExitReason>, shutdown: Shutdown) -> ExitReason {
    match result {
        Err(reason) => reason.clone(),
        Ok(()) if shutdown == Shutdown::BrutalKill => ExitReason::Killed,
        Ok(()) => ExitReason::Shutdown,
    }
}

/// A child's start function failed.
pub(crate) fn start_failed(sup: Pid, id: Option<&ChildId>, reason: &ChildStartError) {
    if telemetry::any_attached() {
        let text = reason.to_string();
        let m = meta(sup, id, &[("reason", Value::Str(&text))]);
        telemetry::execute(event::SUPERVISOR_CHILD_START_FAILED, &[], &m);
    }
}

/// The supervisor reached its restart intensity.
pub(crate) fn max_intensity(sup: Pid, id: Option<&ChildId>, intensity: Intensity) {
    if telemetry::any_attached() {
        let m = meta(sup, id, &[]);
        telemetry::execute(
            event::SUPERVISOR_MAX_INTENSITY,
            &[
                (
                    "max_restarts",
                    Value::U64(u64::from(intensity.max_restarts)),
                ),
                ("max_seconds", Value::F64(intensity.period.as_secs_f64())),
            ],
            &m,
        );
    }
}

/// The strategy's OTP name.
pub(crate) fn strategy_name(s: Strategy) -> &'static str {
    match s {
        Strategy::OneForOne => "one_for_one",
        Strategy::OneForAll => "one_for_all",
        Strategy::RestForOne => "rest_for_one",
    }
}

/// The restart type's OTP name.
pub(crate) fn restart_name(r: Restart) -> &'static str {
    match r {
        Restart::Permanent => "permanent",
        Restart::Transient => "transient",
        Restart::Temporary => "temporary",
    }
}

/// `max_restarts in max_seconds`, for status details.
pub(crate) fn intensity_text(i: Intensity) -> String {
    format!("{} in {:?}", i.max_restarts, i.period)
}

/// Whether a child is a supervisor.
pub(crate) fn is_supervisor(t: ChildType) -> bool {
    t == ChildType::Supervisor
}
