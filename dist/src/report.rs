//! The node's warnings and errors as runtime reports
//! ([`rotp_runtime::Report`], kind `distribution`): a refused connection, a
//! wrong cookie, a frame or message that does not decode. Like OTP's own
//! reports of such events, they reach stderr when the program set no `log`
//! logger, and are `log` records (target `rotp_dist`) when it did. They
//! never name the cookie.

use std::fmt;

use rotp_runtime::{Report, ReportKind};

/// A warning: something from another node was refused or dropped.
pub(crate) fn warn(text: fmt::Arguments<'_>) {
    Report::warn(ReportKind::Distribution, text).emit();
}

/// An error of the node itself (a thread that could not start, a term that
/// could not be encoded).
pub(crate) fn error(text: fmt::Arguments<'_>) {
    Report::error(ReportKind::Distribution, text).emit();
}
