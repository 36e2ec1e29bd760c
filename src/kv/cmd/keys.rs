//! Generic key commands: existence, deletion, renaming, expiry, iteration.

use super::arg::{self, SYNTAX, is};
use super::{CommandSpec, Ctx, FAST, READONLY, WRITE, spec};
use crate::kv::glob::glob_match;
use crate::kv::notify;
use crate::kv::protocol::parse_int;

const G: &str = "generic";
const WF: u32 = WRITE | FAST;
const RF: u32 = READONLY | FAST;

static OBJECT_SUBS: &[CommandSpec] = &[
    spec(
        "encoding",
        3,
        READONLY,
        (2, 2, 1),
        G,
        "2.2.3",
        "Returns the internal encoding of a Redis object.",
        "key",
        object,
    ),
    spec(
        "freq",
        3,
        READONLY,
        (2, 2, 1),
        G,
        "4.0.0",
        "Returns the logarithmic access frequency counter of a Redis object.",
        "key",
        object,
    ),
    spec(
        "idletime",
        3,
        READONLY,
        (2, 2, 1),
        G,
        "2.2.3",
        "Returns the time since the last access to a Redis object.",
        "key",
        object,
    ),
    spec(
        "refcount",
        3,
        READONLY,
        (2, 2, 1),
        G,
        "2.2.3",
        "Returns the reference count of a value of a key.",
        "key",
        object,
    ),
    spec(
        "help",
        2,
        super::LOADING | super::STALE,
        (0, 0, 0),
        G,
        "6.2.0",
        "Returns helpful text about the different subcommands.",
        "",
        object,
    ),
];

static MEMORY_SUBS: &[CommandSpec] = &[
    spec(
        "usage",
        -3,
        READONLY,
        (2, 2, 1),
        "server",
        "4.0.0",
        "Estimate the memory usage of a key.",
        "key [SAMPLES count]",
        memory,
    ),
    spec(
        "help",
        2,
        super::LOADING | super::STALE,
        (0, 0, 0),
        "server",
        "4.0.0",
        "Show helpful text about the different subcommands.",
        "",
        memory,
    ),
];

