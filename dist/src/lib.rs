//! Erlang distribution for rotp: a runtime joins an Erlang/Elixir cluster
//! as a node.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod call;
mod conn;
mod control;
mod dest;
mod epmd;
mod error;
mod flags;
mod gen;
mod handshake;
mod kernel;
mod md5;
mod name;
mod node;
mod proxy;
mod random;
mod reason;
mod relations;
mod router;
mod send;
mod sink;
mod term;
pub mod testing;
mod watch;

pub use dest::Dest;
pub use error::{CallError, ConnectError, SendError, StartError};
pub use gen::{GenFrom, GenMessage};
pub use node::{Node, NodeBuilder};
pub use reason::{exit_reason_from_term, reason_to_term};
pub use rotp_dist_derive::{FromTerm, ToTerm};
pub use term::{
    Atom, BadMessage, BigInt, BitBinary, DecodeError, DecodeLimits, EncodeError, FromTerm,
    FromTermError, Fun, Inbound, RemotePid, RemotePort, RemoteRef, Term, ToTerm, MAX_ATOM_CHARS,
    MAX_REF_WORDS,
};
pub use watch::{NodeDownReason, NodeEvent, NodesMonitor};
