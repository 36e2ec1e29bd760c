//! Geo searches: GEOSEARCH, GEOSEARCHSTORE, GEORADIUS, GEORADIUSBYMEMBER
//! and their `_RO` forms, one parser and one search as in Redis (its
//! `georadiusGeneric`), so options, error texts and their order agree.
//!
//! A search scans the score ranges of the nine cells covering the shape
//! ([`crate::kv::types::geoshape`]), keeps the members inside it, sorts by
//! distance when asked (or when COUNT is given without ANY; ties ordered as
//! Redis orders them, [`super::geosort`]), and answers
//! them or stores them as a new sorted set: scores kept, or distances with
//! STOREDIST. A store is logged as the whole result, like ZRANGESTORE (a
//! delete when nothing was found), and notified `geosearchstore` or
//! `georadiusstore`.

use super::arg::{NOT_INT, SYNTAX, is};
use std::cmp::Ordering::Less;

use super::geo::{BAD_UNIT, coord, distance_text, float, lon_lat, member_position};
use super::geosort::sort_first;
use super::{CommandSpec, Ctx, DENYOOM, READONLY, WRITE, coll, spec};
use crate::kv::notify;
use crate::kv::protocol::parse_int;
use crate::kv::reply::Out;
use crate::kv::types::ZSet;
use crate::kv::types::geohash::Cell;
use crate::kv::types::geoshape::{self, Extent, Shape};
use crate::kv::types::skiplist::NIL;
use crate::kv::types::zset::ScoreRange;
use crate::kv::value::Value;

const G: &str = "geo";

/// The geo search commands.
pub static COMMANDS: &[CommandSpec] = &[
    spec(
        "georadius",
        -6,
        WRITE | DENYOOM,
        (1, 1, 1),
        G,
        "3.2.0",
        "Query a sorted set representing a geospatial index to fetch members matching a given maximum distance from a point",
        "key longitude latitude radius <M|KM|FT|MI> [WITHCOORD] [WITHDIST] [WITHHASH] [COUNT count [ANY]] [ASC|DESC] [STORE key] [STOREDIST key]",
        georadius,
    )
    .keys_by(radius_keys),
    spec(
        "georadius_ro",
        -6,
        READONLY,
        (1, 1, 1),
        G,
        "3.2.10",
        "A read-only variant for GEORADIUS",
        "key longitude latitude radius <M|KM|FT|MI> [WITHCOORD] [WITHDIST] [WITHHASH] [COUNT count [ANY]] [ASC|DESC]",
        georadius_ro,
    ),
    spec(
        "georadiusbymember",
        -5,
        WRITE | DENYOOM,
        (1, 1, 1),
        G,
        "3.2.0",
        "Query a sorted set representing a geospatial index to fetch members matching a given maximum distance from a member",
        "key member radius <M|KM|FT|MI> [WITHCOORD] [WITHDIST] [WITHHASH] [COUNT count [ANY]] [ASC|DESC] [STORE key] [STOREDIST key]",
        georadiusbymember,
    )
    .keys_by(member_keys),
    spec(
        "georadiusbymember_ro",
        -5,
        READONLY,
        (1, 1, 1),
        G,
        "3.2.10",
        "A read-only variant for GEORADIUSBYMEMBER",
        "key member radius <M|KM|FT|MI> [WITHCOORD] [WITHDIST] [WITHHASH] [COUNT count [ANY]] [ASC|DESC]",
        georadiusbymember_ro,
    ),
    spec(
        "geosearch",
        -7,
        READONLY,
        (1, 1, 1),
        G,
        "6.2.0",
        "Query a sorted set representing a geospatial index to fetch members inside an area of a box or a circle.",
        "key <FROMMEMBER member|FROMLONLAT longitude latitude> <BYRADIUS radius <M|KM|FT|MI>|BYBOX width height <M|KM|FT|MI>> [ASC|DESC] [COUNT count [ANY]] [WITHCOORD] [WITHDIST] [WITHHASH]",
        geosearch,
    ),
    spec(
        "geosearchstore",
        -8,
        WRITE | DENYOOM,
        (1, 2, 1),
        G,
        "6.2.0",
        "Query a sorted set representing a geospatial index to fetch members inside an area of a box or a circle, and store the result in another key.",
        "destination source <FROMMEMBER member|FROMLONLAT longitude latitude> <BYRADIUS radius <M|KM|FT|MI>|BYBOX width height <M|KM|FT|MI>> [ASC|DESC] [COUNT count [ANY]] [STOREDIST]",
        geosearchstore,
    ),
];

