//! The blocking pops: BLPOP, BRPOP, BLMOVE, BRPOPLPUSH, BLMPOP, BZPOPMIN,
//! BZPOPMAX, BZMPOP. With data they answer like their non-blocking twins;
//! without, they park the client ([`crate::kv::blocking`]) unless they run
//! inside MULTI/EXEC, where they answer as a timeout at once, as Redis.
//! [`serve_ready`] runs after every top-level command that made a waited-on
//! key ready: it serves the waiters of each such key in the order they
//! blocked, each pop a record of its own in the log (as Redis propagates
//! the LPOP / LMOVE / ZPOPMIN it did for them), and hands each reply to the
//! loop that owns the client through the round's outbox.

use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use super::arg::{self, is};
use super::coll::Answered;
use super::lists::{self, first_list, move_one, side};
use super::zsets::{self, first_zset, reply_key_pairs};
use super::{BLOCKING, CommandSpec, Ctx, DENYOOM, FAST, NOSCRIPT, WRITE, spec};
use crate::kv::blocking::{BlockOp, Parked, Waiter, Wants};
use crate::kv::keyspace::Ks;
use crate::kv::reply::Out;
use crate::kv::shared::{CmdStat, Msg};
use crate::kv::value::{Value, WRONGTYPE};

const G: &str = "list";
const GZ: &str = "sorted-set";

/// The blocking family.
pub static COMMANDS: &[CommandSpec] = &[
    spec(
        "blpop",
        -3,
        WRITE | NOSCRIPT | BLOCKING,
        (1, -2, 1),
        G,
        "2.0.0",
        "Remove and get the first element in a list, or block until one is available.",
        "key [key ...] timeout",
        blpop,
    ),
    spec(
        "brpop",
        -3,
        WRITE | NOSCRIPT | BLOCKING,
        (1, -2, 1),
        G,
        "2.0.0",
        "Remove and get the last element in a list, or block until one is available.",
        "key [key ...] timeout",
        brpop,
    ),
    spec(
        "blmove",
        6,
        WRITE | DENYOOM | NOSCRIPT | BLOCKING,
        (1, 2, 1),
        G,
        "6.2.0",
        "Pop an element from a list, push it to another list and return it; or block until one is available.",
        "source destination LEFT|RIGHT LEFT|RIGHT timeout",
        blmove,
    ),
    spec(
        "brpoplpush",
        4,
        WRITE | DENYOOM | NOSCRIPT | BLOCKING,
        (1, 2, 1),
        G,
        "2.2.0",
        "Pop an element from a list, push it to another list and return it; or block until one is available.",
        "source destination timeout",
        brpoplpush,
    ),
    spec(
        "blmpop",
        -5,
        WRITE | BLOCKING,
        (0, 0, 0),
        G,
        "7.0.0",
        "Pop elements from a list, or block until one is available.",
        "timeout numkeys key [key ...] LEFT|RIGHT [COUNT count]",
        blmpop,
    )
    .numkeys_at(2),
    spec(
        "bzpopmin",
        -3,
        WRITE | NOSCRIPT | FAST | BLOCKING,
        (1, -2, 1),
        GZ,
        "5.0.0",
        "Remove and return the member with the lowest score from one or more sorted sets, or block until one is available.",
        "key [key ...] timeout",
        bzpopmin,
    ),
    spec(
        "bzpopmax",
        -3,
        WRITE | NOSCRIPT | FAST | BLOCKING,
        (1, -2, 1),
        GZ,
        "5.0.0",
        "Remove and return the member with the highest score from one or more sorted sets, or block until one is available.",
        "key [key ...] timeout",
        bzpopmax,
    ),
    spec(
        "bzmpop",
        -5,
        WRITE | BLOCKING,
        (0, 0, 0),
        GZ,
        "7.0.0",
        "Remove and return members with scores in a sorted set or block until one is available.",
        "timeout numkeys key [key ...] MIN|MAX [COUNT count]",
        bzmpop,
    )
    .numkeys_at(2),
];

