//! `CLIENT TRACKING|CACHING|GETREDIR|TRACKINGINFO` and the two points where
//! dispatch meets client-side caching: remembering what a tracking client
//! read ([`after_command`]) and sending the invalidations a command caused
//! ([`flush`]). The table itself is [`crate::kv::tracking`].

use super::arg::{self, is};
use super::{CommandSpec, Ctx, PUBSUB, READONLY};
use crate::kv::protocol::parse_int;
use crate::kv::shared::Msg;
use crate::kv::tracking::{BCAST, BROKEN, CACHING, NOLOOP, ON, OPTIN, OPTOUT};

/// `CLIENT TRACKING ON|OFF [REDIRECT id] [PREFIX p ...] [BCAST] [OPTIN]
/// [OPTOUT] [NOLOOP]`.
pub fn client_tracking(ctx: &mut Ctx<'_>, a: &[&[u8]]) {
    let mut redirect: u64 = 0;
    let mut opts = 0u8;
    let mut prefixes: Vec<&[u8]> = Vec::new();
    let mut j = 3;
    while j < a.len() {
        let more = j + 1 < a.len();
        if is(a[j], "REDIRECT") && more {
            j += 1;
            if redirect != 0 {
                ctx.out
                    .err("ERR A client can only redirect to a single other client");
                return;
            }
            let Some(id) = arg::int(ctx.out, a[j]) else {
                return;
            };
            if id <= 0 || !ctx.srv.registry.contains(id as u64) {
                ctx.out
                    .err("ERR The client ID you want redirect to does not exist");
                return;
            }
            redirect = id as u64;
        } else if is(a[j], "BCAST") {
            opts |= BCAST;
        } else if is(a[j], "OPTIN") {
            opts |= OPTIN;
        } else if is(a[j], "OPTOUT") {
            opts |= OPTOUT;
        } else if is(a[j], "NOLOOP") {
            opts |= NOLOOP;
        } else if is(a[j], "PREFIX") && more {
            j += 1;
            prefixes.push(a[j]);
        } else {
            ctx.out.err(arg::SYNTAX);
            return;
        }
        j += 1;
    }
    let id = ctx.sess.id;
    if is(a[2], "ON") {
        let t = &mut ctx.ks.space.tracking;
        match t.enable(&ctx.sess.handle, opts, redirect, &prefixes) {
            Ok(_) => ctx.sess.tracking = true,
            Err(e) => return ctx.out.err(&e),
        }
    } else if is(a[2], "OFF") {
        ctx.ks.space.tracking.disable(id);
        ctx.sess.tracking = false;
    } else {
        return ctx.out.err(arg::SYNTAX);
    }
    ctx.out.ok();
}

/// `CLIENT CACHING YES|NO`.
pub fn client_caching(ctx: &mut Ctx<'_>, a: &[&[u8]]) {
    let id = ctx.sess.id;
    let flags = ctx.ks.space.tracking.flags(id);
    if flags & ON == 0 {
        return ctx.out.err("ERR CLIENT CACHING can be called only when the client is in tracking mode with OPTIN or OPTOUT mode enabled");
    }
    if is(a[2], "YES") {
        if flags & OPTIN == 0 {
            return ctx.out.err(
                "ERR CLIENT CACHING YES is only valid when tracking is enabled in OPTIN mode.",
            );
        }
    } else if is(a[2], "NO") {
        if flags & OPTOUT == 0 {
            return ctx.out.err(
                "ERR CLIENT CACHING NO is only valid when tracking is enabled in OPTOUT mode.",
            );
        }
    } else {
        return ctx.out.err(arg::SYNTAX);
    }
    ctx.ks.space.tracking.set_caching(id, true);
    ctx.out.ok();
}

/// `CLIENT GETREDIR`: the redirect target, 0 without one, -1 when not tracking.
pub fn client_getredir(ctx: &mut Ctx<'_>, _a: &[&[u8]]) {
    let r = ctx
        .ks
        .space
        .tracking
        .client(ctx.sess.id)
        .map_or(-1, |c| c.redirect as i64);
    ctx.out.int(r);
}

