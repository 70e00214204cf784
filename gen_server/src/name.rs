//! Server names: local, or through any registry (rule 37, R10).

use std::fmt;
use std::sync::Arc;

use rotp_runtime::{Handle, Name, Pid, RegisterError, ViaRegistry};

use crate::error::EnterError;

/// How a server is named.
///
/// ```
/// use rotp_gen_server::ServerName;
/// let local: ServerName = "cache".into();
/// assert_eq!(local.to_string(), "cache");
/// ```
#[derive(Clone)]
pub enum ServerName {
    /// The runtime's local registry (Erlang `{local, Name}`).
    Local(Name),
    /// Another registry and a key in it (Erlang `{via, Module, Key}`).
    Via(Arc<dyn ViaRegistry>, String),
}

impl ServerName {
    /// A name in `registry` under `key`.
    pub fn via(registry: Arc<dyn ViaRegistry>, key: impl Into<String>) -> Self {
        ServerName::Via(registry, key.into())
    }

    /// Binds the name to `pid`; `Err(holder)` if taken.
    pub(crate) fn register(&self, handle: &Handle, pid: Pid) -> Result<(), Pid> {
        match self {
            ServerName::Local(name) => match handle.register(name.clone(), pid) {
                Ok(()) => Ok(()),
                Err(RegisterError::NameTaken { holder, .. }) => Err(holder),
                Err(e) => {
                    log::error!("registering {name}: {e}");
                    Err(pid)
                }
            },
            ServerName::Via(registry, key) => registry.register_name(key, pid),
        }
    }

    /// Releases the name if `pid` holds it.
    pub(crate) fn unregister(&self, handle: &Handle, pid: Pid) {
        match self {
            ServerName::Local(name) => {
                if handle.whereis(name.as_str()) == Some(pid) {
                    handle.unregister(name.as_str());
                }
            }
            ServerName::Via(registry, key) => {
                if registry.whereis_name(key) == Some(pid) {
                    registry.unregister_name(key);
                }
            }
        }
    }

    /// Called as the server's state is dropped at exit: the runtime
    /// releases local names itself; a via registry is told here.
    pub(crate) fn release_on_exit(&self) {
        if let ServerName::Via(registry, key) = self {
            registry.unregister_name(key);
        }
    }

    /// Why a process that should hold this name exits (rule 101).
    pub(crate) fn not_registered(&self) -> EnterError {
        match self {
            ServerName::Local(_) => EnterError::NotRegistered,
            ServerName::Via(..) => EnterError::NotRegisteredVia,
        }
    }

    /// The pid holding the name, if any.
    pub fn whereis(&self, handle: &Handle) -> Option<Pid> {
        match self {
            ServerName::Local(name) => handle.whereis(name.as_str()),
            ServerName::Via(registry, key) => registry.whereis_name(key),
        }
    }
}

impl From<&str> for ServerName {
    fn from(name: &str) -> Self {
        ServerName::Local(name.into())
    }
}

impl From<String> for ServerName {
    fn from(name: String) -> Self {
        ServerName::Local(name.into())
    }
}

impl From<Name> for ServerName {
    fn from(name: Name) -> Self {
        ServerName::Local(name)
    }
}

impl fmt::Display for ServerName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ServerName::Local(name) => write!(f, "{name}"),
            ServerName::Via(_, key) => write!(f, "via:{key}"),
        }
    }
}

impl fmt::Debug for ServerName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ServerName::Local(name) => write!(f, "Local({name:?})"),
            ServerName::Via(_, key) => write!(f, "Via({key:?})"),
        }
    }
}
