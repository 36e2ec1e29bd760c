//! The key space: a fixed number of shards, each a `Mutex<HashMap>`, picked
//! by a hash of the key, so clients touching different keys rarely contend.
//!
//! Expiry is an absolute Unix time in milliseconds stored with the value
//! (0: none). Expired keys are invisible at once (every read checks) and are
//! removed by [`Store::sweep`], which the server runs in the background.
//! Every change is logged to the [`Aof`] while its shard is locked, so the log
//! replays to the same state; each mutating call raises `logged` to the log
//! position that must be committed before the change is acknowledged.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{SystemTime, UNIX_EPOCH};

use super::aof::{Aof, Op, Record};

const SHARDS: usize = 64;

/// A value and its expiry (Unix ms, 0 = never).
#[derive(Debug, Clone)]
struct Entry {
    value: Vec<u8>,
    expires_at: u64,
}

impl Entry {
    fn live(&self, now: u64) -> bool {
        self.expires_at == 0 || self.expires_at > now
    }
}

type Shard = HashMap<Vec<u8>, Entry>;

/// The shared store. Cheap to share behind an `Arc`.
pub struct Store {
    shards: Box<[Mutex<Shard>]>,
    aof: Option<Arc<Aof>>,
    sweep_next: AtomicUsize,
}

/// Now as Unix milliseconds.
pub fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

/// What `SET` should do with the key's expiry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expiry {
    /// No expiry (plain SET clears any).
    None,
    /// Expire at this Unix ms.
    At(u64),
    /// Keep the current expiry (KEEPTTL).
    Keep,
}

/// SET options.
#[derive(Debug, Clone, Copy)]
pub struct SetOpts {
    /// The expiry to apply.
    pub expiry: Expiry,
    /// Only if absent (NX).
    pub nx: bool,
    /// Only if present (XX).
    pub xx: bool,
}

impl Default for SetOpts {
    fn default() -> Self {
        SetOpts {
            expiry: Expiry::None,
            nx: false,
            xx: false,
        }
    }
}

/// Why INCR failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IncrError {
    /// The value is not a 64-bit integer.
    NotInteger,
    /// The result would overflow.
    Overflow,
}

