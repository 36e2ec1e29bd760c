//! XREAD and XREADGROUP, with BLOCK on the blocking machinery of
//! [`super::blocking`]: a client blocked on streams is woken by an XADD to
//! one of its keys (or XGROUP DESTROY of its group) and served from
//! [`serve_stream`]; inside MULTI (or a script) BLOCK answers at once.
//! XREADGROUP logs what it changed: the group's last ID and entries read,
//! the consumer, and each delivery (time and count) as XPel ops.

use std::time::{Duration, Instant};

use super::arg::{NOT_INT, SYNTAX, is};
use super::coll::{self, Answered};
use super::streams::{parse_id, reply_entry};
use super::{BLOCKING, CommandSpec, Ctx, READONLY, WRITE, spec};
use crate::kv::aof::CollKind;
use crate::kv::blocking::{BlockOp, StreamWait};
use crate::kv::keyspace::{Ks, pel_item};
use crate::kv::reply::Out;
use crate::kv::types::stream::Fields;
use crate::kv::types::{Stream, StreamId};
use crate::kv::value::Value;

const G: &str = "stream";

/// Entries a blocked XREAD without COUNT gets at most (Redis's default).
const BLOCKED_COUNT: usize = 1000;

fn stream_keys(a: &[&[u8]]) -> Vec<usize> {
    let Some(s) = a.iter().position(|x| is(x, "streams")) else {
        return Vec::new();
    };
    let n = (a.len() - s - 1) / 2;
    (s + 1..s + 1 + n).collect()
}

/// The XREAD family.
pub static COMMANDS: &[CommandSpec] = &[
    spec(
        "xread",
        -4,
        READONLY | BLOCKING,
        (0, 0, 0),
        G,
        "5.0.0",
        "Return never seen elements in multiple streams, with IDs greater than the ones reported by the caller for each stream. Can block.",
        "[COUNT count] [BLOCK milliseconds] STREAMS key [key ...] id [id ...]",
        xread,
    )
    .keys_by(stream_keys),
    spec(
        "xreadgroup",
        -7,
        WRITE | BLOCKING,
        (0, 0, 0),
        G,
        "5.0.0",
        "Return new entries from a stream using a consumer group, or access the history of the pending entries for a given consumer. Can block.",
        "GROUP group consumer [COUNT count] [BLOCK milliseconds] [NOACK] STREAMS key [key ...] id [id ...]",
        xread,
    )
    .keys_by(stream_keys),
];

/// `>` in XREADGROUP: new entries (Redis's marker ID).
const NEW: StreamId = StreamId::MAX;

struct Args<'a> {
    count: usize,
    block: Option<Option<Instant>>,
    group: Option<(&'a [u8], &'a [u8])>,
    noack: bool,
    keys: &'a [&'a [u8]],
    ids: &'a [&'a [u8]],
}

fn parse<'a>(
    out: &mut Out,
    a: &'a [&'a [u8]],
    group_cmd: bool,
    in_script: bool,
) -> Option<Args<'a>> {
    let name = if group_cmd { "XREADGROUP" } else { "XREAD" };
    let mut r = Args {
        count: 0,
        block: None,
        group: None,
        noack: false,
        keys: &[],
        ids: &[],
    };
    let mut streams = None;
    let mut i = 1;
    while i < a.len() {
        let more = a.len() - 1 - i;
        let o = a[i];
        if is(o, "block") && more > 0 {
            if in_script {
                out.err(&format!(
                    "ERR {} command is not allowed with BLOCK option from scripts",
                    String::from_utf8_lossy(a[0])
                ));
                return None;
            }
            let Some(ms) = parse_int(a[i + 1]) else {
                out.err("ERR timeout is not an integer or out of range");
                return None;
            };
            if ms < 0 {
                out.err("ERR timeout is negative");
                return None;
            }
            r.block = Some(if ms == 0 {
                None
            } else {
                Instant::now().checked_add(Duration::from_millis(ms as u64))
            });
            i += 2;
        } else if is(o, "count") && more > 0 {
            let Some(n) = parse_int(a[i + 1]) else {
                out.err(NOT_INT);
                return None;
            };
            r.count = n.max(0) as usize;
            i += 2;
        } else if is(o, "streams") && more > 0 {
            let rest = &a[i + 1..];
            if rest.len() % 2 != 0 {
                out.err(&format!(
                    "ERR Unbalanced '{}' list of streams: for each stream key an ID or '$' must be specified.",
                    name.to_lowercase()
                ));
                return None;
            }
            streams = Some(rest.split_at(rest.len() / 2));
            break;
        } else if is(o, "group") && more >= 2 {
            if !group_cmd {
                out.err("ERR The GROUP option is only supported by XREADGROUP. You called XREAD instead.");
                return None;
            }
            r.group = Some((a[i + 1], a[i + 2]));
            i += 3;
        } else if is(o, "noack") {
            if !group_cmd {
                out.err("ERR The NOACK option is only supported by XREADGROUP. You called XREAD instead.");
                return None;
            }
            r.noack = true;
            i += 1;
        } else {
            out.err(SYNTAX);
            return None;
        }
    }
    let Some((keys, ids)) = streams else {
        out.err(SYNTAX);
        return None;
    };
    if group_cmd && r.group.is_none() {
        out.err("ERR Missing GROUP option for XREADGROUP");
        return None;
    }
    (r.keys, r.ids) = (keys, ids);
    Some(r)
}

