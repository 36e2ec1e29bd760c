//! Bitmap commands on strings (SETBIT, GETBIT, BITCOUNT, BITPOS, BITOP) and
//! LCS, which also works on a string's bytes.

use super::arg::{self, SYNTAX, is};
use super::strings::{clamp_range, for_write, read};
use super::{CommandSpec, Ctx, DENYOOM, FAST, READONLY, WRITE, spec};
use crate::kv::notify;
use crate::kv::protocol::parse_int;
use crate::kv::value::Value;

const G: &str = "bitmap";

/// The bitmap family.
pub static COMMANDS: &[CommandSpec] = &[
    spec(
        "setbit",
        4,
        WRITE | DENYOOM,
        (1, 1, 1),
        G,
        "2.2.0",
        "Sets or clears the bit at offset of the string value. Creates the key if it doesn't exist.",
        "key offset value",
        setbit,
    ),
    spec(
        "getbit",
        3,
        READONLY | FAST,
        (1, 1, 1),
        G,
        "2.2.0",
        "Returns a bit value by offset.",
        "key offset",
        getbit,
    ),
    spec(
        "bitcount",
        -2,
        READONLY,
        (1, 1, 1),
        G,
        "2.6.0",
        "Counts the number of set bits (population counting) in a string.",
        "key [start end [BYTE|BIT]]",
        bitcount,
    ),
    spec(
        "bitpos",
        -3,
        READONLY,
        (1, 1, 1),
        G,
        "2.8.7",
        "Finds the first set (1) or clear (0) bit in a string.",
        "key bit [start [end [BYTE|BIT]]]",
        bitpos,
    ),
    spec(
        "bitop",
        -4,
        WRITE | DENYOOM,
        (2, -1, 1),
        G,
        "2.6.0",
        "Performs bitwise operations on multiple strings, and stores the result.",
        "AND|OR|XOR|NOT destkey key [key ...]",
        bitop,
    ),
];

fn bit_offset(ctx: &mut Ctx<'_>, a: &[u8]) -> Option<usize> {
    match parse_int(a) {
        // 2^32 bits: a 512 MiB string, Redis's limit.
        Some(n) if (0..1i64 << 32).contains(&n) => Some(n as usize),
        _ => {
            ctx.out
                .err("ERR bit offset is not an integer or out of range");
            None
        }
    }
}

fn setbit(ctx: &mut Ctx<'_>, a: &[&[u8]]) {
    let Some(off) = bit_offset(ctx, a[2]) else {
        return;
    };
    let on = match a[3] {
        b"1" => true,
        b"0" => false,
        _ => {
            ctx.out.err("ERR bit is not an integer or out of range");
            return;
        }
    };
    let Ok(cur) = for_write(ctx, a[1]) else {
        return;
    };
    let (byte, mask) = (off / 8, 0x80u8 >> (off % 8));
    let db = ctx.db();
    let (old, changed) = match cur {
        None => {
            let mut s = vec![0u8; byte + 1];
            if on {
                s[byte] |= mask;
            }
            ctx.ks.put(db, a[1], Value::Str(s), 0);
            (false, true)
        }
        Some(_) => ctx.ks.modify_str(db, a[1], |s| {
            let grew = s.len() <= byte;
            if grew {
                s.resize(byte + 1, 0);
            }
            let old = s[byte] & mask != 0;
            if on {
                s[byte] |= mask;
            } else {
                s[byte] &= !mask;
            }
            (old, grew || old != on)
        }),
    };
    if changed {
        ctx.ks.notify(notify::STRING, "setbit", db, a[1]);
    }
    ctx.out.int(old as i64);
}

fn getbit(ctx: &mut Ctx<'_>, a: &[&[u8]]) {
    let Some(off) = bit_offset(ctx, a[2]) else {
        return;
    };
    let Ok(v) = read(ctx, a[1]) else { return };
    let bit = v
        .and_then(|s| s.get(off / 8))
        .is_some_and(|b| b & (0x80 >> (off % 8)) != 0);
    ctx.out.int(bit as i64);
}