fn shard_of(key: &[u8]) -> usize {
    // FNV-1a: cheap and good enough to spread keys over shards; the maps
    // themselves use std's keyed hasher.
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in key {
        h ^= b as u64;
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    (h as usize) % SHARDS
}

impl Default for Store {
    fn default() -> Self {
        Store::new(None)
    }
}

impl Store {
    /// An empty store, logging to `aof` when given.
    pub fn new(aof: Option<Arc<Aof>>) -> Store {
        Store {
            shards: (0..SHARDS).map(|_| Mutex::new(HashMap::new())).collect(),
            aof,
            sweep_next: AtomicUsize::new(0),
        }
    }

    /// The same data, from now on logging to `aof` (after a replay).
    pub fn with_aof(self, aof: Arc<Aof>) -> Store {
        Store {
            aof: Some(aof),
            ..self
        }
    }

    /// The log, if any.
    pub fn aof(&self) -> Option<&Arc<Aof>> {
        self.aof.as_ref()
    }

    fn shard(&self, key: &[u8]) -> MutexGuard<'_, Shard> {
        lock(&self.shards[shard_of(key)])
    }

    fn log(&self, op: Op<'_>, logged: &mut u64) {
        if let Some(aof) = &self.aof {
            *logged = (*logged).max(aof.append(op));
        }
    }

    /// Apply one replayed record (no logging; expired entries are skipped).
    pub fn apply(&self, rec: Record, now: u64) {
        match rec {
            Record::Set(k, v, exp) => {
                let mut s = self.shard(&k);
                if exp != 0 && exp <= now {
                    s.remove(&k);
                } else {
                    s.insert(
                        k,
                        Entry {
                            value: v,
                            expires_at: exp,
                        },
                    );
                }
            }
            Record::Del(k) => {
                self.shard(&k).remove(&k);
            }
            Record::Expire(k, exp) => {
                let mut s = self.shard(&k);
                if exp != 0 && exp <= now {
                    s.remove(&k);
                } else if let Some(e) = s.get_mut(&k) {
                    e.expires_at = exp;
                }
            }
            Record::Flush => {
                for sh in self.shards.iter() {
                    lock(sh).clear();
                }
            }
        }
    }

    /// Call `f` with the live value of `key`, or `None`.
    pub fn get<R>(&self, key: &[u8], f: impl FnOnce(Option<&[u8]>) -> R) -> R {
        let now = now_ms();
        let s = self.shard(key);
        f(s.get(key)
            .filter(|e| e.live(now))
            .map(|e| e.value.as_slice()))
    }

    /// SET with options. Returns whether it was applied and, when `want_old`,
    /// the previous live value.
    pub fn set(
        &self,
        key: &[u8],
        value: &[u8],
        opts: SetOpts,
        want_old: bool,
        logged: &mut u64,
    ) -> (bool, Option<Vec<u8>>) {
        let now = now_ms();
        let mut s = self.shard(key);
        let current = s.get(key).filter(|e| e.live(now));
        let exists = current.is_some();
        let old = if want_old {
            current.map(|e| e.value.clone())
        } else {
            None
        };
        let old_exp = current.map(|e| e.expires_at).unwrap_or(0);
        if (opts.nx && exists) || (opts.xx && !exists) {
            return (false, old);
        }
        let expires_at = match opts.expiry {
            Expiry::None => 0,
            Expiry::At(t) => t,
            Expiry::Keep => old_exp,
        };
        if expires_at != 0 && expires_at <= now {
            // Already in the past: Redis deletes the key.
            if s.remove(key).is_some() {
                self.log(Op::Del(key), logged);
            }
            return (true, old);
        }
        self.log(Op::Set(key, value, expires_at), logged);
        match s.get_mut(key) {
            Some(e) => {
                e.value.clear();
                e.value.extend_from_slice(value);
                e.expires_at = expires_at;
            }
            None => {
                s.insert(
                    key.to_vec(),
                    Entry {
                        value: value.to_vec(),
                        expires_at,
                    },
                );
            }
        }
        (true, old)
    }

    /// Delete `key`; true if a live key was removed.
    pub fn del(&self, key: &[u8], logged: &mut u64) -> bool {
        let now = now_ms();
        let mut s = self.shard(key);
        match s.remove(key) {
            Some(e) => {
                self.log(Op::Del(key), logged);
                e.live(now)
            }
            None => false,
        }
    }

    /// True if `key` is live.
    pub fn exists(&self, key: &[u8]) -> bool {
        self.get(key, |v| v.is_some())
    }

    /// Add `delta` to the integer at `key` (missing: 0), keeping its expiry.
    pub fn incr_by(&self, key: &[u8], delta: i64, logged: &mut u64) -> Result<i64, IncrError> {
        let now = now_ms();
        let mut s = self.shard(key);
        let (cur, exp) = match s.get(key).filter(|e| e.live(now)) {
            Some(e) => (
                std::str::from_utf8(&e.value)
                    .ok()
                    .and_then(|t| super::protocol::parse_int(t.as_bytes()))
                    .ok_or(IncrError::NotInteger)?,
                e.expires_at,
            ),
            None => (0, 0),
        };
        let n = cur.checked_add(delta).ok_or(IncrError::Overflow)?;
        let text = n.to_string().into_bytes();
        self.log(Op::Set(key, &text, exp), logged);
        s.insert(
            key.to_vec(),
            Entry {
                value: text,
                expires_at: exp,
            },
        );
        Ok(n)
    }

    /// Set the expiry of a live key to `at` (Unix ms); a time in the past
    /// deletes it. False if the key does not exist.
    pub fn expire_at(&self, key: &[u8], at: u64, logged: &mut u64) -> bool {
        let now = now_ms();
        let mut s = self.shard(key);
        let Some(e) = s.get_mut(key).filter(|e| e.live(now)) else {
            return false;
        };
        if at <= now {
            s.remove(key);
            self.log(Op::Del(key), logged);
        } else {
            e.expires_at = at;
            self.log(Op::Expire(key, at), logged);
        }
        true
    }

    /// Remaining life of `key` in ms: -2 if missing, -1 if it never expires.
    pub fn ttl_ms(&self, key: &[u8]) -> i64 {
        let now = now_ms();
        let s = self.shard(key);
        match s.get(key).filter(|e| e.live(now)) {
            None => -2,
            Some(e) if e.expires_at == 0 => -1,
            Some(e) => (e.expires_at - now) as i64,
        }
    }

    /// Live keys matching a glob pattern.
    pub fn keys(&self, pattern: &[u8]) -> Vec<Vec<u8>> {
        let now = now_ms();
        let mut out = Vec::new();
        for sh in self.shards.iter() {
            let s = lock(sh);
            out.extend(
                s.iter()
                    .filter(|(k, e)| e.live(now) && glob_match(pattern, k))
                    .map(|(k, _)| k.clone()),
            );
        }
        out
    }

    /// Number of live keys.
    pub fn len(&self) -> usize {
        let now = now_ms();
        self.shards
            .iter()
            .map(|sh| lock(sh).values().filter(|e| e.live(now)).count())
            .sum()
    }

    /// True when no key is live.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Remove every key.
    pub fn flush(&self, logged: &mut u64) {
        let mut guards: Vec<_> = self.shards.iter().map(|s| lock(s)).collect();
        self.log(Op::Flush, logged);
        for g in guards.iter_mut() {
            g.clear();
        }
    }

    /// Remove expired keys from the next `n` shards (round robin); returns
    /// how many were removed. Not logged: records carry absolute expiry.
    pub fn sweep(&self, n: usize) -> usize {
        let now = now_ms();
        let mut removed = 0;
        for _ in 0..n {
            let i = self.sweep_next.fetch_add(1, Ordering::Relaxed) % SHARDS;
            let mut s = lock(&self.shards[i]);
            let before = s.len();
            s.retain(|_, e| e.live(now));
            removed += before - s.len();
        }
        removed
    }

    /// Compact the log: snapshot the live data (with every shard locked, so the
    /// snapshot and the start of capture are one instant), then write it out.
    /// Returns false when there is no log or a rewrite is already running.
    pub fn rewrite_log(&self) -> std::io::Result<bool> {
        let Some(aof) = &self.aof else {
            return Ok(false);
        };
        if !aof.begin_rewrite() {
            return Ok(false);
        }
        let now = now_ms();
        let snapshot: Vec<(Vec<u8>, Vec<u8>, u64)> = {
            let guards: Vec<_> = self.shards.iter().map(|s| lock(s)).collect();
            aof.start_capture();
            guards
                .iter()
                .flat_map(|g| g.iter())
                .filter(|(_, e)| e.live(now))
                .map(|(k, e)| (k.clone(), e.value.clone(), e.expires_at))
                .collect()
        };
        aof.finish_rewrite(snapshot.into_iter())?;
        Ok(true)
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// Redis-style glob: `*`, `?`, `[abc]`, `[^a-z]`, `\x`.
pub fn glob_match(pat: &[u8], s: &[u8]) -> bool {
    let (mut p, mut i) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while i < s.len() {
        if p < pat.len() {
            match pat[p] {
                b'*' => {
                    star = Some((p, i));
                    p += 1;
                    continue;
                }
                b'?' => {
                    p += 1;
                    i += 1;
                    continue;
                }
                b'[' => {
                    if let Some((matched, next)) = class_match(pat, p, s[i]) {
                        if matched {
                            p = next;
                            i += 1;
                            continue;
                        }
                    } else if s[i] == b'[' {
                        p += 1;
                        i += 1;
                        continue;
                    }
                }
                b'\\' if p + 1 < pat.len() => {
                    if pat[p + 1] == s[i] {
                        p += 2;
                        i += 1;
                        continue;
                    }
                }
                c => {
                    if c == s[i] {
                        p += 1;
                        i += 1;
                        continue;
                    }
                }
            }
        }
        match star {
            Some((sp, si)) => {
                p = sp + 1;
                i = si + 1;
                star = Some((sp, si + 1));
            }
            None => return false,
        }
    }
    pat[p..].iter().all(|&c| c == b'*')
}

/// Match `c` against the class starting at `pat[p] == '['`: (matched, index after `]`).
fn class_match(pat: &[u8], p: usize, c: u8) -> Option<(bool, usize)> {
    let mut j = p + 1;
    let negate = pat.get(j) == Some(&b'^');
    if negate {
        j += 1;
    }
    let mut hit = false;
    let mut first = true;
    loop {
        let &x = pat.get(j)?;
        if x == b']' && !first {
            return Some((hit != negate, j + 1));
        }
        first = false;
        let x = if x == b'\\' {
            j += 1;
            *pat.get(j)?
        } else {
            x
        };
        if pat.get(j + 1) == Some(&b'-') && pat.get(j + 2).is_some_and(|&e| e != b']') {
            let hi = pat[j + 2];
            let (lo, hi) = if x <= hi { (x, hi) } else { (hi, x) };
            hit |= (lo..=hi).contains(&c);
            j += 3;
        } else {
            hit |= x == c;
            j += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs_match_like_redis() {
        for (p, s, ok) in [
            ("*", "anything", true),
            ("h?llo", "hello", true),
            ("h?llo", "hllo", false),
            ("h*llo", "heeeello", true),
            ("h[ae]llo", "hallo", true),
            ("h[ae]llo", "hillo", false),
            ("h[^e]llo", "hallo", true),
            ("h[^e]llo", "hello", false),
            ("h[a-b]llo", "hbllo", true),
            ("user:*:name", "user:42:name", true),
            ("user:*:name", "user:42:mail", false),
            ("a\\*", "a*", true),
            ("a\\*", "ab", false),
            ("[", "[", true),
            ("", "", true),
            ("**", "", true),
        ] {
            assert_eq!(glob_match(p.as_bytes(), s.as_bytes()), ok, "{p} vs {s}");
        }
    }

    #[test]
    fn set_options_and_expiry() {
        let st = Store::default();
        let mut l = 0;
        let nx = SetOpts {
            nx: true,
            ..SetOpts::default()
        };
        assert!(st.set(b"k", b"1", nx, false, &mut l).0);
        assert!(!st.set(b"k", b"2", nx, false, &mut l).0);
        let xx = SetOpts {
            xx: true,
            ..SetOpts::default()
        };
        assert!(!st.set(b"missing", b"2", xx, false, &mut l).0);
        let (ok, old) = st.set(b"k", b"x", xx, true, &mut l);
        assert!(ok);
        assert_eq!(old.as_deref(), Some(&b"1"[..]));
        assert_eq!(st.ttl_ms(b"k"), -1);
        assert_eq!(st.ttl_ms(b"nope"), -2);
        assert!(st.expire_at(b"k", now_ms() + 100_000, &mut l));
        assert!(st.ttl_ms(b"k") > 90_000);
        assert_eq!(st.incr_by(b"k", 1, &mut l), Err(IncrError::NotInteger));
        assert!(st.expire_at(b"k", 1, &mut l));
        assert!(!st.exists(b"k"));
        assert_eq!(st.incr_by(b"n", i64::MAX, &mut l), Ok(i64::MAX));
        assert_eq!(st.incr_by(b"n", 1, &mut l), Err(IncrError::Overflow));
        // An entry whose expiry passed is invisible before any sweep.
        st.apply(
            Record::Set(b"old".to_vec(), b"v".to_vec(), now_ms() + 1_000),
            now_ms(),
        );
        {
            let mut s = st.shard(b"old");
            s.get_mut(&b"old"[..]).unwrap().expires_at = now_ms() - 1;
        }
        assert!(!st.exists(b"old"));
        assert_eq!(st.sweep(SHARDS), 1);
        assert_eq!(st.len(), 1);
    }
}
