//! Erlang distribution for rotp: a runtime joins an Erlang/Elixir cluster
//! as a node.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod term;

pub use term::{
    Atom, BadMessage, BigInt, BitBinary, DecodeError, DecodeLimits, EncodeError, FromTerm,
    FromTermError, Fun, Inbound, RemotePid, RemotePort, RemoteRef, Term, ToTerm, MAX_ATOM_CHARS,
    MAX_REF_WORDS,
};
