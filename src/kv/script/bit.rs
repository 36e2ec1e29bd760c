//! `bit`, LuaBitOp 1.0's API as Redis's Lua has it: `tobit`, `tohex`,
//! `bnot`, `band`, `bor`, `bxor`, `lshift`, `rshift`, `arshift`, `rol`,
//! `ror`, `bswap`, on 32-bit integers (numbers are normalised as LuaBitOp
//! does: plus 2^52 + 2^51, then the low 32 bits of the double).
//!
//! Written against the Lua C API, as LuaBitOp is: arguments are read off
//! the stack (`bit.bor(unpack(t))` with thousands of them makes no mlua
//! reference), and a bad one raises `luaL_typerror`'s "bad argument #1 to
//! 'band' (number expected, got table)", checked in LuaBitOp's order.

use std::ffi::c_int;

use mlua::{Lua, Table, ffi};

type State = *mut ffi::lua_State;

/// LuaBitOp's `barg`: argument `idx` as 32 bits, or a type error.
///
/// # Safety
/// `l` is the state calling a bit function. May raise (longjmp): callers
/// hold nothing that needs dropping.
unsafe fn barg(l: State, idx: c_int) -> u32 {
    // SAFETY: per the contract.
    unsafe {
        let n = ffi::lua_tonumber(l, idx);
        let b = (n + 6_755_399_441_055_744.0).to_bits() as u32;
        if b == 0 && ffi::lua_isnumber(l, idx) == 0 {
            ffi::luaL_typerror(l, idx, c"number".as_ptr());
        }
        b
    }
}

/// Push `b` as LuaBitOp returns it (a signed 32-bit number).
///
/// # Safety
/// `l` is the calling state (a C function has room for one result).
unsafe fn bret(l: State, b: u32) -> c_int {
    // SAFETY: per the contract.
    unsafe { ffi::lua_pushnumber(l, f64::from(b as i32)) };
    1
}

macro_rules! unary {
    ($name:ident, $f:expr) => {
        unsafe extern "C-unwind" fn $name(l: State) -> c_int {
            let f: fn(u32) -> u32 = $f;
            // SAFETY: called by Lua with `l` its state.
            unsafe { bret(l, f(barg(l, 1))) }
        }
    };
}

macro_rules! fold {
    ($name:ident, $f:expr) => {
        unsafe extern "C-unwind" fn $name(l: State) -> c_int {
            let f: fn(u32, u32) -> u32 = $f;
            // SAFETY: called by Lua with `l` its state; LuaBitOp reads
            // argument 1, then the others from the last down.
            unsafe {
                let mut b = barg(l, 1);
                let mut i = ffi::lua_gettop(l);
                while i > 1 {
                    b = f(b, barg(l, i));
                    i -= 1;
                }
                bret(l, b)
            }
        }
    };
}

macro_rules! shift {
    ($name:ident, $f:expr) => {
        unsafe extern "C-unwind" fn $name(l: State) -> c_int {
            let f: fn(u32, u32) -> u32 = $f;
            // SAFETY: called by Lua with `l` its state.
            unsafe {
                let b = barg(l, 1);
                let n = barg(l, 2) & 31;
                bret(l, f(b, n))
            }
        }
    };
}

unary!(tobit, |b| b);
unary!(bnot, |b| !b);
unary!(bswap, u32::swap_bytes);
fold!(band, |a, b| a & b);
fold!(bor, |a, b| a | b);
fold!(bxor, |a, b| a ^ b);
shift!(lshift, |b, n| b << n);
shift!(rshift, |b, n| b >> n);
shift!(arshift, |b, n| ((b as i32) >> n) as u32);
shift!(rol, u32::rotate_left);
shift!(ror, u32::rotate_right);

unsafe extern "C-unwind" fn tohex(l: State) -> c_int {
    // SAFETY: called by Lua with `l` its state; the buffer is copied by
    // lua_pushlstring before anything can raise.
    unsafe {
        let mut b = barg(l, 1);
        let mut n: i32 = if ffi::lua_isnone(l, 2) != 0 {
            8
        } else {
            barg(l, 2) as i32
        };
        let mut digits: &[u8; 16] = b"0123456789abcdef";
        if n < 0 {
            n = n.wrapping_neg();
            digits = b"0123456789ABCDEF";
        }
        // -2^31 stays negative: no digits (the C would misbehave).
        let n = n.clamp(0, 8) as usize;
        let mut buf = [0u8; 8];
        for i in (0..n).rev() {
            buf[i] = digits[(b & 15) as usize];
            b >>= 4;
        }
        ffi::lua_pushlstring(l, buf.as_ptr().cast(), n);
        1
    }
}

/// The `bit` table.
pub fn library(lua: &Lua) -> mlua::Result<Table> {
    let t = lua.create_table()?;
    let fns: [(&str, ffi::lua_CFunction); 12] = [
        ("tobit", tobit),
        ("bnot", bnot),
        ("band", band),
        ("bor", bor),
        ("bxor", bxor),
        ("lshift", lshift),
        ("rshift", rshift),
        ("arshift", arshift),
        ("rol", rol),
        ("ror", ror),
        ("bswap", bswap),
        ("tohex", tohex),
    ];
    for (name, f) in fns {
        // SAFETY: each is a C function over the C API, as above.
        t.raw_set(name, unsafe { lua.create_c_function(f)? })?;
    }
    Ok(t)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn works_as_luabitop() {
        let lua = Lua::new();
        lua.globals()
            .set("bit", library(&lua).expect("bit"))
            .expect("set");
        let r: String = lua
            .load(
                "assert(bit.tobit(1) == 1 and bit.band(1) == 1 and bit.bxor(1, 2) == 3) \
                 assert(bit.bor(1, 2, 4, 8, 16, 32, 64, 128) == 255) \
                 assert(bit.tobit(0xffffffff) == -1 and bit.lshift(1, 31) == -2147483648) \
                 assert(bit.rshift(-1, 28) == 15 and bit.arshift(-256, 4) == -16) \
                 assert(bit.rol(0x12345678, 12) == 0x45678123 and bit.bswap(0x12345678) == 0x78563412) \
                 return bit.tohex(-1, -4) .. bit.tohex(255)",
            )
            .eval()
            .expect("bit");
        assert_eq!(r, "FFFF000000ff");
        let e: String = lua
            .load("return select(2, pcall(bit.band, 1, {}, 'x'))")
            .eval()
            .expect("error");
        assert_eq!(e, "bad argument #3 to '?' (number expected, got string)");
        let n: f64 = lua
            .load("local t = {} for i = 1, 7990 do t[i] = tostring(2 ^ (i % 31)) end return bit.bor(unpack(t))")
            .eval()
            .expect("many");
        assert_eq!(n, f64::from(i32::MAX));
    }
}
