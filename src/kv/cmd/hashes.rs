//! Hash commands: HSET, HGET, HMGET, HGETALL, HDEL, HINCRBY(FLOAT),
//! HRANDFIELD, HSCAN... Each write is one [`CollKind::HSet`] or
//! [`CollKind::HDel`] op (HINCRBYFLOAT logs the value it computed).

use super::arg::{self, NOT_FLOAT, NOT_INT, SYNTAX, is};
use super::coll::{self, Answered, rand_count, sample, sample_listed, scan_args, scan_dict};
use super::{CommandSpec, Ctx, DENYOOM, FAST, READONLY, WRITE, spec};
use crate::kv::aof::{CollKind, CollOp};
use crate::kv::notify;
use crate::kv::protocol::parse_int;
use crate::kv::types::Hash;
use crate::kv::value::Value;

const G: &str = "hash";

/// The hash family.
pub static COMMANDS: &[CommandSpec] = &[
    spec(
        "hset",
        -4,
        WRITE | DENYOOM | FAST,
        (1, 1, 1),
        G,
        "2.0.0",
        "Set the string value of a hash field.",
        "key field value [field value ...]",
        hset,
    ),
    spec(
        "hmset",
        -4,
        WRITE | DENYOOM | FAST,
        (1, 1, 1),
        G,
        "2.0.0",
        "Set multiple hash fields to multiple values.",
        "key field value [field value ...]",
        hmset,
    ),
    spec(
        "hsetnx",
        4,
        WRITE | DENYOOM | FAST,
        (1, 1, 1),
        G,
        "2.0.0",
        "Set the value of a hash field, only if the field does not exist.",
        "key field value",
        hsetnx,
    ),
    spec(
        "hget",
        3,
        READONLY | FAST,
        (1, 1, 1),
        G,
        "2.0.0",
        "Get the value of a hash field.",
        "key field",
        hget,
    ),
    spec(
        "hmget",
        -3,
        READONLY | FAST,
        (1, 1, 1),
        G,
        "2.0.0",
        "Get the values of all the given hash fields.",
        "key field [field ...]",
        hmget,
    ),
    spec(
        "hgetall",
        2,
        READONLY,
        (1, 1, 1),
        G,
        "2.0.0",
        "Get all the fields and values in a hash.",
        "key",
        hgetall,
    ),
    spec(
        "hdel",
        -3,
        WRITE | FAST,
        (1, 1, 1),
        G,
        "2.0.0",
        "Delete one or more hash fields.",
        "key field [field ...]",
        hdel,
    ),
    spec(
        "hexists",
        3,
        READONLY | FAST,
        (1, 1, 1),
        G,
        "2.0.0",
        "Determine if a hash field exists.",
        "key field",
        hexists,
    ),
    spec(
        "hlen",
        2,
        READONLY | FAST,
        (1, 1, 1),
        G,
        "2.0.0",
        "Get the number of fields in a hash.",
        "key",
        hlen,
    ),
    spec(
        "hkeys",
        2,
        READONLY,
        (1, 1, 1),
        G,
        "2.0.0",
        "Get all the fields in a hash.",
        "key",
        hkeys,
    ),
    spec(
        "hvals",
        2,
        READONLY,
        (1, 1, 1),
        G,
        "2.0.0",
        "Get all the values in a hash.",
        "key",
        hvals,
    ),
    spec(
        "hincrby",
        4,
        WRITE | DENYOOM | FAST,
        (1, 1, 1),
        G,
        "2.0.0",
        "Increment the integer value of a hash field by the given number.",
        "key field increment",
        hincrby,
    ),
    spec(
        "hincrbyfloat",
        4,
        WRITE | DENYOOM | FAST,
        (1, 1, 1),
        G,
        "2.6.0",
        "Increment the float value of a hash field by the given amount.",
        "key field increment",
        hincrbyfloat,
    ),
    spec(
        "hstrlen",
        3,
        READONLY | FAST,
        (1, 1, 1),
        G,
        "3.2.0",
        "Get the length of the value of a hash field.",
        "key field",
        hstrlen,
    ),
    spec(
        "hrandfield",
        -2,
        READONLY,
        (1, 1, 1),
        G,
        "6.2.0",
        "Get one or multiple random fields from a hash.",
        "key [count [WITHVALUES]]",
        hrandfield,
    ),
    spec(
        "hscan",
        -3,
        READONLY,
        (1, 1, 1),
        G,
        "2.8.0",
        "Incrementally iterate hash fields and associated values.",
        "key cursor [MATCH pattern] [COUNT count]",
        hscan,
    ),
];

fn hash_of(v: &Value) -> Result<&Hash, crate::kv::value::WrongType> {
    v.as_hash()
}

/// Set field/value pairs (`pairs` is the flat argv tail) and note `event`;
/// returns new fields.
fn set_pairs(ctx: &mut Ctx<'_>, key: &[u8], pairs: &[&[u8]], event: &'static str) -> usize {
    let db = ctx.db();
    let added = ctx
        .ks
        .coll(CollOp::items(CollKind::HSet, db, key, pairs))
        .added;
    ctx.ks.notify(notify::HASH, event, db, key);
    added
}

