//! [`Table`]: a concurrent table owned by a process — the ETS pattern.

mod error;
mod options;

pub use error::TableError;
pub use options::{Access, Kind, TableOptions, Transfer, TransferFn};

use std::collections::BTreeMap;
use std::fmt;
use std::hash::Hash;
use std::ops::Bound;
use std::sync::atomic::{
    AtomicBool, AtomicU64, AtomicUsize, Ordering::Acquire, Ordering::Relaxed, Ordering::Release,
};
use std::sync::Arc;

use parking_lot::{Mutex, RwLock};
use rotp_runtime::{ExitHookRef, ExitReason, Handle, Name, Pid};

use crate::hash::{hash_key, Seed};
use crate::named::{Names, TableNames};
use crate::shards::Shards;

/// What a key may be: hashed for the hash kinds, ordered for
/// [`Kind::OrderedSet`], cloned out by reads. Implemented for every type
/// that has these traits.
pub trait TableKey: Hash + Eq + Ord + Clone + Send + Sync + 'static {}
impl<T: Hash + Eq + Ord + Clone + Send + Sync + 'static> TableKey for T {}

/// What a value may be: cloned out by reads, compared by the bag kinds and
/// [`Table::delete_object`]. Implemented for every type that has these
/// traits.
pub trait TableValue: Clone + PartialEq + Send + Sync + 'static {}
impl<T: Clone + PartialEq + Send + Sync + 'static> TableValue for T {}

/// A concurrent table of `K → V` owned by a process: ETS for rotp.
///
/// The pattern it serves: one process owns the data and makes the writes
/// (so writes are ordered and validated in one place), while any process or
/// plain thread reads it directly, without a message round trip. Reads take
/// no lock that other readers wait on: the table is split into lock stripes
/// chosen by the key's hash, each a reader-writer lock, so readers on
/// different threads proceed in parallel and only a write to the same
/// stripe holds them for the length of one map operation.
///
/// - **Kinds** ([`Kind`]): set, ordered set, bag, duplicate bag.
/// - **Access** ([`Access`]): protected (owner writes, anyone reads; the
///   default), public, private. The calling process is checked on every
///   operation; a refused one is [`TableError::NotOwner`].
/// - **Lifetime**: the table is deleted when its owner exits — in the
///   owner's exit, before its links and monitors hear of it — unless an
///   [heir](TableOptions::heir) is alive to take it. Every operation on a
///   deleted table is [`TableError::Deleted`]. A `Table` value is a cheap,
///   cloneable handle; clones reach the same table.
///
/// Reads clone what they return (ETS copies too); keep values small or
/// behind an `Arc`.
///
/// ```
/// use std::time::Duration;
/// use rotp_runtime::{testing::wait_until, Runtime};
/// use rotp_store::{Table, TableError, TableOptions};
///
/// let rt = Runtime::new().unwrap();
/// // The owner: a process that makes the writes.
/// let owner = rt.spawn_fn(|(t, k, v): (Table<String, u64>, String, u64), _ctx| {
///     t.insert(k, v).unwrap()
/// });
/// let table = Table::new(&rt, TableOptions::new().owner(owner.pid())).unwrap();
/// owner.send((table.clone(), "apples".to_string(), 3));
/// // Anyone reads...
/// let apples = "apples".to_string();
/// assert!(wait_until(Duration::from_secs(5), || table.get(&apples) == Ok(Some(3))));
/// // ...but only the owner writes a protected table.
/// assert!(matches!(table.insert("pears".into(), 4), Err(TableError::NotOwner { .. })));
/// // The table goes with its owner.
/// rt.kill(owner.pid());
/// rt.await_exit(&owner, None);
/// assert_eq!(table.get(&apples), Err(TableError::Deleted));
/// ```
pub struct Table<K, V> {
    inner: Arc<Inner<K, V>>,
}

