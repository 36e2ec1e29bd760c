//! String commands: GET, SET and its variants, counters, ranges, LCS.

use super::arg::{self, NOT_FLOAT, NOT_INT, SYNTAX, is};
use super::{CommandSpec, Ctx, DENYOOM, FAST, READONLY, WRITE, spec};
use crate::kv::notify;
use crate::kv::protocol::parse_int;
use crate::kv::value::{Value, WRONGTYPE};

const W: u32 = WRITE | DENYOOM;
const WF: u32 = WRITE | DENYOOM | FAST;
const RF: u32 = READONLY | FAST;
const G: &str = "string";

/// Largest string (`proto-max-bulk-len`).
pub const MAX_STRING: usize = 512 * 1024 * 1024;

/// The string family.
pub static COMMANDS: &[CommandSpec] = &[
    spec(
        "get",
        2,
        RF,
        (1, 1, 1),
        G,
        "1.0.0",
        "Returns the string value of a key.",
        "key",
        get,
    ),
    spec(
        "set",
        -3,
        W,
        (1, 1, 1),
        G,
        "1.0.0",
        "Sets the string value of a key, ignoring its type. The key is created if it doesn't exist.",
        "key value [NX|XX] [GET] [EX seconds|PX milliseconds|EXAT unix-time-seconds|PXAT unix-time-milliseconds|KEEPTTL]",
        set,
    ),
    spec(
        "setnx",
        3,
        WF,
        (1, 1, 1),
        G,
        "1.0.0",
        "Set the string value of a key only when the key doesn't exist.",
        "key value",
        setnx,
    ),
    spec(
        "setex",
        4,
        W,
        (1, 1, 1),
        G,
        "2.0.0",
        "Sets the string value and expiration time of a key. Creates the key if it doesn't exist.",
        "key seconds value",
        setex,
    ),
    spec(
        "psetex",
        4,
        W,
        (1, 1, 1),
        G,
        "2.6.0",
        "Sets both string value and expiration time in milliseconds of a key. The key is created if it doesn't exist.",
        "key milliseconds value",
        setex,
    ),
    spec(
        "getset",
        3,
        WF,
        (1, 1, 1),
        G,
        "1.0.0",
        "Returns the previous string value of a key after setting it to a new value.",
        "key value",
        getset,
    ),
    spec(
        "getdel",
        2,
        WF,
        (1, 1, 1),
        G,
        "6.2.0",
        "Returns the string value of a key after deleting the key.",
        "key",
        getdel,
    ),
    spec(
        "getex",
        -2,
        WF,
        (1, 1, 1),
        G,
        "6.2.0",
        "Returns the string value of a key after setting its expiration time.",
        "key [EX seconds|PX milliseconds|EXAT unix-time-seconds|PXAT unix-time-milliseconds|PERSIST]",
        getex,
    ),
    spec(
        "mget",
        -2,
        RF,
        (1, -1, 1),
        G,
        "1.0.0",
        "Atomically returns the string values of one or more keys.",
        "key [key ...]",
        mget,
    ),
    spec(
        "mset",
        -3,
        W,
        (1, -1, 2),
        G,
        "1.0.1",
        "Atomically creates or modifies the string values of one or more keys.",
        "key value [key value ...]",
        mset,
    ),
    spec(
        "msetnx",
        -3,
        W,
        (1, -1, 2),
        G,
        "1.0.1",
        "Atomically modifies the string values of one or more keys only when all keys don't exist.",
        "key value [key value ...]",
        msetnx,
    ),
    spec(
        "incr",
        2,
        WF,
        (1, 1, 1),
        G,
        "1.0.0",
        "Increments the integer value of a key by one. Uses 0 as initial value if the key doesn't exist.",
        "key",
        incr,
    ),
    spec(
        "decr",
        2,
        WF,
        (1, 1, 1),
        G,
        "1.0.0",
        "Decrements the integer value of a key by one. Uses 0 as initial value if the key doesn't exist.",
        "key",
        incr,
    ),
    spec(
        "incrby",
        3,
        WF,
        (1, 1, 1),
        G,
        "1.0.0",
        "Increments the integer value of a key by a number. Uses 0 as initial value if the key doesn't exist.",
        "key increment",
        incr,
    ),
    spec(
        "decrby",
        3,
        WF,
        (1, 1, 1),
        G,
        "1.0.0",
        "Decrements a number from the integer value of a key. Uses 0 as initial value if the key doesn't exist.",
        "key decrement",
        incr,
    ),
    spec(
        "incrbyfloat",
        3,
        WF,
        (1, 1, 1),
        G,
        "2.6.0",
        "Increment the floating point value of a key by a number. Uses 0 as initial value if the key doesn't exist.",
        "key increment",
        incrbyfloat,
    ),
    spec(
        "append",
        3,
        WF,
        (1, 1, 1),
        G,
        "2.0.0",
        "Appends a string to the value of a key. Creates the key if it doesn't exist.",
        "key value",
        append,
    ),
    spec(
        "strlen",
        2,
        RF,
        (1, 1, 1),
        G,
        "2.2.0",
        "Returns the length of a string value.",
        "key",
        strlen,
    ),
    spec(
        "getrange",
        4,
        READONLY,
        (1, 1, 1),
        G,
        "2.4.0",
        "Returns a substring of the string stored at a key.",
        "key start end",
        getrange,
    ),
    spec(
        "substr",
        4,
        READONLY,
        (1, 1, 1),
        G,
        "1.0.0",
        "Returns a substring from a string value.",
        "key start end",
        getrange,
    ),
    spec(
        "setrange",
        4,
        W,
        (1, 1, 1),
        G,
        "2.2.0",
        "Overwrites a part of a string value with another by an offset. Creates the key if it doesn't exist.",
        "key offset value",
        setrange,
    ),
    spec(
        "lcs",
        -3,
        READONLY,
        (1, 2, 1),
        G,
        "7.0.0",
        "Finds the longest common substring.",
        "key1 key2 [LEN] [IDX] [MINMATCHLEN min-match-len] [WITHMATCHLEN]",
        super::bits::lcs,
    ),
];

