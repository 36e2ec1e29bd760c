//! The command table and dispatch.
//!
//! Every command is one [`CommandSpec`] in a `static` slice of its family's
//! file (`keys.rs`, `strings.rs`, `bits.rs`, `server.rs`, `introspect.rs`,
//! `connection.rs`, `transactions.rs`): name, Redis arity, flags, key
//! positions, a one-line summary, its argument syntax and its handler. The
//! same table drives dispatch, arity errors, `COMMAND`, `COMMAND
//! COUNT|INFO|DOCS|LIST|GETKEYS`, and the client's hints and help. Adding a
//! command is one entry plus one handler. Issue 11's families (hashes,
//! lists, sets, sorted sets, pub/sub, scripting) are new files listed in
//! [`FAMILIES`].
//!
//! Lookup: one hash map from lowercase name to spec, built once; the name is
//! lowercased on the stack, so a lookup allocates nothing.

pub mod acl;
pub mod bits;
pub mod blocking;
pub mod cluster;
pub mod coll;
pub mod connection;
pub mod dump;
pub mod geo;
pub mod geosearch;
pub mod geosort;
pub mod hashes;
pub mod introspect;
pub mod keys;
pub mod line;
pub mod lists;
pub mod pubsub;
pub mod scripting;
pub mod server;
pub mod setops;
pub mod sets;
pub mod sort;
pub mod streams;
pub mod strings;
pub mod tracking;
pub mod transactions;
pub mod xgroups;
pub mod xinfo;
pub mod xread;
pub mod zrange;
pub mod zsets;
pub mod zstore;

use std::collections::HashMap;
use std::sync::OnceLock;
use std::sync::atomic::Ordering::Relaxed;

use crate::kv::shared::CmdStat;

use super::keyspace::Ks;
use super::reply::Out;
use super::session::Session;
use super::shared::{Msg, Shared};

