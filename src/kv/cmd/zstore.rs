//! Sorted-set algebra: ZUNION, ZINTER, ZDIFF (and their STORE forms) with
//! WEIGHTS and AGGREGATE, and ZINTERCARD. Plain sets are accepted as
//! inputs with every score 1, as in Redis. A STORE is logged as the whole
//! result (or a delete when it is empty).

use std::collections::HashMap;

use super::arg::{self, SYNTAX, is};
use super::lists::positive;
use super::zsets::{begin, item};
use super::{CommandSpec, Ctx, DENYOOM, READONLY, WRITE, spec};
use crate::kv::db::Keyspace;
use crate::kv::notify;
use crate::kv::types::{Set, ZSet};
use crate::kv::value::{Value, WRONGTYPE};

const G: &str = "sorted-set";

/// The sorted-set algebra family.
pub static COMMANDS: &[CommandSpec] = &[
    spec(
        "zunionstore",
        -4,
        WRITE | DENYOOM,
        (1, 1, 1),
        G,
        "2.0.0",
        "Add multiple sorted sets and store the resulting sorted set in a new key.",
        "destination numkeys key [key ...] [WEIGHTS weight [weight ...]] [AGGREGATE SUM|MIN|MAX]",
        zunionstore,
    )
    .numkeys_at(2),
    spec(
        "zinterstore",
        -4,
        WRITE | DENYOOM,
        (1, 1, 1),
        G,
        "2.0.0",
        "Intersect multiple sorted sets and store the resulting sorted set in a new key.",
        "destination numkeys key [key ...] [WEIGHTS weight [weight ...]] [AGGREGATE SUM|MIN|MAX]",
        zinterstore,
    )
    .numkeys_at(2),
    spec(
        "zdiffstore",
        -4,
        WRITE | DENYOOM,
        (1, 1, 1),
        G,
        "6.2.0",
        "Subtract multiple sorted sets and store the resulting sorted set in a new key.",
        "destination numkeys key [key ...]",
        zdiffstore,
    )
    .numkeys_at(2),
    spec(
        "zunion",
        -3,
        READONLY,
        (0, 0, 0),
        G,
        "6.2.0",
        "Add multiple sorted sets.",
        "numkeys key [key ...] [WEIGHTS weight [weight ...]] [AGGREGATE SUM|MIN|MAX] [WITHSCORES]",
        zunion,
    )
    .numkeys_at(1),
    spec(
        "zinter",
        -3,
        READONLY,
        (0, 0, 0),
        G,
        "6.2.0",
        "Intersect multiple sorted sets.",
        "numkeys key [key ...] [WEIGHTS weight [weight ...]] [AGGREGATE SUM|MIN|MAX] [WITHSCORES]",
        zinter,
    )
    .numkeys_at(1),
    spec(
        "zdiff",
        -3,
        READONLY,
        (0, 0, 0),
        G,
        "6.2.0",
        "Subtract multiple sorted sets.",
        "numkeys key [key ...] [WITHSCORES]",
        zdiff,
    )
    .numkeys_at(1),
    spec(
        "zintercard",
        -3,
        READONLY,
        (0, 0, 0),
        G,
        "7.0.0",
        "Intersect multiple sorted sets and return the cardinality of the result.",
        "numkeys key [key ...] [LIMIT limit]",
        zintercard,
    )
    .numkeys_at(1),
];

#[derive(Clone, Copy, PartialEq, Eq)]
enum Op {
    Union,
    Inter,
    Diff,
}

#[derive(Clone, Copy)]
enum Agg {
    Sum,
    Min,
    Max,
}

fn aggregate(acc: &mut f64, v: f64, agg: Agg) {
    match agg {
        Agg::Sum => {
            *acc += v;
            // inf + -inf: Redis's convention is 0.
            if acc.is_nan() {
                *acc = 0.0;
            }
        }
        Agg::Min => *acc = acc.min(v),
        Agg::Max => *acc = acc.max(v),
    }
}

