//! Reports: crash, termination, supervisor and overload reports, and where
//! they go. See [`Report`] for the routing and why it is decided as it is.

use std::fmt;
use std::io::Write;
use std::sync::atomic::{AtomicU8, Ordering::Relaxed};

use log::{Level, LevelFilter};

use crate::exit::ExitReason;
use crate::pid::Pid;

/// What a [`Report`] is about. Its [`name`](Self::name) is the `kind`
/// key-value of every record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ReportKind {
    /// A process exited with an abnormal reason and no link or monitor
    /// observed it (`crash_report`). A behaviour that reports its own exit
    /// ([`Context::report_exit`](crate::Context::report_exit)) replaces it.
    Crash,
    /// A GenServer is terminating with an abnormal reason
    /// (`gen_server_terminating`).
    ServerTerminating,
    /// A linked task crashed (`task_crash`).
    TaskCrash,
    /// A GenServer received a message it has no `handle_info` for
    /// (`unexpected_message`).
    UnexpectedMessage,
    /// A supervisor's child exited (`child_terminated`).
    ChildTerminated,
    /// A supervisor could not start a child (`start_error`).
    StartError,
    /// A child exited with an unexpected reason while its supervisor
    /// stopped it (`shutdown_error`).
    ShutdownError,
    /// A supervisor gave up: more restarts than its intensity allows
    /// (`reached_max_restart_intensity`).
    MaxRestartIntensity,
    /// A significant child's exit shut its supervisor down
    /// (`auto_shutdown`).
    AutoShutdown,
    /// A mailbox reached its high-water mark (`mailbox_high_water`).
    MailboxHighWater,
    /// A mailbox that was above its high-water mark fell below half of it
    /// (`mailbox_below_high_water`).
    MailboxBelowHighWater,
    /// A handler ran longer than the watchdog's threshold
    /// (`long_schedule`).
    LongSchedule,
    /// A condition of the runtime itself: processes that did not exit at
    /// shutdown, spare threads exhausted (`runtime`).
    Runtime,
    /// User code called back outside a handler panicked, and the runtime
    /// carried on without it: a telemetry handler (then detached), an
    /// exit hook, a GenServer's `terminate`, a registry listener
    /// (`callback_crash`).
    CallbackCrash,
    /// A message accepted earlier was dropped: a suspended GenServer over
    /// its mailbox limit (`message_dropped`).
    MessageDropped,
    /// A node of rotp-dist refused or dropped something from another node
    /// (a connection, a wrong cookie, a frame that does not decode), or
    /// failed itself (`distribution`).
    Distribution,
}

impl ReportKind {
    /// The kind's name, as in the `kind` key-value: `crash_report`,
    /// `child_terminated`, ...
    pub fn name(self) -> &'static str {
        match self {
            ReportKind::Crash => "crash_report",
            ReportKind::ServerTerminating => "gen_server_terminating",
            ReportKind::TaskCrash => "task_crash",
            ReportKind::UnexpectedMessage => "unexpected_message",
            ReportKind::ChildTerminated => "child_terminated",
            ReportKind::StartError => "start_error",
            ReportKind::ShutdownError => "shutdown_error",
            ReportKind::MaxRestartIntensity => "reached_max_restart_intensity",
            ReportKind::AutoShutdown => "auto_shutdown",
            ReportKind::MailboxHighWater => "mailbox_high_water",
            ReportKind::MailboxBelowHighWater => "mailbox_below_high_water",
            ReportKind::LongSchedule => "long_schedule",
            ReportKind::Runtime => "runtime",
            ReportKind::CallbackCrash => "callback_crash",
            ReportKind::MessageDropped => "message_dropped",
            ReportKind::Distribution => "distribution",
        }
    }

    /// The `log` target of the kind's records: the crate that writes them.
    pub fn target(self) -> &'static str {
        match self {
            ReportKind::ServerTerminating
            | ReportKind::TaskCrash
            | ReportKind::UnexpectedMessage
            | ReportKind::MessageDropped => "rotp_gen_server",
            ReportKind::ChildTerminated
            | ReportKind::StartError
            | ReportKind::ShutdownError
            | ReportKind::MaxRestartIntensity
            | ReportKind::AutoShutdown => "rotp_supervisor",
            ReportKind::Crash
            | ReportKind::MailboxHighWater
            | ReportKind::MailboxBelowHighWater
            | ReportKind::LongSchedule
            | ReportKind::Runtime
            | ReportKind::CallbackCrash => "rotp_runtime",
            ReportKind::Distribution => "rotp_dist",
        }
    }
}

