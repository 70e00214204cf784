//! The registry's owner process: starting, stopping, naming, supervising.
//!
//! The owner handles no work — registrations and reads go straight to the
//! shared tables — it gives the registry a lifetime: the registry lives as
//! long as its process, stops when that process exits (an exit hook marks it
//! stopped, empties it and signals the registered processes), and can sit in
//! a supervision tree like any child.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::Release};
use std::sync::{Arc, OnceLock};

use parking_lot::RwLock;
use rotp_runtime::{Context, ExitReason, Handle, Process, SpawnOptions};
use rotp_supervisor::{ChildId, ChildSpec, ChildStartError};

use super::error::{RegistryError, StartError};
use super::options::{Keys, RegistryOptions};
use super::{Entries, Inner, Registry, RegistryKey, RegistryValue};
use crate::named::{Names, RegistryNames};
use crate::shards::Shards;

/// Messages of the owner process.
#[derive(Debug)]
pub(crate) enum OwnerMsg {
    /// `Registry::stop`.
    Stop,
}

struct Owner;

impl Process for Owner {
    type Message = OwnerMsg;

    fn handle(&mut self, msg: OwnerMsg, ctx: &mut Context<'_, OwnerMsg>) {
        match msg {
            OwnerMsg::Stop => ctx.exit(ExitReason::Normal),
        }
    }
}

impl<K: RegistryKey, V: RegistryValue> Registry<K, V> {
    /// Starts a registry whose process is linked to nobody (stopped by
    /// [`stop`](Registry::stop) or the runtime's shutdown).
    ///
    /// # Errors
    ///
    /// [`StartError::NameTaken`] if a running registry has the name.
    pub fn start(handle: &Handle, opts: RegistryOptions<K, V>) -> Result<Self, StartError> {
        Self::start_with(handle, opts, false)
    }

    /// Starts a registry whose process is linked to the calling process
    /// (the parent): its exit stops the registry, and the registry's crash
    /// reaches it.
    pub fn start_link(handle: &Handle, opts: RegistryOptions<K, V>) -> Result<Self, StartError> {
        Self::start_with(handle, opts, true)
    }

    fn start_with(
        handle: &Handle,
        opts: RegistryOptions<K, V>,
        link: bool,
    ) -> Result<Self, StartError> {
        let shards = opts.partitions.unwrap_or(64);
        let inner = Arc::new(Inner {
            keys: opts.keys,
            name: opts.name.clone(),
            handle: handle.clone(),
            owner: OnceLock::new(),
            stopped: AtomicBool::new(false),
            entries: match opts.keys {
                Keys::Unique => Entries::Unique(Shards::new(shards, true)),
                Keys::Duplicate => Entries::Duplicate(Shards::new(shards, true)),
            },
            by_pid: Shards::new(shards, false),
            count: AtomicUsize::new(0),
            listeners: opts.listeners,
            meta: RwLock::new(opts.meta.into_iter().collect::<HashMap<_, _>>()),
        });
        if let Some(name) = &opts.name {
            Names::<RegistryNames>::of(handle)
                .register(name, &inner)
                .map_err(|()| StartError::NameTaken(name.clone()))?;
        }
        let (addr, _) = handle.spawn_opts(Owner, &SpawnOptions::new().link(link));
        let owner = addr.pid();
        let _ = inner.owner.set(owner);
        let registry = Registry { inner };
        // The hook holds the registry: it lives as long as its process.
        let held = registry.clone();
        if handle
            .on_exit(owner, move |_, reason| held.shut(reason))
            .is_err()
        {
            // Exited before the hook went in (killed at once).
            registry.shut(&ExitReason::Killed);
        }
        Ok(registry)
    }

    /// The owner exited: stop, empty, and signal the registered processes.
    fn shut(&self, reason: &ExitReason) {
        let inner = &*self.inner;
        if inner.stopped.swap(true, Release) {
            return;
        }
        if let Some(name) = &inner.name {
            Names::<RegistryNames>::of(&inner.handle).unregister(name, inner);
        }
        let mut registered = Vec::new();
        for shard in inner.by_pid.iter() {
            registered.extend(
                shard
                    .read()
                    .iter()
                    .filter(|(_, k)| !k.is_empty())
                    .map(|(p, _)| *p),
            );
        }
        inner.by_pid.clear();
        match &inner.entries {
            Entries::Unique(s) => s.clear(),
            Entries::Duplicate(s) => s.clear(),
        }
        inner.count.store(0, Release);
        // As if each registered process were linked to the registry (rule
        // 165): the exit reaches them from the owner's pid.
        for pid in registered {
            inner.handle.send_exit(pid, reason.clone());
        }
    }

    /// The running registry named `name` in `handle`'s runtime, if it has
    /// these key and value types.
    pub fn whereis(handle: &Handle, name: &str) -> Option<Self> {
        let inner = Names::<RegistryNames>::of(handle).get::<Inner<K, V>>(name)?;
        let registry = Registry { inner };
        (!registry.is_stopped()).then_some(registry)
    }

    /// Stops the registry (its process exits `normal`) and waits for it.
    ///
    /// # Errors
    ///
    /// [`RegistryError::Stopped`] if it had stopped already.
    pub fn stop(&self) -> Result<(), RegistryError> {
        let handle = &self.inner.handle;
        let owner = self.pid();
        let addr = handle
            .addr_of::<OwnerMsg>(owner)
            .ok_or(RegistryError::Stopped)?;
        addr.send(OwnerMsg::Stop);
        handle.await_exit(&addr, None);
        Ok(())
    }

    /// A child spec that starts the registry under a supervisor (type
    /// supervisor, as Elixir's; rule 164). Give it a
    /// [name](RegistryOptions::name) so that the restarted registry can be
    /// found with [`whereis`](Registry::whereis).
    ///
    /// ```
    /// use rotp_runtime::Runtime;
    /// use rotp_store::{Keys, Registry, RegistryOptions};
    /// use rotp_supervisor::{Supervisor, SupervisorOptions};
    ///
    /// let rt = Runtime::new().unwrap();
    /// let spec = Registry::<u64, ()>::child_spec(
    ///     "registry",
    ///     RegistryOptions::new(Keys::Unique).name("workers"),
    /// );
    /// let sup = Supervisor::start_link(&rt, vec![spec], SupervisorOptions::new()).unwrap();
    /// let registry = Registry::<u64, ()>::whereis(&rt, "workers").unwrap();
    /// assert_eq!(registry.count().unwrap(), 0);
    /// sup.stop(rotp_runtime::ExitReason::Normal).unwrap();
    /// assert!(registry.is_stopped());
    /// ```
    pub fn child_spec(id: impl Into<ChildId>, opts: RegistryOptions<K, V>) -> ChildSpec {
        ChildSpec::supervisor(id, move || {
            match Registry::start_link(&Handle::current(), opts.clone()) {
                Ok(registry) => Ok(Some(registry.pid())),
                Err(e) => Err(ChildStartError::Failed(ExitReason::custom(e))),
            }
        })
    }
}