fn hset(ctx: &mut Ctx<'_>, a: &[&[u8]]) {
    if a.len() % 2 == 1 {
        super::arity_error(ctx.out, &String::from_utf8_lossy(a[0]).to_ascii_lowercase());
        return;
    }
    let db = ctx.db();
    if coll::write(&mut ctx.ks, ctx.out, db, a[1], hash_of).is_err() {
        return;
    }
    let n = set_pairs(ctx, a[1], &a[2..], "hset");
    if is(a[0], "hmset") {
        ctx.out.ok();
    } else {
        ctx.out.int(n as i64);
    }
}

use hset as hmset;

fn hsetnx(ctx: &mut Ctx<'_>, a: &[&[u8]]) {
    let db = ctx.db();
    let Ok(h) = coll::write(&mut ctx.ks, ctx.out, db, a[1], hash_of) else {
        return;
    };
    if h.is_some_and(|h| h.get(a[2]).is_some()) {
        ctx.out.int(0);
        return;
    }
    set_pairs(ctx, a[1], &a[2..4], "hset");
    ctx.out.int(1);
}

fn hget(ctx: &mut Ctx<'_>, a: &[&[u8]]) {
    let db = ctx.db();
    match coll::read(&mut ctx.ks, ctx.out, db, a[1], Value::as_hash_mut) {
        Ok(Some(h)) => ctx.out.bulk_opt(h.get(a[2])),
        Ok(None) => ctx.out.null(),
        Err(Answered) => {}
    }
}

fn hmget(ctx: &mut Ctx<'_>, a: &[&[u8]]) {
    let db = ctx.db();
    let Ok(h) = coll::read(&mut ctx.ks, ctx.out, db, a[1], Value::as_hash_mut) else {
        return;
    };
    ctx.out.array(a.len() - 2);
    for f in &a[2..] {
        ctx.out.bulk_opt(h.as_ref().and_then(|h| h.get(f)));
    }
}

fn hgetall(ctx: &mut Ctx<'_>, a: &[&[u8]]) {
    let db = ctx.db();
    let (keys, vals) = match &*String::from_utf8_lossy(a[0]).to_ascii_lowercase() {
        "hkeys" => (true, false),
        "hvals" => (false, true),
        _ => (true, true),
    };
    let Ok(h) = coll::read(&mut ctx.ks, ctx.out, db, a[1], Value::as_hash_mut) else {
        return;
    };
    let Some(h) = h else {
        if keys && vals {
            ctx.out.map(0);
        } else {
            ctx.out.array(0);
        }
        return;
    };
    if keys && vals {
        ctx.out.map(h.len());
    } else {
        ctx.out.array(h.len());
    }
    for (k, v) in h.iter() {
        if keys {
            ctx.out.bulk(k);
        }
        if vals {
            ctx.out.bulk(v);
        }
    }
}

use hgetall as hkeys;
use hgetall as hvals;

fn hdel(ctx: &mut Ctx<'_>, a: &[&[u8]]) {
    let db = ctx.db();
    if coll::write(&mut ctx.ks, ctx.out, db, a[1], hash_of).is_err() {
        return;
    }
    let r = ctx
        .ks
        .coll(CollOp::items(CollKind::HDel, db, a[1], &a[2..]));
    if r.changed {
        ctx.ks.notify(notify::HASH, "hdel", db, a[1]);
        if r.emptied {
            ctx.ks.notify(notify::GENERIC, "del", db, a[1]);
        }
    }
    ctx.out.int(r.removed as i64);
}

fn hexists(ctx: &mut Ctx<'_>, a: &[&[u8]]) {
    let db = ctx.db();
    if let Ok(h) = coll::read(&mut ctx.ks, ctx.out, db, a[1], Value::as_hash_mut) {
        let has = h.is_some_and(|h| h.get(a[2]).is_some());
        ctx.out.int(has as i64);
    }
}

fn hlen(ctx: &mut Ctx<'_>, a: &[&[u8]]) {
    let db = ctx.db();
    if let Ok(h) = coll::read(&mut ctx.ks, ctx.out, db, a[1], Value::as_hash_mut) {
        let n = h.map_or(0, |h| h.len());
        ctx.out.int(n as i64);
    }
}

fn hstrlen(ctx: &mut Ctx<'_>, a: &[&[u8]]) {
    let db = ctx.db();
    if let Ok(h) = coll::read(&mut ctx.ks, ctx.out, db, a[1], Value::as_hash_mut) {
        let n = h.and_then(|h| h.get(a[2])).map_or(0, |v| v.len());
        ctx.out.int(n as i64);
    }
}

/// The current value of a field for HINCRBY(FLOAT), or the error answered.
fn field_for_write(
    ctx: &mut Ctx<'_>,
    key: &[u8],
    field: &[u8],
) -> Result<Option<Vec<u8>>, Answered> {
    let db = ctx.db();
    let h = coll::write(&mut ctx.ks, ctx.out, db, key, hash_of)?;
    Ok(h.and_then(|h| h.get(field)).map(|v| v.to_vec()))
}

