//! Decoding the external term format, with bounds.
//!
//! The bytes come from other nodes, so nothing in them is trusted: every
//! length is checked against the bytes left before anything is allocated
//! for it (a length field cannot make the decoder reserve more than the
//! input could fill), nesting is bounded so a hostile term cannot exhaust
//! the stack of the recursive decoder (or of the recursive `Drop` of the
//! result), and the element count is bounded so a small input cannot
//! expand into a huge value.

use super::error::DecodeError;
use super::tags::*;
use super::value::{BigInt, BitBinary, Fun, Term};
use super::{Atom, RemotePid, RemotePort, RemoteRef, MAX_ATOM_CHARS};

/// Bounds on what one decoded term may hold.
///
/// ```
/// use rotp_dist::{DecodeLimits, Term};
/// let deep = (0..100).fold(Term::nil(), |t, _| Term::list(vec![t]));
/// let bytes = deep.to_bytes().unwrap();
/// let tight = DecodeLimits { max_depth: 10, ..DecodeLimits::default() };
/// assert!(Term::from_bytes_with(&bytes, tight).is_err());
/// assert_eq!(Term::from_bytes(&bytes).unwrap(), deep);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DecodeLimits {
    /// How deep tuples, lists and maps may nest.
    pub max_depth: u32,
    /// How many terms (every atom, number, element...) one decode may
    /// produce.
    pub max_elements: u32,
}

impl Default for DecodeLimits {
    /// 512 levels and 4 million elements.
    fn default() -> Self {
        DecodeLimits {
            max_depth: 512,
            max_elements: 4_000_000,
        }
    }
}

impl Term {
    /// Reads a term in the external format (`binary_to_term/1`), version
    /// byte included, with the default [`DecodeLimits`]. Every byte must
    /// belong to the term.
    pub fn from_bytes(bytes: &[u8]) -> Result<Term, DecodeError> {
        Term::from_bytes_with(bytes, DecodeLimits::default())
    }

    /// [`from_bytes`](Term::from_bytes) with chosen limits.
    pub fn from_bytes_with(bytes: &[u8], limits: DecodeLimits) -> Result<Term, DecodeError> {
        let (term, used) = decode_versioned(bytes, limits)?;
        match bytes.len() - used {
            0 => Ok(term),
            n => Err(DecodeError::Trailing(n)),
        }
    }
}

/// Decodes one versioned term at the start of `bytes`; returns it and the
/// number of bytes it took.
pub(crate) fn decode_versioned(
    bytes: &[u8],
    limits: DecodeLimits,
) -> Result<(Term, usize), DecodeError> {
    let mut d = Decoder {
        buf: bytes,
        pos: 0,
        depth: 0,
        elements: 0,
        limits,
        nodes: Vec::new(),
    };
    let version = d.u8()?;
    if version != VERSION {
        return Err(DecodeError::BadVersion(version));
    }
    let term = d.term()?;
    Ok((term, d.pos))
}

struct Decoder<'a> {
    buf: &'a [u8],
    pos: usize,
    depth: u32,
    elements: u32,
    limits: DecodeLimits,
    /// Node names seen in this term: pids of one node share one atom.
    nodes: Vec<Atom>,
}

impl<'a> Decoder<'a> {
    fn left(&self) -> usize {
        self.buf.len() - self.pos
    }