/// The error was already answered to the client (WRONGTYPE and friends).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Answered;

/// The string at `key` for a read, or WRONGTYPE answered (`Err`).
pub fn read<'a>(ctx: &'a mut Ctx<'_>, key: &[u8]) -> Result<Option<&'a Vec<u8>>, Answered> {
    let db = ctx.db();
    match ctx.ks.read(db, key) {
        None => Ok(None),
        Some(e) => match e.value.as_str() {
            Ok(s) => Ok(Some(s)),
            Err(_) => {
                ctx.out.err(WRONGTYPE);
                Err(Answered)
            }
        },
    }
}

/// The live string at `key` for a write (expired keys deleted first), or
/// WRONGTYPE answered.
pub fn for_write(ctx: &mut Ctx<'_>, key: &[u8]) -> Result<Option<Vec<u8>>, Answered> {
    let db = ctx.db();
    match ctx.ks.lookup_write(db, key) {
        None => Ok(None),
        Some(e) => match e.value.as_str() {
            Ok(s) => Ok(Some(s.clone())),
            Err(_) => {
                ctx.out.err(WRONGTYPE);
                Err(Answered)
            }
        },
    }
}

/// The old value for GETSET, GETDEL and SET ... GET: [`for_write`], and a
/// miss noted `keymiss`, as Redis reads it.
fn for_get(ctx: &mut Ctx<'_>, key: &[u8]) -> Result<Option<Vec<u8>>, Answered> {
    let v = for_write(ctx, key)?;
    if v.is_none() {
        let db = ctx.db();
        ctx.ks.notify(notify::KEYMISS, "keymiss", db, key);
    }
    Ok(v)
}

/// True when `key` holds a live value of another type (answers WRONGTYPE).
pub fn wrong_type(ctx: &mut Ctx<'_>, key: &[u8]) -> bool {
    let db = ctx.db();
    match ctx.ks.lookup_write(db, key) {
        Some(e) if e.value.as_str().is_err() => {
            ctx.out.err(WRONGTYPE);
            true
        }
        _ => false,
    }
}

fn get(ctx: &mut Ctx<'_>, a: &[&[u8]]) {
    let db = ctx.db();
    match ctx.ks.read(db, a[1]) {
        None => ctx.out.null(),
        Some(e) => match &e.value {
            Value::Str(s) => ctx.out.bulk(s),
            _ => ctx.out.err(WRONGTYPE),
        },
    }
}

/// An expiry option's absolute time, or the error answered.
pub fn expiry_at(ctx: &mut Ctx<'_>, opt: &[u8], v: &[u8], cmd: &str) -> Option<u64> {
    let n = arg::int(ctx.out, v)?;
    let now = ctx.ks.now as i64;
    let at = if is(opt, "EX") {
        n.checked_mul(1000).and_then(|ms| ms.checked_add(now))
    } else if is(opt, "PX") {
        n.checked_add(now)
    } else if is(opt, "EXAT") {
        n.checked_mul(1000)
    } else {
        Some(n)
    };
    match at {
        Some(at) if n > 0 && at > 0 => Some(at as u64),
        _ => {
            ctx.out
                .err(&format!("ERR invalid expire time in '{cmd}' command"));
            None
        }
    }
}

