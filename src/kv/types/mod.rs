//! The collection types a key can hold besides strings: hashes, lists,
//! sets and sorted sets. Pure data structures (no logging, no locking);
//! [`crate::kv::keyspace`] changes them through logged ops.
//!
//! - Hashes and sets are [`Dict`]s, the key space's own table, so `HSCAN`
//!   and `SSCAN` get the same resize-proof cursor as `SCAN`.
//! - Lists are a `VecDeque` of boxed elements: O(1) at both ends and by
//!   index (`LINDEX`, `LSET` beat Redis's O(n) there).
//! - Sorted sets are a dict plus a skip list with spans ([`zset`],
//!   [`skiplist`]).
//!
//! Redis picks a compact encoding for small values (`listpack`, `intset`)
//! and converts for good once a limit is passed; netkit stores one way but
//! reports the encoding Redis would (`OBJECT ENCODING`), with the same
//! limits (`CONFIG SET hash-max-listpack-entries` ...).

pub mod geohash;
pub mod geoshape;
pub mod skiplist;
pub mod stream;
pub mod zset;

use std::collections::VecDeque;

use super::dict::Dict;
use super::protocol::parse_int;
pub use stream::{Stream, StreamId};
pub use zset::ZSet;

/// A hash: field to value.
#[derive(Default)]
pub struct Hash {
    /// The fields.
    pub map: Dict<Box<[u8]>>,
    /// Reported as `hashtable` from now on.
    pub big: bool,
}

/// A set of members.
#[derive(Default)]
pub struct Set {
    /// The members.
    pub map: Dict<()>,
    /// Reported as `hashtable` from now on.
    pub big: bool,
}

/// A list.
#[derive(Default, Clone, PartialEq, Debug)]
pub struct List {
    /// The elements, head first.
    pub items: VecDeque<Box<[u8]>>,
}

impl Clone for Hash {
    fn clone(&self) -> Self {
        let mut map = Dict::new();
        for (k, v) in self.map.iter() {
            map.insert(k, v.clone());
        }
        Hash { map, big: self.big }
    }
}

impl Clone for Set {
    fn clone(&self) -> Self {
        let mut map = Dict::new();
        for (k, _) in self.map.iter() {
            map.insert(k, ());
        }
        Set { map, big: self.big }
    }
}

impl std::fmt::Debug for Hash {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_map()
            .entries(self.map.iter().map(|(k, v)| {
                (
                    String::from_utf8_lossy(k),
                    String::from_utf8_lossy(v).into_owned(),
                )
            }))
            .finish()
    }
}

impl std::fmt::Debug for Set {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_set()
            .entries(self.map.iter().map(|(k, _)| String::from_utf8_lossy(k)))
            .finish()
    }
}

impl PartialEq for Hash {
    fn eq(&self, o: &Self) -> bool {
        self.map.len() == o.map.len() && self.map.iter().all(|(k, v)| o.map.get(k) == Some(v))
    }
}

impl PartialEq for Set {
    fn eq(&self, o: &Self) -> bool {
        self.map.len() == o.map.len() && self.map.iter().all(|(k, _)| o.map.get(k).is_some())
    }
}

/// The limits under which Redis keeps the compact encodings (its config
/// names, `CONFIG GET|SET`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EncLimits {
    /// `hash-max-listpack-entries`.
    pub hash_entries: i64,
    /// `hash-max-listpack-value`.
    pub hash_value: i64,
    /// `set-max-intset-entries`.
    pub set_intset: i64,
    /// `zset-max-listpack-entries`.
    pub zset_entries: i64,
    /// `zset-max-listpack-value`.
    pub zset_value: i64,
    /// `list-max-listpack-size` (accepted; 7.0 lists are always quicklists).
    pub list_size: i64,
    /// `list-compress-depth` (accepted; nothing is compressed).
    pub list_compress: i64,
    /// `stream-node-max-entries` (where `~` trims may cut).
    pub stream_entries: i64,
    /// `stream-node-max-bytes` (accepted; nodes are cut by entries only).
    pub stream_bytes: i64,
}

impl Default for EncLimits {
    fn default() -> Self {
        EncLimits {
            hash_entries: 128,
            hash_value: 64,
            set_intset: 512,
            zset_entries: 128,
            zset_value: 64,
            list_size: -2,
            list_compress: 0,
            stream_entries: 100,
            stream_bytes: 4096,
        }
    }
}

impl EncLimits {
    /// Each setting with its Redis config name, and the older `ziplist`
    /// spellings Redis 7.0 still answers to.
    pub fn params(&self) -> Vec<(&'static str, String)> {
        vec![
            ("hash-max-listpack-entries", self.hash_entries.to_string()),
            ("hash-max-ziplist-entries", self.hash_entries.to_string()),
            ("hash-max-listpack-value", self.hash_value.to_string()),
            ("hash-max-ziplist-value", self.hash_value.to_string()),
            ("set-max-intset-entries", self.set_intset.to_string()),
            ("zset-max-listpack-entries", self.zset_entries.to_string()),
            ("zset-max-ziplist-entries", self.zset_entries.to_string()),
            ("zset-max-listpack-value", self.zset_value.to_string()),
            ("zset-max-ziplist-value", self.zset_value.to_string()),
            ("list-max-listpack-size", self.list_size.to_string()),
            ("list-max-ziplist-size", self.list_size.to_string()),
            ("list-compress-depth", self.list_compress.to_string()),
            ("stream-node-max-entries", self.stream_entries.to_string()),
            ("stream-node-max-bytes", self.stream_bytes.to_string()),
        ]
    }

