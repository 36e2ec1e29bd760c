//! Server commands: database management, CONFIG, DEBUG, FUNCTION, TIME and
//! the log's BGREWRITEAOF.

use std::sync::atomic::Ordering;

use super::arg::{self, SYNTAX, is};
use super::{
    ADMIN, CommandSpec, Ctx, FAST, LOADING, NO_MULTI, NOSCRIPT, READONLY, STALE, WRITE, spec,
};
use crate::kv::digest;
use crate::kv::glob::glob_match;
use crate::kv::logfile::Fsync;
use crate::kv::notify;

/// The Redis version netkit answers as (its replies follow this version).
pub const REDIS_VERSION: &str = "7.0.15";

const G: &str = "server";

static CONFIG_SUBS: &[CommandSpec] = &[
    spec(
        "get",
        -3,
        ADMIN | NOSCRIPT | LOADING | STALE,
        (0, 0, 0),
        G,
        "2.0.0",
        "Returns the effective values of configuration parameters.",
        "parameter [parameter ...]",
        config,
    ),
    spec(
        "set",
        -4,
        ADMIN | NOSCRIPT | LOADING | STALE,
        (0, 0, 0),
        G,
        "2.0.0",
        "Sets configuration parameters in-flight.",
        "parameter value [parameter value ...]",
        config,
    ),
    spec(
        "resetstat",
        2,
        ADMIN | NOSCRIPT | LOADING | STALE,
        (0, 0, 0),
        G,
        "2.0.0",
        "Resets the server's statistics.",
        "",
        config,
    ),
    spec(
        "rewrite",
        2,
        ADMIN | NOSCRIPT | LOADING | STALE,
        (0, 0, 0),
        G,
        "2.8.0",
        "Persists the effective configuration to file.",
        "",
        config,
    ),
    spec(
        "help",
        2,
        LOADING | STALE,
        (0, 0, 0),
        G,
        "5.0.0",
        "Returns helpful text about the different subcommands.",
        "",
        config,
    ),
];

static FUNCTION_SUBS: &[CommandSpec] = &[
    spec(
        "flush",
        -2,
        WRITE | NOSCRIPT,
        (0, 0, 0),
        "scripting",
        "7.0.0",
        "Deletes all libraries and functions.",
        "[ASYNC|SYNC]",
        function,
    ),
    spec(
        "list",
        -2,
        NOSCRIPT,
        (0, 0, 0),
        "scripting",
        "7.0.0",
        "Returns information about all libraries.",
        "[LIBRARYNAME library-name-pattern] [WITHCODE]",
        function,
    ),
    spec(
        "help",
        2,
        LOADING | STALE,
        (0, 0, 0),
        "scripting",
        "7.0.0",
        "Returns helpful text about the different subcommands.",
        "",
        function,
    ),
];

