//! Registered names (rules 35-37, adaptation R10).
//!
//! One name per process and one process per name. The registry's write lock
//! is taken before a process's relations lock (never the other way round),
//! and registration checks under that relations lock that the process has
//! not exited, so a name can never be left behind by a dead process. An
//! exiting process releases its name before its links and monitors hear of
//! the exit (rule 16), so whoever receives the `DOWN` can take the name at
//! once.

use std::collections::hash_map::Entry;
use std::collections::HashMap;
use std::fmt;
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::Arc;

use parking_lot::RwLock;

use crate::error::RegisterError;
use crate::pid::Pid;
use crate::table::Table;

/// A registered name. Cheap to clone; built from `&str` or `String`.
///
/// ```
/// use rotp_runtime::Name;
/// let name: Name = "logger".into();
/// assert_eq!(name.as_str(), "logger");
/// ```
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Name(Arc<str>);

impl Name {
    /// The name as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl From<&str> for Name {
    fn from(s: &str) -> Self {
        Name(s.into())
    }
}

impl From<String> for Name {
    fn from(s: String) -> Self {
        Name(s.into())
    }
}

impl From<&Name> for Name {
    fn from(n: &Name) -> Self {
        n.clone()
    }
}

impl fmt::Display for Name {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for Name {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&*self.0, f)
    }
}

impl std::borrow::Borrow<str> for Name {
    fn borrow(&self) -> &str {
        &self.0
    }
}

/// A registry that can name processes, like Erlang's `{via, Module, Term}`
/// (rule 37). Implement it to let behaviours register under your own naming
/// scheme; the runtime's own local names are one such registry
/// ([`Handle::register`](crate::Handle::register)).
pub trait ViaRegistry: Send + Sync + 'static {
    /// Binds `key` to `pid`; `Err(holder)` if the key is taken.
    fn register_name(&self, key: &str, pid: Pid) -> Result<(), Pid>;
    /// Removes `key`, if bound.
    fn unregister_name(&self, key: &str);
    /// The live process bound to `key`, if any.
    fn whereis_name(&self, key: &str) -> Option<Pid>;

    /// Sends `msg` to the process bound to `key`. Like a send to a local
    /// name, it fails when nobody holds the key (rule 14) or the holder
    /// takes another message type.
    fn send<M: Send + 'static>(
        &self,
        handle: &crate::Handle,
        key: &str,
        msg: M,
    ) -> Result<(), crate::NamedSendError<M>>
    where
        Self: Sized,
    {
        let Some(pid) = self.whereis_name(key) else {
            return Err(crate::NamedSendError::NotRegistered(key.to_owned(), msg));
        };
        match handle.addr_of::<M>(pid) {
            Some(addr) => {
                addr.send(msg);
                Ok(())
            }
            None if handle.is_alive(pid) => {
                Err(crate::NamedSendError::WrongType(key.to_owned(), msg))
            }
            // Exited after the lookup: like a send to a dead pid (rule 13).
            None => Ok(()),
        }
    }
}

#[derive(Default)]
struct Maps {
    /// Keyed with std's SipHash: names may come from outside the program.
    by_name: HashMap<Name, Pid>,
    /// Pids are the runtime's own numbers: a multiplicative hash will do,
    /// at a fraction of SipHash's cost on every register and exit.
    by_pid: HashMap<Pid, Name, BuildHasherDefault<PidHasher>>,
}

/// Fibonacci hashing of a pid's 64 bits (index and generation).
#[derive(Default)]
struct PidHasher(u64);

impl Hasher for PidHasher {
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0.rotate_left(8) ^ u64::from(b)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        }
    }

    fn write_u32(&mut self, n: u32) {
        self.0 = (self.0.rotate_left(32) ^ u64::from(n)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    }

    fn finish(&self) -> u64 {
        // The table indexes by the low bits, which a product mixes least.
        self.0 ^ (self.0 >> 32)
    }
}

/// The runtime's local name table.
#[derive(Default)]
pub(crate) struct Registry {
    maps: RwLock<Maps>,
}

impl Registry {
    pub(crate) fn register(
        &self,
        table: &Table,
        name: Name,
        pid: Pid,
    ) -> Result<(), RegisterError> {
        let mut maps = self.maps.write();
        let Maps { by_name, by_pid } = &mut *maps;
        let by_name = match by_name.entry(name) {
            Entry::Occupied(taken) => {
                return Err(RegisterError::NameTaken {
                    name: taken.key().to_string(),
                    holder: *taken.get(),
                })
            }
            Entry::Vacant(free) => free,
        };
        let by_pid = match by_pid.entry(pid) {
            Entry::Occupied(named) => {
                return Err(RegisterError::AlreadyNamed {
                    pid,
                    name: named.get().to_string(),
                })
            }
            Entry::Vacant(free) => free,
        };
        let process = table.get(pid).ok_or(RegisterError::NoProc(pid))?;
        let header = process.header();
        let mut rel = header.relations.lock();
        if rel.is_closed() || !header.state.is_alive() {
            return Err(RegisterError::NoProc(pid));
        }
        rel.set_registered(true);
        drop(rel);
        by_pid.insert(by_name.key().clone());
        by_name.insert(pid);
        Ok(())
    }

    /// Removes `name`; returns whether it was registered.
    pub(crate) fn unregister(&self, table: &Table, name: &str) -> bool {
        let mut maps = self.maps.write();
        let Some(pid) = maps.by_name.remove(name) else {
            return false;
        };
        maps.by_pid.remove(&pid);
        if let Some(process) = table.get(pid) {
            process.header().relations.lock().set_registered(false);
        }
        true
    }

    pub(crate) fn whereis(&self, name: &str) -> Option<Pid> {
        self.maps.read().by_name.get(name).copied()
    }

    pub(crate) fn name_of(&self, pid: Pid) -> Option<Name> {
        self.maps.read().by_pid.get(&pid).cloned()
    }

    /// Releases whatever name `pid` holds (on exit).
    pub(crate) fn release(&self, pid: Pid) {
        let mut maps = self.maps.write();
        if let Some(name) = maps.by_pid.remove(&pid) {
            maps.by_name.remove(&name);
        }
    }

    pub(crate) fn names(&self) -> Vec<(Name, Pid)> {
        self.maps
            .read()
            .by_name
            .iter()
            .map(|(n, p)| (n.clone(), *p))
            .collect()
    }
}
