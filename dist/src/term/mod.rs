//! Terms: the values nodes exchange, and their external format.

mod atom;
mod convert;
mod decode;
mod encode;
mod error;
mod ident;
mod tags;
mod value;

pub use atom::{Atom, MAX_ATOM_CHARS};
pub use convert::{FromTerm, Inbound, ToTerm};
#[allow(unused_imports)]
pub(crate) use decode::decode_versioned;
pub use decode::DecodeLimits;
#[allow(unused_imports)]
pub(crate) use encode::{atom as encode_atom, encode, pid as encode_pid};
pub use error::{BadMessage, DecodeError, EncodeError, FromTermError};
pub use ident::{RemotePid, RemotePort, RemoteRef, MAX_REF_WORDS};
pub use value::{BigInt, BitBinary, Fun, Term};
