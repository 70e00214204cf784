//! The [`Term`] value: any Erlang term, as Rust data.

use std::fmt::{self, Write as _};

use super::{Atom, RemotePid, RemotePort, RemoteRef};

/// An Erlang term.
///
/// What goes over the wire between nodes, as an ordinary Rust value:
/// build one with the constructors or convert a Rust value with
/// [`ToTerm`](crate::ToTerm); take one apart with `match` or the `as_*`
/// helpers, or convert it with [`FromTerm`](crate::FromTerm).
///
/// - The empty list `[]` is `List(vec![])`; a charlist (`"abc"` in Erlang,
///   `'abc'` in Elixir) is a list of integers.
/// - Erlang strings in Elixir's sense (`"abc"`) are binaries.
/// - Equality is exact, like `=:=`: `1` and `1.0` differ. Map pairs keep
///   the order they arrived in, and maps compare pair by pair in that
///   order.
///
/// ```
/// use rotp_dist::Term;
/// let t = Term::tuple(vec![Term::atom("add"), Term::Int(5)]);
/// assert_eq!(t.to_string(), "{add,5}");
/// assert_eq!(t.tagged("add"), Some(&[Term::Int(5)][..]));
/// let back = Term::from_bytes(&t.to_bytes().unwrap()).unwrap();
/// assert_eq!(back, t);
/// ```
#[derive(Clone, PartialEq)]
#[non_exhaustive]
pub enum Term {
    /// An atom.
    Atom(Atom),
    /// An integer that fits in 64 bits.
    Int(i64),
    /// An integer beyond 64 bits.
    BigInt(BigInt),
    /// A float.
    Float(f64),
    /// A binary (Elixir's strings are binaries).
    Binary(Vec<u8>),
    /// A bitstring whose length is not a whole number of bytes.
    BitBinary(BitBinary),
    /// A process identifier.
    Pid(RemotePid),
    /// A port identifier.
    Port(RemotePort),
    /// A reference.
    Ref(RemoteRef),
    /// A tuple.
    Tuple(Vec<Term>),
    /// A proper list (`[]` when empty).
    List(Vec<Term>),
    /// An improper list: the elements and the tail that is not a list.
    ImproperList(Vec<Term>, Box<Term>),
    /// A map, its pairs in the order they arrived.
    Map(Vec<(Term, Term)>),
    /// A fun, kept as the bytes it arrived as (rotp cannot call it).
    Fun(Fun),
}

/// An integer beyond 64 bits: a sign and a magnitude.
///
/// ```
/// use rotp_dist::BigInt;
/// let big = BigInt::from(u64::MAX as i128 + 1);
/// assert_eq!(big.to_i128(), Some(18446744073709551616));
/// assert_eq!(big.to_string(), "18446744073709551616");
/// ```
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct BigInt {
    negative: bool,
    /// Little-endian bytes, no zero bytes at the top.
    magnitude: Vec<u8>,
}

impl BigInt {
    /// An integer from its sign and little-endian magnitude.
    pub fn from_parts(negative: bool, mut magnitude_le: Vec<u8>) -> Self {
        while magnitude_le.last() == Some(&0) {
            magnitude_le.pop();
        }
        let negative = negative && !magnitude_le.is_empty();
        BigInt {
            negative,
            magnitude: magnitude_le,
        }
    }

    /// Whether it is below zero.
    pub fn is_negative(&self) -> bool {
        self.negative
    }

    /// The magnitude, little-endian, without zero bytes at the top.
    pub fn magnitude_le(&self) -> &[u8] {
        &self.magnitude
    }

    /// The value, if it fits.
    pub fn to_i128(&self) -> Option<i128> {
        if self.magnitude.len() > 16 {
            return None;
        }
        let mut bytes = [0u8; 16];
        bytes[..self.magnitude.len()].copy_from_slice(&self.magnitude);
        let m = u128::from_le_bytes(bytes);
        if self.negative {
            if m <= i128::MAX as u128 + 1 {
                Some((m as i128).wrapping_neg())
            } else {
                None
            }
        } else {
            i128::try_from(m).ok()
        }
    }

