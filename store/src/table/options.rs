//! How a table is made: kind, access, name, heir.

use std::fmt;
use std::sync::Arc;

use rotp_runtime::{Name, Pid};

/// What a table holds per key (ETS's table types).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Kind {
    /// One object per key (the default).
    #[default]
    Set,
    /// One object per key, kept in key order: `first`, `next`, `last` and
    /// `prev` walk it.
    OrderedSet,
    /// Many objects per key, but no two equal objects under one key.
    Bag,
    /// Many objects per key, equal ones included.
    DuplicateBag,
}

/// Who may read and write a table (ETS's access rights). Checked against
/// the calling process on every operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Access {
    /// The owner writes; any process or thread reads (the default).
    #[default]
    Protected,
    /// Anyone reads and writes.
    Public,
    /// Only the owner reads and writes.
    Private,
}

/// What an heir is told when a table passes to it; see
/// [`TableOptions::heir_notify`].
pub type TransferFn<K, V> = Arc<dyn Fn(Transfer<K, V>) + Send + Sync>;

/// A table changing owner: sent to the new owner's notify function when its
/// previous owner exited (`'ETS-TRANSFER'`) or gave it away.
pub struct Transfer<K, V> {
    /// The table, now owned by the receiver.
    pub table: super::Table<K, V>,
    /// The previous owner.
    pub from: Pid,
}

impl<K, V> fmt::Debug for Transfer<K, V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Transfer {{ from: {} }}", self.from)
    }
}

/// Options for [`Table::new`](super::Table::new).
///
/// ```
/// use rotp_store::{Access, Kind, TableOptions};
/// let opts = TableOptions::<String, u64>::new()
///     .kind(Kind::OrderedSet)
///     .access(Access::Public)
///     .name("prices");
/// ```
pub struct TableOptions<K, V> {
    pub(crate) kind: Kind,
    pub(crate) access: Access,
    pub(crate) name: Option<Name>,
    pub(crate) owner: Option<Pid>,
    pub(crate) heir: Option<(Pid, Option<TransferFn<K, V>>)>,
    pub(crate) shards: Option<usize>,
    pub(crate) read_concurrency: bool,
}

impl<K, V> Default for TableOptions<K, V> {
    fn default() -> Self {
        TableOptions {
            kind: Kind::Set,
            access: Access::Protected,
            name: None,
            owner: None,
            heir: None,
            shards: None,
            read_concurrency: false,
        }
    }
}

impl<K, V> Clone for TableOptions<K, V> {
    fn clone(&self) -> Self {
        TableOptions {
            kind: self.kind,
            access: self.access,
            name: self.name.clone(),
            owner: self.owner,
            heir: self.heir.clone(),
            shards: self.shards,
            read_concurrency: self.read_concurrency,
        }
    }
}

impl<K, V> fmt::Debug for TableOptions<K, V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TableOptions")
            .field("kind", &self.kind)
            .field("access", &self.access)
            .field("name", &self.name)
            .field("owner", &self.owner)
            .field("heir", &self.heir.as_ref().map(|(p, _)| *p))
            .finish()
    }
}

impl<K, V> TableOptions<K, V> {
    /// A protected set, owned by the calling process, unnamed, no heir.
    pub fn new() -> Self {
        Self::default()
    }

    /// The table's kind.
    pub fn kind(mut self, kind: Kind) -> Self {
        self.kind = kind;
        self
    }

    /// Who may read and write.
    pub fn access(mut self, access: Access) -> Self {
        self.access = access;
        self
    }

    /// Names the table in its runtime, so that
    /// [`Table::whereis`](super::Table::whereis) finds it
    /// (`named_table`).
    pub fn name(mut self, name: impl Into<Name>) -> Self {
        self.name = Some(name.into());
        self
    }

    /// The owning process. By default the process that creates the table;
    /// a table made outside any process needs one.
    pub fn owner(mut self, pid: Pid) -> Self {
        self.owner = Some(pid);
        self
    }

    /// When the owner exits, `pid` inherits the table instead of it being
    /// deleted (if `pid` is alive then).
    pub fn heir(mut self, pid: Pid) -> Self {
        self.heir = Some((pid, None));
        self
    }

    /// [`heir`](Self::heir), and `notify` is called with the
    /// [`Transfer`] when the table passes to it (ETS's `'ETS-TRANSFER'`
    /// message; forward it to the heir's mailbox).
    pub fn heir_notify(
        mut self,
        pid: Pid,
        notify: impl Fn(Transfer<K, V>) + Send + Sync + 'static,
    ) -> Self {
        self.heir = Some((pid, Some(Arc::new(notify))));
        self
    }

    /// Optimises for reads from many cores at once (ETS's
    /// `read_concurrency`): each lock stripe keeps a reader indicator per
    /// group of threads on its own cache line, so readers on different
    /// cores never touch the same line; a write costs several times more.
    /// For tables read far more often than written. Hash kinds only.
    pub fn read_concurrency(mut self, on: bool) -> Self {
        self.read_concurrency = on;
        self
    }

    /// Lock stripes for the hash kinds (rounded up to a power of two). The
    /// default, 64, lets a few dozen threads read and write without
    /// meeting; more help only tables written from many threads at once.
    pub fn shards(mut self, n: usize) -> Self {
        self.shards = Some(n);
        self
    }
}
