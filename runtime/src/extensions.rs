//! Per-runtime singletons for libraries built on the runtime.
//!
//! A library that keeps runtime-wide state — named tables, named key
//! registries — needs one instance per runtime, not one per program: two
//! runtimes in one program (or two tests running side by side) must not see
//! each other's names. [`Handle::extension`](crate::Handle::extension) gives
//! each runtime one value of each type, created on first use and dropped
//! with the runtime.

use std::any::{Any, TypeId};
use std::collections::HashMap;
use std::sync::Arc;

use parking_lot::Mutex;

/// The type map behind `Handle::extension`.
#[derive(Default)]
pub(crate) struct Extensions {
    map: Mutex<HashMap<TypeId, Arc<dyn Any + Send + Sync>>>,
}

impl Extensions {
    pub(crate) fn get<T: Default + Send + Sync + 'static>(&self) -> Arc<T> {
        let mut map = self.map.lock();
        let any = map
            .entry(TypeId::of::<T>())
            .or_insert_with(|| Arc::new(T::default()))
            .clone();
        drop(map);
        match any.downcast::<T>() {
            Ok(value) => value,
            Err(_) => unreachable!("the entry of a type holds that type"),
        }
    }
}
