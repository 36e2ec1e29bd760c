//! What a key holds. One enum for every Redis type (strings, hashes, lists,
//! sets, sorted sets; the collections are boxed so a string key stays
//! small), and every command that expects one type answers `WRONGTYPE` for
//! another through [`Value::as_str`] and its siblings.

use super::types::{EncLimits, Hash, List, Set, Stream, ZSet};

/// The `WRONGTYPE` error text, as Redis words it.
pub const WRONGTYPE: &str = "WRONGTYPE Operation against a key holding the wrong kind of value";

/// A value of one of Redis's types.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// A string (also integers and bitmaps).
    Str(Vec<u8>),
    /// A hash.
    Hash(Box<Hash>),
    /// A list.
    List(Box<List>),
    /// A set.
    Set(Box<Set>),
    /// A sorted set.
    ZSet(Box<ZSet>),
    /// A stream.
    Stream(Box<Stream>),
}

macro_rules! accessors {
    ($($variant:ident, $ty:ty, $get:ident, $get_mut:ident;)*) => {$(
        #[doc = concat!("The ", stringify!($variant), ", or `WrongType`.")]
        pub fn $get(&self) -> Result<&$ty, WrongType> {
            match self {
                Value::$variant(v) => Ok(v),
                _ => Err(WrongType),
            }
        }

        #[doc = concat!("The ", stringify!($variant), ", mutable, or `WrongType`.")]
        pub fn $get_mut(&mut self) -> Result<&mut $ty, WrongType> {
            match self {
                Value::$variant(v) => Ok(v),
                _ => Err(WrongType),
            }
        }
    )*};
}

/// The value held is of another type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WrongType;

impl Value {
    /// The `TYPE` name.
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Str(_) => "string",
            Value::Hash(_) => "hash",
            Value::List(_) => "list",
            Value::Set(_) => "set",
            Value::ZSet(_) => "zset",
            Value::Stream(_) => "stream",
        }
    }

    /// The `OBJECT ENCODING` name, as Redis 7.0 would report it: a hash's
    /// or set's own; a sorted set's under the limits `l` (past them it is
    /// reported big from then on).
    pub fn encoding(&mut self, l: &EncLimits) -> &'static str {
        match self {
            Value::Str(s) => {
                if s.len() <= 20 && super::protocol::parse_int(s).is_some() {
                    "int"
                } else if s.len() <= 44 {
                    "embstr"
                } else {
                    "raw"
                }
            }
            Value::Hash(h) => h.encoding(),
            Value::List(_) => "quicklist",
            Value::Set(s) => s.encoding(),
            Value::ZSet(z) => z.encoding(l),
            Value::Stream(_) => "stream",
        }
    }

    /// The string, or `WrongType`.
    pub fn as_str(&self) -> Result<&Vec<u8>, WrongType> {
        match self {
            Value::Str(s) => Ok(s),
            _ => Err(WrongType),
        }
    }

    /// The string, mutable, or `WrongType`.
    pub fn as_str_mut(&mut self) -> Result<&mut Vec<u8>, WrongType> {
        match self {
            Value::Str(s) => Ok(s),
            _ => Err(WrongType),
        }
    }

    accessors! {
        Hash, Hash, as_hash, as_hash_mut;
        List, List, as_list, as_list_mut;
        Set, Set, as_set, as_set_mut;
        ZSet, ZSet, as_zset, as_zset_mut;
        Stream, Stream, as_stream, as_stream_mut;
    }

    /// Elements of a collection (1 for a string).
    pub fn len(&self) -> usize {
        match self {
            Value::Str(_) => 1,
            Value::Hash(h) => h.len(),
            Value::List(l) => l.items.len(),
            Value::Set(s) => s.len(),
            Value::ZSet(z) => z.len(),
            Value::Stream(s) => s.len(),
        }
    }

    /// True for an empty collection (never stored: Redis deletes the key;
    /// a stream stays, empty or not).
    pub fn is_empty(&self) -> bool {
        !matches!(self, Value::Str(_) | Value::Stream(_)) && self.len() == 0
    }

    /// Rough heap size, for INFO's `used_memory` and MEMORY USAGE: O(1),
    /// so INFO stays cheap with big collections (per-element overheads as
    /// netkit stores them, payload bytes estimated, not walked).
    pub fn mem(&self) -> usize {
        match self {
            Value::Str(s) => s.capacity(),
            Value::Hash(h) => h.len() * 96,
            Value::List(l) => l.items.capacity() * 16 + l.items.len() * 16,
            Value::Set(s) => s.len() * 64,
            Value::ZSet(z) => z.len() * 128,
            Value::Stream(s) => s.mem(),
        }
    }
}

/// Redis's LFU counter of a new key.
pub const LFU_INIT_VAL: u8 = 5;

/// A key's value with its expiry (Unix ms, 0 = never) and last access
/// (seconds on the server's clock, for `OBJECT IDLETIME`).
#[derive(Debug, Clone)]
pub struct Entry {
    /// The value.
    pub value: Value,
    /// Absolute expiry in Unix milliseconds; 0: none.
    pub expires_at: u64,
    /// Last access, Unix seconds (truncated).
    pub access: u32,
    /// Changed in place (APPEND, SETRANGE, SETBIT): Redis reports such a
    /// string as `raw` whatever it holds.
    pub raw: bool,
    /// `OBJECT FREQ` under an LFU `maxmemory-policy`: Redis's initial 5, or
    /// what `RESTORE ... FREQ` set (accesses do not change it: netkit keeps
    /// no LFU counters, and its LFU policies evict as LRU).
    pub freq: u8,
}

impl Entry {
    /// A value that never expires.
    pub fn new(value: Value, expires_at: u64, now_ms: u64) -> Entry {
        Entry {
            value,
            expires_at,
            access: (now_ms / 1000) as u32,
            raw: false,
            freq: LFU_INIT_VAL,
        }
    }

    /// The `OBJECT ENCODING` name under the limits `l`.
    pub fn encoding(&mut self, l: &EncLimits) -> &'static str {
        if self.raw {
            "raw"
        } else {
            self.value.encoding(l)
        }
    }

    /// The `OBJECT REFCOUNT`: Redis shares the integers 0..9999.
    pub fn refcount(&self) -> i64 {
        match &self.value {
            Value::Str(s) if !self.raw && s.len() <= 4 => match super::protocol::parse_int(s) {
                Some(0..=9999) => i32::MAX as i64,
                _ => 1,
            },
            _ => 1,
        }
    }

    /// True unless expired at `now` (ms).
    pub fn live(&self, now: u64) -> bool {
        self.expires_at == 0 || self.expires_at > now
    }
}
