//! List commands: pushes and pops at both ends, ranges, edits, LPOS, LMOVE
//! and LMPOP. Each change is one logged op of [`CollKind`]; an emptied list
//! is deleted. The blocking variants are in [`super::blocking`].

use super::arg::{self, SYNTAX, is};
use super::coll::{self, Answered};
use super::{CommandSpec, Ctx, DENYOOM, FAST, READONLY, WRITE, spec};
use crate::kv::aof::{CollKind, CollOp};
use crate::kv::keyspace::Ks;
use crate::kv::notify;
use crate::kv::protocol::parse_int;
use crate::kv::reply::Out;
use crate::kv::types::{List, index_range};
use crate::kv::value::{Value, WrongType};

const G: &str = "list";

/// The list family.
pub static COMMANDS: &[CommandSpec] = &[
    spec(
        "lpush",
        -3,
        WRITE | DENYOOM | FAST,
        (1, 1, 1),
        G,
        "1.0.0",
        "Prepend one or multiple elements to a list.",
        "key element [element ...]",
        lpush,
    ),
    spec(
        "rpush",
        -3,
        WRITE | DENYOOM | FAST,
        (1, 1, 1),
        G,
        "1.0.0",
        "Append one or multiple elements to a list.",
        "key element [element ...]",
        rpush,
    ),
    spec(
        "lpushx",
        -3,
        WRITE | DENYOOM | FAST,
        (1, 1, 1),
        G,
        "2.2.0",
        "Prepend an element to a list, only if the list exists.",
        "key element [element ...]",
        lpushx,
    ),
    spec(
        "rpushx",
        -3,
        WRITE | DENYOOM | FAST,
        (1, 1, 1),
        G,
        "2.2.0",
        "Append an element to a list, only if the list exists.",
        "key element [element ...]",
        rpushx,
    ),
    spec(
        "lpop",
        -2,
        WRITE | FAST,
        (1, 1, 1),
        G,
        "1.0.0",
        "Remove and get the first elements in a list.",
        "key [count]",
        lpop,
    ),
    spec(
        "rpop",
        -2,
        WRITE | FAST,
        (1, 1, 1),
        G,
        "1.0.0",
        "Remove and get the last elements in a list.",
        "key [count]",
        rpop,
    ),
    spec(
        "llen",
        2,
        READONLY | FAST,
        (1, 1, 1),
        G,
        "1.0.0",
        "Get the length of a list.",
        "key",
        llen,
    ),
    spec(
        "lrange",
        4,
        READONLY,
        (1, 1, 1),
        G,
        "1.0.0",
        "Get a range of elements from a list.",
        "key start stop",
        lrange,
    ),
    spec(
        "lindex",
        3,
        READONLY,
        (1, 1, 1),
        G,
        "1.0.0",
        "Get an element from a list by its index.",
        "key index",
        lindex,
    ),
    spec(
        "lset",
        4,
        WRITE | DENYOOM,
        (1, 1, 1),
        G,
        "1.0.0",
        "Set the value of an element in a list by its index.",
        "key index element",
        lset,
    ),
    spec(
        "linsert",
        5,
        WRITE | DENYOOM,
        (1, 1, 1),
        G,
        "2.2.0",
        "Insert an element before or after another element in a list.",
        "key BEFORE|AFTER pivot element",
        linsert,
    ),
    spec(
        "lrem",
        4,
        WRITE,
        (1, 1, 1),
        G,
        "1.0.0",
        "Remove elements from a list.",
        "key count element",
        lrem,
    ),
    spec(
        "ltrim",
        4,
        WRITE,
        (1, 1, 1),
        G,
        "1.0.0",
        "Trim a list to the specified range.",
        "key start stop",
        ltrim,
    ),
    spec(
        "lpos",
        -3,
        READONLY,
        (1, 1, 1),
        G,
        "6.0.6",
        "Return the index of matching elements on a list.",
        "key element [RANK rank] [COUNT num-matches] [MAXLEN len]",
        lpos,
    ),
    spec(
        "lmove",
        5,
        WRITE | DENYOOM,
        (1, 2, 1),
        G,
        "6.2.0",
        "Pop an element from a list, push it to another list and return it.",
        "source destination LEFT|RIGHT LEFT|RIGHT",
        lmove,
    ),
    spec(
        "rpoplpush",
        3,
        WRITE | DENYOOM,
        (1, 2, 1),
        G,
        "1.2.0",
        "Remove the last element in a list, prepend it to another list and return it.",
        "source destination",
        rpoplpush,
    ),
    spec(
        "lmpop",
        -4,
        WRITE,
        (0, 0, 0),
        G,
        "7.0.0",
        "Pop elements from a list.",
        "numkeys key [key ...] LEFT|RIGHT [COUNT count]",
        lmpop,
    )
    .numkeys_at(1),
];

