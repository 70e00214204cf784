//! Names for tables and registries, one namespace of each per runtime
//! (ETS's `named_table`, a Registry's `name:`).
//!
//! The map lives in the runtime (`Handle::extension`) and holds weak
//! references, so a name never keeps a deleted table or a stopped
//! registry's memory alive, and two runtimes never see each other's names.

use std::any::Any;
use std::collections::HashMap;
use std::sync::{Arc, Weak};

use parking_lot::Mutex;
use rotp_runtime::{Handle, Name};

/// The names of one kind of store in one runtime; `Kind` only separates
/// the namespaces.
pub(crate) struct Names<Kind> {
    map: Mutex<HashMap<Name, Weak<dyn Any + Send + Sync>>>,
    _kind: std::marker::PhantomData<fn(Kind)>,
}

impl<Kind> Default for Names<Kind> {
    fn default() -> Self {
        Names {
            map: Mutex::new(HashMap::new()),
            _kind: std::marker::PhantomData,
        }
    }
}

/// Tables' namespace.
pub(crate) enum TableNames {}
/// Registries' namespace.
pub(crate) enum RegistryNames {}

impl<Kind: 'static> Names<Kind> {
    pub(crate) fn of(handle: &Handle) -> Arc<Self> {
        handle.extension::<Self>()
    }

    /// Binds `name` to `store` unless a live store holds it.
    pub(crate) fn register<T: Any + Send + Sync>(
        &self,
        name: &Name,
        store: &Arc<T>,
    ) -> Result<(), ()> {
        let mut map = self.map.lock();
        if map.get(name).is_some_and(|w| w.strong_count() > 0) {
            return Err(());
        }
        let weak: Weak<T> = Arc::downgrade(store);
        map.insert(name.clone(), weak);
        Ok(())
    }

    /// Removes `name` if it is bound to `store`.
    pub(crate) fn unregister<T: Any + Send + Sync>(&self, name: &Name, store: &T) {
        let mut map = self.map.lock();
        let held = map.get(name).and_then(Weak::upgrade);
        let ours = match &held {
            Some(any) => std::ptr::eq(
                Arc::as_ptr(any) as *const u8,
                store as *const T as *const u8,
            ),
            None => true,
        };
        if ours {
            map.remove(name);
        }
        drop(map);
        drop(held);
    }

    /// The live store named `name`, if it has type `T`.
    pub(crate) fn get<T: Any + Send + Sync>(&self, name: &str) -> Option<Arc<T>> {
        let any = self.map.lock().get(name)?.upgrade()?;
        any.downcast::<T>().ok()
    }
}
