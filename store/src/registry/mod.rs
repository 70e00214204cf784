//! [`Registry`]: a process-owned key registry, Elixir's `Registry`.

mod error;
mod options;
mod owner;
mod via;

pub use error::{RegisterError, RegistryError, StartError};
pub use options::{Keys, RegistryEvent, RegistryOptions};
pub use via::Via;

use std::any::Any;
use std::collections::hash_map::Entry;
use std::collections::HashMap;
use std::fmt;
use std::hash::Hash;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::Acquire, Ordering::Relaxed};
use std::sync::{Arc, OnceLock};

use parking_lot::RwLock;
use rotp_runtime::{Handle, Name, Pid};

use crate::hash::hash_key;
use crate::shards::Shards;
use options::{Listener, MetaValue};

/// What a key may be. Implemented for every type with these traits.
pub trait RegistryKey: Hash + Eq + Clone + Send + Sync + 'static {}
impl<T: Hash + Eq + Clone + Send + Sync + 'static> RegistryKey for T {}

/// What a value may be. Implemented for every type with these traits.
pub trait RegistryValue: Clone + Send + Sync + 'static {}
impl<T: Clone + Send + Sync + 'static> RegistryValue for T {}

/// A key → process registry owned by a process: Elixir's `Registry`.
///
/// Processes register *themselves* under keys, each entry with a value;
/// anyone — any process, any plain thread — reads the registry directly,
/// without a message to its owner. Entries go away when their process
/// exits, in that process's exit, before its links and monitors hear of it
/// (as its local name does), so whoever reacts to the exit finds the keys
/// free.
///
/// - [`Keys::Unique`]: one process per key — per-entity workers found by
///   id ([`via`](Registry::via) names a GenServer by key);
/// - [`Keys::Duplicate`]: many processes per key — publish/subscribe with
///   [`dispatch`](Registry::dispatch).
///
/// The registry itself is a process (started standalone with
/// [`start`](Registry::start) / [`start_link`](Registry::start_link), or
/// under a supervisor with [`child_spec`](Registry::child_spec)). When it
/// stops, every operation fails with [`RegistryError::Stopped`], and its
/// registered processes get an exit signal with its reason, as if linked to
/// it (rule 165): a registry's crash takes down what registered in it
/// unless they trap exits.
///
/// A `Registry` is a cheap cloneable handle on one incarnation; after a
/// supervisor restarts a named registry, [`whereis`](Registry::whereis)
/// finds the new one.
///
/// ```
/// use rotp_runtime::{Handle, Runtime};
/// use rotp_store::{Keys, Registry, RegistryOptions};
///
/// let rt = Runtime::new().unwrap();
/// let registry: Registry<String, u32> =
///     Registry::start(&rt, RegistryOptions::new(Keys::Unique)).unwrap();
///
/// // A process registers itself...
/// let reg = registry.clone();
/// let (tx, rx) = std::sync::mpsc::channel();
/// let worker = rt.spawn_fn(move |id: String, _ctx| {
///     tx.send(reg.register(id, 7)).unwrap();
/// });
/// worker.send("user:42".to_string());
/// rx.recv().unwrap().unwrap();
///
/// // ...anyone looks it up...
/// assert_eq!(registry.lookup(&"user:42".to_string()).unwrap(), [(worker.pid(), 7)]);
///
/// // ...and the entry goes with the process.
/// rt.kill(worker.pid());
/// rt.await_exit(&worker, None);
/// assert!(registry.lookup(&"user:42".to_string()).unwrap().is_empty());
/// ```
pub struct Registry<K, V> {
    inner: Arc<Inner<K, V>>,
}

impl<K, V> Clone for Registry<K, V> {
    fn clone(&self) -> Self {
        Registry {
            inner: self.inner.clone(),
        }
    }
}

impl<K, V> PartialEq for Registry<K, V> {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.inner, &other.inner)
    }
}

impl<K, V> Eq for Registry<K, V> {}

impl<K, V> fmt::Debug for Registry<K, V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Registry")
            .field("keys", &self.inner.keys)
            .field("name", &self.inner.name)
            .field("owner", &self.inner.owner.get())
            .field("count", &self.inner.count.load(Relaxed))
            .field("stopped", &self.inner.stopped.load(Relaxed))
            .finish()
    }
}

enum Entries<K, V> {
    Unique(Shards<K, (Pid, V)>),
    Duplicate(Shards<K, Vec<(Pid, V)>>),
}

