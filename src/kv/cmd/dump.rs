//! DUMP and RESTORE: a key's value as an opaque payload and back
//! ([`crate::kv::dump`] is the format), with Redis 7.0's options, checks
//! and error texts. RESTORE writes through [`Ks::put`](crate::kv::keyspace::Ks::put),
//! so it is logged as its effect (the value with an absolute expiry, one
//! record), fails the EXEC of clients watching the key and serves clients
//! blocked on a restored list or sorted set.

use super::arg::{self, SYNTAX, is};
use super::{CommandSpec, Ctx, DENYOOM, READONLY, WRITE, spec};
use crate::kv::dump::{self, Bad};

const G: &str = "generic";

/// The table entries.
pub static COMMANDS: &[CommandSpec] = &[
    spec(
        "dump",
        2,
        READONLY,
        (1, 1, 1),
        G,
        "2.6.0",
        "Returns a serialized representation of the value stored at a key.",
        "key",
        dump_,
    ),
    spec(
        "restore",
        -4,
        WRITE | DENYOOM,
        (1, 1, 1),
        G,
        "2.6.0",
        "Creates a key from the serialized representation of a value.",
        "key ttl serialized-value [REPLACE] [ABSTTL] [IDLETIME seconds] [FREQ frequency]",
        restore,
    ),
];

fn dump_(ctx: &mut Ctx<'_>, a: &[&[u8]]) {
    let db = ctx.db();
    match ctx.ks.read(db, a[1]) {
        None => ctx.out.null(),
        Some(e) => {
            let p = dump::encode(&e.value);
            ctx.out.bulk(&p);
        }
    }
}

fn restore(ctx: &mut Ctx<'_>, a: &[&[u8]]) {
    let (mut replace, mut absttl) = (false, false);
    let (mut idle, mut freq): (Option<i64>, Option<i64>) = (None, None);
    let mut j = 4;
    while j < a.len() {
        let more = j + 1 < a.len();
        if is(a[j], "replace") {
            replace = true;
        } else if is(a[j], "absttl") {
            absttl = true;
        } else if is(a[j], "idletime") && more && freq.is_none() {
            let Some(n) = arg::int(ctx.out, a[j + 1]) else {
                return;
            };
            if n < 0 {
                ctx.out.err("ERR Invalid IDLETIME value, must be >= 0");
                return;
            }
            idle = Some(n);
            j += 1;
        } else if is(a[j], "freq") && more && idle.is_none() {
            let Some(n) = arg::int(ctx.out, a[j + 1]) else {
                return;
            };
            if !(0..=255).contains(&n) {
                ctx.out
                    .err("ERR Invalid FREQ value, must be >= 0 and <= 255");
                return;
            }
            freq = Some(n);
            j += 1;
        } else {
            ctx.out.err(SYNTAX);
            return;
        }
        j += 1;
    }
    let db = ctx.db();
    let key = a[1];
    if !replace && ctx.ks.lookup_write(db, key).is_some() {
        ctx.out.err("BUSYKEY Target key name already exists.");
        return;
    }
    let Some(ttl) = arg::int(ctx.out, a[2]) else {
        return;
    };
    if ttl < 0 {
        ctx.out.err("ERR Invalid TTL value, must be >= 0");
        return;
    }
    let limits = ctx.ks.space.enc;
    let value = match dump::decode(a[3], &limits) {
        Ok(v) => v,
        Err(Bad::Checksum) => {
            ctx.out
                .err("ERR DUMP payload version or checksum are wrong");
            return;
        }
        Err(Bad::Format) => {
            ctx.out.err("ERR Bad data format");
            return;
        }
    };
    let now = ctx.ks.now;
    // Relative TTLs become absolute (as Redis propagates them); an
    // absolute time far past i64 saturates rather than wrapping.
    let at = match ttl as u64 {
        0 => 0,
        t if absttl => t,
        t => t.saturating_add(now),
    };
    if at != 0 && at <= now {
        // Already expired: with REPLACE the old key goes, nothing is created.
        if replace {
            ctx.ks.remove(db, key);
        }
        ctx.out.ok();
        return;
    }
    ctx.ks.put(db, key, value, at);
    if let Some(idle) = idle {
        let now_s = now / 1000;
        if let Some(e) = ctx.ks.peek_mut(db, key) {
            e.access = now_s.saturating_sub(idle as u64) as u32;
        }
    }
    if let Some(freq) = freq {
        if let Some(e) = ctx.ks.peek_mut(db, key) {
            e.freq = freq as u8;
        }
    }
    ctx.out.ok();
}
