//! Stream commands: XADD, XLEN, XRANGE, XREVRANGE, XDEL, XTRIM, XSETID.
//! Each write is [`CollKind::XAdd`], [`CollKind::XDel`] (a trim logs the
//! IDs it removed) or [`CollKind::XSetId`] ops, so replay needs no clock.

use super::arg::{NOT_INT, SYNTAX, is};
use super::coll;
use super::{CommandSpec, Ctx, DENYOOM, FAST, READONLY, WRITE, arity_error, spec};
use crate::kv::aof::{CollKind, CollOp};
use crate::kv::notify;
use crate::kv::protocol::parse_int;
use crate::kv::reply::Out;
use crate::kv::types::stream::Fields;
use crate::kv::types::{Stream, StreamId};
use crate::kv::value::Value;

const G: &str = "stream";

/// Redis's error for a malformed ID.
pub const BAD_ID: &str = "ERR Invalid stream ID specified as stream command argument";

/// The stream family.
pub static COMMANDS: &[CommandSpec] = &[
    spec(
        "xadd",
        -5,
        WRITE | DENYOOM | FAST,
        (1, 1, 1),
        G,
        "5.0.0",
        "Appends a new entry to a stream.",
        "key [NOMKSTREAM] [MAXLEN|MINID [=|~] threshold [LIMIT count]] *|id field value [field value ...]",
        xadd,
    ),
    spec(
        "xlen",
        2,
        READONLY | FAST,
        (1, 1, 1),
        G,
        "5.0.0",
        "Return the number of entries in a stream.",
        "key",
        xlen,
    ),
    spec(
        "xrange",
        -4,
        READONLY,
        (1, 1, 1),
        G,
        "5.0.0",
        "Return a range of elements in a stream, with IDs matching the specified IDs interval.",
        "key start end [COUNT count]",
        xrange,
    ),
    spec(
        "xrevrange",
        -4,
        READONLY,
        (1, 1, 1),
        G,
        "5.0.0",
        "Return a range of elements in a stream, with IDs matching the specified IDs interval, in reverse order.",
        "key end start [COUNT count]",
        xrevrange,
    ),
    spec(
        "xdel",
        -3,
        WRITE | FAST,
        (1, 1, 1),
        G,
        "5.0.0",
        "Removes the specified entries from the stream.",
        "key id [id ...]",
        xdel,
    ),
    spec(
        "xtrim",
        -4,
        WRITE,
        (1, 1, 1),
        G,
        "5.0.0",
        "Trims the stream to (approximately if '~' is passed) a certain size.",
        "key MAXLEN|MINID [=|~] threshold [LIMIT count]",
        xtrim,
    ),
    spec(
        "xsetid",
        -3,
        WRITE | DENYOOM | FAST,
        (1, 1, 1),
        G,
        "5.0.0",
        "An internal command for replicating stream values.",
        "key last-id [ENTRIESADDED entries-added] [MAXDELETEDID max-deleted-id]",
        xsetid,
    ),
];

fn parse_u64(s: &[u8]) -> Option<u64> {
    if s.is_empty() || s.len() > 20 || !s.iter().all(u8::is_ascii_digit) {
        return None;
    }
    std::str::from_utf8(s).ok()?.parse().ok()
}

/// Parse `ms[-seq]` (a missing seq is `missing_seq`), or `-`/`+` unless
/// `strict`; with `ms_auto`, `ms-*` gives seq `None`.
pub fn parse_id_ext(s: &[u8], missing_seq: u64, strict: bool) -> Option<(StreamId, bool)> {
    if s.len() > 127 {
        return None;
    }
    match s {
        b"-" if !strict => return Some((StreamId::default(), true)),
        b"+" if !strict => return Some((StreamId::MAX, true)),
        _ => {}
    }
    let (ms, seq) = match s.iter().position(|&c| c == b'-') {
        Some(i) => (&s[..i], Some(&s[i + 1..])),
        None => (s, None),
    };
    let ms = parse_u64(ms)?;
    match seq {
        None => Some((
            StreamId {
                ms,
                seq: missing_seq,
            },
            true,
        )),
        Some(b"*") => Some((StreamId { ms, seq: 0 }, false)),
        Some(q) => Some((
            StreamId {
                ms,
                seq: parse_u64(q)?,
            },
            true,
        )),
    }
}

