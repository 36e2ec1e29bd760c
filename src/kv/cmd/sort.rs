//! SORT and SORT_RO, as Redis 7.0's `sort.c` behaves.
//!
//! `SORT key [BY pattern] [LIMIT offset count] [GET pattern ...] [ASC|DESC]
//! [ALPHA] [STORE destination]` sorts a list, set or sorted set (a missing
//! key is an empty list): numerically by default (each element, or its BY
//! weight, read as a C `strtod` would; ties ordered by the elements' bytes),
//! by bytes with ALPHA. A pattern's first `*` is replaced by the element:
//! `w_*` names a string key, `w_*->f` a hash field, `#` is the element
//! itself. BY without `*` sorts nothing: a list or sorted set keeps its own
//! order (DESC walks it backwards), a set its table order, except under
//! STORE or in a script, where a set is sorted ALPHA so the result is the
//! same everywhere. STORE replaces the destination by a list (deleting it
//! when the result is empty), logged as one record; the reply is its length.
//!
//! Memory follows what exists, not what is asked: the vector holds the
//! source's elements (only the LIMIT range when nothing is sorted), LIMIT is
//! clamped to it, and the reply is that range times the GET patterns given.

use std::cmp::Ordering;

use super::arg::{NOT_INT, SYNTAX, is};
use super::{CommandSpec, Ctx, DENYOOM, READONLY, WRITE, spec};
use crate::kv::keyspace::Ks;
use crate::kv::protocol::parse_int;
use crate::kv::types::List;
use crate::kv::value::{Value, WRONGTYPE};

const G: &str = "generic";

/// SORT and SORT_RO.
pub static COMMANDS: &[CommandSpec] = &[
    spec(
        "sort",
        -2,
        WRITE | DENYOOM,
        (1, 1, 1),
        G,
        "1.0.0",
        "Sort the elements in a list, set or sorted set.",
        "key [BY pattern] [LIMIT offset count] [GET pattern [GET pattern ...]] [ASC|DESC] [ALPHA] [STORE destination]",
        sort,
    )
    .keys_by(sort_keys),
    spec(
        "sort_ro",
        -2,
        READONLY,
        (1, 1, 1),
        G,
        "7.0.0",
        "Sort the elements in a list, set or sorted set. Read-only variant of SORT.",
        "key [BY pattern] [LIMIT offset count] [GET pattern [GET pattern ...]] [ASC|DESC] [ALPHA]",
        sort_ro,
    )
    .keys_by(sort_ro_keys),
];

/// SORT's keys: the sorted key and the last STORE's destination (Redis's
/// `sortGetKeys`, which skips LIMIT's, GET's and BY's arguments).
pub fn sort_keys(a: &[&[u8]]) -> Vec<usize> {
    let mut store = None;
    let mut i = 2;
    while i < a.len() {
        if is(a[i], "limit") {
            i += 2;
        } else if is(a[i], "get") || is(a[i], "by") {
            i += 1;
        } else if is(a[i], "store") && i + 1 < a.len() {
            store = Some(i + 1);
        }
        i += 1;
    }
    let mut keys = vec![1];
    keys.extend(store);
    keys
}

/// SORT_RO's key: the sorted key.
pub fn sort_ro_keys(_: &[&[u8]]) -> Vec<usize> {
    vec![1]
}

/// The parsed options.
#[derive(Debug, Default, PartialEq)]
pub struct Opts<'a> {
    /// BY's pattern.
    pub by: Option<&'a [u8]>,
    /// BY without `*`: nothing to sort by.
    pub dontsort: bool,
    /// LIMIT's offset and count, as given (`(0, -1)`: all).
    pub limit: (i64, i64),
    /// GET's patterns, in order.
    pub gets: Vec<&'a [u8]>,
    /// DESC (the last of ASC/DESC wins).
    pub desc: bool,
    /// ALPHA.
    pub alpha: bool,
    /// STORE's destination (the last one wins).
    pub store: Option<&'a [u8]>,
}

