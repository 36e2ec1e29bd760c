//! Connection commands: PING, ECHO, QUIT, HELLO, AUTH, SELECT, MONITOR,
//! RESET, CLIENT (whose subcommands are not `fast`, as in Redis 7.0).

use std::sync::Arc;
use std::sync::atomic::Ordering;

use super::arg::{self, is};
use super::{CommandSpec, Ctx, FAST, LOADING, NO_AUTH, NO_QUEUE, NOSCRIPT, STALE, spec};
use crate::kv::protocol::parse_int;
use crate::kv::reply::Out;
use crate::kv::session::{Replies, Session};
use crate::kv::shared::Shared;
use crate::kv::users::User;

const G: &str = "connection";
const F: u32 = FAST | LOADING | STALE;

static CLIENT_SUBS: &[CommandSpec] = &[
    spec(
        "id",
        2,
        NOSCRIPT | LOADING | STALE,
        (0, 0, 0),
        G,
        "5.0.0",
        "Returns the unique client ID of the connection.",
        "",
        client,
    ),
    spec(
        "getname",
        2,
        NOSCRIPT | LOADING | STALE,
        (0, 0, 0),
        G,
        "2.6.9",
        "Returns the name of the connection.",
        "",
        client,
    ),
    spec(
        "setname",
        3,
        NOSCRIPT | LOADING | STALE,
        (0, 0, 0),
        G,
        "2.6.9",
        "Sets the connection name.",
        "connection-name",
        client,
    ),
    spec(
        "setinfo",
        4,
        NOSCRIPT | LOADING | STALE,
        (0, 0, 0),
        G,
        "7.2.0",
        "Sets information specific to the client or connection.",
        "LIB-NAME libname|LIB-VER libver",
        client,
    ),
    spec(
        "info",
        2,
        NOSCRIPT | LOADING | STALE,
        (0, 0, 0),
        G,
        "6.2.0",
        "Returns information about the connection.",
        "",
        client,
    ),
    spec(
        "list",
        -2,
        NOSCRIPT | LOADING | STALE | super::ADMIN,
        (0, 0, 0),
        G,
        "2.4.0",
        "Lists open connections.",
        "[TYPE NORMAL|MASTER|REPLICA|PUBSUB] [ID client-id [client-id ...]]",
        client,
    ),
    spec(
        "kill",
        -3,
        NOSCRIPT | LOADING | STALE | super::ADMIN,
        (0, 0, 0),
        G,
        "2.4.0",
        "Terminates open connections.",
        "ip:port|[ID client-id] [TYPE NORMAL|MASTER|SLAVE|REPLICA|PUBSUB] [USER username] [ADDR ip:port] [LADDR ip:port] [SKIPME yes|no]",
        client,
    ),
    spec(
        "unblock",
        -3,
        NOSCRIPT | LOADING | STALE | super::ADMIN,
        (0, 0, 0),
        G,
        "5.0.0",
        "Unblocks a client blocked by a blocking command from a different connection.",
        "client-id [TIMEOUT|ERROR]",
        super::blocking::client_unblock,
    ),
    spec(
        "no-evict",
        3,
        NOSCRIPT | LOADING | STALE | super::ADMIN,
        (0, 0, 0),
        G,
        "7.0.0",
        "Sets the client eviction mode of the connection.",
        "ON|OFF",
        client,
    ),
    spec(
        "no-touch",
        3,
        NOSCRIPT | LOADING | STALE,
        (0, 0, 0),
        G,
        "7.2.0",
        "Controls whether commands sent by the client affect the LRU/LFU of accessed keys.",
        "ON|OFF",
        client,
    ),
    spec(
        "reply",
        3,
        NOSCRIPT | LOADING | STALE,
        (0, 0, 0),
        G,
        "3.2.0",
        "Instructs the server whether to reply to commands.",
        "ON|OFF|SKIP",
        client,
    ),
    spec(
        "tracking",
        -3,
        NOSCRIPT | LOADING | STALE,
        (0, 0, 0),
        G,
        "6.0.0",
        "Controls server-assisted client-side caching for the connection.",
        "ON|OFF [REDIRECT client-id] [PREFIX prefix [PREFIX prefix ...]] [BCAST] [OPTIN] [OPTOUT] [NOLOOP]",
        super::tracking::client_tracking,
    ),
    spec(
        "caching",
        3,
        NOSCRIPT | LOADING | STALE,
        (0, 0, 0),
        G,
        "6.0.0",
        "Instructs the server whether to track the keys in the next request.",
        "YES|NO",
        super::tracking::client_caching,
    ),
    spec(
        "getredir",
        2,
        NOSCRIPT | LOADING | STALE,
        (0, 0, 0),
        G,
        "6.0.0",
        "Returns the client ID to which the connection's tracking notifications are redirected.",
        "",
        super::tracking::client_getredir,
    ),
    spec(
        "trackinginfo",
        2,
        NOSCRIPT | LOADING | STALE,
        (0, 0, 0),
        G,
        "6.2.0",
        "Returns information about server-assisted client-side caching for the connection.",
        "",
        super::tracking::client_trackinginfo,
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
        client,
    ),
];