enum Exp {
    Clear,
    Keep,
    At(u64),
}

fn set(ctx: &mut Ctx<'_>, a: &[&[u8]]) {
    let (mut nx, mut xx, mut get, mut exp, mut exp_given) =
        (false, false, false, Exp::Clear, false);
    let mut i = 3;
    while i < a.len() {
        let o = a[i];
        if is(o, "NX") && !xx {
            nx = true;
        } else if is(o, "XX") && !nx {
            xx = true;
        } else if is(o, "GET") {
            get = true;
        } else if is(o, "KEEPTTL") && !exp_given {
            exp = Exp::Keep;
            exp_given = true;
        } else if ["EX", "PX", "EXAT", "PXAT"].iter().any(|w| is(o, w))
            && !exp_given
            && i + 1 < a.len()
        {
            let Some(at) = expiry_at(ctx, o, a[i + 1], "set") else {
                return;
            };
            exp = Exp::At(at);
            exp_given = true;
            i += 1;
        } else {
            ctx.out.err(SYNTAX);
            return;
        }
        i += 1;
    }
    let db = ctx.db();
    let old = if get {
        match for_get(ctx, a[1]) {
            Ok(v) => v,
            Err(Answered) => return,
        }
    } else {
        None
    };
    let cur = ctx.ks.lookup_write(db, a[1]).map(|e| e.expires_at);
    if (nx && cur.is_some()) || (xx && cur.is_none()) {
        if get {
            ctx.out.bulk_opt(old.as_deref());
        } else {
            ctx.out.null();
        }
        return;
    }
    let at = match exp {
        Exp::Clear => 0,
        Exp::Keep => cur.unwrap_or(0),
        Exp::At(t) => t,
    };
    ctx.ks.put(db, a[1], Value::Str(a[2].to_vec()), at);
    ctx.ks.notify(notify::STRING, "set", db, a[1]);
    if matches!(exp, Exp::At(_)) {
        ctx.ks.notify(notify::GENERIC, "expire", db, a[1]);
    }
    if get {
        ctx.out.bulk_opt(old.as_deref());
    } else {
        ctx.out.ok();
    }
}

fn setnx(ctx: &mut Ctx<'_>, a: &[&[u8]]) {
    let db = ctx.db();
    if ctx.ks.lookup_write(db, a[1]).is_some() {
        ctx.out.int(0);
        return;
    }
    ctx.ks.put(db, a[1], Value::Str(a[2].to_vec()), 0);
    ctx.ks.notify(notify::STRING, "set", db, a[1]);
    ctx.out.int(1);
}

fn setex(ctx: &mut Ctx<'_>, a: &[&[u8]]) {
    let ps = is(a[0], "psetex");
    let unit: &[u8] = if ps { b"PX" } else { b"EX" };
    let name = if ps { "psetex" } else { "setex" };
    let Some(at) = expiry_at(ctx, unit, a[2], name) else {
        return;
    };
    let db = ctx.db();
    ctx.ks.put(db, a[1], Value::Str(a[3].to_vec()), at);
    ctx.ks.notify(notify::STRING, "set", db, a[1]);
    ctx.ks.notify(notify::GENERIC, "expire", db, a[1]);
    ctx.out.ok();
}

fn getset(ctx: &mut Ctx<'_>, a: &[&[u8]]) {
    let Ok(old) = for_get(ctx, a[1]) else {
        return;
    };
    let db = ctx.db();
    ctx.ks.put(db, a[1], Value::Str(a[2].to_vec()), 0);
    ctx.ks.notify(notify::STRING, "set", db, a[1]);
    ctx.out.bulk_opt(old.as_deref());
}

fn getdel(ctx: &mut Ctx<'_>, a: &[&[u8]]) {
    let Ok(old) = for_get(ctx, a[1]) else {
        return;
    };
    if old.is_some() {
        let db = ctx.db();
        ctx.ks.remove(db, a[1]);
    }
    ctx.out.bulk_opt(old.as_deref());
}

