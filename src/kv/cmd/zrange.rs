//! Sorted-set ranges: ZRANGE (by rank, BYSCORE, BYLEX, REV, LIMIT,
//! WITHSCORES) and its older spellings, ZRANGESTORE, and ZREMRANGEBY*.
//! A range is located with two O(log n) searches in the skip list and
//! walked from there; a ZREMRANGEBY* is logged as the rank span it removed.

use super::arg::{self, SYNTAX, is};
use super::coll;
use super::zsets::{begin, item, zset_of};
use super::{CommandSpec, Ctx, DENYOOM, READONLY, WRITE, spec};
use crate::kv::aof::{CollKind, CollOp};
use crate::kv::notify;
use crate::kv::protocol::parse_int;
use crate::kv::types::ZSet;
use crate::kv::types::index_range;
use crate::kv::types::zset::{LexRange, ScoreRange};
use crate::kv::value::Value;

const G: &str = "sorted-set";

/// The sorted-set range family.
pub static COMMANDS: &[CommandSpec] = &[
    spec(
        "zrange",
        -4,
        READONLY,
        (1, 1, 1),
        G,
        "1.2.0",
        "Return a range of members in a sorted set.",
        "key start stop [BYSCORE|BYLEX] [REV] [LIMIT offset count] [WITHSCORES]",
        zrange,
    ),
    spec(
        "zrangestore",
        -5,
        WRITE | DENYOOM,
        (1, 2, 1),
        G,
        "6.2.0",
        "Store a range of members from sorted set into another key.",
        "dst src min max [BYSCORE|BYLEX] [REV] [LIMIT offset count]",
        zrangestore,
    ),
    spec(
        "zrangebyscore",
        -4,
        READONLY,
        (1, 1, 1),
        G,
        "1.0.5",
        "Return a range of members in a sorted set, by score.",
        "key min max [WITHSCORES] [LIMIT offset count]",
        zrangebyscore,
    ),
    spec(
        "zrevrangebyscore",
        -4,
        READONLY,
        (1, 1, 1),
        G,
        "2.2.0",
        "Return a range of members in a sorted set, by score, with scores ordered from high to low.",
        "key max min [WITHSCORES] [LIMIT offset count]",
        zrevrangebyscore,
    ),
    spec(
        "zrangebylex",
        -4,
        READONLY,
        (1, 1, 1),
        G,
        "2.8.9",
        "Return a range of members in a sorted set, by lexicographical range.",
        "key min max [LIMIT offset count]",
        zrangebylex,
    ),
    spec(
        "zrevrangebylex",
        -4,
        READONLY,
        (1, 1, 1),
        G,
        "2.8.9",
        "Return a range of members in a sorted set, by lexicographical range, ordered from higher to lower strings.",
        "key max min [LIMIT offset count]",
        zrevrangebylex,
    ),
    spec(
        "zrevrange",
        -4,
        READONLY,
        (1, 1, 1),
        G,
        "1.2.0",
        "Return a range of members in a sorted set, by index, with scores ordered from high to low.",
        "key start stop [WITHSCORES]",
        zrevrange,
    ),
    spec(
        "zremrangebyrank",
        4,
        WRITE,
        (1, 1, 1),
        G,
        "2.0.0",
        "Remove all members in a sorted set within the given indexes.",
        "key start stop",
        zremrangebyrank,
    ),
    spec(
        "zremrangebyscore",
        4,
        WRITE,
        (1, 1, 1),
        G,
        "1.2.0",
        "Remove all members in a sorted set within the given scores.",
        "key min max",
        zremrangebyscore,
    ),
    spec(
        "zremrangebylex",
        4,
        WRITE,
        (1, 1, 1),
        G,
        "2.8.9",
        "Remove all members in a sorted set between the given lexicographical range.",
        "key min max",
        zremrangebylex,
    ),
];

#[derive(Clone, Copy, PartialEq, Eq)]
enum By {
    Rank,
    Score,
    Lex,
}

enum Bounds {
    Rank(i64, i64),
    Score(ScoreRange),
    Lex(LexRange),
}

struct Req {
    bounds: Bounds,
    rev: bool,
    ws: bool,
    offset: i64,
    limit: i64,
}

