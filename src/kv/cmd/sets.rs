//! Set commands: SADD, SREM, membership, SPOP, SRANDMEMBER, SMOVE, SSCAN.
//! The algebra (SINTER, SUNION, SDIFF and their STORE forms) is in
//! [`super::setops`]. SPOP is logged as the SREM of the members it chose.

use super::arg::{self, is};
use super::coll::{self, rand_count, sample, sample_listed, scan_args, scan_dict};
use super::lists::positive;
use super::{CommandSpec, Ctx, DENYOOM, FAST, READONLY, WRITE, spec};
use crate::kv::aof::{CollKind, CollOp};
use crate::kv::keyspace::Applied;
use crate::kv::notify;
use crate::kv::types::Set;
use crate::kv::types::set::order_as_built;
use crate::kv::value::{Value, WrongType};

const G: &str = "set";

/// The set family.
pub static COMMANDS: &[CommandSpec] = &[
    spec(
        "sadd",
        -3,
        WRITE | DENYOOM | FAST,
        (1, 1, 1),
        G,
        "1.0.0",
        "Add one or more members to a set.",
        "key member [member ...]",
        sadd,
    ),
    spec(
        "srem",
        -3,
        WRITE | FAST,
        (1, 1, 1),
        G,
        "1.0.0",
        "Remove one or more members from a set.",
        "key member [member ...]",
        srem,
    ),
    spec(
        "scard",
        2,
        READONLY | FAST,
        (1, 1, 1),
        G,
        "1.0.0",
        "Get the number of members in a set.",
        "key",
        scard,
    ),
    spec(
        "sismember",
        3,
        READONLY | FAST,
        (1, 1, 1),
        G,
        "1.0.0",
        "Determine if a given value is a member of a set.",
        "key member",
        sismember,
    ),
    spec(
        "smismember",
        -3,
        READONLY | FAST,
        (1, 1, 1),
        G,
        "6.2.0",
        "Returns the membership associated with the given elements for a set.",
        "key member [member ...]",
        smismember,
    ),
    spec(
        "smembers",
        2,
        READONLY,
        (1, 1, 1),
        G,
        "1.0.0",
        "Get all the members in a set.",
        "key",
        smembers,
    ),
    spec(
        "spop",
        -2,
        WRITE | FAST,
        (1, 1, 1),
        G,
        "1.0.0",
        "Remove and return one or multiple random members from a set.",
        "key [count]",
        spop,
    ),
    spec(
        "srandmember",
        -2,
        READONLY,
        (1, 1, 1),
        G,
        "1.0.0",
        "Get one or multiple random members from a set.",
        "key [count]",
        srandmember,
    ),
    spec(
        "smove",
        4,
        WRITE | FAST,
        (1, 2, 1),
        G,
        "1.0.0",
        "Move a member from one set to another.",
        "source destination member",
        smove,
    ),
    spec(
        "sscan",
        -3,
        READONLY,
        (1, 1, 1),
        G,
        "2.8.0",
        "Incrementally iterate Set elements.",
        "key cursor [MATCH pattern] [COUNT count]",
        sscan,
    ),
];

/// The set at `v`, or `WrongType` (for [`coll::write`]).
pub fn set_of(v: &Value) -> Result<&Set, WrongType> {
    v.as_set()
}

fn sadd(ctx: &mut Ctx<'_>, a: &[&[u8]]) {
    let db = ctx.db();
    let add = is(a[0], "sadd");
    let Ok(cur) = coll::write(&mut ctx.ks, ctx.out, db, a[1], set_of) else {
        return;
    };
    if cur.is_none() && !add {
        ctx.out.int(0);
        return;
    }
    let (kind, event) = if add {
        (CollKind::SAdd, "sadd")
    } else {
        (CollKind::SRem, "srem")
    };
    let r = note(ctx, CollOp::items(kind, db, a[1], &a[2..]), event);
    ctx.out.int(if add { r.added } else { r.removed } as i64);
}

use sadd as srem;

/// Apply `op` and, if it changed the set, note `event` (then `del` if it
/// emptied it).
fn note(ctx: &mut Ctx<'_>, op: CollOp<'_>, event: &'static str) -> Applied {
    let (db, key) = (op.db as usize, op.key);
    let r = ctx.ks.coll(op);
    if r.changed {
        ctx.ks.notify(notify::SET, event, db, key);
        if r.emptied {
            ctx.ks.notify(notify::GENERIC, "del", db, key);
        }
    }
    r
}

fn scard(ctx: &mut Ctx<'_>, a: &[&[u8]]) {
    let db = ctx.db();
    if let Ok(s) = coll::read(&mut ctx.ks, ctx.out, db, a[1], Value::as_set_mut) {
        let n = s.map_or(0, |s| s.len());
        ctx.out.int(n as i64);
    }
}

fn sismember(ctx: &mut Ctx<'_>, a: &[&[u8]]) {
    let db = ctx.db();
    if let Ok(s) = coll::read(&mut ctx.ks, ctx.out, db, a[1], Value::as_set_mut) {
        let has = s.is_some_and(|s| s.contains(a[2]));
        ctx.out.int(has as i64);
    }
}

fn smismember(ctx: &mut Ctx<'_>, a: &[&[u8]]) {
    let db = ctx.db();
    if let Ok(s) = coll::read(&mut ctx.ks, ctx.out, db, a[1], Value::as_set_mut) {
        ctx.out.array(a.len() - 2);
        for m in &a[2..] {
            let has = s.as_ref().is_some_and(|s| s.contains(m));
            ctx.out.int(has as i64);
        }
    }
}

