//! Running one script: EVAL / EVALSHA / EVAL_RO / EVALSHA_RO.
//!
//! The script runs inside the caller's command, with the store locked, so
//! it is atomic; every `redis.call` goes through the command table into a
//! scratch reply (RESP2, or RESP3 after `redis.setresp(3)`) that is turned
//! into Lua values, as Redis does with its fake client. The commands write
//! their log ops into the EVAL's one record: a script is logged as its
//! effects, all or nothing.
//!
//! A count hook every 100,000 Lua instructions checks the clock: past the
//! busy threshold the script is marked busy (other loops answer their
//! clients `-BUSY` instead of waiting for the store), and from then on each
//! hook also serves this loop's other clients through [`Interrupt`] and
//! stops the script if `SCRIPT KILL` asked (unless it already wrote).

use std::sync::atomic::Ordering;
use std::time::Instant;

use mlua::{Function, HookTriggers, Lua, Table, Value, VmState};

use super::convert::{self, lua_to_reply, reply_to_lua};
use super::vm::{KILLED, Vm, take_acl_check, take_call_args, with_vm};
use crate::kv::cmd::{self, CommandSpec, Ctx, NOSCRIPT, WRITE, arg};
use crate::kv::keyspace::Ks;
use crate::kv::reply::Out;
use crate::kv::session::Session;
use crate::kv::shared::CmdStat;

/// Serves the running script's loop's other clients while it is busy.
pub trait Interrupt {
    /// Answer what the other clients sent (`-BUSY`, `SCRIPT KILL`).
    fn serve(&mut self);
}

const NOSCRIPT_ERR: &str = "NOSCRIPT No matching script. Please use EVAL.";

/// Install the count hook on a new Lua state.
pub fn install_hook(vm: &Vm) -> mlua::Result<()> {
    let st = vm.state.clone();
    vm.lua.set_hook(
        HookTriggers::new().every_nth_instruction(100_000),
        move |lua, _| check(lua, &st).map(|()| VmState::Continue),
    )
}

/// What Rust code that may run long inside a script (cmsgpack, cjson on
/// self-referring tables) calls now and then, where no Lua instruction
/// runs for the count hook to see: the same checks (busy, SCRIPT KILL,
/// shutdown). Outside a script, or on a state without [`RunState`], it
/// does nothing.
pub fn checkpoint(lua: &Lua) -> mlua::Result<()> {
    let st = match lua.app_data_ref::<std::rc::Rc<super::vm::RunState>>() {
        Some(st) => st.clone(),
        None => return Ok(()),
    };
    check(lua, &st)
}

/// The hook's work: past the busy threshold, mark the script busy and
/// serve this loop's other clients; stop it when SCRIPT KILL or a
/// shutdown asks.
fn check(lua: &Lua, st: &super::vm::RunState) -> mlua::Result<()> {
    let Some(start) = st.started.get() else {
        return Ok(());
    };
    if st.killed() {
        return Err(mlua::Error::runtime(KILLED));
    }
    if let Some(f) = st.flags.borrow().as_ref() {
        if f.shutdown.load(Ordering::SeqCst) {
            if f.wrote.load(Ordering::SeqCst) {
                eprintln!(
                    "netkit: stopping with a busy script that already wrote: exiting now, its writes are not logged"
                );
                std::process::exit(if f.nosave.load(Ordering::SeqCst) {
                    0
                } else {
                    1
                });
            }
            return Err(mlua::Error::runtime(KILLED));
        }
    }
    if !st.busy.get() {
        let t = st.threshold_ms.get();
        if t == 0 || start.elapsed().as_millis() < u128::from(t) {
            return Ok(());
        }
        st.busy.set(true);
        if let Some(f) = st.flags.borrow().as_ref() {
            f.busy.store(true, Ordering::SeqCst);
        }
    }
    if let Ok(f) = lua.named_registry_value::<Function>("netkit.busy") {
        let _ = f.call::<()>(());
    }
    if st.killed() {
        return Err(mlua::Error::runtime(KILLED));
    }
    Ok(())
}