/// Parse a range request whose key is at `a[k]`; `by` / `rev` are fixed by
/// the older commands (ZRANGEBYSCORE...) and free for ZRANGE(STORE).
fn parse(
    ctx: &mut Ctx<'_>,
    a: &[&[u8]],
    k: usize,
    store: bool,
    by: Option<By>,
    rev: Option<bool>,
) -> Option<Req> {
    let (mut by_opt, mut rev_opt) = (by, rev);
    let (mut ws, mut offset, mut limit) = (false, 0i64, -1i64);
    let mut j = k + 3;
    while j < a.len() {
        let left = a.len() - j - 1;
        if !store && is(a[j], "WITHSCORES") {
            ws = true;
        } else if is(a[j], "LIMIT") && left >= 2 {
            offset = arg::int(ctx.out, a[j + 1])?;
            limit = arg::int(ctx.out, a[j + 2])?;
            j += 2;
        } else if rev_opt.is_none() && is(a[j], "REV") {
            rev_opt = Some(true);
        } else if by_opt.is_none() && is(a[j], "BYLEX") {
            by_opt = Some(By::Lex);
        } else if by_opt.is_none() && is(a[j], "BYSCORE") {
            by_opt = Some(By::Score);
        } else {
            ctx.out.err(SYNTAX);
            return None;
        }
        j += 1;
    }
    let by = by_opt.unwrap_or(By::Rank);
    let rev = rev_opt.unwrap_or(false);
    if limit != -1 && by == By::Rank {
        ctx.out.err(
            "ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX",
        );
        return None;
    }
    if ws && by == By::Lex {
        ctx.out
            .err("ERR syntax error, WITHSCORES not supported in combination with BYLEX");
        return None;
    }
    let (lo, hi) = if rev && by != By::Rank {
        (a[k + 2], a[k + 1])
    } else {
        (a[k + 1], a[k + 2])
    };
    let bounds = match by {
        By::Rank => match (parse_int(lo), parse_int(hi)) {
            (Some(s), Some(e)) => Bounds::Rank(s, e),
            _ => {
                ctx.out.err(arg::NOT_INT);
                return None;
            }
        },
        By::Score => match ScoreRange::parse(lo, hi) {
            Some(r) => Bounds::Score(r),
            None => {
                ctx.out.err("ERR min or max is not a float");
                return None;
            }
        },
        By::Lex => match LexRange::parse(lo, hi) {
            Some(r) => Bounds::Lex(r),
            None => {
                ctx.out.err("ERR min or max not valid string range item");
                return None;
            }
        },
    };
    Some(Req {
        bounds,
        rev,
        ws,
        offset,
        limit,
    })
}

/// The members and scores `r` selects from `z`, in reply order.
fn select<'z>(z: &'z ZSet, r: &Req) -> Vec<(&'z [u8], f64)> {
    let len = z.len();
    let (first, last) = match &r.bounds {
        Bounds::Rank(s, e) => match index_range(*s, *e, len) {
            // Ranks count from the top when reversed.
            Some((s, e)) if r.rev => (len - 1 - e, len - 1 - s),
            Some(x) => x,
            None => return Vec::new(),
        },
        Bounds::Score(sr) => match z.score_span(sr) {
            Some(x) => x,
            None => return Vec::new(),
        },
        Bounds::Lex(lr) => match z.lex_span(lr) {
            Some(x) => x,
            None => return Vec::new(),
        },
    };
    let mut n = last - first + 1;
    let mut skip = 0;
    if !matches!(r.bounds, Bounds::Rank(..)) {
        if r.offset < 0 {
            return Vec::new();
        }
        skip = (r.offset as usize).min(n);
        n -= skip;
        if r.limit >= 0 {
            n = n.min(r.limit as usize);
        }
    }
    let mut out = Vec::with_capacity(n.min(1 << 16));
    let start = if r.rev { last - skip } else { first + skip };
    if n > 0 {
        z.walk(start, n, r.rev, |m, s| out.push((m, s)));
    }
    out
}