impl<K, V> Clone for Table<K, V> {
    fn clone(&self) -> Self {
        Table {
            inner: self.inner.clone(),
        }
    }
}

impl<K, V> fmt::Debug for Table<K, V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Table")
            .field("kind", &self.inner.kind)
            .field("access", &self.inner.access)
            .field("name", &self.inner.name)
            .field("owner", &Pid::from_bits(self.inner.owner.load(Relaxed)))
            .field("deleted", &self.inner.deleted.load(Relaxed))
            .finish()
    }
}

impl<K, V> PartialEq for Table<K, V> {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.inner, &other.inner)
    }
}

impl<K, V> Eq for Table<K, V> {}

enum Store<K, V> {
    Set(Shards<K, V>),
    Bag(Shards<K, Vec<V>>),
    Ordered(RwLock<BTreeMap<K, V>>),
}

struct Inner<K, V> {
    kind: Kind,
    access: Access,
    name: Option<Name>,
    handle: Handle,
    /// The owner's pid bits: read by every access check.
    owner: AtomicU64,
    deleted: AtomicBool,
    len: AtomicUsize,
    store: Store<K, V>,
    /// Ownership changes: heir and the owner's exit hook.
    control: Mutex<Control<K, V>>,
}

struct Control<K, V> {
    heir: Option<(Pid, Option<TransferFn<K, V>>)>,
    hook: Option<ExitHookRef>,
}

/// Whether an operation reads or writes, for the access check.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Op {
    Read,
    Write,
}

impl<K: TableKey, V: TableValue> Table<K, V> {
    /// Creates a table owned by the calling process (or by
    /// [`TableOptions::owner`]).
    ///
    /// # Errors
    ///
    /// [`TableError::NoOwner`] outside a process with no owner given, or if
    /// the owner is not alive; [`TableError::NameTaken`] if a live table
    /// has the name.
    pub fn new(handle: &Handle, opts: TableOptions<K, V>) -> Result<Self, TableError> {
        let owner = opts
            .owner
            .or_else(rotp_runtime::self_pid)
            .ok_or(TableError::NoOwner(Pid::ROOT))?;
        let shards = opts.shards.unwrap_or(64);
        let store = match opts.kind {
            Kind::Set => Store::Set(Shards::new(shards, opts.read_concurrency)),
            Kind::Bag | Kind::DuplicateBag => {
                Store::Bag(Shards::new(shards, opts.read_concurrency))
            }
            Kind::OrderedSet => Store::Ordered(RwLock::new(BTreeMap::new())),
        };
        let inner = Arc::new(Inner {
            kind: opts.kind,
            access: opts.access,
            name: opts.name.clone(),
            handle: handle.clone(),
            owner: AtomicU64::new(owner.to_bits()),
            deleted: AtomicBool::new(false),
            len: AtomicUsize::new(0),
            store,
            control: Mutex::new(Control {
                heir: opts.heir,
                hook: None,
            }),
        });
        if let Some(name) = &opts.name {
            Names::<TableNames>::of(handle)
                .register(name, &inner)
                .map_err(|()| TableError::NameTaken(name.clone()))?;
        }
        let table = Table { inner };
        if let Err(e) = table.watch_owner(owner) {
            table.drop_contents();
            return Err(e);
        }
        Ok(table)
    }

    /// The live table named `name` in `handle`'s runtime, if it has these
    /// key and value types.
    pub fn whereis(handle: &Handle, name: &str) -> Option<Self> {
        let inner = Names::<TableNames>::of(handle).get::<Inner<K, V>>(name)?;
        (!inner.deleted.load(Acquire)).then_some(Table { inner })
    }

    /// Installs the exit hook that deletes or hands on the table when
    /// `owner` exits.
    fn watch_owner(&self, owner: Pid) -> Result<(), TableError> {
        // The hook holds the table: like an ETS table, it lives as long as
        // its owner, whether or not anyone holds a handle.
        let inner = self.inner.clone();
        let hook = self
            .inner
            .handle
            .on_exit(owner, move |pid, reason| {
                Table { inner }.owner_exited(pid, reason)
            })
            .map_err(|_| TableError::NoOwner(owner))?;
        self.inner.control.lock().hook = Some(hook);
        Ok(())
    }

