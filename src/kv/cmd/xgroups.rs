//! Consumer-group commands: XGROUP, XACK, XPENDING, XCLAIM, XAUTOCLAIM.
//! Every change is an [`CollKind::XGroup`], [`CollKind::XConsumer`] or
//! [`CollKind::XPel`] op (claims log the delivery time and count they set),
//! so replay needs no clock. XREAD and XREADGROUP are in [`super::xread`].

use super::arg::{NOT_INT, SYNTAX, is};
use super::coll::{self, Answered};
use super::streams::{parse_id, reply_entry};
use super::{CommandSpec, Ctx, DENYOOM, FAST, LOADING, READONLY, STALE, WRITE, spec};
use crate::kv::aof::{CollKind, CollOp};
use crate::kv::keyspace::{Applied, Ks, pel_item};
use crate::kv::notify;
use crate::kv::protocol::parse_int;
use crate::kv::reply::Out;
use crate::kv::types::stream::Group;
use crate::kv::types::{Stream, StreamId};
use crate::kv::value::Value;

const G: &str = "stream";

macro_rules! xsub {
    ($name:expr, $arity:expr, $flags:expr, $keys:expr, $since:expr, $summary:expr, $syntax:expr) => {
        spec(
            $name, $arity, $flags, $keys, G, $since, $summary, $syntax, xgroup,
        )
    };
}

static XGROUP_SUBS: &[CommandSpec] = &[
    xsub!(
        "create",
        -5,
        WRITE | DENYOOM,
        (2, 2, 1),
        "5.0.0",
        "Create a consumer group.",
        "key group id|$ [MKSTREAM] [ENTRIESREAD entries-read]"
    ),
    xsub!(
        "createconsumer",
        5,
        WRITE | DENYOOM,
        (2, 2, 1),
        "6.2.0",
        "Create a consumer in a consumer group.",
        "key group consumer"
    ),
    xsub!(
        "delconsumer",
        5,
        WRITE,
        (2, 2, 1),
        "5.0.0",
        "Delete a consumer from a consumer group.",
        "key group consumer"
    ),
    xsub!(
        "destroy",
        4,
        WRITE,
        (2, 2, 1),
        "5.0.0",
        "Destroy a consumer group.",
        "key group"
    ),
    xsub!(
        "setid",
        -5,
        WRITE,
        (2, 2, 1),
        "5.0.0",
        "Set a consumer group to an arbitrary last delivered ID value.",
        "key group id|$ [ENTRIESREAD entries-read]"
    ),
    xsub!(
        "help",
        2,
        LOADING | STALE,
        (0, 0, 0),
        "5.0.0",
        "Show helpful text about the different subcommands",
        ""
    ),
];

/// The consumer-group family.
pub static COMMANDS: &[CommandSpec] = &[
    CommandSpec {
        subcommands: XGROUP_SUBS,
        ..spec(
            "xgroup",
            -2,
            0,
            (0, 0, 0),
            G,
            "5.0.0",
            "A container for consumer groups commands.",
            "CREATE|SETID|DESTROY|CREATECONSUMER|DELCONSUMER|HELP ...",
            super::no_subcommand,
        )
    },
    spec(
        "xack",
        -4,
        WRITE | FAST,
        (1, 1, 1),
        G,
        "5.0.0",
        "Marks a pending message as correctly processed.",
        "key group id [id ...]",
        xack,
    ),
    spec(
        "xpending",
        -3,
        READONLY,
        (1, 1, 1),
        G,
        "5.0.0",
        "Return information and entries from a stream consumer group pending entries list.",
        "key group [[IDLE min-idle-time] start end count [consumer]]",
        xpending,
    ),
    spec(
        "xclaim",
        -6,
        WRITE | FAST,
        (1, 1, 1),
        G,
        "5.0.0",
        "Changes (or acquires) ownership of a message in a consumer group.",
        "key group consumer min-idle-time id [id ...] [IDLE ms] [TIME ms] [RETRYCOUNT n] [FORCE] [JUSTID] [LASTID id]",
        xclaim,
    ),
    spec(
        "xautoclaim",
        -6,
        WRITE | FAST,
        (1, 1, 1),
        G,
        "6.2.0",
        "Changes ownership of pending messages idle for long enough, scanning the PEL like SCAN.",
        "key group consumer min-idle-time start [COUNT count] [JUSTID]",
        xautoclaim,
    ),
];