/// The keys of a GEORADIUS form whose options start at `from`, as Redis
/// 7.0's key specs find them: the source, then the argument after the
/// first `STORE`, then after the first `STOREDIST` (a keyword in the last
/// place names nothing).
fn store_keys(argv: &[&[u8]], from: usize) -> Vec<usize> {
    let mut keys = vec![1];
    for word in ["STORE", "STOREDIST"] {
        let end = argv.len().saturating_sub(1);
        if let Some(i) = (from..end).find(|&i| is(argv[i], word)) {
            keys.push(i + 1);
        }
    }
    keys
}

/// GEORADIUS's keys.
fn radius_keys(argv: &[&[u8]]) -> Vec<usize> {
    store_keys(argv, 6)
}

/// GEORADIUSBYMEMBER's keys.
fn member_keys(argv: &[&[u8]]) -> Vec<usize> {
    store_keys(argv, 5)
}

/// Which command is parsing: what it takes and where its options start.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Form {
    /// GEORADIUS[_RO] key lon lat radius unit.
    Coords { ro: bool },
    /// GEORADIUSBYMEMBER[_RO] key member radius unit.
    Member { ro: bool },
    /// GEOSEARCH key / GEOSEARCHSTORE dst key.
    Search { store: bool },
}

impl Form {
    fn src(self) -> usize {
        match self {
            Form::Search { store: true } => 2,
            _ => 1,
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Sort {
    None,
    Asc,
    Desc,
}

/// A parsed search: the shape (absent when the source key is missing and
/// the centre was to come from a member) and what to answer.
struct Query<'a> {
    shape: Option<Shape>,
    sort: Sort,
    /// 0: unlimited.
    count: usize,
    any: bool,
    withdist: bool,
    withhash: bool,
    withcoord: bool,
    store: Option<&'a [u8]>,
    storedist: bool,
}

/// `radius unit`: Redis's `extractDistanceOrReply`.
fn radius(a: &[&[u8]]) -> Result<(f64, f64), String> {
    let r = float(a[0]).ok_or("ERR need numeric radius")?;
    if r < 0.0 {
        return Err("ERR radius cannot be negative".into());
    }
    let unit = geoshape::unit(a[1]).ok_or(BAD_UNIT)?;
    Ok((r, unit))
}

/// `width height unit`: Redis's `extractBoxOrReply`.
fn bybox(a: &[&[u8]]) -> Result<(f64, f64, f64), String> {
    let w = float(a[0]).ok_or("ERR need numeric width")?;
    let h = float(a[1]).ok_or("ERR need numeric height")?;
    if h < 0.0 || w < 0.0 {
        return Err("ERR height or width cannot be negative".into());
    }
    let unit = geoshape::unit(a[2]).ok_or(BAD_UNIT)?;
    Ok((w, h, unit))
}

const NO_MEMBER: &str = "ERR could not decode requested zset member";

/// Parse `a` for `form` against the source set `z` (needed for a member
/// centre), in Redis's order: the first problem found is the error.
fn parse<'a>(a: &[&'a [u8]], form: Form, z: Option<&ZSet>) -> Result<Query<'a>, String> {
    let mut q = Query {
        shape: None,
        sort: Sort::None,
        count: 0,
        any: false,
        withdist: false,
        withhash: false,
        withcoord: false,
        store: None,
        storedist: false,
    };
    let mut centre: Option<(f64, f64)> = None;
    let mut extent: Option<(Extent, f64)> = None;
    let base = match form {
        Form::Coords { .. } => {
            centre = Some(lon_lat(&a[2..4])?);
            let (r, unit) = radius(&a[4..6])?;
            extent = Some((Extent::Radius(r), unit));
            6
        }
        Form::Member { .. } => {
            if let Some(z) = z {
                centre = Some(member_position(z, a[2]).ok_or(NO_MEMBER)?);
                let (r, unit) = radius(&a[3..5])?;
                extent = Some((Extent::Radius(r), unit));
            }
            5
        }
        Form::Search { store } => {
            if store {
                q.store = Some(a[1]);
                3
            } else {
                2
            }
        }
    };
    let search = matches!(form, Form::Search { .. });
    let can_store = matches!(
        form,
        Form::Coords { ro: false } | Form::Member { ro: false }
    );
    let (mut frommember, mut fromloc, mut byradius, mut bybox_set) = (false, false, false, false);
    let mut i = base;
    while i < a.len() {
        let left = a.len() - i - 1; // arguments after this one
        let o = a[i];
        if is(o, "WITHDIST") {
            q.withdist = true;
        } else if is(o, "WITHHASH") {
            q.withhash = true;
        } else if is(o, "WITHCOORD") {
            q.withcoord = true;
        } else if is(o, "ANY") {
            q.any = true;
        } else if is(o, "ASC") {
            q.sort = Sort::Asc;
        } else if is(o, "DESC") {
            q.sort = Sort::Desc;
        } else if is(o, "COUNT") && left >= 1 {
            let n = parse_int(a[i + 1]).ok_or(NOT_INT)?;
            if n <= 0 {
                return Err("ERR COUNT must be > 0".into());
            }
            q.count = usize::try_from(n).unwrap_or(usize::MAX);
            i += 1;
        } else if (is(o, "STORE") || is(o, "STOREDIST")) && left >= 1 && can_store {
            q.store = Some(a[i + 1]);
            q.storedist = is(o, "STOREDIST");
            i += 1;
        } else if is(o, "STOREDIST") && form == (Form::Search { store: true }) {
            q.storedist = true;
        } else if is(o, "FROMMEMBER") && left >= 1 && search && !fromloc {
            if let Some(z) = z {
                centre = Some(member_position(z, a[i + 1]).ok_or(NO_MEMBER)?);
            }
            frommember = true;
            i += 1;
        } else if is(o, "FROMLONLAT") && left >= 2 && search && !frommember {
            centre = Some(lon_lat(&a[i + 1..i + 3])?);
            fromloc = true;
            i += 2;
        } else if is(o, "BYRADIUS") && left >= 2 && search && !bybox_set {
            let (r, unit) = radius(&a[i + 1..i + 3])?;
            extent = Some((Extent::Radius(r), unit));
            byradius = true;
            i += 2;
        } else if is(o, "BYBOX") && left >= 3 && search && !byradius {
            let (width, height, unit) = bybox(&a[i + 1..i + 4])?;
            extent = Some((Extent::Box { width, height }, unit));
            bybox_set = true;
            i += 3;
        } else {
            return Err(SYNTAX.into());
        }
        i += 1;
    }
    if q.store.is_some() && (q.withdist || q.withhash || q.withcoord) {
        let what = if search {
            "GEOSEARCHSTORE"
        } else {
            "STORE option in GEORADIUS"
        };
        return Err(format!(
            "ERR {what} is not compatible with WITHDIST, WITHHASH and WITHCOORD options"
        ));
    }
    let name = String::from_utf8_lossy(a[0]);
    if search && !(frommember || fromloc) {
        return Err(format!(
            "ERR exactly one of FROMMEMBER or FROMLONLAT can be specified for {name}"
        ));
    }
    if search && !(byradius || bybox_set) {
        return Err(format!(
            "ERR exactly one of BYRADIUS and BYBOX can be specified for {name}"
        ));
    }
    if q.any && q.count == 0 {
        return Err("ERR the ANY argument requires COUNT argument".into());
    }
    if let (Some((lon, lat)), Some((extent, unit))) = (centre, extent) {
        q.shape = Some(Shape {
            lon,
            lat,
            extent,
            unit,
        });
    }
    Ok(q)
}