    /// The owner exited: pass the table to a live heir, or delete it.
    fn owner_exited(self, pid: Pid, _reason: &ExitReason) {
        let heir = {
            let mut control = self.inner.control.lock();
            control.hook = None;
            if Pid::from_bits(self.inner.owner.load(Acquire)) != pid {
                return; // given away meanwhile
            }
            control.heir.take()
        };
        if let Some((heir, notify)) = heir {
            if heir != pid && self.set_owner(heir).is_ok() {
                if let Some(notify) = notify {
                    let transfer = Transfer {
                        table: self.clone(),
                        from: pid,
                    };
                    if let Err(e) = rotp_runtime::catch_panic(|| notify(transfer)) {
                        rotp_runtime::Report::error(
                            rotp_runtime::ReportKind::CallbackCrash,
                            format_args!("table heir notification panicked: {e}"),
                        )
                        .reason(&e)
                        .emit();
                    }
                }
                return;
            }
        }
        self.drop_contents();
    }

    /// Makes `pid` the owner and watches it.
    fn set_owner(&self, pid: Pid) -> Result<(), TableError> {
        self.inner.owner.store(pid.to_bits(), Release);
        self.watch_owner(pid)
    }

    /// Marks the table deleted and frees its contents and name.
    fn drop_contents(&self) {
        if self.inner.deleted.swap(true, Release) {
            return;
        }
        if let Some(name) = &self.inner.name {
            Names::<TableNames>::of(&self.inner.handle).unregister(name, &*self.inner);
        }
        match &self.inner.store {
            Store::Set(s) => s.clear(),
            Store::Bag(s) => s.clear(),
            Store::Ordered(m) => {
                let old = std::mem::take(&mut *m.write());
                drop(old);
            }
        }
        self.inner.len.store(0, Relaxed);
    }

    /// Checks that the table exists and the caller may do `op`.
    #[inline]
    fn check(&self, op: Op) -> Result<(), TableError> {
        let inner = &*self.inner;
        if inner.deleted.load(Acquire) {
            return Err(TableError::Deleted);
        }
        let needs_owner = match inner.access {
            Access::Public => false,
            Access::Protected => op == Op::Write,
            Access::Private => true,
        };
        if needs_owner {
            let owner = inner.owner.load(Relaxed);
            if rotp_runtime::self_pid().map(Pid::to_bits) != Some(owner) {
                return Err(TableError::NotOwner {
                    owner: Pid::from_bits(owner),
                });
            }
        }
        Ok(())
    }

    #[inline]
    fn hash(&self, seed: &Seed, key: &K) -> Result<u64, TableError> {
        hash_key(seed, key).map_err(TableError::BadKey)
    }

    fn wrong_kind(&self, op: &'static str) -> TableError {
        TableError::WrongKind {
            op,
            kind: self.inner.kind,
        }
    }

    /// Inserts an object; on a set or ordered set it replaces the object
    /// with the same key, on a bag it is added unless an equal object is
    /// there, on a duplicate bag it is always added (`ets:insert/2`).
    pub fn insert(&self, key: K, value: V) -> Result<(), TableError> {
        self.check(Op::Write)?;
        let added = match &self.inner.store {
            Store::Set(s) => {
                let h = self.hash(&s.seed, &key)?;
                let old = s.for_hash(h).write().insert(key, value);
                let added = old.is_none();
                drop(old);
                added
            }
            Store::Bag(s) => {
                let h = self.hash(&s.seed, &key)?;
                let mut map = s.for_hash(h).write();
                let objects = map.entry(key).or_default();
                if self.inner.kind == Kind::Bag && objects.contains(&value) {
                    false
                } else {
                    objects.push(value);
                    true
                }
            }
            Store::Ordered(m) => {
                let old = m.write().insert(key, value);
                let added = old.is_none();
                drop(old);
                added
            }
        };
        if added {
            self.inner.len.fetch_add(1, Relaxed);
        }
        Ok(())
    }

