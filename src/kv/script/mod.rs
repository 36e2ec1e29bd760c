//! Lua scripting as Redis 7.0 embeds it: Lua 5.1 (mlua, vendored), scripts
//! cached by SHA1, `redis.call`/`redis.pcall` running real commands, and a
//! time limit past which other clients get `-BUSY` and `SCRIPT KILL` works.
//!
//! - [`Scripts`] (here): what every event loop shares: the script cache
//!   (SHA1 -> body), and the running script's busy / kill / wrote flags.
//! - `vm`: one Lua state per event-loop thread (a thread-local): the sandbox
//!   (read-only globals, no `io`/`os`/`loadfile`/`dofile`/`print`), the
//!   `redis` table, `bit`, compiled functions.
//! - `bit`, `cjson`, `cmsgpack`, `lua_struct`: the libraries scripts see
//!   (LuaBitOp, JSON, MessagePack, `struct`).
//! - `run`: one EVAL: `redis.call` through the command table into a scratch
//!   reply, the count hook that turns a long script busy, error texts.
//! - `convert`: Redis replies to Lua values and back, with Redis's rules.
//!
//! Why one Lua state per loop and not one for the server: a script only runs
//! with the store locked (so scripts are atomic and never run two at a
//! time), its globals are read-only, and the cache is shared, so per-loop
//! states behave as one, without moving a `!Send` Lua state across threads.
//! Scripts are logged as their effects: the commands they run write ops
//! into the EVAL's one log record (all or nothing), never the script itself,
//! so a replay is deterministic whatever the script read (TIME, RANDOMKEY).

pub mod bit;
pub mod busy;
pub mod cjson;
pub mod cmsgpack;
pub mod convert;
pub mod libs;
pub mod lua_struct;
pub mod run;
pub mod vm;

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, RwLock};

/// Flags of the script running now (set by its loop, read by all).
#[derive(Debug, Default)]
pub struct Flags {
    /// Running past the busy threshold: other clients get `-BUSY`.
    pub busy: AtomicBool,
    /// `SCRIPT KILL` asked it to stop.
    pub kill: AtomicBool,
    /// It has run a write command: it can no longer be killed.
    pub wrote: AtomicBool,
    /// The server is stopping (a signal): a busy script that has not
    /// written is killed; one that has is abandoned with the process, its
    /// writes never logged (Redis's SHUTDOWN NOSAVE).
    pub shutdown: AtomicBool,
    /// A client asked for exactly that (`SHUTDOWN NOSAVE`): the process
    /// then exits 0, not 1.
    pub nosave: AtomicBool,
}

/// The script cache and the running script's state.
#[derive(Debug, Default)]
pub struct Scripts {
    cache: RwLock<HashMap<String, Arc<[u8]>>>,
    /// Bumped by `SCRIPT FLUSH`: each loop's Lua state drops its functions.
    pub generation: AtomicU64,
    /// The running script's flags.
    pub flags: Arc<Flags>,
}

/// SHA1 of `body` in lowercase hex, as Redis names scripts.
pub fn sha1hex(body: &[u8]) -> String {
    sha1_smol::Sha1::from(body).digest().to_string()
}

/// What `SCRIPT KILL` answers.
pub enum Kill {
    /// Killed (or it will be at its next hook).
    Ok,
    /// No script is busy.
    NotBusy,
    /// It has written: killing it would break atomicity.
    Unkillable,
}

/// `-BUSY` for a running EVAL.
pub const BUSY: &str =
    "BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE.";
/// The `SCRIPT KILL` refusal for a script that wrote.
pub const UNKILLABLE: &str = "UNKILLABLE Sorry the script already executed write commands against the dataset. You can either wait the script termination or kill the server in a hard way using the SHUTDOWN NOSAVE command.";
/// `SCRIPT KILL` with nothing to kill.
pub const NOTBUSY: &str = "NOTBUSY No scripts in execution right now.";

impl Scripts {
    /// Remember `body` under its SHA1; returns the SHA1.
    pub fn store(&self, body: &[u8]) -> String {
        let sha = sha1hex(body);
        if let Ok(mut c) = self.cache.write() {
            c.entry(sha.clone()).or_insert_with(|| Arc::from(body));
        }
        sha
    }

    /// The body of script `sha` (lowercase hex), if cached.
    pub fn body(&self, sha: &str) -> Option<Arc<[u8]>> {
        self.cache.read().ok()?.get(sha).cloned()
    }

    /// True if `sha` is cached.
    pub fn exists(&self, sha: &[u8]) -> bool {
        let sha = String::from_utf8_lossy(sha).to_ascii_lowercase();
        self.cache.read().is_ok_and(|c| c.contains_key(&sha))
    }

    /// How many scripts are cached (INFO's `number_of_cached_scripts`).
    pub fn count(&self) -> usize {
        self.cache.read().map_or(0, |c| c.len())
    }

    /// `SCRIPT FLUSH`: forget every script, everywhere.
    pub fn flush(&self) {
        if let Ok(mut c) = self.cache.write() {
            c.clear();
        }
        self.generation.fetch_add(1, Ordering::SeqCst);
    }

    /// True while a script is past the busy threshold.
    pub fn busy(&self) -> bool {
        self.flags.busy.load(Ordering::SeqCst)
    }

    /// `SCRIPT KILL` from any loop.
    pub fn kill(&self) -> Kill {
        if !self.busy() {
            return Kill::NotBusy;
        }
        if self.flags.wrote.load(Ordering::SeqCst) {
            return Kill::Unkillable;
        }
        self.flags.kill.store(true, Ordering::SeqCst);
        Kill::Ok
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sha1_as_redis_names_scripts() {
        assert_eq!(sha1hex(b""), "da39a3ee5e6b4b0d3255bfef95601890afd80709");
        assert_eq!(
            sha1hex(b"Pizza & Mandolino"),
            "74822d82031af7493c20eefa13bd07ec4fada82f"
        );
        let s = Scripts::default();
        let sha = s.store(b"return 1");
        assert!(s.exists(sha.to_uppercase().as_bytes()));
        s.flush();
        assert!(s.body(&sha).is_none());
    }
}