/// The generic key family.
pub static COMMANDS: &[CommandSpec] = &[
    spec(
        "del",
        -2,
        WRITE,
        (1, -1, 1),
        G,
        "1.0.0",
        "Deletes one or more keys.",
        "key [key ...]",
        del,
    ),
    spec(
        "unlink",
        -2,
        WF,
        (1, -1, 1),
        G,
        "4.0.0",
        "Asynchronously deletes one or more keys.",
        "key [key ...]",
        del,
    ),
    spec(
        "exists",
        -2,
        RF,
        (1, -1, 1),
        G,
        "1.0.0",
        "Determines whether one or more keys exist.",
        "key [key ...]",
        exists,
    ),
    spec(
        "type",
        2,
        RF,
        (1, 1, 1),
        G,
        "1.0.0",
        "Determines the type of value stored at a key.",
        "key",
        type_,
    ),
    spec(
        "rename",
        3,
        WRITE,
        (1, 2, 1),
        G,
        "1.0.0",
        "Renames a key and overwrites the destination.",
        "key newkey",
        rename,
    ),
    spec(
        "renamenx",
        3,
        WF,
        (1, 2, 1),
        G,
        "1.0.0",
        "Renames a key only when the target key name doesn't exist.",
        "key newkey",
        rename,
    ),
    spec(
        "copy",
        -3,
        WRITE | super::DENYOOM,
        (1, 2, 1),
        G,
        "6.2.0",
        "Copies the value of a key to a new key.",
        "source destination [DB destination-db] [REPLACE]",
        copy,
    ),
    spec(
        "move",
        3,
        WF,
        (1, 1, 1),
        G,
        "1.0.0",
        "Moves a key to another database.",
        "key db",
        move_,
    ),
    spec(
        "persist",
        2,
        WF,
        (1, 1, 1),
        G,
        "2.2.0",
        "Removes the expiration time of a key.",
        "key",
        persist,
    ),
    spec(
        "expire",
        -3,
        WF,
        (1, 1, 1),
        G,
        "1.0.0",
        "Sets the expiration time of a key in seconds.",
        "key seconds [NX|XX|GT|LT]",
        expire,
    ),
    spec(
        "pexpire",
        -3,
        WF,
        (1, 1, 1),
        G,
        "2.6.0",
        "Sets the expiration time of a key in milliseconds.",
        "key milliseconds [NX|XX|GT|LT]",
        expire,
    ),
    spec(
        "expireat",
        -3,
        WF,
        (1, 1, 1),
        G,
        "1.2.0",
        "Sets the expiration time of a key to a Unix timestamp.",
        "key unix-time-seconds [NX|XX|GT|LT]",
        expire,
    ),
    spec(
        "pexpireat",
        -3,
        WF,
        (1, 1, 1),
        G,
        "2.6.0",
        "Sets the expiration time of a key to a Unix milliseconds timestamp.",
        "key unix-time-milliseconds [NX|XX|GT|LT]",
        expire,
    ),
    spec(
        "expiretime",
        2,
        RF,
        (1, 1, 1),
        G,
        "7.0.0",
        "Returns the expiration time of a key as a Unix timestamp.",
        "key",
        ttl,
    ),
    spec(
        "pexpiretime",
        2,
        RF,
        (1, 1, 1),
        G,
        "7.0.0",
        "Returns the expiration time of a key as a Unix milliseconds timestamp.",
        "key",
        ttl,
    ),
    spec(
        "ttl",
        2,
        RF,
        (1, 1, 1),
        G,
        "1.0.0",
        "Returns the expiration time in seconds of a key.",
        "key",
        ttl,
    ),
    spec(
        "pttl",
        2,
        RF,
        (1, 1, 1),
        G,
        "2.6.0",
        "Returns the expiration time in milliseconds of a key.",
        "key",
        ttl,
    ),
    spec(
        "touch",
        -2,
        RF,
        (1, -1, 1),
        G,
        "3.2.1",
        "Returns the number of existing keys out of those specified after updating the time they were last accessed.",
        "key [key ...]",
        touch,
    ),
    spec(
        "randomkey",
        1,
        READONLY,
        (0, 0, 0),
        G,
        "1.0.0",
        "Returns a random key name from the database.",
        "",
        randomkey,
    ),
    spec(
        "keys",
        2,
        READONLY,
        (0, 0, 0),
        G,
        "1.0.0",
        "Returns all key names that match a pattern.",
        "pattern",
        keys,
    ),
    spec(
        "scan",
        -2,
        READONLY,
        (0, 0, 0),
        G,
        "2.8.0",
        "Iterates over the key names in the database.",
        "cursor [MATCH pattern] [COUNT count] [TYPE type]",
        scan,
    ),
    super::CommandSpec {
        subcommands: OBJECT_SUBS,
        ..spec(
            "object",
            -2,
            0,
            (0, 0, 0),
            G,
            "2.2.3",
            "A container for object introspection commands.",
            "ENCODING|FREQ|IDLETIME|REFCOUNT|HELP key",
            super::no_subcommand,
        )
    },
    super::CommandSpec {
        subcommands: MEMORY_SUBS,
        ..spec(
            "memory",
            -2,
            0,
            (0, 0, 0),
            "server",
            "4.0.0",
            "A container for memory diagnostics commands.",
            "USAGE|HELP key",
            super::no_subcommand,
        )
    },
];

/// MEMORY USAGE: a rough size of the key and its value in bytes.
fn memory(ctx: &mut Ctx<'_>, a: &[&[u8]]) {
    if is(a[1], "help") {
        help(
            ctx,
            &[
                "MEMORY <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
                "USAGE <key> [SAMPLES <count>]",
                "    Return memory in bytes used by <key> and its value.",
                "HELP",
                "    Print this help.",
            ],
        );
        return;
    }
    match a.len() {
        3 => {}
        5 if is(a[3], "SAMPLES") => {
            if arg::int(ctx.out, a[4]).is_none() {
                return;
            }
        }
        _ => {
            ctx.out.err(SYNTAX);
            return;
        }
    }
    let db = ctx.db();
    match ctx.ks.peek(db, a[2]) {
        Some(e) => {
            let n = a[2].len() + e.value.mem() + 56;
            ctx.out.int(n as i64);
        }
        None => ctx.out.null(),
    }
}

fn del(ctx: &mut Ctx<'_>, a: &[&[u8]]) {
    let db = ctx.db();
    let n = a[1..].iter().filter(|k| ctx.ks.remove(db, k)).count();
    ctx.out.int(n as i64);
}

