//! `bit`, LuaBitOp 1.0's API as Redis's Lua has it: `tobit`, `tohex`,
//! `bnot`, `band`, `bor`, `bxor`, `lshift`, `rshift`, `arshift`, `rol`,
//! `ror`, `bswap`, on 32-bit integers (numbers are normalised as LuaBitOp
//! does: rounded, then the low 32 bits).

use mlua::{Lua, Table, Variadic};

/// The `bit` table.
pub fn library(lua: &Lua) -> mlua::Result<Table> {
    fn tobit(x: f64) -> i32 {
        // LuaBitOp's normalisation: the low 32 bits after rounding.
        ((x + 6755399441055744.0).to_bits() as u32) as i32
    }
    let t = lua.create_table()?;
    let un = |f: fn(i32) -> i32| move |_: &Lua, x: f64| Ok(f(tobit(x)) as f64);
    t.raw_set("tobit", lua.create_function(un(|x| x))?)?;
    t.raw_set("bnot", lua.create_function(un(|x| !x))?)?;
    t.raw_set("bswap", lua.create_function(un(i32::swap_bytes))?)?;
    let fold = |f: fn(i32, i32) -> i32| {
        move |_: &Lua, (x, rest): (f64, Variadic<f64>)| {
            Ok(rest.iter().fold(tobit(x), |a, &b| f(a, tobit(b))) as f64)
        }
    };
    t.raw_set("band", lua.create_function(fold(|a, b| a & b))?)?;
    t.raw_set("bor", lua.create_function(fold(|a, b| a | b))?)?;
    t.raw_set("bxor", lua.create_function(fold(|a, b| a ^ b))?)?;
    let shift = |f: fn(i32, u32) -> i32| {
        move |_: &Lua, (x, n): (f64, f64)| Ok(f(tobit(x), (tobit(n) & 31) as u32) as f64)
    };
    t.raw_set(
        "lshift",
        lua.create_function(shift(|x, n| ((x as u32) << n) as i32))?,
    )?;
    t.raw_set(
        "rshift",
        lua.create_function(shift(|x, n| ((x as u32) >> n) as i32))?,
    )?;
    t.raw_set("arshift", lua.create_function(shift(|x, n| x >> n))?)?;
    t.raw_set(
        "rol",
        lua.create_function(shift(|x, n| (x as u32).rotate_left(n) as i32))?,
    )?;
    t.raw_set(
        "ror",
        lua.create_function(shift(|x, n| (x as u32).rotate_right(n) as i32))?,
    )?;
    t.raw_set(
        "tohex",
        lua.create_function(|_, (x, n): (f64, Option<f64>)| {
            let n = n.map_or(8, tobit);
            let (upper, width) = (n < 0, n.unsigned_abs().min(8) as usize);
            let v = tobit(x) as u32;
            let s = if upper {
                format!("{v:08X}")
            } else {
                format!("{v:08x}")
            };
            Ok(s[8 - width..].to_string())
        })?,
    )?;
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
    }
}
