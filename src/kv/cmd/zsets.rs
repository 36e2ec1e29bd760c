//! Sorted-set commands: ZADD (NX XX GT LT CH INCR), ZINCRBY, scores, ranks,
//! counts, ZREM, ZPOPMIN/ZPOPMAX, ZMPOP, ZRANDMEMBER, ZSCAN. Ranges are in
//! [`super::zrange`], unions and intersections in [`super::zstore`]. A
//! ZADD is logged as the absolute scores it set (INCR included), a pop as
//! the rank range it removed.

use std::collections::HashMap;

use super::arg::{self, NOT_FLOAT, SYNTAX, is};
use super::coll::{self, Answered, rand_count, sample, scan_args, scan_dict};
use super::lists::{at_least_one, positive};
use super::{CommandSpec, Ctx, DENYOOM, FAST, READONLY, WRITE, spec};
use crate::kv::aof::{CollKind, CollOp};
use crate::kv::keyspace::Ks;
use crate::kv::notify;
use crate::kv::reply::{Out, fmt_double};
use crate::kv::types::ZSet;
use crate::kv::types::zset::{LexRange, ScoreRange};
use crate::kv::value::{Value, WrongType};

const G: &str = "sorted-set";

/// The sorted-set family.
pub static COMMANDS: &[CommandSpec] = &[
    spec(
        "zadd",
        -4,
        WRITE | DENYOOM | FAST,
        (1, 1, 1),
        G,
        "1.2.0",
        "Add one or more members to a sorted set, or update its score if it already exists.",
        "key [NX|XX] [GT|LT] [CH] [INCR] score member [score member ...]",
        zadd,
    ),
    spec(
        "zincrby",
        4,
        WRITE | DENYOOM | FAST,
        (1, 1, 1),
        G,
        "1.2.0",
        "Increment the score of a member in a sorted set.",
        "key increment member",
        zincrby,
    ),
    spec(
        "zscore",
        3,
        READONLY | FAST,
        (1, 1, 1),
        G,
        "1.2.0",
        "Get the score associated with the given member in a sorted set.",
        "key member",
        zscore,
    ),
    spec(
        "zmscore",
        -3,
        READONLY | FAST,
        (1, 1, 1),
        G,
        "6.2.0",
        "Get the score associated with the given members in a sorted set.",
        "key member [member ...]",
        zmscore,
    ),
    spec(
        "zcard",
        2,
        READONLY | FAST,
        (1, 1, 1),
        G,
        "1.2.0",
        "Get the number of members in a sorted set.",
        "key",
        zcard,
    ),
    spec(
        "zcount",
        4,
        READONLY | FAST,
        (1, 1, 1),
        G,
        "2.0.0",
        "Count the members in a sorted set with scores within the given values.",
        "key min max",
        zcount,
    ),
    spec(
        "zlexcount",
        4,
        READONLY | FAST,
        (1, 1, 1),
        G,
        "2.8.9",
        "Count the number of members in a sorted set between a given lexicographical range.",
        "key min max",
        zlexcount,
    ),
    spec(
        "zrank",
        3,
        READONLY | FAST,
        (1, 1, 1),
        G,
        "2.0.0",
        "Determine the index of a member in a sorted set.",
        "key member",
        zrank,
    ),
    spec(
        "zrevrank",
        3,
        READONLY | FAST,
        (1, 1, 1),
        G,
        "2.0.0",
        "Determine the index of a member in a sorted set, with scores ordered from high to low.",
        "key member",
        zrevrank,
    ),
    spec(
        "zrem",
        -3,
        WRITE | FAST,
        (1, 1, 1),
        G,
        "1.2.0",
        "Remove one or more members from a sorted set.",
        "key member [member ...]",
        zrem,
    ),
    spec(
        "zpopmin",
        -2,
        WRITE | FAST,
        (1, 1, 1),
        G,
        "5.0.0",
        "Remove and return members with the lowest scores in a sorted set.",
        "key [count]",
        zpopmin,
    ),
    spec(
        "zpopmax",
        -2,
        WRITE | FAST,
        (1, 1, 1),
        G,
        "5.0.0",
        "Remove and return members with the highest scores in a sorted set.",
        "key [count]",
        zpopmax,
    ),
    spec(
        "zmpop",
        -4,
        WRITE,
        (0, 0, 0),
        G,
        "7.0.0",
        "Remove and return members with scores in a sorted set.",
        "numkeys key [key ...] MIN|MAX [COUNT count]",
        zmpop,
    )
    .numkeys_at(1),
    spec(
        "zrandmember",
        -2,
        READONLY,
        (1, 1, 1),
        G,
        "6.2.0",
        "Get one or multiple random elements from a sorted set.",
        "key [count [WITHSCORES]]",
        zrandmember,
    ),
    spec(
        "zscan",
        -3,
        READONLY,
        (1, 1, 1),
        G,
        "2.8.0",
        "Incrementally iterate sorted sets elements and associated scores.",
        "key cursor [MATCH pattern] [COUNT count]",
        zscan,
    ),
];