fn exists(ctx: &mut Ctx<'_>, a: &[&[u8]]) {
    let db = ctx.db();
    let n = a[1..]
        .iter()
        .filter(|k| ctx.ks.read_notouch(db, k).is_some())
        .count();
    ctx.out.int(n as i64);
}

/// EXISTS that counts as using each key: its idle time starts again.
fn touch(ctx: &mut Ctx<'_>, a: &[&[u8]]) {
    let db = ctx.db();
    let n = a[1..]
        .iter()
        .filter(|k| ctx.ks.read(db, k).is_some())
        .count();
    ctx.out.int(n as i64);
}

fn type_(ctx: &mut Ctx<'_>, a: &[&[u8]]) {
    let db = ctx.db();
    let t = ctx.ks.read_notouch(db, a[1]).map(|e| e.value.type_name());
    ctx.out.status(t.unwrap_or("none"));
}

fn rename(ctx: &mut Ctx<'_>, a: &[&[u8]]) {
    let nx = is(a[0], "renamenx");
    let db = ctx.db();
    if ctx.ks.lookup_write(db, a[1]).is_none() {
        ctx.out.err("ERR no such key");
        return;
    }
    if a[1] == a[2] {
        if nx {
            ctx.out.int(0);
        } else {
            ctx.out.ok();
        }
        return;
    }
    if nx && ctx.ks.lookup_write(db, a[2]).is_some() {
        ctx.out.int(0);
        return;
    }
    ctx.ks.rename(db, a[1], db, a[2]);
    ctx.ks.notify(notify::GENERIC, "rename_from", db, a[1]);
    ctx.ks.notify(notify::GENERIC, "rename_to", db, a[2]);
    if nx {
        ctx.out.int(1);
    } else {
        ctx.out.ok();
    }
}

/// A database index argument, or the error answered.
pub fn db_index(ctx: &mut Ctx<'_>, a: &[u8]) -> Option<usize> {
    let n = arg::int(ctx.out, a)?;
    if n < 0 || n as usize >= ctx.ks.space.dbs.len() {
        ctx.out.err("ERR DB index is out of range");
        return None;
    }
    Some(n as usize)
}

fn copy(ctx: &mut Ctx<'_>, a: &[&[u8]]) {
    let mut dst_db = ctx.db();
    let mut replace = false;
    let mut i = 3;
    while i < a.len() {
        if is(a[i], "REPLACE") {
            replace = true;
        } else if is(a[i], "DB") && i + 1 < a.len() {
            let Some(d) = db_index(ctx, a[i + 1]) else {
                return;
            };
            dst_db = d;
            i += 1;
        } else {
            ctx.out.err(SYNTAX);
            return;
        }
        i += 1;
    }
    let db = ctx.db();
    if db == dst_db && a[1] == a[2] {
        ctx.out
            .err("ERR source and destination objects are the same");
        return;
    }
    let Some(src) = ctx.ks.lookup_write(db, a[1]).cloned() else {
        ctx.ks.notify(notify::KEYMISS, "keymiss", db, a[1]);
        ctx.out.int(0);
        return;
    };
    let replaced = ctx.ks.lookup_write(dst_db, a[2]).is_some();
    if replaced && !replace {
        ctx.out.int(0);
        return;
    }
    ctx.ks.put(dst_db, a[2], src.value, src.expires_at);
    if replaced {
        // Redis deletes the old key and adds the copy anew.
        ctx.ks.notify(notify::NEW, "new", dst_db, a[2]);
    }
    ctx.ks.notify(notify::GENERIC, "copy_to", dst_db, a[2]);
    ctx.out.int(1);
}

fn move_(ctx: &mut Ctx<'_>, a: &[&[u8]]) {
    let Some(dst) = db_index(ctx, a[2]) else {
        return;
    };
    let db = ctx.db();
    if dst == db {
        ctx.out
            .err("ERR source and destination objects are the same");
        return;
    }
    if ctx.ks.lookup_write(db, a[1]).is_none() || ctx.ks.lookup_write(dst, a[1]).is_some() {
        ctx.out.int(0);
        return;
    }
    ctx.ks.rename(db, a[1], dst, a[1]);
    ctx.ks.notify(notify::GENERIC, "move_from", db, a[1]);
    ctx.ks.notify(notify::GENERIC, "move_to", dst, a[1]);
    ctx.out.int(1);
}