pub(crate) struct Inner<K, V> {
    keys: Keys,
    name: Option<Name>,
    handle: Handle,
    owner: OnceLock<Pid>,
    stopped: AtomicBool,
    entries: Entries<K, V>,
    /// The keys each process holds (a key once per entry), and whether the
    /// process's exit hook is installed: every process here has one.
    by_pid: Shards<Pid, Vec<K>>,
    count: AtomicUsize,
    listeners: Vec<Listener<K, V>>,
    meta: RwLock<HashMap<String, MetaValue>>,
}

impl<K: RegistryKey, V: RegistryValue> Registry<K, V> {
    fn check(&self) -> Result<&Inner<K, V>, RegistryError> {
        if self.inner.stopped.load(Acquire) {
            Err(RegistryError::Stopped)
        } else {
            Ok(&self.inner)
        }
    }

    fn hash_of(&self, key: &K) -> Result<u64, RegistryError> {
        let seed = match &self.inner.entries {
            Entries::Unique(s) => &s.seed,
            Entries::Duplicate(s) => &s.seed,
        };
        hash_key(seed, key).map_err(RegistryError::BadKey)
    }

    fn pid_shard(
        &self,
        pid: Pid,
    ) -> &crate::shards::Stripe<HashMap<Pid, Vec<K>, crate::hash::Seed>> {
        let by_pid = &self.inner.by_pid;
        by_pid.for_hash(std::hash::BuildHasher::hash_one(&by_pid.seed, pid))
    }

    /// Registers the calling process under `key` with `value` (rules
    /// 165-167). On a unique registry a key held by a live process is
    /// refused, naming the holder; on a duplicate one every call adds an
    /// entry. Listeners hear of it.
    ///
    /// # Errors
    ///
    /// [`RegisterError::AlreadyRegistered`]; [`RegistryError::NotAProcess`]
    /// outside a process; [`RegistryError::Stopped`];
    /// [`RegistryError::BadKey`].
    pub fn register(&self, key: K, value: V) -> Result<(), RegisterError> {
        let pid = rotp_runtime::self_pid().ok_or(RegistryError::NotAProcess)?;
        self.register_as(pid, key, value)
    }

    /// Registers `pid` (which need not be the caller): the via path, which
    /// registers a server from its own start.
    pub(crate) fn register_as(&self, pid: Pid, key: K, value: V) -> Result<(), RegisterError> {
        let inner = self.check()?;
        let h = self.hash_of(&key)?;
        let event = (!inner.listeners.is_empty()).then(|| RegistryEvent::Register {
            key: key.clone(),
            pid,
            value: value.clone(),
        });
        {
            // Lock order: the process's stripe, then the key's.
            let mut pids = self.pid_shard(pid).write();
            let keys = match pids.entry(pid) {
                Entry::Occupied(o) => o.into_mut(),
                Entry::Vacant(v) => {
                    // First key of this process: its exit will clean up.
                    let weak = Arc::downgrade(&self.inner);
                    inner
                        .handle
                        .on_exit(pid, move |pid, _| {
                            if let Some(inner) = weak.upgrade() {
                                Registry { inner }.forget(pid);
                            }
                        })
                        .map_err(|_| RegisterError::NoProc(pid))?;
                    v.insert(Vec::new())
                }
            };
            match &inner.entries {
                Entries::Unique(s) => {
                    let mut map = s.for_hash(h).write();
                    match map.entry(key.clone()) {
                        Entry::Occupied(mut o) => {
                            let holder = o.get().0;
                            // A holder whose exit is under way is gone
                            // already: its clean-up checks the pid before it
                            // removes anything (rule 166).
                            if holder == pid || inner.handle.is_alive(holder) {
                                return Err(RegisterError::AlreadyRegistered { holder });
                            }
                            let old = o.insert((pid, value));
                            drop(map);
                            drop(old);
                        }
                        Entry::Vacant(v) => {
                            v.insert((pid, value));
                            inner.count.fetch_add(1, Relaxed);
                        }
                    }
                }
                Entries::Duplicate(s) => {
                    s.for_hash(h)
                        .write()
                        .entry(key.clone())
                        .or_default()
                        .push((pid, value));
                    inner.count.fetch_add(1, Relaxed);
                }
            }
            keys.push(key);
        }
        if let Some(event) = event {
            self.notify(&event);
        }
        Ok(())
    }

