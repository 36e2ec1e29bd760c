//! Scripting commands: EVAL EVALSHA EVAL_RO EVALSHA_RO and SCRIPT
//! LOAD|EXISTS|FLUSH|KILL|HELP. The engine is [`crate::kv::script`]. While
//! a script is busy, `SCRIPT KILL` is answered without the store by
//! [`crate::kv::script::busy`]; through the table it finds nothing running.

use super::arg::is;
use super::{CommandSpec, Ctx, NOSCRIPT, STALE, spec};
use crate::kv::script::{self, run};

const G: &str = "scripting";

static SCRIPT_SUBS: &[CommandSpec] = &[
    spec(
        "load",
        3,
        NOSCRIPT | STALE,
        (0, 0, 0),
        G,
        "2.6.0",
        "Loads a server-side Lua script to the script cache.",
        "script",
        script_cmd,
    ),
    spec(
        "exists",
        -3,
        NOSCRIPT,
        (0, 0, 0),
        G,
        "2.6.0",
        "Determines whether server-side Lua scripts exist in the script cache.",
        "sha1 [sha1 ...]",
        script_cmd,
    ),
    spec(
        "flush",
        -2,
        NOSCRIPT,
        (0, 0, 0),
        G,
        "2.6.0",
        "Removes all server-side Lua scripts from the script cache.",
        "[ASYNC|SYNC]",
        script_cmd,
    ),
    spec(
        "kill",
        2,
        NOSCRIPT,
        (0, 0, 0),
        G,
        "2.6.0",
        "Terminates a server-side Lua script during execution.",
        "",
        script_cmd,
    ),
    spec(
        "help",
        2,
        STALE,
        (0, 0, 0),
        G,
        "5.0.0",
        "Returns helpful text about the different subcommands.",
        "",
        script_cmd,
    ),
];

/// The scripting family.
pub static COMMANDS: &[CommandSpec] = &[
    spec(
        "eval",
        -3,
        NOSCRIPT | STALE,
        (0, 0, 0),
        G,
        "2.6.0",
        "Executes a server-side Lua script.",
        "script numkeys [key [key ...]] [arg [arg ...]]",
        eval,
    )
    .numkeys_at(2),
    spec(
        "evalsha",
        -3,
        NOSCRIPT | STALE,
        (0, 0, 0),
        G,
        "2.6.0",
        "Executes a server-side Lua script by SHA1 digest.",
        "sha1 numkeys [key [key ...]] [arg [arg ...]]",
        eval,
    )
    .numkeys_at(2),
    spec(
        "eval_ro",
        -3,
        NOSCRIPT | STALE | super::READONLY,
        (0, 0, 0),
        G,
        "7.0.0",
        "Executes a read-only server-side Lua script.",
        "script numkeys [key [key ...]] [arg [arg ...]]",
        eval,
    )
    .numkeys_at(2),
    spec(
        "evalsha_ro",
        -3,
        NOSCRIPT | STALE | super::READONLY,
        (0, 0, 0),
        G,
        "7.0.0",
        "Executes a read-only server-side Lua script by SHA1 digest.",
        "sha1 numkeys [key [key ...]] [arg [arg ...]]",
        eval,
    )
    .numkeys_at(2),
    CommandSpec {
        subcommands: SCRIPT_SUBS,
        ..spec(
            "script",
            -2,
            0,
            (0, 0, 0),
            G,
            "2.6.0",
            "A container for Lua scripts management commands.",
            "LOAD|EXISTS|FLUSH|KILL|HELP ...",
            super::no_subcommand,
        )
    },
];

fn eval(ctx: &mut Ctx<'_>, a: &[&[u8]]) {
    let name = a[0].to_ascii_lowercase();
    let by_sha = name.starts_with(b"evalsha");
    let ro = name.ends_with(b"_ro");
    run::eval(ctx, a, by_sha, ro);
}

fn script_cmd(ctx: &mut Ctx<'_>, a: &[&[u8]]) {
    let sub = String::from_utf8_lossy(a[1]).to_ascii_lowercase();
    match sub.as_str() {
        "load" => match run::load(ctx, a[2]) {
            Ok(sha) => ctx.out.bulk(sha.as_bytes()),
            Err(e) => ctx.out.err(&e),
        },
        "exists" => {
            ctx.out.array(a.len() - 2);
            for sha in &a[2..] {
                let hit = ctx.srv.scripts.exists(sha);
                ctx.out.int(hit as i64);
            }
        }
        "flush" => {
            if a.len() > 3 || (a.len() == 3 && !is(a[2], "ASYNC") && !is(a[2], "SYNC")) {
                ctx.out
                    .err("ERR SCRIPT FLUSH only support SYNC|ASYNC option");
                return;
            }
            ctx.srv.scripts.flush();
            script::vm::reset();
            ctx.out.ok();
        }
        "kill" => ctx.out.err(script::NOTBUSY),
        _ => super::keys::help(
            ctx,
            &[
                "SCRIPT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
                "EXISTS <sha1> [<sha1> ...]",
                "    Return information about the existence of the scripts in the script cache.",
                "FLUSH [ASYNC|SYNC]",
                "    Flush the Lua scripts cache. Very dangerous on replicas.",
                "    When called without the optional mode argument, the behavior is determined by the",
                "    lazyfree-lazy-user-flush configuration directive. Valid modes are:",
                "    * ASYNC: Asynchronously flush the scripts cache.",
                "    * SYNC: Synchronously flush the scripts cache.",
                "KILL",
                "    Kill the currently executing Lua script.",
                "LOAD <script>",
                "    Load a script into the scripts cache without executing it.",
                "HELP",
                "    Prints this help.",
            ],
        ),
    }
}