/// A command handler: arguments (name first) in, reply written to `ctx.out`.
pub type Handler = fn(&mut Ctx<'_>, &[&[u8]]);

/// Finds a command's key positions among `argv` (name first) when no range
/// or `numkeys` says where they are (SORT's STORE may come anywhere).
pub type GetKeys = fn(&[&[u8]]) -> Vec<usize>;

/// Changes data: logged, refused while the log cannot be written.
pub const WRITE: u32 = 1;
/// Only reads data.
pub const READONLY: u32 = 1 << 1;
/// May grow memory.
pub const DENYOOM: u32 = 1 << 2;
/// Administrative.
pub const ADMIN: u32 = 1 << 3;
/// O(1) or O(log n).
pub const FAST: u32 = 1 << 4;
/// Allowed before `AUTH`.
pub const NO_AUTH: u32 = 1 << 5;
/// Runs at once inside MULTI instead of being queued (EXEC, DISCARD, ...).
pub const NO_QUEUE: u32 = 1 << 6;
/// Not allowed inside MULTI.
pub const NO_MULTI: u32 = 1 << 7;
/// Not allowed from scripts.
pub const NOSCRIPT: u32 = 1 << 8;
/// Served while loading.
pub const LOADING: u32 = 1 << 9;
/// Served on a stale replica.
pub const STALE: u32 = 1 << 10;
/// May block the client (issue 11's blocking pops).
pub const BLOCKING: u32 = 1 << 11;
/// Pub/sub.
pub const PUBSUB: u32 = 1 << 12;

const FLAG_NAMES: [(u32, &str); 13] = [
    (WRITE, "write"),
    (READONLY, "readonly"),
    (DENYOOM, "denyoom"),
    (ADMIN, "admin"),
    (PUBSUB, "pubsub"),
    (NOSCRIPT, "noscript"),
    (BLOCKING, "blocking"),
    (LOADING, "loading"),
    (STALE, "stale"),
    (FAST, "fast"),
    (NO_AUTH, "no_auth"),
    (NO_MULTI, "no_multi"),
    (NO_QUEUE, "allow_busy"),
];

/// One command (or subcommand) of the table.
#[derive(Debug)]
pub struct CommandSpec {
    /// Lowercase name (`get`; a subcommand: `get` under `config`).
    pub name: &'static str,
    /// Redis arity: `n` exactly n arguments (name included), `-n` at least n.
    pub arity: i32,
    /// Flag bits.
    pub flags: u32,
    /// First key position (0: none), last (-1: the last argument), step.
    pub keys: (i32, i32, i32),
    /// Position of a `numkeys` argument followed by that many keys (0:
    /// none): LMPOP, ZUNIONSTORE... Such commands are `movablekeys`.
    pub numkeys: usize,
    /// Finds the keys itself (overrides `keys` and `numkeys` for `COMMAND
    /// GETKEYS`): such commands are `movablekeys` too.
    pub getkeys: Option<GetKeys>,
    /// Redis's group (`string`, `generic`, `server`, `connection`, `transactions`).
    pub group: &'static str,
    /// Redis version that introduced it.
    pub since: &'static str,
    /// One line of help.
    pub summary: &'static str,
    /// Argument syntax after the name, as Redis's docs print it.
    pub syntax: &'static str,
    /// Subcommands (`CONFIG GET`...), empty for most.
    pub subcommands: &'static [CommandSpec],
    /// The handler (for a container: answers an unknown subcommand).
    pub handler: Handler,
}

impl CommandSpec {
    /// True when `n` arguments (name included) satisfy the arity.
    pub fn arity_ok(&self, n: usize) -> bool {
        if self.arity >= 0 {
            n == self.arity as usize
        } else {
            n >= (-self.arity) as usize
        }
    }

    /// The flag names, as `COMMAND INFO` lists them.
    pub fn flag_names(&self) -> Vec<&'static str> {
        let mut v: Vec<&'static str> = FLAG_NAMES
            .iter()
            .filter(|(f, _)| self.flags & f != 0)
            .map(|(_, n)| *n)
            .collect();
        if self.numkeys > 0 || self.getkeys.is_some() {
            v.push("movablekeys");
        }
        v
    }

    /// Positions of the keys among `argv` (name first).
    pub fn key_positions(&self, argv: &[&[u8]]) -> Vec<usize> {
        if let Some(f) = self.getkeys {
            return f(argv);
        }
        let argc = argv.len();
        let (first, last, step) = self.keys;
        let mut pos: Vec<usize> = if first <= 0 || step <= 0 {
            Vec::new()
        } else {
            let last = if last < 0 { argc as i32 + last } else { last };
            (first..=last.min(argc as i32 - 1))
                .step_by(step as usize)
                .map(|p| p as usize)
                .collect()
        };
        if self.numkeys > 0 {
            let n = argv
                .get(self.numkeys)
                .and_then(|a| super::protocol::parse_int(a))
                .unwrap_or(0)
                .max(0) as usize;
            let from = self.numkeys + 1;
            for p in from..from.saturating_add(n).min(argc) {
                if !pos.contains(&p) {
                    pos.push(p);
                }
            }
        }
        pos
    }

    /// This spec with its keys counted by the `numkeys` argument at `i`.
    pub const fn numkeys_at(self, i: usize) -> CommandSpec {
        CommandSpec { numkeys: i, ..self }
    }

    /// This spec with its keys found by `f`.
    pub const fn keys_by(self, f: GetKeys) -> CommandSpec {
        CommandSpec {
            getkeys: Some(f),
            ..self
        }
    }
}