impl fmt::Display for ReportKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Where reports go; see [`Report`] and [`set_report_route`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum ReportRoute {
    /// To `log` when a logger is set (its maximum level is above `Off`),
    /// else warnings and errors to stderr. The default.
    #[default]
    Auto,
    /// Always to `log`, whatever its level: with no logger set the reports
    /// are lost.
    Log,
    /// Always to stderr (warnings and errors), never to `log`.
    Stderr,
    /// Nowhere: every report is dropped.
    Off,
}

static ROUTE: AtomicU8 = AtomicU8::new(0);

/// Chooses where every report of this program goes from now on (the
/// setting is global, like `log`'s logger).
///
/// ```
/// use rotp_runtime::{report_route, set_report_route, ReportRoute};
/// // A program that logs nothing at all, crashes included:
/// set_report_route(ReportRoute::Off);
/// assert_eq!(report_route(), ReportRoute::Off);
/// set_report_route(ReportRoute::Auto);
/// ```
pub fn set_report_route(route: ReportRoute) {
    let bits = match route {
        ReportRoute::Auto => 0,
        ReportRoute::Log => 1,
        ReportRoute::Stderr => 2,
        ReportRoute::Off => 3,
    };
    ROUTE.store(bits, Relaxed);
}

/// The route set with [`set_report_route`]; [`ReportRoute::Auto`] unless
/// changed.
pub fn report_route() -> ReportRoute {
    match ROUTE.load(Relaxed) {
        0 => ReportRoute::Auto,
        1 => ReportRoute::Log,
        2 => ReportRoute::Stderr,
        _ => ReportRoute::Off,
    }
}

/// A key-value's value: text, or a count that stays a number in `log`.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Value {
    Text(String),
    Count(u64),
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Text(s) => f.write_str(s),
            Value::Count(n) => write!(f, "{n}"),
        }
    }
}

/// One report: a kind, a level, key-values and one line of text.
///
/// Every report the runtime, the gen_server and the supervisor write — a
/// process that crashed unobserved, a server terminating abnormally, a child
/// restarted, a mailbox past its high-water mark — is a `Report`: a
/// [`ReportKind`], a level, key-values (pid, registered name, type, reason,
/// restart count where they apply) and one line of text that reads well on
/// its own (line breaks in it, as in a multi-line panic message, are written
/// as `\n`). [`emit`](Self::emit) routes it:
///
/// - **A `log` logger is set** (`env_logger`, `simplelog`, a `tracing`
///   bridge, ...): the report is a `log` record at its level, whose message
///   is the line and whose key-values are the report's (the `log` crate's
///   `kv` API), under the target `rotp_runtime`, `rotp_gen_server` or
///   `rotp_supervisor` ([`ReportKind::target`]). Nothing is written to
///   stderr; the logger's filters decide what is shown.
/// - **No logger is set**: warnings and errors are written to stderr, one
///   line each (`[error] crash report: process <0.12.1> ...`), as OTP's
///   default logger prints to the console. Info-level reports (a child
///   that ended normally, an auto-shutdown) are dropped, as below OTP's
///   default `notice` level. A crash is never silent.
///
/// # How "no logger" is told
///
/// The `log` crate does not say whether a logger is installed. Its global
/// maximum level does: it starts at `Off`, and every logger's set-up raises
/// it (`env_logger` to its filter's level, `error` by default). So a report
/// takes the `log` path when [`log::max_level`] is above `Off`, and stderr
/// otherwise. The check is one relaxed load per report, and a logger set at
/// any time — before or after the runtime starts — is used from then on.
/// The one case this cannot tell apart is a logger installed with its level
/// set to `Off` (`RUST_LOG=off`): it looks like no logger, and the reports
/// go to stderr, because a program that never set up logging must not lose
/// its crashes. To silence them, or to send them to `log` whatever its
/// level, choose the route yourself with [`set_report_route`].
///
/// ```
/// use rotp_runtime::{ExitReason, Pid, Report, ReportKind};
///
/// let report = Report::error(
///     ReportKind::Crash,
///     format_args!("worker {} exited: {}", Pid::ROOT, ExitReason::custom("boom")),
/// )
/// .pid(Pid::ROOT)
/// .reason(&ExitReason::custom("boom"));
/// assert_eq!(report.line(), "worker <0.0.0> exited: boom");
/// assert_eq!(report.value("reason").as_deref(), Some("boom"));
/// report.emit(); // to `log` if a logger is set, else to stderr
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    kind: ReportKind,
    level: Level,
    line: String,
    fields: Vec<(&'static str, Value)>,
}