/// Parse an ID (no `ms-*`), answering the error.
pub fn parse_id(out: &mut Out, s: &[u8], missing_seq: u64, strict: bool) -> Option<StreamId> {
    match parse_id_ext(s, missing_seq, strict) {
        Some((id, true)) => Some(id),
        _ => {
            out.err(BAD_ID);
            None
        }
    }
}

/// Write one entry: `[id, [field, value, ...]]`.
pub fn reply_entry(out: &mut Out, id: StreamId, fields: &Fields) {
    out.array(2);
    out.bulk(id.fmt().as_bytes());
    out.array(fields.len());
    for f in fields.iter() {
        out.bulk(f);
    }
}

/// Trimming options of XADD and XTRIM.
#[derive(Default)]
struct Trim {
    maxlen: Option<u64>,
    minid: Option<StreamId>,
    approx: bool,
    limit: u64,
}

/// Parse options from `a[2]` on; for XADD stops at the ID (returned index).
fn parse_trim(
    ctx: &mut Ctx<'_>,
    a: &[&[u8]],
    xadd: bool,
    nomk: &mut bool,
) -> Option<(Trim, usize)> {
    let mut t = Trim::default();
    let mut limit = None;
    let mut i = 2;
    let node = ctx.ks.space.enc.stream_entries;
    while i < a.len() {
        let more = a.len() - 1 - i;
        let opt = a[i];
        if xadd && opt == b"*" {
            break;
        } else if (is(opt, "maxlen") || is(opt, "minid")) && more > 0 {
            if t.maxlen.is_some() || t.minid.is_some() {
                ctx.out.err(
                    "ERR syntax error, MAXLEN and MINID options at the same time are not compatible",
                );
                return None;
            }
            t.approx = false;
            if more >= 2 && (a[i + 1] == b"~" || a[i + 1] == b"=") {
                t.approx = a[i + 1] == b"~";
                i += 1;
            }
            if is(opt, "maxlen") {
                let Some(n) = parse_int(a[i + 1]) else {
                    ctx.out.err(NOT_INT);
                    return None;
                };
                if n < 0 {
                    ctx.out.err("ERR The MAXLEN argument must be >= 0.");
                    return None;
                }
                t.maxlen = Some(n as u64);
            } else {
                t.minid = Some(parse_id(ctx.out, a[i + 1], 0, true)?);
            }
            i += 2;
        } else if is(opt, "limit") && more > 0 {
            let Some(n) = parse_int(a[i + 1]) else {
                ctx.out.err(NOT_INT);
                return None;
            };
            if n < 0 {
                ctx.out.err("ERR The LIMIT argument must be >= 0.");
                return None;
            }
            limit = Some(n as u64);
            i += 2;
        } else if xadd && is(opt, "nomkstream") {
            *nomk = true;
            i += 1;
        } else if xadd {
            break;
        } else {
            ctx.out.err(SYNTAX);
            return None;
        }
    }
    let strategy = t.maxlen.is_some() || t.minid.is_some();
    if limit.is_some_and(|l| l > 0) && !strategy {
        ctx.out
            .err("ERR syntax error, LIMIT cannot be used without specifying a trimming strategy");
        return None;
    }
    if !xadd && !strategy {
        ctx.out
            .err("ERR syntax error, XTRIM must be called with a trimming strategy");
        return None;
    }
    match limit {
        Some(_) if !t.approx => {
            ctx.out
                .err("ERR syntax error, LIMIT cannot be used without the special ~ option");
            return None;
        }
        Some(l) => t.limit = l,
        None if t.approx => t.limit = (100 * node).clamp(1, 1_000_000) as u64,
        None => {}
    }
    if t.approx && t.limit == 0 {
        t.limit = u64::MAX;
    }
    Some((t, i))
}

