//! XINFO STREAM [FULL [COUNT n]], XINFO GROUPS, XINFO CONSUMERS, XINFO
//! HELP, with Redis 7.0's fields. `radix-tree-keys` and
//! `radix-tree-nodes` report netkit's node count (Redis's rax internals
//! are not reproduced).

use super::arg::{NOT_INT, is};
use super::coll;
use super::streams::reply_entry;
use super::{CommandSpec, Ctx, LOADING, READONLY, STALE, spec};
use crate::kv::protocol::parse_int;
use crate::kv::reply::Out;
use crate::kv::types::stream::Group;
use crate::kv::types::{Stream, StreamId};
use crate::kv::value::Value;

static XINFO_SUBS: &[CommandSpec] = &[
    spec(
        "consumers",
        4,
        READONLY,
        (2, 2, 1),
        G,
        "5.0.0",
        "List the consumers in a consumer group.",
        "key group",
        xinfo,
    ),
    spec(
        "groups",
        3,
        READONLY,
        (2, 2, 1),
        G,
        "5.0.0",
        "List the consumer groups of a stream.",
        "key",
        xinfo,
    ),
    spec(
        "stream",
        -3,
        READONLY,
        (2, 2, 1),
        G,
        "5.0.0",
        "Get information about a stream.",
        "key [FULL [COUNT count]]",
        xinfo,
    ),
    spec(
        "help",
        2,
        LOADING | STALE,
        (0, 0, 0),
        G,
        "5.0.0",
        "Show helpful text about the different subcommands",
        "",
        xinfo,
    ),
];

/// The XINFO container.
pub static COMMANDS: &[CommandSpec] = &[CommandSpec {
    subcommands: XINFO_SUBS,
    ..spec(
        "xinfo",
        -2,
        0,
        (0, 0, 0),
        G,
        "5.0.0",
        "A container for stream introspection commands.",
        "CONSUMERS|GROUPS|STREAM|HELP ...",
        super::no_subcommand,
    )
}];

const G: &str = "stream";

const HELP: &[&str] = &[
    "XINFO <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "CONSUMERS <key> <groupname>",
    "    Show consumers of <groupname>.",
    "GROUPS <key>",
    "    Show the stream consumer groups.",
    "STREAM <key> [FULL [COUNT <count>]",
    "    Show information about the stream.",
    "HELP",
    "    Prints this help.",
];

fn id(out: &mut Out, id: StreamId) {
    out.bulk(id.fmt().as_bytes());
}

fn syntax(out: &mut Out, sub: &[u8]) {
    out.err(&format!(
        "ERR unknown subcommand or wrong number of arguments for '{}'. Try XINFO HELP.",
        String::from_utf8_lossy(sub)
    ));
}

fn xinfo(ctx: &mut Ctx<'_>, a: &[&[u8]]) {
    let sub = a[1];
    if is(sub, "help") {
        if a.len() != 2 {
            return ctx
                .out
                .err("ERR wrong number of arguments for 'xinfo|help' command");
        }
        ctx.out.array(HELP.len());
        for l in HELP {
            ctx.out.status(l);
        }
        return;
    }
    if a.len() < 3 {
        return syntax(ctx.out, sub);
    }
    let db = ctx.db();
    let now = ctx.ks.now;
    let Ok(st) = coll::read(&mut ctx.ks, ctx.out, db, a[2], Value::as_stream_mut) else {
        return;
    };
    let Some(st) = st else {
        return ctx.out.err("ERR no such key");
    };
    let out = &mut *ctx.out;
    if is(sub, "consumers") && a.len() == 4 {
        let Some(g) = st.groups.get(a[3]) else {
            return out.err(&format!(
                "NOGROUP No such consumer group '{}' for key name '{}'",
                String::from_utf8_lossy(a[3]),
                String::from_utf8_lossy(a[2])
            ));
        };
        out.array(g.consumers.len());
        for (name, c) in &g.consumers {
            out.map(3);
            out.bulk(b"name");
            out.bulk(name);
            out.bulk(b"pending");
            out.int(c.pel.len() as i64);
            out.bulk(b"idle");
            out.int(now.saturating_sub(c.seen) as i64);
        }
    } else if is(sub, "groups") && a.len() == 3 {
        out.array(st.groups.len());
        for (name, g) in &st.groups {
            out.map(6);
            out.bulk(b"name");
            out.bulk(name);
            out.bulk(b"consumers");
            out.int(g.consumers.len() as i64);
            out.bulk(b"pending");
            out.int(g.pel.len() as i64);
            out.bulk(b"last-delivered-id");
            id(out, g.last_id);
            entries_read_and_lag(out, st, g);
        }
    } else if is(sub, "stream") {
        stream_info(out, st, &a[3..], sub);
    } else {
        syntax(out, sub);
    }
}

