//! `cmsgpack`, the MessagePack library Redis's Lua has (lua-cmsgpack 0.4.0's
//! API and byte output), written here: `pack(v, ...)`, `unpack(s)`,
//! `unpack_one(s [, offset])`, `unpack_limit(s, limit [, offset])`.
//!
//! Packing follows lua-cmsgpack on Lua 5.1: a number that is an integer
//! fitting int64 packs as the smallest integer form (positive and negative
//! fixnums, uint/int 8..64), any other number as a float32 when that is
//! exact, else a float64; a string as fixraw/raw8/raw16/raw32 (binary
//! safe); booleans; a table whose keys are exactly 1..n as an array (an
//! empty table too), any other as a map; anything else (nil, functions,
//! `cjson.null`...) as nil. Tables nested 16 deep pack as nil there, which
//! is how Redis survives circular references. Several arguments pack one
//! after another, as a stream.
//!
//! Unpacking reads that stream back (uint64 wraps to int64 as Redis's does,
//! all numbers are Lua numbers) and raises Redis's errors ("Missing bytes in
//! input.", "Bad data format in input.", the offset/limit ones). Every
//! length in a header is checked against the bytes present before anything
//! is made from it, tables are never preallocated past those bytes, nesting
//! is bounded (`MAX_DECODE_DEPTH`) and so is the number of values returned
//! at once (`MAX_RESULTS`, about where Redis's Lua C stack gives out, with
//! Redis's message).
//!
//! The public functions are small Lua wrappers over two Rust ones, so
//! arguments and results travel on the Lua stack or in one table, never as
//! thousands of mlua references at once (mlua has about 8,000 slots for
//! them and panics past that).

use mlua::{ChunkMode, Lua, Table, Value};

use super::libs::{self, LibError};
use super::run::checkpoint;

/// Tables nested deeper than this pack as nil (lua-cmsgpack's limit).
const MAX_NESTING: u32 = 16;

/// Deepest nesting unpacked. Redis's Lua gives out at about 4,000 (its C
/// stack); this bound also keeps the Rust recursion and the mlua
/// references held while building nested tables small.
pub const MAX_DECODE_DEPTH: u32 = 1000;

/// Most values one call returns (Redis's Lua C stack holds about 8,000).
pub const MAX_RESULTS: usize = 7900;

/// Largest packed output: past it `pack` fails instead of growing without
/// bound (a table that refers to itself many times expands to 16 levels).
pub const MAX_PACKED: usize = 256 << 20;

const TOO_MANY: &str =
    "stack overflow (too many return values at once; use unpack_one or unpack_limit instead.)";

// ---------------------------------------------------------------- packing

fn pack_bytes(s: &[u8], out: &mut Vec<u8>) {
    let n = s.len();
    if n < 32 {
        out.push(0xa0 | n as u8);
    } else if n <= 0xff {
        out.extend_from_slice(&[0xd9, n as u8]);
    } else if n <= 0xffff {
        out.push(0xda);
        out.extend_from_slice(&(n as u16).to_be_bytes());
    } else {
        out.push(0xdb);
        out.extend_from_slice(&(n as u32).to_be_bytes());
    }
    out.extend_from_slice(s);
}

fn pack_int(n: i64, out: &mut Vec<u8>) {
    if n >= 0 {
        if n <= 127 {
            out.push(n as u8);
        } else if n <= 0xff {
            out.extend_from_slice(&[0xcc, n as u8]);
        } else if n <= 0xffff {
            out.push(0xcd);
            out.extend_from_slice(&(n as u16).to_be_bytes());
        } else if n <= 0xffff_ffff {
            out.push(0xce);
            out.extend_from_slice(&(n as u32).to_be_bytes());
        } else {
            out.push(0xcf);
            out.extend_from_slice(&(n as u64).to_be_bytes());
        }
    } else if n >= -32 {
        out.push(n as i8 as u8);
    } else if n >= -128 {
        out.extend_from_slice(&[0xd0, n as i8 as u8]);
    } else if n >= -32768 {
        out.push(0xd1);
        out.extend_from_slice(&(n as i16).to_be_bytes());
    } else if n >= -2_147_483_648 {
        out.push(0xd2);
        out.extend_from_slice(&(n as i32).to_be_bytes());
    } else {
        out.push(0xd3);
        out.extend_from_slice(&n.to_be_bytes());
    }
}