    fn bytes(&mut self, n: usize) -> Result<&'a [u8], DecodeError> {
        if n > self.left() {
            return Err(DecodeError::Truncated);
        }
        let s = &self.buf[self.pos..self.pos + n];
        self.pos += n;
        Ok(s)
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], DecodeError> {
        let mut a = [0; N];
        a.copy_from_slice(self.bytes(N)?);
        Ok(a)
    }

    fn u8(&mut self) -> Result<u8, DecodeError> {
        Ok(self.array::<1>()?[0])
    }

    fn u16(&mut self) -> Result<u16, DecodeError> {
        Ok(u16::from_be_bytes(self.array()?))
    }

    fn u32(&mut self) -> Result<u32, DecodeError> {
        Ok(u32::from_be_bytes(self.array()?))
    }

    fn u64(&mut self) -> Result<u64, DecodeError> {
        Ok(u64::from_be_bytes(self.array()?))
    }

    /// A length for `n` items of at least `min_size` bytes each: refused
    /// if the input cannot hold them, so no allocation exceeds the input.
    fn count(&mut self, n: u32, min_size: usize) -> Result<usize, DecodeError> {
        let n = n as usize;
        if n.saturating_mul(min_size) > self.left() {
            return Err(DecodeError::Truncated);
        }
        Ok(n)
    }

    fn enter(&mut self) -> Result<(), DecodeError> {
        self.depth += 1;
        if self.depth > self.limits.max_depth {
            return Err(DecodeError::TooDeep(self.limits.max_depth));
        }
        Ok(())
    }

    fn leave(&mut self) {
        self.depth -= 1;
    }

    /// One term. The recursive path (`term` → `seq_inner` → `term`) is
    /// kept to small stack frames: the many scalar forms are decoded in
    /// `scalar`, which is never inlined here.
    fn term(&mut self) -> Result<Term, DecodeError> {
        self.elements += 1;
        if self.elements > self.limits.max_elements {
            return Err(DecodeError::TooLarge(self.limits.max_elements));
        }
        let tag = self.u8()?;
        match tag {
            SMALL_TUPLE => {
                let n = self.u8()?;
                Ok(Term::Tuple(self.seq(u32::from(n))?))
            }
            LARGE_TUPLE => {
                let n = self.u32()?;
                Ok(Term::Tuple(self.seq(n)?))
            }
            LIST => self.list(),
            MAP => self.map(),
            _ => self.scalar(tag),
        }
    }

    #[inline(never)]
    fn list(&mut self) -> Result<Term, DecodeError> {
        let n = self.u32()?;
        self.enter()?;
        let mut items = self.seq_inner(n)?;
        let tail = self.term()?;
        self.leave();
        Ok(match tail {
            Term::List(rest) => {
                items.extend(rest);
                Term::List(items)
            }
            Term::ImproperList(rest, tail) => {
                items.extend(rest);
                Term::ImproperList(items, tail)
            }
            tail if items.is_empty() => tail,
            tail => Term::ImproperList(items, Box::new(tail)),
        })
    }

    #[inline(never)]
    fn map(&mut self) -> Result<Term, DecodeError> {
        let n = self.u32()?;
        let n = self.count(n, 2)?;
        self.enter()?;
        let mut pairs = Vec::with_capacity(n);
        for _ in 0..n {
            let k = self.term()?;
            let v = self.term()?;
            pairs.push((k, v));
        }
        self.leave();
        Ok(Term::Map(pairs))
    }

    /// Every form that holds no other term.
    #[inline(never)]
    fn scalar(&mut self, tag: u8) -> Result<Term, DecodeError> {
        Ok(match tag {
            SMALL_INTEGER => Term::Int(i64::from(self.u8()?)),
            INTEGER => Term::Int(i64::from(self.u32()? as i32)),
            SMALL_BIG => {
                let n = self.u8()?;
                self.big(u32::from(n))?
            }
            LARGE_BIG => {
                let n = self.u32()?;
                self.big(n)?
            }
            NEW_FLOAT => {
                let x = f64::from_bits(self.u64()?);
                if !x.is_finite() {
                    return Err(DecodeError::Invalid("a float that is not finite"));
                }
                Term::Float(x)
            }
            FLOAT => {
                let raw = self.bytes(31)?;
                let end = raw.iter().position(|&b| b == 0).unwrap_or(31);
                let text = std::str::from_utf8(&raw[..end])
                    .map_err(|_| DecodeError::Invalid("old float text"))?;
                let x: f64 = text
                    .trim()
                    .parse()
                    .map_err(|_| DecodeError::Invalid("old float text"))?;
                Term::Float(x)
            }
            ATOM | SMALL_ATOM | ATOM_UTF8 | SMALL_ATOM_UTF8 => Term::Atom(self.atom_body(tag)?),
            NIL => Term::List(Vec::new()),
            STRING => {
                let n = self.u16()?;
                let bytes = self.bytes(usize::from(n))?;
                let extra = u32::from(n);
                self.elements = self.elements.saturating_add(extra);
                if self.elements > self.limits.max_elements {
                    return Err(DecodeError::TooLarge(self.limits.max_elements));
                }
                Term::List(bytes.iter().map(|&b| Term::Int(i64::from(b))).collect())
            }
            BINARY => {
                let n = self.u32()?;
                let n = self.count(n, 1)?;
                Term::Binary(self.bytes(n)?.to_vec())
            }
            BIT_BINARY => {
                let n = self.u32()?;
                let n = self.count(n, 1)?;
                let bits = self.u8()?;
                let bytes = self.bytes(n)?.to_vec();
                match (n, bits) {
                    (0, _) => Term::Binary(bytes),
                    (_, 8) => Term::Binary(bytes),
                    (_, 1..=7) => Term::BitBinary(BitBinary {
                        bytes,
                        last_bits: bits,
                    }),
                    _ => return Err(DecodeError::Invalid("bit count of a bitstring")),
                }
            }
            NEW_PID => {
                let node = self.node()?;
                let (id, serial, creation) = (self.u32()?, self.u32()?, self.u32()?);
                Term::Pid(RemotePid::new(node, id, serial, creation))
            }
            PID => {
                let node = self.node()?;
                let (id, serial) = (self.u32()?, self.u32()?);
                let creation = u32::from(self.u8()?);
                Term::Pid(RemotePid::new(node, id, serial, creation))
            }
            NEW_PORT => {
                let node = self.node()?;
                let (id, creation) = (self.u32()?, self.u32()?);
                Term::Port(RemotePort {
                    node,
                    id: u64::from(id),
                    creation,
                })
            }
            V4_PORT => {
                let node = self.node()?;
                let (id, creation) = (self.u64()?, self.u32()?);
                Term::Port(RemotePort { node, id, creation })
            }
            PORT => {
                let node = self.node()?;
                let id = self.u32()?;
                let creation = u32::from(self.u8()?);
                Term::Port(RemotePort {
                    node,
                    id: u64::from(id),
                    creation,
                })
            }
            NEWER_REFERENCE | NEW_REFERENCE => {
                let len = usize::from(self.u16()?);
                let node = self.node()?;
                let creation = if tag == NEWER_REFERENCE {
                    self.u32()?
                } else {
                    u32::from(self.u8()?)
                };
                if !(1..=super::ident::MAX_REF_WORDS).contains(&len) {
                    return Err(DecodeError::Invalid("reference length"));
                }
                let mut words = [0u32; super::ident::MAX_REF_WORDS];
                for w in words.iter_mut().take(len) {
                    *w = self.u32()?;
                }
                Term::Ref(RemoteRef::new(node, creation, &words[..len]).expect("length checked"))
            }
            REFERENCE => {
                let node = self.node()?;
                let id = self.u32()?;
                let creation = u32::from(self.u8()?);
                Term::Ref(RemoteRef::new(node, creation, &[id]).expect("one word"))
            }
            NEW_FUN => {
                let start = self.pos - 1;
                let size = self.u32()? as usize;
                // `size` counts itself and everything after the tag.
                if size < 4 || size - 4 > self.left() {
                    return Err(DecodeError::Truncated);
                }
                self.pos += size - 4;
                Term::Fun(Fun {
                    bytes: self.buf[start..self.pos].to_vec(),
                })
            }
            EXPORT => {
                let start = self.pos - 1;
                for _ in 0..2 {
                    let t = self.u8()?;
                    if !matches!(t, ATOM | SMALL_ATOM | ATOM_UTF8 | SMALL_ATOM_UTF8) {
                        return Err(DecodeError::Invalid("export module or function"));
                    }
                    self.atom_body(t)?;
                }
                if self.u8()? != SMALL_INTEGER {
                    return Err(DecodeError::Invalid("export arity"));
                }
                self.u8()?;
                Term::Fun(Fun {
                    bytes: self.buf[start..self.pos].to_vec(),
                })
            }
            COMPRESSED => return Err(DecodeError::Unsupported("compressed term")),
            ATOM_CACHE_REF => return Err(DecodeError::Unsupported("atom cache reference")),
            LOCAL => return Err(DecodeError::Unsupported("local-only term")),
            FUN => return Err(DecodeError::Unsupported("old fun format")),
            other => return Err(DecodeError::UnknownTag(other)),
        })
    }

    fn seq(&mut self, n: u32) -> Result<Vec<Term>, DecodeError> {
        self.enter()?;
        let items = self.seq_inner(n)?;
        self.leave();
        Ok(items)
    }

    fn seq_inner(&mut self, n: u32) -> Result<Vec<Term>, DecodeError> {
        let n = self.count(n, 1)?;
        let mut items = Vec::with_capacity(n);
        for _ in 0..n {
            items.push(self.term()?);
        }
        Ok(items)
    }

    fn big(&mut self, n: u32) -> Result<Term, DecodeError> {
        let n = self.count(n, 1)?;
        let sign = self.u8()?;
        if sign > 1 {
            return Err(DecodeError::Invalid("sign of a big integer"));
        }
        let digits = self.bytes(n)?;
        let big = BigInt::from_parts(sign == 1, digits.to_vec());
        Ok(match big.to_i128() {
            Some(v) if i64::try_from(v).is_ok() => Term::Int(v as i64),
            _ => Term::BigInt(big),
        })
    }

    /// The atom after its `tag`.
    fn atom_body(&mut self, tag: u8) -> Result<Atom, DecodeError> {
        let len = match tag {
            ATOM | ATOM_UTF8 => usize::from(self.u16()?),
            _ => usize::from(self.u8()?),
        };
        let raw = self.bytes(len)?;
        let latin1 = matches!(tag, ATOM | SMALL_ATOM);
        if latin1 {
            if len > MAX_ATOM_CHARS {
                return Err(DecodeError::InvalidAtom);
            }
            if raw.is_ascii() {
                // ASCII is the same in both encodings.
                let s = std::str::from_utf8(raw).map_err(|_| DecodeError::InvalidAtom)?;
                return Ok(Atom::new_unchecked(s));
            }
            let s: String = raw.iter().map(|&b| char::from(b)).collect();
            return Ok(Atom::new_unchecked(&s));
        }
        let s = std::str::from_utf8(raw).map_err(|_| DecodeError::InvalidAtom)?;
        if s.len() > MAX_ATOM_CHARS && s.chars().count() > MAX_ATOM_CHARS {
            return Err(DecodeError::InvalidAtom);
        }
        Ok(Atom::new_unchecked(s))
    }

    /// The node-name atom of a pid, port or reference.
    fn node(&mut self) -> Result<Atom, DecodeError> {
        let tag = self.u8()?;
        if !matches!(tag, ATOM | SMALL_ATOM | ATOM_UTF8 | SMALL_ATOM_UTF8) {
            return Err(DecodeError::Invalid("node name is not an atom"));
        }
        let start = self.pos;
        // Fast path: a name already seen in this term.
        let len = match tag {
            ATOM | ATOM_UTF8 => usize::from(u16::from_be_bytes(
                self.buf
                    .get(start..start + 2)
                    .ok_or(DecodeError::Truncated)?
                    .try_into()
                    .expect("two bytes"),
            )),
            _ => usize::from(*self.buf.get(start).ok_or(DecodeError::Truncated)?),
        };
        let header = if matches!(tag, ATOM | ATOM_UTF8) {
            2
        } else {
            1
        };
        if let Some(raw) = self.buf.get(start + header..start + header + len) {
            if raw.is_ascii() {
                if let Some(known) = self.nodes.iter().find(|a| a.as_str().as_bytes() == raw) {
                    let known = known.clone();
                    self.pos = start + header + len;
                    return Ok(known);
                }
            }
        }
        let atom = self.atom_body(tag)?;
        if self.nodes.len() < 4 {
            self.nodes.push(atom.clone());
        }
        Ok(atom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode(bytes: &[u8]) -> Result<Term, DecodeError> {
        Term::from_bytes(bytes)
    }

    #[test]
    fn known_encodings_from_erlang() {
        // term_to_binary(ok)
        assert_eq!(decode(&[131, 119, 2, b'o', b'k']), Ok(Term::atom("ok")));
        // term_to_binary({1, -1, 300})
        assert_eq!(
            decode(&[131, 104, 3, 97, 1, 98, 255, 255, 255, 255, 98, 0, 0, 1, 44]),
            Ok(Term::tuple(vec![
                Term::Int(1),
                Term::Int(-1),
                Term::Int(300)
            ]))
        );
        // term_to_binary("ab") (a charlist)
        assert_eq!(
            decode(&[131, 107, 0, 2, b'a', b'b']),
            Ok(Term::list(vec![Term::Int(97), Term::Int(98)]))
        );
        // term_to_binary([1|2])
        assert_eq!(
            decode(&[131, 108, 0, 0, 0, 1, 97, 1, 97, 2]),
            Ok(Term::ImproperList(
                vec![Term::Int(1)],
                Box::new(Term::Int(2))
            ))
        );
        // term_to_binary(1 bsl 64)
        assert_eq!(
            decode(&[131, 110, 9, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]),
            Ok(Term::BigInt(BigInt::from(1i128 << 64)))
        );
        // term_to_binary(-(1 bsl 40)) fits in an i64
        assert_eq!(
            decode(&[131, 110, 6, 1, 0, 0, 0, 0, 0, 1]),
            Ok(Term::Int(-(1 << 40)))
        );
        // term_to_binary(<<1:3>>)
        assert_eq!(
            decode(&[131, 77, 0, 0, 0, 1, 3, 0b0010_0000]),
            Ok(Term::BitBinary(BitBinary {
                bytes: vec![0b0010_0000],
                last_bits: 3
            }))
        );
        // latin-1 atom 'é' in the old format
        assert_eq!(decode(&[131, 115, 1, 0xE9]), Ok(Term::atom("é")));
    }

    #[test]
    fn hostile_lengths_allocate_nothing() {
        // A list claiming 4 billion elements in a few bytes.
        assert_eq!(
            decode(&[131, 108, 255, 255, 255, 255, 106]),
            Err(DecodeError::Truncated)
        );
        assert_eq!(
            decode(&[131, 109, 255, 255, 255, 255]),
            Err(DecodeError::Truncated)
        );
        assert_eq!(
            decode(&[131, 116, 255, 255, 255, 255]),
            Err(DecodeError::Truncated)
        );
        assert_eq!(
            decode(&[131, 112, 255, 255, 255, 255]),
            Err(DecodeError::Truncated)
        );
    }

    #[test]
    fn hostile_nesting_is_refused_not_a_stack_overflow() {
        let mut bytes = vec![131];
        for _ in 0..1_000_000 {
            bytes.extend_from_slice(&[108, 0, 0, 0, 1]);
        }
        bytes.push(106);
        assert_eq!(decode(&bytes), Err(DecodeError::TooDeep(512)));
        let mut tuples = vec![131];
        for _ in 0..1_000_000 {
            tuples.extend_from_slice(&[104, 1]);
        }
        tuples.push(106);
        assert_eq!(decode(&tuples), Err(DecodeError::TooDeep(512)));
        // The deepest term allowed (512 levels: tuples, maps and lists
        // in turn) decodes on a test thread's stack; one more level not.
        let wrap = |t: Term, level: u32| match level % 3 {
            0 => Term::tuple(vec![t]),
            1 => Term::map(vec![(Term::Int(1), t)]),
            _ => Term::list(vec![t]),
        };
        let deepest = (0..512).fold(Term::Int(0), wrap);
        assert!(decode(&deepest.to_bytes().unwrap()).is_ok());
        let deeper = wrap(deepest, 0);
        assert_eq!(
            decode(&deeper.to_bytes().unwrap()),
            Err(DecodeError::TooDeep(512))
        );
    }

    #[test]
    fn element_budget_is_enforced() {
        let list = Term::list((0..100).map(Term::Int).collect());
        let bytes = list.to_bytes().unwrap();
        let limits = DecodeLimits {
            max_elements: 50,
            ..DecodeLimits::default()
        };
        assert_eq!(
            Term::from_bytes_with(&bytes, limits),
            Err(DecodeError::TooLarge(50))
        );
        // A charlist counts its characters too.
        let chars = [131, 107, 0, 60]
            .iter()
            .copied()
            .chain([b'a'; 60])
            .collect::<Vec<_>>();
        assert_eq!(
            Term::from_bytes_with(&chars, limits),
            Err(DecodeError::TooLarge(50))
        );
    }

    #[test]
    fn malformed_inputs_are_errors() {
        assert_eq!(decode(&[]), Err(DecodeError::Truncated));
        assert_eq!(decode(&[130, 106]), Err(DecodeError::BadVersion(130)));
        assert_eq!(decode(&[131, 1]), Err(DecodeError::UnknownTag(1)));
        assert_eq!(decode(&[131, 106, 106]), Err(DecodeError::Trailing(1)));
        assert_eq!(
            decode(&[131, 80, 0, 0, 0, 1]),
            Err(DecodeError::Unsupported("compressed term"))
        );
        assert_eq!(
            decode(&[131, 119, 2, 0xFF, 0xFE]),
            Err(DecodeError::InvalidAtom)
        );
        assert_eq!(
            decode(&[131, 88, 97, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]),
            Err(DecodeError::Invalid("node name is not an atom"))
        );
        assert_eq!(
            decode(&[131, 90, 0, 9, 119, 1, b'a', 0, 0, 0, 0]),
            Err(DecodeError::Invalid("reference length"))
        );
        assert_eq!(
            decode(&[131, 70, 0x7F, 0xF0, 0, 0, 0, 0, 0, 0]),
            Err(DecodeError::Invalid("a float that is not finite"))
        );
    }

    #[test]
    fn every_truncation_of_a_rich_term_is_an_error() {
        let node = Atom::new("erl@127.0.0.1");
        let term = Term::tuple(vec![
            Term::atom("$gen_call"),
            Term::tuple(vec![
                Term::Pid(RemotePid::new(node.clone(), 90, 0, 3)),
                Term::ImproperList(
                    vec![Term::atom("alias")],
                    Box::new(Term::Ref(RemoteRef::new(node, 3, &[1, 2, 3]).unwrap())),
                ),
            ]),
            Term::map(vec![(Term::binary("k"), Term::Float(1.5))]),
            Term::BigInt(BigInt::from(-(1i128 << 100))),
        ]);
        let bytes = term.to_bytes().unwrap();
        assert_eq!(decode(&bytes), Ok(term));
        for cut in 0..bytes.len() {
            assert!(decode(&bytes[..cut]).is_err(), "prefix of {cut} bytes");
        }
    }
}