use crate::kv::protocol::parse_int;

/// Has `st` something for a reader after `gt` (NEW: the group's last ID)?
fn servable(st: &Stream, gt: StreamId, group: Option<&[u8]>) -> bool {
    let Some((last, _)) = st.entries.last_key_value() else {
        return false;
    };
    match group {
        Some(g) => st.groups.get(g).is_some_and(|g| *last > g.last_id),
        None => *last > gt,
    }
}

fn xread(ctx: &mut Ctx<'_>, a: &[&[u8]]) {
    let group_cmd = is(a[0], "xreadgroup");
    let Some(args) = parse(ctx.out, a, group_cmd, ctx.sess.in_script) else {
        return;
    };
    let db = ctx.db();
    // Resolve every ID first: any error aborts before anything is served.
    let mut gts = Vec::with_capacity(args.keys.len());
    for (k, idarg) in args.keys.iter().zip(args.ids) {
        let st = match coll::read(&mut ctx.ks, ctx.out, db, k, Value::as_stream_mut) {
            Err(Answered) => return,
            Ok(s) => s,
        };
        if let Some((g, _)) = args.group {
            if !st.as_ref().is_some_and(|s| s.groups.contains_key(g)) {
                ctx.out.err(&format!(
                    "NOGROUP No such key '{}' or consumer group '{}' in XREADGROUP with GROUP option",
                    String::from_utf8_lossy(k),
                    String::from_utf8_lossy(g)
                ));
                return;
            }
        }
        let gt = if *idarg == b"$" {
            if group_cmd {
                ctx.out.err("ERR The $ ID is meaningless in the context of XREADGROUP: you want to read the history of this consumer by specifying a proper ID, or use the > ID to get new messages. The $ ID would just return an empty result set.");
                return;
            }
            st.map_or(StreamId::default(), |s| s.last_id)
        } else if *idarg == b">" {
            if !group_cmd {
                ctx.out.err("ERR The > ID can be specified only when calling XREADGROUP using the GROUP <group> <consumer> option.");
                return;
            }
            NEW
        } else {
            let Some(id) = parse_id(ctx.out, idarg, 0, true) else {
                return;
            };
            id
        };
        gts.push(gt);
    }
    let group = args.group.map(|(g, _)| g);
    let mut ready = Vec::new();
    for (i, k) in args.keys.iter().enumerate() {
        let Some(Value::Stream(st)) = ctx.ks.peek(db, k).map(|e| &e.value) else {
            continue;
        };
        let history = group.is_some() && gts[i] != NEW;
        if history || servable(st, gts[i], group) {
            ready.push(i);
        }
    }
    if !ready.is_empty() {
        keyed_header(ctx.out, ready.len());
        for i in ready {
            let w = StreamWait {
                key: args.keys[i].into(),
                gt: gts[i],
            };
            let g = args.group.map(|(g, c)| (g, c, args.noack));
            serve_one(&mut ctx.ks, ctx.out, db, &w, g, args.count);
        }
        return;
    }
    let Some(deadline) = args.block else {
        return ctx.out.null_array();
    };
    let op = BlockOp::XRead {
        streams: args
            .keys
            .iter()
            .zip(&gts)
            .map(|(k, gt)| StreamWait {
                key: (*k).into(),
                gt: *gt,
            })
            .collect(),
        group: args.group.map(|(g, c)| (g.into(), c.into(), args.noack)),
        count: if args.count == 0 {
            BLOCKED_COUNT
        } else {
            args.count
        },
    };
    super::blocking::park(ctx, a[0], args.keys, op, deadline);
}

/// The outer reply of XREAD: a map in RESP3, an array of pairs in RESP2.
fn keyed_header(out: &mut Out, n: usize) {
    if out.resp3 {
        out.map(n);
    } else {
        out.array(n);
    }
}

