//! Conversions between Rust values and terms.

use std::collections::{BTreeMap, HashMap};
use std::hash::{BuildHasher, Hash};
use std::sync::Arc;

use super::error::{BadMessage, FromTermError};
use super::value::{BigInt, Term};
use super::{Atom, RemotePid, RemotePort, RemoteRef};

/// A Rust value that has a term form.
///
/// The implementations for standard types follow Elixir's conventions:
///
/// | Rust | term |
/// |---|---|
/// | integers | integers (beyond 64 bits: big integers) |
/// | `f32`, `f64` | floats |
/// | `bool` | `true`, `false` |
/// | `String`, `&str` | UTF-8 binaries (Elixir strings) |
/// | `()` | `ok` |
/// | `Option<T>` | `nil` or the value |
/// | `Result<T, E>` | `{ok, T}` or `{error, E}` |
/// | `Vec<T>`, slices | proper lists |
/// | tuples (up to 8) | tuples |
/// | `HashMap`, `BTreeMap` | maps |
/// | [`Atom`], [`RemotePid`], [`RemoteRef`] | atoms, pids, references |
///
/// Derive it for your own types with `#[derive(ToTerm)]` (see the crate
/// docs for the mapping), or implement it by hand.
///
/// ```
/// use rotp_dist::{Term, ToTerm};
/// assert_eq!((true, "hi", 3u8).to_term().to_string(), "{true,<<\"hi\"/utf8>>,3}");
/// assert_eq!(Ok::<_, ()>(vec![1, 2]).to_term().to_string(), "{ok,[1,2]}");
/// ```
pub trait ToTerm {
    /// The term form of `self`.
    fn to_term(&self) -> Term;
}

/// A Rust value that can be read from a term; see [`ToTerm`] for the
/// mapping of standard types. Reading is lenient where Erlang and Elixir
/// differ: `Option` takes both `nil` and `undefined` for `None`, `String`
/// takes charlists as well as binaries, floats take integers.
///
/// ```
/// use rotp_dist::{FromTerm, Term};
/// let t = Term::tuple(vec![Term::atom("ok"), Term::Int(5)]);
/// assert_eq!(Result::<u8, String>::from_term(&t), Ok(Ok(5)));
/// assert!(u8::from_term(&Term::Int(300)).is_err());
/// ```
pub trait FromTerm: Sized {
    /// Reads a value from `term`.
    fn from_term(term: &Term) -> Result<Self, FromTermError>;
}

/// What a process that accepts messages from other nodes receives: a type
/// that can be read from a term ([`FromTerm`]), whose bad messages are
/// logged and dropped, or `Result<T, BadMessage>`, which receives them as
/// `Err` values.
///
/// ```
/// use rotp_dist::{BadMessage, Inbound, Term};
/// let bad: Result<Result<i64, BadMessage>, BadMessage> =
///     <Result<i64, BadMessage>>::inbound(Ok(Term::atom("oops")));
/// assert!(matches!(bad, Ok(Err(BadMessage::Unexpected { .. }))));
/// ```
pub trait Inbound: Sized + Send + 'static {
    /// The message for an arrival: the decoded term, or why it did not
    /// decode. `Err` means "drop it" (the node logs it).
    fn inbound(arrival: Result<Term, BadMessage>) -> Result<Self, BadMessage>;
}

impl<T: FromTerm + Send + 'static> Inbound for T {
    fn inbound(arrival: Result<Term, BadMessage>) -> Result<Self, BadMessage> {
        let term = arrival?;
        T::from_term(&term).map_err(|error| BadMessage::Unexpected { term, error })
    }
}

impl<T: FromTerm + Send + 'static> Inbound for Result<T, BadMessage> {
    fn inbound(arrival: Result<Term, BadMessage>) -> Result<Self, BadMessage> {
        Ok(match arrival {
            Ok(term) => T::from_term(&term).map_err(|error| BadMessage::Unexpected { term, error }),
            Err(bad) => Err(bad),
        })
    }
}

// --- terms and references ---------------------------------------------

impl ToTerm for Term {
    fn to_term(&self) -> Term {
        self.clone()
    }
}

impl FromTerm for Term {
    fn from_term(term: &Term) -> Result<Self, FromTermError> {
        Ok(term.clone())
    }
}

impl<T: ToTerm + ?Sized> ToTerm for &T {
    fn to_term(&self) -> Term {
        (**self).to_term()
    }
}

impl<T: ToTerm + ?Sized> ToTerm for Box<T> {
    fn to_term(&self) -> Term {
        (**self).to_term()
    }
}