fn getex(ctx: &mut Ctx<'_>, a: &[&[u8]]) {
    let mut new: Option<u64> = None;
    let mut i = 2;
    while i < a.len() {
        let o = a[i];
        if is(o, "PERSIST") && new.is_none() && a.len() == 3 {
            new = Some(0);
        } else if ["EX", "PX", "EXAT", "PXAT"].iter().any(|w| is(o, w))
            && new.is_none()
            && i + 1 < a.len()
        {
            let Some(at) = expiry_at(ctx, o, a[i + 1], "getex") else {
                return;
            };
            new = Some(at);
            i += 1;
        } else {
            ctx.out.err(SYNTAX);
            return;
        }
        i += 1;
    }
    let Ok(v) = read(ctx, a[1]) else { return };
    let Some(v) = v.cloned() else {
        ctx.out.null();
        return;
    };
    if let Some(at) = new {
        let db = ctx.db();
        let cur = ctx.ks.peek(db, a[1]).map_or(0, |e| e.expires_at);
        if at != 0 || cur != 0 {
            ctx.ks.set_expiry(db, a[1], at);
        }
    }
    ctx.out.bulk(&v);
}

fn mget(ctx: &mut Ctx<'_>, a: &[&[u8]]) {
    let db = ctx.db();
    ctx.out.array(a.len() - 1);
    for k in &a[1..] {
        match ctx.ks.read(db, k) {
            Some(e) => match &e.value {
                Value::Str(s) => ctx.out.bulk(s),
                _ => ctx.out.null(),
            },
            None => ctx.out.null(),
        }
    }
}

fn mset(ctx: &mut Ctx<'_>, a: &[&[u8]]) {
    if a.len() % 2 == 0 {
        super::arity_error(ctx.out, &String::from_utf8_lossy(a[0]).to_ascii_lowercase());
        return;
    }
    let db = ctx.db();
    for kv in a[1..].chunks(2) {
        ctx.ks.put(db, kv[0], Value::Str(kv[1].to_vec()), 0);
        ctx.ks.notify(notify::STRING, "set", db, kv[0]);
    }
    ctx.out.ok();
}

fn msetnx(ctx: &mut Ctx<'_>, a: &[&[u8]]) {
    if a.len() % 2 == 0 {
        super::arity_error(ctx.out, "msetnx");
        return;
    }
    let db = ctx.db();
    if a[1..].chunks(2).any(|kv| ctx.ks.peek(db, kv[0]).is_some()) {
        ctx.out.int(0);
        return;
    }
    for kv in a[1..].chunks(2) {
        ctx.ks.put(db, kv[0], Value::Str(kv[1].to_vec()), 0);
        ctx.ks.notify(notify::STRING, "set", db, kv[0]);
    }
    ctx.out.int(1);
}

/// Store `v` at `key` keeping its expiry if it exists.
fn store_keep_ttl(ctx: &mut Ctx<'_>, key: &[u8], v: Vec<u8>) {
    let db = ctx.db();
    let exp = ctx.ks.peek(db, key).map_or(0, |e| e.expires_at);
    ctx.ks.put(db, key, Value::Str(v), exp);
}

fn incr(ctx: &mut Ctx<'_>, a: &[&[u8]]) {
    let delta = if a.len() == 3 {
        let Some(d) = arg::int(ctx.out, a[2]) else {
            return;
        };
        d
    } else {
        1
    };
    let neg = is(a[0], "decr") || is(a[0], "decrby");
    let delta = if neg {
        match delta.checked_neg() {
            Some(d) => d,
            None => {
                ctx.out.err("ERR decrement would overflow");
                return;
            }
        }
    } else {
        delta
    };
    let Ok(cur) = for_write(ctx, a[1]) else {
        return;
    };
    let cur = match cur {
        None => 0,
        Some(s) => match parse_int(&s) {
            Some(n) => n,
            None => {
                ctx.out.err(NOT_INT);
                return;
            }
        },
    };
    let Some(n) = cur.checked_add(delta) else {
        ctx.out.err("ERR increment or decrement would overflow");
        return;
    };
    store_keep_ttl(ctx, a[1], n.to_string().into_bytes());
    let db = ctx.db();
    ctx.ks.notify(notify::STRING, "incrby", db, a[1]);
    ctx.out.int(n);
}

fn incrbyfloat(ctx: &mut Ctx<'_>, a: &[&[u8]]) {
    let Some(by) = arg::parse_float(a[2]) else {
        ctx.out.err(NOT_FLOAT);
        return;
    };
    let Ok(cur) = for_write(ctx, a[1]) else {
        return;
    };
    let cur = match cur {
        None => 0.0,
        Some(s) => match arg::parse_float(&s) {
            Some(v) => v,
            None => {
                ctx.out.err(NOT_FLOAT);
                return;
            }
        },
    };
    let n = cur + by;
    if !n.is_finite() {
        ctx.out.err("ERR increment would produce NaN or Infinity");
        return;
    }
    let text = format!("{n}").into_bytes();
    store_keep_ttl(ctx, a[1], text.clone());
    let db = ctx.db();
    ctx.ks.notify(notify::STRING, "incrbyfloat", db, a[1]);
    ctx.out.bulk(&text);
}

