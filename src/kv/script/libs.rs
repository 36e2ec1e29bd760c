//! What `cmsgpack` and `struct` share: their public functions are C
//! closures (a trampoline) over Lua implementations, so they behave as
//! the C libraries Redis embeds: arguments stay on the Lua stack (thousands
//! of them make no mlua references), results are spread from one table,
//! and errors are raised as those libraries raise them: `luaL_error` puts
//! the calling script's position first (`user_script:1: Missing bytes in
//! input.`), `luaL_argerror` names the function as the script called it
//! (`bad argument #1 to 'unpack' (string expected, got table)`), both even
//! when the script tail-calls (`return cmsgpack.unpack(x)`), which a Lua
//! function could not see.
//!
//! An implementation returns `true, results...` or `false, message, how`:
//! `how` a number is the argument `luaL_argerror` blames, nil is
//! `luaL_error`, false raises the message as it is.

use std::ffi::c_int;

use mlua::{Function, Lua, MultiValue, Table, Value, ffi};

/// How a library function failed (see the module doc).
#[derive(Debug)]
pub enum LibError {
    /// `luaL_error`: the caller's position, then the message.
    Error(String),
    /// `luaL_argerror(n, message)`.
    Arg(i32, String),
    /// A runtime error inside the C function: the message alone.
    Plain(String),
}

impl From<mlua::Error> for LibError {
    fn from(e: mlua::Error) -> LibError {
        LibError::Error(message(e))
    }
}

/// The text of an mlua error, without mlua's decorations.
pub fn message(e: mlua::Error) -> String {
    match e {
        mlua::Error::RuntimeError(m) => m,
        mlua::Error::CallbackError { cause, .. } => message((*cause).clone()),
        e => e.to_string(),
    }
}

/// `true, values...` or `false, message, how` for the trampoline.
pub fn answer(lua: &Lua, r: Result<Vec<Value>, LibError>) -> mlua::Result<MultiValue> {
    let mut out = MultiValue::new();
    match r {
        Ok(values) => {
            out.push_back(Value::Boolean(true));
            out.extend(values);
        }
        Err(e) => {
            let (msg, how) = match e {
                LibError::Error(m) => (m, Value::Nil),
                LibError::Arg(n, m) => (m, Value::Number(f64::from(n))),
                LibError::Plain(m) => (m, Value::Boolean(false)),
            };
            out.push_back(Value::Boolean(false));
            out.push_back(Value::String(lua.create_string(msg)?));
            out.push_back(how);
        }
    }
    Ok(out)
}

/// The C closure every public function is: call the implementation
/// (upvalue 1) with the arguments, then return its results or raise.
///
/// # Safety
/// Called by Lua only. No Rust value that owns memory is live here, so the
/// errors Lua raises (longjmp) through this frame leave nothing behind.
unsafe extern "C-unwind" fn trampoline(l: *mut ffi::lua_State) -> c_int {
    // SAFETY: `l` is the calling state; a C function has LUA_MINSTACK free
    // slots past its arguments and this pushes at most three at a time.
    unsafe {
        ffi::lua_pushvalue(l, ffi::lua_upvalueindex(1));
        ffi::lua_insert(l, 1);
        let nargs = ffi::lua_gettop(l) - 1;
        ffi::lua_call(l, nargs, ffi::LUA_MULTRET);
        if ffi::lua_toboolean(l, 1) == 0 {
            if ffi::lua_type(l, 2) != ffi::LUA_TSTRING {
                ffi::lua_settop(l, 1);
                ffi::lua_pushstring(l, c"library error".as_ptr());
            }
            match ffi::lua_type(l, 3) {
                ffi::LUA_TNUMBER => {
                    let narg = ffi::lua_tonumber(l, 3) as c_int;
                    // The message stays on the stack while argerror formats it.
                    let msg = ffi::lua_tolstring(l, 2, std::ptr::null_mut());
                    ffi::luaL_argerror(l, narg, msg);
                }
                ffi::LUA_TBOOLEAN => {
                    ffi::lua_settop(l, 2);
                }
                _ => {
                    ffi::lua_settop(l, 2);
                    ffi::luaL_where(l, 1);
                    ffi::lua_insert(l, 2);
                    ffi::lua_concat(l, 2);
                }
            }
            ffi::lua_error(l);
        }
        ffi::lua_remove(l, 1);
        ffi::lua_gettop(l)
    }
}

/// `f` behind the trampoline.
pub fn wrap(lua: &Lua, f: Function) -> mlua::Result<Function> {
    // SAFETY: the closure pops the implementation (the one argument) and
    // pushes the C closure that holds it; nothing else touches the stack.
    unsafe {
        lua.exec_raw::<Function>(f, |state| {
            ffi::lua_pushcclosure(state, trampoline, 1);
        })
    }
}

/// A library table from the one the implementation chunk returned: each
/// function behind the trampoline, other fields as they are.
pub fn library(lua: &Lua, implementation: Table) -> mlua::Result<Table> {
    let t = lua.create_table()?;
    for pair in implementation.pairs::<Value, Value>() {
        let (k, v) = pair?;
        match v {
            Value::Function(f) => t.raw_set(k, wrap(lua, f)?)?,
            v => t.raw_set(k, v)?,
        }
    }
    Ok(t)
}

/// Lua helpers the implementation chunks start with: argument checks with
/// lauxlib's texts, returning `nil, message` instead of raising.
pub const CHECKS: &str = r#"
local type, tostring, tonumber, floor = type, tostring, tonumber, math.floor
-- luaL_typename: "no value" past the last argument.
local function typename(n, i, v)
  if i > n then return 'no value' end
  return type(v)
end
-- luaL_checklstring: a string, or a number as a string.
local function check_string(n, i, v)
  local t = type(v)
  if t == 'string' then return v end
  if t == 'number' then return tostring(v) end
  return nil, 'string expected, got ' .. typename(n, i, v)
end
-- luaL_checkinteger; with a default, luaL_optinteger (none or nil).
local function check_int(n, i, v, default)
  if default ~= nil and v == nil then return default end
  local x = (type(v) == 'number' or type(v) == 'string') and tonumber(v)
  if not x then return nil, 'number expected, got ' .. typename(n, i, v) end
  if x >= 0 then return floor(x) end
  return -floor(-x)
end
"#;
