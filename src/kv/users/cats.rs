//! ACL command categories and command ids.
//!
//! A command's categories are those Redis 7.0 gives it: implied by its
//! flags (`write`, `read`, `admin` + `dangerous`, `pubsub`, `fast` or
//! `slow`, `blocking`), its group (`string`, `list`, `keyspace`...), and a
//! short table of Redis's explicit exceptions (`KEYS` is `@dangerous`,
//! `SORT` is `@list @set @sortedset`...). `tests/kv_acl.rs` compares every
//! command's categories with a real redis-server's `COMMAND INFO`.
//!
//! Every command and subcommand has an id (its place in [`table`]): users'
//! command permissions are bitmaps over these ids.

use std::collections::HashMap;
use std::sync::OnceLock;

use crate::kv::cmd::{self, CommandSpec};

/// Redis's categories, in Redis's order (`ACL CAT` lists them so).
pub const NAMES: [&str; 21] = [
    "keyspace",
    "read",
    "write",
    "set",
    "sortedset",
    "list",
    "hash",
    "string",
    "bitmap",
    "hyperloglog",
    "geo",
    "stream",
    "pubsub",
    "admin",
    "fast",
    "slow",
    "blocking",
    "dangerous",
    "connection",
    "transaction",
    "scripting",
];

const fn bit(name: &str) -> u32 {
    let mut i = 0;
    while i < NAMES.len() {
        if eq(NAMES[i], name) {
            return 1 << i;
        }
        i += 1;
    }
    panic!("unknown category")
}

const fn eq(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    let mut i = 0;
    while i < a.len() {
        if a[i] != b[i] {
            return false;
        }
        i += 1;
    }
    true
}

const KEYSPACE: u32 = bit("keyspace");
const READ: u32 = bit("read");
const WRITE: u32 = bit("write");
const SET: u32 = bit("set");
const SORTEDSET: u32 = bit("sortedset");
const LIST: u32 = bit("list");
const PUBSUB: u32 = bit("pubsub");
const ADMIN: u32 = bit("admin");
const FAST: u32 = bit("fast");
const SLOW: u32 = bit("slow");
const BLOCKING: u32 = bit("blocking");
const DANGEROUS: u32 = bit("dangerous");
const CONNECTION: u32 = bit("connection");
const SCRIPTING: u32 = bit("scripting");

/// Redis's explicit categories where the group and flags do not give them:
/// full name, added, removed.
const EXCEPTIONS: &[(&str, u32, u32)] = &[
    ("command", CONNECTION, 0),
    ("dbsize", KEYSPACE, 0),
    ("flushall", KEYSPACE | DANGEROUS, 0),
    ("flushdb", KEYSPACE | DANGEROUS, 0),
    ("info", DANGEROUS, 0),
    ("keys", DANGEROUS, 0),
    ("lastsave", ADMIN | DANGEROUS, 0),
    ("monitor", 0, CONNECTION),
    ("restore", DANGEROUS, 0),
    ("sort", LIST | SET | SORTEDSET | DANGEROUS, KEYSPACE),
    ("sort_ro", LIST | SET | SORTEDSET | DANGEROUS, KEYSPACE),
    ("swapdb", KEYSPACE | DANGEROUS, 0),
    ("pubsub|help", 0, PUBSUB),
];

/// The category bit named `name` (any case), if there is one.
pub fn by_name(name: &[u8]) -> Option<u32> {
    NAMES
        .iter()
        .position(|n| n.as_bytes().eq_ignore_ascii_case(name))
        .map(|i| 1 << i)
}

fn group_bits(group: &str) -> u32 {
    match group {
        "generic" => KEYSPACE,
        "sorted-set" => SORTEDSET,
        "transactions" => bit("transaction"),
        "server" | "cluster" => 0,
        g => by_name(g.as_bytes()).unwrap_or(0),
    }
}

/// Where `spec` lives: a cheap token for "this command", resolved to a
/// name by [`Table::fullname_at`] only when shown.
pub fn spec_addr(spec: &CommandSpec) -> usize {
    spec as *const CommandSpec as usize
}

/// The categories of `spec` (`parent`: its container, for a subcommand).
pub fn of(spec: &CommandSpec, parent: Option<&CommandSpec>) -> u32 {
    let mut c = 0;
    if spec.subcommands.is_empty() {
        c |= group_bits(spec.group);
    }
    let full = fullname(spec, parent);
    let top = parent.map_or(spec.name, |p| p.name);
    for (name, add, remove) in EXCEPTIONS {
        if *name == full || (*name == top && *name == "command") {
            c = (c | add) & !remove;
        }
    }
    let f = spec.flags;
    if f & cmd::WRITE != 0 {
        c |= WRITE;
    }
    if f & cmd::READONLY != 0 && c & SCRIPTING == 0 {
        c |= READ;
    }
    if f & cmd::ADMIN != 0 {
        c |= ADMIN | DANGEROUS;
    }
    if f & cmd::PUBSUB != 0 {
        c |= PUBSUB;
    }
    if f & cmd::FAST != 0 {
        c |= FAST;
    } else {
        c |= SLOW;
    }
    if f & cmd::BLOCKING != 0 {
        c |= BLOCKING;
    }
    c
}

