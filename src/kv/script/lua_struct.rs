//! `struct`, the binary packing library Redis's Lua has (Roberto
//! Ierusalimschy's struct 0.2 as Redis 7.0 ships it, `long` integers on a
//! 64-bit little-endian machine), written here: `struct.pack(fmt, ...)`,
//! `struct.unpack(fmt, s [, pos])`, `struct.size(fmt)`.
//!
//! Format: `>` big endian, `<` little endian (the default), `![n]`
//! alignment (a power of 2, default 8), `x` a zero byte, `b`/`B` signed /
//! unsigned byte, `h`/`H` 2 bytes, `l`/`L` and `T` 8 bytes, `i[n]`/`I[n]`
//! n bytes (default 4, at most 32), `f` float, `d` double, `c[n]` n chars
//! (`c0`: packing, the whole string; unpacking, the length read just
//! before), `s` a zero-terminated string, space ignored. Items are aligned
//! to min(their size, the `!` alignment). Errors are struct's own texts.
//!
//! As with `cmsgpack`, small Lua wrappers hand the arguments over in one
//! table and spread the results from one, so no call holds thousands of
//! mlua references at once.

use mlua::{ChunkMode, Lua, Table, Value};

use super::libs::{self, LibError};

/// Largest integer size (`i32`).
const MAX_INT_SIZE: usize = 32;
/// `!` with no number: the C `MAXALIGN` on x86-64.
const MAX_ALIGN: usize = 8;
/// Most values one `unpack` returns (Lua's C stack holds about 8,000).
const MAX_RESULTS: usize = 7900;

struct Header {
    big: bool,
    align: usize,
}

struct Fmt<'a> {
    f: &'a [u8],
    pos: usize,
}

impl Fmt<'_> {
    fn next(&mut self) -> Option<u8> {
        // The C reads a C string: it ends at the first NUL.
        let c = *self.f.get(self.pos)?;
        if c == 0 {
            return None;
        }
        self.pos += 1;
        Some(c)
    }

    /// The number that follows, or `default`.
    fn num(&mut self, default: usize) -> Result<usize, LibError> {
        if !self.f.get(self.pos).is_some_and(u8::is_ascii_digit) {
            return Ok(default);
        }
        let mut a: usize = 0;
        while let Some(&d) = self.f.get(self.pos).filter(|d| d.is_ascii_digit()) {
            let d = (d - b'0') as usize;
            if a > i32::MAX as usize / 10 || a * 10 > i32::MAX as usize - d {
                return Err(LibError::Error("integral size overflow".into()));
            }
            a = a * 10 + d;
            self.pos += 1;
        }
        Ok(a)
    }

    /// struct's `optsize`.
    fn size(&mut self, opt: u8) -> Result<usize, LibError> {
        Ok(match opt {
            b'b' | b'B' | b'x' => 1,
            b'h' | b'H' => 2,
            b'l' | b'L' | b'T' | b'd' => 8,
            b'f' => 4,
            b'c' => self.num(1)?,
            b'i' | b'I' => {
                let n = self.num(4)?;
                if n > MAX_INT_SIZE {
                    return Err(LibError::Error(format!(
                        "integral size {n} is larger than limit of {MAX_INT_SIZE}"
                    )));
                }
                n
            }
            _ => 0,
        })
    }

    /// struct's `controloptions`.
    fn control(&mut self, opt: u8, h: &mut Header) -> Result<(), LibError> {
        match opt {
            b' ' => {}
            b'>' => h.big = true,
            b'<' => h.big = false,
            b'!' => {
                let a = self.num(MAX_ALIGN)?;
                if !a.is_power_of_two() {
                    return Err(LibError::Error(format!(
                        "alignment {a} is not a power of 2"
                    )));
                }
                h.align = a;
            }
            _ => {
                return Err(LibError::Arg(
                    1,
                    format!("invalid format option '{}'", opt as char),
                ));
            }
        }
        Ok(())
    }
}

/// Padding before an item of `size` at `len` (struct's `gettoalign`, with
/// its arithmetic kept for sizes that are not powers of 2).
fn to_align(len: usize, h: &Header, opt: u8, size: usize) -> usize {
    if size == 0 || opt == b'c' {
        return 0;
    }
    let size = size.min(h.align);
    size.wrapping_sub(len & (size - 1)) & (size - 1)
}

/// luaL_typerror. A missing argument reads as nil: `struct.pack` pushes
/// a nil mark after its arguments, and that is what the C finds there.
fn type_error(n: usize, want: &str, v: &Value) -> LibError {
    LibError::Arg(n as i32, format!("{want} expected, got {}", v.type_name()))
}