/// The connection family.
pub static COMMANDS: &[CommandSpec] = &[
    spec(
        "ping",
        -1,
        F,
        (0, 0, 0),
        G,
        "1.0.0",
        "Returns the server's liveliness response.",
        "[message]",
        ping,
    ),
    spec(
        "echo",
        2,
        F,
        (0, 0, 0),
        G,
        "1.0.0",
        "Returns the given string.",
        "message",
        echo,
    ),
    spec(
        "quit",
        -1,
        NO_AUTH | F | NO_QUEUE | NOSCRIPT,
        (0, 0, 0),
        G,
        "1.0.0",
        "Closes the connection.",
        "",
        quit,
    ),
    spec(
        "hello",
        -1,
        NO_AUTH | F | NOSCRIPT | NO_QUEUE,
        (0, 0, 0),
        G,
        "6.0.0",
        "Handshakes with the Redis server.",
        "[protover [AUTH username password] [SETNAME clientname]]",
        hello,
    ),
    spec(
        "auth",
        -2,
        NO_AUTH | F | NOSCRIPT | NO_QUEUE,
        (0, 0, 0),
        G,
        "1.0.0",
        "Authenticates the connection.",
        "[username] password",
        auth,
    ),
    spec(
        "select",
        2,
        F,
        (0, 0, 0),
        G,
        "1.0.0",
        "Changes the selected database.",
        "index",
        select,
    ),
    spec(
        "monitor",
        1,
        super::ADMIN | NOSCRIPT | LOADING | STALE | super::NO_MULTI,
        (0, 0, 0),
        G,
        "1.0.0",
        "Listens for all requests received by the server in real-time.",
        "",
        monitor,
    ),
    spec(
        "reset",
        1,
        NO_AUTH | F | NOSCRIPT | NO_QUEUE,
        (0, 0, 0),
        G,
        "6.2.0",
        "Resets the connection.",
        "",
        reset,
    ),
    CommandSpec {
        subcommands: CLIENT_SUBS,
        ..spec(
            "client",
            -2,
            0,
            (0, 0, 0),
            G,
            "2.4.0",
            "A container for client connection commands.",
            "ID|GETNAME|SETNAME|SETINFO|INFO|LIST|KILL|NO-EVICT|NO-TOUCH|REPLY|TRACKING|CACHING|GETREDIR|TRACKINGINFO|HELP ...",
            super::no_subcommand,
        )
    },
];

fn ping(ctx: &mut Ctx<'_>, a: &[&[u8]]) {
    if a.len() <= 2 && !ctx.out.resp3 && ctx.sess.pubsub.active() {
        // RESP2 subscribe mode: a two-item array, as Redis.
        ctx.out.array(2);
        ctx.out.bulk(b"pong");
        ctx.out.bulk(a.get(1).copied().unwrap_or(b""));
        return;
    }
    match a.len() {
        1 => ctx.out.status("PONG"),
        2 => ctx.out.bulk(a[1]),
        _ => super::arity_error(ctx.out, "ping"),
    }
}

fn echo(ctx: &mut Ctx<'_>, a: &[&[u8]]) {
    ctx.out.bulk(a[1]);
}

fn quit(ctx: &mut Ctx<'_>, _a: &[&[u8]]) {
    ctx.out.ok();
    ctx.sess.close = true;
}

/// Check a user and password (`None`: the default user); answers the
/// error on failure, logging it in `ACL LOG`.
fn check_password(
    srv: &Shared,
    sess: &Session,
    out: &mut Out,
    cmd: &[u8],
    user: Option<&[u8]>,
    pass: &[u8],
) -> Option<Arc<User>> {
    if user.is_none() && srv.users.default_user().perms().nopass {
        out.err("ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?");
        return None;
    }
    let name = user.unwrap_or(b"default");
    match srv.users.authenticate(name, pass) {
        Some(u) => Some(u),
        None => {
            super::acl::log_auth_failure(srv, sess, cmd, name);
            out.err("WRONGPASS invalid username-password pair or user is disabled.");
            None
        }
    }
}