/// A blocking timeout in seconds (fractions allowed; 0: for ever), as the
/// instant to give up at, or the error answered.
pub fn timeout_arg(out: &mut Out, a: &[u8]) -> Option<Option<Instant>> {
    let Some(secs) = arg::parse_float(a) else {
        out.err("ERR timeout is not a float or out of range");
        return None;
    };
    if secs < 0.0 {
        out.err("ERR timeout is negative");
        return None;
    }
    let ms = (secs * 1000.0).ceil();
    if ms == 0.0 {
        return Some(None);
    }
    // Beyond any real wait (or an overflow): for ever.
    Some(Instant::now().checked_add(Duration::from_millis(ms.min(1e15) as u64)))
}

/// Park the client on `keys` (or, inside MULTI, answer as a timeout).
/// `cmd` is the command's name as sent (its INFO commandstats entry counts
/// an error it is unblocked with).
pub fn park(ctx: &mut Ctx<'_>, cmd: &[u8], keys: &[&[u8]], op: BlockOp, deadline: Option<Instant>) {
    if ctx.ks.nested() {
        ctx.out.null_array();
        return;
    }
    let mut uniq: Vec<Box<[u8]>> = Vec::with_capacity(keys.len());
    for k in keys {
        if !uniq.iter().any(|u| &u[..] == *k) {
            uniq.push((*k).into());
        }
    }
    let w = Waiter {
        client: ctx.sess.id,
        worker: ctx.sess.handle.worker,
        resp3: ctx.out.resp3,
        db: ctx.db(),
        keys: uniq,
        op,
        cmd: super::lookup_idx(cmd).map_or(usize::MAX, |(i, _)| i),
        seq: 0,
    };
    ctx.ks.block(w);
    ctx.sess.blocked = Some(Parked { deadline });
    ctx.sess.handle.blocked.store(true, Ordering::Relaxed);
}

fn blpop(ctx: &mut Ctx<'_>, a: &[&[u8]]) {
    let front = is(a[0], "blpop");
    let Some(deadline) = timeout_arg(ctx.out, a[a.len() - 1]) else {
        return;
    };
    let keys = &a[1..a.len() - 1];
    match first_list(ctx, keys) {
        Err(Answered) => {}
        Ok(Some(k)) => {
            let db = ctx.db();
            let v = lists::pop(&mut ctx.ks, db, k, front, 1);
            ctx.out.array(2);
            ctx.out.bulk(k);
            ctx.out.bulk_opt(v.first().map(|v| &v[..]));
        }
        Ok(None) => park(
            ctx,
            a[0],
            keys,
            BlockOp::Pop { front, count: None },
            deadline,
        ),
    }
}

use blpop as brpop;

fn blmove(ctx: &mut Ctx<'_>, a: &[&[u8]]) {
    let (from_front, to_front, t) = if is(a[0], "brpoplpush") {
        (false, true, a[3])
    } else {
        let Some(f) = side(ctx.out, a[3]) else {
            return;
        };
        let Some(t) = side(ctx.out, a[4]) else {
            return;
        };
        (f, t, a[5])
    };
    let Some(deadline) = timeout_arg(ctx.out, t) else {
        return;
    };
    match lists::check_move(ctx, a[1], a[2]) {
        Err(Answered) => {}
        Ok(true) => {
            let db = ctx.db();
            let v = move_one(&mut ctx.ks, db, a[1], a[2], from_front, to_front);
            ctx.out.bulk_opt(v.as_deref());
        }
        Ok(false) if ctx.ks.nested() => ctx.out.null(),
        Ok(false) => {
            let op = BlockOp::Move {
                dst: a[2].into(),
                from_front,
                to_front,
            };
            park(ctx, a[0], &a[1..2], op, deadline);
        }
    }
}

use blmove as brpoplpush;

fn blmpop(ctx: &mut Ctx<'_>, a: &[&[u8]]) {
    let Some(deadline) = timeout_arg(ctx.out, a[1]) else {
        return;
    };
    let Some((keys, front, count)) = lists::mpop_args(ctx.out, a, 2) else {
        return;
    };
    match first_list(ctx, &keys) {
        Err(Answered) => {}
        Ok(Some(k)) => {
            let db = ctx.db();
            let items = lists::pop(&mut ctx.ks, db, k, front, count);
            lists::reply_key_items(ctx.out, k, &items);
        }
        Ok(None) => {
            let op = BlockOp::Pop {
                front,
                count: Some(count),
            };
            park(ctx, a[0], &keys, op, deadline);
        }
    }
}