/// The server family.
pub static COMMANDS: &[CommandSpec] = &[
    spec(
        "dbsize",
        1,
        READONLY | FAST,
        (0, 0, 0),
        G,
        "1.0.0",
        "Returns the number of keys in the database.",
        "",
        dbsize,
    ),
    spec(
        "flushdb",
        -1,
        WRITE,
        (0, 0, 0),
        G,
        "1.0.0",
        "Removes all keys from the current database.",
        "[ASYNC|SYNC]",
        flush,
    ),
    spec(
        "flushall",
        -1,
        WRITE,
        (0, 0, 0),
        G,
        "1.0.0",
        "Removes all keys from all databases.",
        "[ASYNC|SYNC]",
        flush,
    ),
    spec(
        "swapdb",
        3,
        WRITE | FAST,
        (0, 0, 0),
        G,
        "4.0.0",
        "Swaps two Redis databases.",
        "index1 index2",
        swapdb,
    ),
    spec(
        "time",
        1,
        LOADING | STALE | FAST,
        (0, 0, 0),
        G,
        "2.6.0",
        "Returns the server time.",
        "",
        time,
    ),
    spec(
        "lastsave",
        1,
        LOADING | STALE | FAST,
        (0, 0, 0),
        G,
        "1.0.0",
        "Returns the Unix timestamp of the last successful save to disk.",
        "",
        lastsave,
    ),
    spec(
        "save",
        1,
        ADMIN | NOSCRIPT | NO_MULTI,
        (0, 0, 0),
        G,
        "1.0.0",
        "Makes everything written so far durable: the log is fsynced before the reply.",
        "",
        save,
    ),
    spec(
        "bgsave",
        -1,
        ADMIN | NOSCRIPT,
        (0, 0, 0),
        G,
        "1.0.0",
        "Compacts the log in the background (as BGREWRITEAOF).",
        "[SCHEDULE]",
        bgsave,
    ),
    spec(
        "bgrewriteaof",
        1,
        ADMIN | NOSCRIPT,
        (0, 0, 0),
        G,
        "1.0.0",
        "Asynchronously rewrites the append-only file to disk.",
        "",
        bgrewriteaof,
    ),
    spec(
        "shutdown",
        -1,
        ADMIN | NOSCRIPT | LOADING | STALE | NO_MULTI,
        (0, 0, 0),
        G,
        "1.0.0",
        "Stops the server: replies to what clients already sent, fsyncs the log, exits.",
        "[NOSAVE|SAVE] [NOW] [FORCE] [ABORT]",
        shutdown,
    ),
    spec(
        "debug",
        -2,
        ADMIN | NOSCRIPT | LOADING | STALE,
        (0, 0, 0),
        G,
        "1.0.0",
        "A container for debugging commands.",
        "SLEEP seconds|SET-ACTIVE-EXPIRE 0|1|PAUSE-CRON 0|1|OBJECT key|DIGEST|DIGEST-VALUE key|RELOAD|LOG message|HELP",
        debug,
    ),
    CommandSpec {
        subcommands: CONFIG_SUBS,
        ..spec(
            "config",
            -2,
            0,
            (0, 0, 0),
            G,
            "2.0.0",
            "A container for server configuration commands.",
            "GET|SET|RESETSTAT|REWRITE|HELP ...",
            super::no_subcommand,
        )
    },
    CommandSpec {
        subcommands: FUNCTION_SUBS,
        ..spec(
            "function",
            -2,
            0,
            (0, 0, 0),
            "scripting",
            "7.0.0",
            "A container for function commands.",
            "FLUSH|LIST|HELP ...",
            super::no_subcommand,
        )
    },
];

fn dbsize(ctx: &mut Ctx<'_>, _a: &[&[u8]]) {
    let n = ctx.ks.space.dbs[ctx.db()].dict.len();
    ctx.out.int(n as i64);
}

fn flush(ctx: &mut Ctx<'_>, a: &[&[u8]]) {
    if a.len() > 2 || (a.len() == 2 && !is(a[1], "ASYNC") && !is(a[1], "SYNC")) {
        ctx.out.err(SYNTAX);
        return;
    }
    if is(a[0], "flushall") {
        ctx.ks.flush_all();
    } else {
        let db = ctx.db();
        ctx.ks.flush_db(db);
    }
    ctx.out.ok();
}

fn swapdb(ctx: &mut Ctx<'_>, a: &[&[u8]]) {
    let n = ctx.ks.space.dbs.len() as i64;
    let (Some(x), Some(y)) = (
        crate::kv::protocol::parse_int(a[1]),
        crate::kv::protocol::parse_int(a[2]),
    ) else {
        ctx.out.err("ERR invalid first DB index");
        return;
    };
    if !(0..n).contains(&x) || !(0..n).contains(&y) {
        ctx.out.err("ERR DB index is out of range");
        return;
    }
    ctx.ks.swap_db(x as usize, y as usize);
    ctx.out.ok();
}

fn time(ctx: &mut Ctx<'_>, _a: &[&[u8]]) {
    let d = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    ctx.out.array(2);
    ctx.out.bulk(d.as_secs().to_string().as_bytes());
    ctx.out.bulk(d.subsec_micros().to_string().as_bytes());
}

fn lastsave(ctx: &mut Ctx<'_>, _a: &[&[u8]]) {
    ctx.out.int(last_save(ctx) as i64);
}