/// Every family's table. Issue 11 adds its files here.
pub static FAMILIES: &[&[CommandSpec]] = &[
    strings::COMMANDS,
    bits::COMMANDS,
    keys::COMMANDS,
    dump::COMMANDS,
    server::COMMANDS,
    introspect::COMMANDS,
    connection::COMMANDS,
    transactions::COMMANDS,
    hashes::COMMANDS,
    streams::COMMANDS,
    xgroups::COMMANDS,
    xinfo::COMMANDS,
    xread::COMMANDS,
    lists::COMMANDS,
    blocking::COMMANDS,
    sets::COMMANDS,
    setops::COMMANDS,
    sort::COMMANDS,
    zsets::COMMANDS,
    zrange::COMMANDS,
    zstore::COMMANDS,
    geo::COMMANDS,
    geosearch::COMMANDS,
    pubsub::COMMANDS,
    scripting::COMMANDS,
    cluster::COMMANDS,
    acl::COMMANDS,
];

/// Every command, in table order.
pub fn all() -> impl Iterator<Item = &'static CommandSpec> {
    FAMILIES.iter().flat_map(|f| f.iter())
}

type Index = HashMap<&'static str, (usize, &'static CommandSpec)>;

fn index() -> &'static Index {
    static INDEX: OnceLock<Index> = OnceLock::new();
    INDEX.get_or_init(|| all().enumerate().map(|(i, c)| (c.name, (i, c))).collect())
}

/// Number of top-level commands (the size of per-loop call counters).
pub fn count() -> usize {
    index().len()
}

/// Find a command by name, any case; no allocation.
pub fn lookup(name: &[u8]) -> Option<&'static CommandSpec> {
    lookup_idx(name).map(|(_, c)| c)
}

/// Find a command and its index in the table.
pub fn lookup_idx(name: &[u8]) -> Option<(usize, &'static CommandSpec)> {
    let mut buf = [0u8; 32];
    if name.len() > buf.len() {
        return None;
    }
    for (d, s) in buf.iter_mut().zip(name) {
        *d = s.to_ascii_lowercase();
    }
    let key = std::str::from_utf8(&buf[..name.len()]).ok()?;
    index().get(key).copied()
}

/// Names of the commands, by table index.
pub fn names() -> Vec<&'static str> {
    all().map(|c| c.name).collect()
}

/// Find a subcommand of `parent` by name, any case.
pub fn lookup_sub(parent: &'static CommandSpec, name: &[u8]) -> Option<&'static CommandSpec> {
    parent
        .subcommands
        .iter()
        .find(|s| s.name.as_bytes().eq_ignore_ascii_case(name))
}

/// Everything a handler may touch.
pub struct Ctx<'a> {
    /// The locked key space.
    pub ks: Ks<'a>,
    /// The client's state.
    pub sess: &'a mut Session,
    /// The client's output.
    pub out: &'a mut Out,
    /// Server-wide state.
    pub srv: &'a Shared,
    /// Effects on other loops, sent only if the round commits.
    pub outbox: &'a mut Vec<(usize, Msg)>,
    /// This event loop's per-command call counters (one writer: no atomics contention).
    pub calls: &'a [crate::kv::shared::CmdStat],
    /// Set when the round is re-run after a failed log write: write
    /// commands get this error instead of running.
    pub refuse_writes: Option<&'a str>,
    /// Serves the loop's other clients while a script is busy (None in
    /// tests and inside scripts).
    pub interrupt: Option<&'a mut dyn super::script::run::Interrupt>,
}

impl Ctx<'_> {
    /// The selected database.
    pub fn db(&self) -> usize {
        self.sess.db
    }
}

/// `ERR wrong number of arguments for 'x' command`.
pub fn arity_error(out: &mut Out, name: &str) {
    out.err(&format!(
        "ERR wrong number of arguments for '{name}' command"
    ));
}

fn shown(b: &[u8], max: usize) -> String {
    String::from_utf8_lossy(&b[..b.len().min(max)]).into_owned()
}

/// `ERR unknown command ...`, with Redis's wording.
fn unknown(out: &mut Out, argv: &[&[u8]]) {
    let mut msg = format!(
        "ERR unknown command '{}', with args beginning with: ",
        shown(argv[0], 128)
    );
    for a in argv[1..].iter().take(16) {
        msg.push_str(&format!("'{}' ", shown(a, 128)));
    }
    out.err(&msg);
}