    /// Inserts every object, one after another (ETS inserts a list
    /// atomically; here each object is its own write).
    pub fn insert_many(&self, objects: impl IntoIterator<Item = (K, V)>) -> Result<(), TableError> {
        for (k, v) in objects {
            self.insert(k, v)?;
        }
        Ok(())
    }

    /// Inserts the object only if no object has its key; whether it did
    /// (`ets:insert_new/2`).
    pub fn insert_new(&self, key: K, value: V) -> Result<bool, TableError> {
        self.check(Op::Write)?;
        let added = match &self.inner.store {
            Store::Set(s) => {
                let h = self.hash(&s.seed, &key)?;
                let mut map = s.for_hash(h).write();
                match map.entry(key) {
                    std::collections::hash_map::Entry::Occupied(_) => false,
                    std::collections::hash_map::Entry::Vacant(v) => {
                        v.insert(value);
                        true
                    }
                }
            }
            Store::Bag(s) => {
                let h = self.hash(&s.seed, &key)?;
                let mut map = s.for_hash(h).write();
                match map.entry(key) {
                    std::collections::hash_map::Entry::Occupied(_) => false,
                    std::collections::hash_map::Entry::Vacant(v) => {
                        v.insert(vec![value]);
                        true
                    }
                }
            }
            Store::Ordered(m) => {
                let mut map = m.write();
                match map.entry(key) {
                    std::collections::btree_map::Entry::Occupied(_) => false,
                    std::collections::btree_map::Entry::Vacant(v) => {
                        v.insert(value);
                        true
                    }
                }
            }
        };
        if added {
            self.inner.len.fetch_add(1, Relaxed);
        }
        Ok(added)
    }

    /// The object of `key` on a set or ordered set, the first one on a bag
    /// — the common read, without the `Vec` of [`lookup`](Self::lookup).
    #[inline]
    pub fn get(&self, key: &K) -> Result<Option<V>, TableError> {
        self.check(Op::Read)?;
        self.get_unchecked(key)
    }

    /// Every object of `key`: none or one on a set, any number on a bag
    /// (`ets:lookup/2`).
    pub fn lookup(&self, key: &K) -> Result<Vec<V>, TableError> {
        self.check(Op::Read)?;
        Ok(match &self.inner.store {
            Store::Bag(s) => {
                let h = self.hash(&s.seed, key)?;
                s.for_hash(h).read().get(key).cloned().unwrap_or_default()
            }
            _ => self.get_unchecked(key)?.into_iter().collect(),
        })
    }

    fn get_unchecked(&self, key: &K) -> Result<Option<V>, TableError> {
        Ok(match &self.inner.store {
            Store::Set(s) => {
                let h = self.hash(&s.seed, key)?;
                s.for_hash(h).read().get(key).cloned()
            }
            Store::Bag(s) => {
                let h = self.hash(&s.seed, key)?;
                s.for_hash(h)
                    .read()
                    .get(key)
                    .and_then(|v| v.first().cloned())
            }
            Store::Ordered(m) => m.read().get(key).cloned(),
        })
    }

    /// Whether an object has `key` (`ets:member/2`).
    pub fn member(&self, key: &K) -> Result<bool, TableError> {
        self.check(Op::Read)?;
        Ok(match &self.inner.store {
            Store::Set(s) => {
                let h = self.hash(&s.seed, key)?;
                s.for_hash(h).read().contains_key(key)
            }
            Store::Bag(s) => {
                let h = self.hash(&s.seed, key)?;
                s.for_hash(h).read().contains_key(key)
            }
            Store::Ordered(m) => m.read().contains_key(key),
        })
    }