/// luaL_checknumber on argument `i` (`args[i]`).
fn number_arg(lua: &Lua, args: &Table, i: usize) -> Result<f64, LibError> {
    let v: Value = args.raw_get(i)?;
    match lua.coerce_number(v.clone()) {
        Ok(Some(n)) => Ok(n),
        _ => Err(type_error(i, "number", &v)),
    }
}

/// luaL_checklstring on argument `i` (`args[i]`).
fn string_arg(lua: &Lua, args: &Table, i: usize) -> Result<Vec<u8>, LibError> {
    let v: Value = args.raw_get(i)?;
    match &v {
        Value::String(s) => Ok(s.as_bytes().to_vec()),
        Value::Integer(_) | Value::Number(_) => match lua.coerce_string(v.clone()) {
            Ok(Some(s)) => Ok(s.as_bytes().to_vec()),
            _ => Err(type_error(i, "string", &v)),
        },
        _ => Err(type_error(i, "string", &v)),
    }
}

fn put_int(n: f64, big: bool, size: usize, out: &mut Vec<u8>) {
    let mut v: u64 = if n < 0.0 { n as i64 as u64 } else { n as u64 };
    let mut b = [0u8; MAX_INT_SIZE];
    for byte in b.iter_mut().take(size) {
        *byte = v as u8;
        v >>= 8;
    }
    if big {
        b[..size].reverse();
    }
    out.extend_from_slice(&b[..size]);
}

/// `struct.pack(fmt, ...)`: `args` holds every argument (`args[1]` is the
/// format).
pub fn pack(lua: &Lua, fmt: &[u8], args: &Table) -> Result<Vec<u8>, LibError> {
    let mut f = Fmt { f: fmt, pos: 0 };
    let mut h = Header {
        big: false,
        align: 1,
    };
    let mut out = Vec::new();
    let mut arg = 2usize;
    let mut total = 0usize;
    while let Some(opt) = f.next() {
        let mut size = f.size(opt)?;
        let pad = to_align(total, &h, opt, size);
        total += pad;
        out.resize(out.len() + pad, 0);
        match opt {
            b'b' | b'B' | b'h' | b'H' | b'l' | b'L' | b'T' | b'i' | b'I' => {
                let n = number_arg(lua, args, arg)?;
                arg += 1;
                put_int(n, h.big, size, &mut out);
            }
            b'x' => out.push(0),
            b'f' => {
                let v = number_arg(lua, args, arg)? as f32;
                arg += 1;
                out.extend_from_slice(&if h.big {
                    v.to_be_bytes()
                } else {
                    v.to_le_bytes()
                });
            }
            b'd' => {
                let v = number_arg(lua, args, arg)?;
                arg += 1;
                out.extend_from_slice(&if h.big {
                    v.to_be_bytes()
                } else {
                    v.to_le_bytes()
                });
            }
            b'c' | b's' => {
                let s = string_arg(lua, args, arg)?;
                arg += 1;
                if size == 0 {
                    size = s.len();
                }
                if s.len() < size {
                    // struct reports the argument after the string.
                    return Err(LibError::Arg(arg as i32, "string too short".into()));
                }
                out.extend_from_slice(&s[..size]);
                if opt == b's' {
                    out.push(0);
                    size += 1;
                }
            }
            _ => f.control(opt, &mut h)?,
        }
        total += size;
    }
    Ok(out)
}