enum Src<'a> {
    Missing,
    Z(&'a ZSet),
    S(&'a Set),
}

impl<'a> Src<'a> {
    fn len(&self) -> usize {
        match self {
            Src::Missing => 0,
            Src::Z(z) => z.len(),
            Src::S(s) => s.len(),
        }
    }

    fn score(&self, m: &[u8]) -> Option<f64> {
        match self {
            Src::Missing => None,
            Src::Z(z) => z.score(m),
            Src::S(s) => s.contains(m).then_some(1.0),
        }
    }

    fn each(&self, mut f: impl FnMut(&'a [u8], f64)) {
        match *self {
            Src::Missing => {}
            Src::Z(z) => z.sl.iter().for_each(|(m, s)| f(m, s)),
            Src::S(s) => s.iter().for_each(|m| f(m, 1.0)),
        }
    }
}

struct Spec {
    op: Op,
    keys_at: usize,
    n: usize,
    weights: Vec<f64>,
    agg: Agg,
    ws: bool,
    limit: usize,
}

/// Parse from `numkeys` at `a[i]`; keys are type-checked before the
/// options, as Redis does.
fn parse(
    ctx: &mut Ctx<'_>,
    a: &[&[u8]],
    i: usize,
    op: Op,
    store: bool,
    card: bool,
) -> Option<Spec> {
    let n = arg::int(ctx.out, a[i])?;
    if n < 1 {
        ctx.out.err(&format!(
            "ERR at least 1 input key is needed for '{}' command",
            String::from_utf8_lossy(a[0]).to_ascii_lowercase()
        ));
        return None;
    }
    if n as usize > a.len() - i - 1 {
        ctx.out.err(SYNTAX);
        return None;
    }
    let n = n as usize;
    let db = ctx.db();
    for k in &a[i + 1..i + 1 + n] {
        match ctx.ks.read(db, k) {
            Some(e) if !matches!(e.value, Value::ZSet(_) | Value::Set(_)) => {
                ctx.out.err(WRONGTYPE);
                return None;
            }
            _ => {}
        }
    }
    let mut s = Spec {
        op,
        keys_at: i + 1,
        n,
        weights: vec![1.0; n],
        agg: Agg::Sum,
        ws: false,
        limit: 0,
    };
    let mut j = i + 1 + n;
    while j < a.len() {
        let left = a.len() - j;
        if op != Op::Diff && !card && left > n && is(a[j], "WEIGHTS") {
            for w in 0..n {
                match arg::parse_float(a[j + 1 + w]) {
                    Some(v) => s.weights[w] = v,
                    None => {
                        ctx.out.err("ERR weight value is not a float");
                        return None;
                    }
                }
            }
            j += n + 1;
        } else if op != Op::Diff && !card && left >= 2 && is(a[j], "AGGREGATE") {
            s.agg = match () {
                _ if is(a[j + 1], "SUM") => Agg::Sum,
                _ if is(a[j + 1], "MIN") => Agg::Min,
                _ if is(a[j + 1], "MAX") => Agg::Max,
                _ => {
                    ctx.out.err(SYNTAX);
                    return None;
                }
            };
            j += 2;
        } else if !store && !card && is(a[j], "WITHSCORES") {
            s.ws = true;
            j += 1;
        } else if card && left >= 2 && is(a[j], "LIMIT") {
            s.limit = positive(ctx.out, a[j + 1], "ERR LIMIT can't be negative")?;
            j += 2;
        } else {
            ctx.out.err(SYNTAX);
            return None;
        }
    }
    Some(s)
}

/// The result as member -> score, in no particular order.
fn compute<'s>(
    space: &'s Keyspace,
    db: usize,
    now: u64,
    a: &[&[u8]],
    s: &Spec,
) -> Vec<(&'s [u8], f64)> {
    let dict = &space.dbs[db].dict;
    let mut srcs: Vec<(Src<'s>, f64)> = a[s.keys_at..s.keys_at + s.n]
        .iter()
        .zip(&s.weights)
        .map(|(k, &w)| {
            let src = match dict.get(k).filter(|e| e.live(now)).map(|e| &e.value) {
                Some(Value::ZSet(z)) => Src::Z(z),
                Some(Value::Set(st)) => Src::S(st),
                _ => Src::Missing,
            };
            (src, w)
        })
        .collect();
    let weighted = |v: f64, w: f64| {
        let x = v * w;
        if x.is_nan() { 0.0 } else { x }
    };
    let mut out: Vec<(&[u8], f64)> = Vec::new();
    match s.op {
        Op::Union => {
            let mut at: HashMap<&[u8], usize> = HashMap::new();
            for (src, w) in &srcs {
                src.each(|m, sc| {
                    let v = weighted(sc, *w);
                    match at.get(m) {
                        Some(&i) => aggregate(&mut out[i].1, v, s.agg),
                        None => {
                            at.insert(m, out.len());
                            out.push((m, v));
                        }
                    }
                });
            }
        }
        Op::Inter => {
            srcs.sort_by_key(|(src, _)| src.len());
            let (first, rest) = srcs.split_at(1);
            let (src0, w0) = &first[0];
            src0.each(|m, sc| {
                let mut acc = weighted(sc, *w0);
                for (src, w) in rest {
                    match src.score(m) {
                        Some(o) => aggregate(&mut acc, weighted(o, *w), s.agg),
                        None => return,
                    }
                }
                if s.limit == 0 || out.len() < s.limit {
                    out.push((m, acc));
                }
            });
        }
        Op::Diff => {
            let (first, rest) = srcs.split_at(1);
            first[0].0.each(|m, sc| {
                if rest.iter().all(|(src, _)| src.score(m).is_none()) {
                    out.push((m, sc));
                }
            });
        }
    }
    out
}

fn op_of(name: &[u8]) -> Op {
    let n = String::from_utf8_lossy(name).to_ascii_lowercase();
    if n.starts_with("zunion") {
        Op::Union
    } else if n.starts_with("zinter") {
        Op::Inter
    } else {
        Op::Diff
    }
}

fn zunionstore(ctx: &mut Ctx<'_>, a: &[&[u8]]) {
    let Some(s) = parse(ctx, a, 2, op_of(a[0]), true, false) else {
        return;
    };
    let db = ctx.db();
    let mut dst = ZSet::default();
    for (m, sc) in compute(ctx.ks.space, db, ctx.ks.now, a, &s) {
        dst.set(m, sc);
    }
    let n = dst.len();
    if n == 0 {
        ctx.ks.remove(db, a[1]);
    } else {
        ctx.ks.put(db, a[1], Value::ZSet(Box::new(dst)), 0);
        let event = match op_of(a[0]) {
            Op::Union => "zunionstore",
            Op::Inter => "zinterstore",
            Op::Diff => "zdiffstore",
        };
        ctx.ks.notify(notify::ZSET, event, db, a[1]);
    }
    ctx.out.int(n as i64);
}

use zunionstore as zinterstore;
use zunionstore as zdiffstore;

fn zunion(ctx: &mut Ctx<'_>, a: &[&[u8]]) {
    let Some(s) = parse(ctx, a, 1, op_of(a[0]), false, false) else {
        return;
    };
    let db = ctx.db();
    // In score order, as a stored result would read back.
    let mut z = ZSet::default();
    for (m, sc) in compute(ctx.ks.space, db, ctx.ks.now, a, &s) {
        z.set(m, sc);
    }
    begin(ctx.out, z.len(), s.ws);
    for (m, sc) in z.sl.iter() {
        item(ctx.out, m, sc, s.ws);
    }
}

use zunion as zinter;
use zunion as zdiff;

fn zintercard(ctx: &mut Ctx<'_>, a: &[&[u8]]) {
    let Some(s) = parse(ctx, a, 1, Op::Inter, false, true) else {
        return;
    };
    let db = ctx.db();
    let n = compute(ctx.ks.space, db, ctx.ks.now, a, &s).len();
    ctx.out.int(n as i64);
}