/// Parse the options after the key (`a[2..]`), left to right as Redis
/// does: the first bad one is the error (`ERR syntax error`, or the
/// integer error for LIMIT). STORE is a syntax error for SORT_RO.
pub fn parse<'a>(a: &[&'a [u8]], readonly: bool) -> Result<Opts<'a>, &'static str> {
    let mut o = Opts {
        limit: (0, -1),
        ..Opts::default()
    };
    let mut j = 2;
    while j < a.len() {
        let left = a.len() - j - 1;
        let w = a[j];
        if is(w, "asc") {
            o.desc = false;
        } else if is(w, "desc") {
            o.desc = true;
        } else if is(w, "alpha") {
            o.alpha = true;
        } else if is(w, "limit") && left >= 2 {
            let (Some(start), Some(count)) = (parse_int(a[j + 1]), parse_int(a[j + 2])) else {
                return Err(NOT_INT);
            };
            o.limit = (start, count);
            j += 2;
        } else if !readonly && is(w, "store") && left >= 1 {
            o.store = Some(a[j + 1]);
            j += 1;
        } else if is(w, "by") && left >= 1 {
            o.by = Some(a[j + 1]);
            o.dontsort = !a[j + 1].contains(&b'*');
            j += 1;
        } else if is(w, "get") && left >= 1 {
            o.gets.push(a[j + 1]);
            j += 1;
        } else {
            return Err(SYNTAX);
        }
        j += 1;
    }
    Ok(o)
}

/// A BY or GET pattern, split once.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Pattern<'a> {
    /// `#`: the element itself.
    Elem,
    /// No `*`: names no key, finds nothing.
    Nothing,
    /// `pre*post`, or `pre*post->field` for a hash field.
    Key {
        /// Before the first `*`.
        pre: &'a [u8],
        /// After it (up to `->field`).
        post: &'a [u8],
        /// The hash field, when `->` follows the `*` with a name after it.
        field: Option<&'a [u8]>,
    },
}

impl<'a> Pattern<'a> {
    /// Split `p` as Redis's `lookupKeyByPattern` reads it.
    pub fn new(p: &'a [u8]) -> Pattern<'a> {
        if p == b"#" {
            return Pattern::Elem;
        }
        let Some(star) = p.iter().position(|&b| b == b'*') else {
            return Pattern::Nothing;
        };
        let rest = &p[star + 1..];
        let arrow = rest.windows(2).position(|w| w == b"->");
        let (post, field) = match arrow {
            Some(i) if i + 2 < rest.len() => (&rest[..i], Some(&rest[i + 2..])),
            _ => (rest, None),
        };
        Pattern::Key {
            pre: &p[..star],
            post,
            field,
        }
    }
}

/// The value `pat` names for `elem`: the element (`#`), a string key's
/// value, a hash field's value, or nothing (missing, another type, no `*`).
/// Keys are read as reads are (hits, misses, lazy expiry). `buf` is scratch
/// for the key name.
fn fetch<'x>(
    ks: &'x mut Ks<'_>,
    db: usize,
    pat: Pattern<'_>,
    elem: &'x [u8],
    buf: &mut Vec<u8>,
) -> Option<&'x [u8]> {
    let (pre, post, field) = match pat {
        Pattern::Elem => return Some(elem),
        Pattern::Nothing => return None,
        Pattern::Key { pre, post, field } => (pre, post, field),
    };
    buf.clear();
    buf.extend_from_slice(pre);
    buf.extend_from_slice(elem);
    buf.extend_from_slice(post);
    let e = ks.read(db, buf)?;
    match (field, &e.value) {
        (Some(f), Value::Hash(h)) => h.get(f),
        (None, Value::Str(s)) => Some(s),
        _ => None,
    }
}

/// A score as Redis reads one with `strtod`, the whole string consumed
/// (up to a NUL byte, as C sees it): leading white space allowed, `inf`,
/// hex floats; NaN, trailing bytes, overflow and underflow (`ERANGE`) are
/// errors. The empty string is 0 (strtod consumes nothing and stops at the end).
pub fn score(s: &[u8]) -> Option<f64> {
    let s = s.split(|&b| b == 0).next().unwrap_or(b"");
    if s.is_empty() {
        return Some(0.0);
    }
    // C's isspace: also \v, which Rust's ASCII white space leaves out.
    let skip = s
        .iter()
        .take_while(|b| b" \t\n\x0b\x0c\r".contains(b))
        .count();
    let body = &s[skip..];
    let (neg, digits) = match body.first() {
        Some(b'-') => (true, &body[1..]),
        Some(b'+') => (false, &body[1..]),
        _ => (false, body),
    };
    let v = if digits.len() > 2 && digits[0] == b'0' && (digits[1] | 0x20) == b'x' {
        let v = hex_float(&digits[2..])?;
        if neg { -v } else { v }
    } else {
        // Rust's grammar is C's for decimals, `inf`, `infinity`, `nan`.
        let v: f64 = std::str::from_utf8(body).ok()?.parse().ok()?;
        let named = digits.first().is_some_and(|b| b.is_ascii_alphabetic());
        if v.is_infinite() && !named {
            return None; // overflow: ERANGE
        }
        let mantissa = digits
            .split(|&b| b == b'e' || b == b'E')
            .next()
            .unwrap_or(b"");
        if !named && v == 0.0 && mantissa.iter().any(|b| (b'1'..=b'9').contains(b)) {
            return None; // underflow to zero: ERANGE
        }
        v
    };
    if v.is_nan() || (v != 0.0 && v.abs() < f64::MIN_POSITIVE) {
        return None;
    }
    Some(v)
}

