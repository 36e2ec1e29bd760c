//! Replies as text, the way redis-cli 7 prints them: quoted strings,
//! `(integer) 1`, numbered nested lists, RESP3's maps (`1# "k" => "v"`),
//! sets (`1~ "a"`), doubles, booleans, and text replies shown as text.
//! `--raw` prints bare values, one per line. Pure: replies in, bytes out.
//!
//! Text replies are the RESP3 verbatim strings, and, whatever the protocol,
//! the replies of the commands redis-cli shows as text (INFO, CLIENT LIST,
//! CLIENT INFO, MEMORY DOCTOR, LATENCY DOCTOR, ...): one line per line,
//! not one quoted line with `\r\n` in it.

use crate::kv::resp::Reply;

/// `r` formatted as redis-cli does on a terminal, or raw; ends with a newline.
pub fn format_reply(r: &Reply, raw: bool) -> Vec<u8> {
    let mut out = Vec::new();
    if raw {
        format_raw(r, &mut out);
        out.push(b'\n');
    } else {
        format_pretty(r, "", &mut out);
    }
    out
}

/// The reply to `args` as shown: text replies as text (ending with a
/// newline), everything else as `format_reply`.
pub fn show_reply(args: &[Vec<u8>], r: &Reply, raw: bool) -> Vec<u8> {
    let text = match r {
        Reply::Verbatim { text, .. } => Some(text),
        Reply::Bulk(Some(b)) if shown_as_text(args) => Some(b),
        _ => None,
    };
    match text {
        Some(t) => {
            let mut out = t.clone();
            if !out.ends_with(b"\n") {
                out.push(b'\n');
            }
            out
        }
        None => format_reply(r, raw),
    }
}

/// Commands whose string reply is text for people (redis-cli's list).
pub fn shown_as_text(args: &[Vec<u8>]) -> bool {
    let is = |i: usize, w: &str| {
        args.get(i)
            .is_some_and(|a| a.eq_ignore_ascii_case(w.as_bytes()))
    };
    let n = args.len();
    is(0, "info")
        || is(0, "lolwut")
        || (is(0, "debug")
            && (is(1, "htstats") || is(1, "htstats-key") || is(1, "client-eviction")))
        || (is(0, "memory") && (is(1, "malloc-stats") || is(1, "doctor")))
        || (n == 2 && is(0, "cluster") && (is(1, "nodes") || is(1, "info")))
        || (is(0, "client") && (is(1, "list") || is(1, "info")))
        || (n == 3 && is(0, "latency") && is(1, "graph"))
        || (n == 2 && is(0, "latency") && is(1, "doctor"))
}

fn format_raw(r: &Reply, out: &mut Vec<u8>) {
    let lines = |items: &[Reply], out: &mut Vec<u8>| {
        for (i, it) in items.iter().enumerate() {
            if i > 0 {
                out.push(b'\n');
            }
            format_raw(it, out);
        }
    };
    match r {
        Reply::Status(s) | Reply::Error(s) | Reply::Double(s) | Reply::BigNum(s) => {
            out.extend_from_slice(s.as_bytes())
        }
        Reply::Int(n) => out.extend_from_slice(n.to_string().as_bytes()),
        Reply::Bool(b) => out.extend_from_slice(if *b { b"(true)" } else { b"(false)" }),
        Reply::Bulk(Some(b)) | Reply::Verbatim { text: b, .. } => out.extend_from_slice(b),
        Reply::Bulk(None) | Reply::Array(None) => {}
        Reply::Array(Some(items)) | Reply::Set(items) | Reply::Push(items) => lines(items, out),
        Reply::Map(pairs) => {
            for (i, (k, v)) in pairs.iter().enumerate() {
                if i > 0 {
                    out.push(b'\n');
                }
                format_raw(k, out);
                out.push(b' ');
                format_raw(v, out);
            }
        }
    }
}

