//! The hash every store uses: a seeded multiply-fold hash, and the catch
//! that turns a key's panicking `Hash` into an error.
//!
//! std's SipHash costs about 20 ns for a `u64` key; a lookup in a table is
//! not much more than that, so the hash matters. This one folds each word
//! of input into the state with a 64×64→128-bit multiply, the approach of
//! the fast hashers of the Rust ecosystem, with a per-store random seed so
//! that two stores (or two runs) hash differently. It resists accidental
//! clustering well; like those hashers, it is not a cryptographic defence
//! against keys crafted to collide.
//!
//! Each operation hashes its key once, outside every lock, under
//! `catch_unwind`: a key whose `Hash` panics is refused with an error
//! before the store is touched.

use std::hash::{BuildHasher, Hash, Hasher};
use std::panic::{catch_unwind, AssertUnwindSafe};

const MULTIPLE: u64 = 0x5851_f42d_4c95_7f2d;

#[inline(always)]
fn fold(a: u64, b: u64) -> u64 {
    let full = u128::from(a) * u128::from(b);
    (full as u64) ^ ((full >> 64) as u64)
}

/// A random seed pair per store.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Seed {
    a: u64,
    b: u64,
}

impl Seed {
    pub(crate) fn random() -> Seed {
        let s = std::collections::hash_map::RandomState::new();
        let mut h = s.build_hasher();
        h.write_u64(1);
        let a = h.finish();
        h.write_u64(2);
        let b = h.finish();
        Seed { a, b: b | 1 }
    }
}

impl BuildHasher for Seed {
    type Hasher = FoldHasher;

    #[inline]
    fn build_hasher(&self) -> FoldHasher {
        FoldHasher {
            acc: self.a,
            key: self.b,
        }
    }
}

/// The hasher built by [`Seed`].
pub(crate) struct FoldHasher {
    acc: u64,
    key: u64,
}

impl FoldHasher {
    #[inline(always)]
    fn mix(&mut self, word: u64) {
        self.acc = fold(self.acc ^ word, MULTIPLE ^ self.key);
    }
}

impl Hasher for FoldHasher {
    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for chunk in &mut chunks {
            let mut word = [0u8; 8];
            word.copy_from_slice(chunk);
            self.mix(u64::from_le_bytes(word));
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut word = [0u8; 8];
            word[..rest.len()].copy_from_slice(rest);
            self.mix(u64::from_le_bytes(word) ^ ((rest.len() as u64) << 56));
        }
    }

    #[inline]
    fn write_u8(&mut self, n: u8) {
        self.mix(u64::from(n));
    }

    #[inline]
    fn write_u16(&mut self, n: u16) {
        self.mix(u64::from(n));
    }

    #[inline]
    fn write_u32(&mut self, n: u32) {
        self.mix(u64::from(n));
    }

    #[inline]
    fn write_u64(&mut self, n: u64) {
        self.mix(n);
    }

    #[inline]
    fn write_usize(&mut self, n: usize) {
        self.mix(n as u64);
    }

    #[inline]
    fn finish(&self) -> u64 {
        fold(self.acc, self.key).rotate_left(23)
    }
}

/// Hashes `key` with `seed`, or describes the panic of its `Hash`.
#[inline]
pub(crate) fn hash_key<K: Hash + ?Sized>(seed: &Seed, key: &K) -> Result<u64, String> {
    catch_unwind(AssertUnwindSafe(|| seed.hash_one(key))).map_err(|panic| {
        let what = panic
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| panic.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "a panic".to_owned());
        format!("the key's Hash panicked: {what}")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equal_keys_hash_equal_and_seeds_differ() {
        let s = Seed::random();
        assert_eq!(s.hash_one("abc"), s.hash_one(String::from("abc")));
        assert_ne!(s.hash_one(1u64), s.hash_one(2u64));
        assert_ne!(s.hash_one("abcdefgh1"), s.hash_one("abcdefgh2"));
        let t = Seed::random();
        assert_ne!(s.hash_one(7u64), t.hash_one(7u64));
    }

    #[test]
    fn sequential_keys_spread_over_shards() {
        let s = Seed::random();
        let mut seen = [0u32; 64];
        for k in 0..64_000u64 {
            seen[(s.hash_one(k) >> 32) as usize & 63] += 1;
        }
        assert!(seen.iter().all(|&n| (700..1300).contains(&n)), "{seen:?}");
    }

    #[test]
    fn a_panicking_hash_is_an_error() {
        struct Bad;
        impl Hash for Bad {
            fn hash<H: Hasher>(&self, _: &mut H) {
                panic!("no hashing today");
            }
        }
        let err = hash_key(&Seed::random(), &Bad).unwrap_err();
        assert!(err.contains("no hashing today"), "{err}");
    }
}