fn auth(ctx: &mut Ctx<'_>, a: &[&[u8]]) {
    auth_client(ctx.srv, ctx.sess, ctx.out, a);
}

/// AUTH for one client: needs no key space, so it is also answered while a
/// script is busy ([`crate::kv::script::busy`]).
pub(crate) fn auth_client(srv: &Shared, sess: &mut Session, out: &mut Out, a: &[&[u8]]) {
    let (user, pass) = match a.len() {
        2 => (None, a[1]),
        3 => (Some(a[1]), a[2]),
        _ => {
            out.err(arg::SYNTAX);
            return;
        }
    };
    if let Some(u) = check_password(srv, sess, out, a[0], user, pass) {
        sess.set_user(u);
        sess.authed = true;
        out.ok();
    }
}

fn hello(ctx: &mut Ctx<'_>, a: &[&[u8]]) {
    hello_client(ctx.srv, ctx.sess, ctx.out, a);
}

/// HELLO for one client: needs no key space, as [`auth_client`].
pub(crate) fn hello_client(srv: &Shared, sess: &mut Session, out: &mut Out, a: &[&[u8]]) {
    let mut proto = if out.resp3 { 3 } else { 2 };
    if a.len() >= 2 {
        match parse_int(a[1]) {
            Some(v @ (2 | 3)) => proto = v,
            Some(_) => {
                out.err("NOPROTO unsupported protocol version");
                return;
            }
            None => {
                out.err("ERR Protocol version is not an integer or out of range");
                return;
            }
        }
    }
    let mut name = None;
    let mut i = 2;
    while i < a.len() {
        if is(a[i], "AUTH") && i + 2 < a.len() {
            let Some(u) = check_password(srv, sess, out, a[0], Some(a[i + 1]), a[i + 2]) else {
                return;
            };
            sess.set_user(u);
            sess.authed = true;
            i += 3;
        } else if is(a[i], "SETNAME") && i + 1 < a.len() {
            if !valid_name(a[i + 1]) {
                out.err(BAD_NAME);
                return;
            }
            name = Some(a[i + 1]);
            i += 2;
        } else {
            out.err(&format!(
                "ERR Syntax error in HELLO option '{}'",
                String::from_utf8_lossy(a[i])
            ));
            return;
        }
    }
    if !sess.authed {
        out.err("NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO <proto> AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time");
        return;
    }
    if let Some(n) = name {
        set_name(sess, n);
    }
    out.resp3 = proto == 3;
    sess.handle.resp.store(proto as usize, Ordering::Relaxed);
    out.map(7);
    out.bulk(b"server");
    out.bulk(b"redis");
    out.bulk(b"version");
    out.bulk(super::server::REDIS_VERSION.as_bytes());
    out.bulk(b"proto");
    out.int(proto);
    out.bulk(b"id");
    out.int(sess.id as i64);
    out.bulk(b"mode");
    out.bulk(b"standalone");
    out.bulk(b"role");
    out.bulk(b"master");
    out.bulk(b"modules");
    out.array(0);
}

fn select(ctx: &mut Ctx<'_>, a: &[&[u8]]) {
    let Some(n) = arg::int(ctx.out, a[1]) else {
        return;
    };
    if n < 0 || n as usize >= ctx.ks.space.dbs.len() {
        ctx.out.err("ERR DB index is out of range");
        return;
    }
    ctx.sess.db = n as usize;
    ctx.sess.handle.db.store(n as usize, Ordering::Relaxed);
    ctx.out.ok();
}

fn monitor(ctx: &mut Ctx<'_>, _a: &[&[u8]]) {
    if !ctx.sess.monitor {
        ctx.sess.monitor = true;
        ctx.srv.monitors.add(crate::kv::pubsub::Sub {
            worker: ctx.sess.handle.worker,
            client: ctx.sess.id,
        });
    }
    ctx.out.ok();
}

fn reset(ctx: &mut Ctx<'_>, _a: &[&[u8]]) {
    if std::mem::take(&mut ctx.sess.monitor) {
        ctx.srv.monitors.remove(ctx.sess.id);
    }
    super::transactions::reset_multi(ctx);
    super::pubsub::reset(ctx);
    if std::mem::take(&mut ctx.sess.tracking) {
        ctx.ks.space.tracking.disable(ctx.sess.id);
    }
    ctx.sess.db = 0;
    ctx.sess.handle.db.store(0, Ordering::Relaxed);
    ctx.out.resp3 = false;
    ctx.sess.handle.resp.store(2, Ordering::Relaxed);
    ctx.sess.no_evict = false;
    ctx.sess.no_touch = false;
    ctx.sess.reply = Replies::On;
    if let Ok(mut n) = ctx.sess.handle.name.lock() {
        *n = None;
    }
    ctx.sess.set_user(ctx.srv.users.default_user());
    ctx.sess.authed = !ctx.srv.users.default_needs_auth();
    ctx.out.status("RESET");
}

