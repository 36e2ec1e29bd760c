//! `cjson`, the JSON library Redis's Lua has (lua-cjson 2.1's API and
//! rules), written over serde_json: `encode`, `decode`, `null`, and the
//! settings scripts use (`encode_max_depth`, `decode_max_depth`,
//! `encode_invalid_numbers`, `encode_keep_buffer`...).
//!
//! Encoding follows lua-cjson: a table whose keys are all positive integers
//! is an array (holes become `null`; one sparser than half full past index
//! 10 is an error), any other table an object (number keys become strings,
//! other key types are an error); an empty table is `{}`; numbers print as
//! `%.14g`; `/` is escaped.

use std::cell::Cell;
use std::rc::Rc;

use mlua::{LightUserData, Lua, Table, Value};

#[derive(Clone, Copy)]
struct Settings {
    encode_depth: u32,
    decode_depth: u32,
    invalid_numbers: bool,
}

fn fail(msg: String) -> mlua::Error {
    mlua::Error::external(msg)
}

fn null() -> Value {
    Value::LightUserData(LightUserData(std::ptr::null_mut()))
}

fn fmt14(n: f64) -> String {
    let mut buf = [0u8; 64];
    // SAFETY: 64-byte buffer, snprintf writes at most that, NUL included.
    let len = unsafe { libc::snprintf(buf.as_mut_ptr().cast(), buf.len(), c"%.14g".as_ptr(), n) };
    String::from_utf8_lossy(&buf[..(len.max(0) as usize).min(63)]).into_owned()
}

fn escape(s: &[u8], out: &mut Vec<u8>) {
    out.push(b'"');
    for &b in s {
        match b {
            b'"' => out.extend_from_slice(b"\\\""),
            b'\\' => out.extend_from_slice(b"\\\\"),
            b'/' => out.extend_from_slice(b"\\/"),
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\r' => out.extend_from_slice(b"\\r"),
            b'\t' => out.extend_from_slice(b"\\t"),
            0x08 => out.extend_from_slice(b"\\b"),
            0x0c => out.extend_from_slice(b"\\f"),
            b if b < 0x20 || b == 0x7f => out.extend_from_slice(format!("\\u{b:04x}").as_bytes()),
            b => out.push(b),
        }
    }
    out.push(b'"');
}

fn number(n: f64, s: Settings, out: &mut Vec<u8>) -> mlua::Result<()> {
    if !n.is_finite() && !s.invalid_numbers {
        return Err(fail(
            "Cannot serialise number: must not be NaN or Inf".into(),
        ));
    }
    out.extend_from_slice(fmt14(n).as_bytes());
    Ok(())
}

/// The array length of `t`, or None when it is an object.
fn array_len(t: &Table) -> mlua::Result<Option<usize>> {
    let (mut max, mut items) = (0usize, 0usize);
    for pair in t.pairs::<Value, Value>() {
        let (k, _) = pair?;
        let idx = match k {
            Value::Integer(i) if i >= 1 => i as usize,
            Value::Number(n) if n >= 1.0 && n.fract() == 0.0 => n as usize,
            _ => return Ok(None),
        };
        max = max.max(idx);
        items += 1;
    }
    if max > 10 && max > items * 2 {
        return Err(fail(
            "Cannot serialise table: excessively sparse array".into(),
        ));
    }
    Ok((items > 0).then_some(max))
}

/// Largest encoded output (a table reached many times over, as in
/// `u = {v, v}; t = {u, u}`..., is written out each time).
const MAX_OUT: usize = 256 << 20;

/// Bounds one encode: its output, and how long it runs between the busy
/// checks a long script gets ([`super::run::checkpoint`]).
struct Watch<'a> {
    lua: &'a Lua,
    next: usize,
    /// MAX_OUT (smaller in tests).
    max: usize,
}