/// The sorted set at `v`, or `WrongType` (for [`coll::write`]).
pub fn zset_of(v: &Value) -> Result<&ZSet, WrongType> {
    v.as_zset()
}

/// Start a reply of `n` members, with scores when `ws`: flat pairs in
/// RESP2, a `[member, score]` array each in RESP3 (as Redis 7.0).
pub fn begin(out: &mut Out, n: usize, ws: bool) {
    out.array(if ws && !out.resp3 { n * 2 } else { n });
}

/// One member of a reply started by [`begin`].
pub fn item(out: &mut Out, m: &[u8], s: f64, ws: bool) {
    if ws && out.resp3 {
        out.array(2);
    }
    out.bulk(m);
    if ws {
        out.double(s);
    }
}

/// Pop up to `n` members from the low end (or the high end when `max`) of
/// the sorted set at `key` (logged as one rank range; `zpopmin`/`zpopmax`
/// noted, then `del` if that emptied it); in pop order.
pub fn pop(ks: &mut Ks<'_>, db: usize, key: &[u8], max: bool, n: usize) -> Vec<(Box<[u8]>, f64)> {
    let len = match ks.peek(db, key).map(|e| e.value.as_zset()) {
        Some(Ok(z)) => z.len(),
        _ => return Vec::new(),
    };
    let n = n.min(len);
    if n == 0 {
        return Vec::new();
    }
    let (a, b) = if max { (len - n, len - 1) } else { (0, n - 1) };
    let op = CollOp::nums(CollKind::ZRemRange, db, key, a as i64, b as i64);
    let r = ks.coll(op);
    ks.notify(
        notify::ZSET,
        if max { "zpopmax" } else { "zpopmin" },
        db,
        key,
    );
    if r.emptied {
        ks.notify(notify::GENERIC, "del", db, key);
    }
    let mut gone = r.zpopped;
    if max {
        gone.reverse();
    }
    gone
}

/// `[key, [[member, score], ...]]`: ZMPOP and BZMPOP's reply.
pub fn reply_key_pairs(out: &mut Out, key: &[u8], items: &[(Box<[u8]>, f64)]) {
    out.array(2);
    out.bulk(key);
    out.array(items.len());
    for (m, s) in items {
        out.array(2);
        out.bulk(m);
        out.double(*s);
    }
}

#[derive(Default)]
struct ZaddFlags {
    nx: bool,
    xx: bool,
    gt: bool,
    lt: bool,
    ch: bool,
    incr: bool,
}

