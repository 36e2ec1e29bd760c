//! Reading a server's `COMMAND DOCS` into help entries the way redis-cli
//! reads it (its `cliConcatArguments`): each argument's token, name, type
//! (`oneof` joined with `|`, `block` with spaces), optional and multiple
//! flags make the syntax shown in hints and `help`.

use super::help::Entry;
use crate::kv::resp::Reply;

/// A map's fields (RESP3 map, or RESP2's flat array of names and values).
pub(super) fn fields(r: &Reply) -> Option<Vec<(String, &Reply)>> {
    let name = |r: &Reply| r.bytes().map(|b| String::from_utf8_lossy(b).into_owned());
    match r {
        Reply::Map(pairs) => pairs.iter().map(|(k, v)| Some((name(k)?, v))).collect(),
        Reply::Array(Some(items)) if items.len() % 2 == 0 => items
            .chunks(2)
            .map(|kv| Some((name(&kv[0])?, &kv[1])))
            .collect(),
        _ => None,
    }
}

fn field<'a>(fs: &[(String, &'a Reply)], key: &str) -> Option<&'a Reply> {
    fs.iter().find(|(k, _)| k == key).map(|(_, v)| *v)
}

/// A string field as printable text: what a server documents is shown on
/// the terminal, so its control characters (escape codes) are dropped.
fn text_of(r: Option<&Reply>) -> String {
    r.and_then(Reply::bytes)
        .map(|b| printable(&String::from_utf8_lossy(b)))
        .unwrap_or_default()
}

fn printable(s: &str) -> String {
    s.chars().filter(|c| !c.is_control()).collect()
}

/// The entry for command `name` (`config|get` for a subcommand) and its
/// subcommands' entries.
pub(super) fn entries(parent: &[String], name: String, doc: &Reply, out: &mut Vec<Entry>) {
    let Some(fs) = fields(doc) else { return };
    let mut words = parent.to_vec();
    let name = printable(&name);
    let own = name
        .rsplit('|')
        .next()
        .unwrap_or(&name)
        .to_ascii_uppercase();
    words.push(own);
    let params = match field(&fs, "arguments").and_then(Reply::items) {
        Some(args) => join_args(args, " "),
        None => String::new(),
    };
    out.push(Entry {
        words: words.clone(),
        params,
        summary: text_of(field(&fs, "summary")),
        since: text_of(field(&fs, "since")),
        group: text_of(field(&fs, "group")),
    });
    if let Some(subs) = field(&fs, "subcommands").and_then(fields) {
        for (sub, d) in subs {
            entries(&words, sub, d, out);
        }
    }
}

fn join_args(args: &[Reply], sep: &str) -> String {
    args.iter()
        .map(arg_syntax)
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join(sep)
}

/// One documented argument as redis-cli prints it: `[EX seconds|PX ms]`.
fn arg_syntax(a: &Reply) -> String {
    let Some(fs) = fields(a) else {
        return String::new();
    };
    let name = text_of(field(&fs, "name"));
    let kind = text_of(field(&fs, "type"));
    let token = text_of(field(&fs, "token"));
    let has = |flag: &str| {
        let flags = match field(&fs, "flags") {
            Some(Reply::Array(Some(v)) | Reply::Set(v)) => v.as_slice(),
            _ => &[],
        };
        flags.iter().any(|f| f.bytes() == Some(flag.as_bytes()))
    };
    let children = field(&fs, "arguments")
        .and_then(Reply::items)
        .unwrap_or(&[]);
    let repeat = match kind.as_str() {
        "oneof" => join_args(children, "|"),
        "block" => join_args(children, " "),
        "pure-token" => String::new(),
        _ => name,
    };
    let mut token_part = token;
    if !token_part.is_empty() && kind != "pure-token" {
        token_part.push(' ');
    }
    let mut p = String::new();
    let optional = has("optional");
    if optional {
        p.push('[');
    }
    p.push_str(&token_part);
    p.push_str(&repeat);
    if has("multiple") {
        p.push_str(" [");
        if has("multiple_token") {
            p.push_str(&token_part);
        }
        p.push_str(&repeat);
        p.push_str(" ...]");
    }
    if optional {
        p.push(']');
    }
    p.trim_end().to_string()
}

