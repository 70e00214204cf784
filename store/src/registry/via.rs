//! Naming a GenServer, Agent or supervisor by a key in a [`Registry`]:
//! Elixir's `{:via, Registry, {registry, key}}` and
//! `{:via, Registry, {registry, key, value}}` (rule 173).

use std::fmt;

use rotp_gen_server::{ViaError, ViaKey};
use rotp_runtime::Pid;

use super::{Keys, RegisterError, Registry, RegistryError, RegistryKey, RegistryValue};

/// A key in a unique [`Registry`], as a server name: pass it wherever a
/// `ServerName` goes (`StartOptions::name`, `ServerRef::named`,
/// `SupervisorOptions::name`). Starting a server under it registers the
/// server with the value; the entry goes when the server exits; a start
/// under a key that a live process holds fails with `AlreadyStarted(holder)`.
///
/// ```
/// use rotp_gen_server::{Agent, StartError, StartOptions};
/// use rotp_runtime::Runtime;
/// use rotp_store::{Keys, Registry, RegistryOptions};
///
/// let rt = Runtime::new().unwrap();
/// let accounts: Registry<u64, &str> = Registry::start(&rt, RegistryOptions::new(Keys::Unique)).unwrap();
/// let agent = Agent::start(&rt, || 100i64, StartOptions::new().name(accounts.via_value(7, "gold"))).unwrap();
/// let holder = agent.pid().unwrap();
/// assert_eq!(accounts.lookup(&7).unwrap(), [(holder, "gold")]);
/// let again = Agent::start(&rt, || 0i64, StartOptions::new().name(accounts.via(7)));
/// assert!(matches!(again, Err(StartError::AlreadyStarted(pid)) if pid == holder));
/// ```
pub struct Via<K, V> {
    registry: Registry<K, V>,
    key: K,
    value: V,
}

impl<K: Clone, V: Clone> Clone for Via<K, V> {
    fn clone(&self) -> Self {
        Via {
            registry: self.registry.clone(),
            key: self.key.clone(),
            value: self.value.clone(),
        }
    }
}

impl<K: fmt::Debug, V> fmt::Debug for Via<K, V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Via({:?})", self.key)
    }
}

impl<K: RegistryKey, V: RegistryValue> Registry<K, V> {
    /// `key` as a server name; the server registers with `V::default()`.
    /// Elixir's `{:via, Registry, {registry, key}}`: one process per key,
    /// started and reached by its key.
    ///
    /// ```
    /// use rotp_gen_server::{gen_server, start, Ctx, GenServer, Handled, Init, InitResult, ReplyTo, ServerRef, StartOptions};
    /// use rotp_store::{Keys, Registry, RegistryOptions};
    ///
    /// /// One account's balance.
    /// struct Account(i64);
    ///
    /// /// Deposit, answer the balance.
    /// struct Deposit(i64, ReplyTo<i64>);
    ///
    /// #[gen_server]
    /// impl GenServer for Account {
    ///     fn init(balance: i64, _ctx: &mut Ctx<'_, Self>) -> InitResult<Self> {
    ///         Init::ok(Account(balance))
    ///     }
    ///     fn handle_call(&mut self, Deposit(n, r): Deposit, _ctx: &mut Ctx<'_, Self>) -> Handled<Self> {
    ///         self.0 += n;
    ///         r.reply(self.0)
    ///     }
    /// }
    ///
    /// let rt = rotp_runtime::Runtime::new().unwrap();
    /// let accounts: Registry<u64, ()> = Registry::start(&rt, RegistryOptions::new(Keys::Unique)).unwrap();
    /// for id in [1, 2] {
    ///     start::<Account>(&rt, 100, StartOptions::new().name(accounts.via(id))).unwrap();
    /// }
    /// let account = ServerRef::<Account>::named(&rt, accounts.via(2));
    /// assert_eq!(account.call(|r| Deposit(50, r)).unwrap(), 150);
    /// assert_eq!(accounts.count().unwrap(), 2);
    /// ```
    pub fn via(&self, key: K) -> Via<K, V>
    where
        V: Default,
    {
        Via {
            registry: self.clone(),
            key,
            value: V::default(),
        }
    }

    /// `key` as a server name; the server registers with `value`.
    pub fn via_value(&self, key: K, value: V) -> Via<K, V> {
        Via {
            registry: self.clone(),
            key,
            value,
        }
    }

    /// The live process holding unique `key` (`whereis_name/1`).
    pub fn whereis_key(&self, key: &K) -> Option<Pid> {
        let (pid, _) = self.get(key).ok()??;
        self.inner.handle.is_alive(pid).then_some(pid)
    }
}

impl<K: RegistryKey + fmt::Debug, V: RegistryValue> ViaKey for Via<K, V> {
    fn register(&self, pid: Pid) -> Result<(), ViaError> {
        if self.registry.key_mode() == Keys::Duplicate {
            return Err(ViaError::Refused(
                RegistryError::UniqueOnly("via").to_string(),
            ));
        }
        let value = self.value.clone();
        match self.registry.register_as(pid, self.key.clone(), value) {
            Ok(()) => Ok(()),
            Err(RegisterError::AlreadyRegistered { holder }) => Err(ViaError::Taken(holder)),
            Err(e) => Err(ViaError::Refused(e.to_string())),
        }
    }

    fn unregister(&self, pid: Pid) {
        // Called from the server itself as its state is dropped; its exit
        // hook would remove the entry a moment later anyway.
        if rotp_runtime::self_pid() == Some(pid) {
            let _ = self.registry.unregister(&self.key);
        }
    }

    fn whereis(&self) -> Option<Pid> {
        self.registry.whereis_key(&self.key)
    }

    fn describe(&self) -> String {
        format!("{:?}", self.key)
    }
}
