//! Exit reasons between rotp's [`ExitReason`] and Erlang terms.

use rotp_runtime::ExitReason;

use crate::term::{Atom, Term};

/// The term another node sees for a rotp exit reason.
///
/// | rotp | term |
/// |---|---|
/// | `Normal`, `Shutdown`, `Killed`, `NoProc`, `Timeout` | `normal`, `shutdown`, `killed`, `noproc`, `timeout` |
/// | `ShutdownWith(s)` | `{shutdown, <<"s">>}` |
/// | `Panic(p)` | `{panic, <<"message">>}` (with the location when known) |
/// | `Custom(s)` | the atom `s` (a binary if `s` is too long for an atom) |
///
/// ```
/// use rotp_dist::{reason_to_term, Term};
/// use rotp_runtime::ExitReason;
/// assert_eq!(reason_to_term(&ExitReason::custom("boom")), Term::atom("boom"));
/// ```
pub fn reason_to_term(reason: &ExitReason) -> Term {
    match reason {
        ExitReason::Normal => Term::atom("normal"),
        ExitReason::Shutdown => Term::atom("shutdown"),
        ExitReason::ShutdownWith(s) => {
            Term::tuple(vec![Term::atom("shutdown"), Term::binary(s.as_bytes())])
        }
        ExitReason::Killed => Term::atom("killed"),
        ExitReason::NoProc => Term::atom("noproc"),
        ExitReason::Timeout => Term::atom("timeout"),
        ExitReason::Panic(_) => {
            Term::tuple(vec![Term::atom("panic"), Term::binary(reason.to_string())])
        }
        ExitReason::Custom(s) => match Atom::try_new(s) {
            Ok(a) => Term::Atom(a),
            Err(_) => Term::binary(s.as_bytes()),
        },
        other => Term::binary(other.to_string()),
    }
}

/// The rotp exit reason for a term from another node: the standard atoms
/// map to their variants, `{shutdown, X}` to `ShutdownWith`, any other
/// atom to `Custom` with its name, and any other term to `Custom` with
/// its Erlang text (`{badarith,[...]}`), cut at 1000 bytes.
///
/// ```
/// use rotp_dist::{exit_reason_from_term, Term};
/// use rotp_runtime::ExitReason;
/// assert_eq!(exit_reason_from_term(&Term::atom("noconnection")), ExitReason::custom("noconnection"));
/// assert_eq!(exit_reason_from_term(&Term::atom("shutdown")), ExitReason::Shutdown);
/// ```
pub fn exit_reason_from_term(term: &Term) -> ExitReason {
    match term {
        Term::Atom(a) => match a.as_str() {
            "normal" => ExitReason::Normal,
            "shutdown" => ExitReason::Shutdown,
            "killed" => ExitReason::Killed,
            "noproc" => ExitReason::NoProc,
            "timeout" => ExitReason::Timeout,
            other => ExitReason::custom(other),
        },
        Term::Tuple(t) if t.len() == 2 && t[0].is_atom("shutdown") => match &t[1] {
            Term::Binary(_) if t[1].as_str().is_some() => {
                ExitReason::shutdown_with(t[1].as_str().expect("checked"))
            }
            Term::Atom(a) => ExitReason::shutdown_with(a.as_str()),
            other => ExitReason::shutdown_with(other.display_bounded(1000)),
        },
        other => ExitReason::custom(other.display_bounded(1000)),
    }
}

/// The reason a node gives processes whose links or monitors crossed a
/// connection that was lost.
pub(crate) fn noconnection() -> ExitReason {
    ExitReason::custom("noconnection")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn standard_reasons_round_trip() {
        for r in [
            ExitReason::Normal,
            ExitReason::Shutdown,
            ExitReason::shutdown_with("maintenance"),
            ExitReason::Killed,
            ExitReason::NoProc,
            ExitReason::Timeout,
            ExitReason::custom("boom"),
        ] {
            assert_eq!(exit_reason_from_term(&reason_to_term(&r)), r);
        }
        let long = ExitReason::custom("x".repeat(300));
        assert_eq!(reason_to_term(&long), Term::binary("x".repeat(300)));
        assert_eq!(
            exit_reason_from_term(&Term::tuple(vec![Term::atom("badarith"), Term::nil()])),
            ExitReason::custom("{badarith,[]}")
        );
    }
}