    /// Removes every object of `key` and returns them (`ets:take/2`).
    pub fn take(&self, key: &K) -> Result<Vec<V>, TableError> {
        self.check(Op::Write)?;
        let taken: Vec<V> = match &self.inner.store {
            Store::Set(s) => {
                let h = self.hash(&s.seed, key)?;
                let v = s.for_hash(h).write().remove(key);
                v.into_iter().collect()
            }
            Store::Bag(s) => {
                let h = self.hash(&s.seed, key)?;
                let v = s.for_hash(h).write().remove(key);
                v.unwrap_or_default()
            }
            Store::Ordered(m) => {
                let v = m.write().remove(key);
                v.into_iter().collect()
            }
        };
        self.inner.len.fetch_sub(taken.len(), Relaxed);
        Ok(taken)
    }

    /// Removes every object of `key` (`ets:delete/2`).
    pub fn delete(&self, key: &K) -> Result<(), TableError> {
        self.take(key).map(drop)
    }

    /// Removes the objects equal to `(key, value)`: on a duplicate bag all
    /// of them (`ets:delete_object/2`).
    pub fn delete_object(&self, key: &K, value: &V) -> Result<(), TableError> {
        self.check(Op::Write)?;
        self.remove_object(key, value).map(drop)
    }

    /// `delete_object` without the check; how many objects went.
    fn remove_object(&self, key: &K, value: &V) -> Result<usize, TableError> {
        let removed: Vec<V> = match &self.inner.store {
            Store::Set(s) => {
                let h = self.hash(&s.seed, key)?;
                let mut map = s.for_hash(h).write();
                if map.get(key) == Some(value) {
                    map.remove(key).into_iter().collect()
                } else {
                    Vec::new()
                }
            }
            Store::Bag(s) => {
                let h = self.hash(&s.seed, key)?;
                let mut map = s.for_hash(h).write();
                let mut removed = Vec::new();
                if let Some(objects) = map.get_mut(key) {
                    let mut kept = Vec::with_capacity(objects.len());
                    for o in objects.drain(..) {
                        if o == *value {
                            removed.push(o);
                        } else {
                            kept.push(o);
                        }
                    }
                    *objects = kept;
                    if objects.is_empty() {
                        map.remove(key);
                    }
                }
                removed
            }
            Store::Ordered(m) => {
                let mut map = m.write();
                if map.get(key) == Some(value) {
                    map.remove(key).into_iter().collect()
                } else {
                    Vec::new()
                }
            }
        };
        self.inner.len.fetch_sub(removed.len(), Relaxed);
        Ok(removed.len())
    }

    /// Changes the object of `key` in place with `f`, atomically (no other
    /// write to the key comes between the read and the write); `Ok(false)`
    /// if there is no such object (`ets:update_element/3`, with a function
    /// for the positions). Sets and ordered sets only. `f` runs under the
    /// key's lock: it must not touch this table.
    pub fn update_element(&self, key: &K, f: impl FnOnce(&mut V)) -> Result<bool, TableError> {
        self.check(Op::Write)?;
        match &self.inner.store {
            Store::Set(s) => {
                let h = self.hash(&s.seed, key)?;
                Ok(s.for_hash(h).write().get_mut(key).map(f).is_some())
            }
            Store::Ordered(m) => Ok(m.write().get_mut(key).map(f).is_some()),
            Store::Bag(_) => Err(self.wrong_kind("update_element")),
        }
    }

