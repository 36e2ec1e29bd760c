//! Commands: arguments in, a reply appended to an output buffer. Knows the
//! store and the two reply formats, nothing about sockets or threads.
//!
//! RESP replies follow Redis byte for byte where clients look at them
//! (`+OK`, `$-1`, `:1`, `-ERR ...`); the line protocol answers `OK`, the
//! value, `(nil)`, `1`/`0` or `ERR <why>`, one line each.

use std::sync::Arc;

use super::protocol::parse_int;
use super::store::{Expiry, IncrError, SetOpts, Store, now_ms};

/// What the connection does after a command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Keep reading.
    Continue,
    /// Send the replies so far, then close (QUIT).
    Close,
}

/// Static facts CONFIG GET / INFO report.
#[derive(Debug, Clone, Copy, Default)]
pub struct Info {
    /// `--data` is in use.
    pub appendonly: bool,
    /// The fsync policy name (`always`, `everysec`, `no`).
    pub fsync: &'static str,
    /// `--max-conns`.
    pub max_clients: usize,
}

/// Per-call context: the store and the highest log position written.
pub struct Ctx<'a> {
    /// The shared store.
    pub store: &'a Arc<Store>,
    /// Raised to the log position each change needs committed.
    pub logged: u64,
    /// Facts for CONFIG GET and INFO.
    pub info: &'a Info,
}

