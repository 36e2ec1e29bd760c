//! A hash, kept the two ways Redis 7.0 keeps one so that every reply comes
//! back in redis-server's order.
//!
//! - `listpack` while small: the pairs in the order their fields were first
//!   added, found by a linear scan as Redis scans its listpack. Setting an
//!   existing field keeps its place; deleting one closes the gap.
//! - `hashtable` once past `hash-max-listpack-entries` fields or with a
//!   field or value longer than `hash-max-listpack-value` bytes: a [`Dict`]
//!   (O(1) per field, HSCAN's resize-proof cursor, order arbitrary). There
//!   is no way back, as in Redis.
//!
//! The conversion points are Redis's: [`Hash::fit_args`] is its
//! `hashTypeTryConversion` (every argument's length, before a write),
//! [`Hash::set`] checks the count after each field as `hashTypeSet` does,
//! and [`Hash::fit_loaded`] is the check after loading a whole payload.

use super::EncLimits;
use crate::kv::dict::Dict;

/// A field and its value.
pub type Pair = (Box<[u8]>, Box<[u8]>);

enum Rep {
    Small(Vec<Pair>),
    Big(Dict<Box<[u8]>>),
}

/// A hash: field to value (see the module doc).
pub struct Hash {
    rep: Rep,
}

impl Default for Hash {
    fn default() -> Self {
        Hash {
            rep: Rep::Small(Vec::new()),
        }
    }
}

fn too_long(b: &[u8], l: &EncLimits) -> bool {
    b.len() as i64 > l.hash_value
}

impl Hash {
    /// A `listpack` hash of `pairs`, in that order (fields must be distinct;
    /// no limit is checked: see [`fit_loaded`](Self::fit_loaded)).
    pub fn from_pairs(pairs: Vec<Pair>) -> Hash {
        Hash {
            rep: Rep::Small(pairs),
        }
    }

    /// Number of fields.
    pub fn len(&self) -> usize {
        match &self.rep {
            Rep::Small(v) => v.len(),
            Rep::Big(d) => d.len(),
        }
    }

    /// True when there are no fields.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// True once converted to `hashtable`.
    pub fn is_big(&self) -> bool {
        matches!(self.rep, Rep::Big(_))
    }