/// 2^63: the first double past int64.
const TWO_63: f64 = 9_223_372_036_854_775_808.0;

fn pack_number(n: f64, out: &mut Vec<u8>) {
    // An integer when it converts to int64 and back unchanged (2^63 does
    // not: the C cast gives INT64_MIN there, so it is a double).
    if n.is_finite() && n.fract() == 0.0 && (-TWO_63..TWO_63).contains(&n) {
        pack_int(n as i64, out);
    } else if (n as f32) as f64 == n {
        out.push(0xca);
        out.extend_from_slice(&(n as f32).to_be_bytes());
    } else {
        out.push(0xcb);
        out.extend_from_slice(&n.to_be_bytes());
    }
}

fn pack_len(n: usize, small: u8, b16: u8, out: &mut Vec<u8>) {
    if n <= 15 {
        out.push(small | n as u8);
    } else if n <= 0xffff {
        out.push(b16);
        out.extend_from_slice(&(n as u16).to_be_bytes());
    } else {
        out.push(b16 + 1);
        out.extend_from_slice(&(n as u32).to_be_bytes());
    }
}

/// The array length of `t` when its keys are exactly 1..n (lua-cmsgpack's
/// test: every key a positive number that is an `int`, as many keys as the
/// largest one).
fn array_len(t: &Table) -> mlua::Result<Option<usize>> {
    let (mut count, mut max) = (0i64, 0i64);
    for pair in t.pairs::<Value, Value>() {
        let (k, _) = pair?;
        let n = match k {
            Value::Integer(i) if i > 0 && i <= i64::from(i32::MAX) => i,
            Value::Number(n) if n > 0.0 && n <= f64::from(i32::MAX) && n.fract() == 0.0 => n as i64,
            _ => return Ok(None),
        };
        max = max.max(n);
        count += 1;
    }
    Ok((max == count).then_some(count as usize))
}

/// How many tables `pack` visits between two [`checkpoint`]s.
const CHECK_EVERY: u32 = 1 << 14;

struct Packer<'a> {
    lua: &'a Lua,
    out: Vec<u8>,
    /// Set when the output passed `max` (packing then stops).
    too_big: bool,
    /// Output bound (MAX_PACKED; smaller in tests).
    max: usize,
    tables: u32,
}

impl Packer<'_> {
    fn value(&mut self, v: &Value, level: u32) -> mlua::Result<()> {
        match v {
            Value::String(s) => pack_bytes(&s.as_bytes(), &mut self.out),
            Value::Boolean(b) => self.out.push(if *b { 0xc3 } else { 0xc2 }),
            Value::Integer(i) => pack_int(*i, &mut self.out),
            Value::Number(n) => pack_number(*n, &mut self.out),
            Value::Table(t) if level < MAX_NESTING => self.table(t, level)?,
            _ => self.out.push(0xc0),
        }
        Ok(())
    }

    fn table(&mut self, t: &Table, level: u32) -> mlua::Result<()> {
        // A table referring to itself k times expands to k^16 items: bound
        // the output, and let a long pack go busy and be killed as a
        // long-running script is.
        self.tables = self.tables.wrapping_add(1);
        if self.tables % CHECK_EVERY == 0 {
            checkpoint(self.lua)?;
        }
        if self.out.len() > self.max {
            self.too_big = true;
        }
        if self.too_big {
            return Ok(());
        }
        match array_len(t)? {
            Some(n) => {
                pack_len(n, 0x90, 0xdc, &mut self.out);
                for j in 1..=n {
                    // lua_gettable, as lua-cmsgpack: __index is honoured.
                    self.value(&t.get::<Value>(j)?, level + 1)?;
                }
            }
            None => {
                let mut n = 0usize;
                for pair in t.pairs::<Value, Value>() {
                    pair?;
                    n += 1;
                }
                pack_len(n, 0x80, 0xde, &mut self.out);
                for pair in t.pairs::<Value, Value>() {
                    let (k, val) = pair?;
                    self.value(&k, level + 1)?;
                    self.value(&val, level + 1)?;
                }
            }
        }
        Ok(())
    }
}