/// What a script declared in its `#!lua flags=...` line.
struct Shebang {
    no_writes: bool,
    /// `allow-oom`: may write while memory is over `maxmemory`.
    allow_oom: bool,
}

fn shebang(body: &[u8]) -> Result<Option<Shebang>, String> {
    let Some(rest) = body.strip_prefix(b"#!") else {
        return Ok(None);
    };
    let line = &rest[..rest.iter().position(|&b| b == b'\n').unwrap_or(rest.len())];
    let line = String::from_utf8_lossy(line);
    let mut parts = line.split(' ').filter(|p| !p.is_empty());
    let engine = parts.next().unwrap_or("");
    if engine != "lua" {
        return Err(format!("ERR Unexpected engine in script shebang: {engine}"));
    }
    let mut sb = Shebang {
        no_writes: false,
        allow_oom: false,
    };
    for p in parts {
        let Some(flags) = p.strip_prefix("flags=") else {
            return Err(format!("ERR Unknown lua shebang option: {p}"));
        };
        for f in flags.split(',').filter(|f| !f.is_empty()) {
            match f {
                "no-writes" => sb.no_writes = true,
                "allow-oom" => sb.allow_oom = true,
                "allow-stale" | "no-cluster" | "allow-cross-slot-keys" => {}
                _ => return Err(format!("ERR Unexpected flag in script shebang: {f}")),
            }
        }
    }
    Ok(Some(sb))
}

/// `EVAL script numkeys key... arg...` and its siblings.
pub fn eval(ctx: &mut Ctx<'_>, a: &[&[u8]], by_sha: bool, ro: bool) {
    let Some(numkeys) = arg::int(ctx.out, a[2]) else {
        return;
    };
    if numkeys > (a.len() - 3) as i64 {
        ctx.out
            .err("ERR Number of keys can't be greater than number of args");
        return;
    }
    if numkeys < 0 {
        ctx.out.err("ERR Number of keys can't be negative");
        return;
    }
    let (keys, args) = a[3..].split_at(numkeys as usize);
    let (sha, body): (String, Option<std::sync::Arc<[u8]>>) = if by_sha {
        if a[1].len() != 40 {
            ctx.out.err(NOSCRIPT_ERR);
            return;
        }
        let sha = String::from_utf8_lossy(a[1]).to_ascii_lowercase();
        let body = ctx.srv.scripts.body(&sha);
        (sha, body)
    } else {
        (super::sha1hex(a[1]), Some(std::sync::Arc::from(a[1])))
    };
    let generation = ctx.srv.scripts.generation.load(Ordering::SeqCst);
    let r = with_vm(|vm| {
        if vm.generation != generation {
            vm.funcs.clear(&vm.lua);
            vm.generation = generation;
        }
        let func = match vm.funcs.get(&sha) {
            Some(f) => f,
            None => {
                let Some(body) = &body else {
                    ctx.out.err(NOSCRIPT_ERR);
                    return;
                };
                if let Err(e) = shebang(body) {
                    ctx.out.err(&e);
                    return;
                }
                match vm.compile(body) {
                    Ok(f) => {
                        if !by_sha {
                            ctx.srv.scripts.store(body);
                        }
                        vm.funcs.insert(&sha, &f);
                        f
                    }
                    Err(e) => {
                        ctx.out
                            .err(&format!("ERR Error compiling script (new function): {e}"));
                        return;
                    }
                }
            }
        };
        let sb = body.as_deref().and_then(|b| shebang(b).ok().flatten());
        let no_writes = sb.as_ref().is_some_and(|s| s.no_writes);
        // Memory (Redis 7): a script without a shebang may run over
        // `maxmemory` but not grow it; one with a shebang is refused then,
        // unless it declares `allow-oom` or `no-writes` (which may).
        let oom = crate::kv::evict::over_limit(ctx);
        let allow_oom = sb.as_ref().is_some_and(|s| s.allow_oom || s.no_writes);
        if oom && sb.is_some() && !allow_oom {
            ctx.out.err(crate::kv::evict::OOM);
            return;
        }
        run(
            vm,
            ctx,
            &func,
            &sha,
            keys,
            args,
            ro || no_writes,
            oom && !allow_oom,
        );
    });
    if let Err(e) = r {
        ctx.out.err(&format!("ERR {e}"));
    }
}

