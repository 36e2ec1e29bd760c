//! ACL: users, their rules, and the refusals (`NOPERM`, `ACL LOG`).
//! Users live in memory only: `ACL LOAD` and `ACL SAVE` answer as a Redis
//! started without an ACL file does.

use std::sync::Arc;

use super::arg::{self, is};
use super::{ADMIN, CommandSpec, Ctx, LOADING, NOSCRIPT, STALE, spec};
use crate::kv::shared::Msg;
use crate::kv::users::log::{self, Context, Reason};
use crate::kv::users::{self, Denied, Perms, User, cats, describe};

const G: &str = "server";
const F: u32 = NOSCRIPT | LOADING | STALE;

macro_rules! sub {
    ($name:expr, $arity:expr, $flags:expr, $since:expr, $summary:expr, $syntax:expr) => {
        spec(
            $name,
            $arity,
            $flags,
            (0, 0, 0),
            G,
            $since,
            $summary,
            $syntax,
            acl,
        )
    };
}

static ACL_SUBS: &[CommandSpec] = &[
    sub!(
        "cat",
        -2,
        F,
        "6.0.0",
        "Lists the ACL categories, or the commands inside a category.",
        "[category]"
    ),
    sub!(
        "deluser",
        -3,
        ADMIN | F,
        "6.0.0",
        "Deletes ACL users, and terminates their connections.",
        "username [username ...]"
    ),
    sub!(
        "dryrun",
        -4,
        ADMIN | F,
        "7.0.0",
        "Simulates the execution of a command by a user, without executing the command.",
        "username command [arg [arg ...]]"
    ),
    sub!(
        "genpass",
        -2,
        F,
        "6.0.0",
        "Generates a pseudorandom, secure password that can be used to identify ACL users.",
        "[bits]"
    ),
    sub!(
        "getuser",
        3,
        ADMIN | F,
        "6.0.0",
        "Lists the ACL rules of a user.",
        "username"
    ),
    sub!(
        "list",
        2,
        ADMIN | F,
        "6.0.0",
        "Dumps the effective rules in ACL file format.",
        ""
    ),
    sub!(
        "load",
        2,
        ADMIN | F,
        "6.0.0",
        "Reloads the rules from the configured ACL file.",
        ""
    ),
    sub!(
        "log",
        -2,
        ADMIN | F,
        "6.0.0",
        "Lists recent security events generated due to ACL rules.",
        "[count|RESET]"
    ),
    sub!(
        "save",
        2,
        ADMIN | F,
        "6.0.0",
        "Saves the effective ACL rules in the configured ACL file.",
        ""
    ),
    sub!(
        "setuser",
        -3,
        ADMIN | F,
        "6.0.0",
        "Creates and modifies an ACL user and its rules.",
        "username [rule [rule ...]]"
    ),
    sub!("users", 2, ADMIN | F, "6.0.0", "Lists all ACL users.", ""),
    sub!(
        "whoami",
        2,
        F,
        "6.0.0",
        "Returns the authenticated username of the current connection.",
        ""
    ),
    sub!(
        "help",
        2,
        LOADING | STALE,
        "6.0.0",
        "Returns helpful text about the different subcommands.",
        ""
    ),
];

/// The ACL container.
pub static COMMANDS: &[CommandSpec] = &[CommandSpec {
    subcommands: ACL_SUBS,
    ..spec(
        "acl",
        -2,
        0,
        (0, 0, 0),
        G,
        "6.0.0",
        "A container for Access List Control commands.",
        "CAT|DELUSER|DRYRUN|GENPASS|GETUSER|LIST|LOAD|LOG|SAVE|SETUSER|USERS|WHOAMI|HELP ...",
        super::no_subcommand,
    )
}];

const HELP: &[&str] = &[
    "ACL <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "CAT [<category>]",
    "    List all commands that belong to <category>, or all command categories",
    "    when no category is specified.",
    "DELUSER <username> [<username> ...]",
    "    Delete a list of users.",
    "DRYRUN <username> <command> [<arg> ...]",
    "    Returns whether the user can execute the given command without executing the command.",
    "GETUSER <username>",
    "    Get the user's details.",
    "GENPASS [<bits>]",
    "    Generate a secure 256-bit user password. The optional `bits` argument can",
    "    be used to specify a different size.",
    "LIST",
    "    Show users details in config file format.",
    "LOAD",
    "    Reload users from the ACL file.",
    "LOG [<count> | RESET]",
    "    Show the ACL log entries.",
    "SAVE",
    "    Save the current config to the ACL file.",
    "SETUSER <username> <attribute> [<attribute> ...]",
    "    Create or modify a user with the specified attributes.",
    "USERS",
    "    List all the registered usernames.",
    "WHOAMI",
    "    Return the current connection username.",
    "HELP",
    "    Prints this help.",
];

