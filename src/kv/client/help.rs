//! What the prompt knows about commands: `help`, `help COMMAND`, `help
//! @group`, Tab completion and the grey argument hints, all answered
//! locally, never sent to the server. Pure.
//!
//! The entries come from netkit's own command table (the one the server
//! dispatches with), and, as redis-cli does, from the connected server's
//! `COMMAND DOCS` when it answers one: against Redis the prompt then knows
//! every command that Redis knows. Hints follow redis-cli's rules: after
//! the longest typed command (`CONFIG GET` before `CONFIG`), its argument
//! syntax less the arguments already typed, up to the first optional one.

use std::collections::BTreeSet;

use crate::kv::protocol::split_args;
use crate::kv::resp::Reply;

/// One command or subcommand.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// Upper case words: `["CONFIG", "GET"]`.
    pub words: Vec<String>,
    /// Argument syntax: `parameter [parameter ...]`.
    pub params: String,
    /// One line of help.
    pub summary: String,
    /// The version that introduced it.
    pub since: String,
    /// Its group (`string`, `generic`, `pubsub`, ...).
    pub group: String,
}

impl Entry {
    fn full(&self) -> String {
        self.words.join(" ")
    }
}

/// The entries, sorted by name.
#[derive(Debug, Clone, Default)]
pub struct Help {
    entries: Vec<Entry>,
}

impl Help {
    /// netkit's command table.
    pub fn builtin() -> Help {
        let mut entries = Vec::new();
        for c in crate::kv::cmd::all() {
            let entry = |words: Vec<String>, s: &crate::kv::cmd::CommandSpec| Entry {
                words,
                params: s.syntax.to_string(),
                summary: s.summary.to_string(),
                since: s.since.to_string(),
                group: c.group.to_string(),
            };
            let name = c.name.to_ascii_uppercase();
            entries.push(entry(vec![name.clone()], c));
            for s in c.subcommands {
                entries.push(entry(vec![name.clone(), s.name.to_ascii_uppercase()], s));
            }
        }
        Help::from_entries(entries)
    }

    fn from_entries(mut entries: Vec<Entry>) -> Help {
        entries.sort_by_key(Entry::full);
        entries.dedup_by(|a, b| a.words == b.words);
        Help { entries }
    }

    /// These entries, with `other`'s added where these have none of the
    /// same name.
    pub fn merged(self, other: Help) -> Help {
        let mut entries = self.entries;
        for e in other.entries {
            if !entries.iter().any(|x| x.words == e.words) {
                entries.push(e);
            }
        }
        Help::from_entries(entries)
    }

    /// Entries from a `COMMAND DOCS` reply (RESP2 arrays or RESP3 maps);
    /// `None` if it is not one.
    pub fn from_docs(reply: &Reply) -> Option<Help> {
        let mut entries = Vec::new();
        for (name, doc) in super::docs::fields(reply)? {
            super::docs::entries(&[], name, doc, &mut entries);
        }
        (!entries.is_empty()).then(|| Help::from_entries(entries))
    }