/// Apply a group op on the stream at `key`.
pub fn group_op(
    ctx: &mut Ctx<'_>,
    db: usize,
    key: &[u8],
    kind: CollKind,
    ab: (i64, i64),
    items: &[&[u8]],
) -> Applied {
    ctx.ks.coll(CollOp {
        a: ab.0,
        b: ab.1,
        ..CollOp::items(kind, db, key, items)
    })
}

/// The stream at `key` for a write; `Err` after WRONGTYPE.
pub fn stream_w<'a>(
    ks: &'a mut Ks<'_>,
    out: &mut Out,
    db: usize,
    key: &[u8],
) -> Result<Option<&'a Stream>, Answered> {
    coll::write(ks, out, db, key, Value::as_stream)
}

/// `-NOGROUP No such key 'k' or consumer group 'g'` plus `tail`.
pub fn nogroup(out: &mut Out, key: &[u8], group: &[u8], tail: &str) {
    out.err(&format!(
        "NOGROUP No such key '{}' or consumer group '{}'{tail}",
        String::from_utf8_lossy(key),
        String::from_utf8_lossy(group)
    ));
}

fn group_of<'a>(st: Option<&'a Stream>, name: &[u8]) -> Option<&'a Group> {
    st?.groups.get(name)
}

/// Log that `consumer` of `group` was seen now, creating it (noted
/// `xgroup-createconsumer`) if new.
pub fn touch_consumer(
    ctx: &mut Ctx<'_>,
    db: usize,
    key: &[u8],
    group: &[u8],
    consumer: &[u8],
) -> bool {
    let now = ctx.ks.now as i64;
    let r = group_op(
        ctx,
        db,
        key,
        CollKind::XConsumer,
        (0, now),
        &[group, consumer],
    );
    if r.added > 0 {
        ctx.ks
            .notify(notify::STREAM, "xgroup-createconsumer", db, key);
    }
    r.added > 0
}

const XGROUP_HELP: &[&str] = &[
    "XGROUP <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "CREATE <key> <groupname> <id|$> [option]",
    "    Create a new consumer group. Options are:",
    "    * MKSTREAM",
    "      Create the empty stream if it does not exist.",
    "    * ENTRIESREAD entries_read",
    "      Set the group's entries_read counter (internal use).",
    "CREATECONSUMER <key> <groupname> <consumer>",
    "    Create a new consumer in the specified group.",
    "DELCONSUMER <key> <groupname> <consumer>",
    "    Remove the specified consumer.",
    "DESTROY <key> <groupname>",
    "    Remove the specified group.",
    "SETID <key> <groupname> <id|$> [ENTRIESREAD entries_read]",
    "    Set the current group ID and entries_read counter.",
    "HELP",
    "    Prints this help.",
];

fn sub_syntax(out: &mut Out, sub: &[u8], cmd: &str) {
    out.err(&format!(
        "ERR unknown subcommand or wrong number of arguments for '{}'. Try {cmd} HELP.",
        String::from_utf8_lossy(sub)
    ));
}