/// ZADD (and ZINCRBY, and GEOADD once its triples are scores).
pub fn zadd(ctx: &mut Ctx<'_>, a: &[&[u8]]) {
    let mut f = ZaddFlags::default();
    let mut i = 2;
    if is(a[0], "zincrby") {
        f.incr = true;
    } else {
        while i < a.len() {
            let o = a[i];
            match () {
                _ if is(o, "NX") => f.nx = true,
                _ if is(o, "XX") => f.xx = true,
                _ if is(o, "GT") => f.gt = true,
                _ if is(o, "LT") => f.lt = true,
                _ if is(o, "CH") => f.ch = true,
                _ if is(o, "INCR") => f.incr = true,
                _ => break,
            }
            i += 1;
        }
    }
    let elems = &a[i..];
    if elems.is_empty() || elems.len() % 2 == 1 {
        ctx.out.err(SYNTAX);
        return;
    }
    if f.nx && f.xx {
        ctx.out
            .err("ERR XX and NX options at the same time are not compatible");
        return;
    }
    if (f.nx && (f.gt || f.lt)) || (f.gt && f.lt) {
        ctx.out
            .err("ERR GT, LT, and/or NX options at the same time are not compatible");
        return;
    }
    if f.incr && elems.len() > 2 {
        ctx.out
            .err("ERR INCR option supports a single increment-element pair");
        return;
    }
    let mut scores = Vec::with_capacity(elems.len() / 2);
    for p in elems.chunks_exact(2) {
        match arg::parse_float(p[0]) {
            Some(s) => scores.push(s),
            None => {
                ctx.out.err(NOT_FLOAT);
                return;
            }
        }
    }
    let db = ctx.db();
    let Ok(z) = coll::write(&mut ctx.ks, ctx.out, db, a[1], zset_of) else {
        return;
    };
    // Plan every change against the current scores (and the earlier
    // elements of this same command), then apply them as one op.
    let (mut added, mut updated, mut processed) = (0, 0, 0);
    let mut members: Vec<&[u8]> = Vec::new();
    let mut news: Vec<f64> = Vec::new();
    // Only a multi-element ZADD can name a member twice.
    let multi = elems.len() > 2;
    let mut seen: HashMap<&[u8], f64> = HashMap::new();
    let mut last = 0.0;
    if z.is_some() || !f.xx {
        for (p, &score) in elems.chunks_exact(2).zip(&scores) {
            let m = p[1];
            let cur = match seen.get(m) {
                Some(&s) => Some(s),
                None => z.and_then(|z| z.score(m)),
            };
            let new = match cur {
                Some(cur) => {
                    if f.nx {
                        continue;
                    }
                    let new = if f.incr { cur + score } else { score };
                    if new.is_nan() {
                        ctx.out.err("ERR resulting score is not a number (NaN)");
                        return;
                    }
                    if (f.lt && new >= cur) || (f.gt && new <= cur) {
                        continue;
                    }
                    if new != cur {
                        updated += 1;
                    }
                    new
                }
                None => {
                    if f.xx {
                        continue;
                    }
                    added += 1;
                    score
                }
            };
            processed += 1;
            last = new;
            if cur != Some(new) {
                if multi {
                    seen.insert(m, new);
                }
                members.push(m);
                news.push(new);
            }
        }
    }
    if !members.is_empty() {
        ctx.ks.coll(CollOp {
            scores: &news,
            ..CollOp::items(CollKind::ZAdd, db, a[1], &members)
        });
    }
    if added + updated > 0 {
        let event = if f.incr { "zincr" } else { "zadd" };
        ctx.ks.notify(notify::ZSET, event, db, a[1]);
    }
    if f.incr {
        if processed > 0 {
            ctx.out.double(last);
        } else {
            ctx.out.null();
        }
    } else {
        ctx.out
            .int(if f.ch { added + updated } else { added } as i64);
    }
}

use zadd as zincrby;

fn zscore(ctx: &mut Ctx<'_>, a: &[&[u8]]) {
    let db = ctx.db();
    if let Ok(z) = coll::read(&mut ctx.ks, ctx.out, db, a[1], Value::as_zset_mut) {
        match z.and_then(|z| z.score(a[2])) {
            Some(s) => ctx.out.double(s),
            None => ctx.out.null(),
        }
    }
}

fn zmscore(ctx: &mut Ctx<'_>, a: &[&[u8]]) {
    let db = ctx.db();
    let Ok(z) = coll::read(&mut ctx.ks, ctx.out, db, a[1], Value::as_zset_mut) else {
        return;
    };
    ctx.out.array(a.len() - 2);
    for m in &a[2..] {
        match z.as_ref().and_then(|z| z.score(m)) {
            Some(s) => ctx.out.double(s),
            None => ctx.out.null(),
        }
    }
}