/// Resolve `argv` to its spec (subcommand included) and the top-level
/// command's index, or answer why not.
pub fn resolve(argv: &[&[u8]], out: &mut Out) -> Option<(usize, &'static CommandSpec)> {
    let Some((idx, spec)) = lookup_idx(argv[0]) else {
        unknown(out, argv);
        return None;
    };
    if spec.subcommands.is_empty() {
        if !spec.arity_ok(argv.len()) {
            arity_error(out, spec.name);
            return None;
        }
        return Some((idx, spec));
    }
    let Some(sub) = argv.get(1) else {
        if spec.arity_ok(1) {
            return Some((idx, spec)); // COMMAND alone
        }
        arity_error(out, spec.name);
        return None;
    };
    let Some(s) = lookup_sub(spec, sub) else {
        out.err(&format!(
            "ERR unknown subcommand '{}'. Try {} HELP.",
            shown(sub, 128),
            spec.name.to_ascii_uppercase()
        ));
        return None;
    };
    if !s.arity_ok(argv.len()) {
        arity_error(out, &format!("{}|{}", spec.name, s.name));
        return None;
    }
    Some((idx, s))
}

/// Count the error reply a command wrote at `at`, if it answered one, in
/// INFO errorstats (unless a script's command counted it already).
pub fn count_error(ctx: &mut Ctx<'_>, at: usize) {
    let counted = std::mem::take(&mut ctx.sess.error_counted);
    if !counted && ctx.out.buf.get(at) == Some(&b'-') {
        ctx.srv.errors.count(&ctx.out.buf[at..]);
    }
}

/// Run one command for a client: resolve, check arity, auth and MULTI,
/// then call its handler with its log ops grouped as one record.
pub fn dispatch(ctx: &mut Ctx<'_>, argv: &[&[u8]]) {
    if argv.is_empty() {
        return;
    }
    if ctx.sess.watch_stale {
        // Let go while a script was busy; a WATCH made then still stands.
        ctx.sess.watch_stale = false;
        transactions::release_watched(ctx);
    }
    let in_multi = ctx.sess.multi.is_some();
    let at = ctx.out.buf.len();
    let resolved = resolve(argv, ctx.out);
    if ctx.ks.depth() == 0 {
        // What CLIENT LIST shows as its `cmd` (EXEC's, not its queue's).
        let addr = resolved.map_or(0, |(_, s)| crate::kv::users::cats::spec_addr(s));
        ctx.sess.handle.last_cmd.store(addr, Relaxed);
    }
    let (idx, spec) = match resolved {
        Some(s) => s,
        None => {
            // A known command with the wrong arity was rejected (Redis
            // counts it; an unknown name or subcommand is nobody's).
            if ctx.out.buf[at..].starts_with(b"-ERR wrong number of arguments") {
                if let Some(c) = lookup_idx(argv[0]).and_then(|(i, _)| ctx.calls.get(i)) {
                    CmdStat::bump(&c.rejected);
                }
            }
            if in_multi {
                ctx.sess.multi_error = true;
            }
            return;
        }
    };
    if refused(ctx, spec, argv, in_multi) {
        if let Some(c) = ctx.calls.get(idx) {
            CmdStat::bump(&c.rejected);
        }
        return;
    }
    if in_multi && spec.flags & NO_QUEUE == 0 {
        if let Some(q) = &mut ctx.sess.multi {
            q.push(argv.iter().map(|a| a.to_vec()).collect());
            ctx.sess.handle.set_multi(Some(q.len()));
        }
        ctx.out.status("QUEUED");
        return;
    }
    if spec.flags & WRITE != 0 {
        if let Some(why) = write_refused(ctx) {
            ctx.out.err(&why);
            if let Some(c) = ctx.calls.get(idx) {
                CmdStat::bump(&c.rejected);
            }
            return;
        }
    }
    if let Some(c) = ctx.calls.get(idx) {
        CmdStat::bump(&c.calls);
    }
    let monitored = ctx.srv.monitors.active() && spec.flags & ADMIN == 0;
    let first = monitored && crate::kv::monitor::shown_first(spec.name);
    if first {
        monitor(ctx, argv);
    }
    let reply_at = ctx.out.buf.len();
    if ctx.ks.space.tracking.on && ctx.ks.depth() == 0 {
        ctx.ks.space.tracking.current = ctx.sess.id;
    }
    ctx.ks.begin();
    (spec.handler)(ctx, argv);
    ctx.ks.end();
    if ctx.out.buf.get(reply_at) == Some(&b'-') {
        if let Some(c) = ctx.calls.get(idx) {
            CmdStat::bump(&c.failed);
        }
    }
    if ctx.sess.tracking {
        tracking::after_command(ctx, spec, argv);
    }
    if ctx.ks.depth() == 0 {
        if ctx.ks.space.blocking.has_ready() {
            // After the whole command (a whole EXEC): serve blocked clients.
            blocking::serve_ready(ctx);
        }
        if ctx.ks.space.notify.has_pending() {
            super::notify::flush(ctx, reply_at);
        }
        if ctx.ks.space.tracking.has_pending() {
            // Invalidations, the client's own after its reply.
            tracking::flush(ctx);
        }
    }
    if monitored && !first {
        monitor(ctx, argv);
    }
}