impl Report {
    /// A report of `kind` at `level`, whose text is `text`.
    pub fn new(level: Level, kind: ReportKind, text: impl fmt::Display) -> Self {
        Report {
            kind,
            level,
            line: one_line(text.to_string()),
            fields: Vec::new(),
        }
    }

    /// An error report.
    pub fn error(kind: ReportKind, text: impl fmt::Display) -> Self {
        Report::new(Level::Error, kind, text)
    }

    /// A warning.
    pub fn warn(kind: ReportKind, text: impl fmt::Display) -> Self {
        Report::new(Level::Warn, kind, text)
    }

    /// An info report (not written to stderr when no logger is set).
    pub fn info(kind: ReportKind, text: impl fmt::Display) -> Self {
        Report::new(Level::Info, kind, text)
    }

    /// Adds a key-value with a text value.
    pub fn field(mut self, key: &'static str, value: impl fmt::Display) -> Self {
        self.fields
            .push((key, Value::Text(one_line(value.to_string()))));
        self
    }

    /// Adds a key-value with a numeric value (a count, a length).
    pub fn count(mut self, key: &'static str, n: u64) -> Self {
        self.fields.push((key, Value::Count(n)));
        self
    }

    /// Adds `pid`: the process the report is about.
    pub fn pid(self, pid: Pid) -> Self {
        self.field("pid", pid)
    }

    /// Adds `name`, the registered name, if there is one.
    pub fn name(self, name: Option<impl fmt::Display>) -> Self {
        match name {
            Some(name) => self.field("name", name),
            None => self,
        }
    }

    /// Adds `reason`: an exit reason.
    pub fn reason(self, reason: &ExitReason) -> Self {
        self.field("reason", reason)
    }

    /// The report's kind.
    pub fn kind(&self) -> ReportKind {
        self.kind
    }

    /// The report's level.
    pub fn level(&self) -> Level {
        self.level
    }

    /// The one-line text: the message of the `log` record.
    pub fn line(&self) -> &str {
        &self.line
    }

    /// The value of key-value `key`, as text.
    pub fn value(&self, key: &str) -> Option<String> {
        self.fields
            .iter()
            .find(|(k, _)| *k == key)
            .map(|(_, v)| v.to_string())
    }

