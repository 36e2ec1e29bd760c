//! What a key holds. One enum for every Redis type: strings today; issue 11
//! adds `Hash`, `List`, `Set` and `ZSet` variants and their family files, and
//! every command that expects one type answers `WRONGTYPE` for another
//! through [`Value::as_str`] and its siblings.

/// The `WRONGTYPE` error text, as Redis words it.
pub const WRONGTYPE: &str = "WRONGTYPE Operation against a key holding the wrong kind of value";

/// A value of one of Redis's types.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// A string (also integers and bitmaps).
    Str(Vec<u8>),
}

/// The value held is of another type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WrongType;

impl Value {
    /// The `TYPE` name.
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Str(_) => "string",
        }
    }

    /// The `OBJECT ENCODING` name, as Redis would report it.
    pub fn encoding(&self) -> &'static str {
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
        }
    }

    /// The string, or `WrongType`.
    pub fn as_str(&self) -> Result<&Vec<u8>, WrongType> {
        match self {
            Value::Str(s) => Ok(s),
        }
    }

    /// The string, mutable, or `WrongType`.
    pub fn as_str_mut(&mut self) -> Result<&mut Vec<u8>, WrongType> {
        match self {
            Value::Str(s) => Ok(s),
        }
    }

    /// Rough heap size, for INFO's `used_memory`.
    pub fn mem(&self) -> usize {
        match self {
            Value::Str(s) => s.capacity(),
        }
    }
}

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
}

impl Entry {
    /// A value that never expires.
    pub fn new(value: Value, expires_at: u64, now_ms: u64) -> Entry {
        Entry {
            value,
            expires_at,
            access: (now_ms / 1000) as u32,
            raw: false,
        }
    }

    /// The `OBJECT ENCODING` name.
    pub fn encoding(&self) -> &'static str {
        if self.raw {
            "raw"
        } else {
            self.value.encoding()
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
