//! Erlang distribution for rotp: a runtime joins an Erlang/Elixir cluster
//! as a node.

#![forbid(unsafe_code)]
#![warn(missing_docs)]
#![allow(dead_code)]

mod epmd;
mod error;
mod flags;
mod handshake;
mod md5;
mod name;
mod random;
mod term;

pub use error::{ConnectError, StartError};
pub use term::{
    Atom, BadMessage, BigInt, BitBinary, DecodeError, DecodeLimits, EncodeError, FromTerm,
    FromTermError, Fun, Inbound, RemotePid, RemotePort, RemoteRef, Term, ToTerm, MAX_ATOM_CHARS,
    MAX_REF_WORDS,
};