fn xgroup(ctx: &mut Ctx<'_>, a: &[&[u8]]) {
    let db = ctx.db();
    let sub = a[1];
    if is(sub, "help") && a.len() != 2 {
        return ctx
            .out
            .err("ERR wrong number of arguments for 'xgroup|help' command");
    }
    if a.len() == 2 && is(sub, "help") {
        ctx.out.array(XGROUP_HELP.len());
        for l in XGROUP_HELP {
            ctx.out.status(l);
        }
        return;
    }
    let (create, setid) = (is(sub, "create"), is(sub, "setid"));
    let mut mkstream = false;
    let mut read: i64 = -1;
    if a.len() >= 4 {
        let mut i = 5;
        while i < a.len() {
            if create && is(a[i], "mkstream") {
                mkstream = true;
                i += 1;
            } else if (create || setid) && is(a[i], "entriesread") && i + 1 < a.len() {
                match parse_int(a[i + 1]) {
                    None => return ctx.out.err(NOT_INT),
                    Some(n) if n < -1 => {
                        return ctx
                            .out
                            .err("ERR value for ENTRIESREAD must be positive or -1");
                    }
                    Some(n) => read = n,
                }
                i += 2;
            } else {
                return sub_syntax(ctx.out, sub, "XGROUP");
            }
        }
    } else {
        return sub_syntax(ctx.out, sub, "XGROUP");
    }
    let (key, group) = (a[2], a[3]);
    let Ok(st) = stream_w(&mut ctx.ks, ctx.out, db, key) else {
        return;
    };
    let last = st.map_or(StreamId::default(), |s| s.last_id);
    let exists = st.is_some();
    let has_group = group_of(st, group).is_some();
    if !mkstream {
        if !exists {
            return ctx.out.err(
                "ERR The XGROUP subcommand requires the key to exist. Note that for CREATE you may want to use the MKSTREAM option to create an empty stream automatically.",
            );
        }
        if !has_group && (setid || is(sub, "createconsumer") || is(sub, "delconsumer")) {
            return ctx.out.err(&format!(
                "NOGROUP No such consumer group '{}' for key name '{}'",
                String::from_utf8_lossy(group),
                String::from_utf8_lossy(key)
            ));
        }
    }
    let n = a.len();
    if create && (5..=8).contains(&n) {
        let id = if a[4] == b"$" {
            last
        } else {
            let Some(id) = parse_id(ctx.out, a[4], 0, true) else {
                return;
            };
            id
        };
        if has_group {
            return ctx.out.err("BUSYGROUP Consumer Group name already exists");
        }
        if !exists {
            let (z, n0) = (StreamId::default().to_bytes(), 0u64.to_be_bytes());
            ctx.ks
                .coll(CollOp::items(CollKind::XSetId, db, key, &[&z, &n0, &z]));
        }
        let (idb, rb) = (id.to_bytes(), read.to_be_bytes());
        group_op(ctx, db, key, CollKind::XGroup, (0, 0), &[group, &idb, &rb]);
        ctx.out.ok();
        ctx.ks.notify(notify::STREAM, "xgroup-create", db, key);
    } else if setid && (n == 5 || n == 7) {
        let id = if a[4] == b"$" {
            last
        } else {
            let Some(id) = parse_id(ctx.out, a[4], 0, false) else {
                return;
            };
            id
        };
        let (idb, rb) = (id.to_bytes(), read.to_be_bytes());
        group_op(ctx, db, key, CollKind::XGroup, (0, 0), &[group, &idb, &rb]);
        ctx.out.ok();
        ctx.ks.notify(notify::STREAM, "xgroup-setid", db, key);
    } else if is(sub, "destroy") && n == 4 {
        if has_group {
            group_op(ctx, db, key, CollKind::XGroup, (1, 0), &[group]);
            ctx.out.int(1);
            ctx.ks.notify(notify::STREAM, "xgroup-destroy", db, key);
            // Clients blocked in XREADGROUP on it get their error.
            ctx.ks.space.blocking.signal(db, key);
        } else {
            ctx.out.int(0);
        }
    } else if is(sub, "createconsumer") && n == 5 {
        let created = touch_consumer(ctx, db, key, group, a[4]);
        ctx.out.int(created as i64);
    } else if is(sub, "delconsumer") && n == 5 {
        let known = matches!(stream_w(&mut ctx.ks, ctx.out, db, key), Ok(Some(s))
            if s.groups.get(group).is_some_and(|g| g.consumers.contains_key(a[4])));
        if !known {
            return ctx.out.int(0);
        }
        let r = group_op(ctx, db, key, CollKind::XConsumer, (1, 0), &[group, a[4]]);
        ctx.ks.notify(notify::STREAM, "xgroup-delconsumer", db, key);
        ctx.out.int(r.removed as i64);
    } else {
        sub_syntax(ctx.out, sub, "XGROUP");
    }
}