/// The part of a C hex float after `0x`: `h[.h][p[+-]d]`, all of it.
fn hex_float(s: &[u8]) -> Option<f64> {
    let mut v = 0f64;
    let mut exp: i64 = 0;
    let mut any = false;
    let mut i = 0;
    while i < s.len() && s[i].is_ascii_hexdigit() {
        v = v * 16.0 + f64::from((s[i] as char).to_digit(16)?);
        any = true;
        i += 1;
    }
    if i < s.len() && s[i] == b'.' {
        i += 1;
        while i < s.len() && s[i].is_ascii_hexdigit() {
            v = v * 16.0 + f64::from((s[i] as char).to_digit(16)?);
            exp -= 4;
            any = true;
            i += 1;
        }
    }
    if !any {
        return None;
    }
    if i < s.len() && (s[i] | 0x20) == b'p' {
        let e = std::str::from_utf8(&s[i + 1..]).ok()?;
        if e.is_empty() || e.starts_with(|c: char| c.is_whitespace()) {
            return None;
        }
        let e: i64 = e.parse().ok()?;
        exp = exp.saturating_add(e);
        i = s.len();
    }
    if i != s.len() {
        return None;
    }
    let v = v * 2f64.powi(exp.clamp(-4000, 4000) as i32);
    v.is_finite().then_some(v)
}

/// LIMIT clamped to `len` elements, as Redis does: the first and last
/// index output (`end < start`: nothing).
pub fn clamp_limit(len: usize, offset: i64, count: i64) -> (i64, i64) {
    let n = len as i64;
    let mut start = offset.clamp(0, n);
    let count = count.clamp(-1, n);
    let mut end = if count < 0 { n - 1 } else { start + count - 1 };
    if start >= n {
        start = n - 1;
        end = n - 2;
    }
    if end >= n {
        end = n - 1;
    }
    (start, end)
}

/// One element to sort and what it sorts by.
struct Item {
    elem: Box<[u8]>,
    score: f64,
    /// ALPHA with BY: the weight (`None` when missing: sorts first).
    weight: Option<Box<[u8]>>,
}

impl Item {
    fn new(elem: &[u8]) -> Item {
        Item {
            elem: elem.into(),
            score: 0.0,
            weight: None,
        }
    }
}

/// The elements to output, in the source's order: all of them, or when
/// nothing is sorted and the source keeps an order (list, sorted set)
/// only the LIMIT range walked in the DESC direction. Returns the vector
/// and the range of it to output.
fn load(
    value: Option<&Value>,
    o: &Opts<'_>,
    dontsort: bool,
) -> (Vec<Item>, std::ops::Range<usize>) {
    let len = value.map_or(0, Value::len);
    let (start, end) = clamp_limit(len, o.limit.0, o.limit.1);
    let range = |s: i64, e: i64| {
        if e >= s {
            s as usize..e as usize + 1
        } else {
            0..0
        }
    };
    match value {
        Some(Value::List(l)) if dontsort => {
            let r = range(start, end);
            let n = r.len();
            let v = if o.desc {
                l.items
                    .iter()
                    .rev()
                    .skip(r.start)
                    .take(n)
                    .map(|e| Item::new(e))
                    .collect()
            } else {
                l.items.range(r).map(|e| Item::new(e)).collect()
            };
            (v, 0..n)
        }
        Some(Value::ZSet(z)) if dontsort => {
            let r = range(start, end);
            let n = r.len();
            let mut v = Vec::with_capacity(n);
            if n > 0 {
                let first = if o.desc { len - 1 - r.start } else { r.start };
                z.walk(first, n, o.desc, |m, _| v.push(Item::new(m)));
            }
            (v, 0..n)
        }
        Some(Value::List(l)) => (
            l.items.iter().map(|e| Item::new(e)).collect(),
            range(start, end),
        ),
        Some(Value::Set(s)) => (s.iter().map(Item::new).collect(), range(start, end)),
        Some(Value::ZSet(z)) => (
            z.sl.iter().map(|(m, _)| Item::new(m)).collect(),
            range(start, end),
        ),
        _ => (Vec::new(), 0..0),
    }
}