/// Compile `body` in this loop's Lua state (SCRIPT LOAD); the SHA1 or the
/// compile error.
pub fn load(ctx: &mut Ctx<'_>, body: &[u8]) -> Result<String, String> {
    shebang(body)?;
    let generation = ctx.srv.scripts.generation.load(Ordering::SeqCst);
    with_vm(|vm| {
        if vm.generation != generation {
            vm.funcs.clear(&vm.lua);
            vm.generation = generation;
        }
        let f = vm
            .compile(body)
            .map_err(|e| format!("ERR Error compiling script (new function): {e}"))?;
        let sha = ctx.srv.scripts.store(body);
        vm.funcs.insert(&sha, &f);
        Ok(sha)
    })?
}

fn strings(lua: &Lua, items: &[&[u8]]) -> mlua::Result<Table> {
    let t = lua.create_table_with_capacity(items.len(), 0)?;
    for (i, v) in items.iter().enumerate() {
        t.raw_set(i + 1, lua.create_string(v)?)?;
    }
    Ok(t)
}

fn err_table(lua: &Lua, msg: &str) -> mlua::Result<Value> {
    Ok(Value::Table(convert::single(lua, "err", msg)?))
}

#[allow(clippy::too_many_arguments)]
fn run(
    vm: &mut Vm,
    ctx: &mut Ctx<'_>,
    func: &Function,
    sha: &str,
    keys: &[&[u8]],
    args: &[&[u8]],
    ro: bool,
    oom: bool,
) {
    let lua = &vm.lua;
    let setup = (|| -> mlua::Result<()> {
        vm.view.raw_set("KEYS", strings(lua, keys)?)?;
        vm.view.raw_set("ARGV", strings(lua, args)?)?;
        Ok(())
    })();
    if let Err(e) = setup {
        ctx.out.err(&format!("ERR cannot set up the script: {e}"));
        return;
    }
    vm.reset_resp();
    lua.set_app_data(ctx.srv.cfg.log);
    let flags = ctx.srv.scripts.flags.clone();
    flags.kill.store(false, Ordering::SeqCst);
    flags.wrote.store(false, Ordering::SeqCst);
    let st = vm.state.clone();
    let started = Instant::now();
    st.started.set(Some(started));
    st.busy.set(false);
    st.threshold_ms
        .set(ctx.srv.settings.read().map_or(5000, |s| s.busy_reply_ms));
    *st.flags.borrow_mut() = Some(flags.clone());

    let caller_db = ctx.sess.db;
    let mut sess = Session::new(ctx.sess.handle.clone(), true);
    sess.db = caller_db;
    sess.in_script = true;
    sess.script_oom = oom;
    let mut scratch = Out::default();
    let mut interrupt = ctx.interrupt.take();
    let result = lua.scope(|scope| {
        // Called by `redis.call`/`redis.pcall` (vm.rs), which left the
        // script's arguments in `take_call_args`.
        let call = scope.create_function_mut(|lua, ()| {
            let acl_check = take_acl_check();
            let Some(owned) = take_call_args() else {
                return Ok((
                    err_table(
                        lua,
                        "ERR Lua redis lib command arguments must be strings or integers",
                    )?,
                    true,
                ));
            };
            if owned.is_empty() {
                return Ok((
                    err_table(
                        lua,
                        "ERR Please specify at least one argument for this redis lib call",
                    )?,
                    true,
                ));
            }
            let refs: Vec<&[u8]> = owned.iter().map(Vec::as_slice).collect();
            if acl_check {
                // `redis.acl_check_cmd`: may the script's user run this?
                return match resolve(&refs) {
                    Ok((_, spec)) => {
                        let perms = sess.user.perms();
                        let ok = perms.unrestricted() || cmd::acl::permitted(&perms, spec, &refs);
                        Ok((Value::Boolean(ok), false))
                    }
                    Err(_) => Ok((
                        err_table(lua, "ERR Invalid command passed to redis.acl_check_cmd()")?,
                        true,
                    )),
                };
            }
            scratch.buf.clear();
            scratch.resp3 = lua
                .app_data_ref::<std::rc::Rc<std::cell::Cell<u8>>>()
                .is_some_and(|r| r.get() == 3);
            call_command(ctx, &mut sess, &mut scratch, &refs, ro, &flags);
            let is_err = scratch.buf.first() == Some(&b'-');
            let v = reply_to_lua(lua, &scratch.buf)?;
            if is_err {
                // Counted here, as Redis counts a script's command errors
                // (pcall's too); the mark keeps the script's own error
                // reply, if it passes this one on, from counting it again.
                ctx.srv.errors.count(&scratch.buf);
                if let Value::Table(t) = &v {
                    t.raw_set(COUNTED, true)?;
                }
            }
            if scratch.buf.capacity() > 1 << 20 {
                scratch.buf = Vec::new();
            }
            Ok((v, is_err))
        })?;
        let serve = scope.create_function_mut(|_, ()| {
            if let Some(i) = interrupt.as_deref_mut() {
                i.serve();
            }
            Ok(())
        })?;
        lua.set_named_registry_value(super::vm::CALL, call)?;
        lua.set_named_registry_value("netkit.busy", serve)?;
        let r = vm.runner.call::<(bool, Value)>(func.clone());
        lua.set_named_registry_value(super::vm::CALL, Value::Nil)?;
        lua.set_named_registry_value("netkit.busy", Value::Nil)?;
        r
    });
    ctx.interrupt = interrupt;
    let resp3 = vm.resp() == 3;
    st.started.set(None);
    *st.flags.borrow_mut() = None;
    if st.busy.get() {
        flags.busy.store(false, Ordering::SeqCst);
        ctx.srv.cfg.log.warn(&format!(
            "script {sha} ran {} ms (past the busy threshold: other clients got -BUSY)",
            started.elapsed().as_millis()
        ));
    }
    flags.kill.store(false, Ordering::SeqCst);
    flags.wrote.store(false, Ordering::SeqCst);
    ctx.sess
        .handle
        .db
        .store(caller_db, std::sync::atomic::Ordering::Relaxed);
    let _ = vm.view.raw_set("KEYS", Value::Nil);
    let _ = vm.view.raw_set("ARGV", Value::Nil);
    let counted = |v: &Value| match v {
        Value::Table(t) => t.raw_get::<bool>(COUNTED).unwrap_or(false),
        _ => false,
    };
    match result {
        Ok((true, v)) => {
            ctx.sess.error_counted = counted(&v);
            lua_to_reply(&v, ctx.out, resp3)
        }
        Ok((false, Value::Table(t))) => {
            ctx.sess.error_counted = t.raw_get::<bool>(COUNTED).unwrap_or(false);
            let text = |k: &str| match t.raw_get::<Value>(k) {
                Ok(Value::String(s)) => Some(s.to_string_lossy()),
                Ok(Value::Number(n)) => Some((n as i64).to_string()),
                Ok(Value::Integer(n)) => Some(n.to_string()),
                _ => None,
            };
            let msg = text("err").unwrap_or_else(|| "ERR unknown error".into());
            let msg = msg.strip_prefix('-').unwrap_or(&msg).to_string();
            match (text("source"), text("line")) {
                (Some(src), Some(line)) => ctx
                    .out
                    .err(&format!("{msg} script: {sha}, on {src}:{line}.")),
                _ => ctx.out.err(&msg),
            }
        }
        Ok((false, v)) => ctx.out.err(&format!(
            "ERR Error running script {sha}, {:?}",
            v.type_name()
        )),
        Err(e) => ctx.out.err(&format!("ERR Error running script {sha}, {e}")),
    }
}

