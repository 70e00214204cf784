//! Server names: local, or through any registry (rule 37, R10).

use std::fmt;
use std::sync::Arc;

use rotp_runtime::{Handle, Name, Pid, RegisterError, ViaRegistry};

use crate::error::EnterError;

/// One key in a registry, bound to that registry (and to the value to
/// register with it): the `{via, Module, Key}` of a name as one value.
///
/// Implement it for a registry with typed keys; a
/// [`ServerName`] converts from any implementation, so
/// `StartOptions::new().name(registry.via(key))` names a server. The
/// registry should release the key itself when its holder exits (see
/// `Handle::on_exit`); a server also releases it when its state is dropped.
pub trait ViaKey: Send + Sync + 'static {
    /// Binds the key to `pid`, the process being started (called from that
    /// process, before `init`).
    ///
    /// # Errors
    ///
    /// [`ViaError::Taken`] with the holder if the key is bound to a live
    /// process; [`ViaError::Refused`] if the registry cannot take it.
    fn register(&self, pid: Pid) -> Result<(), ViaError>;
    /// Releases the key if `pid` holds it.
    fn unregister(&self, pid: Pid);
    /// The live process bound to the key, if any.
    fn whereis(&self) -> Option<Pid>;
    /// The key, for logs and `Display`.
    fn describe(&self) -> String;
}

/// Why a [`ViaKey`] was not registered.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ViaError {
    /// A live process holds the key.
    #[error("the key is registered to {0}")]
    Taken(Pid),
    /// The registry refused the key (it has stopped, or takes no via names).
    #[error("the registry refused the key: {0}")]
    Refused(String),
}

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
    /// A key bound to its registry (a typed `{via, Module, Key}`); see
    /// [`ViaKey`].
    ViaKey(Arc<dyn ViaKey>),
}

impl<T: ViaKey> From<T> for ServerName {
    fn from(key: T) -> Self {
        ServerName::ViaKey(Arc::new(key))
    }
}

impl ServerName {
    /// A name in `registry` under `key`: Erlang's `{via, Module, Key}` for
    /// a registry of your own, any [`ViaRegistry`]. A server started under
    /// it registers itself there before `init` and is released when it
    /// exits. For typed keys, `rotp_store::Registry::via(key)` gives a
    /// ready-made name (a [`ViaKey`]).
    ///
    /// ```
    /// use std::collections::HashMap;
    /// use std::sync::{Arc, Mutex};
    /// use rotp_gen_server::{gen_server, start, Ctx, GenServer, Init, InitResult, ServerName, ServerRef, StartOptions};
    /// use rotp_runtime::{ExitReason, Pid, ViaRegistry};
    ///
    /// /// A registry of your own: names in a map behind a mutex.
    /// #[derive(Default)]
    /// struct Directory(Mutex<HashMap<String, Pid>>);
    ///
    /// impl ViaRegistry for Directory {
    ///     fn register_name(&self, key: &str, pid: Pid) -> Result<(), Pid> {
    ///         let mut names = self.0.lock().unwrap();
    ///         match names.get(key) {
    ///             Some(&holder) => Err(holder),
    ///             None => {
    ///                 names.insert(key.to_owned(), pid);
    ///                 Ok(())
    ///             }
    ///         }
    ///     }
    ///     fn unregister_name(&self, key: &str) {
    ///         self.0.lock().unwrap().remove(key);
    ///     }
    ///     fn whereis_name(&self, key: &str) -> Option<Pid> {
    ///         self.0.lock().unwrap().get(key).copied()
    ///     }
    /// }
    /// # struct Room;
    /// # #[gen_server]
    /// # impl GenServer for Room {
    /// #     fn init((): (), _ctx: &mut Ctx<'_, Self>) -> InitResult<Self> { Init::ok(Room) }
    /// # }
    ///
    /// let rt = rotp_runtime::Runtime::new().unwrap();
    /// let directory = Arc::new(Directory::default());
    /// let lobby = ServerName::via(directory.clone(), "room:lobby");
    /// let room = start::<Room>(&rt, (), StartOptions::new().name(lobby.clone())).unwrap();
    /// assert_eq!(directory.whereis_name("room:lobby"), room.pid());
    /// assert_eq!(ServerRef::<Room>::named(&rt, lobby).pid(), room.pid());
    /// room.stop(ExitReason::Normal, None).unwrap();
    /// assert_eq!(directory.whereis_name("room:lobby"), None); // released at the exit
    /// ```
    pub fn via(registry: Arc<dyn ViaRegistry>, key: impl Into<String>) -> Self {
        ServerName::Via(registry, key.into())
    }

    /// Binds the name to `pid`, for a behaviour starting under this name
    /// (called from the process being started, before its `init`).
    ///
    /// # Errors
    ///
    /// [`ViaError::Taken`] with the holder if the name is taken, or
    /// [`ViaError::Refused`] if the registry would not take it.
    pub fn register(&self, handle: &Handle, pid: Pid) -> Result<(), ViaError> {
        match self {
            ServerName::Local(name) => match handle.register(name.clone(), pid) {
                Ok(()) => Ok(()),
                Err(RegisterError::NameTaken { holder, .. }) => Err(ViaError::Taken(holder)),
                Err(e) => Err(ViaError::Refused(e.to_string())),
            },
            ServerName::Via(registry, key) => {
                registry.register_name(key, pid).map_err(ViaError::Taken)
            }
            ServerName::ViaKey(key) => key.register(pid),
        }
    }

    /// Releases the name if `pid` holds it.
    pub fn unregister(&self, handle: &Handle, pid: Pid) {
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
            ServerName::ViaKey(key) => key.unregister(pid),
        }
    }

    /// For behaviours: call as the process's state is dropped at its exit.
    /// The runtime releases local names itself; a via registry is told
    /// here, before the process's links and monitors hear of the exit.
    pub fn release_on_exit(&self) {
        match self {
            ServerName::Local(_) => {}
            ServerName::Via(registry, key) => registry.unregister_name(key),
            ServerName::ViaKey(key) => {
                if let Some(pid) = rotp_runtime::self_pid() {
                    key.unregister(pid);
                }
            }
        }
    }

    /// Why a process that should hold this name exits (rule 101).
    pub(crate) fn not_registered(&self) -> EnterError {
        match self {
            ServerName::Local(_) => EnterError::NotRegistered,
            ServerName::Via(..) | ServerName::ViaKey(_) => EnterError::NotRegisteredVia,
        }
    }

    /// The pid holding the name, if any.
    pub fn whereis(&self, handle: &Handle) -> Option<Pid> {
        match self {
            ServerName::Local(name) => handle.whereis(name.as_str()),
            ServerName::Via(registry, key) => registry.whereis_name(key),
            ServerName::ViaKey(key) => key.whereis(),
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

impl From<&String> for ServerName {
    fn from(name: &String) -> Self {
        ServerName::Local(name.as_str().into())
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
            ServerName::ViaKey(key) => write!(f, "via:{}", key.describe()),
        }
    }
}

impl fmt::Debug for ServerName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ServerName::Local(name) => write!(f, "Local({name:?})"),
            ServerName::Via(_, key) => write!(f, "Via({key:?})"),
            ServerName::ViaKey(key) => write!(f, "ViaKey({})", key.describe()),
        }
    }
}