/// One value packed (the Rust half of `cmsgpack.pack`). The outer error
/// is Lua's (a metamethod's, SCRIPT KILL) and propagates as it is.
pub fn pack(lua: &Lua, v: &Value) -> mlua::Result<Result<Vec<u8>, LibError>> {
    let mut p = Packer {
        lua,
        out: Vec::new(),
        too_big: false,
        max: MAX_PACKED,
        tables: 0,
    };
    p.value(v, 0)?;
    Ok(p.finish())
}

impl Packer<'_> {
    fn finish(self) -> Result<Vec<u8>, LibError> {
        if self.too_big {
            return Err(LibError::Error(format!(
                "MessagePack pack: output larger than {} bytes",
                self.max
            )));
        }
        Ok(self.out)
    }
}

// -------------------------------------------------------------- unpacking

enum Fail {
    /// The input ended inside a value.
    Eof,
    /// A byte no MessagePack type lua-cmsgpack reads starts with.
    BadFormat,
    /// A library error, raised as it says.
    Lib(LibError),
    /// Lua's own (memory, SCRIPT KILL): propagates as it is.
    Lua(mlua::Error),
}

impl From<mlua::Error> for Fail {
    fn from(e: mlua::Error) -> Fail {
        Fail::Lua(e)
    }
}

struct Cursor<'a> {
    b: &'a [u8],
    pos: usize,
    /// Values decoded, for the periodic [`checkpoint`].
    items: u32,
}

impl<'a> Cursor<'a> {
    fn left(&self) -> usize {
        self.b.len() - self.pos
    }

    /// The next `n` bytes, consumed; Eof when fewer are there.
    fn take(&mut self, n: usize) -> Result<&'a [u8], Fail> {
        if self.left() < n {
            return Err(Fail::Eof);
        }
        let s = &self.b[self.pos..self.pos + n];
        self.pos += n;
        Ok(s)
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], Fail> {
        let mut a = [0u8; N];
        a.copy_from_slice(self.take(N)?);
        Ok(a)
    }

    fn len8(&mut self) -> Result<usize, Fail> {
        Ok(self.array::<1>()?[0] as usize)
    }

    fn len16(&mut self) -> Result<usize, Fail> {
        Ok(u16::from_be_bytes(self.array()?) as usize)
    }

    fn len32(&mut self) -> Result<usize, Fail> {
        Ok(u32::from_be_bytes(self.array()?) as usize)
    }
}

fn num(n: f64) -> Value {
    Value::Number(n)
}

fn decode_array(lua: &Lua, c: &mut Cursor<'_>, n: usize, depth: u32) -> Result<Value, Fail> {
    // Grown as lua_settable grows it (no preallocation from the header;
    // and `#t` of {nil, 1} is then 0, as in Redis).
    let t = lua.create_table()?;
    for i in 1..=n {
        let v = decode(lua, c, depth)?;
        t.raw_set(i, v)?;
    }
    Ok(Value::Table(t))
}

fn decode_map(lua: &Lua, c: &mut Cursor<'_>, n: usize, depth: u32) -> Result<Value, Fail> {
    let t = lua.create_table()?;
    for _ in 0..n {
        let k = decode(lua, c, depth)?;
        let v = decode(lua, c, depth)?;
        match &k {
            // lua_settable's runtime errors: no position.
            Value::Nil => return Err(Fail::Lib(LibError::Plain("table index is nil".into()))),
            Value::Number(f) if f.is_nan() => {
                return Err(Fail::Lib(LibError::Plain("table index is NaN".into())));
            }
            _ => t.raw_set(k, v)?,
        }
    }
    Ok(Value::Table(t))
}