fn entries_read_and_lag(out: &mut Out, st: &Stream, g: &Group) {
    out.bulk(b"entries-read");
    if g.entries_read >= 0 {
        out.int(g.entries_read);
    } else {
        out.null();
    }
    out.bulk(b"lag");
    match st.lag(g) {
        Some(l) => out.int(l),
        None => out.null(),
    }
}

fn stream_info(out: &mut Out, st: &Stream, opts: &[&[u8]], sub: &[u8]) {
    let mut count: usize = 10;
    let full = !opts.is_empty();
    if full {
        if (opts.len() != 1 && opts.len() != 3) || !is(opts[0], "full") {
            return syntax(out, sub);
        }
        if opts.len() == 3 {
            if !is(opts[1], "count") {
                return syntax(out, sub);
            }
            let Some(n) = parse_int(opts[2]) else {
                return out.err(NOT_INT);
            };
            count = if n < 0 { 10 } else { n as usize };
        }
    }
    let take = if count == 0 { usize::MAX } else { count };
    out.map(if full { 9 } else { 10 });
    out.bulk(b"length");
    out.int(st.len() as i64);
    out.bulk(b"radix-tree-keys");
    out.int(st.nodes.len() as i64);
    out.bulk(b"radix-tree-nodes");
    out.int(st.nodes.len() as i64 + 1);
    out.bulk(b"last-generated-id");
    id(out, st.last_id);
    out.bulk(b"max-deleted-entry-id");
    id(out, st.max_deleted);
    out.bulk(b"entries-added");
    out.int(st.entries_added as i64);
    out.bulk(b"recorded-first-entry-id");
    id(out, st.first_id());
    if !full {
        out.bulk(b"groups");
        out.int(st.groups.len() as i64);
        for (name, e) in [
            ("first-entry", st.entries.iter().next()),
            ("last-entry", st.entries.iter().next_back()),
        ] {
            out.bulk(name.as_bytes());
            match e {
                Some((i, f)) => reply_entry(out, *i, f),
                None => out.null(),
            }
        }
        return;
    }
    out.bulk(b"entries");
    let entries: Vec<_> = st.entries.iter().take(take).collect();
    out.array(entries.len());
    for (i, f) in entries {
        reply_entry(out, *i, f);
    }
    out.bulk(b"groups");
    out.array(st.groups.len());
    for (name, g) in &st.groups {
        out.map(7);
        out.bulk(b"name");
        out.bulk(name);
        out.bulk(b"last-delivered-id");
        id(out, g.last_id);
        entries_read_and_lag(out, st, g);
        out.bulk(b"pel-count");
        out.int(g.pel.len() as i64);
        out.bulk(b"pending");
        let pel: Vec<_> = g.pel.iter().take(take).collect();
        out.array(pel.len());
        for (i, p) in pel {
            out.array(4);
            id(out, *i);
            out.bulk(&p.consumer);
            out.int(p.time as i64);
            out.int(p.count as i64);
        }
        out.bulk(b"consumers");
        out.array(g.consumers.len());
        for (cname, c) in &g.consumers {
            out.map(4);
            out.bulk(b"name");
            out.bulk(cname);
            out.bulk(b"seen-time");
            out.int(c.seen as i64);
            out.bulk(b"pel-count");
            out.int(c.pel.len() as i64);
            out.bulk(b"pending");
            let ids: Vec<_> = c.pel.iter().take(take).collect();
            out.array(ids.len());
            for i in ids {
                let p = g.pel.get(i);
                out.array(3);
                id(out, *i);
                out.int(p.map_or(0, |p| p.time) as i64);
                out.int(p.map_or(0, |p| p.count) as i64);
            }
        }
    }
}