/// A value that takes more than one line (a map's value then starts on a
/// line of its own).
fn multiline(r: &Reply) -> bool {
    match r {
        Reply::Array(Some(v)) | Reply::Set(v) | Reply::Push(v) => {
            v.len() > 1 || v.first().is_some_and(multiline)
        }
        Reply::Map(p) => p.len() > 1 || p.first().is_some_and(|(_, v)| multiline(v)),
        _ => false,
    }
}

fn format_pretty(r: &Reply, prefix: &str, out: &mut Vec<u8>) {
    let mut put = |s: &str| out.extend_from_slice(s.as_bytes());
    match r {
        Reply::Status(s) => put(&format!("{s}\n")),
        Reply::Error(e) => put(&format!("(error) {e}\n")),
        Reply::Int(n) => put(&format!("(integer) {n}\n")),
        Reply::Double(d) => put(&format!("(double) {d}\n")),
        Reply::BigNum(d) => put(&format!("(big number) {d}\n")),
        Reply::Bool(b) => put(if *b { "(true)\n" } else { "(false)\n" }),
        Reply::Bulk(None) | Reply::Array(None) => put("(nil)\n"),
        Reply::Bulk(Some(b)) => put(&format!("{}\n", quote(b))),
        Reply::Verbatim { text, .. } => {
            out.extend_from_slice(text);
            out.push(b'\n');
        }
        Reply::Array(Some(v)) if v.is_empty() => put("(empty array)\n"),
        Reply::Set(v) if v.is_empty() => put("(empty set)\n"),
        Reply::Push(v) if v.is_empty() => put("(empty push)\n"),
        Reply::Map(p) if p.is_empty() => put("(empty hash)\n"),
        Reply::Array(Some(v)) | Reply::Push(v) => list(v, ')', prefix, out),
        Reply::Set(v) => list(v, '~', prefix, out),
        Reply::Map(pairs) => {
            let width = pairs.len().to_string().len();
            let inner = format!("{prefix}{}", " ".repeat(width + 2));
            for (i, (k, v)) in pairs.iter().enumerate() {
                let lead = if i == 0 { "" } else { prefix };
                out.extend_from_slice(format!("{lead}{:>width$}# ", i + 1).as_bytes());
                format_pretty(k, &inner, out);
                out.pop(); // the key's newline
                out.extend_from_slice(b" => ");
                if multiline(v) {
                    out.push(b'\n');
                    out.extend_from_slice(inner.as_bytes());
                }
                format_pretty(v, &inner, out);
            }
        }
    }
}

fn list(items: &[Reply], sep: char, prefix: &str, out: &mut Vec<u8>) {
    let width = items.len().to_string().len();
    let inner = format!("{prefix}{}", " ".repeat(width + 2));
    for (i, it) in items.iter().enumerate() {
        let lead = if i == 0 { "" } else { prefix };
        out.extend_from_slice(format!("{lead}{:>width$}{sep} ", i + 1).as_bytes());
        format_pretty(it, &inner, out);
    }
}