/// Reply `key` and its entries for one reader; with a group, deliver
/// (log the group's progress, the consumer and the PEL).
fn serve_one(
    ks: &mut Ks<'_>,
    out: &mut Out,
    db: usize,
    w: &StreamWait,
    group: Option<(&[u8], &[u8], bool)>,
    count: usize,
) {
    if !out.resp3 {
        out.array(2);
    }
    out.bulk(&w.key);
    let take = if count == 0 { usize::MAX } else { count };
    let Some(Value::Stream(st)) = ks.peek(db, &w.key).map(|e| &e.value) else {
        return out.array(0);
    };
    let Some((gname, consumer, noack)) = group else {
        let start = w.gt.next().unwrap_or(StreamId::MAX);
        let items: Vec<(StreamId, Fields)> = if w.gt == StreamId::MAX {
            Vec::new()
        } else {
            st.entries
                .range(start..)
                .take(take)
                .map(|(i, f)| (*i, f.clone()))
                .collect()
        };
        out.array(items.len());
        for (id, f) in &items {
            reply_entry(out, *id, f);
        }
        return;
    };
    let Some(g) = st.groups.get(gname) else {
        return out.array(0);
    };
    let now = ks.now;
    if w.gt != NEW {
        // History: this consumer's pending entries after the ID.
        let ids: Vec<StreamId> = match (g.consumers.get(consumer), w.gt.next()) {
            (Some(c), Some(start)) => c.pel.range(start..).take(take).copied().collect(),
            _ => Vec::new(),
        };
        let mut bumped = Vec::new();
        out.array(ids.len());
        for id in &ids {
            match st.entries.get(id) {
                Some(f) => {
                    reply_entry(out, *id, f);
                    let n = g.pel.get(id).map_or(1, |p| p.count + 1);
                    bumped.push(pel_item(*id, now, n));
                }
                None => {
                    out.array(2);
                    out.bulk(id.fmt().as_bytes());
                    out.null_array();
                }
            }
        }
        touch(ks, db, &w.key, gname, consumer);
        if !bumped.is_empty() {
            pel(ks, db, &w.key, gname, consumer, &bumped);
        }
        return;
    }
    let items: Vec<(StreamId, Fields)> = match g.last_id.next() {
        Some(start) => st
            .entries
            .range(start..)
            .take(take)
            .map(|(i, f)| (*i, f.clone()))
            .collect(),
        None => Vec::new(),
    };
    let (mut last, mut read) = (g.last_id, g.entries_read);
    for (id, _) in &items {
        if read >= 0 && !st.range_has_tombstones(*id) {
            read += 1;
        } else if st.entries_added > 0 {
            read = st.entries_read_at(*id);
        }
        last = *id;
    }
    out.array(items.len());
    for (id, f) in &items {
        reply_entry(out, *id, f);
    }
    touch(ks, db, &w.key, gname, consumer);
    if items.is_empty() {
        return;
    }
    let (lb, rb) = (last.to_bytes(), read.to_be_bytes());
    with_ctx_op(ks, db, &w.key, CollKind::XGroup, (0, 0), &[gname, &lb, &rb]);
    if !noack {
        let recs: Vec<[u8; 32]> = items.iter().map(|(id, _)| pel_item(*id, now, 1)).collect();
        pel(ks, db, &w.key, gname, consumer, &recs);
    }
}

fn with_ctx_op(
    ks: &mut Ks<'_>,
    db: usize,
    key: &[u8],
    kind: CollKind,
    ab: (i64, i64),
    items: &[&[u8]],
) {
    ks.coll(crate::kv::aof::CollOp {
        a: ab.0,
        b: ab.1,
        ..crate::kv::aof::CollOp::items(kind, db, key, items)
    });
}

fn touch(ks: &mut Ks<'_>, db: usize, key: &[u8], group: &[u8], consumer: &[u8]) {
    let now = ks.now as i64;
    let r = ks.coll(crate::kv::aof::CollOp {
        b: now,
        ..crate::kv::aof::CollOp::items(CollKind::XConsumer, db, key, &[group, consumer])
    });
    if r.added > 0 {
        ks.notify(crate::kv::notify::STREAM, "xgroup-createconsumer", db, key);
    }
}

fn pel(ks: &mut Ks<'_>, db: usize, key: &[u8], group: &[u8], consumer: &[u8], recs: &[[u8; 32]]) {
    let mut items: Vec<&[u8]> = vec![group, consumer];
    items.extend(recs.iter().map(|r| &r[..]));
    let now = ks.now as i64;
    with_ctx_op(ks, db, key, CollKind::XPel, (0, now), &items);
}

/// Serve a client blocked in XREAD/XREADGROUP on `key`, if it can be:
/// `None` when it must keep waiting, else its reply.
pub fn serve_stream(
    ks: &mut Ks<'_>,
    out: &mut Out,
    db: usize,
    key: &[u8],
    op: &BlockOp,
) -> Option<()> {
    let BlockOp::XRead {
        streams,
        group,
        count,
    } = op
    else {
        return None;
    };
    let w = streams.iter().find(|w| &w.key[..] == key)?;
    let Some(Value::Stream(st)) = ks.peek(db, key).map(|e| &e.value) else {
        return None;
    };
    if let Some((g, _, _)) = group {
        if !st.groups.contains_key(g) {
            out.err("NOGROUP the consumer group this client was blocked on no longer exists");
            return Some(());
        }
    }
    if !servable(st, w.gt, group.as_ref().map(|(g, _, _)| &g[..])) {
        return None;
    }
    keyed_header(out, 1);
    let g = group.as_ref().map(|(g, c, n)| (&g[..], &c[..], *n));
    serve_one(ks, out, db, w, g, *count);
    Some(())
}