fn persist(ctx: &mut Ctx<'_>, a: &[&[u8]]) {
    let db = ctx.db();
    let has = ctx
        .ks
        .lookup_write(db, a[1])
        .is_some_and(|e| e.expires_at != 0);
    if has {
        ctx.ks.set_expiry(db, a[1], 0);
    }
    ctx.out.int(has as i64);
}

fn expire(ctx: &mut Ctx<'_>, a: &[&[u8]]) {
    let name = String::from_utf8_lossy(a[0]).to_ascii_lowercase();
    let (mut nx, mut xx, mut gt, mut lt) = (false, false, false, false);
    for o in &a[3..] {
        if is(o, "NX") {
            nx = true;
        } else if is(o, "XX") {
            xx = true;
        } else if is(o, "GT") {
            gt = true;
        } else if is(o, "LT") {
            lt = true;
        } else {
            ctx.out.err(&format!(
                "ERR Unsupported option {}",
                String::from_utf8_lossy(o)
            ));
            return;
        }
    }
    if nx && (xx || gt || lt) {
        ctx.out
            .err("ERR NX and XX, GT or LT options at the same time are not compatible");
        return;
    }
    if gt && lt {
        ctx.out
            .err("ERR GT and LT options at the same time are not compatible");
        return;
    }
    let Some(n) = arg::int(ctx.out, a[2]) else {
        return;
    };
    let now = ctx.ks.now as i64;
    let at = match name.as_str() {
        "expire" => n.checked_mul(1000).and_then(|ms| ms.checked_add(now)),
        "pexpire" => n.checked_add(now),
        "expireat" => n.checked_mul(1000),
        _ => Some(n),
    };
    let Some(at) = at else {
        ctx.out
            .err(&format!("ERR invalid expire time in '{name}' command"));
        return;
    };
    let db = ctx.db();
    let Some(cur) = ctx.ks.lookup_write(db, a[1]).map(|e| e.expires_at) else {
        ctx.out.int(0);
        return;
    };
    // No expiry counts as infinite for GT and LT.
    let cur_eff = if cur == 0 { i64::MAX } else { cur as i64 };
    if (nx && cur != 0) || (xx && cur == 0) || (gt && at <= cur_eff) || (lt && at >= cur_eff) {
        ctx.out.int(0);
        return;
    }
    if at <= now {
        ctx.ks.remove(db, a[1]);
    } else {
        ctx.ks.set_expiry(db, a[1], at as u64);
    }
    ctx.out.int(1);
}

fn ttl(ctx: &mut Ctx<'_>, a: &[&[u8]]) {
    let db = ctx.db();
    let now = ctx.ks.now;
    let exp = match ctx.ks.read_notouch(db, a[1]) {
        None => {
            ctx.out.int(-2);
            return;
        }
        Some(e) => e.expires_at,
    };
    if exp == 0 {
        ctx.out.int(-1);
        return;
    }
    let v = match String::from_utf8_lossy(a[0]).to_ascii_lowercase().as_str() {
        "ttl" => ((exp - now + 500) / 1000) as i64,
        "pttl" => (exp - now) as i64,
        "expiretime" => (exp / 1000) as i64,
        _ => exp as i64,
    };
    ctx.out.int(v);
}

fn randomkey(ctx: &mut Ctx<'_>, _a: &[&[u8]]) {
    let db = ctx.db();
    let now = ctx.ks.now;
    for _ in 0..100 {
        let space = &mut *ctx.ks.space;
        let mut seed = space.rand();
        let pick = space.dbs[db].dict.random(|| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        });
        match pick {
            None => break,
            Some((k, e)) if e.live(now) => {
                let k = k.to_vec();
                ctx.out.bulk(&k);
                return;
            }
            Some(_) => {}
        }
    }
    // Mostly expired keys: fall back to a full pass.
    let k = ctx.ks.space.dbs[db]
        .dict
        .iter()
        .find(|(_, e)| e.live(now))
        .map(|(k, _)| k.to_vec());
    ctx.out.bulk_opt(k.as_deref());
}