fn list_of(v: &Value) -> Result<&List, WrongType> {
    v.as_list()
}

/// `LEFT` (true: the head) or `RIGHT`, or a syntax error answered.
pub fn side(out: &mut Out, a: &[u8]) -> Option<bool> {
    if is(a, "LEFT") {
        Some(true)
    } else if is(a, "RIGHT") {
        Some(false)
    } else {
        out.err(SYNTAX);
        None
    }
}

/// A count that must be >= 0, with Redis's message for a bad one.
pub fn positive(out: &mut Out, a: &[u8], msg: &str) -> Option<usize> {
    match parse_int(a) {
        Some(n) if n >= 0 => Some(n as usize),
        _ => {
            out.err(msg);
            None
        }
    }
}

/// A count that must be >= 1 (LMPOP's numkeys and COUNT).
pub fn at_least_one(out: &mut Out, a: &[u8], msg: &str) -> Option<usize> {
    match parse_int(a) {
        Some(n) if n >= 1 => Some(n as usize),
        _ => {
            out.err(msg);
            None
        }
    }
}

/// Pop up to `n` elements from an end of the list at `key` (logged;
/// `lpop`/`rpop` noted, then `del` if that emptied it).
pub fn pop(ks: &mut Ks<'_>, db: usize, key: &[u8], front: bool, n: usize) -> Vec<Box<[u8]>> {
    let (kind, event) = if front {
        (CollKind::LPop, "lpop")
    } else {
        (CollKind::RPop, "rpop")
    };
    let r = ks.coll(CollOp::nums(kind, db, key, n as i64, 0));
    if r.changed {
        ks.notify(notify::LIST, event, db, key);
        if r.emptied {
            ks.notify(notify::GENERIC, "del", db, key);
        }
    }
    r.popped
}

/// Push `items` at an end of the list at `key` (created); the new length
/// (`lpush`/`rpush` noted).
pub fn push(ks: &mut Ks<'_>, db: usize, key: &[u8], front: bool, items: &[&[u8]]) -> usize {
    let (kind, event) = if front {
        (CollKind::LPush, "lpush")
    } else {
        (CollKind::RPush, "rpush")
    };
    let r = ks.coll(CollOp::items(kind, db, key, items));
    if r.changed {
        ks.notify(notify::LIST, event, db, key);
    }
    r.len
}

/// LMOVE's work once both keys were checked: move the element at one end
/// of `src` to an end of `dst`; the moved element (none if `src` is empty).
/// The push comes first, as Redis notes it before the pop: a rotation of a
/// one-element list (`src` = `dst`) then never deletes and re-creates it.
pub fn move_one(
    ks: &mut Ks<'_>,
    db: usize,
    src: &[u8],
    dst: &[u8],
    from_front: bool,
    to_front: bool,
) -> Option<Box<[u8]>> {
    let v = match ks.peek(db, src).map(|e| &e.value) {
        Some(Value::List(l)) if from_front => l.items.front().cloned()?,
        Some(Value::List(l)) => l.items.back().cloned()?,
        _ => return None,
    };
    push(ks, db, dst, to_front, &[&v]);
    pop(ks, db, src, from_front, 1);
    Some(v)
}