/// The ACL check of a restricted user's command: false when refused
/// (answered, and logged in `ACL LOG`). Inside `EXEC` (the rules changed
/// since the command was queued) with Redis's other text.
#[cold]
fn acl_allows(ctx: &mut Ctx<'_>, spec: &'static CommandSpec, argv: &[&[u8]]) -> bool {
    let perms = ctx.sess.user.perms();
    if perms.unrestricted() {
        return true;
    }
    let in_exec = ctx.ks.depth() > 0;
    let context = if in_exec || ctx.sess.multi.is_some() {
        super::users::log::Context::Multi
    } else {
        super::users::log::Context::Toplevel
    };
    match acl::refused(ctx, &perms, spec, argv, context) {
        None => true,
        Some((d, fullname)) => {
            let text = if in_exec {
                acl::noperm_exec_text(d)
            } else {
                acl::noperm_text(d, &fullname)
            };
            ctx.out.err(&text);
            false
        }
    }
}

/// The checks before a command runs or is queued, in Redis's order (auth,
/// subscribe mode, MULTI, ACL, memory): true when `spec` is refused (the
/// error is written, and a transaction it was queued into is flagged).
fn refused(ctx: &mut Ctx<'_>, spec: &'static CommandSpec, argv: &[&[u8]], in_multi: bool) -> bool {
    if !ctx.sess.authed && spec.flags & NO_AUTH == 0 {
        ctx.out.err("NOAUTH Authentication required.");
        if in_multi {
            ctx.sess.multi_error = true;
        }
        return true;
    }
    if !ctx.out.resp3 && ctx.sess.pubsub.active() && !subscribe_mode_ok(argv[0]) {
        ctx.out.err(&format!(
            "ERR Can't execute '{}': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context",
            full_name(argv, spec)
        ));
        if in_multi {
            ctx.sess.multi_error = true;
        }
        return true;
    }
    if in_multi && spec.flags & (NO_QUEUE | NO_MULTI) == NO_MULTI {
        ctx.out.err("ERR Command not allowed inside a transaction");
        ctx.sess.multi_error = true;
        return true;
    }
    if !ctx.srv.users.open() && !acl_allows(ctx, spec, argv) {
        if in_multi {
            ctx.sess.multi_error = true;
        }
        return true;
    }
    let maxmemory = ctx.srv.maxmemory.load(Relaxed);
    maxmemory != 0 && !crate::kv::evict::admit(ctx, spec, in_multi, maxmemory)
}