fn zcard(ctx: &mut Ctx<'_>, a: &[&[u8]]) {
    let db = ctx.db();
    if let Ok(z) = coll::read(&mut ctx.ks, ctx.out, db, a[1], Value::as_zset_mut) {
        let n = z.map_or(0, |z| z.len());
        ctx.out.int(n as i64);
    }
}

fn zcount(ctx: &mut Ctx<'_>, a: &[&[u8]]) {
    let lex = is(a[0], "zlexcount");
    let span = if lex {
        match LexRange::parse(a[2], a[3]) {
            Some(r) => Err(r),
            None => {
                ctx.out.err("ERR min or max not valid string range item");
                return;
            }
        }
    } else {
        match ScoreRange::parse(a[2], a[3]) {
            Some(r) => Ok(r),
            None => {
                ctx.out.err("ERR min or max is not a float");
                return;
            }
        }
    };
    let db = ctx.db();
    if let Ok(z) = coll::read(&mut ctx.ks, ctx.out, db, a[1], Value::as_zset_mut) {
        let n = z
            .and_then(|z| match &span {
                Ok(r) => z.score_span(r),
                Err(r) => z.lex_span(r),
            })
            .map_or(0, |(s, e)| e - s + 1);
        ctx.out.int(n as i64);
    }
}

use zcount as zlexcount;

fn zrank(ctx: &mut Ctx<'_>, a: &[&[u8]]) {
    let rev = is(a[0], "zrevrank");
    let db = ctx.db();
    if let Ok(z) = coll::read(&mut ctx.ks, ctx.out, db, a[1], Value::as_zset_mut) {
        match z.and_then(|z| z.rank(a[2], rev)) {
            Some(r) => ctx.out.int(r as i64),
            None => ctx.out.null(),
        }
    }
}

use zrank as zrevrank;

fn zrem(ctx: &mut Ctx<'_>, a: &[&[u8]]) {
    let db = ctx.db();
    let Ok(z) = coll::write(&mut ctx.ks, ctx.out, db, a[1], zset_of) else {
        return;
    };
    if z.is_none() {
        ctx.out.int(0);
        return;
    }
    let r = ctx
        .ks
        .coll(CollOp::items(CollKind::ZRem, db, a[1], &a[2..]));
    if r.changed {
        ctx.ks.notify(notify::ZSET, "zrem", db, a[1]);
        if r.emptied {
            ctx.ks.notify(notify::GENERIC, "del", db, a[1]);
        }
    }
    ctx.out.int(r.removed as i64);
}

fn zpopmin(ctx: &mut Ctx<'_>, a: &[&[u8]]) {
    let max = is(a[0], "zpopmax");
    if a.len() > 3 {
        ctx.out.err(SYNTAX);
        return;
    }
    let count = match a.get(2) {
        None => None,
        Some(c) => match positive(ctx.out, c, "ERR value is out of range, must be positive") {
            Some(n) => Some(n),
            None => return,
        },
    };
    let db = ctx.db();
    let Ok(z) = coll::write(&mut ctx.ks, ctx.out, db, a[1], zset_of) else {
        return;
    };
    if z.is_none() {
        ctx.out.array(0);
        return;
    }
    let items = pop(&mut ctx.ks, db, a[1], max, count.unwrap_or(1));
    // RESP3 with a count: one [member, score] array each.
    let nested = ctx.out.resp3 && count.is_some();
    ctx.out
        .array(if nested { items.len() } else { items.len() * 2 });
    for (m, s) in &items {
        if nested {
            ctx.out.array(2);
        }
        ctx.out.bulk(m);
        ctx.out.double(*s);
    }
}

use zpopmin as zpopmax;

/// `MIN` (false) or `MAX` (true), or a syntax error answered.
pub fn min_max(out: &mut Out, a: &[u8]) -> Option<bool> {
    if is(a, "MIN") {
        Some(false)
    } else if is(a, "MAX") {
        Some(true)
    } else {
        out.err(SYNTAX);
        None
    }
}