    /// The value, if it is not negative and fits.
    pub fn to_u128(&self) -> Option<u128> {
        if self.negative || self.magnitude.len() > 16 {
            return None;
        }
        let mut bytes = [0u8; 16];
        bytes[..self.magnitude.len()].copy_from_slice(&self.magnitude);
        Some(u128::from_le_bytes(bytes))
    }
}

impl From<i128> for BigInt {
    fn from(v: i128) -> Self {
        BigInt::from_parts(v < 0, v.unsigned_abs().to_le_bytes().to_vec())
    }
}

impl From<u128> for BigInt {
    fn from(v: u128) -> Self {
        BigInt::from_parts(false, v.to_le_bytes().to_vec())
    }
}

/// Magnitudes up to this many bytes print in decimal; longer ones in
/// hexadecimal (`16#...`), which costs linear time.
const DECIMAL_LIMIT: usize = 64;

impl fmt::Display for BigInt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.negative {
            f.write_str("-")?;
        }
        if self.magnitude.is_empty() {
            return f.write_str("0");
        }
        if self.magnitude.len() > DECIMAL_LIMIT {
            f.write_str("16#")?;
            let mut bytes = self.magnitude.iter().rev();
            if let Some(top) = bytes.next() {
                write!(f, "{top:X}")?;
            }
            for b in bytes {
                write!(f, "{b:02X}")?;
            }
            return Ok(());
        }
        // Repeated division by 10^9 of a base-2^32 number.
        let mut limbs: Vec<u32> = self
            .magnitude
            .chunks(4)
            .map(|c| {
                let mut w = [0u8; 4];
                w[..c.len()].copy_from_slice(c);
                u32::from_le_bytes(w)
            })
            .collect();
        let mut groups = Vec::new();
        while limbs.iter().any(|&l| l != 0) {
            let mut rem = 0u64;
            for limb in limbs.iter_mut().rev() {
                let cur = (rem << 32) | u64::from(*limb);
                *limb = (cur / 1_000_000_000) as u32;
                rem = cur % 1_000_000_000;
            }
            groups.push(rem as u32);
            while limbs.last() == Some(&0) {
                limbs.pop();
            }
        }
        let mut groups = groups.iter().rev();
        if let Some(top) = groups.next() {
            write!(f, "{top}")?;
        }
        for g in groups {
            write!(f, "{g:09}")?;
        }
        Ok(())
    }
}

impl fmt::Debug for BigInt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// A bitstring: whole bytes, the last of which holds only `last_bits`
/// significant (high) bits.
#[derive(Clone, PartialEq, Eq, Hash, Debug)]
pub struct BitBinary {
    /// The bytes; the unused low bits of the last one are zero.
    pub bytes: Vec<u8>,
    /// Significant bits in the last byte, 1 to 8.
    pub last_bits: u8,
}

/// A fun, as the bytes of its external form (tag included). rotp cannot
/// call it but passes it on unchanged.
#[derive(Clone, PartialEq, Eq, Hash, Debug)]
pub struct Fun {
    pub(crate) bytes: Vec<u8>,
}

impl Fun {
    /// The external form, starting with its tag.
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes
    }
}

impl Term {
    /// The atom `name` (panics over 255 characters; see [`Atom::new`]).
    pub fn atom(name: &str) -> Term {
        Term::Atom(Atom::new(name))
    }

    /// A tuple.
    pub fn tuple(elements: Vec<Term>) -> Term {
        Term::Tuple(elements)
    }

    /// A proper list.
    pub fn list(elements: Vec<Term>) -> Term {
        Term::List(elements)
    }

    /// The empty list, `[]`.
    pub fn nil() -> Term {
        Term::List(Vec::new())
    }

    /// A binary.
    pub fn binary(bytes: impl Into<Vec<u8>>) -> Term {
        Term::Binary(bytes.into())
    }

    /// A map from its pairs.
    pub fn map(pairs: Vec<(Term, Term)>) -> Term {
        Term::Map(pairs)
    }

    /// The atom, if this is one.
    pub fn as_atom(&self) -> Option<&Atom> {
        match self {
            Term::Atom(a) => Some(a),
            _ => None,
        }
    }