    /// Number of entries (commands and subcommands).
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// No entries.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    fn groups(&self) -> BTreeSet<&str> {
        self.entries.iter().map(|e| e.group.as_str()).collect()
    }

    /// The grey text after a typed line, if any.
    pub fn hint(&self, line: &str) -> Option<String> {
        let args: Vec<String> = split_args(line.as_bytes())
            .ok()?
            .into_iter()
            .map(|a| String::from_utf8_lossy(&a).into_owned())
            .collect();
        let first = args.first()?;
        let ends_blank = line.ends_with(char::is_whitespace);
        if args.len() == 1 && first.eq_ignore_ascii_case("help") {
            return Some(format!(
                "{}[command|@group]",
                if ends_blank { "" } else { " " }
            ));
        }
        let best = self
            .entries
            .iter()
            .filter(|e| e.words.len() <= args.len())
            .filter(|e| {
                e.words
                    .iter()
                    .zip(&args)
                    .all(|(w, a)| w.eq_ignore_ascii_case(a))
            })
            .max_by_key(|e| e.words.len());
        let Some(entry) = best else {
            // Part of a name: the rest of the shortest command it starts.
            if args.len() > 1 || ends_blank {
                return None;
            }
            let low = first.to_ascii_uppercase();
            let e = self
                .entries
                .iter()
                .filter(|e| e.words.len() == 1 && e.words[0].starts_with(&low))
                .min_by_key(|e| e.words[0].len())?;
            return Some(e.words[0][first.len()..].to_ascii_lowercase());
        };
        // redis-cli: drop one word of syntax per argument typed past the
        // name, stopping at the first optional part.
        let mut hint = entry.params.as_str();
        let mut to_remove = args.len() - entry.words.len();
        while to_remove > 0 && !hint.is_empty() && !hint.starts_with('[') {
            match hint.find(' ') {
                Some(i) => {
                    hint = &hint[i + 1..];
                    to_remove -= 1;
                }
                None => hint = "",
            }
        }
        if hint.is_empty() {
            return None;
        }
        Some(format!("{}{hint}", if ends_blank { "" } else { " " }))
    }

    /// Whole-line candidates for Tab: command names (and `CONFIG GET`
    /// forms) the line is the start of; after `help `, groups too.
    pub fn completions(&self, line: &str) -> Vec<String> {
        let (lead, rest, groups) = match line.get(..5) {
            Some(h) if h.eq_ignore_ascii_case("help ") => {
                let rest = line[5..].trim_start();
                (&line[..line.len() - rest.len()], rest, true)
            }
            _ => ("", line, false),
        };
        let up = rest.to_ascii_uppercase();
        let mut names: Vec<String> = Vec::new();
        if groups {
            names.extend(self.groups().into_iter().map(|g| format!("@{g}")));
        }
        names.extend(self.entries.iter().map(Entry::full));
        names.sort();
        names
            .into_iter()
            .filter(|n| n.to_ascii_uppercase().starts_with(&up))
            .map(|n| format!("{lead}{n}"))
            .collect()
    }

    /// The answer to `help ARGS...`, with redis-cli's colours.
    pub fn text(&self, args: &[Vec<u8>]) -> String {
        if args.is_empty() {
            return format!(
                "netkit kv {}\n\
                 To get help about commands type:\n\
                 \x20     \"help @<group>\" to get a list of commands in <group>\n\
                 \x20     \"help <command>\" for help on <command>\n\
                 \x20     \"help <tab>\" to get a list of possible help topics\n\
                 \x20     \"quit\" to exit\n",
                env!("CARGO_PKG_VERSION")
            );
        }
        let words: Vec<String> = args
            .iter()
            .map(|a| String::from_utf8_lossy(a).to_ascii_uppercase())
            .collect();
        let mut out = String::new();
        let group = words[0].strip_prefix('@').map(str::to_ascii_lowercase);
        for e in &self.entries {
            let hit = match &group {
                Some(g) => e.group.eq_ignore_ascii_case(g),
                None => words.len() <= e.words.len() && e.words[..words.len()] == words[..],
            };
            if hit {
                out.push_str(&format!(
                    "\n  \x1b[1m{}\x1b[0m \x1b[90m{}\x1b[0m\n  \x1b[33msummary:\x1b[0m {}\n",
                    e.full(),
                    e.params,
                    e.summary
                ));
                if !e.since.is_empty() {
                    out.push_str(&format!("  \x1b[33msince:\x1b[0m {}\n", e.since));
                }
                if group.is_none() {
                    out.push_str(&format!("  \x1b[33mgroup:\x1b[0m {}\n", e.group));
                }
            }
        }
        if out.is_empty() {
            return format!(
                "No help for '{}'. Try \"help <tab>\" for the commands and groups this prompt knows.\n",
                words.join(" ").to_ascii_lowercase()
            );
        }
        out.push('\n');
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hints_follow_redis_cli() {
        let h = Help::builtin();
        assert_eq!(h.hint("get").as_deref(), Some(" key"));
        assert_eq!(h.hint("GET ").as_deref(), Some("key"));
        assert_eq!(h.hint("get k"), None);
        let set = crate::kv::cmd::lookup(b"set").unwrap().syntax;
        assert_eq!(h.hint("set ").as_deref(), Some(set));
        // Typed arguments drop words up to the first optional part.
        let rest = &set["key value ".len()..];
        assert!(rest.starts_with('['), "{rest}");
        assert_eq!(
            h.hint("set k v").as_deref(),
            Some(format!(" {rest}").as_str())
        );
        assert_eq!(
            h.hint("set k v NX").as_deref(),
            Some(format!(" {rest}").as_str())
        );
        // The longest command wins: CONFIG GET, not CONFIG.
        assert_eq!(
            h.hint("config get ").as_deref(),
            Some("parameter [parameter ...]")
        );
        // Part of a name: the rest of the shortest command it starts.
        assert_eq!(h.hint("ge").as_deref(), Some("t"));
        assert_eq!(h.hint("incrbyf").as_deref(), Some("loat"));
        assert_eq!(h.hint("nosuch "), None);
        assert_eq!(h.hint("  "), None);
        assert_eq!(h.hint("get \"open"), None, "unbalanced quotes: no hint");
        assert_eq!(h.hint("help").as_deref(), Some(" [command|@group]"));
    }

    #[test]
    fn tab_completes_whole_names_and_groups_after_help() {
        let h = Help::builtin();
        let c = h.completions("getr");
        assert_eq!(c, ["GETRANGE"]);
        let c = h.completions("ge");
        assert!(
            c.starts_with(&["GEOADD".to_string(), "GEODIST".to_string()])
                && c.contains(&"GET".to_string())
                && c.contains(&"GETBIT".to_string()),
            "{c:?}"
        );
        assert_eq!(h.completions("config ge"), ["CONFIG GET"]);
        assert!(h.completions("set k").is_empty());
        assert_eq!(h.completions("help @str"), ["help @stream", "help @string"]);
        assert_eq!(h.completions("HELP  getr"), ["HELP  GETRANGE"]);
        assert!(h.completions("@str").is_empty(), "groups only after help");
    }

    #[test]
    fn help_comes_from_the_table() {
        let h = Help::builtin();
        let t = h.text(&[b"getex".to_vec()]);
        assert!(t.contains("GETEX\x1b[0m \x1b[90mkey [EX seconds"), "{t}");
        assert!(t.contains(
            "summary:\x1b[0m Returns the string value of a key after setting its expiration time."
        ));
        assert!(t.contains("group:\x1b[0m string"));
        let cfg = h.text(&[b"config".to_vec()]);
        assert!(
            cfg.contains("CONFIG GET\x1b[0m") && cfg.contains("CONFIG SET\x1b[0m"),
            "{cfg}"
        );
        let grp = h.text(&[b"@transactions".to_vec()]);
        assert!(
            grp.contains("MULTI") && grp.contains("EXEC") && !grp.contains("group:"),
            "{grp}"
        );
        assert!(
            h.text(&[b"nope".to_vec()])
                .starts_with("No help for 'nope'")
        );
        assert!(h.text(&[]).contains("\"help @<group>\""));
    }
}