impl Watch<'_> {
    fn check(&mut self, out: &[u8]) -> mlua::Result<()> {
        if out.len() >= self.next {
            if out.len() > self.max {
                return Err(fail(format!(
                    "Cannot serialise: output larger than {} bytes",
                    self.max
                )));
            }
            super::run::checkpoint(self.lua)?;
            self.next = out.len() + (self.max >> 8).max(1);
        }
        Ok(())
    }
}

fn encode(
    v: &Value,
    s: Settings,
    depth: u32,
    w: &mut Watch<'_>,
    out: &mut Vec<u8>,
) -> mlua::Result<()> {
    match v {
        Value::Nil => out.extend_from_slice(b"null"),
        Value::LightUserData(p) if p.0.is_null() => out.extend_from_slice(b"null"),
        Value::Boolean(b) => out.extend_from_slice(if *b { b"true" } else { b"false" }),
        Value::Integer(i) => number(*i as f64, s, out)?,
        Value::Number(n) => number(*n, s, out)?,
        Value::String(st) => escape(&st.as_bytes(), out),
        Value::Table(t) => {
            w.check(out)?;
            let depth = depth + 1;
            if depth > s.encode_depth {
                return Err(fail(format!(
                    "Cannot serialise, excessive nesting ({depth})"
                )));
            }
            match array_len(t)? {
                Some(n) => {
                    out.push(b'[');
                    for i in 1..=n {
                        if i > 1 {
                            out.push(b',');
                        }
                        encode(&t.raw_get::<Value>(i)?, s, depth, w, out)?;
                    }
                    out.push(b']');
                }
                None => {
                    out.push(b'{');
                    let mut first = true;
                    for pair in t.pairs::<Value, Value>() {
                        let (k, val) = pair?;
                        if !first {
                            out.push(b',');
                        }
                        first = false;
                        match &k {
                            Value::String(ks) => escape(&ks.as_bytes(), out),
                            Value::Integer(i) => escape(fmt14(*i as f64).as_bytes(), out),
                            Value::Number(n) => escape(fmt14(*n).as_bytes(), out),
                            k => {
                                return Err(fail(format!(
                                    "Cannot serialise {}: table key must be a number or string",
                                    k.type_name()
                                )));
                            }
                        }
                        out.push(b':');
                        encode(&val, s, depth, w, out)?;
                    }
                    out.push(b'}');
                }
            }
        }
        v => {
            return Err(fail(format!(
                "Cannot serialise {}: type not supported",
                v.type_name()
            )));
        }
    }
    Ok(())
}

fn decode(lua: &Lua, j: &serde_json::Value, s: Settings, depth: u32) -> mlua::Result<Value> {
    use serde_json::Value as J;
    let nested = |d: u32| {
        if d > s.decode_depth {
            Err(fail(format!("Found too many nested data structures ({d})")))
        } else {
            Ok(d)
        }
    };
    Ok(match j {
        J::Null => null(),
        J::Bool(b) => Value::Boolean(*b),
        J::Number(n) => Value::Number(n.as_f64().unwrap_or(f64::NAN)),
        J::String(st) => Value::String(lua.create_string(st)?),
        J::Array(a) => {
            let d = nested(depth + 1)?;
            let t = lua.create_table_with_capacity(a.len(), 0)?;
            for (i, x) in a.iter().enumerate() {
                t.raw_set(i + 1, decode(lua, x, s, d)?)?;
            }
            Value::Table(t)
        }
        J::Object(o) => {
            let d = nested(depth + 1)?;
            let t = lua.create_table_with_capacity(0, o.len())?;
            for (k, x) in o {
                t.raw_set(lua.create_string(k)?, decode(lua, x, s, d)?)?;
            }
            Value::Table(t)
        }
    })
}

