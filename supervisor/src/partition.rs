//! [`PartitionSupervisor`]: N copies of one child, routed to by key —
//! Elixir 1.14's `PartitionSupervisor`.
//!
//! ```text
//!              PartitionSupervisor (one_for_one)
//!        ┌──────────┬─────┴────┬──────────┐
//!    partition 0  partition 1  ...   partition N-1      started from one spec
//!        ▲
//!   via(key): hash(key) mod N ──► the partition's current pid
//! ```
//!
//! Each partition's start records its pid in a slot of the supervisor's
//! routing table, so a send by key is a hash, an atomic load and a liveness
//! check — no call to the supervisor. A partition that crashes is restarted
//! on its own (one_for_one) and its slot updated by the restart.

use std::collections::HashMap;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::sync::atomic::{AtomicU64, Ordering::Acquire, Ordering::Release};
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use rotp_gen_server::{ViaError, ViaKey};
use rotp_runtime::{ExitReason, Handle, Name, Pid};

use crate::child_spec::{ChildId, ChildSpec, ChildStartError};
use crate::error::{CallError, StopError, SupervisorStartError};
use crate::flags::{Strategy, SupervisorOptions};
use crate::info::{ChildCounts, ChildInfo};
use crate::supervisor::Supervisor;

/// Options for [`PartitionSupervisor::start_link`].
///
/// ```
/// use rotp_supervisor::PartitionOptions;
/// let opts = PartitionOptions::new().partitions(8).name("counters");
/// assert_eq!(opts.get_partitions(), 8);
/// ```
#[derive(Debug, Clone)]
pub struct PartitionOptions {
    partitions: usize,
    name: Option<Name>,
    sup: SupervisorOptions,
}

impl Default for PartitionOptions {
    fn default() -> Self {
        PartitionOptions {
            partitions: std::thread::available_parallelism().map_or(1, |n| n.get()),
            name: None,
            sup: SupervisorOptions::new().strategy(Strategy::OneForOne),
        }
    }
}

impl PartitionOptions {
    /// One partition per available core (Elixir's default,
    /// `System.schedulers_online()`), unnamed, Elixir's restart intensity.
    pub fn new() -> Self {
        Self::default()
    }

    /// The number of partitions (at least one).
    pub fn partitions(mut self, n: usize) -> Self {
        self.partitions = n.max(1);
        self
    }

    /// The configured number of partitions.
    pub fn get_partitions(&self) -> usize {
        self.partitions
    }

    /// Registers the supervisor under `name`, so that
    /// [`PartitionSupervisor::whereis`] finds it.
    pub fn name(mut self, name: impl Into<Name>) -> Self {
        self.name = Some(name.into());
        self
    }

    /// Restart intensity: at most `max_restarts` in `period`.
    pub fn intensity(mut self, max_restarts: u32, period: Duration) -> Self {
        self.sup = self.sup.max_restarts(max_restarts).restart_period(period);
        self
    }
}

/// The routing table: the current pid of each partition.
struct Routes {
    slots: Box<[AtomicU64]>,
    handle: Handle,
    sup: Mutex<Option<Supervisor>>,
}

impl Routes {
    fn partition_of<K: Hash + ?Sized>(&self, key: &K) -> usize {
        partition_of(key, self.slots.len())
    }

    fn pid(&self, partition: usize) -> Option<Pid> {
        let bits = self.slots.get(partition)?.load(Acquire);
        let pid = Pid::from_bits(bits);
        (bits != 0 && self.handle.is_alive(pid)).then_some(pid)
    }
}

/// The named partition supervisors of one runtime.
#[derive(Default)]
struct Named(Mutex<HashMap<Name, Weak<Routes>>>);

/// Which of `n` partitions `key` goes to: a hash that is the same in every
/// run and on every machine (std's `DefaultHasher` with its fixed keys).
fn partition_of<K: Hash + ?Sized>(key: &K, n: usize) -> usize {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    key.hash(&mut h);
    (h.finish() % n as u64) as usize
}