fn append(ctx: &mut Ctx<'_>, a: &[&[u8]]) {
    let Ok(cur) = for_write_len(ctx, a[1]) else {
        return;
    };
    let db = ctx.db();
    match cur {
        None => {
            ctx.ks.put(db, a[1], Value::Str(a[2].to_vec()), 0);
            ctx.ks.notify(notify::STRING, "append", db, a[1]);
            ctx.out.int(a[2].len() as i64);
        }
        Some(len) => {
            if len + a[2].len() > MAX_STRING {
                ctx.out
                    .err("ERR string exceeds maximum allowed size (proto-max-bulk-len)");
                return;
            }
            let n = ctx.ks.modify_str(db, a[1], |s| {
                s.extend_from_slice(a[2]);
                s.len()
            });
            ctx.ks.notify(notify::STRING, "append", db, a[1]);
            ctx.out.int(n as i64);
        }
    }
}

/// The length of the live string at `key` for a write, or WRONGTYPE answered.
fn for_write_len(ctx: &mut Ctx<'_>, key: &[u8]) -> Result<Option<usize>, Answered> {
    let db = ctx.db();
    match ctx.ks.lookup_write(db, key) {
        None => Ok(None),
        Some(e) => match e.value.as_str() {
            Ok(s) => Ok(Some(s.len())),
            Err(_) => {
                ctx.out.err(WRONGTYPE);
                Err(Answered)
            }
        },
    }
}

fn strlen(ctx: &mut Ctx<'_>, a: &[&[u8]]) {
    if let Ok(v) = read(ctx, a[1]) {
        let n = v.map_or(0, |s| s.len());
        ctx.out.int(n as i64);
    }
}

/// Redis's range clamp: negative indexes count from the end. `None`: empty.
pub fn clamp_range(start: i64, end: i64, len: usize) -> Option<(usize, usize)> {
    let len = len as i64;
    let (mut s, mut e) = (start, end);
    if s < 0 {
        s += len;
    }
    if e < 0 {
        e += len;
    }
    let s = s.max(0);
    let e = e.max(0).min(len - 1);
    if len == 0 || s > e || s >= len {
        return None;
    }
    Some((s as usize, e as usize))
}

fn getrange(ctx: &mut Ctx<'_>, a: &[&[u8]]) {
    let (Some(s), Some(e)) = (parse_int(a[2]), parse_int(a[3])) else {
        ctx.out.err(NOT_INT);
        return;
    };
    let Ok(v) = read(ctx, a[1]) else { return };
    let v = v.map(|v| v.as_slice()).unwrap_or(b"");
    if s < 0 && e < 0 && s > e {
        ctx.out.bulk(b"");
        return;
    }
    match clamp_range(s, e, v.len()) {
        Some((s, e)) => {
            let r = v[s..=e].to_vec();
            ctx.out.bulk(&r);
        }
        None => ctx.out.bulk(b""),
    }
}

fn setrange(ctx: &mut Ctx<'_>, a: &[&[u8]]) {
    let Some(off) = arg::int(ctx.out, a[2]) else {
        return;
    };
    if off < 0 {
        ctx.out.err("ERR offset is out of range");
        return;
    }
    let Ok(cur) = for_write_len(ctx, a[1]) else {
        return;
    };
    let val = a[3];
    let off = off as usize;
    if val.is_empty() {
        ctx.out.int(cur.unwrap_or(0) as i64);
        return;
    }
    if off.saturating_add(val.len()) > MAX_STRING {
        ctx.out
            .err("ERR string exceeds maximum allowed size (proto-max-bulk-len)");
        return;
    }
    let db = ctx.db();
    let write = |s: &mut Vec<u8>| {
        if s.len() < off + val.len() {
            s.resize(off + val.len(), 0);
        }
        s[off..off + val.len()].copy_from_slice(val);
        s.len()
    };
    let n = match cur {
        None => {
            let mut s = Vec::new();
            let n = write(&mut s);
            ctx.ks.put(db, a[1], Value::Str(s), 0);
            n
        }
        Some(_) => ctx.ks.modify_str(db, a[1], write),
    };
    ctx.ks.notify(notify::STRING, "setrange", db, a[1]);
    ctx.out.int(n as i64);
}