impl<T: FromTerm> FromTerm for Box<T> {
    fn from_term(term: &Term) -> Result<Self, FromTermError> {
        T::from_term(term).map(Box::new)
    }
}

impl<T: ToTerm + ?Sized> ToTerm for Arc<T> {
    fn to_term(&self) -> Term {
        (**self).to_term()
    }
}

impl<T: FromTerm> FromTerm for Arc<T> {
    fn from_term(term: &Term) -> Result<Self, FromTermError> {
        T::from_term(term).map(Arc::new)
    }
}

macro_rules! direct {
    ($ty:ty, $variant:ident, $what:expr) => {
        impl ToTerm for $ty {
            fn to_term(&self) -> Term {
                Term::$variant(self.clone())
            }
        }
        impl FromTerm for $ty {
            fn from_term(term: &Term) -> Result<Self, FromTermError> {
                match term {
                    Term::$variant(v) => Ok(v.clone()),
                    other => Err(FromTermError::expected($what, other)),
                }
            }
        }
    };
}

direct!(Atom, Atom, "an atom");
direct!(RemotePid, Pid, "a pid");
direct!(RemoteRef, Ref, "a reference");
direct!(RemotePort, Port, "a port");

// --- numbers ----------------------------------------------------------

macro_rules! small_int {
    ($($ty:ty),*) => {$(
        impl ToTerm for $ty {
            fn to_term(&self) -> Term {
                Term::Int(i64::from(*self))
            }
        }
        impl FromTerm for $ty {
            fn from_term(term: &Term) -> Result<Self, FromTermError> {
                match term {
                    Term::Int(i) => <$ty>::try_from(*i).map_err(|_| {
                        FromTermError::expected(concat!("an integer that fits in ", stringify!($ty)), term)
                    }),
                    other => Err(FromTermError::expected("an integer", other)),
                }
            }
        }
    )*};
}

small_int!(i8, i16, i32, i64, u8, u16, u32);

macro_rules! wide_int {
    ($($ty:ty),*) => {$(
        impl ToTerm for $ty {
            fn to_term(&self) -> Term {
                match i64::try_from(*self) {
                    Ok(i) => Term::Int(i),
                    Err(_) => Term::BigInt(BigInt::from(*self as i128)),
                }
            }
        }
        impl FromTerm for $ty {
            fn from_term(term: &Term) -> Result<Self, FromTermError> {
                let wide: Option<i128> = match term {
                    Term::Int(i) => Some(i128::from(*i)),
                    Term::BigInt(b) => b.to_i128(),
                    other => return Err(FromTermError::expected("an integer", other)),
                };
                wide.and_then(|w| <$ty>::try_from(w).ok()).ok_or_else(|| {
                    FromTermError::expected(concat!("an integer that fits in ", stringify!($ty)), term)
                })
            }
        }
    )*};
}

wide_int!(u64, usize, isize, i128);

impl ToTerm for u128 {
    fn to_term(&self) -> Term {
        match i64::try_from(*self) {
            Ok(i) => Term::Int(i),
            Err(_) => Term::BigInt(BigInt::from(*self)),
        }
    }
}

impl FromTerm for u128 {
    fn from_term(term: &Term) -> Result<Self, FromTermError> {
        let wide = match term {
            Term::Int(i) => u128::try_from(*i).ok(),
            Term::BigInt(b) => b.to_u128(),
            other => return Err(FromTermError::expected("an integer", other)),
        };
        wide.ok_or_else(|| FromTermError::expected("an integer that fits in u128", term))
    }
}

impl ToTerm for BigInt {
    fn to_term(&self) -> Term {
        match self.to_i128().and_then(|w| i64::try_from(w).ok()) {
            Some(i) => Term::Int(i),
            None => Term::BigInt(self.clone()),
        }
    }
}

impl FromTerm for BigInt {
    fn from_term(term: &Term) -> Result<Self, FromTermError> {
        match term {
            Term::Int(i) => Ok(BigInt::from(i128::from(*i))),
            Term::BigInt(b) => Ok(b.clone()),
            other => Err(FromTermError::expected("an integer", other)),
        }
    }
}

impl ToTerm for f64 {
    fn to_term(&self) -> Term {
        Term::Float(*self)
    }
}

impl FromTerm for f64 {
    fn from_term(term: &Term) -> Result<Self, FromTermError> {
        match term {
            Term::Float(x) => Ok(*x),
            Term::Int(i) => Ok(*i as f64),
            other => Err(FromTermError::expected("a number", other)),
        }
    }
}

impl ToTerm for f32 {
    fn to_term(&self) -> Term {
        Term::Float(f64::from(*self))
    }
}