const BAD_NAME: &str = "ERR Client names cannot contain spaces, newlines or special characters.";

fn valid_name(n: &[u8]) -> bool {
    n.iter().all(|&c| (b'!'..=b'~').contains(&c))
}

fn set_name(sess: &mut Session, n: &[u8]) {
    if let Ok(mut name) = sess.handle.name.lock() {
        *name = (!n.is_empty()).then(|| n.to_vec());
    }
}

const CLIENT_HELP: &[&str] = &[
    "CLIENT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "GETNAME",
    "    Return the name of the current connection.",
    "ID",
    "    Return the ID of the current connection.",
    "INFO",
    "    Return information about the current client connection.",
    "KILL <ip:port>",
    "    Kill connection made from <ip:port>.",
    "KILL <option> <value> [<option> <value> [...]]",
    "    Kill connections. Options are: ID, ADDR, LADDR, SKIPME, TYPE, USER.",
    "LIST [options ...]",
    "    Return information about client connections.",
    "UNBLOCK <clientid> [TIMEOUT|ERROR]",
    "    Unblock the specified blocked client.",
    "NO-EVICT (ON|OFF)",
    "    Protect the current client connection from eviction.",
    "REPLY (ON|OFF|SKIP)",
    "    Control the replies sent to the current connection.",
    "SETNAME <name>",
    "    Assign the name <name> to the current connection.",
    "TRACKING (ON|OFF) [REDIRECT <id>] [BCAST] [PREFIX <prefix> [...]]",
    "         [OPTIN] [OPTOUT] [NOLOOP]",
    "    Control server assisted client side caching.",
    "CACHING (YES|NO)",
    "    Enable/disable tracking of the keys for next command in OPTIN/OPTOUT modes.",
    "GETREDIR",
    "    Return the client ID we are redirecting to when tracking is enabled.",
    "TRACKINGINFO",
    "    Report tracking status for the current connection.",
    "HELP",
    "    Print this help.",
];

fn on_off(ctx: &mut Ctx<'_>, a: &[u8]) -> Option<bool> {
    if is(a, "ON") {
        Some(true)
    } else if is(a, "OFF") {
        Some(false)
    } else {
        ctx.out.err(arg::SYNTAX);
        None
    }
}

fn client(ctx: &mut Ctx<'_>, a: &[&[u8]]) {
    let sub = String::from_utf8_lossy(a[1]).to_ascii_lowercase();
    match sub.as_str() {
        "id" => ctx.out.int(ctx.sess.id as i64),
        "getname" => {
            let n = ctx.sess.handle.name.lock().ok().and_then(|n| n.clone());
            ctx.out.bulk_opt(n.as_deref());
        }
        "setname" => {
            if !valid_name(a[2]) {
                ctx.out.err(BAD_NAME);
                return;
            }
            set_name(ctx.sess, a[2]);
            ctx.out.ok();
        }
        "setinfo" => {
            if is(a[2], "LIB-NAME") || is(a[2], "LIB-VER") {
                ctx.out.ok();
            } else {
                ctx.out.err(&format!(
                    "ERR Unrecognized option '{}'",
                    String::from_utf8_lossy(a[2])
                ));
            }
        }
        "info" => {
            let line = format!("{}\n", ctx.sess.handle.line());
            ctx.out.verbatim(line.as_bytes());
        }
        "list" => client_list(ctx, a),
        "kill" => client_kill(ctx, a),
        "no-evict" => {
            if let Some(v) = on_off(ctx, a[2]) {
                ctx.sess.no_evict = v;
                ctx.out.ok();
            }
        }
        "no-touch" => {
            if let Some(v) = on_off(ctx, a[2]) {
                ctx.sess.no_touch = v;
                ctx.out.ok();
            }
        }
        "reply" => {
            if is(a[2], "ON") {
                ctx.sess.reply = Replies::On;
                ctx.out.ok();
            } else if is(a[2], "OFF") {
                ctx.sess.reply = Replies::Off;
            } else if is(a[2], "SKIP") {
                if ctx.sess.reply != Replies::Off {
                    ctx.sess.reply = Replies::SkipNext;
                }
            } else {
                ctx.out.err(arg::SYNTAX);
            }
        }
        _ => super::keys::help(ctx, CLIENT_HELP),
    }
}

