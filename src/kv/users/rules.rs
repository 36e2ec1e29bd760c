//! A user's permissions and the `ACL SETUSER` rules that change them.
//!
//! Pure data: no locks, no clients. [`Perms::apply`] takes one rule and
//! answers Redis's reason when it is refused; `ACL SETUSER` applies every
//! rule to a copy and keeps it only when all were accepted.

use super::cats::table;
use crate::kv::glob::glob_match;

/// One user's flags, passwords and what it may touch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Perms {
    /// `on` (may authenticate) or `off`.
    pub enabled: bool,
    /// `nopass`: any password works.
    pub nopass: bool,
    /// `sanitize-payload` was given (or `reset`): shown among the flags.
    /// netkit checks every RESTORE payload whatever this says.
    pub sanitize: bool,
    /// SHA-256 of each password, lowercase hex, in the order added.
    pub passwords: Vec<String>,
    /// Every command is allowed (`+@all` and nothing taken away since).
    pub allcommands: bool,
    /// Last set by `+@all`, not `-@all` (Redis's "future commands" bit:
    /// the rules are written back starting from `+@all`).
    pub future: bool,
    /// Allowed commands, one bit per id of [`super::cats::table`].
    pub allowed: Vec<u64>,
    /// `~*` / `allkeys`.
    pub allkeys: bool,
    /// `~pattern`s, in the order added.
    pub keys: Vec<Vec<u8>>,
    /// `&*` / `allchannels`.
    pub allchannels: bool,
    /// `&pattern`s, in the order added.
    pub channels: Vec<Vec<u8>>,
}

/// Why a rule was refused (Redis's texts, after `modifier '...': `).
pub mod why {
    /// Not a rule at all.
    pub const SYNTAX: &str = "Syntax error";
    /// `+nosuch`, `+@nosuch`.
    pub const UNKNOWN: &str = "Unknown command or category name in ACL";
    /// `~x` after `~*`.
    pub const AFTER_ALLKEYS: &str = "Adding a pattern after the * pattern (or the 'allkeys' flag) is not valid and does not have any effect. Try 'resetkeys' to start with an empty list of patterns";
    /// `&x` after `&*`.
    pub const AFTER_ALLCHANNELS: &str = "Adding a pattern after the * pattern (or the 'allchannels' flag) is not valid and does not have any effect. Try 'resetchannels' to start with an empty list of channels";
    /// `<pass` / `!hash` of a password the user does not have.
    pub const NO_SUCH_PASSWORD: &str =
        "The password you are trying to remove from the user does not exist";
    /// `#` / `!` with something that is not a SHA-256 in hex.
    pub const BAD_HASH: &str = "The password hash must be exactly 64 characters and contain only lowercase hexadecimal characters";
    /// `+config|get|x`.
    pub const FIRSTARG_OF_SUB: &str = "Allowing first-arg of a subcommand is not supported";
}

/// Rules Redis has and netkit refuses rather than accept without
/// enforcing them, with the reason given.
fn unsupported(rule: &[u8]) -> Option<&'static str> {
    let lower = rule.to_ascii_lowercase();
    if lower.starts_with(b"%") {
        Some("netkit does not support %R~/%W~ read/write key patterns: use ~pattern")
    } else if lower.starts_with(b"(") || lower == b"clearselectors" {
        Some("netkit does not support selectors")
    } else if lower == b"skip-sanitize-payload" {
        Some("netkit always checks RESTORE payloads")
    } else {
        None
    }
}

/// Every command's bit set (and no bit past the last id).
fn full_bitmap() -> Vec<u64> {
    let n = table().len();
    let mut v = vec![u64::MAX; n.div_ceil(64)];
    if n % 64 != 0 {
        if let Some(last) = v.last_mut() {
            *last = (1u64 << (n % 64)) - 1;
        }
    }
    v
}

/// SHA-256 of `pass`, lowercase hex (how Redis stores passwords).
pub fn hash_password(pass: &[u8]) -> String {
    let d = ring::digest::digest(&ring::digest::SHA256, pass);
    d.as_ref().iter().map(|b| format!("{b:02x}")).collect()
}

fn valid_hash(h: &[u8]) -> bool {
    h.len() == 64 && h.iter().all(|c| matches!(c, b'0'..=b'9' | b'a'..=b'f'))
}

fn has_spaces(s: &[u8]) -> bool {
    s.iter().any(|&c| c.is_ascii_whitespace() || c == 0)
}

impl Perms {
    /// A new user as `ACL SETUSER name` creates it: off, no password, no
    /// commands, keys or channels (Redis 7.0's `acl-pubsub-default` is
    /// `resetchannels`).
    pub fn new() -> Perms {
        Perms {
            enabled: false,
            nopass: false,
            sanitize: false,
            passwords: Vec::new(),
            allcommands: false,
            future: false,
            allowed: vec![0; table().len().div_ceil(64)],
            allkeys: false,
            keys: Vec::new(),
            allchannels: false,
            channels: Vec::new(),
        }
    }

