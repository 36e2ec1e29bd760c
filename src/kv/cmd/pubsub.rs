//! Pub/sub commands: SUBSCRIBE UNSUBSCRIBE PSUBSCRIBE PUNSUBSCRIBE
//! SSUBSCRIBE SUNSUBSCRIBE PUBLISH SPUBLISH and PUBSUB
//! CHANNELS|NUMSUB|NUMPAT|SHARDCHANNELS|SHARDNUMSUB. The registry and the
//! delivery path are [`crate::kv::pubsub`]; RESP2 subscribe mode (only
//! these, PING, QUIT and RESET) is enforced by dispatch with
//! [`allowed_in_subscribe_mode`].

use std::sync::atomic::Ordering;

use super::{CommandSpec, Ctx, FAST, LOADING, NOSCRIPT, PUBSUB, STALE, spec};
use crate::kv::pubsub::{Kind, Sub};
use crate::kv::shared::Msg;

const G: &str = "pubsub";
const SUBF: u32 = PUBSUB | NOSCRIPT | LOADING | STALE;

static PUBSUB_SUBS: &[CommandSpec] = &[
    spec(
        "channels",
        -2,
        PUBSUB | LOADING | STALE,
        (0, 0, 0),
        G,
        "2.8.0",
        "Returns the active channels.",
        "[pattern]",
        pubsub,
    ),
    spec(
        "numsub",
        -2,
        PUBSUB | LOADING | STALE,
        (0, 0, 0),
        G,
        "2.8.0",
        "Returns a count of subscribers to channels.",
        "[channel [channel ...]]",
        pubsub,
    ),
    spec(
        "numpat",
        2,
        PUBSUB | LOADING | STALE,
        (0, 0, 0),
        G,
        "2.8.0",
        "Returns a count of unique pattern subscriptions.",
        "",
        pubsub,
    ),
    spec(
        "shardchannels",
        -2,
        PUBSUB | LOADING | STALE,
        (0, 0, 0),
        G,
        "7.0.0",
        "Returns the active shard channels.",
        "[pattern]",
        pubsub,
    ),
    spec(
        "shardnumsub",
        -2,
        PUBSUB | LOADING | STALE,
        (0, 0, 0),
        G,
        "7.0.0",
        "Returns the count of subscribers of shard channels.",
        "[shardchannel [shardchannel ...]]",
        pubsub,
    ),
    spec(
        "help",
        2,
        LOADING | STALE,
        (0, 0, 0),
        G,
        "6.2.0",
        "Returns helpful text about the different subcommands.",
        "",
        pubsub,
    ),
];

/// The pub/sub family.
pub static COMMANDS: &[CommandSpec] = &[
    spec(
        "subscribe",
        -2,
        SUBF,
        (0, 0, 0),
        G,
        "2.0.0",
        "Listens for messages published to channels.",
        "channel [channel ...]",
        subscribe,
    ),
    spec(
        "unsubscribe",
        -1,
        SUBF,
        (0, 0, 0),
        G,
        "2.0.0",
        "Stops listening to messages posted to channels.",
        "[channel [channel ...]]",
        unsubscribe,
    ),
    spec(
        "psubscribe",
        -2,
        SUBF,
        (0, 0, 0),
        G,
        "2.0.0",
        "Listens for messages published to channels that match one or more patterns.",
        "pattern [pattern ...]",
        subscribe,
    ),
    spec(
        "punsubscribe",
        -1,
        SUBF,
        (0, 0, 0),
        G,
        "2.0.0",
        "Stops listening to messages published to channels that match one or more patterns.",
        "[pattern [pattern ...]]",
        unsubscribe,
    ),
    spec(
        "ssubscribe",
        -2,
        SUBF,
        (1, -1, 1),
        G,
        "7.0.0",
        "Listens for messages published to shard channels.",
        "shardchannel [shardchannel ...]",
        subscribe,
    ),
    spec(
        "sunsubscribe",
        -1,
        SUBF,
        (1, -1, 1),
        G,
        "7.0.0",
        "Stops listening to messages posted to shard channels.",
        "[shardchannel [shardchannel ...]]",
        unsubscribe,
    ),
    spec(
        "publish",
        3,
        PUBSUB | LOADING | STALE | FAST,
        (0, 0, 0),
        G,
        "2.0.0",
        "Posts a message to a channel.",
        "channel message",
        publish,
    ),
    spec(
        "spublish",
        3,
        PUBSUB | LOADING | STALE | FAST,
        (1, 1, 1),
        G,
        "7.0.0",
        "Posts a message to a shard channel.",
        "shardchannel message",
        publish,
    ),
    CommandSpec {
        subcommands: PUBSUB_SUBS,
        ..spec(
            "pubsub",
            -2,
            0,
            (0, 0, 0),
            G,
            "2.8.0",
            "A container for Pub/Sub commands.",
            "CHANNELS|NUMSUB|NUMPAT|SHARDCHANNELS|SHARDNUMSUB|HELP ...",
            super::no_subcommand,
        )
    },
];

/// RESP2 subscribe mode lets only these through (Redis's list).
pub fn allowed_in_subscribe_mode(name: &str) -> bool {
    matches!(
        name,
        "subscribe"
            | "unsubscribe"
            | "psubscribe"
            | "punsubscribe"
            | "ssubscribe"
            | "sunsubscribe"
            | "ping"
            | "quit"
            | "reset"
    )
}

fn kind_of(name: &[u8]) -> Kind {
    let is = |w: &str| name.eq_ignore_ascii_case(w.as_bytes());
    if is("psubscribe") || is("punsubscribe") {
        Kind::Pattern
    } else if is("ssubscribe") || is("sunsubscribe") || is("spublish") {
        Kind::Shard
    } else {
        Kind::Channel
    }
}

