//! One Lua 5.1 state per event-loop thread, sandboxed as Redis does.
//!
//! Loaded: the base library (with `coroutine`), `table`, `string`, `math`,
//! `bit` (LuaBitOp's API, `bit.rs`), `cjson` (over serde_json),
//! `cmsgpack` and `struct` (`cmsgpack.rs`, `lua_struct.rs`), all written in
//! Rust, as Redis 7.0 embeds them; `debug` only long enough to keep
//! `debug.getinfo` for the error handler. Not there: `io`,
//! `os`, `package`, `loadfile`, `dofile`, `print` (reading one is Redis's
//! "Script attempted to access nonexistent global variable" error).
//!
//! Redis's Lua has read-only tables; stock Lua 5.1 has not, so scripts see
//! read-only proxies instead: globals (`_G`) and every library table are
//! empty tables whose `__index` is the real one and whose `__newindex`
//! raises "Attempt to modify a readonly table"; `setmetatable`, `rawset`,
//! `getfenv`/`setfenv` are wrapped so they cannot reach around a proxy, and
//! `loadstring`/`load` refuse binary chunks and give what they load the
//! same sandbox. Each script is compiled once per loop and cached by SHA1.

use std::cell::{Cell, RefCell};
use std::ffi::{CStr, c_int};
use std::rc::Rc;
use std::sync::Arc;
use std::time::Instant;

use mlua::{ChunkMode, Function, Lua, LuaOptions, StdLib, Table, Value, ffi};

use super::Flags;

/// What the count hook needs to know about the script running now.
#[derive(Default)]
pub struct RunState {
    /// When the script started (None: no script is running).
    pub started: Cell<Option<Instant>>,
    /// The busy threshold for this run, ms (0: never busy).
    pub threshold_ms: Cell<u64>,
    /// This run went busy.
    pub busy: Cell<bool>,
    /// The shared flags (kill requests come through them).
    pub flags: RefCell<Option<Arc<Flags>>>,
}

impl RunState {
    /// True when `SCRIPT KILL` asked this run to stop.
    pub fn killed(&self) -> bool {
        self.flags
            .borrow()
            .as_ref()
            .is_some_and(|f| f.kill.load(std::sync::atomic::Ordering::SeqCst))
    }
}

/// The error a killed script stops with.
pub const KILLED: &str = "Script killed by user with SCRIPT KILL...";

/// A loop's Lua state.
pub struct Vm {
    /// The state.
    pub lua: Lua,
    /// What scripts see as their globals (the read-only proxy).
    pub env: Table,
    /// Where `KEYS` and `ARGV` are set before each run.
    pub view: Table,
    /// `xpcall(f, handler)` with Redis's error handler.
    pub runner: Function,
    /// Compiled scripts by SHA1.
    pub funcs: Funcs,
    /// The script cache generation these functions belong to.
    pub generation: u64,
    /// Shared with the hook.
    pub state: Rc<RunState>,
}

/// Compiled scripts by SHA1, in a Lua table: one mlua reference for them
/// all. (mlua keeps each `Function` held from Rust on one auxiliary Lua
/// stack of about 8,000 slots and panics when it is full: a Rust map of
/// functions took the server down at about 8,000 cached scripts.)
pub struct Funcs(Table);

impl Funcs {
    fn new(lua: &Lua) -> mlua::Result<Funcs> {
        Ok(Funcs(lua.create_table()?))
    }

    /// The function compiled from the script `sha`, if cached.
    pub fn get(&self, sha: &str) -> Option<Function> {
        self.0.raw_get::<Option<Function>>(sha).ok().flatten()
    }

    /// Cache `f` as the script `sha` (out of memory: not cached).
    pub fn insert(&self, sha: &str, f: &Function) {
        let _ = self.0.raw_set(sha, f);
    }

    /// Forget every function (the script cache was flushed).
    pub fn clear(&mut self, lua: &Lua) {
        if let Ok(f) = Funcs::new(lua) {
            *self = f;
        }
    }
}

thread_local! {
    static VM: RefCell<Option<Vm>> = const { RefCell::new(None) };
}