    /// Whether this is the atom `name`.
    pub fn is_atom(&self, name: &str) -> bool {
        matches!(self, Term::Atom(a) if a.as_str() == name)
    }

    /// The integer, if this is one that fits in 64 bits.
    pub fn as_int(&self) -> Option<i64> {
        match self {
            Term::Int(i) => Some(*i),
            _ => None,
        }
    }

    /// The elements, if this is a tuple.
    pub fn as_tuple(&self) -> Option<&[Term]> {
        match self {
            Term::Tuple(t) => Some(t),
            _ => None,
        }
    }

    /// The elements, if this is a proper list.
    pub fn as_list(&self) -> Option<&[Term]> {
        match self {
            Term::List(l) => Some(l),
            _ => None,
        }
    }

    /// The bytes, if this is a binary.
    pub fn as_binary(&self) -> Option<&[u8]> {
        match self {
            Term::Binary(b) => Some(b),
            _ => None,
        }
    }

    /// The text, if this is a binary holding UTF-8 (an Elixir string).
    pub fn as_str(&self) -> Option<&str> {
        self.as_binary().and_then(|b| std::str::from_utf8(b).ok())
    }

    /// The pid, if this is one.
    pub fn as_pid(&self) -> Option<&RemotePid> {
        match self {
            Term::Pid(p) => Some(p),
            _ => None,
        }
    }

    /// The reference, if this is one.
    pub fn as_ref(&self) -> Option<&RemoteRef> {
        match self {
            Term::Ref(r) => Some(r),
            _ => None,
        }
    }

    /// For a tuple whose first element is the atom `tag`, the other
    /// elements: `{add, 5}.tagged("add") == Some([5])`. A bare atom
    /// `tag` gives `Some([])`.
    pub fn tagged(&self, tag: &str) -> Option<&[Term]> {
        match self {
            Term::Tuple(t) => match t.split_first() {
                Some((first, rest)) if first.is_atom(tag) => Some(rest),
                _ => None,
            },
            Term::Atom(a) if a.as_str() == tag => Some(&[]),
            _ => None,
        }
    }