/// `CLIENT TRACKINGINFO`: flags, redirect, prefixes.
pub fn client_trackinginfo(ctx: &mut Ctx<'_>, _a: &[&[u8]]) {
    let c = ctx.ks.space.tracking.client(ctx.sess.id);
    let flags = c.map_or(0, |c| c.flags);
    let mut names: Vec<&[u8]> = vec![if flags & ON != 0 { b"on" } else { b"off" }];
    for (bit, name, caching) in [
        (BCAST, &b"bcast"[..], None),
        (OPTIN, b"optin", Some(&b"caching-yes"[..])),
        (OPTOUT, b"optout", Some(b"caching-no")),
        (NOLOOP, b"noloop", None),
        (BROKEN, b"broken_redirect", None),
    ] {
        if flags & bit != 0 {
            names.push(name);
            if let (Some(cn), true) = (caching, flags & CACHING != 0) {
                names.push(cn);
            }
        }
    }
    ctx.out.map(3);
    ctx.out.bulk(b"flags");
    ctx.out.set(names.len());
    for n in names {
        ctx.out.bulk(n);
    }
    ctx.out.bulk(b"redirect");
    ctx.out.int(c.map_or(-1, |c| c.redirect as i64));
    ctx.out.bulk(b"prefixes");
    let prefixes = c.map(|c| c.prefixes.as_slice()).unwrap_or(&[]);
    ctx.out.array(prefixes.len());
    for p in prefixes {
        ctx.out.bulk(p);
    }
}

/// A tracking client's command ran (`spec`, `argv`): remember the keys it
/// read (default mode, OPTIN/OPTOUT as `CLIENT CACHING` says; a script's
/// declared keys when it read anything) and let a `CLIENT CACHING` lapse
/// after the command it was meant for (a whole transaction, as Redis).
#[cold]
#[inline(never)]
pub fn after_command(ctx: &mut Ctx<'_>, spec: &CommandSpec, argv: &[&[u8]]) {
    let id = ctx.sess.id;
    let outermost = ctx.ks.depth() == 0;
    let in_multi = ctx.sess.multi.is_some();
    let t = &mut ctx.ks.space.tracking;
    let flags = t.flags(id);
    if flags & ON == 0 {
        ctx.sess.tracking = false;
        return;
    }
    let script_read = std::mem::take(&mut t.script_read);
    // EVAL_RO and EVALSHA_RO are read-only but track only if the script reads.
    let read = (spec.flags & READONLY != 0 && !spec.name.starts_with("eval")) || script_read;
    let caching = flags & CACHING != 0;
    // OPTIN: only after CACHING YES; OPTOUT: unless CACHING NO.
    let wanted = if flags & OPTIN != 0 {
        caching
    } else {
        flags & OPTOUT == 0 || !caching
    };
    if read && wanted && flags & BCAST == 0 && spec.flags & PUBSUB == 0 {
        let pos = spec.key_positions(argv);
        t.remember(id, pos.iter().filter_map(|&p| argv.get(p).copied()));
    }
    if outermost && caching && !in_multi && !is(argv[0], "client") {
        t.set_caching(id, false);
    }
}

/// Send the invalidations the command just ended caused: the client's own
/// after its reply (into `ctx.out`), other clients' through the outbox.
pub fn flush(ctx: &mut Ctx<'_>) {
    let me = ctx.sess.id;
    let subscribed = ctx.sess.pubsub.active();
    let out = &mut *ctx.out;
    let outbox = &mut *ctx.outbox;
    ctx.ks
        .space
        .tracking
        .route(&ctx.srv.registry, |to, worker, m| {
            if to == me {
                m.deliver(subscribed, out);
            } else {
                outbox.push((worker, Msg::Track(to, m)));
            }
        });
}

/// `CONFIG SET tracking-table-max-keys`.
pub fn parse_max_keys(v: &[u8]) -> Option<usize> {
    parse_int(v).filter(|n| *n >= 0).map(|n| n as usize)
}