fn smembers(ctx: &mut Ctx<'_>, a: &[&[u8]]) {
    let db = ctx.db();
    if let Ok(s) = coll::read(&mut ctx.ks, ctx.out, db, a[1], Value::as_set_mut) {
        match s {
            None => ctx.out.set(0),
            Some(s) => {
                ctx.out.set(s.len());
                for m in s.iter() {
                    ctx.out.bulk(m);
                }
            }
        }
    }
}

/// `n` members of `s` picked at random the way Redis picks from its
/// encoding (see [`sample`] and [`sample_listed`]).
fn pick<'s>(s: &'s Set, n: usize, distinct: bool, rand: &mut dyn FnMut() -> u64) -> Vec<&'s [u8]> {
    match s.table() {
        Some(d) => sample(d, n, distinct, rand)
            .into_iter()
            .map(|(m, _)| m)
            .collect(),
        None => sample_listed(&s.iter().collect::<Vec<_>>(), n, distinct, false, rand),
    }
}

/// Random numbers for sampling (SplitMix64), seeded from the key space's
/// generator: each command gets its own stream, unrelated to the next one's.
pub fn rng(seed: u64) -> impl FnMut() -> u64 {
    let mut state = seed;
    move || {
        state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
}

fn spop(ctx: &mut Ctx<'_>, a: &[&[u8]]) {
    if a.len() > 3 {
        ctx.out.err(arg::SYNTAX);
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
    let mut rand = rng(ctx.ks.space.rand());
    let limits = ctx.ks.space.enc;
    let Ok(s) = coll::write(&mut ctx.ks, ctx.out, db, a[1], set_of) else {
        return;
    };
    let Some(s) = s else {
        match count {
            None => ctx.out.null(),
            Some(_) => ctx.out.set(0),
        }
        return;
    };
    let n = count.unwrap_or(1);
    let mut chosen = pick(s, n, true, &mut rand);
    if n >= s.len() {
        // Everything: Redis answers with a set it builds (SUNION's way).
        order_as_built(&mut chosen, &limits);
    } else if !s.is_big() && (s.len() - n) * 5 <= n {
        // Redis keeps the few that stay and answers with the rest of the
        // intset, in its order.
        chosen.sort_unstable_by_key(|m| crate::kv::protocol::parse_int(m));
    }
    let picked: Vec<Box<[u8]>> = chosen.into_iter().map(|m| m.into()).collect();
    let refs: Vec<&[u8]> = picked.iter().map(|m| &m[..]).collect();
    note(ctx, CollOp::items(CollKind::SRem, db, a[1], &refs), "spop");
    match count {
        None => ctx.out.bulk_opt(refs.first().copied()),
        Some(_) => {
            ctx.out.set(refs.len());
            for m in refs {
                ctx.out.bulk(m);
            }
        }
    }
}

fn srandmember(ctx: &mut Ctx<'_>, a: &[&[u8]]) {
    if a.len() > 3 {
        ctx.out.err(arg::SYNTAX);
        return;
    }
    let count = match a.get(2) {
        None => None,
        Some(c) => match rand_count(ctx.out, c, false) {
            Some(n) => Some(n),
            None => return,
        },
    };
    let db = ctx.db();
    let mut rand = rng(ctx.ks.space.rand());
    let Ok(s) = coll::read(&mut ctx.ks, ctx.out, db, a[1], Value::as_set_mut) else {
        return;
    };
    match (s, count) {
        (None, None) => ctx.out.null(),
        (None, Some(_)) => ctx.out.array(0),
        (Some(s), None) => ctx.out.bulk_opt(s.random(&mut rand)),
        (Some(s), Some((n, distinct))) => {
            let picked = pick(s, n, distinct, &mut rand);
            ctx.out.array(picked.len());
            for m in picked {
                ctx.out.bulk(m);
            }
        }
    }
}

fn smove(ctx: &mut Ctx<'_>, a: &[&[u8]]) {
    let db = ctx.db();
    let Ok(src) = coll::write(&mut ctx.ks, ctx.out, db, a[1], set_of) else {
        return;
    };
    let Some(has) = src.map(|s| s.contains(a[3])) else {
        ctx.out.int(0);
        return;
    };
    if coll::write(&mut ctx.ks, ctx.out, db, a[2], set_of).is_err() {
        return;
    }
    if a[1] == a[2] || !has {
        ctx.out.int(has as i64);
        return;
    }
    note(
        ctx,
        CollOp::items(CollKind::SRem, db, a[1], &a[3..4]),
        "srem",
    );
    note(
        ctx,
        CollOp::items(CollKind::SAdd, db, a[2], &a[3..4]),
        "sadd",
    );
    ctx.out.int(1);
}

fn sscan(ctx: &mut Ctx<'_>, a: &[&[u8]]) {
    let Some(sc) = scan_args(ctx.out, a) else {
        return;
    };
    let db = ctx.db();
    let Ok(s) = coll::read(&mut ctx.ks, ctx.out, db, a[1], Value::as_set_mut) else {
        return;
    };
    // An intset comes back whole, ascending, with cursor 0 (as Redis).
    let (next, found): (u64, Vec<&[u8]>) = match s.as_ref().map(|s| (s.table(), s)) {
        None => (0, Vec::new()),
        Some((Some(d), _)) => {
            let (next, found) = scan_dict(d, &sc, 0);
            (next, found.into_iter().map(|(m, _)| m).collect())
        }
        Some((None, s)) => (0, s.iter().filter(|m| sc.keeps(m)).collect()),
    };
    ctx.out.array(2);
    ctx.out.bulk(next.to_string().as_bytes());
    ctx.out.array(found.len());
    for m in found {
        ctx.out.bulk(m);
    }
}