/// Unix seconds of the last SAVE or BGSAVE, or of the start.
pub(crate) fn last_save(ctx: &Ctx<'_>) -> u64 {
    match ctx.ks.space.last_save {
        0 => {
            (crate::kv::store::now_ms() / 1000).saturating_sub(ctx.srv.started.elapsed().as_secs())
        }
        t => t,
    }
}

const NO_LOG: &str = "ERR no append-only file: start the server with --data FILE";

/// SAVE: with the log as the only file, saving is making it durable. The
/// round's records are written, then the log is fsynced whatever
/// `--fsync` says, and only then does anyone in the round get a reply.
fn save(ctx: &mut Ctx<'_>, _a: &[&[u8]]) {
    if ctx.srv.store.aof().is_none() {
        ctx.out.err(NO_LOG);
        return;
    }
    ctx.ks.batch.sync_wanted = true;
    ctx.ks.space.changes = 0;
    ctx.ks.space.last_save = crate::kv::store::now_ms() / 1000;
    ctx.out.ok();
}

fn bgsave(ctx: &mut Ctx<'_>, a: &[&[u8]]) {
    if a.len() > 2 || (a.len() == 2 && !is(a[1], "schedule")) {
        ctx.out.err(SYNTAX);
        return;
    }
    if ctx.srv.store.aof().is_some_and(|l| l.rewriting()) {
        ctx.out.err("ERR Background save already in progress");
        return;
    }
    if start_rewrite(ctx) {
        ctx.ks.space.last_save = crate::kv::store::now_ms() / 1000;
        ctx.out.status("Background saving started");
    }
}

fn bgrewriteaof(ctx: &mut Ctx<'_>, _a: &[&[u8]]) {
    if start_rewrite(ctx) {
        ctx.out
            .status("Background append only file rewriting started");
    }
}

/// Start compacting the log on a thread of its own; false (answered) when
/// there is no log or no thread.
fn start_rewrite(ctx: &mut Ctx<'_>) -> bool {
    let Some(aof) = ctx.srv.store.aof() else {
        ctx.out.err(NO_LOG);
        return false;
    };
    if !aof.begin_rewrite() {
        ctx.out
            .err("ERR Background append only file rewriting already in progress");
        return false;
    }
    let store = ctx.srv.store.clone();
    let log = ctx.srv.cfg.log;
    let spawned = std::thread::Builder::new()
        .name("kv-rewrite".into())
        .spawn(move || {
            if let Err(e) = store.rewrite_claimed() {
                log.warn(&format!("log compaction failed: {e}"));
            }
        });
    if spawned.is_err() {
        aof.abandon_rewrite();
        ctx.out.err("ERR cannot start the rewrite thread");
    }
    spawned.is_ok()
}

/// SHUTDOWN's options, checked as Redis does: whether NOSAVE was given, or
/// the error for an unknown word, an illegal mix, or ABORT (no shutdown is
/// ever pending here).
pub(crate) fn shutdown_options(a: &[&[u8]]) -> Result<bool, &'static str> {
    let (mut save, mut nosave, mut other, mut abort) = (false, false, false, false);
    for o in &a[1..] {
        if is(o, "nosave") {
            nosave = true;
        } else if is(o, "save") {
            save = true;
        } else if is(o, "now") || is(o, "force") {
            other = true;
        } else if is(o, "abort") {
            abort = true;
        } else {
            return Err(SYNTAX);
        }
    }
    if (abort && (save || nosave || other)) || (save && nosave) {
        return Err(SYNTAX);
    }
    if abort {
        return Err("ERR No shutdown in progress.");
    }
    Ok(nosave)
}

/// Stop the server as a signal would: every client gets the replies to
/// what it sent, the log is fsynced, the process exits 0. The caller gets
/// no reply (its connection closes), as from Redis.
fn shutdown(ctx: &mut Ctx<'_>, a: &[&[u8]]) {
    if let Err(e) = shutdown_options(a) {
        ctx.out.err(e);
        return;
    }
    let Some(s) = ctx.srv.shutdown.get() else {
        ctx.out
            .err("ERR this server cannot be shut down from a client");
        return;
    };
    ctx.srv.cfg.log.info("SHUTDOWN asked by a client");
    ctx.sess.close = true;
    s.trigger();
}