fn run(ctx: &mut Ctx<'_>, a: &[&[u8]], by: Option<By>, rev: Option<bool>) {
    let Some(req) = parse(ctx, a, 1, false, by, rev) else {
        return;
    };
    let db = ctx.db();
    let Ok(z) = coll::read(&mut ctx.ks, ctx.out, db, a[1], Value::as_zset_mut) else {
        return;
    };
    let Some(z) = z else {
        ctx.out.array(0);
        return;
    };
    let items = select(z, &req);
    begin(ctx.out, items.len(), req.ws);
    for (m, s) in items {
        item(ctx.out, m, s, req.ws);
    }
}

fn zrange(ctx: &mut Ctx<'_>, a: &[&[u8]]) {
    run(ctx, a, None, None);
}

fn zrevrange(ctx: &mut Ctx<'_>, a: &[&[u8]]) {
    run(ctx, a, Some(By::Rank), Some(true));
}

fn zrangebyscore(ctx: &mut Ctx<'_>, a: &[&[u8]]) {
    run(ctx, a, Some(By::Score), Some(false));
}

fn zrevrangebyscore(ctx: &mut Ctx<'_>, a: &[&[u8]]) {
    run(ctx, a, Some(By::Score), Some(true));
}

fn zrangebylex(ctx: &mut Ctx<'_>, a: &[&[u8]]) {
    run(ctx, a, Some(By::Lex), Some(false));
}

fn zrevrangebylex(ctx: &mut Ctx<'_>, a: &[&[u8]]) {
    run(ctx, a, Some(By::Lex), Some(true));
}

fn zrangestore(ctx: &mut Ctx<'_>, a: &[&[u8]]) {
    let Some(req) = parse(ctx, a, 2, true, None, None) else {
        return;
    };
    let db = ctx.db();
    let Ok(z) = coll::read(&mut ctx.ks, ctx.out, db, a[2], Value::as_zset_mut) else {
        return;
    };
    let mut dst = ZSet::default();
    if let Some(z) = z {
        for (m, s) in select(z, &req) {
            dst.set(m, s);
        }
    }
    let n = dst.len();
    if n == 0 {
        ctx.ks.remove(db, a[1]);
    } else {
        ctx.ks.put(db, a[1], Value::ZSet(Box::new(dst)), 0);
        ctx.ks.notify(notify::ZSET, "zrangestore", db, a[1]);
    }
    ctx.out.int(n as i64);
}

fn zremrangebyrank(ctx: &mut Ctx<'_>, a: &[&[u8]]) {
    let name = String::from_utf8_lossy(a[0]).to_ascii_lowercase();
    let bounds = if name.ends_with("rank") {
        match (parse_int(a[2]), parse_int(a[3])) {
            (Some(s), Some(e)) => Bounds::Rank(s, e),
            _ => {
                ctx.out.err(arg::NOT_INT);
                return;
            }
        }
    } else if name.ends_with("score") {
        match ScoreRange::parse(a[2], a[3]) {
            Some(r) => Bounds::Score(r),
            None => {
                ctx.out.err("ERR min or max is not a float");
                return;
            }
        }
    } else {
        match LexRange::parse(a[2], a[3]) {
            Some(r) => Bounds::Lex(r),
            None => {
                ctx.out.err("ERR min or max not valid string range item");
                return;
            }
        }
    };
    let db = ctx.db();
    let Ok(z) = coll::write(&mut ctx.ks, ctx.out, db, a[1], zset_of) else {
        return;
    };
    let span = z.and_then(|z| match &bounds {
        Bounds::Rank(s, e) => index_range(*s, *e, z.len()),
        Bounds::Score(r) => z.score_span(r),
        Bounds::Lex(r) => z.lex_span(r),
    });
    let Some((s, e)) = span else {
        ctx.out.int(0);
        return;
    };
    let op = CollOp::nums(CollKind::ZRemRange, db, a[1], s as i64, e as i64);
    let r = ctx.ks.coll(op);
    if r.changed {
        let event = if name.ends_with("rank") {
            "zremrangebyrank"
        } else if name.ends_with("score") {
            "zremrangebyscore"
        } else {
            "zremrangebylex"
        };
        ctx.ks.notify(notify::ZSET, event, db, a[1]);
        if r.emptied {
            ctx.ks.notify(notify::GENERIC, "del", db, a[1]);
        }
    }
    ctx.out.int(r.removed as i64);
}

use zremrangebyrank as zremrangebyscore;
use zremrangebyrank as zremrangebylex;
