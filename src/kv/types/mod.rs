//! The collection types a key can hold besides strings: hashes, lists,
//! sets and sorted sets. Pure data structures (no logging, no locking);
//! [`crate::kv::keyspace`] changes them through logged ops.
//!
//! - Hashes ([`hash`]) and sets ([`set`]) keep Redis's two encodings, so
//!   their replies come in redis-server's order: a small hash is a
//!   `listpack` in insertion order, a small set of integers an `intset`
//!   sorted by value; past the limits both become the key space's own
//!   [`Dict`](super::dict::Dict) (`hashtable`), with `SCAN`'s resize-proof cursor.
//! - Lists are a `VecDeque` of boxed elements: O(1) at both ends and by
//!   index (`LINDEX`, `LSET` beat Redis's O(n) there).
//! - Sorted sets are a dict plus a skip list with spans ([`zset`],
//!   [`skiplist`]).
//!
//! Redis picks a compact encoding for small values (`listpack`, `intset`)
//! and converts for good once a limit is passed. Hashes and sets convert
//! where Redis does, under the same limits (`CONFIG SET
//! hash-max-listpack-entries` ...); sorted sets are stored one way and
//! report the encoding Redis would (`OBJECT ENCODING`).

pub mod geohash;
pub mod geoshape;
pub mod hash;
pub mod set;
pub mod skiplist;
pub mod stream;
pub mod zset;

use std::collections::VecDeque;

use super::protocol::parse_int;
pub use hash::Hash;
pub use set::Set;
pub use stream::{Stream, StreamId};
pub use zset::ZSet;

/// A list.
#[derive(Default, Clone, PartialEq, Debug)]
pub struct List {
    /// The elements, head first.
    pub items: VecDeque<Box<[u8]>>,
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
}