/// One value from `c`; `depth` tables enclose it.
fn decode(lua: &Lua, c: &mut Cursor<'_>, depth: u32) -> Result<Value, Fail> {
    let b = c.take(1)?[0];
    c.items = c.items.wrapping_add(1);
    if c.items % (CHECK_EVERY * 4) == 0 {
        checkpoint(lua)?;
    }
    let nested = || {
        if depth >= MAX_DECODE_DEPTH {
            Err(Fail::Lib(LibError::Error(format!(
                "Too many nested data structures in input (more than {MAX_DECODE_DEPTH})."
            ))))
        } else {
            Ok(depth + 1)
        }
    };
    Ok(match b {
        0xc0 => Value::Nil,
        0xc2 => Value::Boolean(false),
        0xc3 => Value::Boolean(true),
        0xcc => num(c.array::<1>()?[0] as f64),
        0xcd => num(u16::from_be_bytes(c.array()?) as f64),
        0xce => num(u32::from_be_bytes(c.array()?) as f64),
        // Redis pushes a uint64 as a lua_Integer: past 2^63 it wraps.
        0xcf => num(u64::from_be_bytes(c.array()?) as i64 as f64),
        0xd0 => num(c.array::<1>()?[0] as i8 as f64),
        0xd1 => num(i16::from_be_bytes(c.array()?) as f64),
        0xd2 => num(i32::from_be_bytes(c.array()?) as f64),
        0xd3 => num(i64::from_be_bytes(c.array()?) as f64),
        0xca => num(f32::from_be_bytes(c.array()?) as f64),
        0xcb => num(f64::from_be_bytes(c.array()?)),
        0xd9..=0xdb => {
            let n = match b {
                0xd9 => c.len8()?,
                0xda => c.len16()?,
                _ => c.len32()?,
            };
            Value::String(lua.create_string(c.take(n)?)?)
        }
        0xdc | 0xdd => {
            let n = if b == 0xdc { c.len16()? } else { c.len32()? };
            decode_array(lua, c, n, nested()?)?
        }
        0xde | 0xdf => {
            let n = if b == 0xde { c.len16()? } else { c.len32()? };
            decode_map(lua, c, n, nested()?)?
        }
        0x00..=0x7f => num(b as f64),
        0xe0..=0xff => num(b as i8 as f64),
        0xa0..=0xbf => Value::String(lua.create_string(c.take((b & 0x1f) as usize)?)?),
        0x90..=0x9f => decode_array(lua, c, (b & 0x0f) as usize, nested()?)?,
        0x80..=0x8f => decode_map(lua, c, (b & 0x0f) as usize, nested()?)?,
        _ => return Err(Fail::BadFormat),
    })
}

/// What one unpack call produced.
pub struct Unpacked {
    /// The values, 1..=n.
    pub values: Table,
    /// How many.
    pub n: usize,
    /// Where the next value starts (-1: the input is used up); None when
    /// the whole input was asked for (`unpack`, or limit and offset 0).
    pub next: Option<i64>,
}

/// Redis's `mp_unpack_full`: up to `limit` values from `s` at `offset`
/// (limit and offset 0: every value, and no offset returned). The outer
/// error is Lua's and propagates as it is.
pub fn unpack(
    lua: &Lua,
    s: &[u8],
    limit: i64,
    offset: i64,
) -> mlua::Result<Result<Unpacked, LibError>> {
    let all = limit == 0 && offset == 0;
    if offset < 0 || limit < 0 {
        // Redis prints the input length where the limit would go.
        return Ok(Err(LibError::Error(format!(
            "Invalid request to unpack with offset of {} and limit of {}.",
            offset as i32,
            s.len() as i32
        ))));
    }
    if offset as u64 > s.len() as u64 {
        return Ok(Err(LibError::Error(format!(
            "Start offset {} greater than input length {}.",
            offset as i32,
            s.len() as i32
        ))));
    }
    let limit = if all { i64::from(i32::MAX) } else { limit };
    let mut c = Cursor {
        b: s,
        pos: offset as usize,
        items: 0,
    };
    let values = lua.create_table()?;
    let mut n = 0usize;
    while c.left() > 0 && (n as i64) < limit {
        if n >= MAX_RESULTS {
            return Ok(Err(LibError::Error(TOO_MANY.into())));
        }
        let e = match decode(lua, &mut c, 0) {
            Ok(v) => {
                values.raw_set(n + 1, v)?;
                n += 1;
                continue;
            }
            Err(Fail::Eof) => LibError::Error("Missing bytes in input.".into()),
            Err(Fail::BadFormat) => LibError::Error("Bad data format in input.".into()),
            Err(Fail::Lib(e)) => e,
            Err(Fail::Lua(e)) => return Err(e),
        };
        return Ok(Err(e));
    }
    let next = (!all).then(|| if c.left() == 0 { -1 } else { c.pos as i64 });
    Ok(Ok(Unpacked { values, n, next }))
}