impl FromTerm for f32 {
    fn from_term(term: &Term) -> Result<Self, FromTermError> {
        f64::from_term(term).map(|x| x as f32)
    }
}

// --- atoms-valued types -------------------------------------------------

impl ToTerm for bool {
    fn to_term(&self) -> Term {
        Term::atom(if *self { "true" } else { "false" })
    }
}

impl FromTerm for bool {
    fn from_term(term: &Term) -> Result<Self, FromTermError> {
        match term {
            t if t.is_atom("true") => Ok(true),
            t if t.is_atom("false") => Ok(false),
            other => Err(FromTermError::expected("true or false", other)),
        }
    }
}

impl ToTerm for () {
    fn to_term(&self) -> Term {
        Term::atom("ok")
    }
}

impl FromTerm for () {
    fn from_term(term: &Term) -> Result<Self, FromTermError> {
        if term.is_atom("ok") {
            Ok(())
        } else {
            Err(FromTermError::expected("ok", term))
        }
    }
}

impl<T: ToTerm> ToTerm for Option<T> {
    fn to_term(&self) -> Term {
        match self {
            Some(v) => v.to_term(),
            None => Term::atom("nil"),
        }
    }
}

impl<T: FromTerm> FromTerm for Option<T> {
    fn from_term(term: &Term) -> Result<Self, FromTermError> {
        if term.is_atom("nil") || term.is_atom("undefined") {
            Ok(None)
        } else {
            T::from_term(term).map(Some)
        }
    }
}

impl<T: ToTerm, E: ToTerm> ToTerm for Result<T, E> {
    fn to_term(&self) -> Term {
        match self {
            Ok(v) => Term::tuple(vec![Term::atom("ok"), v.to_term()]),
            Err(e) => Term::tuple(vec![Term::atom("error"), e.to_term()]),
        }
    }
}

impl<T: FromTerm, E: FromTerm> FromTerm for Result<T, E> {
    /// `{ok, V}`, `{error, R}`; a bare `ok` is `Ok` of what `T` reads from
    /// `ok` (so `Result<(), E>` takes it).
    fn from_term(term: &Term) -> Result<Self, FromTermError> {
        match term {
            Term::Tuple(t) if t.len() == 2 && t[0].is_atom("ok") => {
                T::from_term(&t[1]).map(Ok).map_err(|e| e.within("{ok, _}"))
            }
            Term::Tuple(t) if t.len() == 2 && t[0].is_atom("error") => E::from_term(&t[1])
                .map(Err)
                .map_err(|e| e.within("{error, _}")),
            t if t.is_atom("ok") => T::from_term(t).map(Ok),
            other => Err(FromTermError::expected("{ok, _} or {error, _}", other)),
        }
    }
}

// --- text -------------------------------------------------------------

impl ToTerm for str {
    fn to_term(&self) -> Term {
        Term::Binary(self.as_bytes().to_vec())
    }
}

impl ToTerm for String {
    fn to_term(&self) -> Term {
        self.as_str().to_term()
    }
}

impl FromTerm for String {
    fn from_term(term: &Term) -> Result<Self, FromTermError> {
        match term {
            Term::Binary(b) => String::from_utf8(b.clone())
                .map_err(|_| FromTermError::expected("a UTF-8 binary", term)),
            Term::List(chars) => chars
                .iter()
                .map(|c| match c {
                    Term::Int(i) => u32::try_from(*i).ok().and_then(char::from_u32),
                    _ => None,
                })
                .collect::<Option<String>>()
                .ok_or_else(|| FromTermError::expected("a string", term)),
            other => Err(FromTermError::expected("a string", other)),
        }
    }
}

// --- collections ------------------------------------------------------

impl<T: ToTerm> ToTerm for [T] {
    fn to_term(&self) -> Term {
        Term::List(self.iter().map(ToTerm::to_term).collect())
    }
}

impl<T: ToTerm> ToTerm for Vec<T> {
    fn to_term(&self) -> Term {
        self.as_slice().to_term()
    }
}

impl<T: ToTerm, const N: usize> ToTerm for [T; N] {
    fn to_term(&self) -> Term {
        self.as_slice().to_term()
    }
}

impl<T: FromTerm> FromTerm for Vec<T> {
    fn from_term(term: &Term) -> Result<Self, FromTermError> {
        match term {
            Term::List(items) => items
                .iter()
                .enumerate()
                .map(|(i, t)| T::from_term(t).map_err(|e| e.within(format!("element {i}"))))
                .collect(),
            other => Err(FromTermError::expected("a list", other)),
        }
    }
}

