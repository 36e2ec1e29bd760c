//! The key space's hash table: chained buckets in a power-of-two array, so
//! `SCAN` can use Redis's reverse-binary cursor. Why not `std::HashMap`: its
//! iteration order has no cursor that survives a resize, and `SCAN` must
//! return every key present for the whole iteration even while the table
//! grows or shrinks. Resizing here is all at once (no incremental rehash), which
//! the reverse-binary cursor tolerates: a bucket's keys at one size land in a
//! set of buckets the cursor has not passed yet, or has passed together.
//!
//! Issue 11's hashes and sets reuse it for `HSCAN`/`SSCAN`.

use std::hash::{BuildHasher, RandomState};

struct Slot<V> {
    hash: u64,
    key: Box<[u8]>,
    val: V,
}

/// A byte-string keyed hash table with a stable scan cursor.
pub struct Dict<V> {
    buckets: Vec<Vec<Slot<V>>>,
    len: usize,
    hasher: RandomState,
}

const MIN_BUCKETS: usize = 4;

impl<V> Default for Dict<V> {
    fn default() -> Self {
        Dict::new()
    }
}

impl<V> Dict<V> {
    /// An empty table.
    pub fn new() -> Dict<V> {
        Dict {
            buckets: (0..MIN_BUCKETS).map(|_| Vec::new()).collect(),
            len: 0,
            hasher: RandomState::new(),
        }
    }

    /// Number of keys.
    pub fn len(&self) -> usize {
        self.len
    }