    /// Tells the listeners; they cannot break the registry.
    fn notify(&self, event: &RegistryEvent<K, V>) {
        for listener in &self.inner.listeners {
            match listener {
                Listener::Name(name) => {
                    let _ = self.inner.handle.send_named(name.as_str(), event.clone());
                }
                Listener::Fn(f) => {
                    if let Err(e) = rotp_runtime::catch_panic(|| f(event)) {
                        rotp_runtime::Report::error(
                            rotp_runtime::ReportKind::CallbackCrash,
                            format_args!("registry listener panicked: {e}"),
                        )
                        .reason(&e)
                        .emit();
                    }
                }
            }
        }
    }

    /// Removes every entry of the calling process under `key` (rule 170).
    /// `Ok` also when there was none; listeners hear of it when there was.
    pub fn unregister(&self, key: &K) -> Result<(), RegistryError> {
        self.unregister_where(key, |_| true).map(drop)
    }

    /// Removes the calling process's entries under `key` whose value
    /// matches `pred` (`unregister_match/4`, with a predicate for the
    /// pattern); how many went.
    pub fn unregister_match(
        &self,
        key: &K,
        mut pred: impl FnMut(&V) -> bool,
    ) -> Result<usize, RegistryError> {
        self.unregister_where(key, &mut pred)
    }

    fn unregister_where(
        &self,
        key: &K,
        mut pred: impl FnMut(&V) -> bool,
    ) -> Result<usize, RegistryError> {
        let pid = rotp_runtime::self_pid().ok_or(RegistryError::NotAProcess)?;
        let inner = self.check()?;
        let h = self.hash_of(key)?;
        let mut removed = Vec::new();
        {
            let mut pids = self.pid_shard(pid).write();
            let Some(keys) = pids.get_mut(&pid) else {
                return Ok(0);
            };
            if !keys.contains(key) {
                return Ok(0);
            }
            match &inner.entries {
                Entries::Unique(s) => {
                    let mut map = s.for_hash(h).write();
                    if map.get(key).is_some_and(|(p, v)| *p == pid && pred(v)) {
                        removed.extend(map.remove(key));
                    }
                }
                Entries::Duplicate(s) => {
                    let mut map = s.for_hash(h).write();
                    if let Some(list) = map.get_mut(key) {
                        let mut kept = Vec::with_capacity(list.len());
                        for e in list.drain(..) {
                            if e.0 == pid && pred(&e.1) {
                                removed.push(e);
                            } else {
                                kept.push(e);
                            }
                        }
                        *list = kept;
                        if list.is_empty() {
                            map.remove(key);
                        }
                    }
                }
            }
            for _ in 0..removed.len() {
                if let Some(at) = keys.iter().position(|k| k == key) {
                    keys.swap_remove(at);
                }
            }
        }
        let n = removed.len();
        inner.count.fetch_sub(n, Relaxed);
        drop(removed);
        if n > 0 && !inner.listeners.is_empty() {
            self.notify(&RegistryEvent::Unregister {
                key: key.clone(),
                pid,
            });
        }
        Ok(n)
    }

    /// Forgets every entry of `pid`: its exit hook. Listeners are not told
    /// (rule 174).
    fn forget(&self, pid: Pid) {
        let Some(keys) = self.pid_shard(pid).write().remove(&pid) else {
            return;
        };
        let mut removed = 0;
        for key in &keys {
            // The key hashed once already, when it was registered.
            let Ok(h) = self.hash_of(key) else { continue };
            match &self.inner.entries {
                Entries::Unique(s) => {
                    let mut map = s.for_hash(h).write();
                    if map.get(key).is_some_and(|(p, _)| *p == pid) {
                        let old = map.remove(key);
                        drop(map);
                        drop(old);
                        removed += 1;
                    }
                }
                Entries::Duplicate(s) => {
                    let mut map = s.for_hash(h).write();
                    if let Some(list) = map.get_mut(key) {
                        let before = list.len();
                        list.retain(|(p, _)| *p != pid);
                        removed += before - list.len();
                        if list.is_empty() {
                            map.remove(key);
                        }
                    }
                }
            }
        }
        self.inner.count.fetch_sub(removed, Relaxed);
    }