    /// The default user: on, nopass, everything.
    pub fn everything() -> Perms {
        let mut p = Perms::new();
        for r in ["+@all", "~*", "&*", "on", "nopass"] {
            let _ = p.apply(r.as_bytes());
        }
        p
    }

    /// May run anything on any key and channel: no check is needed.
    pub fn unrestricted(&self) -> bool {
        self.allkeys && self.allchannels && (self.allcommands || self.allowed == full_bitmap())
    }

    /// Is command `id` allowed?
    pub fn allows(&self, id: usize) -> bool {
        self.allowed
            .get(id / 64)
            .is_some_and(|w| w & (1 << (id % 64)) != 0)
    }

    fn set_bit(&mut self, id: usize, on: bool) {
        if let Some(w) = self.allowed.get_mut(id / 64) {
            if on {
                *w |= 1 << (id % 64);
            } else {
                *w &= !(1 << (id % 64));
            }
        }
        if !on {
            self.allcommands = false;
        }
    }

    /// Allow or deny command `id` and, for a container, its subcommands.
    pub fn change(&mut self, id: usize, on: bool) {
        self.set_bit(id, on);
        for s in table().entries[id].subs.clone() {
            self.set_bit(s, on);
        }
    }

    /// Allow or deny every command of the categories in `bits`.
    pub fn change_category(&mut self, bits: u32, on: bool) {
        let t = table();
        for id in 0..t.len() {
            if t.entries[id].cats & bits != 0 {
                self.change(id, on);
            }
        }
    }

    fn all_commands(&mut self, on: bool) {
        self.allowed = if on {
            full_bitmap()
        } else {
            vec![0; self.allowed.len()]
        };
        self.allcommands = on;
        self.future = on;
    }

    /// True when `key` matches one of the key patterns.
    pub fn key_ok(&self, key: &[u8]) -> bool {
        self.allkeys || self.keys.iter().any(|p| glob_match(p, key))
    }

    /// True when `channel` may be used: a pattern (PSUBSCRIBE) must be one
    /// of the patterns literally, a channel must match one.
    pub fn channel_ok(&self, channel: &[u8], is_pattern: bool) -> bool {
        self.allchannels
            || self.channels.iter().any(|p| {
                if is_pattern {
                    p.as_slice() == channel
                } else {
                    glob_match(p, channel)
                }
            })
    }

    /// Apply one rule; `Err` is Redis's reason.
    pub fn apply(&mut self, rule: &[u8]) -> Result<(), &'static str> {
        if rule.is_empty() {
            return Ok(());
        }
        if let Some(why) = unsupported(rule) {
            return Err(why);
        }
        let word = |w: &str| rule.eq_ignore_ascii_case(w.as_bytes());
        if word("on") {
            self.enabled = true;
        } else if word("off") {
            self.enabled = false;
        } else if word("sanitize-payload") {
            self.sanitize = true;
        } else if word("nopass") {
            self.nopass = true;
            self.passwords.clear();
        } else if word("resetpass") {
            self.nopass = false;
            self.passwords.clear();
        } else if word("reset") {
            *self = Perms::new();
            self.sanitize = true;
        } else if word("allkeys") || word("~*") {
            self.allkeys = true;
            self.keys.clear();
        } else if word("resetkeys") {
            self.allkeys = false;
            self.keys.clear();
        } else if word("allchannels") || word("&*") {
            self.allchannels = true;
            self.channels.clear();
        } else if word("resetchannels") {
            self.allchannels = false;
            self.channels.clear();
        } else if word("allcommands") || word("+@all") {
            self.all_commands(true);
        } else if word("nocommands") || word("-@all") {
            self.all_commands(false);
        } else {
            let (first, rest) = (rule[0], &rule[1..]);
            match first {
                b'>' | b'#' => {
                    let h = if first == b'>' {
                        hash_password(rest)
                    } else if valid_hash(rest) {
                        String::from_utf8_lossy(rest).into_owned()
                    } else {
                        return Err(why::BAD_HASH);
                    };
                    if !self.passwords.contains(&h) {
                        self.passwords.push(h);
                    }
                    self.nopass = false;
                }
                b'<' | b'!' => {
                    let h = if first == b'<' {
                        hash_password(rest)
                    } else if valid_hash(rest) {
                        String::from_utf8_lossy(rest).into_owned()
                    } else {
                        return Err(why::BAD_HASH);
                    };
                    let at = self.passwords.iter().position(|p| *p == h);
                    let at = at.ok_or(why::NO_SUCH_PASSWORD)?;
                    self.passwords.remove(at);
                }
                b'~' => {
                    if self.allkeys {
                        return Err(why::AFTER_ALLKEYS);
                    }
                    if has_spaces(rest) {
                        return Err(why::SYNTAX);
                    }
                    if !self.keys.iter().any(|k| k == rest) {
                        self.keys.push(rest.to_vec());
                    }
                }
                b'&' => {
                    if self.allchannels {
                        return Err(why::AFTER_ALLCHANNELS);
                    }
                    if has_spaces(rest) {
                        return Err(why::SYNTAX);
                    }
                    if !self.channels.iter().any(|k| k == rest) {
                        self.channels.push(rest.to_vec());
                    }
                }
                b'+' | b'-' => return self.command_rule(first == b'+', rest),
                _ => return Err(why::SYNTAX),
            }
        }
        Ok(())
    }

    fn command_rule(&mut self, on: bool, what: &[u8]) -> Result<(), &'static str> {
        if let Some(cat) = what.strip_prefix(b"@") {
            let bits = super::cats::by_name(cat).ok_or(why::UNKNOWN)?;
            self.change_category(bits, on);
            return Ok(());
        }
        let t = table();
        if let Some(bar) = what.iter().rposition(|&b| b == b'|') {
            let (top, sub) = (&what[..bar], &what[bar + 1..]);
            if top.contains(&b'|') {
                // `config|get|x`: the first-arg of a subcommand.
                return Err(if t.find(top).is_some() {
                    why::FIRSTARG_OF_SUB
                } else {
                    why::UNKNOWN
                });
            }
            let parent = t.find(top).ok_or(why::UNKNOWN)?;
            if on && sub.is_empty() {
                return Err(why::SYNTAX);
            }
            if t.entries[parent].subs.is_empty() {
                // `+select|0`: Redis's first-arg permissions (deprecated
                // there); netkit refuses them rather than half-enforce.
                return Err(if on {
                    "netkit does not support first-arg permissions (+command|arg)"
                } else {
                    why::UNKNOWN
                });
            }
        }
        let id = t.find(what).ok_or(why::UNKNOWN)?;
        self.change(id, on);
        Ok(())
    }
}