/// Run `f` with this thread's Lua state (created on first use).
pub fn with_vm<R>(f: impl FnOnce(&mut Vm) -> R) -> Result<R, String> {
    VM.with(|cell| {
        let mut slot = cell
            .try_borrow_mut()
            .map_err(|_| "the Lua state is busy".to_string())?;
        if slot.is_none() {
            *slot = Some(Vm::new().map_err(|e| format!("cannot start Lua: {e}"))?);
        }
        match slot.as_mut() {
            Some(vm) => Ok(f(vm)),
            None => Err("cannot start Lua".into()),
        }
    })
}

/// Forget this thread's Lua state (SCRIPT FLUSH resets it, as Redis does).
pub fn reset() {
    VM.with(|cell| {
        if let Ok(mut slot) = cell.try_borrow_mut() {
            *slot = None;
        }
    });
}

const PRELUDE: &str = r#"
local G, dbg, killed, setresp_fn, sha1hex_fn, log_fn, bitlib, rcall, rpcall, errtext, cjsonlib, cmsgpacklib, structlib, racl = ...
local getinfo = dbg.getinfo
G.debug, G.print, G.dofile, G.loadfile = nil, nil, nil, nil
G.os, G.io, G.package, G.require, G.module = nil, nil, nil, nil, nil

local raw_setmetatable, raw_rawset, raw_getfenv, raw_setfenv =
  setmetatable, rawset, getfenv, setfenv
local raw_loadstring, raw_pcall, raw_xpcall, raw_error, raw_type =
  loadstring, pcall, xpcall, error, type
local unpack, select, tostring = unpack, select, tostring

local readonly = raw_setmetatable({}, {__mode = 'k'})
local function ro_error() raw_error('Attempt to modify a readonly table', 2) end
local function ro(t, mt_for_getmetatable)
  local p = raw_setmetatable({}, {__index = t, __newindex = ro_error,
    __metatable = mt_for_getmetatable or false})
  readonly[p] = true
  return p
end

local function kill_check()
  if killed() then raw_error({err = 'ERR Script killed by user with SCRIPT KILL...'}, 0) end
end

local function pack(...) return {n = select('#', ...), ...} end