/// The field that marks an error table from `redis.call`/`redis.pcall` as
/// counted in INFO errorstats already (Redis's name for it).
const COUNTED: &str = "ignore_err_stats_update";

/// Find what `argv` names, with the texts Redis gives scripts.
fn resolve(argv: &[&[u8]]) -> Result<(usize, &'static CommandSpec), &'static str> {
    const UNKNOWN: &str = "ERR Unknown Redis command called from script";
    const ARITY: &str = "ERR Wrong number of args calling Redis command from script";
    let (idx, spec) = cmd::lookup_idx(argv[0]).ok_or(UNKNOWN)?;
    let spec = match (spec.subcommands.is_empty(), argv.get(1)) {
        (true, _) | (false, None) => spec,
        (false, Some(sub)) => cmd::lookup_sub(spec, sub).ok_or(UNKNOWN)?,
    };
    if !spec.arity_ok(argv.len()) {
        return Err(ARITY);
    }
    Ok((idx, spec))
}

/// Why `redis.call` may not run `spec` (Redis's `scriptCall` checks), as
/// the error to answer; None when it may (a write is then noted).
fn script_refusal(
    ctx: &Ctx<'_>,
    sess: &Session,
    spec: &'static CommandSpec,
    argv: &[&[u8]],
    ro: bool,
    flags: &super::Flags,
) -> Option<String> {
    if spec.flags & NOSCRIPT != 0 {
        return Some("ERR This Redis command is not allowed from script".into());
    }
    if !ctx.srv.users.open() {
        let perms = sess.user.perms();
        if !perms.unrestricted() {
            let context = crate::kv::users::log::Context::Lua;
            if let Some((d, _)) = cmd::acl::refused(ctx, &perms, spec, argv, context) {
                return Some(cmd::acl::noperm_script_text(d));
            }
        }
    }
    if sess.script_oom && spec.flags & cmd::DENYOOM != 0 {
        return Some(crate::kv::evict::OOM.into());
    }
    if spec.flags & WRITE != 0 {
        if ro {
            return Some("ERR Write commands are not allowed from read-only scripts.".into());
        }
        if !flags.wrote.load(Ordering::SeqCst) {
            if let Some(why) = cmd::write_refused(ctx) {
                return Some(why);
            }
        }
        flags.wrote.store(true, Ordering::SeqCst);
    }
    None
}

/// One `redis.call`: checks as Redis's `scriptCall`, then the handler,
/// writing into the same log record as the EVAL. Counted in INFO
/// commandstats as a call, a rejected call or a failed one.
fn call_command(
    ctx: &mut Ctx<'_>,
    sess: &mut Session,
    out: &mut Out,
    argv: &[&[u8]],
    ro: bool,
    flags: &super::Flags,
) {
    let calls = ctx.calls;
    let (idx, spec) = match resolve(argv) {
        Ok(s) => s,
        Err(e) => {
            if let Some(c) = cmd::lookup_idx(argv[0]).and_then(|(i, _)| calls.get(i)) {
                CmdStat::bump(&c.rejected);
            }
            return out.err(e);
        }
    };
    if let Some(e) = script_refusal(ctx, sess, spec, argv, ro, flags) {
        if let Some(c) = calls.get(idx) {
            CmdStat::bump(&c.rejected);
        }
        return out.err(&e);
    }
    if let Some(c) = calls.get(idx) {
        CmdStat::bump(&c.calls);
    }
    if ctx.sess.tracking && spec.flags & cmd::READONLY != 0 {
        // A tracking caller's script read something: its keys are tracked.
        ctx.ks.space.tracking.script_read = true;
    }
    let mut inner = Ctx {
        ks: Ks {
            space: &mut *ctx.ks.space,
            batch: &mut *ctx.ks.batch,
            now: ctx.ks.now,
        },
        sess,
        out,
        srv: ctx.srv,
        outbox: &mut *ctx.outbox,
        calls: ctx.calls,
        refuse_writes: ctx.refuse_writes,
        interrupt: None,
    };
    // Nested in the EVAL: its ops join the EVAL's record, and blocking
    // commands answer at once as inside MULTI.
    inner.ks.begin();
    (spec.handler)(&mut inner, argv);
    inner.ks.end();
    if inner.out.buf.first() == Some(&b'-') {
        if let Some(c) = inner.calls.get(idx) {
            CmdStat::bump(&c.failed);
        }
    }
    if inner.srv.monitors.active() && spec.flags & cmd::ADMIN == 0 {
        cmd::monitor(&mut inner, argv);
    }
}