/// ZMPOP / BZMPOP arguments from `numkeys` at `a[i]`: keys, max, count.
pub fn mpop_args<'a>(
    out: &mut Out,
    a: &[&'a [u8]],
    i: usize,
) -> Option<(Vec<&'a [u8]>, bool, usize)> {
    let n = at_least_one(out, a[i], "ERR numkeys should be greater than 0")?;
    let w = match i.checked_add(n).and_then(|x| x.checked_add(1)) {
        Some(w) if w < a.len() => w,
        _ => {
            out.err(SYNTAX);
            return None;
        }
    };
    let max = min_max(out, a[w])?;
    let mut count = None;
    let mut j = w + 1;
    while j < a.len() {
        if count.is_none() && is(a[j], "COUNT") && j + 1 < a.len() {
            count = Some(at_least_one(
                out,
                a[j + 1],
                "ERR count should be greater than 0",
            )?);
            j += 2;
        } else {
            out.err(SYNTAX);
            return None;
        }
    }
    Some((a[i + 1..w].to_vec(), max, count.unwrap_or(1)))
}

/// The first key of `keys` holding a sorted set (`Ok(None)`: none), or WRONGTYPE.
pub fn first_zset<'a>(ctx: &mut Ctx<'_>, keys: &[&'a [u8]]) -> Result<Option<&'a [u8]>, Answered> {
    let db = ctx.db();
    for k in keys {
        if coll::write(&mut ctx.ks, ctx.out, db, k, zset_of)?.is_some() {
            return Ok(Some(k));
        }
    }
    Ok(None)
}

fn zmpop(ctx: &mut Ctx<'_>, a: &[&[u8]]) {
    let Some((keys, max, count)) = mpop_args(ctx.out, a, 1) else {
        return;
    };
    match first_zset(ctx, &keys) {
        Err(Answered) => {}
        Ok(None) => ctx.out.null_array(),
        Ok(Some(k)) => {
            let db = ctx.db();
            let items = pop(&mut ctx.ks, db, k, max, count);
            reply_key_pairs(ctx.out, k, &items);
        }
    }
}

fn zrandmember(ctx: &mut Ctx<'_>, a: &[&[u8]]) {
    let mut count = None;
    let mut ws = false;
    if a.len() >= 3 {
        if a.len() > 4 || (a.len() == 4 && !is(a[3], "WITHSCORES")) {
            if crate::kv::protocol::parse_int(a[2]).is_none() {
                ctx.out.err(arg::NOT_INT);
            } else {
                ctx.out.err(SYNTAX);
            }
            return;
        }
        ws = a.len() == 4;
        let Some(c) = rand_count(ctx.out, a[2], ws) else {
            return;
        };
        count = Some(c);
    }
    let db = ctx.db();
    let mut rand = super::sets::rng(ctx.ks.space.rand());
    let Ok(z) = coll::read(&mut ctx.ks, ctx.out, db, a[1], Value::as_zset_mut) else {
        return;
    };
    let Some((n, distinct)) = count else {
        match z.and_then(|z| z.dict.fair_random(&mut rand)) {
            Some((m, _)) => ctx.out.bulk(m),
            None => ctx.out.null(),
        }
        return;
    };
    let Some(z) = z else {
        ctx.out.array(0);
        return;
    };
    let picked = sample(&z.dict, n, distinct, &mut rand);
    begin(ctx.out, picked.len(), ws);
    for (m, s) in picked {
        item(ctx.out, m, *s, ws);
    }
}

fn zscan(ctx: &mut Ctx<'_>, a: &[&[u8]]) {
    let Some(sc) = scan_args(ctx.out, a) else {
        return;
    };
    let db = ctx.db();
    let small = ctx.ks.space.enc.zset_entries.max(0) as usize;
    let Ok(z) = coll::read(&mut ctx.ks, ctx.out, db, a[1], Value::as_zset_mut) else {
        return;
    };
    let (next, found) = match z {
        None => (0, Vec::new()),
        Some(z) => scan_dict(&z.dict, &sc, if z.big { 0 } else { small }),
    };
    ctx.out.array(2);
    ctx.out.bulk(next.to_string().as_bytes());
    ctx.out.array(found.len() * 2);
    for (m, s) in found {
        ctx.out.bulk(m);
        ctx.out.bulk(fmt_double(*s).as_bytes());
    }
}