const DEBUG_HELP: &[&str] = &[
    "DEBUG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "DIGEST",
    "    Output a hex signature representing the current DB content.",
    "DIGEST-VALUE <key> [<key> ...]",
    "    Output a hex signature of the values of all the specified keys.",
    "LOG <message>",
    "    Write <message> to the server log.",
    "PROTOCOL <type>",
    "    Reply with a test value of the specified type.",
    "RELOAD",
    "    Write the dataset out as log records and load it back (a restart).",
    "OBJECT <key>",
    "    Show low level info about the key and associated value.",
    "PAUSE-CRON <0|1>",
    "    Stop periodic cron job processing (here: the background expiry sweep).",
    "SET-ACTIVE-EXPIRE <0|1>",
    "    Setting it to 0 disables expiring keys in background when they are not accessed.",
    "SLEEP <seconds>",
    "    Stop the server for <seconds>. Decimals allowed.",
    "HELP",
    "    Print this help.",
];

fn debug(ctx: &mut Ctx<'_>, a: &[&[u8]]) {
    let sub = String::from_utf8_lossy(a[1]).to_ascii_lowercase();
    match (sub.as_str(), a.len()) {
        ("help", 2) => super::keys::help(ctx, DEBUG_HELP),
        ("sleep", 3) => {
            let Some(secs) = arg::parse_float(a[2]).filter(|s| *s >= 0.0 && *s < 3600.0) else {
                ctx.out.err(arg::NOT_FLOAT);
                return;
            };
            // Like Redis, the whole server stops (the store lock is held).
            std::thread::sleep(std::time::Duration::from_secs_f64(secs));
            ctx.out.ok();
        }
        ("set-active-expire", 3) => {
            ctx.ks.space.active_expire = a[2] != b"0";
            ctx.out.ok();
        }
        ("pause-cron", 3) => {
            ctx.ks.space.cron_paused = a[2] != b"0";
            ctx.out.ok();
        }
        ("protocol", 3) => debug_protocol(ctx, a[2]),
        ("digest", 2) => {
            let now = ctx.ks.now;
            let d = digest::of_dataset(
                ctx.ks
                    .space
                    .dbs
                    .iter()
                    .enumerate()
                    .map(|(i, db)| (i, db.dict.iter().filter(move |(_, e)| e.live(now)))),
            );
            ctx.out.status(&digest::hex(&d));
        }
        ("digest-value", _) => {
            // As Redis: logically expired keys not yet removed count too.
            let dict = &ctx.ks.space.dbs[ctx.sess.db].dict;
            let ds: Vec<String> = a[2..]
                .iter()
                .map(|k| digest::hex(&digest::of_value(dict.get(k))))
                .collect();
            ctx.out.array(ds.len());
            for d in ds {
                ctx.out.status(&d);
            }
        }
        ("reload", 2) => {
            let now = ctx.ks.now;
            crate::kv::keyspace::reload(ctx.ks.space, now);
            ctx.out.ok();
        }
        ("quicklist-packed-threshold", 3) => {
            // Lists here have no packed nodes to tune: accepted, as Redis
            // accepts it, so list tests written for it run.
            let v = String::from_utf8_lossy(a[2]).to_ascii_lowercase();
            let digits = v.trim_end_matches(|c: char| c.is_ascii_alphabetic());
            let unit_ok = matches!(
                &v[digits.len()..],
                "" | "b" | "k" | "kb" | "m" | "mb" | "g" | "gb"
            );
            if digits.parse::<u64>().is_ok_and(|n| n < 1 << 32) && unit_ok {
                ctx.out.ok();
            } else {
                ctx.out
                    .err("ERR argument must be a memory value bigger than 1 and smaller than 4gb");
            }
        }
        ("log", 3) => {
            ctx.srv
                .cfg
                .log
                .info(&format!("DEBUG LOG: {}", String::from_utf8_lossy(a[2])));
            ctx.out.ok();
        }
        ("object", 3) => {
            let db = ctx.db();
            let now_s = (ctx.ks.now / 1000) as u32;
            let limits = ctx.ks.space.enc;
            match ctx.ks.peek_mut(db, a[2]) {
                None => ctx.out.err("ERR no such key"),
                Some(e) => {
                    let len = match &e.value {
                        crate::kv::value::Value::Str(s) => s.len(),
                        v => v.mem(),
                    };
                    let s = format!(
                        "Value at:0x0 refcount:1 encoding:{} serializedlength:{} lru:{} lru_seconds_idle:{}",
                        e.value.encoding(&limits),
                        len,
                        e.access & 0xff_ffff,
                        now_s.saturating_sub(e.access)
                    );
                    ctx.out.status(&s);
                }
            }
        }
        _ => ctx.out.err(&format!(
            "ERR Unknown subcommand or wrong number of arguments for '{}'. Try DEBUG HELP.",
            String::from_utf8_lossy(a[1])
        )),
    }
}