/// The `cjson` table.
pub fn library(lua: &Lua) -> mlua::Result<Table> {
    let cfg = Rc::new(Cell::new(Settings {
        encode_depth: 1000,
        decode_depth: 1000,
        invalid_numbers: false,
    }));
    let t = lua.create_table()?;
    let c = cfg.clone();
    t.raw_set(
        "encode",
        lua.create_function(move |lua, v: Value| {
            let mut out = Vec::new();
            let mut w = Watch {
                lua,
                next: 1 << 20,
                max: MAX_OUT,
            };
            encode(&v, c.get(), 0, &mut w, &mut out)?;
            lua.create_string(out)
        })?,
    )?;
    let c = cfg.clone();
    t.raw_set(
        "decode",
        lua.create_function(move |lua, text: mlua::String| {
            let j: serde_json::Value = serde_json::from_slice(&text.as_bytes())
                .map_err(|e| fail(format!("Expected value but found invalid token: {e}")))?;
            decode(lua, &j, c.get(), 0)
        })?,
    )?;
    t.raw_set("null", null())?;
    let c = cfg.clone();
    t.raw_set(
        "encode_max_depth",
        lua.create_function(move |_, n: Option<u32>| {
            let mut s = c.get();
            if let Some(n) = n {
                s.encode_depth = n.max(1);
                c.set(s);
            }
            Ok(s.encode_depth)
        })?,
    )?;
    let c = cfg.clone();
    t.raw_set(
        "decode_max_depth",
        lua.create_function(move |_, n: Option<u32>| {
            let mut s = c.get();
            if let Some(n) = n {
                s.decode_depth = n.max(1);
                c.set(s);
            }
            Ok(s.decode_depth)
        })?,
    )?;
    let c = cfg;
    t.raw_set(
        "encode_invalid_numbers",
        lua.create_function(move |_, on: Option<Value>| {
            let mut s = c.get();
            if let Some(v) = on {
                s.invalid_numbers = !matches!(v, Value::Boolean(false) | Value::Nil);
                c.set(s);
            }
            Ok(s.invalid_numbers)
        })?,
    )?;
    // Accepted for compatibility; they change nothing here.
    for name in [
        "encode_keep_buffer",
        "encode_number_precision",
        "encode_sparse_array",
        "decode_invalid_numbers",
    ] {
        t.raw_set(
            name,
            lua.create_function(|_, _: mlua::MultiValue| Ok(true))?,
        )?;
    }
    Ok(t)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn eval(code: &str) -> String {
        let lua = Lua::new();
        lua.globals().set("cjson", library(&lua).unwrap()).unwrap();
        lua.load(code).eval::<String>().unwrap()
    }

    #[test]
    fn encodes_and_decodes_as_lua_cjson() {
        assert_eq!(
            eval("return cjson.encode({1, 2, 'a/b'})"),
            r#"[1,2,"a\/b"]"#
        );
        assert_eq!(eval("return cjson.encode({})"), "{}");
        assert_eq!(eval("return cjson.encode({x = 0.5})"), r#"{"x":0.5}"#);
        assert_eq!(
            eval("return cjson.encode({[1] = 'a', [3] = 'c'})"),
            r#"["a",null,"c"]"#
        );
        assert_eq!(
            eval("return table.concat(cjson.decode('[0.0, -5e3, -1, 0.3e-3, 1023.2, 0e10]'), ' ')"),
            "0 -5000 -1 0.0003 1023.2 0"
        );
        assert_eq!(
            eval("return tostring(cjson.decode('[null]')[1] == cjson.null)"),
            "true"
        );
        assert_eq!(
            eval("return tostring(pcall(cjson.encode, {[false] = 1}))"),
            "false"
        );
        // 2^40 copies of one table: bounded, not a runaway allocation.
        let lua = Lua::new();
        let t: Value = lua
            .load("local t = {} for i = 1, 40 do t = {t, t} end return t")
            .eval()
            .unwrap();
        let s = Settings {
            encode_depth: 1000,
            decode_depth: 1000,
            invalid_numbers: false,
        };
        let mut w = Watch {
            lua: &lua,
            next: 1,
            max: 1 << 16,
        };
        let e = encode(&t, s, 0, &mut w, &mut Vec::new()).unwrap_err();
        assert!(
            e.to_string().contains("output larger than 65536 bytes"),
            "{e}"
        );
    }
}