    /// Atomically updates the object of `key` with `f`, inserting
    /// `default` first if there is none, and returns what `f` returns — the
    /// general form of [`update_counter`](Table::update_counter). Sets and
    /// ordered sets only. `f` runs under the key's lock: it must not touch
    /// this table.
    ///
    /// # Errors
    ///
    /// [`TableError::NotFound`] with no object and no default.
    pub fn update_with<R>(
        &self,
        key: K,
        default: Option<V>,
        f: impl FnOnce(&mut V) -> R,
    ) -> Result<R, TableError> {
        self.check(Op::Write)?;
        let (r, added) = match &self.inner.store {
            Store::Set(s) => {
                let h = self.hash(&s.seed, &key)?;
                let mut map = s.for_hash(h).write();
                match map.entry(key) {
                    std::collections::hash_map::Entry::Occupied(mut o) => (f(o.get_mut()), false),
                    std::collections::hash_map::Entry::Vacant(v) => match default {
                        Some(d) => (f(v.insert(d)), true),
                        None => return Err(TableError::NotFound),
                    },
                }
            }
            Store::Ordered(m) => {
                let mut map = m.write();
                match map.entry(key) {
                    std::collections::btree_map::Entry::Occupied(mut o) => (f(o.get_mut()), false),
                    std::collections::btree_map::Entry::Vacant(v) => match default {
                        Some(d) => (f(v.insert(d)), true),
                        None => return Err(TableError::NotFound),
                    },
                }
            }
            Store::Bag(_) => return Err(self.wrong_kind("update_with")),
        };
        if added {
            self.inner.len.fetch_add(1, Relaxed);
        }
        Ok(r)
    }

    /// The objects for which `f` returns `Some`, mapped (`ets:select/2`
    /// with a function for the match specification). The table is read
    /// stripe by stripe, each stripe copied out before `f` sees it, so `f`
    /// may use the table; a write made during the scan may or may not be
    /// seen, as in ETS.
    pub fn select<R>(&self, mut f: impl FnMut(&K, &V) -> Option<R>) -> Result<Vec<R>, TableError> {
        self.check(Op::Read)?;
        let mut out = Vec::new();
        self.scan(|k, v| {
            if let Some(r) = f(k, v) {
                out.push(r);
            }
        });
        Ok(out)
    }

    /// The objects matching `pred` (`ets:match_object/2` with a predicate).
    pub fn match_object(
        &self,
        mut pred: impl FnMut(&K, &V) -> bool,
    ) -> Result<Vec<(K, V)>, TableError> {
        self.select(|k, v| pred(k, v).then(|| (k.clone(), v.clone())))
    }

    /// How many objects match `pred` (`ets:select_count/2`).
    pub fn select_count(&self, mut pred: impl FnMut(&K, &V) -> bool) -> Result<usize, TableError> {
        let mut n = 0;
        self.check(Op::Read)?;
        self.scan(|k, v| n += usize::from(pred(k, v)));
        Ok(n)
    }

    /// Removes the objects matching `pred` and returns how many
    /// (`ets:select_delete/2`). `pred` runs on a copy, outside the locks;
    /// an object changed between the copy and the removal is kept.
    pub fn select_delete(&self, mut pred: impl FnMut(&K, &V) -> bool) -> Result<usize, TableError> {
        self.check(Op::Write)?;
        let doomed = self.select(|k, v| pred(k, v).then(|| (k.clone(), v.clone())))?;
        let mut removed = 0;
        for (k, v) in &doomed {
            removed += self.remove_object(k, v)?;
        }
        Ok(removed)
    }

    /// Every object, stripe by stripe (in key order for an ordered set):
    /// a copy, so the caller may use the table while it walks it.
    pub fn to_vec(&self) -> Result<Vec<(K, V)>, TableError> {
        self.select(|k, v| Some((k.clone(), v.clone())))
    }

    /// Every key (each once, also on bags).
    pub fn keys(&self) -> Result<Vec<K>, TableError> {
        self.check(Op::Read)?;
        let mut out = Vec::new();
        match &self.inner.store {
            Store::Set(s) => {
                for shard in s.iter() {
                    out.extend(shard.read().keys().cloned());
                }
            }
            Store::Bag(s) => {
                for shard in s.iter() {
                    out.extend(shard.read().keys().cloned());
                }
            }
            Store::Ordered(m) => out.extend(m.read().keys().cloned()),
        }
        Ok(out)
    }