/// N copies of one child spec under a one_for_one supervisor, routed to by
/// key: a sharded server in one line (Elixir's `PartitionSupervisor`).
///
/// Write-heavy state that one GenServer cannot keep up with is split over
/// N servers, each owning a part; [`via`](PartitionSupervisor::via) names
/// the partition a key belongs to (`{:via, PartitionSupervisor, {name,
/// key}}`), so a call or cast by key reaches the right one, and keeps
/// reaching it after a restart. The partition of a key is a stable hash of
/// it modulo N.
///
/// ```
/// use rotp_gen_server::{Agent, StartOptions};
/// use rotp_runtime::Runtime;
/// use rotp_supervisor::{ChildSpec, PartitionOptions, PartitionSupervisor};
///
/// let rt = Runtime::new().unwrap();
/// // Four counters, one per partition.
/// let counters = PartitionSupervisor::start_link(
///     &rt,
///     |_partition| ChildSpec::worker("counter", || {
///         let agent = Agent::start_link(&rotp_runtime::Handle::current(), || 0u64, StartOptions::new())
///             .map_err(|e| rotp_runtime::ExitReason::custom(e))?;
///         Ok(agent.pid()) // a handle by pid: always `Some`
///     }),
///     PartitionOptions::new().partitions(4),
/// )
/// .unwrap();
/// for user in 0..100u64 {
///     Agent::<u64>::named(&rt, counters.via(&user)).cast(|n| n + 1);
/// }
/// let total: u64 = (0..4)
///     .map(|i| Agent::<u64>::named(&rt, counters.via_partition(i)).get(|n| *n).unwrap())
///     .sum();
/// assert_eq!(total, 100);
/// assert_eq!(counters.count_children().unwrap().active, 4);
/// ```
#[derive(Clone)]
pub struct PartitionSupervisor {
    sup: Supervisor,
    routes: Arc<Routes>,
}

impl fmt::Debug for PartitionSupervisor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PartitionSupervisor")
            .field("pid", &self.sup.pid())
            .field("partitions", &self.routes.slots.len())
            .finish()
    }
}

impl PartitionSupervisor {
    /// Starts the supervisor and its partitions, in order, `child(i)` for
    /// partition `i` (Elixir's `with_arguments`: the spec may depend on the
    /// partition). Each partition's id is its index. Linked to the calling
    /// process, like [`Supervisor::start_link`].
    ///
    /// # Errors
    ///
    /// As [`Supervisor::start_link`]; a name taken by a running partition
    /// supervisor is [`SupervisorStartError::AlreadyStarted`].
    pub fn start_link(
        handle: &Handle,
        child: impl Fn(usize) -> ChildSpec,
        opts: PartitionOptions,
    ) -> Result<Self, SupervisorStartError> {
        let n = opts.partitions;
        let routes = Arc::new(Routes {
            slots: (0..n).map(|_| AtomicU64::new(0)).collect(),
            handle: handle.clone(),
            sup: Mutex::new(None),
        });
        let specs: Vec<ChildSpec> = (0..n)
            .map(|i| {
                let spec = child(i);
                let start = spec.start_fn().clone();
                let weak = Arc::downgrade(&routes);
                let mut routed = ChildSpec::new(i.to_string(), spec.child_type, move |_: &()| {
                    let started = start(&());
                    if let (Ok(pid), Some(routes)) = (&started, weak.upgrade()) {
                        let bits = pid.map_or(0, Pid::to_bits);
                        routes.slots[i].store(bits, Release);
                    }
                    started
                });
                routed.restart = spec.restart;
                routed.shutdown = spec.shutdown;
                routed.significant = spec.significant;
                routed
            })
            .collect();
        let mut sup_opts = opts.sup.clone();
        if let Some(name) = &opts.name {
            sup_opts = sup_opts.name(name.clone());
        }
        let sup = Supervisor::start_link(handle, specs, sup_opts)?;
        *routes.sup.lock().unwrap_or_else(|e| e.into_inner()) = Some(sup.clone());
        if let Some(name) = &opts.name {
            let named = handle.extension::<Named>();
            named
                .0
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .insert(name.clone(), Arc::downgrade(&routes));
        }
        Ok(PartitionSupervisor { sup, routes })
    }

