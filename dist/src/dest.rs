//! Where a message or a call goes: a pid, or a name on a node.

use std::fmt;

use crate::control::ProcRef;
use crate::term::{Atom, RemotePid};

/// A destination on some node: a pid, or a registered name with its node
/// (Erlang's `{Name, Node}`).
///
/// ```
/// use rotp_dist::Dest;
/// let d = Dest::from(("counter", "erl@127.0.0.1"));
/// assert_eq!(d.node(), "erl@127.0.0.1");
/// assert_eq!(d.to_string(), "{counter,'erl@127.0.0.1'}");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Dest {
    /// A process.
    Pid(RemotePid),
    /// The process registered as `name` on `node`.
    Name {
        /// The registered name.
        name: Atom,
        /// The node.
        node: Atom,
    },
}

impl Dest {
    /// The node of the destination.
    pub fn node(&self) -> &Atom {
        match self {
            Dest::Pid(p) => &p.node,
            Dest::Name { node, .. } => node,
        }
    }

    pub(crate) fn proc_ref(&self) -> ProcRef {
        match self {
            Dest::Pid(p) => ProcRef::Pid(p.clone()),
            Dest::Name { name, .. } => ProcRef::Name(name.clone()),
        }
    }
}

impl From<RemotePid> for Dest {
    fn from(pid: RemotePid) -> Dest {
        Dest::Pid(pid)
    }
}

impl From<&RemotePid> for Dest {
    fn from(pid: &RemotePid) -> Dest {
        Dest::Pid(pid.clone())
    }
}

impl From<(Atom, Atom)> for Dest {
    fn from((name, node): (Atom, Atom)) -> Dest {
        Dest::Name { name, node }
    }
}

impl From<(&str, &str)> for Dest {
    /// `(name, node)`; see [`Atom::new`] (names over 255 characters
    /// panic).
    fn from((name, node): (&str, &str)) -> Dest {
        Dest::Name {
            name: Atom::new(name),
            node: Atom::new(node),
        }
    }
}

impl fmt::Display for Dest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Dest::Pid(p) => fmt::Display::fmt(p, f),
            Dest::Name { name, node } => write!(f, "{{{name},{node}}}"),
        }
    }
}