    /// The key-values, `kind` first, values as text.
    pub fn key_values(&self) -> impl Iterator<Item = (&'static str, String)> + '_ {
        std::iter::once(("kind", self.kind.name().to_owned()))
            .chain(self.fields.iter().map(|(k, v)| (*k, v.to_string())))
    }

    /// The line written to stderr: `[error] ` and the text.
    pub fn stderr_line(&self) -> String {
        let level = match self.level {
            Level::Error => "error",
            Level::Warn => "warning",
            Level::Info => "info",
            Level::Debug => "debug",
            Level::Trace => "trace",
        };
        format!("[{level}] {}", self.line)
    }

    /// Sends the report where the [route](set_report_route) says: to `log`
    /// if a logger is set, else (warnings and errors) to stderr.
    pub fn emit(&self) {
        match destination(self.level) {
            Some(Destination::Log) => self.to_log(),
            Some(Destination::Stderr) => self.to_stderr(),
            None => {}
        }
    }

    /// Whether a report at `level` emitted now would be written anywhere:
    /// the [route](set_report_route) is not `Off`, and the logger's level
    /// (or, without a logger, stderr's: warnings and errors) lets it
    /// through.
    ///
    /// Building a report formats its text and its values; code that builds
    /// reports on a hot path (a process that crashes and is restarted many
    /// times a second) asks first. The runtime, the gen_server and the
    /// supervisor build none of their reports when this says no.
    ///
    /// ```
    /// use log::Level;
    /// use rotp_runtime::{set_report_route, report_route, Report, ReportRoute};
    ///
    /// let before = report_route();
    /// set_report_route(ReportRoute::Off);
    /// assert!(!Report::enabled(Level::Error));
    /// set_report_route(ReportRoute::Stderr);
    /// assert!(Report::enabled(Level::Error));
    /// assert!(!Report::enabled(Level::Info)); // stderr takes warnings and errors
    /// set_report_route(before);
    /// ```
    pub fn enabled(level: Level) -> bool {
        destination(level).is_some()
    }

    fn to_log(&self) {
        let mut kvs: Vec<(&str, log::kv::Value<'_>)> = Vec::with_capacity(self.fields.len() + 1);
        kvs.push(("kind", log::kv::Value::from(self.kind.name())));
        for (key, value) in &self.fields {
            let value = match value {
                Value::Text(s) => log::kv::Value::from(s.as_str()),
                Value::Count(n) => log::kv::Value::from(*n),
            };
            kvs.push((key, value));
        }
        let kvs: &[(&str, log::kv::Value<'_>)] = &kvs;
        log::logger().log(
            &log::Record::builder()
                .args(format_args!("{}", self.line))
                .level(self.level)
                .target(self.kind.target())
                .key_values(&kvs)
                .build(),
        );
    }

    fn to_stderr(&self) {
        let mut line = self.stderr_line();
        line.push('\n');
        // `eprint!` goes where the test harness captures output; it panics
        // if stderr fails, which must not take a worker down.
        let printed = std::panic::catch_unwind(|| eprint!("{line}"));
        if printed.is_err() {
            let _ = std::io::stderr().write_all(line.as_bytes());
        }
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.line)
    }
}

/// Where a report goes.
enum Destination {
    Log,
    Stderr,
}

/// Where a report at `level` goes now, if anywhere (see [`Report`] for the
/// routing).
fn destination(level: Level) -> Option<Destination> {
    let to_log = level <= log::STATIC_MAX_LEVEL && level <= log::max_level();
    let to_stderr = level <= Level::Warn;
    match report_route() {
        ReportRoute::Auto if log::max_level() == LevelFilter::Off => {
            to_stderr.then_some(Destination::Stderr)
        }
        ReportRoute::Auto | ReportRoute::Log => to_log.then_some(Destination::Log),
        ReportRoute::Stderr => to_stderr.then_some(Destination::Stderr),
        ReportRoute::Off => None,
    }
}

/// `text` with its line breaks written as `\n`.
fn one_line(text: String) -> String {
    if !text.contains(['\n', '\r']) {
        return text;
    }
    text.replace('\r', "\\r").replace('\n', "\\n")
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    #[test]
    fn a_report_is_one_line() {
        let r = Report::error(ReportKind::Crash, "boom\nat line 2").field("state", "a\nb");
        assert_eq!(r.line(), "boom\\nat line 2");
        assert_eq!(r.value("state").as_deref(), Some("a\\nb"));
        assert_eq!(r.stderr_line(), "[error] boom\\nat line 2");
    }

    #[test]
    fn key_values_start_with_the_kind() {
        let r = Report::warn(ReportKind::MailboxHighWater, "x")
            .pid(Pid::ROOT)
            .name(Some("db"))
            .name(None::<&str>)
            .count("len", 7);
        let kvs: Vec<_> = r.key_values().collect();
        assert_eq!(
            kvs,
            [
                ("kind", "mailbox_high_water".to_owned()),
                ("pid", "<0.0.0>".to_owned()),
                ("name", "db".to_owned()),
                ("len", "7".to_owned()),
            ]
        );
    }
}