fn lossy(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn wrong_args(ctx: &mut Ctx<'_>, sub: &[u8]) {
    let shown = &sub[..sub.len().min(128)];
    ctx.out.err(&format!(
        "ERR unknown subcommand or wrong number of arguments for '{}'. Try ACL HELP.",
        lossy(shown)
    ));
}

fn acl(ctx: &mut Ctx<'_>, a: &[&[u8]]) {
    let sub = lossy(a[1]).to_ascii_lowercase();
    match sub.as_str() {
        "setuser" => setuser(ctx, a),
        "deluser" => deluser(ctx, a),
        "getuser" => getuser(ctx, a[2]),
        "users" => {
            let all = ctx.srv.users.all();
            ctx.out.array(all.len());
            for u in all {
                ctx.out.bulk(u.name.as_bytes());
            }
        }
        "list" => {
            let all = ctx.srv.users.all();
            ctx.out.array(all.len());
            for u in all {
                ctx.out.bulk(describe::line(&u.name, &u.perms()).as_bytes());
            }
        }
        "whoami" => ctx.out.bulk(ctx.sess.user.name.as_bytes()),
        "cat" if a.len() > 3 => wrong_args(ctx, a[1]),
        "cat" => cat(ctx, a),
        "genpass" => genpass(ctx, a),
        "log" => acl_log(ctx, a),
        "dryrun" => dryrun(ctx, a),
        "load" | "save" => ctx.out.err("ERR This Redis instance is not configured to use an ACL file. You may want to specify users via the ACL SETUSER command and then issue a CONFIG REWRITE (assuming you have a Redis configuration file set) in order to store users in the Redis configuration."),
        _ => super::keys::help(ctx, HELP),
    }
}

/// Send `msg(id)` for every client running as `user` but this one; true
/// when this one runs as `user`.
fn each_client_of(ctx: &mut Ctx<'_>, user: &Arc<User>, msg: fn(u64) -> Msg) -> bool {
    for h in ctx.srv.registry.all() {
        if h.id != ctx.sess.id && Arc::ptr_eq(&h.user(), user) {
            ctx.outbox.push((h.worker, msg(h.id)));
        }
    }
    Arc::ptr_eq(&ctx.sess.user, user)
}

fn setuser(ctx: &mut Ctx<'_>, a: &[&[u8]]) {
    match ctx.srv.users.set_user(a[2], &a[3..]) {
        Ok((user, before)) => {
            ctx.out.ok();
            let now = user.perms();
            let narrowed = !now.allchannels
                && (before.allchannels
                    || before.channels.iter().any(|c| !now.channels.contains(c)));
            if narrowed
                && each_client_of(ctx, &user, Msg::CheckChannels)
                && !users::subscriptions_allowed(ctx.sess)
            {
                ctx.sess.close = true;
            }
        }
        Err(e) => ctx.out.err(&e),
    }
}

fn deluser(ctx: &mut Ctx<'_>, a: &[&[u8]]) {
    match ctx.srv.users.del_users(&a[2..]) {
        Ok(gone) => {
            ctx.out.int(gone.len() as i64);
            for u in &gone {
                if each_client_of(ctx, u, Msg::Kill) {
                    ctx.sess.close = true;
                }
            }
        }
        Err(e) => ctx.out.err(e),
    }
}

fn getuser(ctx: &mut Ctx<'_>, name: &[u8]) {
    let Some(u) = ctx.srv.users.get(name) else {
        ctx.out.null();
        return;
    };
    let p = u.perms();
    ctx.out.map(6);
    ctx.out.bulk(b"flags");
    let flags = describe::flags(&p);
    ctx.out.set(flags.len());
    for f in flags {
        ctx.out.bulk(f.as_bytes());
    }
    ctx.out.bulk(b"passwords");
    ctx.out.array(p.passwords.len());
    for h in &p.passwords {
        ctx.out.bulk(h.as_bytes());
    }
    ctx.out.bulk(b"commands");
    ctx.out.bulk(describe::command_rules(&p).as_bytes());
    ctx.out.bulk(b"keys");
    ctx.out.bulk(describe::keys(&p).as_bytes());
    ctx.out.bulk(b"channels");
    ctx.out.bulk(describe::channels(&p).as_bytes());
    ctx.out.bulk(b"selectors");
    ctx.out.array(0);
}

fn cat(ctx: &mut Ctx<'_>, a: &[&[u8]]) {
    match a.get(2) {
        None => {
            ctx.out.array(cats::NAMES.len());
            for n in cats::NAMES {
                ctx.out.bulk(n.as_bytes());
            }
        }
        Some(c) => {
            let Some(bits) = cats::by_name(c) else {
                let shown = &c[..c.len().min(128)];
                ctx.out
                    .err(&format!("ERR Unknown category '{}'", lossy(shown)));
                return;
            };
            let names: Vec<&str> = cats::table()
                .entries
                .iter()
                .filter(|e| e.cats & bits != 0)
                .map(|e| e.fullname.as_str())
                .collect();
            ctx.out.array(names.len());
            for n in names {
                ctx.out.bulk(n.as_bytes());
            }
        }
    }
}

fn genpass(ctx: &mut Ctx<'_>, a: &[&[u8]]) {
    if a.len() > 3 {
        return wrong_args(ctx, a[1]);
    }
    let mut bits = 256;
    if let Some(b) = a.get(2) {
        let Some(n) = arg::int(ctx.out, b) else {
            return;
        };
        bits = n;
    }
    if bits <= 0 || bits > 4096 {
        ctx.out.err("ERR ACL GENPASS argument must be the number of bits for the output password, a positive number up to 4096");
        return;
    }
    let chars = (bits as usize).div_ceil(4);
    let mut raw = vec![0u8; chars.div_ceil(2)];
    use ring::rand::SecureRandom;
    if ring::rand::SystemRandom::new().fill(&mut raw).is_err() {
        ctx.out.err("ERR cannot read random bytes");
        return;
    }
    let hex: String = raw.iter().map(|b| format!("{b:02x}")).collect();
    ctx.out.bulk(&hex.as_bytes()[..chars]);
}

fn acl_log(ctx: &mut Ctx<'_>, a: &[&[u8]]) {
    if a.len() > 3 {
        return wrong_args(ctx, a[1]);
    }
    let mut count = 10usize;
    if let Some(c) = a.get(2) {
        if is(c, "RESET") {
            ctx.srv.users.log.reset();
            ctx.out.ok();
            return;
        }
        let Some(n) = arg::int(ctx.out, c) else {
            return;
        };
        count = n.max(0) as usize;
    }
    let entries = ctx.srv.users.log.newest(count);
    let now = log::now_ms();
    ctx.out.array(entries.len());
    for e in entries {
        ctx.out.map(7);
        ctx.out.bulk(b"count");
        ctx.out.int(e.count as i64);
        ctx.out.bulk(b"reason");
        ctx.out.bulk(e.reason.word().as_bytes());
        ctx.out.bulk(b"context");
        ctx.out.bulk(e.context.word().as_bytes());
        ctx.out.bulk(b"object");
        ctx.out.bulk(&e.object);
        ctx.out.bulk(b"username");
        ctx.out.bulk(&e.username);
        ctx.out.bulk(b"age-seconds");
        ctx.out.double(now.saturating_sub(e.at_ms) as f64 / 1000.0);
        ctx.out.bulk(b"client-info");
        ctx.out.bulk(e.client_info.as_bytes());
    }
}

fn dryrun(ctx: &mut Ctx<'_>, a: &[&[u8]]) {
    let Some(u) = ctx.srv.users.get(a[2]) else {
        ctx.out
            .err(&format!("ERR User '{}' not found", lossy(a[2])));
        return;
    };
    let argv = &a[3..];
    let found =
        super::lookup(argv[0]).and_then(|top| match (top.subcommands.is_empty(), argv.get(1)) {
            (true, _) | (false, None) => Some(top),
            (false, Some(s)) => super::lookup_sub(top, s),
        });
    let Some(spec) = found else {
        ctx.out
            .err(&format!("ERR Command '{}' not found", lossy(argv[0])));
        return;
    };
    let t = cats::table();
    let id = t.id(spec);
    if !spec.arity_ok(argv.len()) {
        super::arity_error(ctx.out, &t.entries[id].fullname);
        return;
    }
    match users::check(&u.perms(), id, spec, argv) {
        Ok(()) => ctx.out.ok(),
        Err(d) => {
            let msg = match d {
                Denied::Command => format!(
                    "This user has no permissions to run the '{}' command",
                    t.entries[id].fullname
                ),
                Denied::Key(i) => format!(
                    "This user has no permissions to access the '{}' key",
                    lossy(argv[i])
                ),
                Denied::Channel(i) => format!(
                    "This user has no permissions to access the '{}' channel",
                    lossy(argv[i])
                ),
            };
            ctx.out.bulk(msg.as_bytes());
        }
    }
}

/// True when `perms` let `argv` run (`redis.acl_check_cmd`: nothing logged).
pub fn permitted(perms: &Perms, spec: &CommandSpec, argv: &[&[u8]]) -> bool {
    users::check(perms, cats::table().id(spec), spec, argv).is_ok()
}

/// The check of [`super::dispatch`] and scripts for a restricted user:
/// `None` when `argv` may run, else the refusal, logged in `ACL LOG`.
pub fn refused(
    ctx: &Ctx<'_>,
    perms: &Perms,
    spec: &CommandSpec,
    argv: &[&[u8]],
    context: Context,
) -> Option<(Denied, String)> {
    let t = cats::table();
    let id = t.id(spec);
    let d = users::check(perms, id, spec, argv).err()?;
    let (reason, object) = match d {
        Denied::Command => (Reason::Command, t.entries[id].fullname.as_bytes().to_vec()),
        Denied::Key(i) => (Reason::Key, argv[i].to_vec()),
        Denied::Channel(i) => (Reason::Channel, argv[i].to_vec()),
    };
    ctx.srv.users.log.add(log::Entry {
        count: 1,
        reason,
        context,
        object,
        username: ctx.sess.user.name.as_bytes().to_vec(),
        at_ms: log::now_ms(),
        client_info: ctx.sess.handle.line(),
    });
    Some((d, t.entries[id].fullname.clone()))
}

/// Log a failed `AUTH` / `HELLO AUTH` for `username`.
pub fn log_auth_failure(
    srv: &crate::kv::shared::Shared,
    sess: &crate::kv::session::Session,
    cmd: &[u8],
    username: &[u8],
) {
    srv.users.log.add(log::Entry {
        count: 1,
        reason: Reason::Auth,
        context: if sess.multi.is_some() {
            Context::Multi
        } else {
            Context::Toplevel
        },
        object: cmd.to_vec(),
        username: username.to_vec(),
        at_ms: log::now_ms(),
        client_info: sess.handle.line(),
    });
}

/// The `NOPERM` reply for a command sent by the client (or queued in MULTI).
pub fn noperm_text(d: Denied, fullname: &str) -> String {
    match d {
        Denied::Command => {
            format!("NOPERM this user has no permissions to run the '{fullname}' command")
        }
        Denied::Key(_) => {
            "NOPERM this user has no permissions to access one of the keys used as arguments".into()
        }
        Denied::Channel(_) => {
            "NOPERM this user has no permissions to access one of the channels used as arguments"
                .into()
        }
    }
}

/// The `NOPERM` reply for a queued command refused at `EXEC` (the rules
/// changed meanwhile).
pub fn noperm_exec_text(d: Denied) -> String {
    let why = match d {
        Denied::Command => "no permission to execute the command or subcommand",
        Denied::Key(_) => "no permission to touch the specified keys",
        Denied::Channel(_) => "no permission to access one of the channels used as arguments",
    };
    format!(
        "NOPERM ACLs rules changed between the moment the transaction was accumulated and the EXEC call. This command is no longer allowed for the following reason: {why}"
    )
}

/// The error a script's `redis.call` gets.
pub fn noperm_script_text(d: Denied) -> String {
    let why = match d {
        Denied::Command => "can't run this command or subcommand",
        Denied::Key(_) => {
            "can't access at least one of the keys mentioned in the command arguments"
        }
        Denied::Channel(_) => "can't publish to the channel mentioned in the command",
    };
    format!("ERR The user executing the script {why}")
}
