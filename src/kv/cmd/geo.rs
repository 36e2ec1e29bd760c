//! The geo family's point commands: GEOADD, GEODIST, GEOHASH, GEOPOS. A
//! geo set is a plain sorted set whose scores are 52-bit geohashes
//! ([`crate::kv::types::geohash`]), so it is a `zset` to TYPE, DUMP and
//! every Z command, as in Redis. GEOADD turns its triples into scores and
//! runs ZADD (logged, notified `zadd`, answered as ZADD would). Searches
//! are in [`super::geosearch`]. Numbers are printed as Redis prints them:
//! distances with 4 decimals, coordinates with 17 (zeros trimmed).

use super::arg::{self, SYNTAX, is};
use super::{CommandSpec, Ctx, DENYOOM, READONLY, WRITE, coll, spec, zsets};
use crate::kv::reply::Out;
use crate::kv::types::ZSet;
use crate::kv::types::{geohash, geoshape};
use crate::kv::value::Value;

const G: &str = "geo";

/// The geo point commands.
pub static COMMANDS: &[CommandSpec] = &[
    spec(
        "geoadd",
        -5,
        WRITE | DENYOOM,
        (1, 1, 1),
        G,
        "3.2.0",
        "Add one or more geospatial items in the geospatial index represented using a sorted set",
        "key [NX|XX] [CH] longitude latitude member [longitude latitude member ...]",
        geoadd,
    ),
    spec(
        "geodist",
        -4,
        READONLY,
        (1, 1, 1),
        G,
        "3.2.0",
        "Returns the distance between two members of a geospatial index",
        "key member1 member2 [M|KM|FT|MI]",
        geodist,
    ),
    spec(
        "geohash",
        -2,
        READONLY,
        (1, 1, 1),
        G,
        "3.2.0",
        "Returns members of a geospatial index as standard geohash strings",
        "key [member [member ...]]",
        geohash_cmd,
    ),
    spec(
        "geopos",
        -2,
        READONLY,
        (1, 1, 1),
        G,
        "3.2.0",
        "Returns longitude and latitude of members of a geospatial index",
        "key [member [member ...]]",
        geopos,
    ),
];

/// `ERR unsupported unit provided. please use M, KM, FT, MI`
pub const BAD_UNIT: &str = "ERR unsupported unit provided. please use M, KM, FT, MI";

/// A number argument as Redis's `getDoubleFromObject` reads one: like
/// [`arg::parse_float`], but a finite literal that overflows to infinity
/// or underflows to zero is refused (C's `ERANGE`).
pub fn float(a: &[u8]) -> Option<f64> {
    let v = arg::parse_float(a)?;
    let literal_inf = || {
        let s = a.to_ascii_lowercase();
        let s = s.strip_prefix(b"-").or(s.strip_prefix(b"+")).unwrap_or(&s);
        s == b"inf" || s == b"infinity"
    };
    if v.is_infinite() && !literal_inf() {
        return None;
    }
    let nonzero_digit = || {
        a.iter()
            .take_while(|c| !matches!(c, b'e' | b'E'))
            .any(|c| (b'1'..=b'9').contains(c))
    };
    if v == 0.0 && nonzero_digit() {
        return None;
    }
    Some(v)
}

/// `longitude latitude` at `a[0..2]`: both numbers and in range, or the
/// Redis error text.
pub fn lon_lat(a: &[&[u8]]) -> Result<(f64, f64), String> {
    let (Some(lon), Some(lat)) = (float(a[0]), float(a[1])) else {
        return Err(arg::NOT_FLOAT.into());
    };
    if !(geohash::LON_MIN..=geohash::LON_MAX).contains(&lon)
        || !(geohash::LAT_MIN..=geohash::LAT_MAX).contains(&lat)
    {
        return Err(format!(
            "ERR invalid longitude,latitude pair {lon:.6},{lat:.6}"
        ));
    }
    Ok((lon, lat))
}

/// A coordinate as Redis's "human" long double: 17 decimals, trailing
/// zeros (and a bare point) dropped, `-0` as `0`.
pub fn human(d: f64) -> String {
    if d.is_infinite() {
        return if d > 0.0 { "inf" } else { "-inf" }.into();
    }
    let mut s = format!("{d:.17}");
    if s.contains('.') {
        let kept = s.trim_end_matches('0').trim_end_matches('.').len();
        s.truncate(kept);
    }
    if s == "-0" {
        s = "0".into();
    }
    s
}

/// A distance with 4 decimals, rounded half to even on the scaled value,
/// as Redis's `fixedpoint_d2string` (`0.0000` for zero).
pub fn distance_text(d: f64) -> String {
    let v = (d * 10000.0).round_ties_even();
    if !v.is_finite() || v.abs() >= 9.2e18 {
        return format!("{d:.4}");
    }
    let v = v as i64;
    let sign = if v < 0 { "-" } else { "" };
    let u = v.unsigned_abs();
    format!("{sign}{}.{:04}", u / 10000, u % 10000)
}

/// A coordinate reply: a bulk string in RESP2, a double in RESP3.
pub fn coord(out: &mut Out, d: f64) {
    out.double_text(&human(d));
}

/// The position of `m` in the geo set `z`, if it is a member.
pub fn member_position(z: &ZSet, m: &[u8]) -> Option<(f64, f64)> {
    z.score(m).map(geohash::position)
}

