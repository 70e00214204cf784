//! Exit reasons.

use std::any::Any;
use std::fmt;
use std::panic::Location;
use std::sync::Arc;

/// Why a process ended (or is asked to end).
///
/// Mirrors Erlang's exit reasons with Rust types. Two predicates matter:
///
/// - [`is_normal`](ExitReason::is_normal): only `Normal` is harmless when it
///   travels over a link to a process that does not trap exits (rule 4).
/// - [`is_normal_class`](ExitReason::is_normal_class): `Normal`, `Shutdown`
///   and `ShutdownWith` are "not errors": no crash report is logged and a
///   transient child is not restarted (rules 3, 122).
///
/// `kill` is not a reason but a signal ([`Handle::kill`](crate::Handle::kill));
/// a killed process exits with [`ExitReason::Killed`] (adaptation R4).
///
/// ```
/// use rotp_runtime::ExitReason;
/// assert!(ExitReason::Normal.is_normal());
/// assert!(ExitReason::shutdown_with("maintenance").is_normal_class());
/// assert!(!ExitReason::Killed.is_normal_class());
/// assert_eq!(ExitReason::custom("bad_state").to_string(), "bad_state");
/// ```
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ExitReason {
    /// The process finished its work (`normal`).
    Normal,
    /// The process was asked to shut down (`shutdown`).
    Shutdown,
    /// A shutdown carrying a payload (`{shutdown, Term}`).
    ShutdownWith(Arc<str>),
    /// The process was killed by an untrappable kill (`killed`).
    Killed,
    /// The process did not exist (`noproc`).
    NoProc,
    /// A timeout expired (`timeout`).
    Timeout,
    /// A callback panicked; carries the panic message and location.
    Panic(Arc<PanicReason>),
    /// Any other reason, named by the user.
    Custom(Arc<str>),
}

impl ExitReason {
    /// A user-defined reason.
    pub fn custom(reason: impl fmt::Display) -> Self {
        ExitReason::Custom(reason.to_string().into())
    }

    /// A shutdown with a payload, `{shutdown, Term}`.
    pub fn shutdown_with(payload: impl fmt::Display) -> Self {
        ExitReason::ShutdownWith(payload.to_string().into())
    }

    /// The reason of a process spawned once the runtime is stopping
    /// (`{shutdown, runtime_stopped}`): such a process never runs, and is
    /// already gone when the spawn returns (see
    /// [`Handle::spawn`](crate::Handle::spawn)). A shutdown, so no crash
    /// report.
    ///
    /// ```
    /// use rotp_runtime::{ExitReason, Runtime};
    /// let rt = Runtime::new().unwrap();
    /// rt.shutdown(std::time::Duration::from_secs(1)).unwrap();
    /// let p = rt.spawn_fn(|_: (), _ctx| {});
    /// assert_eq!(p.exit_reason(), Some(ExitReason::runtime_stopped()));
    /// ```
    pub fn runtime_stopped() -> Self {
        ExitReason::shutdown_with("runtime_stopped")
    }

    /// Only `Normal` is harmless over a link (rule 4).
    pub fn is_normal(&self) -> bool {
        matches!(self, ExitReason::Normal)
    }

    /// `Normal`, `Shutdown` and `ShutdownWith`: not errors (rules 3, 122).
    pub fn is_normal_class(&self) -> bool {
        matches!(
            self,
            ExitReason::Normal | ExitReason::Shutdown | ExitReason::ShutdownWith(_)
        )
    }

    /// Builds a `Panic` reason from a caught panic payload.
    pub(crate) fn from_panic(payload: Box<dyn Any + Send>) -> Self {
        let payload = match payload.downcast::<ExitUnwind>() {
            Ok(exit) => return exit.0,
            Err(payload) => payload,
        };
        let message = if let Some(s) = payload.downcast_ref::<&'static str>() {
            (*s).to_owned()
        } else if let Some(s) = payload.downcast_ref::<String>() {
            s.clone()
        } else {
            "Box<dyn Any>".to_owned()
        };
        let location = crate::panic::take_location();
        ExitReason::Panic(Arc::new(PanicReason { message, location }))
    }
}

/// What [`exit`] unwinds with: the reason, not a panic.
struct ExitUnwind(ExitReason);

/// Ends the calling process at once with `reason`, from anywhere in its
/// code: Erlang's `exit(Reason)` (rule 2), for a raw process's handler, a
/// gen_server callback, an Agent function or a Task body.
///
/// The handler unwinds to the runtime, which exits the process with
/// `reason` exactly as [`Context::exit`](crate::Context::exit) would have
/// after the handler returned — links and monitors get `reason`, and it is
/// not reported as a panic (a gen_server still runs `terminate` with it, as
/// OTP's does). Values on the handler's stack are dropped as the stack
/// unwinds, so locks held there are released; build with `panic = "unwind"`
/// (the default).
///
/// Outside a process it unwinds the calling thread like a panic whose
/// payload is the reason; [`catch_panic`](crate::catch_panic) turns it back
/// into `reason`.
///
/// ```
/// use rotp_runtime::{exit, ExitReason, Runtime};
///
/// let rt = Runtime::new().unwrap();
/// let worker = rt.spawn_fn(|n: u32, _ctx| {
///     if n == 0 {
///         exit("division by zero");
///     }
/// });
/// worker.send(0);
/// assert_eq!(worker.await_exit(None), Some(ExitReason::custom("division by zero")));
/// ```
pub fn exit(reason: impl Into<ExitReason>) -> ! {
    crate::panic::install_hook();
    std::panic::resume_unwind(Box::new(ExitUnwind(reason.into())))
}

/// The payload of [`ExitReason::Panic`].
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct PanicReason {
    /// The panic message.
    pub message: String,
    /// Where the panic happened (`file:line:column`), when known.
    pub location: Option<String>,
}

impl PanicReason {
    pub(crate) fn location_of(location: &Location<'_>) -> String {
        format!(
            "{}:{}:{}",
            location.file(),
            location.line(),
            location.column()
        )
    }
}

impl fmt::Display for ExitReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ExitReason::Normal => f.write_str("normal"),
            ExitReason::Shutdown => f.write_str("shutdown"),
            ExitReason::ShutdownWith(p) => write!(f, "{{shutdown, {p}}}"),
            ExitReason::Killed => f.write_str("killed"),
            ExitReason::NoProc => f.write_str("noproc"),
            ExitReason::Timeout => f.write_str("timeout"),
            ExitReason::Panic(p) => match &p.location {
                Some(loc) => write!(f, "panic at {loc}: {}", p.message),
                None => write!(f, "panic: {}", p.message),
            },
            ExitReason::Custom(r) => f.write_str(r),
        }
    }
}

impl fmt::Debug for ExitReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl From<&str> for ExitReason {
    fn from(reason: &str) -> Self {
        ExitReason::custom(reason)
    }
}

impl From<String> for ExitReason {
    fn from(reason: String) -> Self {
        ExitReason::Custom(reason.into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classes_follow_rules_3_and_4() {
        for r in [ExitReason::Shutdown, ExitReason::shutdown_with("x")] {
            assert!(r.is_normal_class());
            assert!(!r.is_normal());
        }
        assert!(ExitReason::Normal.is_normal_class());
        for r in [
            ExitReason::Killed,
            ExitReason::NoProc,
            ExitReason::custom("boom"),
        ] {
            assert!(!r.is_normal_class());
        }
    }
}