fn xack(ctx: &mut Ctx<'_>, a: &[&[u8]]) {
    let db = ctx.db();
    let mut ids = Vec::with_capacity(a.len() - 3);
    for s in &a[3..] {
        let Some(id) = parse_id(ctx.out, s, 0, true) else {
            return;
        };
        ids.push(id.to_bytes());
    }
    let Ok(st) = stream_w(&mut ctx.ks, ctx.out, db, a[1]) else {
        return;
    };
    if group_of(st, a[2]).is_none() {
        return ctx.out.int(0);
    }
    let mut items: Vec<&[u8]> = vec![a[2], b""];
    items.extend(ids.iter().map(|b| &b[..]));
    let r = group_op(ctx, db, a[1], CollKind::XPel, (1, 0), &items);
    ctx.out.int(r.removed as i64);
}

/// Parse an interval bound (`(` exclusive); answers the error.
pub fn bound(out: &mut Out, s: &[u8], start: bool) -> Option<StreamId> {
    let missing = if start { 0 } else { u64::MAX };
    match s.strip_prefix(b"(") {
        Some(rest) if !rest.is_empty() => {
            let id = parse_id(out, rest, missing, true)?;
            let stepped = if start { id.next() } else { id.prev() };
            if stepped.is_none() {
                let which = if start { "start" } else { "end" };
                out.err(&format!("ERR invalid {which} ID for the interval"));
            }
            stepped
        }
        _ => parse_id(out, s, missing, false),
    }
}

fn xpending(ctx: &mut Ctx<'_>, a: &[&[u8]]) {
    let db = ctx.db();
    let n = a.len();
    if n != 3 && !(6..=9).contains(&n) {
        return ctx.out.err(SYNTAX);
    }
    let mut range = None;
    if n >= 6 {
        let mut at = 3;
        let mut minidle = 0;
        if is(a[3], "idle") {
            let Some(m) = parse_int(a[4]) else {
                return ctx.out.err(NOT_INT);
            };
            if n < 8 {
                return ctx.out.err(SYNTAX);
            }
            minidle = m;
            at = 5;
        }
        let Some(count) = parse_int(a[at + 2]) else {
            return ctx.out.err(NOT_INT);
        };
        let Some(start) = bound(ctx.out, a[at], true) else {
            return;
        };
        let Some(end) = bound(ctx.out, a[at + 1], false) else {
            return;
        };
        let consumer = a.get(at + 3).copied();
        if at + 4 < n {
            return ctx.out.err(SYNTAX);
        }
        range = Some((minidle, start, end, count.max(0) as usize, consumer));
    }
    let now = ctx.ks.now;
    let Ok(st) = coll::read(&mut ctx.ks, ctx.out, db, a[1], Value::as_stream_mut) else {
        return;
    };
    let Some(g) = st.and_then(|s| s.groups.get(a[2])) else {
        return nogroup(ctx.out, a[1], a[2], "");
    };
    let out = &mut *ctx.out;
    let Some((minidle, start, end, count, consumer)) = range else {
        out.array(4);
        out.int(g.pel.len() as i64);
        match (g.pel.first_key_value(), g.pel.last_key_value()) {
            (Some((f, _)), Some((l, _))) => {
                out.bulk(f.fmt().as_bytes());
                out.bulk(l.fmt().as_bytes());
                let busy: Vec<_> = g
                    .consumers
                    .iter()
                    .filter(|(_, c)| !c.pel.is_empty())
                    .collect();
                out.array(busy.len());
                for (name, c) in busy {
                    out.array(2);
                    out.bulk(name);
                    out.bulk(c.pel.len().to_string().as_bytes());
                }
            }
            _ => {
                out.null();
                out.null();
                out.null_array();
            }
        }
        return;
    };
    if start > end {
        return out.array(0);
    }
    let ids: Box<dyn Iterator<Item = &StreamId>> = match consumer {
        Some(c) => match g.consumers.get(c) {
            Some(c) => Box::new(c.pel.range(start..=end)),
            None => return out.array(0),
        },
        None => Box::new(g.pel.range(start..=end).map(|(id, _)| id)),
    };
    let rows: Vec<_> = ids
        .filter_map(|id| g.pel.get(id).map(|p| (id, p)))
        .filter(|(_, p)| minidle == 0 || now.saturating_sub(p.time) as i64 >= minidle)
        .take(count)
        .collect();
    out.array(rows.len());
    for (id, p) in rows {
        out.array(4);
        out.bulk(id.fmt().as_bytes());
        out.bulk(&p.consumer);
        out.int(now.saturating_sub(p.time) as i64);
        out.int(p.count as i64);
    }
}