/// Parse `[start end [BYTE|BIT]]` from `a`: (start, end, bit mode), or the
/// error answered. `end_optional` for BITPOS.
fn range_args(
    ctx: &mut Ctx<'_>,
    a: &[&[u8]],
    end_optional: bool,
) -> Option<(Option<i64>, Option<i64>, bool)> {
    let mut bit = false;
    if a.len() > 3 || (a.len() == 1 && !end_optional) {
        ctx.out.err(SYNTAX);
        return None;
    }
    if a.len() == 3 {
        if is(a[2], "BIT") {
            bit = true;
        } else if !is(a[2], "BYTE") {
            ctx.out.err(SYNTAX);
            return None;
        }
    }
    let start = match a.first() {
        Some(s) => Some(arg::int(ctx.out, s)?),
        None => None,
    };
    let end = match a.get(1) {
        Some(e) => Some(arg::int(ctx.out, e)?),
        None => None,
    };
    Some((start, end, bit))
}

fn bitcount(ctx: &mut Ctx<'_>, a: &[&[u8]]) {
    let Some((start, end, bit)) = range_args(ctx, &a[2..], false) else {
        return;
    };
    let Ok(v) = read(ctx, a[1]) else { return };
    let Some(v) = v else {
        ctx.out.int(0);
        return;
    };
    let (s, e) = (start.unwrap_or(0), end.unwrap_or(-1));
    let n = if s < 0 && e < 0 && s > e {
        // Both from the end and crossed: empty, before any clamping (7.0).
        0
    } else if bit {
        match clamp_range(s, e, v.len() * 8) {
            None => 0,
            Some((s, e)) => (s..=e)
                .filter(|&i| v[i / 8] & (0x80 >> (i % 8)) != 0)
                .count(),
        }
    } else {
        match clamp_range(s, e, v.len()) {
            None => 0,
            Some((s, e)) => v[s..=e].iter().map(|b| b.count_ones() as usize).sum(),
        }
    };
    ctx.out.int(n as i64);
}

fn bitpos(ctx: &mut Ctx<'_>, a: &[&[u8]]) {
    let want = match parse_int(a[2]) {
        Some(1) => true,
        Some(0) => false,
        Some(_) => {
            ctx.out.err("ERR The bit argument must be 1 or 0.");
            return;
        }
        None => {
            ctx.out.err(arg::NOT_INT);
            return;
        }
    };
    let Some((start, end, bit)) = range_args(ctx, &a[3..], true) else {
        return;
    };
    let Ok(v) = read(ctx, a[1]) else { return };
    let Some(v) = v else {
        ctx.out.int(if want { -1 } else { 0 });
        return;
    };
    let end_given = end.is_some();
    let (s, e) = (start.unwrap_or(0), end.unwrap_or(-1));
    let bits = v.len() * 8;
    let range = if bit {
        clamp_range(s, e, bits)
    } else {
        clamp_range(s, e, v.len()).map(|(s, e)| (s * 8, e * 8 + 7))
    };
    let Some((s, e)) = range else {
        ctx.out.int(-1);
        return;
    };
    let found = (s..=e).find(|&i| (v[i / 8] & (0x80 >> (i % 8)) != 0) == want);
    let r = match found {
        Some(i) => i as i64,
        // Looking for a clear bit past an all-ones string with no end: the
        // first bit after it, as Redis answers.
        None if !want && !end_given => (e + 1) as i64,
        None => -1,
    };
    ctx.out.int(r);
}

fn bitop(ctx: &mut Ctx<'_>, a: &[&[u8]]) {
    let op = a[1];
    let not = is(op, "NOT");
    if !(not || is(op, "AND") || is(op, "OR") || is(op, "XOR")) {
        ctx.out.err(SYNTAX);
        return;
    }
    if not && a.len() != 4 {
        ctx.out
            .err("ERR BITOP NOT must be called with a single source key.");
        return;
    }
    let mut srcs = Vec::with_capacity(a.len() - 3);
    for k in &a[3..] {
        match read(ctx, k) {
            Err(_) => return,
            Ok(v) => srcs.push(v.cloned().unwrap_or_default()),
        }
    }
    let len = srcs.iter().map(|s| s.len()).max().unwrap_or(0);
    let mut res = vec![0u8; len];
    for (i, r) in res.iter_mut().enumerate() {
        let byte = |s: &Vec<u8>| s.get(i).copied().unwrap_or(0);
        *r = if not {
            !byte(&srcs[0])
        } else {
            let mut acc = byte(&srcs[0]);
            for s in &srcs[1..] {
                let b = byte(s);
                if is(op, "AND") {
                    acc &= b;
                } else if is(op, "OR") {
                    acc |= b;
                } else {
                    acc ^= b;
                }
            }
            acc
        };
    }
    let db = ctx.db();
    if res.is_empty() {
        ctx.ks.remove(db, a[2]);
    } else {
        ctx.ks.put(db, a[2], Value::Str(res), 0);
        ctx.ks.notify(notify::STRING, "set", db, a[2]);
    }
    ctx.out.int(len as i64);
}