    /// Copies each stripe, then calls `f` on its objects outside the lock.
    fn scan(&self, mut f: impl FnMut(&K, &V)) {
        match &self.inner.store {
            Store::Set(s) => {
                for shard in s.iter() {
                    let copy: Vec<(K, V)> = shard
                        .read()
                        .iter()
                        .map(|(k, v)| (k.clone(), v.clone()))
                        .collect();
                    copy.iter().for_each(|(k, v)| f(k, v));
                }
            }
            Store::Bag(s) => {
                for shard in s.iter() {
                    let copy: Vec<(K, Vec<V>)> = shard
                        .read()
                        .iter()
                        .map(|(k, v)| (k.clone(), v.clone()))
                        .collect();
                    for (k, objects) in &copy {
                        objects.iter().for_each(|v| f(k, v));
                    }
                }
            }
            Store::Ordered(m) => {
                let copy: Vec<(K, V)> = m
                    .read()
                    .iter()
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect();
                copy.iter().for_each(|(k, v)| f(k, v));
            }
        }
    }

    fn ordered(&self, op: &'static str) -> Result<&RwLock<BTreeMap<K, V>>, TableError> {
        self.check(Op::Read)?;
        match &self.inner.store {
            Store::Ordered(m) => Ok(m),
            _ => Err(self.wrong_kind(op)),
        }
    }

    /// The smallest key of an ordered set (`ets:first/1`).
    pub fn first(&self) -> Result<Option<K>, TableError> {
        Ok(self.ordered("first")?.read().keys().next().cloned())
    }

    /// The largest key of an ordered set (`ets:last/1`).
    pub fn last(&self) -> Result<Option<K>, TableError> {
        Ok(self.ordered("last")?.read().keys().next_back().cloned())
    }

    /// The smallest key above `key` in an ordered set; `key` need not be in
    /// the table (`ets:next/2`).
    pub fn next(&self, key: &K) -> Result<Option<K>, TableError> {
        let map = self.ordered("next")?.read();
        let next = map
            .range((Bound::Excluded(key), Bound::Unbounded))
            .next()
            .map(|(k, _)| k.clone());
        Ok(next)
    }

    /// The largest key below `key` in an ordered set (`ets:prev/2`).
    pub fn prev(&self, key: &K) -> Result<Option<K>, TableError> {
        let map = self.ordered("prev")?.read();
        let prev = map
            .range((Bound::Unbounded, Bound::Excluded(key)))
            .next_back()
            .map(|(k, _)| k.clone());
        Ok(prev)
    }

    /// The number of objects (`ets:info(T, size)`).
    pub fn size(&self) -> Result<usize, TableError> {
        self.check(Op::Read)?;
        Ok(self.inner.len.load(Relaxed))
    }

    /// An estimate of the bytes the table holds: objects at their inline
    /// size plus the maps' overhead (`ets:info(T, memory)`, in bytes).
    /// Heap data a key or value points to is not counted.
    pub fn memory(&self) -> Result<usize, TableError> {
        self.check(Op::Read)?;
        let object = std::mem::size_of::<K>() + std::mem::size_of::<V>();
        let (slots, stripes) = match &self.inner.store {
            Store::Set(s) => (
                s.iter().map(|m| m.read().capacity()).sum::<usize>() * (object + 1),
                s.len() * 128,
            ),
            Store::Bag(s) => (
                s.iter()
                    .map(|m| {
                        let m = m.read();
                        m.capacity() * (std::mem::size_of::<K>() + 25)
                            + m.values()
                                .map(|v| v.capacity() * std::mem::size_of::<V>())
                                .sum::<usize>()
                    })
                    .sum::<usize>(),
                s.len() * 128,
            ),
            Store::Ordered(m) => (m.read().len() * (object + 16), 64),
        };
        Ok(std::mem::size_of::<Inner<K, V>>() + slots + stripes)
    }

