//! Encoding terms in the external format.

use super::error::EncodeError;
use super::tags::*;
use super::value::Term;
use super::{Atom, RemotePid, RemoteRef};

impl Term {
    /// The term in the external format, version byte first
    /// (`term_to_binary/1`).
    pub fn to_bytes(&self) -> Result<Vec<u8>, EncodeError> {
        let mut out = vec![VERSION];
        encode(self, &mut out)?;
        Ok(out)
    }

    /// Appends the term in the external format, version byte first.
    pub fn encode_into(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        out.push(VERSION);
        encode(self, out)
    }
}

fn len32(n: usize, what: &'static str) -> Result<[u8; 4], EncodeError> {
    u32::try_from(n)
        .map(u32::to_be_bytes)
        .map_err(|_| EncodeError(what))
}

/// Appends `term` without a version byte.
pub(crate) fn encode(term: &Term, out: &mut Vec<u8>) -> Result<(), EncodeError> {
    match term {
        Term::Atom(a) => atom(a, out),
        Term::Int(i) => int(*i, out),
        Term::BigInt(b) => {
            let m = b.magnitude_le();
            if m.len() <= 255 {
                out.extend_from_slice(&[SMALL_BIG, m.len() as u8]);
            } else {
                out.push(LARGE_BIG);
                out.extend_from_slice(&len32(m.len(), "big integer")?);
            }
            out.push(u8::from(b.is_negative()));
            out.extend_from_slice(m);
        }
        Term::Float(x) => {
            out.push(NEW_FLOAT);
            out.extend_from_slice(&x.to_bits().to_be_bytes());
        }
        Term::Binary(b) => {
            out.push(BINARY);
            out.extend_from_slice(&len32(b.len(), "binary")?);
            out.extend_from_slice(b);
        }
        Term::BitBinary(b) => {
            if b.bytes.is_empty() || !(1..=8).contains(&b.last_bits) {
                return Err(EncodeError(
                    "a bitstring needs 1 to 8 bits in its last byte",
                ));
            }
            out.push(BIT_BINARY);
            out.extend_from_slice(&len32(b.bytes.len(), "bitstring")?);
            out.push(b.last_bits);
            out.extend_from_slice(&b.bytes);
        }
        Term::Pid(p) => pid(p, out),
        Term::Port(p) => match u32::try_from(p.id) {
            Ok(id) => {
                out.push(NEW_PORT);
                atom(&p.node, out);
                out.extend_from_slice(&id.to_be_bytes());
                out.extend_from_slice(&p.creation.to_be_bytes());
            }
            Err(_) => {
                out.push(V4_PORT);
                atom(&p.node, out);
                out.extend_from_slice(&p.id.to_be_bytes());
                out.extend_from_slice(&p.creation.to_be_bytes());
            }
        },
        Term::Ref(r) => reference(r, out),
        Term::Tuple(items) => {
            if items.len() <= 255 {
                out.extend_from_slice(&[SMALL_TUPLE, items.len() as u8]);
            } else {
                out.push(LARGE_TUPLE);
                out.extend_from_slice(&len32(items.len(), "tuple")?);
            }
            for t in items {
                encode(t, out)?;
            }
        }
        Term::List(items) => {
            if !items.is_empty() {
                out.push(LIST);
                out.extend_from_slice(&len32(items.len(), "list")?);
                for t in items {
                    encode(t, out)?;
                }
            }
            out.push(NIL);
        }
        Term::ImproperList(items, tail) => {
            if !items.is_empty() {
                out.push(LIST);
                out.extend_from_slice(&len32(items.len(), "list")?);
                for t in items {
                    encode(t, out)?;
                }
            }
            encode(tail, out)?;
        }
        Term::Map(pairs) => {
            out.push(MAP);
            out.extend_from_slice(&len32(pairs.len(), "map")?);
            for (k, v) in pairs {
                encode(k, out)?;
                encode(v, out)?;
            }
        }
        Term::Fun(f) => out.extend_from_slice(&f.bytes),
    }
    Ok(())
}

pub(crate) fn atom(a: &Atom, out: &mut Vec<u8>) {
    let s = a.as_str().as_bytes();
    match u8::try_from(s.len()) {
        Ok(n) => out.extend_from_slice(&[SMALL_ATOM_UTF8, n]),
        Err(_) => {
            // An atom has at most 255 characters, 4 bytes each at most.
            out.push(ATOM_UTF8);
            out.extend_from_slice(&(s.len() as u16).to_be_bytes());
        }
    }
    out.extend_from_slice(s);
}