/// A member found inside the shape.
struct Found<'z> {
    member: &'z [u8],
    score: f64,
    lon: f64,
    lat: f64,
    /// Metres from the centre.
    dist: f64,
}

/// The members of `z` inside `shape`, cell by cell in Redis's order; stops
/// once `limit` (0: none) were found.
fn scan<'z>(z: &'z ZSet, shape: &Shape, limit: usize) -> Vec<Found<'z>> {
    let mut found = Vec::new();
    let full = |found: &Vec<Found<'_>>| limit != 0 && found.len() >= limit;
    let mut last: Option<Cell> = None;
    for cell in shape.cells() {
        if cell.is_none() {
            continue;
        }
        // Huge shapes make neighbours coincide: skip a repeat of the
        // cell just scanned.
        if last == Some(cell) {
            continue;
        }
        if full(&found) {
            break;
        }
        let (min, max) = cell.score_range();
        let range = ScoreRange {
            min: min as f64,
            max: max as f64,
            minex: false,
            maxex: true,
        };
        if let Some((first, _)) = z.score_span(&range) {
            let mut x = z.sl.at(first);
            while x != NIL {
                let (member, score) = z.sl.get(x);
                if !range.lte_max(score) {
                    break;
                }
                let (lon, lat) = crate::kv::types::geohash::position(score);
                if let Some(dist) = shape.contains(lon, lat) {
                    found.push(Found {
                        member,
                        score,
                        lon,
                        lat,
                        dist,
                    });
                }
                if full(&found) {
                    break;
                }
                x = z.sl.succ(x);
            }
        }
        last = Some(cell);
    }
    found
}

