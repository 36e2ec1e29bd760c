//! `ACL LOG`: the latest refused commands and failed authentications, as
//! Redis keeps them (newest first, at most 128, a repeat within a minute
//! counted on its earlier entry).

use std::sync::Mutex;
use std::time::{SystemTime, UNIX_EPOCH};

/// Most entries kept (Redis's `acllog-max-len` default).
pub const MAX: usize = 128;
const GROUPING_MS: u64 = 60_000;

/// What was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reason {
    /// A command.
    Command,
    /// A key.
    Key,
    /// A channel.
    Channel,
    /// A wrong password.
    Auth,
}

impl Reason {
    /// Redis's word for it.
    pub fn word(self) -> &'static str {
        match self {
            Reason::Command => "command",
            Reason::Key => "key",
            Reason::Channel => "channel",
            Reason::Auth => "auth",
        }
    }
}

/// Where the command ran.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Context {
    /// Sent by the client.
    Toplevel,
    /// Inside MULTI/EXEC.
    Multi,
    /// From a script.
    Lua,
}

impl Context {
    /// Redis's word for it.
    pub fn word(self) -> &'static str {
        match self {
            Context::Toplevel => "toplevel",
            Context::Multi => "multi",
            Context::Lua => "lua",
        }
    }
}

/// One entry.
#[derive(Debug, Clone)]
pub struct Entry {
    /// How many times it happened.
    pub count: u64,
    /// What was refused.
    pub reason: Reason,
    /// Where.
    pub context: Context,
    /// The command, key or channel (for auth: the command).
    pub object: Vec<u8>,
    /// The user.
    pub username: Vec<u8>,
    /// When, in milliseconds since the epoch (the last time).
    pub at_ms: u64,
    /// The client's `CLIENT INFO` line then.
    pub client_info: String,
}

/// The log.
#[derive(Debug, Default)]
pub struct AclLog {
    entries: Mutex<Vec<Entry>>,
}

/// Milliseconds since the epoch.
pub fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

impl AclLog {
    /// Record `e` (count 1): a match among the 10 newest is counted there
    /// and moved to the front.
    pub fn add(&self, mut e: Entry) {
        let Ok(mut v) = self.entries.lock() else {
            return;
        };
        let hit = v.iter().take(10).position(|old| {
            old.reason == e.reason
                && old.context == e.context
                && old.object == e.object
                && old.username == e.username
                && old.at_ms.abs_diff(e.at_ms) <= GROUPING_MS
        });
        if let Some(i) = hit {
            let old = v.remove(i);
            e.count = old.count + 1;
        }
        v.insert(0, e);
        v.truncate(MAX);
    }

    /// The `n` newest entries.
    pub fn newest(&self, n: usize) -> Vec<Entry> {
        self.entries
            .lock()
            .map(|v| v.iter().take(n).cloned().collect())
            .unwrap_or_default()
    }

    /// `ACL LOG RESET`.
    pub fn reset(&self) {
        if let Ok(mut v) = self.entries.lock() {
            v.clear();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(object: &str, at_ms: u64) -> Entry {
        Entry {
            count: 1,
            reason: Reason::Command,
            context: Context::Toplevel,
            object: object.into(),
            username: b"u".to_vec(),
            at_ms,
            client_info: String::new(),
        }
    }

    #[test]
    fn repeats_are_counted_newest_first() {
        let log = AclLog::default();
        log.add(entry("get", 1000));
        log.add(entry("set", 2000));
        log.add(entry("get", 3000));
        let v = log.newest(10);
        assert_eq!(v.len(), 2);
        assert_eq!((v[0].object.as_slice(), v[0].count), (&b"get"[..], 2));
        log.add(entry("get", 3000 + GROUPING_MS + 1));
        assert_eq!(log.newest(10).len(), 3);
        log.reset();
        assert!(log.newest(10).is_empty());
    }
}