/// The names of the categories in `bits`, in Redis's order.
pub fn names(bits: u32) -> impl Iterator<Item = &'static str> {
    NAMES
        .iter()
        .enumerate()
        .filter(move |(i, _)| bits & (1 << i) != 0)
        .map(|(_, n)| *n)
}

/// `config|get` for a subcommand, `get` otherwise.
pub fn fullname(spec: &CommandSpec, parent: Option<&CommandSpec>) -> String {
    match parent {
        Some(p) => format!("{}|{}", p.name, spec.name),
        None => spec.name.to_string(),
    }
}

/// One command or subcommand, by id.
pub struct Entry {
    /// The spec.
    pub spec: &'static CommandSpec,
    /// `config|get`, `get`.
    pub fullname: String,
    /// Category bits.
    pub cats: u32,
    /// Ids of its subcommands (empty for most).
    pub subs: std::ops::Range<usize>,
}

/// Every command and subcommand, by id: a container, then its subcommands.
pub struct Table {
    /// By id.
    pub entries: Vec<Entry>,
    by_ptr: HashMap<usize, usize>,
}

impl Table {
    /// The full name (`client|list`) of the spec at address `addr` (as
    /// [`spec_addr`] gives it), if it is one of the table's.
    pub fn fullname_at(&self, addr: usize) -> Option<&str> {
        let i = *self.by_ptr.get(&addr)?;
        Some(self.entries[i].fullname.as_str())
    }

    /// The id of `spec` (a spec of the command table).
    pub fn id(&self, spec: &CommandSpec) -> usize {
        self.by_ptr.get(&spec_addr(spec)).copied().unwrap_or(0)
    }

    /// The id of a command named `name` (`get`, `config|get`), any case.
    pub fn find(&self, name: &[u8]) -> Option<usize> {
        let (top, sub) = match name.iter().position(|&b| b == b'|') {
            Some(i) => (&name[..i], Some(&name[i + 1..])),
            None => (name, None),
        };
        let parent = cmd::lookup(top)?;
        let spec = match sub {
            None => parent,
            Some(s) => cmd::lookup_sub(parent, s)?,
        };
        Some(self.id(spec))
    }

    /// How many ids there are.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// True when there is no command (never).
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

/// The table, built once.
pub fn table() -> &'static Table {
    static T: OnceLock<Table> = OnceLock::new();
    T.get_or_init(|| {
        let mut entries = Vec::new();
        for c in cmd::all() {
            let at = entries.len();
            entries.push(Entry {
                spec: c,
                fullname: c.name.to_string(),
                cats: of(c, None),
                subs: 0..0,
            });
            for s in c.subcommands {
                entries.push(Entry {
                    spec: s,
                    fullname: fullname(s, Some(c)),
                    cats: of(s, Some(c)),
                    subs: 0..0,
                });
            }
            entries[at].subs = at + 1..entries.len();
        }
        let by_ptr = entries
            .iter()
            .enumerate()
            .map(|(i, e)| (spec_addr(e.spec), i))
            .collect();
        Table { entries, by_ptr }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cats(name: &str) -> Vec<&'static str> {
        let t = table();
        names(t.entries[t.find(name.as_bytes()).expect(name)].cats).collect()
    }

    #[test]
    fn categories_as_redis_gives_them() {
        assert_eq!(cats("get"), ["read", "string", "fast"]);
        assert_eq!(cats("keys"), ["keyspace", "read", "slow", "dangerous"]);
        assert_eq!(cats("config|set"), ["admin", "slow", "dangerous"]);
        assert_eq!(cats("config"), ["slow"]);
        assert_eq!(cats("eval_ro"), ["slow", "scripting"]);
        assert_eq!(cats("command|info"), ["slow", "connection"]);
    }

    #[test]
    fn ids_cover_subcommands() {
        let t = table();
        let c = t.find(b"CONFIG").expect("config");
        let g = t.find(b"config|GET").expect("config|get");
        assert!(t.entries[c].subs.contains(&g));
        assert_eq!(t.entries[g].fullname, "config|get");
        assert!(t.find(b"nosuch").is_none());
    }
}