    /// The value under `key`, if this is a map that has it.
    pub fn map_get(&self, key: &Term) -> Option<&Term> {
        match self {
            Term::Map(pairs) => pairs.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    /// The value under the atom key `key` (`%{key: v}` in Elixir).
    pub fn map_get_atom(&self, key: &str) -> Option<&Term> {
        match self {
            Term::Map(pairs) => pairs.iter().find(|(k, _)| k.is_atom(key)).map(|(_, v)| v),
            _ => None,
        }
    }

    /// Writes the term in Erlang syntax, at most `limit` bytes of it (then
    /// `...`): for log lines and errors about terms of any size.
    pub fn display_bounded(&self, limit: usize) -> String {
        let mut out = Bounded {
            text: String::new(),
            limit,
            cut: false,
        };
        let _ = write!(out, "{self}");
        if out.cut {
            out.text.push_str("...");
        }
        out.text
    }
}

/// A `fmt::Write` that stops (with an error) after `limit` bytes.
struct Bounded {
    text: String,
    limit: usize,
    cut: bool,
}

impl fmt::Write for Bounded {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let room = self.limit.saturating_sub(self.text.len());
        if s.len() <= room {
            self.text.push_str(s);
            return Ok(());
        }
        let mut cut = room;
        while !s.is_char_boundary(cut) {
            cut -= 1;
        }
        self.text.push_str(&s[..cut]);
        self.cut = true;
        Err(fmt::Error)
    }
}

fn write_seq(f: &mut fmt::Formatter<'_>, items: &[Term]) -> fmt::Result {
    for (i, t) in items.iter().enumerate() {
        if i > 0 {
            f.write_str(",")?;
        }
        fmt::Display::fmt(t, f)?;
    }
    Ok(())
}

fn write_binary(f: &mut fmt::Formatter<'_>, bytes: &[u8]) -> fmt::Result {
    match std::str::from_utf8(bytes) {
        Ok(s) if s.chars().all(|c| !c.is_control() || c == '\n' || c == '\t') => {
            f.write_str("<<\"")?;
            for c in s.chars() {
                match c {
                    '"' => f.write_str("\\\"")?,
                    '\\' => f.write_str("\\\\")?,
                    '\n' => f.write_str("\\n")?,
                    '\t' => f.write_str("\\t")?,
                    c => f.write_char(c)?,
                }
            }
            f.write_str("\"/utf8>>")
        }
        _ => {
            f.write_str("<<")?;
            for (i, b) in bytes.iter().enumerate() {
                if i > 0 {
                    f.write_str(",")?;
                }
                write!(f, "{b}")?;
            }
            f.write_str(">>")
        }
    }
}

impl fmt::Display for Term {
    /// Erlang syntax.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Term::Atom(a) => fmt::Display::fmt(a, f),
            Term::Int(i) => write!(f, "{i}"),
            Term::BigInt(b) => fmt::Display::fmt(b, f),
            Term::Float(x) => write!(f, "{x:?}"),
            Term::Binary(b) if b.is_empty() => f.write_str("<<>>"),
            Term::Binary(b) => write_binary(f, b),
            Term::BitBinary(b) => {
                f.write_str("<<")?;
                for (i, byte) in b.bytes.iter().enumerate() {
                    if i > 0 {
                        f.write_str(",")?;
                    }
                    if i + 1 == b.bytes.len() {
                        write!(f, "{}:{}", byte >> (8 - b.last_bits), b.last_bits)?;
                    } else {
                        write!(f, "{byte}")?;
                    }
                }
                f.write_str(">>")
            }
            Term::Pid(p) => fmt::Display::fmt(p, f),
            Term::Port(p) => fmt::Display::fmt(p, f),
            Term::Ref(r) => fmt::Display::fmt(r, f),
            Term::Tuple(t) => {
                f.write_str("{")?;
                write_seq(f, t)?;
                f.write_str("}")
            }
            Term::List(l) => {
                f.write_str("[")?;
                write_seq(f, l)?;
                f.write_str("]")
            }
            Term::ImproperList(l, tail) => {
                f.write_str("[")?;
                write_seq(f, l)?;
                f.write_str("|")?;
                fmt::Display::fmt(tail, f)?;
                f.write_str("]")
            }
            Term::Map(pairs) => {
                f.write_str("#{")?;
                for (i, (k, v)) in pairs.iter().enumerate() {
                    if i > 0 {
                        f.write_str(",")?;
                    }
                    write!(f, "{k} => {v}")?;
                }
                f.write_str("}")
            }
            Term::Fun(fun) => write!(f, "#Fun<{} bytes>", fun.bytes.len()),
        }
    }
}

impl fmt::Debug for Term {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bigint_decimal_and_hex() {
        assert_eq!(
            BigInt::from(-(1i128 << 70)).to_string(),
            "-1180591620717411303424"
        );
        assert_eq!(BigInt::from(0i128).to_string(), "0");
        assert_eq!(BigInt::from(i128::MIN).to_i128(), Some(i128::MIN));
        let huge = BigInt::from_parts(false, vec![0xAB; 100]);
        assert!(huge.to_string().starts_with("16#ABAB"));
        assert_eq!(huge.to_i128(), None);
    }

    #[test]
    fn display_is_erlang_syntax() {
        let t = Term::tuple(vec![
            Term::atom("ok"),
            Term::list(vec![Term::Int(1), Term::Float(2.5)]),
            Term::binary("hi"),
            Term::binary(vec![0, 255]),
            Term::map(vec![(Term::atom("a"), Term::nil())]),
            Term::ImproperList(vec![Term::atom("alias")], Box::new(Term::Int(3))),
        ]);
        assert_eq!(
            t.to_string(),
            "{ok,[1,2.5],<<\"hi\"/utf8>>,<<0,255>>,#{a => []},[alias|3]}"
        );
    }

    #[test]
    fn bounded_display_stops_early() {
        let big = Term::list((0..100_000).map(Term::Int).collect());
        let shown = big.display_bounded(20);
        assert_eq!(shown, "[0,1,2,3,4,5,6,7,8,9...");
    }
}