    /// `listpack` or `hashtable`, the `OBJECT ENCODING` name.
    pub fn encoding(&self) -> &'static str {
        if self.is_big() {
            "hashtable"
        } else {
            "listpack"
        }
    }

    fn find(v: &[Pair], f: &[u8]) -> Option<usize> {
        v.iter().position(|(k, _)| &**k == f)
    }

    /// The value of `f`.
    pub fn get(&self, f: &[u8]) -> Option<&[u8]> {
        match &self.rep {
            Rep::Small(v) => Self::find(v, f).map(|i| &*v[i].1),
            Rep::Big(d) => d.get(f).map(|v| &**v),
        }
    }

    /// Convert to `hashtable` (nothing if it is one).
    pub fn convert(&mut self) {
        if let Rep::Small(v) = &mut self.rep {
            let mut d = Dict::new();
            for (f, x) in std::mem::take(v) {
                d.insert(&f, x);
            }
            self.rep = Rep::Big(d);
        }
    }

    /// Redis's `hashTypeTryConversion`: before a write whose arguments
    /// (fields and values) are `args`, convert if any is longer than
    /// `hash-max-listpack-value`, whether or not it ends up stored.
    pub fn fit_args(&mut self, args: &[&[u8]], l: &EncLimits) {
        if !self.is_big() && args.iter().any(|a| too_long(a, l)) {
            self.convert();
        }
    }

    /// True when setting the field/value pairs `args` would convert it
    /// (the count is a bound: some fields may exist already).
    pub fn would_convert(&self, args: &[&[u8]], l: &EncLimits) -> bool {
        !self.is_big()
            && (args.iter().any(|a| too_long(a, l))
                || (self.len() + args.len() / 2) as i64 > l.hash_entries)
    }

    /// Set `f` to `v` (a new field goes last), then convert if past
    /// `hash-max-listpack-entries`, as Redis's `hashTypeSet`; the old value.
    pub fn set(&mut self, f: &[u8], v: Box<[u8]>, l: &EncLimits) -> Option<Box<[u8]>> {
        let old = self.set_raw(f, v);
        if !self.is_big() && self.len() as i64 > l.hash_entries {
            self.convert();
        }
        old
    }

    /// Set `f` to `v` without any conversion (undo, tests); the old value.
    pub fn set_raw(&mut self, f: &[u8], v: Box<[u8]>) -> Option<Box<[u8]>> {
        match &mut self.rep {
            Rep::Small(pairs) => match Self::find(pairs, f) {
                Some(i) => Some(std::mem::replace(&mut pairs[i].1, v)),
                None => {
                    pairs.push((f.into(), v));
                    None
                }
            },
            Rep::Big(d) => d.insert(f, v),
        }
    }

    /// Remove `f`: its place (the later fields move up one) and its value.
    pub fn remove(&mut self, f: &[u8]) -> Option<(usize, Box<[u8]>)> {
        match &mut self.rep {
            Rep::Small(pairs) => {
                let i = Self::find(pairs, f)?;
                Some((i, pairs.remove(i).1))
            }
            Rep::Big(d) => d.remove(f).map(|v| (0, v)),
        }
    }

    /// Put back a field [`remove`](Self::remove) took from place `at`.
    pub fn insert_at(&mut self, at: usize, f: Box<[u8]>, v: Box<[u8]>) {
        match &mut self.rep {
            Rep::Small(pairs) => {
                let at = at.min(pairs.len());
                pairs.insert(at, (f, v));
            }
            Rep::Big(d) => {
                d.insert(&f, v);
            }
        }
    }

    /// After loading a whole hash (RESTORE): convert if past either limit,
    /// as Redis checks a loaded listpack.
    pub fn fit_loaded(&mut self, l: &EncLimits) {
        if let Rep::Small(v) = &self.rep {
            if v.len() as i64 > l.hash_entries
                || v.iter().any(|(f, x)| too_long(f, l) || too_long(x, l))
            {
                self.convert();
            }
        }
    }

    /// Every field and value: in listpack order while small.
    pub fn iter(&self) -> impl Iterator<Item = (&[u8], &[u8])> {
        let (small, big) = match &self.rep {
            Rep::Small(v) => (Some(v.iter().map(|(f, x)| (&**f, &**x))), None),
            Rep::Big(d) => (None, Some(d.iter().map(|(f, x)| (f, &**x)))),
        };
        small.into_iter().flatten().chain(big.into_iter().flatten())
    }

    /// The table once converted (for HSCAN's cursor and fair sampling).
    pub fn table(&self) -> Option<&Dict<Box<[u8]>>> {
        match &self.rep {
            Rep::Small(_) => None,
            Rep::Big(d) => Some(d),
        }
    }

    /// A field and its value picked uniformly at random.
    pub fn random(&self, mut rand: impl FnMut() -> u64) -> Option<(&[u8], &[u8])> {
        match &self.rep {
            Rep::Small(v) if v.is_empty() => None,
            Rep::Small(v) => {
                let (f, x) = &v[(rand() % v.len() as u64) as usize];
                Some((f, x))
            }
            Rep::Big(d) => d.fair_random(rand).map(|(f, x)| (f, &**x)),
        }
    }
}

impl Clone for Hash {
    fn clone(&self) -> Self {
        let rep = match &self.rep {
            Rep::Small(v) => Rep::Small(v.clone()),
            Rep::Big(d) => {
                let mut c = Dict::new();
                for (k, v) in d.iter() {
                    c.insert(k, v.clone());
                }
                Rep::Big(c)
            }
        };
        Hash { rep }
    }
}