/// Answer the found members with the options asked for.
fn reply(out: &mut Out, found: &[Found<'_>], q: &Query<'_>, unit: f64) {
    let extra = q.withdist as usize + q.withhash as usize + q.withcoord as usize;
    out.array(found.len());
    for f in found {
        if extra > 0 {
            out.array(extra + 1);
        }
        out.bulk(f.member);
        if q.withdist {
            out.bulk(distance_text(f.dist / unit).as_bytes());
        }
        if q.withhash {
            out.int(f.score as i64);
        }
        if q.withcoord {
            out.array(2);
            coord(out, f.lon);
            coord(out, f.lat);
        }
    }
}

/// The search itself, for every form.
fn run(ctx: &mut Ctx<'_>, a: &[&[u8]], form: Form) {
    let db = ctx.db();
    let Ok(z) = coll::read(&mut ctx.ks, ctx.out, db, a[form.src()], Value::as_zset_mut) else {
        return;
    };
    let z: Option<&ZSet> = z.map(|z| &*z);
    let q = match parse(a, form, z) {
        Ok(q) => q,
        Err(e) => {
            ctx.out.err(&e);
            return;
        }
    };
    let (Some(z), Some(shape)) = (z, q.shape) else {
        // No source set: nothing found (a store deletes its destination).
        match q.store {
            Some(dst) => {
                ctx.ks.remove(db, dst);
                ctx.out.int(0);
            }
            None => ctx.out.array(0),
        }
        return;
    };
    let sort = match q.sort {
        Sort::None if q.count != 0 && !q.any => Sort::Asc,
        s => s,
    };
    let mut found = scan(z, &shape, if q.any { q.count } else { 0 });
    let wanted = if q.count == 0 {
        found.len()
    } else {
        q.count.min(found.len())
    };
    let nearer = |x: &Found<'_>, y: &Found<'_>| x.dist.partial_cmp(&y.dist).unwrap_or(Less);
    match sort {
        Sort::Asc => sort_first(&mut found, wanted, nearer),
        Sort::Desc => sort_first(&mut found, wanted, |x, y| nearer(x, y).reverse()),
        Sort::None => {}
    }
    found.truncate(wanted);
    let Some(dst) = q.store else {
        reply(ctx.out, &found, &q, shape.unit);
        return;
    };
    let mut set = ZSet::default();
    for f in &found {
        set.set(
            f.member,
            if q.storedist {
                f.dist / shape.unit
            } else {
                f.score
            },
        );
    }
    let n = found.len();
    drop(found);
    if n == 0 {
        ctx.ks.remove(db, dst);
    } else {
        ctx.ks.put(db, dst, Value::ZSet(Box::new(set)), 0);
        let event = if matches!(form, Form::Search { .. }) {
            "geosearchstore"
        } else {
            "georadiusstore"
        };
        ctx.ks.notify(notify::ZSET, event, db, dst);
    }
    ctx.out.int(n as i64);
}

fn georadius(ctx: &mut Ctx<'_>, a: &[&[u8]]) {
    run(ctx, a, Form::Coords { ro: false });
}

fn georadius_ro(ctx: &mut Ctx<'_>, a: &[&[u8]]) {
    run(ctx, a, Form::Coords { ro: true });
}

fn georadiusbymember(ctx: &mut Ctx<'_>, a: &[&[u8]]) {
    run(ctx, a, Form::Member { ro: false });
}

fn georadiusbymember_ro(ctx: &mut Ctx<'_>, a: &[&[u8]]) {
    run(ctx, a, Form::Member { ro: true });
}

fn geosearch(ctx: &mut Ctx<'_>, a: &[&[u8]]) {
    run(ctx, a, Form::Search { store: false });
}

fn geosearchstore(ctx: &mut Ctx<'_>, a: &[&[u8]]) {
    run(ctx, a, Form::Search { store: true });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(s: &str) -> Vec<&[u8]> {
        s.split(' ').map(|w| w.as_bytes()).collect()
    }

    #[test]
    fn store_keys_are_found() {
        assert_eq!(radius_keys(&args("georadius k 1 2 3 km")), vec![1]);
        assert_eq!(
            radius_keys(&args("georadius k 1 2 3 km STORE a STOREDIST b STORE c")),
            vec![1, 7, 9]
        );
        assert_eq!(radius_keys(&args("georadius k 1 2 3 km STORE")), vec![1]);
        assert_eq!(
            member_keys(&args("georadiusbymember k m 3 km STOREDIST x")),
            vec![1, 6]
        );
    }

    #[test]
    fn errors_come_in_redis_order() {
        let e = |s: &str, f| parse(&args(s), f, None).err();
        let search = Form::Search { store: false };
        assert_eq!(
            e("GEOSEARCH k BYRADIUS 1 km", search).as_deref(),
            Some("ERR exactly one of FROMMEMBER or FROMLONLAT can be specified for GEOSEARCH")
        );
        assert_eq!(
            e("geosearch k FROMLONLAT 1 2", search).as_deref(),
            Some("ERR exactly one of BYRADIUS and BYBOX can be specified for geosearch")
        );
        assert_eq!(
            e(
                "geosearch k FROMLONLAT 1 2 BYRADIUS 1 km BYBOX 1 1 km",
                search
            )
            .as_deref(),
            Some(SYNTAX)
        );
        assert_eq!(
            e("geosearch k FROMLONLAT 1 2 BYRADIUS 1 km COUNT 0", search).as_deref(),
            Some("ERR COUNT must be > 0")
        );
        assert_eq!(
            e("geosearch k FROMLONLAT 1 2 BYRADIUS 1 km ANY", search).as_deref(),
            Some("ERR the ANY argument requires COUNT argument")
        );
        assert_eq!(
            e("georadius k 1 2 -1 km", Form::Coords { ro: false }).as_deref(),
            Some("ERR radius cannot be negative")
        );
        assert_eq!(
            e("georadius_ro k 1 2 1 km STORE x", Form::Coords { ro: true }).as_deref(),
            Some(SYNTAX)
        );
        assert_eq!(
            e(
                "georadius k 1 2 1 km STORE x WITHDIST",
                Form::Coords { ro: false }
            )
            .as_deref(),
            Some(
                "ERR STORE option in GEORADIUS is not compatible with WITHDIST, WITHHASH and WITHCOORD options"
            )
        );
        assert_eq!(
            e("geosearch k FROMLONLAT 1 2 BYBOX 1 x km", search).as_deref(),
            Some("ERR need numeric height")
        );
    }
}