/// LCS key1 key2 [LEN] [IDX] [MINMATCHLEN n] [WITHMATCHLEN]
pub fn lcs(ctx: &mut Ctx<'_>, a: &[&[u8]]) {
    let (mut len_only, mut idx, mut min, mut with_len) = (false, false, 0i64, false);
    let mut i = 3;
    while i < a.len() {
        if is(a[i], "LEN") {
            len_only = true;
        } else if is(a[i], "IDX") {
            idx = true;
        } else if is(a[i], "WITHMATCHLEN") {
            with_len = true;
        } else if is(a[i], "MINMATCHLEN") && i + 1 < a.len() {
            let Some(n) = arg::int(ctx.out, a[i + 1]) else {
                return;
            };
            min = n.max(0);
            i += 1;
        } else {
            ctx.out.err(SYNTAX);
            return;
        }
        i += 1;
    }
    if len_only && idx {
        ctx.out
            .err("ERR If you want both the length and indexes, please just use IDX.");
        return;
    }
    let x = match read(ctx, a[1]) {
        Err(_) => return,
        Ok(v) => v.cloned().unwrap_or_default(),
    };
    let y = match read(ctx, a[2]) {
        Err(_) => return,
        Ok(v) => v.cloned().unwrap_or_default(),
    };
    if (x.len() as u64 + 1) * (y.len() as u64 + 1) > 1 << 28 {
        ctx.out
            .err("ERR Insufficient memory, transient memory for LCS exceeds proto-max-bulk-len");
        return;
    }
    // dp[i][j]: LCS length of x[..i] and y[..j].
    let w = y.len() + 1;
    let mut dp = vec![0u32; (x.len() + 1) * w];
    for i in 1..=x.len() {
        for j in 1..=y.len() {
            dp[i * w + j] = if x[i - 1] == y[j - 1] {
                dp[(i - 1) * w + j - 1] + 1
            } else {
                dp[(i - 1) * w + j].max(dp[i * w + j - 1])
            };
        }
    }
    let total = dp[x.len() * w + y.len()] as usize;
    if len_only {
        ctx.out.int(total as i64);
        return;
    }
    // Walk back from the end, collecting the string and the match ranges.
    let mut s = vec![0u8; total];
    let mut k = total;
    let (mut i, mut j) = (x.len(), y.len());
    let mut matches: Vec<((usize, usize), (usize, usize))> = Vec::new();
    let mut cur: Option<((usize, usize), (usize, usize))> = None;
    while i > 0 && j > 0 {
        if x[i - 1] == y[j - 1] {
            k -= 1;
            s[k] = x[i - 1];
            let (ai, bj) = (i - 1, j - 1);
            cur = match cur {
                Some(((a0, a1), (b0, b1))) if a0 == ai + 1 && b0 == bj + 1 => {
                    Some(((ai, a1), (bj, b1)))
                }
                Some(m) => {
                    matches.push(m);
                    Some(((ai, ai), (bj, bj)))
                }
                None => Some(((ai, ai), (bj, bj))),
            };
            i -= 1;
            j -= 1;
        } else if dp[(i - 1) * w + j] > dp[i * w + j - 1] {
            i -= 1;
        } else {
            j -= 1;
        }
    }
    if let Some(m) = cur {
        matches.push(m);
    }
    if !idx {
        ctx.out.bulk(&s);
        return;
    }
    let kept: Vec<_> = matches
        .into_iter()
        .filter(|((a0, a1), _)| (a1 - a0 + 1) as i64 >= min)
        .collect();
    ctx.out.map(2);
    ctx.out.bulk(b"matches");
    ctx.out.array(kept.len());
    for ((a0, a1), (b0, b1)) in kept {
        ctx.out.array(if with_len { 3 } else { 2 });
        for (p, q) in [(a0, a1), (b0, b1)] {
            ctx.out.array(2);
            ctx.out.int(p as i64);
            ctx.out.int(q as i64);
        }
        if with_len {
            ctx.out.int((a1 - a0 + 1) as i64);
        }
    }
    ctx.out.bulk(b"len");
    ctx.out.int(total as i64);
}
