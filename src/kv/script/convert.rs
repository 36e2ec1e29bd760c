//! Conversions between Redis replies and Lua values, with Redis's rules.
//!
//! Redis -> Lua (a `redis.call` reply, read back from the RESP bytes the
//! command wrote): integer -> number, bulk -> string, nil bulk or nil array
//! -> `false`, status -> `{ok=...}`, error -> `{err=...}`, array -> table;
//! with `redis.setresp(3)` also map -> `{map={...}}`, set -> `{set={...}}`,
//! null -> `nil`, boolean, double -> `{double=n}`, big number, verbatim.
//!
//! Lua -> Redis (a script's return value): string -> bulk, number ->
//! integer (truncated), `true` -> `1` / `false` -> nil (RESP3: booleans),
//! `{err=...}` -> error, `{ok=...}` -> status, the RESP3 tables above, and
//! any other table -> array of its items 1, 2, ... up to the first nil.

use mlua::{Lua, Table, Value};

use crate::kv::reply::Out;

/// Deepest nesting converted (Redis stops at its Lua stack limit).
const MAX_DEPTH: usize = 1000;

/// A Lua number as Redis formats a command argument (`%.17g`).
pub fn fmt_number(n: f64) -> Vec<u8> {
    let mut buf = [0u8; 64];
    // SAFETY: the buffer is 64 bytes, snprintf writes at most that, NUL included.
    let len = unsafe { libc::snprintf(buf.as_mut_ptr().cast(), buf.len(), c"%.17g".as_ptr(), n) };
    buf[..(len.max(0) as usize).min(63)].to_vec()
}

/// `-CODE msg` or `msg` (then `ERR msg`) as the `err` string Redis keeps.
pub fn error_text(raw: &[u8]) -> Vec<u8> {
    let mut s = match raw.strip_prefix(b"-") {
        Some(rest) if rest.contains(&b' ') => rest.to_vec(),
        Some(rest) => [b"ERR ".as_slice(), rest].concat(),
        None => [b"ERR ".as_slice(), raw].concat(),
    };
    while matches!(s.last(), Some(b'\r' | b'\n')) {
        s.pop();
    }
    s
}

/// A table `{field = value}`.
pub fn single(lua: &Lua, field: &str, v: impl mlua::IntoLua) -> mlua::Result<Table> {
    let t = lua.create_table()?;
    t.raw_set(field, v)?;
    Ok(t)
}

struct Reader<'a> {
    b: &'a [u8],
    pos: usize,
}

impl Reader<'_> {
    fn line(&mut self) -> &[u8] {
        let start = self.pos;
        let end = self.b[start..]
            .windows(2)
            .position(|w| w == b"\r\n")
            .map_or(self.b.len(), |p| start + p);
        self.pos = (end + 2).min(self.b.len());
        &self.b[start..end]
    }

    fn int(&mut self) -> i64 {
        crate::kv::protocol::parse_int(self.line()).unwrap_or(0)
    }

    fn bytes(&mut self, n: usize) -> &[u8] {
        let end = (self.pos + n).min(self.b.len());
        let s = &self.b[self.pos..end];
        self.pos = (end + 2).min(self.b.len());
        s
    }
}

/// Convert the reply a command wrote (our own RESP2 or RESP3) to Lua.
pub fn reply_to_lua(lua: &Lua, reply: &[u8]) -> mlua::Result<Value> {
    let mut r = Reader { b: reply, pos: 0 };
    value(lua, &mut r)
}

