//! MULTI, EXEC, DISCARD, WATCH, UNWATCH with Redis's semantics: a command
//! that fails to queue aborts EXEC with EXECABORT; a watched key changed by
//! anyone (expiry included) makes EXEC answer nil; EXEC runs the queue
//! atomically (the store lock is held for the round) and logs it as one
//! record, so nothing of an aborted or failed transaction is applied.

use super::{CommandSpec, Ctx, FAST, LOADING, NO_QUEUE, NOSCRIPT, STALE, WRITE, spec};

const G: &str = "transactions";
const F: u32 = NOSCRIPT | LOADING | STALE | FAST;

/// The transactions family.
pub static COMMANDS: &[CommandSpec] = &[
    spec(
        "multi",
        1,
        F | NO_QUEUE,
        (0, 0, 0),
        G,
        "1.2.0",
        "Starts a transaction.",
        "",
        multi,
    ),
    spec(
        "exec",
        1,
        NOSCRIPT | LOADING | STALE | NO_QUEUE,
        (0, 0, 0),
        G,
        "1.2.0",
        "Executes all commands in a transaction.",
        "",
        exec,
    ),
    spec(
        "discard",
        1,
        F | NO_QUEUE,
        (0, 0, 0),
        G,
        "2.0.0",
        "Discards a transaction.",
        "",
        discard,
    ),
    spec(
        "watch",
        -2,
        F | NO_QUEUE,
        (1, -1, 1),
        G,
        "2.2.0",
        "Monitors changes to keys to determine the execution of a transaction.",
        "key [key ...]",
        watch,
    ),
    spec(
        "unwatch",
        1,
        F,
        (0, 0, 0),
        G,
        "2.2.0",
        "Forgets about watched keys of a transaction.",
        "",
        unwatch,
    ),
];

fn multi(ctx: &mut Ctx<'_>, _a: &[&[u8]]) {
    if ctx.sess.multi.is_some() {
        ctx.out.err("ERR MULTI calls can not be nested");
        return;
    }
    ctx.sess.multi = Some(Vec::new());
    ctx.sess.multi_error = false;
    ctx.sess.handle.set_multi(Some(0));
    ctx.out.ok();
}

/// Leave MULTI and forget watches.
pub fn reset_multi(ctx: &mut Ctx<'_>) {
    ctx.sess.multi = None;
    ctx.sess.multi_error = false;
    ctx.sess.handle.set_multi(None);
    unwatch_all(ctx);
}

/// Forget every watched key of the client, and a WATCH made while a
/// script was busy.
pub fn unwatch_all(ctx: &mut Ctx<'_>) {
    ctx.sess.watch_dirty = false;
    release_watched(ctx);
}

/// Let the key space forget the client's watched keys.
pub fn release_watched(ctx: &mut Ctx<'_>) {
    let keys = std::mem::take(&mut ctx.sess.watched);
    ctx.ks.space.unwatch(ctx.sess.id, &keys);
}

fn exec(ctx: &mut Ctx<'_>, _a: &[&[u8]]) {
    let Some(queue) = ctx.sess.multi.take() else {
        ctx.out.err("ERR EXEC without MULTI");
        return;
    };
    let aborted = ctx.sess.multi_error;
    let watch_failed = ctx.sess.watch_dirty
        || ctx
            .ks
            .space
            .watch_failed(ctx.sess.id, &ctx.sess.watched, ctx.ks.now);
    reset_multi(ctx);
    if aborted {
        ctx.out
            .err("EXECABORT Transaction discarded because of previous errors.");
        return;
    }
    if watch_failed {
        ctx.out.null_array();
        return;
    }
    if queued_any(&queue, WRITE) {
        if let Some(why) = super::write_refused(ctx) {
            ctx.out.err(&format!(
                "EXECABORT Transaction discarded because of: {why}"
            ));
            return;
        }
    }
    ctx.out.array(queue.len());
    // While EXEC runs, CLIENT LIST still shows the transaction (flag x,
    // multi=N), as Redis does.
    ctx.sess.handle.set_multi(Some(queue.len()));
    for q in &queue {
        let argv: Vec<&[u8]> = q.iter().map(|v| v.as_slice()).collect();
        let at = ctx.out.buf.len();
        super::dispatch(ctx, &argv);
        // Each error in EXEC's reply counts, as Redis counts them.
        super::count_error(ctx, at);
    }
    ctx.sess.handle.set_multi(None);
}

/// True when a queued command (or subcommand) has one of `flags`.
pub fn queued_any(queue: &[Vec<Vec<u8>>], flags: u32) -> bool {
    queue.iter().any(|q| {
        super::lookup(&q[0]).is_some_and(|s| {
            let s = if s.subcommands.is_empty() {
                Some(s)
            } else {
                q.get(1).and_then(|n| super::lookup_sub(s, n))
            };
            s.is_some_and(|s| s.flags & flags != 0)
        })
    })
}

fn discard(ctx: &mut Ctx<'_>, _a: &[&[u8]]) {
    if ctx.sess.multi.is_none() {
        ctx.out.err("ERR DISCARD without MULTI");
        return;
    }
    reset_multi(ctx);
    ctx.out.ok();
}

fn watch(ctx: &mut Ctx<'_>, a: &[&[u8]]) {
    if ctx.sess.multi.is_some() {
        ctx.out.err("ERR WATCH inside MULTI is not allowed");
        return;
    }
    let db = ctx.db();
    for k in &a[1..] {
        if ctx.ks.space.watch(db, k, ctx.sess.id, ctx.ks.now) {
            ctx.sess.watched.push((db, (*k).into()));
        }
    }
    ctx.out.ok();
}

fn unwatch(ctx: &mut Ctx<'_>, _a: &[&[u8]]) {
    unwatch_all(ctx);
    ctx.out.ok();
}