    /// Replaces the value of the calling process's unique `key` with
    /// `f(old)`; returns `(new, old)` (`update_value/3`, rule 176).
    ///
    /// # Errors
    ///
    /// [`RegistryError::NotRegistered`] if the caller does not hold the
    /// key; [`RegistryError::UniqueOnly`] on a duplicate registry.
    pub fn update_value(&self, key: &K, f: impl FnOnce(&V) -> V) -> Result<(V, V), RegistryError> {
        let pid = rotp_runtime::self_pid().ok_or(RegistryError::NotAProcess)?;
        let inner = self.check()?;
        let h = self.hash_of(key)?;
        let Entries::Unique(s) = &inner.entries else {
            return Err(RegistryError::UniqueOnly("update_value"));
        };
        let old = match s.for_hash(h).read().get(key) {
            Some((p, v)) if *p == pid => v.clone(),
            _ => return Err(RegistryError::NotRegistered),
        };
        // `f` is user code: it runs outside the lock. Only the holder
        // changes its own entry, so nothing came between.
        let new = f(&old);
        match s.for_hash(h).write().get_mut(key) {
            Some((p, v)) if *p == pid => *v = new.clone(),
            _ => return Err(RegistryError::NotRegistered),
        }
        Ok((new, old))
    }

    /// The entries under `key`: at most one on a unique registry (rule
    /// 171).
    pub fn lookup(&self, key: &K) -> Result<Vec<(Pid, V)>, RegistryError> {
        let inner = self.check()?;
        let h = self.hash_of(key)?;
        Ok(match &inner.entries {
            Entries::Unique(s) => s.for_hash(h).read().get(key).cloned().into_iter().collect(),
            Entries::Duplicate(s) => s.for_hash(h).read().get(key).cloned().unwrap_or_default(),
        })
    }

    /// The process holding unique `key`, and its value — [`lookup`]
    /// without the `Vec`. On a duplicate registry, the first entry.
    ///
    /// [`lookup`]: Registry::lookup
    #[inline]
    pub fn get(&self, key: &K) -> Result<Option<(Pid, V)>, RegistryError> {
        let inner = self.check()?;
        let h = self.hash_of(key)?;
        Ok(match &inner.entries {
            Entries::Unique(s) => s.for_hash(h).read().get(key).cloned(),
            Entries::Duplicate(s) => s
                .for_hash(h)
                .read()
                .get(key)
                .and_then(|l| l.first().cloned()),
        })
    }

    /// The keys `pid` holds, once per entry (`keys/2`).
    pub fn keys(&self, pid: Pid) -> Result<Vec<K>, RegistryError> {
        self.check()?;
        Ok(self
            .pid_shard(pid)
            .read()
            .get(&pid)
            .cloned()
            .unwrap_or_default())
    }

    /// The values `pid` registered under `key` (`values/3`).
    pub fn values(&self, key: &K, pid: Pid) -> Result<Vec<V>, RegistryError> {
        self.match_entries(key, |p, _| p == pid)
            .map(|l| l.into_iter().map(|(_, v)| v).collect())
    }

    /// The number of entries (`count/1`).
    pub fn count(&self) -> Result<usize, RegistryError> {
        Ok(self.check()?.count.load(Relaxed))
    }

    /// The entries under `key` that match `pred` (`match/4`, with a
    /// predicate for the pattern and guards).
    pub fn match_entries(
        &self,
        key: &K,
        mut pred: impl FnMut(Pid, &V) -> bool,
    ) -> Result<Vec<(Pid, V)>, RegistryError> {
        let mut all = self.lookup(key)?;
        all.retain(|(p, v)| pred(*p, v));
        Ok(all)
    }

    /// How many entries under `key` match `pred` (`count_match/4`).
    pub fn count_match(
        &self,
        key: &K,
        pred: impl FnMut(Pid, &V) -> bool,
    ) -> Result<usize, RegistryError> {
        self.match_entries(key, pred).map(|l| l.len())
    }