fn bzpopmin(ctx: &mut Ctx<'_>, a: &[&[u8]]) {
    let max = is(a[0], "bzpopmax");
    let Some(deadline) = timeout_arg(ctx.out, a[a.len() - 1]) else {
        return;
    };
    let keys = &a[1..a.len() - 1];
    match first_zset(ctx, keys) {
        Err(Answered) => {}
        Ok(Some(k)) => {
            let db = ctx.db();
            let items = zsets::pop(&mut ctx.ks, db, k, max, 1);
            reply_key_member(ctx.out, k, &items);
        }
        Ok(None) => park(
            ctx,
            a[0],
            keys,
            BlockOp::ZPop { max, count: None },
            deadline,
        ),
    }
}

use bzpopmin as bzpopmax;

/// `[key, member, score]`: BZPOPMIN's reply.
fn reply_key_member(out: &mut Out, key: &[u8], items: &[(Box<[u8]>, f64)]) {
    match items.first() {
        Some((m, s)) => {
            out.array(3);
            out.bulk(key);
            out.bulk(m);
            out.double(*s);
        }
        None => out.null_array(),
    }
}

fn bzmpop(ctx: &mut Ctx<'_>, a: &[&[u8]]) {
    let Some(deadline) = timeout_arg(ctx.out, a[1]) else {
        return;
    };
    let Some((keys, max, count)) = zsets::mpop_args(ctx.out, a, 2) else {
        return;
    };
    match first_zset(ctx, &keys) {
        Err(Answered) => {}
        Ok(Some(k)) => {
            let db = ctx.db();
            let items = zsets::pop(&mut ctx.ks, db, k, max, count);
            reply_key_pairs(ctx.out, k, &items);
        }
        Ok(None) => {
            let op = BlockOp::ZPop {
                max,
                count: Some(count),
            };
            park(ctx, a[0], &keys, op, deadline);
        }
    }
}

/// Serve the clients blocked on every ready key (see the module doc).
pub fn serve_ready(ctx: &mut Ctx<'_>) {
    while let Some((db, key)) = ctx.ks.space.blocking.take_ready() {
        let mut i = 0;
        while let Some(id) = ctx.ks.space.blocking.nth(db, &key, i) {
            let holds = match ctx.ks.peek(db, &key).map(|e| &e.value) {
                Some(Value::List(_)) => Some(Wants::List),
                Some(Value::ZSet(_)) => Some(Wants::ZSet),
                Some(Value::Stream(_)) => Some(Wants::Stream),
                _ => None,
            };
            let Some(op) = ctx.ks.space.blocking.waiter(id).map(|w| w.op.clone()) else {
                break;
            };
            let group_reader = matches!(&op, BlockOp::XRead { group: Some(_), .. });
            if group_reader && holds != Some(Wants::Stream) {
                // Its stream was deleted, replaced or swapped away (Redis 7.0).
                if let Some(w) = ctx.ks.unblock(id) {
                    let msg = b"-UNBLOCKED the stream key no longer exists\r\n".to_vec();
                    ctx.srv.errors.count(&msg);
                    count_failed(ctx, &w);
                    ctx.outbox.push((w.worker, Msg::Unblock(w.client, msg)));
                }
                continue;
            }
            let Some(holds) = holds else {
                i += 1;
                continue;
            };
            if op.wants() != holds {
                i += 1;
                continue;
            }
            if holds == Wants::Stream {
                let Some(w) = ctx.ks.space.blocking.waiter(id) else {
                    break;
                };
                let (resp3, client) = (w.resp3, w.client);
                if !ctx.srv.registry.contains(client) {
                    // Gone: nothing is delivered to it; its loop unblocks it.
                    i += 1;
                    continue;
                }
                let mut out = Out {
                    resp3,
                    ..Out::default()
                };
                ctx.ks.begin();
                let served = super::xread::serve_stream(&mut ctx.ks, &mut out, db, &key, &op);
                ctx.ks.end();
                if served.is_none() {
                    i += 1;
                    continue;
                }
                let failed = out.buf.first() == Some(&b'-');
                if failed {
                    ctx.srv.errors.count(&out.buf);
                }
                if let Some(w) = ctx.ks.unblock(id) {
                    if failed {
                        count_failed(ctx, &w);
                    }
                    ctx.outbox.push((w.worker, Msg::Unblock(w.client, out.buf)));
                }
                continue;
            }
            let Some(w) = ctx.ks.unblock(id) else {
                break;
            };
            if !ctx.srv.registry.contains(w.client) {
                // It left and its loop has not taken it out yet (a busy
                // script held the store): nothing is popped for it.
                continue;
            }
            let mut out = Out {
                resp3: w.resp3,
                ..Out::default()
            };
            ctx.ks.begin();
            serve(&mut ctx.ks, &mut out, &w, &key);
            ctx.ks.end();
            ctx.outbox.push((w.worker, Msg::Unblock(w.client, out.buf)));
        }
    }
}