impl std::fmt::Debug for Hash {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_map()
            .entries(self.iter().map(|(k, v)| {
                (
                    String::from_utf8_lossy(k),
                    String::from_utf8_lossy(v).into_owned(),
                )
            }))
            .finish()
    }
}

/// Same fields and values, whatever the encoding or order.
impl PartialEq for Hash {
    fn eq(&self, o: &Self) -> bool {
        self.len() == o.len() && self.iter().all(|(k, v)| o.get(k) == Some(v))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(h: &Hash) -> Vec<String> {
        h.iter()
            .map(|(f, _)| String::from_utf8_lossy(f).into_owned())
            .collect()
    }

    fn set(h: &mut Hash, f: &str, v: &str, l: &EncLimits) -> Option<Box<[u8]>> {
        h.fit_args(&[f.as_bytes(), v.as_bytes()], l);
        h.set(f.as_bytes(), v.as_bytes().into(), l)
    }

    #[test]
    fn small_hashes_keep_insertion_order_through_updates_and_deletes() {
        let l = EncLimits::default();
        let mut h = Hash::default();
        for f in ["z", "a", "m", "b"] {
            assert!(set(&mut h, f, "1", &l).is_none());
        }
        assert_eq!(set(&mut h, "a", "2", &l).as_deref(), Some(&b"1"[..]));
        assert_eq!(fields(&h), ["z", "a", "m", "b"]);
        assert_eq!(h.get(b"a"), Some(&b"2"[..]));
        let (at, v) = h.remove(b"a").expect("present");
        assert_eq!((at, &*v), (1, &b"2"[..]));
        assert_eq!(fields(&h), ["z", "m", "b"]);
        set(&mut h, "a", "3", &l);
        assert_eq!(fields(&h), ["z", "m", "b", "a"]);
        h.remove(b"a");
        h.insert_at(1, b"a"[..].into(), b"2"[..].into());
        assert_eq!(fields(&h), ["z", "a", "m", "b"]);
        assert_eq!(h.encoding(), "listpack");
    }

    #[test]
    fn converts_where_redis_does_and_never_back() {
        let l = EncLimits {
            hash_entries: 3,
            hash_value: 4,
            ..EncLimits::default()
        };
        let mut h = Hash::default();
        for f in ["a", "b", "c"] {
            set(&mut h, f, "v", &l);
        }
        assert!(!h.is_big());
        assert!(h.would_convert(&[b"d", b"v"], &l));
        assert!(!h.would_convert(&[b"a", b"w"], &EncLimits::default()));
        set(&mut h, "d", "v", &l);
        assert!(h.is_big());
        h.remove(b"d");
        h.remove(b"c");
        assert_eq!(h.encoding(), "hashtable");

        // A long argument converts even when nothing is stored.
        let mut h = Hash::default();
        set(&mut h, "a", "v", &l);
        h.fit_args(&[b"a", b"toolong"], &l);
        assert!(h.is_big());

        // A loaded hash is checked whole.
        let mut h = Hash::from_pairs(vec![(b"f"[..].into(), b"12345"[..].into())]);
        h.fit_loaded(&EncLimits::default());
        assert!(!h.is_big());
        h.fit_loaded(&l);
        assert!(h.is_big());
        assert_eq!(h.get(b"f"), Some(&b"12345"[..]));
    }

    #[test]
    fn random_picks_come_from_either_encoding() {
        let mut seed = 7u64;
        let mut rand = || {
            seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1);
            seed >> 11
        };
        let mut h = Hash::default();
        assert!(h.random(&mut rand).is_none());
        h.set_raw(b"f", b"v"[..].into());
        assert_eq!(h.random(&mut rand), Some((&b"f"[..], &b"v"[..])));
        h.convert();
        assert_eq!(h.random(&mut rand), Some((&b"f"[..], &b"v"[..])));
        assert!(h.table().is_some());
    }
}