/// `[key, [elements]]`, the LMPOP / BLMPOP reply.
pub fn reply_key_items(out: &mut Out, key: &[u8], items: &[Box<[u8]>]) {
    out.array(2);
    out.bulk(key);
    out.array(items.len());
    for v in items {
        out.bulk(v);
    }
}

fn lpush(ctx: &mut Ctx<'_>, a: &[&[u8]]) {
    // LPUSH, RPUSH, LPUSHX, RPUSHX (the name was matched, any case).
    let front = a[0][0].eq_ignore_ascii_case(&b'l');
    let only_existing = a[0].len() == 6;
    let db = ctx.db();
    let Ok(cur) = coll::write(&mut ctx.ks, ctx.out, db, a[1], list_of) else {
        return;
    };
    if cur.is_none() && only_existing {
        ctx.out.int(0);
        return;
    }
    let n = push(&mut ctx.ks, db, a[1], front, &a[2..]);
    ctx.out.int(n as i64);
}

use lpush as rpush;
use lpush as lpushx;
use lpush as rpushx;

fn lpop(ctx: &mut Ctx<'_>, a: &[&[u8]]) {
    let front = is(a[0], "lpop");
    if a.len() > 3 {
        super::arity_error(ctx.out, if front { "lpop" } else { "rpop" });
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
    let Ok(cur) = coll::write(&mut ctx.ks, ctx.out, db, a[1], list_of) else {
        return;
    };
    if cur.is_none() {
        if count.is_some() {
            ctx.out.null_array();
        } else {
            ctx.out.null();
        }
        return;
    }
    let items = pop(&mut ctx.ks, db, a[1], front, count.unwrap_or(1));
    match count {
        None => ctx.out.bulk_opt(items.first().map(|v| &v[..])),
        Some(_) => {
            ctx.out.array(items.len());
            for v in &items {
                ctx.out.bulk(v);
            }
        }
    }
}

use lpop as rpop;

fn llen(ctx: &mut Ctx<'_>, a: &[&[u8]]) {
    let db = ctx.db();
    if let Ok(l) = coll::read(&mut ctx.ks, ctx.out, db, a[1], Value::as_list_mut) {
        let n = l.map_or(0, |l| l.items.len());
        ctx.out.int(n as i64);
    }
}

fn lrange(ctx: &mut Ctx<'_>, a: &[&[u8]]) {
    let (Some(start), Some(stop)) = (parse_int(a[2]), parse_int(a[3])) else {
        ctx.out.err(arg::NOT_INT);
        return;
    };
    let db = ctx.db();
    let Ok(l) = coll::read(&mut ctx.ks, ctx.out, db, a[1], Value::as_list_mut) else {
        return;
    };
    let range = l
        .as_ref()
        .and_then(|l| index_range(start, stop, l.items.len()));
    match (l, range) {
        (Some(l), Some((s, e))) => {
            ctx.out.array(e - s + 1);
            for v in l.items.range(s..=e) {
                ctx.out.bulk(v);
            }
        }
        _ => ctx.out.array(0),
    }
}

/// A list index (negative from the end) resolved against `len`.
fn index(i: i64, len: usize) -> Option<usize> {
    let i = if i < 0 { len as i64 + i } else { i };
    (0..len as i64).contains(&i).then_some(i as usize)
}

fn lindex(ctx: &mut Ctx<'_>, a: &[&[u8]]) {
    let Some(i) = arg::int(ctx.out, a[2]) else {
        return;
    };
    let db = ctx.db();
    if let Ok(l) = coll::read(&mut ctx.ks, ctx.out, db, a[1], Value::as_list_mut) {
        let v = l.and_then(|l| index(i, l.items.len()).map(|i| &l.items[i][..]));
        ctx.out.bulk_opt(v);
    }
}

fn lset(ctx: &mut Ctx<'_>, a: &[&[u8]]) {
    let Some(i) = arg::int(ctx.out, a[2]) else {
        return;
    };
    let db = ctx.db();
    let Ok(l) = coll::write(&mut ctx.ks, ctx.out, db, a[1], list_of) else {
        return;
    };
    let Some(l) = l else {
        ctx.out.err("ERR no such key");
        return;
    };
    let Some(i) = index(i, l.items.len()) else {
        ctx.out.err("ERR index out of range");
        return;
    };
    let op = CollOp {
        a: i as i64,
        ..CollOp::items(CollKind::LSet, db, a[1], &a[3..4])
    };
    ctx.ks.coll(op);
    ctx.ks.notify(notify::LIST, "lset", db, a[1]);
    ctx.out.ok();
}

fn linsert(ctx: &mut Ctx<'_>, a: &[&[u8]]) {
    let after = if is(a[2], "AFTER") {
        true
    } else if is(a[2], "BEFORE") {
        false
    } else {
        ctx.out.err(SYNTAX);
        return;
    };
    let db = ctx.db();
    let Ok(l) = coll::write(&mut ctx.ks, ctx.out, db, a[1], list_of) else {
        return;
    };
    let Some(l) = l else {
        ctx.out.int(0);
        return;
    };
    let Some(at) = l.items.iter().position(|v| &v[..] == a[3]) else {
        ctx.out.int(-1);
        return;
    };
    let op = CollOp {
        a: (at + after as usize) as i64,
        ..CollOp::items(CollKind::LInsert, db, a[1], &a[4..5])
    };
    let n = ctx.ks.coll(op).len;
    ctx.ks.notify(notify::LIST, "linsert", db, a[1]);
    ctx.out.int(n as i64);
}

fn lrem(ctx: &mut Ctx<'_>, a: &[&[u8]]) {
    let Some(count) = arg::int(ctx.out, a[2]) else {
        return;
    };
    let db = ctx.db();
    let Ok(l) = coll::write(&mut ctx.ks, ctx.out, db, a[1], list_of) else {
        return;
    };
    if l.is_none() {
        ctx.out.int(0);
        return;
    }
    let op = CollOp {
        a: count,
        ..CollOp::items(CollKind::LRem, db, a[1], &a[3..4])
    };
    let r = ctx.ks.coll(op);
    if r.changed {
        ctx.ks.notify(notify::LIST, "lrem", db, a[1]);
        if r.emptied {
            ctx.ks.notify(notify::GENERIC, "del", db, a[1]);
        }
    }
    ctx.out.int(r.removed as i64);
}

fn ltrim(ctx: &mut Ctx<'_>, a: &[&[u8]]) {
    let (Some(start), Some(stop)) = (parse_int(a[2]), parse_int(a[3])) else {
        ctx.out.err(arg::NOT_INT);
        return;
    };
    let db = ctx.db();
    let Ok(l) = coll::write(&mut ctx.ks, ctx.out, db, a[1], list_of) else {
        return;
    };
    if let Some(l) = l {
        let len = l.items.len();
        let (front, back) = match index_range(start, stop, len) {
            Some((s, e)) => (s, len - 1 - e),
            None => (len, 0),
        };
        let r = ctx.ks.coll(CollOp::nums(
            CollKind::LTrim,
            db,
            a[1],
            front as i64,
            back as i64,
        ));
        // Noted even when nothing was trimmed, as Redis does.
        ctx.ks.notify(notify::LIST, "ltrim", db, a[1]);
        if r.emptied {
            ctx.ks.notify(notify::GENERIC, "del", db, a[1]);
        }
    }
    ctx.out.ok();
}

fn lpos(ctx: &mut Ctx<'_>, a: &[&[u8]]) {
    let (mut rank, mut count, mut maxlen) = (1i64, None, 0usize);
    let mut j = 3;
    while j < a.len() {
        let more = j + 1 < a.len();
        if is(a[j], "RANK") && more {
            let Some(r) = arg::int(ctx.out, a[j + 1]) else {
                return;
            };
            if r == 0 {
                ctx.out.err("ERR RANK can't be zero: use 1 to start from the first match, 2 from the second ... or use negative to start from the end of the list");
                return;
            }
            if r == i64::MIN {
                ctx.out.err("ERR value is out of range");
                return;
            }
            rank = r;
        } else if is(a[j], "COUNT") && more {
            let Some(c) = positive(ctx.out, a[j + 1], "ERR COUNT can't be negative") else {
                return;
            };
            count = Some(c);
        } else if is(a[j], "MAXLEN") && more {
            let Some(m) = positive(ctx.out, a[j + 1], "ERR MAXLEN can't be negative") else {
                return;
            };
            maxlen = m;
        } else {
            ctx.out.err(SYNTAX);
            return;
        }
        j += 2;
    }
    let db = ctx.db();
    let Ok(l) = coll::read(&mut ctx.ks, ctx.out, db, a[1], Value::as_list_mut) else {
        return;
    };
    let Some(l) = l else {
        if count.is_some() {
            ctx.out.array(0);
        } else {
            ctx.out.null();
        }
        return;
    };
    let len = l.items.len();
    let limit = if maxlen == 0 { len } else { maxlen.min(len) };
    let skip = rank.unsigned_abs() as usize - 1;
    let want = match count {
        Some(0) => usize::MAX,
        Some(c) => c,
        None => 1,
    };
    let hits: Vec<usize> = (0..limit)
        .map(|k| if rank > 0 { k } else { len - 1 - k })
        .filter(|&i| &l.items[i][..] == a[2])
        .skip(skip)
        .take(want)
        .collect();
    match count {
        Some(_) => {
            ctx.out.array(hits.len());
            for i in hits {
                ctx.out.int(i as i64);
            }
        }
        None => match hits.first() {
            Some(&i) => ctx.out.int(i as i64),
            None => ctx.out.null(),
        },
    }
}

/// Check LMOVE's keys: `Ok(false)` when the source is empty.
pub fn check_move(ctx: &mut Ctx<'_>, src: &[u8], dst: &[u8]) -> Result<bool, Answered> {
    let db = ctx.db();
    if coll::write(&mut ctx.ks, ctx.out, db, src, list_of)?.is_none() {
        return Ok(false);
    }
    coll::write(&mut ctx.ks, ctx.out, db, dst, list_of)?;
    Ok(true)
}

fn lmove(ctx: &mut Ctx<'_>, a: &[&[u8]]) {
    let (from, to) = if is(a[0], "rpoplpush") {
        (false, true)
    } else {
        let Some(f) = side(ctx.out, a[3]) else {
            return;
        };
        let Some(t) = side(ctx.out, a[4]) else {
            return;
        };
        (f, t)
    };
    match check_move(ctx, a[1], a[2]) {
        Err(Answered) => {}
        Ok(false) => ctx.out.null(),
        Ok(true) => {
            let db = ctx.db();
            let v = move_one(&mut ctx.ks, db, a[1], a[2], from, to);
            ctx.out.bulk_opt(v.as_deref());
        }
    }
}

use lmove as rpoplpush;

/// LMPOP / BLMPOP arguments from `numkeys` at `a[i]`: keys, side, count.
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
    let front = side(out, a[w])?;
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
    Some((a[i + 1..w].to_vec(), front, count.unwrap_or(1)))
}

/// The first key of `keys` holding a list (`Ok(None)`: none), or WRONGTYPE.
pub fn first_list<'a>(ctx: &mut Ctx<'_>, keys: &[&'a [u8]]) -> Result<Option<&'a [u8]>, Answered> {
    let db = ctx.db();
    for k in keys {
        if coll::write(&mut ctx.ks, ctx.out, db, k, list_of)?.is_some() {
            return Ok(Some(k));
        }
    }
    Ok(None)
}

fn lmpop(ctx: &mut Ctx<'_>, a: &[&[u8]]) {
    let Some((keys, front, count)) = mpop_args(ctx.out, a, 1) else {
        return;
    };
    match first_list(ctx, &keys) {
        Err(Answered) => {}
        Ok(None) => ctx.out.null_array(),
        Ok(Some(k)) => {
            let db = ctx.db();
            let items = pop(&mut ctx.ks, db, k, front, count);
            reply_key_items(ctx.out, k, &items);
        }
    }
}