/// DEBUG PROTOCOL: one reply of each RESP3 type, as Redis sends them.
#[allow(clippy::approx_constant)] // 3.141 is Redis's literal, not PI
fn debug_protocol(ctx: &mut Ctx<'_>, name: &[u8]) {
    let o = &mut *ctx.out;
    match String::from_utf8_lossy(name).to_ascii_lowercase().as_str() {
        "string" => o.bulk(b"Hello World"),
        "integer" => o.int(12345),
        "double" => o.double(3.141),
        "bignum" => o.bignum("1234567999999999999999999999999999999"),
        "null" => o.null(),
        "array" | "set" => {
            if is(name, "set") {
                o.set(3);
            } else {
                o.array(3);
            }
            for j in 0..3 {
                o.int(j);
            }
        }
        "map" => {
            o.map(3);
            for j in 0..3 {
                o.int(j);
                o.boolean(j == 1);
            }
        }
        "attrib" => {
            if o.resp3 {
                o.attribute(1);
                o.bulk(b"key-popularity");
                o.array(2);
                o.bulk(b"key:123");
                o.int(90);
            }
            o.bulk(b"Some real reply following the attribute");
        }
        "push" => {
            if !o.resp3 {
                o.err("ERR RESP2 is not supported by this command");
                return;
            }
            o.push(2);
            o.bulk(b"server-cpu-usage");
            o.int(42);
            o.bulk(b"Some real reply following the push reply");
        }
        "true" => o.boolean(true),
        "false" => o.boolean(false),
        "verbatim" => o.verbatim(b"This is a verbatim\nstring"),
        _ => o.err("ERR Wrong protocol type name. Please use one of the following: string|integer|double|bignum|null|array|set|map|attrib|push|verbatim|true|false"),
    }
}

fn function(ctx: &mut Ctx<'_>, a: &[&[u8]]) {
    let sub = String::from_utf8_lossy(a[1]).to_ascii_lowercase();
    match sub.as_str() {
        "flush" => {
            if a.len() > 3 || (a.len() == 3 && !is(a[2], "ASYNC") && !is(a[2], "SYNC")) {
                ctx.out.err(SYNTAX);
                return;
            }
            // No functions are stored: there is nothing to flush.
            ctx.out.ok();
        }
        "list" => ctx.out.array(0),
        _ => super::keys::help(
            ctx,
            &[
                "FUNCTION <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
                "FLUSH [ASYNC|SYNC]",
                "    Delete all the libraries (netkit stores none).",
                "LIST",
                "    Return information about the libraries (none).",
            ],
        ),
    }
}

