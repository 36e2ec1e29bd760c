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
    /// At least the longest chain (exact after a resize): fair sampling.
    max_chain: usize,
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
            max_chain: 0,
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
        self.max_chain = self.max_chain.max(b.len());
        self.len += 1;
        if self.len > self.buckets.len() {
            self.resize(self.buckets.len() * 2);
        }
        None
    }

    /// The value at `key`, inserting `make()` first if absent (one hash and
    /// one search either way); true when it was inserted.
    pub fn get_or_insert_with(&mut self, key: &[u8], make: impl FnOnce() -> V) -> (&mut V, bool) {
        let h = self.hash(key);
        let mut m = self.mask();
        let mut at = self.buckets[h as usize & m]
            .iter()
            .position(|s| s.hash == h && &*s.key == key);
        let inserted = at.is_none();
        if inserted {
            let b = &mut self.buckets[h as usize & m];
            b.push(Slot {
                hash: h,
                key: key.into(),
                val: make(),
            });
            self.max_chain = self.max_chain.max(b.len());
            self.len += 1;
            if self.len > self.buckets.len() {
                self.resize(self.buckets.len() * 2);
                m = self.mask();
            }
            at = self.buckets[h as usize & m]
                .iter()
                .position(|s| s.hash == h && &*s.key == key);
        }
        let b = &mut self.buckets[h as usize & m];
        let i = at.unwrap_or(b.len() - 1);
        (&mut b[i].val, inserted)
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
        self.max_chain = self.buckets.iter().map(Vec::len).max().unwrap_or(0);
    }

    /// Remove everything, keeping nothing allocated.
    pub fn clear(&mut self) {
        *self = Dict {
            buckets: (0..MIN_BUCKETS).map(|_| Vec::new()).collect(),
            len: 0,
            hasher: std::mem::take(&mut self.hasher),
            max_chain: 0,
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
    pub fn scan<'a>(
        &'a self,
        mut cursor: u64,
        count: usize,
        mut f: impl FnMut(&'a [u8], &'a V),
    ) -> u64 {
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

    /// A key picked uniformly at random (each equally likely, whatever its
    /// chain): a random bucket and a random place in a chain as long as the
    /// longest, tried again when that place is empty.
    pub fn fair_random(&self, mut rand: impl FnMut() -> u64) -> Option<(&[u8], &V)> {
        if self.len == 0 {
            return None;
        }
        let m = self.mask() as u64;
        let depth = self.max_chain.max(1) as u64;
        loop {
            let r = rand();
            let b = &self.buckets[(r & m) as usize];
            let i = ((r >> 32) % depth) as usize;
            if let Some(s) = b.get(i) {
                return Some((&s.key, &s.val));
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
    fn get_or_insert_finds_or_creates_across_resizes() {
        let mut d: Dict<u32> = Dict::new();
        for i in 0..100u32 {
            let (v, new) = d.get_or_insert_with(format!("k{i}").as_bytes(), || i);
            assert!(new);
            *v += 1000;
        }
        let (v, new) = d.get_or_insert_with(b"k7", || 0);
        assert!(!new);
        assert_eq!(*v, 1007);
        assert_eq!(d.len(), 100);
        assert_eq!(d.get(b"k99"), Some(&1099));
    }

    #[test]
    fn fair_random_picks_every_key_about_equally() {
        let mut d: Dict<()> = Dict::new();
        for i in 0..10u32 {
            d.insert(format!("k{i}").as_bytes(), ());
        }
        let mut seed = 0x1234_5678u64;
        let mut counts = std::collections::HashMap::new();
        for _ in 0..20_000 {
            let (k, _) = d
                .fair_random(|| {
                    seed ^= seed << 13;
                    seed ^= seed >> 7;
                    seed ^= seed << 17;
                    seed
                })
                .expect("a key");
            *counts.entry(k.to_vec()).or_insert(0u32) += 1;
        }
        assert_eq!(counts.len(), 10);
        // Each near 2000: well inside what chance allows (sd ~ 42).
        assert!(
            counts.values().all(|&c| (1700..2300).contains(&c)),
            "{counts:?}"
        );
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