local redis = {
  call = rcall,
  pcall = rpcall,
  acl_check_cmd = racl,
  sha1hex = function(...)
    if select('#', ...) ~= 1 then raw_error({err = 'ERR wrong number of arguments'}, 0) end
    return sha1hex_fn(tostring((...)))
  end,
  error_reply = function(...)
    local e = ...
    if select('#', ...) ~= 1 or raw_type(e) ~= 'string' then
      return {err = 'ERR wrong number or type of arguments'}
    end
    if e:sub(1, 1) == '-' then e = e:sub(2) end
    if not e:find(' ', 1, true) then e = 'ERR ' .. e end
    return {err = e}
  end,
  status_reply = function(...)
    local s = ...
    if select('#', ...) ~= 1 or raw_type(s) ~= 'string' then
      return {err = 'ERR wrong number or type of arguments'}
    end
    return {ok = s}
  end,
  setresp = function(...)
    if select('#', ...) ~= 1 then raw_error({err = 'ERR redis.setresp() requires one argument.'}, 0) end
    local v = tonumber((...))
    if v ~= 2 and v ~= 3 then raw_error({err = 'ERR RESP version must be 2 or 3.'}, 0) end
    setresp_fn(v)
  end,
  log = function(level, ...)
    if select('#', ...) < 1 then raw_error({err = 'ERR redis.log() requires two arguments or more.'}, 0) end
    if raw_type(level) ~= 'number' then raw_error({err = 'ERR First argument must be a number (log level).'}, 0) end
    if level < 0 or level > 3 then raw_error({err = 'ERR Invalid debug level.'}, 0) end
    local parts = {}
    for i = 1, select('#', ...) do
      local v = select(i, ...)
      if raw_type(v) == 'string' or raw_type(v) == 'number' then parts[#parts + 1] = tostring(v) end
    end
    log_fn(level, table.concat(parts, ' '))
  end,
  replicate_commands = function() return true end,
  set_repl = function(...)
    if select('#', ...) ~= 1 then raw_error({err = 'ERR redis.set_repl() requires two arguments.'}, 0) end
    local v = ...
    if raw_type(v) ~= 'number' or v < 0 or v > 3 then
      raw_error({err = 'ERR Invalid replication flags. Use REPL_AOF, REPL_REPLICA, REPL_ALL or REPL_NONE.'}, 0)
    end
  end,
  breakpoint = function() return false end,
  debug = function() end,
  LOG_DEBUG = 0, LOG_VERBOSE = 1, LOG_NOTICE = 2, LOG_WARNING = 3,
  REPL_NONE = 0, REPL_AOF = 1, REPL_SLAVE = 2, REPL_REPLICA = 2, REPL_ALL = 3,
  REDIS_VERSION = '7.0.15', REDIS_VERSION_NUM = 0x0007000f,
}
G.redis = redis
G.bit = bitlib
G.cjson = cjsonlib
G.cmsgpack = cmsgpacklib
G.struct = structlib

-- Redis's pcall: an error table gives its err string; a kill is not caught.
G.pcall = function(f, ...)
  local r = pack(raw_pcall(f, ...))
  kill_check()
  if not r[1] and raw_type(r[2]) == 'userdata' then r[2] = errtext(r[2]) end
  if not r[1] and raw_type(r[2]) == 'table' and raw_type(r[2].err) == 'string' then
    r[2] = r[2].err
  end
  return unpack(r, 1, r.n)
end
G.xpcall = function(f, h)
  local r = pack(raw_xpcall(f, h))
  kill_check()
  return unpack(r, 1, r.n)
end

-- What scripts see: read-only proxies over the real tables.
local view = {}
local env
for k, v in pairs(G) do
  if raw_type(v) == 'table' and k ~= '_G' then view[k] = ro(v) else view[k] = v end
end
raw_setmetatable(view, {__index = function(_, k)
  -- Level 2: the script's position first, as Redis's luaL_error gives it.
  raw_error("Script attempted to access nonexistent global variable '" .. tostring(k) .. "'", 2)
end})
env = ro(view, ro({}))
view._G = env
local string_mt = getmetatable('')
string_mt.__metatable = ro({__index = view.string})

-- Level 0 here: Redis raises these inside the C function, with no position.
view.setmetatable = function(t, mt)
  if readonly[t] then raw_error('Attempt to modify a readonly table', 0) end
  return raw_setmetatable(t, mt)
end
view.rawset = function(t, k, v)
  if readonly[t] then raw_error('Attempt to modify a readonly table', 0) end
  return raw_rawset(t, k, v)
end
view.getfenv = function(f)
  if f == nil then f = 1 end
  if raw_type(f) == 'number' then
    if f == 0 then return env end
    f = f + 1
  end
  local e = raw_getfenv(f)
  if e == G then return env end
  return e
end
view.setfenv = function(f, t)
  if raw_type(f) ~= 'function' then raw_error('Attempt to modify a readonly table', 2) end
  return raw_setfenv(f, t)
end
view.loadstring = function(s, name)
  if raw_type(s) == 'string' and s:byte(1) == 27 then
    return nil, 'binary chunks are not allowed'
  end
  local f, e = raw_loadstring(s, name)
  if f then raw_setfenv(f, env) end
  return f, e
end
view.load = function(src, name)
  if raw_type(src) == 'function' then
    local parts = {}
    while true do
      local p = src()
      if p == nil or p == '' then break end
      parts[#parts + 1] = p
    end
    src = table.concat(parts)
  end
  return view.loadstring(src, name)
end

-- Redis's error handler: an error table with where the script failed.
local function handler(err)
  if raw_type(err) ~= 'table' then
    if raw_type(err) == 'userdata' and killed() then
      err = {err = 'ERR Script killed by user with SCRIPT KILL...'}
    elseif raw_type(err) == 'userdata' then
      err = {err = errtext(err)}
    else
      err = {err = 'ERR ' .. tostring(err)}
    end
  end
  for level = 2, 200 do
    local i = getinfo(level, 'Sl')
    if not i then break end
    if i.source == '@user_script' then
      err.source = i.source
      err.line = i.currentline
      break
    end
  end
  return err
end
local function runner(f)
  return raw_xpcall(f, handler)
end
return env, view, runner
"#;

/// The registry slot holding this run's command caller (a scoped function).
pub const CALL: &str = "netkit.call";

thread_local! {
    /// The arguments of the `redis.call` being made, for the command caller
    /// (None: one was neither a string nor a number).
    static CALL_ARGS: RefCell<Option<Vec<Vec<u8>>>> = const { RefCell::new(None) };
    /// Set by `redis.acl_check_cmd`: the caller checks the user's
    /// permission for the arguments instead of running them.
    static ACL_CHECK: Cell<bool> = const { Cell::new(false) };
}

/// True (once) when the pending call is `redis.acl_check_cmd`'s.
pub fn take_acl_check() -> bool {
    ACL_CHECK.with(|c| c.replace(false))
}

/// The arguments `redis.call`/`redis.pcall` was given, as command
/// arguments (numbers as `%.17g`, as Redis formats them); None when one
/// was neither a string nor a number.
pub fn take_call_args() -> Option<Vec<Vec<u8>>> {
    CALL_ARGS.with(|c| c.try_borrow_mut().ok().and_then(|mut a| a.take()))
}

/// Stack slots 1..=n as command arguments (reads only: raises nothing).
///
/// # Safety
/// `l` is a live state with at least `n` values on its stack.
unsafe fn stack_args(l: *mut ffi::lua_State, n: c_int) -> Option<Vec<Vec<u8>>> {
    let mut v = Vec::with_capacity(n.max(0) as usize);
    for i in 1..=n {
        // SAFETY: i is a valid index; lua_tolstring on a string neither
        // allocates nor raises, and the bytes are copied before any other
        // call touches the stack.
        unsafe {
            match ffi::lua_type(l, i) {
                ffi::LUA_TNUMBER => v.push(super::convert::fmt_number(ffi::lua_tonumber(l, i))),
                ffi::LUA_TSTRING => {
                    let mut len = 0usize;
                    let p = ffi::lua_tolstring(l, i, &mut len);
                    if p.is_null() {
                        return None;
                    }
                    v.push(std::slice::from_raw_parts(p.cast::<u8>(), len).to_vec());
                }
                _ => return None,
            }
        }
    }
    Some(v)
}

/// Push `{err = msg}`.
///
/// # Safety
/// `l` is a live state with room for two values.
unsafe fn push_err(l: *mut ffi::lua_State, msg: &'static CStr) {
    // SAFETY: per the contract; may raise a memory error, nothing to drop.
    unsafe {
        ffi::lua_createtable(l, 0, 1);
        ffi::lua_pushstring(l, msg.as_ptr());
        ffi::lua_setfield(l, -2, c"err".as_ptr());
    }
}

/// `redis.call` (`RAISE`) or `redis.pcall`: a C function, as in Redis.
///
/// Written against the C API, not as an mlua callback, so a call with
/// thousands of arguments (`redis.call('lpush', k, unpack(t))`, up to
/// Lua's 8,000-slot C stack) works: the arguments are read off the stack
/// and copied, the stack is emptied, and the command caller (the run's
/// scoped function in the registry) is called with none, so nothing is
/// pushed twice and no mlua reference is made per argument. An error
/// reply is raised (`redis.call`) as Redis does: the `{err = ...}` table.
///
/// # Safety
/// Called by Lua only. Every Rust value that owns memory is moved out
/// (into `CALL_ARGS`) before any API call that may raise (longjmp).
unsafe extern "C-unwind" fn redis_call_c<const RAISE: bool, const ACL: bool>(
    l: *mut ffi::lua_State,
) -> c_int {
    // SAFETY: `l` is the calling state; LUA_MINSTACK (20) slots are free
    // after the stack is emptied, and this function pushes at most three.
    unsafe {
        let n = ffi::lua_gettop(l);
        let args = stack_args(l, n);
        let stored = CALL_ARGS.with(|c| match c.try_borrow_mut() {
            Ok(mut slot) => {
                *slot = args;
                true
            }
            Err(_) => false,
        });
        ffi::lua_settop(l, 0);
        ffi::lua_getfield(l, ffi::LUA_REGISTRYINDEX, c"netkit.call".as_ptr());
        if !stored || ffi::lua_type(l, 1) != ffi::LUA_TFUNCTION {
            ffi::lua_settop(l, 0);
            push_err(
                l,
                c"ERR redis.call/pcall can only be called inside a script invocation",
            );
            ffi::lua_error(l);
        }
        ACL_CHECK.with(|c| c.set(ACL));
        ffi::lua_call(l, 0, 2);
        let is_err = ffi::lua_toboolean(l, 2) != 0;
        ffi::lua_settop(l, 1);
        if RAISE && is_err {
            ffi::lua_error(l);
        }
        1
    }
}

/// The text of an error raised from Rust (`redis.call`, the hook): its
/// own message when it carries a Redis error code, else `ERR <message>`.
fn error_text(e: &Value) -> String {
    fn inner(e: &mlua::Error) -> String {
        match e {
            mlua::Error::CallbackError { cause, .. } => inner(cause),
            mlua::Error::RuntimeError(m) => m.clone(),
            e => format!("ERR {e}"),
        }
    }
    match e {
        Value::Error(e) => inner(e),
        v => format!("ERR {v:?}"),
    }
}

impl Vm {
    fn new() -> mlua::Result<Vm> {
        // SAFETY: `debug` is loaded only to take `debug.getinfo` for the
        // error handler; the prelude removes it from the globals.
        let lua = unsafe {
            Lua::unsafe_new_with(
                StdLib::TABLE | StdLib::STRING | StdLib::MATH | StdLib::DEBUG,
                LuaOptions::default(),
            )
        };
        lua.set_memory_limit(512 << 20)?;
        let state = Rc::new(RunState::default());
        // For run::checkpoint, called from library code that may run long.
        lua.set_app_data(state.clone());
        let st = state.clone();
        let killed = lua.create_function(move |_, ()| Ok(st.killed()))?;
        let resp = Rc::new(Cell::new(2u8));
        let r = resp.clone();
        let setresp = lua.create_function(move |_, v: u8| {
            r.set(v);
            Ok(())
        })?;
        lua.set_app_data(resp);
        let sha1 = lua.create_function(|lua, s: mlua::String| {
            lua.create_string(super::sha1hex(&s.as_bytes()))
        })?;
        let log = lua.create_function(|lua, (level, msg): (u8, mlua::String)| {
            if let Some(l) = lua.app_data_ref::<crate::log::Log>() {
                let line = format!("script: {}", msg.to_string_lossy());
                if level >= 3 {
                    l.warn(&line);
                } else {
                    l.info(&line);
                }
            }
            Ok(())
        })?;
        let dbg: Table = lua.globals().get("debug")?;
        let (env, view, runner): (Table, Table, Function) = lua
            .load(PRELUDE)
            .set_name("=netkit_prelude")
            .set_mode(ChunkMode::Text)
            .call((
                lua.globals(),
                dbg,
                killed,
                setresp,
                sha1,
                log,
                super::bit::library(&lua)?,
                // SAFETY: plain C functions over the C API, see redis_call_c.
                unsafe { lua.create_c_function(redis_call_c::<true, false>)? },
                unsafe { lua.create_c_function(redis_call_c::<false, false>)? },
                lua.create_function(|_, e: Value| Ok(error_text(&e)))?,
                super::cjson::library(&lua)?,
                super::cmsgpack::library(&lua)?,
                super::lua_struct::library(&lua)?,
                // `redis.acl_check_cmd`: the same caller, asked to check.
                unsafe { lua.create_c_function(redis_call_c::<true, true>)? },
            ))?;
        let funcs = Funcs::new(&lua)?;
        let vm = Vm {
            lua,
            env,
            view,
            runner,
            funcs,
            generation: 0,
            state,
        };
        super::run::install_hook(&vm)?;
        Ok(vm)
    }

    /// The RESP version `redis.setresp` chose for this run.
    pub fn resp(&self) -> u8 {
        self.lua
            .app_data_ref::<Rc<Cell<u8>>>()
            .map_or(2, |r| r.get())
    }

    /// Reset the RESP version to 2 (each run starts there).
    pub fn reset_resp(&self) {
        if let Some(r) = self.lua.app_data_ref::<Rc<Cell<u8>>>() {
            r.set(2);
        }
    }

    /// Compile `body` (a shebang line is skipped, its newline kept).
    pub fn compile(&self, body: &[u8]) -> Result<Function, String> {
        let code = match body.strip_prefix(b"#!") {
            Some(rest) => {
                let nl = rest.iter().position(|&b| b == b'\n').unwrap_or(rest.len());
                &rest[nl..]
            }
            None => body,
        };
        self.lua
            .load(code)
            .set_name("@user_script")
            .set_mode(ChunkMode::Text)
            .set_environment(self.env.clone())
            .into_function()
            .map_err(|e| match e {
                mlua::Error::SyntaxError { message, .. } => message,
                e => e.to_string(),
            })
    }
}