/// Quote bytes the way redis-cli does: `"a\"b\n\xff"`.
pub fn quote(b: &[u8]) -> String {
    let mut s = String::with_capacity(b.len() + 2);
    s.push('"');
    for &c in b {
        match c {
            b'\\' => s.push_str("\\\\"),
            b'"' => s.push_str("\\\""),
            b'\n' => s.push_str("\\n"),
            b'\r' => s.push_str("\\r"),
            b'\t' => s.push_str("\\t"),
            7 => s.push_str("\\a"),
            8 => s.push_str("\\b"),
            c if c.is_ascii_graphic() || c == b' ' => s.push(c as char),
            c => s.push_str(&format!("\\x{c:02x}")),
        }
    }
    s.push('"');
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(r: Reply, raw: bool) -> String {
        String::from_utf8(format_reply(&r, raw)).unwrap()
    }

    fn bulk(v: &str) -> Reply {
        Reply::Bulk(Some(v.as_bytes().to_vec()))
    }

    #[test]
    fn resp2_replies_format_like_redis_cli() {
        assert_eq!(s(Reply::Status("OK".into()), false), "OK\n");
        assert_eq!(s(Reply::Int(3), false), "(integer) 3\n");
        assert_eq!(s(Reply::Int(3), true), "3\n");
        assert_eq!(s(Reply::Bulk(None), false), "(nil)\n");
        assert_eq!(
            s(Reply::Bulk(Some(b"a\"\n\xff".to_vec())), false),
            "\"a\\\"\\n\\xff\"\n"
        );
        assert_eq!(s(Reply::Error("ERR x".into()), false), "(error) ERR x\n");
        assert_eq!(s(Reply::Array(Some(vec![])), false), "(empty array)\n");
        let arr = Reply::Array(Some(vec![
            bulk("a"),
            Reply::Array(Some(vec![Reply::Int(1), Reply::Bulk(None)])),
        ]));
        assert_eq!(
            s(arr.clone(), false),
            "1) \"a\"\n2) 1) (integer) 1\n   2) (nil)\n"
        );
        assert_eq!(s(arr, true), "a\n1\n\n");
        let ten = Reply::Array(Some((1..=10).map(Reply::Int).collect()));
        let shown = s(ten, false);
        assert!(shown.starts_with(" 1) (integer) 1\n 2) "), "{shown}");
        assert!(shown.ends_with("10) (integer) 10\n"), "{shown}");
    }

    #[test]
    fn resp3_replies_format_like_redis_cli() {
        let map = Reply::Map(vec![
            (bulk("server"), bulk("redis")),
            (bulk("modules"), Reply::Array(Some(vec![]))),
            (
                bulk("set"),
                Reply::Set(vec![Reply::Double("1.5".into()), Reply::Bool(true)]),
            ),
        ]);
        assert_eq!(
            s(map.clone(), false),
            "1# \"server\" => \"redis\"\n\
             2# \"modules\" => (empty array)\n\
             3# \"set\" => \n   1~ (double) 1.5\n   2~ (true)\n"
        );
        assert_eq!(s(map, true), "server redis\nmodules \nset 1.5\n(true)\n");
        assert_eq!(s(Reply::Map(vec![]), false), "(empty hash)\n");
        assert_eq!(s(Reply::Set(vec![]), false), "(empty set)\n");
        assert_eq!(
            s(Reply::BigNum("1".repeat(30)), false),
            format!("(big number) {}\n", "1".repeat(30))
        );
        let push = Reply::Push(vec![bulk("message"), bulk("ch"), bulk("hi")]);
        assert_eq!(s(push, false), "1) \"message\"\n2) \"ch\"\n3) \"hi\"\n");
    }

    #[test]
    fn text_replies_are_shown_as_text() {
        let info = bulk("# Server\r\nredis_version:7.0.0\r\n");
        let args = |a: &[&str]| a.iter().map(|s| s.as_bytes().to_vec()).collect::<Vec<_>>();
        assert_eq!(
            show_reply(&args(&["INFO"]), &info, false),
            b"# Server\r\nredis_version:7.0.0\r\n"
        );
        assert_eq!(
            show_reply(&args(&["client", "list"]), &bulk("id=1 addr=x"), false),
            b"id=1 addr=x\n"
        );
        // A verbatim string is text whatever the command.
        let verb = Reply::Verbatim {
            format: "txt".into(),
            text: b"one\ntwo".to_vec(),
        };
        assert_eq!(
            show_reply(&args(&["debug", "protocol", "verbatim"]), &verb, false),
            b"one\ntwo\n"
        );
        // Other strings stay quoted; an error stays an error.
        assert_eq!(
            show_reply(&args(&["get", "k"]), &bulk("a\nb"), false),
            b"\"a\\nb\"\n"
        );
        assert_eq!(
            show_reply(&args(&["info"]), &Reply::Error("ERR x".into()), false),
            b"(error) ERR x\n"
        );
        assert!(!shown_as_text(&args(&["latency", "doctor", "x"])));
    }
}