/// Show `argv` to the MONITOR clients.
pub fn monitor(ctx: &mut Ctx<'_>, argv: &[&[u8]]) {
    let origin = if ctx.sess.in_script {
        "lua".to_string()
    } else {
        ctx.sess.handle.addr.to_string()
    };
    ctx.srv
        .monitors
        .feed(ctx.sess.db, &origin, argv, ctx.outbox);
}

fn subscribe_mode_ok(name: &[u8]) -> bool {
    lookup(name).is_some_and(|s| pubsub::allowed_in_subscribe_mode(s.name))
}

/// `config|get` for a subcommand, `get` otherwise (Redis's full name).
pub fn full_name(argv: &[&[u8]], spec: &CommandSpec) -> String {
    match lookup(argv[0]) {
        Some(top) if !std::ptr::eq(top, spec) => format!("{}|{}", top.name, spec.name),
        _ => spec.name.to_string(),
    }
}

/// Why writes are refused right now, as a `MISCONF` error.
pub fn write_refused(ctx: &Ctx<'_>) -> Option<String> {
    if let Some(why) = ctx.refuse_writes {
        return Some(format!("MISCONF Errors writing to the AOF file: {why}"));
    }
    let broken = ctx.srv.store.aof().and_then(|a| a.broken())?;
    Some(format!("MISCONF Errors writing to the AOF file: {broken}"))
}

/// Argument helpers with Redis's error texts.
pub mod arg {
    use super::super::protocol::parse_int;
    use super::Out;

    /// `ERR value is not an integer or out of range`
    pub const NOT_INT: &str = "ERR value is not an integer or out of range";
    /// `ERR value is not a valid float`
    pub const NOT_FLOAT: &str = "ERR value is not a valid float";
    /// `ERR syntax error`
    pub const SYNTAX: &str = "ERR syntax error";

    /// An integer argument, or the error answered.
    pub fn int(out: &mut Out, a: &[u8]) -> Option<i64> {
        let v = parse_int(a);
        if v.is_none() {
            out.err(NOT_INT);
        }
        v
    }

    /// A float as Redis reads one (`inf`, `-inf`, no NaN, no spaces).
    pub fn parse_float(a: &[u8]) -> Option<f64> {
        let s = std::str::from_utf8(a).ok()?;
        if s.is_empty() || s.starts_with(char::is_whitespace) || s.ends_with(char::is_whitespace) {
            return None;
        }
        let v = match s.to_ascii_lowercase().as_str() {
            "inf" | "+inf" | "infinity" | "+infinity" => f64::INFINITY,
            "-inf" | "-infinity" => f64::NEG_INFINITY,
            _ => s.parse::<f64>().ok()?,
        };
        (!v.is_nan()).then_some(v)
    }

    /// True when `a` equals `word`, any case.
    pub fn is(a: &[u8], word: &str) -> bool {
        a.eq_ignore_ascii_case(word.as_bytes())
    }
}

/// A command spec with no subcommands (for the tables).
#[allow(clippy::too_many_arguments)]
pub const fn spec(
    name: &'static str,
    arity: i32,
    flags: u32,
    keys: (i32, i32, i32),
    group: &'static str,
    since: &'static str,
    summary: &'static str,
    syntax: &'static str,
    handler: Handler,
) -> CommandSpec {
    CommandSpec {
        name,
        arity,
        flags,
        keys,
        group,
        since,
        summary,
        syntax,
        subcommands: &[],
        numkeys: 0,
        getkeys: None,
        handler,
    }
}

/// Answer an unknown subcommand of a container command (never reached when
/// dispatch resolves subcommands; kept as the container's handler).
pub fn no_subcommand(ctx: &mut Ctx<'_>, argv: &[&[u8]]) {
    ctx.out.err(&format!(
        "ERR unknown subcommand '{}'. Try {} HELP.",
        shown(argv.get(1).copied().unwrap_or(b""), 128),
        shown(argv[0], 32).to_ascii_uppercase()
    ));
}

#[cfg(test)]
mod tests;