#[cfg(test)]
mod tests {
    use super::super::help::Help;
    use super::*;

    fn bulk(s: &str) -> Reply {
        Reply::Bulk(Some(s.as_bytes().to_vec()))
    }

    fn map(kv: Vec<(&str, Reply)>) -> Reply {
        Reply::Map(kv.into_iter().map(|(k, v)| (bulk(k), v)).collect())
    }

    fn arg(name: &str, kind: &str, extra: Vec<(&str, Reply)>) -> Reply {
        let mut kv = vec![("name", bulk(name)), ("type", bulk(kind))];
        kv.extend(extra);
        map(kv)
    }

    #[test]
    fn server_docs_become_entries_like_redis_cli_reads_them() {
        let flags = |f: &[&str]| {
            Reply::Array(Some(
                f.iter().map(|s| Reply::Status(s.to_string())).collect(),
            ))
        };
        let docs = map(vec![
            (
                "hset",
                map(vec![
                    ("summary", bulk("Sets fields.")),
                    ("since", bulk("2.0.0")),
                    ("group", bulk("hash")),
                    (
                        "arguments",
                        Reply::Array(Some(vec![
                            arg("key", "key", vec![]),
                            arg(
                                "data",
                                "block",
                                vec![
                                    ("flags", flags(&["multiple"])),
                                    (
                                        "arguments",
                                        Reply::Array(Some(vec![
                                            arg("field", "string", vec![]),
                                            arg("value", "string", vec![]),
                                        ])),
                                    ),
                                ],
                            ),
                            arg(
                                "condition",
                                "oneof",
                                vec![
                                    ("flags", flags(&["optional"])),
                                    (
                                        "arguments",
                                        Reply::Array(Some(vec![
                                            arg("nx", "pure-token", vec![("token", bulk("NX"))]),
                                            arg("ex", "integer", vec![("token", bulk("EX"))]),
                                        ])),
                                    ),
                                ],
                            ),
                        ])),
                    ),
                ]),
            ),
            (
                "object",
                map(vec![
                    ("summary", bulk("Object things.")),
                    ("group", bulk("generic")),
                    (
                        "subcommands",
                        map(vec![(
                            "object|freq",
                            map(vec![
                                ("summary", bulk("Frequency.")),
                                ("group", bulk("generic")),
                                (
                                    "arguments",
                                    Reply::Array(Some(vec![arg("key", "key", vec![])])),
                                ),
                            ]),
                        )]),
                    ),
                ]),
            ),
        ]);
        let h = Help::from_docs(&docs).unwrap();
        assert_eq!(h.len(), 3);
        assert_eq!(
            h.hint("hset ").as_deref(),
            Some("key field value [field value ...] [NX|EX ex]")
        );
        assert_eq!(h.hint("object freq ").as_deref(), Some("key"));
        assert!(h.text(&[b"@hash".to_vec()]).contains("HSET"));
        // Merged over the table: the server's entries win, the table fills in.
        let all = h.merged(Help::builtin());
        assert!(all.hint("hset k ").is_some() && all.hint("getex ").is_some());
        assert!(Help::from_docs(&Reply::Int(1)).is_none());
    }

    #[test]
    fn a_servers_escape_codes_never_reach_the_terminal() {
        let docs = map(vec![(
            "evil\x1b[2J",
            map(vec![
                ("summary", bulk("wipes\x1b[2J the\x07 screen")),
                ("group", bulk("x\ny")),
                (
                    "arguments",
                    Reply::Array(Some(vec![arg("k\x1b]0;t\x07", "key", vec![])])),
                ),
            ]),
        )]);
        let h = Help::from_docs(&docs).unwrap();
        let text = h.text(&[b"@xy".to_vec()]);
        assert!(text.contains("EVIL[2J"), "{text:?}");
        assert!(text.contains("wipes[2J the screen"), "{text:?}");
        let theirs = ["\x1b[1m", "\x1b[0m", "\x1b[90m", "\x1b[33m"]
            .iter()
            .fold(text.clone(), |t, ours| t.replace(ours, ""));
        assert!(!theirs.contains(['\x1b', '\x07']), "{theirs:?}");
        assert_eq!(h.hint("evil[2j ").as_deref(), Some("k]0;t"));
    }
}