/// Apply a trim to the stream at `key` (it exists); returns entries removed.
fn trim(ctx: &mut Ctx<'_>, db: usize, key: &[u8], t: &Trim) -> usize {
    let ids = match ctx.ks.peek(db, key).map(|e| &e.value) {
        Some(Value::Stream(st)) => st.trim_ids(t.maxlen, t.minid, t.approx, t.limit),
        _ => return 0,
    };
    if ids.is_empty() {
        return 0;
    }
    let bytes: Vec<[u8; 16]> = ids.iter().map(|i| i.to_bytes()).collect();
    let refs: Vec<&[u8]> = bytes.iter().map(|b| &b[..]).collect();
    let r = ctx.ks.coll(CollOp::items(CollKind::XDel, db, key, &refs));
    if r.removed > 0 {
        ctx.ks.notify(notify::STREAM, "xtrim", db, key);
    }
    r.removed
}

/// The ID XADD gives after `last`: `ms` and seq from the argument
/// (`None`: auto), or an error text.
fn next_id(
    last: StreamId,
    want: Option<(StreamId, bool)>,
    now: u64,
) -> Result<StreamId, &'static str> {
    const SMALLER: &str =
        "ERR The ID specified in XADD is equal or smaller than the target stream top item";
    if last == StreamId::MAX {
        return Err("ERR The stream has exhausted the last possible ID, unable to add more items");
    }
    let id = match want {
        None => {
            if now > last.ms {
                StreamId { ms: now, seq: 0 }
            } else {
                last.next().ok_or(SMALLER)?
            }
        }
        Some((id, false)) => {
            if id.ms == last.ms {
                if last.seq == u64::MAX {
                    return Err(SMALLER);
                }
                StreamId {
                    ms: id.ms,
                    seq: last.seq + 1,
                }
            } else {
                id
            }
        }
        Some((id, true)) => id,
    };
    if id <= last {
        return Err(SMALLER);
    }
    Ok(id)
}

fn xadd(ctx: &mut Ctx<'_>, a: &[&[u8]]) {
    let db = ctx.db();
    let mut nomk = false;
    let Some((t, idpos)) = parse_trim(ctx, a, true, &mut nomk) else {
        return;
    };
    let fields = a.get(idpos + 1..).unwrap_or(&[]);
    if fields.len() < 2 || fields.len() % 2 == 1 {
        arity_error(ctx.out, "xadd");
        return;
    }
    let want = if a[idpos] == b"*" {
        None
    } else {
        match parse_id_ext(a[idpos], 0, true) {
            Some(x) => Some(x),
            None => {
                ctx.out.err(BAD_ID);
                return;
            }
        }
    };
    if let Some((StreamId { ms: 0, seq: 0 }, true)) = want {
        ctx.out
            .err("ERR The ID specified in XADD must be greater than 0-0");
        return;
    }
    let last = match coll::write(&mut ctx.ks, ctx.out, db, a[1], Value::as_stream) {
        Err(_) => return,
        Ok(None) if nomk => {
            ctx.out.null();
            return;
        }
        Ok(s) => s.map_or(StreamId::default(), |s| s.last_id),
    };
    let id = match next_id(last, want, ctx.ks.now) {
        Ok(id) => id,
        Err(e) => {
            ctx.out.err(e);
            return;
        }
    };
    let idb = id.to_bytes();
    let mut items: Vec<&[u8]> = Vec::with_capacity(fields.len() + 1);
    items.push(&idb);
    items.extend_from_slice(fields);
    let node = ctx.ks.space.enc.stream_entries.max(1);
    ctx.ks.coll(CollOp {
        a: node,
        ..CollOp::items(CollKind::XAdd, db, a[1], &items)
    });
    ctx.out.bulk(id.fmt().as_bytes());
    ctx.ks.notify(notify::STREAM, "xadd", db, a[1]);
    if t.maxlen.is_some() || t.minid.is_some() {
        trim(ctx, db, a[1], &t);
    }
}

fn xtrim(ctx: &mut Ctx<'_>, a: &[&[u8]]) {
    let db = ctx.db();
    let mut nomk = false;
    let Some((t, _)) = parse_trim(ctx, a, false, &mut nomk) else {
        return;
    };
    match coll::write(&mut ctx.ks, ctx.out, db, a[1], Value::as_stream) {
        Err(_) => {}
        Ok(None) => ctx.out.int(0),
        Ok(Some(_)) => {
            let n = trim(ctx, db, a[1], &t);
            ctx.out.int(n as i64);
        }
    }
}

