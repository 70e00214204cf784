//! Shared state for rotp: the three ways past the one-process bottleneck.
//!
//! A GenServer serialises everything it does; that is its point, and its
//! limit. The Elixir production literature names three ways past it, and
//! this crate (with `rotp_supervisor::PartitionSupervisor`) provides them:
//!
//! | pattern | here | Elixir / Erlang |
//! |---|---|---|
//! | read-heavy data read without a message | [`Table`] | ETS |
//! | one process per entity, found by key | [`Registry`] (unique keys, [`via`](Registry::via) names) | `Registry` |
//! | publish/subscribe | [`Registry`] (duplicate keys, [`dispatch`](Registry::dispatch)) | `Registry` |
//! | write-heavy work sharded over N servers | `PartitionSupervisor` | `PartitionSupervisor` |
//!
//! Both stores are *owned by a process*: a [`Table`] by the process that
//! creates it (deleted when it exits, or passed to an heir), a [`Registry`]
//! by its own small process (started standalone or as a supervisor child).
//! Both are read from any process or plain thread directly, through
//! striped reader-writer locks, without a round trip to the owner; both
//! forget a process in that process's exit, before its links and monitors
//! hear of it, through the runtime's exit hooks
//! ([`Handle::on_exit`](rotp_runtime::Handle::on_exit)).
//!
//! ```
//! use rotp_runtime::Runtime;
//! use rotp_store::{Keys, Registry, RegistryOptions};
//! use rotp_gen_server::{Agent, ServerRef, StartOptions};
//!
//! let rt = Runtime::new().unwrap();
//! // Per-entity workers, named by id in a registry.
//! let accounts: Registry<u64, ()> = Registry::start(&rt, RegistryOptions::new(Keys::Unique)).unwrap();
//! for id in [1, 2, 3] {
//!     Agent::start(&rt, move || id * 100, StartOptions::new().name(accounts.via(id))).unwrap();
//! }
//! assert_eq!(accounts.count().unwrap(), 3);
//! let two = Agent::<u64>::named(&rt, accounts.via(2));
//! assert_eq!(two.get(|balance| *balance).unwrap(), 200);
//! ```
//!
//! # Errors, not panics
//!
//! Every operation returns a `Result`: a stopped registry or a deleted
//! table, a write refused by a table's access rights, a key held by another
//! process, a key whose `Hash` panics — each is a typed error, and none
//! leaves the store in a bad state.

#![deny(unsafe_code)]
#![warn(missing_docs)]

mod hash;
mod named;
mod registry;
#[allow(unsafe_code)] // a lock's guards hand out the value it guards
mod sharded_lock;
mod shards;
mod table;

pub use registry::{
    Keys, RegisterError, Registry, RegistryError, RegistryEvent, RegistryKey, RegistryOptions,
    RegistryValue, StartError, Via,
};
pub use table::{
    Access, Kind, Table, TableError, TableKey, TableOptions, TableValue, Transfer, TransferFn,
};