// ---------------------------------------------------------------- library

/// The implementations (behind `libs`' trampoline): lua-cmsgpack's
/// argument checks, in its order, then the Rust halves.
const IMPLEMENTATION: &str = r#"
local pack1, unpack_raw = ...
local select, unpack, concat = select, unpack, table.concat

local function finish(ok, t, n, nxt)
  if not ok then return false, t, n end
  if nxt == nil then return true, unpack(t, 1, n) end
  return true, nxt, unpack(t, 1, n)
end

local M = {}
M.pack = function(...)
  local n = select('#', ...)
  if n == 0 then return false, 'MessagePack pack needs input.', 0 end
  -- lua_checkstack(L, nargs) past the arguments: Lua's 8,000-slot limit.
  if n > 4000 then return false, 'Too many arguments for MessagePack pack.', 0 end
  if n == 1 then return pack1((...)) end
  local args, parts = {...}, {}
  for i = 1, n do
    local ok, s, how = pack1(args[i])
    if not ok then return false, s, how end
    parts[i] = s
  end
  return true, concat(parts)
end
M.unpack = function(...)
  local n, s = select('#', ...), ...
  local str, e = check_string(n, 1, s)
  if not str then return false, e, 1 end
  return finish(unpack_raw(str, 0, 0))
end
M.unpack_one = function(...)
  local n, s, offset = select('#', ...), ...
  local o, e = check_int(n, 2, offset, 0)
  if not o then return false, e, 2 end
  local str
  str, e = check_string(n, 1, s)
  if not str then return false, e, 1 end
  return finish(unpack_raw(str, 1, o))
end
M.unpack_limit = function(...)
  local n, s, limit, offset = select('#', ...), ...
  local l, e = check_int(n, 2, limit)
  if not l then return false, e, 2 end
  local o
  o, e = check_int(n, 3, offset, 0)
  if not o then return false, e, 3 end
  local str
  str, e = check_string(n, 1, s)
  if not str then return false, e, 1 end
  return finish(unpack_raw(str, l, o))
end
M._NAME = 'cmsgpack'
M._VERSION = 'lua-cmsgpack 0.4.0'
M._COPYRIGHT = 'Copyright (C) 2012, Salvatore Sanfilippo'
M._DESCRIPTION = 'MessagePack C implementation for Lua'
return M
"#;