impl<K: ToTerm, V: ToTerm, S> ToTerm for HashMap<K, V, S> {
    fn to_term(&self) -> Term {
        Term::Map(
            self.iter()
                .map(|(k, v)| (k.to_term(), v.to_term()))
                .collect(),
        )
    }
}

impl<K: FromTerm + Eq + Hash, V: FromTerm, S: BuildHasher + Default> FromTerm for HashMap<K, V, S> {
    fn from_term(term: &Term) -> Result<Self, FromTermError> {
        match term {
            Term::Map(pairs) => pairs
                .iter()
                .map(|(k, v)| Ok((K::from_term(k)?, V::from_term(v)?)))
                .collect(),
            other => Err(FromTermError::expected("a map", other)),
        }
    }
}

impl<K: ToTerm, V: ToTerm> ToTerm for BTreeMap<K, V> {
    fn to_term(&self) -> Term {
        Term::Map(
            self.iter()
                .map(|(k, v)| (k.to_term(), v.to_term()))
                .collect(),
        )
    }
}

impl<K: FromTerm + Ord, V: FromTerm> FromTerm for BTreeMap<K, V> {
    fn from_term(term: &Term) -> Result<Self, FromTermError> {
        match term {
            Term::Map(pairs) => pairs
                .iter()
                .map(|(k, v)| Ok((K::from_term(k)?, V::from_term(v)?)))
                .collect(),
            other => Err(FromTermError::expected("a map", other)),
        }
    }
}

macro_rules! tuple {
    ($n:expr; $($name:ident $idx:tt),+) => {
        impl<$($name: ToTerm),+> ToTerm for ($($name,)+) {
            fn to_term(&self) -> Term {
                Term::Tuple(vec![$(self.$idx.to_term()),+])
            }
        }
        impl<$($name: FromTerm),+> FromTerm for ($($name,)+) {
            fn from_term(term: &Term) -> Result<Self, FromTermError> {
                match term {
                    Term::Tuple(t) if t.len() == $n => Ok(($(
                        $name::from_term(&t[$idx])
                            .map_err(|e| e.within(concat!("element ", stringify!($idx))))?,
                    )+)),
                    other => Err(FromTermError::expected(concat!("a tuple of ", stringify!($n)), other)),
                }
            }
        }
    };
}

tuple!(1; A 0);
tuple!(2; A 0, B 1);
tuple!(3; A 0, B 1, C 2);
tuple!(4; A 0, B 1, C 2, D 3);
tuple!(5; A 0, B 1, C 2, D 3, E 4);
tuple!(6; A 0, B 1, C 2, D 3, E 4, F 5);
tuple!(7; A 0, B 1, C 2, D 3, E 4, F 5, G 6);
tuple!(8; A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7);

#[cfg(test)]
mod tests {
    use super::*;

    fn round<T: ToTerm + FromTerm + PartialEq + std::fmt::Debug>(v: T) {
        assert_eq!(T::from_term(&v.to_term()), Ok(v));
    }

    #[test]
    fn standard_types_round_trip() {
        round(5i8);
        round(-40_000i32);
        round(u64::MAX);
        round(i128::MIN);
        round(u128::MAX);
        round(1.5f64);
        round(true);
        round(());
        round(Some("x".to_string()));
        round(None::<i64>);
        round(Ok::<i64, String>(3));
        round(Err::<i64, String>("bad".into()));
        round(vec![(1u8, "a".to_string())]);
        round((1u8, 2u16, 3u32, 4u64, 5i8, 6i16, 7i32, 8i64));
        round(HashMap::from([("k".to_string(), vec![1u8])]));
        round(BTreeMap::from([(1u8, 2u8)]));
        round(Box::new(7u8));
    }

    #[test]
    fn lenient_reading() {
        assert_eq!(Option::<u8>::from_term(&Term::atom("undefined")), Ok(None));
        let charlist = Term::list("hé".chars().map(|c| Term::Int(c as i64)).collect());
        assert_eq!(String::from_term(&charlist), Ok("hé".to_string()));
        assert_eq!(f64::from_term(&Term::Int(2)), Ok(2.0));
        assert_eq!(Result::<(), u8>::from_term(&Term::atom("ok")), Ok(Ok(())));
    }

    #[test]
    fn errors_say_where() {
        let t = Term::list(vec![Term::tuple(vec![Term::Int(1), Term::atom("x")])]);
        let err = Vec::<(u8, u8)>::from_term(&t).unwrap_err();
        assert_eq!(
            err.to_string(),
            "in element 0, element 1: expected an integer, found x"
        );
        assert!(u8::from_term(&Term::Int(-1)).is_err());
        assert!(u64::from_term(&Term::BigInt(BigInt::from(1i128 << 64))).is_err());
    }
}