/// What a claim changes: (id, delivery time, delivery count), and the
/// pending IDs whose entries are gone.
type Claims = (Vec<(StreamId, u64, u64)>, Vec<StreamId>);

/// Give the claimed entries to `consumer` and drop the deleted ones.
fn apply_claims(ctx: &mut Ctx<'_>, db: usize, a: &[&[u8]], claims: &Claims) {
    let (key, group, consumer) = (a[1], a[2], a[3]);
    if !claims.1.is_empty() {
        let gone: Vec<[u8; 16]> = claims.1.iter().map(|i| i.to_bytes()).collect();
        let mut items: Vec<&[u8]> = vec![group, b""];
        items.extend(gone.iter().map(|b| &b[..]));
        group_op(ctx, db, key, CollKind::XPel, (1, 0), &items);
    }
    if !claims.0.is_empty() {
        touch_consumer(ctx, db, key, group, consumer);
        let recs: Vec<[u8; 32]> = claims
            .0
            .iter()
            .map(|(i, t, c)| pel_item(*i, *t, *c))
            .collect();
        let mut items: Vec<&[u8]> = vec![group, consumer];
        items.extend(recs.iter().map(|b| &b[..]));
        let now = ctx.ks.now as i64;
        group_op(ctx, db, key, CollKind::XPel, (0, now), &items);
    }
}

fn reply_claimed(out: &mut Out, st: &Stream, claimed: &[(StreamId, u64, u64)], justid: bool) {
    out.array(claimed.len());
    for (id, _, _) in claimed {
        if justid {
            out.bulk(id.fmt().as_bytes());
        } else if let Some(f) = st.entries.get(id) {
            reply_entry(out, *id, f);
        }
    }
}

fn xclaim(ctx: &mut Ctx<'_>, a: &[&[u8]]) {
    let db = ctx.db();
    let now = ctx.ks.now;
    let Ok(st) = stream_w(&mut ctx.ks, ctx.out, db, a[1]) else {
        return;
    };
    if group_of(st, a[2]).is_none() {
        return nogroup(ctx.out, a[1], a[2], "");
    }
    let Some(minidle) = parse_int(a[4]).filter(|_| true) else {
        return ctx.out.err("ERR Invalid min-idle-time argument for XCLAIM");
    };
    let minidle = minidle.max(0) as u64;
    let mut ids = Vec::new();
    let mut j = 5;
    while j < a.len() {
        match super::streams::parse_id_ext(a[j], 0, true) {
            Some((id, true)) => ids.push(id),
            _ => break,
        }
        j += 1;
    }
    let (mut force, mut justid) = (false, false);
    let (mut time, mut retry): (Option<i64>, Option<i64>) = (None, None);
    let mut lastid = None;
    while j < a.len() {
        let more = j + 1 < a.len();
        let num = |s: &[u8]| parse_int(s);
        if is(a[j], "force") {
            force = true;
        } else if is(a[j], "justid") {
            justid = true;
        } else if more && (is(a[j], "idle") || is(a[j], "time") || is(a[j], "retrycount")) {
            let Some(v) = num(a[j + 1]) else {
                let what = if is(a[j], "retrycount") {
                    "ERR Invalid RETRYCOUNT option argument for XCLAIM"
                } else {
                    "ERR Invalid IDLE option argument for XCLAIM"
                };
                return ctx.out.err(what);
            };
            if is(a[j], "idle") {
                time = Some(now as i64 - v);
            } else if is(a[j], "time") {
                time = Some(v);
            } else {
                retry = Some(v);
            }
            j += 1;
        } else if more && is(a[j], "lastid") {
            let Some(id) = parse_id(ctx.out, a[j + 1], 0, true) else {
                return;
            };
            lastid = Some(id);
            j += 1;
        } else {
            return ctx.out.err(&format!(
                "ERR Unrecognized XCLAIM option '{}'",
                String::from_utf8_lossy(a[j])
            ));
        }
        j += 1;
    }
    let time = match time {
        Some(t) if t >= 0 && t as u64 <= now => t as u64,
        _ => now,
    };
    let Ok(Some(st)) = stream_w(&mut ctx.ks, ctx.out, db, a[1]) else {
        return;
    };
    let g = &st.groups[a[2]];
    let mut claims: Claims = (Vec::new(), Vec::new());
    for id in ids {
        let p = g.pel.get(&id);
        if !st.entries.contains_key(&id) {
            if p.is_some() && !claims.1.contains(&id) {
                claims.1.push(id);
            }
            continue;
        }
        if p.is_none() && !force {
            continue;
        }
        if let Some(p) = p {
            if minidle > 0 && now.saturating_sub(p.time) < minidle {
                continue;
            }
        }
        let old = p.map_or(0, |p| p.count);
        let count = match retry {
            Some(r) => r.max(0) as u64,
            None if justid => old,
            None => old + 1,
        };
        claims.0.retain(|c| c.0 != id);
        claims.0.push((id, time, count));
    }
    let gl = g.last_id;
    let raise = lastid.filter(|l| *l > gl);
    reply_claimed(ctx.out, st, &claims.0, justid);
    if let Some(l) = raise {
        let g = &st.groups[a[2]];
        let (idb, rb) = (l.to_bytes(), g.entries_read.to_be_bytes());
        group_op(ctx, db, a[1], CollKind::XGroup, (0, 0), &[a[2], &idb, &rb]);
    }
    apply_claims(ctx, db, a, &claims);
}

