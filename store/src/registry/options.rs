//! How a registry is made: key mode, partitions, name, listeners, meta.

use std::any::Any;
use std::fmt;
use std::sync::Arc;

use rotp_runtime::{Name, Pid};

/// Whether a key names one process or many (rule 164).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Keys {
    /// A key belongs to at most one process: names, per-entity workers.
    Unique,
    /// A key may be registered many times, by many processes (and by one
    /// process more than once): topics, groups.
    Duplicate,
}

/// What a listener hears: explicit registrations and unregistrations
/// (rule 174). A process's exit is not reported: listeners that care
/// monitor the processes they hear of.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum RegistryEvent<K, V> {
    /// `pid` registered `key` with `value`.
    Register {
        /// The key.
        key: K,
        /// The process that registered it.
        pid: Pid,
        /// The value it registered with.
        value: V,
    },
    /// `pid` removed its entries under `key`.
    Unregister {
        /// The key.
        key: K,
        /// The process.
        pid: Pid,
    },
}

/// A listener: a function called with each event, in the registering
/// process.
pub(crate) type ListenerFn<K, V> = Arc<dyn Fn(&RegistryEvent<K, V>) + Send + Sync>;

pub(crate) enum Listener<K, V> {
    /// A process registered under this local name, whose messages are
    /// `RegistryEvent<K, V>`.
    Name(Name),
    Fn(ListenerFn<K, V>),
}

impl<K, V> Clone for Listener<K, V> {
    fn clone(&self) -> Self {
        match self {
            Listener::Name(n) => Listener::Name(n.clone()),
            Listener::Fn(f) => Listener::Fn(f.clone()),
        }
    }
}

/// A meta value, type-erased.
pub(crate) type MetaValue = Arc<dyn Any + Send + Sync>;

/// Options for [`Registry::start`](super::Registry::start).
///
/// ```
/// use rotp_store::{Keys, RegistryOptions};
/// let opts = RegistryOptions::<String, ()>::new(Keys::Duplicate)
///     .name("pubsub")
///     .partitions(16)
///     .meta("topic_prefix", "news/".to_string());
/// ```
pub struct RegistryOptions<K, V> {
    pub(crate) keys: Keys,
    pub(crate) partitions: Option<usize>,
    pub(crate) name: Option<Name>,
    pub(crate) listeners: Vec<Listener<K, V>>,
    pub(crate) meta: Vec<(String, MetaValue)>,
}

impl<K, V> Clone for RegistryOptions<K, V> {
    fn clone(&self) -> Self {
        RegistryOptions {
            keys: self.keys,
            partitions: self.partitions,
            name: self.name.clone(),
            listeners: self.listeners.clone(),
            meta: self.meta.clone(),
        }
    }
}

impl<K, V> fmt::Debug for RegistryOptions<K, V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RegistryOptions")
            .field("keys", &self.keys)
            .field("partitions", &self.partitions)
            .field("name", &self.name)
            .field("listeners", &self.listeners.len())
            .field(
                "meta",
                &self.meta.iter().map(|(k, _)| k).collect::<Vec<_>>(),
            )
            .finish()
    }
}

impl<K, V> RegistryOptions<K, V> {
    /// A registry of `keys`, unnamed, default partitions, no listeners.
    pub fn new(keys: Keys) -> Self {
        RegistryOptions {
            keys,
            partitions: None,
            name: None,
            listeners: Vec::new(),
            meta: Vec::new(),
        }
    }

    /// Lock stripes of the key table (rounded up to a power of two; the
    /// default is 64). Elixir's `partitions:` counts partition processes;
    /// here writes go straight to the stripes, so this only spreads
    /// contention.
    pub fn partitions(mut self, n: usize) -> Self {
        self.partitions = Some(n.max(1));
        self
    }

    /// Names the registry in its runtime, so that
    /// [`Registry::whereis`](super::Registry::whereis) finds it.
    pub fn name(mut self, name: impl Into<Name>) -> Self {
        self.name = Some(name.into());
        self
    }

    /// Sends each [`RegistryEvent`] to the process registered under
    /// `name` (Elixir's `listeners:`), if one is; a listener that is gone
    /// or takes other messages is skipped.
    pub fn listener(mut self, name: impl Into<Name>) -> Self {
        self.listeners.push(Listener::Name(name.into()));
        self
    }

    /// Calls `f` with each [`RegistryEvent`], in the process that
    /// registered or unregistered (to forward it to a GenServer, say). A
    /// panic in `f` is logged and ignored.
    pub fn listener_fn(mut self, f: impl Fn(&RegistryEvent<K, V>) + Send + Sync + 'static) -> Self {
        self.listeners.push(Listener::Fn(Arc::new(f)));
        self
    }

    /// An initial meta entry (Elixir's `meta:`).
    pub fn meta<T: Send + Sync + 'static>(mut self, key: impl Into<String>, value: T) -> Self {
        self.meta.push((key.into(), Arc::new(value)));
        self
    }
}