pub(crate) fn int(i: i64, out: &mut Vec<u8>) {
    if (0..=255).contains(&i) {
        out.extend_from_slice(&[SMALL_INTEGER, i as u8]);
    } else if let Ok(i) = i32::try_from(i) {
        out.push(INTEGER);
        out.extend_from_slice(&i.to_be_bytes());
    } else {
        let m = i.unsigned_abs().to_le_bytes();
        let n = 8 - m.iter().rev().take_while(|&&b| b == 0).count();
        out.extend_from_slice(&[SMALL_BIG, n as u8, u8::from(i < 0)]);
        out.extend_from_slice(&m[..n]);
    }
}

pub(crate) fn pid(p: &RemotePid, out: &mut Vec<u8>) {
    out.push(NEW_PID);
    atom(&p.node, out);
    out.extend_from_slice(&p.id.to_be_bytes());
    out.extend_from_slice(&p.serial.to_be_bytes());
    out.extend_from_slice(&p.creation.to_be_bytes());
}

pub(crate) fn reference(r: &RemoteRef, out: &mut Vec<u8>) {
    out.push(NEWER_REFERENCE);
    out.extend_from_slice(&(r.words().len() as u16).to_be_bytes());
    atom(&r.node, out);
    out.extend_from_slice(&r.creation.to_be_bytes());
    for w in r.words() {
        out.extend_from_slice(&w.to_be_bytes());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::term::{BigInt, BitBinary, RemotePort};

    #[test]
    fn integers_use_the_smallest_form() {
        let enc = |i: i64| Term::Int(i).to_bytes().unwrap();
        assert_eq!(enc(5), [131, 97, 5]);
        assert_eq!(enc(-1), [131, 98, 255, 255, 255, 255]);
        assert_eq!(enc(1 << 40), [131, 110, 6, 0, 0, 0, 0, 0, 0, 1]);
        assert_eq!(enc(i64::MIN), [131, 110, 8, 1, 0, 0, 0, 0, 0, 0, 0, 0x80]);
        for i in [0, 255, 256, -256, i32::MAX as i64 + 1, i64::MAX, i64::MIN] {
            assert_eq!(Term::from_bytes(&enc(i)), Ok(Term::Int(i)));
        }
    }

    #[test]
    fn round_trips() {
        let node = Atom::new("n@h");
        let terms = vec![
            Term::nil(),
            Term::list(vec![Term::nil()]),
            Term::tuple((0..300).map(Term::Int).collect()),
            Term::binary(vec![1; 1000]),
            Term::BitBinary(BitBinary {
                bytes: vec![0xF0],
                last_bits: 4,
            }),
            Term::BigInt(BigInt::from_parts(true, vec![7; 300])),
            Term::Float(-0.5),
            Term::Port(RemotePort {
                node: node.clone(),
                id: 1 << 40,
                creation: 2,
            }),
            Term::Port(RemotePort {
                node: node.clone(),
                id: 5,
                creation: 2,
            }),
            Term::Ref(RemoteRef::new(node.clone(), 2, &[1, 2, 3, 4, 5]).unwrap()),
            Term::atom(&"ü".repeat(200)),
            Term::map(vec![
                (Term::atom("a"), Term::Int(1)),
                (Term::Int(1), Term::atom("a")),
            ]),
            Term::ImproperList(vec![Term::Int(1), Term::Int(2)], Box::new(Term::atom("t"))),
        ];
        for t in terms {
            let bytes = t.to_bytes().unwrap();
            assert_eq!(Term::from_bytes(&bytes), Ok(t.clone()), "{t}");
        }
    }

    #[test]
    fn funs_pass_through_unchanged() {
        // term_to_binary(fun erlang:self/0)
        let bytes = [
            131, 113, 119, 6, b'e', b'r', b'l', b'a', b'n', b'g', 119, 4, b's', b'e', b'l', b'f',
            97, 0,
        ];
        let t = Term::from_bytes(&bytes).unwrap();
        assert!(matches!(t, Term::Fun(_)));
        assert_eq!(t.to_bytes().unwrap(), bytes);
    }
}