/// A CONFIG parameter: its name and value (read when asked).
fn params(ctx: &Ctx<'_>) -> Vec<(&'static str, String)> {
    let s = ctx.srv.settings();
    let cfg = &ctx.srv.cfg;
    let aof = ctx.srv.store.aof();
    let mut v = vec![
        ("databases", cfg.databases.to_string()),
        ("maxclients", cfg.max_conns.to_string()),
        ("port", ctx.srv.addr.port().to_string()),
        ("bind", ctx.srv.addr.ip().to_string()),
        (
            "appendonly",
            if aof.is_some() { "yes" } else { "no" }.into(),
        ),
        (
            "appendfsync",
            aof.map_or(Fsync::EverySec, |a| a.fsync()).name().into(),
        ),
        (
            "appendfilename",
            cfg.data
                .as_ref()
                .and_then(|p| p.file_name())
                .map(|f| f.to_string_lossy().into_owned())
                .unwrap_or_default(),
        ),
        ("save", String::new()),
        ("maxmemory", s.maxmemory.to_string()),
        ("maxmemory-policy", s.maxmemory_policy.into()),
        (
            "requirepass",
            s.requirepass
                .map(|p| String::from_utf8_lossy(&p).into_owned())
                .unwrap_or_default(),
        ),
        ("timeout", s.timeout.to_string()),
        ("tcp-keepalive", s.tcp_keepalive.to_string()),
        ("proto-max-bulk-len", cfg.limits.max_bulk.to_string()),
        (
            "client-output-buffer-limit",
            format!(
                "normal {} 0 0 slave 0 0 0 pubsub {} 0 0",
                s.output_limit, s.pubsub_output_limit
            ),
        ),
        ("busy-reply-threshold", s.busy_reply_ms.to_string()),
        ("lua-time-limit", s.busy_reply_ms.to_string()),
        (
            "notify-keyspace-events",
            notify::format(ctx.ks.space.notify.flags()),
        ),
        (
            "tracking-table-max-keys",
            ctx.ks.space.tracking.max_keys().to_string(),
        ),
    ];
    v.extend(ctx.ks.space.enc.params());
    v
}

fn config(ctx: &mut Ctx<'_>, a: &[&[u8]]) {
    let sub = String::from_utf8_lossy(a[1]).to_ascii_lowercase();
    match sub.as_str() {
        "get" => {
            let all = params(ctx);
            let mut hits: Vec<&(&str, String)> = Vec::new();
            for pat in &a[2..] {
                let pat = pat.to_ascii_lowercase();
                for p in &all {
                    if glob_match(&pat, p.0.as_bytes()) && !hits.iter().any(|h| h.0 == p.0) {
                        hits.push(p);
                    }
                }
            }
            ctx.out.map(hits.len());
            for (k, v) in hits {
                ctx.out.bulk(k.as_bytes());
                ctx.out.bulk(v.as_bytes());
            }
        }
        "set" => config_set(ctx, a),
        "resetstat" => {
            let st = &ctx.srv.stats;
            for c in [
                &st.commands,
                &st.connections,
                &st.rejected,
                &st.net_in,
                &st.net_out,
            ] {
                c.store(0, Ordering::Relaxed);
            }
            ctx.ks.space.stats = Default::default();
            ctx.srv.errors.reset();
            ctx.srv.reset_command_calls();
            ctx.out.ok();
        }
        "rewrite" => ctx
            .out
            .err("ERR The server is running without a config file"),
        _ => super::keys::help(
            ctx,
            &[
                "CONFIG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
                "GET <pattern>",
                "    Return parameters matching the glob-like <pattern> and their values.",
                "SET <directive> <value>",
                "    Set the configuration <directive> to <value>.",
                "RESETSTAT",
                "    Reset statistics reported by the INFO command.",
                "HELP",
                "    Print this help.",
            ],
        ),
    }
}

