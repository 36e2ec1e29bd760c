//! Set algebra: SINTER, SUNION, SDIFF, their STORE forms and SINTERCARD.
//! Every source key is type-checked first (a missing key is an empty set),
//! as Redis does; a STORE replaces the destination whatever it held and is
//! logged as the new set (or a delete when the result is empty).

use super::arg::{SYNTAX, is};
use super::coll;
use super::lists::{at_least_one, positive};
use super::{CommandSpec, Ctx, DENYOOM, READONLY, WRITE, spec};
use crate::kv::db::Keyspace;
use crate::kv::notify;
use crate::kv::types::Set;
use crate::kv::types::set::order_as_built;
use crate::kv::value::Value;

const G: &str = "set";

/// The set algebra family.
pub static COMMANDS: &[CommandSpec] = &[
    spec(
        "sinter",
        -2,
        READONLY,
        (1, -1, 1),
        G,
        "1.0.0",
        "Intersect multiple sets.",
        "key [key ...]",
        sinter,
    ),
    spec(
        "sunion",
        -2,
        READONLY,
        (1, -1, 1),
        G,
        "1.0.0",
        "Add multiple sets.",
        "key [key ...]",
        sunion,
    ),
    spec(
        "sdiff",
        -2,
        READONLY,
        (1, -1, 1),
        G,
        "1.0.0",
        "Subtract multiple sets.",
        "key [key ...]",
        sdiff,
    ),
    spec(
        "sinterstore",
        -3,
        WRITE | DENYOOM,
        (1, -1, 1),
        G,
        "1.0.0",
        "Intersect multiple sets and store the resulting set in a key.",
        "destination key [key ...]",
        sinterstore,
    ),
    spec(
        "sunionstore",
        -3,
        WRITE | DENYOOM,
        (1, -1, 1),
        G,
        "1.0.0",
        "Add multiple sets and store the resulting set in a key.",
        "destination key [key ...]",
        sunionstore,
    ),
    spec(
        "sdiffstore",
        -3,
        WRITE | DENYOOM,
        (1, -1, 1),
        G,
        "1.0.0",
        "Subtract multiple sets and store the resulting set in a key.",
        "destination key [key ...]",
        sdiffstore,
    ),
    spec(
        "sintercard",
        -3,
        READONLY,
        (0, 0, 0),
        G,
        "7.0.0",
        "Intersect multiple sets and return the cardinality of the result.",
        "numkeys key [key ...] [LIMIT limit]",
        sintercard,
    )
    .numkeys_at(1),
];

#[derive(Clone, Copy, PartialEq, Eq)]
enum Alg {
    Inter,
    Union,
    Diff,
}

fn alg_of(name: &[u8]) -> Alg {
    let n = String::from_utf8_lossy(name).to_ascii_lowercase();
    if n.starts_with("sinter") {
        Alg::Inter
    } else if n.starts_with("sunion") {
        Alg::Union
    } else {
        Alg::Diff
    }
}

/// Type-check `keys` (WRONGTYPE answered: `false`), expiring what is due.
fn check(ctx: &mut Ctx<'_>, keys: &[&[u8]]) -> bool {
    let db = ctx.db();
    keys.iter()
        .all(|k| coll::read(&mut ctx.ks, ctx.out, db, k, Value::as_set_mut).is_ok())
}

/// The members of the result, borrowed from the sets (checked live first).
fn compute<'s>(
    space: &'s Keyspace,
    db: usize,
    now: u64,
    alg: Alg,
    keys: &[&[u8]],
    limit: usize,
) -> Vec<&'s [u8]> {
    let dict = &space.dbs[db].dict;
    let sets: Vec<Option<&Set>> = keys
        .iter()
        .map(|k| {
            dict.get(k)
                .filter(|e| e.live(now))
                .and_then(|e| e.value.as_set().ok())
        })
        .collect();
    let mut out = Vec::new();
    match alg {
        Alg::Inter => {
            let Some(mut all) = sets.into_iter().collect::<Option<Vec<&Set>>>() else {
                return out;
            };
            // The smallest set's order, as Redis iterates it.
            all.sort_by_key(|s| s.len());
            let (first, rest) = all.split_at(1);
            for m in first[0].iter() {
                if rest.iter().all(|s| s.contains(m)) {
                    out.push(m);
                    if out.len() == limit {
                        break;
                    }
                }
            }
        }
        Alg::Union => {
            let mut seen = std::collections::HashSet::new();
            for s in sets.into_iter().flatten() {
                for m in s.iter() {
                    if seen.insert(m) {
                        out.push(m);
                    }
                }
            }
        }
        Alg::Diff => {
            let Some(Some(first)) = sets.first() else {
                return out;
            };
            let rest: Vec<&Set> = sets[1..].iter().flatten().copied().collect();
            for m in first.iter() {
                if !rest.iter().any(|s| s.contains(m)) {
                    out.push(m);
                }
            }
        }
    }
    if !matches!(alg, Alg::Inter) {
        // Redis collects these into a new set, then lists it.
        order_as_built(&mut out, &space.enc);
    }
    out
}

fn sinter(ctx: &mut Ctx<'_>, a: &[&[u8]]) {
    let keys = &a[1..];
    if !check(ctx, keys) {
        return;
    }
    let db = ctx.db();
    let members = compute(ctx.ks.space, db, ctx.ks.now, alg_of(a[0]), keys, usize::MAX);
    ctx.out.set(members.len());
    for m in members {
        ctx.out.bulk(m);
    }
}

use sinter as sunion;
use sinter as sdiff;

fn sinterstore(ctx: &mut Ctx<'_>, a: &[&[u8]]) {
    let keys = &a[2..];
    if !check(ctx, keys) {
        return;
    }
    let db = ctx.db();
    let mut set = Set::default();
    let limits = ctx.ks.space.enc;
    for m in compute(ctx.ks.space, db, ctx.ks.now, alg_of(a[0]), keys, usize::MAX) {
        set.add(m, &limits);
    }
    let n = set.len();
    if n == 0 {
        ctx.ks.remove(db, a[1]);
    } else {
        ctx.ks.put(db, a[1], Value::Set(Box::new(set)), 0);
        let event = if is(a[0], "sinterstore") {
            "sinterstore"
        } else if is(a[0], "sunionstore") {
            "sunionstore"
        } else {
            "sdiffstore"
        };
        ctx.ks.notify(notify::SET, event, db, a[1]);
    }
    ctx.out.int(n as i64);
}

use sinterstore as sunionstore;
use sinterstore as sdiffstore;

fn sintercard(ctx: &mut Ctx<'_>, a: &[&[u8]]) {
    let Some(n) = at_least_one(ctx.out, a[1], "ERR numkeys should be greater than 0") else {
        return;
    };
    if n > a.len() - 2 {
        ctx.out
            .err("ERR Number of keys can't be greater than number of args");
        return;
    }
    let mut limit = 0;
    let mut j = 2 + n;
    while j < a.len() {
        if is(a[j], "LIMIT") && j + 1 < a.len() {
            let Some(l) = positive(ctx.out, a[j + 1], "ERR LIMIT can't be negative") else {
                return;
            };
            limit = l;
            j += 2;
        } else {
            ctx.out.err(SYNTAX);
            return;
        }
    }
    let keys = &a[2..2 + n];
    if !check(ctx, keys) {
        return;
    }
    let limit = if limit == 0 { usize::MAX } else { limit };
    let db = ctx.db();
    let n = compute(ctx.ks.space, db, ctx.ks.now, Alg::Inter, keys, limit).len();
    ctx.out.int(n as i64);
}