    /// True when empty.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    fn hash(&self, key: &[u8]) -> u64 {
        self.hasher.hash_one(key)
    }

    fn mask(&self) -> usize {
        self.buckets.len() - 1
    }

    /// The value at `key`.
    pub fn get(&self, key: &[u8]) -> Option<&V> {
        let h = self.hash(key);
        self.buckets[h as usize & self.mask()]
            .iter()
            .find(|s| s.hash == h && &*s.key == key)
            .map(|s| &s.val)
    }

    /// The value at `key`, mutable.
    pub fn get_mut(&mut self, key: &[u8]) -> Option<&mut V> {
        let h = self.hash(key);
        let m = self.mask();
        self.buckets[h as usize & m]
            .iter_mut()
            .find(|s| s.hash == h && &*s.key == key)
            .map(|s| &mut s.val)
    }

    /// Insert or replace; returns the previous value.
    pub fn insert(&mut self, key: &[u8], val: V) -> Option<V> {
        let h = self.hash(key);
        let m = self.mask();
        let b = &mut self.buckets[h as usize & m];
        if let Some(s) = b.iter_mut().find(|s| s.hash == h && &*s.key == key) {
            return Some(std::mem::replace(&mut s.val, val));
        }
        b.push(Slot {
            hash: h,
            key: key.into(),
            val,
        });
        self.len += 1;
        if self.len > self.buckets.len() {
            self.resize(self.buckets.len() * 2);
        }
        None
    }

    /// Remove `key`; returns its value.
    pub fn remove(&mut self, key: &[u8]) -> Option<V> {
        let h = self.hash(key);
        let m = self.mask();
        let b = &mut self.buckets[h as usize & m];
        let i = b.iter().position(|s| s.hash == h && &*s.key == key)?;
        let slot = b.swap_remove(i);
        if b.is_empty() && b.capacity() > 4 {
            *b = Vec::new();
        }
        self.len -= 1;
        if self.buckets.len() > MIN_BUCKETS && self.len * 8 < self.buckets.len() {
            self.resize((self.buckets.len() / 2).max(MIN_BUCKETS));
        }
        Some(slot.val)
    }

    fn resize(&mut self, n: usize) {
        let old = std::mem::replace(&mut self.buckets, (0..n).map(|_| Vec::new()).collect());
        let m = n - 1;
        for b in old {
            for s in b {
                self.buckets[s.hash as usize & m].push(s);
            }
        }
    }

    /// Remove everything, keeping nothing allocated.
    pub fn clear(&mut self) {
        *self = Dict {
            buckets: (0..MIN_BUCKETS).map(|_| Vec::new()).collect(),
            len: 0,
            hasher: std::mem::take(&mut self.hasher),
        };
    }

    /// Every key and value.
    pub fn iter(&self) -> impl Iterator<Item = (&[u8], &V)> {
        self.buckets
            .iter()
            .flat_map(|b| b.iter().map(|s| (&*s.key, &s.val)))
    }

    /// Keep only the entries for which `f` is true; returns the removed keys.
    pub fn retain_collect(&mut self, mut f: impl FnMut(&[u8], &V) -> bool) -> Vec<(Box<[u8]>, V)> {
        let mut gone = Vec::new();
        for b in self.buckets.iter_mut() {
            let mut i = 0;
            while i < b.len() {
                if f(&b[i].key, &b[i].val) {
                    i += 1;
                } else {
                    let s = b.swap_remove(i);
                    gone.push((s.key, s.val));
                }
            }
        }
        self.len -= gone.len();
        while self.buckets.len() > MIN_BUCKETS && self.len * 8 < self.buckets.len() {
            let n = self.buckets.len() / 2;
            self.resize(n);
        }
        gone
    }

    /// Visit the bucket at `cursor` (and more, until `count` keys were seen
    /// or ten times as many buckets were visited); returns the next cursor,
    /// 0 when the iteration is complete. Redis's `dictScan` cursor.
    pub fn scan(&self, mut cursor: u64, count: usize, mut f: impl FnMut(&[u8], &V)) -> u64 {
        if self.len == 0 {
            return 0;
        }
        let m = self.mask() as u64;
        let mut seen = 0;
        let mut budget = count.max(1).saturating_mul(10);
        loop {
            for s in &self.buckets[(cursor & m) as usize] {
                f(&s.key, &s.val);
                seen += 1;
            }
            cursor |= !m;
            cursor = cursor.reverse_bits().wrapping_add(1).reverse_bits();
            budget -= 1;
            if cursor == 0 || seen >= count || budget == 0 {
                return cursor;
            }
        }
    }

    /// A random key, `rand` giving random numbers.
    pub fn random(&self, mut rand: impl FnMut() -> u64) -> Option<(&[u8], &V)> {
        if self.len == 0 {
            return None;
        }
        let m = self.mask() as u64;
        loop {
            let b = &self.buckets[(rand() & m) as usize];
            if !b.is_empty() {
                let s = &b[(rand() % b.len() as u64) as usize];
                return Some((&s.key, &s.val));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn insert_get_remove_and_resize() {
        let mut d = Dict::new();
        for i in 0..1000u32 {
            assert!(d.insert(format!("k{i}").as_bytes(), i).is_none());
        }
        assert_eq!(d.len(), 1000);
        assert_eq!(d.insert(b"k7", 70), Some(7));
        assert_eq!(d.get(b"k7"), Some(&70));
        for i in 0..990u32 {
            assert!(d.remove(format!("k{i}").as_bytes()).is_some());
        }
        assert_eq!(d.len(), 10);
        assert!(d.buckets.len() <= 128);
        assert_eq!(d.get(b"k995"), Some(&995));
        assert!(d.get(b"k5").is_none());
    }

    #[test]
    fn a_full_scan_sees_every_key_present_throughout_despite_resizes() {
        let mut d = Dict::new();
        for i in 0..500u32 {
            d.insert(format!("stay{i}").as_bytes(), ());
        }
        let mut seen = HashSet::new();
        let mut cursor = 0;
        let mut round = 0u32;
        loop {
            cursor = d.scan(cursor, 7, |k, _| {
                seen.insert(k.to_vec());
            });
            // Grow and shrink the table while the iteration runs.
            round += 1;
            if round % 3 == 0 {
                for j in 0..200u32 {
                    d.insert(format!("tmp{round}-{j}").as_bytes(), ());
                }
            } else {
                let tmp: Vec<Vec<u8>> = d
                    .iter()
                    .filter(|(k, _)| k.starts_with(b"tmp"))
                    .map(|(k, _)| k.to_vec())
                    .collect();
                for k in tmp {
                    d.remove(&k);
                }
            }
            if cursor == 0 {
                break;
            }
        }
        for i in 0..500u32 {
            assert!(
                seen.contains(format!("stay{i}").as_bytes()),
                "missed stay{i}"
            );
        }
    }
}