/// `struct.unpack(fmt, data, pos)`: the values, and the position after
/// them (1-based), as Lua values in `out` (returned count).
pub fn unpack(
    lua: &Lua,
    fmt: &[u8],
    data: &[u8],
    pos: i64,
    out: &Table,
) -> Result<usize, LibError> {
    let too_short = || LibError::Arg(2, "data string too short".into());
    if pos == 0 {
        return Err(LibError::Arg(3, "offset must be 1 or greater".into()));
    }
    // The C keeps the position in a size_t: a negative one is huge.
    let mut pos = (pos as u64 as usize).wrapping_sub(1);
    let ld = data.len();
    let mut f = Fmt { f: fmt, pos: 0 };
    let mut h = Header {
        big: false,
        align: 1,
    };
    let mut n = 0usize;
    let push = |n: &mut usize, v: Value| -> Result<(), LibError> {
        if *n >= MAX_RESULTS {
            return Err(LibError::Error("stack overflow (too many results)".into()));
        }
        out.raw_set(*n + 1, v)?;
        *n += 1;
        Ok(())
    };
    while let Some(opt) = f.next() {
        let mut size = f.size(opt)?;
        pos = pos.wrapping_add(to_align(pos, &h, opt, size));
        if !(size <= ld && pos <= ld - size) {
            return Err(too_short());
        }
        let bytes = |size: usize| -> Vec<u8> {
            let mut b = data[pos..pos + size].to_vec();
            if !h.big {
                b.reverse();
            }
            b // most significant byte first
        };
        match opt {
            b'b' | b'B' | b'h' | b'H' | b'l' | b'L' | b'T' | b'i' | b'I' => {
                let mut l: u64 = 0;
                for &b in &bytes(size) {
                    l = (l << 8) | u64::from(b);
                }
                let v = if opt.is_ascii_lowercase() {
                    let mask = u64::MAX.wrapping_shl((size as u32 * 8).wrapping_sub(1));
                    if l & mask != 0 {
                        l |= mask;
                    }
                    l as i64 as f64
                } else {
                    l as f64
                };
                push(&mut n, Value::Number(v))?;
            }
            b'x' => {}
            b'f' => {
                let mut b = [0u8; 4];
                b.copy_from_slice(&bytes(4));
                push(&mut n, Value::Number(f32::from_be_bytes(b) as f64))?;
            }
            b'd' => {
                let mut b = [0u8; 8];
                b.copy_from_slice(&bytes(8));
                push(&mut n, Value::Number(f64::from_be_bytes(b)))?;
            }
            b'c' => {
                if size == 0 {
                    let prev: Value = if n == 0 { Value::Nil } else { out.raw_get(n)? };
                    let len = match lua.coerce_number(prev) {
                        Ok(Some(x)) if n > 0 => x,
                        _ => {
                            return Err(LibError::Error(
                                "format 'c0' needs a previous size".into(),
                            ));
                        }
                    };
                    // A C cast to size_t: a negative length wraps to a
                    // huge one (then "data string too short").
                    size = if len < 0.0 {
                        len as i64 as usize
                    } else {
                        len as usize
                    };
                    out.raw_set(n, Value::Nil)?;
                    n -= 1;
                    if !(size <= ld && pos <= ld - size) {
                        return Err(too_short());
                    }
                }
                let s = lua.create_string(&data[pos..pos + size])?;
                push(&mut n, Value::String(s))?;
            }
            b's' => {
                let Some(z) = data[pos..].iter().position(|&b| b == 0) else {
                    return Err(LibError::Error("unfinished string in data".into()));
                };
                size = z + 1;
                let s = lua.create_string(&data[pos..pos + z])?;
                push(&mut n, Value::String(s))?;
            }
            _ => f.control(opt, &mut h)?,
        }
        pos = pos.wrapping_add(size);
    }
    push(&mut n, Value::Number(pos.wrapping_add(1) as i64 as f64))?;
    Ok(n)
}

/// `struct.size(fmt)`.
pub fn size(fmt: &[u8]) -> Result<usize, LibError> {
    let mut f = Fmt { f: fmt, pos: 0 };
    let mut h = Header {
        big: false,
        align: 1,
    };
    let mut pos = 0usize;
    while let Some(opt) = f.next() {
        let size = f.size(opt)?;
        pos += to_align(pos, &h, opt, size);
        if opt == b's' {
            return Err(LibError::Arg(1, "option 's' has no fixed size".into()));
        }
        if opt == b'c' && size == 0 {
            return Err(LibError::Arg(1, "option 'c0' has no fixed size".into()));
        }
        if !opt.is_ascii_alphanumeric() {
            f.control(opt, &mut h)?;
        }
        pos += size;
    }
    Ok(pos)
}

/// The implementations (behind `libs`' trampoline): struct's argument
/// checks, in its order, then the Rust halves.
const IMPLEMENTATION: &str = r#"
local pack_raw, unpack_raw, size_raw = ...
local select, unpack = select, unpack

local M = {}
M.pack = function(...)
  local n, fmt = select('#', ...), ...
  local f, e = check_string(n, 1, fmt)
  if not f then return false, e, 1 end
  return pack_raw(f, {...})
end
M.unpack = function(...)
  local n, fmt, data, pos = select('#', ...), ...
  local f, e = check_string(n, 1, fmt)
  if not f then return false, e, 1 end
  local d
  d, e = check_string(n, 2, data)
  if not d then return false, e, 2 end
  local p
  p, e = check_int(n, 3, pos, 1)
  if not p then return false, e, 3 end
  local ok, t, count = unpack_raw(f, d, p)
  if not ok then return false, t, count end
  return true, unpack(t, 1, count)
end
M.size = function(...)
  local n, fmt = select('#', ...), ...
  local f, e = check_string(n, 1, fmt)
  if not f then return false, e, 1 end
  return size_raw(f)
end
return M
"#;