    /// The table's kind.
    pub fn kind(&self) -> Kind {
        self.inner.kind
    }

    /// The table's access.
    pub fn access(&self) -> Access {
        self.inner.access
    }

    /// The table's name, if named.
    pub fn name(&self) -> Option<&Name> {
        self.inner.name.as_ref()
    }

    /// The owning process.
    pub fn owner(&self) -> Pid {
        Pid::from_bits(self.inner.owner.load(Acquire))
    }

    /// Whether the table has been deleted.
    pub fn is_deleted(&self) -> bool {
        self.inner.deleted.load(Acquire)
    }

    /// Deletes the table now (`ets:delete/1`); the owner only (any process
    /// for a public table). Deleting twice is [`TableError::Deleted`].
    pub fn delete_table(&self) -> Result<(), TableError> {
        self.check(Op::Write)?;
        let (hook, owner) = {
            let mut control = self.inner.control.lock();
            (control.hook.take(), self.owner())
        };
        if let Some(hook) = hook {
            self.inner.handle.cancel_exit_hook(owner, hook);
        }
        self.drop_contents();
        Ok(())
    }

    /// Makes `pid` the owner (`ets:give_away/3`); called by the owner. The
    /// heir setting stays. `notify`, if given, receives the [`Transfer`].
    ///
    /// # Errors
    ///
    /// [`TableError::NotOwner`] if the caller is not the owner;
    /// [`TableError::NoOwner`] if `pid` is not alive (the table stays with
    /// the caller).
    pub fn give_away(
        &self,
        pid: Pid,
        notify: Option<&dyn Fn(Transfer<K, V>)>,
    ) -> Result<(), TableError> {
        if self.inner.deleted.load(Acquire) {
            return Err(TableError::Deleted);
        }
        let owner = self.owner();
        if rotp_runtime::self_pid() != Some(owner) {
            return Err(TableError::NotOwner { owner });
        }
        if !self.inner.handle.is_alive(pid) {
            return Err(TableError::NoOwner(pid));
        }
        let old_hook = self.inner.control.lock().hook.take();
        if let Some(hook) = old_hook {
            self.inner.handle.cancel_exit_hook(owner, hook);
        }
        if let Err(e) = self.set_owner(pid) {
            // It died just now: the table stays with the caller.
            self.inner.owner.store(owner.to_bits(), Release);
            self.watch_owner(owner)?;
            return Err(e);
        }
        if let Some(notify) = notify {
            notify(Transfer {
                table: self.clone(),
                from: owner,
            });
        }
        Ok(())
    }
}

impl<K: TableKey> Table<K, i64> {
    /// Adds `incr` to the counter of `key` and returns the new value,
    /// atomically; with no object, `default` is inserted first
    /// (`ets:update_counter/4`). Sets and ordered sets only.
    ///
    /// ```
    /// use rotp_runtime::{Handle, Runtime};
    /// use rotp_store::{Access, Table, TableOptions};
    ///
    /// let rt = Runtime::new().unwrap();
    /// let owner = rt.spawn_fn(|(): (), _ctx| {});
    /// let hits: Table<&str, i64> = Table::new(
    ///     &rt,
    ///     TableOptions::new().access(Access::Public).owner(owner.pid()),
    /// )
    /// .unwrap();
    /// assert_eq!(hits.update_counter("home", 1, Some(0)).unwrap(), 1);
    /// assert_eq!(hits.update_counter("home", 5, Some(0)).unwrap(), 6);
    /// assert!(hits.update_counter("away", 1, None).is_err());
    /// ```
    pub fn update_counter(
        &self,
        key: K,
        incr: i64,
        default: Option<i64>,
    ) -> Result<i64, TableError> {
        self.update_with(key, default, |n| {
            *n = n.wrapping_add(incr);
            *n
        })
    }
}