fn compare(a: &Item, b: &Item, alpha: bool, by: bool) -> Ordering {
    if !alpha {
        a.score
            .partial_cmp(&b.score)
            .unwrap_or(Ordering::Equal)
            .then_with(|| a.elem.cmp(&b.elem))
    } else if by {
        a.weight.cmp(&b.weight) // None (missing) first
    } else {
        a.elem.cmp(&b.elem)
    }
}

fn sort(ctx: &mut Ctx<'_>, a: &[&[u8]]) {
    sort_generic(ctx, a, false);
}

fn sort_ro(ctx: &mut Ctx<'_>, a: &[&[u8]]) {
    sort_generic(ctx, a, true);
}

fn sort_generic(ctx: &mut Ctx<'_>, a: &[&[u8]], readonly: bool) {
    let o = match parse(a, readonly) {
        Ok(o) => o,
        Err(e) => {
            ctx.out.err(e);
            return;
        }
    };
    let db = ctx.db();
    let value = ctx.ks.read(db, a[1]).map(|e| &e.value);
    let (mut dontsort, mut alpha, mut by) = (o.dontsort, o.alpha, o.by);
    if let Some(v) = &value {
        if !matches!(v, Value::List(_) | Value::Set(_) | Value::ZSet(_)) {
            ctx.out.err(WRONGTYPE);
            return;
        }
        // A set's table order is no order: sorted ALPHA where the result
        // must be the same everywhere (stored, or in a script).
        if dontsort && matches!(v, Value::Set(_)) && (o.store.is_some() || ctx.sess.in_script) {
            dontsort = false;
            alpha = true;
            by = None;
        }
    }
    let (mut items, range) = load(value, &o, dontsort);
    let mut buf = Vec::new();
    if !dontsort {
        let by = by.map(Pattern::new);
        let mut bad = false;
        for it in items.iter_mut() {
            let w = match by {
                Some(p) => match fetch(&mut ctx.ks, db, p, &it.elem, &mut buf) {
                    Some(w) => w,
                    None => continue,
                },
                None => &it.elem,
            };
            if alpha {
                if by.is_some() {
                    it.weight = Some(w.into());
                }
            } else {
                match score(w) {
                    Some(s) => it.score = s,
                    None => bad = true,
                }
            }
        }
        if bad {
            ctx.out
                .err("ERR One or more scores can't be converted into double");
            return;
        }
        let by = by.is_some();
        if o.desc {
            items.sort_by(|x, y| compare(y, x, alpha, by));
        } else {
            items.sort_by(|x, y| compare(x, y, alpha, by));
        }
    }
    let gets: Vec<Pattern<'_>> = o.gets.iter().map(|p| Pattern::new(p)).collect();
    let out_items = &items[range];
    let n = if gets.is_empty() {
        out_items.len()
    } else {
        out_items.len().saturating_mul(gets.len())
    };
    let Some(dest) = o.store else {
        ctx.out.array(n);
        for it in out_items {
            if gets.is_empty() {
                ctx.out.bulk(&it.elem);
            }
            for &g in &gets {
                let v = fetch(&mut ctx.ks, db, g, &it.elem, &mut buf);
                ctx.out.bulk_opt(v);
            }
        }
        return;
    };
    let mut list = List::default();
    for it in out_items {
        if gets.is_empty() {
            list.items.push_back(it.elem.clone());
        }
        for &g in &gets {
            let v = fetch(&mut ctx.ks, db, g, &it.elem, &mut buf).unwrap_or(b"");
            list.items.push_back(v.into());
        }
    }
    if list.items.is_empty() {
        ctx.ks.remove(db, dest);
    } else {
        ctx.ks.put(db, dest, Value::List(Box::new(list)), 0);
    }
    ctx.out.int(n as i64);
}