/// GEOADD key [NX|XX] [CH] lon lat member ...: validated, then run as
/// `ZADD key [options] score member ...` (ZADD's reply, log and event).
fn geoadd(ctx: &mut Ctx<'_>, a: &[&[u8]]) {
    let mut at = 2;
    let (mut nx, mut xx) = (false, false);
    while at < a.len() {
        match () {
            _ if is(a[at], "NX") => nx = true,
            _ if is(a[at], "XX") => xx = true,
            _ if is(a[at], "CH") => {}
            _ => break,
        }
        at += 1;
    }
    if (a.len() - at) % 3 != 0 || (nx && xx) {
        ctx.out.err(SYNTAX);
        return;
    }
    let mut scores = Vec::with_capacity((a.len() - at) / 3);
    for t in a[at..].chunks_exact(3) {
        match lon_lat(t) {
            Ok((lon, lat)) => scores.push(geohash::score_of(lon, lat).unwrap_or(0).to_string()),
            Err(e) => {
                ctx.out.err(&e);
                return;
            }
        }
    }
    let mut zargs: Vec<&[u8]> = Vec::with_capacity(at + scores.len() * 2);
    zargs.push(b"zadd");
    zargs.extend_from_slice(&a[1..at]);
    for (t, s) in a[at..].chunks_exact(3).zip(&scores) {
        zargs.push(s.as_bytes());
        zargs.push(t[2]);
    }
    zsets::zadd(ctx, &zargs);
}

/// GEODIST key m1 m2 [unit]: null when the key or a member is missing.
fn geodist(ctx: &mut Ctx<'_>, a: &[&[u8]]) {
    let unit = match a.len() {
        4 => 1.0,
        5 => match geoshape::unit(a[4]) {
            Some(u) => u,
            None => {
                ctx.out.err(BAD_UNIT);
                return;
            }
        },
        _ => {
            ctx.out.err(SYNTAX);
            return;
        }
    };
    let db = ctx.db();
    let Ok(z) = coll::read(&mut ctx.ks, ctx.out, db, a[1], Value::as_zset_mut) else {
        return;
    };
    let points = z.and_then(|z| Some((member_position(z, a[2])?, member_position(z, a[3])?)));
    match points {
        Some(((lon1, lat1), (lon2, lat2))) => {
            let d = geoshape::distance(lon1, lat1, lon2, lat2) / unit;
            ctx.out.bulk(distance_text(d).as_bytes());
        }
        None => ctx.out.null(),
    }
}

/// GEOHASH key member...: 11-character standard geohashes, null for a
/// missing member.
fn geohash_cmd(ctx: &mut Ctx<'_>, a: &[&[u8]]) {
    let db = ctx.db();
    let Ok(z) = coll::read(&mut ctx.ks, ctx.out, db, a[1], Value::as_zset_mut) else {
        return;
    };
    ctx.out.array(a.len() - 2);
    for m in &a[2..] {
        match z.as_ref().and_then(|z| z.score(m)) {
            Some(s) => ctx.out.bulk(&geohash::standard_hash(s)),
            None => ctx.out.null(),
        }
    }
}

/// GEOPOS key member...: `[lon, lat]` each, a null array for a missing one.
fn geopos(ctx: &mut Ctx<'_>, a: &[&[u8]]) {
    let db = ctx.db();
    let Ok(z) = coll::read(&mut ctx.ks, ctx.out, db, a[1], Value::as_zset_mut) else {
        return;
    };
    ctx.out.array(a.len() - 2);
    for m in &a[2..] {
        match z.as_ref().and_then(|z| member_position(z, m)) {
            Some((lon, lat)) => {
                ctx.out.array(2);
                coord(ctx.out, lon);
                coord(ctx.out, lat);
            }
            None => ctx.out.null_array(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_print_like_redis() {
        assert_eq!(human(13.361389338970184), "13.36138933897018433");
        assert_eq!(human(-0.0), "0");
        assert_eq!(human(2.0), "2");
        assert_eq!(human(-122.5), "-122.5");
        assert_eq!(distance_text(0.0), "0.0000");
        assert_eq!(distance_text(166274.15156960033), "166274.1516");
        assert_eq!(distance_text(0.00005), "0.0000");
        assert_eq!(distance_text(1.23456789), "1.2346");
        assert_eq!(distance_text(12.5), "12.5000");
    }

    #[test]
    fn floats_and_coordinates() {
        assert_eq!(float(b"1e999"), None);
        assert_eq!(float(b"1e-999"), None);
        assert_eq!(float(b"0e5"), Some(0.0));
        assert_eq!(float(b"-inf"), Some(f64::NEG_INFINITY));
        assert_eq!(float(b"nan"), None);
        assert_eq!(float(b" 1"), None);
        assert_eq!(lon_lat(&[b"1", b"2"]), Ok((1.0, 2.0)));
        assert_eq!(
            lon_lat(&[b"200", b"100"]),
            Err("ERR invalid longitude,latitude pair 200.000000,100.000000".into())
        );
        assert_eq!(
            lon_lat(&[b"x", b"1"]),
            Err("ERR value is not a valid float".into())
        );
        assert_eq!(
            lon_lat(&[b"-inf", b"0"]),
            Err("ERR invalid longitude,latitude pair -inf,0.000000".into())
        );
    }
}