/// The `struct` table.
pub fn library(lua: &Lua) -> mlua::Result<Table> {
    let pack_raw = lua.create_function(|lua, (fmt, args): (mlua::String, Table)| {
        let r = pack(lua, &fmt.as_bytes(), &args)
            .and_then(|b| Ok(vec![Value::String(lua.create_string(b)?)]));
        libs::answer(lua, r)
    })?;
    let unpack_raw =
        lua.create_function(|lua, (fmt, data, pos): (mlua::String, mlua::String, f64)| {
            let t = lua.create_table()?;
            let r = unpack(lua, &fmt.as_bytes(), &data.as_bytes(), pos as i64, &t)
                .map(|n| vec![Value::Table(t), Value::Number(n as f64)]);
            libs::answer(lua, r)
        })?;
    let size_raw = lua.create_function(|lua, fmt: mlua::String| {
        let r = size(&fmt.as_bytes()).map(|n| vec![Value::Number(n as f64)]);
        libs::answer(lua, r)
    })?;
    let implementation: Table = lua
        .load(format!("{}{IMPLEMENTATION}", libs::CHECKS))
        .set_name("=struct")
        .set_mode(ChunkMode::Text)
        .call((pack_raw, unpack_raw, size_raw))?;
    libs::library(lua, implementation)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn eval(code: &str) -> String {
        let lua = Lua::new();
        lua.globals()
            .set("struct", library(&lua).expect("struct"))
            .expect("set");
        lua.load(code).eval::<String>().expect(code)
    }

    fn hex(code: &str) -> String {
        eval(&format!(
            "local s = {code} return (s:gsub('.', function(c) return string.format('%02x', c:byte()) end))"
        ))
    }

    #[test]
    fn packs_as_struct_does() {
        assert_eq!(hex("struct.pack('>I2', 258)"), "0102");
        assert_eq!(hex("struct.pack('<i4', -2)"), "feffffff");
        assert_eq!(
            hex("struct.pack('bBhH', -1, 255, -2, 65535)"),
            "fffffeffffff"
        );
        assert_eq!(hex("struct.pack('l', 1)"), "0100000000000000");
        assert_eq!(hex("struct.pack('>d', 0.5)"), "3fe0000000000000");
        assert_eq!(hex("struct.pack('<f', 1)"), "0000803f");
        assert_eq!(hex("struct.pack('!4 b i4', 1, 2)"), "0100000002000000");
        assert_eq!(hex("struct.pack('s', 'ab')"), "616200");
        assert_eq!(hex("struct.pack('c0', 'xyz')"), "78797a");
        assert_eq!(hex("struct.pack('c2', 'xyz')"), "7879");
        assert_eq!(hex("struct.pack('x>H', 1)"), "000001");
        assert_eq!(eval("return tostring(struct.size('!8 b d'))"), "16");
        assert_eq!(eval("return tostring(struct.size('i3c5'))"), "8");
    }

    #[test]
    fn unpacks_as_struct_does() {
        let code = r#"
            local s = struct.pack('>i2 I4 s c3 d b', -300, 4000000000, 'hi', 'abc', 1.25, -7)
            local a, b, c, d, e, f, nxt = struct.unpack('>i2 I4 s c3 d b', s)
            assert(a == -300 and b == 4000000000 and c == 'hi' and d == 'abc')
            assert(e == 1.25 and f == -7 and nxt == #s + 1)
            local len, str = struct.unpack('B c0', '\3abcdef')
            assert(len == 'abc' and str == 5)
            local x, p = struct.unpack('b', '\1\2', 2)
            assert(x == 2 and p == 3)
            return 'ok'
        "#;
        assert_eq!(eval(code), "ok");
    }

    #[test]
    fn bad_formats_and_data_are_errors() {
        for (code, want) in [
            (
                "struct.pack('i33', 1)",
                "integral size 33 is larger than limit of 32",
            ),
            ("struct.pack('!3 i', 1)", "alignment 3 is not a power of 2"),
            (
                "struct.pack('q', 1)",
                "bad argument #1 to 'pack' (invalid format option 'q')",
            ),
            (
                "struct.pack('i')",
                "bad argument #2 to 'pack' (number expected, got nil)",
            ),
            ("struct.pack('c5', 'ab')", "string too short"),
            ("struct.pack('i99999999999', 1)", "integral size overflow"),
            ("struct.unpack('i4', 'abc')", "data string too short"),
            (
                "struct.unpack('c0', 'abc')",
                "format 'c0' needs a previous size",
            ),
            ("struct.unpack('B c0', '\\255abc')", "data string too short"),
            ("struct.unpack('s', 'abc')", "unfinished string in data"),
            ("struct.unpack('b c0', '\\255abc')", "data string too short"),
            ("struct.unpack('b', 'a', 0)", "offset must be 1 or greater"),
            ("struct.unpack('b', 'a', -5)", "data string too short"),
            ("struct.size('s')", "option 's' has no fixed size"),
            (
                "struct.unpack(('b'):rep(9000), ('a'):rep(9000))",
                "too many results",
            ),
        ] {
            let r = eval(&format!(
                "local ok, e = pcall(function() return {code} end) return tostring(e)"
            ));
            assert!(r.contains(want), "{code}: {r}");
        }
    }
}
