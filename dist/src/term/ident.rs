//! Pids, references and ports of any node, as the external format carries
//! them.

use std::fmt;

use super::Atom;

/// A process identifier of any node: Erlang's `<Node.Id.Serial>`.
///
/// Pids of this node's own processes take the same form (with this node's
/// name and creation); [`Node::local_pid`](crate::Node::local_pid) and
/// [`Node::pid_of`](crate::Node::pid_of) convert between them and the
/// runtime's [`Pid`](rotp_runtime::Pid).
///
/// `creation` tells incarnations of a node apart: a pid of a node that has
/// since restarted names no process, even if the node name and numbers
/// match one again.
///
/// ```
/// use rotp_dist::{Atom, RemotePid};
/// let pid = RemotePid::new(Atom::new("erl@127.0.0.1"), 92, 0, 1_700_000_000);
/// assert_eq!(pid.to_string(), "<'erl@127.0.0.1'.92.0>");
/// ```
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RemotePid {
    /// The node the process lives on.
    pub node: Atom,
    /// The process number on that node.
    pub id: u32,
    /// The serial (a generation of the number).
    pub serial: u32,
    /// The incarnation of the node.
    pub creation: u32,
}

impl RemotePid {
    /// A pid from its parts.
    pub fn new(node: Atom, id: u32, serial: u32, creation: u32) -> Self {
        RemotePid {
            node,
            id,
            serial,
            creation,
        }
    }
}

impl fmt::Display for RemotePid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "<{}.{}.{}>", self.node, self.id, self.serial)
    }
}

impl fmt::Debug for RemotePid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// The most 32-bit words a reference carries (OTP 24's node container
/// format, version 4).
pub const MAX_REF_WORDS: usize = 5;

/// A reference of any node (`make_ref()`, a monitor reference, an alias).
///
/// ```
/// use rotp_dist::{Atom, RemoteRef};
/// let r = RemoteRef::new(Atom::new("erl@127.0.0.1"), 7, &[1, 2, 3]).unwrap();
/// assert_eq!(r.words(), &[1, 2, 3]);
/// assert!(RemoteRef::new(Atom::new("a@b"), 1, &[0; 6]).is_none());
/// ```
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RemoteRef {
    /// The node that made the reference.
    pub node: Atom,
    /// The incarnation of that node.
    pub creation: u32,
    len: u8,
    words: [u32; MAX_REF_WORDS],
}

impl RemoteRef {
    /// A reference from its parts: one to five 32-bit words.
    pub fn new(node: Atom, creation: u32, words: &[u32]) -> Option<Self> {
        if words.is_empty() || words.len() > MAX_REF_WORDS {
            return None;
        }
        let mut all = [0; MAX_REF_WORDS];
        all[..words.len()].copy_from_slice(words);
        Some(RemoteRef {
            node,
            creation,
            len: words.len() as u8,
            words: all,
        })
    }

    /// The reference's words.
    pub fn words(&self) -> &[u32] {
        &self.words[..usize::from(self.len)]
    }
}

impl fmt::Display for RemoteRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "#Ref<{}", self.node)?;
        for w in self.words().iter().rev() {
            write!(f, ".{w}")?;
        }
        f.write_str(">")
    }
}

impl fmt::Debug for RemoteRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// A port identifier of any node. Ports cannot be used from rotp; they
/// are carried so that every term round-trips.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RemotePort {
    /// The node the port belongs to.
    pub node: Atom,
    /// The port number.
    pub id: u64,
    /// The incarnation of the node.
    pub creation: u32,
}

impl fmt::Display for RemotePort {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "#Port<{}.{}>", self.node, self.id)
    }
}

impl fmt::Debug for RemotePort {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}