    /// Every entry for which `f` returns `Some`, mapped (`select/2`). Reads
    /// stripe by stripe, each copied out before `f` sees it, so `f` may use
    /// the registry.
    pub fn select<R>(
        &self,
        mut f: impl FnMut(&K, Pid, &V) -> Option<R>,
    ) -> Result<Vec<R>, RegistryError> {
        let inner = self.check()?;
        let mut out = Vec::new();
        match &inner.entries {
            Entries::Unique(s) => {
                for shard in s.iter() {
                    let copy: Vec<(K, (Pid, V))> = shard
                        .read()
                        .iter()
                        .map(|(k, e)| (k.clone(), e.clone()))
                        .collect();
                    out.extend(copy.iter().filter_map(|(k, (p, v))| f(k, *p, v)));
                }
            }
            Entries::Duplicate(s) => {
                for shard in s.iter() {
                    let copy: Vec<(K, Vec<(Pid, V)>)> = shard
                        .read()
                        .iter()
                        .map(|(k, e)| (k.clone(), e.clone()))
                        .collect();
                    for (k, list) in &copy {
                        out.extend(list.iter().filter_map(|(p, v)| f(k, *p, v)));
                    }
                }
            }
        }
        Ok(out)
    }

    /// How many entries match `pred` (`count_select/2`).
    pub fn count_select(
        &self,
        mut pred: impl FnMut(&K, Pid, &V) -> bool,
    ) -> Result<usize, RegistryError> {
        self.select(|k, p, v| pred(k, p, v).then_some(()))
            .map(|l| l.len())
    }

    /// Calls `f` with the entries under `key`, in the caller, if there are
    /// any (`dispatch/3`, rule 172): the publish side of publish/subscribe.
    /// `f` gets a copy: it may send, register or unregister freely.
    ///
    /// ```
    /// use rotp_runtime::Runtime;
    /// use rotp_store::{Keys, Registry, RegistryOptions};
    ///
    /// let rt = Runtime::new().unwrap();
    /// let topics: Registry<&str, ()> = Registry::start(&rt, RegistryOptions::new(Keys::Duplicate)).unwrap();
    /// let (tx, rx) = std::sync::mpsc::channel();
    /// let t = topics.clone();
    /// let subscriber = rt.spawn_fn(move |msg: String, _ctx| {
    ///     if msg == "subscribe" { t.register("news", ()).unwrap() } else { tx.send(msg).unwrap() }
    /// });
    /// subscriber.send("subscribe".to_string());
    /// rotp_runtime::testing::wait_until(std::time::Duration::from_secs(5), || topics.count().unwrap() == 1);
    /// topics
    ///     .dispatch(&"news", |subs| {
    ///         for (pid, ()) in subs {
    ///             rt.addr_of::<String>(*pid).unwrap().send("extra!".to_string());
    ///         }
    ///     })
    ///     .unwrap();
    /// assert_eq!(rx.recv().unwrap(), "extra!");
    /// ```
    pub fn dispatch(&self, key: &K, f: impl FnOnce(&[(Pid, V)])) -> Result<(), RegistryError> {
        let entries = self.lookup(key)?;
        if !entries.is_empty() {
            f(&entries);
        }
        Ok(())
    }

    /// The meta value under `key`, if there is one of type `T` (`meta/2`).
    pub fn meta<T: Clone + Send + Sync + 'static>(
        &self,
        key: &str,
    ) -> Result<Option<T>, RegistryError> {
        let inner = self.check()?;
        let value: Option<MetaValue> = inner.meta.read().get(key).cloned();
        Ok(value.and_then(|v| {
            (v as Arc<dyn Any + Send + Sync>)
                .downcast_ref::<T>()
                .cloned()
        }))
    }

    /// Sets a meta value (`put_meta/3`).
    pub fn put_meta<T: Send + Sync + 'static>(
        &self,
        key: impl Into<String>,
        value: T,
    ) -> Result<(), RegistryError> {
        let inner = self.check()?;
        let old = inner.meta.write().insert(key.into(), Arc::new(value));
        drop(old);
        Ok(())
    }

    /// Removes a meta value (`delete_meta/2`).
    pub fn delete_meta(&self, key: &str) -> Result<(), RegistryError> {
        let inner = self.check()?;
        let old = inner.meta.write().remove(key);
        drop(old);
        Ok(())
    }

    /// Whether keys are unique or duplicate.
    pub fn key_mode(&self) -> Keys {
        self.inner.keys
    }

    /// The registry's name, if named.
    pub fn name(&self) -> Option<&Name> {
        self.inner.name.as_ref()
    }

    /// The registry's owner process.
    pub fn pid(&self) -> Pid {
        self.inner.owner.get().copied().unwrap_or(Pid::ROOT)
    }

    /// Whether the registry has stopped.
    pub fn is_stopped(&self) -> bool {
        self.inner.stopped.load(Acquire)
    }
}