/// RESP reply writers.
pub mod reply {
    /// Append the decimal form of `n` without allocating.
    pub fn push_int(out: &mut Vec<u8>, n: i64) {
        let mut buf = [0u8; 20];
        let mut i = buf.len();
        let mut v = n.unsigned_abs();
        loop {
            i -= 1;
            buf[i] = b'0' + (v % 10) as u8;
            v /= 10;
            if v == 0 {
                break;
            }
        }
        if n < 0 {
            out.push(b'-');
        }
        out.extend_from_slice(&buf[i..]);
    }
    /// `+OK`
    pub fn ok(out: &mut Vec<u8>) {
        out.extend_from_slice(b"+OK\r\n");
    }
    /// A simple string.
    pub fn status(out: &mut Vec<u8>, s: &str) {
        out.push(b'+');
        out.extend_from_slice(s.as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    /// An error; `msg` starts with its code (`ERR`, `WRONGTYPE`...).
    pub fn err(out: &mut Vec<u8>, msg: &str) {
        out.push(b'-');
        // An error line must not break the framing.
        out.extend(
            msg.bytes()
                .map(|b| if b == b'\r' || b == b'\n' { b' ' } else { b }),
        );
        out.extend_from_slice(b"\r\n");
    }
    /// An integer.
    pub fn int(out: &mut Vec<u8>, n: i64) {
        out.push(b':');
        push_int(out, n);
        out.extend_from_slice(b"\r\n");
    }
    /// A bulk string, or nil.
    pub fn bulk(out: &mut Vec<u8>, v: Option<&[u8]>) {
        match v {
            None => out.extend_from_slice(b"$-1\r\n"),
            Some(v) => {
                out.push(b'$');
                push_int(out, v.len() as i64);
                out.extend_from_slice(b"\r\n");
                out.extend_from_slice(v);
                out.extend_from_slice(b"\r\n");
            }
        }
    }
    /// An array header of `n` items.
    pub fn array(out: &mut Vec<u8>, n: usize) {
        out.push(b'*');
        push_int(out, n as i64);
        out.extend_from_slice(b"\r\n");
    }
}

fn upper(name: &[u8], buf: &mut [u8; 24]) -> Option<usize> {
    if name.len() > buf.len() {
        return None;
    }
    for (d, s) in buf.iter_mut().zip(name) {
        *d = s.to_ascii_uppercase();
    }
    Some(name.len())
}

fn arity_err(out: &mut Vec<u8>, name: &[u8]) {
    reply::err(
        out,
        &format!(
            "ERR wrong number of arguments for '{}' command",
            String::from_utf8_lossy(name).to_lowercase()
        ),
    );
}

const NOT_INT: &str = "ERR value is not an integer or out of range";
const SYNTAX: &str = "ERR syntax error";

/// Execute one RESP command. `args[0]` is the command name.
pub fn execute(args: &[&[u8]], ctx: &mut Ctx<'_>, out: &mut Vec<u8>) -> Action {
    let Some(&name) = args.first() else {
        reply::err(out, "ERR empty command");
        return Action::Continue;
    };
    let mut buf = [0u8; 24];
    let upname: &[u8] = match upper(name, &mut buf) {
        Some(n) => &buf[..n],
        None => b"",
    };
    let n = args.len();
    let store = ctx.store;
    macro_rules! arity {
        ($ok:expr) => {
            if !($ok) {
                arity_err(out, name);
                return Action::Continue;
            }
        };
    }
    match upname {
        b"GET" => {
            arity!(n == 2);
            store.get(args[1], |v| reply::bulk(out, v));
        }
        b"SET" => {
            arity!(n >= 3);
            set(args, ctx, out);
        }
        b"DEL" | b"UNLINK" => {
            arity!(n >= 2);
            let c = args[1..]
                .iter()
                .filter(|k| store.del(k, &mut ctx.logged))
                .count();
            reply::int(out, c as i64);
        }
        b"EXISTS" => {
            arity!(n >= 2);
            let c = args[1..].iter().filter(|k| store.exists(k)).count();
            reply::int(out, c as i64);
        }
        b"PING" => {
            arity!(n <= 2);
            match args.get(1) {
                Some(m) => reply::bulk(out, Some(m)),
                None => reply::status(out, "PONG"),
            }
        }
        b"ECHO" => {
            arity!(n == 2);
            reply::bulk(out, Some(args[1]));
        }
        b"INCR" | b"DECR" | b"INCRBY" | b"DECRBY" => {
            let by = matches!(upname, b"INCRBY" | b"DECRBY");
            arity!(n == if by { 3 } else { 2 });
            let mut delta = if by {
                match parse_int(args[2]) {
                    Some(d) => d,
                    None => {
                        reply::err(out, NOT_INT);
                        return Action::Continue;
                    }
                }
            } else {
                1
            };
            if upname.starts_with(b"DECR") {
                match delta.checked_neg() {
                    Some(d) => delta = d,
                    None => {
                        reply::err(out, NOT_INT);
                        return Action::Continue;
                    }
                }
            }
            match store.incr_by(args[1], delta, &mut ctx.logged) {
                Ok(v) => reply::int(out, v),
                Err(IncrError::NotInteger) => reply::err(out, NOT_INT),
                Err(IncrError::Overflow) => {
                    reply::err(out, "ERR increment or decrement would overflow")
                }
            }
        }
        b"MGET" => {
            arity!(n >= 2);
            reply::array(out, n - 1);
            for k in &args[1..] {
                store.get(k, |v| reply::bulk(out, v));
            }
        }
        b"MSET" => {
            arity!(n >= 3 && n % 2 == 1);
            for kv in args[1..].chunks(2) {
                store.set(kv[0], kv[1], SetOpts::default(), false, &mut ctx.logged);
            }
            reply::ok(out);
        }
        b"EXPIRE" | b"PEXPIRE" => {
            arity!(n == 3);
            let Some(t) = parse_int(args[2]) else {
                reply::err(out, NOT_INT);
                return Action::Continue;
            };
            let ms = if upname == b"EXPIRE" {
                t.checked_mul(1000)
            } else {
                Some(t)
            };
            let Some(at) = ms.and_then(|ms| (now_ms() as i64).checked_add(ms)) else {
                reply::err(out, "ERR invalid expire time in 'expire' command");
                return Action::Continue;
            };
            let ok = store.expire_at(args[1], at.max(0) as u64, &mut ctx.logged);
            reply::int(out, ok as i64);
        }
        b"TTL" | b"PTTL" => {
            arity!(n == 2);
            let ms = store.ttl_ms(args[1]);
            let v = if ms < 0 || upname == b"PTTL" {
                ms
            } else {
                (ms + 500) / 1000
            };
            reply::int(out, v);
        }
        b"KEYS" => {
            arity!(n == 2);
            let keys = store.keys(args[1]);
            reply::array(out, keys.len());
            for k in &keys {
                reply::bulk(out, Some(k));
            }
        }
        b"DBSIZE" => {
            arity!(n == 1);
            reply::int(out, store.len() as i64);
        }
        b"FLUSHDB" | b"FLUSHALL" => {
            arity!(n <= 2);
            store.flush(&mut ctx.logged);
            reply::ok(out);
        }
        b"SELECT" => {
            arity!(n == 2);
            match parse_int(args[1]) {
                Some(0) => reply::ok(out),
                Some(_) => reply::err(out, "ERR DB index is out of range"),
                None => reply::err(out, NOT_INT),
            }
        }
        b"QUIT" => {
            reply::ok(out);
            return Action::Close;
        }
        b"BGREWRITEAOF" => {
            arity!(n == 1);
            if store.aof().is_none() {
                reply::err(
                    out,
                    "ERR no append-only file: start the server with --data FILE",
                );
            } else {
                let st = Arc::clone(store);
                let spawned =
                    std::thread::Builder::new()
                        .name("kv-rewrite".into())
                        .spawn(move || {
                            if let Err(e) = st.rewrite_log() {
                                eprintln!("netkit: log compaction failed: {e}");
                            }
                        });
                match spawned {
                    Ok(_) => reply::status(out, "Background append only file rewriting started"),
                    Err(_) => reply::err(out, "ERR cannot start the rewrite thread"),
                }
            }
        }
        b"COMMAND" => match args.get(1).map(|a| a.to_ascii_uppercase()) {
            Some(s) if s == b"COUNT" => reply::int(out, 0),
            _ => reply::array(out, 0),
        },
        b"CONFIG" => config(args, ctx.info, out),
        b"CLIENT" => client(args, out),
        b"HELLO" => match args.get(1) {
            None => hello(out),
            Some(v) if *v == b"2" => hello(out),
            Some(v) if parse_int(v).is_some() => {
                reply::err(out, "NOPROTO sorry, this protocol version is not supported")
            }
            Some(_) => reply::err(
                out,
                "ERR Protocol version is not an integer or out of range",
            ),
        },
        b"INFO" => {
            let text = format!(
                "# Server\r\nredis_version:7.0.0\r\nnetkit_version:{}\r\nredis_mode:standalone\r\n\
                 # Persistence\r\naof_enabled:{}\r\n# Keyspace\r\ndb0:keys={},expires=0,avg_ttl=0\r\n",
                env!("CARGO_PKG_VERSION"),
                ctx.info.appendonly as u8,
                store.len()
            );
            reply::bulk(out, Some(text.as_bytes()));
        }
        _ => {
            let mut msg = format!(
                "ERR unknown command '{}', with args beginning with:",
                String::from_utf8_lossy(&name[..name.len().min(128)])
            );
            for a in args[1..].iter().take(4) {
                msg.push_str(&format!(
                    " '{}'",
                    String::from_utf8_lossy(&a[..a.len().min(64)])
                ));
            }
            reply::err(out, &msg);
        }
    }
    Action::Continue
}

fn set(args: &[&[u8]], ctx: &mut Ctx<'_>, out: &mut Vec<u8>) {
    let mut opts = SetOpts::default();
    let mut want_old = false;
    let mut expiry_given = false;
    let mut i = 3;
    while i < args.len() {
        let opt = args[i].to_ascii_uppercase();
        match opt.as_slice() {
            b"NX" if !opts.xx => opts.nx = true,
            b"XX" if !opts.nx => opts.xx = true,
            b"GET" => want_old = true,
            b"KEEPTTL" if !expiry_given => {
                opts.expiry = Expiry::Keep;
                expiry_given = true;
            }
            b"EX" | b"PX" | b"EXAT" | b"PXAT" if !expiry_given && i + 1 < args.len() => {
                let Some(t) = parse_int(args[i + 1]) else {
                    reply::err(out, NOT_INT);
                    return;
                };
                let at = match opt.as_slice() {
                    b"EX" => t
                        .checked_mul(1000)
                        .and_then(|ms| ms.checked_add(now_ms() as i64)),
                    b"PX" => t.checked_add(now_ms() as i64),
                    b"EXAT" => t.checked_mul(1000),
                    _ => Some(t),
                };
                match at {
                    Some(at) if t > 0 => opts.expiry = Expiry::At(at as u64),
                    _ => {
                        reply::err(out, "ERR invalid expire time in 'set' command");
                        return;
                    }
                }
                expiry_given = true;
                i += 1;
            }
            _ => {
                reply::err(out, SYNTAX);
                return;
            }
        }
        i += 1;
    }
    let (done, old) = ctx
        .store
        .set(args[1], args[2], opts, want_old, &mut ctx.logged);
    if want_old {
        reply::bulk(out, old.as_deref());
    } else if done {
        reply::ok(out);
    } else {
        reply::bulk(out, None);
    }
}

fn config(args: &[&[u8]], info: &Info, out: &mut Vec<u8>) {
    let sub = args.get(1).map(|a| a.to_ascii_uppercase());
    match sub.as_deref() {
        Some(b"GET") if args.len() >= 3 => {
            let maxclients = info.max_clients.to_string();
            let table: [(&str, &str); 6] = [
                ("save", ""),
                ("appendonly", if info.appendonly { "yes" } else { "no" }),
                ("appendfsync", info.fsync),
                ("databases", "1"),
                ("maxmemory", "0"),
                ("maxclients", &maxclients),
            ];
            let mut hits = Vec::new();
            for pat in &args[2..] {
                let pat = pat.to_ascii_lowercase();
                for (k, v) in table {
                    if super::store::glob_match(&pat, k.as_bytes()) && !hits.contains(&(k, v)) {
                        hits.push((k, v));
                    }
                }
            }
            reply::array(out, hits.len() * 2);
            for (k, v) in hits {
                reply::bulk(out, Some(k.as_bytes()));
                reply::bulk(out, Some(v.as_bytes()));
            }
        }
        Some(b"RESETSTAT") => reply::ok(out),
        _ => reply::err(
            out,
            "ERR netkit supports only CONFIG GET and CONFIG RESETSTAT",
        ),
    }
}

fn client(args: &[&[u8]], out: &mut Vec<u8>) {
    let sub = args.get(1).map(|a| a.to_ascii_uppercase());
    match sub.as_deref() {
        Some(b"SETNAME") | Some(b"SETINFO") | Some(b"NO-EVICT") | Some(b"NO-TOUCH") => {
            reply::ok(out)
        }
        Some(b"GETNAME") => reply::bulk(out, None),
        Some(b"ID") => reply::int(out, 1),
        Some(b"LIST") | Some(b"INFO") => reply::bulk(out, Some(b"id=1 name= db=0\n")),
        _ => reply::err(
            out,
            "ERR netkit supports CLIENT SETNAME, SETINFO, GETNAME, ID, LIST and INFO",
        ),
    }
}

fn hello(out: &mut Vec<u8>) {
    reply::array(out, 14);
    for (k, v) in [
        ("server", "redis"),
        ("version", "7.0.0"),
        ("mode", "standalone"),
        ("role", "master"),
    ] {
        reply::bulk(out, Some(k.as_bytes()));
        reply::bulk(out, Some(v.as_bytes()));
    }
    reply::bulk(out, Some(b"proto"));
    reply::int(out, 2);
    reply::bulk(out, Some(b"id"));
    reply::int(out, 1);
    reply::bulk(out, Some(b"modules"));
    reply::array(out, 0);
}

/// Execute one line-protocol command (`SET key value`, `GET key`, `DEL key`,
/// `QUIT`); replies are single lines.
pub fn execute_line(args: &[&[u8]], ctx: &mut Ctx<'_>, out: &mut Vec<u8>) -> Action {
    let Some(&name) = args.first() else {
        return Action::Continue; // blank line
    };
    let store = ctx.store;
    let cmd = name.to_ascii_uppercase();
    match (cmd.as_slice(), args.len()) {
        (b"SET", 3) => {
            store.set(args[1], args[2], SetOpts::default(), false, &mut ctx.logged);
            out.extend_from_slice(b"OK\n");
        }
        (b"SET", _) => out.extend_from_slice(b"ERR usage: SET key value\n"),
        (b"GET", 2) => store.get(args[1], |v| match v {
            Some(v) => {
                out.extend_from_slice(v);
                out.push(b'\n');
            }
            None => out.extend_from_slice(b"(nil)\n"),
        }),
        (b"GET", _) => out.extend_from_slice(b"ERR usage: GET key\n"),
        (b"DEL", 2) => {
            let gone = store.del(args[1], &mut ctx.logged);
            out.extend_from_slice(if gone { b"1\n" } else { b"0\n" });
        }
        (b"DEL", _) => out.extend_from_slice(b"ERR usage: DEL key\n"),
        (b"QUIT", _) => return Action::Close,
        _ => {
            let shown = String::from_utf8_lossy(&name[..name.len().min(64)]).into_owned();
            out.extend_from_slice(
                format!(
                    "ERR unknown command '{shown}' (try SET key value, GET key, DEL key, QUIT)\n"
                )
                .as_bytes(),
            );
        }
    }
    Action::Continue
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(store: &Arc<Store>, cmd: &[&str]) -> String {
        let args: Vec<&[u8]> = cmd.iter().map(|s| s.as_bytes()).collect();
        let info = Info::default();
        let mut ctx = Ctx {
            store,
            logged: 0,
            info: &info,
        };
        let mut out = Vec::new();
        execute(&args, &mut ctx, &mut out);
        String::from_utf8_lossy(&out).into_owned()
    }

    #[test]
    fn ints_format_without_allocating() {
        for n in [0, 7, -7, 1234567890, i64::MIN, i64::MAX] {
            let mut out = Vec::new();
            reply::push_int(&mut out, n);
            assert_eq!(out, n.to_string().into_bytes());
        }
    }

    #[test]
    fn resp_commands_answer_like_redis() {
        let s = Arc::new(Store::default());
        assert_eq!(run(&s, &["set", "k", "v"]), "+OK\r\n");
        assert_eq!(run(&s, &["GET", "k"]), "$1\r\nv\r\n");
        assert_eq!(run(&s, &["SET", "k", "w", "NX"]), "$-1\r\n");
        assert_eq!(run(&s, &["SET", "k", "w", "XX", "GET"]), "$1\r\nv\r\n");
        assert_eq!(
            run(&s, &["SET", "k", "w", "EX", "0"]).chars().next(),
            Some('-')
        );
        assert_eq!(
            run(&s, &["SET", "k", "w", "BOGUS"]),
            "-ERR syntax error\r\n"
        );
        assert_eq!(run(&s, &["INCR", "n"]), ":1\r\n");
        assert_eq!(run(&s, &["INCRBY", "n", "41"]), ":42\r\n");
        assert_eq!(run(&s, &["DECR", "n"]), ":41\r\n");
        assert!(run(&s, &["INCR", "k"]).starts_with("-ERR value is not an integer"));
        assert_eq!(run(&s, &["MSET", "a", "1", "b", "2"]), "+OK\r\n");
        assert_eq!(
            run(&s, &["MGET", "a", "zz", "b"]),
            "*3\r\n$1\r\n1\r\n$-1\r\n$1\r\n2\r\n"
        );
        assert_eq!(run(&s, &["EXISTS", "a", "b", "zz"]), ":2\r\n");
        assert_eq!(run(&s, &["DEL", "a", "zz"]), ":1\r\n");
        assert_eq!(run(&s, &["TTL", "b"]), ":-1\r\n");
        assert_eq!(run(&s, &["EXPIRE", "b", "100"]), ":1\r\n");
        assert_eq!(run(&s, &["TTL", "b"]), ":100\r\n");
        assert_eq!(run(&s, &["TTL", "zz"]), ":-2\r\n");
        assert_eq!(
            run(&s, &["KEYS", "[bn]"]).len(),
            "*2\r\n$1\r\nb\r\n$1\r\nn\r\n".len()
        );
        assert_eq!(run(&s, &["DBSIZE"]), ":3\r\n");
        assert_eq!(run(&s, &["SELECT", "0"]), "+OK\r\n");
        assert!(run(&s, &["SELECT", "1"]).starts_with("-ERR"));
        assert_eq!(run(&s, &["PING"]), "+PONG\r\n");
        assert_eq!(run(&s, &["ECHO", "x y"]), "$3\r\nx y\r\n");
        assert!(run(&s, &["HELLO", "3"]).starts_with("-NOPROTO"));
        assert_eq!(
            run(&s, &["CONFIG", "GET", "save"]),
            "*2\r\n$4\r\nsave\r\n$0\r\n\r\n"
        );
        assert_eq!(
            run(&s, &["GET"]),
            "-ERR wrong number of arguments for 'get' command\r\n"
        );
        assert!(run(&s, &["LPUSH", "l", "x"]).starts_with("-ERR unknown command 'LPUSH'"));
        assert_eq!(run(&s, &["FLUSHDB"]), "+OK\r\n");
        assert_eq!(run(&s, &["DBSIZE"]), ":0\r\n");
    }

    #[test]
    fn line_commands_answer_in_lines() {
        let s = Arc::new(Store::default());
        let info = Info::default();
        let mut ctx = Ctx {
            store: &s,
            logged: 0,
            info: &info,
        };
        let mut out = Vec::new();
        for cmd in [
            &[&b"SET"[..], b"k", b"a b"][..],
            &[b"get", b"k"],
            &[b"DEL", b"k"],
            &[b"DEL", b"k"],
            &[b"GET", b"k"],
            &[b"FOO"],
            &[b"GET"],
        ] {
            assert_eq!(execute_line(cmd, &mut ctx, &mut out), Action::Continue);
        }
        let text = String::from_utf8(out).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(&lines[..5], &["OK", "a b", "1", "0", "(nil)"]);
        assert!(lines[5].starts_with("ERR unknown command 'FOO'"));
        assert_eq!(lines[6], "ERR usage: GET key");
        assert_eq!(
            execute_line(&[b"quit"], &mut ctx, &mut Vec::new()),
            Action::Close
        );
    }
}