    /// A child spec that starts a partition supervisor under another
    /// supervisor (type supervisor).
    pub fn child_spec(
        id: impl Into<ChildId>,
        child: impl Fn(usize) -> ChildSpec + Send + Sync + 'static,
        opts: PartitionOptions,
    ) -> ChildSpec {
        let child = Arc::new(child);
        ChildSpec::supervisor(id, move || {
            let child = child.clone();
            match PartitionSupervisor::start_link(
                &Handle::current(),
                move |i| child(i),
                opts.clone(),
            ) {
                Ok(p) => Ok(Some(p.pid())),
                Err(SupervisorStartError::AlreadyStarted(pid)) => {
                    Err(ChildStartError::AlreadyStarted(pid))
                }
                Err(e) => Err(ChildStartError::Failed(ExitReason::custom(e))),
            }
        })
    }

    /// The running partition supervisor registered as `name`.
    pub fn whereis(handle: &Handle, name: &str) -> Option<Self> {
        let named = handle.extension::<Named>();
        let routes = named
            .0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(name)?
            .upgrade()?;
        let sup = routes
            .sup
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()?;
        sup.is_alive()
            .then_some(PartitionSupervisor { sup, routes })
    }

    /// The number of partitions (`partitions/1`).
    pub fn partitions(&self) -> usize {
        self.routes.slots.len()
    }

    /// The partition `key` is routed to.
    pub fn partition_of<K: Hash + ?Sized>(&self, key: &K) -> usize {
        self.routes.partition_of(key)
    }

    /// The current pid of the partition `key` is routed to, if it runs.
    pub fn whereis_key<K: Hash + ?Sized>(&self, key: &K) -> Option<Pid> {
        self.routes.pid(self.partition_of(key))
    }

    /// The partition of `key` as a server name (`{:via,
    /// PartitionSupervisor, {name, key}}`): use it with
    /// `ServerRef::named`, `Agent::named`. It names the partition, whoever
    /// runs it now.
    pub fn via<K: Hash + ?Sized>(&self, key: &K) -> PartitionVia {
        self.via_partition(self.partition_of(key))
    }

    /// Partition `index` as a server name.
    ///
    /// # Panics
    ///
    /// If `index` is not below [`partitions`](Self::partitions).
    pub fn via_partition(&self, index: usize) -> PartitionVia {
        assert!(index < self.partitions(), "partition {index} out of range");
        PartitionVia {
            routes: self.routes.clone(),
            index,
        }
    }

    /// The supervisor's pid.
    pub fn pid(&self) -> Pid {
        self.sup.pid()
    }

    /// The underlying supervisor, for the rest of its API.
    pub fn supervisor(&self) -> &Supervisor {
        &self.sup
    }

    /// Every partition with its state (`which_children/1`).
    pub fn which_children(&self) -> Result<Vec<ChildInfo>, CallError> {
        self.sup.which_children()
    }

    /// Counts of partitions (`count_children/1`).
    pub fn count_children(&self) -> Result<ChildCounts, CallError> {
        self.sup.count_children()
    }

    /// Stops every partition and the supervisor.
    pub fn stop(&self, reason: ExitReason) -> Result<(), StopError> {
        self.sup.stop(reason)
    }
}

/// One partition of a [`PartitionSupervisor`] as a server name; see
/// [`PartitionSupervisor::via`]. It only routes: starting a server under
/// it is refused.
#[derive(Clone)]
pub struct PartitionVia {
    routes: Arc<Routes>,
    index: usize,
}

impl fmt::Debug for PartitionVia {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PartitionVia({})", self.index)
    }
}

impl ViaKey for PartitionVia {
    fn register(&self, _pid: Pid) -> Result<(), ViaError> {
        Err(ViaError::Refused(
            "a PartitionSupervisor routes to its partitions; it registers no names".into(),
        ))
    }

    fn unregister(&self, _pid: Pid) {}

    fn whereis(&self) -> Option<Pid> {
        self.routes.pid(self.index)
    }

    fn describe(&self) -> String {
        format!("partition {}", self.index)
    }
}
