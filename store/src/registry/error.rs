//! What registry operations can fail with.

use rotp_runtime::{Name, Pid};
use thiserror::Error;

/// A registry operation failed.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum RegistryError {
    /// The registry has stopped (its owner process exited). Every
    /// operation.
    #[error("the registry has stopped")]
    Stopped,
    /// The key's `Hash` implementation panicked; nothing changed.
    #[error("bad key: {0}")]
    BadKey(String),
    /// The operation registers or changes the *calling* process's entries,
    /// and the caller is not a process (rule 165).
    #[error("the caller is not a process")]
    NotAProcess,
    /// The operation applies to unique registries only (`update_value`,
    /// via names; rules 173, 176).
    #[error("`{0}` needs a registry of unique keys")]
    UniqueOnly(&'static str),
    /// `update_value` of a key the caller does not hold (rule 176).
    #[error("the calling process does not hold the key")]
    NotRegistered,
}

/// `register` failed.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum RegisterError {
    /// A live process holds the unique key — possibly the caller itself
    /// (rule 166).
    #[error("the key is already registered to {holder}")]
    AlreadyRegistered {
        /// The process holding the key.
        holder: Pid,
    },
    /// The process to register is not alive.
    #[error("process {0} is not alive")]
    NoProc(Pid),
    /// The registry could not take the key.
    #[error(transparent)]
    Registry(#[from] RegistryError),
}

/// Starting a registry failed.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum StartError {
    /// A running registry has the name.
    #[error("a registry named `{0}` is running")]
    NameTaken(Name),
}