fn value(lua: &Lua, r: &mut Reader<'_>) -> mlua::Result<Value> {
    let Some(&kind) = r.b.get(r.pos) else {
        return Ok(Value::Nil);
    };
    r.pos += 1;
    Ok(match kind {
        b'+' => Value::Table(single(lua, "ok", lua.create_string(r.line())?)?),
        b'-' => {
            let line = r.line().to_vec();
            let mut raw = b"-".to_vec();
            raw.extend_from_slice(&line);
            Value::Table(single(lua, "err", lua.create_string(error_text(&raw))?)?)
        }
        b':' => Value::Number(r.int() as f64),
        b'$' => {
            let n = r.int();
            if n < 0 {
                Value::Boolean(false)
            } else {
                Value::String(lua.create_string(r.bytes(n as usize))?)
            }
        }
        b'*' | b'>' | b'~' | b'%' => {
            let n = r.int();
            if n < 0 {
                return Ok(Value::Boolean(false));
            }
            let n = n as usize;
            let t = lua.create_table()?;
            match kind {
                b'%' => {
                    for _ in 0..n {
                        let k = value(lua, r)?;
                        let v = value(lua, r)?;
                        t.raw_set(k, v)?;
                    }
                    Value::Table(single(lua, "map", t)?)
                }
                b'~' => {
                    for _ in 0..n {
                        t.raw_set(value(lua, r)?, true)?;
                    }
                    Value::Table(single(lua, "set", t)?)
                }
                _ => {
                    for i in 1..=n {
                        t.raw_set(i, value(lua, r)?)?;
                    }
                    Value::Table(t)
                }
            }
        }
        b'_' => {
            r.line();
            Value::Nil
        }
        b'#' => Value::Boolean(r.line() == b"t"),
        b',' => {
            let d = super::super::cmd::arg::parse_float(r.line()).unwrap_or(f64::NAN);
            Value::Table(single(lua, "double", d)?)
        }
        b'(' => Value::Table(single(lua, "big_number", lua.create_string(r.line())?)?),
        b'=' => {
            let n = r.int().max(0) as usize;
            let body = r.bytes(n).to_vec();
            let (fmt, text) = if body.len() >= 4 {
                (&body[..3], &body[4..])
            } else {
                (&b"txt"[..], &body[..])
            };
            let t = lua.create_table()?;
            t.raw_set("format", lua.create_string(fmt)?)?;
            t.raw_set("string", lua.create_string(text)?)?;
            Value::Table(single(lua, "verbatim_string", t)?)
        }
        b'|' => {
            // Attributes are not shown to scripts: skip them, read the reply.
            let n = r.int().max(0);
            for _ in 0..2 * n {
                value(lua, r)?;
            }
            return value(lua, r);
        }
        _ => Value::Nil,
    })
}

/// Write a script's return value to `out` as Redis would. `resp3` is the
/// script's own protocol (`redis.setresp`), which decides booleans.
pub fn lua_to_reply(v: &Value, out: &mut Out, resp3: bool) {
    to_reply(v, out, resp3, 0);
}

fn field(t: &Table, name: &str) -> Value {
    t.raw_get::<Value>(name).unwrap_or(Value::Nil)
}

fn text(v: &Value) -> Option<Vec<u8>> {
    match v {
        Value::String(s) => Some(s.as_bytes().to_vec()),
        _ => None,
    }
}

fn to_reply(v: &Value, out: &mut Out, resp3: bool, depth: usize) {
    if depth > MAX_DEPTH {
        out.err("ERR reached lua stack limit");
        return;
    }
    match v {
        Value::String(s) => out.bulk(&s.as_bytes()),
        Value::Boolean(b) => {
            if resp3 {
                out.boolean(*b);
            } else if *b {
                out.int(1);
            } else {
                out.null();
            }
        }
        Value::Integer(n) => out.int(*n),
        Value::Number(n) => out.int(*n as i64),
        Value::Table(t) => table_reply(t, out, resp3, depth),
        _ => out.null(),
    }
}