/// The `cmsgpack` table.
pub fn library(lua: &Lua) -> mlua::Result<Table> {
    let pack1 = lua.create_function(|lua, v: Value| {
        let r = pack(lua, &v)?;
        let r = match r {
            Ok(b) => Ok(vec![Value::String(lua.create_string(b)?)]),
            Err(e) => Err(e),
        };
        libs::answer(lua, r)
    })?;
    let unpack_raw = lua.create_function(|lua, (s, limit, offset): (mlua::String, f64, f64)| {
        let r = unpack(lua, &s.as_bytes(), limit as i64, offset as i64)?.map(|u| {
            vec![
                Value::Table(u.values),
                Value::Number(u.n as f64),
                u.next.map_or(Value::Nil, |o| Value::Number(o as f64)),
            ]
        });
        libs::answer(lua, r)
    })?;
    let implementation: Table = lua
        .load(format!("{}{IMPLEMENTATION}", libs::CHECKS))
        .set_name("=cmsgpack")
        .set_mode(ChunkMode::Text)
        .call((pack1, unpack_raw))?;
    libs::library(lua, implementation)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lua() -> Lua {
        let lua = Lua::new();
        lua.globals()
            .set("cmsgpack", library(&lua).expect("cmsgpack"))
            .expect("set");
        lua
    }

    fn hex(code: &str) -> String {
        let lua = lua();
        let b: mlua::String = lua.load(code).eval().expect(code);
        b.as_bytes().iter().map(|x| format!("{x:02x}")).collect()
    }

    fn eval(code: &str) -> String {
        lua().load(code).eval::<String>().expect(code)
    }

    fn error_of(code: &str) -> String {
        match lua().load(code).exec() {
            Ok(()) => panic!("no error from {code}"),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn packs_the_bytes_redis_packs() {
        // From Redis's scripting.tcl and lua-cmsgpack's rules.
        assert_eq!(hex("return cmsgpack.pack(0.1)"), "cb3fb999999999999a");
        assert_eq!(
            hex("return cmsgpack.pack(-1099511627776)"),
            "d3ffffff0000000000"
        );
        assert_eq!(hex("return cmsgpack.pack(0.5)"), "ca3f000000");
        assert_eq!(
            hex("return cmsgpack.pack(1, 127, 128, 255, 256)"),
            "017fcc80ccffcd0100"
        );
        assert_eq!(
            hex("return cmsgpack.pack(65536, 2^32, -1, -32, -33)"),
            "ce00010000cf0000000100000000ffe0d0df"
        );
        assert_eq!(
            hex("return cmsgpack.pack(-129, -32769, -2^31, -2^31 - 1)"),
            "d1ff7fd2ffff7fffd280000000d3ffffffff7fffffff"
        );
        assert_eq!(hex("return cmsgpack.pack(2^63)"), "ca5f000000");
        assert_eq!(
            hex("return cmsgpack.pack(2^63 + 2^20)"),
            "cb43e0000000000200"
        );
        assert_eq!(hex("return cmsgpack.pack(-2^63)"), "d38000000000000000");
        assert_eq!(
            hex("return cmsgpack.pack(1/0, -1/0)"),
            "ca7f800000caff800000"
        );
        assert_eq!(
            hex("return cmsgpack.pack(true, false, nil, print)"),
            "c3c2c0c0"
        );
        assert_eq!(hex("return cmsgpack.pack('a\\0b')"), "a3610062");
        assert_eq!(
            hex("return cmsgpack.pack(('x'):rep(32))").get(..4),
            Some("d920")
        );
        assert_eq!(
            hex("return cmsgpack.pack(('x'):rep(256))").get(..6),
            Some("da0100")
        );
        assert_eq!(
            hex("return cmsgpack.pack(('x'):rep(65536))").get(..10),
            Some("db00010000")
        );
        assert_eq!(hex("return cmsgpack.pack({})"), "90");
        assert_eq!(
            hex("return cmsgpack.pack({1, 'a', {true}})"),
            "9301a16191c3"
        );
        assert_eq!(
            hex("return cmsgpack.pack({[1] = 1, [3] = 3})").get(..2),
            Some("82")
        );
        assert_eq!(hex("return cmsgpack.pack({a = 1})"), "81a16101");
        let t = "local t = {} for i = 1, 16 do t[i] = i end return cmsgpack.pack(t)";
        assert_eq!(hex(t).get(..6), Some("dc0010"));
    }

    #[test]
    fn round_trips() {
        let code = r#"
            local big = {} for i = 1, 70000 do big[i] = i end
            local map = {} for i = 1, 100 do map['k' .. i] = -i * 1000 end
            local v = {1.5, -7, 2^40, 'bin\0ary\255', big, map, {x = {y = {z = true}}}, 0.1}
            local r = cmsgpack.unpack(cmsgpack.pack(v))
            assert(r[1] == 1.5 and r[2] == -7 and r[3] == 2^40 and r[4] == 'bin\0ary\255')
            assert(#r[5] == 70000 and r[5][70000] == 70000)
            assert(r[6].k100 == -100000 and r[7].x.y.z == true and r[8] == 0.1)
            local a, b, c = cmsgpack.unpack(cmsgpack.pack('one', 2, {3}))
            assert(a == 'one' and b == 2 and c[1] == 3)
            local s = cmsgpack.pack(1, 2, 3)
            local off, x = cmsgpack.unpack_one(s)
            assert(off == 1 and x == 1)
            off, x = cmsgpack.unpack_one(s, off)
            assert(off == 2 and x == 2)
            off, x = cmsgpack.unpack_one(s, off)
            assert(off == -1 and x == 3)
            local o, p, q = cmsgpack.unpack_limit(s, 2)
            assert(o == 2 and p == 1 and q == 2)
            assert(select('#', cmsgpack.unpack('')) == 0)
            assert(cmsgpack.unpack(cmsgpack.pack(2^64 - 1)) == 2^64 - 1)
            return 'ok'
        "#;
        assert_eq!(eval(code), "ok");
        // uint64 past int64 wraps, as Redis's lua_pushunsigned does.
        assert_eq!(
            eval(
                "return tostring(cmsgpack.unpack('\\207\\255\\255\\255\\255\\255\\255\\255\\255'))"
            ),
            "-1"
        );
    }

    #[test]
    fn circular_tables_stop_at_16_levels() {
        let code = r#"
            local a = {y = 5} local b = {x = a} a.x = b
            local r = cmsgpack.unpack(cmsgpack.pack(a))
            assert(r.x.x.x.x.x.x.x.x.x.x.x.x.x.x.y == 5)
            assert(r.x.x.x.x.x.x.x.x.x.x.x.x.x.x.x.x == nil)
            local t = {} t[1] = t t[2] = t
            return #cmsgpack.pack(t)
        "#;
        // {t, t}: 2^16 nils under 2^16 - 1 two-item arrays.
        assert_eq!(eval(code), (65536 + 65535).to_string());
        // 8 self references would be 8^16 items: the output bound stops it.
        let lua = lua();
        let t: Table = lua
            .load("local t = {} for i = 1, 8 do t[i] = t end return t")
            .eval()
            .expect("t");
        let mut p = Packer {
            lua: &lua,
            out: Vec::new(),
            too_big: false,
            max: 1 << 20,
            tables: 0,
        };
        p.value(&Value::Table(t), 0).expect("no Lua error");
        match p.finish() {
            Err(LibError::Error(e)) => assert!(e.contains("output larger than"), "{e}"),
            r => panic!("not bounded: {r:?}"),
        }
    }

    #[test]
    fn malformed_input_is_a_lua_error() {
        for (input, want) in [
            ("'\\217\\10abc'", "Missing bytes in input."),
            ("'\\219\\255\\255\\255\\255'", "Missing bytes in input."),
            ("'\\221\\255\\255\\255\\255\\1'", "Missing bytes in input."),
            ("'\\223\\255\\255\\255\\255'", "Missing bytes in input."),
            ("'\\193'", "Bad data format in input."),
            ("'\\196\\1a'", "Bad data format in input."),
            ("'\\203\\0'", "Missing bytes in input."),
            ("'\\129\\192\\1'", "table index is nil"),
            (
                "'\\129\\203\\255\\248\\0\\0\\0\\0\\0\\0\\1'",
                "table index is NaN",
            ),
        ] {
            let e = error_of(&format!("cmsgpack.unpack({input})"));
            assert!(e.contains(want), "{input}: {e}");
        }
        let e = error_of("cmsgpack.unpack_one('\\1', 5)");
        assert!(
            e.contains("Start offset 5 greater than input length 1."),
            "{e}"
        );
        let e = error_of("cmsgpack.unpack_limit('\\1', -1)");
        assert!(e.contains("Invalid request to unpack"), "{e}");
        let e = error_of("cmsgpack.unpack({})");
        assert!(e.contains("string expected, got table"), "{e}");
        let e = error_of("cmsgpack.pack()");
        assert!(e.contains("MessagePack pack needs input."), "{e}");
        // pcall gets the message itself, as with Redis's luaL_error.
        assert_eq!(
            eval("return select(2, pcall(cmsgpack.unpack, '\\193'))"),
            "Bad data format in input."
        );
    }

    #[test]
    fn nesting_and_result_counts_are_bounded() {
        // 100,000 nested one-item arrays: an error, not a stack overflow.
        let e = error_of("cmsgpack.unpack(('\\145'):rep(100000) .. '\\1')");
        assert!(e.contains("Too many nested data structures"), "{e}");
        let ok = format!(
            "return select('#', cmsgpack.unpack(('\\145'):rep({}) .. '\\1'))",
            MAX_DECODE_DEPTH
        );
        assert_eq!(eval(&ok), "1");
        let e = error_of("cmsgpack.unpack(('\\1'):rep(100000))");
        assert!(e.contains("use unpack_one or unpack_limit"), "{e}");
        let ok = format!("return select('#', cmsgpack.unpack(('\\1'):rep({MAX_RESULTS})))");
        assert_eq!(eval(&ok), MAX_RESULTS.to_string());
        // A header declaring 4G items on a few bytes allocates nothing big.
        let e = error_of("cmsgpack.unpack('\\221\\255\\255\\255\\255')");
        assert!(e.contains("Missing bytes"), "{e}");
    }
}
