//! What a table operation can fail with.

use rotp_runtime::{Name, Pid};
use thiserror::Error;

/// A table operation failed. Every operation returns this; the variants
/// say which apply where.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum TableError {
    /// The table was deleted (explicitly, or its owner exited with no
    /// heir). Every operation.
    #[error("the table has been deleted")]
    Deleted,
    /// The calling process may not do this: a write to a protected table,
    /// or any access to a private one, from a process (or thread) that is
    /// not the owner.
    #[error("access denied: the table is owned by {owner}")]
    NotOwner {
        /// The table's owner.
        owner: Pid,
    },
    /// A table needs an owning process: made outside any process with no
    /// [`owner`](super::TableOptions::owner), or the owner (or the process
    /// given the table) is not alive.
    #[error("no owner: {0} is not a live process")]
    NoOwner(Pid),
    /// Another live table has the name.
    #[error("a table named `{0}` exists")]
    NameTaken(Name),
    /// The key's `Hash` implementation panicked; the table is unchanged.
    #[error("bad key: {0}")]
    BadKey(String),
    /// `update_counter` or `update_element` on a key that is not there (and
    /// no default was given).
    #[error("no object with that key")]
    NotFound,
    /// The operation does not apply to this kind of table
    /// (`update_counter` on a bag, `next` on a set, ...).
    #[error("`{op}` does not apply to a {kind:?} table")]
    WrongKind {
        /// The operation.
        op: &'static str,
        /// The table's kind.
        kind: super::Kind,
    },
}