fn keys(ctx: &mut Ctx<'_>, a: &[&[u8]]) {
    let db = ctx.db();
    let now = ctx.ks.now;
    let all = a[1] == b"*";
    let found: Vec<Vec<u8>> = ctx.ks.space.dbs[db]
        .dict
        .iter()
        .filter(|(k, e)| e.live(now) && (all || glob_match(a[1], k)))
        .map(|(k, _)| k.to_vec())
        .collect();
    ctx.out.array(found.len());
    for k in &found {
        ctx.out.bulk(k);
    }
}

fn scan(ctx: &mut Ctx<'_>, a: &[&[u8]]) {
    let Some(cursor) = std::str::from_utf8(a[1])
        .ok()
        .and_then(|s| s.parse::<u64>().ok())
    else {
        ctx.out.err("ERR invalid cursor");
        return;
    };
    let (mut pat, mut count, mut ty): (Option<&[u8]>, usize, Option<&[u8]>) = (None, 10, None);
    let mut i = 2;
    while i < a.len() {
        if i + 1 >= a.len() {
            ctx.out.err(SYNTAX);
            return;
        }
        if is(a[i], "MATCH") {
            pat = Some(a[i + 1]);
        } else if is(a[i], "COUNT") {
            match parse_int(a[i + 1]) {
                Some(n) if n >= 1 => count = n as usize,
                Some(_) => {
                    ctx.out.err(SYNTAX);
                    return;
                }
                None => {
                    ctx.out.err(arg::NOT_INT);
                    return;
                }
            }
        } else if is(a[i], "TYPE") {
            ty = Some(a[i + 1]);
        } else {
            ctx.out.err(SYNTAX);
            return;
        }
        i += 2;
    }
    let db = ctx.db();
    let now = ctx.ks.now;
    let mut found = Vec::new();
    let next = ctx.ks.space.dbs[db].dict.scan(cursor, count, |k, e| {
        if e.live(now)
            && pat.is_none_or(|p| p == b"*" || glob_match(p, k))
            && ty.is_none_or(|t| t.eq_ignore_ascii_case(e.value.type_name().as_bytes()))
        {
            found.push(k.to_vec());
        }
    });
    ctx.out.array(2);
    ctx.out.bulk(next.to_string().as_bytes());
    ctx.out.array(found.len());
    for k in &found {
        ctx.out.bulk(k);
    }
}

const OBJECT_HELP: &[&str] = &[
    "OBJECT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "ENCODING <key>",
    "    Return the kind of internal representation used in order to store the value",
    "    associated with a <key>.",
    "FREQ <key>",
    "    Return the access frequency index of the <key>. The returned integer is",
    "    proportional to the logarithm of the recent access frequency of the key.",
    "IDLETIME <key>",
    "    Return the idle time of the <key>, that is the approximated number of",
    "    seconds elapsed since the last access to the key.",
    "REFCOUNT <key>",
    "    Return the number of references of the value associated with the specified",
    "    <key>.",
    "HELP",
    "    Print this help.",
];

/// A HELP reply: one status line each.
pub fn help(ctx: &mut Ctx<'_>, lines: &[&str]) {
    ctx.out.array(lines.len());
    for l in lines {
        ctx.out.status(l);
    }
}

fn object(ctx: &mut Ctx<'_>, a: &[&[u8]]) {
    let sub = String::from_utf8_lossy(a[1]).to_ascii_lowercase();
    if sub == "help" {
        help(ctx, OBJECT_HELP);
        return;
    }
    let db = ctx.db();
    let now_s = (ctx.ks.now / 1000) as u32;
    let limits = ctx.ks.space.enc;
    let lfu = ctx.srv.settings().maxmemory_policy.contains("lfu");
    let Some(e) = ctx.ks.peek_mut(db, a[2]) else {
        ctx.out.null();
        return;
    };
    match sub.as_str() {
        "encoding" => {
            let enc = e.encoding(&limits);
            ctx.out.bulk(enc.as_bytes());
        }
        "idletime" if lfu => ctx.out.err(
            "ERR An LFU maxmemory policy is selected, idle time not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust.",
        ),
        "freq" if lfu => ctx.out.int(e.freq as i64),
        "idletime" => {
            let idle = now_s.saturating_sub(e.access);
            ctx.out.int(idle as i64);
        }
        "refcount" => {
            let n = e.refcount();
            ctx.out.int(n);
        }
        _ => ctx.out.err(
            "ERR An LFU maxmemory policy is not selected, access frequency not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust.",
        ),
    }
}