fn me(ctx: &Ctx<'_>) -> Sub {
    Sub {
        worker: ctx.sess.handle.worker,
        client: ctx.sess.id,
    }
}

fn confirm(ctx: &mut Ctx<'_>, verb: &[u8], name: Option<&[u8]>, count: usize) {
    let start = ctx.out.buf.len();
    ctx.out.push(3);
    ctx.out.bulk(verb);
    ctx.out.bulk_opt(name);
    ctx.out.int(count as i64);
    ctx.out.pushed(start);
}

/// Show the session's subscription counts to `CLIENT LIST`.
fn mirror(ctx: &Ctx<'_>) {
    let s = &ctx.sess.pubsub;
    let counts = [s.channels.len(), s.patterns.len(), s.shard.len()];
    for (n, c) in ctx.sess.handle.subs.iter().zip(counts) {
        n.store(c, Ordering::Relaxed);
    }
}

fn subscribe(ctx: &mut Ctx<'_>, a: &[&[u8]]) {
    let kind = kind_of(a[0]);
    let sub = me(ctx);
    for name in &a[1..] {
        let n = ctx
            .srv
            .pubsub
            .subscribe(&mut ctx.sess.pubsub, kind, name, sub);
        confirm(ctx, kind.verbs().0, Some(name), n);
    }
    mirror(ctx);
}

/// Leave every subscription of `kind`, confirming each (or once with a
/// null name when there was none).
fn unsubscribe_all(ctx: &mut Ctx<'_>, kind: Kind, confirm_each: bool) {
    let names: Vec<Box<[u8]>> = ctx.sess.pubsub.set(kind).iter().cloned().collect();
    let id = ctx.sess.id;
    if names.is_empty() && confirm_each {
        let n = ctx.sess.pubsub.count(kind);
        confirm(ctx, kind.verbs().1, None, n);
    }
    for name in names {
        let n = ctx
            .srv
            .pubsub
            .unsubscribe(&mut ctx.sess.pubsub, kind, &name, id);
        if confirm_each {
            confirm(ctx, kind.verbs().1, Some(&name), n);
        }
    }
}

fn unsubscribe(ctx: &mut Ctx<'_>, a: &[&[u8]]) {
    let kind = kind_of(a[0]);
    if a.len() == 1 {
        unsubscribe_all(ctx, kind, true);
        mirror(ctx);
        return;
    }
    let id = ctx.sess.id;
    for name in &a[1..] {
        let n = ctx
            .srv
            .pubsub
            .unsubscribe(&mut ctx.sess.pubsub, kind, name, id);
        confirm(ctx, kind.verbs().1, Some(name), n);
    }
    mirror(ctx);
}

/// Drop every subscription silently (RESET).
pub fn reset(ctx: &mut Ctx<'_>) {
    for kind in [Kind::Channel, Kind::Pattern, Kind::Shard] {
        unsubscribe_all(ctx, kind, false);
    }
    mirror(ctx);
}

fn publish(ctx: &mut Ctx<'_>, a: &[&[u8]]) {
    let kind = if kind_of(a[0]) == Kind::Shard {
        Kind::Shard
    } else {
        Kind::Channel
    };
    let id = ctx.sess.id;
    let outbox = &mut *ctx.outbox;
    let mut own = Vec::new();
    let n = ctx.srv.pubsub.publish(kind, a[1], a[2], |s, m| {
        if s.client == id {
            own.push(m); // a RESP3 client publishing to itself: before the reply
        } else {
            outbox.push((s.worker, Msg::Push(s.client, m)));
        }
    });
    for m in own {
        m.deliver(&ctx.sess.pubsub, ctx.out);
    }
    ctx.out.int(n as i64);
}

fn pubsub(ctx: &mut Ctx<'_>, a: &[&[u8]]) {
    let sub = String::from_utf8_lossy(a[1]).to_ascii_lowercase();
    let kind = if sub.starts_with("shard") {
        Kind::Shard
    } else {
        Kind::Channel
    };
    match sub.as_str() {
        "channels" | "shardchannels" => {
            if a.len() > 3 {
                super::arity_error(ctx.out, &format!("pubsub|{sub}"));
                return;
            }
            let list = ctx.srv.pubsub.channels(kind, a.get(2).copied());
            ctx.out.array(list.len());
            for c in list {
                ctx.out.bulk(&c);
            }
        }
        "numsub" | "shardnumsub" => {
            ctx.out.array(2 * (a.len() - 2));
            for c in &a[2..] {
                ctx.out.bulk(c);
                let n = ctx.srv.pubsub.numsub(kind, c);
                ctx.out.int(n as i64);
            }
        }
        "numpat" => {
            let n = ctx.srv.pubsub.numpat();
            ctx.out.int(n as i64);
        }
        _ => super::keys::help(
            ctx,
            &[
                "PUBSUB <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
                "CHANNELS [<pattern>]",
                "    Return the currently active channels matching a <pattern> (default: '*').",
                "NUMPAT",
                "    Return number of subscriptions to patterns.",
                "NUMSUB [<channel> ...]",
                "    Return the number of subscribers for the specified channels, excluding",
                "    pattern subscriptions(default: no channels).",
                "SHARDCHANNELS [<pattern>]",
                "    Return the currently active shard level channels matching a <pattern> (default: '*').",
                "SHARDNUMSUB [<shardchannel> ...]",
                "    Return the number of subscribers for the specified shard level channel(s)",
                "HELP",
                "    Prints this help.",
            ],
        ),
    }
}
