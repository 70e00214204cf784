//! Atoms.

use std::borrow::Borrow;
use std::cmp::Ordering;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::sync::Arc;

use super::error::FromTermError;

/// The most characters an atom may have (Erlang's limit).
pub const MAX_ATOM_CHARS: usize = 255;

/// An Erlang atom: a name, compared by its text.
///
/// The atoms the protocol and most programs use (`ok`, `error`, `true`,
/// `nil`, `'$gen_call'`, ...) are static and cost no allocation; others
/// share one reference-counted string, so cloning is cheap either way.
///
/// ```
/// use rotp_dist::Atom;
/// let ok = Atom::new("ok");
/// assert_eq!(ok, "ok");
/// assert_eq!(ok.to_string(), "ok");
/// assert_eq!(Atom::new("Hello world").to_string(), "'Hello world'");
/// assert!(Atom::try_new(&"x".repeat(256)).is_err());
/// ```
#[derive(Clone)]
pub struct Atom(Repr);

#[derive(Clone)]
enum Repr {
    Static(&'static str),
    Shared(Arc<str>),
}

/// Atoms common enough to keep allocation-free.
const STATIC_ATOMS: &[&str] = &[
    "",
    "true",
    "false",
    "ok",
    "error",
    "nil",
    "undefined",
    "normal",
    "shutdown",
    "kill",
    "killed",
    "noproc",
    "noconnection",
    "nodedown",
    "nodeup",
    "timeout",
    "infinity",
    "badarg",
    "alias",
    "$gen_call",
    "$gen_cast",
    "is_auth",
    "yes",
    "no",
    "net_kernel",
    "EXIT",
    "DOWN",
    "process",
    "reply",
    "noreply",
    "stop",
    "get",
    "put",
    "increment",
];

impl Atom {
    /// The atom named `name`.
    ///
    /// # Panics
    ///
    /// If `name` has more than [`MAX_ATOM_CHARS`] characters: no Erlang
    /// node could read it. Use [`try_new`](Atom::try_new) for names that
    /// come from outside the program.
    pub fn new(name: &str) -> Atom {
        match Atom::try_new(name) {
            Ok(atom) => atom,
            Err(e) => panic!("{e}"),
        }
    }

    /// The atom named `name`, or an error if it is longer than
    /// [`MAX_ATOM_CHARS`] characters.
    pub fn try_new(name: &str) -> Result<Atom, FromTermError> {
        if name.len() > MAX_ATOM_CHARS && name.chars().count() > MAX_ATOM_CHARS {
            return Err(FromTermError::msg(format!(
                "an atom has at most {MAX_ATOM_CHARS} characters, not {}",
                name.chars().count()
            )));
        }
        Ok(Atom::new_unchecked(name))
    }

    /// A static atom; no length check beyond a debug assertion.
    pub const fn from_static(name: &'static str) -> Atom {
        Atom(Repr::Static(name))
    }

    /// Callers have checked the length.
    pub(crate) fn new_unchecked(name: &str) -> Atom {
        match STATIC_ATOMS.iter().find(|s| **s == name) {
            Some(s) => Atom(Repr::Static(s)),
            None => Atom(Repr::Shared(name.into())),
        }
    }

    /// The atom's name.
    pub fn as_str(&self) -> &str {
        match &self.0 {
            Repr::Static(s) => s,
            Repr::Shared(s) => s,
        }
    }

    /// Whether the name can be written without quotes in Erlang.
    fn is_bare(&self) -> bool {
        let s = self.as_str();
        let mut chars = s.chars();
        match chars.next() {
            Some(c) if c.is_ascii_lowercase() => {}
            _ => return false,
        }
        chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '@')
            && !matches!(
                s,
                "after"
                    | "and"
                    | "andalso"
                    | "band"
                    | "begin"
                    | "bnot"
                    | "bor"
                    | "bsl"
                    | "bsr"
                    | "bxor"
                    | "case"
                    | "catch"
                    | "cond"
                    | "div"
                    | "end"
                    | "fun"
                    | "if"
                    | "let"
                    | "maybe"
                    | "not"
                    | "of"
                    | "or"
                    | "orelse"
                    | "receive"
                    | "rem"
                    | "try"
                    | "when"
                    | "xor"
            )
    }
}

impl PartialEq for Atom {
    fn eq(&self, other: &Atom) -> bool {
        self.as_str() == other.as_str()
    }
}

impl Eq for Atom {}

impl PartialEq<str> for Atom {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<&str> for Atom {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl Hash for Atom {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.as_str().hash(state)
    }
}

impl PartialOrd for Atom {
    fn partial_cmp(&self, other: &Atom) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Atom {
    fn cmp(&self, other: &Atom) -> Ordering {
        self.as_str().cmp(other.as_str())
    }
}

impl Borrow<str> for Atom {
    fn borrow(&self) -> &str {
        self.as_str()
    }
}

impl AsRef<str> for Atom {
    fn as_ref(&self) -> &str {
        self.as_str()
    }
}

impl From<&str> for Atom {
    /// See [`Atom::new`] (panics on names over 255 characters).
    fn from(name: &str) -> Atom {
        Atom::new(name)
    }
}

impl fmt::Display for Atom {
    /// Erlang syntax: quoted when the name needs it.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_bare() {
            return f.write_str(self.as_str());
        }
        f.write_str("'")?;
        for c in self.as_str().chars() {
            match c {
                '\'' => f.write_str("\\'")?,
                '\\' => f.write_str("\\\\")?,
                '\n' => f.write_str("\\n")?,
                c => write!(f, "{c}")?,
            }
        }
        f.write_str("'")
    }
}

impl fmt::Debug for Atom {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn static_and_shared_atoms_compare_by_name() {
        let a = Atom::new("ok");
        assert!(matches!(a.0, Repr::Static(_)));
        let b = Atom::new("counter");
        assert!(matches!(b.0, Repr::Shared(_)));
        assert_eq!(a, Atom(Repr::Shared("ok".into())));
        assert!(Atom::new("a") < Atom::new("b"));
    }

    #[test]
    fn length_is_counted_in_characters() {
        assert!(Atom::try_new(&"é".repeat(255)).is_ok());
        assert!(Atom::try_new(&"é".repeat(256)).is_err());
    }

    #[test]
    fn display_quotes_when_needed() {
        assert_eq!(Atom::new("counter").to_string(), "counter");
        assert_eq!(Atom::new("rotp@127.0.0.1").to_string(), "'rotp@127.0.0.1'");
        assert_eq!(Atom::new("$gen_call").to_string(), "'$gen_call'");
        assert_eq!(Atom::new("end").to_string(), "'end'");
        assert_eq!(Atom::new("it's").to_string(), "'it\\'s'");
        assert_eq!(Atom::new("").to_string(), "''");
    }
}