fn hincrby(ctx: &mut Ctx<'_>, a: &[&[u8]]) {
    let Some(by) = arg::int(ctx.out, a[3]) else {
        return;
    };
    let Ok(cur) = field_for_write(ctx, a[1], a[2]) else {
        return;
    };
    let cur = match cur {
        None => 0,
        Some(v) => match parse_int(&v) {
            Some(n) => n,
            None => {
                ctx.out.err("ERR hash value is not an integer");
                return;
            }
        },
    };
    let Some(n) = cur.checked_add(by) else {
        ctx.out.err("ERR increment or decrement would overflow");
        return;
    };
    let text = n.to_string();
    set_pairs(ctx, a[1], &[a[2], text.as_bytes()], "hincrby");
    ctx.out.int(n);
}

fn hincrbyfloat(ctx: &mut Ctx<'_>, a: &[&[u8]]) {
    let Some(by) = arg::parse_float(a[3]) else {
        ctx.out.err(NOT_FLOAT);
        return;
    };
    if !by.is_finite() {
        ctx.out.err("ERR value is NaN or Infinity");
        return;
    }
    let Ok(cur) = field_for_write(ctx, a[1], a[2]) else {
        return;
    };
    let cur = match cur {
        None => 0.0,
        Some(v) => match arg::parse_float(&v) {
            Some(n) => n,
            None => {
                ctx.out.err("ERR hash value is not a float");
                return;
            }
        },
    };
    let n = cur + by;
    if !n.is_finite() {
        ctx.out.err("ERR increment would produce NaN or Infinity");
        return;
    }
    // Logged as the HSET of the result, as Redis propagates it.
    let text = format!("{n}");
    set_pairs(ctx, a[1], &[a[2], text.as_bytes()], "hincrbyfloat");
    ctx.out.bulk(text.as_bytes());
}

fn hrandfield(ctx: &mut Ctx<'_>, a: &[&[u8]]) {
    let db = ctx.db();
    let mut count = None;
    let mut withvalues = false;
    if a.len() >= 3 {
        if a.len() > 4 || (a.len() == 4 && !is(a[3], "WITHVALUES")) {
            // Redis checks the count first.
            if parse_int(a[2]).is_none() {
                ctx.out.err(NOT_INT);
            } else {
                ctx.out.err(SYNTAX);
            }
            return;
        }
        withvalues = a.len() == 4;
        let Some(c) = rand_count(ctx.out, a[2], withvalues) else {
            return;
        };
        count = Some(c);
    }
    let mut rand = super::sets::rng(ctx.ks.space.rand());
    let Ok(h) = coll::read(&mut ctx.ks, ctx.out, db, a[1], Value::as_hash_mut) else {
        return;
    };
    let Some((n, distinct)) = count else {
        match h.and_then(|h| h.random(&mut rand)) {
            Some((k, _)) => ctx.out.bulk(k),
            None => ctx.out.null(),
        }
        return;
    };
    let Some(h) = h else {
        ctx.out.array(0);
        return;
    };
    let picked: Vec<(&[u8], &[u8])> = match h.table() {
        Some(d) => sample(d, n, distinct, &mut rand)
            .into_iter()
            .map(|(k, v)| (k, &v[..]))
            .collect(),
        // A listpack's distinct picks keep its order (Redis's
        // lpRandomPairsUnique), unless most of it is asked for.
        None => sample_listed(&h.iter().collect::<Vec<_>>(), n, distinct, true, &mut rand),
    };
    let resp3 = ctx.out.resp3;
    ctx.out.array(if withvalues && !resp3 {
        picked.len() * 2
    } else {
        picked.len()
    });
    for (k, v) in picked {
        if withvalues {
            if resp3 {
                ctx.out.array(2);
            }
            ctx.out.bulk(k);
            ctx.out.bulk(v);
        } else {
            ctx.out.bulk(k);
        }
    }
}

fn hscan(ctx: &mut Ctx<'_>, a: &[&[u8]]) {
    let Some(sc) = scan_args(ctx.out, a) else {
        return;
    };
    let db = ctx.db();
    let Ok(h) = coll::read(&mut ctx.ks, ctx.out, db, a[1], Value::as_hash_mut) else {
        return;
    };
    // A listpack comes back whole, in order, with cursor 0 (as Redis).
    let mut found: Vec<(&[u8], &[u8])> = Vec::new();
    let next = match h.as_ref().map(|h| (h.table(), h)) {
        None => 0,
        Some((Some(d), _)) => {
            let (next, page) = scan_dict(d, &sc, 0);
            found.extend(page.into_iter().map(|(k, v)| (k, &v[..])));
            next
        }
        Some((None, h)) => {
            found.extend(h.iter().filter(|(k, _)| sc.keeps(k)));
            0
        }
    };
    ctx.out.array(2);
    ctx.out.bulk(next.to_string().as_bytes());
    ctx.out.array(found.len() * 2);
    for (k, v) in found {
        ctx.out.bulk(k);
        ctx.out.bulk(v);
    }
}