fn xlen(ctx: &mut Ctx<'_>, a: &[&[u8]]) {
    let db = ctx.db();
    if let Ok(s) = coll::read(&mut ctx.ks, ctx.out, db, a[1], Value::as_stream_mut) {
        ctx.out.int(s.map_or(0, |s| s.len() as i64));
    }
}

/// Write entries `start..=end` (reversed with `rev`), at most `count` (0: all).
pub fn reply_range(
    out: &mut Out,
    st: &Stream,
    start: StreamId,
    end: StreamId,
    count: usize,
    rev: bool,
) {
    if start > end {
        out.array(0);
        return;
    }
    let range = st.entries.range(start..=end);
    let items: Vec<_> = if rev {
        range
            .rev()
            .take(if count == 0 { usize::MAX } else { count })
            .collect()
    } else {
        range
            .take(if count == 0 { usize::MAX } else { count })
            .collect()
    };
    out.array(items.len());
    for (id, f) in items {
        reply_entry(out, *id, f);
    }
}

fn range_cmd(ctx: &mut Ctx<'_>, a: &[&[u8]], rev: bool) {
    let db = ctx.db();
    let (sa, ea) = if rev { (a[3], a[2]) } else { (a[2], a[3]) };
    let bound = |out: &mut Out, s: &[u8], missing: u64| -> Option<(StreamId, bool)> {
        match s.strip_prefix(b"(") {
            Some(rest) if !rest.is_empty() => Some((parse_id(out, rest, missing, true)?, true)),
            _ => Some((parse_id(out, s, missing, false)?, false)),
        }
    };
    let Some((mut start, sx)) = bound(ctx.out, sa, 0) else {
        return;
    };
    if sx {
        match start.next() {
            Some(n) => start = n,
            None => {
                ctx.out.err("ERR invalid start ID for the interval");
                return;
            }
        }
    }
    let Some((mut end, ex)) = bound(ctx.out, ea, u64::MAX) else {
        return;
    };
    if ex {
        match end.prev() {
            Some(p) => end = p,
            None => {
                ctx.out.err("ERR invalid end ID for the interval");
                return;
            }
        }
    }
    let mut count: i64 = -1;
    let mut j = 4;
    while j < a.len() {
        if is(a[j], "count") && j + 1 < a.len() {
            let Some(n) = parse_int(a[j + 1]) else {
                ctx.out.err(NOT_INT);
                return;
            };
            count = n.max(0);
            j += 2;
        } else {
            ctx.out.err(SYNTAX);
            return;
        }
    }
    let Ok(s) = coll::read(&mut ctx.ks, ctx.out, db, a[1], Value::as_stream_mut) else {
        return;
    };
    match s {
        None => ctx.out.array(0),
        Some(_) if count == 0 => ctx.out.null_array(),
        Some(st) => reply_range(ctx.out, st, start, end, count.max(0) as usize, rev),
    }
}

fn xrange(ctx: &mut Ctx<'_>, a: &[&[u8]]) {
    range_cmd(ctx, a, false);
}

fn xrevrange(ctx: &mut Ctx<'_>, a: &[&[u8]]) {
    range_cmd(ctx, a, true);
}

fn xdel(ctx: &mut Ctx<'_>, a: &[&[u8]]) {
    let db = ctx.db();
    let mut ids = Vec::with_capacity(a.len() - 2);
    for s in &a[2..] {
        let Some(id) = parse_id(ctx.out, s, 0, true) else {
            return;
        };
        ids.push(id.to_bytes());
    }
    match coll::write(&mut ctx.ks, ctx.out, db, a[1], Value::as_stream) {
        Err(_) => {}
        Ok(None) => ctx.out.int(0),
        Ok(Some(_)) => {
            let refs: Vec<&[u8]> = ids.iter().map(|b| &b[..]).collect();
            let r = ctx.ks.coll(CollOp {
                a: 1,
                ..CollOp::items(CollKind::XDel, db, a[1], &refs)
            });
            if r.removed > 0 {
                ctx.ks.notify(notify::STREAM, "xdel", db, a[1]);
            }
            ctx.out.int(r.removed as i64);
        }
    }
}