/// A blocked command answered with an error (its stream or group went
/// away, CLIENT UNBLOCK ERROR) failed: INFO commandstats counts it, as
/// Redis does on unblock.
fn count_failed(ctx: &Ctx<'_>, w: &Waiter) {
    if let Some(c) = ctx.calls.get(w.cmd) {
        CmdStat::bump(&c.failed);
    }
}

/// Do `w`'s pop from `key` (which holds data of the type it waits for).
fn serve(ks: &mut Ks<'_>, out: &mut Out, w: &Waiter, key: &[u8]) {
    match &w.op {
        BlockOp::Pop { front, count: None } => {
            let v = lists::pop(ks, w.db, key, *front, 1);
            out.array(2);
            out.bulk(key);
            out.bulk_opt(v.first().map(|v| &v[..]));
        }
        BlockOp::Pop {
            front,
            count: Some(n),
        } => {
            let items = lists::pop(ks, w.db, key, *front, *n);
            lists::reply_key_items(out, key, &items);
        }
        BlockOp::Move {
            dst,
            from_front,
            to_front,
        } => {
            let wrong = ks
                .lookup_write(w.db, dst)
                .is_some_and(|e| e.value.as_list().is_err());
            if wrong {
                out.err(WRONGTYPE);
                return;
            }
            let v = move_one(ks, w.db, key, dst, *from_front, *to_front);
            out.bulk_opt(v.as_deref());
        }
        BlockOp::ZPop { max, count: None } => {
            let items = zsets::pop(ks, w.db, key, *max, 1);
            reply_key_member(out, key, &items);
        }
        BlockOp::ZPop {
            max,
            count: Some(n),
        } => {
            let items = zsets::pop(ks, w.db, key, *max, *n);
            reply_key_pairs(out, key, &items);
        }
        BlockOp::XRead { .. } => {}
    }
}

/// The reply of a blocked client that timed out (or was unblocked with
/// `CLIENT UNBLOCK id TIMEOUT`): a null array, for every blocking pop.
pub fn timeout_reply(resp3: bool) -> Vec<u8> {
    let mut out = Out {
        resp3,
        ..Out::default()
    };
    out.null_array();
    out.buf
}

/// `CLIENT UNBLOCK id [TIMEOUT|ERROR]`: 1 if the client was blocked.
pub fn client_unblock(ctx: &mut Ctx<'_>, a: &[&[u8]]) {
    let Some(id) = arg::int(ctx.out, a[2]) else {
        return;
    };
    let error = match a.get(3) {
        None => false,
        Some(r) if is(r, "TIMEOUT") => false,
        Some(r) if is(r, "ERROR") => true,
        Some(_) => {
            ctx.out
                .err("ERR CLIENT UNBLOCK reason should be TIMEOUT or ERROR");
            return;
        }
    };
    if a.len() > 4 {
        ctx.out.err(arg::SYNTAX);
        return;
    }
    let Some(w) = ctx.ks.unblock(id as u64) else {
        ctx.out.int(0);
        return;
    };
    let reply = if error {
        let msg = b"-UNBLOCKED client unblocked via CLIENT UNBLOCK\r\n".to_vec();
        ctx.srv.errors.count(&msg);
        count_failed(ctx, &w);
        msg
    } else {
        timeout_reply(w.resp3)
    };
    ctx.outbox.push((w.worker, Msg::Unblock(w.client, reply)));
    ctx.out.int(1);
}