fn client_list(ctx: &mut Ctx<'_>, a: &[&[u8]]) {
    let mut ids: Option<Vec<u64>> = None;
    let mut i = 2;
    while i < a.len() {
        if is(a[i], "TYPE") && i + 1 < a.len() {
            let t = a[i + 1];
            if !["normal", "master", "replica", "slave", "pubsub"]
                .iter()
                .any(|w| is(t, w))
            {
                ctx.out.err(&format!(
                    "ERR Unknown client type '{}'",
                    String::from_utf8_lossy(t)
                ));
                return;
            }
            if !is(t, "normal") {
                ids = Some(Vec::new());
            }
            i += 2;
        } else if is(a[i], "ID") && i + 1 < a.len() {
            let mut v = Vec::new();
            for x in &a[i + 1..] {
                match parse_int(x) {
                    Some(n) if n > 0 => v.push(n as u64),
                    _ => {
                        ctx.out.err("ERR Invalid client ID");
                        return;
                    }
                }
            }
            ids = Some(v);
            i = a.len();
        } else {
            ctx.out.err(arg::SYNTAX);
            return;
        }
    }
    let mut text = String::new();
    for h in ctx.srv.registry.all() {
        if ids.as_ref().is_none_or(|v| v.contains(&h.id)) {
            text.push_str(&h.line());
            text.push('\n');
        }
    }
    ctx.out.verbatim(text.as_bytes());
}

fn client_kill(ctx: &mut Ctx<'_>, a: &[&[u8]]) {
    let all = ctx.srv.registry.all();
    if a.len() == 3 {
        // Old form: CLIENT KILL ip:port.
        let want = String::from_utf8_lossy(a[2]).into_owned();
        match all.iter().find(|h| h.addr.to_string() == want) {
            Some(h) => {
                kill_one(ctx, h.worker, h.id);
                ctx.out.ok();
            }
            None => ctx.out.err("ERR No such client"),
        }
        return;
    }
    if a.len() % 2 != 0 {
        ctx.out.err(arg::SYNTAX);
        return;
    }
    let mut skipme = true;
    let mut filters: Vec<(String, Vec<u8>)> = Vec::new();
    for pair in a[2..].chunks(2) {
        let k = String::from_utf8_lossy(pair[0]).to_ascii_lowercase();
        match k.as_str() {
            "id" => {
                if parse_int(pair[1]).is_none_or(|n| n <= 0) {
                    ctx.out.err("ERR client-id should be greater than 0");
                    return;
                }
            }
            "skipme" => {
                if is(pair[1], "yes") {
                    skipme = true;
                } else if is(pair[1], "no") {
                    skipme = false;
                } else {
                    ctx.out.err(arg::SYNTAX);
                    return;
                }
                continue;
            }
            "user" => {
                if ctx.srv.users.get(pair[1]).is_none() {
                    ctx.out.err(&format!(
                        "ERR No such user '{}'",
                        String::from_utf8_lossy(pair[1])
                    ));
                    return;
                }
            }
            "addr" | "laddr" => {}
            "type" => {
                if !["normal", "master", "replica", "slave", "pubsub"]
                    .iter()
                    .any(|w| is(pair[1], w))
                {
                    ctx.out.err(&format!(
                        "ERR Unknown client type '{}'",
                        String::from_utf8_lossy(pair[1])
                    ));
                    return;
                }
            }
            _ => {
                ctx.out.err(arg::SYNTAX);
                return;
            }
        }
        filters.push((k, pair[1].to_vec()));
    }
    let mut n = 0;
    for h in all {
        if skipme && h.id == ctx.sess.id {
            continue;
        }
        let hit = filters.iter().all(|(k, v)| match k.as_str() {
            "id" => parse_int(v) == Some(h.id as i64),
            "addr" => h.addr.to_string().as_bytes() == v.as_slice(),
            "laddr" => h.laddr.to_string().as_bytes() == v.as_slice(),
            "user" => h.user().name.as_bytes() == v.as_slice(),
            "type" => is(v, "normal"),
            _ => false,
        });
        if hit {
            kill_one(ctx, h.worker, h.id);
            n += 1;
        }
    }
    ctx.out.int(n);
}

fn kill_one(ctx: &mut Ctx<'_>, worker: usize, id: u64) {
    if id == ctx.sess.id {
        ctx.sess.close = true;
    } else {
        ctx.outbox
            .push((worker, super::super::shared::Msg::Kill(id)));
    }
}