    /// Set one by name: `None` if `name` is not one of these, else whether
    /// `v` was accepted.
    pub fn set(&mut self, name: &str, v: &[u8]) -> Option<Result<(), &'static str>> {
        let name = name.replace("ziplist", "listpack");
        let slot = match name.as_str() {
            "hash-max-listpack-entries" => &mut self.hash_entries,
            "hash-max-listpack-value" => &mut self.hash_value,
            "set-max-intset-entries" => &mut self.set_intset,
            "zset-max-listpack-entries" => &mut self.zset_entries,
            "zset-max-listpack-value" => &mut self.zset_value,
            "list-max-listpack-size" => &mut self.list_size,
            "list-compress-depth" => &mut self.list_compress,
            "stream-node-max-entries" => &mut self.stream_entries,
            "stream-node-max-bytes" => &mut self.stream_bytes,
            _ => return None,
        };
        let min = if name == "list-max-listpack-size" {
            -5
        } else {
            0
        };
        Some(match parse_int(v) {
            Some(n) if n >= min => {
                *slot = n;
                Ok(())
            }
            Some(_) => Err("argument must be between the allowed range"),
            None => Err("argument couldn't be parsed into an integer"),
        })
    }
}

fn small<'a>(
    mut items: impl Iterator<Item = &'a [u8]>,
    len: usize,
    entries: i64,
    value: i64,
) -> bool {
    len as i64 <= entries && items.all(|b| b.len() as i64 <= value)
}

impl Hash {
    /// `listpack` or `hashtable`; once `hashtable`, always.
    pub fn encoding(&mut self, l: &EncLimits) -> &'static str {
        if !self.big {
            let items = self.map.iter().flat_map(|(k, v)| [k, &v[..]]);
            self.big = !small(items, self.map.len(), l.hash_entries, l.hash_value);
        }
        if self.big { "hashtable" } else { "listpack" }
    }
}

impl Set {
    /// `intset` or `hashtable`; once `hashtable`, always.
    pub fn encoding(&mut self, l: &EncLimits) -> &'static str {
        if !self.big {
            self.big = self.map.len() as i64 > l.set_intset
                || self.map.iter().any(|(k, _)| parse_int(k).is_none());
        }
        if self.big { "hashtable" } else { "intset" }
    }
}

impl ZSet {
    /// `listpack` or `skiplist`; once `skiplist`, always.
    pub fn encoding(&mut self, l: &EncLimits) -> &'static str {
        if !self.big {
            let items = self.sl.iter().map(|(m, _)| m);
            self.big = !small(items, self.len(), l.zset_entries, l.zset_value);
        }
        if self.big { "skiplist" } else { "listpack" }
    }
}

/// Resolve Redis's `start stop` (negative counts from the end) against
/// `len`: the inclusive index range, or `None` when empty.
pub fn index_range(start: i64, stop: i64, len: usize) -> Option<(usize, usize)> {
    let len = len as i64;
    let s = if start < 0 {
        (len + start).max(0)
    } else {
        start
    };
    let e = if stop < 0 {
        len + stop
    } else {
        stop.min(len - 1)
    };
    (s <= e && s < len && e >= 0).then_some((s as usize, e as usize))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn index_ranges_like_redis() {
        assert_eq!(index_range(0, -1, 3), Some((0, 2)));
        assert_eq!(index_range(-100, 100, 3), Some((0, 2)));
        assert_eq!(index_range(1, 0, 3), None);
        assert_eq!(index_range(5, 10, 3), None);
        assert_eq!(index_range(0, -4, 3), None);
        assert_eq!(index_range(0, 0, 0), None);
        assert_eq!(index_range(-2, -1, 3), Some((1, 2)));
    }

    #[test]
    fn encodings_follow_the_limits_and_stick() {
        let l = EncLimits::default();
        let mut s = Set::default();
        s.map.insert(b"1", ());
        assert_eq!(s.encoding(&l), "intset");
        s.map.insert(b"x", ());
        assert_eq!(s.encoding(&l), "hashtable");
        s.map.remove(b"x");
        assert_eq!(s.encoding(&l), "hashtable");
        let mut h = Hash::default();
        h.map.insert(b"f", b"v".to_vec().into());
        assert_eq!(h.encoding(&l), "listpack");
        h.map.insert(b"g", vec![b'x'; 65].into());
        assert_eq!(h.encoding(&l), "hashtable");
    }
}