fn xsetid(ctx: &mut Ctx<'_>, a: &[&[u8]]) {
    let db = ctx.db();
    let Some(id) = parse_id(ctx.out, a[2], 0, true) else {
        return;
    };
    let (mut added, mut maxdel) = (None, None);
    let mut j = 3;
    while j < a.len() {
        if j + 1 < a.len() && is(a[j], "entriesadded") {
            match parse_int(a[j + 1]) {
                Some(n) if n >= 0 => added = Some(n as u64),
                Some(_) => {
                    ctx.out.err("ERR entries_added must be positive");
                    return;
                }
                None => {
                    ctx.out.err(NOT_INT);
                    return;
                }
            }
        } else if j + 1 < a.len() && is(a[j], "maxdeletedid") {
            let Some(m) = parse_id(ctx.out, a[j + 1], 0, true) else {
                return;
            };
            if id < m {
                ctx.out.err(
                    "ERR The ID specified in XSETID is smaller than the provided max_deleted_entry_id",
                );
                return;
            }
            maxdel = Some(m);
        } else {
            ctx.out.err(SYNTAX);
            return;
        }
        j += 2;
    }
    let st = match coll::write(&mut ctx.ks, ctx.out, db, a[1], Value::as_stream) {
        Err(_) => return,
        Ok(None) => {
            ctx.out.err("ERR no such key");
            return;
        }
        Ok(Some(s)) => s,
    };
    let added = added.unwrap_or(st.entries_added);
    if added < st.len() as u64 {
        ctx.out.err(
            "ERR The entries_added specified in XSETID is smaller than the target stream length",
        );
        return;
    }
    if let Some((last, _)) = st.entries.last_key_value() {
        if id < *last {
            ctx.out
                .err("ERR The ID specified in XSETID is smaller than the target stream top item");
            return;
        }
    }
    let maxdel = maxdel.unwrap_or(st.max_deleted);
    let (l, n, m) = (id.to_bytes(), added.to_be_bytes(), maxdel.to_bytes());
    let items: [&[u8]; 3] = [&l, &n, &m];
    ctx.ks
        .coll(CollOp::items(CollKind::XSetId, db, a[1], &items));
    ctx.ks.notify(notify::STREAM, "xsetid", db, a[1]);
    ctx.out.ok();
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(ms: u64, seq: u64) -> StreamId {
        StreamId { ms, seq }
    }

    #[test]
    fn ids_parse_like_redis() {
        assert_eq!(parse_id_ext(b"5", 7, true), Some((id(5, 7), true)));
        assert_eq!(parse_id_ext(b"5-3", 7, true), Some((id(5, 3), true)));
        assert_eq!(parse_id_ext(b"5-*", 7, true), Some((id(5, 0), false)));
        assert_eq!(parse_id_ext(b"-", 0, false), Some((id(0, 0), true)));
        assert_eq!(parse_id_ext(b"-", 0, true), None);
        assert_eq!(parse_id_ext(b"+", 0, false), Some((StreamId::MAX, true)));
        assert_eq!(parse_id_ext(b"x-1", 0, true), None);
        assert_eq!(parse_id_ext(b"1-x", 0, true), None);
        assert_eq!(parse_id_ext(b"18446744073709551616", 0, true), None);
    }

    #[test]
    fn xadd_ids_follow_the_last_one() {
        let last = id(5, 3);
        assert_eq!(next_id(last, None, 10), Ok(id(10, 0)));
        assert_eq!(next_id(last, None, 2), Ok(id(5, 4)));
        assert_eq!(next_id(last, Some((id(5, 0), false)), 0), Ok(id(5, 4)));
        assert_eq!(next_id(last, Some((id(6, 0), false)), 0), Ok(id(6, 0)));
        assert!(next_id(last, Some((id(4, 0), false)), 0).is_err());
        assert!(next_id(last, Some((id(5, 3), true)), 0).is_err());
        assert!(next_id(StreamId::MAX, None, 0).is_err());
        assert_eq!(
            next_id(StreamId::default(), Some((id(0, 0), false)), 0),
            Ok(id(0, 1))
        );
    }
}