fn xautoclaim(ctx: &mut Ctx<'_>, a: &[&[u8]]) {
    let db = ctx.db();
    let now = ctx.ks.now;
    let Some(minidle) = parse_int(a[4]) else {
        return ctx
            .out
            .err("ERR Invalid min-idle-time argument for XAUTOCLAIM");
    };
    let minidle = minidle.max(0) as u64;
    let Some(start) = bound(ctx.out, a[5], true) else {
        return;
    };
    let (mut count, mut justid) = (100i64, false);
    let mut j = 6;
    while j < a.len() {
        if is(a[j], "count") && j + 1 < a.len() {
            match parse_int(a[j + 1]) {
                Some(c) if (1..=i64::MAX / 160).contains(&c) => count = c,
                Some(_) => return ctx.out.err("ERR COUNT must be > 0"),
                None => return ctx.out.err(NOT_INT),
            }
            j += 2;
        } else if is(a[j], "justid") {
            justid = true;
            j += 1;
        } else {
            return ctx.out.err(SYNTAX);
        }
    }
    let Ok(st) = stream_w(&mut ctx.ks, ctx.out, db, a[1]) else {
        return;
    };
    let Some((st, g)) = st.and_then(|s| s.groups.get(a[2]).map(|g| (s, g))) else {
        return nogroup(ctx.out, a[1], a[2], "");
    };
    let mut attempts = count.saturating_mul(10);
    let mut budget = count;
    let mut claims: Claims = (Vec::new(), Vec::new());
    let mut next = StreamId::default();
    let mut it = g.pel.range(start..);
    for (id, p) in it.by_ref() {
        if attempts == 0 || budget == 0 {
            next = *id;
            break;
        }
        attempts -= 1;
        if !st.entries.contains_key(id) {
            claims.1.push(*id);
            budget -= 1;
            continue;
        }
        if minidle > 0 && now.saturating_sub(p.time) < minidle {
            continue;
        }
        let c = if justid { p.count } else { p.count + 1 };
        claims.0.push((*id, now, c));
        budget -= 1;
    }
    let out = &mut *ctx.out;
    out.array(3);
    out.bulk(next.fmt().as_bytes());
    reply_claimed(out, st, &claims.0, justid);
    out.array(claims.1.len());
    for id in &claims.1 {
        out.bulk(id.fmt().as_bytes());
    }
    apply_claims(ctx, db, a, &claims);
}