impl Default for Perms {
    fn default() -> Self {
        Perms::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with(rules: &[&str]) -> Result<Perms, &'static str> {
        let mut p = Perms::new();
        for r in rules {
            p.apply(r.as_bytes())?;
        }
        Ok(p)
    }

    fn id(name: &str) -> usize {
        table().find(name.as_bytes()).expect(name)
    }

    #[test]
    fn commands_and_categories() {
        let p = with(&["+@all", "-@dangerous", "+keys"]).unwrap();
        assert!(p.allows(id("get")) && p.allows(id("keys")));
        assert!(!p.allows(id("flushall")) && !p.allows(id("config|set")));
        assert!(!p.allcommands);
        let p = with(&["-@all", "+config|get", "+get"]).unwrap();
        assert!(p.allows(id("config|get")) && !p.allows(id("config|set")));
        assert!(!p.allows(id("config")));
        let p = with(&["+config", "-config|set"]).unwrap();
        assert!(p.allows(id("config|get")) && !p.allows(id("config|set")));
    }

    #[test]
    fn refused_rules_say_why() {
        assert_eq!(with(&["+nosuch"]), Err(why::UNKNOWN));
        assert_eq!(with(&["+@nosuch"]), Err(why::UNKNOWN));
        assert_eq!(with(&["bogus"]), Err(why::SYNTAX));
        assert_eq!(with(&["~*", "~foo"]), Err(why::AFTER_ALLKEYS));
        assert_eq!(with(&["&*", "&foo"]), Err(why::AFTER_ALLCHANNELS));
        assert_eq!(with(&["<nope"]), Err(why::NO_SUCH_PASSWORD));
        assert_eq!(with(&["#abc"]), Err(why::BAD_HASH));
        assert_eq!(with(&["+config|get|x"]), Err(why::FIRSTARG_OF_SUB));
        assert!(with(&["+select|0"]).is_err());
        assert!(with(&["%R~foo"]).is_err());
        assert!(with(&["(~foo)"]).is_err());
    }

    #[test]
    fn passwords_are_hashed() {
        let p = with(&[">secret", ">secret"]).unwrap();
        assert_eq!(
            p.passwords,
            ["2bb80d537b1da3e38bd30361aa855686bde0eacd7162fef6a25fe97bf527a25b"]
        );
        let p = with(&[">secret", "<secret"]).unwrap();
        assert!(p.passwords.is_empty());
        let p = with(&[">a", "nopass"]).unwrap();
        assert!(p.nopass && p.passwords.is_empty());
    }

    #[test]
    fn keys_and_channels() {
        let p = with(&["~obj:*", "&news.*"]).unwrap();
        assert!(p.key_ok(b"obj:1") && !p.key_ok(b"other"));
        assert!(p.channel_ok(b"news.a", false) && !p.channel_ok(b"news.*x", true));
        assert!(p.channel_ok(b"news.*", true));
        assert!(Perms::everything().unrestricted());
    }
}
