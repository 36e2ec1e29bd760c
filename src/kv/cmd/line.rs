//! The seed's line protocol, for `nc`: `SET key value` (the value is the
//! rest of the line), `GET key`, `DEL key`, `QUIT`; replies are bare lines
//! (`OK`, the value, `(nil)`, `1`/`0`, `ERR <why>`). Same store, database 0
//! unless changed by nothing (the line protocol has no SELECT).

use super::Ctx;
use crate::kv::notify;
use crate::kv::value::Value;

fn line(ctx: &mut Ctx<'_>, s: &[u8]) {
    ctx.out.buf.extend_from_slice(s);
    ctx.out.buf.push(b'\n');
}

/// Run one line-protocol command.
pub fn execute(ctx: &mut Ctx<'_>, argv: &[&[u8]]) {
    let Some(&name) = argv.first() else { return };
    let cmd = name.to_ascii_uppercase();
    if !ctx.sess.authed && cmd != b"QUIT" {
        line(
            ctx,
            b"ERR NOAUTH this server needs a password (--requirepass): use a Redis client and AUTH",
        );
        return;
    }
    if !ctx.srv.users.open() && cmd != b"QUIT" && !ctx.sess.user.perms().unrestricted() {
        // The ACL rules are checked per Redis command; the line protocol's
        // clients (the default user) are refused while it is restricted.
        line(
            ctx,
            b"ERR NOPERM the default user is restricted (ACL): use a Redis client",
        );
        return;
    }
    let db = ctx.db();
    let reply_at = ctx.out.buf.len();
    ctx.ks.begin();
    match (cmd.as_slice(), argv.len()) {
        (b"SET" | b"DEL", _) if super::write_refused(ctx).is_some() => {
            let why = super::write_refused(ctx).unwrap_or_default();
            line(ctx, format!("ERR {why}").as_bytes());
        }
        (b"SET", 3) => {
            ctx.ks.put(db, argv[1], Value::Str(argv[2].to_vec()), 0);
            ctx.ks.notify(notify::STRING, "set", db, argv[1]);
            line(ctx, b"OK");
        }
        (b"SET", _) => line(ctx, b"ERR usage: SET key value"),
        (b"GET", 2) => match ctx.ks.read(db, argv[1]).map(|e| &e.value) {
            Some(Value::Str(v)) => {
                let v = v.clone();
                line(ctx, &v);
            }
            Some(_) => line(ctx, crate::kv::value::WRONGTYPE.as_bytes()),
            None => line(ctx, b"(nil)"),
        },
        (b"GET", _) => line(ctx, b"ERR usage: GET key"),
        (b"DEL", 2) => {
            let gone = ctx.ks.remove(db, argv[1]);
            line(ctx, if gone { b"1" } else { b"0" });
        }
        (b"DEL", _) => line(ctx, b"ERR usage: DEL key"),
        (b"QUIT", _) => ctx.sess.close = true,
        _ => {
            let shown = String::from_utf8_lossy(&name[..name.len().min(64)]).into_owned();
            line(
                ctx,
                format!(
                    "ERR unknown command '{shown}' (try SET key value, GET key, DEL key, QUIT)"
                )
                .as_bytes(),
            );
        }
    }
    ctx.ks.end();
    if ctx.ks.depth() == 0 && ctx.ks.space.notify.has_pending() {
        notify::flush(ctx, reply_at);
    }
}
