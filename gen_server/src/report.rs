//! The gen_server's reports, written through the runtime's [`Report`]: to
//! `log` as structured records when a logger is set, else to stderr (see
//! `rotp_runtime::Report`).
//!
//! - `gen_server_terminating` (rule 92): a server stops with an abnormal
//!   reason; the report names the server, its type, its state and the
//!   reason, and stands for the process's crash report.
//! - `unexpected_message` (rules 95-96): the default `handle_info` drops
//!   a message.
//! - `task_crash` (rule 185): a linked task crashed.

use std::fmt;

use rotp_runtime::{Context, ExitReason, Pid, Report, ReportKind};

use crate::behaviour::GenServer;
use crate::name::ServerName;

/// `pid`, or `name (pid)`.
struct Named<'a>(Pid, Option<&'a ServerName>);

impl fmt::Display for Named<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.1 {
            Some(name) => write!(f, "{name} ({})", self.0),
            None => write!(f, "{}", self.0),
        }
    }
}

/// Reports that the server is terminating with the abnormal `reason`, as
/// the report of its exit ([`Context::report_exit`]).
pub(crate) fn terminating<G: GenServer, M: Send + 'static>(
    ctx: &mut Context<'_, M>,
    name: Option<&ServerName>,
    reason: &ExitReason,
    state: &Option<G>,
) {
    // Nothing is formatted (the state least of all) for a report that
    // would be written nowhere; the runtime then writes no crash report
    // either.
    if !Report::enabled(log::Level::Error) {
        return;
    }
    let pid = ctx.pid();
    let state = crate::sys::shown_state(state);
    let report = Report::error(
        ReportKind::ServerTerminating,
        format_args!(
            "gen_server {} terminating: {reason}; state: {state}",
            Named(pid, name)
        ),
    )
    .pid(pid)
    .name(name)
    .field("type", std::any::type_name::<G>())
    .reason(reason)
    .field("state", &state);
    ctx.report_exit(&report);
}

/// The server's `terminate` panicked with `crash`, which becomes its exit
/// reason (rule 90).
pub(crate) fn terminate_crash(pid: Pid, name: Option<&ServerName>, crash: &ExitReason) {
    if !Report::enabled(log::Level::Error) {
        return;
    }
    Report::error(
        ReportKind::CallbackCrash,
        format_args!(
            "gen_server {}: terminate panicked: {crash}",
            Named(pid, name)
        ),
    )
    .pid(pid)
    .name(name)
    .reason(crash)
    .emit();
}

/// A suspended server holding `limit` messages, its mailbox limit, dropped
/// a `what` (a `Reject` limit, whose sender was told it was delivered).
pub(crate) fn held_dropped(pid: Pid, name: Option<&ServerName>, limit: u32, what: &str) {
    if !Report::enabled(log::Level::Warn) {
        return;
    }
    Report::warn(
        ReportKind::MessageDropped,
        format_args!(
            "gen_server {}: suspended with {limit} messages held, its mailbox limit; \
             dropped a {what}",
            Named(pid, name)
        ),
    )
    .pid(pid)
    .name(name)
    .count("limit", u64::from(limit))
    .field("message", what)
    .emit();
}

/// The default `handle_info` dropped `what` (rules 95-96).
pub(crate) fn unexpected_message<G: GenServer>(pid: Pid, what: &str) {
    if !Report::enabled(log::Level::Warn) {
        return;
    }
    let server = std::any::type_name::<G>();
    Report::warn(
        ReportKind::UnexpectedMessage,
        format_args!("{server} {pid}: undefined handle_info, dropped {what}"),
    )
    .pid(pid)
    .field("type", server)
    .field("message", what)
    .emit();
}

/// A task linked to `owner` crashed with `reason` (rule 185).
pub(crate) fn task_crash(pid: Pid, owner: Pid, reason: &ExitReason) {
    if !Report::enabled(log::Level::Error) {
        return;
    }
    Report::error(
        ReportKind::TaskCrash,
        format_args!("task {pid} started from {owner} crashed: {reason}"),
    )
    .pid(pid)
    .field("owner", owner)
    .reason(reason)
    .emit();
}