fn config_set(ctx: &mut Ctx<'_>, a: &[&[u8]]) {
    if a.len() % 2 != 0 {
        ctx.out.err(&format!(
            "ERR Unknown option or number of arguments for CONFIG SET - '{}'",
            String::from_utf8_lossy(a[a.len() - 1])
        ));
        return;
    }
    let mut s = ctx.srv.settings();
    let mut enc = ctx.ks.space.enc;
    let mut fsync = None;
    let mut events = None;
    let mut tracking_max = None;
    let mut seen: Vec<String> = Vec::new();
    for pair in a[2..].chunks(2) {
        let name = String::from_utf8_lossy(pair[0]).to_ascii_lowercase();
        if seen.contains(&name) {
            ctx.out.err(&format!(
                "ERR CONFIG SET failed (possibly related to argument '{name}') - duplicate parameter"
            ));
            return;
        }
        seen.push(name.clone());
        let v = pair[1];
        let num = || {
            crate::kv::protocol::parse_int(v)
                .filter(|n| *n >= 0)
                .map(|n| n as u64)
        };
        let bad = |why: &str| {
            format!("ERR CONFIG SET failed (possibly related to argument '{name}') - {why}")
        };
        let r: Result<(), String> = if let Some(r) = enc.set(&name, v) {
            r.map_err(bad)
        } else {
            match name.as_str() {
                "requirepass" => {
                    s.requirepass = (!v.is_empty()).then(|| v.to_vec());
                    Ok(())
                }
                "timeout" => num()
                    .map(|n| s.timeout = n)
                    .ok_or_else(|| bad("argument couldn't be parsed into an integer")),
                "tcp-keepalive" => num()
                    .map(|n| s.tcp_keepalive = n)
                    .ok_or_else(|| bad("argument couldn't be parsed into an integer")),
                "busy-reply-threshold" | "lua-time-limit" => num()
                    .map(|n| s.busy_reply_ms = n)
                    .ok_or_else(|| bad("argument couldn't be parsed into an integer")),
                "appendfsync" => match (
                    ctx.srv.store.aof(),
                    Fsync::parse(&String::from_utf8_lossy(v)),
                ) {
                    (_, None) => Err(bad(
                        "argument(s) must be one of the following: always, everysec, no",
                    )),
                    (None, Some(_)) => Err(bad("no append-only file (start with --data FILE)")),
                    (Some(_), Some(f)) => {
                        fsync = Some(f);
                        Ok(())
                    }
                },
                "tracking-table-max-keys" => super::tracking::parse_max_keys(v)
                    .map(|n| tracking_max = Some(n))
                    .ok_or_else(|| bad("argument couldn't be parsed into an integer")),
                "notify-keyspace-events" => match notify::parse(v) {
                    Some(f) => {
                        events = Some(f);
                        Ok(())
                    }
                    None => Err(bad(notify::BAD_FLAGS)),
                },
                "maxmemory-policy" => crate::kv::shared::MAXMEMORY_POLICIES
                    .iter()
                    .find(|p| p.as_bytes().eq_ignore_ascii_case(v))
                    .map(|p| s.maxmemory_policy = p)
                    .ok_or_else(|| {
                        bad(&format!(
                            "argument(s) must be one of the following: {}",
                            crate::kv::shared::MAXMEMORY_POLICIES.join(", ")
                        ))
                    }),
                "maxmemory" => crate::kv::memory::parse_size(v)
                    .map(|n| s.maxmemory = n)
                    .ok_or_else(|| bad("argument must be a memory value")),
                "save" if v.is_empty() => Ok(()),
                "databases"
                | "maxclients"
                | "port"
                | "bind"
                | "appendonly"
                | "appendfilename"
                | "save"
                | "proto-max-bulk-len"
                | "client-output-buffer-limit" => Err(bad("can't set immutable config")),
                _ => Err(format!(
                    "ERR Unknown option or number of arguments for CONFIG SET - '{}'",
                    String::from_utf8_lossy(pair[0])
                )),
            }
        };
        if let Err(e) = r {
            ctx.out.err(&e);
            return;
        }
    }
    if let (Some(f), Some(aof)) = (fsync, ctx.srv.store.aof()) {
        aof.set_fsync(f);
    }
    let maxmemory = s.maxmemory;
    let pass_changed = a[2..]
        .chunks(2)
        .any(|p| p[0].eq_ignore_ascii_case(b"requirepass"));
    if pass_changed {
        // As Redis: the default user's only password (none: nopass).
        ctx.srv.users.set_default_password(s.requirepass.as_deref());
    }
    if let Ok(mut w) = ctx.srv.settings.write() {
        *w = s;
    }
    ctx.ks.space.enc = enc;
    if let Some(f) = events {
        ctx.ks.space.notify.set(f);
    }
    if let Some(n) = tracking_max {
        ctx.ks.space.tracking.set_max_keys(n);
    }
    ctx.srv.maxmemory.store(maxmemory, Ordering::Relaxed);
    // A lower limit evicts at once, as Redis's eviction timer would.
    crate::kv::evict::make_room(ctx, maxmemory);
    ctx.out.ok();
}