fn table_reply(t: &Table, out: &mut Out, resp3: bool, depth: usize) {
    if let Some(e) = text(&field(t, "err")) {
        let e = String::from_utf8_lossy(&e).into_owned();
        out.err(e.strip_prefix('-').unwrap_or(&e));
        return;
    }
    if let Some(s) = text(&field(t, "ok")) {
        out.status(&String::from_utf8_lossy(&s).replace(['\r', '\n'], " "));
        return;
    }
    match field(t, "double") {
        Value::Number(d) => return out.double(d),
        Value::Integer(d) => return out.double(d as f64),
        _ => {}
    }
    if let Some(s) = text(&field(t, "big_number")) {
        out.bignum(&String::from_utf8_lossy(&s).replace(['\r', '\n'], " "));
        return;
    }
    if let Value::Table(v) = field(t, "verbatim_string") {
        if let (Some(_), Some(s)) = (text(&field(&v, "format")), text(&field(&v, "string"))) {
            out.verbatim(&s);
            return;
        }
    }
    if let Value::Table(m) = field(t, "map") {
        let pairs: Vec<(Value, Value)> = m.pairs::<Value, Value>().filter_map(Result::ok).collect();
        out.map(pairs.len());
        for (k, v) in &pairs {
            to_reply(k, out, resp3, depth + 1);
            to_reply(v, out, resp3, depth + 1);
        }
        return;
    }
    if let Value::Table(s) = field(t, "set") {
        let keys: Vec<Value> = s
            .pairs::<Value, Value>()
            .filter_map(|p| p.ok().map(|(k, _)| k))
            .collect();
        out.set(keys.len());
        for k in &keys {
            to_reply(k, out, resp3, depth + 1);
        }
        return;
    }
    let mut items = Vec::new();
    for i in 1.. {
        match t.raw_get::<Value>(i) {
            Ok(Value::Nil) | Err(_) => break,
            Ok(v) => items.push(v),
        }
    }
    out.array(items.len());
    for v in &items {
        to_reply(v, out, resp3, depth + 1);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_format_as_redis_passes_them_to_commands() {
        assert_eq!(fmt_number(1.0), b"1");
        assert_eq!(fmt_number(100.5), b"100.5");
        assert_eq!(fmt_number(0.1), b"0.10000000000000001");
        assert_eq!(fmt_number(1e20), b"1e+20");
    }

    #[test]
    fn error_texts_keep_their_code() {
        assert_eq!(error_text(b"-WRONGTYPE x y"), b"WRONGTYPE x y");
        assert_eq!(error_text(b"-OOPS"), b"ERR OOPS");
        assert_eq!(error_text(b"plain words\r\n"), b"ERR plain words");
    }

    fn round_trip(reply: &[u8], resp3: bool) -> Vec<u8> {
        let lua = Lua::new();
        let v = reply_to_lua(&lua, reply).unwrap();
        let mut out = Out {
            resp3,
            ..Out::default()
        };
        lua_to_reply(&v, &mut out, resp3);
        out.buf
    }

    #[test]
    fn replies_survive_the_trip_through_lua() {
        for r in [
            &b":42\r\n"[..],
            b"$3\r\nabc\r\n",
            b"+OK\r\n",
            b"-ERR bad thing\r\n",
            b"*3\r\n:1\r\n$1\r\na\r\n*1\r\n:2\r\n",
        ] {
            assert_eq!(round_trip(r, false), r);
        }
        // A nil bulk becomes false, which returns as a nil.
        assert_eq!(round_trip(b"$-1\r\n", false), b"$-1\r\n");
        // A nil inside an array is false in Lua, so the array keeps it.
        assert_eq!(
            round_trip(b"*3\r\n:1\r\n$-1\r\n:3\r\n", false),
            b"*3\r\n:1\r\n$-1\r\n:3\r\n"
        );
        assert_eq!(
            round_trip(b"%1\r\n$1\r\nk\r\n:1\r\n", true),
            b"%1\r\n$1\r\nk\r\n:1\r\n"
        );
        assert_eq!(round_trip(b"#t\r\n", true), b"#t\r\n");
        assert_eq!(round_trip(b",1.5\r\n", true), b",1.5\r\n");
    }
}
